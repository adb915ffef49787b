//! The Sigstore bundle container (protobuf-specs JSON form).

use super::Envelope;
use crate::{Error, Result};
use serde::{Deserialize, Serialize};
use std::path::Path;

/// The media type written by this tool.
pub const BUNDLE_V03_MEDIA_TYPE: &str = "application/vnd.dev.sigstore.bundle.v0.3+json";

/// Media types read: v0.1 to v0.3 (v0.3 in both of its spellings).
const KNOWN_MEDIA_TYPES: [&str; 4] = [
    "application/vnd.dev.sigstore.bundle+json;version=0.1",
    "application/vnd.dev.sigstore.bundle+json;version=0.2",
    "application/vnd.dev.sigstore.bundle+json;version=0.3",
    BUNDLE_V03_MEDIA_TYPE,
];

/// Largest bundle read: a manifest of a million shards stays well below it.
pub const MAX_BUNDLE_SIZE: u64 = 256 << 20;

/// A Sigstore bundle.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct Bundle {
    /// The bundle media type (and version).
    pub media_type: String,
    /// What verifies the signature.
    pub verification_material: VerificationMaterial,
    /// The signed envelope (OMS bundles always carry one).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub dsse_envelope: Option<Envelope>,
    /// A message signature (other Sigstore uses; not an OMS signature).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub message_signature: Option<serde_json::Value>,
}

/// `verificationMaterial`: exactly one of public key, certificate chain or
/// single certificate, plus optional log entries and timestamps.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct VerificationMaterial {
    /// Key mode: a hint naming the public key (or its raw bytes, in old bundles).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub public_key: Option<PublicKeyIdentifier>,
    /// Certificate mode: leaf first, then the chain.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub x509_certificate_chain: Option<CertificateChain>,
    /// Sigstore keyless: the short-lived leaf.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub certificate: Option<RawCertificate>,
    /// Transparency log entries.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub tlog_entries: Option<Vec<serde_json::Value>>,
    /// RFC 3161 timestamps.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub timestamp_verification_data: Option<serde_json::Value>,
}

/// `PublicKeyIdentifier`.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct PublicKeyIdentifier {
    /// Hex SHA-256 of the SPKI PEM text (current bundles).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub hint: Option<String>,
    /// Base64 of the public key (PEM text in model_signing < 1.1).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub raw_bytes: Option<String>,
    /// The key details enum name, in old bundles.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub key_details: Option<String>,
}

/// `X509CertificateChain`.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct CertificateChain {
    /// Leaf first.
    pub certificates: Vec<RawCertificate>,
}

/// `X509Certificate`: base64 DER.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct RawCertificate {
    /// Base64 of the DER certificate.
    pub raw_bytes: String,
}

impl Bundle {
    /// Parses bundle JSON and checks the container: a known media type and a
    /// DSSE envelope with exactly one signature.
    pub fn from_slice(bytes: &[u8]) -> Result<Self> {
        if bytes.iter().all(u8::is_ascii_whitespace) {
            return Err(Error::Bundle("the file is empty".into()));
        }
        let bundle: Bundle = crate::json::from_slice(bytes)
            .map_err(|e| Error::Bundle(format!("not a Sigstore bundle: {e}")))?;
        if !KNOWN_MEDIA_TYPES.contains(&bundle.media_type.as_str()) {
            return Err(Error::Bundle(format!(
                "unsupported mediaType {:?} (expected a Sigstore bundle v0.1-v0.3)",
                bundle.media_type
            )));
        }
        let Some(envelope) = &bundle.dsse_envelope else {
            return Err(Error::Bundle(if bundle.message_signature.is_some() {
                "a message-signature bundle is not a model signature (no DSSE envelope)".into()
            } else {
                "no dsseEnvelope".into()
            }));
        };
        if envelope.signatures.len() != 1 {
            return Err(Error::Bundle(format!(
                "the DSSE envelope must hold exactly one signature, found {}",
                envelope.signatures.len()
            )));
        }
        let material = &bundle.verification_material;
        let kinds = [
            material.public_key.is_some(),
            material.x509_certificate_chain.is_some(),
            material.certificate.is_some(),
        ];
        if kinds.iter().filter(|k| **k).count() != 1 {
            return Err(Error::Bundle(
                "verificationMaterial must hold exactly one of publicKey, x509CertificateChain, certificate".into(),
            ));
        }
        if material.certificate.is_some()
            && material.tlog_entries.as_ref().is_none_or(Vec::is_empty)
        {
            return Err(Error::Bundle(
                "a keyless (single certificate) bundle must carry a transparency log entry".into(),
            ));
        }
        Ok(bundle)
    }

    /// Pretty JSON as written to `.sig` files (with a final newline).
    pub fn to_json(&self) -> String {
        let mut s = serde_json::to_string_pretty(self).unwrap_or_default();
        s.push('\n');
        s
    }
}

/// Reads and parses a bundle file, refusing directories and huge files.
pub fn read_bundle(path: &Path) -> Result<Bundle> {
    let bytes = crate::fetch::read_file(path, crate::fetch::InputKind::Bundle(MAX_BUNDLE_SIZE))?;
    Bundle::from_slice(&bytes).map_err(|e| match e {
        Error::Bundle(m) => Error::Bundle(format!("{}: {m}", path.display())),
        other => other,
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    const ENVELOPE: &str = r#""dsseEnvelope":{"payload":"e30=","payloadType":"application/vnd.in-toto+json","signatures":[{"sig":"AA=="}]}"#;

    fn bundle(media: &str, material: &str, rest: &str) -> String {
        format!(r#"{{"mediaType":"{media}","verificationMaterial":{material}{rest}}}"#)
    }

    #[test]
    fn accepts_known_media_types_and_key_material() {
        for media in KNOWN_MEDIA_TYPES {
            let text = bundle(
                media,
                r#"{"publicKey":{"hint":"ab"}}"#,
                &format!(",{ENVELOPE}"),
            );
            Bundle::from_slice(text.as_bytes()).unwrap();
        }
    }

    #[test]
    fn rejects_malformed_containers_with_reasons() {
        let cases = [
            ("", "empty"),
            ("   \n", "empty"),
            ("{", "not a Sigstore bundle"),
            ("[]", "not a Sigstore bundle"),
            (
                &bundle(
                    "application/json",
                    r#"{"publicKey":{"hint":"a"}}"#,
                    &format!(",{ENVELOPE}"),
                ),
                "mediaType",
            ),
            (
                &bundle(BUNDLE_V03_MEDIA_TYPE, r#"{"publicKey":{"hint":"a"}}"#, ""),
                "dsseEnvelope",
            ),
            (
                &bundle(
                    BUNDLE_V03_MEDIA_TYPE,
                    r#"{"publicKey":{"hint":"a"}}"#,
                    r#","messageSignature":{}"#,
                ),
                "message-signature",
            ),
            (
                &bundle(BUNDLE_V03_MEDIA_TYPE, "{}", &format!(",{ENVELOPE}")),
                "exactly one of",
            ),
            (
                &bundle(
                    BUNDLE_V03_MEDIA_TYPE,
                    r#"{"publicKey":{"hint":"a"}}"#,
                    r#","dsseEnvelope":{"payload":"","payloadType":"x","signatures":[]}"#,
                ),
                "exactly one signature",
            ),
        ];
        for (text, want) in cases {
            let err = Bundle::from_slice(text.as_bytes()).unwrap_err().to_string();
            assert!(err.contains(want), "{text:?}: {err}");
        }
    }
}
