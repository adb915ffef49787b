//! Writing a bundle whose payload is large: the JSON around the payload
//! comes from the same serialiser as [`Bundle::to_json`], and the payload
//! is Base64-encoded straight into the writer, so the bundle text is never
//! held whole.

use super::Bundle;
use base64::engine::general_purpose::STANDARD;
use std::io::{self, Write};

/// Stands for the payload in the serialised bundle (no Base64 text or
/// other bundle member can contain `@`).
const PAYLOAD_MARK: &str = "@@modelseal-payload@@";

/// Writes `bundle` exactly as [`Bundle::to_json`] would with its envelope
/// payload set to the Base64 of `payload` (the envelope's own payload text
/// is ignored).
pub fn write_bundle_json(w: &mut dyn Write, bundle: &Bundle, payload: &[u8]) -> io::Result<()> {
    let mut frame = bundle.clone();
    let envelope = frame
        .dsse_envelope
        .as_mut()
        .ok_or_else(|| io::Error::other("the bundle has no DSSE envelope"))?;
    envelope.payload = PAYLOAD_MARK.to_string();
    let text = frame.to_json();
    let (head, tail) = text
        .split_once(PAYLOAD_MARK)
        .ok_or_else(|| io::Error::other("the payload mark is missing"))?;
    w.write_all(head.as_bytes())?;
    {
        let mut encoder = base64::write::EncoderWriter::new(&mut *w, &STANDARD);
        for chunk in payload.chunks(3 << 16) {
            encoder.write_all(chunk)?;
        }
        encoder.finish()?;
    }
    w.write_all(tail.as_bytes())
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::bundle::{BUNDLE_V03_MEDIA_TYPE, Envelope, IN_TOTO_PAYLOAD_TYPE};

    #[test]
    fn streams_the_same_bytes_as_to_json() {
        for payload in [&b""[..], b"{}", &[7u8; 200_001]] {
            let envelope = Envelope::sign(payload, IN_TOTO_PAYLOAD_TYPE, |_| vec![1, 2, 3]);
            let bundle = Bundle {
                media_type: BUNDLE_V03_MEDIA_TYPE.into(),
                verification_material: Default::default(),
                dsse_envelope: Some(envelope),
                message_signature: None,
            };
            let mut out = Vec::new();
            write_bundle_json(&mut out, &bundle, payload).unwrap();
            assert_eq!(String::from_utf8(out).unwrap(), bundle.to_json());
        }
    }
}
