//! The streaming inspection of one file: fed the file's bytes in order (for
//! instance by the read that hashes it), it decides what the file is the
//! way its loaders would, with memory bounded whatever the file's size.
//!
//! Every file is tried as a pickle stream from its first byte. In parallel,
//! the first bytes choose one structured reader (GGUF, NumPy, zip, tar,
//! HDF5, safetensors; otherwise text/JSON and protobuf walks), and the tail
//! of the file is kept to see whether Python's zipfile would open it from
//! its end. A file an unpickler runs is a pickle whatever else it looks
//! like; only a pickle that cannot reach any code (no imports, no
//! persistent ids) in a file that fully validates as another format is
//! reported as that format.

use super::gguf::{GgufError, GgufStream};
use super::hdf5::{AttrValue, Hdf5Error, Hdf5Stream};
use super::member::MemberScan;
use super::onnx::{self, OnnxStream};
use super::pickle::{PickleScan, PickleStream, ScanVerdict};
use super::protowalk::ProtoError;
use super::remote;
use super::safetensors::{self, SafetensorsStream};
use super::savedmodel::{self, SavedModelStream};
use super::sniff::{HDF5_MAGIC, Hdf5Probe, Protobuf, ProtobufStream};
use super::tar::{self, TarStream};
use super::text::{TextKind, TextStream};
use super::zip::ZipStream;
use super::ziptail::{TailVerdict, ZipTail};
use super::{FileReport, Finding, Format, archive, pickle_findings};
use serde_json::{Value, json};

/// Bytes gathered before a structured reader is chosen (a tar header).
const HEAD: usize = 512;

#[derive(Debug)]
enum Claim {
    Gguf(Box<GgufStream>),
    Npy(Box<MemberScan>),
    Zip(Box<ZipStream>),
    Tar(Box<TarStream>),
    Hdf5(Box<Hdf5Stream>),
    Safetensors(SafetensorsStream),
    Other(Box<Other>),
}

/// The readers of a file no magic number claimed.
#[derive(Debug)]
struct Other {
    text: TextStream,
    protobuf: ProtobufStream,
    onnx: OnnxStream,
    savedmodel: SavedModelStream,
    hdf5: Hdf5Probe,
    /// The first bytes, kept while an HDF5 superblock after a user block
    /// may still be found in them.
    head: Vec<u8>,
    /// The HDF5 reader, once a superblock was found after a user block.
    h5: Option<Box<Hdf5Stream>>,
    /// An HDF5 superblock found where its reader could not start.
    h5_too_late: Option<u64>,
    /// The bytes fed to the HDF5 probe so far.
    fed: u64,
    /// A `*config.json` kept to look for remote code.
    config: Option<Vec<u8>>,
    /// The config was larger than [`remote::MAX_CONFIG`].
    config_too_large: bool,
}

impl Claim {
    fn choose(head: &[u8], name: &str) -> Claim {
        if head.starts_with(b"GGUF") {
            Claim::Gguf(Box::default())
        } else if head.starts_with(super::npy::MAGIC) {
            Claim::Npy(Box::new(MemberScan::new(String::new())))
        } else if head.starts_with(b"PK\x03\x04") || head.starts_with(b"PK\x05\x06") {
            Claim::Zip(Box::default())
        } else if head.starts_with(HDF5_MAGIC) {
            Claim::Hdf5(Box::new(Hdf5Stream::new(0)))
        } else if tar::valid_header(head) {
            Claim::Tar(Box::default())
        } else if safetensors::looks_like_bytes(head) {
            Claim::Safetensors(SafetensorsStream::default())
        } else {
            Claim::Other(Box::new(Other {
                text: TextStream::default(),
                protobuf: ProtobufStream::default(),
                onnx: onnx::stream(),
                savedmodel: savedmodel::stream(),
                hdf5: Hdf5Probe::default(),
                head: Vec::new(),
                h5: None,
                h5_too_late: None,
                fed: 0,
                config: remote::is_config(name).then(Vec::new),
                config_too_large: false,
            }))
        }
    }

