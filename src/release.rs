//! Signing a release in one call: hash the model once, sign it, build and
//! sign its CycloneDX ML-BOM (with the datasets it was trained on) from the
//! same pass, record the signing in the evidence log, put the files in
//! place, and attach the signature (and the BOM) to a registry model.
//!
//! The order is what makes a release trustworthy after a crash: every file
//! is staged beside its destination first, the evidence record is appended,
//! then the files are renamed into place, then the registry is written. A
//! release never has a signature without its record.

use crate::bom::types::Property;
use crate::bom::{
    Bom, BomOptions, HashedTree, bom_statement_json, build_bom, hash_tree, write_json,
};
use crate::bundle::Statement;
use crate::clock::Now;
use crate::digest::{HashAlgorithm, HashOptions, IgnoreSet, Manifest, Method, ProgressFn};
use crate::evidence::Recorder;
use crate::evidence::record::Digests;
use crate::evidence::record::{
    DatasetRef, EvidenceSubject, NewRecord, Predicate, ResourceRef, SignEvidence, SignerInfo, Tool,
};
use crate::model::Model;
use crate::sign::{SignedBundle, SigningIdentity, sign_model};
use crate::source::SourceNote;
use crate::staged::Staged;
use crate::{Error, Result};
#[cfg(feature = "oci")]
use std::collections::BTreeMap;
use std::io::Write;
use std::path::{Path, PathBuf};

/// A signing service: turns the bytes of an in-toto statement into a
/// Sigstore bundle (JSON). Keyless Sigstore signing is one; a KMS or a
/// hardware token behind a service is another.
pub trait StatementSigner: Send + Sync {
    /// Signs `statement`; returns the bundle's JSON bytes.
    fn sign_statement(&self, statement: &[u8]) -> Result<Vec<u8>>;
    /// How evidence records name the signer.
    fn signer_info(&self) -> SignerInfo;
}

/// Who signs a release.
#[non_exhaustive]
pub enum Identity<'a> {
    /// A private key held here, in key or certificate mode.
    Key(SigningIdentity<'a>),
    /// A signing service.
    Service(&'a dyn StatementSigner),
}

impl Identity<'_> {
    /// How evidence records name this signer.
    pub fn signer_info(&self) -> SignerInfo {
        match self {
            Identity::Key(identity) => {
                let (key, certificate) = match identity {
                    SigningIdentity::Key(key) => (*key, None),
                    SigningIdentity::Certificate { key, chain } => (
                        *key,
                        chain
                            .first()
                            .and_then(|der| {
                                <x509_cert::Certificate as der::Decode>::from_der(der).ok()
                            })
                            .map(|c| crate::keys::certificate_subject(&c)),
                    ),
                };
                let public = key.public_key();
                SignerInfo {
                    fingerprint: Some(public.fingerprint()),
                    algorithm: Some(public.algorithm().name().to_string()),
                    certificate,
                    ..SignerInfo::default()
                }
            }
            Identity::Service(service) => service.signer_info(),
        }
    }
}

/// The BOM a release writes beside its signature.
#[derive(Debug, Clone)]
#[non_exhaustive]
pub struct ReleaseBom {
    /// Where the BOM goes; its signature goes to the same name with `.sig`
    /// appended.
    pub path: PathBuf,
    /// Dataset directories or files the model was trained on.
    pub datasets: Vec<PathBuf>,
    /// The BOM's contents that are not read from the model: its time (and
    /// time properties), version, licences, task. Where the model lives and
    /// its package URL are added here.
    pub options: BomOptions,
}

impl ReleaseBom {
    /// A BOM at `path` built with `options`.
    pub fn new(path: PathBuf, options: BomOptions) -> Self {
        ReleaseBom {
            path,
            datasets: Vec::new(),
            options,
        }
    }

    /// Where its signature goes: `BOM.sig` beside the BOM.
    pub fn signature_path(&self) -> PathBuf {
        signature_path(&self.path)
    }
}

/// `BOM.sig` beside the BOM.
pub fn signature_path(bom: &Path) -> PathBuf {
    let mut s = bom.as_os_str().to_os_string();
    s.push(".sig");
    PathBuf::from(s)
}

