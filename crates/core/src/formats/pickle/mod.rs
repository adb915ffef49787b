//! A pickle opcode walker: lists every global a pickle would import or call,
//! without executing anything. Protocols 0 to 5.
//!
//! A file is a pickle when an unpickler starting at its first byte reaches
//! STOP: any opcode may come first (protocols 0 and 1 have no header) and
//! whatever follows STOP is ignored by that unpickler, but may be the next
//! pickle of a run (legacy PyTorch files hold several, then raw data). The
//! stack and memo are modelled so that `STACK_GLOBAL` names are recovered
//! from the values it would really pop; anything that cannot be resolved is
//! reported, never guessed safe. Memory and work are bounded (see
//! `MAX_STACK`, `MAX_OPS` and the other limits); running out of a budget leaves the question
//! undecided, which is never read as "not a pickle".

mod args;
#[cfg(test)]
mod differential_tests;
mod machine;
mod stream;

pub use stream::PickleStream;

use serde::Serialize;

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
    /// The opcode that imported it (`GLOBAL`, `STACK_GLOBAL`, `INST`, `EXT`).
    pub opcode: &'static str,
    /// Whether it is later called (`REDUCE`, `NEWOBJ`, `OBJ`, `INST`).
    pub called: bool,
    /// The judgement.
    pub verdict: Verdict,
    /// The byte offset of its first import.
    pub at: u64,
}

/// Whether a stream is a pickle.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(rename_all = "kebab-case")]
#[non_exhaustive]
pub enum ScanVerdict {
    /// An unpickler fails before STOP having called nothing and imported
    /// nothing dangerous.
    NotPickle,
    /// An unpickler reaches STOP, or calls a global or imports a dangerous
    /// one before it fails, or the stream starts with a protocol header.
    Pickle,
    /// A budget ran out before the question was decided: to be refused.
    Undecided,
}

/// What scanning a pickle stream found.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct PickleScan {
    /// Whether it is a pickle.
    pub verdict: ScanVerdict,
    /// Complete pickles read back to back from the start.
    pub pickles: usize,
    /// The byte offset just past the last complete pickle.
    pub end: u64,
    /// Highest protocol seen (`PROTO`), 0 when absent.
    pub protocol: u8,
    /// Every distinct global, in order of first appearance (including those
    /// imported by a pickle that breaks before its STOP).
    pub globals: Vec<Global>,
    /// What makes the stream invalid besides its globals: a pickle
    /// breaking after imports, a broken protocol header, an undecided scan.
    pub problems: Vec<String>,
    /// Offsets of `STACK_GLOBAL`s whose names could not be told.
    pub unresolved: Vec<u64>,
    /// Whether the only reason to call it a pickle is a protocol header at
    /// its first byte (no STOP was reached, nothing was imported).
    pub header_only: bool,
    /// Why the run of pickles ended, when not exactly at the end of the data.
    pub stopped: Option<String>,
    /// Whether persistent ids (`PERSID`, `BINPERSID`) call the loader's hook.
    pub persistent_ids: bool,
    /// The most bytes the stack model held at once.
    #[serde(skip)]
    pub peak_bytes: usize,
}

impl PickleScan {
    /// Whether anything found makes loading this pickle unsafe.
    #[cfg(any(test, fuzzing))]
    pub fn is_dangerous(&self) -> bool {
        !self.problems.is_empty()
            || !self.unresolved.is_empty()
            || self.globals.iter().any(|g| g.verdict != Verdict::Safe)
    }

