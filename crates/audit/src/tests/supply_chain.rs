//! Control 4: every deployed model has a verified BOM; the datasets and
//! base models it names, and whether those were signed.

use super::*;

#[test]
fn a_deployed_model_without_a_verified_bom_fails_control_4_and_is_listed() {
    let mut log = Log::new();
    log.verify(1, true);
    log.deploy(1);
    log.verification(
        2,
        true,
        &[
            VerifiedLevel::SignatureVerified,
            VerifiedLevel::FilesVerified,
        ],
        ResourceRef::uri(SIGNATURE_ONLY_POLICY),
    );
    log.deploy(2);
    let report = audit(&log);
    let c4 = control(&report, 4);
    assert_eq!(c4.status, Status::Fail);
    let bad: Vec<&str> = c4
        .supply_chain
        .iter()
        .filter(|f| !f.ok)
        .map(|f| f.model.name)
        .collect();
    assert_eq!(bad, ["model-2"]);
    assert!(c4.reason.contains("model-2"), "{}", c4.reason);
    assert!(!c4.reason.contains("model-1 "), "{}", c4.reason);
}

#[test]
fn the_datasets_of_a_verified_bom_are_listed_with_whether_they_were_signed() {
    let mut log = Log::new();
    let dataset_signed = log.sign(8, None);
    let written = log.sign(1, Some(&[8, 9]));
    log.verify(1, true);
    log.deploy(1);
    let report = audit(&log);
    let c4 = control(&report, 4);
    assert_eq!(
        c4.status,
        Status::Pass,
        "unsigned datasets are listed, not required"
    );
    let bom = c4.supply_chain[0].bom.as_ref().unwrap();
    assert_eq!(bom.sha256, bom_digest(1));
    assert_eq!(bom.record.as_deref(), Some(written.as_str()));
    let datasets = bom.datasets.as_ref().unwrap();
    assert_eq!(datasets.len(), 2);
    assert_eq!(
        datasets[0].signed_by_record.as_deref(),
        Some(dataset_signed.as_str())
    );
    assert_eq!(datasets[1].signed_by_record, None);
    assert_eq!(
        datasets[1].sha256.as_deref(),
        Some(hex::encode([9u8; 32]).as_str())
    );
    let bases = bom.base_models.as_ref().unwrap();
    assert_eq!(bases[0].name, "org/base-model");
    assert!(
        c4.supply_chain[0]
            .notes
            .iter()
            .any(|n| n.contains("never signed") && n.contains("model-9"))
    );
    assert!(c4.evidence.contains(&dataset_signed.as_str()));

    // An organisation that requires signed datasets fails the model.
    let strict = checklist(|t| {
        t.replace(
            r#"inputs_pinned = true }"#,
            r#"inputs_pinned = true, datasets_signed = true }"#,
        )
    });
    let report = audit_with(&log, &strict, |_| {});
    assert_eq!(control(&report, 4).status, Status::Fail);
}

#[test]
fn a_bom_written_by_0_1_0_has_unknown_datasets() {
    let mut log = Log::new();
    log.sign(1, None);
    log.verify(1, true);
    log.deploy(1);
    let report = audit(&log);
    let c4 = control(&report, 4);
    assert_eq!(c4.status, Status::Pass);
    let bom = c4.supply_chain[0].bom.as_ref().unwrap();
    assert!(bom.datasets.is_none() && bom.base_models.is_none());
    assert!(c4.supply_chain[0].notes[0].contains("does not list its datasets"));
}

#[test]
fn control_4_judges_the_verification_each_deployment_relied_on() {
    // A pass, then a failure, then the deployment: it relied on the
    // failure, so its BOM is not shown verified.
    let mut log = Log::new();
    log.verify(1, true);
    log.verify(1, false);
    log.deploy(1);
    let report = audit(&log);
    let c4 = control(&report, 4);
    assert_eq!(c4.status, Status::Fail, "{c4:#?}");
    assert!(
        c4.supply_chain[0].notes[0].contains("the verification it relied on"),
        "{:?}",
        c4.supply_chain[0].notes
    );
    assert_eq!(control(&report, 7).status, Status::Fail);
    // A pass made after the deployment does not count for it.
    let mut log = Log::new();
    log.deploy(1);
    log.verify(1, true);
    let c4 = control(&audit(&log), 4).clone();
    assert_eq!(c4.status, Status::Fail, "{c4:#?}");
    assert!(c4.supply_chain[0].notes[0].contains("relied on no verification"));
    // Verified, deployed: the BOM the deployment relied on is verified.
    let mut log = Log::new();
    log.verify(1, false);
    log.verify(1, true);
    log.deploy(1);
    assert_eq!(control(&audit(&log), 4).status, Status::Pass);
}

#[test]
fn control_4_names_the_level_the_relied_on_verification_lacked() {
    // A verified BOM, but a file's format could run code (a reviewed
    // exception, say): the note says formats, not "no verified BOM".
    let mut log = Log::new();
    log.verification(
        1,
        true,
        &[
            VerifiedLevel::SignatureVerified,
            VerifiedLevel::FilesVerified,
            VerifiedLevel::BomVerified,
        ],
        ResourceRef::uri(SIGNATURE_ONLY_POLICY),
    );
    log.deploy(1);
    let c4 = control(&audit(&log), 4).clone();
    assert_eq!(c4.status, Status::Fail);
    let note = &c4.supply_chain[0].notes[0];
    assert!(
        note.contains("did not establish MODELSEAL_FORMATS_SAFE")
            && !note.contains("BOM_VERIFIED)"),
        "{note}"
    );
}

/// A "pin" that is not 64 hex digits (`TBD`, empty) pins nothing: control
/// 4 fails on it as on a name alone.
#[test]
fn a_digest_that_is_not_one_pins_nothing() {
    let mut log = Log::new();
    log.sign(1, Some(&[8]));
    log.verify(1, true);
    log.deploy(1);
    assert_eq!(control(&audit(&log), 4).status, Status::Pass);
    let mut bad = Log::new();
    bad.sign_with(1, |s| {
        s.datasets = Some(vec![DatasetRef {
            name: "scrape".into(),
            digest: crate::evidence::record::Digests::from([("sha256", "TBD")]),
        }]);
    });
    bad.verify(1, true);
    bad.deploy(1);
    let c4 = control(&audit(&bad), 4).clone();
    assert_eq!(c4.status, Status::Fail, "{}", c4.reason);
    assert!(
        c4.reason.contains("without a digest: scrape"),
        "{}",
        c4.reason
    );
}
