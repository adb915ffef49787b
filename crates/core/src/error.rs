//! The library's error type. Every error maps to a documented exit code and
//! carries a one-line reason; some carry a hint saying what to do next.

use std::path::PathBuf;

/// Result alias used across the library.
pub type Result<T, E = Error> = std::result::Result<T, E>;

/// Everything that can go wrong before a verdict is reached.
///
/// A failed verification is not an error: it is a [`crate::verify::Verdict`]
/// with typed failures. Errors are usage, I/O and malformed-input problems.
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum Error {
    /// Reading or writing a file failed.
    #[error("{}: {source}", path.display())]
    Io {
        /// The file involved.
        path: PathBuf,
        /// The underlying error.
        #[source]
        source: std::io::Error,
    },
    /// The model tree cannot be signed or verified as it is.
    #[error("{0}")]
    Walk(#[from] crate::digest::WalkError),
    /// A key file could not be read or is of an unsupported kind.
    #[error("{}: {reason}", path.display())]
    Key {
        /// The key file.
        path: PathBuf,
        /// What is wrong with it.
        reason: String,
    },
    /// A certificate could not be read or used.
    #[error("certificate: {0}")]
    Certificate(String),
    /// The signature bundle is not a well-formed Sigstore bundle.
    #[error("malformed bundle: {0}")]
    Bundle(String),
    /// The caller asked for something impossible.
    #[error("{0}")]
    Usage(String),
    /// The evidence log cannot be used.
    #[error("evidence: {0}")]
    Evidence(String),
    /// A policy file is malformed.
    #[error("policy: {0}")]
    Policy(String),
    /// A BOM could not be built or read.
    #[error("bom: {0}")]
    Bom(String),
    /// A Sigstore trusted root could not be read.
    #[error("trusted root: {0}")]
    TrustedRoot(String),
    /// A remote input or service could not be used.
    #[error("{0}")]
    Remote(String),
    /// A file argument cannot be read (wrong kind of file, too large, a
    /// silent pipe, changed while read).
    #[error(transparent)]
    Input(#[from] crate::fetch::InputError),
    /// A model source outside this crate (a registry) cannot be read,
    /// signed or pulled; the error is the source's own (for registries,
    /// `modelseal_registry::OciError`, reachable by downcasting).
    #[error(transparent)]
    Source(Box<dyn std::error::Error + Send + Sync + 'static>),
    /// A file that must not be overwritten already exists.
    #[error("{} already exists", .0.display())]
    Exists(PathBuf),
}

impl Error {
    /// Wraps an I/O error with the path it concerns.
    pub fn io(path: impl Into<PathBuf>, source: std::io::Error) -> Self {
        Error::Io {
            path: path.into(),
            source,
        }
    }

    pub(crate) fn key(path: impl Into<PathBuf>, reason: impl Into<String>) -> Self {
        Error::Key {
            path: path.into(),
            reason: reason.into(),
        }
    }
}
