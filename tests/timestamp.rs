//! RFC 3161 timestamps against a real responder: OpenSSL's `openssl ts
//! -reply` behind a small HTTP server in the test, with a TSA certificate
//! chain made here at test time. The responder keeps the real clock, so
//! these tests run modelseal at the real clock too (and stay out of the
//! shifted-clock CI step).

use crate::common::*;
use std::io::{BufRead, BufReader, Read, Write};
use std::net::TcpListener;
use std::path::{Path, PathBuf};

const CONFIG: &str = "\
[req]
distinguished_name = dn
prompt = no
[dn]
CN = modelseal test TSA root
[v3_ca]
basicConstraints = critical,CA:TRUE
keyUsage = critical,keyCertSign,cRLSign
subjectKeyIdentifier = hash
[v3_tsa]
basicConstraints = critical,CA:FALSE
keyUsage = critical,digitalSignature
extendedKeyUsage = critical,timeStamping
subjectKeyIdentifier = hash
authorityKeyIdentifier = keyid
[tsa]
default_tsa = tsa_config
[tsa_config]
serial = ./serial
crypto_device = builtin
signer_digest = sha256
default_policy = 1.2.3.4.1
digests = sha256, sha384, sha512
accuracy = secs:1
ordering = no
tsa_name = no
ess_cert_id_chain = no
ess_cert_id_alg = sha256
";

/// A TSA: its PKI (made now, valid for a day) and its responder's URL.
pub(crate) struct Tsa {
    dir: PathBuf,
    pub(crate) url: String,
}

fn openssl(dir: &Path, args: &[&str]) {
    let out = external_tool("openssl")
        .current_dir(dir)
        .args(args)
        .output()
        .unwrap();
    assert!(
        out.status.success(),
        "openssl {args:?}: {}",
        String::from_utf8_lossy(&out.stderr)
    );
}

impl Tsa {
    pub(crate) fn start(dir: &Path) -> Tsa {
        std::fs::create_dir_all(dir).unwrap();
        std::fs::write(dir.join("tsa.cnf"), CONFIG).unwrap();
        std::fs::write(dir.join("serial"), "01\n").unwrap();
        for args in [
            &[
                "ecparam",
                "-name",
                "prime256v1",
                "-genkey",
                "-noout",
                "-out",
                "root.key",
            ][..],
            &[
                "req",
                "-new",
                "-x509",
                "-key",
                "root.key",
                "-out",
                "root.pem",
                "-days",
                "1",
                "-config",
                "tsa.cnf",
                "-extensions",
                "v3_ca",
            ],
            &[
                "ecparam",
                "-name",
                "prime256v1",
                "-genkey",
                "-noout",
                "-out",
                "tsa.key",
            ],
            &[
                "req",
                "-new",
                "-key",
                "tsa.key",
                "-out",
                "tsa.csr",
                "-subj",
                "/CN=modelseal test TSA",
                "-config",
                "tsa.cnf",
            ],
            &[
                "x509",
                "-req",
                "-in",
                "tsa.csr",
                "-CA",
                "root.pem",
                "-CAkey",
                "root.key",
                "-CAcreateserial",
                "-out",
                "tsa.pem",
                "-days",
                "1",
                "-extfile",
                "tsa.cnf",
                "-extensions",
                "v3_tsa",
            ],
        ] {
            openssl(dir, args);
        }
        let listener = TcpListener::bind("127.0.0.1:0").unwrap();
        let url = format!("http://{}", listener.local_addr().unwrap());
        let served = dir.to_path_buf();
        std::thread::spawn(move || {
            for (n, stream) in listener.incoming().enumerate() {
                let Ok(stream) = stream else { return };
                let _ = answer(&served, n, stream);
            }
        });
        Tsa {
            dir: dir.to_path_buf(),
            url,
        }
    }

    pub(crate) fn root(&self) -> PathBuf {
        self.dir.join("root.pem")
    }
}

