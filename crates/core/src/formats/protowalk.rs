//! A protobuf message walked in one forward pass, the way a generated
//! parser reads it, with memory bounded whatever the file's size: a
//! [`Schema`] names which fields are sub-messages to enter and which short
//! strings or varints it wants; everything else (tensor data above all) is
//! skipped without being kept. Unknown fields, and known fields sent with
//! another wire type, are skipped as protobuf parsers skip them.

/// Deepest nesting of messages (protobuf's default recursion limit).
pub const MAX_DEPTH: usize = 100;
/// Longest string kept for a schema (longer ones are reported as such).
pub const MAX_STRING: usize = 4096;

/// What the schema wants of a field.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Want<K> {
    /// A sub-message of this kind (length-delimited).
    Message(K),
    /// The bytes of a length-delimited field (a string), if short.
    Bytes,
    /// A varint's value.
    Varint,
    /// Nothing.
    Skip,
}

/// The messages a walk enters and what it keeps of them.
pub trait Schema {
    /// The kinds of messages.
    type Kind: Copy + std::fmt::Debug;
    /// What `field` of a message of `kind` is.
    fn want(&self, kind: Self::Kind, field: u64) -> Want<Self::Kind>;
    /// A sub-message starts.
    fn open(&mut self, kind: Self::Kind);
    /// The message that opened last ends.
    fn close(&mut self, kind: Self::Kind);
    /// A wanted string field of the innermost message; `None` when it was
    /// longer than [`MAX_STRING`].
    fn bytes(&mut self, kind: Self::Kind, field: u64, value: Option<&[u8]>);
    /// A wanted varint field of the innermost message.
    fn varint(&mut self, kind: Self::Kind, field: u64, value: u64);
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum St {
    Tag,
    /// A varint value; `keep` when the schema wants it.
    Varint {
        field: u64,
        keep: bool,
    },
    /// A length prefix.
    Len {
        field: u64,
    },
    /// Bytes skipped.
    Skip(u64),
    /// A wanted string being gathered.
    Gather {
        field: u64,
        left: u64,
    },
    Bad,
}

/// One message being read: its kind and the stream position where it ends.
#[derive(Debug, Clone, Copy)]
struct Frame<K> {
    kind: K,
    end: u64,
}

/// Why bytes are not one whole protobuf message, as a generated parser
/// would refuse them.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[non_exhaustive]
pub enum ProtoError {
    /// A field or group runs past the end of the message holding it.
    #[error("a field or group runs past the end of its message at byte {end}")]
    PastMessageEnd {
        /// Where the message ends.
        end: u64,
    },
    /// A varint of more than ten bytes.
    #[error("a varint too long at byte {at}")]
    VarintTooLong {
        /// Where it was read.
        at: u64,
    },
    /// Field number 0 or one above protobuf's largest.
    #[error("field number {field} at byte {at}")]
    FieldNumber {
        /// The field number.
        field: u64,
        /// Where it was read.
        at: u64,
    },
    /// Messages and groups nested deeper than protobuf's limit.
    #[error("messages and groups nested deeper than {MAX_DEPTH} (protobuf's limit)")]
    GroupsTooDeep,
    /// An end-group tag with no group open, or closing another field's.
    #[error("an unmatched end of group at byte {at}")]
    UnmatchedEndGroup {
        /// Where it was read.
        at: u64,
    },
    /// Wire type 6 or 7.
    #[error("wire type {wire} at byte {at}")]
    WireType {
        /// The wire type.
        wire: u64,
        /// Where it was read.
        at: u64,
    },
    /// A length-delimited field longer than what is left of its message.
    #[error("a length of {len} at byte {at} runs past its message")]
    LengthPastMessage {
        /// The stated length.
        len: u64,
        /// Where it was read.
        at: u64,
    },
    /// Messages nested deeper than protobuf's limit.
    #[error("messages nested deeper than {MAX_DEPTH} (protobuf's limit)")]
    MessagesTooDeep,
    /// The bytes end inside a field.
    #[error("truncated at byte {at}")]
    Truncated {
        /// The length of the bytes.
        at: u64,
    },
    /// The bytes end inside a message.
    #[error("truncated: a message ends at byte {end} past the end ({at})")]
    MessagePastEnd {
        /// Where the open message ends.
        end: u64,
        /// The length of the bytes.
        at: u64,
    },
}

/// The walk over a stream, with `S` keeping what it wants.
#[derive(Debug)]
pub struct ProtoWalk<S: Schema> {
    /// The schema and what it gathered.
    pub schema: S,
    root: S::Kind,
    st: St,
    value: u64,
    shift: u32,
    pos: u64,
    stack: Vec<Frame<S::Kind>>,
    /// Open groups (deprecated wire types 3 and 4, which parsers still
    /// read as unknown fields): each one's field number and the message
    /// depth it opened at. Everything inside one is skipped.
    groups: Vec<(u64, usize)>,
    gathered: Vec<u8>,
    problem: Option<ProtoError>,
}

impl<S: Schema> ProtoWalk<S> {
    /// A walk whose top-level message is of kind `root`.
    pub fn new(schema: S, root: S::Kind) -> Self {
        ProtoWalk {
            schema,
            root,
            st: St::Tag,
            value: 0,
            shift: 0,
            pos: 0,
            stack: Vec::new(),
            groups: Vec::new(),
            gathered: Vec::new(),
            problem: None,
        }
    }

