//! The findings as tables of plain (unescaped) text, shared by the
//! terminal, Markdown and HTML renderers, which escape each cell their way.

use super::report::{
    AuditReport, ControlResult, DeploymentOutcome, DocumentOutcome, ModelHistory, Reliance,
};
use super::view::level_names;

/// A table: a title, a header and rows of plain text.
pub struct Table {
    /// What the table shows.
    pub title: &'static str,
    /// Column names.
    pub header: Vec<&'static str>,
    /// Cells, one row a finding.
    pub rows: Vec<Vec<String>>,
}

fn sha(d: &str) -> String {
    format!("sha256:{d}")
}

/// The tables of one control's typed findings.
pub fn findings(c: &ControlResult) -> Vec<Table> {
    let mut tables = Vec::new();
    if !c.deployments.is_empty() {
        tables.push(Table {
            title: "Deployments",
            header: vec![
                "Model",
                "Deployed",
                "Target",
                "Deployment record",
                "Verification relied on",
                "Signer",
                "Policy",
                "Outcome",
            ],
            rows: c
                .deployments
                .iter()
                .map(|d| {
                    let v = d.verification.as_ref();
                    vec![
                        format!("{} ({})", d.model.name, sha(d.model.sha256)),
                        d.time.to_string(),
                        d.target.unwrap_or_default().to_string(),
                        sha(d.record),
                        v.map(|v| {
                            format!(
                                "{} {} at {} ({}){}",
                                sha(v.record()),
                                match v.result() {
                                    crate::evidence::record::VerificationResult::Passed => "PASSED",
                                    _ => "FAILED",
                                },
                                v.time(),
                                match d.reliance {
                                    Reliance::Named => "named by the deployment",
                                    _ => "latest before the deployment",
                                },
                                if v.levels().is_empty() {
                                    String::new()
                                } else {
                                    format!("; levels {}", level_names(v.levels()))
                                }
                            )
                        })
                        .unwrap_or_else(|| "none".into()),
                        v.map(|v| v.signer_text()).unwrap_or_default(),
                        v.map(|v| v.policy_text()).unwrap_or_default(),
                        deployment_outcome(d),
                    ]
                })
                .collect(),
        });
    }
    if !c.blocked.is_empty() {
        tables.push(Table {
            title: "Blocked by the gate (failed verification, never deployed)",
            header: vec![
                "Model",
                "Verification record",
                "Verified",
                "Signer",
                "Failures",
            ],
            rows: c
                .blocked
                .iter()
                .map(|b| {
                    vec![
                        format!("{} ({})", b.model.name, sha(b.model.sha256)),
                        sha(b.verification.record()),
                        b.verification.time().to_string(),
                        b.verification.signer_text(),
                        b.verification.failures().join("; "),
                    ]
                })
                .collect(),
        });
    }
    if !c.supply_chain.is_empty() {
        tables.push(Table {
            title: "Deployed models and their BOMs",
            header: vec![
                "Model",
                "Verification",
                "BOM",
                "Datasets (signed?)",
                "Base models",
                "Outcome",
            ],
            rows: c
                .supply_chain
                .iter()
                .map(|s| {
                    let bom = s.bom.as_ref();
                    vec![
                        format!("{} ({})", s.model.name, sha(s.model.sha256)),
                        s.verification
                            .as_ref()
                            .map(|v| format!("{} at {}", sha(v.record()), v.time()))
                            .unwrap_or_else(|| "none".into()),
                        bom.map(|b| {
                            format!(
                                "{}{}",
                                sha(&b.sha256),
                                b.record
                                    .as_deref()
                                    .map(|r| format!(" written by record {}", sha(r)))
                                    .unwrap_or_default()
                            )
                        })
                        .unwrap_or_else(|| "none".into()),
                        match bom.and_then(|b| b.datasets.as_ref()) {
                            None => "not recorded".into(),
                            Some(ds) if ds.is_empty() => "none".into(),
                            Some(ds) => ds
                                .iter()
                                .map(|d| {
                                    format!(
                                        "{} ({}): {}",
                                        d.name,
                                        d.sha256.as_deref().map(sha).unwrap_or_default(),
                                        d.signed_by_record
                                            .as_deref()
                                            .map(|r| format!("signed, record {}", sha(r)))
                                            .unwrap_or_else(|| "NOT signed".into())
                                    )
                                })
                                .collect::<Vec<_>>()
                                .join("; "),
                        },
                        match bom.and_then(|b| b.base_models.as_ref()) {
                            None => "not recorded".into(),
                            Some(bs) if bs.is_empty() => "none".into(),
                            Some(bs) => bs
                                .iter()
                                .map(|b| format!("{} (named only)", b.name))
                                .collect::<Vec<_>>()
                                .join("; "),
                        },
                        format!(
                            "{}{}",
                            if s.ok { "verified BOM" } else { "FAIL" },
                            if s.notes.is_empty() {
                                String::new()
                            } else {
                                format!(": {}", s.notes.join("; "))
                            }
                        ),
                    ]
                })
                .collect(),
        });
    }
    if !c.documents.is_empty() {
        tables.push(Table {
            title: "Documents relied on",
            header: vec![
                "Document",
                "Version",
                "SHA-256",
                "Reviewed",
                "Reviewer",
                "Next review",
                "For",
                "Record",
                "Outcome",
            ],
            rows: c
                .documents
                .iter()
                .map(|d| {
                    vec![
                        d.name.clone(),
                        d.version.clone().unwrap_or_else(|| "not given".into()),
                        sha(&d.sha256),
                        d.reviewed.to_string(),
                        d.reviewer.clone().unwrap_or_else(|| "none".into()),
                        d.next_review.map(|n| n.to_string()).unwrap_or_default(),
                        if d.models.is_empty() {
                            "the organisation".into()
                        } else {
                            d.models
                                .iter()
                                .map(|m| format!("{} ({})", m.name, sha(m.sha256)))
                                .collect::<Vec<_>>()
                                .join("; ")
                        },
                        sha(d.record),
                        document_outcome(&d.outcome, d.rehashed),
                    ]
                })
                .collect(),
        });
    }
    if !c.without_document.is_empty() {
        tables.push(Table {
            title: "Models no document speaks for",
            header: vec!["Model"],
            rows: c
                .without_document
                .iter()
                .map(|m| vec![format!("{} ({})", m.name, sha(m.sha256))])
                .collect(),
        });
    }
    tables
}

