//! Document controls: current reviews, model scope, and re-hashing the
//! documents the auditor was given.

use super::*;
use report::DocumentOutcome;

fn outcome(report: &AuditReport, id: u32) -> DocumentOutcome {
    control(report, id).documents[0].outcome.clone()
}

#[test]
fn a_reviewed_document_passes_and_shows_its_version_and_next_review() {
    let mut log = Log::new();
    log.attach(1, RECENT, |a| a.version = Some("policy v3".into()));
    let report = audit(&log);
    let c1 = control(&report, 1);
    // Without the documents to re-hash: recorded, not re-checked.
    assert_eq!(c1.status, Status::RecordedNotRechecked);
    assert!(
        c1.reason.contains("recorded, not re-checked"),
        "{}",
        c1.reason
    );
    let d = &c1.documents[0];
    assert_eq!(d.version.as_deref(), Some("policy v3"));
    assert_eq!(
        d.next_review.unwrap().to_string(),
        "2027-05-01",
        "derived from max_age_days"
    );
    assert!(!d.rehashed);
    assert_eq!(control(&report, 2).status, Status::NoEvidence);
}

#[test]
fn a_stale_overdue_unreviewed_or_future_review_fails() {
    let mut log = Log::new();
    log.attach(1, "2025-01-01", |_| {});
    log.attach(2, RECENT, |a| {
        a.next_review = Some("2026-05-20".parse().unwrap())
    });
    log.attach(3, RECENT, |a| a.reviewer = None);
    log.attach(5, "2026-06-30", |_| {}); // after it was recorded (0.1.0 allowed it)
    log.attach(8, RECENT, |a| a.document.size = 0); // an earlier release allowed it
    let report = audit(&log);
    assert!(matches!(
        outcome(&report, 1),
        DocumentOutcome::TooOld { max_days: 365, .. }
    ));
    assert_eq!(outcome(&report, 2), DocumentOutcome::ReviewOverdue);
    assert_eq!(outcome(&report, 3), DocumentOutcome::NoReviewer);
    assert_eq!(outcome(&report, 5), DocumentOutcome::ReviewedInTheFuture);
    assert_eq!(outcome(&report, 8), DocumentOutcome::Empty);
    for id in [1, 2, 3, 5, 8] {
        assert_eq!(control(&report, id).status, Status::Fail, "{id}");
    }
}

#[test]
fn a_document_scoped_to_a_model_speaks_for_that_model_only() {
    let mut log = Log::new();
    log.verify(1, true);
    log.deploy(1);
    log.verify(2, true);
    log.deploy(2);
    log.attach(6, RECENT, |a| a.model = Some(model(1).sha256.to_string()));
    // Auditing model 1: its robustness report is there.
    let one = audit_with(&log, &Checklist::default_list(), |i| {
        i.model = Some(format!("sha256:{}", model(1).sha256));
    });
    assert_eq!(control(&one, 6).status, Status::RecordedNotRechecked);
    // The same model named in capitals, and a model only a document
    // names: read as the lowercase hex records and scopes are written in.
    let shouted = audit_with(&log, &Checklist::default_list(), |i| {
        i.model = Some(format!("sha256:{}", model(1).sha256.to_uppercase()));
    });
    assert_eq!(control(&shouted, 6).status, Status::RecordedNotRechecked);
    assert_eq!(shouted.model.as_deref(), Some(&*model(1).sha256));
    let mut scoped_only = Log::new();
    scoped_only.attach(6, RECENT, |a| a.model = Some(model(3).sha256.to_string()));
    let report = audit_with(&scoped_only, &Checklist::default_list(), |i| {
        i.model = Some(model(3).sha256.to_uppercase());
    });
    assert_eq!(report.model.as_deref(), Some(&*model(3).sha256));
    assert_eq!(
        control(&report, 6).documents.len(),
        1,
        "its document is found"
    );
    // Auditing model 2: none speaks for it.
    let two = audit_with(&log, &Checklist::default_list(), |i| {
        i.model = Some(model(2).sha256.to_string());
    });
    assert_eq!(control(&two, 6).status, Status::NoEvidence);
    // Auditing every model: model 2 lacks one, and the control says so
    // with the status model 2's own audit gives (one status for one
    // situation), which fails the audit as surely.
    let all = audit(&log);
    let c6 = control(&all, 6);
    assert_eq!(c6.status, Status::NoEvidence);
    assert!(all.failed());
    assert!(
        c6.reason.contains("no reviewed document speaks for"),
        "{}",
        c6.reason
    );
    assert_eq!(c6.without_document[0].sha256, &*model(2).sha256);
    assert_eq!(c6.documents[0].models[0].sha256, &*model(1).sha256);
    // An organisation-wide document, reviewed later, speaks for both.
    log.attach(6, "2026-05-10", |_| {});
    let all = audit(&log);
    assert_eq!(
        control(&all, 6).status,
        Status::RecordedNotRechecked,
        "{:#?}",
        control(&all, 6)
    );
}

#[test]
fn the_documents_given_are_rehashed_and_a_changed_or_missing_one_fails() {
    let mut log = Log::new();
    log.attach_all(RECENT);
    log.attach(8, RECENT, |a| a.document.name = "../control-8.md".into());
    let dir = tempfile::tempdir().unwrap();
    for id in [1, 2, 3, 5] {
        std::fs::write(
            dir.path().join(format!("control-{id}.md")),
            document_body(id),
        )
        .unwrap();
    }
    std::fs::write(dir.path().join("control-6.md"), "edited after the review").unwrap();
    std::fs::write(dir.path().join("..control-8.md"), document_body(8)).unwrap();
    let report = audit_with(&log, &Checklist::default_list(), |i| {
        i.documents = Some(dir.path().to_path_buf());
    });
    for id in [1, 2, 3, 5] {
        assert_eq!(control(&report, id).status, Status::Pass, "{id}");
        assert!(control(&report, id).documents[0].rehashed);
    }
    assert!(matches!(
        outcome(&report, 6),
        DocumentOutcome::Changed { .. }
    ));
    assert!(
        matches!(outcome(&report, 8), DocumentOutcome::Unreadable { ref why } if why.contains("not a plain file name")),
        "a recorded name with a path is never looked up: {:?}",
        outcome(&report, 8)
    );
    std::fs::remove_file(dir.path().join("control-1.md")).unwrap();
    let report = audit_with(&log, &Checklist::default_list(), |i| {
        i.documents = Some(dir.path().to_path_buf());
    });
    assert_eq!(outcome(&report, 1), DocumentOutcome::Missing);
    assert_eq!(control(&report, 1).status, Status::Fail);
}

#[test]
fn an_audit_date_counts_the_whole_of_that_day() {
    let mut log = Log::new();
    log.attach(1, RECENT, |_| {}); // recorded 2026-05-28T20:26:40Z
    let list = Checklist::default_list();
    let that_day = audit_with(&log, &list, |i| {
        i.as_of = AsOf::parse("2026-05-28").unwrap()
    });
    assert_eq!(control(&that_day, 1).status, Status::RecordedNotRechecked);
    let day_before = audit_with(&log, &list, |i| {
        i.as_of = AsOf::parse("2026-05-27").unwrap()
    });
    assert_eq!(control(&day_before, 1).status, Status::NoEvidence);
}
