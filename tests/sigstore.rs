//! Sigstore keyless: the public-good OMS bundles verify offline by identity,
//! and every mutation of a real bundle is rejected.

use crate::common::*;
use base64::Engine;
use base64::engine::general_purpose::STANDARD;
use serde_json::Value;
use std::path::{Path, PathBuf};

const IDENTITY: &str = "stefanb@us.ibm.com";
const ISSUER: &str = "https://sigstore.verify.ibm.com/oauth2";

fn sigstore_dirs() -> Vec<PathBuf> {
    ["v0.3.1", "v1.0.0", "v1.0.1", "v1.1.0"]
        .iter()
        .map(|v| interop().join(format!("model-transparency/{v}-sigstore")))
        .collect()
}

fn verify_keyless(
    dir: &Path,
    sig: &Path,
    identity: &str,
    issuer: &str,
    extra: &[&str],
) -> (i32, String, String) {
    let mut cmd = modelseal();
    cmd.arg("verify")
        .arg(dir)
        .arg("--signature")
        .arg(sig)
        .args(["--identity", identity, "--issuer", issuer])
        .args(extra);
    if dir.join("ignore-me").exists() {
        cmd.args(["--ignore-path", "ignore-me"]);
    }
    run(&mut cmd)
}

#[test]
fn every_public_good_oms_bundle_verifies_offline() {
    for dir in sigstore_dirs() {
        let (code, out, err) = verify_keyless(&dir, &dir.join("model.sig"), IDENTITY, ISSUER, &[]);
        assert_eq!(code, 0, "{}: {out}{err}", dir.display());
        assert!(
            out.contains("sigstore identity stefanb@us.ibm.com"),
            "{out}"
        );
        assert!(out.contains("logged:  2025-"), "{out}");
    }
}

#[test]
fn another_identity_or_issuer_fails() {
    let dir = &sigstore_dirs()[3];
    let sig = dir.join("model.sig");
    let (code, out, _) = verify_keyless(dir, &sig, "someone@example.com", ISSUER, &[]);
    assert_eq!(code, 1);
    assert!(out.contains("identity: identity mismatch"), "{out}");
    let (code, out, _) = verify_keyless(dir, &sig, IDENTITY, "https://accounts.google.com", &[]);
    assert_eq!(code, 1);
    assert!(out.contains("identity: issuer mismatch"), "{out}");
}

#[test]
fn a_tampered_file_fails() {
    let tmp = tempfile::tempdir().unwrap();
    for dir in sigstore_dirs() {
        let copy = tmp.path().join(dir.file_name().unwrap());
        copy_tree(&dir, &copy);
        let mut bytes = std::fs::read(copy.join("signme-1")).unwrap();
        bytes[0] ^= 1;
        std::fs::write(copy.join("signme-1"), bytes).unwrap();
        let (code, out, _) = verify_keyless(&copy, &copy.join("model.sig"), IDENTITY, ISSUER, &[]);
        assert_eq!(code, 1, "{out}");
        assert!(out.contains("changed: signme-1"), "{out}");
    }
}

/// The embedded trusted root with its Fulcio CAs replaced by our test root.
fn root_without_fulcio(dir: &Path) -> PathBuf {
    let mut root: Value = serde_json::from_str(modelseal::sigstore::EMBEDDED_TRUSTED_ROOT).unwrap();
    let pem = std::fs::read_to_string(fixture("pki/root.pem")).unwrap();
    let der = modelseal::keys::pem_blocks(&pem).unwrap().remove(0).1;
    for ca in root["certificateAuthorities"].as_array_mut().unwrap() {
        ca["certChain"]["certificates"] =
            serde_json::json!([{ "rawBytes": STANDARD.encode(&der) }]);
    }
    let path = dir.join("foreign-root.json");
    std::fs::write(&path, serde_json::to_vec(&root).unwrap()).unwrap();
    path
}

#[test]
fn a_trusted_root_without_their_fulcio_ca_fails() {
    let tmp = tempfile::tempdir().unwrap();
    let root = root_without_fulcio(tmp.path());
    let dir = &sigstore_dirs()[3];
    let (code, out, err) = verify_keyless(
        dir,
        &dir.join("model.sig"),
        IDENTITY,
        ISSUER,
        &["--trusted-root", root.to_str().unwrap()],
    );
    assert_eq!(code, 1, "{out}{err}");
    assert!(out.contains("certificate:"), "{out}");
}

