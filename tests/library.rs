//! The library as a deploy service embeds it: the gate, the policy and the
//! golden artifacts of release 0.1.0, asserted on typed outcomes. One test
//! per tamper or rule, so one regression cannot hide another.

use crate::common::*;
use modelseal::clock::Now;
use modelseal::digest::{HashOptions, hash_model};
use modelseal::evidence::record::{Predicate, VerificationResult, VerifiedLevel};
use modelseal::fetch::InputKind;
use modelseal::gate::{Document, Gate, GateOutcome, GateRequest};
use modelseal::keys::{load_private_key, load_public_key};
use modelseal::policy::LoadedPolicy;
use modelseal::sign::{SigningIdentity, sign_manifest};
use modelseal::source::LocalSource;
use modelseal::verify::{Failure, PolicyRule, Signer, Trust, Violation};
use std::fs;
use std::path::{Path, PathBuf};

/// A signed copy of the tiny model: (tempdir, model, signature bytes).
fn signed_model() -> (tempfile::TempDir, PathBuf, Vec<u8>) {
    let (tmp, model) = tiny_model();
    let key = load_private_key(&demo_key().0).unwrap();
    let manifest = hash_model(&model, &HashOptions::default()).unwrap();
    let bundle = sign_manifest("tiny-model", &manifest, &SigningIdentity::Key(&key)).unwrap();
    (tmp, model, bundle.to_json().into_bytes())
}

fn demo_gate() -> Gate {
    Gate::new(vec![Trust::Key(load_public_key(&demo_key().1).unwrap())])
}

fn gate_verify(gate: &Gate, model: &Path, bundle: &[u8]) -> GateOutcome {
    gate_verify_at(gate, model, bundle, test_now())
}

/// [`gate_verify`] at `time` (the library takes "now" from its caller).
fn gate_verify_at(gate: &Gate, model: &Path, bundle: &[u8], time: jiff::Timestamp) -> GateOutcome {
    let source = LocalSource::new(model);
    let request = GateRequest::new(
        &source,
        Document::from_bytes("model.sig", bundle.to_vec()),
        Now::test(time),
    );
    gate.verify(request, &|_: u64| {}).unwrap()
}

fn failures_of(model: &Path, bundle: &[u8]) -> Vec<Failure> {
    gate_verify(&demo_gate(), model, bundle).verdict.failures
}

#[test]
fn an_untouched_model_verifies_with_every_level_it_earns() {
    let (_tmp, model, bundle) = signed_model();
    let outcome = gate_verify(&demo_gate(), &model, &bundle);
    assert!(outcome.is_verified(), "{:?}", outcome.verdict.failures);
    assert!(matches!(outcome.verdict.signer, Some(Signer::Key { .. })));
    // The record says which keys the pass relied on.
    assert_eq!(
        outcome.summary.trusted_keys,
        [load_public_key(&demo_key().1).unwrap().fingerprint()]
    );
    assert_eq!(
        outcome.summary.verification_result,
        VerificationResult::Passed
    );
    assert_eq!(
        outcome.summary.verified_levels,
        [
            VerifiedLevel::SignatureVerified,
            VerifiedLevel::FilesVerified,
            VerifiedLevel::FormatsSafe
        ]
    );
    let record = outcome.record().unwrap();
    assert_eq!(&*record.subject.name, "tiny-model");
    assert!(matches!(record.predicate, Predicate::Verification(_)));
}

#[test]
fn a_changed_file_is_named() {
    let (_tmp, model, bundle) = signed_model();
    fs::write(model.join("config.json"), "{}").unwrap();
    assert_eq!(
        failures_of(&model, &bundle),
        [Failure::Changed {
            path: "config.json".into()
        }]
    );
}

#[test]
fn a_missing_file_is_named() {
    let (_tmp, model, bundle) = signed_model();
    fs::remove_file(model.join("tokenizer/vocab.txt")).unwrap();
    assert_eq!(
        failures_of(&model, &bundle),
        [Failure::Missing {
            path: "tokenizer/vocab.txt".into()
        }]
    );
}

#[test]
fn an_extra_file_is_named() {
    let (_tmp, model, bundle) = signed_model();
    fs::write(model.join("payload.py"), "import os").unwrap();
    assert_eq!(
        failures_of(&model, &bundle),
        [Failure::Extra {
            path: "payload.py".into()
        }]
    );
}

