//! Why a verification failed: one typed value per failed check, naming the
//! file, key, certificate, identity or policy rule concerned.

use super::Signer;
use crate::bundle::StatementProblem;
use crate::sigstore::SigstoreProblem;
use serde::Serialize;

/// One reason a verification failed.
///
/// Every variant carries the data a program needs to act on it; `Display`
/// gives the one line a person reads.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, thiserror::Error)]
#[serde(tag = "kind", rename_all = "kebab-case")]
#[non_exhaustive]
pub enum Failure {
    /// Several signers were trusted and none verifies the bundle: why each
    /// one refused it.
    #[error("no trusted signer verifies the bundle: {}", join(attempts))]
    NoTrustedSigner {
        /// One failure per trusted signer tried, in the order given.
        attempts: Vec<Failure>,
    },
    /// The signature's RFC 3161 timestamp is missing, or does not hold
    /// against the TSA chain given.
    #[error("timestamp: {reason}")]
    Timestamp {
        /// Why.
        reason: String,
    },
    /// The DSSE signature does not verify with the signer's key.
    #[error("signature: the signature does not verify with {signer}")]
    BadSignature {
        /// The key or certificate it was checked with.
        signer: Signer,
    },
    /// The bundle names another key than the one given, and the given key
    /// does not verify the signature.
    #[error("wrong key: the bundle was signed by another key ({named}); the given key is {given}")]
    WrongKey {
        /// The fingerprint of the key given.
        given: String,
        /// How the bundle names its key (a key hint or a fingerprint).
        named: String,
    },
    /// The bundle carries another kind of verification material than the
    /// trust asks for (a bare key where a certificate is expected, ...).
    #[error("{}", material_message(*expected, *found))]
    Material {
        /// What the trust needs.
        expected: Material,
        /// What the bundle carries.
        found: Material,
    },
    /// The certificate chain does not lead to a trust anchor or may not be
    /// used as it is.
    #[error("{}", certificate_message(problem))]
    Certificate {
        /// What is wrong with the chain.
        problem: super::chain::ChainError,
    },
    /// The signing certificate's subject is not the one the trust requires.
    #[error(
        "certificate: the signing certificate's subject is {found:?}; only {required:?} is allowed"
    )]
    CertificateSubject {
        /// The leaf's subject (RFC 4514).
        found: String,
        /// The subject required.
        required: String,
    },
    /// A keyless (Sigstore) check failed.
    #[error("{problem}")]
    Sigstore {
        /// Which check, and the verifier's words.
        problem: SigstoreProblem,
    },
    /// The signed payload is not a valid OMS statement.
    #[error("statement: {problem}")]
    Statement {
        /// What is wrong with it.
        problem: StatementProblem,
    },
    /// The subject digest does not match the listed resources.
    #[error("subject digest {expected} does not match the listed resources ({computed})")]
    SubjectDigest {
        /// The digest in the subject.
        expected: String,
        /// The digest of the resources.
        computed: String,
    },
    /// The manifest uses a hash algorithm this tool cannot compute.
    #[error("unknown hash algorithm {algorithm:?}")]
    UnknownAlgorithm {
        /// The identifier found.
        algorithm: String,
    },
    /// The model tree cannot be enumerated as it was signed.
    #[error("model: {problem}")]
    Model {
        /// Why the walk refused the tree.
        problem: crate::digest::WalkError,
    },
    /// A signed file has different contents.
    #[error("changed: {path}")]
    Changed {
        /// The resource path.
        path: String,
    },
    /// A signed file is missing.
    #[error("missing: {path}")]
    Missing {
        /// The resource path.
        path: String,
    },
    /// A file is present that the signature does not list.
    #[error("extra (not signed): {path}")]
    Extra {
        /// The resource path.
        path: String,
    },
    /// A file changed (grew, shrank or was replaced) while it was hashed, so
    /// no digest of it can be trusted.
    #[error("changed while hashing: {path}")]
    ChangedWhileHashing {
        /// The resource path.
        path: String,
    },
    /// The BOM attestation does not verify or does not describe this model.
    #[error("bom: {problem}")]
    Bom {
        /// What is wrong with it.
        problem: BomProblem,
    },
    /// A file of the BOM disagrees with the model signature or the disk.
    #[error("bom: {path}: {problem}")]
    BomFile {
        /// The resource path.
        path: String,
        /// How it disagrees.
        problem: BomFileProblem,
    },
    /// A rule of the deploy policy is broken.
    #[error("policy ({}): {violation}", violation.rule())]
    Policy {
        /// The rule and how it is broken.
        violation: Violation,
    },
}

