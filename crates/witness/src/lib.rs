//! Witnessed evidence checkpoints. Whoever holds the evidence key or owns
//! the database can present a shorter or different history and sign it;
//! witnesses ([C2SP tlog-witness]) cannot be made to forget what they
//! cosigned. This crate asks a policy's witnesses to cosign a log's
//! checkpoint ([`witness`]), and checks a log against them ([`check`]):
//! a stored cosigned checkpoint must be a prefix of the log and reach the
//! policy's quorum, and every witness is asked, without advancing it, what
//! size it holds: a witness ahead of the log, or holding another root at
//! the log's size, means the log was rolled back or forked.
//!
//! [C2SP tlog-witness]: https://c2sp.org/tlog-witness
#![forbid(unsafe_code)]

mod client;
mod cosignature;
mod policy;
mod problem;
mod proof;
mod store;

pub use client::{Answer, AskError, add_checkpoint};
pub use cosignature::{Cosigned, NoteError, read_cosignatures, signed_message, split_note};
pub use policy::{NoteKey, Policy, PolicyError, Witness, witness_vkey};
pub use problem::WitnessProblem;
pub use proof::{PROOF_HEADER, ProofCheck, ProofError, check_proof, write_proof};
pub use store::{RecordProof, RecordRef, Seconds, StoreCheck, check_store, prove};

use ed25519_dalek::VerifyingKey;
use modelseal_evidence::Checkpoint;
use modelseal_evidence::merkle::{self, Hash};
use std::time::Duration;

pub use modelseal_evidence::{KeptCosigned, stamp_path, witnessed_path};

/// What one witness did with a checkpoint.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Outcome {
    /// It cosigned (the cosignature verified), at this time.
    Cosigned(u64),
    /// It holds a larger tree of the log than the checkpoint.
    Ahead(u64),
    /// It holds a smaller tree (verification only: it was not advanced).
    Behind(u64),
    /// It holds another root at the checkpoint's size.
    Forked,
    /// It could not be asked, or answered nothing usable: not counted.
    Failed(String),
    /// The policy gives it no URL: only stored cosignatures count.
    NoUrl,
}

/// A log's state, as the evidence verification found it.
pub struct LogState<'a> {
    /// The log-signed checkpoint note, exactly as stored.
    pub note: &'a str,
    /// Its checkpoint.
    pub checkpoint: &'a Checkpoint,
    /// The leaf hashes of the records it covers.
    pub leaves: &'a [Hash],
    /// The evidence key.
    pub key: &'a VerifyingKey,
}

/// Why a log cannot be put to its witnesses.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[non_exhaustive]
pub enum WitnessError {
    /// The log does not verify: no witness is asked about it.
    #[error("{location}: the log is not intact, so its witnesses cannot be asked about it")]
    LogNotIntact {
        /// Where the log is.
        location: String,
    },
    /// The witness policy does not name the log.
    #[error("the witness policy does not list the log {origin}")]
    LogNotListed {
        /// The log's origin.
        origin: String,
    },
    /// The log's checkpoint is not a signed note.
    #[error("{0}")]
    Note(NoteError),
}

impl<'a> LogState<'a> {
    /// The state of a log as `check` found it (kept with its leaves),
    /// sealed by `key`; an error when the log is not intact, for a log
    /// that does not verify cannot be put to its witnesses.
    pub fn of(
        check: &'a modelseal_evidence::LogCheck,
        key: &'a VerifyingKey,
    ) -> Result<Self, WitnessError> {
        match (&check.checkpoint, &check.checkpoint_note) {
            (Some(checkpoint), Some(note)) if check.ok() => Ok(LogState {
                note,
                checkpoint,
                leaves: &check.leaves,
                key,
            }),
            _ => Err(WitnessError::LogNotIntact {
                location: check.location.clone(),
            }),
        }
    }
}

/// The result of asking the witnesses to cosign.
#[derive(Debug, Clone)]
pub struct Witnessing {
    /// Each witness of the policy, by name, with what it did.
    pub outcomes: Vec<(String, Outcome)>,
    /// The checkpoint note with every verified cosignature appended.
    pub cosigned_note: String,
    /// Whether the cosignatures reach the quorum.
    pub quorum: bool,
    /// Cosignatures that did not verify, and other trouble.
    pub problems: Vec<String>,
    /// Whether the cosigned note should replace the one kept: it reaches
    /// the quorum, or the kept one did not either (an older checkpoint
    /// that reached the quorum is never replaced by one that does not).
    pub replace: bool,
}

/// Asks every witness of `policy` that has a URL to cosign the log's
/// checkpoint. `previous` is the cosigned checkpoint kept from the last
/// time (its size is where each witness is first assumed to be; its
/// cosignatures are kept when it is the same checkpoint).
pub fn witness(
    policy: &Policy,
    log: &LogState<'_>,
    previous: Option<&str>,
    timeout: Duration,
) -> Result<Witnessing, WitnessError> {
    let cp = log.checkpoint;
    if !policy.accepts_log(&cp.origin, log.key) {
        return Err(WitnessError::LogNotListed {
            origin: cp.origin.clone(),
        });
    }
    let (body, own) = split_note(log.note).map_err(WitnessError::Note)?;
    let mut lines: Vec<String> = own.iter().map(|l| l.to_string()).collect();
    let mut start = 0;
    let previous_met = previous.is_some_and(|p| {
        modelseal_evidence::open_log_checkpoint(p, log.key).is_ok()
            && split_note(p).is_ok_and(|(b, l)| {
                let (found, _) = read_cosignatures(policy, b, &l);
                !found.is_empty()
                    && policy.quorum_met(&found.iter().map(|c| c.index).collect::<Vec<_>>())
            })
    });
    if let Some(prev) = previous.and_then(|p| open_cosigned(p, log.key).ok()) {
        if prev.0.size <= cp.size {
            start = prev.0.size;
        }
        if prev.0 == *cp {
            lines.extend(prev.1.iter().map(|c| c.line.clone()));
        }
    }
    // Every witness is asked at once: one slow or unreachable witness costs
    // its timeout once, not once per witness.
    let asked: Vec<(Outcome, Option<String>)> = std::thread::scope(|scope| {
        let handles: Vec<_> = policy
            .witnesses
            .iter()
            .enumerate()
            .map(|(index, w)| scope.spawn(move || ask(policy, index, w, log, body, start, timeout)))
            .collect();
        handles
            .into_iter()
            .map(|h| {
                h.join()
                    .unwrap_or_else(|_| (Outcome::Failed("the request failed".into()), None))
            })
            .collect()
    });
    let mut outcomes = Vec::new();
    let problems = Vec::new();
    for (w, (outcome, line)) in policy.witnesses.iter().zip(asked) {
        lines.extend(line);
        outcomes.push((w.name.clone(), outcome));
    }
    let refs: Vec<&str> = lines.iter().map(String::as_str).collect();
    let (found, _) = read_cosignatures(policy, body, &refs);
    let indices: Vec<usize> = found.iter().map(|c| c.index).collect();
    let mut cosigned_note = format!("{body}\n");
    for line in own {
        cosigned_note.push_str(line);
        cosigned_note.push('\n');
    }
    for c in &found {
        cosigned_note.push_str(&c.line);
        cosigned_note.push('\n');
    }
    let quorum = policy.quorum_met(&indices);
    Ok(Witnessing {
        outcomes,
        cosigned_note,
        quorum,
        problems,
        replace: !found.is_empty() && (quorum || !previous_met),
    })
}