/// What to sign and where the results go.
#[non_exhaustive]
pub struct SignRequest<'a> {
    /// The model.
    pub model: &'a Model,
    /// Who signs.
    pub identity: Identity<'a>,
    /// How the model is hashed (the output paths below are added to its
    /// ignore set when they lie inside a local model; relative ones are
    /// taken from the process's working directory, as writing them does).
    pub hashing: HashOptions,
    /// Where the signature bundle is written. `None` is allowed only for a
    /// registry model, whose bundle is attached.
    pub signature: Option<PathBuf>,
    /// A BOM written and signed in the same pass.
    pub bom: Option<ReleaseBom>,
    /// The evidence log that records the signing.
    pub recorder: Option<&'a Recorder>,
    /// The time the record and registry annotations state.
    pub now: Now,
    /// An RFC 3161 time-stamping authority that stamps the signatures (key
    /// and certificate signing), so their time does not come from the
    /// signer's clock alone.
    #[cfg(feature = "remote")]
    pub tsa: Option<crate::registry::tsa::Tsa>,
}

impl<'a> SignRequest<'a> {
    /// A request to sign `model` as `identity`, with default hashing, no
    /// BOM, no record and no signature file.
    pub fn new(model: &'a Model, identity: Identity<'a>, now: Now) -> Self {
        SignRequest {
            model,
            identity,
            hashing: HashOptions::default(),
            signature: None,
            bom: None,
            recorder: None,
            now,
            #[cfg(feature = "remote")]
            tsa: None,
        }
    }
}

/// Stamps a signed bundle with the request's TSA, if any.
#[cfg(feature = "remote")]
fn stamp(
    request: &SignRequest<'_>,
    bundle: &mut crate::sign::SignedBundle,
) -> Result<Option<crate::timestamp::Stamped>> {
    let Some(tsa) = &request.tsa else {
        return Ok(None);
    };
    let (token, checked) = tsa.stamp(&bundle.signature(), request.now.time())?;
    bundle.set_timestamps(&[token])?;
    Ok(checked)
}

#[cfg(not(feature = "remote"))]
fn stamp(
    _: &SignRequest<'_>,
    _: &mut crate::sign::SignedBundle,
) -> Result<Option<crate::timestamp::Stamped>> {
    Ok(None)
}

/// A release made.
#[derive(Debug)]
#[non_exhaustive]
pub struct Release {
    /// The model's name in the statement.
    pub name: String,
    /// What was signed.
    pub manifest: Manifest,
    /// What the hashing noticed (files left out, links followed, parts of a
    /// registry model that the signature does not cover).
    pub notes: Vec<SourceNote>,
    /// Who signed, as the record names them.
    pub signer: SignerInfo,
    /// The signature file written, if any.
    pub signature: Option<PathBuf>,
    /// The BOM and its signature written, if any.
    pub bom: Option<(PathBuf, PathBuf)>,
    /// The evidence record's digest, if one was recorded.
    pub record: Option<String>,
    /// What was attached in the registry: `("signature" | "bom", referrer
    /// manifest digest, how)`.
    pub attached: Vec<Referrer>,
    /// The signature's RFC 3161 timestamp, as checked against the TSA's
    /// chain when one was given.
    pub timestamped: Option<crate::timestamp::Stamped>,
}

/// One artifact attached to a registry model.
#[derive(Debug, Clone, serde::Serialize)]
#[non_exhaustive]
pub struct Referrer {
    /// `signature` or `bom`.
    pub kind: &'static str,
    /// The referrer's manifest digest.
    pub digest: String,
    /// How registries find it: `api` (the referrers API) or `tag` (the
    /// referrers tag schema).
    pub via: &'static str,
}

impl Referrer {
    /// How registries find it, in words.
    pub fn how(&self) -> &'static str {
        match self.via {
            "api" => "referrers API",
            "tag" => "referrers tag",
            _ => "an unknown way",
        }
    }
}

#[cfg(feature = "oci")]
fn via_name(via: crate::registry::oci::Via) -> &'static str {
    match via {
        crate::registry::oci::Via::Api => "api",
        crate::registry::oci::Via::Tag => "tag",
        _ => "unknown",
    }
}

pub use crate::policy::IMAGE_PREDICATE_TYPE;

/// A container image signature made and attached.
#[derive(Debug, Clone)]
#[non_exhaustive]
pub struct ImageSigned {
    /// The image manifest signed (`sha256:...`).
    pub manifest: String,
    /// The bundle (an in-toto statement of [`IMAGE_PREDICATE_TYPE`]).
    pub bundle: Vec<u8>,
    /// The referrer that carries it.
    pub referrer: Referrer,
}

