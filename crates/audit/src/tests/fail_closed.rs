//! The audit fails unless every required, applicable control passes, and
//! a checklist cannot be trimmed without showing it.

use super::*;

/// A log in which every control of the shipped checklist passes.
pub(super) fn passing_log() -> Log {
    let mut log = Log::new();
    log.sign(1, Some(&[]));
    let v = log.verify(1, true);
    log.deploy_relying_on(1, Some(&v));
    log.attach_all(RECENT);
    log
}

#[test]
fn every_control_passing_passes_the_audit() {
    let report = audit(&passing_log());
    for c in &report.controls {
        // Document controls pass on their records, not re-checked without
        // the documents: the audit passes all the same.
        let expected = if c.control.is_document_control() {
            Status::RecordedNotRechecked
        } else {
            Status::Pass
        };
        assert_eq!(c.status, expected, "{}: {}", c.control.id, c.reason);
    }
    assert!(!report.failed());
}

#[test]
fn one_required_control_without_evidence_fails_the_audit() {
    let mut log = Log::new();
    log.sign(1, Some(&[]));
    let v = log.verify(1, true);
    log.deploy_relying_on(1, Some(&v));
    for id in [1, 2, 3, 5, 6] {
        log.attach(id, RECENT, |_| {});
    }
    let report = audit(&log);
    assert_eq!(control(&report, 8).status, Status::NoEvidence);
    assert!(report.failed(), "no evidence is not a pass");
    // Unless the checklist does not require it (and says so).
    let optional = checklist(|t| {
        let at = t.find("id = 8").unwrap();
        let (head, tail) = t.split_at(at);
        format!(
            "{head}{}",
            tail.replacen("required = true", "required = false", 1)
        )
    });
    let report = audit_with(&log, &optional, |_| {});
    assert!(!report.failed());
    assert_eq!(report.checklist.optional, [8]);
}

#[test]
fn a_not_applicable_control_is_not_judged_and_is_listed_with_its_justification() {
    let mut log = passing_log();
    log.records
        .retain(|r| !matches!(&r.predicate, Predicate::Attachment(a) if a.control == 5));
    let list = checklist(|t| {
        t.replacen(
            "id = 5\n",
            "id = 5\nnot_applicable = \"Batch scoring only: no model takes user input.\"\n",
            1,
        )
    });
    assert_ne!(list.sha256, Checklist::default_list().sha256);
    let report = audit_with(&log, &list, |_| {});
    assert_eq!(control(&report, 5).status, Status::NotApplicable);
    assert!(!report.failed());
    let [na] = report.checklist.not_applicable.as_slice() else {
        panic!("{:?}", report.checklist)
    };
    assert_eq!(na.id, 5);
    assert!(na.justification.starts_with("Batch scoring"));
    assert_eq!(report.checklist.sha256, list.sha256);
}

#[test]
fn a_broken_log_fails_every_applicable_control() {
    let log = passing_log();
    let mut check = log.check();
    check
        .problems
        .push(crate::evidence::LogProblem::Unreadable {
            record: 3,
            why: crate::evidence::record::RecordError::BadSignature,
        });
    let list = Checklist::default_list();
    let input = AuditInput::new(
        &list,
        &check,
        "evidence.jsonl",
        AsOf::at(at(1000)),
        crate::clock::TimeSource::System,
    );
    let report = evaluate(&input);
    assert!(report.failed());
    for c in &report.controls {
        assert_eq!(c.status, Status::Fail);
        assert!(c.reason.contains("does not verify"), "{}", c.reason);
    }
}

#[test]
fn records_after_the_audit_date_are_not_counted() {
    let log = passing_log();
    let list = Checklist::default_list();
    let report = audit_with(&log, &list, |i| i.as_of = AsOf::at(at(2)));
    assert_eq!(report.log.counted, 3);
    assert_eq!(report.log.records, log.records.len());
    assert_eq!(control(&report, 1).status, Status::NoEvidence);
    assert_eq!(control(&report, 7).status, Status::Pass);
}

#[test]
fn the_report_keeps_the_checkpoint_relied_on() {
    let report = audit(&passing_log());
    let cp = report.log.checkpoint.as_ref().unwrap();
    assert_eq!(cp.origin, "modelseal.test/log/0123");
    assert_eq!(cp.size, 9);
    assert_eq!(cp.root, "07".repeat(32));
}
