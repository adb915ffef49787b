//! Decoding a pickle opcode stream fed in chunks of any size: opcodes and
//! their arguments are assembled across chunk boundaries, arguments of any
//! length are checked without being held, and each complete opcode is run on
//! the stack model.

use super::args::{self, MemoKey, RawUnicode, Utf8};
use super::machine::{Item, Machine, Stop};
use super::{Global, PickleScan, ScanVerdict, classify};
use std::collections::HashMap;

/// Most opcodes walked in one file (all pickles of a run together).
pub const MAX_OPS: u64 = 100_000_000;
/// Most distinct globals listed.
pub const MAX_GLOBALS: usize = 4096;
/// Bytes of a line argument kept (module and global names, numbers).
const MAX_LINE: usize = 1024;

/// How an opcode's argument is laid out.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Arg {
    None,
    /// A fixed number of bytes.
    Fixed(u8),
    /// A little-endian length of `len` bytes (signed or not), then the data.
    Counted {
        len: u8,
        signed: bool,
        data: Data,
    },
    /// One newline-terminated line.
    Line(LineKind),
    /// Two lines (module and name).
    Pair,
}

/// What counted data is.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Data {
    Bytes,
    /// A byte string the unpickler may decode to `str` (kept when short).
    Latin1,
    /// UTF-8 (`surrogatepass`), kept when short.
    Utf8,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum LineKind {
    Int,
    Long,
    Float,
    String,
    Unicode,
    Persid,
    Memo,
}

/// The argument layout of an opcode; `None` for a byte that is no opcode.
fn arg_of(op: u8) -> Option<Arg> {
    use Arg::*;
    let counted = |len, signed, data| Counted { len, signed, data };
    Some(match op {
        b'(' | b'.' | b'0' | b'1' | b'2' | b'N' | b'Q' | b'R' | b'a' | b'b' | b'd' | b'}'
        | b'e' | b'l' | b']' | b'o' | b's' | b't' | b')' | b'u' => None,
        0x81 | 0x85..=0x89 | 0x8f..=0x94 | 0x97 | 0x98 => None,
        b'K' | b'h' | b'q' | 0x80 | 0x82 => Fixed(1),
        b'M' | 0x83 => Fixed(2),
        b'J' | b'j' | b'r' | 0x84 => Fixed(4),
        b'G' | 0x95 => Fixed(8),
        b'T' => counted(4, true, Data::Latin1),
        b'U' => counted(1, false, Data::Latin1),
        b'X' => counted(4, false, Data::Utf8),
        0x8c => counted(1, false, Data::Utf8),
        0x8d => counted(8, false, Data::Utf8),
        b'B' => counted(4, false, Data::Bytes),
        b'C' | 0x8a => counted(1, false, Data::Bytes),
        0x8b => counted(4, true, Data::Bytes),
        0x8e | 0x96 => counted(8, false, Data::Bytes),
        b'I' => Line(LineKind::Int),
        b'L' => Line(LineKind::Long),
        b'F' => Line(LineKind::Float),
        b'S' => Line(LineKind::String),
        b'V' => Line(LineKind::Unicode),
        b'P' => Line(LineKind::Persid),
        b'g' | b'p' => Line(LineKind::Memo),
        b'c' | b'i' => Pair,
        _ => return Option::None,
    })
}

/// A line being read: the first bytes kept, and the checks its kind needs.
#[derive(Debug, Default)]
struct LineAcc {
    head: Vec<u8>,
    len: u64,
    utf8: Utf8,
    escaped: args::Escaped,
    raw: RawUnicode,
    ascii: bool,
    /// Every byte before the first NUL could belong to a number.
    numeric: bool,
    nul: bool,
}

impl LineAcc {
    fn new() -> Self {
        LineAcc {
            ascii: true,
            numeric: true,
            ..Default::default()
        }
    }

