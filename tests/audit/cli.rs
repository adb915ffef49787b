//! Deployments, blocked models, refusals and every report format.

use super::*;
use std::fs;

#[test]
fn the_gate_working_passes_the_audit_and_lists_the_blocked_model() {
    let ws = Workspace::new();
    let good = ws.signed_model("good");
    let bad = ws.signed_model("bad");
    assert_eq!(ws.verify(&good), 0);
    fs::write(bad.dir.join("config.json"), "{\"tampered\": true}\n").unwrap();
    assert_eq!(ws.verify(&bad), 1, "the gate refuses the tampered model");
    let (code, out, err) = ws.deploy(&good, &[]);
    assert_eq!(code, 0, "{err}");
    assert!(out.contains("relying on the verification sha256:"), "{out}");
    ws.attach_all();
    let (code, report) = ws.audit_json(&[]);
    // The deployment record names the verification it relied on.
    let records = ws.records();
    let vsa = records
        .iter()
        .find(|r| {
            r["subject"]["digest"]["sha256"] == good.digest.as_str()
                && r["predicate"]["verificationResult"] == "PASSED"
        })
        .unwrap();
    let deployment = records
        .iter()
        .find(|r| r["predicateType"] == "https://modelseal.dev/evidence/deployment/v1")
        .unwrap();
    assert_eq!(
        deployment["predicate"]["verification"],
        format!("sha256:{}", vsa["digest"].as_str().unwrap())
    );
    let c7 = control(&report, 7);
    assert_eq!(c7["status"], "pass", "{report:#}");
    assert_eq!(c7["blocked"][0]["model"]["sha256"], bad.digest.as_str());
    assert_eq!(status(&report, 4), "pass", "{report:#}");
    assert_eq!(code, 0, "{report:#}");
}

#[test]
fn a_deployment_after_a_failed_verification_fails_the_audit() {
    let ws = Workspace::new();
    let model = ws.signed_model("m");
    assert_eq!(ws.verify(&model), 0);
    let passed = ws.records().last().unwrap()["digest"]
        .as_str()
        .unwrap()
        .to_string();
    let copy = ws.path("tampered-copy");
    copy_tree(&model.dir, &copy);
    fs::write(copy.join("config.json"), "{\"tampered\": true}\n").unwrap();
    assert_eq!(ws.verify_at(&model, &copy), 1);
    // Without --verification the deployment relies on the latest one: FAILED.
    let (code, _, err) = ws.deploy(&model, &[]);
    assert_eq!(code, 0, "the deployment is recorded all the same: {err}");
    assert!(err.contains("FAILED"), "{err}");
    ws.attach_all();
    let (code, report) = ws.audit_json(&[]);
    assert_eq!(code, 1);
    let c7 = control(&report, 7);
    assert_eq!(c7["status"], "fail");
    assert_eq!(c7["deployments"][0]["outcome"], "verification-failed");
    assert!(
        c7["reason"]
            .as_str()
            .unwrap()
            .contains("changed: config.json"),
        "{}",
        c7["reason"]
    );
    // Naming the earlier pass is refused: the failure superseded it.
    let (code, _, err) = ws.deploy(&model, &["--verification", &format!("sha256:{passed}")]);
    assert_eq!(code, 2, "{err}");
    assert!(err.contains("superseded"), "{err}");
    // Verified again, the model is deployed relying on the new pass; the
    // earlier deployment still fails the control.
    assert_eq!(ws.verify(&model), 0);
    let (code, _, err) = ws.deploy(&model, &[]);
    assert_eq!(code, 0, "{err}");
    let (code, report) = ws.audit_json(&[]);
    assert_eq!(code, 1);
    let outcomes: Vec<&str> = control(&report, 7)["deployments"]
        .as_array()
        .unwrap()
        .iter()
        .map(|d| d["outcome"].as_str().unwrap())
        .collect();
    assert_eq!(outcomes, ["verification-failed", "verified"]);
}

