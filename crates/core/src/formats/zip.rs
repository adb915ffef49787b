//! Zip archives (PyTorch checkpoints, `.npz`, `.keras`) in one forward pass.
//!
//! Python's zipfile and PyTorch's reader find members through the central
//! directory at the end; a forward pass meets the local headers first. So
//! each member is scanned as its local header describes it, and at the end
//! the central directory must agree with what was met: the same members, at
//! the same offsets, with the same names, methods and sizes, one directory
//! entry each, nothing between or after them. Any disagreement, and anything
//! this pass cannot follow (encryption, other compression methods), is a
//! refusal, never "safe".

use super::member::{MemberReport, MemberScan};
use flate2::{Decompress, FlushDecompress, Status};
use std::collections::HashMap;

/// Most members followed.
pub const MAX_MEMBERS: usize = 100_000;
/// Most bytes of member names kept.
const MAX_NAMES: usize = 16 << 20;
/// Most bytes inflated per archive.
pub const MAX_INFLATE: u64 = 16 << 30;

const SIG_LOCAL: &[u8; 4] = b"PK\x03\x04";
const SIG_CENTRAL: &[u8; 4] = b"PK\x01\x02";
const SIG_ZIP64_END: &[u8; 4] = b"PK\x06\x06";
const SIG_ZIP64_LOCATOR: &[u8; 4] = b"PK\x06\x07";
const SIG_END: &[u8; 4] = b"PK\x05\x06";
const SIG_DESCRIPTOR: &[u8; 4] = b"PK\x07\x08";

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Phase {
    Members,
    Central,
    Zip64Record,
    Locator,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Z {
    Sig(Phase),
    LocalFixed,
    LocalVar,
    Stored { left: u64 },
    Deflated { left: Option<u64> },
    StoredDescribed,
    Descriptor,
    CentralFixed,
    CentralVar,
    Zip64Record,
    Locator,
    EndFixed,
    Comment { left: u64 },
    After,
    Done,
}

/// A local header as met.
#[derive(Debug)]
struct Local {
    offset: u64,
    name: Vec<u8>,
    method: u16,
    flags: u16,
    /// CRC and sizes from the header or its data descriptor.
    crc: u32,
    csize: u64,
    usize: Option<u64>,
    zip64: bool,
    matched: bool,
}

/// The member whose data is being read.
struct Current {
    scan: MemberScan,
    inflate: Option<Decompress>,
    /// Running CRC of the data (stored members with a data descriptor,
    /// and deflated ones whose size is only known at the end).
    crc: crc32fast::Hasher,
    count: u64,
    hold: Vec<u8>,
    stream_end: bool,
    corrupt: bool,
}

impl std::fmt::Debug for Current {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Current")
            .field("member", &self.scan.name)
            .finish()
    }
}

/// A zip archive read from its first byte.
#[derive(Debug)]
pub struct ZipStream {
    st: Z,
    pos: u64,
    buf: Vec<u8>,
    need: usize,
    locals: Vec<Local>,
    by_offset: HashMap<u64, usize>,
    name_bytes: usize,
    current: Option<Current>,
    out: Vec<u8>,
    inflated: u64,
    reports: Vec<MemberReport>,
    central_start: Option<u64>,
    central_entries: u64,
    central_names: Vec<String>,
    zip64_end: Option<(u64, u64, u64)>,
    comment: Vec<u8>,
    end_seen: bool,
    /// Why the archive is ambiguous.
    problem: Option<String>,
    /// Why the pass could not decide.
    undecided: Option<String>,
}

/// What the pass found.
#[derive(Debug)]
pub struct ZipReport {
    /// Member names (from the central directory when it was read).
    pub names: Vec<String>,
    /// Every member scanned, in archive order.
    pub members: Vec<MemberReport>,
    /// Why the archive is ambiguous or malformed.
    pub problem: Option<String>,
    /// Why the pass could not decide.
    pub undecided: Option<String>,
}

fn u16_at(b: &[u8], at: usize) -> u16 {
    u16::from_le_bytes([b[at], b[at + 1]])
}