    /// Feeds bytes; false when the line can no longer be accepted.
    fn update(&mut self, kind: Option<LineKind>, bytes: &[u8]) -> bool {
        self.len += bytes.len() as u64;
        let room = MAX_LINE.saturating_sub(self.head.len());
        self.head.extend_from_slice(&bytes[..room.min(bytes.len())]);
        match kind {
            None => {
                self.utf8.update(bytes);
                !self.utf8.failed()
            }
            Some(LineKind::String) => {
                self.escaped.update(bytes);
                !self.escaped.failed()
            }
            Some(LineKind::Unicode) => {
                self.raw.update(bytes);
                !self.raw.failed()
            }
            Some(LineKind::Persid) => {
                self.ascii &= bytes.is_ascii();
                self.ascii
            }
            Some(LineKind::Int | LineKind::Long | LineKind::Float | LineKind::Memo) => {
                for &b in bytes {
                    if self.nul {
                        break;
                    }
                    if b == 0 {
                        self.nul = true;
                    } else if !args::numeric_byte(b) {
                        self.numeric = false;
                        break;
                    }
                }
                self.numeric
            }
        }
    }

    fn complete(&self) -> bool {
        self.len as usize == self.head.len()
    }
}

#[derive(Debug)]
enum State {
    /// Expecting an opcode.
    Op,
    /// Collecting a fixed-size argument or a length prefix.
    Fixed {
        op: u8,
        arg: Arg,
        need: u8,
        have: u8,
        buf: [u8; 8],
    },
    /// Inside counted data.
    Counted {
        op: u8,
        data: Data,
        left: u64,
        keep: Option<Vec<u8>>,
        utf8: Utf8,
    },
    /// Inside a line (the second of a pair when `first` is set).
    Line {
        op: u8,
        kind: Option<LineKind>,
        first: Option<LineAcc>,
        acc: LineAcc,
    },
    /// The run is over.
    Done,
}

/// How the run ended.
#[derive(Debug, Clone)]
enum End {
    Broken { at: u64, why: String },
    Budget { at: u64, why: String },
}

/// A pickle stream scanner fed chunk by chunk.
#[derive(Debug)]
pub struct PickleStream {
    pos: u64,
    op_at: u64,
    state: State,
    m: Machine,
    ops: u64,
    pickles: usize,
    last_end: u64,
    /// Whether the pickle in progress has called a global, imported a
    /// dangerous one, or imported one that cannot be told: if it breaks
    /// later, an unpickler has already done that.
    risky_now: bool,
    protocol: u8,
    first_proto: Option<u8>,
    globals: Vec<Global>,
    index: HashMap<String, u32>,
    problems: Vec<String>,
    unresolved: Vec<u64>,
    persistent_ids: bool,
    end: Option<End>,
    peak: usize,
}

impl Default for PickleStream {
    fn default() -> Self {
        Self::new()
    }
}

impl PickleStream {
    /// A scanner at the start of a stream.
    pub fn new() -> Self {
        PickleStream {
            pos: 0,
            op_at: 0,
            state: State::Op,
            m: Machine::default(),
            ops: 0,
            pickles: 0,
            last_end: 0,
            risky_now: false,
            protocol: 0,
            first_proto: None,
            globals: Vec::new(),
            index: HashMap::new(),
            problems: Vec::new(),
            unresolved: Vec::new(),
            persistent_ids: false,
            end: None,
            peak: 0,
        }
    }

    /// Whether more bytes can change the result.
    pub fn wants_more(&self) -> bool {
        !matches!(self.state, State::Done)
    }

    /// The largest number of bytes the stack model held at once.
    pub fn peak_bytes(&self) -> usize {
        self.peak.max(self.m.held_bytes())
    }

    /// Feeds the next bytes of the stream.
    pub fn update(&mut self, mut bytes: &[u8]) {
        while !bytes.is_empty() {
            if matches!(self.state, State::Done) {
                return;
            }
            let used = self.step(bytes);
            self.pos += used as u64;
            bytes = &bytes[used..];
        }
    }

