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
    fn parse_body(body: &str) -> Result<Self, String> {
        let text = body
            .strip_suffix('\n')
            .ok_or("checkpoint text does not end with a newline")?;
        let lines: Vec<&str> = text.split('\n').collect();
        if lines.iter().any(|l| l.is_empty()) {
            return Err("checkpoint text has an empty line".into());
        }
        let [origin, size, root, ..] = lines[..] else {
            return Err("checkpoint text has fewer than three lines".into());
        };
        let canonical =
            size.bytes().all(|b| b.is_ascii_digit()) && (size == "0" || !size.starts_with('0'));
        let size = canonical
            .then(|| size.parse::<u64>().ok())
            .flatten()
            .ok_or("checkpoint size is not a decimal number without leading zeroes")?;
        let root = STANDARD
            .decode(root)
            .ok()
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

/// Most signature lines read from one note (C2SP asks for at least 16).
const MAX_SIGNATURES: usize = 100;

/// One signature line: key name and the decoded `key ID || signature`.
fn parse_signature_line(line: &str) -> Result<(&str, Vec<u8>), String> {
    let rest = line
        .strip_prefix("\u{2014} ")
        .ok_or("malformed signature line")?;
    let (signer, blob) = rest.split_once(' ').ok_or("malformed signature line")?;
    if signer.is_empty() || signer.contains(char::is_whitespace) || signer.contains('+') {
        return Err("malformed key name in a signature line".into());
    }
    let blob = STANDARD
        .decode(blob)
        .map_err(|_| "signature is not base64")?;
    if blob.len() < 5 {
        return Err("signature line too short for a key ID and a signature".into());
    }
    Ok((signer, blob))
}

/// Opens a signed checkpoint (C2SP signed-note): the note text ends at the
/// last blank line; every signature line must be well formed; lines of
/// other keys (another name or key ID) are ignored; a line of this key that
/// does not verify rejects the note, and one that verifies is required.
pub fn open_checkpoint(note: &str, name: &str, key: &VerifyingKey) -> Result<Checkpoint, String> {
    if note.chars().any(|c| c < ' ' && c != '\n') {
        return Err("a signed note must not hold control characters".into());
    }
    let trimmed = note
        .strip_suffix('\n')
        .ok_or("a signed note ends with a newline")?;
    let split = trimmed
        .rfind("\n\n")
        .ok_or("not a signed note (no blank line)")?;
    // The text keeps its final newline; the signature block loses its own.
    let (body, signatures) = (&note[..split + 1], &trimmed[split + 2..]);
    let want = key_hash(name, key);
    let mut found = false;
    for (i, line) in signatures.split('\n').enumerate() {
        if i == MAX_SIGNATURES {
            return Err(format!("more than {MAX_SIGNATURES} signatures"));
        }
        let (signer, blob) = parse_signature_line(line)?;
        if signer != name || blob[..4] != want {
            continue;
        }
        let sig = ed25519_dalek::Signature::from_slice(&blob[4..])
            .map_err(|_| "the checkpoint signature is not an Ed25519 signature")?;
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
        assert!(open_checkpoint(&edited, "example.com/log", &key.verifying_key()).is_err());
        let other = SigningKey::from_bytes(&[8u8; 32]);
        assert!(open_checkpoint(&note, "example.com/log", &other.verifying_key()).is_err());
        assert!(open_checkpoint("garbage", "x", &key.verifying_key()).is_err());
        let vkey = verifier_key("example.com/log", &key.verifying_key());
        assert!(vkey.starts_with("example.com/log+"));
    }
}

#[cfg(test)]
mod vector_tests;
