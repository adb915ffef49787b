//! The records an audit counts (those at or before the audit date), and
//! the questions every control asks of them. Order is log order: the log is
//! append-only, and record times are only as fine as a second.

use super::report::ModelRef;
use crate::evidence::Record;
use crate::evidence::record::{
    DeploymentEvidence, Predicate, VerificationResult, VerificationSummary,
};
use std::collections::{HashMap, HashSet};

/// The counted records and the audit's scope, indexed so that every
/// question costs what its answer holds, not the whole log: an audit is
/// linear in the log.
pub(crate) struct View<'a> {
    /// Every counted record, in log order.
    pub records: Vec<&'a Record>,
    /// The one model audited, when one was named (lowercase hex).
    pub model: Option<&'a str>,
    /// Each record's position in `records`, ordered by the first 64 bits
    /// of its digest: 16 bytes a record where a tree map takes two to
    /// three times that, and a look-up is a binary search.
    by_digest: Vec<(u64, u32)>,
    /// The records about each subject digest, in log order.
    by_subject: HashMap<&'a str, Vec<&'a Record>>,
    /// Subjects in order of first appearance in a record other than a
    /// document.
    models: Vec<&'a str>,
    /// The start of a declared period: deployments and refusals before it
    /// are context, not judged.
    pub from: Option<jiff::Timestamp>,
}

impl<'a> View<'a> {
    /// The view of `records`, which must be in log order (the binary
    /// searches by position rely on it): a verified log's records, then
    /// the one a killed writer left beyond its checkpoint.
    pub fn new(records: Vec<&'a Record>, model: Option<&'a str>) -> Self {
        debug_assert!(
            records.is_sorted_by_key(|r| r.index),
            "records in log order"
        );
        let mut by_digest: Vec<(u64, u32)> = records
            .iter()
            .enumerate()
            // An audit keeps at most `MAX_KEPT_RECORDS` (a million).
            .map(|(at, r)| {
                (
                    digest_prefix(&r.digest),
                    u32::try_from(at).unwrap_or(u32::MAX),
                )
            })
            .collect();
        by_digest.sort_unstable();
        let mut by_subject: HashMap<&'a str, Vec<&'a Record>> = HashMap::new();
        let mut models = Vec::new();
        let mut seen = HashSet::new();
        for r in &records {
            by_subject.entry(&*r.subject.sha256).or_default().push(*r);
            // A refusal made without a verification is about a reference
            // that was never read, not a model.
            let unread = matches!(&r.predicate, Predicate::Refusal(p) if p.verification.is_none());
            if !is_attachment(r) && !unread && seen.insert(&*r.subject.sha256) {
                models.push(&*r.subject.sha256);
            }
        }
        for list in by_subject.values_mut() {
            list.shrink_to_fit();
        }
        View {
            records,
            model,
            by_digest,
            by_subject,
            models,
            from: None,
        }
    }

    /// Whether `r` falls in the declared period (every record without one).
    pub fn in_period(&self, r: &Record) -> bool {
        self.from.is_none_or(|from| r.time() >= from)
    }

    /// The records about `sha256`, in log order.
    pub fn about(&self, sha256: &str) -> &[&'a Record] {
        self.by_subject.get(sha256).map_or(&[], Vec::as_slice)
    }

    /// Whether a model digest is in the audit's scope.
    pub fn in_scope(&self, sha256: &str) -> bool {
        self.model.is_none_or(|m| m == sha256)
    }

