//! RFC 3161 timestamps: a time-stamping authority (TSA) signs, in a CMS
//! SignedData, that a SHA-256 digest existed at a time. modelseal asks for
//! stamps over checkpoints and signatures ([`request`]) and checks them
//! ([`verify`]) against the TSA certificate chain the user trusts, so a time
//! no longer comes from a signer's or writer's clock alone.
//!
//! A stamp is accepted only when: the token is a SignedData of a TSTInfo
//! (version 1) with one signer; the TSTInfo's message imprint is SHA-256 of
//! the stamped bytes (and its nonce the one asked, when one was); the signed
//! attributes name the TSTInfo content type and carry its digest; the
//! signature over them verifies with the signer's certificate, which the
//! token carries and which chains to a trusted anchor at the stamp's time,
//! with the critical extendedKeyUsage timeStamping; and the time is not
//! ahead of the verifying clock.

use crate::verify::chain::{self, Purpose};
use cms::cert::CertificateChoices;
use cms::content_info::ContentInfo;
use cms::signed_data::{SignedData, SignerIdentifier};
use der::asn1::{ObjectIdentifier, OctetString};
use der::{Decode, Encode, Reader, SliceReader, Tag, Tagged};
use sha2::{Digest, Sha256, Sha384, Sha512};

const SIGNED_DATA: ObjectIdentifier = ObjectIdentifier::new_unwrap("1.2.840.113549.1.7.2");
const TST_INFO: ObjectIdentifier = ObjectIdentifier::new_unwrap("1.2.840.113549.1.9.16.1.4");
const CONTENT_TYPE: ObjectIdentifier = ObjectIdentifier::new_unwrap("1.2.840.113549.1.9.3");
const MESSAGE_DIGEST: ObjectIdentifier = ObjectIdentifier::new_unwrap("1.2.840.113549.1.9.4");
/// ESS signing-certificate-v2 (RFC 5035), which binds the signer's
/// certificate (unsigned in CMS) to the signature.
const SIGNING_CERTIFICATE_V2: ObjectIdentifier =
    ObjectIdentifier::new_unwrap("1.2.840.113549.1.9.16.2.47");
const SHA256_OID: ObjectIdentifier = ObjectIdentifier::new_unwrap("2.16.840.1.101.3.4.2.1");
const SHA384_OID: ObjectIdentifier = ObjectIdentifier::new_unwrap("2.16.840.1.101.3.4.2.2");
const SHA512_OID: ObjectIdentifier = ObjectIdentifier::new_unwrap("2.16.840.1.101.3.4.2.3");

/// Largest token or response read.
pub const MAX_TOKEN: usize = 64 << 10;
/// How far ahead of the verifying clock a stamp may be (clock skew).
pub const FUTURE_TOLERANCE_SECONDS: i64 = 600;

/// Why a stamp is refused.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[non_exhaustive]
pub enum TimestampError {
    /// Not a well-formed RFC 3161 response or token.
    #[error("not an RFC 3161 timestamp: {0}")]
    Malformed(String),
    /// The TSA did not grant the request.
    #[error("the time-stamping authority refused the request (status {status}{})", text.as_deref().map(|t| format!(": {t}")).unwrap_or_default())]
    Refused {
        /// PKIStatus.
        status: u64,
        /// Its text, if any.
        text: Option<String>,
    },
    /// The stamp is over other bytes (or another nonce).
    #[error("the timestamp is over other bytes: {0}")]
    OtherBytes(String),
    /// The signature or the TSA certificate does not hold.
    #[error("the timestamp's signature does not hold: {0}")]
    Untrusted(String),
    /// The stamped time is ahead of the verifying clock.
    #[error("the timestamp is dated {time}, after the verifying clock")]
    Future {
        /// The stamped time.
        time: jiff::Timestamp,
    },
}

/// A stamp that holds.
#[derive(Debug, Clone, PartialEq, Eq, serde::Serialize)]
pub struct Stamped {
    /// When the TSA says the bytes existed.
    pub time: jiff::Timestamp,
    /// The TSA certificate's subject.
    pub tsa: String,
    /// The trust anchor its chain ends at.
    pub anchor: String,
}

fn der_len(n: usize, out: &mut Vec<u8>) {
    if n < 0x80 {
        out.push(n as u8);
    } else {
        let bytes = n.to_be_bytes();
        let skip = bytes.iter().take_while(|b| **b == 0).count();
        out.push(0x80 | (bytes.len() - skip) as u8);
        out.extend_from_slice(&bytes[skip..]);
    }
}

