//! Hashing entries in parallel: whole files (files method) or fixed-size
//! byte ranges (shards method). Reads stream through bounded buffers, so
//! memory does not grow with the model.

use super::{Entry, HashAlgorithm, Method, Resource};
use crate::{Error, Result};
use rayon::prelude::*;
use sha2::Digest;
use std::fs::File;
use std::io::{Read, Seek, SeekFrom};
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

/// The read buffer of one hashing task.
const BUFFER: usize = 1 << 18;

/// Hashes `entries` with `algorithm` by `method`, sorted by resource name.
pub fn hash_entries(
    entries: &[Entry],
    algorithm: HashAlgorithm,
    method: Method,
    progress: ProgressFn<'_>,
) -> Result<Vec<Resource>> {
    progress.set_total(entries.iter().map(|e| e.size).sum());
    let mut resources: Vec<Resource> = match method {
        Method::Files => entries
            .par_iter()
            .map(|e| {
                let digest = hash_range(&e.path, 0, None, algorithm, progress, None)?;
                Ok(Resource::new(e.name.clone(), digest, algorithm))
            })
            .collect::<Result<_>>()?,
        Method::Shards { shard_size } => {
            let shards = shard_plan(entries, shard_size);
            shards
                .par_iter()
                .map(|&(i, start, end)| {
                    let e = &entries[i];
                    let digest =
                        hash_range(&e.path, start, Some(end - start), algorithm, progress, None)?;
                    Ok(Resource::new(
                        format!("{}:{start}:{end}", e.name),
                        digest,
                        algorithm,
                    ))
                })
                .collect::<Result<_>>()?
        }
    };
    resources.sort_by(|a, b| a.name.cmp(&b.name));
    Ok(resources)
}

/// The SHA-256 of a whole file, streamed through the same bounded buffer.
pub fn file_sha256(path: &Path) -> Result<[u8; 32]> {
    hash_range(path, 0, None, HashAlgorithm::Sha256, &|_: u64| {}, None)
}

/// Hashes a whole file, passing every byte read to `sink` as well.
pub fn hash_file_into(
    path: &Path,
    algorithm: HashAlgorithm,
    progress: ProgressFn<'_>,
    sink: &mut dyn ReadSink,
) -> Result<[u8; 32]> {
    hash_range(path, 0, None, algorithm, progress, Some(sink))
}

/// As [`hash_entries`], passing each file's bytes, in order, to the sink
/// `make` creates for it; what `finish` makes of each sink (once its file is
/// read, so no sink outlives its file) comes back in the order of `entries`.
/// Files are hashed in parallel, but the shards of one file one after the
/// other (a sink needs the file in order).
pub fn hash_entries_with_sinks<S: ReadSink, T: Send>(
    entries: &[Entry],
    algorithm: HashAlgorithm,
    method: Method,
    progress: ProgressFn<'_>,
    make: &(dyn Fn(&Entry) -> S + Sync),
    finish: &(dyn Fn(S) -> T + Sync),
) -> Result<(Vec<Resource>, Vec<T>)> {
    progress.set_total(entries.iter().map(|e| e.size).sum());
    let per_file: Vec<(Vec<Resource>, T)> = entries
        .par_iter()
        .enumerate()
        .map(|(i, e)| {
            let mut sink = make(e);
            let resources = match method {
                Method::Files => {
                    let d = hash_range(&e.path, 0, None, algorithm, progress, Some(&mut sink))?;
                    vec![Resource::new(e.name.clone(), d, algorithm)]
                }
                Method::Shards { shard_size } => shard_plan(&entries[i..=i], shard_size)
                    .into_iter()
                    .map(|(_, start, end)| {
                        let d = hash_range(
                            &e.path,
                            start,
                            Some(end - start),
                            algorithm,
                            progress,
                            Some(&mut sink),
                        )?;
                        Ok(Resource::new(
                            format!("{}:{start}:{end}", e.name),
                            d,
                            algorithm,
                        ))
                    })
                    .collect::<Result<_>>()?,
            };
            Ok((resources, finish(sink)))
        })
        .collect::<Result<_>>()?;
    let mut resources = Vec::new();
    let mut sinks = Vec::with_capacity(per_file.len());
    for (r, s) in per_file {
        resources.extend(r);
        sinks.push(s);
    }
    resources.sort_by(|a, b| a.name.cmp(&b.name));
    Ok((resources, sinks))
}

