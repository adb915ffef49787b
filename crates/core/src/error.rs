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
    /// A remote input or service refused the request or sent what cannot
    /// be used (not found, too large, a downgrade to plain HTTP). One that
    /// could not be reached or timed out is [`Error::Unavailable`].
    #[error("{0}")]
    Remote(String),
    /// A file argument cannot be read (wrong kind of file, too large, a
    /// silent pipe, changed while read).
    #[error(transparent)]
    Input(#[from] crate::fetch::InputError),
    /// A model source outside this crate (a registry) cannot be read,
    /// signed or pulled; the error is the source's own (for registries,
    /// `modelseal_registry::OciError`, reachable by downcasting `source`).
    #[error("{source}")]
    Source {
        /// Whether trying again later may succeed (the service could not be
        /// reached, timed out or is overloaded); else the source refused.
        retryable: bool,
        /// The source's error.
        #[source]
        source: Box<dyn std::error::Error + Send + Sync + 'static>,
    },
    /// A key held elsewhere (a PKCS#11 token, a key service) did not sign.
    /// Its class is `Retry` when the holder says asking again may help (a
    /// device unplugged or busy), else `Reject`.
    #[error("{key}: cannot sign: {source}")]
    ExternalKey {
        /// Where the key is (never a secret).
        key: String,
        /// The key holder's own error.
        source: crate::keys::ExternalKeyError,
    },
    /// A key held elsewhere signed, but not with the key it names: its
    /// signature does not verify with its public key.
    #[error("{key}: the signature it made does not verify with its public key")]
    ExternalKeyMismatch {
        /// Where the key is (never a secret).
        key: String,
    },
    /// A file that must not be overwritten already exists.
    #[error("{} already exists", .0.display())]
    Exists(PathBuf),
    /// A service the operation needs (a database, a registry) could not be
    /// reached, timed out or said it is overloaded: trying again later may
    /// succeed.
    #[error("{0}")]
    Unavailable(String),
    /// The evidence log does not verify against its checkpoint or key:
    /// someone changed it. Nothing was appended.
    #[error("evidence: {log} {problem}; refusing to append (run `modelseal evidence verify`)")]
    Tampered {
        /// The log (a path or a redacted database URI).
        log: String,
        /// What does not verify.
        problem: String,
    },
}

/// What a caller does about an [`Error`]: try again, refuse, raise the
/// alarm, or fix the request. A failed verification is not an error (it is
/// a verdict); these classes are for the operations around it.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
#[non_exhaustive]
pub enum ErrorClass {
    /// A service could not be reached or timed out: try again later.
    Retry,
    /// The inputs were examined and refused (a malformed bundle, key,
    /// policy or BOM, registry content that does not match its digest, an
    /// unsafe file name).
    Reject,
    /// The evidence log was changed by someone without the key.
    Tampered,
    /// The request cannot be carried out as asked (usage, local files).
    Usage,
}

impl Error {
    /// The class of this error: retry, reject, tampered or usage.
    pub fn class(&self) -> ErrorClass {
        match self {
            Error::Unavailable(_) => ErrorClass::Retry,
            Error::ExternalKey { source, .. } if source.is_retryable() => ErrorClass::Retry,
            Error::ExternalKey { .. } => ErrorClass::Reject,
            Error::ExternalKeyMismatch { .. } => ErrorClass::Reject,
            Error::Tampered { .. } => ErrorClass::Tampered,
            Error::Source {
                retryable: true, ..
            } => ErrorClass::Retry,
            Error::Source { .. } => ErrorClass::Reject,
            Error::Key { .. }
            | Error::Certificate(_)
            | Error::Bundle(_)
            | Error::Policy(_)
            | Error::Bom(_)
            | Error::TrustedRoot(_)
            | Error::Remote(_)
            | Error::Walk(_) => ErrorClass::Reject,
            Error::Evidence(_)
            | Error::Io { .. }
            | Error::Usage(_)
            | Error::Input(_)
            | Error::Exists(_) => ErrorClass::Usage,
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

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn each_error_says_what_a_caller_does_next() {
        let retry = [
            Error::Unavailable("evidence: db: cannot connect".into()),
            Error::Unavailable("https://x: timed out after 60 s".into()),
            Error::Source {
                retryable: true,
                source: "registry: HTTP 503".into(),
            },
        ];
        for e in retry {
            assert_eq!(e.class(), ErrorClass::Retry, "{e}");
        }
        let reject = [
            Error::Bundle("not JSON".into()),
            Error::Remote("https://x/model.sig: HTTP 404 Not Found".into()),
            Error::Policy("unknown key".into()),
            Error::Source {
                retryable: false,
                source: "manifest: not found".into(),
            },
        ];
        for e in reject {
            assert_eq!(e.class(), ErrorClass::Reject, "{e}");
        }
        let tampered = Error::Tampered {
            log: "evidence.jsonl".into(),
            problem: "no longer matches its checkpoint".into(),
        };
        assert_eq!(tampered.class(), ErrorClass::Tampered);
        assert_eq!(
            tampered.to_string(),
            "evidence: evidence.jsonl no longer matches its checkpoint; refusing to append (run `modelseal evidence verify`)"
        );
        assert_eq!(Error::Usage("x".into()).class(), ErrorClass::Usage);
    }
}
