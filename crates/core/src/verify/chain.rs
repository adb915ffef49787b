//! X.509 path validation for certificate mode: the bundle's leaf must chain,
//! through the bundle's intermediates, to one of the user's trust anchors;
//! every certificate on the path must be within its validity period, every
//! issuer a CA allowed to sign certificates, and the leaf usable for signing.
//!
//! Written here because the usual validators insist on TLS-shaped
//! certificates, while code-signing PKIs (including the reference
//! implementation's test PKI, whose leaf carries `CA:TRUE`) do not.

use crate::keys::{PublicKey, certificate_public_key, certificate_subject};
use der::oid::ObjectIdentifier;
use der::{Decode, Encode};
use p256::ecdsa::signature::Verifier;
use sha2::{Digest, Sha256, Sha384, Sha512};
use std::time::SystemTime;
use x509_cert::Certificate;
use x509_cert::ext::pkix::{BasicConstraints, ExtendedKeyUsage, KeyUsage};

const MAX_PATH: usize = 8;

const SHA256_RSA: ObjectIdentifier = ObjectIdentifier::new_unwrap("1.2.840.113549.1.1.11");
const SHA384_RSA: ObjectIdentifier = ObjectIdentifier::new_unwrap("1.2.840.113549.1.1.12");
const SHA512_RSA: ObjectIdentifier = ObjectIdentifier::new_unwrap("1.2.840.113549.1.1.13");
const ECDSA_SHA256: ObjectIdentifier = ObjectIdentifier::new_unwrap("1.2.840.10045.4.3.2");
const ECDSA_SHA384: ObjectIdentifier = ObjectIdentifier::new_unwrap("1.2.840.10045.4.3.3");
const ECDSA_SHA512: ObjectIdentifier = ObjectIdentifier::new_unwrap("1.2.840.10045.4.3.4");
const ED25519: ObjectIdentifier = ObjectIdentifier::new_unwrap("1.3.101.112");
const RSA_KEY: ObjectIdentifier = ObjectIdentifier::new_unwrap("1.2.840.113549.1.1.1");
const EKU_CODE_SIGNING: ObjectIdentifier = ObjectIdentifier::new_unwrap("1.3.6.1.5.5.7.3.3");
const EKU_TIME_STAMPING: ObjectIdentifier = ObjectIdentifier::new_unwrap("1.3.6.1.5.5.7.3.8");
const SHA256: ObjectIdentifier = ObjectIdentifier::new_unwrap("2.16.840.1.101.3.4.2.1");
const SHA384: ObjectIdentifier = ObjectIdentifier::new_unwrap("2.16.840.1.101.3.4.2.2");
const SHA512: ObjectIdentifier = ObjectIdentifier::new_unwrap("2.16.840.1.101.3.4.2.3");

/// What the leaf of a path is for.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Purpose {
    /// Signing models and BOMs (extendedKeyUsage codeSigning, when present).
    CodeSigning,
    /// An RFC 3161 time-stamping authority (extendedKeyUsage timeStamping,
    /// required, and the only one, as RFC 3161 says).
    TimeStamping,
}
const EKU_ANY: ObjectIdentifier = ObjectIdentifier::new_unwrap("2.5.29.37.0");

/// Extensions this validator understands, and so may be critical.
const KNOWN_EXTENSIONS: [&str; 6] = [
    "2.5.29.19", // basicConstraints
    "2.5.29.15", // keyUsage
    "2.5.29.37", // extKeyUsage
    "2.5.29.17", // subjectAltName
    "2.5.29.14", // subjectKeyIdentifier
    "2.5.29.35", // authorityKeyIdentifier
];

/// The leaf of a validated path.
#[derive(Debug, Clone)]
pub struct ValidatedLeaf {
    /// The key that signs.
    pub public_key: PublicKey,
    /// The leaf's subject.
    pub subject: String,
    /// The subject of the anchor the path ends at.
    pub anchor: String,
}

/// Why a chain does not validate.
#[derive(Debug, Clone, PartialEq, Eq, serde::Serialize)]
#[serde(rename_all = "kebab-case")]
pub enum ChainError {
    /// A certificate is outside its validity period.
    Expired(String),
    /// No path leads to a trust anchor.
    Untrusted(String),
    /// A certificate may not be used as it is on the path.
    Usage(String),
    /// A certificate is malformed or uses an unsupported algorithm.
    Malformed(String),
}

