//! Remote inputs over HTTPS (signatures, keys, trusted roots) and the
//! plumbing the registry client shares with them: size-capped bodies read
//! before a whole-request deadline, and no downgrade to plain HTTP (plain
//! `http://` is accepted only for loopback addresses, where nothing travels
//! over a network).

use crate::{Error, Result};
pub use modelseal_core::fetch::is_url;
use modelseal_core::fetch::{InputKind, read_file};
use std::io::Read;
use std::path::Path;
use std::sync::atomic::{AtomicU64, Ordering};
use std::time::Duration;

/// Most redirects followed.
const MAX_REDIRECTS: usize = 5;
/// Default whole-request timeout, in seconds.
const DEFAULT_TIMEOUT_SECS: u64 = 60;

/// Reads `source`, a file path or a URL, of `kind` (at most its cap).
pub fn read_input(source: &Path, kind: InputKind) -> Result<Vec<u8>> {
    match source.to_str() {
        Some(s) if is_url(s) => fetch(s, kind.limit()),
        _ => Ok(read_file(source, kind)?),
    }
}

/// Whether `url` may be requested: https, or plain http on loopback only
/// (where nothing travels over a network). Remote inputs, registries,
/// token realms and every redirect obey it.
pub(crate) fn allowed(url: &reqwest::Url) -> bool {
    match url.scheme() {
        "https" => true,
        "http" => match url.host() {
            Some(url::Host::Ipv4(ip)) => ip.is_loopback(),
            Some(url::Host::Ipv6(ip)) => ip.is_loopback(),
            Some(url::Host::Domain(d)) => d.eq_ignore_ascii_case("localhost"),
            None => false,
        },
        _ => false,
    }
}

/// The process's whole-request timeout in seconds (see [`set_timeout`]).
static TIMEOUT_SECS: AtomicU64 = AtomicU64::new(DEFAULT_TIMEOUT_SECS);

/// The whole-request timeout of remote inputs and registry requests: what
/// [`set_timeout`] set, else 60 s.
pub fn timeout() -> Duration {
    Duration::from_secs(TIMEOUT_SECS.load(Ordering::Relaxed))
}

/// Sets the whole-request timeout of every remote input and registry
/// request in the process (the binary takes it from
/// `MODELSEAL_HTTP_TIMEOUT`; the library reads no environment). Whole
/// seconds, from one to a day.
pub fn set_timeout(timeout: Duration) {
    TIMEOUT_SECS.store(timeout.as_secs().clamp(1, 86_400), Ordering::Relaxed);
}

/// Reads a response body, at most `max + 1` bytes (so that a caller can
/// tell "more than `max`"), all of it before `deadline`: a server that drips
/// one byte at a time never trips a client's per-read timeout. Past the
/// deadline the error is of kind `TimedOut`.
pub(crate) fn read_body(
    body: impl Read,
    max: u64,
    deadline: std::time::Instant,
) -> std::io::Result<Vec<u8>> {
    let mut bytes = Vec::new();
    let mut body = body.take(max + 1);
    let mut chunk = [0u8; 16 << 10];
    loop {
        if std::time::Instant::now() > deadline {
            return Err(std::io::Error::new(
                std::io::ErrorKind::TimedOut,
                "the body did not arrive in time (timed out)",
            ));
        }
        let n = body.read(&mut chunk)?;
        if n == 0 {
            return Ok(bytes);
        }
        bytes.extend_from_slice(&chunk[..n]);
    }
}

/// The redirect policy of every client here: at most [`MAX_REDIRECTS`],
/// and only to URLs [`allowed`] (never a downgrade to plain HTTP).
pub(crate) fn redirects() -> reqwest::redirect::Policy {
    reqwest::redirect::Policy::custom(|attempt| {
        if attempt.previous().len() >= MAX_REDIRECTS {
            attempt.error("too many redirects")
        } else if allowed(attempt.url()) {
            attempt.follow()
        } else {
            let to = attempt.url().to_string();
            attempt.error(format!("redirect to {to} refused (not https)"))
        }
    })
}

/// A blocking client with the whole-request timeout `limit` (connecting
/// at most 15 s of it) and the redirect policy `redirect`.
pub(crate) fn client_builder(
    limit: Duration,
    redirect: reqwest::redirect::Policy,
) -> reqwest::blocking::ClientBuilder {
    reqwest::blocking::Client::builder()
        .redirect(redirect)
        .timeout(limit)
        .connect_timeout(limit.min(Duration::from_secs(15)))
}

/// Downloads `url` (at most `max` bytes).
pub fn fetch(url: &str, max: u64) -> Result<Vec<u8>> {
    let parsed = reqwest::Url::parse(url)
        .map_err(|e| Error::Usage(format!("{url}: not a valid URL: {e}")))?;
    if !allowed(&parsed) {
        return Err(Error::Remote(format!(
            "{url}: refused: remote inputs must use https:// (plain http only on loopback)"
        )));
    }
    let limit = timeout();
    let client = client_builder(limit, redirects())
        .build()
        .map_err(|e| Error::Remote(format!("cannot set up the HTTP client: {e}")))?;
    let describe = |e: reqwest::Error| {
        if e.is_timeout() {
            Error::Unavailable(format!("{url}: timed out after {} s", limit.as_secs()))
        } else if e.is_redirect() {
            Error::Remote(format!(
                "{url}: {}",
                std::error::Error::source(&e)
                    .map(|s| s.to_string())
                    .unwrap_or_else(|| e.to_string())
            ))
        } else if e.is_connect() {
            Error::Unavailable(format!("cannot reach {url}: {e}"))
        } else {
            Error::Remote(format!("{url}: {e}"))
        }
    };
    let response = client.get(parsed).send().map_err(describe)?;
    let status = response.status();
    if status.is_server_error() || status.as_u16() == 429 {
        return Err(Error::Unavailable(format!("{url}: HTTP {status}")));
    }
    if !status.is_success() {
        return Err(Error::Remote(format!("{url}: HTTP {status}")));
    }
    if response.content_length().is_some_and(|n| n > max) {
        return Err(Error::Remote(format!(
            "{url}: the response is larger than {max} bytes"
        )));
    }
    let bytes = read_body(response, max, std::time::Instant::now() + limit).map_err(|e| {
        if e.kind() == std::io::ErrorKind::TimedOut || e.to_string().contains("timed out") {
            Error::Unavailable(format!("{url}: timed out after {} s", limit.as_secs()))
        } else {
            Error::Remote(format!("{url}: {e}"))
        }
    })?;
    if bytes.len() as u64 > max {
        return Err(Error::Remote(format!(
            "{url}: the response is larger than {max} bytes"
        )));
    }
    Ok(bytes)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn only_https_or_loopback_http_is_allowed() {
        for (url, ok) in [
            ("https://example.com/x", true),
            ("http://127.0.0.1:8080/x", true),
            ("http://127.1.2.3/x", true),
            ("http://[::1]/x", true),
            ("http://localhost/x", true),
            ("http://example.com/x", false),
            ("http://10.0.0.1/x", false),
            ("ftp://example.com/x", false),
            ("file:///etc/passwd", false),
        ] {
            assert_eq!(allowed(&reqwest::Url::parse(url).unwrap()), ok, "{url}");
        }
        assert!(is_url("https://x"));
        assert!(!is_url("model.sig"));
    }

    #[test]
    fn plain_http_elsewhere_is_refused_before_any_request() {
        let err = fetch("http://example.com/model.sig", 10).unwrap_err();
        assert!(err.to_string().contains("refused"), "{err}");
    }
}
