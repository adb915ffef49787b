//! Signing and verifying keys: Ed25519 and ECDSA over P-256, P-384 and P-521,
//! loaded from PEM (PKCS#8 or SEC1 private keys, SPKI public keys) and
//! generated fresh by `keygen`.
//!
//! Secrets stay in types that zeroize on drop; PEM text holding a secret is
//! kept in [`zeroize::Zeroizing`] buffers and never printed.

mod cert;
mod error;
mod generate;
pub(crate) mod pem;

pub use cert::{certificate_public_key, certificate_subject, load_certificates};
pub use error::{ExternalKeyError, KeyFormatError};
pub use generate::{generate, private_key_pem, write_key_pair};
pub use pem::{load_private_key, load_public_key, parse_private_key, parse_public_key, pem_blocks};

use p256::ecdsa::signature::{Signer, Verifier, hazmat::PrehashVerifier};
use sha2::{Digest, Sha256};
use spki::EncodePublicKey;
use std::fmt;

/// A signature algorithm this tool knows.
#[derive(Debug, Clone, Copy, PartialEq, Eq, serde::Serialize)]
#[serde(rename_all = "kebab-case")]
pub enum KeyAlgorithm {
    /// Ed25519 (pure, over the DSSE PAE).
    Ed25519,
    /// ECDSA on P-256 with SHA-256.
    EcdsaP256,
    /// ECDSA on P-384 with SHA-384.
    EcdsaP384,
    /// ECDSA on P-521 with SHA-512.
    EcdsaP521,
}

impl KeyAlgorithm {
    /// The name used on the command line and in reports.
    pub fn name(self) -> &'static str {
        match self {
            KeyAlgorithm::Ed25519 => "ed25519",
            KeyAlgorithm::EcdsaP256 => "ecdsa-p256",
            KeyAlgorithm::EcdsaP384 => "ecdsa-p384",
            KeyAlgorithm::EcdsaP521 => "ecdsa-p521",
        }
    }
}

impl fmt::Display for KeyAlgorithm {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.name())
    }
}

/// A key held elsewhere that signs on request: a PKCS#11 token today, a
/// key management service later. The seam between modelseal and where a
/// private key lives.
pub trait ExternalKey: Send + Sync {
    /// The matching public key.
    fn public_key(&self) -> PublicKey;
    /// Signs `message` as [`PrivateKey::sign`] does (raw 64 bytes for
    /// Ed25519, DER for ECDSA with the curve's hash), or fails with the
    /// implementation's own error (shown in one line).
    fn sign(&self, message: &[u8]) -> std::result::Result<Vec<u8>, ExternalKeyError>;
    /// Where the key is, for messages (never a secret).
    fn describe(&self) -> String;
}

/// A private key able to sign. Its key material zeroizes when dropped.
pub enum PrivateKey {
    /// Ed25519.
    Ed25519(ed25519_dalek::SigningKey),
    /// ECDSA P-256.
    P256(p256::ecdsa::SigningKey),
    /// ECDSA P-384.
    P384(p384::ecdsa::SigningKey),
    /// ECDSA P-521.
    P521(p521::ecdsa::SigningKey),
    /// A key that never leaves its device or service.
    External(std::sync::Arc<dyn ExternalKey>),
}

impl fmt::Debug for PrivateKey {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            PrivateKey::External(k) => {
                write!(f, "PrivateKey({}, {})", self.algorithm(), k.describe())
            }
            _ => write!(f, "PrivateKey({}, <secret>)", self.algorithm()),
        }
    }
}

impl PrivateKey {
    /// The algorithm of this key.
    pub fn algorithm(&self) -> KeyAlgorithm {
        match self {
            PrivateKey::Ed25519(_) => KeyAlgorithm::Ed25519,
            PrivateKey::P256(_) => KeyAlgorithm::EcdsaP256,
            PrivateKey::P384(_) => KeyAlgorithm::EcdsaP384,
            PrivateKey::P521(_) => KeyAlgorithm::EcdsaP521,
            PrivateKey::External(k) => k.public_key().algorithm(),
        }
    }