/// Answers one HTTP request: the body is a TimeStampReq, the answer what
/// `openssl ts -reply` makes of it.
fn answer(dir: &Path, n: usize, stream: std::net::TcpStream) -> std::io::Result<()> {
    let mut reader = BufReader::new(stream.try_clone()?);
    let mut length = 0usize;
    let mut line = String::new();
    while reader.read_line(&mut line)? > 2 {
        if let Some(v) = line.to_ascii_lowercase().strip_prefix("content-length:") {
            length = v.trim().parse().unwrap_or(0);
        }
        line.clear();
    }
    let mut body = vec![0u8; length.min(1 << 16)];
    reader.read_exact(&mut body)?;
    let (query, reply) = (format!("q{n}.tsq"), format!("r{n}.tsr"));
    std::fs::write(dir.join(&query), &body)?;
    let status = std::process::Command::new("openssl")
        .current_dir(dir)
        .args([
            "ts",
            "-reply",
            "-queryfile",
            &query,
            "-signer",
            "tsa.pem",
            "-inkey",
            "tsa.key",
            "-config",
            "tsa.cnf",
            "-out",
            &reply,
        ])
        .output()?;
    let mut stream = stream;
    if !status.status.success() {
        return stream
            .write_all(b"HTTP/1.1 500 Error\r\nContent-Length: 0\r\nConnection: close\r\n\r\n");
    }
    let bytes = std::fs::read(dir.join(&reply))?;
    write!(
        stream,
        "HTTP/1.1 200 OK\r\nContent-Type: application/timestamp-reply\r\nContent-Length: {}\r\nConnection: close\r\n\r\n",
        bytes.len()
    )?;
    stream.write_all(&bytes)
}

/// modelseal at the real clock, which the responder keeps.
fn real_clock() -> assert_cmd::Command {
    let mut cmd = modelseal();
    cmd.env(TEST_NOW, jiff::Timestamp::now().to_string());
    cmd
}

fn sign(model: &Path, sig: &Path, tsa: &Tsa, chain: Option<&Path>) -> (i32, String) {
    let mut cmd = real_clock();
    demo_sign_args(&mut cmd, model, sig, None).args(["--tsa", &tsa.url]);
    if let Some(chain) = chain {
        cmd.arg("--tsa-chain").arg(chain);
    }
    let (code, out, err) = run(&mut cmd);
    (code, format!("{out}{err}"))
}

fn verify(model: &Path, sig: &Path, chain: Option<&Path>) -> (i32, String) {
    let mut cmd = real_clock();
    demo_verify_args(&mut cmd, model, sig);
    if let Some(chain) = chain {
        cmd.arg("--tsa-chain").arg(chain);
    }
    let (code, out, err) = run(&mut cmd);
    (code, format!("{out}{err}"))
}

