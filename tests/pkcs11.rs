//! Release keys in a PKCS#11 token: a SoftHSM2 token made by the test in
//! its own directory (`SOFTHSM2_CONF`), keys made by OpenSC's `pkcs11-tool`
//! and by `keygen --pkcs11`, and interop both ways with the Python
//! reference (`model_signing` 1.1.1 with its PKCS#11 extra). All of them
//! installed by scripts/install-test-deps.sh.

use crate::common::*;
use std::path::{Path, PathBuf};

const MODULE: &str = "/usr/lib/softhsm/libsofthsm2.so";
const TOKEN: &str = "modelseal-test";
/// Not hexadecimal, and with a character temporary names never use: a digest
/// or a temporary path printed by a command cannot contain it by chance.
const PIN: &str = "Zq7!Wv";

/// A throwaway SoftHSM2 token: a P-256 key (`p256`, id 01) and a P-384 key
/// (`p384`, id 02) made with pkcs11-tool, and a PIN file without a final
/// newline.
struct Token {
    dir: PathBuf,
}

impl Token {
    fn new(dir: &Path) -> Token {
        std::fs::create_dir_all(dir.join("tokens")).unwrap();
        std::fs::write(
            dir.join("softhsm2.conf"),
            format!(
                "directories.tokendir = {}\nobjectstore.backend = file\nlog.level = ERROR\nslots.removable = false\n",
                dir.join("tokens").display()
            ),
        )
        .unwrap();
        std::fs::write(dir.join("pin"), PIN).unwrap();
        let token = Token {
            dir: dir.to_path_buf(),
        };
        token.tool(
            "softhsm2-util",
            &[
                "--init-token",
                "--free",
                "--label",
                TOKEN,
                "--pin",
                PIN,
                "--so-pin",
                "5678",
            ],
        );
        for (curve, label, id) in [
            ("EC:prime256v1", "p256", "01"),
            ("EC:secp384r1", "p384", "02"),
        ] {
            token.pkcs11_tool(&[
                "--keypairgen",
                "--key-type",
                curve,
                "--label",
                label,
                "--id",
                id,
            ]);
        }
        token
    }

    fn conf(&self) -> PathBuf {
        self.dir.join("softhsm2.conf")
    }

    fn tool(&self, name: &str, args: &[&str]) -> String {
        let out = external_tool(name)
            .env("SOFTHSM2_CONF", self.conf())
            .args(args)
            .output()
            .unwrap();
        assert!(
            out.status.success(),
            "{name} {args:?}: {}",
            String::from_utf8_lossy(&out.stderr)
        );
        String::from_utf8_lossy(&out.stdout).into_owned()
    }

    fn pkcs11_tool(&self, args: &[&str]) -> String {
        let mut all = vec![
            "--module",
            MODULE,
            "--token-label",
            TOKEN,
            "--login",
            "--pin",
            PIN,
        ];
        all.extend_from_slice(args);
        self.tool("pkcs11-tool", &all)
    }

    /// The URI of the key labelled `object`, its PIN in the PIN file.
    fn uri(&self, object: &str) -> String {
        format!(
            "pkcs11:token={TOKEN};object={object}?module-path={MODULE}&pin-source={}",
            self.dir.join("pin").display()
        )
    }

    /// The P-256 key's public key, as pkcs11-tool reads it out.
    fn p256_public(&self) -> PathBuf {
        let der = self.dir.join("p256.der");
        self.tool(
            "pkcs11-tool",
            &[
                "--module",
                MODULE,
                "--token-label",
                TOKEN,
                "--read-object",
                "--type",
                "pubkey",
                "--id",
                "01",
                "-o",
                der.to_str().unwrap(),
            ],
        );
        let pem = self.dir.join("p256.pub.pem");
        let out = external_tool("openssl")
            .args(["pkey", "-pubin", "-inform", "DER", "-in"])
            .arg(&der)
            .arg("-out")
            .arg(&pem)
            .output()
            .unwrap();
        assert!(out.status.success());
        pem
    }

