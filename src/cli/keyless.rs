//! Keyless signing for `sign --sigstore`, present when the binary is built
//! with the `keyless-sign` feature; without it, `--sigstore` is refused.

use super::sign::SignArgs;
use modelseal::Error;
use modelseal::Result;
use modelseal::evidence::record::SignerInfo;

#[cfg(feature = "keyless-sign")]
pub use modelseal::keyless::IdentityToken as Token;

/// No token can exist in a build without keyless signing.
#[cfg(not(feature = "keyless-sign"))]
pub enum Token {}

/// The OIDC identity token for `--sigstore`: the flag, `SIGSTORE_ID_TOKEN`
/// or the CI's ambient credentials.
#[cfg(feature = "keyless-sign")]
pub fn token(args: &SignArgs) -> Result<Token> {
    let from_env = std::env::var("SIGSTORE_ID_TOKEN")
        .ok()
        .filter(|t| !t.trim().is_empty());
    let given = args.identity_token.as_deref().or(from_env.as_deref());
    modelseal::keyless::resolve_identity_token(given).map_err(|e| match e {
        Error::Usage(m) if given.is_none() => Error::Usage(format!(
            "{m}; pass --identity-token or set SIGSTORE_ID_TOKEN"
        )),
        e => e,
    })
}

/// Refuses `--sigstore` in a build without keyless signing.
#[cfg(not(feature = "keyless-sign"))]
pub fn token(_args: &SignArgs) -> Result<Token> {
    Err(Error::Usage(
        "this modelseal was built without keyless signing (cargo feature keyless-sign)".into(),
    ))
}

/// How records name the identity the token stands for.
#[cfg(feature = "keyless-sign")]
pub fn signer(token: &Token) -> SignerInfo {
    SignerInfo {
        sigstore: true,
        identity: Some(token.email().unwrap_or(token.subject()).to_string()),
        issuer: Some(token.issuer().to_string()),
        ..SignerInfo::default()
    }
}

/// How records name the identity the token stands for.
#[cfg(not(feature = "keyless-sign"))]
pub fn signer(token: &Token) -> SignerInfo {
    match *token {}
}

/// Signs `statement` keylessly; returns the Sigstore bundle JSON.
#[cfg(feature = "keyless-sign")]
pub fn sign(statement: &[u8], token: &Token, args: &SignArgs) -> Result<Vec<u8>> {
    let keyless = modelseal::keyless::KeylessSigning {
        fulcio_url: args.fulcio_url.clone(),
        rekor_url: args.rekor_url.clone(),
    };
    modelseal::keyless::sign_statement(statement, token.clone(), &keyless)
}

/// Signs `statement` keylessly; returns the Sigstore bundle JSON.
#[cfg(not(feature = "keyless-sign"))]
pub fn sign(_statement: &[u8], token: &Token, _args: &SignArgs) -> Result<Vec<u8>> {
    match *token {}
}
