//! Signing a manifest into an OMS bundle (key mode or certificate mode).
//!
//! The statement of a dataset of a million files is over 100 MB, so it is
//! serialised once, straight from the compact manifest, into one buffer
//! that also holds the DSSE header in front of it: the key signs that
//! buffer as it is, and the bundle is written from it with the Base64 made
//! on the way out (see [`SignedBundle::write_json`]).

use crate::bundle::{
    BUNDLE_V03_MEDIA_TYPE, Bundle, CertificateChain, Envelope, EnvelopeSignature,
    IN_TOTO_PAYLOAD_TYPE, ManifestStatement, PublicKeyIdentifier, RawCertificate, SignedPayload,
    Statement, VerificationMaterial, write_bundle_json,
};
use crate::digest::Manifest;
use crate::keys::{PrivateKey, certificate_public_key};
use crate::{Error, Result};
use base64::Engine;
use base64::engine::general_purpose::STANDARD;
use der::Decode;

/// Who signs: a bare key, or a key with its certificate chain.
pub enum SigningIdentity<'a> {
    /// Key mode: the bundle names the public key by its hint.
    Key(&'a PrivateKey),
    /// Certificate mode: the leaf (for this key) first, then intermediates, as DER.
    Certificate {
        /// The private key of the leaf.
        key: &'a PrivateKey,
        /// Leaf first.
        chain: Vec<Vec<u8>>,
    },
}

impl SigningIdentity<'_> {
    fn key(&self) -> &PrivateKey {
        match self {
            SigningIdentity::Key(k) | SigningIdentity::Certificate { key: k, .. } => k,
        }
    }
}

/// A signed statement, ready to be written: the bundle around the
/// payload, and the payload held once.
#[derive(Debug, Clone)]
pub struct SignedBundle {
    frame: Bundle,
    payload: SignedPayload,
}

impl SignedBundle {
    /// Writes the bundle as pretty JSON with a final newline: the bytes of
    /// [`Bundle::to_json`] of [`SignedBundle::to_bundle`].
    pub fn write_json(&self, w: &mut dyn std::io::Write) -> std::io::Result<()> {
        write_bundle_json(w, &self.frame, self.payload.payload())
    }

    /// The bundle as a value (its payload Base64-encoded in memory).
    pub fn to_bundle(&self) -> Bundle {
        let mut bundle = self.frame.clone();
        if let Some(envelope) = &mut bundle.dsse_envelope {
            envelope.payload = STANDARD.encode(self.payload.payload());
        }
        bundle
    }

    /// The signed statement bytes.
    pub fn payload(&self) -> &[u8] {
        self.payload.payload()
    }

    /// The DSSE signature's bytes (what an RFC 3161 timestamp stamps, as
    /// Sigstore bundles do).
    pub fn signature(&self) -> Vec<u8> {
        self.frame
            .dsse_envelope
            .as_ref()
            .and_then(|e| e.signatures.first())
            .and_then(|s| STANDARD.decode(&s.sig).ok())
            .unwrap_or_default()
    }

    /// Carries RFC 3161 timestamp tokens (DER) of the signature in
    /// `verificationMaterial.timestampVerificationData`.
    pub fn set_timestamps(&mut self, tokens: &[Vec<u8>]) -> Result<()> {
        let stamps: Vec<serde_json::Value> = tokens
            .iter()
            .map(|t| serde_json::json!({ "signedTimestamp": STANDARD.encode(t) }))
            .collect();
        let text = serde_json::to_string(&serde_json::json!({ "rfc3161Timestamps": stamps }))
            .map_err(|e| Error::Bundle(format!("cannot encode the timestamps: {e}")))?;
        let raw = serde_json::value::RawValue::from_string(text)
            .map_err(|e| Error::Bundle(format!("cannot encode the timestamps: {e}")))?;
        self.frame.verification_material.timestamp_verification_data =
            Some(crate::bundle::RawJson(raw));
        Ok(())
    }
}

