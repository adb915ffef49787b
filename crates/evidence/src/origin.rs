//! Log identities. A checkpoint's origin names the log it is a tree head
//! of, and is also the name its signature is made under. Every log gets its
//! own origin when it is created, `modelseal/evidence/<key>/<log id>` (the
//! first 16 hex digits of the key's SHA-256, then 32 random hex digits), so
//! two logs sealed by one key cannot stand in for each other: a checkpoint
//! kept from one never matches the other. Logs created by release 0.1.0
//! carry the origin `modelseal/evidence/<key>` and keep it.

use super::note::{Checkpoint, open_checkpoint};
use crate::{Error, Result};
use ed25519_dalek::VerifyingKey;
use sha2::{Digest, Sha256};

/// Hex digits of random log identity in a new origin.
const LOG_ID_HEX: usize = 32;

/// The origin prefix of every log sealed by `key` (and the whole origin of
/// the logs release 0.1.0 created).
pub fn key_origin(key: &VerifyingKey) -> String {
    format!(
        "modelseal/evidence/{}",
        &hex::encode(Sha256::digest(key.as_bytes()))[..16]
    )
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
pub fn check_origin(origin: &str, key: &VerifyingKey) -> std::result::Result<(), String> {
    let prefix = key_origin(key);
    let Some(rest) = origin.strip_prefix(&prefix) else {
        return Err(format!(
            "the checkpoint's origin {origin:?} is not that of a log sealed by this key ({prefix}/...)"
        ));
    };
    let per_log = rest.strip_prefix('/').is_some_and(|id| {
        id.len() == LOG_ID_HEX && id.bytes().all(|b| matches!(b, b'0'..=b'9' | b'a'..=b'f'))
    });
    if rest.is_empty() || per_log {
        Ok(())
    } else {
        Err(format!(
            "the checkpoint's origin {origin:?} is not a modelseal log identity"
        ))
    }
}

/// Opens a signed checkpoint of any log sealed by `key`: its origin (the
/// first line) must be one of the key's logs and the note must carry a
/// valid signature under that name.
pub fn open_log_checkpoint(
    note: &str,
    key: &VerifyingKey,
) -> std::result::Result<Checkpoint, String> {
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
            check_origin(&key_origin(&vk), &vk).is_ok(),
            "the 0.1.0 form"
        );
        let other = SigningKey::from_bytes(&[2u8; 32]).verifying_key();
        assert!(check_origin(&a, &other).is_err());
        assert!(check_origin(&format!("{a}x"), &vk).is_err());
        assert!(check_origin(&format!("{}/../x", key_origin(&vk)), &vk).is_err());
        let cp = Checkpoint {
            origin: a.clone(),
            size: 3,
            root: [4u8; 32],
        };
        let note = sign_checkpoint(&cp, &a, &key);
        assert_eq!(open_log_checkpoint(&note, &vk).unwrap(), cp);
        assert!(open_log_checkpoint(&note, &other).is_err());
    }
}
