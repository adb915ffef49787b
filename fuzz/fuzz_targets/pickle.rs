//! The pickle scanner on arbitrary bytes: never panic, always terminate,
//! reach the same verdict whatever the chunking, stay within its memory.
#![no_main]

use libfuzzer_sys::fuzz_target;
use modelseal::formats::pickle::{PickleStream, classify, scan};

fuzz_target!(|data: &[u8]| {
    let whole = scan(data);
    for g in &whole.globals {
        assert_eq!(g.verdict, classify(&g.name));
    }
    assert!(whole.end <= data.len() as u64);
    assert!(whole.peak_bytes < 64 << 20);
    // Split where the first byte says, and byte by byte for short inputs.
    let cut = data.first().map_or(0, |b| *b as usize % (data.len() + 1));
    let mut split = PickleStream::new();
    split.update(&data[..cut]);
    split.update(&data[cut..]);
    let mut split = split.finish();
    split.peak_bytes = whole.peak_bytes;
    assert_eq!(split, whole);
    if data.len() <= 256 {
        let mut bytewise = PickleStream::new();
        for b in data {
            bytewise.update(std::slice::from_ref(b));
        }
        let mut bytewise = bytewise.finish();
        bytewise.peak_bytes = whole.peak_bytes;
        assert_eq!(bytewise, whole);
    }
});
