//! The command line: every command, both output formats, every exit code.

use crate::common::*;
use std::fs;
use std::os::unix::fs::PermissionsExt;

#[test]
fn keygen_writes_a_private_key_0600_and_refuses_to_overwrite() {
    let tmp = tempfile::tempdir().unwrap();
    let prefix = tmp.path().join("release");
    let (code, out, err) = run(modelseal()
        .args([
            "--format",
            "json",
            "keygen",
            "--algorithm",
            "ecdsa-p256",
            "--out",
        ])
        .arg(&prefix));
    assert_eq!(code, 0, "{err}");
    let v: serde_json::Value = serde_json::from_str(&out).unwrap();
    assert_eq!(v["algorithm"], "ecdsa-p256");
    assert!(v["fingerprint"].as_str().unwrap().starts_with("SHA256:"));
    assert_eq!(v["hint"].as_str().unwrap().len(), 64);
    let private = tmp.path().join("release.priv.pem");
    assert_eq!(
        fs::metadata(&private).unwrap().permissions().mode() & 0o777,
        0o600
    );
    let before = fs::read(&private).unwrap();
    assert!(!out.contains("PRIVATE KEY"), "secrets are never printed");

    let (code, out, err) = run(modelseal().args(["keygen", "--out"]).arg(&prefix));
    assert_eq!(code, 2);
    assert!(out.is_empty());
    assert!(
        err.contains("already exists") && err.contains("--force"),
        "{err}"
    );
    assert_eq!(fs::read(&private).unwrap(), before);

    let (code, out, _) = run(modelseal()
        .args(["keygen", "--force", "--out"])
        .arg(&prefix));
    assert_eq!(code, 0);
    assert!(out.contains("ed25519"), "{out}");
    assert_ne!(fs::read(&private).unwrap(), before);
}

#[test]
fn hash_prints_the_root_digest_and_the_manifest() {
    let model = fixture("tiny-model");
    let (code, human, _) = run(modelseal().arg("hash").arg(&model));
    assert_eq!(code, 0);
    let (digest, name) = human.trim().split_once("  ").unwrap();
    assert_eq!(digest.len(), 64);
    assert_eq!(name, "tiny-model");
    let (code, json, _) = run(modelseal().args(["--format", "json", "hash"]).arg(&model));
    assert_eq!(code, 0);
    let v: serde_json::Value = serde_json::from_str(&json).unwrap();
    assert_eq!(v["root_digest"]["sha256"], digest);
    let names: Vec<_> = v["resources"]
        .as_array()
        .unwrap()
        .iter()
        .map(|r| r["name"].as_str().unwrap())
        .collect();
    assert_eq!(
        names,
        [
            "README.md",
            "config.json",
            "model.safetensors",
            "tokenizer.json",
            "tokenizer/vocab.txt"
        ]
    );
    assert_eq!(v["serialization"]["method"], "files");
    assert_eq!(v["serialization"]["ignore_paths"][0], ".git");

    let (_, blake, _) = run(modelseal()
        .args(["--format", "json", "hash", "--hash", "blake3"])
        .arg(&model));
    let b: serde_json::Value = serde_json::from_str(&blake).unwrap();
    assert_eq!(b["resources"][0]["algorithm"], "blake3");
    assert_ne!(b["root_digest"], v["root_digest"]);
}

#[test]
fn hash_of_a_single_file_names_it_by_basename() {
    let (code, out, _) = run(modelseal()
        .args(["--format", "json", "hash"])
        .arg(fixture("tiny-model/model.safetensors")));
    assert_eq!(code, 0);
    let v: serde_json::Value = serde_json::from_str(&out).unwrap();
    assert_eq!(v["resources"][0]["name"], "model.safetensors");
    assert_eq!(v["resources"].as_array().unwrap().len(), 1);
}

#[test]
fn hash_honours_ignore_paths_relative_and_absolute() {
    let (_tmp, model) = tiny_model();
    let (_, all, _) = run(modelseal().arg("hash").arg(&model));
    let (_, rel, _) = run(modelseal()
        .arg("hash")
        .arg(&model)
        .args(["--ignore-path", "tokenizer"]));
    let (_, abs, _) = run(modelseal()
        .arg("hash")
        .arg(&model)
        .arg("--ignore-path")
        .arg(model.join("tokenizer")));
    assert_ne!(all, rel);
    assert_eq!(rel, abs);
    let (code, _, err) = run(modelseal()
        .arg("hash")
        .arg(&model)
        .args(["--ignore-path", "../x"]));
    assert_eq!(code, 2);
    assert!(err.contains("leaves the model root"), "{err}");
}