#[test]
fn deploy_refuses_a_verification_it_cannot_rely_on() {
    let ws = Workspace::new();
    let a = ws.signed_model("a");
    let b = ws.signed_model("b");
    assert_eq!(ws.verify(&b), 0);
    let records = ws.records();
    let of_b = records.last().unwrap()["digest"]
        .as_str()
        .unwrap()
        .to_string();
    let sign_a = records[0]["digest"].as_str().unwrap().to_string();
    for (given, why) in [
        (format!("sha256:{}", "ab".repeat(32)), "no record"),
        (format!("sha256:{of_b}"), "another model"),
        (format!("sha256:{sign_a}"), "not a verification"),
        ("sha256:xyz".to_string(), "not a SHA-256"),
    ] {
        let (code, _, err) = ws.deploy(&a, &["--verification", &given]);
        assert_eq!(code, 2, "{why}: {err}");
        assert!(err.contains(why), "{why}: {err}");
    }
    assert_eq!(ws.records().len(), records.len(), "nothing was recorded");
    // With no verification at all, the deployment is recorded with a warning.
    let (code, out, err) = ws.deploy(&a, &[]);
    assert_eq!(code, 0, "{err}");
    assert!(err.contains("no verification of this model"), "{err}");
    assert!(out.contains("with no verification to rely on"), "{out}");
}

#[test]
fn attach_refuses_what_an_auditor_cannot_rely_on() {
    let ws = Workspace::new();
    let tomorrow = day(1);
    let (ten_days_ago, forty_days_ago) = (day(-10), day(-40));
    for (control, extra, why) in [
        (4, vec!["--reviewer", "r"], "not from documents"),
        (7, vec!["--reviewer", "r"], "not from documents"),
        (9, vec!["--reviewer", "r"], "not in the checklist"),
        (
            1,
            vec!["--reviewer", "r", "--reviewed", tomorrow.as_str()],
            "in the future",
        ),
        (1, vec![], "--reviewer"),
        (1, vec!["--reviewer", "  "], "--reviewer"),
        (
            1,
            vec![
                "--reviewer",
                "r",
                "--reviewed",
                &ten_days_ago,
                "--next-review",
                &forty_days_ago,
            ],
            "not after the review date",
        ),
        (
            1,
            vec!["--reviewer", "r", "--model", "sha256:12"],
            "not a SHA-256",
        ),
    ] {
        let (code, _, err) = ws.attach(control, &extra);
        assert_eq!(code, 2, "{control} {extra:?}: {err}");
        assert!(err.contains(why), "{control} {extra:?}: {err}");
    }
    assert!(!ws.log.exists(), "nothing was recorded");
    // A checklist of another plan decides which controls take documents.
    let list = ws.path("checklist.toml");
    fs::write(
        &list,
        "title = 'mine'\n[[control]]\nid = 4\nsection = 's'\narea = 'Supplier contracts'\nobjective = 'o'\nprocedure = 'p'\ncriterion = 'c'\nrule = { evidence = 'attachment' }\n",
    )
    .unwrap();
    let (code, _, err) = ws.attach(
        4,
        &["--reviewer", "r", "--checklist", list.to_str().unwrap()],
    );
    assert_eq!(code, 0, "{err}");
}

#[test]
fn attach_records_the_version_the_next_review_and_the_model() {
    let ws = Workspace::new();
    let model = format!("sha256:{}", "c0".repeat(32));
    let (reviewed, a_year_on) = (day(-10), day(355));
    let (code, out, err) = ws.attach(
        6,
        &[
            "--reviewer",
            "Red team",
            "--reviewed",
            &reviewed,
            "--version",
            "report 2026-Q2",
            "--model",
            &model,
        ],
    );
    assert_eq!(code, 0, "{err}");
    assert!(
        out.contains(&format!("next review due {a_year_on}")),
        "{out}"
    );
    let (code, _, err) = ws.attach(
        1,
        &[
            "--reviewer",
            "CISO",
            "--reviewed",
            &reviewed,
            "--next-review",
            &day(5),
        ],
    );
    assert_eq!(code, 0, "{err}");
    let records = ws.records();
    let a = &records[0]["predicate"];
    assert_eq!(a["version"], "report 2026-Q2");
    assert_eq!(a["nextReview"], a_year_on.as_str(), "the control's max age");
    assert_eq!(a["model"], "c0".repeat(32));
    assert_eq!(a["reviewer"], "Red team");
    assert_eq!(records[1]["predicate"]["nextReview"], day(5).as_str());
    // The next review date is enforced: after it, the control fails.
    let (_, report) = ws.audit_json(&["--as-of", &day(5)]);
    assert_eq!(status(&report, 1), "recorded-not-rechecked");
    let (_, report) = ws.audit_json(&["--as-of", &day(6)]);
    assert_eq!(status(&report, 1), "fail");
    assert_eq!(
        control(&report, 1)["documents"][0]["outcome"],
        "review-overdue"
    );
}

