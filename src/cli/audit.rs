//! `modelseal audit`: the checklist against the evidence log.

use super::evidence::{LogArgs, digest_arg, parse_time};
use super::{Context, Format, Outcome, print_json};
use clap::Args;
use modelseal::audit::{Checklist, evaluate, to_human, to_markdown, to_oscal};
use modelseal::evidence::verify_location;
use modelseal::{Error, Result};
use std::path::PathBuf;

#[derive(Debug, Args)]
pub struct AuditArgs {
    #[command(flatten)]
    log: LogArgs,
    /// A checklist (TOML) instead of the shipped one.
    #[arg(long, value_name = "FILE")]
    checklist: Option<PathBuf>,
    /// Audit this model only (its OMS root digest, sha256:HEX).
    #[arg(long, value_name = "DIGEST")]
    model: Option<String>,
    /// Audit as of this date (RFC 3339 or YYYY-MM-DD); later records are ignored.
    #[arg(long, value_name = "DATE")]
    as_of: Option<String>,
    /// A checkpoint kept from an earlier audit: the log must extend it
    /// (no rollback, no other log).
    #[arg(long, value_name = "FILE")]
    checkpoint: Option<PathBuf>,
}

pub fn run(ctx: &Context, args: AuditArgs) -> Result<Outcome> {
    let list = match &args.checklist {
        Some(p) => Checklist::parse(&modelseal::fetch::read_text(
            p,
            modelseal::fetch::InputKind::Checklist,
        )?)?,
        None => Checklist::default_list(),
    };
    let key = args.log.verifying_key()?;
    let location = args.log.location(None)?;
    let older = args
        .checkpoint
        .as_ref()
        .map(|p| modelseal::fetch::read_text(p, modelseal::fetch::InputKind::Checkpoint))
        .transpose()?;
    let check = verify_location(&location, &key, older.as_deref())?;
    let as_of = match &args.as_of {
        Some(t) => parse_time(t)?,
        None => jiff::Timestamp::from_second(jiff::Timestamp::now().as_second())
            .map_err(|e| Error::Usage(e.to_string()))?,
    };
    let model = args.model.as_deref().map(digest_arg).transpose()?;
    let report = evaluate(&list, &check, &check.location, model.as_deref(), as_of);
    match ctx.format {
        Format::Human => print!("{}", to_human(&report)),
        Format::Json => print_json(&report),
        Format::Markdown => print!("{}", to_markdown(&report)),
        Format::Oscal => print_json(&to_oscal(&report)),
    }
    Ok(if report.failed() { 1 } else { 0 })
}
