//! The registry client: the distribution-API requests modelseal needs, over
//! rustls, each response body capped (manifests, indexes, tokens and error
//! bodies are small; blobs are streamed and checked against their
//! descriptor's size and digest while they are read).

use super::auth::{Challenge, fetch_token, parse_challenge};
use super::{Credentials, OciError, Reference};
use crate::http::timeout;
use reqwest::StatusCode;
use reqwest::blocking::{Client, RequestBuilder, Response};
use reqwest::header::{ACCEPT, AUTHORIZATION, CONTENT_LENGTH, CONTENT_TYPE, HeaderMap, LOCATION};
use sha2::{Digest, Sha256};
use std::collections::HashMap;
use std::io::Read;
use std::sync::Mutex;
use std::time::Duration;

/// Largest manifest or index read (the distribution spec has registries
/// accept manifests of at least 4 MiB).
pub const MAX_MANIFEST: u64 = 4 << 20;
/// Most of an error body read to describe the error.
const MAX_ERROR_BODY: u64 = 8 << 10;
/// The slowest transfer a blob may take, beyond the timeout: a blob of N
/// bytes must arrive within the timeout plus N / this rate seconds.
const MIN_BLOB_RATE: u64 = 64 << 10;

/// `url` as it may be shown: scheme, host and port only (a redirect target
/// may carry signed query parameters).
fn redact_url(url: &reqwest::Url) -> String {
    format!(
        "{}://{}{}",
        url.scheme(),
        url.host_str().unwrap_or(""),
        url.port().map(|p| format!(":{p}")).unwrap_or_default()
    )
}

/// The error a read past its deadline gives.
fn past_deadline(what: &str) -> std::io::Error {
    std::io::Error::new(
        std::io::ErrorKind::TimedOut,
        format!("{what}: the registry is sending too slowly (timed out)"),
    )
}

/// When the download of a blob is given up on: a registry that drips bytes
/// must not hold a verifier for as long as the size it declares allows.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
#[non_exhaustive]
pub struct BlobLimits {
    /// A download that receives fewer than `stall_min_bytes` in this long
    /// has stalled.
    pub stall_window: Duration,
    /// See `stall_window`.
    pub stall_min_bytes: u64,
    /// The longest any one blob may take, whatever its size.
    pub max_time: Duration,
    /// The longest all the blobs of one model may take together, counted
    /// from when its registry client is set up (the whole verification):
    /// a registry that keeps every blob just above the stall rate cannot
    /// stretch a verification past it.
    pub total_time: Duration,
}

impl Default for BlobLimits {
    /// 64 KiB in every 30 s, a day per blob at most (a 140 GB layer at
    /// 2 MB/s), and a day for the whole model.
    fn default() -> Self {
        BlobLimits {
            stall_window: Duration::from_secs(30),
            stall_min_bytes: 64 << 10,
            max_time: Duration::from_secs(86_400),
            total_time: Duration::from_secs(86_400),
        }
    }
}

/// How to reach a registry.
#[derive(Debug, Clone, Default)]
#[non_exhaustive]
pub struct RegistryOptions {
    /// Who signs in.
    pub credentials: Credentials,
    /// Plain HTTP instead of https: allowed only for a registry on a
    /// loopback address.
    pub plain_http: bool,
    /// When a blob download is given up on.
    pub blob_limits: BlobLimits,
    /// Raw layers read before (by a long-running service), kept by digest.
    pub layer_cache: Option<std::sync::Arc<super::LayerCache>>,
}

impl RegistryOptions {
    /// Options with `credentials` over https.
    pub fn new(credentials: Credentials) -> Self {
        RegistryOptions {
            credentials,
            plain_http: false,
            blob_limits: BlobLimits::default(),
            layer_cache: None,
        }
    }
}

/// A manifest (or index) as fetched: its bytes, media type and digest.
#[derive(Debug, Clone)]
pub(crate) struct Fetched {
    pub bytes: Vec<u8>,
    pub media_type: Option<String>,
    pub digest: String,
}