#[test]
fn an_audit_date_counts_the_whole_of_that_day() {
    // Before: `--as-of DATE` meant midnight, so a document attached that
    // day did not count.
    let ws = Workspace::new();
    let (code, _, err) = ws.attach(1, &["--reviewer", "r"]);
    assert_eq!(code, 0, "{err}");
    let (_, report) = ws.audit_json(&["--as-of", &day(0)]);
    assert_eq!(status(&report, 1), "recorded-not-rechecked", "{report:#}");
    assert_eq!(report["as_of"]["whole_day"], true);
}

#[test]
fn no_evidence_fails_the_audit_and_a_not_applicable_control_needs_a_reason() {
    let ws = Workspace::new();
    let model = ws.signed_model("m");
    assert_eq!(ws.verify(&model), 0);
    let (code, out, _) = ws.deploy(&model, &[]);
    assert_eq!(code, 0, "{out}");
    let (code, report) = ws.audit_json(&[]);
    assert_eq!(status(&report, 7), "pass");
    assert_eq!(status(&report, 1), "no-evidence");
    assert_eq!(
        code, 1,
        "a required control without evidence fails the audit"
    );
    let list = ws.path("trimmed.toml");
    let shipped = modelseal::audit::DEFAULT_CHECKLIST;
    let mut trimmed = shipped.to_string();
    for id in [1, 2, 3, 5, 6, 8] {
        trimmed = trimmed.replacen(
            &format!("id = {id}\n"),
            &format!("id = {id}\nnot_applicable = \"\"\n"),
            1,
        );
    }
    fs::write(&list, &trimmed).unwrap();
    let (code, _, err) = run(ws.cmd().args(["audit", "--checklist"]).arg(&list));
    assert_eq!(code, 2, "{err}");
    assert!(err.contains("needs a justification"), "{err}");
    let justified = trimmed.replace(
        "not_applicable = \"\"",
        "not_applicable = \"Out of scope for this engagement\"",
    );
    fs::write(&list, &justified).unwrap();
    let (code, report) = ws.audit_json(&["--checklist", list.to_str().unwrap()]);
    assert_eq!(code, 0, "{report:#}");
    let digest = hex::encode(<sha2::Sha256 as sha2::Digest>::digest(justified.as_bytes()));
    assert_eq!(report["checklist"]["sha256"], digest);
    assert_eq!(
        report["checklist"]["not_applicable"]
            .as_array()
            .unwrap()
            .len(),
        6
    );
    // Every other format shows the trimmed checklist too.
    for format in ["human", "markdown", "html", "oscal"] {
        let (code, out, _) = ws.audit(format, &["--checklist", list.to_str().unwrap()]);
        assert_eq!(code, 0);
        assert!(out.contains(&digest), "{format}");
        assert!(out.contains("Out of scope for this engagement"), "{format}");
    }
}

#[test]
fn every_format_prints_the_checkpoint_relied_on_in_full() {
    let ws = Workspace::new();
    let model = ws.signed_model("m");
    assert_eq!(ws.verify(&model), 0);
    let (code, out, err) = run(ws.cmd().args(["--format", "json", "evidence", "verify"]));
    assert_eq!(code, 0, "{out}{err}");
    let verified: Value = serde_json::from_str(&out).unwrap();
    let cp = &verified["checkpoint"];
    let (origin, root) = (cp["origin"].as_str().unwrap(), cp["root"].as_str().unwrap());
    for format in ["human", "json", "markdown", "oscal", "html"] {
        let (_, out, _) = ws.audit(format, &[]);
        assert!(out.contains(origin), "{format}: origin");
        assert!(out.contains(root), "{format}: root");
        assert!(
            out.contains(&model.digest),
            "{format}: the model's full digest"
        );
        // HTML shortens digests for reading, the full value kept (in the
        // element's title and the records table); the others never do.
        if format != "html" {
            assert!(!out.contains('…'), "{format}: nothing shortened");
        }
    }
    let (_, report) = ws.audit_json(&[]);
    assert_eq!(report["log"]["checkpoint"]["size"], cp["size"]);
}

