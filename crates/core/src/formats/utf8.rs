//! A streaming UTF-8 check, strict (as Rust and JSON read text) or in
//! Python's `surrogatepass` sense (encoded surrogates `ED A0..BF ..` pass),
//! as the unpicklers decode string arguments.

/// Validates UTF-8 fed in chunks of any size.
#[derive(Debug, Clone, Copy)]
pub struct Utf8 {
    surrogates: bool,
    /// Continuation bytes still expected.
    need: u8,
    /// Bounds of the next continuation byte (the first one may be narrower).
    lo: u8,
    hi: u8,
    bad: bool,
}

impl Default for Utf8 {
    fn default() -> Self {
        Self::strict()
    }
}

impl Utf8 {
    /// Standard UTF-8.
    pub fn strict() -> Self {
        Utf8 {
            surrogates: false,
            need: 0,
            lo: 0x80,
            hi: 0xbf,
            bad: false,
        }
    }

    /// UTF-8 with encoded surrogates allowed.
    pub fn surrogatepass() -> Self {
        Utf8 {
            surrogates: true,
            ..Self::strict()
        }
    }

    /// Feeds bytes.
    pub fn update(&mut self, bytes: &[u8]) {
        if self.bad {
            return;
        }
        let mut rest = bytes;
        // Fast path: ASCII between multi-byte characters.
        if self.need == 0 {
            let ascii = rest.iter().take_while(|b| b.is_ascii()).count();
            rest = &rest[ascii..];
        }
        for &b in rest {
            if self.need > 0 {
                if b < self.lo || b > self.hi {
                    self.bad = true;
                    return;
                }
                self.need -= 1;
                self.lo = 0x80;
                self.hi = 0xbf;
                continue;
            }
            let (need, lo, hi) = match b {
                0x00..=0x7f => continue,
                0xc2..=0xdf => (1, 0x80, 0xbf),
                0xe0 => (2, 0xa0, 0xbf),
                0xed if !self.surrogates => (2, 0x80, 0x9f),
                0xe1..=0xef => (2, 0x80, 0xbf),
                0xf0 => (3, 0x90, 0xbf),
                0xf1..=0xf3 => (3, 0x80, 0xbf),
                0xf4 => (3, 0x80, 0x8f),
                _ => {
                    self.bad = true;
                    return;
                }
            };
            self.need = need;
            self.lo = lo;
            self.hi = hi;
        }
    }

    /// Whether everything fed so far is complete, valid UTF-8.
    pub fn complete(&self) -> bool {
        !self.bad && self.need == 0
    }

    /// Whether the bytes so far can no longer become valid UTF-8.
    pub fn failed(&self) -> bool {
        self.bad
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn strict_and_surrogatepass() {
        for (bytes, strict, pass) in [
            (&b"plain"[..], true, true),
            ("h\u{e9}llo \u{20ac}\u{1d11e}".as_bytes(), true, true),
            (b"\xed\xa0\x80", false, true),
            (b"\xed\x9f\xbf", true, true),
            (b"\xc0\x80", false, false),
            (b"\xf4\x90\x80\x80", false, false),
            (b"\xe2\x82", false, false),
        ] {
            let mut s = Utf8::strict();
            s.update(bytes);
            assert_eq!(s.complete(), strict, "{bytes:?}");
            assert_eq!(std::str::from_utf8(bytes).is_ok(), strict);
            let mut p = Utf8::surrogatepass();
            for b in bytes {
                p.update(std::slice::from_ref(b));
            }
            assert_eq!(p.complete(), pass, "{bytes:?}");
        }
    }
}