    /// Consumes a prefix of `bytes` (at least one byte) and advances the state.
    fn step(&mut self, bytes: &[u8]) -> usize {
        match &mut self.state {
            State::Done => bytes.len(),
            State::Op => {
                let op = bytes[0];
                self.op_at = self.pos;
                self.ops += 1;
                if self.ops > MAX_OPS {
                    self.finish_with(End::Budget {
                        at: self.pos,
                        why: format!("more than {MAX_OPS} opcodes"),
                    });
                    return 1;
                }
                match arg_of(op) {
                    None => self.broken(format!("0x{op:02x} is not an opcode")),
                    Some(Arg::None) => self.run(op, Value::None),
                    Some(arg @ Arg::Fixed(n)) | Some(arg @ Arg::Counted { len: n, .. }) => {
                        self.state = State::Fixed {
                            op,
                            arg,
                            need: n,
                            have: 0,
                            buf: [0; 8],
                        }
                    }
                    Some(Arg::Line(kind)) => {
                        self.state = State::Line {
                            op,
                            kind: Some(kind),
                            first: None,
                            acc: LineAcc::new(),
                        }
                    }
                    Some(Arg::Pair) => {
                        self.state = State::Line {
                            op,
                            kind: None,
                            first: None,
                            acc: LineAcc::new(),
                        }
                    }
                }
                1
            }
            State::Fixed {
                op,
                arg,
                need,
                have,
                buf,
            } => {
                let take = ((*need - *have) as usize).min(bytes.len());
                buf[*have as usize..*have as usize + take].copy_from_slice(&bytes[..take]);
                *have += take as u8;
                if *have == *need {
                    let (op, arg, n, buf) = (*op, *arg, *need as usize, *buf);
                    let value = u64::from_le_bytes(buf);
                    match arg {
                        Arg::Counted { signed, data, .. } => {
                            self.counted(op, n, signed, data, value)
                        }
                        _ => self.run(op, Value::Uint(value)),
                    }
                }
                take
            }
            State::Counted {
                left,
                keep,
                utf8,
                data,
                ..
            } => {
                let take = (*left).min(bytes.len() as u64) as usize;
                let part = &bytes[..take];
                if let Some(k) = keep {
                    k.extend_from_slice(part);
                }
                if *data == Data::Utf8 {
                    utf8.update(part);
                }
                *left -= take as u64;
                if utf8.failed() {
                    self.broken("string data is not UTF-8".into());
                } else if *left == 0 {
                    self.counted_done();
                }
                take
            }
            State::Line { kind, acc, .. } => {
                let kind = *kind;
                let newline = memchr::memchr(b'\n', bytes);
                let part = &bytes[..newline.unwrap_or(bytes.len())];
                if !acc.update(kind, part) {
                    self.broken("a line argument Python cannot read".into());
                    return part.len().max(1);
                }
                match newline {
                    Some(i) => {
                        self.line_done();
                        i + 1
                    }
                    None => part.len(),
                }
            }
        }
    }

    fn counted(&mut self, op: u8, n: usize, signed: bool, data: Data, raw: u64) {
        let len = if signed {
            // A 4-byte signed count: negative is refused.
            let v = raw as u32 as i32;
            if v < 0 {
                return self.broken(format!("negative length {v}"));
            }
            v as u64
        } else {
            raw
        };
        if n == 8 && len > i64::MAX as u64 {
            return self.broken(format!("length {len} beyond sys.maxsize"));
        }
        let keep = (data != Data::Bytes && len <= super::machine::MAX_KEPT as u64)
            .then(|| Vec::with_capacity(len as usize));
        let utf8 = Utf8::surrogatepass();
        self.state = State::Counted {
            op,
            data,
            left: len,
            keep,
            utf8,
        };
        if len == 0 {
            self.counted_done();
        }
    }

