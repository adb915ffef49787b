//! CycloneDX 1.6 types for the parts of the specification an ML-BOM uses.
//! Every document built from them is validated against the official schema
//! in the tests.

use super::files::FileComponents;
use serde::ser::SerializeSeq;
use serde::{Deserialize, Deserializer, Serialize, Serializer};

/// A CycloneDX BOM.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct Bom {
    /// Always `CycloneDX`.
    pub bom_format: String,
    /// Always `1.6` here.
    pub spec_version: String,
    /// `urn:uuid:...`.
    pub serial_number: String,
    /// The BOM version (1 for a new BOM).
    pub version: u32,
    /// Who, what and when.
    pub metadata: Metadata,
    /// Files of the model and the datasets.
    #[serde(default, skip_serializing_if = "Components::is_empty")]
    pub components: Components,
    /// The dependency graph.
    #[serde(default, skip_serializing_if = "Dependencies::is_empty")]
    pub dependencies: Dependencies,
}

/// BOM metadata.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Metadata {
    /// RFC 3339 time of creation.
    pub timestamp: String,
    /// The tools that made the BOM.
    pub tools: Tools,
    /// The model the BOM describes.
    pub component: Component,
}

/// `metadata.tools` in the 1.5+ object form.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Tools {
    /// Tools as components.
    pub components: Vec<Component>,
}

/// A component: the model, one of its files, a dataset or a dataset file.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
pub struct Component {
    /// `machine-learning-model`, `file`, `data` or `application`.
    #[serde(rename = "type")]
    pub kind: String,
    /// Unique reference within the BOM.
    #[serde(rename = "bom-ref", default, skip_serializing_if = "Option::is_none")]
    pub bom_ref: Option<String>,
    /// Name.
    pub name: String,
    /// Version.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub version: Option<String>,
    /// Package URL (`pkg:huggingface/ORG/NAME@COMMIT` for a model from the
    /// Hugging Face cache).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub purl: Option<String>,
    /// Description.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub description: Option<String>,
    /// Content hashes.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub hashes: Vec<Hash>,
    /// Licenses.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub licenses: Vec<LicenseChoice>,
    /// Where the model comes from (base models).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub pedigree: Option<Pedigree>,
    /// The model card (models only).
    #[serde(rename = "modelCard", default, skip_serializing_if = "Option::is_none")]
    pub model_card: Option<ModelCard>,
    /// Data descriptions (data components only).
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub data: Vec<ComponentData>,
    /// Sub-components (the files of a dataset).
    #[serde(default, skip_serializing_if = "Components::is_empty")]
    pub components: Components,
    /// Name-value properties.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub properties: Vec<Property>,
}

/// A hash.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Hash {
    /// `SHA-256` or `BLAKE3`.
    pub alg: String,
    /// Lowercase hex.
    pub content: String,
}

/// One entry of a license list.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct LicenseChoice {
    /// The license.
    pub license: License,
}

/// A license: an SPDX id or a name.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct License {
    /// An SPDX license id.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub id: Option<String>,
    /// A license name that is not an SPDX id.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub name: Option<String>,
}

/// Component pedigree.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Pedigree {
    /// Components this one derives from.
    pub ancestors: Vec<Component>,
}

/// A name-value property.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Property {
    /// Name (namespaced with `modelseal:` or `huggingface:`).
    pub name: String,
    /// Value.
    pub value: String,
}

impl Property {
    /// A property.
    pub fn new(name: &str, value: impl Into<String>) -> Self {
        Property {
            name: name.to_string(),
            value: value.into(),
        }
    }
}

/// The model card.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct ModelCard {
    /// Parameters of the model.
    pub model_parameters: ModelParameters,
    /// Reported metrics.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub quantitative_analysis: Option<QuantitativeAnalysis>,
    /// Other facts.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub properties: Vec<Property>,
}

/// `modelCard.modelParameters`.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct ModelParameters {
    /// What the model does (e.g. `text-generation`).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub task: Option<String>,
    /// Family (e.g. `llama`).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub architecture_family: Option<String>,
    /// Architecture (e.g. `LlamaForCausalLM`).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub model_architecture: Option<String>,
    /// Training and evaluation data.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub datasets: Vec<DatasetChoice>,
}

/// A dataset of the model card: a reference to a data component, or inline.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(untagged)]
pub enum DatasetChoice {
    /// A reference to a `data` component by bom-ref.
    Ref {
        /// The bom-ref.
        #[serde(rename = "ref")]
        reference: String,
    },
    /// A dataset known only by name.
    Inline(ComponentData),
}

/// `componentData`.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct ComponentData {
    /// `dataset`, `configuration`, ...
    #[serde(rename = "type")]
    pub kind: String,
    /// Name.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub name: Option<String>,
    /// Description.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub description: Option<String>,
}

/// `modelCard.quantitativeAnalysis`.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct QuantitativeAnalysis {
    /// Metrics.
    pub performance_metrics: Vec<PerformanceMetric>,
}

