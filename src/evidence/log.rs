//! The evidence log: append-only JSON Lines, an RFC 6962 Merkle tree over
//! the exact line bytes, and a signed checkpoint beside it (`LOG.checkpoint`)
//! rewritten on every append. Appends hold an exclusive lock (`LOG.lock`), and
//! refuse to extend a log that no longer matches its checkpoint.

use super::merkle::{Hash, consistency_proof, leaf_hash, root, verify_consistency};
use super::note::{Checkpoint, open_checkpoint, sign_checkpoint};
use super::record::{Record, open};
use crate::fetch::{InputKind, read_text};
use crate::{Error, Result};
use ed25519_dalek::{SigningKey, VerifyingKey};
use sha2::{Digest, Sha256};
use std::io::Write;
use std::path::{Path, PathBuf};

fn with_suffix(path: &Path, suffix: &str) -> PathBuf {
    let mut s = path.as_os_str().to_os_string();
    s.push(suffix);
    PathBuf::from(s)
}

/// Where a log's latest checkpoint is kept.
pub fn checkpoint_path(log: &Path) -> PathBuf {
    with_suffix(log, ".checkpoint")
}

/// The origin (and note key name) of logs kept with `key`.
pub fn origin(key: &VerifyingKey) -> String {
    format!(
        "modelseal/evidence/{}",
        &hex::encode(Sha256::digest(key.as_bytes()))[..16]
    )
}

/// The log's lines (without their newlines). A final line without a newline
/// is an interrupted write and is an error.
pub fn read_lines(log: &Path) -> Result<Vec<Vec<u8>>> {
    let bytes = match std::fs::metadata(log) {
        Err(e) if e.kind() == std::io::ErrorKind::NotFound => return Ok(Vec::new()),
        _ => crate::fetch::read_file(log, InputKind::EvidenceLog)?,
    };
    if bytes.is_empty() {
        return Ok(Vec::new());
    }
    if !bytes.ends_with(b"\n") {
        return Err(Error::Evidence(format!(
            "{}: the last record is cut off (no final newline)",
            log.display()
        )));
    }
    Ok(bytes[..bytes.len() - 1]
        .split(|b| *b == b'\n')
        .map(<[u8]>::to_vec)
        .collect())
}

fn leaves(lines: &[Vec<u8>]) -> Vec<Hash> {
    lines.iter().map(|l| leaf_hash(l)).collect()
}

/// Appends one record line under the lock and re-signs the checkpoint.
/// Returns the new checkpoint.
pub fn append(log: &Path, line: &str, key: &SigningKey) -> Result<Checkpoint> {
    if line.contains('\n') {
        return Err(Error::Evidence("a record must be a single line".into()));
    }
    let lock_path = with_suffix(log, ".lock");
    let lock = std::fs::OpenOptions::new()
        .create(true)
        .truncate(false)
        .write(true)
        .open(&lock_path)
        .map_err(|e| Error::io(&lock_path, e))?;
    lock.lock().map_err(|e| Error::io(&lock_path, e))?;
    let result = append_locked(log, line, key);
    let _ = lock.unlock();
    result
}

fn append_locked(log: &Path, line: &str, key: &SigningKey) -> Result<Checkpoint> {
    let name = origin(&key.verifying_key());
    let lines = read_lines(log)?;
    let cp_path = checkpoint_path(log);
    let mut hashes = leaves(&lines);
    match read_text(&cp_path, InputKind::Checkpoint) {
        Ok(note) => {
            let cp = open_checkpoint(&note, &name, &key.verifying_key())
                .map_err(|e| Error::Evidence(format!("{}: {e}", cp_path.display())))?;
            // Every append re-signs the checkpoint, so the log must be exactly
            // what it covers: a line more was written behind modelseal's back.
            if cp.size != hashes.len() as u64 || root(&hashes) != cp.root {
                return Err(Error::Evidence(format!(
                    "{} no longer matches its checkpoint; refusing to append (run `modelseal evidence verify`)",
                    log.display()
                )));
            }
        }
        Err(e) if e.is_not_found() && lines.is_empty() => {}
        Err(e) if e.is_not_found() => {
            return Err(Error::Evidence(format!(
                "{} has records but no checkpoint; refusing to append",
                log.display()
            )));
        }
        Err(e) => return Err(e.into()),
    }
    let mut file = std::fs::OpenOptions::new()
        .create(true)
        .append(true)
        .open(log)
        .map_err(|e| Error::io(log, e))?;
    file.write_all(format!("{line}\n").as_bytes())
        .map_err(|e| Error::io(log, e))?;
    file.sync_all().map_err(|e| Error::io(log, e))?;
    hashes.push(leaf_hash(line.as_bytes()));
    let cp = Checkpoint {
        origin: name.clone(),
        size: hashes.len() as u64,
        root: root(&hashes),
    };
    let tmp = with_suffix(&cp_path, ".tmp");
    std::fs::write(&tmp, sign_checkpoint(&cp, &name, key)).map_err(|e| Error::io(&tmp, e))?;
    std::fs::rename(&tmp, &cp_path).map_err(|e| Error::io(&cp_path, e))?;
    Ok(cp)
}

