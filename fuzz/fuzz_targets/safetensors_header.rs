//! The safetensors header validator on arbitrary files: never panic, and
//! never accept a header whose tensors do not exactly fill the data.
#![no_main]

use libfuzzer_sys::fuzz_target;
use std::io::Write;

fuzz_target!(|data: &[u8]| {
    let mut file = tempfile_in_memory();
    file.write_all(data).unwrap();
    let path = file.path().to_path_buf();
    let from_file = modelseal::formats::safetensors::read_header(&path);
    if let Ok(facts) = &from_file {
        assert!(facts.header_bytes + 8 <= data.len() as u64);
    }
    // The streamed reader (what the sniffer uses) agrees with the file reader.
    let mut stream = modelseal::formats::safetensors::SafetensorsStream::default();
    for c in data.chunks(5) {
        stream.update(c);
    }
    assert_eq!(stream.finish().ok(), from_file.ok());
    let _ = modelseal::formats::safetensors::looks_like(&path);
});

/// A named temporary file under /dev/shm when present (fast), else /tmp.
fn tempfile_in_memory() -> NamedFile {
    let dir = if std::path::Path::new("/dev/shm").is_dir() {
        "/dev/shm"
    } else {
        "/tmp"
    };
    let path = std::path::PathBuf::from(dir).join(format!("modelseal-fuzz-{}", std::process::id()));
    NamedFile {
        file: std::fs::File::create(&path).unwrap(),
        path,
    }
}

struct NamedFile {
    file: std::fs::File,
    path: std::path::PathBuf,
}

impl NamedFile {
    fn path(&self) -> &std::path::Path {
        &self.path
    }
}

impl Write for NamedFile {
    fn write(&mut self, buf: &[u8]) -> std::io::Result<usize> {
        self.file.write(buf)
    }
    fn flush(&mut self) -> std::io::Result<()> {
        self.file.flush()
    }
}