#[test]
fn signatures_carry_rfc3161_timestamps_that_verify_against_the_tsa_chain() {
    let tmp = tempfile::tempdir().unwrap();
    let tsa = Tsa::start(&tmp.path().join("tsa"));
    let other = Tsa::start(&tmp.path().join("other"));
    let (_keep, model) = tiny_model();
    let sig = tmp.path().join("model.sig");
    let (code, out) = sign(&model, &sig, &tsa, Some(&tsa.root()));
    assert_eq!(code, 0, "{out}");
    assert!(
        out.contains("timestamp: ") && out.contains("by CN=modelseal test TSA"),
        "{out}"
    );
    let bundle: serde_json::Value = serde_json::from_slice(&std::fs::read(&sig).unwrap()).unwrap();
    assert!(
        bundle["verificationMaterial"]["timestampVerificationData"]["rfc3161Timestamps"][0]
            ["signedTimestamp"]
            .is_string(),
        "{bundle}"
    );

    // Checked against the TSA's chain: the signing time.
    let (code, out) = verify(&model, &sig, Some(&tsa.root()));
    assert_eq!(code, 0, "{out}");
    assert!(out.contains("timestamped: "), "{out}");
    // A stamp says the signature existed by then, never when it was made:
    // it is not the signing time a policy measures ages from.
    let mut cmd = real_clock();
    cmd.args(["--format", "json"]);
    demo_verify_args(&mut cmd, &model, &sig)
        .arg("--tsa-chain")
        .arg(tsa.root());
    let (code, out, _) = run(&mut cmd);
    assert_eq!(code, 0, "{out}");
    let v: serde_json::Value = serde_json::from_str(&out).unwrap();
    let verdict = v.get("result").unwrap_or(&v);
    assert!(verdict["timestamped"]["time"].is_string(), "{v}");
    assert!(verdict.get("signed_at").is_none_or(|s| s.is_null()), "{v}");
    // Without a chain it is not checked, and says so.
    let (code, out) = verify(&model, &sig, None);
    assert_eq!(code, 0, "{out}");
    assert!(
        out.contains("not checked (no TSA certificate chain given)"),
        "{out}"
    );
    // A stamp from a TSA the verifier does not trust is refused.
    let (code, out) = verify(&model, &sig, Some(&other.root()));
    assert_eq!(code, 1, "{out}");
    assert!(
        out.contains("timestamp: the timestamp's signature does not hold"),
        "{out}"
    );
    // A stamp over other bytes (another signature's) is refused.
    let (_keep2, model2) = tiny_model();
    std::fs::write(model2.join("extra.txt"), "another model\n").unwrap();
    let sig2 = tmp.path().join("model2.sig");
    assert_eq!(sign(&model2, &sig2, &tsa, None).0, 0);
    let other_bundle: serde_json::Value =
        serde_json::from_slice(&std::fs::read(&sig2).unwrap()).unwrap();
    let mut swapped = bundle.clone();
    swapped["verificationMaterial"]["timestampVerificationData"] =
        other_bundle["verificationMaterial"]["timestampVerificationData"].clone();
    let sig3 = tmp.path().join("swapped.sig");
    std::fs::write(&sig3, serde_json::to_vec_pretty(&swapped).unwrap()).unwrap();
    let (code, out) = verify(&model, &sig3, Some(&tsa.root()));
    assert_eq!(code, 1, "{out}");
    assert!(out.contains("the timestamp is over other bytes"), "{out}");
    // A verifier that requires a stamp refuses a bundle without one.
    let plain = tmp.path().join("plain.sig");
    sign_demo(&model, &plain);
    let (code, out) = verify(&model, &plain, Some(&tsa.root()));
    assert_eq!(code, 1, "{out}");
    assert!(out.contains("carries no RFC 3161 timestamp"), "{out}");
    // Signing checks the stamp when given the chain: a TSA that does not
    // chain to it leaves nothing written.
    let refused = tmp.path().join("refused.sig");
    let (code, out) = sign(&model, &refused, &tsa, Some(&other.root()));
    assert_ne!(code, 0, "{out}");
    assert!(!refused.exists());
}

#[test]
fn the_python_reference_verifies_a_timestamped_bundle() {
    let tmp = tempfile::tempdir().unwrap();
    let tsa = Tsa::start(&tmp.path().join("tsa"));
    let (_keep, model) = tiny_model();
    let private = tmp.path().join("p256.priv.pem");
    let (code, _, err) = run(modelseal()
        .args(["keygen", "--algorithm", "ecdsa-p256", "--out"])
        .arg(tmp.path().join("p256")));
    assert_eq!(code, 0, "{err}");
    let sig = tmp.path().join("model.sig");
    let (code, out, err) = run(real_clock()
        .arg("sign")
        .arg(&model)
        .arg("--key")
        .arg(&private)
        .arg("--signature")
        .arg(&sig)
        .args(["--tsa", &tsa.url])
        .arg("--tsa-chain")
        .arg(tsa.root()));
    assert_eq!(code, 0, "{out}{err}");
    let out = external_tool("model_signing")
        .arg("verify")
        .arg("key")
        .arg(&model)
        .arg("--signature")
        .arg(&sig)
        .arg("--public_key")
        .arg(tmp.path().join("p256.pub.pem"))
        .output()
        .unwrap();
    assert!(
        out.status.success(),
        "{}{}",
        String::from_utf8_lossy(&out.stdout),
        String::from_utf8_lossy(&out.stderr)
    );
}
