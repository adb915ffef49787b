//! The deploy gate: one call that verifies a model (and its BOM) with the
//! trust material, applies a deploy policy, and produces the verdict, the
//! SLSA Verification Summary Attestation and the evidence record.
//!
//! ```no_run
//! use modelseal::fetch::InputKind;
//! use modelseal::gate::{Document, Gate, GateRequest};
//! use modelseal::keys::load_public_key;
//! use modelseal::source::LocalSource;
//! use modelseal::verify::Trust;
//! use std::path::Path;
//!
//! let key = load_public_key(Path::new("release.pub.pem"))?;
//! let gate = Gate::new(vec![Trust::Key(key)]);
//! let model = LocalSource::new("my-model");
//! // The library never reads the clock: "now" is the caller's.
//! let now = modelseal::clock::Now::system(jiff::Timestamp::now());
//! let request = GateRequest::new(
//!     &model,
//!     Document::read(Path::new("my-model.sig"), InputKind::Bundle(64 << 20))?,
//!     now,
//! );
//! let outcome = gate.verify(request, &|_: u64| {})?;
//! if !outcome.is_verified() {
//!     for failure in &outcome.verdict.failures {
//!         eprintln!("{failure}");
//!     }
//! }
//! # Ok::<(), modelseal::Error>(())
//! ```

use crate::clock::{Now, TimeSource};
use crate::digest::ProgressFn;
use crate::evidence::record::{
    EvidenceSubject, NewRecord, Predicate, RecordedSigner, ResourceRef, SIGNATURE_ONLY_POLICY,
    SignerInfo, VERIFIER_ID, VerificationResult, VerificationSummary, VerifiedLevel, VerifierInfo,
};
use crate::keys::PublicKey;
use crate::policy::{LoadedPolicy, PolicyContext, evaluate};
use crate::source::ModelSource;
use crate::verify::{BomInput, Failure, Signer, Trust, Verdict, VerifyOptions, verify_model};
use crate::{Error, Result};
use std::collections::BTreeMap;
use std::path::{Path, PathBuf};

/// A document the gate reads (a signature bundle, a BOM): its bytes and
/// where they came from, as the evidence record cites it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Document {
    /// Where it came from (a path or URL).
    pub uri: String,
    /// Its bytes.
    pub bytes: Vec<u8>,
    /// The local file it was read from, if any (a signature file inside the
    /// model is left out of the model).
    pub path: Option<PathBuf>,
}

impl Document {
    /// Reads a local file of `kind` (which caps its size).
    pub fn read(path: &Path, kind: crate::fetch::InputKind) -> Result<Self> {
        Ok(Document {
            uri: path.display().to_string(),
            bytes: crate::fetch::read_file(path, kind)?,
            path: Some(path.to_path_buf()),
        })
    }

    /// A document from bytes already in memory.
    pub fn from_bytes(uri: impl Into<String>, bytes: Vec<u8>) -> Self {
        Document {
            uri: uri.into(),
            bytes,
            path: None,
        }
    }

    fn cite(&self) -> ResourceRef {
        ResourceRef::of_bytes(self.uri.clone(), &self.bytes)
    }
}

/// What to verify.
#[derive(Debug, Clone)]
#[non_exhaustive]
pub struct GateRequest<'a> {
    /// Where the model is.
    pub model: &'a dyn ModelSource,
    /// The model's signature bundle.
    pub signature: Document,
    /// A signed BOM and its signature bundle, to verify with the model.
    pub bom: Option<(Document, Document)>,
    /// More paths to exclude (relative to the model root or absolute in it).
    pub ignore_paths: Vec<PathBuf>,
    /// Tolerate files that the signature does not list.
    pub ignore_unsigned_files: bool,
    /// Follow the model's symbolic links wherever they lead, when its
    /// signature allows links (the verifier opting in; a policy's
    /// `symlinks` rule decides instead when there is a policy).
    pub allow_symlinks: bool,
    /// The time of verification, from the caller's clock: certificates
    /// must be valid then, signature ages are measured to it, and the
    /// record carries it.
    pub now: Now,
    /// Judge every file's format from the bytes verified (on by default;
    /// the VSA claims `MODELSEAL_FORMATS_SAFE` and a policy passes its
    /// format rules only when the files were judged).
    pub inspect_formats: bool,
    /// Trusted RFC 3161 TSA certificates (DER): when given, the signature
    /// must carry a timestamp that chains to one.
    pub tsa_anchors: Vec<Vec<u8>>,
}

