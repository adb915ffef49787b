//! A signing key in a PKCS#11 token. The module named by the URI (or the
//! caller's default) is loaded, the token found by its label, the user
//! logged in with the PIN, and the private key and its public key object
//! found by label and/or id. Signing hashes in modelseal and asks the
//! token for raw `CKM_ECDSA` over the digest (tokens such as SoftHSM2 2.6
//! offer no `CKM_ECDSA_SHA256`), DER-encoding `r || s`; Ed25519 keys sign
//! with `CKM_EDDSA`. The key type comes from the token, never from the user.

use crate::Pkcs11Uri;
use cryptoki::context::{CInitializeArgs, CInitializeFlags, Pkcs11};
use cryptoki::error::{Error as P11, RvError};
use cryptoki::mechanism::Mechanism;
use cryptoki::mechanism::eddsa::{EddsaParams, EddsaSignatureScheme};
use cryptoki::object::{Attribute, AttributeType, KeyType, ObjectClass, ObjectHandle};
use cryptoki::session::{Session, UserType};
use cryptoki::slot::Slot;
use cryptoki::types::AuthPin;
use modelseal_core::keys::{ExternalKey, ExternalKeyError, KeyAlgorithm, PublicKey};
use sha2::{Digest, Sha256, Sha384, Sha512};
use std::path::{Path, PathBuf};
use std::sync::Mutex;
use zeroize::Zeroizing;

/// `CKA_EC_PARAMS` of the curves a key may be on.
const P256_PARAMS: &[u8] = &[0x06, 0x08, 0x2a, 0x86, 0x48, 0xce, 0x3d, 0x03, 0x01, 0x07];
const P384_PARAMS: &[u8] = &[0x06, 0x05, 0x2b, 0x81, 0x04, 0x00, 0x22];
const P521_PARAMS: &[u8] = &[0x06, 0x05, 0x2b, 0x81, 0x04, 0x00, 0x23];
/// Ed25519 as the RFC 8410 OID, and as the printable name some tokens
/// (SoftHSM2, OpenSC) store.
const ED25519_OID: &[u8] = &[0x06, 0x03, 0x2b, 0x65, 0x70];
const ED25519_NAME: &[u8] = b"\x13\x0cedwards25519";
/// Largest PIN file read.
const MAX_PIN: u64 = 1024;

/// Why a token key cannot be used. Each is one line that never holds the
/// PIN.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[non_exhaustive]
pub enum TokenError {
    /// The URI is not one this reader takes.
    #[error("pkcs11 URI: {0}")]
    Uri(String),
    /// No module was named, or it cannot be loaded.
    #[error("PKCS#11 module: {0}")]
    Module(String),
    /// The token is not there.
    #[error("PKCS#11 token: {0}")]
    Token(String),
    /// No PIN, or the token refused it.
    #[error("PKCS#11 PIN: {0}")]
    Pin(String),
    /// The key is not there, not unique, of another kind, or not for
    /// signing.
    #[error("PKCS#11 key: {0}")]
    Key(String),
    /// The token failed to do what was asked.
    #[error("PKCS#11: {0}")]
    Failed(String),
    /// The token refused or failed to sign (the token's own words).
    #[error("{0}")]
    Signing(String),
    /// The session to the token broke while another signature was made.
    #[error("the token session broke")]
    SessionBroken,
    /// The token gave an ECDSA signature of the wrong length.
    #[error("the token gave a {length}-byte {algorithm} signature")]
    Signature {
        /// The key's algorithm.
        algorithm: KeyAlgorithm,
        /// How many bytes the token gave.
        length: usize,
    },
}

/// A signing failure, retryable when the token or its session went away
/// or is busy, permanent when the token refuses (the key may not sign, the
/// mechanism is not supported).
fn sign_failed(e: P11) -> ExternalKeyError {
    let transient = matches!(
        e,
        P11::Pkcs11(
            RvError::DeviceRemoved
                | RvError::DeviceError
                | RvError::DeviceMemory
                | RvError::TokenNotPresent
                | RvError::SessionClosed
                | RvError::SessionHandleInvalid
                | RvError::FunctionFailed,
            _
        )
    );
    let error = TokenError::Signing(e.to_string());
    if transient {
        ExternalKeyError::retryable(error)
    } else {
        ExternalKeyError::permanent(error)
    }
}