/// Signs the manifest of the registry image `model` comes in (so its
/// config and every layer, beyond the model's files) and attaches the
/// bundle to the image as a signature referrer, where a verifier under a
/// policy with `container_images.require_signature` finds it.
#[cfg(feature = "oci")]
pub fn sign_image(model: &Model, identity: &SigningIdentity<'_>, now: Now) -> Result<ImageSigned> {
    use crate::registry::oci::{Artifact, BUNDLE_ARTIFACT_TYPE, Blob};
    let oci = model.oci().ok_or_else(|| {
        Error::Usage(format!(
            "{}: only an image in a registry (oci://) has a manifest to sign",
            model.source().uri()
        ))
    })?;
    let manifest = oci.manifest_digest().to_string();
    let hex = manifest
        .strip_prefix("sha256:")
        .ok_or_else(|| Error::Usage(format!("{manifest}: not a sha256 digest")))?;
    let pinned = oci.pinned().to_string();
    let predicate = serde_json::json!({ "image": pinned }).to_string();
    let statement = Statement {
        statement_type: crate::bundle::STATEMENT_TYPE.to_string(),
        subject: vec![crate::bundle::Subject {
            name: oci.reference().repository().to_string(),
            digest: BTreeMap::from([("sha256".to_string(), hex.to_string())]),
        }],
        predicate_type: IMAGE_PREDICATE_TYPE.to_string(),
        predicate: serde_json::value::RawValue::from_string(predicate)
            .map_err(|e| Error::Usage(format!("cannot encode the statement: {e}")))?,
    };
    let bundle = crate::sign::sign_statement(&statement, identity)?
        .to_json()
        .into_bytes();
    let mut annotations = BTreeMap::from([(
        "org.opencontainers.image.created".to_string(),
        now.time().to_string(),
    )]);
    if now.is_test() {
        annotations.insert("dev.modelseal.time-source".to_string(), "test".to_string());
    }
    let attached = oci.attach(&Artifact {
        artifact_type: BUNDLE_ARTIFACT_TYPE.into(),
        blobs: vec![Blob {
            media_type: BUNDLE_ARTIFACT_TYPE.into(),
            bytes: bundle.clone(),
            annotations: BTreeMap::new(),
        }],
        annotations,
    })?;
    Ok(ImageSigned {
        manifest,
        bundle,
        referrer: Referrer {
            kind: "image-signature",
            digest: attached.digest,
            via: via_name(attached.via),
        },
    })
}

/// A signature made: streamed from its payload (key mode), or the bytes a
/// signing service returned.
enum Signed {
    Streamed(Box<SignedBundle>),
    Bytes(Vec<u8>),
}

impl Signed {
    fn write(&self, w: &mut dyn Write) -> std::io::Result<()> {
        match self {
            Signed::Streamed(b) => b.write_json(w),
            Signed::Bytes(bytes) => w.write_all(bytes),
        }
    }

    fn to_bytes(&self) -> Result<Vec<u8>> {
        let mut bytes = Vec::new();
        self.write(&mut bytes)
            .map_err(|e| Error::Bundle(format!("cannot encode the bundle: {e}")))?;
        Ok(bytes)
    }
}

/// The stage of [`sign_release`] that failed. Before
/// [`SignStage::Record`] nothing was written; a [`SignStage::Commit`] left
/// the record without some of its files in place; an
/// [`SignStage::Attach`] left a complete local release (files and record)
/// whose registry push can be tried again.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
#[non_exhaustive]
pub enum SignStage {
    /// The request cannot be carried out as asked (no file for a local
    /// model's signature, two outputs on one file, a timestamp for a
    /// keyless signature).
    Request,
    /// The model could not be read or hashed (not there, a walk refused, a
    /// registry model not pulled).
    Model,
    /// The BOM could not be built (the model card, a dataset).
    Bom,
    /// The key, token, signing service or timestamp authority did not sign.
    Sign,
    /// A signature or BOM file could not be staged beside its destination.
    Write,
    /// The evidence record could not be appended (nothing was put in place).
    Record,
    /// The record is in the log, but a file could not be put in place.
    Commit,
    /// The release is signed and recorded; attaching it in the registry
    /// failed.
    Attach,
}

/// Why a release was not signed: the stage that failed and its error (whose
/// text this is, and whose class says retry, reject, tampered or usage).
#[derive(Debug)]
pub struct SignError {
    stage: SignStage,
    error: Error,
}

/// The stage's error, as if it were this one (its text and its source).
impl std::fmt::Display for SignError {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        self.error.fmt(f)
    }
}

