//! The root group's attributes of an HDF5 file, read as h5py over libhdf5
//! reads them: Keras `.h5` models keep `model_config`, `training_config`,
//! `keras_version` and `backend` there. The file's bytes stream past once,
//! in order, with no random access, and memory stays bounded.
//!
//! HDF5 metadata points anywhere in the file, so the reader is lazy. A parse
//! starts from the superblock and reads through a sparse store of kept
//! bytes; when it needs bytes the stream has not brought yet, it registers
//! them as wanted and stops, and it runs again once they have arrived (each
//! run starts over: kept bytes never change). Structures a parse learns it
//! will need later (continuation blocks, a heap's blocks, a B-tree's nodes,
//! a string's global heap collection) are wanted at once as hints, which do
//! not stop it, so that they are kept as they stream past.
//!
//! Kept are the first `HEAD` bytes from the superblock on, the last `TRAIL`
//! bytes streamed (structures often point a little backwards), whole any
//! global heap collection that starts in the head window (a `model_config`
//! string is written first, and attributes moved to dense storage later
//! still point to it), and the wanted regions: at most [`MAX_KEPT`] bytes in
//! all. Metadata that lies before the stream's position and was not kept
//! makes the outcome [`Hdf5Error::Undecided`], as do unsupported features
//! and exceeded limits: never a silently shortened attribute list.
//!
//! Read: superblocks 0 to 3, object headers 1 and 2 with their continuation
//! blocks, attribute messages 1 to 3 in the header (compact storage) and in
//! a fractal heap indexed by a v2 B-tree (dense storage: managed, huge and
//! tiny heap objects), all checksums; the values of string attributes, fixed
//! or variable length (from the global heap). Other values are described.
//! All arithmetic is checked, recursion is bounded, and allocations are
//! capped by what is kept.

use std::collections::{BTreeMap, BTreeSet, HashSet, VecDeque};
use std::fmt::Display;

/// Most bytes of HDF5 metadata kept from the stream (head window, trailing
/// window and captured regions together).
pub(crate) const MAX_KEPT: u64 = 16 << 20;
/// Bytes kept from the superblock on, whatever else is wanted: the root
/// group's header and its first structures live there.
const HEAD: u64 = 1 << 20;
/// The last bytes streamed are kept for structures that point backwards.
const TRAIL: u64 = 1 << 20;
/// Bytes kept past the head window, so that a collection's header that
/// starts in it can be read whole.
const SCAN_SLACK: u64 = 64;
/// Most times the parse runs again as wanted bytes arrive.
const MAX_RUNS: u32 = 10_000;
/// Most steps (structures visited, 64 bytes checksummed) in one parse.
const MAX_PARSE_STEPS: u64 = 1 << 22;
/// Most steps over all parses of one file.
const MAX_TOTAL_STEPS: u64 = 1 << 25;
/// Bytes checksummed for one step.
const HASH_BYTES_PER_STEP: u64 = 64;
/// Most blocks one object header spreads over.
const MAX_CHUNKS: usize = 4096;
/// Most messages read from one object header.
const MAX_MESSAGES: usize = 1 << 16;
/// Deepest v2 B-tree followed.
const MAX_BTREE_DEPTH: u16 = 32;
/// Deepest nesting of fractal heap indirect blocks followed.
const MAX_HEAP_DEPTH: usize = 64;
/// Most structures one parse asks to keep ahead of need.
const MAX_HINTS: usize = 4096;
/// Most hinted regions awaited at once.
const MAX_TRIGGERS: usize = 4096;
/// libhdf5's limit on a dataspace's rank.
const MAX_RANK: u8 = 32;

const SIGNATURE: &[u8; 8] = b"\x89HDF\r\n\x1a\n";

/// Header message types.
const MSG_NULL: u16 = 0x00;
const MSG_BOGUS: u16 = 0x09;
const MSG_ATTRIBUTE: u16 = 0x0C;
const MSG_CONTINUATION: u16 = 0x10;
const MSG_ATTRIBUTE_INFO: u16 = 0x15;
const MSG_REFCOUNT: u16 = 0x16;
/// Types from here on are unknown to libhdf5.
const MSG_FIRST_UNKNOWN: u16 = 0x19;
/// Message types libhdf5 lets be shared: dataspace, datatype, both fill
/// values, filter pipeline, attribute.
const SHAREABLE: [u16; 6] = [0x01, 0x03, 0x04, 0x05, 0x0B, 0x0C];

/// Header message flags.
const MF_SHARED: u8 = 0x02;
const MF_DONT_SHARE: u8 = 0x04;
const MF_FAIL_IF_UNKNOWN_WRITE: u8 = 0x08;
const MF_MARK_IF_UNKNOWN: u8 = 0x10;
const MF_WAS_UNKNOWN: u8 = 0x20;
const MF_SHAREABLE: u8 = 0x40;
const MF_FAIL_IF_UNKNOWN: u8 = 0x80;

/// Version 2 object header flags.
const OH_CHUNK0_SIZE: u8 = 0x03;
const OH_CREATION_ORDER: u8 = 0x04;
const OH_PHASE_CHANGE: u8 = 0x10;
const OH_TIMES: u8 = 0x20;
const OH_ALL: u8 = 0x3F;

/// Superblock 3 file consistency flags: open for writing, SWMR writing.
const SB_WRITE_ACCESS: u8 = 0x05;
const SB_ALL: u8 = 0x07;

/// Datatype classes.
const CLASS_STRING: u8 = 3;
const CLASS_VLEN: u8 = 9;
/// Class names, by class number.
const CLASS_NAMES: [&str; 12] = [
    "integer",
    "float",
    "time",
    "string",
    "bitfield",
    "opaque",
    "compound",
    "reference",
    "enum",
    "variable-length sequence",
    "array",
    "complex",
];

/// String padding: to the first NUL, space-padded (else NUL-padded, 1).
const PAD_NULLTERM: u8 = 0;
const PAD_SPACEPAD: u8 = 2;
/// Character sets: ASCII and UTF-8.
const CSET_UTF8: u8 = 1;

/// v2 B-tree record types read: huge heap objects, attribute names.
const BT_HUGE: u8 = 1;
const BT_ATTRIBUTE_NAME: u8 = 8;
/// Bytes of a heap ID in an attribute name record.
const ATTRIBUTE_HEAP_ID: usize = 8;
/// Signature, version, type and checksum of every v2 B-tree node.
const BT_PREFIX: u64 = 10;

/// A root-group attribute value as h5py would return it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) enum AttrValue {
    /// A string (fixed- or variable-length, ASCII or UTF-8), scalar or the
    /// single element of a one-element array.
    Text(String),
    /// Anything else, described: "integer", "array of 3 strings".
    Other(String),
}

/// Why the attributes could not be given.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) enum Hdf5Error {
    /// Not a well-formed HDF5 file as libhdf5 would read it.
    Invalid(String),
    /// Well-formed as far as read, but this reader cannot be certain
    /// (unsupported feature, metadata beyond what was kept, limits exceeded).
    Undecided(String),
}

/// Reads the root group's attributes from a file fed from its first byte;
/// `superblock_at` is where the signature was found (0, 512, 1024, ...),
/// the base that addresses in the file are relative to.
#[derive(Debug)]
pub(crate) struct Hdf5Stream {
    base: u64,
    store: Store,
    /// The bytes the last parse stopped for; it runs again once the stream
    /// has reached their end.
    waiting: Option<(u64, u64)>,
    /// Ends of hinted regions still to come: the parse runs again at each.
    triggers: BTreeSet<u64>,
    /// The head window is searched for global heap collections up to here.
    scanned: u64,
    /// Bytes of a length in the file, once the superblock is read.
    length_size: Option<usize>,
    runs: u32,
    steps: u64,
    /// Checksummed structures already found intact: (position, length).
    verified: HashSet<(u64, u64)>,
    /// Where the superblock says the file ends.
    eof: Option<u64>,
    outcome: Option<Result<Vec<(String, AttrValue)>, Hdf5Error>>,
}

impl Hdf5Stream {
    pub(crate) fn new(superblock_at: u64) -> Self {
        let mut stream = Self {
            base: superblock_at,
            store: Store::new(),
            waiting: None,
            triggers: BTreeSet::new(),
            scanned: superblock_at,
            length_size: None,
            runs: 0,
            steps: 0,
            verified: HashSet::new(),
            eof: None,
            outcome: None,
        };
        match stream.store.want(
            superblock_at,
            superblock_at.saturating_add(HEAD + SCAN_SLACK),
        ) {
            Ok(_) => stream.run(),
            Err(e) => stream.decide(Err(e)),
        }
        stream
    }

    /// Feeds the next bytes of the file.
    pub(crate) fn update(&mut self, bytes: &[u8]) {
        let mut rest = bytes;
        while !rest.is_empty() {
            if self.outcome.is_some() {
                self.store.skip(rest.len());
                return;
            }
            // Stop where awaited or hinted bytes are complete, so that the
            // parse runs before the bytes after them go by, and past the head
            // window, searched before the collections in it go by.
            let pos = self.store.pos;
            let scan_end = self.base.saturating_add(HEAD + SCAN_SLACK);
            let next = self
                .waiting
                .map(|(_, end)| end)
                .into_iter()
                .chain(self.triggers.range(pos.saturating_add(1)..).next().copied())
                .chain((pos < scan_end).then_some(scan_end))
                .min();
            let take = match next {
                Some(end) if end > pos => {
                    usize::try_from(end - pos).map_or(rest.len(), |n| n.min(rest.len()))
                }
                _ => rest.len(),
            };
            let (now, later) = rest.split_at(take);
            self.store.capture(now);
            rest = later;
            self.keep_collections();
            let pos = self.store.pos;
            let triggered = self.triggers.first().is_some_and(|end| *end <= pos);
            if triggered {
                self.triggers = self.triggers.split_off(&pos.saturating_add(1));
            }
            if triggered || self.waiting.is_some_and(|(_, end)| end <= pos) {
                self.run();
            }
        }
    }

    /// The root group's attributes in name order, or why not.
    pub(crate) fn finish(mut self) -> Result<Vec<(String, AttrValue)>, Hdf5Error> {
        let len = self.store.pos;
        if let Some(eof) = self.eof
            && eof > len
        {
            return Err(Hdf5Error::Invalid(format!(
                "HDF5: truncated file: the superblock says it ends at byte {eof}, it has {len} bytes"
            )));
        }
        match (self.outcome.take(), self.waiting) {
            (Some(outcome), _) => outcome,
            (None, Some((start, end))) => Err(Hdf5Error::Invalid(format!(
                "HDF5: metadata at bytes {start}..{end} lies past the end of the file ({len} bytes)"
            ))),
            (None, None) => Err(Hdf5Error::Undecided(
                "HDF5: the metadata was not read".to_string(),
            )),
        }
    }

    /// Parses again until it succeeds, fails, or waits for bytes to come.
    fn run(&mut self) {
        loop {
            self.runs += 1;
            if self.runs > MAX_RUNS {
                return self.decide(Err(Hdf5Error::Undecided(format!(
                    "HDF5: the metadata needs more than {MAX_RUNS} passes"
                ))));
            }
            let budget = MAX_TOTAL_STEPS
                .saturating_sub(self.steps)
                .min(MAX_PARSE_STEPS);
            let mut parser = Parser::new(&self.store, self.base, &mut self.verified, budget);
            let result = parser.parse();
            self.steps = self.steps.saturating_add(parser.steps);
            if parser.eof.is_some() {
                self.eof = parser.eof;
                self.length_size = Some(parser.sizes.length);
            }
            let hints = parser.hints;
            match result {
                Ok(attributes) => return self.decide(Ok(attributes)),
                Err(Stop::Fail(e)) => return self.decide(Err(e)),
                Err(Stop::Need(start, end)) => {
                    if let Err(e) = self.store.want(start, end) {
                        return self.decide(Err(e));
                    }
                    let pos = self.store.pos;
                    // Run again at once when bytes became available: the
                    // needed ones, or hinted ones from the trailing window.
                    let mut progress = end <= pos;
                    for (from, to) in hints {
                        // A hint that cannot be kept is no failure: the need,
                        // if it comes, decides.
                        match self.store.want(from, to) {
                            Ok(_) if to > pos => {
                                if self.triggers.len() < MAX_TRIGGERS {
                                    self.triggers.insert(to);
                                }
                            }
                            Ok(true) => progress = true,
                            Ok(false) | Err(_) => {}
                        }
                    }
                    if !progress {
                        self.waiting = Some((start, end));
                        return;
                    }
                }
            }
        }
    }

    /// Wants whole every global heap collection whose header has streamed
    /// past in the head window.
    fn keep_collections(&mut self) {
        const COLLECTION: &[u8; 8] = b"GCOL\x01\0\0\0";
        let Some(length) = self.length_size else {
            return;
        };
        let header = (COLLECTION.len() + length) as u64;
        // Collections starting before `to` have their whole header kept.
        let to = (self.store.pos.saturating_add(1))
            .saturating_sub(header)
            .min(self.base.saturating_add(HEAD));
        let from = self.scanned;
        if from >= to {
            return;
        }
        let Some(bytes) = self.store.get(from, to - from + header - 1) else {
            return;
        };
        self.scanned = to;
        let found: Vec<(u64, u64)> = bytes
            .windows(COLLECTION.len())
            .enumerate()
            .filter(|(_, w)| w == COLLECTION)
            .filter_map(|(i, _)| {
                let size = le(bytes.get(i + COLLECTION.len()..i + header as usize)?);
                Some((from + i as u64, size))
            })
            .collect();
        for (at, size) in found {
            // Past the budget the collection is not kept, and a string in it
            // is Undecided if it is needed after it has streamed past.
            let _ = self.store.want(at, at.saturating_add(size));
        }
    }

