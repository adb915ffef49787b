//! Checking the arguments of pickle opcodes the way the unpicklers and
//! `pickletools` do, byte by byte (arguments can be longer than any buffer).
//!
//! Every check here accepts whatever *any* of CPython's C unpickler, its
//! pure-Python unpickler or `pickletools.genops` accepts: a stream is only
//! refused as a pickle when none of them could get past the argument.

pub use crate::formats::utf8::Utf8;

/// The `STRING` argument: a quoted, backslash-escaped byte string
/// (`codecs.escape_decode`). Only `\x` with fewer than two hex digits and a
/// trailing lone backslash make Python refuse it.
#[derive(Debug, Clone, Copy, Default)]
pub struct Escaped {
    len: u64,
    quote: u8,
    /// The last byte seen, held back: it is the closing quote if the line ends.
    held: Option<u8>,
    state: EscState,
    bad: bool,
}

#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
enum EscState {
    #[default]
    Normal,
    Backslash,
    Hex(u8),
}

impl Escaped {
    /// Feeds bytes of the line (without the newline).
    pub fn update(&mut self, bytes: &[u8]) {
        for &b in bytes {
            if self.bad {
                return;
            }
            self.len += 1;
            if self.len == 1 {
                if b != b'\'' && b != b'"' {
                    self.bad = true;
                }
                self.quote = b;
                continue;
            }
            if let Some(prev) = self.held.replace(b) {
                self.content(prev);
            }
        }
    }

    fn content(&mut self, b: u8) {
        self.state = match self.state {
            EscState::Normal if b == b'\\' => EscState::Backslash,
            EscState::Normal => EscState::Normal,
            EscState::Backslash if b == b'x' => EscState::Hex(0),
            EscState::Backslash => EscState::Normal,
            EscState::Hex(n) => {
                if !b.is_ascii_hexdigit() {
                    self.bad = true;
                    EscState::Normal
                } else if n == 1 {
                    EscState::Normal
                } else {
                    EscState::Hex(n + 1)
                }
            }
        };
    }

    /// Whether the complete line is acceptable.
    pub fn valid(&self) -> bool {
        if self.bad || self.len == 0 {
            return false;
        }
        match self.held {
            // A lone quote: `pickletools` reads it as an empty string.
            None => true,
            Some(last) => last == self.quote && self.state == EscState::Normal,
        }
    }

    /// Whether the line is already known to be refused.
    pub fn failed(&self) -> bool {
        self.bad
    }
}

/// The `UNICODE` argument: `raw-unicode-escape`, where only `\u` and `\U`
/// escapes count and must be complete and in range.
#[derive(Debug, Clone, Copy, Default)]
pub struct RawUnicode {
    state: RawState,
    bad: bool,
}

#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
enum RawState {
    #[default]
    Normal,
    Backslash,
    Hex {
        left: u8,
        value: u32,
    },
}

impl RawUnicode {
    /// Feeds bytes of the line (without the newline).
    pub fn update(&mut self, bytes: &[u8]) {
        for &b in bytes {
            if self.bad {
                return;
            }
            self.state = match self.state {
                RawState::Normal if b == b'\\' => RawState::Backslash,
                RawState::Normal => RawState::Normal,
                RawState::Backslash if b == b'u' => RawState::Hex { left: 4, value: 0 },
                RawState::Backslash if b == b'U' => RawState::Hex { left: 8, value: 0 },
                RawState::Backslash => RawState::Normal,
                RawState::Hex { left, value } => {
                    let Some(d) = (b as char).to_digit(16) else {
                        self.bad = true;
                        return;
                    };
                    let value = (value << 4) | d;
                    if left == 1 {
                        if value > 0x10_ffff {
                            self.bad = true;
                            return;
                        }
                        RawState::Normal
                    } else {
                        RawState::Hex {
                            left: left - 1,
                            value,
                        }
                    }
                }
            };
        }
    }

    /// Whether the complete line decodes.
    pub fn valid(&self) -> bool {
        !self.bad && !matches!(self.state, RawState::Hex { .. })
    }

    /// Whether the line is already known to be refused.
    pub fn failed(&self) -> bool {
        self.bad
    }
}

