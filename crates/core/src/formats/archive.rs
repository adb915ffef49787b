//! Turning what the zip and tar passes found into a format, findings and
//! facts.

use super::member::MemberReport;
use super::tar::TarReport;
use super::zip::ZipReport;
use super::{Finding, Format, keras, pickle_findings};
use serde_json::{Value, json};

fn is_pickle_name(name: &str) -> bool {
    let lower = name.to_ascii_lowercase();
    lower.ends_with(".pkl") || lower.ends_with(".pickle")
}

/// Findings about one member; `loads_pickles` when the archive's loader
/// unpickles members (PyTorch), `keras` for `.keras` archives.
fn member_findings(
    m: &MemberReport,
    loads_pickles: bool,
    keras: bool,
    findings: &mut Vec<Finding>,
    pickles: &mut Vec<Value>,
) {
    let prefix = format!("{}: ", m.name);
    if let Some(kind) = m.nested {
        findings.push(Finding::invalid(format!(
            "{prefix}a {kind} inside the archive: what it holds is not scanned"
        )));
    }
    match m.pickle.verdict {
        super::pickle::ScanVerdict::NotPickle => {
            if is_pickle_name(&m.name) {
                findings.push(Finding::invalid(format!(
                    "{prefix}not a complete pickle ({})",
                    m.pickle.stopped.as_deref().unwrap_or("no STOP")
                )));
            }
        }
        _ => {
            pickle_findings(&prefix, &m.pickle, findings);
            if !loads_pickles && m.pickle.verdict == super::pickle::ScanVerdict::Pickle {
                findings.push(Finding::warning(format!(
                    "{prefix}a pickle stream (a loader that unpickles it runs its opcodes)"
                )));
            }
            pickles.push(json!({
                "member": m.name,
                "protocol": m.pickle.protocol,
                "pickles": m.pickle.pickles,
                "globals": m.pickle.globals,
            }));
        }
    }
    match &m.npy {
        Some(Err(e)) => findings.push(Finding::invalid(format!("{prefix}{e}"))),
        Some(Ok(h)) if h.object => {
            findings.push(Finding::dangerous(format!(
                "{prefix}object array (dtype {}): loading it runs pickle",
                h.descr
            )));
            if let Some(p) = &m.npy_pickle {
                pickle_findings(&prefix, p, findings);
            }
        }
        _ => {}
    }
    if keras && let Some(config) = &m.config {
        match config {
            Ok(data) => {
                for mut f in keras::config_findings(data, "config.json") {
                    f.message = format!("{prefix}{}", f.message);
                    findings.push(f);
                }
            }
            Err(e) => findings.push(Finding::invalid(format!("{prefix}{e}"))),
        }
    }
}

/// The format, findings and facts of a zip archive.
pub fn zip(report: ZipReport) -> (Format, Vec<Finding>, Value) {
    let names = &report.names;
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
    let mut findings = Vec::new();
    let mut pickles = Vec::new();
    for m in &report.members {
        member_findings(m, is_torch, is_keras, &mut findings, &mut pickles);
    }
    if let Some(p) = &report.problem {
        findings.push(Finding::invalid(format!("ambiguous zip: {p}")));
    }
    if let Some(u) = &report.undecided {
        findings.push(Finding::invalid(format!("zip could not be decided: {u}")));
    }
    let details = json!({ "members": names.len(), "pickles": pickles });
    (format, findings, details)
}

/// The format, findings and facts of a tar archive.
pub fn tar(report: TarReport) -> (Format, Vec<Finding>, Value) {
    let legacy = report
        .names
        .iter()
        .any(|n| n == "pickle" || n.ends_with("/pickle"));
    let mut findings = Vec::new();
    let mut pickles = Vec::new();
    for m in &report.members {
        member_findings(m, legacy, false, &mut findings, &mut pickles);
    }
    if let Some(p) = &report.problem {
        findings.push(Finding::invalid(format!("ambiguous tar: {p}")));
    }
    if let Some(u) = &report.undecided {
        findings.push(Finding::invalid(format!("tar could not be decided: {u}")));
    }
    let format = if legacy {
        Format::PytorchLegacy
    } else {
        Format::Tar
    };
    let details = json!({ "members": report.names.len(), "pickles": pickles });
    (format, findings, details)
}