    fn modelseal(&self) -> assert_cmd::Command {
        let mut cmd = modelseal();
        cmd.env("SOFTHSM2_CONF", self.conf());
        cmd
    }
}

fn model_signing(token: &Token, args: &[&std::ffi::OsStr]) -> (i32, String) {
    let out = external_tool("model_signing")
        .env("SOFTHSM2_CONF", token.conf())
        .args(args)
        .output()
        .unwrap();
    (
        out.status.code().unwrap_or(-1),
        format!(
            "{}{}",
            String::from_utf8_lossy(&out.stdout),
            String::from_utf8_lossy(&out.stderr)
        ),
    )
}

fn sign(token: &Token, model: &Path, key: &str, sig: &Path, extra: &[&str]) -> (i32, String) {
    let (code, out, err) = run(token
        .modelseal()
        .arg("sign")
        .arg(model)
        .args(["--key", key, "--signature"])
        .arg(sig)
        .args(extra));
    (code, format!("{out}{err}"))
}

fn verify(model: &Path, sig: &Path, args: &[&std::ffi::OsStr]) -> (i32, String) {
    let (code, out, err) = run(modelseal()
        .arg("verify")
        .arg(model)
        .arg("--signature")
        .arg(sig)
        .args(args));
    (code, format!("{out}{err}"))
}

