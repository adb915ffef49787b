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

/// Whether a file of this name is read for remote code: a `*config.json`,
/// or sentence-transformers' `modules.json` (each module's `type` is a
/// Python class path it imports).
pub fn is_config(name: &str) -> bool {
    let base = name.rsplit('/').next().unwrap_or(name);
    base.ends_with("config.json") || base == "modules.json"
}

/// The finding for a config that Python's `json` may read but this reader
/// cannot.
pub fn unreadable() -> Finding {
    Finding::invalid(
        "a config that is not strict JSON (NaN, Infinity, numbers out of range, deep nesting): \
         Python reads it, so whether it imports remote code could not be decided"
            .into(),
    )
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

/// Findings and facts for the bytes of the config `name` (JSON already
/// checked).
pub fn judge(name: &str, data: &[u8]) -> (Vec<Finding>, Value) {
    let parsed = match serde_json::from_slice::<Value>(data) {
        Ok(v) => v,
        Err(_) => return (vec![unreadable()], Value::Null),
    };
    let base = name.rsplit('/').next().unwrap_or(name);
    if base == "modules.json" {
        return modules(&parsed);
    }
    let Value::Object(config) = parsed else {
        return (Vec::new(), Value::Null);
    };
    let mut refs = Vec::new();
    match config.get("auto_map") {
        Some(Value::Object(map)) => map.values().for_each(|v| references(v, &mut refs)),
        // The older tokenizer form: a list of class references.
        Some(list @ Value::Array(_)) => references(list, &mut refs),
        _ => {}
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

/// sentence-transformers' `modules.json`: each module's `type` is imported
/// by its dotted path. Its own modules (`sentence_transformers.`) are the
/// library's; any other is code from elsewhere: an installed module, or a
/// repository (`org/repo--module.Class`, under `trust_remote_code`).
fn modules(parsed: &Value) -> (Vec<Finding>, Value) {
    let Value::Array(entries) = parsed else {
        return (Vec::new(), Value::Null);
    };
    let mut foreign = BTreeSet::new();
    let mut repos = BTreeSet::new();
    for entry in entries {
        let Some(kind) = entry.get("type").and_then(Value::as_str) else {
            continue;
        };
        if kind.starts_with("sentence_transformers.") {
            continue;
        }
        match origin(kind) {
            Origin::Repository(repo) => {
                repos.insert(repo);
            }
            _ => {
                foreign.insert(kind.to_string());
            }
        }
    }
    if foreign.is_empty() && repos.is_empty() {
        return (Vec::new(), Value::Null);
    }
    let mut findings = Vec::new();
    if !repos.is_empty() {
        findings.push(Finding::dangerous(format!(
            "remote code from other repositories, which no signature here covers: {}",
            repos.iter().cloned().collect::<Vec<_>>().join(", ")
        )));
    }
    if !foreign.is_empty() {
        findings.push(Finding::warning(format!(
            "remote code: loading imports modules by name: {}",
            foreign.iter().cloned().collect::<Vec<_>>().join(", ")
        )));
    }
    let details =
        json!({ "remote_code": { "files": [], "modules": foreign, "repositories": repos } });
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
    all.extend(list("modules"));
    all.extend(list("repositories"));
    all
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn auto_map_and_pipelines() {
        let (f, d) = judge(
            "config.json",
            br#"{"auto_map": {"AutoConfig": "configuration_x.XConfig",
                 "AutoTokenizer": ["tokenization_x.XTokenizer", null]},
                 "custom_pipelines": {"p": {"impl": "org/other--pipe.P"}}}"#,
        );
        assert_eq!(files(&d), vec!["configuration_x.py", "tokenization_x.py"]);
        assert!(f.iter().any(|f| f.message.contains("org/other")));
        let (f, d) = judge(
            "config.json",
            br#"{"model_type": "bert", "note": "auto_map"}"#,
        );
        assert!(f.is_empty() && d.is_null());
        assert!(is_config("sub/tokenizer_config.json"));
        let (f, _) = judge(
            "tokenizer_config.json",
            br#"{"auto_map": ["evil/repo--tokenization_x.X", null]}"#,
        );
        assert!(f.iter().any(|f| f.message.contains("evil/repo")), "{f:?}");
        let (f, _) = judge("config.json", b"{\"x\": 1e400}");
        assert!(f[0].message.contains("not strict JSON"), "{f:?}");
        let (f, d) = judge(
            "modules.json",
            br#"[{"type": "sentence_transformers.models.Transformer"}, {"type": "evil/repo--m.M"}, {"type": "mypkg.Layer"}]"#,
        );
        assert_eq!(imports(&d), vec!["mypkg.Layer", "evil/repo"]);
        assert!(f.iter().any(|f| f.message.contains("evil/repo")));
        assert!(!is_config("config.json.bak"));
    }
}
