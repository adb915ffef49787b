//! Evidence records with a repeated JSON key are refused, naming the key and
//! where it is (as every reader of signed JSON does).

use super::open;
use base64::Engine;
use base64::engine::general_purpose::STANDARD;
use ed25519_dalek::{Signer, SigningKey};
use modelseal_core::bundle::{IN_TOTO_PAYLOAD_TYPE, pae};

fn assert_names(message: &str, key: &str, path: &str) {
    assert!(
        message.contains(&format!("duplicate JSON key {key:?}")) && message.contains(path),
        "expected {key:?} at {path}: {message}"
    );
}

/// A line sealed like `record::seal`, over any payload bytes.
fn sealed_line(payload: &[u8], key: &SigningKey) -> String {
    let sig = key.sign(&pae(IN_TOTO_PAYLOAD_TYPE, payload));
    format!(
        r#"{{"payload":"{}","payloadType":"{IN_TOTO_PAYLOAD_TYPE}","signatures":[{{"sig":"{}"}}]}}"#,
        STANDARD.encode(payload),
        STANDARD.encode(sig.to_bytes())
    )
}

#[test]
fn evidence_records_with_a_repeated_key_are_refused() {
    let key = SigningKey::from_bytes(&[5u8; 32]);
    let public = key.verifying_key();
    let digest = "ab".repeat(32);
    let payload = |subject_digest: String| {
        format!(
            r#"{{"_type":"https://in-toto.io/Statement/v1","subject":[{{"name":"m","digest":{subject_digest}}}],"predicateType":"https://modelseal.dev/evidence/deployment/v1","predicate":{{"time":"2026-01-01T00:00:00Z"}}}}"#
        )
    };
    let good = sealed_line(
        payload(format!(r#"{{"sha256":"{digest}"}}"#)).as_bytes(),
        &key,
    );
    open(0, good.as_bytes(), &public).unwrap();
    // Inside the signed payload.
    let twice = payload(format!(
        r#"{{"sha256":"{digest}","sha256":"{}"}}"#,
        "cd".repeat(32)
    ));
    let err = open(1, sealed_line(twice.as_bytes(), &key).as_bytes(), &public).unwrap_err();
    assert_names(&err.to_string(), "sha256", "$.subject[0].digest");
    // In the envelope around it.
    let envelope = good.replacen(
        r#""payloadType""#,
        r#""payloadType":"text/plain","payloadType""#,
        1,
    );
    let err = open(2, envelope.as_bytes(), &public).unwrap_err();
    assert_names(&err.to_string(), "payloadType", "$");
}
