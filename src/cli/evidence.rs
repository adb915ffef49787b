//! `modelseal evidence`: attach reviewed documents, record deployments,
//! list records, verify the log, export it for an auditor, and set up and
//! fill a database log.

use super::{Context, EvidenceArgs, Format, Outcome, escape, print_json};
use clap::{Args, Subcommand};
use modelseal::evidence::record::Predicate;
use modelseal::evidence::{
    Location, LogCheck, VerifyOptions, evidence_verifying_key, verify_location, verify_store,
};
use modelseal::keys::load_public_key;
use modelseal::{Error, Result};
use serde_json::json;
use std::ffi::OsString;
use std::path::{Path, PathBuf};

#[derive(Debug, Args)]
pub struct EvidenceCommand {
    #[command(subcommand)]
    command: Sub,
}

/// Reading a log: where it is and the key that sealed it.
#[derive(Debug, Args)]
pub struct LogArgs {
    /// The evidence log: a JSON Lines file or a postgres:// URI.
    #[arg(
        long = "evidence",
        value_name = "LOG",
        env = "MODELSEAL_EVIDENCE",
        hide_env_values = true
    )]
    pub evidence_flag: Option<OsString>,
    /// The evidence key (its public half is enough).
    #[arg(long, value_name = "KEY", env = "MODELSEAL_EVIDENCE_KEY")]
    pub evidence_key: PathBuf,
}