#[test]
fn hostile_file_names_are_escaped_in_every_report() {
    let ws = Workspace::new();
    let name = "evil|doc\n| 1 | AI Risk Management Policy | yes | **pass** |\n\u{1b}[2J<b>x.md";
    let doc = ws.path(name);
    fs::write(&doc, "policy").unwrap();
    let (code, _, err) = run(ws
        .cmd()
        .args([
            "evidence",
            "attach",
            "--control",
            "1",
            "--reviewer",
            "r\u{1b}[31m",
        ])
        .arg("--file")
        .arg(&doc));
    assert_eq!(code, 0, "{err}");
    let (_, md, _) = ws.audit("markdown", &[]);
    assert_eq!(
        md.lines()
            .filter(|l| l.starts_with("| 1 | AI Risk Management Policy"))
            .count(),
        1,
        "{md}"
    );
    for format in ["human", "markdown", "html"] {
        let (_, out, _) = ws.audit(format, &[]);
        assert!(!out.contains('\u{1b}'), "{format}");
        if format != "human" {
            assert!(!out.contains("<b>x"), "{format}: markup from a file name");
        }
    }
    // The terminal output of `evidence attach` is escaped too.
    let (_, out, _) = run(ws
        .cmd()
        .args(["evidence", "attach", "--control", "2", "--reviewer", "r"])
        .arg("--file")
        .arg(&doc));
    assert!(!out.contains('\u{1b}') && out.lines().count() == 1, "{out}");
}

#[test]
fn test_clock_dates_records_and_every_record_and_report_made_under_it_says_so() {
    let ws = Workspace::new();
    let (code, _, err) = ws.attach(1, &["--reviewer", "r"]);
    assert_eq!(code, 0, "{err}");
    assert!(
        err.contains("MODELSEAL_TEST_NOW is set: the evidence record is dated"),
        "{err}"
    );
    let records = ws.records();
    let predicate = &records[0]["predicate"];
    // The review date defaults to the test clock's day, and the record's
    // time is the test clock's.
    assert_eq!(predicate["reviewed"], day(0).as_str(), "{predicate}");
    assert_eq!(
        predicate["recordedAt"],
        test_now().to_string().as_str(),
        "{predicate}"
    );
    assert_eq!(records[0]["timeSource"], "test", "{}", records[0]);
    // The mark is in the signed statement itself.
    let line: Value =
        serde_json::from_str(fs::read_to_string(&ws.log).unwrap().lines().next().unwrap()).unwrap();
    let payload = base64::Engine::decode(
        &base64::engine::general_purpose::STANDARD,
        line["payload"].as_str().unwrap(),
    )
    .unwrap();
    let statement: Value = serde_json::from_slice(&payload).unwrap();
    assert_eq!(statement["predicate"]["timeSource"], "test", "{statement}");

    // An audit under the test clock says so, in every format.
    let (_, report) = ws.audit_json(&[]);
    assert_eq!(report["test_clock"]["audit"], true, "{report}");
    assert_eq!(report["test_clock"]["records"], 1, "{report}");
    let (_, human, err) = ws.audit("human", &[]);
    assert!(human.contains("TEST CLOCK"), "{human}");
    assert!(err.contains("the audit report is dated"), "{err}");
    let (_, markdown, _) = ws.audit("markdown", &[]);
    assert!(markdown.contains("TEST CLOCK"), "{markdown}");
    let (_, oscal, _) = ws.audit("oscal", &[]);
    assert!(oscal.contains("\"test-clock\""), "{oscal}");
    // Under the system clock, an audit that counts such a record still
    // says so.
    let (code, out, err) =
        run(ws
            .cmd()
            .env_remove(TEST_NOW)
            .args(["--format", "json", "audit", "--as-of", &day(1)]));
    assert!(code == 0 || code == 1, "{err}");
    assert!(!err.contains("MODELSEAL_TEST_NOW"), "{err}");
    let report: Value = serde_json::from_str(&out).unwrap();
    assert_eq!(report["test_clock"]["audit"], false, "{report}");
    assert_eq!(report["test_clock"]["records"], 1, "{report}");
    // ...and fails: evidence dated by a test clock is no evidence.
    assert_eq!(code, 1, "{report}");
    let (code, human, _) = run(ws
        .cmd()
        .env_remove(TEST_NOW)
        .args(["audit", "--as-of", &day(1)]));
    assert_eq!(code, 1);
    assert!(
        human.contains("1 counted record was made under a test clock"),
        "{human}"
    );

    // A test clock that cannot be read is unusable input, never the
    // system clock instead.
    for bad in ["yesterday", "2027-13-01", "", "2027-06-01 12:00:00Z"] {
        let (code, _, err) = run(ws.cmd().env(TEST_NOW, bad).args(["evidence", "list"]));
        assert_eq!(code, 2, "{bad:?}: {err}");
        assert!(err.contains("MODELSEAL_TEST_NOW"), "{bad:?}: {err}");
    }
}

