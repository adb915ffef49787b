//! A model in an OCI registry (`oci://HOST[:PORT]/REPO:TAG` or
//! `...@sha256:HEX`), read where it lives.
//!
//! The tag is resolved to a manifest digest once, when the source is
//! opened; everything after reads by digest. A raw layer's digest is its
//! file's SHA-256, so a files/SHA-256 manifest of a ModelPack model is made
//! from the registry manifest without downloading a weight blob (each such
//! file is noted [`SourceNote::DigestOnly`]). Tar layers, other hash
//! algorithms, shards and format judgements need the bytes: those blobs are
//! streamed once, checked against their digests, and noted
//! [`SourceNote::Read`].

mod auth;
mod client;
mod credentials;
mod error;
mod judge;
mod layer_cache;
pub mod manifest;
mod pull;
mod reference;
pub mod referrers;
mod stream;
mod tar;

pub use client::{BlobLimits, MAX_MANIFEST, RegistryOptions};
pub use credentials::{Credentials, CredentialsError};
pub use error::OciError;
pub use layer_cache::LayerCache;
pub use manifest::{Descriptor, LayerKind, ModelLayout};
pub use pull::Pulled;
pub use reference::{DigestError, Reference, ReferenceError, SCHEME, is_oci_reference};
pub use referrers::{Artifact, Attached, BOM_ARTIFACT_TYPE, BUNDLE_ARTIFACT_TYPE, Blob, Via};

use crate::digest::{HashAlgorithm, Method, ProgressFn, Resource};
use crate::source::{FormatReports, HashSpec, Hashed, ModelSource, SourceNote};
use crate::{Error, Result};
use client::Registry;
use rayon::prelude::*;
use std::collections::{BTreeMap, BTreeSet};
use std::io::Read;
use std::sync::Mutex;
use stream::{FileResult, FileStream};

/// The read buffer for streamed blobs.
const BUFFER: usize = 1 << 18;

/// A model in an OCI registry, pinned to one manifest.
#[derive(Debug)]
pub struct OciSource {
    reference: Reference,
    digest: String,
    manifest_size: u64,
    manifest_media_type: String,
    layout: ModelLayout,
    registry: Registry,
    /// Results of earlier hashing, by spec (verifying several referrer
    /// bundles hashes once).
    cache: Mutex<Vec<(String, Hashed)>>,
    /// Layer results shared with other models (a service's).
    layers: Option<std::sync::Arc<LayerCache>>,
}

/// A signature bundle attached to the model.
#[derive(Debug, Clone)]
pub struct AttachedBundle {
    /// The referrer manifest's descriptor.
    pub referrer: Descriptor,
    /// Where it can be named (`oci://.../REPO@sha256:...`).
    pub uri: String,
    /// The bundle's bytes.
    pub bytes: Vec<u8>,
}

/// Most signature bundles of one model read: an attacker who can attach
/// artifacts must not make a verification read without end.
pub const MAX_ATTACHED_BUNDLES: usize = 64;

/// The signature bundles attached to a model, read one at a time (see
/// [`OciSource::attached_bundles`]).
#[derive(Debug)]
pub struct AttachedBundles<'a> {
    source: &'a OciSource,
    pending: std::vec::IntoIter<Descriptor>,
    taken: usize,
    max_bundle: u64,
    /// How the referrers were found.
    pub via: Via,
}

impl Iterator for AttachedBundles<'_> {
    type Item = std::result::Result<AttachedBundle, (Descriptor, String)>;

    fn next(&mut self) -> Option<Self::Item> {
        let referrer = self.pending.next()?;
        self.taken += 1;
        if self.taken > MAX_ATTACHED_BUNDLES {
            return Some(Err((
                referrer,
                format!("not read: more than {MAX_ATTACHED_BUNDLES} signatures are attached"),
            )));
        }
        let source = self.source;
        Some(
            match referrers::fetch_blob(
                &source.registry,
                &referrer,
                &source.digest,
                BUNDLE_ARTIFACT_TYPE,
                self.max_bundle,
            ) {
                Ok(bytes) => Ok(AttachedBundle {
                    uri: source.reference.pinned(&referrer.digest).to_string(),
                    referrer,
                    bytes,
                }),
                Err(e) => Err((referrer, e.to_string())),
            },
        )
    }
}

