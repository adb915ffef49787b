//! Reading a BOM (and the statement that signs it) in one streaming pass:
//! a digest of its JSON value, the model files it lists and the root digest
//! it states. No tree of the document is built: a BOM of a million files is
//! hundreds of megabytes of text and would be gigabytes as a tree.
//!
//! The digest is of the JSON value, not of its text: two documents have the
//! same digest exactly when serde_json would parse them to equal values
//! (object members in any order, any white space, any string escapes; `1`
//! and `1.0` differ, as they do for serde_json). So the signed predicate and
//! the BOM file, one compact and one pretty, are compared by digest.
//! Repeated keys are refused before ([`crate::json::check_unique_keys`]).

use crate::bom::MODEL_FILE_REF;
use serde::de::{DeserializeSeed, Deserializer, MapAccess, SeqAccess, Visitor};
use serde_json::Value;
use sha2::{Digest, Sha256};
use std::fmt;

/// The digest of a JSON value.
pub(crate) type ValueDigest = [u8; 32];

/// What verification needs of a BOM.
#[derive(Debug, Default)]
pub(crate) struct BomFacts {
    /// The digest of the whole document.
    pub digest: ValueDigest,
    /// Each model file the BOM lists (`model-file:` bom-refs): its name and
    /// its SHA-256 (lowercase), if it states one.
    pub files: Vec<(String, Option<String>)>,
    /// The model's SHA-256 the BOM states (`metadata.component.hashes`).
    pub root: Option<String>,
}

/// What verification needs of a BOM attestation statement.
#[derive(Debug)]
pub(crate) struct StatementFacts {
    /// `_type`, when present.
    pub statement_type: Option<Value>,
    /// `predicateType`, when present.
    pub predicate_type: Option<Value>,
    /// `subject`, when present.
    pub subject: Option<Value>,
    /// The digest of `predicate`, when present.
    pub predicate: Option<ValueDigest>,
}

/// Reads a BOM's facts from its JSON text (refused unless an object).
pub(crate) fn read_bom(bytes: &[u8]) -> Result<BomFacts, serde_json::Error> {
    let mut de = serde_json::Deserializer::from_slice(bytes);
    let facts = BomSeed { files: true }.deserialize(&mut de)?;
    de.end()?;
    Ok(facts)
}

/// Reads a BOM attestation statement's facts from its JSON text.
pub(crate) fn read_statement(bytes: &[u8]) -> Result<StatementFacts, serde_json::Error> {
    let mut de = serde_json::Deserializer::from_slice(bytes);
    let facts = de.deserialize_map(StatementVisitor)?;
    de.end()?;
    Ok(facts)
}

/// Digests one JSON value as it is read.
#[derive(Clone, Copy)]
struct DigestSeed;

impl<'de> DeserializeSeed<'de> for DigestSeed {
    type Value = ValueDigest;

    fn deserialize<D: Deserializer<'de>>(self, d: D) -> Result<ValueDigest, D::Error> {
        d.deserialize_any(DigestVisitor)
    }
}

fn scalar(tag: &[u8], bytes: &[u8]) -> ValueDigest {
    let mut h = Sha256::new();
    h.update(tag);
    h.update((bytes.len() as u64).to_le_bytes());
    h.update(bytes);
    h.finalize().into()
}

/// The digest of an array from its elements' digests, in order.
struct ArrayDigest {
    hasher: Sha256,
    len: u64,
}

impl ArrayDigest {
    fn new() -> Self {
        let mut hasher = Sha256::new();
        hasher.update(b"a");
        ArrayDigest { hasher, len: 0 }
    }

    fn push(&mut self, element: &ValueDigest) {
        self.hasher.update(element);
        self.len += 1;
    }

    fn finish(mut self) -> ValueDigest {
        self.hasher.update(b"]");
        self.hasher.update(self.len.to_le_bytes());
        self.hasher.finalize().into()
    }
}

/// The digest of an object from its members' keys and value digests (in
/// any order: they are sorted here).
fn object_digest(mut members: Vec<(String, ValueDigest)>) -> ValueDigest {
    members.sort_unstable_by(|a, b| a.0.cmp(&b.0));
    let mut h = Sha256::new();
    h.update(b"o");
    for (key, value) in &members {
        h.update((key.len() as u64).to_le_bytes());
        h.update(key.as_bytes());
        h.update(value);
    }
    h.update(b"}");
    h.update((members.len() as u64).to_le_bytes());
    h.finalize().into()
}

fn value_digest(value: &Value) -> ValueDigest {
    // A Value is a deserializer of itself, so it digests exactly as its
    // text would.
    DigestSeed
        .deserialize(value)
        .expect("a JSON value always digests")
}

struct DigestVisitor;

impl<'de> Visitor<'de> for DigestVisitor {
    type Value = ValueDigest;