#[test]
fn a_renamed_file_is_missing_and_extra() {
    let (_tmp, model, bundle) = signed_model();
    fs::rename(model.join("config.json"), model.join("config2.json")).unwrap();
    assert_eq!(
        failures_of(&model, &bundle),
        [
            Failure::Missing {
                path: "config.json".into()
            },
            Failure::Extra {
                path: "config2.json".into()
            }
        ]
    );
}

#[test]
fn another_key_is_a_wrong_key() {
    let (_tmp, model, bundle) = signed_model();
    let other = modelseal::keys::generate(modelseal::keys::KeyAlgorithm::Ed25519)
        .unwrap()
        .public_key();
    let outcome = gate_verify(&Gate::new(vec![Trust::Key(other.clone())]), &model, &bundle);
    assert!(!outcome.is_verified());
    assert!(
        matches!(
            &outcome.verdict.failures[..],
            [Failure::WrongKey { given, .. }] if *given == other.fingerprint()
        ),
        "{:?}",
        outcome.verdict.failures
    );
    assert_eq!(
        outcome.summary.verification_result,
        VerificationResult::Failed
    );
    assert!(outcome.summary.verified_levels.is_empty());
    // The refusal is filed under the subject the bundle claims.
    let verified = gate_verify(&demo_gate(), &model, &bundle);
    let claimed = outcome.record().expect("a record of the refusal").subject;
    assert_eq!(claimed, verified.record().unwrap().subject);
    assert_eq!(&*claimed.name, "tiny-model");
}

#[test]
fn an_edited_payload_fails_the_signature() {
    let (_tmp, model, bundle) = signed_model();
    let mut value: serde_json::Value = serde_json::from_slice(&bundle).unwrap();
    use base64::Engine;
    let engine = base64::engine::general_purpose::STANDARD;
    let payload = value["dsseEnvelope"]["payload"].as_str().unwrap();
    let mut statement = engine.decode(payload).unwrap();
    let at = statement.len() - 3;
    statement[at] ^= 0x01;
    value["dsseEnvelope"]["payload"] = engine.encode(statement).into();
    let tampered = serde_json::to_vec(&value).unwrap();
    let failures = failures_of(&model, &tampered);
    assert!(
        matches!(
            &failures[..],
            [Failure::BadSignature { .. }] | [Failure::WrongKey { .. }]
        ),
        "{failures:?}"
    );
}

fn policy(dir: &Path, text: &str) -> LoadedPolicy {
    let path = dir.join("policy.toml");
    fs::write(&path, text).unwrap();
    LoadedPolicy::load(&path).unwrap()
}

fn violations(outcome: &GateOutcome) -> Vec<&Violation> {
    outcome
        .verdict
        .failures
        .iter()
        .filter_map(|f| match f {
            Failure::Policy { violation } => Some(violation),
            _ => None,
        })
        .collect()
}

#[test]
fn a_policy_that_requires_a_bom_refuses_a_model_without_one() {
    let (tmp, model, bundle) = signed_model();
    let p = policy(tmp.path(), "[signers]\nkeys = []\n");
    let gate = demo_gate().with_policy(p).unwrap();
    let outcome = gate_verify(&gate, &model, &bundle);
    assert!(!outcome.is_verified());
    let found = violations(&outcome);
    assert!(found.contains(&&Violation::BomMissing), "{found:?}");
    assert!(
        found
            .iter()
            .any(|v| matches!(v, Violation::UntrustedKey { .. })),
        "the demo key is not in the policy: {found:?}"
    );
    assert!(
        found
            .iter()
            .all(|v| matches!(v.rule(), PolicyRule::Bom | PolicyRule::Signer))
    );
}

#[test]
fn a_policy_trusting_the_key_without_a_bom_rule_passes_and_says_so() {
    let (tmp, model, bundle) = signed_model();
    let key = demo_key().1;
    let p = policy(
        tmp.path(),
        &format!(
            "[signers]\nkeys = [{:?}]\n[require]\nbom = false\n",
            key.display().to_string()
        ),
    );
    let outcome = gate_verify(&Gate::from_policy(p).unwrap(), &model, &bundle);
    assert!(outcome.is_verified(), "{:?}", outcome.verdict.failures);
    assert!(
        outcome
            .summary
            .verified_levels
            .contains(&VerifiedLevel::PolicyPassed)
    );
    assert!(outcome.policy.unwrap().sha256().is_some());
}

