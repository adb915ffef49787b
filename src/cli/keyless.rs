//! Keyless signing for `sign --sigstore`, present when the binary is built
//! with the `keyless-sign` feature; without it, `--sigstore` is refused.

use super::sign::SignArgs;
use modelseal::Result;
use modelseal::release::StatementSigner;

/// The keyless signer for `--sigstore`: the OIDC identity token from the
/// flag, `SIGSTORE_ID_TOKEN` or the CI's ambient credentials.
#[cfg(feature = "keyless-sign")]
pub fn signer(args: &SignArgs) -> Result<Box<dyn StatementSigner>> {
    use modelseal::Error;
    use modelseal::keyless::{KeylessSigner, KeylessSigning, resolve_identity_token};
    let from_env = std::env::var("SIGSTORE_ID_TOKEN")
        .ok()
        .filter(|t| !t.trim().is_empty());
    let given = args.identity_token.as_deref().or(from_env.as_deref());
    let token = resolve_identity_token(given).map_err(|e| match e {
        Error::Usage(m) if given.is_none() => Error::Usage(format!(
            "{m}; pass --identity-token or set SIGSTORE_ID_TOKEN"
        )),
        e => e,
    })?;
    let options = KeylessSigning {
        fulcio_url: args.fulcio_url.clone(),
        rekor_url: args.rekor_url.clone(),
    };
    Ok(Box::new(KeylessSigner::new(token, options)))
}

/// Refuses `--sigstore` in a build without keyless signing.
#[cfg(not(feature = "keyless-sign"))]
pub fn signer(_args: &SignArgs) -> Result<Box<dyn StatementSigner>> {
    Err(modelseal::Error::Usage(
        "this modelseal was built without keyless signing (cargo feature keyless-sign)".into(),
    ))
}
