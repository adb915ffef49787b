//! Evidence records: in-toto statements about a model (or a document),
//! sealed in DSSE envelopes by the evidence key, one JSON line each.
//!
//! The predicates are typed: the writers (signing, BOMs, the deploy gate,
//! attachments, deployments) and the reader (the audit) share these types,
//! and records written by earlier releases read back into them.

use crate::bundle::{Envelope, EnvelopeSignature, IN_TOTO_PAYLOAD_TYPE, STATEMENT_TYPE, pae};
use crate::clock::TimeSource;
use crate::{Error, Result};
use base64::Engine;
use base64::engine::general_purpose::STANDARD;
use ed25519_dalek::VerifyingKey;
use serde::{Deserialize, Serialize};
use serde_json::Value;
use sha2::{Digest, Sha256};
use std::collections::BTreeMap;
use std::sync::Arc;

pub use crate::digests::Digests;

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
/// An admission refused by the admission service.
pub const REFUSAL_PREDICATE: &str = "https://modelseal.dev/evidence/refusal/v1";
/// The verifier id in VSAs.
pub const VERIFIER_ID: &str = "https://modelseal.dev/verifier";
/// The policy URI a VSA names when no policy beyond the signature applied.
pub const SIGNATURE_ONLY_POLICY: &str = "https://modelseal.dev/policy/signature-only";

/// What a record is about: a model (name and OMS root digest) or a document.
/// The records an audit keeps share one copy of each subject's strings.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct EvidenceSubject {
    /// Name.
    pub name: Arc<str>,
    /// Lowercase hex SHA-256.
    pub sha256: Arc<str>,
}

impl EvidenceSubject {
    /// A subject named `name`, of digest `sha256` (lowercase hex).
    pub fn new(name: impl Into<Arc<str>>, sha256: impl Into<Arc<str>>) -> Self {
        EvidenceSubject {
            name: name.into(),
            sha256: sha256.into(),
        }
    }
}

/// One copy of each repeated string of the records a verifier keeps (their
/// subjects, the log's origin): an audit holds a log's records in memory,
/// and a million records name ten thousand models. Shared by the threads
/// that open records.
#[derive(Debug, Default)]
pub(crate) struct Shared(std::sync::RwLock<std::collections::HashSet<Arc<str>>>);

impl Shared {
    /// The one copy of `text`.
    pub(crate) fn get(&self, text: &str) -> Arc<str> {
        // A poisoned lock only means another thread panicked while holding
        // it; the set is still a set.
        if let Some(kept) = self
            .0
            .read()
            .unwrap_or_else(std::sync::PoisonError::into_inner)
            .get(text)
        {
            return kept.clone();
        }
        let mut set = self
            .0
            .write()
            .unwrap_or_else(std::sync::PoisonError::into_inner);
        if let Some(kept) = set.get(text) {
            return kept.clone();
        }
        let kept: Arc<str> = Arc::from(text);
        set.insert(kept.clone());
        kept
    }
}

/// Where a model lives when it is not a local directory: a registry
/// reference as given and the manifest digest it resolved to (the OMS root
/// digest stays the record's subject).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct ModelLocation {
    /// The reference as given (`oci://HOST/REPO:TAG`).
    pub reference: String,
    /// The reference pinned by manifest digest (`oci://HOST/REPO@sha256:...`).
    pub uri: String,
    /// The manifest digest (`sha256:HEX`).
    pub manifest_digest: String,
}

/// An input a record cites: where it was, and the digest of its bytes.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct ResourceRef {
    /// Where it was (a path, URL or name).
    pub uri: String,
    /// Digests by algorithm (`sha256`: lowercase hex).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub digest: Option<Digests>,
}

/// `uri` as a record may keep it: a URL loses its user information
/// (`user:password@`), its query (pre-signed tokens such as
/// `X-Amz-Signature`) and its fragment; anything that is not a URL is kept.
/// Records are shown to auditors and exported: they never hold credentials.
pub fn redact_uri(uri: &str) -> String {
    let Some(scheme_end) = uri.find("://") else {
        return uri.to_string();
    };
    let after = scheme_end + 3;
    let rest = &uri[after..];
    let authority_end = rest.find(['/', '?', '#']).unwrap_or(rest.len());
    let authority = &rest[..authority_end];
    let host = authority
        .rsplit_once('@')
        .map_or(authority, |(_, host)| host);
    let tail = &rest[authority_end..];
    let path = &tail[..tail.find(['?', '#']).unwrap_or(tail.len())];
    format!("{}{host}{path}", &uri[..after])
}

/// The members of sealed predicates that hold a location, redacted by
/// [`redact_uri`] at sealing whatever built the record.
const LOCATION_KEYS: &[&str] = &["uri", "resourceUri", "reference"];

/// Redacts every location member of `value`, at any depth.
fn redact_locations(value: &mut Value) {
    match value {
        Value::Object(map) => {
            for (key, v) in map.iter_mut() {
                match v {
                    Value::String(text) if LOCATION_KEYS.contains(&key.as_str()) => {
                        *text = redact_uri(text);
                    }
                    _ => redact_locations(v),
                }
            }
        }
        Value::Array(items) => items.iter_mut().for_each(redact_locations),
        _ => {}
    }
}

impl ResourceRef {
    /// A reference to `bytes` found at `uri` (redacted by [`redact_uri`]),
    /// with their SHA-256.
    pub fn of_bytes(uri: impl Into<String>, bytes: &[u8]) -> Self {
        ResourceRef {
            uri: redact_uri(&uri.into()),
            digest: Some(Digests::from([(
                "sha256".to_string(),
                hex::encode(Sha256::digest(bytes)),
            )])),
        }
    }

    /// A reference by URI alone (redacted by [`redact_uri`]).
    pub fn uri(uri: impl Into<String>) -> Self {
        ResourceRef {
            uri: redact_uri(&uri.into()),
            digest: None,
        }
    }

    /// The SHA-256 digest, when given.
    pub fn sha256(&self) -> Option<&str> {
        self.digest.as_ref()?.get("sha256")
    }
}

/// The tool that wrote a record.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Tool {
    /// Its name.
    pub name: String,
    /// Its version.
    pub version: String,
}

impl Tool {
    /// This tool.
    pub fn this() -> Self {
        Tool {
            name: "modelseal".into(),
            version: crate::VERSION.into(),
        }
    }
}

/// Who signed, as a record keeps it: a key (with its certificate when one
/// certified it) or a Sigstore keyless identity.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct SignerInfo {
    /// `SHA256:` hex fingerprint of the public key.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub fingerprint: Option<String>,
    /// The key algorithm.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub algorithm: Option<String>,
    /// The signing certificate's subject (certificate mode).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub certificate: Option<String>,
    /// The trust anchor's subject the certificate chained to.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub anchor: Option<String>,
    /// Whether the signature is a Sigstore keyless one.
    #[serde(default, skip_serializing_if = "std::ops::Not::not")]
    pub sigstore: bool,
    /// The keyless identity.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub identity: Option<String>,
    /// The keyless identity's OIDC issuer.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub issuer: Option<String>,
}

