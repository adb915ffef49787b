//! Witnessed evidence against real witnesses: three litewitness instances
//! (torchwood, Go; installed by scripts/install-test-deps.sh), each with
//! its Ed25519 key in a dedicated ssh-agent, and a 2-of-3 quorum. The
//! attacks of an operator who holds the evidence key (a rolled-back log,
//! a forked one) are caught by asking the witnesses what they cosigned.

use crate::common::*;
use std::net::TcpStream;
use std::path::{Path, PathBuf};
use std::process::{Child, Command, Stdio};
use std::time::{Duration, Instant};

/// The evidence key of the test logs.
fn evidence_key() -> (PathBuf, PathBuf) {
    (
        root().join("tests/cmd/evidence.priv.pem"),
        root().join("tests/cmd/evidence.pub.pem"),
    )
}

/// One litewitness with its own ssh-agent; both stop when it is dropped.
pub(crate) struct LiteWitness {
    name: String,
    vkey: String,
    url: String,
    db: PathBuf,
    agent: Child,
    server: Option<Child>,
}

impl LiteWitness {
    pub(crate) fn start(dir: &Path, n: usize) -> LiteWitness {
        let name = format!("witness.test/w{n}");
        let key = dir.join(format!("w{n}"));
        let socket = dir.join(format!("w{n}.sock"));
        let ok = |c: &mut Command| {
            let out = c.output().expect("the tool runs");
            assert!(
                out.status.success(),
                "{}",
                String::from_utf8_lossy(&out.stderr)
            );
            String::from_utf8_lossy(&out.stdout).into_owned()
        };
        ok(external_tool("ssh-keygen")
            .args(["-q", "-t", "ed25519", "-N", "", "-C", "test witness", "-f"])
            .arg(&key));
        let agent = external_tool("ssh-agent")
            .arg("-D")
            .arg("-a")
            .arg(&socket)
            .stdout(Stdio::null())
            .stderr(Stdio::null())
            .spawn()
            .unwrap();
        // The agent's socket appears at bind() and answers after listen():
        // ssh-add is retried until the agent takes the key.
        let deadline = Instant::now() + Duration::from_secs(30);
        loop {
            let out = external_tool("ssh-add")
                .env("SSH_AUTH_SOCK", &socket)
                .arg("-q")
                .arg(&key)
                .output()
                .expect("ssh-add runs");
            if out.status.success() {
                break;
            }
            assert!(
                Instant::now() < deadline,
                "ssh-agent did not take the key: {}",
                String::from_utf8_lossy(&out.stderr)
            );
            std::thread::sleep(Duration::from_millis(50));
        }
        let public = std::fs::read_to_string(key.with_extension("pub")).unwrap();
        let fingerprint = ok(external_tool("ssh-keygen")
            .args(["-E", "sha256", "-l", "-f"])
            .arg(key.with_extension("pub")));
        let fingerprint = fingerprint.split(' ').nth(1).unwrap().to_string();
        // The OpenSSH public key blob ends with the 32 key bytes.
        let blob = base64_decode(public.split(' ').nth(1).unwrap());
        let raw: [u8; 32] = blob[blob.len() - 32..].try_into().unwrap();
        let vk = ed25519_dalek::VerifyingKey::from_bytes(&raw).unwrap();
        let vkey = modelseal::witness::witness_vkey(&name, &vk);
        let mut w = LiteWitness {
            name,
            vkey,
            url: String::new(),
            db: dir.join(format!("w{n}.db")),
            agent,
            server: None,
        };
        // A free port can be taken by another test between the probe and
        // litewitness binding it: a witness that exits is started again on
        // another port; one that runs but never answers is an error.
        let log = dir.join(format!("w{n}.log"));
        for attempt in 1..=5 {
            let port = free_port();
            let mut server = external_tool("litewitness")
                .arg("-db")
                .arg(&w.db)
                .args(["-name", &w.name, "-key", &fingerprint, "-listen"])
                .arg(format!("127.0.0.1:{port}"))
                .arg("-ssh-agent")
                .arg(&socket)
                .stdout(Stdio::null())
                .stderr(std::fs::File::create(&log).unwrap())
                .spawn()
                .unwrap();
            let deadline = Instant::now() + Duration::from_secs(60);
            loop {
                if TcpStream::connect(("127.0.0.1", port)).is_ok() {
                    w.url = format!("http://127.0.0.1:{port}");
                    w.server = Some(server);
                    return w;
                }
                if server.try_wait().unwrap().is_some() {
                    break;
                }
                if Instant::now() >= deadline {
                    let _ = server.kill();
                    let _ = server.wait();
                    panic!(
                        "litewitness did not answer: {}",
                        std::fs::read_to_string(&log).unwrap_or_default()
                    );
                }
                std::thread::sleep(Duration::from_millis(50));
            }
            assert!(
                attempt < 5,
                "litewitness exited five times: {}",
                std::fs::read_to_string(&log).unwrap_or_default()
            );
        }
        unreachable!("the loop returns or panics")
    }

