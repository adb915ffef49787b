//! The evidence log written by release 0.1.0 still reads and audits.

use crate::common::*;
use serde_json::Value;
use std::fs;

fn golden_copy() -> (tempfile::TempDir, std::path::PathBuf, std::path::PathBuf) {
    let tmp = tempfile::tempdir().unwrap();
    let from = fixture("golden/v0.1.0");
    for f in [
        "evidence.jsonl",
        "evidence.jsonl.checkpoint",
        "evidence.pub.pem",
    ] {
        fs::copy(from.join(f), tmp.path().join(f)).unwrap();
    }
    let log = tmp.path().join("evidence.jsonl");
    let key = tmp.path().join("evidence.pub.pem");
    (tmp, log, key)
}

fn audit(log: &std::path::Path, key: &std::path::Path, format: &str) -> (i32, String, String) {
    run(modelseal()
        .env_remove("MODELSEAL_EVIDENCE")
        .arg("--format")
        .arg(format)
        .arg("audit")
        .arg("--evidence")
        .arg(log)
        .arg("--evidence-key")
        .arg(key)
        .args(["--as-of", "2026-12-01"]))
}

#[test]
fn the_0_1_0_log_audits_and_its_deployment_is_judged_on_the_verification_before_it() {
    let (_tmp, log, key) = golden_copy();
    let (code, out, err) = audit(&log, &key, "json");
    assert_eq!(code, 1, "{err}");
    let report: Value = serde_json::from_str(&out).unwrap();
    assert_eq!(report["log"]["intact"], true);
    assert_eq!(report["log"]["records"], 11);
    let status = |id: u64| {
        report["controls"]
            .as_array()
            .unwrap()
            .iter()
            .find(|c| c["id"] == id)
            .unwrap()
            .clone()
    };
    // The documents of 0.1.0 were not given to this audit to re-hash.
    for id in [1, 2, 3, 5, 6, 8] {
        assert_eq!(
            status(id)["status"],
            "recorded-not-rechecked",
            "{id}: {report:#}"
        );
    }
    // 0.1.0 judged control 4 and 7 failed because of the dataset's own BOM;
    // the dataset is not a deployed model, and they fail for tiny-model:
    // the deployment of tiny-model names no verification (0.1.0 did not record one), so it relied on
    // the latest verification before it: that of the tampered copy, FAILED.
    // Control 4 judges the verification that deployment relied on, too:
    // the failed one, so the BOM is not shown verified for it.
    let c4 = status(4);
    assert_eq!(c4["status"], "fail", "{c4:#}");
    assert!(
        c4["supply_chain"][0]["notes"][0]
            .as_str()
            .unwrap()
            .contains("the verification it relied on"),
        "{c4:#}"
    );
    let c7 = status(7);
    assert_eq!(c7["status"], "fail");
    let d = &c7["deployments"][0];
    assert_eq!(d["model"]["name"], "tiny-model");
    assert_eq!(d["reliance"], "latest");
    assert_eq!(d["outcome"], "verification-failed");
    assert_eq!(d["verification"]["failures"][0], "changed: config.json");
    assert_eq!(
        d["verification"]["signer"],
        "key SHA256:6918a3feaf1847df9c2238733e133549d98a8c6bf1269604731fb435120d5d02 (ed25519)",
        "the 0.1.0 signer text is shown as written"
    );
    assert_eq!(
        d["verification"]["policy"]["uri"],
        "https://modelseal.dev/policy/signature-only"
    );
    // Every format renders it.
    for format in ["human", "markdown", "html", "oscal"] {
        let (code, out, err) = audit(&log, &key, format);
        assert_eq!(code, 1, "{format}: {err}");
        assert!(
            out.contains("7f97b3e324e616db80312f1fd5f11bc105f1a7bec91c87a09e17debb332bd246"),
            "{format}: the checkpoint root"
        );
    }
}
