//! Why a verification failed: one value per failed check, naming the file,
//! key, certificate or identity concerned.

use serde::Serialize;

/// One reason a verification failed.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
#[serde(tag = "kind", rename_all = "kebab-case")]
pub enum Failure {
    /// The signature does not verify.
    Signature {
        /// Details.
        message: String,
    },
    /// The bundle names a different key than the one given.
    WrongKey {
        /// Details.
        message: String,
    },
    /// The certificate chain does not validate.
    Certificate {
        /// Details.
        message: String,
    },
    /// The keyless certificate names another identity or issuer.
    Identity {
        /// Details.
        message: String,
    },
    /// The transparency log entry does not verify or does not match.
    TransparencyLog {
        /// Details.
        message: String,
    },
    /// A signed timestamp does not verify.
    Timestamp {
        /// Details.
        message: String,
    },
    /// A certificate on the chain is expired or not yet valid.
    Expired {
        /// Details.
        message: String,
    },
    /// The signed statement is not a valid OMS statement.
    Statement {
        /// Details.
        message: String,
    },
    /// The subject digest does not match the listed resources.
    SubjectDigest {
        /// The digest in the subject.
        expected: String,
        /// The digest of the resources.
        computed: String,
    },
    /// The manifest uses a hash algorithm this tool cannot compute.
    UnknownAlgorithm {
        /// The identifier found.
        algorithm: String,
    },
    /// The model tree cannot be enumerated as signed (e.g. a symlink appeared).
    Model {
        /// Details.
        message: String,
    },
    /// A signed file has different contents.
    Changed {
        /// The resource path.
        path: String,
    },
    /// A signed file is missing.
    Missing {
        /// The resource path.
        path: String,
    },
    /// A file is present that the signature does not list.
    Extra {
        /// The resource path.
        path: String,
    },
    /// The BOM attestation does not verify or does not describe this model.
    Bom {
        /// Details.
        message: String,
    },
    /// A rule of the deploy policy is broken.
    Policy {
        /// The rule (`signer`, `bom`, `formats`, `max-signature-age`, ...).
        rule: String,
        /// Details.
        message: String,
    },
    /// A file of the BOM disagrees with the model signature or the disk.
    BomFile {
        /// The resource path.
        path: String,
        /// Details.
        message: String,
    },
}

impl Failure {
    /// The file concerned, for file-level failures.
    pub fn path(&self) -> Option<&str> {
        match self {
            Failure::Changed { path }
            | Failure::Missing { path }
            | Failure::Extra { path }
            | Failure::BomFile { path, .. } => Some(path),
            _ => None,
        }
    }

    /// One line for humans.
    pub fn message(&self) -> String {
        match self {
            Failure::Signature { message } => format!("signature: {message}"),
            Failure::WrongKey { message } => format!("wrong key: {message}"),
            Failure::Certificate { message } => format!("certificate: {message}"),
            Failure::Expired { message } => format!("expired certificate: {message}"),
            Failure::Identity { message } => format!("identity: {message}"),
            Failure::TransparencyLog { message } => format!("transparency log: {message}"),
            Failure::Timestamp { message } => format!("timestamp: {message}"),
            Failure::Statement { message } => format!("statement: {message}"),
            Failure::SubjectDigest { expected, computed } => format!(
                "subject digest {expected} does not match the listed resources ({computed})"
            ),
            Failure::UnknownAlgorithm { algorithm } => {
                format!("unknown hash algorithm {algorithm:?}")
            }
            Failure::Model { message } => format!("model: {message}"),
            Failure::Changed { path } => format!("changed: {path}"),
            Failure::Missing { path } => format!("missing: {path}"),
            Failure::Extra { path } => format!("extra (not signed): {path}"),
            Failure::Bom { message } => format!("bom: {message}"),
            Failure::Policy { rule, message } => format!("policy ({rule}): {message}"),
            Failure::BomFile { path, message } => format!("bom: {path}: {message}"),
        }
    }
}