impl std::fmt::Display for SignerInfo {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        if let Some(identity) = &self.identity {
            write!(f, "sigstore identity {identity}")?;
            if let Some(issuer) = &self.issuer {
                write!(f, " (issuer {issuer})")?;
            }
            return Ok(());
        }
        if let Some(subject) = &self.certificate {
            write!(f, "certificate {subject:?}")?;
            if let Some(anchor) = &self.anchor {
                write!(f, " (anchor {anchor:?})")?;
            }
            if let Some(fp) = &self.fingerprint {
                write!(f, ", key {fp}")?;
            }
            return Ok(());
        }
        match (&self.fingerprint, &self.algorithm) {
            (Some(fp), Some(alg)) => write!(f, "key {fp} ({alg})"),
            (Some(fp), None) => write!(f, "key {fp}"),
            _ => f.write_str("unknown signer"),
        }
    }
}

/// A signer as a VSA records it: typed in this release, a line of text in
/// records of earlier releases.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(untagged)]
pub enum RecordedSigner {
    /// The signer's identity, typed (boxed: a verification keeps it
    /// beside much else, and most records name a key only).
    Info(Box<SignerInfo>),
    /// A description written by an earlier release.
    Text(String),
}

impl std::fmt::Display for RecordedSigner {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            RecordedSigner::Info(info) => info.fmt(f),
            RecordedSigner::Text(text) => f.write_str(text),
        }
    }
}

/// `https://modelseal.dev/evidence/sign/v1`: a model was signed.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct SignEvidence {
    /// Who signed.
    pub signer: SignerInfo,
    /// The signature bundle written.
    pub signature: ResourceRef,
    /// The BOM written with it, if any.
    #[serde(default)]
    pub bom: Option<ResourceRef>,
    /// The BOM's signature bundle, if any.
    #[serde(default)]
    pub bom_signature: Option<ResourceRef>,
    /// The datasets the BOM names (absent in records of 0.1.0).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub datasets: Option<Vec<DatasetRef>>,
    /// The base models the BOM names (absent in records of 0.1.0).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub base_models: Option<Vec<String>>,
    /// The base models the BOM names, each with its digest when pinned
    /// (absent in earlier records, which named them only).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub base_model_refs: Option<Vec<DatasetRef>>,
    /// Where the model signed lives, when it is in a registry (records of
    /// release 0.1.0 have none).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub location: Option<Box<ModelLocation>>,
    /// The tool.
    pub tool: Tool,
    /// When.
    pub time: jiff::Timestamp,
}

/// An input a BOM names: a dataset, or a base model.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct DatasetRef {
    /// Its name.
    pub name: String,
    /// Its OMS root digest (`sha256`); empty when the BOM names it without
    /// one (a dataset the model card names, a base model not pinned).
    pub digest: Digests,
}

/// `https://modelseal.dev/evidence/bom/v1`: an ML-BOM was written.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct BomEvidence {
    /// The BOM file.
    pub bom: ResourceRef,
    /// Its signature bundle, if signed.
    #[serde(default)]
    pub bom_signature: Option<ResourceRef>,
    /// The BOM's serial number.
    pub serial_number: String,
    /// How many model files it lists.
    pub files: u64,
    /// The datasets it names.
    #[serde(default)]
    pub datasets: Vec<DatasetRef>,
    /// The base models it names (absent in records of 0.1.0).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub base_models: Option<Vec<String>>,
    /// The base models it names, each with its digest when pinned (absent
    /// in earlier records, which named them only).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub base_model_refs: Option<Vec<DatasetRef>>,
    /// Where the model lives, when it is in a registry (records of release
    /// 0.1.0 have none).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub location: Option<Box<ModelLocation>>,
    /// The tool.
    pub tool: Tool,
    /// When.
    pub time: jiff::Timestamp,
}

/// The verifier of a VSA.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct VerifierInfo {
    /// Its URI.
    pub id: String,
    /// Component versions.
    #[serde(default)]
    pub version: BTreeMap<String, String>,
}

/// A VSA's overall result.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "SCREAMING_SNAKE_CASE")]
pub enum VerificationResult {
    /// Every check passed.
    Passed,
    /// Some check failed.
    Failed,
}

/// What a verification established, as VSA `verifiedLevels`.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize, Deserialize)]
#[non_exhaustive]
pub enum VerifiedLevel {
    /// A trusted signer's signature verified.
    #[serde(rename = "MODELSEAL_SIGNATURE_VERIFIED")]
    SignatureVerified,
    /// Every signed file was found unchanged, none missing, none extra.
    #[serde(rename = "MODELSEAL_FILES_VERIFIED")]
    FilesVerified,
    /// The signed BOM verified with the model.
    #[serde(rename = "MODELSEAL_BOM_VERIFIED")]
    BomVerified,
    /// Every signed file was inspected and none can run code on load.
    #[serde(rename = "MODELSEAL_FORMATS_SAFE")]
    FormatsSafe,
    /// Every rule of the named policy held.
    #[serde(rename = "MODELSEAL_POLICY_PASSED")]
    PolicyPassed,
}

/// `https://slsa.dev/verification_summary/v1`: a SLSA Verification Summary
/// Attestation of one verification of a model, passed or failed.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct VerificationSummary {
    /// The verifier.
    pub verifier: VerifierInfo,
    /// When the verification ran.
    pub time_verified: jiff::Timestamp,
    /// The model verified (a `file://` URI or a registry reference).
    pub resource_uri: String,
    /// The policy applied (or the signature-only pseudo-policy).
    pub policy: ResourceRef,
    /// The signature bundle, the BOM and its signature.
    #[serde(default)]
    pub input_attestations: Vec<ResourceRef>,
    /// Passed or failed.
    pub verification_result: VerificationResult,
    /// What was established.
    #[serde(default)]
    pub verified_levels: Vec<VerifiedLevel>,
    /// Why it failed, one line each.
    #[serde(default)]
    pub failures: Vec<String>,
    /// Who signed (or was checked against).
    #[serde(default)]
    pub signer: Option<RecordedSigner>,
    /// Paths excluded at verification beyond what the signature excludes.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub ignored_paths: Vec<String>,
    /// Whether files the signature does not list were tolerated.
    #[serde(default, skip_serializing_if = "std::ops::Not::not")]
    pub ignore_unsigned_files: bool,
    /// Symbolic links of the model followed out of its root, each with
    /// where it resolved.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub links_outside_root: Vec<LinkTarget>,
    /// The fingerprints (`SHA256:` hex) of the public keys the verifier
    /// trusted, as given or as the policy resolved them: which keys a
    /// pass relied on (absent in records of 0.2 and earlier).
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub trusted_keys: Vec<String>,
    /// Signed files that could run code on load, or are of a format the
    /// policy does not allow, and that the policy's reviewed exceptions
    /// allowed by their SHA-256: `MODELSEAL_FORMATS_SAFE` was established
    /// with these named (absent in records of 0.2 and earlier).
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub format_exceptions: Vec<FormatException>,
}