/// Asks one witness (the policy's `index`-th) to cosign the log's
/// checkpoint, from the size it is first assumed to hold; on a 409 once
/// more from the size it names. Its own valid cosignature line, if any.
fn ask(
    policy: &Policy,
    index: usize,
    w: &Witness,
    log: &LogState<'_>,
    body: &str,
    start: u64,
    timeout: Duration,
) -> (Outcome, Option<String>) {
    let cp = log.checkpoint;
    let Some(url) = &w.url else {
        return (Outcome::NoUrl, None);
    };
    let mut old = start.min(cp.size);
    for _ in 0..2 {
        let proof = proof_from(old, log.leaves, cp.size);
        match add_checkpoint(url, old, &proof, log.note, timeout) {
            Ok(Answer::Cosigned(answer)) => {
                return match own_cosignature(policy, index, body, &answer) {
                    Ok(c) => (Outcome::Cosigned(c.time), Some(c.line)),
                    Err(why) => (Outcome::Failed(why.to_string()), None),
                };
            }
            Ok(Answer::Conflict(size)) if size > cp.size => return (Outcome::Ahead(size), None),
            Ok(Answer::Conflict(size)) if size != old => old = size,
            Ok(Answer::Conflict(size)) => {
                return (
                    Outcome::Failed(format!("409 at the size it names ({size})")),
                    None,
                );
            }
            Ok(Answer::Refused(422, _)) if old == cp.size => return (Outcome::Forked, None),
            Ok(Answer::Refused(status, text)) => {
                return (Outcome::Failed(format!("HTTP {status}: {text}")), None);
            }
            Err(e) => return (Outcome::Failed(e.to_string()), None),
        }
    }
    (Outcome::Failed("409 twice".into()), None)
}

/// The witness's own cosignature among the lines of its answer: lines
/// under other names are ignored (a witness cannot speak for another), and
/// a line of its own that does not verify only keeps it from counting.
fn own_cosignature(
    policy: &Policy,
    index: usize,
    body: &str,
    answer: &[String],
) -> Result<Cosigned, OwnCosignatureError> {
    let w = &policy.witnesses[index];
    let prefix = format!("\u{2014} {} ", w.key.name);
    let own: Vec<&str> = answer
        .iter()
        .map(String::as_str)
        .filter(|l| l.starts_with(&prefix))
        .collect();
    let (found, bad) = read_cosignatures(policy, body, &own);
    match found.into_iter().find(|c| c.index == index) {
        Some(c) => Ok(c),
        None if !bad.is_empty() => Err(OwnCosignatureError::DoesNotVerify),
        None => Err(OwnCosignatureError::Missing),
    }
}

/// Why a witness's answer to `add-checkpoint` carries no cosignature of
/// its own that counts (the witness's [`Outcome::Failed`]).
#[derive(Debug, Clone, Copy, PartialEq, Eq, thiserror::Error)]
enum OwnCosignatureError {
    /// A line under its name that does not verify.
    #[error("answered with a cosignature that does not verify")]
    DoesNotVerify,
    /// No line under its name.
    #[error("answered without its own cosignature")]
    Missing,
}

/// The consistency proof from `old` to `size` over `leaves` (empty from 0
/// or to the same size).
fn proof_from(old: u64, leaves: &[Hash], size: u64) -> Vec<Hash> {
    let n = usize::try_from(size)
        .unwrap_or(usize::MAX)
        .min(leaves.len());
    let m = usize::try_from(old).unwrap_or(usize::MAX);
    if m == 0 || m >= n {
        return Vec::new();
    }
    merkle::consistency_proof(m, &leaves[..n])
}

/// Opens a cosigned checkpoint note: its log signature with `key`, and
/// every cosignature line kept as given (they are checked against a policy
/// later).
fn open_cosigned(
    note: &str,
    key: &VerifyingKey,
) -> Result<(Checkpoint, Vec<Cosigned>), CosignedError> {
    let cp = modelseal_evidence::open_log_checkpoint(note, key).map_err(|source| {
        CosignedError::Checkpoint {
            held: Held::Cosigned,
            source,
        }
    })?;
    let (_, lines) = split_note(note)?;
    let kept = lines
        .iter()
        .map(|l| Cosigned {
            index: usize::MAX,
            witness: String::new(),
            time: 0,
            line: l.to_string(),
        })
        .collect();
    Ok((cp, kept))
}

/// What checking a log against its witnesses found.
#[derive(Debug, Clone, Default)]
pub struct WitnessCheck {
    /// The latest checkpoint of the log whose cosignatures reach the
    /// quorum (the log's own, or an older one kept), if any.
    pub witnessed: Option<Checkpoint>,
    /// Its cosignatures: witness name and time.
    pub cosignatures: Vec<(String, u64)>,
    /// Whether the log's own checkpoint reaches the quorum.
    pub quorum: bool,
    /// Each witness asked, with what it holds.
    pub outcomes: Vec<(String, Outcome)>,
    /// Records of the log beyond the witnessed checkpoint (0 when the
    /// quorum is reached).
    pub unwitnessed: u64,
    /// Rollbacks, forks and bad cosigned checkpoints: the log cannot be
    /// trusted.
    pub problems: Vec<WitnessProblem>,
    /// Why the quorum is missing, when it is (one line).
    pub missing: Option<String>,
    /// An RFC 3161 stamp of the cosigned checkpoint that was checked: its
    /// size, and when and by whom it was stamped (one line).
    pub stamped: Option<(u64, String)>,
    /// When the quorum had cosigned the witnessed checkpoint: its trusted
    /// time (seconds since the epoch).
    pub trusted_time: Option<u64>,
}

impl WitnessCheck {
    /// Whether the log stands under the policy: no problem, and its own
    /// checkpoint reaches the quorum.
    pub fn ok(&self) -> bool {
        self.problems.is_empty() && self.quorum
    }
}

