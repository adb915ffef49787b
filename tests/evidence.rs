//! Evidence records, the tamper-evident log, and the audit checklist.

use crate::common::*;
use serde_json::Value;
use std::fs;
use std::path::{Path, PathBuf};

/// A workspace with an evidence key and log; commands get both through the
/// environment, as a pipeline would set them.
struct Env {
    tmp: tempfile::TempDir,
    log: PathBuf,
    key: PathBuf,
}

impl Env {
    fn new() -> Self {
        let tmp = tempfile::tempdir().unwrap();
        let prefix = tmp.path().join("evidence");
        assert_eq!(
            run(modelseal().arg("keygen").arg("--out").arg(&prefix)).0,
            0
        );
        Env {
            log: tmp.path().join("evidence.jsonl"),
            key: tmp.path().join("evidence.priv.pem"),
            tmp,
        }
    }

    fn cmd(&self) -> assert_cmd::Command {
        let mut c = modelseal();
        c.env("MODELSEAL_EVIDENCE", &self.log)
            .env("MODELSEAL_EVIDENCE_KEY", &self.key);
        c
    }

    fn model(&self, name: &str) -> PathBuf {
        let m = self.tmp.path().join(name);
        copy_tree(&fixture("tiny-model"), &m);
        m
    }

    /// Signs `model` with its BOM, the training data its card names
    /// given (so the BOM pins it).
    fn sign(&self, model: &Path) -> (PathBuf, PathBuf, String) {
        let dataset = fixture("tiny-dataset");
        self.sign_with(model, &["--dataset".as_ref(), dataset.as_os_str()])
    }

    /// Signs `model` with its BOM and `extra` arguments; returns
    /// (signature, bom, root digest).
    fn sign_with(&self, model: &Path, extra: &[&std::ffi::OsStr]) -> (PathBuf, PathBuf, String) {
        let name = model.file_name().unwrap().to_str().unwrap();
        let sig = self.tmp.path().join(format!("{name}.sig"));
        let bom = self.tmp.path().join(format!("{name}.cdx.json"));
        let (code, out, err) = run(demo_sign_args(
            self.cmd().args(["--format", "json"]),
            model,
            &sig,
            Some(&bom),
        )
        .args(extra));
        assert_eq!(code, 0, "{err}");
        let v: Value = serde_json::from_str(&out).unwrap();
        (
            sig,
            bom,
            v["subject"]["digest"]["sha256"]
                .as_str()
                .unwrap()
                .to_string(),
        )
    }

    /// Verifies under a deploy policy that trusts the demo key.
    fn verify(&self, model: &Path, sig: &Path, bom: &Path) -> i32 {
        run(demo_verify_args(&mut self.cmd(), model, sig)
            .arg("--bom")
            .arg(bom)
            .arg("--policy")
            .arg(demo_policy(self.tmp.path())))
        .0
    }

    fn deploy(&self, digest: &str) {
        let (code, _, err) = run(self.cmd().args([
            "evidence", "deploy", "--name", "m", "--model", digest, "--target", "prod",
        ]));
        assert_eq!(code, 0, "{err}");
    }

    fn audit(&self, extra: &[&str]) -> (i32, Value) {
        let (code, out, err) = run(self.cmd().args(["--format", "json", "audit"]).args(extra));
        assert!(code == 0 || code == 1, "{err}");
        (
            code,
            serde_json::from_str(&out).unwrap_or_else(|e| panic!("{e}: {out}{err}")),
        )
    }

    fn attach(&self, control: u32, reviewed: &str) {
        let doc = self.tmp.path().join(format!("control-{control}.md"));
        fs::write(&doc, format!("# Document for control {control}\n")).unwrap();
        let (code, _, err) = run(self
            .cmd()
            .args([
                "evidence",
                "attach",
                "--control",
                &control.to_string(),
                "--reviewed",
                reviewed,
                "--reviewer",
                "auditor",
            ])
            .arg("--file")
            .arg(&doc));
        assert_eq!(code, 0, "{err}");
    }
}

fn status(report: &Value, id: u64) -> String {
    report["controls"]
        .as_array()
        .unwrap()
        .iter()
        .find(|c| c["id"] == id)
        .unwrap()["status"]
        .as_str()
        .unwrap()
        .to_string()
}

