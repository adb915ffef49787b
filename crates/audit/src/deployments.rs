//! Verification controls judged per deployment (control 7): each
//! deployment must have relied on a passing verification of the model that
//! established the required levels (and, when the checklist names
//! policies, applied one of them). A model that failed verification and
//! was never deployed is the gate working: it is listed as blocked and
//! does not fail the control.

use super::report::{
    BlockedModel, ControlResult, DeploymentFinding, DeploymentOutcome, NamedVerificationError,
    RefusalRef, Reliance, Status, VerificationRef,
};
use super::view::{View, level_names, named, vsa};
use super::{Control, cite};
use crate::evidence::Record;
use crate::evidence::record::{DeploymentEvidence, VerificationResult, VerificationSummary};

/// Judges `control` over every deployment in scope.
pub(crate) fn judge<'a>(control: &Control, view: &View<'a>) -> ControlResult<'a> {
    let blocked: Vec<BlockedModel> = view
        .blocked()
        .into_iter()
        .map(|(m, r, v)| BlockedModel {
            model: view.model_ref(m),
            verification: VerificationRef::new(r, v),
            refused: view
                .refusals_citing(&r.digest)
                .into_iter()
                .filter_map(|f| match &f.predicate {
                    crate::evidence::Predicate::Refusal(p) => Some(RefusalRef {
                        record: &f.digest,
                        index: f.index,
                        target: p.admission.target(),
                        time: p.time,
                    }),
                    _ => None,
                })
                .collect(),
        })
        .collect();
    let findings: Vec<DeploymentFinding> = view
        .deployments()
        .into_iter()
        .map(|(d, dep)| deployment(control, view, d, dep))
        .collect();
    let blocked_note = match blocked.len() {
        0 => String::new(),
        n => format!(
            " {n} model(s) failed verification and were never deployed (blocked by the gate): {}.",
            blocked
                .iter()
                .map(|b| match b.refused.as_slice() {
                    [] => format!("{} (no deployment recorded)", named(&b.model)),
                    refused => format!(
                        "{} (refused at admission: {})",
                        named(&b.model),
                        refused
                            .iter()
                            .map(|f| format!("{} by record {}", f.target, f.index + 1))
                            .collect::<Vec<_>>()
                            .join(", ")
                    ),
                })
                .collect::<Vec<_>>()
                .join(", ")
        ),
    };
    let (status, reason) = if findings.is_empty() {
        (
            Status::NoEvidence,
            format!(
                "No deployment is recorded, so no deployment can be shown to have followed a passing verification.{blocked_note}"
            ),
        )
    } else {
        let bad: Vec<&DeploymentFinding> = findings.iter().filter(|f| !f.ok()).collect();
        if bad.is_empty() {
            (
                Status::Pass,
                format!(
                    "Each of the {} deployment(s) relied on a passing verification that established {}.{blocked_note}",
                    findings.len(),
                    level_names(&control.rule.levels)
                ),
            )
        } else {
            (
                Status::Fail,
                format!(
                    "{} of {} deployment(s) did not rely on a passing verification: {}.{blocked_note}",
                    bad.len(),
                    findings.len(),
                    crate::some_of(bad.iter().map(|f| explain(f)), "; ")
                ),
            )
        }
    };
    let mut result = ControlResult::new(control, status, reason);
    let mut cited: Vec<&str> = Vec::new();
    for f in &findings {
        cited.push(f.record);
        if let Some(v) = &f.verification {
            cited.push(v.record());
        }
    }
    for b in &blocked {
        cited.push(b.verification.record());
    }
    result.evidence = cite(view, cited);
    result.deployments = findings;
    result.blocked = blocked;
    result
}

/// One deployment: find the verification it relied on, then judge it.
fn deployment<'a>(
    control: &Control,
    view: &View<'a>,
    d: &'a Record,
    dep: &'a DeploymentEvidence,
) -> DeploymentFinding<'a> {
    let model = view.model_ref(&d.subject.sha256);
    let mut finding = DeploymentFinding {
        model,
        record: &d.digest,
        index: d.index,
        time: dep.time,
        target: dep.target.as_deref(),
        reliance: Reliance::Latest,
        verification: None,
        outcome: DeploymentOutcome::NoVerification,
    };
    let relied: Option<(&Record, &VerificationSummary)> = match &dep.verification {
        Some(named_record) => {
            finding.reliance = Reliance::Named;
            match named_verification(view, d, named_record) {
                Ok(found) => Some(found),
                Err(why) => {
                    finding.outcome = DeploymentOutcome::NamedVerificationInvalid { why };
                    return finding;
                }
            }
        }
        None => view.latest_verification_before(&d.subject.sha256, d.index),
    };
    let Some((r, v)) = relied else {
        return finding;
    };
    finding.verification = Some(VerificationRef::new(r, v));
    finding.outcome = judge_verification(control, v);
    finding
}

