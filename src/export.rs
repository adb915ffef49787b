//! What an auditor receives, in one directory: the verified log and its
//! checkpoint, the cosigned checkpoints kept beside it, the bundles, BOMs
//! and policies its records name (by content), the evidence key and its
//! fingerprint, and the audit report in each of its forms.

use crate::audit::{AsOf, AuditInput, Checklist, evaluate, to_html, to_markdown, to_oscal};
use crate::clock::Now;
use crate::evidence::{
    EXPORTED_LOG, ExportedInput, FileLog, InputOutcome, Location, LogCheck, checkpoint_path,
    evidence_verifying_key, export_inputs, export_log, history_path,
};
use crate::keys::PublicKey;
use crate::{Error, Result};
use std::ffi::OsString;
use std::path::{Path, PathBuf};

/// The evidence key's public half, beside the exported log.
pub const PUBLIC_KEY: &str = "evidence.pub.pem";
/// Its fingerprint, to be checked with the key's owner by another channel.
pub const FINGERPRINT: &str = "evidence.pub.fingerprint.txt";
/// The audit report in its four forms.
pub const REPORTS: [&str; 4] = ["audit.json", "audit.md", "audit.oscal.json", "audit.html"];
/// What became of each file the records name (copied under
/// [`INPUTS_DIR`](crate::evidence::INPUTS_DIR), or why not).
pub const INPUTS_INDEX: &str = "inputs.json";

/// What to export, and how the report is dated.
#[derive(Debug, Clone, Copy)]
#[non_exhaustive]
pub struct ExportRequest<'a> {
    /// The checklist the report evaluates.
    pub checklist: &'a Checklist,
    /// What the report names as the checklist's source (a path, or
    /// "shipped").
    pub checklist_source: &'a str,
    /// The time the report is dated (and the clock it came from).
    pub now: Now,
    /// Where relative locations in records are looked up from (the
    /// caller's working directory: the library does not read it).
    pub base: &'a Path,
}

impl<'a> ExportRequest<'a> {
    /// An export under `checklist`, dated `now`, looking up relative
    /// locations from `base`.
    pub fn new(
        checklist: &'a Checklist,
        checklist_source: &'a str,
        now: Now,
        base: &'a Path,
    ) -> Self {
        ExportRequest {
            checklist,
            checklist_source,
            now,
            base,
        }
    }
}

/// What [`export`] wrote.
#[derive(Debug)]
#[non_exhaustive]
pub struct Exported {
    /// The verification of the log as exported (`check.ok()` is false for
    /// a broken log, which is exported all the same: the auditor sees it).
    pub check: LogCheck,
    /// The files of the export directory, the copied inputs aside (they
    /// are in `inputs`).
    pub files: Vec<PathBuf>,
    /// The files the records name, and what became of each.
    pub inputs: Vec<ExportedInput>,
    /// The evidence key's fingerprint.
    pub fingerprint: String,
}

impl Exported {
    /// How many of the named inputs were copied.
    pub fn copied(&self) -> usize {
        self.inputs
            .iter()
            .filter(|i| matches!(i.outcome, InputOutcome::Copied { .. }))
            .count()
    }
}

