//! C2SP tlog-cosignature v1 (Ed25519): a witness's signature line on a
//! checkpoint, `— <name> base64(key ID || u64 timestamp || signature)`,
//! over `cosignature/v1\ntime <timestamp>\n` followed by the checkpoint's
//! note text.

use crate::policy::Policy;
use base64::Engine;
use base64::engine::general_purpose::STANDARD;
use ed25519_dalek::Signature;

/// A cosignature that verified: which witness (its policy name) and when
/// it says it cosigned (seconds since the epoch).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Cosigned {
    /// The witness's index in the policy.
    pub index: usize,
    /// The witness's name in the policy.
    pub witness: String,
    /// The cosignature's timestamp.
    pub time: u64,
    /// The signature line, as given.
    pub line: String,
}

/// Why text is not a signed note.
#[derive(Debug, Clone, Copy, PartialEq, Eq, thiserror::Error)]
#[non_exhaustive]
pub enum NoteError {
    /// It does not end with a newline.
    #[error("a signed note ends with a newline")]
    NoFinalNewline,
    /// No blank line parts its text from its signatures.
    #[error("not a signed note (no blank line)")]
    NoBlankLine,
}

/// Splits a signed note into its text (with its final newline) and its
/// signature lines.
pub fn split_note(note: &str) -> Result<(&str, Vec<&str>), NoteError> {
    let trimmed = note.strip_suffix('\n').ok_or(NoteError::NoFinalNewline)?;
    let split = trimmed.rfind("\n\n").ok_or(NoteError::NoBlankLine)?;
    Ok((
        &note[..split + 1],
        trimmed[split + 2..].split('\n').collect(),
    ))
}

/// The message a v1 cosignature signs.
pub fn signed_message(body: &str, time: u64) -> String {
    format!("cosignature/v1\ntime {time}\n{body}")
}

/// Reads the cosignatures of the policy's witnesses among `lines` (note
/// signature lines) over the checkpoint text `body`: lines of keys the
/// policy does not name are ignored; a line of a witness's key that is
/// malformed or does not verify is a problem and does not count. At most
/// one cosignature per witness is kept (the earliest: when it first
/// vouched for the checkpoint).
pub fn read_cosignatures(
    policy: &Policy,
    body: &str,
    lines: &[&str],
) -> (Vec<Cosigned>, Vec<String>) {
    let mut found: Vec<Cosigned> = Vec::new();
    let mut problems = Vec::new();
    for line in lines {
        let Some(rest) = line.strip_prefix("\u{2014} ") else {
            continue;
        };
        let Some((name, blob)) = rest.split_once(' ') else {
            continue;
        };
        let Ok(blob) = STANDARD.decode(blob) else {
            continue;
        };
        for (index, w) in policy.witnesses.iter().enumerate() {
            if w.key.name != name || blob.len() < 4 || blob[..4] != w.key.id {
                continue;
            }
            if blob.len() != 4 + 8 + 64 {
                problems.push(format!(
                    "witness {}: a cosignature of {} bytes, not a v1 cosignature",
                    w.name,
                    blob.len()
                ));
                continue;
            }
            let time = u64::from_be_bytes(blob[4..12].try_into().unwrap_or_default());
            let signature = Signature::from_slice(&blob[12..]).ok();
            let verified = time < 1 << 63
                && signature.is_some_and(|s| {
                    w.key
                        .key
                        .verify_strict(signed_message(body, time).as_bytes(), &s)
                        .is_ok()
                });
            if !verified {
                problems.push(format!(
                    "witness {}: a cosignature that does not verify",
                    w.name
                ));
                continue;
            }
            found.retain(|c| c.index != index || c.time < time);
            if !found.iter().any(|c| c.index == index) {
                found.push(Cosigned {
                    index,
                    witness: w.name.clone(),
                    time,
                    line: line.to_string(),
                });
            }
        }
    }
    found.sort_by_key(|c| c.index);
    (found, problems)
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::policy::{COSIGNATURE_KEY_TYPE, key_id, witness_vkey};
    use ed25519_dalek::{Signer, SigningKey};

    /// A v1 cosignature line by `key` under `name` at `time` on `body`.
    pub fn cosign(body: &str, name: &str, key: &SigningKey, time: u64) -> String {
        let sig = key.sign(signed_message(body, time).as_bytes());
        let mut blob = key_id(name, COSIGNATURE_KEY_TYPE, &key.verifying_key()).to_vec();
        blob.extend_from_slice(&time.to_be_bytes());
        blob.extend_from_slice(&sig.to_bytes());
        format!("\u{2014} {name} {}", STANDARD.encode(blob))
    }

    #[test]
    fn cosignatures_verify_and_forgeries_do_not_count() {
        let (k1, k2) = (
            SigningKey::from_bytes(&[1; 32]),
            SigningKey::from_bytes(&[2; 32]),
        );
        let policy = Policy::parse(&format!(
            "witness a {}\nwitness b {}\ngroup both all a b\nquorum both\n",
            witness_vkey("a.example", &k1.verifying_key()),
            witness_vkey("b.example", &k2.verifying_key())
        ))
        .unwrap();
        let body = "log/x\n3\nAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAA=\n";
        let a = cosign(body, "a.example", &k1, 1_700_000_000);
        let b_wrong = cosign(
            "log/x\n4\nAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAA=\n",
            "b.example",
            &k2,
            1,
        );
        let other = cosign(body, "c.example", &k2, 5);
        let (found, problems) = read_cosignatures(&policy, body, &[&a, &b_wrong, &other]);
        assert_eq!(found.len(), 1);
        assert_eq!(
            (found[0].witness.as_str(), found[0].time),
            ("a", 1_700_000_000)
        );
        assert_eq!(problems.len(), 1, "{problems:?}");
        assert!(!policy.quorum_met(&[0]));
        let b = cosign(body, "b.example", &k2, 7);
        let (found, _) = read_cosignatures(&policy, body, &[&a, &b]);
        let idx: Vec<usize> = found.iter().map(|c| c.index).collect();
        assert!(policy.quorum_met(&idx));
    }
}
