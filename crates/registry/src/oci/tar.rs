//! Tar layers, read once as a stream: each model file inside is handed to a
//! visitor with its bytes. Only regular files and directories may make up a
//! model: hard links, symbolic links, devices, FIFOs, sparse files and
//! whiteouts are refused, as are unsafe names (absolute, `..`).
//!
//! Every entry of the layer, inside the model or not, must also read the
//! same to the readers that unpack layers (Go's `archive/tar` in
//! containerd, CRI-O and podman; Python's `tarfile`): a layer holding any
//! of the constructs they read differently is refused whole, since one
//! entry read differently moves where every later entry starts. See
//! [`same_to_every_reader`].

use super::OciError;
use super::manifest::{Compression, Layer, LayerKind, MODELCAR_ROOT, TarRoot, safe_name};
use crate::{Error, Result};
use std::io::Read;

/// Reads the tar layer `layer` from `reader` (the blob's bytes), calling
/// `visit(name, size, bytes)` for each model file in archive order. The
/// visitor must read the entry to its end.
///
/// The entries of a container image's layer outside the model are pushed
/// onto `outside`, so that [`links_across_layers`] can resolve them
/// through the links of the layers below.
pub(crate) fn read_tar_layer<R: Read>(
    reader: R,
    layer: &Layer,
    outside: &mut Vec<Outside>,
    budget: &OutsideBudget,
    visit: &mut dyn FnMut(&str, u64, &mut dyn Read) -> Result<()>,
) -> Result<R> {
    let LayerKind::Tar { compression, root } = layer.kind else {
        return Err(bad(layer, "not a tar layer".into()));
    };
    let kept = Kept { outside, budget };
    match compression {
        Compression::None => {
            // Runtimes that sniff a layer's compression (containerd for
            // the Docker type, containers/storage for every type) would
            // decompress a blob that starts as a compressed stream: what
            // they unpack is not the tar read here.
            let mut reader = reader;
            let mut head = Vec::with_capacity(6);
            (&mut reader)
                .take(6)
                .read_to_end(&mut head)
                .map_err(|e| bad(layer, e.to_string()))?;
            if let Some(kind) = compressed_magic(&head) {
                return Err(bad(
                    layer,
                    format!(
                        "declared uncompressed but its bytes start as {kind}: runtimes that look at the bytes would decompress it"
                    ),
                ));
            }
            let chained = std::io::Cursor::new(head).chain(reader);
            Ok(entries(chained, layer, root, kept, visit)?.into_inner().1)
        }
        Compression::Gzip => {
            let decoder = flate2::read::MultiGzDecoder::new(reader);
            Ok(entries(decoder, layer, root, kept, visit)?.into_inner())
        }
        Compression::Zstd => Err(bad(
            layer,
            "zstd-compressed layers are not read by this build (push gzip or uncompressed layers)"
                .into(),
        )),
    }
}

/// The compressed format whose magic `head` starts with, if any.
fn compressed_magic(head: &[u8]) -> Option<&'static str> {
    match head {
        [0x1f, 0x8b, ..] => Some("gzip"),
        [0x28, 0xb5, 0x2f, 0xfd, ..] => Some("zstd"),
        [b, 0x2a, 0x4d, 0x18, ..] if b & 0xf0 == 0x50 => Some("a zstd skippable frame"),
        [b'B', b'Z', b'h', ..] => Some("bzip2"),
        [0xfd, b'7', b'z', b'X', b'Z', 0x00, ..] => Some("xz"),
        _ => None,
    }
}

fn bad(layer: &Layer, reason: String) -> Error {
    Error::from(OciError::BadTar {
        layer: layer.descriptor.digest.clone(),
        reason,
    })
}

/// An entry of a container image layer outside the model, as far as
/// where later entries land is concerned: its name, and its link target
/// (with whether the link is symbolic) when it is a link.
#[derive(Debug, Clone)]
pub(crate) struct Outside {
    name: String,
    link: Option<(String, bool)>,
    regular: bool,
    /// A directory inside the model (its name relative to the model root),
    /// kept for [`model_tree_conflict`], not an entry outside it.
    model_dir: bool,
}

/// The first place where the model's files and directories, over every
/// layer, disagree on what a path is: a directory where a file was, or a
/// file under a path that is a file. Runtimes resolve such a clash by
/// removing what was there, signed files included.
pub(crate) fn model_tree_conflict<'a>(
    files: &std::collections::BTreeSet<String>,
    layers: impl IntoIterator<Item = &'a [Outside]>,
) -> Option<String> {
    for outside in layers {
        for dir in outside.iter().filter(|o| o.model_dir) {
            if files.contains(&dir.name) {
                return Some(format!(
                    "{:?} is a directory in one entry and a file in another",
                    dir.name
                ));
            }
        }
    }
    for file in files {
        let mut at = 0;
        while let Some(i) = file[at..].find('/') {
            let parent = &file[..at + i];
            if files.contains(parent) {
                return Some(format!("{file:?} lies under {parent:?}, which is a file"));
            }
            at += i + 1;
        }
    }
    None
}

/// What the entries outside the model kept for the image-wide link check
/// may take, in bytes, over every layer of one image (a base image has
/// tens of thousands of entries, a few MiB): layers listed many times, or
/// holding millions of entries, are refused rather than held.
pub(crate) const MAX_OUTSIDE_BYTES: u64 = 256 << 20;

/// The room left for entries outside the model of one image.
#[derive(Debug)]
pub(crate) struct OutsideBudget(std::sync::atomic::AtomicU64);

impl OutsideBudget {
    pub(crate) fn new() -> Self {
        OutsideBudget(std::sync::atomic::AtomicU64::new(MAX_OUTSIDE_BYTES))
    }

    /// Takes `n` bytes; false when there is not that much left.
    fn take(&self, n: u64) -> bool {
        use std::sync::atomic::Ordering;
        self.0
            .fetch_update(Ordering::Relaxed, Ordering::Relaxed, |left| {
                left.checked_sub(n)
            })
            .is_ok()
    }
}

/// The symbolic links met so far, as a tree of path components (so that
/// finding whether a path goes through one costs its length, not more),
/// and the rules that keep every entry out of the model directory:
///
/// - no entry is written through a symbolic link (a layer written by a
///   real builder holds real paths; runtimes resolve a link differently
///   from one another, containerd's `RootPath` textually, umoci and the
///   kernel physically, so no reading of it is safe);
/// - no link leads into the model directory or to the root above it;
/// - no hard link names a symbolic link (it would be a symbolic link too,
///   resolved from its own place); over the whole image, a hard link must
///   name a regular file met before it;
/// - link targets are plain: no control characters, a hard link's target
///   no `.`, `..` or empty component, a symbolic link's no `..` after a
///   name (containerd applies it after following the name's link, a
///   lexical reader before);
/// - a link, once met, counts until the image ends, even if a later entry
///   replaces it: stricter, never looser, than the runtime.
#[derive(Default)]
struct Links {
    /// Children of each node (the root is node 0) by component.
    children: std::collections::HashMap<u32, std::collections::HashMap<String, u32>>,
    /// The nodes that are symbolic links.
    links: std::collections::HashSet<u32>,
    /// The nodes that are regular files (recorded over a whole image).
    files: std::collections::HashSet<u32>,
    next: u32,
    /// Checking a whole image, lowest layer first (not one layer alone,
    /// whose hard links may name files of the layers below).
    whole: bool,
}

/// The components of a checked relative name (no `.` or empty ones).
fn components(name: &str) -> impl Iterator<Item = &str> {
    name.split('/').filter(|p| !p.is_empty() && *p != ".")
}

impl Links {
    /// The node of `path`, when one was made.
    fn find(&self, path: &str) -> Option<u32> {
        let mut node = 0;
        for part in components(path) {
            node = *self.children.get(&node)?.get(part)?;
        }
        Some(node)
    }

    /// Whether a directory above `name` (not `name` itself) is a link.
    fn through_link(&self, name: &str) -> bool {
        let parts: Vec<&str> = components(name).collect();
        let mut node = 0;
        for part in &parts[..parts.len().saturating_sub(1)] {
            match self.children.get(&node).and_then(|c| c.get(*part)) {
                Some(n) if self.links.contains(n) => return true,
                Some(n) => node = *n,
                None => return false,
            }
        }
        false
    }