/// A signed BOM attached to a model: the CycloneDX document and its
/// signature bundle, both from one referrer.
#[derive(Debug, Clone)]
#[non_exhaustive]
pub struct AttachedBom {
    /// Where it can be named (`oci://.../REPO@sha256:...`).
    pub uri: String,
    /// The BOM's bytes.
    pub bom: Vec<u8>,
    /// Its signature bundle's bytes.
    pub signature: Vec<u8>,
}

/// A referrer that could not be read, and why.
pub type Unreadable = (Descriptor, String);

/// Most BOMs of one model read (each is tried in turn by a verifier).
pub const MAX_ATTACHED_BOMS: usize = 8;

/// What was found among the referrers.
#[derive(Debug, Clone)]
pub struct FoundBundles {
    /// Bundles read.
    pub bundles: Vec<AttachedBundle>,
    /// Referrers that could not be read, with the reason.
    pub unreadable: Vec<(Descriptor, String)>,
    /// How they were found.
    pub via: Via,
}

impl OciSource {
    /// Opens the model `reference`: resolves a tag to its manifest digest
    /// (once) and reads the manifest.
    pub fn open(reference: &Reference, options: &RegistryOptions) -> Result<Self> {
        let registry = Registry::new(reference, options)?;
        let fetched = registry.get_manifest(reference.selector(), &manifest::ACCEPTED)?;
        let layout = manifest::parse_model_manifest(
            &fetched.bytes,
            fetched.media_type.as_deref(),
            &fetched.digest,
        )?;
        let media_type = serde_json::from_slice::<serde_json::Value>(&fetched.bytes)
            .ok()
            .and_then(|v| {
                v.get("mediaType")
                    .and_then(|m| m.as_str())
                    .map(str::to_string)
            })
            .or(fetched.media_type.clone())
            .unwrap_or_else(|| manifest::MANIFEST_MEDIA_TYPE.to_string());
        Ok(OciSource {
            reference: reference.clone(),
            digest: fetched.digest,
            manifest_size: fetched.bytes.len() as u64,
            manifest_media_type: media_type,
            layout,
            registry,
            cache: Mutex::new(Vec::new()),
            layers: options.layer_cache.clone(),
        })
    }

    /// The reference as given.
    pub fn reference(&self) -> &Reference {
        &self.reference
    }

    /// The manifest digest the reference resolved to (`sha256:HEX`).
    pub fn manifest_digest(&self) -> &str {
        &self.digest
    }

    /// The reference pinned to the manifest digest.
    pub fn pinned(&self) -> Reference {
        self.reference.pinned(&self.digest)
    }

    /// The model's layers.
    pub fn layout(&self) -> &ModelLayout {
        &self.layout
    }

    /// The manifest's descriptor (the subject of attached artifacts).
    pub fn descriptor(&self) -> Descriptor {
        Descriptor {
            media_type: self.manifest_media_type.clone(),
            digest: self.digest.clone(),
            size: self.manifest_size,
            artifact_type: None,
            annotations: BTreeMap::new(),
        }
    }

    /// Attaches `artifact` to the model's manifest as a referrer.
    pub fn attach(&self, artifact: &Artifact) -> Result<Attached> {
        Ok(referrers::attach(
            &self.registry,
            &self.descriptor(),
            artifact,
        )?)
    }

    /// The signature bundles attached to the model's manifest, all read
    /// at once (each at most `max_bundle` bytes, at most
    /// [`MAX_ATTACHED_BUNDLES`] of them). A verifier should rather take
    /// them one at a time with [`OciSource::attached_bundles`].
    pub fn bundles(&self, max_bundle: u64) -> Result<FoundBundles> {
        let attached = self.attached_bundles(max_bundle)?;
        let via = attached.via;
        let mut bundles = Vec::new();
        let mut unreadable = Vec::new();
        for item in attached {
            match item {
                Ok(bundle) => bundles.push(bundle),
                Err(refused) => unreadable.push(refused),
            }
        }
        Ok(FoundBundles {
            bundles,
            unreadable,
            via,
        })
    }