    fn expecting(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("a JSON value")
    }

    fn visit_unit<E: serde::de::Error>(self) -> Result<ValueDigest, E> {
        Ok(scalar(b"z", b""))
    }

    fn visit_bool<E: serde::de::Error>(self, v: bool) -> Result<ValueDigest, E> {
        Ok(scalar(b"b", &[u8::from(v)]))
    }

    fn visit_u64<E: serde::de::Error>(self, v: u64) -> Result<ValueDigest, E> {
        Ok(scalar(b"u", &v.to_le_bytes()))
    }

    fn visit_i64<E: serde::de::Error>(self, v: i64) -> Result<ValueDigest, E> {
        // serde_json gives non-negative integers as u64.
        if let Ok(u) = u64::try_from(v) {
            return self.visit_u64(u);
        }
        Ok(scalar(b"i", &v.to_le_bytes()))
    }

    fn visit_f64<E: serde::de::Error>(self, v: f64) -> Result<ValueDigest, E> {
        // Equal floats digest alike (0.0 and -0.0 are equal).
        let v = if v == 0.0 { 0.0 } else { v };
        Ok(scalar(b"f", &v.to_bits().to_le_bytes()))
    }

    fn visit_str<E: serde::de::Error>(self, v: &str) -> Result<ValueDigest, E> {
        Ok(scalar(b"s", v.as_bytes()))
    }

    fn visit_seq<A: SeqAccess<'de>>(self, mut seq: A) -> Result<ValueDigest, A::Error> {
        let mut array = ArrayDigest::new();
        while let Some(element) = seq.next_element_seed(DigestSeed)? {
            array.push(&element);
        }
        Ok(array.finish())
    }

    fn visit_map<A: MapAccess<'de>>(self, mut map: A) -> Result<ValueDigest, A::Error> {
        let mut members = Vec::new();
        while let Some(key) = map.next_key::<String>()? {
            let value = map.next_value_seed(DigestSeed)?;
            members.push((key, value));
        }
        Ok(object_digest(members))
    }
}

/// Reads a BOM object: its digest, and (when `files`) the model files of
/// its `components`.
struct BomSeed {
    files: bool,
}

impl<'de> DeserializeSeed<'de> for BomSeed {
    type Value = BomFacts;

    fn deserialize<D: Deserializer<'de>>(self, d: D) -> Result<BomFacts, D::Error> {
        d.deserialize_map(self)
    }
}

impl<'de> Visitor<'de> for BomSeed {
    type Value = BomFacts;

    fn expecting(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("a CycloneDX BOM object")
    }

    fn visit_map<A: MapAccess<'de>>(self, mut map: A) -> Result<BomFacts, A::Error> {
        let mut facts = BomFacts::default();
        let mut members = Vec::new();
        while let Some(key) = map.next_key::<String>()? {
            let digest = match key.as_str() {
                "components" => map.next_value_seed(ComponentsSeed {
                    files: self.files.then_some(&mut facts.files),
                })?,
                "metadata" => {
                    let metadata: Value = map.next_value()?;
                    facts.root = sha256_of(&metadata["component"]["hashes"]);
                    value_digest(&metadata)
                }
                _ => map.next_value_seed(DigestSeed)?,
            };
            members.push((key, digest));
        }
        facts.digest = object_digest(members);
        Ok(facts)
    }
}

/// The SHA-256 content of a CycloneDX `hashes` list, lowercase.
fn sha256_of(hashes: &Value) -> Option<String> {
    hashes.as_array()?.iter().find(|h| h["alg"] == "SHA-256")?["content"]
        .as_str()
        .map(str::to_ascii_lowercase)
}

/// A list of model files: name and SHA-256.
type FileList = Vec<(String, Option<String>)>;

/// Digests `components`, one component at a time, noting model files
/// (when `files` is given: top-level components only).
struct ComponentsSeed<'a> {
    files: Option<&'a mut FileList>,
}

impl<'de> DeserializeSeed<'de> for ComponentsSeed<'_> {
    type Value = ValueDigest;

    fn deserialize<D: Deserializer<'de>>(self, d: D) -> Result<ValueDigest, D::Error> {
        d.deserialize_any(ComponentsVisitor { files: self.files })
    }
}