/// What a manifest push answered.
#[derive(Debug, Clone)]
pub(crate) struct Pushed {
    /// Whether the registry said it indexed the manifest's subject
    /// (`OCI-Subject`), so no referrers tag is needed.
    pub subject_indexed: bool,
}

/// One repository of one registry.
pub(crate) struct Registry {
    base: reqwest::Url,
    repository: String,
    http: Client,
    /// For token requests: follows no redirect (a redirected POST would
    /// carry a refresh token, in its body, wherever the realm points).
    token_http: Client,
    credentials: Credentials,
    /// Bearer tokens by scope, and whether the registry wants Basic.
    auth: Mutex<AuthState>,
    timeout: Duration,
    limits: BlobLimits,
    /// When every blob of this model must have arrived
    /// ([`BlobLimits::total_time`]).
    total_deadline: std::time::Instant,
}

#[derive(Default)]
struct AuthState {
    basic: bool,
    tokens: HashMap<String, String>,
}

impl std::fmt::Debug for Registry {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "Registry({}{})", self.base, self.repository)
    }
}

/// Reads at most `max` bytes of a response body; more is an error.
pub(crate) fn read_capped(response: Response, max: u64, what: &str) -> Result<Vec<u8>, OciError> {
    if response.content_length().is_some_and(|n| n > max) {
        return Err(OciError::TooLarge {
            what: what.to_string(),
            max,
        });
    }
    let bytes = crate::http::read_body(response, max, std::time::Instant::now() + timeout())
        .map_err(|e| match e.kind() {
            std::io::ErrorKind::TimedOut => OciError::Unavailable(past_deadline(what).to_string()),
            _ => OciError::unavailable_if_io(format!("{what}: {e}"), &e),
        })?;
    if bytes.len() as u64 > max {
        return Err(OciError::TooLarge {
            what: what.to_string(),
            max,
        });
    }
    Ok(bytes)
}

/// The sha256 digest (`sha256:HEX`) of `bytes`.
pub(crate) fn sha256_digest(bytes: &[u8]) -> String {
    format!("sha256:{}", hex::encode(Sha256::digest(bytes)))
}

impl Registry {
    /// A client for the repository of `reference`.
    pub fn new(reference: &Reference, options: &RegistryOptions) -> Result<Self, OciError> {
        if options.plain_http && !reference.is_loopback() {
            return Err(OciError::Registry(format!(
                "plain HTTP refused for {}: it is allowed only for a registry on a loopback address",
                reference.registry()
            )));
        }
        let scheme = if options.plain_http { "http" } else { "https" };
        let base = reqwest::Url::parse(&format!("{scheme}://{}/", reference.registry()))
            .map_err(|e| OciError::Registry(format!("{}: {e}", reference.registry())))?;
        let limit = timeout();
        let client = |redirect| {
            crate::http::client_builder(limit, redirect)
                .user_agent(concat!("modelseal/", env!("CARGO_PKG_VERSION")))
                .build()
                .map_err(|e| OciError::Registry(format!("cannot set up the HTTP client: {e}")))
        };
        let http = client(crate::http::redirects())?;
        let token_http = client(reqwest::redirect::Policy::none())?;
        Ok(Registry {
            token_http,
            base,
            repository: reference.repository().to_string(),
            http,
            credentials: options.credentials.clone(),
            auth: Mutex::new(AuthState::default()),
            timeout: limit,
            limits: options.blob_limits,
            total_deadline: std::time::Instant::now() + options.blob_limits.total_time,
        })
    }

    fn url(&self, path: &str) -> Result<reqwest::Url, OciError> {
        self.base
            .join(path)
            .map_err(|e| OciError::Registry(format!("{path}: {e}")))
    }

    fn scope(&self, push: bool) -> String {
        format!(
            "repository:{}:{}",
            self.repository,
            if push { "pull,push" } else { "pull" }
        )
    }