    fn counted_done(&mut self) {
        let State::Counted {
            op,
            data,
            keep,
            utf8,
            ..
        } = std::mem::replace(&mut self.state, State::Op)
        else {
            return;
        };
        if data == Data::Utf8 && !utf8.complete() {
            return self.broken("string data is not UTF-8".into());
        }
        match data {
            Data::Bytes => self.run(op, Value::None),
            _ => self.run(op, Value::Text(keep)),
        }
    }

    fn line_done(&mut self) {
        let State::Line {
            op,
            kind,
            first,
            acc,
        } = std::mem::replace(&mut self.state, State::Op)
        else {
            return;
        };
        let complete = acc.complete();
        let ok = match kind {
            None => acc.utf8.complete(),
            Some(LineKind::String) => acc.escaped.valid(),
            Some(LineKind::Unicode) => acc.raw.valid(),
            Some(LineKind::Persid) => acc.ascii,
            Some(LineKind::Int) => !complete || args::int_line(&acc.head),
            Some(LineKind::Long) => !complete || args::long_line(&acc.head),
            Some(LineKind::Float) => !complete || args::float_line(&acc.head),
            Some(LineKind::Memo) => !complete || args::memo_key_line(&acc.head).is_some(),
        };
        if !ok {
            return self.broken("a line argument Python cannot read".into());
        }
        match kind {
            None => match first {
                None => {
                    self.state = State::Line {
                        op,
                        kind,
                        first: Some(acc),
                        acc: LineAcc::new(),
                    }
                }
                Some(module) => self.run(op, Value::Pair(module, acc)),
            },
            Some(LineKind::Memo) => {
                let key = if complete {
                    args::memo_key_line(&acc.head).unwrap_or(MemoKey::Big)
                } else {
                    MemoKey::Big
                };
                self.run(op, Value::Key(key))
            }
            Some(LineKind::String) | Some(LineKind::Unicode) => {
                // Kept only when short and free of escapes (the name is then
                // exactly the bytes between the quotes).
                let text = if !complete || acc.head.contains(&b'\\') {
                    None
                } else if op == b'S' {
                    acc.head
                        .get(1..acc.head.len().saturating_sub(1))
                        .map(<[u8]>::to_vec)
                } else {
                    Some(acc.head)
                };
                self.run(op, Value::Text(text))
            }
            Some(_) => self.run(op, Value::None),
        }
    }

    fn broken(&mut self, why: String) {
        self.finish_with(End::Broken {
            at: self.op_at,
            why,
        });
    }

    fn finish_with(&mut self, end: End) {
        self.peak = self.peak_bytes();
        self.end = Some(end);
        self.state = State::Done;
    }

    fn import(&mut self, name: String, opcode: &'static str, called: bool) -> Item {
        let index = match self.index.get(&name) {
            Some(&i) => i,
            None if self.globals.len() >= MAX_GLOBALS => {
                self.risky_now = true;
                if self.globals.len() == MAX_GLOBALS {
                    self.globals.push(Global {
                        name: format!("(more than {MAX_GLOBALS} globals)"),
                        opcode,
                        called,
                        verdict: super::Verdict::Unknown,
                        at: self.op_at,
                    });
                }
                return Item::OTHER;
            }
            None => {
                let i = self.globals.len() as u32;
                self.globals.push(Global {
                    verdict: classify(&name),
                    name: name.clone(),
                    opcode,
                    called: false,
                    at: self.op_at,
                });
                self.index.insert(name, i);
                i
            }
        };
        if called {
            self.globals[index as usize].called = true;
        }
        if self.globals[index as usize].verdict == super::Verdict::Dangerous {
            self.risky_now = true;
        }
        Item::global(index)
    }

    fn called(&mut self, item: Item) {
        if let Some(i) = item.as_global()
            && let Some(g) = self.globals.get_mut(i as usize)
        {
            g.called = true;
            self.risky_now = true;
        }
    }

