//! A pickle opcode walker: lists every global a pickle would import or call,
//! without executing anything. Protocols 0 to 5.
//!
//! The stack is modelled (strings, globals, marks, memo) so that
//! `STACK_GLOBAL` names are recovered from the values it would really pop;
//! anything that cannot be resolved is reported, never guessed safe.

use serde::Serialize;

/// Most bytes of a single argument accepted (a larger length is malformed).
const MAX_ARG: u64 = 1 << 31;
/// Most opcodes walked in one stream.
const MAX_OPS: usize = 50_000_000;
/// Most pickles read back to back from one stream (legacy PyTorch files hold five).
const MAX_PICKLES: usize = 16;

/// How a global is judged.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(rename_all = "kebab-case")]
pub enum Verdict {
    /// On the allowlist of tensor-rebuild and container globals.
    Safe,
    /// Known to run code, reach the OS or the network.
    Dangerous,
    /// Not on the allowlist: treated as dangerous.
    Unknown,
}

/// One import found in the stream.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct Global {
    /// `module.name`.
    pub name: String,
    /// The opcode that imported it (`GLOBAL`, `STACK_GLOBAL`, `INST`).
    pub opcode: &'static str,
    /// Whether it is later called (`REDUCE`, `NEWOBJ`, `OBJ`, `INST`).
    pub called: bool,
    /// The judgement.
    pub verdict: Verdict,
}

/// What scanning a pickle stream found.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize)]
pub struct PickleScan {
    /// Highest protocol seen (`PROTO`), 0 when absent.
    pub protocol: u8,
    /// Every distinct global, in order of first appearance.
    pub globals: Vec<Global>,
    /// Problems with the stream itself (truncation, bad opcodes, ...).
    pub malformed: Vec<String>,
}

impl PickleScan {
    /// Whether anything found makes loading this pickle unsafe.
    pub fn is_dangerous(&self) -> bool {
        !self.malformed.is_empty() || self.globals.iter().any(|g| g.verdict != Verdict::Safe)
    }
}

/// Globals that only rebuild tensors, arrays and containers.
const SAFE: [&str; 14] = [
    "collections.OrderedDict",
    "torch._utils._rebuild_tensor",
    "torch._utils._rebuild_tensor_v2",
    "torch._utils._rebuild_parameter",
    "torch._utils._rebuild_parameter_with_state",
    "torch._utils._rebuild_device_tensor_from_numpy",
    "torch.Size",
    "torch.device",
    "torch.serialization._get_layout",
    "numpy.core.multiarray._reconstruct",
    "numpy._core.multiarray._reconstruct",
    "numpy.ndarray",
    "numpy.dtype",
    "_codecs.encode",
];

/// Storage types of `torch.*Storage` (the allowlist's wildcard).
fn is_torch_storage(name: &str) -> bool {
    name.strip_prefix("torch.")
        .is_some_and(|rest| !rest.contains('.') && rest.ends_with("Storage"))
}

/// Module prefixes (or exact names) known to run code or reach the system.
const DANGEROUS: [&str; 24] = [
    "os.",
    "posix.",
    "nt.",
    "subprocess.",
    "builtins.eval",
    "builtins.exec",
    "builtins.compile",
    "builtins.__import__",
    "builtins.getattr",
    "builtins.open",
    "builtins.breakpoint",
    "__builtin__.eval",
    "__builtin__.exec",
    "importlib.",
    "runpy.",
    "webbrowser.",
    "socket.",
    "shutil.",
    "pty.",
    "sys.",
    "code.",
    "pickle.",
    "torch.load",
    "torch.storage._load_from_bytes",
];

/// Judges `module.name`.
pub fn classify(name: &str) -> Verdict {
    if SAFE.contains(&name) || is_torch_storage(name) {
        Verdict::Safe
    } else if DANGEROUS
        .iter()
        .any(|d| name == d.trim_end_matches('.') || name.starts_with(d))
    {
        Verdict::Dangerous
    } else {
        Verdict::Unknown
    }
}

