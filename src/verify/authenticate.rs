//! Authenticating a bundle: the DSSE signature checked with the key, the
//! certificate chain to an anchor, or the keyless Sigstore material.

use super::{Failure, Trust, VerifyOptions, chain};
use crate::bundle::{Bundle, IN_TOTO_PAYLOAD_TYPE, pae, pae_legacy};
use crate::keys::{PublicKey, parse_public_key};
use crate::{Error, Result};
use base64::Engine;
use base64::engine::general_purpose::STANDARD;
use std::path::Path;

/// A bundle whose signature verified: who signed, and the payload.
pub(crate) struct Authenticated {
    /// Who signed, as the trust material says.
    pub signer: String,
    /// The signed in-toto statement bytes.
    pub payload: Vec<u8>,
    /// The logged signing time (keyless signatures).
    pub signing_time: Option<String>,
}

/// A check that failed: the signer when known, and why.
pub(crate) type Refusal = (Option<String>, Failure);

/// Parses `bundle_json` and checks its signature with the trust of `options`
/// and that it carries an in-toto statement. Malformed bundles are errors.
pub(crate) fn authenticate(
    bundle_json: &[u8],
    options: &VerifyOptions,
    warnings: &mut Vec<String>,
) -> Result<std::result::Result<Authenticated, Refusal>> {
    let bundle = &Bundle::from_slice(bundle_json)?;
    let envelope = bundle
        .dsse_envelope
        .as_ref()
        .ok_or_else(|| Error::Bundle("no dsseEnvelope".into()))?;
    let payload = envelope.payload_bytes().map_err(Error::Bundle)?;
    let signature = STANDARD
        .decode(&envelope.signatures[0].sig)
        .map_err(|_| Error::Bundle("the DSSE signature is not valid base64".into()))?;
    let signed = SignedInput {
        bundle,
        bundle_json,
        payload_type: &envelope.payload_type,
        payload: &payload,
        signature: &signature,
    };
    let mut refusals = Vec::new();
    let mut accepted = None;
    for trust in &options.trusts {
        match check_signature(&signed, trust, options, warnings)? {
            Ok(found) => {
                accepted = Some(found);
                break;
            }
            Err(refusal) => refusals.push(refusal),
        }
    }
    let (signer, signing_time) = match accepted {
        Some(found) => found,
        None if refusals.len() == 1 => return Ok(Err(refusals.remove(0))),
        None if refusals.is_empty() => {
            return Err(Error::Usage(
                "no trusted signer given (--key, --cert-chain, --identity or a policy)".into(),
            ));
        }
        None => {
            let reasons: Vec<String> = refusals.iter().map(|(_, f)| f.message()).collect();
            let message = format!(
                "no trusted signer verifies the bundle: {}",
                reasons.join("; ")
            );
            return Ok(Err((None, Failure::Signature { message })));
        }
    };
    if envelope.payload_type != IN_TOTO_PAYLOAD_TYPE {
        let failure = Failure::Statement {
            message: format!(
                "payloadType is {:?}, expected {IN_TOTO_PAYLOAD_TYPE:?}",
                envelope.payload_type
            ),
        };
        return Ok(Err((Some(signer), failure)));
    }
    Ok(Ok(Authenticated {
        signer,
        payload,
        signing_time,
    }))
}

type SignatureCheck = std::result::Result<(String, Option<String>), (Option<String>, Failure)>;

/// The signed parts of a bundle.
struct SignedInput<'a> {
    bundle: &'a Bundle,
    bundle_json: &'a [u8],
    payload_type: &'a str,
    payload: &'a [u8],
    signature: &'a [u8],
}

