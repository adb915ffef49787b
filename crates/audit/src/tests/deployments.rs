//! Control 7, judged per deployment.

use super::*;
use report::{DeploymentOutcome, NamedVerificationError, Reliance};

#[test]
fn a_deployment_after_a_failed_verification_fails_control_7() {
    let mut log = Log::new();
    log.verify(1, true);
    let failed = log.verify(1, false);
    log.deploy(1);
    let report = audit(&log);
    let c7 = control(&report, 7);
    assert_eq!(c7.status, Status::Fail, "{report:#?}");
    let [d] = c7.deployments.as_slice() else {
        panic!("one deployment: {c7:#?}")
    };
    assert_eq!(d.outcome, DeploymentOutcome::VerificationFailed);
    assert_eq!(d.reliance, Reliance::Latest);
    assert_eq!(d.verification.as_ref().unwrap().record(), failed);
    assert!(
        c7.reason.contains("FAILED: changed: config.json"),
        "{}",
        c7.reason
    );
}

#[test]
fn a_model_blocked_by_the_gate_and_never_deployed_does_not_fail_control_7() {
    let mut log = Log::new();
    log.verify(1, true);
    log.deploy(1);
    let failed = log.verify(2, false);
    let report = audit(&log);
    let c7 = control(&report, 7);
    assert_eq!(c7.status, Status::Pass, "{report:#?}");
    let [b] = c7.blocked.as_slice() else {
        panic!("one blocked model: {c7:#?}")
    };
    assert_eq!(b.model.sha256, &*model(2).sha256);
    assert_eq!(b.verification.record(), failed);
    assert!(
        c7.evidence.contains(&failed.as_str()),
        "the blocking verification is cited"
    );
    let history = report
        .models
        .iter()
        .find(|m| m.model.sha256 == &*model(2).sha256)
        .unwrap();
    assert!(history.blocked && !history.deployed);
}

/// A model the admission service refused is blocked by the gate's own
/// record, not only by a deployment never recorded.
#[test]
fn a_refusal_recorded_by_the_admission_service_names_the_block() {
    let mut log = Log::new();
    log.verify(1, true);
    log.deploy(1);
    let failed = log.verify(2, false);
    let refusal = log.refuse(2, &failed);
    let unrecorded = log.verify(3, false);
    let report = audit(&log);
    let c7 = control(&report, 7);
    assert_eq!(c7.status, Status::Pass, "{report:#?}");
    let [two, three] = c7.blocked.as_slice() else {
        panic!("two blocked models: {c7:#?}")
    };
    assert_eq!(two.verification.record(), failed);
    assert_eq!(two.refused.len(), 1);
    assert_eq!(two.refused[0].record, refusal);
    assert_eq!(two.refused[0].target, "Pod ml/server");
    assert_eq!(three.verification.record(), unrecorded);
    assert!(three.refused.is_empty());
    assert!(
        c7.reason
            .contains("refused at admission: Pod ml/server by record 4")
            && c7.reason.contains("(no deployment recorded)"),
        "{}",
        c7.reason
    );
}

#[test]
fn a_deployment_naming_a_pass_that_a_later_failure_superseded_fails_control_7() {
    // March: verified. Then "changed: model.safetensors" at 08:00, and at
    // 08:05 a deployment naming the March verification.
    let mut log = Log::new();
    let march = log.verify(1, true);
    let failed = log.verify(1, false);
    log.deploy_relying_on(1, Some(&march));
    let report = audit(&log);
    let c7 = control(&report, 7);
    assert_eq!(c7.status, Status::Fail, "{report:#?}");
    match &c7.deployments[0].outcome {
        DeploymentOutcome::NamedVerificationInvalid {
            why: NamedVerificationError::Superseded { record, failed: f },
        } => {
            assert_eq!((record, f), (&format!("sha256:{march}"), &failed));
        }
        other => panic!("{other:?}"),
    }
    // Verified again after the failure: a deployment naming the new pass
    // relies on it.
    let mut log = Log::new();
    log.verify(1, true);
    log.verify(1, false);
    let again = log.verify(1, true);
    log.deploy_relying_on(1, Some(&again));
    let report = audit(&log);
    let c7 = control(&report, 7);
    assert_eq!(c7.status, Status::Pass, "{report:#?}");
    assert_eq!(c7.deployments[0].reliance, Reliance::Named);
    assert_eq!(
        c7.deployments[0].verification.as_ref().unwrap().record(),
        again
    );
}

#[test]
fn a_deployment_with_no_verification_before_it_fails_even_if_one_follows() {
    let mut log = Log::new();
    log.deploy(1);
    log.verify(1, true);
    let report = audit(&log);
    let c7 = control(&report, 7);
    assert_eq!(c7.status, Status::Fail);
    assert_eq!(c7.deployments[0].outcome, DeploymentOutcome::NoVerification);
}

