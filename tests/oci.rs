//! Models in an OCI registry: the Debian `docker-registry` (the CNCF
//! distribution registry) that `scripts/test.sh` starts on loopback, with
//! models pushed by an independent client (the `oras` Python package, in
//! tests/oci/registry_tool.py). A test fails when the registry is missing.
//! This registry has no referrers API: these tests exercise the
//! `sha256-<hex>` referrers tag; the API requests are unit-tested against
//! the distribution spec (crates/registry/src/oci/referrers.rs).

use crate::common::*;
use std::path::{Path, PathBuf};

/// The test registry (`HOST:PORT`).
pub(crate) fn registry() -> String {
    std::env::var("MODELSEAL_TEST_REGISTRY").expect(
        "MODELSEAL_TEST_REGISTRY is not set: run the tests with scripts/test.sh, which starts the registry",
    )
}

/// Runs the oras-based tool and returns its last output line.
pub(crate) fn tool(args: &[&str]) -> String {
    let out = external_tool("python3")
        .arg(root().join("tests/oci/registry_tool.py"))
        .args(args)
        .output()
        .expect("python3 runs");
    assert!(
        out.status.success(),
        "registry_tool {args:?}: {}{}",
        String::from_utf8_lossy(&out.stdout),
        String::from_utf8_lossy(&out.stderr)
    );
    String::from_utf8_lossy(&out.stdout)
        .lines()
        .last()
        .unwrap_or_default()
        .trim()
        .to_string()
}

fn push_raw(repo_tag: &str, dir: &Path) -> String {
    tool(&["push-raw", &registry(), repo_tag, dir.to_str().unwrap()])
}

fn oci(repo_tag: &str) -> String {
    format!("oci://{}/{repo_tag}", registry())
}

/// modelseal with `args` (plain HTTP: the test registry is on loopback).
fn ms(args: &[&std::ffi::OsStr]) -> (i32, String, String) {
    run(modelseal().args(args).arg("--plain-http"))
}

fn os(s: &str) -> &std::ffi::OsStr {
    s.as_ref()
}

/// A fresh ECDSA P-256 key pair (the Python reference verifies these).
fn keypair(dir: &Path, name: &str) -> (PathBuf, PathBuf) {
    let prefix = dir.join(name);
    let (code, _, err) = run(modelseal()
        .args(["keygen", "--algorithm", "ecdsa-p256", "--out"])
        .arg(&prefix));
    assert_eq!(code, 0, "{err}");
    (
        dir.join(format!("{name}.priv.pem")),
        dir.join(format!("{name}.pub.pem")),
    )
}

fn local_root(dir: &Path) -> String {
    let (code, out, err) = run(modelseal().arg("hash").arg(dir));
    assert_eq!(code, 0, "{err}");
    out.split_whitespace().next().unwrap().to_string()
}

/// The registry's access log from byte `from` on.
fn log_since(from: u64) -> String {
    let path = std::env::var("MODELSEAL_TEST_REGISTRY_LOG").expect("set by scripts/test.sh");
    let bytes = std::fs::read(path).unwrap();
    String::from_utf8_lossy(&bytes[from as usize..]).into_owned()
}

fn log_len() -> u64 {
    let path = std::env::var("MODELSEAL_TEST_REGISTRY_LOG").expect("set by scripts/test.sh");
    std::fs::metadata(path).unwrap().len()
}

#[test]
fn sign_in_place_then_verify_without_downloading_a_weight_blob() {
    let (tmp, model) = tiny_model();
    let digest = push_raw("inplace/tiny:v1", &model);
    let reference = oci("inplace/tiny:v1");
    let (private, public) = keypair(tmp.path(), "k");
    let (code, out, err) = ms(&[os("sign"), os(&reference), os("--key"), private.as_os_str()]);
    assert_eq!(code, 0, "{out}{err}");
    // The same root digest as signing the directory the files came from.
    assert!(out.contains(&local_root(&model)), "{out}");
    assert!(out.contains(&digest), "{out}");
    assert!(out.contains("referrers tag"), "{out}");
    assert!(!tmp.path().join("model.sig").exists());

    let mark = log_len();
    let (code, out, err) = ms(&[
        os("verify"),
        os(&reference),
        os("--key"),
        public.as_os_str(),
    ]);
    assert_eq!(code, 0, "{out}{err}");
    assert!(out.contains(&format!("inplace/tiny@{digest}")), "{out}");
    assert!(out.contains("digest only: model.safetensors"), "{out}");
    let log = log_since(mark);
    assert!(
        log.contains("GET /v2/inplace/tiny/manifests/"),
        "the access log shows no request of this verification: {log}"
    );
    for file in ["model.safetensors", "config.json", "tokenizer/vocab.txt"] {
        let blob = format!(
            "GET /v2/inplace/tiny/blobs/sha256:{}",
            file_sha256(&model.join(file))
        );
        assert!(!log.contains(&blob), "{file} was downloaded: {log}");
    }
    let (code, out, _) = ms(&[
        os("verify"),
        os(&reference),
        os("--key"),
        public.as_os_str(),
        os("--format"),
        os("json"),
    ]);
    assert_eq!(code, 0);
    let v: serde_json::Value = serde_json::from_str(&out).unwrap();
    assert_eq!(
        v["manifest"],
        format!("oci://{}/inplace/tiny@{digest}", registry())
    );
    let notes = v["result"]["source_notes"].as_array().unwrap();
    assert_eq!(notes.len(), 5, "{notes:?}");
    assert!(
        notes.iter().all(|n| n["kind"] == "digest-only"),
        "{notes:?}"
    );
}

