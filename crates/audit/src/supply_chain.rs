//! Verification controls judged per deployed model (control 4): every
//! deployed model must have a verified BOM.
//!
//! A BOM counts as verified when a PASSED verification of the model (at
//! or before the audit date) established the control's levels — by default
//! `MODELSEAL_BOM_VERIFIED` (the BOM's signature verified and its file list
//! matches the model's signed files) and `MODELSEAL_FORMATS_SAFE`. A sign or
//! bom record alone is not enough: it shows a BOM was written, not that the
//! model deployed matches it. The BOM checked is found by its digest among
//! the verification's inputs, and the record that wrote it tells which
//! datasets and base models it names; a dataset counts as signed when a
//! sign record's subject is the dataset's root digest. Base models are named
//! without a digest in BOMs, so they are listed but cannot be matched.

use super::deployments::{judge_verification, relied_on};
use super::report::DeploymentOutcome;
use super::report::{BomInput, BomRef, ControlResult, Status, SupplyChainFinding, VerificationRef};
use super::view::{View, level_names, named};
use super::{Control, cite};
use crate::evidence::Record;
use crate::evidence::record::{DatasetRef, Predicate, VerificationResult, VerificationSummary};

/// Judges `control` over every deployed model in scope.
pub(crate) fn judge<'a>(control: &Control, view: &View<'a>) -> ControlResult<'a> {
    let findings: Vec<SupplyChainFinding> = view
        .deployed_models()
        .iter()
        .map(|m| model(control, view, m))
        .collect();
    let levels = level_names(&control.rule.levels);
    let (status, reason) = if findings.is_empty() {
        (
            Status::NoEvidence,
            "No deployment is recorded, so no deployed model's BOM can be shown verified.".into(),
        )
    } else {
        let bad: Vec<&SupplyChainFinding> = findings.iter().filter(|f| !f.ok).collect();
        if bad.is_empty() {
            (
                Status::Pass,
                format!(
                    "Each of the {} deployed model(s) has a passing verification that established {levels}.",
                    findings.len()
                ),
            )
        } else {
            (
                Status::Fail,
                format!(
                    "{} of {} deployed model(s) have no verified BOM as required: {}.",
                    bad.len(),
                    findings.len(),
                    crate::some_of(
                        bad.iter()
                            .map(|f| format!("{}: {}", named(&f.model), f.notes.join("; "))),
                        "; "
                    )
                ),
            )
        }
    };
    let mut result = ControlResult::new(control, status, reason);
    let mut cited: Vec<&str> = Vec::new();
    for f in &findings {
        if let Some(v) = &f.verification {
            cited.push(v.record());
        }
        if let Some(b) = &f.bom {
            cited.extend(b.record.as_deref());
            for input in b.datasets.iter().flatten() {
                cited.extend(input.signed_by_record.as_deref());
            }
        }
    }
    result.evidence = cite(view, cited);
    result.supply_chain = findings;
    result
}