    /// The signature bundles attached to the model's manifest, each
    /// downloaded (at most `max_bundle` bytes) only when the iterator gets
    /// to it: a verifier that checks each before taking the next holds one
    /// bundle in memory however many are attached. Referrers past the
    /// first [`MAX_ATTACHED_BUNDLES`] are not read (each comes out as an
    /// error saying so); one that cannot be read comes out as an error with
    /// its reason.
    pub fn attached_bundles(&self, max_bundle: u64) -> Result<AttachedBundles<'_>> {
        let (found, via) = referrers::list(&self.registry, &self.digest, BUNDLE_ARTIFACT_TYPE)?;
        Ok(AttachedBundles {
            source: self,
            pending: found.into_iter(),
            taken: 0,
            max_bundle,
            via,
        })
    }

    /// The signed BOMs attached to the model's manifest (as `sign --bom`
    /// attaches them), each document and bundle at most `max` bytes, at
    /// most [`MAX_ATTACHED_BOMS`] read; those that cannot be read come back
    /// with the reason.
    pub fn attached_boms(&self, max: u64) -> Result<(Vec<AttachedBom>, Vec<Unreadable>)> {
        let (found, _) = referrers::list(&self.registry, &self.digest, BOM_ARTIFACT_TYPE)?;
        let mut boms = Vec::new();
        let mut unreadable = Vec::new();
        for (i, referrer) in found.into_iter().enumerate() {
            if i >= MAX_ATTACHED_BOMS {
                unreadable.push((
                    referrer,
                    format!("not read: more than {MAX_ATTACHED_BOMS} BOMs are attached"),
                ));
                continue;
            }
            let fetch = |media_type| {
                referrers::fetch_blob(&self.registry, &referrer, &self.digest, media_type, max)
            };
            match (fetch(BOM_ARTIFACT_TYPE), fetch(BUNDLE_ARTIFACT_TYPE)) {
                (Ok(bom), Ok(signature)) => boms.push(AttachedBom {
                    uri: self.reference.pinned(&referrer.digest).to_string(),
                    bom,
                    signature,
                }),
                (Err(e), _) | (_, Err(e)) => unreadable.push((referrer, e.to_string())),
            }
        }
        Ok((boms, unreadable))
    }

    /// Downloads every model file into `dir` (which must not exist),
    /// checking each blob against its digest while it streams; the
    /// directory appears only once every blob checked. For a private copy
    /// (a BOM of the model); after a verification, [`OciSource::pull_verified`].
    pub fn pull(&self, dir: &std::path::Path, progress: ProgressFn<'_>) -> Result<Pulled> {
        pull::pull(self, dir, pull::Keep::All, progress)
    }

    /// As [`OciSource::pull`], writing only the files a verification
    /// checked (`verified`, the signed files of its verdict): files the
    /// comparison skipped or ignored (`.git`, ignore paths) are read, for
    /// the layers' digests, but never written, and every verified file
    /// must be written once.
    pub fn pull_verified(
        &self,
        dir: &std::path::Path,
        verified: &crate::digest::NameList,
        progress: ProgressFn<'_>,
    ) -> Result<Pulled> {
        pull::pull(self, dir, pull::Keep::Only(verified), progress)
    }

    fn cached(&self, key: &str) -> Option<Hashed> {
        let cache = self.cache.lock().ok()?;
        cache.iter().find(|(k, _)| k == key).map(|(_, h)| h.clone())
    }
}

/// What one layer gave.
#[derive(Default)]
struct LayerFiles {
    files: Vec<(String, FileResult)>,
    notes: Vec<SourceNote>,
    /// A container image layer's entries outside the model.
    outside: Vec<tar::Outside>,
}

