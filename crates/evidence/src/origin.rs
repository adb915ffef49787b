//! Log identities. A checkpoint's origin names the log it is a tree head
//! of, and is also the name its signature is made under. Every log gets its
//! own origin when it is created, `modelseal/evidence/<key>/<log id>` (the
//! first 16 hex digits of the key's fingerprint, the SHA-256 of its SPKI
//! DER, then 32 random hex digits), so two logs sealed by one key cannot
//! stand in for each other: a checkpoint kept from one never matches the
//! other. Logs created by releases 0.1.0 to 0.2 named the key by the
//! SHA-256 of its raw 32 bytes instead (0.1.0 with no log id); they keep
//! their origins, and are read as they are.

use super::note::{Checkpoint, CheckpointError, open_checkpoint};
use crate::{Error, Result};
use ed25519_dalek::VerifyingKey;
use sha2::{Digest, Sha256};

/// Hex digits of random log identity in a new origin.
const LOG_ID_HEX: usize = 32;

/// The origin prefix of every new log sealed by `key`: the first 16 hex
/// digits of the key's fingerprint (SHA-256 of its SPKI DER).
pub fn key_origin(key: &VerifyingKey) -> String {
    let fingerprint = crate::keys::PublicKey::Ed25519(*key).fingerprint();
    let hex = fingerprint.trim_start_matches("SHA256:");
    format!("modelseal/evidence/{}", &hex[..16])
}

/// The origin prefix logs of releases 0.1.0 to 0.2 carry (and the whole
/// origin of those 0.1.0 created): the SHA-256 of the raw key.
pub fn legacy_key_origin(key: &VerifyingKey) -> String {
    format!(
        "modelseal/evidence/{}",
        &hex::encode(Sha256::digest(key.as_bytes()))[..16]
    )
}

/// Whether `owner` (a database's recorded key origin) names `key`, in
/// either form.
#[cfg(any(feature = "postgres", test))]
pub fn owned_by(owner: &str, key: &VerifyingKey) -> bool {
    owner == key_origin(key) || owner == legacy_key_origin(key)
}

/// A fresh origin for a new log sealed by `key`.
pub fn new_origin(key: &VerifyingKey) -> Result<String> {
    let mut id = [0u8; LOG_ID_HEX / 2];
    getrandom::fill(&mut id)
        .map_err(|e| Error::Evidence(format!("cannot draw a log identity: {e}")))?;
    Ok(format!("{}/{}", key_origin(key), hex::encode(id)))
}

/// Whether `origin` names a log sealed by `key`: the 0.1.0 form or the
/// per-log form, nothing else.
pub fn check_origin(origin: &str, key: &VerifyingKey) -> std::result::Result<(), CheckpointError> {
    let prefix = key_origin(key);
    let legacy = legacy_key_origin(key);
    let Some(rest) = origin
        .strip_prefix(&prefix)
        .or_else(|| origin.strip_prefix(&legacy))
    else {
        return Err(CheckpointError::OtherKey {
            origin: origin.to_string(),
            prefix,
        });
    };
    let per_log = rest.strip_prefix('/').is_some_and(|id| {
        id.len() == LOG_ID_HEX && id.bytes().all(|b| matches!(b, b'0'..=b'9' | b'a'..=b'f'))
    });
    if rest.is_empty() || per_log {
        Ok(())
    } else {
        Err(CheckpointError::NotLogIdentity {
            origin: origin.to_string(),
        })
    }
}

/// Opens a signed checkpoint of any log sealed by `key`: its origin (the
/// first line) must be one of the key's logs and the note must carry a
/// valid signature under that name.
pub fn open_log_checkpoint(
    note: &str,
    key: &VerifyingKey,
) -> std::result::Result<Checkpoint, CheckpointError> {
    let origin = note.split('\n').next().unwrap_or_default();
    check_origin(origin, key)?;
    open_checkpoint(note, origin, key)
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::note::sign_checkpoint;
    use ed25519_dalek::SigningKey;

    #[test]
    fn each_log_has_its_own_origin_under_its_key() {
        let key = SigningKey::from_bytes(&[1u8; 32]);
        let vk = key.verifying_key();
        let (a, b) = (new_origin(&vk).unwrap(), new_origin(&vk).unwrap());
        assert_ne!(a, b);
        assert!(a.starts_with(&format!("{}/", key_origin(&vk))));
        assert!(check_origin(&a, &vk).is_ok());
        assert!(
            check_origin(&legacy_key_origin(&vk), &vk).is_ok(),
            "the 0.1.0 form"
        );
        // One fingerprint form: the origin names the key as keygen does.
        let fingerprint = crate::keys::PublicKey::Ed25519(vk).fingerprint();
        assert_eq!(
            key_origin(&vk),
            format!("modelseal/evidence/{}", &fingerprint[7..23])
        );
        // Logs of 0.2 (raw-key prefix, a log id) are read as they are.
        let old = format!("{}/{}", legacy_key_origin(&vk), "0a".repeat(16));
        assert!(check_origin(&old, &vk).is_ok());
        assert!(owned_by(&legacy_key_origin(&vk), &vk) && owned_by(&key_origin(&vk), &vk));
        assert!(!owned_by(
            &key_origin(&vk),
            &SigningKey::from_bytes(&[2u8; 32]).verifying_key()
        ));
        let other = SigningKey::from_bytes(&[2u8; 32]).verifying_key();
        assert!(check_origin(&a, &other).is_err());
        assert!(check_origin(&format!("{a}x"), &vk).is_err());
        assert!(check_origin(&format!("{}/../x", key_origin(&vk)), &vk).is_err());
        let cp = Checkpoint {
            origin: a.clone(),
            size: 3,
            root: [4u8; 32],
        };
        let note = sign_checkpoint(&cp, &a, &key).unwrap();
        assert_eq!(open_log_checkpoint(&note, &vk).unwrap(), cp);
        assert!(open_log_checkpoint(&note, &other).is_err());
    }
}
