//! Authenticating a bundle: the DSSE signature checked with the key, the
//! certificate chain to an anchor, or the keyless Sigstore material.

use super::{Failure, Material, Signer, Trust, Warning, chain};
use crate::bundle::{
    BundleView, IN_TOTO_PAYLOAD_TYPE, SignedPayload, StatementProblem, Subject,
    VerificationMaterial, claimed_subject, pae_legacy,
};
use crate::keys::{PublicKey, parse_public_key};
use crate::{Error, Result};
use base64::Engine;
use base64::engine::general_purpose::STANDARD;
use std::borrow::Cow;
use std::path::Path;

/// A bundle whose signature verified: who signed, and the payload.
pub(crate) struct Authenticated {
    /// Who signed, as the trust material says.
    pub signer: Signer,
    /// The signed in-toto statement bytes (behind their DSSE header).
    pub payload: SignedPayload,
    /// The logged signing time (keyless signatures).
    pub signing_time: Option<jiff::Timestamp>,
    /// The RFC 3161 timestamp tokens the bundle carries (unchecked).
    pub timestamps: Vec<Vec<u8>>,
    /// The DSSE signature's bytes (what the timestamps stamp).
    pub signature: Vec<u8>,
}

/// A check that failed: the signer it was checked with, when known, why,
/// and the subject the statement claims (unverified, for the record of the
/// failure), when the payload could be read.
pub(crate) struct Refusal {
    pub signer: Option<Signer>,
    pub failure: Failure,
    pub claimed: Option<Subject>,
}

/// Parses `bundle_json` and checks its signature with one of `trusts` (at
/// `time`), and that it carries an in-toto statement. Malformed bundles are
/// errors; bundles that do not verify are refusals.
///
/// A bundle text given owned is freed once the payload is decoded: for a
/// dataset of a million files the text and the payload are each over a
/// hundred megabytes. Only a keyless bundle is kept until its Sigstore
/// material is checked (that check reads the whole bundle).
pub(crate) fn authenticate(
    bundle_json: Cow<'_, [u8]>,
    trusts: &[Trust],
    time: jiff::Timestamp,
    warnings: &mut Vec<Warning>,
) -> Result<std::result::Result<Authenticated, Refusal>> {
    if trusts.is_empty() {
        return Err(Error::Usage("no trusted signer given".into()));
    }
    // Bounded parse; the payload text stays in the bundle bytes and is
    // decoded once, behind room for its DSSE header.
    let view = BundleView::parse(&bundle_json)?;
    let envelope = view.envelope();
    let payload = SignedPayload::decode(&envelope.payload_type, &envelope.payload)
        .ok_or_else(|| Error::Bundle("the DSSE payload is not valid base64".into()))?;
    let signature = STANDARD
        .decode(&envelope.signatures[0].sig)
        .map_err(|_| Error::Bundle("the DSSE signature is not valid base64".into()))?;
    let payload_type = envelope.payload_type.clone();
    let material = view.verification_material.clone();
    drop(view);
    let keyless = trusts.iter().any(|t| matches!(t, Trust::Keyless { .. }));
    let bundle_json = if keyless {
        Some(bundle_json)
    } else {
        drop(bundle_json);
        None
    };
    let signed = SignedInput {
        material: &material,
        bundle_json: bundle_json.as_deref(),
        payload_type: &payload_type,
        payload: &payload,
        signature: &signature,
    };
    let mut refusals = Vec::new();
    let mut accepted = None;
    for trust in trusts {
        let mut attempt_warnings = Vec::new();
        match check_signature(&signed, trust, time, &mut attempt_warnings)? {
            Ok(found) => {
                warnings.extend(attempt_warnings);
                accepted = Some(found);
                break;
            }
            Err(refusal) => refusals.push(refusal),
        }
    }
    drop(bundle_json);
    let claimed = || claimed_subject(payload.payload());
    let (signer, signing_time) = match accepted {
        Some(found) => found,
        None if refusals.len() == 1 => {
            let (signer, failure) = refusals.remove(0);
            return Ok(Err(Refusal {
                signer,
                failure,
                claimed: claimed(),
            }));
        }
        None => {
            let attempts = refusals.into_iter().map(|(_, f)| f).collect();
            return Ok(Err(Refusal {
                signer: None,
                failure: Failure::NoTrustedSigner { attempts },
                claimed: claimed(),
            }));
        }
    };
    if payload_type != IN_TOTO_PAYLOAD_TYPE {
        let failure = Failure::Statement {
            problem: StatementProblem::PayloadType {
                found: payload_type,
            },
        };
        return Ok(Err(Refusal {
            signer: Some(signer),
            failure,
            claimed: claimed(),
        }));
    }
    let timestamps = match &material.timestamp_verification_data {
        Some(raw) => crate::timestamp::bundle_tokens(raw.0.get())
            .map_err(|e| Error::Bundle(e.to_string()))?,
        None => Vec::new(),
    };
    Ok(Ok(Authenticated {
        signer,
        payload,
        signing_time,
        timestamps,
        signature,
    }))
}

type SignatureCheck =
    std::result::Result<(Signer, Option<jiff::Timestamp>), (Option<Signer>, Failure)>;

/// The signed parts of a bundle.
struct SignedInput<'a> {
    material: &'a VerificationMaterial,
    /// The whole bundle, kept only when a keyless signer is trusted.
    bundle_json: Option<&'a [u8]>,
    payload_type: &'a str,
    payload: &'a SignedPayload,
    signature: &'a [u8],
}

