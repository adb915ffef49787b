//! Reading a BOM as a stream: the top-level arrays whose items the schema
//! checks one by one (`components`, `dependencies`, ...) are read item by
//! item, each item checked and reduced to compact facts, then dropped (a
//! component's own `components` too, at any depth); the rest of the
//! document (small) is kept as a tree. The JSON rules are those
//! of [`crate::json`] (no repeated key, nesting bounded) with the same
//! error paths; each item and the rest are bounded in bytes.

use super::refs::{Mark, RefLog};
use super::schema::{ArraySchema, array_schema, top_member};
use super::unique::{ArrayDigest, digest, object_digest};
use crate::json::value::StrictPath;
use crate::json::{ObjectKeys, StrictJsonError};
use serde::de::{DeserializeSeed, Deserializer, MapAccess, SeqAccess, Visitor};
use serde_json::{Map, Value};
use std::cell::Cell;
use std::fmt;
use std::io::{BufReader, Read};
use std::rc::Rc;

/// Most bytes of one item of a top-level array (one component), or of one
/// component nested in another, not counting the components nested in it:
/// a file's component is a few hundred bytes; a model's, with its card,
/// some kilobytes.
pub const MAX_BOM_ITEM: u64 = 16 << 20;
/// Most bytes of the BOM outside the items of its item-by-item arrays (metadata,
/// declarations, ...): the whole-BOM cap of earlier releases, so every
/// BOM they read is still read.
pub const MAX_BOM_REST: u64 = 256 << 20;
/// Most bom-refs and references (`ref`, `dependsOn`, `provides`) a BOM may
/// hold, and most items of any one array: each reference is kept until the
/// end to be resolved (24 bytes and its text), and each item of an array
/// with unique items until the array ends (24 bytes), so this bounds the
/// check's memory at about half a GiB. A BOM of a dataset of 2.5 million
/// files holds about 7.5 million references.
pub const MAX_BOM_REFS: u64 = 8 << 20;
/// Most schema problems kept for one array (the report shows 200 in all).
const MAX_PROBLEMS: usize = 200;

/// Why a BOM cannot be read (as opposed to read and found invalid).
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum BomReadError {
    /// The input could not be read (for a file argument, an
    /// [`InputError`](crate::fetch::InputError) is inside).
    #[error("{0}")]
    Read(std::io::Error),
    /// Not strict JSON.
    #[error("not JSON: {0}")]
    Json(StrictJsonError),
    /// One item of a top-level array (or one nested component, without
    /// its own nested components) is larger than [`MAX_BOM_ITEM`].
    #[error("{place} is larger than {max} bytes, the most read for one item of a BOM")]
    ItemTooLarge {
        /// The item's location (`/components/12`, `/components/5/components/3`).
        place: String,
        /// The cap.
        max: u64,
    },
    /// The BOM holds more than [`MAX_BOM_REFS`] bom-refs and references.
    #[error(
        "the BOM holds more than {max} bom-refs and references, or an array of more items, the most checked"
    )]
    TooManyReferences {
        /// The cap.
        max: u64,
    },
    /// The BOM without its item-by-item arrays is larger than
    /// [`MAX_BOM_REST`].
    #[error(
        "the BOM apart from the items of its top-level arrays is larger than {max} bytes, the most read"
    )]
    RestTooLarge {
        /// The cap.
        max: u64,
    },
}

/// A BOM read as a stream.
pub(super) enum Parsed {
    /// A JSON object: its members, each top-level array read item by item
    /// replaced by an empty array, and those arrays' facts.
    Object {
        rest: Map<String, Value>,
        arrays: Vec<StreamedArray>,
    },
    /// Anything else, whole (it can only be invalid).
    Other(Value),
}

/// What a top-level array read item by item leaves behind.
pub(super) struct StreamedArray {
    /// Its member name (`components`).
    pub key: String,
    /// How many items it had.
    pub len: u64,
    /// Its items' schema problems (`location: message`), at most 200.
    pub problems: Vec<String>,
    /// Two equal items (the earlier index, the later), when the schema asks
    /// for unique items.
    pub repeated: Option<(u64, u64)>,
    /// Its items' bom-refs and uses.
    pub refs: RefLog,
}

/// Counts the bytes read and stops at a limit the parser moves.
#[derive(Default)]
struct Meter {
    read: Cell<u64>,
    limit: Cell<u64>,
    over: Cell<bool>,
}

struct Metered<R> {
    inner: R,
    meter: Rc<Meter>,
}

