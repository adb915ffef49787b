//! The OSCAL assessment results validate with compliance-trestle's `trestle`
//! (installed by `scripts/install-test-deps.sh`; the test fails when it is
//! missing).

use crate::common::*;
use std::fs;

/// Runs `trestle validate` on `document`: (accepted, trestle's output).
fn trestle_validate(workspace: &std::path::Path, document: &[u8]) -> (bool, String) {
    let dir = workspace.join("assessment-results/modelseal");
    fs::create_dir_all(&dir).unwrap();
    let file = dir.join("assessment-results.json");
    fs::write(&file, document).unwrap();
    let out = external_tool("trestle")
        .current_dir(workspace)
        .args(["validate", "-f"])
        .arg(&file)
        .output()
        .expect("trestle runs");
    let text = format!(
        "{}{}",
        String::from_utf8_lossy(&out.stdout),
        String::from_utf8_lossy(&out.stderr)
    );
    (out.status.success(), text)
}

#[test]
fn oscal_assessment_results_validate_with_trestle() {
    let tmp = tempfile::tempdir().unwrap();
    let key = tmp.path().join("ev");
    assert_eq!(run(modelseal().arg("keygen").arg("--out").arg(&key)).0, 0);
    let log = tmp.path().join("evidence.jsonl");
    let env = |c: &mut assert_cmd::Command| {
        c.env("MODELSEAL_EVIDENCE", &log)
            .env("MODELSEAL_EVIDENCE_KEY", tmp.path().join("ev.priv.pem"));
    };
    let model = tmp.path().join("m");
    copy_tree(&fixture("tiny-model"), &model);
    let (private, public) = demo_key();
    let sig = tmp.path().join("m.sig");
    let bom = tmp.path().join("m.cdx.json");
    let mut sign = modelseal();
    env(&mut sign);
    sign.arg("sign")
        .arg(&model)
        .arg("--key")
        .arg(&private)
        .arg("--signature")
        .arg(&sig)
        .arg("--bom")
        .arg(&bom);
    assert_eq!(run(&mut sign).0, 0);
    let mut verify = modelseal();
    env(&mut verify);
    verify
        .arg("verify")
        .arg(&model)
        .arg("--signature")
        .arg(&sig)
        .arg("--key")
        .arg(&public)
        .arg("--bom")
        .arg(&bom);
    assert_eq!(run(&mut verify).0, 0);
    let mut audit = modelseal();
    env(&mut audit);
    audit.args(["--format", "oscal", "audit"]);
    let (_, oscal, err) = run(&mut audit);
    assert!(!oscal.is_empty(), "{err}");

    let workspace = tmp.path().join("trestle");
    fs::create_dir(&workspace).unwrap();
    let init = external_tool("trestle")
        .current_dir(&workspace)
        .arg("init")
        .output()
        .unwrap();
    assert!(
        init.status.success(),
        "{}",
        String::from_utf8_lossy(&init.stderr)
    );
    let (valid, output) = trestle_validate(&workspace, oscal.as_bytes());
    assert!(valid, "trestle rejected our OSCAL output: {output}");
    // And trestle does reject a broken document (the check can fail).
    let broken = oscal
        .replace("\"not-satisfied\"", "\"bogus\"")
        .replace("\"satisfied\"", "\"bogus\"");
    let (valid, output) = trestle_validate(&workspace, broken.as_bytes());
    assert!(!valid, "trestle accepted a broken document: {output}");
}
