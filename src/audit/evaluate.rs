//! Evaluating each control of a checklist against the evidence records.

use super::{Checklist, Control, EvidenceKind};
use crate::evidence::LogCheck;
use crate::evidence::record::{
    AttachmentEvidence, Predicate, Record, VerificationResult, VerificationSummary, VerifiedLevel,
};
use serde::Serialize;
use std::collections::BTreeSet;

/// A control's outcome.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(rename_all = "kebab-case")]
pub enum Status {
    /// The evidence satisfies the control.
    Pass,
    /// The evidence shows the control is not met.
    Fail,
    /// Nothing in the log speaks to the control.
    NoEvidence,
}

impl Status {
    /// `pass`, `fail`, `no evidence`.
    pub fn label(self) -> &'static str {
        match self {
            Status::Pass => "pass",
            Status::Fail => "fail",
            Status::NoEvidence => "no evidence",
        }
    }
}

/// One control, judged.
#[derive(Debug, Clone, Serialize)]
pub struct ControlResult {
    /// The control as the checklist states it.
    #[serde(flatten)]
    pub control: Control,
    /// The outcome.
    pub status: Status,
    /// Why.
    pub reason: String,
    /// Digests (hex SHA-256 of the log lines) of the records relied on.
    pub evidence: Vec<String>,
}

/// The log as the audit saw it.
#[derive(Debug, Clone, Serialize)]
pub struct LogSummary {
    /// The log file.
    pub path: String,
    /// Lines in the log.
    pub records: usize,
    /// Whether every record and the checkpoint verified.
    pub intact: bool,
    /// What is wrong with it.
    pub problems: Vec<String>,
    /// Size and root (hex) of the verified checkpoint.
    pub checkpoint: Option<(u64, String)>,
}

/// A whole audit.
#[derive(Debug, Clone, Serialize)]
pub struct AuditReport {
    /// The plan's title.
    pub title: String,
    /// The audit date.
    pub as_of: String,
    /// The model audited (all models when absent).
    pub model: Option<String>,
    /// The evidence log.
    pub log: LogSummary,
    /// Every control.
    pub controls: Vec<ControlResult>,
}

impl AuditReport {
    /// Whether a required control failed.
    pub fn failed(&self) -> bool {
        self.controls
            .iter()
            .any(|c| c.control.required && c.status == Status::Fail)
    }
}

fn result(
    control: &Control,
    status: Status,
    reason: String,
    evidence: Vec<String>,
) -> ControlResult {
    ControlResult {
        control: control.clone(),
        status,
        reason,
        evidence,
    }
}

/// Evaluates `list` against the checked log, for `model` (hex SHA-256 root
/// digest) or every model in the log, as of `as_of`.
pub fn evaluate(
    list: &Checklist,
    check: &LogCheck,
    log_path: &str,
    model: Option<&str>,
    as_of: jiff::Timestamp,
) -> AuditReport {
    let records: Vec<&Record> = check.records.iter().filter(|r| r.time() <= as_of).collect();
    let model = model.map(|m| m.trim_start_matches("sha256:").to_ascii_lowercase());
    let controls = list
        .controls
        .iter()
        .map(|control| {
            if !check.ok() {
                let more = if check.problems.len() > 1 {
                    format!(" (+{} more)", check.problems.len() - 1)
                } else {
                    String::new()
                };
                return result(
                    control,
                    Status::Fail,
                    format!(
                        "the evidence log does not verify: {}{more}",
                        check.problems[0]
                    ),
                    Vec::new(),
                );
            }
            match control.rule.evidence {
                EvidenceKind::Attachment => attachment(control, &records, as_of),
                EvidenceKind::Verification => verification(control, &records, model.as_deref()),
            }
        })
        .collect();
    AuditReport {
        title: list.title.clone(),
        as_of: as_of.to_string(),
        model,
        log: LogSummary {
            path: log_path.to_string(),
            records: check.lines,
            intact: check.ok(),
            problems: check.problems.clone(),
            checkpoint: check
                .checkpoint
                .as_ref()
                .map(|c| (c.size, hex::encode(c.root))),
        },
        controls,
    }
}

