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

/// Percent-decodes `value`; errors never repeat it (it may be a PIN).
fn decode(value: &str) -> Result<Vec<u8>, String> {
    let bytes = value.as_bytes();
    let mut out = Vec::with_capacity(bytes.len());
    let mut i = 0;
    while i < bytes.len() {
        if bytes[i] == b'%' {
            let hex = bytes
                .get(i + 1..i + 3)
                .and_then(|h| std::str::from_utf8(h).ok())
                .and_then(|h| u8::from_str_radix(h, 16).ok())
                .ok_or_else(|| "a bad percent escape".to_string())?;
            out.push(hex);
            i += 3;
        } else {
            out.push(bytes[i]);
            i += 1;
        }
    }
    Ok(out)
}

fn text(value: &str, what: &str) -> Result<String, String> {
    String::from_utf8(decode(value)?).map_err(|_| format!("{what} is not UTF-8"))
}

impl Pkcs11Uri {
    /// Parses a `pkcs11:` URI.
    pub fn parse(uri: &str) -> Result<Pkcs11Uri, String> {
        if !is_pkcs11_uri(uri) {
            return Err("not a pkcs11: URI".into());
        }
        let rest = &uri[7..];
        let (path, query) = rest.split_once('?').unwrap_or((rest, ""));
        let mut out = Pkcs11Uri::default();
        let mut seen: Vec<String> = Vec::new();
        let mut once = |key: &str| {
            if seen.iter().any(|k| k == key) {
                Err(format!("{key} given twice"))
            } else {
                seen.push(key.to_string());
                Ok(())
            }
        };
        for attr in path.split(';').filter(|a| !a.is_empty()) {
            let (key, value) = attr
                .split_once('=')
                .ok_or_else(|| format!("{attr:?} is not name=value"))?;
            once(key)?;
            match key {
                "token" => out.token = Some(text(value, "token")?),
                "object" => out.object = Some(text(value, "object")?),
                "id" => out.id = Some(decode(value)?),
                "type" => out.kind = Some(text(value, "type")?),
                other => {
                    return Err(format!(
                        "the path attribute {other:?} is not supported (token, object, id, type)"
                    ));
                }
            }
        }
        // Nothing of the query is repeated in errors: a PIN may be in it.
        for attr in query.split('&').filter(|a| !a.is_empty()) {
            let (key, value) = attr
                .split_once('=')
                .ok_or_else(|| "a query attribute is not name=value".to_string())?;
            once(key).map_err(|_| "a query attribute given twice".to_string())?;
            match key {
                "module-path" => {
                    out.module_path = Some(PathBuf::from(
                        text(value, "module-path").map_err(|e| format!("module-path: {e}"))?,
                    ))
                }
                "pin-source" => {
                    let source = text(value, "pin-source")?;
                    let path = source.strip_prefix("file:").unwrap_or(&source);
                    if path.starts_with('|') {
                        return Err("a pin-source program is not supported (give a file)".into());
                    }
                    out.pin_source = Some(PathBuf::from(path));
                }
                "pin-value" => {
                    out.pin_value = Some(Zeroizing::new(
                        text(value, "pin-value")
                            .map_err(|_| "pin-value: not readable".to_string())?,
                    ))
                }
                _ => {
                    return Err(
                        "a query attribute other than module-path, pin-source, pin-value".into(),
                    );
                }
            }
        }
        if out.pin_source.is_some() && out.pin_value.is_some() {
            return Err("give pin-source or pin-value, not both".into());
        }
        if out.object.as_deref() == Some("") {
            return Err("object= names no label".into());
        }
        if out.object.is_none() && out.id.is_none() {
            return Err("name the key: object=LABEL and/or id=%XX...".into());
        }
        if let Some(kind) = &out.kind
            && kind != "private"
        {
            return Err(format!("type={kind}: a signing key is type=private"));
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
            let err = Pkcs11Uri::parse(leaky).unwrap_err();
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
}
