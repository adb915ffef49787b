//! Recognising formats by their first bytes: GGUF, ONNX (a protobuf
//! ModelProto), TensorFlow SavedModel protobufs, NumPy `.npy`, HDF5.

use serde_json::{Value, json};
use std::io::{BufReader, Read, Seek, SeekFrom};
use std::path::Path;

/// GGUF: magic, version 1 to 3, tensor and metadata counts.
pub fn gguf(head: &[u8]) -> Option<Value> {
    if head.len() < 8 || &head[..4] != b"GGUF" {
        return None;
    }
    let version = u32::from_le_bytes(head[4..8].try_into().ok()?);
    if !(1..=3).contains(&version) {
        return None;
    }
    let mut facts = json!({ "version": version });
    if version >= 2 && head.len() >= 24 {
        facts["tensors"] = u64::from_le_bytes(head[8..16].try_into().ok()?).into();
        facts["metadata_entries"] = u64::from_le_bytes(head[16..24].try_into().ok()?).into();
    }
    Some(facts)
}

/// HDF5 superblock signature at the start.
pub fn hdf5(head: &[u8]) -> bool {
    head.starts_with(b"\x89HDF\r\n\x1a\n")
}

/// The kind of a top-level protobuf message, from its field numbers.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Protobuf {
    /// An ONNX ModelProto (has a graph, field 7).
    Onnx,
    /// A TensorFlow SavedModel (schema version and meta graphs only).
    SavedModel,
}

fn varint(r: &mut impl Read) -> Option<u64> {
    let mut value = 0u64;
    for shift in (0..64).step_by(7) {
        let mut b = [0u8; 1];
        r.read_exact(&mut b).ok()?;
        value |= u64::from(b[0] & 0x7f) << shift;
        if b[0] & 0x80 == 0 {
            return Some(value);
        }
    }
    None
}

/// Walks the top-level fields of a protobuf file (skipping over field
/// contents, so large files are not read) and says which model it is.
pub fn protobuf(path: &Path) -> Option<Protobuf> {
    let file = std::fs::File::open(path).ok()?;
    let len = file.metadata().ok()?.len();
    let mut r = BufReader::new(file);
    let mut fields = std::collections::BTreeSet::new();
    let mut pos = 0u64;
    let mut count = 0;
    while pos < len {
        count += 1;
        if count > 100_000 {
            return None;
        }
        let tag = varint(&mut r)?;
        let (field, wire) = (tag >> 3, tag & 7);
        if field == 0 || field > 64 {
            return None;
        }
        match wire {
            0 => {
                varint(&mut r)?;
            }
            1 => {
                r.seek_relative(8).ok()?;
            }
            2 => {
                let n = varint(&mut r)?;
                let n = i64::try_from(n).ok()?;
                r.seek_relative(n).ok()?;
            }
            5 => {
                r.seek_relative(4).ok()?;
            }
            _ => return None,
        }
        pos = r.stream_position().ok()?;
        fields.insert(field);
    }
    if pos != len {
        return None;
    }
    let onnx_fields = [1, 2, 3, 4, 5, 6, 7, 8, 14, 20, 25, 26];
    if fields.contains(&7) && fields.iter().all(|f| onnx_fields.contains(f)) {
        Some(Protobuf::Onnx)
    } else if fields.contains(&2) && fields.iter().all(|f| *f == 1 || *f == 2) {
        Some(Protobuf::SavedModel)
    } else {
        None
    }
}

/// A parsed `.npy` header.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct NpyHeader {
    /// The `descr` entry as written.
    pub descr: String,
    /// Whether the dtype holds Python objects (loading them needs pickle).
    pub object: bool,
    /// The header dictionary text.
    pub header: String,
}

/// Reads an `.npy` header from the start of `data`.
pub fn npy(data: &[u8]) -> Option<Result<NpyHeader, String>> {
    if !data.starts_with(b"\x93NUMPY") {
        return None;
    }
    Some(npy_header(data))
}

fn npy_header(data: &[u8]) -> Result<NpyHeader, String> {
    let major = *data.get(6).ok_or("truncated .npy header")?;
    let (len, start) = match major {
        1 => (
            u16::from_le_bytes([
                data.get(8).copied().ok_or("truncated")?,
                data.get(9).copied().ok_or("truncated")?,
            ]) as usize,
            10,
        ),
        2 | 3 => {
            let b: [u8; 4] = data
                .get(8..12)
                .ok_or("truncated .npy header")?
                .try_into()
                .map_err(|_| "truncated")?;
            (u32::from_le_bytes(b) as usize, 12)
        }
        v => return Err(format!("unknown .npy version {v}")),
    };
    let header = data
        .get(start..start + len)
        .ok_or("the .npy header runs past the data read")?;
    let header = String::from_utf8_lossy(header).into_owned();
    let at = header
        .find("'descr':")
        .ok_or("the .npy header has no 'descr'")?;
    let rest = header[at + 8..].trim_start();
    let descr = if rest.starts_with('[') {
        let end = matching_bracket(rest).ok_or("unterminated structured descr")?;
        rest[..=end].to_string()
    } else {
        let quote = rest.chars().next().ok_or("empty descr")?;
        let body = &rest[1..];
        let end = body.find(quote).ok_or("unterminated descr")?;
        body[..end].to_string()
    };
    let object = descr_has_object(&descr);
    Ok(NpyHeader {
        descr,
        object,
        header,
    })
}

