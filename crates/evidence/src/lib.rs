//! modelseal-evidence: signed records of what modelseal did (sign, bom, verify)
//! and of reviewed documents, kept in a tamper-evident log that an auditor
//! can check without trusting the machine that wrote it.
//!
//! A log lives in a store ([`EvidenceStore`]): a JSON Lines file
//! ([`FileLog`]) or, with the `postgres` feature, a PostgreSQL database.
//! The records, the RFC 6962 tree and the signed checkpoints are the same
//! bytes in every store, computed here, so any log exports to the file form
//! and verifies offline.

#![forbid(unsafe_code)]
#![warn(missing_docs)]

mod cosigned;
pub mod deploy_index;
mod digests;
mod export;
mod inputs;
mod location;
mod log;
pub mod merkle;
mod note;
mod origin;
#[cfg(feature = "postgres")]
pub mod postgres;
mod problem;
pub mod record;
mod rules;
mod seal_key;
mod store;
mod verify;

pub use cosigned::{
    KeptCosigned, MAX_COSIGNED_NOTE, MAX_KEPT_COSIGNED, MAX_STAMP, history_path, replace_file,
    stamp_path, witnessed_path,
};
pub use export::{EXPORTED_LOG, export_log};
pub use inputs::{ExportedInput, INPUTS_DIR, InputOutcome, MAX_INPUT, export_inputs, named_inputs};
pub use location::{Env as LocationEnv, Location};
pub use log::{FileLog, append, checkpoint_path, deploy_index_path, verify_log};
pub use note::{Checkpoint, CheckpointError, verifier_key};
pub use origin::open_log_checkpoint;
pub use problem::LogProblem;
pub(crate) use record::seal_bound;
pub use record::{
    AdmissionObject, EvidenceSubject, LogBinding, NewRecord, Predicate, Record, RecordError,
};
pub use rules::{
    AttachError, Attached, Attachment, DeployError, Deployed, Deployment, DocumentControl,
};
pub use seal_key::{SealKey, seal_key};
pub use store::{EvidenceStore, MAX_BATCH, MAX_RECORD, ResumePoint, Resumed, ScanItem, Sealer};
pub use verify::{LogCheck, MAX_KEPT_RECORDS, TIME_TOLERANCE, VerifyOptions, verify_store};

/// The parsers of untrusted input that only the fuzz targets call directly.
#[cfg(fuzzing)]
pub mod fuzz {
    pub use crate::note::open_checkpoint;
}

// The crate this one builds on, under the names its paths use.
/// The error every evidence operation returns (the core's category error).
pub use modelseal_core::Error;
use modelseal_core::{Result, VERSION, bundle, clock, fetch, json, keys};

use crate::keys::{PrivateKey, PublicKey};
use std::path::Path;

/// The origin prefix of new logs sealed by `key`: `modelseal/evidence/` and
/// the first 16 hex digits of the key's fingerprint (SHA-256 of its SPKI
/// DER); each log adds its own id.
pub fn origin(key: &ed25519_dalek::VerifyingKey) -> String {
    origin::key_origin(key)
}

/// Where records go and the key that seals them.
pub struct Recorder {
    store: Box<dyn EvidenceStore + Send + Sync>,
    key: std::sync::Arc<dyn SealKey>,
    /// Where to keep the writer's deploy index instead of with the store.
    index_dir: Option<std::path::PathBuf>,
}

impl std::fmt::Debug for Recorder {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "Recorder({})", self.store.location())
    }
}

impl Recorder {
    /// A recorder for the file log at `log` with the evidence key (which
    /// must be Ed25519: checkpoints are C2SP signed notes).
    pub fn new(log: &Path, key: PrivateKey) -> Result<Self> {
        Self::with_store(Box::new(FileLog::new(log)), key)
    }

    /// A recorder for the log at `location` (a file, or a database).
    pub fn open(location: &Location, key: PrivateKey) -> Result<Self> {
        let key = seal_key(key)?;
        Ok(Recorder {
            store: location.open()?,
            key,
            index_dir: None,
        })
    }

    /// A recorder for a log in any store.
    pub fn with_store(
        store: Box<dyn EvidenceStore + Send + Sync>,
        key: PrivateKey,
    ) -> Result<Self> {
        Ok(Recorder {
            store,
            key: seal_key(key)?,
            index_dir: None,
        })
    }

    /// Where the records go (never with a password).
    pub fn location(&self) -> String {
        self.store.location()
    }

