//! Key-signed bundles with no transparency log entry, accepted only on the
//! user's explicit request: the signature is checked with the given key and
//! bound to the artifact's SHA-256, and nothing else can be checked.

use super::ArtifactInput;
use super::SigstoreProblem;
use crate::bundle::{Envelope, IN_TOTO_PAYLOAD_TYPE, pae};
use crate::keys::PublicKey;
use crate::{Error, Result};
use base64::Engine;
use base64::engine::general_purpose::STANDARD;
use serde_json::Value;
use sha2::{Digest, Sha256};

/// Largest file read whole for an Ed25519 message signature (Ed25519 signs
/// the message itself, not a digest of it).
const MAX_ED25519_MESSAGE: u64 = 256 << 20;

/// Verifies a message-signature or DSSE bundle with `key` alone.
pub(super) fn verify_keyed(
    bundle_json: &[u8],
    artifact: &ArtifactInput,
    key: &PublicKey,
) -> Result<std::result::Result<(), SigstoreProblem>> {
    let bundle: Value =
        crate::json::from_slice(bundle_json).map_err(|e| Error::Bundle(e.to_string()))?;
    let digest = artifact_sha256(artifact)?;
    let fail = |message: &str| {
        Ok(Err(SigstoreProblem::Signature {
            detail: message.into(),
        }))
    };
    if let Some(envelope) = bundle.get("dsseEnvelope") {
        let envelope: Envelope = serde_json::from_value(envelope.clone())
            .map_err(|e| Error::Bundle(format!("bad dsseEnvelope: {e}")))?;
        let [signature] = envelope.signatures.as_slice() else {
            return Err(Error::Bundle(
                "the DSSE envelope must hold exactly one signature".into(),
            ));
        };
        let payload = envelope
            .payload_bytes()
            .map_err(|e| Error::Bundle(e.to_string()))?;
        let sig = STANDARD
            .decode(&signature.sig)
            .map_err(|_| Error::Bundle("the DSSE signature is not valid base64".into()))?;
        if !key.verify(&pae(&envelope.payload_type, &payload), &sig) {
            return fail("the DSSE signature does not verify with the given key");
        }
        if envelope.payload_type != IN_TOTO_PAYLOAD_TYPE {
            return Ok(Err(SigstoreProblem::ArtifactMismatch {
                detail: format!(
                    "payloadType {:?} cannot name the artifact",
                    envelope.payload_type
                ),
            }));
        }
        let statement: Value = crate::json::from_slice(&payload).unwrap_or(Value::Null);
        let want = hex::encode(digest);
        let binds = statement["subject"].as_array().is_some_and(|subjects| {
            subjects
                .iter()
                .any(|s| s["digest"]["sha256"].as_str() == Some(want.as_str()))
        });
        if !binds {
            return Ok(Err(SigstoreProblem::ArtifactMismatch {
                detail: "the artifact's sha256 matches no subject of the statement".into(),
            }));
        }
        return Ok(Ok(()));
    }
    let Some(message) = bundle.get("messageSignature") else {
        return Err(Error::Bundle(
            "neither messageSignature nor dsseEnvelope".into(),
        ));
    };
    let sig = message["signature"]
        .as_str()
        .and_then(|s| STANDARD.decode(s).ok())
        .ok_or_else(|| {
            Error::Bundle("messageSignature.signature is missing or not base64".into())
        })?;
    if let Some(md) = message.get("messageDigest") {
        if md["algorithm"].as_str() != Some("SHA2_256") {
            return fail("only SHA2_256 message digests are supported without a log entry");
        }
        let stated = md["digest"].as_str().and_then(|d| STANDARD.decode(d).ok());
        if stated.as_deref() != Some(digest.as_slice()) {
            return Ok(Err(SigstoreProblem::ArtifactMismatch {
                detail: "the bundle's message digest is not the artifact's".into(),
            }));
        }
    }
    let ok = match key {
        PublicKey::Ed25519(_) => match artifact {
            ArtifactInput::File(path) => {
                let bytes = crate::fetch::read_file(
                    path,
                    crate::fetch::InputKind::Artifact(MAX_ED25519_MESSAGE),
                )?;
                key.verify(&bytes, &sig)
            }
            ArtifactInput::Digest(_) => {
                return fail(
                    "an Ed25519 message signature covers the file itself; give the file, not its digest",
                );
            }
        },
        _ => key.verify_prehash(&digest, &sig),
    };
    if ok {
        Ok(Ok(()))
    } else {
        fail("the message signature does not verify with the given key")
    }
}

