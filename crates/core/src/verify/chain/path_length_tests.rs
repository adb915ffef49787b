//! RFC 5280 §6.1.4 (l)/(m) path-length constraints, on PKIs generated here
//! with the `openssl` command line, each verdict cross-checked against
//! `openssl verify -x509_strict` (with `-partial_chain` when the anchor is
//! not self-signed). The `openssl` binary is required: without it these
//! tests fail, they never skip.

use super::{ChainError, validate};
use crate::keys::load_certificates;
use std::path::{Path, PathBuf};
use std::process::Command;
use std::time::SystemTime;

/// A scratch PKI: keys and certificates in a temporary directory.
struct Pki {
    dir: tempfile::TempDir,
    serial: std::cell::Cell<u32>,
}

/// Runs `openssl` with `args` in `dir`; panics with its stderr on failure.
fn openssl(dir: &Path, args: &[&str]) {
    let out = Command::new("openssl")
        .current_dir(dir)
        .args(args)
        .output()
        .expect("the openssl command line is required for these tests");
    assert!(
        out.status.success(),
        "openssl {args:?}: {}",
        String::from_utf8_lossy(&out.stderr)
    );
}

/// How a certificate may act: a CA with an optional pathLenConstraint, or a
/// code-signing leaf.
#[derive(Clone, Copy)]
enum Role {
    Ca(Option<u8>),
    Leaf,
}

impl Role {
    fn extensions(self) -> String {
        match self {
            Role::Ca(limit) => format!(
                "basicConstraints=critical,CA:TRUE{}\nkeyUsage=critical,keyCertSign,cRLSign\n\
                 subjectKeyIdentifier=hash\nauthorityKeyIdentifier=keyid:always\n",
                limit.map(|n| format!(",pathlen:{n}")).unwrap_or_default()
            ),
            Role::Leaf => {
                "basicConstraints=critical,CA:FALSE\nkeyUsage=critical,digitalSignature\n\
                 extendedKeyUsage=codeSigning\nsubjectKeyIdentifier=hash\n\
                 authorityKeyIdentifier=keyid:always\n"
                    .to_string()
            }
        }
    }
}

impl Pki {
    fn new() -> Self {
        Pki {
            dir: tempfile::tempdir().unwrap(),
            serial: std::cell::Cell::new(100),
        }
    }

    fn path(&self, name: &str) -> PathBuf {
        self.dir.path().join(name)
    }

    /// A fresh P-256 key `NAME.key`.
    fn key(&self, name: &str) -> String {
        let file = format!("{name}.key");
        openssl(
            self.dir.path(),
            &[
                "genpkey",
                "-algorithm",
                "EC",
                "-pkeyopt",
                "ec_paramgen_curve:P-256",
                "-out",
                &file,
            ],
        );
        file
    }

    /// A self-signed root `NAME.pem` with subject `CN=NAME`.
    fn root(&self, name: &str, limit: Option<u8>) -> String {
        let key = self.key(name);
        let ext = format!("{name}.ext");
        std::fs::write(self.path(&ext), Role::Ca(limit).extensions()).unwrap();
        let csr = format!("{name}.csr");
        let cert = format!("{name}.pem");
        let subject = format!("/CN={name}");
        openssl(
            self.dir.path(),
            &["req", "-new", "-key", &key, "-subj", &subject, "-out", &csr],
        );
        openssl(
            self.dir.path(),
            &[
                "x509", "-req", "-in", &csr, "-signkey", &key, "-days", "2", "-extfile", &ext,
                "-out", &cert,
            ],
        );
        cert
    }

    /// `NAME.pem` with subject `CN=SUBJECT` and a fresh key, issued by the
    /// certificate `ISSUER.pem` (key `ISSUER.key`). A subject equal to the
    /// issuer's makes a self-issued certificate (a key rollover).
    fn issue(&self, name: &str, subject: &str, issuer: &str, role: Role) -> String {
        let key = self.key(name);
        let ext = format!("{name}.ext");
        std::fs::write(self.path(&ext), role.extensions()).unwrap();
        let csr = format!("{name}.csr");
        let cert = format!("{name}.pem");
        let subject = format!("/CN={subject}");
        let serial = self.serial.get() + 1;
        self.serial.set(serial);
        openssl(
            self.dir.path(),
            &["req", "-new", "-key", &key, "-subj", &subject, "-out", &csr],
        );
        openssl(
            self.dir.path(),
            &[
                "x509",
                "-req",
                "-in",
                &csr,
                "-CA",
                &format!("{issuer}.pem"),
                "-CAkey",
                &format!("{issuer}.key"),
                "-set_serial",
                &serial.to_string(),
                "-days",
                "1",
                "-extfile",
                &ext,
                "-out",
                &cert,
            ],
        );
        cert
    }

    fn der(&self, cert: &str) -> Vec<u8> {
        load_certificates(&self.path(cert)).unwrap().remove(0)
    }

    /// The verdicts of `validate` and of `openssl verify` on the chain
    /// `leaf, intermediates...` (leaf first) to the single `anchor`.
    fn verdicts(
        &self,
        leaf: &str,
        intermediates: &[&str],
        anchor: &str,
    ) -> (Result<(), ChainError>, bool) {
        let mut chain = vec![self.der(leaf)];
        chain.extend(intermediates.iter().map(|c| self.der(c)));
        let ours = validate(&chain, &[self.der(anchor)], SystemTime::now()).map(|_| ());

        let mut untrusted = String::new();
        for c in intermediates {
            untrusted.push_str(&std::fs::read_to_string(self.path(c)).unwrap());
        }
        std::fs::write(self.path("untrusted.pem"), untrusted).unwrap();
        let mut args = vec![
            "verify",
            "-x509_strict",
            "-partial_chain",
            "-CAfile",
            anchor,
        ];
        if !intermediates.is_empty() {
            args.extend(["-untrusted", "untrusted.pem"]);
        }
        args.push(leaf);
        let out = Command::new("openssl")
            .current_dir(self.dir.path())
            .args(&args)
            .output()
            .expect("the openssl command line is required for these tests");
        (ours, out.status.success())
    }