    /// Whether the bytes so far still parse.
    pub fn possible(&self) -> bool {
        self.st != St::Bad
    }

    fn fail(&mut self, why: ProtoError) {
        self.st = St::Bad;
        self.problem.get_or_insert(why);
    }

    fn kind(&self) -> S::Kind {
        self.stack.last().map_or(self.root, |f| f.kind)
    }

    /// Closes every message that ends here; a field that ran past the end
    /// of its message is an error.
    fn close_ended(&mut self) {
        while let Some(top) = self.stack.last().copied() {
            if self.pos < top.end {
                return;
            }
            if self.pos > top.end
                || self
                    .groups
                    .last()
                    .is_some_and(|(_, depth)| *depth == self.stack.len())
            {
                self.fail(ProtoError::PastMessageEnd { end: top.end });
                return;
            }
            self.stack.pop();
            self.schema.close(top.kind);
        }
    }

    /// Feeds bytes.
    pub fn update(&mut self, mut bytes: &[u8]) {
        while !bytes.is_empty() {
            match self.st {
                St::Bad => return,
                St::Skip(n) => {
                    let take = n.min(bytes.len() as u64);
                    bytes = &bytes[take as usize..];
                    self.pos += take;
                    if take == n {
                        self.st = St::Tag;
                        self.close_ended();
                    } else {
                        self.st = St::Skip(n - take);
                    }
                }
                St::Gather { field, left } => {
                    let take = left.min(bytes.len() as u64) as usize;
                    self.gathered.extend_from_slice(&bytes[..take]);
                    bytes = &bytes[take..];
                    self.pos += take as u64;
                    if take as u64 == left {
                        let value = std::mem::take(&mut self.gathered);
                        let kind = self.kind();
                        self.schema.bytes(kind, field, Some(&value));
                        self.st = St::Tag;
                        self.close_ended();
                    } else {
                        self.st = St::Gather {
                            field,
                            left: left - take as u64,
                        };
                    }
                }
                St::Tag | St::Varint { .. } | St::Len { .. } => {
                    let b = bytes[0];
                    bytes = &bytes[1..];
                    self.pos += 1;
                    if self.shift >= 64 || (self.shift == 63 && b > 1) {
                        self.fail(ProtoError::VarintTooLong { at: self.pos });
                        return;
                    }
                    self.value |= u64::from(b & 0x7f) << self.shift;
                    self.shift += 7;
                    if b & 0x80 == 0 {
                        let v = std::mem::take(&mut self.value);
                        self.shift = 0;
                        self.varint_done(v);
                    }
                }
            }
        }
    }

