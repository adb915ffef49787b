//! The integration tests, built as one binary (`autotests = false` in
//! Cargo.toml): each file beside this one is a module, and `common` holds
//! the helpers they share, compiled once.
#![allow(clippy::disallowed_macros)] // tests print what they ran

mod common;

mod bom;
mod cli;
mod evidence;
mod file_arguments;
mod formats;
mod hf_cache;
mod interop;
mod library;
mod oscal_trestle;
mod policy;
mod python_reference;
mod remote;
mod schema;
mod sigstore;
mod tamper;
