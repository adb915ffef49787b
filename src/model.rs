//! A model where it lives: a local directory or file, a model in the local
//! Hugging Face cache (`hf://ORG/NAME[@REVISION]`), or a model in an OCI
//! registry (`oci://HOST[:PORT]/REPO:TAG` or `@sha256:HEX`), opened once
//! (a tag is resolved to its digest here, and only here).

use crate::evidence::record::ModelLocation;
use crate::source::{HfSource, LocalSource, ModelSource};
use crate::{Error, Result};
use std::path::{Path, PathBuf};

/// How [`Model::open`] reaches what a model text names. Nothing here is read
/// from the environment by the library: the caller passes it.
#[derive(Debug, Clone, Default)]
#[non_exhaustive]
pub struct OpenOptions {
    /// The Hugging Face cache (`HF_HUB_CACHE`, or `HF_HOME/hub`), for
    /// `hf://` models.
    pub hf_cache: Option<PathBuf>,
    /// How to reach a registry, for `oci://` models.
    #[cfg(feature = "oci")]
    pub registry: Option<crate::registry::oci::RegistryOptions>,
}

/// A model where it lives.
#[derive(Debug)]
#[non_exhaustive]
pub enum Model {
    /// A local directory or file.
    Local(LocalSource),
    /// A model in the local Hugging Face cache.
    Hf(HfSource),
    /// A model in an OCI registry.
    #[cfg(feature = "oci")]
    Oci(Box<crate::registry::OciSource>),
}

impl Model {
    /// Opens what `text` names: `hf://...`, `oci://...`, or else a local path.
    pub fn open(text: &Path, options: &OpenOptions) -> Result<Model> {
        if let Some(uri) = text.to_str()
            && HfSource::is_uri(uri)
        {
            let cache = options
                .hf_cache
                .as_deref()
                .ok_or_else(|| Error::Usage(format!("{uri}: no Hugging Face cache was given")))?;
            return Ok(Model::Hf(HfSource::resolve(uri, cache)?));
        }
        if !Self::is_oci(text) {
            return Ok(Model::Local(LocalSource::new(text)));
        }
        Self::open_oci(text, options)
    }

    /// Whether `text` names a registry model.
    pub fn is_oci(text: &Path) -> bool {
        text.to_str().is_some_and(|s| s.starts_with("oci://"))
    }

    #[cfg(feature = "oci")]
    fn open_oci(text: &Path, options: &OpenOptions) -> Result<Model> {
        use crate::registry::oci::{Credentials, Reference, RegistryOptions};
        let reference = Reference::parse(text.to_str().unwrap_or_default())?;
        let options = options
            .registry
            .clone()
            .unwrap_or_else(|| RegistryOptions::new(Credentials::Anonymous));
        Ok(Model::Oci(Box::new(crate::registry::OciSource::open(
            &reference, &options,
        )?)))
    }

    #[cfg(not(feature = "oci"))]
    fn open_oci(text: &Path, _options: &OpenOptions) -> Result<Model> {
        Err(Error::Usage(format!(
            "{}: this modelseal was built without registry support (cargo feature oci)",
            text.display()
        )))
    }

    /// The model as the library reads it.
    pub fn source(&self) -> &dyn ModelSource {
        match self {
            Model::Local(l) => l,
            Model::Hf(h) => h,
            #[cfg(feature = "oci")]
            Model::Oci(o) => o.as_ref(),
        }
    }

    /// The registry model, if it is one.
    #[cfg(feature = "oci")]
    pub fn oci(&self) -> Option<&crate::registry::OciSource> {
        match self {
            Model::Oci(o) => Some(o),
            Model::Local(_) | Model::Hf(_) => None,
        }
    }

    /// The local path, if it is local.
    pub fn local_path(&self) -> Option<&Path> {
        self.source().local_path()
    }

    /// Where a record says a registry model lives (`None` for others).
    pub fn location(&self) -> Option<ModelLocation> {
        #[cfg(feature = "oci")]
        if let Some(oci) = self.oci() {
            return Some(ModelLocation {
                reference: oci.reference().to_string(),
                uri: oci.pinned().to_string(),
                manifest_digest: oci.manifest_digest().to_string(),
            });
        }
        None
    }

    /// The package URL of a model kept in a repository cache
    /// (`pkg:huggingface/ORG/NAME@COMMIT` for `hf://ORG/NAME@COMMIT`).
    pub fn purl(&self) -> Option<String> {
        let uri = self.source().uri();
        let rest = uri.strip_prefix("hf://")?;
        Some(format!("pkg:huggingface/{rest}"))
    }

    /// A referrer of the model named in its repository (the digest alone
    /// for a model that is not in a registry).
    pub fn referrer(&self, digest: &str) -> String {
        #[cfg(feature = "oci")]
        if let Some(oci) = self.oci() {
            return oci.reference().pinned(digest).to_string();
        }
        digest.to_string()
    }

    /// The model's files as a directory: the local path, or for a registry
    /// model a copy pulled (every blob checked against its digest) into a
    /// temporary directory that lives as long as the returned value. A BOM
    /// reads the model card and the weights' headers from it.
    pub fn local_copy(&self, progress: crate::digest::ProgressFn<'_>) -> Result<LocalCopy> {
        if let Some(path) = self.local_path() {
            return Ok(LocalCopy {
                _tmp: None,
                path: path.to_path_buf(),
            });
        }
        #[cfg(feature = "oci")]
        if let Some(oci) = self.oci() {
            let tmp = tempfile::tempdir().map_err(|e| Error::io(std::env::temp_dir(), e))?;
            let path = tmp.path().join("model");
            oci.pull(&path, progress)?;
            return Ok(LocalCopy {
                _tmp: Some(tmp),
                path,
            });
        }
        let _ = progress;
        Err(Error::Usage(format!(
            "{}: the model has no local copy",
            self.source().uri()
        )))
    }
}

/// A model's files in a directory; a pulled copy is removed on drop.
#[derive(Debug)]
pub struct LocalCopy {
    _tmp: Option<tempfile::TempDir>,
    path: PathBuf,
}

impl LocalCopy {
    /// The model directory.
    pub fn path(&self) -> &Path {
        &self.path
    }
}