#[test]
fn an_empty_document_is_no_evidence_of_a_review() {
    let ws = Workspace::new();
    let empty = ws.path("policy.md");
    fs::write(&empty, "").unwrap();
    let (code, _, err) = run(ws
        .cmd()
        .args([
            "evidence",
            "attach",
            "--control",
            "8",
            "--reviewer",
            "r",
            "--file",
        ])
        .arg(&empty));
    assert_eq!(code, 2, "{err}");
    assert!(err.contains("the document is empty"), "{err}");
    assert!(!ws.log.exists(), "nothing was recorded");
}

#[test]
fn an_audit_of_a_model_the_log_does_not_hold_is_refused() {
    let ws = Workspace::new();
    let good = ws.signed_model("good");
    assert_eq!(ws.verify(&good), 0);
    let (code, _, err) = run(ws
        .cmd()
        .args(["audit", "--model"])
        .arg(format!("sha256:{}", "0".repeat(64))));
    assert_eq!(code, 2, "{err}");
    assert!(
        err.contains("no record in the evidence log is about this model"),
        "{err}"
    );
    // The model it does hold is audited (exit 0 or 1, a report).
    let (code, out, err) = run(ws
        .cmd()
        .args(["--format", "json", "audit", "--model"])
        .arg(format!("sha256:{}", good.digest)));
    assert!(code == 0 || code == 1, "{err}");
    assert!(out.contains(&good.digest), "{out}");
}

/// A report re-run as of its date with the checkpoint kept then is the
/// report that was issued, whatever was appended since and however it was
/// dated; a record dated back along the log is a time finding.
#[test]
fn a_backdated_record_does_not_change_a_past_report_and_is_flagged() {
    let ws = Workspace::new();
    let model = ws.signed_model("m");
    assert_eq!(ws.verify(&model), 0);
    let (code, _, err) = ws.deploy(&model, &[]);
    assert_eq!(code, 0, "{err}");
    for id in [1, 2, 3, 6, 8] {
        let (code, _, err) = ws.attach(id, &["--reviewer", "Security lead"]);
        assert_eq!(code, 0, "{err}");
    }
    let (_, issued) = ws.audit_json(&["--as-of", &day(0)]);
    assert_ne!(status(&issued, 5), "pass", "{issued:#}");
    let kept = ws.path("q1.checkpoint");
    std::fs::copy(ws.path("evidence.jsonl.checkpoint"), &kept).unwrap();
    let at = |days: i64| format!("{}T12:00:00Z", day(days));
    // October: an ordinary record. December: one written with the
    // writer's clock set back to before the report.
    let (code, _, err) = run(ws
        .cmd()
        .env(TEST_NOW, at(200))
        .args([
            "evidence",
            "attach",
            "--control",
            "1",
            "--reviewer",
            "lead",
            "--file",
        ])
        .arg(ws.path("control-1.md")));
    assert_eq!(code, 0, "{err}");
    let doc = ws.path("control-5.md");
    std::fs::write(&doc, "# incident response\n").unwrap();
    let (code, _, err) = run(ws
        .cmd()
        .env(TEST_NOW, at(-30))
        .args([
            "evidence",
            "attach",
            "--control",
            "5",
            "--reviewer",
            "lead",
            "--file",
        ])
        .arg(&doc));
    assert_eq!(code, 0, "{err}");

    let later = |args: &[&str]| {
        let (code, out, err) = run(ws
            .cmd()
            .env(TEST_NOW, at(260))
            .args(["--format", "json", "audit"])
            .args(args));
        let report: Value = serde_json::from_str(&out).unwrap_or_else(|e| panic!("{e}: {err}"));
        (code, report)
    };
    let kept_arg = kept.to_str().unwrap();
    let (_, rerun) = later(&["--as-of", &day(0), "--checkpoint", kept_arg]);
    assert_eq!(status(&rerun, 5), status(&issued, 5), "{rerun:#}");
    assert_eq!(rerun["log"]["kept"], issued["log"]["records"]);
    for id in 1..=8 {
        assert_eq!(status(&rerun, id), status(&issued, id), "control {id}");
    }
    // Without the kept checkpoint the backdated record is counted, and
    // flagged: the audit fails on it.
    let (code, report) = later(&["--as-of", &day(0)]);
    assert_eq!(code, 1);
    let findings = report["log"]["time_findings"].as_array().unwrap();
    assert!(
        findings
            .iter()
            .any(|f| f.as_str().unwrap().contains("times go backwards")),
        "{report:#}"
    );
    // evidence verify says so too (exit 1), though every record is intact.
    let (code, out, err) = run(ws
        .cmd()
        .env(TEST_NOW, at(260))
        .args(["evidence", "verify", "--evidence-key"])
        .arg(ws.path("evidence.pub.pem")));
    assert_eq!(code, 1, "{out}{err}");
    assert!(
        out.contains("intact") && out.contains("times go backwards"),
        "{out}"
    );
}

