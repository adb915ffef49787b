//! `modelseal evidence export`: what an auditor receives, in one directory.

use super::{Context, Format, Outcome, escape, print_json};
use modelseal::audit::{AsOf, AuditInput, evaluate, to_html, to_markdown, to_oscal};
use modelseal::evidence::{
    EXPORTED_LOG, Location, checkpoint_path, evidence_verifying_key, export_log,
};
use modelseal::keys::PublicKey;
use modelseal::{Error, Result};
use serde_json::json;
use std::path::Path;

/// The key, fingerprint and report files beside the exported log.
const PUBLIC_KEY: &str = "evidence.pub.pem";
const FINGERPRINT: &str = "evidence.pub.fingerprint.txt";
const REPORTS: [&str; 4] = ["audit.json", "audit.md", "audit.oscal.json", "audit.html"];
/// What became of each file the records name (copied under
/// `inputs/sha256/`, or why not).
const INPUTS_INDEX: &str = "inputs.json";

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

pub fn run(
    ctx: &Context,
    location: &Location,
    public: &PublicKey,
    out: &Path,
    checklist: Option<&Path>,
) -> Result<Outcome> {
    let key = evidence_verifying_key(public)?;
    let (list, source) = super::audit::load_checklist(checklist)?;
    // Everything is written into a staging directory beside DIR and put in
    // place by one rename: a failed export leaves no partial DIR behind,
    // and an existing DIR must be empty (nothing in it is overwritten).
    if let Ok(mut entries) = std::fs::read_dir(out)
        && entries.next().is_some()
    {
        return Err(Error::Exists(out.to_path_buf()));
    }
    let parent = match out.parent() {
        Some(p) if !p.as_os_str().is_empty() => p.to_path_buf(),
        _ => std::path::PathBuf::from("."),
    };
    std::fs::create_dir_all(&parent).map_err(|e| Error::io(&parent, e))?;
    let staging = tempfile::Builder::new()
        .prefix(".modelseal-export.")
        .tempdir_in(&parent)
        .map_err(|e| Error::io(&parent, e))?;
    let dir = staging.path();
    let check = export_log(location.open()?.as_ref(), &key, dir)?;
    // The cosigned checkpoints the store kept (each with its RFC 3161
    // stamp) go with it, byte for byte and in the order kept, kept beside
    // the exported log as a file log keeps them: checked offline with
    // `evidence verify --witness-policy P --snapshot`, and relied on by
    // `audit --as-of` there.
    let mut carried = Vec::new();
    let exported = modelseal::evidence::FileLog::new(&dir.join(EXPORTED_LOG));
    let mut any = false;
    location.open()?.cosigned(&mut |kept| {
        any = true;
        modelseal::evidence::EvidenceStore::keep_cosigned(&exported, &kept)
    })?;
    if any {
        let witnessed = modelseal::witness::witnessed_path(&dir.join(EXPORTED_LOG));
        for path in [
            witnessed.clone(),
            modelseal::witness::stamp_path(&witnessed),
            modelseal::evidence::history_path(&dir.join(EXPORTED_LOG)),
        ] {
            if path.exists() {
                carried.push(path.file_name().map(|n| n.to_owned()).unwrap_or_default());
            }
        }
    }
    // The bundles, BOMs and policies the records name, by content, with
    // an index of what became of each (relative locations are looked up
    // from here).
    let here = std::env::current_dir().map_err(|e| Error::io(Path::new("."), e))?;
    let inputs = modelseal::evidence::export_inputs(&check.records, dir, &here)?;
    let index = serde_json::to_string_pretty(&inputs)
        .map_err(|e| Error::Evidence(format!("cannot encode the inputs index: {e}")))?;
    write_new(dir, INPUTS_INDEX, format!("{index}\n").as_bytes())?;
    write_new(dir, PUBLIC_KEY, public.to_spki_pem().as_bytes())?;
    write_new(
        dir,
        FINGERPRINT,
        format!("{}  {PUBLIC_KEY}\n", public.fingerprint()).as_bytes(),
    )?;
    let mut input = AuditInput::new(
        &list,
        &check,
        check.location.clone(),
        AsOf::now(ctx.now),
        ctx.now.source(),
    );
    ctx.warn_test_clock("the exported audit report");
    input.checklist_source = source;
    let report = evaluate(&input);
    let json = serde_json::to_string_pretty(&report)
        .map_err(|e| Error::Evidence(format!("cannot encode the report: {e}")))?;
    write_new(dir, REPORTS[0], format!("{json}\n").as_bytes())?;
    write_new(dir, REPORTS[1], to_markdown(&report).as_bytes())?;
    let oscal = serde_json::to_string_pretty(&to_oscal(&report))
        .map_err(|e| Error::Evidence(format!("cannot encode the report: {e}")))?;
    write_new(dir, REPORTS[2], format!("{oscal}\n").as_bytes())?;
    write_new(dir, REPORTS[3], to_html(&report).as_bytes())?;
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
    match ctx.format {
        Format::Json => print_json(&json!({
            "log": check.location,
            "out": out,
            "intact": check.ok(),
            "records": check.records.len(),
            "checkpoint": super::evidence::checkpoint_json(&check),
            "fingerprint": public.fingerprint(),
            "files": files,
            "problems": check.problems,
            "repairs": check.repairs,
            "inputs": inputs,
        })),
        _ => {
            outln!(
                "exported {} ({} records, {}) to {}",
                escape(&check.location),
                check.records.len(),
                if check.ok() { "intact" } else { "BROKEN" },
                escape(&out.display().to_string())
            );
            for p in &check.problems {
                outln!("  problem: {}", escape(&p.to_string()));
            }
            for f in &files {
                outln!("  {}", escape(&f.display().to_string()));
            }
            let copied = inputs
                .iter()
                .filter(|i| matches!(i.outcome, modelseal::evidence::InputOutcome::Copied { .. }))
                .count();
            outln!(
                "  {copied} of the {} bundles, BOMs and policies the records name copied under {}/ (see {INPUTS_INDEX})",
                inputs.len(),
                modelseal::evidence::INPUTS_DIR
            );
            for i in &inputs {
                let why = match &i.outcome {
                    modelseal::evidence::InputOutcome::Copied { .. } => continue,
                    modelseal::evidence::InputOutcome::Missing => "not found".to_string(),
                    modelseal::evidence::InputOutcome::NotRegular => {
                        "not a regular file (a link, a directory, a device): not opened".into()
                    }
                    modelseal::evidence::InputOutcome::Unreadable { reason } => {
                        format!("unreadable: {reason}")
                    }
                    modelseal::evidence::InputOutcome::BadDigest => {
                        "the record's digest is not 64 hex digits".into()
                    }
                    modelseal::evidence::InputOutcome::Changed { found } => {
                        format!("changed since recorded (now sha256:{found})")
                    }
                    modelseal::evidence::InputOutcome::NotLocal => "not a local file".into(),
                    modelseal::evidence::InputOutcome::TooLarge => "too large to copy".into(),
                    _ => "not copied".into(),
                };
                outln!("    not copied: {} ({why})", escape(&i.uri));
            }
            outln!(
                "  key fingerprint {} (check it with the key's owner by another channel)",
                public.fingerprint()
            );
        }
    }
    Ok(if check.ok() { 0 } else { 1 })
}
