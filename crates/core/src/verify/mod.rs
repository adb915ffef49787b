//! The verify pipeline: bundle -> signer check -> statement -> manifest
//! compare -> verdict. A failed check is a [`Failure`] in the [`Verdict`];
//! an [`crate::Error`] means the inputs could not be examined at all.

mod authenticate;
mod bom;
mod bom_read;
pub(crate) mod chain;
mod compare;
mod failure;
mod files;
mod verdict;

pub use chain::ChainError;
pub use failure::{
    BomFileProblem, BomProblem, Failure, Material, PolicyRule, SymlinkRule, Violation,
};
pub use verdict::{Signer, Verdict, Warning};

use crate::Result;
use crate::bundle::{claimed_subject, parse_statement};
use crate::digest::ProgressFn;
use crate::keys::PublicKey;
use crate::sigstore::KeylessIdentity;
use crate::source::ModelSource;
use sigstore_verify::trust_root::TrustedRoot;
use std::path::PathBuf;

/// What the verifier trusts.
#[derive(Clone)]
#[non_exhaustive]
pub enum Trust {
    /// Key mode: this public key.
    Key(PublicKey),
    /// Certificate mode: these trust anchors (DER certificates), and the
    /// subject the signing certificate must have, when constrained.
    Anchors {
        /// DER trust anchors.
        anchors: Vec<Vec<u8>>,
        /// The required leaf subject (RFC 4514 text), if any.
        subject: Option<String>,
    },
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
            Trust::Anchors { anchors, subject } => {
                write!(
                    f,
                    "Trust::Anchors({} certificates, subject {subject:?})",
                    anchors.len()
                )
            }
            Trust::Keyless { who, .. } => write!(f, "Trust::Keyless({who:?})"),
        }
    }
}

/// How to verify.
#[derive(Debug, Clone)]
#[non_exhaustive]
pub struct VerifyOptions {
    /// Who may have signed: the signature must verify with one of these.
    pub trusts: Vec<Trust>,
    /// More paths to exclude (relative to the model root or absolute in it).
    pub ignore_paths: Vec<PathBuf>,
    /// The signature file, excluded from the model when it lies inside.
    pub signature_path: Option<PathBuf>,
    /// Tolerate files that the signature does not list.
    pub ignore_unsigned_files: bool,
    /// The time certificates must be valid at.
    pub time: jiff::Timestamp,
    /// A BOM and its signature to check along with the model.
    pub bom: Option<BomInput>,
    /// Judge each signed file's format (the verdict's `formats`).
    pub inspect_formats: bool,
    /// Files whose SHA-256 the verdict should carry (`file_sha256`), taken
    /// from the read that verifies them.
    pub sha256_of: std::collections::BTreeSet<String>,
    /// Follow the model's symbolic links wherever they lead (when the
    /// signature allows links at all). Without it, and without a
    /// `symlink_rule`, links stay inside the model root (inside the
    /// repository, for a source kept in a repository cache such as
    /// `hf://`): a bundle alone never makes the verifier read files
    /// elsewhere.
    pub allow_symlinks: bool,
    /// A deploy policy's rule for links; it decides instead of
    /// `allow_symlinks`, and a link beyond it breaks the rule.
    pub symlink_rule: Option<SymlinkRule>,
    /// Trusted RFC 3161 TSA certificates (DER): when given, the signature
    /// must carry a timestamp that chains to one, and its time is the
    /// signing time.
    pub tsa_anchors: Vec<Vec<u8>>,
}

impl VerifyOptions {
    /// Options that trust `trusts`, with certificates judged at `time` (the
    /// caller's clock), and nothing else.
    pub fn new(trusts: Vec<Trust>, time: jiff::Timestamp) -> Self {
        VerifyOptions {
            trusts,
            ignore_paths: Vec::new(),
            signature_path: None,
            ignore_unsigned_files: false,
            time,
            bom: None,
            inspect_formats: false,
            sha256_of: std::collections::BTreeSet::new(),
            allow_symlinks: false,
            symlink_rule: None,
            tsa_anchors: Vec::new(),
        }
    }
}