    fn varint_done(&mut self, v: u64) {
        match self.st {
            St::Tag => {
                let (field, wire) = (v >> 3, v & 7);
                if field == 0 || field > (1 << 29) - 1 {
                    return self.fail(ProtoError::FieldNumber {
                        field,
                        at: self.pos,
                    });
                }
                let want = if self.groups.is_empty() {
                    self.schema.want(self.kind(), field)
                } else {
                    Want::Skip
                };
                self.st = match wire {
                    0 => St::Varint {
                        field,
                        keep: matches!(want, Want::Varint),
                    },
                    1 => St::Skip(8),
                    2 => St::Len { field },
                    3 => {
                        if self.stack.len() + self.groups.len() >= MAX_DEPTH {
                            return self.fail(ProtoError::GroupsTooDeep);
                        }
                        self.groups.push((field, self.stack.len()));
                        St::Tag
                    }
                    4 => match self.groups.pop() {
                        Some((open, depth)) if open == field && depth == self.stack.len() => {
                            St::Tag
                        }
                        _ => {
                            return self.fail(ProtoError::UnmatchedEndGroup { at: self.pos });
                        }
                    },
                    5 => St::Skip(4),
                    _ => {
                        return self.fail(ProtoError::WireType { wire, at: self.pos });
                    }
                };
                if wire == 4 {
                    self.close_ended();
                }
            }
            St::Varint { field, keep } => {
                if keep {
                    let kind = self.kind();
                    self.schema.varint(kind, field, v);
                }
                self.st = St::Tag;
                self.close_ended();
            }
            St::Len { field } => {
                let end = match self.pos.checked_add(v) {
                    Some(end) if self.stack.last().is_none_or(|f| end <= f.end) => end,
                    _ => {
                        return self.fail(ProtoError::LengthPastMessage {
                            len: v,
                            at: self.pos,
                        });
                    }
                };
                let want = if self.groups.is_empty() {
                    self.schema.want(self.kind(), field)
                } else {
                    Want::Skip
                };
                match want {
                    Want::Message(kind) => {
                        if self.stack.len() >= MAX_DEPTH {
                            return self.fail(ProtoError::MessagesTooDeep);
                        }
                        self.stack.push(Frame { kind, end });
                        self.schema.open(kind);
                        self.st = St::Tag;
                        self.close_ended();
                    }
                    Want::Bytes if v as usize <= MAX_STRING => {
                        self.st = St::Gather { field, left: v };
                        if v == 0 {
                            let kind = self.kind();
                            self.schema.bytes(kind, field, Some(&[]));
                            self.st = St::Tag;
                            self.close_ended();
                        }
                    }
                    Want::Bytes => {
                        let kind = self.kind();
                        self.schema.bytes(kind, field, None);
                        self.st = St::Skip(v);
                    }
                    Want::Varint | Want::Skip => {
                        self.st = if v == 0 { St::Tag } else { St::Skip(v) };
                        if v == 0 {
                            self.close_ended();
                        }
                    }
                }
            }
            _ => {}
        }
    }