#[test]
fn excluding_paths_at_verification_breaks_a_strict_policy() {
    let (tmp, model, bundle) = signed_model();
    let key = demo_key().1;
    let p = policy(
        tmp.path(),
        &format!(
            "[signers]\nkeys = [{:?}]\n[require]\nbom = false\n",
            key.display().to_string()
        ),
    );
    fs::write(model.join("notes.txt"), "unsigned").unwrap();
    let source = LocalSource::new(&model);
    let mut request = GateRequest::new(
        &source,
        Document::from_bytes("model.sig", bundle),
        Now::test(test_now()),
    );
    request.ignore_paths = vec![PathBuf::from("notes.txt")];
    let outcome = Gate::from_policy(p)
        .unwrap()
        .verify(request, &|_: u64| {})
        .unwrap();
    assert_eq!(
        violations(&outcome),
        [&Violation::IgnorePaths {
            paths: vec!["notes.txt".into()]
        }]
    );
    assert_eq!(outcome.summary.ignored_paths, ["notes.txt"]);
}

#[test]
fn a_pickle_among_the_signed_files_breaks_the_format_rule() {
    let (tmp, model, _) = signed_model();
    // Protocol 2 pickle of a global call: os.system("true").
    fs::write(
        model.join("extra.bin"),
        b"\x80\x02cos\nsystem\nq\x00X\x04\x00\x00\x00trueq\x01\x85q\x02Rq\x03.",
    )
    .unwrap();
    let key = load_private_key(&demo_key().0).unwrap();
    let manifest = hash_model(&model, &HashOptions::default()).unwrap();
    let bundle = sign_manifest("tiny-model", &manifest, &SigningIdentity::Key(&key))
        .unwrap()
        .to_json()
        .into_bytes();
    let p = policy(
        tmp.path(),
        &format!(
            "[signers]\nkeys = [{:?}]\n[require]\nbom = false\n",
            demo_key().1.display().to_string()
        ),
    );
    let outcome = gate_verify(&Gate::from_policy(p).unwrap(), &model, &bundle);
    let found = violations(&outcome);
    assert!(
        found
            .iter()
            .any(|v| v.rule() == PolicyRule::Formats && v.path() == Some("extra.bin")),
        "{found:?}"
    );
    assert!(
        !outcome
            .summary
            .verified_levels
            .contains(&VerifiedLevel::FormatsSafe)
    );
}

#[test]
fn an_unsigned_pickle_tolerated_beside_the_model_is_judged_all_the_same() {
    let (tmp, model, bundle) = signed_model();
    fs::write(
        model.join("extra.bin"),
        b"\x80\x02cos\nsystem\nq\x00X\x04\x00\x00\x00trueq\x01\x85q\x02Rq\x03.",
    )
    .unwrap();
    let verify = |gate: &Gate| {
        let source = LocalSource::new(&model);
        let mut request = GateRequest::new(
            &source,
            Document::from_bytes("model.sig", bundle.clone()),
            Now::test(test_now()),
        );
        request.ignore_unsigned_files = true;
        gate.verify(request, &|_: u64| {}).unwrap()
    };
    // Tolerated, so the signature verifies; but the record does not claim
    // the formats safe: a loader finds the pickle beside the model.
    let outcome = verify(&demo_gate());
    assert!(outcome.is_verified(), "{:?}", outcome.verdict.failures);
    assert!(
        !outcome
            .summary
            .verified_levels
            .contains(&VerifiedLevel::FormatsSafe),
        "{:?}",
        outcome.summary.verified_levels
    );
    // A policy that allows unsigned files still judges their formats.
    let p = policy(
        tmp.path(),
        &format!(
            "[signers]\nkeys = [{:?}]\n[require]\nbom = false\nallow_ignore_unsigned_files = true\n",
            demo_key().1.display().to_string()
        ),
    );
    let outcome = verify(&Gate::from_policy(p).unwrap());
    let found = violations(&outcome);
    assert!(
        found
            .iter()
            .any(|v| v.rule() == PolicyRule::Formats && v.path() == Some("extra.bin")),
        "{found:?}"
    );
    assert!(!outcome.is_verified());
}

