//! `modelseal sign`.

use super::model::{Model, RegistryArgs, is_oci, open_model};
use super::progress::Bar;
use super::{
    Context, EvidenceArgs, Format, HashingArgs, Outcome, Staged, cite_sha256, escape, load_chain,
    print_json,
};
use clap::Args;
use modelseal::bom::{
    BomOptions, HashedTree, bom_statement_json, build_bom, hash_tree, to_json, write_json,
};
use modelseal::bundle::Statement;
use modelseal::digest::{HashAlgorithm, HashOptions, IgnoreSet, Method};
use modelseal::evidence::record::{
    EvidenceSubject, NewRecord, Predicate, SignEvidence, SignerInfo, Tool,
};
use modelseal::keys::load_private_key;
use modelseal::sign::{SignedBundle, SigningIdentity, sign_model};
use modelseal::{Error, Result};
use std::path::{Path, PathBuf};

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
    /// With --bom: a dataset directory or file the model was trained on. Repeatable.
    #[arg(long, value_name = "DIR_OR_FILE", requires = "bom")]
    dataset: Vec<PathBuf>,
    #[command(flatten)]
    hashing: HashingArgs,
    #[command(flatten)]
    evidence: EvidenceArgs,
    #[command(flatten)]
    registry: RegistryArgs,
}

/// A signature made: streamed from its payload (key mode), or the bytes a
/// Sigstore service returned.
enum Signed {
    Streamed(Box<SignedBundle>),
    Bytes(Vec<u8>),
}