impl<R: Read> Read for Metered<R> {
    fn read(&mut self, buf: &mut [u8]) -> std::io::Result<usize> {
        let m = &self.meter;
        let room = m.limit.get().saturating_sub(m.read.get());
        let want = buf.len().min(usize::try_from(room).unwrap_or(usize::MAX));
        if want == 0 && !buf.is_empty() {
            // At the limit: only the end of the input may follow.
            let mut probe = [0u8; 1];
            if self.inner.read(&mut probe)? == 0 {
                return Ok(0);
            }
            m.over.set(true);
            return Err(std::io::Error::other("size limit reached"));
        }
        let n = self.inner.read(&mut buf[..want])?;
        m.read.set(m.read.get() + n as u64);
        Ok(n)
    }
}

/// The byte caps of a read: [`MAX_BOM_ITEM`] and [`MAX_BOM_REST`] (tests
/// use smaller ones).
#[derive(Clone, Copy)]
pub(super) struct Caps {
    pub item: u64,
    pub rest: u64,
    /// Most reference entries ([`MAX_BOM_REFS`]).
    pub refs: u64,
}

impl Caps {
    /// The caps of `bom --check`.
    pub(super) const BOM: Caps = Caps {
        item: MAX_BOM_ITEM,
        rest: MAX_BOM_REST,
        refs: MAX_BOM_REFS,
    };
}

/// One part of the BOM being read under its own cap: the rest (outside
/// the items), an item, an item of an item's array, ... Each part's own
/// bytes are those outside the parts inside it.
struct Frame {
    /// Its location (`/components/7`); none for the rest.
    place: Option<String>,
    cap: u64,
    used: u64,
    since: u64,
}

/// The reader's state shared by the visitors.
struct State {
    caps: Caps,
    at: StrictPath,
    meter: Rc<Meter>,
    /// The parts being read, the rest first.
    frames: Vec<Frame>,
    /// The part that went over its cap.
    too_large: Option<String>,
    /// Reference entries of the arrays read to their end.
    refs_closed: u64,
    /// Whether the BOM went over the reference cap.
    too_many_refs: bool,
}

impl State {
    /// Fails once the entries of the arrays read so far and of `open`
    /// (the array being read) pass the reference cap: the read stops
    /// there, before memory grows further.
    fn count_refs<E: serde::de::Error>(&mut self, open: &RefLog, items: u64) -> Result<(), E> {
        if self.refs_closed.saturating_add(open.entries()) > self.caps.refs
            || items > self.caps.refs
        {
            self.too_many_refs = true;
            return Err(E::custom("too many references"));
        }
        Ok(())
    }

    /// An item at `place` begins: the item cap again, for it alone.
    fn begin(&mut self, place: String) {
        let read = self.meter.read.get();
        if let Some(outer) = self.frames.last_mut() {
            outer.used += read - outer.since;
        }
        self.frames.push(Frame {
            place: Some(place),
            cap: self.caps.item,
            used: 0,
            since: read,
        });
        self.meter.limit.set(read.saturating_add(self.caps.item));
    }

    /// The innermost item ends: its outer part's cap, less what it used.
    fn end(&mut self) {
        if let Some(inner) = self.frames.pop()
            && self.meter.over.get()
            && self.too_large.is_none()
        {
            self.too_large = inner.place;
        }
        let read = self.meter.read.get();
        if let Some(outer) = self.frames.last_mut() {
            outer.since = read;
            self.meter
                .limit
                .set(read.saturating_add(outer.cap.saturating_sub(outer.used)));
        }
    }
}

/// Reads a BOM from `reader` (buffered here), keeping no more than the
/// caps allow.
pub(super) fn read(reader: impl Read, caps: Caps) -> Result<Parsed, BomReadError> {
    let meter = Rc::new(Meter::default());
    meter.limit.set(caps.rest);
    let metered = Metered {
        inner: BufReader::with_capacity(64 << 10, reader),
        meter: meter.clone(),
    };
    let mut state = State {
        caps,
        at: StrictPath::new(),
        meter,
        frames: vec![Frame {
            place: None,
            cap: caps.rest,
            used: 0,
            since: 0,
        }],
        too_large: None,
        refs_closed: 0,
        too_many_refs: false,
    };
    let mut de = serde_json::Deserializer::from_reader(metered);
    let parsed = Root { state: &mut state }
        .deserialize(&mut de)
        .and_then(|p| de.end().map(|()| p));
    if let Some(problem) = state.at.take_problem() {
        return Err(BomReadError::Json(problem));
    }
    if state.too_many_refs {
        return Err(BomReadError::TooManyReferences { max: caps.refs });
    }
    if state.meter.over.get() {
        return Err(match state.too_large {
            Some(place) => BomReadError::ItemTooLarge {
                place,
                max: caps.item,
            },
            None => BomReadError::RestTooLarge { max: caps.rest },
        });
    }
    parsed.map_err(|e| {
        if e.is_io() {
            BomReadError::Read(e.into())
        } else {
            BomReadError::Json(StrictJsonError::Syntax(e.to_string()))
        }
    })
}

