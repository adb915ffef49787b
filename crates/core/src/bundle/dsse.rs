//! DSSE envelopes and the Pre-Authentication Encoding (DSSE protocol v1).

use base64::Engine;
use base64::engine::general_purpose::{STANDARD, URL_SAFE};
use serde::{Deserialize, Serialize};

/// The payload type of in-toto statements.
pub const IN_TOTO_PAYLOAD_TYPE: &str = "application/vnd.in-toto+json";

/// A DSSE envelope as it appears in a Sigstore bundle.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct Envelope {
    /// Base64 of the payload bytes.
    pub payload: String,
    /// The media type of the payload.
    pub payload_type: String,
    /// The signatures over the PAE.
    pub signatures: Vec<EnvelopeSignature>,
}

/// One DSSE signature. `keyid` may be absent, empty or null.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct EnvelopeSignature {
    /// Base64 of the signature bytes.
    pub sig: String,
    /// Optional key identifier (unused for verification).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub keyid: Option<String>,
}

impl Envelope {
    /// Signs `payload` with `sign` (which receives the PAE) into an envelope.
    pub fn sign(payload: &[u8], payload_type: &str, sign: impl FnOnce(&[u8]) -> Vec<u8>) -> Self {
        let signature = sign(&pae(payload_type, payload));
        Envelope {
            payload: STANDARD.encode(payload),
            payload_type: payload_type.to_string(),
            signatures: vec![EnvelopeSignature {
                sig: STANDARD.encode(signature),
                keyid: None,
            }],
        }
    }

    /// The decoded payload bytes.
    pub fn payload_bytes(&self) -> Result<Vec<u8>, PayloadNotBase64> {
        decode_base64(&self.payload).ok_or(PayloadNotBase64)
    }
}

/// A DSSE envelope whose payload is not standard base64.
#[derive(Debug, Clone, Copy, PartialEq, Eq, thiserror::Error)]
#[error("the DSSE payload is not valid base64")]
pub struct PayloadNotBase64;

/// A DSSE payload held once, behind room for its Pre-Authentication
/// Encoding header: the signed message (the PAE) and the payload are two
/// slices of one buffer, so a large payload is never copied to sign or
/// verify it.
#[derive(Debug, Clone)]
pub struct SignedPayload {
    buf: Vec<u8>,
    message_at: usize,
    payload_at: usize,
}

impl SignedPayload {
    /// The payload written by `write`, for `payload_type`.
    pub fn build<E>(
        payload_type: &str,
        write: impl FnOnce(&mut Vec<u8>) -> Result<(), E>,
    ) -> Result<Self, E> {
        let room = payload_type.len() + 64;
        let mut buf = vec![0u8; room];
        write(&mut buf)?;
        Ok(Self::framed(buf, room, payload_type))
    }

    /// Decodes a Base64 payload (standard or URL-safe, as DSSE allows).
    pub fn decode(payload_type: &str, payload: &str) -> Option<Self> {
        let room = payload_type.len() + 64;
        let mut buf = Vec::with_capacity(room + payload.len() / 4 * 3 + 3);
        buf.resize(room, 0);
        if STANDARD.decode_vec(payload, &mut buf).is_err() {
            buf.truncate(room);
            URL_SAFE.decode_vec(payload, &mut buf).ok()?;
        }
        Some(Self::framed(buf, room, payload_type))
    }

    fn framed(mut buf: Vec<u8>, payload_at: usize, payload_type: &str) -> Self {
        let header = format!(
            "DSSEv1 {} {payload_type} {} ",
            payload_type.len(),
            buf.len() - payload_at
        );
        let message_at = payload_at - header.len();
        buf[message_at..payload_at].copy_from_slice(header.as_bytes());
        SignedPayload {
            buf,
            message_at,
            payload_at,
        }
    }

    /// The PAE: what the signature covers.
    pub fn message(&self) -> &[u8] {
        &self.buf[self.message_at..]
    }

    /// The payload bytes.
    pub fn payload(&self) -> &[u8] {
        &self.buf[self.payload_at..]
    }
}

/// Decodes standard or URL-safe base64 (DSSE allows either).
pub(crate) fn decode_base64(text: &str) -> Option<Vec<u8>> {
    STANDARD
        .decode(text)
        .or_else(|_| URL_SAFE.decode(text))
        .ok()
}