fn model<'a>(control: &Control, view: &View<'a>, sha256: &'a str) -> SupplyChainFinding<'a> {
    let verifications = view.verifications(sha256);
    let good =
        |v: &VerificationSummary| judge_verification(control, v) == DeploymentOutcome::Verified;
    // Each deployment of the model is judged on the verification it relied
    // on (not on any passing one, which may come after it, or before a
    // failure): the first that falls short fails the model.
    // Deployments before a declared period are context, not judged.
    let deployments: Vec<(&Record, &crate::evidence::record::DeploymentEvidence)> = view
        .about(sha256)
        .iter()
        .filter(|r| view.in_period(r))
        .filter_map(|r| match &r.predicate {
            Predicate::Deployment(d) => Some((*r, &**d)),
            _ => None,
        })
        .collect();
    let relied: Vec<(&Record, Option<(&Record, &VerificationSummary)>)> = deployments
        .iter()
        .map(|(d, dep)| (*d, relied_on(view, d, dep)))
        .collect();
    let short = relied.iter().find(|(_, r)| r.is_none_or(|(_, v)| !good(v)));
    let passing = match short {
        Some(_) => None,
        None => relied.last().and_then(|(_, r)| *r),
    };
    let mut finding = SupplyChainFinding {
        model: view.model_ref(sha256),
        verification: None,
        bom: None,
        ok: false,
        notes: Vec::new(),
    };
    let Some((r, v)) = passing else {
        let mut note = format!(
            "no passing verification established {}",
            level_names(&control.rule.levels)
        );
        if !control.rule.policies.is_empty() {
            note.push_str(" under an accepted policy");
        }
        if let Some((d, relied)) = short {
            note.push_str(&match relied {
                Some((r, v)) => {
                    // Say exactly what fell short: a failure, the levels it
                    // did not establish, or the policy.
                    let why = match judge_verification(control, v) {
                        DeploymentOutcome::VerificationFailed => "it FAILED".to_string(),
                        DeploymentOutcome::MissingLevels { missing } => {
                            format!("it did not establish {}", level_names(&missing))
                        }
                        _ => "its policy is not one the checklist accepts".to_string(),
                    };
                    format!(
                        " for the deployment (record {}): the verification it relied on (record {}) did not ({why})",
                        d.digest, r.digest
                    )
                }
                None => format!(
                    " for the deployment (record {}): it relied on no verification",
                    d.digest
                ),
            });
        }
        if let Some((r, last)) = verifications.last() {
            if last.verification_result == VerificationResult::Failed {
                note.push_str(&format!(
                    "; its latest verification (record {}) failed: {}",
                    r.digest,
                    last.failures.join("; ")
                ));
            }
        } else {
            note.push_str("; it was never verified");
        }
        finding.notes.push(note);
        return finding;
    };
    finding.verification = Some(VerificationRef::new(r, v));
    finding.ok = true;
    // A reviewed exception counts, and is named.
    if !v.format_exceptions.is_empty() {
        finding.notes.push(format!(
            "formats judged safe by the policy's reviewed exception(s): {}",
            v.format_exceptions
                .iter()
                .map(|e| format!(
                    "{} (sha256:{}; {}{})",
                    e.path,
                    e.sha256,
                    e.finding,
                    e.reason
                        .as_deref()
                        .map(|r| format!("; reviewed: {r}"))
                        .unwrap_or_default()
                ))
                .collect::<Vec<_>>()
                .join(", ")
        ));
    }
    let bom = bom(view, sha256, v);
    match &bom {
        None => finding
            .notes
            .push("the verification names no BOM among its inputs".into()),
        Some(b) => {
            match &b.datasets {
                None => {
                    finding.notes.push(format!(
                        "the record that wrote the BOM (sha256:{}) does not list its datasets",
                        b.sha256
                    ));
                    if control.rule.datasets_signed {
                        finding.ok = false;
                    }
                }
                Some(datasets) => {
                    let unpinned: Vec<&str> = datasets
                        .iter()
                        .filter(|d| d.sha256.is_none())
                        .map(|d| d.name.as_str())
                        .collect();
                    if !unpinned.is_empty() {
                        finding.notes.push(format!(
                            "dataset(s) named by its BOM without a digest: {}",
                            unpinned.join(", ")
                        ));
                        if control.rule.inputs_pinned || control.rule.datasets_signed {
                            finding.ok = false;
                        }
                    }
                    let unsigned: Vec<String> = datasets
                        .iter()
                        .filter(|d| d.sha256.is_some() && d.signed_by_record.is_none())
                        .map(|d| {
                            format!(
                                "{} (sha256:{})",
                                d.name,
                                d.sha256.as_deref().unwrap_or_default()
                            )
                        })
                        .collect();
                    if !unsigned.is_empty() {
                        finding.notes.push(format!(
                            "dataset(s) named by its BOM but never signed: {}",
                            unsigned.join(", ")
                        ));
                        if control.rule.datasets_signed {
                            finding.ok = false;
                        }
                    }
                }
            }
            if let Some(bases) = b.base_models.as_ref().filter(|b| !b.is_empty()) {
                let unpinned: Vec<&str> = bases
                    .iter()
                    .filter(|b| b.sha256.is_none())
                    .map(|b| b.name.as_str())
                    .collect();
                if !unpinned.is_empty() {
                    finding.notes.push(format!(
                        "base model(s) named by its BOM without a digest: {}",
                        unpinned.join(", ")
                    ));
                    if control.rule.inputs_pinned {
                        finding.ok = false;
                    }
                }
                let unsigned: Vec<String> = bases
                    .iter()
                    .filter(|b| b.sha256.is_some() && b.signed_by_record.is_none())
                    .map(|b| {
                        format!(
                            "{} (sha256:{})",
                            b.name,
                            b.sha256.as_deref().unwrap_or_default()
                        )
                    })
                    .collect();
                if !unsigned.is_empty() {
                    finding.notes.push(format!(
                        "base model(s) pinned by digest, with no sign record in the log: {}",
                        unsigned.join(", ")
                    ));
                }
            }
        }
    }
    finding.bom = bom;
    finding
}

