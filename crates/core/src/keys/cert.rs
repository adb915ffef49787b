//! X.509 certificates as key carriers: reading PEM certificate files and
//! taking the public key out of a certificate.

use super::PublicKey;
use super::pem::{pem_blocks, read_pem_file, spki_to_public_key};
use crate::{Error, Result};
use der::{Decode, Encode};
use std::path::Path;
use x509_cert::Certificate;

/// Reads every `CERTIFICATE` block of a PEM file, as DER, checking that each
/// parses. A file with no certificate is an error.
pub fn load_certificates(path: &Path) -> Result<Vec<Vec<u8>>> {
    let text = read_pem_file(path, crate::fetch::InputKind::Certificate).map_err(|e| match e {
        Error::Key { path, reason } => Error::Certificate(format!("{}: {reason}", path.display())),
        other => other,
    })?;
    let blocks =
        pem_blocks(&text).map_err(|e| Error::Certificate(format!("{}: {e}", path.display())))?;
    let mut out = Vec::new();
    for (label, der) in blocks {
        if label != "CERTIFICATE" {
            return Err(Error::Certificate(format!(
                "{}: PEM block {label:?} is not a certificate",
                path.display()
            )));
        }
        Certificate::from_der(&der).map_err(|e| {
            Error::Certificate(format!("{}: not an X.509 certificate: {e}", path.display()))
        })?;
        out.push(der);
    }
    if out.is_empty() {
        return Err(Error::Certificate(format!(
            "{}: no certificate found",
            path.display()
        )));
    }
    Ok(out)
}

/// The public key a certificate certifies (a key type this tool signs with).
pub fn certificate_public_key(
    cert: &Certificate,
) -> std::result::Result<PublicKey, super::KeyFormatError> {
    let spki = cert
        .tbs_certificate()
        .subject_public_key_info()
        .to_der()
        .map_err(super::KeyFormatError::Encode)?;
    spki_to_public_key(&spki)
}

/// The subject of a certificate, as RFC 4514 text.
pub fn certificate_subject(cert: &Certificate) -> String {
    cert.tbs_certificate().subject().to_string()
}
