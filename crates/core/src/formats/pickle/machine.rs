//! The unpickler's stack and memo, modelled without building any value.
//!
//! Stack entries are 4-byte handles: nothing is ever copied by `DUP`, memo
//! `GET` or `PUT`, so a small stream cannot ask for a large amount of memory.
//! Only short strings are kept (they may name a global for `STACK_GLOBAL`),
//! in one arena with a fixed budget. The structural rules are those both
//! `pickletools.dis` and the unpicklers apply, taking the more permissive of
//! the two wherever they differ, so that no stream either of them runs to
//! STOP is refused here.

use super::args::MemoKey;
use std::collections::HashMap;

/// Most entries on the stack (marks included).
pub const MAX_STACK: usize = 1 << 20;
/// Most memo entries with small indices (kept in a flat table).
pub const MAX_MEMO_DENSE: usize = 1 << 21;
/// Most memo entries with other indices.
pub const MAX_MEMO_SPARSE: usize = 1 << 16;
/// Bytes of short strings kept per pickle.
pub const MAX_ARENA: usize = 8 << 20;
/// Longest string kept (longer ones cannot name an importable global).
pub const MAX_KEPT: usize = 255;

const TAG_SHIFT: u32 = 30;
const TAG_OTHER: u32 = 0;
const TAG_MARK: u32 = 1;
const TAG_STR: u32 = 2;
const TAG_GLOBAL: u32 = 3;
const EMPTY: u32 = u32::MAX;

/// A stack entry: a mark, a kept string, a global (by index), or any other value.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Item(u32);

impl Item {
    /// Any value whose content does not matter.
    pub const OTHER: Item = Item(TAG_OTHER << TAG_SHIFT);
    const MARK: Item = Item(TAG_MARK << TAG_SHIFT);

    fn tag(self) -> u32 {
        self.0 >> TAG_SHIFT
    }

    fn payload(self) -> u32 {
        self.0 & ((1 << TAG_SHIFT) - 1)
    }

    /// A global, by its index in the run's list.
    pub fn global(index: u32) -> Item {
        Item((TAG_GLOBAL << TAG_SHIFT) | (index & ((1 << TAG_SHIFT) - 1)))
    }

    /// The global's index, if this is one.
    pub fn as_global(self) -> Option<u32> {
        (self.tag() == TAG_GLOBAL).then(|| self.payload())
    }

    fn is_mark(self) -> bool {
        self.tag() == TAG_MARK
    }
}

/// Why the model refused to go on.
#[derive(Debug, Clone, PartialEq, Eq)]
#[non_exhaustive]
pub enum Stop {
    /// The stream is not a pickle from here (an unpickler fails).
    Broken(String),
    /// A budget ran out: whether it is a pickle is not decided.
    Budget(String),
}

/// The stack, marks, memo and string arena of one pickle.
#[derive(Debug, Default)]
pub struct Machine {
    stack: Vec<Item>,
    marks: Vec<u32>,
    dense: Vec<u32>,
    sparse: HashMap<i128, Item>,
    memo_len: u64,
    /// A memo index too large to track was written: reads may not fail.
    memo_imprecise: bool,
    arena: Vec<u8>,
}

type Res<T> = Result<T, Stop>;

fn broken<T>(why: impl Into<String>) -> Res<T> {
    Err(Stop::Broken(why.into()))
}

impl Machine {
    /// Forgets everything (a new pickle starts).
    pub fn reset(&mut self) {
        self.stack.clear();
        self.marks.clear();
        self.dense.clear();
        self.sparse.clear();
        self.memo_len = 0;
        self.memo_imprecise = false;
        self.arena.clear();
    }

    /// Bytes currently held (for the memory budget tests).
    pub fn held_bytes(&self) -> usize {
        self.stack.capacity() * 4
            + self.marks.capacity() * 4
            + self.dense.capacity() * 4
            + self.sparse.capacity() * 32
            + self.arena.capacity()
    }

    /// Pushes a value.
    pub fn push(&mut self, item: Item) -> Res<()> {
        if self.stack.len() >= MAX_STACK {
            return Err(Stop::Budget(format!(
                "the stack grew past {MAX_STACK} entries"
            )));
        }
        self.stack.push(item);
        Ok(())
    }

    /// `MARK`.
    pub fn mark(&mut self) -> Res<()> {
        let at = self.stack.len() as u32;
        self.push(Item::MARK)?;
        self.marks.push(at);
        Ok(())
    }

    /// Keeps a short string and returns its handle (any value when it is
    /// too long or the arena is full).
    pub fn string(&mut self, bytes: Option<&[u8]>) -> Item {
        match bytes {
            Some(b) if b.len() <= MAX_KEPT && self.arena.len() + b.len() < MAX_ARENA => {
                let at = self.arena.len() as u32;
                self.arena.push(b.len() as u8);
                self.arena.extend_from_slice(b);
                Item((TAG_STR << TAG_SHIFT) | at)
            }
            _ => Item::OTHER,
        }
    }

    /// The bytes of a kept string.
    pub fn text(&self, item: Item) -> Option<&[u8]> {
        if item.tag() != TAG_STR {
            return None;
        }
        let at = item.payload() as usize;
        let len = *self.arena.get(at)? as usize;
        self.arena.get(at + 1..at + 1 + len)
    }

