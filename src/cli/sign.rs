//! `modelseal sign`.

use super::progress::Bar;
use super::{Context, Format, HashingArgs, Outcome, print_json};
use clap::Args;
use modelseal::digest::{hash_model_with_progress, model_name};
use modelseal::keys::{load_certificates, load_private_key};
use modelseal::sign::{SigningIdentity, sign_manifest};
use modelseal::{Error, Result};
use std::io::Write;
use std::path::{Path, PathBuf};

#[derive(Debug, Args)]
pub struct SignArgs {
    /// The model directory or file.
    path: PathBuf,
    /// Private key (PKCS#8 or SEC1 PEM).
    #[arg(long, value_name = "KEY")]
    key: PathBuf,
    /// Where to write the signature bundle.
    #[arg(long, value_name = "FILE", default_value = "model.sig")]
    signature: PathBuf,
    /// Certificate mode: the signing certificate (PEM) for --key.
    #[arg(long, value_name = "CERT")]
    signing_cert: Option<PathBuf>,
    /// Certificate mode: intermediate certificates (PEM) to include, leaf excluded.
    #[arg(long = "cert-chain", value_name = "PEM", requires = "signing_cert")]
    cert_chain: Vec<PathBuf>,
    #[command(flatten)]
    hashing: HashingArgs,
}

pub fn run(ctx: &Context, args: SignArgs) -> Result<Outcome> {
    if args.signature.is_dir() {
        return Err(Error::Usage(format!(
            "--signature {} is a directory; name a file",
            args.signature.display()
        )));
    }
    let key = load_private_key(&args.key)?;
    let identity = match &args.signing_cert {
        None => SigningIdentity::Key(&key),
        Some(cert) => {
            let mut chain = load_certificates(cert)?;
            chain.truncate(1);
            for pem in &args.cert_chain {
                chain.extend(load_certificates(pem)?);
            }
            SigningIdentity::Certificate { key: &key, chain }
        }
    };
    let options = args.hashing.options(&args.path, Some(&args.signature))?;
    let name = model_name(&args.path)?;
    let bar = Bar::new(ctx.quiet, "hashing");
    let manifest = hash_model_with_progress(&args.path, &options, &bar);
    bar.finish();
    let manifest = manifest?;
    let bundle = sign_manifest(&name, &manifest, &identity)?;
    write_atomically(&args.signature, bundle.to_json().as_bytes())?;
    let root = manifest.root_digest_hex();
    let public = key.public_key();
    match ctx.format {
        Format::Human => {
            println!(
                "signed {name}: {} resources, root sha256:{root}",
                manifest.resources.len()
            );
            println!("signature: {}", args.signature.display());
            println!(
                "signer:    {} ({})",
                public.fingerprint(),
                public.algorithm()
            );
        }
        Format::Json => print_json(&serde_json::json!({
            "signature": args.signature,
            "subject": { "name": name, "digest": { "sha256": root } },
            "resources": manifest.resources.len(),
            "method": manifest.serialization.method.name(),
            "hash_type": manifest.serialization.hash_type,
            "signer": { "fingerprint": public.fingerprint(), "algorithm": public.algorithm().name(),
                        "certificate": args.signing_cert.is_some() },
        })),
    }
    Ok(0)
}

/// Writes through a temporary file in the same directory and renames it, so
/// an interrupted run never leaves a truncated signature behind.
fn write_atomically(path: &Path, bytes: &[u8]) -> Result<()> {
    let dir = match path.parent() {
        Some(d) if !d.as_os_str().is_empty() => d.to_path_buf(),
        _ => PathBuf::from("."),
    };
    let file_name = path
        .file_name()
        .ok_or_else(|| Error::Usage(format!("--signature {} names no file", path.display())))?;
    let tmp = dir.join(format!(
        ".{}.{}.tmp",
        file_name.to_string_lossy(),
        std::process::id()
    ));
    let result = (|| {
        let mut file = std::fs::File::create(&tmp)?;
        file.write_all(bytes)?;
        file.sync_all()?;
        std::fs::rename(&tmp, path)
    })();
    if let Err(e) = result {
        let _ = std::fs::remove_file(&tmp);
        return Err(Error::io(path, e));
    }
    Ok(())
}