    fn update(&mut self, bytes: &[u8]) {
        match self {
            Claim::Gguf(s) => s.update(bytes),
            Claim::Npy(s) => {
                if s.wants_more() {
                    s.update(bytes)
                }
            }
            Claim::Zip(s) => s.update(bytes),
            Claim::Tar(s) => s.update(bytes),
            Claim::Hdf5(s) => s.update(bytes),
            Claim::Safetensors(s) => s.update(bytes),
            Claim::Other(o) => {
                if o.text.possible() {
                    o.text.update(bytes);
                    if let Some(config) = &mut o.config {
                        if config.len() + bytes.len() <= remote::MAX_CONFIG {
                            config.extend_from_slice(bytes);
                        } else {
                            o.config = None;
                            o.config_too_large = true;
                        }
                    }
                }
                if o.protobuf.possible() {
                    o.protobuf.update(bytes);
                }
                // The model walks run whatever the top-level field numbers:
                // a loader ignores fields it does not know.
                if o.onnx.possible() {
                    o.onnx.update(bytes);
                }
                if o.savedmodel.possible() {
                    o.savedmodel.update(bytes);
                }
                o.update_hdf5(bytes);
            }
        }
    }
}

/// How many first bytes of a file are kept for an HDF5 superblock after
/// a user block (h5py looks at 512, 1024, 2048, ...).
const USER_BLOCK_KEPT: usize = 1 << 20;

impl Other {
    /// Looks for an HDF5 superblock after a user block and, once found,
    /// feeds its reader from the file's first byte.
    fn update_hdf5(&mut self, bytes: &[u8]) {
        if let Some(h5) = &mut self.h5 {
            return h5.update(bytes);
        }
        if self.h5_too_late.is_some() {
            return;
        }
        self.fed += bytes.len() as u64;
        if self.head.len() < USER_BLOCK_KEPT {
            let kept = (USER_BLOCK_KEPT - self.head.len()).min(bytes.len());
            self.head.extend_from_slice(&bytes[..kept]);
        }
        self.hdf5.update(bytes);
        let Some(at) = self.hdf5.found() else {
            if self.fed > USER_BLOCK_KEPT as u64 && !self.head.is_empty() {
                // A superblock found from here on comes too late anyway.
                self.head = Vec::new();
            }
            return;
        };
        if self.fed > self.head.len() as u64 {
            // The reader must start from the first byte, which is gone.
            self.h5_too_late = Some(at);
            self.head = Vec::new();
            return;
        }
        let mut h5 = Box::new(Hdf5Stream::new(at));
        h5.update(&std::mem::take(&mut self.head));
        self.h5 = Some(h5);
    }
}

/// What the structured reader concluded.
struct Judged {
    format: Format,
    findings: Vec<Finding>,
    details: Value,
    /// Whether the format was validated through its whole structure.
    strong: bool,
}

/// Judges an HDF5 file by its root attributes, as Keras reads them.
fn hdf5_judged(result: Result<Vec<(String, AttrValue)>, Hdf5Error>, at: u64) -> Judged {
    let (findings, details, strong) = match result {
        Ok(attributes) => {
            let (findings, details) = super::keras::hdf5_findings(&attributes, at);
            (findings, details, true)
        }
        Err(Hdf5Error::Invalid(e)) => (vec![Finding::invalid(e.to_string())], Value::Null, false),
        Err(Hdf5Error::Undecided(e)) => (
            vec![Finding::invalid(format!("could not be decided: {e}"))],
            Value::Null,
            false,
        ),
    };
    Judged {
        format: Format::Hdf5,
        findings,
        details,
        strong,
    }
}

