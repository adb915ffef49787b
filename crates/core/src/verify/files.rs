//! The statement checks that need no files, then hashing the model and
//! comparing it with the signed manifest.
//!
//! Memory stays proportional to the names and digests: the signed files
//! are one name list, the comparison walks both sorted resource lists, and
//! nothing per file is copied into owned strings.

use super::{Failure, SymlinkRule, Verdict, VerifyOptions, Violation, Warning, compare};
use crate::bundle::{ParsedStatement, StatementProblem};
use crate::digest::{
    DEFAULT_IGNORES, HashAlgorithm, IgnoreSet, LinkScope, Method, NameList, ProgressFn, Resources,
    WalkError, root_digest,
};
use crate::source::{HashSpec, ModelSource, SourceNote};
use crate::{Error, Result};
use std::collections::{BTreeMap, BTreeSet};

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
    with_bom: bool,
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
        let computed = hex::encode(root_digest(&manifest.resources));
        let expected = subject.digest["sha256"].to_ascii_lowercase();
        if computed != expected {
            verdict
                .failures
                .push(Failure::SubjectDigest { expected, computed });
        }
    }
    if source.is_single_file()?
        && manifest.resources.len() == 1
        && manifest.resources.name(0) == "."
    {
        // model_signing < 1.0 named the resource of a single-file model ".".
        let r = manifest.resources.get(0).expect("one resource");
        let mut renamed = Resources::new();
        renamed.push(&source.name()?, r.digest, r.algorithm);
        manifest.resources = renamed;
    }
    let signed = match check_names(
        &manifest.resources,
        serialization.method,
        &serialization.hash_type,
    ) {
        Ok(signed) => signed,
        Err(problem) => {
            verdict.failures.push(Failure::Statement { problem });
            return Ok((verdict, None));
        }
    };
    verdict.files_checked = signed.len();

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
        let prefix = format!("{d}/");
        let is_signed = signed.iter().any(|f| f == d || f.starts_with(&prefix));
        if !is_signed {
            ignore.insert_canonical(d)?;
        }
    }

    let only: Option<BTreeSet<String>> = options
        .ignore_unsigned_files
        .then(|| signed.iter().map(str::to_string).collect());
    let mut spec = HashSpec::new(&ignore);
    spec.algorithm = algorithm;
    spec.method = serialization.method;
    spec.allow_symlinks = serialization.allow_symlinks;
    spec.link_scope = link_scope(source, options);
    spec.only = only.as_ref();
    spec.inspect_formats = options.inspect_formats;
    spec.sha256_of = Some(&options.sha256_of);
    let hashed = match source.hash(&spec, progress) {
        Ok(hashed) => hashed,
        Err(Error::Walk(problem)) => {
            verdict.failures.push(walk_failure(
                problem,
                serialization.allow_symlinks,
                options.symlink_rule,
            ));
            verdict.signed_files = signed;
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
    drop(manifest);
    verdict.formats = hashed.formats;
    if let Some(formats) = verdict.formats.as_mut() {
        formats.check_references(&|name| signed.find_sorted(name).is_some(), "signed");
    }
    verdict.file_sha256 = hashed.sha256;
    for note in &hashed.notes {
        match note {
            SourceNote::SymlinkOutsideRoot { path, target } => {
                verdict.warnings.push(Warning::SymlinkOutsideRoot {
                    path: path.clone(),
                    target: target.clone(),
                })
            }
            SourceNote::SymlinkCycle { path } => verdict
                .warnings
                .push(Warning::SymlinkCycle { path: path.clone() }),
            _ => {}
        }
    }
    verdict.source_notes = hashed.notes;
    let disk = if with_bom {
        // A BOM lists SHA-256 per file: reuse this pass when the signature
        // was made that way, else hash the signed files once more.
        let signed_set: BTreeSet<String> = signed.iter().map(str::to_string).collect();
        let sha256 = if serialization.method == Method::Files && algorithm == HashAlgorithm::Sha256
        {
            hashed.resources
        } else {
            let mut again = HashSpec::new(&ignore);
            again.allow_symlinks = serialization.allow_symlinks;
            again.link_scope = link_scope(source, options);
            again.only = Some(&signed_set);
            match source.hash(&again, progress) {
                Ok(h) => h.resources,
                Err(Error::Walk(problem)) => {
                    verdict.failures.push(walk_failure(
                        problem,
                        serialization.allow_symlinks,
                        options.symlink_rule,
                    ));
                    verdict.signed_files = signed;
                    return Ok((verdict, None));
                }
                Err(e) => return Err(e),
            }
        };
        Some(DiskFiles {
            sha256: sha256
                .iter()
                .map(|r| (r.name.to_string(), r.digest_hex()))
                .collect(),
            signed: signed_set,
        })
    } else {
        None
    };
    verdict.signed_files = signed;
    Ok((verdict, disk))
}

/// How far the model's links may lead: the policy's rule, else anywhere
/// when the verifier opted in, else the model root (the repository, for a
/// source kept in a repository cache).
fn link_scope(source: &dyn ModelSource, options: &VerifyOptions) -> LinkScope {
    match options.symlink_rule {
        Some(rule) => rule.scope(source),
        None if options.allow_symlinks => LinkScope::Anywhere,
        None => source.repository_scope().unwrap_or_default(),
    }
}

/// The failure a walk refusal is: a broken policy rule when a policy
/// decided how far links may lead (and the signature allows links), else
/// a model that cannot be enumerated as it was signed.
fn walk_failure(problem: WalkError, links_allowed: bool, rule: Option<SymlinkRule>) -> Failure {
    match (problem, rule) {
        (WalkError::ChangedWhileHashing { path }, _) => Failure::ChangedWhileHashing { path },
        (WalkError::Symlink { path }, Some(_)) if links_allowed => Failure::Policy {
            violation: Violation::SymlinkNotAllowed { path },
        },
        (WalkError::SymlinkOutside { path, target }, Some(rule)) => Failure::Policy {
            violation: Violation::SymlinkOutside { path, target, rule },
        },
        (problem, _) => Failure::Model { problem },
    }
}

/// Whether `name` is a canonical relative path: `/`-separated, no empty,
/// `.` or `..` component.
fn is_canonical(name: &str) -> bool {
    !name.is_empty()
        && name
            .split('/')
            .all(|c| !c.is_empty() && c != "." && c != "..")
}

/// Resource names must be canonical relative paths (with a valid byte range
/// for shards), unique, and use the manifest's hash algorithm. Returns the
/// signed files, sorted.
fn check_names(
    resources: &Resources,
    method: Method,
    hash_type: &str,
) -> std::result::Result<NameList, StatementProblem> {
    let mut files: Vec<&str> = Vec::with_capacity(resources.len());
    for r in resources.iter() {
        let bad_name = || StatementProblem::BadResourceName {
            name: r.name.to_string(),
        };
        let path = match method {
            Method::Files => r.name,
            Method::Shards { .. } => compare::split_shard_name(r.name)
                .map(|(p, _, _)| p)
                .ok_or_else(bad_name)?,
        };
        if !is_canonical(path) {
            return Err(bad_name());
        }
        let sharded = r
            .algorithm
            .strip_prefix(hash_type)
            .is_some_and(|rest| rest.is_empty() || rest.starts_with("-sharded-"));
        if !sharded {
            return Err(StatementProblem::AlgorithmMismatch {
                name: r.name.to_string(),
                algorithm: r.algorithm.to_string(),
                hash_type: hash_type.to_string(),
            });
        }
        files.push(path);
    }
    // Duplicates: the same resource name twice.
    let mut order: Vec<usize> = (0..resources.len()).collect();
    if !resources.is_sorted() {
        order.sort_unstable_by(|&a, &b| resources.name(a).cmp(resources.name(b)));
    }
    if let Some(pair) = order
        .windows(2)
        .find(|w| resources.name(w[0]) == resources.name(w[1]))
    {
        return Err(StatementProblem::DuplicateResource {
            name: resources.name(pair[0]).to_string(),
        });
    }
    drop(order);
    if method != Method::Files || !resources.is_sorted() {
        files.sort_unstable();
        files.dedup();
    }
    Ok(files.into_iter().collect())
}
