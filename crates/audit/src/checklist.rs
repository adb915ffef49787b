//! The checklist: the controls of the audit plan and the evidence rule of
//! each, as data (TOML). Its SHA-256 is printed in every report, so a green
//! audit cannot hide a checklist that was trimmed or relaxed.

use crate::evidence::record::VerifiedLevel;
use crate::{Error, Result};
use serde::{Deserialize, Serialize};
use std::collections::BTreeSet;

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
    /// Lowercase hex SHA-256 of the checklist text as read.
    #[serde(skip)]
    pub sha256: String,
    /// The checklist text as read (embedded in OSCAL reports).
    #[serde(skip)]
    pub text: String,
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
    /// Whether the audit fails unless this control passes.
    #[serde(default = "yes")]
    pub required: bool,
    /// Why the control does not apply, when the checklist says so: it is
    /// then not evaluated, and every report lists it with this reason.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub not_applicable: Option<String>,
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
    /// `attachment` (a document control) or `verification`.
    pub evidence: EvidenceKind,
    /// Documents: the review may be at most this many days old, and the
    /// next review is due this many days after a review unless the
    /// attachment names another date.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub max_age_days: Option<u64>,
    /// Verifications: the verified levels required.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub levels: Vec<VerifiedLevel>,
    /// Verifications: judged per deployment, on the verification each
    /// deployment relied on; without it, judged per deployed model, on its
    /// latest passing verification.
    #[serde(default)]
    pub before_deployment: bool,
    /// Verifications: the policies accepted (`sha256:HEX` of the policy
    /// file); when given, the verification must have applied one of them.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub policies: Vec<String>,
    /// Verifications: every dataset the verified BOM names must itself have
    /// been signed (a sign record whose subject is the dataset's digest).
    #[serde(default, skip_serializing_if = "std::ops::Not::not")]
    pub datasets_signed: bool,
    /// Verifications: every dataset and base model the verified BOM names
    /// must be pinned by its digest (a name alone says nothing about
    /// which data or weights).
    #[serde(default, skip_serializing_if = "std::ops::Not::not")]
    pub inputs_pinned: bool,
}

/// Kinds of evidence.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Deserialize, Serialize)]
#[serde(rename_all = "kebab-case")]
#[non_exhaustive]
pub enum EvidenceKind {
    /// A reviewed document (`evidence attach`).
    Attachment,
    /// Verification records (SLSA VSAs) and deployments.
    Verification,
}

impl Control {
    /// Whether the control is judged from attached documents.
    pub fn is_document_control(&self) -> bool {
        self.rule.evidence == EvidenceKind::Attachment
    }
}

impl Checklist {
    /// Parses a checklist. Ids must be unique, a not-applicable control
    /// needs a justification, and each rule may only use the settings of
    /// its kind.
    pub fn parse(text: &str) -> Result<Self> {
        let mut list: Checklist =
            toml::from_str(text).map_err(|e| Error::Usage(format!("checklist: {e}")))?;
        list.sha256 = hex::encode(<sha2::Sha256 as sha2::Digest>::digest(text.as_bytes()));
        list.text = text.to_string();
        if list.controls.is_empty() {
            return Err(Error::Usage("checklist: no controls".into()));
        }
        let mut ids = BTreeSet::new();
        for c in &list.controls {
            let bad = |why: &str| Err(Error::Usage(format!("checklist: control {}: {why}", c.id)));
            if !ids.insert(c.id) {
                return bad("appears twice");
            }
            if c.not_applicable
                .as_deref()
                .is_some_and(|j| j.trim().is_empty())
            {
                return bad("not_applicable needs a justification");
            }
            let r = &c.rule;
            match r.evidence {
                EvidenceKind::Attachment => {
                    if !r.levels.is_empty()
                        || r.before_deployment
                        || !r.policies.is_empty()
                        || r.datasets_signed
                    {
                        return bad(
                            "levels, before_deployment, policies and datasets_signed are for verification rules",
                        );
                    }
                    // A review period longer than a century is a typo, and
                    // past the calendar's range it could not be added to a
                    // date at all.
                    if r.max_age_days.is_some_and(|d| d == 0 || d > 36_525) {
                        return bad("max_age_days must be 1 to 36525");
                    }
                }
                EvidenceKind::Verification => {
                    if r.levels.is_empty() {
                        return bad("a verification rule needs levels");
                    }
                    if r.max_age_days.is_some() {
                        return bad("max_age_days is for attachment rules");
                    }
                    if let Some(p) = r.policies.iter().find(|p| !is_sha256(p)) {
                        return bad(&format!("policies: {p:?} is not sha256:HEX"));
                    }
                }
            }
        }
        Ok(list)
    }

