//! NumPy `.npy` headers, read the way `numpy.lib.format` reads them: the
//! magic and version, then a Python dict literal (`ast.literal_eval`) with
//! exactly the keys `descr`, `fortran_order` and `shape`. Repeated keys are
//! refused (Python would keep the last one). Whether the dtype holds Python
//! objects (whose data is a pickle) is decided from every type string in the
//! description, nested ones included; a type string this reader does not
//! understand is refused rather than guessed.

use super::pylit::{self, Lit};

/// The NumPy magic.
pub const MAGIC: &[u8] = b"\x93NUMPY";
/// Largest header read (NumPy refuses more than 10,000 bytes by default).
pub const MAX_HEADER: usize = 1 << 20;

/// A parsed `.npy` header.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct NpyHeader {
    /// The format version (major, minor).
    pub version: (u8, u8),
    /// The `descr` entry as written.
    pub descr: String,
    /// Whether the dtype holds Python objects (loading them runs pickle).
    pub object: bool,
    /// The array shape.
    pub shape: Vec<u64>,
    /// The offset of the array data (just past the header).
    pub data_offset: u64,
}

/// Why an `.npy` header is refused. Each reason reads as one line
/// starting `.npy:`.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[non_exhaustive]
pub enum NpyError {
    /// The file does not start with the NumPy magic.
    #[error(".npy: no magic")]
    NoMagic,
    /// A format version NumPy does not read.
    #[error(".npy: version {major}.{minor} (NumPy reads 1.0, 2.0 and 3.0)")]
    Version {
        /// The major version byte.
        major: u8,
        /// The minor version byte.
        minor: u8,
    },
    /// A header longer than [`MAX_HEADER`].
    #[error(".npy: a header of {len} bytes")]
    HeaderTooLarge {
        /// The length the file states.
        len: usize,
    },
    /// Fewer bytes than the header needs.
    #[error(".npy: truncated header")]
    Truncated,
    /// The file ends before its header does.
    #[error(".npy: the file ends inside its {size}-byte header")]
    EndsInHeader {
        /// The header size (magic to the end of the dict text).
        size: usize,
    },
    /// A version 3 header that is not UTF-8.
    #[error(".npy: the header is not UTF-8")]
    NotUtf8,
    /// The header text is not a Python literal.
    #[error(".npy: the header is not a Python literal: {0}")]
    NotLiteral(#[source] pylit::LiteralError),
    /// The header is a literal but not a dict.
    #[error(".npy: the header is not a dict")]
    NotDict,
    /// A dict key that is not a text string.
    #[error(".npy: a header key is not a string")]
    KeyNotString,
    /// A key other than `descr`, `fortran_order` and `shape`.
    #[error(".npy: unexpected header key {0:?}")]
    UnexpectedKey(String),
    /// A key given twice (Python would keep the last).
    #[error(".npy: the header repeats the key {0:?} (Python keeps the last one)")]
    RepeatedKey(String),
    /// One of the three keys is missing.
    #[error(".npy: the header lacks descr, shape or fortran_order")]
    MissingKey,
    /// `fortran_order` is not `True` or `False`.
    #[error(".npy: fortran_order is not a bool")]
    FortranOrderNotBool,
    /// `shape` is a tuple holding something other than sizes.
    #[error(".npy: the shape is not a tuple of sizes")]
    ShapeNotSizes,
    /// `shape` is not a tuple.
    #[error(".npy: the shape is not a tuple")]
    ShapeNotTuple,
    /// The dtype nests more than 32 levels.
    #[error(".npy: the dtype is nested too deeply")]
    DtypeTooDeep,
    /// A structured dtype field whose name is not a string.
    #[error(".npy: a field name is not a string")]
    FieldNameNotString,
    /// A structured dtype field that is not a tuple.
    #[error(".npy: a structured dtype field is not a tuple")]
    FieldNotTuple,
    /// A dtype description this reader does not understand.
    #[error(".npy: dtype {0} not understood")]
    Dtype(String),
    /// A subarray shape in a type string that does not close.
    #[error(".npy: bad dtype shape")]
    DtypeShape,
    /// A type string this reader does not understand.
    #[error(".npy: dtype string {0:?} not understood")]
    DtypeString(String),
}

/// The header of an `.npy` stream, collected as bytes arrive.
#[derive(Debug, Default)]
pub struct NpyStream {
    buf: Vec<u8>,
    /// The total header size once known.
    need: Option<usize>,
    result: Option<Result<NpyHeader, NpyError>>,
}

impl NpyStream {
    /// Feeds bytes from the start of the file.
    pub fn update(&mut self, bytes: &[u8]) {
        if self.result.is_some() {
            return;
        }
        let want = self.need.unwrap_or(12);
        let take = want.saturating_sub(self.buf.len()).min(bytes.len());
        self.buf.extend_from_slice(&bytes[..take]);
        if self.need.is_none() && self.buf.len() >= 12 {
            match header_size(&self.buf) {
                Ok(n) => self.need = Some(n),
                Err(e) => self.result = Some(Err(e)),
            }
            return self.update(&bytes[take..]);
        }
        if let Some(n) = self.need
            && self.buf.len() >= n
        {
            self.result = Some(parse(&self.buf[..n]));
        }
    }

