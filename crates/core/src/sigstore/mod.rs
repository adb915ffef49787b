//! Sigstore: keyless (Fulcio certificate + Rekor entry) verification of OMS
//! bundles and verification of any Sigstore bundle, via the sigstore-rust
//! crates (keyless signing needs the network: the `modelseal` crate's
//! `keyless` module). Verification is offline: the public-good trusted
//! root is embedded (`data/sigstore-trusted-root.json`).

mod generic;
mod offline;

pub use generic::{ArtifactInput, BundleCheck, BundleTrust, verify_bundle, verify_parsed};

use crate::{Error, Result};
pub use sigstore_verify::trust_root::TrustedRoot;
use sigstore_verify::types::{Bundle as SigstoreBundle, Sha256Hash};
use sigstore_verify::{CertificateError, VerificationPolicy};

/// Sigstore's public-good trusted root, embedded at build time. Where it came
/// from and how to refresh it: `keys/README.md`.
pub const EMBEDDED_TRUSTED_ROOT: &str = include_str!("../../data/sigstore-trusted-root.json");

/// Parses a trusted root (the `trusted_root.json` of a Sigstore instance).
pub fn trusted_root_from_json(json: &[u8]) -> Result<TrustedRoot> {
    let text =
        std::str::from_utf8(json).map_err(|_| Error::TrustedRoot("not UTF-8 JSON".into()))?;
    TrustedRoot::from_json(text).map_err(|e| Error::TrustedRoot(e.to_string()))
}

/// The embedded public-good trusted root.
pub fn embedded_trusted_root() -> Result<TrustedRoot> {
    trusted_root_from_json(EMBEDDED_TRUSTED_ROOT.as_bytes())
}

/// Who must have signed a keyless bundle.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct KeylessIdentity {
    /// The certificate's subject alternative name (email or URI), exactly.
    pub identity: String,
    /// The OIDC issuer recorded in the certificate, exactly.
    pub issuer: String,
}

/// A Sigstore bundle read once: checked as strict JSON (no repeated key in
/// the bundle or in its in-toto payload), then parsed with the Sigstore
/// types, which are stricter than modelseal's container check (every field
/// Sigstore defines must be well formed). Verifying it against several
/// signers, or reading its statement's type, reads the JSON no more.
pub struct ParsedBundle<'a> {
    json: &'a [u8],
    bundle: SigstoreBundle,
}

impl std::fmt::Debug for ParsedBundle<'_> {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("ParsedBundle")
            .field("media_type", &self.bundle.media_type)
            .field("bytes", &self.json.len())
            .finish()
    }
}

impl<'a> ParsedBundle<'a> {
    /// Reads `json` as a Sigstore bundle.
    pub fn parse(json: &'a [u8]) -> Result<Self> {
        let text = utf8(json)?;
        // Strict, and holding one content: Sigstore's parser takes whichever
        // of `messageSignature` and `dsseEnvelope` comes first, so a bundle
        // with both could be verified as one and read as the other.
        #[derive(serde::Deserialize)]
        #[serde(rename_all = "camelCase")]
        struct Contents {
            message_signature: Option<crate::json::StrictIgnore>,
            dsse_envelope: Option<crate::json::StrictIgnore>,
        }
        let contents: Contents =
            crate::json::from_slice(json).map_err(|e| Error::Bundle(e.to_string()))?;
        crate::bundle::one_content(
            contents.message_signature.is_some(),
            contents.dsse_envelope.is_some(),
        )?;
        let bundle = Self::from_text(json, text)?;
        // The signed statement is read by Sigstore's parser and by ours: both
        // must see one content.
        if let Some(payload) = bundle.in_toto_payload() {
            crate::json::check_unique_keys(payload)
                .map_err(|e| Error::Bundle(format!("the DSSE payload: {e}")))?;
        }
        Ok(bundle)
    }

    /// Reads `json`, which the caller has already read as strict JSON, and
    /// whose in-toto payload it has checked strictly itself (the model
    /// verifier's [`crate::bundle::BundleView`] and its check before the
    /// keyless verification), with the Sigstore types alone.
    pub(crate) fn parse_checked(json: &'a [u8]) -> Result<Self> {
        Self::from_text(json, utf8(json)?)
    }

    /// Parses `text`, the UTF-8 reading of `json`, with the Sigstore types.
    fn from_text(json: &'a [u8], text: &str) -> Result<Self> {
        let bundle = SigstoreBundle::from_json(text)
            .map_err(|e| Error::Bundle(format!("not a valid Sigstore bundle: {e}")))?;
        Ok(ParsedBundle { json, bundle })
    }

    /// The bundle's JSON text.
    pub fn json(&self) -> &'a [u8] {
        self.json
    }

    /// The DSSE payload, when the bundle holds an in-toto DSSE envelope.
    fn in_toto_payload(&self) -> Option<&[u8]> {
        match &self.bundle.content {
            sigstore_verify::types::SignatureContent::DsseEnvelope(envelope)
                if envelope.payload_type == crate::bundle::IN_TOTO_PAYLOAD_TYPE =>
            {
                Some(envelope.payload.as_bytes())
            }
            _ => None,
        }
    }

    /// The in-toto statement's `predicateType`, when the bundle holds a
    /// DSSE envelope of an in-toto statement that names one.
    pub fn predicate_type(&self) -> Option<String> {
        #[derive(serde::Deserialize)]
        struct Statement {
            #[serde(rename = "predicateType")]
            predicate_type: String,
        }
        let payload = self.in_toto_payload()?;
        crate::json::from_slice::<Statement>(payload)
            .ok()
            .map(|s| s.predicate_type)
    }
}

