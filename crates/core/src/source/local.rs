//! A model in a local directory, or a single local file.

use super::{BASE_BUNDLE_SIZE, FormatReports, HashSpec, Hashed, ModelSource, SourceNote};
use crate::Result;
use crate::digest::{
    HashAlgorithm, Method, ProgressFn, ReadSink, Sinks, WalkOptions, hash_files_with_sinks,
    model_name, walk_model,
};
use crate::formats::Sniffer;
use sha2::{Digest, Sha256};
use std::collections::BTreeMap;
use std::path::{Path, PathBuf};

/// A model on the local file system.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct LocalSource {
    path: PathBuf,
}

impl LocalSource {
    /// The model at `path` (a directory or a single file).
    pub fn new(path: impl Into<PathBuf>) -> Self {
        LocalSource { path: path.into() }
    }

    /// The path given.
    pub fn path(&self) -> &Path {
        &self.path
    }
}

/// What one file's bytes feed besides the manifest hash: the format
/// sniffer and, where a policy excepts the file by digest and the manifest
/// is not SHA-256 of whole files, a SHA-256 of its own. One read feeds all:
/// what is judged is what was hashed.
struct FileSink {
    name: String,
    sniffer: Option<Sniffer>,
    sha256: Option<Sha256>,
}

impl ReadSink for FileSink {
    fn update(&mut self, bytes: &[u8]) {
        if let Some(sniffer) = &mut self.sniffer {
            sniffer.update(bytes);
        }
        if let Some(hasher) = &mut self.sha256 {
            hasher.update(bytes);
        }
    }
}

/// Walks and hashes the tree at `path` as `spec` says, with `scope` for
/// links (the caller's, or a source's own repository scope).
pub(crate) fn hash_tree(
    path: &Path,
    spec: &HashSpec<'_>,
    progress: ProgressFn<'_>,
) -> Result<Hashed> {
    let walked = walk_model(
        path,
        &WalkOptions::new(spec.allow_symlinks, &spec.link_scope, spec.ignore),
    )?;
    let mut files = walked.files;
    // Files left out of the comparison are still read when formats are
    // judged: a claim that the model's formats are safe covers every file
    // a loader may find beside the signed ones.
    if let Some(only) = spec.only
        && !spec.inspect_formats
    {
        files.retain(|name| only.contains(name));
    }
    let wanted = spec.sha256_of.filter(|w| !w.is_empty());
    let digest_is_sha256 = spec.method == Method::Files && spec.algorithm == HashAlgorithm::Sha256;
    let make = |_: usize, name: &str| -> Option<FileSink> {
        let sniffer = spec.inspect_formats.then(|| Sniffer::new(name));
        let sha256 =
            (!digest_is_sha256 && wanted.is_some_and(|w| w.contains(name))).then(Sha256::new);
        (sniffer.is_some() || sha256.is_some()).then(|| FileSink {
            name: name.to_string(),
            sniffer,
            sha256,
        })
    };
    // Boxed: the hashing keeps one slot per file, and a report is large.
    let finish = |_: usize, sink: FileSink| {
        Box::new((
            sink.name,
            sink.sniffer.map(Sniffer::finish),
            sink.sha256.map(|h| hex::encode(h.finalize())),
        ))
    };
    // Without anything to feed (no formats judged, no extra digests) the
    // plain hashing keeps no slot per file at all.
    let feeds = spec.inspect_formats || (!digest_is_sha256 && wanted.is_some());
    let (resources, outputs) = hash_files_with_sinks(
        files,
        spec.algorithm,
        spec.method,
        progress,
        feeds.then_some(Sinks {
            make: &make,
            finish: &finish,
        }),
    )?;
    // Outputs come in file order, so the reports do too.
    let mut sha256 = BTreeMap::new();
    let mut reports = FormatReports::new();
    for (name, report, digest) in outputs.into_iter().map(|(_, out)| *out) {
        if let Some(report) = report {
            reports.push(report);
        }
        if let Some(digest) = digest {
            sha256.insert(name, digest);
        }
    }
    if let (Some(wanted), true) = (wanted, digest_is_sha256) {
        for r in resources.iter().filter(|r| wanted.contains(r.name)) {
            sha256.insert(r.name.to_string(), r.digest_hex());
        }
    }
    let formats = spec.inspect_formats.then_some(reports);
    Ok(Hashed {
        resources,
        formats,
        notes: walked.notes.into_iter().map(SourceNote::from).collect(),
        sha256,
    })
}

impl ModelSource for LocalSource {
    fn name(&self) -> Result<String> {
        model_name(&self.path)
    }

    fn uri(&self) -> String {
        let resolved = std::fs::canonicalize(&self.path).unwrap_or_else(|_| self.path.clone());
        format!("file://{}", resolved.display())
    }

    fn local_path(&self) -> Option<&Path> {
        Some(&self.path)
    }

    fn is_single_file(&self) -> Result<bool> {
        Ok(std::fs::metadata(&self.path)
            .map_err(|e| crate::Error::io(&self.path, e))?
            .is_file())
    }

    fn hash(&self, spec: &HashSpec<'_>, progress: ProgressFn<'_>) -> Result<Hashed> {
        hash_tree(&self.path, spec, progress)
    }

    fn bundle_size_limit(&self) -> Result<u64> {
        tree_bundle_limit(&self.path)
    }
}

/// [`BASE_BUNDLE_SIZE`] plus room for one resource per entry of the tree
/// at `path` (directories counted too): its name JSON-escaped at worst,
/// a digest and the keys, in Base64.
pub(crate) fn tree_bundle_limit(path: &Path) -> Result<u64> {
    let (entries, name_bytes) = crate::digest::count_tree(path)?;
    let json = name_bytes.saturating_mul(6) + entries.saturating_mul(200);
    Ok(BASE_BUNDLE_SIZE.saturating_add(json.saturating_mul(4) / 3))
}
