//! Differential test with Python as the oracle: whenever Python reads a
//! stream to STOP (pickletools.dis, or the C or pure-Python unpickler with
//! every import replaced by an inert stand-in), modelseal must call it a
//! pickle. Cases come from `tests/differential/pickle_oracle.py` with a
//! fixed seed: opcode-level programs, every first opcode, argument forms the
//! readers disagree on, text-like protocol 0, pickle.dumps of protocols 0
//! to 5, and mutations (truncations, byte flips, trailing bytes, runs of
//! pickles, polyglot prefixes). Needs python3; fails without it.

// The test prints its tallies, as the integration tests do.
#![allow(clippy::disallowed_macros)]

use super::{PickleStream, ScanVerdict, scan};
use crate::formats::{Format, inspect_bytes};
use std::collections::BTreeMap;
use std::path::Path;
use std::process::Command;

const SEED: &str = "20261130";
const CASES: &str = "4400";
const CATEGORIES: [&str; 11] = [
    "dumps",
    "opcode-walk",
    "first-opcode",
    "text-protocol-0",
    "argument-forms",
    "truncated",
    "byte-flip",
    "insert-delete",
    "trailing-bytes",
    "pickle-run",
    "polyglot-prefix",
];

struct Case {
    category: usize,
    flags: u8,
    data: Vec<u8>,
}

fn cases() -> Vec<Case> {
    let script = Path::new(concat!(env!("CARGO_MANIFEST_DIR"), "/../.."))
        .join("tests/differential/pickle_oracle.py");
    let out = tempfile::NamedTempFile::new().unwrap();
    let status = Command::new("python3")
        .arg(&script)
        .args([SEED, CASES])
        .arg(out.path())
        .status()
        .expect("python3 is needed for the differential pickle test");
    assert!(status.success(), "the oracle failed: {status}");
    let bytes = std::fs::read(out.path()).unwrap();
    let mut rest = bytes
        .strip_prefix(b"MSPK1\n")
        .expect("oracle output header");
    let mut cases = Vec::new();
    while !rest.is_empty() {
        let len = u32::from_le_bytes(rest[..4].try_into().unwrap()) as usize;
        cases.push(Case {
            category: rest[4] as usize,
            flags: rest[5],
            data: rest[6..6 + len].to_vec(),
        });
        rest = &rest[6 + len..];
    }
    cases
}

#[derive(Default, Debug)]
struct Tally {
    cases: usize,
    genops: usize,
    dis: usize,
    c_unpickler: usize,
    py_unpickler: usize,
    python_pickle: usize,
    modelseal_pickle: usize,
    agree: usize,
    inert_polyglots: usize,
    genops_only: usize,
    modelseal_only: usize,
    timeouts: usize,
}

#[test]
fn modelseal_calls_pickle_whatever_python_reads_to_stop() {
    let cases = cases();
    assert_eq!(cases.len(), CASES.parse::<usize>().unwrap());
    let mut t = Tally::default();
    let mut per_category: BTreeMap<&str, (usize, usize)> = BTreeMap::new();
    let mut misses = Vec::new();
    for (i, c) in cases.iter().enumerate() {
        t.cases += 1;
        let genops = c.flags & 1 != 0;
        let python = c.flags & 0b1110 != 0;
        t.genops += usize::from(genops);
        t.dis += usize::from(c.flags & 2 != 0);
        t.c_unpickler += usize::from(c.flags & 4 != 0);
        t.py_unpickler += usize::from(c.flags & 8 != 0);
        t.timeouts += usize::from(c.flags & 16 != 0);
        t.python_pickle += usize::from(python);

        let s = scan(&c.data);
        // The same verdict when the stream arrives in two pieces.
        let mut split = PickleStream::new();
        let cut = (i * 7919) % (c.data.len() + 1);
        split.update(&c.data[..cut]);
        split.update(&c.data[cut..]);
        let mut split = split.finish();
        split.peak_bytes = s.peak_bytes;
        assert_eq!(split, s, "case {i}: split at {cut}");

        let ours = s.verdict == ScanVerdict::Pickle;
        t.modelseal_pickle += usize::from(ours);
        let report = inspect_bytes("case", &c.data);
        let entry = per_category.entry(CATEGORIES[c.category]).or_default();
        entry.0 += usize::from(python);
        if python {
            let exempt = report.format != Format::Pickle
                && report
                    .findings
                    .iter()
                    .any(|f| f.message.contains("also unpickle to a plain value"));
            t.inert_polyglots += usize::from(exempt);
            if ours && (report.format == Format::Pickle || exempt) {
                t.agree += 1;
                entry.1 += 1;
            } else {
                misses.push(format!(
                    "case {i} ({}, flags {:#x}): {:?} / {:?}: {}",
                    CATEGORIES[c.category],
                    c.flags,
                    s.verdict,
                    report.format,
                    hex(&c.data)
                ));
            }
        } else if ours {
            t.modelseal_only += 1;
        }
        if genops && !ours {
            t.genops_only += 1;
        }
    }
    eprintln!("differential pickle test (seed {SEED}): {t:#?}");
    eprintln!("per category (Python reads to STOP, modelseal agrees): {per_category:#?}");
    assert!(
        misses.is_empty(),
        "{} of {} cases Python reads to STOP are not called pickle:\n{}",
        misses.len(),
        t.python_pickle,
        misses[..misses.len().min(20)].join("\n")
    );
    assert_eq!(t.timeouts, 0, "the oracle timed out");
    // The generator must keep producing both kinds of cases.
    assert!(t.python_pickle > t.cases / 5, "{t:?}");
    assert!(t.python_pickle < t.cases * 4 / 5, "{t:?}");
}

fn hex(b: &[u8]) -> String {
    let shown: String = b.iter().take(80).map(|x| format!("{x:02x}")).collect();
    if b.len() > 80 {
        format!("{shown}... ({} bytes)", b.len())
    } else {
        shown
    }
}
