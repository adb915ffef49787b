//! Enumerating the regular files of a model (OMS section 6.1), directories
//! in parallel, following symbolic links only as far as the caller allows.
//!
//! Links (OMS section 6.1.1, when `allow_symlinks` is set): a link to a
//! regular file is a resource named by the link and read from its target;
//! a link to a directory is walked under the link's name, so a directory
//! reached through two links is listed under both names. A link back to a
//! directory on the current path (compared by device and inode along the
//! chain of ancestors, not with a global visited set) is a cycle: noted and
//! not followed. Dangling links and links to anything else are errors. How
//! far a target may lie is the [`LinkScope`]: a verifier never reads files
//! outside the model root unless it opted in. A fan-out of links (a few
//! links that reach the same directories over and over) is bounded by a
//! budget on the entries found through directory links and by the depth.

use super::file_list::{FileList, FileStat, Source};
use super::{IgnoreSet, WalkError};
use crate::{Error, Result};
use serde::Serialize;
use std::fs;
use std::path::{Path, PathBuf};
use std::sync::atomic::{AtomicBool, AtomicUsize, Ordering};
use std::sync::{Arc, Mutex};

/// Directory depth beyond which the walk gives up rather than recurse further.
pub const MAX_DEPTH: usize = 256;

/// The most entries (files and directories) the walk lists inside
/// directories reached through symbolic links: links that fan out to the
/// same directories again and again are refused before they exhaust the
/// machine.
pub const MAX_LINKED_ENTRIES: usize = 1 << 21;

/// Most bytes of names, in all, of the entries reached through symbolic
/// links: the entry budget alone lets long names fan out to gigabytes.
pub const MAX_LINKED_NAME_BYTES: usize = 64 << 20;

/// How far symbolic links may lead when a model allows them.
#[derive(Debug, Clone, PartialEq, Eq, Default)]
#[non_exhaustive]
pub enum LinkScope {
    /// No link is followed: each one is refused.
    Nowhere,
    /// Links are followed while their targets stay inside the model root.
    #[default]
    WithinRoot,
    /// Links are followed while their targets stay inside this directory
    /// (one that encloses the model, such as a Hugging Face cache
    /// repository).
    Within(PathBuf),
    /// Links are followed wherever they lead (what a signer chose to sign,
    /// or a verifier that opted in).
    Anywhere,
}

/// What to list.
#[derive(Debug, Clone)]
pub struct WalkOptions<'a> {
    /// Follow symbolic links (else every link is an error).
    pub allow_symlinks: bool,
    /// How far links may lead.
    pub scope: &'a LinkScope,
    /// Paths left out.
    pub ignore: &'a IgnoreSet,
    /// The budget of entries listed inside directories reached through
    /// links ([`MAX_LINKED_ENTRIES`] unless a caller wants less).
    pub max_linked_entries: usize,
}

impl<'a> WalkOptions<'a> {
    /// Options with the default budget.
    pub fn new(allow_symlinks: bool, scope: &'a LinkScope, ignore: &'a IgnoreSet) -> Self {
        WalkOptions {
            allow_symlinks,
            scope,
            ignore,
            max_linked_entries: MAX_LINKED_ENTRIES,
        }
    }
}

/// Something about the links of a model worth reporting that did not stop
/// the walk.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
#[serde(tag = "kind", rename_all = "kebab-case")]
#[non_exhaustive]
pub enum WalkNote {
    /// A link was followed to a target outside the model root.
    LinkOutsideRoot {
        /// The link's resource name.
        path: String,
        /// Where it resolves.
        target: String,
    },
    /// A link points to a directory on its own path; it was not followed.
    LinkCycle {
        /// The link's resource name.
        path: String,
    },
}

/// What a walk found.
#[derive(Debug, Clone)]
pub struct Walked {
    /// The model root, resolved.
    pub root: PathBuf,
    /// The regular files, sorted by name.
    pub files: FileList,
    /// Links outside the root and cycles, sorted by link name.
    pub notes: Vec<WalkNote>,
}