impl std::error::Error for SignError {
    fn source(&self) -> Option<&(dyn std::error::Error + 'static)> {
        std::error::Error::source(&self.error)
    }
}

impl SignError {
    fn at(stage: SignStage) -> impl Fn(Error) -> SignError {
        move |error| SignError { stage, error }
    }

    /// The stage that failed.
    pub fn stage(&self) -> SignStage {
        self.stage
    }

    /// The error of the stage that failed.
    pub fn error(&self) -> &Error {
        &self.error
    }

    /// What a caller does about it: the class of the stage's error.
    pub fn class(&self) -> crate::ErrorClass {
        self.error.class()
    }
}

impl From<SignError> for Error {
    fn from(e: SignError) -> Self {
        e.error
    }
}

/// Signs a release: see the module documentation for the order of writes.
/// Nothing is written when anything before the evidence record fails; the
/// error names the stage that failed ([`SignError`]).
pub fn sign_release(
    mut request: SignRequest<'_>,
    progress: ProgressFn<'_>,
) -> std::result::Result<Release, SignError> {
    let model = request.model;
    let local = model.local_path().map(Path::to_path_buf);
    if request.signature.is_none() && local.is_some() {
        return Err(SignError::at(SignStage::Request)(Error::Usage(
            "a local model's signature needs a file to go to".into(),
        )));
    }
    let bom_sig = request.bom.as_ref().map(ReleaseBom::signature_path);
    let outputs = [
        ("the signature", request.signature.as_deref()),
        ("the BOM", request.bom.as_ref().map(|b| b.path.as_path())),
        ("the BOM's signature", bom_sig.as_deref()),
    ];
    refuse_same_file(&outputs).map_err(SignError::at(SignStage::Request))?;
    let written: Vec<&Path> = outputs.iter().filter_map(|(_, p)| *p).collect();
    if let Some(root) = &local {
        // This resolves the model's root: a model that is not there fails
        // here.
        exclude_outputs(&mut request.hashing.ignore, root, &written)
            .map_err(SignError::at(SignStage::Model))?;
    }
    let source = model.source();
    if source.repository_scope().is_some() {
        // A repository cache keeps its files as links into its blobs.
        request.hashing.allow_symlinks = true;
    }
    let options = &request.hashing;
    let name = source.name().map_err(SignError::at(SignStage::Model))?;
    let (manifest, notes) = crate::source::manifest_with_notes(source, options, progress)
        .map_err(SignError::at(SignStage::Model))?;
    let root = manifest.root_digest_hex();

    let bom = match &request.bom {
        None => None,
        Some(spec) => Some(
            build_release_bom(model, spec, &name, &manifest, options, &written, progress)
                .map_err(SignError::at(SignStage::Bom))?,
        ),
    };
    let signer = request.identity.signer_info();
    let mut timestamped = None;
    #[cfg(feature = "remote")]
    if matches!(request.identity, Identity::Service(_)) && request.tsa.is_some() {
        return Err(SignError::at(SignStage::Request)(Error::Usage(
            "an RFC 3161 timestamp is for key and certificate signing; a keyless \
             signature is timed by the transparency log"
                .into(),
        )));
    }
    let signed = (|| -> Result<_> {
        Ok(match &request.identity {
            Identity::Key(identity) => {
                let mut bundle = sign_model(&name, &manifest, identity)?;
                timestamped = stamp(&request, &mut bundle)?;
                let bom_bundle = match &bom {
                    Some((b, _)) => {
                        let mut signed = crate::bom::sign_bom(b, &name, &root, identity)?;
                        stamp(&request, &mut signed)?;
                        Some(Signed::Streamed(Box::new(signed)))
                    }
                    None => None,
                };
                (Signed::Streamed(Box::new(bundle)), bom_bundle)
            }
            Identity::Service(service) => {
                let statement = serde_json::to_vec(&Statement::for_manifest(&name, &manifest))
                    .map_err(|e| Error::Bundle(format!("cannot encode the statement: {e}")))?;
                let bom_bundle = match &bom {
                    Some((b, _)) => Some(Signed::Bytes(
                        service.sign_statement(&bom_statement_json(b, &name, &root)?)?,
                    )),
                    None => None,
                };
                (
                    Signed::Bytes(service.sign_statement(&statement)?),
                    bom_bundle,
                )
            }
        })
    })();
    let (bundle, bom_bundle) = signed.map_err(SignError::at(SignStage::Sign))?;
    // A registry model's bundles are attached as referrers, so their bytes
    // are kept (a registry model has few files); a local model's signature
    // is written straight from the signed payload, never held whole.
    let in_registry = local.is_none();
    let registry_bundle = in_registry
        .then(|| bundle.to_bytes())
        .transpose()
        .map_err(SignError::at(SignStage::Sign))?;
    let registry_bom_bundle = match (&bom_bundle, in_registry) {
        (Some(b), true) => Some(b.to_bytes().map_err(SignError::at(SignStage::Sign))?),
        _ => None,
    };

    let mut staged = Vec::new();
    let signature_cite = match &request.signature {
        Some(path) => {
            let (file, sha256) = Staged::write_with(path, |w| bundle.write(w))
                .map_err(SignError::at(SignStage::Write))?;
            staged.push(file);
            cite_sha256(path, sha256)
        }
        None => ResourceRef::of_bytes(
            format!("{} (referrer)", source.uri()),
            registry_bundle.as_deref().unwrap_or_default(),
        ),
    };
    drop(bundle);
    let mut bom_cites = (None, None);
    if let (Some(spec), Some((b, _)), Some(sig_path), Some(sig)) =
        (&request.bom, &bom, &bom_sig, &bom_bundle)
    {
        let (file, bom_sha256) = Staged::write_with(&spec.path, |w| write_json(b, w))
            .map_err(SignError::at(SignStage::Write))?;
        staged.push(file);
        let (file, sig_sha256) = Staged::write_with(sig_path, |w| sig.write(w))
            .map_err(SignError::at(SignStage::Write))?;
        staged.push(file);
        bom_cites = (
            Some(cite_sha256(&spec.path, bom_sha256)),
            Some(cite_sha256(sig_path, sig_sha256)),
        );
    }
    // Nothing may be refused after the record: every destination is
    // checked again first.
    for file in &staged {
        file.ready().map_err(SignError::at(SignStage::Write))?;
    }
    let record = match request.recorder {
        Some(recorder) => Some(
            recorder
                .append(&NewRecord {
                    subject: EvidenceSubject {
                        name: name.clone().into(),
                        sha256: root.clone().into(),
                    },
                    predicate: Predicate::Sign(Box::new(SignEvidence {
                        signer: signer.clone(),
                        signature: signature_cite,
                        datasets: bom.as_ref().map(|(b, _)| bom_datasets(b)),
                        base_models: bom.as_ref().map(|(b, _)| base_models(b)),
                        base_model_refs: bom.as_ref().map(|(b, _)| base_model_refs(b)),
                        bom: bom_cites.0,
                        bom_signature: bom_cites.1,
                        location: model.location().map(Box::new),
                        tool: Tool::this(),
                        time: request.now.time(),
                    })),
                    clock: request.now.source(),
                })
                .map_err(SignError::at(SignStage::Record))?,
        ),
        None => None,
    };
    for file in staged {
        file.commit().map_err(SignError::at(SignStage::Commit))?;
    }
    // The record is in the log; now the registry. A failed push is an
    // error: the record says what was signed, not that it was attached.
    let attached = attach(
        request.now,
        model,
        registry_bundle.as_deref(),
        bom.as_ref().map(|(b, _)| b),
        registry_bom_bundle.as_deref(),
    )
    .map_err(SignError::at(SignStage::Attach))?;
    Ok(Release {
        name,
        manifest,
        notes,
        signer,
        signature: request.signature,
        bom: request.bom.map(|b| (b.path, bom_sig.unwrap_or_default())),
        record,
        attached,
        timestamped,
    })
}