/// The shards of every entry: (entry index, start, end). Empty files have none.
fn shard_plan(entries: &[Entry], shard_size: u64) -> Vec<(usize, u64, u64)> {
    let mut shards = Vec::new();
    for (i, e) in entries.iter().enumerate() {
        let mut start = 0;
        while start < e.size {
            let end = e.size.min(start.saturating_add(shard_size));
            shards.push((i, start, end));
            start = end;
        }
    }
    shards
}

enum Hasher {
    Sha256(sha2::Sha256),
    Blake3(Box<blake3::Hasher>),
}

impl Hasher {
    fn new(algorithm: HashAlgorithm) -> Self {
        match algorithm {
            HashAlgorithm::Sha256 => Hasher::Sha256(sha2::Sha256::new()),
            HashAlgorithm::Blake3 => Hasher::Blake3(Box::new(blake3::Hasher::new())),
        }
    }

    fn update(&mut self, bytes: &[u8]) {
        match self {
            Hasher::Sha256(h) => h.update(bytes),
            Hasher::Blake3(h) => {
                h.update(bytes);
            }
        }
    }

    fn finish(self) -> [u8; 32] {
        match self {
            Hasher::Sha256(h) => h.finalize().into(),
            Hasher::Blake3(h) => *h.finalize().as_bytes(),
        }
    }
}