    fn insert_link(&mut self, name: &str) -> std::result::Result<(), LinkError> {
        if self.links.len() >= MAX_LINKS {
            return Err(LinkError::TooManyLinks { max: MAX_LINKS });
        }
        let node = self.insert(name);
        self.links.insert(node);
        Ok(())
    }

    /// The node of `name`, made if needed.
    fn insert(&mut self, name: &str) -> u32 {
        let mut node = 0;
        for part in components(name) {
            let children = self.children.entry(node).or_default();
            node = match children.get(part) {
                Some(n) => *n,
                None => {
                    self.next += 1;
                    children.insert(part.to_string(), self.next);
                    self.next
                }
            };
        }
        node
    }

    /// Checks one entry outside the model named `name` (a checked
    /// relative name), a link to `target` (symbolic or hard) or not,
    /// against the links met before it, and records it when it is a
    /// symbolic link. Returns what is wrong with it.
    fn outside(
        &mut self,
        name: &str,
        link: Option<(&str, bool)>,
        regular: bool,
    ) -> std::result::Result<(), LinkError> {
        if name.len() > MAX_NAME {
            return Err(LinkError::NameTooLong { max: MAX_NAME });
        }
        if self.through_link(name) {
            return Err(LinkError::ThroughLink);
        }
        if let Some((target, symbolic)) = link {
            if target.len() > MAX_NAME {
                return Err(LinkError::TargetTooLong { max: MAX_NAME });
            }
            if target.chars().any(char::is_control) {
                return Err(LinkError::ControlCharacter {
                    target: target.to_string(),
                });
            }
            let plain = if symbolic {
                // Leading `..` walk up from the link's own (real) directory;
                // a `..` after a name is applied after following that name
                // by containerd, before it by a lexical reader.
                let mut named = false;
                target.split('/').all(|part| match part {
                    "" | "." => true,
                    ".." => !named,
                    _ => {
                        named = true;
                        true
                    }
                })
            } else {
                let path = target
                    .strip_prefix('/')
                    .or_else(|| target.strip_prefix("./"))
                    .unwrap_or(target);
                !path.is_empty() && path.split('/').all(|part| !matches!(part, "" | "." | ".."))
            };
            if !plain {
                return Err(LinkError::NotPlain {
                    target: target.to_string(),
                });
            }
            if leads_into_models(name, target, symbolic) {
                return Err(LinkError::IntoModels {
                    target: target.to_string(),
                });
            }
            if symbolic {
                self.insert_link(name)?;
            } else if self.through_link(target)
                || self.find(target).is_some_and(|n| self.links.contains(&n))
            {
                return Err(LinkError::HardToSymbolic {
                    target: target.to_string(),
                });
            } else if self.whole && !self.find(target).is_some_and(|n| self.files.contains(&n)) {
                return Err(LinkError::HardToNoFile {
                    target: target.to_string(),
                });
            }
        } else if regular && self.whole {
            let node = self.insert(name);
            self.files.insert(node);
        }
        Ok(())
    }
}

/// Checks the entries outside the model of every layer of a container
/// image (`layers`: each layer's digest and what [`read_tar_layer`]
/// recorded, in the manifest's order, lowest first) against the links of
/// the layers below them: a link one layer sets up and a later layer
/// writes through lands in the model when the runtime unpacks the image.
pub(crate) fn links_across_layers<'a>(
    layers: impl IntoIterator<Item = (&'a str, &'a [Outside])>,
) -> Result<()> {
    let mut links = Links {
        whole: true,
        ..Links::default()
    };
    for (digest, outside) in layers {
        for entry in outside.iter().filter(|e| !e.model_dir) {
            let link = entry.link.as_ref().map(|(t, s)| (t.as_str(), *s));
            links
                .outside(&entry.name, link, entry.regular)
                .map_err(|kind| {
                    Error::from(OciError::UnsupportedEntry {
                        layer: digest.to_string(),
                        name: entry.name.clone(),
                        kind: format!("{kind}, through a link of a layer below"),
                    })
                })?;
        }
    }
    Ok(())
}

/// Where a layer's entries outside the model go, and the image's budget.
struct Kept<'a> {
    outside: &'a mut Vec<Outside>,
    budget: &'a OutsideBudget,
}

fn entries<R: Read>(
    reader: R,
    layer: &Layer,
    root: TarRoot,
    kept: Kept<'_>,
    visit: &mut dyn FnMut(&str, u64, &mut dyn Read) -> Result<()>,
) -> Result<R> {
    let digest = &layer.descriptor.digest;
    // The symbolic links met so far in this layer: a later entry whose path
    // goes through one is written where the link leads.
    let mut links = Links::default();
    let mut archive = tar::Archive::new(reader);
    {
        let entries = archive.entries().map_err(|e| bad(layer, e.to_string()))?;
        for entry in entries {
            let mut entry = entry.map_err(|e| bad(layer, e.to_string()))?;
            same_to_every_reader(&mut entry).map_err(|why| bad(layer, why.to_string()))?;
            let raw = entry.path_bytes().into_owned();
            let kind = entry.header().entry_type();
            if kind.is_pax_global_extensions() || kind.is_pax_local_extensions() {
                continue;
            }
            let text = String::from_utf8(raw).map_err(|e| {
                Error::from(OciError::UnsafeName {
                    layer: digest.clone(),
                    name: String::from_utf8_lossy(e.as_bytes()).into_owned(),
                    reason: "not UTF-8".into(),
                })
            })?;
            let unsafe_name = |reason: String| {
                Error::from(OciError::UnsafeName {
                    layer: digest.clone(),
                    name: text.clone(),
                    reason,
                })
            };
            let name = safe_name(&text).map_err(|e| unsafe_name(e.to_string()))?;
            // Whiteouts delete files of lower layers: the mounted model
            // would differ from the layers read here.
            let base = name.rsplit('/').next().unwrap_or(&name);
            let in_model = match root {
                TarRoot::Model => Some(name.as_str()),
                TarRoot::ModelsDir => {
                    if name == MODELCAR_ROOT {
                        Some("")
                    } else {
                        name.strip_prefix(MODELCAR_ROOT)
                            .and_then(|r| r.strip_prefix('/'))
                    }
                }
            };
            let whiteout = base.starts_with(".wh.");
            // Anywhere in a container image, a link that leads into the
            // model directory (or to the root above it) lets a later entry
            // or layer write into /models through it when the runtime
            // unpacks the image, unseen by a reader that skips the rest.
            if root == TarRoot::ModelsDir && in_model.is_none() {
                let link = match kind {
                    tar::EntryType::Symlink | tar::EntryType::Link => Some((
                        entry
                            .link_name_bytes()
                            .map(|t| String::from_utf8_lossy(&t).into_owned())
                            .unwrap_or_default(),
                        kind == tar::EntryType::Symlink,
                    )),
                    _ => None,
                };
                let as_link = link.as_ref().map(|(t, s)| (t.as_str(), *s));
                let regular = matches!(kind, tar::EntryType::Regular | tar::EntryType::Continuous);
                links.outside(&name, as_link, regular).map_err(|kind| {
                    Error::from(OciError::UnsupportedEntry {
                        layer: digest.clone(),
                        name: text.clone(),
                        kind: kind.to_string(),
                    })
                })?;
                let cost = 64 + name.len() + link.as_ref().map_or(0, |(t, _)| t.len());
                if !kept.budget.take(cost as u64) {
                    return Err(bad(
                        layer,
                        format!(
                            "the image's entries outside /{MODELCAR_ROOT} take more than {} MiB to check",
                            MAX_OUTSIDE_BYTES >> 20
                        ),
                    ));
                }
                kept.outside.push(Outside {
                    name: name.clone(),
                    link,
                    regular,
                    model_dir: false,
                });
            }
            let touches_model = in_model.is_some()
                || (whiteout
                    && root == TarRoot::ModelsDir
                    && !name.contains('/')
                    && (base == ".wh..wh..opq" || base == format!(".wh.{MODELCAR_ROOT}")));
            if !touches_model {
                continue; // The rest of a container image.
            }
            let refuse = |what: &str| {
                Error::from(OciError::UnsupportedEntry {
                    layer: digest.clone(),
                    name: text.clone(),
                    kind: what.to_string(),
                })
            };
            if whiteout {
                return Err(refuse("whiteout (it deletes files of another layer)"));
            }
            let Some(model_name) = in_model else { continue };
            match kind {
                tar::EntryType::Directory => {
                    // Kept, to find a directory where a file was.
                    let model_dir = model_name.trim_end_matches('/');
                    if !model_dir.is_empty() {
                        if !kept.budget.take(64 + model_dir.len() as u64) {
                            return Err(bad(
                                layer,
                                format!(
                                    "the image's entries take more than {} MiB to check",
                                    MAX_OUTSIDE_BYTES >> 20
                                ),
                            ));
                        }
                        kept.outside.push(Outside {
                            name: model_dir.to_string(),
                            link: None,
                            regular: false,
                            model_dir: true,
                        });
                    }
                    continue;
                }
                tar::EntryType::Regular | tar::EntryType::Continuous => {}
                tar::EntryType::Link => return Err(refuse("hard link")),
                tar::EntryType::Symlink => return Err(refuse("symbolic link")),
                tar::EntryType::Char | tar::EntryType::Block => return Err(refuse("device")),
                tar::EntryType::Fifo => return Err(refuse("FIFO")),
                tar::EntryType::GNUSparse => return Err(refuse("sparse file")),
                _ => return Err(refuse("entry of an unknown type")),
            }
            if model_name.is_empty() {
                return Err(refuse("file where the model directory should be"));
            }
            let size = entry.size();
            visit(model_name, size, &mut entry)?;
            let mut rest = [0u8; 1];
            if entry
                .read(&mut rest)
                .map_err(|e| bad(layer, e.to_string()))?
                != 0
            {
                return Err(bad(
                    layer,
                    format!("{model_name}: entry not read to its end"),
                ));
            }
        }
    }
    // After the end of the archive only NUL padding: anything else is
    // data a reader that finds another stream there would unpack.
    let mut rest = archive.into_inner();
    let mut buf = [0u8; 8192];
    loop {
        let n = match rest.read(&mut buf) {
            Ok(0) => break,
            Ok(n) => n,
            Err(e) if e.kind() == std::io::ErrorKind::Interrupted => continue,
            Err(e) => return Err(bad(layer, e.to_string())),
        };
        if buf[..n].iter().any(|b| *b != 0) {
            return Err(bad(
                layer,
                "bytes other than padding after the end of the archive (another reader may find more entries there)".into(),
            ));
        }
    }
    Ok(rest)
}