    /// Settles the outcome and frees what was kept.
    fn decide(&mut self, outcome: Result<Vec<(String, AttrValue)>, Hdf5Error>) {
        self.outcome = Some(outcome);
        self.waiting = None;
        self.triggers = BTreeSet::new();
        self.store.release();
        self.verified = HashSet::new();
    }
}

/// The bytes kept from the stream.
#[derive(Debug)]
struct Store {
    /// Wanted regions by absolute start: disjoint and not touching, each
    /// holding its bytes from its start up to the stream's position.
    regions: BTreeMap<u64, Region>,
    /// The regions' lengths added up.
    reserved: u64,
    /// The last bytes streamed, as a ring indexed by absolute offset.
    trail: Vec<u8>,
    /// Bytes streamed so far.
    pos: u64,
}

#[derive(Debug)]
struct Region {
    end: u64,
    data: Vec<u8>,
}

impl Store {
    fn new() -> Self {
        Self {
            regions: BTreeMap::new(),
            reserved: 0,
            trail: vec![0; TRAIL as usize],
            pos: 0,
        }
    }

    /// Takes the next bytes of the stream.
    fn capture(&mut self, bytes: &[u8]) {
        let start = self.pos;
        let end = start.saturating_add(bytes.len() as u64);
        for (&from, region) in self.regions.range_mut(..end).rev() {
            if region.end <= start {
                break;
            }
            let lo = from.max(start) - start;
            let hi = region.end.min(end) - start;
            if let Some(part) = bytes.get(lo as usize..hi as usize) {
                region.data.extend_from_slice(part);
            }
        }
        self.keep_trail(start, bytes);
        self.pos = end;
    }

    /// Moves past bytes without keeping them.
    fn skip(&mut self, len: usize) {
        self.pos = self.pos.saturating_add(len as u64);
    }

    fn keep_trail(&mut self, start: u64, bytes: &[u8]) {
        let ring = self.trail.len();
        if ring == 0 {
            return;
        }
        let (mut at, mut rest) = (start, bytes);
        if rest.len() > ring {
            let cut = rest.len() - ring;
            at = at.saturating_add(cut as u64);
            rest = &rest[cut..];
        }
        while !rest.is_empty() {
            let i = (at % ring as u64) as usize;
            let n = (ring - i).min(rest.len());
            self.trail[i..i + n].copy_from_slice(&rest[..n]);
            at = at.saturating_add(n as u64);
            rest = &rest[n..];
        }
    }

    /// Whether the streamed bytes `from..to` are in the trailing window.
    fn in_trail(&self, from: u64, to: u64) -> bool {
        let ring = self.trail.len() as u64;
        from >= to || (ring > 0 && from >= self.pos.saturating_sub(ring) && to <= self.pos)
    }

    /// Appends the streamed bytes `from..to` from the trailing window.
    fn copy_trail(&self, out: &mut Vec<u8>, from: u64, to: u64) -> Result<(), Hdf5Error> {
        if !self.in_trail(from, to) {
            return Err(lost(from));
        }
        let ring = self.trail.len() as u64;
        let mut at = from;
        while at < to {
            let i = (at % ring) as usize;
            let n = (ring as usize - i).min((to - at) as usize);
            out.extend_from_slice(&self.trail[i..i + n]);
            at += n as u64;
        }
        Ok(())
    }

    /// Keeps the bytes `start..end` (absolute): what has streamed past comes
    /// from kept regions or the trailing window, the rest is captured.
    /// Whether anything more is kept now; on failure nothing changes.
    fn want(&mut self, start: u64, end: u64) -> Result<bool, Hdf5Error> {
        if self
            .regions
            .range(..=start)
            .next_back()
            .is_some_and(|(_, region)| region.end >= end)
        {
            return Ok(false);
        }
        // The regions overlapping or touching, in order: they merge.
        let mut touching: Vec<u64> = self
            .regions
            .range(..=end)
            .rev()
            .take_while(|(_, r)| r.end >= start)
            .map(|(k, _)| *k)
            .collect();
        touching.reverse();
        let (mut lo, mut hi, mut freed) = (start, end, 0u64);
        for k in &touching {
            if let Some(r) = self.regions.get(k) {
                lo = lo.min(*k);
                hi = hi.max(r.end);
                freed += r.end - k;
            }
        }
        let reserved = self.reserved.saturating_sub(freed).saturating_add(hi - lo);
        if reserved > MAX_KEPT - TRAIL {
            return Err(Hdf5Error::Undecided(format!(
                "HDF5: the metadata to keep exceeds {} MiB",
                MAX_KEPT >> 20
            )));
        }
        // What has arrived must be in the regions or the trailing window.
        let arrived = hi.min(self.pos);
        let mut frontier = lo;
        for k in &touching {
            let gap_end = (*k).min(arrived);
            if !self.in_trail(frontier, gap_end) {
                return Err(lost(frontier));
            }
            frontier = frontier.max(gap_end);
            if frontier == *k {
                frontier += self.regions.get(k).map_or(0, |r| r.data.len() as u64);
            }
        }
        if !self.in_trail(frontier, arrived) {
            return Err(lost(frontier));
        }
        let mut data: Vec<u8> = Vec::new();
        for k in &touching {
            let Some(region) = self.regions.remove(k) else {
                continue;
            };
            let frontier = lo + data.len() as u64;
            self.copy_trail(&mut data, frontier, (*k).min(arrived))?;
            if lo + data.len() as u64 == *k {
                if data.is_empty() {
                    data = region.data;
                } else {
                    data.extend_from_slice(&region.data);
                }
            }
        }
        let frontier = lo + data.len() as u64;
        self.copy_trail(&mut data, frontier, arrived)?;
        self.regions.insert(lo, Region { end: hi, data });
        self.reserved = reserved;
        Ok(true)
    }

    /// The kept bytes `at..at + len` (absolute), if all there.
    fn get(&self, at: u64, len: u64) -> Option<&[u8]> {
        let (from, region) = self.regions.range(..=at).next_back()?;
        let lo = usize::try_from(at - from).ok()?;
        let hi = lo.checked_add(usize::try_from(len).ok()?)?;
        region.data.get(lo..hi)
    }

    fn release(&mut self) {
        self.regions = BTreeMap::new();
        self.reserved = 0;
        self.trail = Vec::new();
    }
}

/// Why a parse stopped.
#[derive(Debug)]
enum Stop {
    /// It needs the bytes `start..end` (absolute), not kept (yet).
    Need(u64, u64),
    Fail(Hdf5Error),
}

/// Undecided: the metadata at `at` streamed past and was not kept.
fn lost(at: u64) -> Hdf5Error {
    Hdf5Error::Undecided(format!(
        "HDF5: metadata at byte {at} lies before bytes already read"
    ))
}

/// Invalid: `what` at byte `at` breaks the format.
fn bad(at: u64, what: &str, problem: impl Display) -> Stop {
    Stop::Fail(Hdf5Error::Invalid(format!(
        "HDF5: {what} at byte {at}: {problem}"
    )))
}

/// Undecided: `what` at byte `at` is beyond this reader.
fn unsure(at: u64, what: &str, problem: impl Display) -> Stop {
    Stop::Fail(Hdf5Error::Undecided(format!(
        "HDF5: {what} at byte {at}: {problem}"
    )))
}

/// Sizes of addresses and lengths in the file.
#[derive(Debug, Clone, Copy)]
struct Sizes {
    offset: usize,
    length: usize,
}

impl Sizes {
    /// On-disk bytes of one variable-length element: its length, the global
    /// heap collection's address and the object's index.
    fn vlen_element(self) -> u64 {
        8 + self.offset as u64
    }

    /// Bytes of a fractal heap header (unfiltered).
    fn heap_header(self) -> u64 {
        (26 + 12 * self.length + 3 * self.offset) as u64
    }

    /// Bytes of a v2 B-tree header.
    fn btree_header(self) -> u64 {
        (22 + self.offset + self.length) as u64
    }

    /// Bytes of a global heap collection's header, and of an object's.
    fn collection_header(self) -> usize {
        8 + self.length
    }
}

/// Little-endian reads over one structure's bytes; running out is Invalid,
/// reported with the structure's name and position.
struct Cursor<'a> {
    buf: &'a [u8],
    pos: usize,
    at: u64,
    what: &'static str,
}

impl<'a> Cursor<'a> {
    fn new(buf: &'a [u8], at: u64, what: &'static str) -> Self {
        Self {
            buf,
            pos: 0,
            at,
            what,
        }
    }

    /// The absolute position of the next byte.
    fn here(&self) -> u64 {
        self.at.saturating_add(self.pos as u64)
    }

    fn bytes(&mut self, n: usize) -> Result<&'a [u8], Stop> {
        let end = self.pos.checked_add(n);
        match end.and_then(|end| self.buf.get(self.pos..end)) {
            Some(bytes) => {
                self.pos += n;
                Ok(bytes)
            }
            None => Err(bad(self.at, self.what, "ends early")),
        }
    }

    fn skip(&mut self, n: usize) -> Result<(), Stop> {
        self.bytes(n).map(|_| ())
    }

    fn u8(&mut self) -> Result<u8, Stop> {
        Ok(self.bytes(1)?[0])
    }

    fn u16(&mut self) -> Result<u16, Stop> {
        Ok(le(self.bytes(2)?) as u16)
    }

    fn u32(&mut self) -> Result<u32, Stop> {
        Ok(le(self.bytes(4)?) as u32)
    }

    /// An unsigned integer of `n` (at most 8) bytes.
    fn uint(&mut self, n: usize) -> Result<u64, Stop> {
        Ok(le(self.bytes(n)?))
    }

    /// An address; `None` when undefined (all bits set).
    fn addr(&mut self, sizes: Sizes) -> Result<Option<u64>, Stop> {
        let bytes = self.bytes(sizes.offset)?;
        Ok((!bytes.iter().all(|b| *b == 0xFF)).then(|| le(bytes)))
    }

    fn length(&mut self, sizes: Sizes) -> Result<u64, Stop> {
        self.uint(sizes.length)
    }
}

/// A little-endian integer of at most 8 bytes.
fn le(bytes: &[u8]) -> u64 {
    bytes
        .iter()
        .take(8)
        .rev()
        .fold(0, |acc, b| (acc << 8) | u64::from(*b))
}

/// Bytes libhdf5 uses to encode numbers up to `n` (`H5VM_limit_enc_size`).
fn enc_size(n: u64) -> usize {
    (n.checked_ilog2().unwrap_or(0) / 8 + 1) as usize
}

/// One header message.
#[derive(Debug)]
struct Message<'a> {
    kind: u16,
    flags: u8,
    body: &'a [u8],
    /// Absolute position of the body.
    at: u64,
}

/// How an object header's messages are laid out.
#[derive(Debug, Clone, Copy)]
struct HeaderKind {
    v1: bool,
    creation_order: bool,
}

impl HeaderKind {
    fn message_header(self) -> usize {
        match (self.v1, self.creation_order) {
            (true, _) => 8,
            (false, false) => 4,
            (false, true) => 6,
        }
    }
}

/// The attribute info message's dense storage.
#[derive(Debug)]
struct AttributeInfo {
    heap: Option<u64>,
    name_index: Option<u64>,
    at: u64,
}

/// An attribute message, decoded up to its raw data.
#[derive(Debug)]
struct RawAttribute<'a> {
    name: &'a [u8],
    at: u64,
    dtype: Dtype,
    shape: Shape,
    data: &'a [u8],
}

/// An attribute's datatype, as far as it matters here.
#[derive(Debug, Clone, Copy)]
enum Dtype {
    Fixed {
        size: u32,
        pad: u8,
        cset: u8,
    },
    /// A variable-length string of `base`-byte characters.
    Vlen {
        cset: u8,
        base: u32,
    },
    Other {
        class: u8,
        size: u64,
    },
}

impl Dtype {
    /// Bytes of one element in the file.
    fn element(self, sizes: Sizes) -> u64 {
        match self {
            Dtype::Fixed { size, .. } => u64::from(size),
            Dtype::Vlen { .. } => sizes.vlen_element(),
            Dtype::Other { class, .. } if class == CLASS_VLEN => sizes.vlen_element(),
            Dtype::Other { size, .. } => size,
        }
    }

    fn noun(self) -> &'static str {
        match self {
            Dtype::Fixed { .. } | Dtype::Vlen { .. } => "string",
            Dtype::Other { class, .. } => CLASS_NAMES
                .get(usize::from(class))
                .copied()
                .unwrap_or("value"),
        }
    }
}

/// An attribute's dataspace.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Shape {
    Null,
    Scalar,
    /// A simple dataspace of this many elements.
    Simple(u64),
}

impl Shape {
    fn count(self) -> u64 {
        match self {
            Shape::Null => 0,
            Shape::Scalar => 1,
            Shape::Simple(n) => n,
        }
    }
}

/// A value as far as the parse takes it: text still to check as UTF-8.
#[derive(Debug)]
enum Value<'a> {
    Text(&'a [u8]),
    Other(String),
}

/// A fractal heap's header, as needed to find its objects.
#[derive(Debug)]
struct Heap {
    addr: u64,
    at: u64,
    id_len: usize,
    checksummed: bool,
    max_managed: u64,
    huge_index: Option<u64>,
    width: u64,
    start_block: u64,
    max_direct: u64,
    root: Option<u64>,
    root_rows: u64,
    /// Bytes of a heap offset, and of a managed object's length, in IDs.
    off_size: usize,
    len_size: usize,
    /// log2 of the first row's span (start block size times width).
    first_row_bits: u32,
    /// Rows of direct blocks in an indirect block; rows past are indirect.
    max_direct_rows: u64,
}

impl Heap {
    /// The size of the blocks in row `row`.
    fn block_size(&self, row: u64) -> Option<u64> {
        if row == 0 {
            return Some(self.start_block);
        }
        let shift = u32::try_from(row - 1).ok()?;
        self.start_block
            .checked_shl(shift)
            .filter(|s| s.checked_ilog2() == Some(self.start_block.ilog2() + shift))
    }