#[test]
fn hash_refuses_empty_models_and_symlinks_with_hints() {
    let tmp = tempfile::tempdir().unwrap();
    fs::create_dir(tmp.path().join("empty")).unwrap();
    fs::create_dir(tmp.path().join("empty/.git")).unwrap();
    fs::write(tmp.path().join("empty/.git/HEAD"), "x").unwrap();
    let (code, out, err) = run(modelseal().arg("hash").arg(tmp.path().join("empty")));
    assert_eq!(code, 2);
    assert!(out.is_empty());
    assert!(err.contains("no files to sign"), "{err}");

    let (_tmp2, model) = tiny_model();
    std::os::unix::fs::symlink("config.json", model.join("alias.json")).unwrap();
    let (code, _, err) = run(modelseal().arg("hash").arg(&model));
    assert_eq!(code, 2);
    assert!(
        err.contains("alias.json is a symbolic link") && err.contains("--allow-symlinks"),
        "{err}"
    );
    let (code, out, _) = run(modelseal()
        .args(["--format", "json", "hash", "--allow-symlinks"])
        .arg(&model));
    assert_eq!(code, 0);
    assert!(out.contains("alias.json"));
    std::os::unix::fs::symlink("/etc/hostname", model.join("escape")).unwrap();
    // OMS v1.0 section 6.1.1: with symlinks allowed, a target outside the
    // root is followed with a warning; a dangling link is an error.
    let (code, _, err) = run(modelseal().args(["hash", "--allow-symlinks"]).arg(&model));
    assert_eq!(code, 0, "{err}");
    assert!(
        err.contains("escape: symbolic link leads outside the model root"),
        "{err}"
    );
    std::os::unix::fs::symlink("nothing-here", model.join("dangling")).unwrap();
    let (code, _, err) = run(modelseal().args(["hash", "--allow-symlinks"]).arg(&model));
    assert_eq!(code, 2);
    assert!(
        err.contains("dangling: dangling or unresolvable symbolic link"),
        "{err}"
    );
}

#[test]
fn a_verifier_follows_a_link_out_of_the_root_only_when_it_opts_in() {
    let (tmp, model) = tiny_model();
    fs::write(tmp.path().join("outside.txt"), "outside\n").unwrap();
    std::os::unix::fs::symlink("../outside.txt", model.join("escape")).unwrap();
    let sig = tmp.path().join("m.sig");
    let (code, _, err) =
        run(demo_sign_args(&mut modelseal(), &model, &sig, None).arg("--allow-symlinks"));
    assert_eq!(code, 0, "{err}");
    // The bundle allows links, but that alone never reads outside the root.
    let (code, out, err) = verify_demo(&model, &sig, &[]);
    assert_eq!(code, 1, "{out}{err}");
    assert!(
        out.contains("escape: symbolic link points outside the model root"),
        "{out}"
    );
    let (code, out, err) = verify_demo(&model, &sig, &["--allow-symlinks"]);
    assert_eq!(code, 0, "{out}{err}");
    // Followed, the target's bytes are what is checked.
    fs::write(tmp.path().join("outside.txt"), "changed\n").unwrap();
    let (code, out, err) = verify_demo(&model, &sig, &["--allow-symlinks"]);
    assert_eq!(code, 1, "{out}{err}");
    assert!(out.contains("escape"), "{out}");
}