#[test]
fn a_moved_tag_fails_naming_the_changed_file() {
    let (tmp, model) = tiny_model();
    let first = push_raw("moved/m:prod", &model);
    let (private, public) = keypair(tmp.path(), "k");
    let sig = tmp.path().join("m.sig");
    let reference = oci("moved/m:prod");
    let (code, out, err) = ms(&[
        os("sign"),
        os(&reference),
        os("--key"),
        private.as_os_str(),
        os("--signature"),
        sig.as_os_str(),
    ]);
    assert_eq!(code, 0, "{out}{err}");
    // One layer changes and the tag moves to the new manifest.
    let mut weights = std::fs::read(model.join("model.safetensors")).unwrap();
    let last = weights.len() - 1;
    weights[last] ^= 1;
    std::fs::write(model.join("model.safetensors"), &weights).unwrap();
    let second = push_raw("moved/m:prod", &model);
    assert_ne!(first, second);

    let with_file = ms(&[
        os("verify"),
        os(&reference),
        os("--key"),
        public.as_os_str(),
        os("--signature"),
        sig.as_os_str(),
    ]);
    assert_eq!(with_file.0, 1, "{with_file:?}");
    // The failure names the changed file and no other; a failed verdict
    // offers no digest to deploy.
    assert!(
        with_file.1.contains("changed: model.safetensors"),
        "{with_file:?}"
    );
    assert_eq!(with_file.1.matches("changed:").count(), 1, "{with_file:?}");
    assert!(!with_file.1.contains("deploy this digest"), "{with_file:?}");

    // Nothing is attached to the new manifest...
    let bare = ms(&[
        os("verify"),
        os(&reference),
        os("--key"),
        public.as_os_str(),
    ]);
    assert_eq!(bare.0, 1, "{bare:?}");
    assert!(
        bare.1.contains("no signature bundle is attached"),
        "{bare:?}"
    );
    // ...and a signature copied onto it names the changed file.
    assert_eq!(
        tool(&["copy-referrers", &registry(), "moved/m", &first, &second]),
        "1"
    );
    let copied = ms(&[
        os("verify"),
        os(&reference),
        os("--key"),
        public.as_os_str(),
    ]);
    assert_eq!(copied.0, 1, "{copied:?}");
    assert!(
        copied.1.contains("changed: model.safetensors"),
        "{copied:?}"
    );
    assert_eq!(copied.1.matches("changed:").count(), 1, "{copied:?}");
    assert!(copied.1.contains(&second), "{copied:?}");
    // The signed manifest, named by digest, still verifies.
    let pinned = format!("oci://{}/moved/m@{first}", registry());
    let ok = ms(&[os("verify"), os(&pinned), os("--key"), public.as_os_str()]);
    assert_eq!(ok.0, 0, "{ok:?}");
}

#[test]
fn a_referrer_signed_by_another_key_fails_and_one_by_the_trusted_key_passes() {
    let (tmp, model) = tiny_model();
    push_raw("keys/m:v1", &model);
    let reference = oci("keys/m:v1");
    let (a_private, a_public) = keypair(tmp.path(), "a");
    let (b_private, b_public) = keypair(tmp.path(), "b");
    let sign = |key: &Path| {
        let r = ms(&[os("sign"), os(&reference), os("--key"), key.as_os_str()]);
        assert_eq!(r.0, 0, "{r:?}");
    };
    sign(&a_private);
    let only_a = ms(&[
        os("verify"),
        os(&reference),
        os("--key"),
        b_public.as_os_str(),
    ]);
    assert_eq!(only_a.0, 1, "{only_a:?}");
    sign(&b_private);
    // Each key verifies; the search stops at the first bundle that does,
    // so whichever key signed the bundle listed second sees the other
    // listed as not verifying.
    let mut listed_other = 0;
    for public in [&b_public, &a_public] {
        let both = ms(&[
            os("verify"),
            os(&reference),
            os("--key"),
            public.as_os_str(),
        ]);
        assert_eq!(both.0, 0, "{both:?}");
        if both.1.contains("other signature:") {
            assert!(both.1.contains("does not verify"), "{both:?}");
            listed_other += 1;
        }
    }
    assert_eq!(listed_other, 1);
    let (_, c_public) = keypair(tmp.path(), "c");
    let none = ms(&[
        os("verify"),
        os(&reference),
        os("--key"),
        c_public.as_os_str(),
    ]);
    assert_eq!(none.0, 1, "{none:?}");
}

