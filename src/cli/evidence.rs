//! `modelseal evidence`: attach reviewed documents, record deployments,
//! list records, verify the log.

use super::{Context, EvidenceArgs, Format, Outcome, escape, print_json};
use clap::{Args, Subcommand};
use modelseal::evidence::record::{
    self, AttachmentEvidence, DeploymentEvidence, DocumentRef, EvidenceSubject, NewRecord,
    Predicate,
};
use modelseal::evidence::{evidence_verifying_key, verify_log};
use modelseal::keys::load_public_key;
use modelseal::{Error, Result};
use serde_json::json;
use std::path::PathBuf;

#[derive(Debug, Args)]
pub struct EvidenceCommand {
    #[command(subcommand)]
    command: Sub,
}

/// Reading a log: where it is and the key that sealed it.
#[derive(Debug, Args)]
pub struct LogArgs {
    /// The evidence log.
    #[arg(long = "evidence", value_name = "LOG", env = "MODELSEAL_EVIDENCE")]
    pub evidence_flag: Option<PathBuf>,
    /// The evidence key (its public half is enough).
    #[arg(long, value_name = "KEY", env = "MODELSEAL_EVIDENCE_KEY")]
    pub evidence_key: PathBuf,
}

#[derive(Debug, Subcommand)]
enum Sub {
    /// Record a reviewed document for a control that no tool can check.
    Attach {
        /// The control number in the checklist.
        #[arg(long, value_parser = clap::value_parser!(u32).range(1..))]
        control: u32,
        /// The document (its SHA-256 is recorded).
        #[arg(long)]
        file: PathBuf,
        /// The review date (YYYY-MM-DD); default today.
        #[arg(long)]
        reviewed: Option<String>,
        /// Who reviewed it.
        #[arg(long)]
        reviewer: Option<String>,
        /// A note.
        #[arg(long)]
        note: Option<String>,
        #[command(flatten)]
        log: EvidenceArgs,
    },
    /// Record that a model was deployed.
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
        #[command(flatten)]
        log: EvidenceArgs,
    },
    /// Check every record's signature and the log against its checkpoint.
    Verify {
        /// The evidence log (or --evidence, or MODELSEAL_EVIDENCE).
        path: Option<PathBuf>,
        #[command(flatten)]
        log: LogArgs,
        /// An older checkpoint the log must extend (consistency).
        #[arg(long, value_name = "FILE")]
        checkpoint: Option<PathBuf>,
    },
    /// List records (verified with the evidence key).
    List {
        /// The evidence log (or --evidence, or MODELSEAL_EVIDENCE).
        path: Option<PathBuf>,
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
    /// The log: the positional path when given, else the flag or environment.
    pub fn path(&self, positional: Option<PathBuf>) -> Result<PathBuf> {
        positional
            .or_else(|| self.evidence_flag.clone())
            .ok_or_else(|| {
                Error::Usage("give the evidence log (LOG, --evidence or MODELSEAL_EVIDENCE)".into())
            })
    }
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
            reviewed,
            reviewer,
            note,
            log,
        } => {
            let recorder = required(&log)?;
            let bytes = modelseal::fetch::read_file(&file, modelseal::fetch::InputKind::Document)?;
            let reviewed = match reviewed {
                Some(d) => d.parse::<jiff::civil::Date>().map_err(|_| {
                    Error::Usage(format!("--reviewed {d:?} is not a YYYY-MM-DD date"))
                })?,
                None => jiff::Zoned::now()
                    .with_time_zone(jiff::tz::TimeZone::UTC)
                    .date(),
            };
            let name = file
                .file_name()
                .map(|n| n.to_string_lossy().into_owned())
                .unwrap_or_default();
            let sha256 = hex::encode(<sha2::Sha256 as sha2::Digest>::digest(&bytes));
            let digest = recorder.append(&NewRecord {
                subject: EvidenceSubject {
                    name: name.clone(),
                    sha256: sha256.clone(),
                },
                predicate: Predicate::Attachment(AttachmentEvidence {
                    control,
                    document: DocumentRef {
                        name: name.clone(),
                        uri: file.display().to_string(),
                        digest: std::collections::BTreeMap::from([("sha256".into(), sha256)]),
                        size: bytes.len() as u64,
                    },
                    reviewer,
                    reviewed,
                    note,
                    recorded_at: record::now(),
                }),
            })?;
            report(
                ctx,
                &digest,
                &format!(
                    "attached {} to control {control} (reviewed {reviewed})",
                    escape(&name)
                ),
            );
            Ok(0)
        }
        Sub::Deploy {
            model,
            name,
            target,
            log,
        } => {
            let recorder = required(&log)?;
            let digest = recorder.append(&NewRecord {
                subject: EvidenceSubject {
                    name: name.clone(),
                    sha256: digest_arg(&model)?,
                },
                predicate: Predicate::Deployment(DeploymentEvidence {
                    target,
                    time: record::now(),
                }),
            })?;
            report(
                ctx,
                &digest,
                &format!("recorded the deployment of {}", escape(&name)),
            );
            Ok(0)
        }
        Sub::Verify {
            path,
            log,
            checkpoint,
        } => {
            let log_path = log.path(path)?;
            let key = evidence_verifying_key(&load_public_key(&log.evidence_key)?)?;
            let older = checkpoint
                .as_ref()
                .map(|p| modelseal::fetch::read_text(p, modelseal::fetch::InputKind::Checkpoint))
                .transpose()?;
            let check = verify_log(&log_path, &key, older.as_deref())?;
            match ctx.format {
                Format::Json => print_json(&json!({
                    "log": log_path,
                    "intact": check.ok(),
                    "records": check.lines,
                    "checkpoint": check.checkpoint.as_ref().map(|c| json!({ "origin": c.origin, "size": c.size, "root": hex::encode(c.root) })),
                    "consistency": check.consistency,
                    "problems": check.problems,
                })),
                _ => {
                    if check.ok() {
                        println!(
                            "intact: {} ({} records, every one signed; Merkle root matches the signed checkpoint)",
                            log_path.display(),
                            check.lines
                        );
                    } else {
                        println!("BROKEN: {} ({} records)", log_path.display(), check.lines);
                        for p in &check.problems {
                            println!("  {p}");
                        }
                    }
                    if let Some(c) = &check.consistency {
                        println!("  {c}");
                    }
                }
            }
            Ok(if check.ok() { 0 } else { 1 })
        }
        Sub::List {
            path,
            log,
            model,
            control,
            since,
            until,
        } => {
            let log_path = log.path(path)?;
            let key = evidence_verifying_key(&load_public_key(&log.evidence_key)?)?;
            let check = verify_log(&log_path, &key, None)?;
            let model = model.as_deref().map(digest_arg).transpose()?;
            let since = since.as_deref().map(parse_time).transpose()?;
            let until = until.as_deref().map(parse_time).transpose()?;
            let shown: Vec<&modelseal::evidence::Record> = check
                .records
                .iter()
                .filter(|r| model.as_ref().is_none_or(|m| &r.subject.sha256 == m))
                .filter(|r| {
                    control.is_none_or(
                        |c| matches!(&r.predicate, Predicate::Attachment(a) if a.control == c),
                    )
                })
                .filter(|r| since.is_none_or(|s| r.time() >= s))
                .filter(|r| until.is_none_or(|u| r.time() <= u))
                .collect();
            for p in &check.problems {
                ctx.warn(p);
            }
            match ctx.format {
                Format::Json => print_json(&shown.iter().map(|r| json!({
                    "index": r.index,
                    "digest": r.digest,
                    "predicateType": r.predicate_type(),
                    "subject": { "name": r.subject.name, "digest": { "sha256": r.subject.sha256 } },
                    "time": r.time(),
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
                            Predicate::Deployment(_) => ("deployment", String::new()),
                            _ => ("other", String::new()),
                        };
                        println!(
                            "{:>4}  {:20}  {:22}  {} sha256:{}…  {extra}",
                            r.index + 1,
                            r.time().to_string(),
                            kind,
                            escape(&r.subject.name),
                            r.subject.sha256.chars().take(16).collect::<String>()
                        );
                    }
                }
            }
            Ok(if check.ok() { 0 } else { 1 })
        }
    }
}

fn report(ctx: &Context, digest: &str, what: &str) {
    match ctx.format {
        Format::Json => print_json(&json!({ "recorded": digest })),
        _ => println!("{what}; record sha256:{digest}"),
    }
}
