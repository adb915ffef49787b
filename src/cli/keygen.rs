//! `modelseal keygen`.

use super::{Context, Format, Outcome, print_json};
use clap::{Args, ValueEnum};
use modelseal::Result;
use modelseal::keys::{KeyAlgorithm, generate, write_key_pair};
use std::path::PathBuf;

#[derive(Debug, Clone, Copy, PartialEq, Eq, ValueEnum)]
pub enum AlgorithmArg {
    /// Ed25519 (default; verified by modelseal, not by model_signing).
    Ed25519,
    /// ECDSA P-256 with SHA-256.
    EcdsaP256,
    /// ECDSA P-384 with SHA-384.
    EcdsaP384,
}

#[derive(Debug, Args)]
pub struct KeygenArgs {
    /// Key algorithm.
    #[arg(long, value_enum, default_value_t = AlgorithmArg::Ed25519)]
    algorithm: AlgorithmArg,
    /// Output prefix: writes PREFIX.priv.pem (mode 0600) and PREFIX.pub.pem (with --pkcs11, only PREFIX.pub.pem).
    #[arg(long, value_name = "PREFIX")]
    out: PathBuf,
    /// Overwrite existing key files.
    #[arg(long)]
    force: bool,
    /// Generate the key pair in this PKCS#11 token instead (a pkcs11: URI naming the token and the new key's object label; the PIN from pin-source or MODELSEAL_PKCS11_PIN).
    #[arg(long, value_name = "URI")]
    pkcs11: Option<String>,
}

pub fn run(ctx: &Context, args: KeygenArgs) -> Result<Outcome> {
    let algorithm = match args.algorithm {
        AlgorithmArg::Ed25519 => KeyAlgorithm::Ed25519,
        AlgorithmArg::EcdsaP256 => KeyAlgorithm::EcdsaP256,
        AlgorithmArg::EcdsaP384 => KeyAlgorithm::EcdsaP384,
    };
    if let Some(uri) = &args.pkcs11 {
        return in_token(ctx, uri, algorithm, &args);
    }
    let key = generate(algorithm)?;
    let (private, public) = write_key_pair(&key, &args.out, args.force)?;
    let public_key = key.public_key();
    match ctx.format {
        Format::Human | Format::Markdown | Format::Oscal | Format::Html => {
            outln!(
                "private key: {} (mode 0600, keep it secret)",
                private.display()
            );
            outln!("public key:  {}", public.display());
            outln!("algorithm:   {algorithm}");
            outln!("fingerprint: {}", public_key.fingerprint());
        }
        Format::Json => print_json(&serde_json::json!({
            "algorithm": algorithm.name(),
            "private_key": private,
            "public_key": public,
            "fingerprint": public_key.fingerprint(),
            "hint": public_key.hint(),
        })),
    }
    Ok(0)
}

/// `keygen --pkcs11 URI`: the key pair is made in the token (the private
/// key never leaves it); the public key is written to PREFIX.pub.pem.
fn in_token(
    ctx: &Context,
    uri: &str,
    algorithm: KeyAlgorithm,
    args: &KeygenArgs,
) -> Result<Outcome> {
    use modelseal::pkcs11::{Pkcs11Uri, generate as generate_in_token};
    let public_path = {
        let mut p = args.out.as_os_str().to_owned();
        p.push(".pub.pem");
        PathBuf::from(p)
    };
    if !args.force && public_path.symlink_metadata().is_ok() {
        return Err(modelseal::Error::Exists(public_path));
    }
    let parsed =
        Pkcs11Uri::parse(uri).map_err(|e| modelseal::Error::Usage(format!("pkcs11 URI: {e}")))?;
    let pin = std::env::var("MODELSEAL_PKCS11_PIN")
        .ok()
        .map(zeroize::Zeroizing::new);
    let module = std::env::var_os("MODELSEAL_PKCS11_MODULE").map(PathBuf::from);
    // The public key's file is made (beside its place) first: a key pair is
    // never left in the token because its public half could not be written.
    let mut tmp_name = public_path.as_os_str().to_owned();
    tmp_name.push(".tmp");
    let tmp = PathBuf::from(tmp_name);
    let mut file = std::fs::OpenOptions::new()
        .write(true)
        .create_new(true)
        .open(&tmp)
        .map_err(|e| modelseal::Error::io(&tmp, e))?;
    let (public_key, named) = match generate_in_token(&parsed, algorithm, pin, module.as_deref()) {
        Ok(made) => made,
        Err(e) => {
            drop(file);
            let _ = std::fs::remove_file(&tmp);
            return Err(modelseal::Error::Usage(e.to_string()));
        }
    };
    let written = std::io::Write::write_all(&mut file, public_key.to_spki_pem().as_bytes())
        .and_then(|()| file.sync_all())
        .and_then(|()| std::fs::rename(&tmp, &public_path));
    if let Err(e) = written {
        let _ = std::fs::remove_file(&tmp);
        return Err(modelseal::Error::Usage(format!(
            "{}: cannot write the public key ({e}); the key pair is in the token as {named}",
            public_path.display()
        )));
    }
    match ctx.format {
        Format::Json => print_json(&serde_json::json!({
            "algorithm": algorithm.name(),
            "key": named.to_string(),
            "public_key": public_path,
            "fingerprint": public_key.fingerprint(),
            "hint": public_key.hint(),
        })),
        _ => {
            outln!("key:         {named} (in the token; it never leaves it)");
            outln!("public key:  {}", public_path.display());
            outln!("algorithm:   {algorithm}");
            outln!("fingerprint: {}", public_key.fingerprint());
        }
    }
    Ok(0)
}