fn u32_at(b: &[u8], at: usize) -> u32 {
    u32::from_le_bytes(b[at..at + 4].try_into().expect("4 bytes"))
}

fn u64_at(b: &[u8], at: usize) -> u64 {
    u64::from_le_bytes(b[at..at + 8].try_into().expect("8 bytes"))
}

/// The zip64 extra field's values, in the order the spec and zipfile read
/// them, one for each 32-bit field that is saturated (`wanted` of them).
fn zip64_values(extra: &[u8], wanted: usize) -> Option<Vec<u64>> {
    let mut at = 0;
    while at + 4 <= extra.len() {
        let id = u16_at(extra, at);
        let len = u16_at(extra, at + 2) as usize;
        let Some(body) = extra.get(at + 4..at + 4 + len) else {
            break;
        };
        if id == 1 {
            let values: Vec<u64> = body
                .chunks_exact(8)
                .take(wanted)
                .map(|c| u64::from_le_bytes(c.try_into().expect("8 bytes")))
                .collect();
            return (values.len() == wanted).then_some(values);
        }
        at += 4 + len;
    }
    (wanted == 0).then(Vec::new)
}

impl Default for ZipStream {
    fn default() -> Self {
        Self::new()
    }
}

impl ZipStream {
    /// A reader at the first byte of an archive.
    pub fn new() -> Self {
        ZipStream {
            st: Z::Sig(Phase::Members),
            pos: 0,
            buf: Vec::new(),
            need: 4,
            locals: Vec::new(),
            by_offset: HashMap::new(),
            name_bytes: 0,
            current: None,
            out: vec![0; 64 << 10],
            inflated: 0,
            reports: Vec::new(),
            central_start: None,
            central_entries: 0,
            central_names: Vec::new(),
            zip64_end: None,
            comment: Vec::new(),
            end_seen: false,
            problem: None,
            undecided: None,
        }
    }

    fn ambiguous(&mut self, why: String) {
        if self.problem.is_none() {
            self.problem = Some(why);
        }
        self.stop();
    }

    fn cannot(&mut self, why: String) {
        if self.undecided.is_none() {
            self.undecided = Some(why);
        }
        self.stop();
    }

    fn stop(&mut self) {
        if let Some(c) = self.current.take() {
            self.reports.push(c.scan.finish());
        }
        self.st = Z::Done;
    }

    /// Collects `self.need` bytes into `self.buf`; true when complete.
    fn collect(&mut self, input: &mut &[u8]) -> bool {
        let take = (self.need - self.buf.len()).min(input.len());
        self.buf.extend_from_slice(&input[..take]);
        *input = &input[take..];
        self.pos += take as u64;
        self.buf.len() == self.need
    }

    fn expect(&mut self, st: Z, need: usize) {
        self.st = st;
        self.need = need;
        self.buf.clear();
    }

    /// Feeds the next bytes of the archive.
    pub fn update(&mut self, mut input: &[u8]) {
        while !input.is_empty() {
            match self.st {
                Z::Done => return,
                Z::After => {
                    let at = self.pos;
                    self.ambiguous(format!("data after the end of the archive at byte {at}"));
                    return;
                }
                Z::Stored { left } => {
                    let take = left.min(input.len() as u64) as usize;
                    self.data(&input[..take]);
                    input = &input[take..];
                    self.pos += take as u64;
                    if take as u64 == left {
                        self.member_done(None);
                    } else {
                        self.st = Z::Stored {
                            left: left - take as u64,
                        };
                    }
                }
                Z::Deflated { left } => {
                    let take = left.map_or(input.len(), |l| l.min(input.len() as u64) as usize);
                    let used = self.inflate(&input[..take], left.is_none());
                    input = &input[used..];
                    self.pos += used as u64;
                    if self.st == Z::Done {
                        return;
                    }
                    match left {
                        Some(l) if used as u64 == l => self.member_done(None),
                        Some(l) => {
                            self.st = Z::Deflated {
                                left: Some(l - used as u64),
                            }
                        }
                        None if self.current.as_ref().is_some_and(|c| c.stream_end) => {
                            self.descriptor_start()
                        }
                        None => {}
                    }
                }
                Z::StoredDescribed => {
                    let used = self.stored_described(input);
                    input = &input[used..];
                    self.pos += used as u64;
                }
                Z::Comment { left } => {
                    let take = left.min(input.len() as u64) as usize;
                    self.comment.extend_from_slice(&input[..take]);
                    input = &input[take..];
                    self.pos += take as u64;
                    if take as u64 == left {
                        self.comment_done();
                    } else {
                        self.st = Z::Comment {
                            left: left - take as u64,
                        };
                    }
                }
                _ => {
                    if self.collect(&mut input) {
                        self.record();
                    }
                }
            }
        }
    }

