//! Evidence-store benchmark driver for `scripts/bench-evidence.sh` (not a
//! test): appends through the library with N writers (one store, so one
//! database connection, per writer), builds a large log, verifies it.
//!
//! ```text
//! evidence_bench append LOG KEY WRITERS RECORDS_PER_WRITER
//! evidence_bench build FILE KEY RECORDS [mix]
//! evidence_bench verify LOG PUBLIC_KEY
//! ```
//! `build ... mix` writes what a team's log holds, over 10,000 models in
//! turn: a signing, a passing verification, a deployment relying on it,
//! and a reviewed document for one of the checklist's document controls.
//! LOG is a file path or a postgres:// URI. Prints one line of results.
#![allow(clippy::disallowed_macros)] // a benchmark prints its numbers

use modelseal::evidence::record::DeploymentEvidence;
use modelseal::evidence::{
    EvidenceSubject, FileLog, Location, NewRecord, Predicate, Recorder, VerifyOptions,
    evidence_verifying_key, verify_store,
};
use modelseal::keys::{load_private_key, load_public_key};
use std::ffi::OsStr;
use std::path::Path;
use std::time::Instant;

/// The `i`th record of a team's log over 10,000 models: sign, verify,
/// deploy, attach, model after model.
fn mixed(i: usize, time: jiff::Timestamp) -> NewRecord {
    use modelseal::evidence::record::{
        AttachmentEvidence, DocumentRef, ResourceRef, SIGNATURE_ONLY_POLICY, SignEvidence,
        SignerInfo, Tool, VERIFIER_ID, VerificationResult, VerificationSummary, VerifiedLevel,
        VerifierInfo,
    };
    use std::collections::BTreeMap;
    const MODELS: usize = 10_000;
    let model = (i / 4) % MODELS;
    let sha256 = format!("{model:064x}");
    let cite = ResourceRef::of_bytes(format!("model-{model}.sig"), model.to_string().as_bytes());
    let predicate = match i % 4 {
        0 => Predicate::Sign(Box::new(SignEvidence {
            signer: SignerInfo {
                fingerprint: Some(format!("SHA256:{}", "ab".repeat(32))),
                algorithm: Some("ed25519".into()),
                ..SignerInfo::default()
            },
            signature: cite,
            bom: None,
            bom_signature: None,
            datasets: None,
            base_models: None,
            base_model_refs: None,
            location: None,
            tool: Tool::this(),
            time,
        })),
        1 => Predicate::Verification(Box::new(VerificationSummary {
            verifier: VerifierInfo {
                id: VERIFIER_ID.into(),
                version: BTreeMap::new(),
            },
            time_verified: time,
            resource_uri: format!("file:///models/model-{model}"),
            policy: ResourceRef::uri(SIGNATURE_ONLY_POLICY),
            input_attestations: vec![cite],
            verification_result: VerificationResult::Passed,
            verified_levels: vec![
                VerifiedLevel::SignatureVerified,
                VerifiedLevel::FilesVerified,
                VerifiedLevel::FormatsSafe,
            ],
            failures: vec![],
            signer: None,
            ignored_paths: vec![],
            ignore_unsigned_files: false,
            links_outside_root: vec![],
            trusted_keys: vec![format!("SHA256:{}", "ab".repeat(32))],
            format_exceptions: vec![],
        })),
        2 => Predicate::Deployment(Box::new(DeploymentEvidence {
            target: Some("prod".into()),
            verification: None,
            admission: None,
            time,
        })),
        _ => Predicate::Attachment(Box::new(AttachmentEvidence {
            control: [1, 2, 3, 5, 6, 8][model % 6],
            document: DocumentRef {
                name: format!("doc-{model}.md"),
                uri: format!("doc-{model}.md"),
                digest: modelseal::evidence::record::Digests::from([("sha256", "cd".repeat(32))]),
                size: 100,
            },
            reviewer: Some("lead".into()),
            reviewed: time.to_zoned(jiff::tz::TimeZone::UTC).date(),
            version: None,
            next_review: None,
            model: None,
            note: None,
            recorded_at: time,
        })),
    };
    NewRecord {
        subject: EvidenceSubject::new(format!("model-{model}"), sha256),
        predicate,
        clock: modelseal::clock::TimeSource::System,
    }
}