#[test]
fn the_pulled_directory_verifies_here_and_with_the_python_reference() {
    let (tmp, model) = tiny_model();
    push_raw("pull/m:v1", &model);
    let reference = oci("pull/m:v1");
    let (private, public) = keypair(tmp.path(), "k");
    let sig = tmp.path().join("m.sig");
    let r = ms(&[
        os("sign"),
        os(&reference),
        os("--key"),
        private.as_os_str(),
        os("--signature"),
        sig.as_os_str(),
    ]);
    assert_eq!(r.0, 0, "{r:?}");
    let dir = tmp.path().join("pulled");
    let r = ms(&[
        os("verify"),
        os(&reference),
        os("--key"),
        public.as_os_str(),
        os("--pull"),
        dir.as_os_str(),
    ]);
    assert_eq!(r.0, 0, "{r:?}");
    assert!(r.1.contains("pulled:"), "{r:?}");
    assert_eq!(local_root(&dir), local_root(&model));
    let here = run(modelseal()
        .arg("verify")
        .arg(&dir)
        .arg("--signature")
        .arg(&sig)
        .arg("--key")
        .arg(&public));
    assert_eq!(here.0, 0, "{here:?}");
    let python = external_tool("model_signing")
        .args(["verify", "key"])
        .arg(&dir)
        .arg("--signature")
        .arg(&sig)
        .arg("--public_key")
        .arg(&public)
        .output()
        .unwrap();
    assert!(
        python.status.success(),
        "{}{}",
        String::from_utf8_lossy(&python.stdout),
        String::from_utf8_lossy(&python.stderr)
    );
    // A pull never overwrites.
    let again = ms(&[
        os("verify"),
        os(&reference),
        os("--key"),
        public.as_os_str(),
        os("--pull"),
        dir.as_os_str(),
    ]);
    assert_eq!(again.0, 2, "{again:?}");
}

#[test]
fn tar_layers_are_streamed_and_sign_like_the_directory() {
    let (tmp, model) = tiny_model();
    let root = local_root(&model);
    let (private, public) = keypair(tmp.path(), "k");
    for (i, (style, compression)) in [("modelcar", "gzip"), ("modelpack", "plain")]
        .into_iter()
        .enumerate()
    {
        let tag = format!("tars/m:{style}");
        tool(&[
            "push-tar",
            &registry(),
            &tag,
            model.to_str().unwrap(),
            style,
            compression,
        ]);
        let reference = oci(&tag);
        let (code, out, err) = ms(&[os("hash"), os(&reference)]);
        assert_eq!(code, 0, "{err}");
        assert!(out.starts_with(&root), "{style}: {out}");
        let r = ms(&[os("sign"), os(&reference), os("--key"), private.as_os_str()]);
        assert_eq!(r.0, 0, "{r:?}");
        let r = ms(&[
            os("verify"),
            os(&reference),
            os("--key"),
            public.as_os_str(),
        ]);
        assert_eq!(r.0, 0, "{r:?}");
        assert!(r.1.contains("read:        model.safetensors"), "{r:?}");
        // What runs in a ModelCar image (its entrypoint, its other files)
        // is not covered, and the verdict says so; a ModelPack layer is
        // all model.
        let uncovered =
            r.1.contains("NOTE:    not covered by the signature: this is a container image");
        assert_eq!(uncovered, style == "modelcar", "{style}: {r:?}");
        let json = ms(&[
            os("--format"),
            os("json"),
            os("verify"),
            os(&reference),
            os("--key"),
            public.as_os_str(),
        ]);
        let v: serde_json::Value = serde_json::from_str(&json.1).unwrap();
        let kinds: Vec<&str> = v["result"]["source_notes"]
            .as_array()
            .map(|a| a.iter().filter_map(|n| n["kind"].as_str()).collect())
            .unwrap_or_default();
        assert_eq!(
            kinds.contains(&"not-covered"),
            style == "modelcar",
            "{style}: {v}"
        );
        // A policy refuses a container image unless it allows them.
        let refused = if style == "modelcar" { 1 } else { 0 };
        for (allow, code) in [(false, refused), (true, 0)] {
            let policy = tmp.path().join(format!("policy-{style}-{allow}.toml"));
            std::fs::write(
                &policy,
                format!(
                    "[signers]\nkeys = [{:?}]\n[require]\nbom = false\nallow_container_images = {allow}\n",
                    public.to_str().unwrap()
                ),
            )
            .unwrap();
            let r = ms(&[
                os("verify"),
                os(&reference),
                os("--policy"),
                policy.as_os_str(),
            ]);
            assert_eq!(r.0, code, "{style}, allow {allow}: {r:?}");
            if code == 1 {
                assert!(r.1.contains("does not allow container images"), "{r:?}");
            }
        }
        let dir = tmp.path().join(format!("pulled{i}"));
        let r = ms(&[
            os("verify"),
            os(&reference),
            os("--key"),
            public.as_os_str(),
            os("--pull"),
            dir.as_os_str(),
        ]);
        assert_eq!(r.0, 0, "{r:?}");
        assert_eq!(local_root(&dir), root);
        // Only the model: the base image's files stay out.
        assert!(!dir.join("bin").exists());
    }
}

