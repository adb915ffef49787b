//! An RFC 3161 time-stamping client: `POST` of a `TimeStampReq` for SHA-256
//! of the bytes to stamp, with a fresh nonce, to the TSA's URL (https, or
//! plain http on loopback); the answer is capped, and checked against the
//! trusted TSA chain when one is given.

use crate::http::{allowed, client_builder, read_body, timeout};
use modelseal_core::timestamp::{self, MAX_TOKEN, Stamped};
use modelseal_core::{Error, Result};

/// A TSA and the certificates its stamps must chain to.
#[derive(Debug, Clone)]
pub struct Tsa {
    /// The TSA's URL.
    pub url: String,
    /// Trust anchors (DER); when empty, stamps are taken unchecked (their
    /// verifier checks them).
    pub anchors: Vec<Vec<u8>>,
}

impl Tsa {
    /// Stamps `message`: the token (DER), and what it was checked to say
    /// when the TSA has anchors (at the verifying clock `now`).
    pub fn stamp(
        &self,
        message: &[u8],
        now: jiff::Timestamp,
    ) -> Result<(Vec<u8>, Option<Stamped>)> {
        let url = reqwest::Url::parse(&self.url)
            .map_err(|e| Error::Usage(format!("{}: not a valid URL: {e}", self.url)))?;
        if !allowed(&url) {
            return Err(Error::Remote(format!(
                "{}: refused: a TSA is called over https (plain http only on loopback)",
                self.url
            )));
        }
        let mut nonce = [0u8; 8];
        getrandom::fill(&mut nonce)
            .map_err(|e| Error::Remote(format!("cannot draw a nonce: {e}")))?;
        let nonce = u64::from_be_bytes(nonce) >> 1;
        let limit = timeout();
        let client = client_builder(limit, reqwest::redirect::Policy::none())
            .build()
            .map_err(|e| Error::Remote(format!("cannot set up the HTTP client: {e}")))?;
        let response = client
            .post(url)
            .header("Content-Type", "application/timestamp-query")
            .body(timestamp::request(message, nonce))
            .send()
            .map_err(|e| Error::Unavailable(format!("{}: {e}", self.url)))?;
        if !response.status().is_success() {
            return Err(Error::Remote(format!(
                "{}: the TSA answered HTTP {}",
                self.url,
                response.status().as_u16()
            )));
        }
        let body = read_body(
            response,
            MAX_TOKEN as u64,
            std::time::Instant::now() + limit,
        )
        .map_err(|e| Error::Unavailable(format!("{}: {e}", self.url)))?;
        if body.len() > MAX_TOKEN {
            return Err(Error::Remote(format!(
                "{}: an answer over 64 KiB",
                self.url
            )));
        }
        let token = timestamp::token_from_response(&body)
            .map_err(|e| Error::Remote(format!("{}: {e}", self.url)))?;
        let checked = if self.anchors.is_empty() {
            timestamp::check_unanchored(&token, message, nonce)
                .map_err(|e| Error::Remote(format!("{}: {e}", self.url)))?;
            None
        } else {
            Some(
                timestamp::verify(&token, message, &self.anchors, Some(nonce), now)
                    .map_err(|e| Error::Remote(format!("{}: {e}", self.url)))?,
            )
        };
        Ok((token, checked))
    }
}