fn failed(what: &str) -> impl Fn(P11) -> TokenError + '_ {
    move |e| TokenError::Failed(format!("{what}: {e}"))
}

/// Where the PIN comes from, in order: the URI's `pin-source` file (one
/// final newline dropped), its `pin-value`, then the caller's `pin` (the
/// environment, read by the binary).
fn pin(
    uri: &Pkcs11Uri,
    fallback: Option<Zeroizing<String>>,
) -> Result<Zeroizing<String>, TokenError> {
    if let Some(path) = &uri.pin_source {
        use std::io::Read;
        let file = std::fs::File::open(path)
            .map_err(|e| TokenError::Pin(format!("{}: {e}", path.display())))?;
        let mut text = Zeroizing::new(String::new());
        file.take(MAX_PIN)
            .read_to_string(&mut text)
            .map_err(|e| TokenError::Pin(format!("{}: {e}", path.display())))?;
        let trimmed = text
            .strip_suffix("\r\n")
            .or_else(|| text.strip_suffix('\n'))
            .unwrap_or(&text);
        return Ok(Zeroizing::new(trimmed.to_string()));
    }
    if let Some(value) = &uri.pin_value {
        return Ok(value.clone());
    }
    fallback.ok_or_else(|| {
        TokenError::Pin(
            "no PIN: give pin-source=FILE in the URI, or set the PIN in the environment".into(),
        )
    })
}

/// The loaded module, initialised (once per process).
fn module(uri: &Pkcs11Uri, default: Option<&Path>) -> Result<(Pkcs11, PathBuf), TokenError> {
    let path = uri
        .module_path
        .clone()
        .or_else(|| default.map(Path::to_path_buf))
        .ok_or_else(|| {
            TokenError::Module(
                "no module: give module-path=... in the URI, or configure a default".into(),
            )
        })?;
    if !path.is_absolute() {
        return Err(TokenError::Module(format!(
            "{}: the module path must be absolute",
            path.display()
        )));
    }
    let p11 = Pkcs11::new(&path)
        .map_err(|e| TokenError::Module(format!("{}: cannot load it: {e}", path.display())))?;
    match p11.initialize(CInitializeArgs::new(CInitializeFlags::OS_LOCKING_OK)) {
        Ok(()) | Err(P11::Pkcs11(RvError::CryptokiAlreadyInitialized, _)) => {}
        Err(e) => {
            return Err(TokenError::Module(format!(
                "{}: cannot initialise it: {e}",
                path.display()
            )));
        }
    }
    Ok((p11, path))
}

/// The slot of the token the URI names (the only token, when it names
/// none).
fn slot(p11: &Pkcs11, uri: &Pkcs11Uri) -> Result<Slot, TokenError> {
    let slots = p11
        .get_slots_with_token()
        .map_err(failed("listing the tokens"))?;
    let mut found = Vec::new();
    for s in slots {
        let info = p11.get_token_info(s).map_err(failed("reading a token"))?;
        // A slot with a token not yet initialised holds no key.
        if !info.token_initialized() {
            continue;
        }
        if uri.token.as_deref().is_none_or(|t| info.label() == t) {
            found.push(s);
        }
    }
    match found.as_slice() {
        [one] => Ok(*one),
        [] => Err(TokenError::Token(format!(
            "no token labelled {:?}",
            uri.token.as_deref().unwrap_or("")
        ))),
        _ => Err(TokenError::Token(
            "several tokens match: name one with token=LABEL".into(),
        )),
    }
}