fn certificate_message(problem: &super::chain::ChainError) -> String {
    match problem {
        super::chain::ChainError::Expired(_) => format!("expired certificate: {problem}"),
        _ => format!("certificate: {problem}"),
    }
}

fn join(failures: &[Failure]) -> String {
    failures
        .iter()
        .map(ToString::to_string)
        .collect::<Vec<_>>()
        .join("; ")
}

/// Kinds of verification material a Sigstore bundle can carry.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(rename_all = "kebab-case")]
#[non_exhaustive]
pub enum Material {
    /// A public key hint (key mode).
    PublicKey,
    /// An X.509 certificate chain (certificate mode).
    CertificateChain,
    /// A single short-lived Fulcio certificate (Sigstore keyless).
    KeylessCertificate,
}

fn material_message(expected: Material, found: Material) -> String {
    let what = match found {
        Material::PublicKey => "the bundle was signed with a bare key",
        Material::CertificateChain => "the bundle was signed with a certificate chain",
        Material::KeylessCertificate => {
            "this is a Sigstore keyless bundle (a single Fulcio certificate)"
        }
    };
    let want = match expected {
        Material::PublicKey => "a key-mode signature",
        Material::CertificateChain => "a certificate-chain signature",
        Material::KeylessCertificate => "a keyless signature",
    };
    format!("certificate: {what}, not {want}")
}

/// Why a signed BOM does not go with the model.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, thiserror::Error)]
#[serde(tag = "kind", rename_all = "kebab-case")]
#[non_exhaustive]
pub enum BomProblem {
    /// The BOM's signature does not verify with the model's trust.
    #[error("the BOM signature: {failure}")]
    Signature {
        /// Why.
        failure: Box<Failure>,
    },
    /// The signed BOM statement is malformed.
    #[error("the signed BOM statement: {problem}")]
    Statement {
        /// What is wrong with it.
        problem: StatementProblem,
    },
    /// The BOM attestation is about another model.
    #[error("the BOM describes another model (sha256:{bom}), not this one (sha256:{model})")]
    OtherModel {
        /// The subject digest of the BOM attestation.
        bom: String,
        /// The model's root digest.
        model: String,
    },
    /// The model signature names no subject digest to bind a BOM to.
    #[error("the model signature has no subject digest to bind a BOM to")]
    NoModelDigest,
    /// The BOM file given is not the BOM that was signed.
    #[error("the BOM file differs from the signed BOM")]
    NotTheSignedBom,
    /// The BOM's model component does not carry the model's root digest.
    #[error("the BOM's model component does not carry the model's root digest sha256:{root}")]
    RootDigest {
        /// The model's root digest.
        root: String,
    },
    /// The model failed before its files could be compared with the BOM.
    #[error("not checked: the model itself did not verify")]
    NotChecked,
}

/// How one file of a BOM disagrees with the model.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, thiserror::Error)]
#[serde(rename_all = "kebab-case")]
#[non_exhaustive]
pub enum BomFileProblem {
    /// The BOM lists a file the model signature does not.
    #[error("listed by the BOM but not by the model signature")]
    NotSigned,
    /// The BOM gives no SHA-256 for the file.
    #[error("the BOM gives no SHA-256")]
    NoSha256,
    /// The BOM's SHA-256 differs from the file's.
    #[error("the SHA-256 in the BOM differs from the file on disk")]
    DigestDiffers,
    /// The signature lists a file the BOM does not.
    #[error("signed, but missing from the BOM")]
    MissingFromBom,
}

impl Failure {
    /// The file concerned, for file-level failures.
    pub fn path(&self) -> Option<&str> {
        match self {
            Failure::Changed { path }
            | Failure::Missing { path }
            | Failure::Extra { path }
            | Failure::ChangedWhileHashing { path }
            | Failure::BomFile { path, .. } => Some(path),
            Failure::Policy { violation } => violation.path(),
            _ => None,
        }
    }

    /// Whether the failure is about the model's files (as opposed to who
    /// signed, the BOM or the policy): the signed files are not exactly the
    /// files found.
    pub fn is_about_files(&self) -> bool {
        matches!(
            self,
            Failure::Changed { .. }
                | Failure::Missing { .. }
                | Failure::Extra { .. }
                | Failure::ChangedWhileHashing { .. }
                | Failure::Model { .. }
                | Failure::SubjectDigest { .. }
                | Failure::UnknownAlgorithm { .. }
                | Failure::Statement { .. }
        )
    }
}