fn record(writer: usize, i: usize) -> NewRecord {
    NewRecord {
        subject: EvidenceSubject::new(
            format!("bench-model-{writer}-{i}"),
            format!("{:064x}", writer * 10_000_000 + i),
        ),
        predicate: Predicate::Deployment(Box::new(DeploymentEvidence {
            target: Some("bench".into()),
            verification: None,
            admission: None,
            // A benchmark is a program of its own: it reads the clock.
            time: modelseal::clock::Now::system(jiff::Timestamp::now()).time(),
        })),
        clock: modelseal::clock::TimeSource::System,
    }
}

/// The libpq variables (the password file) from this process's environment:
/// the library reads none itself.
fn pg_env() -> modelseal::evidence::LocationEnv {
    modelseal::evidence::LocationEnv::from_lookup(|name| std::env::var(name).ok())
}

fn main() -> Result<(), Box<dyn std::error::Error>> {
    let args: Vec<String> = std::env::args().collect();
    let usage = "usage: evidence_bench append LOG KEY WRITERS RECORDS | build FILE KEY RECORDS [mix] | verify LOG PUBLIC_KEY";
    match args.get(1).map(String::as_str) {
        Some("append") if args.len() == 6 => {
            let location = Location::parse(OsStr::new(&args[2]), &pg_env())?;
            let key_path = Path::new(&args[3]);
            let writers: usize = args[4].parse()?;
            let per_writer: usize = args[5].parse()?;
            // Connect every writer first: the rate is of appends.
            let recorders = (0..writers)
                .map(|_| Recorder::open(&location, load_private_key(key_path)?))
                .collect::<modelseal::Result<Vec<_>>>()?;
            let start = Instant::now();
            std::thread::scope(|s| {
                for (w, recorder) in recorders.iter().enumerate() {
                    s.spawn(move || {
                        for i in 0..per_writer {
                            recorder.append(&record(w, i)).expect("append");
                        }
                    });
                }
            });
            let secs = start.elapsed().as_secs_f64();
            let total = writers * per_writer;
            println!(
                "append writers={writers} records={total} seconds={secs:.3} appends_per_second={:.0}",
                total as f64 / secs
            );
        }
        Some("build") if args.len() == 5 || (args.len() == 6 && args[5] == "mix") => {
            // A large file log written directly (sealed records, the tree,
            // one signed checkpoint), as appends would leave it.
            let key = load_private_key(Path::new(&args[3]))?;
            let path = Path::new(&args[2]);
            let count: usize = args[4].parse()?;
            if args.len() == 6 {
                // One clock reading: every record at the same second.
                let now = jiff::Timestamp::now();
                FileLog::create_with(path, (0..count).map(|i| mixed(i, now)), &key)?;
            } else {
                FileLog::create_with(path, (0..count).map(|i| record(0, i)), &key)?;
            }
            println!(
                "build records={count} bytes={}",
                std::fs::metadata(path)?.len()
            );
        }
        Some("verify") if args.len() == 4 => {
            let location = Location::parse(OsStr::new(&args[2]), &pg_env())?;
            let key = evidence_verifying_key(&load_public_key(Path::new(&args[3]))?)?;
            let store = location.open()?;
            let start = Instant::now();
            let check = verify_store(store.as_ref(), &key, VerifyOptions::default())?;
            let secs = start.elapsed().as_secs_f64();
            if !check.ok() {
                return Err(format!("the log does not verify: {:?}", check.problems).into());
            }
            println!(
                "verify records={} seconds={secs:.3} records_per_second={:.0}",
                check.lines,
                check.lines as f64 / secs
            );
        }
        _ => return Err(usage.into()),
    }
    Ok(())
}