/// Builds the BOM of a release, and the dataset references its record
/// cites. One pass over the model's bytes when the signature hashes files
/// with SHA-256, as the BOM does; another pass otherwise.
fn build_release_bom(
    model: &Model,
    spec: &ReleaseBom,
    name: &str,
    manifest: &Manifest,
    options: &HashOptions,
    outputs: &[&Path],
    progress: ProgressFn<'_>,
) -> Result<(Bom, Vec<DatasetRef>)> {
    // A BOM reads the model card and weight headers: a registry model is
    // pulled (digest-checked) into a temporary directory for it.
    let copy = model.local_copy(progress)?;
    let model_tree =
        if options.method == Method::Files && options.algorithm == HashAlgorithm::Sha256 {
            HashedTree {
                path: copy.path().to_path_buf(),
                name: name.to_string(),
                sha256: std::sync::Arc::new(manifest.clone()),
                blake3: None,
            }
        } else {
            let mut tree = hash_tree(copy.path(), options, false, &|_: u64| {})?;
            tree.name = name.to_string();
            tree
        };
    let mut datasets = Vec::new();
    for ds in &spec.datasets {
        let mut ds_options = HashOptions {
            allow_symlinks: options.allow_symlinks,
            ignore: IgnoreSet::with_defaults(),
            ..Default::default()
        };
        exclude_outputs(&mut ds_options.ignore, ds, outputs)?;
        datasets.push(hash_tree(ds, &ds_options, false, &|_: u64| {})?);
    }
    let mut bom_options = spec.options.clone();
    // Where the model lives comes first, then what the caller gave.
    let given = std::mem::take(&mut bom_options.properties);
    bom_options.properties = location_properties(model);
    bom_options.properties.extend(given);
    if bom_options.purl.is_none() {
        bom_options.purl = model.purl();
    }
    let refs = dataset_refs(&datasets);
    Ok((build_bom(&model_tree, &datasets, &bom_options)?, refs))
}

