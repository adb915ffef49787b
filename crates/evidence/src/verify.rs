//! Verifying a stored log as a stream: every record's signature (in
//! parallel, a chunk at a time), every leaf hash recomputed from the stored
//! bytes, the tree head against the signed checkpoint, and an older
//! checkpoint's root against the same prefix of the log. Memory holds one
//! chunk of raw records, the tree's frontier, and (when asked) the opened
//! records, up to [`MAX_KEPT_RECORDS`].

use super::merkle::{Frontier, Hash, leaf_hash};
use super::note::Checkpoint;
use super::origin::open_log_checkpoint;
use super::problem::LogProblem;
use super::record::{Record, unseal};
use super::store::{EvidenceStore, MAX_RECORD, ScanItem};
use crate::{Error, Result};
use ed25519_dalek::VerifyingKey;
use rayon::prelude::*;
use std::io::Write;

/// Most records kept in memory for an audit or a listing (about a
/// kilobyte each). Verifying alone keeps none and has no such bound.
pub const MAX_KEPT_RECORDS: usize = 1_000_000;

/// How far a record's time may run behind the latest time before it in
/// the log, or ahead of the verifying clock, before it is a finding:
/// writers on several machines, and their clocks, disagree a little.
pub const TIME_TOLERANCE: jiff::SignedDuration = jiff::SignedDuration::from_mins(10);

/// Records opened in parallel at a time (eight batches, so that two or
/// more cores stay busy).
const CHUNK: usize = 4096;
/// Signatures checked in one batch. A batch is one multiscalar
/// multiplication whose cost per signature falls as the batch grows
/// (Pippenger's method with a wider window): 512 costs about a quarter less
/// per signature than 128. A failing batch is checked one by one.
const BATCH: usize = 512;

/// A record waiting to be opened: its position, bytes, and the leaf index
/// and leaf hash the store keeps beside it.
type Waiting = (u64, Vec<u8>, Option<u64>, Option<Vec<u8>>);

/// The result of checking a log.
#[derive(Debug, Clone, Default)]
pub struct LogCheck {
    /// Records covered by the checkpoint that opened with the evidence key
    /// (empty when the caller did not ask to keep them).
    pub records: Vec<Record>,
    /// Complete records in the store.
    pub lines: usize,
    /// Everything wrong, each naming the record or checkpoint: tampering.
    pub problems: Vec<LogProblem>,
    /// What the next append will repair by itself (the traces of a writer
    /// that was killed); not tampering, and not counted as evidence.
    pub repairs: Vec<String>,
    /// The record sealed by the evidence key for the place just beyond
    /// the checkpoint, that a killed writer left (kept when records are
    /// kept): the next append takes it in, so a writer deciding what to
    /// append must see it too. At most one.
    pub pending_records: Vec<Record>,
    /// Records written before records were bound to their log (release
    /// 0.2 and earlier): readable and counted, but each could sit in any
    /// log of the same key. Once a log holds a bound record, an unbound
    /// one after it is a problem.
    pub unbound: usize,
    /// The stored checkpoint the verification relied on, when it verified.
    pub checkpoint: Option<Checkpoint>,
    /// The stored checkpoint's exact text.
    pub checkpoint_note: Option<String>,
    /// The older checkpoint given, opened (when it verified).
    pub older: Option<Checkpoint>,
    /// Times that do not follow the log: a record dated more than
    /// [`TIME_TOLERANCE`] before the latest record before it, or after the
    /// verifying clock. Not tampering by themselves (a writer's clock can
    /// be wrong), but a report issued earlier cannot be trusted to show
    /// such a record where it belongs. Each with the record's index.
    pub time_findings: Vec<(u64, String)>,
    /// What was proven about an older checkpoint.
    pub consistency: Option<String>,
    /// Where the log is (a path, or a database URI without its password).
    pub location: String,
    /// The leaf hash of each record the checkpoint covers, in order (when
    /// asked for).
    pub leaves: Vec<crate::merkle::Hash>,
}

impl LogCheck {
    /// Whether the log is intact.
    pub fn ok(&self) -> bool {
        self.problems.is_empty()
    }
}

