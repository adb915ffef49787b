//! `modelseal sign-image`: sign a registry image's manifest, for policies
//! that require the rest of a ModelCar image signed.

use super::model::{RegistryArgs, is_oci, open_model};
use super::{Context, Format, Outcome, print_json};
use clap::Args;
use modelseal::sign::SigningIdentity;
use modelseal::{Error, Result};
use std::path::PathBuf;

#[derive(Debug, Args)]
pub struct SignImageArgs {
    /// The image (`oci://REGISTRY/REPO:TAG` or `@sha256:...`).
    image: PathBuf,
    /// Private key (PKCS#8 or SEC1 PEM, or a pkcs11: URI).
    #[arg(long, value_name = "KEY")]
    key: PathBuf,
    #[command(flatten)]
    registry: RegistryArgs,
}

pub fn run(ctx: &Context, args: SignImageArgs) -> Result<Outcome> {
    if !is_oci(&args.image) {
        return Err(Error::Usage(format!(
            "{}: sign-image signs an image in a registry (oci://...)",
            args.image.display()
        )));
    }
    let key = super::private_key(&args.key)?;
    let model = open_model(&args.image, &args.registry)?;
    let signed = modelseal::release::sign_image(&model, &SigningIdentity::Key(&key), ctx.now)?;
    match ctx.format {
        Format::Json => print_json(&serde_json::json!({
            "image": signed.manifest,
            "key": key.public_key().fingerprint(),
            "referrer": signed.referrer.digest,
            "via": signed.referrer.via,
        })),
        _ => {
            outln!("signed image manifest {}", signed.manifest);
            outln!("  key:      {}", key.public_key().fingerprint());
            outln!(
                "  attached: {} (referrers {})",
                signed.referrer.digest,
                signed.referrer.via
            );
        }
    }
    Ok(0)
}