    /// Row and column of `offset` within an indirect block.
    fn lookup(&self, offset: u64) -> Option<(u64, u64)> {
        let first = self.start_block.checked_mul(self.width)?;
        if offset < first {
            return Some((0, offset / self.start_block));
        }
        let high = offset.ilog2();
        let row = u64::from(high - self.first_row_bits) + 1;
        Some((row, (offset - (1u64 << high)) / self.block_size(row)?))
    }

    /// Bytes before an indirect block's entries.
    fn indirect_prefix(&self, sizes: Sizes) -> u64 {
        (5 + sizes.offset + self.off_size) as u64
    }

    /// Bytes of an indirect block of `rows` rows.
    fn indirect_len(&self, rows: u64, sizes: Sizes) -> Option<u64> {
        rows.checked_mul(self.width)?
            .checked_mul(sizes.offset as u64)?
            .checked_add(self.indirect_prefix(sizes) + 4)
    }

    /// Rows of an indirect block whose blocks are `size` bytes.
    fn rows_for(&self, size: u64) -> u64 {
        u64::from(size.ilog2().saturating_sub(self.first_row_bits)) + 1
    }

    /// Bytes before a direct block's objects.
    fn direct_overhead(&self, sizes: Sizes) -> u64 {
        (5 + sizes.offset + self.off_size) as u64 + if self.checksummed { 4 } else { 0 }
    }
}

/// Record counts and pointer sizes of a v2 B-tree's nodes, by depth.
#[derive(Debug)]
struct BtreeShape {
    node: u64,
    record: u64,
    /// Bytes of an address.
    offset: u64,
    /// Most records a node at each depth holds.
    max_records: Vec<u64>,
    /// Bytes of a child's record count.
    count_size: usize,
    /// Bytes of a child's total record count, by the child's depth.
    total_size: Vec<usize>,
}

impl BtreeShape {
    /// As `H5B2__hdr_init` computes it.
    fn new(node: u64, record: u64, depth: u16, sizes: Sizes) -> Option<Self> {
        let leaf = node.checked_sub(BT_PREFIX)?.checked_div(record)?;
        let count_size = enc_size(leaf);
        let mut shape = Self {
            node,
            record,
            offset: sizes.offset as u64,
            max_records: vec![leaf],
            count_size,
            total_size: vec![0],
        };
        let mut cumulative = leaf;
        for d in 1..=usize::from(depth) {
            let pointer = shape.pointer(d)?;
            let max = node.checked_sub(BT_PREFIX + pointer)? / (record + pointer);
            cumulative = max
                .checked_add(1)?
                .checked_mul(cumulative)?
                .checked_add(max)?;
            shape.max_records.push(max);
            shape.total_size.push(enc_size(cumulative));
        }
        Some(shape)
    }

    /// Bytes of a child pointer in an internal node at `depth`: address,
    /// record count, and total record count below (deeper than 1).
    fn pointer(&self, depth: usize) -> Option<u64> {
        let total = *self.total_size.get(depth.checked_sub(1)?)?;
        Some(self.offset + (self.count_size + total) as u64)
    }

    /// Bytes a node of `count` records at `depth` uses, checksum included.
    fn used(&self, count: u64, depth: usize) -> Option<u64> {
        let keys = count.checked_mul(self.record)?;
        let pointers = match depth {
            0 => 0,
            _ => count.checked_add(1)?.checked_mul(self.pointer(depth)?)?,
        };
        BT_PREFIX.checked_add(keys)?.checked_add(pointers)
    }
}

/// One parse, from the superblock on, over the kept bytes.
struct Parser<'a> {
    store: &'a Store,
    base: u64,
    verified: &'a mut HashSet<(u64, u64)>,
    sizes: Sizes,
    /// End of the file's address space, relative to the base.
    eoa: Option<u64>,
    /// Absolute end of the file, from the superblock.
    eof: Option<u64>,
    steps: u64,
    max_steps: u64,
    /// Regions (absolute) the parse will need, wanted before it stops there.
    hints: Vec<(u64, u64)>,
}

impl<'a> Parser<'a> {
    fn new(
        store: &'a Store,
        base: u64,
        verified: &'a mut HashSet<(u64, u64)>,
        max_steps: u64,
    ) -> Self {
        Self {
            store,
            base,
            verified,
            sizes: Sizes {
                offset: 8,
                length: 8,
            },
            eoa: None,
            eof: None,
            steps: 0,
            max_steps,
            hints: Vec::new(),
        }
    }

    /// The root group's attributes, sorted by name.
    fn parse(&mut self) -> Result<Vec<(String, AttrValue)>, Stop> {
        let root = self.superblock()?;
        let messages = self.object_header(root)?;
        let mut raw = Vec::new();
        let mut info = None;
        for m in &messages {
            match m.kind {
                MSG_ATTRIBUTE => {
                    if m.flags & MF_SHARED != 0 {
                        return Err(unsure(
                            m.at,
                            "attribute message",
                            "shared (stored elsewhere)",
                        ));
                    }
                    raw.push(attribute(m.body, m.at, self.sizes)?);
                }
                MSG_ATTRIBUTE_INFO => {
                    if info.is_some() {
                        return Err(unsure(m.at, "attribute info message", "a second one"));
                    }
                    info = Some(attribute_info(m, self.sizes)?);
                }
                _ => {}
            }
        }
        if let Some(info) = info
            && let Some(heap) = info.heap
        {
            raw.extend(self.dense_attributes(heap, &info)?);
        }
        let mut values = Vec::with_capacity(raw.len());
        for attr in &raw {
            values.push((attr.name, self.value(attr)?));
        }
        self.finish(values)
    }

    /// Counts work, failing past the budget.
    fn step(&mut self, n: u64) -> Result<(), Stop> {
        self.steps = self.steps.saturating_add(n);
        if self.steps > self.max_steps {
            return Err(Stop::Fail(Hdf5Error::Undecided(
                "HDF5: the metadata needs more work than this reader allows".to_string(),
            )));
        }
        Ok(())
    }

    /// The absolute position of relative address `addr`.
    fn abs(&self, addr: u64) -> u64 {
        self.base.saturating_add(addr)
    }

    /// `len` bytes at relative address `addr`, if kept.
    fn read(&mut self, addr: u64, len: u64, what: &'static str) -> Result<&'a [u8], Stop> {
        self.step(1)?;
        let at = self.abs(addr);
        if len == 0 {
            return Ok(&[]);
        }
        let end = addr
            .checked_add(len)
            .ok_or_else(|| bad(at, what, "its address overflows"))?;
        if let Some(eoa) = self.eoa
            && end > eoa
        {
            return Err(bad(
                at,
                what,
                format_args!("runs past the end-of-file address {}", self.abs(eoa)),
            ));
        }
        if len > MAX_KEPT {
            return Err(unsure(
                at,
                what,
                format_args!("{len} bytes is more than this reader keeps"),
            ));
        }
        let start = self
            .base
            .checked_add(addr)
            .ok_or_else(|| bad(at, what, "its address overflows"))?;
        let stop = start
            .checked_add(len)
            .ok_or_else(|| bad(at, what, "its address overflows"))?;
        self.store.get(start, len).ok_or(Stop::Need(start, stop))
    }

    /// `len` bytes at relative address `addr` if kept, without stopping.
    fn peek(&self, addr: u64, len: u64) -> Option<&'a [u8]> {
        let end = addr.checked_add(len)?;
        if self.eoa.is_some_and(|eoa| end > eoa) {
            return None;
        }
        self.store.get(self.base.checked_add(addr)?, len)
    }

    /// Asks to keep `len` bytes at relative address `addr`, which the parse
    /// will need, without stopping for them.
    fn hint(&mut self, addr: u64, len: u64) {
        if len == 0
            || len > MAX_KEPT
            || self.hints.len() >= MAX_HINTS
            || self.peek(addr, len).is_some()
        {
            return;
        }
        let within = addr
            .checked_add(len)
            .is_some_and(|end| self.eoa.is_some_and(|eoa| end <= eoa));
        if let (true, Some(start)) = (within, self.base.checked_add(addr))
            && let Some(stop) = start.checked_add(len)
        {
            self.hints.push((start, stop));
        }
    }

    /// Hints what an attribute or attribute info message points to, as soon
    /// as its block is read: the rest of the header may lie far ahead.
    fn hint_message(&mut self, m: &Message<'a>) {
        match m.kind {
            MSG_ATTRIBUTE => {
                if let Ok(attr) = attribute(m.body, m.at, self.sizes) {
                    self.hint_value(&attr);
                }
            }
            MSG_ATTRIBUTE_INFO => {
                if let Ok(info) = attribute_info(m, self.sizes) {
                    if let Some(heap) = info.heap {
                        self.hint(heap, self.sizes.heap_header());
                    }
                    if let Some(index) = info.name_index {
                        self.hint(index, self.sizes.btree_header());
                    }
                }
            }
            _ => {}
        }
    }

    /// Hints the global heap collection a variable-length string is in.
    fn hint_value(&mut self, attr: &RawAttribute<'a>) {
        if !matches!(attr.dtype, Dtype::Vlen { .. }) || attr.shape.count() != 1 {
            return;
        }
        let mut c = Cursor::new(attr.data, attr.at, "variable-length string");
        let Ok(Some(addr)) = c.skip(4).and_then(|()| c.addr(self.sizes)) else {
            return;
        };
        let header = self.sizes.collection_header();
        match self.peek(addr, header as u64) {
            Some(head) if head.starts_with(b"GCOL") => self.hint(addr, le(&head[8..])),
            _ => self.hint(addr, header as u64),
        }
    }

    /// Hints the blocks an indirect block's entries point to.
    fn hint_children(&mut self, heap: &Heap, entries: &[u8]) {
        let sizes = self.sizes;
        for (i, slot) in entries.chunks_exact(sizes.offset).enumerate() {
            let Ok(Some(addr)) = Cursor::new(slot, 0, "").addr(sizes) else {
                continue;
            };
            let row = i as u64 / heap.width;
            let Some(size) = heap.block_size(row) else {
                return;
            };
            if row < heap.max_direct_rows {
                self.hint(addr, size);
            } else if let Some(len) = heap.indirect_len(heap.rows_for(size), sizes) {
                self.hint(addr, len);
            }
        }
    }

    /// Checks the Jenkins lookup3 checksum in the last 4 bytes of `bytes`.
    fn verify(&mut self, bytes: &[u8], at: u64, what: &'static str) -> Result<(), Stop> {
        let key = (at, bytes.len() as u64);
        if self.verified.contains(&key) {
            return Ok(());
        }
        self.step(bytes.len() as u64 / HASH_BYTES_PER_STEP)?;
        let Some(split) = bytes.len().checked_sub(4) else {
            return Err(bad(at, what, "too short for its checksum"));
        };
        let (body, stored) = bytes.split_at(split);
        if lookup3(body) != le(stored) as u32 {
            return Err(bad(at, what, "checksum mismatch"));
        }
        self.verified.insert(key);
        Ok(())
    }

    /// The superblock: sizes, end of file, and the root group's object
    /// header address.
    fn superblock(&mut self) -> Result<u64, Stop> {
        const WHAT: &str = "superblock";
        let head = self.read(0, 9, WHAT)?;
        if head[..8] != SIGNATURE[..] {
            return Err(bad(self.base, WHAT, "bad signature"));
        }
        match head[8] {
            0 | 1 => self.superblock_v0(head[8]),
            2 | 3 => self.superblock_v2(head[8]),
            v => Err(bad(self.base, WHAT, format_args!("unknown version {v}"))),
        }
    }

    /// Superblocks 0 and 1: the root group's symbol table entry.
    fn superblock_v0(&mut self, version: u8) -> Result<u64, Stop> {
        const WHAT: &str = "superblock";
        let at = self.base;
        let fixed: usize = if version == 0 { 24 } else { 28 };
        let mut c = Cursor::new(self.read(0, fixed as u64, WHAT)?, at, WHAT);
        c.skip(9)?;
        let free_space = c.u8()?;
        let root_entry = c.u8()?;
        c.skip(1)?;
        let shared_header = c.u8()?;
        self.sizes = sizes(c.u8()?, c.u8()?, at)?;
        c.skip(1)?;
        let leaf_k = c.u16()?;
        let internal_k = c.u16()?;
        c.skip(4)?;
        if version == 1 && c.u16()? == 0 {
            return Err(bad(at, WHAT, "indexed storage rank 0"));
        }
        if free_space != 0 || root_entry != 0 || shared_header != 0 {
            return Err(bad(
                at,
                WHAT,
                "unknown free-space, symbol table or shared header version",
            ));
        }
        if leaf_k == 0 || internal_k == 0 {
            return Err(bad(at, WHAT, "symbol table rank 0"));
        }
        let o = self.sizes.offset;
        let total = fixed + 6 * o + 24;
        let mut c = Cursor::new(self.read(0, total as u64, WHAT)?, at, WHAT);
        c.skip(fixed)?;
        let stored_base = c.addr(self.sizes)?;
        let _extension = c.addr(self.sizes)?;
        let eof = c.addr(self.sizes)?;
        let driver = c.addr(self.sizes)?;
        let _link_name = c.addr(self.sizes)?;
        let root = c.addr(self.sizes)?;
        if driver.is_some() {
            return Err(unsure(
                at,
                WHAT,
                "a driver information block (multi-file or family file)",
            ));
        }
        self.set_eof(stored_base, eof)?;
        root.ok_or_else(|| bad(at, WHAT, "the root group has no object header"))
    }

