//! Library-level tests of the audit: each builds a checked log in memory
//! (records in log order, one second apart) and asserts on the typed
//! results, one scenario a test.

mod deployments;
mod documents;
mod fail_closed;
mod renderers;
mod supply_chain;

use super::*;
use crate::evidence::Checkpoint;
use crate::evidence::LogCheck;
use crate::evidence::record::{
    AttachmentEvidence, BomEvidence, DatasetRef, DeploymentEvidence, DocumentRef, EvidenceSubject,
    Predicate, Record, RecordedSigner, ResourceRef, SIGNATURE_ONLY_POLICY, SignEvidence,
    SignerInfo, Tool, VERIFIER_ID, VerificationResult, VerificationSummary, VerifiedLevel,
    VerifierInfo,
};
use report::ControlResult;
use std::collections::BTreeMap;

/// Every level a full verification with a BOM establishes.
pub(super) const FULL: [VerifiedLevel; 5] = [
    VerifiedLevel::SignatureVerified,
    VerifiedLevel::FilesVerified,
    VerifiedLevel::BomVerified,
    VerifiedLevel::FormatsSafe,
    VerifiedLevel::PolicyPassed,
];

/// A log being built.
pub(super) struct Log {
    pub records: Vec<Record>,
}

/// Model (or dataset) number `n`.
pub(super) fn model(n: u8) -> EvidenceSubject {
    EvidenceSubject {
        name: format!("model-{n}").into(),
        sha256: (hex::encode([n; 32])).into(),
    }
}

/// The time of record `i`: 2026-05-28T20:26:40Z plus `i` seconds.
pub(super) fn at(i: usize) -> jiff::Timestamp {
    jiff::Timestamp::from_second(1_780_000_000 + i as i64).unwrap()
}

/// The digest a BOM file of model `n` has.
pub(super) fn bom_digest(n: u8) -> String {
    hex::encode([0xb0 ^ n; 32])
}

pub(super) fn signer() -> SignerInfo {
    SignerInfo {
        fingerprint: Some(format!("SHA256:{}", "5e".repeat(32))),
        algorithm: Some("ed25519".into()),
        ..SignerInfo::default()
    }
}

impl Log {
    pub fn new() -> Self {
        Log {
            records: Vec::new(),
        }
    }

    fn now(&self) -> jiff::Timestamp {
        at(self.records.len())
    }

    pub fn push(&mut self, subject: EvidenceSubject, predicate: Predicate) -> String {
        let index = self.records.len();
        let digest = crate::evidence::record::LineDigest::of(format!("record {index}").as_bytes());
        self.records.push(Record {
            index,
            digest,
            subject,
            predicate,
            clock: crate::clock::TimeSource::System,
            binding: None,
        });
        digest.to_string()
    }

    /// A verification of model `m`: passed with `levels`, or failed.
    pub fn verification(
        &mut self,
        m: u8,
        passed: bool,
        levels: &[VerifiedLevel],
        policy: ResourceRef,
    ) -> String {
        let time = self.now();
        self.push(
            model(m),
            Predicate::Verification(Box::new(VerificationSummary {
                verifier: VerifierInfo {
                    id: VERIFIER_ID.into(),
                    version: BTreeMap::new(),
                },
                time_verified: time,
                resource_uri: format!("file:///models/{m}"),
                policy,
                input_attestations: vec![
                    ResourceRef {
                        uri: "m.sig".into(),
                        digest: Some(crate::evidence::record::Digests::from([(
                            "sha256",
                            "51".repeat(32),
                        )])),
                    },
                    ResourceRef {
                        uri: "m.cdx.json".into(),
                        digest: Some(crate::evidence::record::Digests::from([(
                            "sha256",
                            bom_digest(m),
                        )])),
                    },
                    ResourceRef {
                        uri: "m.cdx.json.sig".into(),
                        digest: Some(crate::evidence::record::Digests::from([(
                            "sha256",
                            "52".repeat(32),
                        )])),
                    },
                ],
                verification_result: if passed {
                    VerificationResult::Passed
                } else {
                    VerificationResult::Failed
                },
                verified_levels: levels.to_vec(),
                failures: if passed {
                    vec![]
                } else {
                    vec!["changed: config.json".into()]
                },
                signer: Some(RecordedSigner::Info(Box::new(signer()))),
                ignored_paths: vec![],
                ignore_unsigned_files: false,
                links_outside_root: vec![],
                trusted_keys: vec![],
                format_exceptions: vec![],
            })),
        )
    }