impl std::fmt::Display for ChainError {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            ChainError::Expired(m)
            | ChainError::Untrusted(m)
            | ChainError::Usage(m)
            | ChainError::Malformed(m) => f.write_str(m),
        }
    }
}

struct Cert {
    der: Vec<u8>,
    cert: Certificate,
}

fn parse(der: &[u8]) -> Result<Cert, ChainError> {
    let cert = Certificate::from_der(der)
        .map_err(|e| ChainError::Malformed(format!("not an X.509 certificate: {e}")))?;
    Ok(Cert {
        der: der.to_vec(),
        cert,
    })
}

/// Validates `chain` (leaf first) against `anchors` at time `at`, for code
/// signing.
pub fn validate(
    chain: &[Vec<u8>],
    anchors: &[Vec<u8>],
    at: SystemTime,
) -> Result<ValidatedLeaf, ChainError> {
    validate_for(chain, anchors, at, Purpose::CodeSigning)
}

/// Validates `chain` (leaf first) against `anchors` at time `at`, for
/// `purpose`.
pub fn validate_for(
    chain: &[Vec<u8>],
    anchors: &[Vec<u8>],
    at: SystemTime,
    purpose: Purpose,
) -> Result<ValidatedLeaf, ChainError> {
    let (leaf_der, intermediates) = chain
        .split_first()
        .ok_or_else(|| ChainError::Malformed("the certificate chain is empty".into()))?;
    let leaf = parse(leaf_der)?;
    let intermediates = intermediates
        .iter()
        .map(|d| parse(d))
        .collect::<Result<Vec<_>, _>>()?;
    let anchors = anchors
        .iter()
        .map(|d| parse(d))
        .collect::<Result<Vec<_>, _>>()?;
    check_leaf(&leaf.cert, purpose)?;
    check_time(&leaf.cert, at)?;
    let mut path = vec![&leaf];
    let anchor = extend(&mut path, &intermediates, &anchors, at)?;
    let public_key = certificate_public_key(&leaf.cert)
        .map_err(|e| ChainError::Malformed(format!("leaf certificate key: {e}")))?;
    Ok(ValidatedLeaf {
        public_key,
        subject: certificate_subject(&leaf.cert),
        anchor: certificate_subject(&anchor.cert),
    })
}

/// Depth-first search for an issuer of the last certificate of `path`;
/// returns the anchor reached.
fn extend<'a>(
    path: &mut Vec<&'a Cert>,
    intermediates: &'a [Cert],
    anchors: &'a [Cert],
    at: SystemTime,
) -> Result<&'a Cert, ChainError> {
    let current = *path.last().expect("path starts with the leaf");
    let mut last_error = None;
    // A certificate that is itself an anchor ends the path.
    if let Some(anchor) = anchors.iter().find(|a| a.der == current.der) {
        return Ok(anchor);
    }
    let below = counted_intermediates(path);
    for anchor in anchors {
        match issued_by(current, anchor, below, at) {
            Ok(()) => return Ok(anchor),
            Err(e @ ChainError::Untrusted(_)) => last_error.get_or_insert(e),
            Err(e) => return Err(e),
        };
    }
    if path.len() < MAX_PATH {
        for candidate in intermediates {
            if path.iter().any(|c| c.der == candidate.der) {
                continue;
            }
            match issued_by(current, candidate, below, at) {
                Ok(()) => {
                    path.push(candidate);
                    match extend(path, intermediates, anchors, at) {
                        Ok(anchor) => return Ok(anchor),
                        Err(e) => last_error = Some(e),
                    }
                    path.pop();
                }
                Err(e @ ChainError::Untrusted(_)) => {
                    last_error.get_or_insert(e);
                }
                Err(e) => last_error = Some(e),
            }
        }
    }
    Err(last_error.unwrap_or_else(|| {
        ChainError::Untrusted(format!(
            "no trust anchor issued {:?}",
            certificate_subject(&current.cert)
        ))
    }))
}

/// The certificates of `path` (leaf first) that count against the path
/// length limit of the next issuer: RFC 5280 §6.1.4 (l) counts every
/// certificate between the issuer and the leaf except self-issued ones (a
/// CA's key rollover); the leaf itself never counts.
fn counted_intermediates(path: &[&Cert]) -> usize {
    path.iter().skip(1).filter(|c| !self_issued(c)).count()
}

