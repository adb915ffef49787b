//! NumPy headers (the Python-literal reader and the dtype judgement) on
//! arbitrary bytes: never panic, and the streamed header reader agrees
//! with reading the whole header at once.
#![no_main]

use libfuzzer_sys::fuzz_target;
use modelseal::formats::npy::{NpyStream, parse};

fuzz_target!(|data: &[u8]| {
    // A valid magic and version in front of most inputs, so the fuzzer
    // spends its time in the header dictionary.
    let mut file = b"\x93NUMPY\x01\x00".to_vec();
    let body = data.get(1..).unwrap_or(&[]);
    if data.first().is_some_and(|b| b & 1 == 1) {
        file.extend_from_slice(&(body.len().min(0xffff) as u16).to_le_bytes());
        file.extend_from_slice(body);
    } else {
        file = data.to_vec();
    }
    let whole = parse(&file);
    let mut s = NpyStream::default();
    for c in file.chunks(7) {
        s.update(c);
    }
    let streamed = s.finish();
    match (&whole, &streamed) {
        (Ok(a), Ok(b)) => assert_eq!(a, b),
        (Err(_), Err(_)) => {}
        _ => panic!("{whole:?} / {streamed:?}"),
    }
});
