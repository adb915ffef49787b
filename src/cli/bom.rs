//! `modelseal bom`: write (and sign) a CycloneDX 1.6 ML-BOM, or check one.

use super::model::{Model, RegistryArgs, open_model};
use super::progress::Bar;
use super::{Context, EvidenceArgs, Format, Outcome, Staged, cite_sha256, load_chain, print_json};
use clap::Args;
use modelseal::bom::types::Property;
use modelseal::bom::{
    BomOptions, HashedTree, build_bom, check_bom_source, hash_tree, sign_bom, write_json,
};
use modelseal::digest::{HashOptions, IgnoreSet};
use modelseal::evidence::record::{
    self, BomEvidence, DatasetRef, EvidenceSubject, NewRecord, Predicate, Tool,
};
use modelseal::keys::load_private_key;
use modelseal::sign::SigningIdentity;
use modelseal::{Error, Result};
use std::collections::BTreeMap;
use std::path::{Path, PathBuf};

#[derive(Debug, Args)]
pub struct BomArgs {
    /// The model directory or file, oci://HOST[:PORT]/REPO:TAG (read from a digest-checked pull), or hf://ORG/NAME[@REVISION] in the local Hugging Face cache.
    #[arg(required_unless_present = "check")]
    path: Option<PathBuf>,
    /// Check a CycloneDX 1.6 BOM (any producer's) instead of writing one.
    #[arg(long, value_name = "BOM", conflicts_with_all = ["path", "out", "dataset", "key"])]
    check: Option<PathBuf>,
    /// Where to write the BOM (CycloneDX JSON).
    #[arg(long, value_name = "BOM", required_unless_present = "check")]
    out: Option<PathBuf>,
    /// A dataset directory or file the model was trained or evaluated on. Repeatable.
    #[arg(long, value_name = "DIR_OR_FILE")]
    dataset: Vec<PathBuf>,
    /// Sign the BOM with this key; writes BOM.sig beside it.
    #[arg(long, value_name = "KEY")]
    key: Option<PathBuf>,
    /// Certificate mode: the signing certificate (PEM) for --key.
    #[arg(long, value_name = "CERT", requires = "key")]
    signing_cert: Option<PathBuf>,
    /// Certificate mode: intermediate certificates (PEM).
    #[arg(long = "cert-chain", value_name = "PEM", requires = "signing_cert")]
    cert_chain: Vec<PathBuf>,
    /// Model version (the directory cannot say).
    #[arg(long)]
    version: Option<String>,
    /// License (SPDX id or name), replacing the model card's. Repeatable.
    #[arg(long)]
    license: Vec<String>,
    /// The task (e.g. text-generation), replacing the model card's pipeline_tag.
    #[arg(long)]
    task: Option<String>,
    /// Creation time (RFC 3339); default SOURCE_DATE_EPOCH, else now.
    #[arg(long)]
    timestamp: Option<String>,
    /// Serial number (urn:uuid:...); default derived from the content.
    #[arg(long)]
    serial_number: Option<String>,
    /// Record BLAKE3 hashes beside SHA-256.
    #[arg(long)]
    blake3: bool,
    /// Exclude a model path (relative to the model root, or absolute inside it). Repeatable.
    #[arg(long = "ignore-path", value_name = "P")]
    ignore_paths: Vec<PathBuf>,
    /// Do not exclude .git, .gitattributes, .github and .gitignore.
    #[arg(long)]
    no_ignore_git_paths: bool,
    /// Follow symbolic links (a target outside the model root is followed with a warning).
    #[arg(long)]
    allow_symlinks: bool,
    /// The model signature file, left out of the BOM when it lies inside the model.
    #[arg(long, value_name = "FILE", default_value = "model.sig")]
    signature: PathBuf,
    #[command(flatten)]
    evidence: EvidenceArgs,
    #[command(flatten)]
    registry: RegistryArgs,
}

