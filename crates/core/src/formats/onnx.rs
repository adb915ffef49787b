//! ONNX models, read as the loaders read them (`onnx.load`, onnxruntime):
//! the `ModelProto` with its graph, every nested subgraph (node attributes,
//! training graphs) and the model's local functions, in one forward pass
//! that skips tensor data. What it keeps:
//!
//! - every tensor whose data lives in another file (`data_location =
//!   EXTERNAL`, or any `external_data` entry): its `location` must be a
//!   relative path inside the model, without `..`, an absolute path, a
//!   backslash or a drive letter, and a duplicate `location` key is
//!   ambiguous. The model-level check ([`super::references`]) then requires
//!   the file it names to be one of the model's signed files;
//! - the operator domains its nodes use: a domain that is neither ONNX's
//!   own nor a function of the model needs a custom operator library, which
//!   is reported.

use super::Finding;
use super::protowalk::{ProtoWalk, Schema, Want, utf8};
use serde_json::{Value, json};
use std::collections::{BTreeMap, BTreeSet};

/// Most distinct external data files kept.
const MAX_LOCATIONS: usize = 10_000;
/// Most `external_data` entries of one tensor.
const MAX_ENTRIES: usize = 64;
/// Most problems kept (the rest are counted).
const MAX_PROBLEMS: usize = 20;
/// Most distinct operator domains kept.
const MAX_DOMAINS: usize = 1_000;

/// Operator domains every ONNX runtime knows.
const STANDARD_DOMAINS: [&str; 5] = [
    "",
    "ai.onnx",
    "ai.onnx.ml",
    "ai.onnx.training",
    "ai.onnx.preview.training",
];

/// The `TensorProto.DataLocation` value for data in another file.
const EXTERNAL: u64 = 1;

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Kind {
    Model,
    Graph,
    Node,
    Attribute,
    Tensor,
    Sparse,
    Entry,
    Training,
    Function,
}

/// One tensor being read.
#[derive(Debug, Default)]
struct Tensor {
    name: String,
    location: Option<u64>,
    entries: Vec<(String, String)>,
    too_many: bool,
}

/// What the walk keeps, message by message.
#[derive(Debug, Default)]
pub struct Onnx {
    tensors: Vec<Tensor>,
    entry: Option<(Option<String>, Option<String>)>,
    node_domain: Vec<String>,
    function_domain: Vec<String>,
    /// Relative paths of external data files, as given.
    locations: BTreeSet<String>,
    external_tensors: u64,
    domains: BTreeMap<String, u64>,
    functions: BTreeSet<String>,
    problems: Vec<String>,
    more_problems: u64,
    /// A string field that is not UTF-8: the loader's parser refuses the
    /// whole model.
    not_utf8: bool,
}

impl Onnx {
    fn problem(&mut self, why: String) {
        if self.problems.len() < MAX_PROBLEMS {
            self.problems.push(why);
        } else {
            self.more_problems += 1;
        }
    }

    /// Judges a tensor when it ends.
    fn tensor_done(&mut self, t: Tensor) {
        let named = if t.name.is_empty() {
            "a tensor".to_string()
        } else {
            format!("tensor {:?}", t.name)
        };
        if t.too_many {
            return self.problem(format!(
                "{named}: more than {MAX_ENTRIES} external_data entries"
            ));
        }
        if t.location != Some(EXTERNAL) && t.entries.is_empty() {
            return;
        }
        self.external_tensors += 1;
        let locations: Vec<&String> = t
            .entries
            .iter()
            .filter(|(k, _)| k == "location")
            .map(|(_, v)| v)
            .collect();
        let location = match locations.as_slice() {
            [one] => (*one).clone(),
            [] => return self.problem(format!("{named}: external data without a location")),
            _ => {
                return self.problem(format!(
                    "{named}: {} external data locations (readers take different ones)",
                    locations.len()
                ));
            }
        };
        if t.location != Some(EXTERNAL) {
            // onnx.load ignores entries without the flag; another reader
            // may not.
            return self.problem(format!(
                "{named}: external_data entries without data_location EXTERNAL (readers differ)"
            ));
        }
        match relative_location(&location) {
            Ok(path) => {
                if self.locations.len() >= MAX_LOCATIONS && !self.locations.contains(&path) {
                    return self.problem(format!(
                        "more than {MAX_LOCATIONS} external data files: could not be decided"
                    ));
                }
                self.locations.insert(path);
            }
            Err(why) => self.problem(format!(
                "{named}: external data location {location:?} {why}: the loader would read \
                 bytes that are not the model's"
            )),
        }
    }

