//! Cosigned checkpoints a store keeps: every checkpoint the log's witnesses
//! cosigned that was kept, in the order kept, so that witnessed times can be
//! looked up later (an audit as of a date relies on them), and the latest
//! one, relied on by verification.
//!
//! The store only keeps bytes: whether a note is this log's, a prefix of
//! it, and cosigned by a policy's quorum is checked by whoever reads it
//! (the witness crate), every time. The size and time kept beside each note
//! are hints for finding candidates, never trusted; whoever can write the
//! store can delete entries (which only loses witnessed times) but cannot
//! forge a cosignature.

use crate::log::{dir_of, with_suffix};
use crate::{Error, Result};
use base64::Engine;
use std::fs::{File, OpenOptions};
use std::io::{BufRead, BufReader, Read, Write};
use std::path::{Path, PathBuf};

/// Most bytes of one cosigned checkpoint note (a checkpoint and a few
/// hundred signature lines).
pub const MAX_COSIGNED_NOTE: usize = 64 << 10;
/// Most bytes of one RFC 3161 stamp kept beside a note.
pub const MAX_STAMP: usize = 64 << 10;
/// Most cosigned checkpoints a store is read for (more is refused: a
/// witnessing job that keeps one a minute for a year keeps about 525,600).
pub const MAX_KEPT_COSIGNED: u64 = 2_000_000;

/// A cosigned checkpoint as a store keeps it.
#[derive(Debug, Clone, PartialEq, Eq)]
#[non_exhaustive]
pub struct KeptCosigned {
    /// The tree size the note claims (a hint for finding it).
    pub size: u64,
    /// When the quorum had cosigned it, in seconds since the epoch, as
    /// computed when it was kept (a hint for finding it).
    pub witnessed_at: u64,
    /// The checkpoint note with its cosignature lines.
    pub note: String,
    /// An RFC 3161 stamp of the note's body, when one was made.
    pub stamp: Option<Vec<u8>>,
}

impl KeptCosigned {
    /// The tree size the note's body claims, unchecked (`None`: not a
    /// checkpoint note).
    pub fn claimed_size(&self) -> Option<u64> {
        claimed_size(&self.note)
    }

    /// A cosigned note to keep, with its size and quorum time (hints) and
    /// its stamp, if any. Refuses a note or stamp larger than a store keeps.
    pub fn new(size: u64, witnessed_at: u64, note: String, stamp: Option<Vec<u8>>) -> Result<Self> {
        if note.len() > MAX_COSIGNED_NOTE || stamp.as_ref().is_some_and(|s| s.len() > MAX_STAMP) {
            return Err(Error::Evidence(format!(
                "a cosigned checkpoint is kept up to {MAX_COSIGNED_NOTE} bytes, its stamp up to {MAX_STAMP}"
            )));
        }
        Ok(KeptCosigned {
            size,
            witnessed_at,
            note,
            stamp,
        })
    }
}

/// Where a file log keeps its latest cosigned checkpoint.
pub fn witnessed_path(log: &Path) -> PathBuf {
    with_suffix(log, ".witnessed")
}

/// Where a file log keeps the RFC 3161 stamp of its latest cosigned
/// checkpoint.
pub fn stamp_path(witnessed: &Path) -> PathBuf {
    with_suffix(witnessed, ".tsr")
}

/// Where a file log keeps every cosigned checkpoint kept, one per line.
pub fn history_path(log: &Path) -> PathBuf {
    with_suffix(log, ".witnessed.history")
}

const B64: base64::engine::GeneralPurpose = base64::engine::general_purpose::STANDARD;

/// One history line: size, quorum time, the note and the stamp (`-` for
/// none), the last two in base64, separated by spaces.
fn history_line(kept: &KeptCosigned) -> String {
    format!(
        "{} {} {} {}\n",
        kept.size,
        kept.witnessed_at,
        B64.encode(kept.note.as_bytes()),
        kept.stamp
            .as_ref()
            .map_or_else(|| "-".into(), |s| B64.encode(s))
    )
}