#[test]
fn unsafe_tar_layers_are_refused() {
    for (kind, expect) in [
        ("absolute", "absolute path"),
        ("dotdot", "`..` leaves the model root"),
        ("duplicate", "two files of this name"),
        ("hardlink", "is a hard link"),
        ("device", "is a device"),
        ("whiteout", "is a whiteout"),
    ] {
        let tag = format!("evil/m:{kind}");
        tool(&["push-evil-tar", &registry(), &tag, kind]);
        let (code, out, err) = ms(&[os("hash"), os(&oci(&tag))]);
        assert_eq!(code, 2, "{kind}: {out}{err}");
        assert!(err.contains(expect), "{kind}: {err}");
    }
}

#[test]
fn records_and_the_bom_name_the_manifest() {
    let (tmp, model) = tiny_model();
    let digest = push_raw("records/m:v1", &model);
    let reference = oci("records/m:v1");
    let (private, _) = keypair(tmp.path(), "k");
    let (evidence_key, _) = demo_key();
    let log = tmp.path().join("evidence.jsonl");
    let bom = tmp.path().join("m.cdx.json");
    let r = ms(&[
        os("sign"),
        os(&reference),
        os("--key"),
        private.as_os_str(),
        os("--bom"),
        bom.as_os_str(),
        os("--evidence"),
        log.as_os_str(),
        os("--evidence-key"),
        evidence_key.as_os_str(),
    ]);
    assert_eq!(r.0, 0, "{r:?}");
    assert!(r.1.contains("attached:  bom"), "{r:?}");
    // The record is a DSSE envelope: its statement names the reference, the
    // manifest digest and (as its subject) the root digest.
    let envelope: serde_json::Value =
        serde_json::from_str(std::fs::read_to_string(&log).unwrap().trim()).unwrap();
    use base64::Engine;
    let statement: serde_json::Value = serde_json::from_slice(
        &base64::engine::general_purpose::STANDARD
            .decode(envelope["payload"].as_str().unwrap())
            .unwrap(),
    )
    .unwrap();
    let location = &statement["predicate"]["location"];
    assert_eq!(location["manifest_digest"], digest, "{statement}");
    assert_eq!(location["reference"], reference, "{statement}");
    assert_eq!(
        statement["subject"][0]["digest"]["sha256"],
        local_root(&model),
        "{statement}"
    );
    let bom_text = std::fs::read_to_string(&bom).unwrap();
    assert!(
        bom_text.contains("modelseal:oci:manifest-digest"),
        "{bom_text}"
    );
    assert!(bom_text.contains(&digest), "{bom_text}");
    assert!(bom_text.contains(&local_root(&model)), "{bom_text}");
}

#[test]
fn references_are_strict_and_plain_http_is_for_loopback_only() {
    let (code, _, err) =
        run(modelseal().args(["hash", "oci://registry.example/m:v1", "--plain-http"]));
    assert_eq!(code, 2);
    assert!(err.contains("loopback"), "{err}");
    let (code, _, err) = run(modelseal().args(["hash", "oci://registry.example/Model:v1"]));
    assert_eq!(code, 2);
    assert!(err.contains("not an OCI reference"), "{err}");
    let (code, _, err) = run(modelseal().args(["hash", "oci://registry.example/m"]));
    assert_eq!(code, 2);
    assert!(err.contains("name a tag"), "{err}");
}

/// A policy that judges formats has the judged blobs streamed (hashed and
/// sniffed in one read) instead of trusting layer digests alone: a clean
/// model passes with every file read, and a pickle pushed as a raw layer
/// is caught from its bytes.
#[test]
fn a_policy_that_judges_formats_reads_the_blobs() {
    let (tmp, model) = tiny_model();
    let (private, public) = keypair(tmp.path(), "k");
    let policy = tmp.path().join("policy.toml");
    std::fs::write(
        &policy,
        format!(
            "[signers]\nkeys = [{:?}]\n[require]\nbom = false\n",
            public.to_str().unwrap()
        ),
    )
    .unwrap();
    let verify = |reference: &str| {
        ms(&[
            os("verify"),
            os(reference),
            os("--policy"),
            policy.as_os_str(),
        ])
    };

    push_raw("judged/m:clean", &model);
    let clean = oci("judged/m:clean");
    let r = ms(&[os("sign"), os(&clean), os("--key"), private.as_os_str()]);
    assert_eq!(r.0, 0, "{r:?}");
    let mark = log_len();
    let r = verify(&clean);
    assert_eq!(r.0, 0, "{r:?}");
    assert!(r.1.contains("read:        model.safetensors"), "{r:?}");
    assert!(!r.1.contains("digest only:"), "{r:?}");
    let blob = format!(
        "GET /v2/judged/m/blobs/sha256:{}",
        file_sha256(&model.join("model.safetensors"))
    );
    assert!(log_since(mark).contains(&blob), "the weights were not read");

    // A pickle (protocol 4, the integer 1) under a neutral name.
    std::fs::write(model.join("extra.bin"), b"\x80\x04K\x01.").unwrap();
    push_raw("judged/m:pickle", &model);
    let pickle = oci("judged/m:pickle");
    let r = ms(&[os("sign"), os(&pickle), os("--key"), private.as_os_str()]);
    assert_eq!(r.0, 0, "{r:?}");
    let r = verify(&pickle);
    assert_eq!(r.0, 1, "{r:?}");
    assert!(r.1.contains("extra.bin"), "{r:?}");
    assert!(r.1.contains("policy (formats)"), "{r:?}");
}

