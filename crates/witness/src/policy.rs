//! Witness policies in the C2SP tlog-policy format: the logs accepted,
//! the witnesses (each a name, an Ed25519 cosignature key and optionally
//! the URL of its submission prefix), groups with thresholds, and the one
//! quorum a checkpoint must reach.
//!
//! ```text
//! log modelseal/evidence/ab12.../cd34...+1a2b3c4d+AQ...
//! witness w1 witness.example/w1+5e6f7a8b+BA... https://witness.example/w1
//! witness w2 witness.example/w2+01234567+BA...
//! group two-of-them 2 w1 w2
//! quorum two-of-them
//! ```

use base64::Engine;
use base64::engine::general_purpose::STANDARD;
use ed25519_dalek::VerifyingKey;
use sha2::{Digest, Sha256};

/// The signed-note type byte of a log's Ed25519 checkpoint key.
pub const LOG_KEY_TYPE: u8 = 0x01;
/// The signed-note type byte of an Ed25519 cosignature (v1) key.
pub const COSIGNATURE_KEY_TYPE: u8 = 0x04;
/// Most lines, witnesses or groups a policy may hold.
const MAX_ENTRIES: usize = 1_000;

/// Why a policy cannot be used.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("witness policy line {line}: {reason}")]
pub struct PolicyError {
    /// The line (from 1; 0 for the policy as a whole).
    pub line: usize,
    /// What is wrong with it.
    pub reason: String,
}

/// A verifier key: a signed-note key name and its Ed25519 key.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct NoteKey {
    /// The key name (a log's origin, a witness's name in its signatures).
    pub name: String,
    /// The public key.
    pub key: VerifyingKey,
    /// The four-byte key ID signature lines carry.
    pub id: [u8; 4],
}

/// The key ID of `key` under `name` for signature type `kind`.
pub fn key_id(name: &str, kind: u8, key: &VerifyingKey) -> [u8; 4] {
    let mut h = Sha256::new();
    h.update(name.as_bytes());
    h.update(b"\n");
    h.update([kind]);
    h.update(key.as_bytes());
    let d = h.finalize();
    [d[0], d[1], d[2], d[3]]
}

/// Why text is not a verifier key of the type wanted ([`parse_vkey`]).
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[non_exhaustive]
pub enum VkeyError {
    /// Not three `+`-separated parts.
    #[error("{text:?} is not a verifier key (name+id+key)")]
    NotVkey {
        /// The text given.
        text: String,
    },
    /// The key name is empty or holds white space.
    #[error("{text:?}: a key name without spaces is needed")]
    Name {
        /// The text given.
        text: String,
    },
    /// The key part is not base64.
    #[error("{text:?}: the key is not base64")]
    Base64 {
        /// The text given.
        text: String,
        /// Why it does not decode.
        #[source]
        source: base64::DecodeError,
    },
    /// The key part decodes to nothing.
    #[error("{text:?}: an empty key")]
    Empty {
        /// The text given.
        text: String,
    },
    /// The key's type byte is not the one wanted.
    #[error(
        "{text:?}: key type 0x{found:02x}, where 0x{wanted:02x} (Ed25519{}) is needed",
        key_kind(*.wanted)
    )]
    KeyType {
        /// The text given.
        text: String,
        /// The type byte found.
        found: u8,
        /// The type byte wanted ([`LOG_KEY_TYPE`] or
        /// [`COSIGNATURE_KEY_TYPE`]).
        wanted: u8,
    },
    /// The key is not 32 bytes long.
    #[error("{text:?}: not a 32-byte Ed25519 key")]
    Length {
        /// The text given.
        text: String,
        /// The key's length in bytes.
        length: usize,
    },
    /// The 32 bytes are not an Ed25519 public key.
    #[error("{text:?}: not a valid Ed25519 key")]
    InvalidKey {
        /// The text given.
        text: String,
    },
    /// The key ID is not the one of the name and key.
    #[error("{text:?}: the key ID does not match the name and key")]
    KeyId {
        /// The text given.
        text: String,
    },
}

/// What a key type byte names, for messages.
fn key_kind(kind: u8) -> &'static str {
    if kind == COSIGNATURE_KEY_TYPE {
        " cosignature/v1"
    } else {
        " checkpoint"
    }
}