impl Claim {
    fn judge(self, name: &str) -> Judged {
        let plain = |format, findings, details, strong| Judged {
            format,
            findings,
            details,
            strong,
        };
        match self {
            Claim::Gguf(s) => match (*s).finish() {
                Ok(facts) => plain(Format::Gguf, vec![], facts, true),
                Err(GgufError::Invalid(e)) => plain(
                    Format::Gguf,
                    vec![Finding::invalid(e.to_string())],
                    Value::Null,
                    false,
                ),
                Err(GgufError::Undecided(e)) => plain(
                    Format::Gguf,
                    vec![Finding::invalid(format!("could not be decided: {e}"))],
                    Value::Null,
                    false,
                ),
            },
            Claim::Npy(s) => {
                let m = (*s).finish();
                let mut findings = Vec::new();
                let mut details = Value::Null;
                match &m.npy {
                    Some(Ok(h)) => {
                        details = json!({ "descr": h.descr, "object": h.object, "shape": h.shape });
                        if h.object {
                            findings.push(Finding::dangerous(format!(
                                "object array (dtype {}): loading it runs pickle",
                                h.descr
                            )));
                            if let Some(p) = &m.npy_pickle {
                                pickle_findings("array data: ", p, &mut findings);
                            }
                        }
                    }
                    Some(Err(e)) => findings.push(Finding::invalid(e.to_string())),
                    None => findings.push(Finding::invalid(".npy: truncated magic".into())),
                }
                let strong = findings.is_empty();
                plain(Format::Numpy, findings, details, strong)
            }
            Claim::Zip(s) => {
                let (format, findings, details) = archive::zip((*s).finish());
                let strong = findings
                    .iter()
                    .all(|f| f.severity == super::Severity::Warning);
                plain(format, findings, details, strong)
            }
            Claim::Tar(s) => {
                let (format, findings, details) = archive::tar((*s).finish());
                let strong = findings
                    .iter()
                    .all(|f| f.severity == super::Severity::Warning);
                plain(format, findings, details, strong)
            }
            Claim::Hdf5(s) => hdf5_judged((*s).finish(), 0),
            Claim::Safetensors(s) => match s.finish() {
                Ok(facts) => plain(
                    Format::Safetensors,
                    vec![],
                    serde_json::to_value(facts).unwrap_or_default(),
                    true,
                ),
                Err(e) => plain(
                    Format::Safetensors,
                    vec![Finding::invalid(e.to_string())],
                    Value::Null,
                    false,
                ),
            },
            Claim::Other(o) => {
                let Other {
                    text,
                    protobuf,
                    onnx,
                    savedmodel,
                    hdf5,
                    h5,
                    h5_too_late,
                    config,
                    config_too_large,
                    ..
                } = *o;
                let kind = protobuf.finish();
                // What each loader would find in the file, read as its
                // protobuf, whatever the file is taken for below.
                let onnx = onnx.finish().map(|scan| scan.judge());
                let savedmodel = savedmodel.finish().map(|scan| scan.judge());
                let unsafe_in = |r: &Result<(Vec<Finding>, Value), ProtoError>| -> Vec<Finding> {
                    r.as_ref()
                        .map(|(f, _)| {
                            f.iter()
                                .filter(|f| f.severity == super::Severity::Dangerous)
                                .cloned()
                                .collect()
                        })
                        .unwrap_or_default()
                };
                let (onnx_unsafe, savedmodel_unsafe) = (unsafe_in(&onnx), unsafe_in(&savedmodel));
                if let Some(h5) = h5 {
                    let mut judged = hdf5_judged((*h5).finish(), hdf5.found().unwrap_or_default());
                    if kind.is_some() {
                        judged.findings.push(Finding::invalid(
                            "a polyglot: also a complete ONNX or SavedModel protobuf, which its \
                             loader reads from the first byte"
                                .into(),
                        ));
                    }
                    judged.findings.extend(onnx_unsafe);
                    judged.findings.extend(savedmodel_unsafe);
                    return judged;
                }
                if let Some(at) = h5_too_late {
                    return plain(
                        Format::Hdf5,
                        vec![Finding::invalid(format!(
                            "HDF5 could not be decided: its superblock at byte {at} lies past \
                             the first {} MiB this reader keeps",
                            USER_BLOCK_KEPT >> 20
                        ))],
                        Value::Null,
                        false,
                    );
                }
                match kind {
                    Some(Protobuf::Onnx) => {
                        return match onnx {
                            Ok((mut findings, details)) => {
                                findings.extend(savedmodel_unsafe);
                                plain(Format::Onnx, findings, details, true)
                            }
                            Err(e) => plain(
                                Format::Onnx,
                                vec![Finding::invalid(format!("ONNX: {e}"))],
                                Value::Null,
                                false,
                            ),
                        };
                    }
                    Some(Protobuf::SavedModel) => {
                        return match savedmodel {
                            Ok((mut findings, details)) => {
                                findings.extend(onnx_unsafe);
                                plain(Format::TfSavedmodel, findings, details, true)
                            }
                            Err(e) => plain(
                                Format::TfSavedmodel,
                                vec![Finding::invalid(format!("SavedModel: {e}"))],
                                Value::Null,
                                false,
                            ),
                        };
                    }
                    None => {}
                }
                // Not an ONNX model or SavedModel by its field numbers, but
                // a loader would still read it as one (unknown fields are
                // skipped): what that reading finds makes it unsafe.
                let read_as_model: Vec<Finding> =
                    onnx_unsafe.into_iter().chain(savedmodel_unsafe).collect();
                if !read_as_model.is_empty() {
                    return plain(
                        Format::Unknown,
                        read_as_model,
                        json!({ "read_as": "a protobuf an ONNX or SavedModel loader reads" }),
                        false,
                    );
                }
                match text.finish() {
                    Some(TextKind::Json) => match config {
                        Some(bytes) => {
                            let (findings, details) = remote::judge(name, &bytes);
                            plain(Format::Json, findings, details, true)
                        }
                        None if config_too_large => plain(
                            Format::Json,
                            vec![Finding::invalid(format!(
                                "a config over {} MiB: whether it imports remote code could \
                                 not be decided",
                                remote::MAX_CONFIG >> 20
                            ))],
                            Value::Null,
                            true,
                        ),
                        None => plain(Format::Json, vec![], Value::Null, true),
                    },
                    // A config Python's json may read (NaN, Infinity) that
                    // is not strict JSON here.
                    Some(TextKind::Text) if config.is_some() || config_too_large => {
                        plain(Format::Text, vec![remote::unreadable()], Value::Null, false)
                    }
                    Some(TextKind::Text) => plain(Format::Text, vec![], Value::Null, false),
                    None => plain(Format::Unknown, vec![], Value::Null, false),
                }
            }
        }
    }
}

