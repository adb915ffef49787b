//! The files an exported log's records name (signature bundles, BOMs and
//! their bundles, policies), copied beside the export by their content,
//! so that an auditor can redo a sampled verification offline with the
//! very bytes the record digested.

use crate::record::{Predicate, Record, ResourceRef};
use crate::{Error, Result};
use serde::Serialize;
use std::collections::BTreeMap;
use std::io::{Read, Write};
use std::path::{Path, PathBuf};

/// Where copied inputs go inside an export: `inputs/sha256/<hex>`.
pub const INPUTS_DIR: &str = "inputs/sha256";

/// The largest input copied: BOMs of large datasets are big, but a
/// record's file is never read without end.
pub const MAX_INPUT: u64 = 4 << 30;

/// What became of one file a record names.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
#[serde(tag = "outcome", rename_all = "kebab-case")]
#[non_exhaustive]
pub enum InputOutcome {
    /// Found with the recorded digest, and copied.
    Copied {
        /// Its path inside the export (`inputs/sha256/<hex>`).
        path: String,
    },
    /// Not found where the record says (moved, deleted, or recorded on
    /// another machine).
    Missing,
    /// Not a regular file where the record says (a symbolic link, a
    /// directory, a device, a FIFO): not opened.
    NotRegular,
    /// Found, but it could not be read whole.
    Unreadable {
        /// Why.
        reason: String,
    },
    /// The record's digest is not 64 hex digits.
    BadDigest,
    /// Found, but its bytes no longer have the recorded digest: not
    /// copied.
    Changed {
        /// The digest of what is there now.
        found: String,
    },
    /// Not a local file (a URL, a registry referrer): not fetched.
    NotLocal,
    /// Larger than [`MAX_INPUT`]: not copied.
    TooLarge,
}

impl std::fmt::Display for InputOutcome {
    /// The outcome in a few words: "copied to PATH", or why not.
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            InputOutcome::Copied { path } => write!(f, "copied to {path}"),
            InputOutcome::Missing => f.write_str("not found"),
            InputOutcome::NotRegular => {
                f.write_str("not a regular file (a link, a directory, a device): not opened")
            }
            InputOutcome::Unreadable { reason } => write!(f, "unreadable: {reason}"),
            InputOutcome::BadDigest => f.write_str("the record's digest is not 64 hex digits"),
            InputOutcome::Changed { found } => {
                write!(f, "changed since recorded (now sha256:{found})")
            }
            InputOutcome::NotLocal => f.write_str("not a local file"),
            InputOutcome::TooLarge => f.write_str("too large to copy"),
        }
    }
}

/// One file the exported records name, and what became of it.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct ExportedInput {
    /// Where the record says it was.
    pub uri: String,
    /// Its recorded SHA-256.
    pub sha256: String,
    /// The records (positions from 0) that name it.
    pub records: Vec<usize>,
    /// What became of it.
    #[serde(flatten)]
    pub outcome: InputOutcome,
}

/// The files `records` name with a SHA-256: each (location, digest) once,
/// with the records that name it, in order of first mention.
pub fn named_inputs(records: &[Record]) -> Vec<(ResourceRef, Vec<usize>)> {
    let mut order: Vec<(String, String)> = Vec::new();
    let mut found: BTreeMap<(String, String), (ResourceRef, Vec<usize>)> = BTreeMap::new();
    for r in records {
        let refs: Vec<&ResourceRef> = match &r.predicate {
            Predicate::Sign(s) => [Some(&s.signature), s.bom.as_ref(), s.bom_signature.as_ref()]
                .into_iter()
                .flatten()
                .collect(),
            Predicate::Bom(b) => [Some(&b.bom), b.bom_signature.as_ref()]
                .into_iter()
                .flatten()
                .collect(),
            Predicate::Verification(v) => std::iter::once(&v.policy)
                .chain(&v.input_attestations)
                .collect(),
            _ => Vec::new(),
        };
        for res in refs {
            let Some(sha256) = res.digest.as_ref().and_then(|d| d.get("sha256")) else {
                continue;
            };
            let key = (res.uri.clone(), sha256.to_ascii_lowercase());
            match found.get_mut(&key) {
                Some((_, at)) => {
                    if at.last() != Some(&r.index) {
                        at.push(r.index);
                    }
                }
                None => {
                    order.push(key.clone());
                    found.insert(key, (res.clone(), vec![r.index]));
                }
            }
        }
    }
    order.into_iter().filter_map(|k| found.remove(&k)).collect()
}

