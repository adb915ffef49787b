//! The Sigstore bundle container (protobuf-specs JSON form).
//!
//! Bundles are parsed before any signature is checked, so the parse is
//! bounded: typed structures only (no JSON tree), members this tool does
//! not use skipped without being built, the counts that are small in any
//! real bundle capped ([`MAX_CERTIFICATES`], [`MAX_TLOG_ENTRIES`],
//! [`MAX_SIGNATURES`]), and the DSSE payload borrowed from the bundle text
//! rather than copied. Memory stays within a small multiple of the file.
//! The number of signed resources is never capped: it lives in the
//! payload, which is read only after the signature verified.

use super::Envelope;
use super::dsse::EnvelopeSignature;
use crate::{Error, Result};
use serde::de::{Deserializer, SeqAccess, Visitor};
use serde::{Deserialize, Serialize};
use serde_json::value::RawValue;
use std::borrow::Cow;
use std::path::Path;

/// Refuses a bundle holding both contents. Sigstore's parser takes
/// whichever of `messageSignature` and `dsseEnvelope` comes first: a bundle
/// holding both would be verified as one and read as the other. Every
/// reader of a bundle (the model verifier's view, [`crate::sigstore::ParsedBundle`])
/// checks it here.
pub(crate) fn one_content(message_signature: bool, dsse_envelope: bool) -> Result<()> {
    if message_signature && dsse_envelope {
        return Err(Error::Bundle(
            "the bundle holds both a message signature and a DSSE envelope".into(),
        ));
    }
    Ok(())
}

/// The media type written by this tool.
pub const BUNDLE_V03_MEDIA_TYPE: &str = "application/vnd.dev.sigstore.bundle.v0.3+json";

/// Media types read: v0.1 to v0.3 (v0.3 in both of its spellings).
const KNOWN_MEDIA_TYPES: [&str; 4] = [
    "application/vnd.dev.sigstore.bundle+json;version=0.1",
    "application/vnd.dev.sigstore.bundle+json;version=0.2",
    "application/vnd.dev.sigstore.bundle+json;version=0.3",
    BUNDLE_V03_MEDIA_TYPE,
];

/// Largest bundle over a single artifact read (`verify-bundle`, BOM
/// signatures of small models). Model signatures are read up to what a
/// real signature of the model can be (see
/// [`crate::source::ModelSource::bundle_size_limit`]).
pub const MAX_BUNDLE_SIZE: u64 = 256 << 20;

/// Most certificates in a chain (real chains have two to four).
pub const MAX_CERTIFICATES: usize = 16;
/// Most transparency log entries (real bundles have one).
pub const MAX_TLOG_ENTRIES: usize = 16;
/// Most DSSE signatures (a model signature has exactly one).
pub const MAX_SIGNATURES: usize = 16;

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
    /// A message signature (other Sigstore uses; not an OMS signature),
    /// kept as its JSON text.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub message_signature: Option<RawJson>,
}

/// A JSON value kept as its text, checked but never built as a tree.
#[derive(Debug, Clone, Serialize, Deserialize)]
#[serde(transparent)]
pub struct RawJson(pub Box<RawValue>);

impl PartialEq for RawJson {
    fn eq(&self, other: &Self) -> bool {
        self.0.get() == other.0.get()
    }
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
    /// Transparency log entries, each kept as its JSON text (at most
    /// [`MAX_TLOG_ENTRIES`]).
    #[serde(
        default,
        skip_serializing_if = "Option::is_none",
        deserialize_with = "capped_tlog"
    )]
    pub tlog_entries: Option<Vec<RawJson>>,
    /// RFC 3161 timestamps, kept as JSON text.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub timestamp_verification_data: Option<RawJson>,
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
    /// Leaf first (at most [`MAX_CERTIFICATES`]).
    #[serde(deserialize_with = "capped_certificates")]
    pub certificates: Vec<RawCertificate>,
}

/// `X509Certificate`: base64 DER.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct RawCertificate {
    /// Base64 of the DER certificate.
    pub raw_bytes: String,
}

/// A list refused once it holds more than `max` items, before they are
/// all built.
struct Capped<T> {
    max: usize,
    what: &'static str,
    _item: std::marker::PhantomData<T>,
}