fn login(session: &Session, pin: &Zeroizing<String>) -> Result<(), TokenError> {
    match session.login(UserType::User, Some(&AuthPin::from(pin.to_string()))) {
        Ok(()) | Err(P11::Pkcs11(RvError::UserAlreadyLoggedIn, _)) => Ok(()),
        Err(P11::Pkcs11(RvError::PinIncorrect | RvError::PinInvalid | RvError::PinLenRange, _)) => {
            Err(TokenError::Pin("the token refused the PIN".into()))
        }
        Err(P11::Pkcs11(RvError::PinLocked, _)) => {
            Err(TokenError::Pin("the token's PIN is locked".into()))
        }
        Err(e) => Err(TokenError::Failed(format!("logging in: {e}"))),
    }
}

/// The template naming the key's objects of `class`.
fn template(uri: &Pkcs11Uri, class: ObjectClass) -> Vec<Attribute> {
    let mut t = vec![Attribute::Class(class)];
    if let Some(label) = &uri.object {
        t.push(Attribute::Label(label.as_bytes().to_vec()));
    }
    if let Some(id) = &uri.id {
        t.push(Attribute::Id(id.clone()));
    }
    t
}

fn one_object(
    session: &Session,
    uri: &Pkcs11Uri,
    class: ObjectClass,
    what: &str,
) -> Result<ObjectHandle, TokenError> {
    let found = session
        .find_objects(&template(uri, class))
        .map_err(failed("finding the key"))?;
    match found.as_slice() {
        [one] => Ok(*one),
        [] => Err(TokenError::Key(format!("no {what} matches {uri}"))),
        _ => Err(TokenError::Key(format!(
            "{} {what}s match {uri}: name one (object= and id=)",
            found.len()
        ))),
    }
}

/// Reads the key's public key object into a [`PublicKey`].
fn public_key(session: &Session, handle: ObjectHandle) -> Result<PublicKey, TokenError> {
    let kind = session
        .get_attributes(handle, &[AttributeType::KeyType])
        .map_err(failed("reading the public key"))?
        .into_iter()
        .find_map(|a| match a {
            Attribute::KeyType(k) => Some(k),
            _ => None,
        })
        .ok_or_else(|| TokenError::Key("the public key object has no key type".into()))?;
    if kind != KeyType::EC && kind != KeyType::EC_EDWARDS {
        return Err(TokenError::Key(format!(
            "a {kind} key: modelseal signs with ECDSA P-256, P-384, P-521 or Ed25519"
        )));
    }
    let attrs = session
        .get_attributes(handle, &[AttributeType::EcParams, AttributeType::EcPoint])
        .map_err(failed("reading the public key"))?;
    let (mut params, mut point) = (None, None);
    for a in attrs {
        match a {
            Attribute::EcParams(p) => params = Some(p),
            Attribute::EcPoint(p) => point = Some(p),
            _ => {}
        }
    }
    let (Some(params), Some(point)) = (params, point) else {
        return Err(TokenError::Key(
            "the public key object lacks its curve or point".into(),
        ));
    };
    let point = unwrap_octet_string(&point);
    let bad = |what: &str| TokenError::Key(format!("the public key is not a valid {what} point"));
    if kind == KeyType::EC_EDWARDS {
        if params != ED25519_OID && params != ED25519_NAME {
            return Err(TokenError::Key(
                "an Edwards key on a curve other than Ed25519".into(),
            ));
        }
        let bytes: [u8; 32] = point.try_into().map_err(|_| bad("Ed25519"))?;
        return ed25519_dalek::VerifyingKey::from_bytes(&bytes)
            .map(PublicKey::Ed25519)
            .map_err(|_| bad("Ed25519"));
    }
    match params.as_slice() {
        P256_PARAMS => p256::ecdsa::VerifyingKey::from_sec1_bytes(point)
            .map(PublicKey::P256)
            .map_err(|_| bad("P-256")),
        P384_PARAMS => p384::ecdsa::VerifyingKey::from_sec1_bytes(point)
            .map(PublicKey::P384)
            .map_err(|_| bad("P-384")),
        P521_PARAMS => p521::ecdsa::VerifyingKey::from_sec1_bytes(point)
            .map(PublicKey::P521)
            .map_err(|_| bad("P-521")),
        _ => Err(TokenError::Key(
            "an EC key on a curve modelseal does not sign with".into(),
        )),
    }
}

