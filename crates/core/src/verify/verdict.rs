//! The outcome of a verification: who signed, what was checked, and every
//! failure. A verdict is "verified" only when it can say who signed and has
//! no failure at all; it holds no separate flag that could disagree.

use super::Failure;
use crate::bundle::Subject;
use crate::keys::KeyAlgorithm;
use serde::Serialize;

/// Who signed, as the trust material that verified the signature says.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
#[serde(tag = "kind", rename_all = "kebab-case")]
#[non_exhaustive]
pub enum Signer {
    /// A bare public key (key mode).
    Key {
        /// `SHA256:` hex of the SPKI DER.
        fingerprint: String,
        /// The key's algorithm.
        algorithm: KeyAlgorithm,
    },
    /// A certificate chained to a trust anchor (certificate mode).
    Certificate {
        /// The leaf's subject (RFC 4514).
        subject: String,
        /// The subject of the trust anchor the path ends at.
        anchor: String,
        /// The fingerprint of the leaf's public key.
        fingerprint: String,
    },
    /// A Sigstore keyless identity.
    Keyless {
        /// The certificate's identity (email or URI).
        identity: String,
        /// The OIDC issuer.
        issuer: String,
    },
}

impl std::fmt::Display for Signer {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            Signer::Key {
                fingerprint,
                algorithm,
            } => write!(f, "key {fingerprint} ({algorithm})"),
            Signer::Certificate {
                subject, anchor, ..
            } => write!(f, "certificate {subject:?} (anchor {anchor:?})"),
            Signer::Keyless { identity, issuer } => {
                write!(f, "sigstore identity {identity} (issuer {issuer})")
            }
        }
    }
}

/// Something worth knowing that did not fail the verification.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, thiserror::Error)]
#[serde(tag = "kind", rename_all = "kebab-case")]
#[non_exhaustive]
pub enum Warning {
    /// Signed with the DSSE encoding of `model_signing` releases before 1.0.
    #[error("signed with the pre-1.0 model_signing DSSE encoding")]
    LegacyEncoding,
    /// The bundle's key hint names another key, yet the given key verifies.
    #[error("the bundle's key hint names another key ({named}); the given key verifies")]
    KeyHintMismatch {
        /// How the bundle names its key.
        named: String,
    },
    /// The bundle carries RFC 3161 timestamps, and no TSA chain was given
    /// to check them: they say nothing.
    #[error(
        "the bundle carries {count} RFC 3161 timestamp(s), not checked (no TSA certificate chain given)"
    )]
    TimestampNotChecked {
        /// How many.
        count: usize,
    },
    /// The bundle carries certificates but was checked with a key alone.
    #[error("the bundle carries certificates; it was checked against the given key only")]
    CertificatesIgnored,
    /// The statement lists an ignore path that is not a canonical relative
    /// path; it was not applied.
    #[error("ignored a malformed ignore path {path:?} in the statement")]
    MalformedIgnorePath {
        /// The path as the statement gives it.
        path: String,
    },
    /// A symbolic link of the model leads outside the model root.
    #[error("{path}: symbolic link leads outside the model root (to {target})")]
    SymlinkOutsideRoot {
        /// The link's resource name.
        path: String,
        /// Where it resolves.
        target: String,
    },
    /// A symbolic link makes a cycle; it was not followed.
    #[error("{path}: symbolic link makes a cycle and was not followed")]
    SymlinkCycle {
        /// The link's resource name.
        path: String,
    },
}

/// The outcome of a verification.
#[derive(Debug, Clone, Default, Serialize)]
#[non_exhaustive]
pub struct Verdict {
    /// Who signed, when the signature verified with a trusted signer (or the
    /// signer it was checked with, when it did not).
    pub signer: Option<Signer>,
    /// Whether the signature verified with a trusted signer.
    pub signature_verified: bool,
    /// The statement's subject (the model's name and root digest).
    pub subject: Option<Subject>,
    /// The subject the bundle claims, read without trusting it, when the
    /// verification stopped before the statement was accepted (a refused
    /// signature, a statement that does not parse): what the record of a
    /// failed verification is filed under.
    #[serde(skip)]
    pub claimed_subject: Option<Subject>,
    /// The predicate type of the statement.
    pub predicate_type: Option<String>,
    /// How many signed files were checked.
    pub files_checked: usize,
    /// Every failed check.
    pub failures: Vec<Failure>,
    /// Things worth knowing that did not fail the verification.
    pub warnings: Vec<Warning>,
    /// Whether the BOM verified, when one was given.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub bom_verified: Option<bool>,
    /// When the signature was made, when a transparency log says so.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub signed_at: Option<jiff::Timestamp>,
    /// The earliest RFC 3161 timestamp of the signature, checked against
    /// the TSA chain given: the signature existed by then (an upper bound,
    /// never the signing time an age is measured from).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub timestamped: Option<crate::timestamp::Stamped>,
    /// The files the signature lists, sorted by name.
    #[serde(skip)]
    pub signed_files: crate::digest::NameList,
    /// What each signed file is, judged from the bytes that were hashed
    /// (when format inspection was asked for).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub formats: Option<crate::source::FormatReports>,
    /// How parts of the model were checked, where the source says (a
    /// registry layer trusted by digest, a link followed out of the root).
    #[serde(skip_serializing_if = "Vec::is_empty")]
    pub source_notes: Vec<crate::source::SourceNote>,
    /// The SHA-256 of the files `VerifyOptions::sha256_of` named, from the
    /// read that verified them.
    #[serde(skip)]
    pub file_sha256: std::collections::BTreeMap<String, String>,
}

impl Verdict {
    /// Whether the model verified: a trusted signer signed it, at least one
    /// file was checked, and nothing failed.
    pub fn is_verified(&self) -> bool {
        self.signature_verified && self.files_checked > 0 && self.failures.is_empty()
    }

    /// Whether every signed file was found unchanged (no file-level failure),
    /// with the signature verified.
    pub fn files_verified(&self) -> bool {
        self.signature_verified
            && self.files_checked > 0
            && !self.failures.iter().any(Failure::is_about_files)
    }

    /// A verdict that failed before any file was looked at.
    pub(crate) fn refused(
        signer: Option<Signer>,
        failure: Failure,
        warnings: Vec<Warning>,
    ) -> Self {
        Verdict {
            signer,
            failures: vec![failure],
            warnings,
            ..Verdict::default()
        }
    }
}