/// How to verify.
#[derive(Default)]
pub struct VerifyOptions<'a> {
    /// An older checkpoint (note text) the log must extend.
    pub older: Option<&'a str>,
    /// Keep the opened records (for an audit or a listing).
    pub keep_records: bool,
    /// Write each record covered by the checkpoint here, one line each
    /// (an export).
    pub copy_to: Option<&'a mut dyn Write>,
    /// The verifying clock: records dated after it (beyond the tolerance)
    /// are time findings.
    pub now: Option<jiff::Timestamp>,
    /// Keep the leaf hash of every record the checkpoint covers (for
    /// proofs to witnesses and of inclusion).
    pub keep_leaves: bool,
}

/// Verifies the log in `store` with the evidence key: see the module.
pub fn verify_store(
    store: &dyn EvidenceStore,
    key: &VerifyingKey,
    options: VerifyOptions<'_>,
) -> Result<LogCheck> {
    verify_store_to_end(store, key, options, None, None).map(|(check, _, _)| check)
}

/// [`verify_store`], and: the log must also extend `extends` (the size and
/// root a writer holding the key verified before; a log that does not is a
/// problem, as with an older checkpoint given); each record that opens is
/// handed to `visit` in log order (the records beyond the checkpoint a
/// killed writer left included), so that a caller can take what it needs
/// from a log of any length without keeping its records. Returns the check
/// and where the records end: the frontier over every record read (those
/// beyond the checkpoint included) and the offset after them.
pub(crate) fn verify_store_to_end<'a>(
    store: &dyn EvidenceStore,
    key: &VerifyingKey,
    options: VerifyOptions<'a>,
    extends: Option<Checkpoint>,
    visit: Option<&'a mut dyn FnMut(&Record)>,
) -> Result<(LogCheck, Frontier, u64)> {
    let mut v = Verifier::new(store, key, None);
    v.keep = options.keep_records;
    v.keep_leaves = options.keep_leaves;
    v.copy_to = options.copy_to;
    v.visit = visit;
    v.now = options.now;
    if let Some(older) = options.older {
        match open_log_checkpoint(older, key) {
            Ok(cp) => {
                v.check.older = Some(cp.clone());
                v.older = Some(cp);
            }
            Err(e) => v.check.problems.push(LogProblem::OlderCheckpoint(e)),
        }
    }
    if let Some(extends) = extends
        && v.older.is_none()
    {
        v.older = Some(extends);
    }
    v.compare_older();
    store.scan(&mut |item| v.item(item))?;
    v.flush()?;
    let end = v.beyond.clone().unwrap_or_else(|| v.frontier.clone());
    let read = v.read;
    Ok((v.finish(), end, read))
}

/// Verifies the records of `store` that follow `from` (records a writer
/// holding the key verified before, see [`crate::deploy_index`]) as
/// [`verify_store`] verifies a whole log: each record's signature and
/// binding, and the tree from `from`'s frontier on against the signed
/// checkpoint. Keeps the records read. Returns what the store read, the
/// check, and where the records it read end (the frontier over them and
/// the offset after them).
pub(crate) fn verify_store_from(
    store: &dyn EvidenceStore,
    key: &VerifyingKey,
    from: &crate::ResumePoint,
) -> Result<(crate::Resumed, LogCheck, Frontier, u64)> {
    let mut v = Verifier::new(store, key, Some(from));
    v.keep = true;
    let resumed = store.scan_from(from, &mut |item| v.item(item))?;
    v.flush()?;
    let (frontier, read) = (v.frontier.clone(), v.read);
    Ok((resumed, v.finish(), frontier, read))
}

/// Opens a batch of records. Their signatures are checked together
/// (Ed25519 batch verification, about twice as fast per signature); when
/// the batch fails, each is checked alone to name the culprits. Batch and
/// strict verification can disagree only on signatures built with
/// small-order components, which takes the private key to make; a weak key
/// is always checked strictly.
fn open_batch(
    batch: &[Waiting],
    key: &VerifyingKey,
    shared: Option<&crate::record::Shared>,
) -> Vec<(
    Hash,
    std::result::Result<Record, crate::record::RecordError>,
)> {
    let unsealed: Vec<_> = batch.iter().map(|(_, bytes, _, _)| unseal(bytes)).collect();
    let decoded: Vec<_> = unsealed.iter().filter_map(|u| u.as_ref().ok()).collect();
    let messages: Vec<&[u8]> = decoded.iter().map(|u| u.message.as_slice()).collect();
    let signatures: Vec<_> = decoded.iter().map(|u| u.signature).collect();
    let keys = vec![*key; decoded.len()];
    let all_valid = !key.is_weak()
        && (decoded.is_empty()
            || ed25519_dalek::verify_batch(&messages, &signatures, &keys).is_ok());
    batch
        .iter()
        .zip(unsealed)
        .map(|((position, bytes, _, _), unsealed)| {
            let index = usize::try_from(*position).unwrap_or(usize::MAX);
            let record = unsealed.and_then(|u| {
                if !all_valid {
                    u.check(key)?;
                }
                u.read(index, bytes, shared)
            });
            (leaf_hash(bytes), record)
        })
        .collect()
}