impl OciSource {
    /// Hashes one layer as `spec` says (reading it when needed).
    fn hash_layer(
        &self,
        layer: &manifest::Layer,
        spec: &HashSpec<'_>,
        budget: &tar::OutsideBudget,
        progress: ProgressFn<'_>,
    ) -> Result<LayerFiles> {
        let digest = &layer.descriptor.digest;
        let wanted = |name: &str| {
            !spec.ignore.matches(name) && spec.only.is_none_or(|only| only.contains(name))
        };
        let want_sha = |name: &str| spec.sha256_of.is_some_and(|s| s.contains(name));
        let mut out = LayerFiles::default();
        match &layer.kind {
            LayerKind::Raw { name } => {
                if !wanted(name) {
                    return Ok(out);
                }
                let hex = digest.strip_prefix("sha256:").unwrap_or(digest).to_string();
                let by_digest = spec.algorithm == HashAlgorithm::Sha256
                    && spec.method == Method::Files
                    && !spec.inspect_formats;
                if by_digest {
                    let result = FileResult {
                        resources: vec![Resource {
                            name: name.clone(),
                            digest: hex.clone(),
                            algorithm: HashAlgorithm::Sha256.name().to_string(),
                        }],
                        sha256: want_sha(name).then_some(hex),
                        report: None,
                    };
                    out.files.push((name.clone(), result));
                    out.notes.push(SourceNote::DigestOnly {
                        path: name.clone(),
                        from: format!("layer {digest}"),
                    });
                    return Ok(out);
                }
                let how = format!(
                    "{:?}/{:?}/{}",
                    spec.algorithm, spec.method, spec.inspect_formats
                );
                let key = LayerCache::key(digest, name, &how);
                if let Some(kept) = self.layers.as_ref().and_then(|c| c.get(&key)) {
                    let result = FileResult {
                        resources: kept.resources,
                        sha256: want_sha(name).then_some(hex),
                        report: kept.report,
                    };
                    out.files.push((name.clone(), result));
                    out.notes.push(SourceNote::Read {
                        path: name.clone(),
                        from: format!("layer {digest} (read before, kept by its digest)"),
                    });
                    return Ok(out);
                }
                let mut reader = self.registry.blob(digest, layer.descriptor.size, name)?;
                let mut file = FileStream::new(
                    name,
                    spec.algorithm,
                    spec.method,
                    false,
                    spec.inspect_formats,
                )?;
                copy_into(&mut reader, &mut file, name, progress)?;
                reader.finish()?;
                let mut result = file.finish()?;
                result.sha256 = want_sha(name).then_some(hex);
                if let Some(cache) = &self.layers {
                    cache.put(
                        key,
                        layer_cache::Kept {
                            resources: result.resources.clone(),
                            report: result.report.clone(),
                        },
                    );
                }
                out.files.push((name.clone(), result));
                out.notes.push(SourceNote::Read {
                    path: name.clone(),
                    from: format!("layer {digest}"),
                });
            }
            LayerKind::Tar { .. } => {
                let what = format!("layer {digest}");
                let reader = self.registry.blob(digest, layer.descriptor.size, &what)?;
                let mut outside = Vec::new();
                let reader = tar::read_tar_layer(
                    reader,
                    layer,
                    &mut outside,
                    budget,
                    &mut |name, _size, entry| {
                        if !wanted(name) {
                            std::io::copy(entry, &mut std::io::sink()).map_err(|e| {
                                Error::from(OciError::unavailable_if_io(format!("{what}: {e}"), &e))
                            })?;
                            return Ok(());
                        }
                        let mut file = FileStream::new(
                            name,
                            spec.algorithm,
                            spec.method,
                            want_sha(name),
                            spec.inspect_formats,
                        )?;
                        copy_into(entry, &mut file, name, progress)?;
                        out.files.push((name.to_string(), file.finish()?));
                        out.notes.push(SourceNote::Read {
                            path: name.to_string(),
                            from: what.clone(),
                        });
                        Ok(())
                    },
                )?;
                // Nothing counts until the whole blob matched its digest.
                reader.finish()?;
                out.outside = outside;
            }
        }
        Ok(out)
    }
}

/// Streams `reader` into `file`, reporting progress.
fn copy_into(
    reader: &mut dyn Read,
    file: &mut FileStream,
    name: &str,
    progress: ProgressFn<'_>,
) -> Result<()> {
    let mut buf = vec![0u8; BUFFER];
    loop {
        let n = match reader.read(&mut buf) {
            Ok(0) => return Ok(()),
            Ok(n) => n,
            Err(e) if e.kind() == std::io::ErrorKind::Interrupted => continue,
            Err(e) => return Err(OciError::unavailable_if_io(format!("{name}: {e}"), &e).into()),
        };
        file.update(&buf[..n])?;
        progress.advance(n as u64);
    }
}

impl ModelSource for OciSource {
    fn name(&self) -> Result<String> {
        Ok(self.reference.model_name().to_string())
    }

