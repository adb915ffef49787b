//! Reference integrity of a BOM, gathered piece by piece: every `bom-ref`
//! and every `ref` / `dependsOn` / `provides` use, with where it stands,
//! held compactly (one text buffer, fixed-size entries) so that a BOM of a
//! million components needs no tree; then the problems: model cards off
//! models, repeated bom-refs, uses that resolve to nothing.

use serde_json::{Map, Value};
use std::collections::HashMap;
use std::fmt::Write;

/// Where a bom-ref or use stands: in element `element` of the array the
/// log is about (or nowhere in particular), then a path inside it.
#[derive(Clone, Copy)]
struct Place {
    element: u32,
    suffix: u32,
    /// An index after the suffix (`/dependsOn` then `/7`), or [`NONE`].
    index: u32,
}

/// No element or index in a [`Place`] (one too large for 32 bits is kept
/// in the suffix's text instead).
const NONE: u32 = u32::MAX;

/// No element: the suffix is the whole location.
const NO_ELEMENT: u64 = u64::MAX;

/// One bom-ref or use: its text and its place.
struct Entry {
    start: u64,
    len: u32,
    place: Place,
}

/// The bom-refs, uses and misplaced model cards of one part of a BOM, in
/// the order the old whole-tree walk met them.
pub(super) struct RefLog {
    /// `/components` for the elements of that array; empty otherwise.
    prefix: String,
    text: String,
    /// Suffixes, each stored once (most entries share `""` or `/ref`).
    suffixes: Vec<String>,
    suffix_ids: HashMap<String, u32>,
    refs: Vec<Entry>,
    uses: Vec<Entry>,
    cards: Vec<String>,
}

impl RefLog {
    /// A log of the elements of the top-level array `/key` (or of other
    /// parts of the BOM when `prefix` is empty).
    pub(super) fn new(prefix: &str) -> Self {
        RefLog {
            prefix: prefix.to_string(),
            text: String::new(),
            suffixes: Vec::new(),
            suffix_ids: HashMap::new(),
            refs: Vec::new(),
            uses: Vec::new(),
            cards: Vec::new(),
        }
    }

    fn place(&mut self, element: u64, suffix: &str) -> Place {
        // A trailing array index is kept apart, so that the items of a
        // nested array (`/components/12`) share one suffix.
        if let Some((head, tail)) = suffix.rsplit_once('/')
            && let Ok(index) = tail.parse::<u32>()
            && index != NONE
            && index.to_string() == tail
        {
            return Place {
                index,
                ..self.place_whole(element, head)
            };
        }
        self.place_whole(element, suffix)
    }

    fn place_whole(&mut self, element: u64, suffix: &str) -> Place {
        match u32::try_from(element) {
            Ok(e) if e != NONE => self.interned(e, suffix),
            _ if element == NO_ELEMENT => self.interned(NONE, suffix),
            _ => {
                let whole = format!("{}/{element}{suffix}", self.prefix);
                self.interned(NONE, &whole)
            }
        }
    }

    fn interned(&mut self, element: u32, suffix: &str) -> Place {
        let id = match self.suffix_ids.get(suffix) {
            Some(id) => *id,
            None => {
                let id = u32::try_from(self.suffixes.len()).unwrap_or(u32::MAX);
                self.suffixes.push(suffix.to_string());
                self.suffix_ids.insert(suffix.to_string(), id);
                id
            }
        };
        Place {
            element,
            suffix: id,
            index: NONE,
        }
    }

    fn entry(&mut self, name: &str, place: Place) -> Entry {
        let start = self.text.len() as u64;
        self.text.push_str(name);
        Entry {
            start,
            len: u32::try_from(name.len()).unwrap_or(u32::MAX),
            place,
        }
    }

    fn name(&self, entry: &Entry) -> &str {
        let start = usize::try_from(entry.start).unwrap_or(usize::MAX);
        self.text
            .get(start..start.saturating_add(entry.len as usize))
            .unwrap_or("")
    }

    fn location(&self, place: Place) -> String {
        let suffix = self
            .suffixes
            .get(place.suffix as usize)
            .map_or("", String::as_str);
        let mut at = if place.element == NONE {
            suffix.to_string()
        } else {
            format!("{}/{}{suffix}", self.prefix, place.element)
        };
        if place.index != NONE {
            let _ = write!(at, "/{}", place.index);
        }
        if at.is_empty() { "/".into() } else { at }
    }

    /// Walks `value`: element `element` of this log's array, or (with
    /// `None`) the part of the BOM at `path`.
    pub(super) fn walk(&mut self, value: &Value, element: Option<u64>, path: &str) {
        let mut path = path.to_string();
        self.walk_at(value, element.unwrap_or(NO_ELEMENT), &mut path);
    }