struct Verifier<'a, 'k> {
    key: &'k VerifyingKey,
    older: Option<Checkpoint>,
    keep: bool,
    /// The strings the records kept repeat, held once.
    shared: crate::record::Shared,
    keep_leaves: bool,
    copy_to: Option<&'a mut dyn Write>,
    /// Called with each record that opened, in log order (the records
    /// beyond the checkpoint a killed writer left included).
    visit: Option<&'a mut dyn FnMut(&Record)>,
    crash_tail: bool,
    check: LogCheck,
    /// Over the records covered by the checkpoint (all, without one).
    frontier: Frontier,
    /// The tree over the records beyond the checkpoint too (a killed
    /// writer's record or batch), to check each one's binding.
    beyond: Option<Frontier>,
    /// Raw records waiting to be opened: (position, bytes, stored index,
    /// stored leaf hash).
    chunk: Vec<Waiting>,
    /// Records seen so far.
    seen: u64,
    /// Bytes of the complete records seen so far, a newline each (where
    /// the next record starts in a file log).
    read: u64,
    /// Valid records beyond the checkpoint.
    pending: u64,
    /// A record bound to its log was seen: unbound ones after it are
    /// tampering.
    bound_seen: bool,
    /// The latest record time so far, and its record number.
    latest: Option<(jiff::Timestamp, u64)>,
    now: Option<jiff::Timestamp>,
    /// A record could not be hashed (too long), so no root can be computed.
    unhashable: bool,
    older_matched: Option<bool>,
}

impl<'a, 'k> Verifier<'a, 'k> {
    /// A verifier of the log in `store`, from its start or from `from`
    /// (records verified before: a deploy index is only made after an
    /// append, which binds its record), keeping nothing.
    fn new(
        store: &dyn EvidenceStore,
        key: &'k VerifyingKey,
        from: Option<&crate::ResumePoint>,
    ) -> Self {
        Verifier {
            key,
            older: None,
            keep: false,
            shared: Default::default(),
            keep_leaves: false,
            copy_to: None,
            visit: None,
            crash_tail: store.may_have_uncheckpointed_tail(),
            check: LogCheck {
                location: store.location(),
                ..LogCheck::default()
            },
            frontier: from.map(|f| f.frontier.clone()).unwrap_or_default(),
            beyond: None,
            chunk: Vec::new(),
            seen: from.map_or(0, |f| f.frontier.size()),
            read: from.map_or(0, |f| f.offset),
            pending: 0,
            bound_seen: from.is_some(),
            latest: None,
            now: None,
            unhashable: false,
            older_matched: None,
        }
    }
}

impl Verifier<'_, '_> {
    fn covered(&self, position: u64) -> bool {
        self.check
            .checkpoint
            .as_ref()
            .is_none_or(|cp| position < cp.size)
    }