/// Parses a vkey (`name+hex key ID+base64(type || key)`) of type `kind`.
pub fn parse_vkey(text: &str, kind: u8) -> Result<NoteKey, VkeyError> {
    let given = || text.to_string();
    // The name holds no '+'; the base64 key may.
    let mut parts = text.splitn(3, '+');
    let (Some(name), Some(id), Some(key)) = (parts.next(), parts.next(), parts.next()) else {
        return Err(VkeyError::NotVkey { text: given() });
    };
    if name.is_empty() || name.contains(char::is_whitespace) {
        return Err(VkeyError::Name { text: given() });
    }
    let raw = STANDARD.decode(key).map_err(|source| VkeyError::Base64 {
        text: given(),
        source,
    })?;
    let (&ty, bytes) = raw
        .split_first()
        .ok_or_else(|| VkeyError::Empty { text: given() })?;
    if ty != kind {
        return Err(VkeyError::KeyType {
            text: given(),
            found: ty,
            wanted: kind,
        });
    }
    let bytes: [u8; 32] = bytes.try_into().map_err(|_| VkeyError::Length {
        text: given(),
        length: bytes.len(),
    })?;
    let key =
        VerifyingKey::from_bytes(&bytes).map_err(|_| VkeyError::InvalidKey { text: given() })?;
    let want = key_id(name, kind, &key);
    if id.len() != 8 || hex::decode(id).ok().as_deref() != Some(&want[..]) {
        return Err(VkeyError::KeyId { text: given() });
    }
    Ok(NoteKey {
        name: name.to_string(),
        key,
        id: want,
    })
}

/// A witness of a policy.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Witness {
    /// Its name in the policy.
    pub name: String,
    /// Its cosignature key.
    pub key: NoteKey,
    /// Its submission prefix (`POST <url>/add-checkpoint`), if given.
    pub url: Option<String>,
}

/// What counts towards a group or the quorum.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Member {
    None,
    Witness(usize),
    Group(usize),
}

#[derive(Debug, Clone, PartialEq, Eq)]
struct Group {
    name: String,
    threshold: usize,
    members: Vec<Member>,
}

/// A parsed policy.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Policy {
    /// The logs accepted (empty: whatever log the context names).
    pub logs: Vec<NoteKey>,
    /// The witnesses, in the policy's order.
    pub witnesses: Vec<Witness>,
    groups: Vec<Group>,
    quorum: Member,
}

