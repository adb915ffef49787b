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
mod proof;

pub use client::{Answer, add_checkpoint};
pub use cosignature::{Cosigned, read_cosignatures, signed_message, split_note};
pub use policy::{NoteKey, Policy, PolicyError, Witness, witness_vkey};
pub use proof::{PROOF_HEADER, ProofCheck, check_proof, write_proof};

use ed25519_dalek::VerifyingKey;
use modelseal_evidence::Checkpoint;
use modelseal_evidence::merkle::{self, Hash};
use std::path::{Path, PathBuf};
use std::time::Duration;

/// Where a file log keeps its latest cosigned checkpoint.
pub fn witnessed_path(log: &Path) -> PathBuf {
    let mut name = log.as_os_str().to_owned();
    name.push(".witnessed");
    PathBuf::from(name)
}

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
) -> Result<Witnessing, String> {
    let cp = log.checkpoint;
    if !policy.accepts_log(&cp.origin, log.key) {
        return Err(format!(
            "the witness policy does not list the log {}",
            cp.origin
        ));
    }
    let (body, own) = split_note(log.note)?;
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
                    Err(why) => (Outcome::Failed(why), None),
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
            Err(e) => return (Outcome::Failed(e), None),
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
) -> Result<Cosigned, String> {
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
        None if !bad.is_empty() => Err("answered with a cosignature that does not verify".into()),
        None => Err("answered without its own cosignature".into()),
    }
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
fn open_cosigned(note: &str, key: &VerifyingKey) -> Result<(Checkpoint, Vec<Cosigned>), String> {
    let cp = modelseal_evidence::open_log_checkpoint(note, key)?;
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
    /// trusted. Each one line.
    pub problems: Vec<String>,
    /// Why the quorum is missing, when it is (one line).
    pub missing: Option<String>,
    /// An RFC 3161 stamp of the cosigned checkpoint that was checked: its
    /// size, and when and by whom it was stamped (one line).
    pub stamped: Option<(u64, String)>,
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
        out.problems.push(format!(
            "the witness policy does not list the log {}",
            cp.origin
        ));
        return out;
    }
    let mut best: Option<(Checkpoint, Vec<Cosigned>)> = None;
    if let Some(note) = stored {
        match stored_cosignatures(policy, log, note) {
            Ok(Some(found)) => best = Some(found),
            Ok(None) => {}
            Err(e) => out.problems.push(e),
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
                Outcome::Ahead(size) => out.problems.push(format!(
                    "witness {} has cosigned {size} records of this log, which now has {}: \
                     the log was rolled back (or forked)",
                    w.name, cp.size
                )),
                Outcome::Forked => out.problems.push(format!(
                    "witness {} holds another root for this log at size {}: the log was forked",
                    w.name, cp.size
                )),
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
            out.problems.push(format!(
                "only {} of {} witnesses answered: a rollback or a fork could not be ruled out \
                 (as many witnesses as the quorum must answer)",
                answered.len(),
                policy.witnesses.len()
            ));
        }
        // The log's own checkpoint counts the fresh cosignatures, and the
        // stored ones when it is the stored checkpoint.
        live = fresh;
    }
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
        out.cosignatures = live.iter().map(|c| (c.witness.clone(), c.time)).collect();
        out.witnessed = Some(cp.clone());
        return out;
    }
    out.missing = Some(missing(policy, &live_indices, cp));
    // An older checkpoint that reached the quorum still says how far the
    // log was witnessed.
    if let Some((stored_cp, kept)) = best {
        let indices: Vec<usize> = kept.iter().map(|c| c.index).collect();
        if policy.quorum_met(&indices) {
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
            Err(why) => (Outcome::Failed(why), None),
        },
        Ok(Answer::Conflict(size)) if size > cp.size => (Outcome::Ahead(size), None),
        Ok(Answer::Conflict(size)) => (Outcome::Behind(size), None),
        Ok(Answer::Refused(422, _)) => (Outcome::Forked, None),
        Ok(Answer::Refused(status, text)) => {
            (Outcome::Failed(format!("HTTP {status}: {text}")), None)
        }
        Err(e) => (Outcome::Failed(e), None),
    }
}

