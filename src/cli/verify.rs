//! `modelseal verify`.

use super::model::{Model, RegistryArgs, open_model};
use super::progress::Bar;
use super::{
    Context, EvidenceArgs, Format, Outcome, escape, load_public_key_input, load_trusted_root,
    print_json,
};
use clap::Args;
use modelseal::fetch::InputKind;
use modelseal::gate::{AttachedSignatures, BundleLimit, Document, Gate, GateRequest};
use modelseal::keys::load_certificates;
use modelseal::policy::LoadedPolicy;
use modelseal::sigstore::KeylessIdentity;
use modelseal::source::SourceNote;
use modelseal::verify::{Failure, Material, Trust, Verdict};
use modelseal::{Error, Result};
use std::path::PathBuf;

#[derive(Debug, Args)]
#[command(group = clap::ArgGroup::new("trust").args(["key", "cert_chain", "identity"]))]
pub struct VerifyArgs {
    /// The model directory or file, oci://HOST[:PORT]/REPO:TAG (or @sha256:HEX), or hf://ORG/NAME[@REVISION] in the local Hugging Face cache.
    path: PathBuf,
    /// The signature bundle (a file or an https:// URL). For oci:// models the default is the
    /// bundles attached to the manifest (the model verifies when one of them does).
    #[arg(long, value_name = "FILE|URL")]
    signature: Option<PathBuf>,
    /// For oci:// models: once the model verifies, download it into DIR (a new directory),
    /// checking every blob against the verified manifest's digests.
    #[arg(long, value_name = "DIR")]
    pull: Option<PathBuf>,
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
    /// Follow the model's symbolic links wherever they lead (when its signature allows links);
    /// without it they must stay inside the model root (the repository, for hf://).
    #[arg(long, conflicts_with = "policy")]
    allow_symlinks: bool,
    /// Read signature and BOM files up to this many bytes (default: what a real
    /// signature of this model can be, from the number of its files).
    #[arg(long, value_name = "BYTES")]
    max_bundle_size: Option<u64>,
    /// Trusted RFC 3161 time-stamping authority certificates (PEM): the signature must carry a timestamp that chains to one, and its time is the signing time.
    #[arg(long, value_name = "PEM")]
    tsa_chain: Option<PathBuf>,
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
    pub evidence: EvidenceArgs,
    #[command(flatten)]
    registry: RegistryArgs,
}

