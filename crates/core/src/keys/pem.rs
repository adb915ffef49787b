//! Reading keys from PEM: PKCS#8 (`PRIVATE KEY`) and SEC1 (`EC PRIVATE KEY`)
//! private keys, SPKI (`PUBLIC KEY`) public keys.

use super::{KeyFormatError, PrivateKey, PublicKey};
use crate::fetch::InputKind;
use crate::{Error, Result};
use der::oid::ObjectIdentifier;
use pkcs8::DecodePrivateKey;
use spki::DecodePublicKey;
use std::path::Path;
use zeroize::Zeroizing;

const OID_ED25519: ObjectIdentifier = ObjectIdentifier::new_unwrap("1.3.101.112");
const OID_EC_PUBLIC_KEY: ObjectIdentifier = ObjectIdentifier::new_unwrap("1.2.840.10045.2.1");
const OID_RSA: ObjectIdentifier = ObjectIdentifier::new_unwrap("1.2.840.113549.1.1.1");
const OID_P256: ObjectIdentifier = ObjectIdentifier::new_unwrap("1.2.840.10045.3.1.7");
const OID_P384: ObjectIdentifier = ObjectIdentifier::new_unwrap("1.3.132.0.34");
const OID_P521: ObjectIdentifier = ObjectIdentifier::new_unwrap("1.3.132.0.35");
pub(super) const OID_SECP256K1: ObjectIdentifier = ObjectIdentifier::new_unwrap("1.3.132.0.10");

/// Reads a PEM file of `kind` (a key or certificates) into a zeroizing
/// buffer, with the checks and cap of [`crate::fetch::read_file`].
pub(crate) fn read_pem_file(path: &Path, kind: InputKind) -> Result<Zeroizing<String>> {
    let bytes = crate::fetch::read_secret(path, kind)?;
    let text = std::str::from_utf8(&bytes).map_err(|_| Error::key(path, "is not PEM text"))?;
    Ok(Zeroizing::new(text.to_string()))
}

/// Splits PEM text into (label, DER) blocks, in order.
pub fn pem_blocks(text: &str) -> std::result::Result<Vec<(String, Vec<u8>)>, KeyFormatError> {
    let mut blocks = Vec::new();
    let mut rest = text;
    while let Some(start) = rest.find("-----BEGIN ") {
        let after = &rest[start..];
        let end_marker = after
            .find("-----END ")
            .ok_or(KeyFormatError::UnterminatedBlock)?;
        let close = after[end_marker + 9..]
            .find("-----")
            .ok_or(KeyFormatError::UnterminatedEndLine)?;
        let block_end = end_marker + 9 + close + 5;
        let block = &after[..block_end];
        let (label, der) = der::pem::decode_vec(block.as_bytes()).map_err(KeyFormatError::Pem)?;
        blocks.push((label.to_string(), der));
        rest = &after[block_end..];
    }
    Ok(blocks)
}

/// The single PEM block of a key file.
fn single_block(path: &Path, text: &str) -> Result<(String, Zeroizing<Vec<u8>>)> {
    let mut blocks = pem_blocks(text).map_err(|e| Error::key(path, e.to_string()))?;
    match blocks.len() {
        0 => Err(Error::key(path, "no PEM block found")),
        1 => {
            let (label, der) = blocks.remove(0);
            Ok((label, Zeroizing::new(der)))
        }
        n => Err(Error::key(
            path,
            format!("holds {n} PEM blocks; expected one key"),
        )),
    }
}

/// Loads a private key from a PEM file.
pub fn load_private_key(path: &Path) -> Result<PrivateKey> {
    let text = read_pem_file(path, InputKind::Key)?;
    parse_private_key(path, &text)
}

