//! Where a model's bytes are. A [`ModelSource`] yields the signed resources
//! (names and digests, and the bytes where they must be read): a local
//! directory or file today, and other places (a registry, a cache) behind
//! the same trait, so the verify pipeline and the gate never ask where a
//! model lives. The OMS manifest of a model is the same wherever it is.

mod hf;
mod local;
mod reports;

pub use hf::HfSource;
pub use local::LocalSource;
pub use reports::{FormatReports, ReportRef};

use crate::Result;
use crate::digest::{HashAlgorithm, IgnoreSet, LinkScope, Method, ProgressFn, Resources};
use serde::Serialize;
use std::collections::{BTreeMap, BTreeSet};
use std::path::Path;

/// What to hash and how.
#[derive(Debug, Clone)]
#[non_exhaustive]
pub struct HashSpec<'a> {
    /// The file hash algorithm.
    pub algorithm: HashAlgorithm,
    /// Files or shards.
    pub method: Method,
    /// Follow symbolic links (as the OMS `allow_symlinks` says).
    pub allow_symlinks: bool,
    /// How far followed links may lead (the model root unless the caller
    /// opted in to more).
    pub link_scope: LinkScope,
    /// Paths left out, relative to the model root.
    pub ignore: &'a IgnoreSet,
    /// Hash only these files (resource names of files), when given; with
    /// `inspect_formats`, every file is still read and judged.
    pub only: Option<&'a BTreeSet<String>>,
    /// Judge each file's format from the bytes hashed.
    pub inspect_formats: bool,
    /// Files whose SHA-256 is wanted, from the same read that hashes them
    /// (a policy excepts files by digest).
    pub sha256_of: Option<&'a BTreeSet<String>>,
}

impl<'a> HashSpec<'a> {
    /// SHA-256 of whole files, leaving out `ignore`, links refused.
    pub fn new(ignore: &'a IgnoreSet) -> Self {
        HashSpec {
            algorithm: HashAlgorithm::Sha256,
            method: Method::Files,
            allow_symlinks: false,
            link_scope: LinkScope::WithinRoot,
            ignore,
            only: None,
            inspect_formats: false,
            sha256_of: None,
        }
    }
}

/// What a source found.
#[derive(Debug, Clone, Default)]
#[non_exhaustive]
pub struct Hashed {
    /// The resources, sorted by name.
    pub resources: Resources,
    /// Each file's format, judged from the bytes that were hashed (when
    /// asked for).
    pub formats: Option<FormatReports>,
    /// How each part of the model was checked, where it matters (a registry
    /// layer trusted by its digest, or read).
    pub notes: Vec<SourceNote>,
    /// The SHA-256 (hex) of the files [`HashSpec::sha256_of`] names that
    /// were found.
    pub sha256: BTreeMap<String, String>,
}

/// How one part of a model was checked.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
#[serde(tag = "kind", rename_all = "kebab-case")]
#[non_exhaustive]
pub enum SourceNote {
    /// The file's digest was taken from a content-addressed store without
    /// reading its bytes.
    DigestOnly {
        /// The resource name.
        path: String,
        /// Where the digest came from (e.g. a registry layer digest).
        from: String,
    },
    /// The file's bytes were read (hashed, and judged when asked).
    Read {
        /// The resource name.
        path: String,
        /// Where it was read from.
        from: String,
    },
    /// A symbolic link was followed to a target outside the model root.
    SymlinkOutsideRoot {
        /// The link's resource name.
        path: String,
        /// Where it resolves.
        target: String,
    },
    /// A symbolic link points to a directory on its own path; it was not
    /// followed.
    SymlinkCycle {
        /// The link's resource name.
        path: String,
    },
    /// Part of what will run is not covered by the model's signature: in a
    /// container image that carries a model under `/models` (a ModelCar),
    /// the image config (entrypoint, command, environment) and every file
    /// outside `/models`.
    NotCovered {
        /// What is not covered.
        what: String,
    },
    /// The rest of a container image is covered by a signature over its
    /// manifest (the policy's container image signers): its config and
    /// every layer.
    ImageSigned {
        /// The manifest's digest.
        manifest: String,
        /// Who signed it, as the policy names them.
        signer: String,
        /// Where the signature was found.
        bundle: String,
    },
}

impl std::fmt::Display for SourceNote {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            SourceNote::DigestOnly { path, from } => {
                write!(f, "{path}: checked by the digest of {from}, not downloaded")
            }
            SourceNote::Read { path, from } => write!(f, "{path}: read from {from}"),
            SourceNote::SymlinkOutsideRoot { path, target } => write!(
                f,
                "{path}: symbolic link leads outside the model root (to {target})"
            ),
            SourceNote::SymlinkCycle { path } => write!(
                f,
                "{path}: symbolic link makes a cycle and was not followed"
            ),
            SourceNote::NotCovered { what } => {
                write!(f, "not covered by the signature: {what}")
            }
            SourceNote::ImageSigned {
                manifest,
                signer,
                bundle,
            } => write!(
                f,
                "the image manifest {manifest} (its config and every layer) is signed by {signer} ({bundle})"
            ),
        }
    }
}