    /// A fixed or variable record part is complete in `self.buf`.
    fn record(&mut self) {
        match self.st {
            Z::Sig(phase) => self.signature(phase),
            Z::LocalFixed => {
                let b = &self.buf;
                let extra = u16_at(b, 24) as usize + u16_at(b, 22) as usize;
                let keep = self.buf.clone();
                self.expect(Z::LocalVar, 26 + extra);
                self.buf = keep;
            }
            Z::LocalVar => self.local(),
            Z::Descriptor => self.descriptor(),
            Z::CentralFixed => {
                let b = &self.buf;
                let var = u16_at(b, 24) as usize + u16_at(b, 26) as usize + u16_at(b, 28) as usize;
                let keep = self.buf.clone();
                self.expect(Z::CentralVar, 42 + var);
                self.buf = keep;
            }
            Z::CentralVar => self.central(),
            Z::Zip64Record => {
                let b = &self.buf;
                let size = u64_at(b, 0);
                let (disk, cd_disk) = (u32_at(b, 12), u32_at(b, 16));
                let (on_disk, entries) = (u64_at(b, 20), u64_at(b, 28));
                let (cd_size, cd_offset) = (u64_at(b, 36), u64_at(b, 44));
                if disk != 0 || cd_disk != 0 || on_disk != entries {
                    return self.ambiguous("a zip64 end record for several disks".into());
                }
                if size != 44 {
                    // zipfile assumes no extensible data before the locator.
                    return self.ambiguous(format!(
                        "a zip64 end record of {size} bytes (zipfile reads 44)"
                    ));
                }
                self.zip64_end = Some((entries, cd_size, cd_offset));
                self.expect(Z::Sig(Phase::Zip64Record), 4);
            }
            Z::Locator => {
                let b = &self.buf;
                let (disk, disks) = (u32_at(b, 0), u32_at(b, 12));
                if disk != 0 || disks > 1 {
                    return self.ambiguous("a zip64 locator for several disks".into());
                }
                self.expect(Z::Sig(Phase::Locator), 4);
            }
            Z::EndFixed => self.end(),
            other => unreachable!("record in state {other:?}"),
        }
    }

    fn signature(&mut self, phase: Phase) {
        let sig: [u8; 4] = self.buf[..4].try_into().expect("4 bytes");
        let at = self.pos - 4;
        match (&sig, phase) {
            (SIG_LOCAL, Phase::Members) => self.expect(Z::LocalFixed, 26),
            (SIG_CENTRAL, Phase::Members | Phase::Central) => {
                if phase == Phase::Members {
                    self.central_start = Some(at);
                }
                self.expect(Z::CentralFixed, 42);
            }
            (SIG_ZIP64_END, Phase::Members | Phase::Central) => {
                if phase == Phase::Members {
                    self.central_start = Some(at);
                }
                self.expect(Z::Zip64Record, 52);
            }
            (SIG_ZIP64_LOCATOR, Phase::Zip64Record) => self.expect(Z::Locator, 16),
            (SIG_END, Phase::Members | Phase::Central | Phase::Locator) => {
                if phase == Phase::Members {
                    self.central_start = Some(at);
                }
                self.expect(Z::EndFixed, 18);
            }
            _ => self.ambiguous(format!(
                "unexpected bytes {sig:02x?} at byte {at} where a zip record should start"
            )),
        }
    }

