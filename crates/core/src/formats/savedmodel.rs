//! TensorFlow SavedModel graphs (`saved_model.pb`), read in one forward
//! pass: every `NodeDef` of every meta graph and of every function in its
//! library, for the operation it runs. Loading a SavedModel and calling its
//! functions runs these operations; the ones below reach outside the model
//! (files, Python, the network) and make the model unsafe.
//!
//! - Files: `ReadFile`, `WriteFile`, `MatchingFiles`, `ImmutableConst`,
//!   the reader ops (`WholeFileReader`, `TextLineReader`,
//!   `FixedLengthRecordReader`, `TFRecordReader`, `LMDBReader`, and their
//!   `V2`s), the file datasets (`TFRecordDataset`, `TextLineDataset`,
//!   `FixedLengthRecordDataset`, `LMDBDataset`, `CSVDataset`,
//!   `SqlDataset`, with their `V2` and `Experimental` forms),
//!   `DatasetToTFRecord`, `SaveDataset`, `LoadDataset`, `SnapshotDataset`,
//!   the summary writers (`CreateSummaryFileWriter`,
//!   `CreateSummaryDbWriter`), the debugger taps (`DebugIdentity`,
//!   `DebugIdentityV2`, `DebugNanCount`, `DebugNumericSummary`), `PrintV2`
//!   (its output stream may be a file), the table initialisers that read a
//!   text file (`InitializeTableFromTextFile`, `V2`; a vocabulary asset is
//!   a file too, so such a model needs an exception), `CacheDataset`,
//!   `DecodeProtoV2` (its descriptor may come from a file),
//!   `MatchingFilesDataset`, `LoadAndRemapMatrix`, and TensorFlow 1's
//!   checkpoint ops that take any file name (`Save`, `SaveSlices`,
//!   `Restore`, `RestoreSlice`).
//! - Network: the tf.data service (`DataServiceDataset` and its versions).
//! - Python: `PyFunc`, `PyFuncStateless`, `EagerPyFunc`.
//! - Network: `RpcClient`, `RpcServer`, `RpcCall`.
//!
//! The checkpoint ops the loader itself drives to read the model's own
//! `variables/` (`SaveV2`, `RestoreV2`, `MergeV2Checkpoints`,
//! `ShardedFilename`) are counted in the details, not flagged: every
//! SavedModel has them.

use super::Finding;
use super::protowalk::{ProtoWalk, Schema, Want, utf8};
use serde_json::{Value, json};
use std::collections::BTreeMap;

/// Operations that read or write files, call Python or use the network.
pub const UNSAFE_OPS: &[&str] = &[
    "ReadFile",
    "WriteFile",
    "MatchingFiles",
    "ImmutableConst",
    "WholeFileReader",
    "WholeFileReaderV2",
    "TextLineReader",
    "TextLineReaderV2",
    "FixedLengthRecordReader",
    "FixedLengthRecordReaderV2",
    "TFRecordReader",
    "TFRecordReaderV2",
    "LMDBReader",
    "TFRecordDataset",
    "TFRecordDatasetV2",
    "TextLineDataset",
    "FixedLengthRecordDataset",
    "FixedLengthRecordDatasetV2",
    "LMDBDataset",
    "ExperimentalLMDBDataset",
    "CSVDataset",
    "CSVDatasetV2",
    "ExperimentalCSVDataset",
    "SqlDataset",
    "ExperimentalSqlDataset",
    "DatasetToTFRecord",
    "ExperimentalDatasetToTFRecord",
    "SaveDataset",
    "SaveDatasetV2",
    "LoadDataset",
    "SnapshotDataset",
    "SnapshotDatasetV2",
    "CreateSummaryFileWriter",
    "CreateSummaryDbWriter",
    "DebugIdentity",
    "DebugIdentityV2",
    "DebugNanCount",
    "DebugNumericSummary",
    "DebugNumericSummaryV2",
    "PrintV2",
    "InitializeTableFromTextFile",
    "InitializeTableFromTextFileV2",
    "CacheDataset",
    "CacheDatasetV2",
    "DecodeProtoV2",
    "DataServiceDataset",
    "DataServiceDatasetV2",
    "DataServiceDatasetV3",
    "DataServiceDatasetV4",
    "MatchingFilesDataset",
    "ExperimentalMatchingFilesDataset",
    "LoadAndRemapMatrix",
    "Save",
    "SaveSlices",
    "Restore",
    "RestoreSlice",
    "PyFunc",
    "PyFuncStateless",
    "EagerPyFunc",
    "RpcClient",
    "RpcServer",
    "RpcCall",
];