/// Refuses two outputs that name the same file (compared as absolute,
/// normalised paths), before anything is written.
fn refuse_same_file(outputs: &[(&str, Option<&Path>)]) -> Result<()> {
    let cwd = std::env::current_dir().map_err(|e| Error::io(".", e))?;
    let normal = |p: &Path| -> PathBuf { cwd.join(p).components().collect() };
    let given: Vec<(&str, PathBuf)> = outputs
        .iter()
        .filter_map(|(what, p)| p.map(|p| (*what, normal(p))))
        .collect();
    for (i, (a, pa)) in given.iter().enumerate() {
        if let Some((b, _)) = given[i + 1..].iter().find(|(_, pb)| pb == pa) {
            return Err(Error::Usage(format!(
                "{a} and {b} name the same file ({})",
                pa.display()
            )));
        }
    }
    Ok(())
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
    let key = args.key.as_deref().map(load_private_key).transpose()?;
    let token = if args.sigstore {
        Some(super::keyless::token(&args)?)
    } else {
        None
    };
    let chain = args
        .signing_cert
        .as_deref()
        .map(|cert| load_chain(cert, &args.cert_chain))
        .transpose()?;
    let bom_sig = args.bom.as_deref().map(super::bom::signature_path);
    refuse_same_file(&[
        ("--signature", signature.as_deref()),
        ("--bom", args.bom.as_deref()),
        ("the BOM's signature", bom_sig.as_deref()),
    ])?;
    let model = open_model(&args.path, &args.registry)?;
    let mut options = match model.local_path() {
        Some(root) => {
            let mut options = args.hashing.options(root, signature.as_deref())?;
            let cwd = std::env::current_dir().map_err(|e| Error::io(".", e))?;
            for p in args.bom.iter().chain(bom_sig.iter()) {
                options.ignore.insert_user_path(root, &cwd.join(p))?;
            }
            options
        }
        None => args.hashing.registry_options()?,
    };
    let source = model.source();
    if source.repository_scope().is_some() {
        // A repository cache keeps its files as links into its blobs.
        options.allow_symlinks = true;
    }
    let name = source.name()?;
    let bar = Bar::new(ctx.quiet, "hashing");
    let manifest = modelseal::source::manifest_with_notes(source, &options, &bar);
    bar.finish();
    let (manifest, notes) = manifest?;
    for note in &notes {
        ctx.warn(&escape(&super::hash::note_text(note)));
    }
    let root = manifest.root_digest_hex();
    let mut bom_datasets = Vec::new();
    // A BOM reads the model card and weight headers: a registry model is
    // pulled (digest-checked) into a temporary directory for it.
    let pulled = match (&args.bom, model.local_path()) {
        (Some(_), None) => Some(super::bom::pull_for_bom(&model, ctx)?),
        _ => None,
    };
    let model_path = pulled
        .as_ref()
        .map(|p| p.path().to_path_buf())
        .or_else(|| model.local_path().map(Path::to_path_buf))
        .unwrap_or_default();
    let bom = match &args.bom {
        None => None,
        Some(_) => {
            // One pass over the bytes when the signature hashes files with
            // SHA-256, as the BOM does; another pass otherwise.
            let model_tree =
                if options.method == Method::Files && options.algorithm == HashAlgorithm::Sha256 {
                    HashedTree {
                        path: model_path.clone(),
                        name: name.clone(),
                        sha256: std::sync::Arc::new(manifest.clone()),
                        blake3: None,
                    }
                } else {
                    let mut tree = hash_tree(&model_path, &options, false, &|_: u64| {})?;
                    tree.name = name.clone();
                    tree
                };
            let mut datasets = Vec::new();
            for ds in &args.dataset {
                let ds_options = HashOptions {
                    allow_symlinks: options.allow_symlinks,
                    ignore: IgnoreSet::with_defaults(),
                    ..Default::default()
                };
                datasets.push(hash_tree(ds, &ds_options, false, &|_: u64| {})?);
            }
            let (timestamp, time_properties) = super::clock::bom_time(ctx.now, None)?;
            let mut properties = super::bom::location_properties(&model);
            properties.extend(time_properties);
            let bom_options = BomOptions {
                timestamp,
                properties,
                purl: super::bom::purl_of(source),
                ..Default::default()
            };
            bom_datasets = super::bom::dataset_refs(&datasets);
            Some(build_bom(&model_tree, &datasets, &bom_options)?)
        }
    };
    let mut bom_bundle: Option<Signed> = None;
    let (bundle, signer) = match (&key, token) {
        (Some(key), _) => {
            let identity = match chain {
                None => SigningIdentity::Key(key),
                Some(chain) => SigningIdentity::Certificate { key, chain },
            };
            let public = key.public_key();
            let certificate = match &identity {
                SigningIdentity::Certificate { chain, .. } => chain
                    .first()
                    .and_then(|der| <x509_cert::Certificate as der::Decode>::from_der(der).ok())
                    .map(|c| modelseal::keys::certificate_subject(&c)),
                SigningIdentity::Key(_) => None,
            };
            let signer = SignerInfo {
                fingerprint: Some(public.fingerprint()),
                algorithm: Some(public.algorithm().name().to_string()),
                certificate,
                ..SignerInfo::default()
            };
            let bundle = sign_model(&name, &manifest, &identity)?;
            if let Some(b) = &bom {
                let signed = modelseal::bom::sign_bom(b, &name, &root, &identity)?;
                bom_bundle = Some(Signed::Streamed(Box::new(signed)));
            }
            (Signed::Streamed(Box::new(bundle)), signer)
        }
        (None, Some(token)) => {
            let signer = super::keyless::signer(&token);
            let statement = serde_json::to_vec(&Statement::for_manifest(&name, &manifest))
                .map_err(|e| Error::Usage(format!("cannot encode the statement: {e}")))?;
            if let Some(b) = &bom {
                let bytes = bom_statement_json(b, &name, &root)?;
                bom_bundle = Some(Signed::Bytes(super::keyless::sign(&bytes, &token, &args)?));
            }
            let bytes = super::keyless::sign(&statement, &token, &args)?;
            (Signed::Bytes(bytes), signer)
        }
        (None, None) => return Err(Error::Usage("give --key or --sigstore".into())),
    };
    // Every file is staged first and put in place only once the evidence
    // record (when one is asked for) is in the log: a release never has a
    // signature without its record.
    // The signature is written straight from the signed payload: a
    // dataset's bundle is never held whole in memory. A registry model's
    // bundle is also attached as a referrer, so its bytes are kept (a
    // registry model has few files).
    let registry_bytes: Option<Vec<u8>> = match (&bundle, model.local_path()) {
        (_, Some(_)) => None,
        (Signed::Streamed(b), None) => {
            let mut bytes = Vec::new();
            b.write_json(&mut bytes)
                .map_err(|e| Error::Usage(format!("cannot encode the bundle: {e}")))?;
            Some(bytes)
        }
        (Signed::Bytes(bytes), None) => Some(bytes.clone()),
    };
    let mut staged = Vec::new();
    let signature_cite = match &signature {
        Some(sig) => {
            let (file, sha256) = match &bundle {
                Signed::Streamed(b) => Staged::write_with(sig, |w| b.write_json(w))?,
                Signed::Bytes(bytes) => Staged::write_with(sig, |w| w.write_all(bytes))?,
            };
            staged.push(file);
            cite_sha256(sig, sha256)
        }
        None => modelseal::evidence::record::ResourceRef::of_bytes(
            format!("{} (referrer)", source.uri()),
            registry_bytes.as_deref().unwrap_or_default(),
        ),
    };
    drop(bundle);
    // The BOM and its signature are written as they are serialised too.
    let mut bom_cites = (None, None);
    if let (Some(path), Some(b), Some(sig_path), Some(sig)) =
        (&args.bom, &bom, &bom_sig, &bom_bundle)
    {
        let (file, bom_sha256) = Staged::write_with(path, |w| write_json(b, w))?;
        staged.push(file);
        let (file, sig_sha256) = match sig {
            Signed::Streamed(s) => Staged::write_with(sig_path, |w| s.write_json(w))?,
            Signed::Bytes(bytes) => Staged::write_with(sig_path, |w| w.write_all(bytes))?,
        };
        staged.push(file);
        bom_cites = (
            Some(cite_sha256(path, bom_sha256)),
            Some(cite_sha256(sig_path, sig_sha256)),
        );
    }
    // A registry model's BOM bundle is attached as a referrer too.
    let bom_bundle: Option<Vec<u8>> = match (bom_bundle, model.local_path()) {
        (Some(Signed::Streamed(s)), None) => {
            let mut bytes = Vec::new();
            s.write_json(&mut bytes)
                .map_err(|e| Error::Usage(format!("cannot encode the bundle: {e}")))?;
            Some(bytes)
        }
        (Some(Signed::Bytes(bytes)), None) => Some(bytes),
        _ => None,
    };
    if let Some(recorder) = &recorder {
        ctx.warn_test_clock("the evidence record");
        recorder.append(&NewRecord {
            subject: EvidenceSubject {
                name: name.clone(),
                sha256: root.clone(),
            },
            predicate: Predicate::Sign(SignEvidence {
                signer: signer.clone(),
                signature: signature_cite,
                datasets: bom_cites.0.as_ref().map(|_| bom_datasets.clone()),
                base_models: bom.as_ref().map(super::bom::base_models),
                bom: bom_cites.0,
                bom_signature: bom_cites.1,
                location: super::bom::record_location(&model),
                tool: Tool::this(),
                time: ctx.now.time(),
            }),
            clock: ctx.now.source(),
        })?;
    }
    for file in staged {
        file.commit()?;
    }
    // The record is in the log; now the registry. A failed push is an error
    // (exit 2): the record says what was signed, not that it was attached.
    let attached = push_referrers(
        ctx.now,
        &model,
        registry_bytes.as_deref().unwrap_or_default(),
        &bom,
        &bom_bundle,
    )?;
    match ctx.format {
        Format::Human | Format::Markdown | Format::Oscal | Format::Html => {
            outln!(
                "signed {name}: {} resources, root sha256:{root}",
                manifest.resources.len()
            );
            if let Some(sig) = &signature {
                outln!("signature: {}", sig.display());
            }
            if model.local_path().is_none() {
                outln!("manifest:  {}", source.uri());
            }
            for (what, a) in &attached {
                outln!(
                    "attached:  {what} {} ({})",
                    model_ref(&model, &a.digest),
                    a.via
                );
            }
            if let (Some(path), Some(sig)) = (&args.bom, &bom_sig) {
                outln!("bom:       {} (signed: {})", path.display(), sig.display());
            }
            outln!("signer:    {}", escape(&signer.to_string()));
        }
        Format::Json => print_json(&serde_json::json!({
            "signature": signature,
            "model": source.uri(),
            "attached": attached.iter().map(|(what, a)| serde_json::json!({
                "kind": what, "uri": model_ref(&model, &a.digest), "via": a.via,
            })).collect::<Vec<_>>(),
            "subject": { "name": name, "digest": { "sha256": root } },
            "resources": manifest.resources.len(),
            "method": manifest.serialization.method.name(),
            "hash_type": manifest.serialization.hash_type,
            "signer": signer,
            "bom": args.bom,
            "bom_signature": bom_sig,
            "source": source.uri(),
            "notes": notes,
        })),
    }
    Ok(0)
}

