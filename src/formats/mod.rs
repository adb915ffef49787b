//! Content sniffing of model files: which format a file really is (never by
//! its extension), and whether loading it can run code. Reads headers and
//! pickle opcode streams only; never loads tensors, never executes anything.

mod archive;
pub mod pickle;
pub mod safetensors;
pub mod sniff;

use crate::Result;
use crate::digest::{IgnoreSet, walk};
use serde::Serialize;
use serde_json::{Value, json};
use std::path::Path;

/// Largest plain pickle read for scanning (beyond it the scan is partial).
const MAX_PICKLE: u64 = 512 << 20;
/// Largest file parsed as JSON.
const MAX_JSON: u64 = 64 << 20;

/// A recognised file format.
#[derive(
    Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize, serde::Deserialize,
)]
#[serde(rename_all = "kebab-case")]
pub enum Format {
    /// safetensors.
    Safetensors,
    /// GGUF (llama.cpp).
    Gguf,
    /// ONNX ModelProto.
    Onnx,
    /// NumPy `.npy`.
    Numpy,
    /// NumPy `.npz` (a zip of `.npy`).
    NumpyZip,
    /// A raw pickle stream (any protocol), including legacy PyTorch `.bin`.
    Pickle,
    /// PyTorch zip checkpoint (`*/data.pkl`).
    PytorchZip,
    /// Legacy PyTorch tar checkpoint.
    PytorchLegacy,
    /// Keras `.keras` (zip).
    Keras,
    /// HDF5 (Keras `.h5` and others).
    Hdf5,
    /// TensorFlow SavedModel protobuf.
    TfSavedmodel,
    /// JSON.
    Json,
    /// Plain text.
    Text,
    /// Another zip.
    Zip,
    /// Another tar.
    Tar,
    /// Not recognised.
    Unknown,
}

impl Format {
    /// The name used in reports and policies.
    pub fn name(self) -> String {
        serde_json::to_value(self)
            .ok()
            .and_then(|v| v.as_str().map(str::to_string))
            .unwrap_or_default()
    }

    /// Whether the format can run code when loaded by its usual loader.
    pub fn executes_code(self) -> bool {
        matches!(
            self,
            Format::Pickle | Format::PytorchZip | Format::PytorchLegacy
        )
    }
}

/// How bad a finding is.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(rename_all = "kebab-case")]
pub enum Severity {
    /// Loading runs code or imports something not on the allowlist.
    Dangerous,
    /// The file is malformed or lies about itself.
    Invalid,
    /// Worth knowing.
    Warning,
}

/// One finding about a file.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct Finding {
    /// How bad.
    pub severity: Severity,
    /// What.
    pub message: String,
}

impl Finding {
    fn dangerous(message: String) -> Self {
        Finding {
            severity: Severity::Dangerous,
            message,
        }
    }

    fn invalid(message: String) -> Self {
        Finding {
            severity: Severity::Invalid,
            message,
        }
    }

    fn warning(message: String) -> Self {
        Finding {
            severity: Severity::Warning,
            message,
        }
    }
}

/// The inspection of one file.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct FileReport {
    /// The name (relative to the inspected directory, or the file's name).
    pub name: String,
    /// The format recognised from the content.
    pub format: Format,
    /// Findings.
    pub findings: Vec<Finding>,
    /// Format facts (tensor counts, pickle globals, ...).
    pub details: Value,
}

impl FileReport {
    /// Whether loading this file is unsafe (dangerous or invalid findings).
    pub fn unsafe_to_load(&self) -> bool {
        self.findings
            .iter()
            .any(|f| f.severity != Severity::Warning)
    }
}

fn pickle_to_findings(member: &str, scan: &pickle::PickleScan, findings: &mut Vec<Finding>) {
    let prefix = if member.is_empty() {
        String::new()
    } else {
        format!("{member}: ")
    };
    for g in &scan.globals {
        let how = if g.called { "calls" } else { "imports" };
        match g.verdict {
            pickle::Verdict::Safe => {}
            pickle::Verdict::Dangerous => {
                findings.push(Finding::dangerous(format!(
                    "{prefix}{how} {} (dangerous)",
                    g.name
                )));
            }
            pickle::Verdict::Unknown => {
                findings.push(Finding::dangerous(format!(
                    "{prefix}{how} {} (not on the allowlist)",
                    g.name
                )));
            }
        }
    }
    for m in &scan.malformed {
        findings.push(Finding::invalid(format!("{prefix}{m}")));
    }
}