    fn local(&mut self) {
        let b = std::mem::take(&mut self.buf);
        let offset = self.pos - 30 - (b.len() as u64 - 26);
        let flags = u16_at(&b, 2);
        let method = u16_at(&b, 4);
        let crc = u32_at(&b, 10);
        let (mut csize, mut usize) = (u64::from(u32_at(&b, 14)), u64::from(u32_at(&b, 18)));
        let n = u16_at(&b, 22) as usize;
        let name = b[26..26 + n].to_vec();
        let extra = &b[26 + n..];
        let shown = String::from_utf8_lossy(&name).into_owned();
        if self.locals.len() >= MAX_MEMBERS {
            return self.cannot(format!("more than {MAX_MEMBERS} members"));
        }
        self.name_bytes += name.len();
        if self.name_bytes > MAX_NAMES {
            return self.cannot(format!("more than {MAX_NAMES} bytes of member names"));
        }
        if flags & 0x41 != 0 {
            return self.cannot(format!("{shown}: an encrypted member cannot be scanned"));
        }
        if flags & 0x20 != 0 {
            return self.cannot(format!("{shown}: patched data cannot be scanned"));
        }
        let described = flags & 0x08 != 0;
        let wanted = usize::from(!described && usize == 0xffff_ffff)
            + usize::from(!described && csize == 0xffff_ffff);
        let Some(values) = zip64_values(extra, wanted) else {
            return self.ambiguous(format!("{shown}: a short zip64 extra field"));
        };
        let zip64 = extra_has_zip64(extra);
        let mut values = values.into_iter();
        if !described && usize == 0xffff_ffff {
            usize = values.next().unwrap_or(usize);
        }
        if !described && csize == 0xffff_ffff {
            csize = values.next().unwrap_or(csize);
        }
        let index = self.locals.len();
        if self.by_offset.insert(offset, index).is_some() {
            return self.ambiguous(format!("two members at byte {offset}"));
        }
        self.locals.push(Local {
            offset,
            name,
            method,
            flags,
            crc,
            csize,
            usize: (!described).then_some(usize),
            zip64,
            matched: false,
        });
        let inflate = match method {
            0 => None,
            8 => Some(Decompress::new(false)),
            m => {
                return self.cannot(format!("{shown}: compression method {m} cannot be scanned"));
            }
        };
        self.current = Some(Current {
            scan: MemberScan::new(shown),
            inflate,
            crc: crc32fast::Hasher::new(),
            count: 0,
            hold: Vec::new(),
            stream_end: false,
            corrupt: false,
        });
        self.st = match (method, described) {
            (0, false) => Z::Stored { left: csize },
            (0, true) => Z::StoredDescribed,
            (_, false) => Z::Deflated { left: Some(csize) },
            (_, true) => Z::Deflated { left: None },
        };
        if self.st == (Z::Stored { left: 0 }) || self.st == (Z::Deflated { left: Some(0) }) {
            self.member_done(None);
        }
    }

    /// Member bytes as stored: to the scan while it wants them.
    fn data(&mut self, bytes: &[u8]) {
        if let Some(c) = self.current.as_mut()
            && c.scan.wants_more()
        {
            c.scan.update(bytes);
        }
    }