    /// Keeps this writer's deploy index (see [`Recorder::deploy`]) in
    /// `dir`, one file per log named by the SHA-256 of its location, rather
    /// than with the store: for a store that keeps none itself (a
    /// PostgreSQL log). Sealed by the evidence key, an index may sit
    /// wherever the writer can write; `dir` is made when first needed.
    pub fn with_deploy_index_dir(mut self, dir: impl Into<std::path::PathBuf>) -> Self {
        self.index_dir = Some(dir.into());
        self
    }

    /// The writer's deploy index as stored, if any (never trusted).
    fn load_index(&self) -> Result<Option<Vec<u8>>> {
        match &self.index_dir {
            Some(dir) => {
                deploy_index::read_file(&deploy_index::file_in(dir, &self.store.index_name()))
            }
            None => self.store.load_deploy_index(),
        }
    }

    /// Replaces the writer's deploy index.
    fn store_index(&self, sealed: &[u8]) -> Result<()> {
        let Some(dir) = &self.index_dir else {
            return self.store.save_deploy_index(sealed);
        };
        // The writer's alone: it names the models deployed and how their
        // verifications went.
        {
            use std::os::unix::fs::DirBuilderExt;
            std::fs::DirBuilder::new()
                .recursive(true)
                .mode(0o700)
                .create(dir)
                .map_err(|e| Error::io(dir, e))?;
        }
        let path = deploy_index::file_in(dir, &self.store.index_name());
        // A temporary name of this process and this call alone.
        static CALLS: std::sync::atomic::AtomicU64 = std::sync::atomic::AtomicU64::new(0);
        let call = CALLS.fetch_add(1, std::sync::atomic::Ordering::Relaxed);
        let tmp = log::with_suffix(&path, &format!(".{}.{call}.tmp", std::process::id()));
        deploy_index::write_file(&path, &tmp, sealed)
    }

    /// Seals and appends one record; returns its digest (hex SHA-256 of the
    /// log line, as reports cite it). When it returns, the record is durable.
    pub fn append(&self, record: &NewRecord) -> Result<String> {
        let mut sealed = String::new();
        self.store.append(
            &mut |binding| {
                sealed = seal_bound(record, self.key.as_ref(), binding)?;
                Ok(sealed.clone())
            },
            self.key.as_ref(),
        )?;
        Ok(hex::encode(<sha2::Sha256 as sha2::Digest>::digest(
            sealed.as_bytes(),
        )))
    }

    /// Seals and appends several records, durable together where the
    /// store can (the file log: one flush and one checkpoint), and returns
    /// their digests in order. A service that records many events at once
    /// pays for one flush instead of one each.
    pub fn append_batch(&self, records: &[NewRecord]) -> Result<Vec<String>> {
        let mut sealed = vec![String::new(); records.len()];
        {
            let key = self.key.as_ref();
            let mut sealers: Vec<_> = records
                .iter()
                .zip(sealed.iter_mut())
                .map(|(record, out)| {
                    move |binding: &record::LogBinding| -> Result<String> {
                        *out = seal_bound(record, key, binding)?;
                        Ok(out.clone())
                    }
                })
                .collect();
            let mut seals: Vec<store::Sealer<'_>> =
                sealers.iter_mut().map(|s| s as store::Sealer<'_>).collect();
            self.store.append_batch(&mut seals, key)?;
        }
        Ok(sealed
            .iter()
            .map(|s| hex::encode(<sha2::Sha256 as sha2::Digest>::digest(s.as_bytes())))
            .collect())
    }

    /// Seals and appends a verification record (as the gate's
    /// `GateOutcome::record` makes it) and returns its receipt, which a
    /// deployment of the same model may then rely on.
    pub fn append_verification(&self, record: &NewRecord) -> Result<VerificationReceipt> {
        let Predicate::Verification(summary) = &record.predicate else {
            return Err(Error::Usage(format!(
                "a {} record is not a verification",
                record.predicate.predicate_type()
            )));
        };
        let passed = summary.verification_result == record::VerificationResult::Passed;
        let digest = self.append(record)?;
        Ok(VerificationReceipt {
            digest,
            subject: record.subject.clone(),
            passed,
            log: self.location(),
        })
    }

    /// Records that the model `verification` verified was deployed to
    /// `target` at `now`, relying on that verification (the audit's
    /// control 7 checks the deployment against exactly it). The
    /// verification must have passed and been appended to this log.
    /// Returns the deployment record's digest.
    pub fn record_deployment(
        &self,
        verification: &VerificationReceipt,
        target: Option<String>,
        now: clock::Now,
    ) -> Result<String> {
        if !verification.passed {
            return Err(Error::Usage(format!(
                "the verification sha256:{} of {} failed: no deployment may rely on it",
                verification.digest, verification.subject.name
            )));
        }
        if verification.log != self.location() {
            return Err(Error::Usage(format!(
                "the verification sha256:{} is in {}, not in {}",
                verification.digest,
                verification.log,
                self.location()
            )));
        }
        self.append(&NewRecord {
            subject: verification.subject.clone(),
            predicate: Predicate::Deployment(Box::new(record::DeploymentEvidence {
                target,
                time: now.time(),
                verification: Some(format!("sha256:{}", verification.digest)),
                admission: None,
            })),
            clock: now.source(),
        })
    }
}

impl Recorder {
    /// Records that the admission service admitted `object`, relying on
    /// `verification` (which must have passed and be in this log): a
    /// deployment record naming the object and the request.
    pub fn record_admission(
        &self,
        verification: &VerificationReceipt,
        object: record::AdmissionObject,
        now: clock::Now,
    ) -> Result<String> {
        self.append(&self.admission_record(verification, object, now)?)
    }