/// Whether subject and issuer are the same name (RFC 5280 §6.1: "self-issued").
fn self_issued(cert: &Cert) -> bool {
    let tbs = cert.cert.tbs_certificate();
    tbs.subject() == tbs.issuer()
}

/// Whether `issuer` signed `child` and may do so: `below` is the number of
/// non-self-issued intermediates between `issuer` and the leaf, which its
/// pathLenConstraint bounds (RFC 5280 §6.1.4 (l) and (m)).
fn issued_by(child: &Cert, issuer: &Cert, below: usize, at: SystemTime) -> Result<(), ChainError> {
    let name = certificate_subject(&issuer.cert);
    if child.cert.tbs_certificate().issuer() != issuer.cert.tbs_certificate().subject() {
        return Err(ChainError::Untrusted(format!(
            "{:?} was not issued by {name:?}",
            certificate_subject(&child.cert)
        )));
    }
    if !signature_valid(child, issuer)? {
        return Err(ChainError::Untrusted(format!(
            "the signature on {:?} does not verify with the key of {name:?}",
            certificate_subject(&child.cert)
        )));
    }
    check_critical(&issuer.cert)?;
    let tbs = issuer.cert.tbs_certificate();
    match tbs.get_extension::<BasicConstraints>() {
        Ok(Some((_, bc))) if bc.ca => {
            if let Some(limit) = bc.path_len_constraint {
                // pathLenConstraint n: at most n counted intermediates may
                // follow this certificate (0: it issues only leaves).
                if below > usize::from(limit) {
                    return Err(ChainError::Usage(format!(
                        "{name:?} exceeds its path length limit"
                    )));
                }
            }
        }
        Ok(_) => {
            return Err(ChainError::Usage(format!(
                "{name:?} is not a CA certificate"
            )));
        }
        Err(e) => {
            return Err(ChainError::Malformed(format!(
                "{name:?}: bad basicConstraints: {e}"
            )));
        }
    }
    match tbs.get_extension::<KeyUsage>() {
        Ok(Some((_, ku))) if !ku.key_cert_sign() => {
            return Err(ChainError::Usage(format!(
                "{name:?} may not sign certificates (keyUsage)"
            )));
        }
        Err(e) => {
            return Err(ChainError::Malformed(format!(
                "{name:?}: bad keyUsage: {e}"
            )));
        }
        _ => {}
    }
    check_time(&issuer.cert, at)
}

fn check_leaf(leaf: &Certificate, purpose: Purpose) -> Result<(), ChainError> {
    check_critical(leaf)?;
    let tbs = leaf.tbs_certificate();
    let name = certificate_subject(leaf);
    match tbs.get_extension::<KeyUsage>() {
        Ok(Some((_, ku))) if !ku.digital_signature() => {
            return Err(ChainError::Usage(format!(
                "the signing certificate {name:?} is not for digital signatures (keyUsage)"
            )));
        }
        Err(e) => {
            return Err(ChainError::Malformed(format!(
                "{name:?}: bad keyUsage: {e}"
            )));
        }
        _ => {}
    }
    if purpose == Purpose::TimeStamping {
        return match tbs.get_extension::<ExtendedKeyUsage>() {
            Ok(Some((true, eku))) if eku.0.as_slice() == [EKU_TIME_STAMPING] => Ok(()),
            Err(e) => Err(ChainError::Malformed(format!(
                "{name:?}: bad extendedKeyUsage: {e}"
            ))),
            _ => Err(ChainError::Usage(format!(
                "the time-stamping certificate {name:?} does not carry the critical \
                 extendedKeyUsage timeStamping alone (RFC 3161)"
            ))),
        };
    }
    match tbs.get_extension::<ExtendedKeyUsage>() {
        Ok(Some((_, eku)))
            if !eku
                .0
                .iter()
                .any(|o| *o == EKU_CODE_SIGNING || *o == EKU_ANY) =>
        {
            Err(ChainError::Usage(format!(
                "the signing certificate {name:?} is not for code signing (extendedKeyUsage)"
            )))
        }
        Err(e) => Err(ChainError::Malformed(format!(
            "{name:?}: bad extendedKeyUsage: {e}"
        ))),
        _ => Ok(()),
    }
}