    /// Ends the stream: `Err` names why the bytes are not one whole message.
    pub fn finish(mut self) -> Result<S, ProtoError> {
        if let Some(problem) = self.problem.take() {
            return Err(problem);
        }
        if self.st != St::Tag || self.shift != 0 || !self.groups.is_empty() {
            return Err(ProtoError::Truncated { at: self.pos });
        }
        if let Some(top) = self.stack.last() {
            return Err(ProtoError::MessagePastEnd {
                end: top.end,
                at: self.pos,
            });
        }
        Ok(self.schema)
    }
}

/// A protobuf `string` as a generated parser takes it: UTF-8, else the
/// message does not parse.
pub fn utf8(value: Option<&[u8]>) -> Result<String, &'static str> {
    match value {
        None => Err("too long"),
        Some(b) => std::str::from_utf8(b)
            .map(str::to_string)
            .map_err(|_| "not UTF-8"),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// Keeps field 1 strings of kind 0 and enters field 2 as kind 1.
    #[derive(Debug, Default)]
    struct Names {
        seen: Vec<(u8, String)>,
        open: Vec<u8>,
    }

    impl Schema for Names {
        type Kind = u8;
        fn want(&self, kind: u8, field: u64) -> Want<u8> {
            match (kind, field) {
                (_, 1) => Want::Bytes,
                (k, 2) => Want::Message(k + 1),
                (_, 3) => Want::Varint,
                _ => Want::Skip,
            }
        }
        fn open(&mut self, kind: u8) {
            self.open.push(kind);
        }
        fn close(&mut self, kind: u8) {
            assert_eq!(self.open.pop(), Some(kind));
        }
        fn bytes(&mut self, kind: u8, _: u64, value: Option<&[u8]>) {
            self.seen.push((kind, utf8(value).unwrap_or_default()));
        }
        fn varint(&mut self, kind: u8, _: u64, value: u64) {
            self.seen.push((kind, value.to_string()));
        }
    }

    fn walk(bytes: &[u8], chunk: usize) -> Result<Names, ProtoError> {
        let mut w = ProtoWalk::new(Names::default(), 0);
        for c in bytes.chunks(chunk) {
            w.update(c);
        }
        w.finish()
    }

    #[test]
    fn nested_strings_in_any_chunking() {
        // {1: "a", 2: {1: "bc", 3: 5, 9: "skip", 2: {}}, 1: ""}
        let inner = [
            0x0a, 2, b'b', b'c', 0x18, 5, 0x4a, 4, b's', b'k', b'i', b'p', 0x12, 0,
        ];
        let mut msg = vec![0x0a, 1, b'a', 0x12, inner.len() as u8];
        msg.extend_from_slice(&inner);
        msg.extend_from_slice(&[0x0a, 0]);
        for chunk in [1, 2, 3, 100] {
            let n = walk(&msg, chunk).unwrap();
            assert_eq!(
                n.seen,
                vec![
                    (0, "a".into()),
                    (1, "bc".into()),
                    (1, "5".into()),
                    (0, String::new())
                ]
            );
            assert!(n.open.is_empty());
        }
    }

    #[test]
    fn bad_messages() {
        assert!(
            walk(&[0x12, 5, 0x0a, 9, 1, 2, 3], 1).is_err(),
            "inner past outer"
        );
        assert!(walk(&[0x12, 2, 0x0a], 1).is_err(), "truncated");
        assert!(walk(&[0x0f], 1).is_err(), "wire type 7");
        let mut long = vec![0x18];
        long.extend([0xff; 10]);
        long.push(0x01);
        assert!(matches!(
            walk(&long, 4).unwrap_err(),
            ProtoError::VarintTooLong { .. }
        ));
        assert!(walk(&[0x12, 0x00], 1).is_ok(), "an empty sub-message");
        // A group (field 9: start 0x4b, end 0x4c) holding anything is
        // skipped, as parsers skip unknown fields; unmatched ends are not.
        let n = walk(&[0x4b, 0x0a, 0x01, b'x', 0x4c, 0x0a, 0x01, b'y'], 1).unwrap();
        assert_eq!(n.seen, vec![(0, "y".into())]);
        assert!(walk(&[0x4b, 0x0a, 0x00], 1).is_err(), "an open group");
        assert!(walk(&[0x4c], 1).is_err(), "an end without a start");
        assert!(
            walk(&[0x12, 0x01, 0x4b, 0x4c], 1).is_err(),
            "a group across a message end"
        );
        // 101 nested messages, each wrapping the next.
        let mut nest = Vec::new();
        for _ in 0..=MAX_DEPTH {
            let len = nest.len();
            let mut outer = vec![0x12];
            let mut l = len;
            loop {
                let b = (l & 0x7f) as u8;
                l >>= 7;
                if l == 0 {
                    outer.push(b);
                    break;
                }
                outer.push(b | 0x80);
            }
            outer.extend_from_slice(&nest);
            nest = outer;
        }
        assert!(matches!(
            walk(&nest, 7).unwrap_err(),
            ProtoError::MessagesTooDeep
        ));
    }
}
