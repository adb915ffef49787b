//! `modelseal sign`.

use super::progress::Bar;
use super::{Context, Format, HashingArgs, Outcome, print_json};
use clap::Args;
use modelseal::bundle::Statement;
use modelseal::digest::{hash_model_with_progress, model_name};
use modelseal::keys::{load_certificates, load_private_key};
use modelseal::sign::{SigningIdentity, sign_manifest};
use modelseal::sigstore::{KeylessSigning, resolve_identity_token, sign_statement};
use modelseal::{Error, Result};
use std::io::Write;
use std::path::{Path, PathBuf};

#[derive(Debug, Args)]
pub struct SignArgs {
    /// The model directory or file.
    path: PathBuf,
    /// Private key (PKCS#8 or SEC1 PEM).
    #[arg(
        long,
        value_name = "KEY",
        required_unless_present = "sigstore",
        conflicts_with = "sigstore"
    )]
    key: Option<PathBuf>,
    /// Sign keylessly with Sigstore (Fulcio certificate, Rekor entry); needs the network.
    #[arg(long)]
    sigstore: bool,
    /// With --sigstore: the OIDC identity token (else SIGSTORE_ID_TOKEN, else CI ambient credentials).
    #[arg(long, value_name = "TOKEN", requires = "sigstore")]
    identity_token: Option<String>,
    /// With --sigstore: a Fulcio URL instead of the public-good instance (needs --rekor-url).
    #[arg(long, value_name = "URL", requires = "rekor_url")]
    fulcio_url: Option<String>,
    /// With --sigstore: a Rekor URL instead of the public-good instance (needs --fulcio-url).
    #[arg(long, value_name = "URL", requires = "fulcio_url")]
    rekor_url: Option<String>,
    /// Where to write the signature bundle.
    #[arg(long, value_name = "FILE", default_value = "model.sig")]
    signature: PathBuf,
    /// Certificate mode: the signing certificate (PEM) for --key.
    #[arg(long, value_name = "CERT", requires = "key")]
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
    // Everything that can fail without reading the model or using the
    // network comes first: keys, certificates, the identity token.
    let key = args.key.as_deref().map(load_private_key).transpose()?;
    let token = if args.sigstore {
        Some(resolve_identity_token(args.identity_token.as_deref())?)
    } else {
        None
    };
    let chain = match &args.signing_cert {
        None => None,
        Some(cert) => {
            let mut chain = load_certificates(cert)?;
            chain.truncate(1);
            for pem in &args.cert_chain {
                chain.extend(load_certificates(pem)?);
            }
            Some(chain)
        }
    };
    let options = args.hashing.options(&args.path, Some(&args.signature))?;
    let name = model_name(&args.path)?;
    let bar = Bar::new(ctx.quiet, "hashing");
    let manifest = hash_model_with_progress(&args.path, &options, &bar);
    bar.finish();
    let manifest = manifest?;
    let root = manifest.root_digest_hex();
    let (bundle, signer) = match (&key, token) {
        (Some(key), _) => {
            let identity = match chain {
                None => SigningIdentity::Key(key),
                Some(chain) => SigningIdentity::Certificate { key, chain },
            };
            let public = key.public_key();
            let signer = serde_json::json!({
                "fingerprint": public.fingerprint(),
                "algorithm": public.algorithm().name(),
                "certificate": args.signing_cert.is_some(),
            });
            let bundle = sign_manifest(&name, &manifest, &identity)?;
            (bundle.to_json().into_bytes(), signer)
        }
        (None, Some(token)) => {
            let signer = serde_json::json!({
                "sigstore": true,
                "identity": token.email().unwrap_or(token.subject()),
                "issuer": token.issuer(),
            });
            let statement = serde_json::to_vec(&Statement::for_manifest(&name, &manifest))
                .map_err(|e| Error::Usage(format!("cannot encode the statement: {e}")))?;
            let keyless = KeylessSigning {
                fulcio_url: args.fulcio_url.clone(),
                rekor_url: args.rekor_url.clone(),
            };
            (sign_statement(&statement, token, &keyless)?, signer)
        }
        (None, None) => return Err(Error::Usage("give --key or --sigstore".into())),
    };
    write_atomically(&args.signature, &bundle)?;
    match ctx.format {
        Format::Human => {
            println!(
                "signed {name}: {} resources, root sha256:{root}",
                manifest.resources.len()
            );
            println!("signature: {}", args.signature.display());
            match signer["fingerprint"].as_str() {
                Some(fp) => println!(
                    "signer:    {fp} ({})",
                    signer["algorithm"].as_str().unwrap_or("")
                ),
                None => println!(
                    "signer:    sigstore {} (issuer {})",
                    signer["identity"].as_str().unwrap_or(""),
                    signer["issuer"].as_str().unwrap_or("")
                ),
            }
        }
        Format::Json => print_json(&serde_json::json!({
            "signature": args.signature,
            "subject": { "name": name, "digest": { "sha256": root } },
            "resources": manifest.resources.len(),
            "method": manifest.serialization.method.name(),
            "hash_type": manifest.serialization.hash_type,
            "signer": signer,
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