fn tlv(tag: u8, body: &[u8]) -> Vec<u8> {
    let mut out = vec![tag];
    der_len(body.len(), &mut out);
    out.extend_from_slice(body);
    out
}

/// A DER INTEGER of a non-negative `n`.
fn integer(n: u64) -> Vec<u8> {
    let bytes = n.to_be_bytes();
    let skip = bytes.iter().take_while(|b| **b == 0).count().min(7);
    let mut body = bytes[skip..].to_vec();
    if body[0] & 0x80 != 0 {
        body.insert(0, 0);
    }
    tlv(0x02, &body)
}

/// The DER `TimeStampReq` for SHA-256 of `message`, with `nonce`, asking
/// for the TSA's certificate in the token.
pub fn request(message: &[u8], nonce: u64) -> Vec<u8> {
    let sha256_oid = [
        0x06, 0x09, 0x60, 0x86, 0x48, 0x01, 0x65, 0x03, 0x04, 0x02, 0x01,
    ];
    let algorithm = tlv(0x30, &[&sha256_oid[..], &[0x05, 0x00]].concat());
    let imprint = tlv(
        0x30,
        &[algorithm, tlv(0x04, &Sha256::digest(message))].concat(),
    );
    tlv(
        0x30,
        &[integer(1), imprint, integer(nonce), vec![0x01, 0x01, 0xff]].concat(),
    )
}

/// The token (a CMS ContentInfo, DER) of a `TimeStampResp`, when the TSA
/// granted the request.
pub fn token_from_response(response: &[u8]) -> Result<Vec<u8>, TimestampError> {
    let bad = |e: der::Error| TimestampError::Malformed(e.to_string());
    if response.len() > MAX_TOKEN {
        return Err(TimestampError::Malformed("a response over 64 KiB".into()));
    }
    let mut outer = SliceReader::new(response).map_err(bad)?;
    let header = der::Header::decode(&mut outer).map_err(bad)?;
    if header.tag() != Tag::Sequence {
        return Err(TimestampError::Malformed("not a TimeStampResp".into()));
    }
    let body = outer.read_slice(header.length()).map_err(bad)?;
    if !outer.is_finished() {
        return Err(TimestampError::Malformed("bytes after the response".into()));
    }
    let mut r = SliceReader::new(body).map_err(bad)?;
    // PKIStatusInfo ::= SEQUENCE { status INTEGER, statusString OPTIONAL, failInfo OPTIONAL }
    let status_info = der::Any::decode(&mut r).map_err(bad)?;
    let mut s = SliceReader::new(status_info.value()).map_err(bad)?;
    let status = u64::decode(&mut s).map_err(bad)?;
    let text = der::Any::decode(&mut s)
        .ok()
        .filter(|a| a.tag() == Tag::Sequence)
        .map(|a| {
            String::from_utf8_lossy(a.value())
                .chars()
                .filter(|c| !c.is_control())
                .take(200)
                .collect()
        });
    if status > 1 {
        return Err(TimestampError::Refused { status, text });
    }
    let token = der::Any::decode(&mut r).map_err(bad)?;
    if !r.is_finished() {
        return Err(TimestampError::Malformed("bytes after the token".into()));
    }
    token.to_der().map_err(bad)
}

/// The TSTInfo fields checked.
struct TstInfo {
    imprint_alg: ObjectIdentifier,
    imprint: Vec<u8>,
    time: jiff::Timestamp,
    nonce: Option<Vec<u8>>,
}

/// Reads a GeneralizedTime of RFC 3161 (`YYYYMMDDhhmmss[.f+]Z`).
fn generalized_time(value: &[u8]) -> Result<jiff::Timestamp, TimestampError> {
    let text = std::str::from_utf8(value)
        .map_err(|_| TimestampError::Malformed("genTime is not ASCII".into()))?;
    let bad = || TimestampError::Malformed(format!("genTime {text:?} is not YYYYMMDDhhmmss[.f]Z"));
    let body = text.strip_suffix('Z').ok_or_else(bad)?;
    let (whole, fraction) = body.split_once('.').unwrap_or((body, ""));
    if whole.len() != 14
        || !whole.bytes().all(|b| b.is_ascii_digit())
        || !fraction.bytes().all(|b| b.is_ascii_digit())
        || fraction.ends_with('0')
        || (body.contains('.') && fraction.is_empty())
    {
        return Err(bad());
    }
    let n = |a: usize, b: usize| whole[a..b].parse::<i16>().map_err(|_| bad());
    let dt = jiff::civil::DateTime::new(
        n(0, 4)?,
        n(4, 6)? as i8,
        n(6, 8)? as i8,
        n(8, 10)? as i8,
        n(10, 12)? as i8,
        n(12, 14)? as i8,
        0,
    )
    .map_err(|_| bad())?;
    dt.to_zoned(jiff::tz::TimeZone::UTC)
        .map(|z| z.timestamp())
        .map_err(|_| bad())
}

