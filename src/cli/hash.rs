//! `modelseal hash`.

use super::progress::Bar;
use super::{Context, Format, HashingArgs, Outcome, print_json};
use clap::Args;
use modelseal::Result;
use modelseal::source::{LocalSource, ModelSource, manifest};
use std::path::PathBuf;

#[derive(Debug, Args)]
pub struct HashArgs {
    /// The model directory or file.
    path: PathBuf,
    /// A signature file to leave out when it lies inside the model (as sign does).
    #[arg(long, value_name = "FILE", default_value = "model.sig")]
    signature: PathBuf,
    #[command(flatten)]
    hashing: HashingArgs,
}

pub fn run(ctx: &Context, args: HashArgs) -> Result<Outcome> {
    let options = args.hashing.options(&args.path, Some(&args.signature))?;
    let bar = Bar::new(ctx.quiet, "hashing");
    let source = LocalSource::new(&args.path);
    let manifest = manifest(&source, &options, &bar);
    bar.finish();
    let manifest = manifest?;
    let name = source.name()?;
    match ctx.format {
        Format::Human | Format::Markdown | Format::Oscal | Format::Html => {
            println!("{}  {name}", manifest.root_digest_hex())
        }
        Format::Json => print_json(&serde_json::json!({
            "name": name,
            "root_digest": { "sha256": manifest.root_digest_hex() },
            "resources": manifest.resources,
            "serialization": manifest.serialization,
        })),
    }
    Ok(0)
}