    /// Tells the witness about the log (witnessctl, as its README says).
    pub(crate) fn add_log(&self, origin: &str, log_vkey: &str) {
        for args in [
            vec!["add-log", "-origin", origin],
            vec!["add-key", "-origin", origin, "-key", log_vkey],
        ] {
            let out = external_tool("witnessctl")
                .arg(args[0])
                .arg("-db")
                .arg(&self.db)
                .args(&args[1..])
                .output()
                .unwrap();
            assert!(
                out.status.success(),
                "{}",
                String::from_utf8_lossy(&out.stderr)
            );
        }
    }

    pub(crate) fn stop(&mut self) {
        if let Some(mut s) = self.server.take() {
            let _ = s.kill();
            let _ = s.wait();
        }
    }
}

impl Drop for LiteWitness {
    fn drop(&mut self) {
        self.stop();
        let _ = self.agent.kill();
        let _ = self.agent.wait();
    }
}

fn free_port() -> u16 {
    std::net::TcpListener::bind("127.0.0.1:0")
        .unwrap()
        .local_addr()
        .unwrap()
        .port()
}

fn b64(bytes: &[u8]) -> String {
    use base64::Engine;
    base64::engine::general_purpose::STANDARD.encode(bytes)
}

fn base64_decode(text: &str) -> Vec<u8> {
    use base64::Engine;
    base64::engine::general_purpose::STANDARD
        .decode(text.trim())
        .unwrap()
}

/// Appends one record (an attached document) to `log`.
fn append(log: &Path, who: &str) {
    let (code, err) = append_witnessed(log, who, None);
    assert_eq!(code, 0, "{err}");
}

/// Appends one record, with the witnesses of `policy` asked afterwards
/// when given: (exit code, stderr).
fn append_witnessed(log: &Path, who: &str, policy: Option<&Path>) -> (i32, String) {
    attach_at(log, who, None, policy)
}

/// Appends one record (a document reviewed by `who`) to `log`, sealed with
/// the test evidence key, at `clock` (default: the test clock), with the
/// witnesses of `policy` asked afterwards when given: (exit code, stderr).
pub(crate) fn attach_at(
    log: &Path,
    who: &str,
    clock: Option<&str>,
    policy: Option<&Path>,
) -> (i32, String) {
    let doc = log.with_extension("doc");
    std::fs::write(&doc, format!("reviewed by {who}\n")).unwrap();
    let mut cmd = modelseal();
    if let Some(clock) = clock {
        cmd.env(TEST_NOW, clock);
    }
    cmd.args([
        "evidence",
        "attach",
        "--control",
        "1",
        "--reviewer",
        who,
        "--file",
    ])
    .arg(&doc)
    .arg("--evidence")
    .arg(log)
    .arg("--evidence-key")
    .arg(evidence_key().0);
    if let Some(policy) = policy {
        cmd.arg("--witness-policy").arg(policy);
    }
    let (code, _, err) = run(&mut cmd);
    (code, err)
}

