//! The command line's clock: the system clock, or the test clock.
//!
//! `MODELSEAL_TEST_NOW` (an RFC 3339 time, or a `YYYY-MM-DD` date meaning
//! its noon UTC) is for tests only: it replaces the system clock for
//! everything this process dates (records, review dates, certificate
//! validity, signature ages, the audit date), and every record and report
//! made under it says so. TLS connections to servers keep the system clock.
//! Only the binary reads it; the library takes "now" from its caller.

use modelseal::bom::types::Property;
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

/// `YYYY-MM-DD` (its noon, UTC) or an RFC 3339 time
/// `YYYY-MM-DDTHH:MM:SS[.frac](Z|+HH:MM|-HH:MM)` with a four-digit year;
/// nothing looser (no lowercase `t`/`z`, no space, no six-digit years).
fn parse(text: &str) -> Option<jiff::Timestamp> {
    let b = text.as_bytes();
    let digits =
        |r: std::ops::Range<usize>| b.get(r).is_some_and(|d| d.iter().all(u8::is_ascii_digit));
    let date_shaped = b.len() >= 10
        && digits(0..4)
        && b[4] == b'-'
        && digits(5..7)
        && b[7] == b'-'
        && digits(8..10);
    if !date_shaped {
        return None;
    }
    if b.len() > 10 {
        let time_shaped = b.len() >= 20
            && b[10] == b'T'
            && digits(11..13)
            && b[13] == b':'
            && digits(14..16)
            && b[16] == b':'
            && digits(17..19)
            && (b.ends_with(b"Z") || b[b.len() - 6] == b'+' || b[b.len() - 6] == b'-');
        if !time_shaped {
            return None;
        }
        return text.parse::<jiff::Timestamp>().ok();
    }
    let date: jiff::civil::Date = text.parse().ok()?;
    date.at(12, 0, 0, 0)
        .to_zoned(jiff::tz::TimeZone::UTC)
        .ok()
        .map(|z| z.timestamp())
}

/// The time a BOM states, as `bom_timestamp` writes it, and the
/// properties that go with it: `given` (`--timestamp`), else
/// `SOURCE_DATE_EPOCH` (reproducible builds), else now; a BOM dated by the
/// test clock says so (`modelseal:time-source=test`).
pub fn bom_time(now: Now, given: Option<&str>) -> Result<(String, Vec<Property>)> {
    let (default, from_clock) = match std::env::var("SOURCE_DATE_EPOCH") {
        Ok(epoch) => {
            let secs: i64 = epoch.trim().parse().map_err(|_| {
                Error::Usage(format!(
                    "SOURCE_DATE_EPOCH {epoch:?} is not a number of seconds"
                ))
            })?;
            let time = jiff::Timestamp::from_second(secs)
                .map_err(|e| Error::Usage(format!("SOURCE_DATE_EPOCH {epoch:?}: {e}")))?;
            (time, false)
        }
        Err(_) => (now.time(), given.is_none()),
    };
    let properties = if from_clock && now.is_test() {
        vec![Property::new("modelseal:time-source", "test")]
    } else {
        Vec::new()
    };
    Ok((modelseal::bom::bom_timestamp(given, default)?, properties))
}

#[cfg(test)]
mod tests {
    use super::parse;

    #[test]
    fn the_test_clock_takes_rfc_3339_times_and_dates_and_nothing_looser() {
        let at = |t: &str| parse(t).map(|t| t.to_string());
        assert_eq!(at("2031-02-03").as_deref(), Some("2031-02-03T12:00:00Z"));
        assert_eq!(
            at("2031-02-03T04:05:06Z").as_deref(),
            Some("2031-02-03T04:05:06Z")
        );
        assert_eq!(
            at("2031-02-03T04:05:06.5+01:00").as_deref(),
            Some("2031-02-03T03:05:06.5Z")
        );
        for bad in [
            "",
            "yesterday",
            "2031-02-30",
            "2031-02-03 04:05:06Z",
            "2031-02-03t04:05:06z",
            "2031-02-03T04:05:06",
            "+002031-02-03T04:05:06Z",
            "-009999-01-02T02:00:00Z",
            "20310203",
        ] {
            assert_eq!(at(bad), None, "{bad:?}");
        }
    }
}
