//! Reading file arguments: every key, certificate, checkpoint, checklist,
//! policy, BOM, bundle, document and artifact named on the command line or
//! in a policy is read through [`read_file`] (or streamed through
//! [`open_file`]) with a cap fit for its kind.
//!
//! - Only regular files and pipes are read. Directories, devices and sockets
//!   are refused before they are opened (opening some devices has effects).
//! - A read never asks for more than the cap plus one byte, so `/dev/zero`
//!   behind a symlink, a file that grows while read, or an endless pipe end
//!   in a refusal, not in exhausted memory.
//! - Pipes stay usable (`--key <(secret-tool lookup ...)`), but never block
//!   for ever: files are opened without blocking; a named pipe that no one
//!   has open for writing is refused at once, and a writer that goes silent
//!   for [`pipe_timeout`] is given up on.
//! - A regular file whose size or modification time changes while it is
//!   read is refused.

use rustix::event::{PollFd, PollFlags, Timespec, poll};
use std::fs::{File, Metadata};
use std::io::{ErrorKind, Read};
use std::os::unix::fs::{FileTypeExt, MetadataExt, OpenOptionsExt};
use std::path::{Path, PathBuf};
use std::sync::atomic::{AtomicU64, Ordering};
use std::time::Duration;

/// Most bytes of a key file (a PEM key is a few hundred bytes).
pub const MAX_KEY: u64 = 64 << 10;
/// Most bytes of a certificate file (a PEM chain of a few certificates).
pub const MAX_CERTIFICATE: u64 = 1 << 20;
/// Most bytes of a signed checkpoint (three lines and a few signatures).
pub const MAX_CHECKPOINT: u64 = 64 << 10;
/// Most bytes of a deploy-gate policy (TOML).
pub const MAX_POLICY: u64 = 1 << 20;
/// Most bytes of an audit checklist (TOML).
pub const MAX_CHECKLIST: u64 = 1 << 20;
/// Most bytes of a Sigstore trusted root (JSON with a few certificates).
pub const MAX_TRUSTED_ROOT: u64 = 16 << 20;
/// Most bytes of a reviewed document attached as evidence.
pub const MAX_DOCUMENT: u64 = 256 << 20;
/// Most bytes of an evidence log (JSON Lines; about a million records).
pub const MAX_EVIDENCE_LOG: u64 = 1 << 30;
/// How long a pipe may stay silent by default; `MODELSEAL_PIPE_TIMEOUT`
/// (seconds) overrides it.
const DEFAULT_PIPE_TIMEOUT_SECS: u64 = 60;

/// What a file argument holds: its name in messages and the most bytes read.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
#[non_exhaustive]
pub enum InputKind {
    /// A PEM public or private key ([`MAX_KEY`]).
    Key,
    /// PEM certificates ([`MAX_CERTIFICATE`]).
    Certificate,
    /// A signed checkpoint ([`MAX_CHECKPOINT`]).
    Checkpoint,
    /// A deploy-gate policy ([`MAX_POLICY`]).
    Policy,
    /// An audit checklist ([`MAX_CHECKLIST`]).
    Checklist,
    /// A Sigstore trusted root ([`MAX_TRUSTED_ROOT`]).
    TrustedRoot,
    /// A reviewed document ([`MAX_DOCUMENT`]).
    Document,
    /// An evidence log ([`MAX_EVIDENCE_LOG`]).
    EvidenceLog,
    /// A BOM, at most this many bytes (the caller derives the cap).
    Bom(u64),
    /// A signature bundle, at most this many bytes (the caller derives it).
    Bundle(u64),
    /// A signed artifact, at most this many bytes.
    Artifact(u64),
}

impl InputKind {
    /// The most bytes a file of this kind may hold.
    pub fn limit(self) -> u64 {
        match self {
            InputKind::Key => MAX_KEY,
            InputKind::Certificate => MAX_CERTIFICATE,
            InputKind::Checkpoint => MAX_CHECKPOINT,
            InputKind::Policy => MAX_POLICY,
            InputKind::Checklist => MAX_CHECKLIST,
            InputKind::TrustedRoot => MAX_TRUSTED_ROOT,
            InputKind::Document => MAX_DOCUMENT,
            InputKind::EvidenceLog => MAX_EVIDENCE_LOG,
            InputKind::Bom(max) | InputKind::Bundle(max) | InputKind::Artifact(max) => max,
        }
    }

