//! Files written whole or not at all: each output is written to a fresh
//! temporary name beside its destination, synced, and renamed into place
//! only when everything it belongs with is ready.

use crate::{Error, Result};
use std::path::{Path, PathBuf};

/// A file written to a temporary name beside its destination, put in place
/// by [`Staged::commit`]; dropped uncommitted, it leaves nothing behind.
pub struct Staged {
    tmp: PathBuf,
    path: PathBuf,
    committed: bool,
}

impl Staged {
    /// Writes what `write` writes (synced to disk) beside `path`, and
    /// returns it with the SHA-256 (hex) of the bytes written.
    pub fn write_with(
        path: &Path,
        write: impl FnOnce(&mut dyn std::io::Write) -> std::io::Result<()>,
    ) -> Result<(Self, String)> {
        use std::io::Write;
        replaceable(path)?;
        let dir = match path.parent() {
            Some(d) if !d.as_os_str().is_empty() => d.to_path_buf(),
            _ => PathBuf::from("."),
        };
        let file_name = path
            .file_name()
            .ok_or_else(|| Error::Usage(format!("{} names no file", path.display())))?;
        // A fresh name, created only if nothing is there: never through a
        // link planted at a predictable name in a shared directory.
        let mut nonce = [0u8; 8];
        getrandom::fill(&mut nonce)
            .map_err(|e| Error::Usage(format!("no randomness for a temporary name: {e}")))?;
        let tmp = dir.join(format!(
            ".{}.{}.{}.tmp",
            file_name.to_string_lossy(),
            std::process::id(),
            hex::encode(nonce)
        ));
        let file = std::fs::OpenOptions::new()
            .write(true)
            .create_new(true)
            .open(&tmp)
            .map_err(|e| Error::io(path, e))?;
        let staged = Staged {
            tmp,
            path: path.to_path_buf(),
            committed: false,
        };
        let mut out = HashingWriter {
            inner: std::io::BufWriter::with_capacity(1 << 20, file),
            sha256: <sha2::Sha256 as sha2::Digest>::new(),
        };
        write(&mut out)
            .and_then(|()| out.inner.flush())
            .map_err(|e| Error::io(path, e))?;
        let HashingWriter { inner, sha256 } = out;
        let file = inner
            .into_inner()
            .map_err(|e| Error::io(path, e.into_error()))?;
        file.sync_all().map_err(|e| Error::io(path, e))?;
        Ok((staged, hex::encode(sha2::Digest::finalize(sha256))))
    }

    /// Whether the destination can still be replaced (a regular file, or
    /// nothing): checked for every file of a release before its record is
    /// appended, so that none is refused after it.
    pub fn ready(&self) -> Result<()> {
        replaceable(&self.path)
    }

    /// Renames the file into place (when what is there is still a
    /// regular file, or nothing).
    pub fn commit(mut self) -> Result<()> {
        replaceable(&self.path)?;
        std::fs::rename(&self.tmp, &self.path).map_err(|e| Error::io(&self.path, e))?;
        self.committed = true;
        Ok(())
    }
}

/// Refuses a destination that is there and is not a regular file: a
/// rename would replace a device (`/dev/null`), a FIFO, a socket or a
/// symbolic link itself, never write to it as the caller meant. Callers
/// check their outputs with it before any work.
pub fn replaceable(path: &Path) -> Result<()> {
    match std::fs::symlink_metadata(path) {
        Ok(meta) if meta.is_dir() => Err(Error::Usage(format!(
            "{} is a directory; name a file",
            path.display()
        ))),
        Ok(meta) if !meta.is_file() => Err(Error::Usage(format!(
            "{} is not a regular file (a link, a device, a FIFO or a socket): it is never replaced; name a file",
            path.display()
        ))),
        _ => Ok(()),
    }
}

/// A writer that hashes what passes through it.
struct HashingWriter<W> {
    inner: W,
    sha256: sha2::Sha256,
}

impl<W: std::io::Write> std::io::Write for HashingWriter<W> {
    fn write(&mut self, buf: &[u8]) -> std::io::Result<usize> {
        let n = self.inner.write(buf)?;
        sha2::Digest::update(&mut self.sha256, &buf[..n]);
        Ok(n)
    }

    fn flush(&mut self) -> std::io::Result<()> {
        self.inner.flush()
    }
}

impl Drop for Staged {
    fn drop(&mut self) {
        if !self.committed {
            let _ = std::fs::remove_file(&self.tmp);
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// A socket or a link at the destination is never replaced (as a
    /// device is not: a report written to `/dev/null` by root replaced it),
    /// and nothing is left beside it; a regular file is.
    #[test]
    fn only_a_regular_file_or_nothing_is_replaced() {
        let dir = tempfile::tempdir().unwrap();
        let write = |path: &Path| Staged::write_with(path, |w| w.write_all(b"x"));
        let socket = dir.path().join("socket");
        let _listener = std::os::unix::net::UnixListener::bind(&socket).unwrap();
        let link = dir.path().join("link");
        std::os::unix::fs::symlink(dir.path().join("target"), &link).unwrap();
        for path in [&socket, &link, dir.path()] {
            let err = write(path).err().expect("refused");
            assert!(matches!(err, Error::Usage(_)), "{}: {err}", path.display());
        }
        let regular = dir.path().join("report");
        std::fs::write(&regular, b"old").unwrap();
        let (staged, _) = write(&regular).unwrap();
        // Replaced by a link meanwhile: the commit refuses it too.
        std::fs::remove_file(&regular).unwrap();
        std::os::unix::fs::symlink(dir.path().join("target"), &regular).unwrap();
        assert!(staged.commit().is_err());
        let mut left: Vec<_> = std::fs::read_dir(dir.path())
            .unwrap()
            .map(|e| e.unwrap().file_name().into_string().unwrap())
            .collect();
        left.sort();
        assert_eq!(left, ["link", "report", "socket"]);
    }
}
