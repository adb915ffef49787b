//! What holding a log to its witnesses can find wrong: each a reason the
//! log cannot be trusted (a rollback, a fork, a kept checkpoint that does
//! not stand), typed, with the one line a user reads as its text.

use crate::{CosignedError, KeptError};

/// A finding against the log from its witnesses or the cosigned
/// checkpoints kept beside it: the evidence was tampered with, or cannot
/// be shown not to be.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[non_exhaustive]
pub enum WitnessProblem {
    /// The policy does not name the log (its origin and key).
    #[error("the witness policy does not list the log {origin}")]
    LogNotListed {
        /// The log's origin.
        origin: String,
    },
    /// A witness has cosigned more of the log than the log now holds.
    #[error(
        "witness {witness} has cosigned {size} records of this log, which now has {log_size}: the log was rolled back (or forked)"
    )]
    Ahead {
        /// The witness.
        witness: String,
        /// The size it cosigned.
        size: u64,
        /// The log's size.
        log_size: u64,
    },
    /// A witness holds another root at the log's size.
    #[error("witness {witness} holds another root for this log at size {size}: the log was forked")]
    Forked {
        /// The witness.
        witness: String,
        /// The log's size.
        size: u64,
    },
    /// Fewer witnesses answered than the quorum needs: a rollback or a
    /// fork cannot be ruled out.
    #[error(
        "only {answered} of {witnesses} witnesses answered: a rollback or a fork could not be ruled out (as many witnesses as the quorum must answer)"
    )]
    TooFewAnswers {
        /// How many answered.
        answered: usize,
        /// How many the policy names.
        witnesses: usize,
    },
    /// A cosigned checkpoint kept beside the log is not a checkpoint note.
    #[error("a kept cosigned checkpoint is not a checkpoint note")]
    NotANote,
    /// A cosigned checkpoint kept beside the log does not stand against
    /// it (another log, not a prefix, a cosignature that does not verify).
    #[error(transparent)]
    Stored(CosignedError),
    /// The checkpoint the caller kept from an earlier check, relied on,
    /// does not carry the quorum itself.
    #[error(transparent)]
    Kept(KeptError),
    /// TSA anchors were given, and nothing cosigned was kept to stamp.
    #[error("no cosigned checkpoint to check an RFC 3161 stamp of")]
    NothingStamped,
    /// TSA anchors were given, and the cosigned checkpoint kept carries no
    /// stamp.
    #[error("the cosigned checkpoint carries no RFC 3161 stamp, and a TSA chain was given")]
    NoStamp,
    /// The stamp of the cosigned checkpoint kept does not verify.
    #[error("the cosigned checkpoint's RFC 3161 stamp: {0}")]
    Stamp(modelseal_core::timestamp::TimestampError),
}