#[test]
fn sign_and_verify_round_trip_for_each_key_type_in_both_formats() {
    for alg in ["ed25519", "ecdsa-p256", "ecdsa-p384"] {
        let (tmp, model) = tiny_model();
        let prefix = tmp.path().join("k");
        assert_eq!(
            run(modelseal()
                .args(["keygen", "--algorithm", alg, "--out"])
                .arg(&prefix))
            .0,
            0
        );
        let sig = tmp.path().join("tiny.sig");
        let (code, out, err) = run(modelseal()
            .args(["--format", "json", "sign"])
            .arg(&model)
            .arg("--key")
            .arg(tmp.path().join("k.priv.pem"))
            .arg("--signature")
            .arg(&sig));
        assert_eq!(code, 0, "{err}");
        let signed: serde_json::Value = serde_json::from_str(&out).unwrap();
        assert_eq!(signed["resources"], 5);
        let pubkey = tmp.path().join("k.pub.pem");
        let (code, out, _) = run(modelseal()
            .arg("verify")
            .arg(&model)
            .arg("--signature")
            .arg(&sig)
            .arg("--key")
            .arg(&pubkey));
        assert_eq!(code, 0, "{alg}: {out}");
        assert!(out.starts_with("verified: "), "{out}");
        assert!(out.contains("5 checked"), "{out}");
        let (code, out, _) = run(modelseal()
            .args(["--format", "json", "verify"])
            .arg(&model)
            .arg("--signature")
            .arg(&sig)
            .arg("--key")
            .arg(&pubkey));
        assert_eq!(code, 0);
        let v: serde_json::Value = serde_json::from_str(&out).unwrap();
        assert_eq!(v["verdict"], "verified");
        assert_eq!(v["result"]["signature_verified"], true);
        assert_eq!(
            v["result"]["subject"]["digest"]["sha256"],
            signed["subject"]["digest"]["sha256"]
        );
        assert_eq!(v["result"]["failures"].as_array().unwrap().len(), 0);
    }
}

#[test]
fn failed_verification_in_json_names_every_difference() {
    let (tmp, model) = tiny_model();
    let sig = tmp.path().join("model.sig");
    sign_demo(&model, &sig);
    fs::write(model.join("config.json"), "{}").unwrap();
    fs::remove_file(model.join("README.md")).unwrap();
    fs::write(model.join("new.bin"), "x").unwrap();
    let (_, public) = demo_key();
    let (code, out, _) = run(modelseal()
        .args(["--format", "json", "verify"])
        .arg(&model)
        .arg("--signature")
        .arg(&sig)
        .arg("--key")
        .arg(public));
    assert_eq!(code, 1);
    let v: serde_json::Value = serde_json::from_str(&out).unwrap();
    assert_eq!(v["verdict"], "failed");
    let failures = v["result"]["failures"].as_array().unwrap();
    let kinds: Vec<(String, String)> = failures
        .iter()
        .map(|f| {
            (
                f["kind"].as_str().unwrap().into(),
                f["path"].as_str().unwrap().into(),
            )
        })
        .collect();
    assert_eq!(
        kinds,
        [
            ("missing".into(), "README.md".into()),
            ("changed".into(), "config.json".into()),
            ("extra".into(), "new.bin".into())
        ]
    );
}

#[test]
fn signing_twice_gives_the_same_statement_and_the_signature_inside_is_skipped() {
    let (tmp, model) = tiny_model();
    let first = model.join("model.sig");
    let second = tmp.path().join("again.sig");
    sign_demo(&model, &first);
    // The first signature now lies inside the model; signing elsewhere must
    // not pick it up as a file... unless excluded: it is a new file, so the
    // statements differ only if it were hashed. Exclude it explicitly.
    let (private, _) = demo_key();
    let (code, _, err) = run(modelseal()
        .arg("sign")
        .arg(&model)
        .arg("--key")
        .arg(&private)
        .arg("--signature")
        .arg(&second)
        .args(["--ignore-path", "model.sig"]));
    assert_eq!(code, 0, "{err}");
    let payload = |p: &std::path::Path| {
        let v: serde_json::Value = serde_json::from_slice(&fs::read(p).unwrap()).unwrap();
        v["dsseEnvelope"]["payload"].as_str().unwrap().to_string()
    };
    let statement = |p: &std::path::Path| {
        use base64::Engine;
        let bytes = base64::engine::general_purpose::STANDARD
            .decode(payload(p))
            .unwrap();
        let mut v: serde_json::Value = serde_json::from_slice(&bytes).unwrap();
        v["predicate"]["serialization"]["ignore_paths"] = serde_json::Value::Null;
        v
    };
    assert_eq!(statement(&first), statement(&second));
    // Re-signing to the same place is byte-identical (deterministic Ed25519).
    let before = fs::read(&first).unwrap();
    sign_demo(&model, &first);
    assert_eq!(fs::read(&first).unwrap(), before);
    // And the in-model signature verifies without naming it as ignored.
    assert_eq!(verify_demo(&model, &first, &[]).0, 0);
}

