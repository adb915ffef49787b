use super::*;
use crate::digest::{Entry, IgnoreSet, LinkScope, WalkOptions, walk, walk_model};
use std::fs;
use std::io::Write;

fn entry(dir: &Path, name: &str, bytes: &[u8]) -> Entry {
    fs::write(dir.join(name), bytes).unwrap();
    Entry {
        name: name.to_string(),
        path: dir.join(name),
        size: bytes.len() as u64,
    }
}

fn listed(dir: &Path) -> FileList {
    let ignore = IgnoreSet::new();
    walk_model(
        dir,
        &WalkOptions::new(false, &LinkScope::WithinRoot, &ignore),
    )
    .unwrap()
    .files
}

fn is_changed(err: &Error, name: &str) -> bool {
    matches!(err, Error::Walk(WalkError::ChangedWhileHashing { path }) if path == name)
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
    fs::write(dir.path().join("big"), &big).unwrap();
    fs::write(dir.path().join("s"), b"xy").unwrap();
    fs::write(dir.path().join("t"), b"not sunk").unwrap();
    for method in [
        Method::Files,
        Method::Shards {
            shard_size: 100_000,
        },
    ] {
        let plain = hash_files(
            listed(dir.path()),
            HashAlgorithm::Sha256,
            method,
            &|_: u64| {},
        )
        .unwrap();
        let (r, outputs) = hash_files_with_sinks(
            listed(dir.path()),
            HashAlgorithm::Sha256,
            method,
            &|_: u64| {},
            Some(Sinks {
                make: &|_, name: &str| (name != "t").then(Collect::default),
                finish: &|_, sink: Collect| sink.0,
            }),
        )
        .unwrap();
        assert_eq!(r, plain);
        assert_eq!(outputs.len(), 2);
        assert_eq!(outputs[0], (0, big.clone()));
        assert_eq!(outputs[1], (1, b"xy".to_vec()));
    }
}

/// Issue 10: shards were planned from the walk's size and never checked
/// again, so a file that grew after the walk signed its first bytes only.
#[test]
fn a_file_that_grew_after_the_walk_is_refused_in_shards_mode() {
    let dir = tempfile::tempdir().unwrap();
    fs::write(dir.path().join("w"), vec![1u8; 2500]).unwrap();
    let entries = walk(dir.path(), false, &IgnoreSet::new()).unwrap();
    fs::OpenOptions::new()
        .append(true)
        .open(dir.path().join("w"))
        .unwrap()
        .write_all(b"more")
        .unwrap();
    let err = hash_entries(
        &entries,
        HashAlgorithm::Sha256,
        Method::Shards { shard_size: 1000 },
        &|_: u64| {},
    )
    .unwrap_err();
    assert!(is_changed(&err, "w"), "{err}");
    assert!(err.to_string().contains("changed while"), "{err}");
}

#[test]
fn a_file_that_changed_after_the_walk_is_refused_in_every_method() {
    for method in [Method::Files, Method::Shards { shard_size: 7 }] {
        for change in ["grow", "shrink", "replace", "link"] {
            let dir = tempfile::tempdir().unwrap();
            let w = dir.path().join("w");
            fs::write(&w, b"0123456789").unwrap();
            fs::write(dir.path().join("other"), b"9876543210").unwrap();
            let list = listed(dir.path());
            // File times are coarse: let a change move them.
            std::thread::sleep(std::time::Duration::from_millis(20));
            match change {
                "grow" => fs::write(&w, b"0123456789+").unwrap(),
                "shrink" => fs::write(&w, b"01234").unwrap(),
                "replace" => {
                    fs::remove_file(&w).unwrap();
                    fs::write(&w, b"abcdefghij").unwrap();
                }
                _ => {
                    fs::remove_file(&w).unwrap();
                    std::os::unix::fs::symlink("other", &w).unwrap();
                }
            }
            let err = hash_files(list, HashAlgorithm::Sha256, method, &|_: u64| {}).unwrap_err();
            assert!(is_changed(&err, "w"), "{method:?} {change}: {err}");
        }
    }
}

/// A sink that writes to the file it is fed: the file changes in the
/// middle of the hashing read.
struct Meddle(std::path::PathBuf, bool);

impl ReadSink for Meddle {
    fn update(&mut self, _: &[u8]) {
        if !self.1 {
            self.1 = true;
            let mut f = fs::OpenOptions::new().write(true).open(&self.0).unwrap();
            f.write_all(b"XX").unwrap();
            f.sync_all().unwrap();
        }
    }
}

