//! The states a killed writer can leave, each built by hand, and what
//! verify (read-only) and the next append (which repairs) make of them.

use super::*;
use crate::clock::TimeSource;
use crate::record::{
    DeploymentEvidence, EvidenceSubject, LogBinding, NewRecord, Predicate, seal, seal_bound,
};
use ed25519_dalek::SigningKey;

fn key(seed: u8) -> SigningKey {
    SigningKey::from_bytes(&[seed; 32])
}

fn rec(i: u8) -> NewRecord {
    NewRecord {
        subject: EvidenceSubject {
            name: format!("m{i}").into(),
            sha256: (hex::encode([i; 32])).into(),
        },
        predicate: Predicate::Deployment(Box::new(DeploymentEvidence {
            target: None,
            verification: None,
            admission: None,
            time: "2026-03-01T00:00:00Z".parse().unwrap(),
        })),
        clock: TimeSource::System,
    }
}

/// A record as release 0.2 sealed it: bound to no log.
fn line(i: u8, key: &SigningKey) -> String {
    seal(&rec(i), key).unwrap()
}

/// A record sealed for the place just beyond the log's checkpoint: what a
/// writer killed between its two writes leaves.
fn bound_line(i: u8, key: &SigningKey, path: &Path) -> String {
    let cp = verify(path, key).checkpoint.unwrap();
    let binding = LogBinding {
        origin: cp.origin.into(),
        index: cp.size,
        previous: cp.root,
        batch: None,
    };
    seal_bound(&rec(i), key, &binding).unwrap()
}

/// A log of `n` records in a fresh directory.
fn log_of(n: u8) -> (tempfile::TempDir, PathBuf, SigningKey) {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("evidence.jsonl");
    let k = key(5);
    for i in 0..n {
        append(&path, &rec(i), &k).unwrap();
    }
    (dir, path, k)
}

fn verify(path: &Path, k: &SigningKey) -> LogCheck {
    verify_log(path, &k.verifying_key(), None).unwrap()
}

fn add_bytes(path: &Path, bytes: &[u8]) {
    let mut f = OpenOptions::new().append(true).open(path).unwrap();
    f.write_all(bytes).unwrap();
}

#[test]
fn a_missing_log_or_checkpoint_is_an_error_not_an_empty_log() {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("absent.jsonl");
    let k = key(5);
    let e = verify_log(&path, &k.verifying_key(), None).unwrap_err();
    assert!(e.to_string().contains("no evidence log there"), "{e}");
    let (_dir, path, k) = log_of(2);
    std::fs::remove_file(checkpoint_path(&path)).unwrap();
    let e = verify_log(&path, &k.verifying_key(), None).unwrap_err();
    assert!(e.to_string().contains("has no checkpoint"), "{e}");
    // Nor can an append start over a log whose checkpoint went missing.
    let e = append(&path, &rec(9), &k).unwrap_err();
    assert!(e.to_string().contains("no checkpoint"), "{e}");
}

#[test]
fn a_new_log_gets_its_own_origin_and_an_empty_checkpoint_first() {
    let (_a, a, k) = log_of(1);
    let (_b, b, _) = log_of(1);
    let (ca, cb) = (verify(&a, &k), verify(&b, &k));
    assert!(ca.ok() && cb.ok());
    let (oa, ob) = (ca.checkpoint.unwrap().origin, cb.checkpoint.unwrap().origin);
    assert_ne!(oa, ob, "two logs of one key have two origins");
    // A checkpoint of one is refused as an older checkpoint of the other.
    let older = std::fs::read_to_string(checkpoint_path(&a)).unwrap();
    let check = verify_log(&b, &k.verifying_key(), Some(&older)).unwrap();
    assert!(
        check
            .problems
            .iter()
            .any(|p| matches!(p, crate::LogProblem::OlderOfAnotherLog { .. })),
        "{:?}",
        check.problems
    );
    // A writer killed after creating the log and its empty checkpoint
    // leaves a log that verifies (empty) and that the next append uses.
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("new.jsonl");
    let cp = FileLog::new(&path).create(&k).unwrap();
    assert_eq!(cp.1.size(), 0);
    let check = verify(&path, &k);
    assert!(check.ok() && check.checkpoint.as_ref().unwrap().size == 0);
    append(&path, &rec(0), &k).unwrap();
    assert_eq!(verify(&path, &k).checkpoint.unwrap().origin, cp.0);
}

