//! The scanner judges a file by what its loader would do: files that an
//! unpickler runs, polyglots, runs of pickles, NumPy headers read as NumPy
//! reads them, and zip archives read as Python's zipfile reads them. Every
//! file is built here byte by byte.

use crate::common::*;
use serde_json::Value;
use std::fs;
use std::io::Write;
use std::path::Path;

/// `os.system('id')` in protocol 0.
const SYSTEM: &[u8] = b"cos\nsystem\n(S'id'\ntR.";

fn inspect(path: &Path) -> (i32, Value) {
    let (code, out, err) = run(modelseal().args(["--format", "json", "inspect"]).arg(path));
    assert!(code == 0 || code == 1, "{err}");
    (
        code,
        serde_json::from_str(&out).unwrap_or_else(|e| panic!("{e}: {out}")),
    )
}

fn file_report(path: &Path) -> (i32, Value, Vec<String>) {
    let (code, report) = inspect(path);
    let file = report["files"][0].clone();
    let messages = file["findings"]
        .as_array()
        .unwrap()
        .iter()
        .map(|f| format!("{}: {}", f["severity"], f["message"]))
        .collect();
    (code, file, messages)
}

fn write(dir: &Path, name: &str, bytes: &[u8]) -> std::path::PathBuf {
    let path = dir.join(name);
    fs::write(&path, bytes).unwrap();
    path
}

#[test]
fn pickles_with_any_first_opcode_or_trailing_bytes_are_pickles() {
    let tmp = tempfile::tempdir().unwrap();
    let cases: [(&str, Vec<u8>); 4] = [
        ("unicode.bin", [&b"Vhello\n0"[..], SYSTEM].concat()),
        ("string.bin", [&b"S'x'\n0"[..], SYSTEM].concat()),
        ("int.bin", [&b"I42\n0"[..], SYSTEM].concat()),
        (
            "trailing.bin",
            [SYSTEM, &b"\n# just a README line after STOP\n"[..]].concat(),
        ),
    ];
    for (name, bytes) in cases {
        let path = write(tmp.path(), name, &bytes);
        let (code, file, messages) = file_report(&path);
        assert_eq!(code, 1, "{name}: {file}");
        assert_eq!(file["format"], "pickle", "{name}");
        assert!(
            messages.iter().any(|m| m.contains("calls os.system")),
            "{name}: {messages:?}"
        );
    }
}

#[test]
fn a_payload_later_in_a_run_of_pickles_is_found() {
    // Legacy PyTorch files are several pickles back to back, then raw data.
    let tmp = tempfile::tempdir().unwrap();
    let mut bytes = vec![
        0x80, 2, 0x8a, 0x0a, 0x6c, 0xfc, 0x9c, 0x46, 0xf9, 0x20, 0x6a, 0xa8, 0x50, 0x19, b'.',
    ];
    bytes.extend_from_slice(&[0x80, 2, b'M', 0xe9, 0x03, b'.']);
    bytes.extend_from_slice(SYSTEM);
    bytes.extend_from_slice(&[0x10, 0, 0, 0, 0, 0, 0, 0, 0xde, 0xad]);
    let path = write(tmp.path(), "legacy.bin", &bytes);
    let (code, file, messages) = file_report(&path);
    assert_eq!(code, 1, "{file}");
    assert_eq!(file["format"], "pickle");
    assert!(
        messages.iter().any(|m| m.contains("calls os.system")),
        "{messages:?}"
    );
}

#[test]
fn a_gguf_magic_does_not_hide_a_pickle() {
    // 'G' (BINFLOAT) swallows "GUF", the version and one byte; the rest runs.
    let tmp = tempfile::tempdir().unwrap();
    let mut bytes = b"GGUF\x03\x00\x00\x00\x00".to_vec();
    bytes.extend_from_slice(SYSTEM);
    bytes.extend_from_slice(&[0u8; 64]);
    let path = write(tmp.path(), "model.gguf", &bytes);
    let (code, file, messages) = file_report(&path);
    assert_eq!(code, 1, "{file}");
    assert_eq!(file["format"], "pickle");
    assert!(
        messages.iter().any(|m| m.contains("os.system")),
        "{messages:?}"
    );
    assert!(
        messages.iter().any(|m| m.contains("polyglot")),
        "{messages:?}"
    );
}