/// Parses a private key from PEM text; `path` only names it in errors.
pub fn parse_private_key(path: &Path, text: &str) -> Result<PrivateKey> {
    let (label, der) = single_block(path, text)?;
    let bad = |what: &str, e: &dyn std::fmt::Display| Error::key(path, format!("{what}: {e}"));
    match label.as_str() {
        "PRIVATE KEY" => {
            let info = pkcs8::PrivateKeyInfoRef::try_from(der.as_slice())
                .map_err(|e| bad("not a PKCS#8 private key", &e))?;
            match info.algorithm.oid {
                OID_ED25519 => ed25519_dalek::SigningKey::from_pkcs8_der(&der)
                    .map(PrivateKey::Ed25519)
                    .map_err(|e| bad("bad Ed25519 key", &e)),
                OID_EC_PUBLIC_KEY => {
                    let curve = info
                        .algorithm
                        .parameters_oid()
                        .map_err(|e| bad("EC key without a named curve", &e))?;
                    match curve {
                        OID_P256 => p256::ecdsa::SigningKey::from_pkcs8_der(&der)
                            .map(PrivateKey::P256)
                            .map_err(|e| bad("bad P-256 key", &e)),
                        OID_P384 => p384::ecdsa::SigningKey::from_pkcs8_der(&der)
                            .map(PrivateKey::P384)
                            .map_err(|e| bad("bad P-384 key", &e)),
                        OID_P521 => p521::ecdsa::SigningKey::from_pkcs8_der(&der)
                            .map(PrivateKey::P521)
                            .map_err(|e| bad("bad P-521 key", &e)),
                        other => Err(Error::key(
                            path,
                            KeyFormatError::UnsupportedCurve(other).to_string(),
                        )),
                    }
                }
                OID_RSA => Err(Error::key(path, "RSA keys are not supported for signing")),
                other => Err(Error::key(
                    path,
                    format!("unsupported key algorithm {other}"),
                )),
            }
        }
        "EC PRIVATE KEY" => {
            let key = sec1::EcPrivateKey::try_from(der.as_slice())
                .map_err(|e| bad("not a SEC1 EC private key", &e))?;
            let curve = key
                .parameters
                .and_then(|p| p.named_curve())
                .ok_or_else(|| Error::key(path, "SEC1 key does not name its curve"))?;
            match curve {
                OID_P256 => p256::SecretKey::from_sec1_der(&der)
                    .map(|k| PrivateKey::P256(k.into()))
                    .map_err(|e| bad("bad P-256 key", &e)),
                OID_P384 => p384::SecretKey::from_sec1_der(&der)
                    .map(|k| PrivateKey::P384(k.into()))
                    .map_err(|e| bad("bad P-384 key", &e)),
                OID_P521 => p521::SecretKey::from_sec1_der(&der)
                    .map(|k| PrivateKey::P521(k.into()))
                    .map_err(|e| bad("bad P-521 key", &e)),
                other => Err(Error::key(
                    path,
                    KeyFormatError::UnsupportedCurve(other).to_string(),
                )),
            }
        }
        "ENCRYPTED PRIVATE KEY" => Err(Error::key(
            path,
            "encrypted private keys are not supported; decrypt it to an unencrypted PKCS#8 file kept with mode 0600",
        )),
        "PUBLIC KEY" => Err(Error::key(
            path,
            "is a public key; signing needs the private key",
        )),
        other => Err(Error::key(
            path,
            format!("PEM block {other:?} is not a private key"),
        )),
    }
}

/// Loads a public key from a PEM file. A private key file is accepted too
/// (its public half is used).
pub fn load_public_key(path: &Path) -> Result<PublicKey> {
    let text = read_pem_file(path, InputKind::Key)?;
    parse_public_key(path, &text)
}

/// Parses a public key from PEM text; `path` only names it in errors.
pub fn parse_public_key(path: &Path, text: &str) -> Result<PublicKey> {
    let (label, der) = single_block(path, text)?;
    match label.as_str() {
        "PUBLIC KEY" => {}
        "PRIVATE KEY" | "EC PRIVATE KEY" => {
            return parse_private_key(path, text).map(|k| k.public_key());
        }
        "CERTIFICATE" => {
            return Err(Error::key(
                path,
                "is a certificate, not a public key (a certificate-mode signature is verified against its certificate chain)",
            ));
        }
        other => {
            return Err(Error::key(
                path,
                format!("PEM block {other:?} is not a public key"),
            ));
        }
    }
    spki_to_public_key(&der).map_err(|reason| Error::key(path, reason.to_string()))
}

