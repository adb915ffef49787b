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

type R<T> = Result<T, String>;

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
        return Err(format!("unexpected text at offset {}", p.i));
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
            return Err("nested too deeply".into());
        }
        self.ws();
        let v = match self.peek() {
            None => Err("unexpected end".into()),
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
            Some(c) => Err(format!("unexpected {:?}", c as char)),
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
                return Err(format!("expected ',' or {:?}", close as char));
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
                return Err("expected ',' or '}'".into());
            }
            let k = self.value()?;
            if !self.eat(b':') {
                return Err("expected ':' (a set is not a dict)".into());
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
            .map_err(|_| "bad number")?
            .chars()
            .filter(|&c| c != '_')
            .collect();
        if text.is_empty() {
            return Err("expected a number".into());
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
                return Err("leading zeros in an integer".into());
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
            Some(None) => Err(format!("bad integer {text:?}")),
            None => {
                let body = lower.strip_suffix('j').unwrap_or(&lower);
                if body.parse::<f64>().is_ok() && !body.contains("inf") && !body.contains("nan") {
                    Ok(Lit::Float)
                } else {
                    Err(format!("bad number {text:?}"))
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
            _ => Err(format!(
                "a name ({}) is not a literal",
                String::from_utf8_lossy(word)
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
                _ => return Err("unsupported string prefix".into()),
            };
            if kind.is_some_and(|k| k != bytes) {
                return Err("cannot mix bytes and str literals".into());
            }
            kind = Some(bytes);
            self.string_body(raw, bytes, &mut text)?;
        }
        match kind {
            Some(bytes) => Ok(Lit::Str { text, bytes }),
            None => Err("expected a string".into()),
        }
    }

    fn string_body(&mut self, raw: bool, bytes: bool, out: &mut String) -> R<()> {
        let q = self.peek().ok_or("unexpected end")?;
        let triple = self.s[self.i..].starts_with(&[q, q, q]);
        self.i += if triple { 3 } else { 1 };
        loop {
            let c = self.peek().ok_or("unterminated string")?;
            if c == q && (!triple || self.s[self.i..].starts_with(&[q, q, q])) {
                self.i += if triple { 3 } else { 1 };
                return Ok(());
            }
            if c == b'\n' && !triple {
                return Err("newline in a string".into());
            }
            if bytes && c >= 0x80 {
                return Err("non-ASCII in a bytes literal".into());
            }
            if c == b'\\' {
                let e = *self.s.get(self.i + 1).ok_or("unterminated string")?;
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
                .ok_or("bad UTF-8 in a string")?;
            out.push_str(ch);
            self.i += len;
        }
    }

    fn hex(&mut self, n: usize) -> R<u32> {
        let digits = self.s.get(self.i..self.i + n).ok_or("truncated escape")?;
        let text = std::str::from_utf8(digits).map_err(|_| "bad escape")?;
        if !text.bytes().all(|c| c.is_ascii_hexdigit()) {
            return Err("bad hex escape".into());
        }
        self.i += n;
        u32::from_str_radix(text, 16).map_err(|_| "bad escape".into())
    }

    fn escape(&mut self, e: u8, bytes: bool, out: &mut String) -> R<()> {
        let push = |out: &mut String, v: u32| -> R<()> {
            out.push(char::from_u32(v).ok_or("escape out of range")?);
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
            b'N' if !bytes => return Err("\\N{...} escapes are not read here".into()),
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