fn evidence(sub: &str, log: &Path, policy: &Path) -> (i32, String) {
    let (code, out, err) = run(modelseal()
        .args(["evidence", sub])
        .arg(log)
        .arg("--evidence-key")
        .arg(evidence_key().1)
        .arg("--witness-policy")
        .arg(policy)
        .args(["--witness-timeout", "5"]));
    (code, format!("{out}{err}"))
}

/// Copies the log and its checkpoint files to `to` (a snapshot an
/// attacker may put back).
fn snapshot(log: &Path, to: &Path) {
    std::fs::create_dir_all(to).unwrap();
    for suffix in ["", ".checkpoint", ".witnessed"] {
        let from = PathBuf::from(format!("{}{suffix}", log.display()));
        if from.exists() {
            std::fs::copy(&from, to.join(format!("log{suffix}"))).unwrap();
        }
    }
}

fn restore(from: &Path, log: &Path) {
    for suffix in ["", ".checkpoint", ".witnessed"] {
        let src = from.join(format!("log{suffix}"));
        let dst = PathBuf::from(format!("{}{suffix}", log.display()));
        if src.exists() {
            std::fs::copy(&src, &dst).unwrap();
        } else {
            let _ = std::fs::remove_file(&dst);
        }
    }
}

/// Three witnesses that know the log of verifier key `log_vkey`, and a
/// 2-of-3 policy naming them, written into `dir`.
pub(crate) fn three_witnesses(dir: &Path, log_vkey: &str) -> (Vec<LiteWitness>, PathBuf) {
    let origin = log_vkey.split('+').next().unwrap().to_string();
    let witnesses: Vec<LiteWitness> = (1..=3).map(|n| LiteWitness::start(dir, n)).collect();
    for w in &witnesses {
        w.add_log(&origin, log_vkey);
    }
    let policy = dir.join("witnesses.policy");
    let mut text = format!("log {log_vkey}\n");
    for (i, w) in witnesses.iter().enumerate() {
        text.push_str(&format!("witness w{} {} {}\n", i + 1, w.vkey, w.url));
    }
    text.push_str("group two-of-three 2 w1 w2 w3\nquorum two-of-three\n");
    std::fs::write(&policy, text).unwrap();
    (witnesses, policy)
}