/// A referrer of the model named in its repository.
fn model_ref(model: &Model, digest: &str) -> String {
    #[cfg(feature = "oci")]
    if let Some(oci) = model.oci() {
        return oci.reference().pinned(digest).to_string();
    }
    let _ = model;
    digest.to_string()
}

/// What was attached: the signature (and the BOM with its signature).
#[cfg(feature = "oci")]
type AttachedList = Vec<(&'static str, modelseal::registry::oci::Attached)>;
#[cfg(not(feature = "oci"))]
type AttachedList = Vec<(&'static str, Attached)>;

/// No registry support: nothing is ever attached.
#[cfg(not(feature = "oci"))]
#[derive(Debug, serde::Serialize)]
pub struct Attached {
    digest: String,
    via: String,
}

/// Attaches the bundle (and the BOM with its bundle) to a registry model.
fn push_referrers(
    now: modelseal::clock::Now,
    model: &Model,
    bundle: &[u8],
    bom: &Option<modelseal::bom::Bom>,
    bom_bundle: &Option<Vec<u8>>,
) -> Result<AttachedList> {
    #[cfg(feature = "oci")]
    if let Some(oci) = model.oci() {
        use modelseal::registry::oci::{Artifact, BOM_ARTIFACT_TYPE, BUNDLE_ARTIFACT_TYPE, Blob};
        use std::collections::BTreeMap;
        let mut created = BTreeMap::from([(
            "org.opencontainers.image.created".to_string(),
            now.time().to_string(),
        )]);
        if now.is_test() {
            created.insert("dev.modelseal.time-source".to_string(), "test".to_string());
        }
        let mut out = Vec::new();
        let signature = Artifact {
            artifact_type: BUNDLE_ARTIFACT_TYPE.into(),
            blobs: vec![Blob {
                media_type: BUNDLE_ARTIFACT_TYPE.into(),
                bytes: bundle.to_vec(),
                annotations: BTreeMap::new(),
            }],
            annotations: created.clone(),
        };
        out.push(("signature", oci.attach(&signature)?));
        if let (Some(b), Some(sig)) = (bom, bom_bundle) {
            let artifact = Artifact {
                artifact_type: BOM_ARTIFACT_TYPE.into(),
                blobs: vec![
                    Blob {
                        media_type: BOM_ARTIFACT_TYPE.into(),
                        bytes: to_json(b),
                        annotations: BTreeMap::new(),
                    },
                    Blob {
                        media_type: BUNDLE_ARTIFACT_TYPE.into(),
                        bytes: sig.clone(),
                        annotations: BTreeMap::new(),
                    },
                ],
                annotations: created,
            };
            out.push(("bom", oci.attach(&artifact)?));
        }
        return Ok(out);
    }
    let _ = (model, bundle, bom, bom_bundle);
    Ok(Vec::new())
}