    /// Whether unpickling could reach no code at all: no imports, no
    /// persistent ids, nothing undecided.
    pub fn is_inert(&self) -> bool {
        self.globals.is_empty()
            && !self.persistent_ids
            && self.problems.is_empty()
            && self.unresolved.is_empty()
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

/// Scans a whole pickle stream held in memory (see [`PickleStream`]).
#[cfg(any(test, fuzzing))]
pub fn scan(data: &[u8]) -> PickleScan {
    let mut stream = PickleStream::new();
    stream.update(data);
    stream.finish()
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
        assert!(s.problems.is_empty());
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
    fn truncated_and_garbage_streams() {
        // Cut after the global: it was imported before the break.
        let s = scan(&PROTO0_SYSTEM[..11]);
        assert_eq!(s.verdict, ScanVerdict::Pickle);
        assert!(
            s.problems[0].contains("importing a dangerous one"),
            "{:?}",
            s.problems
        );
        assert!(s.is_dangerous());
        // Cut before anything was imported: not a pickle.
        assert_eq!(scan(&PROTO0_SYSTEM[..10]).verdict, ScanVerdict::NotPickle);
        assert_eq!(scan(b"\xff\xfe garbage").verdict, ScanVerdict::NotPickle);
        assert_eq!(scan(b"R.").verdict, ScanVerdict::NotPickle);
        assert_eq!(scan(&[]).verdict, ScanVerdict::NotPickle);
        // A protocol header that breaks is a broken pickle.
        let s = scan(&[0x80, 4, 0x95, 1]);
        assert_eq!(s.verdict, ScanVerdict::Pickle);
        assert!(s.problems[0].contains("protocol 4"), "{:?}", s.problems);
        // A huge declared length is skipped, never allocated.
        let s = scan(&[
            0x80, 4, 0x8d, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0x7f,
        ]);
        assert!(s.is_dangerous());
    }

    #[test]
    fn any_first_opcode_and_trailing_bytes() {
        // Pickles that start with UNICODE, STRING, INT, FLOAT, NONE; each
        // followed by bytes that are not pickle.
        for p in [
            &b"Vhello\n."[..],
            b"S'x'\n.",
            b"I12\n.",
            b"F1.5\n.",
            b"N.",
            b"(lp0\nI1\naI2\na.",
        ] {
            let mut data = p.to_vec();
            data.extend_from_slice(b"\xff\xfe trailing text and bytes");
            let s = scan(&data);
            assert_eq!(s.verdict, ScanVerdict::Pickle, "{p:?}");
            assert_eq!(s.pickles, 1);
            assert_eq!(s.end, p.len() as u64);
            assert!(s.is_inert());
        }
        let mut evil = b"Vpayload\n0".to_vec();
        evil.extend_from_slice(PROTO0_SYSTEM);
        evil.extend_from_slice(b"trailing");
        let s = scan(&evil);
        assert_eq!(s.globals[0].name, "os.system");
        assert!(s.globals[0].called);
        // Text that no unpickler reads to STOP is not a pickle, even when
        // its first lines read as a GLOBAL of a module nobody would import
        // for its side effects.
        for text in [
            &b"2.0.1\n"[..],
            b"Notes.",
            b"hello world",
            b"I am text.\n",
            b"cat\ndog\nbird\n",
            b"certifi==2024.2.2\ncharset-normalizer==3.3.2\nidna==3.6\n",
        ] {
            assert_eq!(scan(text).verdict, ScanVerdict::NotPickle, "{text:?}");
        }
        // But a call before the break is a pickle: the unpickler made it.
        let s = scan(b"cmymodule\nhelper\n(tR\xff");
        assert_eq!(s.verdict, ScanVerdict::Pickle);
        assert!(s.globals[0].called);
    }

    #[test]
    fn every_pickle_of_a_run_is_judged_and_data_follows() {
        let mut data = Vec::new();
        data.extend_from_slice(&[0x80, 2, b'K', 7, b'.']); // a magic number
        data.extend_from_slice(&[0x80, 2, b'}', b'.']); // an empty dict
        data.extend_from_slice(PROTO0_SYSTEM); // the payload, third
        data.extend_from_slice(&[0x00, 0x10, 0xff, 0x7f]); // tensor data
        let s = scan(&data);
        assert_eq!(s.verdict, ScanVerdict::Pickle);
        assert_eq!(s.pickles, 3);
        assert_eq!(s.globals[0].name, "os.system");
        assert!(s.problems.is_empty(), "data after the run is no problem");
        assert!(s.stopped.is_some());
        // A pickle after the first that breaks after an import is reported.
        let mut data = vec![b'N', b'.'];
        data.extend_from_slice(b"cos\nsystem\n\xff");
        let s = scan(&data);
        assert_eq!(s.globals[0].name, "os.system");
        assert!(
            s.problems[0].contains("pickle 2 breaks"),
            "{:?}",
            s.problems
        );
    }

    #[test]
    fn shared_values_do_not_blow_up() {
        // A 1 MiB string, then DUP/MEMOIZE/BINGET and list building: a walker
        // that copies values would need terabytes.
        let mut p = vec![0x80, 4, 0x8d];
        p.extend_from_slice(&(1u64 << 20).to_le_bytes());
        p.extend(std::iter::repeat_n(b'a', 1 << 20));
        p.push(0x94);
        for _ in 0..200_000 {
            p.extend_from_slice(&[b'2', b'h', 0, 0x86, 0x94, b'0']);
        }
        p.extend_from_slice(&[b'(', b'h', 0, b'2', b'l', b'.']);
        let s = scan(&p);
        assert_eq!(s.verdict, ScanVerdict::Pickle);
        assert!(s.peak_bytes < 64 << 20, "{}", s.peak_bytes);
        // Pushing past the stack budget leaves the question undecided.
        let mut deep = vec![b'N'; machine::MAX_STACK + 1];
        deep.push(b'.');
        let s = scan(&deep);
        assert_eq!(s.verdict, ScanVerdict::Undecided);
        assert!(s.problems[0].contains("could not be decided"));
        assert!(s.peak_bytes < 64 << 20);
    }

    #[test]
    fn unresolvable_stack_global_is_a_problem() {
        // STACK_GLOBAL on two integers: no name to judge.
        let s = scan(&[0x80, 4, b'K', 1, b'K', 2, 0x93, b'.']);
        assert_eq!(s.unresolved, [6]);
        assert!(s.is_dangerous());
        assert!(!s.is_inert());
    }

    #[test]
    fn chunked_and_whole_scans_agree() {
        let mut samples: Vec<Vec<u8>> = vec![
            PROTO0_SYSTEM.to_vec(),
            b"S'os'\nS'system'\n\x93N\x85R.junk".to_vec(),
            b"Vline\nI0x1f\nF-1e5\nL12L\np0\n0g0\n(t.".to_vec(),
        ];
        let mut p = vec![0x80, 4, 0x8c, 2];
        p.extend_from_slice(b"os\x94\x8c\x06system\x94\x93h\x00\x8c\x01x\x85R.");
        samples.push(p);
        for data in samples {
            let whole = scan(&data);
            for cut in 0..=data.len() {
                let mut stream = PickleStream::new();
                stream.update(&data[..cut]);
                stream.update(&data[cut..]);
                let mut chunked = stream.finish();
                chunked.peak_bytes = whole.peak_bytes;
                assert_eq!(chunked, whole, "cut at {cut}");
            }
            let mut stream = PickleStream::new();
            for b in &data {
                stream.update(std::slice::from_ref(b));
            }
            let mut bytewise = stream.finish();
            bytewise.peak_bytes = whole.peak_bytes;
            assert_eq!(bytewise, whole);
        }
    }
}