#[test]
fn token_keys_sign_models_that_both_implementations_verify() {
    let tmp = tempfile::tempdir().unwrap();
    let token = Token::new(&tmp.path().join("hsm"));
    let (_keep, model) = tiny_model();
    let p256 = token.p256_public();

    // modelseal signs through the token; both verify.
    let sig = tmp.path().join("p256.sig");
    let (code, out) = sign(&token, &model, &token.uri("p256"), &sig, &[]);
    assert_eq!(code, 0, "{out}");
    assert!(!out.contains(PIN), "the PIN is never printed: {out}");
    let (code, out) = verify(&model, &sig, &["--key".as_ref(), p256.as_os_str()]);
    assert_eq!(code, 0, "{out}");
    let (code, out) = model_signing(
        &token,
        &[
            "verify".as_ref(),
            "key".as_ref(),
            model.as_os_str(),
            "--signature".as_ref(),
            sig.as_os_str(),
            "--public_key".as_ref(),
            p256.as_os_str(),
        ],
    );
    assert_eq!(code, 0, "model_signing: {out}");

    // model_signing signs through the same token; modelseal verifies.
    let theirs = tmp.path().join("theirs.sig");
    let (code, out) = model_signing(
        &token,
        &[
            "sign".as_ref(),
            "pkcs11-key".as_ref(),
            model.as_os_str(),
            "--signature".as_ref(),
            theirs.as_os_str(),
            "--pkcs11_uri".as_ref(),
            token.uri("p256").as_ref(),
        ],
    );
    assert_eq!(code, 0, "model_signing: {out}");
    let (code, out) = verify(&model, &theirs, &["--key".as_ref(), p256.as_os_str()]);
    assert_eq!(code, 0, "{out}");

    // A P-384 key made by keygen --pkcs11 (its public key written out).
    let prefix = tmp.path().join("made");
    let made_uri = token.uri("made384");
    let (code, out, err) = run(token
        .modelseal()
        .args([
            "keygen",
            "--algorithm",
            "ecdsa-p384",
            "--pkcs11",
            &made_uri,
            "--out",
        ])
        .arg(&prefix));
    assert_eq!(code, 0, "{out}{err}");
    assert!(out.contains("id=%"), "{out}");
    let made_pub = tmp.path().join("made.pub.pem");
    let sig384 = tmp.path().join("p384.sig");
    let (code, out) = sign(&token, &model, &made_uri, &sig384, &[]);
    assert_eq!(code, 0, "{out}");
    let (code, out) = model_signing(
        &token,
        &[
            "verify".as_ref(),
            "key".as_ref(),
            model.as_os_str(),
            "--signature".as_ref(),
            sig384.as_os_str(),
            "--public_key".as_ref(),
            made_pub.as_os_str(),
        ],
    );
    assert_eq!(code, 0, "model_signing: {out}");
    // keygen refuses a label already in the token, and changes nothing.
    let (code, _, err) = run(token
        .modelseal()
        .args([
            "keygen",
            "--algorithm",
            "ecdsa-p256",
            "--force",
            "--pkcs11",
            &made_uri,
            "--out",
        ])
        .arg(&prefix));
    assert_eq!(code, 2, "{err}");
    assert!(err.contains("already holds an object"), "{err}");

    // Ed25519 where the token offers CKM_EDDSA (model_signing does not
    // take Ed25519: modelseal verifies).
    let ed_uri = token.uri("made-ed25519");
    let (code, out, err) = run(token
        .modelseal()
        .args([
            "keygen",
            "--algorithm",
            "ed25519",
            "--pkcs11",
            &ed_uri,
            "--out",
        ])
        .arg(tmp.path().join("ed")));
    assert_eq!(code, 0, "{out}{err}");
    let ed_sig = tmp.path().join("ed.sig");
    let (code, out) = sign(&token, &model, &ed_uri, &ed_sig, &[]);
    assert_eq!(code, 0, "{out}");
    let ed_pub = tmp.path().join("ed.pub.pem");
    let (code, out) = verify(&model, &ed_sig, &["--key".as_ref(), ed_pub.as_os_str()]);
    assert_eq!(code, 0, "{out}");

    // Evidence sealed through the token (Ed25519, the only evidence key
    // there is) verifies and audits with the public key.
    let log = tmp.path().join("evidence.jsonl");
    let doc = tmp.path().join("review.txt");
    std::fs::write(&doc, "reviewed\n").unwrap();
    let attach = |log: &Path, key: &str| {
        run(token
            .modelseal()
            .args([
                "evidence",
                "attach",
                "--control",
                "1",
                "--reviewer",
                "r",
                "--file",
            ])
            .arg(&doc)
            .arg("--evidence")
            .arg(log)
            .args(["--evidence-key", key]))
    };
    let (code, out, err) = attach(&log, &ed_uri);
    assert_eq!(code, 0, "{out}{err}");
    let (code, out, err) = run(modelseal()
        .args(["evidence", "verify"])
        .arg(&log)
        .arg("--evidence-key")
        .arg(&ed_pub));
    assert_eq!(code, 0, "{out}{err}");
    let (_, out, err) = run(modelseal()
        .args(["--format", "json", "audit", "--evidence"])
        .arg(&log)
        .arg("--evidence-key")
        .arg(&ed_pub));
    let report: serde_json::Value =
        serde_json::from_str(&out).unwrap_or_else(|e| panic!("{e}: {out}{err}"));
    assert_eq!(report["log"]["intact"], true, "{report}");
    // A token key that is not Ed25519 is refused for evidence, in one line,
    // before anything is written.
    let p256_log = tmp.path().join("p256-evidence.jsonl");
    let (code, _, err) = attach(&p256_log, &token.uri("p256"));
    assert_eq!(code, 2, "{err}");
    assert!(err.contains("the evidence key must be Ed25519"), "{err}");
    assert_eq!(err.trim().lines().count(), 1, "{err}");
    assert!(!p256_log.exists());

    // A BOM signed through the token verifies with the model.
    let bom = tmp.path().join("model.cdx.json");
    let bom_sig = tmp.path().join("bom-model.sig");
    let (code, out) = sign(
        &token,
        &model,
        &token.uri("p256"),
        &bom_sig,
        &["--bom", bom.to_str().unwrap()],
    );
    assert_eq!(code, 0, "{out}");
    let (code, out) = verify(
        &model,
        &bom_sig,
        &[
            "--key".as_ref(),
            p256.as_os_str(),
            "--bom".as_ref(),
            bom.as_os_str(),
        ],
    );
    assert_eq!(code, 0, "{out}");
}

