//! modelseal: sign ML models and datasets in the OpenSSF Model Signing (OMS)
//! format, verify them before deployment, and keep the evidence.
//!
//! This crate is the facade an embedder depends on, and the home of the
//! deploy [`gate`] that ties the others together. The work is done by a
//! workspace of crates whose dependencies run one way:
//!
//! | crate | what | re-exported here as |
//! |---|---|---|
//! | `modelseal-core` | walking and hashing, formats, keys, bundles, sign, verify, BOMs, the policy; no network, database or async runtime | [`digest`], [`formats`], [`keys`], [`bundle`], [`sign`], [`verify`], [`bom`], [`policy`], [`source`], ... |
//! | `modelseal-registry` | remote inputs over HTTPS and models in OCI registries | [`registry`] (feature `oci`) |
//! | `modelseal-evidence` | sealed records, the file log and the PostgreSQL store | [`evidence`] |
//! | `modelseal-audit` | the checklist and the audit reports | [`audit`] |
//!
//! ```no_run
//! use modelseal::digest::{HashOptions, hash_model};
//! let manifest = hash_model(std::path::Path::new("my-model"), &HashOptions::default())?;
//! println!("{}", manifest.root_digest_hex());
//! # Ok::<(), modelseal::Error>(())
//! ```
#![forbid(unsafe_code)]
#![warn(missing_docs)]

pub use modelseal_core::{
    Error, ErrorClass, Result, VERSION, bom, bundle, clock, digest, fetch, formats, json, keys,
    policy, sign, sigstore, source, timestamp, verify,
};

/// The audit: the checklist, evaluated against a checked evidence log, and
/// its reports (the `modelseal-audit` crate).
pub use modelseal_audit as audit;
/// Audit evidence: sealed records in a tamper-evident log (the
/// `modelseal-evidence` crate).
pub use modelseal_evidence as evidence;
/// Keys in PKCS#11 tokens (the `modelseal-pkcs11` crate).
#[cfg(feature = "pkcs11")]
pub use modelseal_pkcs11 as pkcs11;
/// Remote inputs and models in OCI registries (the `modelseal-registry`
/// crate).
#[cfg(feature = "oci")]
pub use modelseal_registry as registry;
/// Witnessed evidence checkpoints: C2SP tlog-witness, tlog-policy and
/// tlog-cosignature (the `modelseal-witness` crate).
#[cfg(feature = "witness")]
pub use modelseal_witness as witness;

pub mod auditing;
pub mod export;
pub mod gate;
#[cfg(feature = "keyless-sign")]
pub mod keyless;
pub mod model;
pub mod release;
#[cfg(feature = "serve")]
pub mod serve;
pub mod staged;
#[cfg(all(feature = "witness", feature = "remote"))]
pub mod witnessing;

/// Reads `source`, a file or (with the `remote` feature) an https:// URL,
/// of `kind` (at most its cap). Without the feature a URL is refused.
pub fn read_input(source: &std::path::Path, kind: fetch::InputKind) -> Result<Vec<u8>> {
    #[cfg(feature = "remote")]
    {
        registry::read_input(source, kind)
    }
    #[cfg(not(feature = "remote"))]
    match source.to_str() {
        Some(s) if fetch::is_url(s) => Err(Error::Remote(format!(
            "{s}: this modelseal was built without remote inputs (cargo feature remote)"
        ))),
        _ => Ok(fetch::read_file(source, kind)?),
    }
}

/// The parsers of untrusted input that only the fuzz targets call directly.
#[cfg(fuzzing)]
pub use modelseal_core::fuzz;