impl Policy {
    /// Parses policy text.
    pub fn parse(text: &str) -> Result<Policy, PolicyError> {
        let mut logs: Vec<NoteKey> = Vec::new();
        let mut witnesses: Vec<Witness> = Vec::new();
        let mut groups: Vec<Group> = Vec::new();
        let mut quorum = None;
        for (i, raw) in text.split('\n').enumerate() {
            let line = i + 1;
            let bad = |reason: String| PolicyError { line, reason };
            if raw.bytes().any(|b| b < 0x20 && b != b'\t' || b == 0x7f) {
                return Err(bad("a control character".into()));
            }
            let words: Vec<&str> = raw.split([' ', '\t']).filter(|w| !w.is_empty()).collect();
            let Some(&first) = words.first() else {
                continue;
            };
            if first.starts_with('#') {
                continue;
            }
            if logs.len() + witnesses.len() + groups.len() >= MAX_ENTRIES {
                return Err(bad(format!("more than {MAX_ENTRIES} entries")));
            }
            let defined = |name: &str| {
                name == "none"
                    || witnesses.iter().any(|w| w.name == name)
                    || groups.iter().any(|g| g.name == name)
            };
            match (first, &words[1..]) {
                ("log", [vkey]) | ("log", [vkey, _]) => {
                    let key = parse_vkey(vkey, LOG_KEY_TYPE).map_err(|e| bad(e.to_string()))?;
                    if logs.iter().any(|l| l.key == key.key) {
                        return Err(bad("a log listed twice".into()));
                    }
                    logs.push(key);
                }
                ("witness", [name, vkey, rest @ ..]) if rest.len() <= 1 => {
                    if defined(name) {
                        return Err(bad(format!("the name {name:?} is already defined")));
                    }
                    let key =
                        parse_vkey(vkey, COSIGNATURE_KEY_TYPE).map_err(|e| bad(e.to_string()))?;
                    if witnesses.iter().any(|w| w.key.key == key.key) {
                        return Err(bad("a witness key listed twice".into()));
                    }
                    let url = rest.first().map(|u| u.trim_end_matches('/').to_string());
                    witnesses.push(Witness {
                        name: name.to_string(),
                        key,
                        url,
                    });
                }
                ("group", [name, k, members @ ..]) if !members.is_empty() => {
                    if defined(name) {
                        return Err(bad(format!("the name {name:?} is already defined")));
                    }
                    let mut list = Vec::new();
                    for m in members.iter() {
                        let member = resolve(m, &witnesses, &groups)
                            .filter(|m| *m != Member::None)
                            .ok_or_else(|| {
                                bad(format!("{m:?} is not a witness or group defined above"))
                            })?;
                        if list.contains(&member) {
                            return Err(bad(format!("{m:?} listed twice")));
                        }
                        list.push(member);
                    }
                    let n = list.len();
                    let threshold = match *k {
                        "all" => n,
                        "any" => 1,
                        k => k
                            .parse::<usize>()
                            .ok()
                            .filter(|t| (1..=n).contains(t) && (k == "1" || !k.starts_with('0')))
                            .ok_or_else(|| {
                                bad(format!("threshold {k:?} is not all, any or 1 to {n}"))
                            })?,
                    };
                    groups.push(Group {
                        name: name.to_string(),
                        threshold,
                        members: list,
                    });
                }
                ("quorum", [name]) => {
                    if quorum.is_some() {
                        return Err(bad("a second quorum line".into()));
                    }
                    quorum = Some(resolve(name, &witnesses, &groups).ok_or_else(|| {
                        bad(format!(
                            "{name:?} is not none, a witness or a group defined above"
                        ))
                    })?);
                }
                _ => {
                    return Err(bad(format!(
                        "not a log, witness, group or quorum line: {raw:?}"
                    )));
                }
            }
        }
        let quorum = quorum.ok_or(PolicyError {
            line: 0,
            reason: "no quorum line".into(),
        })?;
        Ok(Policy {
            logs,
            witnesses,
            groups,
            quorum,
        })
    }

    /// Whether witnesses `cosigned` (indices into [`Policy::witnesses`])
    /// reach the quorum.
    pub fn quorum_met(&self, cosigned: &[usize]) -> bool {
        self.met(self.quorum, cosigned)
    }

    /// Whether the quorum needs no cosignature at all (`quorum none`).
    pub fn needs_none(&self) -> bool {
        self.quorum == Member::None
    }

    fn met(&self, member: Member, cosigned: &[usize]) -> bool {
        match member {
            Member::None => true,
            Member::Witness(i) => cosigned.contains(&i),
            // Groups only name what was defined before them: no cycle.
            Member::Group(g) => {
                let group = &self.groups[g];
                group
                    .members
                    .iter()
                    .filter(|m| self.met(**m, cosigned))
                    .count()
                    >= group.threshold
            }
        }
    }

    /// Whether the policy accepts the log whose origin is `origin`, with
    /// key `key` (a policy that lists no log accepts the one the caller
    /// names).
    pub fn accepts_log(&self, origin: &str, key: &VerifyingKey) -> bool {
        self.logs.is_empty() || self.logs.iter().any(|l| l.name == origin && l.key == *key)
    }
}

fn resolve(name: &str, witnesses: &[Witness], groups: &[Group]) -> Option<Member> {
    if name == "none" {
        return Some(Member::None);
    }
    if let Some(i) = witnesses.iter().position(|w| w.name == name) {
        return Some(Member::Witness(i));
    }
    groups
        .iter()
        .position(|g| g.name == name)
        .map(Member::Group)
}

/// The verifier key of a witness's Ed25519 cosignature key under `name`.
pub fn witness_vkey(name: &str, key: &VerifyingKey) -> String {
    let mut raw = vec![COSIGNATURE_KEY_TYPE];
    raw.extend_from_slice(key.as_bytes());
    format!(
        "{name}+{}+{}",
        hex::encode(key_id(name, COSIGNATURE_KEY_TYPE, key)),
        STANDARD.encode(raw)
    )
}

#[cfg(test)]
mod tests {
    use super::*;
    use ed25519_dalek::SigningKey;