/// The rules of a deploy policy.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize)]
#[serde(rename_all = "kebab-case")]
#[non_exhaustive]
pub enum PolicyRule {
    /// Only the policy's signers may have signed.
    Signer,
    /// A signed ML-BOM must accompany the model and verify.
    Bom,
    /// Every signed file must be in an allowed format, safe to load.
    Formats,
    /// The signature may be at most so many days old.
    MaxSignatureAge,
    /// Files the signature does not list may be tolerated only if allowed.
    IgnoreUnsignedFiles,
    /// Paths may be excluded at verification only if unsigned files are allowed.
    IgnorePaths,
    /// Symbolic links may lead only as far as the policy says.
    Symlinks,
    /// A model may come in a container image, of which the signature covers
    /// only the model's files, only if the policy allows it.
    ContainerImages,
    /// A config may name Python code that `trust_remote_code=True` runs
    /// only if the policy allows it.
    RemoteCode,
}

impl PolicyRule {
    /// The rule's name as policies and reports spell it.
    pub fn name(self) -> &'static str {
        match self {
            PolicyRule::Signer => "signer",
            PolicyRule::Bom => "bom",
            PolicyRule::Formats => "formats",
            PolicyRule::MaxSignatureAge => "max-signature-age",
            PolicyRule::IgnoreUnsignedFiles => "ignore-unsigned-files",
            PolicyRule::IgnorePaths => "ignore-paths",
            PolicyRule::Symlinks => "symlinks",
            PolicyRule::ContainerImages => "container-images",
            PolicyRule::RemoteCode => "remote-code",
        }
    }
}

impl std::fmt::Display for PolicyRule {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(self.name())
    }
}

/// How a verification breaks a rule of the deploy policy.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, thiserror::Error)]
#[serde(tag = "kind", rename_all = "kebab-case")]
#[non_exhaustive]
pub enum Violation {
    /// The key that verified is not one the policy trusts.
    #[error("key {fingerprint} is not a trusted signer in the policy")]
    UntrustedKey {
        /// The key's fingerprint.
        fingerprint: String,
    },
    /// Unsigned files were tolerated, which the policy does not allow.
    #[error("tolerating unsigned files is not allowed by the policy")]
    IgnoreUnsignedFiles,
    /// Paths were excluded at verification, which the policy does not allow
    /// (an excluded path is an unsigned file that is never looked at).
    #[error("excluding paths at verification is not allowed by the policy: {}", paths.join(", "))]
    IgnorePaths {
        /// The paths excluded.
        paths: Vec<String>,
    },
    /// No BOM was given.
    #[error("a signed ML-BOM must accompany the model")]
    BomMissing,
    /// The BOM did not verify.
    #[error("the ML-BOM did not verify")]
    BomNotVerified,
    /// A signed file is in a format the policy does not allow.
    #[error("{path}: format {format} is not allowed by the policy")]
    FormatNotAllowed {
        /// The file.
        path: String,
        /// Its format.
        format: String,
    },
    /// A signed file holds something unsafe to load (or invalid).
    #[error("{path}: {finding}")]
    UnsafeContent {
        /// The file.
        path: String,
        /// What was found.
        finding: String,
    },
    /// A config names Python code that `trust_remote_code=True` imports,
    /// and the policy does not allow remote code.
    #[error("{path}: imports remote code ({}), which the policy does not allow", imports.join(", "))]
    RemoteCode {
        /// The config.
        path: String,
        /// The code files and repositories it imports.
        imports: Vec<String>,
    },
    /// A file is excepted by digest, but its digest is another.
    #[error("{path}: its exception names sha256:{expected} but the file is sha256:{found}")]
    ExceptionDigest {
        /// The file.
        path: String,
        /// The digest the exception names.
        expected: String,
        /// The file's digest.
        found: String,
    },
    /// The policy judges formats, and a file's bytes were not inspected.
    #[error("{path}: formats not inspected")]
    FormatsNotInspected {
        /// The file.
        path: String,
    },
    /// The policy limits the signature's age and no signing time is known.
    #[error("no signing time is known (it needs a keyless signature or a signed BOM)")]
    NoSigningTime,
    /// The signature is older than the policy allows.
    #[error("signed {days} days ago ({signed_at}); the policy allows {max_days}")]
    TooOld {
        /// When it was signed.
        signed_at: jiff::Timestamp,
        /// Whole days since.
        days: i64,
        /// The policy's limit.
        max_days: u64,
    },
    /// The signing time lies in the future.
    #[error("the signing time {signed_at} lies in the future (now {now})")]
    SignedInFuture {
        /// The claimed signing time.
        signed_at: jiff::Timestamp,
        /// The time of verification.
        now: jiff::Timestamp,
    },
    /// The model has a symbolic link and the policy follows none.
    #[error("{path} is a symbolic link; the policy follows none")]
    SymlinkNotAllowed {
        /// The link's resource name.
        path: String,
    },
    /// A symbolic link leads farther than the policy allows; it was not
    /// followed.
    #[error("{path}: symbolic link leads to {target}, beyond what the policy allows ({rule})")]
    SymlinkOutside {
        /// The link's resource name.
        path: String,
        /// Where it resolves.
        target: String,
        /// The policy's rule.
        rule: SymlinkRule,
    },
    /// The model came in a container image (a ModelCar) whose config and
    /// other files the signature does not cover, and the policy does not
    /// allow that.
    #[error("{what}; the policy does not allow container images (allow_container_images)")]
    ContainerImage {
        /// What the signature does not cover.
        what: String,
    },
    /// A container image carried the model, and no signature over its
    /// manifest verified from the policy's container image signers.
    #[error(
        "{what}; the policy requires a signature over the image manifest from one of its container image signers, and none verified"
    )]
    ContainerImageUnsigned {
        /// What the model's signature does not cover.
        what: String,
    },
}