#[derive(Debug, Clone, PartialEq)]
enum Item {
    Mark,
    Str(String),
    Global(usize),
    Other,
}

struct Walker<'a> {
    data: &'a [u8],
    pos: usize,
    stack: Vec<Item>,
    memo: std::collections::HashMap<u64, Item>,
    scan: PickleScan,
}

type Step = Result<bool, String>;

impl<'a> Walker<'a> {
    fn byte(&mut self) -> Result<u8, String> {
        let b = *self.data.get(self.pos).ok_or("truncated")?;
        self.pos += 1;
        Ok(b)
    }

    fn bytes(&mut self, n: u64) -> Result<&'a [u8], String> {
        if n > MAX_ARG {
            return Err(format!("argument of {n} bytes"));
        }
        let end = self.pos.checked_add(n as usize).ok_or("length overflow")?;
        let s = self.data.get(self.pos..end).ok_or("truncated")?;
        self.pos = end;
        Ok(s)
    }

    fn uint(&mut self, n: u64) -> Result<u64, String> {
        let b = self.bytes(n)?;
        Ok(b.iter()
            .rev()
            .fold(0u64, |acc, &x| (acc << 8) | u64::from(x)))
    }

    fn line(&mut self) -> Result<&'a str, String> {
        let rest = &self.data[self.pos..];
        let end = rest
            .iter()
            .position(|&b| b == b'\n')
            .ok_or("truncated line")?;
        self.pos += end + 1;
        std::str::from_utf8(&rest[..end]).map_err(|_| "line is not UTF-8".to_string())
    }

    fn pop(&mut self) -> Result<Item, String> {
        match self.stack.pop() {
            Some(Item::Mark) | None => Err("stack underflow".into()),
            Some(item) => Ok(item),
        }
    }

    fn pop_mark(&mut self) -> Result<Vec<Item>, String> {
        let at = self
            .stack
            .iter()
            .rposition(|i| *i == Item::Mark)
            .ok_or("no mark on the stack")?;
        let items = self.stack.split_off(at + 1);
        self.stack.pop();
        Ok(items)
    }

    fn global(&mut self, name: String, opcode: &'static str) -> usize {
        if let Some(i) = self.scan.globals.iter().position(|g| g.name == name) {
            return i;
        }
        let verdict = classify(&name);
        self.scan.globals.push(Global {
            name,
            opcode,
            called: false,
            verdict,
        });
        self.scan.globals.len() - 1
    }

    fn called(&mut self, item: &Item) {
        if let Item::Global(i) = item {
            self.scan.globals[*i].called = true;
        }
    }

    fn push_str(&mut self, bytes: &[u8]) {
        self.stack
            .push(Item::Str(String::from_utf8_lossy(bytes).into_owned()));
    }

    /// Runs one opcode; `Ok(false)` at STOP.
    fn step(&mut self) -> Step {
        let op = self.byte()?;
        match op {
            b'(' => self.stack.push(Item::Mark),
            b'.' => return Ok(false),
            b'0' => match self.stack.pop() {
                Some(_) => {}
                None => return Err("stack underflow".into()),
            },
            b'1' => {
                self.pop_mark()?;
            }
            b'2' => {
                let top = self.stack.last().cloned().ok_or("stack underflow")?;
                self.stack.push(top);
            }
            b'F' | b'I' | b'L' => {
                self.line()?;
                self.stack.push(Item::Other);
            }
            b'S' => {
                let s = self
                    .line()?
                    .trim()
                    .trim_matches(|c| c == '\'' || c == '"')
                    .to_string();
                self.stack.push(Item::Str(s));
            }
            b'V' => {
                let s = self.line()?.to_string();
                self.stack.push(Item::Str(s));
            }
            b'P' => {
                self.line()?;
                self.stack.push(Item::Other);
            }
            b'Q' => {
                self.pop()?;
                self.stack.push(Item::Other);
            }
            b'J' => {
                self.bytes(4)?;
                self.stack.push(Item::Other);
            }
            b'K' => {
                self.bytes(1)?;
                self.stack.push(Item::Other);
            }
            b'M' => {
                self.bytes(2)?;
                self.stack.push(Item::Other);
            }
            b'G' => {
                self.bytes(8)?;
                self.stack.push(Item::Other);
            }
            b'N' | b'\x88' | b'\x89' | b'}' | b']' | b')' | b'\x8f' => self.stack.push(Item::Other),
            b'T' | b'X' => {
                let n = self.uint(4)?;
                let s = self.bytes(n)?;
                self.push_str(s);
            }
            b'U' | b'\x8c' => {
                let n = self.uint(1)?;
                let s = self.bytes(n)?;
                self.push_str(s);
            }
            b'\x8d' => {
                let n = self.uint(8)?;
                let s = self.bytes(n)?;
                self.push_str(s);
            }
            b'B' => {
                let n = self.uint(4)?;
                self.bytes(n)?;
                self.stack.push(Item::Other);
            }
            b'C' => {
                let n = self.uint(1)?;
                self.bytes(n)?;
                self.stack.push(Item::Other);
            }
            b'\x8e' | b'\x96' => {
                let n = self.uint(8)?;
                self.bytes(n)?;
                self.stack.push(Item::Other);
            }
            b'\x8a' => {
                let n = self.uint(1)?;
                self.bytes(n)?;
                self.stack.push(Item::Other);
            }
            b'\x8b' => {
                let n = self.uint(4)?;
                self.bytes(n)?;
                self.stack.push(Item::Other);
            }
            b'c' | b'i' => {
                let module = self.line()?.to_string();
                let name = self.line()?.to_string();
                let opcode = if op == b'c' { "GLOBAL" } else { "INST" };
                let g = self.global(format!("{module}.{name}"), opcode);
                if op == b'i' {
                    self.pop_mark()?;
                    self.scan.globals[g].called = true;
                    self.stack.push(Item::Other);
                } else {
                    self.stack.push(Item::Global(g));
                }
            }
            b'\x93' => {
                let name = self.pop()?;
                let module = self.pop()?;
                match (module, name) {
                    (Item::Str(m), Item::Str(n)) => {
                        let g = self.global(format!("{m}.{n}"), "STACK_GLOBAL");
                        self.stack.push(Item::Global(g));
                    }
                    _ => {
                        self.scan.malformed.push(format!(
                            "STACK_GLOBAL at byte {} with names that are not strings",
                            self.pos - 1
                        ));
                        self.stack.push(Item::Other);
                    }
                }
            }
            b'R' => {
                self.pop()?;
                let callable = self.pop()?;
                self.called(&callable);
                self.stack.push(Item::Other);
            }
            b'\x81' => {
                self.pop()?;
                let cls = self.pop()?;
                self.called(&cls);
                self.stack.push(Item::Other);
            }
            b'\x92' => {
                self.pop()?;
                self.pop()?;
                let cls = self.pop()?;
                self.called(&cls);
                self.stack.push(Item::Other);
            }
            b'o' => {
                let items = self.pop_mark()?;
                match items.first() {
                    Some(cls) => self.called(cls),
                    None => return Err("OBJ without a class".into()),
                }
                self.stack.push(Item::Other);
            }
            b'a' | b'b' => {
                self.pop()?;
            }
            b's' => {
                self.pop()?;
                self.pop()?;
            }
            b'e' | b'u' | b'\x90' => {
                self.pop_mark()?;
            }
            b't' | b'l' | b'd' | b'\x91' => {
                self.pop_mark()?;
                self.stack.push(Item::Other);
            }
            b'\x85' => {
                self.pop()?;
                self.stack.push(Item::Other);
            }
            b'\x86' => {
                self.pop()?;
                self.pop()?;
                self.stack.push(Item::Other);
            }
            b'\x87' => {
                self.pop()?;
                self.pop()?;
                self.pop()?;
                self.stack.push(Item::Other);
            }
            b'g' => {
                let i: u64 = self.line()?.trim().parse().map_err(|_| "bad GET index")?;
                self.memo_get(i)?;
            }
            b'h' => {
                let i = self.uint(1)?;
                self.memo_get(i)?;
            }
            b'j' => {
                let i = self.uint(4)?;
                self.memo_get(i)?;
            }
            b'p' => {
                let i: u64 = self.line()?.trim().parse().map_err(|_| "bad PUT index")?;
                self.memo_put(i)?;
            }
            b'q' => {
                let i = self.uint(1)?;
                self.memo_put(i)?;
            }
            b'r' => {
                let i = self.uint(4)?;
                self.memo_put(i)?;
            }
            b'\x94' => {
                let i = self.memo.len() as u64;
                self.memo_put(i)?;
            }
            b'\x80' => {
                let proto = self.byte()?;
                if proto > 5 {
                    return Err(format!("unknown protocol {proto}"));
                }
                self.scan.protocol = self.scan.protocol.max(proto);
            }
            b'\x95' => {
                self.bytes(8)?;
            }
            b'\x82' | b'\x83' | b'\x84' => {
                let n = match op {
                    b'\x82' => 1,
                    b'\x83' => 2,
                    _ => 4,
                };
                let code = self.uint(n)?;
                let g = self.global(format!("copyreg extension code {code}"), "EXT");
                self.stack.push(Item::Global(g));
            }
            b'\x97' => self.stack.push(Item::Other),
            b'\x98' => {}
            other => return Err(format!("unknown opcode 0x{other:02x}")),
        }
        Ok(true)
    }

    fn memo_get(&mut self, i: u64) -> Result<(), String> {
        let item = self
            .memo
            .get(&i)
            .cloned()
            .ok_or_else(|| format!("memo {i} read before it is written"))?;
        self.stack.push(item);
        Ok(())
    }

    fn memo_put(&mut self, i: u64) -> Result<(), String> {
        let top = self.stack.last().cloned().ok_or("stack underflow")?;
        if top == Item::Mark {
            return Err("memoizing a mark".into());
        }
        self.memo.insert(i, top);
        Ok(())
    }
}

