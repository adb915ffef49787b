//! HTTPS: TLS (client certificates checked against a configured CA), the
//! six paths, bounded bodies and times, and a shutdown that finishes the
//! requests in flight.

use crate::admit::State;
use crate::metrics::Metrics;
use crate::review::ReviewIn;
use bytes::Bytes;
use http_body_util::{BodyExt, Full, Limited};
use hyper::body::Incoming;
use hyper::{Method, StatusCode};
use std::future::Future;
use std::sync::Arc;
use std::sync::atomic::{AtomicBool, Ordering};
use std::time::{Duration, Instant};
use tokio::net::TcpListener;

/// How a request must arrive.
#[derive(Debug, Clone)]
pub struct Limits {
    /// The largest AdmissionReview read (the API server stores objects of
    /// at most 1.5 MiB; a review carries the object and the old one).
    pub max_review: usize,
    /// Reviews parsed at once: a parsed review takes many times its size
    /// in memory, so this bounds the server's.
    pub parsing: usize,
    /// The largest verify request read.
    pub max_verify: usize,
    /// Headers and body must arrive within this.
    pub read_timeout: Duration,
    /// A TLS handshake must finish within this.
    pub handshake_timeout: Duration,
    /// Connections served at once; more wait to be accepted.
    pub max_connections: usize,
    /// Whether `/v1/verify` needs a client certificate from the CA.
    pub verify_needs_client_certificate: bool,
    /// How long shutdown waits for requests in flight.
    pub drain: Duration,
}

impl Default for Limits {
    fn default() -> Self {
        Limits {
            max_review: 3 << 20,
            parsing: 2,
            max_verify: 64 << 10,
            read_timeout: Duration::from_secs(10),
            handshake_timeout: Duration::from_secs(5),
            max_connections: 1024,
            verify_needs_client_certificate: true,
            drain: Duration::from_secs(30),
        }
    }
}

type Body = Full<Bytes>;

fn reply(status: StatusCode, content_type: &str, body: impl Into<Bytes>) -> hyper::Response<Body> {
    let mut r = hyper::Response::new(Full::new(body.into()));
    *r.status_mut() = status;
    if let Ok(v) = hyper::header::HeaderValue::from_str(content_type) {
        r.headers_mut().insert(hyper::header::CONTENT_TYPE, v);
    }
    r
}

/// A one-line refusal before anything was judged.
fn refuse(state: &State, status: StatusCode, why: &str) -> hyper::Response<Body> {
    Metrics::add(&state.metrics.rejected);
    reply(status, "text/plain; charset=utf-8", format!("{why}\n"))
}

