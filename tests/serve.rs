//! `modelseal serve` against the real test registry (Debian's
//! docker-registry), with models pushed by an independent client and signed
//! in place, TLS certificates made by `openssl` at test time, requests sent
//! by `curl`, AdmissionReviews built around the objects under
//! tests/admission/ (made by kubectl and the Kubernetes and KServe Python
//! SDKs), and every response read by the Kubernetes API types in Go
//! (`go_k8s_strict`), unknown fields denied.

use crate::common::*;
use serde_json::{Value, json};
use std::io::{BufRead, BufReader, Read, Write};
use std::path::{Path, PathBuf};
use std::process::{Child, Stdio};
use std::time::Duration;

fn registry() -> String {
    std::env::var("MODELSEAL_TEST_REGISTRY").expect(
        "MODELSEAL_TEST_REGISTRY is not set: run the tests with scripts/test.sh, which starts the registry",
    )
}

fn registry_log_since(from: u64) -> String {
    let path = std::env::var("MODELSEAL_TEST_REGISTRY_LOG").expect("set by scripts/test.sh");
    let bytes = std::fs::read(path).unwrap();
    String::from_utf8_lossy(&bytes[from as usize..]).into_owned()
}

fn registry_log_len() -> u64 {
    let path = std::env::var("MODELSEAL_TEST_REGISTRY_LOG").expect("set by scripts/test.sh");
    std::fs::metadata(path).unwrap().len()
}

fn push_raw(repo_tag: &str, dir: &Path) -> String {
    let out = external_tool("python3")
        .arg(root().join("tests/oci/registry_tool.py"))
        .args(["push-raw", &registry(), repo_tag])
        .arg(dir)
        .output()
        .expect("python3 runs");
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    String::from_utf8_lossy(&out.stdout)
        .lines()
        .last()
        .unwrap()
        .trim()
        .to_string()
}

fn openssl(dir: &Path, args: &[&str]) {
    let out = external_tool("openssl")
        .current_dir(dir)
        .args(args)
        .output()
        .expect("openssl runs");
    assert!(
        out.status.success(),
        "openssl {args:?}: {}",
        String::from_utf8_lossy(&out.stderr)
    );
}

/// A CA, a server certificate for 127.0.0.1 and a client certificate, made
/// now (never committed with a fixed validity).
fn certificates(dir: &Path) {
    let ec = [
        "-newkey",
        "ec",
        "-pkeyopt",
        "ec_paramgen_curve:P-256",
        "-nodes",
    ];
    let mut ca = vec!["req", "-x509"];
    ca.extend(ec);
    ca.extend([
        "-keyout",
        "ca.key",
        "-out",
        "ca.crt",
        "-days",
        "2",
        "-subj",
        "/CN=modelseal test CA",
        "-addext",
        "basicConstraints=critical,CA:TRUE",
        "-addext",
        "keyUsage=critical,keyCertSign",
    ]);
    openssl(dir, &ca);
    for (name, ext) in [
        (
            "server",
            "subjectAltName=IP:127.0.0.1\nextendedKeyUsage=serverAuth\n",
        ),
        ("client", "extendedKeyUsage=clientAuth\n"),
    ] {
        std::fs::write(dir.join(format!("{name}.ext")), ext).unwrap();
        let mut req = vec!["req"];
        req.extend(ec);
        let (key, csr, crt, subj, extfile) = (
            format!("{name}.key"),
            format!("{name}.csr"),
            format!("{name}.crt"),
            format!("/CN={name}"),
            format!("{name}.ext"),
        );
        req.extend(["-keyout", &key, "-out", &csr, "-subj", &subj]);
        openssl(dir, &req);
        openssl(
            dir,
            &[
                "x509",
                "-req",
                "-in",
                &csr,
                "-CA",
                "ca.crt",
                "-CAkey",
                "ca.key",
                "-CAcreateserial",
                "-out",
                &crt,
                "-days",
                "2",
                "-extfile",
                &extfile,
            ],
        );
    }
    // A client certificate from a CA the server does not trust.
    let mut other = vec!["req", "-x509"];
    other.extend(ec);
    other.extend([
        "-keyout",
        "other.key",
        "-out",
        "other.crt",
        "-days",
        "2",
        "-subj",
        "/CN=stranger",
        "-addext",
        "extendedKeyUsage=clientAuth",
    ]);
    openssl(dir, &other);
}

/// A running `modelseal serve`, stopped (SIGTERM) when dropped.
struct Server {
    child: Child,
    addr: String,
    dir: PathBuf,
    stderr: std::sync::Arc<std::sync::Mutex<String>>,
}

