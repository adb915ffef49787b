//! Whether Python's zipfile would open a file as a zip archive from its end,
//! whatever the file starts with. zipfile looks for the end record in the
//! last 64 KiB (the last 22 bytes first, then the last occurrence of its
//! signature), follows a zip64 locator just before it, and expects a central
//! directory entry where the record says the directory starts. In one pass
//! that needs only the tail of the file and the offsets of central directory
//! signatures met on the way.

use memchr::memmem;

const SIG_CENTRAL: &[u8; 4] = b"PK\x01\x02";
const SIG_END: &[u8; 4] = b"PK\x05\x06";
const SIG_LOCATOR: &[u8; 4] = b"PK\x06\x07";
const SIG_ZIP64_END: &[u8; 4] = b"PK\x06\x06";
/// zipfile's search window: the end record and the longest comment.
const WINDOW: usize = 22 + 65_535;
/// What the zip64 structures before the end record need on top.
const KEEP: usize = WINDOW + 76;
/// Most central directory signature offsets remembered.
const MAX_SEEN: usize = 1 << 20;

/// The tail of a stream and where central directory signatures occurred.
#[derive(Debug, Default)]
pub struct ZipTail {
    pos: u64,
    tail: Vec<u8>,
    seen: Vec<u64>,
    overflow: bool,
}

/// What zipfile would make of the file.
#[derive(Debug, Clone, PartialEq, Eq)]
#[non_exhaustive]
pub enum TailVerdict {
    /// zipfile would not open it (or would find an empty archive).
    NotZip,
    /// zipfile would open it: the central directory starts at this offset.
    Zip(u64),
    /// Too many signatures to tell.
    Undecided,
}

impl ZipTail {
    /// Feeds bytes.
    pub fn update(&mut self, bytes: &[u8]) {
        // Signatures across the previous chunk's end: search the joint.
        let overlap = self.tail.len().min(3);
        let mut joint = self.tail[self.tail.len() - overlap..].to_vec();
        joint.extend_from_slice(&bytes[..bytes.len().min(3)]);
        let joint_start = self.pos - overlap as u64;
        for p in memmem::find_iter(&joint, SIG_CENTRAL) {
            if p < overlap {
                self.saw(joint_start + p as u64);
            }
        }
        for p in memmem::find_iter(bytes, SIG_CENTRAL) {
            self.saw(self.pos + p as u64);
        }
        self.pos += bytes.len() as u64;
        if bytes.len() >= KEEP {
            self.tail.clear();
            self.tail.extend_from_slice(&bytes[bytes.len() - KEEP..]);
        } else {
            self.tail.extend_from_slice(bytes);
            if self.tail.len() > 2 * KEEP {
                self.tail.drain(..self.tail.len() - KEEP);
            }
        }
    }

    fn saw(&mut self, at: u64) {
        if self.seen.len() < MAX_SEEN {
            self.seen.push(at);
        } else {
            self.overflow = true;
        }
    }

    /// Decides at the end of the file.
    pub fn finish(&self) -> TailVerdict {
        let size = self.pos;
        let tail = &self.tail[self.tail.len().saturating_sub(KEEP)..];
        let tail_start = size - tail.len() as u64;
        let window = &tail[tail.len().saturating_sub(WINDOW)..];
        let window_start = size - window.len() as u64;
        // The last 22 bytes first (an archive without comment), then the
        // last signature in the window.
        let end = if window.len() >= 22
            && window[window.len() - 22..].starts_with(SIG_END)
            && window.ends_with(&[0, 0])
        {
            Some(window.len() - 22)
        } else {
            memmem::rfind(window, SIG_END)
        };
        let Some(e) = end else {
            return TailVerdict::NotZip;
        };
        let rec = &window[e..];
        if rec.len() < 22 {
            return TailVerdict::NotZip;
        }
        let at = window_start + e as u64;
        let u32_at = |b: &[u8], i: usize| u32::from_le_bytes(b[i..i + 4].try_into().expect("4"));
        let mut size_cd = u64::from(u32_at(rec, 12));
        let mut location = at;
        // A zip64 locator just before the end record, and its record before it.
        let in_tail = (at - tail_start) as usize;
        if in_tail >= 76
            && tail[in_tail - 20..].starts_with(SIG_LOCATOR)
            && tail[in_tail - 76..].starts_with(SIG_ZIP64_END)
        {
            let r = &tail[in_tail - 76 + 40..in_tail - 76 + 48];
            size_cd = u64::from_le_bytes(r.try_into().expect("8 bytes"));
            location = at - 76;
        }
        if size_cd == 0 {
            return TailVerdict::NotZip;
        }
        // zipfile reads the directory `size_cd` bytes before the end
        // structures, whatever offset the record names.
        let Some(start) = location.checked_sub(size_cd) else {
            return TailVerdict::NotZip;
        };
        if start >= tail_start {
            let i = (start - tail_start) as usize;
            return if tail[i..].starts_with(SIG_CENTRAL) {
                TailVerdict::Zip(start)
            } else {
                TailVerdict::NotZip
            };
        }
        if self.seen.binary_search(&start).is_ok() {
            TailVerdict::Zip(start)
        } else if self.overflow {
            TailVerdict::Undecided
        } else {
            TailVerdict::NotZip
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn verdict(data: &[u8], chunk: usize) -> TailVerdict {
        let mut t = ZipTail::default();
        for c in data.chunks(chunk.max(1)) {
            t.update(c);
        }
        t.finish()
    }

    fn tiny_zip() -> Vec<u8> {
        let mut z = ::zip::ZipWriter::new(std::io::Cursor::new(Vec::new()));
        z.start_file("a.txt", ::zip::write::SimpleFileOptions::default())
            .unwrap();
        std::io::Write::write_all(&mut z, b"hello").unwrap();
        z.finish().unwrap().into_inner()
    }

    #[test]
    fn a_zip_at_the_end_is_found_whatever_comes_first() {
        let zip = tiny_zip();
        for prefix in [0usize, 10, 200_000] {
            let mut data = vec![7u8; prefix];
            data.extend_from_slice(&zip);
            for chunk in [1, 3, 4096, data.len()] {
                assert!(
                    matches!(verdict(&data, chunk), TailVerdict::Zip(_)),
                    "{prefix} {chunk}"
                );
            }
        }
        // A large central directory far from the end: found through the
        // offsets remembered on the way.
        let mut data = tiny_zip();
        let end = data.len() - 22;
        let comment = vec![b'x'; 60_000];
        data[end + 20..end + 22].copy_from_slice(&(comment.len() as u16).to_le_bytes());
        data.extend_from_slice(&comment);
        let mut big = vec![0u8; 100_000];
        big.extend_from_slice(&data);
        assert!(matches!(verdict(&big, 4096), TailVerdict::Zip(_)));
    }

    #[test]
    fn an_end_signature_alone_is_not_a_zip() {
        let mut data = vec![1u8; 1000];
        data.extend_from_slice(SIG_END);
        data.extend_from_slice(&[0, 0, 0, 0, 1, 0, 1, 0, 50, 0, 0, 0, 10, 0, 0, 0, 0, 0]);
        assert_eq!(verdict(&data, 100), TailVerdict::NotZip);
        assert_eq!(verdict(b"short", 2), TailVerdict::NotZip);
    }
}