    /// Signs `message`: raw 64 bytes for Ed25519, ASN.1 DER for ECDSA (with
    /// the hash that matches the curve, deterministic nonces per RFC 6979
    /// for keys in memory). An external key's signature is checked with its
    /// public key before it is returned.
    pub fn sign(&self, message: &[u8]) -> crate::Result<Vec<u8>> {
        Ok(match self {
            PrivateKey::External(k) => {
                let signature = k
                    .sign(message)
                    .map_err(|source| crate::Error::ExternalKey {
                        key: k.describe(),
                        source,
                    })?;
                if !k.public_key().verify(message, &signature) {
                    return Err(crate::Error::ExternalKeyMismatch { key: k.describe() });
                }
                signature
            }
            PrivateKey::Ed25519(k) => Signer::<ed25519_dalek::Signature>::sign(k, message)
                .to_bytes()
                .to_vec(),
            PrivateKey::P256(k) => {
                let s: p256::ecdsa::Signature = k.sign(message);
                s.to_der().as_bytes().to_vec()
            }
            PrivateKey::P384(k) => {
                let s: p384::ecdsa::Signature = k.sign(message);
                s.to_der().as_bytes().to_vec()
            }
            PrivateKey::P521(k) => {
                let s: p521::ecdsa::Signature = k.sign(message);
                s.to_der().as_bytes().to_vec()
            }
        })
    }

    /// The matching public key.
    pub fn public_key(&self) -> PublicKey {
        match self {
            PrivateKey::Ed25519(k) => PublicKey::Ed25519(k.verifying_key()),
            PrivateKey::P256(k) => PublicKey::P256(*k.verifying_key()),
            PrivateKey::P384(k) => PublicKey::P384(*k.verifying_key()),
            PrivateKey::P521(k) => PublicKey::P521(*k.verifying_key()),
            PrivateKey::External(k) => k.public_key(),
        }
    }
}

/// A public key able to verify.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum PublicKey {
    /// Ed25519.
    Ed25519(ed25519_dalek::VerifyingKey),
    /// ECDSA P-256.
    P256(p256::ecdsa::VerifyingKey),
    /// ECDSA P-384.
    P384(p384::ecdsa::VerifyingKey),
    /// ECDSA P-521.
    P521(p521::ecdsa::VerifyingKey),
}

impl PublicKey {
    /// The algorithm of this key.
    pub fn algorithm(&self) -> KeyAlgorithm {
        match self {
            PublicKey::Ed25519(_) => KeyAlgorithm::Ed25519,
            PublicKey::P256(_) => KeyAlgorithm::EcdsaP256,
            PublicKey::P384(_) => KeyAlgorithm::EcdsaP384,
            PublicKey::P521(_) => KeyAlgorithm::EcdsaP521,
        }
    }

    /// Whether `signature` is a valid signature of `message` by this key.
    /// Ed25519 uses strict verification; ECDSA takes ASN.1 DER signatures.
    pub fn verify(&self, message: &[u8], signature: &[u8]) -> bool {
        match self {
            PublicKey::Ed25519(k) => ed25519_dalek::Signature::from_slice(signature)
                .map(|s| k.verify_strict(message, &s).is_ok())
                .unwrap_or(false),
            PublicKey::P256(k) => p256::ecdsa::Signature::from_der(signature)
                .map(|s| k.verify(message, &s).is_ok())
                .unwrap_or(false),
            PublicKey::P384(k) => p384::ecdsa::Signature::from_der(signature)
                .map(|s| k.verify(message, &s).is_ok())
                .unwrap_or(false),
            PublicKey::P521(k) => p521::ecdsa::Signature::from_der(signature)
                .map(|s| k.verify(message, &s).is_ok())
                .unwrap_or(false),
        }
    }

    /// ECDSA verification with SHA-256 whatever the curve: how
    /// `model_signing` 0.2 signed in certificate mode. Always false for Ed25519.
    pub fn verify_ecdsa_sha256(&self, message: &[u8], signature: &[u8]) -> bool {
        self.verify_prehash(&Sha256::digest(message), signature)
    }