    /// The shipped checklist.
    pub fn default_list() -> Self {
        Self::parse(DEFAULT_CHECKLIST).expect("the shipped checklist parses")
    }

    /// The control with this id.
    pub fn control(&self, id: u32) -> Option<&Control> {
        self.controls.iter().find(|c| c.id == id)
    }

    /// The document control with this id, or why there is none: what
    /// `evidence attach` accepts.
    pub fn document_control(&self, id: u32) -> Result<&Control> {
        let control = self
            .control(id)
            .ok_or_else(|| Error::Usage(format!("control {id} is not in the checklist")))?;
        if !control.is_document_control() {
            return Err(Error::Usage(format!(
                "control {id} ({}) is judged from verification and deployment records, not from documents",
                control.area
            )));
        }
        Ok(control)
    }
}

fn is_sha256(text: &str) -> bool {
    text.strip_prefix("sha256:")
        .is_some_and(|h| h.len() == 64 && h.bytes().all(|b| matches!(b, b'0'..=b'9' | b'a'..=b'f')))
}

#[cfg(test)]
mod tests {
    use super::*;

    fn with_control(rule: &str, extra: &str) -> String {
        format!(
            "title = 't'\n[[control]]\nid = 1\nsection = 's'\narea = 'a'\nobjective = 'o'\nprocedure = 'p'\ncriterion = 'c'\n{extra}\nrule = {rule}\n"
        )
    }

    #[test]
    fn the_shipped_checklist_has_the_eight_controls() {
        let list = Checklist::default_list();
        assert_eq!(list.controls.len(), 8);
        assert_eq!(list.controls[6].area, "AI Model Integrity and Provenance");
        assert!(list.controls[6].rule.before_deployment);
        assert!(list.controls.iter().all(|c| c.required));
        assert!(list.controls.iter().all(|c| c.not_applicable.is_none()));
        let documents: Vec<u32> = list
            .controls
            .iter()
            .filter(|c| c.is_document_control())
            .map(|c| c.id)
            .collect();
        assert_eq!(documents, [1, 2, 3, 5, 6, 8]);
        assert_eq!(list.sha256.len(), 64);
    }

    #[test]
    fn a_checklist_is_refused_when_it_says_too_little_or_mixes_rules() {
        assert!(Checklist::parse("title = 'x'\n[[control]]\nid = 1\n").is_err());
        for days in [0u64, 36_526, u64::MAX] {
            let text = with_control(
                &format!("{{ evidence = 'attachment', max_age_days = {days} }}"),
                "",
            );
            assert!(Checklist::parse(&text).is_err(), "{days}");
        }
        let ok = with_control("{ evidence = 'attachment', max_age_days = 30 }", "");
        assert!(Checklist::parse(&ok).is_ok());
        for (rule, extra, why) in [
            (
                "{ evidence = 'attachment' }",
                "not_applicable = '  '",
                "justification",
            ),
            ("{ evidence = 'verification' }", "", "needs levels"),
            (
                "{ evidence = 'attachment', levels = ['MODELSEAL_FILES_VERIFIED'] }",
                "",
                "for verification rules",
            ),
            (
                "{ evidence = 'verification', levels = ['MODELSEAL_FILES_VERIFIED'], max_age_days = 3 }",
                "",
                "for attachment rules",
            ),
            (
                "{ evidence = 'verification', levels = ['MODELSEAL_FILES_VERIFIED'], policies = ['abc'] }",
                "",
                "not sha256:HEX",
            ),
        ] {
            let err = Checklist::parse(&with_control(rule, extra)).unwrap_err();
            assert!(err.to_string().contains(why), "{rule} {extra}: {err}");
        }
    }

    #[test]
    fn the_digest_is_of_the_text_and_document_controls_are_looked_up() {
        let a = with_control("{ evidence = 'attachment' }", "");
        let b = format!("{a}\n");
        let (a, b) = (Checklist::parse(&a).unwrap(), Checklist::parse(&b).unwrap());
        assert_ne!(a.sha256, b.sha256, "one more byte, another digest");
        let list = Checklist::default_list();
        assert_eq!(list.document_control(5).unwrap().id, 5);
        assert!(
            list.document_control(7)
                .unwrap_err()
                .to_string()
                .contains("not from documents")
        );
        assert!(list.document_control(9).is_err());
    }
}