#[test]
fn a_torn_last_line_is_reported_by_verify_and_cut_by_the_next_append() {
    let (_dir, path, k) = log_of(3);
    let torn = line(7, &k);
    add_bytes(&path, &torn.as_bytes()[..torn.len() / 2]);
    let before = std::fs::read(&path).unwrap();
    let check = verify(&path, &k);
    assert!(check.ok(), "{:?}", check.problems);
    assert_eq!(check.records.len(), 3);
    assert!(check.repairs[0].contains("cut off"), "{:?}", check.repairs);
    assert_eq!(std::fs::read(&path).unwrap(), before, "verify is read-only");
    append(&path, &rec(8), &k).unwrap();
    let check = verify(&path, &k);
    assert!(check.ok() && check.repairs.is_empty(), "{check:?}");
    assert_eq!(check.records.len(), 4);
}

#[test]
fn a_complete_record_beyond_the_checkpoint_is_taken_in() {
    let (_dir, path, k) = log_of(2);
    add_bytes(&path, format!("{}\n", bound_line(3, &k, &path)).as_bytes());
    let check = verify(&path, &k);
    assert!(check.ok(), "{:?}", check.problems);
    assert_eq!(
        check.records.len(),
        2,
        "not evidence until a checkpoint covers it"
    );
    assert!(
        check.repairs[0].contains("takes them in"),
        "{:?}",
        check.repairs
    );
    append(&path, &rec(4), &k).unwrap();
    let check = verify(&path, &k);
    assert!(check.ok() && check.repairs.is_empty());
    assert_eq!(check.records.len(), 4);
    // A leftover temporary checkpoint changes nothing.
    std::fs::write(with_suffix(&checkpoint_path(&path), ".tmp"), "junk").unwrap();
    assert!(verify(&path, &k).ok());
    append(&path, &rec(5), &k).unwrap();
    assert_eq!(verify(&path, &k).records.len(), 5);
    // A link planted at that name is never written through.
    let planted = with_suffix(&checkpoint_path(&path), ".tmp");
    let victim = path.with_extension("victim");
    std::fs::write(&victim, "keep").unwrap();
    std::fs::remove_file(&planted).unwrap();
    std::os::unix::fs::symlink(&victim, &planted).unwrap();
    append(&path, &rec(6), &k).unwrap();
    assert_eq!(std::fs::read_to_string(&victim).unwrap(), "keep");
    assert_eq!(verify(&path, &k).records.len(), 6);
}

#[test]
fn anything_else_beyond_the_checkpoint_stays_tampering() {
    let (_dir, path, k) = log_of(2);
    let original = std::fs::read(&path).unwrap();
    // A record sealed by another key: named as such, and never taken in.
    let intruder = key(6);
    add_bytes(&path, format!("{}\n", line(3, &intruder)).as_bytes());
    let check = verify(&path, &k);
    assert!(
        check.problems.iter().any(|p| matches!(
            p,
            crate::LogProblem::UnreadableBeyond {
                record: 3,
                why: crate::record::RecordError::OtherKey { keyid },
            } if *keyid == crate::record::key_id(&intruder.verifying_key())
        )),
        "{:?}",
        check.problems
    );
    let e = append(&path, &rec(4), &k).unwrap_err();
    assert!(e.to_string().contains("refusing to append"), "{e}");
    // A complete line that is no record at all.
    std::fs::write(&path, &original).unwrap();
    add_bytes(&path, b"{\"not\":\"a record\"}\n");
    assert!(!verify(&path, &k).ok());
    assert!(append(&path, &rec(4), &k).is_err());
    // A torn line inside what the checkpoint covers.
    std::fs::write(&path, &original[..original.len() - 5]).unwrap();
    assert!(!verify(&path, &k).ok());
    assert!(append(&path, &rec(4), &k).is_err());
    // A line longer than any record.
    std::fs::write(&path, &original).unwrap();
    let mut long = vec![b'x'; MAX_RECORD + 10];
    long.push(b'\n');
    add_bytes(&path, &long);
    let check = verify(&path, &k);
    assert!(
        check
            .problems
            .iter()
            .any(|p| matches!(p, crate::LogProblem::TooLong { .. })),
        "{:?}",
        check.problems
    );
    assert!(append(&path, &rec(4), &k).is_err());
}

