//! Registry credentials: a user name with a password given by the caller,
//! else the Docker config (`$DOCKER_CONFIG/config.json`, else
//! `~/.docker/config.json`: `auths`, `credHelpers`, `credsStore`, read by
//! the `docker_credential` crate as the docker CLI reads them), else none.

use super::OciError;
use std::path::Path;

/// Largest Docker config read.
const MAX_CONFIG: u64 = 1 << 20;

/// How to sign in to a registry.
#[derive(Clone, PartialEq, Eq, Default)]
#[non_exhaustive]
pub enum Credentials {
    /// No sign-in (public repositories, or a registry without auth).
    #[default]
    Anonymous,
    /// A user name and password (or token used as a password).
    Basic {
        /// The user name.
        username: String,
        /// The password.
        password: String,
    },
    /// An OAuth2 refresh token (`identitytoken` in the Docker config).
    IdentityToken(String),
}

impl std::fmt::Debug for Credentials {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            Credentials::Anonymous => write!(f, "Anonymous"),
            Credentials::Basic { username, .. } => write!(f, "Basic({username:?}, <redacted>)"),
            Credentials::IdentityToken(_) => write!(f, "IdentityToken(<redacted>)"),
        }
    }
}

impl Credentials {
    /// The credentials the Docker config file `path` (the caller finds it:
    /// `$DOCKER_CONFIG/config.json`, else `$HOME/.docker/config.json`, as
    /// the docker CLI does) holds for `registry` (`HOST[:PORT]`), or
    /// [`Credentials::Anonymous`] when it has none or there is no such file.
    /// A config that exists but cannot be read is an error, not anonymity.
    pub fn from_docker_config(path: &Path, registry: &str) -> Result<Self, OciError> {
        let bytes =
            match crate::fetch::read_file(path, crate::fetch::InputKind::Artifact(MAX_CONFIG)) {
                Ok(b) => b,
                Err(e) if e.is_not_found() => return Ok(Credentials::Anonymous),
                Err(e) => return Err(OciError::Credentials(e.to_string())),
            };
        Self::from_docker_config_bytes(&bytes, registry)
            .map_err(|e| OciError::Credentials(format!("{}: {e}", path.display())))
    }

    /// As [`Credentials::from_docker_config`], from the config's bytes.
    pub fn from_docker_config_bytes(
        bytes: &[u8],
        registry: &str,
    ) -> Result<Self, CredentialsError> {
        use docker_credential::{CredentialRetrievalError as E, DockerCredential};
        match docker_credential::get_credential_from_reader(bytes, registry) {
            Ok(DockerCredential::UsernamePassword(username, password)) => {
                Ok(Credentials::Basic { username, password })
            }
            Ok(DockerCredential::IdentityToken(token)) => Ok(Credentials::IdentityToken(token)),
            Err(E::NoCredentialConfigured) => Ok(Credentials::Anonymous),
            // A helper that knows nothing of this registry says so.
            Err(E::HelperFailure { stdout, .. }) if stdout.contains("credentials not found") => {
                Ok(Credentials::Anonymous)
            }
            Err(e) => Err(CredentialsError::DockerConfig(e)),
        }
    }
}

/// Why a Docker config gives no credentials for a registry (see
/// [`Credentials::from_docker_config_bytes`]).
#[derive(Debug, PartialEq, thiserror::Error)]
#[non_exhaustive]
pub enum CredentialsError {
    /// The config, or the credential helper it names, failed: JSON that
    /// does not parse, an `auth` that does not decode, a helper that
    /// fails or answers what cannot be read.
    #[error(transparent)]
    DockerConfig(docker_credential::CredentialRetrievalError),
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn reads_auths_by_registry() {
        // "alice:s3cret" in base64.
        let config = br#"{"auths": {"127.0.0.1:5000": {"auth": "YWxpY2U6czNjcmV0"},
                                      "https://other.example": {"identitytoken": "tok"}}}"#;
        assert_eq!(
            Credentials::from_docker_config_bytes(config, "127.0.0.1:5000").unwrap(),
            Credentials::Basic {
                username: "alice".into(),
                password: "s3cret".into()
            }
        );
        assert_eq!(
            Credentials::from_docker_config_bytes(config, "other.example").unwrap(),
            Credentials::IdentityToken("tok".into())
        );
        assert_eq!(
            Credentials::from_docker_config_bytes(config, "third.example").unwrap(),
            Credentials::Anonymous
        );
        assert!(matches!(
            Credentials::from_docker_config_bytes(b"{not json", "x"),
            Err(CredentialsError::DockerConfig(_))
        ));
        let shown = format!(
            "{:?}",
            Credentials::Basic {
                username: "alice".into(),
                password: "s3cret".into()
            }
        );
        assert!(!shown.contains("s3cret"), "{shown}");
    }
}
