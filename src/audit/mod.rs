//! The audit: the checklist (data), evaluated against the evidence log, and
//! rendered for people, programs and OSCAL tools.

mod evaluate;
mod oscal;
mod render;

pub use evaluate::{AuditReport, ControlResult, Status, evaluate};
pub use oscal::to_oscal;
pub use render::{to_human, to_markdown};

use crate::{Error, Result};
use serde::{Deserialize, Serialize};

/// The checklist shipped with the tool.
pub const DEFAULT_CHECKLIST: &str = include_str!("checklist.toml");

/// A checklist: the controls of an audit plan and their evidence rules.
#[derive(Debug, Clone, Deserialize, Serialize)]
#[serde(deny_unknown_fields)]
pub struct Checklist {
    /// The plan's title.
    pub title: String,
    /// The controls.
    #[serde(rename = "control")]
    pub controls: Vec<Control>,
}

/// One control.
#[derive(Debug, Clone, Deserialize, Serialize)]
#[serde(deny_unknown_fields)]
pub struct Control {
    /// Number in the plan.
    pub id: u32,
    /// The plan's section.
    pub section: String,
    /// Control area.
    pub area: String,
    /// Objective.
    pub objective: String,
    /// Test procedure.
    pub procedure: String,
    /// Pass criterion.
    pub criterion: String,
    /// Whether a failure fails the audit.
    #[serde(default = "yes")]
    pub required: bool,
    /// Which evidence satisfies it.
    pub rule: Rule,
}

fn yes() -> bool {
    true
}

/// The evidence a control needs.
#[derive(Debug, Clone, Deserialize, Serialize)]
#[serde(deny_unknown_fields)]
pub struct Rule {
    /// `attachment` or `verification`.
    pub evidence: EvidenceKind,
    /// Attachments: the review may be at most this old.
    pub max_age_days: Option<u64>,
    /// Verifications: the verified levels required.
    #[serde(default)]
    pub levels: Vec<crate::evidence::record::VerifiedLevel>,
    /// Verifications: no deployment may precede the verification.
    #[serde(default)]
    pub before_deployment: bool,
}

/// Kinds of evidence.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Deserialize, Serialize)]
#[serde(rename_all = "kebab-case")]
pub enum EvidenceKind {
    /// A reviewed document.
    Attachment,
    /// A verification record.
    Verification,
}

impl Checklist {
    /// Parses a checklist; ids must be unique.
    pub fn parse(text: &str) -> Result<Self> {
        let list: Checklist =
            toml::from_str(text).map_err(|e| Error::Usage(format!("checklist: {e}")))?;
        let mut ids = std::collections::BTreeSet::new();
        for c in &list.controls {
            if !ids.insert(c.id) {
                return Err(Error::Usage(format!(
                    "checklist: control {} appears twice",
                    c.id
                )));
            }
            if c.rule.evidence == EvidenceKind::Verification && c.rule.levels.is_empty() {
                return Err(Error::Usage(format!(
                    "checklist: control {} needs levels",
                    c.id
                )));
            }
        }
        Ok(list)
    }

    /// The shipped checklist.
    pub fn default_list() -> Self {
        Self::parse(DEFAULT_CHECKLIST).expect("the shipped checklist parses")
    }
}

/// A deterministic RFC 4122 version-5-shaped UUID from `parts`.
pub(crate) fn uuid(parts: &[&str]) -> String {
    use sha2::{Digest, Sha256};
    let mut h = Sha256::new();
    for p in parts {
        h.update(p.as_bytes());
        h.update([0u8]);
    }
    let d = h.finalize();
    let mut b = [0u8; 16];
    b.copy_from_slice(&d[..16]);
    b[6] = (b[6] & 0x0f) | 0x50;
    b[8] = (b[8] & 0x3f) | 0x80;
    let x = hex::encode(b);
    format!(
        "{}-{}-{}-{}-{}",
        &x[..8],
        &x[8..12],
        &x[12..16],
        &x[16..20],
        &x[20..]
    )
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_shipped_checklist_has_the_eight_controls() {
        let list = Checklist::default_list();
        assert_eq!(list.controls.len(), 8);
        assert_eq!(list.controls[6].area, "AI Model Integrity and Provenance");
        assert!(list.controls[6].rule.before_deployment);
        assert!(Checklist::parse("title = 'x'\n[[control]]\nid = 1\n").is_err());
        assert_eq!(uuid(&["a"]).len(), 36);
        assert_eq!(&uuid(&["a"])[14..15], "5");
    }
}

#[cfg(test)]
mod evaluate_tests;
