//! Evidence log lines and signed-note checkpoints: never panic, never accept
//! a record or checkpoint not signed by the key.
#![no_main]

use libfuzzer_sys::fuzz_target;

fuzz_target!(|data: &[u8]| {
    let key = ed25519_dalek::SigningKey::from_bytes(&[1u8; 32]).verifying_key();
    assert!(modelseal::evidence::record::open(0, data, &key).is_err());
    if let Ok(text) = std::str::from_utf8(data) {
        let _ = modelseal::evidence::fuzz::open_checkpoint(text, "modelseal/evidence/fuzz", &key);
    }
});