/// Checks the log against the policy's witnesses: `stored` is the cosigned
/// checkpoint kept beside the log, if any; `probe` asks each witness with
/// a URL what it holds (submitting the log's own checkpoint at its own
/// size, which never advances a witness: one at that size cosigns it
/// again, any other answers 409 with its size).
pub fn check(
    policy: &Policy,
    log: &LogState<'_>,
    stored: Option<&str>,
    probe: bool,
    timeout: Duration,
) -> WitnessCheck {
    let cp = log.checkpoint;
    let mut out = WitnessCheck::default();
    if !policy.accepts_log(&cp.origin, log.key) {
        out.problems.push(WitnessProblem::LogNotListed {
            origin: cp.origin.clone(),
        });
        return out;
    }
    let mut best: Option<(Checkpoint, Vec<Cosigned>)> = None;
    if let Some(note) = stored {
        match stored_cosignatures(
            policy,
            log,
            note,
            Held::Cosigned,
            &PrefixRoots::new(log.leaves),
        ) {
            Ok(Some(found)) => best = Some(found),
            Ok(None) => {}
            Err(e) => out.problems.push(WitnessProblem::Stored(e)),
        }
    }
    let mut live: Vec<Cosigned> = Vec::new();
    if probe {
        let (body, _) = split_note(log.note).unwrap_or_default();
        let probed: Vec<(Outcome, Option<Cosigned>)> = std::thread::scope(|scope| {
            let handles: Vec<_> = policy
                .witnesses
                .iter()
                .enumerate()
                .map(|(index, w)| {
                    scope.spawn(move || probe_one(policy, index, w, log, body, timeout))
                })
                .collect();
            handles
                .into_iter()
                .map(|h| {
                    h.join()
                        .unwrap_or((Outcome::Failed("the request failed".into()), None))
                })
                .collect()
        });
        let mut fresh = Vec::new();
        let mut answered = Vec::new();
        for (index, (w, (outcome, cosigned))) in policy.witnesses.iter().zip(probed).enumerate() {
            match &outcome {
                Outcome::Ahead(size) => out.problems.push(WitnessProblem::Ahead {
                    witness: w.name.clone(),
                    size: *size,
                    log_size: cp.size,
                }),
                Outcome::Forked => out.problems.push(WitnessProblem::Forked {
                    witness: w.name.clone(),
                    size: cp.size,
                }),
                _ => {}
            }
            if matches!(
                outcome,
                Outcome::Cosigned(_) | Outcome::Behind(_) | Outcome::Ahead(_) | Outcome::Forked
            ) {
                answered.push(index);
            }
            fresh.extend(cosigned);
            out.outcomes.push((w.name.clone(), outcome));
        }
        // Only witnesses that answered can rule out a rollback or a fork:
        // as many as the quorum must have.
        if !policy.needs_none() && !policy.quorum_met(&answered) {
            out.problems.push(WitnessProblem::TooFewAnswers {
                answered: answered.len(),
                witnesses: policy.witnesses.len(),
            });
        }
        // The log's own checkpoint counts the fresh cosignatures, and the
        // stored ones when it is the stored checkpoint.
        live = fresh;
    }
    // The checkpoint held by the earliest time a quorum vouches for: its
    // stored cosignatures may be older than the fresh ones.
    let stored_time = match &best {
        Some((stored_cp, kept)) if stored_cp == cp => quorum_time(policy, kept),
        _ => None,
    };
    if let Some((stored_cp, kept)) = &best
        && stored_cp == cp
    {
        for c in kept {
            if !live.iter().any(|l| l.index == c.index) {
                live.push(c.clone());
            }
        }
    }
    live.sort_by_key(|c| c.index);
    let live_indices: Vec<usize> = live.iter().map(|c| c.index).collect();
    if policy.quorum_met(&live_indices) {
        out.quorum = true;
        out.trusted_time = match (quorum_time(policy, &live), stored_time) {
            (Some(a), Some(b)) => Some(a.min(b)),
            (a, b) => a.or(b),
        };
        out.cosignatures = live.iter().map(|c| (c.witness.clone(), c.time)).collect();
        out.witnessed = Some(cp.clone());
        return out;
    }
    out.missing = Some(missing(policy, &live_indices, cp).to_string());
    // An older checkpoint that reached the quorum still says how far the
    // log was witnessed.
    if let Some((stored_cp, kept)) = best {
        let indices: Vec<usize> = kept.iter().map(|c| c.index).collect();
        if policy.quorum_met(&indices) {
            out.trusted_time = quorum_time(policy, &kept);
            out.unwitnessed = cp.size.saturating_sub(stored_cp.size);
            out.cosignatures = kept.iter().map(|c| (c.witness.clone(), c.time)).collect();
            out.witnessed = Some(stored_cp);
        }
    }
    out
}

/// Asks one witness what it holds, by submitting the log's checkpoint at
/// its own size (never advancing it): its outcome, and its fresh
/// cosignature when it holds the same tree.
fn probe_one(
    policy: &Policy,
    index: usize,
    w: &Witness,
    log: &LogState<'_>,
    body: &str,
    timeout: Duration,
) -> (Outcome, Option<Cosigned>) {
    let cp = log.checkpoint;
    let Some(url) = &w.url else {
        return (Outcome::NoUrl, None);
    };
    match add_checkpoint(url, cp.size, &[], log.note, timeout) {
        Ok(Answer::Cosigned(answer)) => match own_cosignature(policy, index, body, &answer) {
            Ok(c) => (Outcome::Cosigned(c.time), Some(c)),
            Err(why) => (Outcome::Failed(why.to_string()), None),
        },
        Ok(Answer::Conflict(size)) if size > cp.size => (Outcome::Ahead(size), None),
        Ok(Answer::Conflict(size)) => (Outcome::Behind(size), None),
        Ok(Answer::Refused(422, _)) => (Outcome::Forked, None),
        Ok(Answer::Refused(status, text)) => {
            (Outcome::Failed(format!("HTTP {status}: {text}")), None)
        }
        Err(e) => (Outcome::Failed(e.to_string()), None),
    }
}

/// The stored cosigned checkpoint (`held`: which one, for messages),
/// checked against the log: signed by the log's key, of the same log, a
/// prefix of it; with the cosignatures of the policy's witnesses that
/// verify.
fn stored_cosignatures(
    policy: &Policy,
    log: &LogState<'_>,
    note: &str,
    held: Held,
    roots: &PrefixRoots<'_>,
) -> Result<Option<(Checkpoint, Vec<Cosigned>)>, CosignedError> {
    let cp = log.checkpoint;
    let stored = modelseal_evidence::open_log_checkpoint(note, log.key)
        .map_err(|source| CosignedError::Checkpoint { held, source })?;
    if stored.origin != cp.origin {
        return Err(CosignedError::OtherLog {
            held,
            origin: stored.origin,
        });
    }
    if stored.size > cp.size {
        return Err(CosignedError::RolledBack {
            held,
            size: stored.size,
            log_size: cp.size,
        });
    }
    usize::try_from(stored.size).map_err(|_| CosignedError::TooLarge { size: stored.size })?;
    if roots.at(stored.size) != Some(stored.root) {
        return Err(CosignedError::Forked {
            held,
            size: stored.size,
        });
    }
    let (body, lines) = split_note(note)?;
    let (found, bad) = read_cosignatures(policy, body, &lines);
    if let Some(first) = bad.into_iter().next() {
        return Err(CosignedError::Cosignature {
            held,
            problem: first,
        });
    }
    Ok(Some((stored, found)))
}

/// Which cosigned checkpoint a [`CosignedError`] is about, as its
/// message names it.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
#[non_exhaustive]
pub enum Held {
    /// The one kept beside the log ("the cosigned checkpoint").
    Cosigned,
    /// One an auditor kept ("the kept checkpoint", [`check_kept`]).
    Kept,
    /// One of those the store kept ("a kept cosigned checkpoint",
    /// [`witnessed_by`]).
    InStore,
}

impl std::fmt::Display for Held {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(match self {
            Held::Cosigned => "the cosigned checkpoint",
            Held::Kept => "the kept checkpoint",
            Held::InStore => "a kept cosigned checkpoint",
        })
    }
}

