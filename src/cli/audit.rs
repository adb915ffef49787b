//! `modelseal audit`: the checklist against the evidence log.

use super::evidence::{LogArgs, digest_arg};
use super::{Context, Format, Outcome};
use clap::Args;
use modelseal::audit::{AsOf, AuditReport, Checklist, to_html, to_human, to_markdown, to_oscal};
use modelseal::auditing::{AuditError, AuditRequest, audit, protected_place, write_report};
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
    /// Audit a declared period, FROM..TO (dates or RFC 3339 times): TO is
    /// the cutoff, as with --as-of; deployments and refusals before FROM
    /// are context, not judged.
    #[arg(long, value_name = "FROM..TO", conflicts_with = "as_of")]
    period: Option<String>,
    /// What the audit covers, in your words (the report's scope line).
    #[arg(long, value_name = "TEXT")]
    scope: Option<String>,
    /// Who assessed: the report names them (OSCAL: the responsible party in
    /// the assessor role).
    #[arg(long, value_name = "NAME")]
    assessor: Option<String>,
    /// Write the report to this file (whole or not at all) instead of
    /// standard output.
    #[arg(long, value_name = "FILE")]
    out: Option<PathBuf>,
    /// Sign the report written with --out: a Sigstore bundle (a DSSE
    /// envelope) goes beside it as FILE.sig. Check it with `modelseal
    /// verify-bundle FILE --bundle FILE.sig --key PUB --insecure-ignore-tlog`.
    #[arg(long, value_name = "KEY", requires = "out")]
    sign: Option<PathBuf>,
}

/// The SHA-256 of the running executable, for the report's "generated
/// by"; `None` when it cannot be read.
fn executable_sha256() -> Option<String> {
    use sha2::Digest;
    let path = std::env::current_exe().ok()?;
    let mut file = std::fs::File::open(path).ok()?;
    let mut hasher = sha2::Sha256::new();
    let mut buf = vec![0u8; 1 << 20];
    loop {
        match std::io::Read::read(&mut file, &mut buf) {
            Ok(0) => break,
            Ok(n) => hasher.update(&buf[..n]),
            Err(e) if e.kind() == std::io::ErrorKind::Interrupted => continue,
            Err(_) => return None,
        }
    }
    Some(hex::encode(hasher.finalize()))
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
    let signer = args.sign.as_deref().map(super::private_key).transpose()?;
    let key = args.log.verifying_key()?;
    let location = args.log.location(None)?;
    // The report must never land on the log it audits, the files kept
    // beside it, or the key it is signed with.
    if let Some(out) = &args.out {
        let mut sig = out.as_os_str().to_owned();
        sig.push(".sig");
        for path in [out.clone(), PathBuf::from(sig)] {
            protected_place(&path, &location, args.sign.as_deref()).map_err(|what| {
                Error::Usage(format!(
                    "--out {}: that is {what}; write the report elsewhere",
                    path.display()
                ))
            })?;
        }
    }
    let older = args
        .checkpoint
        .as_ref()
        .map(|p| modelseal::fetch::read_text(p, modelseal::fetch::InputKind::Checkpoint))
        .transpose()?;
    let mut request = AuditRequest::new(&list, &source, ctx.now);
    request.older = older.as_deref();
    request.as_of = args.as_of.as_deref().map(AsOf::parse).transpose()?;
    request.period = args.period.as_deref().map(AsOf::period).transpose()?;
    request.model = args.model.as_deref().map(digest_arg).transpose()?;
    request.documents = args.documents.clone();
    request.declaration.scope = args.scope.clone();
    request.declaration.assessor = args.assessor.clone();
    request.declaration.executable_sha256 = executable_sha256();
    let (policy, anchors) = (args.witnesses.policy()?, args.witnesses.anchors()?);
    if let Some(policy) = &policy {
        let options = args
            .witnesses
            .store_check(anchors.as_deref(), ctx.now.time());
        request.witnesses = Some((policy, options));
    }
    ctx.warn_test_clock("the audit report");
    // JSON is streamed, never held whole: a report of a large log is
    // hundreds of megabytes.
    let write = |report: &AuditReport<'_>, w: &mut dyn std::io::Write| -> std::io::Result<()> {
        match ctx.format {
            Format::Human => w.write_all(to_human(report).as_bytes()),
            Format::Json => {
                serde_json::to_writer_pretty(&mut *w, report)?;
                writeln!(w)
            }
            Format::Markdown => w.write_all(to_markdown(report).as_bytes()),
            Format::Oscal => {
                serde_json::to_writer_pretty(&mut *w, &to_oscal(report))?;
                writeln!(w)
            }
            Format::Html => w.write_all(to_html(report).as_bytes()),
        }
    };
    let audited = audit(&location, &key, &request, |report| -> Result<()> {
        // The process ends with this command: freeing a million records'
        // findings one by one would only cost the auditor time.
        let report = std::mem::ManuallyDrop::new(report);
        let Some(path) = &args.out else {
            super::stdout::write_with(|out| write(&report, out));
            return Ok(());
        };
        let key = signer.as_ref().map(|k| (k, args.sign.as_deref()));
        let written = write_report(path, &report, &write, key, &location)?;
        outln!("wrote {}", written.path.display());
        if let Some((sig, fingerprint)) = &written.signature {
            outln!("signed: {} (key {fingerprint})", sig.display());
        }
        Ok(())
    })
    .map_err(|e| match e {
        e @ (AuditError::PeriodNotEnded { .. } | AuditError::PeriodReversed { .. }) => {
            Error::Usage(format!(
                "--period {}: {e}",
                args.period.as_deref().unwrap_or_default()
            ))
        }
        e @ AuditError::ModelNotInLog { .. } => Error::Usage(format!("--model {e}")),
        e => e.into(),
    })?;
    audited.result?;
    let code = if audited.failed { 1 } else { 0 };
    // The process ends with this command: freeing a million records one by
    // one would only cost the auditor a second. (Not for a caller that runs
    // audits in one process: it would keep every log it audited.)
    std::mem::forget(audited.check);
    Ok(code)
}
