//! Witnesses of the evidence log: `evidence witness` asks a policy's
//! witnesses to cosign the log's checkpoint, `evidence verifier-key`
//! prints the key witnesses are given for the log, and `evidence verify
//! --witness-policy` checks the log against them.

use super::evidence::LogArgs;
use super::{Context, Format, Outcome, escape, print_json};
use clap::Args;
use modelseal::evidence::{Location, LogCheck, VerifyOptions, verify_store};
use modelseal::fetch::{InputKind, read_text};
use modelseal::registry::tsa::Tsa;
use modelseal::witness::{self as modelseal_witness, Outcome as Held, Policy, WitnessCheck};
use modelseal::witness::{RecordRef, Seconds, StoreCheck, check_store};
use modelseal::witnessing::{TsaStamp, Witnessed, witness_and_keep, witness_if_due};
use modelseal::{Error, Result};
use serde_json::json;
use std::ffi::OsString;
use std::path::PathBuf;
use std::time::{Duration, SystemTime};

/// The witness policy at `path`.
fn read_policy(path: &std::path::Path) -> Result<Policy> {
    let text = read_text(path, InputKind::Policy)?;
    Policy::parse(&text).map_err(|e| Error::Usage(format!("{}: {e}", path.display())))
}

/// How the log is held against witnesses.
#[derive(Debug, Args, Clone)]
pub struct WitnessArgs {
    /// A witness policy (C2SP tlog-policy): the log is checked against its witnesses and must reach its quorum.
    #[arg(long, value_name = "FILE", env = "MODELSEAL_WITNESS_POLICY")]
    pub witness_policy: Option<PathBuf>,
    /// How long each witness may take to answer, in seconds.
    #[arg(long, value_name = "SECONDS", default_value_t = 10,
          value_parser = clap::value_parser!(u64).range(1..=600))]
    pub witness_timeout: u64,
    /// The log is a copy (an export): check the cosignatures it carries, without asking the witnesses (who have seen the log grow since).
    #[arg(long)]
    pub snapshot: bool,
    /// evidence witness: have this RFC 3161 time-stamping authority stamp the cosigned checkpoint (kept beside it, .tsr).
    #[arg(long, value_name = "URL", requires = "witness_policy")]
    pub tsa: Option<String>,
    /// The TSA's trusted certificates (PEM): the stamp is checked when made, and evidence verify and audit require it to hold.
    #[arg(long, value_name = "PEM", requires = "witness_policy")]
    pub tsa_chain: Option<PathBuf>,
}

impl WitnessArgs {
    pub fn policy(&self) -> Result<Option<Policy>> {
        self.witness_policy.as_deref().map(read_policy).transpose()
    }

    fn timeout(&self) -> Duration {
        Duration::from_secs(self.witness_timeout)
    }

    /// How the log is held to the policy's witnesses (the TSA's anchors
    /// borrowed from `anchors`, read by [`WitnessArgs::anchors`]).
    pub fn store_check<'a>(
        &self,
        anchors: Option<&'a [Vec<u8>]>,
        now: jiff::Timestamp,
    ) -> StoreCheck<'a> {
        let mut options = StoreCheck::new(self.timeout(), now);
        options.ask = !self.snapshot;
        options.tsa_anchors = anchors;
        options
    }

    /// The TSA's trust anchors (DER), when a chain is given.
    pub fn anchors(&self) -> Result<Option<Vec<Vec<u8>>>> {
        self.tsa_chain
            .as_deref()
            .map(modelseal::keys::load_certificates)
            .transpose()
    }
}

/// `evidence verify` under a witness policy: checks the verified log
/// against the witnesses; `None` without a policy. A checkpoint the caller
/// kept (`--checkpoint KEPT`) is relied on, so it must carry the quorum's
/// cosignatures itself.
pub fn verify(
    args: &WitnessArgs,
    location: &Location,
    key: &ed25519_dalek::VerifyingKey,
    check: &LogCheck,
    kept: Option<&str>,
    now: jiff::Timestamp,
) -> Result<Option<WitnessCheck>> {
    let Some(policy) = args.policy()? else {
        return Ok(None);
    };
    let anchors = args.anchors()?;
    let mut options = args.store_check(anchors.as_deref(), now);
    options.kept = kept;
    let store = location.open()?;
    check_store(&policy, store.as_ref(), key, check, &options).map(Some)
}

