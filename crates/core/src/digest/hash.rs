//! Hashing the files of a walk in parallel: whole files (files method) or
//! fixed-size byte ranges (shards method). Reads stream through one reused
//! buffer per worker, so memory does not grow with file sizes, and each
//! read stops at the size the walk planned.
//!
//! A file that changes while it is hashed is refused in every method: it
//! is opened without following links and must still be the file the walk
//! saw (device, inode, size, modification time), it must hold exactly the
//! planned bytes, and it must be unchanged when the read ends.

use super::file_list::{FileList, FileStat};
use super::{HashAlgorithm, Method, Resources, WalkError};
use crate::{Error, Result};
use rayon::prelude::*;
use sha2::Digest;
use std::cell::RefCell;
use std::fs::File;
use std::os::unix::fs::{FileExt, OpenOptionsExt};
use std::path::Path;

/// Receives hashing progress (from any worker thread).
pub trait Progress: Sync {
    /// The number of bytes about to be hashed.
    fn set_total(&self, _bytes: u64) {}
    /// `bytes` more bytes were hashed.
    fn advance(&self, bytes: u64);
}

impl<F: Fn(u64) + Sync> Progress for F {
    fn advance(&self, bytes: u64) {
        self(bytes)
    }
}

/// A progress receiver as the hashing functions take it.
pub type ProgressFn<'a> = &'a dyn Progress;

/// Receives one file's bytes, in file order, as the hashing read passes
/// over them (so that what is judged is exactly what was hashed).
pub trait ReadSink {
    /// The next bytes of the file.
    fn update(&mut self, bytes: &[u8]);
}

/// Sinks fed by the hashing read: `make` gives file `i` (named `name`) a
/// sink or none; `finish` turns a fed sink into its result.
pub struct Sinks<'a, S, T> {
    /// A sink for file `i`, or none.
    pub make: &'a (dyn Fn(usize, &str) -> Option<S> + Sync),
    /// What a sink found, once the file was read.
    pub finish: &'a (dyn Fn(usize, S) -> T + Sync),
}

/// The read buffer of one worker.
const BUFFER: usize = 1 << 18;

thread_local! {
    static BUF: RefCell<Vec<u8>> = const { RefCell::new(Vec::new()) };
}

/// What opening, checking and closing one file costs, counted as bytes
/// hashed (about what SHA-256 hashes in the time a small file's system
/// calls take).
const FILE_COST: u64 = 16 << 10;

/// The work one hashing task is given, counted as bytes hashed (file sizes
/// plus [`FILE_COST`] per file): a file at least this large is a task of
/// its own.
const TASK_WORK: u64 = 4 << 20;

/// Splits `files` into runs of consecutive files of about [`TASK_WORK`]
/// each: the tasks of the files method, scheduled by bytes, not by count.
fn batches(files: &FileList) -> Vec<std::ops::Range<usize>> {
    let mut out = Vec::new();
    let (mut start, mut work) = (0, 0u64);
    for i in 0..files.len() {
        let cost = files.stat(i).size.saturating_add(FILE_COST);
        // A file that is a task's worth alone does not wait behind the
        // small files before it.
        if cost >= TASK_WORK && start < i {
            out.push(start..i);
            (start, work) = (i, 0);
        }
        work = work.saturating_add(cost);
        if work >= TASK_WORK {
            out.push(start..i + 1);
            (start, work) = (i + 1, 0);
        }
    }
    if start < files.len() {
        out.push(start..files.len());
    }
    out
}

/// One hashed shard: file index, byte range and digest.
type ShardDigest = (usize, u64, u64, [u8; 32]);

/// Hashes every file of `files` (sorted by name) with `algorithm` by
/// `method`; the resources come back sorted by name.
pub fn hash_files(
    files: FileList,
    algorithm: HashAlgorithm,
    method: Method,
    progress: ProgressFn<'_>,
) -> Result<Resources> {
    let none: Option<Sinks<'_, NoSink, ()>> = None;
    hash_files_with_sinks(files, algorithm, method, progress, none).map(|(r, _)| r)
}

/// A sink type for callers that pass none.
pub enum NoSink {}

impl ReadSink for NoSink {
    fn update(&mut self, _: &[u8]) {}
}