/// Putting back the checkpoint from one record ago makes the last record a
/// pending repair; the audit still counts it, so it cannot be hidden.
#[test]
fn a_checkpoint_put_back_by_one_record_does_not_hide_that_record_from_the_audit() {
    let ws = Workspace::new();
    let good = ws.signed_model("good");
    let bad = ws.signed_model("bad");
    assert_eq!(ws.verify(&good), 0);
    let (code, _, err) = ws.deploy(&good, &[]);
    assert_eq!(code, 0, "{err}");
    let checkpoint = ws.path("evidence.jsonl.checkpoint");
    let before = fs::read(&checkpoint).unwrap();
    fs::write(bad.dir.join("config.json"), "{\"tampered\": true}\n").unwrap();
    assert_eq!(ws.verify(&bad), 1);
    fs::write(&checkpoint, before).unwrap();
    let (_, report) = ws.audit_json(&[]);
    assert!(
        report["log"]["repairs"][0]
            .as_str()
            .is_some_and(|r| r.contains("beyond the checkpoint")),
        "{:#}",
        report["log"]
    );
    let blocked = &control(&report, 7)["blocked"];
    assert_eq!(
        blocked[0]["model"]["sha256"],
        bad.digest.as_str(),
        "{report:#}"
    );
}

/// One record numbering: the JSON report, `evidence list` and the
/// messages all count records from 1.
#[test]
fn every_output_numbers_records_from_one() {
    let ws = Workspace::new();
    let model = ws.signed_model("m");
    assert_eq!(ws.verify(&model), 0);
    let (code, _, err) = ws.deploy(&model, &[]);
    assert_eq!(code, 0, "{err}");
    let records = ws.records();
    let numbers: Vec<u64> = records
        .iter()
        .map(|r| r["number"].as_u64().unwrap())
        .collect();
    assert_eq!(numbers, (1..=records.len() as u64).collect::<Vec<_>>());
    let (_, report) = ws.audit_json(&[]);
    let d = &control(&report, 7)["deployments"][0];
    let listed = records.iter().find(|r| r["digest"] == d["record"]).unwrap();
    assert_eq!(d["number"], listed["number"], "{d:#}");
}