    /// Superblocks 2 and 3: checksummed, the root group's header address.
    fn superblock_v2(&mut self, version: u8) -> Result<u64, Stop> {
        const WHAT: &str = "superblock";
        let at = self.base;
        let head = self.read(0, 12, WHAT)?;
        self.sizes = sizes(head[9], head[10], at)?;
        let flags = head[11];
        let total = 12 + 4 * self.sizes.offset + 4;
        let bytes = self.read(0, total as u64, WHAT)?;
        self.verify(bytes, at, WHAT)?;
        if version == 3 && flags & !SB_ALL != 0 {
            return Err(bad(at, WHAT, "unknown file consistency flags"));
        }
        if version == 3 && flags & SB_WRITE_ACCESS != 0 {
            return Err(unsure(at, WHAT, "the file is marked as open for writing"));
        }
        let mut c = Cursor::new(bytes, at, WHAT);
        c.skip(12)?;
        let stored_base = c.addr(self.sizes)?;
        let _extension = c.addr(self.sizes)?;
        let eof = c.addr(self.sizes)?;
        let root = c.addr(self.sizes)?;
        self.set_eof(stored_base, eof)?;
        root.ok_or_else(|| bad(at, WHAT, "the root group has no object header"))
    }

    /// The end of the file, as libhdf5 takes it from the superblock: an
    /// absolute address, shifted with the base if the file was moved.
    fn set_eof(&mut self, stored_base: Option<u64>, eof: Option<u64>) -> Result<(), Stop> {
        let at = self.base;
        let (Some(stored_base), Some(eof)) = (stored_base, eof) else {
            return Err(bad(
                at,
                "superblock",
                "undefined base or end-of-file address",
            ));
        };
        let eoa = eof
            .checked_sub(stored_base)
            .ok_or_else(|| bad(at, "superblock", "end-of-file address before the base"))?;
        self.eoa = Some(eoa);
        self.eof = Some(
            self.base
                .checked_add(eoa)
                .ok_or_else(|| bad(at, "superblock", "end-of-file address overflows"))?,
        );
        Ok(())
    }

