//! Why a model tree cannot be signed or verified as it is.

use serde::Serialize;

/// A reason the walk refuses a model tree. Paths are resource names
/// (relative to the model root) where one exists, else the path given.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, thiserror::Error)]
#[serde(tag = "kind", rename_all = "kebab-case")]
#[non_exhaustive]
pub enum WalkError {
    /// A symbolic link was found while links are not allowed.
    #[error("{path} is a symbolic link")]
    Symlink {
        /// The link.
        path: String,
    },
    /// A symbolic link leads outside where links may lead (the model root,
    /// unless the caller allowed more).
    #[error("{path}: symbolic link points outside the model root (to {target})")]
    SymlinkOutside {
        /// The link.
        path: String,
        /// Where it resolves.
        target: String,
    },
    /// Directories reached through symbolic links hold more entries than
    /// the walk lists (links that fan out to the same directories again
    /// and again).
    #[error(
        "{path}: symbolic links lead to more than {max} entries (links that reach the same directories over and over?)"
    )]
    LinkFanOut {
        /// Where the budget ran out.
        path: String,
        /// The budget.
        max: usize,
    },
    /// The names of the entries reached through symbolic links grew past
    /// the budget (a few links per level, with long names, fan out to
    /// gigabytes of names well within the entry budget).
    #[error(
        "{path}: symbolic links lead to entries whose names exceed {max} bytes in all (links that reach the same directories over and over?)"
    )]
    LinkNamesTooLong {
        /// Where the budget ran out.
        path: String,
        /// The budget, in bytes.
        max: usize,
    },
    /// A symbolic link leads nowhere.
    #[error("{path}: dangling or unresolvable symbolic link: {detail}")]
    Dangling {
        /// The link.
        path: String,
        /// The operating system's words.
        detail: String,
    },
    /// A symbolic link leads to something that is neither a regular file nor
    /// a directory.
    #[error("{path}: symbolic link to something that is not a regular file or directory")]
    SymlinkTarget {
        /// The link.
        path: String,
    },
    /// A file name is not UTF-8, so it cannot be named in a manifest.
    #[error("{path}: file name is not valid UTF-8 and cannot be signed")]
    NotUtf8 {
        /// The path, with invalid bytes replaced.
        path: String,
    },
    /// A FIFO, socket or device in the tree.
    #[error("{path}: not a regular file (FIFO, socket or device) and cannot be signed")]
    Special {
        /// The entry.
        path: String,
    },
    /// Directories nest deeper than the walk follows.
    #[error("{path}: directories nest deeper than {max} levels")]
    TooDeep {
        /// Where the limit was reached.
        path: String,
        /// The limit.
        max: usize,
    },
    /// The path given is neither a regular file nor a directory.
    #[error("{path} is neither a regular file nor a directory")]
    NotFileOrDir {
        /// The path given.
        path: String,
    },
    /// Nothing is left to sign after the exclusions.
    #[error("the model at {path} has no files to sign (after exclusions)")]
    Empty {
        /// The path given.
        path: String,
    },
    /// The model path has no UTF-8 base name to name the subject by.
    #[error("{path}: the model needs a UTF-8 name")]
    NoName {
        /// The path given.
        path: String,
    },
    /// A file changed (grew, shrank or was replaced) while it was hashed.
    #[error("{path}: the file changed while it was being hashed")]
    ChangedWhileHashing {
        /// The file.
        path: String,
    },
}