    /// The kind's name in messages.
    pub fn name(self) -> &'static str {
        match self {
            InputKind::Key => "key",
            InputKind::Certificate => "certificate",
            InputKind::Checkpoint => "checkpoint",
            InputKind::Policy => "policy",
            InputKind::Checklist => "checklist",
            InputKind::TrustedRoot => "trusted root",
            InputKind::Document => "document",
            InputKind::EvidenceLog => "evidence log",
            InputKind::Bom(_) => "BOM",
            InputKind::Bundle(_) => "bundle",
            InputKind::Artifact(_) => "artifact",
        }
    }
}

/// Why a file argument cannot be read. Each is a refusal with exit code 2.
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum InputError {
    /// A directory was given.
    #[error("{}: is a directory, not a {kind} file", path.display())]
    Directory {
        /// The path given.
        path: PathBuf,
        /// What was expected.
        kind: &'static str,
    },
    /// A device or socket was given.
    #[error("{}: is a {what}, not a {kind} file", path.display())]
    NotAFile {
        /// The path given.
        path: PathBuf,
        /// What it is instead ("character device", "block device", "socket").
        what: &'static str,
        /// What was expected.
        kind: &'static str,
    },
    /// A named pipe that no process has open for writing.
    #[error("{}: is a named pipe with no writer (nothing would ever be read from it)", path.display())]
    NoWriter {
        /// The path given.
        path: PathBuf,
    },
    /// A pipe whose writer stopped sending.
    #[error("{}: the pipe sent nothing for {} s; giving up", path.display(), timeout.as_secs_f32())]
    Stalled {
        /// The path given.
        path: PathBuf,
        /// How long it was waited for.
        timeout: Duration,
    },
    /// More bytes than the kind allows.
    #[error("{}: is larger than {max} bytes, the most read for a {kind} file", path.display())]
    TooLarge {
        /// The path given.
        path: PathBuf,
        /// What was expected.
        kind: &'static str,
        /// The cap.
        max: u64,
    },
    /// The file changed (size or modification time) while it was read.
    #[error("{}: changed while it was read", path.display())]
    Changed {
        /// The path given.
        path: PathBuf,
    },
    /// Text was expected.
    #[error("{}: is not UTF-8 text", path.display())]
    NotText {
        /// The path given.
        path: PathBuf,
    },
    /// The operating system refused.
    #[error("{}: {source}", path.display())]
    Io {
        /// The path given.
        path: PathBuf,
        /// The underlying error.
        source: std::io::Error,
    },
}

impl InputError {
    /// The error behind an I/O error from an [`Input`] read (which wraps
    /// it), or that I/O error about `path`.
    pub fn from_io(path: &Path, error: std::io::Error) -> Self {
        if !error.get_ref().is_some_and(|e| e.is::<InputError>()) {
            return InputError::Io {
                path: path.to_path_buf(),
                source: error,
            };
        }
        match error.into_inner().map(|e| e.downcast::<InputError>()) {
            Some(Ok(inner)) => *inner,
            // Not reached: the error was checked to wrap an InputError.
            _ => InputError::Io {
                path: path.to_path_buf(),
                source: std::io::Error::other("unreadable input"),
            },
        }
    }

    /// Whether the file does not exist.
    pub fn is_not_found(&self) -> bool {
        matches!(self, InputError::Io { source, .. } if source.kind() == ErrorKind::NotFound)
    }
}

/// The process's pipe timeout in seconds (see [`set_pipe_timeout`]).
static PIPE_TIMEOUT_SECS: AtomicU64 = AtomicU64::new(DEFAULT_PIPE_TIMEOUT_SECS);