impl<'a> GateRequest<'a> {
    /// A request to verify `model` against `signature` at `now`, with
    /// nothing excluded or tolerated.
    pub fn new(model: &'a dyn ModelSource, signature: Document, now: Now) -> Self {
        GateRequest {
            model,
            signature,
            bom: None,
            ignore_paths: Vec::new(),
            ignore_unsigned_files: false,
            allow_symlinks: false,
            now,
            inspect_formats: true,
            tsa_anchors: Vec::new(),
        }
    }

    /// A request for [`Gate::verify_signatures`], which supplies each
    /// candidate signature in turn.
    pub fn for_candidates(model: &'a dyn ModelSource, now: Now) -> Self {
        Self::new(model, Document::from_bytes("", Vec::new()), now)
    }
}

/// The gate: who is trusted, and the policy applied.
#[derive(Debug, Clone)]
pub struct Gate {
    trusts: Vec<Trust>,
    policy: Option<LoadedPolicy>,
}

/// What the gate found.
#[derive(Debug, Clone)]
#[non_exhaustive]
pub struct GateOutcome {
    /// The verdict, policy violations included.
    pub verdict: Verdict,
    /// The policy applied, as records cite it.
    pub policy: Option<ResourceRef>,
    /// The model the outcome is about: the verified subject, else the one
    /// the bundle claims (a failed verification is recorded against it).
    pub subject: Option<EvidenceSubject>,
    /// The SLSA Verification Summary Attestation.
    pub summary: VerificationSummary,
    /// The clock the verification time came from (the record carries it).
    pub clock: TimeSource,
}

impl GateOutcome {
    /// Whether the model may be deployed.
    pub fn is_verified(&self) -> bool {
        self.verdict.is_verified()
    }

    /// The evidence record of this verification; `None` when the bundle
    /// names no model digest to record it against.
    pub fn record(&self) -> Option<NewRecord> {
        Some(NewRecord {
            subject: self.subject.clone()?,
            predicate: Predicate::Verification(Box::new(self.summary.clone())),
            clock: self.clock,
        })
    }
}

/// The outcomes of one model verified against several candidate signatures
/// (a file, or every bundle attached to it in a registry).
#[derive(Debug)]
#[non_exhaustive]
pub struct Candidates {
    /// The signature relied on (its URI) and its outcome: the first
    /// candidate that verifies, else the first candidate (whose failures
    /// are the verdict).
    pub chosen: (String, GateOutcome),
    /// The candidates tried before the chosen one (the first that
    /// verifies ends the search) and their outcomes, in order; with none
    /// verifying, every other candidate.
    pub others: Vec<(String, GateOutcome)>,
    /// Candidates whose inputs could not be examined (a malformed bundle,
    /// say) and why: one junk signature attached beside a good one does
    /// not stop the good one from verifying.
    pub unusable: Vec<(String, Error)>,
}

impl Gate {
    /// A gate that trusts `trusts` and applies no policy beyond the
    /// signature.
    pub fn new(trusts: Vec<Trust>) -> Self {
        Gate {
            trusts,
            policy: None,
        }
    }

    /// A gate whose signers and rules are the policy's.
    pub fn from_policy(policy: LoadedPolicy) -> Result<Self> {
        let trusts = policy.trusts()?;
        if trusts.is_empty() {
            return Err(Error::Policy(format!(
                "{} names no signer keys, certificates or keyless identities",
                policy.uri
            )));
        }
        Ok(Gate {
            trusts,
            policy: Some(policy),
        })
    }

    /// Applies `policy` too. Keys already trusted must be among the
    /// policy's signers (a verification with another key breaks its signer
    /// rule); certificate anchors and keyless identities can come only from
    /// the policy.
    pub fn with_policy(mut self, policy: LoadedPolicy) -> Result<Self> {
        if self.trusts.iter().any(|t| !matches!(t, Trust::Key(_))) {
            return Err(Error::Usage(
                "with a policy, certificate anchors and keyless identities come from the policy"
                    .into(),
            ));
        }
        self.policy = Some(policy);
        Ok(self)
    }

    /// The policy applied, if any.
    pub fn policy(&self) -> Option<&LoadedPolicy> {
        self.policy.as_ref()
    }

