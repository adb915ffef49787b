//! The signature container: a Sigstore bundle (v0.3 written; v0.1-v0.3 read)
//! holding a DSSE envelope whose payload is an in-toto Statement v1 with the
//! OMS predicate.

mod dsse;
mod sigstore;
mod statement;

pub use dsse::{Envelope, EnvelopeSignature, IN_TOTO_PAYLOAD_TYPE, pae, pae_legacy};
pub use sigstore::{
    BUNDLE_V03_MEDIA_TYPE, Bundle, CertificateChain, MAX_BUNDLE_SIZE, PublicKeyIdentifier,
    RawCertificate, VerificationMaterial, read_bundle,
};
pub use statement::{
    OMS_PREDICATE_TYPE, OMS_V01_PREDICATE_TYPE, ParsedStatement, STATEMENT_TYPE, Statement,
    StatementProblem, Subject, parse_statement,
};