#[test]
fn keyless_trust_refuses_key_and_chain_bundles() {
    let dir = interop().join("model-transparency/v1.1.0-elliptic-key");
    let (code, out, _) = verify_keyless(&dir, &dir.join("model.sig"), IDENTITY, ISSUER, &[]);
    assert_eq!(code, 1);
    assert!(out.contains("verify it with --key"), "{out}");
}

fn subject_digest(bundle: &Value) -> String {
    let payload = STANDARD
        .decode(bundle["dsseEnvelope"]["payload"].as_str().unwrap())
        .unwrap();
    let statement: Value = serde_json::from_slice(&payload).unwrap();
    statement["subject"][0]["digest"]["sha256"]
        .as_str()
        .unwrap()
        .to_string()
}

fn verify_bundle(bundle: &Path, artifact: &str) -> (i32, String, String) {
    run(modelseal()
        .arg("verify-bundle")
        .arg(artifact)
        .arg("--bundle")
        .arg(bundle)
        .args([
            "--certificate-identity",
            IDENTITY,
            "--certificate-oidc-issuer",
            ISSUER,
        ]))
}

#[test]
fn verify_bundle_accepts_the_real_bundle_by_digest() {
    for dir in sigstore_dirs() {
        let sig = dir.join("model.sig");
        let bundle: Value = serde_json::from_slice(&std::fs::read(&sig).unwrap()).unwrap();
        let digest = subject_digest(&bundle);
        let (code, out, err) = verify_bundle(&sig, &format!("sha256:{digest}"));
        assert_eq!(code, 0, "{}: {out}{err}", dir.display());
        assert!(
            out.contains("dsse bundle") && out.contains("identity: stefanb@us.ibm.com"),
            "{out}"
        );
        let (code, out, _) = verify_bundle(&sig, &format!("sha256:{}", "0".repeat(64)));
        assert_eq!(code, 1, "another artifact must fail: {out}");
    }
}

