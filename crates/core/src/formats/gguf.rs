//! GGUF, read in one forward pass the way llama.cpp's loader reads it: the
//! header, every metadata entry (nested arrays too, as gguf-py reads them),
//! every tensor description, and the data section they describe, which must
//! lie inside the file. A file is GGUF only when all of that holds.

use serde_json::{Value, json};
use std::collections::HashSet;
use std::hash::{BuildHasher, Hasher};

/// Most metadata entries or tensors tracked (for duplicate checks).
const MAX_ENTRIES: u64 = 1 << 20;
/// Deepest nesting of arrays followed.
const MAX_DEPTH: usize = 16;
/// llama.cpp's limits on strings and array lengths.
const MAX_STRING: u64 = 1 << 30;
const MAX_ARRAY: u64 = 1 << 30;
/// llama.cpp's limit on tensor names (`GGML_MAX_NAME`, terminator included).
const MAX_NAME: u64 = 64;
const DEFAULT_ALIGNMENT: u64 = 32;
const ALIGNMENT_KEY: &[u8] = b"general.alignment";

const TYPE_UINT32: u32 = 4;
const TYPE_STRING: u32 = 8;
const TYPE_ARRAY: u32 = 9;

/// The size of a metadata scalar type (`None` for strings, arrays and unknown types).
fn scalar_size(t: u32) -> Option<u64> {
    match t {
        0 | 1 | 7 => Some(1),
        2 | 3 => Some(2),
        4..=6 => Some(4),
        10..=12 => Some(8),
        _ => None,
    }
}