#[derive(Debug, Subcommand)]
enum Sub {
    /// Record a reviewed document for a document control of the checklist.
    Attach {
        /// The control number (a document control of the checklist).
        #[arg(long, value_parser = clap::value_parser!(u32).range(1..))]
        control: u32,
        /// The document (its SHA-256, name and size are recorded).
        #[arg(long)]
        file: PathBuf,
        /// Who reviewed it.
        #[arg(long)]
        reviewer: String,
        /// The review date (YYYY-MM-DD, not in the future); default today (UTC).
        #[arg(long, value_name = "DATE")]
        reviewed: Option<String>,
        /// The document's version or identifier.
        #[arg(long)]
        version: Option<String>,
        /// When the next review is due (YYYY-MM-DD); default the review date
        /// plus the control's max_age_days.
        #[arg(long, value_name = "DATE")]
        next_review: Option<String>,
        /// The model the document speaks for (its OMS root digest,
        /// sha256:HEX); without it, the document speaks for every model.
        #[arg(long, value_name = "DIGEST")]
        model: Option<String>,
        /// A note.
        #[arg(long)]
        note: Option<String>,
        /// The checklist whose document controls are accepted (default: the shipped one).
        #[arg(long, value_name = "FILE")]
        checklist: Option<PathBuf>,
        #[command(flatten)]
        log: EvidenceArgs,
    },
    /// Record that a model was deployed, and the verification it relied on.
    Deploy {
        /// The model's OMS root digest (sha256:HEX or HEX).
        #[arg(long)]
        model: String,
        /// The model's name.
        #[arg(long)]
        name: String,
        /// Where it was deployed.
        #[arg(long)]
        target: Option<String>,
        /// The verification record it relied on (sha256:HEX, the record's
        /// digest as `evidence list --format json` shows it); default the
        /// latest verification of the model in the log.
        #[arg(long, value_name = "RECORD")]
        verification: Option<String>,
        #[command(flatten)]
        log: EvidenceArgs,
    },
    /// Check every record's signature and the log against its checkpoint.
    Verify {
        /// The evidence log, a file or a postgres:// URI (or --evidence, or
        /// MODELSEAL_EVIDENCE).
        path: Option<OsString>,
        #[command(flatten)]
        log: LogArgs,
        /// An older checkpoint the log must extend (consistency).
        #[arg(long, value_name = "FILE")]
        checkpoint: Option<PathBuf>,
        #[command(flatten)]
        witnesses: super::witness::WitnessArgs,
    },
    /// Ask the witness policy's witnesses to cosign the log's checkpoint, and keep the cosigned checkpoint.
    Witness {
        /// The evidence log, a file or a postgres:// URI (or --evidence, or
        /// MODELSEAL_EVIDENCE).
        path: Option<OsString>,
        #[command(flatten)]
        log: LogArgs,
        #[command(flatten)]
        witnesses: super::witness::WitnessArgs,
    },
    /// Write an offline proof (C2SP tlog-proof) that a record is in the log, with the witnesses' cosignatures.
    Proof {
        /// The record: its number (from 1) or its digest (sha256:HEX).
        record: String,
        /// The evidence log, a file or a postgres:// URI (or --evidence, or
        /// MODELSEAL_EVIDENCE).
        path: Option<OsString>,
        #[command(flatten)]
        log: LogArgs,
        /// Where to write the proof (not overwritten).
        #[arg(long, value_name = "FILE")]
        out: PathBuf,
        /// A witness policy: the proof is over the largest kept checkpoint whose cosignatures reach its quorum (without one, over the largest kept, its cosignatures unchecked).
        #[arg(long, value_name = "FILE", env = "MODELSEAL_WITNESS_POLICY")]
        witness_policy: Option<PathBuf>,
    },
    /// Check an offline proof that a record is in the log, with the log's public key and the witness policy alone.
    CheckProof {
        /// The proof (C2SP tlog-proof).
        proof: PathBuf,
        /// The evidence key (its public half is enough).
        #[arg(long, value_name = "KEY", env = "MODELSEAL_EVIDENCE_KEY")]
        evidence_key: PathBuf,
        /// The record's log line, when the proof should be held to it.
        #[arg(long, value_name = "FILE")]
        record: Option<PathBuf>,
        #[command(flatten)]
        witnesses: super::witness::WitnessArgs,
    },
    /// Print the log's verifier key (origin+keyhash+base64), for `witnessctl add-key` and a witness policy's `log` line.
    VerifierKey {
        /// The evidence log, a file or a postgres:// URI (or --evidence, or
        /// MODELSEAL_EVIDENCE).
        path: Option<OsString>,
        #[command(flatten)]
        log: LogArgs,
    },
    /// List records (verified with the evidence key).
    List {
        /// The evidence log, a file or a postgres:// URI (or --evidence, or
        /// MODELSEAL_EVIDENCE).
        path: Option<OsString>,
        #[command(flatten)]
        log: LogArgs,
        /// Only records about this model (sha256:HEX or HEX).
        #[arg(long)]
        model: Option<String>,
        /// Only attachments for this control.
        #[arg(long)]
        control: Option<u32>,
        /// Only records at or after this time (RFC 3339 or YYYY-MM-DD).
        #[arg(long)]
        since: Option<String>,
        /// Only records at or before this time.
        #[arg(long)]
        until: Option<String>,
    },
    /// Write what an auditor receives into DIR: the log, its checkpoint (byte
    /// for byte), the public key, its fingerprint, and the audit reports.
    Export {
        /// The evidence log, a file or a postgres:// URI (or --evidence, or
        /// MODELSEAL_EVIDENCE).
        path: Option<OsString>,
        #[command(flatten)]
        log: LogArgs,
        /// The directory to write (created if missing; files in it are never
        /// overwritten).
        #[arg(long, value_name = "DIR")]
        out: PathBuf,
        /// The checklist the reports evaluate (default: the shipped one).
        #[arg(long, value_name = "FILE")]
        checklist: Option<PathBuf>,
    },
    /// Create a database log's schema, once, as the role that will own it.
    #[cfg(feature = "postgres")]
    Init {
        /// The database: postgres://ADMIN@HOST:PORT/DB.
        uri: OsString,
        /// The evidence key the log will be sealed with (its public half is
        /// enough).
        #[arg(
            long,
            value_name = "KEY",
            env = "MODELSEAL_EVIDENCE_KEY",
            required_unless_present = "upgrade"
        )]
        evidence_key: Option<PathBuf>,
        /// A role that appends records and keeps cosigned checkpoints
        /// (granted INSERT and SELECT). Repeatable.
        #[arg(long, value_name = "ROLE")]
        writer: Vec<String>,
        /// A role that verifies and audits (granted SELECT). Repeatable.
        #[arg(long, value_name = "ROLE")]
        reader: Vec<String>,
        /// Upgrade an existing schema to this release's version instead
        /// (version 2 keeps cosigned checkpoints), granting the roles given.
        #[arg(long)]
        upgrade: bool,
    },
    /// Move a file log into an empty database log (same records, same root).
    #[cfg(feature = "postgres")]
    Import {
        /// The file log.
        file: PathBuf,
        /// The database: postgres://WRITER@HOST:PORT/DB.
        uri: OsString,
        /// The evidence key (its public half is enough).
        #[arg(long, value_name = "KEY", env = "MODELSEAL_EVIDENCE_KEY")]
        evidence_key: PathBuf,
    },
}