impl<'de, T: Deserialize<'de>> Visitor<'de> for Capped<T> {
    type Value = Vec<T>;

    fn expecting(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "a list of at most {} {}", self.max, self.what)
    }

    fn visit_seq<A: SeqAccess<'de>>(self, mut seq: A) -> std::result::Result<Vec<T>, A::Error> {
        let mut out = Vec::new();
        while let Some(item) = seq.next_element()? {
            if out.len() == self.max {
                return Err(serde::de::Error::custom(format!(
                    "more than {} {} (no real bundle has so many)",
                    self.max, self.what
                )));
            }
            out.push(item);
        }
        Ok(out)
    }
}

fn capped<'de, D: Deserializer<'de>, T: Deserialize<'de>>(
    d: D,
    max: usize,
    what: &'static str,
) -> std::result::Result<Vec<T>, D::Error> {
    d.deserialize_seq(Capped {
        max,
        what,
        _item: std::marker::PhantomData,
    })
}

fn capped_tlog<'de, D: Deserializer<'de>>(
    d: D,
) -> std::result::Result<Option<Vec<RawJson>>, D::Error> {
    capped(d, MAX_TLOG_ENTRIES, "transparency log entries").map(Some)
}

fn capped_certificates<'de, D: Deserializer<'de>>(
    d: D,
) -> std::result::Result<Vec<RawCertificate>, D::Error> {
    capped(d, MAX_CERTIFICATES, "certificates")
}

fn capped_signatures<'de, D: Deserializer<'de>>(
    d: D,
) -> std::result::Result<Vec<EnvelopeSignature>, D::Error> {
    capped(d, MAX_SIGNATURES, "DSSE signatures")
}

/// A DSSE envelope as parsed from a bundle: the payload text borrowed from
/// the bundle bytes when it holds no JSON escape.
#[derive(Debug, Clone, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct EnvelopeView<'a> {
    /// Base64 of the payload bytes.
    #[serde(borrow)]
    pub payload: Cow<'a, str>,
    /// The media type of the payload.
    pub payload_type: String,
    /// The signatures over the PAE (at most [`MAX_SIGNATURES`]).
    #[serde(deserialize_with = "capped_signatures")]
    pub signatures: Vec<EnvelopeSignature>,
}

/// A bundle as parsed for verification, borrowing its payload: what
/// [`Bundle::from_slice`] checks, without a copy of the payload text.
#[derive(Debug, Clone, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct BundleView<'a> {
    /// The bundle media type (and version).
    pub media_type: String,
    /// What verifies the signature.
    pub verification_material: VerificationMaterial,
    /// The signed envelope.
    #[serde(default, borrow)]
    pub dsse_envelope: Option<EnvelopeView<'a>>,
    /// A message signature, when the bundle carries one instead.
    #[serde(default)]
    pub message_signature: Option<crate::json::StrictIgnore>,
}

impl<'a> BundleView<'a> {
    /// Parses bundle JSON and checks the container: a known media type and
    /// a DSSE envelope with exactly one signature.
    pub fn parse(bytes: &'a [u8]) -> Result<Self> {
        if bytes.iter().all(u8::is_ascii_whitespace) {
            return Err(Error::Bundle("the file is empty".into()));
        }
        let bundle: BundleView<'a> = crate::json::from_slice_borrowed(bytes)
            .map_err(|e| Error::Bundle(format!("not a Sigstore bundle: {e}")))?;
        if !KNOWN_MEDIA_TYPES.contains(&bundle.media_type.as_str()) {
            return Err(Error::Bundle(format!(
                "unsupported mediaType {:?} (expected a Sigstore bundle v0.1-v0.3)",
                bundle.media_type
            )));
        }
        one_content(
            bundle.message_signature.is_some(),
            bundle.dsse_envelope.is_some(),
        )?;
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

    /// The envelope (present in every parsed view).
    pub fn envelope(&self) -> &EnvelopeView<'a> {
        self.dsse_envelope
            .as_ref()
            .expect("a parsed bundle carries an envelope")
    }
}

impl Bundle {
    /// Parses bundle JSON and checks the container: a known media type and a
    /// DSSE envelope with exactly one signature.
    pub fn from_slice(bytes: &[u8]) -> Result<Self> {
        let view = BundleView::parse(bytes)?;
        let envelope = view.envelope();
        Ok(Bundle {
            media_type: view.media_type.clone(),
            verification_material: view.verification_material.clone(),
            dsse_envelope: Some(Envelope {
                payload: envelope.payload.to_string(),
                payload_type: envelope.payload_type.clone(),
                signatures: envelope.signatures.clone(),
            }),
            message_signature: None,
        })
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
mod tests;
