//! The writer's deploy index: what a writer holding the evidence key has
//! already verified of a log, kept beside it so that the next deployment
//! checks only the records appended since, instead of the whole log.
//!
//! It holds the log's origin, the size and Merkle frontier it verified,
//! where in the store those records end, and the latest verification of
//! each model. It is sealed by the evidence key under its own DSSE payload
//! type (so neither a record nor a checkpoint can pass for it, nor it for
//! them), and only a writer holding the key can make one. It is a cache,
//! never evidence: an index that is missing, unreadable, of another log or
//! not sealed by the key is ignored, and the log is verified whole as
//! before. One thing it proves on its own: a log of its origin holding
//! fewer records than a writer already verified was cut back (records
//! removed, an older checkpoint put back), which is tampering.

use crate::bundle::{Envelope, pae};
use crate::merkle::{Frontier, Hash};
use crate::record::{Predicate, Record, VerificationResult};
use crate::store::ResumePoint;
use crate::{Result, SealKey};
use base64::Engine;
use base64::engine::general_purpose::STANDARD;
use ed25519_dalek::VerifyingKey;
use serde::{Deserialize, Serialize};
use std::collections::BTreeMap;
use std::io::{Read, Write};
use std::path::{Path, PathBuf};

/// The DSSE payload type of a sealed deploy index.
pub const DEPLOY_INDEX_PAYLOAD_TYPE: &str = "application/vnd.modelseal.deploy-index.v1+json";

/// Most bytes a sealed index may hold (about 200 bytes per model: some
/// 300,000 models).
pub const MAX_DEPLOY_INDEX: u64 = 64 << 20;

/// Reads a stored index at `path`: `None` when there is none, or when it
/// is not a regular file (a FIFO would block, a link to a device would be
/// read to the cap; neither is followed) or is longer than
/// [`MAX_DEPLOY_INDEX`].
pub(crate) fn read_file(path: &Path) -> Result<Option<Vec<u8>>> {
    match std::fs::symlink_metadata(path) {
        Ok(m) if m.is_file() => {}
        Ok(_) => return Ok(None),
        Err(e) if e.kind() == std::io::ErrorKind::NotFound => return Ok(None),
        Err(e) => return Err(crate::Error::io(path, e)),
    }
    let file = match std::fs::File::open(path) {
        Ok(file) => file,
        Err(e) if e.kind() == std::io::ErrorKind::NotFound => return Ok(None),
        Err(e) => return Err(crate::Error::io(path, e)),
    };
    let mut bytes = Vec::new();
    file.take(MAX_DEPLOY_INDEX + 1)
        .read_to_end(&mut bytes)
        .map_err(|e| crate::Error::io(path, e))?;
    if bytes.len() as u64 > MAX_DEPLOY_INDEX {
        return Ok(None);
    }
    Ok(Some(bytes))
}

/// Replaces the index at `path` by `sealed`: written to `tmp` (a fresh
/// file, never one a link planted there points to), flushed, renamed.
pub(crate) fn write_file(path: &Path, tmp: &Path, sealed: &[u8]) -> Result<()> {
    use std::os::unix::fs::OpenOptionsExt;
    let _ = std::fs::remove_file(tmp);
    std::fs::OpenOptions::new()
        .write(true)
        .create_new(true)
        .mode(0o600)
        .open(tmp)
        .and_then(|mut f| {
            f.write_all(sealed)?;
            f.sync_all()
        })
        .map_err(|e| crate::Error::io(tmp, e))?;
    std::fs::rename(tmp, path).map_err(|e| crate::Error::io(path, e))
}

/// The file that keeps the deploy index of the log named `name`
/// ([`crate::EvidenceStore::index_name`]) in `dir`, for a store that keeps
/// none itself: named by the SHA-256 of the name.
pub(crate) fn file_in(dir: &Path, name: &str) -> PathBuf {
    use sha2::Digest;
    dir.join(format!(
        "{}.index",
        hex::encode(sha2::Sha256::digest(name.as_bytes()))
    ))
}

/// The latest verification of one model.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub(crate) struct LatestVerification {
    /// Its index in the log.
    pub index: u64,
    /// Its record digest (hex).
    pub record: String,
    /// Whether it did not fail.
    pub passed: bool,
}

#[derive(Debug, Clone, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
struct Payload {
    origin: String,
    size: u64,
    offset: u64,
    frontier: Vec<String>,
    verifications: BTreeMap<String, LatestVerification>,
}

/// A deploy index, opened and checked against the evidence key.
#[derive(Debug, Clone)]
pub(crate) struct DeployIndex {
    /// Where the verified records end.
    pub point: ResumePoint,
    /// The latest verification of each model (hex OMS root digest), among
    /// the verified records.
    pub verifications: BTreeMap<String, LatestVerification>,
}

impl DeployIndex {
    /// An index of no records yet, not yet placed: its point is set once
    /// the records it takes in are verified.
    pub fn unplaced() -> Self {
        DeployIndex {
            point: ResumePoint {
                origin: String::new(),
                frontier: Frontier::new(),
                offset: 0,
            },
            verifications: BTreeMap::new(),
        }
    }