/// Hashes `len` bytes of `path` from `start` (to the end when `len` is None),
/// passing the bytes read to `sink` when there is one. A file that ends
/// before the expected range is reported as changed.
fn hash_range(
    path: &Path,
    start: u64,
    len: Option<u64>,
    algorithm: HashAlgorithm,
    progress: ProgressFn<'_>,
    mut sink: Option<&mut dyn ReadSink>,
) -> Result<[u8; 32]> {
    let mut file = File::open(path).map_err(|e| Error::io(path, e))?;
    if start > 0 {
        file.seek(SeekFrom::Start(start))
            .map_err(|e| Error::io(path, e))?;
    }
    let mut hasher = Hasher::new(algorithm);
    let size_hint = len.unwrap_or(BUFFER as u64).min(BUFFER as u64) as usize;
    let mut buf = vec![0u8; size_hint.max(4096)];
    let mut remaining = len.unwrap_or(u64::MAX);
    while remaining > 0 {
        let want = buf
            .len()
            .min(usize::try_from(remaining).unwrap_or(usize::MAX));
        let n = match file.read(&mut buf[..want]) {
            Ok(0) => break,
            Ok(n) => n,
            Err(e) if e.kind() == std::io::ErrorKind::Interrupted => continue,
            Err(e) => return Err(Error::io(path, e)),
        };
        hasher.update(&buf[..n]);
        if let Some(sink) = sink.as_mut() {
            sink.update(&buf[..n]);
        }
        remaining -= n as u64;
        progress.advance(n as u64);
    }
    if len.is_some() && remaining > 0 {
        return Err(Error::Walk(super::WalkError::ChangedWhileHashing {
            path: path.display().to_string(),
        }));
    }
    Ok(hasher.finish())
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::fs;

    fn entry(dir: &Path, name: &str, bytes: &[u8]) -> Entry {
        fs::write(dir.join(name), bytes).unwrap();
        Entry {
            name: name.to_string(),
            path: dir.join(name),
            size: bytes.len() as u64,
        }
    }

    #[test]
    fn files_method_matches_known_digests() {
        let dir = tempfile::tempdir().unwrap();
        let entries = vec![entry(dir.path(), "a", b"abc"), entry(dir.path(), "e", b"")];
        let r = hash_entries(&entries, HashAlgorithm::Sha256, Method::Files, &|_: u64| {}).unwrap();
        assert_eq!(
            r[0].digest,
            "ba7816bf8f01cfea414140de5dae2223b00361a396177a9cb410ff61f20015ad"
        );
        assert_eq!(
            r[1].digest,
            "e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855"
        );
        let b = hash_entries(&entries, HashAlgorithm::Blake3, Method::Files, &|_: u64| {}).unwrap();
        assert_eq!(b[0].digest, blake3::hash(b"abc").to_hex().as_str());
        assert_eq!(b[0].algorithm, "blake3");
    }

    #[test]
    fn shards_cover_each_file_and_skip_empty_ones() {
        let dir = tempfile::tempdir().unwrap();
        let data: Vec<u8> = (0..2500u32).map(|i| i as u8).collect();
        let entries = vec![entry(dir.path(), "w", &data), entry(dir.path(), "z", b"")];
        let r = hash_entries(
            &entries,
            HashAlgorithm::Sha256,
            Method::Shards { shard_size: 1000 },
            &|_: u64| {},
        )
        .unwrap();
        let names: Vec<_> = r.iter().map(|r| r.name.as_str()).collect();
        assert_eq!(names, ["w:0:1000", "w:1000:2000", "w:2000:2500"]);
        let expect = hex::encode(sha2::Sha256::digest(&data[2000..]));
        assert_eq!(r[2].digest, expect);
    }

    #[test]
    fn progress_counts_every_byte() {
        let dir = tempfile::tempdir().unwrap();
        let big = vec![7u8; 3 * BUFFER + 5];
        let entries = vec![
            entry(dir.path(), "big", &big),
            entry(dir.path(), "s", b"xy"),
        ];
        let total = std::sync::atomic::AtomicU64::new(0);
        hash_entries(&entries, HashAlgorithm::Sha256, Method::Files, &|n: u64| {
            total.fetch_add(n, std::sync::atomic::Ordering::Relaxed);
        })
        .unwrap();
        assert_eq!(total.into_inner(), big.len() as u64 + 2);
    }

    #[derive(Default)]
    struct Collect(Vec<u8>);

    impl ReadSink for Collect {
        fn update(&mut self, bytes: &[u8]) {
            self.0.extend_from_slice(bytes);
        }
    }

    #[test]
    fn sinks_see_every_byte_in_order() {
        let dir = tempfile::tempdir().unwrap();
        let big: Vec<u8> = (0..3 * BUFFER + 5).map(|i| (i % 251) as u8).collect();
        let entries = vec![
            entry(dir.path(), "big", &big),
            entry(dir.path(), "s", b"xy"),
        ];
        for method in [
            Method::Files,
            Method::Shards {
                shard_size: 100_000,
            },
        ] {
            let plain =
                hash_entries(&entries, HashAlgorithm::Sha256, method, &|_: u64| {}).unwrap();
            let (r, sinks) = hash_entries_with_sinks(
                &entries,
                HashAlgorithm::Sha256,
                method,
                &|_: u64| {},
                &|_: &Entry| Collect::default(),
                &|c: Collect| c,
            )
            .unwrap();
            assert_eq!(r, plain);
            assert_eq!(sinks[0].0, big);
            assert_eq!(sinks[1].0, b"xy");
        }
        let mut one = Collect::default();
        let d = hash_file_into(
            &entries[1].path,
            HashAlgorithm::Sha256,
            &|_: u64| {},
            &mut one,
        )
        .unwrap();
        assert_eq!(hex::encode(d), hex::encode(sha2::Sha256::digest(b"xy")));
        assert_eq!(one.0, b"xy");
    }

    #[test]
    fn a_file_that_shrank_is_an_error() {
        let dir = tempfile::tempdir().unwrap();
        let mut e = entry(dir.path(), "w", b"0123456789");
        e.size = 20;
        let err = hash_entries(
            &[e],
            HashAlgorithm::Sha256,
            Method::Shards { shard_size: 15 },
            &|_: u64| {},
        )
        .unwrap_err();
        assert!(err.to_string().contains("changed while"), "{err}");
    }
}