    fn image_signatures(
        &self,
        max_bundle: u64,
    ) -> Result<Option<crate::source::ImageSignatures<'_>>> {
        let attached = self.attached_bundles(max_bundle)?;
        Ok(Some(crate::source::ImageSignatures {
            manifest: self.manifest_digest().to_string(),
            bundles: Box::new(attached.filter_map(|b| b.ok().map(|b| (b.uri, b.bytes)))),
        }))
    }

    fn uri(&self) -> String {
        self.pinned().to_string()
    }

    fn is_single_file(&self) -> Result<bool> {
        Ok(false)
    }

    fn hash(&self, spec: &HashSpec<'_>, progress: ProgressFn<'_>) -> Result<Hashed> {
        let key = format!("{spec:?}");
        if let Some(hit) = self.cached(&key) {
            return Ok(hit);
        }
        let reads = |l: &manifest::Layer| match &l.kind {
            LayerKind::Tar { .. } => true,
            LayerKind::Raw { .. } => {
                spec.inspect_formats
                    || spec.algorithm != HashAlgorithm::Sha256
                    || spec.method != Method::Files
            }
        };
        progress.set_total(
            self.layout
                .layers
                .iter()
                .filter(|l| reads(l))
                .map(|l| l.descriptor.size)
                .sum(),
        );
        // One budget for the entries outside the model of every layer.
        let budget = tar::OutsideBudget::new();
        let parts: Vec<LayerFiles> = self
            .layout
            .layers
            .par_iter()
            .map(|layer| self.hash_layer(layer, spec, &budget, progress))
            .collect::<Result<_>>()?;
        // A link one layer of a container image sets up, written through
        // by a later one, is resolved as the runtime will resolve it.
        tar::links_across_layers(
            self.layout
                .layers
                .iter()
                .zip(&parts)
                .map(|(l, p)| (l.descriptor.digest.as_str(), p.outside.as_slice())),
        )?;
        let mut hashed = Hashed::default();
        let mut seen = BTreeSet::new();
        let mut reports = Vec::new();
        let mut resources: Vec<Resource> = Vec::new();
        let mut parts_outside: Vec<Vec<tar::Outside>> = Vec::new();
        for (layer, mut part) in self.layout.layers.iter().zip(parts) {
            parts_outside.push(std::mem::take(&mut part.outside));
            for (name, result) in part.files {
                if !seen.insert(name.clone()) {
                    return Err(OciError::UnsafeName {
                        layer: layer.descriptor.digest.clone(),
                        name,
                        reason: "the model holds two files of this name".into(),
                    }
                    .into());
                }
                resources.extend(result.resources);
                if let Some(d) = result.sha256 {
                    hashed.sha256.insert(name.clone(), d);
                }
                if let Some(r) = result.report {
                    reports.push(r);
                }
            }
            hashed.notes.extend(part.notes);
        }
        // A ModelCar image: the signature covers the files under /models,
        // not what the image runs.
        let modelcar = |l: &&manifest::Layer| {
            matches!(
                l.kind,
                LayerKind::Tar {
                    root: manifest::TarRoot::ModelsDir,
                    ..
                }
            )
        };
        if self.layout.layers.iter().any(|l| modelcar(&l)) {
            let layers = self.layout.layers.iter().filter(modelcar).count();
            hashed.notes.push(SourceNote::NotCovered {
                what: format!(
                    "this is a container image: only the files under /{} are signed; the image config (entrypoint, command, environment) and everything else in its {layers} image layer(s) are not",
                    manifest::MODELCAR_ROOT
                ),
            });
        }
        // A directory where a file was, or a file under a file: the
        // runtime removes what was there, signed files included.
        if let Some(conflict) =
            tar::model_tree_conflict(&seen, parts_outside.iter().map(Vec::as_slice))
        {
            return Err(OciError::Manifest {
                digest: self.manifest_digest().to_string(),
                reason: format!("the layers disagree on the model's tree: {conflict}"),
            }
            .into());
        }
        // Names that no file of this spec uses may still clash: raw layer
        // names are known without reading, and are checked all the same.
        let mut raw = BTreeSet::new();
        for layer in &self.layout.layers {
            if let LayerKind::Raw { name } = &layer.kind
                && !raw.insert(name.as_str())
            {
                return Err(OciError::UnsafeName {
                    layer: layer.descriptor.digest.clone(),
                    name: name.clone(),
                    reason: "the model holds two files of this name".into(),
                }
                .into());
            }
        }
        resources.sort_by(|a, b| a.name.cmp(&b.name));
        for r in &resources {
            hashed
                .resources
                .push_hex(&r.name, &r.digest, &r.algorithm)
                .map_err(|_| Error::Remote(format!("{}: a digest is not hex", r.name)))?;
        }
        if spec.inspect_formats {
            reports.sort_by(|a, b| a.name.cmp(&b.name));
            let mut judged = FormatReports::new();
            for report in reports {
                judged.push(report);
            }
            hashed.formats = Some(judged);
        }
        if let Ok(mut cache) = self.cache.lock() {
            cache.push((key, hashed.clone()));
        }
        Ok(hashed)
    }
}
