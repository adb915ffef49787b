//! Command-line scenarios as data: each `tests/cmd/*.toml` is a sequence of
//! steps run in a fresh directory holding a copy of `fixtures/tiny-model`
//! (as `model`) and `fixtures/tiny-dataset` (as `dataset`), at a pinned test
//! time. A step runs `modelseal` with its arguments and must exit with its
//! `status` and print exactly its `stdout` and `stderr`, or changes a file
//! (`write`, `remove`). In outputs the directory reads `[TMP]` and the
//! repository `[ROOT]`; in arguments `{ROOT}` is the repository. A step may
//! `capture = [NAME, PREFIX]` the 64 hex digits that follow PREFIX in its
//! output: later arguments use it as `{NAME}`, and every output shows it as
//! `[NAME]`. An expected line may hold `[..]`, which matches any text
//! within the line (a log's random origin, say).
//!
//! `MODELSEAL_SCENARIOS=overwrite scripts/test.sh --test tests scenarios`
//! rewrites the expected outputs from what the binary printed; review the
//! diff before committing it.

use crate::common::{copy_tree, fixture};
use serde::{Deserialize, Serialize};
use std::path::{Path, PathBuf};

/// One scenario file.
#[derive(Debug, Deserialize, Serialize)]
#[serde(deny_unknown_fields)]
struct Scenario {
    /// What the scenario shows.
    about: String,
    /// The test clock (RFC 3339); default 2026-03-01T12:00:00Z.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    now: Option<String>,
    step: Vec<Step>,
}

#[derive(Debug, Deserialize, Serialize)]
#[serde(deny_unknown_fields)]
struct Step {
    /// `modelseal` arguments.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    run: Option<Vec<String>>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    status: Option<i32>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    stdout: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    stderr: Option<String>,
    /// `[path, text]`: writes a file (relative to the scenario directory).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    write: Option<[String; 2]>,
    /// Removes a file.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    remove: Option<String>,
    /// `[NAME, PREFIX]`: keeps the digest after PREFIX in the output.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    capture: Option<[String; 2]>,
}

/// Whether `line` is what `pattern` expects (`[..]` matches any text).
fn line_matches(pattern: &str, line: &str) -> bool {
    let mut parts = pattern.split("[..]");
    let first = parts.next().unwrap_or_default();
    let Some(mut rest) = line.strip_prefix(first) else {
        return false;
    };
    let parts: Vec<&str> = parts.collect();
    for (i, part) in parts.iter().enumerate() {
        if i + 1 == parts.len() {
            return rest.ends_with(part);
        }
        match rest.find(part) {
            Some(at) => rest = &rest[at + part.len()..],
            None => return false,
        }
    }
    rest.is_empty()
}

/// The output as the scenario should say it: the expected text where it
/// matches line by line, else what was printed.
fn reconcile(expected: &str, printed: &str) -> (bool, String) {
    let (e, p): (Vec<&str>, Vec<&str>) = (
        expected.split('\n').collect(),
        printed.split('\n').collect(),
    );
    if e.len() == p.len() && e.iter().zip(&p).all(|(e, p)| line_matches(e, p)) {
        (true, expected.to_string())
    } else {
        (false, printed.to_string())
    }
}

fn root() -> PathBuf {
    PathBuf::from(env!("CARGO_MANIFEST_DIR"))
}

fn normalise(text: &[u8], tmp: &Path) -> String {
    let text = String::from_utf8_lossy(text);
    let tmp = tmp.display().to_string();
    // The temporary directory may be reached through a link (macOS /var).
    let real = std::fs::canonicalize(&tmp)
        .map(|p| p.display().to_string())
        .unwrap_or_else(|_| tmp.clone());
    text.replace(&real, "[TMP]")
        .replace(&tmp, "[TMP]")
        .replace(&root().display().to_string(), "[ROOT]")
}

