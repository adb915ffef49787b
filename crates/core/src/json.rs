//! Strict JSON for signed documents: no object may repeat a key.
//!
//! RFC 8259 leaves the meaning of a repeated key open: some parsers keep the
//! first value, most keep the last, some refuse. A signed payload with two
//! `payload` or two `sha256` members could then show one content to
//! modelseal and another to the tool that deploys the model, behind the same
//! signature. Every document whose signed bytes are compared or parsed
//! (DSSE statements, Sigstore bundles, BOMs, evidence records) is checked
//! here first or right after its typed parse.
//!
//! The check is one streaming pass with serde_json's deserializer and a
//! visitor: no value tree is built; the memory held is the key sets of the
//! objects open along the current path (bounded by [`MAX_DEPTH`]). Keys are
//! compared after unescaping, so `"a"` and `"\u0061"` are the same key.

use serde::de::{DeserializeSeed, Deserializer, MapAccess, SeqAccess, Visitor};
use std::collections::HashSet;
use std::fmt;

/// The prefix of the object keys serde_json gives a meaning of its own
/// (its raw-value and number tokens).
const RESERVED_KEY_PREFIX: &str = "$serde_json::private::";

/// Deepest nesting of arrays and objects accepted (serde_json itself stops
/// at 128).
pub const MAX_DEPTH: usize = 100;

/// Why bytes are not strict JSON.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[non_exhaustive]
pub enum StrictJsonError {
    /// An object holds the same key twice.
    #[error("duplicate JSON key {key:?} in the object at {path}")]
    DuplicateKey {
        /// The repeated key (unescaped).
        key: String,
        /// The JSON path of the object holding it (`$`, `$.a[0].b`).
        path: String,
    },
    /// An object key serde_json reserves for itself (`$serde_json::private::`
    /// and more): serde_json reads such an object as something else than
    /// what any other JSON reader sees.
    #[error("reserved JSON key {key:?} in the object at {path}")]
    ReservedKey {
        /// The key (unescaped).
        key: String,
        /// The JSON path of the object holding it.
        path: String,
    },
    /// Arrays and objects nest deeper than [`MAX_DEPTH`].
    #[error("JSON nested deeper than {limit} levels at {path}")]
    TooDeep {
        /// The limit.
        limit: usize,
        /// Where the limit was reached.
        path: String,
    },
    /// The bytes are not one JSON value (serde_json's reason).
    #[error("{0}")]
    Syntax(String),
    /// Strict JSON, but not of the expected shape (serde's reason).
    #[error("{0}")]
    Shape(String),
}

/// Parses `bytes` into `T` after [`check_unique_keys`]: the one way signed
/// JSON documents are read.
pub fn from_slice<T: serde::de::DeserializeOwned>(bytes: &[u8]) -> Result<T, StrictJsonError> {
    check_unique_keys(bytes)?;
    serde_json::from_slice(bytes).map_err(|e| StrictJsonError::Shape(e.to_string()))
}

/// As [`from_slice`], for types that borrow from `bytes` (a large string
/// member is then not copied).
pub fn from_slice_borrowed<'a, T: serde::Deserialize<'a>>(
    bytes: &'a [u8],
) -> Result<T, StrictJsonError> {
    check_unique_keys(bytes)?;
    serde_json::from_slice(bytes).map_err(|e| StrictJsonError::Shape(e.to_string()))
}

/// Checks that `bytes` hold exactly one JSON value in which no object
/// repeats a key, nested at most [`MAX_DEPTH`] deep.
pub fn check_unique_keys(bytes: &[u8]) -> Result<(), StrictJsonError> {
    let mut context = Context::default();
    let mut de = serde_json::Deserializer::from_slice(bytes);
    let outcome = Checker {
        context: &mut context,
        depth: 0,
    }
    .deserialize(&mut de)
    .and_then(|()| de.end());
    match (outcome, context.found) {
        (_, Some(found)) => Err(found),
        (Err(e), None) => Err(StrictJsonError::Syntax(e.to_string())),
        (Ok(()), None) => Ok(()),
    }
}