/// Parses an RFC 3339 time or a date (midnight UTC).
pub fn parse_time(text: &str) -> Result<jiff::Timestamp> {
    if let Ok(t) = text.parse::<jiff::Timestamp>() {
        return Ok(t);
    }
    text.parse::<jiff::civil::Date>()
        .ok()
        .and_then(|d| d.to_zoned(jiff::tz::TimeZone::UTC).ok())
        .map(|z| z.timestamp())
        .ok_or_else(|| {
            Error::Usage(format!(
                "{text:?} is neither an RFC 3339 time nor a YYYY-MM-DD date"
            ))
        })
}

pub fn digest_arg(text: &str) -> Result<String> {
    let hex_digest = text.trim_start_matches("sha256:").to_ascii_lowercase();
    if hex_digest.len() != 64 || !hex_digest.bytes().all(|b| b.is_ascii_hexdigit()) {
        return Err(Error::Usage(format!(
            "{text:?} is not a SHA-256 digest (sha256:HEX)"
        )));
    }
    Ok(hex_digest)
}

impl LogArgs {
    /// The log: the positional argument when given, else the flag or
    /// environment.
    pub fn location(&self, positional: Option<OsString>) -> Result<Location> {
        let text = positional
            .or_else(|| self.evidence_flag.clone())
            .ok_or_else(|| {
                Error::Usage("give the evidence log (LOG, --evidence or MODELSEAL_EVIDENCE)".into())
            })?;
        Location::parse(&text, &super::env::pg())
    }

    /// The key that verifies the log.
    pub fn verifying_key(&self) -> Result<ed25519_dalek::VerifyingKey> {
        evidence_verifying_key(&load_public_key(&self.evidence_key)?)
    }
}

/// The checkpoint a check relied on, as JSON.
pub fn checkpoint_json(check: &LogCheck) -> serde_json::Value {
    json!(check.checkpoint.as_ref().map(|c| json!({
        "origin": c.origin,
        "size": c.size,
        "root": hex::encode(c.root),
    })))
}

fn required(log: &EvidenceArgs) -> Result<modelseal::evidence::Recorder> {
    log.recorder()?
        .ok_or_else(|| Error::Usage("give --evidence LOG (or MODELSEAL_EVIDENCE)".into()))
}

