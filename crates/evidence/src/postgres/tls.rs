//! TLS for the database connection, with rustls (aws-lc-rs), by `sslmode`:
//! `verify-full` checks the chain and the server name, `verify-ca` the
//! chain only, `require` encrypts without checking the certificate (as
//! libpq does; with `sslrootcert` given it checks the chain, as libpq
//! does). The driver is told TLS is required whenever any of them is
//! chosen, so a server without TLS is an error, never a plaintext session.

use super::uri::{ConnectSpec, SslMode};
use crate::{Error, Result};
use rustls::client::WebPkiServerVerifier;
use rustls::client::danger::{HandshakeSignatureValid, ServerCertVerified, ServerCertVerifier};
use rustls::crypto::CryptoProvider;
use rustls::pki_types::pem::PemObject;
use rustls::pki_types::{CertificateDer, ServerName, UnixTime};
use rustls::{
    CertificateError, ClientConfig, DigitallySignedStruct, RootCertStore, SignatureScheme,
};
use std::path::PathBuf;
use std::sync::Arc;

fn tls_error(spec: &ConnectSpec, why: impl std::fmt::Display) -> Error {
    Error::Usage(format!("{spec}: TLS: {why}"))
}

/// The trusted roots: `sslrootcert=FILE`, `sslrootcert=system`, or
/// libpq's default `~/.postgresql/root.crt`; `None` when there are none.
fn roots(spec: &ConnectSpec) -> Result<Option<RootCertStore>> {
    let mut store = RootCertStore::empty();
    let file = match spec.sslrootcert.as_deref() {
        Some("system") => {
            let found = rustls_native_certs::load_native_certs();
            for cert in found.certs {
                let _ = store.add(cert);
            }
            if store.is_empty() {
                return Err(tls_error(spec, "no system root certificates found"));
            }
            return Ok(Some(store));
        }
        Some(file) => PathBuf::from(file),
        None => match spec.env.get("HOME") {
            Some(home) => {
                let default = PathBuf::from(home).join(".postgresql/root.crt");
                if !default.exists() {
                    return Ok(None);
                }
                default
            }
            None => return Ok(None),
        },
    };
    let pem = crate::fetch::read_file(&file, crate::fetch::InputKind::Certificate)?;
    for cert in CertificateDer::pem_slice_iter(&pem) {
        let cert = cert.map_err(|e| tls_error(spec, format!("{}: {e}", file.display())))?;
        store
            .add(cert)
            .map_err(|e| tls_error(spec, format!("{}: {e}", file.display())))?;
    }
    if store.is_empty() {
        return Err(tls_error(
            spec,
            format!("{}: no certificates", file.display()),
        ));
    }
    Ok(Some(store))
}

/// The rustls configuration for `spec`, or `None` for `sslmode=disable`.
pub fn client_config(spec: &ConnectSpec) -> Result<Option<ClientConfig>> {
    if spec.sslmode == SslMode::Disable {
        return Ok(None);
    }
    let provider = Arc::new(rustls::crypto::aws_lc_rs::default_provider());
    let roots = roots(spec)?;
    let verifier: Arc<dyn ServerCertVerifier> = match (spec.sslmode, roots) {
        (SslMode::Require, None) => Arc::new(AnyCertificate(provider.clone())),
        (SslMode::VerifyCa | SslMode::VerifyFull, None) => {
            return Err(tls_error(
                spec,
                "verify-ca and verify-full need trusted roots: sslrootcert=FILE (PEM), sslrootcert=system, or ~/.postgresql/root.crt",
            ));
        }
        (mode, Some(roots)) => {
            let webpki =
                WebPkiServerVerifier::builder_with_provider(Arc::new(roots), provider.clone())
                    .build()
                    .map_err(|e| tls_error(spec, e))?;
            if mode == SslMode::VerifyFull {
                webpki as Arc<dyn ServerCertVerifier>
            } else {
                Arc::new(ChainOnly(webpki))
            }
        }
        (SslMode::Disable, _) => return Ok(None),
    };
    let config = ClientConfig::builder_with_provider(provider)
        .with_safe_default_protocol_versions()
        .map_err(|e| tls_error(spec, e))?
        .dangerous()
        .with_custom_certificate_verifier(verifier)
        .with_no_client_auth();
    Ok(Some(config))
}

/// `verify-ca`: the chain must verify; the name is not checked.
#[derive(Debug)]
struct ChainOnly(Arc<WebPkiServerVerifier>);

impl ServerCertVerifier for ChainOnly {
    fn verify_server_cert(
        &self,
        end_entity: &CertificateDer<'_>,
        intermediates: &[CertificateDer<'_>],
        server_name: &ServerName<'_>,
        ocsp: &[u8],
        now: UnixTime,
    ) -> std::result::Result<ServerCertVerified, rustls::Error> {
        // The name is checked after the chain: a name error means the
        // chain verified.
        match self
            .0
            .verify_server_cert(end_entity, intermediates, server_name, ocsp, now)
        {
            Err(rustls::Error::InvalidCertificate(
                CertificateError::NotValidForName | CertificateError::NotValidForNameContext { .. },
            )) => Ok(ServerCertVerified::assertion()),
            other => other,
        }
    }

    fn verify_tls12_signature(
        &self,
        message: &[u8],
        cert: &CertificateDer<'_>,
        dss: &DigitallySignedStruct,
    ) -> std::result::Result<HandshakeSignatureValid, rustls::Error> {
        self.0.verify_tls12_signature(message, cert, dss)
    }

    fn verify_tls13_signature(
        &self,
        message: &[u8],
        cert: &CertificateDer<'_>,
        dss: &DigitallySignedStruct,
    ) -> std::result::Result<HandshakeSignatureValid, rustls::Error> {
        self.0.verify_tls13_signature(message, cert, dss)
    }

    fn supported_verify_schemes(&self) -> Vec<SignatureScheme> {
        self.0.supported_verify_schemes()
    }
}

/// `require` without roots: encryption only (libpq's meaning); the
/// handshake signatures are still checked.
#[derive(Debug)]
struct AnyCertificate(Arc<CryptoProvider>);

impl ServerCertVerifier for AnyCertificate {
    fn verify_server_cert(
        &self,
        _end_entity: &CertificateDer<'_>,
        _intermediates: &[CertificateDer<'_>],
        _server_name: &ServerName<'_>,
        _ocsp: &[u8],
        _now: UnixTime,
    ) -> std::result::Result<ServerCertVerified, rustls::Error> {
        Ok(ServerCertVerified::assertion())
    }

    fn verify_tls12_signature(
        &self,
        message: &[u8],
        cert: &CertificateDer<'_>,
        dss: &DigitallySignedStruct,
    ) -> std::result::Result<HandshakeSignatureValid, rustls::Error> {
        rustls::crypto::verify_tls12_signature(
            message,
            cert,
            dss,
            &self.0.signature_verification_algorithms,
        )
    }

    fn verify_tls13_signature(
        &self,
        message: &[u8],
        cert: &CertificateDer<'_>,
        dss: &DigitallySignedStruct,
    ) -> std::result::Result<HandshakeSignatureValid, rustls::Error> {
        rustls::crypto::verify_tls13_signature(
            message,
            cert,
            dss,
            &self.0.signature_verification_algorithms,
        )
    }

    fn supported_verify_schemes(&self) -> Vec<SignatureScheme> {
        self.0.signature_verification_algorithms.supported_schemes()
    }
}