/// How far a deploy policy lets a model's symbolic links lead (when its
/// signature allows links at all).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, serde::Deserialize)]
#[serde(rename_all = "kebab-case")]
#[non_exhaustive]
pub enum SymlinkRule {
    /// No link is followed.
    None,
    /// Links are followed while they stay inside the model root.
    WithinRoot,
    /// Links are followed while they stay inside the model's repository
    /// in the Hugging Face cache (`models--ORG--NAME/`, for `hf://`
    /// models; the model root for others).
    WithinHfRepo,
    /// Links are followed wherever they lead, each target outside the
    /// root reported.
    Any,
}

impl SymlinkRule {
    /// The rule's name as policies spell it.
    pub fn name(self) -> &'static str {
        match self {
            SymlinkRule::None => "none",
            SymlinkRule::WithinRoot => "within-root",
            SymlinkRule::WithinHfRepo => "within-hf-repo",
            SymlinkRule::Any => "any",
        }
    }

    /// How far links of the model in `source` may lead under this rule.
    pub fn scope(self, source: &dyn crate::source::ModelSource) -> crate::digest::LinkScope {
        use crate::digest::LinkScope;
        match self {
            SymlinkRule::None => LinkScope::Nowhere,
            SymlinkRule::WithinRoot => LinkScope::WithinRoot,
            SymlinkRule::WithinHfRepo => source.repository_scope().unwrap_or_default(),
            SymlinkRule::Any => LinkScope::Anywhere,
        }
    }
}

impl std::fmt::Display for SymlinkRule {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(self.name())
    }
}

impl Violation {
    /// The rule broken.
    pub fn rule(&self) -> PolicyRule {
        match self {
            Violation::UntrustedKey { .. } => PolicyRule::Signer,
            Violation::IgnoreUnsignedFiles => PolicyRule::IgnoreUnsignedFiles,
            Violation::IgnorePaths { .. } => PolicyRule::IgnorePaths,
            Violation::BomMissing | Violation::BomNotVerified => PolicyRule::Bom,
            Violation::FormatNotAllowed { .. }
            | Violation::UnsafeContent { .. }
            | Violation::ExceptionDigest { .. }
            | Violation::FormatsNotInspected { .. } => PolicyRule::Formats,
            Violation::NoSigningTime
            | Violation::TooOld { .. }
            | Violation::SignedInFuture { .. } => PolicyRule::MaxSignatureAge,
            Violation::SymlinkNotAllowed { .. } | Violation::SymlinkOutside { .. } => {
                PolicyRule::Symlinks
            }
            Violation::ContainerImage { .. } | Violation::ContainerImageUnsigned { .. } => {
                PolicyRule::ContainerImages
            }
            Violation::RemoteCode { .. } => PolicyRule::RemoteCode,
        }
    }

    /// The file concerned, for format and link violations.
    pub fn path(&self) -> Option<&str> {
        match self {
            Violation::FormatNotAllowed { path, .. }
            | Violation::UnsafeContent { path, .. }
            | Violation::RemoteCode { path, .. }
            | Violation::ExceptionDigest { path, .. }
            | Violation::FormatsNotInspected { path }
            | Violation::SymlinkNotAllowed { path }
            | Violation::SymlinkOutside { path, .. } => Some(path),
            _ => None,
        }
    }
}