/// A file a policy's reviewed exception allowed, by its digest.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct FormatException {
    /// The file, relative to the model root.
    pub path: String,
    /// Its SHA-256 (hex), as verified and as the exception names it.
    pub sha256: String,
    /// What the file's reader found in it.
    pub finding: String,
    /// Why it was allowed, as the policy says.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub reason: Option<String>,
}

/// A symbolic link and where it resolved.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct LinkTarget {
    /// The link's resource name.
    pub path: String,
    /// The resolved target.
    pub target: String,
}

/// `https://modelseal.dev/evidence/attachment/v1`: a reviewed document.
///
/// Records of 0.1.0 have no version, next review date or model scope; the
/// audit derives the next review from the control's maximum age.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct AttachmentEvidence {
    /// The checklist control it serves.
    pub control: u32,
    /// The document.
    pub document: DocumentRef,
    /// Who reviewed it (required by `evidence attach` since 0.2).
    #[serde(default)]
    pub reviewer: Option<String>,
    /// The review date (`YYYY-MM-DD`).
    pub reviewed: jiff::civil::Date,
    /// The document's version or identifier.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub version: Option<String>,
    /// When the next review is due.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub next_review: Option<jiff::civil::Date>,
    /// The model the document speaks for (OMS root digest, lowercase hex);
    /// absent, it speaks for the organisation and so for every model.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub model: Option<String>,
    /// A note.
    #[serde(default)]
    pub note: Option<String>,
    /// When it was recorded.
    pub recorded_at: jiff::Timestamp,
}

/// A document an attachment names.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct DocumentRef {
    /// Its file name.
    pub name: String,
    /// Where it was.
    pub uri: String,
    /// Its digest (`sha256`).
    pub digest: Digests,
    /// Its size in bytes.
    pub size: u64,
}

/// `https://modelseal.dev/evidence/deployment/v1`: a model was deployed.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct DeploymentEvidence {
    /// Where.
    #[serde(default)]
    pub target: Option<String>,
    /// When.
    pub time: jiff::Timestamp,
    /// The verification it relied on: `sha256:HEX` of that record's log
    /// line. Absent (records of 0.1.0, or no verification in the log), the
    /// audit takes the latest verification of the model before it.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub verification: Option<String>,
    /// The Kubernetes object the admission service admitted, when it made
    /// this record.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub admission: Option<AdmissionObject>,
}

/// The object of a Kubernetes admission request.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct AdmissionObject {
    /// The API server's request uid (a retried request keeps it).
    pub uid: String,
    /// The object's kind (`Pod`, `InferenceService`).
    pub kind: String,
    /// Its namespace.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub namespace: Option<String>,
    /// Its name, or `generateName` when the server names it.
    pub name: String,
    /// `CREATE` or `UPDATE`.
    pub operation: String,
    /// Where in the object the model is named (`spec.volumes[0].image`).
    pub field: String,
    /// The model reference as the object names it.
    pub reference: String,
}

impl AdmissionObject {
    /// The deployment target it names: `KIND NAMESPACE/NAME`.
    pub fn target(&self) -> String {
        format!(
            "{} {}/{}",
            self.kind,
            self.namespace.as_deref().unwrap_or(""),
            self.name
        )
    }
}

/// `https://modelseal.dev/evidence/refusal/v1`: the admission service
/// refused to admit a model.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct RefusalEvidence {
    /// What was refused.
    pub admission: AdmissionObject,
    /// When.
    pub time: jiff::Timestamp,
    /// The failed verification it made (`sha256:HEX` of that record's log
    /// line); absent when no verification could be made (an unreachable
    /// registry, a tag, a location that cannot be verified).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub verification: Option<String>,
    /// Why, one line each.
    pub reasons: Vec<String>,
}

/// The body of a record, by predicate type.
#[derive(Debug, Clone, PartialEq, Eq)]
#[non_exhaustive]
pub enum Predicate {
    /// A model signed.
    Sign(Box<SignEvidence>),
    /// A BOM written.
    Bom(Box<BomEvidence>),
    /// A verification (VSA).
    Verification(Box<VerificationSummary>),
    /// A reviewed document.
    Attachment(Box<AttachmentEvidence>),
    /// A deployment.
    Deployment(Box<DeploymentEvidence>),
    /// An admission refused.
    Refusal(Box<RefusalEvidence>),
}

