//! Exporting a log to the file form an auditor receives: the records the
//! checkpoint covers, as JSON Lines, and the stored checkpoint, copied
//! byte for byte. The export of any store verifies offline with the same
//! result as the store itself.

use super::log::checkpoint_path;
use super::store::EvidenceStore;
use super::verify::{LogCheck, VerifyOptions, verify_store};
use crate::{Error, Result};
use ed25519_dalek::VerifyingKey;
use std::io::Write;
use std::path::Path;

/// The exported log's file name (its checkpoint is beside it, with
/// `.checkpoint` appended).
pub const EXPORTED_LOG: &str = "evidence.jsonl";

/// Verifies the log in `store` and writes it to `dir` as
/// [`EXPORTED_LOG`] and its checkpoint; returns the check (with the
/// records). Existing files are not overwritten.
pub fn export_log(store: &dyn EvidenceStore, key: &VerifyingKey, dir: &Path) -> Result<LogCheck> {
    let log = dir.join(EXPORTED_LOG);
    let cp = checkpoint_path(&log);
    for path in [&log, &cp] {
        if path.exists() {
            return Err(Error::Exists(path.clone()));
        }
    }
    let file = std::fs::File::create_new(&log).map_err(|e| Error::io(&log, e))?;
    let mut out = std::io::BufWriter::new(file);
    let check = verify_store(
        store,
        key,
        VerifyOptions {
            older: None,
            keep_records: true,
            copy_to: Some(&mut out),
            now: None,
            keep_leaves: false,
        },
    );
    let check = match check {
        Ok(check) => check,
        Err(e) => {
            drop(out);
            let _ = std::fs::remove_file(&log);
            return Err(e);
        }
    };
    let file = out
        .into_inner()
        .map_err(|e| Error::io(&log, e.into_error()))?;
    file.sync_all().map_err(|e| Error::io(&log, e))?;
    if let Some(note) = &check.checkpoint_note {
        std::fs::File::create_new(&cp)
            .and_then(|mut f| {
                f.write_all(note.as_bytes())?;
                f.sync_all()
            })
            .map_err(|e| Error::io(&cp, e))?;
    }
    Ok(check)
}