#[test]
fn logs_written_by_release_0_1_0_keep_their_origin() {
    let dir = tempfile::tempdir().unwrap();
    let golden =
        Path::new(concat!(env!("CARGO_MANIFEST_DIR"), "/../..")).join("fixtures/golden/v0.1.0");
    let path = dir.path().join("evidence.jsonl");
    std::fs::copy(golden.join("evidence.jsonl"), &path).unwrap();
    std::fs::copy(
        golden.join("evidence.jsonl.checkpoint"),
        checkpoint_path(&path),
    )
    .unwrap();
    let pem = std::fs::read_to_string(golden.join("evidence.priv.pem")).unwrap();
    let crate::keys::PrivateKey::Ed25519(k) =
        crate::keys::parse_private_key(Path::new("golden"), &pem).unwrap()
    else {
        panic!("the golden evidence key is Ed25519");
    };
    let older = std::fs::read_to_string(checkpoint_path(&path)).unwrap();
    let check = verify(&path, &k);
    assert!(check.ok(), "{:?}", check.problems);
    let origin = check.checkpoint.unwrap().origin;
    assert_eq!(origin, crate::origin::legacy_key_origin(&k.verifying_key()));
    append(&path, &rec(1), &k).unwrap();
    let check = verify_log(&path, &k.verifying_key(), Some(&older)).unwrap();
    assert!(check.ok(), "{:?}", check.problems);
    assert_eq!(check.checkpoint.unwrap().origin, origin);
    assert!(check.consistency.is_some());
}

#[test]
fn a_replayed_record_beyond_the_checkpoint_is_not_taken_in() {
    // A copy of a record the log already holds, put after the checkpoint.
    let (_dir, path, k) = log_of(2);
    let first = std::fs::read_to_string(&path).unwrap();
    let first = first.lines().next().unwrap().to_string();
    add_bytes(&path, format!("{first}\n").as_bytes());
    let e = append(&path, &rec(7), &k).unwrap_err();
    assert!(e.to_string().contains("sealed for index 0"), "{e}");
    // A new record there (a killed writer's) is still taken in.
    let (_dir, path, k) = log_of(2);
    add_bytes(&path, format!("{}\n", bound_line(8, &k, &path)).as_bytes());
    append(&path, &rec(9), &k).unwrap();
    assert!(verify(&path, &k).ok());
}

#[test]
fn a_record_copied_from_another_log_of_the_same_key_is_tampering_not_a_repair() {
    // A staging log and a production log sealed by the same key.
    let (_s, staging, k) = log_of(3);
    let (_p, production, _) = log_of(2);
    let copied = std::fs::read_to_string(&staging).unwrap();
    let copied = copied.lines().nth(2).unwrap();
    add_bytes(&production, format!("{copied}\n").as_bytes());
    let check = verify(&production, &k);
    assert!(
        check
            .problems
            .iter()
            .any(|p| p.to_string().contains("sealed for another log")),
        "{check:?}"
    );
    assert!(check.repairs.is_empty(), "{:?}", check.repairs);
    let e = append(&production, &rec(9), &k).unwrap_err();
    assert!(e.to_string().contains("sealed for another log"), "{e}");
    // A record of release 0.2 (bound to no log) is refused there too.
    let (_p, production, _) = log_of(2);
    add_bytes(&production, format!("{}\n", line(7, &k)).as_bytes());
    assert!(!verify(&production, &k).ok());
    let e = append(&production, &rec(9), &k).unwrap_err();
    assert!(e.to_string().contains("not bound to this log"), "{e}");
}