    /// Inflates compressed bytes; returns how many were used. With
    /// `to_end`, inflates until the deflate stream ends whatever the scan
    /// wants; otherwise stops once the scan is satisfied and passes over
    /// the rest.
    fn inflate(&mut self, input: &[u8], to_end: bool) -> usize {
        let Some(c) = self.current.as_mut() else {
            return input.len();
        };
        if c.stream_end || c.corrupt || (!to_end && !c.scan.wants_more()) {
            return input.len();
        }
        let Some(d) = c.inflate.as_mut() else {
            return input.len();
        };
        let mut used = 0;
        let mut failure = None;
        loop {
            let (in0, out0) = (d.total_in(), d.total_out());
            let status = d.decompress(&input[used..], &mut self.out, FlushDecompress::None);
            let consumed = (d.total_in() - in0) as usize;
            let produced = (d.total_out() - out0) as usize;
            used += consumed;
            self.inflated += produced as u64;
            c.count += produced as u64;
            c.crc.update(&self.out[..produced]);
            if c.scan.wants_more() {
                c.scan.update(&self.out[..produced]);
            }
            match status {
                Ok(Status::StreamEnd) => {
                    c.stream_end = true;
                    break;
                }
                Ok(_) => {}
                Err(_) => {
                    // The decompressor's own message depends on where the
                    // input was split: it is left out.
                    c.corrupt = true;
                    if to_end {
                        failure = Some(format!("{}: corrupt deflate data", c.scan.name));
                    }
                    break;
                }
            }
            if self.inflated > MAX_INFLATE {
                failure = Some(String::new());
                break;
            }
            if consumed == 0 && produced == 0 {
                if to_end && used < input.len() {
                    // No progress with input left: never loop on it.
                    c.corrupt = true;
                    failure = Some(format!("{}: corrupt deflate data", c.scan.name));
                }
                break;
            }
            if !to_end && !c.scan.wants_more() {
                break;
            }
        }
        match failure {
            Some(why) if why.is_empty() => {
                self.cannot(format!("more than {MAX_INFLATE} bytes inflated"));
                used
            }
            Some(why) => {
                self.ambiguous(why);
                used
            }
            None if to_end => used,
            // Whatever was not inflated is passed over.
            None => input.len(),
        }
    }

    /// Stored data whose end is marked only by its data descriptor: the
    /// end is where a descriptor signature is followed by the CRC and size
    /// of exactly the bytes before it.
    fn stored_described(&mut self, input: &[u8]) -> usize {
        let zip64 = self.locals.last().is_some_and(|l| l.zip64);
        let d = if zip64 { 24 } else { 16 };
        let Some(c) = self.current.as_mut() else {
            return input.len();
        };
        if !c.hold.is_empty() {
            let held = c.hold.len();
            let mut joint = std::mem::take(&mut c.hold);
            joint.extend_from_slice(&input[..input.len().min(d)]);
            for i in 0..held {
                let rest = &joint[i..];
                let prefix = rest.len().min(4);
                if rest[..prefix] != SIG_DESCRIPTOR[..prefix] {
                    continue;
                }
                if rest.len() < d {
                    // Not enough bytes yet: keep them.
                    commit(c, &joint[..i]);
                    c.hold = joint[i..].to_vec();
                    return input.len();
                }
                let mut crc = c.crc.clone();
                crc.update(&joint[..i]);
                if descriptor_matches(&rest[..d], crc.finalize(), c.count + i as u64, zip64) {
                    commit(c, &joint[..i]);
                    let used = i + d - held;
                    self.described_end();
                    return used;
                }
            }
            commit(c, &joint[..held]);
        }
        let mut last = 0;
        for p in memchr::memmem::find_iter(input, SIG_DESCRIPTOR) {
            commit(c, &input[last..p]);
            last = p;
            if p + d > input.len() {
                c.hold = input[p..].to_vec();
                return input.len();
            }
            if descriptor_matches(&input[p..p + d], c.crc.clone().finalize(), c.count, zip64) {
                self.described_end();
                return p + d;
            }
        }
        // A signature cut at the end of the chunk.
        let tail = (1..4)
            .rev()
            .find(|&k| input.len() - last >= k && input.ends_with(&SIG_DESCRIPTOR[..k]))
            .unwrap_or(0);
        commit(c, &input[last..input.len() - tail]);
        c.hold = input[input.len() - tail..].to_vec();
        input.len()
    }

    fn described_end(&mut self) {
        let Some(c) = self.current.as_ref() else {
            return;
        };
        let (crc, size) = (c.crc.clone().finalize(), c.count);
        self.member_done(Some((crc, size, size)));
    }

    fn descriptor_start(&mut self) {
        let zip64 = self.locals.last().is_some_and(|l| l.zip64);
        // Signature (optional) first: collect 4 bytes, then decide.
        self.expect(Z::Descriptor, 4);
        self.buf.reserve(if zip64 { 24 } else { 16 });
    }

