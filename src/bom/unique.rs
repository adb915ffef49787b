//! `uniqueItems` over a stream: each item is reduced to the SHA-256 of a
//! canonical form in which two values have the same form exactly when JSON
//! Schema calls them equal (members in key order; numbers by their value,
//! so `1` and `1.0` are equal and `2^63 + 1` is not `2^63`).

use serde_json::{Number, Value};
use sha2::{Digest, Sha256};

/// The digest of `value`'s canonical form.
pub(super) fn digest(value: &Value) -> [u8; 32] {
    let mut hasher = Sha256::new();
    feed(value, &mut hasher);
    hasher.finalize().into()
}

/// Writes `value` in a length-prefixed form: no two different values
/// write the same bytes.
fn feed(value: &Value, h: &mut Sha256) {
    let len = |h: &mut Sha256, n: usize| h.update((n as u64).to_le_bytes());
    match value {
        Value::Null => h.update(b"n"),
        Value::Bool(b) => h.update(if *b { b"t" } else { b"f" }),
        Value::Number(n) => {
            let text = number(n);
            h.update(b"#");
            len(h, text.len());
            h.update(text.as_bytes());
        }
        Value::String(s) => {
            h.update(b"s");
            len(h, s.len());
            h.update(s.as_bytes());
        }
        Value::Array(items) => {
            h.update(b"[");
            len(h, items.len());
            for item in items {
                feed(item, h);
            }
        }
        Value::Object(map) => {
            // serde_json's map iterates in key order.
            h.update(b"{");
            len(h, map.len());
            for (key, item) in map {
                len(h, key.len());
                h.update(key.as_bytes());
                feed(item, h);
            }
        }
    }
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
