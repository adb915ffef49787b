//! safetensors: validate the header and report what it says, reading only
//! the 8-byte length and the JSON header (never the tensor data).

use serde::Serialize;
use std::collections::BTreeMap;
use std::io::Read;
use std::path::Path;

/// Largest header accepted (the reference implementation's own limit).
pub const MAX_HEADER: u64 = 100_000_000;

/// What a safetensors header says.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct SafetensorsFacts {
    /// Number of tensors.
    pub tensors: usize,
    /// Total number of elements (parameters) over all tensors.
    pub parameters: u128,
    /// The distinct element types, sorted.
    pub dtypes: Vec<String>,
    /// The free-form `__metadata__` map.
    pub metadata: BTreeMap<String, String>,
    /// Header length in bytes.
    pub header_bytes: u64,
}

/// Whether the file starts like a safetensors file (a plausible header
/// length followed by `{`).
pub fn looks_like(path: &Path) -> bool {
    let mut head = [0u8; 9];
    let Ok(mut f) = std::fs::File::open(path) else {
        return false;
    };
    if f.read_exact(&mut head).is_err() {
        return false;
    }
    let n = u64::from_le_bytes(head[..8].try_into().expect("8 bytes"));
    n > 1 && head[8] == b'{'
}

/// Why a safetensors file is refused.
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum SafetensorsError {
    /// The file cannot be read.
    #[error(transparent)]
    Io(#[from] std::io::Error),
    /// Fewer than the 8 bytes that state the header length.
    #[error("shorter than the 8-byte header length")]
    NoLength,
    /// A header longer than [`MAX_HEADER`].
    #[error("header length {len} exceeds the {MAX_HEADER}-byte limit")]
    HeaderTooLarge {
        /// The length the file states.
        len: u64,
    },
    /// A header that runs past the end of the file.
    #[error("header length {len} runs past the end of the file ({file_len} bytes)")]
    PastEnd {
        /// The length the file states.
        len: u64,
        /// The file's length.
        file_len: u64,
    },
    /// The header is not UTF-8.
    #[error("the header is not UTF-8")]
    NotUtf8,
    /// The header is not strict JSON (a repeated key, which a map would
    /// collapse so that two readers see different tensors).
    #[error("invalid header: {0}")]
    Json(#[source] crate::json::StrictJsonError),
    /// The header is not a valid safetensors header (unknown dtype, shapes
    /// not matching offsets, tensors overlapping or leaving gaps), as the
    /// `safetensors` crate reads it.
    #[error("invalid header: {0}")]
    Invalid(#[source] serde_json::Error),
    /// The data section does not end exactly at the end of the file.
    #[error("the header describes {described} bytes of tensor data, but the file holds {held}")]
    DataLength {
        /// Bytes of tensor data the header describes.
        described: u64,
        /// Bytes the file holds after the header.
        held: u64,
    },
}

/// Reads and validates the header of the safetensors file at `path`: the
/// length within the file and under [`MAX_HEADER`], UTF-8 JSON, known dtypes,
/// shapes matching offsets, tensors contiguous without overlap or gap, and
/// the data section ending exactly at the end of the file.
pub fn read_header(path: &Path) -> Result<SafetensorsFacts, SafetensorsError> {
    let mut file = std::fs::File::open(path)?;
    let file_len = file.metadata()?.len();
    let mut len_bytes = [0u8; 8];
    file.read_exact(&mut len_bytes)
        .map_err(|_| SafetensorsError::NoLength)?;
    let n = u64::from_le_bytes(len_bytes);
    if n > MAX_HEADER {
        return Err(SafetensorsError::HeaderTooLarge { len: n });
    }
    if n.checked_add(8).is_none_or(|end| end > file_len) {
        return Err(SafetensorsError::PastEnd { len: n, file_len });
    }
    let mut header = vec![0u8; n as usize];
    file.read_exact(&mut header)?;
    check_header(&header, file_len)
}

/// Validates a header (the bytes after the 8-byte length) of a file of
/// `file_len` bytes, as [`read_header`] does.
pub fn check_header(header: &[u8], file_len: u64) -> Result<SafetensorsFacts, SafetensorsError> {
    let n = header.len() as u64;
    let text = std::str::from_utf8(header).map_err(|_| SafetensorsError::NotUtf8)?;
    crate::json::check_unique_keys(header).map_err(SafetensorsError::Json)?;
    let metadata: ::safetensors::tensor::Metadata =
        serde_json::from_str(text).map_err(SafetensorsError::Invalid)?;
    let infos = metadata.tensors();
    let data_end = infos
        .values()
        .map(|i| i.data_offsets.1 as u64)
        .max()
        .unwrap_or(0);
    let expected = 8 + n + data_end;
    if expected != file_len {
        return Err(SafetensorsError::DataLength {
            described: data_end,
            held: file_len.saturating_sub(8 + n),
        });
    }
    let parameters = infos
        .values()
        .map(|i| i.shape.iter().map(|&d| d as u128).product::<u128>())
        .sum();
    let mut dtypes: Vec<String> = infos.values().map(|i| format!("{:?}", i.dtype)).collect();
    dtypes.sort();
    dtypes.dedup();
    Ok(SafetensorsFacts {
        tensors: infos.len(),
        parameters,
        dtypes,
        metadata: metadata
            .metadata()
            .clone()
            .unwrap_or_default()
            .into_iter()
            .collect(),
        header_bytes: n,
    })
}

/// Whether the first bytes of a file look like safetensors: a plausible
/// header length, then `{`.
pub fn looks_like_bytes(head: &[u8]) -> bool {
    head.len() >= 9
        && u64::from_le_bytes(head[..8].try_into().expect("8 bytes")) > 1
        && head[8] == b'{'
}

/// A safetensors file read from its first byte: the header is kept (up to
/// [`MAX_HEADER`]), the tensor data only counted.
#[derive(Debug, Default)]
pub struct SafetensorsStream {
    len_bytes: Vec<u8>,
    header: Vec<u8>,
    declared: Option<u64>,
    total: u64,
}

impl SafetensorsStream {
    /// Feeds bytes.
    pub fn update(&mut self, mut bytes: &[u8]) {
        self.total += bytes.len() as u64;
        if self.declared.is_none() {
            let take = (8 - self.len_bytes.len()).min(bytes.len());
            self.len_bytes.extend_from_slice(&bytes[..take]);
            bytes = &bytes[take..];
            if self.len_bytes.len() == 8 {
                self.declared = Some(u64::from_le_bytes(
                    self.len_bytes[..].try_into().expect("8 bytes"),
                ));
            }
        }
        if let Some(n) = self.declared
            && n <= MAX_HEADER
        {
            let room = (n as usize).saturating_sub(self.header.len());
            self.header
                .extend_from_slice(&bytes[..room.min(bytes.len())]);
        }
    }

    /// Validates what was read against the file's length.
    pub fn finish(self) -> Result<SafetensorsFacts, SafetensorsError> {
        let Some(n) = self.declared else {
            return Err(SafetensorsError::NoLength);
        };
        if n > MAX_HEADER {
            return Err(SafetensorsError::HeaderTooLarge { len: n });
        }
        if n.checked_add(8).is_none_or(|end| end > self.total) {
            return Err(SafetensorsError::PastEnd {
                len: n,
                file_len: self.total,
            });
        }
        check_header(&self.header, self.total)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn file(header: &str, data_len: usize) -> tempfile::NamedTempFile {
        let mut bytes = (header.len() as u64).to_le_bytes().to_vec();
        bytes.extend_from_slice(header.as_bytes());
        bytes.extend(std::iter::repeat_n(0u8, data_len));
        let f = tempfile::NamedTempFile::new().unwrap();
        std::fs::write(f.path(), bytes).unwrap();
        f
    }

    #[test]
    fn reads_the_fixture_model() {
        let path = Path::new(concat!(env!("CARGO_MANIFEST_DIR"), "/../.."))
            .join("fixtures/tiny-model/model.safetensors");
        let facts = read_header(&path).unwrap();
        assert_eq!(facts.tensors, 2);
        assert_eq!(facts.parameters, 12);
        assert_eq!(facts.dtypes, ["F32", "I32"]);
        assert_eq!(facts.metadata["format"], "pt");
        assert!(looks_like(&path));
    }

    #[test]
    fn rejects_lying_headers() {
        let ok = r#"{"a":{"dtype":"F32","shape":[2],"data_offsets":[0,8]}}"#;
        assert!(read_header(file(ok, 8).path()).is_ok());
        let cases = [
            (ok, 9, "file holds 9"),
            (ok, 4, "file holds 4"),
            (
                r#"{"a":{"dtype":"F32","shape":[3],"data_offsets":[0,8]}}"#,
                8,
                "invalid header",
            ),
            (
                r#"{"a":{"dtype":"F32","shape":[2],"data_offsets":[0,8]},"b":{"dtype":"F32","shape":[2],"data_offsets":[4,12]}}"#,
                12,
                "invalid header",
            ),
            (
                r#"{"a":{"dtype":"F32","shape":[2],"data_offsets":[4,12]}}"#,
                12,
                "invalid header",
            ),
            (
                r#"{"a":{"dtype":"Q9","shape":[2],"data_offsets":[0,8]}}"#,
                8,
                "invalid header",
            ),
            ("not json", 0, "invalid header"),
            (
                r#"{"a":{"dtype":"F32","shape":[1],"data_offsets":[0,4]},"a":{"dtype":"F32","shape":[1],"data_offsets":[4,8]}}"#,
                8,
                "duplicate JSON key \"a\" in the object at $",
            ),
        ];
        for (header, data, want) in cases {
            let err = read_header(file(header, data).path())
                .unwrap_err()
                .to_string();
            assert!(err.contains(want), "{header}: {err}");
        }
    }

    #[test]
    fn rejects_bad_lengths_and_encodings() {
        let f = tempfile::NamedTempFile::new().unwrap();
        std::fs::write(f.path(), b"\x01\x02").unwrap();
        assert!(matches!(
            read_header(f.path()).unwrap_err(),
            SafetensorsError::NoLength
        ));
        let mut bytes = (1000u64).to_le_bytes().to_vec();
        bytes.extend_from_slice(b"{}");
        std::fs::write(f.path(), &bytes).unwrap();
        assert!(matches!(
            read_header(f.path()).unwrap_err(),
            SafetensorsError::PastEnd { len: 1000, .. }
        ));
        std::fs::write(f.path(), u64::MAX.to_le_bytes()).unwrap();
        assert!(matches!(
            read_header(f.path()).unwrap_err(),
            SafetensorsError::HeaderTooLarge { len: u64::MAX }
        ));
        let mut bytes = 2u64.to_le_bytes().to_vec();
        bytes.extend_from_slice(b"\xff\xfe");
        std::fs::write(f.path(), &bytes).unwrap();
        assert!(matches!(
            read_header(f.path()).unwrap_err(),
            SafetensorsError::NotUtf8
        ));
        assert!(!looks_like(f.path()));
    }
}