#[test]
fn verify_needs_a_trust_source() {
    let (code, _, err) = run(modelseal()
        .arg("verify")
        .arg(fixture("tiny-model"))
        .args(["--signature", "x.sig"]));
    assert_eq!(code, 2);
    assert!(
        err.contains("--key") || err.contains("--cert-chain"),
        "{err}"
    );
}

#[test]
fn bad_bundles_exit_2_with_one_line_reasons() {
    let (tmp, model) = tiny_model();
    let good = tmp.path().join("good.sig");
    sign_demo(&model, &good);
    let text = fs::read_to_string(&good).unwrap();
    let cases: Vec<(&str, Vec<u8>, &str)> = vec![
        ("empty", vec![], "empty"),
        (
            "garbage",
            b"\x00\xffnot json at all".to_vec(),
            "not a Sigstore bundle",
        ),
        (
            "truncated",
            text.as_bytes()[..text.len() / 2].to_vec(),
            "not a Sigstore bundle",
        ),
        (
            "media",
            text.replace(
                "application/vnd.dev.sigstore.bundle.v0.3+json",
                "application/json",
            )
            .into_bytes(),
            "unsupported mediaType",
        ),
        ("array", b"[1,2]".to_vec(), "not a Sigstore bundle"),
        (
            "deep",
            "[".repeat(100_000).into_bytes(),
            "not a Sigstore bundle",
        ),
    ];
    for (name, bytes, reason) in cases {
        let sig = tmp.path().join(format!("{name}.sig"));
        fs::write(&sig, bytes).unwrap();
        let (code, out, err) = verify_demo(&model, &sig, &[]);
        assert_eq!(code, 2, "{name}: {out}{err}");
        assert!(out.is_empty(), "{name}: results stay off stdout on errors");
        assert!(
            err.starts_with("error: malformed bundle") && err.contains(reason),
            "{name}: {err}"
        );
        assert!(!err.contains("panicked"), "{name}: {err}");
    }
}

#[test]
fn bad_keys_and_paths_exit_2() {
    let (tmp, model) = tiny_model();
    let sig = tmp.path().join("model.sig");
    sign_demo(&model, &sig);
    // A directory given as key.
    let (code, _, err) = run(modelseal()
        .arg("verify")
        .arg(&model)
        .arg("--signature")
        .arg(&sig)
        .arg("--key")
        .arg(tmp.path()));
    assert_eq!(code, 2);
    assert!(err.contains("is a directory"), "{err}");
    // A missing key file, a missing model, a missing signature.
    let (code, _, err) = run(modelseal()
        .arg("verify")
        .arg(&model)
        .arg("--signature")
        .arg(&sig)
        .args(["--key", "/nonexistent.pem"]));
    assert_eq!(code, 2);
    assert!(err.contains("/nonexistent.pem"), "{err}");
    let (code, _, err) = verify_demo(&tmp.path().join("gone"), &sig, &[]);
    assert_eq!(code, 2, "{err}");
    let (code, _, err) = verify_demo(&model, &tmp.path().join("none.sig"), &[]);
    assert_eq!(code, 2, "{err}");
    // A signature path that is a directory.
    let (code, _, err) = verify_demo(&model, tmp.path(), &[]);
    assert_eq!(code, 2);
    assert!(err.contains("directory"), "{err}");
    // An RSA public key.
    let rsa = interop().join("model-signing-1.1.1/keys/rsa2048.pub.pem");
    let (code, _, err) = run(modelseal()
        .arg("verify")
        .arg(&model)
        .arg("--signature")
        .arg(&sig)
        .arg("--key")
        .arg(rsa));
    assert_eq!(code, 2);
    assert!(err.contains("RSA keys are not supported"), "{err}");
    // A public key given to sign.
    let (_, public) = demo_key();
    let (code, _, err) = run(modelseal()
        .arg("sign")
        .arg(&model)
        .arg("--key")
        .arg(public)
        .arg("--signature")
        .arg(&sig));
    assert_eq!(code, 2);
    assert!(err.contains("needs the private key"), "{err}");
    for line in err.lines() {
        assert!(
            line.starts_with("error: ") || line.starts_with("hint: "),
            "{err}"
        );
    }
}