fn artifact_sha256(artifact: &ArtifactInput) -> Result<[u8; 32]> {
    match artifact {
        ArtifactInput::Digest(d) => Ok(*d),
        ArtifactInput::File(path) => {
            let mut input =
                crate::fetch::open_file(path, crate::fetch::InputKind::Artifact(u64::MAX))?;
            let mut hasher = Sha256::new();
            let mut chunk = vec![0u8; 1 << 18];
            loop {
                match std::io::Read::read(&mut input, &mut chunk) {
                    Ok(0) => return Ok(hasher.finalize().into()),
                    Ok(n) => hasher.update(&chunk[..n]),
                    Err(e) => return Err(crate::fetch::InputError::from_io(path, e).into()),
                }
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::keys::{KeyAlgorithm, generate};
    use sha2::{Digest, Sha256};

    fn message_bundle(sig: &[u8], digest: &[u8]) -> Vec<u8> {
        serde_json::to_vec(&serde_json::json!({
            "mediaType": "application/vnd.dev.sigstore.bundle.v0.3+json",
            "verificationMaterial": {"publicKey": {"hint": ""}},
            "messageSignature": {
                "messageDigest": {"algorithm": "SHA2_256", "digest": STANDARD.encode(digest)},
                "signature": STANDARD.encode(sig)
            }
        }))
        .unwrap()
    }

    #[test]
    fn message_signatures_verify_by_digest_or_file() {
        let dir = tempfile::tempdir().unwrap();
        let file = dir.path().join("data.bin");
        std::fs::write(&file, b"dataset bytes").unwrap();
        let digest: [u8; 32] = Sha256::digest(b"dataset bytes").into();
        let p256 = generate(KeyAlgorithm::EcdsaP256).unwrap();
        let sig = p256.sign(b"dataset bytes").unwrap();
        let bundle = message_bundle(&sig, &digest);
        let public = p256.public_key();
        assert!(
            verify_keyed(&bundle, &ArtifactInput::Digest(digest), &public)
                .unwrap()
                .is_ok()
        );
        assert!(
            verify_keyed(&bundle, &ArtifactInput::File(file.clone()), &public)
                .unwrap()
                .is_ok()
        );
        let other = generate(KeyAlgorithm::EcdsaP256).unwrap().public_key();
        assert!(
            verify_keyed(&bundle, &ArtifactInput::Digest(digest), &other)
                .unwrap()
                .is_err()
        );
        let wrong = [7u8; 32];
        assert!(
            verify_keyed(&bundle, &ArtifactInput::Digest(wrong), &public)
                .unwrap()
                .is_err()
        );

        let ed = generate(KeyAlgorithm::Ed25519).unwrap();
        let bundle = message_bundle(&ed.sign(b"dataset bytes").unwrap(), &digest);
        assert!(
            verify_keyed(&bundle, &ArtifactInput::File(file), &ed.public_key())
                .unwrap()
                .is_ok()
        );
        assert!(
            verify_keyed(&bundle, &ArtifactInput::Digest(digest), &ed.public_key())
                .unwrap()
                .is_err()
        );
    }

    #[test]
    fn malformed_bundles_are_errors() {
        let key = generate(KeyAlgorithm::Ed25519).unwrap().public_key();
        let d = ArtifactInput::Digest([0; 32]);
        assert!(verify_keyed(b"nope", &d, &key).is_err());
        assert!(verify_keyed(b"{}", &d, &key).is_err());
        assert!(verify_keyed(br#"{"messageSignature":{"signature":5}}"#, &d, &key).is_err());
    }
}
