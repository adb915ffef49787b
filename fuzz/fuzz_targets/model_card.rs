//! Model-card front matter (YAML), NumPy headers and GGUF tables on
//! arbitrary bytes: never panic, never hang.
#![no_main]

use libfuzzer_sys::fuzz_target;

fuzz_target!(|data: &[u8]| {
    let _ = modelseal::fuzz::front_matter(data);
    let _ = modelseal::fuzz::parse_npy(data);
    let mut g = modelseal::fuzz::GgufStream::new();
    g.update(data);
    let _ = g.finish();
});
