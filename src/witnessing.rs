//! Asking an evidence log's witnesses to cosign it, and keeping what they
//! cosign in the log's store: on demand (with an RFC 3161 stamp of the
//! cosigned checkpoint when a time-stamping authority is given), after an
//! append once an interval has passed, and on a service's schedule
//! whenever the log grew.

use crate::evidence::{EvidenceStore, Location, ScanItem};
use crate::registry::tsa::Tsa;
use crate::timestamp::Stamped;
use crate::witness::{Policy, StoreWitnessing, witness_store};
use crate::{Error, Result};
use ed25519_dalek::VerifyingKey;
use std::path::PathBuf;
use std::time::{Duration, SystemTime};

/// What a time-stamping authority made of the cosigned checkpoint.
#[derive(Debug, Clone, PartialEq, Eq)]
#[non_exhaustive]
pub enum TsaStamp {
    /// Stamped, and the stamp was checked under the TSA's anchors.
    Checked(Stamped),
    /// Stamped, not checked (no anchors were given): its verifier checks it.
    Unchecked,
}

/// What [`witness_and_keep`] did.
#[derive(Debug, Clone)]
#[non_exhaustive]
pub struct Witnessed {
    /// What the witnesses did, and whether the cosigned checkpoint was kept.
    pub done: StoreWitnessing,
    /// The RFC 3161 stamp of the cosigned checkpoint kept, when a TSA was
    /// given and a new checkpoint was kept.
    pub stamp: Option<TsaStamp>,
}

/// Asks the policy's witnesses (each within `timeout`) to cosign the
/// checkpoint of the log in `store`, sealed by `key` and verified at
/// `now`, and keeps the cosigned checkpoint in the store, stamped by `tsa`
/// when given.
pub fn witness_and_keep(
    store: &dyn EvidenceStore,
    key: &VerifyingKey,
    policy: &Policy,
    timeout: Duration,
    now: jiff::Timestamp,
    tsa: Option<&Tsa>,
) -> Result<Witnessed> {
    let mut stamp = None;
    let mut stamper = tsa.map(|tsa| {
        let stamp = &mut stamp;
        move |body: &[u8]| -> Result<Vec<u8>> {
            let (token, checked) = tsa.stamp(body, now)?;
            *stamp = Some(checked.map_or(TsaStamp::Unchecked, TsaStamp::Checked));
            Ok(token)
        }
    });
    let done = witness_store(
        store,
        key,
        policy,
        timeout,
        now,
        stamper
            .as_mut()
            .map(|f| f as &mut dyn FnMut(&[u8]) -> Result<Vec<u8>>),
    )?;
    Ok(Witnessed { done, stamp })
}

/// After an append: asks the witnesses (each within `timeout`) to cosign
/// the log at `location` unless the last attempt on it, witnessed or not,
/// was less than `interval` before `wall` (the caller's wall clock):
/// witnesses that are down are asked once per interval, not at every
/// append, and the next witnessing takes the records in. `key` gives the
/// log's key, and is called only when the witnesses are asked. The attempt
/// is marked beside a file log (`LOG.witnessed.attempted`, an empty file
/// whose modification time is set to `wall`; only its metadata is read,
/// and one that is not a regular file is replaced by rename, never
/// followed). A database log keeps no marker: its witnesses are asked
/// after every append, whatever the interval. `None`: not due.
pub fn witness_if_due(
    location: &Location,
    key: &dyn Fn() -> Result<VerifyingKey>,
    policy: &Policy,
    interval: Duration,
    timeout: Duration,
    wall: SystemTime,
    now: jiff::Timestamp,
) -> Result<Option<Witnessed>> {
    let marker = match location {
        Location::File(log) => {
            let mut name = crate::witness::witnessed_path(log).into_os_string();
            name.push(".attempted");
            Some(PathBuf::from(name))
        }
        #[allow(unreachable_patterns)]
        _ => None,
    };
    if let Some(path) = &marker
        && !interval.is_zero()
        && let Some(last) = last_attempt(path)
        && wall.duration_since(last).is_ok_and(|age| age < interval)
    {
        return Ok(None);
    }
    let key = key()?;
    let store = location.open()?;
    if let Some(path) = &marker {
        mark_attempt(path, wall)?;
    }
    witness_and_keep(store.as_ref(), &key, policy, timeout, now, None).map(Some)
}

