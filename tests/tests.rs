//! The integration tests, built as one binary (`autotests = false` in
//! Cargo.toml): each file beside this one is a module, and `common` holds
//! the helpers they share, compiled once.

mod common;

mod bom;
mod cli;
mod evidence;
mod evidence_log;
#[cfg(feature = "postgres")]
mod evidence_postgres;
mod file_arguments;
mod formats;
mod interop;
mod oscal_trestle;
mod policy;
mod python_reference;
mod remote;
mod schema;
mod sigstore;
mod tamper;