#[test]
fn a_signing_time_in_the_future_breaks_the_age_rule() {
    let (tmp, model, bundle) = signed_model();
    let bom = tmp.path().join("m.cdx.json");
    let (code, out, err) = run(modelseal()
        // Ten years after the test clock.
        .env(
            "SOURCE_DATE_EPOCH",
            (test_now().as_second() + 10 * 365 * 86_400).to_string(),
        )
        .arg("bom")
        .arg(&model)
        .arg("--out")
        .arg(&bom)
        .arg("--key")
        .arg(demo_key().0));
    assert_eq!(code, 0, "{out}{err}");
    let p = policy(
        tmp.path(),
        &format!(
            "[signers]\nkeys = [{:?}]\n[require]\nmax_signature_age_days = 30\n",
            demo_key().1.display().to_string()
        ),
    );
    let source = LocalSource::new(&model);
    let mut request = GateRequest::new(
        &source,
        Document::from_bytes("model.sig", bundle),
        Now::test(test_now()),
    );
    request.bom = Some((
        Document::read(&bom, InputKind::Bom(1 << 20)).unwrap(),
        Document::read(
            &tmp.path().join("m.cdx.json.sig"),
            InputKind::Bundle(1 << 20),
        )
        .unwrap(),
    ));
    let outcome = Gate::from_policy(p)
        .unwrap()
        .verify(request, &|_: u64| {})
        .unwrap();
    assert!(
        matches!(violations(&outcome)[..], [Violation::SignedInFuture { .. }]),
        "{:?}",
        outcome.verdict.failures
    );
}

/// The golden bundles of release 0.1.0 verify against the fixture model.
#[test]
fn bundles_of_release_0_1_0_still_verify() {
    let golden = fixture("golden/v0.1.0");
    for name in [
        "tiny-model.ed25519.sig",
        "tiny-model.shards64.sig",
        "tiny-model.blake3.sig",
    ] {
        let bundle = fs::read(golden.join(name)).unwrap();
        let outcome = gate_verify(&demo_gate(), &fixture("tiny-model"), &bundle);
        assert!(
            outcome.is_verified(),
            "{name}: {:?}",
            outcome.verdict.failures
        );
    }
    let anchors = modelseal::keys::load_certificates(&fixture("pki/root.pem")).unwrap();
    let gate = Gate::new(vec![Trust::Anchors {
        anchors,
        subject: None,
    }]);
    let bundle = fs::read(golden.join("tiny-model.cert.sig")).unwrap();
    // Inside the test PKI's validity, whatever the run's test clock.
    let at = PKI_NOW.parse().unwrap();
    let outcome = gate_verify_at(&gate, &fixture("tiny-model"), &bundle, at);
    assert!(outcome.is_verified(), "{:?}", outcome.verdict.failures);
    // The certificate's validity is judged at the caller's time: before
    // the test PKI existed, the same bundle does not verify.
    let before = "2026-01-01T00:00:00Z".parse().unwrap();
    let outcome = gate_verify_at(&gate, &fixture("tiny-model"), &bundle, before);
    assert!(!outcome.is_verified());
}

/// Signing is deterministic: today's release signs the same inputs into
/// the same bytes as release 0.1.0.
#[test]
fn signing_gives_the_bytes_of_release_0_1_0() {
    let golden = fixture("golden/v0.1.0");
    let tmp = tempfile::tempdir().unwrap();
    let sig = tmp.path().join("m.sig");
    sign_demo(&fixture("tiny-model"), &sig);
    assert_eq!(
        fs::read(&sig).unwrap(),
        fs::read(golden.join("tiny-model.ed25519.sig")).unwrap()
    );
    // The 2,000-file dataset the README of the golden files describes.
    let dataset = tmp.path().join("dataset");
    for d in 0..20 {
        let dir = dataset.join(format!("d{d:03}"));
        fs::create_dir_all(&dir).unwrap();
        for f in 0..100 {
            fs::write(
                dir.join(format!("f{f:04}.txt")),
                format!("sample {d} {f}\n").repeat(8),
            )
            .unwrap();
        }
    }
    let sig = tmp.path().join("d.sig");
    sign_demo(&dataset, &sig);
    assert_eq!(
        fs::read(&sig).unwrap(),
        fs::read(golden.join("dataset-2000.ed25519.sig")).unwrap()
    );
}