/// Delegates every JSON kind but the one a visitor cares about to
/// [`DigestVisitor`].
macro_rules! digest_other_kinds {
    ($value:ty, $wrap:expr) => {
        fn visit_unit<E: serde::de::Error>(self) -> Result<$value, E> {
            DigestVisitor.visit_unit().map($wrap)
        }

        fn visit_bool<E: serde::de::Error>(self, v: bool) -> Result<$value, E> {
            DigestVisitor.visit_bool(v).map($wrap)
        }

        fn visit_u64<E: serde::de::Error>(self, v: u64) -> Result<$value, E> {
            DigestVisitor.visit_u64(v).map($wrap)
        }

        fn visit_i64<E: serde::de::Error>(self, v: i64) -> Result<$value, E> {
            DigestVisitor.visit_i64(v).map($wrap)
        }

        fn visit_f64<E: serde::de::Error>(self, v: f64) -> Result<$value, E> {
            DigestVisitor.visit_f64(v).map($wrap)
        }

        fn visit_str<E: serde::de::Error>(self, v: &str) -> Result<$value, E> {
            DigestVisitor.visit_str(v).map($wrap)
        }
    };
}

struct ComponentsVisitor<'a> {
    files: Option<&'a mut FileList>,
}

impl<'de> Visitor<'de> for ComponentsVisitor<'_> {
    type Value = ValueDigest;

    fn expecting(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("a list of components")
    }

    fn visit_seq<A: SeqAccess<'de>>(mut self, mut seq: A) -> Result<ValueDigest, A::Error> {
        let mut array = ArrayDigest::new();
        while let Some(component) = seq.next_element_seed(ComponentSeed)? {
            if let Some(files) = self.files.as_deref_mut()
                && let Some(name) = component
                    .bom_ref
                    .as_deref()
                    .and_then(|r| r.strip_prefix(MODEL_FILE_REF))
            {
                files.push((name.to_string(), component.sha256));
            }
            array.push(&component.digest);
        }
        Ok(array.finish())
    }

    // Anything else than a list is digested as it is (and lists no file).
    fn visit_map<A: MapAccess<'de>>(self, map: A) -> Result<ValueDigest, A::Error> {
        DigestVisitor.visit_map(map)
    }

    digest_other_kinds!(ValueDigest, |d| d);
}

/// What a component is to verification: its digest, bom-ref and SHA-256.
struct ComponentFacts {
    digest: ValueDigest,
    bom_ref: Option<String>,
    sha256: Option<String>,
}

impl From<ValueDigest> for ComponentFacts {
    fn from(digest: ValueDigest) -> Self {
        ComponentFacts {
            digest,
            bom_ref: None,
            sha256: None,
        }
    }
}

/// One component, read member by member: its own `components` (a
/// dataset's files, as many as a dataset has) are streamed too.
struct ComponentSeed;

impl<'de> DeserializeSeed<'de> for ComponentSeed {
    type Value = ComponentFacts;

    fn deserialize<D: Deserializer<'de>>(self, d: D) -> Result<ComponentFacts, D::Error> {
        d.deserialize_any(self)
    }
}

impl<'de> Visitor<'de> for ComponentSeed {
    type Value = ComponentFacts;

    fn expecting(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("a component")
    }

    fn visit_map<A: MapAccess<'de>>(self, mut map: A) -> Result<ComponentFacts, A::Error> {
        let mut members = Vec::new();
        let (mut bom_ref, mut sha256) = (None, None);
        while let Some(key) = map.next_key::<String>()? {
            let digest = match key.as_str() {
                "components" => map.next_value_seed(ComponentsSeed { files: None })?,
                "bom-ref" => {
                    let value: Value = map.next_value()?;
                    bom_ref = value.as_str().map(str::to_string);
                    value_digest(&value)
                }
                "hashes" => {
                    let value: Value = map.next_value()?;
                    sha256 = sha256_of(&value);
                    value_digest(&value)
                }
                _ => map.next_value_seed(DigestSeed)?,
            };
            members.push((key, digest));
        }
        Ok(ComponentFacts {
            digest: object_digest(members),
            bom_ref,
            sha256,
        })
    }

    fn visit_seq<A: SeqAccess<'de>>(self, seq: A) -> Result<ComponentFacts, A::Error> {
        DigestVisitor.visit_seq(seq).map(ComponentFacts::from)
    }

    digest_other_kinds!(ComponentFacts, ComponentFacts::from);
}

struct StatementVisitor;

impl<'de> Visitor<'de> for StatementVisitor {
    type Value = StatementFacts;

    fn expecting(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("an in-toto statement object")
    }

    fn visit_map<A: MapAccess<'de>>(self, mut map: A) -> Result<StatementFacts, A::Error> {
        let mut facts = StatementFacts {
            statement_type: None,
            predicate_type: None,
            subject: None,
            predicate: None,
        };
        while let Some(key) = map.next_key::<String>()? {
            match key.as_str() {
                "_type" => facts.statement_type = Some(map.next_value()?),
                "predicateType" => facts.predicate_type = Some(map.next_value()?),
                "subject" => facts.subject = Some(map.next_value()?),
                "predicate" => {
                    let digest = map.next_value_seed(PredicateSeed)?;
                    facts.predicate = Some(digest);
                }
                _ => {
                    map.next_value_seed(DigestSeed)?;
                }
            }
        }
        Ok(facts)
    }
}

