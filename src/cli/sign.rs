//! `modelseal sign`.

use super::model::{RegistryArgs, is_oci, open_model};
use super::progress::Bar;
use super::{Context, EvidenceArgs, Format, HashingArgs, Outcome, escape, load_chain, print_json};
use clap::Args;
use modelseal::bom::BomOptions;
use modelseal::release::{
    Identity, ReleaseBom, SignRequest, sign_release, signature_path as release_bom_signature,
};
use modelseal::sign::SigningIdentity;
use modelseal::{Error, Result};
use std::path::PathBuf;

#[derive(Debug, Args)]
pub struct SignArgs {
    /// The model directory or file, oci://HOST[:PORT]/REPO:TAG (or @sha256:HEX), or hf://ORG/NAME[@REVISION] in the local Hugging Face cache.
    pub path: PathBuf,
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
    pub identity_token: Option<String>,
    /// With --sigstore: a Fulcio URL instead of the public-good instance (needs --rekor-url).
    #[arg(long, value_name = "URL", requires = "rekor_url")]
    pub fulcio_url: Option<String>,
    /// With --sigstore: a Rekor URL instead of the public-good instance (needs --fulcio-url).
    #[arg(long, value_name = "URL", requires = "fulcio_url")]
    pub rekor_url: Option<String>,
    /// Where to write the signature bundle (default model.sig; for oci:// models the bundle is
    /// attached in the registry, and written here only when given).
    #[arg(long, value_name = "FILE")]
    signature: Option<PathBuf>,
    /// Certificate mode: the signing certificate (PEM) for --key.
    #[arg(long, value_name = "CERT", requires = "key")]
    signing_cert: Option<PathBuf>,
    /// Certificate mode: intermediate certificates (PEM) to include, leaf excluded.
    #[arg(long = "cert-chain", value_name = "PEM", requires = "signing_cert")]
    cert_chain: Vec<PathBuf>,
    /// Also write a CycloneDX ML-BOM here, signed the same way (BOM.sig), in the same pass.
    #[arg(long, value_name = "BOM")]
    bom: Option<PathBuf>,
    /// Have this RFC 3161 time-stamping authority stamp the signatures (key and certificate signing); the stamps go in the bundles.
    #[arg(long, value_name = "URL")]
    tsa: Option<String>,
    /// With --tsa: the TSA's trusted certificates (PEM); each stamp is checked against them before anything is written.
    #[arg(long, value_name = "PEM", requires = "tsa")]
    tsa_chain: Option<PathBuf>,
    /// With --bom: a dataset directory or file the model was trained on. Repeatable.
    #[arg(long, value_name = "DIR_OR_FILE", requires = "bom")]
    dataset: Vec<PathBuf>,
    /// With --bom: pin a base model by its OMS root digest (the BOM's pedigree carries it). Repeatable.
    #[arg(long, value_name = "NAME=sha256:HEX", requires = "bom", value_parser = super::bom::parse_base_model)]
    base_model: Vec<(String, String)>,
    #[command(flatten)]
    hashing: HashingArgs,
    #[command(flatten)]
    pub evidence: EvidenceArgs,
    #[command(flatten)]
    registry: RegistryArgs,
}