#[test]
fn a_deployment_in_the_same_second_as_its_verification_is_ordered_by_the_log() {
    let mut log = Log::new();
    log.verify(1, true);
    log.deploy(1);
    // Both records carry the same time: the log order decides.
    let t = log.records[0].time();
    if let Predicate::Deployment(d) = &mut log.records[1].predicate {
        d.time = t;
    }
    assert_eq!(control(&audit(&log), 7).status, Status::Pass);
}

#[test]
fn a_deployment_naming_an_unusable_verification_fails() {
    let mut log = Log::new();
    let other = log.verify(2, true);
    let sign = log.sign(1, None);
    log.verify(1, true);
    log.deploy_relying_on(1, Some(&other));
    log.deploy_relying_on(1, Some(&sign));
    log.deploy_relying_on(1, Some(&"ee".repeat(32)));
    let later = hex::encode(<sha2::Sha256 as sha2::Digest>::digest(b"record 7"));
    log.deploy_relying_on(1, Some(&later));
    log.verify(1, true); // record 7, after the deployment naming it
    let report = audit(&log);
    let c7 = control(&report, 7);
    assert_eq!(c7.status, Status::Fail);
    let whys: Vec<String> = c7
        .deployments
        .iter()
        .map(|d| match &d.outcome {
            DeploymentOutcome::NamedVerificationInvalid { why } => why.to_string(),
            other => panic!("{other:?}"),
        })
        .collect();
    assert!(whys[0].contains("of another model"), "{}", whys[0]);
    assert!(whys[1].contains("not a verification"), "{}", whys[1]);
    assert!(whys[2].contains("not in the log"), "{}", whys[2]);
    assert!(whys[3].contains("after the deployment"), "{}", whys[3]);
    assert_eq!(
        whys[2],
        format!(
            "it names the verification record sha256:{}, which is not in the log (as of the audit date)",
            "ee".repeat(32)
        )
    );
    let typed: Vec<&NamedVerificationError> = c7
        .deployments
        .iter()
        .filter_map(|d| match &d.outcome {
            DeploymentOutcome::NamedVerificationInvalid { why } => Some(why),
            _ => None,
        })
        .collect();
    assert!(
        matches!(typed[0], NamedVerificationError::OtherModel { record, .. } if *record == format!("sha256:{other}"))
    );
    assert!(matches!(
        typed[1],
        NamedVerificationError::NotVerification { record, .. } if *record == format!("sha256:{sign}")
    ));
    assert!(matches!(typed[2], NamedVerificationError::NotInLog { .. }));
    assert!(matches!(
        typed[3],
        NamedVerificationError::AfterDeployment { record } if *record == format!("sha256:{later}")
    ));
    // In JSON, the reason is its message.
    let json = serde_json::to_value(&c7.deployments[2].outcome).unwrap();
    assert_eq!(json["outcome"], "named-verification-invalid");
    assert_eq!(json["why"], whys[2].as_str());
}

#[test]
fn a_verification_without_the_bom_does_not_satisfy_control_7() {
    let mut log = Log::new();
    log.verification(
        1,
        true,
        &[
            VerifiedLevel::SignatureVerified,
            VerifiedLevel::FilesVerified,
        ],
        ResourceRef::uri(SIGNATURE_ONLY_POLICY),
    );
    log.deploy(1);
    let c7 = control(&audit(&log), 7).clone();
    assert_eq!(c7.status, Status::Fail);
    assert_eq!(
        c7.deployments[0].outcome,
        DeploymentOutcome::MissingLevels {
            missing: vec![VerifiedLevel::BomVerified, VerifiedLevel::PolicyPassed]
        }
    );
}

/// The checklist of an organisation that requires trusted signers: the
/// verification must have passed a deploy policy, and that policy.
fn trusted_signers(policy: &str) -> Checklist {
    checklist(|t| {
        t.replace(
            r#"levels = ["MODELSEAL_SIGNATURE_VERIFIED", "MODELSEAL_BOM_VERIFIED", "MODELSEAL_POLICY_PASSED"], before_deployment = true"#,
            &format!(
                r#"levels = ["MODELSEAL_SIGNATURE_VERIFIED", "MODELSEAL_BOM_VERIFIED", "MODELSEAL_POLICY_PASSED"], policies = ["sha256:{policy}"], before_deployment = true"#
            ),
        )
    })
}

