//! The audit for people: a terminal report and a Markdown report. Every
//! piece of text that came from the log or the file system is escaped for
//! its medium (see [`super::escape`]).

use super::AuditReport;
use super::escape;
use super::tables::{self, Table};
use std::fmt::Write;

/// The terminal report: the summary, the control matrix, then each
/// control's reason and findings, then each model's history.
pub fn to_human(report: &AuditReport) -> String {
    let t = |s: &str| escape::text(s).into_owned();
    let mut out = String::new();
    let _ = writeln!(out, "{}", t(&report.title));
    for (label, value) in tables::summary(report) {
        let _ = writeln!(out, "{label}: {}", t(&value));
    }
    let _ = writeln!(
        out,
        "\n{:>3}  {:38} {:9} status",
        "id", "control", "required"
    );
    for c in &report.controls {
        let _ = writeln!(
            out,
            "{:>3}  {:38} {:9} {}",
            c.control.id,
            t(&c.control.area),
            if c.control.required { "yes" } else { "no" },
            c.status.label()
        );
    }
    for c in &report.controls {
        let _ = writeln!(
            out,
            "\n{}. {}: {}\n   {}",
            c.control.id,
            t(&c.control.area),
            c.status.label(),
            t(&c.reason)
        );
        for table in tables::findings(c) {
            human_table(&mut out, &table);
        }
        if !c.evidence.is_empty() {
            let _ = writeln!(out, "   records relied on (SHA-256 of the log line):");
            for e in &c.evidence {
                let _ = writeln!(out, "     sha256:{}", t(e));
            }
        }
    }
    if !report.models.is_empty() {
        let _ = writeln!(out, "\nModels");
        for m in &report.models {
            let _ = writeln!(
                out,
                "\n  {} (sha256:{}): {}",
                t(m.model.name),
                t(m.model.sha256),
                tables::model_state(m)
            );
            for row in tables::timeline(m).rows {
                let _ = writeln!(
                    out,
                    "    {}",
                    row.iter().map(|c| t(c)).collect::<Vec<_>>().join("  ")
                );
            }
        }
    }
    out
}

fn human_table(out: &mut String, table: &Table) {
    let _ = writeln!(out, "   {}:", table.title);
    for row in &table.rows {
        let _ = writeln!(out, "   -");
        for (name, cell) in table.header.iter().zip(row) {
            if !cell.is_empty() {
                let _ = writeln!(out, "     {name}: {}", escape::text(cell));
            }
        }
    }
}

/// An auditor's report in Markdown (GitHub-flavoured tables); every
/// finding cites the digests of the records that support it.
pub fn to_markdown(report: &AuditReport) -> String {
    let m = escape::markdown;
    let mut out = String::new();
    let _ = writeln!(out, "# {}\n", m(&report.title));
    for (label, value) in tables::summary(report) {
        let _ = writeln!(out, "- **{label}:** {}", m(&value));
    }
    let _ = writeln!(
        out,
        "\n## Control matrix\n\n| # | Control | Required | Status |\n|---|---|---|---|"
    );
    for c in &report.controls {
        let _ = writeln!(
            out,
            "| {} | {} | {} | **{}** |",
            c.control.id,
            m(&c.control.area),
            if c.control.required { "yes" } else { "no" },
            c.status.label()
        );
    }
    for c in &report.controls {
        let _ = writeln!(out, "\n## {}. {}\n", c.control.id, m(&c.control.area));
        let _ = writeln!(out, "- Section: {}", m(&c.control.section));
        let _ = writeln!(out, "- Objective: {}", m(&c.control.objective));
        let _ = writeln!(out, "- Test procedure: {}", m(&c.control.procedure));
        let _ = writeln!(out, "- Pass criterion: {}", m(&c.control.criterion));
        if let Some(why) = &c.control.not_applicable {
            let _ = writeln!(out, "- Not applicable: {}", m(why));
        }
        let _ = writeln!(out, "- **Result: {}** — {}", c.status.label(), m(&c.reason));
        for table in tables::findings(c) {
            markdown_table(&mut out, &table);
        }
        if !c.evidence.is_empty() {
            let _ = writeln!(out, "\nSupporting records (SHA-256 of the log line):\n");
            for e in &c.evidence {
                let _ = writeln!(out, "- sha256:{}", m(e));
            }
        }
    }
    if !report.models.is_empty() {
        let _ = writeln!(out, "\n## Models\n");
        for model in &report.models {
            let _ = writeln!(
                out,
                "\n### {} (sha256:{}): {}\n",
                m(model.model.name),
                m(model.model.sha256),
                tables::model_state(model)
            );
            markdown_table(&mut out, &tables::timeline(model));
        }
    }
    out
}

fn markdown_table(out: &mut String, table: &Table) {
    let _ = writeln!(out, "\n{}:\n", table.title);
    let _ = writeln!(out, "| {} |", table.header.join(" | "));
    let _ = writeln!(
        out,
        "|{}",
        table.header.iter().map(|_| "---|").collect::<String>()
    );
    for row in &table.rows {
        let _ = writeln!(
            out,
            "| {} |",
            row.iter()
                .map(|c| escape::markdown(c))
                .collect::<Vec<_>>()
                .join(" | ")
        );
    }
}
