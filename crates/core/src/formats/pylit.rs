//! Python literals, as `ast.literal_eval` reads the ones a NumPy header
//! holds: dicts, lists, tuples, strings (with prefixes, escapes and implicit
//! concatenation), numbers, `True`, `False`, `None`. Anything else is an
//! error: the caller refuses what it cannot read exactly.

/// A parsed literal.
#[derive(Debug, Clone, PartialEq)]
pub enum Lit {
    /// A `str` (or `bytes`, decoded as Latin-1, with `bytes` set).
    Str {
        /// The value.
        text: String,
        /// Whether it was a `b'...'` literal.
        bytes: bool,
    },
    /// An integer (`None` when it does not fit).
    Int(Option<i128>),
    /// A float or complex number.
    Float,
    /// `True` or `False`.
    Bool(bool),
    /// `None`.
    None,
    /// A tuple.
    Tuple(Vec<Lit>),
    /// A list.
    List(Vec<Lit>),
    /// A dict, in source order (repeated keys kept: the caller decides).
    Dict(Vec<(Lit, Lit)>),
}

/// Deepest nesting accepted.
const MAX_DEPTH: usize = 64;

struct Parser<'a> {
    s: &'a [u8],
    i: usize,
    depth: usize,
    /// Python 2 `L` suffixes on integers (NumPy filters them for old headers).
    long_suffix: bool,
}

/// Why text is not a Python literal this reader takes.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[non_exhaustive]
pub enum LiteralError {
    /// Text after the literal.
    #[error("unexpected text at offset {offset}")]
    TrailingText {
        /// Where the extra text starts (a byte offset).
        offset: usize,
    },
    /// Containers nested deeper than the reader goes.
    #[error("nested too deeply")]
    TooDeep,
    /// The text ends inside a literal.
    #[error("unexpected end")]
    UnexpectedEnd,
    /// A character that starts no literal.
    #[error("unexpected {0:?}")]
    Unexpected(char),
    /// A list or tuple item not followed by a comma or its closing bracket.
    #[error("expected ',' or {0:?}")]
    ExpectedCommaOr(char),
    /// A dict entry not followed by a comma or `}`.
    #[error("expected ',' or '}}'")]
    ExpectedCommaOrBrace,
    /// A dict key with no `:` (a set literal).
    #[error("expected ':' (a set is not a dict)")]
    ExpectedColon,
    /// A number's bytes are not text.
    #[error("bad number")]
    NumberNotText,
    /// A sign with no number after it.
    #[error("expected a number")]
    ExpectedNumber,
    /// A decimal integer with leading zeros (Python refuses them).
    #[error("leading zeros in an integer")]
    LeadingZeros,
    /// An integer with digits its base does not have.
    #[error("bad integer {0:?}")]
    BadInteger(String),
    /// Neither an integer nor a finite float or complex number.
    #[error("bad number {0:?}")]
    BadNumber(String),
    /// A name other than `True`, `False` and `None`.
    #[error("a name ({0}) is not a literal")]
    Name(String),
    /// A string prefix other than `r`, `b`, `u` and their mixes.
    #[error("unsupported string prefix")]
    StringPrefix,
    /// Adjacent bytes and str literals (Python refuses to join them).
    #[error("cannot mix bytes and str literals")]
    MixedBytesAndStr,
    /// A string was expected here.
    #[error("expected a string")]
    ExpectedString,
    /// A string with no closing quote.
    #[error("unterminated string")]
    UnterminatedString,
    /// A raw newline inside a one-line string.
    #[error("newline in a string")]
    NewlineInString,
    /// A byte above 127 in a `b'...'` literal.
    #[error("non-ASCII in a bytes literal")]
    NonAsciiBytes,
    /// A string's bytes are not UTF-8.
    #[error("bad UTF-8 in a string")]
    BadUtf8,
    /// An escape cut short by the end of the text.
    #[error("truncated escape")]
    TruncatedEscape,
    /// An escape that is not text.
    #[error("bad escape")]
    BadEscape,
    /// A `\x`, `\u` or `\U` escape with a non-hex digit.
    #[error("bad hex escape")]
    BadHexEscape,
    /// An escape naming no Unicode scalar value.
    #[error("escape out of range")]
    EscapeOutOfRange,
    /// A `\N{...}` escape (names are not looked up).
    #[error("\\N{{...}} escapes are not read here")]
    NamedEscape,
}

type R<T> = Result<T, LiteralError>;