fn tst_info(der: &[u8]) -> Result<TstInfo, TimestampError> {
    let bad = |e: der::Error| TimestampError::Malformed(format!("TSTInfo: {e}"));
    let seq = der::Any::from_der(der).map_err(bad)?;
    if seq.tag() != Tag::Sequence {
        return Err(TimestampError::Malformed(
            "TSTInfo is not a SEQUENCE".into(),
        ));
    }
    let mut r = SliceReader::new(seq.value()).map_err(bad)?;
    let version = u64::decode(&mut r).map_err(bad)?;
    if version != 1 {
        return Err(TimestampError::Malformed(format!(
            "TSTInfo version {version}"
        )));
    }
    let _policy: ObjectIdentifier = ObjectIdentifier::decode(&mut r).map_err(bad)?;
    let imprint = der::Any::decode(&mut r).map_err(bad)?;
    let mut i = SliceReader::new(imprint.value()).map_err(bad)?;
    let alg = der::Any::decode(&mut i).map_err(bad)?;
    let imprint_alg =
        ObjectIdentifier::decode(&mut SliceReader::new(alg.value()).map_err(bad)?).map_err(bad)?;
    let hashed = OctetString::decode(&mut i).map_err(bad)?;
    let _serial = der::Any::decode(&mut r).map_err(bad)?;
    let time = der::Any::decode(&mut r).map_err(bad)?;
    if time.tag() != Tag::GeneralizedTime {
        return Err(TimestampError::Malformed(
            "genTime is not a GeneralizedTime".into(),
        ));
    }
    let time = generalized_time(time.value())?;
    let mut nonce = None;
    while !r.is_finished() {
        let field = der::Any::decode(&mut r).map_err(bad)?;
        if field.tag() == Tag::Integer {
            nonce = Some(field.value().to_vec());
        }
    }
    Ok(TstInfo {
        imprint_alg,
        imprint: hashed.as_bytes().to_vec(),
        time,
        nonce,
    })
}

fn digest(alg: ObjectIdentifier, bytes: &[u8]) -> Option<Vec<u8>> {
    match alg {
        SHA256_OID => Some(Sha256::digest(bytes).to_vec()),
        SHA384_OID => Some(Sha384::digest(bytes).to_vec()),
        SHA512_OID => Some(Sha512::digest(bytes).to_vec()),
        _ => None,
    }
}

/// Whether the ESS `SigningCertificateV2` value (`SEQUENCE { SEQUENCE OF
/// ESSCertIDv2 {...}, ... }`) names `cert` first: its hash algorithm must
/// be the default SHA-256.
fn ess_binds(value: &[u8], cert: &[u8]) -> bool {
    let first = || -> Option<bool> {
        let certs = der::Any::decode(&mut SliceReader::new(value).ok()?).ok()?;
        let id = der::Any::decode(&mut SliceReader::new(certs.value()).ok()?).ok()?;
        let mut r = SliceReader::new(id.value()).ok()?;
        let mut field = der::Any::decode(&mut r).ok()?;
        if field.tag() == Tag::Sequence {
            // An explicit hash algorithm: only SHA-256 is taken.
            let oid: ObjectIdentifier =
                ObjectIdentifier::decode(&mut SliceReader::new(field.value()).ok()?).ok()?;
            if oid != SHA256_OID {
                return Some(false);
            }
            field = der::Any::decode(&mut r).ok()?;
        }
        Some(field.tag() == Tag::OctetString && field.value() == Sha256::digest(cert).as_slice())
    };
    first().unwrap_or(false)
}

/// Checks what can be checked of a stamp without trusting any TSA: that it
/// is a well-formed token over SHA-256 of `message` with `nonce`, signed
/// by the certificate it carries and binds. What a caller without the
/// TSA's chain can know before keeping a stamp.
pub fn check_unanchored(token: &[u8], message: &[u8], nonce: u64) -> Result<(), TimestampError> {
    checked(token, message, None, Some(nonce), jiff::Timestamp::MAX).map(|_| ())
}