/// Python's `int()`/`strtol` whitespace (the line's own newline excluded).
fn is_space(b: u8) -> bool {
    matches!(b, b' ' | b'\t' | b'\r' | 0x0b | 0x0c)
}

/// The part of a numeric line the C unpickler reads: up to the first NUL
/// (it parses C strings), trimmed of whitespace.
fn numeric_text(line: &[u8]) -> &[u8] {
    let end = line.iter().position(|&b| b == 0).unwrap_or(line.len());
    trim(&line[..end])
}

fn trim(s: &[u8]) -> &[u8] {
    let start = s.iter().position(|&b| !is_space(b)).unwrap_or(s.len());
    let end = s
        .iter()
        .rposition(|&b| !is_space(b))
        .map_or(start, |e| e + 1);
    &s[start..end]
}

fn unsigned(s: &[u8]) -> &[u8] {
    match s.first() {
        Some(b'+' | b'-') => &s[1..],
        _ => s,
    }
}

/// An integer literal as `int(s)`, `int(s, 0)` or `strtol(s, 0)` reads it.
fn integer(s: &[u8]) -> bool {
    let body = unsigned(s);
    let digits = |s: &[u8], ok: fn(u8) -> bool| {
        s.iter().all(|&b| ok(b) || b == b'_') && s.iter().any(|&b| ok(b))
    };
    match body {
        [b'0', b'x' | b'X', rest @ ..] => digits(rest, |b| b.is_ascii_hexdigit()),
        [b'0', b'o' | b'O', rest @ ..] => digits(rest, |b| (b'0'..=b'7').contains(&b)),
        [b'0', b'b' | b'B', rest @ ..] => digits(rest, |b| b == b'0' || b == b'1'),
        _ => digits(body, |b| b.is_ascii_digit()),
    }
}

/// `INT`: `I12\n`, `I01\n` (True), `I0x1f\n` (base 0 in the unpicklers).
/// The C unpickler reads it with `strtol`, which also accepts a line that
/// starts with NUL (no digits, and the first unread byte is the NUL).
pub fn int_line(line: &[u8]) -> bool {
    line.first() == Some(&0) || integer(numeric_text(line))
}

/// `LONG`: an integer with an optional `L` suffix.
pub fn long_line(line: &[u8]) -> bool {
    let s = numeric_text(line);
    let s = s.strip_suffix(b"L").map_or(s, trim);
    integer(s)
}

/// `FLOAT`: what `float()` or `PyOS_string_to_double` accepts.
pub fn float_line(line: &[u8]) -> bool {
    let s = unsigned(numeric_text(line));
    let lower = s.to_ascii_lowercase();
    if matches!(lower.as_slice(), b"inf" | b"infinity" | b"nan") {
        return true;
    }
    let (mantissa, exponent) = match s.iter().position(|&b| b == b'e' || b == b'E') {
        Some(i) => (&s[..i], Some(&s[i + 1..])),
        None => (s, None),
    };
    let mut dots = 0;
    let mantissa_ok = mantissa.iter().all(|&b| {
        if b == b'.' {
            dots += 1;
        }
        b.is_ascii_digit() || b == b'_' || b == b'.'
    }) && dots <= 1
        && mantissa.iter().any(u8::is_ascii_digit);
    let exponent_ok = exponent.is_none_or(|e| {
        let e = unsigned(e);
        e.iter().all(|&b| b.is_ascii_digit() || b == b'_') && e.iter().any(u8::is_ascii_digit)
    });
    mantissa_ok && exponent_ok
}

/// A memo index written in decimal (`GET`, `PUT`).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum MemoKey {
    /// Any index that fits.
    Small(i128),
    /// Longer than any real memo: tracked imprecisely.
    Big,
}

/// Parses a decimal memo index as `int()` does; `None` when Python refuses it.
pub fn memo_key_line(line: &[u8]) -> Option<MemoKey> {
    let s = numeric_text(line);
    let (negative, body) = match s.first() {
        Some(b'-') => (true, &s[1..]),
        Some(b'+') => (false, &s[1..]),
        _ => (false, s),
    };
    if !body.iter().all(|&b| b.is_ascii_digit() || b == b'_')
        || !body.iter().any(u8::is_ascii_digit)
    {
        return None;
    }
    let mut value: i128 = 0;
    for &b in body.iter().filter(|b| b.is_ascii_digit()) {
        value = match value
            .checked_mul(10)
            .and_then(|v| v.checked_add(i128::from(b - b'0')))
        {
            Some(v) => v,
            None => return Some(MemoKey::Big),
        };
    }
    Some(MemoKey::Small(if negative { -value } else { value }))
}

