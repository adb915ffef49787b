//! Archives that carry models: PyTorch zip checkpoints, Keras `.keras`,
//! NumPy `.npz`, and legacy PyTorch tar files. Members are listed from the
//! central directory and read with size caps (no zip bombs).

use super::pickle;
use super::sniff::npy;
use super::{Finding, Format};
use serde_json::{Value, json};
use std::io::Read;
use std::path::Path;

/// Most bytes read from one member.
const MAX_MEMBER: u64 = 512 << 20;
/// Most members looked at.
const MAX_MEMBERS: usize = 100_000;

fn read_member(reader: impl Read) -> Result<Vec<u8>, String> {
    let mut data = Vec::new();
    reader
        .take(MAX_MEMBER + 1)
        .read_to_end(&mut data)
        .map_err(|e| e.to_string())?;
    if data.len() as u64 > MAX_MEMBER {
        return Err(format!("member larger than {MAX_MEMBER} bytes"));
    }
    Ok(data)
}

fn pickle_findings(
    member: &str,
    data: &[u8],
    findings: &mut Vec<Finding>,
    globals: &mut Vec<Value>,
) {
    let scan = pickle::scan(data);
    super::pickle_to_findings(member, &scan, findings);
    globals.push(json!({ "member": member, "protocol": scan.protocol, "globals": scan.globals }));
}

/// Inspects a zip file.
pub fn zip(path: &Path) -> (Format, Vec<Finding>, Value) {
    let mut findings = Vec::new();
    let file = match std::fs::File::open(path) {
        Ok(f) => f,
        Err(e) => {
            return (
                Format::Zip,
                vec![Finding::invalid(format!("cannot open: {e}"))],
                Value::Null,
            );
        }
    };
    let mut archive = match ::zip::ZipArchive::new(file) {
        Ok(a) => a,
        Err(e) => {
            return (
                Format::Zip,
                vec![Finding::invalid(format!("not a readable zip: {e}"))],
                Value::Null,
            );
        }
    };
    if archive.len() > MAX_MEMBERS {
        return (
            Format::Zip,
            vec![Finding::invalid(format!("more than {MAX_MEMBERS} members"))],
            Value::Null,
        );
    }
    let names: Vec<String> = archive
        .file_names()
        .map(|n| n.map(|n| n.into_owned()).unwrap_or_else(|_| "?".into()))
        .collect();
    let is_torch = names
        .iter()
        .any(|n| n == "data.pkl" || n.ends_with("/data.pkl"));
    let is_keras = names.iter().any(|n| n == "config.json")
        && names
            .iter()
            .any(|n| n == "model.weights.h5" || n == "metadata.json");
    let is_npz = !names.is_empty() && names.iter().all(|n| n.ends_with(".npy"));
    let format = if is_torch {
        Format::PytorchZip
    } else if is_keras {
        Format::Keras
    } else if is_npz {
        Format::NumpyZip
    } else {
        Format::Zip
    };
    let mut pickles = Vec::new();
    for i in 0..archive.len() {
        let mut member = match archive.by_index(i) {
            Ok(m) => m,
            Err(e) => {
                findings.push(Finding::invalid(format!("member {i}: {e}")));
                continue;
            }
        };
        if member.is_dir() {
            continue;
        }
        let name = member
            .name()
            .map(|n| n.into_owned())
            .unwrap_or_else(|_| format!("member {i} (undecodable name)"));
        let lower = name.to_ascii_lowercase();
        let wants = lower.ends_with(".pkl")
            || lower.ends_with(".pickle")
            || lower.ends_with(".npy")
            || (is_keras && lower == "config.json")
            || !matches!(
                format,
                Format::PytorchZip | Format::Keras | Format::NumpyZip
            );
        if !wants {
            continue;
        }
        let data = match read_member(&mut member) {
            Ok(d) => d,
            Err(e) => {
                findings.push(Finding::invalid(format!("{name}: {e}")));
                continue;
            }
        };
        if lower.ends_with(".npy") {
            match npy(&data) {
                Some(Ok(h)) if h.object => findings.push(Finding::dangerous(format!(
                    "{name}: object array (dtype {}): loading it runs pickle",
                    h.descr
                ))),
                Some(Err(e)) => findings.push(Finding::invalid(format!("{name}: {e}"))),
                None => findings.push(Finding::invalid(format!("{name}: not an .npy array"))),
                _ => {}
            }
        } else if is_keras && lower == "config.json" {
            keras_config(&data, &mut findings);
        } else if lower.ends_with(".pkl") || lower.ends_with(".pickle") || pickle::looks_like(&data)
        {
            pickle_findings(&name, &data, &mut findings, &mut pickles);
        }
    }
    (
        format,
        findings,
        json!({ "members": names.len(), "pickles": pickles }),
    )
}

/// Keras configs may hold `Lambda` layers, whose Python code runs on load.
fn keras_config(data: &[u8], findings: &mut Vec<Finding>) {
    let Ok(config) = serde_json::from_slice::<Value>(data) else {
        findings.push(Finding::invalid("config.json is not JSON".into()));
        return;
    };
    let mut stack = vec![&config];
    while let Some(v) = stack.pop() {
        match v {
            Value::Object(map) => {
                if let Some(Value::String(c)) = map.get("class_name")
                    && (c == "Lambda" || c == "TFOpLambda")
                {
                    findings.push(Finding::dangerous(format!(
                        "Keras {c} layer: its Python code runs on load"
                    )));
                }
                stack.extend(map.values());
            }
            Value::Array(items) => stack.extend(items),
            _ => {}
        }
    }
}

/// Inspects a tar file (legacy PyTorch checkpoints are tars with a `pickle` member).
pub fn tar(path: &Path) -> (Format, Vec<Finding>, Value) {
    let mut findings = Vec::new();
    let mut pickles = Vec::new();
    let mut members = 0usize;
    let mut legacy = false;
    let file = match std::fs::File::open(path) {
        Ok(f) => f,
        Err(e) => {
            return (
                Format::Tar,
                vec![Finding::invalid(format!("cannot open: {e}"))],
                Value::Null,
            );
        }
    };
    let mut archive = ::tar::Archive::new(file);
    let entries = match archive.entries() {
        Ok(e) => e,
        Err(e) => {
            return (
                Format::Tar,
                vec![Finding::invalid(format!("not a readable tar: {e}"))],
                Value::Null,
            );
        }
    };
    for entry in entries {
        members += 1;
        if members > MAX_MEMBERS {
            findings.push(Finding::invalid(format!("more than {MAX_MEMBERS} members")));
            break;
        }
        let mut entry = match entry {
            Ok(e) => e,
            Err(e) => {
                findings.push(Finding::invalid(format!("bad tar entry: {e}")));
                break;
            }
        };
        let name = entry
            .path()
            .map(|p| p.to_string_lossy().into_owned())
            .unwrap_or_default();
        if name == "pickle" || name.ends_with("/pickle") {
            legacy = true;
        }
        match read_member(&mut entry) {
            Ok(data)
                if pickle::looks_like(&data)
                    || name.ends_with("pickle")
                    || name.ends_with(".pkl") =>
            {
                pickle_findings(&name, &data, &mut findings, &mut pickles);
            }
            Ok(_) => {}
            Err(e) => findings.push(Finding::invalid(format!("{name}: {e}"))),
        }
    }
    let format = if legacy {
        Format::PytorchLegacy
    } else {
        Format::Tar
    };
    (
        format,
        findings,
        json!({ "members": members, "pickles": pickles }),
    )
}