    /// Takes in records that follow the ones indexed, in order.
    pub fn take<'r>(&mut self, records: impl IntoIterator<Item = &'r Record>) {
        for r in records {
            if let Predicate::Verification(v) = &r.predicate {
                self.verifications.insert(
                    r.subject.sha256.to_string(),
                    LatestVerification {
                        index: r.index as u64,
                        record: r.digest.to_string(),
                        passed: v.verification_result != VerificationResult::Failed,
                    },
                );
            }
        }
    }

    /// What a deployment of `model` relies on, decided from the index
    /// alone: the latest verification of the model when none is `named`,
    /// or the one named when it is that latest one (so no later one failed).
    /// The digest of that verification and whether it passed; `Some(None)`
    /// when the log holds no verification of the model. `None` when the
    /// index cannot decide (the verification named is an older one, or not
    /// of this model): the whole log decides, and explains a refusal.
    pub fn relied_on(&self, model: &str, named: Option<&str>) -> Option<Option<(String, bool)>> {
        let latest = self.verifications.get(model);
        match named {
            None => Some(latest.map(|v| (v.record.clone(), v.passed))),
            Some(named) => {
                let named = named.strip_prefix("sha256:").unwrap_or(named);
                latest
                    .filter(|v| v.record == named)
                    .map(|v| Some((v.record.clone(), v.passed)))
            }
        }
    }

    /// The index sealed by `key`, as stored.
    pub fn seal(&self, key: &dyn SealKey) -> Result<Vec<u8>> {
        let payload = Payload {
            origin: self.point.origin.clone(),
            size: self.point.frontier.size(),
            offset: self.point.offset,
            frontier: self
                .point
                .frontier
                .hashes()
                .iter()
                .map(hex::encode)
                .collect(),
            verifications: self.verifications.clone(),
        };
        let bytes = serde_json::to_vec(&payload)
            .map_err(|e| crate::Error::Evidence(format!("cannot encode the deploy index: {e}")))?;
        let signature = key.seal(&pae(DEPLOY_INDEX_PAYLOAD_TYPE, &bytes))?;
        let envelope = Envelope {
            payload: STANDARD.encode(&bytes),
            payload_type: DEPLOY_INDEX_PAYLOAD_TYPE.into(),
            signatures: vec![crate::bundle::EnvelopeSignature {
                sig: STANDARD.encode(signature.to_bytes()),
                keyid: None,
            }],
        };
        serde_json::to_vec(&envelope)
            .map_err(|e| crate::Error::Evidence(format!("cannot encode the deploy index: {e}")))
    }

    /// Opens a stored index sealed by `key`; `None` for anything else (not
    /// an index, another key, a broken seal, a frontier that does not fit
    /// its size).
    pub fn open(bytes: &[u8], key: &VerifyingKey) -> Option<Self> {
        let envelope: Envelope = crate::json::from_slice(bytes).ok()?;
        if envelope.payload_type != DEPLOY_INDEX_PAYLOAD_TYPE {
            return None;
        }
        let [signature] = envelope.signatures.as_slice() else {
            return None;
        };
        let signature =
            ed25519_dalek::Signature::from_slice(&STANDARD.decode(&signature.sig).ok()?).ok()?;
        let payload = envelope.payload_bytes().ok()?;
        key.verify_strict(&pae(DEPLOY_INDEX_PAYLOAD_TYPE, &payload), &signature)
            .ok()?;
        let payload: Payload = crate::json::from_slice(&payload).ok()?;
        let hashes = payload
            .frontier
            .iter()
            .map(|h| hex::decode(h).ok()?.try_into().ok())
            .collect::<Option<Vec<Hash>>>()?;
        Some(DeployIndex {
            point: ResumePoint {
                origin: payload.origin,
                frontier: Frontier::from_parts(payload.size, hashes)?,
                offset: payload.offset,
            },
            verifications: payload.verifications,
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use ed25519_dalek::SigningKey;

    fn index() -> DeployIndex {
        let mut frontier = Frontier::new();
        for i in 0..5u8 {
            frontier.push([i; 32]);
        }
        let mut verifications = BTreeMap::new();
        verifications.insert(
            "ab".repeat(32),
            LatestVerification {
                index: 3,
                record: "cd".repeat(32),
                passed: true,
            },
        );
        DeployIndex {
            point: ResumePoint {
                origin: "modelseal/evidence/test".into(),
                frontier,
                offset: 1234,
            },
            verifications,
        }
    }

    #[test]
    fn an_index_opens_only_with_its_key_and_unchanged() {
        let key = SigningKey::from_bytes(&[7; 32]);
        let other = SigningKey::from_bytes(&[8; 32]);
        let sealed = index().seal(&key).unwrap();
        let opened = DeployIndex::open(&sealed, &key.verifying_key()).unwrap();
        assert_eq!(opened.point.frontier, index().point.frontier);
        assert_eq!(opened.point.offset, 1234);
        assert_eq!(opened.verifications, index().verifications);
        assert!(DeployIndex::open(&sealed, &other.verifying_key()).is_none());
        // Any change to the payload breaks the seal.
        let mut envelope: Envelope = serde_json::from_slice(&sealed).unwrap();
        let payload = String::from_utf8(envelope.payload_bytes().unwrap()).unwrap();
        envelope.payload = STANDARD.encode(payload.replace("\"passed\":true", "\"passed\":false"));
        let edited = serde_json::to_vec(&envelope).unwrap();
        assert!(DeployIndex::open(&edited, &key.verifying_key()).is_none());
        // A record or anything else sealed by the key is not an index.
        envelope = serde_json::from_slice(&sealed).unwrap();
        envelope.payload_type = crate::bundle::IN_TOTO_PAYLOAD_TYPE.into();
        let retyped = serde_json::to_vec(&envelope).unwrap();
        assert!(DeployIndex::open(&retyped, &key.verifying_key()).is_none());
        assert!(DeployIndex::open(b"garbage", &key.verifying_key()).is_none());
    }
}
