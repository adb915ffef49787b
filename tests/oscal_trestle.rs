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

fn env_list(env: &dyn Fn(&mut assert_cmd::Command)) -> assert_cmd::Command {
    let mut list = modelseal();
    env(&mut list);
    list.args(["--format", "json", "evidence", "list"]);
    list
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
    // A tampered copy the gate blocks, a deployment, a reviewed document,
    // and a checklist with a control marked not applicable: every part of
    // the document is exercised (subjects, origins, findings that pass,
    // fail and have no evidence, exclusions, back-matter).
    let tampered = tmp.path().join("tampered");
    copy_tree(&model, &tampered);
    fs::write(tampered.join("config.json"), "{\"tampered\": true}\n").unwrap();
    let mut verify = modelseal();
    env(&mut verify);
    verify
        .arg("verify")
        .arg(&tampered)
        .arg("--signature")
        .arg(&sig)
        .arg("--key")
        .arg(&public);
    assert_eq!(run(&mut verify).0, 1);
    let mut deploy = modelseal();
    env(&mut deploy);
    let digest = {
        let (_, out, _) = run(&mut env_list(&env));
        let records: serde_json::Value = serde_json::from_str(&out).unwrap();
        records[0]["subject"]["digest"]["sha256"]
            .as_str()
            .unwrap()
            .to_string()
    };
    deploy.args(["evidence", "deploy", "--name", "m", "--model", &digest]);
    let (code, _, err) = run(&mut deploy);
    assert_eq!(code, 0, "{err}");
    let doc = tmp.path().join("policy.md");
    fs::write(&doc, "policy").unwrap();
    let mut attach = modelseal();
    env(&mut attach);
    attach
        .args([
            "evidence",
            "attach",
            "--control",
            "1",
            "--reviewer",
            "CISO",
            "--file",
        ])
        .arg(&doc);
    assert_eq!(run(&mut attach).0, 0);
    let checklist = tmp.path().join("checklist.toml");
    fs::write(
        &checklist,
        modelseal::audit::DEFAULT_CHECKLIST.replacen(
            "id = 5\n",
            "id = 5\nnot_applicable = \"No model takes user input.\"\n",
            1,
        ),
    )
    .unwrap();
    let mut audit = modelseal();
    env(&mut audit);
    audit
        .args(["--format", "oscal", "audit", "--checklist"])
        .arg(&checklist)
        // A declared audit: the assessor becomes a party in a role.
        .args(["--assessor", "A. Assessor <assessor@example.org>"])
        .args(["--scope", "Production models"]);
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
    let doc: serde_json::Value = serde_json::from_str(&oscal).unwrap();
    let result = &doc["assessment-results"]["results"][0];
    let reasons: Vec<&str> = result["findings"]
        .as_array()
        .unwrap()
        .iter()
        .map(|f| f["target"]["status"]["reason"].as_str().unwrap())
        .collect();
    assert!(
        reasons.contains(&"recorded-not-rechecked") && reasons.contains(&"no-evidence"),
        "{reasons:?}"
    );
    assert_eq!(reasons.len(), 7, "the not-applicable control is excluded");
    assert!(result["observations"][0]["subjects"][0]["subject-uuid"].is_string());
    // And trestle does reject a broken document (the check can fail).
    let broken = oscal
        .replace("\"not-satisfied\"", "\"bogus\"")
        .replace("\"satisfied\"", "\"bogus\"");
    let (valid, output) = trestle_validate(&workspace, broken.as_bytes());
    assert!(!valid, "trestle accepted a broken document: {output}");
}