pub fn run(ctx: &Context, args: SignArgs) -> Result<Outcome> {
    let in_registry = is_oci(&args.path);
    let signature = match &args.signature {
        Some(s) => Some(s.clone()),
        None if in_registry => None,
        None => Some(PathBuf::from("model.sig")),
    };
    if let Some(sig) = signature.as_ref().filter(|s| s.is_dir()) {
        return Err(Error::Usage(format!(
            "--signature {} is a directory; name a file",
            sig.display()
        )));
    }
    // Everything that can fail without reading the model or using the
    // network comes first: keys, certificates, the identity token.
    let recorder = args.evidence.recorder()?;
    let key = args.key.as_deref().map(super::private_key).transpose()?;
    let service = if args.sigstore {
        Some(super::keyless::signer(&args)?)
    } else {
        None
    };
    let chain = args
        .signing_cert
        .as_deref()
        .map(|cert| load_chain(cert, &args.cert_chain))
        .transpose()?;
    let identity = match (&key, &service, chain) {
        (Some(key), _, None) => Identity::Key(SigningIdentity::Key(key)),
        (Some(key), _, Some(chain)) => Identity::Key(SigningIdentity::Certificate { key, chain }),
        (None, Some(service), _) => Identity::Service(service.as_ref()),
        (None, None, _) => return Err(Error::Usage("give --key or --sigstore".into())),
    };
    let model = open_model(&args.path, &args.registry)?;
    let hashing = match model.local_path() {
        Some(root) => args.hashing.options(root, None)?,
        None => args.hashing.registry_options()?,
    };
    let bom = match &args.bom {
        None => None,
        Some(path) => {
            let (timestamp, properties) = super::clock::bom_time(ctx.now, None)?;
            let mut bom = ReleaseBom::new(
                path.clone(),
                BomOptions {
                    timestamp,
                    properties,
                    base_models: args.base_model.clone(),
                    ..Default::default()
                },
            );
            bom.datasets.clone_from(&args.dataset);
            Some(bom)
        }
    };
    let mut request = SignRequest::new(&model, identity, ctx.now);
    request.hashing = hashing;
    request.signature.clone_from(&signature);
    request.bom = bom;
    request.recorder = recorder.as_ref();
    #[cfg(feature = "remote")]
    if let Some(url) = &args.tsa {
        request.tsa = Some(modelseal::registry::tsa::Tsa {
            url: url.clone(),
            anchors: match &args.tsa_chain {
                Some(pem) => modelseal::keys::load_certificates(pem)?,
                None => Vec::new(),
            },
        });
    }
    #[cfg(not(feature = "remote"))]
    if args.tsa.is_some() {
        return Err(Error::Usage("--tsa needs the remote feature".into()));
    }
    if recorder.is_some() {
        ctx.warn_test_clock("the evidence record");
    }
    let bar = Bar::new(ctx.quiet, "hashing");
    let release = sign_release(request, &bar);
    bar.finish();
    let release = release?;
    for note in &release.notes {
        ctx.warn(&escape(&super::hash::note_text(note)));
    }
    let bom_paths = args.bom.as_ref().map(|b| (b, release_bom_signature(b)));
    let source = model.source();
    let name = &release.name;
    let root = release.manifest.root_digest_hex();
    match ctx.format {
        Format::Human | Format::Markdown | Format::Oscal | Format::Html => {
            outln!(
                "signed {name}: {} resources, root sha256:{root}",
                release.manifest.resources.len()
            );
            if let Some(sig) = &signature {
                outln!("signature: {}", sig.display());
            }
            if model.local_path().is_none() {
                outln!("manifest:  {}", source.uri());
            }
            for a in &release.attached {
                outln!(
                    "attached:  {} {} ({})",
                    a.kind,
                    model.referrer(&a.digest),
                    a.how()
                );
            }
            if let Some((path, sig)) = &bom_paths {
                outln!("bom:       {} (signed: {})", path.display(), sig.display());
            }
            outln!("signer:    {}", escape(&release.signer.to_string()));
            if let Some(stamp) = &release.timestamped {
                outln!(
                    "timestamp: {} (RFC 3161, by {})",
                    stamp.time,
                    escape(&stamp.tsa)
                );
            } else if args.tsa.is_some() {
                outln!("timestamp: in the bundle (not checked: give --tsa-chain)");
            }
        }
        Format::Json => print_json(&serde_json::json!({
            "signature": signature,
            "model": source.uri(),
            "attached": release.attached.iter().map(|a| serde_json::json!({
                "kind": a.kind, "uri": model.referrer(&a.digest), "via": a.via,
            })).collect::<Vec<_>>(),
            "subject": { "name": name, "digest": { "sha256": root } },
            "resources": release.manifest.resources.len(),
            "method": release.manifest.serialization.method.name(),
            "hash_type": release.manifest.serialization.hash_type,
            "signer": release.signer,
            "bom": args.bom,
            "bom_signature": bom_paths.as_ref().map(|(_, s)| s),
            "source": source.uri(),
            "notes": release.notes,
        })),
    }
    Ok(0)
}