/// Inspects one file from its bytes, fed in file order.
///
/// ```
/// let mut s = modelseal_core::formats::Sniffer::new("model.bin");
/// s.update(b"cos\nsystem\n(S'id'\ntR.");
/// let report = s.finish();
/// assert_eq!(report.format, modelseal_core::formats::Format::Pickle);
/// assert!(report.unsafe_to_load());
/// ```
#[derive(Debug)]
pub struct Sniffer {
    name: String,
    pos: u64,
    head: Vec<u8>,
    pickle: PickleStream,
    claim: Option<Claim>,
    tail: ZipTail,
    /// The first bytes, for [`super::nested::file_kind`].
    magic: Vec<u8>,
}

impl Sniffer {
    /// A sniffer for the file that reports call `name`.
    pub fn new(name: &str) -> Self {
        Sniffer {
            name: name.to_string(),
            pos: 0,
            head: Vec::new(),
            pickle: PickleStream::new(),
            claim: None,
            tail: ZipTail::default(),
            magic: Vec::new(),
        }
    }

    /// The number of bytes fed so far.
    pub fn position(&self) -> u64 {
        self.pos
    }

    /// Feeds the next bytes of the file.
    pub fn update(&mut self, bytes: &[u8]) {
        self.pos += bytes.len() as u64;
        if self.pickle.wants_more() {
            self.pickle.update(bytes);
        }
        self.tail.update(bytes);
        match self.claim.as_mut() {
            Some(c) => c.update(bytes),
            None => {
                let take = (HEAD - self.head.len()).min(bytes.len());
                self.head.extend_from_slice(&bytes[..take]);
                if self.head.len() == HEAD {
                    self.start_claim();
                    if let Some(c) = self.claim.as_mut() {
                        c.update(&bytes[take..]);
                    }
                }
            }
        }
    }

    fn start_claim(&mut self) {
        let head = std::mem::take(&mut self.head);
        self.magic = head.clone();
        let mut claim = Claim::choose(&head, &self.name);
        claim.update(&head);
        self.claim = Some(claim);
    }

