//! `modelseal inspect`: what each file really is, and whether loading it can
//! run code.

use super::{Context, Format, Outcome, print_json};
use clap::Args;
use modelseal::Result;
use modelseal::formats::{Severity, inspect_path};
use std::path::PathBuf;

#[derive(Debug, Args)]
pub struct InspectArgs {
    /// A file or a directory.
    path: PathBuf,
}

pub fn run(ctx: &Context, args: InspectArgs) -> Result<Outcome> {
    let reports = inspect_path(&args.path)?;
    let unsafe_files = reports.iter().filter(|r| r.unsafe_to_load()).count();
    match ctx.format {
        Format::Human | Format::Markdown | Format::Oscal | Format::Html => {
            let width = reports.iter().map(|r| r.name.len()).max().unwrap_or(0);
            for r in &reports {
                let state = if r.unsafe_to_load() { "UNSAFE" } else { "ok" };
                println!("{:width$}  {:15} {state}", r.name, r.format.name());
                for f in &r.findings {
                    let label = match f.severity {
                        Severity::Dangerous => "dangerous",
                        Severity::Invalid => "invalid",
                        Severity::Warning => "warning",
                    };
                    println!("  {label}: {}", f.message);
                }
            }
            if unsafe_files > 0 {
                println!(
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
