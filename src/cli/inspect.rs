//! `modelseal inspect`: what each file really is, and whether loading it can
//! run code.

use super::model::{RegistryArgs, is_oci, open_model};
use super::progress::Bar;
use super::{Context, Format, Outcome, print_json};
use clap::Args;
use modelseal::Result;
use modelseal::digest::IgnoreSet;
use modelseal::formats::{Severity, check_references, inspect_path};
use modelseal::source::HashSpec;
use std::path::PathBuf;

#[derive(Debug, Args)]
pub struct InspectArgs {
    /// A file or a directory, or oci://HOST[:PORT]/REPO:TAG (each blob streamed and checked).
    path: PathBuf,
    #[command(flatten)]
    registry: RegistryArgs,
}

pub fn run(ctx: &Context, args: InspectArgs) -> Result<Outcome> {
    let reports = if is_oci(&args.path) {
        let model = open_model(&args.path, &args.registry)?;
        let ignore = IgnoreSet::new();
        let mut spec = HashSpec::new(&ignore);
        spec.inspect_formats = true;
        let bar = Bar::new(ctx.quiet, "reading");
        let hashed = model.source().hash(&spec, &bar);
        bar.finish();
        let mut reports: Vec<_> = hashed?
            .formats
            .map(|f| f.iter().map(|r| r.to_report()).collect())
            .unwrap_or_default();
        check_references(&mut reports);
        reports
    } else {
        inspect_path(&args.path)?
    };
    let unsafe_files = reports.iter().filter(|r| r.unsafe_to_load()).count();
    match ctx.format {
        Format::Human | Format::Markdown | Format::Oscal | Format::Html => {
            let width = reports.iter().map(|r| r.name.len()).max().unwrap_or(0);
            for r in &reports {
                let state = if r.unsafe_to_load() { "UNSAFE" } else { "ok" };
                outln!("{:width$}  {:15} {state}", r.name, r.format.name());
                for f in &r.findings {
                    let label = match f.severity {
                        Severity::Dangerous => "dangerous",
                        Severity::Invalid => "invalid",
                        Severity::Warning => "warning",
                    };
                    outln!("  {label}: {}", f.message);
                }
            }
            if unsafe_files > 0 {
                outln!(
                    "{unsafe_files} of {} files are unsafe to load",
                    reports.len()
                );
            }
        }
        Format::Json => print_json(&serde_json::json!({
            "path": args.path,
            "unsafe": unsafe_files > 0,
            "files": reports,
        })),
    }
    Ok(if unsafe_files > 0 { 1 } else { 0 })
}