/// One regular file of the model (the materialised form of a walk, for
/// small trees and callers that want owned paths).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Entry {
    /// The canonical resource name: relative, `/`-separated, UTF-8.
    pub name: String,
    /// Where to read the bytes (the link target for a followed symlink).
    pub path: PathBuf,
    /// The size seen while walking.
    pub size: u64,
}

/// Lists the regular files of the model at `path`, sorted by name
/// (byte-wise), following links that stay inside the model root when
/// `allow_symlinks` is set.
pub fn walk(path: &Path, allow_symlinks: bool, ignore: &IgnoreSet) -> Result<Vec<Entry>> {
    let walked = walk_model(
        path,
        &WalkOptions::new(allow_symlinks, &LinkScope::WithinRoot, ignore),
    )?;
    let files = &walked.files;
    Ok((0..files.len())
        .map(|i| Entry {
            name: files.name(i).to_string(),
            path: files.path(i),
            size: files.stat(i).size,
        })
        .collect())
}

/// Lists the regular files of the model at `path` (a directory or a single
/// file, named by its base name), sorted by name, as `options` say.
///
/// Names that are not UTF-8 and special files (FIFOs, sockets, devices)
/// are errors, since they cannot be signed faithfully.
pub fn walk_model(path: &Path, options: &WalkOptions<'_>) -> Result<Walked> {
    let root = fs::canonicalize(path).map_err(|e| Error::io(path, e))?;
    let meta = fs::metadata(&root).map_err(|e| Error::io(path, e))?;
    if meta.is_file() {
        let name = root
            .file_name()
            .and_then(|n| n.to_str())
            .ok_or_else(|| {
                Error::Walk(WalkError::NotUtf8 {
                    path: path.display().to_string(),
                })
            })?
            .to_string();
        return Ok(Walked {
            files: FileList::single(&name, &root, FileStat::of(&meta)),
            root,
            notes: Vec::new(),
        });
    }
    if !meta.is_dir() {
        return Err(Error::Walk(WalkError::NotFileOrDir {
            path: path.display().to_string(),
        }));
    }
    let scope = match options.scope {
        LinkScope::Nowhere => Scope::Nowhere,
        LinkScope::WithinRoot => Scope::Within(root.clone()),
        LinkScope::Within(dir) => {
            Scope::Within(fs::canonicalize(dir).map_err(|e| Error::io(dir, e))?)
        }
        LinkScope::Anywhere => Scope::Anywhere,
    };
    let shared = Shared {
        root: &root,
        allow_symlinks: options.allow_symlinks,
        scope,
        ignore: options.ignore,
        max_linked: options.max_linked_entries,
        out: Mutex::new(FileList::default()),
        notes: Mutex::new(Vec::new()),
        error: Mutex::new(None),
        stop: AtomicBool::new(false),
        linked: AtomicUsize::new(0),
        linked_bytes: AtomicUsize::new(0),
    };
    let top = Arc::new(Ancestor::of(&meta, None));
    rayon::scope(|s| {
        shared.dir(
            s,
            Visit {
                dir: root.clone(),
                prefix: String::new(),
                ancestors: top,
                depth: 0,
                via_link: false,
            },
        )
    });
    if let Some((_, error)) = shared.error.into_inner().unwrap_or_else(|p| p.into_inner()) {
        return Err(error);
    }
    let mut files = shared.out.into_inner().unwrap_or_else(|p| p.into_inner());
    files.sort();
    let mut notes = shared.notes.into_inner().unwrap_or_else(|p| p.into_inner());
    notes.sort_by(|a, b| note_path(a).cmp(note_path(b)));
    Ok(Walked { root, files, notes })
}

fn note_path(note: &WalkNote) -> &str {
    match note {
        WalkNote::LinkOutsideRoot { path, .. } | WalkNote::LinkCycle { path } => path,
    }
}

enum Scope {
    Nowhere,
    Within(PathBuf),
    Anywhere,
}