/// Serves HTTPS on `listener` until `shutdown` completes, then stops
/// accepting and waits (at most `limits.drain`) for requests in flight.
pub async fn serve(
    listener: TcpListener,
    tls: Arc<rustls::ServerConfig>,
    state: Arc<State>,
    limits: Limits,
    shutdown: impl Future<Output = ()>,
) {
    let acceptor = tokio_rustls::TlsAcceptor::from(tls);
    let graceful = hyper_util::server::graceful::GracefulShutdown::new();
    let permits = Arc::new(tokio::sync::Semaphore::new(limits.max_connections.max(1)));
    let stopping = Arc::new(AtomicBool::new(false));
    let parsing = Arc::new(tokio::sync::Semaphore::new(limits.parsing.max(1)));
    let limits = Arc::new(limits);
    tokio::pin!(shutdown);
    loop {
        let permit = tokio::select! {
            p = permits.clone().acquire_owned() => match p { Ok(p) => p, Err(_) => break },
            () = &mut shutdown => break,
        };
        let (tcp, _) = tokio::select! {
            a = listener.accept() => match a {
                Ok(a) => a,
                // Out of descriptors and the like: wait a moment, go on.
                Err(_) => { tokio::time::sleep(Duration::from_millis(50)).await; continue; }
            },
            () = &mut shutdown => break,
        };
        let _ = tcp.set_nodelay(true);
        let (acceptor, state, limits, stopping, parsing) = (
            acceptor.clone(),
            state.clone(),
            limits.clone(),
            stopping.clone(),
            parsing.clone(),
        );
        let watcher = graceful.watcher();
        tokio::spawn(async move {
            let _permit = permit;
            let stream =
                match tokio::time::timeout(limits.handshake_timeout, acceptor.accept(tcp)).await {
                    Ok(Ok(s)) => s,
                    _ => {
                        Metrics::add(&state.metrics.tls_failures);
                        return;
                    }
                };
            let client_certified = stream
                .get_ref()
                .1
                .peer_certificates()
                .is_some_and(|c| !c.is_empty());
            let read_timeout = limits.read_timeout;
            let service = hyper::service::service_fn(move |req| {
                let (state, limits, stopping, parsing) = (
                    state.clone(),
                    limits.clone(),
                    stopping.clone(),
                    parsing.clone(),
                );
                async move {
                    Ok::<_, std::convert::Infallible>(
                        handle(req, &state, &limits, client_certified, &stopping, &parsing).await,
                    )
                }
            });
            let mut builder = hyper::server::conn::http1::Builder::new();
            builder
                .timer(hyper_util::rt::TokioTimer::new())
                .header_read_timeout(read_timeout)
                .max_buf_size(64 << 10);
            let conn = builder.serve_connection(hyper_util::rt::TokioIo::new(stream), service);
            let _ = watcher.watch(conn).await;
        });
    }
    stopping.store(true, Ordering::SeqCst);
    let _ = tokio::time::timeout(limits.drain, graceful.shutdown()).await;
}