/// The result of checking a log.
#[derive(Debug, Clone, Default)]
pub struct LogCheck {
    /// Records that opened with the evidence key.
    pub records: Vec<Record>,
    /// Lines in the log.
    pub lines: usize,
    /// Everything wrong, each naming the record or checkpoint.
    pub problems: Vec<String>,
    /// The checkpoint beside the log, when it verified.
    pub checkpoint: Option<Checkpoint>,
    /// What was proven about an older checkpoint.
    pub consistency: Option<String>,
}

impl LogCheck {
    /// Whether the log is intact.
    pub fn ok(&self) -> bool {
        self.problems.is_empty()
    }
}

/// Checks every record's signature, the Merkle root against the signed
/// checkpoint, and, given an older checkpoint, that the log extends it.
pub fn verify_log(log: &Path, key: &VerifyingKey, older: Option<&str>) -> Result<LogCheck> {
    let name = origin(key);
    let mut check = LogCheck::default();
    let lines = match read_lines(log) {
        Ok(lines) => lines,
        Err(Error::Evidence(problem)) => {
            check.problems.push(problem);
            return Ok(check);
        }
        Err(e) => return Err(e),
    };
    check.lines = lines.len();
    for (i, line) in lines.iter().enumerate() {
        match open(i, line, key) {
            Ok(record) => check.records.push(record),
            Err(why) => check.problems.push(format!("record {}: {why}", i + 1)),
        }
    }
    let hashes = leaves(&lines);
    let cp_path = checkpoint_path(log);
    match read_text(&cp_path, InputKind::Checkpoint) {
        Err(e) if e.is_not_found() => {
            if !lines.is_empty() {
                check
                    .problems
                    .push(format!("{}: missing", cp_path.display()));
            }
        }
        Err(e) => return Err(e.into()),
        Ok(note) => match open_checkpoint(&note, &name, key) {
            Err(e) => check.problems.push(format!("{}: {e}", cp_path.display())),
            Ok(cp) => {
                if cp.size != lines.len() as u64 {
                    check.problems.push(format!(
                        "the checkpoint covers {} records but the log holds {} (records deleted, truncated or appended outside modelseal)",
                        cp.size,
                        lines.len()
                    ));
                } else if cp.root != root(&hashes) {
                    check.problems.push(
                        "the log's Merkle root differs from the signed checkpoint (records edited, reordered or replaced)".into(),
                    );
                }
                check.checkpoint = Some(cp);
            }
        },
    }
    if let Some(older) = older {
        match open_checkpoint(older, &name, key) {
            Err(e) => check.problems.push(format!("the older checkpoint: {e}")),
            Ok(old) => {
                let m = usize::try_from(old.size).unwrap_or(usize::MAX);
                if m > hashes.len() {
                    check.problems.push(format!(
                        "the log holds {} records, fewer than the older checkpoint's {} (truncated)",
                        hashes.len(),
                        old.size
                    ));
                } else {
                    let new_root = root(&hashes);
                    let proof = consistency_proof(m, &hashes);
                    if verify_consistency(
                        old.size,
                        hashes.len() as u64,
                        &old.root,
                        &new_root,
                        &proof,
                    ) {
                        check.consistency = Some(format!(
                            "the log of {} records extends the older checkpoint of {} (RFC 6962 consistency proof of {} hashes)",
                            hashes.len(),
                            old.size,
                            proof.len()
                        ));
                    } else {
                        check.problems.push(format!(
                            "the log is not an extension of the older checkpoint of {} records (history rewritten)",
                            old.size
                        ));
                    }
                }
            }
        }
    }
    Ok(check)
}