    /// The record [`Recorder::record_admission`] appends, to append with
    /// others ([`Recorder::append_batch`]).
    pub fn admission_record(
        &self,
        verification: &VerificationReceipt,
        object: record::AdmissionObject,
        now: clock::Now,
    ) -> Result<NewRecord> {
        if !verification.passed || verification.log != self.location() {
            return Err(Error::Usage(format!(
                "the verification sha256:{} cannot admit {}: it failed or is in another log",
                verification.digest, object.reference
            )));
        }
        Ok(NewRecord {
            subject: verification.subject.clone(),
            predicate: Predicate::Deployment(Box::new(record::DeploymentEvidence {
                target: Some(object.target()),
                time: now.time(),
                verification: Some(format!("sha256:{}", verification.digest)),
                admission: Some(object),
            })),
            clock: now.source(),
        })
    }

    /// The deployment record of an admission the policy let through
    /// unverified (a location the service cannot verify, under
    /// `other_storage = "allow"`): it names no verification, so the audit
    /// shows the deployment as unverified.
    pub fn unverified_admission_record(
        object: record::AdmissionObject,
        now: clock::Now,
    ) -> NewRecord {
        NewRecord {
            subject: EvidenceSubject {
                name: object.reference.clone().into(),
                sha256: (hex::encode(<sha2::Sha256 as sha2::Digest>::digest(
                    object.reference.as_bytes(),
                )))
                .into(),
            },
            predicate: Predicate::Deployment(Box::new(record::DeploymentEvidence {
                target: Some(object.target()),
                time: now.time(),
                verification: None,
                admission: Some(object),
            })),
            clock: now.source(),
        }
    }

    /// Records that the admission service refused `object`: the failed
    /// `verification` it made, if it could make one, and why.
    pub fn record_refusal(
        &self,
        verification: Option<&VerificationReceipt>,
        object: record::AdmissionObject,
        reasons: Vec<String>,
        now: clock::Now,
    ) -> Result<String> {
        self.append(&Self::refusal_record(verification, object, reasons, now))
    }

    /// The record [`Recorder::record_refusal`] appends.
    pub fn refusal_record(
        verification: Option<&VerificationReceipt>,
        object: record::AdmissionObject,
        reasons: Vec<String>,
        now: clock::Now,
    ) -> NewRecord {
        let subject = match verification {
            Some(v) => v.subject.clone(),
            // No model was read: the record is about the reference itself.
            None => EvidenceSubject {
                name: object.reference.clone().into(),
                sha256: (hex::encode(<sha2::Sha256 as sha2::Digest>::digest(
                    object.reference.as_bytes(),
                )))
                .into(),
            },
        };
        NewRecord {
            subject,
            predicate: Predicate::Refusal(Box::new(record::RefusalEvidence {
                admission: object,
                time: now.time(),
                verification: verification.map(|v| format!("sha256:{}", v.digest)),
                reasons,
            })),
            clock: now.source(),
        }
    }
}

/// A verification record appended by [`Recorder::append_verification`]:
/// what a deployment relies on.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct VerificationReceipt {
    digest: String,
    subject: EvidenceSubject,
    passed: bool,
    log: String,
}

impl VerificationReceipt {
    /// The record's digest (hex SHA-256 of its log line).
    pub fn digest(&self) -> &str {
        &self.digest
    }

    /// The model verified.
    pub fn subject(&self) -> &EvidenceSubject {
        &self.subject
    }

    /// Whether the verification passed.
    pub fn passed(&self) -> bool {
        self.passed
    }
}

