//! What each file of a model is, held compactly: a dataset of a million
//! text files has a million reports, nearly all of them "text, nothing
//! found", so each file costs its name and one byte, and only files with
//! findings or format facts keep a full report.

use crate::digest::NameList;
use crate::formats::{FileReport, Finding, Format, Severity};
use serde::Serialize;
use serde::ser::SerializeSeq;
use serde_json::Value;
use std::collections::BTreeMap;

/// One file's report, borrowed from a [`FormatReports`].
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct ReportRef<'a> {
    /// The file's resource name.
    pub name: &'a str,
    /// Its format.
    pub format: Format,
    /// What was found.
    pub findings: &'a [Finding],
    /// Format facts (`null` when none).
    pub details: &'a Value,
}

impl ReportRef<'_> {
    /// Whether loading the file is unsafe (dangerous or invalid findings).
    pub fn unsafe_to_load(&self) -> bool {
        self.findings
            .iter()
            .any(|f| f.severity != Severity::Warning)
    }

    /// An owned report.
    pub fn to_report(&self) -> FileReport {
        FileReport {
            name: self.name.to_string(),
            format: self.format,
            findings: self.findings.to_vec(),
            details: self.details.clone(),
        }
    }
}

impl Serialize for ReportRef<'_> {
    fn serialize<S: serde::Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        use serde::ser::SerializeStruct;
        // The members of `FileReport`, in its order.
        let mut st = s.serialize_struct("FileReport", 4)?;
        st.serialize_field("name", self.name)?;
        st.serialize_field("format", &self.format)?;
        st.serialize_field("findings", self.findings)?;
        st.serialize_field("details", self.details)?;
        st.end()
    }
}

/// The reports of a model's files, sorted by name once complete.
#[derive(Debug, Clone, Default, PartialEq)]
pub struct FormatReports {
    names: NameList,
    formats: Vec<Format>,
    full: BTreeMap<usize, (Vec<Finding>, Value)>,
}

const NULL: Value = Value::Null;

impl FormatReports {
    /// No reports.
    pub fn new() -> Self {
        Self::default()
    }

    /// The number of files reported on.
    pub fn len(&self) -> usize {
        self.formats.len()
    }

    /// Whether there is none.
    pub fn is_empty(&self) -> bool {
        self.formats.is_empty()
    }

    /// Adds a report.
    pub fn push(&mut self, report: FileReport) {
        let index = self.formats.len();
        self.names.push(&report.name);
        self.formats.push(report.format);
        if !report.findings.is_empty() || !report.details.is_null() {
            self.full.insert(index, (report.findings, report.details));
        }
    }

    /// The report at `index`.
    pub fn get(&self, index: usize) -> Option<ReportRef<'_>> {
        let name = self.names.get(index)?;
        let (findings, details) = match self.full.get(&index) {
            Some((f, d)) => (f.as_slice(), d),
            None => (&[][..], &NULL),
        };
        Some(ReportRef {
            name,
            format: self.formats[index],
            findings,
            details,
        })
    }

    /// The report on the file `name`.
    pub fn find(&self, name: &str) -> Option<ReportRef<'_>> {
        let index = if self.names.is_sorted() {
            self.names.find_sorted(name)?
        } else {
            self.names.iter().position(|n| n == name)?
        };
        self.get(index)
    }

    /// Adds the findings of [`crate::formats::reference_findings`]: each
    /// file that a report makes its loader read must be one that
    /// `is_file` accepts (the signed files, for a verification).
    /// The raw files that ONNX models name as external data become
    /// [`Format::OnnxData`].
    pub fn check_references(&mut self, is_file: &dyn Fn(&str) -> bool, whose: &str) {
        let mut data = Vec::new();
        for (index, (findings, details)) in self.full.iter_mut() {
            let Some(name) = self.names.get(*index) else {
                continue;
            };
            findings.extend(crate::formats::reference_findings(
                name, details, is_file, whose,
            ));
            if self.formats[*index] == Format::Onnx {
                data.extend(
                    crate::formats::references(name, details)
                        .into_iter()
                        .map(|(path, _)| path),
                );
            }
        }
        for path in data {
            let index = if self.names.is_sorted() {
                self.names.find_sorted(&path)
            } else {
                self.names.iter().position(|n| n == path)
            };
            if let Some(i) = index
                && !self.full.contains_key(&i)
                && self.formats[i] == Format::Unknown
            {
                self.formats[i] = Format::OnnxData;
            }
        }
    }

    /// The reports in order.
    pub fn iter(&self) -> impl ExactSizeIterator<Item = ReportRef<'_>> + '_ {
        (0..self.len()).map(|i| self.get(i).expect("in range"))
    }
}

impl FromIterator<FileReport> for FormatReports {
    fn from_iter<I: IntoIterator<Item = FileReport>>(iter: I) -> Self {
        let mut out = FormatReports::new();
        let mut reports: Vec<FileReport> = iter.into_iter().collect();
        reports.sort_by(|a, b| a.name.cmp(&b.name));
        for r in reports {
            out.push(r);
        }
        out
    }
}

impl Serialize for FormatReports {
    fn serialize<S: serde::Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        let mut seq = s.serialize_seq(Some(self.len()))?;
        for r in self.iter() {
            seq.serialize_element(&r)?;
        }
        seq.end()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn report(name: &str, format: Format, findings: Vec<Finding>) -> FileReport {
        FileReport {
            name: name.into(),
            format,
            findings,
            details: Value::Null,
        }
    }

    #[test]
    fn keeps_full_reports_only_where_there_is_something_to_say() {
        let danger = Finding {
            severity: Severity::Dangerous,
            message: "calls os.system".into(),
        };
        let owned = vec![
            report("b.pkl", Format::Pickle, vec![danger.clone()]),
            report("a.txt", Format::Text, vec![]),
        ];
        let list: FormatReports = owned.clone().into_iter().collect();
        assert_eq!(list.full.len(), 1);
        assert!(list.find("b.pkl").unwrap().unsafe_to_load());
        assert!(!list.find("a.txt").unwrap().unsafe_to_load());
        assert!(list.find("c").is_none());
        let mut sorted = owned;
        sorted.reverse();
        assert_eq!(
            serde_json::to_string(&list).unwrap(),
            serde_json::to_string(&sorted).unwrap()
        );
    }
}
