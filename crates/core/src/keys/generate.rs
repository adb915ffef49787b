//! Key generation from the operating system's random generator, and writing
//! key pairs to disk with safe permissions.

use super::{KeyAlgorithm, PrivateKey};
use crate::{Error, Result};
use pkcs8::EncodePrivateKey;
use std::io::Write;
use std::os::unix::fs::OpenOptionsExt;
use std::path::{Path, PathBuf};
use zeroize::Zeroizing;

fn random<const N: usize>() -> Result<Zeroizing<[u8; N]>> {
    let mut bytes = Zeroizing::new([0u8; N]);
    getrandom::fill(bytes.as_mut())
        .map_err(|e| Error::Usage(format!("the OS random generator failed: {e}")))?;
    Ok(bytes)
}

/// Generates a fresh private key. P-521 is verify-only here and refused.
pub fn generate(algorithm: KeyAlgorithm) -> Result<PrivateKey> {
    // Scalars out of range are vanishingly rare; retry rather than bias.
    for _ in 0..64 {
        let key = match algorithm {
            KeyAlgorithm::Ed25519 => Some(PrivateKey::Ed25519(
                ed25519_dalek::SigningKey::from_bytes(&*random::<32>()?),
            )),
            KeyAlgorithm::EcdsaP256 => p256::SecretKey::from_slice(random::<32>()?.as_ref())
                .ok()
                .map(|k| PrivateKey::P256(k.into())),
            KeyAlgorithm::EcdsaP384 => p384::SecretKey::from_slice(random::<48>()?.as_ref())
                .ok()
                .map(|k| PrivateKey::P384(k.into())),
            KeyAlgorithm::EcdsaP521 => {
                return Err(Error::Usage(
                    "keygen makes ed25519, ecdsa-p256 or ecdsa-p384 keys".into(),
                ));
            }
        };
        if let Some(key) = key {
            return Ok(key);
        }
    }
    Err(Error::Usage("could not generate a valid key".into()))
}

/// The PKCS#8 PEM text of a private key, in a zeroizing buffer.
///
/// Ed25519 keys are written in the RFC 8410 form: a version 1 PKCS#8
/// structure holding the 32-byte seed and no public key. The version 2 form
/// (RFC 5958, with the public key) is valid too, but OpenSSL 3.0 and Python
/// `cryptography` refuse it; modelseal reads both.
pub fn private_key_pem(key: &PrivateKey) -> Result<Zeroizing<String>> {
    let lf = pkcs8::LineEnding::LF;
    let pem = match key {
        PrivateKey::Ed25519(k) => ed25519_dalek::pkcs8::KeypairBytes {
            secret_key: k.to_bytes(),
            public_key: None,
        }
        .to_pkcs8_pem(lf),
        PrivateKey::P256(k) => k.to_pkcs8_pem(lf),
        PrivateKey::P384(k) => k.to_pkcs8_pem(lf),
        PrivateKey::P521(k) => k.to_pkcs8_pem(lf),
        PrivateKey::External(k) => {
            return Err(Error::Usage(format!(
                "{}: a key that never leaves its device has no PEM",
                k.describe()
            )));
        }
    };
    pem.map_err(|e| Error::Usage(format!("cannot encode the private key: {e}")))
}

/// Writes `PREFIX.priv.pem` (PKCS#8, mode 0600) and `PREFIX.pub.pem` (SPKI).
/// Existing files are left alone unless `force` is set. Returns both paths.
pub fn write_key_pair(key: &PrivateKey, prefix: &Path, force: bool) -> Result<(PathBuf, PathBuf)> {
    let private_path = with_suffix(prefix, ".priv.pem");
    let public_path = with_suffix(prefix, ".pub.pem");
    if !force {
        for p in [&private_path, &public_path] {
            if p.symlink_metadata().is_ok() {
                return Err(Error::Exists(p.clone()));
            }
        }
    }
    let private_pem = private_key_pem(key)?;
    write_new(&private_path, private_pem.as_bytes(), 0o600, force)?;
    write_new(
        &public_path,
        key.public_key().to_spki_pem().as_bytes(),
        0o644,
        force,
    )?;
    Ok((private_path, public_path))
}