    /// All messages of the object header at `addr`, over its continuation
    /// blocks.
    fn object_header(&mut self, addr: u64) -> Result<Vec<Message<'a>>, Stop> {
        let mut messages = Vec::new();
        let mut blocks = VecDeque::new();
        let kind = if self.read(addr, 4, "object header")? == b"OHDR" {
            self.header_v2(addr, &mut messages, &mut blocks)?
        } else {
            self.header_v1(addr, &mut messages, &mut blocks)?
        };
        let mut seen = HashSet::from([addr]);
        while let Some((block, len)) = blocks.pop_front() {
            let at = self.abs(block);
            if seen.len() >= MAX_CHUNKS {
                return Err(unsure(at, "object header", "too many continuation blocks"));
            }
            if !seen.insert(block) {
                return Err(unsure(
                    at,
                    "object header",
                    "continuation blocks form a loop",
                ));
            }
            self.continuation(kind, block, len, &mut messages, &mut blocks)?;
        }
        Ok(messages)
    }

    /// A version 1 object header's prefix and first block.
    fn header_v1(
        &mut self,
        addr: u64,
        messages: &mut Vec<Message<'a>>,
        blocks: &mut VecDeque<(u64, u64)>,
    ) -> Result<HeaderKind, Stop> {
        const WHAT: &str = "object header";
        let at = self.abs(addr);
        let mut c = Cursor::new(self.read(addr, 16, WHAT)?, at, WHAT);
        if c.u8()? != 1 {
            return Err(bad(at, WHAT, "bad signature or version"));
        }
        c.skip(1)?;
        let count = c.u16()?;
        c.skip(4)?;
        let size = c.u32()?;
        if (count > 0 && size < 8) || (count == 0 && size > 0) {
            return Err(bad(at, WHAT, "bad size of its first block"));
        }
        let kind = HeaderKind {
            v1: true,
            creation_order: false,
        };
        let body = self.read(addr.saturating_add(16), u64::from(size), WHAT)?;
        self.messages(kind, body, at.saturating_add(16), messages, blocks)?;
        Ok(kind)
    }

    /// A version 2 object header's prefix and first block.
    fn header_v2(
        &mut self,
        addr: u64,
        messages: &mut Vec<Message<'a>>,
        blocks: &mut VecDeque<(u64, u64)>,
    ) -> Result<HeaderKind, Stop> {
        const WHAT: &str = "object header";
        let at = self.abs(addr);
        let head = self.read(addr, 6, WHAT)?;
        if head[4] != 2 {
            return Err(bad(at, WHAT, format_args!("unknown version {}", head[4])));
        }
        let flags = head[5];
        if flags & !OH_ALL != 0 {
            return Err(bad(at, WHAT, "unknown flags"));
        }
        let size_len = 1usize << (flags & OH_CHUNK0_SIZE);
        let mut prefix = 6 + size_len;
        if flags & OH_TIMES != 0 {
            prefix += 16;
        }
        if flags & OH_PHASE_CHANGE != 0 {
            prefix += 4;
        }
        let mut c = Cursor::new(self.read(addr, prefix as u64, WHAT)?, at, WHAT);
        c.skip(6)?;
        if flags & OH_TIMES != 0 {
            c.skip(16)?;
        }
        if flags & OH_PHASE_CHANGE != 0 {
            let max_compact = c.u16()?;
            let min_dense = c.u16()?;
            if max_compact < min_dense {
                return Err(bad(at, WHAT, "bad attribute phase change values"));
            }
        }
        let size = c.uint(size_len)?;
        let kind = HeaderKind {
            v1: false,
            creation_order: flags & OH_CREATION_ORDER != 0,
        };
        if size > 0 && size < kind.message_header() as u64 {
            return Err(bad(at, WHAT, "bad size of its first block"));
        }
        let total = (prefix as u64 + 4)
            .checked_add(size)
            .ok_or_else(|| bad(at, WHAT, "its size overflows"))?;
        let bytes = self.read(addr, total, WHAT)?;
        self.verify(bytes, at, WHAT)?;
        let body = &bytes[prefix..bytes.len() - 4];
        self.messages(
            kind,
            body,
            at.saturating_add(prefix as u64),
            messages,
            blocks,
        )?;
        Ok(kind)
    }

    /// A continuation block of `len` bytes at `addr`.
    fn continuation(
        &mut self,
        kind: HeaderKind,
        addr: u64,
        len: u64,
        messages: &mut Vec<Message<'a>>,
        blocks: &mut VecDeque<(u64, u64)>,
    ) -> Result<(), Stop> {
        const WHAT: &str = "object header continuation block";
        let at = self.abs(addr);
        if kind.v1 {
            let body = self.read(addr, len, WHAT)?;
            return self.messages(kind, body, at, messages, blocks);
        }
        if len < 8 {
            return Err(bad(at, WHAT, "too small"));
        }
        let bytes = self.read(addr, len, WHAT)?;
        if &bytes[..4] != b"OCHK" {
            return Err(bad(at, WHAT, "bad signature"));
        }
        self.verify(bytes, at, WHAT)?;
        let body = &bytes[4..bytes.len() - 4];
        self.messages(kind, body, at.saturating_add(4), messages, blocks)
    }

    /// The messages of one block of an object header, as
    /// `H5O__chunk_deserialize` reads them.
    fn messages(
        &mut self,
        kind: HeaderKind,
        block: &'a [u8],
        at: u64,
        messages: &mut Vec<Message<'a>>,
        blocks: &mut VecDeque<(u64, u64)>,
    ) -> Result<(), Stop> {
        const WHAT: &str = "object header message";
        let header = kind.message_header();
        let mut p = 0usize;
        let mut nulls = 0u32;
        while p < block.len() {
            self.step(1)?;
            let here = at.saturating_add(p as u64);
            if block.len() - p < header {
                return Err(bad(here, WHAT, "runs past the end of its block"));
            }
            let mut c = Cursor::new(&block[p..], here, WHAT);
            let (id, size, flags) = if kind.v1 {
                let id = c.u16()?;
                let size = c.u16()?;
                let flags = c.u8()?;
                c.skip(3)?;
                (id, size, flags)
            } else {
                let id = u16::from(c.u8()?);
                let size = c.u16()?;
                let flags = c.u8()?;
                if kind.creation_order {
                    c.skip(2)?;
                }
                (id, size, flags)
            };
            if kind.v1 && size % 8 != 0 {
                return Err(bad(here, WHAT, "not aligned"));
            }
            message_flags(id, flags, here)?;
            let body = c
                .bytes(usize::from(size))
                .map_err(|_| bad(here, WHAT, "runs past the end of its block"))?;
            match id {
                MSG_NULL => nulls += 1,
                MSG_CONTINUATION => {
                    let mut c = Cursor::new(body, here, "continuation message");
                    let target = c
                        .addr(self.sizes)?
                        .ok_or_else(|| bad(here, "continuation message", "undefined address"))?;
                    let len = c.length(self.sizes)?;
                    self.hint(target, len);
                    blocks.push_back((target, len));
                }
                MSG_REFCOUNT if kind.v1 => {
                    return Err(bad(here, WHAT, "a reference count in a version 1 header"));
                }
                _ => {}
            }
            if messages.len() >= MAX_MESSAGES {
                return Err(unsure(here, "object header", "too many messages"));
            }
            let message = Message {
                kind: id,
                flags,
                body,
                at: here.saturating_add(header as u64),
            };
            self.hint_message(&message);
            messages.push(message);
            p += header + usize::from(size);
            let left = block.len() - p;
            if left > 0 && left < header {
                if kind.v1 {
                    return Err(bad(here, WHAT, "a gap in a version 1 header"));
                }
                if nulls > 0 {
                    return Err(bad(here, WHAT, "a gap in a block with null messages"));
                }
                p = block.len();
            }
        }
        Ok(())
    }

    /// The attributes in dense storage: the fractal heap's objects named by
    /// the name index.
    fn dense_attributes(
        &mut self,
        heap: u64,
        info: &AttributeInfo,
    ) -> Result<Vec<RawAttribute<'a>>, Stop> {
        let heap = self.fractal_heap(heap)?;
        if heap.id_len != ATTRIBUTE_HEAP_ID {
            return Err(unsure(
                heap.at,
                "fractal heap header",
                format_args!("heap IDs of {} bytes", heap.id_len),
            ));
        }
        let index = info.name_index.ok_or_else(|| {
            bad(
                info.at,
                "attribute info message",
                "dense storage without a name index",
            )
        })?;
        let record = ATTRIBUTE_HEAP_ID as u64 + 9;
        let mut attributes = Vec::new();
        for rec in self.btree(index, BT_ATTRIBUTE_NAME, record)? {
            if rec[ATTRIBUTE_HEAP_ID] & MF_SHARED != 0 {
                return Err(unsure(
                    heap.at,
                    "dense attribute",
                    "shared (stored elsewhere)",
                ));
            }
            let (body, at) = self.heap_object(&heap, &rec[..ATTRIBUTE_HEAP_ID])?;
            let attr = attribute(body, at, self.sizes)?;
            self.hint_value(&attr);
            attributes.push(attr);
        }
        Ok(attributes)
    }

    /// A fractal heap header.
    fn fractal_heap(&mut self, addr: u64) -> Result<Heap, Stop> {
        const WHAT: &str = "fractal heap header";
        let at = self.abs(addr);
        let l = self.sizes.length;
        let bytes = self.read(addr, self.sizes.heap_header(), WHAT)?;
        let mut c = Cursor::new(bytes, at, WHAT);
        if c.bytes(4)? != b"FRHP" {
            return Err(bad(at, WHAT, "bad signature"));
        }
        if c.u8()? != 0 {
            return Err(bad(at, WHAT, "unknown version"));
        }
        let id_len = usize::from(c.u16()?);
        if c.u16()? != 0 {
            return Err(unsure(at, WHAT, "a filtered (compressed) heap"));
        }
        self.verify(bytes, at, WHAT)?;
        let flags = c.u8()?;
        let max_managed = u64::from(c.u32()?);
        let _next_huge = c.length(self.sizes)?;
        let huge_index = c.addr(self.sizes)?;
        c.skip(l)?;
        let _free_space = c.addr(self.sizes)?;
        c.skip(8 * l)?;
        let width = u64::from(c.u16()?);
        let start_block = c.length(self.sizes)?;
        let max_direct = c.length(self.sizes)?;
        let max_index = u32::from(c.u16()?);
        c.skip(2)?;
        let root = c.addr(self.sizes)?;
        let root_rows = u64::from(c.u16()?);
        let odd = || unsure(at, WHAT, "a doubling table this reader does not follow");
        if !width.is_power_of_two()
            || !start_block.is_power_of_two()
            || !max_direct.is_power_of_two()
            || max_direct < start_block
            || max_direct > MAX_KEPT
            || max_index > 64
        {
            return Err(odd());
        }
        let first_row_bits = start_block.ilog2() + width.ilog2();
        let max_root_rows = u64::from(max_index.checked_sub(first_row_bits).ok_or_else(odd)?) + 1;
        if root_rows > max_root_rows {
            return Err(bad(at, WHAT, "more root rows than the heap can have"));
        }
        let heap = Heap {
            addr,
            at,
            id_len,
            checksummed: flags & 0x02 != 0,
            max_managed,
            huge_index,
            width,
            start_block,
            max_direct,
            root,
            root_rows,
            off_size: max_index.div_ceil(8) as usize,
            len_size: (max_direct.ilog2().div_ceil(8) as usize).min(enc_size(max_managed)),
            first_row_bits,
            max_direct_rows: u64::from(max_direct.ilog2() - start_block.ilog2()) + 2,
        };
        self.hint_heap(&heap);
        Ok(heap)
    }

    /// Hints a heap's root block, the blocks under it when it is kept
    /// already, and its huge-object index.
    fn hint_heap(&mut self, heap: &Heap) {
        if let Some(index) = heap.huge_index {
            self.hint(index, self.sizes.btree_header());
        }
        let Some(root) = heap.root else {
            return;
        };
        if heap.root_rows == 0 {
            return self.hint(root, heap.start_block);
        }
        let Some(len) = heap.indirect_len(heap.root_rows, self.sizes) else {
            return;
        };
        self.hint(root, len);
        let prefix = heap.indirect_prefix(self.sizes) as usize;
        if let Some(block) = self.peek(root, len)
            && let Some(entries) = block.get(prefix..block.len() - 4)
        {
            self.hint_children(heap, entries);
        }
    }

    /// The object a heap ID names, and its absolute position.
    fn heap_object(&mut self, heap: &Heap, id: &'a [u8]) -> Result<(&'a [u8], u64), Stop> {
        const WHAT: &str = "fractal heap ID";
        let flag = id.first().copied().unwrap_or(0);
        if flag & 0xC0 != 0 {
            return Err(bad(heap.at, WHAT, "unknown version"));
        }
        match (flag >> 4) & 0x03 {
            0 => self.managed_object(heap, id),
            1 => self.huge_object(heap, id),
            2 => tiny_object(heap, id),
            _ => Err(bad(heap.at, WHAT, "unknown type")),
        }
    }

    /// A managed object: in a direct block, found through the doubling
    /// table, as `H5HF__man_op_real` finds it.
    fn managed_object(&mut self, heap: &Heap, id: &'a [u8]) -> Result<(&'a [u8], u64), Stop> {
        const WHAT: &str = "fractal heap object";
        let mut c = Cursor::new(id, heap.at, "fractal heap ID");
        c.skip(1)?;
        let offset = c.uint(heap.off_size)?;
        let len = c.uint(heap.len_size)?;
        if offset == 0 || len == 0 || len > heap.max_direct || len > heap.max_managed {
            return Err(bad(heap.at, WHAT, "bad offset or length"));
        }
        let (addr, size) = if heap.root_rows == 0 {
            let root = heap
                .root
                .ok_or_else(|| bad(heap.at, WHAT, "the heap is empty"))?;
            (root, heap.start_block)
        } else {
            self.locate(heap, offset)?
        };
        let (block, block_offset) = self.direct_block(heap, addr, size)?;
        let at = self.abs(addr);
        let inside = offset
            .checked_sub(block_offset)
            .filter(|o| *o < size)
            .ok_or_else(|| unsure(at, WHAT, "the direct block does not hold its offset"))?;
        if inside < heap.direct_overhead(self.sizes) {
            return Err(bad(at, WHAT, "inside the direct block's header"));
        }
        let end = inside
            .checked_add(len)
            .filter(|e| *e <= size)
            .ok_or_else(|| bad(at, WHAT, "overruns its direct block"))?;
        let object = block
            .get(inside as usize..end as usize)
            .ok_or_else(|| bad(at, WHAT, "overruns its direct block"))?;
        Ok((object, at.saturating_add(inside)))
    }

    /// The direct block holding heap offset `offset`: its address and size,
    /// through the indirect blocks (`H5HF__man_dblock_locate`).
    fn locate(&mut self, heap: &Heap, offset: u64) -> Result<(u64, u64), Stop> {
        const WHAT: &str = "fractal heap indirect block";
        let mut addr = heap
            .root
            .ok_or_else(|| bad(heap.at, "fractal heap header", "no root block"))?;
        let mut rows = heap.root_rows;
        for _ in 0..MAX_HEAP_DEPTH {
            let at = self.abs(addr);
            let (entries, block_offset) = self.indirect_block(heap, addr, rows)?;
            let (row, col) = offset
                .checked_sub(block_offset)
                .and_then(|o| heap.lookup(o))
                .filter(|(row, _)| *row < rows)
                .ok_or_else(|| bad(at, WHAT, "does not hold the object's offset"))?;
            let entry = row * heap.width + col;
            let o = self.sizes.offset;
            let slot = usize::try_from(entry)
                .ok()
                .and_then(|e| e.checked_mul(o))
                .and_then(|s| entries.get(s..s.checked_add(o)?))
                .ok_or_else(|| bad(at, WHAT, "entry out of range"))?;
            let child = Cursor::new(slot, at, WHAT)
                .addr(self.sizes)?
                .ok_or_else(|| bad(at, WHAT, "the object is in no allocated block"))?;
            let size = heap
                .block_size(row)
                .ok_or_else(|| unsure(at, WHAT, "block size overflows"))?;
            if row < heap.max_direct_rows {
                return Ok((child, size));
            }
            rows = heap.rows_for(size);
            addr = child;
        }
        Err(unsure(
            heap.at,
            "fractal heap",
            "indirect blocks nest too deep",
        ))
    }

    /// An indirect block of `rows` rows: its entries and its offset in the
    /// heap.
    fn indirect_block(
        &mut self,
        heap: &Heap,
        addr: u64,
        rows: u64,
    ) -> Result<(&'a [u8], u64), Stop> {
        const WHAT: &str = "fractal heap indirect block";
        self.step(1)?;
        let at = self.abs(addr);
        let len = heap
            .indirect_len(rows, self.sizes)
            .ok_or_else(|| unsure(at, WHAT, "too many entries"))?;
        let prefix = heap.indirect_prefix(self.sizes) as usize;
        let bytes = self.read(addr, len, WHAT)?;
        let mut c = Cursor::new(bytes, at, WHAT);
        if c.bytes(4)? != b"FHIB" || c.u8()? != 0 {
            return Err(bad(at, WHAT, "bad signature or version"));
        }
        if c.addr(self.sizes)? != Some(heap.addr) {
            return Err(bad(at, WHAT, "belongs to another heap"));
        }
        let block_offset = c.uint(heap.off_size)?;
        self.verify(bytes, at, WHAT)?;
        let entries = &bytes[prefix..bytes.len() - 4];
        self.hint_children(heap, entries);
        Ok((entries, block_offset))
    }

    /// A direct block of `size` bytes and its offset in the heap.
    fn direct_block(&mut self, heap: &Heap, addr: u64, size: u64) -> Result<(&'a [u8], u64), Stop> {
        const WHAT: &str = "fractal heap direct block";
        self.step(1)?;
        let at = self.abs(addr);
        let bytes = self.read(addr, size, WHAT)?;
        let mut c = Cursor::new(bytes, at, WHAT);
        if c.bytes(4)? != b"FHDB" || c.u8()? != 0 {
            return Err(bad(at, WHAT, "bad signature or version"));
        }
        if c.addr(self.sizes)? != Some(heap.addr) {
            return Err(bad(at, WHAT, "belongs to another heap"));
        }
        let block_offset = c.uint(heap.off_size)?;
        if heap.checksummed {
            let field = c.pos;
            let stored = c.u32()?;
            let key = (at, size);
            if !self.verified.contains(&key) {
                self.step(size / HASH_BYTES_PER_STEP)?;
                // The checksum covers the whole block with its own field zeroed.
                let mut copy = bytes.to_vec();
                copy[field..field + 4].fill(0);
                if lookup3(&copy) != stored {
                    return Err(bad(at, WHAT, "checksum mismatch"));
                }
                self.verified.insert(key);
            }
        }
        Ok((bytes, block_offset))
    }

    /// A huge object: stored apart, its address and length in the ID or in
    /// the heap's huge-object B-tree.
    fn huge_object(&mut self, heap: &Heap, id: &'a [u8]) -> Result<(&'a [u8], u64), Stop> {
        const WHAT: &str = "fractal heap huge object";
        let (o, l) = (self.sizes.offset, self.sizes.length);
        let mut c = Cursor::new(id, heap.at, "fractal heap ID");
        c.skip(1)?;
        let (addr, len) = if o + l < heap.id_len {
            let addr = c
                .addr(self.sizes)?
                .ok_or_else(|| bad(heap.at, WHAT, "undefined address"))?;
            (addr, c.length(self.sizes)?)
        } else {
            let key = c.uint((heap.id_len - 1).min(8))?;
            let index = heap
                .huge_index
                .ok_or_else(|| bad(heap.at, WHAT, "the heap has no huge-object index"))?;
            let record = (o + 2 * l) as u64;
            let mut found = None;
            for rec in self.btree(index, BT_HUGE, record)? {
                let mut r = Cursor::new(rec, heap.at, WHAT);
                let addr = r.addr(self.sizes)?;
                let len = r.length(self.sizes)?;
                if let Some(addr) = addr {
                    self.hint(addr, len);
                }
                if r.length(self.sizes)? == key {
                    found = Some((addr, len));
                }
            }
            match found {
                Some((Some(addr), len)) => (addr, len),
                Some((None, _)) => return Err(bad(heap.at, WHAT, "undefined address")),
                None => {
                    return Err(bad(
                        heap.at,
                        WHAT,
                        format_args!("object {key} is not in the index"),
                    ));
                }
            }
        };
        Ok((self.read(addr, len, WHAT)?, self.abs(addr)))
    }

    /// All records of the v2 B-tree at `addr` of type `kind`, each `record`
    /// bytes, in key order.
    fn btree(&mut self, addr: u64, kind: u8, record: u64) -> Result<Vec<&'a [u8]>, Stop> {
        const WHAT: &str = "v2 B-tree header";
        let at = self.abs(addr);
        let bytes = self.read(addr, self.sizes.btree_header(), WHAT)?;
        let mut c = Cursor::new(bytes, at, WHAT);
        if c.bytes(4)? != b"BTHD" || c.u8()? != 0 {
            return Err(bad(at, WHAT, "bad signature or version"));
        }
        if c.u8()? != kind {
            return Err(bad(at, WHAT, format_args!("not of type {kind}")));
        }
        self.verify(bytes, at, WHAT)?;
        let node = u64::from(c.u32()?);
        let record_size = u64::from(c.u16()?);
        let depth = c.u16()?;
        c.skip(2)?;
        let root = c.addr(self.sizes)?;
        let root_records = u64::from(c.u16()?);
        if record_size != record {
            return Err(unsure(
                at,
                WHAT,
                format_args!("records of {record_size} bytes"),
            ));
        }
        if depth > MAX_BTREE_DEPTH || node > MAX_KEPT {
            return Err(unsure(
                at,
                WHAT,
                "deeper or larger than this reader follows",
            ));
        }
        let shape = BtreeShape::new(node, record, depth, self.sizes)
            .ok_or_else(|| bad(at, WHAT, "nodes too small for their records"))?;
        let mut records = Vec::new();
        if root_records > 0 {
            let root = root.ok_or_else(|| bad(at, WHAT, "records but no root"))?;
            self.hint(root, node);
            self.btree_node(
                &shape,
                kind,
                root,
                root_records,
                usize::from(depth),
                &mut records,
            )?;
        }
        Ok(records)
    }

    /// The records of one node and those below it, in order; `depth` is at
    /// most [`MAX_BTREE_DEPTH`] and drops by one each level.
    fn btree_node(
        &mut self,
        shape: &BtreeShape,
        kind: u8,
        addr: u64,
        count: u64,
        depth: usize,
        records: &mut Vec<&'a [u8]>,
    ) -> Result<(), Stop> {
        let what = if depth == 0 {
            "v2 B-tree leaf"
        } else {
            "v2 B-tree internal node"
        };
        self.step(1)?;
        let at = self.abs(addr);
        if shape.max_records.get(depth).is_none_or(|max| count > *max) {
            return Err(bad(at, what, "more records than fit"));
        }
        // libhdf5 reads whole nodes and checksums the part in use.
        let node = self.read(addr, shape.node, what)?;
        let bytes = shape
            .used(count, depth)
            .and_then(|used| node.get(..usize::try_from(used).ok()?))
            .ok_or_else(|| bad(at, what, "more records than fit"))?;
        let keys = count * shape.record;
        let mut c = Cursor::new(bytes, at, what);
        let signature: &[u8] = if depth == 0 { b"BTLF" } else { b"BTIN" };
        if c.bytes(4)? != signature || c.u8()? != 0 || c.u8()? != kind {
            return Err(bad(at, what, "bad signature, version or type"));
        }
        self.verify(bytes, at, what)?;
        let own: Vec<&'a [u8]> = c
            .bytes(keys as usize)?
            .chunks(shape.record as usize)
            .collect();
        if depth == 0 {
            records.extend(own);
            return Ok(());
        }
        let total = shape.total_size.get(depth - 1).copied().unwrap_or(0);
        let mut children = Vec::with_capacity(own.len() + 1);
        for _ in 0..=own.len() {
            let child = c
                .addr(self.sizes)?
                .ok_or_else(|| bad(at, what, "undefined child"))?;
            children.push((child, c.uint(shape.count_size)?));
            c.skip(total)?;
            self.hint(child, shape.node);
        }
        for (i, (child, count)) in children.into_iter().enumerate() {
            self.btree_node(shape, kind, child, count, depth - 1, records)?;
            if let Some(rec) = own.get(i) {
                records.push(rec);
            }
        }
        Ok(())
    }

    /// A string attribute's text, or a description of any other value.
    fn value(&mut self, attr: &RawAttribute<'a>) -> Result<Value<'a>, Stop> {
        const WHAT: &str = "attribute";
        let count = attr.shape.count();
        if count != 1 || matches!(attr.dtype, Dtype::Other { .. }) {
            return Ok(Value::Other(describe(attr.dtype, attr.shape)));
        }
        match attr.dtype {
            Dtype::Fixed { pad, cset, .. } => {
                if pad > PAD_SPACEPAD || cset > CSET_UTF8 {
                    return Err(unsure(
                        attr.at,
                        WHAT,
                        "a string padding or character set h5py does not read",
                    ));
                }
                Ok(Value::Text(fixed_text(attr.data, pad)))
            }
            Dtype::Vlen { cset, base } => {
                if cset > CSET_UTF8 || base != 1 {
                    return Err(unsure(
                        attr.at,
                        WHAT,
                        "a string character set or width h5py does not read",
                    ));
                }
                self.vlen_text(attr.data, attr.at)
            }
            Dtype::Other { .. } => Ok(Value::Other(describe(attr.dtype, attr.shape))),
        }
    }

    /// A variable-length string: the global heap object its data names, up
    /// to its first NUL (h5py reads it as a C string).
    fn vlen_text(&mut self, data: &'a [u8], at: u64) -> Result<Value<'a>, Stop> {
        const WHAT: &str = "variable-length string";
        let mut c = Cursor::new(data, at, WHAT);
        let len = c.u32()?;
        let heap = c.addr(self.sizes)?;
        let index = c.u32()?;
        if len == 0 {
            return Ok(Value::Text(&[]));
        }
        let heap = heap.ok_or_else(|| bad(at, WHAT, "undefined global heap address"))?;
        if heap == 0 {
            return Err(unsure(at, WHAT, "global heap address 0"));
        }
        let object = self.global_heap_object(heap, index)?;
        if object.len() as u64 != u64::from(len) {
            return Err(bad(at, WHAT, "its global heap object has another size"));
        }
        Ok(Value::Text(match object.iter().position(|b| *b == 0) {
            Some(nul) => &object[..nul],
            None => object,
        }))
    }

    /// Object `index` of the global heap collection at `addr`, as
    /// `H5HG__cache_heap_deserialize` and `H5HG_read` find it.
    fn global_heap_object(&mut self, addr: u64, index: u32) -> Result<&'a [u8], Stop> {
        const WHAT: &str = "global heap collection";
        let at = self.abs(addr);
        let header = self.sizes.collection_header();
        let mut c = Cursor::new(self.read(addr, header as u64, WHAT)?, at, WHAT);
        if c.bytes(4)? != b"GCOL" || c.u8()? != 1 {
            return Err(bad(at, WHAT, "bad signature or version"));
        }
        c.skip(3)?;
        let size = c.length(self.sizes)?;
        if size < header as u64 {
            return Err(bad(at, WHAT, "smaller than its header"));
        }
        if index == 0 || index > u32::from(u16::MAX) {
            return Err(unsure(at, WHAT, format_args!("object index {index}")));
        }
        let all = self.read(addr, size, WHAT)?;
        let mut p = header;
        let mut found = None;
        while p < all.len() {
            self.step(1)?;
            if all.len() - p < header {
                // Too small for an object header: free space.
                p = all.len();
                break;
            }
            let mut c = Cursor::new(&all[p..], at.saturating_add(p as u64), "global heap object");
            let idx = c.u16()?;
            c.skip(6)?;
            let len = c.length(self.sizes)?;
            let need = if idx > 0 {
                len.checked_next_multiple_of(8)
                    .and_then(|n| n.checked_add(header as u64))
            } else {
                Some(len)
            };
            let need = need
                .and_then(|n| usize::try_from(n).ok())
                .ok_or_else(|| bad(at, WHAT, "an object size overflows"))?;
            if need == 0 {
                return Err(unsure(at, WHAT, "free space of size 0"));
            }
            if u32::from(idx) == index {
                found = Some((p + header, len));
            }
            p = p
                .checked_add(need)
                .ok_or_else(|| bad(at, WHAT, "an object size overflows"))?;
        }
        if p != all.len() {
            return Err(bad(at, WHAT, "its objects overrun it"));
        }
        let (start, len) = found.ok_or_else(|| bad(at, WHAT, format_args!("no object {index}")))?;
        usize::try_from(len)
            .ok()
            .and_then(|len| all.get(start..start.checked_add(len)?))
            .ok_or_else(|| bad(at, WHAT, "its objects overrun it"))
    }

    /// The attributes as h5py lists them: by name, each name once, names and
    /// texts UTF-8.
    fn finish(
        &mut self,
        mut values: Vec<(&'a [u8], Value<'a>)>,
    ) -> Result<Vec<(String, AttrValue)>, Stop> {
        values.sort_by(|a, b| a.0.cmp(b.0));
        if let Some(pair) = values.windows(2).find(|w| w[0].0 == w[1].0) {
            return Err(Stop::Fail(Hdf5Error::Invalid(format!(
                "HDF5: root attribute {:?} appears twice",
                String::from_utf8_lossy(pair[0].0)
            ))));
        }
        let mut attributes = Vec::with_capacity(values.len());
        for (name, value) in values {
            let Ok(name) = std::str::from_utf8(name) else {
                return Err(Stop::Fail(Hdf5Error::Undecided(format!(
                    "HDF5: root attribute name {:?} is not UTF-8",
                    String::from_utf8_lossy(name)
                ))));
            };
            let value = match value {
                Value::Other(what) => AttrValue::Other(what),
                Value::Text(bytes) => {
                    self.step(bytes.len() as u64 / HASH_BYTES_PER_STEP)?;
                    match std::str::from_utf8(bytes) {
                        Ok(text) => AttrValue::Text(text.to_string()),
                        Err(_) => {
                            return Err(Stop::Fail(Hdf5Error::Undecided(format!(
                                "HDF5: root attribute {name:?} is not UTF-8 text"
                            ))));
                        }
                    }
                }
            };
            attributes.push((name.to_string(), value));
        }
        Ok(attributes)
    }
}