/// Checks the DSSE signature with the trusted material; on success returns a
/// description of the signer.
fn check_signature(
    signed: &SignedInput<'_>,
    trust: &Trust,
    options: &VerifyOptions,
    warnings: &mut Vec<String>,
) -> Result<SignatureCheck> {
    let SignedInput {
        bundle,
        payload_type,
        payload,
        signature,
        ..
    } = *signed;
    let material = &bundle.verification_material;
    let message = pae(payload_type, payload);
    let legacy = || pae_legacy(payload_type, payload);
    match trust {
        Trust::Key(key) => {
            let signer = format!("key {} ({})", key.fingerprint(), key.algorithm());
            let named = named_key_mismatch(bundle, key);
            if material.public_key.is_none() {
                warnings.push(
                    "the bundle carries certificates; it was checked against the given key only"
                        .into(),
                );
            }
            if key.verify(&message, signature) {
                if let Some(other) = named {
                    warnings.push(format!(
                        "the bundle's key hint names another key ({other}); the given key verifies"
                    ));
                }
                return Ok(Ok((signer, None)));
            }
            if key.verify(&legacy(), signature) {
                warnings.push("signed with the pre-1.0 model_signing DSSE encoding".into());
                return Ok(Ok((signer, None)));
            }
            let failure = match named {
                Some(other) => Failure::WrongKey {
                    message: format!(
                        "the bundle was signed by another key ({other}); the given key is {}",
                        key.fingerprint()
                    ),
                },
                None => Failure::Signature {
                    message: format!(
                        "the signature does not verify with the given key {}",
                        key.fingerprint()
                    ),
                },
            };
            Ok(Err((Some(signer), failure)))
        }
        Trust::Keyless { who, root } => {
            if material.public_key.is_some() {
                let message =
                    "the bundle was signed with a bare key, not keylessly; verify it with --key"
                        .into();
                return Ok(Err((None, Failure::Certificate { message })));
            }
            let Some(subject) = first_subject_digest(payload) else {
                let message = "the signed payload has no subject with a sha256 digest".into();
                return Ok(Err((None, Failure::Statement { message })));
            };
            let outcome =
                crate::sigstore::verify_keyless_dsse(signed.bundle_json, &subject, who, root)?;
            Ok(outcome.map_err(|failure| (None, failure)))
        }
        Trust::Anchors { anchors, subject } => {
            let Some(chain) = &material.x509_certificate_chain else {
                let what = if material.certificate.is_some() {
                    "this is a Sigstore keyless bundle (a single Fulcio certificate), not a certificate-chain signature"
                } else {
                    "the bundle was signed with a bare key, not a certificate; verify it with --key"
                };
                return Ok(Err((
                    None,
                    Failure::Certificate {
                        message: what.into(),
                    },
                )));
            };
            let ders = chain
                .certificates
                .iter()
                .map(|c| STANDARD.decode(&c.raw_bytes))
                .collect::<std::result::Result<Vec<_>, _>>()
                .map_err(|_| {
                    Error::Bundle("a certificate in the chain is not valid base64".into())
                })?;
            let leaf = match chain::validate(&ders, anchors, options.time) {
                Ok(leaf) => leaf,
                Err(chain::ChainError::Expired(message)) => {
                    return Ok(Err((None, Failure::Expired { message })));
                }
                Err(e) => {
                    return Ok(Err((
                        None,
                        Failure::Certificate {
                            message: e.to_string(),
                        },
                    )));
                }
            };
            if let Some(required) = subject
                && &leaf.subject != required
            {
                let message = format!(
                    "the signing certificate's subject is {:?}; the policy allows only {required:?}",
                    leaf.subject
                );
                return Ok(Err((None, Failure::Certificate { message })));
            }
            let signer = format!("certificate {:?} (anchor {:?})", leaf.subject, leaf.anchor);
            let key = &leaf.public_key;
            if key.verify(&message, signature) {
                return Ok(Ok((signer, None)));
            }
            let old = legacy();
            if key.verify(&old, signature) || key.verify_ecdsa_sha256(&old, signature) {
                warnings.push("signed with the pre-1.0 model_signing DSSE encoding".into());
                return Ok(Ok((signer, None)));
            }
            let failure = Failure::Signature {
                message: "the signature does not verify with the signing certificate's key".into(),
            };
            Ok(Err((Some(signer), failure)))
        }
    }
}

/// The sha256 digest of the first subject of a statement, unverified: it
/// names the artifact that Sigstore verification binds the signature to.
fn first_subject_digest(payload: &[u8]) -> Option<String> {
    let value: serde_json::Value = crate::json::from_slice(payload).ok()?;
    value["subject"][0]["digest"]["sha256"]
        .as_str()
        .map(str::to_string)
}

/// When the bundle names a key (hint or raw bytes) that is not `key`, a
/// description of it. The hint is advisory: only the signature decides.
fn named_key_mismatch(bundle: &Bundle, key: &PublicKey) -> Option<String> {
    let id = bundle.verification_material.public_key.as_ref()?;
    if let Some(hint) = id.hint.as_deref().filter(|h| !h.is_empty()) {
        return (!hint.eq_ignore_ascii_case(&key.hint())).then(|| format!("hint {hint}"));
    }
    let raw = STANDARD.decode(id.raw_bytes.as_deref()?).ok()?;
    let named = match std::str::from_utf8(&raw) {
        Ok(text) if text.contains("-----BEGIN") => parse_public_key(Path::new("bundle"), text).ok(),
        _ => crate::keys::pem::spki_to_public_key(&raw).ok(),
    }?;
    (named != *key).then(|| named.fingerprint())
}
