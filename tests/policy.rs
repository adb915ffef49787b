//! The deploy-gate policy: each rule fails with its reason; a compliant model
//! passes.

use crate::common::*;
use serde_json::Value;
use sha2::Digest;
use std::fs;
use std::path::{Path, PathBuf};

/// A model signed with the demo key and a signed BOM (with an optional extra
/// file added before signing). Returns (tmp, model, sig, bom).
fn signed(
    extra: Option<(&str, &[u8])>,
    epoch: &str,
) -> (tempfile::TempDir, PathBuf, PathBuf, PathBuf) {
    let (tmp, model) = tiny_model();
    if let Some((name, bytes)) = extra {
        fs::write(model.join(name), bytes).unwrap();
    }
    let sig = tmp.path().join("model.sig");
    let bom = tmp.path().join("model.cdx.json");
    let (code, out, err) = run(demo_sign_args(
        modelseal().env("SOURCE_DATE_EPOCH", epoch),
        &model,
        &sig,
        Some(&bom),
    ));
    assert_eq!(code, 0, "{out}{err}");
    (tmp, model, sig, bom)
}

/// The test clock's time, as `SOURCE_DATE_EPOCH` takes it: a BOM made
/// "now" for the signature-age rule.
fn now_epoch() -> String {
    test_now().as_second().to_string()
}

fn write_policy(dir: &Path, body: &str) -> PathBuf {
    let p = dir.join("policy.toml");
    fs::write(&p, body).unwrap();
    p
}

fn demo_keys_policy(extra: &str) -> String {
    let (_, public) = demo_key();
    format!(
        "[signers]\nkeys = [{:?}]\n{extra}",
        public.to_str().unwrap()
    )
}

fn verify_policy(model: &Path, sig: &Path, policy: &Path, extra: &[&str]) -> (i32, String, String) {
    verify_policy_at(model, sig, policy, extra, &test_now().to_string())
}

/// [`verify_policy`] with the clock at `now`.
fn verify_policy_at(
    model: &Path,
    sig: &Path,
    policy: &Path,
    extra: &[&str],
    now: &str,
) -> (i32, String, String) {
    run(modelseal()
        .env(TEST_NOW, now)
        .arg("verify")
        .arg(model)
        .arg("--signature")
        .arg(sig)
        .arg("--policy")
        .arg(policy)
        .args(extra))
}

#[test]
fn a_compliant_model_passes_and_the_policy_digest_is_reported() {
    let (tmp, model, sig, bom) = signed(None, &now_epoch());
    let policy = write_policy(
        tmp.path(),
        &demo_keys_policy("[require]\nmax_signature_age_days = 30\n"),
    );
    let (code, out, err) = verify_policy(&model, &sig, &policy, &["--bom", bom.to_str().unwrap()]);
    assert_eq!(code, 0, "{out}{err}");
    let (code, out, _) = run(modelseal()
        .args(["--format", "json", "verify"])
        .arg(&model)
        .arg("--signature")
        .arg(&sig)
        .arg("--policy")
        .arg(&policy)
        .arg("--bom")
        .arg(&bom));
    assert_eq!(code, 0);
    let v: Value = serde_json::from_str(&out).unwrap();
    let digest = hex::encode(sha2::Sha256::digest(fs::read(&policy).unwrap()));
    assert_eq!(v["policy"]["digest"]["sha256"], digest);
}

#[test]
fn an_untrusted_signer_fails() {
    let (tmp, model, sig, bom) = signed(None, &now_epoch());
    let other = tmp.path().join("other");
    assert_eq!(run(modelseal().arg("keygen").arg("--out").arg(&other)).0, 0);
    let policy = write_policy(
        tmp.path(),
        &format!(
            "[signers]\nkeys = [{:?}]\n",
            tmp.path().join("other.pub.pem").to_str().unwrap()
        ),
    );
    let (code, out, _) = verify_policy(&model, &sig, &policy, &["--bom", bom.to_str().unwrap()]);
    assert_eq!(code, 1);
    assert!(
        out.contains("signature:") || out.contains("wrong key"),
        "{out}"
    );
    // A --key the policy does not list is refused even though it verifies.
    let (_, public) = demo_key();
    let (code, out, _) = verify_policy(
        &model,
        &sig,
        &policy,
        &[
            "--bom",
            bom.to_str().unwrap(),
            "--key",
            public.to_str().unwrap(),
        ],
    );
    assert_eq!(code, 1);
    assert!(out.contains("policy (signer): key SHA256:"), "{out}");
}

