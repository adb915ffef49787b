//! A deploy service's admission decision on the library alone. `admission
//! oci://HOST/REPO@sha256:... RELEASE.pub.pem POLICY.toml EVIDENCE EVIDENCE.priv.pem`
//! verifies the model against the signatures attached to it in its registry,
//! records the verification and the deployment, and prints admit, deny,
//! retry or tampered (exit 0, 1, 75, 3; 2 for anything else).
use modelseal::evidence::{Location, LocationEnv, Recorder};
use modelseal::fetch::{InputKind, read_text};
use modelseal::gate::{Document, Gate, GateRequest};
use modelseal::registry::{OciSource, oci::Credentials, oci::Reference, oci::RegistryOptions};
use modelseal::{Error, ErrorClass, Result, clock::Now, keys, policy::LoadedPolicy, verify::Trust};
use std::path::Path;

/// The deployment record's digest, or why the model is denied.
fn admit(a: &[String]) -> Result<Result<String, String>> {
    let [_, model, key, policy, evidence, evidence_key] = a else {
        return Err(Error::Usage("5 arguments".into()));
    };
    let text = |f: &String, kind| read_text(Path::new(f), kind); // capped reads
    let key = keys::parse_public_key(Path::new(key), &text(key, InputKind::Key)?)?; // PEM text
    let policy = LoadedPolicy::parse(
        text(policy, InputKind::Policy)?.as_bytes(),
        policy,
        Path::new("."),
    )?; // TOML text
    let gate = Gate::new(vec![Trust::Key(key)]).with_policy(policy)?;
    let libpq = LocationEnv::from_lookup(|name| std::env::var(name).ok()); // PGPASSFILE and the like
    let sealer = keys::parse_private_key(
        Path::new(evidence_key),
        &text(evidence_key, InputKind::Key)?,
    )?;
    let recorder = Recorder::open(&Location::parse(evidence.as_ref(), &libpq)?, sealer)?;
    let reference = Reference::parse(model)?;
    let mut options = RegistryOptions::new(Credentials::Anonymous); // a service passes its own
    options.plain_http = reference.registry().starts_with("127.0.0.1:"); // the test registry
    let model = OciSource::open(&reference, &options)?;
    let mut found = model
        .attached_bundles(64 << 20)? // each downloaded when reached
        .filter_map(|b| b.ok().map(|b| Document::from_bytes(b.uri, b.bytes)));
    let Some(first) = found.next() else {
        return Ok(Err("no signature is attached".into()));
    };
    let now = Now::system(jiff::Timestamp::now());
    let (_, outcome) = gate
        .verify_candidates(GateRequest::new(&model, first, now), found, &|_: u64| {})?
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
    let verification = recorder.append_verification(&record)?;
    if !outcome.is_verified() {
        return Ok(Err(failures));
    }
    Ok(Ok(recorder.record_deployment(
        &verification,
        Some("cluster/ns".into()),
        now,
    )?))
}

fn main() -> std::process::ExitCode {
    let (line, code) = match admit(&std::env::args().collect::<Vec<_>>()) {
        Ok(Ok(digest)) => (format!("admit: deployment recorded as sha256:{digest}"), 0),
        Ok(Err(failures)) => (format!("deny: {failures}"), 1),
        Err(e) if e.class() == ErrorClass::Retry => (format!("retry: {e}"), 75),
        Err(e) if e.class() == ErrorClass::Tampered => (format!("tampered: {e}"), 3),
        Err(e) => (format!("error: {e}"), 2),
    };
    // A closed stdout must not panic: the exit code carries the decision.
    let _ = std::io::Write::write_all(&mut std::io::stdout(), format!("{line}\n").as_bytes());
    code.into()
}