/// Decodes a DER SubjectPublicKeyInfo into a supported public key.
pub(crate) fn spki_to_public_key(der: &[u8]) -> std::result::Result<PublicKey, KeyFormatError> {
    let info = spki::SubjectPublicKeyInfoRef::try_from(der)
        .map_err(KeyFormatError::NotSubjectPublicKeyInfo)?;
    let bad = |kind: &'static str| move |source| KeyFormatError::BadKey { kind, source };
    match info.algorithm.oid {
        OID_ED25519 => ed25519_dalek::VerifyingKey::from_public_key_der(der)
            .map(PublicKey::Ed25519)
            .map_err(bad("Ed25519")),
        OID_EC_PUBLIC_KEY => {
            let curve = info
                .algorithm
                .parameters_oid()
                .map_err(KeyFormatError::NoNamedCurve)?;
            match curve {
                OID_P256 => p256::ecdsa::VerifyingKey::from_public_key_der(der)
                    .map(PublicKey::P256)
                    .map_err(bad("P-256")),
                OID_P384 => p384::ecdsa::VerifyingKey::from_public_key_der(der)
                    .map(PublicKey::P384)
                    .map_err(bad("P-384")),
                OID_P521 => p521::ecdsa::VerifyingKey::from_public_key_der(der)
                    .map(PublicKey::P521)
                    .map_err(bad("P-521")),
                other => Err(KeyFormatError::UnsupportedCurve(other)),
            }
        }
        OID_RSA => Err(KeyFormatError::Rsa),
        other => Err(KeyFormatError::UnsupportedAlgorithm(other)),
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::keys::KeyAlgorithm;

    const KEYS: &str = "fixtures/interop/model-signing-1.1.1/keys";

    fn key_file(name: &str) -> std::path::PathBuf {
        Path::new(concat!(env!("CARGO_MANIFEST_DIR"), "/../.."))
            .join(KEYS)
            .join(name)
    }

    #[test]
    fn reads_sec1_and_pkcs8_private_keys_and_their_public_halves() {
        for (name, alg) in [
            ("ed25519", KeyAlgorithm::Ed25519),
            ("p256", KeyAlgorithm::EcdsaP256),
            ("p384", KeyAlgorithm::EcdsaP384),
            ("p521", KeyAlgorithm::EcdsaP521),
        ] {
            let private = load_private_key(&key_file(&format!("{name}.priv.pem"))).unwrap();
            let public = load_public_key(&key_file(&format!("{name}.pub.pem"))).unwrap();
            assert_eq!(private.algorithm(), alg);
            assert_eq!(private.public_key(), public, "{name}");
            let sig = private.sign(b"x").unwrap();
            assert!(public.verify(b"x", &sig));
        }
    }

    #[test]
    fn our_pem_text_matches_the_reference_files_byte_for_byte() {
        for name in ["ed25519", "p256", "p384", "p521"] {
            let path = key_file(&format!("{name}.pub.pem"));
            let text = std::fs::read_to_string(&path).unwrap();
            assert_eq!(
                load_public_key(&path).unwrap().to_spki_pem(),
                text,
                "{name}"
            );
        }
    }

    #[test]
    fn unsupported_keys_say_why() {
        let rsa = load_public_key(&key_file("rsa2048.pub.pem")).unwrap_err();
        assert!(rsa.to_string().contains("RSA"), "{rsa}");
        let k1 = load_public_key(&key_file("secp256k1.pub.pem")).unwrap_err();
        assert!(k1.to_string().contains("secp256k1"), "{k1}");
    }

    #[test]
    fn garbage_and_wrong_blocks_are_errors() {
        let p = Path::new("k.pem");
        for text in [
            "",
            "not pem",
            "-----BEGIN PUBLIC KEY-----\nAAAA\n-----END PUBLIC KEY-----\n",
            "-----BEGIN PUBLIC KEY-----\nunterminated",
            "-----BEGIN FOO-----\nAAAA\n-----END FOO-----\n",
        ] {
            assert!(parse_public_key(p, text).is_err(), "{text:?}");
            assert!(parse_private_key(p, text).is_err(), "{text:?}");
        }
        let pubkey = std::fs::read_to_string(key_file("p256.pub.pem")).unwrap();
        let e = parse_private_key(p, &pubkey).unwrap_err();
        assert!(e.to_string().contains("public key"), "{e}");
        let two = format!("{pubkey}{pubkey}");
        assert!(
            parse_public_key(p, &two)
                .unwrap_err()
                .to_string()
                .contains("2 PEM blocks")
        );
    }

    #[test]
    fn a_directory_is_not_a_key() {
        let dir = tempfile::tempdir().unwrap();
        let e = load_public_key(dir.path()).unwrap_err();
        assert!(e.to_string().contains("directory"), "{e}");
    }
}