impl Predicate {
    /// The in-toto predicate type URI.
    pub fn predicate_type(&self) -> &'static str {
        match self {
            Predicate::Sign(_) => SIGN_PREDICATE,
            Predicate::Bom(_) => BOM_PREDICATE,
            Predicate::Verification(_) => VSA_PREDICATE,
            Predicate::Attachment(_) => ATTACHMENT_PREDICATE,
            Predicate::Deployment(_) => DEPLOYMENT_PREDICATE,
            Predicate::Refusal(_) => REFUSAL_PREDICATE,
        }
    }

    /// When the recorded event happened.
    pub fn time(&self) -> jiff::Timestamp {
        match self {
            Predicate::Sign(p) => p.time,
            Predicate::Bom(p) => p.time,
            Predicate::Verification(p) => p.time_verified,
            Predicate::Attachment(p) => p.recorded_at,
            Predicate::Deployment(p) => p.time,
            Predicate::Refusal(p) => p.time,
        }
    }

    /// Reads the body of a sealed predicate of type `predicate_type` (its
    /// JSON text, `timeSource` and `logBinding` members included, which
    /// the typed bodies do not hold and skip).
    fn from_body(predicate_type: &str, body: &str) -> std::result::Result<Self, RecordError> {
        fn typed<T: serde::de::DeserializeOwned>(
            body: &str,
            wrap: impl FnOnce(Box<T>) -> Predicate,
        ) -> serde_json::Result<Predicate> {
            serde_json::from_str(body).map(|p| {
                let mut predicate = wrap(Box::new(p));
                predicate.shrink();
                predicate
            })
        }
        let read = match predicate_type {
            SIGN_PREDICATE => typed(body, Predicate::Sign),
            BOM_PREDICATE => typed(body, Predicate::Bom),
            VSA_PREDICATE => typed(body, Predicate::Verification),
            ATTACHMENT_PREDICATE => typed(body, Predicate::Attachment),
            DEPLOYMENT_PREDICATE => typed(body, Predicate::Deployment),
            // Refusals refuse members they do not know: read as a value
            // without the placement members (and a type this release does
            // not know is refused by `from_value`).
            _ => {
                let mut value: Value =
                    serde_json::from_str(body).map_err(|e| RecordError::Predicate {
                        predicate_type: predicate_type.to_string(),
                        reason: format!("malformed {predicate_type} predicate: {e}"),
                    })?;
                if let Value::Object(fields) = &mut value {
                    fields.remove(TIME_SOURCE_KEY);
                    fields.remove(LOG_BINDING_KEY);
                }
                return Predicate::from_value(predicate_type, value);
            }
        };
        read.map_err(|e| RecordError::Predicate {
            predicate_type: predicate_type.to_string(),
            reason: format!("malformed {predicate_type} predicate: {e}"),
        })
    }

    /// Lists read from text grow by doubling: each is cut to its length,
    /// as an audit keeps every record of a log.
    fn shrink(&mut self) {
        fn exact<T>(list: &mut Vec<T>) {
            list.shrink_to_fit();
        }
        fn maybe<T>(list: &mut Option<Vec<T>>) {
            if let Some(list) = list {
                list.shrink_to_fit();
            }
        }
        match self {
            Predicate::Sign(p) => {
                maybe(&mut p.datasets);
                maybe(&mut p.base_models);
                maybe(&mut p.base_model_refs);
            }
            Predicate::Bom(p) => {
                exact(&mut p.datasets);
                maybe(&mut p.base_models);
                maybe(&mut p.base_model_refs);
            }
            Predicate::Verification(p) => {
                exact(&mut p.input_attestations);
                exact(&mut p.verified_levels);
                exact(&mut p.failures);
                exact(&mut p.ignored_paths);
                exact(&mut p.links_outside_root);
                exact(&mut p.trusted_keys);
                exact(&mut p.format_exceptions);
            }
            // Read from a value: sized already.
            Predicate::Refusal(_) => {}
            Predicate::Attachment(_) | Predicate::Deployment(_) => {}
        }
    }

    /// Reads a predicate of type `predicate_type`.
    pub fn from_value(
        predicate_type: &str,
        value: Value,
    ) -> std::result::Result<Self, RecordError> {
        let typed = match predicate_type {
            SIGN_PREDICATE => serde_json::from_value(value).map(|p| Predicate::Sign(Box::new(p))),
            BOM_PREDICATE => serde_json::from_value(value).map(|p| Predicate::Bom(Box::new(p))),
            VSA_PREDICATE => {
                serde_json::from_value(value).map(|p| Predicate::Verification(Box::new(p)))
            }
            ATTACHMENT_PREDICATE => {
                serde_json::from_value(value).map(|p| Predicate::Attachment(Box::new(p)))
            }
            DEPLOYMENT_PREDICATE => {
                serde_json::from_value(value).map(|p| Predicate::Deployment(Box::new(p)))
            }
            REFUSAL_PREDICATE => {
                serde_json::from_value(value).map(|p| Predicate::Refusal(Box::new(p)))
            }
            other => {
                return Err(RecordError::Predicate {
                    predicate_type: other.to_string(),
                    reason: format!("unknown predicate type {other:?}"),
                });
            }
        };
        typed.map_err(|e| RecordError::Predicate {
            predicate_type: predicate_type.to_string(),
            reason: format!("malformed {predicate_type} predicate: {e}"),
        })
    }
}

/// A predicate serialises as its body (the predicate type is beside it in
/// the statement).
impl Serialize for Predicate {
    fn serialize<S: serde::Serializer>(&self, s: S) -> std::result::Result<S::Ok, S::Error> {
        match self {
            Predicate::Sign(p) => p.serialize(s),
            Predicate::Bom(p) => p.serialize(s),
            Predicate::Verification(p) => p.serialize(s),
            Predicate::Attachment(p) => p.serialize(s),
            Predicate::Deployment(p) => p.serialize(s),
            Predicate::Refusal(p) => p.serialize(s),
        }
    }
}

/// A record to append: what it is about and what happened.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct NewRecord {
    /// What the record is about.
    pub subject: EvidenceSubject,
    /// What happened.
    pub predicate: Predicate,
    /// The clock the record's time came from. A record made under a test
    /// clock carries `"timeSource": "test"` in its predicate, and the
    /// audit reports it.
    pub clock: TimeSource,
}

/// The predicate key that marks a record made under a test clock.
const TIME_SOURCE_KEY: &str = "timeSource";

/// The predicate key that binds a record to its place in its log.
const LOG_BINDING_KEY: &str = "logBinding";

/// Where a record was sealed to sit: one index of one log, after one
/// history. Signed with the record, so a record is valid at exactly one
/// place in one log, and no two records of a log have the same bytes.
/// Records of release 0.2 and earlier have none (they read as unbound).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct LogBinding {
    /// The log's origin (its checkpoints' first line).
    pub origin: Arc<str>,
    /// The record's index (0-based).
    pub index: u64,
    /// The RFC 6962 root of the log's first `index` records (sealed as
    /// lowercase hex).
    #[serde(with = "lowercase_hex")]
    pub previous: crate::merkle::Hash,
    /// For a record appended in a batch (several records made durable
    /// under one checkpoint): the size of the checkpoint the batch was
    /// written after. A writer killed during a batch leaves only records
    /// that name the checkpoint then on disk.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub batch: Option<u64>,
}

/// The lowercase hex SHA-256 of a log line, held in place (an audit keeps
/// a million of them); reads as a `&str`.
#[derive(Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub struct LineDigest([u8; 64]);

impl LineDigest {
    /// The digest of `line`'s exact bytes.
    pub fn of(line: &[u8]) -> Self {
        let mut hex = [0u8; 64];
        // 32 bytes always fit 64 hex digits.
        let _ = hex::encode_to_slice(Sha256::digest(line), &mut hex);
        LineDigest(hex)
    }

    /// The 64 hex digits.
    pub fn as_str(&self) -> &str {
        // Only ever ASCII hex digits.
        std::str::from_utf8(&self.0).unwrap_or_default()
    }
}

impl std::ops::Deref for LineDigest {
    type Target = str;
    fn deref(&self) -> &str {
        self.as_str()
    }
}

impl AsRef<str> for LineDigest {
    fn as_ref(&self) -> &str {
        self.as_str()
    }
}

impl std::borrow::Borrow<str> for LineDigest {
    fn borrow(&self) -> &str {
        self.as_str()
    }
}

impl std::fmt::Display for LineDigest {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(self.as_str())
    }
}

impl std::fmt::Debug for LineDigest {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        std::fmt::Debug::fmt(self.as_str(), f)
    }
}

impl PartialEq<str> for LineDigest {
    fn eq(&self, other: &str) -> bool {
        self.as_str() == other
    }
}

impl PartialEq<&str> for LineDigest {
    fn eq(&self, other: &&str) -> bool {
        self.as_str() == *other
    }
}

impl PartialEq<String> for LineDigest {
    fn eq(&self, other: &String) -> bool {
        self.as_str() == other
    }
}

impl From<LineDigest> for String {
    fn from(d: LineDigest) -> String {
        d.as_str().to_string()
    }
}

impl Serialize for LineDigest {
    fn serialize<S: serde::Serializer>(&self, s: S) -> std::result::Result<S::Ok, S::Error> {
        s.serialize_str(self.as_str())
    }
}