    fn descriptor(&mut self) {
        let zip64 = self.locals.last().is_some_and(|l| l.zip64);
        let body = if zip64 { 20 } else { 12 };
        let signed = self.buf.starts_with(SIG_DESCRIPTOR);
        let full = body + if signed { 4 } else { 0 };
        if self.buf.len() < full {
            self.need = full;
            return;
        }
        let b = if signed {
            &self.buf[4..]
        } else {
            &self.buf[..]
        };
        let crc = u32_at(b, 0);
        let (csize, usize) = if zip64 {
            (u64_at(b, 4), u64_at(b, 12))
        } else {
            (u64::from(u32_at(b, 4)), u64::from(u32_at(b, 8)))
        };
        let Some(c) = self.current.as_ref() else {
            return;
        };
        let actual_in = c.inflate.as_ref().map_or(c.count, |d| d.total_in());
        let (actual_crc, actual_out) = (c.crc.clone().finalize(), c.count);
        let name = c.scan.name.clone();
        if crc != actual_crc || csize != actual_in || usize != actual_out {
            return self.ambiguous(format!(
                "{name}: its data descriptor does not describe its data"
            ));
        }
        self.member_done(Some((crc, csize, usize)));
    }

    /// The member's data is over; `described` carries its descriptor.
    fn member_done(&mut self, described: Option<(u32, u64, u64)>) {
        let Some(c) = self.current.take() else { return };
        if let Some(l) = self.locals.last_mut() {
            if let Some((crc, csize, usize)) = described {
                l.crc = crc;
                l.csize = csize;
                l.usize = Some(usize);
            } else if l.method == 0 {
                l.usize = Some(l.csize);
            }
        }
        self.reports.push(c.scan.finish());
        self.expect(Z::Sig(Phase::Members), 4);
    }

    fn central(&mut self) {
        let b = std::mem::take(&mut self.buf);
        self.expect(Z::Sig(Phase::Central), 4);
        self.central_entries += 1;
        let flags = u16_at(&b, 4);
        let method = u16_at(&b, 6);
        let crc = u32_at(&b, 12);
        let (mut csize, mut usize) = (u64::from(u32_at(&b, 16)), u64::from(u32_at(&b, 20)));
        let (n, x) = (u16_at(&b, 24) as usize, u16_at(&b, 26) as usize);
        let disk = u16_at(&b, 30);
        let mut offset = u64::from(u32_at(&b, 38));
        let name = &b[42..42 + n];
        let extra = &b[42 + n..42 + n + x];
        let shown = String::from_utf8_lossy(name).into_owned();
        let wanted = [usize, csize, offset]
            .iter()
            .filter(|v| **v == 0xffff_ffff)
            .count();
        let Some(values) = zip64_values(extra, wanted) else {
            return self.ambiguous(format!(
                "{shown}: a short zip64 extra field in the directory"
            ));
        };
        let mut values = values.into_iter();
        for v in [&mut usize, &mut csize, &mut offset] {
            if *v == 0xffff_ffff {
                *v = values.next().unwrap_or(*v);
            }
        }
        if disk != 0 && disk != 0xffff {
            return self.ambiguous(format!("{shown}: on disk {disk}"));
        }
        let Some(&index) = self.by_offset.get(&offset) else {
            return self.ambiguous(format!(
                "the directory names {shown:?} at byte {offset}, where no member starts"
            ));
        };
        let l = &mut self.locals[index];
        let local_name = String::from_utf8_lossy(&l.name).into_owned();
        let mismatch = if l.matched {
            Some("listed twice")
        } else if l.name != name {
            Some("a different name")
        } else if l.method != method {
            Some("a different compression method")
        } else if l.csize != csize {
            Some("a different compressed size")
        } else if l.usize.is_some_and(|u| u != usize) {
            Some("a different size")
        } else if l.crc != crc {
            Some("a different CRC")
        } else if (l.flags ^ flags) & 0x41 != 0 {
            Some("different flags")
        } else {
            None
        };
        l.matched = true;
        if let Some(m) = mismatch {
            return self.ambiguous(format!(
                "the directory gives {shown:?} {m} than its local header ({local_name:?})"
            ));
        }
        self.central_names.push(shown);
    }

