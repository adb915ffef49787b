//! Library-level tests of the audit's evaluation: each builds a checked log
//! in memory and asserts on the typed results, one scenario a test.

use super::*;
use crate::evidence::LogCheck;
use crate::evidence::record::{
    DeploymentEvidence, EvidenceSubject, Predicate, Record, ResourceRef, SIGNATURE_ONLY_POLICY,
    VERIFIER_ID, VerificationResult, VerificationSummary, VerifiedLevel, VerifierInfo,
};
use std::collections::BTreeMap;

/// A log being built: records in order, one second apart.
struct Log {
    records: Vec<Record>,
}

fn model(n: u8) -> EvidenceSubject {
    EvidenceSubject {
        name: format!("model-{n}"),
        sha256: hex::encode([n; 32]),
    }
}

fn at(i: usize) -> jiff::Timestamp {
    jiff::Timestamp::from_second(1_780_000_000 + i as i64).unwrap()
}

impl Log {
    fn new() -> Self {
        Log {
            records: Vec::new(),
        }
    }

    fn push(&mut self, subject: EvidenceSubject, predicate: Predicate) -> String {
        let index = self.records.len();
        let digest = hex::encode(<sha2::Sha256 as sha2::Digest>::digest(
            format!("record {index}").as_bytes(),
        ));
        self.records.push(Record {
            index,
            digest: digest.clone(),
            subject,
            predicate,
        });
        digest
    }

    fn verify(&mut self, m: u8, passed: bool) -> String {
        let time = at(self.records.len());
        self.push(
            model(m),
            Predicate::Verification(VerificationSummary {
                verifier: VerifierInfo {
                    id: VERIFIER_ID.into(),
                    version: BTreeMap::new(),
                },
                time_verified: time,
                resource_uri: format!("file:///models/{m}"),
                policy: ResourceRef::uri(SIGNATURE_ONLY_POLICY),
                input_attestations: vec![],
                verification_result: if passed {
                    VerificationResult::Passed
                } else {
                    VerificationResult::Failed
                },
                verified_levels: if passed {
                    vec![
                        VerifiedLevel::SignatureVerified,
                        VerifiedLevel::FilesVerified,
                        VerifiedLevel::BomVerified,
                        VerifiedLevel::FormatsSafe,
                    ]
                } else {
                    vec![VerifiedLevel::SignatureVerified]
                },
                failures: if passed {
                    vec![]
                } else {
                    vec!["changed: config.json".into()]
                },
                signer: None,
                ignored_paths: vec![],
                ignore_unsigned_files: false,
            }),
        )
    }

    fn deploy(&mut self, m: u8) -> String {
        let time = at(self.records.len());
        self.push(
            model(m),
            Predicate::Deployment(DeploymentEvidence {
                target: Some("prod".into()),
                time,
            }),
        )
    }

    fn check(&self) -> LogCheck {
        LogCheck {
            records: self.records.clone(),
            lines: self.records.len(),
            ..LogCheck::default()
        }
    }
}

fn control(report: &AuditReport, id: u32) -> &ControlResult {
    report
        .controls
        .iter()
        .find(|c| c.control.id == id)
        .expect("the control is in the report")
}

fn audit(log: &Log) -> AuditReport {
    evaluate(
        &Checklist::default_list(),
        &log.check(),
        "evidence.jsonl",
        None,
        at(1000),
    )
}

#[test]
fn a_deployment_after_a_failed_verification_fails_control_7() {
    let mut log = Log::new();
    log.verify(1, true);
    log.verify(1, false);
    log.deploy(1);
    let report = audit(&log);
    assert_eq!(control(&report, 7).status, Status::Fail, "{report:#?}");
}

#[test]
fn a_model_blocked_by_the_gate_and_never_deployed_does_not_fail_control_7() {
    let mut log = Log::new();
    log.verify(1, true);
    log.deploy(1);
    log.verify(2, false);
    let report = audit(&log);
    assert_eq!(control(&report, 7).status, Status::Pass, "{report:#?}");
}