/// The BOM properties naming where a registry model lives.
pub fn location_properties(model: &Model) -> Vec<Property> {
    match model.location() {
        Some(l) => vec![
            Property::new("modelseal:oci:reference", l.reference),
            Property::new("modelseal:oci:manifest", l.uri),
            Property::new("modelseal:oci:manifest-digest", l.manifest_digest),
        ],
        None => Vec::new(),
    }
}

/// The datasets a BOM names, as evidence records cite them.
pub fn dataset_refs(datasets: &[HashedTree]) -> Vec<DatasetRef> {
    datasets
        .iter()
        .map(|d| DatasetRef {
            name: d.name.clone(),
            digest: Digests::from([("sha256".to_string(), d.sha256.root_digest_hex())]),
        })
        .collect()
}

/// The datasets a BOM names, as evidence records cite them: each data
/// component with its digest, and each dataset the model card names
/// without one (an empty digest).
pub fn bom_datasets(bom: &Bom) -> Vec<DatasetRef> {
    let mut out: Vec<DatasetRef> = bom
        .components
        .items
        .iter()
        .filter(|c| c.kind == "data")
        .map(|c| DatasetRef {
            name: c.name.clone(),
            digest: sha256_of(&c.hashes),
        })
        .collect();
    if let Some(card) = &bom.metadata.component.model_card {
        for choice in &card.model_parameters.datasets {
            if let crate::bom::types::DatasetChoice::Inline(data) = choice {
                out.push(DatasetRef {
                    name: data.name.clone().unwrap_or_default(),
                    digest: Digests::new(),
                });
            }
        }
    }
    out
}

/// The base models a BOM names (its model's pedigree), each with its
/// digest when pinned.
pub fn base_model_refs(bom: &Bom) -> Vec<DatasetRef> {
    bom.metadata
        .component
        .pedigree
        .as_ref()
        .map(|p| {
            p.ancestors
                .iter()
                .map(|a| DatasetRef {
                    name: a.name.clone(),
                    digest: sha256_of(&a.hashes),
                })
                .collect()
        })
        .unwrap_or_default()
}

/// `{"sha256": hex}` from a component's hashes, or nothing.
fn sha256_of(hashes: &[crate::bom::types::Hash]) -> Digests {
    hashes
        .iter()
        .find(|h| h.alg == "SHA-256")
        .map(|h| Digests::from([("sha256".to_string(), h.content.to_ascii_lowercase())]))
        .unwrap_or_default()
}

/// The base models a BOM names (its model's pedigree).
pub fn base_models(bom: &Bom) -> Vec<String> {
    bom.metadata
        .component
        .pedigree
        .as_ref()
        .map(|p| p.ancestors.iter().map(|a| a.name.clone()).collect())
        .unwrap_or_default()
}

/// How records cite a file written: its path and the SHA-256 (hex) of what
/// was written.
pub fn cite_sha256(uri: &Path, sha256: String) -> ResourceRef {
    ResourceRef {
        uri: uri.display().to_string(),
        digest: Some(Digests::from([("sha256".to_string(), sha256)])),
    }
}