#[test]
fn a_file_written_while_it_is_read_is_refused() {
    for method in [
        Method::Files,
        Method::Shards {
            shard_size: BUFFER as u64,
        },
    ] {
        let dir = tempfile::tempdir().unwrap();
        let w = dir.path().join("w");
        fs::write(&w, vec![5u8; 3 * BUFFER]).unwrap();
        // Make sure a later write moves the modification time.
        std::thread::sleep(std::time::Duration::from_millis(20));
        let err = hash_files_with_sinks(
            listed(dir.path()),
            HashAlgorithm::Sha256,
            method,
            &|_: u64| {},
            Some(Sinks {
                make: &|_, _: &str| Some(Meddle(w.clone(), false)),
                finish: &|_, _: Meddle| (),
            }),
        )
        .unwrap_err();
        assert!(is_changed(&err, "w"), "{method:?}: {err}");
    }
}

#[test]
fn a_file_deleted_after_the_walk_is_refused() {
    let dir = tempfile::tempdir().unwrap();
    fs::write(dir.path().join("w"), b"x").unwrap();
    let list = listed(dir.path());
    fs::remove_file(dir.path().join("w")).unwrap();
    let err = hash_files(list, HashAlgorithm::Sha256, Method::Files, &|_: u64| {}).unwrap_err();
    assert!(is_changed(&err, "w"), "{err}");
}

/// A progress receiver that holds each worker thread at its first call
/// until a second thread has called too: hashing passes through it only if
/// two files are hashed at the same time. Needs no clock: the timeout
/// fires only when the work never spreads, and is recorded as the failure.
struct Rendezvous {
    seen: std::sync::Mutex<std::collections::HashSet<std::thread::ThreadId>>,
    arrived: std::sync::Condvar,
    alone: std::sync::atomic::AtomicBool,
}

impl Progress for Rendezvous {
    fn advance(&self, _: u64) {
        let me = std::thread::current().id();
        let mut seen = self.seen.lock().unwrap();
        if seen.contains(&me) {
            return;
        }
        seen.insert(me);
        self.arrived.notify_all();
        let (seen, waited) = self
            .arrived
            .wait_timeout_while(seen, std::time::Duration::from_secs(60), |s| s.len() < 2)
            .unwrap();
        if waited.timed_out() && seen.len() < 2 {
            self.alone.store(true, std::sync::atomic::Ordering::SeqCst);
        }
    }
}

#[test]
fn a_few_large_files_are_hashed_on_two_threads_at_once() {
    let dir = tempfile::tempdir().unwrap();
    let eight_mib: Vec<u8> = (0..8u32 << 20).map(|i| (i % 251) as u8).collect();
    for name in ["a", "b", "c", "d"] {
        fs::write(dir.path().join(name), &eight_mib).unwrap();
    }
    let pool = rayon::ThreadPoolBuilder::new()
        .num_threads(2)
        .build()
        .unwrap();
    for method in [
        Method::Files,
        Method::Shards {
            shard_size: 1 << 20,
        },
    ] {
        let meeting = Rendezvous {
            seen: Default::default(),
            arrived: Default::default(),
            alone: Default::default(),
        };
        let files = listed(dir.path());
        let resources = pool
            .install(|| hash_files(files, HashAlgorithm::Sha256, method, &meeting))
            .unwrap();
        assert!(!resources.is_empty());
        assert!(
            !meeting.alone.load(std::sync::atomic::Ordering::SeqCst),
            "{method:?}: one thread hashed alone while the other idled"
        );
    }
}

#[test]
fn tiny_files_are_batched_and_large_ones_are_tasks_of_their_own() {
    let mut files = FileList::default();
    let source = files.add_source(super::super::file_list::Source::Dir("/".into()));
    let stat = |size| FileStat {
        size,
        dev: 0,
        ino: 0,
        mtime: (0, 0),
    };
    for i in 0..10_000 {
        files.push(&format!("small{i:05}"), stat(100), source);
    }
    for i in 0..4 {
        files.push(&format!("zlarge{i}"), stat(512 << 20), source);
    }
    let b = batches(&files);
    // Every file once, in order.
    assert_eq!(b.first().unwrap().start, 0);
    assert_eq!(b.last().unwrap().end, files.len());
    assert!(b.windows(2).all(|w| w[0].end == w[1].start));
    // About 250 tiny files a task; each large file alone.
    assert!(b.len() > 30 && b.len() < 60, "{} tasks", b.len());
    assert!(b.iter().rev().take(4).all(|r| r.len() == 1), "{b:?}");
}