/// How long a silent pipe is waited for: what [`set_pipe_timeout`] set, else
/// 60 s.
pub fn pipe_timeout() -> Duration {
    Duration::from_secs(PIPE_TIMEOUT_SECS.load(Ordering::Relaxed))
}

/// Sets how long a silent pipe is waited for, for every read in the process
/// (the binary takes it from `MODELSEAL_PIPE_TIMEOUT`; the library reads no
/// environment). Whole seconds, from one to a day.
pub fn set_pipe_timeout(timeout: Duration) {
    PIPE_TIMEOUT_SECS.store(timeout.as_secs().clamp(1, 86_400), Ordering::Relaxed);
}

/// Reads a whole file argument of `kind`: the one way file arguments are read.
pub fn read_file(path: &Path, kind: InputKind) -> Result<Vec<u8>, InputError> {
    let mut input = open_file(path, kind)?;
    let mut bytes = Vec::new();
    input.read_all(&mut bytes)?;
    Ok(bytes)
}

/// [`read_file`] into a buffer that is wiped when dropped and never
/// reallocated (no stray copies of a secret in freed memory).
pub fn read_secret(
    path: &Path,
    kind: InputKind,
) -> Result<zeroize::Zeroizing<Vec<u8>>, InputError> {
    let mut input = open_file(path, kind)?;
    let capacity = usize::try_from(kind.limit().saturating_add(1)).unwrap_or(usize::MAX);
    let mut bytes = zeroize::Zeroizing::new(Vec::with_capacity(capacity));
    input.read_all(&mut bytes)?;
    Ok(bytes)
}

/// [`read_file`] of UTF-8 text.
pub fn read_text(path: &Path, kind: InputKind) -> Result<String, InputError> {
    String::from_utf8(read_file(path, kind)?).map_err(|_| InputError::NotText {
        path: path.to_path_buf(),
    })
}

/// Opens a file argument for streaming: the same checks as [`read_file`],
/// and reads through the returned [`Input`] stop with an error past the cap.
pub fn open_file(path: &Path, kind: InputKind) -> Result<Input, InputError> {
    open_with_timeout(path, kind, pipe_timeout())
}

/// An open file argument. Its [`Read`] errors wrap an [`InputError`].
#[derive(Debug)]
pub struct Input {
    file: File,
    path: PathBuf,
    kind: InputKind,
    /// For regular files: the metadata at open, to notice changes.
    regular: Option<Metadata>,
    timeout: Duration,
    read: u64,
    waited: bool,
    done: bool,
}

fn file_type_name(meta: &Metadata) -> Option<&'static str> {
    let t = meta.file_type();
    if t.is_char_device() {
        Some("character device")
    } else if t.is_block_device() {
        Some("block device")
    } else if t.is_socket() {
        Some("socket")
    } else {
        None
    }
}

fn open_with_timeout(path: &Path, kind: InputKind, timeout: Duration) -> Result<Input, InputError> {
    let io = |source| InputError::Io {
        path: path.to_path_buf(),
        source,
    };
    let refuse = |meta: &Metadata| -> Result<(), InputError> {
        if meta.is_dir() {
            return Err(InputError::Directory {
                path: path.to_path_buf(),
                kind: kind.name(),
            });
        }
        match file_type_name(meta) {
            Some(what) => Err(InputError::NotAFile {
                path: path.to_path_buf(),
                what,
                kind: kind.name(),
            }),
            None => Ok(()),
        }
    };
    let before = std::fs::metadata(path).map_err(io)?;
    refuse(&before)?;
    let file = std::fs::OpenOptions::new()
        .read(true)
        .custom_flags((rustix::fs::OFlags::NONBLOCK | rustix::fs::OFlags::NOCTTY).bits() as i32)
        .open(path)
        .map_err(io)?;
    let meta = file.metadata().map_err(io)?;
    refuse(&meta)?;
    if (meta.dev(), meta.ino()) != (before.dev(), before.ino()) {
        return Err(InputError::Changed {
            path: path.to_path_buf(),
        });
    }
    let regular = meta.is_file().then_some(meta);
    if let Some(meta) = &regular
        && meta.len() > kind.limit()
    {
        return Err(InputError::TooLarge {
            path: path.to_path_buf(),
            kind: kind.name(),
            max: kind.limit(),
        });
    }
    Ok(Input {
        file,
        path: path.to_path_buf(),
        kind,
        regular,
        timeout,
        read: 0,
        waited: false,
        done: false,
    })
}

