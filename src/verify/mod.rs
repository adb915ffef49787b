//! The verify pipeline: bundle -> signer check -> statement -> manifest
//! compare -> verdict. A failed check is a [`Failure`] in the [`Verdict`];
//! an [`crate::Error`] means the inputs could not be examined at all.

pub mod chain;
mod compare;

use crate::bundle::{
    Bundle, IN_TOTO_PAYLOAD_TYPE, ParsedStatement, Subject, pae, pae_legacy, parse_statement,
};
use crate::digest::{
    DEFAULT_IGNORES, HashAlgorithm, IgnoreSet, Method, ProgressFn, Resource, hash_entries,
    root_digest, walk,
};
use crate::keys::{PublicKey, parse_public_key};
use crate::sigstore::KeylessIdentity;
use crate::{Error, Result};
use base64::Engine;
use base64::engine::general_purpose::STANDARD;
use serde::Serialize;
use sigstore_verify::trust_root::TrustedRoot;
use std::path::{Path, PathBuf};
use std::time::SystemTime;

/// What the verifier trusts.
#[derive(Clone)]
pub enum Trust {
    /// Key mode: this public key.
    Key(PublicKey),
    /// Certificate mode: these trust anchors (DER certificates).
    Anchors(Vec<Vec<u8>>),
    /// Sigstore keyless: this identity, certified under this trusted root.
    Keyless {
        /// The identity and issuer the certificate must name.
        who: KeylessIdentity,
        /// The Sigstore trusted root (Fulcio CAs, Rekor keys, TSAs, CT logs).
        root: std::sync::Arc<TrustedRoot>,
    },
}

impl std::fmt::Debug for Trust {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            Trust::Key(k) => write!(f, "Trust::Key({})", k.fingerprint()),
            Trust::Anchors(a) => write!(f, "Trust::Anchors({} certificates)", a.len()),
            Trust::Keyless { who, .. } => write!(f, "Trust::Keyless({who:?})"),
        }
    }
}

/// How to verify.
#[derive(Debug, Clone)]
pub struct VerifyOptions {
    /// What the signature must chain to.
    pub trust: Trust,
    /// More paths to exclude (relative to the model root or absolute in it).
    pub ignore_paths: Vec<PathBuf>,
    /// The signature file, excluded from the model when it lies inside.
    pub signature_path: Option<PathBuf>,
    /// Tolerate files that the signature does not list.
    pub ignore_unsigned_files: bool,
    /// The time certificates must be valid at.
    pub time: SystemTime,
}

/// One reason a verification failed.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
#[serde(tag = "kind", rename_all = "kebab-case")]
pub enum Failure {
    /// The signature does not verify.
    Signature {
        /// Details.
        message: String,
    },
    /// The bundle names a different key than the one given.
    WrongKey {
        /// Details.
        message: String,
    },
    /// The certificate chain does not validate.
    Certificate {
        /// Details.
        message: String,
    },
    /// The keyless certificate names another identity or issuer.
    Identity {
        /// Details.
        message: String,
    },
    /// The transparency log entry does not verify or does not match.
    TransparencyLog {
        /// Details.
        message: String,
    },
    /// A signed timestamp does not verify.
    Timestamp {
        /// Details.
        message: String,
    },
    /// A certificate on the chain is expired or not yet valid.
    Expired {
        /// Details.
        message: String,
    },
    /// The signed statement is not a valid OMS statement.
    Statement {
        /// Details.
        message: String,
    },
    /// The subject digest does not match the listed resources.
    SubjectDigest {
        /// The digest in the subject.
        expected: String,
        /// The digest of the resources.
        computed: String,
    },
    /// The manifest uses a hash algorithm this tool cannot compute.
    UnknownAlgorithm {
        /// The identifier found.
        algorithm: String,
    },
    /// The model tree cannot be enumerated as signed (e.g. a symlink appeared).
    Model {
        /// Details.
        message: String,
    },
    /// A signed file has different contents.
    Changed {
        /// The resource path.
        path: String,
    },
    /// A signed file is missing.
    Missing {
        /// The resource path.
        path: String,
    },
    /// A file is present that the signature does not list.
    Extra {
        /// The resource path.
        path: String,
    },
}

impl Failure {
    /// The file concerned, for file-level failures.
    pub fn path(&self) -> Option<&str> {
        match self {
            Failure::Changed { path } | Failure::Missing { path } | Failure::Extra { path } => {
                Some(path)
            }
            _ => None,
        }
    }

