//! `oci://HOST[:PORT]/REPO:TAG` and `oci://HOST[:PORT]/REPO@sha256:HEX`:
//! parsed strictly by the OCI distribution specification's grammar. There is
//! no default registry: the host is always named.

use super::OciError;
use std::net::IpAddr;

/// The scheme prefix of registry references.
pub const SCHEME: &str = "oci://";

/// Longest repository name accepted (the distribution spec's limit for the
/// host and name together is 255 characters).
const MAX_NAME: usize = 255;

/// A model in a registry: where, and which manifest (by tag or digest).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Reference {
    host: String,
    port: Option<u16>,
    repository: String,
    tag: Option<String>,
    digest: Option<String>,
}

impl Reference {
    /// Parses `oci://HOST[:PORT]/REPO:TAG` or `oci://HOST[:PORT]/REPO@sha256:HEX`.
    pub fn parse(text: &str) -> Result<Self, OciError> {
        let bad = |reason: &str| OciError::Reference {
            reference: text.to_string(),
            reason: reason.to_string(),
        };
        let rest = text
            .strip_prefix(SCHEME)
            .ok_or_else(|| bad("it must start with oci://"))?;
        let (authority, path) = rest
            .split_once('/')
            .ok_or_else(|| bad("no repository after the registry host"))?;
        let (host, port) = split_authority(authority).map_err(|r| bad(&r))?;
        let (name, tag, digest) = if let Some((name, digest)) = path.split_once('@') {
            check_digest(digest).map_err(|r| bad(&r))?;
            (name, None, Some(digest.to_string()))
        } else {
            let (name, tag) = match path.rsplit_once(':') {
                Some((name, tag)) if !tag.contains('/') => (name, tag),
                _ => return Err(bad("name a tag (REPO:TAG) or a digest (REPO@sha256:HEX)")),
            };
            check_tag(tag).map_err(|r| bad(&r))?;
            (name, Some(tag.to_string()), None)
        };
        check_repository(name).map_err(|r| bad(&r))?;
        if authority.len() + 1 + name.len() > MAX_NAME {
            return Err(bad(
                "the registry host and repository exceed 255 characters",
            ));
        }
        Ok(Reference {
            host,
            port,
            repository: name.to_string(),
            tag,
            digest,
        })
    }

    /// The registry as `HOST[:PORT]` (IPv6 hosts in brackets).
    pub fn registry(&self) -> String {
        let host = if self.host.contains(':') {
            format!("[{}]", self.host)
        } else {
            self.host.clone()
        };
        match self.port {
            Some(p) => format!("{host}:{p}"),
            None => host,
        }
    }

    /// The host alone (no port, no brackets).
    pub fn host(&self) -> &str {
        &self.host
    }

    /// The repository (`team/model`).
    pub fn repository(&self) -> &str {
        &self.repository
    }

    /// The tag, when the reference names one.
    pub fn tag(&self) -> Option<&str> {
        self.tag.as_deref()
    }

    /// The manifest digest (`sha256:HEX`), when the reference names one.
    pub fn digest(&self) -> Option<&str> {
        self.digest.as_deref()
    }

    /// The tag or the digest, as the manifests endpoint takes it.
    pub fn selector(&self) -> &str {
        self.digest
            .as_deref()
            .or(self.tag.as_deref())
            .unwrap_or("latest")
    }

    /// The model's name as the OMS subject names it: the repository's last
    /// path component (the spec's basename rule).
    pub fn model_name(&self) -> &str {
        self.repository
            .rsplit('/')
            .next()
            .unwrap_or(&self.repository)
    }

    /// The same repository, pinned to `digest`.
    pub fn pinned(&self, digest: &str) -> Reference {
        Reference {
            tag: None,
            digest: Some(digest.to_string()),
            ..self.clone()
        }
    }

    /// Whether the host is a loopback address (where plain HTTP is allowed).
    pub fn is_loopback(&self) -> bool {
        self.host.eq_ignore_ascii_case("localhost")
            || self.host.parse::<IpAddr>().is_ok_and(|ip| ip.is_loopback())
    }
}

impl std::fmt::Display for Reference {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "{SCHEME}{}/{}", self.registry(), self.repository)?;
        match (&self.digest, &self.tag) {
            (Some(d), _) => write!(f, "@{d}"),
            (None, Some(t)) => write!(f, ":{t}"),
            (None, None) => Ok(()),
        }
    }
}

impl std::str::FromStr for Reference {
    type Err = OciError;
    fn from_str(s: &str) -> Result<Self, OciError> {
        Reference::parse(s)
    }
}

/// Whether `text` is meant as a registry reference (starts with `oci://`).
pub fn is_oci_reference(text: &str) -> bool {
    text.starts_with(SCHEME)
}

