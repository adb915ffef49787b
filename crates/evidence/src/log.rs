//! The file log: append-only JSON Lines, an RFC 6962 Merkle tree over the
//! exact line bytes, and a signed checkpoint beside it (`LOG.checkpoint`)
//! replaced on every append.
//!
//! Appends hold an exclusive lock (`LOG.lock`); readers hold it shared, so
//! they see a log and a checkpoint that belong together. An append writes
//! and flushes the record, then replaces the checkpoint (written beside it,
//! flushed, renamed, directory flushed), so a writer killed at any instant
//! leaves one of: the old log and checkpoint; a torn last line beyond the
//! checkpoint; a complete record beyond the checkpoint. The next append
//! repairs the last two by itself (it cuts the torn line, and takes in a
//! complete record sealed by the evidence key); anything else is tampering
//! and appends are refused. A new log first gets an empty checkpoint that
//! carries its own origin.

use super::merkle::{Frontier, leaf_hash};
use super::note::{Checkpoint, sign_checkpoint};
use super::origin::{new_origin, open_log_checkpoint};
use super::record::open;
use super::store::{EvidenceStore, MAX_RECORD, ScanItem, Sealer, check_line, next_binding};
use super::verify::{LogCheck, VerifyOptions, verify_store};
use crate::fetch::{InputKind, read_text};
use crate::{Error, Result};
use ed25519_dalek::VerifyingKey;
use std::fs::{File, OpenOptions};
use std::io::{BufRead, BufReader, ErrorKind, Read, Write};
use std::path::{Path, PathBuf};

/// `path` with `suffix` appended to its file name (the files kept beside
/// a log).
pub(crate) fn with_suffix(path: &Path, suffix: &str) -> PathBuf {
    let mut s = path.as_os_str().to_os_string();
    s.push(suffix);
    PathBuf::from(s)
}

/// Where a log's latest checkpoint is kept.
pub fn checkpoint_path(log: &Path) -> PathBuf {
    with_suffix(log, ".checkpoint")
}

/// An evidence log in a JSON Lines file.
#[derive(Debug, Clone)]
pub struct FileLog {
    path: PathBuf,
    /// What this process's last append left: a long-running writer (the
    /// admission service) appends without re-reading the whole log, as
    /// long as the log and its checkpoint are exactly as it left them.
    tail: std::sync::Arc<std::sync::Mutex<Option<Tail>>>,
    /// The log file's identity when the last [`EvidenceStore::scan_from`]
    /// read it to its end (and found it unchanged after).
    scanned: std::sync::Arc<std::sync::Mutex<Option<FileIdentity>>>,
}

/// Where the writer's deploy index is kept.
pub fn deploy_index_path(log: &Path) -> PathBuf {
    with_suffix(log, ".index")
}

/// The log as the last append of this process left it.
#[derive(Debug, Clone)]
struct Tail {
    /// The checkpoint it wrote.
    note: String,
    /// The log file's identity, length and change time then.
    file: FileIdentity,
    origin: String,
    frontier: Frontier,
}

/// A file's device, inode, length and change time (seconds, nanoseconds).
type FileIdentity = (u64, u64, u64, i64, i64);

/// A file's device, inode, length and change time: a log replaced,
/// grown, cut or written in place since this process last wrote it does
/// not match (the change time is set by the kernel on every write, and
/// cannot be set back without setting the system clock back).
fn identity(path: &Path) -> Option<FileIdentity> {
    use std::os::unix::fs::MetadataExt;
    std::fs::metadata(path)
        .ok()
        .map(|m| (m.dev(), m.ino(), m.len(), m.ctime(), m.ctime_nsec()))
}

