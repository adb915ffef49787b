//! A model in a local directory, or a single local file.

use super::{HashSpec, Hashed, ModelSource};
use crate::Result;
use crate::digest::{
    HashAlgorithm, Method, ProgressFn, WalkError, file_sha256, hash_entries, model_name, walk,
};
use crate::formats::inspect_file;
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
        let resources =
            hash_entries(&entries, spec.algorithm, spec.method, progress).map_err(named)?;
        let mut sha256 = BTreeMap::new();
        if let Some(wanted) = spec.sha256_of {
            let from_resources =
                spec.method == Method::Files && spec.algorithm == HashAlgorithm::Sha256;
            for e in entries.iter().filter(|e| wanted.contains(&e.name)) {
                let digest = if from_resources {
                    resources
                        .iter()
                        .find(|r| r.name == e.name)
                        .map(|r| r.digest.clone())
                } else {
                    Some(hex::encode(file_sha256(&e.path).map_err(named)?))
                };
                if let Some(d) = digest {
                    sha256.insert(e.name.clone(), d);
                }
            }
        }
        let formats = if spec.inspect_formats {
            let mut reports = Vec::with_capacity(entries.len());
            for e in &entries {
                reports.push(inspect_file(&e.path, &e.name)?);
            }
            Some(reports)
        } else {
            None
        };
        Ok(Hashed {
            resources,
            formats,
            notes: Vec::new(),
            sha256,
        })
    }
}
