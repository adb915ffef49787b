//! Formats recognised by a walk over their structure in one pass: ONNX and
//! TensorFlow SavedModel protobufs (by their top-level field numbers), and
//! HDF5 (its superblock signature at offset 0 or at 512, 1024, 2048, ...,
//! where h5py also looks for it).

use std::collections::BTreeSet;

/// The kind of a top-level protobuf message, from its field numbers.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Protobuf {
    /// An ONNX ModelProto (has a graph, field 7).
    Onnx,
    /// A TensorFlow SavedModel (schema version and meta graphs only).
    SavedModel,
}

/// Most top-level fields walked.
const MAX_FIELDS: u32 = 100_000;

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Pb {
    Tag,
    Varint,
    Len,
    Skip(u64),
    Bad,
}

/// Walks the top-level fields of a protobuf message, skipping their contents.
#[derive(Debug)]
pub struct ProtobufStream {
    st: Pb,
    value: u64,
    shift: u32,
    fields: BTreeSet<u64>,
    count: u32,
}

impl Default for ProtobufStream {
    fn default() -> Self {
        ProtobufStream {
            st: Pb::Tag,
            value: 0,
            shift: 0,
            fields: BTreeSet::new(),
            count: 0,
        }
    }
}

impl ProtobufStream {
    /// Whether the bytes so far can still be a protobuf message.
    pub fn possible(&self) -> bool {
        self.st != Pb::Bad
    }

    /// Feeds bytes.
    pub fn update(&mut self, mut bytes: &[u8]) {
        while !bytes.is_empty() {
            match self.st {
                Pb::Bad => return,
                Pb::Skip(n) => {
                    let take = n.min(bytes.len() as u64);
                    bytes = &bytes[take as usize..];
                    self.st = if take == n {
                        Pb::Tag
                    } else {
                        Pb::Skip(n - take)
                    };
                }
                Pb::Tag | Pb::Varint | Pb::Len => {
                    let b = bytes[0];
                    bytes = &bytes[1..];
                    if self.shift >= 64 {
                        self.st = Pb::Bad;
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
        self.st = match self.st {
            Pb::Tag => {
                self.count += 1;
                let (field, wire) = (v >> 3, v & 7);
                if field == 0 || field > 64 || self.count > MAX_FIELDS {
                    Pb::Bad
                } else {
                    self.fields.insert(field);
                    match wire {
                        0 => Pb::Varint,
                        1 => Pb::Skip(8),
                        2 => Pb::Len,
                        5 => Pb::Skip(4),
                        _ => Pb::Bad,
                    }
                }
            }
            Pb::Varint => Pb::Tag,
            Pb::Len if v > i64::MAX as u64 => Pb::Bad,
            Pb::Len if v == 0 => Pb::Tag,
            Pb::Len => Pb::Skip(v),
            other => other,
        };
    }

    /// The message kind, if the whole file was a message of a known kind.
    pub fn finish(self) -> Option<Protobuf> {
        if self.st != Pb::Tag || self.shift != 0 {
            return None;
        }
        let onnx_fields = [1, 2, 3, 4, 5, 6, 7, 8, 14, 20, 25, 26];
        if self.fields.contains(&7) && self.fields.iter().all(|f| onnx_fields.contains(f)) {
            Some(Protobuf::Onnx)
        } else if self.fields.contains(&2) && self.fields.iter().all(|f| *f == 1 || *f == 2) {
            Some(Protobuf::SavedModel)
        } else {
            None
        }
    }
}

/// The HDF5 superblock signature.
pub const HDF5_MAGIC: &[u8; 8] = b"\x89HDF\r\n\x1a\n";

/// Looks for the HDF5 signature where h5py does.
#[derive(Debug, Default)]
pub struct Hdf5Probe {
    pos: u64,
    /// The next offset to check (0, 512, 1024, ...).
    next: u64,
    partial: Vec<u8>,
    found: Option<u64>,
}

impl Hdf5Probe {
    /// Feeds bytes.
    pub fn update(&mut self, bytes: &[u8]) {
        let end = self.pos + bytes.len() as u64;
        while self.found.is_none() && self.next < end {
            let at = (self.next.max(self.pos) - self.pos) as usize;
            let need = 8 - self.partial.len();
            let take = need.min(bytes.len() - at);
            self.partial.extend_from_slice(&bytes[at..at + take]);
            if self.partial.len() < 8 {
                break;
            }
            if self.partial == HDF5_MAGIC {
                self.found = Some(self.next);
            }
            self.partial.clear();
            self.next = if self.next == 0 { 512 } else { self.next * 2 };
        }
        self.pos = end;
    }

    /// The offset of the superblock, if there is one.
    pub fn found(&self) -> Option<u64> {
        self.found
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn pb(bytes: &[u8]) -> Option<Protobuf> {
        let mut s = ProtobufStream::default();
        for b in bytes {
            s.update(std::slice::from_ref(b));
        }
        s.finish()
    }

    #[test]
    fn protobuf_models_by_field_numbers() {
        // ir_version = 8, graph = {empty}, opset_import = {}
        assert_eq!(
            pb(&[0x08, 0x08, 0x3a, 0x00, 0x42, 0x00]),
            Some(Protobuf::Onnx)
        );
        assert_eq!(
            pb(&[0x08, 0x01, 0x12, 0x02, 0x0a, 0x00]),
            Some(Protobuf::SavedModel)
        );
        assert_eq!(pb(b"hello world"), None);
        assert_eq!(pb(&[0x3a, 0x7f]), None, "a length past the end");
        assert_eq!(pb(&[0x3a, 0x01]), None);
        assert_eq!(pb(&[0x08; 11]), None);
    }

    #[test]
    fn hdf5_at_zero_or_a_power_of_two() {
        let mut p = Hdf5Probe::default();
        p.update(b"\x89HDF\r\n\x1a\nrest");
        assert_eq!(p.found(), Some(0));
        let mut data = vec![0u8; 2048];
        data.extend_from_slice(HDF5_MAGIC);
        let mut p = Hdf5Probe::default();
        for c in data.chunks(5) {
            p.update(c);
        }
        assert_eq!(p.found(), Some(2048));
        let mut p = Hdf5Probe::default();
        p.update(b"\x89PNG\r\n\x1a\n");
        assert_eq!(p.found(), None);
    }
}