#[test]
fn an_older_checkpoint_put_back_is_tampering_not_a_pending_repair() {
    let (_dir, path, k) = log_of(2);
    let older = std::fs::read(checkpoint_path(&path)).unwrap();
    append(&path, &rec(2), &k).unwrap();
    append(&path, &rec(3), &k).unwrap();
    std::fs::write(checkpoint_path(&path), &older).unwrap();
    let check = verify(&path, &k);
    assert!(
        check
            .problems
            .iter()
            .any(|p| matches!(p, crate::LogProblem::NotRepairable { reason }
                if reason.contains("2 records beyond its checkpoint"))),
        "{check:?}"
    );
    let e = append(&path, &rec(9), &k).unwrap_err();
    assert!(e.to_string().contains("beyond its checkpoint"), "{e}");
}

#[test]
fn the_same_record_twice_is_two_records_and_a_crash_between_them_does_not_brick_the_log() {
    let (_dir, path, k) = log_of(1);
    let (_, first) = append(&path, &rec(4), &k).unwrap();
    // The same verification again within the second: another line.
    let (_, second) = append(&path, &rec(4), &k).unwrap();
    assert_ne!(first, second);
    // A writer killed after writing the same record a third time, before
    // its checkpoint: the record is taken in by the next append.
    add_bytes(&path, format!("{}\n", bound_line(4, &k, &path)).as_bytes());
    let check = verify(&path, &k);
    assert!(check.ok() && check.repairs.len() == 1, "{check:?}");
    append(&path, &rec(5), &k).unwrap();
    let check = verify(&path, &k);
    assert!(check.ok(), "{:?}", check.problems);
    assert_eq!(check.records.len(), 5);
    assert_eq!(check.unbound, 0);
}

#[test]
fn an_unbound_record_after_bound_ones_is_tampering_and_old_logs_read_as_unbound() {
    // A log of release 0.2: unbound records, then this release appends.
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("evidence.jsonl");
    let k = key(5);
    let old: Vec<String> = (0..3).map(|i| line(i, &k)).collect();
    FileLog::new(&path).create(&k).unwrap();
    {
        // Written as release 0.2 did: lines, then a checkpoint over them.
        let mut frontier = Frontier::new();
        for l in &old {
            add_bytes(&path, format!("{l}\n").as_bytes());
            frontier.push(leaf_hash(l.as_bytes()));
        }
        let origin = verify(&path, &k).checkpoint.unwrap().origin;
        let cp = Checkpoint {
            origin: origin.clone(),
            size: frontier.size(),
            root: frontier.root(),
        };
        std::fs::write(
            checkpoint_path(&path),
            sign_checkpoint(&cp, &origin, &k).unwrap(),
        )
        .unwrap();
    }
    let check = verify(&path, &k);
    assert!(check.ok(), "{:?}", check.problems);
    assert_eq!(check.unbound, 3);
    append(&path, &rec(3), &k).unwrap();
    let check = verify(&path, &k);
    assert!(check.ok() && check.unbound == 3, "{check:?}");
    // Someone with the key's old records but not the key splices an
    // unbound one in after the bound record, and re-signs nothing: the
    // root no longer matches. With the checkpoint left alone, the
    // record-level finding names the splice too.
    let mut lines: Vec<String> = std::fs::read_to_string(&path)
        .unwrap()
        .lines()
        .map(str::to_string)
        .collect();
    lines.push(old[0].clone());
    std::fs::write(&path, lines.join("\n") + "\n").unwrap();
    let mut frontier = Frontier::new();
    for l in &lines {
        frontier.push(leaf_hash(l.as_bytes()));
    }
    let origin = verify(&path, &k).checkpoint.unwrap().origin;
    let forged = Checkpoint {
        origin: origin.clone(),
        size: frontier.size(),
        root: frontier.root(),
    };
    // (Only the key holder could sign this checkpoint; the finding stands
    // even then.)
    std::fs::write(
        checkpoint_path(&path),
        sign_checkpoint(&forged, &origin, &k).unwrap(),
    )
    .unwrap();
    let check = verify(&path, &k);
    assert!(
        check
            .problems
            .contains(&crate::LogProblem::Unbound { record: 5 }),
        "{check:?}"
    );
}