/// Issue case 9: control 4 needs every dataset and base model the
/// verified BOM names pinned by digest. A dataset the model card names but
/// the signer did not give, or a base model named without a digest, fails
/// it, named; pinned (`--dataset`, `--base-model NAME=sha256:HEX`), the
/// control passes and the BOM's pedigree carries the digest.
#[test]
fn control_4_needs_every_dataset_and_base_model_pinned_by_digest() {
    let env = Env::new();
    let model = env.model("card-model");
    let readme = fs::read_to_string(model.join("README.md")).unwrap();
    fs::write(
        model.join("README.md"),
        readme.replacen("---\n", "---\nbase_model: org/base-7b\n", 1),
    )
    .unwrap();
    let judge = |extra: &[&std::ffi::OsStr]| {
        let (sig, bom, digest) = env.sign_with(&model, extra);
        assert_eq!(env.verify(&model, &sig, &bom), 0);
        env.deploy(&digest);
        let (_, report) = env.audit(&["--model", &format!("sha256:{digest}")]);
        let c4 = report["controls"]
            .as_array()
            .unwrap()
            .iter()
            .find(|c| c["id"] == 4)
            .unwrap()
            .clone();
        let bom: Value = serde_json::from_slice(&fs::read(&bom).unwrap()).unwrap();
        (c4, bom)
    };
    let (c4, _) = judge(&[]);
    assert_eq!(c4["status"], "fail", "{c4:#}");
    let reason = c4["reason"].as_str().unwrap();
    assert!(
        reason.contains("dataset(s) named by its BOM without a digest: modelseal/tiny-dataset"),
        "{reason}"
    );
    assert!(
        reason.contains("base model(s) named by its BOM without a digest: org/base-7b"),
        "{reason}"
    );
    let base = "1".repeat(64);
    let pin = format!("org/base-7b=sha256:{base}");
    let dataset = fixture("tiny-dataset");
    let (c4, bom) = judge(&[
        "--dataset".as_ref(),
        dataset.as_os_str(),
        "--base-model".as_ref(),
        pin.as_ref(),
    ]);
    assert_eq!(c4["status"], "pass", "{c4:#}");
    let ancestor = &bom["metadata"]["component"]["pedigree"]["ancestors"][0];
    assert_eq!(ancestor["name"], "org/base-7b");
    assert_eq!(ancestor["hashes"][0]["content"], base.as_str());
    // Pinned, but nothing in the log signed it: said, not failed.
    assert!(
        c4["supply_chain"][0]["notes"]
            .as_array()
            .unwrap()
            .iter()
            .any(|n| n
                .as_str()
                .unwrap()
                .contains("pinned by digest, with no sign record")),
        "{c4:#}"
    );
    // A malformed pin is unusable input.
    let (code, _, err) = run(demo_sign_args(
        &mut env.cmd(),
        &model,
        &env.tmp.path().join("x.sig"),
        Some(&env.tmp.path().join("x.cdx.json")),
    )
    .args(["--base-model", "org/base-7b=abc"]));
    assert_eq!(code, 2, "{err}");
    assert!(err.contains("sha256: and 64 hex digits"), "{err}");
}

#[test]
fn sign_bom_and_verify_records_pass_controls_4_and_7() {
    let env = Env::new();
    let model = env.model("good-model");
    let (sig, bom, digest) = env.sign(&model);
    assert_eq!(env.verify(&model, &sig, &bom), 0);
    env.deploy(&digest);
    let (code, report) = env.audit(&["--model", &format!("sha256:{digest}")]);
    assert_eq!(status(&report, 4), "pass", "{report}");
    assert_eq!(status(&report, 7), "pass", "{report}");
    assert_eq!(status(&report, 1), "no-evidence");
    assert_eq!(
        code, 1,
        "a required control without evidence fails the audit"
    );
    let c7 = &report["controls"][6];
    assert!(
        !c7["evidence"].as_array().unwrap().is_empty(),
        "findings cite record digests"
    );
    // The records: sign (with BOM digest), a PASSED VSA, the deployment.
    let (_, out, _) = run(env.cmd().args(["--format", "json", "evidence", "list"]));
    let records: Vec<Value> = serde_json::from_str(&out).unwrap();
    assert_eq!(records.len(), 3);
    assert_eq!(
        records[0]["predicateType"],
        "https://modelseal.dev/evidence/sign/v1"
    );
    assert!(records[0]["predicate"]["bom"]["digest"]["sha256"].is_string());
    let vsa = &records[1]["predicate"];
    assert_eq!(
        records[1]["predicateType"],
        "https://slsa.dev/verification_summary/v1"
    );
    assert_eq!(vsa["verificationResult"], "PASSED");
    assert_eq!(vsa["verifier"]["id"], "https://modelseal.dev/verifier");
    let levels: Vec<&str> = vsa["verifiedLevels"]
        .as_array()
        .unwrap()
        .iter()
        .map(|l| l.as_str().unwrap())
        .collect();
    assert!(
        levels.contains(&"MODELSEAL_SIGNATURE_VERIFIED")
            && levels.contains(&"MODELSEAL_BOM_VERIFIED")
    );
    assert_eq!(vsa["inputAttestations"].as_array().unwrap().len(), 3);
}