fn parse_history_line(line: &str) -> Option<KeptCosigned> {
    let mut parts = line.split(' ');
    let size = parts.next()?.parse().ok()?;
    let witnessed_at = parts.next()?.parse().ok()?;
    let note = String::from_utf8(B64.decode(parts.next()?).ok()?).ok()?;
    let stamp = match parts.next()? {
        "-" => None,
        s => Some(B64.decode(s).ok()?),
    };
    if parts.next().is_some() {
        return None;
    }
    KeptCosigned::new(size, witnessed_at, note, stamp).ok()
}

/// The longest history line read (a note and a stamp at their caps, in
/// base64, and two numbers).
const MAX_HISTORY_LINE: u64 = ((MAX_COSIGNED_NOTE + MAX_STAMP) as u64 / 3 + 2) * 4 + 64;

/// Replaces `path` durably with `bytes`: written beside it and flushed,
/// renamed over it, its directory flushed, so a reader sees the old file or
/// the new one, never half of one. The file beside it has a fresh name,
/// created only if nothing is there (two writers never share it, and a
/// link planted at a predictable name is never written through); a rename
/// replaces the name at `path`, not what a link there points at.
pub fn replace_file(path: &Path, bytes: &[u8]) -> std::io::Result<()> {
    let mut nonce = [0u8; 8];
    getrandom::fill(&mut nonce).map_err(|e| std::io::Error::other(e.to_string()))?;
    let tmp = with_suffix(
        path,
        &format!(".{}.{}.tmp", std::process::id(), hex::encode(nonce)),
    );
    let written = write_then_rename(&tmp, path, bytes);
    if written.is_err() {
        let _ = std::fs::remove_file(&tmp);
    }
    written
}

fn write_then_rename(tmp: &Path, path: &Path, bytes: &[u8]) -> std::io::Result<()> {
    let mut file = File::create_new(tmp)?;
    file.write_all(bytes)?;
    file.sync_all()?;
    std::fs::rename(tmp, path)?;
    sync_parent(path)
}

fn sync_parent(path: &Path) -> std::io::Result<()> {
    File::open(dir_of(path))?.sync_all()
}

/// The size a checkpoint note's body claims (its second line), unchecked.
fn claimed_size(note: &str) -> Option<u64> {
    note.lines().nth(1)?.parse().ok()
}

/// A file log's cosigned checkpoints, kept beside `log`: the history
/// (appended and flushed), then the latest (`LOG.witnessed`, replaced only
/// by a note of at least its size, and its stamp `LOG.witnessed.tsr`).
/// The caller holds the log's lock.
pub(crate) fn keep_in_files(log: &Path, kept: &KeptCosigned) -> Result<()> {
    let history = history_path(log);
    let latest = witnessed_path(log);
    // The history starts with the latest kept before it existed.
    let seed = if history.exists() {
        None
    } else {
        latest_in_files(log)?
    };
    let mut file = OpenOptions::new()
        .create(true)
        .truncate(false)
        .read(true)
        .write(true)
        .open(&history)
        .map_err(|e| Error::io(&history, e))?;
    // A line a killed keeper left unfinished is cut off first.
    let keep_len = complete_length(&mut file).map_err(|e| Error::io(&history, e))?;
    let mut text = String::new();
    if let Some(seed) = &seed {
        text.push_str(&history_line(seed));
    }
    text.push_str(&history_line(kept));
    file.set_len(keep_len)
        .and_then(|()| std::io::Seek::seek(&mut file, std::io::SeekFrom::Start(keep_len)))
        .and_then(|_| file.write_all(text.as_bytes()))
        .and_then(|()| file.sync_all())
        .and_then(|()| sync_parent(&history))
        .map_err(|e| Error::io(&history, e))?;
    let current = read_capped(&latest, MAX_COSIGNED_NOTE)?;
    let current_size = current
        .as_deref()
        .and_then(|b| std::str::from_utf8(b).ok())
        .and_then(claimed_size);
    if current_size.is_some_and(|size| size > kept.size) {
        return Ok(()); // A larger cosigned checkpoint was kept meanwhile.
    }
    // The old stamp goes first: a crash never leaves it beside a new note.
    let stamp = stamp_path(&latest);
    match std::fs::remove_file(&stamp) {
        Ok(()) => {}
        Err(e) if e.kind() == std::io::ErrorKind::NotFound => {}
        Err(e) => return Err(Error::io(&stamp, e)),
    }
    replace_file(&latest, kept.note.as_bytes()).map_err(|e| Error::io(&latest, e))?;
    match &kept.stamp {
        Some(bytes) => replace_file(&stamp, bytes).map_err(|e| Error::io(&stamp, e)),
        None => Ok(()),
    }
}

