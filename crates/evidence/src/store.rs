//! Where a log is kept. A store appends and reads back the exact record
//! bytes and the signed checkpoint; the RFC 6962 tree and the C2SP
//! checkpoints are computed here in the library, never by the store, so
//! every store's log exports to the same JSON Lines file and verifies
//! offline.

use super::note::Checkpoint;
use crate::Result;

/// Most bytes one record may hold. Records are a few kilobytes; a longer
/// line was not written by modelseal and is not read into memory.
pub const MAX_RECORD: usize = 1 << 20;

/// One thing read from a stored log, in log order.
#[derive(Debug)]
#[non_exhaustive]
pub enum ScanItem<'a> {
    /// The stored checkpoint note, exactly as stored (`None`: there is none).
    /// Always the first item.
    Checkpoint(Option<&'a str>),
    /// A complete record.
    Record {
        /// The record's exact bytes (one JSON line without its newline).
        bytes: &'a [u8],
        /// The leaf index the store keeps beside the record, if it keeps one.
        index: Option<u64>,
        /// The leaf hash the store keeps beside the record, if it keeps one
        /// (never trusted: it is compared with the hash of `bytes`).
        leaf_hash: Option<&'a [u8]>,
    },
    /// A record longer than [`MAX_RECORD`] (its bytes are skipped).
    Oversized {
        /// Its length in bytes.
        len: u64,
    },
    /// An unterminated last line: a write that was interrupted.
    Torn {
        /// Its length in bytes.
        len: u64,
    },
}

/// The most records one batch appends.
pub const MAX_BATCH: usize = 256;

/// Refuses a batch of no records or more than [`MAX_BATCH`].
pub(crate) fn check_batch(len: usize) -> crate::Result<()> {
    if len == 0 || len > MAX_BATCH {
        return Err(crate::Error::Evidence(format!(
            "a batch is 1 to {MAX_BATCH} records"
        )));
    }
    Ok(())
}

/// Seals the record being appended for the place a store gives it.
pub type Sealer<'a> = &'a mut dyn FnMut(&crate::record::LogBinding) -> Result<String>;

/// Checks a sealed line before a store writes it: one line, and not longer
/// than a record may be.
pub(crate) fn check_line(line: &str) -> Result<()> {
    if line.contains('\n') || line.len() > MAX_RECORD {
        return Err(crate::Error::Evidence(format!(
            "a record must be one line of at most {MAX_RECORD} bytes"
        )));
    }
    Ok(())
}

/// The binding of the record that follows `frontier` in the log `origin`.
pub(crate) fn next_binding(
    origin: &str,
    frontier: &crate::merkle::Frontier,
) -> crate::record::LogBinding {
    crate::record::LogBinding {
        origin: origin.into(),
        index: frontier.size(),
        previous: frontier.root(),
        batch: None,
    }
}

/// Where the records a writer has verified end: the log's origin, the
/// Merkle frontier over those records, and where the next record starts in
/// the store (a byte offset in a file log).
#[derive(Debug, Clone, PartialEq, Eq)]
#[non_exhaustive]
pub struct ResumePoint {
    /// The log's origin.
    pub origin: String,
    /// The tree over the records verified.
    pub frontier: crate::merkle::Frontier,
    /// Where the record after them starts in the store.
    pub offset: u64,
}

/// What [`EvidenceStore::scan_from`] read.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
#[non_exhaustive]
pub enum Resumed {
    /// The store cannot read from a point: nothing was visited (the caller
    /// scans the whole log).
    Unsupported,
    /// The checkpoint, then every record from the point on.
    Read,
    /// The checkpoint only: no record starts at the point any more (the
    /// store was cut, or rewritten before it).
    NoRecordThere,
}

/// A place that keeps an evidence log.
pub trait EvidenceStore {
    /// Where the log is, for messages and reports (never with a password).
    fn location(&self) -> String;