#[test]
fn certificate_mode_signs_and_verifies_against_an_anchor() {
    let (tmp, model) = tiny_model();
    let sig = tmp.path().join("cert.sig");
    let pki = |f: &str| fixture(&format!("pki/{f}"));
    let sign = |leaf: &str, sig: &std::path::Path| sign_with_test_pki(&model, sig, leaf);
    assert_eq!(sign("signer.pem", &sig).0, 0);
    let verify_at = |sig: &std::path::Path, anchor: &str, now: &str| {
        run(modelseal()
            .env(TEST_NOW, now)
            .arg("verify")
            .arg(&model)
            .arg("--signature")
            .arg(sig)
            .arg("--cert-chain")
            .arg(pki(anchor)))
    };
    let verify = |sig: &std::path::Path, anchor: &str| verify_at(sig, anchor, PKI_NOW);
    let (code, out, err) = verify(&sig, "root.pem");
    assert_eq!(code, 0, "{out}{err}");
    assert!(out.contains("CN=modelseal test release signer"), "{out}");
    // The result says which clock judged the certificate.
    assert!(
        out.contains(&format!("clock:   TEST CLOCK {PKI_NOW}")),
        "{out}"
    );
    // Validity is judged on the clock the command runs with: before the
    // PKI was made, and after it expires, the same signature fails.
    let (code, out, _) = verify_at(&sig, "root.pem", "2026-01-01T00:00:00Z");
    assert_eq!(code, 1, "{out}");
    assert!(out.contains("certificate"), "{out}");
    let (code, out, _) = verify_at(&sig, "root.pem", "2047-01-01T00:00:00Z");
    assert_eq!(code, 1, "{out}");
    assert!(out.contains("expired"), "{out}");

    let (code, out, _) = verify(&sig, "other-root.pem");
    assert_eq!(code, 1);
    assert!(out.contains("certificate:"), "{out}");

    let expired = tmp.path().join("expired.sig");
    assert_eq!(sign("signer-expired.pem", &expired).0, 0);
    let (code, out, _) = verify(&expired, "root.pem");
    assert_eq!(code, 1);
    assert!(
        out.contains("expired certificate:") && out.contains("expired on"),
        "{out}"
    );

    let tls = tmp.path().join("tls.sig");
    assert_eq!(sign("signer-tls.pem", &tls).0, 0);
    let (code, out, _) = verify(&tls, "root.pem");
    assert_eq!(code, 1);
    assert!(out.contains("not for code signing"), "{out}");

    // A key-mode bundle is not a certificate signature, and the reverse
    // check of a certificate bundle with the leaf's key still works.
    let keyed = tmp.path().join("keyed.sig");
    sign_demo(&model, &keyed);
    let (code, out, _) = verify(&keyed, "root.pem");
    assert_eq!(code, 1);
    assert!(out.contains("verify it with --key"), "{out}");

    // The certificate must certify the signing key.
    let (private, _) = demo_key();
    let (code, _, err) = run(modelseal()
        .arg("sign")
        .arg(&model)
        .arg("--key")
        .arg(private)
        .arg("--signing-cert")
        .arg(pki("signer.pem"))
        .arg("--signature")
        .arg(tmp.path().join("mismatch.sig")));
    assert_eq!(code, 2);
    assert!(err.contains("does not certify the signing key"), "{err}");
}

#[test]
fn quiet_silences_warnings_but_not_results() {
    // model_signing 0.2 signed a mis-encoded PAE: verified, with a warning.
    let dir = interop().join("model-transparency/v0.2.0-certificate");
    let anchor = interop().join("model-transparency/keys/certificate/ca-cert.pem");
    let verify = |quiet: bool| {
        let mut cmd = modelseal();
        // Inside the fixture certificates' validity.
        cmd.env(TEST_NOW, PKI_NOW);
        if quiet {
            cmd.arg("-q");
        }
        run(cmd
            .arg("verify")
            .arg(&dir)
            .arg("--signature")
            .arg(dir.join("model.sig"))
            .arg("--cert-chain")
            .arg(&anchor))
    };
    let (code, out, err) = verify(false);
    assert_eq!(code, 0, "{out}{err}");
    assert!(
        err.contains("warning: signed with the pre-1.0 model_signing DSSE encoding"),
        "{err}"
    );
    let (code, quiet_out, quiet_err) = verify(true);
    assert_eq!(code, 0);
    assert_eq!(quiet_out, out);
    assert!(quiet_err.is_empty(), "{quiet_err}");
}

