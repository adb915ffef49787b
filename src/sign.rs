//! Signing a manifest into an OMS bundle (key mode or certificate mode).

use crate::bundle::{
    BUNDLE_V03_MEDIA_TYPE, Bundle, CertificateChain, Envelope, IN_TOTO_PAYLOAD_TYPE,
    PublicKeyIdentifier, RawCertificate, Statement, VerificationMaterial,
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

/// Signs `manifest` of the model `name`: the OMS statement in a DSSE envelope
/// in a Sigstore bundle v0.3. In certificate mode the leaf must certify the
/// signing key.
pub fn sign_manifest(
    name: &str,
    manifest: &Manifest,
    identity: &SigningIdentity<'_>,
) -> Result<Bundle> {
    sign_statement(&Statement::for_manifest(name, manifest), identity)
}

/// Signs any in-toto statement (an attestation about a model) into a bundle
/// carrying the same verification material as a model signature.
pub fn sign_statement(statement: &Statement, identity: &SigningIdentity<'_>) -> Result<Bundle> {
    let material = verification_material(identity)?;
    let payload = serde_json::to_vec(statement)
        .map_err(|e| Error::Usage(format!("cannot encode the statement: {e}")))?;
    let key = identity.key();
    let envelope = Envelope::sign(&payload, IN_TOTO_PAYLOAD_TYPE, |pae| key.sign(pae));
    Ok(Bundle {
        media_type: BUNDLE_V03_MEDIA_TYPE.to_string(),
        verification_material: material,
        dsse_envelope: Some(envelope),
        message_signature: None,
    })
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
            let certified = certificate_public_key(&cert).map_err(Error::Certificate)?;
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