/// Scans a pickle stream (and the pickles that directly follow it, as in
/// legacy PyTorch files). Never fails: problems are reported in the result.
pub fn scan(data: &[u8]) -> PickleScan {
    let mut walker = Walker {
        data,
        pos: 0,
        stack: Vec::new(),
        memo: Default::default(),
        scan: PickleScan::default(),
    };
    for pickle in 0..MAX_PICKLES {
        if pickle > 0 && data.get(walker.pos) != Some(&0x80) {
            break;
        }
        walker.stack.clear();
        walker.memo.clear();
        let start = walker.pos;
        let mut ops = 0;
        loop {
            ops += 1;
            if ops > MAX_OPS {
                walker.scan.malformed.push("too many opcodes".into());
                return walker.scan;
            }
            let at = walker.pos;
            match walker.step() {
                Ok(true) => {}
                Ok(false) => break,
                Err(e) => {
                    let what = if at == start && pickle == 0 {
                        "not a pickle"
                    } else {
                        "malformed pickle"
                    };
                    walker
                        .scan
                        .malformed
                        .push(format!("{what}: {e} at byte {at}"));
                    return walker.scan;
                }
            }
        }
    }
    walker.scan
}

/// Whether `data` plausibly starts a pickle: `PROTO n` or a protocol-0/1
/// opcode sequence ending in STOP.
pub fn looks_like(data: &[u8]) -> bool {
    match data {
        [0x80, p, ..] => *p <= 5,
        [
            b'(' | b'c' | b']' | b'}' | b')' | b'N' | b'K' | b'J' | b'X',
            ..,
        ] => {
            data.ends_with(b".") && {
                let s = scan(data);
                s.malformed.is_empty()
            }
        }
        _ => false,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// `os.system('echo hi')` as protocol 0.
    const PROTO0_SYSTEM: &[u8] = b"cos\nsystem\n(S'echo hi'\ntR.";

    #[test]
    fn protocol0_global_and_reduce() {
        let s = scan(PROTO0_SYSTEM);
        assert_eq!(s.globals.len(), 1);
        assert_eq!(s.globals[0].name, "os.system");
        assert!(s.globals[0].called);
        assert_eq!(s.globals[0].verdict, Verdict::Dangerous);
        assert!(s.malformed.is_empty());
        assert!(s.is_dangerous());
    }

    #[test]
    fn stack_global_uses_the_popped_strings_not_the_last_ones() {
        // PROTO 4, "builtins", "exec", STACK_GLOBAL, then an unrelated
        // string pushed and popped, then the call.
        let mut p = vec![0x80, 4];
        for s in ["builtins", "exec"] {
            p.push(0x8c);
            p.push(s.len() as u8);
            p.extend_from_slice(s.as_bytes());
        }
        p.push(0x93);
        p.extend_from_slice(&[0x8c, 3]);
        p.extend_from_slice(b"abc");
        p.push(0x85); // TUPLE1: the argument
        p.push(b'R');
        p.push(b'.');
        let s = scan(&p);
        assert_eq!(s.globals[0].name, "builtins.exec");
        assert!(s.globals[0].called);
        assert_eq!(s.protocol, 4);
    }

    #[test]
    fn memoized_names_resolve() {
        // "torch._utils" memoized, then fetched back for STACK_GLOBAL.
        let mut p = vec![0x80, 4, 0x8c, 12];
        p.extend_from_slice(b"torch._utils");
        p.push(0x94);
        p.push(b'0');
        p.extend_from_slice(&[b'h', 0, 0x8c, 18]);
        p.extend_from_slice(b"_rebuild_tensor_v2");
        p.extend_from_slice(&[0x93, b'.']);
        let s = scan(&p);
        assert_eq!(s.globals[0].name, "torch._utils._rebuild_tensor_v2");
        assert_eq!(s.globals[0].verdict, Verdict::Safe);
        assert!(!s.is_dangerous());
    }

    #[test]
    fn classification() {
        assert_eq!(classify("torch.FloatStorage"), Verdict::Safe);
        assert_eq!(classify("torch.BFloat16Storage"), Verdict::Safe);
        assert_eq!(classify("torch.nn.Storage"), Verdict::Unknown);
        assert_eq!(classify("posix.system"), Verdict::Dangerous);
        assert_eq!(classify("subprocess.Popen"), Verdict::Dangerous);
        assert_eq!(classify("os"), Verdict::Dangerous);
        assert_eq!(classify("mypkg.Model"), Verdict::Unknown);
    }

    #[test]
    fn truncated_and_garbage_streams_are_findings() {
        let s = scan(&PROTO0_SYSTEM[..10]);
        assert!(!s.malformed.is_empty());
        assert!(s.is_dangerous());
        let s = scan(b"\xff\xfe garbage");
        assert!(
            s.malformed[0].starts_with("not a pickle"),
            "{:?}",
            s.malformed
        );
        let s = scan(&[0x80, 9]);
        assert!(s.malformed[0].contains("unknown protocol"));
        let s = scan(b"R.");
        assert!(s.malformed[0].contains("underflow"));
        assert!(scan(&[]).malformed[0].contains("truncated"));
        // A huge declared length is refused, not allocated.
        let s = scan(&[
            0x80, 4, 0x8d, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0x7f,
        ]);
        assert!(!s.malformed.is_empty());
    }

    #[test]
    fn looks_like_pickles_only() {
        assert!(looks_like(&[0x80, 2, b'.']));
        assert!(looks_like(PROTO0_SYSTEM));
        assert!(!looks_like(b"{\"json\": 1}"));
        assert!(!looks_like(b"GGUF"));
    }
}
