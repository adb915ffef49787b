//! A model in a local directory, or a single local file.

use super::{HashSpec, Hashed, ModelSource};
use crate::Result;
use crate::digest::{
    Entry, HashAlgorithm, Method, ProgressFn, ReadSink, WalkError, hash_entries,
    hash_entries_with_sinks, model_name, walk,
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
        let mut entries = walk(&self.path, spec.allow_symlinks, spec.ignore)?;
        if let Some(only) = spec.only {
            entries.retain(|e| only.contains(e.name.as_str()));
        }
        // A file that changed while it was read is named by its resource.
        let named = |e: crate::Error| match e {
            crate::Error::Walk(WalkError::ChangedWhileHashing { path }) => {
                let name = entries
                    .iter()
                    .find(|entry| entry.path.display().to_string() == path)
                    .map_or(path, |entry| entry.name.clone());
                crate::Error::Walk(WalkError::ChangedWhileHashing { path: name })
            }
            other => other,
        };
        let wanted = spec.sha256_of.filter(|w| !w.is_empty());
        if !spec.inspect_formats && wanted.is_none() {
            let resources =
                hash_entries(&entries, spec.algorithm, spec.method, progress).map_err(named)?;
            return Ok(Hashed {
                resources,
                ..Hashed::default()
            });
        }
        // One read per file feeds the hash, the sniffer and, where a policy
        // excepts the file by digest and the manifest is not SHA-256 of whole
        // files, a SHA-256 of its own: what is judged is what was hashed.
        let digest_from_resources =
            spec.method == Method::Files && spec.algorithm == HashAlgorithm::Sha256;
        let make = |e: &Entry| FileSink {
            sniffer: spec.inspect_formats.then(|| Sniffer::new(&e.name)),
            sha256: (!digest_from_resources && wanted.is_some_and(|w| w.contains(&e.name)))
                .then(Sha256::new),
        };
        let finish = |sink: FileSink| {
            (
                sink.sniffer.map(Sniffer::finish),
                sink.sha256.map(|h| hex::encode(h.finalize())),
            )
        };
        let (resources, judged) = hash_entries_with_sinks(
            &entries,
            spec.algorithm,
            spec.method,
            progress,
            &make,
            &finish,
        )
        .map_err(named)?;
        let mut sha256 = BTreeMap::new();
        let mut reports = Vec::with_capacity(if spec.inspect_formats {
            judged.len()
        } else {
            0
        });
        for (entry, (report, digest)) in entries.iter().zip(judged) {
            reports.extend(report);
            if let Some(digest) = digest {
                sha256.insert(entry.name.clone(), digest);
            }
        }
        if digest_from_resources && let Some(wanted) = wanted {
            for r in resources.iter().filter(|r| wanted.contains(&r.name)) {
                sha256.insert(r.name.clone(), r.digest.clone());
            }
        }
        let formats = spec.inspect_formats.then_some(reports);
        Ok(Hashed {
            resources,
            formats,
            notes: Vec::new(),
            sha256,
        })
    }
}

/// What one file's bytes feed besides the manifest hash.
struct FileSink {
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