pub fn run(ctx: &Context, args: VerifyArgs) -> Result<Outcome> {
    let recorder = args.evidence.recorder()?;
    let policy = args.policy.as_deref().map(LoadedPolicy::load).transpose()?;
    let key = args.key.as_deref().map(load_public_key_input).transpose()?;
    let gate = match (policy, key) {
        (Some(policy), Some(key)) => Gate::new(vec![Trust::Key(key)]).with_policy(policy)?,
        (Some(policy), None) => {
            if !args.cert_chain.is_empty() || args.identity.is_some() {
                return Err(Error::Usage(
                    "with --policy, certificate anchors and keyless identities come from the policy".into(),
                ));
            }
            Gate::from_policy(policy)?
        }
        (None, Some(key)) => Gate::new(vec![Trust::Key(key)]),
        (None, None) => Gate::new(vec![cli_trust(&args)?]),
    };
    let model = open_model(&args.path, &args.registry)?;
    if args.pull.is_some() && model.local_path().is_some() {
        return Err(Error::Usage("--pull is for oci:// models".into()));
    }
    if let Some(dir) = &args.pull
        && dir.symlink_metadata().is_ok()
    {
        return Err(Error::Exists(dir.clone()));
    }
    let limit = BundleLimit::new(model.source(), args.max_bundle_size);
    let signatures = match &args.signature {
        Some(sig) => AttachedSignatures::given(read_document(sig, &limit, InputKind::Bundle)?),
        None => AttachedSignatures::of(&model).map_err(|e| match e {
            Error::Usage(_) => Error::Usage("give --signature FILE".into()),
            e => e,
        })?,
    };
    let shown = args.path.display().to_string();
    let bom = match &args.bom {
        Some(bom) => {
            let signature = args
                .bom_signature
                .clone()
                .unwrap_or_else(|| super::bom::signature_path(bom));
            Some((
                read_document(bom, &limit, InputKind::Bom)?,
                read_document(&signature, &limit, InputKind::Bundle)?,
            ))
        }
        None => None,
    };
    // Each candidate bundle is verified; the first that verifies is the
    // verdict.
    let mut request = GateRequest::for_candidates(model.source(), ctx.now);
    request.bom = bom;
    request.ignore_paths = args.ignore_paths.clone();
    request.ignore_unsigned_files = args.ignore_unsigned_files;
    request.allow_symlinks = args.allow_symlinks;
    if let Some(chain) = &args.tsa_chain {
        request.tsa_anchors = modelseal::keys::load_certificates(chain)?;
    }
    // Formats are judged when something relies on the judgement: a policy,
    // or the evidence record's MODELSEAL_FORMATS_SAFE. A registry model's
    // blobs are then streamed; else raw layers are checked by digest alone.
    request.inspect_formats = gate.policy().is_some() || recorder.is_some();
    let bar = Bar::new(ctx.quiet, "verifying");
    let verdict = gate.verify_signatures(request, signatures, &bar);
    bar.finish();
    let verdict = verdict?;
    let manifest = model.local_path().is_none().then(|| model.source().uri());
    let json = verdict.to_json(&shown, manifest, ctx.now);
    let (via, unreadable) = (verdict.via, verdict.unreadable);
    let Some(candidates) = verdict.candidates else {
        return no_signature(ctx, &model, &shown, &unreadable, json);
    };
    let (signature_uri, outcome) = candidates.chosen;
    let outcomes = candidates.others;
    for w in &outcome.verdict.warnings {
        ctx.warn(&escape(&w.to_string()));
    }
    if let Some(recorder) = &recorder {
        match outcome.record() {
            Some(record) => {
                ctx.warn_test_clock("the evidence record");
                let digest = recorder.append(&record)?;
                if !ctx.quiet {
                    errln!("evidence: recorded sha256:{digest}");
                }
            }
            None => ctx.warn("no evidence recorded: the signature names no model digest"),
        }
    }
    let verified = outcome.is_verified();
    let pulled = match (&args.pull, verified) {
        (Some(dir), true) => Some(pull(ctx, &model, dir, &outcome.verdict)?),
        _ => None,
    };
    match ctx.format {
        Format::Human | Format::Markdown | Format::Oscal | Format::Html => {
            print_human(&shown, &signature_uri, &outcome.verdict);
            if ctx.now.is_test() {
                outln!(
                    "  clock:   TEST CLOCK {} (MODELSEAL_TEST_NOW): certificates and signature ages were judged at this time",
                    ctx.now.time()
                );
            }
            print_registry(&model, &outcome.verdict, verified, via.as_deref());
            for (uri, o) in &outcomes {
                let state = if o.is_verified() {
                    "also verifies".to_string()
                } else {
                    o.verdict
                        .failures
                        .first()
                        .map(|f| format!("does not verify: {f}"))
                        .unwrap_or_else(|| "does not verify".into())
                };
                outln!("  other signature: {} {}", escape(uri), escape(&state));
            }
            for (uri, why) in &unreadable {
                outln!("  unreadable signature: {} ({})", escape(uri), escape(why));
            }
            if let Some(p) = &pulled {
                outln!(
                    "  pulled:  {} ({} files, {} bytes checked against their digests)",
                    escape(&p.0),
                    p.1,
                    p.2
                );
            }
        }
        Format::Json => {
            let mut json = json;
            json["pulled"] = serde_json::json!(
                pulled
                    .as_ref()
                    .map(|p| serde_json::json!({ "dir": p.0, "files": p.1, "bytes": p.2 }))
            );
            print_json(&json)
        }
    }
    Ok(if verified { 0 } else { 1 })
}

/// No bundle to check: a failed verification (exit 1).
fn no_signature(
    ctx: &Context,
    model: &Model,
    shown: &str,
    unreadable: &[(String, String)],
    json: serde_json::Value,
) -> Result<Outcome> {
    match ctx.format {
        Format::Json => print_json(&json),
        _ => {
            let reason = format!(
                "no signature bundle is attached to {}",
                model.source().uri()
            );
            outln!("FAILED: {}: {}", escape(shown), escape(&reason));
            for (uri, why) in unreadable {
                outln!("  unreadable signature: {} ({})", escape(uri), escape(why));
            }
        }
    }
    Ok(1)
}