/// Verifies the log at `location` and keeps its records (for an audit or a
/// listing); see [`verify_store`].
pub fn verify_location(
    location: &Location,
    key: &ed25519_dalek::VerifyingKey,
    older: Option<&str>,
) -> Result<LogCheck> {
    verify_store(
        location.open()?.as_ref(),
        key,
        VerifyOptions {
            older,
            keep_records: true,
            copy_to: None,
            now: None,
            keep_leaves: false,
        },
    )
}

/// Whether the log at `location` has been started: a file log exists, a
/// database log has its first checkpoint. A log that has not been started
/// has no records yet (the next append starts it); one that has must then
/// verify before anything is read from it.
pub fn is_started(location: &Location) -> Result<bool> {
    location.open()?.is_started()
}

/// The Ed25519 key that verifies a log.
pub fn evidence_verifying_key(key: &PublicKey) -> Result<ed25519_dalek::VerifyingKey> {
    match key {
        PublicKey::Ed25519(k) => Ok(*k),
        other => Err(Error::Evidence(format!(
            "the evidence key must be Ed25519, not {}",
            other.algorithm()
        ))),
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use record::{DeploymentEvidence, Predicate};

    fn recorder(dir: &Path) -> (Recorder, std::path::PathBuf) {
        let key = PrivateKey::Ed25519(ed25519_dalek::SigningKey::from_bytes(&[5u8; 32]));
        let log = dir.join("evidence.jsonl");
        (Recorder::new(&log, key).unwrap(), log)
    }

    fn deployed(i: u8) -> NewRecord {
        NewRecord {
            subject: EvidenceSubject {
                name: format!("m{i}").into(),
                sha256: (hex::encode([i; 32])).into(),
            },
            predicate: Predicate::Deployment(Box::new(DeploymentEvidence {
                target: None,
                time: "2026-03-01T00:00:00Z".parse().unwrap(),
                verification: None,
                admission: None,
            })),
            clock: crate::clock::TimeSource::System,
        }
    }

    #[test]
    fn appended_logs_verify_and_every_tampering_is_detected() {
        let dir = tempfile::tempdir().unwrap();
        let (r, log) = recorder(dir.path());
        for i in 0..5 {
            r.append(&deployed(i)).unwrap();
        }
        let vk = r.key.verifying_key();
        let older = std::fs::read_to_string(checkpoint_path(&log)).unwrap();
        r.append(&deployed(9)).unwrap();
        let check = verify_log(&log, &vk, Some(&older)).unwrap();
        assert!(check.ok(), "{:?}", check.problems);
        assert_eq!(check.records.len(), 6);
        assert!(
            check
                .consistency
                .unwrap()
                .contains("extends the older checkpoint of 5")
        );

        let original = std::fs::read(&log).unwrap();
        let lines: Vec<&[u8]> = original[..original.len() - 1]
            .split(|b| *b == b'\n')
            .collect();
        let rewrite = |ls: Vec<&[u8]>| {
            let mut out = ls.join(&b"\n"[..]);
            out.push(b'\n');
            std::fs::write(&log, out).unwrap();
        };
        // Swap two lines: signatures fine, root differs.
        let mut swapped = lines.clone();
        swapped.swap(1, 2);
        rewrite(swapped);
        let check = verify_log(&log, &vk, None).unwrap();
        assert!(
            check.problems.contains(&LogProblem::Root),
            "{:?}",
            check.problems
        );
        // Appending is refused while the log does not match its checkpoint.
        assert!(r.append(&deployed(1)).is_err());
        // Delete a line.
        let mut deleted = lines.clone();
        deleted.remove(3);
        rewrite(deleted);
        let check = verify_log(&log, &vk, Some(&older)).unwrap();
        assert!(
            check.problems.contains(&LogProblem::Short {
                checkpoint: 6,
                log: 5
            }),
            "{:?}",
            check.problems
        );
        assert!(
            check
                .problems
                .iter()
                .any(|p| matches!(p, LogProblem::NotExtension { .. })),
            "{:?}",
            check.problems
        );
        // Truncate below the older checkpoint.
        rewrite(lines[..3].to_vec());
        let check = verify_log(&log, &vk, Some(&older)).unwrap();
        assert!(
            check
                .problems
                .iter()
                .any(|p| matches!(p, LogProblem::BelowOlder { .. })),
            "{:?}",
            check.problems
        );
        // Cut mid-record.
        std::fs::write(&log, &original[..original.len() - 10]).unwrap();
        assert!(!verify_log(&log, &vk, None).unwrap().ok());
        // A non-Ed25519 key cannot keep a log.
        let p256 = crate::keys::generate(crate::keys::KeyAlgorithm::EcdsaP256).unwrap();
        assert!(Recorder::new(&log, p256).is_err());
    }
}