/// The sizes of offsets and lengths the superblock gives.
fn sizes(offset: u8, length: u8, at: u64) -> Result<Sizes, Stop> {
    for n in [offset, length] {
        match n {
            2 | 4 | 8 => {}
            16 | 32 => {
                return Err(unsure(
                    at,
                    "superblock",
                    format_args!("{n}-byte addresses or lengths"),
                ));
            }
            _ => {
                return Err(bad(
                    at,
                    "superblock",
                    format_args!("bad address or length size {n}"),
                ));
            }
        }
    }
    Ok(Sizes {
        offset: usize::from(offset),
        length: usize::from(length),
    })
}

/// Checks a header message's flags as `H5O__chunk_deserialize` does for a
/// file opened read-only.
fn message_flags(id: u16, flags: u8, at: u64) -> Result<(), Stop> {
    const WHAT: &str = "object header message";
    if (flags & MF_SHARED != 0 && flags & MF_DONT_SHARE != 0)
        || (flags & MF_WAS_UNKNOWN != 0 && flags & MF_FAIL_IF_UNKNOWN_WRITE != 0)
        || (flags & MF_WAS_UNKNOWN != 0 && flags & MF_MARK_IF_UNKNOWN == 0)
    {
        return Err(bad(at, WHAT, "bad flag combination"));
    }
    let known = id < MSG_FIRST_UNKNOWN && id != MSG_BOGUS;
    if !known && flags & MF_FAIL_IF_UNKNOWN != 0 {
        return Err(bad(
            at,
            WHAT,
            format_args!("unknown type {id} that readers must understand"),
        ));
    }
    if known && flags & MF_SHAREABLE != 0 && !SHAREABLE.contains(&id) {
        return Err(bad(at, WHAT, format_args!("type {id} flagged shareable")));
    }
    Ok(())
}

/// The attribute info message (dense storage).
fn attribute_info(m: &Message<'_>, sizes: Sizes) -> Result<AttributeInfo, Stop> {
    const WHAT: &str = "attribute info message";
    let mut c = Cursor::new(m.body, m.at, WHAT);
    if c.u8()? != 0 {
        return Err(bad(m.at, WHAT, "unknown version"));
    }
    let flags = c.u8()?;
    if flags & !0x03 != 0 {
        return Err(bad(m.at, WHAT, "unknown flags"));
    }
    if flags & 0x01 != 0 {
        c.skip(2)?;
    }
    let heap = c.addr(sizes)?;
    let name_index = c.addr(sizes)?;
    if flags & 0x02 != 0 {
        c.skip(sizes.offset)?;
    }
    Ok(AttributeInfo {
        heap,
        name_index,
        at: m.at,
    })
}

/// An attribute message (versions 1 to 3), as `H5O__attr_decode` reads it.
fn attribute<'a>(body: &'a [u8], at: u64, sizes: Sizes) -> Result<RawAttribute<'a>, Stop> {
    const WHAT: &str = "attribute message";
    let mut c = Cursor::new(body, at, WHAT);
    let version = c.u8()?;
    if !(1..=3).contains(&version) {
        return Err(bad(at, WHAT, format_args!("unknown version {version}")));
    }
    let flags = c.u8()?;
    if version >= 2 {
        if flags & !0x03 != 0 {
            return Err(bad(at, WHAT, "unknown flags"));
        }
        if flags != 0 {
            return Err(unsure(at, WHAT, "a shared datatype or dataspace"));
        }
    }
    let name_len = usize::from(c.u16()?);
    let dtype_len = usize::from(c.u16()?);
    let space_len = usize::from(c.u16()?);
    if version >= 3 {
        c.skip(1)?;
    }
    // Version 1 pads the name, datatype and dataspace to 8 bytes.
    let padded = |n: usize| if version == 1 { n.div_ceil(8) * 8 } else { n };
    let name_at = c.here();
    let name = &c.bytes(padded(name_len))?[..name_len];
    let name = match name.split_last() {
        Some((_, name)) if !name.contains(&0) => name,
        _ => {
            return Err(bad(
                name_at,
                WHAT,
                "its name has another length than stored",
            ));
        }
    };
    let dtype_at = c.here();
    let dtype = datatype(&c.bytes(padded(dtype_len))?[..dtype_len], dtype_at)?;
    let space_at = c.here();
    let shape = dataspace(&c.bytes(padded(space_len))?[..space_len], space_at, sizes)?;
    let element = dtype.element(sizes);
    if element == 0 {
        return Err(bad(dtype_at, WHAT, "a datatype of size 0"));
    }
    let data_at = c.here();
    let data_len = shape
        .count()
        .checked_mul(element)
        .and_then(|n| usize::try_from(n).ok())
        .ok_or_else(|| bad(at, WHAT, "its data size overflows"))?;
    let data = c.bytes(data_len)?;
    Ok(RawAttribute {
        name,
        at: data_at,
        dtype,
        shape,
        data,
    })
}

/// A datatype message, as far as telling strings from the rest.
fn datatype(bytes: &[u8], at: u64) -> Result<Dtype, Stop> {
    const WHAT: &str = "datatype";
    let mut c = Cursor::new(bytes, at, WHAT);
    let head = c.u8()?;
    let (class, version) = (head & 0x0F, head >> 4);
    let bits = c.uint(3)?;
    let size = c.u32()?;
    match version {
        1..=4 => {}
        5 => return Err(unsure(at, WHAT, "version 5")),
        _ => return Err(bad(at, WHAT, format_args!("unknown version {version}"))),
    }
    let field = |shift: u32| ((bits >> shift) & 0x0F) as u8;
    match class {
        CLASS_STRING => Ok(Dtype::Fixed {
            size,
            pad: field(0),
            cset: field(4),
        }),
        CLASS_VLEN => {
            let base = c.bytes(8)?;
            match field(0) {
                0 => Ok(Dtype::Other {
                    class,
                    size: u64::from(size),
                }),
                1 => Ok(Dtype::Vlen {
                    cset: field(8),
                    base: le(&base[4..]) as u32,
                }),
                _ => Err(bad(at, WHAT, "unknown variable-length type")),
            }
        }
        _ if usize::from(class) < CLASS_NAMES.len() => Ok(Dtype::Other {
            class,
            size: u64::from(size),
        }),
        _ => Err(unsure(at, WHAT, format_args!("unknown class {class}"))),
    }
}

/// A dataspace message (versions 1 and 2).
fn dataspace(bytes: &[u8], at: u64, sizes: Sizes) -> Result<Shape, Stop> {
    const WHAT: &str = "dataspace";
    const SCALAR: u8 = 0;
    const SIMPLE: u8 = 1;
    const NULL: u8 = 2;
    let mut c = Cursor::new(bytes, at, WHAT);
    let version = c.u8()?;
    let rank = c.u8()?;
    let flags = c.u8()?;
    let kind = match version {
        1 => {
            c.skip(5)?;
            if flags & 0x02 != 0 {
                return Err(unsure(at, WHAT, "a permutation index"));
            }
            if rank == 0 { SCALAR } else { SIMPLE }
        }
        2 => match c.u8()? {
            k @ (SCALAR | SIMPLE | NULL) => k,
            k => return Err(bad(at, WHAT, format_args!("unknown type {k}"))),
        },
        _ => return Err(bad(at, WHAT, format_args!("unknown version {version}"))),
    };
    if rank > MAX_RANK {
        return Err(bad(at, WHAT, format_args!("rank {rank}")));
    }
    if kind != SIMPLE && rank > 0 {
        return Err(unsure(at, WHAT, "dimensions on a scalar or null dataspace"));
    }
    let mut count = 1u64;
    for _ in 0..rank {
        count = count
            .checked_mul(c.length(sizes)?)
            .ok_or_else(|| bad(at, WHAT, "its size overflows"))?;
    }
    if flags & 0x01 != 0 {
        c.skip(usize::from(rank) * sizes.length)?;
    }
    Ok(match kind {
        SCALAR => Shape::Scalar,
        SIMPLE => Shape::Simple(count),
        _ => Shape::Null,
    })
}

/// A tiny object: its bytes are in the heap ID itself.
fn tiny_object<'a>(heap: &Heap, id: &'a [u8]) -> Result<(&'a [u8], u64), Stop> {
    let flag = id.first().copied().unwrap_or(0);
    let (len, skip) = if heap.id_len <= 18 {
        (usize::from(flag & 0x0F) + 1, 1)
    } else {
        let low = id.get(1).copied().unwrap_or(0);
        (((usize::from(flag & 0x0F) << 8) | usize::from(low)) + 1, 2)
    };
    id.get(skip..skip + len)
        .map(|object| (object, heap.at))
        .ok_or_else(|| unsure(heap.at, "fractal heap tiny object", "longer than its ID"))
}