/// Checkpoint operations the loader drives on the model's own variables.
const CHECKPOINT_OPS: &[&str] = &[
    "SaveV2",
    "RestoreV2",
    "MergeV2Checkpoints",
    "ShardedFilename",
];

/// Most distinct operations kept.
const MAX_OPS: usize = 10_000;

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Kind {
    SavedModel,
    MetaGraph,
    Graph,
    Library,
    Function,
    Node,
}

/// The operations of a SavedModel, by name, with how many nodes run them.
#[derive(Debug, Default)]
pub struct SavedModel {
    ops: BTreeMap<String, u64>,
    nodes: u64,
    op: Option<String>,
    problem: Option<String>,
}

impl SavedModel {
    /// The findings and facts, once the whole file was read.
    pub fn judge(self) -> (Vec<Finding>, Value) {
        let mut findings = Vec::new();
        if let Some(p) = self.problem {
            findings.push(Finding::invalid(format!("SavedModel: {p}")));
        }
        let unsafe_ops: Vec<String> = self
            .ops
            .iter()
            .filter(|(op, _)| UNSAFE_OPS.contains(&op.as_str()))
            .map(|(op, n)| format!("{op} ({n} nodes)"))
            .collect();
        if !unsafe_ops.is_empty() {
            findings.push(Finding::dangerous(format!(
                "SavedModel: operations that reach files, Python or the network run when its \
                 functions are called: {}",
                unsafe_ops.join(", ")
            )));
        }
        let checkpoint: BTreeMap<&String, &u64> = self
            .ops
            .iter()
            .filter(|(op, _)| CHECKPOINT_OPS.contains(&op.as_str()))
            .collect();
        let details = json!({
            "nodes": self.nodes,
            "operations": self.ops.len(),
            "checkpoint_ops": checkpoint,
        });
        (findings, details)
    }
}

impl Schema for SavedModel {
    type Kind = Kind;

    fn want(&self, kind: Kind, field: u64) -> Want<Kind> {
        use Kind::*;
        match (kind, field) {
            (SavedModel, 2) => Want::Message(MetaGraph),
            (MetaGraph, 2) => Want::Message(Graph),
            (Graph, 1) => Want::Message(Node),
            (Graph, 2) => Want::Message(Library),
            (Library, 1) => Want::Message(Function),
            (Function, 3) => Want::Message(Node),
            (Node, 2) => Want::Bytes,
            _ => Want::Skip,
        }
    }

    fn open(&mut self, kind: Kind) {
        if kind == Kind::Node {
            self.op = Some(String::new());
        }
    }

    fn close(&mut self, kind: Kind) {
        if kind == Kind::Node {
            self.nodes += 1;
            let op = self.op.take().unwrap_or_default();
            if self.ops.len() < MAX_OPS || self.ops.contains_key(&op) {
                *self.ops.entry(op).or_default() += 1;
            } else {
                self.problem
                    .get_or_insert_with(|| format!("more than {MAX_OPS} operations"));
            }
        }
    }

    fn bytes(&mut self, _kind: Kind, _field: u64, value: Option<&[u8]>) {
        match utf8(value) {
            Ok(op) => self.op = Some(op),
            Err(why) => {
                self.problem
                    .get_or_insert_with(|| format!("an operation name {why}"));
            }
        }
    }

    fn varint(&mut self, _kind: Kind, _field: u64, _value: u64) {}
}

/// A walk of a SavedModel.
pub type SavedModelStream = ProtoWalk<SavedModel>;

/// A new walk.
pub fn stream() -> SavedModelStream {
    ProtoWalk::new(SavedModel::default(), Kind::SavedModel)
}