#[test]
fn a_gguf_is_gguf_only_when_its_tables_parse() {
    let tmp = tempfile::tempdir().unwrap();
    // Magic, version 3, one tensor, no metadata, then nothing: the tensor
    // table is missing.
    let mut bytes = b"GGUF".to_vec();
    bytes.extend_from_slice(&3u32.to_le_bytes());
    bytes.extend_from_slice(&1u64.to_le_bytes());
    bytes.extend_from_slice(&0u64.to_le_bytes());
    let path = write(tmp.path(), "short.gguf", &bytes);
    let (code, file, _) = file_report(&path);
    assert_eq!(code, 1, "{file}");
}

/// A zip whose first local header is also a pickle: 'P' (PERSID) reads up
/// to the newline in the member name, then the name carries the payload.
fn zip_pickle_polyglot() -> Vec<u8> {
    let name = [&b"a\n"[..], SYSTEM].concat();
    let mut local = b"PK\x03\x04\x14\x00\x00\x00\x00\x00\x00\x00\x00\x00".to_vec();
    local.extend_from_slice(&[0u8; 12]); // crc, sizes: an empty member
    local.extend_from_slice(&(name.len() as u16).to_le_bytes());
    local.extend_from_slice(&0u16.to_le_bytes());
    local.extend_from_slice(&name);
    let mut central = b"PK\x01\x02\x14\x00\x14\x00\x00\x00\x00\x00\x00\x00\x00\x00".to_vec();
    central.extend_from_slice(&[0u8; 12]);
    central.extend_from_slice(&(name.len() as u16).to_le_bytes());
    central.extend_from_slice(&[0u8; 12]); // extra, comment, disk, attributes
    central.extend_from_slice(&0u32.to_le_bytes()); // local header offset
    central.extend_from_slice(&name);
    let mut end = b"PK\x05\x06\x00\x00\x00\x00\x01\x00\x01\x00".to_vec();
    end.extend_from_slice(&(central.len() as u32).to_le_bytes());
    end.extend_from_slice(&(local.len() as u32).to_le_bytes());
    end.extend_from_slice(&0u16.to_le_bytes());
    [local, central, end].concat()
}

#[test]
fn a_zip_that_is_also_a_pickle_is_refused() {
    let tmp = tempfile::tempdir().unwrap();
    let path = write(tmp.path(), "archive.zip", &zip_pickle_polyglot());
    let (code, file, messages) = file_report(&path);
    assert_eq!(code, 1, "{file}");
    assert_eq!(file["format"], "pickle");
    assert!(
        messages.iter().any(|m| m.contains("os.system")),
        "{messages:?}"
    );
}

fn zip_bytes(members: &[(&str, &[u8])]) -> Vec<u8> {
    let mut zip = zip::ZipWriter::new(std::io::Cursor::new(Vec::new()));
    let options =
        zip::write::SimpleFileOptions::default().compression_method(zip::CompressionMethod::Stored);
    for (name, bytes) in members {
        zip.start_file(*name, options).unwrap();
        zip.write_all(bytes).unwrap();
    }
    zip.finish().unwrap().into_inner()
}

#[test]
fn a_zip_behind_other_bytes_is_ambiguous() {
    // Python's zipfile finds this archive from its end and opens it; a file
    // that is something else at its start and a zip at its end is refused.
    let tmp = tempfile::tempdir().unwrap();
    let payload = [&[0x80, 2][..], SYSTEM].concat();
    let inner = zip_bytes(&[("archive/data.pkl", &payload), ("archive/version", b"3\n")]);
    let mut bytes = b"plain text that is not a pickle\n".to_vec();
    bytes.extend_from_slice(&inner);
    let path = write(tmp.path(), "notes.txt", &bytes);
    let (code, file, messages) = file_report(&path);
    assert_eq!(code, 1, "{file}");
    assert!(
        messages.iter().any(|m| m.contains("ambiguous zip")),
        "{messages:?}"
    );
}

