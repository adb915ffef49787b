//! What verifying a log found wrong with it. Each is tampering (or damage
//! no writer of modelseal leaves), names the record or checkpoint it is
//! about, and reads as one line: `evidence verify` prints them, the audit
//! reports them, and a caller matches on the variant.

use crate::note::CheckpointError;
use crate::record::RecordError;

/// One thing wrong with a log. Records are numbered from 1, as every
/// message and report numbers them.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[non_exhaustive]
pub enum LogProblem {
    /// The stored checkpoint does not open with the evidence key.
    #[error("the checkpoint: {0}")]
    Checkpoint(CheckpointError),
    /// The older checkpoint given to compare with does not open.
    #[error("the older checkpoint: {0}")]
    OlderCheckpoint(CheckpointError),
    /// A record longer than a record may be.
    #[error("record {record}: {len} bytes, longer than the {max} bytes a record may hold")]
    TooLong {
        /// The record's number.
        record: u64,
        /// Its length.
        len: u64,
        /// The most a record may hold.
        max: u64,
    },
    /// A record without its final newline, inside what the checkpoint
    /// covers.
    #[error("record {record}: cut off (no final newline) inside what the checkpoint covers")]
    CutOff {
        /// The record's number.
        record: u64,
    },
    /// A database row stored under another leaf index than its place.
    #[error(
        "record {record}: stored with leaf index {index} (records missing, inserted or renumbered)"
    )]
    StoredIndex {
        /// The record's number.
        record: u64,
        /// The index it is stored under.
        index: u64,
    },
    /// A database row whose stored leaf hash is not the hash of its bytes.
    #[error(
        "record {record}: the stored leaf hash {stored} is not the hash of the stored bytes (edited behind modelseal's back)"
    )]
    StoredLeafHash {
        /// The record's number.
        record: u64,
        /// The stored hash, hex.
        stored: String,
    },
    /// A record beyond the checkpoint that the next append may not take
    /// in (another log's, another place's, a replay).
    #[error("the log {reason}")]
    NotRepairable {
        /// Why, as the next append refuses it.
        reason: String,
    },
    /// A record beyond the checkpoint of a store whose writers never
    /// leave one.
    #[error("record {record}: beyond the checkpoint (written outside modelseal)")]
    BeyondCheckpoint {
        /// The record's number.
        record: u64,
    },
    /// A line beyond the checkpoint that is not a record of this log.
    #[error("record {record} (beyond the checkpoint): {why}")]
    UnreadableBeyond {
        /// The record's number.
        record: u64,
        /// Why it does not open.
        why: RecordError,
    },
    /// A line the checkpoint covers that is not a record of this log.
    #[error("record {record}: {why}")]
    Unreadable {
        /// The record's number.
        record: u64,
        /// Why it does not open.
        why: RecordError,
    },
    /// A record not bound to its log after records that are.
    #[error("record {record}: not bound to its log, after records that are (inserted)")]
    Unbound {
        /// The record's number.
        record: u64,
    },
    /// A record sealed for another log.
    #[error("record {record}: sealed for another log ({origin}), copied into this one")]
    OtherLog {
        /// The record's number.
        record: u64,
        /// The origin it was sealed for (at most 100 characters).
        origin: String,
    },
    /// A record sealed for another place in this log.
    #[error(
        "record {record}: sealed for index {index} (moved, or records missing or inserted before it)"
    )]
    OtherIndex {
        /// The record's number.
        record: u64,
        /// The index (0-based) it was sealed for.
        index: u64,
    },
    /// A record sealed after another history than the one before it.
    #[error("record {record}: sealed after another history (the records before it were changed)")]
    OtherHistory {
        /// The record's number.
        record: u64,
    },
    /// Fewer records than the checkpoint covers.
    #[error(
        "the checkpoint covers {checkpoint} records but the log holds {log} (records deleted, truncated or appended outside modelseal)"
    )]
    Short {
        /// The checkpoint's size.
        checkpoint: u64,
        /// The records the log holds.
        log: u64,
    },
    /// The records do not hash to the checkpoint's root.
    #[error(
        "the log's Merkle root differs from the signed checkpoint (records edited, reordered or replaced)"
    )]
    Root,
    /// The older checkpoint given is of another log.
    #[error("the older checkpoint is of another log (origin {older}, this log is {log})")]
    OlderOfAnotherLog {
        /// The older checkpoint's origin.
        older: String,
        /// This log's origin.
        log: String,
    },
    /// The log holds fewer records than the older checkpoint.
    #[error("the log holds {log} records, fewer than the older checkpoint's {older} (truncated)")]
    BelowOlder {
        /// The records the log's checkpoint covers.
        log: u64,
        /// The older checkpoint's size.
        older: u64,
    },
    /// The log's first records do not hash to the older checkpoint's root.
    #[error(
        "the log is not an extension of the older checkpoint of {older} records (history rewritten)"
    )]
    NotExtension {
        /// The older checkpoint's size.
        older: u64,
    },
}

/// Written as its one line, as every JSON output has shown a problem.
impl serde::Serialize for LogProblem {
    fn serialize<S: serde::Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        s.collect_str(self)
    }
}

impl LogProblem {
    /// The record (numbered from 1) the problem is about, when it is
    /// about one.
    pub fn record(&self) -> Option<u64> {
        match self {
            LogProblem::TooLong { record, .. }
            | LogProblem::CutOff { record }
            | LogProblem::StoredIndex { record, .. }
            | LogProblem::StoredLeafHash { record, .. }
            | LogProblem::BeyondCheckpoint { record }
            | LogProblem::UnreadableBeyond { record, .. }
            | LogProblem::Unreadable { record, .. }
            | LogProblem::Unbound { record }
            | LogProblem::OtherLog { record, .. }
            | LogProblem::OtherIndex { record, .. }
            | LogProblem::OtherHistory { record } => Some(*record),
            _ => None,
        }
    }
}

#[cfg(test)]
mod tests {
    use super::LogProblem;

    #[test]
    fn each_problem_names_its_record_in_one_line() {
        let problems = [
            LogProblem::OtherLog {
                record: 3,
                origin: "modelseal/evidence/staging".into(),
            },
            LogProblem::Short {
                checkpoint: 9,
                log: 7,
            },
        ];
        assert_eq!(
            problems[0].to_string(),
            "record 3: sealed for another log (modelseal/evidence/staging), copied into this one"
        );
        assert_eq!(problems[0].record(), Some(3));
        assert_eq!(problems[1].record(), None);
        assert!(problems.iter().all(|p| !p.to_string().contains('\n')));
    }
}