#[test]
fn a_missing_bom_fails() {
    let (tmp, model, sig, _) = signed(None, &now_epoch());
    let policy = write_policy(tmp.path(), &demo_keys_policy(""));
    let (code, out, _) = verify_policy(&model, &sig, &policy, &[]);
    assert_eq!(code, 1);
    assert!(
        out.contains("policy (bom): a signed ML-BOM must accompany the model"),
        "{out}"
    );
    // Not required: passes.
    let policy = write_policy(tmp.path(), &demo_keys_policy("[require]\nbom = false\n"));
    assert_eq!(verify_policy(&model, &sig, &policy, &[]).0, 0);
}

/// `collections.OrderedDict()` pickled: harmless, but still a pickle.
const PICKLE: &[u8] = b"\x80\x02ccollections\nOrderedDict\n)R.";

#[test]
fn a_pickle_fails_unless_excepted_by_its_exact_digest() {
    let (tmp, model, sig, bom) = signed(Some(("extra.bin", PICKLE)), &now_epoch());
    let bom_flag = ["--bom", bom.to_str().unwrap()];
    let policy = write_policy(tmp.path(), &demo_keys_policy(""));
    let (code, out, _) = verify_policy(&model, &sig, &policy, &bom_flag);
    assert_eq!(code, 1);
    assert!(
        out.contains("policy (formats): extra.bin: format pickle is not allowed by the policy"),
        "{out}"
    );
    let digest = hex::encode(sha2::Sha256::digest(PICKLE));
    let policy = write_policy(
        tmp.path(),
        &demo_keys_policy(&format!(
            "[[formats.exceptions]]\npath = \"extra.bin\"\nsha256 = \"{digest}\"\nreason = \"reviewed\"\n"
        )),
    );
    let (code, out, err) = verify_policy(&model, &sig, &policy, &bom_flag);
    assert_eq!(code, 0, "{out}{err}");
    // Recorded and deployed: the reviewed exception counts for control 4
    // (formats safe), and the record and the audit name it.
    let log = tmp.path().join("evidence.jsonl");
    let evidence_key = root().join("tests/cmd/evidence.priv.pem");
    let (code, out, err) = verify_policy(
        &model,
        &sig,
        &policy,
        &[
            "--bom",
            bom.to_str().unwrap(),
            "--evidence",
            log.to_str().unwrap(),
            "--evidence-key",
            evidence_key.to_str().unwrap(),
        ],
    );
    assert_eq!(code, 0, "{out}{err}");
    let line: Value =
        serde_json::from_str(fs::read_to_string(&log).unwrap().lines().next().unwrap()).unwrap();
    let record: Value = {
        use base64::Engine;
        let payload = line["dsseEnvelope"]["payload"]
            .as_str()
            .or(line["payload"].as_str())
            .unwrap_or_else(|| panic!("{line}"));
        serde_json::from_slice(
            &base64::engine::general_purpose::STANDARD
                .decode(payload)
                .unwrap(),
        )
        .unwrap()
    };
    let vsa = &record["predicate"];
    assert!(
        vsa["verifiedLevels"]
            .as_array()
            .unwrap()
            .iter()
            .any(|l| l == "MODELSEAL_FORMATS_SAFE"),
        "{vsa}"
    );
    assert_eq!(vsa["formatExceptions"][0]["path"], "extra.bin", "{vsa}");
    assert_eq!(
        vsa["formatExceptions"][0]["sha256"],
        digest.as_str(),
        "{vsa}"
    );
    assert_eq!(vsa["formatExceptions"][0]["reason"], "reviewed", "{vsa}");
    let subject = record["subject"][0]["digest"]["sha256"]
        .as_str()
        .unwrap()
        .to_string();
    let (code, _, err) = run(modelseal()
        .args(["evidence", "deploy", "--name", "excepted", "--model"])
        .arg(format!("sha256:{subject}"))
        .arg("--evidence")
        .arg(&log)
        .arg("--evidence-key")
        .arg(&evidence_key));
    assert_eq!(code, 0, "{err}");
    let (_, out, err) = run(modelseal()
        .args(["--format", "json", "audit", "--evidence"])
        .arg(&log)
        .arg("--evidence-key")
        .arg(root().join("tests/cmd/evidence.pub.pem")));
    let report: Value = serde_json::from_str(&out).unwrap_or_else(|e| panic!("{e}: {out}{err}"));
    let c4 = report["controls"]
        .as_array()
        .unwrap()
        .iter()
        .find(|c| c["id"] == 4)
        .unwrap();
    assert_eq!(c4["status"], "pass", "{c4}");
    let notes = c4["supply_chain"][0]["notes"].to_string();
    assert!(
        notes.contains("reviewed exception(s): extra.bin (sha256:")
            && notes.contains("reviewed: reviewed"),
        "{notes}"
    );
    let policy = write_policy(
        tmp.path(),
        &demo_keys_policy(&format!(
            "[[formats.exceptions]]\npath = \"extra.bin\"\nsha256 = \"{}\"\n",
            "0".repeat(64)
        )),
    );
    let (code, out, _) = verify_policy(&model, &sig, &policy, &bom_flag);
    assert_eq!(code, 1);
    assert!(out.contains("its exception names sha256:000"), "{out}");
}