pub fn run(ctx: &Context, args: BomArgs) -> Result<Outcome> {
    if let Some(file) = &args.check {
        return check(ctx, file);
    }
    let (Some(model), Some(out)) = (&args.path, &args.out) else {
        return Err(Error::Usage("give PATH and --out, or --check BOM".into()));
    };
    let recorder = args.evidence.recorder()?;
    let key = args.key.as_deref().map(load_private_key).transpose()?;
    let chain = args
        .signing_cert
        .as_deref()
        .map(|cert| load_chain(cert, &args.cert_chain))
        .transpose()?;
    let sig_out = signature_path(out);
    let excluded = [args.signature.clone(), out.clone(), sig_out.clone()];
    let opened = open_model(model, &args.registry)?;
    let pulled = match opened.local_path() {
        Some(_) => None,
        None => Some(pull_for_bom(&opened, ctx)?),
    };
    let (model_root, model_options) = match &pulled {
        Some(dir) => {
            let options = HashOptions {
                ignore: registry_ignore(&args)?,
                ..Default::default()
            };
            (dir.path().to_path_buf(), options)
        }
        None => {
            let root = opened.local_path().unwrap_or(model).to_path_buf();
            let mut options = walk_options(&root, &args, &excluded, true)?;
            if opened.source().repository_scope().is_some() {
                // A repository cache keeps its files as links into its blobs.
                options.allow_symlinks = true;
            }
            (root, options)
        }
    };
    let bar = Bar::new(ctx.quiet, "hashing");
    let hashed = (|| {
        let mut model_tree = hash_tree(&model_root, &model_options, args.blake3, &bar)?;
        model_tree.name = opened.source().name()?;
        let mut datasets = Vec::new();
        for ds in &args.dataset {
            let options = walk_options(ds, &args, &excluded, false)?;
            datasets.push(hash_tree(ds, &options, args.blake3, &bar)?);
        }
        Ok::<_, Error>((model_tree, datasets))
    })();
    bar.finish();
    let (model_tree, datasets) = hashed?;
    let (timestamp, time_properties) = super::clock::bom_time(ctx.now, args.timestamp.as_deref())?;
    let mut properties = location_properties(&opened);
    properties.extend(time_properties);
    let options = BomOptions {
        version: args.version.clone(),
        licenses: args.license.clone(),
        task: args.task.clone(),
        timestamp,
        serial_number: args.serial_number.clone(),
        properties,
        purl: purl_of(opened.source()),
    };
    let bom = build_bom(&model_tree, &datasets, &options)?;
    let root = model_tree.sha256.root_digest_hex();
    // The BOM and its bundle are written as they are serialised: a BOM of
    // a million files is never held as text.
    let (file, bom_sha256) = Staged::write_with(out, |w| write_json(&bom, w))?;
    let mut staged = vec![file];
    let signed = match &key {
        Some(key) => {
            let identity = match chain {
                None => SigningIdentity::Key(key),
                Some(chain) => SigningIdentity::Certificate { key, chain },
            };
            let bundle = sign_bom(&bom, &model_tree.name, &root, &identity)?;
            let (file, sha256) = Staged::write_with(&sig_out, |w| bundle.write_json(w))?;
            staged.push(file);
            Some((sig_out, sha256))
        }
        None => None,
    };
    if let Some(recorder) = &recorder {
        ctx.warn_test_clock("the evidence record");
        recorder.append(&NewRecord {
            subject: EvidenceSubject {
                name: model_tree.name.clone(),
                sha256: root.clone(),
            },
            predicate: Predicate::Bom(BomEvidence {
                bom: cite_sha256(out, bom_sha256),
                bom_signature: signed.as_ref().map(|(p, d)| cite_sha256(p, d.clone())),
                serial_number: bom.serial_number.clone(),
                files: model_tree.sha256.resources.len() as u64,
                datasets: dataset_refs(&datasets),
                base_models: Some(base_models(&bom)),
                location: record_location(&opened),
                tool: Tool::this(),
                time: ctx.now.time(),
            }),
            clock: ctx.now.source(),
        })?;
    }
    for file in staged {
        file.commit()?;
    }
    let signed = signed.map(|(p, _)| p);
    match ctx.format {
        Format::Human | Format::Markdown | Format::Oscal | Format::Html => {
            outln!(
                "wrote {}: CycloneDX 1.6 ML-BOM of {} (root sha256:{root})",
                out.display(),
                model_tree.name
            );
            outln!(
                "  {} model files, {} datasets, serial {}",
                model_tree.sha256.resources.len(),
                datasets.len(),
                bom.serial_number
            );
            if let Some(sig) = &signed {
                outln!("  signed: {}", sig.display());
            }
        }
        Format::Json => print_json(&serde_json::json!({
            "bom": out,
            "signature": signed,
            "serial_number": bom.serial_number,
            "subject": { "name": model_tree.name, "digest": { "sha256": root } },
            "model_files": model_tree.sha256.resources.len(),
            "datasets": datasets.iter().map(|d| serde_json::json!({
                "name": d.name, "digest": { "sha256": d.sha256.root_digest_hex() },
                "files": d.sha256.resources.len(),
            })).collect::<Vec<_>>(),
        })),
    }
    Ok(0)
}

/// The package URL of a model kept in a repository cache
/// (`pkg:huggingface/ORG/NAME@COMMIT` for `hf://ORG/NAME@COMMIT`).
pub fn purl_of(source: &dyn modelseal::source::ModelSource) -> Option<String> {
    let uri = source.uri();
    let rest = uri.strip_prefix("hf://")?;
    Some(format!("pkg:huggingface/{rest}"))
}

/// `BOM.sig` beside the BOM.
pub fn signature_path(bom: &Path) -> PathBuf {
    let mut s = bom.as_os_str().to_os_string();
    s.push(".sig");
    PathBuf::from(s)
}