    fn same_origin(&self, url: &reqwest::Url) -> bool {
        url.scheme() == self.base.scheme()
            && url.host_str() == self.base.host_str()
            && url.port_or_known_default() == self.base.port_or_known_default()
    }

    /// Sends a request built by `build`, signing in on a 401 challenge and
    /// trying once more.
    fn send(
        &self,
        url: &reqwest::Url,
        push: bool,
        build: &dyn Fn(&Client) -> RequestBuilder,
    ) -> Result<Response, OciError> {
        let scope = self.scope(push);
        let mut tried_auth = false;
        loop {
            let mut request = build(&self.http);
            if self.same_origin(url) {
                let state = self.auth.lock().map_err(|_| poisoned())?;
                if let Some(token) = state.tokens.get(&scope) {
                    request = request.header(AUTHORIZATION, format!("Bearer {token}"));
                } else if state.basic
                    && let Credentials::Basic { username, password } = &self.credentials
                {
                    request = request.basic_auth(username, Some(password));
                }
            }
            let response = request.send().map_err(|e| self.describe(url, e))?;
            if response.status() != StatusCode::UNAUTHORIZED || tried_auth {
                return Ok(response);
            }
            // A challenge from wherever a redirect led (a blob store, or a
            // host that an attacker controls) gets no credentials: they are
            // the registry's, and go only where the registry itself asks.
            if !self.same_origin(response.url()) {
                return Err(OciError::Registry(format!(
                    "{url}: redirected to {}, which asks for credentials: refused (credentials go only to {})",
                    redact_url(response.url()),
                    self.base
                )));
            }
            tried_auth = true;
            let challenge = response
                .headers()
                .get("www-authenticate")
                .and_then(|v| v.to_str().ok())
                .and_then(parse_challenge);
            match challenge {
                Some(Challenge::Basic) => {
                    if !matches!(self.credentials, Credentials::Basic { .. }) {
                        return Err(OciError::Registry(format!(
                            "{}: the registry asks for a user name and password, and none was given",
                            self.base
                        )));
                    }
                    if self.base.scheme() != "https" && !crate::http::allowed(&self.base) {
                        return Err(OciError::Registry(
                            "refused to send a password in clear".into(),
                        ));
                    }
                    self.auth.lock().map_err(|_| poisoned())?.basic = true;
                }
                Some(Challenge::Bearer {
                    realm,
                    service,
                    scope: _,
                }) => {
                    let token = fetch_token(
                        &self.token_http,
                        &realm,
                        service.as_deref(),
                        &scope,
                        &self.credentials,
                    )?;
                    self.auth
                        .lock()
                        .map_err(|_| poisoned())?
                        .tokens
                        .insert(scope.clone(), token);
                }
                None => {
                    return Err(OciError::Registry(format!(
                        "{url}: HTTP 401 without a challenge this client understands"
                    )));
                }
            }
        }
    }

    fn describe(&self, url: &reqwest::Url, e: reqwest::Error) -> OciError {
        if e.is_timeout() {
            OciError::Unavailable(format!(
                "{url}: timed out after {} s",
                self.timeout.as_secs()
            ))
        } else if e.is_connect() {
            OciError::Unavailable(format!(
                "cannot reach {}: {}",
                self.base,
                std::error::Error::source(&e)
                    .map(|s| s.to_string())
                    .unwrap_or_else(|| e.to_string())
            ))
        } else {
            OciError::Registry(format!("{url}: {e}"))
        }
    }

    /// An error for an unexpected status, with the registry's own words.
    fn status_error(&self, what: &str, response: Response) -> OciError {
        let status = response.status();
        let body = read_capped(response, MAX_ERROR_BODY, what).unwrap_or_default();
        let detail = error_message(&body);
        let message = format!(
            "{what}: HTTP {status}{}",
            detail.map(|d| format!(" ({d})")).unwrap_or_default()
        );
        if status.is_server_error() || status.as_u16() == 429 {
            OciError::Unavailable(message)
        } else {
            OciError::Registry(message)
        }
    }