fn deployment_outcome(d: &super::report::DeploymentFinding) -> String {
    match &d.outcome {
        DeploymentOutcome::Verified => "verified before deployment".into(),
        DeploymentOutcome::NoVerification => "FAIL: no verification before it".into(),
        DeploymentOutcome::VerificationFailed => "FAIL: the verification failed".into(),
        DeploymentOutcome::MissingLevels { missing } => {
            format!("FAIL: not established: {}", level_names(missing))
        }
        DeploymentOutcome::PolicyNotAccepted => "FAIL: no accepted policy applied".into(),
        DeploymentOutcome::NamedVerificationInvalid { why } => format!("FAIL: {why}"),
    }
}

fn document_outcome(o: &DocumentOutcome, rehashed: bool) -> String {
    match o {
        DocumentOutcome::Current if rehashed => "current; the copy given matches".into(),
        DocumentOutcome::Current => "current (not re-hashed)".into(),
        DocumentOutcome::TooOld { age_days, max_days } => {
            format!("FAIL: reviewed {age_days} days ago, at most {max_days} allowed")
        }
        DocumentOutcome::ReviewOverdue => "FAIL: next review overdue".into(),
        DocumentOutcome::ReviewedInTheFuture => "FAIL: review date in the future".into(),
        DocumentOutcome::NoReviewer => "FAIL: no reviewer".into(),
        DocumentOutcome::Empty => "FAIL: the document is empty".into(),
        DocumentOutcome::Changed { found } => {
            format!("FAIL: the copy given differs (sha256:{found})")
        }
        DocumentOutcome::Missing => "FAIL: not among the documents given".into(),
        DocumentOutcome::Unreadable { why } => format!("FAIL: cannot be checked: {why}"),
    }
}

/// A model's timeline as a table.
pub fn timeline(m: &ModelHistory) -> Table {
    Table {
        title: "Timeline",
        header: vec!["#", "Time", "Event", "Detail", "Record"],
        rows: m
            .events
            .iter()
            .map(|e| {
                vec![
                    (e.index() + 1).to_string(),
                    e.time().to_string(),
                    e.kind().label().to_string(),
                    e.detail(),
                    sha(e.record()),
                ]
            })
            .collect(),
    }
}

/// A model's state in a word or two.
pub fn model_state(m: &ModelHistory) -> &'static str {
    match (m.deployed, m.blocked) {
        (true, _) => "deployed",
        (false, true) => "blocked by the gate",
        _ => "not deployed",
    }
}

