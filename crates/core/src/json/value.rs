//! Strict JSON read piece by piece: a document too large to hold as one
//! tree (a BOM of a million files) is read by a caller's own visitor, which
//! builds a [`Value`] for each piece it keeps (one array element, one
//! member) with the same rules and the same error paths as
//! [`check_unique_keys`](super::check_unique_keys) over the whole document.

use super::{Context, MAX_DEPTH, ObjectKeys, Step, StrictJsonError};
use serde::de::{DeserializeSeed, Deserializer, Error, MapAccess, SeqAccess, Visitor};
use serde_json::{Map, Number, Value};
use std::fmt;

/// Where a strict read of one document is: the path of the value being
/// read (its length is the number of arrays and objects around it) and the
/// first problem found.
#[derive(Default)]
pub(crate) struct StrictPath {
    context: Context,
}

impl StrictPath {
    /// A read at the top of a document.
    pub(crate) fn new() -> Self {
        Self::default()
    }

    /// Steps into the member `key` of the object at the current path.
    pub(crate) fn push_key(&mut self, key: &str) {
        self.context.path.push(Step::Key(key.to_string()));
    }

    /// Steps into the element `index` of the array at the current path.
    pub(crate) fn push_index(&mut self, index: usize) {
        self.context.path.push(Step::Index(index));
    }

    /// Steps back out.
    pub(crate) fn pop(&mut self) {
        self.context.path.pop();
    }

    /// Refuses to open an array or object at the current path when that
    /// would nest deeper than [`MAX_DEPTH`].
    pub(crate) fn enter<E: Error>(&mut self) -> Result<(), E> {
        if self.context.path.len() >= MAX_DEPTH {
            let path = self.context.path();
            return Err(self.context.fail(StrictJsonError::TooDeep {
                limit: MAX_DEPTH,
                path,
            }));
        }
        Ok(())
    }

    /// Admits `key` to the object at the current path, whose keys so far
    /// are `seen`, by the rules of the whole-document check: a reserved or
    /// repeated key is the error that stops the read.
    pub(crate) fn admit_key<E: Error>(
        &mut self,
        seen: &mut ObjectKeys,
        key: &str,
    ) -> Result<(), E> {
        self.context.admit_key(seen, key)
    }

    /// A seed that builds the value at the current path.
    pub(crate) fn value(&mut self) -> StrictValue<'_> {
        StrictValue { at: self }
    }

    /// The first problem found, if any: it, not the deserializer's error
    /// that it caused, is the reason to report.
    pub(crate) fn take_problem(&mut self) -> Option<StrictJsonError> {
        self.context.found.take()
    }
}

/// Builds one [`Value`] at a [`StrictPath`], refusing repeated keys and
/// nesting past [`MAX_DEPTH`]. Also a [`Visitor`], so that a caller's
/// visitor can hand it the values it does not treat itself.
pub(crate) struct StrictValue<'a> {
    at: &'a mut StrictPath,
}

impl<'de> DeserializeSeed<'de> for StrictValue<'_> {
    type Value = Value;

    fn deserialize<D: Deserializer<'de>>(self, deserializer: D) -> Result<Value, D::Error> {
        deserializer.deserialize_any(self)
    }
}

impl<'de> Visitor<'de> for StrictValue<'_> {
    type Value = Value;

    fn expecting(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("any JSON value")
    }

    fn visit_bool<E>(self, v: bool) -> Result<Value, E> {
        Ok(Value::Bool(v))
    }

    fn visit_i64<E>(self, v: i64) -> Result<Value, E> {
        Ok(Value::Number(v.into()))
    }

    fn visit_u64<E>(self, v: u64) -> Result<Value, E> {
        Ok(Value::Number(v.into()))
    }

    fn visit_f64<E>(self, v: f64) -> Result<Value, E> {
        // serde_json never yields a non-finite number.
        Ok(Number::from_f64(v).map_or(Value::Null, Value::Number))
    }

    fn visit_str<E>(self, v: &str) -> Result<Value, E> {
        Ok(Value::String(v.to_string()))
    }

    fn visit_string<E>(self, v: String) -> Result<Value, E> {
        Ok(Value::String(v))
    }

    fn visit_unit<E>(self) -> Result<Value, E> {
        Ok(Value::Null)
    }

    fn visit_seq<A: SeqAccess<'de>>(self, mut seq: A) -> Result<Value, A::Error> {
        self.at.enter()?;
        let mut items = Vec::new();
        loop {
            self.at.push_index(items.len());
            let item = seq.next_element_seed(self.at.value());
            self.at.pop();
            match item? {
                Some(item) => items.push(item),
                None => return Ok(Value::Array(items)),
            }
        }
    }

    fn visit_map<A: MapAccess<'de>>(self, mut map: A) -> Result<Value, A::Error> {
        self.at.enter()?;
        let mut members = Map::new();
        let mut seen = ObjectKeys::default();
        while let Some(key) = map.next_key::<String>()? {
            self.at.admit_key(&mut seen, &key)?;
            self.at.push_key(&key);
            let value = map.next_value_seed(self.at.value());
            self.at.pop();
            members.insert(key, value?);
        }
        Ok(Value::Object(members))
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::json::check_unique_keys;

    /// The whole document read as one strict value.
    fn read(json: &str) -> Result<Value, StrictJsonError> {
        let mut at = StrictPath::new();
        let mut de = serde_json::Deserializer::from_str(json);
        let value = at
            .value()
            .deserialize(&mut de)
            .and_then(|v| de.end().map(|()| v));
        match (value, at.take_problem()) {
            (_, Some(problem)) => Err(problem),
            (Err(e), None) => Err(StrictJsonError::Syntax(e.to_string())),
            (Ok(v), None) => Ok(v),
        }
    }

    #[test]
    fn values_and_problems_match_the_whole_document_check() {
        let deep = format!("{}{}", "[".repeat(MAX_DEPTH + 1), "]".repeat(MAX_DEPTH + 1));
        let abyss = "[".repeat(1 << 16);
        for json in [
            r#"{"a":[1,-2,3.5,"x",null,true,{"b":{}}]}"#,
            r#"{"a":1,"a":2}"#,
            r#"{"a":{"b":[0,{"c":1,"\u0063":1}]}}"#,
            r#"{"x y":{"k":1,"k":2}}"#,
            r#"{"a":[{"$serde_json::private::RawValue":"1"}]}"#,
            deep.as_str(),
            abyss.as_str(),
        ] {
            let strict = read(json);
            match check_unique_keys(json.as_bytes()) {
                Ok(()) => {
                    let plain: Value = serde_json::from_str(json).unwrap();
                    assert_eq!(strict, Ok(plain), "{json}");
                }
                Err(StrictJsonError::Syntax(_)) => assert!(strict.is_err(), "{json}"),
                Err(problem) => assert_eq!(strict, Err(problem), "{json}"),
            }
        }
    }
}
