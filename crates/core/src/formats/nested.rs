//! Compressed streams and archives recognised by their first bytes where
//! modelseal does not look inside them: a gzip'd pickle that joblib loads,
//! a zip or tar inside a zip. What is inside is not scanned, so such a file
//! or member is reported as undecided (unsafe to load), never as fine.

use super::tar;

/// Magic numbers long enough that chance bytes (a tensor's raw data in an
/// archive member) rarely match them.
const MAGICS: &[(&[u8], &str)] = &[
    (b"PK\x03\x04", "zip archive"),
    (b"PK\x05\x06", "zip archive"),
    (b"\x1f\x8b\x08", "gzip stream"),
    (b"\xfd7zXZ\x00", "xz stream"),
    (b"\x28\xb5\x2f\xfd", "zstd stream"),
    (b"\x04\x22\x4d\x18", "lz4 frame"),
    (b"7z\xbc\xaf\x27\x1c", "7z archive"),
];

/// The kind of compressed stream or archive `head` (the first bytes, up to
/// 512) starts, if any.
pub(crate) fn kind(head: &[u8]) -> Option<&'static str> {
    if let Some((_, kind)) = MAGICS.iter().find(|(magic, _)| head.starts_with(magic)) {
        return Some(kind);
    }
    // bzip2: "BZh", a block size digit, then the block magic (pi).
    if head.len() >= 10
        && head.starts_with(b"BZh")
        && (b'1'..=b'9').contains(&head[3])
        && &head[4..10] == b"\x31\x41\x59\x26\x53\x59"
    {
        return Some("bzip2 stream");
    }
    tar::valid_header(head).then_some("tar archive")
}

/// As [`kind`], also taking a zlib stream (two header bytes whose check
/// sum is a multiple of 31): only for a whole file no other format
/// claimed, where chance matches are not a concern.
pub(crate) fn file_kind(head: &[u8]) -> Option<&'static str> {
    kind(head).or_else(|| {
        let (&cmf, &flg) = (head.first()?, head.get(1)?);
        (cmf & 0x0f == 8 && cmf >> 4 <= 7 && (u16::from(cmf) << 8 | u16::from(flg)) % 31 == 0)
            .then_some("zlib stream")
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn compressed_streams_are_named_by_their_magic() {
        assert_eq!(kind(b"\x1f\x8b\x08\x00rest"), Some("gzip stream"));
        assert_eq!(kind(b"BZh91AY&SYrest"), Some("bzip2 stream"));
        assert_eq!(kind(b"\xfd7zXZ\x00rest"), Some("xz stream"));
        assert_eq!(kind(b"PK\x03\x04rest"), Some("zip archive"));
        assert_eq!(file_kind(b"x\x9crest"), Some("zlib stream"));
        assert_eq!(kind(b"x\x9crest"), None);
        assert_eq!(kind(b"BZh9 not bzip2"), None);
        assert_eq!(kind(b"\x80\x02}q\x00."), None);
    }
}
