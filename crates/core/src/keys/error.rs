//! Why key or certificate bytes are not a key modelseal can use.

use der::oid::ObjectIdentifier;

/// Why PEM text or DER bytes do not hold a usable key. The path, when there
/// is one, is added by the caller ([`crate::Error::Key`]).
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[non_exhaustive]
pub enum KeyFormatError {
    /// A `-----BEGIN` line with no `-----END` after it.
    #[error("unterminated PEM block")]
    UnterminatedBlock,
    /// An `-----END` line that does not close.
    #[error("unterminated PEM END line")]
    UnterminatedEndLine,
    /// A PEM block that does not decode (bad base64, mismatched labels).
    #[error("bad PEM block: {0}")]
    Pem(#[source] der::pem::Error),
    /// The bytes are not a DER SubjectPublicKeyInfo.
    #[error("not a SubjectPublicKeyInfo: {0}")]
    NotSubjectPublicKeyInfo(#[source] spki::Error),
    /// An EC key whose parameters name no curve.
    #[error("EC key without a named curve: {0}")]
    NoNamedCurve(#[source] spki::Error),
    /// A key of a supported algorithm whose bytes are not a valid key.
    #[error("bad {kind} key: {source}")]
    BadKey {
        /// `Ed25519`, `P-256`, `P-384` or `P-521`.
        kind: &'static str,
        /// The decoder's reason.
        source: spki::Error,
    },
    /// An elliptic curve other than P-256, P-384 and P-521.
    #[error("unsupported elliptic curve {}", curve_name(*.0))]
    UnsupportedCurve(ObjectIdentifier),
    /// An RSA key (OMS key mode signs with elliptic curves).
    #[error("RSA keys are not supported (OMS key mode uses elliptic curves)")]
    Rsa,
    /// Another algorithm.
    #[error("unsupported key algorithm {0}")]
    UnsupportedAlgorithm(ObjectIdentifier),
    /// A certificate's key that cannot be encoded again as DER.
    #[error("cannot encode the certificate key: {0}")]
    Encode(#[source] der::Error),
}

/// The name of a curve for messages: secp256k1 by name, others by OID.
fn curve_name(oid: ObjectIdentifier) -> String {
    match oid {
        super::pem::OID_SECP256K1 => "secp256k1".to_string(),
        other => other.to_string(),
    }
}

/// Why a key held elsewhere (a PKCS#11 token, a key service) did not sign:
/// the implementation's own typed error, kept as the source, and whether
/// asking again may help (a device unplugged or busy) or not (a key that
/// may not sign, a malformed signature).
#[derive(Debug, thiserror::Error)]
#[error("{source}")]
pub struct ExternalKeyError {
    retryable: bool,
    source: Box<dyn std::error::Error + Send + Sync>,
}

impl ExternalKeyError {
    /// A failure that asking again later may not repeat.
    pub fn retryable(source: impl Into<Box<dyn std::error::Error + Send + Sync>>) -> Self {
        ExternalKeyError {
            retryable: true,
            source: source.into(),
        }
    }

    /// A failure that asking again will repeat.
    pub fn permanent(source: impl Into<Box<dyn std::error::Error + Send + Sync>>) -> Self {
        ExternalKeyError {
            retryable: false,
            source: source.into(),
        }
    }

    /// Whether asking again later may succeed.
    pub fn is_retryable(&self) -> bool {
        self.retryable
    }
}