    /// Fetches the manifest or index `selector` (a tag or digest), capped.
    /// Fetched by digest, its bytes must hash to that digest.
    pub fn get_manifest(&self, selector: &str, accept: &[&str]) -> Result<Fetched, OciError> {
        self.get_manifest_if_any(selector, accept)?.ok_or_else(|| {
            OciError::Registry(format!(
                "manifest {}:{selector}: not found",
                self.repository
            ))
        })
    }

    /// Like [`Registry::get_manifest`], `None` when it does not exist.
    pub fn get_manifest_if_any(
        &self,
        selector: &str,
        accept: &[&str],
    ) -> Result<Option<Fetched>, OciError> {
        let url = self.url(&format!("v2/{}/manifests/{selector}", self.repository))?;
        let accept = accept.join(", ");
        let response = self.send(&url, false, &|c| c.get(url.clone()).header(ACCEPT, &accept))?;
        let what = format!("manifest {}:{selector}", self.repository);
        if response.status() == StatusCode::NOT_FOUND {
            return Ok(None);
        }
        if !response.status().is_success() {
            return Err(self.status_error(&what, response));
        }
        let media_type = content_type(response.headers());
        let claimed = response
            .headers()
            .get("docker-content-digest")
            .and_then(|v| v.to_str().ok())
            .map(str::to_string);
        let bytes = read_capped(response, MAX_MANIFEST, &what)?;
        let digest = sha256_digest(&bytes);
        let expected = if selector.starts_with("sha256:") {
            Some(selector.to_string())
        } else {
            claimed.filter(|c| c.starts_with("sha256:"))
        };
        if let Some(expected) = expected
            && expected != digest
        {
            return Err(OciError::DigestMismatch {
                what,
                digest: expected,
            });
        }
        Ok(Some(Fetched {
            bytes,
            media_type,
            digest,
        }))
    }

    /// Opens the blob `digest` of `size` bytes for streaming: the reader
    /// fails on more bytes than `size`, and [`BlobReader::finish`] checks
    /// the size and digest.
    pub fn blob(&self, digest: &str, size: u64, what: &str) -> Result<BlobReader, OciError> {
        super::reference::check_digest(digest)
            .map_err(|r| OciError::Registry(format!("{what}: {r}")))?;
        let url = self.url(&format!("v2/{}/blobs/{digest}", self.repository))?;
        let response = self.send(&url, false, &|c| c.get(url.clone()))?;
        if !response.status().is_success() {
            return Err(self.status_error(&format!("{what} (blob {digest})"), response));
        }
        if let Some(n) = response.content_length()
            && n != size
        {
            return Err(OciError::DigestMismatch {
                what: format!("{what} ({n} bytes where the manifest says {size})"),
                digest: digest.to_string(),
            });
        }
        let now = std::time::Instant::now();
        Ok(BlobReader {
            response,
            deadline: (now
                + timeout()
                + Duration::from_secs(size / MIN_BLOB_RATE).min(self.limits.max_time))
            .min(self.total_deadline),
            limits: self.limits,
            window_start: now,
            window_bytes: 0,
            hasher: Sha256::new(),
            read: 0,
            size,
            digest: digest.to_string(),
            what: what.to_string(),
        })
    }

    /// Reads a small blob whole (at most `max` bytes), checked.
    pub fn blob_bytes(
        &self,
        digest: &str,
        size: u64,
        max: u64,
        what: &str,
    ) -> Result<Vec<u8>, OciError> {
        if size > max {
            return Err(OciError::TooLarge {
                what: what.to_string(),
                max,
            });
        }
        let mut reader = self.blob(digest, size, what)?;
        let mut bytes = Vec::with_capacity(size as usize);
        reader
            .read_to_end(&mut bytes)
            .map_err(|e| OciError::unavailable_if_io(format!("{what}: {e}"), &e))?;
        reader.finish()?;
        Ok(bytes)
    }

