//! Building the ML-BOM of a model (and the datasets that trained it) from
//! its manifest, its weight headers and what its directory says.

use super::card::{CardFacts, read_card};
use super::files::FileComponents;
use super::spdx::canonical_license_id;
use super::types::*;
use crate::digest::Manifest;
use crate::{Error, Result};
use sha2::{Digest, Sha256};
use std::collections::BTreeMap;
use std::path::{Path, PathBuf};
use std::sync::Arc;

/// Prefix of the bom-ref of each file of the model.
pub const MODEL_FILE_REF: &str = "model-file:";
/// Prefix of the bom-ref of each dataset.
pub const DATASET_REF: &str = "dataset:";

/// A hashed tree (the model or a dataset): where it is, its name, and its
/// SHA-256 `files` manifest, with BLAKE3 digests when asked for.
#[derive(Debug, Clone)]
pub struct HashedTree {
    /// The directory or file.
    pub path: PathBuf,
    /// Its name in the BOM.
    pub name: String,
    /// SHA-256, files method (shared with the BOM's file lists).
    pub sha256: Arc<Manifest>,
    /// BLAKE3 digests by resource name.
    pub blake3: Option<Arc<BTreeMap<String, String>>>,
}

/// What the directory cannot say.
#[derive(Debug, Clone, Default)]
pub struct BomOptions {
    /// Model version.
    pub version: Option<String>,
    /// Licenses (SPDX ids or names), overriding the model card.
    pub licenses: Vec<String>,
    /// The task, overriding `pipeline_tag`.
    pub task: Option<String>,
    /// RFC 3339 creation time.
    pub timestamp: String,
    /// The serial number (`urn:uuid:...`); derived from the content if absent.
    pub serial_number: Option<String>,
    /// More properties of the model component (where the model lives, for
    /// one in a registry).
    pub properties: Vec<Property>,
    /// The model's package URL, when it has one (a model from a
    /// repository cache, pinned to its commit).
    pub purl: Option<String>,
    /// Base models pinned by the signer: a name and the base model's OMS
    /// root digest (hex). A base model the model card names is pinned
    /// when one of these has its name; one the card does not name is
    /// added.
    pub base_models: Vec<(String, String)>,
}

fn licenses(names: &[String]) -> Vec<LicenseChoice> {
    names
        .iter()
        .map(|n| LicenseChoice {
            license: match canonical_license_id(n) {
                Some(id) => License {
                    id: Some(id.to_string()),
                    name: None,
                },
                None => License {
                    id: None,
                    name: Some(n.clone()),
                },
            },
        })
        .collect()
}

/// The model's pedigree: the base models its card names, each pinned by
/// the digest given for its name, and the pinned ones the card does not
/// name. A base model pinned twice is refused.
fn pedigree(card: &[String], pinned: &[(String, String)]) -> Result<Option<Pedigree>> {
    let mut seen = std::collections::BTreeSet::new();
    for (name, hex) in pinned {
        if !seen.insert(name.as_str()) {
            return Err(Error::Bom(format!("base model {name:?} is pinned twice")));
        }
        if hex.len() != 64 || !hex.bytes().all(|b| b.is_ascii_hexdigit()) {
            return Err(Error::Bom(format!(
                "base model {name:?}: the digest must be sha256: and 64 hex digits"
            )));
        }
    }
    let names = card.iter().cloned().chain(
        pinned
            .iter()
            .map(|(n, _)| n.clone())
            .filter(|n| !card.contains(n)),
    );
    let ancestors: Vec<Component> = names
        .map(|name| {
            let digest = pinned
                .iter()
                .find(|(n, _)| *n == name)
                .map(|(_, h)| h.to_ascii_lowercase());
            Component {
                kind: "machine-learning-model".into(),
                name: name.clone(),
                hashes: digest
                    .iter()
                    .map(|h| Hash {
                        alg: "SHA-256".into(),
                        content: h.clone(),
                    })
                    .collect(),
                properties: digest
                    .iter()
                    .map(|h| Property::new("modelseal:oms:root-digest", format!("sha256:{h}")))
                    .collect(),
                ..Default::default()
            }
        })
        .collect();
    Ok((!ancestors.is_empty()).then_some(Pedigree { ancestors }))
}

