//! Sigstore: keyless (Fulcio certificate + Rekor entry) verification of OMS
//! bundles, verification of any Sigstore bundle, and keyless signing, all via
//! the sigstore-rust crates. Verification is offline: the public-good trusted
//! root is embedded (`keys/sigstore-trusted-root.json`).

mod generic;
mod keyless_sign;
mod offline;

pub use generic::{ArtifactInput, BundleCheck, BundleTrust, verify_bundle};
pub use keyless_sign::{KeylessSigning, resolve_identity_token, sign_statement};

use crate::verify::Failure;
use crate::{Error, Result};
pub use sigstore_verify::trust_root::TrustedRoot;
use sigstore_verify::types::{Bundle as SigstoreBundle, Sha256Hash};
use sigstore_verify::{CertificateError, TransparencyLogError, VerificationPolicy};

/// Sigstore's public-good trusted root, embedded at build time. Where it came
/// from and how to refresh it: `keys/README.md`.
pub const EMBEDDED_TRUSTED_ROOT: &str = include_str!("../../keys/sigstore-trusted-root.json");

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
#[derive(Debug, Clone)]
pub struct KeylessIdentity {
    /// The certificate's subject alternative name (email or URI), exactly.
    pub identity: String,
    /// The OIDC issuer recorded in the certificate, exactly.
    pub issuer: String,
}

/// Parses bundle JSON with the Sigstore types (stricter than our container
/// check: every field Sigstore defines must be well formed).
pub(crate) fn parse_sigstore_bundle(json: &[u8]) -> Result<SigstoreBundle> {
    let text = std::str::from_utf8(json)
        .map_err(|_| Error::Bundle("the bundle is not UTF-8 JSON".into()))?;
    crate::json::check_unique_keys(json).map_err(|e| Error::Bundle(e.to_string()))?;
    let bundle = SigstoreBundle::from_json(text)
        .map_err(|e| Error::Bundle(format!("not a valid Sigstore bundle: {e}")))?;
    // The signed statement is read by Sigstore's parser and by ours: both
    // must see one content.
    if let sigstore_verify::types::SignatureContent::DsseEnvelope(envelope) = &bundle.content
        && envelope.payload_type == crate::bundle::IN_TOTO_PAYLOAD_TYPE
    {
        crate::json::check_unique_keys(envelope.payload.as_bytes())
            .map_err(|e| Error::Bundle(format!("the DSSE payload: {e}")))?;
    }
    Ok(bundle)
}

/// Verifies a keyless OMS bundle: certificate chain to the trusted root's
/// Fulcio CA at the logged time, embedded SCT, identity and issuer, the Rekor
/// entry (inclusion proof and checkpoint, or SET), timestamps when present,
/// the DSSE signature, and that the statement's subject is `subject_digest`.
/// On success, a description of the signer and the logged signing time.
pub(crate) fn verify_keyless_dsse(
    bundle_json: &[u8],
    subject_digest: &str,
    who: &KeylessIdentity,
    root: &TrustedRoot,
) -> Result<std::result::Result<(String, Option<String>), Failure>> {
    let bundle = parse_sigstore_bundle(bundle_json)?;
    let digest = match Sha256Hash::from_hex(subject_digest) {
        Ok(d) => d,
        Err(_) => {
            return Ok(Err(Failure::Statement {
                message: "the subject digest is not a SHA-256 hex digest".into(),
            }));
        }
    };
    let policy = VerificationPolicy::new(who.identity.as_str(), who.issuer.as_str());
    match sigstore_verify::verify(digest, &bundle, &policy, root) {
        Ok(result) => {
            let when = result
                .integrated_time()
                .map(|t| format!(", logged {t}"))
                .unwrap_or_default();
            Ok(Ok((
                format!(
                    "sigstore identity {} (issuer {}){when}",
                    who.identity, who.issuer
                ),
                result.integrated_time().map(|t| t.to_string()),
            )))
        }
        Err(e) => Ok(Err(failure_for(e))),
    }
}

/// Maps a Sigstore verification error to the failure a user reads.
pub(crate) fn failure_for(error: sigstore_verify::Error) -> Failure {
    use sigstore_verify::Error as E;
    let message = error.to_string();
    match error {
        E::IdentityMismatch { .. } | E::IssuerMismatch { .. } => Failure::Identity { message },
        E::Certificate(CertificateError::Expired { .. } | CertificateError::NotYetValid { .. }) => {
            Failure::Expired { message }
        }
        E::Certificate(_) | E::TrustedCertificate(_) => Failure::Certificate { message },
        E::TransparencyLog(TransparencyLogError::UnknownLog { .. }) | E::TransparencyLog(_) => {
            Failure::TransparencyLog { message }
        }
        E::Timestamp(_) => Failure::Timestamp { message },
        E::ArtifactMismatch(_) => Failure::Statement { message },
        _ => Failure::Signature { message },
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
