//! Helpers shared by the integration test modules (`use crate::common::*`).
#![allow(dead_code)]

use assert_cmd::Command;
use std::io::{BufRead, BufReader, Write};
use std::net::TcpListener;
use std::path::{Path, PathBuf};
use std::time::{Duration, Instant};

/// The project root.
pub fn root() -> PathBuf {
    PathBuf::from(env!("CARGO_MANIFEST_DIR"))
}

/// The interop fixtures made by other implementations (`fixtures/interop/`).
pub fn interop() -> PathBuf {
    root().join("fixtures/interop")
}

/// A vendored specification schema folder under `schemas/`.
pub fn schemas(rel: &str) -> PathBuf {
    root().join("schemas").join(rel)
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

/// Writes a deploy policy into `dir` that trusts the demo key and requires
/// a signed BOM (the default policy's other rules); returns its path.
pub fn demo_policy(dir: &Path) -> PathBuf {
    let path = dir.join("demo-policy.toml");
    std::fs::write(
        &path,
        format!(
            "[signers]\nkeys = [{:?}]\n[require]\nbom = true\n",
            demo_key().1.display().to_string()
        ),
    )
    .unwrap();
    path
}

/// The test clock's variable (read by the binary alone).
pub const TEST_NOW: &str = "MODELSEAL_TEST_NOW";

/// The instant the tests run at. A run may move it (`.ci/run` reruns the
/// date-sensitive tests years ahead and back) by setting
/// `MODELSEAL_TEST_NOW`; otherwise it is fixed, so that no test depends on
/// the day it runs. Every modelseal process a test starts gets it.
pub fn test_now() -> jiff::Timestamp {
    match std::env::var(TEST_NOW) {
        // A date is its noon (UTC), as the binary reads it.
        Ok(text) if text.len() == 10 => format!("{text}T12:00:00Z")
            .parse()
            .unwrap_or_else(|e| panic!("{TEST_NOW}={text:?} is not a date: {e}")),
        Ok(text) => text
            .parse()
            .unwrap_or_else(|e| panic!("{TEST_NOW}={text:?} is not an RFC 3339 time: {e}")),
        Err(_) => "2027-06-01T12:00:00Z".parse().unwrap(),
    }
}

/// The test clock's date (UTC) moved by `days`.
pub fn test_day(days: i64) -> String {
    let date = test_now().to_zoned(jiff::tz::TimeZone::UTC).date();
    date.checked_add(jiff::Span::new().days(days))
        .unwrap()
        .to_string()
}

/// An instant inside the validity of every certificate fixture (the test
/// PKI of `fixtures/pki/`, valid 2026-11-27 to 2046-11-22; the
/// model-transparency and model_signing certificates, 2025-05-02 to
/// 2035-04-30): certificate-mode tests pin the clock here whatever the
/// run's test clock, since their certificates' dates are fixed.
pub const PKI_NOW: &str = "2027-06-01T12:00:00Z";

/// The modelseal binary, quiet on stderr progress (stderr is not a tty
/// anyway), under the tests' clock ([`test_now`]).
pub fn modelseal() -> Command {
    let mut cmd = Command::cargo_bin("modelseal").expect("binary built");
    cmd.env(TEST_NOW, test_now().to_string());
    // A database log's deploy index goes to the tests' temporary
    // directory, never to the user's cache.
    cmd.env(
        "MODELSEAL_DEPLOY_INDEX_DIR",
        std::env::temp_dir().join("modelseal-deploy-index"),
    );
    cmd
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

/// A command for an external tool the tests cross-check against (the Python
/// reference, trestle). A missing tool fails the test, never skips it.
pub fn external_tool(name: &str) -> std::process::Command {
    let on_path = std::env::var_os("PATH")
        .is_some_and(|paths| std::env::split_paths(&paths).any(|dir| dir.join(name).is_file()));
    assert!(
        on_path,
        "`{name}` is not on PATH: install the test tools with \
         scripts/install-test-deps.sh and run the tests with scripts/test.sh"
    );
    std::process::Command::new(name)
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
    let (code, out, err) = run(demo_sign_args(&mut modelseal(), model, sig, None));
    assert_eq!(code, 0, "sign failed: {out}{err}");
}

/// Adds `sign MODEL --key <demo> --signature SIG [--bom BOM]` to `cmd`.
pub fn demo_sign_args<'a>(
    cmd: &'a mut Command,
    model: &Path,
    sig: &Path,
    bom: Option<&Path>,
) -> &'a mut Command {
    let (private, _) = demo_key();
    cmd.arg("sign")
        .arg(model)
        .arg("--key")
        .arg(private)
        .arg("--signature")
        .arg(sig);
    if let Some(bom) = bom {
        cmd.arg("--bom").arg(bom);
    }
    cmd
}