    /// The findings and facts, once the whole model was read.
    pub fn judge(self) -> (Vec<Finding>, Value) {
        if self.not_utf8 {
            return (
                vec![Finding::invalid(
                    "ONNX: a string field is not UTF-8 (the loader refuses the model)".into(),
                )],
                Value::Null,
            );
        }
        let mut findings: Vec<Finding> = self
            .problems
            .iter()
            .map(|p| Finding::dangerous(format!("ONNX: {p}")))
            .collect();
        if self.more_problems > 0 {
            findings.push(Finding::dangerous(format!(
                "ONNX: {} more problems like these",
                self.more_problems
            )));
        }
        let custom: BTreeMap<&String, &u64> = self
            .domains
            .iter()
            .filter(|(d, _)| {
                !STANDARD_DOMAINS.contains(&d.as_str()) && !self.functions.contains(*d)
            })
            .collect();
        if !custom.is_empty() {
            let list: Vec<String> = custom
                .iter()
                .map(|(d, n)| format!("{d} ({n} nodes)"))
                .collect();
            findings.push(Finding::warning(format!(
                "ONNX: custom-domain operators need an operator library the runtime loads: {}",
                list.join(", ")
            )));
        }
        let mut details = serde_json::Map::new();
        if !self.locations.is_empty() {
            details.insert("external_data".into(), json!(self.locations));
            details.insert("external_tensors".into(), json!(self.external_tensors));
        }
        if !custom.is_empty() {
            details.insert("custom_domains".into(), json!(custom));
        }
        let details = if details.is_empty() {
            Value::Null
        } else {
            Value::Object(details)
        };
        (findings, details)
    }
}

/// The external data location as a `/`-separated path relative to the
/// model file's folder, or why it leaves the model.
fn relative_location(location: &str) -> Result<String, &'static str> {
    if location.is_empty() {
        return Err("is empty");
    }
    if location.contains("_ORT_MEM_ADDR_") {
        return Err("is onnxruntime's in-memory tag (its offset is a raw memory address)");
    }
    if location.starts_with('/') {
        return Err("is absolute");
    }
    if location.contains('\\') || location.contains(':') || location.contains('\0') {
        return Err("holds a backslash, a colon or a NUL (read differently on other systems)");
    }
    let mut parts = Vec::new();
    for part in location.split('/') {
        match part {
            "" | "." => {}
            ".." => return Err("leaves the model's folder (..)"),
            p => parts.push(p),
        }
    }
    if parts.is_empty() {
        return Err("names no file");
    }
    Ok(parts.join("/"))
}

impl Schema for Onnx {
    type Kind = Kind;

    fn want(&self, kind: Kind, field: u64) -> Want<Kind> {
        use Kind::*;
        match (kind, field) {
            (Model, 7) => Want::Message(Graph),
            (Model, 20) => Want::Message(Training),
            (Model, 25) => Want::Message(Function),
            (Graph, 1) => Want::Message(Node),
            (Graph, 5) => Want::Message(Tensor),
            (Graph, 15) => Want::Message(Sparse),
            (Node, 5) => Want::Message(Attribute),
            (Node, 7) => Want::Bytes,
            (Attribute, 5 | 10) => Want::Message(Tensor),
            (Attribute, 6 | 11) => Want::Message(Graph),
            (Attribute, 22 | 23) => Want::Message(Sparse),
            (Tensor, 8) => Want::Bytes,
            (Tensor, 13) => Want::Message(Entry),
            (Tensor, 14) => Want::Varint,
            (Sparse, 1 | 2) => Want::Message(Tensor),
            (Entry, 1 | 2) => Want::Bytes,
            (Training, 1 | 2) => Want::Message(Graph),
            (Function, 7) => Want::Message(Node),
            (Function, 11) => Want::Message(Attribute),
            (Function, 10) => Want::Bytes,
            _ => Want::Skip,
        }
    }

