//! The verify pipeline: bundle -> signer check -> statement -> manifest
//! compare -> verdict. A failed check is a [`Failure`] in the [`Verdict`];
//! an [`crate::Error`] means the inputs could not be examined at all.

mod authenticate;
mod bom;
pub mod chain;
mod compare;
mod failure;
mod files;

pub use failure::Failure;

use crate::Result;
use crate::bundle::{Subject, parse_statement};
use crate::digest::ProgressFn;
use crate::keys::PublicKey;
use crate::sigstore::KeylessIdentity;
use serde::Serialize;
use sigstore_verify::trust_root::TrustedRoot;
use std::path::{Path, PathBuf};
use std::time::SystemTime;

/// What the verifier trusts.
#[derive(Clone)]
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
    pub time: SystemTime,
    /// A BOM and its signature to check along with the model.
    pub bom: Option<BomInput>,
}

/// A BOM to verify with the model: the BOM file and its signature bundle.
#[derive(Debug, Clone)]
pub struct BomInput {
    /// The CycloneDX JSON.
    pub bom_json: Vec<u8>,
    /// The Sigstore bundle over the BOM attestation.
    pub signature_json: Vec<u8>,
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
    /// Whether the BOM verified (when one was given).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub bom_verified: Option<bool>,
    /// Whether the signature verified with a trusted signer.
    pub signature_verified: bool,
    /// When the signature was made, when a transparency log says so.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub signed_at: Option<String>,
    /// The files the signature lists.
    #[serde(skip)]
    pub signed_files: Vec<String>,
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
            bom_verified: None,
            signature_verified: false,
            signed_at: None,
            signed_files: Vec::new(),
        }
    }
}

/// Verifies the model at `model` against the bundle JSON `bundle_json`
/// (and, when `options.bom` is set, its signed BOM).
pub fn verify_model(
    model: &Path,
    bundle_json: &[u8],
    options: &VerifyOptions,
    progress: ProgressFn<'_>,
) -> Result<Verdict> {
    let mut warnings = Vec::new();
    let signed = match authenticate::authenticate(bundle_json, options, &mut warnings)? {
        Ok(a) => a,
        Err((signer, failure)) => return Ok(Verdict::failed(signer, failure, warnings)),
    };
    let statement = match parse_statement(&signed.payload) {
        Ok(s) => s,
        Err(message) => {
            let failure = Failure::Statement { message };
            let mut verdict = Verdict::failed(Some(signed.signer), failure, warnings);
            verdict.signature_verified = true;
            return Ok(verdict);
        }
    };
    let (mut verdict, disk) = files::check_files(model, statement, options, progress, warnings)?;
    verdict.signer = Some(signed.signer);
    verdict.signature_verified = true;
    verdict.signed_at = signed.signing_time;
    if let (Some(input), Some(disk)) = (&options.bom, disk) {
        bom::check_bom_attestation(input, &mut verdict, &disk, options)?;
    } else if options.bom.is_some() {
        // The model failed before its files could be hashed.
        verdict.bom_verified = Some(false);
    }
    Ok(verdict)
}
