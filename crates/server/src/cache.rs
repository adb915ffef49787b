//! Verdicts by (repository, manifest digest, policy digest): bounded, each
//! kept for a set time, replaced when the server verifies the digest again,
//! and made once however many requests ask at the same moment (single
//! flight).

use crate::judge::Judgement;
use modelseal_evidence::VerificationReceipt;
use std::collections::HashMap;
use std::sync::{Arc, Mutex};
use tokio::sync::OnceCell;

/// The key of a verdict.
#[derive(Debug, Clone, PartialEq, Eq, Hash)]
pub struct Key {
    /// `host/repository`.
    pub repository: String,
    /// `sha256:HEX` of the manifest.
    pub digest: String,
    /// Hex SHA-256 of the policy.
    pub policy: String,
}

/// A verdict, and the record of the verification once appended.
#[derive(Debug)]
pub struct Entry {
    /// The verdict.
    pub judgement: Judgement,
    /// When it was made.
    pub made: jiff::Timestamp,
    /// The verification record; appended on first need (a dry run or the
    /// mutating call verifies without writing).
    pub receipt: Mutex<Option<VerificationReceipt>>,
}

/// What a flight ends with: a verdict, or why none could be made (shared
/// by everyone who waited, then forgotten).
pub type Flight = Result<Arc<Entry>, Arc<modelseal_core::Error>>;

type Slot = Arc<OnceCell<Flight>>;

/// The cache.
#[derive(Debug)]
pub struct Cache {
    slots: Mutex<HashMap<Key, Slot>>,
    capacity: usize,
    ttl: jiff::SignedDuration,
}

impl Cache {
    /// A cache of at most `capacity` verdicts, each kept `ttl`. A capacity
    /// of 0 keeps nothing (every request verifies; concurrent ones still
    /// share a flight).
    pub fn new(capacity: usize, ttl: std::time::Duration) -> Self {
        Cache {
            slots: Mutex::new(HashMap::new()),
            capacity,
            ttl: jiff::SignedDuration::try_from(ttl).unwrap_or(jiff::SignedDuration::MAX),
        }
    }

    /// The verdict for `key` at `now`: a kept one, or one made by `make`
    /// (run once for all the callers that ask while it runs). Returns it
    /// and whether it was kept.
    pub async fn get<F, Fut>(
        &self,
        key: &Key,
        now: jiff::Timestamp,
        fresh: bool,
        make: F,
    ) -> (Flight, bool)
    where
        F: FnOnce() -> Fut,
        Fut: std::future::Future<Output = Flight>,
    {
        let slot = self.slot(key, now, fresh);
        let mut made = false;
        let flight = slot
            .get_or_init(|| {
                made = true;
                make()
            })
            .await
            .clone();
        let keep = flight.is_ok() && self.capacity > 0;
        if !keep {
            let mut slots = self.slots.lock().unwrap_or_else(|p| p.into_inner());
            if slots.get(key).is_some_and(|s| Arc::ptr_eq(s, &slot)) {
                slots.remove(key);
            }
        }
        (flight, !made)
    }

    fn slot(&self, key: &Key, now: jiff::Timestamp, fresh: bool) -> Slot {
        let mut slots = self.slots.lock().unwrap_or_else(|p| p.into_inner());
        if let Some(slot) = slots.get(key) {
            let stale = match slot.get() {
                // In flight: join it.
                None => false,
                Some(Ok(entry)) => fresh || self.expired(entry, now),
                Some(Err(_)) => true,
            };
            if !stale {
                return slot.clone();
            }
        }
        if slots.len() >= self.capacity.max(1) && !slots.contains_key(key) {
            self.evict(&mut slots, now);
        }
        let slot: Slot = Arc::new(OnceCell::new());
        slots.insert(key.clone(), slot.clone());
        slot
    }

    fn expired(&self, entry: &Entry, now: jiff::Timestamp) -> bool {
        // A clock that went back is as suspect as one far ahead.
        let age = now.duration_since(entry.made);
        age.is_negative() || age > self.ttl
    }

    /// Makes room: expired and failed verdicts go first, then the oldest.
    fn evict(&self, slots: &mut HashMap<Key, Slot>, now: jiff::Timestamp) {
        slots.retain(|_, s| match s.get() {
            None => true,
            Some(Ok(e)) => !self.expired(e, now),
            Some(Err(_)) => false,
        });
        while slots.len() >= self.capacity.max(1) {
            let oldest = slots
                .iter()
                .filter_map(|(k, s)| s.get().and_then(|f| f.as_ref().ok()).map(|e| (e.made, k)))
                .min_by_key(|(made, _)| *made)
                .map(|(_, k)| k.clone());
            match oldest {
                Some(k) => {
                    slots.remove(&k);
                }
                // Everything is in flight: let the map grow by this one
                // rather than drop a flight others wait on.
                None => break,
            }
        }
    }

