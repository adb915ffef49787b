//! The model argument of `sign`, `verify`, `bom`, `inspect` and `hash`: a
//! local directory or file, an `oci://` reference to a registry, or an
//! `hf://ORG/NAME[@REVISION]` model in the local Hugging Face cache.

use super::env::hf_home;
use clap::Args;
use modelseal::source::{HfSource, LocalSource, ModelSource};
use modelseal::{Error, Result};
use std::path::Path;

/// How to reach a registry (for `oci://` models).
#[derive(Debug, Clone, Args)]
pub struct RegistryArgs {
    /// For oci:// models: sign in with this user name; the password comes from MODELSEAL_REGISTRY_PASSWORD (default: the Docker config).
    #[arg(long, value_name = "USER", env = "MODELSEAL_REGISTRY_USERNAME")]
    pub registry_username: Option<String>,
    /// For oci:// models: plain HTTP instead of https (only for a registry on a loopback address).
    #[arg(long)]
    pub plain_http: bool,
}

/// A model where it lives.
#[derive(Debug)]
pub enum Model {
    /// A local directory or file.
    Local(LocalSource),
    /// A model in the local Hugging Face cache.
    Hf(HfSource),
    /// A model in an OCI registry.
    #[cfg(feature = "oci")]
    Oci(Box<modelseal::registry::OciSource>),
}

impl Model {
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
    pub fn oci(&self) -> Option<&modelseal::registry::OciSource> {
        match self {
            Model::Oci(o) => Some(o),
            Model::Local(_) | Model::Hf(_) => None,
        }
    }

    /// The local path, if it is local.
    pub fn local_path(&self) -> Option<&Path> {
        self.source().local_path()
    }
}

/// Whether the argument names a registry model.
pub fn is_oci(path: &Path) -> bool {
    path.to_str().is_some_and(|s| s.starts_with("oci://"))
}

/// Turns the model argument into its source: `oci://` references open the
/// registry manifest (resolving a tag to its digest, once).
pub fn open_model(path: &Path, registry: &RegistryArgs) -> Result<Model> {
    if let Some(text) = path.to_str()
        && HfSource::is_uri(text)
    {
        if registry.plain_http {
            return Err(Error::Usage("--plain-http is for oci:// models".into()));
        }
        let hub = hf_home().ok_or_else(|| {
            Error::Usage(format!(
                "{text}: cannot find the Hugging Face cache (set HF_HOME or HF_HUB_CACHE)"
            ))
        })?;
        return Ok(Model::Hf(HfSource::resolve(text, &hub)?));
    }
    if !is_oci(path) {
        if registry.plain_http {
            return Err(Error::Usage("--plain-http is for oci:// models".into()));
        }
        return Ok(Model::Local(LocalSource::new(path)));
    }
    open_oci(path, registry)
}

#[cfg(feature = "oci")]
fn open_oci(path: &Path, registry: &RegistryArgs) -> Result<Model> {
    use modelseal::registry::oci::{Credentials, Reference, RegistryOptions};
    let text = path.to_str().unwrap_or_default();
    let reference = Reference::parse(text)?;
    let credentials = match &registry.registry_username {
        Some(username) => {
            let password = std::env::var("MODELSEAL_REGISTRY_PASSWORD").map_err(|_| {
                Error::Usage(
                    "--registry-username needs the password in MODELSEAL_REGISTRY_PASSWORD".into(),
                )
            })?;
            Credentials::Basic {
                username: username.clone(),
                password,
            }
        }
        None => match super::env::docker_config() {
            Some(config) => Credentials::from_docker_config(&config, &reference.registry())?,
            None => Credentials::Anonymous,
        },
    };
    let mut options = RegistryOptions::new(credentials);
    options.plain_http = registry.plain_http;
    Ok(Model::Oci(Box::new(modelseal::registry::OciSource::open(
        &reference, &options,
    )?)))
}

#[cfg(not(feature = "oci"))]
fn open_oci(path: &Path, _registry: &RegistryArgs) -> Result<Model> {
    Err(Error::Usage(format!(
        "{}: this modelseal was built without registry support (cargo feature oci)",
        path.display()
    )))
}
