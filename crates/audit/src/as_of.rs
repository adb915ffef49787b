//! The audit date: records after it are not counted.

use crate::{Error, Result};
use serde::Serialize;

/// The moment an audit looks from. A date (`YYYY-MM-DD`) means the whole
/// of that day in UTC: records up to 23:59:59.999999999 count.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
pub struct AsOf {
    /// The last instant counted (inclusive).
    pub cutoff: jiff::Timestamp,
    /// The audit date (UTC), against which document ages and review dates
    /// are measured.
    pub date: jiff::civil::Date,
    /// Whether a whole day was asked for.
    pub whole_day: bool,
}

impl AsOf {
    /// An exact instant.
    pub fn at(cutoff: jiff::Timestamp) -> Self {
        AsOf {
            cutoff,
            date: cutoff.to_zoned(jiff::tz::TimeZone::UTC).date(),
            whole_day: false,
        }
    }

    /// The whole of `date` (UTC).
    pub fn day(date: jiff::civil::Date) -> Result<Self> {
        let cutoff = date
            .tomorrow()
            .and_then(|d| d.to_zoned(jiff::tz::TimeZone::UTC))
            .map(|z| z.timestamp())
            .and_then(|t| t.checked_sub(jiff::SignedDuration::from_nanos(1)))
            .map_err(|e| Error::Usage(format!("audit date {date}: {e}")))?;
        Ok(AsOf {
            cutoff,
            date,
            whole_day: true,
        })
    }

    /// The instant the caller's clock gives.
    pub fn now(now: crate::clock::Now) -> Self {
        Self::at(now.time())
    }

    /// Parses `YYYY-MM-DD` (the whole day, UTC) or an RFC 3339 time.
    pub fn parse(text: &str) -> Result<Self> {
        // Four-digit years only: the parser also takes forms like
        // `+002026-01-01` that RFC 3339 and ISO 8601 basic dates are not.
        let b = text.as_bytes();
        let shaped = b.len() >= 10
            && b[..4].iter().all(u8::is_ascii_digit)
            && b[4] == b'-'
            && b[5..7].iter().all(u8::is_ascii_digit)
            && b[7] == b'-'
            && b[8..10].iter().all(u8::is_ascii_digit);
        if !shaped {
            return Err(Error::Usage(format!(
                "{text:?} is neither a YYYY-MM-DD date nor an RFC 3339 time"
            )));
        }
        if b.len() == 10
            && let Ok(date) = text.parse::<jiff::civil::Date>()
        {
            return Self::day(date);
        }
        text.parse::<jiff::Timestamp>().map(Self::at).map_err(|_| {
            Error::Usage(format!(
                "{text:?} is neither a YYYY-MM-DD date nor an RFC 3339 time"
            ))
        })
    }

    /// A declared period `FROM..TO`: `FROM` a date (from the start of that
    /// day, UTC) or an RFC 3339 time, `TO` as [`AsOf::parse`] reads it
    /// (the audit's cutoff). The first instant of the period and the
    /// cutoff.
    pub fn period(text: &str) -> Result<(jiff::Timestamp, Self)> {
        let Some((from, to)) = text.split_once("..") else {
            return Err(Error::Usage(format!(
                "{text:?}: a period is FROM..TO (dates or RFC 3339 times)"
            )));
        };
        let to = Self::parse(to)?;
        let start = Self::parse(from)?;
        let from = if start.whole_day {
            start
                .date
                .to_zoned(jiff::tz::TimeZone::UTC)
                .map_err(|e| Error::Usage(format!("{from:?}: {e}")))?
                .timestamp()
        } else {
            start.cutoff
        };
        if from > to.cutoff {
            return Err(Error::Usage(format!(
                "{text:?}: the period ends before it starts"
            )));
        }
        Ok((from, to))
    }

    /// Whether a record of this time is counted.
    pub fn includes(&self, time: jiff::Timestamp) -> bool {
        time <= self.cutoff
    }
}

impl std::fmt::Display for AsOf {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        if self.whole_day {
            write!(f, "{} (the whole day, UTC)", self.date)
        } else {
            write!(f, "{}", self.cutoff)
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn only_four_digit_years_in_rfc_3339_shape_are_dates() {
        for bad in [
            "+002026-01-01",
            "-2026-01-01",
            "26-01-01",
            "2026-1-01",
            "20260101",
            "",
        ] {
            assert!(AsOf::parse(bad).is_err(), "{bad}");
        }
        assert!(AsOf::parse("2026-01-01").unwrap().whole_day);
        assert!(!AsOf::parse("2026-01-01T00:00:00Z").unwrap().whole_day);
    }

    #[test]
    fn a_date_includes_the_whole_of_that_day_and_nothing_after() {
        let a = AsOf::parse("2026-12-01").unwrap();
        assert!(a.whole_day);
        assert!(a.includes("2026-12-01T00:00:00Z".parse().unwrap()));
        assert!(a.includes("2026-12-01T23:59:59.999Z".parse().unwrap()));
        assert!(!a.includes("2026-12-02T00:00:00Z".parse().unwrap()));
        assert_eq!(a.date.to_string(), "2026-12-01");
        let t = AsOf::parse("2026-12-01T10:00:00Z").unwrap();
        assert!(!t.whole_day);
        assert!(!t.includes("2026-12-01T10:00:01Z".parse().unwrap()));
        assert!(AsOf::parse("yesterday").is_err());
        assert!(AsOf::parse("9999-12-31").is_err(), "no day after it");
    }
}
