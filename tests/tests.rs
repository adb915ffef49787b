//! The integration tests, built as one binary (`autotests = false` in
//! Cargo.toml): each file beside this one is a module, and `common` holds
//! the helpers they share, compiled once.
#![allow(clippy::disallowed_macros)] // tests print what they ran

mod common;

mod audit;
mod bom;
mod bom_check;
mod cli;
mod evidence;
mod evidence_log;
#[cfg(feature = "postgres")]
mod evidence_postgres;
mod file_arguments;
mod formats;
mod hf_cache;
mod interop;
#[cfg(feature = "oci")]
mod layers;
mod library;
mod loaders;
#[cfg(feature = "oci")]
mod oci;
mod oscal_trestle;
mod pkcs11;
mod policy;
mod python_reference;
mod remote;
mod scanner_rules;
mod scenarios;
mod schema;
#[cfg(feature = "serve")]
mod serve;
mod sigstore;
mod snapshots;
mod tamper;
mod timestamp;
mod witness;
