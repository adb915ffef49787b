//! Interop: bundles made by other implementations (`fixtures/interop/`)
//! verify, and tampered or wrongly-trusted ones fail.

use crate::common::*;
use std::path::{Path, PathBuf};

fn mt() -> PathBuf {
    interop().join("model-transparency")
}

fn ms() -> PathBuf {
    interop().join("model-signing-1.1.1")
}

fn anchor() -> PathBuf {
    mt().join("keys/certificate/ca-cert.pem")
}

fn p384_key() -> PathBuf {
    mt().join("keys/certificate/signing-key-pub.pem")
}

/// Verifies with the clock inside the fixtures' certificate validity
/// (model-transparency's PKI: 2025-05-02 to 2035-04-30), whatever the
/// run's test clock.
fn verify(
    model: &Path,
    sig: &Path,
    trust: &[&std::ffi::OsStr],
    extra: &[&str],
) -> (i32, String, String) {
    run(modelseal()
        .env(TEST_NOW, PKI_NOW)
        .arg("verify")
        .arg(model)
        .arg("--signature")
        .arg(sig)
        .args(trust)
        .args(extra))
}

fn key_trust(key: &Path) -> Vec<&std::ffi::OsStr> {
    vec!["--key".as_ref(), key.as_os_str()]
}

fn cert_trust(anchor: &Path) -> Vec<&std::ffi::OsStr> {
    vec!["--cert-chain".as_ref(), anchor.as_os_str()]
}

/// The model-transparency cases: (folder, model path inside, extra flags).
fn mt_cases(method: &str) -> Vec<(PathBuf, PathBuf, Vec<&'static str>)> {
    let mut cases = Vec::new();
    for version in ["v0.2.0", "v0.3.1", "v1.0.0", "v1.0.1", "v1.1.0"] {
        let dir = mt().join(format!("{version}-{method}"));
        if !dir.exists() {
            continue;
        }
        // Releases before 1.0.1 signed the single file signme-1 in key mode.
        let model = if method == "elliptic-key" && !dir.join("signme-2").exists() {
            dir.join("signme-1")
        } else {
            dir.clone()
        };
        let extra = if dir.join("ignore-me").exists() {
            vec!["--ignore-path", "ignore-me"]
        } else {
            vec![]
        };
        cases.push((dir, model, extra));
    }
    cases
}

#[test]
fn every_model_transparency_certificate_bundle_verifies() {
    let cases = mt_cases("certificate");
    assert_eq!(cases.len(), 5);
    for (dir, model, extra) in cases {
        let (code, out, err) = verify(
            &model,
            &dir.join("model.sig"),
            &cert_trust(&anchor()),
            &extra,
        );
        assert_eq!(code, 0, "{}: {out}{err}", dir.display());
        assert!(out.contains("anchor \"CN=root-ca\""), "{out}");
    }
}

#[test]
fn every_model_transparency_key_bundle_verifies() {
    let cases = mt_cases("elliptic-key");
    assert_eq!(cases.len(), 4);
    for (dir, model, extra) in cases {
        let (code, out, err) = verify(
            &model,
            &dir.join("model.sig"),
            &key_trust(&p384_key()),
            &extra,
        );
        assert_eq!(code, 0, "{}: {out}{err}", dir.display());
    }
}

#[test]
fn model_transparency_negatives_fail() {
    let tmp = tempfile::tempdir().unwrap();
    for (dir, _, extra) in mt_cases("certificate") {
        // Wrong trust anchor: the intermediate's own key is not a root here,
        // but an unrelated root certainly is not.
        let other_root = fixture("pki/root.pem");
        let (code, out, _) = verify(
            &dir,
            &dir.join("model.sig"),
            &cert_trust(&other_root),
            &extra,
        );
        assert_eq!(code, 1, "{}: {out}", dir.display());
        assert!(out.contains("certificate:"), "{out}");
        // A flipped byte in signme-1.
        let copy = tmp.path().join(dir.file_name().unwrap());
        copy_tree(&dir, &copy);
        let mut bytes = std::fs::read(copy.join("signme-1")).unwrap();
        bytes[0] ^= 1;
        std::fs::write(copy.join("signme-1"), bytes).unwrap();
        let (code, out, _) = verify(
            &copy,
            &copy.join("model.sig"),
            &cert_trust(&anchor()),
            &extra,
        );
        assert_eq!(code, 1, "{out}");
        assert!(out.contains("changed: signme-1"), "{out}");
    }
    for (dir, model, extra) in mt_cases("elliptic-key") {
        let wrong = ms().join("keys/p384.pub.pem");
        let (code, out, _) = verify(&model, &dir.join("model.sig"), &key_trust(&wrong), &extra);
        assert_eq!(code, 1, "{out}");
        assert!(
            out.contains("wrong key") || out.contains("signature:"),
            "{out}"
        );
    }
}

#[test]
fn files_excluded_when_signing_must_be_excluded_when_verifying() {
    // v1.0.1 bundles do not record ignore paths: without the flag the
    // excluded file is an unsigned extra.
    let dir = mt().join("v1.0.1-elliptic-key");
    let (code, out, _) = verify(&dir, &dir.join("model.sig"), &key_trust(&p384_key()), &[]);
    assert_eq!(code, 1);
    assert!(out.contains("extra (not signed): ignore-me"), "{out}");
}