/// Most symbolic links of one image recorded; more refuse the layer.
const MAX_LINKS: usize = 100_000;
/// Longest entry name or link target (as `PATH_MAX`).
const MAX_NAME: usize = 4096;

/// Whether a link named `name` (a checked relative name) to `target` leads
/// to the image root or into the model directory once the runtime resolves
/// it inside the image: `..` stops at the root, as the runtimes' secure
/// joins do. A symbolic link's relative target starts from the link's
/// directory; a hard link's names a path from the root.
fn leads_into_models(name: &str, target: &str, symbolic: bool) -> bool {
    let mut parts: Vec<&str> = Vec::new();
    if symbolic && !target.starts_with('/') {
        parts.extend(name.split('/'));
        parts.pop();
    }
    for part in target.split('/') {
        match part {
            "" | "." => {}
            ".." => {
                parts.pop();
            }
            other => parts.push(other),
        }
    }
    parts.is_empty() || parts[0] == MODELCAR_ROOT
}

/// Pax records every reader applies the same way (RFC-less, but POSIX
/// pax and the readers agree): names, sizes, owners, times, extended
/// attributes.
fn agreed_pax_key(key: &[u8]) -> bool {
    matches!(
        key,
        b"path"
            | b"linkpath"
            | b"size"
            | b"uid"
            | b"gid"
            | b"uname"
            | b"gname"
            | b"mtime"
            | b"atime"
            | b"ctime"
            | b"comment"
            | b"charset"
            | b"hdrcharset"
    ) || key.starts_with(b"SCHILY.xattr.")
        || key.starts_with(b"LIBARCHIVE.xattr.")
}

/// The numeric fields of a tar header that Go and Python both parse.
const NUMERIC_FIELDS: [(&str, std::ops::Range<usize>); 7] = [
    ("mode", 100..108),
    ("uid", 108..116),
    ("gid", 116..124),
    ("size", 124..136),
    ("mtime", 136..148),
    ("devmajor", 329..337),
    ("devminor", 337..345),
];

/// Whether every reader parses `field` as the same number: positive
/// base-256 (first byte 0x80), or octal digits with spaces before and
/// spaces or NULs after (an all-blank field is 0).
fn plain_number(field: &[u8]) -> bool {
    if field.first() == Some(&0x80) {
        return true;
    }
    let start = field.iter().take_while(|&&b| b == b' ').count();
    let digits = field[start..]
        .iter()
        .take_while(|b| (b'0'..=b'7').contains(b))
        .count();
    field[start + digits..].iter().all(|&b| b == b' ' || b == 0)
}

/// Refuses an entry that the readers which unpack layers read differently.
/// The rules are the intersection of what Go's `archive/tar`, Python's
/// `tarfile` and the Rust `tar` crate read alike:
/// - only ustar (`ustar\0` `00`) and GNU (`ustar ` ` \0`) headers: an old
///   v7 header's extension entries are extensions to Go and Python but
///   plain entries to the Rust reader, and other magics read their prefix
///   differently (`ustar\0` with the GNU version: Go joins the prefix);
/// - a GNU header with nothing in the ustar prefix field (Python joins it
///   to the name whatever the format; Go does when it does not read as GNU
///   times);
/// - no global pax header (Python applies it to every later entry, Go
///   returns it as an entry, the Rust reader ties earlier records to it);
/// - pax records from the agreed set only ([`agreed_pax_key`]; not
///   `GNU.sparse.name`, which Python takes for the name), each key once
///   (the Rust reader takes the first, Go and Python the last), a `size`
///   of digits only, and a `path` that is the name the entry ends up with
///   (Python lets a pax path win over a GNU long name, the others do not);
/// - no old-style regular entry (type `\0`: Python decides "directory"
///   from the raw name, the others from the final one) and no sparse entry
///   (the readers read its extension blocks differently);
/// - no data on an entry of a type without data (directory, link, device,
///   FIFO): Go skips none, the Rust reader skips the size;
/// - every numeric field plain octal (spaces before, spaces or NULs after)
///   or positive base-256: on anything else Go fails, Python silently
///   stops reading the archive there, and the Rust reader reads on;
/// - no STAR trailer (`tar\0` at byte 508 of a ustar header) with bytes
///   in the last 24 bytes of the prefix field: Go takes a 131-byte prefix
///   then, Python and the Rust reader 155 bytes.
fn same_to_every_reader<R: Read>(
    entry: &mut tar::Entry<'_, R>,
) -> std::result::Result<(), AmbiguousEntry> {
    let header = *entry.header().as_bytes();
    let (magic, version) = (&header[257..263], &header[263..265]);
    let ustar = magic == b"ustar\0" && version == b"00";
    let gnu = magic == b"ustar " && version == b" \0";
    if !ustar && !gnu {
        return Err(AmbiguousEntry::Format {
            magic: magic.to_vec(),
            version: version.to_vec(),
        });
    }
    if entry.header().entry_type() == tar::EntryType::GNUSparse {
        return Err(AmbiguousEntry::Sparse);
    }
    for (field, range) in NUMERIC_FIELDS {
        if !plain_number(&header[range.clone()]) {
            return Err(AmbiguousEntry::Number {
                field,
                value: header[range].to_vec(),
            });
        }
    }
    if ustar && &header[508..512] == b"tar\0" && header[476..500].iter().any(|&b| b != 0) {
        return Err(AmbiguousEntry::StarPrefix);
    }
    if gnu && header[345..500].iter().any(|&b| b != 0) {
        return Err(AmbiguousEntry::GnuPrefix);
    }
    let kind = entry.header().entry_type();
    let size = entry.size();
    if kind.is_pax_global_extensions() {
        return Err(AmbiguousEntry::GlobalPax);
    }
    if header[156] == 0 {
        return Err(AmbiguousEntry::OldRegular);
    }
    let path = entry.path_bytes().into_owned();
    let link_name = entry.link_name_bytes().map(|n| n.into_owned());
    if !kind.is_pax_local_extensions()
        && let Some(records) = entry.pax_extensions().map_err(AmbiguousEntry::Pax)?
    {
        let mut seen: Vec<Vec<u8>> = Vec::new();
        for record in records {
            let record = record.map_err(AmbiguousEntry::Pax)?;
            let key = record.key_bytes();
            if !agreed_pax_key(key) {
                return Err(AmbiguousEntry::PaxKey { key: key.to_vec() });
            }
            if seen.iter().any(|k| k == key) {
                return Err(AmbiguousEntry::PaxTwice { key: key.to_vec() });
            }
            seen.push(key.to_vec());
            let value = record.value_bytes();
            if key == b"size" && (value.is_empty() || !value.iter().all(u8::is_ascii_digit)) {
                return Err(AmbiguousEntry::PaxSize {
                    value: value.to_vec(),
                });
            }
            if key == b"linkpath" && Some(value) != link_name.as_deref() {
                return Err(AmbiguousEntry::PaxLinkpath {
                    value: value.to_vec(),
                });
            }
            if key == b"path" && value != path.as_slice() {
                return Err(AmbiguousEntry::PaxPath {
                    value: value.to_vec(),
                    name: path,
                });
            }
        }
    }
    let has_data = matches!(kind, tar::EntryType::Regular | tar::EntryType::Continuous)
        || kind.is_pax_local_extensions()
        || kind.is_gnu_longname()
        || kind.is_gnu_longlink();
    if !has_data && size > 0 {
        return Err(AmbiguousEntry::DataWithoutData {
            name: path,
            kind,
            size,
        });
    }
    Ok(())
}