/// A declared audit: a period (deployments before it are context, not
/// judged), the assessor, the scope, when and by which binary the report
/// was generated; the report written to a file and signed beside it, and
/// checked with `verify-bundle`.
#[test]
fn a_declared_audit_names_its_period_and_assessor_and_can_be_signed() {
    let ws = Workspace::new();
    let model = ws.signed_model("m");
    let at = |days: i64| format!("{}T12:00:00Z", day(days));
    let verify_at = |dir: &Path, days: i64| {
        run(
            demo_verify_args(ws.cmd().env(TEST_NOW, at(days)), dir, &model.sig)
                .arg("--bom")
                .arg(&model.bom)
                .arg("--policy")
                .arg(demo_policy(ws.tmp.path())),
        )
        .0
    };
    let deploy_at = |days: i64| {
        run(ws
            .cmd()
            .env(TEST_NOW, at(days))
            .args([
                "evidence", "deploy", "--name", "m", "--target", "prod", "--model",
            ])
            .arg(format!("sha256:{}", model.digest)))
    };
    // Day 0: a tampered copy fails, and the model is deployed all the same.
    let copy = ws.path("tampered-copy");
    copy_tree(&model.dir, &copy);
    fs::write(copy.join("config.json"), "{\"tampered\": true}\n").unwrap();
    assert_eq!(verify_at(&copy, 0), 1);
    assert_eq!(deploy_at(0).0, 0);
    // Day 10: verified and deployed properly, the documents attached.
    assert_eq!(verify_at(&model.dir, 10), 0);
    assert_eq!(deploy_at(10).0, 0);
    for id in [1, 2, 3, 5, 6, 8] {
        let doc = ws.path(&format!("control-{id}.md"));
        fs::write(&doc, format!("# Document for control {id}\n")).unwrap();
        let (code, _, err) = run(ws
            .cmd()
            .env(TEST_NOW, at(10))
            .args(["evidence", "attach", "--control", &id.to_string()])
            .args(["--reviewer", "Security lead", "--file"])
            .arg(&doc));
        assert_eq!(code, 0, "{err}");
    }
    let audit = |args: &[&str]| {
        let (code, out, err) = run(ws
            .cmd()
            .env(TEST_NOW, at(12))
            .args(["--format", "json", "audit"])
            .args(args));
        let v: Value = serde_json::from_str(&out).unwrap_or_else(|e| panic!("{e}: {out}{err}"));
        (code, v)
    };
    let (code, whole) = audit(&["--as-of", &day(11)]);
    assert_eq!((code, status(&whole, 7)), (1, "fail".into()), "{whole:#}");
    let period = format!("{}..{}", day(5), day(11));
    let (code, declared) = audit(&[
        "--period",
        &period,
        "--assessor",
        "A. Assessor <assessor@example.org>",
        "--scope",
        "Production models, Q4",
    ]);
    // The day-0 deployment is outside the period: only day 10's is judged.
    assert_eq!(status(&declared, 7), "pass", "{declared:#}");
    assert_eq!(
        control(&declared, 7)["deployments"]
            .as_array()
            .unwrap()
            .len(),
        1
    );
    assert_eq!(code, 0, "{declared:#}");
    let d = &declared["declaration"];
    assert_eq!(d["period"]["from"], format!("{}T00:00:00Z", day(5)));
    assert_eq!(d["assessor"], "A. Assessor <assessor@example.org>");
    assert_eq!(d["scope"], "Production models, Q4");
    // Generated at the caller's clock, apart from the cutoff.
    assert_eq!(d["generated_at"], at(12));
    assert_eq!(
        declared["as_of"]["cutoff"],
        format!("{}T23:59:59.999999999Z", day(11))
    );
    assert_eq!(d["executable_sha256"].as_str().unwrap().len(), 64, "{d}");
    for (bad, expect) in [
        (format!("{}..{}", day(11), day(5)), "ends before it starts"),
        ("2026-01-01".to_string(), "FROM..TO"),
    ] {
        let (code, _, err) = run(ws.cmd().args(["audit", "--period", &bad]));
        assert_eq!(code, 2, "{bad}: {err}");
        assert!(err.contains(expect), "{bad}: {err}");
    }
    // OSCAL: the assessor is the responsible party; last-modified is the
    // generation time, the result ends at the cutoff.
    let (_, oscal, err) = run(ws.cmd().env(TEST_NOW, at(12)).args([
        "--format",
        "oscal",
        "audit",
        "--period",
        &period,
        "--assessor",
        "A. Assessor",
    ]));
    let o: Value = serde_json::from_str(&oscal).unwrap_or_else(|e| panic!("{e}: {err}"));
    let meta = &o["assessment-results"]["metadata"];
    assert_eq!(meta["parties"][0]["name"], "A. Assessor", "{meta}");
    assert_eq!(meta["responsible-parties"][0]["role-id"], "assessor");
    assert_eq!(
        meta["responsible-parties"][0]["party-uuids"][0],
        meta["parties"][0]["uuid"]
    );
    assert_eq!(meta["last-modified"], at(12));
    let result = &o["assessment-results"]["results"][0];
    assert_eq!(result["start"], format!("{}T00:00:00Z", day(5)));
    // Signed: the report and its signature appear together, and
    // verify-bundle checks the report against the assessor's key.
    let auditor = ws.path("auditor");
    assert_eq!(
        run(modelseal().arg("keygen").arg("--out").arg(&auditor)).0,
        0
    );
    let report = ws.path("report.json");
    let (code, out, err) = run(ws
        .cmd()
        .env(TEST_NOW, at(12))
        .args(["--format", "json", "audit", "--period", &period, "--out"])
        .arg(&report)
        .arg("--sign")
        .arg(ws.path("auditor.priv.pem")));
    assert_eq!(code, 0, "{out}{err}");
    assert!(out.contains("signed: "), "{out}");
    let written: Value = serde_json::from_slice(&fs::read(&report).unwrap()).unwrap();
    assert_eq!(
        written["declaration"]["period"],
        declared["declaration"]["period"]
    );
    let check = |file: &Path| {
        run(modelseal()
            .arg("verify-bundle")
            .arg(file)
            .arg("--bundle")
            .arg(ws.path("report.json.sig"))
            .arg("--key")
            .arg(ws.path("auditor.pub.pem"))
            .arg("--insecure-ignore-tlog"))
    };
    let (code, out, err) = check(&report);
    assert_eq!(code, 0, "{out}{err}");
    let edited = ws.path("edited.json");
    fs::write(
        &edited,
        fs::read_to_string(&report)
            .unwrap()
            .replacen("\"pass\"", "\"fail\"", 1),
    )
    .unwrap();
    let (code, out, _) = check(&edited);
    assert_eq!(code, 1, "{out}");
    // --sign needs --out.
    let (code, _, _) = run(ws
        .cmd()
        .args(["audit", "--sign"])
        .arg(ws.path("auditor.priv.pem")));
    assert_eq!(code, 2);
}

