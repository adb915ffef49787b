//! Audit evidence: signed records of what modelseal did (sign, bom, verify)
//! and of reviewed documents, kept in a tamper-evident log that an auditor
//! can check without trusting the machine that wrote it.

mod log;
pub mod merkle;
pub mod note;
pub mod record;

pub use log::{LogCheck, append, checkpoint_path, origin, read_lines, verify_log};
pub use record::{EvidenceSubject, NewRecord, Predicate, Record, seal};

use crate::keys::{PrivateKey, PublicKey};
use crate::{Error, Result};
use std::path::{Path, PathBuf};

/// Where records go and the key that seals them.
pub struct Recorder {
    /// The log file.
    pub log: PathBuf,
    key: ed25519_dalek::SigningKey,
}

impl std::fmt::Debug for Recorder {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "Recorder({})", self.log.display())
    }
}

impl Recorder {
    /// A recorder for `log` with the evidence key (which must be Ed25519:
    /// checkpoints are C2SP signed notes).
    pub fn new(log: &Path, key: PrivateKey) -> Result<Self> {
        match key {
            PrivateKey::Ed25519(key) => Ok(Recorder {
                log: log.to_path_buf(),
                key,
            }),
            other => Err(Error::Evidence(format!(
                "the evidence key must be Ed25519 (signed-note checkpoints), not {}",
                other.algorithm()
            ))),
        }
    }

    /// Seals and appends one record; returns its digest (hex SHA-256 of the
    /// log line, as reports cite it).
    pub fn append(&self, record: &NewRecord) -> Result<String> {
        let line = seal(record, &self.key)?;
        append(&self.log, &line, &self.key)?;
        Ok(hex::encode(<sha2::Sha256 as sha2::Digest>::digest(
            line.as_bytes(),
        )))
    }
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

    fn recorder(dir: &Path) -> Recorder {
        let key = PrivateKey::Ed25519(ed25519_dalek::SigningKey::from_bytes(&[5u8; 32]));
        Recorder::new(&dir.join("evidence.jsonl"), key).unwrap()
    }

    fn deployed(i: u8) -> NewRecord {
        NewRecord {
            subject: EvidenceSubject {
                name: format!("m{i}"),
                sha256: hex::encode([i; 32]),
            },
            predicate: Predicate::Deployment(DeploymentEvidence {
                target: None,
                time: record::now(),
                verification: None,
            }),
        }
    }

    #[test]
    fn appended_logs_verify_and_every_tampering_is_detected() {
        let dir = tempfile::tempdir().unwrap();
        let r = recorder(dir.path());
        for i in 0..5 {
            r.append(&deployed(i)).unwrap();
        }
        let vk = r.key.verifying_key();
        let older = std::fs::read_to_string(checkpoint_path(&r.log)).unwrap();
        r.append(&deployed(9)).unwrap();
        let check = verify_log(&r.log, &vk, Some(&older)).unwrap();
        assert!(check.ok(), "{:?}", check.problems);
        assert_eq!(check.records.len(), 6);
        assert!(
            check
                .consistency
                .unwrap()
                .contains("extends the older checkpoint of 5")
        );

        let original = std::fs::read(&r.log).unwrap();
        let lines: Vec<&[u8]> = original[..original.len() - 1]
            .split(|b| *b == b'\n')
            .collect();
        let rewrite = |ls: Vec<&[u8]>| {
            let mut out = ls.join(&b"\n"[..]);
            out.push(b'\n');
            std::fs::write(&r.log, out).unwrap();
        };
        // Swap two lines: signatures fine, root differs.
        let mut swapped = lines.clone();
        swapped.swap(1, 2);
        rewrite(swapped);
        let check = verify_log(&r.log, &vk, None).unwrap();
        assert!(
            check.problems.iter().any(|p| p.contains("reordered")),
            "{:?}",
            check.problems
        );
        // Appending is refused while the log does not match its checkpoint.
        assert!(r.append(&deployed(1)).is_err());
        // Delete a line.
        let mut deleted = lines.clone();
        deleted.remove(3);
        rewrite(deleted);
        let check = verify_log(&r.log, &vk, Some(&older)).unwrap();
        assert!(
            check
                .problems
                .iter()
                .any(|p| p.contains("covers 6 records but the log holds 5")),
            "{:?}",
            check.problems
        );
        assert!(
            check
                .problems
                .iter()
                .any(|p| p.contains("history rewritten")),
            "{:?}",
            check.problems
        );
        // Truncate below the older checkpoint.
        rewrite(lines[..3].to_vec());
        let check = verify_log(&r.log, &vk, Some(&older)).unwrap();
        assert!(
            check.problems.iter().any(|p| p.contains("(truncated)")),
            "{:?}",
            check.problems
        );
        // Cut mid-record.
        std::fs::write(&r.log, &original[..original.len() - 10]).unwrap();
        assert!(!verify_log(&r.log, &vk, None).unwrap().ok());
        // A non-Ed25519 key cannot keep a log.
        let p256 = crate::keys::generate(crate::keys::KeyAlgorithm::EcdsaP256).unwrap();
        assert!(Recorder::new(&r.log, p256).is_err());
    }
}