/// As [`hash_files`], feeding each file that `sinks.make` gives a sink to
/// it, in file order (the shards of such a file are read one after the
/// other), and returning `(file index, result)` for each, by index.
pub fn hash_files_with_sinks<S: ReadSink + Send, T: Send>(
    files: FileList,
    algorithm: HashAlgorithm,
    method: Method,
    progress: ProgressFn<'_>,
    sinks: Option<Sinks<'_, S, T>>,
) -> Result<(Resources, Vec<(usize, T)>)> {
    progress.set_total(files.total_size());
    let sinks = sinks.as_ref();
    match method {
        Method::Files => {
            // One task per batch of files of about equal work: a large
            // file is a task of its own (so large files spread over every
            // worker), while tiny files go many to a task (so that a
            // million of them do not cost a million tasks).
            let per_batch: Vec<Vec<([u8; 32], Option<T>)>> = batches(&files)
                .into_par_iter()
                .map(|batch| {
                    batch
                        .map(|i| {
                            let mut sink = sinks.and_then(|s| (s.make)(i, files.name(i)));
                            let digest =
                                hash_one(&files, i, None, algorithm, progress, sink.as_mut())?;
                            let out = match (sink, sinks) {
                                (Some(sink), Some(s)) => Some((s.finish)(i, sink)),
                                _ => None,
                            };
                            Ok((digest, out))
                        })
                        .collect::<Result<Vec<_>>>()
                })
                .collect::<Result<_>>()?;
            let mut digests = Vec::with_capacity(files.len());
            let mut outputs = Vec::new();
            for (i, (digest, out)) in per_batch.into_iter().flatten().enumerate() {
                digests.push(digest);
                if let Some(out) = out {
                    outputs.push((i, out));
                }
            }
            let (names, ends) = files.into_names();
            Ok((
                Resources::from_parts(names, ends, digests, algorithm),
                outputs,
            ))
        }
        Method::Shards { shard_size } => {
            if shard_size == 0 {
                return Err(Error::Usage("the shard size must be positive".into()));
            }
            // Files with a sink: all their shards in one task, in order.
            let with_sink: Vec<(usize, S)> = match sinks {
                Some(s) => (0..files.len())
                    .filter_map(|i| (s.make)(i, files.name(i)).map(|sink| (i, sink)))
                    .collect(),
                None => Vec::new(),
            };
            let sunk: std::collections::BTreeSet<usize> =
                with_sink.iter().map(|(i, _)| *i).collect();
            let plan: Vec<(usize, u64, u64)> = shard_plan(&files, shard_size)
                .filter(|(i, _, _)| !sunk.contains(i))
                .collect();
            let mut shards: Vec<ShardDigest> = plan
                .par_iter()
                .map(|&(i, start, end)| {
                    let digest = hash_one(
                        &files,
                        i,
                        Some((start, end)),
                        algorithm,
                        progress,
                        None::<&mut S>,
                    )?;
                    Ok((i, start, end, digest))
                })
                .collect::<Result<_>>()?;
            let sunk_results: Vec<(Vec<ShardDigest>, (usize, T))> = with_sink
                .into_par_iter()
                .map(|(i, mut sink)| {
                    let mut out = Vec::new();
                    for (_, start, end) in shard_plan_of(&files, i, shard_size) {
                        let digest = hash_one(
                            &files,
                            i,
                            Some((start, end)),
                            algorithm,
                            progress,
                            Some(&mut sink),
                        )?;
                        out.push((i, start, end, digest));
                    }
                    let result = sinks.map(|s| (s.finish)(i, sink));
                    Ok((out, (i, result.expect("a sink was made"))))
                })
                .collect::<Result<_>>()?;
            let mut outputs = Vec::with_capacity(sunk_results.len());
            for (s, out) in sunk_results {
                shards.extend(s);
                outputs.push(out);
            }
            let mut resources = Resources::with_capacity(shards.len(), 0);
            for (i, start, end, digest) in &shards {
                let name = format!("{}:{start}:{end}", files.name(*i));
                resources.push(&name, digest, algorithm.name());
            }
            Ok((resources.sorted(), outputs))
        }
    }
}

/// Hashes `entries` (as [`super::walk`] lists them) with `algorithm` by
/// `method`, sorted by resource name. Each file must still have the size
/// the walk saw.
pub fn hash_entries(
    entries: &[super::Entry],
    algorithm: HashAlgorithm,
    method: Method,
    progress: ProgressFn<'_>,
) -> Result<Vec<super::Resource>> {
    let mut list = FileList::default();
    for e in entries {
        let meta = std::fs::metadata(&e.path).map_err(|err| Error::io(&e.path, err))?;
        let stat = FileStat {
            size: e.size,
            ..FileStat::of(&meta)
        };
        let source = list.add_source(super::file_list::Source::File(e.path.clone()));
        list.push(&e.name, stat, source);
    }
    list.sort();
    Ok(hash_files(list, algorithm, method, progress)?.to_vec())
}

/// The shards of every file: (file index, start, end). Empty files have none.
fn shard_plan(files: &FileList, shard_size: u64) -> impl Iterator<Item = (usize, u64, u64)> + '_ {
    (0..files.len()).flat_map(move |i| shard_plan_of(files, i, shard_size))
}

fn shard_plan_of(
    files: &FileList,
    i: usize,
    shard_size: u64,
) -> impl Iterator<Item = (usize, u64, u64)> + '_ {
    let size = files.stat(i).size;
    let count = size.div_ceil(shard_size);
    (0..count).map(move |k| {
        let start = k * shard_size;
        (i, start, size.min(start.saturating_add(shard_size)))
    })
}