/// The evidence log of release 0.1.0 verifies, and every record reads back
/// into its typed predicate.
#[test]
fn the_evidence_log_of_release_0_1_0_still_verifies() {
    let golden = fixture("golden/v0.1.0");
    let key = load_public_key(&golden.join("evidence.pub.pem")).unwrap();
    let key = modelseal::evidence::evidence_verifying_key(&key).unwrap();
    let check =
        modelseal::evidence::verify_log(&golden.join("evidence.jsonl"), &key, None).unwrap();
    assert!(check.ok(), "{:?}", check.problems);
    assert_eq!(check.records.len(), 11);
    let kinds: Vec<&str> = check
        .records
        .iter()
        .map(|r| match &r.predicate {
            Predicate::Sign(_) => "sign",
            Predicate::Bom(_) => "bom",
            Predicate::Verification(v) if v.verification_result == VerificationResult::Passed => {
                "passed"
            }
            Predicate::Verification(_) => "failed",
            Predicate::Attachment(_) => "attachment",
            Predicate::Deployment(_) => "deployment",
            _ => "other",
        })
        .collect();
    assert_eq!(
        kinds,
        [
            "sign",
            "passed",
            "failed",
            "bom",
            "attachment",
            "attachment",
            "attachment",
            "attachment",
            "attachment",
            "attachment",
            "deployment"
        ]
    );
}

/// A service shares one gate and one recorder between its request threads.
#[test]
fn the_gate_and_the_recorder_can_be_shared_between_threads() {
    fn shared<T: Send + Sync>(_: &T) {}
    let gate = demo_gate();
    shared(&gate);
    let tmp = tempfile::tempdir().unwrap();
    let key = modelseal::keys::PrivateKey::Ed25519(ed25519_dalek::SigningKey::from_bytes(&[7; 32]));
    let recorder = modelseal::evidence::Recorder::new(&tmp.path().join("e.jsonl"), key).unwrap();
    shared(&recorder);
    // And they are used from several threads at once.
    let (_model_dir, model, bundle) = signed_model();
    std::thread::scope(|s| {
        for _ in 0..2 {
            s.spawn(|| assert!(gate_verify(&gate, &model, &bundle).is_verified()));
        }
    });
}

/// Candidates as a registry offers them: a junk bundle and a bundle signed
/// by someone else beside the good one. The good one is chosen, the others
/// are kept with their reasons, and junk alone is an error (a reject).
#[test]
fn the_gate_keeps_the_candidate_that_verifies_and_sets_junk_aside() {
    let (tmp, model, good) = signed_model();
    let other_key = modelseal::keys::generate(modelseal::keys::KeyAlgorithm::Ed25519).unwrap();
    let manifest = hash_model(&model, &HashOptions::default()).unwrap();
    let stranger = sign_manifest("tiny-model", &manifest, &SigningIdentity::Key(&other_key))
        .unwrap()
        .to_json()
        .into_bytes();
    let source = LocalSource::new(&model);
    let gate = demo_gate();
    let request = GateRequest::new(
        &source,
        Document::from_bytes("junk.sig", b"{not a bundle".to_vec()),
        Now::test(test_now()),
    );
    let candidates = gate
        .verify_candidates(
            request,
            vec![
                Document::from_bytes("stranger.sig", stranger),
                Document::from_bytes("good.sig", good),
            ],
            &|_: u64| {},
        )
        .unwrap();
    assert_eq!(candidates.chosen.0, "good.sig");
    assert!(candidates.chosen.1.is_verified());
    assert_eq!(candidates.others.len(), 1);
    assert_eq!(candidates.others[0].0, "stranger.sig");
    assert!(matches!(
        candidates.others[0].1.verdict.failures[..],
        [Failure::WrongKey { .. }, ..]
    ));
    assert_eq!(candidates.unusable.len(), 1);
    assert_eq!(candidates.unusable[0].0, "junk.sig");
    assert_eq!(
        candidates.unusable[0].1.class(),
        modelseal::ErrorClass::Reject
    );
    // Junk and nothing else: the error itself.
    let request = GateRequest::new(
        &source,
        Document::from_bytes("junk.sig", b"{not a bundle".to_vec()),
        Now::test(test_now()),
    );
    let err = gate
        .verify_candidates(request, Vec::new(), &|_: u64| {})
        .unwrap_err();
    assert_eq!(err.class(), modelseal::ErrorClass::Reject);
    drop(tmp);
}

