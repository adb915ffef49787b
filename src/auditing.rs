//! An audit of an evidence log as one call: the log verified (against a
//! checkpoint kept from an earlier audit, when given), held against its
//! witnesses, cut at the audit's date, and the checklist evaluated.

use crate::audit::{
    AsOf, AuditInput, AuditReport, Checklist, Declaration, DeclaredPeriod, evaluate, log_mentions,
};
use crate::clock::Now;
use crate::evidence::{Location, LogCheck, VerifyOptions, verify_store};
use crate::{Error, ErrorClass};
use ed25519_dalek::VerifyingKey;
use std::path::PathBuf;

/// What to audit, as of when, and under which witnesses.
#[derive(Debug, Clone)]
#[non_exhaustive]
pub struct AuditRequest<'a> {
    /// The checklist evaluated.
    pub checklist: &'a Checklist,
    /// What the report names as the checklist's source.
    pub checklist_source: &'a str,
    /// The audit's clock: records dated after it are time findings, and
    /// the report is generated at it.
    pub now: Now,
    /// A checkpoint (note text) kept from an earlier audit: the log must
    /// extend it. In an audit of the past it also says which records the
    /// report as issued then counted.
    pub older: Option<&'a str>,
    /// Audit as of this date (records after its cutoff are ignored).
    pub as_of: Option<AsOf>,
    /// A declared period, from its first instant to its end (the cutoff):
    /// deployments and refusals before it are context, not judged. It must
    /// have ended by `now`.
    pub period: Option<(jiff::Timestamp, AsOf)>,
    /// The witness policy the log is held to, and how (its `kept` is the
    /// request's `older`, its `now` the request's).
    #[cfg(feature = "witness")]
    pub witnesses: Option<(&'a crate::witness::Policy, crate::witness::StoreCheck<'a>)>,
    /// Audit this model only (its OMS root digest, lowercase hex).
    pub model: Option<String>,
    /// The documents the auditor was given: each one a control relies on
    /// is hashed again and must match its record.
    pub documents: Option<PathBuf>,
    /// The scope, the assessor and the executable's digest, as the report
    /// declares them (its period and generation time are set here).
    pub declaration: Declaration,
}

impl<'a> AuditRequest<'a> {
    /// An audit of the whole log under `checklist`, as of `now`.
    pub fn new(checklist: &'a Checklist, checklist_source: &'a str, now: Now) -> Self {
        AuditRequest {
            checklist,
            checklist_source,
            now,
            older: None,
            as_of: None,
            period: None,
            #[cfg(feature = "witness")]
            witnesses: None,
            model: None,
            documents: None,
            declaration: Declaration::default(),
        }
    }
}

