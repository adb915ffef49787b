//! A log in its store, held against its witnesses: the whole check that
//! `evidence verify` and the audit make, and the offline proof of one
//! record over the best checkpoint the store kept.

use crate::{
    LogState, Outcome, Policy, PrefixRoots, Seen, WitnessCheck, WitnessProblem, check, check_kept,
    witnessed_by, write_proof,
};
use ed25519_dalek::VerifyingKey;
use modelseal_evidence::record::Record;
use modelseal_evidence::{
    Error, EvidenceStore, KeptCosigned, LogCheck, ScanItem, VerifyOptions, merkle,
    open_log_checkpoint as open_checkpoint, verify_store,
};
use std::time::Duration;

/// How [`check_store`] holds a verified log against its witnesses.
#[derive(Debug, Clone, Copy)]
#[non_exhaustive]
pub struct StoreCheck<'a> {
    /// A checkpoint the caller kept from an earlier check, relied on: it
    /// must carry the quorum's cosignatures itself.
    pub kept: Option<&'a str>,
    /// Ask each witness what it holds (false for a copy of the log, an
    /// export, whose witnesses have seen the log grow since: only the
    /// cosignatures it carries are checked).
    pub ask: bool,
    /// How long each witness may take to answer.
    pub timeout: Duration,
    /// Trust anchors (DER) of a time-stamping authority: when given, the
    /// cosigned checkpoint kept must carry an RFC 3161 stamp that verifies
    /// under them.
    pub tsa_anchors: Option<&'a [Vec<u8>]>,
    /// The verifying clock, for the stamp's certificates.
    pub now: jiff::Timestamp,
}

impl StoreCheck<'_> {
    /// Asks every witness, within `timeout`, at the verifying clock `now`;
    /// no kept checkpoint, no stamp required.
    pub fn new(timeout: Duration, now: jiff::Timestamp) -> Self {
        StoreCheck {
            kept: None,
            ask: true,
            timeout,
            tsa_anchors: None,
            now,
        }
    }
}

/// Checks the log `check` verified (with its leaves kept) against the
/// policy's witnesses: the largest cosigned checkpoint the store kept that
/// reached the quorum (every kept one checked, none trusted), or a latest
/// kept larger than the log (a rollback), and what each witness holds.
/// Everything found wrong is in the result's problems; an error means the
/// log could not be put to its witnesses at all (not intact, unreadable).
pub fn check_store(
    policy: &Policy,
    store: &dyn EvidenceStore,
    key: &VerifyingKey,
    log: &LogCheck,
    options: &StoreCheck<'_>,
) -> Result<WitnessCheck, Error> {
    let state = LogState::of(log, key).map_err(|e| Error::Evidence(e.to_string()))?;
    let kept_problem = options
        .kept
        .and_then(|note| check_kept(policy, &state, note).err());
    let (best, kept_problems) = witnessed_by(policy, &state, store, u64::MAX)?;
    let latest = store.latest_cosigned()?;
    let stored = match (best, latest) {
        (_, Some(l)) if l.size > state.checkpoint.size => Some(l),
        (Some(b), _) => Some(KeptCosigned::new(b.size, b.time, b.note, b.stamp)?),
        (None, l) => l,
    };
    let mut found = check(
        policy,
        &state,
        stored.as_ref().map(|k| k.note.as_str()),
        options.ask,
        options.timeout,
    );
    if let Some(anchors) = options.tsa_anchors {
        match stamp_of(stored.as_ref(), key, anchors, options.now) {
            Ok(stamped) => found.stamped = Some(stamped),
            Err(problem) => found.problems.push(problem),
        }
    }
    found
        .problems
        .extend(kept_problem.map(WitnessProblem::Kept));
    found.problems.extend(kept_problems);
    Ok(found)
}

/// The checked RFC 3161 stamp of the kept cosigned checkpoint: its size,
/// and when and by whom it was stamped; else the problem.
fn stamp_of(
    stored: Option<&KeptCosigned>,
    key: &VerifyingKey,
    anchors: &[Vec<u8>],
    now: jiff::Timestamp,
) -> Result<(u64, String), WitnessProblem> {
    let kept = stored.ok_or(WitnessProblem::NothingStamped)?;
    let body = crate::split_note(&kept.note).map(|(b, _)| b.to_string());
    let size = open_checkpoint(&kept.note, key).map(|c| c.size);
    let (Some(token), Ok(body), Ok(size)) = (&kept.stamp, body, size) else {
        return Err(WitnessProblem::NoStamp);
    };
    modelseal_core::timestamp::verify(token, body.as_bytes(), anchors, None, now)
        .map(|s| (size, format!("{} by {} under {}", s.time, s.tsa, s.anchor)))
        .map_err(WitnessProblem::Stamp)
}

/// Which record to prove.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
#[non_exhaustive]
pub enum RecordRef<'a> {
    /// Its number in the log, from 1.
    Number(usize),
    /// Its SHA-256 (64 lowercase hex digits).
    Digest(&'a str),
}

/// The offline proof of one record, as [`prove`] wrote it.
#[derive(Debug, Clone)]
#[non_exhaustive]
pub struct RecordProof {
    /// The record proven.
    pub record: Record,
    /// The size of the checkpoint the proof is over.
    pub size: u64,
    /// Whether that checkpoint is a cosigned one the store kept (else the
    /// log's own, which only the key holder signed).
    pub cosigned: bool,
    /// Whether its cosignatures were checked to reach the witness policy's
    /// quorum (only with a policy; the proof's checker checks them again).
    pub checked: bool,
    /// The proof (C2SP tlog-proof).
    pub text: String,
}