/// `examples/admission.rs`, built by `cargo test`, run against the test
/// registry: each of its four answers from the library's typed results.
#[test]
fn the_admission_example_admits_denies_retries_and_sees_tampering() {
    let (tmp, model) = tiny_model();
    let digest = push_raw("admission/tiny:v1", &model);
    let pinned = format!("oci://{}/admission/tiny@{digest}", registry());
    let (private, public) = keypair(tmp.path(), "release");
    let (code, out, err) = ms(&[os("sign"), os(&pinned), os("--key"), private.as_os_str()]);
    assert_eq!(code, 0, "{out}{err}");
    let (_, stranger) = keypair(tmp.path(), "stranger");
    let (code, _, err) = run(modelseal()
        .args(["keygen", "--out"])
        .arg(tmp.path().join("evidence")));
    assert_eq!(code, 0, "{err}");
    let fingerprint = modelseal::keys::load_public_key(&public)
        .unwrap()
        .fingerprint();
    let policy = tmp.path().join("policy.toml");
    std::fs::write(
        &policy,
        format!("[signers]\nfingerprints = [\"{fingerprint}\"]\n[require]\nbom = false\n"),
    )
    .unwrap();
    let log = tmp.path().join("evidence.jsonl");
    // The example is built next to this test binary (target/*/examples).
    let example = std::env::current_exe()
        .unwrap()
        .parent()
        .and_then(Path::parent)
        .unwrap()
        .join("examples/admission");
    let admission = |model: &str, key: &Path| {
        let out = std::process::Command::new(&example)
            .arg(model)
            .arg(key)
            .arg(&policy)
            .arg(&log)
            .arg(tmp.path().join("evidence.priv.pem"))
            .output()
            .expect("the admission example was built by cargo test");
        let line = String::from_utf8_lossy(&out.stdout).trim().to_string();
        (out.status.code().unwrap_or(-1), line)
    };

    let (code, line) = admission(&pinned, &public);
    assert_eq!(code, 0, "{line}");
    assert!(
        line.starts_with("admit: deployment recorded as sha256:"),
        "{line}"
    );
    let records = std::fs::read_to_string(&log).unwrap();
    assert_eq!(records.lines().count(), 2, "{records}");
    let (code, out, err) = run(modelseal()
        .args(["evidence", "verify", "--evidence"])
        .arg(&log)
        .arg("--evidence-key")
        .arg(tmp.path().join("evidence.pub.pem")));
    assert_eq!(code, 0, "{out}{err}");

    let (code, line) = admission(&pinned, &stranger);
    assert_eq!(code, 1, "{line}");
    assert!(line.starts_with("deny: ") && line.len() > 10, "{line}");

    // A registry that is not there: try again later.
    let port = std::net::TcpListener::bind("127.0.0.1:0")
        .unwrap()
        .local_addr()
        .unwrap()
        .port();
    let gone = format!("oci://127.0.0.1:{port}/admission/tiny@{digest}");
    let (code, line) = admission(&gone, &public);
    assert_eq!(code, 75, "{line}");
    assert!(line.starts_with("retry: "), "{line}");

    // Someone without the evidence key deletes the deployment record.
    let records = std::fs::read_to_string(&log).unwrap();
    let lines: Vec<&str> = records.lines().collect();
    assert_eq!(lines.len(), 3, "{records}");
    std::fs::write(&log, format!("{}\n{}\n", lines[0], lines[2])).unwrap();
    let (code, line) = admission(&pinned, &public);
    assert_eq!(code, 3, "{line}");
    assert!(line.starts_with("tampered: "), "{line}");
}

/// A tiny HTTP server on loopback that answers each request with what
/// `answer(own address, path)` says and keeps every request's head.
fn recording_server(
    answer: impl Fn(&str, &str) -> String + Send + 'static,
) -> (String, std::sync::Arc<std::sync::Mutex<Vec<String>>>) {
    use std::io::{BufRead, BufReader, Write};
    let listener = std::net::TcpListener::bind("127.0.0.1:0").unwrap();
    let base = format!("127.0.0.1:{}", listener.local_addr().unwrap().port());
    let seen = std::sync::Arc::new(std::sync::Mutex::new(Vec::new()));
    let (log, own) = (seen.clone(), base.clone());
    std::thread::spawn(move || {
        for stream in listener.incoming().take(20) {
            let Ok(mut stream) = stream else { continue };
            let mut reader = BufReader::new(stream.try_clone().unwrap());
            let mut head = String::new();
            loop {
                let mut line = String::new();
                if reader.read_line(&mut line).unwrap_or(0) == 0 || line == "\r\n" {
                    break;
                }
                head.push_str(&line);
            }
            let path = head.split_whitespace().nth(1).unwrap_or("/").to_string();
            log.lock().unwrap().push(head);
            let _ = stream.write_all(answer(&own, &path).as_bytes());
        }
    });
    (base, seen)
}

