//! Checking a signed ML-BOM with the model: the BOM attestation verifies with
//! the same trust as the model, names the same subject, is the BOM file
//! given, and lists exactly the signed files with their on-disk hashes.

use super::authenticate::authenticate;
use super::files::DiskFiles;
use super::{BomFileProblem, BomInput, BomProblem, Failure, Verdict, VerifyOptions};
use crate::bom::{BOM_PREDICATE_TYPE, MODEL_FILE_REF};
use crate::bundle::{STATEMENT_TYPE, StatementProblem};
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
    let model_digest = verdict
        .subject
        .as_ref()
        .and_then(|s| s.digest.get("sha256"))
        .map(|d| d.to_ascii_lowercase());
    // A copy: authenticating takes the bundle text (to free a model's
    // large one early), and the options keep theirs.
    match authenticate(
        input.signature_json.clone(),
        &options.trusts,
        options.time,
        &mut verdict.warnings,
    )? {
        Err(refusal) => failures.push(BomProblem::Signature {
            failure: Box::new(refusal.failure),
        }),
        Ok(signed) => {
            if let Err(problem) =
                statement_checks(signed.payload.payload(), model_digest.as_deref(), &bom)
            {
                failures.push(problem);
            }
        }
    }
    let mut failures: Vec<Failure> = failures
        .into_iter()
        .map(|problem| Failure::Bom { problem })
        .collect();
    failures.extend(file_checks(&bom, disk));
    if let Some(root) = &model_digest {
        let stated = bom
            .pointer("/metadata/component/hashes")
            .and_then(Value::as_array)
            .and_then(|h| h.iter().find(|x| x["alg"] == "SHA-256"))
            .and_then(|x| x["content"].as_str());
        if stated.map(str::to_ascii_lowercase).as_deref() != Some(root.as_str()) {
            failures.push(Failure::Bom {
                problem: BomProblem::RootDigest { root: root.clone() },
            });
        }
    }
    verdict.bom_verified = Some(failures.is_empty());
    verdict.failures.extend(failures);
    Ok(())
}

/// The signed statement is a CycloneDX attestation about this model whose
/// predicate is the BOM file.
fn statement_checks(
    payload: &[u8],
    model_digest: Option<&str>,
    bom: &Value,
) -> std::result::Result<(), BomProblem> {
    let statement_problem = |problem| BomProblem::Statement { problem };
    let statement: Value = crate::json::from_slice(payload).map_err(|e| {
        statement_problem(StatementProblem::NotAStatement {
            detail: e.to_string(),
        })
    })?;
    if statement["_type"] != STATEMENT_TYPE {
        return Err(statement_problem(StatementProblem::StatementType {
            found: statement["_type"].to_string(),
        }));
    }
    if statement["predicateType"] != BOM_PREDICATE_TYPE {
        return Err(statement_problem(StatementProblem::PredicateType {
            found: statement["predicateType"].to_string(),
            expected: BOM_PREDICATE_TYPE.to_string(),
        }));
    }
    let subjects = statement["subject"]
        .as_array()
        .map(Vec::as_slice)
        .unwrap_or_default();
    let [subject] = subjects else {
        return Err(statement_problem(StatementProblem::SubjectCount {
            found: subjects.len(),
        }));
    };
    let Some(model_digest) = model_digest else {
        return Err(BomProblem::NoModelDigest);
    };
    let bom_digest = subject["digest"]["sha256"]
        .as_str()
        .unwrap_or("")
        .to_ascii_lowercase();
    if bom_digest != model_digest {
        return Err(BomProblem::OtherModel {
            bom: bom_digest,
            model: model_digest.to_string(),
        });
    }
    if &statement["predicate"] != bom {
        return Err(BomProblem::NotTheSignedBom);
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
    let file_failure = |path: &str, problem| Failure::BomFile {
        path: path.to_string(),
        problem,
    };
    for (name, sha256) in &listed {
        if !disk.signed.contains(name) {
            failures.push(file_failure(name, BomFileProblem::NotSigned));
            continue;
        }
        match (sha256, disk.sha256.get(name)) {
            (None, _) => failures.push(file_failure(name, BomFileProblem::NoSha256)),
            (Some(want), Some(have)) if !want.eq_ignore_ascii_case(have) => {
                failures.push(file_failure(name, BomFileProblem::DigestDiffers));
            }
            _ => {}
        }
    }
    for name in &disk.signed {
        if !listed.contains_key(name) {
            failures.push(file_failure(name, BomFileProblem::MissingFromBom));
        }
    }
    failures
}
