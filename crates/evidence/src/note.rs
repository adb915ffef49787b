//! C2SP signed notes and tlog checkpoints, signed with Ed25519.
//!
//! A checkpoint is the note text `origin\nsize\nbase64(root)\n`; a signed
//! note appends a blank line and one line per signature:
//! `— name base64(key hash || signature)`, where the key hash is the first
//! four bytes of `SHA-256(name || "\n" || 0x01 || public key)`.

use base64::Engine;
use base64::engine::general_purpose::STANDARD;
use ed25519_dalek::VerifyingKey;
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

    /// Parses checkpoint text (C2SP tlog-checkpoint): at least three
    /// non-empty lines (origin, decimal size without leading zeroes, base64
    /// root hash), then optional non-empty extension lines.
    fn parse_body(body: &str) -> Result<Self, CheckpointError> {
        let malformed = CheckpointError::malformed;
        let text = body
            .strip_suffix('\n')
            .ok_or_else(|| malformed("checkpoint text does not end with a newline"))?;
        let lines: Vec<&str> = text.split('\n').collect();
        if lines.iter().any(|l| l.is_empty()) {
            return Err(malformed("checkpoint text has an empty line"));
        }
        let [origin, size, root, ..] = lines[..] else {
            return Err(malformed("checkpoint text has fewer than three lines"));
        };
        let canonical =
            size.bytes().all(|b| b.is_ascii_digit()) && (size == "0" || !size.starts_with('0'));
        let size = canonical
            .then(|| size.parse::<u64>().ok())
            .flatten()
            .ok_or_else(|| {
                malformed("checkpoint size is not a decimal number without leading zeroes")
            })?;
        let root = STANDARD
            .decode(root)
            .ok()
            .and_then(|r| <[u8; 32]>::try_from(r).ok())
            .ok_or_else(|| malformed("checkpoint root is not a base64 SHA-256 hash"))?;
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

/// The C2SP signed-note verifier key of a log: `name+hexhash+base64(type
/// || key)`, as a witness (`witnessctl add-key`) or a tlog-policy `log`
/// line names it.
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
pub fn sign_checkpoint(
    checkpoint: &Checkpoint,
    name: &str,
    key: &dyn crate::SealKey,
) -> crate::Result<String> {
    let body = checkpoint.body();
    let signature = key.seal(body.as_bytes())?;
    let mut blob = key_hash(name, &key.verifying_key()).to_vec();
    blob.extend_from_slice(&signature.to_bytes());
    Ok(format!(
        "{body}\n\u{2014} {name} {}\n",
        STANDARD.encode(blob)
    ))
}

/// Why a signed checkpoint does not open: each one line, as `evidence
/// verify` reports it.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[non_exhaustive]
pub enum CheckpointError {
    /// Not a C2SP signed note, or a checkpoint body it does not parse as
    /// (the rule broken is named).
    #[error("{reason}")]
    Malformed {
        /// Which rule of the note or checkpoint format it breaks.
        reason: String,
    },
    /// A signature line of this key that does not verify.
    #[error("the checkpoint signature does not verify")]
    BadSignature,
    /// No signature line of this key and name.
    #[error("the checkpoint carries no signature by {name} with this key")]
    NotSigned {
        /// The key name looked for (the log's origin).
        name: String,
    },
    /// The origin is not that of a log sealed by this key.
    #[error(
        "the checkpoint's origin {origin:?} is not that of a log sealed by this key ({prefix}/...)"
    )]
    OtherKey {
        /// The origin found.
        origin: String,
        /// What the origins of this key's logs start with.
        prefix: String,
    },
    /// The origin has this key's prefix but is no log identity.
    #[error("the checkpoint's origin {origin:?} is not a modelseal log identity")]
    NotLogIdentity {
        /// The origin found.
        origin: String,
    },
}

impl CheckpointError {
    fn malformed(reason: impl Into<String>) -> Self {
        CheckpointError::Malformed {
            reason: reason.into(),
        }
    }
}

/// Most signature lines read from one note (C2SP asks for at least 16).
const MAX_SIGNATURES: usize = 100;