/// The BOM a verification checked: the input whose digest a sign or bom
/// record of the model wrote as its BOM; else, in the gate's order
/// (signature, BOM, BOM signature), the second input.
fn bom(view: &View<'_>, sha256: &str, v: &VerificationSummary) -> Option<BomRef> {
    let inputs: Vec<&str> = v
        .input_attestations
        .iter()
        .filter_map(|a| a.sha256())
        .collect();
    let writer = view.about(sha256).iter().rev().find_map(|r| {
        let (digest, datasets, bases) = written_bom(r)?;
        inputs
            .contains(&digest)
            .then_some((*r, digest, datasets, bases))
    });
    if let Some((r, digest, datasets, bases)) = writer {
        return Some(BomRef {
            sha256: digest.to_string(),
            record: Some(r.digest.to_string()),
            datasets: datasets.map(|ds| {
                ds.iter()
                    .map(|d| {
                        let digest = pinned(d.digest.get("sha256"));
                        BomInput {
                            name: d.name.clone(),
                            signed_by_record: digest
                                .as_deref()
                                .and_then(|h| view.signed(h))
                                .map(|s| s.digest.to_string()),
                            sha256: digest,
                        }
                    })
                    .collect()
            }),
            base_models: bases.map(|bs| {
                bs.into_iter()
                    .map(|(name, digest)| BomInput {
                        name,
                        signed_by_record: digest
                            .as_deref()
                            .and_then(|h| view.signed(h))
                            .map(|s| s.digest.to_string()),
                        sha256: digest,
                    })
                    .collect()
            }),
        });
    }
    (v.input_attestations.len() >= 3)
        .then(|| v.input_attestations[1].sha256())
        .flatten()
        .map(|digest| BomRef {
            sha256: digest.to_string(),
            record: None,
            datasets: None,
            base_models: None,
        })
}

/// A digest that pins: 64 hex digits (lowercased); anything else (`TBD`,
/// empty, short) pins nothing.
fn pinned(digest: Option<&str>) -> Option<String> {
    digest
        .filter(|h| h.len() == 64 && h.bytes().all(|b| b.is_ascii_hexdigit()))
        .map(|h| h.to_ascii_lowercase())
}

/// A BOM's digest, its datasets, and its base models (name, digest when
/// pinned).
type WrittenBom<'a> = (
    &'a str,
    Option<&'a [DatasetRef]>,
    Option<Vec<(String, Option<String>)>>,
);

/// The base models a record names: with their digests (records since
/// pinning), or by name alone (earlier records).
fn bases(
    refs: Option<&[DatasetRef]>,
    names: Option<&[String]>,
) -> Option<Vec<(String, Option<String>)>> {
    match (refs, names) {
        (Some(refs), _) => Some(
            refs.iter()
                .map(|r| (r.name.clone(), pinned(r.digest.get("sha256"))))
                .collect(),
        ),
        (None, Some(names)) => Some(names.iter().map(|n| (n.clone(), None)).collect()),
        (None, None) => None,
    }
}

/// The BOM a sign or bom record wrote: its digest, datasets and base
/// models (each `None` when the record does not say).
fn written_bom(r: &Record) -> Option<WrittenBom<'_>> {
    match &r.predicate {
        Predicate::Bom(b) => Some((
            b.bom.sha256()?,
            Some(b.datasets.as_slice()),
            bases(b.base_model_refs.as_deref(), b.base_models.as_deref()),
        )),
        Predicate::Sign(s) => Some((
            s.bom.as_ref()?.sha256()?,
            s.datasets.as_deref(),
            bases(s.base_model_refs.as_deref(), s.base_models.as_deref()),
        )),
        _ => None,
    }
}