    /// Verifies `request`'s model against its signature and then each of
    /// `more`, with the same options, until one verifies, and keeps it (see
    /// [`Candidates`]). The model is hashed once (sources keep what
    /// they computed). `more` is drawn one document at a time, and each is
    /// moved into its own request, so a large bundle's text is freed once
    /// decoded before the next is taken.
    ///
    /// A candidate whose inputs cannot be examined is set aside in
    /// [`Candidates::unusable`]; the call fails only when no candidate
    /// could be examined (with the first one's error). A signature that
    /// does not verify is an outcome.
    pub fn verify_candidates(
        &self,
        request: GateRequest<'_>,
        more: impl IntoIterator<Item = Document>,
        progress: ProgressFn<'_>,
    ) -> Result<Candidates> {
        let mut template = request;
        let first = std::mem::replace(
            &mut template.signature,
            Document::from_bytes("", Vec::new()),
        );
        let bom = template.bom.take();
        // Documents are drawn one at a time (a registry downloads each when
        // it is reached), so one is in memory at a time, and none is drawn
        // once one verifies.
        let documents = std::iter::once(first).chain(more);
        let mut outcomes = Vec::new();
        let mut unusable = Vec::new();
        for document in documents {
            let uri = document.uri.clone();
            let mut request = template.clone();
            request.signature = document;
            request.bom = bom.clone();
            match self.verify(request, progress) {
                Ok(outcome) => {
                    let verified = outcome.is_verified();
                    outcomes.push((uri, outcome));
                    if verified {
                        break;
                    }
                }
                Err(e) => unusable.push((uri, e)),
            }
        }
        if outcomes.is_empty() {
            let (_, first) = unusable.swap_remove(0);
            return Err(first);
        }
        let chosen = outcomes
            .iter()
            .position(|(_, o)| o.is_verified())
            .unwrap_or(0);
        let chosen = outcomes.remove(chosen);
        Ok(Candidates {
            chosen,
            others: outcomes,
            unusable,
        })
    }

    /// Verifies the model of `request`, applies the policy, and summarises.
    /// The request is taken: its signature's text is freed once decoded,
    /// before the model is read.
    ///
    /// An error means the inputs could not be examined (unreadable or
    /// malformed); a model that fails is an `Ok` outcome whose verdict says
    /// why.
    pub fn verify(
        &self,
        mut request: GateRequest<'_>,
        progress: ProgressFn<'_>,
    ) -> Result<GateOutcome> {
        let mut options = VerifyOptions::new(self.trusts.clone(), request.now.time());
        options.ignore_paths = request.ignore_paths.clone();
        options.signature_path = request.signature.path.clone();
        options.ignore_unsigned_files = request.ignore_unsigned_files;
        options.inspect_formats = request.inspect_formats;
        options.allow_symlinks = request.allow_symlinks;
        options.tsa_anchors = request.tsa_anchors.clone();
        if let Some(policy) = &self.policy {
            options.symlink_rule = Some(policy.policy.require.symlinks);
            options.sha256_of = policy
                .policy
                .formats
                .exceptions
                .iter()
                .map(|e| e.path.clone())
                .collect();
        }
        // Cited (hashed) before verification takes the bytes.
        let signature_ref = request.signature.cite();
        let bundle = std::mem::take(&mut request.signature.bytes);
        let bom_given = request.bom.is_some();
        let mut bom_refs = Vec::new();
        let mut bom_time = None;
        if let Some((bom, signature)) = request.bom.take() {
            bom_refs = vec![bom.cite(), signature.cite()];
            if self.policy.is_some() {
                bom_time = bom_creation_time(&bom.bytes);
            }
            options.bom = Some(BomInput {
                bom_json: bom.bytes,
                signature_json: signature.bytes,
            });
        }
        let mut verdict = verify_model(request.model, bundle, options, progress)?;
        let mut policy_failed = false;
        if let Some(policy) = &self.policy {
            let ignore_paths = request
                .ignore_paths
                .iter()
                .map(|p| p.display().to_string())
                .collect();
            let bom_timestamp = match verdict.bom_verified {
                Some(true) => bom_time,
                _ => None,
            };
            let given_key = self.given_key();
            let image_signature = image_signature(policy, request.model, &verdict)?;
            if let Some(signed) = &image_signature {
                verdict
                    .source_notes
                    .push(crate::source::SourceNote::ImageSigned {
                        manifest: signed.manifest.clone(),
                        signer: signed.signer.clone(),
                        bundle: signed.bundle.clone(),
                    });
            }
            let mut ctx = PolicyContext::new(&verdict, request.now.time());
            ctx.image_signature = image_signature;
            ctx.bom_given = bom_given;
            ctx.bom_timestamp = bom_timestamp;
            ctx.ignore_unsigned_files = request.ignore_unsigned_files;
            ctx.ignore_paths = ignore_paths;
            ctx.given_key = given_key;
            let violations = evaluate(policy, &ctx)?;
            // The symlink rule is applied while walking the model.
            policy_failed = !violations.is_empty()
                || verdict
                    .failures
                    .iter()
                    .any(|f| matches!(f, Failure::Policy { .. }));
            verdict.failures.extend(
                violations
                    .into_iter()
                    .map(|violation| Failure::Policy { violation }),
            );
        }
        let subject = match &verdict.subject {
            Some(s) => s.digest.get("sha256").map(|d| EvidenceSubject {
                name: s.name.clone().into(),
                sha256: d.to_ascii_lowercase().into(),
            }),
            None => verdict.claimed_subject.as_ref().and_then(claimed_subject),
        };
        let policy = self.policy.as_ref().map(|p| ResourceRef {
            uri: crate::evidence::record::redact_uri(&p.uri),
            digest: Some(crate::evidence::record::Digests::from([(
                "sha256".to_string(),
                p.sha256.clone(),
            )])),
        });
        let mut attestations = vec![signature_ref];
        attestations.extend(bom_refs);
        let mut summary = summarise(
            &request,
            attestations,
            &verdict,
            policy.clone(),
            policy_failed,
        );
        summary.trusted_keys = self.trusted_key_fingerprints();
        // Formats a reviewed exception allowed count as safe once the
        // policy passed, and the record names each one.
        if let Some(p) = &self.policy
            && summary
                .verified_levels
                .contains(&VerifiedLevel::PolicyPassed)
            && summary
                .verified_levels
                .contains(&VerifiedLevel::FilesVerified)
            && !summary
                .verified_levels
                .contains(&VerifiedLevel::FormatsSafe)
            && let Some(excepted) = excepted_formats(&verdict, &p.policy.formats.exceptions)
        {
            let at = summary
                .verified_levels
                .iter()
                .position(|l| *l == VerifiedLevel::PolicyPassed)
                .unwrap_or(summary.verified_levels.len());
            summary
                .verified_levels
                .insert(at, VerifiedLevel::FormatsSafe);
            summary.format_exceptions = excepted;
        }
        Ok(GateOutcome {
            verdict,
            policy,
            subject,
            summary,
            clock: request.now.source(),
        })
    }