    fn open(&mut self, kind: Kind) {
        match kind {
            Kind::Tensor => self.tensors.push(Tensor::default()),
            Kind::Entry => self.entry = Some((None, None)),
            Kind::Node => self.node_domain.push(String::new()),
            Kind::Function => self.function_domain.push(String::new()),
            _ => {}
        }
    }

    fn close(&mut self, kind: Kind) {
        match kind {
            Kind::Tensor => {
                if let Some(t) = self.tensors.pop() {
                    self.tensor_done(t);
                }
            }
            Kind::Entry => {
                let (key, value) = self.entry.take().unwrap_or_default();
                if let Some(t) = self.tensors.last_mut() {
                    if t.entries.len() >= MAX_ENTRIES {
                        t.too_many = true;
                    } else {
                        t.entries
                            .push((key.unwrap_or_default(), value.unwrap_or_default()));
                    }
                }
            }
            Kind::Node => {
                let domain = self.node_domain.pop().unwrap_or_default();
                if self.domains.len() < MAX_DOMAINS || self.domains.contains_key(&domain) {
                    *self.domains.entry(domain).or_default() += 1;
                }
            }
            Kind::Function => {
                let domain = self.function_domain.pop().unwrap_or_default();
                if self.functions.len() < MAX_DOMAINS {
                    self.functions.insert(domain);
                }
            }
            _ => {}
        }
    }

    fn bytes(&mut self, kind: Kind, field: u64, value: Option<&[u8]>) {
        let text = match utf8(value) {
            Ok(t) => t,
            Err("not UTF-8") => {
                self.not_utf8 = true;
                return;
            }
            Err(why) => {
                return self.problem(format!("a string field {why} in {kind:?}"));
            }
        };
        // A field given twice: the last one counts, as in protobuf.
        match (kind, field) {
            (Kind::Node, _) => {
                if let Some(d) = self.node_domain.last_mut() {
                    *d = text;
                }
            }
            (Kind::Function, _) => {
                if let Some(d) = self.function_domain.last_mut() {
                    *d = text;
                }
            }
            (Kind::Tensor, _) => {
                if let Some(t) = self.tensors.last_mut() {
                    t.name = text;
                }
            }
            (Kind::Entry, 1) => {
                if let Some(e) = self.entry.as_mut() {
                    e.0 = Some(text);
                }
            }
            (Kind::Entry, _) => {
                if let Some(e) = self.entry.as_mut() {
                    e.1 = Some(text);
                }
            }
            _ => {}
        }
    }

    fn varint(&mut self, kind: Kind, _field: u64, value: u64) {
        if kind == Kind::Tensor
            && let Some(t) = self.tensors.last_mut()
        {
            t.location = Some(value);
        }
    }
}

/// A walk of an ONNX model.
pub type OnnxStream = ProtoWalk<Onnx>;

/// A new walk.
pub fn stream() -> OnnxStream {
    ProtoWalk::new(Onnx::default(), Kind::Model)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn locations() {
        assert_eq!(relative_location("w.bin"), Ok("w.bin".into()));
        assert_eq!(relative_location("./a//b.bin"), Ok("a/b.bin".into()));
        assert!(relative_location("../w.bin").is_err());
        assert!(relative_location("a/../../w.bin").is_err());
        assert!(relative_location("/etc/passwd").is_err());
        assert!(relative_location("C:w.bin").is_err());
        assert!(relative_location("a\\..\\w").is_err());
        assert!(relative_location("./").is_err());
        assert!(relative_location("").is_err());
        assert!(relative_location("*/_ORT_MEM_ADDR_/*").is_err());
    }
}