#[test]
fn certificate_mode_with_the_key_in_the_token_both_ways() {
    let tmp = tempfile::tempdir().unwrap();
    let token = Token::new(&tmp.path().join("hsm"));
    let (_keep, model) = tiny_model();
    let p256 = token.p256_public();
    // A CA made now, and a code-signing certificate for the token's key.
    let dir = tmp.path();
    std::fs::write(
        dir.join("ext.cnf"),
        "[leaf]\nbasicConstraints=critical,CA:FALSE\nkeyUsage=critical,digitalSignature\nextendedKeyUsage=codeSigning\n[ca]\nbasicConstraints=critical,CA:TRUE\nkeyUsage=critical,keyCertSign\n",
    )
    .unwrap();
    let openssl = |args: &[&str]| {
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
    };
    openssl(&[
        "ecparam",
        "-name",
        "prime256v1",
        "-genkey",
        "-noout",
        "-out",
        "ca.key",
    ]);
    openssl(&[
        "req",
        "-new",
        "-x509",
        "-key",
        "ca.key",
        "-out",
        "ca.pem",
        "-days",
        "2",
        "-subj",
        "/CN=modelseal test CA",
        "-addext",
        "basicConstraints=critical,CA:TRUE",
        "-addext",
        "keyUsage=critical,keyCertSign",
    ]);
    openssl(&[
        "req",
        "-new",
        "-key",
        "ca.key",
        "-out",
        "leaf.csr",
        "-subj",
        "/CN=token signer",
    ]);
    openssl(&[
        "x509",
        "-req",
        "-in",
        "leaf.csr",
        "-CA",
        "ca.pem",
        "-CAkey",
        "ca.key",
        "-CAcreateserial",
        "-force_pubkey",
        p256.to_str().unwrap(),
        "-out",
        "leaf.pem",
        "-days",
        "1",
        "-extfile",
        "ext.cnf",
        "-extensions",
        "leaf",
    ]);
    let (leaf, ca) = (dir.join("leaf.pem"), dir.join("ca.pem"));
    let now = jiff::Timestamp::now().to_string();

    let sig = dir.join("cert.sig");
    let (code, out, err) = run(token
        .modelseal()
        .env(TEST_NOW, &now)
        .arg("sign")
        .arg(&model)
        .args(["--key", &token.uri("p256"), "--signing-cert"])
        .arg(&leaf)
        .arg("--signature")
        .arg(&sig));
    assert_eq!(code, 0, "{out}{err}");
    let (code, out, err) = run(modelseal()
        .env(TEST_NOW, &now)
        .arg("verify")
        .arg(&model)
        .arg("--signature")
        .arg(&sig)
        .arg("--cert-chain")
        .arg(&ca));
    assert_eq!(code, 0, "{out}{err}");
    let (code, out) = model_signing(
        &token,
        &[
            "verify".as_ref(),
            "certificate".as_ref(),
            model.as_os_str(),
            "--signature".as_ref(),
            sig.as_os_str(),
            "--certificate_chain".as_ref(),
            ca.as_os_str(),
        ],
    );
    assert_eq!(code, 0, "model_signing: {out}");

    // model_signing 1.1.1's own certificate signing through a token fails
    // in the reference itself with the pinned sigstore models; when it
    // works, modelseal must verify its bundle.
    let theirs = dir.join("theirs-cert.sig");
    let (code, out) = model_signing(
        &token,
        &[
            "sign".as_ref(),
            "pkcs11-certificate".as_ref(),
            model.as_os_str(),
            "--signature".as_ref(),
            theirs.as_os_str(),
            "--pkcs11_uri".as_ref(),
            token.uri("p256").as_ref(),
            "--signing_certificate".as_ref(),
            leaf.as_os_str(),
            "--certificate_chain".as_ref(),
            ca.as_os_str(),
        ],
    );
    if code != 0 {
        // Its bundle model refuses what its own signer builds (a missing
        // tlogEntries, or raw certificate bytes where base64 is due,
        // depending on the certificate's bytes): a validation error after
        // the token signed, never a refusal of the token or the URI.
        assert!(
            out.contains("Signing failed with error:")
                && out.contains("validation error for")
                && (out.contains("tlogEntries") || out.contains("raw_bytes")),
            "model_signing failed otherwise: {out}"
        );
        eprintln!("note: model_signing 1.1.1 cannot sign with a token certificate here: {out}");
        return;
    }
    let (code, out, err) = run(modelseal()
        .env(TEST_NOW, &now)
        .arg("verify")
        .arg(&model)
        .arg("--signature")
        .arg(&theirs)
        .arg("--cert-chain")
        .arg(&ca));
    assert_eq!(code, 0, "{out}{err}");
}