/// The summary lines every report begins with (label, plain value).
pub fn summary(r: &AuditReport) -> Vec<(&'static str, String)> {
    let mut lines = vec![("Audit date", r.as_of.to_string())];
    if let Some(note) = &r.test_clock {
        lines.push(("TEST CLOCK", note.to_string()));
    }
    let d = &r.declaration;
    if let Some(p) = &d.period {
        lines.push((
            "Period",
            format!(
                "{} to {} (deployments and refusals before it are context, not judged)",
                p.from, p.to
            ),
        ));
    }
    if let Some(who) = &d.assessor {
        lines.push(("Assessor", who.clone()));
    }
    if let Some(at) = &d.generated_at {
        let exe = d
            .executable_sha256
            .as_deref()
            .map(|h| format!(", executable sha256:{h}"))
            .unwrap_or_default();
        lines.push(("Generated", format!("{at} by {}{exe}", r.tool)));
    }
    let scope = r
        .model
        .as_deref()
        .map(|m| format!("the model sha256:{m}"))
        .unwrap_or_else(|| "every model in the log".into());
    lines.extend([
        (
            "Scope",
            match &d.scope {
                Some(declared) => format!("{declared} ({scope})"),
                None => scope,
            },
        ),
        (
            "Checklist",
            format!(
                "{} (sha256:{}), {} controls",
                r.checklist.source, r.checklist.sha256, r.checklist.controls
            ),
        ),
        (
            "Not applicable",
            if r.checklist.not_applicable.is_empty() {
                "none".into()
            } else {
                r.checklist
                    .not_applicable
                    .iter()
                    .map(|n| format!("control {} ({}): {}", n.id, n.area, n.justification))
                    .collect::<Vec<_>>()
                    .join("; ")
            },
        ),
        (
            "Optional controls",
            if r.checklist.optional.is_empty() {
                "none".into()
            } else {
                r.checklist
                    .optional
                    .iter()
                    .map(u32::to_string)
                    .collect::<Vec<_>>()
                    .join(", ")
            },
        ),
        (
            "Evidence log",
            format!(
                "{}: {} records ({} counted), {}",
                r.log.path,
                r.log.records,
                r.log.counted,
                if r.log.intact {
                    "intact: every record signed, the Merkle root matches the signed checkpoint"
                } else {
                    "BROKEN"
                }
            ),
        ),
        (
            "Checkpoint relied on",
            match &r.log.checkpoint {
                Some(c) => format!("origin {}, size {}, root {}", c.origin, c.size, c.root),
                None => "none".into(),
            },
        ),
    ]);
    if let Some(c) = &r.log.consistency {
        lines.push(("Older checkpoint", c.clone()));
    }
    for p in &r.log.problems {
        lines.push(("Problem", p.clone()));
    }
    for t in &r.log.repairs {
        lines.push(("Repair pending", t.clone()));
    }
    for t in &r.log.time_findings {
        lines.push(("Time finding", t.clone()));
    }
    match (r.log.kept, r.log.witnesses.as_ref().and_then(|w| w.as_of.as_ref())) {
        (Some(_), Some(by)) => lines.push((
            "Records counted",
            match by.time {
                Some(time) => format!(
                    "the {} records inside the checkpoint the witnesses had cosigned by {time}, the latest witnessed by the audit date",
                    by.size
                ),
                None => "none: no checkpoint was witnessed by the audit date, so no record is known to have been in the log then".into(),
            },
        )),
        (Some(kept), None) => lines.push((
            "Records counted",
            format!("the {kept} records inside the kept checkpoint (a report re-run as issued)"),
        )),
        _ => {}
    }
    if let Some(w) = &r.log.witnesses {
        lines.push((
            "Witnesses",
            match (w.quorum, w.witnessed_size) {
                (true, Some(size)) => match w.trusted_time {
                    Some(time) => format!(
                        "the checkpoint of {size} records reaches the quorum, cosigned by {time} (its trusted time)"
                    ),
                    None => format!("the checkpoint of {size} records reaches the quorum"),
                },
                _ => format!(
                    "NOT WITNESSED: {}",
                    w.missing.as_deref().unwrap_or("the quorum is not reached")
                ),
            },
        ));
        for (name, time) in &w.cosignatures {
            lines.push(("Cosignature", format!("{name} at {time}")));
        }
        for p in &w.problems {
            lines.push(("Witness finding", p.clone()));
        }
    }
    if r.log.unbound > 0 {
        lines.push((
            "Unbound records",
            format!(
                "{} records written by release 0.2 or earlier do not name their log and place",
                r.log.unbound
            ),
        ));
    }
    lines.push((
        "Documents",
        match &r.documents {
            Some(d) => format!("re-hashed from {d}"),
            None => "not re-hashed (no documents directory given): digests as recorded".into(),
        },
    ));
    if let Some((start, end)) = &r.period {
        lines.push(("Evidence period", format!("{start} to {end}")));
    }
    lines.push(("Judged by", r.tool.clone()));
    lines.push((
        "Result",
        if r.failed() {
            let failing: Vec<String> = r
                .controls
                .iter()
                .filter(|c| c.fails_audit())
                .map(|c| c.control.id.to_string())
                .collect();
            if r.test_clock.is_some_and(|t| t.fails_audit()) && failing.is_empty() {
                "FAIL: records made under a test clock are counted".into()
            } else if failing.is_empty() {
                "FAIL: the evidence log does not verify".into()
            } else {
                format!(
                    "FAIL: required control(s) {} did not pass",
                    failing.join(", ")
                )
            }
        } else {
            "PASS: every required, applicable control passed".into()
        },
    ));
    lines
}