    /// The header once read.
    pub fn peek(&self) -> Option<&Result<NpyHeader, NpyError>> {
        self.result.as_ref()
    }

    /// Whether the header has been read (or refused).
    pub fn done(&self) -> bool {
        self.result.is_some()
    }

    /// The header, or why it was refused.
    pub fn finish(self) -> Result<NpyHeader, NpyError> {
        self.result.unwrap_or(Err(NpyError::EndsInHeader {
            size: self.need.unwrap_or(10),
        }))
    }
}

/// The size of magic, version, length and header together.
fn header_size(b: &[u8]) -> Result<usize, NpyError> {
    if !b.starts_with(MAGIC) {
        return Err(NpyError::NoMagic);
    }
    let (major, minor) = (b[6], b[7]);
    if minor != 0 || !(1..=3).contains(&major) {
        return Err(NpyError::Version { major, minor });
    }
    let (len, start) = if major == 1 {
        (u16::from_le_bytes([b[8], b[9]]) as usize, 10)
    } else {
        (
            u32::from_le_bytes(b[8..12].try_into().expect("4 bytes")) as usize,
            12,
        )
    };
    if len > MAX_HEADER {
        return Err(NpyError::HeaderTooLarge { len });
    }
    Ok(start + len)
}

/// Parses a complete header (magic to the end of the dict text).
pub fn parse(b: &[u8]) -> Result<NpyHeader, NpyError> {
    let size = header_size(b.get(..12).ok_or(NpyError::Truncated)?)?;
    let major = b[6];
    let start = if major == 1 { 10 } else { 12 };
    let raw = b.get(start..size).ok_or(NpyError::Truncated)?;
    // Versions 1 and 2 are Latin-1, version 3 is UTF-8.
    let text: String = if major == 3 {
        std::str::from_utf8(raw)
            .map_err(|_| NpyError::NotUtf8)?
            .to_string()
    } else {
        raw.iter().map(|&c| c as char).collect()
    };
    let lit = pylit::parse(&text, major <= 2).map_err(NpyError::NotLiteral)?;
    let Lit::Dict(entries) = lit else {
        return Err(NpyError::NotDict);
    };
    let mut descr = None;
    let mut shape = None;
    let mut fortran = None;
    for (k, v) in entries {
        let key = match &k {
            Lit::Str { text, bytes: false } => text.as_str(),
            _ => return Err(NpyError::KeyNotString),
        };
        let slot = match key {
            "descr" => &mut descr,
            "shape" => &mut shape,
            "fortran_order" => &mut fortran,
            other => return Err(NpyError::UnexpectedKey(other.to_string())),
        };
        if slot.replace(v).is_some() {
            return Err(NpyError::RepeatedKey(key.to_string()));
        }
    }
    let (Some(descr), Some(shape), Some(fortran)) = (descr, shape, fortran) else {
        return Err(NpyError::MissingKey);
    };
    if !matches!(fortran, Lit::Bool(_)) {
        return Err(NpyError::FortranOrderNotBool);
    }
    let shape = match shape {
        Lit::Tuple(items) => items
            .iter()
            .map(|d| match d {
                Lit::Int(Some(n)) if *n >= 0 && *n <= i64::MAX as i128 => Ok(*n as u64),
                _ => Err(NpyError::ShapeNotSizes),
            })
            .collect::<Result<Vec<_>, _>>()?,
        _ => return Err(NpyError::ShapeNotTuple),
    };
    let object = dtype_has_object(&descr, 0)?;
    Ok(NpyHeader {
        version: (major, 0),
        descr: show(&descr),
        object,
        shape,
        data_offset: size as u64,
    })
}

fn show(l: &Lit) -> String {
    match l {
        Lit::Str { text, .. } => text.clone(),
        Lit::List(items) => format!(
            "[{}]",
            items.iter().map(show).collect::<Vec<_>>().join(", ")
        ),
        Lit::Tuple(items) => format!(
            "({})",
            items.iter().map(show).collect::<Vec<_>>().join(", ")
        ),
        Lit::Int(Some(n)) => n.to_string(),
        other => format!("{other:?}"),
    }
}

/// Whether a `descr` (as `numpy.lib.format.descr_to_dtype` reads it) holds
/// objects anywhere; an error for what this reader does not understand.
fn dtype_has_object(d: &Lit, depth: usize) -> Result<bool, NpyError> {
    if depth > 32 {
        return Err(NpyError::DtypeTooDeep);
    }
    match d {
        Lit::Str { text, .. } => type_string_has_object(text),
        // (dtype, shape): a subarray.
        Lit::Tuple(items) if items.len() == 2 => dtype_has_object(&items[0], depth + 1),
        // A structured dtype: (name, dtype) or (name, dtype, shape) fields.
        Lit::List(fields) => {
            let mut any = false;
            for f in fields {
                match f {
                    Lit::Tuple(parts) if parts.len() == 2 || parts.len() == 3 => {
                        match &parts[0] {
                            Lit::Str { .. } => {}
                            Lit::Tuple(t)
                                if t.len() == 2
                                    && t.iter().all(|x| matches!(x, Lit::Str { .. })) => {}
                            _ => return Err(NpyError::FieldNameNotString),
                        }
                        any |= dtype_has_object(&parts[1], depth + 1)?;
                    }
                    _ => return Err(NpyError::FieldNotTuple),
                }
            }
            Ok(any)
        }
        _ => Err(NpyError::Dtype(show(d))),
    }
}

/// Type names NumPy accepts that never hold objects.
const NAMES: [&str; 48] = [
    "bool",
    "bool_",
    "bool8",
    "int8",
    "int16",
    "int32",
    "int64",
    "uint8",
    "uint16",
    "uint32",
    "uint64",
    "float16",
    "float32",
    "float64",
    "float96",
    "float128",
    "complex64",
    "complex128",
    "complex192",
    "complex256",
    "half",
    "single",
    "double",
    "longdouble",
    "float",
    "int",
    "uint",
    "complex",
    "csingle",
    "cdouble",
    "clongdouble",
    "byte",
    "ubyte",
    "short",
    "ushort",
    "intc",
    "uintc",
    "intp",
    "uintp",
    "long",
    "ulong",
    "longlong",
    "ulonglong",
    "str",
    "str_",
    "bytes",
    "bytes_",
    "void",
];

/// Whether a NumPy type string (possibly comma-separated, with repeat
/// counts or shapes) names the object type.
fn type_string_has_object(s: &str) -> Result<bool, NpyError> {
    let mut any = false;
    let mut depth = 0;
    let mut start = 0;
    let mut parts = Vec::new();
    for (i, c) in s.char_indices() {
        match c {
            '(' | '[' => depth += 1,
            ')' | ']' => depth -= 1,
            ',' if depth == 0 => {
                parts.push(&s[start..i]);
                start = i + 1;
            }
            _ => {}
        }
    }
    parts.push(&s[start..]);
    let single = parts.len() == 1;
    for part in parts {
        let mut p = part.trim();
        if p.is_empty() && !single {
            continue;
        }
        // A shape or repeat count in front: "(2,3)f4", "3i4".
        if let Some(rest) = p.strip_prefix('(') {
            p = rest
                .split_once(')')
                .map(|(_, t)| t.trim())
                .ok_or(NpyError::DtypeShape)?;
        } else {
            p = p.trim_start_matches(|c: char| c.is_ascii_digit());
        }
        any |= one_type(p).ok_or_else(|| NpyError::DtypeString(s.to_string()))?;
    }
    Ok(any)
}

/// `Some(true)` for the object type, `Some(false)` for a known other type.
fn one_type(t: &str) -> Option<bool> {
    let t = t.strip_prefix(['<', '>', '|', '=', '!']).unwrap_or(t);
    // A datetime unit: "M8[ns]", "datetime64[D]".
    let (t, unit) = match t.split_once('[') {
        Some((base, u))
            if u.ends_with(']') && u[..u.len() - 1].bytes().all(|c| c.is_ascii_alphanumeric()) =>
        {
            (base, true)
        }
        Some(_) => return None,
        None => (t, false),
    };
    if matches!(t, "object" | "object_" | "O") {
        return Some(true);
    }
    if matches!(t, "datetime64" | "timedelta64") {
        return Some(false);
    }
    if unit {
        return matches!(t.chars().next(), Some('M' | 'm')).then_some(false);
    }
    if NAMES.contains(&t) {
        return Some(false);
    }
    let mut chars = t.chars();
    let code = chars.next()?;
    let size = chars.as_str();
    if !size.bytes().all(|c| c.is_ascii_digit()) {
        return None;
    }
    match code {
        'O' => Some(true),
        '?' | 'b' | 'B' | 'h' | 'H' | 'i' | 'I' | 'l' | 'L' | 'q' | 'Q' | 'p' | 'P' | 'e' | 'f'
        | 'd' | 'g' | 'F' | 'D' | 'G' | 'S' | 'U' | 'V' | 'a' | 'c' | 'M' | 'm' | 'u' => {
            Some(false)
        }
        _ => None,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    pub fn npy_bytes(header: &str) -> Vec<u8> {
        let mut b = MAGIC.to_vec();
        b.extend_from_slice(&[1, 0]);
        b.extend_from_slice(&(header.len() as u16).to_le_bytes());
        b.extend_from_slice(header.as_bytes());
        b
    }

    fn descr(d: &str) -> Result<NpyHeader, NpyError> {
        parse(&npy_bytes(&format!(
            "{{'descr': {d}, 'fortran_order': False, 'shape': (2,), }}\n"
        )))
    }

    #[test]
    fn object_dtypes_anywhere() {
        for (d, object) in [
            ("'<f4'", false),
            ("'|O'", true),
            ("'O8'", true),
            ("'object'", true),
            ("'i4,O'", true),
            ("'(2,3)O'", true),
            ("'3f8, i4'", false),
            ("'<M8[ns]'", false),
            ("[('a', '<i8'), ('b', '|O')]", true),
            ("[('a', [('b', [('c', 'O')])])]", true),
            ("[(('title', 'a'), '<f4', (2,))]", false),
            ("[('Object', '<i8')]", false),
            ("('O', (2,))", true),
            ("'float64'", false),
            ("'O,'", true),
        ] {
            assert_eq!(descr(d).map(|h| h.object), Ok(object), "{d}");
        }
        for d in ["'x9'", "3", "[('a',)]", "'float64[ns]'", "'i4,(2O'"] {
            assert!(descr(d).is_err(), "{d}");
        }
    }

    #[test]
    fn headers_are_read_as_numpy_reads_them() {
        let h = descr("'<f4'").unwrap();
        assert_eq!(h.shape, [2]);
        assert!(
            parse(&npy_bytes(
                "{'descr': '<f4', 'fortran_order': False, 'shape': (2,), 'descr': 'O'}"
            ))
            .unwrap_err()
                == NpyError::RepeatedKey("descr".into())
        );
        assert!(parse(&npy_bytes("{'descr': '<f4', 'shape': (2,)}")).is_err());
        assert!(
            parse(&npy_bytes(
                "{'descr': '<f4', 'fortran_order': 0, 'shape': (2,)}"
            ))
            .is_err()
        );
        assert!(
            parse(&npy_bytes(
                "{'descr': '<f4', 'fortran_order': False, 'shape': (2,), 'x': 1}"
            ))
            .is_err()
        );
        assert!(parse(b"\x93NUMPY\x09\x00\x00\x00").is_err());
        let mut s = NpyStream::default();
        let b = npy_bytes("{'descr': '|O', 'fortran_order': False, 'shape': (), }");
        for byte in &b {
            s.update(std::slice::from_ref(byte));
        }
        assert!(s.done());
        assert!(s.finish().unwrap().object);
        let mut s = NpyStream::default();
        s.update(&b[..20]);
        assert!(s.finish().is_err());
    }
}
