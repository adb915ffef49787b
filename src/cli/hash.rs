//! `modelseal hash`.

use super::model::{RegistryArgs, open_model};
use super::progress::Bar;
use super::{Context, Format, HashingArgs, Outcome, escape, print_json};
use clap::Args;
use modelseal::Result;
use modelseal::digest::{Resources, Serialization};
use modelseal::source::{SourceNote, manifest_with_notes};
use serde::Serialize;
use std::collections::BTreeMap;
use std::path::PathBuf;

#[derive(Debug, Args)]
pub struct HashArgs {
    /// The model directory or file, oci://HOST[:PORT]/REPO:TAG (or @sha256:HEX), or hf://ORG/NAME[@REVISION] in the local Hugging Face cache.
    path: PathBuf,
    /// A signature file to leave out when it lies inside the model (as sign does).
    #[arg(long, value_name = "FILE", default_value = "model.sig")]
    signature: PathBuf,
    #[command(flatten)]
    hashing: HashingArgs,
    #[command(flatten)]
    registry: RegistryArgs,
}

/// `hash --format json`, streamed member by member.
#[derive(Serialize)]
struct HashJson<'a> {
    name: &'a str,
    root_digest: BTreeMap<&'static str, String>,
    resources: &'a Resources,
    serialization: &'a Serialization,
    #[serde(skip_serializing_if = "<[SourceNote]>::is_empty")]
    notes: &'a [SourceNote],
}

/// A note of the walk as a warning line.
pub fn note_text(note: &SourceNote) -> String {
    note.to_string()
}

pub fn run(ctx: &Context, args: HashArgs) -> Result<Outcome> {
    let model = open_model(&args.path, &args.registry)?;
    let mut options = match model.local_path() {
        Some(root) => args.hashing.options(root, Some(&args.signature))?,
        None => args.hashing.registry_options()?,
    };
    let source = model.source();
    if source.repository_scope().is_some() {
        // A repository cache keeps its files as links into its blobs.
        options.allow_symlinks = true;
    }
    let bar = Bar::new(ctx.quiet, "hashing");
    let manifest = manifest_with_notes(source, &options, &bar);
    bar.finish();
    let (manifest, notes) = manifest?;
    for note in &notes {
        ctx.warn(&escape(&note_text(note)));
    }
    let name = source.name()?;
    match ctx.format {
        Format::Human | Format::Markdown | Format::Oscal | Format::Html => {
            outln!("{}  {}", manifest.root_digest_hex(), escape(&name))
        }
        Format::Json => print_json(&HashJson {
            name: &name,
            root_digest: BTreeMap::from([("sha256", manifest.root_digest_hex())]),
            resources: &manifest.resources,
            serialization: &manifest.serialization,
            notes: &notes,
        }),
    }
    Ok(0)
}
