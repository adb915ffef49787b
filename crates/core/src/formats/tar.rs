//! Tar archives (legacy PyTorch checkpoints) in one forward pass, read the
//! way Python's tarfile reads them: header checksums, octal or base-256
//! numbers, GNU long names and pax records (which may replace a member's
//! name and size), and the end at the first zero block. Every member's
//! content is scanned; a header tarfile would stop at, or data after the
//! end, makes the archive ambiguous.

use super::member::{MemberReport, MemberScan};

/// Most members followed.
pub const MAX_MEMBERS: usize = 100_000;
/// Largest long-name or pax record block read.
const MAX_META: u64 = 1 << 20;

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Kind {
    Member,
    LongName,
    Pax { global: bool },
    Skip,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum T {
    Header,
    Data { left: u64, pad: u64, kind: Kind },
    End,
    Done,
}

/// Name and size replacements waiting for the next member.
#[derive(Debug, Default, Clone)]
struct Pending {
    name: Option<Vec<u8>>,
    size: Option<u64>,
}

/// A tar archive read from its first byte.
#[derive(Debug)]
pub struct TarStream {
    st: T,
    pos: u64,
    block: Vec<u8>,
    meta: Vec<u8>,
    pending: Vec<Pending>,
    global: Pending,
    current: Option<MemberScan>,
    members: usize,
    reports: Vec<MemberReport>,
    names: Vec<String>,
    problem: Option<String>,
    undecided: Option<String>,
}

/// What the pass found.
#[derive(Debug)]
pub struct TarReport {
    /// Member names.
    pub names: Vec<String>,
    /// Every member with content, scanned.
    pub members: Vec<MemberReport>,
    /// Why the archive is ambiguous or malformed.
    pub problem: Option<String>,
    /// Why the pass could not decide.
    pub undecided: Option<String>,
}

/// Python's `nts`: up to the first NUL.
fn nts(b: &[u8]) -> &[u8] {
    &b[..b.iter().position(|&c| c == 0).unwrap_or(b.len())]
}

/// Python's `nti`: a base-256 or octal number field.
pub fn nti(b: &[u8]) -> Option<i128> {
    if b.first() == Some(&0o200) || b.first() == Some(&0o377) {
        let mut n: i128 = 0;
        for &c in &b[1..] {
            n = (n << 8) | i128::from(c);
        }
        if b[0] == 0o377 {
            n -= 1i128 << (8 * (b.len() - 1));
        }
        return Some(n);
    }
    let s = std::str::from_utf8(nts(b))
        .ok()?
        .trim_matches(|c: char| c.is_ascii_whitespace());
    if s.is_empty() {
        return Some(0);
    }
    let digits = s
        .strip_prefix("0o")
        .or_else(|| s.strip_prefix("0O"))
        .unwrap_or(s);
    if digits.is_empty()
        || digits.starts_with('_')
        || digits.ends_with('_')
        || digits.contains("__")
        || !digits
            .bytes()
            .all(|c| (b'0'..=b'7').contains(&c) || c == b'_')
    {
        return None;
    }
    i128::from_str_radix(&digits.replace('_', ""), 8).ok()
}

/// Whether a 512-byte block is a tar header with a valid checksum.
pub fn valid_header(b: &[u8]) -> bool {
    if b.len() < 512 {
        return false;
    }
    let Some(sum) = nti(&b[148..156]) else {
        return false;
    };
    let (mut unsigned, mut signed) = (256i128, 256i128);
    for (i, &c) in b[..512].iter().enumerate() {
        if (148..156).contains(&i) {
            continue;
        }
        unsigned += i128::from(c);
        signed += i128::from(c as i8);
    }
    sum == unsigned || sum == signed
}

impl Default for TarStream {
    fn default() -> Self {
        Self::new()
    }
}

impl TarStream {
    /// A reader at the first byte of an archive.
    pub fn new() -> Self {
        TarStream {
            st: T::Header,
            pos: 0,
            block: Vec::with_capacity(512),
            meta: Vec::new(),
            pending: Vec::new(),
            global: Pending::default(),
            current: None,
            members: 0,
            reports: Vec::new(),
            names: Vec::new(),
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

    fn stop(&mut self) {
        if let Some(c) = self.current.take() {
            self.reports.push(c.finish());
        }
        self.st = T::Done;
    }

    /// Feeds the next bytes of the archive.
    pub fn update(&mut self, mut input: &[u8]) {
        while !input.is_empty() {
            match self.st {
                T::Done => return,
                T::End => {
                    if let Some(i) = input.iter().position(|&c| c != 0) {
                        let at = self.pos + i as u64;
                        self.ambiguous(format!(
                            "data after the end of the tar archive at byte {at}"
                        ));
                    }
                    self.pos += input.len() as u64;
                    return;
                }
                T::Header => {
                    let take = (512 - self.block.len()).min(input.len());
                    self.block.extend_from_slice(&input[..take]);
                    input = &input[take..];
                    self.pos += take as u64;
                    if self.block.len() == 512 {
                        self.header();
                        self.block.clear();
                    }
                }
                T::Data { left, pad, kind } => {
                    if left > 0 {
                        let take = left.min(input.len() as u64) as usize;
                        self.content(kind, &input[..take]);
                        input = &input[take..];
                        self.pos += take as u64;
                        self.st = T::Data {
                            left: left - take as u64,
                            pad,
                            kind,
                        };
                        if take as u64 == left {
                            self.content_done(kind);
                        }
                    } else {
                        let take = pad.min(input.len() as u64) as usize;
                        input = &input[take..];
                        self.pos += take as u64;
                        self.st = if take as u64 == pad {
                            T::Header
                        } else {
                            T::Data {
                                left: 0,
                                pad: pad - take as u64,
                                kind,
                            }
                        };
                    }
                }
            }
        }
    }

    fn header(&mut self) {
        let at = self.pos - 512;
        if self.block.iter().all(|&c| c == 0) {
            self.st = T::End;
            return;
        }
        if !valid_header(&self.block) {
            return self.ambiguous(format!(
                "a tar header with a bad checksum at byte {at} (tarfile stops reading there)"
            ));
        }
        let b = &self.block;
        let Some(size) = nti(&b[124..136]).filter(|s| *s >= 0 && *s <= i64::MAX as i128) else {
            return self.ambiguous(format!("a tar header with a bad size at byte {at}"));
        };
        let mut size = size as u64;
        let mut kind_byte = b[156];
        let mut name = nts(&b[..100]).to_vec();
        let gnu_types = [b'L', b'K', b'S'];
        if &b[257..265] == b"ustar\x0000" {
            let prefix = nts(&b[345..500]);
            if !prefix.is_empty() && !gnu_types.contains(&kind_byte) {
                let mut full = prefix.to_vec();
                full.push(b'/');
                full.extend_from_slice(&name);
                name = full;
            }
        }
        if kind_byte == 0 && name.ends_with(b"/") {
            kind_byte = b'5';
        }
        let meta = |global| {
            if size > MAX_META {
                None
            } else {
                Some(Kind::Pax { global })
            }
        };
        let kind = match kind_byte {
            b'L' => {
                if size > MAX_META {
                    return self.cannot(format!("a {size}-byte long name"));
                }
                Kind::LongName
            }
            b'K' => Kind::Skip,
            b'x' | b'X' | b'g' => match meta(kind_byte == b'g') {
                Some(k) => k,
                None => return self.cannot(format!("{size} bytes of pax records")),
            },
            b'S' => return self.cannot("a sparse tar member cannot be scanned".into()),
            b'1' | b'2' | b'3' | b'4' | b'5' | b'6' => {
                // Links, devices, directories: no data follows.
                self.apply_pending(&mut name, &mut size);
                self.names.push(String::from_utf8_lossy(&name).into_owned());
                self.st = T::Header;
                return;
            }
            // Regular files, and types tarfile does not know (read as files).
            _ => {
                self.apply_pending(&mut name, &mut size);
                self.members += 1;
                if self.members > MAX_MEMBERS {
                    return self.cannot(format!("more than {MAX_MEMBERS} members"));
                }
                let shown = String::from_utf8_lossy(&name).into_owned();
                self.names.push(shown.clone());
                self.current = Some(MemberScan::new(shown));
                Kind::Member
            }
        };
        self.meta.clear();
        let pad = (512 - size % 512) % 512;
        self.st = T::Data {
            left: size,
            pad,
            kind,
        };
        if size == 0 {
            self.content_done(kind);
        }
    }

    fn cannot(&mut self, why: String) {
        if self.undecided.is_none() {
            self.undecided = Some(why);
        }
        self.stop();
    }

    /// The earliest pending replacement wins, as tarfile applies the
    /// outermost extended header last.
    fn apply_pending(&mut self, name: &mut Vec<u8>, size: &mut u64) {
        for p in self.pending.drain(..).rev() {
            if let Some(n) = p.name {
                *name = n;
            }
            if let Some(s) = p.size {
                *size = s;
            }
        }
    }

    fn content(&mut self, kind: Kind, bytes: &[u8]) {
        match kind {
            Kind::Member => {
                if let Some(c) = self.current.as_mut()
                    && c.wants_more()
                {
                    c.update(bytes);
                }
            }
            Kind::LongName | Kind::Pax { .. } => self.meta.extend_from_slice(bytes),
            Kind::Skip => {}
        }
    }

    fn content_done(&mut self, kind: Kind) {
        match kind {
            Kind::Member => {
                if let Some(c) = self.current.take() {
                    self.reports.push(c.finish());
                }
            }
            Kind::LongName => self.pending.push(Pending {
                name: Some(nts(&self.meta).to_vec()),
                size: None,
            }),
            Kind::Pax { global } => {
                let records = std::mem::take(&mut self.meta);
                let mut p = if global {
                    Pending::default()
                } else {
                    self.global.clone()
                };
                if let Err(why) = pax(&records, &mut p) {
                    return self.ambiguous(why.to_string());
                }
                if global {
                    if p.name.is_some() {
                        self.global.name = p.name;
                    }
                    if p.size.is_some() {
                        self.global.size = p.size;
                    }
                } else {
                    self.pending.push(p);
                }
            }
            Kind::Skip => {}
        }
    }

    /// Ends the archive.
    pub fn finish(mut self) -> TarReport {
        match self.st {
            T::Data { left, .. } if left > 0 => {
                let at = self.pos;
                self.ambiguous(format!("the tar archive ends inside a member at byte {at}"));
            }
            T::Header if self.block.iter().any(|&c| c != 0) => {
                let at = self.pos;
                self.ambiguous(format!("the tar archive ends inside a header at byte {at}"));
            }
            _ => {}
        }
        if let Some(c) = self.current.take() {
            self.reports.push(c.finish());
        }
        TarReport {
            names: self.names,
            members: self.reports,
            problem: self.problem,
            undecided: self.undecided,
        }
    }
}

/// Why pax records stop the scan.
#[derive(Debug, thiserror::Error)]
enum PaxError {
    /// A record whose length does not fit.
    #[error("a malformed pax record")]
    Malformed,
    /// GNU sparse members, whose data is not stored in order.
    #[error("a sparse tar member cannot be scanned")]
    Sparse,
}

/// Parses pax records (`"%d %s=%s\n"`) into name and size replacements.
fn pax(records: &[u8], p: &mut Pending) -> Result<(), PaxError> {
    let mut at = 0;
    while at < records.len() {
        let rest = &records[at..];
        let Some(space) = rest.iter().position(|&c| c == b' ') else {
            break;
        };
        let Ok(len) = std::str::from_utf8(&rest[..space])
            .unwrap_or("")
            .parse::<usize>()
        else {
            break;
        };
        if len == 0 || len > rest.len() || len <= space + 1 {
            return Err(PaxError::Malformed);
        }
        let record = &rest[space + 1..len];
        let record = record.strip_suffix(b"\n").unwrap_or(record);
        if let Some(eq) = record.iter().position(|&c| c == b'=') {
            let (key, value) = (&record[..eq], &record[eq + 1..]);
            match key {
                b"path" => p.name = Some(value.to_vec()),
                b"size" => {
                    p.size = Some(
                        std::str::from_utf8(value)
                            .ok()
                            .and_then(|v| v.trim().parse().ok())
                            .unwrap_or(0),
                    )
                }
                k if k.starts_with(b"GNU.sparse.") => {
                    return Err(PaxError::Sparse);
                }
                _ => {}
            }
        }
        at += len;
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    fn tar_of(members: &[(&str, &[u8])]) -> Vec<u8> {
        let mut b = ::tar::Builder::new(Vec::new());
        for (name, data) in members {
            let mut h = ::tar::Header::new_gnu();
            h.set_size(data.len() as u64);
            h.set_mode(0o644);
            h.set_cksum();
            b.append_data(&mut h, name, *data).unwrap();
        }
        b.into_inner().unwrap()
    }

    fn read(data: &[u8], chunk: usize) -> TarReport {
        let mut t = TarStream::new();
        for c in data.chunks(chunk) {
            t.update(c);
        }
        t.finish()
    }

    #[test]
    fn members_and_long_names() {
        let long = format!("{}/pickle", "d".repeat(150));
        let data = tar_of(&[("storages", b"N."), (&long, b"\x80\x02N.")]);
        for chunk in [1, 7, 512, data.len()] {
            let r = read(&data, chunk);
            assert_eq!(r.problem, None);
            assert_eq!(r.names, ["storages".to_string(), long.clone()]);
            assert_eq!(r.members.len(), 2);
            assert_eq!(r.members[1].pickle.pickles, 1);
        }
    }

    #[test]
    fn bad_headers_and_trailing_data_are_ambiguous() {
        let mut data = tar_of(&[("a", b"xyz")]);
        let r = read(&data, 100);
        assert_eq!(r.problem, None);
        data.extend_from_slice(b"hidden");
        assert!(read(&data, 100).problem.unwrap().contains("after the end"));
        let mut data = tar_of(&[("a", b"xyz"), ("b", b"xyz")]);
        data[1024 + 10] ^= 1;
        assert!(read(&data, 100).problem.unwrap().contains("checksum"));
        let data = tar_of(&[("a", &[7u8; 2000])]);
        assert!(
            read(&data[..1500], 100)
                .problem
                .unwrap()
                .contains("inside a member")
        );
    }

    #[test]
    fn numbers_as_tarfile_reads_them() {
        assert_eq!(nti(b"0000644\0"), Some(0o644));
        assert_eq!(nti(b"  17 \0"), Some(0o17));
        assert_eq!(nti(b"\0\0\0"), Some(0));
        assert_eq!(nti(&[0o200, 0, 0, 1, 0]), Some(256));
        assert_eq!(nti(b"9\0"), None);
    }
}
