//! The environment variables the command line reads. The library reads none:
//! what they say reaches it as values (paths, timeouts).

use modelseal::{Error, Result};
use std::path::PathBuf;
use std::time::Duration;

fn var(name: &str) -> Option<std::ffi::OsString> {
    std::env::var_os(name).filter(|v| !v.is_empty())
}

/// The longest timeout taken: a day.
const MAX_TIMEOUT_SECS: u64 = 86_400;

/// A timeout in whole seconds from `name`, if set: 1 to a day, or exit 2 (a
/// typo must not silently mean the default).
fn seconds(name: &str) -> Result<Option<Duration>> {
    let Some(value) = var(name) else {
        return Ok(None);
    };
    match value.to_str().and_then(|v| v.parse::<u64>().ok()) {
        Some(secs) if (1..=MAX_TIMEOUT_SECS).contains(&secs) => Ok(Some(Duration::from_secs(secs))),
        _ => Err(Error::Usage(format!(
            "{name}: not a whole number of seconds from 1 to {MAX_TIMEOUT_SECS}: {value:?}"
        ))),
    }
}

/// Applies `MODELSEAL_PIPE_TIMEOUT` and `MODELSEAL_HTTP_TIMEOUT` (seconds)
/// to the library's process-wide timeouts.
pub fn apply_timeouts() -> Result<()> {
    if let Some(t) = seconds("MODELSEAL_PIPE_TIMEOUT")? {
        modelseal::fetch::set_pipe_timeout(t);
    }
    let http = seconds("MODELSEAL_HTTP_TIMEOUT")?;
    #[cfg(feature = "remote")]
    if let Some(t) = http {
        modelseal::registry::set_timeout(t);
    }
    #[cfg(not(feature = "remote"))]
    let _ = http;
    Ok(())
}

/// The Docker config file, as the docker CLI finds it:
/// `$DOCKER_CONFIG/config.json`, else `$HOME/.docker/config.json`.
pub fn docker_config() -> Option<PathBuf> {
    let dir = var("DOCKER_CONFIG")
        .map(PathBuf::from)
        .or_else(|| var("HOME").map(|h| PathBuf::from(h).join(".docker")))?;
    Some(dir.join("config.json"))
}

/// The Hugging Face hub cache directory, as `huggingface_hub` finds it:
/// `HF_HUB_CACHE`, else `HF_HOME/hub`, else `~/.cache/huggingface/hub`.
pub fn hf_home() -> Option<PathBuf> {
    if let Some(hub) = var("HF_HUB_CACHE") {
        return Some(PathBuf::from(hub));
    }
    if let Some(home) = var("HF_HOME") {
        return Some(PathBuf::from(home).join("hub"));
    }
    let base = var("XDG_CACHE_HOME")
        .map(PathBuf::from)
        .or_else(|| var("HOME").map(|h| PathBuf::from(h).join(".cache")))?;
    Some(base.join("huggingface").join("hub"))
}

/// Where a writer keeps the deploy index of a database log:
/// `MODELSEAL_DEPLOY_INDEX_DIR`, else `$XDG_CACHE_HOME/modelseal/deploy-index`,
/// else `~/.cache/modelseal/deploy-index`.
pub fn deploy_index_dir() -> Option<PathBuf> {
    if let Some(dir) = var("MODELSEAL_DEPLOY_INDEX_DIR") {
        return Some(PathBuf::from(dir));
    }
    let base = var("XDG_CACHE_HOME")
        .map(PathBuf::from)
        .or_else(|| var("HOME").map(|h| PathBuf::from(h).join(".cache")))?;
    Some(base.join("modelseal").join("deploy-index"))
}

/// The libpq variables (`PGHOST`, `PGUSER`, `PGPASSWORD`, `PGPASSFILE`,
/// ...) a database URI falls back on, from this process's environment.
pub fn pg() -> modelseal::evidence::LocationEnv {
    modelseal::evidence::LocationEnv::from_lookup(|name| std::env::var(name).ok())
}
