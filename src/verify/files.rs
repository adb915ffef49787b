//! The statement checks that need no files, then hashing the model and
//! comparing it with the signed manifest.

use super::{Failure, Verdict, VerifyOptions, Warning, compare};
use crate::bundle::{ParsedStatement, StatementProblem};
use crate::digest::{
    DEFAULT_IGNORES, HashAlgorithm, IgnoreSet, Method, ProgressFn, Resource, WalkError, root_digest,
};
use crate::source::{HashSpec, ModelSource};
use crate::{Error, Result};
use std::collections::{BTreeMap, BTreeSet};
use std::path::Path;

/// What the disk holds, for checking a BOM: the SHA-256 of each signed file
/// found, and the names the signature lists.
#[derive(Debug, Default)]
pub(crate) struct DiskFiles {
    /// SHA-256 (files method) by resource name, for files on disk.
    pub sha256: BTreeMap<String, String>,
    /// The files the signature lists.
    pub signed: BTreeSet<String>,
}

/// Statement checks that need no files, then the file comparison.
pub(crate) fn check_files(
    source: &dyn ModelSource,
    statement: ParsedStatement,
    options: &VerifyOptions,
    progress: ProgressFn<'_>,
    warnings: Vec<Warning>,
) -> Result<(Verdict, Option<DiskFiles>)> {
    let ParsedStatement {
        predicate_type,
        subject,
        mut manifest,
    } = statement;
    let mut verdict = Verdict {
        subject: subject.clone(),
        predicate_type: Some(predicate_type),
        warnings,
        ..Verdict::default()
    };
    let serialization = manifest.serialization.clone();
    let Some(algorithm) = HashAlgorithm::from_name(&serialization.hash_type) else {
        verdict.failures.push(Failure::UnknownAlgorithm {
            algorithm: serialization.hash_type,
        });
        return Ok((verdict, None));
    };
    if let Some(subject) = &subject {
        let computed = root_digest(&manifest.resources)
            .map(hex::encode)
            .unwrap_or_default();
        let expected = subject.digest["sha256"].to_ascii_lowercase();
        if computed != expected {
            verdict
                .failures
                .push(Failure::SubjectDigest { expected, computed });
        }
    }
    if source.is_single_file()?
        && manifest.resources.len() == 1
        && manifest.resources[0].name == "."
    {
        // model_signing < 1.0 named the resource of a single-file model ".".
        manifest.resources[0].name = source.name()?;
    }
    if let Err(problem) = check_names(
        &manifest.resources,
        serialization.method,
        &serialization.hash_type,
    ) {
        verdict.failures.push(Failure::Statement { problem });
        return Ok((verdict, None));
    }
    let expected_files: BTreeSet<String> = manifest
        .resources
        .iter()
        .map(|r| compare::file_of(&r.name, serialization.method).to_string())
        .collect();
    verdict.files_checked = expected_files.len();
    verdict.signed_files = expected_files.iter().cloned().collect();

    let mut ignore = IgnoreSet::new();
    for p in serialization.ignore_paths.iter().flatten() {
        if ignore.insert_canonical(p).is_err() {
            verdict
                .warnings
                .push(Warning::MalformedIgnorePath { path: p.clone() });
        }
    }
    for p in &options.ignore_paths {
        match source.local_path() {
            Some(root) => {
                ignore.insert_user_path(root, p)?;
            }
            None => {
                let text = p
                    .to_str()
                    .ok_or_else(|| Error::Usage(format!("{} is not valid UTF-8", p.display())))?;
                ignore.insert_canonical(text)?;
            }
        }
    }
    if let (Some(sig), Some(root)) = (&options.signature_path, source.local_path())
        && let Some(rel) = crate::digest::ignore::relative_to_root(root, sig)?
        && !rel.is_empty()
    {
        ignore.insert_canonical(&rel)?;
    }
    for d in DEFAULT_IGNORES {
        let signed = expected_files
            .iter()
            .any(|f| f == d || f.starts_with(&format!("{d}/")));
        if !signed {
            ignore.insert_canonical(d)?;
        }
    }

    let mut spec = HashSpec::new(&ignore);
    spec.algorithm = algorithm;
    spec.method = serialization.method;
    spec.allow_symlinks = serialization.allow_symlinks;
    spec.only = options.ignore_unsigned_files.then_some(&expected_files);
    spec.inspect_formats = options.inspect_formats;
    spec.sha256_of = Some(&options.sha256_of);
    let hashed = match source.hash(&spec, progress) {
        Ok(hashed) => hashed,
        Err(Error::Walk(WalkError::ChangedWhileHashing { path })) => {
            verdict.failures.push(Failure::ChangedWhileHashing { path });
            return Ok((verdict, None));
        }
        Err(Error::Walk(problem)) => {
            verdict.failures.push(Failure::Model { problem });
            return Ok((verdict, None));
        }
        Err(e) => return Err(e),
    };
    verdict.failures.extend(compare::compare(
        &manifest.resources,
        &hashed.resources,
        serialization.method,
        options.ignore_unsigned_files,
    ));
    verdict.formats = hashed.formats;
    verdict.file_sha256 = hashed.sha256;
    verdict.source_notes = hashed.notes;
    let disk = if options.bom.is_some() {
        // A BOM lists SHA-256 per file: reuse this pass when the signature
        // was made that way, else hash the signed files once more.
        let sha256 = if serialization.method == Method::Files && algorithm == HashAlgorithm::Sha256
        {
            hashed.resources
        } else {
            let mut again = HashSpec::new(&ignore);
            again.allow_symlinks = serialization.allow_symlinks;
            again.only = Some(&expected_files);
            match source.hash(&again, progress) {
                Ok(h) => h.resources,
                Err(Error::Walk(WalkError::ChangedWhileHashing { path })) => {
                    verdict.failures.push(Failure::ChangedWhileHashing { path });
                    return Ok((verdict, None));
                }
                Err(Error::Walk(problem)) => {
                    verdict.failures.push(Failure::Model { problem });
                    return Ok((verdict, None));
                }
                Err(e) => return Err(e),
            }
        };
        Some(DiskFiles {
            sha256: sha256.into_iter().map(|r| (r.name, r.digest)).collect(),
            signed: expected_files,
        })
    } else {
        None
    };
    Ok((verdict, disk))
}