    /// The fingerprints of every public key this gate trusts (given, or
    /// resolved from the policy once, when it was loaded), sorted.
    pub fn trusted_key_fingerprints(&self) -> Vec<String> {
        let mut keys: Vec<String> = self
            .trusts
            .iter()
            .filter_map(|t| match t {
                Trust::Key(k) => Some(k.fingerprint()),
                _ => None,
            })
            .chain(
                self.policy
                    .iter()
                    .flat_map(|p| p.keys())
                    .map(|k| k.fingerprint()),
            )
            .collect();
        keys.sort();
        keys.dedup();
        keys
    }

    /// The key given outside the policy, which the policy must trust.
    fn given_key(&self) -> Option<&PublicKey> {
        self.policy.as_ref()?;
        self.trusts.iter().find_map(|t| match t {
            Trust::Key(k) => Some(k),
            _ => None,
        })
    }
}

/// The VSA of a verification.
fn summarise(
    request: &GateRequest<'_>,
    attestations: Vec<ResourceRef>,
    verdict: &Verdict,
    policy: Option<ResourceRef>,
    policy_failed: bool,
) -> VerificationSummary {
    let files_ok = verdict.files_verified();
    let mut levels = Vec::new();
    if verdict.signature_verified {
        levels.push(VerifiedLevel::SignatureVerified);
    }
    if files_ok {
        levels.push(VerifiedLevel::FilesVerified);
        if verdict.bom_verified == Some(true) {
            levels.push(VerifiedLevel::BomVerified);
        }
        if formats_safe(verdict) {
            levels.push(VerifiedLevel::FormatsSafe);
        }
    }
    if policy.is_some() && !policy_failed && verdict.signature_verified {
        levels.push(VerifiedLevel::PolicyPassed);
    }
    VerificationSummary {
        verifier: VerifierInfo {
            id: VERIFIER_ID.into(),
            version: BTreeMap::from([("modelseal".to_string(), crate::VERSION.to_string())]),
        },
        time_verified: request.now.time(),
        resource_uri: crate::evidence::record::redact_uri(&request.model.uri()),
        policy: policy.unwrap_or_else(|| ResourceRef::uri(SIGNATURE_ONLY_POLICY)),
        input_attestations: attestations,
        verification_result: if verdict.is_verified() {
            VerificationResult::Passed
        } else {
            VerificationResult::Failed
        },
        verified_levels: levels,
        failures: verdict.failures.iter().map(ToString::to_string).collect(),
        signer: verdict
            .signer
            .as_ref()
            .map(|s| RecordedSigner::Info(Box::new(signer_info(s)))),
        ignored_paths: request
            .ignore_paths
            .iter()
            .map(|p| p.display().to_string())
            .collect(),
        ignore_unsigned_files: request.ignore_unsigned_files,
        trusted_keys: Vec::new(),
        format_exceptions: Vec::new(),
        links_outside_root: verdict
            .source_notes
            .iter()
            .filter_map(|note| match note {
                crate::source::SourceNote::SymlinkOutsideRoot { path, target } => {
                    Some(crate::evidence::record::LinkTarget {
                        path: path.clone(),
                        target: target.clone(),
                    })
                }
                _ => None,
            })
            .collect(),
    }
}