/// Checks the signature's RFC 3161 timestamps against the TSA anchors:
/// the first that holds is the signing time; with anchors and none that
/// holds, a failure; without anchors, a warning that they were not checked.
fn check_timestamps(
    tokens: &[Vec<u8>],
    signature: &[u8],
    options: &VerifyOptions,
    warnings: &mut Vec<Warning>,
) -> (Option<crate::timestamp::Stamped>, Option<Failure>) {
    if options.tsa_anchors.is_empty() {
        if !tokens.is_empty() {
            warnings.push(Warning::TimestampNotChecked {
                count: tokens.len(),
            });
        }
        return (None, None);
    }
    if tokens.is_empty() {
        return (
            None,
            Some(Failure::Timestamp {
                reason: "the bundle carries no RFC 3161 timestamp, and a TSA chain was given"
                    .into(),
            }),
        );
    }
    // Every stamp must hold (the list is unsigned: an attacker chooses its
    // order); the earliest is the tightest bound.
    let mut earliest: Option<crate::timestamp::Stamped> = None;
    let mut first_error = None;
    for token in tokens {
        match crate::timestamp::verify(token, signature, &options.tsa_anchors, None, options.time) {
            Ok(stamped) => {
                if earliest.as_ref().is_none_or(|e| stamped.time < e.time) {
                    earliest = Some(stamped);
                }
            }
            Err(e) => {
                first_error.get_or_insert(e);
            }
        }
    }
    if first_error.is_none() {
        return (earliest, None);
    }
    (
        None,
        first_error.map(|e| Failure::Timestamp {
            reason: e.to_string(),
        }),
    )
}

/// A BOM to verify with the model: the BOM file and its signature bundle.
#[derive(Debug, Clone)]
pub struct BomInput {
    /// The CycloneDX JSON.
    pub bom_json: Vec<u8>,
    /// The Sigstore bundle over the BOM attestation.
    pub signature_json: Vec<u8>,
}

/// Verifies the model `model` against the bundle JSON `bundle_json`
/// (and, when `options.bom` is set, its signed BOM).
///
/// The bundle is taken so that its text can be freed as soon as its payload
/// is decoded, before the model is read: a dataset's signature can be
/// larger than the rest of what verification holds.
///
/// A model that does not verify is an `Ok` verdict with failures; an error
/// means the inputs could not be examined at all (unreadable, malformed).
pub fn verify_model(
    model: &dyn ModelSource,
    bundle_json: Vec<u8>,
    mut options: VerifyOptions,
    progress: ProgressFn<'_>,
) -> Result<Verdict> {
    let mut warnings = Vec::new();
    let bom_input = options.bom.take();
    let signed = match authenticate::authenticate(
        std::borrow::Cow::Owned(bundle_json),
        &options.trusts,
        options.time,
        &mut warnings,
    )? {
        Ok(a) => a,
        Err(refusal) => {
            let mut verdict = Verdict::refused(refusal.signer, refusal.failure, warnings);
            verdict.claimed_subject = refusal.claimed;
            return Ok(verdict);
        }
    };
    let statement = parse_statement(signed.payload.payload());
    let statement = match statement {
        Ok(s) => s,
        Err(problem) => {
            let failure = Failure::Statement { problem };
            let mut verdict = Verdict::refused(Some(signed.signer), failure, warnings);
            verdict.signature_verified = true;
            verdict.claimed_subject = claimed_subject(signed.payload.payload());
            return Ok(verdict);
        }
    };
    // The statement is read; its text is not needed any more.
    drop(signed.payload);
    let (timestamped, timestamp_failure) = check_timestamps(
        &signed.timestamps,
        &signed.signature,
        &options,
        &mut warnings,
    );
    // The BOM and its signature are read before the model, so that their
    // text (each as large as the model's signature) is freed before the
    // files are hashed; what needs the files is checked after.
    let model_digest = statement
        .subject
        .as_ref()
        .and_then(|s| s.digest.get("sha256"))
        .map(|d| d.to_ascii_lowercase());
    let bom_read = match bom_input {
        Some(input) => Some(bom::read_attestation(
            input,
            model_digest.as_deref(),
            &options,
            &mut warnings,
        )?),
        None => None,
    };
    let (mut verdict, disk) = files::check_files(
        model,
        statement,
        &options,
        bom_read.is_some(),
        progress,
        warnings,
    )?;
    verdict.signer = Some(signed.signer);
    verdict.signature_verified = true;
    // A stamp proves the signature existed by its time, not that it was
    // made then (anyone can stamp an old signature): it is never the
    // signing time a signature's age is measured from.
    verdict.signed_at = signed.signing_time;
    verdict.timestamped = timestamped;
    verdict.failures.extend(timestamp_failure);
    match (bom_read, disk) {
        (Some(read), Some(disk)) => bom::finish(read, &mut verdict, &disk),
        (Some(_), None) => {
            verdict.bom_verified = Some(false);
            verdict.failures.push(Failure::Bom {
                problem: BomProblem::NotChecked,
            });
        }
        (None, _) => {}
    }
    Ok(verdict)
}
