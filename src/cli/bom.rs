//! `modelseal bom`: write (and sign) a CycloneDX 1.6 ML-BOM, or check one.

use super::model::{RegistryArgs, open_model};
use super::progress::Bar;
use super::{Context, EvidenceArgs, Format, Outcome, load_chain, print_json};
use clap::Args;
use modelseal::bom::{BomOptions, check_bom_source};
use modelseal::digest::{HashOptions, IgnoreSet};
use modelseal::release::{BomRequest, write_bom};
use modelseal::sign::SigningIdentity;
use modelseal::{Error, Result};
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
    /// Pin a base model by its OMS root digest (the BOM's pedigree carries it). Repeatable.
    #[arg(long, value_name = "NAME=sha256:HEX", value_parser = parse_base_model)]
    base_model: Vec<(String, String)>,
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
    pub evidence: EvidenceArgs,
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
    let key = args.key.as_deref().map(super::private_key).transpose()?;
    let chain = args
        .signing_cert
        .as_deref()
        .map(|cert| load_chain(cert, &args.cert_chain))
        .transpose()?;
    let opened = open_model(model, &args.registry)?;
    let hashing = match opened.local_path() {
        None => HashOptions {
            ignore: IgnoreSet::for_names(args.no_ignore_git_paths, &args.ignore_paths)?,
            ..Default::default()
        },
        Some(root) => walk_options(root, &args, true)?,
    };
    let mut datasets = Vec::new();
    for ds in &args.dataset {
        datasets.push((ds.clone(), walk_options(ds, &args, false)?));
    }
    let (timestamp, properties) = super::clock::bom_time(ctx.now, args.timestamp.as_deref())?;
    let options = BomOptions {
        version: args.version.clone(),
        licenses: args.license.clone(),
        task: args.task.clone(),
        timestamp,
        serial_number: args.serial_number.clone(),
        properties,
        purl: None,
        base_models: args.base_model.clone(),
    };
    let mut request = BomRequest::new(&opened, out.clone(), options, ctx.now);
    request.hashing = hashing;
    request.datasets = datasets;
    request.blake3 = args.blake3;
    request.key = key.as_ref().map(|key| match chain {
        None => SigningIdentity::Key(key),
        Some(chain) => SigningIdentity::Certificate { key, chain },
    });
    request.recorder = recorder.as_ref();
    if recorder.is_some() {
        ctx.warn_test_clock("the evidence record");
    }
    let bar = Bar::new(ctx.quiet, "hashing");
    let written = write_bom(request, &bar);
    bar.finish();
    let written = written?;
    let (bom, model_tree, datasets) = (&written.bom, &written.model, &written.datasets);
    let root = model_tree.sha256.root_digest_hex();
    let signed = written.signature.as_ref().map(|_| signature_path(out));
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

/// `BOM.sig` beside the BOM.
pub use modelseal::release::signature_path;

fn walk_options(root: &Path, args: &BomArgs, is_model: bool) -> Result<HashOptions> {
    let cwd = std::env::current_dir().map_err(|e| Error::io(".", e))?;
    let paths = if is_model {
        &args.ignore_paths[..]
    } else {
        &[]
    };
    let excluded = [args.signature.as_path()];
    let ignore = IgnoreSet::for_model(root, args.no_ignore_git_paths, paths, &excluded, &cwd)?;
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

/// `NAME=sha256:HEX`: a base model's name and its OMS root digest (hex).
pub fn parse_base_model(text: &str) -> std::result::Result<(String, String), String> {
    let (name, digest) = text
        .rsplit_once('=')
        .ok_or_else(|| format!("{text:?}: give NAME=sha256:HEX"))?;
    let hex = digest
        .strip_prefix("sha256:")
        .filter(|h| h.len() == 64 && h.bytes().all(|b| b.is_ascii_hexdigit()))
        .ok_or_else(|| format!("{text:?}: the digest must be sha256: and 64 hex digits"))?;
    if name.is_empty() {
        return Err(format!("{text:?}: the base model needs a name"));
    }
    Ok((name.to_string(), hex.to_ascii_lowercase()))
}
