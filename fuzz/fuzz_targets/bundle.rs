//! Bundle JSON and the signed statement inside it: parse anything, never panic.
#![no_main]

use libfuzzer_sys::fuzz_target;

fuzz_target!(|data: &[u8]| {
    if let Ok(bundle) = modelseal::bundle::Bundle::from_slice(data)
        && let Some(envelope) = &bundle.dsse_envelope
        && let Ok(payload) = envelope.payload_bytes()
    {
        let _ = modelseal::bundle::parse_statement(&payload);
    }
    let _ = modelseal::bundle::parse_statement(data);
});