#[test]
fn times_that_run_back_along_the_log_or_ahead_of_the_clock_are_findings() {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("evidence.jsonl");
    let k = key(5);
    let at = |i: u8, time: &str| {
        let mut r = rec(i);
        if let Predicate::Deployment(d) = &mut r.predicate {
            d.time = time.parse().unwrap();
        }
        r
    };
    append(&path, &at(0, "2026-10-01T12:00:00Z"), &k).unwrap();
    // Within the tolerance: writers' clocks disagree a little.
    append(&path, &at(1, "2026-10-01T11:55:00Z"), &k).unwrap();
    let check = |now: &str| {
        verify_store(
            &FileLog::new(&path),
            &k.verifying_key(),
            VerifyOptions {
                now: Some(now.parse().unwrap()),
                ..VerifyOptions::default()
            },
        )
        .unwrap()
    };
    assert!(check("2026-12-01T00:00:00Z").time_findings.is_empty());
    append(&path, &at(2, "2026-02-02T12:00:00Z"), &k).unwrap();
    let found = check("2026-12-01T00:00:00Z");
    assert!(found.ok(), "intact all the same");
    assert_eq!(found.time_findings.len(), 1, "{:?}", found.time_findings);
    assert_eq!(found.time_findings[0].0, 2);
    assert!(found.time_findings[0].1.contains("before record 1"));
    // Verified by a clock that is behind the records: the two October
    // records are ahead of it, and being outliers they do not make the
    // February record after them a finding too.
    let behind = check("2026-06-01T00:00:00Z");
    assert_eq!(behind.time_findings.len(), 2, "{:?}", behind.time_findings);
    assert!(
        behind
            .time_findings
            .iter()
            .all(|(_, t)| t.contains("after the verifying clock"))
    );
    // A clock at the end of time does not overflow.
    assert_eq!(
        check(&jiff::Timestamp::MAX.to_string()).time_findings.len(),
        1
    );
}

#[test]
fn two_writers_killed_in_a_row_leave_a_log_the_next_append_repairs() {
    let (_dir, path, k) = log_of(2);
    // Writer A is killed after its record, before its checkpoint.
    add_bytes(&path, format!("{}\n", bound_line(3, &k, &path)).as_bytes());
    // Writer B takes A's record in (checkpointing it first), then is
    // killed after its own record, before its checkpoint.
    {
        let log = FileLog::new(&path);
        let note = log.read_checkpoint().unwrap().unwrap();
        let (origin, frontier, covered) = log.recover(&note, &k.verifying_key()).unwrap();
        assert_eq!((frontier.size(), covered), (3, 2));
        let cp = Checkpoint {
            origin,
            size: frontier.size(),
            root: frontier.root(),
        };
        log.write_checkpoint(&cp, &k).unwrap();
    }
    add_bytes(&path, format!("{}\n", bound_line(4, &k, &path)).as_bytes());
    let check = verify(&path, &k);
    assert!(check.ok() && check.repairs.len() == 1, "{check:?}");
    append(&path, &rec(5), &k).unwrap();
    let check = verify(&path, &k);
    assert!(check.ok(), "{:?}", check.problems);
    assert_eq!(check.records.len(), 5);
}

fn append_with(log: &FileLog, i: u8, k: &SigningKey) -> Result<Checkpoint> {
    log.append(&mut |binding| seal_bound(&rec(i), k, binding), k)
}