    /// Forgets every kept verdict about the model `subject` (hex OMS root
    /// digest) except `keep`: a newer verification of that model was
    /// recorded, so a deployment must rely on a verification made after it
    /// (the audit's control 7 counts a failure in between against one that
    /// relies on an older pass).
    pub fn forget_subject(&self, subject: &str, keep: &Entry) {
        let mut slots = self.slots.lock().unwrap_or_else(|p| p.into_inner());
        slots.retain(|_, s| match s.get() {
            Some(Ok(e)) => {
                std::ptr::eq(Arc::as_ptr(e), keep)
                    || e.judgement
                        .record
                        .as_ref()
                        .is_none_or(|r| &*r.subject.sha256 != subject)
            }
            _ => true,
        });
    }

    /// How many verdicts are kept or in flight.
    pub fn len(&self) -> usize {
        self.slots.lock().unwrap_or_else(|p| p.into_inner()).len()
    }

    /// Whether nothing is kept.
    pub fn is_empty(&self) -> bool {
        self.len() == 0
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::sync::atomic::{AtomicUsize, Ordering};

    fn key(d: &str) -> Key {
        Key {
            repository: "r/m".into(),
            digest: d.into(),
            policy: "p".into(),
        }
    }

    fn entry(made: jiff::Timestamp) -> Arc<Entry> {
        Arc::new(Entry {
            judgement: Judgement {
                verified: true,
                failures: vec![],
                verdict: serde_json::Value::Null,
                record: None,
            },
            made,
            receipt: Mutex::new(None),
        })
    }

    fn at(s: i64) -> jiff::Timestamp {
        jiff::Timestamp::from_second(1_800_000_000 + s).unwrap()
    }

    #[tokio::test(flavor = "multi_thread", worker_threads = 2)]
    async fn fifty_callers_at_once_make_one_verdict() {
        let cache = Arc::new(Cache::new(8, std::time::Duration::from_secs(60)));
        let made = Arc::new(AtomicUsize::new(0));
        let mut tasks = Vec::new();
        for _ in 0..50 {
            let (cache, made) = (cache.clone(), made.clone());
            tasks.push(tokio::spawn(async move {
                cache
                    .get(&key("d"), at(0), false, || async {
                        made.fetch_add(1, Ordering::SeqCst);
                        tokio::time::sleep(std::time::Duration::from_millis(50)).await;
                        Ok(entry(at(0)))
                    })
                    .await
                    .0
                    .is_ok()
            }));
        }
        for t in tasks {
            assert!(t.await.unwrap());
        }
        assert_eq!(made.load(Ordering::SeqCst), 1);
    }

    #[tokio::test]
    async fn verdicts_expire_fail_uncached_are_bounded_and_can_be_renewed() {
        let cache = Cache::new(2, std::time::Duration::from_secs(60));
        let made = AtomicUsize::new(0);
        let make = |t| {
            made.fetch_add(1, Ordering::SeqCst);
            async move { Ok(entry(t)) }
        };
        assert!(!cache.get(&key("a"), at(0), false, || make(at(0))).await.1);
        assert!(cache.get(&key("a"), at(59), false, || make(at(59))).await.1);
        // Past the time, or with the clock gone back: made again.
        assert!(!cache.get(&key("a"), at(61), false, || make(at(61))).await.1);
        assert!(!cache.get(&key("a"), at(0), false, || make(at(0))).await.1);
        // Asked fresh: made again.
        assert!(!cache.get(&key("a"), at(0), true, || make(at(0))).await.1);
        assert_eq!(made.load(Ordering::SeqCst), 4);
        // An error is shared by its waiters and then forgotten.
        let (failed, _) = cache
            .get(&key("e"), at(0), false, || async {
                Err(Arc::new(modelseal_core::Error::Remote("down".into())))
            })
            .await;
        assert!(failed.is_err());
        assert_eq!(cache.len(), 1);
        assert!(
            cache
                .get(&key("b"), at(1), false, || make(at(1)))
                .await
                .0
                .is_ok()
        );
        assert!(
            cache
                .get(&key("c"), at(2), false, || make(at(2)))
                .await
                .0
                .is_ok()
        );
        assert_eq!(cache.len(), 2);
        // The oldest went.
        assert!(!cache.get(&key("a"), at(3), false, || make(at(3))).await.1);
    }
}