/// One value of any shape, skipped without being built, with the same
/// checks as [`check_unique_keys`] (no repeated key in any of its objects):
/// what typed parsers of signed documents use for members they do not
/// know, so that one pass both reads and checks a document.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct StrictIgnore;

impl<'de> serde::Deserialize<'de> for StrictIgnore {
    fn deserialize<D: Deserializer<'de>>(deserializer: D) -> Result<Self, D::Error> {
        let mut context = Context::default();
        Checker {
            context: &mut context,
            depth: 0,
        }
        .deserialize(deserializer)?;
        Ok(StrictIgnore)
    }
}

/// The keys of one object read so far. Every strict reader admits keys
/// through here (the whole-document check, the piecewise value builder,
/// the BOM stream and the statement reader), so that the rules are written
/// once: a key serde_json reserves, or one already seen, is refused.
///
/// Most objects have a few keys: those are compared in a short list, and
/// only an object with many keys pays for a hash set (so that a hostile
/// object of a million keys stays linear).
#[derive(Debug, Default)]
pub(crate) struct ObjectKeys {
    few: Vec<String>,
    many: Option<HashSet<String>>,
}

/// The most keys compared in a list before they move to a hash set.
const FEW_KEYS: usize = 16;

/// Why [`ObjectKeys::admit`] refused a key.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum KeyRefusal {
    /// A key serde_json gives a meaning of its own.
    Reserved,
    /// A key the object already has.
    Repeated,
}

impl ObjectKeys {
    /// Admits `key` (unescaped) to the object, or says why not.
    pub(crate) fn admit(&mut self, key: &str) -> Result<(), KeyRefusal> {
        if key.starts_with(RESERVED_KEY_PREFIX) {
            return Err(KeyRefusal::Reserved);
        }
        let fresh = match &mut self.many {
            Some(set) => set.insert(key.to_string()),
            None if self.few.iter().any(|k| k == key) => false,
            None if self.few.len() < FEW_KEYS => {
                self.few.push(key.to_string());
                true
            }
            None => {
                let mut set: HashSet<String> = self.few.drain(..).collect();
                let fresh = set.insert(key.to_string());
                self.many = Some(set);
                fresh
            }
        };
        if fresh {
            Ok(())
        } else {
            Err(KeyRefusal::Repeated)
        }
    }
}

/// One step of a JSON path.
enum Step {
    Key(String),
    Index(usize),
}

#[derive(Default)]
struct Context {
    path: Vec<Step>,
    found: Option<StrictJsonError>,
}

impl Context {
    fn path(&self) -> String {
        let mut out = String::from("$");
        for step in &self.path {
            match step {
                Step::Key(k)
                    if !k.is_empty()
                        && k.chars().all(|c| c.is_ascii_alphanumeric() || c == '_') =>
                {
                    out.push('.');
                    out.push_str(k);
                }
                // Other keys in bracket notation, quoted as JSON strings.
                Step::Key(k) => {
                    out.push('[');
                    out.push_str(&serde_json::to_string(k).unwrap_or_default());
                    out.push(']');
                }
                Step::Index(i) => out.push_str(&format!("[{i}]")),
            }
        }
        out
    }

    /// Records the first problem and returns the error that stops the walk.
    /// Admits `key` to the object at the current path, whose keys so far
    /// are `seen`: a key serde_json reserves, or one already seen, stops
    /// the read. Every strict reader (the whole-document check and the
    /// piecewise [`value::StrictPath`]) admits keys here.
    fn admit_key<E: serde::de::Error>(
        &mut self,
        seen: &mut ObjectKeys,
        key: &str,
    ) -> Result<(), E> {
        match seen.admit(key) {
            Ok(()) => Ok(()),
            Err(refusal) => {
                let path = self.path();
                let key = key.to_string();
                Err(self.fail(match refusal {
                    KeyRefusal::Reserved => StrictJsonError::ReservedKey { key, path },
                    KeyRefusal::Repeated => StrictJsonError::DuplicateKey { key, path },
                }))
            }
        }
    }

    fn fail<E: serde::de::Error>(&mut self, problem: StrictJsonError) -> E {
        let message = problem.to_string();
        self.found.get_or_insert(problem);
        E::custom(message)
    }
}