fn check_critical(cert: &Certificate) -> Result<(), ChainError> {
    for ext in cert.tbs_certificate().extensions().into_iter().flatten() {
        if ext.critical && !KNOWN_EXTENSIONS.contains(&ext.extn_id.to_string().as_str()) {
            return Err(ChainError::Usage(format!(
                "{:?} has an unsupported critical extension {}",
                certificate_subject(cert),
                ext.extn_id
            )));
        }
    }
    Ok(())
}

fn check_time(cert: &Certificate, at: SystemTime) -> Result<(), ChainError> {
    let validity = cert.tbs_certificate().validity();
    let name = certificate_subject(cert);
    let not_before = validity.not_before.to_system_time();
    let not_after = validity.not_after.to_system_time();
    if at < not_before {
        return Err(ChainError::Expired(format!(
            "certificate {name:?} is not valid before {}",
            validity.not_before
        )));
    }
    if at > not_after {
        return Err(ChainError::Expired(format!(
            "certificate {name:?} expired on {}",
            validity.not_after
        )));
    }
    Ok(())
}

/// The bytes of the TBSCertificate inside a DER certificate, exactly as
/// they were signed (no re-encoding).
fn tbs_bytes(der: &[u8]) -> Option<&[u8]> {
    let (outer_header, _) = tlv(der)?;
    let inner = &der[outer_header..];
    let (header, len) = tlv(inner)?;
    inner.get(..header + len)
}

/// The header length and content length of the DER element at the start.
fn tlv(bytes: &[u8]) -> Option<(usize, usize)> {
    let first = *bytes.get(1)?;
    if first < 0x80 {
        return Some((2, usize::from(first)));
    }
    let n = usize::from(first & 0x7f);
    if n == 0 || n > 4 {
        return None;
    }
    let mut len = 0usize;
    for &b in bytes.get(2..2 + n)? {
        len = (len << 8) | usize::from(b);
    }
    Some((2 + n, len))
}

fn signature_valid(child: &Cert, issuer: &Cert) -> Result<bool, ChainError> {
    let alg = child.cert.signature_algorithm().oid;
    let sig = child
        .cert
        .signature()
        .as_bytes()
        .ok_or_else(|| ChainError::Malformed("certificate signature has unused bits".into()))?;
    let tbs = tbs_bytes(&child.der)
        .ok_or_else(|| ChainError::Malformed("truncated certificate".into()))?;
    verify_signed(&issuer.cert, alg, None, tbs, sig)
}

