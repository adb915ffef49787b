//! Walking a model tree safely, hashing its files (or shards of them) in
//! parallel, and the resulting manifest with its root digest.
//!
//! This module knows nothing about signatures: it turns a path into a
//! [`Manifest`] exactly as the OMS v1.0 specification (section 6) says.

mod count;
mod file_list;
mod hash;
pub(crate) mod ignore;
mod manifest;
mod names;
mod walk;
mod walk_error;

pub use count::count_tree;
pub use file_list::{FileList, FileStat};
/// The streaming hasher of one file, for sources that hash bytes as they
/// arrive (registry layers).
pub use hash::Hasher;
pub use hash::{
    NoSink, Progress, ProgressFn, ReadSink, Sinks, file_sha256, hash_entries, hash_files,
    hash_files_with_sinks,
};
pub use ignore::{DEFAULT_IGNORES, IgnoreSet};
pub use manifest::{
    Manifest, NotHex, Resource, ResourceRef, Resources, Serialization, root_digest,
};
pub use names::NameList;
pub use walk::{
    Entry, LinkScope, MAX_DEPTH, MAX_LINKED_ENTRIES, MAX_LINKED_NAME_BYTES, WalkNote, WalkOptions,
    Walked, walk, walk_model,
};
pub use walk_error::WalkError;

use crate::{Error, Result};
use std::path::Path;

/// The default shard size of the spec (section 6.3.2): 1,000,000,000 bytes.
pub const DEFAULT_SHARD_SIZE: u64 = 1_000_000_000;

/// A file hashing algorithm from the OMS algorithm registry.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub enum HashAlgorithm {
    /// SHA-256 (required by the spec, the default).
    #[default]
    Sha256,
    /// BLAKE3 with a 256-bit output.
    Blake3,
}

impl HashAlgorithm {
    /// The registry identifier, as written in `hash_type` and `algorithm`.
    pub fn name(self) -> &'static str {
        match self {
            HashAlgorithm::Sha256 => "sha256",
            HashAlgorithm::Blake3 => "blake3",
        }
    }

    /// Parses a registry identifier; `None` for anything this tool cannot compute.
    pub fn from_name(name: &str) -> Option<Self> {
        match name {
            "sha256" => Some(HashAlgorithm::Sha256),
            "blake3" => Some(HashAlgorithm::Blake3),
            _ => None,
        }
    }
}

/// How files map to resources (OMS section 6.3).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub enum Method {
    /// One resource per file.
    #[default]
    Files,
    /// One resource per consecutive byte range of `shard_size` bytes.
    Shards {
        /// The shard size in bytes (positive).
        shard_size: u64,
    },
}

impl Method {
    /// The `serialization.method` string.
    pub fn name(self) -> &'static str {
        match self {
            Method::Files => "files",
            Method::Shards { .. } => "shards",
        }
    }
}

/// Everything that decides which files are hashed and how.
#[derive(Debug, Clone)]
pub struct HashOptions {
    /// The file hashing algorithm.
    pub algorithm: HashAlgorithm,
    /// Files or shards.
    pub method: Method,
    /// Follow symbolic links (OMS `allow_symlinks`).
    pub allow_symlinks: bool,
    /// How far links may lead: anywhere by default, as the OMS
    /// specification has a signer do (with a note for each target outside
    /// the root).
    pub link_scope: LinkScope,
    /// Paths excluded from the model, relative to its root.
    pub ignore: IgnoreSet,
}

impl Default for HashOptions {
    fn default() -> Self {
        HashOptions {
            algorithm: HashAlgorithm::default(),
            method: Method::default(),
            allow_symlinks: false,
            link_scope: LinkScope::Anywhere,
            ignore: IgnoreSet::default(),
        }
    }
}

/// Walks and hashes the model at `path` (a directory or a single file).
pub fn hash_model(path: &Path, options: &HashOptions) -> Result<Manifest> {
    hash_model_with_progress(path, options, &|_: u64| {})
}

/// As [`hash_model`], reporting hashed byte counts to `progress`.
pub fn hash_model_with_progress(
    path: &Path,
    options: &HashOptions,
    progress: ProgressFn<'_>,
) -> Result<Manifest> {
    if let Method::Shards { shard_size: 0 } = options.method {
        return Err(Error::Usage("the shard size must be positive".into()));
    }
    let walked = walk_model(
        path,
        &WalkOptions::new(options.allow_symlinks, &options.link_scope, &options.ignore),
    )?;
    let resources = hash_files(walked.files, options.algorithm, options.method, progress)?;
    if resources.is_empty() {
        // Shards of empty files produce no resources at all.
        return Err(Error::Walk(WalkError::Empty {
            path: path.display().to_string(),
        }));
    }
    Ok(Manifest {
        resources,
        serialization: Serialization {
            method: options.method,
            hash_type: options.algorithm.name().to_string(),
            allow_symlinks: options.allow_symlinks,
            ignore_paths: Some(options.ignore.paths().to_vec()),
        },
    })
}

/// The name of a model as the spec's subject wants it: the basename of the
/// path (after resolving `.` and `..`).
pub fn model_name(path: &Path) -> Result<String> {
    let canonical = std::fs::canonicalize(path).map_err(|e| Error::io(path, e))?;
    canonical
        .file_name()
        .and_then(|n| n.to_str())
        .map(str::to_string)
        .ok_or_else(|| {
            Error::Walk(WalkError::NoName {
                path: path.display().to_string(),
            })
        })
}