/// The SHA-256 of a whole file, streamed through the same bounded buffer.
pub fn file_sha256(path: &Path) -> Result<[u8; 32]> {
    let meta = std::fs::metadata(path).map_err(|e| Error::io(path, e))?;
    let name = path.display().to_string();
    let list = FileList::single(&name, path, FileStat::of(&meta));
    hash_one(
        &list,
        0,
        None,
        HashAlgorithm::Sha256,
        &|_: u64| {},
        None::<&mut NoSink>,
    )
}

/// An incremental hash of one of the manifest algorithms, for sources that
/// hash a file's bytes as they arrive (registry layers).
pub struct Hasher(Algo);

enum Algo {
    Sha256(sha2::Sha256),
    Blake3(Box<blake3::Hasher>),
}

impl Hasher {
    /// A hasher of `algorithm`.
    pub fn new(algorithm: HashAlgorithm) -> Self {
        Hasher(match algorithm {
            HashAlgorithm::Sha256 => Algo::Sha256(sha2::Sha256::new()),
            HashAlgorithm::Blake3 => Algo::Blake3(Box::new(blake3::Hasher::new())),
        })
    }

    /// Hashes `bytes`, the next bytes of the file.
    pub fn update(&mut self, bytes: &[u8]) {
        match &mut self.0 {
            Algo::Sha256(h) => h.update(bytes),
            Algo::Blake3(h) => {
                h.update(bytes);
            }
        }
    }

    /// The digest of everything hashed.
    pub fn finish(self) -> [u8; 32] {
        match self.0 {
            Algo::Sha256(h) => h.finalize().into(),
            Algo::Blake3(h) => *h.finalize().as_bytes(),
        }
    }
}

fn changed(name: &str) -> Error {
    Error::Walk(WalkError::ChangedWhileHashing {
        path: name.to_string(),
    })
}

/// Opens file `i` without following a link in its last component (a file
/// replaced by a link since the walk must not lead elsewhere) and without
/// blocking (a file replaced by a FIFO must not hang), and checks that it
/// is still the file the walk saw.
fn open_checked(files: &FileList, i: usize) -> Result<File> {
    let path = files.path(i);
    let name = files.name(i);
    let flags = rustix::fs::OFlags::NOFOLLOW | rustix::fs::OFlags::NONBLOCK;
    let file = match std::fs::OpenOptions::new()
        .read(true)
        .custom_flags(flags.bits() as i32)
        .open(&path)
    {
        Ok(f) => f,
        Err(e)
            if e.kind() == std::io::ErrorKind::NotFound
                || e.raw_os_error() == Some(rustix::io::Errno::LOOP.raw_os_error()) =>
        {
            return Err(changed(name));
        }
        Err(e) => return Err(Error::io(&path, e)),
    };
    let meta = file.metadata().map_err(|e| Error::io(&path, e))?;
    if !meta.is_file() || FileStat::of(&meta) != *files.stat(i) {
        return Err(changed(name));
    }
    Ok(file)
}

/// Hashes file `i` whole, or the byte range `range` of it, passing the
/// bytes to `sink`. Reads stop at the planned end; a file that is shorter,
/// longer or otherwise changed is an error naming its resource.
fn hash_one<S: ReadSink>(
    files: &FileList,
    i: usize,
    range: Option<(u64, u64)>,
    algorithm: HashAlgorithm,
    progress: ProgressFn<'_>,
    mut sink: Option<&mut S>,
) -> Result<[u8; 32]> {
    let name = files.name(i);
    let planned = *files.stat(i);
    let file = open_checked(files, i)?;
    let (start, end) = range.unwrap_or((0, planned.size));
    let mut hasher = Hasher::new(algorithm);
    let io = |e| Error::io(files.path(i), e);
    BUF.with(|buf| -> Result<()> {
        let mut buf = buf.borrow_mut();
        if buf.len() < BUFFER {
            buf.resize(BUFFER, 0);
        }
        let mut at = start;
        loop {
            let remaining = end - at;
            // One byte more than planned at the end of the file, to see it
            // grow in the same read.
            let slack = u64::from(end == planned.size);
            let want = (remaining + slack).min(BUFFER as u64) as usize;
            if want == 0 {
                break;
            }
            let n = match file.read_at(&mut buf[..want], at) {
                Ok(n) => n,
                Err(e) if e.kind() == std::io::ErrorKind::Interrupted => continue,
                Err(e) => return Err(io(e)),
            };
            if n == 0 {
                if remaining > 0 {
                    return Err(changed(name)); // shrank
                }
                break;
            }
            if n as u64 > remaining {
                return Err(changed(name)); // grew
            }
            hasher.update(&buf[..n]);
            if let Some(sink) = sink.as_mut() {
                sink.update(&buf[..n]);
            }
            progress.advance(n as u64);
            at += n as u64;
            // A short read that reaches the planned end is the end of the
            // file; growth after it shows in the size checked below.
            if at == end && (slack == 0 || n < want) {
                break;
            }
        }
        Ok(())
    })?;
    let after = file.metadata().map_err(io)?;
    if FileStat::of(&after) != planned {
        return Err(changed(name));
    }
    Ok(hasher.finish())
}

#[cfg(test)]
mod tests;