#[test]
fn an_unverified_model_fails_7_and_a_mismatched_bom_fails_4() {
    let env = Env::new();
    let model = env.model("never-verified");
    let (_, _, digest) = env.sign(&model);
    env.deploy(&digest);
    let (code, report) = env.audit(&["--model", &digest]);
    assert_eq!(status(&report, 7), "fail", "{report}");
    assert_eq!(code, 1);

    let other = env.model("bad-bom");
    let (sig, bom, digest) = env.sign(&other);
    fs::write(other.join("config.json"), "{\"changed\": true}\n").unwrap();
    assert_eq!(
        env.verify(&other, &sig, &bom),
        1,
        "the failed verification is recorded too"
    );
    env.deploy(&digest);
    let (_, report) = env.audit(&["--model", &digest]);
    assert_eq!(status(&report, 4), "fail", "{report}");
    let reason = report["controls"][3]["reason"].as_str().unwrap();
    assert!(
        reason.contains("latest verification") && reason.contains("config.json"),
        "{reason}"
    );
}

#[test]
fn a_deployment_before_verification_fails_7() {
    let env = Env::new();
    let model = env.model("rushed");
    let (sig, bom, digest) = env.sign(&model);
    let (code, _, err) = run(env.cmd().args([
        "evidence", "deploy", "--name", "rushed", "--model", &digest, "--target", "prod",
    ]));
    assert_eq!(code, 0, "{err}");
    assert_eq!(env.verify(&model, &sig, &bom), 0);
    let (_, report) = env.audit(&["--model", &digest]);
    assert_eq!(status(&report, 7), "fail", "{report}");
    assert!(
        report["controls"][6]["reason"]
            .as_str()
            .unwrap()
            .contains("had no verification before it")
    );
    // Control 4 judges the verification the deployment relied on: none.
    assert_eq!(status(&report, 4), "fail", "{report}");
    assert!(
        report["controls"][3]["reason"]
            .as_str()
            .unwrap()
            .contains("relied on no verification"),
        "{report}"
    );
}

#[test]
fn attached_documents_move_controls_from_no_evidence_to_pass_then_to_fail_with_age() {
    let env = Env::new();
    // No log yet: an error (exit 2), not an audit of nothing.
    let (code, _, err) = run(env.cmd().arg("audit"));
    assert_eq!(code, 2, "{err}");
    for id in [1, 2, 3, 5, 6, 8] {
        env.attach(id, &test_day(-100));
    }
    // Reviewed 100 days before the audit date: current (at most 365 days).
    // Not given the documents to re-hash: recorded, not re-checked.
    let (code, report) = env.audit(&["--as-of", &test_day(0)]);
    for id in [1, 2, 3, 5, 6, 8] {
        assert_eq!(
            status(&report, id),
            "recorded-not-rechecked",
            "{id}: {report}"
        );
    }
    assert_eq!(code, 1, "controls 4 and 7 have no evidence");
    // 400 days after the review: stale.
    let (code, report) = env.audit(&["--as-of", &test_day(300)]);
    for id in [1, 2, 3, 5, 6, 8] {
        assert_eq!(status(&report, id), "fail", "{id}: {report}");
    }
    assert_eq!(code, 1);
    // Records after the audit date are not counted: they were made on the
    // test clock's day.
    let (_, report) = env.audit(&["--as-of", &test_day(-1)]);
    assert_eq!(status(&report, 1), "no-evidence");
}

#[test]
fn markdown_and_oscal_reports() {
    let env = Env::new();
    let model = env.model("reported");
    let (sig, bom, digest) = env.sign(&model);
    assert_eq!(env.verify(&model, &sig, &bom), 0);
    env.deploy(&digest);
    env.attach(1, &test_day(-100));
    // Three years on: the document is stale, the verification still counts.
    let later = test_day(1000);
    let (_, md, _) = run(env
        .cmd()
        .args(["--format", "markdown", "audit", "--as-of", &later]));
    assert!(md.starts_with("# ISO/IEC 42001"), "{md}");
    assert!(md.contains("## 7. AI Model Integrity and Provenance"));
    assert!(md.contains("Supporting records (SHA-256 of the log line)"));
    let (_, oscal, _) = run(env
        .cmd()
        .args(["--format", "oscal", "audit", "--as-of", &later]));
    let doc: Value = serde_json::from_str(&oscal).unwrap();
    let result = &doc["assessment-results"]["results"][0];
    assert_eq!(result["findings"].as_array().unwrap().len(), 8);
    let states: Vec<&str> = result["findings"]
        .as_array()
        .unwrap()
        .iter()
        .map(|f| f["target"]["status"]["state"].as_str().unwrap())
        .collect();
    assert_eq!(states[6], "satisfied");
    assert_eq!(
        states[0], "not-satisfied",
        "reviewed too long before the audit"
    );
    assert!(
        result["observations"][0]["relevant-evidence"][0]["href"]
            .as_str()
            .unwrap()
            .starts_with('#')
    );
    // Markdown and OSCAL are for audit only.
    let (code, _, err) = run(env.cmd().args(["--format", "oscal", "hash"]).arg(&model));
    assert_eq!(code, 2, "{err}");
}

