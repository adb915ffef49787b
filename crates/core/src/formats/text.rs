//! Text and JSON, decided over the whole file in one pass: text is valid
//! UTF-8 without NUL bytes; JSON is text holding exactly one JSON object or
//! array (RFC 8259), checked with a small state machine (nesting bounded).

/// Deepest JSON nesting followed (deeper documents count as text).
const MAX_DEPTH: usize = 1024;

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Num {
    Minus,
    Zero,
    Int,
    Dot,
    Frac,
    E,
    ESign,
    Exp,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum J {
    /// Before the top-level value.
    Start,
    /// A value is expected (after `[`, `,` or `:`).
    Value,
    /// After `[`: a value or `]`.
    ValueOrClose,
    /// After `{`: a key or `}`.
    KeyOrClose,
    /// After `,` in an object: a key.
    Key,
    Colon,
    Str {
        key: bool,
    },
    Esc {
        key: bool,
    },
    Hex {
        key: bool,
        left: u8,
    },
    Num(Num),
    Lit {
        word: &'static [u8],
        at: u8,
    },
    /// After a value: `,`, a closing bracket, or the end.
    After,
    Bad,
}

/// A streaming check for text and JSON.
#[derive(Debug)]
pub struct TextStream {
    utf8: super::utf8::Utf8,
    nul: bool,
    json: J,
    stack: Vec<u8>,
    top_closed: bool,
}

impl Default for TextStream {
    fn default() -> Self {
        TextStream {
            utf8: Default::default(),
            nul: false,
            json: J::Start,
            stack: Vec::new(),
            top_closed: false,
        }
    }
}

/// What the file turned out to be.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
#[non_exhaustive]
pub enum TextKind {
    /// A JSON object or array.
    Json,
    /// Other UTF-8 text.
    Text,
}

impl TextStream {
    /// Feeds bytes.
    pub fn update(&mut self, bytes: &[u8]) {
        if self.nul || self.utf8.failed() {
            return;
        }
        if memchr::memchr(0, bytes).is_some() {
            self.nul = true;
            return;
        }
        self.utf8.update(bytes);
        if self.json != J::Bad {
            for &b in bytes {
                self.json_byte(b);
                if self.json == J::Bad {
                    break;
                }
            }
        }
    }

    /// Whether the bytes so far can still be text.
    pub fn possible(&self) -> bool {
        !self.nul && !self.utf8.failed()
    }

    /// The verdict at the end of the file.
    pub fn finish(mut self) -> Option<TextKind> {
        if !self.possible() || !self.utf8.complete() {
            return None;
        }
        // A number at the very end is complete.
        if let J::Num(n) = self.json {
            self.json = if matches!(n, Num::Zero | Num::Int | Num::Frac | Num::Exp) {
                J::After
            } else {
                J::Bad
            };
        }
        Some(
            if self.json == J::After && self.stack.is_empty() && self.top_closed {
                TextKind::Json
            } else {
                TextKind::Text
            },
        )
    }

    fn open(&mut self, c: u8) {
        if self.stack.len() >= MAX_DEPTH {
            self.json = J::Bad;
            return;
        }
        self.stack.push(c);
        self.json = if c == b'{' {
            J::KeyOrClose
        } else {
            J::ValueOrClose
        };
    }

    fn close(&mut self, c: u8) {
        let want = if c == b'}' { b'{' } else { b'[' };
        if self.stack.pop() == Some(want) {
            self.json = J::After;
            if self.stack.is_empty() {
                self.top_closed = true;
            }
        } else {
            self.json = J::Bad;
        }
    }

    fn value_start(&mut self, b: u8) {
        self.json = match b {
            b'{' | b'[' => return self.open(b),
            b'"' => J::Str { key: false },
            b'-' => J::Num(Num::Minus),
            b'0' => J::Num(Num::Zero),
            b'1'..=b'9' => J::Num(Num::Int),
            b't' => J::Lit {
                word: b"true",
                at: 1,
            },
            b'f' => J::Lit {
                word: b"false",
                at: 1,
            },
            b'n' => J::Lit {
                word: b"null",
                at: 1,
            },
            _ => J::Bad,
        };
    }

    fn json_byte(&mut self, b: u8) {
        let ws = matches!(b, b' ' | b'\t' | b'\n' | b'\r');
        match self.json {
            J::Bad => {}
            J::Start => {
                if !ws {
                    if b == b'{' || b == b'[' {
                        self.open(b);
                    } else {
                        self.json = J::Bad;
                    }
                }
            }
            J::Value => {
                if !ws {
                    self.value_start(b);
                }
            }
            J::ValueOrClose => {
                if b == b']' {
                    self.close(b);
                } else if !ws {
                    self.value_start(b);
                }
            }
            J::KeyOrClose | J::Key => {
                if b == b'}' && self.json == J::KeyOrClose {
                    self.close(b);
                } else if b == b'"' {
                    self.json = J::Str { key: true };
                } else if !ws {
                    self.json = J::Bad;
                }
            }
            J::Colon => {
                if b == b':' {
                    self.json = J::Value;
                } else if !ws {
                    self.json = J::Bad;
                }
            }
            J::Str { key } => {
                self.json = match b {
                    b'"' if key => J::Colon,
                    b'"' => J::After,
                    b'\\' => J::Esc { key },
                    0..=0x1f => J::Bad,
                    _ => J::Str { key },
                };
            }
            J::Esc { key } => {
                self.json = match b {
                    b'"' | b'\\' | b'/' | b'b' | b'f' | b'n' | b'r' | b't' => J::Str { key },
                    b'u' => J::Hex { key, left: 4 },
                    _ => J::Bad,
                };
            }
            J::Hex { key, left } => {
                self.json = if !b.is_ascii_hexdigit() {
                    J::Bad
                } else if left == 1 {
                    J::Str { key }
                } else {
                    J::Hex {
                        key,
                        left: left - 1,
                    }
                };
            }
            J::Lit { word, at } => {
                if word.get(at as usize) == Some(&b) {
                    self.json = if at as usize + 1 == word.len() {
                        J::After
                    } else {
                        J::Lit { word, at: at + 1 }
                    };
                } else {
                    self.json = J::Bad;
                }
            }
            J::Num(n) => {
                let next = match (n, b) {
                    (Num::Minus, b'0') => Some(Num::Zero),
                    (Num::Minus, b'1'..=b'9') => Some(Num::Int),
                    (Num::Int, b'0'..=b'9') => Some(Num::Int),
                    (Num::Zero | Num::Int, b'.') => Some(Num::Dot),
                    (Num::Dot | Num::Frac, b'0'..=b'9') => Some(Num::Frac),
                    (Num::Zero | Num::Int | Num::Frac, b'e' | b'E') => Some(Num::E),
                    (Num::E, b'+' | b'-') => Some(Num::ESign),
                    (Num::E | Num::ESign | Num::Exp, b'0'..=b'9') => Some(Num::Exp),
                    _ => None,
                };
                match next {
                    Some(n) => self.json = J::Num(n),
                    None if matches!(n, Num::Zero | Num::Int | Num::Frac | Num::Exp) => {
                        self.json = J::After;
                        self.json_byte(b);
                    }
                    None => self.json = J::Bad,
                }
            }
            J::After => {
                if ws {
                } else if self.stack.is_empty() {
                    self.json = J::Bad;
                } else if b == b',' {
                    self.json = if self.stack.last() == Some(&b'{') {
                        J::Key
                    } else {
                        J::Value
                    };
                } else if b == b']' || b == b'}' {
                    self.close(b);
                } else {
                    self.json = J::Bad;
                }
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn kind(b: &[u8]) -> Option<TextKind> {
        let mut whole = TextStream::default();
        whole.update(b);
        let mut split = TextStream::default();
        for c in b.chunks(3) {
            split.update(c);
        }
        let w = whole.finish();
        assert_eq!(split.finish(), w);
        w
    }

    #[test]
    fn json_text_and_neither() {
        for j in [
            &br#"{"a": [1, -2.5e3, true, null, "x\u00e9\n"], "b": {}}"#[..],
            b" [ ] \n",
            b"[0]",
            br#"{"k":"v"}"#,
        ] {
            assert_eq!(
                kind(j),
                Some(TextKind::Json),
                "{:?}",
                String::from_utf8_lossy(j)
            );
        }
        for t in [
            &b"hello"[..],
            b"{\"a\": 1",
            b"[01]",
            b"[1,]",
            br#"{"a" 1}"#,
            b"[] []",
            b"\"just a string\"",
            b"",
            "h\u{e9}llo".as_bytes(),
        ] {
            assert_eq!(
                kind(t),
                Some(TextKind::Text),
                "{:?}",
                String::from_utf8_lossy(t)
            );
        }
        assert_eq!(kind(b"a\0b"), None);
        assert_eq!(kind(b"\xff"), None);
        assert_eq!(kind(b"\xe2\x82"), None);
        assert_eq!(kind(&b"[".repeat(2000)), Some(TextKind::Text));
    }
}
