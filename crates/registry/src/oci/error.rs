//! Why a model in a registry cannot be read, signed or pulled.

/// A registry model refused, or a registry that could not be used.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[non_exhaustive]
pub enum OciError {
    /// The `oci://` reference is malformed.
    #[error("{reference}: not an OCI reference: {reason}")]
    Reference {
        /// The reference as given.
        reference: String,
        /// What is wrong with it.
        #[source]
        reason: super::ReferenceError,
    },
    /// The registry answered with an error (other than "try later").
    #[error("{0}")]
    Registry(String),
    /// The registry could not be reached, timed out, or answered that it is
    /// overloaded or failing (HTTP 429 or 5xx): trying again may succeed.
    #[error("{0}")]
    Unavailable(String),
    /// A response was larger than its cap.
    #[error("{what}: the registry sent more than {max} bytes")]
    TooLarge {
        /// What was being read.
        what: String,
        /// The cap.
        max: u64,
    },
    /// Content read from the registry does not match its digest or size.
    #[error("{what}: the registry sent content that does not match {digest}")]
    DigestMismatch {
        /// What was read (a manifest, or the file a blob holds).
        what: String,
        /// The digest asked for.
        digest: String,
    },
    /// The manifest cannot be read as a model.
    #[error("{digest}: {reason}")]
    Manifest {
        /// The manifest's digest.
        digest: String,
        /// What is wrong with it.
        reason: String,
    },
    /// A file name in a layer or annotation is unsafe or ambiguous.
    #[error("layer {layer}: refused file name {name:?}: {reason}")]
    UnsafeName {
        /// The layer (digest) that names it.
        layer: String,
        /// The name as found.
        name: String,
        /// Why it is refused.
        reason: String,
    },
    /// A tar layer holds an entry that cannot be part of a model.
    #[error(
        "layer {layer}: {name:?} is a {kind}; tar layers may hold only regular files and directories"
    )]
    UnsupportedEntry {
        /// The layer (digest).
        layer: String,
        /// The entry's name.
        name: String,
        /// What it is (hard link, device, whiteout, ...).
        kind: String,
    },
    /// A tar layer is not a valid tar (or gzip) stream.
    #[error("layer {layer}: not a valid tar layer: {reason}")]
    BadTar {
        /// The layer (digest).
        layer: String,
        /// What is wrong.
        reason: String,
    },
    /// Credentials could not be read.
    #[error("credentials: {0}")]
    Credentials(String),
}

impl OciError {
    /// Whether trying again later may succeed.
    pub fn is_retryable(&self) -> bool {
        matches!(self, OciError::Unavailable(_))
    }

    /// `Unavailable` when `e` (a failed read of a response) says the
    /// connection broke or timed out, else `Registry`.
    pub(crate) fn unavailable_if_io(text: String, e: &std::io::Error) -> Self {
        use std::io::ErrorKind as K;
        let broken = matches!(
            e.kind(),
            K::TimedOut
                | K::ConnectionReset
                | K::ConnectionAborted
                | K::UnexpectedEof
                | K::BrokenPipe
        ) || e.to_string().contains("timed out");
        if broken {
            OciError::Unavailable(text)
        } else {
            OciError::Registry(text)
        }
    }
}