/// Why an entry outside the model of a container image layer is refused
/// ([`Links::outside`]): runtimes would resolve it differently from this
/// reader, or it leads into the model. Reported as the `kind` of
/// [`OciError::UnsupportedEntry`].
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub(crate) enum LinkError {
    /// More symbolic links than are recorded.
    #[error("symbolic link past the {max} recorded outside /{MODELCAR_ROOT}")]
    TooManyLinks {
        /// The most recorded.
        max: usize,
    },
    /// The entry's name is longer than a path may be.
    #[error("a name longer than {max} bytes")]
    NameTooLong {
        /// The longest accepted.
        max: usize,
    },
    /// The entry is written through a symbolic link met before it.
    #[error("path written through a symbolic link (runtimes resolve it differently)")]
    ThroughLink,
    /// The link target is longer than a path may be.
    #[error("a link target longer than {max} bytes")]
    TargetTooLong {
        /// The longest accepted.
        max: usize,
    },
    /// The link target holds a control character.
    #[error("link to {target:?}, with a control character (readers cut it differently)")]
    ControlCharacter {
        /// The target.
        target: String,
    },
    /// The link target is not a plain path (`..` after a name, or an
    /// empty or `.` component in a hard link's).
    #[error("link to {target:?}, not a plain path (runtimes resolve it differently)")]
    NotPlain {
        /// The target.
        target: String,
    },
    /// The link leads to the image root or into the model directory.
    #[error("link to {target:?}, which leads into /{MODELCAR_ROOT}")]
    IntoModels {
        /// The target.
        target: String,
    },
    /// A hard link to a symbolic link or to a path through one.
    #[error("hard link to {target:?}, a symbolic link or a path through one")]
    HardToSymbolic {
        /// The target.
        target: String,
    },
    /// A hard link to what is not a regular file met before it.
    #[error("hard link to {target:?}, which is not a regular file met before it")]
    HardToNoFile {
        /// The target.
        target: String,
    },
}

/// A tar entry that the readers which unpack layers read differently
/// ([`same_to_every_reader`]); the layer is refused whole, as the
/// `reason` of [`OciError::BadTar`]. Names, keys and values are kept as
/// the raw bytes found and shown lossily as UTF-8.
#[derive(Debug, thiserror::Error)]
pub(crate) enum AmbiguousEntry {
    /// A header neither ustar nor GNU.
    #[error(
        "a header of no ustar or GNU format (magic {:?}, version {:?}): readers disagree on its name",
        String::from_utf8_lossy(.magic),
        String::from_utf8_lossy(.version)
    )]
    Format {
        /// The magic field (6 bytes).
        magic: Vec<u8>,
        /// The version field (2 bytes).
        version: Vec<u8>,
    },
    /// A GNU sparse entry.
    #[error("a sparse entry: readers read its extension blocks differently")]
    Sparse,
    /// A numeric header field that is not plain octal or base-256.
    #[error(
        "the {field} field {:?} is not a plain number: Python stops reading the layer \
         there, Go fails, others read on",
        String::from_utf8_lossy(.value)
    )]
    Number {
        /// The field's name.
        field: &'static str,
        /// The field's bytes.
        value: Vec<u8>,
    },
    /// A STAR trailer with bytes where Go and Python cut the prefix apart.
    #[error("a STAR trailer with a long prefix: Go reads 131 bytes of prefix, Python 155")]
    StarPrefix,
    /// A GNU header with bytes in the ustar prefix field.
    #[error(
        "a GNU header with bytes in the ustar prefix field: Python (and sometimes Go) joins them to the name"
    )]
    GnuPrefix,
    /// A global pax header.
    #[error("a global pax header: readers apply it to later entries differently")]
    GlobalPax,
    /// An old-style regular entry (type NUL).
    #[error(
        "an old-style regular entry (type NUL): readers decide differently whether it is a directory"
    )]
    OldRegular,
    /// The pax records cannot be read.
    #[error("pax records: {0}")]
    Pax(#[source] std::io::Error),
    /// A pax record outside the agreed set.
    #[error("the pax record {:?}: readers disagree on what it means", String::from_utf8_lossy(.key))]
    PaxKey {
        /// The record's key.
        key: Vec<u8>,
    },
    /// A pax record given twice.
    #[error(
        "the pax record {:?} given twice: readers take different ones",
        String::from_utf8_lossy(.key)
    )]
    PaxTwice {
        /// The record's key.
        key: Vec<u8>,
    },
    /// A pax size that is not plain digits.
    #[error(
        "a pax size {:?} that is not plain digits: readers read it differently",
        String::from_utf8_lossy(.value)
    )]
    PaxSize {
        /// The record's value.
        value: Vec<u8>,
    },
    /// A pax linkpath beside another link name.
    #[error(
        "a pax linkpath {:?} beside another link name: readers pick different ones",
        String::from_utf8_lossy(.value)
    )]
    PaxLinkpath {
        /// The record's value.
        value: Vec<u8>,
    },
    /// A pax path beside another name.
    #[error(
        "a pax path {:?} beside another name {:?}: readers pick different ones",
        String::from_utf8_lossy(.value),
        String::from_utf8_lossy(.name)
    )]
    PaxPath {
        /// The record's value.
        value: Vec<u8>,
        /// The name the entry ends up with.
        name: Vec<u8>,
    },
    /// Data on an entry of a type that has none.
    #[error(
        "{:?}: a {kind:?} entry with {size} bytes of data (readers disagree where the next entry starts)",
        String::from_utf8_lossy(.name)
    )]
    DataWithoutData {
        /// The entry's name.
        name: Vec<u8>,
        /// Its type.
        kind: tar::EntryType,
        /// Its size.
        size: u64,
    },
}

#[cfg(test)]
mod tests {
    use super::super::manifest::Descriptor;
    use super::*;

    fn layer(root: TarRoot) -> Layer {
        layer_named(root, "sha256:00")
    }

    fn layer_named(root: TarRoot, digest: &str) -> Layer {
        Layer {
            descriptor: Descriptor {
                media_type: "application/vnd.oci.image.layer.v1.tar".into(),
                digest: digest.into(),
                size: 0,
                artifact_type: None,
                annotations: Default::default(),
            },
            kind: LayerKind::Tar {
                compression: Compression::None,
                root,
            },
        }
    }