    /// Pops `N` entries (deepest first), counting marks as entries the way
    /// `pickletools.dis` does (the unpicklers are stricter).
    pub fn pop<const N: usize>(&mut self) -> Res<[Item; N]> {
        let len = self.stack.len();
        if len < N {
            return broken(format!("pops {N} from a stack of {len} (stack underflow)"));
        }
        let mut items = [Item::OTHER; N];
        items.copy_from_slice(&self.stack[len - N..]);
        self.stack.truncate(len - N);
        for item in items {
            if item.is_mark() {
                self.marks.pop();
            }
        }
        Ok(items)
    }

    /// Pops one entry.
    pub fn pop1(&mut self) -> Res<Item> {
        Ok(self.pop::<1>()?[0])
    }

    /// Pops everything down to and including the topmost mark; returns the
    /// first entry above the mark, if any.
    pub fn pop_mark(&mut self) -> Res<Option<Item>> {
        let Some(at) = self.marks.pop() else {
            return broken("no MARK on the stack");
        };
        let at = at as usize;
        let first = self.stack.get(at + 1).copied();
        self.stack.truncate(at);
        Ok(first)
    }

    /// `POP`: a mark on top is popped as a mark.
    pub fn pop_op(&mut self) -> Res<()> {
        match self.stack.last() {
            Some(top) if top.is_mark() => self.pop_mark().map(|_| ()),
            _ => self.pop1().map(|_| ()),
        }
    }

    /// `DUP`: the top entry twice (shared, not copied).
    pub fn dup(&mut self) -> Res<()> {
        let top = self.pop1()?;
        let top = if top.is_mark() { Item::OTHER } else { top };
        self.push(top)?;
        self.push(top)
    }

    /// A memo read: pushes the stored entry.
    pub fn get(&mut self, key: MemoKey) -> Res<()> {
        let found = match key {
            MemoKey::Small(k) if (0..MAX_MEMO_DENSE as i128).contains(&k) => self
                .dense
                .get(k as usize)
                .filter(|&&v| v != EMPTY)
                .map(|&v| Item(v)),
            MemoKey::Small(k) => self.sparse.get(&k).copied(),
            MemoKey::Big => None,
        };
        match found {
            Some(item) => self.push(item),
            None if self.memo_imprecise => self.push(Item::OTHER),
            None => broken(format!("memo {key:?} read before it is written")),
        }
    }

    /// A memo write of the top entry (`PUT`, `BINPUT`, `LONG_BINPUT`).
    pub fn put(&mut self, key: MemoKey) -> Res<()> {
        let top = match self.stack.last() {
            None => return broken("memo write from an empty stack"),
            Some(t) if t.is_mark() => return broken("memo write of a MARK"),
            Some(t) => *t,
        };
        match key {
            MemoKey::Small(k) if (0..MAX_MEMO_DENSE as i128).contains(&k) => {
                let k = k as usize;
                if k >= self.dense.len() {
                    self.dense.resize(k + 1, EMPTY);
                }
                if self.dense[k] == EMPTY {
                    self.memo_len += 1;
                }
                self.dense[k] = top.0;
            }
            MemoKey::Small(k) => {
                if !self.sparse.contains_key(&k) {
                    if self.sparse.len() >= MAX_MEMO_SPARSE {
                        return Err(Stop::Budget(format!(
                            "more than {MAX_MEMO_SPARSE} memo entries at large indices"
                        )));
                    }
                    self.memo_len += 1;
                }
                self.sparse.insert(k, top);
            }
            MemoKey::Big => {
                // Python counts it; whether it repeats an earlier one is not
                // tracked, so later reads are not held against the stream.
                self.memo_len += 1;
                self.memo_imprecise = true;
            }
        }
        Ok(())
    }

    /// `MEMOIZE`: a write at the index equal to the number of entries.
    pub fn memoize(&mut self) -> Res<()> {
        self.put(MemoKey::Small(i128::from(self.memo_len)))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn marks_popped_as_entries_leave_the_mark_list() {
        let mut m = Machine::default();
        m.mark().unwrap();
        m.push(Item::OTHER).unwrap();
        m.pop::<2>().unwrap();
        assert!(matches!(m.pop_mark(), Err(Stop::Broken(_))));
    }

    #[test]
    fn memo_reads_share_and_memoize_counts_entries() {
        let mut m = Machine::default();
        let s = m.string(Some(b"os"));
        m.push(s).unwrap();
        m.put(MemoKey::Small(5)).unwrap();
        m.memoize().unwrap(); // index 1: one entry so far
        m.get(MemoKey::Small(1)).unwrap();
        m.get(MemoKey::Small(5)).unwrap();
        let top = m.pop1().unwrap();
        assert_eq!(m.text(top), Some(&b"os"[..]));
        assert!(matches!(m.get(MemoKey::Small(0)), Err(Stop::Broken(_))));
        m.put(MemoKey::Big).unwrap();
        m.get(MemoKey::Small(0)).unwrap();
    }

    #[test]
    fn the_stack_has_a_budget() {
        let mut m = Machine::default();
        m.push(Item::OTHER).unwrap();
        let mut result = Ok(());
        for _ in 0..MAX_STACK {
            result = m.dup();
            if result.is_err() {
                break;
            }
        }
        assert!(matches!(result, Err(Stop::Budget(_))));
    }
}
