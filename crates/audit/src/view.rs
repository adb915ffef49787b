//! The records an audit counts (those at or before the audit date), and
//! the questions every control asks of them. Order is log order: the log is
//! append-only, and record times are only as fine as a second.

use super::report::{ModelRef, VerificationRef};
use crate::evidence::Record;
use crate::evidence::record::{
    DeploymentEvidence, Predicate, VerificationResult, VerificationSummary,
};
use std::collections::BTreeMap;

/// The counted records and the audit's scope.
pub(crate) struct View<'a> {
    /// Every counted record, in log order.
    pub records: Vec<&'a Record>,
    /// The one model audited, when one was named (lowercase hex).
    pub model: Option<String>,
    by_digest: BTreeMap<&'a str, &'a Record>,
}

impl<'a> View<'a> {
    pub fn new(records: Vec<&'a Record>, model: Option<String>) -> Self {
        let by_digest = records.iter().map(|r| (r.digest.as_str(), *r)).collect();
        View {
            records,
            model,
            by_digest,
        }
    }

    /// Whether a model digest is in the audit's scope.
    pub fn in_scope(&self, sha256: &str) -> bool {
        self.model.as_deref().is_none_or(|m| m == sha256)
    }

    /// A counted record by its digest (hex, with or without `sha256:`).
    pub fn record(&self, digest: &str) -> Option<&'a Record> {
        let hex = digest.strip_prefix("sha256:").unwrap_or(digest);
        self.by_digest
            .get(hex.to_ascii_lowercase().as_str())
            .copied()
    }

    /// The model as the first record about it names it.
    pub fn model_ref(&self, sha256: &str) -> ModelRef {
        let name = self
            .records
            .iter()
            .find(|r| r.subject.sha256 == sha256 && !is_attachment(r))
            .map(|r| r.subject.name.clone())
            .unwrap_or_default();
        ModelRef {
            name,
            sha256: sha256.to_string(),
        }
    }

    /// Every model in scope that a record (other than a document) is
    /// about, in order of first appearance.
    pub fn models(&self) -> Vec<String> {
        let mut seen = Vec::<String>::new();
        for r in &self.records {
            if !is_attachment(r)
                && self.in_scope(&r.subject.sha256)
                && !seen.contains(&r.subject.sha256)
            {
                seen.push(r.subject.sha256.clone());
            }
        }
        seen
    }

    /// Deployment records in scope.
    pub fn deployments(&self) -> Vec<(&'a Record, &'a DeploymentEvidence)> {
        self.records
            .iter()
            .filter(|r| self.in_scope(&r.subject.sha256))
            .filter_map(|r| match &r.predicate {
                Predicate::Deployment(d) => Some((*r, d)),
                _ => None,
            })
            .collect()
    }

    /// Models in scope that were deployed, in order of first deployment.
    pub fn deployed_models(&self) -> Vec<String> {
        let mut seen = Vec::<String>::new();
        for (d, _) in self.deployments() {
            if !seen.contains(&d.subject.sha256) {
                seen.push(d.subject.sha256.clone());
            }
        }
        seen
    }

    /// Verifications of `sha256`, in log order.
    pub fn verifications(&self, sha256: &str) -> Vec<(&'a Record, &'a VerificationSummary)> {
        self.records
            .iter()
            .filter(|r| r.subject.sha256 == sha256)
            .filter_map(|r| vsa(r).map(|v| (*r, v)))
            .collect()
    }

    /// The latest verification of `sha256` before log position `index`.
    pub fn latest_verification_before(
        &self,
        sha256: &str,
        index: usize,
    ) -> Option<(&'a Record, &'a VerificationSummary)> {
        self.verifications(sha256)
            .into_iter()
            .rfind(|(r, _)| r.index < index)
    }

    /// Models in scope whose latest verification failed and that were never
    /// deployed, with that verification.
    pub fn blocked(&self) -> Vec<(String, &'a Record, &'a VerificationSummary)> {
        let deployed = self.deployed_models();
        self.models()
            .into_iter()
            .filter(|m| !deployed.contains(m))
            .filter_map(|m| {
                let (r, v) = self.verifications(&m).pop()?;
                (v.verification_result == VerificationResult::Failed).then_some((m, r, v))
            })
            .collect()
    }

    /// The latest sign record whose subject is `sha256` (any scope: a
    /// dataset is signed on its own).
    pub fn signed(&self, sha256: &str) -> Option<&'a Record> {
        self.records
            .iter()
            .rev()
            .find(|r| r.subject.sha256 == sha256 && matches!(r.predicate, Predicate::Sign(_)))
            .copied()
    }
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

/// A verification as findings cite it.
pub(crate) fn verification_ref(r: &Record, v: &VerificationSummary) -> VerificationRef {
    VerificationRef {
        record: r.digest.clone(),
        index: r.index,
        time: v.time_verified,
        result: v.verification_result,
        levels: v.verified_levels.clone(),
        failures: v.failures.clone(),
        signer: v.signer.clone(),
        policy: v.policy.clone(),
        resource: v.resource_uri.clone(),
    }
}

/// A model as reasons name it: `name (sha256:HEX)`, in full.
pub(crate) fn named(m: &ModelRef) -> String {
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
