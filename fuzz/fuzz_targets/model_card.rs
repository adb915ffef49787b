//! Model-card front matter (YAML), NumPy headers and GGUF tables on
//! arbitrary bytes: never panic, never hang.
#![no_main]

use libfuzzer_sys::fuzz_target;

fuzz_target!(|data: &[u8]| {
    let _ = modelseal::bom::front_matter(data);
    let _ = modelseal::formats::npy::parse(data);
    let mut g = modelseal::formats::gguf::GgufStream::new();
    g.update(data);
    let _ = g.finish();
});