/// A hash as records seal it: 64 lowercase hex digits, nothing else.
mod lowercase_hex {
    use serde::{Deserialize, Deserializer, Serializer};

    pub fn serialize<S: Serializer>(hash: &[u8; 32], s: S) -> Result<S::Ok, S::Error> {
        s.serialize_str(&hex::encode(hash))
    }

    pub fn deserialize<'de, D: Deserializer<'de>>(d: D) -> Result<[u8; 32], D::Error> {
        let text = String::deserialize(d)?;
        let mut hash = [0u8; 32];
        if text.len() != 64
            || text.bytes().any(|b| b.is_ascii_uppercase())
            || hex::decode_to_slice(&text, &mut hash).is_err()
        {
            return Err(serde::de::Error::custom(
                "a root must be 64 lowercase hex digits",
            ));
        }
        Ok(hash)
    }
}

/// Seals a record into one log line (compact JSON, no newline), unbound:
/// what releases before binding wrote. Logs append [`seal_bound`] lines.
#[cfg(test)]
pub(crate) fn seal(record: &NewRecord, key: &dyn crate::SealKey) -> Result<String> {
    seal_with(record, key, None)
}

/// Seals a record bound to its place in its log (see [`LogBinding`]).
pub(crate) fn seal_bound(
    record: &NewRecord,
    key: &dyn crate::SealKey,
    binding: &LogBinding,
) -> Result<String> {
    seal_with(record, key, Some(binding))
}

fn seal_with(
    record: &NewRecord,
    key: &dyn crate::SealKey,
    binding: Option<&LogBinding>,
) -> Result<String> {
    let mut predicate = serde_json::to_value(&record.predicate)
        .map_err(|e| Error::Evidence(format!("cannot encode the record: {e}")))?;
    redact_locations(&mut predicate);
    if let Value::Object(fields) = &mut predicate {
        if record.clock == TimeSource::Test {
            fields.insert(TIME_SOURCE_KEY.into(), Value::String("test".into()));
        }
        if let Some(binding) = binding {
            let value = serde_json::to_value(binding)
                .map_err(|e| Error::Evidence(format!("cannot encode the record: {e}")))?;
            fields.insert(LOG_BINDING_KEY.into(), value);
        }
    }
    let statement = serde_json::json!({
        "_type": STATEMENT_TYPE,
        "subject": [{ "name": record.subject.name, "digest": { "sha256": record.subject.sha256 } }],
        "predicateType": record.predicate.predicate_type(),
        "predicate": predicate,
    });
    let payload = serde_json::to_vec(&statement)
        .map_err(|e| Error::Evidence(format!("cannot encode the record: {e}")))?;
    let signature = key.seal(&pae(IN_TOTO_PAYLOAD_TYPE, &payload))?;
    let envelope = Envelope {
        payload: STANDARD.encode(&payload),
        payload_type: IN_TOTO_PAYLOAD_TYPE.into(),
        signatures: vec![EnvelopeSignature {
            sig: STANDARD.encode(signature.to_bytes()),
            keyid: Some(key_id(&key.verifying_key())),
        }],
    };
    serde_json::to_string(&envelope)
        .map_err(|e| Error::Evidence(format!("cannot encode the record: {e}")))
}

/// The key id written in envelopes: the key's fingerprint, `SHA256:` hex
/// of its SPKI DER, the one form `keygen`, policies and reports show.
pub fn key_id(key: &VerifyingKey) -> String {
    crate::keys::PublicKey::Ed25519(*key).fingerprint()
}

/// The key id releases 0.2 and earlier wrote: `SHA256:` hex of the raw
/// 32-byte key. Read as it is in existing logs.
pub fn legacy_key_id(key: &VerifyingKey) -> String {
    format!("SHA256:{}", hex::encode(Sha256::digest(key.as_bytes())))
}

/// A record read back from the log.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Record {
    /// Position in the log (0-based).
    pub index: usize,
    /// Hex SHA-256 of the exact line bytes (how reports cite it).
    pub digest: LineDigest,
    /// The subject.
    pub subject: EvidenceSubject,
    /// What happened.
    pub predicate: Predicate,
    /// The clock the record's time came from.
    pub clock: TimeSource,
    /// Its place in its log, as sealed (`None`: written before binding).
    pub binding: Option<LogBinding>,
}

impl Record {
    /// When the recorded event happened.
    pub fn time(&self) -> jiff::Timestamp {
        self.predicate.time()
    }

    /// The in-toto predicate type URI.
    pub fn predicate_type(&self) -> &'static str {
        self.predicate.predicate_type()
    }
}

#[derive(Deserialize)]
struct RawStatement<'a> {
    #[serde(rename = "_type")]
    statement_type: String,
    subject: Vec<crate::bundle::Subject>,
    #[serde(rename = "predicateType")]
    predicate_type: String,
    /// Read twice, not built as a tree (but for refusals): once for where
    /// the record was made ([`Placement`]), once into its typed body.
    #[serde(borrow)]
    predicate: &'a serde_json::value::RawValue,
}

/// The members of a predicate that say where and under which clock it was
/// made rather than what happened.
#[derive(Deserialize)]
struct Placement {
    #[serde(rename = "timeSource", default)]
    time_source: Present,
    #[serde(rename = "logBinding", default)]
    log_binding: Present,
}

/// A member, whatever its value (`null` included), or its absence.
#[derive(Default)]
struct Present(Option<Value>);

impl<'de> Deserialize<'de> for Present {
    fn deserialize<D: serde::Deserializer<'de>>(d: D) -> std::result::Result<Self, D::Error> {
        Value::deserialize(d).map(|v| Present(Some(v)))
    }
}

/// A log line's envelope, decoded but not yet checked.
pub(crate) struct Unsealed {
    /// What the signature covers (the DSSE pre-authentication encoding).
    pub(crate) message: Vec<u8>,
    /// The statement.
    payload: Vec<u8>,
    /// The one signature.
    pub(crate) signature: ed25519_dalek::Signature,
    /// The key id the envelope names.
    keyid: Option<String>,
}

/// Why a log line is not a record of this log: each names what an auditor
/// or `evidence verify` reports, in one line.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[non_exhaustive]
pub enum RecordError {
    /// The line is not a DSSE envelope (strict JSON).
    #[error("not a DSSE envelope: {source}")]
    NotEnvelope {
        /// What the strict JSON reader found.
        source: crate::json::StrictJsonError,
    },
    /// The envelope's payload is not base64.
    #[error("{source}")]
    Payload {
        /// What is wrong with it.
        source: crate::bundle::PayloadNotBase64,
    },
    /// The envelope holds no signature, or more than one.
    #[error("the envelope must hold one signature")]
    SignatureCount {
        /// How many it holds.
        count: usize,
    },
    /// The signature is not base64 of an Ed25519 signature.
    #[error("the signature is not {expected}")]
    SignatureEncoding {
        /// What it should have been (`base64`, `Ed25519`).
        expected: &'static str,
    },
    /// The envelope names another key, and the evidence key's signature
    /// does not verify: a record of another log.
    #[error("sealed by another key ({}), not the evidence key", .keyid.chars().take(80).collect::<String>())]
    OtherKey {
        /// The key id the envelope names (not authenticated).
        keyid: String,
    },
    /// The signature does not verify with the evidence key.
    #[error("the signature does not verify with the evidence key (forged or edited)")]
    BadSignature,
    /// The payload is not an in-toto statement as a record has it.
    #[error("{reason}")]
    Statement {
        /// What is wrong with it.
        reason: String,
    },
    /// The predicate is of an unknown type, or malformed for its type.
    #[error("{reason}")]
    Predicate {
        /// The predicate type.
        predicate_type: String,
        /// What is wrong with it.
        reason: String,
    },
}

