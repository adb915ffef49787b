//! The evidence log an auditor relies on: missing logs are errors, old
//! checkpoints catch rollbacks and swapped logs, killed writers lose no
//! acknowledged record, and an export holds what an auditor needs.

use crate::common::*;
use serde_json::Value;
use std::ffi::OsStr;
use std::fs;
use std::path::PathBuf;

struct Log {
    tmp: tempfile::TempDir,
    log: PathBuf,
    key: PathBuf,
    public: PathBuf,
}

impl Log {
    fn new() -> Self {
        let tmp = tempfile::tempdir().unwrap();
        let (code, _, err) = run(modelseal()
            .arg("keygen")
            .arg("--out")
            .arg(tmp.path().join("evidence")));
        assert_eq!(code, 0, "{err}");
        Log {
            log: tmp.path().join("evidence.jsonl"),
            key: tmp.path().join("evidence.priv.pem"),
            public: tmp.path().join("evidence.pub.pem"),
            tmp,
        }
    }

    fn envs(&self) -> Vec<(&'static str, &OsStr)> {
        vec![
            ("MODELSEAL_EVIDENCE", self.log.as_os_str()),
            ("MODELSEAL_EVIDENCE_KEY", self.key.as_os_str()),
        ]
    }

    fn cmd(&self) -> assert_cmd::Command {
        let mut c = modelseal();
        c.env("MODELSEAL_EVIDENCE", &self.log)
            .env("MODELSEAL_EVIDENCE_KEY", &self.public);
        c
    }

    fn deploy(&self, name: &str) -> String {
        let out = deploy_command(name, &self.envs()).output().unwrap();
        assert!(
            out.status.success(),
            "{}",
            String::from_utf8_lossy(&out.stderr)
        );
        let v: Value = serde_json::from_slice(&out.stdout).unwrap();
        v["recorded"].as_str().unwrap().to_string()
    }

    fn checkpoint(&self) -> PathBuf {
        PathBuf::from(format!("{}.checkpoint", self.log.display()))
    }

    fn keep_checkpoint(&self, name: &str) -> PathBuf {
        let kept = self.tmp.path().join(name);
        fs::copy(self.checkpoint(), &kept).unwrap();
        kept
    }

    fn digests(&self) -> Vec<String> {
        let (code, out, err) = run(self.cmd().args(["--format", "json", "evidence", "list"]));
        assert_eq!(code, 0, "{out}{err}");
        let records: Vec<Value> = serde_json::from_str(&out).unwrap();
        records
            .iter()
            .map(|r| r["digest"].as_str().unwrap().to_string())
            .collect()
    }

    fn verify_json(&self) -> (i32, Value) {
        let (code, out, err) = run(self.cmd().args(["--format", "json", "evidence", "verify"]));
        (
            code,
            serde_json::from_str(&out).unwrap_or_else(|e| panic!("{e}: {out}{err}")),
        )
    }
}

#[test]
fn a_missing_log_or_checkpoint_is_exit_2_for_verify_list_and_audit() {
    let log = Log::new();
    let commands: [&[&str]; 3] = [&["evidence", "verify"], &["evidence", "list"], &["audit"]];
    for args in commands {
        let (code, out, err) = run(log.cmd().args(args));
        assert_eq!(code, 2, "{args:?}: {out}{err}");
        assert!(err.contains("no evidence log there"), "{args:?}: {err}");
    }
    log.deploy("m");
    fs::remove_file(log.checkpoint()).unwrap();
    for args in commands {
        let (code, out, err) = run(log.cmd().args(args));
        assert_eq!(code, 2, "{args:?}: {out}{err}");
        assert!(err.contains("has no checkpoint"), "{args:?}: {err}");
    }
}

#[test]
fn an_older_checkpoint_catches_a_rollback_and_a_swapped_log_in_the_audit() {
    let log = Log::new();
    for i in 0..3 {
        log.deploy(&format!("m{i}"));
    }
    let saved_log = fs::read(&log.log).unwrap();
    let saved_cp = fs::read(log.checkpoint()).unwrap();
    log.deploy("m3");
    let kept = log.keep_checkpoint("kept.checkpoint");
    log.deploy("m4");
    let audit = |extra: &[&OsStr]| {
        let (code, out, err) = run(log
            .cmd()
            .args(["--format", "json", "audit", "--checkpoint"])
            .args(extra));
        (code, out, err)
    };
    let (_, out, err) = audit(&[kept.as_os_str()]);
    let report: Value = serde_json::from_str(&out).unwrap_or_else(|e| panic!("{e}: {out}{err}"));
    assert_eq!(report["log"]["intact"], true, "{report}");
    // Rolled back to an earlier state, validly signed: the audit fails.
    fs::write(&log.log, &saved_log).unwrap();
    fs::write(log.checkpoint(), &saved_cp).unwrap();
    let (code, out, _) = run(log.cmd().args(["evidence", "verify"]));
    assert_eq!(
        code, 0,
        "without the kept checkpoint a rollback looks fine: {out}"
    );
    let (code, out, _) = audit(&[kept.as_os_str()]);
    assert_eq!(code, 1, "{out}");
    let report: Value = serde_json::from_str(&out).unwrap();
    assert_eq!(report["log"]["intact"], false, "{report}");
    assert!(report.to_string().contains("(truncated)"), "{report}");
    // Another log sealed by the same key: swapped in, it is refused.
    let other = log.tmp.path().join("other.jsonl");
    for i in 0..6 {
        let mut envs = log.envs();
        envs[0].1 = other.as_os_str();
        let out = deploy_command(&format!("o{i}"), &envs).output().unwrap();
        assert!(out.status.success());
    }
    fs::copy(&other, &log.log).unwrap();
    fs::copy(format!("{}.checkpoint", other.display()), log.checkpoint()).unwrap();
    let (code, out, _) = run(log
        .cmd()
        .args(["evidence", "verify", "--checkpoint"])
        .arg(&kept));
    assert_eq!(code, 1, "{out}");
    assert!(out.contains("of another log"), "{out}");
}

