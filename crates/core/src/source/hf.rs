//! A model in the local Hugging Face cache: `hf://ORG/NAME[@REVISION]`,
//! resolved without any network access.
//!
//! The cache (`$HF_HUB_CACHE`, else `$HF_HOME/hub`, else
//! `~/.cache/huggingface/hub`) keeps each repository in
//! `models--ORG--NAME/`: the file contents in `blobs/`, one directory per
//! commit in `snapshots/<commit>/` whose files are relative symbolic links
//! into `../../blobs/`, and branch names in `refs/<name>` (a file holding
//! the commit). The model is the snapshot directory; its links are
//! followed while they stay inside the repository directory.

use super::{HashSpec, Hashed, ModelSource, SourceNote, local};
use crate::digest::{LinkScope, ProgressFn};
use crate::{Error, Result};
use std::path::{Path, PathBuf};

/// The URI scheme.
pub const SCHEME: &str = "hf://";

/// A snapshot of a model repository in the local Hugging Face cache.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct HfSource {
    org: Option<String>,
    name: String,
    commit: String,
    repo_dir: PathBuf,
    snapshot: PathBuf,
}

/// A repository name part: what the Hub allows, and nothing that could
/// leave the cache directory.
fn valid_part(part: &str) -> bool {
    !part.is_empty()
        && part.len() <= 96
        && part
            .bytes()
            .all(|b| b.is_ascii_alphanumeric() || matches!(b, b'-' | b'_' | b'.'))
        && !part.starts_with(['.', '-'])
        && !part.contains("..")
        && !part.contains("--")
}

fn is_hex(text: &str) -> bool {
    !text.is_empty() && text.bytes().all(|b| b.is_ascii_hexdigit())
}

impl HfSource {
    /// Whether `text` names a Hugging Face model (`hf://...`).
    pub fn is_uri(text: &str) -> bool {
        text.starts_with(SCHEME)
    }

    /// Resolves `hf://ORG/NAME[@REVISION]` in the hub cache directory
    /// `hub` (the caller finds it as `huggingface_hub` does: `HF_HUB_CACHE`,
    /// else `HF_HOME/hub`, else `~/.cache/huggingface/hub`). A missing
    /// repository, revision or snapshot is an error that says what to
    /// download.
    pub fn resolve(uri: &str, hub: &Path) -> Result<Self> {
        let bad = |why: &str| Error::Usage(format!("{uri}: {why}"));
        let rest = uri
            .strip_prefix(SCHEME)
            .ok_or_else(|| bad("not an hf:// URI"))?;
        let (repo, revision) = match rest.split_once('@') {
            Some((repo, rev)) => (repo, Some(rev)),
            None => (rest, None),
        };
        let (org, name) = match repo.split_once('/') {
            Some((org, name)) => (Some(org), name),
            None => (None, repo),
        };
        if !org.is_none_or(valid_part) || !valid_part(name) {
            return Err(bad(
                "expected hf://ORG/NAME[@REVISION] with a Hugging Face repository name",
            ));
        }
        let folder = match org {
            Some(org) => format!("models--{org}--{name}"),
            None => format!("models--{name}"),
        };
        let repo_dir = hub.join(&folder);
        if !repo_dir.is_dir() {
            return Err(bad(&format!(
                "not in the Hugging Face cache ({}); download it first (huggingface-cli download {repo})",
                repo_dir.display()
            )));
        }
        let revision = revision.unwrap_or("main");
        let commit = resolve_revision(&repo_dir, revision).map_err(|why| bad(&why.to_string()))?;
        let snapshot = repo_dir.join("snapshots").join(&commit);
        if !snapshot.is_dir() {
            return Err(bad(&format!(
                "revision {revision} (commit {commit}) has no snapshot in the cache ({}); download it first",
                snapshot.display()
            )));
        }
        Ok(HfSource {
            org: org.map(str::to_string),
            name: name.to_string(),
            commit,
            repo_dir,
            snapshot,
        })
    }

    /// `ORG/NAME`.
    pub fn repo_id(&self) -> String {
        match &self.org {
            Some(org) => format!("{org}/{}", self.name),
            None => self.name.clone(),
        }
    }

    /// The full commit hash of the snapshot.
    pub fn commit(&self) -> &str {
        &self.commit
    }

    /// The snapshot directory.
    pub fn snapshot(&self) -> &Path {
        &self.snapshot
    }

    /// The repository's cache directory (`models--ORG--NAME`).
    pub fn repo_dir(&self) -> &Path {
        &self.repo_dir
    }

    /// The package URL of the snapshot (`pkg:huggingface/ORG/NAME@COMMIT`).
    pub fn purl(&self) -> String {
        format!("pkg:huggingface/{}@{}", self.repo_id(), self.commit)
    }
}

/// Why a revision names no commit in the cache.
#[derive(Debug, thiserror::Error)]
enum RevisionError {
    #[error("{0:?} is not a revision name")]
    NotAName(String),
    #[error("{}: {source}", file.display())]
    Read {
        file: std::path::PathBuf,
        source: std::io::Error,
    },
    #[error("{} does not hold a commit hash", .0.display())]
    NotACommit(std::path::PathBuf),
    #[error("{} is not a ref file", .0.display())]
    NotARefFile(std::path::PathBuf),
    #[error("{0} looks like an abbreviated commit; give the full 40-hex commit")]
    Abbreviated(String),
    #[error("no revision {revision:?} in the cache ({} is missing); download it first", file.display())]
    Missing {
        revision: String,
        file: std::path::PathBuf,
    },
}