    /// Whether the registry has the blob `digest`.
    fn blob_exists(&self, digest: &str) -> Result<bool, OciError> {
        let url = self.url(&format!("v2/{}/blobs/{digest}", self.repository))?;
        let response = self.send(&url, true, &|c| c.head(url.clone()))?;
        Ok(response.status().is_success())
    }

    /// Uploads `bytes` as a blob (unless the registry has it) and returns
    /// its digest.
    pub fn push_blob(&self, bytes: &[u8]) -> Result<String, OciError> {
        let digest = sha256_digest(bytes);
        if self.blob_exists(&digest)? {
            return Ok(digest);
        }
        let start = self.url(&format!("v2/{}/blobs/uploads/", self.repository))?;
        let response = self.send(&start, true, &|c| {
            c.post(start.clone()).header(CONTENT_LENGTH, "0")
        })?;
        if response.status() != StatusCode::ACCEPTED {
            return Err(self.status_error("starting a blob upload", response));
        }
        let location = response
            .headers()
            .get(LOCATION)
            .and_then(|v| v.to_str().ok())
            .ok_or_else(|| OciError::Registry("blob upload: no Location".into()))?;
        let mut put = self
            .base
            .join(location)
            .map_err(|e| OciError::Registry(format!("blob upload location {location:?}: {e}")))?;
        if !crate::http::allowed(&put) {
            return Err(OciError::Registry(format!(
                "blob upload location {put} refused (not https)"
            )));
        }
        put.query_pairs_mut().append_pair("digest", &digest);
        let body = bytes.to_vec();
        let response = self.send(&put, true, &|c| {
            c.put(put.clone())
                .header(CONTENT_TYPE, "application/octet-stream")
                .body(body.clone())
        })?;
        if response.status() != StatusCode::CREATED {
            return Err(self.status_error(&format!("uploading blob {digest}"), response));
        }
        Ok(digest)
    }

    /// Puts a manifest or index under `selector` (a tag or its digest).
    pub fn push_manifest(
        &self,
        selector: &str,
        bytes: &[u8],
        media_type: &str,
    ) -> Result<Pushed, OciError> {
        let url = self.url(&format!("v2/{}/manifests/{selector}", self.repository))?;
        let body = bytes.to_vec();
        let response = self.send(&url, true, &|c| {
            c.put(url.clone())
                .header(CONTENT_TYPE, media_type)
                .body(body.clone())
        })?;
        if response.status() != StatusCode::CREATED {
            return Err(self.status_error(&format!("pushing manifest {selector}"), response));
        }
        let subject_indexed = subject_indexed(response.headers());
        Ok(Pushed { subject_indexed })
    }

    /// The first page of the referrers API for `digest`, filtered by
    /// artifact type: `GET /v2/<name>/referrers/<digest>?artifactType=<type>`.
    fn referrers_url(&self, digest: &str, artifact_type: &str) -> Result<reqwest::Url, OciError> {
        let mut u = self.url(&format!("v2/{}/referrers/{digest}", self.repository))?;
        u.query_pairs_mut()
            .append_pair("artifactType", artifact_type);
        Ok(u)
    }

    /// One page of the referrers API for `digest`: `None` when the registry
    /// has no referrers API (404); the index bytes and the next page's URL.
    pub fn referrers_page(
        &self,
        page: Option<&reqwest::Url>,
        digest: &str,
        artifact_type: &str,
    ) -> Result<Option<ReferrersPage>, OciError> {
        let url = match page {
            Some(u) => u.clone(),
            None => self.referrers_url(digest, artifact_type)?,
        };
        if !self.same_origin(&url) {
            return Err(OciError::Registry(format!(
                "referrers page {url} is on another host"
            )));
        }
        let response = self.send(&url, false, &|c| {
            c.get(url.clone())
                .header(ACCEPT, super::manifest::INDEX_MEDIA_TYPE)
        })?;
        if response.status() == StatusCode::NOT_FOUND && page.is_none() {
            return Ok(None);
        }
        if !response.status().is_success() {
            return Err(self.status_error(&format!("referrers of {digest}"), response));
        }
        let next = next_link(response.headers()).and_then(|l| self.base.join(&l).ok());
        let bytes = read_capped(response, MAX_MANIFEST, &format!("referrers of {digest}"))?;
        Ok(Some((bytes, next)))
    }
}