    /// One line for humans.
    pub fn message(&self) -> String {
        match self {
            Failure::Signature { message } => format!("signature: {message}"),
            Failure::WrongKey { message } => format!("wrong key: {message}"),
            Failure::Certificate { message } => format!("certificate: {message}"),
            Failure::Expired { message } => format!("expired certificate: {message}"),
            Failure::Identity { message } => format!("identity: {message}"),
            Failure::TransparencyLog { message } => format!("transparency log: {message}"),
            Failure::Timestamp { message } => format!("timestamp: {message}"),
            Failure::Statement { message } => format!("statement: {message}"),
            Failure::SubjectDigest { expected, computed } => format!(
                "subject digest {expected} does not match the listed resources ({computed})"
            ),
            Failure::UnknownAlgorithm { algorithm } => {
                format!("unknown hash algorithm {algorithm:?}")
            }
            Failure::Model { message } => format!("model: {message}"),
            Failure::Changed { path } => format!("changed: {path}"),
            Failure::Missing { path } => format!("missing: {path}"),
            Failure::Extra { path } => format!("extra (not signed): {path}"),
        }
    }
}

/// The outcome of a verification.
#[derive(Debug, Clone, Serialize)]
pub struct Verdict {
    /// True when nothing failed.
    pub verified: bool,
    /// Who signed, as far as the trust material says.
    pub signer: Option<String>,
    /// The statement's subject.
    pub subject: Option<Subject>,
    /// The predicate type of the statement.
    pub predicate_type: Option<String>,
    /// How many signed files were checked.
    pub files_checked: usize,
    /// Every failed check.
    pub failures: Vec<Failure>,
    /// Things worth knowing that did not fail verification.
    pub warnings: Vec<String>,
}

impl Verdict {
    fn failed(signer: Option<String>, failure: Failure, warnings: Vec<String>) -> Self {
        Verdict {
            verified: false,
            signer,
            subject: None,
            predicate_type: None,
            files_checked: 0,
            failures: vec![failure],
            warnings,
        }
    }
}

/// Verifies the model at `model` against the bundle JSON `bundle_json`.
pub fn verify_model(
    model: &Path,
    bundle_json: &[u8],
    options: &VerifyOptions,
    progress: ProgressFn<'_>,
) -> Result<Verdict> {
    let bundle = &Bundle::from_slice(bundle_json)?;
    let envelope = bundle
        .dsse_envelope
        .as_ref()
        .ok_or_else(|| Error::Bundle("no dsseEnvelope".into()))?;
    let payload = envelope.payload_bytes().map_err(Error::Bundle)?;
    let signature = STANDARD
        .decode(&envelope.signatures[0].sig)
        .map_err(|_| Error::Bundle("the DSSE signature is not valid base64".into()))?;
    let mut warnings = Vec::new();
    let signed = SignedInput {
        bundle,
        bundle_json,
        payload_type: &envelope.payload_type,
        payload: &payload,
        signature: &signature,
    };
    let signer = match check_signature(&signed, options, &mut warnings)? {
        Ok(signer) => signer,
        Err((signer, failure)) => return Ok(Verdict::failed(signer, failure, warnings)),
    };
    if envelope.payload_type != IN_TOTO_PAYLOAD_TYPE {
        let failure = Failure::Statement {
            message: format!(
                "payloadType is {:?}, expected {IN_TOTO_PAYLOAD_TYPE:?}",
                envelope.payload_type
            ),
        };
        return Ok(Verdict::failed(Some(signer), failure, warnings));
    }
    let statement = match parse_statement(&payload) {
        Ok(s) => s,
        Err(message) => {
            return Ok(Verdict::failed(
                Some(signer),
                Failure::Statement { message },
                warnings,
            ));
        }
    };
    let mut verdict = check_files(model, statement, options, progress, warnings)?;
    verdict.signer = Some(signer);
    Ok(verdict)
}

