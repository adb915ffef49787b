//! The audit as one self-contained HTML file: no external assets, no
//! scripts (a Content-Security-Policy forbids both), readable on screen
//! and printed. It holds the control matrix, the checkpoint relied on, each
//! control's reason with the evidence behind it (record digests), and a
//! timeline per model.

use super::AuditReport;
use super::escape::html as h;
use super::report::EventKind;
use super::tables::{self, Table};
use std::fmt::Write;

const STYLE: &str = r#"
:root { --pass: #1b7f3b; --fail: #b42318; --none: #b54708; --na: #667085; --recorded: #175cd3; --line: #d0d5dd; }
* { box-sizing: border-box; }
body { font: 15px/1.45 system-ui, -apple-system, "Segoe UI", Roboto, sans-serif; color: #101828; margin: 0 auto; max-width: 1200px; padding: 24px; background: #fff; }
h1 { font-size: 1.6em; margin: 0 0 8px; }
h2 { font-size: 1.25em; border-bottom: 2px solid var(--line); padding-bottom: 4px; margin-top: 32px; }
h3 { font-size: 1.05em; margin: 20px 0 6px; }
table { border-collapse: collapse; width: 100%; margin: 8px 0 12px; font-size: 0.9em; }
th, td { border: 1px solid var(--line); padding: 4px 6px; text-align: left; vertical-align: top; overflow-wrap: anywhere; }
th { background: #f2f4f7; }
dl.summary { display: grid; grid-template-columns: max-content 1fr; gap: 2px 16px; margin: 0; }
dl.summary dt { font-weight: 600; }
dl.summary dd { margin: 0; }
.digest, code { font-family: ui-monospace, "SFMono-Regular", Menlo, Consolas, monospace; font-size: 0.85em; word-break: break-all; }
.badge { display: inline-block; padding: 1px 8px; border-radius: 10px; color: #fff; font-weight: 600; font-size: 0.85em; white-space: nowrap; }
.pass { background: var(--pass); } .fail { background: var(--fail); } .no-evidence { background: var(--none); } .not-applicable { background: var(--na); }
.recorded-not-rechecked { background: var(--recorded); }
.verdict { font-size: 1.2em; font-weight: 700; padding: 10px 14px; border-radius: 6px; color: #fff; margin: 12px 0; }
.checkpoint { border: 2px solid #101828; padding: 8px 12px; border-radius: 6px; }
article.control { border-left: 4px solid var(--line); padding-left: 12px; margin: 18px 0; }
article.control.st-pass { border-color: var(--pass); } article.control.st-fail { border-color: var(--fail); }
article.control.st-no-evidence { border-color: var(--none); } article.control.st-not-applicable { border-color: var(--na); }
article.control.st-recorded-not-rechecked { border-color: var(--recorded); }
ol.timeline { list-style: none; padding-left: 0; border-left: 3px solid var(--line); margin-left: 8px; }
ol.timeline li { position: relative; padding: 2px 0 8px 18px; }
ol.timeline li::before { content: ""; position: absolute; left: -8px; top: 7px; width: 12px; height: 12px; border-radius: 50%; background: var(--na); }
ol.timeline li.ev-signed::before { background: #175cd3; } ol.timeline li.ev-bom::before { background: #6941c6; }
ol.timeline li.ev-verified::before { background: var(--pass); } ol.timeline li.ev-verification-failed::before { background: var(--fail); }
ol.timeline li.ev-deployed::before { background: #101828; }
.state { font-weight: 600; }
footer { margin-top: 40px; color: var(--na); font-size: 0.85em; }
a { color: #175cd3; }
.scroll { overflow-x: auto; }
@media (max-width: 900px) {
  body { padding: 12px; font-size: 14px; }
  dl.summary { grid-template-columns: 1fr; }
  dl.summary dd { margin-bottom: 6px; }
  table { font-size: 0.8em; }
}
@page {
  size: A4;
  margin: 18mm 14mm 20mm;
  @bottom-right { content: "Page " counter(page) " of " counter(pages); font: 9pt system-ui, sans-serif; color: #667085; }
  @bottom-left { content: "modelseal audit report"; font: 9pt system-ui, sans-serif; color: #667085; }
}
@media print {
  body { max-width: none; padding: 0; font-size: 10pt; }
  h2 { break-after: avoid; }
  article.control, table, .checkpoint, section.model { break-inside: avoid; }
  .badge, .verdict { -webkit-print-color-adjust: exact; print-color-adjust: exact; }
  a { color: inherit; text-decoration: none; }
}
"#;

/// The HTML report.
pub fn to_html(report: &AuditReport) -> String {
    let mut out = String::new();
    let _ = write!(
        out,
        "<!DOCTYPE html>\n<html lang=\"en\">\n<head>\n<meta charset=\"utf-8\">\n\
         <meta http-equiv=\"Content-Security-Policy\" content=\"default-src 'none'; style-src 'unsafe-inline'; img-src data:\">\n\
         <meta name=\"viewport\" content=\"width=device-width, initial-scale=1\">\n\
         <title>{}</title>\n<style>{STYLE}</style>\n</head>\n<body>\n",
        h(&report.title)
    );
    let cited = cited(report);
    let failed = report.failed();
    let _ = writeln!(
        out,
        "<header>\n<h1>{}</h1>\n<p class=\"verdict {}\" id=\"verdict\">{}</p>\n</header>",
        h(&report.title),
        if failed { "fail" } else { "pass" },
        if failed {
            "AUDIT FAILED"
        } else {
            "AUDIT PASSED"
        }
    );
    let _ = writeln!(
        out,
        "<section id=\"summary\">\n<h2>Summary</h2>\n<dl class=\"summary\">"
    );
    for (label, value) in tables::summary(report) {
        let _ = writeln!(out, "<dt>{}</dt><dd>{}</dd>", h(label), h(&value));
    }
    let _ = writeln!(out, "</dl>\n</section>");
    checkpoint(&mut out, report);
    matrix(&mut out, report);
    let _ = writeln!(
        out,
        "<section id=\"controls\">\n<h2>Findings and evidence</h2>"
    );
    for c in &report.controls {
        let token = c.status.token();
        let _ = writeln!(
            out,
            "<article class=\"control st-{token}\" id=\"control-{id}\">\n<h3>{id}. {area} <span class=\"badge {token}\">{label}</span></h3>",
            id = c.control.id,
            area = h(&c.control.area),
            label = c.status.label()
        );
        let _ = writeln!(
            out,
            "<dl class=\"summary\"><dt>Section</dt><dd>{}</dd><dt>Objective</dt><dd>{}</dd><dt>Test procedure</dt><dd>{}</dd><dt>Pass criterion</dt><dd>{}</dd><dt>Required</dt><dd>{}</dd></dl>",
            h(&c.control.section),
            h(&c.control.objective),
            h(&c.control.procedure),
            h(&c.control.criterion),
            if c.control.required { "yes" } else { "no" }
        );
        if let Some(why) = &c.control.not_applicable {
            let _ = writeln!(out, "<p><strong>Not applicable:</strong> {}</p>", h(why));
        }
        let _ = writeln!(out, "<p class=\"reason\">{}</p>", h(&c.reason));
        for table in tables::findings(c) {
            html_table(&mut out, &table);
        }
        if !c.evidence.is_empty() {
            let _ = writeln!(
                out,
                "<p>Records relied on (SHA-256 of the log line):</p>\n<ul class=\"records\">"
            );
            for e in &c.evidence {
                let _ = writeln!(out, "<li>{}</li>", record_link(&cited, e));
            }
            let _ = writeln!(out, "</ul>");
        }
        let _ = writeln!(out, "</article>");
    }
    let _ = writeln!(out, "</section>");
    models(&mut out, report, &cited);
    records(&mut out, report);
    let _ = writeln!(
        out,
        "<footer>Judged by {} from the evidence log {}, as of {}.</footer>\n</body>\n</html>",
        h(&report.tool),
        h(&report.log.path),
        h(&report.as_of.to_string())
    );
    out
}

fn checkpoint(out: &mut String, report: &AuditReport) {
    let _ = writeln!(
        out,
        "<section id=\"checkpoint\">\n<h2>Checkpoint relied on</h2>\n<div class=\"checkpoint\">"
    );
    match &report.log.checkpoint {
        Some(c) => {
            let _ = writeln!(
                out,
                "<dl class=\"summary\"><dt>Origin</dt><dd class=\"digest\">{}</dd><dt>Size</dt><dd>{}</dd><dt>Root</dt><dd class=\"digest\">{}</dd></dl>\n\
                 <p>Keep this checkpoint (the file beside the log, copied byte for byte): at the next audit, <code>modelseal evidence verify --checkpoint</code> proves the log only grew since.</p>",
                h(&c.origin),
                c.size,
                h(&c.root)
            );
        }
        None => {
            let _ = writeln!(
                out,
                "<p>No verified checkpoint: the log cannot be relied on.</p>"
            );
        }
    }
    if let Some(c) = &report.log.consistency {
        let _ = writeln!(out, "<p>{}</p>", h(c));
    }
    let _ = writeln!(out, "</div>\n</section>");
}

fn matrix(out: &mut String, report: &AuditReport) {
    let _ = writeln!(
        out,
        "<section id=\"matrix\">\n<h2>Control matrix</h2>\n<div class=\"scroll\"><table>\n<thead><tr><th>#</th><th>Control</th><th>Section</th><th>Required</th><th>Status</th></tr></thead>\n<tbody>"
    );
    for c in &report.controls {
        let token = c.status.token();
        let _ = writeln!(
            out,
            "<tr><td><a href=\"#control-{id}\">{id}</a></td><td><a href=\"#control-{id}\">{}</a></td><td>{}</td><td>{}</td><td id=\"status-{id}\" data-status=\"{token}\"><a href=\"#control-{id}\"><span class=\"badge {token}\">{}</span></a></td></tr>",
            h(&c.control.area),
            h(&c.control.section),
            if c.control.required { "yes" } else { "no" },
            c.status.label(),
            id = c.control.id,
        );
    }
    let _ = writeln!(out, "</tbody>\n</table></div>");
    if !report.checklist.not_applicable.is_empty() {
        let _ = writeln!(
            out,
            "<p>Not applicable according to the checklist:</p>\n<ul>"
        );
        for n in &report.checklist.not_applicable {
            let _ = writeln!(
                out,
                "<li>Control {} ({}): {}</li>",
                n.id,
                h(&n.area),
                h(&n.justification)
            );
        }
        let _ = writeln!(out, "</ul>");
    }
    let _ = writeln!(out, "</section>");
}

/// A digest shortened for reading (`sha256:` and 16 hex digits), the full
/// value kept in its title.
fn short(hex: &str) -> String {
    let cut: String = hex.chars().take(16).collect();
    let more = if hex.chars().count() > 16 { "…" } else { "" };
    format!(
        "<span class=\"digest\" title=\"sha256:{full}\">sha256:{cut}{more}</span>",
        full = h(hex),
        cut = h(&cut)
    )
}

/// A record cited by its digest: a link to its row in the records section
/// (its number there and its full digest), shortened here.
fn record_link(cited: &Cited<'_>, digest: &str) -> String {
    match cited.get(digest) {
        Some(index) => format!(
            "<a href=\"#record-{d}\">record {n}</a> {}",
            short(digest),
            d = h(digest),
            n = index + 1
        ),
        None => short(digest),
    }
}

/// The records the report cites, by digest: their log positions (a
/// report of a large log cites hundreds of thousands).
type Cited<'a> = std::collections::HashMap<&'a str, usize>;

fn cited<'a>(report: &AuditReport<'a>) -> Cited<'a> {
    report
        .records
        .iter()
        .map(|r| (r.digest(), r.index()))
        .collect()
}

/// Every cited record, with an anchor each: where the findings' links lead.
fn records(out: &mut String, report: &AuditReport) {
    let _ = writeln!(
        out,
        "<section id=\"records\">\n<h2>Records relied on</h2>\n<div class=\"scroll\"><table>\n<thead><tr><th>#</th><th>Time</th><th>Kind</th><th>About</th><th>SHA-256 of the log line</th></tr></thead>\n<tbody>"
    );
    for r in &report.records {
        let _ = writeln!(
            out,
            "<tr id=\"record-{d}\"><td>{n}</td><td>{t}</td><td>{k}</td><td>{name} {about}</td><td class=\"digest\">{d}</td></tr>",
            d = h(r.digest()),
            n = r.index() + 1,
            t = r.time(),
            k = crate::record_kind(r.predicate_type()),
            name = h(r.subject().name),
            about = short(r.subject().sha256),
        );
    }
    let _ = writeln!(out, "</tbody>\n</table></div>\n</section>");
}

fn models(out: &mut String, report: &AuditReport, cited: &Cited<'_>) {
    let (datasets, models): (Vec<_>, Vec<_>) = report.models.iter().partition(|m| m.dataset);
    let _ = writeln!(out, "<section id=\"models\">\n<h2>Models</h2>");
    if models.is_empty() {
        let _ = writeln!(out, "<p>No model is named by a counted record.</p>");
    }
    history(out, cited, &models);
    let _ = writeln!(out, "</section>");
    if !datasets.is_empty() {
        let _ = writeln!(out, "<section id=\"datasets\">\n<h2>Datasets</h2>");
        history(out, cited, &datasets);
        let _ = writeln!(out, "</section>");
    }
}

fn history(out: &mut String, cited: &Cited<'_>, models: &[&super::report::ModelHistory]) {
    for m in models {
        let _ = writeln!(
            out,
            "<section class=\"model\">\n<h3>{} {}</h3>\n<p class=\"state\">{}</p>\n<ol class=\"timeline\">",
            h(m.model.name),
            short(m.model.sha256),
            tables::model_state(m)
        );
        for e in &m.events {
            let class = match e.kind() {
                EventKind::Signed => "signed",
                EventKind::Bom => "bom",
                EventKind::Verified => "verified",
                EventKind::VerificationFailed => "verification-failed",
                EventKind::Deployed => "deployed",
            };
            let _ = writeln!(
                out,
                "<li class=\"ev-{class}\"><strong>{}</strong> {} — record {} at {}<br>{}</li>",
                e.kind().label(),
                h(&e.detail()),
                e.index() + 1,
                e.time(),
                match cited.contains_key(e.record()) {
                    true => format!(
                        "<a href=\"#record-{d}\">{}</a>",
                        short(e.record()),
                        d = h(e.record())
                    ),
                    false => short(e.record()),
                }
            );
        }
        if m.blocked {
            let _ = writeln!(
                out,
                "<li class=\"ev-verification-failed\"><strong>blocked</strong>: its latest verification failed and it was never deployed</li>"
            );
        }
        let _ = writeln!(out, "</ol>\n</section>");
    }
}

fn html_table(out: &mut String, table: &Table) {
    let _ = writeln!(
        out,
        "<h4>{}</h4>\n<div class=\"scroll\"><table>\n<thead><tr>",
        h(table.title)
    );
    for name in &table.header {
        let _ = write!(out, "<th>{}</th>", h(name));
    }
    let _ = writeln!(out, "</tr></thead>\n<tbody>");
    for row in &table.rows {
        let _ = write!(out, "<tr>");
        for cell in row {
            let _ = write!(out, "<td>{}</td>", h(cell));
        }
        let _ = writeln!(out, "</tr>");
    }
    let _ = writeln!(out, "</tbody>\n</table></div>");
}