/// One signature line: key name and the decoded `key ID || signature`.
fn parse_signature_line(line: &str) -> Result<(&str, Vec<u8>), CheckpointError> {
    let malformed = CheckpointError::malformed;
    let rest = line
        .strip_prefix("\u{2014} ")
        .ok_or_else(|| malformed("malformed signature line"))?;
    let (signer, blob) = rest
        .split_once(' ')
        .ok_or_else(|| malformed("malformed signature line"))?;
    if signer.is_empty() || signer.contains(char::is_whitespace) || signer.contains('+') {
        return Err(malformed("malformed key name in a signature line"));
    }
    let blob = STANDARD
        .decode(blob)
        .map_err(|_| malformed("signature is not base64"))?;
    if blob.len() < 5 {
        return Err(malformed(
            "signature line too short for a key ID and a signature",
        ));
    }
    Ok((signer, blob))
}

/// Opens a signed checkpoint (C2SP signed-note): the note text ends at the
/// last blank line; every signature line must be well formed; lines of
/// other keys (another name or key ID) are ignored; a line of this key that
/// does not verify rejects the note, and one that verifies is required.
pub fn open_checkpoint(
    note: &str,
    name: &str,
    key: &VerifyingKey,
) -> Result<Checkpoint, CheckpointError> {
    let malformed = CheckpointError::malformed;
    if note.chars().any(|c| c < ' ' && c != '\n') {
        return Err(malformed("a signed note must not hold control characters"));
    }
    let trimmed = note
        .strip_suffix('\n')
        .ok_or_else(|| malformed("a signed note ends with a newline"))?;
    let split = trimmed
        .rfind("\n\n")
        .ok_or_else(|| malformed("not a signed note (no blank line)"))?;
    // The text keeps its final newline; the signature block loses its own.
    let (body, signatures) = (&note[..split + 1], &trimmed[split + 2..]);
    let want = key_hash(name, key);
    let mut found = false;
    for (i, line) in signatures.split('\n').enumerate() {
        if i == MAX_SIGNATURES {
            return Err(CheckpointError::malformed(format!(
                "more than {MAX_SIGNATURES} signatures"
            )));
        }
        let (signer, blob) = parse_signature_line(line)?;
        if signer != name || blob[..4] != want {
            continue;
        }
        let sig = ed25519_dalek::Signature::from_slice(&blob[4..])
            .map_err(|_| malformed("the checkpoint signature is not an Ed25519 signature"))?;
        if key.verify_strict(body.as_bytes(), &sig).is_err() {
            return Err(CheckpointError::BadSignature);
        }
        found = true;
    }
    if !found {
        return Err(CheckpointError::NotSigned {
            name: name.to_string(),
        });
    }
    Checkpoint::parse_body(body)
}

#[cfg(test)]
mod tests {
    use super::*;
    use ed25519_dalek::SigningKey;

    #[test]
    fn signed_checkpoints_round_trip_and_reject_tampering() {
        let key = SigningKey::from_bytes(&[7u8; 32]);
        let cp = Checkpoint {
            origin: "example.com/log".into(),
            size: 42,
            root: [9u8; 32],
        };
        let note = sign_checkpoint(&cp, "example.com/log", &key).unwrap();
        assert!(note.starts_with("example.com/log\n42\n"));
        assert!(note.contains("\n\n\u{2014} example.com/log "));
        assert_eq!(
            open_checkpoint(&note, "example.com/log", &key.verifying_key()).unwrap(),
            cp
        );
        let edited = note.replacen("\n42\n", "\n43\n", 1);
        assert_eq!(
            open_checkpoint(&edited, "example.com/log", &key.verifying_key()),
            Err(CheckpointError::BadSignature)
        );
        let other = SigningKey::from_bytes(&[8u8; 32]);
        assert_eq!(
            open_checkpoint(&note, "example.com/log", &other.verifying_key()),
            Err(CheckpointError::NotSigned {
                name: "example.com/log".into()
            })
        );
        assert!(matches!(
            open_checkpoint("garbage", "x", &key.verifying_key()),
            Err(CheckpointError::Malformed { .. })
        ));
        let vkey = verifier_key("example.com/log", &key.verifying_key());
        assert!(vkey.starts_with("example.com/log+"));
    }
}

#[cfg(test)]
mod vector_tests;
