//! Remote inputs: signatures, keys and trusted roots over HTTP(S), served by
//! a real server on 127.0.0.1 started by the test.

use crate::common::*;

#[test]
fn served_signature_and_key_verify() {
    let (tmp, model) = tiny_model();
    let sig = tmp.path().join("model.sig");
    sign_demo(&model, &sig);
    let (_, public) = demo_key();
    let base = serve(
        vec![
            ("/model.sig", std::fs::read(&sig).unwrap()),
            ("/demo.pub.pem", std::fs::read(&public).unwrap()),
        ],
        4,
    );
    let (code, out, err) = run(modelseal()
        .arg("verify")
        .arg(&model)
        .arg("--signature")
        .arg(format!("{base}/model.sig"))
        .arg("--key")
        .arg(format!("{base}/demo.pub.pem")));
    assert_eq!(code, 0, "{out}{err}");
    assert!(out.starts_with("verified"), "{out}");
}

fn verify_remote_signature(url: &str, timeout: &str) -> (i32, String, String) {
    let (_, public) = demo_key();
    run(modelseal()
        .env("MODELSEAL_HTTP_TIMEOUT", timeout)
        .arg("verify")
        .arg(fixture("tiny-model"))
        .arg("--signature")
        .arg(url)
        .arg("--key")
        .arg(public))
}

#[test]
fn not_found_oversize_slow_and_downgrading_redirects_are_refused() {
    let base = serve(vec![], 5);
    let (code, _, err) = verify_remote_signature(&format!("{base}/missing.sig"), "10");
    assert_eq!(code, 2);
    assert!(err.contains("HTTP 404"), "{err}");
    let (code, _, err) = verify_remote_signature(&format!("{base}/huge"), "10");
    assert_eq!(code, 2);
    assert!(err.contains("larger than"), "{err}");
    // The configured timeout is the one that fired (the default is 60 s).
    let (code, _, err) = verify_remote_signature(&format!("{base}/slow"), "1");
    assert_eq!(code, 2);
    assert!(err.contains("timed out after 1 s"), "{err}");
    // A body that drips in: the timeout covers the whole body, not each read.
    let (code, _, err) = verify_remote_signature(&format!("{base}/drip"), "1");
    assert_eq!(code, 2);
    assert!(err.contains("timed out after 1 s"), "{err}");
    let (code, _, err) = verify_remote_signature(&format!("{base}/redirect-http"), "10");
    assert_eq!(code, 2);
    assert!(err.contains("refused"), "{err}");
}

#[test]
fn a_timeout_that_is_not_whole_seconds_is_refused() {
    for bad in ["abc", "0", "-1", "1.5", "18446744073709551615"] {
        let (code, _, err) = verify_remote_signature("https://example.com/model.sig", bad);
        assert_eq!(code, 2, "{bad}");
        assert!(err.contains("MODELSEAL_HTTP_TIMEOUT"), "{bad}: {err}");
    }
}

#[test]
fn plain_http_to_other_hosts_is_refused_without_a_request() {
    let (code, _, err) = verify_remote_signature("http://example.com/model.sig", "5");
    assert_eq!(code, 2);
    assert!(err.contains("must use https"), "{err}");
}

#[test]
fn a_served_trusted_root_is_used() {
    let root = modelseal::sigstore::EMBEDDED_TRUSTED_ROOT
        .as_bytes()
        .to_vec();
    let base = serve(
        vec![("/trusted_root.json", root), ("/bad.json", b"{}".to_vec())],
        2,
    );
    let dir = interop().join("model-transparency/v1.1.0-sigstore");
    let verify = |root: &str| {
        run(modelseal()
            .arg("verify")
            .arg(&dir)
            .arg("--signature")
            .arg(dir.join("model.sig"))
            .args([
                "--identity",
                "stefanb@us.ibm.com",
                "--issuer",
                "https://sigstore.verify.ibm.com/oauth2",
            ])
            .args(["--ignore-path", "ignore-me", "--trusted-root", root]))
    };
    let (code, out, err) = verify(&format!("{base}/trusted_root.json"));
    assert_eq!(code, 0, "{out}{err}");
    let (code, _, err) = verify(&format!("{base}/bad.json"));
    assert_eq!(code, 2);
    assert!(err.contains("trusted root"), "{err}");
}

#[test]
fn credentials_in_input_urls_never_reach_the_evidence_record() {
    let (tmp, model) = tiny_model();
    let sig = tmp.path().join("model.sig");
    sign_demo(&model, &sig);
    let (_, public) = demo_key();
    let base = serve(vec![("/model.sig", std::fs::read(&sig).unwrap())], 2);
    let prefix = tmp.path().join("evidence");
    assert_eq!(
        run(modelseal().arg("keygen").arg("--out").arg(&prefix)).0,
        0
    );
    let log = tmp.path().join("evidence.jsonl");
    let url = base.replacen("http://", "http://deployer:hunter2@", 1)
        + "/model.sig?X-Amz-Signature=s3cr3t-token&X-Amz-Expires=60";
    let (code, out, err) = run(modelseal()
        .arg("verify")
        .arg(&model)
        .arg("--signature")
        .arg(&url)
        .arg("--key")
        .arg(&public)
        .arg("--evidence")
        .arg(&log)
        .arg("--evidence-key")
        .arg(tmp.path().join("evidence.priv.pem")));
    assert_eq!(code, 0, "{out}{err}");
    let line = std::fs::read_to_string(&log).unwrap();
    let envelope: serde_json::Value = serde_json::from_str(line.trim_end()).unwrap();
    let payload = base64::Engine::decode(
        &base64::engine::general_purpose::STANDARD,
        envelope["payload"].as_str().unwrap(),
    )
    .unwrap();
    let statement = String::from_utf8(payload).unwrap();
    assert!(!statement.contains("hunter2"), "{statement}");
    assert!(!statement.contains("s3cr3t"), "{statement}");
    assert!(
        statement.contains(&format!("{base}/model.sig\"")),
        "{statement}"
    );
}
