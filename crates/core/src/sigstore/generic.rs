//! Verifying any Sigstore bundle (cosign, sigstore-python, ...) over a file
//! or a digest: message signatures and DSSE attestations, bundle v0.1 to
//! v0.3, keyless by identity or signed with a known key.

use super::{KeylessIdentity, ParsedBundle, SigstoreProblem, problem_for};
use crate::keys::PublicKey;
use crate::{Error, Result};
use serde::Serialize;
use sigstore_verify::trust_root::TrustedRoot;
use sigstore_verify::types::{DerPublicKey, Sha256Hash, SignatureContent};
use sigstore_verify::{PublicKeyVerificationPolicy, VerificationPolicy, Verifier};
use std::path::PathBuf;

/// What was signed.
#[derive(Debug, Clone)]
pub enum ArtifactInput {
    /// A file, read as a stream (constant memory).
    File(PathBuf),
    /// The SHA-256 digest of the artifact.
    Digest([u8; 32]),
}

/// What the bundle must be trusted by.
#[derive(Debug, Clone)]
pub enum BundleTrust {
    /// A keyless certificate for this identity and issuer.
    Identity(KeylessIdentity),
    /// A known public key. Key-signed bundles often carry no log entry; they
    /// are accepted without one only when `allow_missing_tlog` is set.
    Key {
        /// The signer's key.
        key: PublicKey,
        /// Accept a bundle without a transparency log entry.
        allow_missing_tlog: bool,
    },
}

/// The outcome of a generic bundle verification.
#[derive(Debug, Clone, Serialize)]
pub struct BundleCheck {
    /// `message-signature` or `dsse`.
    pub content: &'static str,
    /// The certificate identity (keyless), when verified.
    pub identity: Option<String>,
    /// The certificate's OIDC issuer (keyless), when verified.
    pub issuer: Option<String>,
    /// When the transparency log integrated the entry, if verified.
    pub integrated_time: Option<jiff::Timestamp>,
    /// Why it failed.
    pub failure: Option<SigstoreProblem>,
}

impl BundleCheck {
    /// Whether every check passed.
    pub fn is_verified(&self) -> bool {
        self.failure.is_none()
    }
}

/// Verifies `bundle_json` over `artifact` with `trust` and `root`. Every check
/// of the Sigstore client specification runs in sigstore-verify; this adds
/// the refusal of key-signed bundles without a log entry unless allowed.
pub fn verify_bundle(
    bundle_json: &[u8],
    artifact: &ArtifactInput,
    trust: &BundleTrust,
    root: &TrustedRoot,
) -> Result<BundleCheck> {
    verify_parsed(&ParsedBundle::parse(bundle_json)?, artifact, trust, root)
}

/// As [`verify_bundle`], for a bundle already read (to try it against
/// several signers without reading it again).
pub fn verify_parsed(
    parsed: &ParsedBundle<'_>,
    artifact: &ArtifactInput,
    trust: &BundleTrust,
    root: &TrustedRoot,
) -> Result<BundleCheck> {
    let (bundle_json, bundle) = (parsed.json(), &parsed.bundle);
    let content = match bundle.content {
        SignatureContent::MessageSignature(_) => "message-signature",
        SignatureContent::DsseEnvelope(_) => "dsse",
        _ => {
            return Err(Error::Bundle(
                "the bundle holds neither a message signature nor a DSSE envelope".into(),
            ));
        }
    };
    let mut check = BundleCheck {
        content,
        identity: None,
        issuer: None,
        integrated_time: None,
        failure: None,
    };
    let verifier = Verifier::new(root).map_err(|e| Error::TrustedRoot(e.to_string()))?;
    let run = |policy: &dyn Fn(
        &Verifier,
    )
        -> sigstore_verify::Result<sigstore_verify::VerificationResult>| {
        policy(&verifier)
    };
    let result = match trust {
        BundleTrust::Identity(who) => {
            let policy = VerificationPolicy::new(who.identity.as_str(), who.issuer.as_str());
            run(&|v| verify_artifact(v, artifact, bundle, &policy))
        }
        BundleTrust::Key {
            key,
            allow_missing_tlog,
        } => {
            if bundle.verification_material.tlog_entries.is_empty() {
                if !allow_missing_tlog {
                    check.failure = Some(SigstoreProblem::NoTransparencyLogEntry);
                    return Ok(check);
                }
                // Sigstore's verifier insists on a log entry or a timestamp;
                // the user has accepted neither, so check the signature here.
                check.failure = super::offline::verify_keyed(bundle_json, artifact, key)?.err();
                return Ok(check);
            }
            let policy = PublicKeyVerificationPolicy::new(DerPublicKey::new(key.to_spki_der()));
            run(&|v| verify_artifact(v, artifact, bundle, &policy))
        }
    };
    match result {
        Ok(r) => {
            check.identity = r.identity().map(|i| i.as_str().to_string());
            check.issuer = r.issuer().map(str::to_string);
            check.integrated_time = r.integrated_time();
        }
        Err(sigstore_verify::Error::ArtifactRead(e)) => {
            let path = match artifact {
                ArtifactInput::File(p) => p.clone(),
                ArtifactInput::Digest(_) => PathBuf::from("artifact"),
            };
            return Err(crate::fetch::InputError::from_io(&path, e).into());
        }
        Err(
            e @ (sigstore_verify::Error::InvalidBundle(_)
            | sigstore_verify::Error::UnsupportedBundle(_)),
        ) => {
            return Err(Error::Bundle(e.to_string()));
        }
        Err(e) => check.failure = Some(problem_for(e)),
    }
    Ok(check)
}

fn verify_artifact(
    verifier: &Verifier,
    artifact: &ArtifactInput,
    bundle: &sigstore_verify::types::Bundle,
    policy: &(impl sigstore_verify::Policy + ?Sized),
) -> sigstore_verify::Result<sigstore_verify::VerificationResult> {
    match artifact {
        ArtifactInput::Digest(d) => verifier.verify(Sha256Hash::new(*d), bundle, policy),
        ArtifactInput::File(path) => {
            let file =
                crate::fetch::open_file(path, crate::fetch::InputKind::Artifact(u64::MAX))
                    .map_err(|e| sigstore_verify::Error::ArtifactRead(std::io::Error::other(e)))?;
            verifier.verify_reader(
                std::io::BufReader::with_capacity(1 << 18, file),
                bundle,
                policy,
            )
        }
    }
}