/// Whether every signed file was inspected, from the bytes that were
/// verified, and none can run code on load or is malformed.
/// When every signed file was judged, and each one that could run code on
/// load is allowed by one of the policy's reviewed exceptions at the
/// digest verified (and no other file read beside them could): those
/// exceptions, named. `None` when any such file is not excepted.
fn excepted_formats(
    verdict: &Verdict,
    exceptions: &[crate::policy::Exception],
) -> Option<Vec<crate::evidence::record::FormatException>> {
    let reports = verdict.formats.as_ref()?;
    if verdict.signed_files.is_empty()
        || !verdict
            .signed_files
            .iter()
            .all(|name| reports.find(name).is_some())
    {
        return None;
    }
    let signed: std::collections::HashSet<&str> = verdict.signed_files.iter().collect();
    let mut excepted = Vec::new();
    for r in reports.iter() {
        let unsafe_to_load = r
            .findings
            .iter()
            .any(|f| f.severity != crate::formats::Severity::Warning);
        if !unsafe_to_load && !r.format.executes_code() {
            continue;
        }
        // Tolerated unsigned files are never excepted (the policy's rules
        // do not except them either).
        if !signed.contains(r.name) {
            return None;
        }
        let digest = verdict.file_sha256.get(r.name)?;
        let e = exceptions
            .iter()
            .find(|e| e.path == r.name && e.sha256.eq_ignore_ascii_case(digest))?;
        let finding = r
            .findings
            .iter()
            .find(|f| f.severity != crate::formats::Severity::Warning)
            .map_or_else(
                || format!("{} runs code when loaded", r.format.name()),
                |f| f.message.clone(),
            );
        excepted.push(crate::evidence::record::FormatException {
            path: r.name.to_string(),
            sha256: digest.to_ascii_lowercase(),
            finding,
            reason: e.reason.clone(),
        });
    }
    (!excepted.is_empty()).then_some(excepted)
}

fn formats_safe(verdict: &Verdict) -> bool {
    let Some(reports) = &verdict.formats else {
        return false;
    };
    // Every signed file judged safe, and every other file read beside
    // them (unsigned files tolerated with `ignore_unsigned_files`) too.
    !verdict.signed_files.is_empty()
        && verdict
            .signed_files
            .iter()
            .all(|name| reports.find(name).is_some())
        && reports
            .iter()
            .all(|r| !r.unsafe_to_load() && !r.format.executes_code())
}

/// How records keep a signer.
pub fn signer_info(signer: &Signer) -> SignerInfo {
    match signer {
        Signer::Key {
            fingerprint,
            algorithm,
        } => SignerInfo {
            fingerprint: Some(fingerprint.clone()),
            algorithm: Some(algorithm.name().to_string()),
            ..SignerInfo::default()
        },
        Signer::Certificate {
            subject,
            anchor,
            fingerprint,
        } => SignerInfo {
            fingerprint: Some(fingerprint.clone()),
            certificate: Some(subject.clone()),
            anchor: Some(anchor.clone()),
            ..SignerInfo::default()
        },
        Signer::Keyless { identity, issuer } => SignerInfo {
            sigstore: true,
            identity: Some(identity.clone()),
            issuer: Some(issuer.clone()),
            ..SignerInfo::default()
        },
        // A kind of signer this gate does not know yet: kept as it reads.
        other => SignerInfo {
            identity: Some(other.to_string()),
            ..SignerInfo::default()
        },
    }
}

/// The subject a bundle claims, unverified: a failed verification is
/// recorded against the model it claimed to be about.
fn claimed_subject(first: &crate::bundle::Subject) -> Option<EvidenceSubject> {
    let sha256 = first.digest.get("sha256")?.to_ascii_lowercase();
    let valid = sha256.len() == 64 && sha256.bytes().all(|b| b.is_ascii_hexdigit());
    valid.then(|| EvidenceSubject {
        name: first.name.clone().into(),
        sha256: sha256.into(),
    })
}

