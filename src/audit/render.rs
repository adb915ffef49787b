//! The audit for people: a terminal table and a Markdown report.

use super::AuditReport;
use std::fmt::Write;

/// A table, one control a line, then the reasons.
pub fn to_human(report: &AuditReport) -> String {
    let mut out = String::new();
    let _ = writeln!(out, "{} (as of {})", report.title, report.as_of);
    let log = &report.log;
    let _ = writeln!(
        out,
        "evidence log: {} ({} records, {})",
        log.path,
        log.records,
        if log.intact { "intact" } else { "BROKEN" }
    );
    for p in &log.problems {
        let _ = writeln!(out, "  problem: {p}");
    }
    let _ = writeln!(
        out,
        "\n{:>3}  {:38} {:12} reason",
        "id", "control", "status"
    );
    for c in &report.controls {
        let _ = writeln!(
            out,
            "{:>3}  {:38} {:12} {}",
            c.control.id,
            c.control.area,
            c.status.label(),
            c.reason
        );
    }
    out
}

/// An auditor's report in Markdown; every finding cites the digests of the
/// records that support it.
pub fn to_markdown(report: &AuditReport) -> String {
    let mut out = String::new();
    let _ = writeln!(out, "# {}\n", report.title);
    let _ = writeln!(out, "- Audit date: {}", report.as_of);
    let _ = writeln!(
        out,
        "- Model: {}",
        report
            .model
            .as_deref()
            .map(|m| format!("sha256:{m}"))
            .unwrap_or("all models in the log".into())
    );
    let _ = writeln!(
        out,
        "- Evidence log: `{}`, {} records, {}",
        report.log.path,
        report.log.records,
        if report.log.intact {
            "intact (every record signed, Merkle root matches the signed checkpoint)"
        } else {
            "**broken**"
        }
    );
    if let Some((size, root)) = &report.log.checkpoint {
        let _ = writeln!(out, "- Checkpoint: size {size}, root `{root}`");
    }
    for p in &report.log.problems {
        let _ = writeln!(out, "- Problem: {p}");
    }
    let _ = writeln!(out, "\n| # | Control | Status |\n|---|---|---|");
    for c in &report.controls {
        let _ = writeln!(
            out,
            "| {} | {} | {} |",
            c.control.id,
            c.control.area,
            c.status.label()
        );
    }
    for c in &report.controls {
        let _ = writeln!(out, "\n## {}. {}\n", c.control.id, c.control.area);
        let _ = writeln!(out, "- Section: {}", c.control.section);
        let _ = writeln!(out, "- Objective: {}", c.control.objective);
        let _ = writeln!(out, "- Test procedure: {}", c.control.procedure);
        let _ = writeln!(out, "- Pass criterion: {}", c.control.criterion);
        let _ = writeln!(out, "- **Result: {}** — {}", c.status.label(), c.reason);
        if !c.evidence.is_empty() {
            let _ = writeln!(out, "- Supporting records (SHA-256 of the log line):");
            for e in &c.evidence {
                let _ = writeln!(out, "  - `{e}`");
            }
        }
    }
    out
}
