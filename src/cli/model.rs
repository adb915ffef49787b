//! The model argument of `sign`, `verify`, `bom`, `inspect` and `hash`: a
//! local directory or file, an `oci://` reference to a registry, or an
//! `hf://ORG/NAME[@REVISION]` model in the local Hugging Face cache.

use clap::Args;
pub use modelseal::model::Model;
use modelseal::model::OpenOptions;
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
    /// For oci:// models: give up when all the model's blobs have not arrived within this many seconds (default: a day).
    #[arg(long, value_name = "SECONDS", value_parser = clap::value_parser!(u64).range(1..))]
    pub registry_deadline: Option<u64>,
}

/// Whether the argument names a registry model.
pub fn is_oci(path: &Path) -> bool {
    Model::is_oci(path)
}

/// Turns the model argument into its source, with what the library needs
/// from the environment: the Hugging Face cache, registry credentials.
pub fn open_model(path: &Path, registry: &RegistryArgs) -> Result<Model> {
    let hf = path
        .to_str()
        .is_some_and(modelseal::source::HfSource::is_uri);
    if !is_oci(path) && (registry.plain_http || registry.registry_deadline.is_some()) {
        return Err(Error::Usage(
            "--plain-http and --registry-deadline are for oci:// models".into(),
        ));
    }
    let mut options = OpenOptions::default();
    if hf {
        options.hf_cache = Some(super::env::hf_home().ok_or_else(|| {
            Error::Usage(format!(
                "{}: cannot find the Hugging Face cache (set HF_HOME or HF_HUB_CACHE)",
                path.display()
            ))
        })?);
    }
    #[cfg(feature = "oci")]
    if is_oci(path) {
        options.registry = Some(registry_options(path, registry)?);
    }
    Model::open(path, &options)
}

#[cfg(feature = "oci")]
fn registry_options(
    path: &Path,
    registry: &RegistryArgs,
) -> Result<modelseal::registry::oci::RegistryOptions> {
    use modelseal::registry::oci::{Credentials, Reference, RegistryOptions};
    let reference = Reference::parse(path.to_str().unwrap_or_default())?;
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
    if let Some(seconds) = registry.registry_deadline {
        options.blob_limits.total_time = std::time::Duration::from_secs(seconds);
    }
    Ok(options)
}