impl Input {
    /// Reads everything left into `out` (never more than the cap + 1 byte
    /// in all).
    /// Bytes go straight into `out`, within its spare capacity when it has
    /// some (so a buffer sized for a secret is never reallocated).
    fn read_all(&mut self, out: &mut Vec<u8>) -> Result<(), InputError> {
        const STEP: usize = 64 << 10;
        loop {
            let start = out.len();
            let spare = out.capacity() - start;
            let step = if spare > 0 { spare.min(STEP) } else { STEP };
            out.resize(start + step, 0);
            let read = self.read_some(&mut out[start..]);
            out.truncate(start + *read.as_ref().unwrap_or(&0));
            if read? == 0 {
                return Ok(());
            }
        }
    }

    /// One read of at most `buf.len()` bytes and never past the cap + 1.
    fn read_some(&mut self, buf: &mut [u8]) -> Result<usize, InputError> {
        if self.done {
            return Ok(0);
        }
        let limit = self.kind.limit();
        let room = limit.saturating_add(1).saturating_sub(self.read);
        let want = buf.len().min(usize::try_from(room).unwrap_or(usize::MAX));
        loop {
            match self.file.read(&mut buf[..want]) {
                Ok(0) if want > 0 => return self.end().map(|()| 0),
                Ok(n) => {
                    self.read += n as u64;
                    if self.read > limit {
                        return Err(InputError::TooLarge {
                            path: self.path.clone(),
                            kind: self.kind.name(),
                            max: limit,
                        });
                    }
                    return Ok(n);
                }
                Err(e) if e.kind() == ErrorKind::Interrupted => {}
                Err(e) if e.kind() == ErrorKind::WouldBlock => self.wait()?,
                Err(source) => {
                    return Err(InputError::Io {
                        path: self.path.clone(),
                        source,
                    });
                }
            }
        }
    }

    /// End of file: a named pipe that gave nothing without ever being
    /// waited on had no writer; a regular file must be as it was opened.
    fn end(&mut self) -> Result<(), InputError> {
        self.done = true;
        let changed = || InputError::Changed {
            path: self.path.clone(),
        };
        match &self.regular {
            None if self.read == 0 && !self.waited => Err(InputError::NoWriter {
                path: self.path.clone(),
            }),
            None => Ok(()),
            Some(before) => {
                let after = self.file.metadata().map_err(|source| InputError::Io {
                    path: self.path.clone(),
                    source,
                })?;
                let same = after.len() == before.len()
                    && self.read == before.len()
                    && after.modified().ok() == before.modified().ok();
                if same { Ok(()) } else { Err(changed()) }
            }
        }
    }

    /// Waits until the pipe has data or its writer leaves, at most the
    /// timeout.
    fn wait(&mut self) -> Result<(), InputError> {
        self.waited = true;
        let timeout = Timespec::try_from(self.timeout).unwrap_or(Timespec {
            tv_sec: i64::MAX,
            tv_nsec: 0,
        });
        let mut fds = [PollFd::new(&self.file, PollFlags::IN)];
        loop {
            match poll(&mut fds, Some(&timeout)) {
                Ok(0) => {
                    return Err(InputError::Stalled {
                        path: self.path.clone(),
                        timeout: self.timeout,
                    });
                }
                Ok(_) => return Ok(()),
                Err(rustix::io::Errno::INTR) => {}
                Err(e) => {
                    return Err(InputError::Io {
                        path: self.path.clone(),
                        source: e.into(),
                    });
                }
            }
        }
    }
}

impl Read for Input {
    fn read(&mut self, buf: &mut [u8]) -> std::io::Result<usize> {
        self.read_some(buf).map_err(std::io::Error::other)
    }
}

#[cfg(test)]
mod tests;