    /// Ends the file and says what it is.
    pub fn finish(mut self) -> FileReport {
        if self.claim.is_none() {
            self.start_claim();
        }
        let claim = self.claim.take().expect("claim started");
        let is_zip = matches!(claim, Claim::Zip(_));
        let judged = claim.judge(&self.name);
        let scan = self.pickle.finish();
        let mut report = decide(&self.name, scan, judged);
        if let Some(f) = unread_form(&self.name) {
            report.findings.push(f);
        }
        if report.format == Format::Unknown
            && let Some(kind) = super::nested::file_kind(&self.magic)
        {
            report.findings.push(Finding::invalid(format!(
                "a {kind}: what it holds is not scanned (a loader that decompresses it may \
                 unpickle what is inside)"
            )));
        }
        if !is_zip {
            match self.tail.finish() {
                TailVerdict::NotZip => {}
                TailVerdict::Zip(at) => report.findings.push(Finding::invalid(format!(
                    "ambiguous zip: Python's zipfile would open this file as a zip archive \
                     (central directory at byte {at}) though it is not one from its first byte"
                ))),
                TailVerdict::Undecided => report.findings.push(Finding::invalid(
                    "ambiguous zip: could not be decided whether zipfile would open this file"
                        .into(),
                )),
            }
        }
        report
    }
}

impl crate::digest::ReadSink for Sniffer {
    fn update(&mut self, bytes: &[u8]) {
        Sniffer::update(self, bytes);
    }
}

/// Files that a loader reads in a form this scanner does not: chosen by
/// name, as their loaders choose (TensorFlow's `saved_model.pbtxt`, the
/// text forms `onnx.load` picks by extension). What they hold could not be
/// decided.
fn unread_form(name: &str) -> Option<Finding> {
    let base = name.rsplit('/').next().unwrap_or(name);
    let what = if base == "saved_model.pbtxt" {
        "a SavedModel in protobuf text form"
    } else if [".onnxtxt", ".onnxtext", ".onnxjson", ".textproto"]
        .iter()
        .any(|e| base.ends_with(e))
    {
        "an ONNX model in a text form"
    } else {
        return None;
    };
    Some(Finding::invalid(format!(
        "{what}, which its loader reads by this name: not read here, so what it runs could not \
         be decided"
    )))
}

/// Combines the pickle reading and the structured reading.
fn decide(name: &str, scan: PickleScan, judged: Judged) -> FileReport {
    let report = |format, findings, details| FileReport {
        name: name.to_string(),
        format,
        findings,
        details,
    };
    let also_valid = judged.strong
        && judged
            .findings
            .iter()
            .all(|f| f.severity == super::Severity::Warning);
    let pickle_wins = match scan.verdict {
        ScanVerdict::NotPickle => false,
        ScanVerdict::Undecided => true,
        // A protocol header that leads nowhere, in a file that is fully
        // something else: that something else.
        _ if scan.header_only => !also_valid,
        _ if scan.is_inert() && also_valid => {
            let mut findings = judged.findings;
            findings.push(Finding::warning(format!(
                "its first {} bytes also unpickle to a plain value (nothing imported, \
                 no persistent ids): no code can run through them",
                scan.end
            )));
            return report(judged.format, findings, judged.details);
        }
        _ => true,
    };
    if !pickle_wins {
        return report(judged.format, judged.findings, judged.details);
    }
    let mut findings = Vec::new();
    pickle_findings("", &scan, &mut findings);
    if !matches!(judged.format, Format::Text | Format::Unknown) {
        findings.push(Finding::dangerous(format!(
            "a polyglot: also read as {} ({}), but an unpickler runs it from its first byte",
            judged.format.name(),
            if also_valid { "valid" } else { "invalid" }
        )));
        findings.extend(
            judged
                .findings
                .into_iter()
                .filter(|f| f.severity != super::Severity::Warning),
        );
    }
    findings.push(Finding::warning(
        "pickle: loading it runs the opcode stream".into(),
    ));
    let details = json!({
        "protocol": scan.protocol,
        "pickles": scan.pickles,
        "end": scan.end,
        "globals": scan.globals,
    });
    report(Format::Pickle, findings, details)
}