#[test]
fn an_old_signature_or_an_unknown_signing_time_fails() {
    // Two years before the test clock: older than the 365 days allowed.
    let two_years_ago = (test_now().as_second() - 2 * 365 * 86_400).to_string();
    let (tmp, model, sig, bom) = signed(None, &two_years_ago);
    let policy = write_policy(
        tmp.path(),
        &demo_keys_policy("[require]\nmax_signature_age_days = 365\n"),
    );
    let (code, out, _) = verify_policy(&model, &sig, &policy, &["--bom", bom.to_str().unwrap()]);
    assert_eq!(code, 1);
    assert!(
        out.contains("policy (max-signature-age): signed") && out.contains("the policy allows 365"),
        "{out}"
    );
    let policy = write_policy(
        tmp.path(),
        &demo_keys_policy("[require]\nbom = false\nmax_signature_age_days = 365\n"),
    );
    let (code, out, _) = verify_policy(&model, &sig, &policy, &[]);
    assert_eq!(code, 1);
    assert!(out.contains("no signing time is known"), "{out}");
}

#[test]
fn ignore_unsigned_files_needs_the_policy_to_allow_it() {
    let (tmp, model, sig, bom) = signed(None, &now_epoch());
    let policy = write_policy(tmp.path(), &demo_keys_policy(""));
    let flags = ["--bom", bom.to_str().unwrap(), "--ignore-unsigned-files"];
    let (code, out, _) = verify_policy(&model, &sig, &policy, &flags);
    assert_eq!(code, 1);
    assert!(out.contains("policy (ignore-unsigned-files)"), "{out}");
    let policy = write_policy(
        tmp.path(),
        &demo_keys_policy("[require]\nallow_ignore_unsigned_files = true\n"),
    );
    assert_eq!(verify_policy(&model, &sig, &policy, &flags).0, 0);
}

#[test]
fn certificate_signers_are_constrained_by_subject() {
    let (tmp, model) = tiny_model();
    let sig = tmp.path().join("cert.sig");
    let pki = |f: &str| fixture(&format!("pki/{f}"));
    let (code, _, err) = sign_with_test_pki(&model, &sig, "signer.pem");
    assert_eq!(code, 0, "{err}");
    let policy = |subject: &str| {
        write_policy(
            tmp.path(),
            &format!(
                "[[signers.certificates]]\nanchor = {:?}\nsubject = {subject:?}\n[require]\nbom = false\n",
                pki("root.pem").to_str().unwrap()
            ),
        )
    };
    // Inside the test PKI's validity, whatever the run's test clock.
    let p = policy("CN=modelseal test release signer");
    let (code, out, err) = verify_policy_at(&model, &sig, &p, &[], PKI_NOW);
    assert_eq!(code, 0, "{out}{err}");
    let p = policy("CN=someone else");
    let (code, out, _) = verify_policy_at(&model, &sig, &p, &[], PKI_NOW);
    assert_eq!(code, 1);
    assert!(out.contains("only \"CN=someone else\" is allowed"), "{out}");
}

#[test]
fn policy_check_and_default() {
    let tmp = tempfile::tempdir().unwrap();
    let (code, default, _) = run(modelseal().args(["policy", "default"]));
    assert_eq!(code, 0);
    let path = write_policy(tmp.path(), &default);
    let (code, out, err) = run(modelseal().args(["policy", "check"]).arg(&path));
    assert_eq!(code, 0, "{err}");
    assert!(
        out.contains(
            "formats: safetensors, gguf, onnx, onnx-data, numpy, json, text (0 exceptions), \
             remote code denied"
        ),
        "{out}"
    );
    assert!(err.contains("names no signers"), "{err}");
    let bad = write_policy(tmp.path(), "[signers]\nkeys = [\"missing.pem\"]\n");
    let (code, _, err) = run(modelseal().args(["policy", "check"]).arg(&bad));
    assert_eq!(code, 2);
    assert!(err.contains("missing.pem"), "{err}");
    let bad = write_policy(tmp.path(), "[formats]\nallowed = [\"exe\"]\n");
    let (code, _, err) = run(modelseal().args(["policy", "check"]).arg(&bad));
    assert_eq!(code, 2);
    assert!(err.contains("unknown variant"), "{err}");
    // verify with a policy that names no signers and no --key: usage error.
    let (tmp2, model, sig, _) = signed(None, &now_epoch());
    let empty = write_policy(tmp2.path(), "");
    let (code, _, err) = verify_policy(&model, &sig, &empty, &[]);
    assert_eq!(code, 2);
    assert!(err.contains("names no signer"), "{err}");
}