#[test]
fn a_zip_whose_directory_disagrees_with_its_members_is_ambiguous() {
    let tmp = tempfile::tempdir().unwrap();
    let mut bytes = zip_bytes(&[("weights.bin", &[1, 2, 3, 4]), ("data.pkl", SYSTEM)]);
    // Rename the first member in its local header only.
    let at = bytes.windows(11).position(|w| w == b"weights.bin").unwrap();
    bytes[at..at + 7].copy_from_slice(b"WEIGHTS");
    let path = write(tmp.path(), "model.pt", &bytes);
    let (code, file, messages) = file_report(&path);
    assert_eq!(code, 1, "{file}");
    assert!(
        messages.iter().any(|m| m.contains("ambiguous zip")),
        "{messages:?}"
    );
}

fn npy(header: &str) -> Vec<u8> {
    let mut h = header.to_string();
    while !(10 + h.len() + 1).is_multiple_of(64) {
        h.push(' ');
    }
    h.push('\n');
    let mut b = b"\x93NUMPY\x01\x00".to_vec();
    b.extend_from_slice(&(h.len() as u16).to_le_bytes());
    b.extend_from_slice(h.as_bytes());
    b.extend_from_slice(&[0u8; 16]);
    b
}

#[test]
fn npy_headers_are_read_as_numpy_reads_them() {
    let tmp = tempfile::tempdir().unwrap();
    let refused = [
        // A repeated key: Python keeps the last one.
        "{'descr': '<f8', 'fortran_order': False, 'shape': (2,), 'descr': '|O', }",
        // The type named in full.
        "{'descr': 'object', 'fortran_order': False, 'shape': (2,), }",
        // Objects inside a nested structured type.
        "{'descr': [('a', '<i4'), ('b', [('c', '|O')])], 'fortran_order': False, 'shape': (1,), }",
        // A comma-separated type string with an object field.
        "{'descr': 'i4,O', 'fortran_order': False, 'shape': (1,), }",
    ];
    for (i, header) in refused.iter().enumerate() {
        let path = write(tmp.path(), &format!("r{i}.npy"), &npy(header));
        let (code, file, _) = file_report(&path);
        assert_eq!(code, 1, "{header}: {file}");
    }
    let fine =
        "{'descr': [('a', '<i4'), ('Object', '<f8')], 'fortran_order': False, 'shape': (1,), }";
    let path = write(tmp.path(), "fine.npy", &npy(fine));
    let (code, file, _) = file_report(&path);
    assert_eq!(code, 0, "{file}");
    assert_eq!(file["format"], "numpy");
}

#[test]
fn safetensors_whose_length_also_unpickles_to_a_plain_value_stay_safetensors() {
    // A header of 0x2e4e bytes starts the file with "N." (None, STOP): an
    // unpickler returns None and imports nothing, so the file is judged as
    // the safetensors file it also is.
    let tmp = tempfile::tempdir().unwrap();
    let mut header = r#"{"a":{"dtype":"F32","shape":[2],"data_offsets":[0,8]}}"#.to_string();
    while header.len() < 0x2e4e {
        header.push(' ');
    }
    let mut bytes = (header.len() as u64).to_le_bytes().to_vec();
    assert_eq!(&bytes[..2], b"N.");
    bytes.extend_from_slice(header.as_bytes());
    bytes.extend_from_slice(&[0u8; 8]);
    let path = write(tmp.path(), "model.safetensors", &bytes);
    let (code, file, messages) = file_report(&path);
    assert_eq!(code, 0, "{file}");
    assert_eq!(file["format"], "safetensors");
    assert!(
        messages.iter().any(|m| m.contains("unpickle")),
        "{messages:?}"
    );
}