impl Server {
    fn start(dir: &Path, extra: &[&std::ffi::OsStr]) -> Server {
        let mut child = std::process::Command::new(assert_cmd::cargo::cargo_bin("modelseal"))
            .env(TEST_NOW, test_now().to_string())
            .arg("serve")
            .arg("--listen")
            .arg("127.0.0.1:0")
            .arg("--tls-cert")
            .arg(dir.join("server.crt"))
            .arg("--tls-key")
            .arg(dir.join("server.key"))
            .arg("--client-ca")
            .arg(dir.join("ca.crt"))
            .arg("--plain-http")
            .args(extra)
            .stdout(Stdio::null())
            .stderr(Stdio::piped())
            .spawn()
            .expect("modelseal serve starts");
        let mut lines = BufReader::new(child.stderr.take().unwrap());
        let mut seen = String::new();
        let addr = loop {
            let mut line = String::new();
            if lines.read_line(&mut line).unwrap_or(0) == 0 {
                panic!("modelseal serve ended: {seen}");
            }
            seen.push_str(&line);
            if let Some(a) = line.trim().strip_prefix("serving on https://") {
                break a.to_string();
            }
        };
        let stderr = std::sync::Arc::new(std::sync::Mutex::new(seen));
        let keep = stderr.clone();
        std::thread::spawn(move || {
            let mut rest = String::new();
            let _ = lines.read_to_string(&mut rest);
            keep.lock().unwrap().push_str(&rest);
        });
        Server {
            child,
            addr,
            dir: dir.to_path_buf(),
            stderr,
        }
    }

    /// POSTs `body` to `path` with curl (the client certificate when
    /// `client` is given); returns the status and the body.
    fn post(&self, path: &str, body: &[u8], client: Option<&str>) -> (u16, String) {
        let file = tempfile::NamedTempFile::new_in(&self.dir).unwrap();
        std::fs::write(file.path(), body).unwrap();
        let mut curl = external_tool("curl");
        curl.args([
            "-sS",
            "--max-time",
            "30",
            "-H",
            "Content-Type: application/json",
            "-w",
            "\n%{http_code}",
            "--cacert",
        ])
        .arg(self.dir.join("ca.crt"))
        .arg("--data-binary")
        .arg(format!("@{}", file.path().display()));
        if let Some(name) = client {
            curl.arg("--cert").arg(self.dir.join(format!("{name}.crt")));
            curl.arg("--key").arg(self.dir.join(format!("{name}.key")));
        }
        let out = curl
            .arg(format!("https://{}{path}", self.addr))
            .output()
            .expect("curl runs");
        let text = String::from_utf8_lossy(&out.stdout).into_owned();
        let (body, code) = text.rsplit_once('\n').unwrap_or(("", "0"));
        (code.trim().parse().unwrap_or(0), body.to_string())
    }

    fn get(&self, path: &str) -> (u16, String) {
        let out = external_tool("curl")
            .args([
                "-sS",
                "--max-time",
                "10",
                "-w",
                "\n%{http_code}",
                "--cacert",
            ])
            .arg(self.dir.join("ca.crt"))
            .arg(format!("https://{}{path}", self.addr))
            .output()
            .expect("curl runs");
        let text = String::from_utf8_lossy(&out.stdout).into_owned();
        let (body, code) = text.rsplit_once('\n').unwrap_or(("", "0"));
        (code.trim().parse().unwrap_or(0), body.to_string())
    }

    fn metric(&self, name: &str) -> f64 {
        let (_, text) = self.get("/metrics");
        text.lines()
            .find_map(|l| l.strip_prefix(name).and_then(|v| v.strip_prefix(' ')))
            .unwrap_or_else(|| panic!("{name} not in {text}"))
            .trim()
            .parse()
            .unwrap()
    }

    /// Stops the server with SIGTERM; returns its exit code and stderr.
    fn stop(mut self) -> (Option<i32>, String) {
        let _ = std::process::Command::new("kill")
            .args(["-TERM", &self.child.id().to_string()])
            .status();
        let status = self.child.wait().unwrap();
        std::thread::sleep(Duration::from_millis(100));
        let err = self.stderr.lock().unwrap().clone();
        (status.code(), err)
    }
}