/// Signs `manifest` of the model `name`: the OMS statement in a DSSE envelope
/// in a Sigstore bundle v0.3. In certificate mode the leaf must certify the
/// signing key.
pub fn sign_manifest(
    name: &str,
    manifest: &Manifest,
    identity: &SigningIdentity<'_>,
) -> Result<Bundle> {
    Ok(sign_model(name, manifest, identity)?.to_bundle())
}

/// As [`sign_manifest`], keeping the payload as bytes for a streamed
/// write: what signing a large dataset needs.
pub fn sign_model(
    name: &str,
    manifest: &Manifest,
    identity: &SigningIdentity<'_>,
) -> Result<SignedBundle> {
    let material = verification_material(identity)?;
    let payload = SignedPayload::build(IN_TOTO_PAYLOAD_TYPE, |buf| {
        serde_json::to_writer(buf, &ManifestStatement { name, manifest })
    })
    .map_err(|e| Error::Usage(format!("cannot encode the statement: {e}")))?;
    signed(payload, material, identity)
}

fn signed(
    payload: SignedPayload,
    material: VerificationMaterial,
    identity: &SigningIdentity<'_>,
) -> Result<SignedBundle> {
    let signature = identity.key().sign(payload.message())?;
    Ok(SignedBundle {
        frame: Bundle {
            media_type: BUNDLE_V03_MEDIA_TYPE.to_string(),
            verification_material: material,
            dsse_envelope: Some(Envelope {
                payload: String::new(),
                payload_type: IN_TOTO_PAYLOAD_TYPE.to_string(),
                signatures: vec![EnvelopeSignature {
                    sig: STANDARD.encode(signature),
                    keyid: None,
                }],
            }),
            message_signature: None,
        },
        payload,
    })
}

/// Signs any in-toto statement (an attestation about a model) into a bundle
/// carrying the same verification material as a model signature.
pub fn sign_statement(statement: &Statement, identity: &SigningIdentity<'_>) -> Result<Bundle> {
    Ok(sign_serialized(statement, identity)?.to_bundle())
}

/// Signs the in-toto statement that `statement` serialises to, its JSON
/// written straight into the signed buffer (no copy of a large predicate),
/// for a streamed write of the bundle.
pub fn sign_serialized(
    statement: &impl serde::Serialize,
    identity: &SigningIdentity<'_>,
) -> Result<SignedBundle> {
    let material = verification_material(identity)?;
    let payload = SignedPayload::build(IN_TOTO_PAYLOAD_TYPE, |buf| {
        serde_json::to_writer(buf, statement)
    })
    .map_err(|e| Error::Usage(format!("cannot encode the statement: {e}")))?;
    signed(payload, material, identity)
}

/// The verification material for `identity`; in certificate mode the leaf
/// must certify the signing key.
fn verification_material(identity: &SigningIdentity<'_>) -> Result<VerificationMaterial> {
    Ok(match identity {
        SigningIdentity::Key(key) => VerificationMaterial {
            public_key: Some(PublicKeyIdentifier {
                hint: Some(key.public_key().hint()),
                ..Default::default()
            }),
            ..Default::default()
        },
        SigningIdentity::Certificate { key, chain } => {
            let leaf = chain
                .first()
                .ok_or_else(|| Error::Certificate("no signing certificate given".into()))?;
            let cert = x509_cert::Certificate::from_der(leaf)
                .map_err(|e| Error::Certificate(format!("signing certificate: {e}")))?;
            let certified =
                certificate_public_key(&cert).map_err(|e| Error::Certificate(e.to_string()))?;
            if certified != key.public_key() {
                return Err(Error::Certificate(
                    "the signing certificate does not certify the signing key".into(),
                ));
            }
            VerificationMaterial {
                x509_certificate_chain: Some(CertificateChain {
                    certificates: chain
                        .iter()
                        .map(|der| RawCertificate {
                            raw_bytes: STANDARD.encode(der),
                        })
                        .collect(),
                }),
                ..Default::default()
            }
        }
    })
}
