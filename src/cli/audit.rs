//! `modelseal audit`: the checklist against the evidence log.

use super::evidence::{LogArgs, digest_arg};
use super::{Context, Format, Outcome};
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
    let period = args
        .period
        .as_deref()
        .map(modelseal::audit::AsOf::period)
        .transpose()?;
    let key = args.log.verifying_key()?;
    let location = args.log.location(None)?;
    // The report must never land on the log it audits, the files kept
    // beside it, or the key it is signed with.
    if let Some(out) = &args.out {
        let log = match &location {
            modelseal::evidence::Location::File(p) => Some(p.as_path()),
            #[allow(unreachable_patterns)]
            _ => None,
        };
        let mut sig = out.as_os_str().to_owned();
        sig.push(".sig");
        for path in [out.clone(), PathBuf::from(sig)] {
            refuse_protected(&path, log, args.sign.as_deref())?;
        }
    }
    let older = args
        .checkpoint
        .as_ref()
        .map(|p| modelseal::fetch::read_text(p, modelseal::fetch::InputKind::Checkpoint))
        .transpose()?;
    let as_of = match (&args.as_of, &period) {
        (Some(t), _) => AsOf::parse(t)?,
        (None, Some((_, to))) => *to,
        (None, None) => AsOf::now(ctx.now),
    };
    let past = args.as_of.is_some() || period.is_some();
    // A declared period must have ended: a report cannot speak for time
    // that has not passed.
    if let Some((_, to)) = &period
        && to.cutoff > ctx.now.time()
    {
        return Err(Error::Usage(format!(
            "--period {}: it ends after now ({}); audit a period that has ended",
            args.period.as_deref().unwrap_or_default(),
            ctx.now.time()
        )));
    }
    // Records dated after the audit's clock (or its cutoff, for an audit
    // as of a later date) are time findings.
    let check = modelseal::evidence::verify_store(
        location.open()?.as_ref(),
        &key,
        modelseal::evidence::VerifyOptions {
            older: older.as_deref(),
            keep_records: true,
            // Records are judged against the audit's own clock: one dated
            // after it is a time finding, whatever the cutoff.
            now: Some(ctx.now.time()),
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
    if past {
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
    let mut declaration = modelseal::audit::Declaration::default();
    declaration.period = period.map(|(from, to)| modelseal::audit::DeclaredPeriod {
        from,
        to: to.cutoff,
    });
    declaration.scope = args.scope.clone();
    declaration.assessor = args.assessor.clone();
    declaration.generated_at = Some(ctx.now.time());
    declaration.executable_sha256 = executable_sha256();
    input.declaration = declaration;
    let report = evaluate(&input);
    // JSON is streamed, never held whole: a report of a large log is
    // hundreds of megabytes.
    let write = |w: &mut dyn std::io::Write| -> std::io::Result<()> {
        match ctx.format {
            Format::Human => w.write_all(to_human(&report).as_bytes()),
            Format::Json => {
                serde_json::to_writer_pretty(&mut *w, &report)?;
                writeln!(w)
            }
            Format::Markdown => w.write_all(to_markdown(&report).as_bytes()),
            Format::Oscal => {
                serde_json::to_writer_pretty(&mut *w, &to_oscal(&report))?;
                writeln!(w)
            }
            Format::Html => w.write_all(to_html(&report).as_bytes()),
        }
    };
    match &args.out {
        None => super::stdout::write_with(|out| write(out)),
        Some(path) => write_report(path, &write, &report, signer.as_ref())?,
    }
    let code = if report.failed() { 1 } else { 0 };
    // The process ends with this command: freeing a million records one by
    // one would only cost the auditor a second. (Not for a caller that runs
    // audits in one process: it would keep every log it audited.)
    std::mem::forget(report);
    std::mem::forget(input);
    std::mem::forget(check);
    Ok(code)
}

/// The same place on disk: the canonical directory and name, or the same
/// file (device and inode) when both exist.
fn same_place(a: &Path, b: &Path) -> bool {
    let canon = |p: &Path| -> Option<PathBuf> {
        let parent = match p.parent() {
            Some(d) if !d.as_os_str().is_empty() => d.to_path_buf(),
            _ => PathBuf::from("."),
        };
        Some(parent.canonicalize().ok()?.join(p.file_name()?))
    };
    if let (Ok(x), Ok(y)) = (std::fs::metadata(a), std::fs::metadata(b)) {
        use std::os::unix::fs::MetadataExt;
        if x.dev() == y.dev() && x.ino() == y.ino() {
            return true;
        }
    }
    matches!((canon(a), canon(b)), (Some(x), Some(y)) if x == y)
}

/// Refuses `out` when it is the evidence log `log`, a file kept beside it
/// (`LOG.checkpoint`, `LOG.lock`, `LOG.witnessed...`), or the signing key.
fn refuse_protected(out: &Path, log: Option<&Path>, key: Option<&Path>) -> Result<()> {
    let refuse = |what: &str| {
        Err(Error::Usage(format!(
            "--out {}: that is {what}; write the report elsewhere",
            out.display()
        )))
    };
    if let Some(log) = log {
        if same_place(out, log) {
            return refuse("the evidence log being audited");
        }
        let beside = |p: &Path| -> Option<(PathBuf, String)> {
            let parent = match p.parent() {
                Some(d) if !d.as_os_str().is_empty() => d.to_path_buf(),
                _ => PathBuf::from("."),
            };
            Some((
                parent.canonicalize().ok()?,
                p.file_name()?.to_string_lossy().into_owned(),
            ))
        };
        if let (Some((od, on)), Some((ld, ln))) = (beside(out), beside(log))
            && od == ld
            && on.starts_with(&format!("{ln}."))
        {
            return refuse("a file kept beside the evidence log");
        }
    }
    if let Some(key) = key
        && same_place(out, key)
    {
        return refuse("the signing key");
    }
    Ok(())
}

/// Writes the report to `path`, and its signature to `path.sig` when a
/// key is given: both appear together, or neither.
fn write_report(
    path: &Path,
    write: &dyn Fn(&mut dyn std::io::Write) -> std::io::Result<()>,
    report: &modelseal::audit::AuditReport,
    key: Option<&modelseal::keys::PrivateKey>,
) -> Result<()> {
    use modelseal::staged::Staged;
    let (staged, sha256) = Staged::write_with(path, |w| write(w))?;
    let Some(key) = key else {
        staged.commit()?;
        outln!("wrote {}", path.display());
        return Ok(());
    };
    let name = path
        .file_name()
        .map(|n| n.to_string_lossy().into_owned())
        .unwrap_or_default();
    let bundle = modelseal::audit::sign_report(
        report,
        &name,
        &sha256,
        &modelseal::sign::SigningIdentity::Key(key),
    )?;
    let mut sig = path.as_os_str().to_owned();
    sig.push(".sig");
    let sig = PathBuf::from(sig);
    let (signature, _) = Staged::write_with(&sig, |w| w.write_all(&bundle))?;
    // The report first: a stop between the two leaves a signature that no
    // longer matches (it fails), never a new signature beside an old report.
    staged.commit()?;
    signature.commit()?;
    outln!("wrote {}", path.display());
    outln!(
        "signed: {} (key {})",
        sig.display(),
        key.public_key().fingerprint()
    );
    Ok(())
}
