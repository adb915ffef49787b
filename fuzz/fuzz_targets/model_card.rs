//! Model-card front matter (YAML), NumPy headers and protobuf sniffing on
//! arbitrary bytes: never panic, never hang.
#![no_main]

use libfuzzer_sys::fuzz_target;

fuzz_target!(|data: &[u8]| {
    let _ = modelseal::bom::front_matter(data);
    let _ = modelseal::formats::sniff::npy(data);
    let _ = modelseal::formats::sniff::gguf(data);
});
