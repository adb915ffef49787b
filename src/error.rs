//! The library's error type. Every error maps to a documented exit code and
//! carries a one-line reason; some carry a hint saying what to do next.

use std::path::PathBuf;

/// Result alias used across the library.
pub type Result<T, E = Error> = std::result::Result<T, E>;

/// Everything that can go wrong before a verdict is reached.
///
/// A failed verification is not an error: it is a [`crate::verify::Verdict`]
/// with reasons. Errors are usage, I/O and malformed-input problems (exit 2).
#[derive(Debug, thiserror::Error)]
pub enum Error {
    /// Reading or writing a file failed.
    #[error("{path}: {source}")]
    Io {
        /// The file involved.
        path: PathBuf,
        /// The underlying error.
        source: std::io::Error,
    },
    /// The model tree cannot be signed or verified as it is.
    #[error("{0}")]
    Walk(String),
    /// A symbolic link was found while links are not allowed.
    #[error("{0} is a symbolic link")]
    Symlink(String),
    /// The model has no file left to sign.
    #[error("the model at {0} has no files to sign (after exclusions)")]
    EmptyModel(PathBuf),
    /// A key file could not be read or is of an unsupported kind.
    #[error("{path}: {reason}")]
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
    /// The command line asked for something impossible.
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
    /// A file that must not be overwritten already exists.
    #[error("{0} already exists")]
    Exists(PathBuf),
}

impl Error {
    /// The process exit code for this error: always 2 (usage, I/O or
    /// malformed input). Failed verifications exit 1 through their verdict.
    pub fn exit_code(&self) -> i32 {
        2
    }

    /// A line telling the user what to try next, when there is one.
    pub fn hint(&self) -> Option<&'static str> {
        match self {
            Error::Symlink(_) => Some(
                "symbolic links are refused by default; pass --allow-symlinks to follow links that stay inside the model",
            ),
            Error::EmptyModel(_) => Some("check the path and the --ignore-path options"),
            Error::Exists(_) => Some("pass --force to overwrite it"),
            Error::Key { .. } => Some(
                "keys are PEM files: PKCS#8 or SEC1 private keys, SPKI public keys (Ed25519, ECDSA P-256/P-384/P-521)",
            ),
            Error::Bundle(_) => Some(
                "the signature must be a Sigstore bundle (JSON) as written by `modelseal sign` or `model_signing sign`",
            ),
            Error::Remote(_) => Some(
                "check the URL and the network; remote inputs must use https:// (plain http only on loopback)",
            ),
            _ => None,
        }
    }

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