/// `CKA_EC_POINT` is a DER OCTET STRING holding the point; some tokens
/// give the bare point.
fn unwrap_octet_string(value: &[u8]) -> &[u8] {
    let Some((&0x04, rest)) = value.split_first() else {
        return value;
    };
    let (len, body) = match rest.split_first() {
        Some((&n, body)) if n < 0x80 => (usize::from(n), body),
        Some((&0x81, body)) if !body.is_empty() => (usize::from(body[0]), &body[1..]),
        Some((&0x82, body)) if body.len() >= 2 => {
            (usize::from(body[0]) << 8 | usize::from(body[1]), &body[2..])
        }
        _ => return value,
    };
    if body.len() == len { body } else { value }
}

/// A key in a token, with a logged-in session (one signature at a time).
pub struct TokenKey {
    uri: String,
    public: PublicKey,
    key: ObjectHandle,
    session: Mutex<Session>,
    _module: Pkcs11,
}

impl TokenKey {
    /// Opens the signing key `uri` names; `pin` and `default_module` are
    /// what the caller's configuration gives when the URI does not.
    pub fn open(
        uri: &Pkcs11Uri,
        pin_fallback: Option<Zeroizing<String>>,
        default_module: Option<&Path>,
    ) -> Result<TokenKey, TokenError> {
        let pin = pin(uri, pin_fallback)?;
        let (p11, _) = module(uri, default_module)?;
        let slot = slot(&p11, uri)?;
        let session = p11
            .open_ro_session(slot)
            .map_err(failed("opening a session"))?;
        login(&session, &pin)?;
        let key = one_object(&session, uri, ObjectClass::PRIVATE_KEY, "private key")?;
        let can_sign = session
            .get_attributes(key, &[AttributeType::Sign])
            .map_err(failed("reading the key"))?
            .into_iter()
            .any(|a| matches!(a, Attribute::Sign(true)));
        if !can_sign {
            return Err(TokenError::Key(format!(
                "{uri}: the token does not let this key sign (CKA_SIGN is false)"
            )));
        }
        let public_handle = one_object(&session, uri, ObjectClass::PUBLIC_KEY, "public key")?;
        let public = public_key(&session, public_handle)?;
        Ok(TokenKey {
            uri: uri.to_string(),
            public,
            key,
            session: Mutex::new(session),
            _module: p11,
        })
    }
}

impl ExternalKey for TokenKey {
    fn public_key(&self) -> PublicKey {
        self.public.clone()
    }

    fn sign(&self, message: &[u8]) -> Result<Vec<u8>, ExternalKeyError> {
        let session = self
            .session
            .lock()
            .map_err(|_| ExternalKeyError::retryable(TokenError::SessionBroken))?;
        let ecdsa = |digest: &[u8]| {
            session
                .sign(&Mechanism::Ecdsa, self.key, digest)
                .map_err(sign_failed)
        };
        let der = |rs: Vec<u8>, algorithm: KeyAlgorithm| -> Result<Vec<u8>, ExternalKeyError> {
            let wrong = || {
                ExternalKeyError::permanent(TokenError::Signature {
                    algorithm,
                    length: rs.len(),
                })
            };
            Ok(match algorithm {
                KeyAlgorithm::EcdsaP256 => p256::ecdsa::Signature::from_slice(&rs)
                    .map_err(|_| wrong())?
                    .to_der()
                    .as_bytes()
                    .to_vec(),
                KeyAlgorithm::EcdsaP384 => p384::ecdsa::Signature::from_slice(&rs)
                    .map_err(|_| wrong())?
                    .to_der()
                    .as_bytes()
                    .to_vec(),
                _ => p521::ecdsa::Signature::from_slice(&rs)
                    .map_err(|_| wrong())?
                    .to_der()
                    .as_bytes()
                    .to_vec(),
            })
        };
        match &self.public {
            PublicKey::Ed25519(_) => session
                .sign(
                    &Mechanism::Eddsa(EddsaParams::new(EddsaSignatureScheme::Pure)),
                    self.key,
                    message,
                )
                .map_err(sign_failed),
            PublicKey::P256(_) => der(ecdsa(&Sha256::digest(message))?, KeyAlgorithm::EcdsaP256),
            PublicKey::P384(_) => der(ecdsa(&Sha384::digest(message))?, KeyAlgorithm::EcdsaP384),
            PublicKey::P521(_) => der(ecdsa(&Sha512::digest(message))?, KeyAlgorithm::EcdsaP521),
        }
    }