#[test]
fn two_of_three_litewitnesses_hold_the_log_to_its_history() {
    let tmp = tempfile::tempdir().unwrap();
    let log = tmp.path().join("log");
    for who in ["a", "b", "c"] {
        append(&log, who);
    }
    let (code, out, err) = run(modelseal()
        .args(["evidence", "verifier-key"])
        .arg(&log)
        .arg("--evidence-key")
        .arg(evidence_key().1));
    assert_eq!(code, 0, "{err}");
    let (mut witnesses, policy) = three_witnesses(tmp.path(), out.trim());

    // Not yet witnessed: the quorum is missing.
    let (code, out) = evidence("verify", &log, &policy);
    assert_eq!(code, 1, "{out}");
    assert!(out.contains("NOT WITNESSED"), "{out}");

    // Witnessed by all three; the log verifies under the policy.
    let (code, out) = evidence("witness", &log, &policy);
    assert_eq!(code, 0, "{out}");
    assert_eq!(out.matches("cosigned at").count(), 3, "{out}");
    let (code, out) = evidence("verify", &log, &policy);
    assert_eq!(code, 0, "{out}");
    assert!(
        out.contains("witnessed: 3 records under the policy's quorum"),
        "{out}"
    );
    assert_eq!(out.matches("  cosignature: w").count(), 3, "{out}");
    let three = tmp.path().join("three");
    snapshot(&log, &three);
    // An export carries the cosigned checkpoint: checked offline later.
    let export = tmp.path().join("export");
    let (code, out, err) = run(modelseal()
        .args(["evidence", "export"])
        .arg(&log)
        .arg("--evidence-key")
        .arg(evidence_key().1)
        .arg("--out")
        .arg(&export));
    assert_eq!(code, 0, "{out}{err}");
    assert!(out.contains("evidence.jsonl.witnessed"), "{out}");
    let exported = export.join("evidence.jsonl");
    let verify_copy = |copy: &Path| {
        let (code, out, err) = run(modelseal()
            .args(["evidence", "verify"])
            .arg(copy)
            .arg("--evidence-key")
            .arg(evidence_key().1)
            .arg("--witness-policy")
            .arg(&policy)
            .arg("--snapshot"));
        (code, format!("{out}{err}"))
    };
    let (code, out) = verify_copy(&exported);
    assert_eq!(code, 0, "{out}");
    assert!(
        out.contains("witnessed: 3 records under the policy's quorum"),
        "{out}"
    );
    let audit = |log: &Path| {
        let (code, out, err) = run(modelseal()
            .args(["--format", "json", "audit", "--evidence"])
            .arg(log)
            .arg("--evidence-key")
            .arg(evidence_key().1)
            .arg("--witness-policy")
            .arg(&policy));
        let v: serde_json::Value =
            serde_json::from_str(&out).unwrap_or_else(|e| panic!("{e}: {out}{err}"));
        (code, v)
    };
    let (_, report) = audit(&log);
    let w = &report["log"]["witnesses"];
    assert_eq!(w["quorum"], true, "{w}");
    assert_eq!(w["witnessed_size"], 3, "{w}");
    assert_eq!(w["cosignatures"].as_array().unwrap().len(), 3, "{w}");

    // An offline proof that record 2 is in the witnessed log, checked with
    // the log's public key and the policy alone.
    let proof = tmp.path().join("record2.tlog-proof");
    let (code, out, err) = run(modelseal()
        .args(["evidence", "proof", "2"])
        .arg(&log)
        .arg("--evidence-key")
        .arg(evidence_key().1)
        .arg("--out")
        .arg(&proof)
        .arg("--witness-policy")
        .arg(&policy));
    assert_eq!(code, 0, "{out}{err}");
    assert!(
        out.contains("with its cosignatures (they reach the witness policy's quorum)"),
        "{out}"
    );
    let check_proof = |proof: &Path| {
        let (code, out, err) = run(modelseal()
            .args(["evidence", "check-proof"])
            .arg(proof)
            .arg("--evidence-key")
            .arg(evidence_key().1)
            .arg("--witness-policy")
            .arg(&policy));
        (code, format!("{out}{err}"))
    };
    let (code, out) = check_proof(&proof);
    assert_eq!(code, 0, "{out}");
    assert!(out.starts_with("included: record 2 (sha256:"), "{out}");
    assert_eq!(out.matches("  cosignature: w").count(), 3, "{out}");
    // Another record swapped in (its own valid line) fails the proof.
    let text = std::fs::read_to_string(&proof).unwrap();
    let first_line = std::fs::read_to_string(&log)
        .unwrap()
        .lines()
        .next()
        .unwrap()
        .to_string();
    let swapped = tmp.path().join("swapped.tlog-proof");
    let extra = text.lines().nth(1).unwrap().to_string();
    std::fs::write(
        &swapped,
        text.replacen(&extra, &format!("extra {}", b64(first_line.as_bytes())), 1),
    )
    .unwrap();
    let (code, out) = check_proof(&swapped);
    assert_eq!(code, 1, "{out}");
    assert!(out.starts_with("INVALID"), "{out}");
    // Without a witness policy, a proof is only the key holder's word.
    let (code, _, err) = run(modelseal()
        .args(["evidence", "check-proof"])
        .arg(&proof)
        .arg("--evidence-key")
        .arg(evidence_key().1));
    assert_eq!(code, 2, "{err}");

    // An auditor's kept checkpoint (`--checkpoint KEPT`) is relied on: the
    // log-signed checkpoint alone is refused under the policy, the cosigned
    // one holds.
    let kept_plain = tmp.path().join("kept.checkpoint");
    std::fs::copy(format!("{}.checkpoint", log.display()), &kept_plain).unwrap();
    let kept_cosigned = tmp.path().join("kept.witnessed");
    std::fs::copy(format!("{}.witnessed", log.display()), &kept_cosigned).unwrap();
    let verify_kept = |kept: &Path| {
        let (code, out, err) = run(modelseal()
            .args(["evidence", "verify"])
            .arg(&log)
            .arg("--evidence-key")
            .arg(evidence_key().1)
            .arg("--witness-policy")
            .arg(&policy)
            .args(["--witness-timeout", "5", "--checkpoint"])
            .arg(kept));
        (code, format!("{out}{err}"))
    };
    let (code, out) = verify_kept(&kept_plain);
    assert_eq!(code, 1, "{out}");
    assert!(out.contains("lacks the witness policy's quorum"), "{out}");
    let (code, out) = verify_kept(&kept_cosigned);
    assert_eq!(code, 0, "{out}");

    // Two more records, witnessed: the snapshot of three records put back
    // (what a holder of the evidence key can sign) is a rollback.
    append(&log, "d");
    append(&log, "e");
    let (code, out) = evidence("witness", &log, &policy);
    assert_eq!(code, 0, "{out}");
    // The copy still stands offline, though the witnesses have moved on;
    // stripped of its cosignatures, it does not.
    let (code, out) = verify_copy(&exported);
    assert_eq!(code, 0, "{out}");
    let carried = export.join("evidence.jsonl.witnessed");
    let note = std::fs::read_to_string(&carried).unwrap();
    let stripped: String = note
        .lines()
        .filter(|l| !l.contains("witness.test/"))
        .map(|l| format!("{l}\n"))
        .collect();
    std::fs::write(&carried, stripped).unwrap();
    // The history carries the cosigned checkpoint too: stripped of it as
    // well, the copy fails.
    let (code, out) = verify_copy(&exported);
    assert_eq!(code, 0, "{out}");
    std::fs::remove_file(export.join("evidence.jsonl.witnessed.history")).unwrap();
    let (code, out) = verify_copy(&exported);
    assert_eq!(code, 1, "{out}");
    let five = tmp.path().join("five");
    snapshot(&log, &five);
    restore(&three, &log);
    let (code, out) = evidence("verify", &log, &policy);
    assert_eq!(code, 1, "{out}");
    assert!(
        out.contains(
            "has cosigned 5 records of this log, which now has 3: the log was rolled back"
        ),
        "{out}"
    );

    // Another history of five records from the same three: a fork.
    append(&log, "mallory");
    append(&log, "mallory again");
    let (code, out) = evidence("verify", &log, &policy);
    assert_eq!(code, 1, "{out}");
    assert!(
        out.contains("holds another root for this log at size 5: the log was forked"),
        "{out}"
    );
    let (code, out) = evidence("witness", &log, &policy);
    assert_eq!(code, 1, "{out}");
    assert!(out.contains("FORKED"), "{out}");

    // Back to the real history. One witness down: the quorum still holds.
    restore(&five, &log);
    witnesses[2].stop();
    let (code, err) = append_witnessed(&log, "f", Some(&policy));
    assert_eq!(code, 0, "{err}");
    assert!(err.contains("evidence: witnessed 6 records"), "{err}");
    let (code, out) = evidence("witness", &log, &policy);
    assert_eq!(code, 0, "{out}");
    assert!(out.contains("witness w3: not counted"), "{out}");
    let (code, out) = evidence("verify", &log, &policy);
    assert_eq!(code, 0, "{out}");

    // Two down: appending still works, witnessing and verifying under the
    // policy say the quorum is missing and name who is lacking.
    witnesses[1].stop();
    let (code, err) = append_witnessed(&log, "g", Some(&policy));
    assert_eq!(code, 0, "the append stands: {err}");
    assert!(
        err.contains("witnessing: the quorum is not reached for 7 records"),
        "{err}"
    );
    let (code, out) = evidence("witness", &log, &policy);
    assert_eq!(code, 1, "{out}");
    assert!(out.contains("NOT WITNESSED: 7 records"), "{out}");
    let (code, out) = evidence("verify", &log, &policy);
    assert_eq!(code, 1, "{out}");
    assert!(
        out.contains("the checkpoint of 7 records lacks the witness quorum (1 of 3 witnesses cosigned; not: w2, w3)"),
        "{out}"
    );
    assert!(
        out.contains("witnessed up to 6 records: the last 1 are not"),
        "{out}"
    );
    // Too few witnesses answer to rule out a rollback: that fails too (a
    // log rolled back while the witnesses are unreachable must not pass).
    assert!(out.contains("only 1 of 3 witnesses answered"), "{out}");

    // Batched: within the interval after the last attempt (the failed one
    // above; no cosigned checkpoint is left to date it), an append does not
    // call the witnesses at all.
    std::fs::remove_file(tmp.path().join("log.witnessed")).unwrap();
    let doc = log.with_extension("doc");
    let (code, _, err) = run(modelseal()
        .args([
            "evidence",
            "attach",
            "--control",
            "1",
            "--reviewer",
            "h",
            "--file",
        ])
        .arg(&doc)
        .arg("--evidence")
        .arg(&log)
        .arg("--evidence-key")
        .arg(evidence_key().0)
        .arg("--witness-policy")
        .arg(&policy)
        .args(["--witness-interval", "3600"]));
    assert_eq!(code, 0, "{err}");
    assert!(!err.contains("witness"), "{err}");
}