/// A long-running writer keeps what its last append left and appends
/// without re-reading the log; whatever another writer (or anyone) did in
/// between makes it read and check the whole log again.
#[test]
fn a_long_running_writer_rereads_the_log_whenever_it_is_not_as_it_left_it() {
    let (_dir, path, k) = log_of(2);
    let service = FileLog::new(&path);
    append_with(&service, 2, &k).unwrap();
    append_with(&service, 3, &k).unwrap();
    // Another process appends: the service sees a new checkpoint.
    append(&path, &rec(4), &k).unwrap();
    append_with(&service, 5, &k).unwrap();
    assert_eq!(verify(&path, &k).records.len(), 6);
    // A line added by someone without the key: refused as by any writer.
    add_bytes(&path, b"{\"not\":\"a record\"}\n");
    let e = append_with(&service, 6, &k).unwrap_err();
    assert!(matches!(e, Error::Tampered { .. }), "{e}");
    // Bytes changed in place (the length kept) after the service's last
    // append: the change time moved, so the log is read whole and refused.
    let (_dir, path, k) = log_of(2);
    let service = FileLog::new(&path);
    append_with(&service, 2, &k).unwrap();
    let mut bytes = std::fs::read(&path).unwrap();
    let at = bytes.len() - 10;
    bytes[at] = if bytes[at] == b'A' { b'B' } else { b'A' };
    std::fs::write(&path, &bytes).unwrap();
    let e = append_with(&service, 3, &k).unwrap_err();
    assert!(matches!(e, Error::Tampered { .. }), "{e}");
}

fn batch_of(log: &FileLog, from: u8, n: u8, k: &SigningKey) -> Result<Checkpoint> {
    let records: Vec<NewRecord> = (from..from + n).map(rec).collect();
    let mut sealers: Vec<_> = records
        .iter()
        .map(|r| move |b: &LogBinding| seal_bound(r, k, b))
        .collect();
    let mut seals: Vec<Sealer<'_>> = sealers.iter_mut().map(|s| s as Sealer<'_>).collect();
    log.append_batch(&mut seals, k)
}

/// A batch is durable under one checkpoint; a writer killed during one
/// leaves records that name the checkpoint before them, which the next
/// append takes in; records of a later batch beyond an older checkpoint
/// (one put back) are refused.
#[test]
fn a_batch_is_one_flush_and_a_killed_batch_is_repaired_but_a_put_back_checkpoint_is_not() {
    let (_dir, path, k) = log_of(2);
    let log = FileLog::new(&path);
    let cp = batch_of(&log, 2, 3, &k).unwrap();
    assert_eq!(cp.size, 5);
    let check = verify(&path, &k);
    assert!(check.ok(), "{:?}", check.problems);
    assert_eq!(check.records.len(), 5);
    assert!(
        check.records[2..]
            .iter()
            .all(|r| r.binding.as_ref().unwrap().batch == Some(2))
    );

    // Killed after writing a batch, before its checkpoint: the checkpoint
    // of 5 is put back over the one of 8.
    let before = std::fs::read_to_string(checkpoint_path(&path)).unwrap();
    batch_of(&log, 5, 3, &k).unwrap();
    std::fs::write(checkpoint_path(&path), &before).unwrap();
    let check = verify(&path, &k);
    assert!(check.problems.is_empty(), "{:?}", check.problems);
    assert_eq!(check.pending_records.len(), 3);
    append(&path, &rec(9), &k).unwrap();
    let check = verify(&path, &k);
    assert!(check.ok(), "{:?}", check.problems);
    assert_eq!(check.records.len(), 9);

    // Two batches beyond a checkpoint put back: the second names another
    // checkpoint, so this is no killed writer.
    let older = std::fs::read_to_string(checkpoint_path(&path)).unwrap();
    batch_of(&log, 10, 2, &k).unwrap();
    batch_of(&log, 12, 2, &k).unwrap();
    std::fs::write(checkpoint_path(&path), &older).unwrap();
    let check = verify(&path, &k);
    assert!(
        check
            .problems
            .iter()
            .any(|p| matches!(p, crate::LogProblem::NotRepairable { reason }
                if reason.contains("batch written after another checkpoint")
                    || reason.contains("records beyond its checkpoint"))),
        "{:?}",
        check.problems
    );
    let e = append(&path, &rec(20), &k).unwrap_err();
    assert!(matches!(e, Error::Tampered { .. }), "{e}");
}
