//! The pickle scanner on arbitrary bytes: never panic, always terminate.
#![no_main]

use libfuzzer_sys::fuzz_target;

fuzz_target!(|data: &[u8]| {
    let scan = modelseal::formats::pickle::scan(data);
    // Whatever it found is self-consistent.
    for g in &scan.globals {
        assert_eq!(g.verdict, modelseal::formats::pickle::classify(&g.name));
    }
    let _ = modelseal::formats::pickle::looks_like(data);
});