/// Why a cosigned checkpoint does not stand against the log: it does not
/// open with the log's key, is of another log, larger than the log or not
/// a prefix of it (a rollback or a fork), or carries a cosignature of a
/// policy witness that does not verify.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[non_exhaustive]
pub enum CosignedError {
    /// It does not open with the log's key.
    #[error("{held}: {source}")]
    Checkpoint {
        /// Which checkpoint.
        held: Held,
        /// Why it does not open.
        #[source]
        source: modelseal_evidence::CheckpointError,
    },
    /// It is of another log.
    #[error("{held} is of another log ({origin})")]
    OtherLog {
        /// Which checkpoint.
        held: Held,
        /// Its origin.
        origin: String,
    },
    /// It covers more records than the log has: the log was rolled back.
    #[error("{held} covers {size} records, the log {log_size}: the log was rolled back")]
    RolledBack {
        /// Which checkpoint.
        held: Held,
        /// The records it covers.
        size: u64,
        /// The records the log has.
        log_size: u64,
    },
    /// Its size does not fit in a `usize` on this machine.
    #[error("a size too large")]
    TooLarge {
        /// The size.
        size: u64,
    },
    /// Its root is not the root of the log's first records: a fork.
    #[error("{held} of {size} records is not a prefix of this log: it was forked")]
    Forked {
        /// Which checkpoint.
        held: Held,
        /// The records it covers.
        size: u64,
    },
    /// It is not a signed note.
    #[error(transparent)]
    Note(#[from] NoteError),
    /// A cosignature of a policy witness on it is malformed or does not
    /// verify.
    #[error("{held}: {problem}")]
    Cosignature {
        /// Which checkpoint.
        held: Held,
        /// What is wrong with the cosignature (as [`read_cosignatures`]
        /// says).
        problem: String,
    },
}

/// Checks a checkpoint kept by an auditor (`--checkpoint KEPT`) under the
/// policy: it must be of this log, a prefix of it, and carry cosignatures
/// that reach the quorum on their own (a checkpoint only the key holder
/// signed proves nothing the key holder could not rewrite). Returns its
/// size and cosignatures (witness name and time).
pub fn check_kept(
    policy: &Policy,
    log: &LogState<'_>,
    kept: &str,
) -> Result<(u64, Vec<(String, u64)>), KeptError> {
    let found = stored_cosignatures(policy, log, kept, Held::Kept, &PrefixRoots::new(log.leaves))?;
    let Some((cp, cosigned)) = found else {
        return Err(KeptError::NoCosignatures);
    };
    let indices: Vec<usize> = cosigned.iter().map(|c| c.index).collect();
    if !policy.quorum_met(&indices) {
        return Err(KeptError::NoQuorum {
            shortfall: missing(policy, &indices, &cp),
        });
    }
    Ok((
        cp.size,
        cosigned.into_iter().map(|c| (c.witness, c.time)).collect(),
    ))
}

/// Why a checkpoint an auditor kept cannot be relied on ([`check_kept`]).
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[non_exhaustive]
pub enum KeptError {
    /// It does not stand against the log (its [`Held`] is
    /// [`Held::Kept`]).
    #[error(transparent)]
    Cosigned(#[from] CosignedError),
    /// It carries no cosignatures.
    #[error("the kept checkpoint carries no cosignatures")]
    NoCosignatures,
    /// Its cosignatures do not reach the policy's quorum on their own.
    #[error(
        "the kept checkpoint of {} records lacks the witness policy's quorum ({shortfall}); keep the cosigned checkpoint (LOG.witnessed, or an export's), not LOG.checkpoint",
        .shortfall.size
    )]
    NoQuorum {
        /// What its cosignatures lack.
        #[source]
        shortfall: QuorumShortfall,
    },
}

/// What the cosignatures of a checkpoint lack of the policy's quorum.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error(
    "the checkpoint of {size} records lacks the witness quorum ({cosigned} of {witnesses} witnesses cosigned; not: {})",
    .lacking.join(", ")
)]
#[non_exhaustive]
pub struct QuorumShortfall {
    /// The records the checkpoint covers.
    pub size: u64,
    /// How many of the policy's witnesses cosigned it.
    pub cosigned: usize,
    /// How many witnesses the policy has.
    pub witnesses: usize,
    /// The names of those that did not cosign it, in the policy's order.
    pub lacking: Vec<String>,
}

/// What the quorum lacks on `cp`, cosigned by the witnesses `cosigned`.
fn missing(policy: &Policy, cosigned: &[usize], cp: &Checkpoint) -> QuorumShortfall {
    QuorumShortfall {
        size: cp.size,
        cosigned: cosigned.len(),
        witnesses: policy.witnesses.len(),
        lacking: policy
            .witnesses
            .iter()
            .enumerate()
            .filter(|(i, _)| !cosigned.contains(i))
            .map(|(_, w)| w.name.clone())
            .collect(),
    }
}

/// When the cosignatures among `found` first reach the policy's quorum:
/// the earliest time by which witnesses enough to meet it had cosigned
/// (`None`: they never do). This is the checkpoint's trusted time: the
/// log held its records by then, whatever the writers' clocks said.
pub fn quorum_time(policy: &Policy, found: &[Cosigned]) -> Option<u64> {
    let mut by_time: Vec<&Cosigned> = found.iter().collect();
    by_time.sort_by_key(|c| c.time);
    let mut indices = Vec::new();
    if policy.quorum_met(&indices) {
        return Some(0);
    }
    for c in by_time {
        indices.push(c.index);
        if policy.quorum_met(&indices) {
            return Some(c.time);
        }
    }
    None
}

/// A cosigned checkpoint of the log whose quorum time is at or before a
/// given instant: the log held its first `size` records by `time`.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct WitnessedBy {
    /// The records it covers.
    pub size: u64,
    /// When the quorum had cosigned it (seconds since the epoch).
    pub time: u64,
    /// Its cosignatures: witness name and time.
    pub cosignatures: Vec<(String, u64)>,
    /// The cosigned note, as kept.
    pub note: String,
    /// Its RFC 3161 stamp, when one was kept.
    pub stamp: Option<Vec<u8>>,
}

/// The largest checkpoint the store kept whose cosignatures reached the
/// policy's quorum by `time` (seconds since the epoch; `u64::MAX` for the
/// largest witnessed at all), checked against the log: of this log, a
/// prefix of it, every cosignature verified. Every kept checkpoint is
/// examined (the sizes and times kept beside them are not trusted);
/// one larger than the log is passed over (kept after the log was read;
/// a rollback is for [`check`] to find). Kept checkpoints of another log,
/// or not a prefix of this one, or carrying a cosignature that does not
/// verify, are problems (one line each): the store was tampered with or
/// the log forked. `None`: nothing kept was witnessed by then.
pub fn witnessed_by(
    policy: &Policy,
    log: &LogState<'_>,
    store: &dyn modelseal_evidence::EvidenceStore,
    time: u64,
) -> Result<(Option<WitnessedBy>, Vec<WitnessProblem>), modelseal_evidence::Error> {
    let roots = PrefixRoots::of_kept(log, store)?;
    let mut problems: Vec<WitnessProblem> = Vec::new();
    let mut best: Option<WitnessedBy> = None;
    let mut seen = Seen::default();
    store.cosigned(&mut |kept| {
        let Some(claimed) = kept.claimed_size() else {
            if problems.len() < MAX_PROBLEMS {
                problems.push(WitnessProblem::NotANote);
            }
            return Ok(());
        };
        // One larger than the log was kept after it was read; the same
        // note kept again says nothing new.
        if claimed > log.checkpoint.size || !seen.first(&kept.note) {
            return Ok(());
        }
        match stored_cosignatures(policy, log, &kept.note, Held::InStore, &roots) {
            Ok(Some((cp, found))) => {
                let larger = best.as_ref().is_none_or(|b| cp.size > b.size);
                if let Some(at) = quorum_time(policy, &found).filter(|at| larger && *at <= time) {
                    best = Some(WitnessedBy {
                        size: cp.size,
                        time: at,
                        cosignatures: found.into_iter().map(|c| (c.witness, c.time)).collect(),
                        note: kept.note,
                        stamp: kept.stamp,
                    });
                }
            }
            Ok(None) => {}
            Err(e) => {
                if problems.len() < MAX_PROBLEMS {
                    problems.push(WitnessProblem::Stored(e));
                }
            }
        }
        Ok(())
    })?;
    Ok((best, problems))
}