/// The witness lines of a verification.
pub fn print_check(found: &WitnessCheck) {
    if !found.problems.is_empty() {
        outln!(
            "WITNESSES DISAGREE: {}",
            escape(&found.problems[0].to_string())
        );
    }
    match &found.witnessed {
        Some(cp) if found.quorum => {
            outln!("witnessed: {} records under the policy's quorum", cp.size)
        }
        _ => outln!(
            "NOT WITNESSED: {}",
            escape(
                found
                    .missing
                    .as_deref()
                    .unwrap_or("the quorum is not reached")
            )
        ),
    }
    if let Some(cp) = found.witnessed.as_ref().filter(|_| found.unwitnessed > 0) {
        outln!(
            "  witnessed up to {} records: the last {} are not",
            cp.size,
            found.unwitnessed
        );
    }
    if let Some(time) = found.trusted_time {
        outln!(
            "  trusted time: its quorum had cosigned it by {}",
            Seconds(time)
        );
    }
    for (name, time) in &found.cosignatures {
        outln!("  cosignature: {} at {}", escape(name), Seconds(*time));
    }
    if let Some((size, when)) = &found.stamped {
        outln!(
            "  stamped: the cosigned checkpoint of {size} records existed by {} (RFC 3161)",
            escape(when)
        );
    }
    for (name, outcome) in &found.outcomes {
        outln!(
            "  witness {}: {}",
            escape(name),
            escape(&outcome.to_string())
        );
    }
    for p in &found.problems {
        outln!("  {}", escape(&p.to_string()));
    }
}

/// The witness check as JSON.
pub fn check_json(found: &WitnessCheck) -> serde_json::Value {
    json!({
        "quorum": found.quorum,
        "witnessed_size": found.witnessed.as_ref().map(|c| c.size),
        "unwitnessed": found.unwitnessed,
        "trusted_time": found.trusted_time,
        "cosignatures": found.cosignatures.iter().map(|(n, t)| json!({"witness": n, "time": t})).collect::<Vec<_>>(),
        "witnesses": found.outcomes.iter().map(|(n, o)| json!({"witness": n, "holds": o.to_string()})).collect::<Vec<_>>(),
        "problems": found.problems.iter().map(ToString::to_string).collect::<Vec<_>>(),
        "missing": found.missing,
    })
}

/// `evidence witness`: asks the policy's witnesses to cosign the log's
/// checkpoint and keeps the cosigned checkpoint.
pub fn run_witness(
    ctx: &Context,
    path: Option<OsString>,
    log: &LogArgs,
    args: &WitnessArgs,
) -> Result<Outcome> {
    let policy = args.policy()?.ok_or_else(|| {
        Error::Usage("give --witness-policy FILE (or MODELSEAL_WITNESS_POLICY)".into())
    })?;
    let location = log.location(path)?;
    let key = log.verifying_key()?;
    let shown = location.to_string();
    let tsa = match &args.tsa {
        Some(url) => Some(Tsa {
            url: url.clone(),
            anchors: args.anchors()?.unwrap_or_default(),
        }),
        None => None,
    };
    let store = location.open()?;
    let witnessed = witness_and_keep(
        store.as_ref(),
        &key,
        &policy,
        args.timeout(),
        ctx.now.time(),
        tsa.as_ref(),
    )?;
    let done = &witnessed.done;
    let stamped = witnessed.stamp.map(|s| match s {
        TsaStamp::Checked(s) => format!("stamped at {} by {}", s.time, s.tsa),
        _ => "stamped (not checked: no --tsa-chain)".to_string(),
    });
    let (run, size, kept) = (&done.run, done.size, done.kept);
    let bad = run
        .outcomes
        .iter()
        .any(|(_, o)| matches!(o, Held::Ahead(_) | Held::Forked));
    match ctx.format {
        Format::Json => print_json(&json!({
            "log": shown,
            "size": size,
            "quorum": run.quorum,
            "witnesses": run.outcomes.iter().map(|(n, o)| json!({"witness": n, "holds": o.to_string()})).collect::<Vec<_>>(),
            "problems": run.problems,
            "kept": kept.then_some(&shown),
            "quorum_time": done.quorum_time,
            "stamped": stamped,
        })),
        _ => {
            if run.quorum {
                outln!("witnessed: {} records, quorum reached", size);
            } else {
                outln!("NOT WITNESSED: {} records, the quorum is not reached", size);
            }
            for (name, outcome) in &run.outcomes {
                outln!(
                    "  witness {}: {}",
                    escape(name),
                    escape(&outcome.to_string())
                );
            }
            for p in &run.problems {
                outln!("  {}", escape(p));
            }
            if kept {
                outln!("  cosigned checkpoint kept in {}", escape(&shown));
            }
            if let Some(s) = &stamped {
                outln!("  RFC 3161: {}", escape(s));
            }
        }
    }
    Ok(if run.quorum && !bad { 0 } else { 1 })
}

