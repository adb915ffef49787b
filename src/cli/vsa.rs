//! The verification evidence record: a SLSA Verification Summary Attestation.

use super::cite;
use super::verify::VerifyInputs;
use modelseal::Result;
use modelseal::evidence::Recorder;
use modelseal::evidence::record::{self, EvidenceSubject, VERIFIER_ID, VSA_PREDICATE};
use modelseal::formats::inspect_file;
use modelseal::verify::{Failure, Verdict};
use serde_json::{Value, json};
use std::path::Path;

/// The model the verification was about: the verified subject, else the
/// one the bundle claims (a failed verification is recorded against it).
fn subject(verdict: &Verdict, bundle: &[u8]) -> Option<EvidenceSubject> {
    if let Some(s) = &verdict.subject {
        return Some(EvidenceSubject {
            name: s.name.clone(),
            sha256: s.digest.get("sha256")?.to_ascii_lowercase(),
        });
    }
    use base64::Engine;
    let b: Value = serde_json::from_slice(bundle).ok()?;
    let payload = base64::engine::general_purpose::STANDARD
        .decode(b["dsseEnvelope"]["payload"].as_str()?)
        .ok()?;
    let st: Value = serde_json::from_slice(&payload).ok()?;
    let digest = st["subject"][0]["digest"]["sha256"].as_str()?;
    Some(EvidenceSubject {
        name: st["subject"][0]["name"]
            .as_str()
            .unwrap_or("model")
            .to_string(),
        sha256: digest.to_ascii_lowercase(),
    })
}

/// Whether every signed file is in a format that cannot run code on load,
/// with nothing dangerous or invalid found in it.
fn formats_safe(model: &Path, files: &[String]) -> Result<bool> {
    let single = model.is_file();
    for name in files {
        let path = if single {
            model.to_path_buf()
        } else {
            model.join(name)
        };
        if !path.is_file() {
            return Ok(false);
        }
        let report = inspect_file(&path, name)?;
        if report.unsafe_to_load() || report.format.executes_code() {
            return Ok(false);
        }
    }
    Ok(!files.is_empty())
}

/// Appends the VSA for `verdict`; `None` when no model digest is known.
pub fn record_verification(
    recorder: &Recorder,
    model: &Path,
    signature: &Path,
    verdict: &Verdict,
    inputs: &VerifyInputs<'_>,
) -> Result<Option<String>> {
    let Some(subject) = subject(verdict, inputs.bundle) else {
        return Ok(None);
    };
    let files_ok = verdict.signature_verified
        && !verdict.failures.iter().any(|f| {
            matches!(
                f,
                Failure::Changed { .. }
                    | Failure::Missing { .. }
                    | Failure::Extra { .. }
                    | Failure::Model { .. }
                    | Failure::SubjectDigest { .. }
                    | Failure::UnknownAlgorithm { .. }
                    | Failure::Statement { .. }
            )
        });
    let policy_failed = |rule: Option<&str>| {
        verdict.failures.iter().any(
            |f| matches!(f, Failure::Policy { rule: r, .. } if rule.is_none_or(|want| r == want)),
        )
    };
    let safe = match inputs.policy {
        Some(_) => files_ok && !policy_failed(Some("formats")),
        None => files_ok && formats_safe(model, &verdict.signed_files)?,
    };
    let mut levels = Vec::new();
    if verdict.signature_verified {
        levels.push("MODELSEAL_SIGNATURE_VERIFIED");
    }
    if files_ok {
        levels.push("MODELSEAL_FILES_VERIFIED");
    }
    if verdict.bom_verified == Some(true) && files_ok {
        levels.push("MODELSEAL_BOM_VERIFIED");
    }
    if safe {
        levels.push("MODELSEAL_FORMATS_SAFE");
    }
    if inputs.policy.is_some() && !policy_failed(None) {
        levels.push("MODELSEAL_POLICY_PASSED");
    }
    let mut attestations = vec![cite(signature, inputs.bundle)];
    if let (Some(bom), Some(sig)) = (inputs.bom, inputs.bom_signature) {
        attestations.push(json!({ "uri": "bom", "digest": { "sha256": hex::encode(<sha2::Sha256 as sha2::Digest>::digest(&bom.bom_json)) } }));
        attestations.push(cite(sig, &bom.signature_json));
    }
    let policy = match inputs.policy {
        Some(p) => json!({ "uri": p.uri, "digest": { "sha256": p.sha256 } }),
        None => json!({ "uri": "https://modelseal.dev/policy/signature-only" }),
    };
    let resource = std::fs::canonicalize(model).unwrap_or_else(|_| model.to_path_buf());
    let predicate = json!({
        "verifier": { "id": VERIFIER_ID, "version": { "modelseal": modelseal::VERSION } },
        "timeVerified": record::now(),
        "resourceUri": format!("file://{}", resource.display()),
        "policy": policy,
        "inputAttestations": attestations,
        "verificationResult": if verdict.verified { "PASSED" } else { "FAILED" },
        "verifiedLevels": levels,
        "failures": verdict.failures.iter().map(Failure::message).collect::<Vec<_>>(),
        "signer": verdict.signer,
    });
    recorder
        .record(&subject, VSA_PREDICATE, predicate)
        .map(Some)
}