/// Whether a byte may appear in a numeric line longer than the part kept:
/// such lines are accepted when every byte could belong to a number.
pub fn numeric_byte(b: u8) -> bool {
    b.is_ascii_alphanumeric() || matches!(b, b'_' | b'+' | b'-' | b'.') || is_space(b)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn utf8(b: &[u8]) -> bool {
        let mut v = Utf8::surrogatepass();
        v.update(b);
        v.complete()
    }

    #[test]
    fn utf8_with_surrogates_passed() {
        assert!(utf8("héllo €𝄞".as_bytes()));
        assert!(utf8(b"\xed\xa0\x80"), "an encoded surrogate passes");
        assert!(!utf8(b"\xc0\x80"), "overlong");
        assert!(!utf8(b"\xf4\x90\x80\x80"), "beyond U+10FFFF");
        assert!(!utf8(b"\xe2\x82"), "incomplete");
        // Split across updates.
        let mut v = Utf8::surrogatepass();
        v.update(b"\xe2");
        v.update(b"\x82\xac");
        assert!(v.complete());
    }

    fn escaped(b: &[u8]) -> bool {
        let mut v = Escaped::default();
        for chunk in b.chunks(1) {
            v.update(chunk);
        }
        v.valid()
    }

    #[test]
    fn string_quotes_and_escapes() {
        assert!(escaped(b"'abc'"));
        assert!(escaped(b"\"a'b\""));
        assert!(escaped(b"''"));
        assert!(escaped(b"'"), "pickletools reads a lone quote as empty");
        assert!(escaped(br"'\x41\n\q\777'"));
        assert!(!escaped(b"abc"));
        assert!(!escaped(b"'abc\""));
        assert!(!escaped(br"'\x4'"));
        assert!(!escaped(br"'abc\'"), "the closing quote is escaped");
        assert!(!escaped(b""));
    }

    fn raw(b: &[u8]) -> bool {
        let mut v = RawUnicode::default();
        v.update(b);
        v.valid()
    }

    #[test]
    fn raw_unicode_escapes() {
        assert!(raw(br"plain \n text \"));
        assert!(raw(br"\u00e9\U0001F600"));
        assert!(raw(br"\\u12"), "an escaped backslash");
        assert!(!raw(br"\u12"));
        assert!(!raw(br"\u12zz"));
        assert!(!raw(br"\U00110000"));
    }

    #[test]
    fn numbers() {
        for ok in [
            &b"12"[..],
            b"-3",
            b" +4 ",
            b"00",
            b"01",
            b"0x1F",
            b"0o17",
            b"0b101",
            b"1_000",
            b"012",
            b"5\0junk",
            b"\0",
            b"\0junk",
        ] {
            assert!(int_line(ok), "{ok:?}");
        }
        for bad in [
            &b""[..],
            b"abc",
            b"1.5",
            b"0x",
            b"12L",
            b"--1",
            b" \0",
            b"-\0",
        ] {
            assert!(!int_line(bad), "{bad:?}");
        }
        assert!(long_line(b"123L"));
        assert!(long_line(b"-9"));
        for ok in [
            &b"1.5"[..],
            b"-0.0",
            b".5",
            b"5.",
            b"1e-3",
            b"nan",
            b"-Infinity",
            b"1_0.5",
        ] {
            assert!(float_line(ok), "{ok:?}");
        }
        for bad in [&b""[..], b".", b"e5", b"1.2.3", b"x"] {
            assert!(!float_line(bad), "{bad:?}");
        }
        assert_eq!(memo_key_line(b"7"), Some(MemoKey::Small(7)));
        assert_eq!(memo_key_line(b" -1 "), Some(MemoKey::Small(-1)));
        assert_eq!(memo_key_line(&[b'9'; 60]), Some(MemoKey::Big));
        assert_eq!(memo_key_line(b"x"), None);
    }
}