fn split_authority(authority: &str) -> Result<(String, Option<u16>), String> {
    if authority.is_empty() {
        return Err("no registry host".into());
    }
    if authority.contains('@') {
        return Err("credentials do not belong in the reference".into());
    }
    let (host, port) = if let Some(rest) = authority.strip_prefix('[') {
        let (host, after) = rest
            .split_once(']')
            .ok_or("unclosed [ in the registry host")?;
        host.parse::<std::net::Ipv6Addr>()
            .map_err(|_| format!("{host} is not an IPv6 address"))?;
        match after {
            "" => (host, None),
            p => (host, Some(p.strip_prefix(':').ok_or("junk after ]")?)),
        }
    } else {
        match authority.split_once(':') {
            Some((h, p)) => (h, Some(p)),
            None => (authority, None),
        }
    };
    let port = match port {
        None => None,
        Some(p) => Some(
            p.parse::<u16>()
                .ok()
                .filter(|p| *p > 0 && p.to_string().len() == port.map_or(0, str::len))
                .ok_or_else(|| format!("{p:?} is not a port number"))?,
        ),
    };
    if !authority.starts_with('[') {
        let label_ok = |l: &str| {
            !l.is_empty()
                && l.len() <= 63
                && l.bytes().all(|b| b.is_ascii_alphanumeric() || b == b'-')
                && !l.starts_with('-')
                && !l.ends_with('-')
        };
        if !host.split('.').all(label_ok) {
            return Err(format!("{host:?} is not a host name"));
        }
    }
    Ok((host.to_ascii_lowercase(), port))
}

/// `[a-z0-9]+((\.|_|__|-+)[a-z0-9]+)*(\/[a-z0-9]+((\.|_|__|-+)[a-z0-9]+)*)*`
fn check_repository(name: &str) -> Result<(), String> {
    if name.is_empty() {
        return Err("no repository".into());
    }
    for component in name.split('/') {
        if !component_ok(component) {
            return Err(format!(
                "repository {name:?}: components are lowercase letters and digits, separated by '.', '_', '__' or '-'"
            ));
        }
    }
    Ok(())
}

fn component_ok(c: &str) -> bool {
    let bytes = c.as_bytes();
    let alnum = |b: u8| b.is_ascii_lowercase() || b.is_ascii_digit();
    if bytes.is_empty() || !alnum(bytes[0]) || !alnum(bytes[bytes.len() - 1]) {
        return false;
    }
    let mut i = 0;
    while i < bytes.len() {
        if alnum(bytes[i]) {
            i += 1;
            continue;
        }
        // A separator run: '.', '_', '__' or one or more '-'.
        let start = i;
        while i < bytes.len() && !alnum(bytes[i]) {
            i += 1;
        }
        let sep = &c[start..i];
        let ok = matches!(sep, "." | "_" | "__") || sep.bytes().all(|b| b == b'-');
        if !ok {
            return false;
        }
    }
    true
}

/// `[a-zA-Z0-9_][a-zA-Z0-9._-]{0,127}`
fn check_tag(tag: &str) -> Result<(), String> {
    let ok = !tag.is_empty()
        && tag.len() <= 128
        && !tag.starts_with(['.', '-'])
        && tag
            .bytes()
            .all(|b| b.is_ascii_alphanumeric() || matches!(b, b'_' | b'.' | b'-'));
    if ok {
        Ok(())
    } else {
        Err(format!("{tag:?} is not a valid tag"))
    }
}

/// `sha256:` and 64 lowercase hex digits (the only digest accepted).
pub(crate) fn check_digest(digest: &str) -> Result<(), String> {
    let hex = digest
        .strip_prefix("sha256:")
        .ok_or_else(|| format!("{digest:?}: only sha256 digests are accepted"))?;
    if hex.len() == 64 && hex.bytes().all(|b| matches!(b, b'0'..=b'9' | b'a'..=b'f')) {
        Ok(())
    } else {
        Err(format!(
            "{digest:?}: a sha256 digest has 64 lowercase hex digits"
        ))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    const D: &str = "sha256:e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855";

    #[test]
    fn parses_tags_and_digests() {
        let r = Reference::parse("oci://127.0.0.1:5000/team/tiny-model:v1.0").unwrap();
        assert_eq!(r.registry(), "127.0.0.1:5000");
        assert_eq!(r.repository(), "team/tiny-model");
        assert_eq!(r.tag(), Some("v1.0"));
        assert_eq!(r.model_name(), "tiny-model");
        assert!(r.is_loopback());
        assert_eq!(r.to_string(), "oci://127.0.0.1:5000/team/tiny-model:v1.0");
        let pinned = r.pinned(D);
        assert_eq!(
            pinned.to_string(),
            format!("oci://127.0.0.1:5000/team/tiny-model@{D}")
        );
        let d = Reference::parse(&format!("oci://registry.example/m@{D}")).unwrap();
        assert_eq!(d.digest(), Some(D));
        assert_eq!(d.selector(), D);
        assert!(!d.is_loopback());
        let v6 = Reference::parse("oci://[::1]:5000/m:t").unwrap();
        assert_eq!(v6.registry(), "[::1]:5000");
        assert!(v6.is_loopback());
        assert!(Reference::parse("oci://localhost/a__b/c-d.e:x").is_ok());
    }

    #[test]
    fn refuses_what_the_grammar_does_not_allow() {
        for bad in [
            "https://r/m:t",
            "oci://r",
            "oci://r/m",
            "oci:///m:t",
            "oci://r/M:t",
            "oci://r/m:",
            "oci://r/m:.t",
            "oci://r/m@sha256:abc",
            "oci://r/m@sha512:00",
            &format!("oci://r/m@{}", D.to_uppercase().replace("SHA256", "sha256")),
            "oci://r/m//n:t",
            "oci://r/-m:t",
            "oci://r/m..n:t",
            "oci://u:p@r/m:t",
            "oci://r:0/m:t",
            "oci://r:99999/m:t",
            "oci://r:+80/m:t",
            "oci://r_x/m:t",
            "oci://[::1/m:t",
            &format!("oci://r/{}:t", "a".repeat(260)),
        ] {
            assert!(Reference::parse(bad).is_err(), "{bad}");
        }
    }
}
