//! X.509 path validation on arbitrary DER: the first half of the input is the
//! leaf, the second the anchor. Never panic.
#![no_main]

use libfuzzer_sys::fuzz_target;

fuzz_target!(|data: &[u8]| {
    let (leaf, anchor) = data.split_at(data.len() / 2);
    let _ = modelseal::fuzz::validate_chain(
        &[leaf.to_vec()],
        &[anchor.to_vec()],
        std::time::SystemTime::now(),
    );
});