#[test]
fn every_mutation_of_a_real_bundle_is_rejected() {
    let sig = sigstore_dirs()[3].join("model.sig");
    let original: Value = serde_json::from_slice(&std::fs::read(&sig).unwrap()).unwrap();
    let digest = format!("sha256:{}", subject_digest(&original));
    let flip_b64 = |v: &mut Value, at: usize| {
        let mut raw = STANDARD.decode(v.as_str().unwrap()).unwrap();
        let i = at.min(raw.len() - 1);
        raw[i] ^= 0x01;
        *v = STANDARD.encode(raw).into();
    };
    type Mutation = Box<dyn Fn(&mut Value)>;
    let mutations: Vec<(&str, Mutation)> = vec![
        (
            "signature byte",
            Box::new(move |b| flip_b64(&mut b["dsseEnvelope"]["signatures"][0]["sig"], 20)),
        ),
        (
            "certificate byte",
            Box::new(move |b| {
                flip_b64(
                    &mut b["verificationMaterial"]["certificate"]["rawBytes"],
                    300,
                )
            }),
        ),
        (
            "inclusion proof hash",
            Box::new(move |b| {
                flip_b64(
                    &mut b["verificationMaterial"]["tlogEntries"][0]["inclusionProof"]["hashes"][0],
                    5,
                )
            }),
        ),
        (
            "inclusion proof root hash",
            Box::new(move |b| {
                flip_b64(
                    &mut b["verificationMaterial"]["tlogEntries"][0]["inclusionProof"]["rootHash"],
                    5,
                )
            }),
        ),
        (
            "checkpoint signature",
            Box::new(|b| {
                let cp = &mut b["verificationMaterial"]["tlogEntries"][0]["inclusionProof"]["checkpoint"]
                    ["envelope"];
                let text = cp.as_str().unwrap().to_string();
                let (head, sig_line) = text.trim_end().rsplit_once('\n').unwrap();
                let (prefix, sig) = sig_line.rsplit_once(' ').unwrap();
                let mut raw = STANDARD.decode(sig).unwrap();
                let n = raw.len();
                raw[n - 3] ^= 1;
                *cp = format!("{head}\n{prefix} {}\n", STANDARD.encode(raw)).into();
            }),
        ),
        (
            "integrated time",
            Box::new(|b| {
                let t = &mut b["verificationMaterial"]["tlogEntries"][0]["integratedTime"];
                let v: u64 = t.as_str().unwrap().parse().unwrap();
                *t = (v + 1).to_string().into();
            }),
        ),
        (
            "log index",
            Box::new(|b| {
                let t = &mut b["verificationMaterial"]["tlogEntries"][0]["logIndex"];
                let v: u64 = t.as_str().unwrap().parse().unwrap();
                *t = (v + 1).to_string().into();
            }),
        ),
        (
            "inclusion proof log index",
            Box::new(|b| {
                let t =
                    &mut b["verificationMaterial"]["tlogEntries"][0]["inclusionProof"]["logIndex"];
                let v: u64 = t.as_str().unwrap().parse().unwrap();
                *t = (v + 1).to_string().into();
            }),
        ),
        (
            "tlog body",
            Box::new(move |b| {
                flip_b64(
                    &mut b["verificationMaterial"]["tlogEntries"][0]["canonicalizedBody"],
                    40,
                )
            }),
        ),
        (
            "signed entry timestamp",
            Box::new(move |b| {
                flip_b64(
                    &mut b["verificationMaterial"]["tlogEntries"][0]["inclusionPromise"]["signedEntryTimestamp"],
                    30,
                )
            }),
        ),
        (
            "payload",
            Box::new(move |b| flip_b64(&mut b["dsseEnvelope"]["payload"], 50)),
        ),
        (
            "rfc3161 timestamp",
            Box::new(move |b| {
                flip_b64(
                    &mut b["verificationMaterial"]["timestampVerificationData"]["rfc3161Timestamps"]
                        [0]["signedTimestamp"],
                    200,
                )
            }),
        ),
    ];
    let tmp = tempfile::tempdir().unwrap();
    for (name, mutate) in mutations {
        let mut bundle = original.clone();
        mutate(&mut bundle);
        assert_ne!(bundle, original, "{name}: the mutation changed nothing");
        let path = tmp.path().join("mutated.sig");
        std::fs::write(&path, serde_json::to_vec(&bundle).unwrap()).unwrap();
        let (code, out, err) = verify_bundle(&path, &digest);
        assert!(code == 1 || code == 2, "{name}: accepted! {out}{err}");
        assert!(!err.contains("panicked"), "{name}: {err}");
        // The model verifier rejects it too.
        let dir = &sigstore_dirs()[3];
        let (code, out, err) = verify_keyless(dir, &path, IDENTITY, ISSUER, &[]);
        assert!(code == 1 || code == 2, "{name}: model accepted! {out}{err}");
    }
}

#[test]
fn verify_bundle_rejects_bad_digests_and_bundles() {
    let sig = sigstore_dirs()[3].join("model.sig");
    let (code, _, err) = verify_bundle(&sig, "sha256:abc");
    assert_eq!(code, 2);
    assert!(err.contains("64 hex digits"), "{err}");
    let tmp = tempfile::tempdir().unwrap();
    let junk = tmp.path().join("junk.sig");
    std::fs::write(&junk, "{\"mediaType\": 5}").unwrap();
    let (code, _, err) = verify_bundle(&junk, &format!("sha256:{}", "0".repeat(64)));
    assert_eq!(code, 2, "{err}");
    assert!(err.contains("malformed bundle"), "{err}");
}

#[test]
fn key_signed_bundles_without_a_log_entry_need_an_explicit_opt_in() {
    let (tmp, model) = tiny_model();
    let sig = tmp.path().join("model.sig");
    sign_demo(&model, &sig);
    let bundle: Value = serde_json::from_slice(&std::fs::read(&sig).unwrap()).unwrap();
    let digest = format!("sha256:{}", subject_digest(&bundle));
    let (_, public) = demo_key();
    let base = |extra: &[&str]| {
        run(modelseal()
            .arg("verify-bundle")
            .arg(&digest)
            .arg("--bundle")
            .arg(&sig)
            .arg("--key")
            .arg(&public)
            .args(extra))
    };
    let (code, out, _) = base(&[]);
    assert_eq!(code, 1);
    assert!(out.contains("no transparency log entry"), "{out}");
    let (code, out, err) = base(&["--insecure-ignore-tlog"]);
    assert_eq!(code, 0, "{out}{err}");
    assert!(err.contains("without a transparency log entry"), "{err}");
}

