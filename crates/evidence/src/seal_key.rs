//! The key that seals records and checkpoints: Ed25519 (signed-note
//! checkpoints know no other), held in memory or in a token behind
//! [`crate::keys::ExternalKey`]. Every signature a token makes is checked
//! with the key's public half before it is written.

use crate::keys::{ExternalKey, PrivateKey, PublicKey};
use crate::{Error, Result};
use ed25519_dalek::{Signature, Signer, SigningKey, VerifyingKey};
use std::sync::Arc;

/// What seals evidence.
pub trait SealKey: Send + Sync {
    /// The public half, which verifies the log.
    fn verifying_key(&self) -> VerifyingKey;
    /// An Ed25519 signature of `message`.
    fn seal(&self, message: &[u8]) -> Result<Signature>;
}

impl SealKey for SigningKey {
    fn verifying_key(&self) -> VerifyingKey {
        SigningKey::verifying_key(self)
    }

    fn seal(&self, message: &[u8]) -> Result<Signature> {
        Ok(Signer::sign(self, message))
    }
}

/// An Ed25519 key in a token.
struct External {
    key: Arc<dyn ExternalKey>,
    public: VerifyingKey,
}

impl SealKey for External {
    fn verifying_key(&self) -> VerifyingKey {
        self.public
    }

    fn seal(&self, message: &[u8]) -> Result<Signature> {
        let bytes = self.key.sign(message).map_err(|why| {
            Error::Evidence(format!("{}: cannot seal: {why}", self.key.describe()))
        })?;
        let signature = Signature::from_slice(&bytes).map_err(|_| {
            Error::Evidence(format!(
                "{}: the token gave a {}-byte signature, not Ed25519",
                self.key.describe(),
                bytes.len()
            ))
        })?;
        self.public
            .verify_strict(message, &signature)
            .map_err(|_| {
                Error::Evidence(format!(
                    "{}: the seal it made does not verify with its public key",
                    self.key.describe()
                ))
            })?;
        Ok(signature)
    }
}

/// The evidence key of `key`: Ed25519 in memory or in a token; anything
/// else is refused in one line.
pub fn seal_key(key: PrivateKey) -> Result<Arc<dyn SealKey>> {
    match key {
        PrivateKey::Ed25519(key) => Ok(Arc::new(key)),
        PrivateKey::External(key) => match key.public_key() {
            PublicKey::Ed25519(public) => Ok(Arc::new(External { key, public })),
            other => Err(Error::Evidence(format!(
                "{}: the evidence key must be Ed25519 (signed-note checkpoints), and this token key is {}",
                key.describe(),
                other.algorithm()
            ))),
        },
        other => Err(Error::Evidence(format!(
            "the evidence key must be Ed25519 (signed-note checkpoints), not {}",
            other.algorithm()
        ))),
    }
}