    /// Appends one record and re-signs the checkpoint, with every writer
    /// of the store serialised, and returns the new checkpoint. `seal` is
    /// called under the store's lock with the binding of the next index
    /// (this log's origin, the index, the root before it) and returns the
    /// sealed line; it may be called again if an attempt is retried. When
    /// `append` returns, the last line sealed and the checkpoint are
    /// durable. Refuses a log that no longer matches its checkpoint.
    fn append(&self, seal: Sealer<'_>, key: &dyn crate::SealKey) -> Result<Checkpoint>;

    /// Appends several records (at most [`MAX_BATCH`]) as [`append`] does
    /// one, each sealed for its place; a store that can make them durable
    /// together (one flush, one checkpoint) does. When it returns, every
    /// record and the checkpoint are durable.
    ///
    /// [`append`]: EvidenceStore::append
    fn append_batch(
        &self,
        seals: &mut [Sealer<'_>],
        key: &dyn crate::SealKey,
    ) -> Result<Checkpoint> {
        let mut last = None;
        for seal in seals.iter_mut() {
            last = Some(self.append(&mut **seal, key)?);
        }
        last.ok_or_else(|| crate::Error::Evidence("an empty batch".into()))
    }

    /// Reads the log in one consistent view: the checkpoint first, then
    /// every record in order. An error from `visit` ends the scan and is
    /// returned. A log that does not exist is an error.
    fn scan(&self, visit: &mut dyn FnMut(ScanItem<'_>) -> Result<()>) -> Result<()>;

    /// Keeps a checkpoint the log's witnesses cosigned, after every one
    /// kept before (the history of witnessed times); it becomes the latest
    /// unless a larger one was kept. Durable when it returns.
    fn keep_cosigned(&self, kept: &crate::KeptCosigned) -> Result<()>;

    /// The latest cosigned checkpoint kept (the largest), if any.
    fn latest_cosigned(&self) -> Result<Option<crate::KeptCosigned>>;

    /// Visits every cosigned checkpoint kept, in the order kept (at most
    /// [`crate::MAX_KEPT_COSIGNED`]; more is an error). Nothing read here
    /// is trusted: the caller checks each note.
    fn cosigned(&self, visit: &mut dyn FnMut(crate::KeptCosigned) -> Result<()>) -> Result<()>;

    /// Whether records beyond the checkpoint can be left by a writer that
    /// was killed (a file log: record and checkpoint are two writes). Where
    /// they cannot (one transaction), such records are tampering.
    fn may_have_uncheckpointed_tail(&self) -> bool;

    /// Reads the log as [`scan`] does, but from the record `from.frontier.size()`
    /// on, which starts at `from.offset`: the checkpoint first, then those
    /// records. What this reads is checked against the signed checkpoint by
    /// the caller, as a whole scan is.
    ///
    /// [`scan`]: EvidenceStore::scan
    fn scan_from(
        &self,
        from: &ResumePoint,
        visit: &mut dyn FnMut(ScanItem<'_>) -> Result<()>,
    ) -> Result<Resumed> {
        let _ = (from, visit);
        Ok(Resumed::Unsupported)
    }

    /// The last [`scan_from`] read a log that verified: `frontier` is the
    /// tree over every record it read, which the checkpoint `checkpoint_note`
    /// of the log `origin` signs. The next append of this process may start
    /// from there without reading the log again, if the store is still
    /// exactly as that scan found it.
    ///
    /// [`scan_from`]: EvidenceStore::scan_from
    fn adopt(&self, checkpoint_note: &str, origin: &str, frontier: &crate::merkle::Frontier) {
        let _ = (checkpoint_note, origin, frontier);
    }

    /// Where the log stood after this process's last append, where the
    /// store knows it.
    fn resume_point(&self) -> Option<ResumePoint> {
        None
    }

    /// What names the log for a deploy index kept apart from it
    /// ([`crate::Recorder::with_deploy_index_dir`]): the same for every
    /// spelling of the location that reaches the same log.
    fn index_name(&self) -> String {
        self.location()
    }

    /// The writer's deploy index kept with the log, if the store keeps one
    /// and one is there (never trusted: the caller opens it with the key).
    fn load_deploy_index(&self) -> Result<Option<Vec<u8>>> {
        Ok(None)
    }

    /// Replaces the writer's deploy index, where the store keeps one.
    fn save_deploy_index(&self, sealed: &[u8]) -> Result<()> {
        let _ = sealed;
        Ok(())
    }

    /// Whether the log has been started: a file log exists, a database
    /// log has its first checkpoint. A log not started has no records yet
    /// (the next append starts it); one that has must verify before
    /// anything is read from it.
    fn is_started(&self) -> Result<bool> {
        let mut started = None;
        let scanned = self.scan(&mut |item| {
            if let ScanItem::Checkpoint(checkpoint) = item {
                started = Some(checkpoint.is_some());
            }
            // The first item answers the question: stop the scan there.
            Err(crate::Error::Evidence(String::new()))
        });
        match started {
            Some(started) => Ok(started),
            None => scanned.map(|()| false),
        }
    }
}