/// When the last attempt was, from the marker's metadata alone: `None`
/// when it is absent or not a regular file.
fn last_attempt(path: &std::path::Path) -> Option<SystemTime> {
    let meta = std::fs::symlink_metadata(path).ok()?;
    meta.is_file().then(|| meta.modified().ok()).flatten()
}

/// Marks an attempt at `wall`: a new empty file beside the marker, its
/// modification time set, renamed over it (a link or anything else at the
/// marker's name is replaced, never written through). A hint only: not
/// flushed to disk, as losing it costs one more witnessing.
fn mark_attempt(path: &std::path::Path, wall: SystemTime) -> Result<()> {
    let mut name = path.as_os_str().to_owned();
    let mut nonce = [0u8; 8];
    getrandom::fill(&mut nonce)
        .map_err(|e| Error::io(path, std::io::Error::other(e.to_string())))?;
    name.push(format!(
        ".{}.{}.tmp",
        std::process::id(),
        hex::encode(nonce)
    ));
    let tmp = PathBuf::from(name);
    let marked = std::fs::File::create_new(&tmp)
        .and_then(|file| file.set_modified(wall))
        .and_then(|()| std::fs::rename(&tmp, path));
    if marked.is_err() {
        let _ = std::fs::remove_file(&tmp);
    }
    marked.map_err(|e| Error::io(path, e))
}

/// A service's round: when the checkpoint of the log in `store` is not
/// `last` (the one witnessed in the previous round), asks the witnesses
/// to cosign it and keeps what they cosign. The checkpoint asked about and
/// what the witnesses did; `None` when the log has not grown, or holds no
/// record yet. A log holding records without a checkpoint is an error.
pub fn witness_if_grown(
    store: &dyn EvidenceStore,
    key: &VerifyingKey,
    policy: &Policy,
    last: Option<&str>,
    timeout: Duration,
    now: jiff::Timestamp,
) -> Result<Option<(String, StoreWitnessing)>> {
    let Some(head) = checkpoint_note(store)? else {
        return Ok(None);
    };
    if Some(head.as_str()) == last {
        return Ok(None); // Nothing new to cosign.
    }
    let done = witness_store(store, key, policy, timeout, now, None)?;
    Ok(Some((head, done)))
}

/// The log's signed checkpoint note as stored, read without the records
/// (the scan is stopped at the first record). `None` for a log without
/// records; an error for records without a checkpoint.
fn checkpoint_note(store: &dyn EvidenceStore) -> Result<Option<String>> {
    const STOP: &str = "(the checkpoint is read; the records are not)";
    let mut note = None;
    let mut records = false;
    let scanned = store.scan(&mut |item| {
        match item {
            ScanItem::Checkpoint(found) => note = found.map(str::to_string),
            ScanItem::Record { .. } | ScanItem::Oversized { .. } => {
                records = true;
                return Err(Error::Evidence(STOP.into()));
            }
            _ => {}
        }
        Ok(())
    });
    match scanned {
        Err(Error::Evidence(m)) if m == STOP => {}
        other => other?,
    }
    match (note, records) {
        (None, true) => Err(Error::Evidence(
            "the log holds records but no checkpoint: it cannot be put to its witnesses".into(),
        )),
        (note, _) => Ok(note),
    }
}

#[cfg(test)]
pub(crate) mod tests {
    use super::*;
    use crate::evidence::record::DeploymentEvidence;
    use crate::evidence::{EvidenceSubject, FileLog, NewRecord, Predicate};

    fn deployment(i: usize) -> NewRecord {
        NewRecord {
            subject: EvidenceSubject {
                name: format!("model-{i}").into(),
                sha256: format!("{i:064x}").into(),
            },
            predicate: Predicate::Deployment(Box::new(DeploymentEvidence {
                target: None,
                verification: None,
                admission: None,
                time: jiff::Timestamp::from_second(100).unwrap(),
            })),
            clock: crate::clock::TimeSource::Test,
        }
    }

    /// A file log of `n` deployments sealed by a fixed key, its public
    /// half, and a policy whose one witness has no URL (never reached).
    pub(crate) fn log(dir: &std::path::Path, n: usize) -> (PathBuf, VerifyingKey, Policy) {
        let path = dir.join("log.jsonl");
        let signing = ed25519_dalek::SigningKey::from_bytes(&[7; 32]);
        let records = (0..n).map(deployment);
        let private = crate::keys::PrivateKey::Ed25519(signing.clone());
        FileLog::create_with(&path, records, &private).unwrap();
        let key = signing.verifying_key();
        let store = FileLog::new(&path);
        let check = crate::evidence::verify_store(&store, &key, Default::default()).unwrap();
        let origin = &check.checkpoint.as_ref().unwrap().origin;
        let witness = ed25519_dalek::SigningKey::from_bytes(&[8; 32]);
        let policy = Policy::parse(&format!(
            "log {}\nwitness w {}\nquorum w\n",
            crate::evidence::verifier_key(origin, &key),
            crate::witness::witness_vkey("w.example", &witness.verifying_key())
        ))
        .unwrap();
        (path, key, policy)
    }