/// The creation time a CycloneDX BOM states (`metadata.timestamp`).
fn bom_creation_time(bom: &[u8]) -> Option<jiff::Timestamp> {
    #[derive(serde::Deserialize)]
    struct Bom {
        metadata: Metadata,
    }
    #[derive(serde::Deserialize)]
    struct Metadata {
        timestamp: jiff::Timestamp,
    }
    crate::json::from_slice::<Bom>(bom)
        .ok()
        .map(|b| b.metadata.timestamp)
}

/// How large a signature or BOM document may be read: what the caller
/// gives, else what a real one of this model can be (worked out only when
/// a document is larger than the base allowance, since that lists the
/// model's files). A hostile file stays bounded; a real one is never
/// refused.
pub struct BundleLimit<'a> {
    given: Option<u64>,
    model: &'a dyn ModelSource,
    derived: std::sync::OnceLock<u64>,
}

impl std::fmt::Debug for BundleLimit<'_> {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("BundleLimit")
            .field("given", &self.given)
            .field("derived", &self.derived.get())
            .finish()
    }
}

impl<'a> BundleLimit<'a> {
    /// The limit for documents about `model`; `given` overrides it.
    pub fn new(model: &'a dyn ModelSource, given: Option<u64>) -> Self {
        BundleLimit {
            given,
            model,
            derived: std::sync::OnceLock::new(),
        }
    }

    /// Whether the caller set the limit.
    pub fn is_given(&self) -> bool {
        self.given.is_some()
    }

    /// The limit for a document of `size` bytes (unknown for a URL).
    pub fn for_size(&self, size: Option<u64>) -> Result<u64> {
        if let Some(given) = self.given {
            return Ok(given);
        }
        if size.is_some_and(|s| s <= crate::source::BASE_BUNDLE_SIZE) {
            return Ok(crate::source::BASE_BUNDLE_SIZE);
        }
        if let Some(limit) = self.derived.get() {
            return Ok(*limit);
        }
        let limit = self.model.bundle_size_limit()?;
        Ok(*self.derived.get_or_init(|| limit))
    }
}

impl Document {
    /// Reads a bundle or BOM given as a file or (with the `remote`
    /// feature) an https:// URL, up to the limit `limit` gives it.
    pub fn read_limited(
        source: &Path,
        limit: &BundleLimit<'_>,
        kind: fn(u64) -> crate::fetch::InputKind,
    ) -> Result<Document> {
        let remote = source.to_str().is_some_and(crate::fetch::is_url);
        let size = (!remote)
            .then(|| std::fs::metadata(source).ok().map(|m| m.len()))
            .flatten();
        let bytes = crate::read_input(source, kind(limit.for_size(size)?))?;
        Ok(Document {
            uri: source.display().to_string(),
            bytes,
            path: (!remote).then(|| source.to_path_buf()),
        })
    }
}

/// The largest container image signature read (a real one is a few KiB).
pub const MAX_IMAGE_SIGNATURE: u64 = 1 << 20;

/// For a model that came in a container image, under a policy that
/// requires the image manifest signed: the first signature attached to the
/// image that verifies from the policy's container image signers (each
/// read and checked before the next is downloaded; unreadable ones and
/// others' are passed over). `None` when none does, or nothing asks.
fn image_signature(
    policy: &LoadedPolicy,
    model: &dyn ModelSource,
    verdict: &crate::verify::Verdict,
) -> Result<Option<crate::policy::ImageSignature>> {
    let container = verdict
        .source_notes
        .iter()
        .any(|n| matches!(n, crate::source::SourceNote::NotCovered { .. }));
    if !container || !policy.policy.container_images.require_signature {
        return Ok(None);
    }
    // An image signature is a statement of a few KiB: a small cap keeps
    // junk referrers from being downloaded at the size of model bundles.
    let Some(image) = model.image_signatures(MAX_IMAGE_SIGNATURE)? else {
        return Ok(None);
    };
    let Some(sha256) = image
        .manifest
        .strip_prefix("sha256:")
        .and_then(|h| hex::decode(h).ok())
        .and_then(|b| <[u8; 32]>::try_from(b).ok())
    else {
        return Ok(None);
    };
    for (uri, bytes) in image.bundles {
        if let Ok(signer) = policy.image_signer(sha256, &bytes) {
            return Ok(Some(crate::policy::ImageSignature::new(
                image.manifest,
                uri,
                signer,
            )));
        }
    }
    Ok(None)
}

/// A signature candidate that could not be read: where it is and why.
pub type Unreadable = (String, String);