/// An export carries the bundles, BOMs and policies its records name, by
/// content, so an auditor redoes a sampled verification offline with the
/// very bytes the record digested; a file changed since it was recorded
/// is named, not copied.
#[test]
fn an_export_carries_the_bundles_boms_and_policies_its_records_name() {
    let ws = Workspace::new();
    let model = ws.signed_model("m");
    let other = ws.signed_model("n");
    assert_eq!(ws.verify(&model), 0);
    // Replaced after it was recorded.
    fs::write(&other.sig, b"{}").unwrap();
    let out_dir = ws.path("for-auditor");
    let (code, out, err) = run(ws
        .cmd()
        .args(["--format", "json", "evidence", "export", "--out"])
        .arg(&out_dir));
    assert_eq!(code, 0, "{out}{err}");
    let v: Value = serde_json::from_str(&out).unwrap();
    let sha = file_sha256;
    let inputs = v["inputs"].as_array().unwrap();
    let find = |p: &Path| {
        inputs
            .iter()
            .find(|i| i["uri"] == p.to_str().unwrap())
            .unwrap_or_else(|| panic!("{} not among {inputs:?}", p.display()))
    };
    for file in [&model.sig, &model.bom, &demo_policy(ws.tmp.path())] {
        let i = find(file);
        assert_eq!(i["outcome"], "copied", "{i}");
        let copied = out_dir.join(i["path"].as_str().unwrap());
        assert_eq!(fs::read(&copied).unwrap(), fs::read(file).unwrap());
        assert_eq!(i["sha256"], sha(file));
    }
    // The signature and the verification name the bundle: copied once,
    // both records listed.
    assert_eq!(find(&model.sig)["records"].as_array().unwrap().len(), 2);
    let changed = find(&other.sig);
    assert_eq!(changed["outcome"], "changed", "{changed}");
    assert_eq!(changed["found"], sha(&other.sig));
    let index: Value =
        serde_json::from_slice(&fs::read(out_dir.join("inputs.json")).unwrap()).unwrap();
    assert_eq!(index.as_array().unwrap().len(), inputs.len());
    // Redone offline from the export alone (and the key the auditor got
    // from its owner).
    let bundle = out_dir.join(find(&model.sig)["path"].as_str().unwrap());
    let (code, out, err) = run(demo_verify_args(&mut modelseal(), &model.dir, &bundle));
    assert_eq!(code, 0, "{out}{err}");
}

/// A report never lands on the log it audits, the files beside it or the
/// key that signs it; and a declared period must have ended.
#[test]
fn a_report_is_never_written_over_the_log_or_the_key_and_a_period_must_have_ended() {
    let ws = Workspace::new();
    let model = ws.signed_model("m");
    assert_eq!(ws.verify(&model), 0);
    let log = fs::read(&ws.log).unwrap();
    let auditor = ws.path("auditor");
    assert_eq!(
        run(modelseal().arg("keygen").arg("--out").arg(&auditor)).0,
        0
    );
    let key = ws.path("auditor.priv.pem");
    let checkpoint = ws.path("evidence.jsonl.checkpoint");
    let before = fs::read(&checkpoint).unwrap();
    // The log's own name, the checkpoint, a name whose .sig is the
    // checkpoint's neighbour, and the key.
    for out in [
        ws.log.clone(),
        checkpoint.clone(),
        ws.path("evidence.jsonl.lock"),
        key.clone(),
    ] {
        let (code, _, err) = run(ws
            .cmd()
            .args(["--format", "json", "audit", "--out"])
            .arg(&out)
            .arg("--sign")
            .arg(&key));
        assert_eq!(code, 2, "{}: {err}", out.display());
        assert!(err.contains("write the report elsewhere"), "{err}");
    }
    assert_eq!(fs::read(&ws.log).unwrap(), log, "the log is untouched");
    assert_eq!(fs::read(&checkpoint).unwrap(), before);
    // A period that ends after the audit's clock.
    let (code, _, err) =
        run(ws
            .cmd()
            .args(["audit", "--period", &format!("{}..{}", day(-5), day(30))]));
    assert_eq!(code, 2, "{err}");
    assert!(err.contains("ends after now"), "{err}");
}
