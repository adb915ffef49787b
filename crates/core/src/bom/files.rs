//! The files of a hashed tree as BOM components, made one at a time while
//! the BOM is written: a dataset of a million files is a compact manifest
//! in memory, never a million component values.

use super::build::HashedTree;
use super::types::{Component, ComponentData, Hash, Property};
use crate::formats::safetensors;
use crate::{Error, Result};
use rayon::prelude::*;
use std::collections::BTreeMap;
use std::sync::Arc;

/// The files of one tree (the model or a dataset), each a `file` or `data`
/// component whose bom-ref is a prefix and the file's name.
#[derive(Clone)]
pub struct FileComponents {
    tree: HashedTree,
    ref_prefix: String,
    data_kind: bool,
    /// Facts read from the weight files' headers, by resource index.
    facts: Arc<BTreeMap<usize, Vec<Property>>>,
}

impl FileComponents {
    /// The files of `tree`, their bom-refs starting with `ref_prefix`; all
    /// `data` components when `data_kind` (a dataset's files). Reads the
    /// header of every safetensors file (a header that lies is an error).
    pub fn new(tree: &HashedTree, ref_prefix: &str, data_kind: bool) -> Result<Self> {
        let single = tree.path.is_file();
        let resources = &tree.sha256.resources;
        let facts = (0..resources.len())
            .into_par_iter()
            .map(|i| {
                let name = resources.name(i);
                let on_disk = if single {
                    tree.path.clone()
                } else {
                    tree.path.join(name)
                };
                if !safetensors::looks_like(&on_disk) {
                    return Ok(None);
                }
                let facts = safetensors::read_header(&on_disk).map_err(|e| {
                    Error::Bom(format!("{name}: not a valid safetensors file: {e}"))
                })?;
                let mut properties = vec![
                    Property::new("modelseal:format", "safetensors"),
                    Property::new("modelseal:safetensors:tensors", facts.tensors.to_string()),
                    Property::new(
                        "modelseal:safetensors:parameters",
                        facts.parameters.to_string(),
                    ),
                    Property::new("modelseal:safetensors:dtypes", facts.dtypes.join(",")),
                ];
                for (k, v) in &facts.metadata {
                    properties.push(Property::new(
                        &format!("modelseal:safetensors:metadata:{k}"),
                        v.clone(),
                    ));
                }
                Ok(Some((i, properties)))
            })
            .filter_map(Result::transpose)
            .collect::<Result<BTreeMap<_, _>>>()?;
        Ok(FileComponents {
            tree: tree.clone(),
            ref_prefix: ref_prefix.to_string(),
            data_kind,
            facts: Arc::new(facts),
        })
    }

    /// How many files.
    pub fn len(&self) -> usize {
        self.tree.sha256.resources.len()
    }

    /// Whether there are none.
    pub fn is_empty(&self) -> bool {
        self.len() == 0
    }

    /// The bom-ref of file `index`.
    pub fn bom_ref(&self, index: usize) -> String {
        format!(
            "{}{}",
            self.ref_prefix,
            self.tree.sha256.resources.name(index)
        )
    }

    /// Every file's bom-ref, in manifest order.
    pub fn bom_refs(&self) -> impl ExactSizeIterator<Item = String> + '_ {
        (0..self.len()).map(|i| self.bom_ref(i))
    }

    /// The component of file `index`.
    pub fn component(&self, index: usize) -> Component {
        let r = self.tree.sha256.resources.get(index).expect("in range");
        let name = r.name.to_string();
        let data = self.data_kind || is_data_file(&name);
        let mut hashes = vec![Hash {
            alg: "SHA-256".into(),
            content: r.digest_hex(),
        }];
        if let Some(b3) = self.tree.blake3.as_ref().and_then(|m| m.get(&name)) {
            hashes.push(Hash {
                alg: "BLAKE3".into(),
                content: b3.clone(),
            });
        }
        Component {
            kind: if data { "data" } else { "file" }.into(),
            bom_ref: Some(format!("{}{name}", self.ref_prefix)),
            hashes,
            data: if data {
                vec![ComponentData {
                    kind: "dataset".into(),
                    name: Some(name.clone()),
                    description: None,
                }]
            } else {
                Vec::new()
            },
            properties: self.facts.get(&index).cloned().unwrap_or_default(),
            name,
            ..Default::default()
        }
    }

    /// Every file's component, made as it is asked for.
    pub fn components(&self) -> impl ExactSizeIterator<Item = Component> + '_ {
        (0..self.len()).map(|i| self.component(i))
    }
}

/// Two lists are the same when they describe the same files the same way.
impl PartialEq for FileComponents {
    fn eq(&self, other: &Self) -> bool {
        self.ref_prefix == other.ref_prefix
            && self.data_kind == other.data_kind
            && self.tree.sha256 == other.tree.sha256
            && self.tree.blake3 == other.tree.blake3
            && self.facts == other.facts
    }
}

impl std::fmt::Debug for FileComponents {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("FileComponents")
            .field("tree", &self.tree.name)
            .field("files", &self.len())
            .field("ref_prefix", &self.ref_prefix)
            .finish()
    }
}

/// Files that are data whatever tree they are in (tables, arrays).
fn is_data_file(name: &str) -> bool {
    let lower = name.to_ascii_lowercase();
    [
        ".csv", ".tsv", ".jsonl", ".parquet", ".arrow", ".npy", ".npz",
    ]
    .iter()
    .any(|ext| lower.ends_with(ext))
}