/// Builds the BOM for `model` and `datasets`. Deterministic: the same inputs
/// and options give the same document.
pub fn build_bom(model: &HashedTree, datasets: &[HashedTree], options: &BomOptions) -> Result<Bom> {
    let card: CardFacts = read_card(&model.path).map_err(|e| Error::Bom(e.to_string()))?;
    let root = model.sha256.root_digest_hex();
    let model_ref = format!("model:{}", model.name);
    let model_files = FileComponents::new(model, MODEL_FILE_REF, false)?;
    let mut components = Components {
        files: Some(model_files.clone()),
        items: Vec::new(),
    };
    let mut dependencies = Vec::new();
    let mut model_deps = Refs {
        files: Some(model_files.clone()),
        items: Vec::new(),
    };
    let mut dataset_refs = Vec::new();
    let mut seen = std::collections::BTreeSet::new();
    for ds in datasets {
        if !seen.insert(ds.name.clone()) {
            return Err(Error::Bom(format!("two datasets are named {:?}", ds.name)));
        }
        let ds_ref = format!("{DATASET_REF}{}", ds.name);
        let files = FileComponents::new(ds, &format!("dataset-file:{}/", ds.name), true)?;
        dependencies.push(DependencyPart::Node(Dependency {
            reference: ds_ref.clone(),
            depends_on: Refs {
                files: Some(files.clone()),
                items: Vec::new(),
            },
        }));
        dependencies.push(DependencyPart::Leaves(files.clone()));
        components.items.push(Component {
            kind: "data".into(),
            bom_ref: Some(ds_ref.clone()),
            name: ds.name.clone(),
            hashes: vec![Hash {
                alg: "SHA-256".into(),
                content: ds.sha256.root_digest_hex(),
            }],
            data: vec![ComponentData {
                kind: "dataset".into(),
                name: Some(ds.name.clone()),
                description: None,
            }],
            components: Components {
                files: Some(files),
                items: Vec::new(),
            },
            properties: vec![
                Property::new(
                    "modelseal:oms:root-digest",
                    format!("sha256:{}", ds.sha256.root_digest_hex()),
                ),
                Property::new("modelseal:files", ds.sha256.resources.len().to_string()),
            ],
            ..Default::default()
        });
        model_deps.items.push(ds_ref.clone());
        dataset_refs.push((ds.name.clone(), ds_ref));
    }
    dependencies.push(DependencyPart::Leaves(model_files));
    dependencies.insert(
        0,
        DependencyPart::Node(Dependency {
            reference: model_ref.clone(),
            depends_on: model_deps,
        }),
    );

    let mut card_datasets: Vec<DatasetChoice> = dataset_refs
        .iter()
        .map(|(_, r)| DatasetChoice::Ref {
            reference: r.clone(),
        })
        .collect();
    for name in &card.datasets {
        let given = dataset_refs
            .iter()
            .any(|(n, _)| n == name || name.rsplit('/').next() == Some(n.as_str()));
        if !given {
            card_datasets.push(DatasetChoice::Inline(ComponentData {
                kind: "dataset".into(),
                name: Some(name.clone()),
                description: Some("named by the model card; not hashed".into()),
            }));
        }
    }
    let mut card_properties = Vec::new();
    for lang in &card.languages {
        card_properties.push(Property::new("huggingface:language", lang.clone()));
    }
    let model_card = ModelCard {
        model_parameters: ModelParameters {
            task: options.task.clone().or(card.task.clone()),
            architecture_family: card.model_type.clone(),
            model_architecture: (!card.architectures.is_empty())
                .then(|| card.architectures.join(", ")),
            datasets: card_datasets,
        },
        quantitative_analysis: (!card.metrics.is_empty()).then(|| QuantitativeAnalysis {
            performance_metrics: card.metrics.clone(),
        }),
        properties: card_properties,
    };
    let license_names = if options.licenses.is_empty() {
        &card.licenses
    } else {
        &options.licenses
    };
    let model_component = Component {
        kind: "machine-learning-model".into(),
        bom_ref: Some(model_ref),
        name: model.name.clone(),
        version: options.version.clone(),
        purl: options.purl.clone(),
        hashes: vec![Hash {
            alg: "SHA-256".into(),
            content: root.clone(),
        }],
        licenses: licenses(license_names),
        pedigree: pedigree(&card.base_models, &options.base_models)?,
        model_card: Some(model_card),
        properties: vec![
            Property::new("modelseal:oms:root-digest", format!("sha256:{root}")),
            Property::new("modelseal:oms:subject-name", model.name.clone()),
            Property::new("modelseal:files", model.sha256.resources.len().to_string()),
        ]
        .into_iter()
        .chain(options.properties.iter().cloned())
        .collect(),
        ..Default::default()
    };
    let mut bom = Bom {
        bom_format: "CycloneDX".into(),
        spec_version: "1.6".into(),
        serial_number: String::new(),
        version: 1,
        metadata: Metadata {
            timestamp: options.timestamp.clone(),
            tools: Tools {
                components: vec![Component {
                    kind: "application".into(),
                    name: "modelseal".into(),
                    version: Some(crate::VERSION.into()),
                    ..Default::default()
                }],
            },
            component: model_component,
        },
        components,
        dependencies: Dependencies {
            parts: dependencies,
        },
    };
    bom.serial_number = match &options.serial_number {
        Some(s) => s.clone(),
        None => derived_serial(&bom),
    };
    Ok(bom)
}