fn tampered_log_is_refused(env: &Env, what: &str) {
    let (code, out, _) = run(env.cmd().args(["evidence", "verify"]));
    assert_eq!(code, 1, "{what}: {out}");
    assert!(out.starts_with("BROKEN"), "{what}: {out}");
    let (code, report) = env.audit(&[]);
    assert_eq!(code, 1, "{what}");
    assert!(
        report["controls"][0]["reason"]
            .as_str()
            .unwrap()
            .contains("the evidence log does not verify"),
        "{what}"
    );
}

#[test]
fn every_kind_of_log_tampering_is_detected() {
    let env = Env::new();
    for id in [1, 2, 3, 5, 6] {
        env.attach(id, &test_day(-100));
    }
    let older = fs::read_to_string(env.log.with_extension("jsonl.checkpoint")).unwrap();
    env.attach(8, &test_day(-100));
    let older_path = env.tmp.path().join("older.checkpoint");
    fs::write(&older_path, &older).unwrap();
    let (code, out, err) = run(env
        .cmd()
        .args(["evidence", "verify", "--checkpoint"])
        .arg(&older_path));
    assert_eq!(code, 0, "{out}{err}");
    assert!(out.contains("extends the older checkpoint of 5"), "{out}");

    let original = fs::read(&env.log).unwrap();
    let lines: Vec<Vec<u8>> = original[..original.len() - 1]
        .split(|b| *b == b'\n')
        .map(<[u8]>::to_vec)
        .collect();
    let write = |ls: &[Vec<u8>]| {
        let mut out = ls.join(&b'\n');
        out.push(b'\n');
        fs::write(&env.log, out).unwrap();
    };
    // Edit a byte inside a record's payload.
    let mut edited = lines.clone();
    let pos = edited[2].iter().position(|b| *b == b'"').unwrap() + 20;
    edited[2][pos] = if edited[2][pos] == b'A' { b'B' } else { b'A' };
    write(&edited);
    tampered_log_is_refused(&env, "edited byte");
    // Delete a line.
    let mut deleted = lines.clone();
    deleted.remove(1);
    write(&deleted);
    tampered_log_is_refused(&env, "deleted line");
    // Swap two lines.
    let mut swapped = lines.clone();
    swapped.swap(0, 3);
    write(&swapped);
    tampered_log_is_refused(&env, "swapped lines");
    // Truncate mid-record.
    fs::write(&env.log, &original[..original.len() - 30]).unwrap();
    tampered_log_is_refused(&env, "truncated");
    // Truncate to fewer records than an older checkpoint proves.
    write(&lines[..3]);
    let (code, out, _) = run(env
        .cmd()
        .args(["evidence", "verify", "--checkpoint"])
        .arg(&older_path));
    assert_eq!(code, 1);
    assert!(out.contains("(truncated)"), "{out}");
    // A forged record sealed by another key, appended by hand.
    write(&lines);
    let intruder = Env::new();
    intruder.attach(1, &test_day(-100));
    let forged = fs::read(&intruder.log).unwrap();
    let mut with_forgery = lines.clone();
    with_forgery.push(forged[..forged.len() - 1].to_vec());
    write(&with_forgery);
    tampered_log_is_refused(&env, "forged record");
    let (_, out, _) = run(env.cmd().args(["evidence", "verify"]));
    assert!(
        out.contains("record 7 (beyond the checkpoint): sealed by another key (SHA256:"),
        "{out}"
    );
    // And nothing can be appended to a broken log.
    let doc = env.tmp.path().join("late.md");
    fs::write(&doc, "late").unwrap();
    let (code, _, err) = run(env
        .cmd()
        .args(["evidence", "attach", "--control", "1", "--reviewer", "r"])
        .arg("--file")
        .arg(&doc));
    assert_eq!(code, 2);
    assert!(err.contains("refusing to append"), "{err}");
}