pub fn run(ctx: &Context, args: EvidenceCommand) -> Result<Outcome> {
    match args.command {
        Sub::Attach {
            control,
            file,
            reviewer,
            reviewed,
            version,
            next_review,
            model,
            note,
            checklist,
            log,
        } => {
            let attachment = Attachment {
                control,
                reviewer,
                reviewed,
                version,
                next_review,
                model,
                note,
                checklist,
            };
            super::witness::after(ctx, &log, attach(ctx, &file, attachment, &log))
        }
        Sub::Deploy {
            model,
            name,
            target,
            verification,
            log,
        } => super::witness::after(
            ctx,
            &log,
            deploy(ctx, &model, name, target, verification.as_deref(), &log),
        ),
        Sub::Witness {
            path,
            log,
            witnesses,
        } => super::witness::run_witness(ctx, path, &log, &witnesses),
        Sub::VerifierKey { path, log } => super::witness::run_verifier_key(ctx, path, &log),
        Sub::Proof {
            record,
            path,
            log,
            out,
            witness_policy,
        } => super::witness::run_proof(ctx, &record, path, &log, &out, witness_policy.as_deref()),
        Sub::CheckProof {
            proof,
            evidence_key,
            record,
            witnesses,
        } => super::witness::run_check_proof(
            ctx,
            &proof,
            &evidence_key,
            record.as_deref(),
            &witnesses,
        ),
        Sub::Verify {
            path,
            log,
            checkpoint,
            witnesses,
        } => {
            let location = log.location(path)?;
            let key = log.verifying_key()?;
            let older = checkpoint
                .as_ref()
                .map(|p| modelseal::fetch::read_text(p, modelseal::fetch::InputKind::Checkpoint))
                .transpose()?;
            // Verifying keeps no records: a log of any length streams through.
            let check = verify_store(
                location.open()?.as_ref(),
                &key,
                VerifyOptions {
                    older: older.as_deref(),
                    now: Some(ctx.now.time()),
                    keep_leaves: witnesses.witness_policy.is_some(),
                    ..VerifyOptions::default()
                },
            )?;
            let witnessed = if check.ok() {
                super::witness::verify(
                    &witnesses,
                    &location,
                    &key,
                    &check,
                    older.as_deref(),
                    ctx.now.time(),
                )?
            } else {
                None
            };
            let shown = escape(&check.location).into_owned();
            match ctx.format {
                Format::Json => print_json(&json!({
                    "log": check.location,
                    "intact": check.ok(),
                    "records": check.lines,
                    "checkpoint": checkpoint_json(&check),
                    "consistency": check.consistency,
                    "problems": check.problems,
                    "repairs": check.repairs,
                    "unbound": check.unbound,
                    "time_findings": check.time_findings.iter().map(|(_, t)| t).collect::<Vec<_>>(),
                    "witnesses": witnessed.as_ref().map(super::witness::check_json),
                })),
                _ => {
                    if check.ok() {
                        outln!(
                            "intact: {shown} ({} records, every one signed; Merkle root matches the signed checkpoint)",
                            check.checkpoint.as_ref().map_or(0, |c| c.size)
                        );
                    } else {
                        outln!("BROKEN: {shown} ({} records)", check.lines);
                        for p in &check.problems {
                            outln!("  {}", escape(&p.to_string()));
                        }
                    }
                    for r in &check.repairs {
                        outln!("  repair pending: {r}");
                    }
                    for (_, t) in &check.time_findings {
                        outln!("  time: {}", escape(t));
                    }
                    if check.unbound > 0 {
                        outln!(
                            "  unbound: {} records were written by release 0.2 or earlier, before records named their log and place",
                            check.unbound
                        );
                    }
                    if let Some(c) = &check.consistency {
                        outln!("  {c}");
                    }
                    if let Some(cp) = &check.checkpoint {
                        outln!(
                            "  checkpoint: origin {}, size {}, root {} (keep it to prove the next audit's log extends this one)",
                            escape(&cp.origin),
                            cp.size,
                            hex::encode(cp.root)
                        );
                    }
                    if let Some(w) = &witnessed {
                        super::witness::print_check(w);
                    }
                }
            }
            let witnessed_ok = witnessed.as_ref().is_none_or(|w| w.ok());
            Ok(
                if check.ok() && check.time_findings.is_empty() && witnessed_ok {
                    0
                } else {
                    1
                },
            )
        }
        Sub::List {
            path,
            log,
            model,
            control,
            since,
            until,
        } => {
            let location = log.location(path)?;
            let check = verify_location(&location, &log.verifying_key()?, None)?;
            let model = model.as_deref().map(digest_arg).transpose()?;
            let since = since.as_deref().map(parse_time).transpose()?;
            let until = until.as_deref().map(parse_time).transpose()?;
            let shown: Vec<&modelseal::evidence::Record> = check
                .records
                .iter()
                .filter(|r| model.as_ref().is_none_or(|m| *r.subject.sha256 == **m))
                .filter(|r| {
                    control.is_none_or(
                        |c| matches!(&r.predicate, Predicate::Attachment(a) if a.control == c),
                    )
                })
                .filter(|r| since.is_none_or(|s| r.time() >= s))
                .filter(|r| until.is_none_or(|u| r.time() <= u))
                .collect();
            for p in &check.problems {
                ctx.warn(&escape(&p.to_string()));
            }
            for r in &check.repairs {
                ctx.warn(&format!("repair pending: {r}"));
            }
            match ctx.format {
                Format::Json => print_json(&shown.iter().map(|r| json!({
                    "number": r.index + 1,
                    "digest": r.digest,
                    "predicateType": r.predicate_type(),
                    "subject": { "name": r.subject.name, "digest": { "sha256": r.subject.sha256 } },
                    "time": r.time(),
                    "timeSource": r.clock,
                    "predicate": r.predicate,
                })).collect::<Vec<_>>()),
                _ => {
                    for r in &shown {
                        let (kind, extra) = match &r.predicate {
                            Predicate::Sign(_) => ("sign", String::new()),
                            Predicate::Bom(_) => ("bom", String::new()),
                            Predicate::Verification(v) => (
                                "verification_summary",
                                format!("{:?}", v.verification_result).to_uppercase(),
                            ),
                            Predicate::Attachment(a) => ("attachment", format!("control {}", a.control)),
                            Predicate::Deployment(d) => (
                                "deployment",
                                d.admission.as_ref().map(|a| format!("admitted {}", a.target())).unwrap_or_default(),
                            ),
                            Predicate::Refusal(r) => ("refusal", format!("refused {}", r.admission.target())),
                            _ => ("other", String::new()),
                        };
                        let time = match r.clock {
                            modelseal::clock::TimeSource::Test => format!("{} (test clock)", r.time()),
                            _ => r.time().to_string(),
                        };
                        outln!(
                            "{:>4}  {:20}  {:22}  {} sha256:{}…  {extra}",
                            r.index + 1,
                            time,
                            kind,
                            escape(&r.subject.name),
                            r.subject.sha256.chars().take(16).collect::<String>()
                        );
                    }
                }
            }
            Ok(if check.ok() { 0 } else { 1 })
        }
        Sub::Export {
            path,
            log,
            out,
            checklist,
        } => {
            let location = log.location(path)?;
            let public = load_public_key(&log.evidence_key)?;
            super::export::run(ctx, &location, &public, &out, checklist.as_deref())
        }
        #[cfg(feature = "postgres")]
        Sub::Init {
            uri,
            evidence_key,
            writer,
            reader,
            upgrade,
        } => {
            let spec = database(&uri, "init")?;
            if upgrade {
                let found = modelseal::evidence::postgres::upgrade(&spec, &writer, &reader)?;
                match ctx.format {
                    Format::Json => print_json(&json!({
                        "upgraded": spec.to_string(), "from_version": found, "writers": writer, "readers": reader,
                    })),
                    _ => outln!(
                        "the evidence schema in {} was version {found}; it is now the current one",
                        escape(&spec.to_string())
                    ),
                }
                return Ok(0);
            }
            let evidence_key = evidence_key.ok_or_else(|| {
                Error::Usage("give --evidence-key (or MODELSEAL_EVIDENCE_KEY)".into())
            })?;
            let key = evidence_verifying_key(&load_public_key(&evidence_key)?)?;
            modelseal::evidence::postgres::init(&spec, &key, &writer, &reader)?;
            match ctx.format {
                Format::Json => print_json(
                    &json!({ "initialised": spec.to_string(), "writers": writer, "readers": reader }),
                ),
                _ => outln!(
                    "initialised the evidence log schema in {} (writers: {}; readers: {})",
                    escape(&spec.to_string()),
                    if writer.is_empty() {
                        "none granted".into()
                    } else {
                        writer.join(", ")
                    },
                    if reader.is_empty() {
                        "none granted".into()
                    } else {
                        reader.join(", ")
                    },
                ),
            }
            Ok(0)
        }
        #[cfg(feature = "postgres")]
        Sub::Import {
            file,
            uri,
            evidence_key,
        } => {
            let key = evidence_verifying_key(&load_public_key(&evidence_key)?)?;
            let spec = database(&uri, "import")?;
            let store = modelseal::evidence::postgres::PgStore::connect(&spec)?;
            let cp = store.import(&modelseal::evidence::FileLog::new(&file), &key)?;
            match ctx.format {
                Format::Json => print_json(&json!({
                    "imported": cp.size,
                    "into": spec.to_string(),
                    "checkpoint": { "origin": cp.origin, "size": cp.size, "root": hex::encode(cp.root) },
                })),
                _ => outln!(
                    "imported {} records from {} into {} (root {})",
                    cp.size,
                    escape(&file.display().to_string()),
                    escape(&spec.to_string()),
                    hex::encode(cp.root)
                ),
            }
            Ok(0)
        }
    }
}

