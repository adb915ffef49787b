//! `modelseal verify`.

use super::progress::Bar;
use super::{
    Context, EvidenceArgs, Format, Outcome, load_public_key_input, load_trusted_root, print_json,
};
use clap::Args;
use modelseal::bundle::MAX_BUNDLE_SIZE;
use modelseal::fetch::{InputKind, is_url, read_input};
use modelseal::keys::load_certificates;
use modelseal::policy::{LoadedPolicy, PolicyContext, evaluate};
use modelseal::sigstore::KeylessIdentity;
use modelseal::verify::{BomInput, Trust, Verdict, VerifyOptions, verify_model};
use modelseal::{Error, Result};
use std::path::PathBuf;
use std::time::SystemTime;

#[derive(Debug, Args)]
#[command(group = clap::ArgGroup::new("trust").args(["key", "cert_chain", "identity"]))]
pub struct VerifyArgs {
    /// The model directory or file.
    path: PathBuf,
    /// The signature bundle (a file or an https:// URL).
    #[arg(long, value_name = "FILE|URL")]
    signature: PathBuf,
    /// Key mode: the signer's public key (SPKI PEM; a file or an https:// URL).
    #[arg(long, value_name = "PUB")]
    key: Option<PathBuf>,
    /// Certificate mode: trust anchors (PEM; several files or several blocks).
    #[arg(long = "cert-chain", value_name = "PEM", num_args = 1..)]
    cert_chain: Vec<PathBuf>,
    /// Keyless mode: the signer's identity (certificate SAN: email or URI), exactly.
    #[arg(long, value_name = "ID", requires = "issuer")]
    identity: Option<String>,
    /// Keyless mode: the OIDC issuer in the certificate, exactly.
    #[arg(long, value_name = "URL", requires = "identity")]
    issuer: Option<String>,
    /// Keyless mode: a Sigstore trusted root (default: the embedded public-good root).
    #[arg(long, value_name = "FILE|URL", requires = "identity")]
    trusted_root: Option<PathBuf>,
    /// Exclude a path (relative to the model root, or absolute inside it). Repeatable.
    #[arg(long = "ignore-path", value_name = "P")]
    ignore_paths: Vec<PathBuf>,
    /// Do not fail on files that the signature does not list.
    #[arg(long)]
    ignore_unsigned_files: bool,
    /// Also verify this signed CycloneDX ML-BOM (a file or an https:// URL).
    #[arg(long, value_name = "BOM")]
    bom: Option<PathBuf>,
    /// A deploy-gate policy (TOML): trusted signers, required BOM, allowed formats.
    #[arg(long, value_name = "FILE")]
    policy: Option<PathBuf>,
    /// The BOM's signature bundle (default: BOM.sig).
    #[arg(long, value_name = "FILE|URL", requires = "bom")]
    bom_signature: Option<PathBuf>,
    #[command(flatten)]
    evidence: EvidenceArgs,
}

