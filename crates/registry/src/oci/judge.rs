//! Judging a registry file's format from the bytes as they stream past:
//! the same read hashes the file (or checks its layer digest) and feeds the
//! streaming sniffer, so the verdict is about exactly the bytes verified.

use crate::Result;
use crate::formats::{FileReport, Sniffer};

/// A format judgement in progress.
pub(crate) struct Judge {
    sniffer: Sniffer,
}

impl Judge {
    /// Starts judging the file `name`.
    pub fn new(name: &str) -> Result<Self> {
        Ok(Judge {
            sniffer: Sniffer::new(name),
        })
    }

    /// The next bytes of the file.
    pub fn update(&mut self, bytes: &[u8]) -> Result<()> {
        self.sniffer.update(bytes);
        Ok(())
    }

    /// The verdict on the whole file.
    pub fn finish(self) -> Result<FileReport> {
        Ok(self.sniffer.finish())
    }
}