/// A directory on the current path, by device and inode.
struct Ancestor {
    dev: u64,
    ino: u64,
    parent: Option<Arc<Ancestor>>,
}

impl Ancestor {
    fn of(meta: &fs::Metadata, parent: Option<Arc<Ancestor>>) -> Self {
        use std::os::unix::fs::MetadataExt;
        Ancestor {
            dev: meta.dev(),
            ino: meta.ino(),
            parent,
        }
    }

    fn contains(&self, meta: &fs::Metadata) -> bool {
        use std::os::unix::fs::MetadataExt;
        let mut at = Some(self);
        while let Some(a) = at {
            if a.dev == meta.dev() && a.ino == meta.ino() {
                return true;
            }
            at = a.parent.as_deref();
        }
        false
    }
}

/// One directory to list.
struct Visit {
    /// Where to read it.
    dir: PathBuf,
    /// The resource name of the directory ("" for the root).
    prefix: String,
    /// The directories on the path to it, itself included.
    ancestors: Arc<Ancestor>,
    depth: usize,
    /// Whether a directory link was followed on the way here.
    via_link: bool,
}

struct Shared<'a> {
    root: &'a Path,
    allow_symlinks: bool,
    scope: Scope,
    ignore: &'a IgnoreSet,
    max_linked: usize,
    out: Mutex<FileList>,
    notes: Mutex<Vec<WalkNote>>,
    /// The error at the smallest name seen so far.
    error: Mutex<Option<(String, Error)>>,
    stop: AtomicBool,
    linked: AtomicUsize,
    /// Bytes of names reached through links so far.
    linked_bytes: AtomicUsize,
}

/// What to do with one directory entry.
enum Found {
    File(FileStat, Option<PathBuf>),
    Dir(Visit),
    Nothing,
}