/// One metric.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct PerformanceMetric {
    /// Metric type (e.g. `accuracy`).
    #[serde(rename = "type")]
    pub kind: String,
    /// Value as text.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub value: Option<String>,
    /// The slice (dataset) it was measured on.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub slice: Option<String>,
}

/// A node of the dependency graph.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct Dependency {
    /// The dependent component.
    #[serde(rename = "ref")]
    pub reference: String,
    /// What it depends on.
    #[serde(default)]
    pub depends_on: Refs,
}

/// A list of components: the files of a tree, made one at a time while the
/// BOM is written, then the components held as values.
#[derive(Debug, Clone, Default, PartialEq)]
pub struct Components {
    /// Files, listed first.
    pub files: Option<FileComponents>,
    /// Components held as values, listed after the files.
    pub items: Vec<Component>,
}

impl Components {
    /// Whether the list is empty (and so left out of the document).
    pub fn is_empty(&self) -> bool {
        self.files.as_ref().is_none_or(FileComponents::is_empty) && self.items.is_empty()
    }

    /// How many components the list holds.
    pub fn len(&self) -> usize {
        self.files.as_ref().map_or(0, FileComponents::len) + self.items.len()
    }
}

impl From<Vec<Component>> for Components {
    fn from(items: Vec<Component>) -> Self {
        Components { files: None, items }
    }
}

/// A list whose first part is made while it is written (one element per
/// file) and whose rest is held as values.
fn serialize_list<S: Serializer, T: Serialize, U: Serialize>(
    s: S,
    made: Option<impl ExactSizeIterator<Item = T>>,
    held: &[U],
) -> Result<S::Ok, S::Error> {
    let len = made.as_ref().map_or(0, ExactSizeIterator::len) + held.len();
    let mut seq = s.serialize_seq(Some(len))?;
    for element in made.into_iter().flatten() {
        seq.serialize_element(&element)?;
    }
    for element in held {
        seq.serialize_element(element)?;
    }
    seq.end()
}

impl Serialize for Components {
    fn serialize<S: Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        serialize_list(
            s,
            self.files.as_ref().map(FileComponents::components),
            &self.items,
        )
    }
}

impl<'de> Deserialize<'de> for Components {
    fn deserialize<D: Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        Vec::deserialize(d).map(Components::from)
    }
}

/// The bom-refs a component depends on: those of a tree's files, then
/// those held as values.
#[derive(Debug, Clone, Default, PartialEq)]
pub struct Refs {
    /// Files whose bom-refs are listed first.
    pub files: Option<FileComponents>,
    /// bom-refs listed after the files.
    pub items: Vec<String>,
}

impl From<Vec<String>> for Refs {
    fn from(items: Vec<String>) -> Self {
        Refs { files: None, items }
    }
}

impl Serialize for Refs {
    fn serialize<S: Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        serialize_list(
            s,
            self.files.as_ref().map(FileComponents::bom_refs),
            &self.items,
        )
    }
}

impl<'de> Deserialize<'de> for Refs {
    fn deserialize<D: Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        Vec::deserialize(d).map(Refs::from)
    }
}

/// The dependency graph: nodes held as values, and runs of leaves (one
/// node depending on nothing per file of a tree), in document order.
#[derive(Debug, Clone, Default, PartialEq)]
pub struct Dependencies {
    /// The nodes and runs, in order.
    pub parts: Vec<DependencyPart>,
}

/// A node of the graph, or the leaves of a tree's files.
#[derive(Debug, Clone, PartialEq)]
pub enum DependencyPart {
    /// One node.
    Node(Dependency),
    /// `{"ref": FILE, "dependsOn": []}` for every file.
    Leaves(FileComponents),
}

impl Dependencies {
    /// Whether the graph has no node (and so is left out of the document).
    pub fn is_empty(&self) -> bool {
        self.parts.iter().all(|p| match p {
            DependencyPart::Node(_) => false,
            DependencyPart::Leaves(files) => files.is_empty(),
        })
    }

    /// The nodes held as values (the leaves of files are left out).
    pub fn nodes(&self) -> impl Iterator<Item = &Dependency> {
        self.parts.iter().filter_map(|p| match p {
            DependencyPart::Node(d) => Some(d),
            DependencyPart::Leaves(_) => None,
        })
    }
}

impl Serialize for Dependencies {
    fn serialize<S: Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        let len = self
            .parts
            .iter()
            .map(|p| match p {
                DependencyPart::Node(_) => 1,
                DependencyPart::Leaves(files) => files.len(),
            })
            .sum();
        let mut seq = s.serialize_seq(Some(len))?;
        for part in &self.parts {
            match part {
                DependencyPart::Node(d) => seq.serialize_element(d)?,
                DependencyPart::Leaves(files) => {
                    for reference in files.bom_refs() {
                        seq.serialize_element(&Dependency {
                            reference,
                            depends_on: Refs::default(),
                        })?;
                    }
                }
            }
        }
        seq.end()
    }
}

impl<'de> Deserialize<'de> for Dependencies {
    fn deserialize<D: Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        let nodes: Vec<Dependency> = Vec::deserialize(d)?;
        Ok(Dependencies {
            parts: nodes.into_iter().map(DependencyPart::Node).collect(),
        })
    }
}
