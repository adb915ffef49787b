//! Evidence records: in-toto statements about a model (or a document),
//! sealed in DSSE envelopes by the evidence key, one JSON line each.

use crate::bundle::{Envelope, EnvelopeSignature, IN_TOTO_PAYLOAD_TYPE, STATEMENT_TYPE, pae};
use crate::{Error, Result};
use base64::Engine;
use base64::engine::general_purpose::STANDARD;
use ed25519_dalek::{Signer, SigningKey, VerifyingKey};
use serde::Deserialize;
use serde_json::{Value, json};
use sha2::{Digest, Sha256};

/// A model signed (who, which bundle, which BOM).
pub const SIGN_PREDICATE: &str = "https://modelseal.dev/evidence/sign/v1";
/// An ML-BOM written.
pub const BOM_PREDICATE: &str = "https://modelseal.dev/evidence/bom/v1";
/// A verification: a SLSA Verification Summary Attestation.
pub const VSA_PREDICATE: &str = "https://slsa.dev/verification_summary/v1";
/// A reviewed document attached to a control.
pub const ATTACHMENT_PREDICATE: &str = "https://modelseal.dev/evidence/attachment/v1";
/// A model deployed.
pub const DEPLOYMENT_PREDICATE: &str = "https://modelseal.dev/evidence/deployment/v1";
/// The verifier id in VSAs.
pub const VERIFIER_ID: &str = "https://modelseal.dev/verifier";

/// What a record is about: a model (name and OMS root digest) or a document.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct EvidenceSubject {
    /// Name.
    pub name: String,
    /// Lowercase hex SHA-256.
    pub sha256: String,
}

/// Now, to the second, as RFC 3339.
pub fn now() -> String {
    let t = jiff::Timestamp::now();
    jiff::Timestamp::from_second(t.as_second())
        .map(|t| t.to_string())
        .unwrap_or_default()
}

/// Seals a statement about `subject` into one log line (compact JSON, no newline).
pub fn seal(
    subject: &EvidenceSubject,
    predicate_type: &str,
    predicate: Value,
    key: &SigningKey,
) -> Result<String> {
    let statement = json!({
        "_type": STATEMENT_TYPE,
        "subject": [{ "name": subject.name, "digest": { "sha256": subject.sha256 } }],
        "predicateType": predicate_type,
        "predicate": predicate,
    });
    let payload = serde_json::to_vec(&statement).map_err(|e| Error::Usage(e.to_string()))?;
    let signature = key.sign(&pae(IN_TOTO_PAYLOAD_TYPE, &payload));
    let envelope = Envelope {
        payload: STANDARD.encode(&payload),
        payload_type: IN_TOTO_PAYLOAD_TYPE.into(),
        signatures: vec![EnvelopeSignature {
            sig: STANDARD.encode(signature.to_bytes()),
            keyid: Some(key_id(&key.verifying_key())),
        }],
    };
    serde_json::to_string(&envelope).map_err(|e| Error::Usage(e.to_string()))
}

/// The key id written in envelopes: `SHA256:` hex of the raw public key.
pub fn key_id(key: &VerifyingKey) -> String {
    format!("SHA256:{}", hex::encode(Sha256::digest(key.as_bytes())))
}

/// A record read back from the log.
#[derive(Debug, Clone)]
pub struct Record {
    /// Position in the log (0-based).
    pub index: usize,
    /// Hex SHA-256 of the exact line bytes (how reports cite it).
    pub digest: String,
    /// The predicate type.
    pub predicate_type: String,
    /// The subject.
    pub subject: EvidenceSubject,
    /// The predicate.
    pub predicate: Value,
    /// When it happened, per the predicate.
    pub time: Option<jiff::Timestamp>,
}

#[derive(Deserialize)]
struct RawStatement {
    #[serde(rename = "_type")]
    statement_type: String,
    subject: Vec<crate::bundle::Subject>,
    #[serde(rename = "predicateType")]
    predicate_type: String,
    predicate: Value,
}

/// Opens one log line: the envelope must be signed by `key` over an in-toto
/// statement with one subject. Errors are reasons for the audit report.
pub fn open(index: usize, line: &[u8], key: &VerifyingKey) -> std::result::Result<Record, String> {
    let envelope: Envelope =
        crate::json::from_slice(line).map_err(|e| format!("not a DSSE envelope: {e}"))?;
    let payload = envelope.payload_bytes()?;
    let [sig] = envelope.signatures.as_slice() else {
        return Err("the envelope must hold one signature".into());
    };
    let sig = STANDARD
        .decode(&sig.sig)
        .map_err(|_| "the signature is not base64")?;
    let sig =
        ed25519_dalek::Signature::from_slice(&sig).map_err(|_| "the signature is not Ed25519")?;
    key.verify_strict(&pae(&envelope.payload_type, &payload), &sig)
        .map_err(|_| {
            "the signature does not verify with the evidence key (forged or edited)".to_string()
        })?;
    let statement: RawStatement =
        crate::json::from_slice(&payload).map_err(|e| format!("not an in-toto statement: {e}"))?;
    if statement.statement_type != STATEMENT_TYPE {
        return Err(format!("statement _type {:?}", statement.statement_type));
    }
    let [subject] = <[crate::bundle::Subject; 1]>::try_from(statement.subject)
        .map_err(|_| "a record must have exactly one subject".to_string())?;
    let sha256 = subject
        .digest
        .get("sha256")
        .cloned()
        .ok_or("the subject has no sha256 digest")?;
    let time_field = match statement.predicate_type.as_str() {
        VSA_PREDICATE => "timeVerified",
        ATTACHMENT_PREDICATE => "recordedAt",
        _ => "time",
    };
    let time = statement.predicate[time_field]
        .as_str()
        .and_then(|t| t.parse().ok());
    Ok(Record {
        index,
        digest: hex::encode(Sha256::digest(line)),
        predicate_type: statement.predicate_type,
        subject: EvidenceSubject {
            name: subject.name,
            sha256: sha256.to_ascii_lowercase(),
        },
        predicate: statement.predicate,
        time,
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn sealed_records_open_and_forgeries_do_not() {
        let key = SigningKey::from_bytes(&[3u8; 32]);
        let subject = EvidenceSubject {
            name: "m".into(),
            sha256: "ab".repeat(32),
        };
        let line = seal(
            &subject,
            SIGN_PREDICATE,
            json!({"time": "2026-01-01T00:00:00Z"}),
            &key,
        )
        .unwrap();
        assert!(!line.contains('\n'));
        let record = open(0, line.as_bytes(), &key.verifying_key()).unwrap();
        assert_eq!(record.subject, subject);
        assert_eq!(record.time.unwrap().to_string(), "2026-01-01T00:00:00Z");
        let other = SigningKey::from_bytes(&[4u8; 32]);
        let forged = seal(&subject, SIGN_PREDICATE, json!({}), &other).unwrap();
        assert!(
            open(1, forged.as_bytes(), &key.verifying_key())
                .unwrap_err()
                .contains("forged")
        );
        assert!(open(2, b"{}", &key.verifying_key()).is_err());
    }
}
