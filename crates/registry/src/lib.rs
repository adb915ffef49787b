//! modelseal-registry: models and signatures that live elsewhere. Remote
//! inputs over HTTPS ([`read_input`], [`fetch()`]) and models in OCI
//! registries ([`oci::OciSource`], a [`modelseal_core::source::ModelSource`]):
//! modelseal's own capped client on blocking reqwest over rustls, Docker
//! config credentials, gzip tar layers.
#![forbid(unsafe_code)]
#![warn(missing_docs)]

// The crate this one builds on, under the names its paths use.
use modelseal_core::{Error, Result, digest, fetch, formats, json, source};

mod http;
pub mod oci;
pub mod tsa;

pub use http::{fetch, is_url, read_input, set_timeout, timeout};
pub use oci::{OciError, OciSource};

impl From<OciError> for Error {
    fn from(e: OciError) -> Self {
        Error::Source {
            retryable: e.is_retryable(),
            source: Box::new(e),
        }
    }
}