/// A deployment relies on a receipt of a passing verification of the same
/// log: a failed one, or one of another log, is refused.
#[test]
fn a_deployment_relies_only_on_a_passing_verification_of_its_own_log() {
    let (tmp, model, good) = signed_model();
    let evidence_key =
        || modelseal::keys::generate(modelseal::keys::KeyAlgorithm::Ed25519).unwrap();
    let key = evidence_key();
    let pem = modelseal::keys::private_key_pem(&key).unwrap();
    let reload = || modelseal::keys::parse_private_key(Path::new("evidence"), &pem).unwrap();
    let here =
        modelseal::evidence::Recorder::new(&tmp.path().join("here.jsonl"), reload()).unwrap();
    let there =
        modelseal::evidence::Recorder::new(&tmp.path().join("there.jsonl"), reload()).unwrap();
    let passed = gate_verify(&demo_gate(), &model, &good);
    let receipt = here.append_verification(&passed.record().unwrap()).unwrap();
    assert!(receipt.passed());
    let now = Now::test(test_now());
    let err = there.record_deployment(&receipt, None, now).unwrap_err();
    assert!(err.to_string().contains("not in"), "{err}");
    here.record_deployment(&receipt, Some("prod".into()), now)
        .unwrap();
    fs::write(model.join("config.json"), b"{\"changed\": true}").unwrap();
    let failed = gate_verify(&demo_gate(), &model, &good);
    assert!(!failed.is_verified());
    let receipt = here.append_verification(&failed.record().unwrap()).unwrap();
    assert!(!receipt.passed());
    let err = here.record_deployment(&receipt, None, now).unwrap_err();
    assert!(err.to_string().contains("failed"), "{err}");
}

/// A service shares one gate, one recorder and the models it opened
/// between its request threads.
#[test]
fn the_gate_the_recorder_and_models_are_send_and_sync() {
    fn shared<T: Send + Sync>() {}
    shared::<modelseal::gate::Gate>();
    shared::<modelseal::evidence::Recorder>();
    shared::<modelseal::model::Model>();
    shared::<modelseal::policy::LoadedPolicy>();
    shared::<modelseal::gate::GateOutcome>();
    shared::<modelseal::Error>();
    shared::<modelseal::evidence::DeployError>();
    // The signing-service seam is object-safe and shareable.
    shared::<Box<dyn modelseal::release::StatementSigner>>();
}

/// A release that fails says at which stage, with the class a service acts
/// on; nothing is in place before its record: a log changed behind the
/// recorder's back stops the release at the record, and no signature file
/// is left.
#[test]
fn a_release_that_fails_names_its_stage_and_writes_nothing_before_its_record() {
    use modelseal::ErrorClass;
    use modelseal::release::{Identity, SignRequest, SignStage, sign_release};
    let (tmp, model) = tiny_model();
    let key = load_private_key(&demo_key().0).unwrap();
    let opened = modelseal::model::Model::Local(LocalSource::new(&model));
    let now = Now::test(test_now());
    let no_progress = |_: u64| {};
    let request = || SignRequest::new(&opened, Identity::Key(SigningIdentity::Key(&key)), now);

    let err = sign_release(request(), &no_progress).unwrap_err();
    assert_eq!(err.stage(), SignStage::Request, "{err}");
    assert_eq!(err.class(), ErrorClass::Usage);

    let missing = modelseal::model::Model::Local(LocalSource::new(tmp.path().join("gone")));
    let mut gone = SignRequest::new(&missing, Identity::Key(SigningIdentity::Key(&key)), now);
    gone.signature = Some(tmp.path().join("gone.sig"));
    let err = sign_release(gone, &no_progress).unwrap_err();
    assert_eq!(err.stage(), SignStage::Model, "{err}");

    let log = tmp.path().join("evidence.jsonl");
    let evidence = || modelseal::keys::generate(modelseal::keys::KeyAlgorithm::Ed25519).unwrap();
    let recorder = modelseal::evidence::Recorder::new(&log, evidence()).unwrap();
    let signature = tmp.path().join("model.sig");
    let mut signed = request();
    signed.signature = Some(signature.clone());
    signed.recorder = Some(&recorder);
    sign_release(signed, &no_progress).unwrap();
    assert!(signature.exists());
    fs::remove_file(&signature).unwrap();
    // Whoever can write the log but holds no key changes a record.
    let text = fs::read_to_string(&log).unwrap();
    fs::write(
        &log,
        text.replacen("\"payload\":\"", "\"payload\":\"AAAA", 1),
    )
    .unwrap();
    let mut again = request();
    again.signature = Some(signature.clone());
    again.recorder = Some(&recorder);
    let err = sign_release(again, &no_progress).unwrap_err();
    assert_eq!(err.stage(), SignStage::Record, "{err}");
    assert_eq!(err.class(), ErrorClass::Tampered, "{err}");
    assert!(
        !signature.exists(),
        "a signature was put in place without its record"
    );
}