    fn walk_at(&mut self, value: &Value, element: u64, path: &mut String) {
        match value {
            Value::Object(map) => {
                self.object_itself(map, element, path);
                for (key, child) in map {
                    self.member(key, child, element, path);
                }
            }
            Value::Array(items) => {
                for (i, item) in items.iter().enumerate() {
                    let len = path.len();
                    let _ = write!(path, "/{i}");
                    self.walk_at(item, element, path);
                    path.truncate(len);
                }
            }
            _ => {}
        }
    }

    /// The checks on an object as such: its bom-ref, its model card.
    fn object_itself(&mut self, map: &Map<String, Value>, element: u64, path: &str) {
        if let Some(Value::String(r)) = map.get("bom-ref") {
            let place = self.place(element, path);
            let entry = self.entry(r, place);
            self.refs.push(entry);
        }
        if map.contains_key("modelCard")
            && map.get("type").and_then(Value::as_str) != Some("machine-learning-model")
        {
            let place = self.place(element, path);
            self.cards.push(format!(
                "{}: modelCard on a component of type {}; only machine-learning-model components carry one",
                self.location(place),
                map.get("type").map(|t| t.to_string()).unwrap_or_else(|| "(none)".into())
            ));
        }
    }

    /// One member `key` of an object at `path`.
    fn member(&mut self, key: &str, child: &Value, element: u64, path: &mut String) {
        let len = path.len();
        path.push('/');
        path.push_str(key);
        match (key, child) {
            ("ref", Value::String(r)) => self.used(r, element, path),
            ("dependsOn" | "provides", Value::Array(items)) => {
                for (i, item) in items.iter().enumerate() {
                    if let Value::String(r) = item {
                        let len = path.len();
                        let _ = write!(path, "/{i}");
                        self.used(r, element, path);
                        path.truncate(len);
                    }
                }
            }
            _ => self.walk_at(child, element, path),
        }
        path.truncate(len);
    }

    fn used(&mut self, r: &str, element: u64, path: &str) {
        // A BOM-link to another BOM is not resolved here.
        if r.starts_with("urn:cdx:") {
            return;
        }
        let place = self.place(element, path);
        let entry = self.entry(r, place);
        self.uses.push(entry);
    }
}

/// Where the entries of one part of an item begin or end.
#[derive(Clone, Copy)]
pub(super) struct Mark {
    refs: usize,
    uses: usize,
    cards: usize,
}

impl RefLog {
    /// How many entries (bom-refs, uses, misplaced model cards) it holds.
    pub(super) fn entries(&self) -> u64 {
        (self.refs.len() + self.uses.len() + self.cards.len()) as u64
    }

    /// Where the next entries will go.
    pub(super) fn mark(&self) -> Mark {
        Mark {
            refs: self.refs.len(),
            uses: self.uses.len(),
            cards: self.cards.len(),
        }
    }

    /// A use of `r` as item `index` of the member `suffix` (`/dependsOn`)
    /// of element `element`, as the whole-tree walk records it.
    pub(super) fn used_at(&mut self, r: &str, element: u64, suffix: &str, index: u64) {
        if r.starts_with("urn:cdx:") {
            return;
        }
        let place = match u32::try_from(index) {
            Ok(i) if i != NONE => Place {
                index: i,
                ..self.place_whole(element, suffix)
            },
            _ => self.place(element, &format!("{suffix}/{index}")),
        };
        let entry = self.entry(r, place);
        self.uses.push(entry);
    }

    /// Completes the object `map` at `base` in element `element`, read
    /// member by member: the members in `streamed` (key, first mark, last
    /// mark) were logged as they came; walks the others of `map` and puts
    /// everything logged since `start` in the order of the whole-tree walk
    /// (the object itself, then its members in key order).
    pub(super) fn finish_item(
        &mut self,
        map: &Map<String, Value>,
        element: u64,
        base: &str,
        streamed: &[(&str, Mark, Mark)],
        start: Mark,
    ) {
        let mut parts: Vec<(usize, Mark, Mark)> = Vec::new();
        let rank = |key: &str| 1 + map.keys().position(|k| k == key).unwrap_or(map.len());
        for (key, from, to) in streamed {
            parts.push((rank(key), *from, *to));
        }
        let from = self.mark();
        self.object_itself(map, element, base);
        parts.push((0, from, self.mark()));
        let mut path = base.to_string();
        for (key, child) in map {
            if streamed.iter().any(|(k, _, _)| k == key) {
                continue;
            }
            let from = self.mark();
            self.member(key, child, element, &mut path);
            parts.push((rank(key), from, self.mark()));
        }
        parts.sort_by_key(|p| p.0);
        reorder(
            &mut self.refs,
            start.refs,
            parts.iter().map(|p| p.1.refs..p.2.refs),
        );
        reorder(
            &mut self.uses,
            start.uses,
            parts.iter().map(|p| p.1.uses..p.2.uses),
        );
        reorder(
            &mut self.cards,
            start.cards,
            parts.iter().map(|p| p.1.cards..p.2.cards),
        );
    }
}