#[test]
fn every_model_signing_bundle_verifies() {
    let model = ms().join("fixture_model");
    for (sig, key) in [
        ("model.p256.sig", "p256"),
        ("model.p384.sig", "p384"),
        ("model.p521.sig", "p521"),
        ("model.blake3.sig", "p256"),
        ("model.shards500.sig", "p256"),
    ] {
        let key = ms().join(format!("keys/{key}.pub.pem"));
        let (code, out, err) = verify(&model, &ms().join(sig), &key_trust(&key), &[]);
        assert_eq!(code, 0, "{sig}: {out}{err}");
    }
    let (code, out, err) = verify(
        &model,
        &ms().join("model.cert.sig"),
        &cert_trust(&anchor()),
        &[],
    );
    assert_eq!(code, 0, "{out}{err}");
}

#[test]
fn model_signing_bundles_fail_with_the_wrong_key_or_a_changed_file() {
    let model = ms().join("fixture_model");
    let wrong = ms().join("keys/p384.pub.pem");
    let (code, out, _) = verify(
        &model,
        &ms().join("model.p256.sig"),
        &key_trust(&wrong),
        &[],
    );
    assert_eq!(code, 1);
    assert!(out.contains("wrong key"), "{out}");
    let tmp = tempfile::tempdir().unwrap();
    let copy = tmp.path().join("fixture_model");
    copy_tree(&model, &copy);
    std::fs::write(copy.join("nested/empty.txt"), "no longer empty").unwrap();
    for sig in ["model.p256.sig", "model.shards500.sig", "model.blake3.sig"] {
        let key = ms().join("keys/p256.pub.pem");
        let (code, out, _) = verify(&copy, &ms().join(sig), &key_trust(&key), &[]);
        assert_eq!(code, 1, "{sig}: {out}");
        // With shards, an empty file had no shards: it now appears as extra.
        assert!(out.contains("nested/empty.txt"), "{sig}: {out}");
    }
}

#[test]
fn our_hashes_match_the_expected_manifests() {
    for (file, flags) in [
        ("fixture_model.expected.json", vec![]),
        (
            "fixture_model.shards500.expected.json",
            vec!["--method", "shards", "--shard-size", "500"],
        ),
    ] {
        let expected: serde_json::Value =
            serde_json::from_slice(&std::fs::read(ms().join(file)).unwrap()).unwrap();
        let (code, out, err) = run(modelseal()
            .args(["--format", "json", "hash"])
            .arg(ms().join("fixture_model"))
            .args(&flags));
        assert_eq!(code, 0, "{err}");
        let ours: serde_json::Value = serde_json::from_str(&out).unwrap();
        let pairs = |v: &serde_json::Value| {
            let mut p: Vec<(String, String)> = v["resources"]
                .as_array()
                .unwrap()
                .iter()
                .map(|r| {
                    (
                        r["name"].as_str().unwrap().into(),
                        r["digest"].as_str().unwrap().into(),
                    )
                })
                .collect();
            p.sort();
            p
        };
        assert_eq!(pairs(&ours), pairs(&expected), "{file}");
        assert_eq!(ours["name"], expected["subject_name"]);
        // The expected subject digest follows the reference's listing order;
        // ours follows the spec's byte-wise order, so recompute over theirs.
        let listed: Vec<u8> = expected["resources"]
            .as_array()
            .unwrap()
            .iter()
            .flat_map(|r| hex::decode(r["digest"].as_str().unwrap()).unwrap())
            .collect();
        use sha2::Digest;
        assert_eq!(
            hex::encode(sha2::Sha256::digest(&listed)),
            expected["subject_sha256"].as_str().unwrap()
        );
        let names: Vec<&str> = ours["resources"]
            .as_array()
            .unwrap()
            .iter()
            .map(|r| r["name"].as_str().unwrap())
            .collect();
        let mut sorted = names.clone();
        sorted.sort();
        assert_eq!(names, sorted, "resources must be in byte-wise order");
    }
}

#[test]
fn oms_test_vectors_parse_or_are_rejected_as_the_spec_says() {
    let vectors = interop().join("oms-test-vectors/v1.0");
    for name in ["key", "certificate", "sigstore"] {
        let bytes = std::fs::read(vectors.join(format!("valid/{name}.bundle.json"))).unwrap();
        modelseal::bundle::Bundle::from_slice(&bytes).unwrap_or_else(|e| panic!("{name}: {e}"));
    }
    for name in [
        "empty",
        "missing-envelope",
        "missing-tlog-entries",
        "missing-verification-material",
    ] {
        let bytes = std::fs::read(vectors.join(format!("invalid/{name}.bundle.json"))).unwrap();
        assert!(
            modelseal::bundle::Bundle::from_slice(&bytes).is_err(),
            "{name} must be rejected"
        );
        let (code, _, err) = verify(
            &mt().join("v1.1.0-elliptic-key"),
            &vectors.join(format!("invalid/{name}.bundle.json")),
            &key_trust(&p384_key()),
            &[],
        );
        assert_eq!(code, 2, "{name}: {err}");
        assert!(err.contains("malformed bundle"), "{name}: {err}");
    }
    // The key vector verifies against the v1.1.0 model (its signature file
    // lies inside that folder and is not named in the vector's ignore list).
    let (code, out, err) = verify(
        &mt().join("v1.1.0-elliptic-key"),
        &vectors.join("valid/key.bundle.json"),
        &key_trust(&p384_key()),
        &["--ignore-path", "ignore-me", "--ignore-path", "model.sig"],
    );
    assert_eq!(code, 0, "{out}{err}");
    let (code, out, _) = verify(
        &mt().join("v1.1.0-elliptic-key"),
        &vectors.join("invalid-payload/wrong-predicate.bundle.json"),
        &key_trust(&p384_key()),
        &["--ignore-path", "ignore-me", "--ignore-path", "model.sig"],
    );
    assert_eq!(code, 1, "{out}");
}