/// Refuses two outputs that name the same file (compared as absolute,
/// normalised paths, through the links of their directories), and one
/// that is there and is not a regular file, before anything is written.
fn refuse_same_file(outputs: &[(&str, Option<&Path>)]) -> Result<()> {
    let mut given: Vec<(&str, PathBuf)> = Vec::new();
    for (what, path) in outputs {
        let Some(path) = path else { continue };
        crate::staged::replaceable(path)?;
        let normal = resolved(path)?;
        if let Some((other, _)) = given.iter().find(|(_, p)| *p == normal) {
            return Err(Error::Usage(format!(
                "{other} and {what} name the same file ({})",
                normal.display()
            )));
        }
        given.push((what, normal));
    }
    Ok(())
}

/// An output path made absolute (against the process's working
/// directory), its directory resolved through links when it exists.
fn resolved(path: &Path) -> Result<PathBuf> {
    let absolute = std::path::absolute(path).map_err(|e| Error::io(path, e))?;
    let normal: PathBuf = absolute.components().collect();
    Ok(match (normal.parent(), normal.file_name()) {
        (Some(dir), Some(name)) => match dir.canonicalize() {
            Ok(dir) => dir.join(name),
            Err(_) => normal,
        },
        _ => normal,
    })
}

/// Leaves `outputs` out of a tree rooted at `root` when they lie in it.
fn exclude_outputs(ignore: &mut IgnoreSet, root: &Path, outputs: &[&Path]) -> Result<()> {
    for path in outputs {
        let absolute = std::path::absolute(path).map_err(|e| Error::io(path, e))?;
        ignore.insert_user_path(root, &absolute)?;
    }
    Ok(())
}

/// Attaches the bundle (and the BOM with its bundle) to a registry model.
fn attach(
    now: Now,
    model: &Model,
    bundle: Option<&[u8]>,
    bom: Option<&Bom>,
    bom_bundle: Option<&[u8]>,
) -> Result<Vec<Referrer>> {
    #[cfg(feature = "oci")]
    if let (Some(oci), Some(bundle)) = (model.oci(), bundle) {
        use crate::registry::oci::{Artifact, BOM_ARTIFACT_TYPE, BUNDLE_ARTIFACT_TYPE, Blob};
        let mut created = BTreeMap::from([(
            "org.opencontainers.image.created".to_string(),
            now.time().to_string(),
        )]);
        if now.is_test() {
            created.insert("dev.modelseal.time-source".to_string(), "test".to_string());
        }
        let blob = |media_type: &str, bytes: Vec<u8>| Blob {
            media_type: media_type.into(),
            bytes,
            annotations: BTreeMap::new(),
        };
        let mut out = Vec::new();
        let signature = Artifact {
            artifact_type: BUNDLE_ARTIFACT_TYPE.into(),
            blobs: vec![blob(BUNDLE_ARTIFACT_TYPE, bundle.to_vec())],
            annotations: created.clone(),
        };
        let a = oci.attach(&signature)?;
        out.push(Referrer {
            kind: "signature",
            digest: a.digest,
            via: via_name(a.via),
        });
        if let (Some(b), Some(sig)) = (bom, bom_bundle) {
            let artifact = Artifact {
                artifact_type: BOM_ARTIFACT_TYPE.into(),
                blobs: vec![
                    blob(BOM_ARTIFACT_TYPE, crate::bom::to_json(b)),
                    blob(BUNDLE_ARTIFACT_TYPE, sig.to_vec()),
                ],
                annotations: created,
            };
            let a = oci.attach(&artifact)?;
            out.push(Referrer {
                kind: "bom",
                digest: a.digest,
                via: via_name(a.via),
            });
        }
        return Ok(out);
    }
    let _ = (now, model, bundle, bom, bom_bundle);
    Ok(Vec::new())
}

/// A CycloneDX ML-BOM to write (and sign) on its own, as `modelseal bom`
/// does; [`sign_release`] makes one in the same pass as the signature.
#[non_exhaustive]
pub struct BomRequest<'a> {
    /// The model.
    pub model: &'a Model,
    /// Where the BOM goes; a signature goes to `BOM.sig`.
    pub out: PathBuf,
    /// How the model is walked (for a registry model: its pulled copy).
    /// The BOM and its signature are added to the ignore set.
    pub hashing: HashOptions,
    /// Dataset directories or files, each with how it is walked.
    pub datasets: Vec<(PathBuf, HashOptions)>,
    /// Record BLAKE3 hashes beside SHA-256.
    pub blake3: bool,
    /// What the BOM says that is not read from the model (where a registry
    /// model lives and its package URL are added here).
    pub options: BomOptions,
    /// Sign the BOM as this key.
    pub key: Option<SigningIdentity<'a>>,
    /// The evidence log that records the BOM.
    pub recorder: Option<&'a Recorder>,
    /// The time the record states.
    pub now: Now,
}