    /// ECDSA verification of a DER signature over an already computed digest
    /// (of any length the curve accepts). Always false for Ed25519, which
    /// signs messages, not digests.
    pub fn verify_prehash(&self, prehash: &[u8], signature: &[u8]) -> bool {
        match self {
            PublicKey::Ed25519(_) => false,
            PublicKey::P256(k) => p256::ecdsa::Signature::from_der(signature)
                .map(|s| k.verify_prehash(prehash, &s).is_ok())
                .unwrap_or(false),
            PublicKey::P384(k) => p384::ecdsa::Signature::from_der(signature)
                .map(|s| k.verify_prehash(prehash, &s).is_ok())
                .unwrap_or(false),
            PublicKey::P521(k) => p521::ecdsa::Signature::from_der(signature)
                .map(|s| k.verify_prehash(prehash, &s).is_ok())
                .unwrap_or(false),
        }
    }

    /// The SubjectPublicKeyInfo DER encoding.
    pub fn to_spki_der(&self) -> Vec<u8> {
        let doc = match self {
            PublicKey::Ed25519(k) => k.to_public_key_der(),
            PublicKey::P256(k) => k.to_public_key_der(),
            PublicKey::P384(k) => k.to_public_key_der(),
            PublicKey::P521(k) => k.to_public_key_der(),
        };
        doc.map(|d| d.as_bytes().to_vec()).unwrap_or_default()
    }

    /// The SPKI PEM text (LF line endings, 64-column base64), byte-for-byte
    /// what common tools write for a public key.
    pub fn to_spki_pem(&self) -> String {
        der::pem::encode_string("PUBLIC KEY", der::pem::LineEnding::LF, &self.to_spki_der())
            .unwrap_or_default()
    }

    /// The key hint of OMS key mode: hex SHA-256 of the SPKI PEM text.
    pub fn hint(&self) -> String {
        hex::encode(Sha256::digest(self.to_spki_pem().as_bytes()))
    }

    /// A fingerprint for reports: `SHA256:` and hex SHA-256 of the SPKI DER.
    pub fn fingerprint(&self) -> String {
        format!("SHA256:{}", hex::encode(Sha256::digest(self.to_spki_der())))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn every_algorithm_signs_and_verifies_and_rejects_tampering() {
        for alg in [
            KeyAlgorithm::Ed25519,
            KeyAlgorithm::EcdsaP256,
            KeyAlgorithm::EcdsaP384,
        ] {
            let key = generate(alg).unwrap();
            let public = key.public_key();
            assert_eq!(public.algorithm(), alg);
            let sig = key.sign(b"message").unwrap();
            assert!(public.verify(b"message", &sig), "{alg}");
            assert!(!public.verify(b"messagf", &sig), "{alg}");
            let mut bad = sig.clone();
            let last = bad.len() - 1;
            bad[last] ^= 1;
            assert!(!public.verify(b"message", &bad), "{alg}");
            assert!(!public.verify(b"message", &[]), "{alg}");
            let other = generate(alg).unwrap().public_key();
            assert!(!other.verify(b"message", &sig), "{alg}");
        }
    }

    #[test]
    fn hint_is_sha256_of_the_pem_text() {
        let key = generate(KeyAlgorithm::EcdsaP256).unwrap().public_key();
        let pem = key.to_spki_pem();
        assert!(pem.starts_with("-----BEGIN PUBLIC KEY-----\n"));
        assert!(pem.ends_with("-----END PUBLIC KEY-----\n"));
        assert_eq!(key.hint(), hex::encode(Sha256::digest(pem.as_bytes())));
    }

    #[test]
    fn sha256_prehash_compat_only_for_ecdsa() {
        let key = generate(KeyAlgorithm::EcdsaP384).unwrap();
        let PrivateKey::P384(k) = &key else {
            unreachable!()
        };
        use p384::ecdsa::signature::hazmat::PrehashSigner;
        let sig: p384::ecdsa::Signature = k.sign_prehash(&Sha256::digest(b"m")).unwrap();
        let der = sig.to_der().as_bytes().to_vec();
        assert!(key.public_key().verify_ecdsa_sha256(b"m", &der));
        assert!(!key.public_key().verify(b"m", &der));
        let ed = generate(KeyAlgorithm::Ed25519).unwrap();
        assert!(
            !ed.public_key()
                .verify_ecdsa_sha256(b"m", &ed.sign(b"m").unwrap())
        );
    }
}