/// One page of referrers: the index bytes and the next page's URL.
type ReferrersPage = (Vec<u8>, Option<reqwest::Url>);

fn poisoned() -> OciError {
    OciError::Registry("internal: the sign-in state is poisoned".into())
}

fn content_type(headers: &HeaderMap) -> Option<String> {
    headers
        .get(CONTENT_TYPE)
        .and_then(|v| v.to_str().ok())
        .map(|v| v.split(';').next().unwrap_or(v).trim().to_string())
}

/// Whether a manifest push was answered with `OCI-Subject`: the registry
/// indexed the manifest's subject itself (referrers API), so no referrers
/// tag is needed.
fn subject_indexed(headers: &HeaderMap) -> bool {
    headers.contains_key("oci-subject")
}

/// The `rel="next"` target of a `Link` header.
fn next_link(headers: &HeaderMap) -> Option<String> {
    let link = headers.get("link")?.to_str().ok()?;
    for part in link.split(',') {
        let (target, params) = part.split_once(';')?;
        if params.contains("rel=\"next\"") || params.contains("rel=next") {
            let target = target.trim();
            return target
                .strip_prefix('<')
                .and_then(|t| t.strip_suffix('>'))
                .map(str::to_string);
        }
    }
    None
}

/// The first message of a distribution-API error body, on one line.
fn error_message(body: &[u8]) -> Option<String> {
    #[derive(serde::Deserialize)]
    struct Errors {
        errors: Vec<Entry>,
    }
    #[derive(serde::Deserialize)]
    struct Entry {
        code: Option<String>,
        message: Option<String>,
    }
    let parsed: Errors = serde_json::from_slice(body).ok()?;
    let first = parsed.errors.into_iter().next()?;
    let text = match (first.code, first.message) {
        (Some(c), Some(m)) => format!("{c}: {m}"),
        (Some(c), None) => c,
        (None, Some(m)) => m,
        (None, None) => return None,
    };
    Some(text.chars().filter(|c| !c.is_control()).take(200).collect())
}

/// A blob being streamed: counts and hashes what it reads.
pub(crate) struct BlobReader {
    response: Response,
    /// When the whole blob must have arrived (see [`MIN_BLOB_RATE`] and
    /// [`BlobLimits::max_time`]).
    deadline: std::time::Instant,
    limits: BlobLimits,
    /// The current stall window and what arrived in it.
    window_start: std::time::Instant,
    window_bytes: u64,
    hasher: Sha256,
    read: u64,
    size: u64,
    digest: String,
    what: String,
}

impl Read for BlobReader {
    fn read(&mut self, buf: &mut [u8]) -> std::io::Result<usize> {
        if std::time::Instant::now() > self.deadline {
            return Err(past_deadline(&self.what));
        }
        let n = self.response.read(buf)?;
        self.window_bytes += n as u64;
        let now = std::time::Instant::now();
        if now.duration_since(self.window_start) >= self.limits.stall_window {
            if n != 0 && self.window_bytes < self.limits.stall_min_bytes {
                return Err(std::io::Error::new(
                    std::io::ErrorKind::TimedOut,
                    format!(
                        "{}: the registry stalled: fewer than {} bytes in {} s (timed out)",
                        self.what,
                        self.limits.stall_min_bytes,
                        self.limits.stall_window.as_secs_f64()
                    ),
                ));
            }
            self.window_start = now;
            self.window_bytes = 0;
        }
        self.read += n as u64;
        if self.read > self.size {
            return Err(std::io::Error::other(format!(
                "{}: the registry sent more than the {} bytes the manifest says",
                self.what, self.size
            )));
        }
        self.hasher.update(&buf[..n]);
        Ok(n)
    }
}

