//! C2SP signed notes and tlog checkpoints, signed with Ed25519.
//!
//! A checkpoint is the note text `origin\nsize\nbase64(root)\n`; a signed
//! note appends a blank line and one line per signature:
//! `— name base64(key hash || signature)`, where the key hash is the first
//! four bytes of `SHA-256(name || "\n" || 0x01 || public key)`.

use base64::Engine;
use base64::engine::general_purpose::STANDARD;
use ed25519_dalek::{Signer, SigningKey, VerifyingKey};
use sha2::{Digest, Sha256};

/// The Ed25519 signature type of signed notes.
const ED25519_TYPE: u8 = 0x01;

/// A checkpoint: the log's origin, size and root hash.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Checkpoint {
    /// The log's unique name.
    pub origin: String,
    /// Number of records.
    pub size: u64,
    /// RFC 6962 tree head.
    pub root: [u8; 32],
}

impl Checkpoint {
    /// The note text.
    pub fn body(&self) -> String {
        format!(
            "{}\n{}\n{}\n",
            self.origin,
            self.size,
            STANDARD.encode(self.root)
        )
    }

    fn parse_body(body: &str) -> Result<Self, String> {
        let mut lines = body.lines();
        let origin = lines
            .next()
            .filter(|o| !o.is_empty())
            .ok_or("checkpoint has no origin")?;
        let size = lines
            .next()
            .and_then(|s| s.parse::<u64>().ok())
            .ok_or("checkpoint size is not a number")?;
        let root = lines
            .next()
            .and_then(|r| STANDARD.decode(r).ok())
            .and_then(|r| <[u8; 32]>::try_from(r).ok())
            .ok_or("checkpoint root is not a base64 SHA-256 hash")?;
        Ok(Checkpoint {
            origin: origin.to_string(),
            size,
            root,
        })
    }
}

/// The four-byte key hash of an Ed25519 note key.
pub fn key_hash(name: &str, key: &VerifyingKey) -> [u8; 4] {
    let mut h = Sha256::new();
    h.update(name.as_bytes());
    h.update(b"\n");
    h.update([ED25519_TYPE]);
    h.update(key.as_bytes());
    let d = h.finalize();
    [d[0], d[1], d[2], d[3]]
}

/// The verifier key string `name+hexhash+base64(type || key)`.
pub fn verifier_key(name: &str, key: &VerifyingKey) -> String {
    let mut raw = vec![ED25519_TYPE];
    raw.extend_from_slice(key.as_bytes());
    format!(
        "{name}+{}+{}",
        hex::encode(key_hash(name, key)),
        STANDARD.encode(raw)
    )
}

/// Signs `checkpoint` as a note by `name`.
pub fn sign_checkpoint(checkpoint: &Checkpoint, name: &str, key: &SigningKey) -> String {
    let body = checkpoint.body();
    let signature = key.sign(body.as_bytes());
    let mut blob = key_hash(name, &key.verifying_key()).to_vec();
    blob.extend_from_slice(&signature.to_bytes());
    format!("{body}\n\u{2014} {name} {}\n", STANDARD.encode(blob))
}

/// Opens a signed checkpoint: the signature line by `name` must verify with
/// `key`; other signature lines are ignored.
pub fn open_checkpoint(note: &str, name: &str, key: &VerifyingKey) -> Result<Checkpoint, String> {
    let (body, signatures) = note
        .split_once("\n\n")
        .ok_or("not a signed note (no blank line)")?;
    let body = format!("{body}\n");
    let want = key_hash(name, key);
    let mut found = false;
    for line in signatures.lines().filter(|l| !l.is_empty()) {
        let rest = line
            .strip_prefix("\u{2014} ")
            .ok_or("malformed signature line")?;
        let (signer, blob) = rest.rsplit_once(' ').ok_or("malformed signature line")?;
        if signer != name {
            continue;
        }
        let blob = STANDARD
            .decode(blob)
            .map_err(|_| "signature is not base64")?;
        if blob.len() != 68 || blob[..4] != want {
            continue;
        }
        let sig = ed25519_dalek::Signature::from_slice(&blob[4..]).map_err(|_| "bad signature")?;
        if key.verify_strict(body.as_bytes(), &sig).is_err() {
            return Err("the checkpoint signature does not verify".into());
        }
        found = true;
    }
    if !found {
        return Err(format!(
            "the checkpoint carries no signature by {name} with this key"
        ));
    }
    Checkpoint::parse_body(&body)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn signed_checkpoints_round_trip_and_reject_tampering() {
        let key = SigningKey::from_bytes(&[7u8; 32]);
        let cp = Checkpoint {
            origin: "example.com/log".into(),
            size: 42,
            root: [9u8; 32],
        };
        let note = sign_checkpoint(&cp, "example.com/log", &key);
        assert!(note.starts_with("example.com/log\n42\n"));
        assert!(note.contains("\n\n\u{2014} example.com/log "));
        assert_eq!(
            open_checkpoint(&note, "example.com/log", &key.verifying_key()).unwrap(),
            cp
        );
        let edited = note.replacen("\n42\n", "\n43\n", 1);
        assert!(open_checkpoint(&edited, "example.com/log", &key.verifying_key()).is_err());
        let other = SigningKey::from_bytes(&[8u8; 32]);
        assert!(open_checkpoint(&note, "example.com/log", &other.verifying_key()).is_err());
        assert!(open_checkpoint("garbage", "x", &key.verifying_key()).is_err());
        let vkey = verifier_key("example.com/log", &key.verifying_key());
        assert!(vkey.starts_with("example.com/log+"));
    }
}
