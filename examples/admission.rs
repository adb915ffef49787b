//! A deploy service's admission decision on the library alone. `admission
//! oci://HOST/REPO@sha256:... RELEASE.pub.pem POLICY.toml EVIDENCE EVIDENCE.priv.pem`
//! verifies the model against the signatures attached to it in its registry,
//! records the verification and the deployment, and prints admit, deny,
//! retry or tampered (exit 0, 1, 75, 3; 2 for anything else).
#![allow(clippy::disallowed_macros)] // an example prints its decision
use modelseal::evidence::{Location, Recorder};
use modelseal::gate::{Document, Gate, GateRequest};
use modelseal::registry::{OciSource, oci::Credentials, oci::Reference, oci::RegistryOptions};
use modelseal::{ErrorClass, Result, clock::Now, keys, policy::LoadedPolicy, verify::Trust};
use std::path::Path;

/// The deployment record's digest, or why the model is denied.
fn admit(a: &[String], text: &dyn Fn(usize) -> String) -> Result<Result<String, String>> {
    let [_, model, _, _, evidence, _] = a else {
        return Err(modelseal::Error::Usage("5 arguments".into()));
    };
    let key = keys::parse_public_key(Path::new(&a[2]), &text(2))?; // PEM text
    let policy = LoadedPolicy::parse(text(3).as_bytes(), &a[3], Path::new("."))?; // TOML text
    let gate = Gate::new(vec![Trust::Key(key)]).with_policy(policy)?;
    let evidence_key = keys::parse_private_key(Path::new(&a[5]), &text(5))?;
    let recorder = Recorder::open(&Location::parse(evidence.as_ref())?, evidence_key)?;
    let (reference, mut options) = (
        Reference::parse(model)?,
        RegistryOptions::new(Credentials::Anonymous),
    );
    options.plain_http = reference.registry().starts_with("127.0.0.1:"); // the test registry
    let model = OciSource::open(&reference, &options)?;
    let mut found = model
        .bundles(64 << 20)?
        .bundles
        .into_iter()
        .map(|b| Document::from_bytes(b.uri, b.bytes));
    let Some(first) = found.next() else {
        return Ok(Err("no signature is attached".into()));
    };
    let now = Now::system(jiff::Timestamp::now());
    let (_, outcome) = gate
        .verify_candidates(
            GateRequest::new(&model, first, now),
            found.collect(),
            &|_: u64| {},
        )?
        .chosen;
    let failures = outcome
        .verdict
        .failures
        .iter()
        .map(ToString::to_string)
        .collect::<Vec<_>>()
        .join("; ");
    let Some(record) = outcome.record() else {
        return Ok(Err(failures));
    };
    let verification = recorder.append(&record)?;
    if !outcome.is_verified() {
        return Ok(Err(failures));
    }
    Ok(Ok(recorder.record_deployment(
        &record.subject,
        &verification,
        Some("cluster/ns".into()),
        now,
    )?))
}

fn main() -> std::process::ExitCode {
    let a: Vec<String> = std::env::args().collect();
    let (line, code) = match admit(&a, &|i| {
        a.get(i)
            .and_then(|f| std::fs::read_to_string(f).ok())
            .unwrap_or_default()
    }) {
        Ok(Ok(digest)) => (format!("admit: deployment recorded as sha256:{digest}"), 0),
        Ok(Err(failures)) => (format!("deny: {failures}"), 1),
        Err(e) if e.class() == ErrorClass::Retry => (format!("retry: {e}"), 75),
        Err(e) if e.class() == ErrorClass::Tampered => (format!("tampered: {e}"), 3),
        Err(e) => (format!("error: {e}"), 2),
    };
    println!("{line}");
    code.into()
}