/// ggml tensor types: (elements per block, bytes per block); removed or
/// unknown types are refused, as llama.cpp refuses them.
fn ggml_type(t: u32) -> Option<(u64, u64)> {
    Some(match t {
        0 => (1, 4),
        1 => (1, 2),
        2 => (32, 18),
        3 => (32, 20),
        6 => (32, 22),
        7 => (32, 24),
        8 => (32, 34),
        9 => (32, 36),
        10 => (256, 84),
        11 => (256, 110),
        12 => (256, 144),
        13 => (256, 176),
        14 => (256, 210),
        15 => (256, 292),
        16 => (256, 66),
        17 => (256, 74),
        18 => (256, 98),
        19 => (256, 50),
        20 => (32, 18),
        21 => (256, 110),
        22 => (256, 82),
        23 => (256, 136),
        24 => (1, 1),
        25 => (1, 2),
        26 => (1, 4),
        27 | 28 => (1, 8),
        29 => (256, 56),
        30 => (1, 2),
        34 => (256, 54),
        35 => (256, 66),
        39 => (32, 17),
        40 => (64, 36),
        41 => (128, 18),
        _ => return None,
    })
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum St {
    Header,
    KeyLen,
    Key {
        left: u64,
    },
    KvType,
    ArrType,
    ArrCount {
        elem: u32,
    },
    /// Fixed-size value bytes to pass over.
    Skip {
        left: u64,
    },
    AlignmentValue,
    StrLen,
    Str {
        left: u64,
    },
    NameLen,
    Name {
        left: u64,
    },
    NDims,
    Dim,
    TensorType,
    Offset,
    Data,
    Done,
}

/// What went wrong, or that a budget ran out.
#[derive(Debug, Clone, PartialEq, Eq)]
#[non_exhaustive]
pub enum GgufError {
    /// Not a GGUF file llama.cpp would load.
    Invalid(String),
    /// More entries than this scanner tracks.
    Undecided(String),
}

/// A GGUF reader fed chunk by chunk (from the first byte of the file).
#[derive(Debug)]
pub struct GgufStream {
    st: St,
    pos: u64,
    buf: [u8; 24],
    have: usize,
    version: u32,
    n_tensors: u64,
    n_kv: u64,
    kv_done: u64,
    tensors_done: u64,
    /// Element types and counts left of the arrays being read.
    frames: Vec<(u32, u64)>,
    key_hash: Option<std::hash::DefaultHasher>,
    key_head: Vec<u8>,
    keys: HashSet<u64>,
    names: HashSet<u64>,
    hasher: std::hash::RandomState,
    alignment: u64,
    nested: bool,
    dims_left: u32,
    dims: Vec<u64>,
    /// Bytes of the tensor being described.
    tensor_bytes: u64,
    running: u64,
    data_end: u64,
    tables_end: u64,
    error: Option<GgufError>,
}

impl Default for GgufStream {
    fn default() -> Self {
        Self::new()
    }
}

fn pad(x: u64, align: u64) -> Option<u64> {
    x.checked_add(align - 1).map(|v| v / align * align)
}

impl GgufStream {
    /// A reader at the start of a file.
    pub fn new() -> Self {
        GgufStream {
            st: St::Header,
            pos: 0,
            buf: [0; 24],
            have: 0,
            version: 0,
            n_tensors: 0,
            n_kv: 0,
            kv_done: 0,
            tensors_done: 0,
            frames: Vec::new(),
            key_hash: None,
            key_head: Vec::new(),
            keys: HashSet::new(),
            names: HashSet::new(),
            hasher: std::hash::RandomState::new(),
            alignment: DEFAULT_ALIGNMENT,
            nested: false,
            dims_left: 0,
            dims: Vec::new(),
            tensor_bytes: 0,
            running: 0,
            data_end: 0,
            tables_end: 0,
            error: None,
        }
    }

    fn fail(&mut self, why: String) {
        if self.error.is_none() {
            self.error = Some(GgufError::Invalid(format!("GGUF: {why}")));
        }
        self.st = St::Done;
    }

    fn undecided(&mut self, why: String) {
        self.error = Some(GgufError::Undecided(format!("GGUF: {why}")));
        self.st = St::Done;
    }

    /// Collects `n` bytes into the buffer; true when they are all there.
    fn fill(&mut self, input: &mut &[u8], n: usize) -> bool {
        let take = (n - self.have).min(input.len());
        self.buf[self.have..self.have + take].copy_from_slice(&input[..take]);
        self.have += take;
        *input = &input[take..];
        self.pos += take as u64;
        if self.have == n {
            self.have = 0;
            true
        } else {
            false
        }
    }

    fn u32_at(&self, at: usize) -> u32 {
        u32::from_le_bytes(self.buf[at..at + 4].try_into().expect("4 bytes"))
    }

    fn u64_at(&self, at: usize) -> u64 {
        u64::from_le_bytes(self.buf[at..at + 8].try_into().expect("8 bytes"))
    }

    /// Feeds the next bytes of the file.
    pub fn update(&mut self, mut input: &[u8]) {
        while !input.is_empty() {
            match self.st {
                St::Done | St::Data => {
                    self.pos += input.len() as u64;
                    return;
                }
                St::Skip { left } | St::Str { left } => {
                    let take = left.min(input.len() as u64);
                    input = &input[take as usize..];
                    self.pos += take;
                    if take == left {
                        self.next_value();
                    } else {
                        self.st = match self.st {
                            St::Skip { .. } => St::Skip { left: left - take },
                            _ => St::Str { left: left - take },
                        };
                    }
                }
                St::Key { left } | St::Name { left } => {
                    let take = left.min(input.len() as u64) as usize;
                    let part = &input[..take];
                    if let Some(h) = self.key_hash.as_mut() {
                        h.write(part);
                    }
                    let room = 64usize.saturating_sub(self.key_head.len());
                    self.key_head.extend_from_slice(&part[..room.min(take)]);
                    input = &input[take..];
                    self.pos += take as u64;
                    if take as u64 == left {
                        if matches!(self.st, St::Key { .. }) {
                            self.key_done();
                        } else {
                            self.name_done();
                        }
                    } else {
                        self.st = match self.st {
                            St::Key { .. } => St::Key {
                                left: left - take as u64,
                            },
                            _ => St::Name {
                                left: left - take as u64,
                            },
                        };
                    }
                }
                St::Header => {
                    if self.fill(&mut input, 24) {
                        self.header();
                    }
                }
                St::KeyLen
                | St::StrLen
                | St::NameLen
                | St::ArrCount { .. }
                | St::Dim
                | St::Offset => {
                    if self.fill(&mut input, 8) {
                        let v = self.u64_at(0);
                        self.got_u64(v);
                    }
                }
                St::KvType | St::ArrType | St::AlignmentValue | St::NDims | St::TensorType => {
                    if self.fill(&mut input, 4) {
                        let v = self.u32_at(0);
                        self.got_u32(v);
                    }
                }
            }
        }
    }

    fn header(&mut self) {
        if &self.buf[..4] != b"GGUF" {
            return self.fail("no magic".into());
        }
        self.version = self.u32_at(4);
        if self.version & 0xffff == 0 {
            return self.fail(format!(
                "version {:#x}: written in the other byte order, which llama.cpp does not load",
                self.version
            ));
        }
        if !(2..=3).contains(&self.version) {
            return self.fail(format!(
                "version {} (llama.cpp loads versions 2 and 3)",
                self.version
            ));
        }
        self.n_tensors = self.u64_at(8);
        self.n_kv = self.u64_at(16);
        for (what, n) in [("tensors", self.n_tensors), ("metadata entries", self.n_kv)] {
            if n > i64::MAX as u64 {
                return self.fail(format!("{n} {what}"));
            }
            if n > MAX_ENTRIES {
                return self.undecided(format!("{n} {what}: more than this scanner follows"));
            }
        }
        self.next_kv();
    }

    fn next_kv(&mut self) {
        if self.kv_done == self.n_kv {
            self.next_tensor();
        } else {
            self.st = St::KeyLen;
        }
    }

    fn next_tensor(&mut self) {
        if self.tensors_done == self.n_tensors {
            self.tables_end = self.pos;
            self.st = St::Data;
        } else {
            self.st = St::NameLen;
        }
    }

    fn start_string(&mut self) {
        self.key_head.clear();
        let mut h = self.hasher.build_hasher();
        h.write_u8(0);
        self.key_hash = Some(h);
    }

    fn got_u64(&mut self, v: u64) {
        match self.st {
            St::KeyLen => {
                if v == 0 {
                    return self.fail(format!("metadata key {} is empty", self.kv_done));
                }
                if v > MAX_STRING {
                    return self.fail(format!("a key of {v} bytes"));
                }
                self.start_string();
                self.st = St::Key { left: v };
            }
            St::StrLen => {
                if v > MAX_STRING {
                    return self.fail(format!("a string of {v} bytes"));
                }
                self.st = St::Str { left: v };
                if v == 0 {
                    self.next_value();
                }
            }
            St::NameLen => {
                if v >= MAX_NAME {
                    return self.fail(format!(
                        "tensor {} has a name of {v} bytes (llama.cpp allows {})",
                        self.tensors_done,
                        MAX_NAME - 1
                    ));
                }
                self.start_string();
                self.st = St::Name { left: v };
                if v == 0 {
                    self.name_done();
                }
            }
            St::ArrCount { elem } => {
                if v > MAX_ARRAY {
                    return self.fail(format!("an array of {v} elements"));
                }
                if self.frames.len() >= MAX_DEPTH {
                    return self.fail(format!("arrays nested deeper than {MAX_DEPTH}"));
                }
                self.frames.push((elem, v));
                self.next_value();
            }
            St::Dim => {
                if v > i64::MAX as u64 {
                    return self.fail(format!(
                        "tensor {} has a negative dimension",
                        self.tensors_done
                    ));
                }
                self.dims.push(v);
                self.dims_left -= 1;
                if self.dims_left == 0 {
                    self.st = St::TensorType;
                }
            }
            St::Offset => self.offset(v),
            _ => unreachable!("a u64 in state {:?}", self.st),
        }
    }

    fn got_u32(&mut self, v: u32) {
        match self.st {
            St::KvType => {
                if self.key_head == ALIGNMENT_KEY && self.key_head.len() == ALIGNMENT_KEY.len() {
                    if v != TYPE_UINT32 {
                        return self.fail("general.alignment is not a uint32".into());
                    }
                    self.st = St::AlignmentValue;
                } else {
                    self.value_of_type(v);
                }
            }
            St::ArrType => {
                if v == TYPE_ARRAY {
                    self.nested = true;
                }
                if v != TYPE_ARRAY && v != TYPE_STRING && scalar_size(v).is_none() {
                    return self.fail(format!("metadata array of unknown type {v}"));
                }
                self.st = St::ArrCount { elem: v };
            }
            St::AlignmentValue => {
                let a = u64::from(v);
                if a == 0 || !a.is_power_of_two() {
                    return self.fail(format!("alignment {a} is not a power of 2"));
                }
                self.alignment = a;
                self.next_value();
            }
            St::NDims => {
                if v > 4 {
                    return self.fail(format!(
                        "tensor {} has {v} dimensions (at most 4)",
                        self.tensors_done
                    ));
                }
                self.dims.clear();
                self.dims_left = v;
                self.st = if v == 0 { St::TensorType } else { St::Dim };
            }
            St::TensorType => self.tensor_type(v),
            _ => unreachable!("a u32 in state {:?}", self.st),
        }
    }

    /// Starts reading one value of type `t` (a metadata value or an array element).
    fn value_of_type(&mut self, t: u32) {
        match t {
            TYPE_STRING => self.st = St::StrLen,
            TYPE_ARRAY => self.st = St::ArrType,
            t => match scalar_size(t) {
                Some(n) => self.st = St::Skip { left: n },
                None => self.fail(format!("metadata value of unknown type {t}")),
            },
        }
    }

    /// After a value: the next array element, or the next entry.
    fn next_value(&mut self) {
        while let Some(&mut (elem, ref mut left)) = self.frames.last_mut() {
            if *left == 0 {
                self.frames.pop();
                continue;
            }
            match scalar_size(elem) {
                Some(n) => {
                    // All remaining scalars at once.
                    let bytes = left.checked_mul(n);
                    *left = 0;
                    match bytes {
                        Some(b) => {
                            self.st = St::Skip { left: b };
                            if b == 0 {
                                continue;
                            }
                        }
                        None => return self.fail("array size overflows".into()),
                    }
                }
                None => {
                    *left -= 1;
                    self.value_of_type(elem);
                }
            }
            return;
        }
        self.kv_done += 1;
        self.next_kv();
    }

    fn key_done(&mut self) {
        let h = self.key_hash.take().map_or(0, |h| h.finish());
        if !self.keys.insert(h) {
            return self.fail(format!(
                "duplicate metadata key {:?}",
                String::from_utf8_lossy(&self.key_head)
            ));
        }
        self.st = St::KvType;
    }

    fn name_done(&mut self) {
        let h = self.key_hash.take().map_or(0, |h| h.finish());
        if !self.names.insert(h) {
            return self.fail(format!(
                "duplicate tensor name {:?}",
                String::from_utf8_lossy(&self.key_head)
            ));
        }
        self.st = St::NDims;
    }

    fn tensor_type(&mut self, t: u32) {
        let Some((block, size)) = ggml_type(t) else {
            return self.fail(format!(
                "tensor {} has ggml type {t}, which this scanner does not know",
                self.tensors_done
            ));
        };
        let mut ne = [1u64; 4];
        ne[..self.dims.len()].copy_from_slice(&self.dims);
        if ne[0] % block != 0 {
            return self.fail(format!(
                "tensor {} has rows of {} elements, not a multiple of its block of {block}",
                self.tensors_done, ne[0]
            ));
        }
        let bytes = (ne[0] / block)
            .checked_mul(size)
            .and_then(|b| b.checked_mul(ne[1]))
            .and_then(|b| b.checked_mul(ne[2]))
            .and_then(|b| b.checked_mul(ne[3]));
        let elements = ne[0]
            .checked_mul(ne[1])
            .and_then(|e| e.checked_mul(ne[2]))
            .and_then(|e| e.checked_mul(ne[3]));
        match (bytes, elements) {
            (Some(b), Some(e)) if e < i64::MAX as u64 => {
                self.tensor_bytes = b;
                self.st = St::Offset;
            }
            _ => self.fail(format!("tensor {} is too large", self.tensors_done)),
        }
    }

    fn offset(&mut self, offset: u64) {
        let bytes = self.tensor_bytes;
        if offset != self.running {
            return self.fail(format!(
                "tensor {} starts at {offset}, but llama.cpp expects {}",
                self.tensors_done, self.running
            ));
        }
        let Some(end) = offset.checked_add(bytes) else {
            return self.fail("tensor data overflows".into());
        };
        self.data_end = self.data_end.max(end);
        match pad(bytes, self.alignment).and_then(|p| self.running.checked_add(p)) {
            Some(r) => self.running = r,
            None => return self.fail("tensor data overflows".into()),
        }
        self.tensors_done += 1;
        self.next_tensor();
    }

    /// Ends the file: the verdict and facts.
    pub fn finish(mut self) -> Result<Value, GgufError> {
        if let Some(e) = self.error.take() {
            return Err(e);
        }
        if self.st != St::Data {
            return Err(GgufError::Invalid(format!(
                "GGUF: the file ends at byte {} inside its header tables",
                self.pos
            )));
        }
        let data_start = if self.n_tensors > 0 {
            pad(self.tables_end, self.alignment).unwrap_or(u64::MAX)
        } else {
            self.tables_end
        };
        let needed = data_start.saturating_add(self.data_end);
        if needed > self.pos {
            return Err(GgufError::Invalid(format!(
                "GGUF: the tensors need {needed} bytes, but the file holds {}",
                self.pos
            )));
        }
        Ok(json!({
            "version": self.version,
            "tensors": self.n_tensors,
            "metadata_entries": self.n_kv,
            "alignment": self.alignment,
            "data_offset": data_start,
            "nested_arrays": self.nested,
        }))
    }
}

#[cfg(test)]
pub(crate) mod tests {
    use super::*;

    /// A GGUF v3 file: the given metadata entries (already encoded) and
    /// F32 tensors of the given element counts.
    pub fn gguf(kv: &[Vec<u8>], tensors: &[(&str, u64)]) -> Vec<u8> {
        let mut b = b"GGUF".to_vec();
        b.extend_from_slice(&3u32.to_le_bytes());
        b.extend_from_slice(&(tensors.len() as u64).to_le_bytes());
        b.extend_from_slice(&(kv.len() as u64).to_le_bytes());
        for e in kv {
            b.extend_from_slice(e);
        }
        let mut offset = 0u64;
        for (name, n) in tensors {
            b.extend_from_slice(&(name.len() as u64).to_le_bytes());
            b.extend_from_slice(name.as_bytes());
            b.extend_from_slice(&1u32.to_le_bytes());
            b.extend_from_slice(&n.to_le_bytes());
            b.extend_from_slice(&0u32.to_le_bytes());
            b.extend_from_slice(&offset.to_le_bytes());
            offset += (n * 4).div_ceil(32) * 32;
        }
        if !tensors.is_empty() {
            while !b.len().is_multiple_of(32) {
                b.push(0);
            }
        }
        b.extend(std::iter::repeat_n(0u8, offset as usize));
        b
    }

    pub fn kv_string(key: &str, value: &str) -> Vec<u8> {
        let mut b = (key.len() as u64).to_le_bytes().to_vec();
        b.extend_from_slice(key.as_bytes());
        b.extend_from_slice(&TYPE_STRING.to_le_bytes());
        b.extend_from_slice(&(value.len() as u64).to_le_bytes());
        b.extend_from_slice(value.as_bytes());
        b
    }

    fn check(data: &[u8]) -> Result<Value, GgufError> {
        let whole = {
            let mut s = GgufStream::new();
            s.update(data);
            s.finish()
        };
        let mut s = GgufStream::new();
        for b in data {
            s.update(std::slice::from_ref(b));
        }
        assert_eq!(s.finish(), whole, "byte-wise and whole agree");
        whole
    }

    #[test]
    fn a_well_formed_file_parses() {
        let mut nested = (5u64).to_le_bytes().to_vec();
        nested.extend_from_slice(b"toks!");
        nested.extend_from_slice(&TYPE_ARRAY.to_le_bytes());
        nested.extend_from_slice(&TYPE_ARRAY.to_le_bytes());
        nested.extend_from_slice(&2u64.to_le_bytes());
        for n in [2u64, 1] {
            nested.extend_from_slice(&TYPE_STRING.to_le_bytes());
            nested.extend_from_slice(&n.to_le_bytes());
            for _ in 0..n {
                nested.extend_from_slice(&1u64.to_le_bytes());
                nested.push(b'x');
            }
        }
        let file = gguf(
            &[kv_string("general.name", "tiny"), nested],
            &[("a", 3), ("b", 8)],
        );
        let facts = check(&file).unwrap();
        assert_eq!(facts["tensors"], 2);
        assert_eq!(facts["nested_arrays"], true);
    }

    #[test]
    fn broken_tables_are_refused() {
        let good = gguf(&[kv_string("k", "v")], &[("a", 8)]);
        assert!(check(&good).is_ok());
        for cut in [3, 10, 30, good.len() - 1] {
            assert!(
                matches!(check(&good[..cut]), Err(GgufError::Invalid(_))),
                "cut {cut}"
            );
        }
        let dup = gguf(&[kv_string("k", "v"), kv_string("k", "w")], &[]);
        assert!(format!("{:?}", check(&dup)).contains("duplicate metadata key"));
        let dup = gguf(&[], &[("a", 8), ("a", 8)]);
        assert!(format!("{:?}", check(&dup)).contains("duplicate tensor name"));
        let mut v1 = good.clone();
        v1[4] = 1;
        assert!(check(&v1).is_err());
        // A tensor offset that is not where llama.cpp expects it.
        let mut moved = gguf(&[], &[("a", 8)]);
        let at = 24 + 8 + 1 + 4 + 8 + 4;
        moved[at] = 32;
        assert!(
            format!("{:?}", check(&moved)).contains("expects"),
            "{:?}",
            check(&moved)
        );
        // Alignment must be a power of two.
        let mut align = (17u64).to_le_bytes().to_vec();
        align.extend_from_slice(ALIGNMENT_KEY);
        align.extend_from_slice(&TYPE_UINT32.to_le_bytes());
        align.extend_from_slice(&48u32.to_le_bytes());
        assert!(format!("{:?}", check(&gguf(&[align], &[]))).contains("power of 2"));
        // A huge string length is refused without reading it.
        let mut huge = gguf(&[kv_string("k", "v")], &[]);
        huge[24 + 8 + 1 + 4..24 + 8 + 1 + 4 + 8].copy_from_slice(&u64::MAX.to_le_bytes());
        assert!(check(&huge).is_err());
    }
}
