//! The states a killed writer can leave, each built by hand, and what
//! verify (read-only) and the next append (which repairs) make of them.

use super::*;
use crate::clock::TimeSource;
use crate::record::{DeploymentEvidence, EvidenceSubject, NewRecord, Predicate, seal};

fn key(seed: u8) -> SigningKey {
    SigningKey::from_bytes(&[seed; 32])
}

fn line(i: u8, key: &SigningKey) -> String {
    seal(
        &NewRecord {
            subject: EvidenceSubject {
                name: format!("m{i}"),
                sha256: hex::encode([i; 32]),
            },
            predicate: Predicate::Deployment(DeploymentEvidence {
                target: None,
                verification: None,
                time: "2026-03-01T00:00:00Z".parse().unwrap(),
            }),
            clock: TimeSource::System,
        },
        key,
    )
    .unwrap()
}

/// A log of `n` records in a fresh directory.
fn log_of(n: u8) -> (tempfile::TempDir, PathBuf, SigningKey) {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("evidence.jsonl");
    let k = key(5);
    for i in 0..n {
        append(&path, &line(i, &k), &k).unwrap();
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
    let e = append(&path, &line(9, &k), &k).unwrap_err();
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
        check.problems.iter().any(|p| p.contains("of another log")),
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
    append(&path, &line(0, &k), &k).unwrap();
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
    append(&path, &line(8, &k), &k).unwrap();
    let check = verify(&path, &k);
    assert!(check.ok() && check.repairs.is_empty(), "{check:?}");
    assert_eq!(check.records.len(), 4);
}

#[test]
fn a_complete_record_beyond_the_checkpoint_is_taken_in() {
    let (_dir, path, k) = log_of(2);
    add_bytes(&path, format!("{}\n", line(3, &k)).as_bytes());
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
    append(&path, &line(4, &k), &k).unwrap();
    let check = verify(&path, &k);
    assert!(check.ok() && check.repairs.is_empty());
    assert_eq!(check.records.len(), 4);
    // A leftover temporary checkpoint changes nothing.
    std::fs::write(with_suffix(&checkpoint_path(&path), ".tmp"), "junk").unwrap();
    assert!(verify(&path, &k).ok());
    append(&path, &line(5, &k), &k).unwrap();
    assert_eq!(verify(&path, &k).records.len(), 5);
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
        check.problems.iter().any(|p| p.contains(&format!(
            "record 3 (beyond the checkpoint): sealed by another key ({})",
            crate::record::key_id(&intruder.verifying_key())
        ))),
        "{:?}",
        check.problems
    );
    let e = append(&path, &line(4, &k), &k).unwrap_err();
    assert!(e.to_string().contains("refusing to append"), "{e}");
    // A complete line that is no record at all.
    std::fs::write(&path, &original).unwrap();
    add_bytes(&path, b"{\"not\":\"a record\"}\n");
    assert!(!verify(&path, &k).ok());
    assert!(append(&path, &line(4, &k), &k).is_err());
    // A torn line inside what the checkpoint covers.
    std::fs::write(&path, &original[..original.len() - 5]).unwrap();
    assert!(!verify(&path, &k).ok());
    assert!(append(&path, &line(4, &k), &k).is_err());
    // A line longer than any record.
    std::fs::write(&path, &original).unwrap();
    let mut long = vec![b'x'; MAX_RECORD + 10];
    long.push(b'\n');
    add_bytes(&path, &long);
    let check = verify(&path, &k);
    assert!(
        check.problems.iter().any(|p| p.contains("longer than")),
        "{:?}",
        check.problems
    );
    assert!(append(&path, &line(4, &k), &k).is_err());
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
    assert_eq!(origin, crate::origin::key_origin(&k.verifying_key()));
    append(&path, &line(1, &k), &k).unwrap();
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
    let e = append(&path, &line(7, &k), &k).unwrap_err();
    assert!(e.to_string().contains("a replay"), "{e}");
    // A new record there (a killed writer's) is still taken in.
    let (_dir, path, k) = log_of(2);
    add_bytes(&path, format!("{}\n", line(8, &k)).as_bytes());
    append(&path, &line(9, &k), &k).unwrap();
    assert!(verify(&path, &k).ok());
}