/// The commit a revision names: a full 40-hex commit, or a name under
/// `refs/`. Abbreviated commits are refused (a prefix can become
/// ambiguous; the cache never names snapshots by one).
fn resolve_revision(repo_dir: &Path, revision: &str) -> std::result::Result<String, RevisionError> {
    if revision.len() == 40 && is_hex(revision) {
        return Ok(revision.to_ascii_lowercase());
    }
    let safe = !revision.is_empty()
        && revision.len() <= 256
        && revision
            .split('/')
            .all(|c| !c.is_empty() && c != "." && c != ".." && !c.starts_with('.'))
        && !revision.contains(['\\', '\0']);
    if !safe {
        return Err(RevisionError::NotAName(revision.to_string()));
    }
    let ref_file = repo_dir.join("refs").join(revision);
    match std::fs::metadata(&ref_file) {
        Ok(meta) if meta.is_file() && meta.len() <= 256 => {
            let text =
                std::fs::read_to_string(&ref_file).map_err(|source| RevisionError::Read {
                    file: ref_file.clone(),
                    source,
                })?;
            let commit = text.trim();
            if commit.len() == 40 && is_hex(commit) {
                Ok(commit.to_ascii_lowercase())
            } else {
                Err(RevisionError::NotACommit(ref_file))
            }
        }
        Ok(_) => Err(RevisionError::NotARefFile(ref_file)),
        Err(_) if is_hex(revision) => Err(RevisionError::Abbreviated(revision.to_string())),
        Err(_) => Err(RevisionError::Missing {
            revision: revision.to_string(),
            file: ref_file,
        }),
    }
}

impl ModelSource for HfSource {
    fn name(&self) -> Result<String> {
        Ok(self.name.clone())
    }

    fn uri(&self) -> String {
        format!("{SCHEME}{}@{}", self.repo_id(), self.commit)
    }

    fn local_path(&self) -> Option<&Path> {
        Some(&self.snapshot)
    }

    fn is_single_file(&self) -> Result<bool> {
        Ok(false)
    }

    fn hash(&self, spec: &HashSpec<'_>, progress: ProgressFn<'_>) -> Result<Hashed> {
        let mut hashed = local::hash_tree(&self.snapshot, spec, progress)?;
        // Links into the repository's blobs are how the cache is laid out,
        // not worth a warning.
        let repo =
            std::fs::canonicalize(&self.repo_dir).map_err(|e| Error::io(&self.repo_dir, e))?;
        hashed.notes.retain(|note| match note {
            SourceNote::SymlinkOutsideRoot { target, .. } => !Path::new(target).starts_with(&repo),
            _ => true,
        });
        Ok(hashed)
    }

    fn repository_scope(&self) -> Option<LinkScope> {
        Some(LinkScope::Within(self.repo_dir.clone()))
    }

    fn bundle_size_limit(&self) -> Result<u64> {
        local::tree_bundle_limit(&self.snapshot)
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::fs;

    /// A cache with one repository `org/model`: commit `c1` on `main`.
    fn cache() -> (tempfile::TempDir, String) {
        let hub = tempfile::tempdir().unwrap();
        let repo = hub.path().join("models--org--model");
        let commit = "0123456789abcdef0123456789abcdef01234567".to_string();
        fs::create_dir_all(repo.join("blobs")).unwrap();
        fs::create_dir_all(repo.join("refs/pr")).unwrap();
        fs::create_dir_all(repo.join("snapshots").join(&commit)).unwrap();
        fs::write(repo.join("blobs/b1"), "{}").unwrap();
        std::os::unix::fs::symlink(
            "../../blobs/b1",
            repo.join("snapshots").join(&commit).join("config.json"),
        )
        .unwrap();
        fs::write(repo.join("refs/main"), format!("{commit}\n")).unwrap();
        fs::write(repo.join("refs/pr/1"), &commit).unwrap();
        (hub, commit)
    }

    #[test]
    fn resolves_refs_and_full_commits() {
        let (hub, commit) = cache();
        for uri in [
            "hf://org/model".to_string(),
            "hf://org/model@main".to_string(),
            "hf://org/model@pr/1".to_string(),
            format!("hf://org/model@{commit}"),
            format!("hf://org/model@{}", commit.to_uppercase()),
        ] {
            let s = HfSource::resolve(&uri, hub.path()).unwrap();
            assert_eq!(s.commit(), commit, "{uri}");
            assert_eq!(s.name().unwrap(), "model");
            assert_eq!(s.uri(), format!("hf://org/model@{commit}"));
            assert_eq!(s.purl(), format!("pkg:huggingface/org/model@{commit}"));
        }
    }

    #[test]
    fn refuses_what_it_cannot_resolve_in_one_line() {
        let (hub, _) = cache();
        for (uri, want) in [
            ("hf://org/other", "not in the Hugging Face cache"),
            ("hf://org/model@dev", "no revision \"dev\""),
            ("hf://org/model@0123456", "abbreviated commit"),
            (
                "hf://org/model@1111111111111111111111111111111111111111",
                "has no snapshot",
            ),
            ("hf://org/../etc", "expected hf://ORG/NAME"),
            ("hf://org/model@../../x", "not a revision name"),
            ("hf://", "expected hf://ORG/NAME"),
        ] {
            let err = HfSource::resolve(uri, hub.path()).unwrap_err().to_string();
            assert!(err.contains(want), "{uri}: {err}");
            assert!(!err.contains('\n'), "{err}");
        }
    }
}