fn walk_options(
    root: &Path,
    args: &BomArgs,
    excluded: &[PathBuf],
    is_model: bool,
) -> Result<HashOptions> {
    let mut ignore = if args.no_ignore_git_paths {
        IgnoreSet::new()
    } else {
        IgnoreSet::with_defaults()
    };
    if is_model {
        for p in &args.ignore_paths {
            ignore.insert_user_path(root, p)?;
        }
    }
    let cwd = std::env::current_dir().map_err(|e| Error::io(".", e))?;
    for p in excluded {
        ignore.insert_user_path(root, &cwd.join(p))?;
    }
    Ok(HashOptions {
        allow_symlinks: args.allow_symlinks,
        ignore,
        ..Default::default()
    })
}

fn check(ctx: &Context, file: &Path) -> Result<Outcome> {
    let problems = if file.to_str().is_some_and(modelseal::fetch::is_url) {
        // A URL: at most a bundle's size, fetched whole, then checked.
        let cap = modelseal::bundle::MAX_BUNDLE_SIZE;
        let bytes = super::read_input(file, modelseal::fetch::InputKind::Bom(cap))?;
        modelseal::bom::check_bom_reader(bytes.as_slice())
            .map_err(|e| Error::Bom(format!("{}: {e}", file.display())))?
    } else {
        check_bom_source(file)?
    };
    match ctx.format {
        Format::Human | Format::Markdown | Format::Oscal | Format::Html => {
            if problems.is_empty() {
                outln!(
                    "valid: {} (CycloneDX 1.6, references consistent)",
                    file.display()
                );
            } else {
                outln!("INVALID: {}: {} problems", file.display(), problems.len());
                for p in &problems {
                    outln!("  {p}");
                }
            }
        }
        Format::Json => print_json(&serde_json::json!({
            "bom": file,
            "valid": problems.is_empty(),
            "problems": problems,
        })),
    }
    Ok(if problems.is_empty() { 0 } else { 1 })
}

/// The datasets a BOM names, as evidence records cite them.
pub fn dataset_refs(datasets: &[HashedTree]) -> Vec<DatasetRef> {
    datasets
        .iter()
        .map(|d| DatasetRef {
            name: d.name.clone(),
            digest: BTreeMap::from([("sha256".to_string(), d.sha256.root_digest_hex())]),
        })
        .collect()
}

/// The base models a BOM names (its model's pedigree).
pub fn base_models(bom: &modelseal::bom::Bom) -> Vec<String> {
    bom.metadata
        .component
        .pedigree
        .as_ref()
        .map(|p| p.ancestors.iter().map(|a| a.name.clone()).collect())
        .unwrap_or_default()
}

/// The ignore set for a registry model's pulled copy (names relative to the
/// model root).
fn registry_ignore(args: &BomArgs) -> Result<IgnoreSet> {
    let mut ignore = if args.no_ignore_git_paths {
        IgnoreSet::new()
    } else {
        IgnoreSet::with_defaults()
    };
    for p in &args.ignore_paths {
        let text = p.to_str().filter(|_| p.is_relative()).ok_or_else(|| {
            Error::Usage(format!(
                "--ignore-path {}: for an oci:// model, name a path relative to the model root",
                p.display()
            ))
        })?;
        ignore.insert_canonical(text)?;
    }
    Ok(ignore)
}

/// A registry model pulled into a temporary directory (removed on drop).
pub struct PulledCopy {
    _tmp: tempfile::TempDir,
    path: PathBuf,
}

impl PulledCopy {
    /// The model directory.
    pub fn path(&self) -> &Path {
        &self.path
    }
}

/// Pulls a registry model (every blob checked against its digest) into a
/// temporary directory: a BOM reads the model card and the weights' headers.
pub fn pull_for_bom(model: &Model, ctx: &Context) -> Result<PulledCopy> {
    #[cfg(feature = "oci")]
    if let Some(oci) = model.oci() {
        let tmp = tempfile::tempdir().map_err(|e| Error::io(std::env::temp_dir(), e))?;
        let path = tmp.path().join("model");
        let bar = Bar::new(ctx.quiet, "pulling");
        let pulled = oci.pull(&path, &bar);
        bar.finish();
        pulled?;
        return Ok(PulledCopy { _tmp: tmp, path });
    }
    let _ = (model, ctx);
    Err(Error::Usage("the model is not in a registry".into()))
}

/// The BOM properties naming where a registry model lives.
pub fn location_properties(model: &Model) -> Vec<Property> {
    match record_location(model) {
        Some(l) => vec![
            Property::new("modelseal:oci:reference", l.reference),
            Property::new("modelseal:oci:manifest", l.uri),
            Property::new("modelseal:oci:manifest-digest", l.manifest_digest),
        ],
        None => Vec::new(),
    }
}

/// Where a record says a registry model lives.
pub fn record_location(model: &Model) -> Option<record::ModelLocation> {
    #[cfg(feature = "oci")]
    if let Some(oci) = model.oci() {
        return Some(record::ModelLocation {
            reference: oci.reference().to_string(),
            uri: oci.pinned().to_string(),
            manifest_digest: oci.manifest_digest().to_string(),
        });
    }
    let _ = model;
    None
}
