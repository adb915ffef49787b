//! modelseal-core: the verifier core of modelseal. Walking and hashing a
//! model, reading its files' formats, keys, OMS bundles, signing, verifying,
//! ML-BOMs and the deploy policy, all from local bytes: this crate makes no
//! network request, opens no database and starts no async runtime. Models in
//! registries come through the [`source::ModelSource`] trait (implemented
//! for registries by `modelseal-registry`); evidence and audits are the
//! `modelseal-evidence` and `modelseal-audit` crates.
//!
//! Data flows one way: [`verify`] uses [`bundle`], [`digest`] and [`keys`];
//! nothing here prints or exits.
//!
//! ```no_run
//! use modelseal_core::digest::{HashOptions, hash_model};
//! let manifest = hash_model(std::path::Path::new("my-model"), &HashOptions::default())?;
//! println!("{}", manifest.root_digest_hex());
//! # Ok::<(), modelseal_core::Error>(())
//! ```
#![forbid(unsafe_code)]
#![warn(missing_docs)]

pub mod bom;
pub mod bundle;
pub mod clock;
pub mod digest;
mod error;
pub mod fetch;
pub mod formats;
pub mod json;
pub mod keys;
pub mod policy;
pub mod sign;
pub mod sigstore;
pub mod source;
pub mod timestamp;
pub mod verify;

pub use error::{Error, ErrorClass, Result};

/// The parsers of untrusted input that only the fuzz targets call directly,
/// present when built with `--cfg fuzzing` (as cargo-fuzz builds). Users of
/// the library reach these parsers through [`formats::Sniffer`],
/// [`formats::inspect_file`] and the verify pipeline.
#[cfg(fuzzing)]
pub mod fuzz {
    pub use crate::bom::card::front_matter;
    pub use crate::formats::gguf::GgufStream;
    pub use crate::formats::npy::{NpyStream, parse as parse_npy};
    pub use crate::formats::pickle::{PickleStream, classify, scan};
    pub use crate::formats::safetensors::{SafetensorsStream, looks_like, read_header};
    pub use crate::verify::chain::validate as validate_chain;
}

/// The version of modelseal, as recorded in evidence and reports.
pub const VERSION: &str = env!("CARGO_PKG_VERSION");