impl RecordError {
    fn statement(reason: impl Into<String>) -> Self {
        RecordError::Statement {
            reason: reason.into(),
        }
    }
}

/// Decodes a log line's DSSE envelope with exactly one Ed25519 signature.
pub(crate) fn unseal(line: &[u8]) -> std::result::Result<Unsealed, RecordError> {
    let envelope: Envelope =
        crate::json::from_slice(line).map_err(|source| RecordError::NotEnvelope { source })?;
    let payload = envelope
        .payload_bytes()
        .map_err(|source| RecordError::Payload { source })?;
    let [signature] = envelope.signatures.as_slice() else {
        return Err(RecordError::SignatureCount {
            count: envelope.signatures.len(),
        });
    };
    let sig = STANDARD
        .decode(&signature.sig)
        .map_err(|_| RecordError::SignatureEncoding { expected: "base64" })?;
    let sig =
        ed25519_dalek::Signature::from_slice(&sig).map_err(|_| RecordError::SignatureEncoding {
            expected: "Ed25519",
        })?;
    Ok(Unsealed {
        message: pae(&envelope.payload_type, &payload),
        payload,
        signature: sig,
        keyid: signature.keyid.clone(),
    })
}

impl Unsealed {
    /// Checks the signature with `key` (strictly: no small-order or
    /// non-canonical components).
    pub(crate) fn check(&self, key: &VerifyingKey) -> std::result::Result<(), RecordError> {
        key.verify_strict(&self.message, &self.signature)
            .map_err(|_| match &self.keyid {
                // A record sealed by another key names that key; the name is
                // not authenticated, but either way the record is not this
                // log's.
                Some(other) if *other != key_id(key) && *other != legacy_key_id(key) => {
                    RecordError::OtherKey {
                        keyid: other.clone(),
                    }
                }
                _ => RecordError::BadSignature,
            })
    }

    /// Reads the statement of a record whose signature was checked.
    pub(crate) fn read(
        self,
        index: usize,
        line: &[u8],
        shared: Option<&Shared>,
    ) -> std::result::Result<Record, RecordError> {
        let share = |text: &str| -> Arc<str> {
            match shared {
                Some(shared) => shared.get(text),
                None => Arc::from(text),
            }
        };
        let statement: RawStatement = crate::json::from_slice_borrowed(&self.payload)
            .map_err(|e| RecordError::statement(format!("not an in-toto statement: {e}")))?;
        if statement.statement_type != STATEMENT_TYPE {
            return Err(RecordError::statement(format!(
                "statement _type {:?}",
                statement.statement_type
            )));
        }
        let [subject] = <[crate::bundle::Subject; 1]>::try_from(statement.subject)
            .map_err(|_| RecordError::statement("a record must have exactly one subject"))?;
        let sha256 = subject
            .digest
            .get("sha256")
            .cloned()
            .ok_or_else(|| RecordError::statement("the subject has no sha256 digest"))?;
        let body = statement.predicate.get();
        if !body.trim_start().starts_with('{') {
            return Err(RecordError::statement("the predicate is not a JSON object"));
        }
        let placement: Placement = serde_json::from_str(body)
            .map_err(|e| RecordError::statement(format!("the predicate: {e}")))?;
        let clock = match placement.time_source.0 {
            None => TimeSource::System,
            Some(Value::String(s)) if s == "test" => TimeSource::Test,
            Some(other) => {
                return Err(RecordError::statement(format!(
                    "the predicate's {TIME_SOURCE_KEY} must be \"test\" when present, not {}",
                    other.to_string().chars().take(40).collect::<String>()
                )));
            }
        };
        let binding = match placement.log_binding.0 {
            None => None,
            Some(value) => {
                let mut binding = serde_json::from_value::<LogBinding>(value).map_err(|e| {
                    RecordError::statement(format!(
                        "the predicate's {LOG_BINDING_KEY} is malformed: {e}"
                    ))
                })?;
                binding.origin = share(&binding.origin);
                Some(binding)
            }
        };
        let predicate = Predicate::from_body(&statement.predicate_type, body)?;
        Ok(Record {
            index,
            digest: LineDigest::of(line),
            subject: EvidenceSubject::new(
                share(&subject.name),
                if sha256.bytes().any(|b| b.is_ascii_uppercase()) {
                    share(&sha256.to_ascii_lowercase())
                } else {
                    share(&sha256)
                },
            ),
            predicate,
            clock,
            binding,
        })
    }
}

/// Opens one log line: the envelope must be signed by `key` over an in-toto
/// statement with one subject and a predicate of a known type. Errors are
/// reasons for the audit report; a record sealed by another key is named
/// with that key's id.
pub fn open(
    index: usize,
    line: &[u8],
    key: &VerifyingKey,
) -> std::result::Result<Record, RecordError> {
    let unsealed = unseal(line)?;
    unsealed.check(key)?;
    unsealed.read(index, line, None)
}

#[cfg(test)]
mod duplicate_key_tests;

#[cfg(test)]
mod tests {
    use super::*;
    use ed25519_dalek::{Signer as _, SigningKey};

    fn deployment(time: &str) -> NewRecord {
        NewRecord {
            subject: EvidenceSubject {
                name: "m".into(),
                sha256: "ab".repeat(32).into(),
            },
            predicate: Predicate::Deployment(Box::new(DeploymentEvidence {
                target: Some("prod".into()),
                time: time.parse().unwrap(),
                verification: None,
                admission: None,
            })),
            clock: TimeSource::System,
        }
    }

