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

/// Copies `path` to `store/<sha256>` if its bytes have that digest.
fn copy_if_same(path: &Path, sha256: &str, store: &Path) -> Result<InputOutcome> {
    use sha2::Digest;
    let valid = sha256.len() == 64 && sha256.bytes().all(|b| b.is_ascii_hexdigit());
    if !valid {
        return Ok(InputOutcome::Missing);
    }
    let target = store.join(sha256);
    let relative = format!("{INPUTS_DIR}/{sha256}");
    if target.exists() {
        return Ok(InputOutcome::Copied { path: relative });
    }
    // Only a regular file: never a device or a FIFO, whose very opening
    // can block; checked before opening, and again on what was opened.
    if !std::fs::metadata(path).is_ok_and(|m| m.is_file()) {
        return Ok(InputOutcome::Missing);
    }
    let file = match std::fs::File::open(path) {
        Ok(f) if f.metadata().is_ok_and(|m| m.is_file()) => f,
        _ => return Ok(InputOutcome::Missing),
    };
    if file.metadata().map_err(|e| Error::io(path, e))?.len() > MAX_INPUT {
        return Ok(InputOutcome::TooLarge);
    }
    std::fs::create_dir_all(store).map_err(|e| Error::io(store, e))?;
    let partial = store.join(format!(".{sha256}.part"));
    let mut copy = std::fs::File::create(&partial).map_err(|e| Error::io(&partial, e))?;
    let mut hasher = sha2::Sha256::new();
    let mut reader = file.take(MAX_INPUT + 1);
    let mut buf = vec![0u8; 1 << 20];
    let mut total = 0u64;
    loop {
        let n = match reader.read(&mut buf) {
            Ok(0) => break,
            Ok(n) => n,
            Err(e) if e.kind() == std::io::ErrorKind::Interrupted => continue,
            Err(e) => {
                let _ = std::fs::remove_file(&partial);
                return Err(Error::io(path, e));
            }
        };
        total += n as u64;
        hasher.update(&buf[..n]);
        copy.write_all(&buf[..n])
            .map_err(|e| Error::io(&partial, e))?;
    }
    let found = hex::encode(hasher.finalize());
    if total > MAX_INPUT || found != sha256 {
        let _ = std::fs::remove_file(&partial);
        return Ok(if total > MAX_INPUT {
            InputOutcome::TooLarge
        } else {
            InputOutcome::Changed { found }
        });
    }
    copy.sync_all().map_err(|e| Error::io(&partial, e))?;
    std::fs::rename(&partial, &target).map_err(|e| Error::io(&target, e))?;
    Ok(InputOutcome::Copied { path: relative })
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
        assert_eq!(out, InputOutcome::Missing);
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