/// The length of `file` up to and with its last newline.
fn complete_length(file: &mut File) -> std::io::Result<u64> {
    use std::io::{Seek, SeekFrom};
    let len = file.metadata()?.len();
    let mut end = len;
    let mut buf = [0u8; 4096];
    while end > 0 {
        let start = end.saturating_sub(buf.len() as u64);
        let n = (end - start) as usize;
        file.seek(SeekFrom::Start(start))?;
        file.read_exact(&mut buf[..n])?;
        if let Some(i) = buf[..n].iter().rposition(|b| *b == b'\n') {
            return Ok(start + i as u64 + 1);
        }
        end = start;
    }
    Ok(0)
}

/// A file log's latest cosigned checkpoint and its stamp, if kept.
pub(crate) fn latest_in_files(log: &Path) -> Result<Option<KeptCosigned>> {
    let latest = witnessed_path(log);
    let Some(note) = read_capped(&latest, MAX_COSIGNED_NOTE)? else {
        return Ok(None);
    };
    let note = String::from_utf8(note)
        .map_err(|_| Error::Evidence(format!("{}: not UTF-8", latest.display())))?;
    let stamp = read_capped(&stamp_path(&latest), MAX_STAMP)?;
    let size = claimed_size(&note).unwrap_or(0);
    KeptCosigned::new(size, 0, note, stamp).map(Some)
}

/// Visits the file log's kept cosigned checkpoints in the order kept.
pub(crate) fn visit_files(
    log: &Path,
    visit: &mut dyn FnMut(KeptCosigned) -> Result<()>,
) -> Result<()> {
    let history = history_path(log);
    let file = match File::open(&history) {
        Ok(f) => f,
        Err(e) if e.kind() == std::io::ErrorKind::NotFound => return Ok(()),
        Err(e) => return Err(Error::io(&history, e)),
    };
    let mut reader = BufReader::new(file);
    let mut line = String::new();
    let mut number = 0u64;
    loop {
        line.clear();
        let read = (&mut reader)
            .take(MAX_HISTORY_LINE + 1)
            .read_line(&mut line)
            .map_err(|e| Error::io(&history, e))?;
        if read == 0 {
            return Ok(());
        }
        number += 1;
        if number > MAX_KEPT_COSIGNED {
            return Err(Error::Evidence(format!(
                "{}: more than {MAX_KEPT_COSIGNED} kept cosigned checkpoints",
                history.display()
            )));
        }
        let Some(text) = line.strip_suffix('\n') else {
            if read as u64 > MAX_HISTORY_LINE {
                return Err(Error::Evidence(format!(
                    "{}: line {number} is longer than a cosigned checkpoint",
                    history.display()
                )));
            }
            return Ok(()); // A line a killed keeper left unfinished.
        };
        let kept = parse_history_line(text).ok_or_else(|| {
            Error::Evidence(format!(
                "{}: line {number} is not a kept cosigned checkpoint",
                history.display()
            ))
        })?;
        visit(kept)?;
    }
}