    #[test]
    fn records_never_hold_credentials_from_urls() {
        for (given, kept) in [
            (
                "https://user:pass@host.example/a/model.sig?X-Amz-Signature=s3cr3t&x=1#frag",
                "https://host.example/a/model.sig",
            ),
            (
                "https://host.example:8443?token=t",
                "https://host.example:8443",
            ),
            ("http://a@b@127.0.0.1:80/x", "http://127.0.0.1:80/x"),
            (
                "oci://registry.example/m:tag",
                "oci://registry.example/m:tag",
            ),
            ("models/m.sig", "models/m.sig"),
            ("./odd?name#file", "./odd?name#file"),
        ] {
            assert_eq!(redact_uri(given), kept, "{given}");
        }
        // Whatever builds the record, sealing redacts its locations.
        let key = SigningKey::from_bytes(&[3u8; 32]);
        let mut record = deployment("2031-01-01T00:00:00Z");
        record.predicate = Predicate::Attachment(Box::new(AttachmentEvidence {
            control: 1,
            document: DocumentRef {
                name: "p.md".into(),
                uri: "https://u:pw@docs.example/p.md?sig=tok".into(),
                digest: Digests::from([("sha256", "00".repeat(32))]),
                size: 4,
            },
            reviewer: Some("r".into()),
            reviewed: "2031-01-01".parse().unwrap(),
            version: None,
            next_review: None,
            model: None,
            note: None,
            recorded_at: "2031-01-01T00:00:00Z".parse().unwrap(),
        }));
        let line = seal(&record, &key).unwrap();
        let opened = open(0, line.as_bytes(), &key.verifying_key()).unwrap();
        let Predicate::Attachment(a) = opened.predicate else {
            panic!("{:?}", opened.predicate)
        };
        assert_eq!(a.document.uri, "https://docs.example/p.md");
    }

    /// A log line holding `statement`, signed by `key` as the evidence key
    /// signs: a record the key holder wrote by hand.
    fn signed_line(statement: &Value, key: &SigningKey) -> String {
        signed_payload(&serde_json::to_vec(statement).unwrap(), key)
    }

    /// A log line holding `payload` as it is, signed by `key`.
    fn signed_payload(payload: &[u8], key: &SigningKey) -> String {
        let envelope = Envelope {
            payload: STANDARD.encode(payload),
            payload_type: IN_TOTO_PAYLOAD_TYPE.into(),
            signatures: vec![EnvelopeSignature {
                sig: STANDARD.encode(key.sign(&pae(IN_TOTO_PAYLOAD_TYPE, payload)).to_bytes()),
                keyid: None,
            }],
        };
        serde_json::to_string(&envelope).unwrap()
    }

    #[test]
    fn a_record_made_under_a_test_clock_says_so_and_nothing_else_marks_it() {
        let key = SigningKey::from_bytes(&[3u8; 32]);
        let mut record = deployment("2031-01-01T00:00:00Z");
        let plain = seal(&record, &key).unwrap();
        let opened = open(0, plain.as_bytes(), &key.verifying_key()).unwrap();
        assert_eq!(opened.clock, TimeSource::System);
        record.clock = TimeSource::Test;
        let marked = seal(&record, &key).unwrap();
        let opened = open(0, marked.as_bytes(), &key.verifying_key()).unwrap();
        assert_eq!(opened.clock, TimeSource::Test);
        assert_eq!(opened.predicate, record.predicate);
        let statement = |line: &str| {
            let envelope: Envelope = serde_json::from_str(line).unwrap();
            let payload: Value =
                serde_json::from_slice(&envelope.payload_bytes().unwrap()).unwrap();
            payload
        };
        assert_eq!(statement(&marked)["predicate"]["timeSource"], "test");
        assert!(statement(&plain)["predicate"].get("timeSource").is_none());
        // Any other value is refused rather than read as the system clock.
        let mut forged = statement(&marked);
        forged["predicate"]["timeSource"] = Value::String("system".into());
        let line = signed_line(&forged, &key);
        let why = open(0, line.as_bytes(), &key.verifying_key())
            .unwrap_err()
            .to_string();
        assert!(why.contains("timeSource"), "{why}");
        // A predicate that is not an object is no record of ours (serde
        // would read an array into the struct field by field).
        forged["predicate"] = serde_json::json!(["prod", "2031-01-01T00:00:00Z", null]);
        let line = signed_line(&forged, &key);
        let why = open(0, line.as_bytes(), &key.verifying_key())
            .unwrap_err()
            .to_string();
        assert!(why.contains("not a JSON object"), "{why}");
    }

    #[test]
    fn where_a_record_was_made_is_read_apart_from_its_body() {
        let key = SigningKey::from_bytes(&[3u8; 32]);
        let binding = LogBinding {
            origin: "modelseal.test/log/1".into(),
            index: 4,
            previous: [0xab; 32],
            batch: None,
        };
        // A refusal's body refuses members it does not know; sealed with
        // its place and a test clock, it opens with both.
        let mut refusal = NewRecord {
            subject: EvidenceSubject::new("m", "AB".repeat(32)),
            predicate: Predicate::Refusal(Box::new(RefusalEvidence {
                admission: AdmissionObject {
                    uid: "uid-1".into(),
                    kind: "Pod".into(),
                    namespace: None,
                    name: "server".into(),
                    operation: "CREATE".into(),
                    field: "spec.volumes[0].image.reference".into(),
                    reference: "registry.example/m:1".into(),
                },
                time: "2031-01-01T00:00:00Z".parse().unwrap(),
                verification: None,
                reasons: vec!["a tag".into()],
            })),
            clock: TimeSource::Test,
        };
        let line = seal_bound(&refusal, &key, &binding).unwrap();
        let opened = open(0, line.as_bytes(), &key.verifying_key()).unwrap();
        assert_eq!(opened.binding.as_ref(), Some(&binding));
        assert_eq!(opened.clock, TimeSource::Test);
        assert_eq!(opened.predicate, refusal.predicate);
        assert_eq!(
            &*opened.subject.sha256,
            "ab".repeat(32),
            "subjects read lowercase"
        );
        // Each placement member, present but null or malformed, is refused.
        refusal.predicate = deployment("2031-01-01T00:00:00Z").predicate;
        let statement = |line: &str| -> Value {
            let envelope: Envelope = serde_json::from_str(line).unwrap();
            serde_json::from_slice(&envelope.payload_bytes().unwrap()).unwrap()
        };
        let sealed = statement(&seal_bound(&refusal, &key, &binding).unwrap());
        let refused = |member: &str, value: Value| {
            let mut forged = sealed.clone();
            forged["predicate"][member] = value;
            open(
                0,
                signed_line(&forged, &key).as_bytes(),
                &key.verifying_key(),
            )
            .unwrap_err()
            .to_string()
        };
        assert!(refused("timeSource", Value::Null).contains("timeSource"));
        assert!(refused("logBinding", Value::Null).contains("logBinding"));
        let mut upper = serde_json::to_value(&binding).unwrap();
        upper["previous"] = Value::String("AB".repeat(32));
        assert!(refused("logBinding", upper).contains("64 lowercase hex"));
        let mut short = serde_json::to_value(&binding).unwrap();
        short["previous"] = Value::String("ab".repeat(31));
        assert!(refused("logBinding", short).contains("64 lowercase hex"));
        // A digest naming an algorithm twice, signed by the key, never
        // reaches a type: the strict reader refuses the repeated key.
        let text = serde_json::to_string(&sealed).unwrap();
        let doubled = text.replacen(
            "\"sha256\":",
            &format!("\"sha256\":\"{}\",\"sha256\":", "cd".repeat(32)),
            1,
        );
        assert_ne!(doubled, text);
        assert!(
            open(
                0,
                signed_payload(text.as_bytes(), &key).as_bytes(),
                &key.verifying_key()
            )
            .is_ok()
        );
        let why = open(
            0,
            signed_payload(doubled.as_bytes(), &key).as_bytes(),
            &key.verifying_key(),
        )
        .unwrap_err()
        .to_string();
        assert!(why.contains("sha256"), "{why}");
    }

