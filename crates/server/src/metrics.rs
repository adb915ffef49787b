//! Counters and a latency histogram, served as Prometheus text.

use std::fmt::Write;
use std::sync::Mutex;
use std::sync::atomic::{AtomicU64, Ordering};

/// The paths requests are counted by.
pub const ENDPOINTS: [&str; 3] = ["validate", "mutate", "verify"];
/// The verdicts requests are counted by.
pub const VERDICTS: [&str; 4] = ["admit", "deny", "error", "invalid"];
/// Histogram bounds, in seconds.
const BOUNDS: [f64; 12] = [
    0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1.0, 2.5, 10.0,
];

/// What the server counts.
#[derive(Debug, Default)]
pub struct Metrics {
    requests: [[AtomicU64; VERDICTS.len()]; ENDPOINTS.len()],
    latency: Mutex<[Histogram; ENDPOINTS.len()]>,
    /// Verdicts served from the cache.
    pub cache_hits: AtomicU64,
    /// Verdicts made.
    pub verifications: AtomicU64,
    /// Registry failures (unreachable, too slow, refused).
    pub registry_errors: AtomicU64,
    /// Evidence store failures (an admission then is denied).
    pub store_errors: AtomicU64,
    /// Evidence records written.
    pub records: AtomicU64,
    /// TLS handshakes that failed.
    pub tls_failures: AtomicU64,
    /// Requests refused before they were read (too large, too slow, bad
    /// path or method, no client certificate).
    pub rejected: AtomicU64,
}

#[derive(Debug, Default, Clone, Copy)]
struct Histogram {
    buckets: [u64; BOUNDS.len()],
    count: u64,
    sum: f64,
}

impl Metrics {
    /// Counts a request to `endpoint` that ended with `verdict`, taking
    /// `seconds`.
    pub fn request(&self, endpoint: &str, verdict: &str, seconds: f64) {
        let (Some(e), Some(v)) = (
            ENDPOINTS.iter().position(|x| *x == endpoint),
            VERDICTS.iter().position(|x| *x == verdict),
        ) else {
            return;
        };
        self.requests[e][v].fetch_add(1, Ordering::Relaxed);
        let mut latency = self.latency.lock().unwrap_or_else(|p| p.into_inner());
        let h = &mut latency[e];
        for (i, bound) in BOUNDS.iter().enumerate() {
            if seconds <= *bound {
                h.buckets[i] += 1;
            }
        }
        h.count += 1;
        h.sum += seconds;
    }

    /// Adds one to a counter.
    pub fn add(counter: &AtomicU64) {
        counter.fetch_add(1, Ordering::Relaxed);
    }

    /// The Prometheus text exposition.
    pub fn render(&self, cached: usize) -> String {
        let mut out = String::new();
        let _ = writeln!(
            out,
            "# HELP modelseal_requests_total Requests by endpoint and verdict.\n# TYPE modelseal_requests_total counter"
        );
        for (e, endpoint) in ENDPOINTS.iter().enumerate() {
            for (v, verdict) in VERDICTS.iter().enumerate() {
                let _ = writeln!(
                    out,
                    "modelseal_requests_total{{endpoint=\"{endpoint}\",verdict=\"{verdict}\"}} {}",
                    self.requests[e][v].load(Ordering::Relaxed)
                );
            }
        }
        let _ = writeln!(
            out,
            "# HELP modelseal_request_duration_seconds Time to answer, by endpoint.\n# TYPE modelseal_request_duration_seconds histogram"
        );
        let latency = *self.latency.lock().unwrap_or_else(|p| p.into_inner());
        for (e, endpoint) in ENDPOINTS.iter().enumerate() {
            let h = latency[e];
            for (i, bound) in BOUNDS.iter().enumerate() {
                let _ = writeln!(
                    out,
                    "modelseal_request_duration_seconds_bucket{{endpoint=\"{endpoint}\",le=\"{bound}\"}} {}",
                    h.buckets[i]
                );
            }
            let _ = writeln!(
                out,
                "modelseal_request_duration_seconds_bucket{{endpoint=\"{endpoint}\",le=\"+Inf\"}} {}\nmodelseal_request_duration_seconds_sum{{endpoint=\"{endpoint}\"}} {}\nmodelseal_request_duration_seconds_count{{endpoint=\"{endpoint}\"}} {}",
                h.count, h.sum, h.count
            );
        }
        for (name, help, counter) in [
            (
                "modelseal_cache_hits_total",
                "Verdicts served from the cache.",
                &self.cache_hits,
            ),
            (
                "modelseal_verifications_total",
                "Verifications made.",
                &self.verifications,
            ),
            (
                "modelseal_registry_errors_total",
                "Registry failures.",
                &self.registry_errors,
            ),
            (
                "modelseal_store_errors_total",
                "Evidence store failures.",
                &self.store_errors,
            ),
            (
                "modelseal_evidence_records_total",
                "Evidence records written.",
                &self.records,
            ),
            (
                "modelseal_tls_handshake_failures_total",
                "TLS handshakes that failed.",
                &self.tls_failures,
            ),
            (
                "modelseal_rejected_requests_total",
                "Requests refused before they were judged.",
                &self.rejected,
            ),
        ] {
            let _ = writeln!(
                out,
                "# HELP {name} {help}\n# TYPE {name} counter\n{name} {}",
                counter.load(Ordering::Relaxed)
            );
        }
        let _ = writeln!(
            out,
            "# HELP modelseal_cached_verdicts Verdicts kept or in flight.\n# TYPE modelseal_cached_verdicts gauge\nmodelseal_cached_verdicts {cached}"
        );
        out
    }
}