/// A predicate: a BOM's digest when it is an object, else its value's.
struct PredicateSeed;

impl<'de> DeserializeSeed<'de> for PredicateSeed {
    type Value = ValueDigest;

    fn deserialize<D: Deserializer<'de>>(self, d: D) -> Result<ValueDigest, D::Error> {
        d.deserialize_any(PredicateVisitor)
    }
}

struct PredicateVisitor;

impl<'de> Visitor<'de> for PredicateVisitor {
    type Value = ValueDigest;

    fn expecting(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("a predicate")
    }

    fn visit_map<A: MapAccess<'de>>(self, map: A) -> Result<ValueDigest, A::Error> {
        Ok(BomSeed { files: false }.visit_map(map)?.digest)
    }

    fn visit_seq<A: SeqAccess<'de>>(self, seq: A) -> Result<ValueDigest, A::Error> {
        DigestVisitor.visit_seq(seq)
    }

    digest_other_kinds!(ValueDigest, |d| d);
}

#[cfg(test)]
mod tests {
    use super::*;

    fn digest_text(text: &str) -> ValueDigest {
        let mut de = serde_json::Deserializer::from_str(text);
        DigestSeed.deserialize(&mut de).unwrap()
    }

    #[test]
    fn equal_values_digest_alike_and_unequal_ones_do_not() {
        let same = [
            (
                r#"{"a": 1, "b": [true, null, "x"]}"#,
                r#"{"b":[true,null,"x"],"a":1}"#,
            ),
            (r#""\u0061""#, r#""a""#),
            ("-0.0", "0.0"),
            ("[]", " [ ] "),
        ];
        for (a, b) in same {
            assert_eq!(digest_text(a), digest_text(b), "{a} vs {b}");
            let (va, vb): (Value, Value) = (
                serde_json::from_str(a).unwrap(),
                serde_json::from_str(b).unwrap(),
            );
            assert_eq!(va, vb);
        }
        let different = [
            ("1", "1.0"),
            ("1", "\"1\""),
            ("[1, 2]", "[2, 1]"),
            (r#"{"a": [1]}"#, r#"{"a": 1}"#),
            (r#"{"ab": ""}"#, r#"{"a": "b"}"#),
            ("[[]]", "[]"),
            ("[[], []]", "[[[]]]"),
            ("null", "false"),
            ("{}", "[]"),
            ("-1", "18446744073709551615"),
        ];
        for (a, b) in different {
            assert_ne!(digest_text(a), digest_text(b), "{a} vs {b}");
            let (va, vb): (Value, Value) = (
                serde_json::from_str(a).unwrap(),
                serde_json::from_str(b).unwrap(),
            );
            assert_ne!(va, vb);
        }
    }

    #[test]
    fn a_value_digests_as_its_text() {
        let text = r#"{"z": [1, -2, 3.5, "s", {"k": null}], "a": {"b": false}}"#;
        let value: Value = serde_json::from_str(text).unwrap();
        assert_eq!(value_digest(&value), digest_text(text));
    }

    #[test]
    fn a_bom_digests_as_its_value_and_lists_its_model_files() {
        let bom = r#"{
          "bomFormat": "CycloneDX",
          "metadata": {"component": {"hashes": [{"alg": "SHA-256", "content": "AB"}]}},
          "components": [
            {"bom-ref": "model-file:w.bin", "hashes": [{"alg": "SHA-256", "content": "CD"}]},
            {"bom-ref": "dataset:d", "name": "d", "components": [
              {"bom-ref": "model-file:nested.bin", "hashes": [{"alg": "SHA-256", "content": "EF"}]},
              {"bom-ref": "dataset-file:d/a", "components": [[1, {"x": 1.5}], "s", null]}
            ]},
            7,
            {"bom-ref": "model-file:x.txt"}
          ],
          "dependencies": [{"ref": "model-file:w.bin", "dependsOn": []}]
        }"#;
        let facts = read_bom(bom.as_bytes()).unwrap();
        assert_eq!(facts.digest, digest_text(bom));
        assert_eq!(facts.root.as_deref(), Some("ab"));
        assert_eq!(
            facts.files,
            [
                ("w.bin".to_string(), Some("cd".to_string())),
                ("x.txt".to_string(), None)
            ]
        );
        let compact: Value = serde_json::from_str(bom).unwrap();
        let statement = serde_json::json!({
            "_type": "t", "subject": [], "predicateType": "p", "predicate": compact,
        });
        let read = read_statement(statement.to_string().as_bytes()).unwrap();
        assert_eq!(read.predicate, Some(facts.digest));
        assert_eq!(read.statement_type, Some(Value::from("t")));
        assert!(read_bom(b"[1]").is_err());
        assert!(read_bom(b"{} {}").is_err());
    }
}
