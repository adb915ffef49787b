//! Hugging Face "remote code": a `*config.json` (the model's `config.json`,
//! `tokenizer_config.json`, `preprocessor_config.json`, ...) whose
//! `auto_map` or `custom_pipelines` names Python classes that
//! `trust_remote_code=True` imports and runs. A class named as
//! `module.Class` comes from `module.py` beside the config, which must be a
//! signed file of the model; one named `org/repo--module.Class` comes from
//! another repository, which nothing signed covers.

use super::Finding;
use serde_json::{Value, json};
use std::collections::BTreeSet;

/// Largest config kept to look for remote code.
pub const MAX_CONFIG: usize = 16 << 20;

/// Whether a file of this name is read for remote code.
pub fn is_config(name: &str) -> bool {
    let base = name.rsplit('/').next().unwrap_or(name);
    base.ends_with("config.json")
}

/// Collects the class references under `value`: strings, or lists of them
/// (a tokenizer names a slow and a fast class, either may be null).
fn references(value: &Value, out: &mut Vec<String>) {
    match value {
        Value::String(s) => out.push(s.clone()),
        Value::Array(items) => items.iter().for_each(|v| references(v, out)),
        _ => {}
    }
}

/// The Python file a class reference imports, relative to the config's
/// folder, or the other repository it comes from.
enum Origin {
    File(String),
    Repository(String),
    Unreadable,
}

fn origin(reference: &str) -> Origin {
    if let Some((repo, _)) = reference.split_once("--") {
        return Origin::Repository(repo.to_string());
    }
    match reference.rsplit_once('.') {
        Some((module, class))
            if !module.is_empty()
                && !class.is_empty()
                && module
                    .split('.')
                    .all(|p| !p.is_empty() && !p.contains(['/', '\\', ':'])) =>
        {
            Origin::File(format!("{}.py", module.replace('.', "/")))
        }
        _ => Origin::Unreadable,
    }
}

/// Findings and facts for a config's bytes (JSON already checked).
pub fn judge(data: &[u8]) -> (Vec<Finding>, Value) {
    let Ok(Value::Object(config)) = serde_json::from_slice::<Value>(data) else {
        return (Vec::new(), Value::Null);
    };
    let mut refs = Vec::new();
    if let Some(Value::Object(map)) = config.get("auto_map") {
        map.values().for_each(|v| references(v, &mut refs));
    }
    if let Some(Value::Object(pipelines)) = config.get("custom_pipelines") {
        for p in pipelines.values() {
            if let Value::Object(p) = p {
                for key in ["impl", "pt", "tf"] {
                    if let Some(v) = p.get(key) {
                        references(v, &mut refs);
                    }
                }
            }
        }
    }
    if refs.is_empty() {
        return (Vec::new(), Value::Null);
    }
    let mut files = BTreeSet::new();
    let mut repos = BTreeSet::new();
    let mut findings = Vec::new();
    for r in &refs {
        match origin(r) {
            Origin::File(f) => {
                files.insert(f);
            }
            Origin::Repository(repo) => {
                repos.insert(repo);
            }
            Origin::Unreadable => findings.push(Finding::invalid(format!(
                "remote code: class reference {r:?} cannot be read as module.Class"
            ))),
        }
    }
    if !repos.is_empty() {
        findings.push(Finding::dangerous(format!(
            "remote code from other repositories, which no signature here covers: {}",
            repos.iter().cloned().collect::<Vec<_>>().join(", ")
        )));
    }
    findings.push(Finding::warning(format!(
        "remote code: trust_remote_code=True imports {}",
        files
            .iter()
            .chain(repos.iter())
            .cloned()
            .collect::<Vec<_>>()
            .join(", ")
    )));
    let details = json!({ "remote_code": { "files": files, "repositories": repos } });
    (findings, details)
}

/// The code files a report's remote code imports, relative to its folder.
pub fn files(details: &Value) -> Vec<&str> {
    details
        .pointer("/remote_code/files")
        .and_then(Value::as_array)
        .map(|a| a.iter().filter_map(Value::as_str).collect())
        .unwrap_or_default()
}

/// The code files and repositories a report says its file imports
/// (empty when none).
pub fn imports(details: &Value) -> Vec<String> {
    let list = |key: &str| {
        details
            .pointer(&format!("/remote_code/{key}"))
            .and_then(Value::as_array)
            .map(|a| {
                a.iter()
                    .filter_map(Value::as_str)
                    .map(str::to_string)
                    .collect::<Vec<_>>()
            })
            .unwrap_or_default()
    };
    let mut all = list("files");
    all.extend(list("repositories"));
    all
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn auto_map_and_pipelines() {
        let (f, d) = judge(
            br#"{"auto_map": {"AutoConfig": "configuration_x.XConfig",
                 "AutoTokenizer": ["tokenization_x.XTokenizer", null]},
                 "custom_pipelines": {"p": {"impl": "org/other--pipe.P"}}}"#,
        );
        assert_eq!(files(&d), vec!["configuration_x.py", "tokenization_x.py"]);
        assert!(f.iter().any(|f| f.message.contains("org/other")));
        let (f, d) = judge(br#"{"model_type": "bert", "note": "auto_map"}"#);
        assert!(f.is_empty() && d.is_null());
        assert!(is_config("sub/tokenizer_config.json"));
        assert!(!is_config("config.json.bak"));
    }
}