/// Most problems [`witnessed_by`] reports (a store can keep millions of
/// bad lines; the first few say what is wrong).
const MAX_PROBLEMS: usize = 16;

/// The notes seen, by digest: a note kept again is checked once.
#[derive(Default)]
pub(crate) struct Seen(std::collections::HashSet<[u8; 16]>);

impl Seen {
    /// Whether `note` is seen for the first time.
    pub(crate) fn first(&mut self, note: &str) -> bool {
        use sha2::Digest;
        let digest = sha2::Sha256::digest(note.as_bytes());
        let mut key = [0u8; 16];
        key.copy_from_slice(&digest[..16]);
        self.0.insert(key)
    }
}

/// The roots of a log's prefixes: those of the sizes asked about computed
/// in one pass over the leaves (a store may keep a checkpoint of every
/// size the log went through), any other computed when asked.
pub(crate) struct PrefixRoots<'a> {
    leaves: &'a [Hash],
    known: std::collections::HashMap<u64, Hash>,
}

impl<'a> PrefixRoots<'a> {
    /// Nothing computed ahead.
    pub(crate) fn new(leaves: &'a [Hash]) -> Self {
        PrefixRoots {
            leaves,
            known: std::collections::HashMap::new(),
        }
    }

    /// The roots at the sizes the store's kept checkpoints claim (claims
    /// only choose what to compute; each note is checked against the
    /// root of the size it is signed for).
    pub(crate) fn of_kept(
        log: &LogState<'a>,
        store: &dyn modelseal_evidence::EvidenceStore,
    ) -> Result<Self, modelseal_evidence::Error> {
        let mut sizes = Vec::new();
        store.cosigned(&mut |kept| {
            sizes.extend(kept.claimed_size().filter(|s| *s <= log.checkpoint.size));
            Ok(())
        })?;
        Ok(Self::at_sizes(log.leaves, sizes))
    }

    fn at_sizes(leaves: &'a [Hash], mut sizes: Vec<u64>) -> Self {
        sizes.sort_unstable();
        sizes.dedup();
        let mut wanted = sizes.into_iter().peekable();
        let mut known = std::collections::HashMap::new();
        let mut frontier = merkle::Frontier::new();
        for leaf in leaves.iter().map(Some).chain([None]) {
            while wanted.next_if_eq(&frontier.size()).is_some() {
                known.insert(frontier.size(), frontier.root());
            }
            match leaf {
                Some(leaf) => frontier.push(*leaf),
                None => break,
            }
        }
        PrefixRoots { leaves, known }
    }

    /// The root of the first `size` leaves; `None` beyond the log.
    pub(crate) fn at(&self, size: u64) -> Option<Hash> {
        let n = usize::try_from(size)
            .ok()
            .filter(|n| *n <= self.leaves.len())?;
        Some(
            self.known
                .get(&size)
                .copied()
                .unwrap_or_else(|| merkle::root(&self.leaves[..n])),
        )
    }
}

/// Makes an RFC 3161 stamp of a cosigned checkpoint's body (a TSA request).
pub type Stamper<'a> = &'a mut dyn FnMut(&[u8]) -> Result<Vec<u8>, modelseal_evidence::Error>;

/// What [`witness_store`] did.
#[derive(Debug, Clone)]
#[non_exhaustive]
pub struct StoreWitnessing {
    /// What the witnesses did.
    pub run: Witnessing,
    /// The size of the checkpoint they were asked to cosign.
    pub size: u64,
    /// Whether the cosigned checkpoint was kept in the store.
    pub kept: bool,
    /// When the quorum had cosigned it, if it did (seconds since the epoch).
    pub quorum_time: Option<u64>,
}

/// Asks the policy's witnesses to cosign the checkpoint of the log in
/// `store` (verified first, at `now`), and keeps the cosigned checkpoint
/// in the store when it should replace the one kept, with the RFC 3161
/// stamp `stamp` makes of its body when given. This is what `evidence
/// witness` does, and what a service calls on its own schedule.
pub fn witness_store(
    store: &dyn modelseal_evidence::EvidenceStore,
    key: &VerifyingKey,
    policy: &Policy,
    timeout: Duration,
    now: jiff::Timestamp,
    stamp: Option<Stamper<'_>>,
) -> Result<StoreWitnessing, modelseal_evidence::Error> {
    let check = modelseal_evidence::verify_store(
        store,
        key,
        modelseal_evidence::VerifyOptions {
            keep_leaves: true,
            now: Some(now),
            ..Default::default()
        },
    )?;
    let state = LogState::of(&check, key)
        .map_err(|e| modelseal_evidence::Error::Evidence(e.to_string()))?;
    let checkpoint = state.checkpoint;
    let previous = store.latest_cosigned()?.map(|k| k.note);
    let run = witness(policy, &state, previous.as_deref(), timeout)
        .map_err(|e| modelseal_evidence::Error::Evidence(e.to_string()))?;
    let (body, lines) = split_note(&run.cosigned_note)
        .map_err(|e| modelseal_evidence::Error::Evidence(e.to_string()))?;
    let (found, _) = read_cosignatures(policy, body, &lines);
    let at = quorum_time(policy, &found);
    // The same note kept again would only grow the history.
    if run.replace && previous.as_deref() != Some(run.cosigned_note.as_str()) {
        let stamped = match stamp {
            Some(stamp) => Some(stamp(body.as_bytes())?),
            None => None,
        };
        // A checkpoint short of the quorum is kept with the latest time
        // of its cosignatures: it is never found as witnessed by a time.
        let hint = at.unwrap_or(u64::MAX >> 1);
        store.keep_cosigned(&KeptCosigned::new(
            checkpoint.size,
            hint,
            run.cosigned_note.clone(),
            stamped,
        )?)?;
    }
    Ok(StoreWitnessing {
        kept: run.replace && previous.as_deref() != Some(run.cosigned_note.as_str()),
        size: checkpoint.size,
        quorum_time: at.filter(|_| run.quorum),
        run,
    })
}

#[cfg(test)]
mod tests {
    use super::*;
    use base64::Engine;
    use ed25519_dalek::{Signer, SigningKey};
    use modelseal_evidence::EvidenceStore;

    fn cosign(body: &str, name: &str, key: &SigningKey, time: u64) -> String {
        let sig = key.sign(signed_message(body, time).as_bytes());
        let mut blob =
            policy::key_id(name, policy::COSIGNATURE_KEY_TYPE, &key.verifying_key()).to_vec();
        blob.extend_from_slice(&time.to_be_bytes());
        blob.extend_from_slice(&sig.to_bytes());
        format!(
            "\u{2014} {name} {}",
            base64::engine::general_purpose::STANDARD.encode(blob)
        )
    }

    fn deployment(i: usize, second: i64) -> modelseal_evidence::NewRecord {
        modelseal_evidence::NewRecord {
            subject: modelseal_evidence::EvidenceSubject {
                name: format!("model-{i}").into(),
                sha256: format!("{i:064x}").into(),
            },
            predicate: modelseal_evidence::Predicate::Deployment(Box::new(
                modelseal_evidence::record::DeploymentEvidence {
                    target: Some("test".into()),
                    verification: None,
                    admission: None,
                    time: jiff::Timestamp::from_second(second).unwrap(),
                },
            )),
            clock: modelseal_core::clock::TimeSource::Test,
        }
    }