#[test]
fn two_processes_appending_500_records_each_leave_1000_valid_records() {
    let env = Env::new();
    let doc = env.tmp.path().join("doc.md");
    fs::write(&doc, "shared document").unwrap();
    let script = format!(
        "for i in $(seq 1 500); do {bin} evidence attach --control 1 --reviewer r --file {doc} -q > /dev/null || exit 1; done",
        bin = assert_cmd::cargo::cargo_bin("modelseal").display(),
        doc = doc.display()
    );
    let spawn = || {
        std::process::Command::new("sh")
            .arg("-c")
            .arg(&script)
            .env(TEST_NOW, test_now().to_string())
            .env("MODELSEAL_EVIDENCE", &env.log)
            .env("MODELSEAL_EVIDENCE_KEY", &env.key)
            .spawn()
            .unwrap()
    };
    let (mut a, mut b) = (spawn(), spawn());
    assert!(a.wait().unwrap().success());
    assert!(b.wait().unwrap().success());
    let (code, out, _) = run(modelseal()
        .env_remove("MODELSEAL_EVIDENCE")
        .env("MODELSEAL_EVIDENCE_KEY", &env.key)
        .args(["--format", "json", "evidence", "verify"])
        .arg(&env.log));
    assert_eq!(code, 0, "{out}");
    let v: Value = serde_json::from_str(&out).unwrap();
    assert_eq!(v["records"], 1000);
    assert_eq!(v["checkpoint"]["size"], 1000);
}

#[test]
fn evidence_needs_an_ed25519_key_and_a_key_with_a_log() {
    let env = Env::new();
    let model = env.model("m");
    let (private, _) = demo_key();
    let (code, _, err) = run(modelseal()
        .env("MODELSEAL_EVIDENCE", &env.log)
        .env_remove("MODELSEAL_EVIDENCE_KEY")
        .arg("sign")
        .arg(&model)
        .arg("--key")
        .arg(&private)
        .arg("--signature")
        .arg(env.tmp.path().join("s.sig")));
    assert_eq!(code, 2);
    assert!(err.contains("--evidence needs --evidence-key"), "{err}");
    let p256 = env.tmp.path().join("p256");
    assert_eq!(
        run(modelseal()
            .args(["keygen", "--algorithm", "ecdsa-p256", "--out"])
            .arg(&p256))
        .0,
        0
    );
    let (code, _, err) = run(modelseal()
        .env("MODELSEAL_EVIDENCE", &env.log)
        .env(
            "MODELSEAL_EVIDENCE_KEY",
            env.tmp.path().join("p256.priv.pem"),
        )
        .arg("sign")
        .arg(&model)
        .arg("--key")
        .arg(&private)
        .arg("--signature")
        .arg(env.tmp.path().join("s.sig")));
    assert_eq!(code, 2);
    assert!(err.contains("must be Ed25519"), "{err}");
}

/// A log cut back below what a deployment already verified: someone with
/// file access (not the key) puts back the log and checkpoint of two
/// deployments ago. Whole, that log is consistent and `evidence verify`
/// passes it; the writer's deploy index, sealed by the evidence key, knows
/// the log was longer, and the next deployment is refused as tampering.
#[test]
fn a_log_cut_back_below_the_deploy_index_is_refused_by_the_next_deployment() {
    let env = Env::new();
    let digest = format!("sha256:{}", "ab".repeat(32));
    env.deploy(&digest);
    let checkpoint = modelseal::evidence::checkpoint_path(&env.log);
    let (old_log, old_checkpoint) = (fs::read(&env.log).unwrap(), fs::read(&checkpoint).unwrap());
    env.deploy(&digest);
    env.deploy(&digest);
    assert!(modelseal::evidence::deploy_index_path(&env.log).exists());
    fs::write(&env.log, old_log).unwrap();
    fs::write(&checkpoint, old_checkpoint).unwrap();
    let public = env.tmp.path().join("evidence.pub.pem");
    let (code, out, err) = run(env
        .cmd()
        .args(["evidence", "verify", "--evidence-key"])
        .arg(&public));
    assert_eq!(code, 0, "whole, the log is consistent: {out}{err}");
    let (code, _, err) = run(env
        .cmd()
        .args(["evidence", "deploy", "--name", "m", "--model", &digest]));
    // Refused, as an append to any log that does not verify is (exit 2).
    assert_eq!(code, 2, "{err}");
    let errors: Vec<&str> = err.lines().filter(|l| !l.starts_with("warning:")).collect();
    assert_eq!(errors.len(), 1, "{err}");
    assert!(errors[0].contains("already verified"), "{err}");
}