/// The kind of material the bundle carries.
fn material_of(m: &VerificationMaterial) -> Material {
    if m.public_key.is_some() {
        Material::PublicKey
    } else if m.x509_certificate_chain.is_some() {
        Material::CertificateChain
    } else {
        Material::KeylessCertificate
    }
}

fn key_signer(key: &PublicKey) -> Signer {
    Signer::Key {
        fingerprint: key.fingerprint(),
        algorithm: key.algorithm(),
    }
}

/// Checks the DSSE signature with the trusted material; on success returns
/// the signer and the logged signing time.
fn check_signature(
    signed: &SignedInput<'_>,
    trust: &Trust,
    time: jiff::Timestamp,
    warnings: &mut Vec<Warning>,
) -> Result<SignatureCheck> {
    let SignedInput {
        material,
        bundle_json,
        payload_type,
        payload,
        signature,
    } = *signed;
    let message = payload.message();
    let legacy = || pae_legacy(payload_type, payload.payload());
    let found = material_of(material);
    match trust {
        Trust::Key(key) => {
            let signer = key_signer(key);
            let named = named_key_mismatch(material, key);
            if found != Material::PublicKey {
                warnings.push(Warning::CertificatesIgnored);
            }
            if key.verify(message, signature) {
                if let Some(named) = named {
                    warnings.push(Warning::KeyHintMismatch { named });
                }
                return Ok(Ok((signer, None)));
            }
            if key.verify(&legacy(), signature) {
                warnings.push(Warning::LegacyEncoding);
                return Ok(Ok((signer, None)));
            }
            let failure = match named {
                Some(named) => Failure::WrongKey {
                    given: key.fingerprint(),
                    named,
                },
                None => Failure::BadSignature {
                    signer: signer.clone(),
                },
            };
            Ok(Err((Some(signer), failure)))
        }
        Trust::Keyless { who, root } => {
            if found != Material::KeylessCertificate {
                let failure = Failure::Material {
                    expected: Material::KeylessCertificate,
                    found,
                };
                return Ok(Err((None, failure)));
            }
            // Sigstore's verifier reads the statement too: it must be
            // strict JSON before either reader sees it.
            if payload_type == IN_TOTO_PAYLOAD_TYPE {
                crate::json::check_unique_keys(payload.payload())
                    .map_err(|e| Error::Bundle(format!("the DSSE payload: {e}")))?;
            }
            let Some(subject) = first_subject_digest(payload.payload()) else {
                let failure = Failure::Statement {
                    problem: StatementProblem::BadSubjectDigest,
                };
                return Ok(Err((None, failure)));
            };
            let bundle_json = bundle_json.ok_or_else(|| {
                Error::Usage("a keyless signer is trusted but the bundle was not kept".into())
            })?;
            let outcome = crate::sigstore::verify_keyless_dsse(bundle_json, subject, who, root)?;
            Ok(match outcome {
                Ok(ok) => Ok((
                    Signer::Keyless {
                        identity: ok.who.identity,
                        issuer: ok.who.issuer,
                    },
                    ok.integrated_time,
                )),
                Err(problem) => Err((None, Failure::Sigstore { problem })),
            })
        }
        Trust::Anchors { anchors, subject } => {
            let Some(chain) = &material.x509_certificate_chain else {
                let failure = Failure::Material {
                    expected: Material::CertificateChain,
                    found,
                };
                return Ok(Err((None, failure)));
            };
            let ders = chain
                .certificates
                .iter()
                .map(|c| STANDARD.decode(&c.raw_bytes))
                .collect::<std::result::Result<Vec<_>, _>>()
                .map_err(|_| {
                    Error::Bundle("a certificate in the chain is not valid base64".into())
                })?;
            let leaf = match chain::validate(&ders, anchors, time.into()) {
                Ok(leaf) => leaf,
                Err(problem) => return Ok(Err((None, Failure::Certificate { problem }))),
            };
            if let Some(required) = subject
                && &leaf.subject != required
            {
                let failure = Failure::CertificateSubject {
                    found: leaf.subject.clone(),
                    required: required.clone(),
                };
                return Ok(Err((None, failure)));
            }
            let key = &leaf.public_key;
            let signer = Signer::Certificate {
                subject: leaf.subject.clone(),
                anchor: leaf.anchor.clone(),
                fingerprint: key.fingerprint(),
            };
            if key.verify(message, signature) {
                return Ok(Ok((signer, None)));
            }
            let old = legacy();
            if key.verify(&old, signature) || key.verify_ecdsa_sha256(&old, signature) {
                warnings.push(Warning::LegacyEncoding);
                return Ok(Ok((signer, None)));
            }
            let failure = Failure::BadSignature {
                signer: signer.clone(),
            };
            Ok(Err((Some(signer), failure)))
        }
    }
}

/// The SHA-256 digest of the first subject of a statement, unverified: it
/// names the artifact that Sigstore verification binds the signature to.
fn first_subject_digest(payload: &[u8]) -> Option<[u8; 32]> {
    let subject = claimed_subject(payload)?;
    hex::decode(subject.digest.get("sha256")?)
        .ok()?
        .try_into()
        .ok()
}

/// When the bundle names a key (hint or raw bytes) that is not `key`, a
/// description of it. The hint is advisory: only the signature decides.
fn named_key_mismatch(material: &VerificationMaterial, key: &PublicKey) -> Option<String> {
    let id = material.public_key.as_ref()?;
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
