//! `modelseal evidence export`: what an auditor receives, in one directory.

use super::{Context, Format, Outcome, escape, print_json};
use modelseal::evidence::{INPUTS_DIR, InputOutcome, Location};
use modelseal::export::{ExportRequest, INPUTS_INDEX, export};
use modelseal::keys::PublicKey;
use modelseal::{Error, Result};
use serde_json::json;
use std::path::Path;

pub fn run(
    ctx: &Context,
    location: &Location,
    public: &PublicKey,
    out: &Path,
    checklist: Option<&Path>,
) -> Result<Outcome> {
    let (list, source) = super::audit::load_checklist(checklist)?;
    let here = std::env::current_dir().map_err(|e| Error::io(Path::new("."), e))?;
    let done = export(
        location,
        public,
        out,
        &ExportRequest::new(&list, &source, ctx.now, &here),
    )?;
    ctx.warn_test_clock("the exported audit report");
    let check = &done.check;
    match ctx.format {
        Format::Json => print_json(&json!({
            "log": check.location,
            "out": out,
            "intact": check.ok(),
            "records": check.records.len(),
            "checkpoint": super::evidence::checkpoint_json(check),
            "fingerprint": done.fingerprint,
            "files": done.files,
            "problems": check.problems,
            "repairs": check.repairs,
            "inputs": done.inputs,
        })),
        _ => {
            outln!(
                "exported {} ({} records, {}) to {}",
                escape(&check.location),
                check.records.len(),
                if check.ok() { "intact" } else { "BROKEN" },
                escape(&out.display().to_string())
            );
            for p in &check.problems {
                outln!("  problem: {}", escape(&p.to_string()));
            }
            for f in &done.files {
                outln!("  {}", escape(&f.display().to_string()));
            }
            outln!(
                "  {} of the {} bundles, BOMs and policies the records name copied under {INPUTS_DIR}/ (see {INPUTS_INDEX})",
                done.copied(),
                done.inputs.len(),
            );
            for i in &done.inputs {
                if !matches!(i.outcome, InputOutcome::Copied { .. }) {
                    outln!("    not copied: {} ({})", escape(&i.uri), i.outcome);
                }
            }
            outln!(
                "  key fingerprint {} (check it with the key's owner by another channel)",
                done.fingerprint
            );
        }
    }
    Ok(if check.ok() { 0 } else { 1 })
}