/// A fixed-length string as h5py returns it: converted to NUL padding by
/// libhdf5, then stripped of trailing NULs by NumPy.
fn fixed_text(bytes: &[u8], pad: u8) -> &[u8] {
    let text = match pad {
        PAD_NULLTERM => match bytes.iter().position(|b| *b == 0) {
            Some(nul) => &bytes[..nul],
            None => bytes,
        },
        PAD_SPACEPAD => trim_end(bytes, b' '),
        _ => bytes,
    };
    trim_end(text, 0)
}

fn trim_end(bytes: &[u8], pad: u8) -> &[u8] {
    let keep = bytes.iter().rposition(|b| *b != pad).map_or(0, |i| i + 1);
    &bytes[..keep]
}

/// A value other than one string, described.
fn describe(dtype: Dtype, shape: Shape) -> String {
    let noun = dtype.noun();
    match shape {
        Shape::Null => format!("empty {noun}"),
        Shape::Scalar => noun.to_string(),
        Shape::Simple(1) => format!("array of 1 {noun}"),
        Shape::Simple(n) => format!("array of {n} {noun}s"),
    }
}

/// Bob Jenkins's lookup3 `hashlittle` with initial value 0, HDF5's metadata
/// checksum (`H5_checksum_lookup3`).
fn lookup3(data: &[u8]) -> u32 {
    let init = 0xdead_beef_u32.wrapping_add(data.len() as u32);
    let (mut a, mut b, mut c) = (init, init, init);
    let word = |w: &[u8]| le(w) as u32;
    let mut rest = data;
    while rest.len() > 12 {
        a = a.wrapping_add(word(&rest[0..4]));
        b = b.wrapping_add(word(&rest[4..8]));
        c = c.wrapping_add(word(&rest[8..12]));
        mix(&mut a, &mut b, &mut c);
        rest = &rest[12..];
    }
    if rest.is_empty() {
        return c;
    }
    let mut tail = [0u8; 12];
    tail[..rest.len()].copy_from_slice(rest);
    a = a.wrapping_add(word(&tail[0..4]));
    b = b.wrapping_add(word(&tail[4..8]));
    c = c.wrapping_add(word(&tail[8..12]));
    final_mix(&mut a, &mut b, &mut c);
    c
}

fn mix(a: &mut u32, b: &mut u32, c: &mut u32) {
    *a = a.wrapping_sub(*c) ^ c.rotate_left(4);
    *c = c.wrapping_add(*b);
    *b = b.wrapping_sub(*a) ^ a.rotate_left(6);
    *a = a.wrapping_add(*c);
    *c = c.wrapping_sub(*b) ^ b.rotate_left(8);
    *b = b.wrapping_add(*a);
    *a = a.wrapping_sub(*c) ^ c.rotate_left(16);
    *c = c.wrapping_add(*b);
    *b = b.wrapping_sub(*a) ^ a.rotate_left(19);
    *a = a.wrapping_add(*c);
    *c = c.wrapping_sub(*b) ^ b.rotate_left(4);
    *b = b.wrapping_add(*a);
}

fn final_mix(a: &mut u32, b: &mut u32, c: &mut u32) {
    *c = (*c ^ *b).wrapping_sub(b.rotate_left(14));
    *a = (*a ^ *c).wrapping_sub(c.rotate_left(11));
    *b = (*b ^ *a).wrapping_sub(a.rotate_left(25));
    *c = (*c ^ *b).wrapping_sub(b.rotate_left(16));
    *a = (*a ^ *c).wrapping_sub(c.rotate_left(4));
    *b = (*b ^ *a).wrapping_sub(a.rotate_left(14));
    *c = (*c ^ *b).wrapping_sub(b.rotate_left(24));
}

#[cfg(test)]
mod tests {
    use super::*;

    const MODEL_CONFIG: &str = "{\"class_name\": \"Sequential\", \"config\": {\"layers\": \
        [{\"class_name\": \"Lambda\", \"config\": {\"name\": \"l\u{e9}\"}}]}}";

    /// The run-length text of a sample: hex literals, `*N` zero bytes,
    /// `*N:XX` bytes XX.
    fn decode(text: &str) -> Vec<u8> {
        let mut out = Vec::new();
        for token in text.split_whitespace() {
            if let Some(run) = token.strip_prefix('*') {
                let (count, byte) = run.split_once(':').unwrap_or((run, "00"));
                let count: usize = count.parse().expect("run length");
                let byte = u8::from_str_radix(byte, 16).expect("run byte");
                out.extend(std::iter::repeat_n(byte, count));
            } else {
                for pair in token.as_bytes().chunks(2) {
                    let hex = std::str::from_utf8(pair).expect("hex");
                    out.push(u8::from_str_radix(hex, 16).expect("hex"));
                }
            }
        }
        out
    }

    fn read_at(
        data: &[u8],
        superblock_at: u64,
        chunk: usize,
    ) -> Result<Vec<(String, AttrValue)>, Hdf5Error> {
        let mut stream = Hdf5Stream::new(superblock_at);
        for part in data.chunks(chunk.max(1)) {
            stream.update(part);
        }
        stream.finish()
    }

    fn read(data: &[u8]) -> Result<Vec<(String, AttrValue)>, Hdf5Error> {
        read_at(data, 0, 1 << 18)
    }

    fn text(s: &str) -> AttrValue {
        AttrValue::Text(s.to_string())
    }

    fn other(s: &str) -> AttrValue {
        AttrValue::Other(s.to_string())
    }

    fn named(list: Vec<(&str, AttrValue)>) -> Vec<(String, AttrValue)> {
        list.into_iter().map(|(k, v)| (k.to_string(), v)).collect()
    }

    /// The attributes of the V0 and V3 samples.
    fn common() -> Vec<(String, AttrValue)> {
        named(vec![
            ("empty", other("empty float")),
            ("fixed", text("hello")),
            ("keras_version", text("2.4.0")),
            ("model_config", text(MODEL_CONFIG)),
            ("num", other("integer")),
            ("one", text("only")),
            ("three", other("array of 3 strings")),
        ])
    }

    fn samples() -> Vec<Vec<u8>> {
        [V0, V3, CONTINUATION, DENSE, HUGE]
            .iter()
            .map(|s| decode(s))
            .collect()
    }

    fn put(data: &mut [u8], at: usize, value: u64) {
        data[at..at + 8].copy_from_slice(&value.to_le_bytes());
    }

    #[test]
    fn lookup3_matches_the_reference() {
        assert_eq!(lookup3(b""), 0xdead_beef);
        assert_eq!(lookup3(b"Four score and seven years ago"), 0x1777_0551);
    }

    #[test]
    fn superblock_0_compact_attributes() {
        assert_eq!(read(&decode(V0)), Ok(common()));
    }

    #[test]
    fn superblock_3_compact_attributes() {
        assert_eq!(read(&decode(V3)), Ok(common()));
    }

    #[test]
    fn attributes_in_a_continuation_block_after_data() {
        let mut expected = vec![("model_config".to_string(), text(MODEL_CONFIG))];
        expected.extend((0..12).map(|i| (format!("after_{i:02}"), text(&format!("v{i}")))));
        expected.sort_by(|a, b| a.0.cmp(&b.0));
        assert_eq!(read(&decode(CONTINUATION)), Ok(expected));
    }

    #[test]
    fn dense_attributes_in_a_fractal_heap() {
        let mut expected = vec![
            ("model_config".to_string(), text(MODEL_CONFIG)),
            ("n".to_string(), other("array of 3 integers")),
        ];
        expected.extend((0..12).map(|i| (format!("a{i:02}"), text(&format!("v{i}")))));
        expected.sort_by(|a, b| a.0.cmp(&b.0));
        assert_eq!(read(&decode(DENSE)), Ok(expected));
    }

    #[test]
    fn a_huge_dense_attribute() {
        let config = format!(
            "{{\"class_name\": \"Lambda\", \"pad\": \"{}\"}}",
            "x".repeat(70_000)
        );
        let expected = named(vec![
            ("backend", text("tensorflow")),
            ("model_config", text(&config)),
        ]);
        assert_eq!(read(&decode(HUGE)), Ok(expected));
    }

    #[test]
    fn chunk_sizes_do_not_change_the_outcome() {
        for data in samples() {
            let whole = read_at(&data, 0, data.len());
            assert!(whole.is_ok(), "{whole:?}");
            for chunk in [1, 7, 4096] {
                assert_eq!(read_at(&data, 0, chunk), whole, "chunks of {chunk}");
            }
        }
    }

    #[test]
    fn a_user_block_before_the_superblock() {
        let mut data = vec![0u8; 512];
        data.extend(decode(V0));
        assert_eq!(read_at(&data, 512, 100), Ok(common()));
    }

    #[test]
    fn truncated_files_are_invalid() {
        for data in samples() {
            for cut in (0..data.len()).step_by(61) {
                match read_at(&data[..cut], 0, 1000) {
                    Err(Hdf5Error::Invalid(_)) => {}
                    other => panic!("cut at {cut}: {other:?}"),
                }
            }
        }
    }

    #[test]
    fn mutated_files_never_panic() {
        let mut seed = 0x2545_f491_4f6c_dd1d_u64;
        let mut next = move || {
            seed ^= seed << 13;
            seed ^= seed >> 7;
            seed ^= seed << 17;
            seed
        };
        for data in samples() {
            for _ in 0..200 {
                let mut copy = data.clone();
                for _ in 0..1 + next() % 4 {
                    let at = (next() % copy.len() as u64) as usize;
                    copy[at] = next() as u8;
                }
                let chunk = 1 + (next() % 5000) as usize;
                let _ = read_at(&copy, 0, chunk);
                let cut = (next() % copy.len() as u64) as usize;
                let _ = read_at(&copy[..cut], 0, chunk);
            }
        }
    }

    #[test]
    fn a_checksum_mismatch_is_invalid() {
        let mut data = decode(V3);
        let at = data.windows(4).position(|w| w == b"OHDR").expect("header");
        data[at + 40] ^= 1;
        match read(&data) {
            Err(Hdf5Error::Invalid(e)) => assert!(e.contains("checksum"), "{e}"),
            other => panic!("{other:?}"),
        }
    }

    #[test]
    fn a_name_twice_is_invalid() {
        let mut data = decode(V0);
        let at = data.windows(4).position(|w| w == b"one\0").expect("name");
        data[at..at + 3].copy_from_slice(b"num");
        match read(&data) {
            Err(Hdf5Error::Invalid(e)) => assert!(e.contains("twice"), "{e}"),
            other => panic!("{other:?}"),
        }
    }

    #[test]
    fn text_that_is_not_utf8_is_undecided() {
        let mut data = decode(V0);
        let at = data
            .windows(10)
            .position(|w| w == b"Sequential")
            .expect("text");
        data[at] = 0xFF;
        assert!(matches!(read(&data), Err(Hdf5Error::Undecided(_))));
    }

    /// V0 with its root group's header copied to 3 MiB, past the data; with
    /// `move_block`, the header's continuation block copied to 1.5 MiB,
    /// neither at the start nor just behind the header.
    fn moved_root(move_block: bool) -> Vec<u8> {
        const ROOT: usize = 96;
        const ROOT_ADDRESS: usize = 64;
        const EOF_ADDRESS: usize = 40;
        let mut data = decode(V0);
        let size =
            u32::from_le_bytes(data[ROOT + 8..ROOT + 12].try_into().expect("4 bytes")) as usize;
        let mut header = data[ROOT..ROOT + 16 + size].to_vec();
        assert_eq!(&header[16..18], &[0x10, 0], "a continuation message first");
        if move_block {
            let block = u64::from_le_bytes(header[24..32].try_into().expect("8 bytes")) as usize;
            let len = u64::from_le_bytes(header[32..40].try_into().expect("8 bytes")) as usize;
            let copy = data[block..block + len].to_vec();
            let to = 3 << 19;
            data.resize(to, 0);
            data.extend(copy);
            put(&mut header, 24, to as u64);
        }
        let to = 3 << 20;
        data.resize(to, 0);
        data.extend(header);
        put(&mut data, ROOT_ADDRESS, to as u64);
        let len = data.len() as u64;
        put(&mut data, EOF_ADDRESS, len);
        data
    }

    #[test]
    fn a_root_header_after_the_data() {
        let data = moved_root(false);
        assert_eq!(read_at(&data, 0, 1 << 16), Ok(common()));
        assert_eq!(read_at(&data, 0, 7), Ok(common()));
    }

    #[test]
    fn metadata_behind_what_was_kept_is_undecided() {
        let data = moved_root(true);
        match read_at(&data, 0, 1 << 16) {
            Err(Hdf5Error::Undecided(e)) => assert!(e.contains("before bytes already read"), "{e}"),
            other => panic!("{other:?}"),
        }
    }

    #[test]
    fn what_is_kept_is_bounded() {
        let mut store = Store::new();
        assert!(store.want(0, HEAD).is_ok());
        assert!(matches!(
            store.want(HEAD, MAX_KEPT),
            Err(Hdf5Error::Undecided(_))
        ));
    }

    #[test]
    fn a_failed_want_keeps_what_was_kept() {
        let mut store = Store::new();
        assert_eq!(store.want(0, 100), Ok(true));
        let bytes: Vec<u8> = (0..=255).cycle().take(3 << 20).collect();
        store.capture(&bytes);
        // 100..200 streamed past more than the trailing window ago.
        assert!(matches!(store.want(50, 200), Err(Hdf5Error::Undecided(_))));
        assert_eq!(store.get(0, 100), Some(&bytes[..100]));
        // Just behind the stream, the trailing window has it.
        let at = (3 << 20) - 10;
        assert_eq!(store.want(at, at + 20), Ok(true));
        assert_eq!(store.get(at, 10), Some(&bytes[at as usize..]));
    }

    #[test]
    fn not_hdf5_is_invalid() {
        assert!(matches!(
            read(b"not an HDF5 file at all"),
            Err(Hdf5Error::Invalid(_))
        ));
        assert!(matches!(read(b""), Err(Hdf5Error::Invalid(_))));
    }