#[test]
fn version_and_help_exit_0() {
    let (code, out, _) = run(modelseal().arg("--version"));
    assert_eq!(code, 0);
    assert!(out.contains(env!("CARGO_PKG_VERSION")));
    let (code, out, _) = run(modelseal().arg("--help"));
    assert_eq!(code, 0);
    assert!(out.contains("Exit codes"));
}

/// A model of `n` small files (hash --format json of it is far larger than
/// a pipe's buffer).
fn many_files(n: usize) -> tempfile::TempDir {
    let tmp = tempfile::tempdir().unwrap();
    let m = tmp.path().join("m");
    fs::create_dir(&m).unwrap();
    for i in 0..n {
        fs::write(m.join(format!("file-{i:05}.txt")), i.to_string()).unwrap();
    }
    tmp
}

#[test]
fn a_closed_stdout_pipe_is_exit_2_with_a_reason_never_a_panic() {
    let tmp = many_files(3000);
    let mut child = std::process::Command::new(assert_cmd::cargo::cargo_bin("modelseal"))
        .args(["--format", "json", "hash"])
        .arg(tmp.path().join("m"))
        .stdout(std::process::Stdio::piped())
        .stderr(std::process::Stdio::piped())
        .spawn()
        .unwrap();
    // The reader goes away before reading anything, as `| head -c0` would.
    drop(child.stdout.take());
    let out = child.wait_with_output().unwrap();
    let err = String::from_utf8_lossy(&out.stderr);
    assert_eq!(out.status.code(), Some(2), "{err}");
    assert!(!err.contains("panicked"), "{err}");
    assert!(
        err.contains("stdout was closed before all results were written"),
        "{err}"
    );
}

#[test]
fn a_full_disk_on_stdout_is_exit_2_even_when_the_model_verifies() {
    let (_tmp, model) = tiny_model();
    let sig = model.parent().unwrap().join("m.sig");
    sign_demo(&model, &sig);
    let full = fs::OpenOptions::new()
        .write(true)
        .open("/dev/full")
        .unwrap();
    let (_, public) = demo_key();
    let out = std::process::Command::new(assert_cmd::cargo::cargo_bin("modelseal"))
        .arg("verify")
        .arg(&model)
        .arg("--signature")
        .arg(&sig)
        .arg("--key")
        .arg(public)
        .stdout(full)
        .output()
        .unwrap();
    let err = String::from_utf8_lossy(&out.stderr);
    assert_eq!(out.status.code(), Some(2), "{err}");
    assert!(!err.contains("panicked"), "{err}");
    assert!(err.contains("cannot write results to stdout"), "{err}");
}

#[test]
fn a_stderr_that_cannot_be_written_never_changes_the_exit_code() {
    let (_tmp, model) = tiny_model();
    let full = || {
        fs::OpenOptions::new()
            .write(true)
            .open("/dev/full")
            .unwrap()
    };
    let (_, public) = demo_key();
    let bin = assert_cmd::cargo::cargo_bin("modelseal");
    // An error line that cannot be written: still exit 2, not a panic (101).
    let out = std::process::Command::new(&bin)
        .arg("verify")
        .arg(&model)
        .args(["--signature", "no-such.sig", "--key"])
        .arg(&public)
        .stderr(full())
        .output()
        .unwrap();
    assert_eq!(out.status.code(), Some(2));
    // A model that verifies, with warnings lost: still exit 0.
    let sig = model.parent().unwrap().join("m.sig");
    sign_demo(&model, &sig);
    let out = std::process::Command::new(&bin)
        .arg("verify")
        .arg(&model)
        .arg("--signature")
        .arg(&sig)
        .arg("--key")
        .arg(&public)
        .stderr(full())
        .output()
        .unwrap();
    assert_eq!(
        out.status.code(),
        Some(0),
        "{}",
        String::from_utf8_lossy(&out.stdout)
    );
}
