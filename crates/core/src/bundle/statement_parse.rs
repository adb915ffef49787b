//! Reading a signed statement in one pass, straight into a compact
//! manifest: no JSON tree and no object per resource, so a statement of
//! millions of resources costs about what its names and digests do.
//!
//! The pass is lenient about shapes (a member of the wrong type is noted
//! as a problem and skipped) and strict about JSON: a repeated key in any
//! object stops it. Problems are kept and judged once the whole statement
//! is read, in the order the checks have always been made.

use crate::digest::Resources;
use crate::json::{KeyRefusal, ObjectKeys, StrictIgnore, StrictJsonError};
use serde::de::{DeserializeSeed, Deserializer, MapAccess, SeqAccess, Visitor};
use serde_json::value::RawValue;
use std::borrow::Cow;
use std::fmt;

/// What one pass over a statement found.
#[derive(Default)]
pub(super) struct Found {
    pub statement_type: Option<String>,
    pub predicate_type: Option<String>,
    /// The `subject` member, as text (parsed once the type is known).
    pub subject: Option<Box<RawValue>>,
    pub predicate: Option<PredicateFound>,
}

/// What the predicate held, read as an OMS v1.0 predicate.
#[derive(Default)]
pub(super) struct PredicateFound {
    /// Why it is not an OMS predicate, when it is not.
    pub problem: Option<String>,
    pub resources: Option<Resources>,
    /// The first resource whose digest is not hex.
    pub not_hex: Option<String>,
    pub serialization: Option<Box<RawValue>>,
}

/// Reads `payload` in one pass.
pub(super) fn read(payload: &[u8]) -> Result<Found, StrictJsonError> {
    let mut de = serde_json::Deserializer::from_slice(payload);
    let found = StatementSeed
        .deserialize(&mut de)
        .and_then(|f| de.end().map(|()| f));
    found.map_err(|e| match crate::json::check_unique_keys(payload) {
        // A repeated key is named with its full path.
        Err(strict) => strict,
        Ok(()) => StrictJsonError::Shape(e.to_string()),
    })
}

/// Keys seen in one object, admitted by the strict reader's rules: a
/// repeated or reserved key stops the pass (and [`read`] then names it
/// with its full path).
#[derive(Default)]
struct Seen(ObjectKeys);

impl Seen {
    fn first<E: serde::de::Error>(&mut self, key: &str) -> Result<(), E> {
        self.0.admit(key).map_err(|refusal| {
            E::custom(match refusal {
                KeyRefusal::Repeated => format!("duplicate JSON key {key:?}"),
                KeyRefusal::Reserved => format!("reserved JSON key {key:?}"),
            })
        })
    }
}

/// An object key, borrowed when it needs no unescaping.
struct Key;

impl<'de> DeserializeSeed<'de> for Key {
    type Value = Cow<'de, str>;

    fn deserialize<D: Deserializer<'de>>(self, d: D) -> Result<Self::Value, D::Error> {
        d.deserialize_str(Text)
    }
}

/// A string, borrowed when it needs no unescaping.
struct Text;

impl<'de> Visitor<'de> for Text {
    type Value = Cow<'de, str>;

    fn expecting(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("a string")
    }

    fn visit_borrowed_str<E: serde::de::Error>(self, v: &'de str) -> Result<Self::Value, E> {
        Ok(Cow::Borrowed(v))
    }

    fn visit_str<E: serde::de::Error>(self, v: &str) -> Result<Self::Value, E> {
        Ok(Cow::Owned(v.to_string()))
    }

    fn visit_string<E: serde::de::Error>(self, v: String) -> Result<Self::Value, E> {
        Ok(Cow::Owned(v))
    }
}

/// A member expected to be a string: `None` (and the value skipped,
/// strictly) when it is anything else.
struct MaybeText;

impl<'de> DeserializeSeed<'de> for MaybeText {
    type Value = Option<Cow<'de, str>>;

    fn deserialize<D: Deserializer<'de>>(self, d: D) -> Result<Self::Value, D::Error> {
        d.deserialize_any(MaybeTextVisitor)
    }
}

struct MaybeTextVisitor;

impl<'de> Visitor<'de> for MaybeTextVisitor {
    type Value = Option<Cow<'de, str>>;

    fn expecting(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("any JSON value")
    }

    fn visit_borrowed_str<E: serde::de::Error>(self, v: &'de str) -> Result<Self::Value, E> {
        Ok(Some(Cow::Borrowed(v)))
    }

    fn visit_str<E: serde::de::Error>(self, v: &str) -> Result<Self::Value, E> {
        Ok(Some(Cow::Owned(v.to_string())))
    }

    fn visit_string<E: serde::de::Error>(self, v: String) -> Result<Self::Value, E> {
        Ok(Some(Cow::Owned(v)))
    }

    fn visit_bool<E: serde::de::Error>(self, _: bool) -> Result<Self::Value, E> {
        Ok(None)
    }

    fn visit_i64<E: serde::de::Error>(self, _: i64) -> Result<Self::Value, E> {
        Ok(None)
    }