/// Copies every local file `records` name into `dir`/[`INPUTS_DIR`] under
/// its SHA-256, when it still has the recorded digest; relative
/// locations are resolved against `base` (where the records were made,
/// as far as the exporter knows). Each file is read once, streamed, at
/// most [`MAX_INPUT`] bytes. Returns what became of each.
pub fn export_inputs(records: &[Record], dir: &Path, base: &Path) -> Result<Vec<ExportedInput>> {
    let store = dir.join(INPUTS_DIR);
    let mut out = Vec::new();
    for (res, at) in named_inputs(records) {
        let sha256 = res
            .digest
            .as_ref()
            .and_then(|d| d.get("sha256"))
            .map(|d| d.to_ascii_lowercase())
            .unwrap_or_default();
        let outcome = match local_path(&res.uri, base) {
            None => InputOutcome::NotLocal,
            Some(path) => copy_if_same(&path, &sha256, &store)?,
        };
        out.push(ExportedInput {
            uri: res.uri.clone(),
            sha256,
            records: at,
            outcome,
        });
    }
    Ok(out)
}

/// The local file a recorded location names: a plain path (relative ones
/// against `base`) or a `file://` URI; `None` for anything else.
fn local_path(uri: &str, base: &Path) -> Option<PathBuf> {
    if let Some(rest) = uri.strip_prefix("file://") {
        return rest.starts_with('/').then(|| PathBuf::from(rest));
    }
    // A scheme (`https:`, `oci:`, `modelseal:`) is not a local path; a
    // Windows drive letter is not expected in these records.
    let scheme = uri.split_once(':').is_some_and(|(s, _)| {
        !s.is_empty()
            && s.bytes()
                .all(|b| b.is_ascii_alphanumeric() || b"+.-".contains(&b))
    });
    if scheme || uri.is_empty() {
        return None;
    }
    let path = Path::new(uri);
    Some(if path.is_absolute() {
        path.to_path_buf()
    } else {
        base.join(path)
    })
}

/// Copies `path` to `store/<sha256>` if its bytes have that digest. Only a
/// regular file is opened (a symbolic link, which could lead to anything,
/// is not followed), and at most the bytes its size announced are read.
fn copy_if_same(path: &Path, sha256: &str, store: &Path) -> Result<InputOutcome> {
    use sha2::Digest;
    use std::os::unix::fs::MetadataExt;
    let valid = sha256.len() == 64 && sha256.bytes().all(|b| b.is_ascii_hexdigit());
    if !valid {
        return Ok(InputOutcome::BadDigest);
    }
    let unreadable = |e: std::io::Error| InputOutcome::Unreadable {
        reason: e.to_string(),
    };
    let meta = match std::fs::symlink_metadata(path) {
        Ok(m) => m,
        Err(e) if e.kind() == std::io::ErrorKind::NotFound => return Ok(InputOutcome::Missing),
        Err(e) => return Ok(unreadable(e)),
    };
    if !meta.file_type().is_file() {
        return Ok(InputOutcome::NotRegular);
    }
    if meta.len() > MAX_INPUT {
        return Ok(InputOutcome::TooLarge);
    }
    let file = match std::fs::File::open(path) {
        Ok(f) => f,
        Err(e) => return Ok(unreadable(e)),
    };
    // What was opened is what was looked at (not a file swapped in since).
    match file.metadata() {
        Ok(m) if m.is_file() && m.dev() == meta.dev() && m.ino() == meta.ino() => {}
        Ok(_) => return Ok(InputOutcome::NotRegular),
        Err(e) => return Ok(unreadable(e)),
    }
    std::fs::create_dir_all(store).map_err(|e| Error::io(store, e))?;
    let partial = store.join(format!(".{sha256}.{}.part", std::process::id()));
    let mut copy = std::fs::File::create(&partial).map_err(|e| Error::io(&partial, e))?;
    let mut hasher = sha2::Sha256::new();
    let mut reader = file.take(meta.len() + 1);
    let mut buf = vec![0u8; 1 << 20];
    let mut total = 0u64;
    let outcome = loop {
        let n = match reader.read(&mut buf) {
            Ok(0) => break None,
            Ok(n) => n,
            Err(e) if e.kind() == std::io::ErrorKind::Interrupted => continue,
            Err(e) => break Some(unreadable(e)),
        };
        total += n as u64;
        hasher.update(&buf[..n]);
        if let Err(e) = copy.write_all(&buf[..n]) {
            let _ = std::fs::remove_file(&partial);
            return Err(Error::io(&partial, e));
        }
    };
    let outcome = outcome.unwrap_or_else(|| {
        let found = hex::encode(hasher.finalize());
        if total != meta.len() {
            InputOutcome::Unreadable {
                reason: format!(
                    "{total} bytes read where its size said {}: it changed while read",
                    meta.len()
                ),
            }
        } else if found != sha256 {
            InputOutcome::Changed { found }
        } else {
            InputOutcome::Copied {
                path: format!("{INPUTS_DIR}/{sha256}"),
            }
        }
    });
    if !matches!(outcome, InputOutcome::Copied { .. }) {
        let _ = std::fs::remove_file(&partial);
        return Ok(outcome);
    }
    copy.sync_all().map_err(|e| Error::io(&partial, e))?;
    let target = store.join(sha256);
    if target.exists() {
        // The same bytes, named by another record or location.
        let _ = std::fs::remove_file(&partial);
    } else {
        std::fs::rename(&partial, &target).map_err(|e| Error::io(&target, e))?;
    }
    Ok(outcome)
}

