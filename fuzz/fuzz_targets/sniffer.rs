//! The format sniffer as a whole: bytes in, verdict out. Never panic, and
//! the verdict is the same whether the file arrives at once or in pieces
//! of any size (the pieces are chosen by the input's last bytes).
#![no_main]

use libfuzzer_sys::fuzz_target;
use modelseal::formats::{Sniffer, inspect_bytes};

fuzz_target!(|input: &[u8]| {
    // The last 4 bytes choose chunk sizes; the rest is the file.
    let (data, sizes) = input.split_at(input.len().saturating_sub(4));
    let whole = inspect_bytes("f", data);
    let mut s = Sniffer::new("f");
    let mut rest = data;
    let mut i = 0;
    while !rest.is_empty() {
        let n = (sizes.get(i % sizes.len().max(1)).copied().unwrap_or(1) as usize)
            .clamp(1, rest.len());
        s.update(&rest[..n]);
        rest = &rest[n..];
        i += 1;
    }
    assert_eq!(s.finish(), whole);
});
