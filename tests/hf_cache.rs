//! `hf://ORG/NAME[@REV]`: a snapshot of the Hugging Face cache, laid out
//! the way the cache lays it out (snapshot entries are symbolic links into
//! `../../blobs/`), signed and verified here and by the Python reference.

use crate::common::*;
use std::fs;
use std::os::unix::fs::symlink;
use std::path::{Path, PathBuf};

const COMMIT: &str = "0123456789abcdef0123456789abcdef01234567";

/// A cache under a temporary `HF_HOME` holding `fixtures/tiny-model` as
/// `org/tiny` at `COMMIT` (`refs/main` names it). Returns the home and the
/// snapshot directory.
fn hf_cache() -> (tempfile::TempDir, PathBuf) {
    let home = tempfile::tempdir().unwrap();
    let repo = home.path().join("hub/models--org--tiny");
    fs::create_dir_all(repo.join("blobs")).unwrap();
    fs::create_dir_all(repo.join("refs")).unwrap();
    fs::write(repo.join("refs/main"), COMMIT).unwrap();
    let snapshot = repo.join("snapshots").join(COMMIT);
    for rel in [
        "README.md",
        "config.json",
        "model.safetensors",
        "tokenizer.json",
        "tokenizer/vocab.txt",
    ] {
        let bytes = fs::read(fixture("tiny-model").join(rel)).unwrap();
        let blob = blob_name(&bytes);
        fs::write(repo.join("blobs").join(&blob), &bytes).unwrap();
        let link = snapshot.join(rel);
        fs::create_dir_all(link.parent().unwrap()).unwrap();
        symlink(up_to_blobs(rel).join(&blob), &link).unwrap();
    }
    (home, snapshot)
}

/// A blob's file name: any unique name works for the test; the cache uses
/// the content's hash, so this does too.
fn blob_name(bytes: &[u8]) -> String {
    use sha2::Digest;
    hex::encode(sha2::Sha256::digest(bytes))
}

/// `../../blobs` from a snapshot entry at `rel` (one more `..` per folder).
fn up_to_blobs(rel: &str) -> PathBuf {
    let depth = rel.matches('/').count();
    let mut p = PathBuf::from("../..");
    for _ in 0..depth {
        p.push("..");
    }
    p.join("blobs")
}

fn with_home<'a>(cmd: &'a mut assert_cmd::Command, home: &Path) -> &'a mut assert_cmd::Command {
    cmd.env("HF_HOME", home)
}

fn sign_hf(home: &Path, sig: &Path) {
    let (code, out, err) = run(with_home(
        demo_sign_args(&mut modelseal(), Path::new("hf://org/tiny"), sig, None),
        home,
    ));
    assert_eq!(code, 0, "sign failed: {out}{err}");
}

fn verify_hf(home: &Path, sig: &Path) -> (i32, String, String) {
    run(with_home(
        demo_verify_args(&mut modelseal(), Path::new("hf://org/tiny"), sig),
        home,
    ))
}

