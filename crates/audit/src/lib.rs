//! modelseal-audit: the checklist (data), evaluated against a checked evidence
//! log, and rendered for people (terminal, Markdown, HTML), programs (JSON)
//! and OSCAL tools. Renderers return strings; nothing here prints.
//!
//! ```no_run
//! use modelseal_audit::{AsOf, AuditInput, Checklist, evaluate, to_markdown};
//! use modelseal_evidence::verify_log;
//! # fn key() -> ed25519_dalek::VerifyingKey { unimplemented!() }
//! let list = Checklist::default_list();
//! let check = verify_log(std::path::Path::new("evidence.jsonl"), &key(), None)?;
//! let as_of = AsOf::parse("2026-12-01")?;
//! let clock = modelseal_core::clock::TimeSource::System;
//! let input = AuditInput::new(&list, &check, "evidence.jsonl", as_of, clock);
//! // The report borrows the records it shows from the check.
//! let report = evaluate(&input);
//! print!("{}", to_markdown(&report));
//! std::process::exit(if report.failed() { 1 } else { 0 });
//! # Ok::<(), modelseal_core::Error>(())
//! ```

#![forbid(unsafe_code)]
#![warn(missing_docs)]

// The crates this one builds on, under the names its paths use.
use modelseal_core::{Error, Result, VERSION, clock, fetch};
use modelseal_evidence as evidence;

mod as_of;
mod checklist;
mod deployments;
mod documents;
pub mod escape;
mod evaluate;
mod history;
mod html;
mod oscal;
mod render;
pub mod report;
mod signed;
mod supply_chain;
mod tables;
mod view;

pub use as_of::AsOf;
pub use checklist::{Checklist, Control, DEFAULT_CHECKLIST, EvidenceKind, Rule};
pub use evaluate::{AuditInput, evaluate, log_mentions};
pub use html::to_html;
pub use oscal::to_oscal;
pub use render::{to_human, to_markdown};
pub use report::{
    AuditReport, ControlResult, Declaration, DeclaredPeriod, Status, WitnessedAsOf, Witnessing,
};
pub use signed::{REPORT_PREDICATE_TYPE, sign_report};

/// The digests of the records cited, each once, in log order.
pub(crate) fn cite<'a>(view: &view::View<'a>, digests: Vec<&str>) -> Vec<&'a str> {
    let mut cited: Vec<(usize, &'a str)> = digests
        .into_iter()
        .filter_map(|d| view.record(d).map(|r| (r.index, r.digest.as_str())))
        .collect();
    cited.sort();
    cited.dedup();
    cited.into_iter().map(|(_, d)| d).collect()
}

/// How many items a control's reason names before it counts the rest:
/// the findings list every one, and a reason stays a paragraph.
pub(crate) const NAMED_IN_REASON: usize = 10;

/// `items` joined by `separator`, the first [`NAMED_IN_REASON`] of them,
/// then how many more there are. Only those named are made: a control
/// over a million records does not write a clause for each.
pub(crate) fn some_of<I>(items: I, separator: &str) -> String
where
    I: IntoIterator<Item = String>,
    I::IntoIter: ExactSizeIterator,
{
    let items = items.into_iter();
    let total = items.len();
    let named: Vec<String> = items.take(NAMED_IN_REASON).collect();
    let mut text = named.join(separator);
    if total > named.len() {
        text.push_str(&format!(
            "{separator}and {} more (each one in this control's findings)",
            total - named.len()
        ));
    }
    text
}

/// What a record is, in words, from its predicate type (every report
/// names records this way).
pub(crate) fn record_kind(predicate_type: &str) -> &'static str {
    use crate::evidence::record::{
        ATTACHMENT_PREDICATE, BOM_PREDICATE, DEPLOYMENT_PREDICATE, SIGN_PREDICATE, VSA_PREDICATE,
    };
    match predicate_type {
        SIGN_PREDICATE => "signing",
        BOM_PREDICATE => "ML-BOM",
        VSA_PREDICATE => "verification (SLSA VSA)",
        ATTACHMENT_PREDICATE => "reviewed document",
        DEPLOYMENT_PREDICATE => "deployment",
        _ => "record",
    }
}

/// A deterministic RFC 4122 version-5-shaped UUID from `parts`.
pub(crate) fn uuid(parts: &[&str]) -> String {
    use sha2::{Digest, Sha256};
    let mut h = Sha256::new();
    for p in parts {
        h.update(p.as_bytes());
        h.update([0u8]);
    }
    let d = h.finalize();
    let mut b = [0u8; 16];
    b.copy_from_slice(&d[..16]);
    b[6] = (b[6] & 0x0f) | 0x50;
    b[8] = (b[8] & 0x3f) | 0x80;
    let x = hex::encode(b);
    format!(
        "{}-{}-{}-{}-{}",
        &x[..8],
        &x[8..12],
        &x[12..16],
        &x[16..20],
        &x[20..]
    )
}

#[cfg(test)]
mod tests;