    /// A file log of `records` deployments in `dir`, sealed by a fixed
    /// evidence key, and that key's public half.
    fn small_log(dir: &std::path::Path, records: usize) -> (std::path::PathBuf, VerifyingKey) {
        let log = dir.join("log");
        let evidence = SigningKey::from_bytes(&[9; 32]);
        let private = modelseal_core::keys::PrivateKey::Ed25519(evidence.clone());
        modelseal_evidence::FileLog::create_with(
            &log,
            (0..records).map(|i| deployment(i, 100)),
            &private,
        )
        .unwrap();
        (log, evidence.verifying_key())
    }

    /// A new file log at `path` of the deployments `records` (at time
    /// 100), sealed by `key`, and its checkpoint note.
    fn log_of(
        path: &std::path::Path,
        records: std::ops::Range<usize>,
        key: &modelseal_core::keys::PrivateKey,
    ) -> String {
        modelseal_evidence::FileLog::create_with(path, records.map(|i| deployment(i, 100)), key)
            .unwrap();
        std::fs::read_to_string(modelseal_evidence::checkpoint_path(path)).unwrap()
    }

    /// The log in `store` verified, its leaves kept.
    fn verified(
        store: &modelseal_evidence::FileLog,
        vk: &VerifyingKey,
    ) -> modelseal_evidence::LogCheck {
        let options = modelseal_evidence::VerifyOptions {
            keep_leaves: true,
            ..Default::default()
        };
        modelseal_evidence::verify_store(store, vk, options).unwrap()
    }

    /// A policy for the log `check` verified, with one witness
    /// (`a.example`, key `a`) as its quorum.
    fn one_witness(
        check: &modelseal_evidence::LogCheck,
        vk: &VerifyingKey,
        a: &SigningKey,
    ) -> Policy {
        let origin = &check.checkpoint.as_ref().unwrap().origin;
        Policy::parse(&format!(
            "log {}\nwitness a {}\nquorum a\n",
            modelseal_evidence::verifier_key(origin, vk),
            witness_vkey("a.example", &a.verifying_key())
        ))
        .unwrap()
    }

    /// A log that cannot be put to its witnesses says why, typed.
    #[test]
    fn a_log_that_cannot_be_witnessed_says_why() {
        assert_eq!(split_note("no newline"), Err(NoteError::NoFinalNewline));
        assert_eq!(split_note("one paragraph\n"), Err(NoteError::NoBlankLine));
        let dir = tempfile::tempdir().unwrap();
        let (log, vk) = small_log(dir.path(), 2);
        let store = modelseal_evidence::FileLog::new(&log);
        let mut check = modelseal_evidence::verify_store(&store, &vk, Default::default()).unwrap();
        let state = LogState::of(&check, &vk).unwrap();
        // A policy for another log of the same key.
        let a = SigningKey::from_bytes(&[1; 32]);
        let policy = Policy::parse(&format!(
            "log {}\nwitness a {}\nquorum a\n",
            modelseal_evidence::verifier_key("modelseal.test/another", &vk),
            witness_vkey("a.example", &a.verifying_key())
        ))
        .unwrap();
        assert_eq!(
            witness(&policy, &state, None, Duration::from_secs(1)).unwrap_err(),
            WitnessError::LogNotListed {
                origin: state.checkpoint.origin.clone()
            }
        );
        check.problems.push(modelseal_evidence::LogProblem::Root);
        assert_eq!(
            LogState::of(&check, &vk).err(),
            Some(WitnessError::LogNotIntact {
                location: check.location.clone()
            })
        );
    }

    /// Writing and checking a proof fails with what is wrong, typed.
    #[test]
    fn proofs_fail_with_what_is_wrong() {
        let dir = tempfile::tempdir().unwrap();
        let (log, vk) = small_log(dir.path(), 3);
        let store = modelseal_evidence::FileLog::new(&log);
        let check = verified(&store, &vk);
        let note = check.checkpoint_note.as_deref().unwrap();
        let text = std::fs::read_to_string(&log).unwrap();
        let lines: Vec<&[u8]> = text.lines().map(str::as_bytes).collect();
        assert_eq!(
            write_proof(3, lines[0], &check.leaves, note, 3),
            Err(ProofError::NotInCheckpoint { record: 4, size: 3 })
        );
        assert_eq!(
            write_proof(1, lines[0], &check.leaves, note, 3),
            Err(ProofError::NotTheLine { record: 2 })
        );
        let proof = write_proof(1, lines[1], &check.leaves, note, 3).unwrap();
        let checked = check_proof(&proof, None, &vk, None).unwrap();
        assert_eq!(checked.record.index, 1);
        assert_eq!(
            check_proof(&proof, Some(lines[2]), &vk, None).unwrap_err(),
            ProofError::OtherRecord
        );
        assert!(matches!(
            check_proof("not a proof", None, &vk, None),
            Err(ProofError::Malformed(_))
        ));
        // Another record carried in the proof: sealed for another place.
        let extra = proof.lines().nth(1).unwrap();
        let swapped = proof.replacen(
            extra,
            &format!(
                "extra {}",
                base64::engine::general_purpose::STANDARD.encode(lines[2])
            ),
            1,
        );
        assert!(matches!(
            check_proof(&swapped, None, &vk, None),
            Err(ProofError::OtherPlace {
                sealed_for: 3,
                record: 2,
                ..
            })
        ));
        let other = SigningKey::from_bytes(&[8; 32]).verifying_key();
        assert!(matches!(
            check_proof(&proof, None, &other, None),
            Err(ProofError::Checkpoint(_))
        ));
    }

    /// The log's note cosigned by the given witnesses at the given times.
    fn cosigned(note: &str, by: &[(&str, &SigningKey, u64)]) -> String {
        let (body, own) = split_note(note).unwrap();
        let mut out = format!("{body}\n");
        for l in own {
            out.push_str(l);
            out.push('\n');
        }
        for (name, key, time) in by {
            out.push_str(&cosign(body, name, key, *time));
            out.push('\n');
        }
        out
    }

