//! Snapshots of every `--format json` (and `--format oscal`) document the
//! command line prints, so that a changed, added or removed field shows up as
//! a reviewed diff of `tests/snapshots/`. Inputs are the shipped fixtures,
//! copied into a temporary directory and named relative to it; values that
//! differ between runs (fresh keys, wall-clock times, random ids) are
//! replaced by `[redacted]`, and the temporary directory by `[tmp]`, before
//! comparing.
//!
//! Accept an intended change with `INSTA_UPDATE=always scripts/test.sh`
//! (or `cargo insta review`) and commit the `.snap` files with it.

use crate::common::*;
use serde_json::Value;
use std::path::Path;

/// Keys whose values change from run to run.
const VOLATILE: &[&str] = &[
    // audit and OSCAL: when the report was made, and random document ids.
    "generated",
    "generated_at",
    "last-modified",
    "published",
    "start",
    "end",
    "uuid",
    "collected",
    // The SHA-256 of the executable, different from build to build.
    "executable_sha256",
];

/// Replaces the values of volatile keys, recursively.
fn redact(value: &mut Value) {
    match value {
        Value::Object(map) => {
            // The executable's digest differs from build to build (an
            // OSCAL property of the tool component).
            if map.get("name").and_then(Value::as_str) == Some("executable-sha256") {
                map.insert("value".into(), Value::String("[redacted]".into()));
            }
            for (key, v) in map.iter_mut() {
                if VOLATILE.contains(&key.as_str()) {
                    *v = Value::String("[redacted]".into());
                } else {
                    redact(v);
                }
            }
        }
        Value::Array(items) => items.iter_mut().for_each(redact),
        _ => {}
    }
}

/// Runs modelseal in `dir` with `args`, expects `code`, and parses stdout as
/// one JSON document.
fn json_of(dir: &Path, args: &[&str], code: i32) -> Value {
    let (got, out, err) = run(modelseal()
        .current_dir(dir)
        .env("SOURCE_DATE_EPOCH", "1767225600")
        .args(args));
    assert_eq!(got, code, "modelseal {args:?}: {out}{err}");
    // Where the temporary directory is differs from run to run.
    let canonical = dir.canonicalize().unwrap();
    let out = out.replace(canonical.to_str().unwrap(), "[tmp]");
    let mut value: Value =
        serde_json::from_str(&out).unwrap_or_else(|e| panic!("modelseal {args:?}: {e}: {out}"));
    redact(&mut value);
    value
}

/// A temporary directory holding the tiny model (`m`), the tiny dataset
/// (`d`), the demo key pair (`demo.priv.pem`, `demo.pub.pem`) and the
/// golden evidence log of 0.1.0 with its key (`evidence.*`).
fn workspace() -> tempfile::TempDir {
    let tmp = tempfile::tempdir().unwrap();
    let dir = tmp.path();
    copy_tree(&fixture("tiny-model"), &dir.join("m"));
    copy_tree(&fixture("tiny-dataset"), &dir.join("d"));
    let (private, public) = demo_key();
    std::fs::copy(private, dir.join("demo.priv.pem")).unwrap();
    std::fs::copy(public, dir.join("demo.pub.pem")).unwrap();
    let golden = fixture("golden/v0.1.0");
    for name in [
        "evidence.jsonl",
        "evidence.jsonl.checkpoint",
        "evidence.pub.pem",
    ] {
        std::fs::copy(golden.join(name), dir.join(name)).unwrap();
    }
    tmp
}

#[test]
fn keygen_json() {
    let tmp = workspace();
    let mut v = json_of(tmp.path(), &["--format", "json", "keygen", "--out", "k"], 0);
    // A fresh key: its fingerprint and hint differ every run, their form not.
    for key in ["fingerprint", "hint"] {
        let text = v[key].as_str().unwrap().to_string();
        assert!(text.len() >= 64, "{key}: {text}");
        v[key] = Value::String("[redacted]".into());
    }
    insta::assert_json_snapshot!("keygen", v);
}

#[test]
fn hash_json() {
    let tmp = workspace();
    let v = json_of(tmp.path(), &["--format", "json", "hash", "m"], 0);
    insta::assert_json_snapshot!("hash", v);
}