    #[test]
    fn fixed_strings_lose_their_padding_as_h5py_strips_it() {
        assert_eq!(fixed_text(b"ab\0cd\0\0", PAD_NULLTERM), b"ab");
        assert_eq!(fixed_text(b"ab\0cd\0\0", 1), b"ab\0cd");
        assert_eq!(fixed_text(b"ab\0c  ", PAD_SPACEPAD), b"ab\0c");
        assert_eq!(fixed_text(b"ab\0 ", PAD_SPACEPAD), b"ab");
    }

    /// v0.h5 (6144 bytes).
    const V0: &str = "\
    894844460d0a1a0a0000000000080800040010 *13 *8:ff 0018000000000000 *8:ff *8 \
    600000000000000001000000000000008800000000000000a8020000000000000100090001000000 \
    180000000000000010001000000000002003000000000000f0010000000000005452454500000000 *16:ff \
    *520 484541500000000058000000000000000800000000000000c802 *14 010000000000000050 *71 \
    11001000000000008800000000000000a8020000000000000c0048000000000001000d0014000800 \
    6d6f64656c5f636f6e66696700000000190101001000000010000000010000000000080000000000 \
    0100000000000000690000000008000000000000010000000c0048000000000001000e0014000800 \
    6b657261735f76657273696f6e000000190100001000000010000000010000000000080000000000 \
    0100000000000000050000000008000000000000020000000c002800000000000100060008000800 \
    66697865640000001301000005000000010000000000000068656c6c6f0000000c00300000000000 \
    010004000c0008006e756d0000000000100800000800000000004000000000000100000000000000 \
    05000000000000000c0050000000000001000400140018006f6e6500000000001901010010000000 \
    10000000010000000000080000000000010101000000000001000000000000000100000000000000 \
    040000000008000000000000030000000c0038000000000001000600080018007468726565000000 \
    13010000010000000101010000000000030000000000000003000000000000006162630000000000 \
    0c003000000000000100060014000400656d70747900000011201f00040000000000200017080017 \
    7f0000000000000002000002 *756 \
    47434f4c010000000010000000000000010000000000000069000000000000007b22636c6173735f \
    6e616d65223a202253657175656e7469616c222c2022636f6e666967223a207b226c617965727322 \
    3a205b7b22636c6173735f6e616d65223a20224c616d626461222c2022636f6e666967223a207b22 \
    6e616d65223a20226cc3a9227d7d5d7d7d0000000000000002000000000000000500000000000000 \
    322e342e30000000030000000000000004000000000000006f6e6c79 *12 400f *3894 \
    ";
    /// v3.h5 (6144 bytes).
    const V3: &str = "\
    894844460d0a1a0a030808 *9 *8:ff \
    00180000000000003000000000000000418989074f4844520201aa01021200000000 *16:ff \
    0a0200010000151200040000 *16:ff \
    0c3e000003000d0014000400006d6f64656c5f636f6e666967001901010010000000100000000100 \
    00000000080002000000690000000008000000000000010000000c3f000003000e0014000400006b \
    657261735f76657273696f6e00190100001000000010000000010000000000080002000000050000 \
    000008000000000000020000000c2000000300060008000400006669786564001301000005000000 \
    0200000068656c6c6f0c250000030004000c000400006e756d001008000008000000000040000200 \
    000005000000000000000c4500000300040014001400006f6e650019010100100000001000000001 \
    00000000000800020101010100000000000000010000000000000004000000000800000000000003 \
    0000000c2e0000030006000800140000746872656500130100000100000002010101030000000000 \
    000003000000000000006162630c270000030006001400040000656d7074790011201f0004000000 \
    00002000170800177f000000020000029240e8e1 *1562 \
    47434f4c010000000010000000000000010000000000000069000000000000007b22636c6173735f \
    6e616d65223a202253657175656e7469616c222c2022636f6e666967223a207b226c617965727322 \
    3a205b7b22636c6173735f6e616d65223a20224c616d626461222c2022636f6e666967223a207b22 \
    6e616d65223a20226cc3a9227d7d5d7d7d0000000000000002000000000000000500000000000000 \
    322e342e30000000030000000000000004000000000000006f6e6c79 *12 400f *3894 \
    ";
    /// continuation.h5 (18648 bytes).
    const CONTINUATION: &str = "\
    894844460d0a1a0a0000000000080800040010 *13 *8:ff d848000000000000 *8:ff *8 \
    600000000000000001000000000000008800000000000000a8020000000000000100110001000000 \
    18000000000000001000100000000000200300000000000068000000000000005452454500000100 *16:ff *8 \
    980400000000000008 *503 484541500000000058000000000000001000000000000000c802 *14 \
    7700000000000000010000000000000048 *63 \
    1000100000000000e005000000000000f8010000000000000c0048000000000001000d0014000800 \
    6d6f64656c5f636f6e66696700000000190101001000000010000000010000000000080000000000 \
    01000000000000006900000000080000000000000100000001000500010000000001000000000000 \
    01001800000000000101010000000000b80b000000000000b80b0000000000000300180001000000 \
    11201f000400000000002000170800177f0000000000000005000800010000000202020100000000 \
    080018000000000003010018000000000000e02e *14 88 *141 534e4f440100010008000000000000008803 \
    *310 1000100000000000e046000000000000f8010000000000000c004800000000000100090014000800 \
    61667465725f3030 *8 \
    19010100100000001000000001000000000008000000000001000000000000000200000000080000 \
    00000000020000000c00480000000000010009001400080061667465725f3031 *8 \
    19010100100000001000000001000000000008000000000001000000000000000200000000080000 \
    00000000030000000c00480000000000010009001400080061667465725f3032 *8 \
    19010100100000001000000001000000000008000000000001000000000000000200000000080000 \
    00000000040000000c00480000000000010009001400080061667465725f3033 *8 \
    19010100100000001000000001000000000008000000000001000000000000000200000000080000 \
    00000000050000000c00480000000000010009001400080061667465725f3034 *8 \
    19010100100000001000000001000000000008000000000001000000000000000200000000080000 \
    00000000060000000c00480000000000010009001400080061667465725f3035 *8 \
    19010100100000001000000001000000000008000000000001000000000000000200000000080000 \
    0000000007 *43 \
    47434f4c010000000010000000000000010000000000000069000000000000007b22636c6173735f \
    6e616d65223a202253657175656e7469616c222c2022636f6e666967223a207b226c617965727322 \
    3a205b7b22636c6173735f6e616d65223a20224c616d626461222c2022636f6e666967223a207b22 \
    6e616d65223a20226cc3a9227d7d5d7d7d0000000000000002000000000000000200000000000000 \
    76300000000000000300000000000000020000000000000076310000000000000400000000000000 \
    02000000000000007632000000000000050000000000000002000000000000007633000000000000 \
    06000000000000000200000000000000763400000000000007000000000000000200000000000000 \
    76350000000000000800000000000000020000000000000076360000000000000900000000000000 \
    020000000000000076370000000000000a0000000000000002000000000000007638000000000000 \
    0b00000000000000020000000000000076390000000000000c000000000000000300000000000000 \
    76313000000000000d000000000000000300000000000000763131 *13 500e *15654 \
    11001000000000008800000000000000a8020000000000000c004800000000000100090014000800 \
    61667465725f3036 *8 \
    19010100100000001000000001000000000008000000000001000000000000000200000000080000 \
    00000000080000000c00480000000000010009001400080061667465725f3037 *8 \
    19010100100000001000000001000000000008000000000001000000000000000200000000080000 \
    00000000090000000c00480000000000010009001400080061667465725f3038 *8 \
    19010100100000001000000001000000000008000000000001000000000000000200000000080000 \
    000000000a0000000c00480000000000010009001400080061667465725f3039 *8 \
    19010100100000001000000001000000000008000000000001000000000000000200000000080000 \
    000000000b0000000c00480000000000010009001400080061667465725f3130 *8 \
    19010100100000001000000001000000000008000000000001000000000000000300000000080000 \
    000000000c0000000c00480000000000010009001400080061667465725f3131 *8 \
    19010100100000001000000001000000000008000000000001000000000000000300000000080000 \
    000000000d000000 \
    ";
    /// dense.h5 (7168 bytes).
    const DENSE: &str = "\
    894844460d0a1a0a030808 *9 *8:ff \
    001c0000000000003000000000000000f3f2c6d14f48445202010302021200000000 *16:ff \
    0a02000100001512000400003f02000000000000d10200000000000000cd01 *462 \
    7b3071e8465248500008000000020010 *10 *8:ff \
    ed00000000000000f70200000000000000040000000000000004 *14 0e *39 04000004 *8 \
    010000000000280001000018 *8 \
    fa21b8804254484400080002000011000000642849030000000000000e000e00000000000000a6e1 \
    cfaa465348440000ed00000000000000010000000000000001 *15 \
    0400500078002800000001000000000049050000000000001b000000000000001b00000000000000 \
    d991f99d42544c46000800d002000000430000ffff0000578c331f005400000000350000ffff0000 \
    184ba642006602000000350000ffff00000ec6744700be00000000350000ffff0000bea1f547009b \
    02000000350000ffff0000337a0554008900000000350000ffff0000158f59550092010000003500 \
    00ffff0000bbbaad720016000000003e0000ffff0000e8049f8000f300000000350000ffff00002d \
    b14d8100fc01000000350000ffff0000ff44e382003102000000350000ffff00004377f28e00c701 \
    000000350000ffff00003aeec6c0002801000000350000ffff0000fa83b9e6005d01000000350000 \
    ffff0000229b72f53d87e3b7 *264 4653534500f70200000000000001ed000013030000000008b494bf *668 \
    47434f4c010000000010000000000000010000000000000069000000000000007b22636c6173735f \
    6e616d65223a202253657175656e7469616c222c2022636f6e666967223a207b226c617965727322 \
    3a205b7b22636c6173735f6e616d65223a20224c616d626461222c2022636f6e666967223a207b22 \
    6e616d65223a20226cc3a9227d7d5d7d7d0000000000000002000000000000000200000000000000 \
    76300000000000000300000000000000020000000000000076310000000000000400000000000000 \
    02000000000000007632000000000000050000000000000002000000000000007633000000000000 \
    06000000000000000200000000000000763400000000000007000000000000000200000000000000 \
    76350000000000000800000000000000020000000000000076360000000000000900000000000000 \
    020000000000000076370000000000000a0000000000000002000000000000007638000000000000 \
    0b00000000000000020000000000000076390000000000000c000000000000000300000000000000 \
    76313000000000000d000000000000000300000000000000763131 *13 500e *3654 46484442003f02 *11 \
    6d25cd9503000d0014000400006d6f64656c5f636f6e666967001901010010000000100000000100 \
    00000000080002000000690000000008000000000000010000000300040014000400006130300019 \
    01010010000000100000000100000000000800020000000200000000080000000000000200000003 \
    00040014000400006130310019010100100000001000000001000000000008000200000002000000 \
    00080000000000000300000003000400140004000061303200190101001000000010000000010000 \
    00000008000200000002000000000800000000000004000000030004001400040000613033001901 \
    01001000000010000000010000000000080002000000020000000008000000000000050000000300 \
    04001400040000613034001901010010000000100000000100000000000800020000000200000000 \
    08000000000000060000000300040014000400006130350019010100100000001000000001000000 \
    00000800020000000200000000080000000000000700000003000400140004000061303600190101 \
    00100000001000000001000000000008000200000002000000000800000000000008000000030004 \
    00140004000061303700190101001000000010000000010000000000080002000000020000000008 \
    00000000000009000000030004001400040000613038001901010010000000100000000100000000 \
    000800020000000200000000080000000000000a0000000300040014000400006130390019010100 \
    10000000100000000100000000000800020000000200000000080000000000000b00000003000400 \
    14000400006131300019010100100000001000000001000000000008000200000003000000000800 \
    00000000000c00000003000400140004000061313100190101001000000010000000010000000000 \
    0800020000000300000000080000000000000d000000030002000c001400006e0010080000080000 \
    000000400002010101030000000000000003 *15 010000000000000002 *244 \
    ";
    /// huge.h5 (77237 bytes).
    const HUGE: &str = "\
    894844460d0a1a0a030808 *9 *8:ff \
    b52d01000000000030000000000000006833c9674f484452020078021200000000 *16:ff \
    0a0200010000151200040000b30000000000000045010000000000000042 *68 \
    61581ff3465248500008000000020010000001000000000000006b01000000000000b10300000000 \
    0000910500000000000000040000000000000004 *14 0100000000000000b51101000000000001 *23 \
    04000004 *8 \
    01000000000028000100b52901000000000000005ceb517d42544844000800020000110000006428 \
    910300000000000002000200000000000000bb9571cf425448440001000200001800000064289101 \
    00000000000001000100000000000000d69875b042544c4600010008000000000000b51101000000 \
    000001000000000000009a792267 *478 \
    42544c460008100100000000000000ffff0000e8049f80001600000000390000ffff0000bddc2ccf d8c48a5f \
    *468 465348440000b103000000000000010000000000000001 *15 \
    04005000780028000000010000000000e3050000000000001b000000000000001b00000000000000 \
    5ea8678a4653534500910500000000000001b103004f0000000000cc12a2ae *514 \
    03000d0008000400006d6f64656c5f636f6e666967001301000093110100020000007b22636c6173 \
    735f6e616d65223a20224c616d626461222c2022706164223a2022 *70000:78 \
    227d47434f4c01000000001000000000000001000000000000000a0000000000000074656e736f72 666c6f77 \
    *14 d00f *4038 4648444200b3 *12 \
    326f39010300080014000400006261636b656e640019010100100000001000000001000000000008 \
    00020000000a000000b51901000000000001 *948 \
    ";
}