    fn vkey(name: &str, seed: u8) -> String {
        witness_vkey(name, &SigningKey::from_bytes(&[seed; 32]).verifying_key())
    }

    #[test]
    fn groups_and_quorums() {
        let text = format!(
            "# three witnesses, two needed\nwitness a {}\n  witness b {} https://b.example/w/\nwitness c {}\ngroup two 2 a b c\nquorum two\n",
            vkey("a.example", 1),
            vkey("b.example", 2),
            vkey("c.example", 3)
        );
        let p = Policy::parse(&text).unwrap();
        assert_eq!(p.witnesses[1].url.as_deref(), Some("https://b.example/w"));
        assert!(!p.quorum_met(&[0]));
        assert!(p.quorum_met(&[0, 2]));
        let none = Policy::parse("quorum none\n").unwrap();
        assert!(none.needs_none() && none.quorum_met(&[]));
    }

    #[test]
    fn bad_policies() {
        let w = vkey("a.example", 1);
        for (text, want) in [
            (format!("witness a {w}\n"), "no quorum"),
            (format!("quorum a\nwitness a {w}\n"), "not none"),
            (
                format!("witness a {w}\nwitness b {w}\nquorum a\n"),
                "listed twice",
            ),
            (
                format!("witness a {w}\ngroup g 2 a\nquorum g\n"),
                "threshold",
            ),
            (
                format!("witness a {w}\ngroup g 1 a a\nquorum g\n"),
                "listed twice",
            ),
            (
                format!(
                    "witness a {}\nquorum a\n",
                    modelseal_evidence::verifier_key(
                        "a.example",
                        &SigningKey::from_bytes(&[1; 32]).verifying_key()
                    )
                ),
                "key type 0x01",
            ),
            ("witness a x+00000000+BA==\nquorum a\n".into(), "key"),
            ("frobnicate\nquorum none\n".into(), "not a log"),
            (
                format!("witness a {w}\nquorum a\nquorum a\n"),
                "second quorum",
            ),
        ] {
            let err = Policy::parse(&text).unwrap_err().to_string();
            assert!(err.contains(want), "{text}: {err}");
        }
    }

    #[test]
    fn verifier_keys_are_refused_with_what_is_wrong() {
        let w = vkey("a.example", 1);
        let (name_id, key) = w.rsplit_once('+').unwrap();
        let log_key = modelseal_evidence::verifier_key(
            "a.example",
            &SigningKey::from_bytes(&[1; 32]).verifying_key(),
        );
        let short = format!(
            "{name_id}+{}",
            STANDARD.encode([COSIGNATURE_KEY_TYPE, 1, 2])
        );
        let other_id = format!("a.example+00000000+{key}");
        for (text, message) in [
            (
                "abc".to_string(),
                r#""abc" is not a verifier key (name+id+key)"#.to_string(),
            ),
            (
                "+00000000+BA==".into(),
                r#""+00000000+BA==": a key name without spaces is needed"#.into(),
            ),
            ("a+00+!".into(), r#""a+00+!": the key is not base64"#.into()),
            ("a+00+".into(), r#""a+00+": an empty key"#.into()),
            (
                log_key.clone(),
                format!(
                    "{log_key:?}: key type 0x01, where 0x04 (Ed25519 cosignature/v1) is needed"
                ),
            ),
            (
                short.clone(),
                format!("{short:?}: not a 32-byte Ed25519 key"),
            ),
            (
                other_id.clone(),
                format!("{other_id:?}: the key ID does not match the name and key"),
            ),
        ] {
            let err = parse_vkey(&text, COSIGNATURE_KEY_TYPE).unwrap_err();
            assert_eq!(err.to_string(), message);
        }
        assert!(matches!(
            parse_vkey(&log_key, COSIGNATURE_KEY_TYPE),
            Err(VkeyError::KeyType {
                found: LOG_KEY_TYPE,
                wanted: COSIGNATURE_KEY_TYPE,
                ..
            })
        ));
        assert!(matches!(
            parse_vkey(&short, COSIGNATURE_KEY_TYPE),
            Err(VkeyError::Length { length: 2, .. })
        ));
        assert_eq!(
            parse_vkey(&w, LOG_KEY_TYPE).unwrap_err().to_string(),
            format!("{w:?}: key type 0x04, where 0x01 (Ed25519 checkpoint) is needed")
        );
    }
}
