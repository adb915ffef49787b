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
) -> Result<String, String> {
    let n = usize::try_from(size).map_err(|_| "a size too large".to_string())?;
    let i = usize::try_from(index).map_err(|_| "an index too large".to_string())?;
    if n > leaves.len() || i >= n {
        return Err(format!(
            "record {} is not in the checkpoint of {size} records",
            index + 1
        ));
    }
    if merkle::leaf_hash(line) != leaves[i] {
        return Err(format!("record {} is not the line given", index + 1));
    }
    let hashes =
        merkle::inclusion_proof(i, &leaves[..n]).ok_or_else(|| "no inclusion proof".to_string())?;
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
) -> Result<ProofCheck, String> {
    let rest = text
        .strip_prefix(PROOF_HEADER)
        .and_then(|r| r.strip_prefix('\n'))
        .ok_or("not a tlog proof (no c2sp.org/tlog-proof@v1 line)")?;
    let (extra, rest) = match rest.strip_prefix("extra ") {
        Some(r) => {
            let (value, r) = r.split_once('\n').ok_or("a truncated proof")?;
            let max = MAX_RECORD.saturating_mul(2);
            if value.len() > max {
                return Err("an extra line longer than any record".into());
            }
            (
                Some(
                    STANDARD
                        .decode(value)
                        .map_err(|_| "the extra line is not base64")?,
                ),
                r,
            )
        }
        None => (None, rest),
    };
    let (index_line, mut rest) = rest.split_once('\n').ok_or("a truncated proof")?;
    let index_text = index_line.strip_prefix("index ").ok_or("no index line")?;
    if index_text.is_empty()
        || !index_text.bytes().all(|b| b.is_ascii_digit())
        || (index_text.len() > 1 && index_text.starts_with('0'))
    {
        return Err("the index is not a decimal number without leading zeroes".into());
    }
    let index: u64 = index_text.parse().map_err(|_| "an index too large")?;
    let mut hashes = Vec::new();
    loop {
        let (line, r) = rest.split_once('\n').ok_or("a truncated proof")?;
        rest = r;
        if line.is_empty() {
            break;
        }
        if hashes.len() == MAX_HASHES {
            return Err(format!("more than {MAX_HASHES} proof hashes"));
        }
        let h: Hash = STANDARD
            .decode(line)
            .ok()
            .and_then(|b| b.try_into().ok())
            .ok_or("a proof line that is not a base64 SHA-256 hash")?;
        hashes.push(h);
    }
    let note = rest;
    let checkpoint = modelseal_evidence::open_log_checkpoint(note, key)
        .map_err(|e| format!("the proof's checkpoint: {e}"))?;
    if let Some(p) = policy
        && !p.accepts_log(&checkpoint.origin, key)
    {
        return Err(format!(
            "the witness policy does not list the log {}",
            checkpoint.origin
        ));
    }
    let line: &[u8] = match (record, extra.as_deref()) {
        (Some(given), Some(carried)) if given != carried => {
            return Err("the record given is not the one the proof carries".into());
        }
        (Some(given), _) => given,
        (None, Some(carried)) => carried,
        (None, None) => return Err("the proof carries no record: give the record's line".into()),
    };
    let i = usize::try_from(index).map_err(|_| "an index too large".to_string())?;
    let opened =
        modelseal_evidence::record::open(i, line, key).map_err(|e| format!("the record: {e}"))?;
    if let Some(binding) = &opened.binding
        && (*binding.origin != *checkpoint.origin || binding.index != index)
    {
        return Err(format!(
            "the record is sealed for place {} of {}, not place {} of this log",
            binding.index + 1,
            binding.origin,
            index + 1
        ));
    }
    if !merkle::verify_inclusion(
        index,
        checkpoint.size,
        &merkle::leaf_hash(line),
        &checkpoint.root,
        &hashes,
    ) {
        return Err(format!(
            "the inclusion proof of record {} does not verify against the checkpoint",
            index + 1
        ));
    }
    let (cosignatures, quorum) = match policy {
        Some(p) => {
            let (body, lines) = split_note(note)?;
            let (found, bad) = read_cosignatures(p, body, &lines);
            if let Some(first) = bad.first() {
                return Err(first.clone());
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