impl<'a> BomRequest<'a> {
    /// A BOM of `model` at `out`, unsigned and unrecorded, with `options`.
    pub fn new(model: &'a Model, out: PathBuf, options: BomOptions, now: Now) -> Self {
        BomRequest {
            model,
            out,
            hashing: HashOptions::default(),
            datasets: Vec::new(),
            blake3: false,
            options,
            key: None,
            recorder: None,
            now,
        }
    }
}

/// A BOM written.
#[derive(Debug)]
#[non_exhaustive]
pub struct BomRelease {
    /// The BOM.
    pub bom: Bom,
    /// The model as hashed for it.
    pub model: HashedTree,
    /// The datasets as hashed for it.
    pub datasets: Vec<HashedTree>,
    /// The signature written, if the BOM was signed.
    pub signature: Option<PathBuf>,
    /// The evidence record's digest, if one was recorded.
    pub record: Option<String>,
}

/// Writes (and signs, and records) a BOM: the files are staged, the record
/// appended, then the files put in place.
pub fn write_bom(mut request: BomRequest<'_>, progress: ProgressFn<'_>) -> Result<BomRelease> {
    use crate::evidence::record::BomEvidence;
    let model = request.model;
    let sig_out = signature_path(&request.out);
    refuse_same_file(&[
        ("the BOM", Some(&request.out)),
        ("the BOM's signature", Some(&sig_out)),
    ])?;
    let copy = model.local_copy(progress)?;
    let outputs = [request.out.as_path(), sig_out.as_path()];
    if let Some(root) = model.local_path() {
        exclude_outputs(&mut request.hashing.ignore, root, &outputs)?;
    }
    if model.source().repository_scope().is_some() {
        // A repository cache keeps its files as links into its blobs.
        request.hashing.allow_symlinks = true;
    }
    let mut model_tree = hash_tree(copy.path(), &request.hashing, request.blake3, progress)?;
    model_tree.name = model.source().name()?;
    let mut datasets = Vec::new();
    for (path, options) in &mut request.datasets {
        exclude_outputs(&mut options.ignore, path, &outputs)?;
        datasets.push(hash_tree(path, options, request.blake3, progress)?);
    }
    let mut options = request.options.clone();
    // Where the model lives comes first, then what the caller gave.
    let given = std::mem::take(&mut options.properties);
    options.properties = location_properties(model);
    options.properties.extend(given);
    if options.purl.is_none() {
        options.purl = model.purl();
    }
    let bom = build_bom(&model_tree, &datasets, &options)?;
    let root = model_tree.sha256.root_digest_hex();
    // The BOM and its bundle are written as they are serialised: a BOM of
    // a million files is never held as text.
    let (file, bom_sha256) = Staged::write_with(&request.out, |w| write_json(&bom, w))?;
    let mut staged = vec![file];
    let signed = match &request.key {
        Some(identity) => {
            let bundle = crate::bom::sign_bom(&bom, &model_tree.name, &root, identity)?;
            let (file, sha256) = Staged::write_with(&sig_out, |w| bundle.write_json(w))?;
            staged.push(file);
            Some((sig_out, sha256))
        }
        None => None,
    };
    for file in &staged {
        file.ready()?;
    }
    let record = match request.recorder {
        Some(recorder) => Some(recorder.append(&NewRecord {
            subject: EvidenceSubject {
                name: model_tree.name.clone().into(),
                sha256: root.into(),
            },
            predicate: Predicate::Bom(Box::new(BomEvidence {
                bom: cite_sha256(&request.out, bom_sha256),
                bom_signature: signed.as_ref().map(|(p, d)| cite_sha256(p, d.clone())),
                serial_number: bom.serial_number.clone(),
                files: model_tree.sha256.resources.len() as u64,
                datasets: bom_datasets(&bom),
                base_models: Some(base_models(&bom)),
                base_model_refs: Some(base_model_refs(&bom)),
                location: model.location().map(Box::new),
                tool: Tool::this(),
                time: request.now.time(),
            })),
            clock: request.now.source(),
        })?),
        None => None,
    };
    for file in staged {
        file.commit()?;
    }
    Ok(BomRelease {
        bom,
        model: model_tree,
        datasets,
        signature: signed.map(|(p, _)| p),
        record,
    })
}