fn with_suffix(prefix: &Path, suffix: &str) -> PathBuf {
    let mut s = prefix.as_os_str().to_os_string();
    s.push(suffix);
    PathBuf::from(s)
}

/// Creates `path` with `mode` from the start (never a moment with wider
/// permissions); with `force`, an existing file is removed first.
fn write_new(path: &Path, bytes: &[u8], mode: u32, force: bool) -> Result<()> {
    if force {
        match std::fs::remove_file(path) {
            Ok(()) => {}
            Err(e) if e.kind() == std::io::ErrorKind::NotFound => {}
            Err(e) => return Err(Error::io(path, e)),
        }
    }
    let mut file = std::fs::OpenOptions::new()
        .write(true)
        .create_new(true)
        .mode(mode)
        .open(path)
        .map_err(|e| match e.kind() {
            std::io::ErrorKind::AlreadyExists => Error::Exists(path.to_path_buf()),
            _ => Error::io(path, e),
        })?;
    file.write_all(bytes).map_err(|e| Error::io(path, e))?;
    file.sync_all().map_err(|e| Error::io(path, e))
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::keys::{load_private_key, load_public_key};
    use std::os::unix::fs::PermissionsExt;

    #[test]
    fn writes_a_loadable_pair_with_private_mode_0600() {
        let dir = tempfile::tempdir().unwrap();
        for alg in [
            KeyAlgorithm::Ed25519,
            KeyAlgorithm::EcdsaP256,
            KeyAlgorithm::EcdsaP384,
        ] {
            let prefix = dir.path().join(alg.name());
            let key = generate(alg).unwrap();
            let (private, public) = write_key_pair(&key, &prefix, false).unwrap();
            let mode = std::fs::metadata(&private).unwrap().permissions().mode() & 0o777;
            assert_eq!(mode, 0o600);
            assert_eq!(
                load_private_key(&private).unwrap().public_key(),
                key.public_key()
            );
            assert_eq!(load_public_key(&public).unwrap(), key.public_key());
            let text = std::fs::read_to_string(&private).unwrap();
            assert!(text.starts_with("-----BEGIN PRIVATE KEY-----"));
        }
    }

    #[test]
    fn refuses_to_overwrite_without_force() {
        let dir = tempfile::tempdir().unwrap();
        let prefix = dir.path().join("k");
        let first = generate(KeyAlgorithm::Ed25519).unwrap();
        write_key_pair(&first, &prefix, false).unwrap();
        let second = generate(KeyAlgorithm::Ed25519).unwrap();
        let err = write_key_pair(&second, &prefix, false).unwrap_err();
        assert!(matches!(err, Error::Exists(_)));
        let kept = load_private_key(&with_suffix(&prefix, ".priv.pem")).unwrap();
        assert_eq!(kept.public_key(), first.public_key());
        write_key_pair(&second, &prefix, true).unwrap();
        let replaced = load_private_key(&with_suffix(&prefix, ".priv.pem")).unwrap();
        assert_eq!(replaced.public_key(), second.public_key());
    }

    #[test]
    fn ed25519_is_written_as_pkcs8_v1_and_both_versions_are_read() {
        let key = generate(KeyAlgorithm::Ed25519).unwrap();
        let PrivateKey::Ed25519(k) = &key else {
            unreachable!()
        };
        let v1 = private_key_pem(&key).unwrap();
        let (_, der) = crate::keys::pem_blocks(&v1).unwrap().remove(0);
        let info = pkcs8::PrivateKeyInfoRef::try_from(der.as_slice()).unwrap();
        assert_eq!(info.version(), pkcs8::Version::V1);
        assert!(info.public_key.is_none());
        // RFC 8410 §7: the private key is the 32-byte seed in an OCTET STRING.
        assert_eq!(der.len(), 48);
        let v2 = k.to_pkcs8_pem(pkcs8::LineEnding::LF).unwrap();
        assert!(v2.as_str() != v1.as_str());
        for text in [v1.as_str(), v2.as_str()] {
            let read = crate::keys::parse_private_key(Path::new("k.pem"), text).unwrap();
            assert_eq!(read.public_key(), key.public_key());
        }
    }

    #[test]
    fn p521_keygen_is_refused() {
        assert!(generate(KeyAlgorithm::EcdsaP521).is_err());
    }
}

#[cfg(test)]
mod interop_tests;