/// Whether `sig` is a signature by `signer`'s key over `message` with the
/// signature algorithm `alg` (for CMS, `rsaEncryption` with the digest
/// algorithm `digest` is accepted as well).
pub(crate) fn verify_signed(
    signer: &Certificate,
    alg: ObjectIdentifier,
    digest: Option<ObjectIdentifier>,
    message: &[u8],
    sig: &[u8],
) -> Result<bool, ChainError> {
    let alg = match (alg, digest) {
        (RSA_KEY, Some(SHA256)) => SHA256_RSA,
        (RSA_KEY, Some(SHA384)) => SHA384_RSA,
        (RSA_KEY, Some(SHA512)) => SHA512_RSA,
        (alg, _) => alg,
    };
    let tbs = message;
    let spki = signer.tbs_certificate().subject_public_key_info();
    let unsupported =
        || ChainError::Malformed(format!("unsupported certificate signature algorithm {alg}"));
    if spki.algorithm.oid == RSA_KEY {
        use rsa::pkcs8::DecodePublicKey;
        let der = spki
            .to_der()
            .map_err(|e| ChainError::Malformed(e.to_string()))?;
        let key = rsa::PublicKey::from_public_key_der(&der)
            .map_err(|e| ChainError::Malformed(format!("bad RSA issuer key: {e}")))?;
        let Ok(signature) = rsa::pkcs1v15::Signature::try_from(sig) else {
            return Ok(false);
        };
        return Ok(match alg {
            SHA256_RSA => rsa::pkcs1v15::VerifyingKey::<Sha256>::new(key)
                .verify(tbs, &signature)
                .is_ok(),
            SHA384_RSA => rsa::pkcs1v15::VerifyingKey::<Sha384>::new(key)
                .verify(tbs, &signature)
                .is_ok(),
            SHA512_RSA => rsa::pkcs1v15::VerifyingKey::<Sha512>::new(key)
                .verify(tbs, &signature)
                .is_ok(),
            _ => return Err(unsupported()),
        });
    }
    let key = certificate_public_key(signer)
        .map_err(|e| ChainError::Malformed(format!("issuer key: {e}")))?;
    let prehash: Vec<u8> = match alg {
        ECDSA_SHA256 => Sha256::digest(tbs).to_vec(),
        ECDSA_SHA384 => Sha384::digest(tbs).to_vec(),
        ECDSA_SHA512 => Sha512::digest(tbs).to_vec(),
        ED25519 => {
            return Ok(matches!(key, PublicKey::Ed25519(_)) && key.verify(tbs, sig));
        }
        _ => return Err(unsupported()),
    };
    Ok(key.verify_prehash(&prehash, sig))
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::keys::load_certificates;
    use std::path::{Path, PathBuf};
    use std::time::Duration;

    fn pki(name: &str) -> Vec<u8> {
        let dir: PathBuf = Path::new(concat!(env!("CARGO_MANIFEST_DIR"), "/../.."))
            .join("fixtures/interop/model-transparency/keys/certificate");
        load_certificates(&dir.join(name)).unwrap().remove(0)
    }

    fn year(y: u64) -> SystemTime {
        SystemTime::UNIX_EPOCH + Duration::from_secs((y - 1970) * 365 * 86400 + 200 * 86400)
    }

    #[test]
    fn reference_pki_validates_to_its_root() {
        let chain = [pki("signing-key-cert.pem"), pki("int-ca-cert.pem")];
        let leaf = validate(&chain, &[pki("ca-cert.pem")], year(2026)).unwrap();
        assert_eq!(leaf.anchor, "CN=root-ca");
        assert!(matches!(leaf.public_key, PublicKey::P384(_)));
        // The intermediate as the anchor works as well.
        validate(&chain[..1], &[pki("int-ca-cert.pem")], year(2026)).unwrap();
    }

    #[test]
    fn wrong_anchor_missing_intermediate_and_time_fail() {
        let chain = [pki("signing-key-cert.pem"), pki("int-ca-cert.pem")];
        let err = validate(&chain[..1], &[pki("ca-cert.pem")], year(2026)).unwrap_err();
        assert!(matches!(err, ChainError::Untrusted(_)), "{err}");
        let err = validate(&chain, &[pki("signing-key-cert.pem")], year(2026));
        // The leaf itself as an anchor is trusted directly.
        assert!(err.is_ok());
        let err = validate(&chain, &[], year(2026)).unwrap_err();
        assert!(matches!(err, ChainError::Untrusted(_)), "{err}");
        let err = validate(&chain, &[pki("ca-cert.pem")], year(2040)).unwrap_err();
        assert!(
            matches!(err, ChainError::Expired(ref m) if m.contains("expired")),
            "{err}"
        );
        let err = validate(&chain, &[pki("ca-cert.pem")], year(2020)).unwrap_err();
        assert!(
            matches!(err, ChainError::Expired(ref m) if m.contains("not valid before")),
            "{err}"
        );
    }

    #[test]
    fn a_flipped_signature_byte_breaks_the_chain() {
        let mut leaf = pki("signing-key-cert.pem");
        let n = leaf.len();
        leaf[n - 5] ^= 0x01;
        let err = validate(
            &[leaf, pki("int-ca-cert.pem")],
            &[pki("ca-cert.pem")],
            year(2026),
        )
        .unwrap_err();
        assert!(matches!(err, ChainError::Untrusted(_)), "{err}");
    }

    #[test]
    fn garbage_is_malformed() {
        let err = validate(
            &[vec![0x30, 0x03, 1, 2, 3]],
            &[pki("ca-cert.pem")],
            year(2026),
        )
        .unwrap_err();
        assert!(matches!(err, ChainError::Malformed(_)));
        assert!(matches!(
            validate(&[], &[], year(2026)),
            Err(ChainError::Malformed(_))
        ));
        assert_eq!(tlv(&[0x30]), None);
        assert_eq!(tlv(&[0x30, 0x82, 0x01, 0x00]), Some((4, 256)));
    }
}

#[cfg(test)]
mod path_length_tests;
