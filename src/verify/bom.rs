//! Checking a signed ML-BOM with the model: the BOM attestation verifies with
//! the same trust as the model, names the same subject, is the BOM file
//! given, and lists exactly the signed files with their on-disk hashes.

use super::authenticate::authenticate;
use super::files::DiskFiles;
use super::{BomInput, Failure, Verdict, VerifyOptions};
use crate::bom::{BOM_PREDICATE_TYPE, MODEL_FILE_REF};
use crate::bundle::STATEMENT_TYPE;
use crate::{Error, Result};
use serde_json::Value;
use std::collections::BTreeMap;

/// Appends to `verdict` every way the BOM fails; sets `bom_verified`.
pub(crate) fn check_bom_attestation(
    input: &BomInput,
    verdict: &mut Verdict,
    disk: &DiskFiles,
    options: &VerifyOptions,
) -> Result<()> {
    let bom: Value = crate::bom::parse_bom(&input.bom_json)
        .map_err(|e| Error::Bom(format!("the BOM is not JSON: {e}")))?;
    let mut failures = Vec::new();
    let bom_failure = |message: String| Failure::Bom { message };
    match authenticate(&input.signature_json, options, &mut verdict.warnings)? {
        Err((_, failure)) => failures.push(bom_failure(format!(
            "the BOM signature: {}",
            failure.message()
        ))),
        Ok(signed) => {
            let model_digest = verdict
                .subject
                .as_ref()
                .and_then(|s| s.digest.get("sha256"))
                .map(|d| d.to_ascii_lowercase());
            match statement_checks(&signed.payload, model_digest.as_deref(), &bom) {
                Ok(()) => {}
                Err(message) => failures.push(bom_failure(message)),
            }
        }
    }
    failures.extend(file_checks(&bom, disk));
    if let Some(root) = verdict
        .subject
        .as_ref()
        .and_then(|s| s.digest.get("sha256"))
    {
        let stated = bom
            .pointer("/metadata/component/hashes")
            .and_then(Value::as_array)
            .and_then(|h| h.iter().find(|x| x["alg"] == "SHA-256"))
            .and_then(|x| x["content"].as_str());
        if stated.map(str::to_ascii_lowercase).as_deref()
            != Some(root.to_ascii_lowercase().as_str())
        {
            failures.push(bom_failure(format!(
                "the BOM's model component does not carry the model's root digest sha256:{root}"
            )));
        }
    }
    verdict.bom_verified = Some(failures.is_empty());
    verdict.failures.extend(failures);
    verdict.verified = verdict.failures.is_empty();
    Ok(())
}

/// The signed statement is a CycloneDX attestation about this model whose
/// predicate is the BOM file.
fn statement_checks(
    payload: &[u8],
    model_digest: Option<&str>,
    bom: &Value,
) -> std::result::Result<(), String> {
    let statement: Value = crate::json::from_slice(payload)
        .map_err(|e| format!("the signed BOM statement is not JSON: {e}"))?;
    if statement["_type"] != STATEMENT_TYPE {
        return Err(format!(
            "the signed BOM statement has _type {}",
            statement["_type"]
        ));
    }
    if statement["predicateType"] != BOM_PREDICATE_TYPE {
        return Err(format!(
            "the signed statement has predicateType {}, expected {BOM_PREDICATE_TYPE:?}",
            statement["predicateType"]
        ));
    }
    let subjects = statement["subject"]
        .as_array()
        .map(Vec::as_slice)
        .unwrap_or_default();
    let [subject] = subjects else {
        return Err(format!(
            "the BOM attestation must have one subject, found {}",
            subjects.len()
        ));
    };
    let Some(model_digest) = model_digest else {
        return Err("the model signature has no subject digest to bind a BOM to".into());
    };
    let bom_digest = subject["digest"]["sha256"]
        .as_str()
        .unwrap_or("")
        .to_ascii_lowercase();
    if bom_digest != model_digest {
        return Err(format!(
            "the BOM describes another model (sha256:{bom_digest}), not this one (sha256:{model_digest})"
        ));
    }
    if &statement["predicate"] != bom {
        return Err("the BOM file differs from the signed BOM".into());
    }
    Ok(())
}

/// The BOM's model files against the signed files and the disk.
fn file_checks(bom: &Value, disk: &DiskFiles) -> Vec<Failure> {
    let mut listed = BTreeMap::new();
    for c in bom["components"].as_array().into_iter().flatten() {
        let Some(name) = c["bom-ref"]
            .as_str()
            .and_then(|r| r.strip_prefix(MODEL_FILE_REF))
        else {
            continue;
        };
        let sha256 = c["hashes"]
            .as_array()
            .and_then(|h| h.iter().find(|x| x["alg"] == "SHA-256"))
            .and_then(|x| x["content"].as_str())
            .map(str::to_ascii_lowercase);
        listed.insert(name.to_string(), sha256);
    }
    let mut failures = Vec::new();
    let file_failure = |path: &str, message: &str| Failure::BomFile {
        path: path.to_string(),
        message: message.to_string(),
    };
    for (name, sha256) in &listed {
        if !disk.signed.contains(name) {
            failures.push(file_failure(
                name,
                "listed by the BOM but not by the model signature",
            ));
            continue;
        }
        match (sha256, disk.sha256.get(name)) {
            (None, _) => failures.push(file_failure(name, "the BOM gives no SHA-256")),
            (Some(want), Some(have)) if !want.eq_ignore_ascii_case(have) => {
                failures.push(file_failure(
                    name,
                    "the SHA-256 in the BOM differs from the file on disk",
                ));
            }
            _ => {}
        }
    }
    for name in &disk.signed {
        if !listed.contains_key(name) {
            failures.push(file_failure(name, "signed, but missing from the BOM"));
        }
    }
    failures
}