/// Parses one literal filling the whole text.
pub fn parse(text: &str, long_suffix: bool) -> R<Lit> {
    let mut p = Parser {
        s: text.as_bytes(),
        i: 0,
        depth: 0,
        long_suffix,
    };
    let v = p.value()?;
    p.ws();
    if p.i != p.s.len() {
        return Err(LiteralError::TrailingText { offset: p.i });
    }
    Ok(v)
}

impl Parser<'_> {
    fn peek(&self) -> Option<u8> {
        self.s.get(self.i).copied()
    }

    fn ws(&mut self) {
        while let Some(c) = self.peek() {
            match c {
                b' ' | b'\t' | b'\n' | b'\r' | 0x0c => self.i += 1,
                b'\\' if self.s.get(self.i + 1) == Some(&b'\n') => self.i += 2,
                b'#' => {
                    while self.peek().is_some_and(|c| c != b'\n') {
                        self.i += 1;
                    }
                }
                _ => break,
            }
        }
    }

    fn eat(&mut self, c: u8) -> bool {
        self.ws();
        if self.peek() == Some(c) {
            self.i += 1;
            true
        } else {
            false
        }
    }

    fn value(&mut self) -> R<Lit> {
        self.depth += 1;
        if self.depth > MAX_DEPTH {
            return Err(LiteralError::TooDeep);
        }
        self.ws();
        let v = match self.peek() {
            None => Err(LiteralError::UnexpectedEnd),
            Some(b'{') => {
                self.i += 1;
                self.dict()
            }
            Some(b'[') => {
                self.i += 1;
                self.seq(b']').map(|(v, _)| Lit::List(v))
            }
            Some(b'(') => {
                self.i += 1;
                let (items, comma) = self.seq(b')')?;
                if items.len() == 1 && !comma {
                    Ok(items.into_iter().next().expect("one item"))
                } else {
                    Ok(Lit::Tuple(items))
                }
            }
            Some(c) if c == b'+' || c == b'-' || c == b'.' || c.is_ascii_digit() => self.number(),
            Some(c) if c.is_ascii_alphabetic() || c == b'_' || c == b'\'' || c == b'"' => {
                self.word_or_string()
            }
            Some(c) => Err(LiteralError::Unexpected(c as char)),
        };
        self.depth -= 1;
        v
    }

    /// Items up to `close`; whether a comma followed the last one.
    fn seq(&mut self, close: u8) -> R<(Vec<Lit>, bool)> {
        let mut items = Vec::new();
        let mut comma = false;
        loop {
            if self.eat(close) {
                return Ok((items, comma));
            }
            if !items.is_empty() && !comma {
                return Err(LiteralError::ExpectedCommaOr(close as char));
            }
            items.push(self.value()?);
            comma = self.eat(b',');
        }
    }

    fn dict(&mut self) -> R<Lit> {
        let mut entries = Vec::new();
        let mut comma = true;
        loop {
            if self.eat(b'}') {
                return Ok(Lit::Dict(entries));
            }
            if !comma {
                return Err(LiteralError::ExpectedCommaOrBrace);
            }
            let k = self.value()?;
            if !self.eat(b':') {
                return Err(LiteralError::ExpectedColon);
            }
            let v = self.value()?;
            entries.push((k, v));
            comma = self.eat(b',');
        }
    }

    fn number(&mut self) -> R<Lit> {
        let negative = match self.peek() {
            Some(b'-') => {
                self.i += 1;
                true
            }
            Some(b'+') => {
                self.i += 1;
                false
            }
            _ => false,
        };
        self.ws();
        let start = self.i;
        while self
            .peek()
            .is_some_and(|c| c.is_ascii_alphanumeric() || c == b'_' || c == b'.')
        {
            // An exponent sign belongs to the number.
            if matches!(self.peek(), Some(b'e' | b'E'))
                && !self.s[start..self.i].starts_with(b"0x")
                && !self.s[start..self.i].starts_with(b"0X")
                && matches!(self.s.get(self.i + 1), Some(b'+' | b'-'))
            {
                self.i += 1;
            }
            self.i += 1;
        }
        let mut t = &self.s[start..self.i];
        if self.long_suffix && t.len() > 1 && matches!(t.last(), Some(b'L' | b'l')) {
            t = &t[..t.len() - 1];
        }
        let text: String = std::str::from_utf8(t)
            .map_err(|_| LiteralError::NumberNotText)?
            .chars()
            .filter(|&c| c != '_')
            .collect();
        if text.is_empty() {
            return Err(LiteralError::ExpectedNumber);
        }
        let lower = text.to_ascii_lowercase();
        let int = if let Some(h) = lower.strip_prefix("0x") {
            Some(i128::from_str_radix(h, 16).ok())
        } else if let Some(o) = lower.strip_prefix("0o") {
            Some(i128::from_str_radix(o, 8).ok())
        } else if let Some(b) = lower.strip_prefix("0b") {
            Some(i128::from_str_radix(b, 2).ok())
        } else if lower.bytes().all(|c| c.is_ascii_digit()) {
            if lower.len() > 1 && lower.starts_with('0') && lower.bytes().any(|c| c != b'0') {
                return Err(LiteralError::LeadingZeros);
            }
            Some(lower.parse::<i128>().ok())
        } else {
            None
        };
        match int {
            Some(Some(v)) => Ok(Lit::Int(Some(if negative { -v } else { v }))),
            Some(None) if lower.bytes().skip(2).all(|c| c.is_ascii_hexdigit()) => {
                Ok(Lit::Int(None))
            }
            Some(None) => Err(LiteralError::BadInteger(text)),
            None => {
                let body = lower.strip_suffix('j').unwrap_or(&lower);
                if body.parse::<f64>().is_ok() && !body.contains("inf") && !body.contains("nan") {
                    Ok(Lit::Float)
                } else {
                    Err(LiteralError::BadNumber(text))
                }
            }
        }
    }

    fn word_or_string(&mut self) -> R<Lit> {
        let start = self.i;
        while self
            .peek()
            .is_some_and(|c| c.is_ascii_alphanumeric() || c == b'_')
        {
            self.i += 1;
        }
        let word = &self.s[start..self.i];
        if matches!(self.peek(), Some(b'\'' | b'"')) {
            self.i = start;
            return self.strings();
        }
        match word {
            b"True" => Ok(Lit::Bool(true)),
            b"False" => Ok(Lit::Bool(false)),
            b"None" => Ok(Lit::None),
            _ => Err(LiteralError::Name(
                String::from_utf8_lossy(word).into_owned(),
            )),
        }
    }

    /// One or more adjacent string literals (Python joins them).
    fn strings(&mut self) -> R<Lit> {
        let mut text = String::new();
        let mut kind: Option<bool> = None;
        loop {
            self.ws();
            let start = self.i;
            while self.peek().is_some_and(|c| c.is_ascii_alphabetic()) {
                self.i += 1;
            }
            let prefix = self.s[start..self.i].to_ascii_lowercase();
            if !matches!(self.peek(), Some(b'\'' | b'"')) {
                self.i = start;
                break;
            }
            let (raw, bytes) = match prefix.as_slice() {
                b"" | b"u" => (false, false),
                b"r" => (true, false),
                b"b" => (false, true),
                b"br" | b"rb" => (true, true),
                _ => return Err(LiteralError::StringPrefix),
            };
            if kind.is_some_and(|k| k != bytes) {
                return Err(LiteralError::MixedBytesAndStr);
            }
            kind = Some(bytes);
            self.string_body(raw, bytes, &mut text)?;
        }
        match kind {
            Some(bytes) => Ok(Lit::Str { text, bytes }),
            None => Err(LiteralError::ExpectedString),
        }
    }

    fn string_body(&mut self, raw: bool, bytes: bool, out: &mut String) -> R<()> {
        let q = self.peek().ok_or(LiteralError::UnexpectedEnd)?;
        let triple = self.s[self.i..].starts_with(&[q, q, q]);
        self.i += if triple { 3 } else { 1 };
        loop {
            let c = self.peek().ok_or(LiteralError::UnterminatedString)?;
            if c == q && (!triple || self.s[self.i..].starts_with(&[q, q, q])) {
                self.i += if triple { 3 } else { 1 };
                return Ok(());
            }
            if c == b'\n' && !triple {
                return Err(LiteralError::NewlineInString);
            }
            if bytes && c >= 0x80 {
                return Err(LiteralError::NonAsciiBytes);
            }
            if c == b'\\' {
                let e = *self
                    .s
                    .get(self.i + 1)
                    .ok_or(LiteralError::UnterminatedString)?;
                if raw {
                    out.push('\\');
                    out.push(e as char);
                    self.i += 2;
                    continue;
                }
                self.i += 2;
                self.escape(e, bytes, out)?;
                continue;
            }
            // A whole UTF-8 character.
            let len = match c {
                0..=0x7f => 1,
                0xc0..=0xdf => 2,
                0xe0..=0xef => 3,
                _ => 4,
            };
            let ch = self
                .s
                .get(self.i..self.i + len)
                .and_then(|b| std::str::from_utf8(b).ok())
                .ok_or(LiteralError::BadUtf8)?;
            out.push_str(ch);
            self.i += len;
        }
    }

    fn hex(&mut self, n: usize) -> R<u32> {
        let digits = self
            .s
            .get(self.i..self.i + n)
            .ok_or(LiteralError::TruncatedEscape)?;
        let text = std::str::from_utf8(digits).map_err(|_| LiteralError::BadEscape)?;
        if !text.bytes().all(|c| c.is_ascii_hexdigit()) {
            return Err(LiteralError::BadHexEscape);
        }
        self.i += n;
        u32::from_str_radix(text, 16).map_err(|_| LiteralError::BadEscape)
    }

    fn escape(&mut self, e: u8, bytes: bool, out: &mut String) -> R<()> {
        let push = |out: &mut String, v: u32| -> R<()> {
            out.push(char::from_u32(v).ok_or(LiteralError::EscapeOutOfRange)?);
            Ok(())
        };
        match e {
            b'\n' => {}
            b'\\' | b'\'' | b'"' => out.push(e as char),
            b'a' => out.push('\x07'),
            b'b' => out.push('\x08'),
            b'f' => out.push('\x0c'),
            b'n' => out.push('\n'),
            b'r' => out.push('\r'),
            b't' => out.push('\t'),
            b'v' => out.push('\x0b'),
            b'0'..=b'7' => {
                let mut v = u32::from(e - b'0');
                for _ in 0..2 {
                    match self.peek() {
                        Some(d @ b'0'..=b'7') => {
                            v = v * 8 + u32::from(d - b'0');
                            self.i += 1;
                        }
                        _ => break,
                    }
                }
                push(out, v)?;
            }
            b'x' => {
                let v = self.hex(2)?;
                push(out, v)?;
            }
            b'u' if !bytes => {
                let v = self.hex(4)?;
                push(out, v)?;
            }
            b'U' if !bytes => {
                let v = self.hex(8)?;
                push(out, v)?;
            }
            b'N' if !bytes => return Err(LiteralError::NamedEscape),
            other => {
                out.push('\\');
                out.push(other as char);
            }
        }
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn s(t: &str) -> Lit {
        Lit::Str {
            text: t.into(),
            bytes: false,
        }
    }

    #[test]
    fn npy_header_literals() {
        let v = parse(
            "{'descr': '<f4', 'fortran_order': False, 'shape': (3, 4), }  \n",
            false,
        )
        .unwrap();
        assert_eq!(
            v,
            Lit::Dict(vec![
                (s("descr"), s("<f4")),
                (s("fortran_order"), Lit::Bool(false)),
                (
                    s("shape"),
                    Lit::Tuple(vec![Lit::Int(Some(3)), Lit::Int(Some(4))])
                ),
            ])
        );
        assert_eq!(
            parse("(5,)", false).unwrap(),
            Lit::Tuple(vec![Lit::Int(Some(5))])
        );
        assert_eq!(parse("(5)", false).unwrap(), Lit::Int(Some(5)));
        assert_eq!(parse("()", false).unwrap(), Lit::Tuple(vec![]));
        assert_eq!(parse("'a' \"b\" # c\n", false).unwrap(), s("ab"));
        assert_eq!(parse(r"'\x4f\u0041\101'", false).unwrap(), s("OAA"));
        assert_eq!(parse(r"r'\x4f'", false).unwrap(), s(r"\x4f"));
        assert_eq!(parse("-0x10", false).unwrap(), Lit::Int(Some(-16)));
        assert_eq!(parse("1_000", false).unwrap(), Lit::Int(Some(1000)));
        assert_eq!(parse("1.5e-3", false).unwrap(), Lit::Float);
        assert_eq!(
            parse("(3L, 4L)", true).unwrap(),
            parse("(3, 4)", false).unwrap()
        );
        for bad in [
            "{1, 2}",
            "x",
            "'a",
            "(1 2)",
            "{'a': 1 'b': 2}",
            "'a' b'b'",
            "012",
            "[1,,]",
        ] {
            assert!(parse(bad, false).is_err(), "{bad}");
        }
        assert!(parse(&"[".repeat(100), false).is_err());
    }
}