impl FileLog {
    /// Writes a new file log at `path` holding `records` sealed by `key`,
    /// and its signed checkpoint, in one pass: what appending them one by
    /// one leaves, without re-reading the log for each (an import, or a
    /// benchmark's large log). Refuses a path that exists, and an
    /// evidence key that is not Ed25519. Returns the number of records.
    pub fn create_with(
        path: &Path,
        records: impl IntoIterator<Item = crate::NewRecord>,
        key: &crate::keys::PrivateKey,
    ) -> Result<u64> {
        let crate::keys::PrivateKey::Ed25519(key) = key else {
            return Err(Error::Evidence(format!(
                "the evidence key must be Ed25519 (signed-note checkpoints), not {}",
                key.algorithm()
            )));
        };
        let file = File::create_new(path).map_err(|e| Error::io(path, e))?;
        let mut out = std::io::BufWriter::new(file);
        let mut frontier = Frontier::new();
        let origin = new_origin(&key.verifying_key())?;
        for record in records {
            let line = crate::seal_bound(&record, key, &next_binding(&origin, &frontier))?;
            check_line(&line)?;
            out.write_all(line.as_bytes())
                .and_then(|()| out.write_all(b"\n"))
                .map_err(|e| Error::io(path, e))?;
            frontier.push(leaf_hash(line.as_bytes()));
        }
        let file = out
            .into_inner()
            .map_err(|e| Error::io(path, e.into_error()))?;
        file.sync_all().map_err(|e| Error::io(path, e))?;
        let checkpoint = Checkpoint {
            origin: origin.clone(),
            size: frontier.size(),
            root: frontier.root(),
        };
        sync_dir(path)?;
        // Written as appends write it: beside, flushed, renamed over.
        FileLog::new(path).write_checkpoint(&checkpoint, key)?;
        Ok(checkpoint.size)
    }

    /// The log at `path` (created by its first append).
    pub fn new(path: &Path) -> Self {
        FileLog {
            path: path.to_path_buf(),
            tail: Default::default(),
            scanned: Default::default(),
        }
    }

    /// The log file.
    pub fn path(&self) -> &Path {
        &self.path
    }

    fn lock_path(&self) -> PathBuf {
        with_suffix(&self.path, ".lock")
    }

    /// Takes the log's lock exclusively (appends and keeping cosigned
    /// checkpoints), making the lock file if there is none yet.
    fn lock_exclusive(&self) -> Result<File> {
        let lock_path = self.lock_path();
        let lock = OpenOptions::new()
            .create(true)
            .truncate(false)
            .write(true)
            .open(&lock_path)
            .map_err(|e| Error::io(&lock_path, e))?;
        lock.lock().map_err(|e| Error::io(&lock_path, e))?;
        Ok(lock)
    }

    fn read_checkpoint(&self) -> Result<Option<String>> {
        let path = checkpoint_path(&self.path);
        match read_text(&path, InputKind::Checkpoint) {
            Ok(note) => Ok(Some(note)),
            Err(e) if e.is_not_found() => Ok(None),
            Err(e) => Err(e.into()),
        }
    }

    fn open_log(&self) -> Result<Option<Lines>> {
        match std::fs::metadata(&self.path) {
            Err(e) if e.kind() == ErrorKind::NotFound => return Ok(None),
            Err(e) => return Err(Error::io(&self.path, e)),
            Ok(m) if !m.is_file() => {
                return Err(Error::Evidence(format!(
                    "{}: not a regular file",
                    self.path.display()
                )));
            }
            Ok(_) => {}
        }
        let file = File::open(&self.path).map_err(|e| Error::io(&self.path, e))?;
        Ok(Some(Lines {
            reader: BufReader::with_capacity(1 << 16, file),
            buf: Vec::new(),
        }))
    }