    /// Witnessed times come from the kept cosigned checkpoints: an audit
    /// as of a date counts the largest checkpoint whose quorum had
    /// cosigned by then, whatever the writers' clocks say; a kept
    /// checkpoint that is not the log's prefix is a problem, and a
    /// checkpoint short of the quorum is never relied on.
    #[test]
    fn witnessed_times_come_from_the_kept_checkpoints() {
        let dir = tempfile::tempdir().unwrap();
        let log = dir.path().join("log");
        let evidence = SigningKey::from_bytes(&[9; 32]);
        let private = modelseal_core::keys::PrivateKey::Ed25519(evidence.clone());
        let vk = evidence.verifying_key();
        let (k1, k2) = (
            SigningKey::from_bytes(&[1; 32]),
            SigningKey::from_bytes(&[2; 32]),
        );
        let policy = |origin: &str| {
            Policy::parse(&format!(
                "log {}\nwitness a {}\nwitness b {}\ngroup g 2 a b\nquorum g\n",
                modelseal_evidence::verifier_key(origin, &vk),
                witness_vkey("a.example", &k1.verifying_key()),
                witness_vkey("b.example", &k2.verifying_key())
            ))
            .unwrap()
        };
        // Three records, then (a copy of the log) five: two checkpoints.
        let small = dir.path().join("small");
        let small_note = log_of(&small, 0..3, &private);
        std::fs::copy(&small, &log).unwrap();
        let store = modelseal_evidence::FileLog::new(&log);
        std::fs::copy(
            modelseal_evidence::checkpoint_path(&small),
            modelseal_evidence::checkpoint_path(&log),
        )
        .unwrap();
        let recorder = modelseal_evidence::Recorder::with_store(
            Box::new(store.clone()),
            modelseal_core::keys::PrivateKey::Ed25519(evidence.clone()),
        )
        .unwrap();
        for i in 3..5 {
            // Backdated: the writer's clock says 1970 plus 50 seconds.
            recorder.append(&deployment(i, 50)).unwrap();
        }
        let big_note = std::fs::read_to_string(modelseal_evidence::checkpoint_path(&log)).unwrap();
        let check = verified(&store, &vk);
        let cp = check.checkpoint.clone().unwrap();
        let policy = policy(&cp.origin);
        let state = LogState {
            note: check.checkpoint_note.as_deref().unwrap(),
            checkpoint: &cp,
            leaves: &check.leaves,
            key: &vk,
        };
        let keep = |note: String, size: u64, hint: u64| {
            store
                .keep_cosigned(&KeptCosigned::new(size, hint, note, None).unwrap())
                .unwrap()
        };
        // The small checkpoint: a cosigned at 1000, b at 1500 (quorum at
        // 1500); the big one: both at 2000; a big one with only a.
        keep(
            cosigned(
                &small_note,
                &[("a.example", &k1, 1000), ("b.example", &k2, 1500)],
            ),
            3,
            1500,
        );
        keep(cosigned(&big_note, &[("a.example", &k1, 1800)]), 5, 1800);
        keep(
            cosigned(
                &big_note,
                &[("a.example", &k1, 2000), ("b.example", &k2, 2000)],
            ),
            5,
            2000,
        );
        let at = |t| witnessed_by(&policy, &state, &store, t).unwrap();
        assert_eq!(at(999), (None, vec![]));
        assert_eq!(at(1499).0, None, "one cosignature is not the quorum");
        let by = at(1500).0.unwrap();
        assert_eq!((by.size, by.time), (3, 1500));
        assert_eq!(
            at(1999).0.unwrap().size,
            3,
            "a checkpoint short of the quorum is not relied on"
        );
        assert_eq!(at(2000).0.unwrap().size, 5);
        // A hint that lies (kept as if cosigned by 10) changes nothing: the
        // cosignature times are checked.
        keep(
            cosigned(
                &big_note,
                &[("a.example", &k1, 3000), ("b.example", &k2, 3000)],
            ),
            5,
            10,
        );
        assert_eq!(at(1500).0.unwrap().size, 3);
        // A kept checkpoint of another log, larger than the one relied on,
        // is a problem.
        let other = dir.path().join("other");
        let other_note = log_of(&other, 7..11, &private);
        keep(
            cosigned(
                &other_note,
                &[("a.example", &k1, 1600), ("b.example", &k2, 1600)],
            ),
            4,
            1600,
        );
        let (by, problems) = at(1700);
        assert_eq!(by.unwrap().size, 3);
        assert_eq!(problems.len(), 1, "{problems:?}");
        let other_origin = open_cosigned(&other_note, &vk).unwrap().0.origin;
        assert!(
            matches!(&problems[0], WitnessProblem::Stored(CosignedError::OtherLog { origin, .. }) if *origin == other_origin),
            "{problems:?}"
        );
        assert_eq!(
            problems[0].to_string(),
            format!("a kept cosigned checkpoint is of another log ({other_origin})")
        );
        // Checked even when a larger checkpoint is already witnessed, and
        // once however often it is kept.
        let (by, problems) = at(u64::MAX);
        assert_eq!(by.unwrap().size, 5);
        assert_eq!(problems.len(), 1, "{problems:?}");
        // An auditor's kept checkpoint: of another log, or short of the
        // quorum, it is refused with what is wrong, typed.
        let err = check_kept(&policy, &state, &other_note).unwrap_err();
        assert_eq!(
            err,
            KeptError::Cosigned(CosignedError::OtherLog {
                held: Held::Kept,
                origin: other_origin.clone()
            })
        );
        assert_eq!(
            err.to_string(),
            format!("the kept checkpoint is of another log ({other_origin})")
        );
        let err = check_kept(&policy, &state, &small_note).unwrap_err();
        assert_eq!(
            err,
            KeptError::NoQuorum {
                shortfall: QuorumShortfall {
                    size: 3,
                    cosigned: 0,
                    witnesses: 2,
                    lacking: vec!["a".into(), "b".into()]
                }
            }
        );
        assert_eq!(
            err.to_string(),
            "the kept checkpoint of 3 records lacks the witness policy's quorum (the checkpoint of 3 records lacks the witness quorum (0 of 2 witnesses cosigned; not: a, b)); keep the cosigned checkpoint (LOG.witnessed, or an export's), not LOG.checkpoint"
        );
        let forked = cosigned(
            &other_note,
            &[("a.example", &k1, 1600), ("b.example", &k2, 1600)],
        )
        .replace(&other_origin, &cp.origin);
        assert!(matches!(
            check_kept(&policy, &state, &forked),
            Err(KeptError::Cosigned(CosignedError::Checkpoint {
                held: Held::Kept,
                ..
            }))
        ));
        // The quorum time is the earliest instant the quorum held.
        let note = cosigned(&small_note, &[("a.example", &k1, 7), ("b.example", &k2, 3)]);
        let (body, l) = split_note(&note).unwrap();
        let (found, _) = read_cosignatures(&policy, body, &l);
        assert_eq!(quorum_time(&policy, &found), Some(7));
    }

    /// A witness's answer counts only for itself: a line under another
    /// witness's name is ignored, and a bad line of its own only keeps it
    /// from counting.
    #[test]
    fn a_witness_speaks_only_for_itself() {
        let (k1, k2) = (
            SigningKey::from_bytes(&[1; 32]),
            SigningKey::from_bytes(&[2; 32]),
        );
        let policy = Policy::parse(&format!(
            "witness a {}\nwitness b {}\ngroup g 1 a b\nquorum g\n",
            witness_vkey("a.example", &k1.verifying_key()),
            witness_vkey("b.example", &k2.verifying_key())
        ))
        .unwrap();
        let body = "log/x\n3\nAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAA=\n";
        let from_b = vec![
            cosign(body, "a.example", &k1, 5),
            cosign(body, "b.example", &k2, 6),
        ];
        let own = own_cosignature(&policy, 1, body, &from_b).unwrap();
        assert_eq!((own.index, own.time), (1, 6));
        assert_eq!(
            own_cosignature(&policy, 0, body, &[from_b[1].clone()]).unwrap_err(),
            OwnCosignatureError::Missing
        );
        let forged = vec![cosign(body, "b.example", &k1, 7)];
        assert!(own_cosignature(&policy, 1, body, &forged).is_err());
    }

    /// A record is proven by its number or its digest, over the log's own
    /// checkpoint when nothing cosigned was kept; the proof checks with the
    /// log's key; a record the log does not hold is a usage error.
    #[test]
    fn a_record_is_proven_by_number_or_digest_and_the_proof_checks() {
        let dir = tempfile::tempdir().unwrap();
        let (log, vk) = small_log(dir.path(), 3);
        let store = modelseal_evidence::FileLog::new(&log);
        let now = jiff::Timestamp::from_second(1_000).unwrap();
        let by_number = prove(&store, &vk, RecordRef::Number(2), None, now).unwrap();
        assert_eq!((by_number.record.index, by_number.size), (1, 3));
        assert!(!by_number.cosigned);
        let digest = by_number.record.digest;
        let by_digest = prove(&store, &vk, RecordRef::Digest(&digest), None, now).unwrap();
        assert_eq!(by_digest.text, by_number.text);
        let checked = check_proof(&by_number.text, None, &vk, None).unwrap();
        assert_eq!(checked.record.digest, digest);
        assert_eq!(checked.checkpoint.size, 3);
        for missing in [
            RecordRef::Number(0),
            RecordRef::Number(4),
            RecordRef::Digest("00"),
        ] {
            let err = prove(&store, &vk, missing, None, now).unwrap_err();
            assert!(matches!(err, modelseal_evidence::Error::Usage(_)), "{err}");
        }
    }