/// `evidence verifier-key`: the log's verifier key for witnesses
/// (`witnessctl add-key`) and the policy's `log` line.
pub fn run_verifier_key(ctx: &Context, path: Option<OsString>, log: &LogArgs) -> Result<Outcome> {
    let location = log.location(path)?;
    let key = log.verifying_key()?;
    let check = verify_store(location.open()?.as_ref(), &key, VerifyOptions::default())?;
    let cp = check.checkpoint.as_ref().ok_or_else(|| {
        Error::Evidence(format!(
            "{}: its checkpoint does not verify",
            check.location
        ))
    })?;
    let vkey = modelseal::evidence::verifier_key(&cp.origin, &key);
    match ctx.format {
        Format::Json => print_json(&json!({ "origin": cp.origin, "verifier_key": vkey })),
        _ => outln!("{vkey}"),
    }
    Ok(0)
}

/// `evidence proof`: the offline proof that a record is in the log, over
/// the latest cosigned checkpoint that covers it (else the log's own).
pub fn run_proof(
    ctx: &Context,
    record: &str,
    path: Option<OsString>,
    log: &LogArgs,
    out: &std::path::Path,
    policy: Option<&std::path::Path>,
) -> Result<Outcome> {
    let policy = policy.map(read_policy).transpose()?;
    let location = log.location(path)?;
    let key = log.verifying_key()?;
    let digest;
    let wanted = match record.parse::<usize>() {
        Ok(n) => RecordRef::Number(n),
        Err(_) => {
            digest = super::evidence::digest_arg(record)?;
            RecordRef::Digest(&digest)
        }
    };
    let store = location.open()?;
    let now = ctx.now.time();
    let proof = modelseal_witness::prove(store.as_ref(), &key, wanted, policy.as_ref(), now)?;
    let mut file = std::fs::OpenOptions::new()
        .write(true)
        .create_new(true)
        .open(out)
        .map_err(|e| Error::io(out, e))?;
    std::io::Write::write_all(&mut file, proof.text.as_bytes()).map_err(|e| Error::io(out, e))?;
    let (number, digest) = (proof.record.index + 1, &proof.record.digest);
    match ctx.format {
        Format::Json => print_json(&json!({
            "record": number,
            "digest": digest,
            "checkpoint_size": proof.size,
            "cosigned": proof.cosigned,
            "quorum_checked": proof.checked,
            "proof": out,
        })),
        _ => outln!(
            "proof of record {number} (sha256:{digest}) in the checkpoint of {} records{} written to {}",
            proof.size,
            match (proof.cosigned, proof.checked) {
                (true, true) => ", with its cosignatures (they reach the witness policy's quorum),",
                (true, false) => ", with its cosignatures (not checked: no witness policy given),",
                _ => "",
            },
            escape(&out.display().to_string())
        ),
    }
    Ok(0)
}