    fn end(&mut self) {
        let b = std::mem::take(&mut self.buf);
        let (disk, cd_disk) = (u16_at(&b, 0), u16_at(&b, 2));
        let (on_disk, entries) = (u16_at(&b, 4), u16_at(&b, 6));
        let (cd_size, cd_offset) = (u32_at(&b, 8), u32_at(&b, 12));
        let comment = u16_at(&b, 16);
        let end_at = self.pos - 22;
        let start = self.central_start.unwrap_or(end_at);
        let records_end = match self.zip64_end {
            Some(_) => end_at - 76,
            None => end_at,
        };
        let actual = (self.central_entries, records_end - start, start);
        let (entries64, size64, offset64) = self.zip64_end.unwrap_or((
            u64::from(entries),
            u64::from(cd_size),
            u64::from(cd_offset),
        ));
        let saturated_ok = |v32: u64, max: u64, actual: u64| {
            v32 == actual || (self.zip64_end.is_some() && v32 == max)
        };
        let consistent = disk == 0
            && cd_disk == 0
            && on_disk == entries
            && (entries64, size64, offset64) == actual
            && saturated_ok(u64::from(entries), 0xffff, actual.0)
            && saturated_ok(u64::from(cd_size), 0xffff_ffff, actual.1)
            && saturated_ok(u64::from(cd_offset), 0xffff_ffff, actual.2);
        if !consistent {
            return self.ambiguous(format!(
                "the end record says {entries64} entries, {size64} bytes at byte {offset64}; \
                 the directory has {} entries, {} bytes at byte {}",
                actual.0, actual.1, actual.2
            ));
        }
        if let Some(l) = self.locals.iter().find(|l| !l.matched) {
            let name = String::from_utf8_lossy(&l.name).into_owned();
            return self.ambiguous(format!(
                "the member {name:?} at byte {} is not in the central directory",
                l.offset
            ));
        }
        self.end_seen = true;
        self.st = Z::Comment {
            left: u64::from(comment),
        };
        if comment == 0 {
            self.comment_done();
        }
    }

    fn comment_done(&mut self) {
        if memchr::memmem::find(&self.comment, SIG_END).is_some() {
            return self.ambiguous(
                "the archive comment holds another end record (zipfile would read that one)".into(),
            );
        }
        self.st = Z::After;
    }

    /// Ends the archive.
    pub fn finish(mut self) -> ZipReport {
        if self.st != Z::After && self.st != Z::Done {
            let at = self.pos;
            self.ambiguous(format!(
                "the archive ends at byte {at} before its end record"
            ));
        }
        if let Some(c) = self.current.take() {
            self.reports.push(c.scan.finish());
        }
        let names = if self.end_seen {
            self.central_names
        } else {
            self.locals
                .iter()
                .map(|l| String::from_utf8_lossy(&l.name).into_owned())
                .collect()
        };
        ZipReport {
            names,
            members: self.reports,
            problem: self.problem,
            undecided: self.undecided,
        }
    }
}

fn extra_has_zip64(extra: &[u8]) -> bool {
    let mut at = 0;
    while at + 4 <= extra.len() {
        if u16_at(extra, at) == 1 {
            return true;
        }
        at += 4 + u16_at(extra, at + 2) as usize;
    }
    false
}

/// Commits stored bytes: counted, CRC'd, and scanned while wanted.
fn commit(c: &mut Current, bytes: &[u8]) {
    if bytes.is_empty() {
        return;
    }
    c.crc.update(bytes);
    c.count += bytes.len() as u64;
    if c.scan.wants_more() {
        c.scan.update(bytes);
    }
}

fn descriptor_matches(d: &[u8], crc: u32, size: u64, zip64: bool) -> bool {
    if !d.starts_with(SIG_DESCRIPTOR) || u32_at(d, 4) != crc {
        return false;
    }
    if zip64 {
        u64_at(d, 8) == size && u64_at(d, 16) == size
    } else {
        u64::from(u32_at(d, 8)) == size && u64::from(u32_at(d, 12)) == size
    }
}
