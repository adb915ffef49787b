//! `serve.toml`: the server's settings (flags override them).

use crate::ServeError;
use serde::Deserialize;
use std::path::{Path, PathBuf};

/// Who may call the verify API.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Deserialize)]
#[serde(rename_all = "kebab-case")]
pub enum VerifyApi {
    /// Clients with a certificate from `client_ca` (the default).
    #[default]
    ClientCertificate,
    /// Anyone who reaches the port.
    Open,
}

/// The settings.
#[derive(Debug, Clone, Deserialize, PartialEq, Eq)]
#[serde(deny_unknown_fields)]
#[non_exhaustive]
pub struct ServeConfig {
    /// `address:port` to listen on.
    #[serde(default = "default_listen")]
    pub listen: String,
    /// The server's certificate chain (PEM).
    pub tls_cert: Option<PathBuf>,
    /// Its private key (PEM).
    pub tls_key: Option<PathBuf>,
    /// The CA whose client certificates are accepted.
    pub client_ca: Option<PathBuf>,
    /// Who may call `/v1/verify`.
    #[serde(default)]
    pub verify_api: VerifyApi,
    /// The deploy policy.
    pub policy: Option<PathBuf>,
    /// The evidence log (a file or `postgres://`).
    pub evidence: Option<String>,
    /// The key that seals evidence (a file or `pkcs11:` URI).
    pub evidence_key: Option<String>,
    /// Verdicts kept.
    #[serde(default = "default_cache_size")]
    pub cache_size: usize,
    /// Seconds a verdict is kept.
    #[serde(default = "default_cache_ttl")]
    pub cache_ttl: u64,
    /// Seconds a registry may take for one verification (at most 30: the
    /// API server gives a webhook at most 30 s).
    #[serde(default = "default_registry_timeout")]
    pub registry_timeout: u64,
    /// Registries on a loopback address may be plain HTTP (tests).
    #[serde(default)]
    pub plain_http: bool,
    /// Sign in to registries as this user (the password from
    /// MODELSEAL_REGISTRY_PASSWORD), else the Docker config.
    pub registry_username: Option<String>,
    /// Connections served at once.
    #[serde(default = "default_max_connections")]
    pub max_connections: usize,
}

fn default_listen() -> String {
    "0.0.0.0:8443".into()
}
fn default_cache_size() -> usize {
    1024
}
fn default_cache_ttl() -> u64 {
    600
}
fn default_registry_timeout() -> u64 {
    10
}
fn default_max_connections() -> usize {
    1024
}

impl Default for ServeConfig {
    fn default() -> Self {
        toml::from_str("").unwrap_or_else(|_| unreachable!("every field has a default"))
    }
}

impl ServeConfig {
    /// Reads `serve.toml` text.
    pub fn parse(text: &str, uri: &Path) -> Result<Self, ServeError> {
        let config: ServeConfig = toml::from_str(text).map_err(|e| {
            ServeError::Config(format!(
                "{}: {}",
                uri.display(),
                e.message().trim_end().replace('\n', "; ")
            ))
        })?;
        config.check()?;
        Ok(config)
    }

    /// Checks the values that have bounds.
    pub fn check(&self) -> Result<(), ServeError> {
        if !(1..=30).contains(&self.registry_timeout) {
            return Err(ServeError::Config(format!(
                "registry_timeout {} s: it must be 1 to 30 (the API server waits at most 30 s for a webhook)",
                self.registry_timeout
            )));
        }
        if self.max_connections == 0 || self.max_connections > 65_536 {
            return Err(ServeError::Config(
                "max_connections must be 1 to 65536".into(),
            ));
        }
        if self.listen.parse::<std::net::SocketAddr>().is_err() {
            return Err(ServeError::Config(format!(
                "listen {:?} is not address:port",
                self.listen
            )));
        }
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn defaults_and_bounds() {
        let c = ServeConfig::default();
        assert_eq!(
            (c.cache_size, c.cache_ttl, c.registry_timeout),
            (1024, 600, 10)
        );
        assert_eq!(c.verify_api, VerifyApi::ClientCertificate);
        let p = Path::new("serve.toml");
        assert!(ServeConfig::parse("registry_timeout = 31", p).is_err());
        assert!(ServeConfig::parse("listen = \"nowhere\"", p).is_err());
        assert!(ServeConfig::parse("other = 1", p).is_err());
        let c = ServeConfig::parse("verify_api = \"open\"\ncache_size = 0", p).unwrap();
        assert_eq!((c.verify_api, c.cache_size), (VerifyApi::Open, 0));
    }
}