/// A database URI argument (init and import work on database logs only).
#[cfg(feature = "postgres")]
fn database(
    uri: &std::ffi::OsStr,
    what: &str,
) -> Result<modelseal::evidence::postgres::ConnectSpec> {
    match Location::parse(uri, &super::env::pg())? {
        Location::Postgres(spec) => Ok(*spec),
        _ => Err(Error::Usage(format!(
            "`evidence {what}` takes a postgres:// URI (a file log is created by its first append)"
        ))),
    }
}

fn report(ctx: &Context, digest: &str, what: &str) {
    match ctx.format {
        Format::Json => print_json(&json!({ "recorded": digest })),
        _ => outln!("{what}; record sha256:{digest}"),
    }
}

/// What `evidence attach` was told about the document.
struct Attachment {
    control: u32,
    reviewer: String,
    reviewed: Option<String>,
    version: Option<String>,
    next_review: Option<String>,
    model: Option<String>,
    note: Option<String>,
    checklist: Option<PathBuf>,
}

fn date_arg(flag: &str, text: &str) -> Result<jiff::civil::Date> {
    text.parse::<jiff::civil::Date>()
        .map_err(|_| Error::Usage(format!("{flag} {text:?} is not a YYYY-MM-DD date")))
}

/// Records a reviewed document under the library's rules; the messages
/// here name the flags.
fn attach(ctx: &Context, file: &Path, a: Attachment, log: &EvidenceArgs) -> Result<Outcome> {
    use modelseal::evidence::{AttachError, DocumentControl};
    let (list, _) = super::audit::load_checklist(a.checklist.as_deref())?;
    let control = list.document_control(a.control)?;
    let control = DocumentControl::new(a.control, control.rule.max_age_days);
    let reviewed = a
        .reviewed
        .as_deref()
        .map(|d| date_arg("--reviewed", d))
        .transpose()?;
    let next_review = a
        .next_review
        .as_deref()
        .map(|d| date_arg("--next-review", d))
        .transpose()?;
    let model = a.model.as_deref().map(digest_arg).transpose()?;
    let recorder = required(log)?;
    let bytes = modelseal::fetch::read_file(file, modelseal::fetch::InputKind::Document)?;
    let name = file
        .file_name()
        .map(|n| n.to_string_lossy().into_owned())
        .unwrap_or_default();
    let mut document = modelseal::evidence::Attachment::new(
        control,
        name.clone(),
        file.display().to_string(),
        bytes,
        a.reviewer.clone(),
    );
    document.reviewed = reviewed;
    document.next_review = next_review;
    document.version = a.version;
    document.model = model;
    document.note = a.note;
    ctx.warn_test_clock("the evidence record");
    let attached = recorder.attach(&document, ctx.now).map_err(|e| match e {
        AttachError::Log(e) => e,
        AttachError::NoReviewer => Error::Usage(format!("--reviewer: {e}")),
        AttachError::ReviewedInFuture { .. } => Error::Usage(format!("--reviewed: {e}")),
        AttachError::NextReviewNotAfter { .. } => Error::Usage(format!("--next-review: {e}")),
        AttachError::BadDigest { .. } => Error::Usage(format!("--model: {e}")),
        e => Error::Usage(format!("{}: {e}", file.display())),
    })?;
    if attached.overdue {
        ctx.warn(&format!(
            "the next review was due on {}: the audit will fail control {} until the document is reviewed again",
            attached.next_review.map(|d| d.to_string()).unwrap_or_default(),
            a.control
        ));
    }
    report(
        ctx,
        &attached.digest,
        &format!(
            "attached {} to control {} (reviewed {} by {}{})",
            escape(&name),
            a.control,
            attached.reviewed,
            escape(a.reviewer.trim()),
            attached
                .next_review
                .map(|n| format!(", next review due {n}"))
                .unwrap_or_default()
        ),
    );
    Ok(0)
}