    fn append_locked(
        &self,
        seals: &mut [Sealer<'_>],
        key: &dyn crate::SealKey,
    ) -> Result<Checkpoint> {
        let vk = key.verifying_key();
        let note = self.read_checkpoint()?;
        // The log exactly as this process's last append left it (the same
        // checkpoint, the same file, the same length): its frontier is
        // known. Anything else is read and checked whole, as by any
        // other writer.
        let kept = {
            let tail = self.tail.lock().unwrap_or_else(|p| p.into_inner());
            tail.clone().filter(|t| {
                note.as_deref() == Some(t.note.as_str()) && identity(&self.path) == Some(t.file)
            })
        };
        let (origin, mut frontier) = match (note, kept) {
            (Some(_), Some(tail)) => (tail.origin, tail.frontier),
            (None, _) => self.create(key)?,
            (Some(note), None) => {
                let (origin, frontier, covered) = self.recover(&note, &vk)?;
                if frontier.size() > covered {
                    // The record a killed writer left is taken in by its
                    // own checkpoint first: should this writer be killed
                    // too, at most one record is ever beyond a checkpoint.
                    let cp = Checkpoint {
                        origin: origin.clone(),
                        size: frontier.size(),
                        root: frontier.root(),
                    };
                    self.write_checkpoint(&cp, key)?;
                }
                (origin, frontier)
            }
        };
        // One record, or a batch: each sealed for its place, a batch's
        // records naming the checkpoint they follow, all written and
        // flushed together, then one checkpoint over them.
        let after = frontier.size();
        let batch = (seals.len() > 1).then_some(after);
        let mut bytes = Vec::new();
        for seal in seals.iter_mut() {
            let mut binding = next_binding(&origin, &frontier);
            binding.batch = batch;
            let line = seal(&binding)?;
            check_line(&line)?;
            bytes.extend_from_slice(line.as_bytes());
            bytes.push(b'\n');
            frontier.push(leaf_hash(line.as_bytes()));
        }
        let mut file = OpenOptions::new()
            .append(true)
            .open(&self.path)
            .map_err(|e| Error::io(&self.path, e))?;
        file.write_all(&bytes)
            .and_then(|()| file.sync_all())
            .map_err(|e| Error::io(&self.path, e))?;
        let cp = Checkpoint {
            origin,
            size: frontier.size(),
            root: frontier.root(),
        };
        let note = self.write_checkpoint(&cp, key)?;
        let mut tail = self.tail.lock().unwrap_or_else(|p| p.into_inner());
        *tail = identity(&self.path).map(|file| Tail {
            note,
            file,
            origin: cp.origin.clone(),
            frontier,
        });
        Ok(cp)
    }

    /// A new log: it must be absent or empty. The log file and an empty
    /// checkpoint with a fresh origin are made durable before any record.
    fn create(&self, key: &dyn crate::SealKey) -> Result<(String, Frontier)> {
        match std::fs::metadata(&self.path) {
            Ok(m) if m.is_file() && m.len() == 0 => {}
            Ok(_) => {
                // The checkpoint was removed (or the file is not a log
                // modelseal kept): either way nothing is appended.
                return Err(Error::Tampered {
                    log: self.path.display().to_string(),
                    problem: "has records but no checkpoint".into(),
                });
            }
            Err(e) if e.kind() == ErrorKind::NotFound => {
                OpenOptions::new()
                    .create_new(true)
                    .write(true)
                    .open(&self.path)
                    .and_then(|f| f.sync_all())
                    .map_err(|e| Error::io(&self.path, e))?;
                sync_dir(&self.path)?;
            }
            Err(e) => return Err(Error::io(&self.path, e)),
        }
        let frontier = Frontier::new();
        let origin = new_origin(&key.verifying_key())?;
        let empty = Checkpoint {
            origin: origin.clone(),
            size: 0,
            root: frontier.root(),
        };
        self.write_checkpoint(&empty, key)?;
        Ok((origin, frontier))
    }

    /// Reads the whole log against its checkpoint and repairs what a killed
    /// writer leaves (see the module); refuses anything else.
    /// Returns the origin, the frontier over every record kept (the one a
    /// killed writer left included) and the size the checkpoint covers.
    fn recover(&self, note: &str, key: &VerifyingKey) -> Result<(String, Frontier, u64)> {
        let cp_path = checkpoint_path(&self.path);
        let cp = open_log_checkpoint(note, key).map_err(|e| Error::Tampered {
            log: self.path.display().to_string(),
            problem: format!(
                "has a checkpoint that does not verify ({}: {e})",
                cp_path.display()
            ),
        })?;
        let refuse = |why: String| Error::Tampered {
            log: self.path.display().to_string(),
            problem: why,
        };
        let mut frontier = Frontier::new();
        let mut matched = cp.size == 0 && frontier.root() == cp.root;
        let mut end = 0u64;
        let mut torn = false;
        if let Some(mut lines) = self.open_log()? {
            while let Some(line) = lines.next().map_err(|e| Error::io(&self.path, e))? {
                match line {
                    Line::Complete(bytes) => {
                        if frontier.size() >= cp.size {
                            // A killed writer leaves at most the one record
                            // it was appending, sealed for exactly the next
                            // place of this log: anything else beyond the
                            // checkpoint was put there by someone else.
                            let index = usize::try_from(frontier.size()).unwrap_or(usize::MAX);
                            let record = open(index, bytes, key).map_err(|why| {
                                refuse(format!(
                                    "has a line beyond its checkpoint that is not a well-formed record sealed by the evidence key ({why})"
                                ))
                            })?;
                            if let Some(why) =
                                repair_refusal(&record, &cp, frontier.size(), &frontier.root())
                            {
                                return Err(refuse(why));
                            }
                        }
                        frontier.push(leaf_hash(bytes));
                        end += bytes.len() as u64 + 1;
                        if frontier.size() == cp.size {
                            matched = frontier.root() == cp.root;
                        }
                    }
                    Line::Oversized(len) => {
                        return Err(refuse(format!(
                            "has a line of {len} bytes, longer than a record may be"
                        )));
                    }
                    Line::Torn(_) => torn = true,
                }
            }
        } else if cp.size > 0 {
            return Err(refuse(format!(
                "is missing, but its checkpoint covers {} records",
                cp.size
            )));
        }
        if frontier.size() < cp.size || !matched {
            return Err(refuse("no longer matches its checkpoint".into()));
        }
        if torn {
            // The interrupted write of a record no checkpoint covers.
            let file = OpenOptions::new()
                .write(true)
                .open(&self.path)
                .map_err(|e| Error::io(&self.path, e))?;
            file.set_len(end)
                .and_then(|()| file.sync_all())
                .map_err(|e| Error::io(&self.path, e))?;
        } else if !self.path.exists() {
            File::create(&self.path)
                .and_then(|f| f.sync_all())
                .map_err(|e| Error::io(&self.path, e))?;
            sync_dir(&self.path)?;
        }
        Ok((cp.origin, frontier, cp.size))
    }

    /// Hands every line left in `lines` to `visit`, as a scan does.
    fn visit_lines(
        &self,
        lines: &mut Lines,
        visit: &mut dyn FnMut(ScanItem<'_>) -> Result<()>,
    ) -> Result<()> {
        while let Some(line) = lines.next().map_err(|e| Error::io(&self.path, e))? {
            visit(match line {
                Line::Complete(bytes) => ScanItem::Record {
                    bytes,
                    index: None,
                    leaf_hash: None,
                },
                Line::Oversized(len) => ScanItem::Oversized { len },
                Line::Torn(len) => ScanItem::Torn { len },
            })?;
        }
        Ok(())
    }

    /// Replaces the checkpoint durably: written beside it under a fresh
    /// name (never through a link planted at a predictable one), flushed,
    /// renamed over it, and the directory flushed.
    fn write_checkpoint(&self, cp: &Checkpoint, key: &dyn crate::SealKey) -> Result<String> {
        let path = checkpoint_path(&self.path);
        let note = sign_checkpoint(cp, &cp.origin, key)?;
        crate::cosigned::replace_file(&path, note.as_bytes()).map_err(|e| Error::io(&path, e))?;
        Ok(note)
    }
}

/// Flushes the directory holding `path` (a new or renamed entry in it).
/// The directory `path` is in (`.` for a bare name).
pub(crate) fn dir_of(path: &Path) -> &Path {
    match path.parent() {
        Some(d) if !d.as_os_str().is_empty() => d,
        _ => Path::new("."),
    }
}

fn sync_dir(path: &Path) -> Result<()> {
    let dir = dir_of(path);
    File::open(dir)
        .and_then(|d| d.sync_all())
        .map_err(|e| Error::io(dir, e))
}

impl EvidenceStore for FileLog {
    fn location(&self) -> String {
        self.path.display().to_string()
    }

    fn append(&self, seal: Sealer<'_>, key: &dyn crate::SealKey) -> Result<Checkpoint> {
        self.append_batch(&mut [seal], key)
    }

    fn append_batch(
        &self,
        seals: &mut [Sealer<'_>],
        key: &dyn crate::SealKey,
    ) -> Result<Checkpoint> {
        crate::store::check_batch(seals.len())?;
        // Only a regular file (or none yet) is a log: a device, a directory
        // or a FIFO given by mistake must not get a lock file beside it.
        if let Ok(meta) = std::fs::metadata(&self.path)
            && !meta.is_file()
        {
            return Err(Error::Evidence(format!(
                "{}: not a regular file, so not an evidence log",
                self.path.display()
            )));
        }
        let lock = self.lock_exclusive()?;
        let result = self.append_locked(seals, key);
        let _ = lock.unlock();
        result
    }

    fn scan(&self, visit: &mut dyn FnMut(ScanItem<'_>) -> Result<()>) -> Result<()> {
        // A shared lock, where appends have made one, so that no append
        // runs between reading the checkpoint and the records.
        let lock = match File::open(self.lock_path()) {
            Ok(lock) => {
                lock.lock_shared()
                    .map_err(|e| Error::io(self.lock_path(), e))?;
                Some(lock)
            }
            Err(_) => None,
        };
        let Some(mut lines) = self.open_log()? else {
            return Err(Error::Evidence(format!(
                "{}: no evidence log there (the first append creates one)",
                self.path.display()
            )));
        };
        let note = self.read_checkpoint()?;
        visit(ScanItem::Checkpoint(note.as_deref()))?;
        self.visit_lines(&mut lines, visit)?;
        drop(lock);
        Ok(())
    }

    fn scan_from(
        &self,
        from: &crate::ResumePoint,
        visit: &mut dyn FnMut(ScanItem<'_>) -> Result<()>,
    ) -> Result<crate::Resumed> {
        use crate::Resumed;
        use std::io::{Seek, SeekFrom};
        let lock = match File::open(self.lock_path()) {
            Ok(lock) => {
                lock.lock_shared()
                    .map_err(|e| Error::io(self.lock_path(), e))?;
                lock
            }
            // No append has run here: nothing to resume from.
            Err(_) => return Ok(Resumed::Unsupported),
        };
        let changed = || Error::Evidence(format!("{}: changed while read", self.path.display()));
        self.scanned
            .lock()
            .unwrap_or_else(|p| p.into_inner())
            .take();
        // Only a regular file is read (a FIFO put in its place would block);
        // a log reached through a link is read as any other.
        if !std::fs::metadata(&self.path).is_ok_and(|m| m.is_file()) {
            return Ok(Resumed::Unsupported);
        }
        let before = identity(&self.path).ok_or_else(changed)?;
        let mut file = File::open(&self.path).map_err(|e| Error::io(&self.path, e))?;
        let note = self.read_checkpoint()?;
        visit(ScanItem::Checkpoint(note.as_deref()))?;
        // The offset must be the start of a line: the byte before it ends
        // the line before. Where it is not, the file was cut or rewritten.
        if from.offset > before.2 {
            return Ok(Resumed::NoRecordThere);
        }
        if from.offset > 0 {
            let mut last = [0u8];
            file.seek(SeekFrom::Start(from.offset - 1))
                .and_then(|_| file.read_exact(&mut last))
                .map_err(|e| Error::io(&self.path, e))?;
            if last != *b"\n" {
                return Ok(Resumed::NoRecordThere);
            }
        }
        let mut lines = Lines {
            reader: BufReader::with_capacity(1 << 16, file),
            buf: Vec::new(),
        };
        self.visit_lines(&mut lines, visit)?;
        if identity(&self.path) != Some(before) {
            return Err(changed());
        }
        *self.scanned.lock().unwrap_or_else(|p| p.into_inner()) = Some(before);
        drop(lock);
        Ok(Resumed::Read)
    }

    fn adopt(&self, checkpoint_note: &str, origin: &str, frontier: &Frontier) {
        let scanned = self
            .scanned
            .lock()
            .unwrap_or_else(|p| p.into_inner())
            .take();
        if let Some(file) = scanned {
            *self.tail.lock().unwrap_or_else(|p| p.into_inner()) = Some(Tail {
                note: checkpoint_note.to_string(),
                file,
                origin: origin.to_string(),
                frontier: frontier.clone(),
            });
        }
    }

    fn resume_point(&self) -> Option<crate::ResumePoint> {
        let tail = self.tail.lock().unwrap_or_else(|p| p.into_inner());
        tail.as_ref().map(|t| crate::ResumePoint {
            origin: t.origin.clone(),
            frontier: t.frontier.clone(),
            offset: t.file.2,
        })
    }

    fn load_deploy_index(&self) -> Result<Option<Vec<u8>>> {
        crate::deploy_index::read_file(&deploy_index_path(&self.path))
    }

    fn save_deploy_index(&self, sealed: &[u8]) -> Result<()> {
        let path = deploy_index_path(&self.path);
        // Under the log's lock: two writers never share the temporary file.
        let lock = self.lock_exclusive()?;
        let result = crate::deploy_index::write_file(&path, &with_suffix(&path, ".tmp"), sealed);
        let _ = lock.unlock();
        result
    }

    fn keep_cosigned(&self, kept: &crate::KeptCosigned) -> Result<()> {
        let lock = self.lock_exclusive()?;
        let result = crate::cosigned::keep_in_files(&self.path, kept);
        let _ = lock.unlock();
        result
    }

    fn latest_cosigned(&self) -> Result<Option<crate::KeptCosigned>> {
        crate::cosigned::latest_in_files(&self.path)
    }

    fn cosigned(&self, visit: &mut dyn FnMut(crate::KeptCosigned) -> Result<()>) -> Result<()> {
        // A log witnessed before the history was kept offers its latest.
        if !crate::cosigned::history_path(&self.path).exists() {
            return match self.latest_cosigned()? {
                Some(kept) => visit(kept),
                None => Ok(()),
            };
        }
        crate::cosigned::visit_files(&self.path, visit)
    }

    fn may_have_uncheckpointed_tail(&self) -> bool {
        true
    }

    fn is_started(&self) -> Result<bool> {
        Ok(self.path.exists() || checkpoint_path(&self.path).exists())
    }
}

/// Lines of a log file, each read with a cap.
struct Lines {
    reader: BufReader<File>,
    buf: Vec<u8>,
}

enum Line<'a> {
    /// A line (without its newline).
    Complete(&'a [u8]),
    /// A line longer than [`MAX_RECORD`], skipped.
    Oversized(u64),
    /// The unterminated last line, of this many bytes.
    Torn(u64),
}

impl Lines {
    fn next(&mut self) -> std::io::Result<Option<Line<'_>>> {
        self.buf.clear();
        let cap = MAX_RECORD as u64 + 1;
        let n = (&mut self.reader)
            .take(cap)
            .read_until(b'\n', &mut self.buf)?;
        if n == 0 {
            return Ok(None);
        }
        if self.buf.last() == Some(&b'\n') {
            self.buf.pop();
            return Ok(Some(Line::Complete(&self.buf)));
        }
        if (n as u64) < cap {
            return Ok(Some(Line::Torn(n as u64)));
        }
        // Too long: skip to the end of the line without keeping it.
        let mut len = n as u64;
        loop {
            let available = self.reader.fill_buf()?;
            if available.is_empty() {
                return Ok(Some(Line::Torn(len)));
            }
            if let Some(i) = available.iter().position(|b| *b == b'\n') {
                self.reader.consume(i + 1);
                return Ok(Some(Line::Oversized(len + i as u64)));
            }
            let all = available.len();
            len += all as u64;
            self.reader.consume(all);
        }
    }
}

/// Checks every record's signature, the Merkle root against the signed
/// checkpoint, and, given an older checkpoint, that the log extends it;
/// keeps the records. A log that does not exist or has no checkpoint is an
/// error; a log that does not verify is a [`LogCheck`] with problems.
pub fn verify_log(log: &Path, key: &VerifyingKey, older: Option<&str>) -> Result<LogCheck> {
    verify_store(
        &FileLog::new(log),
        key,
        VerifyOptions {
            older,
            keep_records: true,
            copy_to: None,
            now: None,
            keep_leaves: false,
        },
    )
}

/// Seals `record` bound to its place and appends it to the file log at
/// `log` (see [`FileLog`]); returns the checkpoint and the line.
pub fn append(
    log: &Path,
    record: &crate::NewRecord,
    key: &dyn crate::SealKey,
) -> Result<(Checkpoint, String)> {
    let mut sealed = String::new();
    let cp = FileLog::new(log).append(
        &mut |binding| {
            sealed = crate::seal_bound(record, key, binding)?;
            Ok(sealed.clone())
        },
        key,
    )?;
    Ok((cp, sealed))
}

/// Why the record beyond a checkpoint of `cp.size` records, at `position`
/// (after the records before it, whose root is `root_before`), is not one
/// a killed writer can leave: the one record an append writes, or the
/// records of one batch written after exactly this checkpoint, each bound
/// to this log at its index after the history before it.
pub(crate) fn repair_refusal(
    record: &crate::Record,
    cp: &Checkpoint,
    position: u64,
    root_before: &crate::merkle::Hash,
) -> Option<String> {
    let n = position + 1;
    let of_batch = record
        .binding
        .as_ref()
        .is_some_and(|b| b.batch == Some(cp.size));
    if position != cp.size && !of_batch {
        return Some(format!(
            "has {} records beyond its checkpoint of {} (a killed writer leaves at most one, or one batch written after that checkpoint; a checkpoint put back, or records added)",
            position + 1 - cp.size,
            cp.size
        ));
    }
    let Some(binding) = &record.binding else {
        return Some(format!(
            "has record {n} beyond its checkpoint, not bound to this log (copied from elsewhere)"
        ));
    };
    if *binding.origin != *cp.origin {
        return Some(format!(
            "has record {n} beyond its checkpoint, sealed for another log ({})",
            binding.origin.chars().take(100).collect::<String>()
        ));
    }
    if binding.index != position || binding.previous != *root_before {
        return Some(format!(
            "has record {n} beyond its checkpoint, sealed for index {} after another history (a replay)",
            binding.index
        ));
    }
    if binding.batch.is_some_and(|b| b != cp.size) {
        return Some(format!(
            "has record {n} beyond its checkpoint, of a batch written after another checkpoint ({})",
            binding.batch.unwrap_or_default()
        ));
    }
    None
}

#[cfg(test)]
mod tests;