#[test]
fn keyless_signing_fails_clearly_before_and_at_the_network() {
    let (tmp, model) = tiny_model();
    let sig = tmp.path().join("k.sig");
    let sign = |extra: &[&str]| {
        let mut cmd = modelseal();
        cmd.env_remove("SIGSTORE_ID_TOKEN")
            .env_remove("GITHUB_ACTIONS")
            .env_remove("ACTIONS_ID_TOKEN_REQUEST_URL")
            .env_remove("ACTIONS_ID_TOKEN_REQUEST_TOKEN")
            .arg("sign")
            .arg(&model)
            .arg("--sigstore")
            .arg("--signature")
            .arg(&sig)
            .args(extra);
        run(&mut cmd)
    };
    let (code, _, err) = sign(&[]);
    assert_eq!(code, 2);
    assert!(err.contains("no OIDC identity token"), "{err}");
    let (code, _, err) = sign(&["--identity-token", "not-a-jwt"]);
    assert_eq!(code, 2);
    assert!(err.contains("not a usable JWT"), "{err}");
    // A well-formed (unsigned) token, and services on a closed local port.
    let b64 = |v: &Value| {
        base64::engine::general_purpose::URL_SAFE_NO_PAD.encode(serde_json::to_vec(v).unwrap())
    };
    let token = format!(
        "{}.{}.c2ln",
        b64(&serde_json::json!({"alg": "RS256", "typ": "JWT"})),
        b64(&serde_json::json!({
            "iss": "https://accounts.example.com", "sub": "release@example.com",
            "email": "release@example.com", "email_verified": true, "aud": "sigstore",
            "exp": 4102444800u64, "iat": 1700000000u64
        }))
    );
    let closed = std::net::TcpListener::bind("127.0.0.1:0").unwrap();
    let port = closed.local_addr().unwrap().port();
    drop(closed);
    let url = format!("http://127.0.0.1:{port}");
    let (code, _, err) = sign(&[
        "--identity-token",
        &token,
        "--fulcio-url",
        &url,
        "--rekor-url",
        &url,
    ]);
    assert_eq!(code, 2, "{err}");
    assert!(err.contains("fulcio") && err.contains(&url), "{err}");
    assert!(!sig.exists(), "no signature is written when signing fails");

    // GitHub Actions ambient credentials: the token comes from the runner's
    // token endpoint (served here), then Fulcio is unreachable as above.
    let body = serde_json::to_vec(&serde_json::json!({ "value": token })).unwrap();
    let base = serve(vec![("/token", body)], 2);
    let mut cmd = modelseal();
    cmd.env_remove("SIGSTORE_ID_TOKEN")
        .env("GITHUB_ACTIONS", "true")
        .env(
            "ACTIONS_ID_TOKEN_REQUEST_URL",
            format!("{base}/token?api-version=2.0"),
        )
        .env("ACTIONS_ID_TOKEN_REQUEST_TOKEN", "runner-secret")
        .arg("sign")
        .arg(&model)
        .arg("--sigstore")
        .arg("--signature")
        .arg(&sig)
        .args(["--fulcio-url", &url, "--rekor-url", &url]);
    let (code, _, err) = run(&mut cmd);
    assert_eq!(code, 2, "{err}");
    assert!(
        err.contains("fulcio") && !err.contains("no OIDC identity token"),
        "{err}"
    );
}

#[test]
fn every_bundle_media_type_spelling_is_read() {
    let sig = sigstore_dirs()[3].join("model.sig");
    let original: Value = serde_json::from_slice(&std::fs::read(&sig).unwrap()).unwrap();
    let digest = format!("sha256:{}", subject_digest(&original));
    let tmp = tempfile::tempdir().unwrap();
    for media in [
        "application/vnd.dev.sigstore.bundle.v0.3+json",
        "application/vnd.dev.sigstore.bundle+json;version=0.3",
        "application/vnd.dev.sigstore.bundle+json;version=0.2",
        "application/vnd.dev.sigstore.bundle+json;version=0.1",
    ] {
        let mut bundle = original.clone();
        bundle["mediaType"] = media.into();
        let path = tmp.path().join("b.sig");
        std::fs::write(&path, serde_json::to_vec(&bundle).unwrap()).unwrap();
        let (code, out, err) = verify_bundle(&path, &digest);
        assert_eq!(code, 0, "{media}: {out}{err}");
        let dir = &sigstore_dirs()[3];
        let (code, out, err) = verify_keyless(dir, &path, IDENTITY, ISSUER, &[]);
        assert_eq!(code, 0, "{media}: {out}{err}");
    }
}