type SignatureCheck = std::result::Result<String, (Option<String>, Failure)>;

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
    match &options.trust {
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
                return Ok(Ok(signer));
            }
            if key.verify(&legacy(), signature) {
                warnings.push("signed with the pre-1.0 model_signing DSSE encoding".into());
                return Ok(Ok(signer));
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
        Trust::Anchors(anchors) => {
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
            let signer = format!("certificate {:?} (anchor {:?})", leaf.subject, leaf.anchor);
            let key = &leaf.public_key;
            if key.verify(&message, signature) {
                return Ok(Ok(signer));
            }
            let old = legacy();
            if key.verify(&old, signature) || key.verify_ecdsa_sha256(&old, signature) {
                warnings.push("signed with the pre-1.0 model_signing DSSE encoding".into());
                return Ok(Ok(signer));
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
    let value: serde_json::Value = serde_json::from_slice(payload).ok()?;
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

/// Statement checks that need no files, then the file comparison.
fn check_files(
    model: &Path,
    statement: ParsedStatement,
    options: &VerifyOptions,
    progress: ProgressFn<'_>,
    warnings: Vec<String>,
) -> Result<Verdict> {
    let ParsedStatement {
        predicate_type,
        subject,
        mut manifest,
    } = statement;
    let mut verdict = Verdict {
        verified: false,
        signer: None,
        subject: subject.clone(),
        predicate_type: Some(predicate_type),
        files_checked: 0,
        failures: Vec::new(),
        warnings,
    };
    let serialization = manifest.serialization.clone();
    let Some(algorithm) = HashAlgorithm::from_name(&serialization.hash_type) else {
        verdict.failures.push(Failure::UnknownAlgorithm {
            algorithm: serialization.hash_type,
        });
        return Ok(verdict);
    };
    if let Some(subject) = &subject {
        let computed = root_digest(&manifest.resources)
            .map(hex::encode)
            .unwrap_or_default();
        let expected = subject.digest["sha256"].to_ascii_lowercase();
        if computed != expected {
            verdict
                .failures
                .push(Failure::SubjectDigest { expected, computed });
        }
    }
    let is_file = std::fs::metadata(model)
        .map_err(|e| Error::io(model, e))?
        .is_file();
    if is_file && manifest.resources.len() == 1 && manifest.resources[0].name == "." {
        // model_signing < 1.0 named the resource of a single-file model ".".
        manifest.resources[0].name = crate::digest::model_name(model)?;
    }
    if let Err(message) = check_names(
        &manifest.resources,
        serialization.method,
        &serialization.hash_type,
    ) {
        verdict.failures.push(Failure::Statement { message });
        return Ok(verdict);
    }
    let expected_files: std::collections::BTreeSet<&str> = manifest
        .resources
        .iter()
        .map(|r| compare::file_of(&r.name, serialization.method))
        .collect();
    verdict.files_checked = expected_files.len();

    let mut ignore = IgnoreSet::new();
    for p in serialization.ignore_paths.iter().flatten() {
        if ignore.insert_canonical(p).is_err() {
            verdict.warnings.push(format!(
                "ignored a malformed ignore path {p:?} in the statement"
            ));
        }
    }
    for p in &options.ignore_paths {
        ignore.insert_user_path(model, p)?;
    }
    if let Some(sig) = &options.signature_path
        && let Some(rel) = crate::digest::ignore::relative_to_root(model, sig)?
        && !rel.is_empty()
    {
        ignore.insert_canonical(&rel)?;
    }
    for d in DEFAULT_IGNORES {
        let signed = expected_files
            .iter()
            .any(|f| *f == d || f.starts_with(&format!("{d}/")));
        if !signed {
            ignore.insert_canonical(d)?;
        }
    }

    let mut entries = match walk(model, serialization.allow_symlinks, &ignore) {
        Ok(entries) => entries,
        Err(Error::Symlink(path)) => {
            verdict.failures.push(Failure::Model {
                message: format!(
                    "{path} is a symbolic link, and the model was signed without links"
                ),
            });
            return Ok(verdict);
        }
        Err(Error::Walk(message)) => {
            verdict.failures.push(Failure::Model { message });
            return Ok(verdict);
        }
        Err(e) => return Err(e),
    };
    if options.ignore_unsigned_files {
        entries.retain(|e| expected_files.contains(e.name.as_str()));
    }
    let actual = hash_entries(&entries, algorithm, serialization.method, progress)?;
    verdict.failures.extend(compare::compare(
        &manifest.resources,
        &actual,
        serialization.method,
        options.ignore_unsigned_files,
    ));
    verdict.verified = verdict.failures.is_empty();
    Ok(verdict)
}

/// Resource names must be canonical relative paths (with a valid byte range
/// for shards), unique, and use the manifest's hash algorithm.
fn check_names(
    resources: &[Resource],
    method: Method,
    hash_type: &str,
) -> std::result::Result<(), String> {
    let mut seen = std::collections::HashSet::new();
    for r in resources {
        if !seen.insert(r.name.as_str()) {
            return Err(format!("resource {:?} is listed twice", r.name));
        }
        let path = match method {
            Method::Files => r.name.as_str(),
            Method::Shards { .. } => compare::split_shard_name(&r.name)
                .map(|(p, _, _)| p)
                .ok_or_else(|| format!("shard resource {:?} has no valid byte range", r.name))?,
        };
        let canonical = crate::digest::ignore::normalize_relative(Path::new(path)).ok();
        if canonical.as_deref() != Some(path) || path.is_empty() {
            return Err(format!(
                "resource name {:?} is not a canonical relative path",
                r.name
            ));
        }
        let sharded = r
            .algorithm
            .strip_prefix(hash_type)
            .is_some_and(|rest| rest.is_empty() || rest.starts_with("-sharded-"));
        if !sharded {
            return Err(format!(
                "resource {:?} uses algorithm {:?} but the manifest says {hash_type:?}",
                r.name, r.algorithm
            ));
        }
    }
    Ok(())
}