/// Runs one scenario; returns the mismatches, and the scenario with what
/// the binary printed in place of what was expected.
fn play(file: &Path) -> (Vec<String>, Scenario) {
    let text = std::fs::read_to_string(file).unwrap();
    let mut scenario: Scenario =
        toml::from_str(&text).unwrap_or_else(|e| panic!("{}: {e}", file.display()));
    let dir = tempfile::tempdir().unwrap();
    copy_tree(&fixture("tiny-model"), &dir.path().join("model"));
    copy_tree(&fixture("tiny-dataset"), &dir.path().join("dataset"));
    let now = scenario
        .now
        .clone()
        .unwrap_or_else(|| "2026-03-01T12:00:00Z".into());
    let mut problems = Vec::new();
    let mut captured: Vec<(String, String)> = Vec::new();
    for (i, step) in scenario.step.iter_mut().enumerate() {
        if let Some([path, text]) = &step.write {
            std::fs::write(dir.path().join(path), text).unwrap();
        }
        if let Some(path) = &step.remove {
            std::fs::remove_file(dir.path().join(path)).unwrap();
        }
        let Some(args) = &step.run else { continue };
        let args: Vec<String> = args
            .iter()
            .map(|a| {
                captured.iter().fold(
                    a.replace("{ROOT}", &root().display().to_string()),
                    |a, (name, value)| a.replace(&format!("{{{name}}}"), value),
                )
            })
            .collect();
        let out = assert_cmd::Command::cargo_bin("modelseal")
            .unwrap()
            .args(&args)
            .current_dir(dir.path())
            .env_clear()
            .env("PATH", std::env::var_os("PATH").unwrap_or_default())
            .env("HOME", dir.path())
            .env("MODELSEAL_TEST_NOW", &now)
            .output()
            .unwrap();
        if let Some([name, prefix]) = &step.capture {
            let all = format!(
                "{}{}",
                String::from_utf8_lossy(&out.stdout),
                String::from_utf8_lossy(&out.stderr)
            );
            let value = all
                .find(prefix.as_str())
                .map(|at| &all[at + prefix.len()..])
                .and_then(|rest| rest.get(..64))
                .filter(|hex| hex.bytes().all(|b| b.is_ascii_hexdigit()))
                .unwrap_or_else(|| panic!("{}: nothing follows {prefix:?}", file.display()));
            captured.push((name.clone(), value.to_string()));
        }
        let hide = |text: String| {
            captured.iter().fold(text, |t, (name, value)| {
                t.replace(value, &format!("[{name}]"))
            })
        };
        let got = (
            out.status.code().unwrap_or(-1),
            hide(normalise(&out.stdout, dir.path())),
            hide(normalise(&out.stderr, dir.path())),
        );
        let name = format!(
            "{} step {}: modelseal {}",
            file.display(),
            i + 1,
            args.join(" ")
        );
        if step.status != Some(got.0) {
            problems.push(format!(
                "{name}: exit {} (expected {:?})",
                got.0, step.status
            ));
        }
        let mut reconciled = Vec::new();
        for (what, expected, printed) in [
            ("stdout", &step.stdout, &got.1),
            ("stderr", &step.stderr, &got.2),
        ] {
            let expected = expected.as_deref().unwrap_or_default();
            let (same, text) = reconcile(expected, printed);
            if !same {
                problems.push(format!(
                    "{name}: {what} differs\n--- expected\n{expected}--- printed\n{printed}"
                ));
            }
            reconciled.push(text);
        }
        step.status = Some(got.0);
        step.stderr = reconciled.pop();
        step.stdout = reconciled.pop();
    }
    (problems, scenario)
}

#[test]
fn every_command_line_scenario_prints_what_its_file_says() {
    let dir = root().join("tests/cmd");
    let mut files: Vec<PathBuf> = std::fs::read_dir(&dir)
        .unwrap()
        .map(|e| e.unwrap().path())
        .filter(|p| p.extension().is_some_and(|e| e == "toml"))
        .collect();
    files.sort();
    assert!(files.len() >= 8, "the scenarios are in {}", dir.display());
    let overwrite = std::env::var("MODELSEAL_SCENARIOS").is_ok_and(|v| v == "overwrite");
    let mut problems = Vec::new();
    for file in &files {
        let (found, played) = play(file);
        if overwrite && !found.is_empty() {
            std::fs::write(file, toml::to_string_pretty(&played).unwrap()).unwrap();
        }
        problems.extend(found);
    }
    assert!(
        problems.is_empty() || overwrite,
        "{} mismatches (MODELSEAL_SCENARIOS=overwrite rewrites them):\n\n{}",
        problems.len(),
        problems.join("\n\n")
    );
}