    /// With a TSA chain given, a log whose store kept no cosigned
    /// checkpoint has nothing stamped to hold it to: a problem, not a pass.
    #[test]
    fn a_tsa_chain_with_nothing_stamped_is_a_problem() {
        let dir = tempfile::tempdir().unwrap();
        let (log, vk) = small_log(dir.path(), 2);
        let store = modelseal_evidence::FileLog::new(&log);
        let check = verified(&store, &vk);
        let a = SigningKey::from_bytes(&[1; 32]);
        let policy = one_witness(&check, &vk, &a);
        let anchors = vec![vec![0u8; 4]];
        let mut options = StoreCheck::new(Duration::from_secs(1), jiff::Timestamp::UNIX_EPOCH);
        options.ask = false;
        options.tsa_anchors = Some(&anchors);
        let found = check_store(&policy, &store, &vk, &check, &options).unwrap();
        assert!(!found.ok());
        assert!(found.stamped.is_none());
        assert_eq!(found.problems, vec![WitnessProblem::NothingStamped]);
        // A cosigned checkpoint that reaches the quorum but carries no
        // stamp, then (another log) one whose stamp is not a timestamp
        // token: each is the one problem, and the quorum holds.
        type Expect = fn(&WitnessProblem) -> bool;
        let no_stamp: Expect = |p| matches!(p, WitnessProblem::NoStamp);
        let bad_stamp: Expect = |p| matches!(p, WitnessProblem::Stamp(_));
        for (i, stamp, problem) in [
            (1, None, no_stamp),
            (2, Some(vec![0x30, 0x03, 0x02, 0x01, 0x01]), bad_stamp),
        ] {
            let sub = dir.path().join(format!("{i}"));
            std::fs::create_dir(&sub).unwrap();
            let (log, vk) = small_log(&sub, 2);
            let store = modelseal_evidence::FileLog::new(&log);
            let check = verified(&store, &vk);
            let policy = one_witness(&check, &vk, &a);
            let note = check.checkpoint_note.clone().unwrap();
            let witnessed = cosigned(&note, &[("a.example", &a, 10)]);
            store
                .keep_cosigned(&KeptCosigned::new(2, 10, witnessed, stamp).unwrap())
                .unwrap();
            let found = check_store(&policy, &store, &vk, &check, &options).unwrap();
            assert!(found.quorum, "{:?}", found.problems);
            assert_eq!(found.problems.len(), 1, "{:?}", found.problems);
            assert!(problem(&found.problems[0]), "{:?}", found.problems);
            assert!(found.stamped.is_none());
        }
    }

    /// A proof is over the largest kept checkpoint that covers the record
    /// and reaches the policy's quorum; without a policy over the latest
    /// kept prefix, its cosignatures unchecked; over the log's own when
    /// none covers it. A kept checkpoint of another log is refused.
    #[test]
    fn a_proof_is_over_the_covering_cosigned_checkpoint() {
        let dir = tempfile::tempdir().unwrap();
        let evidence = SigningKey::from_bytes(&[9; 32]);
        let private = modelseal_core::keys::PrivateKey::Ed25519(evidence.clone());
        let vk = evidence.verifying_key();
        let (k1, k2) = (
            SigningKey::from_bytes(&[1; 32]),
            SigningKey::from_bytes(&[2; 32]),
        );
        let log = dir.path().join("log");
        let small_note = log_of(&log, 0..3, &private);
        let store = modelseal_evidence::FileLog::new(&log);
        let recorder = modelseal_evidence::Recorder::with_store(
            Box::new(store.clone()),
            modelseal_core::keys::PrivateKey::Ed25519(evidence.clone()),
        )
        .unwrap();
        for i in 3..5 {
            recorder.append(&deployment(i, 100)).unwrap();
        }
        let big_note = std::fs::read_to_string(modelseal_evidence::checkpoint_path(&log)).unwrap();
        let origin = small_note.lines().next().unwrap().to_string();
        let policy = Policy::parse(&format!(
            "log {}\nwitness a {}\nwitness b {}\ngroup g 2 a b\nquorum g\n",
            modelseal_evidence::verifier_key(&origin, &vk),
            witness_vkey("a.example", &k1.verifying_key()),
            witness_vkey("b.example", &k2.verifying_key())
        ))
        .unwrap();
        let keep = |note: String, size: u64| {
            store
                .keep_cosigned(&KeptCosigned::new(size, 1, note, None).unwrap())
                .unwrap()
        };
        let now = jiff::Timestamp::from_second(1_000).unwrap();
        let prove_with = |n, policy| prove(&store, &vk, RecordRef::Number(n), policy, now);
        keep(
            cosigned(
                &small_note,
                &[("a.example", &k1, 10), ("b.example", &k2, 10)],
            ),
            3,
        );
        let p = prove_with(2, Some(&policy)).unwrap();
        assert_eq!((p.size, p.cosigned, p.checked), (3, true, true));
        assert!(
            check_proof(&p.text, None, &vk, Some(&policy))
                .unwrap()
                .quorum
        );
        let p = prove_with(5, Some(&policy)).unwrap();
        assert_eq!(
            (p.size, p.cosigned, p.checked),
            (5, false, false),
            "not covered"
        );
        // A later checkpoint short of the quorum: the policy passes it over;
        // without a policy it is carried, unchecked.
        keep(cosigned(&big_note, &[("a.example", &k1, 20)]), 5);
        let p = prove_with(2, Some(&policy)).unwrap();
        assert_eq!((p.size, p.checked), (3, true));
        let p = prove_with(2, None).unwrap();
        assert_eq!((p.size, p.cosigned, p.checked), (5, true, false));
        assert!(
            !check_proof(&p.text, None, &vk, Some(&policy))
                .unwrap()
                .quorum
        );
        // A kept checkpoint of another log of the same key.
        let other = dir.path().join("other");
        let other_note = log_of(&other, 7..11, &private);
        keep(
            cosigned(
                &other_note,
                &[("a.example", &k1, 30), ("b.example", &k2, 30)],
            ),
            4,
        );
        for policy in [Some(&policy), None] {
            let err = prove_with(2, policy).unwrap_err();
            assert!(err.to_string().contains("cosigned checkpoint"), "{err}");
        }
    }

    /// The roots computed in one pass are the roots of the prefixes.
    #[test]
    fn prefix_roots_in_one_pass_are_the_roots() {
        let leaves: Vec<Hash> = (0u8..37).map(|i| merkle::leaf_hash(&[i])).collect();
        let roots = PrefixRoots::at_sizes(&leaves, vec![37, 0, 1, 5, 5, 16, 17, 99]);
        for size in 0..=37u64 {
            assert_eq!(
                roots.at(size),
                Some(merkle::root(&leaves[..size as usize])),
                "{size}"
            );
        }
        assert_eq!(roots.at(38), None);
        assert_eq!(
            roots.known.len(),
            6,
            "99 is beyond the log; 5 is asked twice"
        );
    }
}