/// The whole document.
struct Root<'a> {
    state: &'a mut State,
}

impl<'de> DeserializeSeed<'de> for Root<'_> {
    type Value = Parsed;

    fn deserialize<D: Deserializer<'de>>(self, deserializer: D) -> Result<Parsed, D::Error> {
        deserializer.deserialize_any(self)
    }
}

/// Hands a value that is not the shape streamed to the strict tree builder.
macro_rules! whole {
    ($wrap:expr) => {
        fn visit_bool<E: serde::de::Error>(self, v: bool) -> Result<Self::Value, E> {
            self.state.at.value().visit_bool(v).map($wrap)
        }
        fn visit_i64<E: serde::de::Error>(self, v: i64) -> Result<Self::Value, E> {
            self.state.at.value().visit_i64(v).map($wrap)
        }
        fn visit_u64<E: serde::de::Error>(self, v: u64) -> Result<Self::Value, E> {
            self.state.at.value().visit_u64(v).map($wrap)
        }
        fn visit_f64<E: serde::de::Error>(self, v: f64) -> Result<Self::Value, E> {
            self.state.at.value().visit_f64(v).map($wrap)
        }
        fn visit_str<E: serde::de::Error>(self, v: &str) -> Result<Self::Value, E> {
            self.state.at.value().visit_str(v).map($wrap)
        }
        fn visit_string<E: serde::de::Error>(self, v: String) -> Result<Self::Value, E> {
            self.state.at.value().visit_string(v).map($wrap)
        }
        fn visit_unit<E: serde::de::Error>(self) -> Result<Self::Value, E> {
            self.state.at.value().visit_unit().map($wrap)
        }
    };
}

impl<'de> Visitor<'de> for Root<'_> {
    type Value = Parsed;

    fn expecting(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("a CycloneDX BOM")
    }

    whole!(Parsed::Other);

    fn visit_seq<A: SeqAccess<'de>>(self, seq: A) -> Result<Parsed, A::Error> {
        self.state.at.value().visit_seq(seq).map(Parsed::Other)
    }

    fn visit_map<A: MapAccess<'de>>(self, mut map: A) -> Result<Parsed, A::Error> {
        self.state.at.enter()?;
        let mut rest = Map::new();
        let mut arrays = Vec::new();
        let mut seen = ObjectKeys::default();
        while let Some(key) = map.next_key::<String>()? {
            self.state.at.admit_key(&mut seen, &key)?;
            self.state.at.push_key(&key);
            let member = match array_schema(&key) {
                Some(schema) => map.next_value_seed(Member {
                    state: &mut *self.state,
                    key: &key,
                    schema,
                }),
                None => map.next_value_seed(self.state.at.value()).map(Kept::Whole),
            };
            self.state.at.pop();
            match member? {
                Kept::Whole(value) => {
                    rest.insert(key, value);
                }
                Kept::Streamed(array) => {
                    rest.insert(key, Value::Array(Vec::new()));
                    arrays.push(*array);
                }
            }
        }
        Ok(Parsed::Object { rest, arrays })
    }
}

/// A top-level member: as a value, or (an array) item by item.
enum Kept {
    Whole(Value),
    Streamed(Box<StreamedArray>),
}

struct Member<'a> {
    state: &'a mut State,
    key: &'a str,
    schema: &'static ArraySchema,
}

impl<'de> DeserializeSeed<'de> for Member<'_> {
    type Value = Kept;

    fn deserialize<D: Deserializer<'de>>(self, deserializer: D) -> Result<Kept, D::Error> {
        deserializer.deserialize_any(self)
    }
}