pub fn run(ctx: &Context, args: VerifyArgs) -> Result<Outcome> {
    let recorder = args.evidence.recorder()?;
    let policy = args.policy.as_deref().map(LoadedPolicy::load).transpose()?;
    let cli_key = args.key.as_deref().map(load_public_key_input).transpose()?;
    let trusts = match (&policy, &cli_key) {
        (_, Some(key)) => vec![Trust::Key(key.clone())],
        (Some(p), None) => {
            if !args.cert_chain.is_empty() || args.identity.is_some() {
                return Err(Error::Usage(
                    "with --policy, certificate anchors and keyless identities come from the policy".into(),
                ));
            }
            let trusts = p.trusts()?;
            if trusts.is_empty() {
                return Err(Error::Usage(format!(
                    "the policy {} names no signer keys, certificates or keyless identities (give --key)",
                    p.uri
                )));
            }
            trusts
        }
        (None, None) => vec![cli_trust(&args)?],
    };
    let bom_signature = args.bom.as_ref().map(|path| {
        args.bom_signature
            .clone()
            .unwrap_or_else(|| super::bom::signature_path(path))
    });
    let bom = match (&args.bom, &bom_signature) {
        (Some(path), Some(sig)) => Some(BomInput {
            bom_json: read_input(path, InputKind::Bom(MAX_BUNDLE_SIZE))?,
            signature_json: read_input(sig, InputKind::Bundle(MAX_BUNDLE_SIZE))?,
        }),
        _ => None,
    };
    let bundle = read_input(&args.signature, InputKind::Bundle(MAX_BUNDLE_SIZE))?;
    let remote = args.signature.to_str().is_some_and(is_url);
    let options = VerifyOptions {
        bom,
        trusts,
        ignore_paths: args.ignore_paths.clone(),
        signature_path: (!remote).then(|| args.signature.clone()),
        ignore_unsigned_files: args.ignore_unsigned_files,
        time: SystemTime::now(),
    };
    let bar = Bar::new(ctx.quiet, "verifying");
    let verdict = verify_model(&args.path, &bundle, &options, &bar);
    bar.finish();
    let mut verdict = verdict?;
    if let Some(policy) = &policy {
        let bom_timestamp = match (&options.bom, verdict.bom_verified) {
            (Some(input), Some(true)) => {
                serde_json::from_slice::<serde_json::Value>(&input.bom_json)
                    .ok()
                    .and_then(|b| b["metadata"]["timestamp"].as_str().map(str::to_string))
            }
            _ => None,
        };
        let context = PolicyContext {
            model: &args.path,
            verdict: &verdict,
            bom_given: options.bom.is_some(),
            bom_timestamp,
            ignore_unsigned_files: args.ignore_unsigned_files,
            cli_key: cli_key.as_ref(),
            now: jiff::Timestamp::now(),
        };
        let broken = evaluate(policy, &context)?;
        verdict.failures.extend(broken);
        verdict.verified = verdict.failures.is_empty();
    }
    for w in &verdict.warnings {
        ctx.warn(w);
    }
    if let Some(recorder) = &recorder {
        let inputs = VerifyInputs {
            bundle: &bundle,
            bom: options.bom.as_ref(),
            bom_signature: bom_signature.as_deref(),
            policy: policy.as_ref(),
        };
        match super::vsa::record_verification(
            recorder,
            &args.path,
            &args.signature,
            &verdict,
            &inputs,
        )? {
            Some(digest) => {
                if !ctx.quiet {
                    eprintln!("evidence: recorded sha256:{digest}");
                }
            }
            None => ctx.warn("no evidence recorded: the signature names no model digest"),
        }
    }
    let policy_ref = policy
        .as_ref()
        .map(|p| serde_json::json!({ "uri": p.uri, "digest": { "sha256": p.sha256 } }));
    match ctx.format {
        Format::Human | Format::Markdown | Format::Oscal => print_human(&args, &verdict),
        Format::Json => print_json(&serde_json::json!({
            "model": args.path,
            "signature": args.signature,
            "verdict": if verdict.verified { "verified" } else { "failed" },
            "policy": policy_ref,
            "result": verdict,
        })),
    }
    Ok(if verdict.verified { 0 } else { 1 })
}

/// What a verification record cites.
pub struct VerifyInputs<'a> {
    /// The signature bundle bytes.
    pub bundle: &'a [u8],
    /// The BOM and its signature, when given.
    pub bom: Option<&'a BomInput>,
    /// Where the BOM signature came from.
    pub bom_signature: Option<&'a std::path::Path>,
    /// The policy, when given.
    pub policy: Option<&'a LoadedPolicy>,
}

/// The trust given by --cert-chain or --identity/--issuer.
fn cli_trust(args: &VerifyArgs) -> Result<Trust> {
    let trust = if let (Some(identity), Some(issuer)) = (&args.identity, &args.issuer) {
        Trust::Keyless {
            who: KeylessIdentity {
                identity: identity.clone(),
                issuer: issuer.clone(),
            },
            root: std::sync::Arc::new(load_trusted_root(args.trusted_root.as_deref())?),
        }
    } else {
        if args.cert_chain.is_empty() {
            return Err(Error::Usage(
                "give --key, --cert-chain, --identity with --issuer, or --policy".into(),
            ));
        }
        let mut anchors = Vec::new();
        for pem in &args.cert_chain {
            anchors.extend(load_certificates(pem)?);
        }
        Trust::Anchors {
            anchors,
            subject: None,
        }
    };
    Ok(trust)
}

fn print_human(args: &VerifyArgs, verdict: &Verdict) {
    let subject = verdict.subject.as_ref().and_then(|s| {
        s.digest
            .get("sha256")
            .map(|d| format!("{} sha256:{d}", s.name))
    });
    if verdict.verified {
        println!("verified: {}", args.path.display());
        if let Some(subject) = subject {
            println!("  subject: {subject}");
        }
        println!("  files:   {} checked", verdict.files_checked);
        if verdict.bom_verified == Some(true) {
            println!("  bom:     verified (signed, same subject, every file hash matches)");
        }
    } else {
        println!(
            "FAILED: {} does not verify against {}",
            args.path.display(),
            args.signature.display()
        );
        for f in &verdict.failures {
            println!("  {}", f.message());
        }
    }
    if let Some(signer) = &verdict.signer {
        let label = if verdict.verified {
            "signer: "
        } else {
            "checked with:"
        };
        println!("  {label} {signer}");
    }
}
