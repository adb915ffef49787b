//! The tamper matrix: every change to a signed model or its signature must be
//! detected, with the reason named.

use crate::common::*;
use base64::Engine;
use base64::engine::general_purpose::STANDARD;
use std::fs;
use std::path::Path;

const FILES: [&str; 5] = [
    "README.md",
    "config.json",
    "model.safetensors",
    "tokenizer.json",
    "tokenizer/vocab.txt",
];

/// Signs a fresh copy, applies `tamper`, and returns the verify output.
fn tampered(tamper: impl FnOnce(&Path, &Path)) -> (i32, String, String) {
    let (tmp, model) = tiny_model();
    let sig = tmp.path().join("model.sig");
    sign_demo(&model, &sig);
    assert_eq!(
        verify_demo(&model, &sig, &[]).0,
        0,
        "untouched copy must verify"
    );
    tamper(&model, &sig);
    verify_demo(&model, &sig, &[])
}

fn assert_fails(result: (i32, String, String), reason: &str) {
    let (code, out, err) = result;
    assert_eq!(code, 1, "expected a failed verification\n{out}{err}");
    assert!(out.contains(reason), "expected {reason:?} in:\n{out}{err}");
}

#[test]
fn flipping_one_byte_of_any_file_is_detected() {
    for file in FILES {
        let result = tampered(|m, _| {
            let p = m.join(file);
            let mut bytes = fs::read(&p).unwrap();
            let mid = bytes.len() / 2;
            bytes[mid] ^= 0x01;
            fs::write(&p, bytes).unwrap();
        });
        assert_fails(result, &format!("changed: {file}"));
    }
}

#[test]
fn truncating_or_appending_is_detected() {
    for file in FILES {
        let result = tampered(|m, _| {
            let p = m.join(file);
            let len = fs::metadata(&p).unwrap().len();
            fs::OpenOptions::new()
                .write(true)
                .open(&p)
                .unwrap()
                .set_len(len - 1)
                .unwrap();
        });
        assert_fails(result, &format!("changed: {file}"));
        let result = tampered(|m, _| {
            let p = m.join(file);
            let mut bytes = fs::read(&p).unwrap();
            bytes.push(b'\n');
            fs::write(&p, bytes).unwrap();
        });
        assert_fails(result, &format!("changed: {file}"));
    }
}

#[test]
fn renaming_adding_and_deleting_are_detected() {
    let result =
        tampered(|m, _| fs::rename(m.join("config.json"), m.join("config2.json")).unwrap());
    assert_fails(result.clone(), "missing: config.json");
    assert_fails(result, "extra (not signed): config2.json");
    assert_fails(
        tampered(|m, _| fs::write(m.join("tokenizer/extra.txt"), "x").unwrap()),
        "extra (not signed): tokenizer/extra.txt",
    );
    assert_fails(
        tampered(|m, _| fs::remove_file(m.join("model.safetensors")).unwrap()),
        "missing: model.safetensors",
    );
    assert_fails(
        tampered(|m, _| fs::write(m.join("empty-new"), "").unwrap()),
        "extra (not signed): empty-new",
    );
}

#[test]
fn extra_files_are_tolerated_only_when_asked() {
    let (tmp, model) = tiny_model();
    let sig = tmp.path().join("model.sig");
    sign_demo(&model, &sig);
    fs::write(model.join("notes.txt"), "later").unwrap();
    assert_eq!(verify_demo(&model, &sig, &[]).0, 1);
    let (code, out, _) = verify_demo(&model, &sig, &["--ignore-unsigned-files"]);
    assert_eq!(code, 0, "{out}");
    // Still strict about signed files.
    fs::write(model.join("config.json"), "{}").unwrap();
    let (code, out, _) = verify_demo(&model, &sig, &["--ignore-unsigned-files"]);
    assert_eq!(code, 1);
    assert!(out.contains("changed: config.json"), "{out}");
}

#[test]
fn replacing_a_file_by_a_symlink_is_detected() {
    let result = tampered(|m, _| {
        fs::remove_file(m.join("tokenizer.json")).unwrap();
        std::os::unix::fs::symlink("config.json", m.join("tokenizer.json")).unwrap();
    });
    assert_fails(result, "tokenizer.json is a symbolic link");
}

#[test]
fn the_signature_of_another_model_is_refused() {
    let result = tampered(|m, sig| {
        let other = m.parent().unwrap().join("other");
        copy_tree(m, &other);
        fs::write(other.join("config.json"), "{\"other\": true}\n").unwrap();
        sign_demo(&other, sig);
    });
    assert_fails(result, "changed: config.json");
}

/// Rewrites the payload of a bundle with `edit` without re-signing.
fn edit_payload(sig: &Path, edit: impl FnOnce(&mut serde_json::Value)) {
    let mut bundle: serde_json::Value = serde_json::from_slice(&fs::read(sig).unwrap()).unwrap();
    let payload = STANDARD
        .decode(bundle["dsseEnvelope"]["payload"].as_str().unwrap())
        .unwrap();
    let mut statement: serde_json::Value = serde_json::from_slice(&payload).unwrap();
    edit(&mut statement);
    bundle["dsseEnvelope"]["payload"] = STANDARD
        .encode(serde_json::to_vec(&statement).unwrap())
        .into();
    fs::write(sig, serde_json::to_vec(&bundle).unwrap()).unwrap();
}

#[test]
fn editing_the_signed_payload_breaks_the_signature() {
    let result = tampered(|_, sig| {
        edit_payload(sig, |st| {
            st["predicate"]["resources"][0]["digest"] = "00".repeat(32).into();
        })
    });
    assert_fails(result, "signature: the signature does not verify");
    let result =
        tampered(|_, sig| edit_payload(sig, |st| st["subject"][0]["name"] = "renamed".into()));
    assert_fails(result, "signature: the signature does not verify");
}

#[test]
fn a_flipped_signature_byte_is_detected() {
    let result = tampered(|_, sig| {
        let mut bundle: serde_json::Value =
            serde_json::from_slice(&fs::read(sig).unwrap()).unwrap();
        let mut raw = STANDARD
            .decode(
                bundle["dsseEnvelope"]["signatures"][0]["sig"]
                    .as_str()
                    .unwrap(),
            )
            .unwrap();
        raw[10] ^= 0x80;
        bundle["dsseEnvelope"]["signatures"][0]["sig"] = STANDARD.encode(raw).into();
        fs::write(sig, serde_json::to_vec(&bundle).unwrap()).unwrap();
    });
    assert_fails(result, "signature: the signature does not verify");
}

#[test]
fn a_model_re_signed_with_another_key_names_the_wrong_key() {
    let result = tampered(|m, sig| {
        let dir = m.parent().unwrap();
        let prefix = dir.join("intruder");
        let (code, _, err) = run(modelseal().arg("keygen").arg("--out").arg(&prefix));
        assert_eq!(code, 0, "{err}");
        let (code, _, err) = run(modelseal()
            .arg("sign")
            .arg(m)
            .arg("--key")
            .arg(dir.join("intruder.priv.pem"))
            .arg("--signature")
            .arg(sig));
        assert_eq!(code, 0, "{err}");
    });
    assert_fails(result, "wrong key: the bundle was signed by another key");
}