/// The proof that a record of the log in `store` is in it. The log is
/// verified first (at `now`), and the record's exact line is read again and
/// must match its leaf. The proof is over a cosigned checkpoint the store
/// kept when one covers the record: with `policy`, the largest whose
/// cosignatures reach its quorum; without, the largest kept, its
/// cosignatures carried unchecked (every kept one is checked against the
/// log either way). Else it is over the
/// log's own checkpoint. A kept checkpoint of another log, or not a prefix
/// of this one, is refused: the store was tampered with or the log forked.
pub fn prove(
    store: &dyn EvidenceStore,
    key: &VerifyingKey,
    record: RecordRef<'_>,
    policy: Option<&Policy>,
    now: jiff::Timestamp,
) -> Result<RecordProof, Error> {
    let check = verify_store(
        store,
        key,
        VerifyOptions {
            keep_records: true,
            keep_leaves: true,
            now: Some(now),
            ..VerifyOptions::default()
        },
    )?;
    let state = LogState::of(&check, key).map_err(|e| Error::Evidence(e.to_string()))?;
    let wanted = match record {
        RecordRef::Number(n) => check.records.iter().find(|r| r.index + 1 == n),
        RecordRef::Digest(d) => check.records.iter().find(|r| r.digest == d),
    }
    .ok_or_else(|| {
        let named = match record {
            RecordRef::Number(n) => n.to_string(),
            RecordRef::Digest(d) => format!("sha256:{d}"),
        };
        Error::Usage(format!("{named}: no such record in {}", check.location))
    })?;
    let index = wanted.index;
    let line = line_of(store, &check, index)?;
    let kept = match policy {
        Some(policy) => {
            let (best, problems) = witnessed_by(policy, &state, store, u64::MAX)?;
            if let Some(problem) = problems.first() {
                return Err(Error::Evidence(format!("{}: {problem}", check.location)));
            }
            best.map(|b| (b.note, b.size))
        }
        None => largest_kept_prefix(store, &state, &check)?,
    };
    let covering = kept.filter(|(_, size)| *size > index as u64);
    let (note, size) = match &covering {
        Some((note, size)) => (note.as_str(), *size),
        None => (state.note, state.checkpoint.size),
    };
    let text = write_proof(index as u64, &line, &check.leaves, note, size)
        .map_err(|e| Error::Evidence(e.to_string()))?;
    Ok(RecordProof {
        record: wanted.clone(),
        size,
        cosigned: covering.is_some(),
        checked: covering.is_some() && policy.is_some(),
        text,
    })
}

/// The largest cosigned checkpoint kept that is a prefix of the log (note
/// and size), its cosignatures unchecked. Every kept one is examined: one
/// larger than the log is passed over (kept after the log was read; a
/// rollback is for [`check_store`] to find); one that does not open with
/// the log's key, of another log, or not a prefix is refused.
fn largest_kept_prefix(
    store: &dyn EvidenceStore,
    state: &LogState<'_>,
    check: &LogCheck,
) -> Result<Option<(String, u64)>, Error> {
    let roots = PrefixRoots::of_kept(state, store)?;
    let mut seen = Seen::default();
    let mut best: Option<(String, u64)> = None;
    store.cosigned(&mut |kept| {
        if !seen.first(&kept.note) {
            return Ok(());
        }
        let refuse = |why: String| {
            Err(Error::Evidence(format!(
                "{}: a kept cosigned checkpoint {why}",
                check.location
            )))
        };
        let Ok(cp) = open_checkpoint(&kept.note, state.key) else {
            return refuse("does not open with the log's key".into());
        };
        if cp.origin != state.checkpoint.origin {
            return refuse(format!("is of another log ({})", cp.origin));
        }
        if cp.size > state.checkpoint.size {
            return Ok(());
        }
        if roots.at(cp.size) != Some(cp.root) {
            return refuse(format!("of {} records is not a prefix of the log", cp.size));
        }
        if best.as_ref().is_none_or(|(_, size)| cp.size > *size) {
            best = Some((kept.note, cp.size));
        }
        Ok(())
    })?;
    Ok(best)
}

/// The exact log line of record `index` (0-based), read again: it must be
/// the line whose leaf the verification took.
fn line_of(store: &dyn EvidenceStore, check: &LogCheck, index: usize) -> Result<Vec<u8>, Error> {
    let mut found = None;
    let mut position = 0usize;
    store.scan(&mut |item| {
        if let ScanItem::Record { bytes, .. } = item {
            if position == index {
                found = Some(bytes.to_vec());
            }
            position += 1;
        }
        Ok(())
    })?;
    match found {
        Some(line) if merkle::leaf_hash(&line) == check.leaves[index] => Ok(line),
        _ => Err(Error::Evidence(format!(
            "{}: record {} changed while read",
            check.location,
            index + 1
        ))),
    }
}

impl std::fmt::Display for Outcome {
    /// What the witness holds, in a few words.
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            Outcome::Cosigned(time) => write!(f, "cosigned at {}", Seconds(*time)),
            Outcome::Ahead(size) => write!(f, "AHEAD: it cosigned {size} records"),
            Outcome::Behind(size) => write!(f, "behind, at {size} records"),
            Outcome::Forked => f.write_str("FORKED: it holds another root at this size"),
            Outcome::Failed(why) => write!(f, "not counted: {why}"),
            Outcome::NoUrl => f.write_str("no URL in the policy (stored cosignatures only)"),
        }
    }
}

/// Seconds since the epoch, shown as an RFC 3339 time (or as seconds, when
/// out of range).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Seconds(pub u64);

impl std::fmt::Display for Seconds {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match i64::try_from(self.0)
            .ok()
            .and_then(|s| jiff::Timestamp::from_second(s).ok())
        {
            Some(t) => write!(f, "{t}"),
            None => write!(f, "{} s", self.0),
        }
    }
}