    /// Witnessing after an append is asked once per interval of the
    /// caller's wall clock, whatever the outcome of the last attempt.
    #[test]
    fn witnessing_after_an_append_is_batched_by_the_interval() {
        let dir = tempfile::tempdir().unwrap();
        let (path, key, policy) = log(dir.path(), 2);
        let location = Location::File(path);
        let now = jiff::Timestamp::from_second(1_000).unwrap();
        let interval = Duration::from_secs(60);
        let wall = SystemTime::UNIX_EPOCH + Duration::from_secs(1_700_000_000);
        let timeout = Duration::from_secs(1);
        let asked = std::cell::Cell::new(0);
        let key_of = || {
            asked.set(asked.get() + 1);
            Ok(key)
        };
        let due = |interval, wall| {
            witness_if_due(&location, &key_of, &policy, interval, timeout, wall, now).unwrap()
        };
        let first = due(interval, wall).expect("the first attempt is due");
        assert!(
            !first.done.run.quorum,
            "a witness without a URL never cosigns"
        );
        assert_eq!(first.done.size, 2);
        assert!(due(interval, wall + Duration::from_secs(59)).is_none());
        assert_eq!(asked.get(), 1, "the key is not loaded when nothing is due");
        assert!(due(interval, wall + Duration::from_secs(61)).is_some());
        // No interval: every append asks.
        assert!(due(Duration::ZERO, wall + Duration::from_secs(61)).is_some());
        // A marker planted as a link is replaced, not followed.
        let Location::File(log) = &location else {
            unreachable!()
        };
        let marker = dir.path().join("log.jsonl.witnessed.attempted");
        std::fs::remove_file(&marker).unwrap();
        std::os::unix::fs::symlink(log, &marker).unwrap();
        let before = std::fs::read(log).unwrap();
        assert!(due(interval, wall).is_some());
        assert_eq!(std::fs::read(log).unwrap(), before, "the log is untouched");
        assert!(!std::fs::symlink_metadata(&marker).unwrap().is_symlink());
        // A marker that is not a regular file (here a directory) is due,
        // and is never followed.
        std::fs::remove_file(&marker).unwrap();
        std::fs::create_dir(&marker).unwrap();
        assert!(witness_if_due(&location, &key_of, &policy, interval, timeout, wall, now).is_err());
    }

    /// A service's round asks only when the log's checkpoint changed.
    #[test]
    fn a_round_asks_only_when_the_log_grew() {
        let dir = tempfile::tempdir().unwrap();
        let (path, key, policy) = log(dir.path(), 1);
        let store = FileLog::new(&path);
        let now = jiff::Timestamp::from_second(1_000).unwrap();
        let timeout = Duration::from_secs(1);
        let (head, done) = witness_if_grown(&store, &key, &policy, None, timeout, now)
            .unwrap()
            .expect("a first round asks");
        assert_eq!(done.size, 1);
        let body = |note: &str| crate::witness::split_note(note).unwrap().0.to_string();
        assert_eq!(body(&head), body(&done.run.cosigned_note));
        let again = witness_if_grown(&store, &key, &policy, Some(&head), timeout, now).unwrap();
        assert!(again.is_none());
        // The log grows: the next round asks about the new checkpoint.
        let signing = ed25519_dalek::SigningKey::from_bytes(&[7; 32]);
        for i in 1..3 {
            crate::evidence::append(&path, &deployment(i), &signing).unwrap();
        }
        let (next, done) = witness_if_grown(&store, &key, &policy, Some(&head), timeout, now)
            .unwrap()
            .expect("a grown log is asked about");
        assert_ne!(next, head);
        assert_eq!(done.size, 3);
        // Records without a checkpoint cannot be put to the witnesses.
        std::fs::remove_file(crate::evidence::checkpoint_path(&path)).unwrap();
        assert!(witness_if_grown(&store, &key, &policy, Some(&next), timeout, now).is_err());
    }
}