impl BlobReader {
    /// Reads what is left and checks the size and digest.
    pub fn finish(mut self) -> Result<(), OciError> {
        std::io::copy(&mut self, &mut std::io::sink())
            .map_err(|e| OciError::unavailable_if_io(format!("{}: {e}", self.what), &e))?;
        let digest = format!("sha256:{}", hex::encode(self.hasher.finalize()));
        if self.read != self.size || digest != self.digest {
            return Err(OciError::DigestMismatch {
                what: self.what,
                digest: self.digest,
            });
        }
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn plain_http_only_for_loopback() {
        let options = RegistryOptions {
            plain_http: true,
            ..RegistryOptions::new(Credentials::Anonymous)
        };
        let remote = Reference::parse("oci://registry.example/m:t").unwrap();
        let err = Registry::new(&remote, &options).unwrap_err();
        assert!(err.to_string().contains("loopback"), "{err}");
        let local = Reference::parse("oci://127.0.0.1:5000/m:t").unwrap();
        assert!(Registry::new(&local, &options).is_ok());
    }

    /// The request of the referrers API (distribution spec v1.1, "Listing
    /// Referrers"): the subject digest in the path, the artifact type as the
    /// `artifactType` query parameter, and the `Link` header's next page
    /// resolved against the registry and kept on it.
    #[test]
    fn referrers_api_requests_follow_the_spec() {
        let options = RegistryOptions {
            plain_http: true,
            ..RegistryOptions::new(Credentials::Anonymous)
        };
        let reference = Reference::parse("oci://127.0.0.1:5000/org/model:v1").unwrap();
        let registry = Registry::new(&reference, &options).unwrap();
        let digest = "sha256:e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855";
        let url = registry
            .referrers_url(digest, "application/vnd.dev.sigstore.bundle.v0.3+json")
            .unwrap();
        assert_eq!(
            url.as_str(),
            format!(
                "http://127.0.0.1:5000/v2/org/model/referrers/{digest}\
                 ?artifactType=application%2Fvnd.dev.sigstore.bundle.v0.3%2Bjson"
            )
        );
        let mut h = HeaderMap::new();
        h.insert(
            "link",
            format!("</v2/org/model/referrers/{digest}?n=2&last=x>; rel=\"next\"")
                .parse()
                .unwrap(),
        );
        let next = registry.base.join(&next_link(&h).unwrap()).unwrap();
        assert!(registry.same_origin(&next));
        assert_eq!(next.path(), format!("/v2/org/model/referrers/{digest}"));
        let elsewhere = reqwest::Url::parse("http://127.0.0.2:5000/v2/x").unwrap();
        assert!(!registry.same_origin(&elsewhere));
    }

    /// A registry with the referrers API answers a manifest push that has a
    /// subject with the `OCI-Subject` header; without it the client keeps
    /// the referrers tag itself.
    #[test]
    fn the_oci_subject_header_means_the_registry_indexed_the_subject() {
        let mut h = HeaderMap::new();
        assert!(!subject_indexed(&h));
        h.insert(
            "OCI-Subject",
            "sha256:e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855"
                .parse()
                .unwrap(),
        );
        assert!(subject_indexed(&h));
    }

    #[test]
    fn reads_links_and_error_bodies() {
        let mut h = HeaderMap::new();
        h.insert(
            "link",
            "</v2/m/referrers/sha256:00?n=2&last=x>; rel=\"next\""
                .parse()
                .unwrap(),
        );
        assert_eq!(
            next_link(&h).as_deref(),
            Some("/v2/m/referrers/sha256:00?n=2&last=x")
        );
        assert_eq!(
            error_message(
                br#"{"errors":[{"code":"MANIFEST_UNKNOWN","message":"manifest unknown\n"}]}"#
            )
            .as_deref(),
            Some("MANIFEST_UNKNOWN: manifest unknown")
        );
    }

    /// A registry that declares a huge blob and drips it one byte at a
    /// time is given up on when the stall window passes, not when the
    /// declared size at the floor rate would allow (years for 2^45 bytes).
    #[test]
    fn a_dripping_blob_is_given_up_on_as_stalled() {
        use std::io::{BufRead, BufReader, Write};
        let listener = std::net::TcpListener::bind("127.0.0.1:0").unwrap();
        let port = listener.local_addr().unwrap().port();
        std::thread::spawn(move || {
            let Ok((stream, _)) = listener.accept() else {
                return;
            };
            let mut reader = BufReader::new(stream.try_clone().unwrap());
            let mut line = String::new();
            while reader.read_line(&mut line).unwrap_or(0) > 2 {
                line.clear();
            }
            let mut stream = stream;
            let _ = stream.write_all(b"HTTP/1.1 200 OK\r\nContent-Length: 35184372088832\r\n\r\n");
            for _ in 0..100 {
                if stream.write_all(b"x").is_err() {
                    break;
                }
                std::thread::sleep(Duration::from_millis(50));
            }
        });
        let reference = Reference::parse(&format!("oci://127.0.0.1:{port}/r/m:v1")).unwrap();
        let mut options = RegistryOptions::new(Credentials::Anonymous);
        options.plain_http = true;
        options.blob_limits.stall_window = Duration::from_secs(1);
        options.blob_limits.stall_min_bytes = 1024;
        let registry = Registry::new(&reference, &options).unwrap();
        let digest = format!("sha256:{}", "a".repeat(64));
        let mut reader = registry.blob(&digest, 1 << 45, "layer").unwrap();
        let err = std::io::copy(&mut reader, &mut std::io::sink()).unwrap_err();
        assert_eq!(err.kind(), std::io::ErrorKind::TimedOut, "{err}");
        assert!(err.to_string().contains("stalled"), "{err}");
        let class = OciError::unavailable_if_io(err.to_string(), &err);
        assert!(class.is_retryable());
    }

    /// A registry that keeps each blob just above the stall rate is cut off
    /// by the whole model's deadline.
    #[test]
    fn the_whole_model_has_a_deadline() {
        use std::io::{BufRead, BufReader, Write};
        let listener = std::net::TcpListener::bind("127.0.0.1:0").unwrap();
        let port = listener.local_addr().unwrap().port();
        std::thread::spawn(move || {
            let Ok((stream, _)) = listener.accept() else {
                return;
            };
            let mut reader = BufReader::new(stream.try_clone().unwrap());
            let mut line = String::new();
            while reader.read_line(&mut line).unwrap_or(0) > 2 {
                line.clear();
            }
            let mut stream = stream;
            let _ = stream.write_all(b"HTTP/1.1 200 OK\r\nContent-Length: 1073741824\r\n\r\n");
            // 4 KiB every 100 ms: far above the stall rule below.
            for _ in 0..600 {
                if stream.write_all(&[b'x'; 4096]).is_err() {
                    break;
                }
                std::thread::sleep(Duration::from_millis(100));
            }
        });
        let reference = Reference::parse(&format!("oci://127.0.0.1:{port}/r/m:v1")).unwrap();
        let mut options = RegistryOptions::new(Credentials::Anonymous);
        options.plain_http = true;
        options.blob_limits.stall_window = Duration::from_secs(1);
        options.blob_limits.stall_min_bytes = 1024;
        options.blob_limits.total_time = Duration::from_secs(2);
        let registry = Registry::new(&reference, &options).unwrap();
        let digest = format!("sha256:{}", "a".repeat(64));
        let mut reader = registry.blob(&digest, 1 << 30, "layer").unwrap();
        let err = std::io::copy(&mut reader, &mut std::io::sink()).unwrap_err();
        assert_eq!(err.kind(), std::io::ErrorKind::TimedOut, "{err}");
        assert!(err.to_string().contains("too slowly"), "{err}");
    }
}