    /// Runs one complete opcode on the model.
    fn run(&mut self, op: u8, value: Value) {
        self.state = State::Op;
        match self.exec(op, value) {
            Ok(true) => {}
            Ok(false) => {
                self.pickles += 1;
                self.last_end = self.pos + 1;
                self.risky_now = false;
                self.peak = self.peak_bytes();
                self.m.reset();
            }
            Err(Stop::Broken(why)) => self.broken(why),
            Err(Stop::Budget(why)) => self.finish_with(End::Budget {
                at: self.op_at,
                why,
            }),
        }
    }

    /// One opcode; `Ok(false)` at STOP.
    fn exec(&mut self, op: u8, value: Value) -> Result<bool, Stop> {
        let m = &mut self.m;
        match op {
            b'(' => m.mark()?,
            b'.' => {
                m.pop1()?;
                return Ok(false);
            }
            b'0' => m.pop_op()?,
            b'1' => {
                m.pop_mark()?;
            }
            b'2' => m.dup()?,
            b'S' | b'T' | b'U' | b'V' | b'X' | 0x8c | 0x8d => {
                let Value::Text(text) = value else {
                    unreachable!("string opcodes carry text")
                };
                let item = m.string(text.as_deref());
                m.push(item)?;
            }
            b'P' => {
                self.persistent_ids = true;
                m.push(Item::OTHER)?;
            }
            b'Q' => {
                self.persistent_ids = true;
                m.pop1()?;
                m.push(Item::OTHER)?;
            }
            b'R' | 0x81 => {
                let [callable, _] = m.pop::<2>()?;
                m.push(Item::OTHER)?;
                self.called(callable);
            }
            0x92 => {
                let [cls, _, _] = m.pop::<3>()?;
                m.push(Item::OTHER)?;
                self.called(cls);
            }
            b'b' => {
                m.pop::<2>()?;
                m.push(Item::OTHER)?;
            }
            b'c' | b'i' => {
                let Value::Pair(module, name) = value else {
                    unreachable!("GLOBAL and INST carry two lines")
                };
                let text = |l: &LineAcc| {
                    let s = String::from_utf8_lossy(&l.head).into_owned();
                    if l.complete() { s } else { format!("{s}...") }
                };
                let full = format!("{}.{}", text(&module), text(&name));
                if op == b'c' {
                    let g = self.import(full, "GLOBAL", false);
                    self.m.push(g)?;
                } else {
                    // The pure-Python unpickler imports before it looks for the mark.
                    self.import(full, "INST", true);
                    self.m.pop_mark()?;
                    self.risky_now = true;
                    self.m.push(Item::OTHER)?;
                }
            }
            0x93 => {
                let [module, name] = m.pop::<2>()?;
                let item = match (m.text(module), m.text(name)) {
                    (Some(a), Some(b)) => {
                        let full = format!(
                            "{}.{}",
                            String::from_utf8_lossy(a),
                            String::from_utf8_lossy(b)
                        );
                        self.import(full, "STACK_GLOBAL", false)
                    }
                    _ => {
                        self.risky_now = true;
                        self.unresolved.push(self.op_at);
                        Item::OTHER
                    }
                };
                self.m.push(item)?;
            }
            0x82..=0x84 => {
                let Value::Uint(code) = value else {
                    unreachable!("EXT carries a code")
                };
                let code = if op == 0x84 {
                    i64::from(code as u32 as i32)
                } else {
                    code as i64
                };
                let g = self.import(format!("copyreg extension {code}"), "EXT", false);
                self.m.push(g)?;
            }
            b'o' => {
                let cls = m.pop_mark()?;
                m.push(Item::OTHER)?;
                if let Some(cls) = cls {
                    self.called(cls);
                }
            }
            b'a' => {
                m.pop::<2>()?;
                m.push(Item::OTHER)?;
            }
            b's' => {
                m.pop::<3>()?;
                m.push(Item::OTHER)?;
            }
            b'e' | b'u' | 0x90 => {
                m.pop_mark()?;
                m.pop1()?;
                m.push(Item::OTHER)?;
            }
            b't' | b'l' | b'd' | 0x91 => {
                m.pop_mark()?;
                m.push(Item::OTHER)?;
            }
            0x85 => {
                m.pop::<1>()?;
                m.push(Item::OTHER)?;
            }
            0x86 => {
                m.pop::<2>()?;
                m.push(Item::OTHER)?;
            }
            0x87 => {
                m.pop::<3>()?;
                m.push(Item::OTHER)?;
            }
            0x98 => {
                m.pop1()?;
                m.push(Item::OTHER)?;
            }
            b'g' | b'p' => {
                let Value::Key(key) = value else {
                    unreachable!("GET and PUT carry an index")
                };
                if op == b'g' { m.get(key)? } else { m.put(key)? }
            }
            b'h' | b'j' => {
                let Value::Uint(k) = value else {
                    unreachable!()
                };
                m.get(MemoKey::Small(i128::from(k)))?
            }
            b'q' | b'r' => {
                let Value::Uint(k) = value else {
                    unreachable!()
                };
                m.put(MemoKey::Small(i128::from(k)))?
            }
            0x94 => m.memoize()?,
            0x80 => {
                let Value::Uint(p) = value else {
                    unreachable!()
                };
                let p = p as u8;
                if self.op_at == 0 {
                    self.first_proto = Some(p);
                }
                self.protocol = self.protocol.max(p);
            }
            0x95 => {}
            // Everything else pushes one value (numbers, bytes, None, bools,
            // empty containers, NEXT_BUFFER).
            _ => m.push(Item::OTHER)?,
        }
        Ok(true)
    }