impl<'de> Visitor<'de> for Member<'_> {
    type Value = Kept;

    fn expecting(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("any JSON value")
    }

    whole!(Kept::Whole);

    fn visit_map<A: MapAccess<'de>>(self, map: A) -> Result<Kept, A::Error> {
        self.state.at.value().visit_map(map).map(Kept::Whole)
    }

    fn visit_seq<A: SeqAccess<'de>>(self, mut seq: A) -> Result<Kept, A::Error> {
        self.state.at.enter()?;
        let prefix = format!("/{}", self.key);
        let mut items = Items {
            schema: self.schema,
            problems: Vec::new(),
            digests: Vec::new(),
            refs: RefLog::new(&prefix),
            prefix,
        };
        let mut index = 0u64;
        loop {
            let place = format!("{}/{index}", items.prefix);
            self.state.begin(place.clone());
            self.state
                .at
                .push_index(usize::try_from(index).unwrap_or(usize::MAX));
            let item = seq.next_element_seed(ItemSeed {
                state: &mut *self.state,
                schema: self.schema,
                refs: &mut items.refs,
                element: index,
                place: &place,
                base: "",
            });
            self.state.at.pop();
            self.state.end();
            match item? {
                Some(item) => items.take(index, &place, item),
                None => break,
            }
            index += 1;
            self.state.count_refs(&items.refs, index)?;
        }
        self.state.refs_closed = self.state.refs_closed.saturating_add(items.refs.entries());
        Ok(Kept::Streamed(Box::new(items.finish(self.key, index))))
    }
}

/// The facts gathered from the items of one array so far.
struct Items {
    schema: &'static ArraySchema,
    prefix: String,
    problems: Vec<String>,
    digests: Vec<(Short, u64)>,
    refs: RefLog,
}

impl Items {
    fn take(&mut self, index: u64, place: &str, item: ItemRead) {
        let digest = check_item(
            self.schema,
            Checked {
                place,
                element: index,
                base: "",
            },
            item,
            &mut self.problems,
            &mut self.refs,
        );
        if self.schema.unique {
            self.digests.push((short(&digest), index));
        }
    }

    fn finish(self, key: &str, len: u64) -> StreamedArray {
        let repeated = repeated(self.digests);
        StreamedArray {
            key: key.to_string(),
            len,
            problems: self.problems,
            repeated,
            refs: self.refs,
        }
    }
}

/// Where an item read by [`ItemSeed`] stands.
#[derive(Clone, Copy)]
struct Checked<'a> {
    /// Its location (`/components/5/components/12`).
    place: &'a str,
    /// The element of the top-level array it is in (`5`).
    element: u64,
    /// Its path inside that element (`/components/12`; empty for the
    /// element itself).
    base: &'a str,
}

/// Checks one item read by [`ItemSeed`]: its schema problems, merged with
/// those of its arrays read item by item in the whole validator's order,
/// go to `problems` (at most [`MAX_PROBLEMS`]); its bom-refs and uses are
/// completed in `refs`. Returns its digest.
fn check_item(
    schema: &ArraySchema,
    at: Checked<'_>,
    item: ItemRead,
    problems: &mut Vec<String>,
    refs: &mut RefLog,
) -> [u8; 32] {
    let ItemRead {
        value,
        mut subs,
        start,
    } = item;
    let place = at.place;
    subs.sort_by(|a, b| a.key.cmp(&b.key));
    if problems.len() < MAX_PROBLEMS {
        let room = MAX_PROBLEMS - problems.len();
        let mut errors = Vec::new();
        match schema.validator() {
            Ok(v) if v.is_valid(&value) => {}
            Ok(v) => {
                for e in v.iter_errors(&value).take(room) {
                    let path = e.instance_path.to_string();
                    errors.push((top_member(&path), format!("{place}{path}: {e}")));
                }
            }
            Err(e) if problems.is_empty() => {
                errors.push((
                    None,
                    format!("the CycloneDX schema could not be loaded: {e}"),
                ));
            }
            Err(_) => {}
        }
        // As the whole validator orders them: members in key order, an
        // array's items before its uniqueItems, the object's own last.
        let mut pending = subs.iter().peekable();
        let mut merged = Vec::new();
        for (member, error) in errors {
            while let Some(sub) =
                pending.next_if(|s| member.as_deref().is_none_or(|m| s.key.as_str() < m))
            {
                sub.problems_into(place, &mut merged);
            }
            merged.push(error);
        }
        for sub in pending {
            sub.problems_into(place, &mut merged);
        }
        merged.truncate(room);
        problems.extend(merged);
    }
    let d = match &value {
        Value::Object(map) if !subs.is_empty() => {
            let replaced: Vec<(&str, [u8; 32])> =
                subs.iter().map(|s| (s.key.as_str(), s.digest)).collect();
            object_digest(map, &replaced)
        }
        v => digest(v),
    };
    match (&value, start) {
        (Value::Object(map), Some(start)) => {
            let streamed: Vec<(&str, Mark, Mark)> = subs
                .iter()
                .map(|s| (s.key.as_str(), s.from, s.to))
                .collect();
            refs.finish_item(map, at.element, at.base, &streamed, start);
        }
        _ => refs.walk(&value, Some(at.element), at.base),
    }
    d
}