/// Records a deployment under the library's rules (the verification named,
/// or the latest one of the model); the messages here name the flags.
fn deploy(
    ctx: &Context,
    model: &str,
    name: String,
    target: Option<String>,
    verification: Option<&str>,
    log: &EvidenceArgs,
) -> Result<Outcome> {
    use modelseal::evidence::{DeployError, Deployment};
    let recorder = required(log)?;
    let mut deployment = Deployment::new(digest_arg(model)?, name.clone());
    deployment.target = target;
    deployment.verification = verification.map(digest_arg).transpose()?;
    ctx.warn_test_clock("the evidence record");
    let deployed = recorder.deploy(&deployment, ctx.now).map_err(|e| match e {
        DeployError::Log(e) => e,
        DeployError::BadDigest { .. } => Error::Usage(format!("MODEL: {e}")),
        e => Error::Usage(format!(
            "--verification {}: {e}",
            verification.unwrap_or_default()
        )),
    })?;
    match &deployed.relied_on {
        None => ctx.warn(
            "no verification of this model is in the log: the audit will fail control 7 for this deployment",
        ),
        Some((_, false)) => ctx.warn(
            "the verification this deployment relies on FAILED: the audit will fail control 7 for it",
        ),
        Some(_) => {}
    }
    report(
        ctx,
        &deployed.digest,
        &format!(
            "recorded the deployment of {}{}",
            escape(&name),
            deployed
                .relied_on
                .as_ref()
                .map(|(d, _)| format!(", relying on the verification sha256:{d}"))
                .unwrap_or_else(|| ", with no verification to rely on".into())
        ),
    );
    Ok(0)
}