#[test]
fn bad_tokens_and_keys_are_refused_in_one_line_and_nothing_is_written() {
    let tmp = tempfile::tempdir().unwrap();
    let token = Token::new(&tmp.path().join("hsm"));
    let (_keep, model) = tiny_model();
    token.pkcs11_tool(&[
        "--keypairgen",
        "--key-type",
        "rsa:2048",
        "--label",
        "rsa",
        "--id",
        "04",
    ]);
    let out = external_tool("python3")
        .env("SOFTHSM2_CONF", token.conf())
        .arg(root().join("tests/pkcs11/no_sign_key.py"))
        .args([MODULE, TOKEN, PIN, "no-sign"])
        .output()
        .unwrap();
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    std::fs::write(tmp.path().join("wrong-pin"), "9999").unwrap();
    let with = |object: &str, query: &str| format!("pkcs11:token={TOKEN};object={object}?{query}");
    let pin = format!("pin-source={}", token.dir.join("pin").display());
    let cases = [
        (
            with(
                "p256",
                &format!(
                    "module-path={MODULE}&pin-source={}",
                    tmp.path().join("wrong-pin").display()
                ),
            ),
            "the token refused the PIN",
        ),
        (
            with(
                "p256",
                &format!("module-path=/nonexistent/libpkcs11.so&{pin}"),
            ),
            "cannot load it",
        ),
        (with("p256", &pin), "no module"),
        (
            with("absent", &format!("module-path={MODULE}&{pin}")),
            "no private key matches",
        ),
        (
            with("rsa", &format!("module-path={MODULE}&{pin}")),
            "CKK_RSA key",
        ),
        (
            with("no-sign", &format!("module-path={MODULE}&{pin}")),
            "CKA_SIGN is false",
        ),
        (
            format!("pkcs11:token=no-such-token;object=p256?module-path={MODULE}&{pin}"),
            "no token labelled",
        ),
    ];
    for (i, (uri, want)) in cases.iter().enumerate() {
        let sig = tmp.path().join(format!("{i}.sig"));
        let (code, out) = sign(&token, &model, uri, &sig, &[]);
        assert_eq!(code, 2, "{uri}: {out}");
        assert!(out.contains(want), "{uri}: {out}");
        assert_eq!(out.trim().lines().count(), 1, "one line: {out}");
        assert!(!out.contains(PIN) || out.contains("pin-source"), "{out}");
        assert!(!sig.exists(), "{uri}: a partial signature was written");
    }
    // The token deleted between two runs.
    let sig = tmp.path().join("gone.sig");
    assert_eq!(sign(&token, &model, &token.uri("p256"), &sig, &[]).0, 0);
    std::fs::remove_dir_all(token.dir.join("tokens")).unwrap();
    std::fs::create_dir_all(token.dir.join("tokens")).unwrap();
    let sig = tmp.path().join("after.sig");
    let (code, out) = sign(&token, &model, &token.uri("p256"), &sig, &[]);
    assert_eq!(code, 2, "{out}");
    assert!(out.contains("no token labelled"), "{out}");
    assert!(!sig.exists());
}