/// The first 128 bits of an item's digest, as `uniqueItems` keeps them for
/// every item until its array ends (24 bytes an item with its index, not
/// 40): two different items share them only by a SHA-256 collision on 128
/// bits, and then the BOM is refused, never passed.
type Short = [u8; 16];

fn short(digest: &[u8; 32]) -> Short {
    let mut head = [0u8; 16];
    head.copy_from_slice(&digest[..16]);
    head
}

/// Two equal items (the earlier index, the later), the later as early as
/// can be.
fn repeated(mut digests: Vec<(Short, u64)>) -> Option<(u64, u64)> {
    digests.sort_unstable();
    digests
        .windows(2)
        .filter(|w| w[0].0 == w[1].0)
        .map(|w| (w[0].1, w[1].1))
        .min_by_key(|&(_, later)| later)
}

/// The `uniqueItems` problem of the array at `place` of `len` items.
pub(super) fn repeated_problem(place: &str, len: u64, (first, later): (u64, u64)) -> String {
    format!(
        "{place}: [... {len} items] has non-unique elements ({place}/{later} equals {place}/{first})"
    )
}

/// One item of a top-level array: its value (with its arrays read item by
/// item emptied), those arrays' facts, and, when it was read member by
/// member, where its reference entries begin.
struct ItemRead {
    value: Value,
    subs: Vec<SubArray>,
    start: Option<Mark>,
}

impl ItemRead {
    fn whole(value: Value) -> Self {
        ItemRead {
            value,
            subs: Vec::new(),
            start: None,
        }
    }
}

/// What an item's array read item by item leaves behind.
struct SubArray {
    key: String,
    len: u64,
    problems: Vec<String>,
    repeated: Option<(u64, u64)>,
    digest: [u8; 32],
    from: Mark,
    to: Mark,
}

impl SubArray {
    fn problems_into(&self, item: &str, out: &mut Vec<String>) {
        out.extend(self.problems.iter().cloned());
        if let Some(pair) = self.repeated {
            out.push(repeated_problem(
                &format!("{item}/{}", self.key),
                self.len,
                pair,
            ));
        }
    }
}

/// One item of a top-level array, or of an item's array of the same
/// definition (a component's `components`): an object whose definition has
/// arrays read item by item is read member by member; anything else whole.
struct ItemSeed<'a> {
    state: &'a mut State,
    schema: &'a ArraySchema,
    refs: &'a mut RefLog,
    element: u64,
    place: &'a str,
    /// Its path inside the top-level element (empty for the element).
    base: &'a str,
}

impl<'de> DeserializeSeed<'de> for ItemSeed<'_> {
    type Value = ItemRead;

    fn deserialize<D: Deserializer<'de>>(self, deserializer: D) -> Result<ItemRead, D::Error> {
        deserializer.deserialize_any(self)
    }
}

impl<'de> Visitor<'de> for ItemSeed<'_> {
    type Value = ItemRead;

    fn expecting(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("any JSON value")
    }

    whole!(ItemRead::whole);

    fn visit_seq<A: SeqAccess<'de>>(self, seq: A) -> Result<ItemRead, A::Error> {
        self.state.at.value().visit_seq(seq).map(ItemRead::whole)
    }

    fn visit_map<A: MapAccess<'de>>(self, mut map: A) -> Result<ItemRead, A::Error> {
        if !self.schema.by_member() {
            return self.state.at.value().visit_map(map).map(ItemRead::whole);
        }
        self.state.at.enter()?;
        let start = self.refs.mark();
        let mut kept = Map::new();
        let mut subs = Vec::new();
        let mut seen = ObjectKeys::default();
        while let Some(key) = map.next_key::<String>()? {
            self.state.at.admit_key(&mut seen, &key)?;
            self.state.at.push_key(&key);
            let member = match self.schema.member(&key) {
                Some(schema) => map.next_value_seed(SubSeed {
                    state: &mut *self.state,
                    schema,
                    refs: &mut *self.refs,
                    element: self.element,
                    place: self.place,
                    base: self.base,
                    key: &key,
                }),
                None => map
                    .next_value_seed(self.state.at.value())
                    .map(SubKept::Whole),
            };
            self.state.at.pop();
            match member? {
                SubKept::Whole(value) => {
                    kept.insert(key, value);
                }
                SubKept::Streamed(sub) => {
                    kept.insert(key, Value::Array(Vec::new()));
                    subs.push(sub);
                }
            }
        }
        Ok(ItemRead {
            value: Value::Object(kept),
            subs,
            start: Some(start),
        })
    }
}