/// The signatures attached to a registry model, each downloaded (up to the
/// library's cap) only when reached.
pub struct AttachedSignatures<'a> {
    documents: Box<dyn Iterator<Item = std::result::Result<Document, Unreadable>> + 'a>,
    /// How the registry listed them (`referrers API` or `referrers tag`).
    pub via: Option<String>,
}

impl std::fmt::Debug for AttachedSignatures<'_> {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("AttachedSignatures")
            .field("via", &self.via)
            .finish_non_exhaustive()
    }
}

impl Iterator for AttachedSignatures<'_> {
    type Item = std::result::Result<Document, Unreadable>;

    fn next(&mut self) -> Option<Self::Item> {
        self.documents.next()
    }
}

impl<'a> AttachedSignatures<'a> {
    /// The signatures attached to `model` in its registry. A model that is
    /// not in a registry has none attached (an error: give a signature).
    pub fn of(model: &'a crate::model::Model) -> Result<Self> {
        #[cfg(feature = "oci")]
        if let Some(oci) = model.oci() {
            let attached = oci.attached_bundles(crate::source::BASE_BUNDLE_SIZE)?;
            let via = Some(attached.via.to_string());
            return Ok(AttachedSignatures {
                documents: Box::new(attached.map(move |item| match item {
                    Ok(b) => Ok(Document::from_bytes(b.uri, b.bytes)),
                    Err((d, why)) => Err((oci.reference().pinned(&d.digest).to_string(), why)),
                })),
                via,
            });
        }
        Err(Error::Usage(format!(
            "{}: signatures are attached only to registry models; give a signature",
            model.source().uri()
        )))
    }

    /// One signature given by the caller, as a candidate list.
    pub fn given(document: Document) -> Self {
        AttachedSignatures {
            documents: Box::new(std::iter::once(Ok(document))),
            via: None,
        }
    }
}

/// A model verified against a list of candidate signatures.
#[derive(Debug)]
#[non_exhaustive]
pub struct CandidateVerdict {
    /// The outcomes; `None` when no candidate could be read (nothing is
    /// attached, or everything attached is unreadable): a failed
    /// verification.
    pub candidates: Option<Candidates>,
    /// Candidates that could not be read or examined, and why.
    pub unreadable: Vec<Unreadable>,
    /// How a registry listed them.
    pub via: Option<String>,
}

impl CandidateVerdict {
    /// The verdict as `verify --format json` prints it: `model` as the
    /// caller named it, `manifest` the pinned registry manifest (for a
    /// registry model).
    pub fn to_json(&self, model: &str, manifest: Option<String>, now: Now) -> serde_json::Value {
        let unreadable = self.unreadable.iter().map(|(uri, why)| {
            serde_json::json!({ "signature": uri, "verdict": "unreadable", "failures": [why] })
        });
        let Some(candidates) = &self.candidates else {
            return serde_json::json!({
                "model": model,
                "manifest": manifest,
                "verdict": "failed",
                "failures": [format!(
                    "no signature bundle is attached to {}",
                    manifest.as_deref().unwrap_or(model)
                )],
                "other_signatures": unreadable.collect::<Vec<_>>(),
                "referrers_via": self.via,
            });
        };
        let (signature, outcome) = &candidates.chosen;
        let others: Vec<serde_json::Value> = candidates
            .others
            .iter()
            .map(|(uri, o)| {
                serde_json::json!({
                    "signature": uri,
                    "verdict": if o.is_verified() { "verified" } else { "failed" },
                    "signer": o.verdict.signer,
                    "failures": o.verdict.failures.iter().map(ToString::to_string).collect::<Vec<_>>(),
                })
            })
            .chain(unreadable)
            .collect();
        serde_json::json!({
            "model": model,
            "manifest": manifest,
            "signature": signature,
            "verdict": if outcome.is_verified() { "verified" } else { "failed" },
            "policy": outcome.policy,
            "result": outcome.verdict,
            "failures": outcome.verdict.failures.iter().map(ToString::to_string).collect::<Vec<_>>(),
            "other_signatures": others,
            "referrers_via": self.via,
            "timeSource": now.source(),
        })
    }

    /// Whether a candidate verified.
    pub fn is_verified(&self) -> bool {
        self.candidates
            .as_ref()
            .is_some_and(|c| c.chosen.1.is_verified())
    }
}