#[test]
fn where_trusted_signers_are_required_a_model_signed_with_any_key_fails_control_7() {
    let policy = "ab".repeat(32);
    let list = trusted_signers(&policy);
    // Verified with a key given on the command line: no policy applied.
    let mut log = Log::new();
    log.verification(1, true, &FULL[..4], ResourceRef::uri(SIGNATURE_ONLY_POLICY));
    log.deploy(1);
    let report = audit_with(&log, &list, |_| {});
    let c7 = control(&report, 7);
    assert_eq!(c7.status, Status::Fail);
    assert_eq!(
        c7.deployments[0].outcome,
        DeploymentOutcome::MissingLevels {
            missing: vec![VerifiedLevel::PolicyPassed]
        }
    );
    // Verified under another policy (one that trusts any key).
    let other = ResourceRef {
        uri: "file:///etc/lax.toml".into(),
        digest: Some(crate::evidence::record::Digests::from([(
            "sha256",
            "cd".repeat(32),
        )])),
    };
    let levels = FULL.to_vec();
    let mut log = Log::new();
    log.verification(1, true, &levels, other);
    log.deploy(1);
    let report = audit_with(&log, &list, |_| {});
    let c7 = control(&report, 7);
    assert_eq!(
        c7.deployments[0].outcome,
        DeploymentOutcome::PolicyNotAccepted
    );
    assert!(
        c7.reason.contains("lax.toml"),
        "the policy is named: {}",
        c7.reason
    );
    // Verified under the organisation's policy.
    let ours = ResourceRef {
        uri: "file:///etc/deploy.toml".into(),
        digest: Some(crate::evidence::record::Digests::from([(
            "sha256",
            policy.clone(),
        )])),
    };
    let mut log = Log::new();
    log.verification(1, true, &levels, ours);
    log.deploy(1);
    let report = audit_with(&log, &list, |_| {});
    let c7 = control(&report, 7);
    assert_eq!(c7.status, Status::Pass, "{c7:#?}");
    let v = c7.deployments[0].verification.as_ref().unwrap();
    assert!(
        v.signer_text().contains(&"5e".repeat(32)),
        "the signer is shown"
    );
    assert!(v.policy_text().contains(&policy), "and the policy's digest");
}

#[test]
fn with_no_deployment_controls_4_and_7_have_no_evidence_and_the_audit_fails() {
    let mut log = Log::new();
    log.sign(1, Some(&[]));
    log.verify(1, true);
    log.attach_all(RECENT);
    let report = audit(&log);
    assert_eq!(control(&report, 7).status, Status::NoEvidence);
    assert_eq!(control(&report, 4).status, Status::NoEvidence);
    assert!(report.failed(), "no evidence fails a required control");
}

#[test]
fn a_dataset_with_a_bom_of_its_own_is_not_a_model_that_must_be_deployed() {
    // The 0.1.0 false fail: a dataset's BOM record made controls 4 and 7
    // demand a verification of the dataset.
    let mut log = Log::new();
    log.sign(1, None);
    log.verify(1, true);
    log.bom(9);
    log.deploy(1);
    log.attach_all(RECENT);
    let report = audit(&log);
    assert_eq!(control(&report, 7).status, Status::Pass, "{report:#?}");
    assert_eq!(control(&report, 4).status, Status::Pass, "{report:#?}");
    assert!(!report.failed());
}

#[test]
fn a_signature_only_verification_does_not_satisfy_the_shipped_control_7() {
    // Signed by some key, verified with that key: no policy named who may
    // sign, so provenance was never judged.
    let mut log = Log::new();
    log.verification(1, true, &FULL[..4], ResourceRef::uri(SIGNATURE_ONLY_POLICY));
    log.deploy(1);
    let report = audit(&log);
    let c7 = control(&report, 7);
    assert_eq!(c7.status, Status::Fail, "{c7:#?}");
    match &c7.deployments[0].outcome {
        DeploymentOutcome::MissingLevels { missing } => {
            assert_eq!(missing, &[VerifiedLevel::PolicyPassed]);
        }
        other => panic!("{other:?}"),
    }
}

/// A model deployed before a declared period whose verification then
/// failed inside it is not "blocked by the gate": it is still deployed.
#[test]
fn a_model_deployed_before_the_period_is_not_blocked_in_it() {
    let mut log = Log::new();
    log.verify(2, true); // record 0
    log.deploy(2); // record 1
    log.verify(1, true); // 2
    log.deploy(1); // 3
    log.verify(2, false); // record 4: inside the period
    let whole = audit(&log);
    assert!(control(&whole, 7).blocked.is_empty());
    let period = audit_with(&log, &Checklist::default_list(), |i| {
        i.declaration.period = Some(crate::report::DeclaredPeriod {
            from: at(2),
            to: at(1000),
        });
    });
    let c7 = control(&period, 7);
    assert!(c7.blocked.is_empty(), "{:?}", c7.blocked);
    assert!(!c7.reason.contains("never deployed"), "{}", c7.reason);
}

#[test]
fn a_reason_names_ten_failures_and_counts_the_rest_the_findings_hold_all() {
    let mut log = Log::new();
    for n in 1..=12 {
        log.verify(n, false);
        log.deploy(n);
    }
    let report = audit(&log);
    let c7 = control(&report, 7);
    assert_eq!(c7.status, Status::Fail);
    assert_eq!(c7.deployments.len(), 12);
    assert!(
        c7.reason.starts_with("12 of 12 deployment(s)"),
        "{}",
        c7.reason
    );
    assert!(c7.reason.contains("model-10 "), "{}", c7.reason);
    assert!(!c7.reason.contains("model-11 "), "{}", c7.reason);
    assert!(
        c7.reason
            .contains("and 2 more (each one in this control's findings)"),
        "{}",
        c7.reason
    );
}
