//! Content sniffing of model files: which format a file really is (never by
//! its extension), and whether loading it can run code. A file is judged by
//! what its loader would do: pickle streams are walked opcode by opcode,
//! archives are read the way Python reads them, headers are parsed fully.
//! Nothing is ever executed, tensors are never loaded, and memory stays
//! bounded whatever the file's size: [`Sniffer`] takes the file's bytes in
//! order (the read that hashes a file can feed it), [`inspect_file`] reads a
//! file into one.

mod archive;
pub(crate) mod gguf;
mod hdf5;
mod keras;
mod member;
mod nested;
pub(crate) mod npy;
mod onnx;
pub(crate) mod pickle;
mod protowalk;
mod pylit;
pub(crate) mod remote;
pub(crate) mod safetensors;
mod savedmodel;
pub(crate) mod sniff;
mod sniffer;
mod tar;
mod text;
mod utf8;
mod zip;
mod ziptail;

pub use sniffer::Sniffer;

use crate::Result;
use crate::digest::{IgnoreSet, walk};
use serde::Serialize;
use serde_json::Value;
use std::io::Read;
use std::path::Path;

/// The read buffer of [`inspect_file`].
const BUFFER: usize = 1 << 18;

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
    /// Raw tensor bytes that an ONNX model of the same model names as its
    /// external data (a file that sniffs as nothing else).
    OnnxData,
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
    pub(crate) fn dangerous(message: String) -> Self {
        Finding {
            severity: Severity::Dangerous,
            message,
        }
    }

    pub(crate) fn invalid(message: String) -> Self {
        Finding {
            severity: Severity::Invalid,
            message,
        }
    }

    pub(crate) fn warning(message: String) -> Self {
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

/// Findings for a pickle stream; `prefix` names the archive member.
pub(crate) fn pickle_findings(
    prefix: &str,
    scan: &pickle::PickleScan,
    findings: &mut Vec<Finding>,
) {
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
    for at in &scan.unresolved {
        findings.push(Finding::dangerous(format!(
            "{prefix}STACK_GLOBAL at byte {at} imports a name this scan cannot tell"
        )));
    }
    for m in &scan.problems {
        findings.push(Finding::invalid(format!("{prefix}{m}")));
    }
}

/// Inspects bytes held in memory; `name` is how reports call them.
pub fn inspect_bytes(name: &str, bytes: &[u8]) -> FileReport {
    let mut sniffer = Sniffer::new(name);
    sniffer.update(bytes);
    sniffer.finish()
}

/// Inspects one file; `name` is how reports call it. The file is read once,
/// front to back, through a [`Sniffer`].
pub fn inspect_file(path: &Path, name: &str) -> Result<FileReport> {
    let mut file = std::fs::File::open(path).map_err(|e| crate::Error::io(path, e))?;
    let mut sniffer = Sniffer::new(name);
    let mut buf = vec![0u8; BUFFER];
    loop {
        let n = match file.read(&mut buf) {
            Ok(0) => break,
            Ok(n) => n,
            Err(e) if e.kind() == std::io::ErrorKind::Interrupted => continue,
            Err(e) => return Err(crate::Error::io(path, e)),
        };
        sniffer.update(&buf[..n]);
    }
    Ok(sniffer.finish())
}

/// Inspects a file or every file of a directory (default exclusions, no
/// symlinks followed), with the files each one makes its loader read
/// checked against those inspected.
pub fn inspect_path(path: &Path) -> Result<Vec<FileReport>> {
    let entries = walk(path, false, &IgnoreSet::with_defaults())?;
    let mut reports = entries
        .iter()
        .map(|e| inspect_file(&e.path, &e.name))
        .collect::<Result<Vec<_>>>()?;
    check_references(&mut reports);
    Ok(reports)
}

/// The other files a file's loader reads, as `(path relative to the model
/// root, what it is)`: an ONNX model's external data, a config's remote
/// code. Each path was checked to stay inside the file's folder.
pub fn references(name: &str, details: &Value) -> Vec<(String, &'static str)> {
    let folder = name.rsplit_once('/').map_or("", |(f, _)| f);
    let join = |p: &str| {
        if folder.is_empty() {
            p.to_string()
        } else {
            format!("{folder}/{p}")
        }
    };
    let mut out = Vec::new();
    if let Some(list) = details.get("external_data").and_then(Value::as_array) {
        out.extend(
            list.iter()
                .filter_map(Value::as_str)
                .map(|p| (join(p), "external data")),
        );
    }
    out.extend(
        remote::files(details)
            .into_iter()
            .map(|p| (join(p), "remote code")),
    );
    out
}

/// Findings for the files `report` makes its loader read that are not
/// among the model's files (`is_file`); `whose` says which files those are
/// ("signed", "inspected").
pub fn reference_findings(
    name: &str,
    details: &Value,
    is_file: &dyn Fn(&str) -> bool,
    whose: &str,
) -> Vec<Finding> {
    references(name, details)
        .into_iter()
        .filter(|(path, _)| !is_file(path))
        .map(|(path, what)| {
            Finding::dangerous(format!(
                "{what} {path} is not one of the model's {whose} files: the loader would \
                 read bytes nothing here covers"
            ))
        })
        .collect()
}

/// Checks the files each report makes its loader read against the files
/// reported on, and calls the raw files that ONNX models name as external
/// data [`Format::OnnxData`].
pub fn check_references(reports: &mut [FileReport]) {
    let names: std::collections::BTreeSet<String> =
        reports.iter().map(|r| r.name.clone()).collect();
    let mut data = std::collections::BTreeSet::new();
    for r in reports.iter_mut() {
        let more = reference_findings(&r.name, &r.details, &|p| names.contains(p), "inspected");
        r.findings.extend(more);
        data.extend(external_data(r));
    }
    for r in reports.iter_mut() {
        if raw_data(r.format, &r.findings, &r.details) && data.contains(&r.name) {
            r.format = Format::OnnxData;
        }
    }
}

/// Whether a report is of raw bytes that nothing else reads: the only
/// files an ONNX model's naming them may call [`Format::OnnxData`].
pub(crate) fn raw_data(format: Format, findings: &[Finding], details: &Value) -> bool {
    format == Format::Unknown && findings.is_empty() && details.is_null()
}

/// The external data files an ONNX model's report names, relative to the
/// model root.
fn external_data(report: &FileReport) -> Vec<String> {
    if report.format != Format::Onnx {
        return Vec::new();
    }
    references(&report.name, &report.details)
        .into_iter()
        .map(|(path, _)| path)
        .collect()
}

#[cfg(test)]
mod tests;