impl Gate {
    /// Verifies `template`'s model against `signatures` (a signature given,
    /// or [`AttachedSignatures::of`] a registry model): candidates are read
    /// one at a time, the first that verifies ends the search, unreadable
    /// ones are set aside. `template.signature` is replaced by each
    /// candidate in turn.
    pub fn verify_signatures(
        &self,
        template: GateRequest<'_>,
        mut signatures: AttachedSignatures<'_>,
        progress: ProgressFn<'_>,
    ) -> Result<CandidateVerdict> {
        let mut unreadable = Vec::new();
        let first = loop {
            match signatures.next() {
                Some(Ok(document)) => break Some(document),
                Some(Err(why)) => unreadable.push(why),
                None => break None,
            }
        };
        let via = signatures.via.clone();
        let Some(first) = first else {
            return Ok(CandidateVerdict {
                candidates: None,
                unreadable,
                via,
            });
        };
        let mut request = template;
        request.signature = first;
        let mut later_unreadable = Vec::new();
        let rest = signatures.by_ref().filter_map(|item| match item {
            Ok(document) => Some(document),
            Err(why) => {
                later_unreadable.push(why);
                None
            }
        });
        let candidates = self.verify_candidates(request, rest, progress)?;
        unreadable.extend(later_unreadable);
        unreadable.extend(
            candidates
                .unusable
                .iter()
                .map(|(uri, e)| (uri.clone(), e.to_string())),
        );
        Ok(CandidateVerdict {
            candidates: Some(candidates),
            unreadable,
            via,
        })
    }
}

/// An admission decision, as a deploy service acts on it.
#[derive(Debug)]
#[non_exhaustive]
pub enum Decision {
    /// A signature verified (and the policy passed): deploy this model.
    Admit {
        /// The signature relied on.
        signature: String,
        /// The verification record, when a recorder was given.
        verification: Option<String>,
        /// The deployment record, when a recorder was given.
        deployment: Option<String>,
    },
    /// Nothing verified: do not deploy.
    Deny {
        /// Why the signature relied on failed (empty when no signature
        /// could be read at all: then `unreadable` says why).
        failures: Vec<Failure>,
        /// Signatures that could not be read or examined, and why.
        unreadable: Vec<Unreadable>,
        /// The failed verification's record, when a recorder was given.
        verification: Option<String>,
    },
}

impl std::fmt::Display for Decision {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            Decision::Admit {
                signature,
                deployment: Some(deployment),
                ..
            } => write!(
                f,
                "admit: deployment recorded as sha256:{deployment} (verified by {signature})"
            ),
            Decision::Admit { signature, .. } => write!(f, "admit: verified by {signature}"),
            Decision::Deny {
                failures,
                unreadable,
                ..
            } => {
                let reasons: Vec<String> = if failures.is_empty() {
                    unreadable
                        .iter()
                        .map(|(uri, why)| format!("{uri}: {why}"))
                        .chain(
                            unreadable
                                .is_empty()
                                .then(|| "no signature is attached".to_string()),
                        )
                        .collect()
                } else {
                    failures.iter().map(ToString::to_string).collect()
                };
                write!(f, "deny: {}", reasons.join("; "))
            }
        }
    }
}

impl Gate {
    /// The admission decision for a registry model: verifies it against
    /// the signatures attached to it (formats judged), and, given a
    /// recorder, records the verification and (when admitted) the
    /// deployment to `target` that relies on it. An error is not a
    /// decision: its [`Error::class`] tells retry from tampered.
    pub fn admit(
        &self,
        model: &crate::model::Model,
        recorder: Option<&crate::evidence::Recorder>,
        target: Option<String>,
        now: Now,
        progress: ProgressFn<'_>,
    ) -> Result<Decision> {
        let request = GateRequest::for_candidates(model.source(), now);
        let verdict = self.verify_signatures(request, AttachedSignatures::of(model)?, progress)?;
        let Some(candidates) = verdict.candidates else {
            return Ok(Decision::Deny {
                failures: Vec::new(),
                unreadable: verdict.unreadable,
                verification: None,
            });
        };
        let (signature, outcome) = candidates.chosen;
        let receipt = match (recorder, outcome.record()) {
            (Some(recorder), Some(record)) => Some(recorder.append_verification(&record)?),
            _ => None,
        };
        if !outcome.is_verified() {
            return Ok(Decision::Deny {
                failures: outcome.verdict.failures,
                unreadable: verdict.unreadable,
                verification: receipt.map(|r| r.digest().to_string()),
            });
        }
        let deployment = match (recorder, &receipt) {
            (Some(recorder), Some(receipt)) => {
                Some(recorder.record_deployment(receipt, target, now)?)
            }
            _ => None,
        };
        Ok(Decision::Admit {
            signature,
            verification: receipt.map(|r| r.digest().to_string()),
            deployment,
        })
    }
}
