//! RFC 7512 `pkcs11:` URIs: the token (`token=`), the key object
//! (`object=` label and/or `id=` bytes, `type=`), and in the query the
//! module (`module-path=`) and where the PIN comes from (`pin-source=` a
//! file, or `pin-value=`). Attributes are percent-decoded; one given twice,
//! or one this reader does not know, is refused.

use std::path::PathBuf;
use zeroize::Zeroizing;

/// A parsed `pkcs11:` URI.
#[derive(Clone, Default, PartialEq, Eq)]
pub struct Pkcs11Uri {
    /// The token's label.
    pub token: Option<String>,
    /// The key object's label (`CKA_LABEL`).
    pub object: Option<String>,
    /// The key object's id (`CKA_ID`).
    pub id: Option<Vec<u8>>,
    /// The object type (`private`, `public`, ...).
    pub kind: Option<String>,
    /// The PKCS#11 module to load.
    pub module_path: Option<PathBuf>,
    /// A file holding the PIN.
    pub pin_source: Option<PathBuf>,
    /// The PIN itself (kept out of every message).
    pub pin_value: Option<Zeroizing<String>>,
}

impl std::fmt::Debug for Pkcs11Uri {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "Pkcs11Uri({self})")
    }
}

/// Whether `text` is a `pkcs11:` URI rather than a file.
pub fn is_pkcs11_uri(text: &str) -> bool {
    text.get(..7)
        .is_some_and(|p| p.eq_ignore_ascii_case("pkcs11:"))
}

