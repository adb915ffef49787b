//! PEM key parsing (PKCS#8, SEC1, SPKI): parse anything, never panic.
#![no_main]

use libfuzzer_sys::fuzz_target;
use std::path::Path;

fuzz_target!(|data: &[u8]| {
    if let Ok(text) = std::str::from_utf8(data) {
        let _ = modelseal::keys::parse_public_key(Path::new("fuzz"), text);
        let _ = modelseal::keys::parse_private_key(Path::new("fuzz"), text);
        let _ = modelseal::keys::pem_blocks(text);
    }
});