/// The bundle's bytes as text: a bundle is UTF-8 JSON.
fn utf8(json: &[u8]) -> Result<&str> {
    std::str::from_utf8(json).map_err(|_| Error::Bundle("the bundle is not UTF-8 JSON".into()))
}

/// Parses bundle JSON with the Sigstore types (see [`ParsedBundle`]).
#[cfg(test)]
pub(crate) fn parse_sigstore_bundle(json: &[u8]) -> Result<SigstoreBundle> {
    ParsedBundle::parse(json).map(|p| p.bundle)
}

/// Which Sigstore check failed, with the verifier's own words.
#[derive(Debug, Clone, PartialEq, Eq, serde::Serialize, thiserror::Error)]
#[serde(tag = "kind", rename_all = "kebab-case")]
#[non_exhaustive]
pub enum SigstoreProblem {
    /// The certificate names another identity or issuer.
    #[error("identity: {detail}")]
    Identity {
        /// The verifier's words.
        detail: String,
    },
    /// The certificate was not valid at the time the log recorded.
    #[error("expired certificate: {detail}")]
    Expired {
        /// The verifier's words.
        detail: String,
    },
    /// The certificate does not chain to the trusted root's CAs.
    #[error("certificate: {detail}")]
    Certificate {
        /// The verifier's words.
        detail: String,
    },
    /// The transparency log entry does not verify or does not match.
    #[error("transparency log: {detail}")]
    TransparencyLog {
        /// The verifier's words.
        detail: String,
    },
    /// A key-signed bundle has no transparency log entry, and none was
    /// waived.
    #[error("transparency log: the bundle has no transparency log entry")]
    NoTransparencyLogEntry,
    /// A signed timestamp does not verify.
    #[error("timestamp: {detail}")]
    Timestamp {
        /// The verifier's words.
        detail: String,
    },
    /// The bundle is not about the artifact given.
    #[error("statement: {detail}")]
    ArtifactMismatch {
        /// The verifier's words.
        detail: String,
    },
    /// The signature itself does not verify.
    #[error("signature: {detail}")]
    Signature {
        /// The verifier's words.
        detail: String,
    },
}

/// A keyless signature that verified: who signed and when the log says so.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct KeylessSigned {
    /// The identity and issuer the certificate names.
    pub who: KeylessIdentity,
    /// When the transparency log integrated the entry.
    pub integrated_time: Option<jiff::Timestamp>,
}

/// Verifies a keyless OMS bundle: certificate chain to the trusted root's
/// Fulcio CA at the logged time, embedded SCT, identity and issuer, the Rekor
/// entry (inclusion proof and checkpoint, or SET), timestamps when present,
/// the DSSE signature, and that the statement's subject is `subject_digest`
/// (64 hex digits; the caller checks the form).
pub(crate) fn verify_keyless_dsse(
    bundle_json: &[u8],
    subject_digest: [u8; 32],
    who: &KeylessIdentity,
    root: &TrustedRoot,
) -> Result<std::result::Result<KeylessSigned, SigstoreProblem>> {
    // The model verifier has read the bundle strictly, and its in-toto
    // statement before this (`authenticate`).
    let bundle = ParsedBundle::parse_checked(bundle_json)?.bundle;
    // The verifier read the DSSE envelope (and refused a bundle holding a
    // message signature too); Sigstore must verify that same envelope.
    if !matches!(
        bundle.content,
        sigstore_verify::types::SignatureContent::DsseEnvelope(_)
    ) {
        return Err(Error::Bundle(
            "the bundle's signed content is not its DSSE envelope".into(),
        ));
    }
    let policy = VerificationPolicy::new(who.identity.as_str(), who.issuer.as_str());
    match sigstore_verify::verify(Sha256Hash::new(subject_digest), &bundle, &policy, root) {
        Ok(result) => Ok(Ok(KeylessSigned {
            who: who.clone(),
            integrated_time: result.integrated_time(),
        })),
        Err(e) => Ok(Err(problem_for(e))),
    }
}

/// Maps a Sigstore verification error to the check that failed.
pub(crate) fn problem_for(error: sigstore_verify::Error) -> SigstoreProblem {
    use sigstore_verify::Error as E;
    let detail = error.to_string();
    match error {
        E::IdentityMismatch { .. } | E::IssuerMismatch { .. } => {
            SigstoreProblem::Identity { detail }
        }
        E::Certificate(CertificateError::Expired { .. } | CertificateError::NotYetValid { .. }) => {
            SigstoreProblem::Expired { detail }
        }
        E::Certificate(_) | E::TrustedCertificate(_) => SigstoreProblem::Certificate { detail },
        E::TransparencyLog(_) => SigstoreProblem::TransparencyLog { detail },
        E::Timestamp(_) => SigstoreProblem::Timestamp { detail },
        E::ArtifactMismatch(_) => SigstoreProblem::ArtifactMismatch { detail },
        _ => SigstoreProblem::Signature { detail },
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_embedded_root_parses() {
        embedded_trusted_root().unwrap();
        assert!(trusted_root_from_json(b"{}").is_err());
        assert!(trusted_root_from_json(b"\xff").is_err());
    }
}
