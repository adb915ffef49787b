//! Time as an input. The library never reads the clock: every operation that
//! needs "now" (record times, certificate validity, signature age, review
//! ages, the audit date) takes a [`Now`] from its caller. The command line
//! reads the system clock, or the test clock when one is set; a service
//! reads its own clock once per request.
//!
//! A [`Now`] remembers which kind of clock gave it, and records and reports
//! made with a test clock say so, so that evidence made under a pinned time
//! can never pass for real evidence unnoticed.

use serde::{Deserialize, Serialize};

/// Which clock an instant was read from.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
#[non_exhaustive]
pub enum TimeSource {
    /// The machine's clock.
    System,
    /// A test clock, set by whoever ran the program (never by an input
    /// file): the time is whatever the test chose.
    Test,
}

/// "Now", as the caller's clock gave it: an instant to the second, and the
/// clock it came from.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub struct Now {
    time: jiff::Timestamp,
    source: TimeSource,
}

impl Now {
    /// `time` read from the system clock (truncated to the second, as
    /// records keep it).
    pub fn system(time: jiff::Timestamp) -> Self {
        Now {
            time: whole_second(time),
            source: TimeSource::System,
        }
    }

    /// `time` given by a test clock (truncated to the second).
    pub fn test(time: jiff::Timestamp) -> Self {
        Now {
            time: whole_second(time),
            source: TimeSource::Test,
        }
    }

    /// The instant.
    pub fn time(&self) -> jiff::Timestamp {
        self.time
    }

    /// The clock it came from.
    pub fn source(&self) -> TimeSource {
        self.source
    }

    /// Whether a test clock gave it.
    pub fn is_test(&self) -> bool {
        self.source == TimeSource::Test
    }

    /// The UTC calendar date of the instant.
    pub fn date(&self) -> jiff::civil::Date {
        self.time.to_zoned(jiff::tz::TimeZone::UTC).date()
    }
}

impl std::fmt::Display for Now {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self.source {
            TimeSource::System => write!(f, "{}", self.time),
            TimeSource::Test => write!(f, "{} (test clock)", self.time),
        }
    }
}

fn whole_second(time: jiff::Timestamp) -> jiff::Timestamp {
    jiff::Timestamp::from_second(time.as_second()).unwrap_or(time)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn instants_are_kept_to_the_second_with_their_clock() {
        let t: jiff::Timestamp = "2031-02-03T04:05:06.789Z".parse().unwrap();
        let now = Now::test(t);
        assert_eq!(now.time().to_string(), "2031-02-03T04:05:06Z");
        assert!(now.is_test());
        assert_eq!(now.date().to_string(), "2031-02-03");
        assert_eq!(now.to_string(), "2031-02-03T04:05:06Z (test clock)");
        let now = Now::system(t);
        assert!(!now.is_test());
        assert_eq!(now.to_string(), "2031-02-03T04:05:06Z");
    }
}
