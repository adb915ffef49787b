//! File arguments of every kind: devices, directories and named pipes
//! without a writer are refused with one line and exit 2, never read until
//! memory runs out or waited on for ever; pipes with a writer still work.

use crate::common::*;
use std::path::{Path, PathBuf};
use std::time::Duration;

/// The command lines that take a file argument, with `FILE` in its place.
fn commands(model: &Path, sig: &Path, log: &Path) -> Vec<Vec<String>> {
    let (private, public) = demo_key();
    let s = |p: &Path| p.display().to_string();
    let verify = |flag: &str| {
        let mut v = vec!["verify".into(), s(model), "--signature".into(), s(sig)];
        if flag != "--key" {
            v.extend(["--key".into(), s(&public)]);
        }
        v.extend([flag.into(), "FILE".into()]);
        v
    };
    vec![
        verify("--key"),
        verify("--policy"),
        verify("--bom"),
        vec![
            "verify".into(),
            s(model),
            "--signature".into(),
            "FILE".into(),
            "--key".into(),
            s(&public),
        ],
        vec![
            "sign".into(),
            s(model),
            "--signature".into(),
            s(&sig.with_extension("new")),
            "--key".into(),
            "FILE".into(),
        ],
        vec![
            "verify".into(),
            s(model),
            "--signature".into(),
            s(sig),
            "--cert-chain".into(),
            "FILE".into(),
        ],
        vec!["bom".into(), "--check".into(), "FILE".into()],
        vec![
            "verify-bundle".into(),
            "--bundle".into(),
            "FILE".into(),
            "--key".into(),
            s(&public),
            s(&model.join("config.json")),
        ],
        vec![
            "audit".into(),
            "--evidence".into(),
            s(log),
            "--evidence-key".into(),
            s(&public),
            "--checklist".into(),
            "FILE".into(),
        ],
        vec![
            "evidence".into(),
            "verify".into(),
            s(log),
            "--evidence-key".into(),
            s(&public),
            "--checkpoint".into(),
            "FILE".into(),
        ],
        vec![
            "evidence".into(),
            "attach".into(),
            "--control".into(),
            "1".into(),
            "--reviewer".into(),
            "r".into(),
            "--evidence".into(),
            s(log),
            "--evidence-key".into(),
            s(&private),
            "--file".into(),
            "FILE".into(),
        ],
    ]
}

fn with_file(args: &[String], file: &Path) -> Vec<String> {
    args.iter()
        .map(|a| {
            if a == "FILE" {
                file.display().to_string()
            } else {
                a.clone()
            }
        })
        .collect()
}

/// Runs every command with `file` in place of `FILE`; each must exit 2
/// with a single `error:` line that contains `want`.
fn refused_everywhere(file: &Path, want: &str) {
    let (tmp, model) = tiny_model();
    let sig = tmp.path().join("model.sig");
    sign_demo(&model, &sig);
    let log = tmp.path().join("evidence.jsonl");
    for args in commands(&model, &sig, &log) {
        let args = with_file(&args, file);
        let (code, _, err) = run(modelseal()
            .timeout(Duration::from_secs(60))
            .env_remove("MODELSEAL_EVIDENCE")
            .env_remove("MODELSEAL_EVIDENCE_KEY")
            .args(&args));
        assert_eq!(code, 2, "{args:?}: {err}");
        let lines: Vec<&str> = err.lines().collect();
        assert!(
            lines.len() == 1 && lines[0].starts_with("error: ") && lines[0].contains(want),
            "{args:?}: {err}"
        );
    }
}

#[test]
fn dev_zero_is_refused_for_every_file_argument() {
    refused_everywhere(Path::new("/dev/zero"), "is a character device");
}

#[test]
fn a_directory_is_refused_for_every_file_argument() {
    let dir = tempfile::tempdir().unwrap();
    refused_everywhere(dir.path(), "is a directory");
}

#[test]
fn a_named_pipe_without_a_writer_is_refused_for_every_file_argument() {
    let dir = tempfile::tempdir().unwrap();
    let fifo = dir.path().join("fifo");
    let (code, _, err) = run(assert_cmd::Command::new("mkfifo").arg(&fifo));
    assert_eq!(code, 0, "mkfifo: {err}");
    refused_everywhere(&fifo, "no writer");
}

fn bin() -> PathBuf {
    assert_cmd::cargo::cargo_bin("modelseal")
}

/// `--key <(command)`: how CI passes secrets. Both signing and verifying
/// read keys from anonymous pipes.
#[test]
fn keys_from_process_substitution_work() {
    let (tmp, model) = tiny_model();
    let sig = tmp.path().join("model.sig");
    let (private, public) = demo_key();
    let script = r#"set -e
"$1" sign "$2" --signature "$3" --key <(cat "$4")
"$1" verify "$2" --signature "$3" --key <(cat "$5")
"#;
    let (code, out, err) = run(assert_cmd::Command::new("bash")
        .timeout(Duration::from_secs(120))
        .args(["-c", script, "bash"])
        .arg(bin())
        .arg(&model)
        .arg(&sig)
        .arg(&private)
        .arg(&public));
    assert_eq!(code, 0, "{out}{err}");
    assert!(out.contains("verified"), "{out}");
}