/// How a verification stands against a control's rule: failed, missing
/// levels, under a policy the control does not accept, or verified.
pub(crate) fn judge_verification(control: &Control, v: &VerificationSummary) -> DeploymentOutcome {
    let missing: Vec<_> = control
        .rule
        .levels
        .iter()
        .copied()
        .filter(|l| !v.verified_levels.contains(l))
        .collect();
    if v.verification_result != VerificationResult::Passed {
        DeploymentOutcome::VerificationFailed
    } else if !missing.is_empty() {
        DeploymentOutcome::MissingLevels { missing }
    } else if !policy_accepted(control, v) {
        DeploymentOutcome::PolicyNotAccepted
    } else {
        DeploymentOutcome::Verified
    }
}

/// The verification a deployment relied on: the one it names, when that is
/// a usable verification of the same model earlier in the log, else (it
/// names none) the latest verification of the model before it.
pub(crate) fn relied_on<'a>(
    view: &View<'a>,
    d: &Record,
    dep: &DeploymentEvidence,
) -> Option<(&'a Record, &'a VerificationSummary)> {
    match &dep.verification {
        Some(named) => named_verification(view, d, named).ok(),
        None => view.latest_verification_before(&d.subject.sha256, d.index),
    }
}

/// The verification a deployment record names, when it is a verification
/// of the same model earlier in the log.
fn named_verification<'a>(
    view: &View<'a>,
    d: &Record,
    digest: &str,
) -> Result<(&'a Record, &'a VerificationSummary), NamedVerificationError> {
    let record = || digest.to_string();
    let r = view
        .record(digest)
        .ok_or_else(|| NamedVerificationError::NotInLog { record: record() })?;
    let v = vsa(r).ok_or_else(|| NamedVerificationError::NotVerification {
        record: record(),
        predicate_type: r.predicate_type(),
    })?;
    if r.subject.sha256 != d.subject.sha256 {
        return Err(NamedVerificationError::OtherModel {
            record: record(),
            name: r.subject.name.clone(),
            sha256: r.subject.sha256.clone(),
        });
    }
    if r.index > d.index {
        return Err(NamedVerificationError::AfterDeployment { record: record() });
    }
    // A failed verification of the model between the one named and the
    // deployment: the model had changed, and the older pass no longer
    // speaks for it.
    if let Some((failed, _)) =
        view.verifications(&d.subject.sha256)
            .into_iter()
            .find(|(later, lv)| {
                later.index > r.index
                    && later.index < d.index
                    && lv.verification_result != VerificationResult::Passed
            })
    {
        return Err(NamedVerificationError::Superseded {
            record: record(),
            failed: failed.digest.to_string(),
        });
    }
    Ok((r, v))
}

/// Whether the verification applied a policy the control accepts.
pub(crate) fn policy_accepted(control: &Control, v: &VerificationSummary) -> bool {
    control.rule.policies.is_empty()
        || v.policy.sha256().is_some_and(|d| {
            control.rule.policies.iter().any(|p| {
                p.strip_prefix("sha256:")
                    .is_some_and(|p| p.eq_ignore_ascii_case(d))
            })
        })
}

/// Why a deployment fails the control, in one clause.
fn explain(f: &DeploymentFinding<'_>) -> String {
    let what = format!(
        "{} deployed{} at {} (record {})",
        named(&f.model),
        f.target.map(|t| format!(" to {t}")).unwrap_or_default(),
        f.time,
        f.record
    );
    let relied = |f: &DeploymentFinding<'_>| {
        f.verification
            .as_ref()
            .map(|v| {
                format!(
                    "the verification of {} (record {}, signer {}, policy {})",
                    v.time(),
                    v.record(),
                    v.signer_text(),
                    v.policy_text()
                )
            })
            .unwrap_or_default()
    };
    match &f.outcome {
        DeploymentOutcome::Verified => format!("{what} is verified"),
        DeploymentOutcome::NoVerification => {
            format!("{what} had no verification before it")
        }
        DeploymentOutcome::VerificationFailed => format!(
            "{what} relied on {}, which FAILED: {}",
            relied(f),
            f.verification
                .as_ref()
                .map(|v| v.failures().join("; "))
                .unwrap_or_default()
        ),
        DeploymentOutcome::MissingLevels { missing } => format!(
            "{what} relied on {}, which did not establish {}",
            relied(f),
            level_names(missing)
        ),
        DeploymentOutcome::PolicyNotAccepted => format!(
            "{what} relied on {}, which applied no policy the checklist accepts",
            relied(f)
        ),
        DeploymentOutcome::NamedVerificationInvalid { why } => format!("{what}: {why}"),
    }
}
