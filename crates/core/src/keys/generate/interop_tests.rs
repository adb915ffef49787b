//! Keys written by `keygen` must load in the tools people check them with:
//! the `openssl` command line (3.0 and later) and Python `cryptography`. Both
//! are required here: without them these tests fail, they never skip.

use super::{generate, write_key_pair};
use crate::keys::KeyAlgorithm;
use std::path::Path;
use std::process::Command;

const ALGORITHMS: [KeyAlgorithm; 3] = [
    KeyAlgorithm::Ed25519,
    KeyAlgorithm::EcdsaP256,
    KeyAlgorithm::EcdsaP384,
];

/// Runs a command and returns its stdout; panics with its stderr on failure.
fn run(command: &mut Command, what: &str) -> String {
    let out = command
        .output()
        .unwrap_or_else(|e| panic!("{what} is required for this test: {e}"));
    assert!(
        out.status.success(),
        "{what} refused the key: {}",
        String::from_utf8_lossy(&out.stderr)
    );
    String::from_utf8(out.stdout).unwrap()
}

/// Writes a fresh pair of `alg` under `dir`: (private path, public PEM text).
fn pair(dir: &Path, alg: KeyAlgorithm) -> (std::path::PathBuf, String) {
    let key = generate(alg).unwrap();
    let (private, public) = write_key_pair(&key, &dir.join(alg.name()), false).unwrap();
    (private, std::fs::read_to_string(public).unwrap())
}

#[test]
fn openssl_reads_every_generated_private_key() {
    let dir = tempfile::tempdir().unwrap();
    for alg in ALGORITHMS {
        let (private, public) = pair(dir.path(), alg);
        let derived = run(
            Command::new("openssl")
                .args(["pkey", "-pubout", "-in"])
                .arg(&private),
            "the openssl command line",
        );
        assert_eq!(derived, public, "{alg}: openssl derives another public key");
    }
}

#[test]
fn python_cryptography_reads_every_generated_private_key() {
    const SCRIPT: &str = "import sys\n\
from cryptography.hazmat.primitives import serialization as s\n\
k = s.load_pem_private_key(open(sys.argv[1], 'rb').read(), password=None)\n\
sys.stdout.write(k.public_key().public_bytes(s.Encoding.PEM, s.PublicFormat.SubjectPublicKeyInfo).decode())\n";
    let dir = tempfile::tempdir().unwrap();
    for alg in ALGORITHMS {
        let (private, public) = pair(dir.path(), alg);
        let derived = run(
            Command::new("python3").args(["-c", SCRIPT]).arg(&private),
            "python3 with the cryptography package",
        );
        assert_eq!(
            derived, public,
            "{alg}: cryptography derives another public key"
        );
    }
}