    #[test]
    fn sealed_records_open_and_forgeries_do_not() {
        let key = SigningKey::from_bytes(&[3u8; 32]);
        let record = deployment("2026-01-01T00:00:00Z");
        let line = seal(&record, &key).unwrap();
        assert!(!line.contains('\n'));
        let opened = open(0, line.as_bytes(), &key.verifying_key()).unwrap();
        assert_eq!(opened.subject, record.subject);
        assert_eq!(opened.predicate, record.predicate);
        assert_eq!(opened.time().to_string(), "2026-01-01T00:00:00Z");
        // The key id is the key's fingerprint, as keygen prints it.
        assert!(line.contains(&crate::keys::PublicKey::Ed25519(key.verifying_key()).fingerprint()));
        let other = SigningKey::from_bytes(&[4u8; 32]);
        let foreign = seal(&record, &other).unwrap();
        let why = open(1, foreign.as_bytes(), &key.verifying_key()).unwrap_err();
        assert_eq!(
            why,
            RecordError::OtherKey {
                keyid: key_id(&other.verifying_key())
            }
        );
        assert!(
            why.to_string().contains(&format!(
                "sealed by another key ({})",
                key_id(&other.verifying_key())
            )),
            "{why}"
        );
        // An edited record keeps its key id: forged or edited.
        let mut bytes = line.clone().into_bytes();
        let at = line.find("payload\":\"").unwrap() + 12;
        bytes[at] = if bytes[at] == b'e' { b'f' } else { b'e' };
        let why = open(2, &bytes, &key.verifying_key()).unwrap_err();
        assert_eq!(why, RecordError::BadSignature);
        assert!(why.to_string().contains("forged or edited"), "{why}");
        assert!(open(2, b"{}", &key.verifying_key()).is_err());
    }

    #[test]
    fn every_predicate_round_trips_through_its_type() {
        let cite = ResourceRef::of_bytes("model.sig", b"bundle");
        let time: jiff::Timestamp = "2026-02-03T04:05:06Z".parse().unwrap();
        let signer = SignerInfo {
            fingerprint: Some("SHA256:00".into()),
            algorithm: Some("ed25519".into()),
            ..SignerInfo::default()
        };
        let predicates = [
            Predicate::Sign(Box::new(SignEvidence {
                signer: signer.clone(),
                signature: cite.clone(),
                bom: None,
                bom_signature: None,
                datasets: None,
                base_models: None,
                base_model_refs: None,
                location: Some(Box::new(ModelLocation {
                    reference: "oci://127.0.0.1:5000/m:v1".into(),
                    uri: format!("oci://127.0.0.1:5000/m@sha256:{}", "0".repeat(64)),
                    manifest_digest: format!("sha256:{}", "0".repeat(64)),
                })),
                tool: Tool::this(),
                time,
            })),
            Predicate::Bom(Box::new(BomEvidence {
                bom: cite.clone(),
                bom_signature: Some(cite.clone()),
                serial_number: "urn:uuid:x".into(),
                files: 3,
                datasets: vec![DatasetRef {
                    name: "d".into(),
                    digest: Digests::from([("sha256", "00".repeat(32))]),
                }],
                base_models: Some(vec!["org/base".into()]),
                base_model_refs: None,
                location: None,
                tool: Tool::this(),
                time,
            })),
            Predicate::Verification(Box::new(VerificationSummary {
                verifier: VerifierInfo {
                    id: VERIFIER_ID.into(),
                    version: BTreeMap::from([("modelseal".into(), crate::VERSION.into())]),
                },
                time_verified: time,
                resource_uri: "file:///m".into(),
                policy: ResourceRef::uri(SIGNATURE_ONLY_POLICY),
                input_attestations: vec![cite.clone()],
                verification_result: VerificationResult::Passed,
                verified_levels: vec![VerifiedLevel::SignatureVerified],
                failures: vec![],
                signer: Some(RecordedSigner::Info(Box::new(signer))),
                ignored_paths: vec!["cache".into()],
                ignore_unsigned_files: true,
                links_outside_root: vec![],
                trusted_keys: vec!["SHA256:".to_string() + &"ab".repeat(32)],
                format_exceptions: vec![],
            })),
            Predicate::Attachment(Box::new(AttachmentEvidence {
                control: 1,
                document: DocumentRef {
                    name: "p.md".into(),
                    uri: "p.md".into(),
                    digest: Digests::from([("sha256", "00".repeat(32))]),
                    size: 4,
                },
                reviewer: Some("lead".into()),
                reviewed: "2026-01-02".parse().unwrap(),
                version: Some("v3".into()),
                next_review: Some("2027-01-02".parse().unwrap()),
                model: Some("cd".repeat(32)),
                note: None,
                recorded_at: time,
            })),
            Predicate::Deployment(Box::new(DeploymentEvidence {
                target: None,
                time,
                verification: Some(format!("sha256:{}", "ef".repeat(32))),
                admission: None,
            })),
        ];
        let key = SigningKey::from_bytes(&[9u8; 32]);
        for predicate in predicates {
            let record = NewRecord {
                subject: EvidenceSubject {
                    name: "m".into(),
                    sha256: "cd".repeat(32).into(),
                },
                predicate,
                clock: TimeSource::System,
            };
            let line = seal(&record, &key).unwrap();
            let opened = open(0, line.as_bytes(), &key.verifying_key()).unwrap();
            assert_eq!(opened.predicate, record.predicate);
        }
    }

    #[test]
    fn a_verification_recorded_by_an_earlier_release_reads_back() {
        let value = serde_json::json!({
            "verifier": { "id": VERIFIER_ID, "version": { "modelseal": "0.1.0" } },
            "timeVerified": "2026-01-01T00:00:00Z",
            "resourceUri": "file:///m",
            "policy": { "uri": SIGNATURE_ONLY_POLICY },
            "inputAttestations": [{ "uri": "m.sig", "digest": { "sha256": "00" } }],
            "verificationResult": "FAILED",
            "verifiedLevels": ["MODELSEAL_SIGNATURE_VERIFIED"],
            "failures": ["changed: config.json"],
            "signer": "key SHA256:ab (ed25519)",
        });
        let Predicate::Verification(vsa) = Predicate::from_value(VSA_PREDICATE, value).unwrap()
        else {
            panic!("not a VSA");
        };
        assert_eq!(vsa.verification_result, VerificationResult::Failed);
        assert_eq!(
            vsa.signer,
            Some(RecordedSigner::Text("key SHA256:ab (ed25519)".into()))
        );
    }
}