/// Reads a whole file of at most `cap` bytes; `None` when it does not
/// exist.
fn read_capped(path: &Path, cap: usize) -> Result<Option<Vec<u8>>> {
    let file = match File::open(path) {
        Ok(f) => f,
        Err(e) if e.kind() == std::io::ErrorKind::NotFound => return Ok(None),
        Err(e) => return Err(Error::io(path, e)),
    };
    let mut bytes = Vec::new();
    file.take(cap as u64 + 1)
        .read_to_end(&mut bytes)
        .map_err(|e| Error::io(path, e))?;
    if bytes.len() > cap {
        return Err(Error::Evidence(format!(
            "{}: larger than {cap} bytes",
            path.display()
        )));
    }
    Ok(Some(bytes))
}

#[cfg(test)]
mod tests {
    use super::*;

    /// Links planted at a replaced file or at the file written beside it
    /// are replaced, and what they point at is left alone.
    #[test]
    fn a_replaced_file_never_writes_through_a_planted_link() {
        let dir = tempfile::tempdir().unwrap();
        let victim = dir.path().join("victim");
        std::fs::write(&victim, b"keep").unwrap();
        let path = dir.path().join("kept");
        std::os::unix::fs::symlink(&victim, &path).unwrap();
        std::os::unix::fs::symlink(&victim, dir.path().join("kept.tmp")).unwrap();
        replace_file(&path, b"new").unwrap();
        assert_eq!(std::fs::read(&victim).unwrap(), b"keep");
        assert_eq!(std::fs::read(&path).unwrap(), b"new");
        assert!(!std::fs::symlink_metadata(&path).unwrap().is_symlink());
    }

    fn kept(size: u64, at: u64) -> KeptCosigned {
        KeptCosigned::new(
            size,
            at,
            format!("log/x\n{size}\nroot\n\n\u{2014} sig\n"),
            size.is_multiple_of(2).then(|| vec![1, 2, 3]),
        )
        .unwrap()
    }

    fn all(log: &Path) -> Vec<(u64, u64)> {
        let mut v = Vec::new();
        visit_files(log, &mut |k| {
            v.push((k.size, k.witnessed_at));
            Ok(())
        })
        .unwrap();
        v
    }

    #[test]
    fn the_history_keeps_every_note_and_the_latest_only_grows() {
        let dir = tempfile::tempdir().unwrap();
        let log = dir.path().join("log");
        assert_eq!(latest_in_files(&log).unwrap(), None);
        // A log witnessed before the history existed: its latest starts it.
        replace_file(&witnessed_path(&log), kept(2, 50).note.as_bytes()).unwrap();
        keep_in_files(&log, &kept(3, 100)).unwrap();
        keep_in_files(&log, &kept(6, 200)).unwrap();
        // A smaller one kept late (two witnessings raced): history only.
        keep_in_files(&log, &kept(5, 150)).unwrap();
        let latest = latest_in_files(&log).unwrap().unwrap();
        assert_eq!(
            (latest.size, latest.stamp.clone()),
            (6, Some(vec![1, 2, 3]))
        );
        assert_eq!(all(&log), vec![(2, 0), (3, 100), (6, 200), (5, 150)]);
        // An unfinished last line (a killed keeper) is not an entry, and
        // the next keeper cuts it off before appending.
        let history = history_path(&log);
        let mut f = OpenOptions::new().append(true).open(&history).unwrap();
        f.write_all(b"9 900 AAAA").unwrap();
        assert_eq!(all(&log).len(), 4);
        keep_in_files(&log, &kept(7, 300)).unwrap();
        assert_eq!(all(&log).last(), Some(&(7, 300)));
        assert_eq!(all(&log).len(), 5);
        // A changed line is refused.
        std::fs::write(&history, "3 100 !!! -\n").unwrap();
        assert!(visit_files(&log, &mut |_| Ok(())).is_err());
    }
}