/// A version-5-shaped UUID from the SHA-256 of the BOM's content (without
/// its serial number and timestamp), so the same content keeps its serial.
fn derived_serial(bom: &Bom) -> String {
    // The file lists are shared, not copied; the JSON is hashed as it is
    // written.
    let mut copy = bom.clone();
    copy.serial_number.clear();
    copy.metadata.timestamp.clear();
    let mut hasher = HashWriter(Sha256::new());
    // Writing to a hasher cannot fail, nor can serialising these types.
    let _ = serde_json::to_writer(&mut hasher, &copy);
    let digest = hasher.0.finalize();
    let mut b = [0u8; 16];
    b.copy_from_slice(&digest[..16]);
    b[6] = (b[6] & 0x0f) | 0x50;
    b[8] = (b[8] & 0x3f) | 0x80;
    let h = hex::encode(b);
    format!(
        "urn:uuid:{}-{}-{}-{}-{}",
        &h[..8],
        &h[8..12],
        &h[12..16],
        &h[16..20],
        &h[20..]
    )
}

/// An `io::Write` that hashes what is written.
struct HashWriter(Sha256);

impl std::io::Write for HashWriter {
    fn write(&mut self, buf: &[u8]) -> std::io::Result<usize> {
        self.0.update(buf);
        Ok(buf.len())
    }

    fn flush(&mut self) -> std::io::Result<()> {
        Ok(())
    }
}

/// The name a dataset gets in the BOM: the basename of its path.
pub fn tree_name(path: &Path) -> Result<String> {
    crate::digest::model_name(path)
}

/// Hashes `path` as a BOM needs it: SHA-256, files method, and BLAKE3 too
/// when `blake3` is set.
pub fn hash_tree(
    path: &Path,
    options: &crate::digest::HashOptions,
    blake3: bool,
    progress: crate::digest::ProgressFn<'_>,
) -> Result<HashedTree> {
    use crate::digest::{HashAlgorithm, Method, hash_model_with_progress};
    let mut sha = options.clone();
    sha.algorithm = HashAlgorithm::Sha256;
    sha.method = Method::Files;
    let sha256 = hash_model_with_progress(path, &sha, progress)?;
    let blake3 = if blake3 {
        let mut b3 = sha.clone();
        b3.algorithm = HashAlgorithm::Blake3;
        let m = hash_model_with_progress(path, &b3, progress)?;
        Some(
            m.resources
                .iter()
                .map(|r| (r.name.to_string(), r.digest_hex()))
                .collect(),
        )
    } else {
        None
    };
    Ok(HashedTree {
        path: path.to_path_buf(),
        name: tree_name(path)?,
        sha256: Arc::new(sha256),
        blake3: blake3.map(Arc::new),
    })
}

/// The BOM time: `given` (RFC 3339), else `default` (the caller's
/// `SOURCE_DATE_EPOCH` or clock), to the second.
pub fn bom_timestamp(given: Option<&str>, default: jiff::Timestamp) -> Result<String> {
    let ts = match given {
        Some(text) => text.parse::<jiff::Timestamp>().map_err(|e| {
            Error::Usage(format!(
                "the BOM time {text:?} is not an RFC 3339 time: {e}"
            ))
        })?,
        None => default,
    };
    let whole =
        jiff::Timestamp::from_second(ts.as_second()).map_err(|e| Error::Usage(e.to_string()))?;
    Ok(whole.to_string())
}
