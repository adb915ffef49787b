//! A deploy gate with the library alone: verify a model directory against
//! its signature and a public key, apply the deploy policy when one is
//! given, and exit 0 only when the model may be deployed.
//!
//! ```sh
//! cargo run --example deploy_gate -- MODEL SIGNATURE PUBLIC_KEY [POLICY]
//! ```
//!
//! Exit codes: 0 deploy, 1 refused (the verdict says why), 2 unusable input.

#![allow(clippy::disallowed_macros)] // an example prints its verdict

use modelseal::fetch::InputKind;
use modelseal::gate::{Document, Gate, GateRequest};
use modelseal::keys::load_public_key;
use modelseal::policy::LoadedPolicy;
use modelseal::source::LocalSource;
use modelseal::verify::Trust;
use std::path::Path;
use std::process::ExitCode;

/// The largest signature bundle this gate reads.
const MAX_BUNDLE: u64 = 256 << 20;

fn gate(
    model: &Path,
    signature: &Path,
    key: &Path,
    policy: Option<&Path>,
) -> modelseal::Result<bool> {
    let key = load_public_key(key)?;
    let mut gate = Gate::new(vec![Trust::Key(key)]);
    if let Some(policy) = policy {
        gate = gate.with_policy(LoadedPolicy::load(policy)?)?;
    }
    let source = LocalSource::new(model);
    // The library never reads the clock: a deploy step passes its own.
    let now = modelseal::clock::Now::system(jiff::Timestamp::now());
    let request = GateRequest::new(
        &source,
        Document::read(signature, InputKind::Bundle(MAX_BUNDLE))?,
        now,
    );
    let outcome = gate.verify(request, &|_: u64| {})?;
    if outcome.is_verified() {
        let subject = outcome.subject.as_ref().map(|s| &*s.sha256);
        eprintln!(
            "deploy: {} (sha256:{})",
            model.display(),
            subject.unwrap_or("?")
        );
    } else {
        eprintln!("refused: {}", model.display());
        for failure in &outcome.verdict.failures {
            eprintln!("  {failure}");
        }
    }
    Ok(outcome.is_verified())
}

fn main() -> ExitCode {
    let args: Vec<String> = std::env::args().skip(1).collect();
    if !(3..=4).contains(&args.len()) {
        eprintln!("usage: deploy_gate MODEL SIGNATURE PUBLIC_KEY [POLICY]");
        return ExitCode::from(2);
    }
    let policy = args.get(3).map(Path::new);
    match gate(
        Path::new(&args[0]),
        Path::new(&args[1]),
        Path::new(&args[2]),
        policy,
    ) {
        Ok(true) => ExitCode::SUCCESS,
        Ok(false) => ExitCode::from(1),
        Err(e) => {
            eprintln!("error: {e}");
            ExitCode::from(2)
        }
    }
}