/// Why an audit could not be made (a report that finds failures is made:
/// see [`AuditReport::failed`]).
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum AuditError {
    /// The declared period has not ended: a report cannot speak for time
    /// that has not passed.
    #[error("the period ends after now: {end} is after {now}; audit a period that has ended")]
    PeriodNotEnded {
        /// The period's end.
        end: jiff::Timestamp,
        /// The audit's clock.
        now: jiff::Timestamp,
    },
    /// An audit as of a date and of a declared period at once: the period
    /// ends at its own cutoff.
    #[error("an audit is as of a date or of a period, not both")]
    AsOfAndPeriod,
    /// The declared period starts after it ends.
    #[error("the period starts at {from}, after its end ({end})")]
    PeriodReversed {
        /// Its first instant.
        from: jiff::Timestamp,
        /// Its end.
        end: jiff::Timestamp,
    },
    /// No record of the log is about the model asked for.
    #[error("sha256:{model}: no record in the evidence log is about this model")]
    ModelNotInLog {
        /// Its digest (hex).
        model: String,
    },
    /// The log could not be read, or its witnesses not asked.
    #[error(transparent)]
    Log(#[from] Error),
}

impl AuditError {
    /// Whether trying again may help, the request is refused, or the
    /// evidence was tampered with.
    pub fn class(&self) -> ErrorClass {
        match self {
            AuditError::Log(e) => e.class(),
            _ => ErrorClass::Usage,
        }
    }
}

impl From<AuditError> for Error {
    fn from(e: AuditError) -> Self {
        match e {
            AuditError::Log(e) => e,
            other => Error::Usage(other.to_string()),
        }
    }
}

/// What [`audit`] returns: what the caller made of the report, and the
/// verified log it was made from (large for a large log: the caller
/// decides when to let it go).
#[derive(Debug)]
#[non_exhaustive]
pub struct Audited<R> {
    /// What `with` returned.
    pub result: R,
    /// Whether the report found a failure (the audit fails).
    pub failed: bool,
    /// The log as verified.
    pub check: LogCheck,
}

/// Audits the log at `location`, sealed by `key`: verifies it, holds it to
/// its witnesses, evaluates the checklist as of the request's date, and
/// hands the report to `with` (to render or sign it; the report borrows
/// the verified log, which is returned after it). The report is `with`'s
/// to drop: a process about to exit may leak it rather than free what a
/// million records' findings hold.
pub fn audit<R>(
    location: &Location,
    key: &VerifyingKey,
    request: &AuditRequest<'_>,
    with: impl FnOnce(AuditReport<'_>) -> R,
) -> Result<Audited<R>, AuditError> {
    let now = request.now.time();
    if let Some((from, to)) = &request.period {
        if request.as_of.is_some() {
            return Err(AuditError::AsOfAndPeriod);
        }
        if *from > to.cutoff {
            return Err(AuditError::PeriodReversed {
                from: *from,
                end: to.cutoff,
            });
        }
        if to.cutoff > now {
            return Err(AuditError::PeriodNotEnded {
                end: to.cutoff,
                now,
            });
        }
    }
    let as_of = match (&request.as_of, &request.period) {
        (Some(t), _) => *t,
        (None, Some((_, to))) => *to,
        (None, None) => AsOf::now(request.now),
    };
    let past = request.as_of.is_some() || request.period.is_some();
    #[cfg(feature = "witness")]
    let keep_leaves = request.witnesses.is_some();
    #[cfg(not(feature = "witness"))]
    let keep_leaves = false;
    // Records are judged against the audit's own clock: one dated after it
    // is a time finding, whatever the cutoff.
    let check = verify_store(
        location.open()?.as_ref(),
        key,
        VerifyOptions {
            older: request.older,
            keep_records: true,
            now: Some(now),
            keep_leaves,
            ..VerifyOptions::default()
        },
    )?;
    if let Some(model) = &request.model
        && !log_mentions(&check, model)
    {
        return Err(AuditError::ModelNotInLog {
            model: model.clone(),
        });
    }
    let mut input = AuditInput::new(
        request.checklist,
        &check,
        check.location.clone(),
        as_of,
        request.now.source(),
    );
    input.checklist_source = request.checklist_source.to_string();
    // An audit as of a date, with the checkpoint kept when its report was
    // issued, counts what that checkpoint covers: the report as issued.
    if past {
        input.kept = check.older.as_ref().map(|cp| cp.size);
    }
    #[cfg(feature = "witness")]
    if let Some((policy, options)) = &request.witnesses
        && check.ok()
    {
        let cutoff = past.then_some(as_of.cutoff);
        // A kept checkpoint is relied on: it must carry the quorum itself;
        // stamps are checked at the audit's clock.
        let mut options = *options;
        options.kept = request.older;
        options.now = now;
        input.witnesses = Some(witnessing(
            location,
            key,
            &check,
            (policy, &options),
            cutoff,
            &mut input.kept,
        )?);
    }
    input.model = request.model.clone();
    input.documents = request.documents.clone();
    let mut declaration = request.declaration.clone();
    declaration.period = request.period.map(|(from, to)| DeclaredPeriod {
        from,
        to: to.cutoff,
    });
    declaration.generated_at = Some(now);
    input.declaration = declaration;
    let report = evaluate(&input);
    let failed = report.failed();
    let result = with(report);
    drop(input);
    Ok(Audited {
        result,
        failed,
        check,
    })
}

/// The witness check as the report shows it. In an audit of the past
/// without a kept checkpoint, the witnesses' times say which records the
/// log held by the date: those inside the largest checkpoint its quorum
/// had cosigned by then (`kept` is set to its size).
#[cfg(feature = "witness")]
fn witnessing(
    location: &Location,
    key: &VerifyingKey,
    check: &LogCheck,
    (policy, options): (&crate::witness::Policy, &crate::witness::StoreCheck<'_>),
    cutoff: Option<jiff::Timestamp>,
    kept: &mut Option<u64>,
) -> Result<crate::audit::Witnessing, Error> {
    use crate::witness::{LogState, check_store, witnessed_by};
    let store = location.open()?;
    let found = check_store(policy, store.as_ref(), key, check, options)?;
    let time_of = |seconds: u64| {
        i64::try_from(seconds)
            .ok()
            .and_then(|s| jiff::Timestamp::from_second(s).ok())
            .unwrap_or(jiff::Timestamp::MAX)
    };
    let mut w = crate::audit::Witnessing::default();
    w.quorum = found.quorum;
    w.witnessed_size = found.witnessed.as_ref().map(|c| c.size);
    w.cosignatures = found
        .cosignatures
        .iter()
        .map(|(name, time)| (name.clone(), time_of(*time)))
        .collect();
    w.problems = found.problems.iter().map(ToString::to_string).collect();
    w.missing = found.missing;
    w.trusted_time = found.trusted_time.map(time_of);
    if let Some(cutoff) = cutoff
        && kept.is_none()
        && !policy.needs_none()
    {
        let state = LogState::of(check, key).map_err(|e| Error::Evidence(e.to_string()))?;
        let time = u64::try_from(cutoff.as_second()).unwrap_or(0);
        let (by, problems) = witnessed_by(policy, &state, store.as_ref(), time)?;
        let size = by.as_ref().map_or(0, |b| b.size);
        *kept = Some(size);
        w.as_of = Some(crate::audit::WitnessedAsOf {
            size,
            time: by.map(|b| time_of(b.time)),
        });
        w.problems.extend(problems.iter().map(ToString::to_string));
    }
    Ok(w)
}

/// What a report must never be written over.
#[derive(Debug, Clone, Copy, PartialEq, Eq, thiserror::Error)]
#[non_exhaustive]
pub enum Protected {
    /// The evidence log being audited.
    #[error("the evidence log being audited")]
    Log,
    /// A file kept beside the log (`LOG.checkpoint`, `LOG.lock`,
    /// `LOG.witnessed`, ...).
    #[error("a file kept beside the evidence log")]
    BesideLog,
    /// The key the report is signed with.
    #[error("the signing key")]
    SigningKey,
}

/// Refuses to write a report (or its signature) at `out` when that is the
/// evidence log at `log`, a file kept beside it, or the signing key at
/// `key`: by name (the canonical directory and file name) or, when both
/// exist, as the same file.
pub fn protected_place(
    out: &std::path::Path,
    log: &Location,
    key: Option<&std::path::Path>,
) -> std::result::Result<(), Protected> {
    use std::path::Path;
    let canonical_dir = |p: &Path| -> Option<(PathBuf, String)> {
        let parent = match p.parent() {
            Some(d) if !d.as_os_str().is_empty() => d.to_path_buf(),
            _ => PathBuf::from("."),
        };
        Some((
            parent.canonicalize().ok()?,
            p.file_name()?.to_string_lossy().into_owned(),
        ))
    };
    let same_place = |a: &Path, b: &Path| -> bool {
        if let (Ok(x), Ok(y)) = (std::fs::metadata(a), std::fs::metadata(b)) {
            use std::os::unix::fs::MetadataExt;
            if x.dev() == y.dev() && x.ino() == y.ino() {
                return true;
            }
        }
        matches!((canonical_dir(a), canonical_dir(b)), (Some(x), Some(y)) if x == y)
    };
    #[allow(irrefutable_let_patterns)]
    if let Location::File(log) = log {
        if same_place(out, log) {
            return Err(Protected::Log);
        }
        if let (Some((od, on)), Some((ld, ln))) = (canonical_dir(out), canonical_dir(log))
            && od == ld
            && on.starts_with(&format!("{ln}."))
        {
            return Err(Protected::BesideLog);
        }
    }
    match key {
        Some(key) if same_place(out, key) => Err(Protected::SigningKey),
        _ => Ok(()),
    }
}

/// Where [`write_report`] put a report and its signature.
#[derive(Debug, Clone)]
#[non_exhaustive]
pub struct WrittenReport {
    /// The report.
    pub path: PathBuf,
    /// Its signature (a Sigstore bundle holding a DSSE envelope) and the
    /// signing key's fingerprint, when signed.
    pub signature: Option<(PathBuf, String)>,
}

/// How [`write_report`] renders a report into bytes.
pub type Render<'r> = &'r dyn Fn(&AuditReport<'_>, &mut dyn std::io::Write) -> std::io::Result<()>;

/// Writes `report`, as `render` renders it, to `path`, whole or not at
/// all, and, with `key`, its signature to `path.sig`: the signature is
/// over the SHA-256 of the bytes written and states the verdict of the
/// report they were rendered from. Neither may land on the evidence log
/// at `log`, a file beside it, or the key file `key_file` (see
/// [`protected_place`]; checked again here, just before writing). The
/// report is put in place first: a stop between the two leaves a
/// signature that no longer matches (it fails), never a new signature
/// beside an old report.
pub fn write_report(
    path: &std::path::Path,
    report: &AuditReport<'_>,
    render: Render<'_>,
    key: Option<(&crate::keys::PrivateKey, Option<&std::path::Path>)>,
    log: &Location,
) -> crate::Result<WrittenReport> {
    use crate::staged::Staged;
    let mut sig = path.as_os_str().to_owned();
    sig.push(".sig");
    let sig = PathBuf::from(sig);
    let key_file = key.and_then(|(_, file)| file);
    for place in [path, sig.as_path()] {
        protected_place(place, log, key_file).map_err(|what| {
            Error::Usage(format!(
                "{}: that is {what}; write the report elsewhere",
                place.display()
            ))
        })?;
    }
    let key = key.map(|(key, _)| key);
    let (staged, sha256) = Staged::write_with(path, |w| render(report, w))?;
    let Some(key) = key else {
        staged.commit()?;
        return Ok(WrittenReport {
            path: path.to_path_buf(),
            signature: None,
        });
    };
    let name = path
        .file_name()
        .map(|n| n.to_string_lossy().into_owned())
        .unwrap_or_default();
    let bundle = crate::audit::sign_report(
        report,
        &name,
        &sha256,
        &crate::sign::SigningIdentity::Key(key),
    )?;
    let (signature, _) = Staged::write_with(&sig, |w| w.write_all(&bundle))?;
    staged.commit()?;
    signature.commit()?;
    Ok(WrittenReport {
        path: path.to_path_buf(),
        signature: Some((sig, key.public_key().fingerprint())),
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    /// A report lands neither on the log, nor beside it under its name,
    /// nor on the signing key, however the path is spelled.
    #[test]
    fn a_report_is_never_written_over_the_log_or_the_key() {
        let dir = tempfile::tempdir().unwrap();
        let log = dir.path().join("evidence.jsonl");
        let key = dir.path().join("key.pem");
        std::fs::write(&log, b"").unwrap();
        std::fs::write(&key, b"").unwrap();
        let location = Location::File(log.clone());
        let place = |out: PathBuf| protected_place(&out, &location, Some(&key));
        assert_eq!(place(log.clone()), Err(Protected::Log));
        assert_eq!(
            place(dir.path().join("./evidence.jsonl")),
            Err(Protected::Log)
        );
        assert_eq!(
            place(dir.path().join("evidence.jsonl.checkpoint")),
            Err(Protected::BesideLog)
        );
        assert_eq!(
            place(dir.path().join("evidence.jsonl.sig")),
            Err(Protected::BesideLog)
        );
        assert_eq!(
            place(dir.path().join(".").join("key.pem")),
            Err(Protected::SigningKey)
        );
        assert_eq!(place(dir.path().join("report.json")), Ok(()));
        let linked = dir.path().join("link");
        std::fs::hard_link(&key, &linked).unwrap();
        assert_eq!(place(linked), Err(Protected::SigningKey));
    }

    /// A checkpoint kept from an earlier audit is relied on: under a
    /// witness policy it must carry the quorum's cosignatures itself, and
    /// one the key holder alone signed is a witness problem of the report.
    #[cfg(all(feature = "witness", feature = "remote"))]
    #[test]
    fn a_kept_checkpoint_must_carry_the_quorum() {
        let dir = tempfile::tempdir().unwrap();
        let (path, key, policy) = crate::witnessing::tests::log(dir.path(), 2);
        let own = std::fs::read_to_string(crate::evidence::checkpoint_path(&path)).unwrap();
        let location = Location::File(path);
        let list = Checklist::default_list();
        let now = Now::system(jiff::Timestamp::from_second(1_000).unwrap());
        let mut options =
            crate::witness::StoreCheck::new(std::time::Duration::from_secs(1), now.time());
        options.ask = false;
        let problems = |older: Option<&str>| {
            let mut request = AuditRequest::new(&list, "shipped", now);
            request.older = older;
            request.witnesses = Some((&policy, options));
            let audited = audit(&location, &key, &request, |report| {
                serde_json::to_value(report).unwrap()
            })
            .unwrap();
            assert!(audited.failed, "the quorum is never reached here");
            audited.result["log"]["witnesses"]["problems"].clone()
        };
        let without = problems(None);
        let with = problems(Some(&own));
        let (without, with) = (without.as_array().unwrap(), with.as_array().unwrap());
        assert_eq!(with.len(), without.len() + 1, "{with:?}");
        assert!(
            with.iter()
                .any(|p| p.as_str().is_some_and(|p| p.contains("kept"))),
            "{with:?}"
        );
    }
}