/// Walks one value; `depth` counts the arrays and objects around it.
struct Checker<'a> {
    context: &'a mut Context,
    depth: usize,
}

impl<'de> DeserializeSeed<'de> for Checker<'_> {
    type Value = ();

    fn deserialize<D: Deserializer<'de>>(self, deserializer: D) -> Result<(), D::Error> {
        deserializer.deserialize_any(self)
    }
}

impl Checker<'_> {
    fn enter<E: serde::de::Error>(&mut self) -> Result<usize, E> {
        if self.depth >= MAX_DEPTH {
            let path = self.context.path();
            return Err(self.context.fail(StrictJsonError::TooDeep {
                limit: MAX_DEPTH,
                path,
            }));
        }
        Ok(self.depth + 1)
    }
}

/// A map key, unescaped.
struct Key;

impl<'de> DeserializeSeed<'de> for Key {
    type Value = String;

    fn deserialize<D: Deserializer<'de>>(self, deserializer: D) -> Result<String, D::Error> {
        deserializer.deserialize_str(self)
    }
}

impl Visitor<'_> for Key {
    type Value = String;

    fn expecting(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("an object key")
    }

    fn visit_str<E: serde::de::Error>(self, v: &str) -> Result<String, E> {
        Ok(v.to_string())
    }

    fn visit_string<E: serde::de::Error>(self, v: String) -> Result<String, E> {
        Ok(v)
    }
}

impl<'de> Visitor<'de> for Checker<'_> {
    type Value = ();

    fn expecting(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("any JSON value")
    }

    fn visit_bool<E>(self, _: bool) -> Result<(), E> {
        Ok(())
    }

    fn visit_i64<E>(self, _: i64) -> Result<(), E> {
        Ok(())
    }

    fn visit_u64<E>(self, _: u64) -> Result<(), E> {
        Ok(())
    }

    fn visit_f64<E>(self, _: f64) -> Result<(), E> {
        Ok(())
    }

    fn visit_str<E>(self, _: &str) -> Result<(), E> {
        Ok(())
    }

    fn visit_unit<E>(self) -> Result<(), E> {
        Ok(())
    }

    fn visit_seq<A: SeqAccess<'de>>(mut self, mut seq: A) -> Result<(), A::Error> {
        let depth = self.enter()?;
        let mut index = 0;
        loop {
            self.context.path.push(Step::Index(index));
            let more = seq.next_element_seed(Checker {
                context: &mut *self.context,
                depth,
            })?;
            self.context.path.pop();
            if more.is_none() {
                return Ok(());
            }
            index += 1;
        }
    }

    fn visit_map<A: MapAccess<'de>>(mut self, mut map: A) -> Result<(), A::Error> {
        let depth = self.enter()?;
        let mut seen = ObjectKeys::default();
        while let Some(key) = map.next_key_seed(Key)? {
            self.context.admit_key(&mut seen, &key)?;
            self.context.path.push(Step::Key(key));
            map.next_value_seed(Checker {
                context: &mut *self.context,
                depth,
            })?;
            self.context.path.pop();
        }
        Ok(())
    }
}

pub(crate) mod value;

#[cfg(test)]
mod signed_document_tests;

#[cfg(test)]
mod tests {
    #[test]
    fn object_keys_refuse_a_repeat_before_and_after_they_move_to_a_set() {
        for count in [3, super::FEW_KEYS, super::FEW_KEYS + 1, 1000] {
            let mut keys = super::ObjectKeys::default();
            for i in 0..count {
                assert_eq!(keys.admit(&format!("k{i}")), Ok(()));
            }
            for i in [0, count / 2, count - 1] {
                let again = keys.admit(&format!("k{i}"));
                assert_eq!(again, Err(super::KeyRefusal::Repeated), "{count} {i}");
            }
            assert_eq!(
                keys.admit("$serde_json::private::Number"),
                Err(super::KeyRefusal::Reserved)
            );
        }
    }

    use super::*;

