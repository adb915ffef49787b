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

/// After an append: asks the witnesses to cosign the log at `location`
/// unless the last attempt on it, witnessed or not, was less than
/// `interval` before `wall` (the caller's wall clock): witnesses that are
/// down are asked once per interval, not at every append, and the next
/// witnessing takes the records in. The attempt is marked beside a file
/// log (`LOG.witnessed.attempted`); a database log is asked every time.
/// `None`: not due.
pub fn witness_if_due(
    location: &Location,
    key: &VerifyingKey,
    policy: &Policy,
    interval: Duration,
    wall: SystemTime,
    now: jiff::Timestamp,
) -> Result<Option<Witnessed>> {
    let attempted = match location {
        Location::File(log) => {
            let mut name = crate::witness::witnessed_path(log).into_os_string();
            name.push(".attempted");
            Some(PathBuf::from(name))
        }
        #[allow(unreachable_patterns)]
        _ => None,
    };
    if let Some(path) = &attempted {
        let age = std::fs::metadata(path)
            .and_then(|m| m.modified())
            .ok()
            .and_then(|modified| wall.duration_since(modified).ok());
        if !interval.is_zero() && age.is_some_and(|age| age < interval) {
            return Ok(None);
        }
        std::fs::write(path, b"").map_err(|e| Error::io(path, e))?;
    }
    let store = location.open()?;
    witness_and_keep(
        store.as_ref(),
        key,
        policy,
        Duration::from_secs(10),
        now,
        None,
    )
    .map(Some)
}

/// A service's round: when the checkpoint of the log in `store` is not
/// `last` (the one witnessed in the previous round), asks the witnesses
/// to cosign it and keeps what they cosign. The checkpoint asked about and
/// what the witnesses did; `None` when the log has not grown.
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
/// (the scan is stopped at its first item, the checkpoint).
fn checkpoint_note(store: &dyn EvidenceStore) -> Result<Option<String>> {
    const STOP: &str = "(the checkpoint is read; the records are not)";
    let mut note = None;
    let scanned = store.scan(&mut |item| {
        if let ScanItem::Checkpoint(found) = item {
            note = found.map(str::to_string);
        }
        Err(Error::Evidence(STOP.into()))
    });
    match scanned {
        Err(Error::Evidence(m)) if m == STOP => Ok(note),
        other => other.map(|()| note),
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::evidence::record::DeploymentEvidence;
    use crate::evidence::{EvidenceSubject, FileLog, NewRecord, Predicate};

    /// A file log of `n` deployments sealed by a fixed key, its public
    /// half, and a policy whose one witness has no URL (never reached).
    fn log(dir: &std::path::Path, n: usize) -> (PathBuf, VerifyingKey, Policy) {
        let path = dir.join("log.jsonl");
        let signing = ed25519_dalek::SigningKey::from_bytes(&[7; 32]);
        let records = (0..n).map(|i| NewRecord {
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
        });
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
        let wall = SystemTime::now();
        let first = witness_if_due(&location, &key, &policy, interval, wall, now).unwrap();
        let first = first.expect("the first attempt is due");
        assert!(
            !first.done.run.quorum,
            "a witness without a URL never cosigns"
        );
        assert_eq!(first.done.size, 2);
        assert!(
            witness_if_due(&location, &key, &policy, interval, wall, now)
                .unwrap()
                .is_none()
        );
        let later = wall + Duration::from_secs(61);
        assert!(
            witness_if_due(&location, &key, &policy, interval, later, now)
                .unwrap()
                .is_some()
        );
        // No interval: every append asks.
        assert!(
            witness_if_due(&location, &key, &policy, Duration::ZERO, wall, now)
                .unwrap()
                .is_some()
        );
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
        assert!(head.starts_with(&done.run.cosigned_note.lines().next().unwrap().to_string()));
        let again = witness_if_grown(&store, &key, &policy, Some(&head), timeout, now).unwrap();
        assert!(again.is_none());
    }
}