    fn archive(entries: &[(&str, tar::EntryType, &[u8])]) -> Vec<u8> {
        let mut b = tar::Builder::new(Vec::new());
        for (name, kind, data) in entries {
            let mut h = tar::Header::new_gnu();
            h.set_entry_type(*kind);
            h.set_size(data.len() as u64);
            h.set_mode(0o644);
            // Bypass the builder's own path checks: hostile names must be
            // refused by the reader, not the writer.
            let bytes = name.as_bytes();
            h.as_old_mut().name[..bytes.len()].copy_from_slice(bytes);
            if *kind == tar::EntryType::Link || *kind == tar::EntryType::Symlink {
                // Links in the model point into it (refused as links);
                // links elsewhere point elsewhere (a base image's).
                let target = if name.starts_with("models") {
                    "models/a"
                } else {
                    "bin/busybox"
                };
                h.set_link_name(target).unwrap();
            }
            h.set_cksum();
            b.append(&h, *data).unwrap();
        }
        b.into_inner().unwrap()
    }

    fn names(bytes: &[u8], root: TarRoot) -> Result<Vec<(String, Vec<u8>)>> {
        let mut out = Vec::new();
        read_tar_layer(
            bytes,
            &layer(root),
            &mut Vec::new(),
            &OutsideBudget::new(),
            &mut |name, _size, r| {
                let mut data = Vec::new();
                r.read_to_end(&mut data).unwrap();
                out.push((name.to_string(), data));
                Ok(())
            },
        )?;
        Ok(out)
    }

    #[test]
    fn modelcar_layers_yield_the_files_under_models() {
        use tar::EntryType::*;
        let bytes = archive(&[
            ("bin/sh", Regular, b"#!"),
            ("bin/ls", Link, b""),
            ("models", Directory, b""),
            ("models/config.json", Regular, b"{}"),
            ("models/sub/w.bin", Regular, b"abc"),
        ]);
        let got = names(&bytes, TarRoot::ModelsDir).unwrap();
        assert_eq!(
            got,
            [
                ("config.json".to_string(), b"{}".to_vec()),
                ("sub/w.bin".to_string(), b"abc".to_vec())
            ]
        );
    }

    #[test]
    fn refuses_links_devices_whiteouts_and_unsafe_names() {
        use tar::EntryType::*;
        for (entries, expect) in [
            (vec![("models/a", Link, &b""[..])], "hard link"),
            (vec![("models/a", Symlink, &b""[..])], "symbolic link"),
            (vec![("models/dev", Char, &b""[..])], "device"),
            (
                vec![("models/.wh.config.json", Regular, &b""[..])],
                "whiteout",
            ),
            (vec![(".wh.models", Regular, &b""[..])], "whiteout"),
            (vec![("/models/a", Regular, &b"x"[..])], "absolute"),
            (vec![("models/../etc/passwd", Regular, &b"x"[..])], ".."),
            (vec![("models", Regular, &b"x"[..])], "model directory"),
        ] {
            let err = names(&archive(&entries), TarRoot::ModelsDir).unwrap_err();
            assert!(err.to_string().contains(expect), "{entries:?}: {err}");
        }
        let err = names(&archive(&[("w", Fifo, b"")]), TarRoot::Model).unwrap_err();
        assert!(err.to_string().contains("FIFO"), "{err}");
    }

    /// One raw 512-byte header block with `edit` applied and the checksum
    /// set, then `data` padded to a block.
    fn block(name: &str, kind: u8, data: &[u8], edit: impl Fn(&mut [u8; 512])) -> Vec<u8> {
        let mut h = tar::Header::new_ustar();
        h.set_size(data.len() as u64);
        h.set_mode(0o644);
        let bytes = h.as_mut_bytes();
        bytes[..name.len()].copy_from_slice(name.as_bytes());
        bytes[156] = kind;
        edit(bytes);
        h.set_cksum();
        let mut out = h.as_bytes().to_vec();
        out.extend_from_slice(data);
        out.resize(out.len().div_ceil(512) * 512, 0);
        out
    }

    fn pax_records(records: &[(&str, &str)]) -> Vec<u8> {
        let mut out = Vec::new();
        for (k, v) in records {
            let body = format!(" {k}={v}\n");
            let mut len = body.len() + 1;
            while format!("{len}{body}").len() != len {
                len += 1;
            }
            out.extend_from_slice(format!("{len}{body}").as_bytes());
        }
        out
    }

    fn layer_of(blocks: &[Vec<u8>]) -> Vec<u8> {
        let mut out = blocks.concat();
        out.extend_from_slice(&[0u8; 1024]);
        out
    }

    /// The layers of the attacks that put unsigned files in `/models` of a
    /// "verified" ModelCar image: each is refused whole, wherever in the
    /// image the entry is.
    #[test]
    fn entries_that_readers_read_differently_refuse_the_layer() {
        let evil_pax = pax_records(&[
            ("GNU.sparse.map", "0,1"),
            ("GNU.sparse.size", "1"),
            ("GNU.sparse.name", "models/modeling_evil.py"),
        ]);
        let sparse_name = layer_of(&[
            block("junk/pax", b'x', &evil_pax, |_| {}),
            block("junk/placeholder", b'0', b"x", |_| {}),
        ]);
        let next = block("models/modeling_evil.py", b'0', b"import os", |_| {});
        let old_dir = layer_of(&[block("junk/", 0, &next, |_| {})]);
        let hybrid = layer_of(&[block("modeling_evil.py", b'0', b"import os", |h| {
            h[257..263].copy_from_slice(b"ustar\0");
            h[263..265].copy_from_slice(b"  ");
            h[345..351].copy_from_slice(b"models");
        })]);
        let dir_with_data = layer_of(&[block("junk/", b'5', &next, |_| {})]);
        let global = layer_of(&[
            block(
                "pax_global_header",
                b'g',
                &pax_records(&[("path", "models/x")]),
                |_| {},
            ),
            block("models/config.json", b'0', b"{}", |_| {}),
        ]);
        for (what, bytes, expect) in [
            ("GNU.sparse.name", sparse_name, "GNU.sparse"),
            ("old-style directory", old_dir, "old-style regular entry"),
            ("ustar magic, GNU version", hybrid, "no ustar or GNU format"),
            ("directory with data", dir_with_data, "bytes of data"),
            ("global pax path", global, "global pax header"),
        ] {
            let err = names(&bytes, TarRoot::ModelsDir).unwrap_err();
            assert!(err.to_string().contains(expect), "{what}: {err}");
        }
    }

    #[test]
    fn agreed_pax_records_are_read() {
        let long = format!("models/{}/w.bin", "d".repeat(120));
        let bytes = layer_of(&[
            block(
                "x",
                b'x',
                &pax_records(&[("path", &long), ("mtime", "1.5"), ("size", "3")]),
                |_| {},
            ),
            block("short", b'0', b"abc", |_| {}),
        ]);
        let got = names(&bytes, TarRoot::ModelsDir).unwrap();
        assert_eq!(
            got,
            [(long["models/".len()..].to_string(), b"abc".to_vec())]
        );
    }

    /// A link anywhere in a container image that leads into /models, or to
    /// the root above it, refuses the layer: a later entry (or layer)
    /// written through it lands in the model when the image is unpacked.
    #[test]
    fn links_into_the_model_directory_are_refused() {
        for (name, target, symbolic, refused) in [
            ("junk", "/models", true, true),
            ("junk", "/", true, true),
            ("a/b/junk", "../../models/x", true, true),
            ("a/junk", "../../../..", true, true),
            ("junk", "/usr/../models/sub", true, true),
            ("junk", "models/config.json", false, true),
            ("bin/sh", "busybox", true, false),
            ("usr/bin/env", "/bin/busybox", true, false),
            ("lib64", "lib", true, false),
            ("junk", "/modelsx", true, false),
        ] {
            assert_eq!(
                leads_into_models(name, target, symbolic),
                refused,
                "{name} -> {target}"
            );
        }
        use tar::EntryType::*;
        let mut b = tar::Builder::new(Vec::new());
        let mut h = tar::Header::new_gnu();
        h.set_entry_type(Symlink);
        h.set_size(0);
        h.set_mode(0o777);
        h.set_path("junk").unwrap();
        h.set_link_name("/models").unwrap();
        h.set_cksum();
        b.append(&h, &b""[..]).unwrap();
        let mut h = tar::Header::new_gnu();
        h.set_entry_type(Regular);
        h.set_size(9);
        h.set_mode(0o644);
        h.set_path("junk/modeling_evil.py").unwrap();
        h.set_cksum();
        b.append(&h, &b"import os"[..]).unwrap();
        let bytes = b.into_inner().unwrap();
        let err = names(&bytes, TarRoot::ModelsDir).unwrap_err();
        assert!(err.to_string().contains("leads into /models"), "{err}");
    }