    fn visit_u64<E: serde::de::Error>(self, _: u64) -> Result<Self::Value, E> {
        Ok(None)
    }

    fn visit_f64<E: serde::de::Error>(self, _: f64) -> Result<Self::Value, E> {
        Ok(None)
    }

    fn visit_unit<E: serde::de::Error>(self) -> Result<Self::Value, E> {
        Ok(None)
    }

    fn visit_seq<A: SeqAccess<'de>>(self, mut seq: A) -> Result<Self::Value, A::Error> {
        while seq.next_element::<StrictIgnore>()?.is_some() {}
        Ok(None)
    }

    fn visit_map<A: MapAccess<'de>>(self, map: A) -> Result<Self::Value, A::Error> {
        skip_map(map)?;
        Ok(None)
    }
}

/// Skips the rest of an object, refusing repeated keys.
fn skip_map<'de, A: MapAccess<'de>>(mut map: A) -> Result<(), A::Error> {
    let mut seen = Seen::default();
    while let Some(key) = map.next_key_seed(Key)? {
        seen.first(&key)?;
        map.next_value::<StrictIgnore>()?;
    }
    Ok(())
}

struct StatementSeed;

impl<'de> DeserializeSeed<'de> for StatementSeed {
    type Value = Found;

    fn deserialize<D: Deserializer<'de>>(self, d: D) -> Result<Found, D::Error> {
        d.deserialize_map(StatementVisitor)
    }
}

struct StatementVisitor;

impl<'de> Visitor<'de> for StatementVisitor {
    type Value = Found;

    fn expecting(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("an in-toto statement object")
    }

    fn visit_map<A: MapAccess<'de>>(self, mut map: A) -> Result<Found, A::Error> {
        let mut found = Found::default();
        let mut seen = Seen::default();
        while let Some(key) = map.next_key_seed(Key)? {
            seen.first(&key)?;
            match key.as_ref() {
                "_type" => found.statement_type = Some(map.next_value()?),
                "predicateType" => found.predicate_type = Some(map.next_value()?),
                "subject" => {
                    let raw: Box<RawValue> = map.next_value()?;
                    crate::json::check_unique_keys(raw.get().as_bytes())
                        .map_err(serde::de::Error::custom)?;
                    found.subject = Some(raw);
                }
                "predicate" => found.predicate = Some(map.next_value_seed(PredicateSeed)?),
                _ => {
                    map.next_value::<StrictIgnore>()?;
                }
            }
        }
        Ok(found)
    }
}

struct PredicateSeed;

impl<'de> DeserializeSeed<'de> for PredicateSeed {
    type Value = PredicateFound;

    fn deserialize<D: Deserializer<'de>>(self, d: D) -> Result<PredicateFound, D::Error> {
        d.deserialize_any(PredicateVisitor)
    }
}

struct PredicateVisitor;

impl PredicateVisitor {
    fn not_an_object<E>(what: &str) -> Result<PredicateFound, E> {
        Ok(PredicateFound {
            problem: Some(format!("the predicate is {what}, not an object")),
            ..PredicateFound::default()
        })
    }
}

impl<'de> Visitor<'de> for PredicateVisitor {
    type Value = PredicateFound;

    fn expecting(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("a predicate")
    }

    fn visit_bool<E: serde::de::Error>(self, _: bool) -> Result<PredicateFound, E> {
        Self::not_an_object("a boolean")
    }

    fn visit_i64<E: serde::de::Error>(self, _: i64) -> Result<PredicateFound, E> {
        Self::not_an_object("a number")
    }

    fn visit_u64<E: serde::de::Error>(self, _: u64) -> Result<PredicateFound, E> {
        Self::not_an_object("a number")
    }

    fn visit_f64<E: serde::de::Error>(self, _: f64) -> Result<PredicateFound, E> {
        Self::not_an_object("a number")
    }

    fn visit_str<E: serde::de::Error>(self, _: &str) -> Result<PredicateFound, E> {
        Self::not_an_object("a string")
    }

    fn visit_unit<E: serde::de::Error>(self) -> Result<PredicateFound, E> {
        Self::not_an_object("null")
    }

    fn visit_seq<A: SeqAccess<'de>>(self, mut seq: A) -> Result<PredicateFound, A::Error> {
        while seq.next_element::<StrictIgnore>()?.is_some() {}
        Self::not_an_object("a list")
    }

    fn visit_map<A: MapAccess<'de>>(self, mut map: A) -> Result<PredicateFound, A::Error> {
        let mut found = PredicateFound::default();
        let mut seen = Seen::default();
        while let Some(key) = map.next_key_seed(Key)? {
            seen.first(&key)?;
            match key.as_ref() {
                "resources" => {
                    let mut state = ResourcesState::default();
                    map.next_value_seed(ResourcesSeed(&mut state))?;
                    if let Some(problem) = state.problem {
                        found.problem.get_or_insert(problem);
                    }
                    found.not_hex = state.not_hex;
                    found.resources = Some(state.resources);
                }
                "serialization" => {
                    let raw: Box<RawValue> = map.next_value()?;
                    crate::json::check_unique_keys(raw.get().as_bytes())
                        .map_err(serde::de::Error::custom)?;
                    found.serialization = Some(raw);
                }
                _ => {
                    map.next_value::<StrictIgnore>()?;
                }
            }
        }
        Ok(found)
    }
}

