//! Document controls (1, 2, 3, 5, 6 and 8 of the shipped checklist): a
//! reviewed document attached to the control must be current.
//!
//! A document attached without `--model` speaks for the organisation and
//! so for every model; one attached with `--model` speaks for that model
//! only. Auditing one model, the latest-reviewed document that speaks for
//! it decides; auditing every model, each deployed model needs one (with
//! no deployment, an organisation-wide document decides). A document is
//! current when a reviewer is named, its review is not after the audit
//! date, not older than the control's `max_age_days`, and its next review
//! is not past due. Given the documents (`--documents DIR`), each relied
//! on is re-hashed, by its recorded file name, and must match.

use super::report::{ControlResult, DocumentFinding, DocumentOutcome, ModelRef, Status};
use super::view::{View, named};
use super::{AsOf, Control, cite};
use crate::evidence::Record;
use crate::evidence::record::{AttachmentEvidence, Predicate};
use crate::fetch::{InputKind, open_file};
use std::path::{Component, Path};

/// Judges a document control.
pub(crate) fn judge<'a>(
    control: &Control,
    view: &View<'a>,
    as_of: &AsOf,
    documents: Option<&Path>,
) -> ControlResult<'a> {
    let attached: Vec<(&Record, &AttachmentEvidence)> = view
        .records
        .iter()
        .filter_map(|r| match &r.predicate {
            Predicate::Attachment(a) if a.control == control.id => Some((*r, &**a)),
            _ => None,
        })
        .collect();
    // Who needs a document: the model audited, every deployed model, or
    // (nothing deployed) the organisation.
    let units: Vec<Option<&'a str>> = match view.model {
        Some(m) => vec![Some(m)],
        None => {
            let deployed = view.deployed_models();
            if deployed.is_empty() {
                vec![None]
            } else {
                deployed.into_iter().map(Some).collect()
            }
        }
    };
    // The latest document for the organisation, and for each model it
    // names: one pass over the attachments, then one look-up per unit.
    fn newest(a: &(&Record, &AttachmentEvidence)) -> (jiff::civil::Date, usize) {
        (a.1.reviewed, a.0.index)
    }
    let mut for_all: Option<(&Record, &AttachmentEvidence)> = None;
    let mut for_model: std::collections::HashMap<&str, (&Record, &AttachmentEvidence)> =
        std::collections::HashMap::new();
    for entry in &attached {
        let slot = match &entry.1.model {
            None => &mut for_all,
            Some(scope) => {
                let key = scope.trim_start_matches("sha256:");
                let slot = for_model.entry(key).or_insert(*entry);
                if newest(entry) > newest(slot) {
                    *slot = *entry;
                }
                continue;
            }
        };
        if slot.is_none_or(|s| newest(entry) > newest(&s)) {
            *slot = Some(*entry);
        }
    }
    let mut findings: Vec<DocumentFinding> = Vec::new();
    let mut finding_of: std::collections::HashMap<&str, usize> = std::collections::HashMap::new();
    let mut without: Vec<ModelRef> = Vec::new();
    for unit in &units {
        let scoped = unit.and_then(|m| for_model.get(m).copied());
        let latest = [for_all, scoped].into_iter().flatten().max_by_key(newest);
        let model = unit.map(|m| view.model_ref(m));
        let Some((r, a)) = latest else {
            without.extend(model);
            continue;
        };
        if let Some(&at) = finding_of.get(r.digest.as_str()) {
            findings[at].models.extend(model);
            continue;
        }
        let mut finding = document(control, r, a, as_of, documents);
        finding.models.extend(model);
        finding_of.insert(&r.digest, findings.len());
        findings.push(finding);
    }
    let bad: Vec<&DocumentFinding> = findings
        .iter()
        .filter(|f| f.outcome != DocumentOutcome::Current)
        .collect();
    let missing = if without.is_empty() {
        String::new()
    } else {
        format!(
            "no reviewed document speaks for {}",
            crate::some_of(without.iter().map(named), ", ")
        )
    };
    // One status for one situation: a model no document speaks for is "no
    // evidence", whether it is audited alone or beside models that have
    // one; a document that falls short fails the control either way.
    let (status, reason) = if findings.is_empty() {
        (
            Status::NoEvidence,
            if without.is_empty() {
                "No reviewed document is attached to this control.".to_string()
            } else {
                format!("No reviewed document is attached to this control: {missing}.")
            },
        )
    } else if bad.is_empty() && !without.is_empty() {
        (
            Status::NoEvidence,
            format!(
                "{}; but {missing}.",
                crate::some_of(findings.iter().map(explain), "; ")
            ),
        )
    } else if bad.is_empty() && without.is_empty() && documents.is_none() {
        (
            Status::RecordedNotRechecked,
            format!(
                "{}; recorded, not re-checked: the documents were not given to this audit to compare with their recorded digests.",
                crate::some_of(findings.iter().map(explain), "; ")
            ),
        )
    } else if bad.is_empty() && without.is_empty() {
        (
            Status::Pass,
            format!("{}.", crate::some_of(findings.iter().map(explain), "; ")),
        )
    } else {
        let mut why = crate::some_of(bad.iter().map(|f| explain(f)), "; ");
        if !missing.is_empty() {
            if !why.is_empty() {
                why.push_str("; ");
            }
            why.push_str(&missing);
        }
        (Status::Fail, format!("{why}."))
    };
    let mut result = ControlResult::new(control, status, reason);
    result.evidence = cite(view, findings.iter().map(|f| f.record).collect());
    result.documents = findings;
    result.without_document = without;
    result
}