    /// A layer of `(path, type, link target)` entries; regular files hold
    /// `import os`.
    fn linked_layer(entries: &[(&str, tar::EntryType, &str)]) -> Vec<u8> {
        use tar::EntryType::*;
        let mut b = tar::Builder::new(Vec::new());
        for (path, kind, target) in entries {
            let mut h = tar::Header::new_gnu();
            h.set_entry_type(*kind);
            h.set_mode(0o755);
            h.set_path(path).unwrap();
            let data: &[u8] = if *kind == Regular { b"import os" } else { b"" };
            h.set_size(data.len() as u64);
            if matches!(kind, Symlink | Link) {
                h.set_link_name(target).unwrap();
            }
            h.set_cksum();
            b.append(&h, data).unwrap();
        }
        b.into_inner().unwrap()
    }

    /// A link whose relative target is resolved from a directory that is
    /// itself a link (`q/r/s -> /t`, then `q/r/s/L -> ../models`), and a
    /// file written through a chain of directory links into the model.
    #[test]
    fn links_through_linked_directories_are_refused() {
        use tar::EntryType::*;
        let layer = linked_layer;
        let hop = layer(&[("q/r/s", Symlink, "/t"), ("q/r/s/L", Symlink, "../models")]);
        let err = names(&hop, TarRoot::ModelsDir).unwrap_err();
        assert!(err.to_string().contains("through a symbolic link"), "{err}");
        let chain = layer(&[
            ("a", Symlink, "b"),
            ("b", Symlink, "/models"),
            ("a/modeling_evil.py", Regular, ""),
        ]);
        assert!(names(&chain, TarRoot::ModelsDir).is_err());
        // Real builders write real paths: an entry written through any
        // link is refused, whatever the runtimes would make of it.
        let lookalike = layer(&[
            ("etc/alt", Symlink, "../usr"),
            ("etc/alt/lib.so", Regular, ""),
        ]);
        let err = names(&lookalike, TarRoot::ModelsDir).unwrap_err();
        assert!(err.to_string().contains("through a symbolic link"), "{err}");
        // A hard link to a symbolic link is one too, resolved from its own
        // place: `a/b/s -> ../models` (leading to a/models), then `h`
        // hard-linked to it (leading to /models).
        let hard = layer(&[
            ("a/b/s", Symlink, "../models"),
            ("h", Link, "a/b/s"),
            ("h/modeling_evil.py", Regular, ""),
        ]);
        let err = names(&hard, TarRoot::ModelsDir).unwrap_err();
        assert!(err.to_string().contains("hard link to"), "{err}");
        let real = layer(&[
            ("usr/lib/lib.so", Regular, ""),
            ("etc/alt", Symlink, "../usr"),
            ("bin/sh", Symlink, "busybox"),
        ]);
        assert!(names(&real, TarRoot::ModelsDir).is_ok());
    }

    /// Past the most links recorded, a layer is refused, not read on with
    /// links unrecorded; so are names longer than a path can be.
    #[test]
    fn too_many_links_or_too_long_a_name_refuse_the_layer() {
        let mut links = Links::default();
        for i in 0..MAX_LINKS {
            links
                .outside(&format!("l/{i}"), Some(("x", true)), false)
                .unwrap();
        }
        let err = links
            .outside("l/last", Some(("x", true)), false)
            .unwrap_err();
        assert_eq!(err, LinkError::TooManyLinks { max: MAX_LINKS });
        assert_eq!(
            err.to_string(),
            "symbolic link past the 100000 recorded outside /models"
        );
        let long = "d/".repeat(MAX_NAME / 2 + 1);
        assert_eq!(
            Links::default().outside(&long, None, true),
            Err(LinkError::NameTooLong { max: MAX_NAME })
        );
        let target = "t/".repeat(MAX_NAME / 2 + 1);
        assert_eq!(
            Links::default().outside("x", Some((&target, true)), false),
            Err(LinkError::TargetTooLong { max: MAX_NAME })
        );
    }

    /// The second review's holes: link targets that containerd resolves
    /// otherwise than a lexical reader (`x/../a/b/s` reaches a symbolic
    /// link; `a/b/c/../models` goes through one), a target cut at a NUL by
    /// Go and not by Rust, and a hard link to a file never met.
    #[test]
    fn link_targets_must_be_plain_and_hard_links_name_files_met_before() {
        let mut links = Links {
            whole: true,
            ..Links::default()
        };
        links
            .outside("a/b/s", Some(("../models", true)), false)
            .unwrap();
        links.outside("bin/busybox", None, true).unwrap();
        for (name, target, symbolic) in [
            ("h", "x/../a/b/s", false),
            ("h", "/../a/b/s", false),
            ("junk", "x/../a/b/c/../models/config.json", false),
            ("h", "a/b/s\0z", false),
            ("t", "/models\0x", true),
            ("d", "a/b/c/../models", true),
            ("h", "bin//busybox", false),
            ("h", "bin/./busybox", false),
            ("h", "usr/bin/never-met", false),
            ("h", "a/b/s", false),
        ] {
            let err = links
                .outside(name, Some((target, symbolic)), false)
                .unwrap_err();
            assert!(!err.to_string().is_empty(), "{target:?}");
        }
        // What builders write passes: hard links to files met before
        // (spelled plainly, `./` or `/` first), targets climbing with
        // leading `..`.
        for (name, target, symbolic) in [
            ("bin/sh", "bin/busybox", false),
            ("bin/ls", "./bin/busybox", false),
            ("bin/cat", "/bin/busybox", false),
            ("usr/lib/libx.so", "../../lib/libx.so.1", true),
            ("lib64", "lib", true),
        ] {
            links
                .outside(name, Some((target, symbolic)), false)
                .unwrap_or_else(|e| panic!("{name} -> {target}: {e}"));
        }
        // One layer alone cannot know the files of the layers below.
        assert!(
            Links::default()
                .outside("bin/sh", Some(("bin/busybox", false)), false)
                .is_ok()
        );
    }