#[test]
fn a_tsa_stamps_the_cosigned_checkpoint_and_verify_holds_the_log_to_it() {
    let tmp = tempfile::tempdir().unwrap();
    let log = tmp.path().join("log");
    // The responder keeps the real clock: so does modelseal here.
    let now = jiff::Timestamp::now().to_string();
    for who in ["a", "b"] {
        let (code, err) = attach_at(&log, who, Some(&now), None);
        assert_eq!(code, 0, "{err}");
    }
    let (code, out, err) = run(modelseal()
        .args(["evidence", "verifier-key"])
        .arg(&log)
        .arg("--evidence-key")
        .arg(evidence_key().1));
    assert_eq!(code, 0, "{err}");
    let (_witnesses, policy) = three_witnesses(tmp.path(), out.trim());
    let tsa = crate::timestamp::Tsa::start(&tmp.path().join("tsa"));
    let other = crate::timestamp::Tsa::start(&tmp.path().join("other"));
    let run_at = |sub: &str, extra: &[&std::ffi::OsStr]| {
        let (code, out, err) = run(modelseal()
            .env(TEST_NOW, &now)
            .args(["evidence", sub])
            .arg(&log)
            .arg("--evidence-key")
            .arg(evidence_key().1)
            .arg("--witness-policy")
            .arg(&policy)
            .args(extra));
        (code, format!("{out}{err}"))
    };
    let (code, out) = run_at(
        "witness",
        &[
            "--tsa".as_ref(),
            tsa.url.as_ref(),
            "--tsa-chain".as_ref(),
            tsa.root().as_os_str(),
        ],
    );
    assert_eq!(code, 0, "{out}");
    assert!(out.contains("RFC 3161: stamped at"), "{out}");
    let (code, out) = run_at("verify", &["--tsa-chain".as_ref(), tsa.root().as_os_str()]);
    assert_eq!(code, 0, "{out}");
    assert!(
        out.contains("stamped: the cosigned checkpoint of 2 records existed by"),
        "{out}"
    );
    // A TSA the verifier does not trust, or no stamp at all, fails.
    let (code, out) = run_at(
        "verify",
        &["--tsa-chain".as_ref(), other.root().as_os_str()],
    );
    assert_eq!(code, 1, "{out}");
    assert!(out.contains("RFC 3161 stamp"), "{out}");
    // The stamp is kept in the history as well as beside the latest: both
    // must go for it to be gone.
    std::fs::remove_file(tmp.path().join("log.witnessed.tsr")).unwrap();
    let (code, out) = run_at("verify", &["--tsa-chain".as_ref(), tsa.root().as_os_str()]);
    assert_eq!(code, 0, "{out}");
    std::fs::remove_file(tmp.path().join("log.witnessed.history")).unwrap();
    let (code, out) = run_at("verify", &["--tsa-chain".as_ref(), tsa.root().as_os_str()]);
    assert_eq!(code, 1, "{out}");
    assert!(out.contains("carries no RFC 3161 stamp"), "{out}");
}