    /// A counted record by its digest (hex, with or without `sha256:`).
    pub fn record(&self, digest: &str) -> Option<&'a Record> {
        let hex = digest.strip_prefix("sha256:").unwrap_or(digest);
        let prefix = digest_prefix(hex);
        let first = self.by_digest.partition_point(|(p, _)| *p < prefix);
        self.by_digest[first..]
            .iter()
            .take_while(|(p, _)| *p == prefix)
            .map(|(_, at)| self.records[*at as usize])
            .find(|r| r.digest.eq_ignore_ascii_case(hex))
    }

    /// Whether the record at log position `index` is counted.
    pub fn counts(&self, index: usize) -> bool {
        self.records
            .binary_search_by_key(&index, |r| r.index)
            .is_ok()
    }

    /// The model as the first record about it names it.
    pub fn model_ref(&self, sha256: &'a str) -> ModelRef<'a> {
        let name = self
            .about(sha256)
            .iter()
            .find(|r| !is_attachment(r))
            .map_or("", |r| &*r.subject.name);
        ModelRef { name, sha256 }
    }

    /// Every model in scope that a record (other than a document) is
    /// about, in order of first appearance.
    pub fn models(&self) -> Vec<&'a str> {
        self.models
            .iter()
            .filter(|m| self.in_scope(m))
            .copied()
            .collect()
    }

    /// Deployment records in scope.
    pub fn deployments(&self) -> Vec<(&'a Record, &'a DeploymentEvidence)> {
        self.records
            .iter()
            .filter(|r| self.in_scope(&r.subject.sha256) && self.in_period(r))
            .filter_map(|r| match &r.predicate {
                Predicate::Deployment(d) => Some((*r, &**d)),
                _ => None,
            })
            .collect()
    }

    /// Models in scope that were deployed, in order of first deployment.
    pub fn deployed_models(&self) -> Vec<&'a str> {
        let mut seen = HashSet::new();
        self.deployments()
            .into_iter()
            .filter(|(d, _)| seen.insert(&*d.subject.sha256))
            .map(|(d, _)| &*d.subject.sha256)
            .collect()
    }

    /// Verifications of `sha256`, in log order.
    pub fn verifications(&self, sha256: &str) -> Vec<(&'a Record, &'a VerificationSummary)> {
        self.about(sha256)
            .iter()
            .filter_map(|r| vsa(r).map(|v| (*r, v)))
            .collect()
    }

    /// The latest verification of `sha256` before log position `index`.
    pub fn latest_verification_before(
        &self,
        sha256: &str,
        index: usize,
    ) -> Option<(&'a Record, &'a VerificationSummary)> {
        // The records about a model are in log order: from the last one
        // before `index`, back to the first verification.
        let about = self.about(sha256);
        let before = about.partition_point(|r| r.index < index);
        about[..before]
            .iter()
            .rev()
            .find_map(|r| vsa(r).map(|v| (*r, v)))
    }

    /// Models in scope whose latest verification failed and that were never
    /// deployed (in any counted record: one deployed before a declared
    /// period is not "blocked"), with that verification.
    pub fn blocked(&self) -> Vec<(&'a str, &'a Record, &'a VerificationSummary)> {
        let deployed: HashSet<&str> = self
            .records
            .iter()
            .filter(|r| matches!(r.predicate, Predicate::Deployment(_)))
            .map(|r| &*r.subject.sha256)
            .collect();
        self.models()
            .into_iter()
            .filter(|m| !deployed.contains(m))
            .filter_map(|m| {
                let (r, v) = self.verifications(m).pop()?;
                (v.verification_result == VerificationResult::Failed && self.in_period(r))
                    .then_some((m, r, v))
            })
            .collect()
    }

    /// The latest sign record whose subject is `sha256` (any scope: a
    /// dataset is signed on its own).
    pub fn signed(&self, sha256: &str) -> Option<&'a Record> {
        self.about(sha256)
            .iter()
            .rev()
            .find(|r| matches!(r.predicate, Predicate::Sign(_)))
            .copied()
    }
}

impl<'a> View<'a> {
    /// The refusal records (of the admission service) that cite the
    /// verification record `digest`.
    pub fn refusals_citing(&self, digest: &str) -> Vec<&'a Record> {
        let cited = format!("sha256:{digest}");
        self.records
            .iter()
            .filter(|r| self.in_period(r))
            .filter(|r| match &r.predicate {
                Predicate::Refusal(p) => p.verification.as_deref() == Some(cited.as_str()),
                _ => false,
            })
            .copied()
            .collect()
    }
}

/// The first 64 bits of a hex digest, as a number to order records by (0
/// for text that is not hex: such a digest is only ever compared whole).
fn digest_prefix(hex: &str) -> u64 {
    hex.get(..16)
        .and_then(|p| u64::from_str_radix(p, 16).ok())
        .unwrap_or(0)
}

/// The VSA of a record, when it is one.
pub(crate) fn vsa(r: &Record) -> Option<&VerificationSummary> {
    match &r.predicate {
        Predicate::Verification(v) => Some(v),
        _ => None,
    }
}

fn is_attachment(r: &Record) -> bool {
    matches!(r.predicate, Predicate::Attachment(_))
}

/// A model as reasons name it: `name (sha256:HEX)`, in full.
pub(crate) fn named(m: &ModelRef<'_>) -> String {
    format!("{} (sha256:{})", m.name, m.sha256)
}

/// The checklist's names of levels.
pub(crate) fn level_names(levels: &[crate::evidence::record::VerifiedLevel]) -> String {
    levels
        .iter()
        .map(|l| {
            serde_json::to_value(l)
                .ok()
                .and_then(|v| v.as_str().map(str::to_string))
                .unwrap_or_default()
        })
        .collect::<Vec<_>>()
        .join(", ")
}