    /// A link one layer sets up and a later layer writes through: each
    /// layer alone is harmless (`a/b/c -> ..`; `a/b/c/l -> ../models`,
    /// literally `a/b/models`; a file under `a/b/c/l`), but unpacked in
    /// order the file lands in /models. A base image's ordinary links
    /// used by a later layer still pass.
    #[test]
    fn links_set_up_by_one_layer_and_used_by_a_later_one_are_followed() {
        use tar::EntryType::*;
        let layer = linked_layer;
        let image = |layers: &[Vec<u8>]| -> Result<()> {
            let budget = OutsideBudget::new();
            let mut seen = Vec::new();
            for (i, bytes) in layers.iter().enumerate() {
                let mut outside = Vec::new();
                read_tar_layer(
                    &bytes[..],
                    &layer_named(TarRoot::ModelsDir, &format!("sha256:{i}")),
                    &mut outside,
                    &budget,
                    &mut |_, _, r| {
                        std::io::copy(r, &mut std::io::sink()).unwrap();
                        Ok(())
                    },
                )?;
                seen.push((format!("sha256:{i}"), outside));
            }
            links_across_layers(seen.iter().map(|(d, o)| (d.as_str(), o.as_slice())))
        };
        let evil = [
            layer(&[("a/b/c", Symlink, "..")]),
            layer(&[("a/b/c/l", Symlink, "../models")]),
            layer(&[("a/b/c/l/modeling_evil.py", Regular, "")]),
        ];
        for one in &evil {
            image(std::slice::from_ref(one)).expect("each layer alone is harmless");
        }
        let err = image(&evil).unwrap_err().to_string();
        assert!(err.contains("sha256:1") && err.contains("a/b/c/l"), "{err}");
        assert!(err.contains("through a link of a layer below"), "{err}");
        // Through a directory link of the base image into the model.
        let err = image(&[
            layer(&[("a/b/c", Symlink, "..")]),
            layer(&[("a/b/c/sub", Symlink, "../../models/sub")]),
        ]);
        assert!(err.is_err());
        let base = [
            layer(&[("lib", Directory, ""), ("lib64", Symlink, "lib")]),
            layer(&[
                ("lib/libx.so", Regular, ""),
                ("bin/sh", Symlink, "/bin/busybox"),
            ]),
            layer(&[("models/config.json", Regular, "")]),
        ];
        image(&base).expect("a base image's own links pass");
        // Written through a link of the layer below: refused.
        let through = [
            layer(&[("lib", Directory, ""), ("lib64", Symlink, "lib")]),
            layer(&[("lib64/libx.so", Regular, "")]),
        ];
        let err = image(&through).unwrap_err().to_string();
        assert!(err.contains("through a symbolic link"), "{err}");
        // A link replaced by a directory still counts (stricter than the
        // runtime, never looser).
        let replaced = [layer(&[
            ("x", Symlink, "deep/er"),
            ("x/", Directory, ""),
            ("x/y", Symlink, "../models"),
            ("x/y/modeling_evil.py", Regular, ""),
        ])];
        assert!(image(&replaced).is_err());
    }

    /// A blob declared uncompressed that starts as a compressed stream
    /// (a polyglot: a tar hidden in a zstd skippable frame or a gzip extra
    /// field, the real stream after it) is unpacked by runtimes that sniff
    /// the bytes; and bytes after the end of the archive are another place
    /// to hide entries. Both refuse the layer.
    #[test]
    fn compressed_polyglots_and_trailing_data_refuse_the_layer() {
        let ok = layer_of(&[block("models/config.json", b'0', b"{}", |_| {})]);
        assert!(names(&ok, TarRoot::ModelsDir).is_ok());
        let mut skippable = vec![0x50, 0x2a, 0x4d, 0x18, 0, 4, 0, 0];
        skippable.extend_from_slice(&ok);
        let mut gz = vec![0x1f, 0x8b, 0x08, 0x04];
        gz.extend_from_slice(&ok);
        for (what, bytes, expect) in [
            ("zstd skippable frame", skippable, "zstd skippable"),
            ("gzip header", gz, "gzip"),
            ("bzip2", [b"BZh9".to_vec(), ok.clone()].concat(), "bzip2"),
        ] {
            let err = names(&bytes, TarRoot::ModelsDir).unwrap_err().to_string();
            assert!(err.contains(expect), "{what}: {err}");
        }
        let mut trailing = ok.clone();
        trailing.extend_from_slice(&block("models/evil.py", b'0', b"import os", |_| {}));
        let err = names(&trailing, TarRoot::ModelsDir)
            .unwrap_err()
            .to_string();
        assert!(err.contains("after the end of the archive"), "{err}");
        // NUL padding to a record is what writers leave: accepted.
        let mut padded = ok.clone();
        padded.extend_from_slice(&[0u8; 8192]);
        assert!(names(&padded, TarRoot::ModelsDir).is_ok());
    }

    /// A directory entry where a signed file is (in the same layer or a
    /// later one), or a file where a signed file's directory is: the
    /// runtime removes the signed file.
    #[test]
    fn a_directory_where_a_file_is_or_a_file_under_a_file_is_found() {
        use tar::EntryType::*;
        let read = |entries: &[(&str, tar::EntryType, &[u8])]| {
            let mut outside = Vec::new();
            let mut files = std::collections::BTreeSet::new();
            read_tar_layer(
                &archive(entries)[..],
                &layer(TarRoot::ModelsDir),
                &mut outside,
                &OutsideBudget::new(),
                &mut |name, _, r| {
                    files.insert(name.to_string());
                    std::io::copy(r, &mut std::io::sink()).unwrap();
                    Ok(())
                },
            )
            .unwrap();
            model_tree_conflict(&files, [outside.as_slice()])
        };
        let dir_over_file = read(&[
            ("models/generation_config.json", Regular, b"{}"),
            ("models/generation_config.json", Directory, b""),
        ]);
        assert!(dir_over_file.unwrap().contains("a directory in one entry"));
        let file_under_file = read(&[
            ("models/sub/w.bin", Regular, b"abc"),
            ("models/sub", Regular, b"x"),
        ]);
        assert!(file_under_file.unwrap().contains("which is a file"));
        let fine = read(&[
            ("models/sub", Directory, b""),
            ("models/sub/w.bin", Regular, b"abc"),
            ("models/sub/", Directory, b""),
        ]);
        assert_eq!(fine, None);
    }

    /// The constructs a second review found readers still read apart.
    #[test]
    fn the_second_round_of_disagreements_is_refused_too() {
        let gnu = |h: &mut [u8; 512]| {
            h[257..263].copy_from_slice(b"ustar ");
            h[263..265].copy_from_slice(b" \0");
        };
        let v7 = |h: &mut [u8; 512]| h[257..265].copy_from_slice(&[0u8; 8]);
        for (what, bytes, expect) in [
            (
                "a pax path given twice",
                layer_of(&[
                    block(
                        "x",
                        b'x',
                        &pax_records(&[("path", "junk/a"), ("path", "models/evil.py")]),
                        |_| {},
                    ),
                    block("junk/a", b'0', b"import os", |_| {}),
                ]),
                "given twice",
            ),
            (
                "a v7 pax header",
                layer_of(&[
                    block("x", b'x', &pax_records(&[("path", "models/evil.py")]), v7),
                    block("junk/a", b'0', b"import os", |_| {}),
                ]),
                "no ustar or GNU format",
            ),
            (
                "a GNU header with a prefix",
                layer_of(&[block("evil.py", b'0', b"import os", |h| {
                    gnu(h);
                    h[345..351].copy_from_slice(b"models");
                })]),
                "prefix field",
            ),
            (
                "a sparse entry",
                layer_of(&[block("junk/s", b'S', b"", |h| {
                    gnu(h);
                    // A real size of 0 (GNU's realsize field, octal).
                    h[483..495].copy_from_slice(b"00000000000\0");
                })]),
                "sparse entry",
            ),
            (
                "a pax path beside a GNU long name",
                layer_of(&[
                    block(
                        "x",
                        b'x',
                        &pax_records(&[("path", "models/evil.py")]),
                        |_| {},
                    ),
                    block("././@LongLink", b'L', b"junk/a\0", gnu),
                    block("junk/a", b'0', b"import os", gnu),
                ]),
                "pax path",
            ),
            (
                "an mtime with a sign",
                layer_of(&[block("models/a", b'0', b"abc", |h| {
                    h[136..148].copy_from_slice(b"+0000000001\0");
                })]),
                "mtime field",
            ),
            (
                "a uid with an underscore (Python's int() takes it)",
                layer_of(&[block("models/a", b'0', b"abc", |h| {
                    h[108..116].copy_from_slice(b"0_00001\0");
                })]),
                "uid field",
            ),
            (
                "a STAR trailer",
                layer_of(&[block("evil.py", b'0', b"import os", |h| {
                    h[345..476].copy_from_slice(&[b'a'; 131]);
                    h[476..482].copy_from_slice(b"models");
                    h[508..512].copy_from_slice(b"tar\0");
                })]),
                "STAR trailer",
            ),
            (
                "a pax linkpath beside a GNU long link name",
                layer_of(&[
                    block("x", b'x', &pax_records(&[("linkpath", "models/a")]), |_| {}),
                    block("././@LongLink", b'K', b"junk/a\0", gnu),
                    block("junk/l", b'2', b"", gnu),
                ]),
                "pax linkpath",
            ),
            (
                "a pax size with a space",
                layer_of(&[
                    block("x", b'x', &pax_records(&[("size", " 9")]), |_| {}),
                    block("models/a", b'0', b"import os", |_| {}),
                ]),
                "plain digits",
            ),
        ] {
            let err = names(&bytes, TarRoot::ModelsDir).unwrap_err();
            assert!(err.to_string().contains(expect), "{what}: {err}");
        }
    }