/// `audit --as-of` under a witness policy relies on when the witnesses
/// cosigned, not on the writers' clocks: records appended after a
/// checkpoint was witnessed are not counted as of that time, however early
/// they are dated, and before any witnessing nothing is.
#[test]
fn an_audit_as_of_a_time_counts_what_the_witnesses_had_cosigned_by_then() {
    let tmp = tempfile::tempdir().unwrap();
    let log = tmp.path().join("log");
    // Every record is dated 2020, before anything is witnessed.
    let clock = "2020-01-01T00:00:00Z";
    let attach = |who: &str| {
        let (code, err) = attach_at(&log, who, Some(clock), None);
        assert_eq!(code, 0, "{err}");
    };
    for who in ["a", "b", "c"] {
        attach(who);
    }
    let (code, out, err) = run(modelseal()
        .args(["evidence", "verifier-key"])
        .arg(&log)
        .arg("--evidence-key")
        .arg(evidence_key().1));
    assert_eq!(code, 0, "{err}");
    let (_witnesses, policy) = three_witnesses(tmp.path(), out.trim());
    let witness = || -> jiff::Timestamp {
        let (code, out, err) = run(modelseal()
            .env(TEST_NOW, clock)
            .args(["--format", "json", "evidence", "witness"])
            .arg(&log)
            .arg("--evidence-key")
            .arg(evidence_key().1)
            .arg("--witness-policy")
            .arg(&policy));
        assert_eq!(code, 0, "{out}{err}");
        let v: serde_json::Value = serde_json::from_str(&out).unwrap();
        jiff::Timestamp::from_second(v["quorum_time"].as_i64().unwrap()).unwrap()
    };
    let first = witness();
    // Two more records, dated 2020 as well, witnessed a second later at
    // the earliest.
    attach("d");
    attach("e");
    std::thread::sleep(Duration::from_millis(1100));
    let second = witness();
    assert!(second > first);
    let audit = |as_of: jiff::Timestamp| -> serde_json::Value {
        let (_, out, err) = run(modelseal()
            .env(TEST_NOW, clock)
            .args(["--format", "json", "audit", "--evidence"])
            .arg(&log)
            .arg("--evidence-key")
            .arg(evidence_key().1)
            .arg("--witness-policy")
            .arg(&policy)
            .arg("--as-of")
            .arg(as_of.to_string()));
        serde_json::from_str(&out).unwrap_or_else(|e| panic!("{e}: {out}{err}"))
    };
    let r = audit(first);
    assert_eq!(r["log"]["kept"], 3, "{}", r["log"]);
    assert_eq!(r["log"]["witnesses"]["as_of"]["size"], 3, "{}", r["log"]);
    assert_eq!(
        r["log"]["witnesses"]["as_of"]["time"],
        first.to_string(),
        "{}",
        r["log"]
    );
    let r = audit(second);
    assert_eq!(r["log"]["kept"], 5, "{}", r["log"]);
    // Before the quorum had cosigned anything, no record is known to have
    // been in the log.
    let r = audit(first - jiff::SignedDuration::from_secs(1));
    assert_eq!(r["log"]["kept"], 0, "{}", r["log"]);
    assert_eq!(
        r["log"]["witnesses"]["as_of"]["time"],
        serde_json::Value::Null
    );
    // The witnessed checkpoint's trusted time is the quorum's earliest,
    // however often the witnesses are asked again (as the audit does).
    std::thread::sleep(Duration::from_millis(1100));
    let r = audit(second);
    assert_eq!(
        r["log"]["witnesses"]["trusted_time"],
        second.to_string(),
        "{}",
        r["log"]
    );
}