/// A registry that redirects to another host, which then asks for
/// credentials at a token endpoint of its own: the password does not
/// follow the redirect, and no token is asked for.
#[test]
fn credentials_do_not_follow_a_redirect_to_another_host() {
    let (other, seen_other) = recording_server(|own, path| {
        if path.starts_with("/token") {
            "HTTP/1.1 200 OK\r\nContent-Length: 13\r\nConnection: close\r\n\r\n{\"token\":\"t\"}"
                .to_string()
        } else {
            format!(
                "HTTP/1.1 401 Unauthorized\r\nWww-Authenticate: Bearer realm=\"http://{own}/token\"\r\nContent-Length: 0\r\nConnection: close\r\n\r\n"
            )
        }
    });
    let (registry, _) = recording_server(move |_, path| {
        format!(
            "HTTP/1.1 307 Temporary Redirect\r\nLocation: http://{other}{path}\r\nContent-Length: 0\r\nConnection: close\r\n\r\n"
        )
    });
    let reference =
        modelseal::registry::oci::Reference::parse(&format!("oci://{registry}/team/model:v1"))
            .unwrap();
    let mut options = modelseal::registry::oci::RegistryOptions::new(
        modelseal::registry::oci::Credentials::Basic {
            username: "alice".into(),
            password: "s3cret".into(),
        },
    );
    options.plain_http = true;
    let err = modelseal::registry::OciSource::open(&reference, &options).unwrap_err();
    assert!(err.to_string().contains("redirected to"), "{err}");
    assert_eq!(err.class(), modelseal::ErrorClass::Reject);
    let heads = seen_other.lock().unwrap().join("\n");
    assert!(
        heads.contains("/v2/team/model/manifests/v1"),
        "the redirect was not followed: {heads}"
    );
    assert!(
        !heads.to_ascii_lowercase().contains("authorization"),
        "{heads}"
    );
    assert!(!heads.contains("/token"), "{heads}");
}

