//! Bundles made here verify with the Python reference implementation,
//! `model_signing` (installed by `scripts/install-test-deps.sh`; the test
//! fails when it is missing).

use crate::common::*;

fn python_verify(args: &[&std::ffi::OsStr]) -> (i32, String, String) {
    let out = external_tool("model_signing")
        .arg("verify")
        .args(args)
        .output()
        .expect("model_signing runs");
    (
        out.status.code().unwrap_or(-1),
        String::from_utf8_lossy(&out.stdout).into_owned(),
        String::from_utf8_lossy(&out.stderr).into_owned(),
    )
}

#[test]
fn python_reference_verifies_our_key_and_certificate_bundles() {
    let (tmp, model) = tiny_model();
    for alg in ["ecdsa-p256", "ecdsa-p384"] {
        let prefix = tmp.path().join(alg);
        assert_eq!(
            run(modelseal()
                .args(["keygen", "--algorithm", alg, "--out"])
                .arg(&prefix))
            .0,
            0
        );
        let sig = tmp.path().join(format!("{alg}.sig"));
        let private = tmp.path().join(format!("{alg}.priv.pem"));
        let (code, _, err) = run(modelseal()
            .arg("sign")
            .arg(&model)
            .arg("--key")
            .arg(&private)
            .arg("--signature")
            .arg(&sig));
        assert_eq!(code, 0, "{err}");
        let public = tmp.path().join(format!("{alg}.pub.pem"));
        let (code, out, err) = python_verify(&[
            "key".as_ref(),
            model.as_os_str(),
            "--signature".as_ref(),
            sig.as_os_str(),
            "--public_key".as_ref(),
            public.as_os_str(),
        ]);
        assert_eq!(code, 0, "{alg}: {out}{err}");
        // And the reference refuses a tampered copy.
        std::fs::write(model.join("config.json"), "{}\n").unwrap();
        let (code, _, _) = python_verify(&[
            "key".as_ref(),
            model.as_os_str(),
            "--signature".as_ref(),
            sig.as_os_str(),
            "--public_key".as_ref(),
            public.as_os_str(),
        ]);
        assert_ne!(code, 0, "{alg}: the reference accepted a tampered model");
        std::fs::copy(fixture("tiny-model/config.json"), model.join("config.json")).unwrap();
    }
    let sig = tmp.path().join("cert.sig");
    let (code, _, err) = sign_with_test_pki(&model, &sig, "signer.pem");
    assert_eq!(code, 0, "{err}");
    let root = fixture("pki/root.pem");
    let (code, out, err) = python_verify(&[
        "certificate".as_ref(),
        model.as_os_str(),
        "--signature".as_ref(),
        sig.as_os_str(),
        "--certificate_chain".as_ref(),
        root.as_os_str(),
    ]);
    assert_eq!(code, 0, "certificate: {out}{err}");
}