/// Checks the token (a CMS ContentInfo, DER) as a stamp of `message`
/// against the TSA `anchors` (DER certificates), with the verifying clock
/// `now`; `nonce`, when given, must be the token's. (Without anchors, only
/// [`check_unanchored`] says anything.)
pub fn verify(
    token: &[u8],
    message: &[u8],
    anchors: &[Vec<u8>],
    nonce: Option<u64>,
    now: jiff::Timestamp,
) -> Result<Stamped, TimestampError> {
    if anchors.is_empty() {
        return Err(TimestampError::Untrusted(
            "no TSA certificate is trusted".into(),
        ));
    }
    checked(token, message, Some(anchors), nonce, now)
}

/// [`verify`], with the chain checked only when `anchors` are given.
fn checked(
    token: &[u8],
    message: &[u8],
    anchors: Option<&[Vec<u8>]>,
    nonce: Option<u64>,
    now: jiff::Timestamp,
) -> Result<Stamped, TimestampError> {
    let bad = |e: der::Error| TimestampError::Malformed(e.to_string());
    if token.len() > MAX_TOKEN {
        return Err(TimestampError::Malformed("a token over 64 KiB".into()));
    }
    let info = ContentInfo::from_der(token).map_err(bad)?;
    if info.content_type != SIGNED_DATA {
        return Err(TimestampError::Malformed(
            "the token is not a SignedData".into(),
        ));
    }
    let signed: SignedData = info.content.decode_as().map_err(bad)?;
    if signed.encap_content_info.econtent_type != TST_INFO {
        return Err(TimestampError::Malformed(
            "the token does not hold a TSTInfo".into(),
        ));
    }
    let content = signed
        .encap_content_info
        .econtent
        .as_ref()
        .ok_or_else(|| TimestampError::Malformed("the token's TSTInfo is missing".into()))?;
    let content = OctetString::from_der(&content.to_der().map_err(bad)?)
        .map_err(bad)?
        .as_bytes()
        .to_vec();
    let tst = tst_info(&content)?;
    // Over the bytes given.
    if tst.imprint_alg != SHA256_OID || tst.imprint != Sha256::digest(message).as_slice() {
        return Err(TimestampError::OtherBytes(
            "its message imprint is not SHA-256 of the stamped bytes".into(),
        ));
    }
    if let Some(want) = nonce {
        let want = integer(want);
        if tst.nonce.as_deref() != Some(&want[2..]) {
            return Err(TimestampError::OtherBytes(
                "its nonce is not the one asked".into(),
            ));
        }
    }
    let signers = signed.signer_infos.0.as_slice();
    let [signer] = signers else {
        return Err(TimestampError::Malformed(format!(
            "{} signers, where one is expected",
            signers.len()
        )));
    };
    let attrs = signer
        .signed_attrs
        .as_ref()
        .ok_or_else(|| TimestampError::Malformed("no signed attributes".into()))?;
    let attribute = |oid: ObjectIdentifier| {
        let found: Vec<_> = attrs.iter().filter(|a| a.oid == oid).collect();
        match found.as_slice() {
            [one] if one.values.len() == 1 => one.values.get(0).cloned(),
            _ => None,
        }
    };
    let content_type = attribute(CONTENT_TYPE)
        .and_then(|v| v.decode_as::<ObjectIdentifier>().ok())
        .ok_or_else(|| TimestampError::Malformed("no single content-type attribute".into()))?;
    if content_type != TST_INFO {
        return Err(TimestampError::Malformed(
            "the content-type attribute is not TSTInfo".into(),
        ));
    }
    let message_digest = attribute(MESSAGE_DIGEST)
        .and_then(|v| {
            v.decode_as::<OctetString>()
                .ok()
                .map(|o| o.as_bytes().to_vec())
        })
        .ok_or_else(|| TimestampError::Malformed("no single message-digest attribute".into()))?;
    let digest_alg = signer.digest_alg.oid;
    if digest(digest_alg, &content).as_deref() != Some(message_digest.as_slice()) {
        return Err(TimestampError::Untrusted(
            "the message-digest attribute is not the digest of the TSTInfo".into(),
        ));
    }
    // The signer's certificate, from the token.
    let certs: Vec<x509_cert::Certificate> = signed
        .certificates
        .as_ref()
        .map(|set| {
            set.0
                .iter()
                .filter_map(|c| match c {
                    CertificateChoices::Certificate(cert) => Some(cert.clone()),
                    _ => None,
                })
                .collect()
        })
        .unwrap_or_default();
    let leaf = certs
        .iter()
        .find(|c| match &signer.sid {
            SignerIdentifier::IssuerAndSerialNumber(id) => {
                c.tbs_certificate().issuer() == &id.issuer
                    && c.tbs_certificate().serial_number() == &id.serial_number
            }
            SignerIdentifier::SubjectKeyIdentifier(_) => false,
        })
        .ok_or_else(|| {
            TimestampError::Untrusted(
                "the token does not carry its signer's certificate (issuer and serial)".into(),
            )
        })?;
    // The certificate named by the (unsigned) signer identifier must be the
    // one the signed ESS attribute binds.
    let ess = attribute(SIGNING_CERTIFICATE_V2).ok_or_else(|| {
        TimestampError::Untrusted(
            "no ESS signing-certificate-v2 attribute binds the TSA's certificate".into(),
        )
    })?;
    let leaf_der = leaf.to_der().map_err(bad)?;
    if !ess_binds(ess.value(), &leaf_der) {
        return Err(TimestampError::Untrusted(
            "the ESS signing-certificate attribute names another certificate".into(),
        ));
    }
    let signed_bytes = attrs.to_der().map_err(bad)?;
    let sig = signer.signature.as_bytes();
    let valid = chain::verify_signed(
        leaf,
        signer.signature_algorithm.oid,
        Some(digest_alg),
        &signed_bytes,
        sig,
    )
    .map_err(|e| TimestampError::Untrusted(e.to_string()))?;
    if !valid {
        return Err(TimestampError::Untrusted(
            "the TSA's signature does not verify".into(),
        ));
    }
    let Some(anchors) = anchors else {
        // Checked as far as it can be without trust: the caller asked only
        // for the bytes, nonce and signature (`check_unanchored`).
        return Ok(Stamped {
            time: tst.time,
            tsa: String::new(),
            anchor: String::new(),
        });
    };
    // The chain, at the stamped time: the leaf first, then the token's
    // other certificates as intermediates.
    let mut chain_der = vec![leaf_der];
    for c in certs.iter().filter(|c| *c != leaf) {
        chain_der.push(c.to_der().map_err(bad)?);
    }
    let at = std::time::SystemTime::UNIX_EPOCH
        + std::time::Duration::from_secs(u64::try_from(tst.time.as_second()).unwrap_or(0));
    let validated = chain::validate_for(&chain_der, anchors, at, Purpose::TimeStamping)
        .map_err(|e| TimestampError::Untrusted(e.to_string()))?;
    if tst.time.as_second() > now.as_second().saturating_add(FUTURE_TOLERANCE_SECONDS) {
        return Err(TimestampError::Future { time: tst.time });
    }
    Ok(Stamped {
        time: tst.time,
        tsa: validated.subject,
        anchor: validated.anchor,
    })
}

