//! C2SP tlog-proof: an offline proof that a record is in the log, as
//! `c2sp.org/tlog-proof@v1`, an `extra` line holding the record's log line
//! (base64; bound to the proof by its leaf hash, so never trusted as
//! given), `index N`, the inclusion proof hashes, a blank line, and the
//! checkpoint with its cosignatures. A deploy system checks it with the
//! log's public key and the witness policy alone.

use crate::cosignature::{read_cosignatures, split_note};
use crate::policy::Policy;
use base64::Engine;
use base64::engine::general_purpose::STANDARD;
use ed25519_dalek::VerifyingKey;
use modelseal_evidence::merkle::{self, Hash};
use modelseal_evidence::record::Record;
use modelseal_evidence::{Checkpoint, MAX_RECORD};

/// The first line of a proof.
pub const PROOF_HEADER: &str = "c2sp.org/tlog-proof@v1";
/// Most inclusion proof hashes (a tree of 2^64 leaves needs 64).
const MAX_HASHES: usize = 64;

/// Writes the proof that the record `line` at `index` is in the tree of
/// the checkpoint `note` (of size `size`), over the log's `leaves`.
pub fn write_proof(
    index: u64,
    line: &[u8],
    leaves: &[Hash],
    note: &str,
    size: u64,
) -> Result<String, ProofError> {
    let outside = ProofError::NotInCheckpoint {
        record: index.saturating_add(1),
        size,
    };
    let n = usize::try_from(size).map_err(|_| outside.clone())?;
    let i = usize::try_from(index).map_err(|_| outside.clone())?;
    if n > leaves.len() || i >= n {
        return Err(outside);
    }
    if merkle::leaf_hash(line) != leaves[i] {
        return Err(ProofError::NotTheLine { record: index + 1 });
    }
    let hashes = merkle::inclusion_proof(i, &leaves[..n]).ok_or(outside)?;
    let mut text = format!(
        "{PROOF_HEADER}\nextra {}\nindex {index}\n",
        STANDARD.encode(line)
    );
    for h in hashes {
        text.push_str(&STANDARD.encode(h));
        text.push('\n');
    }
    text.push('\n');
    text.push_str(note);
    Ok(text)
}

/// Why a proof cannot be written or does not hold. Each reads as one
/// line, as `evidence check-proof` prints it.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[non_exhaustive]
pub enum ProofError {
    /// The text is not a tlog proof of this form.
    #[error("{0}")]
    Malformed(&'static str),
    /// More proof hashes than any tree this size needs.
    #[error("more than {max} proof hashes")]
    TooManyHashes {
        /// The most accepted.
        max: usize,
    },
    /// The record is not inside the checkpoint (writing a proof).
    #[error("record {record} is not in the checkpoint of {size} records")]
    NotInCheckpoint {
        /// The record's number (from 1).
        record: u64,
        /// The checkpoint's size.
        size: u64,
    },
    /// The line given is not that record (writing a proof).
    #[error("record {record} is not the line given")]
    NotTheLine {
        /// The record's number (from 1).
        record: u64,
    },
    /// The proof's checkpoint does not open with the log's key.
    #[error("the proof's checkpoint: {0}")]
    Checkpoint(modelseal_evidence::CheckpointError),
    /// The witness policy does not name the proof's log.
    #[error("the witness policy does not list the log {origin}")]
    LogNotListed {
        /// The checkpoint's origin.
        origin: String,
    },
    /// The record given differs from the one the proof carries.
    #[error("the record given is not the one the proof carries")]
    OtherRecord,
    /// Neither the proof nor the caller gives the record.
    #[error("the proof carries no record: give the record's line")]
    NoRecord,
    /// The record does not open with the log's key.
    #[error("the record: {0}")]
    Record(modelseal_evidence::record::RecordError),
    /// The record is sealed for another place or log.
    #[error(
        "the record is sealed for place {sealed_for} of {origin}, not place {record} of this log"
    )]
    OtherPlace {
        /// The place (from 1) it was sealed for.
        sealed_for: u64,
        /// The log it was sealed for.
        origin: String,
        /// The place (from 1) the proof puts it.
        record: u64,
    },
    /// The inclusion proof does not lead to the checkpoint's root.
    #[error("the inclusion proof of record {record} does not verify against the checkpoint")]
    Inclusion {
        /// The record's number (from 1).
        record: u64,
    },
    /// A cosignature on the checkpoint is malformed or does not verify.
    #[error("{0}")]
    Cosignature(String),
}

/// What a proof established.
#[derive(Debug, Clone)]
pub struct ProofCheck {
    /// The record, opened with the log's key.
    pub record: Record,
    /// The checkpoint it is included in.
    pub checkpoint: Checkpoint,
    /// The verified cosignatures of the policy's witnesses: name, time.
    pub cosignatures: Vec<(String, u64)>,
    /// Whether they reach the policy's quorum (false without a policy).
    pub quorum: bool,
}