/// Soak: kill instants are random and the kill window is measured with the
/// wall clock, so this runs from scripts/soak.sh, not in the default suite
/// (the states a killed writer can leave are built one by one and checked
/// in the log's unit tests).
#[test]
#[ignore = "soak test: scripts/soak.sh runs it"]
fn writers_killed_at_random_instants_lose_no_acknowledged_record() {
    let log = Log::new();
    let mut acknowledged = vec![log.deploy("first")];
    let window = deploy_duration(&log.envs()) * 3 / 2;
    // Two writers killed at random instants while a third, also killed at
    // random, runs 200 times: every instant of an append gets hit.
    let (a, b) = std::thread::scope(|s| {
        let envs = log.envs();
        let a = s.spawn(|| deploy_and_kill("a", &log.envs(), 60, 11, window));
        let b = s.spawn(|| deploy_and_kill("b", &log.envs(), 60, 12, window));
        acknowledged.extend(deploy_and_kill("main", &envs, 200, 7, window));
        (a.join().unwrap(), b.join().unwrap())
    });
    acknowledged.extend(a);
    acknowledged.extend(b);
    // What a killed writer left is at most a repair the next append makes.
    let (code, v) = log.verify_json();
    assert_eq!(code, 0, "{v}");
    acknowledged.push(log.deploy("last"));
    let (code, v) = log.verify_json();
    assert_eq!(code, 0, "{v}");
    assert_eq!(v["repairs"], serde_json::json!([]), "{v}");
    let present = log.digests();
    for digest in &acknowledged {
        assert!(
            present.contains(digest),
            "acknowledged record {digest} lost"
        );
    }
    assert!(
        acknowledged.len() > 10 && acknowledged.len() < 322,
        "the kills should hit some appends and miss others: {} acknowledged",
        acknowledged.len()
    );
}

#[test]
fn an_export_holds_what_an_auditor_needs() {
    let log = Log::new();
    for i in 0..4 {
        log.deploy(&format!("m{i}"));
    }
    let out_dir = log.tmp.path().join("for-auditor");
    let (code, out, err) = run(log
        .cmd()
        .args(["--format", "json", "evidence", "export", "--out"])
        .arg(&out_dir));
    assert_eq!(code, 0, "{out}{err}");
    let v: Value = serde_json::from_str(&out).unwrap();
    let exported = out_dir.join("evidence.jsonl");
    assert_eq!(fs::read(&exported).unwrap(), fs::read(&log.log).unwrap());
    assert_eq!(
        fs::read(out_dir.join("evidence.jsonl.checkpoint")).unwrap(),
        fs::read(log.checkpoint()).unwrap(),
        "the stored checkpoint, byte for byte"
    );
    let fingerprint = fs::read_to_string(out_dir.join("evidence.pub.fingerprint.txt")).unwrap();
    assert_eq!(
        fingerprint.split_whitespace().next(),
        v["fingerprint"].as_str()
    );
    assert!(fingerprint.starts_with("SHA256:"));
    for report in ["audit.json", "audit.md", "audit.oscal.json", "audit.html"] {
        assert!(out_dir.join(report).is_file(), "{report}");
    }
    // The auditor verifies the export offline with the exported key.
    let (code, out, err) = run(modelseal()
        .env_remove("MODELSEAL_EVIDENCE")
        .arg("evidence")
        .arg("verify")
        .arg(&exported)
        .arg("--evidence-key")
        .arg(out_dir.join("evidence.pub.pem")));
    assert_eq!(code, 0, "{out}{err}");
    // Nothing is overwritten.
    let (code, _, err) = run(log
        .cmd()
        .args(["evidence", "export", "--out"])
        .arg(&out_dir));
    assert_eq!(code, 2, "{err}");
    assert!(err.contains("already exists"), "{err}");
    // No staging directory is left beside it.
    let left: Vec<_> = fs::read_dir(log.tmp.path())
        .unwrap()
        .filter_map(|e| e.ok())
        .filter(|e| {
            e.file_name()
                .to_string_lossy()
                .starts_with(".modelseal-export")
        })
        .collect();
    assert!(left.is_empty(), "{left:?}");
}