/// Why a `pkcs11:` URI is refused ([`Pkcs11Uri::parse`]). No message
/// repeats anything of the query, where a PIN may be.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[non_exhaustive]
pub enum UriError {
    /// It does not start with `pkcs11:`.
    #[error("not a pkcs11: URI")]
    NotPkcs11,
    /// A path attribute without `=`.
    #[error("{attribute:?} is not name=value")]
    PathNotNameValue {
        /// The attribute as written.
        attribute: String,
    },
    /// A path attribute given twice.
    #[error("{name} given twice")]
    PathTwice {
        /// The attribute's name.
        name: String,
    },
    /// A path attribute this reader does not know.
    #[error("the path attribute {name:?} is not supported (token, object, id, type)")]
    PathUnsupported {
        /// The attribute's name.
        name: String,
    },
    /// A query attribute without `=`.
    #[error("a query attribute is not name=value")]
    QueryNotNameValue,
    /// A query attribute given twice.
    #[error("a query attribute given twice")]
    QueryTwice,
    /// A query attribute this reader does not know.
    #[error("a query attribute other than module-path, pin-source, pin-value")]
    QueryUnsupported,
    /// A value of `token`, `object`, `id`, `type` or `pin-source` does
    /// not decode.
    #[error(transparent)]
    Value(#[from] UriValueError),
    /// The `module-path` does not decode.
    #[error("module-path: {0}")]
    ModulePath(#[source] UriValueError),
    /// The `pin-value` does not decode (how is not said).
    #[error("pin-value: not readable")]
    PinValue(#[source] UriValueError),
    /// `pin-source` names a program (`|...`), which is not run.
    #[error("a pin-source program is not supported (give a file)")]
    PinProgram,
    /// Both `pin-source` and `pin-value`.
    #[error("give pin-source or pin-value, not both")]
    TwoPins,
    /// `object=` with an empty label.
    #[error("object= names no label")]
    EmptyObject,
    /// Neither `object` nor `id`.
    #[error("name the key: object=LABEL and/or id=%XX...")]
    NoKeyNamed,
    /// A `type` other than `private`.
    #[error("type={kind}: a signing key is type=private")]
    NotPrivate {
        /// The type given.
        kind: String,
    },
}

/// Why an attribute's value does not decode; never repeats the value.
#[derive(Debug, Clone, Copy, PartialEq, Eq, thiserror::Error)]
#[non_exhaustive]
pub enum UriValueError {
    /// A `%` not followed by two hex digits.
    #[error("a bad percent escape")]
    BadEscape {
        /// The attribute's name.
        attribute: &'static str,
    },
    /// The decoded bytes are not UTF-8 (where text is needed).
    #[error("{attribute} is not UTF-8")]
    NotUtf8 {
        /// The attribute's name.
        attribute: &'static str,
    },
}

/// Percent-decodes `value` of `attribute`; errors never repeat it (it may
/// be a PIN).
fn decode(value: &str, attribute: &'static str) -> Result<Vec<u8>, UriValueError> {
    let bytes = value.as_bytes();
    let mut out = Vec::with_capacity(bytes.len());
    let mut i = 0;
    while i < bytes.len() {
        if bytes[i] == b'%' {
            let hex = bytes
                .get(i + 1..i + 3)
                .and_then(|h| std::str::from_utf8(h).ok())
                .and_then(|h| u8::from_str_radix(h, 16).ok())
                .ok_or(UriValueError::BadEscape { attribute })?;
            out.push(hex);
            i += 3;
        } else {
            out.push(bytes[i]);
            i += 1;
        }
    }
    Ok(out)
}

fn text(value: &str, attribute: &'static str) -> Result<String, UriValueError> {
    String::from_utf8(decode(value, attribute)?).map_err(|_| UriValueError::NotUtf8 { attribute })
}

impl Pkcs11Uri {
    /// Parses a `pkcs11:` URI.
    pub fn parse(uri: &str) -> Result<Pkcs11Uri, UriError> {
        if !is_pkcs11_uri(uri) {
            return Err(UriError::NotPkcs11);
        }
        let rest = &uri[7..];
        let (path, query) = rest.split_once('?').unwrap_or((rest, ""));
        let mut out = Pkcs11Uri::default();
        let mut seen: Vec<String> = Vec::new();
        // Whether `key` is met for the first time.
        let mut once = |key: &str| {
            if seen.iter().any(|k| k == key) {
                false
            } else {
                seen.push(key.to_string());
                true
            }
        };
        for attr in path.split(';').filter(|a| !a.is_empty()) {
            let (key, value) = attr
                .split_once('=')
                .ok_or_else(|| UriError::PathNotNameValue {
                    attribute: attr.to_string(),
                })?;
            if !once(key) {
                return Err(UriError::PathTwice {
                    name: key.to_string(),
                });
            }
            match key {
                "token" => out.token = Some(text(value, "token")?),
                "object" => out.object = Some(text(value, "object")?),
                "id" => out.id = Some(decode(value, "id")?),
                "type" => out.kind = Some(text(value, "type")?),
                other => {
                    return Err(UriError::PathUnsupported {
                        name: other.to_string(),
                    });
                }
            }
        }
        // Nothing of the query is repeated in errors: a PIN may be in it.
        for attr in query.split('&').filter(|a| !a.is_empty()) {
            let (key, value) = attr.split_once('=').ok_or(UriError::QueryNotNameValue)?;
            if !once(key) {
                return Err(UriError::QueryTwice);
            }
            match key {
                "module-path" => {
                    out.module_path = Some(PathBuf::from(
                        text(value, "module-path").map_err(UriError::ModulePath)?,
                    ))
                }
                "pin-source" => {
                    let source = text(value, "pin-source")?;
                    let path = source.strip_prefix("file:").unwrap_or(&source);
                    if path.starts_with('|') {
                        return Err(UriError::PinProgram);
                    }
                    out.pin_source = Some(PathBuf::from(path));
                }
                "pin-value" => {
                    out.pin_value = Some(Zeroizing::new(
                        text(value, "pin-value").map_err(UriError::PinValue)?,
                    ))
                }
                _ => return Err(UriError::QueryUnsupported),
            }
        }
        if out.pin_source.is_some() && out.pin_value.is_some() {
            return Err(UriError::TwoPins);
        }
        if out.object.as_deref() == Some("") {
            return Err(UriError::EmptyObject);
        }
        if out.object.is_none() && out.id.is_none() {
            return Err(UriError::NoKeyNamed);
        }
        if let Some(kind) = &out.kind
            && kind != "private"
        {
            return Err(UriError::NotPrivate { kind: kind.clone() });
        }
        Ok(out)
    }
}

/// The URI as written back, without the PIN value.
impl std::fmt::Display for Pkcs11Uri {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        let enc = |bytes: &[u8], all: bool| -> String {
            bytes
                .iter()
                .map(|&b| {
                    if !all && (b.is_ascii_alphanumeric() || b"-._~".contains(&b)) {
                        (b as char).to_string()
                    } else {
                        format!("%{b:02X}")
                    }
                })
                .collect()
        };
        let mut path = Vec::new();
        if let Some(t) = &self.token {
            path.push(format!("token={}", enc(t.as_bytes(), false)));
        }
        if let Some(o) = &self.object {
            path.push(format!("object={}", enc(o.as_bytes(), false)));
        }
        if let Some(id) = &self.id {
            path.push(format!("id={}", enc(id, true)));
        }
        if let Some(k) = &self.kind {
            path.push(format!("type={k}"));
        }
        write!(f, "pkcs11:{}", path.join(";"))?;
        let mut query = Vec::new();
        if let Some(m) = &self.module_path {
            query.push(format!("module-path={}", m.display()));
        }
        if let Some(p) = &self.pin_source {
            query.push(format!("pin-source={}", p.display()));
        }
        if self.pin_value.is_some() {
            query.push("pin-value=<hidden>".into());
        }
        if !query.is_empty() {
            write!(f, "?{}", query.join("&"))?;
        }
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn uris() {
        let u = Pkcs11Uri::parse(
            "pkcs11:token=my%20token;object=release;id=%01%a2;type=private?module-path=/usr/lib/softhsm/libsofthsm2.so&pin-source=file:/run/pin",
        )
        .unwrap();
        assert_eq!(u.token.as_deref(), Some("my token"));
        assert_eq!(u.id, Some(vec![1, 0xa2]));
        assert_eq!(u.pin_source, Some(PathBuf::from("/run/pin")));
        assert_eq!(
            u.to_string(),
            "pkcs11:token=my%20token;object=release;id=%01%A2;type=private?module-path=/usr/lib/softhsm/libsofthsm2.so&pin-source=/run/pin"
        );
        let secret = Pkcs11Uri::parse("pkcs11:object=k?pin-value=1234").unwrap();
        assert!(!secret.to_string().contains("1234"));
        assert!(!format!("{secret:?}").contains("1234"));
        for leaky in [
            "pkcs11:object=k?pin-value=S3CR%ET",
            "pkcs11:object=k?pin-value=ab&T0P",
            "pkcs11:object=k?pin-value=ab&T0P=x",
        ] {
            let err = Pkcs11Uri::parse(leaky).unwrap_err().to_string();
            assert!(!err.contains("S3CR") && !err.contains("T0P"), "{err}");
        }
        for bad in [
            "pkcs11:object=",
            "pkcs11:token=a;token=b;object=k",
            "pkcs11:token=a",
            "pkcs11:object=k;slot-id=1",
            "pkcs11:object=k?pin-value=1&pin-source=/p",
            "pkcs11:object=k;id=%zz",
            "pkcs11:object=k;type=cert",
            "pkcs11:object=k?pin-source=|/bin/cat",
            "file:/x",
        ] {
            assert!(Pkcs11Uri::parse(bad).is_err(), "{bad}");
        }
    }

    #[test]
    fn refusals_are_typed_and_say_what_they_always_said() {
        use UriValueError::*;
        for (uri, error, message) in [
            ("file:/x", UriError::NotPkcs11, "not a pkcs11: URI"),
            (
                "pkcs11:object",
                UriError::PathNotNameValue {
                    attribute: "object".into(),
                },
                "\"object\" is not name=value",
            ),
            (
                "pkcs11:token=a;token=b;object=k",
                UriError::PathTwice {
                    name: "token".into(),
                },
                "token given twice",
            ),
            (
                "pkcs11:object=k;slot-id=1",
                UriError::PathUnsupported {
                    name: "slot-id".into(),
                },
                "the path attribute \"slot-id\" is not supported (token, object, id, type)",
            ),
            (
                "pkcs11:object=k?pin-value",
                UriError::QueryNotNameValue,
                "a query attribute is not name=value",
            ),
            (
                "pkcs11:object=k?pin-value=1&pin-value=2",
                UriError::QueryTwice,
                "a query attribute given twice",
            ),
            (
                "pkcs11:object=k?slot=1",
                UriError::QueryUnsupported,
                "a query attribute other than module-path, pin-source, pin-value",
            ),
            (
                "pkcs11:object=k;id=%zz",
                UriError::Value(BadEscape { attribute: "id" }),
                "a bad percent escape",
            ),
            (
                "pkcs11:object=%ff",
                UriError::Value(NotUtf8 {
                    attribute: "object",
                }),
                "object is not UTF-8",
            ),
            (
                "pkcs11:object=k?module-path=%ff",
                UriError::ModulePath(NotUtf8 {
                    attribute: "module-path",
                }),
                "module-path: module-path is not UTF-8",
            ),
            (
                "pkcs11:object=k?pin-value=%f",
                UriError::PinValue(BadEscape {
                    attribute: "pin-value",
                }),
                "pin-value: not readable",
            ),
            (
                "pkcs11:object=k?pin-source=|/bin/cat",
                UriError::PinProgram,
                "a pin-source program is not supported (give a file)",
            ),
            (
                "pkcs11:object=k?pin-value=1&pin-source=/p",
                UriError::TwoPins,
                "give pin-source or pin-value, not both",
            ),
            (
                "pkcs11:object=",
                UriError::EmptyObject,
                "object= names no label",
            ),
            (
                "pkcs11:token=a",
                UriError::NoKeyNamed,
                "name the key: object=LABEL and/or id=%XX...",
            ),
            (
                "pkcs11:object=k;type=cert",
                UriError::NotPrivate {
                    kind: "cert".into(),
                },
                "type=cert: a signing key is type=private",
            ),
        ] {
            assert_eq!(Pkcs11Uri::parse(uri), Err(error), "{uri}");
            assert_eq!(Pkcs11Uri::parse(uri).unwrap_err().to_string(), message);
        }
    }
}