/// Inspects one file; `name` is how reports call it.
pub fn inspect_file(path: &Path, name: &str) -> Result<FileReport> {
    let head = sniff::head(path, 4096).map_err(|e| crate::Error::io(path, e))?;
    let len = std::fs::metadata(path)
        .map_err(|e| crate::Error::io(path, e))?
        .len();
    let mut findings = Vec::new();
    let mut details = Value::Null;
    let format = if safetensors::looks_like(path) {
        match safetensors::read_header(path) {
            Ok(facts) => details = serde_json::to_value(facts).unwrap_or_default(),
            Err(e) => findings.push(Finding::invalid(e)),
        }
        Format::Safetensors
    } else if let Some(facts) = sniff::gguf(&head) {
        details = facts;
        Format::Gguf
    } else if let Some(h) = sniff::npy(&head) {
        match h {
            Ok(h) => {
                if h.object {
                    findings.push(Finding::dangerous(format!(
                        "object array (dtype {}): loading it runs pickle",
                        h.descr
                    )));
                }
                details = json!({ "descr": h.descr, "object": h.object });
            }
            Err(e) => findings.push(Finding::invalid(e)),
        }
        Format::Numpy
    } else if head.starts_with(b"PK\x03\x04") || head.starts_with(b"PK\x05\x06") {
        let (format, f, d) = archive::zip(path);
        findings = f;
        details = d;
        format
    } else if head.len() >= 262 && &head[257..262] == b"ustar" {
        let (format, f, d) = archive::tar(path);
        findings = f;
        details = d;
        format
    } else if sniff::hdf5(&head) {
        findings.push(Finding::warning(
            "HDF5: Keras .h5 models may hold Lambda layers whose code runs on load".into(),
        ));
        Format::Hdf5
    } else if head.first() == Some(&0x80) && head.get(1).is_some_and(|p| *p <= 5)
        || pickle::looks_like(&head)
    {
        let data = sniff::head(path, MAX_PICKLE).map_err(|e| crate::Error::io(path, e))?;
        let scan = pickle::scan(&data);
        pickle_to_findings("", &scan, &mut findings);
        if len > MAX_PICKLE {
            findings.push(Finding::warning(format!(
                "only the first {MAX_PICKLE} bytes were scanned"
            )));
        }
        findings.push(Finding::warning(
            "pickle: loading it runs the opcode stream".into(),
        ));
        details = json!({ "protocol": scan.protocol, "globals": scan.globals });
        Format::Pickle
    } else if let Some(kind) = sniff::protobuf(path) {
        match kind {
            sniff::Protobuf::Onnx => Format::Onnx,
            sniff::Protobuf::SavedModel => Format::TfSavedmodel,
        }
    } else if let Some(text_format) = text_format(path, &head, len) {
        text_format
    } else {
        Format::Unknown
    };
    Ok(FileReport {
        name: name.to_string(),
        format,
        findings,
        details,
    })
}

fn text_format(path: &Path, head: &[u8], len: u64) -> Option<Format> {
    if head.contains(&0) {
        return None;
    }
    let valid_prefix = match std::str::from_utf8(head) {
        Ok(_) => true,
        // A multi-byte character cut at the end of the sample is fine.
        Err(e) => e.error_len().is_none(),
    };
    if !valid_prefix {
        return None;
    }
    let first = head.iter().find(|b| !b.is_ascii_whitespace());
    if matches!(first, Some(b'{' | b'[')) && len <= MAX_JSON {
        let bytes = std::fs::read(path).ok()?;
        if serde_json::from_slice::<serde::de::IgnoredAny>(&bytes).is_ok() {
            return Some(Format::Json);
        }
    }
    Some(Format::Text)
}

/// Inspects a file or every file of a directory (default exclusions, no
/// symlinks followed).
pub fn inspect_path(path: &Path) -> Result<Vec<FileReport>> {
    let entries = walk(path, false, &IgnoreSet::with_defaults())?;
    entries
        .iter()
        .map(|e| inspect_file(&e.path, &e.name))
        .collect()
}