/// The DSSE v1 Pre-Authentication Encoding:
/// `"DSSEv1" SP LEN(type) SP type SP LEN(body) SP body`.
pub fn pae(payload_type: &str, payload: &[u8]) -> Vec<u8> {
    let mut out = Vec::with_capacity(payload.len() + payload_type.len() + 32);
    out.extend_from_slice(
        format!(
            "DSSEv1 {} {payload_type} {} ",
            payload_type.len(),
            payload.len()
        )
        .as_bytes(),
    );
    out.extend_from_slice(payload);
    out
}

/// The encoding that `model_signing` releases before 1.0 signed by mistake:
/// `"DSSEV1 ..."` followed by Python's `repr` of the payload bytes. Only used
/// to verify such old signatures, never to sign.
pub fn pae_legacy(payload_type: &str, payload: &[u8]) -> Vec<u8> {
    let mut out = format!(
        "DSSEV1 {} {payload_type} {} ",
        payload_type.len(),
        payload.len()
    )
    .into_bytes();
    out.extend_from_slice(python_bytes_repr(payload).as_bytes());
    out
}

/// Python's `repr()` of a `bytes` value (`b'...'`).
fn python_bytes_repr(bytes: &[u8]) -> String {
    let quote = if bytes.contains(&b'\'') && !bytes.contains(&b'"') {
        b'"'
    } else {
        b'\''
    };
    let mut s = String::with_capacity(bytes.len() + 3);
    s.push('b');
    s.push(quote as char);
    for &b in bytes {
        match b {
            b'\\' => s.push_str("\\\\"),
            b'\t' => s.push_str("\\t"),
            b'\n' => s.push_str("\\n"),
            b'\r' => s.push_str("\\r"),
            _ if b == quote => {
                s.push('\\');
                s.push(b as char);
            }
            0x20..=0x7e => s.push(b as char),
            _ => s.push_str(&format!("\\x{b:02x}")),
        }
    }
    s.push(quote as char);
    s
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn pae_matches_the_dsse_protocol_example() {
        // The DSSE protocol document's test vector.
        assert_eq!(
            pae("http://example.com/HelloWorld", b"hello world"),
            b"DSSEv1 29 http://example.com/HelloWorld 11 hello world".to_vec()
        );
        assert_eq!(pae("", b""), b"DSSEv1 0  0 ".to_vec());
    }

    #[test]
    fn signed_payload_frames_the_pae_without_a_copy() {
        let built = SignedPayload::build("t", |b| {
            b.extend_from_slice(b"hello");
            Ok::<_, ()>(())
        })
        .unwrap();
        assert_eq!(built.message(), pae("t", b"hello"));
        assert_eq!(built.payload(), b"hello");
        let decoded = SignedPayload::decode(IN_TOTO_PAYLOAD_TYPE, "e30=").unwrap();
        assert_eq!(decoded.message(), pae(IN_TOTO_PAYLOAD_TYPE, b"{}"));
        let url_safe = SignedPayload::decode("x", "_-8=").unwrap();
        assert_eq!(url_safe.payload(), [0xff, 0xef]);
        assert!(SignedPayload::decode("x", "not base64!").is_none());
    }

    #[test]
    fn legacy_pae_uses_python_bytes_repr() {
        assert_eq!(
            pae_legacy("t", b"{\"a\": 1}\n'\\\x00\xff"),
            b"DSSEV1 1 t 13 b'{\"a\": 1}\\n\\'\\\\\\x00\\xff'".to_vec()
        );
        assert_eq!(python_bytes_repr(b"it's"), "b\"it's\"");
    }

    #[test]
    fn envelope_round_trips_and_signs_the_pae() {
        let env = Envelope::sign(b"{}", IN_TOTO_PAYLOAD_TYPE, |m| m.to_vec());
        assert_eq!(env.payload_bytes().unwrap(), b"{}");
        let sig = decode_base64(&env.signatures[0].sig).unwrap();
        assert_eq!(sig, pae(IN_TOTO_PAYLOAD_TYPE, b"{}"));
        let json = serde_json::to_string(&env).unwrap();
        assert!(!json.contains("keyid"));
        for keyid in [r#""keyid":null,"#, r#""keyid":"","#, ""] {
            let text = format!(
                r#"{{"payload":"e30=","payloadType":"x","signatures":[{{{keyid}"sig":"AA=="}}]}}"#
            );
            serde_json::from_str::<Envelope>(&text).unwrap();
        }
    }
}