#[test]
fn a_cache_snapshot_signs_and_verifies_and_tampering_names_the_link() {
    let (home, snapshot) = hf_cache();
    let sig = home.path().join("tiny.sig");
    sign_hf(home.path(), &sig);
    let (code, out, err) = verify_hf(home.path(), &sig);
    assert_eq!(code, 0, "{out}{err}");
    // The revision can be named: a ref or the full commit.
    let pinned = format!("hf://org/tiny@{COMMIT}");
    let (code, out, err) = run(with_home(
        demo_verify_args(&mut modelseal(), Path::new(&pinned), &sig),
        home.path(),
    ));
    assert_eq!(code, 0, "{out}{err}");

    // A changed blob fails naming the link.
    let config = fs::canonicalize(snapshot.join("config.json")).unwrap();
    let original = fs::read(&config).unwrap();
    fs::write(&config, b"{\"changed\": true}\n").unwrap();
    let (code, out, err) = verify_hf(home.path(), &sig);
    assert_eq!(code, 1, "{out}{err}");
    assert!(out.contains("config.json"), "{out}{err}");
    fs::write(&config, &original).unwrap();
    assert_eq!(verify_hf(home.path(), &sig).0, 0);

    // A link re-pointed to another blob fails.
    let link = snapshot.join("README.md");
    let target = fs::read_link(&link).unwrap();
    fs::remove_file(&link).unwrap();
    symlink(
        fs::read_link(snapshot.join("tokenizer.json")).unwrap(),
        &link,
    )
    .unwrap();
    let (code, out, err) = verify_hf(home.path(), &sig);
    assert_eq!(code, 1, "{out}{err}");
    assert!(out.contains("README.md"), "{out}{err}");
    fs::remove_file(&link).unwrap();
    symlink(&target, &link).unwrap();
    assert_eq!(verify_hf(home.path(), &sig).0, 0);

    // A new link is an extra file.
    symlink(&target, snapshot.join("extra.md")).unwrap();
    let (code, out, err) = verify_hf(home.path(), &sig);
    assert_eq!(code, 1, "{out}{err}");
    assert!(out.contains("extra.md"), "{out}{err}");
}

#[test]
fn a_missing_cache_entry_or_an_abbreviated_revision_is_one_line() {
    let (home, _snapshot) = hf_cache();
    let sig = home.path().join("none.sig");
    for (uri, why) in [
        ("hf://org/absent", "not in the Hugging Face cache"),
        ("hf://org/tiny@0123456", "abbreviated commit"),
    ] {
        let (code, out, err) = run(with_home(
            demo_sign_args(&mut modelseal(), Path::new(uri), &sig, None),
            home.path(),
        ));
        assert_eq!(code, 2, "{uri}: {out}{err}");
        assert_eq!(err.trim().lines().count(), 1, "{uri}: {err}");
        assert!(err.contains(why), "{uri}: {err}");
        assert!(!sig.exists());
    }
}

#[test]
fn the_python_reference_and_modelseal_accept_each_others_snapshot_bundles() {
    let (home, snapshot) = hf_cache();
    let prefix = home.path().join("p256");
    let (code, _, err) = run(modelseal()
        .args(["keygen", "--algorithm", "ecdsa-p256", "--out"])
        .arg(&prefix));
    assert_eq!(code, 0, "{err}");
    let private = home.path().join("p256.priv.pem");
    let public = home.path().join("p256.pub.pem");

    // Signed by the reference on the snapshot, verified here as hf://.
    let py_sig = home.path().join("py.sig");
    let out = external_tool("model_signing")
        .args(["sign", "key"])
        .arg(&snapshot)
        .arg("--private_key")
        .arg(&private)
        .arg("--signature")
        .arg(&py_sig)
        .arg("--allow_symlinks")
        .output()
        .unwrap();
    assert!(out.status.success(), "{out:?}");
    let (code, out, err) = run(with_home(modelseal().arg("verify"), home.path())
        .args(["hf://org/tiny", "--key"])
        .arg(&public)
        .arg("--signature")
        .arg(&py_sig));
    assert_eq!(code, 0, "{out}{err}");

    // Signed here as hf://, verified by the reference on the snapshot.
    let sig = home.path().join("ms.sig");
    let (code, out, err) = run(with_home(modelseal().arg("sign"), home.path())
        .args(["hf://org/tiny", "--key"])
        .arg(&private)
        .arg("--signature")
        .arg(&sig));
    assert_eq!(code, 0, "{out}{err}");
    let out = external_tool("model_signing")
        .args(["verify", "key"])
        .arg(&snapshot)
        .arg("--public_key")
        .arg(&public)
        .arg("--signature")
        .arg(&sig)
        .arg("--allow_symlinks")
        .output()
        .unwrap();
    assert!(out.status.success(), "{out:?}");
}