    fn item(&mut self, item: ScanItem<'_>) -> Result<()> {
        match item {
            ScanItem::Checkpoint(None) => {
                return Err(Error::Evidence(format!(
                    "{} has no checkpoint: not a log modelseal kept (or its checkpoint was removed)",
                    self.check.location
                )));
            }
            ScanItem::Checkpoint(Some(note)) => {
                self.check.checkpoint_note = Some(note.to_string());
                match open_log_checkpoint(note, self.key) {
                    Ok(cp) => self.check.checkpoint = Some(cp),
                    Err(e) => self.check.problems.push(LogProblem::Checkpoint(e)),
                }
            }
            ScanItem::Record {
                bytes,
                index,
                leaf_hash,
            } => {
                self.read += bytes.len() as u64 + 1;
                self.chunk.push((
                    self.seen,
                    bytes.to_vec(),
                    index,
                    leaf_hash.map(<[u8]>::to_vec),
                ));
                self.seen += 1;
                if self.chunk.len() >= CHUNK {
                    self.flush()?;
                }
            }
            ScanItem::Oversized { len } => {
                self.flush()?;
                self.check.problems.push(LogProblem::TooLong {
                    record: self.seen + 1,
                    len,
                    max: MAX_RECORD as u64,
                });
                if self.covered(self.seen) {
                    self.unhashable = true;
                }
                self.seen += 1;
            }
            ScanItem::Torn { len } => {
                self.flush()?;
                let beyond = !self.covered(self.seen);
                if beyond && self.crash_tail {
                    self.check.repairs.push(format!(
                        "the last record is cut off ({len} bytes without a final newline: an interrupted write); the next append cuts it"
                    ));
                } else {
                    self.check.problems.push(LogProblem::CutOff {
                        record: self.seen + 1,
                    });
                    self.unhashable = true;
                }
            }
        }
        Ok(())
    }

    /// Opens the waiting records in parallel, then takes them in order.
    fn flush(&mut self) -> Result<()> {
        let key = self.key;
        let shared = self.keep.then_some(&self.shared);
        let opened: Vec<(
            Hash,
            std::result::Result<Record, crate::record::RecordError>,
        )> = self
            .chunk
            .par_chunks(BATCH)
            .flat_map_iter(|batch| open_batch(batch, key, shared))
            .collect();
        let chunk = std::mem::take(&mut self.chunk);
        for ((position, bytes, index, stored_hash), (leaf, record)) in chunk.into_iter().zip(opened)
        {
            self.take(position, &bytes, index, stored_hash, leaf, record)?;
        }
        Ok(())
    }

    fn take(
        &mut self,
        position: u64,
        bytes: &[u8],
        index: Option<u64>,
        stored_hash: Option<Vec<u8>>,
        leaf: Hash,
        record: std::result::Result<Record, crate::record::RecordError>,
    ) -> Result<()> {
        let n = position + 1;
        if let Some(index) = index.filter(|i| *i != position) {
            self.check
                .problems
                .push(LogProblem::StoredIndex { record: n, index });
        }
        if let Some(stored) = stored_hash.filter(|h| h.as_slice() != leaf.as_slice()) {
            self.check.problems.push(LogProblem::StoredLeafHash {
                record: n,
                stored: hex::encode(stored),
            });
        }
        if !self.covered(position) {
            let refusal = match (&record, &self.check.checkpoint) {
                (Ok(record), Some(cp)) => {
                    let before = self.beyond.get_or_insert_with(|| self.frontier.clone());
                    crate::log::repair_refusal(record, cp, position, &before.root())
                }
                _ => None,
            };
            match record {
                Ok(_) if refusal.is_some() => self.check.problems.push(LogProblem::NotRepairable {
                    reason: refusal.unwrap_or_default(),
                }),
                Ok(record) if self.crash_tail => {
                    self.pending += 1;
                    if let Some(visit) = self.visit.as_mut() {
                        visit(&record);
                    }
                    if self.keep {
                        self.check.pending_records.push(record);
                    }
                }
                Ok(_) => self
                    .check
                    .problems
                    .push(LogProblem::BeyondCheckpoint { record: n }),
                Err(why) => self
                    .check
                    .problems
                    .push(LogProblem::UnreadableBeyond { record: n, why }),
            }
            self.beyond
                .get_or_insert_with(|| self.frontier.clone())
                .push(leaf);
            return Ok(());
        }
        if let Ok(record) = &record {
            self.check_binding(record, position);
            self.check_time(record, position);
        }
        self.frontier.push(leaf);
        if self.keep_leaves {
            self.check.leaves.push(leaf);
        }
        self.compare_older();
        if let Some(out) = self.copy_to.as_mut() {
            out.write_all(bytes)
                .and_then(|()| out.write_all(b"\n"))
                .map_err(|e| Error::Evidence(format!("cannot write the export: {e}")))?;
        }
        if let (Ok(record), Some(visit)) = (&record, self.visit.as_mut()) {
            visit(record);
        }
        match record {
            Ok(record) if self.keep => {
                if self.check.records.len() >= MAX_KEPT_RECORDS {
                    return Err(Error::Evidence(format!(
                        "{} holds more than {MAX_KEPT_RECORDS} records, more than an audit keeps in memory",
                        self.check.location
                    )));
                }
                self.check.records.push(record);
            }
            Ok(_) => {}
            Err(why) => self
                .check
                .problems
                .push(LogProblem::Unreadable { record: n, why }),
        }
        Ok(())
    }

