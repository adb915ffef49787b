//! The command line's clock: the system clock, or the test clock.
//!
//! `MODELSEAL_TEST_NOW` (an RFC 3339 time, or a `YYYY-MM-DD` date meaning
//! its noon UTC) is for tests only: it replaces the system clock for
//! everything this process dates (records, review dates, certificate
//! validity, signature ages, the audit date), and every record and report
//! made under it says so. TLS connections to servers keep the system clock.
//! Only the binary reads it; the library takes "now" from its caller.

use modelseal::clock::Now;
use modelseal::{Error, Result};

/// The test clock's environment variable.
pub const TEST_NOW_VAR: &str = "MODELSEAL_TEST_NOW";

/// Now: the test clock when it is set, else the system clock. A test clock
/// that cannot be read is a usage error, never the system clock instead.
pub fn now() -> Result<Now> {
    match std::env::var_os(TEST_NOW_VAR) {
        None => Ok(Now::system(jiff::Timestamp::now())),
        Some(value) => {
            let text = value
                .to_str()
                .ok_or_else(|| Error::Usage(format!("{TEST_NOW_VAR} is not UTF-8")))?;
            parse(text).map(Now::test).ok_or_else(|| {
                Error::Usage(format!(
                    "{TEST_NOW_VAR}={:?} is neither an RFC 3339 time nor a YYYY-MM-DD date",
                    text.chars().take(64).collect::<String>()
                ))
            })
        }
    }
}

fn parse(text: &str) -> Option<jiff::Timestamp> {
    if let Ok(t) = text.parse::<jiff::Timestamp>() {
        return Some(t);
    }
    if text.len() == 10 {
        let date: jiff::civil::Date = text.parse().ok()?;
        return date
            .at(12, 0, 0, 0)
            .to_zoned(jiff::tz::TimeZone::UTC)
            .ok()
            .map(|z| z.timestamp());
    }
    None
}

/// The time a BOM states by default: `SOURCE_DATE_EPOCH` (reproducible
/// builds) when set, else now.
pub fn bom_default_time(now: Now) -> Result<jiff::Timestamp> {
    match std::env::var("SOURCE_DATE_EPOCH") {
        Ok(epoch) => {
            let secs: i64 = epoch.trim().parse().map_err(|_| {
                Error::Usage(format!(
                    "SOURCE_DATE_EPOCH {epoch:?} is not a number of seconds"
                ))
            })?;
            jiff::Timestamp::from_second(secs)
                .map_err(|e| Error::Usage(format!("SOURCE_DATE_EPOCH {epoch:?}: {e}")))
        }
        Err(_) => Ok(now.time()),
    }
}