/// The stored cosigned checkpoint, checked against the log: signed by the
/// log's key, of the same log, a prefix of it; with the cosignatures of
/// the policy's witnesses that verify.
fn stored_cosignatures(
    policy: &Policy,
    log: &LogState<'_>,
    note: &str,
) -> Result<Option<(Checkpoint, Vec<Cosigned>)>, String> {
    let cp = log.checkpoint;
    let stored = modelseal_evidence::open_log_checkpoint(note, log.key)
        .map_err(|e| format!("the cosigned checkpoint: {e}"))?;
    if stored.origin != cp.origin {
        return Err(format!(
            "the cosigned checkpoint is of another log ({})",
            stored.origin
        ));
    }
    if stored.size > cp.size {
        return Err(format!(
            "the cosigned checkpoint covers {} records, the log {}: the log was rolled back",
            stored.size, cp.size
        ));
    }
    let n = usize::try_from(stored.size).map_err(|_| "a size too large".to_string())?;
    if n > log.leaves.len() || merkle::root(&log.leaves[..n]) != stored.root {
        return Err(format!(
            "the cosigned checkpoint of {} records is not a prefix of this log: it was forked",
            stored.size
        ));
    }
    let (body, lines) = split_note(note)?;
    let (found, bad) = read_cosignatures(policy, body, &lines);
    if let Some(first) = bad.first() {
        return Err(format!("the cosigned checkpoint: {first}"));
    }
    Ok(Some((stored, found)))
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
) -> Result<(u64, Vec<(String, u64)>), String> {
    let found = stored_cosignatures(policy, log, kept)
        .map_err(|e| e.replacen("the cosigned checkpoint", "the kept checkpoint", 1))?;
    let Some((cp, cosigned)) = found else {
        return Err("the kept checkpoint carries no cosignatures".into());
    };
    let indices: Vec<usize> = cosigned.iter().map(|c| c.index).collect();
    if !policy.quorum_met(&indices) {
        return Err(format!(
            "the kept checkpoint of {} records lacks the witness policy's quorum ({}); keep the cosigned checkpoint (LOG.witnessed, or an export's), not LOG.checkpoint",
            cp.size,
            missing(policy, &indices, &cp)
        ));
    }
    Ok((
        cp.size,
        cosigned.into_iter().map(|c| (c.witness, c.time)).collect(),
    ))
}

/// One line naming what the quorum lacks on `cp`.
fn missing(policy: &Policy, cosigned: &[usize], cp: &Checkpoint) -> String {
    let lacking: Vec<&str> = policy
        .witnesses
        .iter()
        .enumerate()
        .filter(|(i, _)| !cosigned.contains(i))
        .map(|(_, w)| w.name.as_str())
        .collect();
    format!(
        "the checkpoint of {} records lacks the witness quorum ({} of {} witnesses cosigned; not: {})",
        cp.size,
        cosigned.len(),
        policy.witnesses.len(),
        lacking.join(", ")
    )
}

/// Where the RFC 3161 stamp of the cosigned checkpoint at `witnessed` is
/// kept.
pub fn stamp_path(witnessed: &Path) -> PathBuf {
    let mut name = witnessed.as_os_str().to_owned();
    name.push(".tsr");
    PathBuf::from(name)
}

/// Replaces the cosigned checkpoint at `path` durably: written beside it
/// and flushed, renamed over it, and its directory flushed, so a reader
/// sees the old note or the new one, never half of one.
pub fn store_cosigned(path: &Path, note: &str) -> std::io::Result<()> {
    store_bytes(path, note.as_bytes())
}

/// Replaces the file at `path` durably with `bytes`, as
/// [`store_cosigned`] does.
pub fn store_bytes(path: &Path, bytes: &[u8]) -> std::io::Result<()> {
    use std::io::Write;
    let mut tmp = path.as_os_str().to_owned();
    tmp.push(".tmp");
    let tmp = PathBuf::from(tmp);
    let mut file = std::fs::File::create(&tmp)?;
    file.write_all(bytes)?;
    file.sync_all()?;
    std::fs::rename(&tmp, path)?;
    let dir = match path.parent() {
        Some(d) if !d.as_os_str().is_empty() => d,
        _ => Path::new("."),
    };
    std::fs::File::open(dir)?.sync_all()
}

#[cfg(test)]
mod tests {
    use super::*;
    use base64::Engine;
    use ed25519_dalek::{Signer, SigningKey};

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
        assert!(own_cosignature(&policy, 0, body, &[from_b[1].clone()]).is_err());
        let forged = vec![cosign(body, "b.example", &k1, 7)];
        assert!(own_cosignature(&policy, 1, body, &forged).is_err());
    }
}
