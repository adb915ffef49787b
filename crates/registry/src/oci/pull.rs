//! Pulling a model into a directory: every blob streamed once, checked
//! against its digest, written under a staging directory beside the target
//! that is renamed into place only when everything matched.

use super::manifest::LayerKind;
use super::{OciError, OciSource};
use crate::digest::{NameList, ProgressFn};
use crate::{Error, Result};
use std::io::{Read, Write};
use std::path::{Path, PathBuf};

/// What a pull wrote.
#[derive(Debug, Clone, serde::Serialize)]
pub struct Pulled {
    /// The directory written.
    pub dir: PathBuf,
    /// How many files were written.
    pub files: usize,
    /// How many bytes of blobs were downloaded.
    pub bytes: u64,
}

/// Removes the staging directory unless it was put in place.
struct Staging {
    path: PathBuf,
    done: bool,
}

impl Drop for Staging {
    fn drop(&mut self) {
        if !self.done {
            let _ = std::fs::remove_dir_all(&self.path);
        }
    }
}

/// Which files a pull writes.
pub(super) enum Keep<'a> {
    /// Every model file of the layers (a private copy, say for a BOM).
    All,
    /// Only these names (the files a verification checked); the rest of
    /// the layers is read, to check their digests, but not written.
    Only(&'a NameList),
}

impl Keep<'_> {
    fn keeps(&self, name: &str) -> bool {
        match self {
            Keep::All => true,
            Keep::Only(names) if names.is_sorted() => names.find_sorted(name).is_some(),
            Keep::Only(names) => names.iter().any(|n| n == name),
        }
    }
}

pub(super) fn pull(
    source: &OciSource,
    dir: &Path,
    keep: Keep<'_>,
    progress: ProgressFn<'_>,
) -> Result<Pulled> {
    if dir.symlink_metadata().is_ok() {
        return Err(Error::Exists(dir.to_path_buf()));
    }
    let parent = match dir.parent() {
        Some(p) if !p.as_os_str().is_empty() => p.to_path_buf(),
        _ => PathBuf::from("."),
    };
    let base = dir
        .file_name()
        .ok_or_else(|| Error::Usage(format!("{} names no directory", dir.display())))?;
    let mut staging = Staging {
        path: parent.join(format!(
            ".{}.modelseal-pull.{}",
            base.to_string_lossy(),
            std::process::id()
        )),
        done: false,
    };
    std::fs::create_dir(&staging.path).map_err(|e| Error::io(&staging.path, e))?;
    let layers = &source.layout.layers;
    progress.set_total(layers.iter().map(|l| l.descriptor.size).sum());
    let mut files = 0;
    let mut bytes = 0;
    let mut outside = Vec::new();
    let budget = super::tar::OutsideBudget::new();
    for layer in layers {
        let digest = &layer.descriptor.digest;
        match &layer.kind {
            LayerKind::Raw { name } => {
                let mut reader = source.registry.blob(digest, layer.descriptor.size, name)?;
                if keep.keeps(name) {
                    write_file(&staging.path, name, &mut reader, progress)?;
                    files += 1;
                }
                reader.finish()?;
            }
            LayerKind::Tar { .. } => {
                let what = format!("layer {digest}");
                let reader = source.registry.blob(digest, layer.descriptor.size, &what)?;
                let counter = Counting {
                    inner: reader,
                    progress,
                };
                let mut seen = Vec::new();
                let counter = super::tar::read_tar_layer(
                    counter,
                    layer,
                    &mut seen,
                    &budget,
                    &mut |name, _, entry| {
                        if keep.keeps(name) {
                            write_file(&staging.path, name, entry, &|_: u64| {})?;
                            files += 1;
                        } else {
                            // Read (the layer's digest covers it), not written.
                            std::io::copy(entry, &mut std::io::sink()).map_err(|e| {
                                Error::from(OciError::unavailable_if_io(format!("{name}: {e}"), &e))
                            })?;
                        }
                        Ok(())
                    },
                )?;
                counter.inner.finish()?;
                outside.push((digest.as_str(), seen));
            }
        }
        bytes += layer.descriptor.size;
    }
    super::tar::links_across_layers(outside.iter().map(|(d, o)| (*d, o.as_slice())))?;
    if let Keep::Only(names) = keep
        && files != names.len()
    {
        return Err(OciError::Manifest {
            digest: source.manifest_digest().to_string(),
            reason: format!(
                "the layers hold {files} of the {} files verified",
                names.len()
            ),
        }
        .into());
    }
    std::fs::rename(&staging.path, dir).map_err(|e| Error::io(dir, e))?;
    staging.done = true;
    Ok(Pulled {
        dir: dir.to_path_buf(),
        files,
        bytes,
    })
}

/// Counts a blob's bytes for progress as they are read.
struct Counting<'a, R> {
    inner: R,
    progress: ProgressFn<'a>,
}

impl<R: Read> Read for Counting<'_, R> {
    fn read(&mut self, buf: &mut [u8]) -> std::io::Result<usize> {
        let n = self.inner.read(buf)?;
        self.progress.advance(n as u64);
        Ok(n)
    }
}

/// Writes `name` (a checked relative name) under `root`; a name already
/// written is refused.
fn write_file(
    root: &Path,
    name: &str,
    reader: &mut dyn Read,
    progress: ProgressFn<'_>,
) -> Result<()> {
    let path = root.join(name);
    if let Some(parent) = path.parent() {
        std::fs::create_dir_all(parent).map_err(|e| Error::io(parent, e))?;
    }
    let mut file = std::fs::OpenOptions::new()
        .write(true)
        .create_new(true)
        .open(&path)
        .map_err(|e| {
            if e.kind() == std::io::ErrorKind::AlreadyExists {
                Error::from(OciError::UnsafeName {
                    layer: String::from("pull"),
                    name: name.to_string(),
                    reason: "two layers hold a file of the same name".into(),
                })
            } else {
                Error::io(&path, e)
            }
        })?;
    let mut buf = vec![0u8; 1 << 18];
    loop {
        let n = match reader.read(&mut buf) {
            Ok(0) => break,
            Ok(n) => n,
            Err(e) if e.kind() == std::io::ErrorKind::Interrupted => continue,
            Err(e) => return Err(OciError::unavailable_if_io(format!("{name}: {e}"), &e).into()),
        };
        file.write_all(&buf[..n]).map_err(|e| Error::io(&path, e))?;
        progress.advance(n as u64);
    }
    file.sync_all().map_err(|e| Error::io(&path, e))?;
    Ok(())
}