impl From<crate::digest::WalkNote> for SourceNote {
    fn from(note: crate::digest::WalkNote) -> Self {
        match note {
            crate::digest::WalkNote::LinkOutsideRoot { path, target } => {
                SourceNote::SymlinkOutsideRoot { path, target }
            }
            crate::digest::WalkNote::LinkCycle { path } => SourceNote::SymlinkCycle { path },
        }
    }
}

/// The OMS manifest of the model in `source`, made as `options` say (what
/// `sign` signs and `hash` prints).
pub fn manifest(
    source: &dyn ModelSource,
    options: &crate::digest::HashOptions,
    progress: ProgressFn<'_>,
) -> Result<crate::digest::Manifest> {
    manifest_with_notes(source, options, progress).map(|(m, _)| m)
}

/// As [`manifest`], with what the source noted on the way (links followed
/// out of the model root, link cycles not followed).
pub fn manifest_with_notes(
    source: &dyn ModelSource,
    options: &crate::digest::HashOptions,
    progress: ProgressFn<'_>,
) -> Result<(crate::digest::Manifest, Vec<SourceNote>)> {
    if let Method::Shards { shard_size: 0 } = options.method {
        return Err(crate::Error::Usage(
            "the shard size must be positive".into(),
        ));
    }
    let mut spec = HashSpec::new(&options.ignore);
    spec.algorithm = options.algorithm;
    spec.method = options.method;
    spec.allow_symlinks = options.allow_symlinks;
    spec.link_scope = options.link_scope.clone();
    let hashed = source.hash(&spec, progress)?;
    if hashed.resources.is_empty() {
        // No file left, or only empty files in shards mode.
        return Err(crate::Error::Walk(crate::digest::WalkError::Empty {
            path: source.uri(),
        }));
    }
    let manifest = crate::digest::Manifest {
        resources: hashed.resources,
        serialization: crate::digest::Serialization {
            method: options.method,
            hash_type: options.algorithm.name().to_string(),
            allow_symlinks: options.allow_symlinks,
            ignore_paths: Some(options.ignore.paths().to_vec()),
        },
    };
    Ok((manifest, hashed.notes))
}

/// The size below which a signature bundle is read whatever the model:
/// room for about 300,000 resources.
pub const BASE_BUNDLE_SIZE: u64 = 64 << 20;

/// A place a model's bytes can be found and hashed.
pub trait ModelSource: Sync + std::fmt::Debug {
    /// The model's name as the OMS subject names it (the base name).
    fn name(&self) -> Result<String>;

    /// How records and verdicts name the model (a `file://` URI, a registry
    /// reference pinned by digest, ...).
    fn uri(&self) -> String;

    /// The local directory or file, for sources that have one (paths given
    /// by the user are resolved against it).
    fn local_path(&self) -> Option<&Path> {
        None
    }

    /// Whether the model is a single file (model_signing before 1.0 named
    /// its resource `.`).
    fn is_single_file(&self) -> Result<bool>;

    /// Enumerates and hashes the model as `spec` says.
    fn hash(&self, spec: &HashSpec<'_>, progress: ProgressFn<'_>) -> Result<Hashed>;

    /// The directory links may lead into without the verifier opting in,
    /// when the model lives inside one that is trusted as a whole (a
    /// Hugging Face cache repository); `None` keeps links inside the root.
    fn repository_scope(&self) -> Option<LinkScope> {
        None
    }

    /// The largest signature bundle a real signature of this model can
    /// be, so that reading one never refuses a real signature while a
    /// hostile file stays bounded. At least [`BASE_BUNDLE_SIZE`].
    fn bundle_size_limit(&self) -> Result<u64> {
        Ok(BASE_BUNDLE_SIZE)
    }

    /// For a model in a registry image: the image manifest's digest and
    /// the signature bundles attached to it, each downloaded (at most
    /// `max_bundle` bytes) only when the iterator reaches it; bundles that
    /// cannot be read are passed over. `None` for other sources.
    fn image_signatures(&self, max_bundle: u64) -> Result<Option<ImageSignatures<'_>>> {
        let _ = max_bundle;
        Ok(None)
    }
}

/// The signature bundles attached to a registry image (see
/// [`ModelSource::image_signatures`]).
pub struct ImageSignatures<'a> {
    /// The image manifest's digest (`sha256:...`).
    pub manifest: String,
    /// Each bundle: where it is and its bytes.
    pub bundles: Box<dyn Iterator<Item = (String, Vec<u8>)> + 'a>,
}

impl std::fmt::Debug for ImageSignatures<'_> {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("ImageSignatures")
            .field("manifest", &self.manifest)
            .finish_non_exhaustive()
    }
}

#[cfg(test)]
mod tests {
    use super::SourceNote;

    #[test]
    fn notes_read_as_sentences_not_as_rust() {
        let note = SourceNote::DigestOnly {
            path: "model.safetensors".into(),
            from: "layer sha256:ab".into(),
        };
        assert_eq!(
            note.to_string(),
            "model.safetensors: checked by the digest of layer sha256:ab, not downloaded"
        );
        let link = SourceNote::SymlinkCycle { path: "a".into() };
        assert!(!link.to_string().contains('{'), "{link}");
    }
}