    /// A record's time must not run back along the log, nor ahead of the
    /// verifying clock, by more than the tolerance.
    fn check_time(&mut self, record: &Record, position: u64) {
        let n = position + 1;
        let time = record.time();
        if let Some((latest, at)) = self.latest
            && latest
                .checked_sub(TIME_TOLERANCE)
                .is_ok_and(|earliest| time < earliest)
        {
            self.check.time_findings.push((
                position,
                format!(
                    "record {n} is dated {time}, before record {at} ({latest}): times go backwards along the log"
                ),
            ));
        }
        let ahead = self.now.is_some_and(|now| {
            now.checked_add(TIME_TOLERANCE)
                .is_ok_and(|latest_allowed| time > latest_allowed)
        });
        if ahead {
            self.check.time_findings.push((
                position,
                format!(
                    "record {n} is dated {time}, after the verifying clock ({})",
                    self.now.map(|t| t.to_string()).unwrap_or_default()
                ),
            ));
        }
        // A record dated ahead of the verifying clock is the outlier: the
        // records after it are not measured against it.
        if !ahead && self.latest.is_none_or(|(latest, _)| time > latest) {
            self.latest = Some((time, n));
        }
    }

    /// A covered record must be bound to this log, at its index, after the
    /// history before it; an unbound one may only precede every bound one.
    fn check_binding(&mut self, record: &Record, position: u64) {
        let n = position + 1;
        let Some(binding) = &record.binding else {
            if self.bound_seen {
                self.check.problems.push(LogProblem::Unbound { record: n });
            } else {
                self.check.unbound += 1;
            }
            return;
        };
        self.bound_seen = true;
        if let Some(cp) = &self.check.checkpoint
            && *binding.origin != *cp.origin
        {
            self.check.problems.push(LogProblem::OtherLog {
                record: n,
                origin: binding.origin.chars().take(100).collect(),
            });
        } else if binding.index != position {
            self.check.problems.push(LogProblem::OtherIndex {
                record: n,
                index: binding.index,
            });
        } else if binding.previous != self.frontier.root() {
            self.check
                .problems
                .push(LogProblem::OtherHistory { record: n });
        }
    }

    /// Once the log reaches the older checkpoint's size, its prefix must
    /// have the older root.
    fn compare_older(&mut self) {
        if let Some(older) = &self.older
            && self.older_matched.is_none()
            && self.frontier.size() == older.size
        {
            self.older_matched = Some(!self.unhashable && self.frontier.root() == older.root);
        }
    }

    fn finish(mut self) -> LogCheck {
        let covered = self.frontier.size();
        self.check.lines = usize::try_from(self.seen).unwrap_or(usize::MAX);
        if let Some(cp) = &self.check.checkpoint {
            if covered < cp.size {
                self.check.problems.push(LogProblem::Short {
                    checkpoint: cp.size,
                    log: self.seen,
                });
            } else if self.unhashable || self.frontier.root() != cp.root {
                self.check.problems.push(LogProblem::Root);
            }
        }
        if self.pending > 0 {
            self.check.repairs.push(format!(
                "{} complete record(s) sealed by the evidence key lie beyond the checkpoint (an interrupted append); the next append takes them in",
                self.pending
            ));
        }
        if let Some(older) = &self.older {
            if let Some(cp) = &self.check.checkpoint
                && cp.origin != older.origin
            {
                self.check.problems.push(LogProblem::OlderOfAnotherLog {
                    older: older.origin.clone(),
                    log: cp.origin.clone(),
                });
            }
            match self.older_matched {
                None => self.check.problems.push(LogProblem::BelowOlder {
                    log: covered,
                    older: older.size,
                }),
                Some(false) => self
                    .check
                    .problems
                    .push(LogProblem::NotExtension { older: older.size }),
                Some(true) => {
                    self.check.consistency = Some(format!(
                        "the log of {covered} records extends the older checkpoint of {} (its first {} records hash to the older root)",
                        older.size, older.size
                    ))
                }
            }
        }
        self.check
    }
}