/// Exports the log at `location` (verified with `public`) to `out`, which
/// must not exist or be empty. Everything is written into a staging
/// directory beside `out` and put in place by one rename: a failed export
/// leaves no partial directory, and nothing is overwritten.
pub fn export(
    location: &Location,
    public: &PublicKey,
    out: &Path,
    request: &ExportRequest<'_>,
) -> Result<Exported> {
    let key = evidence_verifying_key(public)?;
    if let Ok(mut entries) = std::fs::read_dir(out)
        && entries.next().is_some()
    {
        return Err(Error::Exists(out.to_path_buf()));
    }
    let parent = match out.parent() {
        Some(p) if !p.as_os_str().is_empty() => p.to_path_buf(),
        _ => PathBuf::from("."),
    };
    std::fs::create_dir_all(&parent).map_err(|e| Error::io(&parent, e))?;
    let staging = tempfile::Builder::new()
        .prefix(".modelseal-export.")
        .tempdir_in(&parent)
        .map_err(|e| Error::io(&parent, e))?;
    let dir = staging.path();
    let check = export_log(location.open()?.as_ref(), &key, dir)?;
    let carried = carry_cosigned(location, &dir.join(EXPORTED_LOG))?;
    let inputs = export_inputs(&check.records, dir, request.base)?;
    write_new(dir, INPUTS_INDEX, &pretty(&inputs, "the inputs index")?)?;
    write_new(dir, PUBLIC_KEY, public.to_spki_pem().as_bytes())?;
    let fingerprint = public.fingerprint();
    write_new(
        dir,
        FINGERPRINT,
        format!("{fingerprint}  {PUBLIC_KEY}\n").as_bytes(),
    )?;
    let mut input = AuditInput::new(
        request.checklist,
        &check,
        check.location.clone(),
        AsOf::now(request.now),
        request.now.source(),
    );
    input.checklist_source = request.checklist_source.to_string();
    let report = evaluate(&input);
    write_new(dir, REPORTS[0], &pretty(&report, "the report")?)?;
    write_new(dir, REPORTS[1], to_markdown(&report).as_bytes())?;
    write_new(dir, REPORTS[2], &pretty(&to_oscal(&report), "the report")?)?;
    write_new(dir, REPORTS[3], to_html(&report).as_bytes())?;
    drop(input);
    if out.exists() {
        // Empty (checked above): the rename replaces it.
        std::fs::remove_dir(out).map_err(|e| Error::io(out, e))?;
    }
    std::fs::rename(staging.keep(), out).map_err(|e| Error::io(out, e))?;
    let log = out.join(EXPORTED_LOG);
    let mut files = vec![log.clone(), checkpoint_path(&log)];
    files.extend(carried.iter().map(|n| out.join(n)));
    files.extend(
        [PUBLIC_KEY, FINGERPRINT, INPUTS_INDEX]
            .iter()
            .chain(REPORTS.iter())
            .map(|n| out.join(n)),
    );
    // A broken log is exported without a checkpoint.
    files.retain(|f| f.exists());
    Ok(Exported {
        check,
        files,
        inputs,
        fingerprint,
    })
}

/// Copies the cosigned checkpoints the store kept (each with its RFC 3161
/// stamp), byte for byte and in the order kept, beside the exported log
/// as a file log keeps them: `evidence verify --snapshot` checks them
/// offline, and `audit --as-of` relies on them. The names of the files
/// written.
fn carry_cosigned(location: &Location, exported: &Path) -> Result<Vec<OsString>> {
    let log = FileLog::new(exported);
    let mut any = false;
    location.open()?.cosigned(&mut |kept| {
        any = true;
        crate::evidence::EvidenceStore::keep_cosigned(&log, &kept)
    })?;
    if !any {
        return Ok(Vec::new());
    }
    let witnessed = crate::evidence::witnessed_path(exported);
    let stamps = crate::evidence::stamp_path(&witnessed);
    Ok([witnessed, stamps, history_path(exported)]
        .into_iter()
        .filter(|p| p.exists())
        .filter_map(|p| p.file_name().map(|n| n.to_owned()))
        .collect())
}

/// `value` as pretty JSON and a newline.
fn pretty(value: &impl serde::Serialize, what: &str) -> Result<Vec<u8>> {
    let mut text = serde_json::to_vec_pretty(value)
        .map_err(|e| Error::Evidence(format!("cannot encode {what}: {e}")))?;
    text.push(b'\n');
    Ok(text)
}

fn write_new(dir: &Path, name: &str, bytes: &[u8]) -> Result<()> {
    use std::io::Write;
    let path = dir.join(name);
    std::fs::File::create_new(&path)
        .and_then(|mut f| {
            f.write_all(bytes)?;
            f.sync_all()
        })
        .map_err(|e| match e.kind() {
            std::io::ErrorKind::AlreadyExists => Error::Exists(path.clone()),
            _ => Error::io(&path, e),
        })
}

#[cfg(test)]
mod tests {
    use super::*;

    /// An export onto a directory that holds something writes nothing.
    #[test]
    fn an_export_onto_a_full_directory_is_refused_and_writes_nothing() {
        let dir = tempfile::tempdir().unwrap();
        let out = dir.path().join("out");
        std::fs::create_dir(&out).unwrap();
        std::fs::write(out.join("keep"), b"x").unwrap();
        let key = crate::keys::generate(crate::keys::KeyAlgorithm::Ed25519).unwrap();
        let list = Checklist::default_list();
        let request = ExportRequest::new(
            &list,
            "shipped",
            Now::system(jiff::Timestamp::UNIX_EPOCH),
            dir.path(),
        );
        let location = Location::File(dir.path().join("log.jsonl"));
        let err = export(&location, &key.public_key(), &out, &request).unwrap_err();
        assert!(matches!(&err, Error::Exists(p) if *p == out), "{err}");
        let names: Vec<_> = std::fs::read_dir(dir.path())
            .unwrap()
            .map(|e| e.unwrap().file_name())
            .collect();
        assert_eq!(names, vec![OsString::from("out")]);
    }
}