    fn duplicate(json: &str) -> (String, String) {
        match check_unique_keys(json.as_bytes()) {
            Err(StrictJsonError::DuplicateKey { key, path }) => (key, path),
            other => panic!("{json}: {other:?}"),
        }
    }

    /// serde_json (with `raw_value`) reads an object whose key is its
    /// private raw-value token as the JSON text of the string inside: a
    /// document could show one content to a generic reader and another to
    /// serde_json. Such keys are refused wherever they are.
    #[test]
    fn serde_json_private_keys_are_refused() {
        for json in [
            r#"{"$serde_json::private::RawValue": "{\"a\": 1}"}"#,
            r#"{"a": [{"$serde_json::private::Number": "1"}]}"#,
        ] {
            let value: serde_json::Value = serde_json::from_str(json).unwrap();
            let _ = value;
            match check_unique_keys(json.as_bytes()) {
                Err(StrictJsonError::ReservedKey { key, .. }) => {
                    assert!(key.starts_with("$serde_json::private::"))
                }
                other => panic!("{json}: {other:?}"),
            }
        }
        let raw = r#"{"$serde_json::private::RawValue": "{\"a\": 1}"}"#;
        let seen_by_serde: serde_json::Value = serde_json::from_str(raw).unwrap();
        assert_eq!(seen_by_serde, serde_json::json!({"a": 1}), "the hazard");
    }

    #[test]
    fn unique_keys_pass() {
        for json in [
            "{}",
            "[]",
            "null",
            " 1 ",
            r#"{"a":1,"b":{"a":2},"c":[{"a":1},{"a":2}]}"#,
            r#"{"A":1,"a":2}"#,
            r#"[{"x":1},{"x":1}]"#,
        ] {
            check_unique_keys(json.as_bytes()).unwrap();
        }
    }

    #[test]
    fn duplicates_are_named_with_their_path() {
        assert_eq!(duplicate(r#"{"a":1,"a":2}"#), ("a".into(), "$".into()));
        assert_eq!(
            duplicate(r#"{"a":{"b":[0,{"c":1,"c":1}]}}"#),
            ("c".into(), "$.a.b[1]".into())
        );
        // Escapes are decoded before comparing.
        assert_eq!(duplicate(r#"{"a":1,"\u0061":2}"#), ("a".into(), "$".into()));
        assert_eq!(
            duplicate(r#"{"x y":{"k":1,"k":2}}"#),
            ("k".into(), r#"$["x y"]"#.into())
        );
        // The same key later, after other keys and nested values.
        assert_eq!(
            duplicate(r#"{"k":{"z":1},"m":[1,2],"k":null}"#),
            ("k".into(), "$".into())
        );
    }

    #[test]
    fn non_json_and_trailing_content_are_syntax_errors() {
        for json in ["", "{", r#"{"a":1}x"#, r#"{"a":1}{}"#, "[1,]", "{'a':1}"] {
            assert!(
                matches!(
                    check_unique_keys(json.as_bytes()),
                    Err(StrictJsonError::Syntax(_))
                ),
                "{json:?}"
            );
        }
    }

    #[test]
    fn depth_is_bounded() {
        let ok = format!("{}{}", "[".repeat(MAX_DEPTH), "]".repeat(MAX_DEPTH));
        check_unique_keys(ok.as_bytes()).unwrap();
        let deep = format!("{}{}", "[".repeat(MAX_DEPTH + 1), "]".repeat(MAX_DEPTH + 1));
        assert!(matches!(
            check_unique_keys(deep.as_bytes()),
            Err(StrictJsonError::TooDeep {
                limit: MAX_DEPTH,
                ..
            })
        ));
        let objects = format!(
            "{}1{}",
            r#"{"a":"#.repeat(MAX_DEPTH + 1),
            "}".repeat(MAX_DEPTH + 1)
        );
        assert!(matches!(
            check_unique_keys(objects.as_bytes()),
            Err(StrictJsonError::TooDeep { .. })
        ));
        // Far beyond the limit: an error, not a stack overflow.
        let abyss = "[".repeat(1 << 20);
        assert!(check_unique_keys(abyss.as_bytes()).is_err());
    }
}
