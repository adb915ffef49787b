//! The signature container: a Sigstore bundle (v0.3 written; v0.1-v0.3 read)
//! holding a DSSE envelope whose payload is an in-toto Statement v1 with the
//! OMS predicate.

mod dsse;
mod sigstore;
pub(crate) use sigstore::one_content;
mod statement;
mod statement_parse;
mod write;

pub use dsse::{
    Envelope, EnvelopeSignature, IN_TOTO_PAYLOAD_TYPE, PayloadNotBase64, SignedPayload, pae,
    pae_legacy,
};
pub use sigstore::{
    BUNDLE_V03_MEDIA_TYPE, Bundle, BundleView, CertificateChain, EnvelopeView, MAX_BUNDLE_SIZE,
    MAX_CERTIFICATES, MAX_SIGNATURES, MAX_TLOG_ENTRIES, PublicKeyIdentifier, RawCertificate,
    RawJson, VerificationMaterial, read_bundle,
};
pub use statement::{
    ManifestStatement, OMS_PREDICATE_TYPE, OMS_V01_PREDICATE_TYPE, ParsedStatement, STATEMENT_TYPE,
    Statement, StatementProblem, Subject, claimed_subject, parse_statement,
};
pub use write::write_bundle_json;
