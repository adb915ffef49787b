//! `modelseal audit`: the checklist against the evidence log.

use super::evidence::{LogArgs, digest_arg};
use super::{Context, Format, Outcome, print_json};
use clap::Args;
use modelseal::audit::{
    AsOf, AuditInput, Checklist, evaluate, to_html, to_human, to_markdown, to_oscal,
};
use modelseal::{Error, Result};
use std::path::{Path, PathBuf};

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
    /// Audit as of this date: YYYY-MM-DD counts the whole of that day (UTC);
    /// an RFC 3339 time counts up to that instant. Later records are ignored.
    #[arg(long, value_name = "DATE")]
    as_of: Option<String>,
    /// The documents you were given, by file name: each document a control
    /// relies on is re-hashed and must match its record.
    #[arg(long, value_name = "DIR")]
    documents: Option<PathBuf>,
    /// A checkpoint kept from an earlier audit: the log must extend it
    /// (no rollback, no other log).
    #[arg(long, value_name = "FILE")]
    checkpoint: Option<PathBuf>,
    #[command(flatten)]
    witnesses: super::witness::WitnessArgs,
}

/// The checklist named on the command line, or the shipped one, with the
/// name reports give its source.
pub fn load_checklist(path: Option<&Path>) -> Result<(Checklist, String)> {
    match path {
        Some(p) => Ok((
            Checklist::parse(&modelseal::fetch::read_text(
                p,
                modelseal::fetch::InputKind::Checklist,
            )?)?,
            p.display().to_string(),
        )),
        None => Ok((Checklist::default_list(), "shipped".into())),
    }
}

pub fn run(ctx: &Context, args: AuditArgs) -> Result<Outcome> {
    let (list, source) = load_checklist(args.checklist.as_deref())?;
    if let Some(dir) = &args.documents
        && !dir.is_dir()
    {
        return Err(Error::Usage(format!(
            "--documents {}: not a directory",
            dir.display()
        )));
    }
    let key = args.log.verifying_key()?;
    let location = args.log.location(None)?;
    let older = args
        .checkpoint
        .as_ref()
        .map(|p| modelseal::fetch::read_text(p, modelseal::fetch::InputKind::Checkpoint))
        .transpose()?;
    let as_of = match &args.as_of {
        Some(t) => AsOf::parse(t)?,
        None => AsOf::now(ctx.now),
    };
    // Records dated after the audit's clock (or its cutoff, for an audit
    // as of a later date) are time findings.
    let check = modelseal::evidence::verify_store(
        location.open()?.as_ref(),
        &key,
        modelseal::evidence::VerifyOptions {
            older: older.as_deref(),
            keep_records: true,
            now: Some(ctx.now.time().max(as_of.cutoff)),
            keep_leaves: args.witnesses.witness_policy.is_some(),
            ..Default::default()
        },
    )?;
    let witnessed = if check.ok() {
        super::witness::verify(
            &args.witnesses,
            &location,
            &key,
            &check,
            older.as_deref(),
            ctx.now.time(),
        )?
    } else {
        None
    };
    let mut input = AuditInput::new(
        &list,
        &check,
        check.location.clone(),
        as_of,
        ctx.now.source(),
    );
    ctx.warn_test_clock("the audit report");
    input.checklist_source = source;
    // An audit as of a date, with the checkpoint kept when its report was
    // issued, counts what that checkpoint covers: the report as issued.
    // Under a witness policy, without a kept checkpoint, the witnesses'
    // times say which records the log held by the date: those inside the
    // largest checkpoint its quorum had cosigned by then.
    let mut witnessed = witnessed.as_ref().map(super::witness::summary);
    if args.as_of.is_some() {
        input.kept = check.older.as_ref().map(|cp| cp.size);
        if input.kept.is_none()
            && let Some(w) = witnessed.as_mut()
            && let Some((by, problems)) = super::witness::witnessed_by(
                &args.witnesses,
                &location,
                &key,
                &check,
                input.as_of.cutoff,
            )?
        {
            input.kept = Some(by.size);
            w.as_of = Some(by);
            w.problems.extend(problems);
        }
    }
    input.model = args.model.as_deref().map(digest_arg).transpose()?;
    if let Some(model) = &input.model
        && !modelseal::audit::log_mentions(&check, model)
    {
        return Err(Error::Usage(format!(
            "--model sha256:{model}: no record in the evidence log is about this model"
        )));
    }
    input.documents = args.documents.clone();
    input.witnesses = witnessed;
    let report = evaluate(&input);
    match ctx.format {
        Format::Human => out!("{}", to_human(&report)),
        Format::Json => print_json(&report),
        Format::Markdown => out!("{}", to_markdown(&report)),
        Format::Oscal => print_json(&to_oscal(&report)),
        Format::Html => out!("{}", to_html(&report)),
    }
    Ok(if report.failed() { 1 } else { 0 })
}