    /// Asserts that both validators accept (`ok`) or both refuse the chain,
    /// a refusal from ours being a path length violation.
    fn expect(&self, ok: bool, leaf: &str, intermediates: &[&str], anchor: &str) {
        let (ours, openssl) = self.verdicts(leaf, intermediates, anchor);
        let case = format!("{leaf} <- {intermediates:?} <- anchor {anchor}");
        assert_eq!(openssl, ok, "openssl verify disagrees on {case}");
        if ok {
            assert!(ours.is_ok(), "{case}: {}", ours.unwrap_err());
        } else {
            match ours {
                Err(ChainError::Usage(m)) if m.contains("path length") => {}
                other => panic!("{case}: expected a path length refusal, got {other:?}"),
            }
        }
    }
}

#[test]
fn root_with_path_length_zero_admits_no_intermediate() {
    let pki = Pki::new();
    pki.root("root0", Some(0));
    pki.issue("leaf-direct", "signer", "root0", Role::Leaf);
    pki.expect(true, "leaf-direct.pem", &[], "root0.pem");
    pki.issue("int", "int", "root0", Role::Ca(None));
    pki.issue("leaf", "signer", "int", Role::Leaf);
    pki.expect(false, "leaf.pem", &["int.pem"], "root0.pem");
}

#[test]
fn root_with_path_length_one_admits_one_intermediate() {
    let pki = Pki::new();
    pki.root("root1", Some(1));
    pki.issue("int1", "int1", "root1", Role::Ca(None));
    pki.issue("leaf1", "signer", "int1", Role::Leaf);
    pki.expect(true, "leaf1.pem", &["int1.pem"], "root1.pem");
    pki.issue("int2", "int2", "int1", Role::Ca(None));
    pki.issue("leaf2", "signer", "int2", Role::Leaf);
    pki.expect(false, "leaf2.pem", &["int2.pem", "int1.pem"], "root1.pem");
}

#[test]
fn intermediate_with_path_length_zero_issues_only_leaves() {
    let pki = Pki::new();
    pki.root("root", None);
    pki.issue("int0", "int0", "root", Role::Ca(Some(0)));
    pki.issue("leaf1", "signer", "int0", Role::Leaf);
    pki.expect(true, "leaf1.pem", &["int0.pem"], "root.pem");
    pki.issue("sub", "sub", "int0", Role::Ca(None));
    pki.issue("leaf2", "signer", "sub", Role::Leaf);
    pki.expect(false, "leaf2.pem", &["sub.pem", "int0.pem"], "root.pem");
    // The same limit holds when the intermediate is itself the anchor.
    pki.expect(true, "leaf1.pem", &[], "int0.pem");
    pki.expect(false, "leaf2.pem", &["sub.pem"], "int0.pem");
}

#[test]
fn intermediate_with_path_length_one_admits_one_more() {
    let pki = Pki::new();
    pki.root("root", None);
    pki.issue("int1", "int1", "root", Role::Ca(Some(1)));
    pki.issue("sub", "sub", "int1", Role::Ca(None));
    pki.issue("leaf1", "signer", "sub", Role::Leaf);
    pki.expect(true, "leaf1.pem", &["sub.pem", "int1.pem"], "root.pem");
    pki.issue("subsub", "subsub", "sub", Role::Ca(None));
    pki.issue("leaf2", "signer", "subsub", Role::Leaf);
    pki.expect(
        false,
        "leaf2.pem",
        &["subsub.pem", "sub.pem", "int1.pem"],
        "root.pem",
    );
    pki.expect(true, "leaf1.pem", &["sub.pem"], "int1.pem");
    pki.expect(false, "leaf2.pem", &["subsub.pem", "sub.pem"], "int1.pem");
}

#[test]
fn self_issued_intermediates_do_not_count() {
    let pki = Pki::new();
    pki.root("root", Some(0));
    // A key rollover: same name as the root, new key, issued by the root.
    pki.issue("rollover", "root", "root", Role::Ca(None));
    pki.issue("leaf1", "signer", "rollover", Role::Leaf);
    pki.expect(true, "leaf1.pem", &["rollover.pem"], "root.pem");
    pki.issue("int", "int", "rollover", Role::Ca(None));
    pki.issue("leaf2", "signer", "int", Role::Leaf);
    pki.expect(false, "leaf2.pem", &["int.pem", "rollover.pem"], "root.pem");

    // Under an intermediate with path length 1: its own rollover is free.
    pki.root("root-b", None);
    pki.issue("int-b", "int-b", "root-b", Role::Ca(Some(1)));
    pki.issue("int-b2", "int-b", "int-b", Role::Ca(None));
    pki.issue("sub-b", "sub-b", "int-b2", Role::Ca(None));
    pki.issue("leaf-b", "signer", "sub-b", Role::Leaf);
    pki.expect(
        true,
        "leaf-b.pem",
        &["sub-b.pem", "int-b2.pem", "int-b.pem"],
        "root-b.pem",
    );
}