#[cfg(test)]
mod tests {
    use super::*;

    /// A FIFO where a record names a file is not opened (opening it would
    /// wait for a writer): it is missing, at once.
    #[test]
    fn a_fifo_is_not_opened() {
        let dir = tempfile::tempdir().unwrap();
        let fifo = dir.path().join("model.sig");
        let made = std::process::Command::new("mkfifo")
            .arg(&fifo)
            .status()
            .unwrap();
        assert!(made.success());
        let out = copy_if_same(&fifo, &"ab".repeat(32), &dir.path().join("store")).unwrap();
        assert_eq!(out, InputOutcome::NotRegular);
        // Nor is a symbolic link followed (it could lead anywhere).
        let link = dir.path().join("policy.toml");
        std::os::unix::fs::symlink("/etc/hostname", &link).unwrap();
        let out = copy_if_same(&link, &"ab".repeat(32), &dir.path().join("store")).unwrap();
        assert_eq!(out, InputOutcome::NotRegular);
        // A file whose size says 0 but which reads on (as /proc files do)
        // is read one byte past its size, no more.
        let out = copy_if_same(
            Path::new("/proc/self/status"),
            &"ab".repeat(32),
            &dir.path().join("store"),
        )
        .unwrap();
        assert!(matches!(out, InputOutcome::Unreadable { .. }), "{out:?}");
        // Two locations with the same bytes: each is checked on its own.
        let a = dir.path().join("a.toml");
        std::fs::write(&a, b"x").unwrap();
        let hex = {
            use sha2::Digest;
            hex::encode(sha2::Sha256::digest(b"x"))
        };
        let store = dir.path().join("store");
        assert!(matches!(
            copy_if_same(&a, &hex, &store).unwrap(),
            InputOutcome::Copied { .. }
        ));
        let gone = dir.path().join("gone.toml");
        assert_eq!(
            copy_if_same(&gone, &hex, &store).unwrap(),
            InputOutcome::Missing
        );
    }

    #[test]
    fn only_local_paths_are_looked_up() {
        let base = Path::new("/work");
        assert_eq!(
            local_path("model.sig", base),
            Some(PathBuf::from("/work/model.sig"))
        );
        assert_eq!(
            local_path("/abs/p.toml", base),
            Some(PathBuf::from("/abs/p.toml"))
        );
        assert_eq!(
            local_path("file:///abs/x", base),
            Some(PathBuf::from("/abs/x"))
        );
        for remote in [
            "https://example.org/model.sig",
            "oci://registry/repo@sha256:00",
            "modelseal:policy/signature-only",
            "",
        ] {
            assert_eq!(local_path(remote, base), None, "{remote}");
        }
    }
}