async fn handle(
    req: hyper::Request<Incoming>,
    state: &Arc<State>,
    limits: &Limits,
    client_certified: bool,
    stopping: &AtomicBool,
    parsing: &Arc<tokio::sync::Semaphore>,
) -> hyper::Response<Body> {
    let started = Instant::now();
    let path = req.uri().path().to_string();
    match (req.method(), path.as_str()) {
        (&Method::GET, "/healthz") => return reply(StatusCode::OK, "text/plain", "ok\n"),
        (&Method::GET, "/readyz") => {
            return if stopping.load(Ordering::SeqCst) {
                reply(
                    StatusCode::SERVICE_UNAVAILABLE,
                    "text/plain",
                    "shutting down\n",
                )
            } else {
                reply(StatusCode::OK, "text/plain", "ready\n")
            };
        }
        (&Method::GET, "/metrics") => {
            return reply(
                StatusCode::OK,
                "text/plain; version=0.0.4",
                state.metrics.render(state.cache.len()),
            );
        }
        (&Method::POST, "/validate" | "/mutate" | "/v1/verify") => {}
        (_, "/healthz" | "/readyz" | "/metrics" | "/validate" | "/mutate" | "/v1/verify") => {
            return refuse(state, StatusCode::METHOD_NOT_ALLOWED, "method not allowed");
        }
        _ => return refuse(state, StatusCode::NOT_FOUND, "no such path"),
    }
    let endpoint = match path.as_str() {
        "/validate" => "validate",
        "/mutate" => "mutate",
        _ => "verify",
    };
    if endpoint == "verify" && limits.verify_needs_client_certificate && !client_certified {
        return refuse(
            state,
            StatusCode::FORBIDDEN,
            "the verify API needs a client certificate from the configured CA",
        );
    }
    let json = req
        .headers()
        .get(hyper::header::CONTENT_TYPE)
        .and_then(|v| v.to_str().ok())
        .is_some_and(|v| {
            v.split(';')
                .next()
                .is_some_and(|t| t.trim().eq_ignore_ascii_case("application/json"))
        });
    if !json {
        return refuse(
            state,
            StatusCode::UNSUPPORTED_MEDIA_TYPE,
            "the body must be application/json",
        );
    }
    let max = if endpoint == "verify" {
        limits.max_verify
    } else {
        limits.max_review
    };
    if req
        .headers()
        .get(hyper::header::CONTENT_LENGTH)
        .and_then(|v| v.to_str().ok())
        .and_then(|v| v.parse::<u64>().ok())
        .is_some_and(|n| n > max as u64)
    {
        return refuse(
            state,
            StatusCode::PAYLOAD_TOO_LARGE,
            &format!("the body is larger than {max} bytes"),
        );
    }
    let body = match tokio::time::timeout(
        limits.read_timeout,
        Limited::new(req.into_body(), max).collect(),
    )
    .await
    {
        Ok(Ok(b)) => b.to_bytes(),
        Ok(Err(e)) if e.is::<http_body_util::LengthLimitError>() => {
            return refuse(
                state,
                StatusCode::PAYLOAD_TOO_LARGE,
                &format!("the body is larger than {max} bytes"),
            );
        }
        Ok(Err(_)) => return refuse(state, StatusCode::BAD_REQUEST, "the body could not be read"),
        Err(_) => {
            return refuse(
                state,
                StatusCode::REQUEST_TIMEOUT,
                &format!(
                    "the body did not arrive within {} s",
                    limits.read_timeout.as_secs()
                ),
            );
        }
    };
    let (response, verdict) = if endpoint == "verify" {
        verify(state, &body).await
    } else {
        // Parsed off the event loop, a bounded number at once.
        let parsed = match parsing.clone().acquire_owned().await {
            Ok(permit) => {
                let bytes = body.clone();
                tokio::task::spawn_blocking(move || {
                    let parsed = ReviewIn::parse(&bytes);
                    drop(permit);
                    parsed
                })
                .await
                .unwrap_or(Err(crate::review::ReviewError::NoRequest))
            }
            Err(_) => Err(crate::review::ReviewError::NoRequest),
        };
        match parsed {
            Err(e) => (
                reply(
                    StatusCode::BAD_REQUEST,
                    "text/plain; charset=utf-8",
                    format!("{e}\n"),
                ),
                "invalid",
            ),
            Ok(request) => {
                let (answer, verdict) = if endpoint == "validate" {
                    let digest: [u8; 32] = <sha2::Sha256 as sha2::Digest>::digest(&body).into();
                    state.validate(request, digest).await
                } else {
                    state.mutate(request).await
                };
                (
                    reply(StatusCode::OK, "application/json", answer.to_review()),
                    verdict,
                )
            }
        }
    };
    state
        .metrics
        .request(endpoint, verdict, started.elapsed().as_secs_f64());
    response
}

#[derive(serde::Deserialize)]
#[serde(deny_unknown_fields)]
struct VerifyRequest {
    model: String,
}

async fn verify(state: &Arc<State>, body: &[u8]) -> (hyper::Response<Body>, &'static str) {
    let error = |status: StatusCode, why: &str| {
        reply(
            status,
            "application/json",
            serde_json::to_vec(&serde_json::json!({ "error": why })).unwrap_or_default(),
        )
    };
    let request: VerifyRequest = match modelseal_core::json::check_unique_keys(body)
        .map_err(|e| e.to_string())
        .and_then(|()| serde_json::from_slice(body).map_err(|e| e.to_string()))
    {
        Ok(r) => r,
        Err(e) => {
            return (
                error(
                    StatusCode::BAD_REQUEST,
                    &format!("not a verify request: {e}"),
                ),
                "invalid",
            );
        }
    };
    match state.verify(&request.model).await {
        Ok((verdict, verified)) => (
            reply(
                StatusCode::OK,
                "application/json",
                serde_json::to_vec(&verdict).unwrap_or_default(),
            ),
            if verified { "admit" } else { "deny" },
        ),
        Err((code, why)) => (
            error(
                StatusCode::from_u16(code).unwrap_or(StatusCode::BAD_REQUEST),
                &why,
            ),
            if code >= 500 { "error" } else { "invalid" },
        ),
    }
}