#[derive(Default)]
struct ResourcesState {
    resources: Resources,
    problem: Option<String>,
    not_hex: Option<String>,
    index: usize,
}

struct ResourcesSeed<'s>(&'s mut ResourcesState);

impl<'de> DeserializeSeed<'de> for ResourcesSeed<'_> {
    type Value = ();

    fn deserialize<D: Deserializer<'de>>(self, d: D) -> Result<(), D::Error> {
        d.deserialize_any(self)
    }
}

impl<'de> Visitor<'de> for ResourcesSeed<'_> {
    type Value = ();

    fn expecting(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("a list of resources")
    }

    fn visit_seq<A: SeqAccess<'de>>(self, mut seq: A) -> Result<(), A::Error> {
        while seq.next_element_seed(ResourceSeed(&mut *self.0))?.is_some() {
            self.0.index += 1;
        }
        Ok(())
    }

    fn visit_map<A: MapAccess<'de>>(self, map: A) -> Result<(), A::Error> {
        skip_map(map)?;
        self.0
            .problem
            .get_or_insert("resources is not a list".into());
        Ok(())
    }

    fn visit_bool<E: serde::de::Error>(self, _: bool) -> Result<(), E> {
        self.0
            .problem
            .get_or_insert("resources is not a list".into());
        Ok(())
    }

    fn visit_i64<E: serde::de::Error>(self, _: i64) -> Result<(), E> {
        self.visit_bool(false)
    }

    fn visit_u64<E: serde::de::Error>(self, _: u64) -> Result<(), E> {
        self.visit_bool(false)
    }

    fn visit_f64<E: serde::de::Error>(self, _: f64) -> Result<(), E> {
        self.visit_bool(false)
    }

    fn visit_str<E: serde::de::Error>(self, _: &str) -> Result<(), E> {
        self.visit_bool(false)
    }

    fn visit_unit<E: serde::de::Error>(self) -> Result<(), E> {
        self.visit_bool(false)
    }
}

struct ResourceSeed<'s>(&'s mut ResourcesState);

impl<'de> DeserializeSeed<'de> for ResourceSeed<'_> {
    type Value = ();

    fn deserialize<D: Deserializer<'de>>(self, d: D) -> Result<(), D::Error> {
        d.deserialize_any(self)
    }
}

impl ResourceSeed<'_> {
    fn malformed(self) {
        let i = self.0.index;
        self.0.problem.get_or_insert(format!(
            "resources[{i}] is not an object with string name, digest and algorithm"
        ));
    }
}

impl<'de> Visitor<'de> for ResourceSeed<'_> {
    type Value = ();

    fn expecting(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("a resource descriptor")
    }

    fn visit_map<A: MapAccess<'de>>(self, mut map: A) -> Result<(), A::Error> {
        let (mut name, mut digest, mut algorithm) = (None, None, None);
        let mut shapes_ok = true;
        let mut seen = Seen::default();
        while let Some(key) = map.next_key_seed(Key)? {
            seen.first(&key)?;
            let slot = match key.as_ref() {
                "name" => &mut name,
                "digest" => &mut digest,
                "algorithm" => &mut algorithm,
                _ => {
                    map.next_value::<StrictIgnore>()?;
                    continue;
                }
            };
            *slot = map.next_value_seed(MaybeText)?;
            shapes_ok &= slot.is_some();
        }
        match (name, digest, algorithm) {
            (Some(name), Some(digest), Some(algorithm)) if shapes_ok => {
                let pushed = self.0.resources.push_hex(&name, &digest, &algorithm);
                if pushed.is_err() && self.0.not_hex.is_none() {
                    self.0.not_hex = Some(name.into_owned());
                }
            }
            _ => self.malformed(),
        }
        Ok(())
    }

    fn visit_seq<A: SeqAccess<'de>>(self, mut seq: A) -> Result<(), A::Error> {
        while seq.next_element::<StrictIgnore>()?.is_some() {}
        self.malformed();
        Ok(())
    }

    fn visit_bool<E: serde::de::Error>(self, _: bool) -> Result<(), E> {
        self.malformed();
        Ok(())
    }

    fn visit_i64<E: serde::de::Error>(self, _: i64) -> Result<(), E> {
        self.visit_bool(false)
    }

    fn visit_u64<E: serde::de::Error>(self, _: u64) -> Result<(), E> {
        self.visit_bool(false)
    }

    fn visit_f64<E: serde::de::Error>(self, _: f64) -> Result<(), E> {
        self.visit_bool(false)
    }

    fn visit_str<E: serde::de::Error>(self, _: &str) -> Result<(), E> {
        self.visit_bool(false)
    }

    fn visit_unit<E: serde::de::Error>(self) -> Result<(), E> {
        self.visit_bool(false)
    }
}