/// Checks a proof with the log's key and, when given, the witness policy:
/// the checkpoint is the key's log's and signed by it, the record line is
/// a record sealed by the key at the proven index, its leaf hash is
/// included in the checkpoint's tree, and the cosignatures are counted.
/// `record`, when given, must be the line the proof carries.
pub fn check_proof(
    text: &str,
    record: Option<&[u8]>,
    key: &VerifyingKey,
    policy: Option<&Policy>,
) -> Result<ProofCheck, ProofError> {
    use ProofError::Malformed;
    let rest = text
        .strip_prefix(PROOF_HEADER)
        .and_then(|r| r.strip_prefix('\n'))
        .ok_or(Malformed(
            "not a tlog proof (no c2sp.org/tlog-proof@v1 line)",
        ))?;
    let (extra, rest) = match rest.strip_prefix("extra ") {
        Some(r) => {
            let (value, r) = r.split_once('\n').ok_or(Malformed("a truncated proof"))?;
            let max = MAX_RECORD.saturating_mul(2);
            if value.len() > max {
                return Err(Malformed("an extra line longer than any record"));
            }
            (
                Some(
                    STANDARD
                        .decode(value)
                        .map_err(|_| Malformed("the extra line is not base64"))?,
                ),
                r,
            )
        }
        None => (None, rest),
    };
    let (index_line, mut rest) = rest
        .split_once('\n')
        .ok_or(Malformed("a truncated proof"))?;
    let index_text = index_line
        .strip_prefix("index ")
        .ok_or(Malformed("no index line"))?;
    if index_text.is_empty()
        || !index_text.bytes().all(|b| b.is_ascii_digit())
        || (index_text.len() > 1 && index_text.starts_with('0'))
    {
        return Err(Malformed(
            "the index is not a decimal number without leading zeroes",
        ));
    }
    let index: u64 = index_text
        .parse()
        .map_err(|_| Malformed("an index too large"))?;
    let mut hashes = Vec::new();
    loop {
        let (line, r) = rest
            .split_once('\n')
            .ok_or(Malformed("a truncated proof"))?;
        rest = r;
        if line.is_empty() {
            break;
        }
        if hashes.len() == MAX_HASHES {
            return Err(ProofError::TooManyHashes { max: MAX_HASHES });
        }
        let h: Hash = STANDARD
            .decode(line)
            .ok()
            .and_then(|b| b.try_into().ok())
            .ok_or(Malformed("a proof line that is not a base64 SHA-256 hash"))?;
        hashes.push(h);
    }
    let note = rest;
    let checkpoint =
        modelseal_evidence::open_log_checkpoint(note, key).map_err(ProofError::Checkpoint)?;
    if let Some(p) = policy
        && !p.accepts_log(&checkpoint.origin, key)
    {
        return Err(ProofError::LogNotListed {
            origin: checkpoint.origin.clone(),
        });
    }
    let line: &[u8] = match (record, extra.as_deref()) {
        (Some(given), Some(carried)) if given != carried => {
            return Err(ProofError::OtherRecord);
        }
        (Some(given), _) => given,
        (None, Some(carried)) => carried,
        (None, None) => return Err(ProofError::NoRecord),
    };
    let i = usize::try_from(index).map_err(|_| Malformed("an index too large"))?;
    let opened = modelseal_evidence::record::open(i, line, key).map_err(ProofError::Record)?;
    if let Some(binding) = &opened.binding
        && (*binding.origin != *checkpoint.origin || binding.index != index)
    {
        return Err(ProofError::OtherPlace {
            sealed_for: binding.index + 1,
            origin: binding.origin.to_string(),
            record: index + 1,
        });
    }
    if !merkle::verify_inclusion(
        index,
        checkpoint.size,
        &merkle::leaf_hash(line),
        &checkpoint.root,
        &hashes,
    ) {
        return Err(ProofError::Inclusion { record: index + 1 });
    }
    let (cosignatures, quorum) = match policy {
        Some(p) => {
            let (body, lines) =
                split_note(note).map_err(|e| ProofError::Cosignature(e.to_string()))?;
            let (found, bad) = read_cosignatures(p, body, &lines);
            if let Some(first) = bad.first() {
                return Err(ProofError::Cosignature(first.clone()));
            }
            let indices: Vec<usize> = found.iter().map(|c| c.index).collect();
            (
                found.iter().map(|c| (c.witness.clone(), c.time)).collect(),
                p.quorum_met(&indices),
            )
        }
        None => (Vec::new(), false),
    };
    Ok(ProofCheck {
        record: opened,
        checkpoint,
        cosignatures,
        quorum,
    })
}
