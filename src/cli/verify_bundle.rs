//! `modelseal verify-bundle`: any Sigstore bundle over a file or a digest.

use super::read_input;
use super::{
    Context, Format, Outcome, escape, load_public_key_input, load_trusted_root, print_json,
};
use clap::Args;
use modelseal::bundle::MAX_BUNDLE_SIZE;
use modelseal::fetch::InputKind;
use modelseal::sigstore::{
    ArtifactInput, BundleTrust, KeylessIdentity, SigstoreProblem, verify_bundle,
};
use modelseal::{Error, Result};
use std::path::PathBuf;

#[derive(Debug, Args)]
#[command(group = clap::ArgGroup::new("trust").required(true).args(["certificate_identity", "key"]))]
pub struct VerifyBundleArgs {
    /// The signed file, or its digest as `sha256:HEX`.
    artifact: String,
    /// The Sigstore bundle (a file or an https:// URL).
    #[arg(long, value_name = "FILE|URL")]
    bundle: PathBuf,
    /// The signer's identity (certificate SAN: email or URI), exactly.
    #[arg(long, value_name = "ID", requires = "certificate_oidc_issuer")]
    certificate_identity: Option<String>,
    /// The OIDC issuer in the signer's certificate, exactly.
    #[arg(long, value_name = "URL", requires = "certificate_identity")]
    certificate_oidc_issuer: Option<String>,
    /// The signer's public key (PEM; a file or an https:// URL).
    #[arg(long, value_name = "PEM")]
    key: Option<PathBuf>,
    /// With --key: accept a bundle that has no transparency log entry.
    #[arg(long, requires = "key")]
    insecure_ignore_tlog: bool,
    /// A Sigstore trusted root (default: the embedded public-good root).
    #[arg(long, value_name = "FILE|URL")]
    trusted_root: Option<PathBuf>,
}

fn parse_artifact(text: &str) -> Result<ArtifactInput> {
    match text.strip_prefix("sha256:") {
        Some(hex_digest) => {
            let bytes = hex::decode(hex_digest)
                .ok()
                .and_then(|b| <[u8; 32]>::try_from(b).ok())
                .ok_or_else(|| Error::Usage(format!("{text}: sha256: takes 64 hex digits")))?;
            Ok(ArtifactInput::Digest(bytes))
        }
        None => Ok(ArtifactInput::File(PathBuf::from(text))),
    }
}

pub fn run(ctx: &Context, args: VerifyBundleArgs) -> Result<Outcome> {
    let artifact = parse_artifact(&args.artifact)?;
    let trust = match (
        &args.key,
        &args.certificate_identity,
        &args.certificate_oidc_issuer,
    ) {
        (Some(key), _, _) => BundleTrust::Key {
            key: load_public_key_input(key)?,
            allow_missing_tlog: args.insecure_ignore_tlog,
        },
        (None, Some(identity), Some(issuer)) => BundleTrust::Identity(KeylessIdentity {
            identity: identity.clone(),
            issuer: issuer.clone(),
        }),
        _ => {
            return Err(Error::Usage(
                "give --key, or --certificate-identity with --certificate-oidc-issuer".into(),
            ));
        }
    };
    let root = load_trusted_root(args.trusted_root.as_deref())?;
    let bundle = read_input(&args.bundle, InputKind::Bundle(MAX_BUNDLE_SIZE))?;
    let check = verify_bundle(&bundle, &artifact, &trust, &root)?;
    let verified = check.is_verified();
    if args.insecure_ignore_tlog && verified && check.integrated_time.is_none() {
        ctx.warn("accepted without a transparency log entry (--insecure-ignore-tlog)");
    }
    match ctx.format {
        Format::Human | Format::Markdown | Format::Oscal | Format::Html => {
            if verified {
                outln!("verified: {} ({} bundle)", args.artifact, check.content);
                if let Some(identity) = &check.identity {
                    outln!("  identity: {identity}");
                }
                if let Some(issuer) = &check.issuer {
                    outln!("  issuer:   {issuer}");
                }
                if let Some(time) = &check.integrated_time {
                    outln!("  logged:   {time}");
                }
            } else {
                outln!(
                    "FAILED: {} does not verify against {}",
                    args.artifact,
                    args.bundle.display()
                );
                if let Some(f) = &check.failure {
                    outln!("  {}", escape(&f.to_string()));
                    if matches!(f, SigstoreProblem::NoTransparencyLogEntry) {
                        outln!(
                            "  (pass --insecure-ignore-tlog to accept a key-signed bundle without one)"
                        );
                    }
                }
            }
        }
        Format::Json => print_json(&serde_json::json!({
            "artifact": args.artifact,
            "bundle": args.bundle,
            "verdict": if verified { "verified" } else { "failed" },
            "result": check,
        })),
    }
    Ok(if verified { 0 } else { 1 })
}
