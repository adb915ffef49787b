//! Keyless signing: an OIDC identity token buys a short-lived Fulcio
//! certificate; the DSSE signature is logged in Rekor. Needs the network.

use crate::{Error, Result};
/// An OIDC identity token for keyless signing.
pub use sigstore_sign::oidc::IdentityToken;
use sigstore_sign::{SigningContext, SigningServices, SigstoreInstance};

/// Where to sign and with which identity.
#[derive(Debug, Clone, Default)]
pub struct KeylessSigning {
    /// A Fulcio URL overriding the public-good instance (with `rekor_url`).
    pub fulcio_url: Option<String>,
    /// A Rekor URL overriding the public-good instance (with `fulcio_url`).
    pub rekor_url: Option<String>,
}

/// Finds the OIDC identity token: the given one (the binary passes its flag
/// or `SIGSTORE_ID_TOKEN`), else the CI's ambient credentials (GitHub
/// Actions with `id-token: write`). The token's claims are read (not
/// authenticated: Fulcio does that) so that a malformed token fails before
/// any request.
pub fn resolve_identity_token(given: Option<&str>) -> Result<IdentityToken> {
    // An empty token given (an unset variable in a script) is an error,
    // never a reason to sign as the CI's own identity instead.
    if given.is_some_and(|t| t.trim().is_empty()) {
        return Err(Error::Usage(
            "the OIDC identity token given is empty".into(),
        ));
    }
    let raw = match given.map(str::to_string) {
        Some(token) => token,
        None => {
            let runtime = runtime()?;
            match runtime.block_on(IdentityToken::detect_ambient()) {
                Ok(Some(token)) => return Ok(token),
                Ok(None) => {
                    return Err(Error::Usage(
                        "no OIDC identity token: none was given and the CI offers no ambient credentials (GitHub Actions: permissions id-token: write)".into(),
                    ));
                }
                Err(e) => {
                    return Err(Error::Remote(format!(
                        "cannot get the CI's identity token: {e}"
                    )));
                }
            }
        }
    };
    IdentityToken::from_jwt(raw.trim())
        .map_err(|e| Error::Usage(format!("the identity token is not a usable JWT: {e}")))
}

fn runtime() -> Result<tokio::runtime::Runtime> {
    tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()
        .map_err(|e| Error::io("tokio runtime", e))
}

/// Signs an in-toto statement keylessly; returns the Sigstore bundle JSON.
pub fn sign_statement(
    statement: &[u8],
    token: IdentityToken,
    options: &KeylessSigning,
) -> Result<Vec<u8>> {
    let context = match (&options.fulcio_url, &options.rekor_url) {
        (None, None) => {
            SigningContext::from_embedded(SigstoreInstance::PublicGood).map_err(|e| {
                Error::Remote(format!(
                    "cannot load the public-good signing configuration: {e}"
                ))
            })?
        }
        (Some(fulcio), Some(rekor)) => {
            SigningContext::new(SigningServices::new(fulcio.as_str(), rekor.as_str()))
        }
        _ => {
            return Err(Error::Usage(
                "a Fulcio URL and a Rekor URL go together: give both or neither".into(),
            ));
        }
    };
    let fulcio = context.services().fulcio_url().to_string();
    let rekor = context.services().rekor_url().to_string();
    let signer = context.signer(token);
    let bundle = runtime()?
        .block_on(signer.sign_raw_statement(statement))
        .map_err(|e| {
            use sigstore_sign::Error as E;
            match e {
                E::Fulcio(e) => Error::Remote(format!(
                    "cannot get a certificate from fulcio at {fulcio}: {e}"
                )),
                E::Rekor(e) => {
                    Error::Remote(format!("cannot log the signature in rekor at {rekor}: {e}"))
                }
                E::Tsa(e) => Error::Remote(format!("cannot get a timestamp: {e}")),
                other => Error::Remote(format!("keyless signing failed: {other}")),
            }
        })?;
    let mut json = bundle
        .to_json_pretty()
        .map_err(|e| Error::Remote(format!("cannot encode the signed bundle: {e}")))?
        .into_bytes();
    json.push(b'\n');
    Ok(json)
}

/// A keyless signer: one identity token and the instance to sign with, as a
/// [`StatementSigner`](crate::release::StatementSigner) for
/// [`sign_release`](crate::release::sign_release).
#[derive(Debug, Clone)]
pub struct KeylessSigner {
    token: IdentityToken,
    options: KeylessSigning,
}

impl KeylessSigner {
    /// Signs as `token`'s identity with the instance `options` names.
    pub fn new(token: IdentityToken, options: KeylessSigning) -> Self {
        KeylessSigner { token, options }
    }
}

impl crate::release::StatementSigner for KeylessSigner {
    fn sign_statement(&self, statement: &[u8]) -> Result<Vec<u8>> {
        sign_statement(statement, self.token.clone(), &self.options)
    }

    fn signer_info(&self) -> crate::evidence::record::SignerInfo {
        crate::evidence::record::SignerInfo {
            sigstore: true,
            identity: Some(
                self.token
                    .email()
                    .unwrap_or(self.token.subject())
                    .to_string(),
            ),
            issuer: Some(self.token.issuer().to_string()),
            ..Default::default()
        }
    }
}