enum SubKept {
    Whole(Value),
    Streamed(SubArray),
}

/// A member of an item: as a value, or (an array) item by item.
struct SubSeed<'a> {
    state: &'a mut State,
    schema: &'a ArraySchema,
    refs: &'a mut RefLog,
    element: u64,
    place: &'a str,
    base: &'a str,
    key: &'a str,
}

impl<'de> DeserializeSeed<'de> for SubSeed<'_> {
    type Value = SubKept;

    fn deserialize<D: Deserializer<'de>>(self, deserializer: D) -> Result<SubKept, D::Error> {
        deserializer.deserialize_any(self)
    }
}

impl<'de> Visitor<'de> for SubSeed<'_> {
    type Value = SubKept;

    fn expecting(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("any JSON value")
    }

    whole!(SubKept::Whole);

    fn visit_map<A: MapAccess<'de>>(self, map: A) -> Result<SubKept, A::Error> {
        self.state.at.value().visit_map(map).map(SubKept::Whole)
    }

    fn visit_seq<A: SeqAccess<'de>>(self, mut seq: A) -> Result<SubKept, A::Error> {
        self.state.at.enter()?;
        let from = self.refs.mark();
        let suffix = format!("{}/{}", self.base, self.key);
        let at = format!("{}/{}", self.place, self.key);
        let mut problems = Vec::new();
        let mut digests = Vec::new();
        let mut array = ArrayDigest::new();
        let mut index = 0u64;
        loop {
            let place = format!("{at}/{index}");
            self.state.begin(place.clone());
            self.state
                .at
                .push_index(usize::try_from(index).unwrap_or(usize::MAX));
            if self.schema.by_member() {
                // Items like their parent (a component's components): each
                // read as the top-level items are.
                let base = format!("{suffix}/{index}");
                let item = seq.next_element_seed(ItemSeed {
                    state: &mut *self.state,
                    schema: self.schema,
                    refs: &mut *self.refs,
                    element: self.element,
                    place: &place,
                    base: &base,
                });
                self.state.at.pop();
                self.state.end();
                let Some(item) = item? else { break };
                let at = Checked {
                    place: &place,
                    element: self.element,
                    base: &base,
                };
                let d = check_item(self.schema, at, item, &mut problems, self.refs);
                array.push(&d);
                if self.schema.unique {
                    digests.push((short(&d), index));
                }
                index += 1;
                self.state.count_refs(self.refs, index)?;
                continue;
            }
            let item = seq.next_element_seed(self.state.at.value());
            self.state.at.pop();
            self.state.end();
            let Some(item) = item? else { break };
            if problems.len() < MAX_PROBLEMS {
                match self.schema.validator() {
                    Ok(v) if v.is_valid(&item) => {}
                    Ok(v) => {
                        let room = MAX_PROBLEMS - problems.len();
                        for e in v.iter_errors(&item).take(room) {
                            problems.push(format!("{at}/{index}{}: {e}", e.instance_path));
                        }
                    }
                    Err(e) if problems.is_empty() => {
                        problems.push(format!("the CycloneDX schema could not be loaded: {e}"));
                    }
                    Err(_) => {}
                }
            }
            let d = digest(&item);
            array.push(&d);
            if self.schema.unique {
                digests.push((short(&d), index));
            }
            match (self.key, &item) {
                ("dependsOn" | "provides", Value::String(r)) => {
                    self.refs.used_at(r, self.element, &suffix, index);
                }
                ("dependsOn" | "provides", _) => {}
                _ => self
                    .refs
                    .walk(&item, Some(self.element), &format!("{suffix}/{index}")),
            }
            index += 1;
            self.state.count_refs(self.refs, index)?;
        }
        Ok(SubKept::Streamed(SubArray {
            key: self.key.to_string(),
            len: index,
            problems,
            repeated: repeated(digests),
            digest: array.finish(),
            from,
            to: self.refs.mark(),
        }))
    }
}