/// Adds `verify MODEL --signature SIG --key <demo public>` to `cmd`.
pub fn demo_verify_args<'a>(cmd: &'a mut Command, model: &Path, sig: &Path) -> &'a mut Command {
    let (_, public) = demo_key();
    cmd.arg("verify")
        .arg(model)
        .arg("--signature")
        .arg(sig)
        .arg("--key")
        .arg(public)
}

/// Verifies `model` with the demo public key; returns (code, stdout, stderr).
pub fn verify_demo(model: &Path, sig: &Path, extra: &[&str]) -> (i32, String, String) {
    run(demo_verify_args(&mut modelseal(), model, sig).args(extra))
}

/// Serves fixed routes on 127.0.0.1 for at most `requests` connections or
/// 30 seconds, whichever comes first. Returns the base URL.
pub fn serve(routes: Vec<(&'static str, Vec<u8>)>, requests: usize) -> String {
    let listener = TcpListener::bind("127.0.0.1:0").unwrap();
    let base = format!("http://{}", listener.local_addr().unwrap());
    listener.set_nonblocking(true).unwrap();
    std::thread::spawn(move || {
        let deadline = Instant::now() + Duration::from_secs(30);
        let mut served = 0;
        while served < requests && Instant::now() < deadline {
            let Ok((stream, _)) = listener.accept() else {
                std::thread::sleep(Duration::from_millis(10));
                continue;
            };
            served += 1;
            stream.set_nonblocking(false).unwrap();
            let mut reader = BufReader::new(stream.try_clone().unwrap());
            let mut line = String::new();
            if reader.read_line(&mut line).is_err() {
                continue;
            }
            let target = line.split_whitespace().nth(1).unwrap_or("/");
            let path = target.split('?').next().unwrap_or("/").to_string();
            loop {
                let mut header = String::new();
                if reader.read_line(&mut header).unwrap_or(0) == 0 || header == "\r\n" {
                    break;
                }
            }
            let mut stream = stream;
            let response: Vec<u8> = match path.as_str() {
                "/slow" => {
                    std::thread::sleep(Duration::from_secs(4));
                    b"HTTP/1.1 200 OK\r\nContent-Length: 2\r\n\r\n{}".to_vec()
                }
                "/drip" => {
                    // A body one byte at a time, each well inside any
                    // per-read timeout, for up to 8 seconds.
                    std::thread::spawn(move || {
                        let _ = stream.write_all(b"HTTP/1.1 200 OK\r\nContent-Length: 1000\r\n\r\n");
                        for _ in 0..40 {
                            if stream.write_all(b" ").is_err() {
                                break;
                            }
                            std::thread::sleep(Duration::from_millis(200));
                        }
                    });
                    continue;
                }
                "/huge" => b"HTTP/1.1 200 OK\r\nContent-Length: 900000000\r\n\r\n{".to_vec(),
                "/redirect-http" => {
                    b"HTTP/1.1 302 Found\r\nLocation: http://example.com/model.sig\r\nContent-Length: 0\r\n\r\n".to_vec()
                }
                p => match routes.iter().find(|(r, _)| *r == p) {
                    Some((_, body)) => {
                        let mut r = format!("HTTP/1.1 200 OK\r\nContent-Length: {}\r\nConnection: close\r\n\r\n", body.len())
                            .into_bytes();
                        r.extend_from_slice(body);
                        r
                    }
                    None => b"HTTP/1.1 404 Not Found\r\nContent-Length: 0\r\nConnection: close\r\n\r\n".to_vec(),
                },
            };
            let _ = stream.write_all(&response);
        }
    });
    base
}

/// Signs `model` in certificate mode with the test PKI's signer key, the
/// given leaf certificate (under `fixtures/pki/`) and the intermediate.
pub fn sign_with_test_pki(model: &Path, sig: &Path, leaf: &str) -> (i32, String, String) {
    let pki = |f: &str| fixture(&format!("pki/{f}"));
    run(modelseal()
        .env(TEST_NOW, PKI_NOW)
        .arg("sign")
        .arg(model)
        .arg("--key")
        .arg(pki("signer.key"))
        .arg("--signing-cert")
        .arg(pki(leaf))
        .arg("--cert-chain")
        .arg(pki("intermediate.pem"))
        .arg("--signature")
        .arg(sig))
}

/// A small deterministic generator (xorshift64*), so that "random"
/// instants in tests are the same on every run.
pub struct Rng(u64);

impl Rng {
    /// A generator from a fixed seed.
    pub fn new(seed: u64) -> Self {
        Rng(seed.max(1))
    }

    /// A number in `0..n`.
    pub fn below(&mut self, n: u64) -> u64 {
        self.0 ^= self.0 >> 12;
        self.0 ^= self.0 << 25;
        self.0 ^= self.0 >> 27;
        self.0.wrapping_mul(0x2545_f491_4f6c_dd1d) % n.max(1)
    }
}

/// `modelseal evidence deploy` of a made-up model `name` (JSON output),
/// with the environment in `envs`.
pub fn deploy_command(name: &str, envs: &[(&str, &std::ffi::OsStr)]) -> std::process::Command {
    let mut cmd = std::process::Command::new(assert_cmd::cargo::cargo_bin("modelseal"));
    cmd.env(TEST_NOW, test_now().to_string());
    cmd.env(
        "MODELSEAL_DEPLOY_INDEX_DIR",
        std::env::temp_dir().join("modelseal-deploy-index"),
    );
    let digest = {
        use std::fmt::Write as _;
        name.bytes()
            .chain(std::iter::repeat(b'x'))
            .take(32)
            .fold(String::new(), |mut s, b| {
                let _ = write!(s, "{b:02x}");
                s
            })
    };
    // Quiet: these deployments have no verification on purpose, and the
    // warning saying so is not what the callers look for on stderr.
    cmd.args([
        "--format", "json", "-q", "evidence", "deploy", "--name", name, "--model",
    ])
    .arg(format!("sha256:{digest}"))
    .stdin(std::process::Stdio::null())
    .stdout(std::process::Stdio::piped())
    .stderr(std::process::Stdio::piped());
    for (k, v) in envs {
        cmd.env(k, v);
    }
    cmd
}

/// Runs `iterations` deployments one after another, killing each with
/// SIGKILL at a random instant within a window that starts at `window`
/// (some finish first). A deployment reads the log it appends to, so it
/// slows as the log grows and as the machine gets busy: the window widens
/// after each run killed and narrows after each that finished, so that the
/// instants keep spanning a deployment's whole life. Returns the record
/// digests of the runs that exited 0: the appends that were acknowledged.
pub fn deploy_and_kill(
    tag: &str,
    envs: &[(&str, &std::ffi::OsStr)],
    iterations: usize,
    seed: u64,
    window: Duration,
) -> Vec<String> {
    let mut rng = Rng::new(seed);
    let mut acknowledged = Vec::new();
    let shortest = (window.as_micros() as u64).max(1);
    let mut window_us = shortest;
    for i in 0..iterations {
        let mut child = deploy_command(&format!("{tag}-{i}"), envs).spawn().unwrap();
        std::thread::sleep(Duration::from_micros(rng.below(window_us)));
        let _ = child.kill();
        let out = child.wait_with_output().unwrap();
        window_us = if out.status.success() {
            (window_us - window_us / 8).max(shortest)
        } else {
            window_us + window_us / 4
        };
        if out.status.success() {
            let v: serde_json::Value = serde_json::from_slice(&out.stdout)
                .unwrap_or_else(|e| panic!("{e}: {}", String::from_utf8_lossy(&out.stdout)));
            acknowledged.push(v["recorded"].as_str().unwrap().to_string());
        } else if out.status.code().is_some() {
            // Exited by itself with an error: it must say why in one line.
            let err = String::from_utf8_lossy(&out.stderr);
            assert!(err.starts_with("error: "), "{err}");
        }
    }
    acknowledged
}

/// How long one deployment takes when not killed.
pub fn deploy_duration(envs: &[(&str, &std::ffi::OsStr)]) -> Duration {
    let start = Instant::now();
    let out = deploy_command("timing", envs).output().unwrap();
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    start.elapsed()
}

/// The SHA-256 (hex) of the file at `path`.
pub fn file_sha256(path: &Path) -> String {
    use sha2::Digest;
    hex::encode(sha2::Sha256::digest(std::fs::read(path).unwrap()))
}