/// One attached document, judged as of the audit date.
fn document<'a>(
    control: &Control,
    r: &'a Record,
    a: &AttachmentEvidence,
    as_of: &AsOf,
    documents: Option<&Path>,
) -> DocumentFinding<'a> {
    let max = control.rule.max_age_days;
    let next_review = a.next_review.or_else(|| {
        max.and_then(|days| {
            let days = i64::try_from(days).ok()?;
            a.reviewed
                .checked_add(jiff::Span::new().try_days(days).ok()?)
                .ok()
        })
    });
    let sha256 = a
        .document
        .digest
        .get("sha256")
        .map(|d| d.to_ascii_lowercase())
        .unwrap_or_default();
    let age_days = as_of
        .date
        .since(a.reviewed)
        .map(|s| i64::from(s.get_days()))
        .unwrap_or(i64::MAX);
    let recorded = a.recorded_at.to_zoned(jiff::tz::TimeZone::UTC).date();
    let mut rehashed = false;
    let outcome = if a.reviewer.as_deref().is_none_or(|r| r.trim().is_empty()) {
        DocumentOutcome::NoReviewer
    } else if a.document.size == 0 {
        DocumentOutcome::Empty
    } else if a.reviewed > as_of.date || a.reviewed > recorded {
        DocumentOutcome::ReviewedInTheFuture
    } else if let Some(max_days) = max.filter(|m| age_days > i64::try_from(*m).unwrap_or(i64::MAX))
    {
        DocumentOutcome::TooOld { age_days, max_days }
    } else if next_review.is_some_and(|n| n < as_of.date) {
        DocumentOutcome::ReviewOverdue
    } else if let Some(dir) = documents {
        rehashed = true;
        rehash(dir, &a.document.name, &sha256)
    } else {
        DocumentOutcome::Current
    };
    DocumentFinding {
        record: &r.digest,
        index: r.index,
        name: a.document.name.clone(),
        sha256,
        version: a.version.clone(),
        reviewer: a.reviewer.clone(),
        reviewed: a.reviewed,
        next_review,
        scope: a.model.clone(),
        models: Vec::new(),
        rehashed,
        outcome,
    }
}

/// Hashes the auditor's copy `dir/name` and compares it with `sha256`.
/// The recorded name is untrusted: only a plain file name is looked up.
fn rehash(dir: &Path, name: &str, sha256: &str) -> DocumentOutcome {
    let plain = {
        let mut parts = Path::new(name).components();
        matches!(parts.next(), Some(Component::Normal(_)))
            && parts.next().is_none()
            && !name.contains(['/', '\\'])
    };
    if !plain {
        return DocumentOutcome::Unreadable {
            why: "the recorded file name is not a plain file name, so it is not looked up".into(),
        };
    }
    let path = dir.join(name);
    let mut input = match open_file(&path, InputKind::Document) {
        Ok(input) => input,
        Err(e) if e.is_not_found() => return DocumentOutcome::Missing,
        Err(e) => return DocumentOutcome::Unreadable { why: e.to_string() },
    };
    let mut hasher = <sha2::Sha256 as sha2::Digest>::new();
    let mut buf = vec![0u8; 64 << 10];
    loop {
        match std::io::Read::read(&mut input, &mut buf) {
            Ok(0) => break,
            Ok(n) => sha2::Digest::update(&mut hasher, &buf[..n]),
            Err(e) if e.kind() == std::io::ErrorKind::Interrupted => {}
            Err(e) => return DocumentOutcome::Unreadable { why: e.to_string() },
        }
    }
    let found = hex::encode(sha2::Digest::finalize(hasher));
    if found == sha256 {
        DocumentOutcome::Current
    } else {
        DocumentOutcome::Changed { found }
    }
}

/// A document finding in one clause.
fn explain(f: &DocumentFinding) -> String {
    let version = f
        .version
        .as_deref()
        .map(|v| format!(" version {v}"))
        .unwrap_or_default();
    let what = format!(
        "{}{version} (sha256:{}, record {})",
        f.name, f.sha256, f.record
    );
    let reviewer = f.reviewer.as_deref().unwrap_or("no one");
    match &f.outcome {
        DocumentOutcome::Current => format!(
            "{what} reviewed on {} by {reviewer}{}{}",
            f.reviewed,
            f.next_review
                .map(|n| format!(", next review due {n}"))
                .unwrap_or_default(),
            if f.rehashed {
                ", and the copy given matches"
            } else {
                ""
            }
        ),
        DocumentOutcome::TooOld { age_days, max_days } => format!(
            "{what} was last reviewed on {}, {age_days} days before the audit date; at most {max_days} allowed",
            f.reviewed
        ),
        DocumentOutcome::ReviewOverdue => format!(
            "{what} was due for review on {}",
            f.next_review.map(|d| d.to_string()).unwrap_or_default()
        ),
        DocumentOutcome::ReviewedInTheFuture => format!(
            "{what} has a review date ({}) after the audit date or after it was recorded",
            f.reviewed
        ),
        DocumentOutcome::NoReviewer => format!("{what} names no reviewer"),
        DocumentOutcome::Empty => format!("{what} is empty (0 bytes): nothing was reviewed"),
        DocumentOutcome::Changed { found } => {
            format!("{what}: the copy given has sha256:{found}, not the digest recorded")
        }
        DocumentOutcome::Missing => format!("{what}: no document of that name was given"),
        DocumentOutcome::Unreadable { why } => format!("{what}: cannot be checked: {why}"),
    }
}