fn attachment(control: &Control, records: &[&Record], as_of: jiff::Timestamp) -> ControlResult {
    let reviewed = |a: &AttachmentEvidence| -> Option<jiff::Timestamp> {
        a.reviewed
            .to_zoned(jiff::tz::TimeZone::UTC)
            .ok()
            .map(|z| z.timestamp())
    };
    let latest = records
        .iter()
        .filter_map(|r| match &r.predicate {
            Predicate::Attachment(a) if a.control == control.id => Some((a, *r)),
            _ => None,
        })
        .filter_map(|(a, r)| reviewed(a).map(|t| (t, a, r)))
        .max_by_key(|(t, _, _)| *t);
    let Some((when, attached, record)) = latest else {
        return result(
            control,
            Status::NoEvidence,
            "no reviewed document is attached".into(),
            Vec::new(),
        );
    };
    let doc = &attached.document.name;
    let date = attached.reviewed;
    let reviewer = attached.reviewer.as_deref().unwrap_or("unnamed reviewer");
    let age = (as_of.as_second() - when.as_second()) / 86_400;
    if let Some(max) = control.rule.max_age_days
        && age > max as i64
    {
        return result(
            control,
            Status::Fail,
            format!(
                "{doc} was last reviewed on {date}, {age} days before the audit date; at most {max} allowed"
            ),
            vec![record.digest.clone()],
        );
    }
    result(
        control,
        Status::Pass,
        format!(
            "{doc} (sha256:{}) reviewed on {date} by {reviewer}",
            record.subject.sha256
        ),
        vec![record.digest.clone()],
    )
}

fn vsa(r: &Record) -> Option<&VerificationSummary> {
    match &r.predicate {
        Predicate::Verification(v) => Some(v),
        _ => None,
    }
}

fn verification(control: &Control, records: &[&Record], model: Option<&str>) -> ControlResult {
    let models: BTreeSet<String> = match model {
        Some(m) => BTreeSet::from([m.to_string()]),
        None => records
            .iter()
            .filter(|r| !matches!(r.predicate, Predicate::Attachment(_)))
            .map(|r| r.subject.sha256.clone())
            .collect(),
    };
    if models.is_empty() {
        return result(
            control,
            Status::NoEvidence,
            "no model has been signed or verified".into(),
            Vec::new(),
        );
    }
    let wanted: BTreeSet<VerifiedLevel> = control.rule.levels.iter().copied().collect();
    let names = |levels: &[VerifiedLevel]| -> Vec<String> {
        levels
            .iter()
            .map(|l| {
                serde_json::to_value(l)
                    .ok()
                    .and_then(|v| v.as_str().map(str::to_string))
                    .unwrap_or_default()
            })
            .collect()
    };
    let wanted_names = names(&control.rule.levels);
    let mut failures = Vec::new();
    let mut passes = Vec::new();
    let mut evidence = Vec::new();
    for m in &models {
        let mine: Vec<&&Record> = records.iter().filter(|r| &r.subject.sha256 == m).collect();
        if mine.is_empty() {
            continue;
        }
        let vsas: Vec<(&&Record, &VerificationSummary)> = mine
            .iter()
            .copied()
            .filter_map(|r| vsa(r).map(|v| (r, v)))
            .collect();
        let passing: Vec<&&Record> = vsas
            .iter()
            .filter(|(_, v)| {
                v.verification_result == VerificationResult::Passed
                    && v.verified_levels
                        .iter()
                        .copied()
                        .collect::<BTreeSet<_>>()
                        .is_superset(&wanted)
            })
            .map(|(r, _)| *r)
            .collect();
        let short: String = m.chars().take(16).collect();
        if let Some(first) = passing.iter().map(|r| r.time()).min() {
            let early: Vec<&&Record> = mine
                .iter()
                .copied()
                .filter(|r| matches!(r.predicate, Predicate::Deployment(_)) && r.time() < first)
                .collect();
            if control.rule.before_deployment && !early.is_empty() {
                failures.push(format!(
                    "sha256:{short}… was deployed at {} before it was first verified at {first}",
                    early[0].time()
                ));
                evidence.extend(early.iter().map(|r| r.digest.clone()));
            } else {
                passes.push(format!(
                    "sha256:{short}… verified at {first} ({})",
                    wanted_names.join(", ")
                ));
                evidence.extend(passing.iter().map(|r| r.digest.clone()));
            }
        } else {
            let last_failure = vsas
                .iter()
                .filter(|(_, v)| v.verification_result == VerificationResult::Failed)
                .max_by_key(|(r, _)| r.time())
                .map(|(r, v)| {
                    evidence.push(r.digest.clone());
                    format!("; its last verification failed: {}", v.failures.join("; "))
                })
                .unwrap_or_default();
            failures.push(format!(
                "sha256:{short}… has no PASSED verification with {}{last_failure}",
                wanted_names.join(" and ")
            ));
        }
    }
    if !failures.is_empty() {
        result(control, Status::Fail, failures.join("; "), evidence)
    } else if passes.is_empty() {
        result(
            control,
            Status::NoEvidence,
            "no records about this model".into(),
            Vec::new(),
        )
    } else {
        result(control, Status::Pass, passes.join("; "), evidence)
    }
}