/// The RFC 3161 tokens (DER) a Sigstore bundle's
/// `timestampVerificationData` carries (`rfc3161Timestamps[].signedTimestamp`).
pub fn bundle_tokens(data: &str) -> Result<Vec<Vec<u8>>, TimestampError> {
    use base64::Engine;
    const MAX_STAMPS: usize = 16;
    let value: serde_json::Value = serde_json::from_str(data)
        .map_err(|e| TimestampError::Malformed(format!("timestampVerificationData: {e}")))?;
    let list = match value.get("rfc3161Timestamps") {
        None => return Ok(Vec::new()),
        Some(serde_json::Value::Array(list)) => list,
        Some(_) => {
            return Err(TimestampError::Malformed(
                "rfc3161Timestamps is not a list".into(),
            ));
        }
    };
    if list.len() > MAX_STAMPS {
        return Err(TimestampError::Malformed(format!(
            "more than {MAX_STAMPS} timestamps"
        )));
    }
    list.iter()
        .map(|t| {
            t.get("signedTimestamp")
                .and_then(serde_json::Value::as_str)
                .and_then(|b| base64::engine::general_purpose::STANDARD.decode(b).ok())
                .ok_or_else(|| {
                    TimestampError::Malformed("a timestamp without base64 signedTimestamp".into())
                })
        })
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn requests_are_der() {
        let req = request(b"hello", 0x80);
        // SEQUENCE, version 1, imprint, nonce 0x0080, certReq TRUE
        assert_eq!(req[0], 0x30);
        assert!(req.ends_with(&[0x02, 0x02, 0x00, 0x80, 0x01, 0x01, 0xff]));
        assert!(der::Any::from_der(&req).is_ok());
    }

    #[test]
    fn generalized_times() {
        assert_eq!(
            generalized_time(b"20261207103000Z").unwrap().to_string(),
            "2026-12-07T10:30:00Z"
        );
        assert!(generalized_time(b"20261207103000.5Z").is_ok());
        assert!(generalized_time(b"20261207103000.50Z").is_err());
        assert!(generalized_time(b"20261207103000").is_err());
        assert!(generalized_time(b"20261207103000.Z").is_err());
        assert!(generalized_time(b"2026120710300Z").is_err());
    }
}
