//! Checking a signed ML-BOM with the model: the BOM attestation verifies with
//! the same trust as the model, names the same subject, is the BOM file
//! given, and lists exactly the signed files with their on-disk hashes.

use super::authenticate::authenticate;
use super::bom_read::{BomFacts, read_bom, read_statement};
use super::files::DiskFiles;
use super::{BomFileProblem, BomInput, BomProblem, Failure, Verdict, VerifyOptions};
use crate::bom::BOM_PREDICATE_TYPE;
use crate::bundle::{STATEMENT_TYPE, StatementProblem};
use crate::{Error, Result};
use serde_json::Value;
use std::borrow::Cow;
use std::collections::BTreeMap;

/// A BOM and its attestation, read and checked as far as they can be
/// without the model's files.
pub(crate) struct BomRead {
    bom: BomFacts,
    /// What failed of the signature and the statement.
    failures: Vec<Failure>,
    /// The root the BOM states, when it is not the model's.
    other_root: Option<Failure>,
}

/// Reads the BOM and checks its attestation: signed with the same trust as
/// the model, about the model `model_digest`, over this BOM, which states
/// that root. Each document is read in one streaming pass (see
/// [`super::bom_read`]) and its text freed: a BOM of a million files is
/// never a tree.
pub(crate) fn read_attestation(
    input: BomInput,
    model_digest: Option<&str>,
    options: &VerifyOptions,
    warnings: &mut Vec<super::Warning>,
) -> Result<BomRead> {
    let BomInput {
        bom_json,
        signature_json,
    } = input;
    let bom = crate::json::check_unique_keys(&bom_json)
        .map_err(|e| e.to_string())
        .and_then(|()| read_bom(&bom_json).map_err(|e| e.to_string()))
        .map_err(|e| Error::Bom(format!("the BOM is not JSON: {e}")))?;
    drop(bom_json);
    let mut problems = Vec::new();
    match authenticate(
        Cow::Owned(signature_json),
        &options.trusts,
        options.time,
        warnings,
    )? {
        Err(refusal) => problems.push(BomProblem::Signature {
            failure: Box::new(refusal.failure),
        }),
        Ok(signed) => {
            if let Err(problem) = statement_checks(signed.payload.payload(), model_digest, &bom) {
                problems.push(problem);
            }
        }
    }
    let failures = problems
        .into_iter()
        .map(|problem| Failure::Bom { problem })
        .collect();
    let other_root = model_digest
        .filter(|root| bom.root.as_deref() != Some(*root))
        .map(|root| Failure::Bom {
            problem: BomProblem::RootDigest {
                root: root.to_string(),
            },
        });
    Ok(BomRead {
        bom,
        failures,
        other_root,
    })
}

/// Adds the checks of the BOM's files against the signed files on disk,
/// and every failure, to `verdict`; sets `bom_verified`.
pub(crate) fn finish(read: BomRead, verdict: &mut Verdict, disk: &DiskFiles) {
    let BomRead {
        bom,
        mut failures,
        other_root,
    } = read;
    failures.extend(file_checks(&bom, disk));
    failures.extend(other_root);
    verdict.bom_verified = Some(failures.is_empty());
    verdict.failures.extend(failures);
}

/// The signed statement is a CycloneDX attestation about this model whose
/// predicate is the BOM file.
fn statement_checks(
    payload: &[u8],
    model_digest: Option<&str>,
    bom: &BomFacts,
) -> std::result::Result<(), BomProblem> {
    let statement_problem = |problem| BomProblem::Statement { problem };
    let not_a_statement =
        |detail: String| statement_problem(StatementProblem::NotAStatement { detail });
    crate::json::check_unique_keys(payload).map_err(|e| not_a_statement(e.to_string()))?;
    let statement = read_statement(payload).map_err(|e| not_a_statement(e.to_string()))?;
    // A string is shown as it is (the failure's message quotes it).
    let shown = |v: Option<Value>| match v {
        Some(Value::String(s)) => s,
        other => other.unwrap_or(Value::Null).to_string(),
    };
    if statement.statement_type.as_ref() != Some(&Value::from(STATEMENT_TYPE)) {
        return Err(statement_problem(StatementProblem::StatementType {
            found: shown(statement.statement_type),
        }));
    }
    if statement.predicate_type.as_ref() != Some(&Value::from(BOM_PREDICATE_TYPE)) {
        return Err(statement_problem(StatementProblem::PredicateType {
            found: shown(statement.predicate_type),
            expected: BOM_PREDICATE_TYPE.to_string(),
        }));
    }
    let subjects = statement
        .subject
        .as_ref()
        .and_then(Value::as_array)
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
    if statement.predicate != Some(bom.digest) {
        return Err(BomProblem::NotTheSignedBom);
    }
    Ok(())
}

/// The BOM's model files against the signed files and the disk.
fn file_checks(bom: &BomFacts, disk: &DiskFiles) -> Vec<Failure> {
    // The last listing of a name counts, as it did when the BOM was a tree.
    let listed: BTreeMap<&str, &Option<String>> = bom
        .files
        .iter()
        .map(|(name, sha256)| (name.as_str(), sha256))
        .collect();
    let mut failures = Vec::new();
    let file_failure = |path: &str, problem| Failure::BomFile {
        path: path.to_string(),
        problem,
    };
    for (&name, &sha256) in &listed {
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
        if !listed.contains_key(name.as_str()) {
            failures.push(file_failure(name, BomFileProblem::MissingFromBom));
        }
    }
    failures
}
