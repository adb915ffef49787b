//! `uniqueItems` over a stream: each item is reduced to the SHA-256 of a
//! canonical form in which two values have the same form exactly when JSON
//! Schema calls them equal (members in key order; numbers by their value,
//! so `1` and `1.0` are equal and `2^63 + 1` is not `2^63`).

use serde_json::{Map, Number, Value};
use sha2::{Digest, Sha256};

/// The digest of `value`'s canonical form: a scalar's tagged text; an
/// array's items' digests in order; an object's members in key order, each
/// as the digests of its key and its value. Every part has a fixed size or
/// a tag, so no two different values share a form, and an array read item
/// by item ([`ArrayDigest`]) or an object some of whose members were
/// ([`object_digest`]) gets the digest it would have whole.
pub(super) fn digest(value: &Value) -> [u8; 32] {
    match value {
        Value::Null => tagged(b"n", b""),
        Value::Bool(b) => tagged(if *b { b"t" } else { b"f" }, b""),
        Value::Number(n) => tagged(b"#", number(n).as_bytes()),
        Value::String(s) => tagged(b"s", s.as_bytes()),
        Value::Array(items) => {
            let mut array = ArrayDigest::new();
            for item in items {
                array.push(&digest(item));
            }
            array.finish()
        }
        Value::Object(map) => object_digest(map, &[]),
    }
}

fn tagged(tag: &[u8], text: &[u8]) -> [u8; 32] {
    let mut h = Sha256::new();
    h.update(tag);
    h.update(text);
    h.finalize().into()
}

/// The digest of an array fed one item digest at a time.
pub(super) struct ArrayDigest(Sha256);

impl ArrayDigest {
    pub(super) fn new() -> Self {
        let mut h = Sha256::new();
        h.update(b"[");
        ArrayDigest(h)
    }

    pub(super) fn push(&mut self, item: &[u8; 32]) {
        self.0.update(item);
    }

    pub(super) fn finish(self) -> [u8; 32] {
        self.0.finalize().into()
    }
}

/// The digest of the object `map`, with the members named in `replaced`
/// taken as having the given digests (arrays read item by item).
pub(super) fn object_digest(map: &Map<String, Value>, replaced: &[(&str, [u8; 32])]) -> [u8; 32] {
    let mut h = Sha256::new();
    h.update(b"{");
    // serde_json's map iterates in key order.
    for (key, item) in map {
        h.update(tagged(b"k", key.as_bytes()));
        match replaced.iter().find(|(k, _)| k == key) {
            Some((_, d)) => h.update(d),
            None => h.update(digest(item)),
        }
    }
    h.finalize().into()
}

/// A number's value as text: integers (also those written as `1.0` or
/// `1e3`) in decimal, exactly; other numbers by their bits.
fn number(n: &Number) -> String {
    if let Some(u) = n.as_u64() {
        return u.to_string();
    }
    if let Some(i) = n.as_i64() {
        return i.to_string();
    }
    let f = n.as_f64().unwrap_or(f64::NAN);
    // -2^63 <= f < 2^64: as i128, exactly.
    let (low, high) = (-(2f64.powi(63)), 2f64.powi(64));
    if f.fract() == 0.0 && (low..high).contains(&f) {
        return (f as i128).to_string();
    }
    format!("f{:016x}", f.to_bits())
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    fn same(a: &str, b: &str) -> bool {
        let a: Value = serde_json::from_str(a).unwrap();
        let b: Value = serde_json::from_str(b).unwrap();
        let jsonschema_says = jsonschema::validator_for(&json!({"uniqueItems": true}))
            .unwrap()
            .is_valid(&json!([a.clone(), b.clone()]));
        assert_eq!(digest(&a) == digest(&b), !jsonschema_says, "{a} {b}");
        digest(&a) == digest(&b)
    }

    #[test]
    fn equal_exactly_when_json_schema_says_so() {
        assert!(same("1", "1.0"));
        assert!(same("1000", "1e3"));
        assert!(same("-0.0", "0"));
        assert!(same(
            "[1, {\"a\": 2.0, \"b\": null}]",
            "[1.0, {\"b\": null, \"a\": 2}]"
        ));
        assert!(same("18446744073709551615", "18446744073709551615"));
        assert!(!same("9223372036854775809", "9223372036854775808.0"));
        assert!(!same("0.1", "0.2"));
        assert!(!same("1e300", "1e299"));
        assert!(!same("\"1\"", "1"));
        assert!(!same("[\"ab\", \"c\"]", "[\"a\", \"bc\"]"));
        assert!(!same("{\"a\": \"b\"}", "{\"ab\": \"\"}"));
        assert!(!same("[[]]", "[[], []]"));
        assert!(!same("null", "false"));
        assert!(!same("{}", "[]"));
    }
}
