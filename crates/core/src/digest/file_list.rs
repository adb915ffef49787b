//! The files a walk found, held compactly (a dataset can have millions):
//! names in one text buffer, what a stat said about each file, and where
//! its bytes are read from (its directory, or a link's resolved target).

use std::os::unix::fs::MetadataExt;
use std::path::{Path, PathBuf};

/// What the walk saw of a file: hashing refuses a file that is no longer
/// this one (replaced, resized or written since).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct FileStat {
    /// Size in bytes.
    pub size: u64,
    /// Device.
    pub dev: u64,
    /// Inode.
    pub ino: u64,
    /// Modification time (seconds, nanoseconds).
    pub mtime: (i64, i64),
}

impl FileStat {
    /// The parts of `meta` a change would alter.
    pub fn of(meta: &std::fs::Metadata) -> Self {
        FileStat {
            size: meta.len(),
            dev: meta.dev(),
            ino: meta.ino(),
            mtime: (meta.mtime(), meta.mtime_nsec()),
        }
    }
}

/// Where an entry's bytes are.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) enum Source {
    /// In this directory, under the entry's base name.
    Dir(PathBuf),
    /// At this path (the resolved target of a symbolic link).
    File(PathBuf),
}

/// The regular files of a model, sorted by name once [`FileList::sort`]
/// has run.
#[derive(Debug, Clone, Default)]
pub struct FileList {
    names: String,
    name_ends: Vec<usize>,
    stats: Vec<FileStat>,
    source_of: Vec<u32>,
    sources: Vec<Source>,
}

impl FileList {
    /// The number of files.
    pub fn len(&self) -> usize {
        self.name_ends.len()
    }

    /// Whether there is none.
    pub fn is_empty(&self) -> bool {
        self.name_ends.is_empty()
    }

    /// The resource name of file `i`.
    pub fn name(&self, i: usize) -> &str {
        let start = if i == 0 { 0 } else { self.name_ends[i - 1] };
        &self.names[start..self.name_ends[i]]
    }

    /// What the walk saw of file `i`.
    pub fn stat(&self, i: usize) -> &FileStat {
        &self.stats[i]
    }

    /// Where to read file `i`.
    pub fn path(&self, i: usize) -> PathBuf {
        match &self.sources[self.source_of[i] as usize] {
            Source::Dir(dir) => {
                let name = self.name(i);
                dir.join(name.rsplit('/').next().unwrap_or(name))
            }
            Source::File(path) => path.clone(),
        }
    }

    /// Whether file `i` was reached through a symbolic link to it.
    pub fn is_link(&self, i: usize) -> bool {
        matches!(self.sources[self.source_of[i] as usize], Source::File(_))
    }

    /// The total size of all files.
    pub fn total_size(&self) -> u64 {
        self.stats.iter().map(|s| s.size).sum()
    }

    /// Adds a source; entries refer to it by the index returned.
    pub(crate) fn add_source(&mut self, source: Source) -> u32 {
        self.sources.push(source);
        (self.sources.len() - 1) as u32
    }

    /// Adds a file read from source `source`.
    pub(crate) fn push(&mut self, name: &str, stat: FileStat, source: u32) {
        self.names.push_str(name);
        self.name_ends.push(self.names.len());
        self.stats.push(stat);
        self.source_of.push(source);
    }

    /// Appends every file of `other`.
    pub(crate) fn append(&mut self, other: FileList) {
        let base = self.sources.len() as u32;
        self.sources.extend(other.sources);
        let offset = self.names.len();
        self.names.push_str(&other.names);
        self.name_ends
            .extend(other.name_ends.iter().map(|e| e + offset));
        self.stats.extend(other.stats);
        self.source_of
            .extend(other.source_of.iter().map(|s| s + base));
    }

    /// Keeps the files for which `keep(name)` holds.
    pub fn retain(&mut self, mut keep: impl FnMut(&str) -> bool) {
        let order: Vec<usize> = (0..self.len()).filter(|&i| keep(self.name(i))).collect();
        if order.len() != self.len() {
            *self = self.permuted(&order);
        }
    }

    /// Sorts the files by name, byte-wise.
    pub fn sort(&mut self) {
        let sorted = (1..self.len()).all(|i| self.name(i - 1) <= self.name(i));
        if sorted {
            return;
        }
        let mut order: Vec<usize> = (0..self.len()).collect();
        {
            use rayon::slice::ParallelSliceMut;
            let this = &*self;
            order.par_sort_unstable_by(|&a, &b| this.name(a).cmp(this.name(b)));
        }
        *self = self.permuted(&order);
    }

    fn permuted(&self, order: &[usize]) -> FileList {
        let mut out = FileList {
            names: String::with_capacity(self.names.len()),
            name_ends: Vec::with_capacity(order.len()),
            stats: Vec::with_capacity(order.len()),
            source_of: Vec::with_capacity(order.len()),
            sources: self.sources.clone(),
        };
        for &i in order {
            out.names.push_str(self.name(i));
            out.name_ends.push(out.names.len());
            out.stats.push(self.stats[i]);
            out.source_of.push(self.source_of[i]);
        }
        out
    }

    /// Takes the name buffer and the name ends (for building resources
    /// without copying the names again).
    pub(crate) fn into_names(self) -> (String, Vec<usize>) {
        (self.names, self.name_ends)
    }

    /// A single file, named `name`, read from `path`.
    pub(crate) fn single(name: &str, path: &Path, stat: FileStat) -> Self {
        let mut list = FileList::default();
        let source = list.add_source(Source::File(path.to_path_buf()));
        list.push(name, stat, source);
        list
    }
}