/// Resource names must be canonical relative paths (with a valid byte range
/// for shards), unique, and use the manifest's hash algorithm.
fn check_names(
    resources: &[Resource],
    method: Method,
    hash_type: &str,
) -> std::result::Result<(), StatementProblem> {
    let mut seen = std::collections::HashSet::new();
    for r in resources {
        if !seen.insert(r.name.as_str()) {
            return Err(StatementProblem::DuplicateResource {
                name: r.name.clone(),
            });
        }
        let bad_name = || StatementProblem::BadResourceName {
            name: r.name.clone(),
        };
        let path = match method {
            Method::Files => r.name.as_str(),
            Method::Shards { .. } => compare::split_shard_name(&r.name)
                .map(|(p, _, _)| p)
                .ok_or_else(bad_name)?,
        };
        let canonical = crate::digest::ignore::normalize_relative(Path::new(path)).ok();
        if canonical.as_deref() != Some(path) || path.is_empty() {
            return Err(bad_name());
        }
        let sharded = r
            .algorithm
            .strip_prefix(hash_type)
            .is_some_and(|rest| rest.is_empty() || rest.starts_with("-sharded-"));
        if !sharded {
            return Err(StatementProblem::AlgorithmMismatch {
                name: r.name.clone(),
                algorithm: r.algorithm.clone(),
                hash_type: hash_type.to_string(),
            });
        }
    }
    Ok(())
}