/// Downloads the verified files of a registry model into `dir`.
fn pull(
    ctx: &Context,
    model: &Model,
    dir: &std::path::Path,
    verdict: &Verdict,
) -> Result<(String, usize, u64)> {
    #[cfg(feature = "oci")]
    if let Some(oci) = model.oci() {
        let bar = Bar::new(ctx.quiet, "pulling");
        let pulled = oci.pull_verified(dir, &verdict.signed_files, &bar);
        bar.finish();
        let pulled = pulled?;
        return Ok((pulled.dir.display().to_string(), pulled.files, pulled.bytes));
    }
    let _ = (ctx, model, dir, verdict);
    Err(Error::Usage("--pull is for oci:// models".into()))
}

/// Where a registry model is pinned, and how each file was checked.
fn print_registry(model: &Model, verdict: &Verdict, verified: bool, via: Option<&str>) {
    if model.local_path().is_some() {
        return;
    }
    // Only a verified manifest is offered for deployment.
    let advice = if verified {
        "deploy this digest"
    } else {
        "not verified: do not deploy"
    };
    outln!("  manifest: {} ({advice})", escape(&model.source().uri()));
    if let Some(via) = via {
        outln!("  signatures found by: {via}");
    }
    let by_digest = verdict
        .source_notes
        .iter()
        .filter(|n| matches!(n, SourceNote::DigestOnly { .. }))
        .count();
    let read = verdict
        .source_notes
        .iter()
        .filter(|n| matches!(n, SourceNote::Read { .. }))
        .count();
    if by_digest + read > 0 {
        outln!(
            "  layers:  {by_digest} files checked by layer digest alone (not downloaded), {read} read"
        );
    }
    for note in &verdict.source_notes {
        match note {
            SourceNote::DigestOnly { path, from } => {
                outln!("    digest only: {} ({})", escape(path), escape(from))
            }
            SourceNote::Read { path, from } => {
                outln!("    read:        {} ({})", escape(path), escape(from))
            }
            SourceNote::NotCovered { .. } => outln!("  NOTE:    {}", escape(&note.to_string())),
            SourceNote::ImageSigned { .. } => outln!("  image:   {}", escape(&note.to_string())),
            _ => {}
        }
    }
}

/// Reads a bundle or BOM given as a file or an https:// URL, up to the
/// library's limit; the hint names the flag that lifts it.
fn read_document(
    source: &std::path::Path,
    limit: &BundleLimit<'_>,
    kind: fn(u64) -> InputKind,
) -> Result<Document> {
    Document::read_limited(source, limit, kind).map_err(|e| match e {
        Error::Input(modelseal::fetch::InputError::TooLarge { .. }) if !limit.is_given() => {
            Error::Usage(format!(
                "{e}; a real signature of this model is smaller (pass --max-bundle-size to read it anyway)"
            ))
        }
        other => other,
    })
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

fn print_human(model: &str, signature: &str, verdict: &Verdict) {
    let subject = verdict.subject.as_ref().and_then(|s| {
        s.digest
            .get("sha256")
            .map(|d| format!("{} sha256:{d}", escape(&s.name)))
    });
    let verified = verdict.is_verified();
    if verified {
        outln!("verified: {}", escape(model));
        if let Some(subject) = subject {
            outln!("  subject: {subject}");
        }
        outln!("  files:   {} checked", verdict.files_checked);
        if verdict.bom_verified == Some(true) {
            outln!("  bom:     verified (signed, same subject, every file hash matches)");
        }
    } else {
        outln!(
            "FAILED: {} does not verify against {}",
            escape(model),
            escape(signature)
        );
        for f in &verdict.failures {
            outln!("  {}", escape(&f.to_string()));
            if let Some(hint) = failure_hint(f) {
                outln!("    hint: {hint}");
            }
        }
    }
    if let Some(signer) = &verdict.signer {
        let label = if verified {
            "signer: "
        } else {
            "checked with:"
        };
        outln!("  {label} {}", escape(&signer.to_string()));
    }
    match (&verdict.timestamped, verdict.signed_at) {
        (Some(stamp), _) => outln!(
            "  timestamped: {} (RFC 3161, by {} under {})",
            stamp.time,
            escape(&stamp.tsa),
            escape(&stamp.anchor)
        ),
        (None, Some(time)) => outln!("  logged:  {time} (transparency log)"),
        (None, None) => {}
    }
}

/// What to try when the bundle carries other trust material than given.
fn failure_hint(failure: &Failure) -> Option<&'static str> {
    match failure {
        Failure::Material { found, .. } => Some(match found {
            Material::PublicKey => "verify it with --key",
            Material::CertificateChain => "verify it with --cert-chain",
            _ => "verify it with --identity and --issuer",
        }),
        _ => None,
    }
}
