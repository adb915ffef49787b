//! One archive member, scanned as its bytes come out of the archive: as a
//! pickle stream (every member is a candidate), as a NumPy array when it
//! starts with the NumPy magic (as `np.load` of an `.npz` decides), and, for
//! a `config.json`, as a Keras configuration.

use super::npy::{MAGIC, NpyHeader, NpyStream};
use super::pickle::{PickleScan, PickleStream};

/// Largest `config.json` read whole.
pub const MAX_CONFIG: usize = 16 << 20;

/// The scan of one member in progress.
#[derive(Debug)]
pub struct MemberScan {
    /// The member's name as the archive gives it.
    pub name: String,
    pos: u64,
    pickle: PickleStream,
    magic: Vec<u8>,
    npy: Option<NpyStream>,
    /// The pickle behind an object array's header.
    npy_data: Option<(u64, PickleStream)>,
    config: Option<Vec<u8>>,
    config_too_large: bool,
    /// The member's first bytes, for [`super::nested::kind`].
    head: Vec<u8>,
}

/// First bytes of a member kept to recognise an archive or compressed
/// stream inside it (a tar header is 512 bytes).
const HEAD: usize = 512;

/// A `config.json` larger than [`MAX_CONFIG`], which is not read.
#[derive(Debug, Clone, Copy, PartialEq, Eq, thiserror::Error)]
#[error("config.json is larger than {MAX_CONFIG} bytes")]
pub struct ConfigTooLarge;

/// What a member held.
#[derive(Debug)]
pub struct MemberReport {
    /// The member's name.
    pub name: String,
    /// Its bytes as a pickle stream.
    pub pickle: PickleScan,
    /// Its NumPy header, when it starts with the NumPy magic.
    pub npy: Option<Result<NpyHeader, super::npy::NpyError>>,
    /// The pickle of an object array's data.
    pub npy_pickle: Option<PickleScan>,
    /// The whole text of a `config.json`.
    pub config: Option<Result<Vec<u8>, ConfigTooLarge>>,
    /// The archive or compressed stream the member is, whose contents are
    /// not scanned.
    pub nested: Option<&'static str>,
}

impl MemberScan {
    /// Starts a member.
    pub fn new(name: String) -> Self {
        let config = (name == "config.json" || name.ends_with("/config.json")).then(Vec::new);
        MemberScan {
            name,
            pos: 0,
            pickle: PickleStream::new(),
            magic: Vec::new(),
            npy: None,
            npy_data: None,
            config,
            config_too_large: false,
            head: Vec::new(),
        }
    }

    /// Whether more bytes of the member can change the report.
    pub fn wants_more(&self) -> bool {
        self.pickle.wants_more()
            || self.magic.len() < MAGIC.len()
            || self.npy.as_ref().is_some_and(|n| !n.done())
            || self.npy_data.as_ref().is_some_and(|(_, p)| p.wants_more())
            || (self.config.is_some() && !self.config_too_large)
            || self.head.len() < HEAD
    }

    /// Feeds the next bytes of the member.
    pub fn update(&mut self, bytes: &[u8]) {
        let start = self.pos;
        self.pos += bytes.len() as u64;
        if self.head.len() < HEAD {
            let take = (HEAD - self.head.len()).min(bytes.len());
            self.head.extend_from_slice(&bytes[..take]);
        }
        self.pickle.update(bytes);
        if self.magic.len() < MAGIC.len() {
            let take = (MAGIC.len() - self.magic.len()).min(bytes.len());
            self.magic.extend_from_slice(&bytes[..take]);
            if self.magic == MAGIC {
                let mut npy = NpyStream::default();
                npy.update(&self.magic);
                npy.update(&bytes[take..]);
                self.npy = Some(npy);
                self.after_npy_header(start, bytes);
                return self.config_update(bytes);
            }
        } else if let Some(npy) = self.npy.as_mut()
            && !npy.done()
        {
            npy.update(bytes);
            self.after_npy_header(start, bytes);
            return self.config_update(bytes);
        }
        if let Some((at, p)) = self.npy_data.as_mut() {
            let skip = at.saturating_sub(start).min(bytes.len() as u64) as usize;
            p.update(&bytes[skip..]);
        }
        self.config_update(bytes);
    }

    /// Starts the object-array pickle once the header is known.
    fn after_npy_header(&mut self, start: u64, bytes: &[u8]) {
        let Some(npy) = self.npy.as_ref() else { return };
        if !npy.done() || self.npy_data.is_some() {
            return;
        }
        if let Some(Ok(h)) = npy.peek()
            && h.object
        {
            let mut p = PickleStream::new();
            let at = h.data_offset;
            let skip = at.saturating_sub(start).min(bytes.len() as u64) as usize;
            if at >= start {
                p.update(&bytes[skip..]);
            }
            self.npy_data = Some((at, p));
        }
    }

    fn config_update(&mut self, bytes: &[u8]) {
        if let Some(c) = self.config.as_mut()
            && !self.config_too_large
        {
            if c.len() + bytes.len() > MAX_CONFIG {
                self.config_too_large = true;
                c.clear();
            } else {
                c.extend_from_slice(bytes);
            }
        }
    }

    /// Ends the member.
    pub fn finish(self) -> MemberReport {
        MemberReport {
            nested: super::nested::kind(&self.head),
            name: self.name,
            pickle: self.pickle.finish(),
            npy: self.npy.map(NpyStream::finish),
            npy_pickle: self.npy_data.map(|(_, p)| p.finish()),
            config: self.config.map(|c| {
                if self.config_too_large {
                    Err(ConfigTooLarge)
                } else {
                    Ok(c)
                }
            }),
        }
    }
}