    /// A verification of model `m` with a BOM: passed, or failed.
    pub fn verify(&mut self, m: u8, passed: bool) -> String {
        let levels: &[VerifiedLevel] = if passed {
            &FULL
        } else {
            &[VerifiedLevel::SignatureVerified]
        };
        self.verification(m, passed, levels, ResourceRef::uri(SIGNATURE_ONLY_POLICY))
    }

    /// A deployment of model `m`, naming the verification record when given.
    pub fn deploy_relying_on(&mut self, m: u8, verification: Option<&str>) -> String {
        let time = self.now();
        self.push(
            model(m),
            Predicate::Deployment(Box::new(DeploymentEvidence {
                target: Some("prod".into()),
                time,
                verification: verification.map(|d| format!("sha256:{d}")),
                admission: None,
            })),
        )
    }

    /// The admission service's refusal of model `m`, citing the failed
    /// verification `verification`.
    pub fn refuse(&mut self, m: u8, verification: &str) -> String {
        let time = self.now();
        self.push(
            model(m),
            Predicate::Refusal(Box::new(crate::evidence::record::RefusalEvidence {
                admission: crate::evidence::AdmissionObject {
                    uid: "uid-1".into(),
                    kind: "Pod".into(),
                    namespace: Some("ml".into()),
                    name: "server".into(),
                    operation: "CREATE".into(),
                    field: "spec.volumes[0].image.reference".into(),
                    reference: "registry.example/m@sha256:00".into(),
                },
                time,
                verification: Some(format!("sha256:{verification}")),
                reasons: vec!["changed: config.json".into()],
            })),
        )
    }

    /// A deployment of model `m` that names no verification (as in 0.1.0).
    pub fn deploy(&mut self, m: u8) -> String {
        self.deploy_relying_on(m, None)
    }

    /// Model `m` signed with a BOM that names `datasets` (`None`: a record
    /// of 0.1.0, which did not list them).
    pub fn sign(&mut self, m: u8, datasets: Option<&[u8]>) -> String {
        self.sign_edited(m, datasets, |_| {})
    }

    /// As [`Log::sign`] with the datasets of `m`'s BOM, the record edited
    /// by `edit`.
    pub fn sign_with(&mut self, m: u8, edit: impl FnOnce(&mut SignEvidence)) -> String {
        self.sign_edited(m, Some(&[]), edit)
    }

    fn sign_edited(
        &mut self,
        m: u8,
        datasets: Option<&[u8]>,
        edit: impl FnOnce(&mut SignEvidence),
    ) -> String {
        let time = self.now();
        let mut evidence = SignEvidence {
            signer: signer(),
            signature: ResourceRef::uri("m.sig"),
            bom: Some(ResourceRef {
                uri: "m.cdx.json".into(),
                digest: Some(crate::evidence::record::Digests::from([(
                    "sha256",
                    bom_digest(m),
                )])),
            }),
            bom_signature: None,
            datasets: datasets.map(|ds| ds.iter().map(|d| dataset_ref(*d)).collect()),
            base_models: datasets.map(|_| vec!["org/base-model".into()]),
            base_model_refs: datasets.map(|_| {
                vec![DatasetRef {
                    name: "org/base-model".into(),
                    digest: crate::evidence::record::Digests::from([("sha256", "ba".repeat(32))]),
                }]
            }),
            location: None,
            tool: Tool::this(),
            time,
        };
        edit(&mut evidence);
        self.push(model(m), Predicate::Sign(Box::new(evidence)))
    }

    /// A BOM of dataset or model `m` written by `modelseal bom`.
    pub fn bom(&mut self, m: u8) -> String {
        let time = self.now();
        self.push(
            model(m),
            Predicate::Bom(Box::new(BomEvidence {
                bom: ResourceRef {
                    uri: "d.cdx.json".into(),
                    digest: Some(crate::evidence::record::Digests::from([(
                        "sha256",
                        "dd".repeat(32),
                    )])),
                },
                bom_signature: None,
                serial_number: "urn:uuid:x".into(),
                files: 3,
                datasets: vec![],
                base_models: None,
                base_model_refs: None,
                location: None,
                tool: Tool::this(),
                time,
            })),
        )
    }