impl Shared<'_> {
    fn fail(&self, at: &str, error: Error) {
        self.stop.store(true, Ordering::Relaxed);
        let mut slot = self.error.lock().unwrap_or_else(|p| p.into_inner());
        if slot.as_ref().is_none_or(|(name, _)| at < name.as_str()) {
            *slot = Some((at.to_string(), error));
        }
    }

    fn dir<'scope>(&'scope self, s: &rayon::Scope<'scope>, visit: Visit) {
        if self.stop.load(Ordering::Relaxed) {
            return;
        }
        if visit.depth > MAX_DEPTH {
            self.fail(
                &visit.prefix,
                Error::Walk(WalkError::TooDeep {
                    path: visit.prefix.clone(),
                    max: MAX_DEPTH,
                }),
            );
            return;
        }
        let reader = match fs::read_dir(&visit.dir) {
            Ok(r) => r,
            Err(e) => return self.fail(&visit.prefix, Error::io(&visit.dir, e)),
        };
        let mut chunk = FileList::default();
        let here = chunk.add_source(Source::Dir(visit.dir.clone()));
        for item in reader {
            if self.stop.load(Ordering::Relaxed) {
                return;
            }
            let item = match item {
                Ok(item) => item,
                Err(e) => return self.fail(&visit.prefix, Error::io(&visit.dir, e)),
            };
            let file_name = item.file_name();
            let Some(name) = file_name.to_str() else {
                let path = item.path().display().to_string();
                return self.fail(&visit.prefix, Error::Walk(WalkError::NotUtf8 { path }));
            };
            let rel = if visit.prefix.is_empty() {
                name.to_string()
            } else {
                format!("{}/{name}", visit.prefix)
            };
            if self.ignore.matches(&rel) {
                continue;
            }
            if visit.via_link && self.linked.fetch_add(1, Ordering::Relaxed) >= self.max_linked {
                let error = WalkError::LinkFanOut {
                    path: rel.clone(),
                    max: self.max_linked,
                };
                return self.fail(&rel, Error::Walk(error));
            }
            if visit.via_link
                && self.linked_bytes.fetch_add(rel.len(), Ordering::Relaxed)
                    >= MAX_LINKED_NAME_BYTES
            {
                let error = WalkError::LinkNamesTooLong {
                    path: rel.clone(),
                    max: MAX_LINKED_NAME_BYTES,
                };
                return self.fail(&rel, Error::Walk(error));
            }
            match self.entry(&item, &rel, &visit) {
                Ok(Found::File(stat, None)) => chunk.push(&rel, stat, here),
                Ok(Found::File(stat, Some(target))) => {
                    let source = chunk.add_source(Source::File(target));
                    chunk.push(&rel, stat, source);
                }
                Ok(Found::Dir(child)) => s.spawn(move |s| self.dir(s, child)),
                Ok(Found::Nothing) => {}
                Err(e) => return self.fail(&rel, e),
            }
        }
        if !chunk.is_empty() {
            self.out
                .lock()
                .unwrap_or_else(|p| p.into_inner())
                .append(chunk);
        }
    }

    fn entry(&self, item: &fs::DirEntry, rel: &str, visit: &Visit) -> Result<Found> {
        let file_type = item.file_type().map_err(|e| Error::io(item.path(), e))?;
        if file_type.is_symlink() {
            return self.link(&item.path(), rel, visit);
        }
        let meta = item.metadata().map_err(|e| Error::io(item.path(), e))?;
        if meta.is_dir() {
            Ok(self.subdir(visit, rel, item.path(), &meta, false))
        } else if meta.is_file() {
            Ok(Found::File(FileStat::of(&meta), None))
        } else {
            Err(Error::Walk(WalkError::Special {
                path: rel.to_string(),
            }))
        }
    }

    fn subdir(
        &self,
        visit: &Visit,
        rel: &str,
        dir: PathBuf,
        meta: &fs::Metadata,
        link: bool,
    ) -> Found {
        if visit.ancestors.contains(meta) {
            self.note(WalkNote::LinkCycle {
                path: rel.to_string(),
            });
            return Found::Nothing;
        }
        Found::Dir(Visit {
            dir,
            prefix: rel.to_string(),
            ancestors: Arc::new(Ancestor::of(meta, Some(visit.ancestors.clone()))),
            depth: visit.depth + 1,
            via_link: visit.via_link || link,
        })
    }

    fn note(&self, note: WalkNote) {
        self.notes
            .lock()
            .unwrap_or_else(|p| p.into_inner())
            .push(note);
    }

    fn link(&self, link: &Path, rel: &str, visit: &Visit) -> Result<Found> {
        let refused = || {
            Error::Walk(WalkError::Symlink {
                path: rel.to_string(),
            })
        };
        if !self.allow_symlinks {
            return Err(refused());
        }
        let target = fs::canonicalize(link).map_err(|e| {
            Error::Walk(WalkError::Dangling {
                path: rel.to_string(),
                detail: e.to_string(),
            })
        })?;
        match &self.scope {
            Scope::Nowhere => return Err(refused()),
            Scope::Within(dir) if !target.starts_with(dir) => {
                return Err(Error::Walk(WalkError::SymlinkOutside {
                    path: rel.to_string(),
                    target: target.display().to_string(),
                }));
            }
            _ => {}
        }
        let meta = fs::metadata(&target).map_err(|e| {
            Error::Walk(WalkError::Dangling {
                path: rel.to_string(),
                detail: e.to_string(),
            })
        })?;
        if !meta.is_dir() && !meta.is_file() {
            return Err(Error::Walk(WalkError::SymlinkTarget {
                path: rel.to_string(),
            }));
        }
        let outside = (!target.starts_with(self.root)).then(|| WalkNote::LinkOutsideRoot {
            path: rel.to_string(),
            target: target.display().to_string(),
        });
        let found = if meta.is_dir() {
            self.subdir(visit, rel, target, &meta, true)
        } else {
            Found::File(FileStat::of(&meta), Some(target))
        };
        if let (Some(note), Found::Dir(_) | Found::File(..)) = (outside, &found) {
            self.note(note);
        }
        Ok(found)
    }
}

#[cfg(test)]
mod tests;