    fn describe(&self) -> String {
        self.uri.clone()
    }
}

/// Generates a key pair of `algorithm` in the token `uri` names, with the
/// URI's label and id (a random 16-byte id when it gives none), stored on
/// the token (`CKA_TOKEN`), the private key sensitive and never
/// extractable, the public key object beside it. Refuses when an object
/// with that label or id exists. Returns the public key and the URI of the
/// new key.
pub fn generate(
    uri: &Pkcs11Uri,
    algorithm: KeyAlgorithm,
    pin_fallback: Option<Zeroizing<String>>,
    default_module: Option<&Path>,
) -> Result<(PublicKey, Pkcs11Uri), TokenError> {
    let label = uri
        .object
        .clone()
        .ok_or_else(|| TokenError::Uri("name the new key with object=LABEL".into()))?;
    let pin = pin(uri, pin_fallback)?;
    let (p11, _) = module(uri, default_module)?;
    let slot = slot(&p11, uri)?;
    let session = p11
        .open_rw_session(slot)
        .map_err(failed("opening a session"))?;
    login(&session, &pin)?;
    let id = match &uri.id {
        Some(id) => id.clone(),
        None => {
            let mut id = vec![0u8; 16];
            getrandom::fill(&mut id)
                .map_err(|e| TokenError::Failed(format!("drawing an id: {e}")))?;
            id
        }
    };
    for attr in [
        Attribute::Label(label.as_bytes().to_vec()),
        Attribute::Id(id.clone()),
    ] {
        let existing = session
            .find_objects(&[attr])
            .map_err(failed("looking for existing objects"))?;
        if !existing.is_empty() {
            return Err(TokenError::Key(format!(
                "the token already holds an object with this label or id: nothing was generated ({uri})"
            )));
        }
    }
    let (mechanism, params) = match algorithm {
        KeyAlgorithm::EcdsaP256 => (Mechanism::EccKeyPairGen, P256_PARAMS),
        KeyAlgorithm::EcdsaP384 => (Mechanism::EccKeyPairGen, P384_PARAMS),
        KeyAlgorithm::EcdsaP521 => (Mechanism::EccKeyPairGen, P521_PARAMS),
        KeyAlgorithm::Ed25519 => (Mechanism::EccEdwardsKeyPairGen, ED25519_NAME),
    };
    let common = [
        Attribute::Token(true),
        Attribute::Label(label.as_bytes().to_vec()),
        Attribute::Id(id.clone()),
    ];
    let public_template = [
        &common[..],
        &[
            Attribute::Private(false),
            Attribute::Verify(true),
            Attribute::EcParams(params.to_vec()),
        ],
    ]
    .concat();
    let private_template = [
        &common[..],
        &[
            Attribute::Private(true),
            Attribute::Sign(true),
            Attribute::Sensitive(true),
            Attribute::Extractable(false),
        ],
    ]
    .concat();
    let (public_handle, _) = session
        .generate_key_pair(&mechanism, &public_template, &private_template)
        .map_err(|e| TokenError::Failed(format!("generating the key pair ({algorithm}): {e}")))?;
    let public = public_key(&session, public_handle)?;
    let mut named = uri.clone();
    named.id = Some(id);
    named.pin_value = None;
    Ok((public, named))
}
