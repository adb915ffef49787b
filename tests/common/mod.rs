//! Helpers shared by the integration tests.
#![allow(dead_code)]

use assert_cmd::Command;
use std::path::{Path, PathBuf};

/// The project root.
pub fn root() -> PathBuf {
    PathBuf::from(env!("CARGO_MANIFEST_DIR"))
}

/// `../shared` beside the project root (read in place, never copied in).
pub fn shared() -> PathBuf {
    root().join("../shared")
}

/// The interop fixtures.
pub fn interop() -> PathBuf {
    shared().join("interop")
}

/// A fixture under `fixtures/`.
pub fn fixture(rel: &str) -> PathBuf {
    root().join("fixtures").join(rel)
}

/// The demo key pair under `keys/`.
pub fn demo_key() -> (PathBuf, PathBuf) {
    (
        root().join("keys/demo.priv.pem"),
        root().join("keys/demo.pub.pem"),
    )
}

/// The modelseal binary, quiet on stderr progress (stderr is not a tty anyway).
pub fn modelseal() -> Command {
    Command::cargo_bin("modelseal").expect("binary built")
}

/// Copies a directory tree (regular files and directories) into `to`,
/// making everything writable.
pub fn copy_tree(from: &Path, to: &Path) {
    std::fs::create_dir_all(to).unwrap();
    for entry in std::fs::read_dir(from).unwrap() {
        let entry = entry.unwrap();
        let target = to.join(entry.file_name());
        if entry.file_type().unwrap().is_dir() {
            copy_tree(&entry.path(), &target);
        } else {
            std::fs::copy(entry.path(), &target).unwrap();
            let mut perms = std::fs::metadata(&target).unwrap().permissions();
            #[allow(clippy::permissions_set_readonly_false)]
            perms.set_readonly(false);
            std::fs::set_permissions(&target, perms).unwrap();
        }
    }
}

/// A writable copy of the tiny fixture model in a fresh temporary directory;
/// the model sits at `<tmp>/tiny-model`.
pub fn tiny_model() -> (tempfile::TempDir, PathBuf) {
    let tmp = tempfile::tempdir().unwrap();
    let model = tmp.path().join("tiny-model");
    copy_tree(&fixture("tiny-model"), &model);
    (tmp, model)
}

/// Runs a command and returns (exit code, stdout, stderr).
pub fn run(cmd: &mut Command) -> (i32, String, String) {
    let out = cmd.output().unwrap();
    (
        out.status.code().unwrap_or(-1),
        String::from_utf8_lossy(&out.stdout).into_owned(),
        String::from_utf8_lossy(&out.stderr).into_owned(),
    )
}

/// Signs `model` with the demo key into `sig`; panics on failure.
pub fn sign_demo(model: &Path, sig: &Path) {
    let (private, _) = demo_key();
    let (code, out, err) = run(modelseal()
        .arg("sign")
        .arg(model)
        .arg("--key")
        .arg(private)
        .arg("--signature")
        .arg(sig));
    assert_eq!(code, 0, "sign failed: {out}{err}");
}

/// Verifies `model` with the demo public key; returns (code, stdout, stderr).
pub fn verify_demo(model: &Path, sig: &Path, extra: &[&str]) -> (i32, String, String) {
    let (_, public) = demo_key();
    run(modelseal()
        .arg("verify")
        .arg(model)
        .arg("--signature")
        .arg(sig)
        .arg("--key")
        .arg(public)
        .args(extra))
}