    /// Ends the stream and says what it was.
    pub fn finish(mut self) -> PickleScan {
        if self.end.is_none() {
            let at_boundary = matches!(self.state, State::Op);
            if !(at_boundary && self.pos == self.last_end && self.pickles > 0) {
                let why = if self.pos == 0 {
                    "empty"
                } else {
                    "the stream ends before STOP"
                };
                self.end = Some(End::Broken {
                    at: if at_boundary { self.pos } else { self.op_at },
                    why: why.into(),
                });
            }
        }
        let peak = self.peak_bytes();
        let mut problems = std::mem::take(&mut self.problems);
        let mut header_only = false;
        let (verdict, stopped) = match self.end.take() {
            None => (ScanVerdict::Pickle, None),
            Some(End::Budget { at, why }) => {
                problems.push(format!("could not be decided: {why} (at byte {at})"));
                (ScanVerdict::Undecided, Some(why))
            }
            Some(End::Broken { at, why }) => {
                let stopped = Some(format!("{why} at byte {at}"));
                if self.risky_now {
                    problems.push(format!(
                        "pickle {} breaks at byte {at} ({why}) after calling a global or \
                         importing a dangerous one: an unpickler does that before it fails",
                        self.pickles + 1
                    ));
                    (ScanVerdict::Pickle, stopped)
                } else if self.pickles > 0 {
                    // What follows the last pickle is data.
                    (ScanVerdict::Pickle, stopped)
                } else if let Some(p) = self.first_proto.filter(|p| *p <= 5) {
                    header_only = true;
                    problems.push(format!(
                        "a protocol {p} pickle that breaks at byte {at}: {why}"
                    ));
                    (ScanVerdict::Pickle, stopped)
                } else {
                    (ScanVerdict::NotPickle, stopped)
                }
            }
        };
        PickleScan {
            verdict,
            pickles: self.pickles,
            end: self.last_end,
            protocol: self.protocol,
            globals: self.globals,
            problems,
            unresolved: self.unresolved,
            header_only,
            stopped,
            persistent_ids: self.persistent_ids,
            peak_bytes: peak,
        }
    }
}

/// A decoded argument.
#[derive(Debug)]
enum Value {
    None,
    Uint(u64),
    Key(MemoKey),
    /// A string value, kept when short.
    Text(Option<Vec<u8>>),
    Pair(LineAcc, LineAcc),
}