/// An audit is one call with typed refusals: a period that has not ended
/// and a model the log never mentions are refused before any report; an
/// audit of a log with a verification and a deployment hands its report
/// to the caller, and an export writes the auditor's directory with the
/// same verdict.
#[test]
fn an_audit_and_an_export_are_library_calls_with_typed_refusals() {
    use modelseal::audit::{AsOf, Checklist};
    use modelseal::auditing::{AuditError, AuditRequest, audit};
    let (tmp, model, good) = signed_model();
    let key = modelseal::keys::generate(modelseal::keys::KeyAlgorithm::Ed25519).unwrap();
    let public = key.public_key();
    let vk = modelseal::evidence::evidence_verifying_key(&public).unwrap();
    let log = tmp.path().join("audit.jsonl");
    let recorder = modelseal::evidence::Recorder::new(&log, key).unwrap();
    let now = Now::test(test_now());
    let passed = gate_verify(&demo_gate(), &model, &good);
    let receipt = recorder
        .append_verification(&passed.record().unwrap())
        .unwrap();
    recorder
        .record_deployment(&receipt, Some("prod".into()), now)
        .unwrap();
    let location = modelseal::evidence::Location::File(log.clone());
    let list = Checklist::default_list();

    let mut request = AuditRequest::new(&list, "shipped", now);
    let tomorrow = test_now()
        .checked_add(jiff::SignedDuration::from_hours(24))
        .unwrap();
    request.period = Some((test_now(), AsOf::at(tomorrow)));
    let err = audit(&location, &vk, &request, |_| ()).unwrap_err();
    assert!(
        matches!(err, AuditError::PeriodNotEnded { end, .. } if end == tomorrow),
        "{err}"
    );
    assert_eq!(err.class(), modelseal::ErrorClass::Usage);

    let mut request = AuditRequest::new(&list, "shipped", now);
    request.model = Some("ab".repeat(32));
    let err = audit(&location, &vk, &request, |_| ()).unwrap_err();
    assert!(
        matches!(&err, AuditError::ModelNotInLog { model } if *model == "ab".repeat(32)),
        "{err}"
    );

    let request = AuditRequest::new(&list, "shipped", now);
    let audited = audit(&location, &vk, &request, |report| {
        serde_json::to_value(report).unwrap()
    })
    .unwrap();
    // The release and its deployment are recorded, the reviewed documents
    // the checklist asks for are not: the audit fails.
    assert!(audited.failed);
    assert!(audited.check.ok());
    assert_eq!(audited.check.records.len(), 2);
    let controls = &audited.result["controls"];
    assert!(
        controls.as_array().is_some_and(|c| !c.is_empty()),
        "{controls}"
    );
    let out = tmp.path().join("export");
    let here = std::env::current_dir().unwrap();
    let request = modelseal::export::ExportRequest::new(&list, "shipped", now, &here);
    let exported = modelseal::export::export(&location, &public, &out, &request).unwrap();
    assert!(exported.check.ok());
    assert_eq!(exported.fingerprint, public.fingerprint());
    for file in &exported.files {
        assert!(file.is_file(), "{}", file.display());
    }
    let report: serde_json::Value =
        serde_json::from_slice(&fs::read(out.join("audit.json")).unwrap()).unwrap();
    assert_eq!(report["log"]["records"], 2, "{report}");
    assert_eq!(
        &report["controls"], controls,
        "the export's report says what the audit said"
    );
}
