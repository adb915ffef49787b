//! Judging a registry file's format from the bytes as they stream past.
//!
//! Until the streaming sniffer (`formats::Sniffer`) is on this branch, the
//! bytes are spooled to a private temporary file and judged there by
//! `formats::inspect_file` once the file has ended: still one read from the
//! registry, and the verdict is about exactly the bytes that were hashed.

use crate::formats::{FileReport, inspect_file};
use crate::{Error, Result};
use std::io::Write;

/// A format judgement in progress.
pub(crate) struct Judge {
    name: String,
    spool: tempfile::NamedTempFile,
}

impl Judge {
    /// Starts judging the file `name`.
    pub fn new(name: &str) -> Result<Self> {
        let spool = tempfile::NamedTempFile::new()
            .map_err(|e| Error::io(std::env::temp_dir(), e))?;
        Ok(Judge {
            name: name.to_string(),
            spool,
        })
    }

    /// The next bytes of the file.
    pub fn update(&mut self, bytes: &[u8]) -> Result<()> {
        self.spool
            .write_all(bytes)
            .map_err(|e| Error::io(self.spool.path(), e))
    }

    /// The verdict on the whole file.
    pub fn finish(mut self) -> Result<FileReport> {
        self.spool
            .flush()
            .map_err(|e| Error::io(self.spool.path(), e))?;
        inspect_file(self.spool.path(), &self.name)
    }
}