fn matching_bracket(s: &str) -> Option<usize> {
    let mut depth = 0i32;
    for (i, c) in s.char_indices() {
        match c {
            '[' | '(' => depth += 1,
            ']' | ')' => {
                depth -= 1;
                if depth == 0 {
                    return Some(i);
                }
            }
            _ => {}
        }
    }
    None
}

/// Whether a dtype description names the object type code `O`.
fn descr_has_object(descr: &str) -> bool {
    // Simple dtypes look like `<f4`, `|O`, `O8`; structured ones are lists of
    // (name, dtype) tuples: look at every quoted dtype string.
    let quoted: Vec<&str> = if descr.starts_with('[') {
        descr.split(['\'', '"']).skip(1).step_by(2).collect()
    } else {
        vec![descr]
    };
    // A type string is an optional byte-order mark, one type letter and an
    // item size (`<i8`, `|O`, `<M8[ns]`); field names rarely look like one,
    // and one that does only errs on the safe side.
    quoted.iter().any(|d| {
        let code = d.trim_start_matches(['<', '>', '|', '=']);
        let mut chars = code.chars();
        chars.next() == Some('O') && {
            let rest: String = chars.collect();
            let size = rest.split('[').next().unwrap_or("");
            size.chars().all(|c| c.is_ascii_digit())
        }
    })
}

/// Reads up to `n` bytes from the start of a file.
pub fn head(path: &Path, n: u64) -> std::io::Result<Vec<u8>> {
    let mut f = std::fs::File::open(path)?;
    let mut buf = Vec::new();
    f.seek(SeekFrom::Start(0))?;
    (&mut f).take(n).read_to_end(&mut buf)?;
    Ok(buf)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn npy_bytes(descr: &str) -> Vec<u8> {
        let header = format!("{{'descr': {descr}, 'fortran_order': False, 'shape': (2,), }}\n");
        let mut b = b"\x93NUMPY\x01\x00".to_vec();
        b.extend_from_slice(&(header.len() as u16).to_le_bytes());
        b.extend_from_slice(header.as_bytes());
        b
    }

    #[test]
    fn npy_object_arrays_are_spotted() {
        assert!(!npy(&npy_bytes("'<f4'")).unwrap().unwrap().object);
        assert!(npy(&npy_bytes("'|O'")).unwrap().unwrap().object);
        assert!(
            npy(&npy_bytes("[('a', '<i8'), ('b', '|O')]"))
                .unwrap()
                .unwrap()
                .object
        );
        assert!(
            !npy(&npy_bytes("[('Object', '<i8')]"))
                .unwrap()
                .unwrap()
                .object
        );
        assert!(npy(b"\x93NUMPY\x09\x00").unwrap().is_err());
        assert!(npy(b"\x93NUMPY\x01\x00\xff\xff{").unwrap().is_err());
        assert!(npy(b"PK\x03\x04").is_none());
    }

    #[test]
    fn gguf_and_hdf5_magic() {
        let mut g = b"GGUF".to_vec();
        g.extend_from_slice(&3u32.to_le_bytes());
        g.extend_from_slice(&7u64.to_le_bytes());
        g.extend_from_slice(&2u64.to_le_bytes());
        assert_eq!(gguf(&g).unwrap()["tensors"], 7);
        g[4] = 9;
        assert!(gguf(&g).is_none());
        assert!(hdf5(b"\x89HDF\r\n\x1a\nrest"));
        assert!(!hdf5(b"\x89PNG\r\n\x1a\n"));
    }

    #[test]
    fn protobuf_models_by_field_numbers() {
        let dir = tempfile::tempdir().unwrap();
        // ir_version = 8, graph = {empty}, opset_import = {}
        let onnx = dir.path().join("m.onnx");
        std::fs::write(&onnx, [0x08, 0x08, 0x3a, 0x00, 0x42, 0x00]).unwrap();
        assert_eq!(protobuf(&onnx), Some(Protobuf::Onnx));
        let saved = dir.path().join("saved_model.pb");
        std::fs::write(&saved, [0x08, 0x01, 0x12, 0x02, 0x0a, 0x00]).unwrap();
        assert_eq!(protobuf(&saved), Some(Protobuf::SavedModel));
        let junk = dir.path().join("j");
        std::fs::write(&junk, b"hello world").unwrap();
        assert_eq!(protobuf(&junk), None);
        std::fs::write(&junk, [0x3a, 0x7f]).unwrap();
        assert_eq!(
            protobuf(&junk),
            None,
            "a length past the end is not a protobuf"
        );
    }
}