impl Drop for Server {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

/// A committed object with `@MODEL@` replaced.
fn object(name: &str, model: &str) -> Value {
    let text = std::fs::read_to_string(root().join("tests/admission").join(name)).unwrap();
    serde_json::from_str(&text.replace("@MODEL@", model)).unwrap()
}

/// An AdmissionReview for `object`, as the API server sends it.
fn review(uid: &str, object: &Value, dry_run: bool) -> Vec<u8> {
    let api = object["apiVersion"].as_str().unwrap();
    let (group, version) = api.rsplit_once('/').unwrap_or(("", api));
    let kind = object["kind"].as_str().unwrap();
    let resource = if kind == "Pod" {
        "pods"
    } else {
        "inferenceservices"
    };
    serde_json::to_vec(&json!({
        "apiVersion": "admission.k8s.io/v1",
        "kind": "AdmissionReview",
        "request": {
            "uid": uid,
            "kind": {"group": group, "version": version, "kind": kind},
            "resource": {"group": group, "version": version, "resource": resource},
            "requestKind": {"group": group, "version": version, "kind": kind},
            "requestResource": {"group": group, "version": version, "resource": resource},
            "name": object["metadata"]["name"].as_str().unwrap_or(""),
            "namespace": object["metadata"]["namespace"],
            "operation": "CREATE",
            "userInfo": {"username": "system:serviceaccount:ci:deployer", "groups": ["system:authenticated"]},
            "object": object,
            "oldObject": null,
            "dryRun": dry_run,
            "options": {"apiVersion": "meta.k8s.io/v1", "kind": "CreateOptions"}
        }
    }))
    .unwrap()
}

/// An UPDATE review: `old` becomes `new`.
fn review_update(uid: &str, old: &Value, new: &Value) -> Vec<u8> {
    let mut r: Value = serde_json::from_slice(&review(uid, new, false)).unwrap();
    r["request"]["operation"] = json!("UPDATE");
    r["request"]["oldObject"] = old.clone();
    r["request"]["options"] = json!({"apiVersion": "meta.k8s.io/v1", "kind": "UpdateOptions"});
    serde_json::to_vec(&r).unwrap()
}

/// The response as the Kubernetes API types read it (strictly).
fn strict(body: &str) -> Value {
    let mut child = external_tool("go_k8s_strict")
        .arg("admission-response")
        .stdin(Stdio::piped())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .expect("go_k8s_strict runs (scripts/install-test-deps.sh builds it)");
    child
        .stdin
        .take()
        .unwrap()
        .write_all(body.as_bytes())
        .unwrap();
    let out = child.wait_with_output().unwrap();
    assert!(
        out.status.success(),
        "not a valid admission.k8s.io/v1 response: {}\n{body}",
        String::from_utf8_lossy(&out.stderr)
    );
    serde_json::from_slice(&out.stdout).unwrap()
}

fn admit(server: &Server, path: &str, uid: &str, object: &Value, dry_run: bool) -> Value {
    let (code, body) = server.post(path, &review(uid, object, dry_run), None);
    assert_eq!(code, 200, "{body}");
    let r = strict(&body);
    assert_eq!(r["uid"], uid, "{r}");
    r
}

/// A denial whose one-line message names `why`.
fn assert_denied(r: &Value, why: &str) {
    assert_eq!(r["allowed"], false, "{r}");
    let message = r["message"].as_str().unwrap_or_default();
    assert!(message.contains(why), "{why:?} not in {r}");
}

fn lines(path: &Path) -> Vec<Value> {
    std::fs::read_to_string(path)
        .unwrap_or_default()
        .lines()
        .map(|l| {
            let v: Value = serde_json::from_str(l).unwrap();
            let payload = v["dsseEnvelope"]["payload"]
                .as_str()
                .or(v["payload"].as_str())
                .map(String::from);
            match payload {
                Some(p) => {
                    use base64::Engine;
                    serde_json::from_slice(
                        &base64::engine::general_purpose::STANDARD.decode(p).unwrap(),
                    )
                    .unwrap()
                }
                None => v,
            }
        })
        .collect()
}

struct Setup {
    tmp: tempfile::TempDir,
    signed: String,
    unsigned: String,
    tampered: String,
    root: String,
    policy: PathBuf,
    log: PathBuf,
    evidence_pub: PathBuf,
    down: String,
}

/// Two models in the registry (one signed in place), a policy that trusts
/// the signer and lists the registry (and one that is down), certificates
/// and an evidence key.
fn setup(repo: &str) -> Setup {
    let (tmp, model) = tiny_model();
    let digest = push_raw(&format!("{repo}/tiny:v1"), &model);
    let signed = format!("{}/{repo}/tiny@{digest}", registry());
    let dir = tmp.path();
    let (code, _, err) = run(modelseal()
        .args(["keygen", "--algorithm", "ecdsa-p256", "--out"])
        .arg(dir.join("release")));
    assert_eq!(code, 0, "{err}");
    let (code, out, err) = run(modelseal()
        .args(["sign", &format!("oci://{signed}"), "--plain-http", "--key"])
        .arg(dir.join("release.priv.pem"))
        .arg("--bom")
        .arg(dir.join("tiny.cdx.json")));
    assert_eq!(code, 0, "{out}{err}");
    std::fs::write(model.join("extra.json"), "{}").unwrap();
    let unsigned_digest = push_raw(&format!("{repo}/unsigned:v1"), &model);
    std::fs::remove_file(model.join("extra.json")).unwrap();
    let unsigned = format!("{}/{repo}/unsigned@{unsigned_digest}", registry());
    // Tampered: the same repository, one file changed, and the signed
    // model's referrers (its signature and BOM) copied onto it.
    let original = std::fs::read(model.join("model.safetensors")).unwrap();
    let mut changed = original.clone();
    *changed.last_mut().unwrap() ^= 1;
    std::fs::write(model.join("model.safetensors"), &changed).unwrap();
    let tampered_digest = push_raw(&format!("{repo}/tiny:v2"), &model);
    std::fs::write(model.join("model.safetensors"), &original).unwrap();
    let copied = external_tool("python3")
        .arg(root().join("tests/oci/registry_tool.py"))
        .args([
            "copy-referrers",
            &registry(),
            &format!("{repo}/tiny"),
            &digest,
            &tampered_digest,
        ])
        .output()
        .unwrap();
    assert!(
        copied.status.success(),
        "{}",
        String::from_utf8_lossy(&copied.stderr)
    );
    let tampered = format!("{}/{repo}/tiny@{tampered_digest}", registry());
    let (code, out, err) = run(modelseal().arg("hash").arg(&model));
    assert_eq!(code, 0, "{err}");
    let root = out.split_whitespace().next().unwrap().to_string();
    let (code, _, err) = run(modelseal()
        .args(["keygen", "--out"])
        .arg(dir.join("evidence")));
    assert_eq!(code, 0, "{err}");
    let fingerprint = modelseal::keys::load_public_key(&dir.join("release.pub.pem"))
        .unwrap()
        .fingerprint();
    let down = format!(
        "127.0.0.1:{}",
        std::net::TcpListener::bind("127.0.0.1:0")
            .unwrap()
            .local_addr()
            .unwrap()
            .port()
    );
    let policy = dir.join("policy.toml");
    std::fs::write(
        &policy,
        format!(
            "[signers]\nkeys = [\"release.pub.pem\"]\nfingerprints = [\"{fingerprint}\"]\n[require]\nbom = true\n[admission]\nregistries = [\"{}\", \"{down}\"]\n",
            registry()
        ),
    )
    .unwrap();
    certificates(dir);
    Setup {
        signed,
        unsigned,
        tampered,
        root,
        policy,
        log: dir.join("evidence.jsonl"),
        evidence_pub: dir.join("evidence.pub.pem"),
        down,
        tmp,
    }
}

impl Setup {
    fn server(&self, extra: &[&str]) -> Server {
        let mut args: Vec<std::ffi::OsString> = vec![
            "--policy".into(),
            self.policy.clone().into(),
            "--evidence".into(),
            self.log.clone().into(),
            "--evidence-key".into(),
            self.tmp.path().join("evidence.priv.pem").into(),
        ];
        args.extend(extra.iter().map(Into::into));
        let args: Vec<&std::ffi::OsStr> = args.iter().map(|a| a.as_os_str()).collect();
        Server::start(self.tmp.path(), &args)
    }
}

/// The digest of the log's line `n` (as records cite each other).
fn sha256_line(log: &Path, n: usize) -> String {
    use sha2::Digest;
    let text = std::fs::read_to_string(log).unwrap();
    hex::encode(sha2::Sha256::digest(
        text.lines().nth(n).unwrap().as_bytes(),
    ))
}

fn predicate_types(log: &Path) -> Vec<String> {
    lines(log)
        .iter()
        .map(|r| {
            r["predicateType"]
                .as_str()
                .unwrap_or("?")
                .rsplit('/')
                .nth(1)
                .unwrap_or("?")
                .to_string()
        })
        .collect()
}

#[test]
fn the_webhook_admits_signed_models_denies_the_rest_and_records_each_decision() {
    let s = setup("serve");
    let server = s.server(&[]);

    // Signed, by digest, in an image volume: admitted, recorded durably.
    let pod = object("pod-image-volume.json", &s.signed);
    let r = admit(&server, "/validate", "uid-signed", &pod, false);
    assert_eq!(r["allowed"], true, "{r}");
    assert_eq!(
        predicate_types(&s.log),
        ["verification_summary", "deployment"]
    );
    let records = lines(&s.log);
    let deployment = &records[1]["predicate"];
    assert_eq!(deployment["admission"]["uid"], "uid-signed", "{deployment}");
    assert_eq!(deployment["admission"]["kind"], "Pod");
    assert_eq!(deployment["admission"]["namespace"], "ml");
    assert_eq!(deployment["admission"]["name"], "model-server");
    assert_eq!(
        deployment["admission"]["field"],
        "spec.volumes[0].image.reference"
    );
    assert_eq!(
        records[1]["subject"][0]["digest"]["sha256"],
        s.root.as_str()
    );

    // The same request retried: the same answer, nothing recorded again.
    let again = admit(&server, "/validate", "uid-signed", &pod, false);
    assert_eq!(again["allowed"], true);
    assert_eq!(lines(&s.log).len(), 2);
    // Another request for the same model: the cached verdict, and a
    // deployment record of its own relying on the same verification.
    let named = object("pod-generate-name.json", &s.signed);
    assert_eq!(
        admit(&server, "/validate", "uid-generated", &named, false)["allowed"],
        true
    );
    let records = lines(&s.log);
    assert_eq!(records.len(), 3);
    assert_eq!(
        records[2]["predicate"]["admission"]["name"],
        "model-server-"
    );
    assert_eq!(
        records[2]["predicate"]["verification"],
        records[1]["predicate"]["verification"]
    );
    assert!(server.metric("modelseal_cache_hits_total") >= 1.0);
    // A dry run is judged and writes nothing.
    assert_eq!(
        admit(&server, "/validate", "uid-dry", &named, true)["allowed"],
        true
    );
    assert_eq!(lines(&s.log).len(), 3);

    // Unsigned: denied, the failed verification and a refusal recorded.
    let r = admit(
        &server,
        "/validate",
        "uid-unsigned",
        &object("pod-image-volume.json", &s.unsigned),
        false,
    );
    assert_eq!(r["allowed"], false, "{r}");
    assert_eq!(r["code"], 403, "{r}");
    let message = r["message"].as_str().unwrap();
    assert!(
        message.contains("spec.volumes[0].image.reference")
            && message.contains("no signature bundle is attached"),
        "{message}"
    );
    assert_eq!(predicate_types(&s.log)[3..], ["refusal"]);
    let refusal = &lines(&s.log)[3]["predicate"];
    assert_eq!(refusal["admission"]["uid"], "uid-unsigned", "{refusal}");

    // Tampered (a signature copied onto a changed model): denied, naming
    // the changed file as verify does.
    let r = admit(
        &server,
        "/validate",
        "uid-tampered",
        &object("pod-image-volume.json", &s.tampered),
        false,
    );
    assert_denied(&r, "changed: model.safetensors");
    assert_eq!(
        predicate_types(&s.log)[4..],
        ["verification_summary", "refusal"]
    );
    let records = lines(&s.log);
    assert_eq!(records[4]["predicate"]["verificationResult"], "FAILED");
    assert_eq!(
        records[5]["predicate"]["verification"],
        format!("sha256:{}", sha256_line(&s.log, 4))
    );

    // A tag is denied; the mutating webhook pins it to the verified digest,
    // and the pinned object is admitted.
    let tagged = object(
        "pod-image-volume.json",
        &format!("{}/serve/tiny:v1", registry()),
    );
    let r = admit(&server, "/validate", "uid-tag", &tagged, false);
    assert_eq!(r["allowed"], false, "{r}");
    assert!(
        r["message"].as_str().unwrap().contains("names a tag"),
        "{r}"
    );
    let m = admit(&server, "/mutate", "uid-tag-m", &tagged, false);
    assert_eq!(m["allowed"], true);
    assert_eq!(m["patchType"], "JSONPatch", "{m}");
    assert_eq!(
        m["patch"],
        json!([{"op": "replace", "path": "/spec/volumes/0/image/reference", "value": s.signed}]),
        "{m}"
    );
    let mut pinned = tagged.clone();
    pinned["spec"]["volumes"][0]["image"]["reference"] = json!(s.signed);
    assert_eq!(
        admit(&server, "/validate", "uid-pinned", &pinned, false)["allowed"],
        true
    );
    // An unsigned tag is left as it is (validation denies it).
    let unsigned_tag = object(
        "pod-image-volume.json",
        &format!("{}/serve/unsigned:v1", registry()),
    );
    assert!(
        admit(&server, "/mutate", "uid-unsigned-m", &unsigned_tag, false)
            .get("patch")
            .is_none_or(Value::is_null)
    );

    // KServe: the model field and the framework field, by digest.
    for (name, uid) in [
        ("isvc-model.json", "uid-isvc"),
        ("isvc-sklearn.json", "uid-sklearn"),
    ] {
        let r = admit(&server, "/validate", uid, &object(name, &s.signed), false);
        assert_eq!(r["allowed"], true, "{name}: {r}");
    }
    // Locations the webhook cannot verify are denied (the default policy).
    for (name, why) in [
        ("isvc-s3.json", "s3://"),
        ("isvc-storage-block.json", "storage block"),
    ] {
        let r = admit(&server, "/validate", name, &object(name, &s.signed), false);
        assert_eq!(r["allowed"], false, "{name}: {r}");
        assert!(r["message"].as_str().unwrap().contains(why), "{name}: {r}");
    }
    // A model carrier container (a ModelCar) is a model like any other.
    let r = admit(
        &server,
        "/validate",
        "uid-carrier",
        &object("pod-model-carrier.json", &s.unsigned),
        false,
    );
    assert_denied(&r, "spec.containers[1].image");
    // A Pod without a model is none of the webhook's business.
    assert_eq!(
        admit(
            &server,
            "/validate",
            "uid-plain",
            &object("pod-plain.json", ""),
            false
        )["allowed"],
        true
    );
    // An update that drops the model-carrier annotation and swaps the
    // image is judged as the carrier it was.
    let carrier = object("pod-model-carrier.json", &s.signed);
    let mut swapped = carrier.clone();
    swapped["metadata"]["annotations"] = json!({});
    swapped["spec"]["containers"][1]["image"] = json!(s.unsigned);
    let (code, body) = server.post(
        "/validate",
        &review_update("uid-swap", &carrier, &swapped),
        None,
    );
    assert_eq!(code, 200, "{body}");
    let r = strict(&body);
    assert_eq!(r["allowed"], false, "{r}");
    // An update that changes no model (a finalizer removed) re-judges
    // nothing and records nothing, even with the model's registry gone.
    let mut finalized = object(
        "pod-image-volume.json",
        &format!(
            "{}/serve/tiny@{}",
            s.down,
            s.signed.rsplit_once('@').unwrap().1
        ),
    );
    finalized["metadata"]["finalizers"] = json!(["example.com/hold"]);
    let mut released = finalized.clone();
    released["metadata"]["finalizers"] = json!([]);
    let mark = lines(&s.log).len();
    let (code, body) = server.post(
        "/validate",
        &review_update("uid-final", &finalized, &released),
        None,
    );
    assert_eq!(code, 200, "{body}");
    assert_eq!(strict(&body)["allowed"], true, "{body}");
    assert_eq!(lines(&s.log).len(), mark);
    // KServe's source-URI annotation loads a model: it is judged.
    let mut annotated = object("isvc-model.json", &s.signed);
    annotated["metadata"]["annotations"] = json!({
        "internal.serving.kserve.io/storage-initializer-sourceuri": format!("oci://{}", s.unsigned)
    });
    let r = admit(&server, "/validate", "uid-annotated", &annotated, false);
    assert_denied(&r, "storage-initializer-sourceuri");
    // A uid answered before, with another body, is judged afresh.
    let r = admit(
        &server,
        "/validate",
        "uid-signed",
        &object("pod-image-volume.json", &s.unsigned),
        false,
    );
    assert_eq!(r["allowed"], false, "{r}");
    // A registry the policy does not list is not contacted.
    let elsewhere = object(
        "pod-image-volume.json",
        &format!("registry.example/m@sha256:{}", "a".repeat(64)),
    );
    let r = admit(&server, "/validate", "uid-elsewhere", &elsewhere, false);
    assert!(
        r["message"]
            .as_str()
            .unwrap()
            .contains("not one the policy"),
        "{r}"
    );

    // The registry is down: denied in time, with the reason, and recorded.
    let mark = lines(&s.log).len();
    let down = object(
        "pod-image-volume.json",
        &format!(
            "{}/serve/tiny@{}",
            s.down,
            s.signed.rsplit_once('@').unwrap().1
        ),
    );
    let r = admit(&server, "/validate", "uid-down", &down, false);
    assert_eq!(r["allowed"], false, "{r}");
    assert_eq!(r["code"], 503, "{r}");
    assert_eq!(predicate_types(&s.log)[mark..], ["refusal"]);
    assert!(server.metric("modelseal_registry_errors_total") >= 1.0);

    // The log verifies, and control 7 passes from the server's own records.
    let (code, out, err) = run(modelseal()
        .args(["evidence", "verify", "--evidence"])
        .arg(&s.log)
        .arg("--evidence-key")
        .arg(&s.evidence_pub));
    assert_eq!(code, 0, "{out}{err}");
    let (code, out, err) = run(modelseal()
        .args(["--format", "json", "audit", "--evidence"])
        .arg(&s.log)
        .arg("--evidence-key")
        .arg(&s.evidence_pub)
        .args(["--model", &format!("sha256:{}", s.root)]));
    assert!(code == 0 || code == 1, "{err}");
    let report: Value = serde_json::from_str(&out).unwrap();
    let c7 = report["controls"]
        .as_array()
        .unwrap()
        .iter()
        .find(|c| c["id"] == 7)
        .unwrap();
    assert_eq!(c7["status"], "pass", "{c7}");

    // The store fails: the admission is denied, and the metric says why.
    let mut f = std::fs::OpenOptions::new()
        .append(true)
        .open(&s.log)
        .unwrap();
    f.write_all(b"{\"not\":\"a record\"}\n").unwrap();
    drop(f);
    let r = admit(&server, "/validate", "uid-store-down", &named, false);
    assert_eq!(r["allowed"], false, "{r}");
    assert!(
        r["message"].as_str().unwrap().contains("evidence store"),
        "{r}"
    );
    assert!(server.metric("modelseal_store_errors_total") >= 1.0);

    let (code, err) = server.stop();
    assert_eq!(code, Some(0), "{err}");
    assert!(err.contains("stopped"), "{err}");
}

#[test]
fn one_new_digest_asked_fifty_times_at_once_is_verified_once() {
    let s = setup("flight");
    let server = std::sync::Arc::new(s.server(&[]));
    let pod = object("pod-image-volume.json", &s.signed);
    let digest = s.signed.rsplit_once('@').unwrap().1.to_string();
    let mark = registry_log_len();
    let threads: Vec<_> = (0..50)
        .map(|i| {
            let (server, pod) = (server.clone(), pod.clone());
            std::thread::spawn(move || {
                server.post("/validate", &review(&format!("uid-{i}"), &pod, false), None)
            })
        })
        .collect();
    for t in threads {
        let (code, body) = t.join().unwrap();
        assert_eq!(code, 200, "{body}");
        assert!(body.contains("\"allowed\":true"), "{body}");
    }
    assert_eq!(server.metric("modelseal_verifications_total"), 1.0);
    let log = registry_log_since(mark);
    let manifest_gets = log
        .matches(&format!("GET /v2/flight/tiny/manifests/{digest}"))
        .count();
    assert_eq!(manifest_gets, 1, "{log}");
    // One verification record, fifty deployments.
    let types = predicate_types(&s.log);
    assert_eq!(
        types
            .iter()
            .filter(|t| *t == "verification_summary")
            .count(),
        1
    );
    assert_eq!(types.iter().filter(|t| *t == "deployment").count(), 50);
}

#[test]
fn hostile_requests_get_a_one_line_4xx_and_the_verify_api_needs_a_client_certificate() {
    let s = setup("hostile");
    let server = s.server(&[]);
    let one_line = |(code, body): (u16, String), want: u16| {
        assert_eq!(code, want, "{body}");
        assert_eq!(body.trim_end().lines().count(), 1, "{body}");
    };
    one_line(server.post("/validate", b"{", None), 400);
    one_line(
        server.post(
            "/validate",
            br#"{"apiVersion":"admission.k8s.io/v1","kind":"AdmissionReview"}"#,
            None,
        ),
        400,
    );
    let huge = vec![b' '; 9 << 20];
    one_line(server.post("/validate", &huge, None), 413);
    let job = object("job.json", &s.signed);
    let mut body: Value = serde_json::from_slice(&review("uid-job", &job, false)).unwrap();
    body["request"]["kind"] = json!({"group": "batch", "version": "v1", "kind": "Job"});
    let (code, text) = server.post("/validate", &serde_json::to_vec(&body).unwrap(), None);
    assert_eq!(code, 200, "{text}");
    let r = strict(&text);
    assert_eq!(
        (r["allowed"].clone(), r["code"].clone()),
        (json!(false), json!(400)),
        "{r}"
    );
    one_line(server.post("/nowhere", b"{}", None), 404);

    // A slow client: the headers never finish; the server hangs up on
    // it (after its 10 s header deadline; `timeout` only keeps a server
    // that never does from hanging the suite).
    let mut slow = external_tool("timeout")
        .args([
            "60",
            "openssl",
            "s_client",
            "-quiet",
            "-connect",
            &server.addr,
        ])
        .stdin(Stdio::piped())
        .stdout(Stdio::piped())
        .stderr(Stdio::null())
        .spawn()
        .unwrap();
    let mut stdin = slow.stdin.take().unwrap();
    stdin
        .write_all(b"POST /validate HTTP/1.1\r\nHost: x\r\n")
        .unwrap();
    let mut reply = String::new();
    let _ = BufReader::new(slow.stdout.take().unwrap()).read_to_string(&mut reply);
    drop(stdin);
    let status = slow.wait().unwrap();
    assert_ne!(status.code(), Some(124), "the server never hung up");
    assert!(
        reply.is_empty() || reply.starts_with("HTTP/1.1 408"),
        "{reply}"
    );

    // Not TLS at all: the handshake fails and is counted.
    let mut tcp = std::net::TcpStream::connect(&server.addr).unwrap();
    tcp.write_all(b"GET /healthz HTTP/1.1\r\nHost: x\r\n\r\n")
        .unwrap();
    let mut buf = Vec::new();
    let _ = tcp.read_to_end(&mut buf);
    assert!(server.metric("modelseal_tls_handshake_failures_total") >= 1.0);
    assert_eq!(server.get("/healthz").0, 200);
    assert_eq!(server.get("/readyz").0, 200);

    // The verify API: refused without a certificate from the CA, a
    // verdict with one.
    let ask = serde_json::to_vec(&json!({"model": format!("oci://{}", s.signed)})).unwrap();
    let (code, body) = server.post("/v1/verify", &ask, None);
    assert_eq!(code, 403, "{body}");
    let (code, _) = server.post("/v1/verify", &ask, Some("other"));
    assert!(
        code == 403 || code == 0,
        "a certificate from another CA: {code}"
    );
    let (code, body) = server.post("/v1/verify", &ask, Some("client"));
    assert_eq!(code, 200, "{body}");
    let verdict: Value = serde_json::from_str(&body).unwrap();
    assert_eq!(verdict["verdict"], "verified", "{verdict}");
    let ask = serde_json::to_vec(&json!({"model": format!("oci://{}", s.unsigned)})).unwrap();
    let (code, body) = server.post("/v1/verify", &ask, Some("client"));
    assert_eq!(code, 200, "{body}");
    assert_eq!(
        serde_json::from_str::<Value>(&body).unwrap()["verdict"],
        "failed"
    );
    let (code, _) = server.post(
        "/v1/verify",
        br#"{"model":"oci://x","extra":1}"#,
        Some("client"),
    );
    assert_eq!(code, 400);
}

#[test]
fn the_deployment_manifests_read_as_kubernetes_reads_them() {
    let dir = root().join("deploy/kubernetes");
    let mut files: Vec<PathBuf> = std::fs::read_dir(&dir)
        .unwrap()
        .map(|e| e.unwrap().path())
        .filter(|p| p.extension().is_some_and(|e| e == "yaml"))
        .collect();
    files.sort();
    assert!(files.len() >= 8, "{files:?}");
    let out = external_tool("go_k8s_strict")
        .arg("manifests")
        .args(&files)
        .output()
        .unwrap();
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    let seen = String::from_utf8_lossy(&out.stdout);
    for kind in [
        "Deployment",
        "Service",
        "ConfigMap",
        "Secret",
        "ValidatingWebhookConfiguration",
        "MutatingWebhookConfiguration",
    ] {
        assert!(
            seen.lines().any(|l| l.starts_with(&format!("{kind} "))),
            "{kind} missing: {seen}"
        );
    }
    // The policy and settings the ConfigMap carries are the ones modelseal
    // reads.
    let text = std::fs::read_to_string(dir.join("configmap.yaml")).unwrap();
    let doc: Value = serde_saphyr_yaml(&text);
    let data = &doc["data"];
    let tmp = tempfile::tempdir().unwrap();
    std::fs::write(
        tmp.path().join("policy.toml"),
        data["policy.toml"].as_str().unwrap(),
    )
    .unwrap();
    for (key, value) in data.as_object().unwrap() {
        std::fs::write(tmp.path().join(key), value.as_str().unwrap()).unwrap();
    }
    let (code, out, err) = run(modelseal()
        .args(["policy", "check"])
        .arg(tmp.path().join("policy.toml")));
    assert_eq!(code, 0, "{out}{err}");
    std::fs::write(
        tmp.path().join("serve.toml"),
        data["serve.toml"].as_str().unwrap(),
    )
    .unwrap();
    let (code, _, err) = run(modelseal()
        .arg("serve")
        .arg("--config")
        .arg(tmp.path().join("serve.toml")));
    assert_eq!(
        code, 2,
        "the settings parse; the files they name are not here: {err}"
    );
    assert!(!err.contains("unknown field"), "{err}");
}

fn serde_saphyr_yaml(text: &str) -> Value {
    serde_saphyr::from_str(text).unwrap()
}

/// Under `other_storage = "allow"`, a location the webhook cannot verify is
/// admitted with a warning and recorded as a deployment that relied on no
/// verification, so the audit shows it as such.
#[test]
fn other_storage_allowed_is_admitted_with_a_warning_and_recorded_as_unverified() {
    let s = setup("other");
    let policy = std::fs::read_to_string(&s.policy).unwrap();
    std::fs::write(&s.policy, format!("{policy}other_storage = \"allow\"\n")).unwrap();
    let server = s.server(&[]);
    let r = admit(
        &server,
        "/validate",
        "uid-s3",
        &object("isvc-s3.json", ""),
        false,
    );
    assert_eq!(r["allowed"], true, "{r}");
    assert!(
        r["warnings"].to_string().contains("admitted unverified"),
        "{r}"
    );
    let records = lines(&s.log);
    assert_eq!(records.len(), 1);
    let p = &records[0]["predicate"];
    assert_eq!(p["admission"]["uid"], "uid-s3", "{p}");
    assert!(p.get("verification").is_none(), "{p}");
    let (code, out, err) = run(modelseal()
        .args(["--format", "json", "audit", "--evidence"])
        .arg(&s.log)
        .arg("--evidence-key")
        .arg(&s.evidence_pub));
    assert_eq!(code, 1, "{err}");
    let report: Value = serde_json::from_str(&out).unwrap();
    let c7 = report["controls"]
        .as_array()
        .unwrap()
        .iter()
        .find(|c| c["id"] == 7)
        .unwrap();
    assert_eq!(c7["status"], "fail", "{c7}");
}

/// `serve --witness-policy`: the service has the witnesses cosign its
/// evidence log as it grows, on its own schedule, and keeps what they
/// cosign beside the log, so that the log verifies under the policy
/// without asking them.
#[test]
fn the_service_has_its_evidence_log_witnessed_as_it_grows() {
    let tmp = tempfile::tempdir().unwrap();
    let dir = tmp.path();
    certificates(dir);
    let (key, public) = (
        root().join("tests/cmd/evidence.priv.pem"),
        root().join("tests/cmd/evidence.pub.pem"),
    );
    std::fs::copy(&public, dir.join("signer.pub.pem")).unwrap();
    std::fs::write(
        dir.join("policy.toml"),
        "[signers]\nkeys = [\"signer.pub.pem\"]\n",
    )
    .unwrap();
    let log = dir.join("evidence.jsonl");
    let attach = |who: &str| {
        let (code, err) = crate::witness::attach_at(&log, who, None, None);
        assert_eq!(code, 0, "{err}");
    };
    attach("a");
    attach("b");
    let (code, out, err) = run(modelseal()
        .args(["evidence", "verifier-key"])
        .arg(&log)
        .arg("--evidence-key")
        .arg(&public));
    assert_eq!(code, 0, "{err}");
    let (_witnesses, policy) = crate::witness::three_witnesses(dir, out.trim());
    let server = Server::start(
        dir,
        &[
            "--policy".as_ref(),
            dir.join("policy.toml").as_os_str(),
            "--evidence".as_ref(),
            log.as_os_str(),
            "--evidence-key".as_ref(),
            key.as_os_str(),
            "--witness-policy".as_ref(),
            policy.as_os_str(),
            "--witness-interval".as_ref(),
            "1".as_ref(),
        ],
    );
    let witnessed_size = || {
        std::fs::read_to_string(format!("{}.witnessed", log.display()))
            .ok()
            .and_then(|note| note.lines().nth(1).and_then(|l| l.parse::<u64>().ok()))
    };
    let wait_for = |size: u64| {
        for _ in 0..300 {
            if witnessed_size() == Some(size) {
                return;
            }
            std::thread::sleep(Duration::from_millis(100));
        }
        panic!(
            "the service did not have {size} records witnessed: {}",
            server.stderr.lock().unwrap()
        );
    };
    wait_for(2);
    // Another writer appends: the next interval has it witnessed.
    attach("c");
    wait_for(3);
    let (code, out, err) = run(modelseal()
        .args(["evidence", "verify"])
        .arg(&log)
        .arg("--evidence-key")
        .arg(&public)
        .arg("--snapshot")
        .arg("--witness-policy")
        .arg(&policy));
    assert_eq!(code, 0, "{out}{err}");
    assert!(
        out.contains("witnessed: 3 records under the policy's quorum"),
        "{out}"
    );
    let (_, stderr) = server.stop();
    assert!(
        stderr.contains("witnessing: 3 records cosigned, quorum reached"),
        "{stderr}"
    );
}
