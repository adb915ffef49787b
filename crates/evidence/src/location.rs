//! Where a log is: a file path, or a PostgreSQL connection URI.

use super::EvidenceStore;
use crate::Result;
use std::ffi::OsStr;
use std::path::PathBuf;

/// Where a log is kept, as given on the command line or in
/// `MODELSEAL_EVIDENCE`: a `postgres://` or `postgresql://` URI selects the
/// database store, anything else is a file path.
#[derive(Debug, Clone)]
#[non_exhaustive]
pub enum Location {
    /// A JSON Lines file.
    File(PathBuf),
    /// A PostgreSQL database.
    #[cfg(feature = "postgres")]
    Postgres(Box<super::postgres::ConnectSpec>),
}

/// Whether `text` is a database URI rather than a path.
fn is_database_uri(text: &str) -> bool {
    let lower = text.get(..13).unwrap_or(text).to_ascii_lowercase();
    lower.starts_with("postgres://") || lower.starts_with("postgresql://")
}

/// The libpq environment a database location falls back on.
#[cfg(feature = "postgres")]
pub use super::postgres::PgEnv as Env;

/// The libpq environment a database location would fall back on (this
/// build has no database support, so there is none to give).
#[cfg(not(feature = "postgres"))]
#[derive(Debug, Clone, Default)]
pub struct Env;

#[cfg(not(feature = "postgres"))]
impl Env {
    /// No variables: this build has no database support.
    pub fn from_lookup(_lookup: impl FnMut(&str) -> Option<String>) -> Self {
        Env
    }
}

impl Location {
    /// Reads a location; what a database URI leaves out comes from `env`,
    /// the libpq variables the caller gives (`Env::default()` for none,
    /// `Env::from_lookup(|name| std::env::var(name).ok())` for the
    /// process's).
    pub fn parse(text: &OsStr, env: &Env) -> Result<Location> {
        match text.to_str() {
            Some(uri) if is_database_uri(uri) => Self::database(uri, env),
            _ => Ok(Location::File(PathBuf::from(text))),
        }
    }

    #[cfg(feature = "postgres")]
    fn database(uri: &str, env: &Env) -> Result<Location> {
        super::postgres::ConnectSpec::parse(uri, env).map(|spec| Location::Postgres(Box::new(spec)))
    }

    #[cfg(not(feature = "postgres"))]
    fn database(_uri: &str, _env: &Env) -> Result<Location> {
        Err(crate::Error::Usage(
            "this build of modelseal has no PostgreSQL support (the `postgres` feature)".into(),
        ))
    }

    /// Opens the store (for a database: connects).
    pub fn open(&self) -> Result<Box<dyn EvidenceStore + Send + Sync>> {
        match self {
            Location::File(path) => Ok(Box::new(super::FileLog::new(path))),
            #[cfg(feature = "postgres")]
            Location::Postgres(spec) => Ok(Box::new(super::postgres::PgStore::connect(spec)?)),
        }
    }

    /// The file, for a file log.
    pub fn file(&self) -> Option<&std::path::Path> {
        match self {
            Location::File(path) => Some(path),
            #[cfg(feature = "postgres")]
            Location::Postgres(_) => None,
        }
    }
}

/// The location as it may be shown: a database URI without its password.
impl std::fmt::Display for Location {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            Location::File(path) => write!(f, "{}", path.display()),
            #[cfg(feature = "postgres")]
            Location::Postgres(spec) => write!(f, "{spec}"),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn paths_stay_paths_and_uris_select_the_database() {
        assert!(matches!(
            Location::parse(OsStr::new("logs/evidence.jsonl"), &Env::default()).unwrap(),
            Location::File(_)
        ));
        assert!(matches!(
            Location::parse(OsStr::new("postgres.jsonl"), &Env::default()).unwrap(),
            Location::File(_)
        ));
        let db = Location::parse(
            OsStr::new("postgres://writer:s3cret@db.example:5432/evidence"),
            &Env::default(),
        );
        #[cfg(feature = "postgres")]
        assert!(!db.unwrap().to_string().contains("s3cret"));
        #[cfg(not(feature = "postgres"))]
        assert!(db.is_err());
    }
}
