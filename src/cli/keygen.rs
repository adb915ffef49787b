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
    /// Output prefix: writes PREFIX.priv.pem (mode 0600) and PREFIX.pub.pem.
    #[arg(long, value_name = "PREFIX")]
    out: PathBuf,
    /// Overwrite existing key files.
    #[arg(long)]
    force: bool,
}

pub fn run(ctx: &Context, args: KeygenArgs) -> Result<Outcome> {
    let algorithm = match args.algorithm {
        AlgorithmArg::Ed25519 => KeyAlgorithm::Ed25519,
        AlgorithmArg::EcdsaP256 => KeyAlgorithm::EcdsaP256,
        AlgorithmArg::EcdsaP384 => KeyAlgorithm::EcdsaP384,
    };
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