    /// The typed reasons read as the text they replaced: bytes shown
    /// lossily as UTF-8, quoted as before.
    #[test]
    fn ambiguous_entries_read_as_they_always_did() {
        let lossy = |b: &[u8]| format!("{:?}", String::from_utf8_lossy(b));
        for (error, message) in [
            (
                AmbiguousEntry::Format {
                    magic: vec![0; 6],
                    version: b"0\xff".to_vec(),
                },
                format!(
                    "a header of no ustar or GNU format (magic {}, version {}): readers disagree on its name",
                    lossy(&[0; 6]),
                    lossy(b"0\xff")
                ),
            ),
            (
                AmbiguousEntry::Number {
                    field: "mtime",
                    value: b"+0000000001\0".to_vec(),
                },
                r#"the mtime field "+0000000001\0" is not a plain number: Python stops reading the layer there, Go fails, others read on"#
                    .to_string(),
            ),
            (
                AmbiguousEntry::PaxPath {
                    value: b"models/evil.py".to_vec(),
                    name: b"junk/a".to_vec(),
                },
                r#"a pax path "models/evil.py" beside another name "junk/a": readers pick different ones"#
                    .to_string(),
            ),
            (
                AmbiguousEntry::DataWithoutData {
                    name: b"d/".to_vec(),
                    kind: tar::EntryType::Directory,
                    size: 3,
                },
                format!(
                    "{:?}: a {:?} entry with 3 bytes of data (readers disagree where the next entry starts)",
                    "d/",
                    tar::EntryType::Directory
                ),
            ),
        ] {
            assert_eq!(error.to_string(), message);
        }
        assert_eq!(
            LinkError::IntoModels {
                target: "../models".into()
            }
            .to_string(),
            r#"link to "../models", which leads into /models"#
        );
    }

    /// The model files Go's archive/tar finds under `models/` (regular
    /// entries, names without the prefix), or its error; built once from
    /// tests/differential/go_tar.
    fn go_model_files(bytes: &[u8]) -> Result<Vec<String>, String> {
        static HELPER: std::sync::OnceLock<std::path::PathBuf> = std::sync::OnceLock::new();
        let helper = HELPER.get_or_init(|| {
            let root = std::path::Path::new(concat!(env!("CARGO_MANIFEST_DIR"), "/../.."));
            let dir = std::env::temp_dir().join(format!("modelseal-go-tar-{}", std::process::id()));
            std::fs::create_dir_all(&dir).unwrap();
            let out = dir.join("go_tar");
            let built = std::process::Command::new("go")
                .args(["build", "-o"])
                .arg(&out)
                .arg(root.join("tests/differential/go_tar/main.go"))
                .output()
                .expect("go runs (scripts/install-test-deps.sh installs it)");
            assert!(
                built.status.success(),
                "{}",
                String::from_utf8_lossy(&built.stderr)
            );
            out
        });
        // Regular files: '0' (48) or the old-style NUL (0).
        peer_model_files(std::process::Command::new(helper), bytes, &["48", "0"])
    }

    /// The model files Python's tarfile finds under `models/` (regular
    /// members, names without the prefix), or its error.
    fn python_model_files(bytes: &[u8]) -> Result<Vec<String>, String> {
        let root = std::path::Path::new(concat!(env!("CARGO_MANIFEST_DIR"), "/../.."));
        let mut python = std::process::Command::new("python3");
        python.arg(root.join("tests/differential/py_tar.py"));
        peer_model_files(python, bytes, &["file"])
    }

    /// Runs a peer reader (`TYPE SIZE NAME` lines) on a layer of `bytes`:
    /// the names under `models/` of the entries whose type is one of
    /// `regular`, without the prefix, or the peer's error.
    fn peer_model_files(
        mut peer: std::process::Command,
        bytes: &[u8],
        regular: &[&str],
    ) -> Result<Vec<String>, String> {
        let file = tempfile::NamedTempFile::new().unwrap();
        std::fs::write(file.path(), bytes).unwrap();
        let run = peer
            .arg(file.path())
            .output()
            .expect("the peer reader runs");
        let text = String::from_utf8_lossy(&run.stdout).to_string();
        if !run.status.success() {
            return Err(text);
        }
        Ok(text
            .lines()
            .filter_map(|l| {
                let mut parts = l.splitn(3, ' ');
                let (kind, _size, name) = (parts.next()?, parts.next()?, parts.next()?);
                regular
                    .contains(&kind)
                    .then(|| name.strip_prefix("models/").map(str::to_string))
                    .flatten()
            })
            .collect())
    }

    /// What this reader accepts, Go and Python read with the same model
    /// files; where either would find a file this reader would not, the
    /// layer is refused.
    #[test]
    fn accepted_layers_hold_the_same_model_files_for_go_and_python() {
        let next = block("models/modeling_evil.py", b'0', b"import os", |_| {});
        let long = format!("models/{}/w.bin", "d".repeat(120));
        let layers: Vec<(&str, Vec<u8>, bool)> = vec![
            (
                "plain",
                layer_of(&[
                    block("models/", b'5', b"", |_| {}),
                    block("models/config.json", b'0', b"{}", |_| {}),
                ]),
                true,
            ),
            (
                "pax path",
                layer_of(&[
                    block("x", b'x', &pax_records(&[("path", &long)]), |_| {}),
                    block("short", b'0', b"abc", |_| {}),
                ]),
                true,
            ),
            (
                "ustar prefix",
                layer_of(&[block("w.bin", b'0', b"abc", |h| {
                    h[345..351].copy_from_slice(b"models");
                })]),
                true,
            ),
            (
                "old-style directory name",
                layer_of(&[block("junk/", 0, &next, |_| {})]),
                false,
            ),
            (
                "ustar magic, GNU version",
                layer_of(&[block("modeling_evil.py", b'0', b"import os", |h| {
                    h[263..265].copy_from_slice(b"  ");
                    h[345..351].copy_from_slice(b"models");
                })]),
                false,
            ),
            (
                "directory with data",
                layer_of(&[block("junk/", b'5', &next, |_| {})]),
                false,
            ),
            (
                "a broken mtime before the evil file",
                layer_of(&[
                    block("models/config.json", b'0', b"{}", |_| {}),
                    block("junk/x", b'0', b"", |h| {
                        h[136..148].copy_from_slice(b"zzzzzzzzzzz\0")
                    }),
                    next.clone(),
                ]),
                false,
            ),
            (
                "GNU.sparse.name",
                layer_of(&[
                    block(
                        "junk/pax",
                        b'x',
                        &pax_records(&[
                            ("GNU.sparse.major", "0"),
                            ("GNU.sparse.minor", "1"),
                            ("GNU.sparse.name", "models/modeling_evil.py"),
                            ("GNU.sparse.map", "0,9"),
                            ("GNU.sparse.size", "9"),
                        ]),
                        |_| {},
                    ),
                    block("junk/placeholder", b'0', b"import os", |_| {}),
                ]),
                false,
            ),
        ];
        for (what, bytes, accepted) in layers {
            let ours = names(&bytes, TarRoot::ModelsDir);
            let go = go_model_files(&bytes);
            let python = python_model_files(&bytes);
            assert_eq!(ours.is_ok(), accepted, "{what}: {ours:?} (Go: {go:?})");
            match ours {
                Ok(files) => {
                    let ours: Vec<String> = files.into_iter().map(|(n, _)| n).collect();
                    assert_eq!(Ok(ours.clone()), go, "{what}: Go");
                    assert_eq!(Ok(ours), python, "{what}: Python");
                }
                // The attacks: Go or Python would have put the unsigned
                // file in the model (or failed), which is why the layer is
                // refused.
                Err(_) => {
                    let evil = |r: &Result<Vec<String>, String>| {
                        r.as_ref()
                            .map_or(true, |f| f.iter().any(|n| n == "modeling_evil.py"))
                    };
                    assert!(
                        evil(&go) || evil(&python),
                        "{what}: Go {go:?}, Python {python:?}"
                    );
                }
            }
        }
    }
}
