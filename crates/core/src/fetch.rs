//! Local file arguments: size-capped reads that never block on a named pipe
//! without a writer and refuse a file that changes while it is read (see the
//! `file` module's rules). Remote (`https://`) inputs are the registry
//! crate's: this crate makes no network request.

mod file;

pub use file::{
    Input, InputError, InputKind, MAX_CERTIFICATE, MAX_CHECKLIST, MAX_CHECKPOINT, MAX_DOCUMENT,
    MAX_EVIDENCE_LOG, MAX_KEY, MAX_POLICY, MAX_TRUSTED_ROOT, open_file, pipe_timeout, read_file,
    read_secret, read_text, set_pipe_timeout,
};

/// Whether `source` names a URL rather than a file.
pub fn is_url(source: &str) -> bool {
    source.starts_with("https://") || source.starts_with("http://")
}
