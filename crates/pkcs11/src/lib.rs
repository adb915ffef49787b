//! modelseal-pkcs11: release keys in hardware. A `pkcs11:` URI (RFC 7512)
//! names a key in a PKCS#11 token (an HSM, a smart card, SoftHSM2);
//! [`open_key`] gives it as a [`modelseal_core::keys::PrivateKey`] that
//! signs models, BOMs and reports through the token, and [`generate`]
//! makes a key pair in one. Loading a module runs its code: the module
//! path comes only from the URI or the caller's configuration.
#![forbid(unsafe_code)]
#![warn(missing_docs)]

mod token;
mod uri;

pub use token::{TokenError, TokenKey, generate};
pub use uri::{Pkcs11Uri, UriError, UriValueError, is_pkcs11_uri};

use modelseal_core::keys::PrivateKey;
use std::path::Path;
use std::sync::Arc;
use zeroize::Zeroizing;

/// Opens the key a `pkcs11:` URI names as a private key that signs through
/// the token; `pin` and `default_module` come from the caller's
/// configuration when the URI gives none.
pub fn open_key(
    uri: &str,
    pin: Option<Zeroizing<String>>,
    default_module: Option<&Path>,
) -> Result<PrivateKey, TokenError> {
    let parsed = Pkcs11Uri::parse(uri).map_err(|e| TokenError::Uri(e.to_string()))?;
    let key = TokenKey::open(&parsed, pin, default_module)?;
    Ok(PrivateKey::External(Arc::new(key)))
}
