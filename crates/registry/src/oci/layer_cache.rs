//! What reading a raw layer gave (its file's resources and format report),
//! kept by layer digest: a layer's bytes are fixed by its digest, and a
//! result is kept only once the bytes read matched it, so a service that
//! verifies many manifests sharing the same layers reads each layer once.

use crate::digest::Resource;
use crate::formats::FileReport;
use std::collections::{HashMap, VecDeque};
use std::sync::Mutex;

/// The cache, shared by the models opened with the same
/// [`RegistryOptions`](super::RegistryOptions).
#[derive(Debug)]
pub struct LayerCache {
    inner: Mutex<Inner>,
    capacity: usize,
}

#[derive(Debug, Default)]
struct Inner {
    entries: HashMap<String, Kept>,
    order: VecDeque<String>,
}

/// One layer's result.
#[derive(Debug, Clone)]
pub(crate) struct Kept {
    pub resources: Vec<Resource>,
    pub report: Option<FileReport>,
}

impl LayerCache {
    /// A cache of at most `capacity` layer results (the oldest go first).
    pub fn new(capacity: usize) -> Self {
        LayerCache {
            inner: Mutex::new(Inner::default()),
            capacity,
        }
    }

    /// The key: the layer, the file name it is read as (formats are
    /// judged by name and bytes) and how it was hashed.
    pub(crate) fn key(digest: &str, name: &str, how: &str) -> String {
        format!("{digest}\u{0}{name}\u{0}{how}")
    }

    pub(crate) fn get(&self, key: &str) -> Option<Kept> {
        let inner = self.inner.lock().unwrap_or_else(|p| p.into_inner());
        inner.entries.get(key).cloned()
    }

    pub(crate) fn put(&self, key: String, kept: Kept) {
        if self.capacity == 0 {
            return;
        }
        let mut inner = self.inner.lock().unwrap_or_else(|p| p.into_inner());
        if inner.entries.insert(key.clone(), kept).is_none() {
            inner.order.push_back(key);
        }
        while inner.order.len() > self.capacity {
            if let Some(old) = inner.order.pop_front() {
                inner.entries.remove(&old);
            }
        }
    }
}