/// `evidence check-proof`: checks an offline proof with the log's public
/// key and, when given, the witness policy.
pub fn run_check_proof(
    ctx: &Context,
    proof: &std::path::Path,
    evidence_key: &std::path::Path,
    record: Option<&std::path::Path>,
    args: &WitnessArgs,
) -> Result<Outcome> {
    let key = modelseal::evidence::evidence_verifying_key(&modelseal::keys::load_public_key(
        evidence_key,
    )?)?;
    let text = read_text(proof, InputKind::Checkpoint)?;
    let line = record
        .map(|p| {
            read_text(p, InputKind::Checkpoint)
                .map(|t| t.trim_end_matches('\n').as_bytes().to_vec())
        })
        .transpose()?;
    // Without witnesses, whoever holds the evidence key could forge both
    // the history and the proof.
    let policy = Some(args.policy()?.ok_or_else(|| {
        Error::Usage(
            "give --witness-policy FILE (or MODELSEAL_WITNESS_POLICY): a proof is worth what \
             its witnesses vouch for"
                .into(),
        )
    })?);
    let checked =
        match modelseal_witness::check_proof(&text, line.as_deref(), &key, policy.as_ref()) {
            Ok(c) => c,
            Err(why) => {
                let why = why.to_string();
                match ctx.format {
                    Format::Json => {
                        print_json(&json!({ "proof": proof, "valid": false, "problem": why }))
                    }
                    _ => outln!(
                        "INVALID: {}: {}",
                        escape(&proof.display().to_string()),
                        escape(&why)
                    ),
                }
                return Ok(1);
            }
        };
    let witnessed = policy.is_none() || checked.quorum;
    match ctx.format {
        Format::Json => print_json(&json!({
            "proof": proof,
            "valid": witnessed,
            "record": checked.record.index + 1,
            "digest": checked.record.digest,
            "predicate_type": checked.record.predicate_type(),
            "time": checked.record.time().to_string(),
            "log": checked.checkpoint.origin,
            "checkpoint_size": checked.checkpoint.size,
            "quorum": policy.as_ref().map(|_| checked.quorum),
            "cosignatures": checked.cosignatures.iter().map(|(n, t)| json!({"witness": n, "time": t})).collect::<Vec<_>>(),
        })),
        _ => {
            outln!(
                "{}: record {} (sha256:{}, {}, {}) is in {} of {} records",
                if witnessed {
                    "included"
                } else {
                    "NOT WITNESSED"
                },
                checked.record.index + 1,
                checked.record.digest,
                checked.record.predicate_type(),
                checked.record.time(),
                escape(&checked.checkpoint.origin),
                checked.checkpoint.size
            );
            for (name, time) in &checked.cosignatures {
                outln!("  cosignature: {} at {}", escape(name), Seconds(*time));
            }
            if policy.is_some() && !checked.quorum {
                outln!("  the cosignatures do not reach the witness policy's quorum");
            }
        }
    }
    Ok(if witnessed { 0 } else { 1 })
}

/// After a command that appends to the log in `evidence`: when a witness
/// policy is given, and the last attempt is older than the interval, the
/// witnesses are asked to cosign the log. Whatever happens to that, the
/// command's own outcome stands: a failure is one warning, and the next
/// append or `evidence witness` tries again.
pub fn after(
    ctx: &Context,
    evidence: &super::EvidenceArgs,
    outcome: Result<Outcome>,
) -> Result<Outcome> {
    let (Ok(_), Some(log), Some(policy)) = (&outcome, &evidence.evidence, &evidence.witness_policy)
    else {
        return outcome;
    };
    let witnessed = (|| -> Result<Option<Witnessed>> {
        let text = read_text(policy, InputKind::Policy)?;
        let policy =
            Policy::parse(&text).map_err(|e| Error::Usage(format!("{}: {e}", policy.display())))?;
        let location = Location::parse(log, &super::env::pg())?;
        // The key's public half, from a file or a token alike: read only
        // when the witnesses are asked.
        let key = || {
            let path = evidence.evidence_key.as_ref().ok_or_else(|| {
                Error::Usage("--evidence needs --evidence-key (or MODELSEAL_EVIDENCE_KEY)".into())
            })?;
            modelseal::evidence::evidence_verifying_key(&super::private_key(path)?.public_key())
        };
        let interval = Duration::from_secs(evidence.witness_interval);
        let (timeout, wall) = (Duration::from_secs(10), SystemTime::now());
        witness_if_due(
            &location,
            &key,
            &policy,
            interval,
            timeout,
            wall,
            ctx.now.time(),
        )
    })();
    let failure = match witnessed {
        Ok(None) => None,
        Ok(Some(w)) if w.done.run.quorum => {
            if !ctx.quiet {
                errln!("evidence: witnessed {} records", w.done.size);
            }
            None
        }
        Ok(Some(w)) => {
            let lacking: Vec<String> = w
                .done
                .run
                .outcomes
                .iter()
                .filter(|(_, o)| !matches!(o, Held::Cosigned(_)))
                .map(|(n, o)| format!("{n}: {o}"))
                .collect();
            Some(format!(
                "the quorum is not reached for {} records ({})",
                w.done.size,
                lacking.join("; ")
            ))
        }
        Err(Error::Evidence(why)) => Some(why),
        Err(other) => Some(other.to_string()),
    };
    if let Some(why) = failure {
        ctx.warn(&format!(
            "witnessing: {} (the record is kept; the next append or `evidence witness` tries again)",
            escape(&why)
        ));
    }
    outcome
}