#[test]
fn sign_and_verify_json() {
    let tmp = workspace();
    let dir = tmp.path();
    let sign = json_of(
        dir,
        &[
            "--format",
            "json",
            "sign",
            "m",
            "--key",
            "demo.priv.pem",
            "--signature",
            "m.sig",
        ],
        0,
    );
    insta::assert_json_snapshot!("sign", sign);
    let verify = [
        "--format",
        "json",
        "verify",
        "m",
        "--key",
        "demo.pub.pem",
        "--signature",
        "m.sig",
    ];
    insta::assert_json_snapshot!("verify_ok", json_of(dir, &verify, 0));
    std::fs::write(dir.join("m/config.json"), b"{}").unwrap();
    insta::assert_json_snapshot!("verify_changed", json_of(dir, &verify, 1));
}

#[test]
fn verify_bundle_json() {
    let tmp = workspace();
    let dir = tmp.path();
    let signed = json_of(
        dir,
        &[
            "--format",
            "json",
            "sign",
            "m",
            "--key",
            "demo.priv.pem",
            "--signature",
            "m.sig",
        ],
        0,
    );
    // A model bundle signs the model's root digest; verify-bundle checks
    // any bundle over an artifact or a digest.
    let digest = format!(
        "sha256:{}",
        signed["subject"]["digest"]["sha256"].as_str().unwrap()
    );
    let mut args = vec![
        "--format",
        "json",
        "verify-bundle",
        &digest,
        "--bundle",
        "m.sig",
        "--key",
        "demo.pub.pem",
    ];
    // A key-signed bundle has no transparency-log entry: refused unless the
    // caller says it does not need one.
    insta::assert_json_snapshot!("verify_bundle_no_tlog", json_of(dir, &args, 1));
    args.push("--insecure-ignore-tlog");
    insta::assert_json_snapshot!("verify_bundle", json_of(dir, &args, 0));
}

#[test]
fn inspect_json() {
    let tmp = workspace();
    let v = json_of(tmp.path(), &["--format", "json", "inspect", "m"], 0);
    insta::assert_json_snapshot!("inspect", v);
}

#[test]
fn policy_json() {
    let tmp = workspace();
    let dir = tmp.path();
    let (code, default, err) = run(modelseal().args(["policy", "default"]));
    assert_eq!(code, 0, "{err}");
    std::fs::write(dir.join("policy.toml"), default).unwrap();
    let v = json_of(
        dir,
        &["--format", "json", "policy", "check", "policy.toml"],
        0,
    );
    insta::assert_json_snapshot!("policy_check", v);
}

#[test]
fn bom_json() {
    let tmp = workspace();
    let dir = tmp.path();
    let written = json_of(
        dir,
        &[
            "--format",
            "json",
            "bom",
            "m",
            "--dataset",
            "d",
            "--key",
            "demo.priv.pem",
            "--out",
            "m.cdx.json",
        ],
        0,
    );
    insta::assert_json_snapshot!("bom_write", written);
    let checked = json_of(
        dir,
        &["--format", "json", "bom", "--check", "m.cdx.json"],
        0,
    );
    insta::assert_json_snapshot!("bom_check", checked);
    // The BOM document itself is a JSON output too.
    let mut bom: Value =
        serde_json::from_slice(&std::fs::read(dir.join("m.cdx.json")).unwrap()).unwrap();
    redact(&mut bom);
    insta::assert_json_snapshot!("bom_document", bom);
}

#[test]
fn evidence_json() {
    let tmp = workspace();
    let dir = tmp.path();
    let log = [
        "--evidence",
        "evidence.jsonl",
        "--evidence-key",
        "evidence.pub.pem",
    ];
    let mut verify = vec!["--format", "json", "evidence", "verify"];
    verify.extend(log);
    insta::assert_json_snapshot!("evidence_verify", json_of(dir, &verify, 0));
    let mut list = vec!["--format", "json", "evidence", "list"];
    list.extend(log);
    insta::assert_json_snapshot!("evidence_list", json_of(dir, &list, 0));
}

#[test]
fn audit_json_and_oscal() {
    let tmp = workspace();
    let dir = tmp.path();
    let log = [
        "--evidence",
        "evidence.jsonl",
        "--evidence-key",
        "evidence.pub.pem",
    ];
    for (format, name) in [("json", "audit"), ("oscal", "audit_oscal")] {
        let mut args = vec!["--format", format, "audit", "--as-of", "2026-06-01"];
        args.extend(log);
        let (code, out, err) = run(modelseal()
            .current_dir(dir)
            .env("SOURCE_DATE_EPOCH", "1767225600")
            .args(&args));
        assert!(code == 0 || code == 1, "{err}");
        let mut v: Value = serde_json::from_str(&out).unwrap_or_else(|e| panic!("{e}: {out}"));
        redact(&mut v);
        insta::assert_json_snapshot!(name, v);
    }
}
