//! modelseal-server: the deploy gate as a service. A Kubernetes validating
//! and mutating admission webhook (`admission.k8s.io/v1`) for Pods (image
//! volumes, model-carrier containers) and KServe InferenceServices, and a
//! verify API for pipelines, over HTTPS.
//!
//! Every admission writes its own evidence: the verification it made and a
//! deployment (or refusal) record naming the object and the request, durable
//! before the answer admits. Verdicts are cached by (repository, manifest
//! digest, policy digest) and made once however many requests ask at once.
//!
//! The gate itself is the `modelseal` library's, given as a [`Judge`]; the
//! clock is the caller's ([`Clock`]).
#![forbid(unsafe_code)]
#![warn(missing_docs)]

mod admit;
mod cache;
mod config;
mod http;
mod judge;
mod locate;
mod metrics;
mod review;

pub use admit::{Clock, State};
pub use cache::Cache;
pub use config::{ServeConfig, VerifyApi};
pub use http::{Limits, serve};
pub use judge::{Judge, Judgement};
pub use locate::{
    ImageRef, ImageRefError, ImageRefProblem, KSERVE_SOURCE_URI, LocateError, MAX_LOCATIONS,
    MODEL_CONTAINERS,
};
pub use metrics::Metrics;
pub use review::{API_VERSION, Response, ReviewError};

use std::path::Path;
use std::sync::Arc;

/// Why the server cannot start.
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum ServeError {
    /// A certificate, key or CA file is unusable.
    #[error("{path}: {why}")]
    Tls {
        /// The file.
        path: String,
        /// What is wrong.
        why: String,
    },
    /// The configuration is unusable.
    #[error("{0}")]
    Config(String),
}

/// The TLS configuration: the server's certificate chain and key (PEM), and
/// the CA whose client certificates are accepted (a client without one is
/// still served, except where a path requires it).
pub fn tls_config(
    cert: &Path,
    key: &Path,
    client_ca: Option<&Path>,
) -> Result<Arc<rustls::ServerConfig>, ServeError> {
    use rustls_pki_types::pem::PemObject;
    use rustls_pki_types::{CertificateDer, PrivateKeyDer};
    let tls = |path: &Path, why: String| ServeError::Tls {
        path: path.display().to_string(),
        why,
    };
    let read_certs = |path: &Path| -> Result<Vec<CertificateDer<'static>>, ServeError> {
        let certs = CertificateDer::pem_file_iter(path)
            .map_err(|e| tls(path, e.to_string()))?
            .collect::<Result<Vec<_>, _>>()
            .map_err(|e| tls(path, e.to_string()))?;
        if certs.is_empty() {
            return Err(tls(path, "no PEM certificate in it".into()));
        }
        Ok(certs)
    };
    let chain = read_certs(cert)?;
    let key_der = PrivateKeyDer::from_pem_file(key).map_err(|e| tls(key, e.to_string()))?;
    let provider = Arc::new(rustls::crypto::aws_lc_rs::default_provider());
    let builder = rustls::ServerConfig::builder_with_provider(provider.clone())
        .with_safe_default_protocol_versions()
        .map_err(|e| ServeError::Config(e.to_string()))?;
    let builder = match client_ca {
        Some(ca) => {
            let mut roots = rustls::RootCertStore::empty();
            for c in read_certs(ca)? {
                roots.add(c).map_err(|e| tls(ca, e.to_string()))?;
            }
            let verifier = rustls::server::WebPkiClientVerifier::builder_with_provider(
                Arc::new(roots),
                provider,
            )
            .allow_unauthenticated()
            .build()
            .map_err(|e| tls(ca, e.to_string()))?;
            builder.with_client_cert_verifier(verifier)
        }
        None => builder.with_no_client_auth(),
    };
    let config = builder
        .with_single_cert(chain, key_der)
        .map_err(|e| tls(key, format!("does not match the certificate: {e}")))?;
    Ok(Arc::new(config))
}