/// Puts `v[start..]`, covered exactly by `ranges`, in the order of `ranges`.
fn reorder<T>(v: &mut Vec<T>, start: usize, ranges: impl Iterator<Item = std::ops::Range<usize>>) {
    let ranges: Vec<_> = ranges.filter(|r| !r.is_empty()).collect();
    if ranges.windows(2).all(|w| w[0].end == w[1].start) {
        // Already in order (the usual case): nothing to move.
        return;
    }
    let mut tail: Vec<Option<T>> = v.drain(start..).map(Some).collect();
    for range in ranges {
        for i in range {
            if let Some(item) = tail.get_mut(i - start).and_then(Option::take) {
                v.push(item);
            }
        }
    }
}

/// The reference problems of a BOM whose parts were walked into `logs`
/// (in walk order): misplaced model cards, bom-refs that are not unique
/// (in the order of the bom-ref), uses that resolve to nothing.
pub(super) fn problems(logs: &[RefLog], problems: &mut Vec<String>) {
    let mut listed = Listed::default();
    for log in logs {
        for card in &log.cards {
            listed.push(problems, || card.clone());
        }
    }
    // Every bom-ref, sorted by text, then by where it stands.
    let mut sorted: Vec<(u32, u32)> = Vec::new();
    for (l, log) in logs.iter().enumerate() {
        for e in 0..log.refs.len() {
            sorted.push((l as u32, e as u32));
        }
    }
    let name = |&(l, e): &(u32, u32)| logs[l as usize].name(&logs[l as usize].refs[e as usize]);
    let place = |&(l, e): &(u32, u32)| {
        let log = &logs[l as usize];
        log.location(log.refs[e as usize].place)
    };
    sorted.sort_by(|a, b| name(a).cmp(name(b)).then(a.cmp(b)));
    for group in sorted.chunk_by(|a, b| name(a) == name(b)) {
        if let [first, rest @ ..] = group
            && !rest.is_empty()
        {
            listed.push(problems, || {
                let mut also: Vec<String> = rest.iter().take(MAX_ALSO).map(place).collect();
                if rest.len() > MAX_ALSO {
                    also.push(format!("{} more", rest.len() - MAX_ALSO));
                }
                format!(
                    "{}: bom-ref {:?} is not unique (also at {})",
                    place(first),
                    name(first),
                    also.join(", ")
                )
            });
        }
    }
    for log in logs {
        for entry in &log.uses {
            let r = log.name(entry);
            if sorted.binary_search_by(|k| name(k).cmp(r)).is_err() {
                listed.push(problems, || {
                    format!(
                        "{}: ref {r:?} resolves to no bom-ref",
                        log.location(entry.place)
                    )
                });
            }
        }
    }
    listed.finish(problems);
}

/// Most reference problems listed; the rest are counted.
pub const MAX_REF_PROBLEMS: usize = 200;

/// Most other places named for one repeated bom-ref.
const MAX_ALSO: usize = 20;

/// The reference problems listed so far and those only counted.
#[derive(Default)]
struct Listed {
    listed: usize,
    unlisted: u64,
}

impl Listed {
    fn push(&mut self, problems: &mut Vec<String>, problem: impl FnOnce() -> String) {
        if self.listed < MAX_REF_PROBLEMS {
            problems.push(problem());
            self.listed += 1;
        } else {
            self.unlisted += 1;
        }
    }

    fn finish(self, problems: &mut Vec<String>) {
        if self.unlisted > 0 {
            problems.push(format!(
                "... and {} more reference problems (the first {MAX_REF_PROBLEMS} are listed)",
                self.unlisted
            ));
        }
    }
}

/// The logs of a whole BOM in walk order: the object `root` (with each
/// array read item by item replaced by an empty one) and, in their places,
/// the logs of those arrays.
pub(super) fn walk_root(
    root: &Map<String, Value>,
    mut arrays: HashMap<String, RefLog>,
) -> Vec<RefLog> {
    let mut logs = Vec::new();
    let mut current = RefLog::new("");
    current.object_itself(root, NO_ELEMENT, "");
    let mut path = String::new();
    for (key, child) in root {
        match arrays.remove(key) {
            Some(log) => {
                logs.push(std::mem::replace(&mut current, RefLog::new("")));
                logs.push(log);
            }
            None => current.member(key, child, NO_ELEMENT, &mut path),
        }
    }
    logs.push(current);
    logs
}