    /// A document attached to `control`, reviewed on `reviewed`.
    pub fn attach(
        &mut self,
        control: u32,
        reviewed: &str,
        edit: impl FnOnce(&mut AttachmentEvidence),
    ) -> String {
        let time = self.now();
        let body = format!("document for control {control}");
        let sha256 = hex::encode(<sha2::Sha256 as sha2::Digest>::digest(body.as_bytes()));
        let mut a = AttachmentEvidence {
            control,
            document: DocumentRef {
                name: format!("control-{control}.md"),
                uri: format!("docs/control-{control}.md"),
                digest: crate::evidence::record::Digests::from([("sha256", sha256.clone())]),
                size: body.len() as u64,
            },
            reviewer: Some("Security lead".into()),
            reviewed: reviewed.parse().unwrap(),
            version: Some("v1".into()),
            next_review: None,
            model: None,
            note: None,
            recorded_at: time,
        };
        edit(&mut a);
        self.push(
            EvidenceSubject {
                name: a.document.name.clone().into(),
                sha256: sha256.into(),
            },
            Predicate::Attachment(Box::new(a)),
        )
    }

    /// Documents for every document control, reviewed on `reviewed`.
    pub fn attach_all(&mut self, reviewed: &str) {
        for id in [1, 2, 3, 5, 6, 8] {
            self.attach(id, reviewed, |_| {});
        }
    }

    /// The log as `verify_log` would hand it over: intact, with a checkpoint.
    pub fn check(&self) -> LogCheck {
        LogCheck {
            records: self.records.clone(),
            lines: self.records.len(),
            checkpoint: Some(Checkpoint {
                origin: "modelseal.test/log/0123".into(),
                size: self.records.len() as u64,
                root: [7u8; 32],
            }),
            ..LogCheck::default()
        }
    }
}

/// The body of the document `Log::attach` attaches to `control`.
pub(super) fn document_body(control: u32) -> String {
    format!("document for control {control}")
}

pub(super) fn dataset_ref(d: u8) -> DatasetRef {
    DatasetRef {
        name: format!("model-{d}"),
        digest: crate::evidence::record::Digests::from([("sha256", hex::encode([d; 32]))]),
    }
}

/// A control's result.
pub(super) fn control<'r, 'a>(report: &'r AuditReport<'a>, id: u32) -> &'r ControlResult<'a> {
    report
        .controls
        .iter()
        .find(|c| c.control.id == id)
        .expect("the control is in the report")
}

/// The default audit of `log`, as of record 1000's time.
pub(super) fn audit(log: &Log) -> AuditReport<'static> {
    audit_with(log, &Checklist::default_list(), |_| {})
}

/// An audit of `log` with `list`, the input adjusted by `edit`.
/// The check, the checklist and the input are leaked: a report borrows
/// the records it shows, and a test keeps its report.
pub(super) fn audit_with(
    log: &Log,
    list: &Checklist,
    edit: impl FnOnce(&mut AuditInput<'static>),
) -> AuditReport<'static> {
    let check: &'static crate::evidence::LogCheck = Box::leak(Box::new(log.check()));
    let list: &'static Checklist = Box::leak(Box::new(list.clone()));
    let mut input = AuditInput::new(
        list,
        check,
        "evidence.jsonl",
        AsOf::at(at(1000)),
        crate::clock::TimeSource::System,
    );
    edit(&mut input);
    evaluate(Box::leak(Box::new(input)))
}

/// The shipped checklist with `edit` applied to its text.
pub(super) fn checklist(edit: impl FnOnce(String) -> String) -> Checklist {
    Checklist::parse(&edit(DEFAULT_CHECKLIST.to_string())).unwrap()
}

/// The review date a current document has: about a month before `at(0)`.
pub(super) const RECENT: &str = "2026-05-01";

#[test]
fn uuids_are_version_5_shaped_and_deterministic() {
    assert_eq!(uuid(&["a"]).len(), 36);
    assert_eq!(&uuid(&["a"])[14..15], "5");
    assert_eq!(uuid(&["a", "b"]), uuid(&["a", "b"]));
    assert_ne!(uuid(&["a", "b"]), uuid(&["ab"]));
}