/// Manifests read by modelseal and by Go's `encoding/json` (what
/// containerd, CRI-O, podman, skopeo and oras decode with): whatever
/// modelseal accepts, Go reads with the same layers; what Go would read
/// differently, modelseal refuses.
#[test]
fn manifests_read_the_same_here_and_in_go_or_are_refused() {
    let tmp = tempfile::tempdir().unwrap();
    let helper = tmp.path().join("go_oci_json");
    let out = external_tool("go")
        .args(["build", "-o"])
        .arg(&helper)
        .arg(root().join("tests/differential/go_oci_json/main.go"))
        .env("GO111MODULE", "off")
        .output()
        .expect("go runs");
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    let good = format!("sha256:{}", "a".repeat(64));
    let evil = format!("sha256:{}", "e".repeat(64));
    let config = format!(
        r#""config":{{"mediaType":"application/vnd.oci.image.config.v1+json","digest":"sha256:{}","size":2}}"#,
        "c".repeat(64)
    );
    let layer = |fields: &str| {
        format!(
            r#"{{"schemaVersion":2,"mediaType":"application/vnd.oci.image.manifest.v1+json",{config},"layers":[{{"mediaType":"application/vnd.oci.image.layer.v1.tar","size":10,{fields}}}]}}"#
        )
    };
    let cases = [
        ("plain", layer(&format!(r#""digest":"{good}""#)), true),
        (
            "Digest after digest",
            layer(&format!(r#""digest":"{good}","Digest":"{evil}""#)),
            false,
        ),
        (
            "DIGEST after digest",
            layer(&format!(r#""digest":"{good}","DIGEST":"{evil}""#)),
            false,
        ),
        (
            "long s",
            layer(&format!(r#""digest":"{good}","digeſt":"{evil}""#)),
            false,
        ),
        (
            "Digest alone",
            layer(&format!(r#""Digest":"{evil}""#)),
            false,
        ),
        (
            "repeated digest",
            layer(&format!(r#""digest":"{good}","digest":"{evil}""#)),
            false,
        ),
        (
            "Layers beside layers",
            format!(
                r#"{{"schemaVersion":2,{config},"layers":[{{"mediaType":"application/vnd.oci.image.layer.v1.tar","size":10,"digest":"{good}"}}],"Layers":[{{"mediaType":"application/vnd.oci.image.layer.v1.tar","size":10,"digest":"{evil}"}}]}}"#
            ),
            false,
        ),
        (
            "annotation keys differing in case",
            layer(&format!(
                r#""digest":"{good}","annotations":{{"org.opencontainers.image.title":"a","ORG.opencontainers.image.title":"b"}}"#
            )),
            true,
        ),
    ];
    for (what, text, accepted) in cases {
        let file = tmp.path().join("manifest.json");
        std::fs::write(&file, &text).unwrap();
        let ours = modelseal::registry::oci::manifest::parse_model_manifest(
            text.as_bytes(),
            None,
            &format!("sha256:{}", "f".repeat(64)),
        );
        let go = std::process::Command::new(&helper)
            .arg(&file)
            .output()
            .unwrap();
        let go_out = String::from_utf8_lossy(&go.stdout).to_string();
        assert_eq!(ours.is_ok(), accepted, "{what}: {ours:?}");
        if let Ok(layout) = ours {
            assert!(
                go.status.success(),
                "{what}: Go refused what modelseal read: {go_out}"
            );
            let go_layers: Vec<&str> = go_out
                .lines()
                .filter_map(|l| l.strip_prefix("layer "))
                .filter_map(|l| l.split_whitespace().next())
                .collect();
            let our_layers: Vec<&str> = layout
                .layers
                .iter()
                .map(|l| l.descriptor.digest.as_str())
                .collect();
            assert_eq!(our_layers, go_layers, "{what}");
        } else if go.status.success() {
            // Refused here; Go would have read a layer: never GOOD alone
            // where the attacker meant EVIL.
            assert!(
                go_out.contains(&evil) || what == "repeated digest",
                "{what}: {go_out}"
            );
        }
    }
}

/// `verify --pull` writes the files that were verified and nothing else:
/// a `.git/config` (whose `core.fsmonitor` would run a command at the next
/// `git status` in the directory) and other unsigned files in the layers
/// are read for the layers' digests but not written.
#[test]
fn a_pull_writes_only_the_verified_files() {
    let (tmp, model) = tiny_model();
    let listing = |dir: &Path| {
        let mut files: Vec<String> = Vec::new();
        let mut stack = vec![dir.to_path_buf()];
        while let Some(d) = stack.pop() {
            for e in std::fs::read_dir(&d).unwrap() {
                let p = e.unwrap().path();
                if p.is_dir() {
                    stack.push(p);
                } else {
                    files.push(p.strip_prefix(dir).unwrap().display().to_string());
                }
            }
        }
        files.sort();
        files
    };
    let model_files = listing(&model);
    std::fs::create_dir_all(model.join(".git")).unwrap();
    std::fs::write(
        model.join(".git/config"),
        "[core]\n\tfsmonitor = touch /tmp/pwned\n",
    )
    .unwrap();
    std::fs::write(model.join(".gitattributes"), "* text\n").unwrap();
    // A ModelCar image: the git files are in the layer under /models.
    tool(&[
        "push-tar",
        &registry(),
        "pullonly/m:v1",
        model.to_str().unwrap(),
        "modelcar",
        "gzip",
    ]);
    let reference = oci("pullonly/m:v1");
    let (private, public) = keypair(tmp.path(), "k");
    let r = ms(&[os("sign"), os(&reference), os("--key"), private.as_os_str()]);
    assert_eq!(r.0, 0, "{r:?}");
    let dir = tmp.path().join("pulled");
    let r = ms(&[
        os("verify"),
        os(&reference),
        os("--key"),
        public.as_os_str(),
        os("--pull"),
        dir.as_os_str(),
    ]);
    assert_eq!(r.0, 0, "{r:?}");
    assert!(
        r.1.contains(&format!("({} files,", model_files.len())),
        "{r:?}"
    );
    assert!(!dir.join(".git").exists());
    assert!(!dir.join(".gitattributes").exists());
    assert_eq!(listing(&dir), model_files);
}

/// Issue case 2 against the real parts: a manifest whose layer
/// descriptor names GOOD under "digest" and EVIL under "Digest" is
/// accepted by the distribution registry, and `skopeo copy` (Go
/// containers/image, what runtimes pull with) fetches EVIL: modelseal
/// refuses the manifest rather than verify GOOD. The plain manifest is
/// read alike: skopeo fetches the very blob modelseal checked.
#[test]
fn skopeo_fetches_what_modelseal_verified_or_modelseal_refuses() {
    let tmp = tempfile::tempdir().unwrap();
    let good = tmp.path().join("good");
    let evil = tmp.path().join("evil");
    std::fs::write(&good, b"the signed weights").unwrap();
    std::fs::write(&evil, b"\x80\x04cos\nsystem\n(S'id'\ntR.").unwrap();
    let hex = |p: &Path| file_sha256(p);
    for (style, ours_ok) in [("plain", true), ("Digest", false)] {
        let tag = format!("keys/m:{style}");
        tool(&[
            "push-case-keys",
            &registry(),
            &tag,
            good.to_str().unwrap(),
            evil.to_str().unwrap(),
            style,
        ]);
        let layout = tmp.path().join(format!("layout-{style}"));
        let copy = external_tool("skopeo")
            .args(["copy", "-q", "--src-tls-verify=false"])
            .arg(format!("docker://{}/{tag}", registry()))
            .arg(format!("oci:{}:v", layout.display()))
            .output()
            .unwrap();
        assert!(
            copy.status.success(),
            "{style}: {}",
            String::from_utf8_lossy(&copy.stderr)
        );
        let fetched = |p: &Path| layout.join("blobs/sha256").join(hex(p)).exists();
        let (code, out, err) = ms(&[os("--format"), os("json"), os("hash"), os(&oci(&tag))]);
        if ours_ok {
            assert_eq!(code, 0, "{err}");
            let v: serde_json::Value = serde_json::from_str(&out).unwrap();
            assert_eq!(v["resources"][0]["digest"], hex(&good), "{v}");
            assert!(fetched(&good) && !fetched(&evil), "{style}");
        } else {
            assert_eq!(code, 2, "{out}");
            assert!(
                err.contains(r#"member "Digest" is read as "digest" by Go"#),
                "{err}"
            );
            // What a runtime would have pulled in place of the checked blob.
            assert!(fetched(&evil) && !fetched(&good), "{style}");
        }
    }
}

/// Issue case 7, the policy alternative: a ModelCar's model signature
/// covers /models only, so a policy may require the rest of the image
/// (config, entrypoint, base layers) signed by an image signer: a Sigstore
/// bundle over the manifest digest, attached by `sign-image`. The image
/// passes only once so signed; the same layers under a swapped entrypoint,
/// with every referrer copied over, fail; so does a signature by a key the
/// policy does not name for images.
#[test]
fn a_policy_can_require_the_rest_of_a_modelcar_image_signed() {
    let (tmp, model) = tiny_model();
    let (model_key, model_pub) = keypair(tmp.path(), "model");
    let (image_key, image_pub) = keypair(tmp.path(), "image");
    let tag = "car/m:v1";
    let digest = tool(&[
        "push-tar",
        &registry(),
        tag,
        model.to_str().unwrap(),
        "modelcar",
        "gzip",
    ]);
    let r = ms(&[
        os("sign"),
        os(&oci(tag)),
        os("--key"),
        model_key.as_os_str(),
    ]);
    assert_eq!(r.0, 0, "{r:?}");
    let policy = tmp.path().join("policy.toml");
    std::fs::write(
        &policy,
        format!(
            "[signers]\nkeys = [{:?}]\n[require]\nbom = false\nallow_container_images = true\n\
             [container_images]\nrequire_signature = true\nkeys = [{:?}]\nallow_missing_tlog = true\n",
            model_pub.to_str().unwrap(),
            image_pub.to_str().unwrap()
        ),
    )
    .unwrap();
    let verify = |reference: &str| {
        ms(&[
            os("verify"),
            os(reference),
            os("--policy"),
            policy.as_os_str(),
        ])
    };
    let unsigned = "requires a signature over the image manifest";
    let r = verify(&oci(tag));
    assert_eq!(r.0, 1, "{r:?}");
    assert!(r.1.contains(unsigned), "{r:?}");
    // Signed by the model key: not an image signer.
    let r = ms(&[
        os("sign-image"),
        os(&oci(tag)),
        os("--key"),
        model_key.as_os_str(),
    ]);
    assert_eq!(r.0, 0, "{r:?}");
    assert_eq!(verify(&oci(tag)).0, 1);
    let r = ms(&[
        os("sign-image"),
        os(&oci(tag)),
        os("--key"),
        image_key.as_os_str(),
    ]);
    assert_eq!(r.0, 0, "{r:?}");
    assert!(r.1.contains(&digest), "{r:?}");
    let r = verify(&oci(tag));
    assert_eq!(r.0, 0, "{r:?}");
    assert!(
        r.1.contains(&format!("image:   the image manifest {digest}")),
        "{r:?}"
    );
    let json = ms(&[
        os("--format"),
        os("json"),
        os("verify"),
        os(&oci(tag)),
        os("--policy"),
        policy.as_os_str(),
    ]);
    let v: serde_json::Value = serde_json::from_str(&json.1).unwrap();
    let signed: Vec<&serde_json::Value> = v["result"]["source_notes"]
        .as_array()
        .unwrap()
        .iter()
        .filter(|n| n["kind"] == "image-signed")
        .collect();
    assert_eq!(signed.len(), 1, "{v}");
    assert_eq!(signed[0]["manifest"], digest.as_str(), "{v}");
    // The attacker swaps the entrypoint and copies every signature over:
    // the model still verifies, the image no longer does.
    let swapped = tool(&["reconfigure", &registry(), tag, "v2", "/bin/evil"]);
    assert_ne!(swapped, digest);
    tool(&["copy-referrers", &registry(), "car/m", &digest, &swapped]);
    let r = verify(&oci("car/m:v2"));
    assert_eq!(r.0, 1, "{r:?}");
    assert!(r.1.contains(unsigned), "{r:?}");
    // Only the image rule fails: every model file still verifies.
    let reasons: Vec<&str> =
        r.1.lines()
            .filter(|l| l.starts_with("  policy (") || l.contains("changed:"))
            .collect();
    assert_eq!(reasons.len(), 1, "{r:?}");
    assert!(
        reasons[0].starts_with("  policy (container-images)"),
        "{r:?}"
    );
}
