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
        let bad = |reason: ReferenceError| OciError::Reference {
            // A password given in the reference is not repeated back.
            reference: match reason {
                ReferenceError::Credentials => redact_userinfo(text),
                _ => text.to_string(),
            },
            reason,
        };
        let rest = text
            .strip_prefix(SCHEME)
            .ok_or_else(|| bad(ReferenceError::NoScheme))?;
        let (authority, path) = rest
            .split_once('/')
            .ok_or_else(|| bad(ReferenceError::NoPath))?;
        let (host, port) = split_authority(authority).map_err(bad)?;
        let (name, tag, digest) = if let Some((name, digest)) = path.split_once('@') {
            check_digest(digest).map_err(|e| bad(e.into()))?;
            (name, None, Some(digest.to_string()))
        } else {
            let (name, tag) = match path.rsplit_once(':') {
                Some((name, tag)) if !tag.contains('/') => (name, tag),
                _ => return Err(bad(ReferenceError::NoTagOrDigest)),
            };
            check_tag(tag).map_err(bad)?;
            (name, Some(tag.to_string()), None)
        };
        check_repository(name).map_err(bad)?;
        if authority.len() + 1 + name.len() > MAX_NAME {
            return Err(bad(ReferenceError::TooLong { max: MAX_NAME }));
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

/// `text` with the `user:password@` of its registry part replaced by
/// `***@`.
fn redact_userinfo(text: &str) -> String {
    let rest = text.strip_prefix(SCHEME).unwrap_or(text);
    let authority = rest.split('/').next().unwrap_or_default();
    match authority.rfind('@') {
        Some(at) => format!("{SCHEME}***{}", &rest[at..]),
        None => text.to_string(),
    }
}

fn split_authority(authority: &str) -> Result<(String, Option<u16>), ReferenceError> {
    if authority.is_empty() {
        return Err(ReferenceError::NoHost);
    }
    if authority.contains('@') {
        return Err(ReferenceError::Credentials);
    }
    let (host, port) = if let Some(rest) = authority.strip_prefix('[') {
        let (host, after) = rest
            .split_once(']')
            .ok_or(ReferenceError::UnclosedBracket)?;
        host.parse::<std::net::Ipv6Addr>()
            .map_err(|source| ReferenceError::NotIpv6 {
                host: host.to_string(),
                source,
            })?;
        match after {
            "" => (host, None),
            p => (
                host,
                Some(p.strip_prefix(':').ok_or(ReferenceError::AfterBracket)?),
            ),
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
                .ok_or_else(|| ReferenceError::Port {
                    port: p.to_string(),
                })?,
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
            return Err(ReferenceError::HostName {
                host: host.to_string(),
            });
        }
    }
    Ok((host.to_ascii_lowercase(), port))
}

/// `[a-z0-9]+((\.|_|__|-+)[a-z0-9]+)*(\/[a-z0-9]+((\.|_|__|-+)[a-z0-9]+)*)*`
fn check_repository(name: &str) -> Result<(), ReferenceError> {
    if name.is_empty() {
        return Err(ReferenceError::EmptyRepository);
    }
    for component in name.split('/') {
        if !component_ok(component) {
            return Err(ReferenceError::Repository {
                name: name.to_string(),
            });
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
fn check_tag(tag: &str) -> Result<(), ReferenceError> {
    let ok = !tag.is_empty()
        && tag.len() <= 128
        && !tag.starts_with(['.', '-'])
        && tag
            .bytes()
            .all(|b| b.is_ascii_alphanumeric() || matches!(b, b'_' | b'.' | b'-'));
    if ok {
        Ok(())
    } else {
        Err(ReferenceError::Tag {
            tag: tag.to_string(),
        })
    }
}

/// `sha256:` and 64 lowercase hex digits (the only digest accepted).
pub(crate) fn check_digest(digest: &str) -> Result<(), DigestError> {
    let hex = digest
        .strip_prefix("sha256:")
        .ok_or_else(|| DigestError::Algorithm {
            digest: digest.to_string(),
        })?;
    if hex.len() == 64 && hex.bytes().all(|b| matches!(b, b'0'..=b'9' | b'a'..=b'f')) {
        Ok(())
    } else {
        Err(DigestError::Hex {
            digest: digest.to_string(),
        })
    }
}

/// What is wrong with an `oci://` reference: the `reason` of
/// [`OciError::Reference`].
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[non_exhaustive]
pub enum ReferenceError {
    /// It does not start with `oci://`.
    #[error("it must start with oci://")]
    NoScheme,
    /// Nothing follows the registry host (no `/`).
    #[error("no repository after the registry host")]
    NoPath,
    /// The repository names neither a tag nor a digest.
    #[error("name a tag (REPO:TAG) or a digest (REPO@sha256:HEX)")]
    NoTagOrDigest,
    /// The registry host and repository together are too long.
    #[error("the registry host and repository exceed {max} characters")]
    TooLong {
        /// The most characters accepted.
        max: usize,
    },
    /// The registry host is empty.
    #[error("no registry host")]
    NoHost,
    /// The registry part carries `user@` (credentials).
    #[error("credentials do not belong in the reference")]
    Credentials,
    /// A `[` opens an IPv6 host that no `]` closes.
    #[error("unclosed [ in the registry host")]
    UnclosedBracket,
    /// What is between `[` and `]` is not an IPv6 address.
    #[error("{host} is not an IPv6 address")]
    NotIpv6 {
        /// The text between the brackets.
        host: String,
        /// Why it does not parse.
        #[source]
        source: std::net::AddrParseError,
    },
    /// Something other than `:PORT` follows the `]` of an IPv6 host.
    #[error("junk after ]")]
    AfterBracket,
    /// The port is not a number from 1 to 65535 written plainly.
    #[error("{port:?} is not a port number")]
    Port {
        /// The port as given.
        port: String,
    },
    /// The host is not a DNS name (labels of letters, digits and `-`).
    #[error("{host:?} is not a host name")]
    HostName {
        /// The host as given.
        host: String,
    },
    /// The repository is empty.
    #[error("no repository")]
    EmptyRepository,
    /// The repository does not follow the distribution spec's grammar.
    #[error(
        "repository {name:?}: components are lowercase letters and digits, separated by '.', '_', '__' or '-'"
    )]
    Repository {
        /// The repository as given.
        name: String,
    },
    /// The tag does not follow the distribution spec's grammar.
    #[error("{tag:?} is not a valid tag")]
    Tag {
        /// The tag as given.
        tag: String,
    },
    /// The digest is not a sha256 digest.
    #[error(transparent)]
    Digest(#[from] DigestError),
}

/// Why a digest is refused: only `sha256:` and 64 lowercase hex digits
/// are accepted, in references, manifests and blob requests.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[non_exhaustive]
pub enum DigestError {
    /// The algorithm is not sha256.
    #[error("{digest:?}: only sha256 digests are accepted")]
    Algorithm {
        /// The digest as given.
        digest: String,
    },
    /// The hex part is not 64 lowercase hex digits.
    #[error("{digest:?}: a sha256 digest has 64 lowercase hex digits")]
    Hex {
        /// The digest as given.
        digest: String,
    },
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

    #[test]
    fn says_what_is_wrong_in_the_words_it_always_used() {
        let reason = |text: &str| match Reference::parse(text) {
            Err(OciError::Reference { reason, .. }) => reason,
            other => panic!("{text}: {other:?}"),
        };
        assert_eq!(reason("https://r/m:t"), ReferenceError::NoScheme);
        assert_eq!(reason("oci://r"), ReferenceError::NoPath);
        assert_eq!(reason("oci://r/m"), ReferenceError::NoTagOrDigest);
        assert_eq!(reason("oci:///m:t"), ReferenceError::NoHost);
        assert_eq!(reason("oci://u:p@r/m:t"), ReferenceError::Credentials);
        let shown = Reference::parse("oci://user:s3cret@r/m:t")
            .unwrap_err()
            .to_string();
        assert_eq!(
            shown,
            "oci://***@r/m:t: not an OCI reference: credentials do not belong in the reference"
        );
        assert_eq!(reason("oci://[::1/m:t"), ReferenceError::UnclosedBracket);
        assert!(
            matches!(reason("oci://[x]/m:t"), ReferenceError::NotIpv6 { host, .. } if host == "x")
        );
        assert_eq!(reason("oci://[::1]x/m:t"), ReferenceError::AfterBracket);
        assert_eq!(
            reason("oci://r:+80/m:t"),
            ReferenceError::Port { port: "+80".into() }
        );
        assert_eq!(
            reason("oci://r_x/m:t"),
            ReferenceError::HostName { host: "r_x".into() }
        );
        assert_eq!(reason("oci://r/:t"), ReferenceError::EmptyRepository);
        assert_eq!(
            reason("oci://r/M:t"),
            ReferenceError::Repository { name: "M".into() }
        );
        assert_eq!(
            reason("oci://r/m:.t"),
            ReferenceError::Tag { tag: ".t".into() }
        );
        assert_eq!(
            reason("oci://r/m@sha512:00"),
            ReferenceError::Digest(DigestError::Algorithm {
                digest: "sha512:00".into()
            })
        );
        assert_eq!(
            reason("oci://r/m@sha256:abc"),
            ReferenceError::Digest(DigestError::Hex {
                digest: "sha256:abc".into()
            })
        );
        assert_eq!(
            reason(&format!("oci://r/{}:t", "a".repeat(260))),
            ReferenceError::TooLong { max: 255 }
        );
        for (text, message) in [
            ("https://r/m:t", "it must start with oci://"),
            ("oci://r", "no repository after the registry host"),
            (
                "oci://r/m",
                "name a tag (REPO:TAG) or a digest (REPO@sha256:HEX)",
            ),
            ("oci:///m:t", "no registry host"),
            ("oci://[::1/m:t", "unclosed [ in the registry host"),
            ("oci://[x]/m:t", "x is not an IPv6 address"),
            ("oci://[::1]x/m:t", "junk after ]"),
            ("oci://r:+80/m:t", "\"+80\" is not a port number"),
            ("oci://r_x/m:t", "\"r_x\" is not a host name"),
            ("oci://r/:t", "no repository"),
            (
                "oci://r/M:t",
                "repository \"M\": components are lowercase letters and digits, separated by '.', '_', '__' or '-'",
            ),
            ("oci://r/m:.t", "\".t\" is not a valid tag"),
            (
                "oci://r/m@sha512:00",
                "\"sha512:00\": only sha256 digests are accepted",
            ),
            (
                "oci://r/m@sha256:abc",
                "\"sha256:abc\": a sha256 digest has 64 lowercase hex digits",
            ),
        ] {
            assert_eq!(
                Reference::parse(text).unwrap_err().to_string(),
                format!("{text}: not an OCI reference: {message}")
            );
        }
    }
}
