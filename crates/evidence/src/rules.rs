//! The rules for recording what a person or a pipeline tells the log: a
//! deployment (and the verification it relied on), a reviewed document.
//! What an auditor could not rely on is refused before anything is written.

use crate::deploy_index::DeployIndex;
use crate::record::Digests;
use crate::record::{
    self, AttachmentEvidence, DeploymentEvidence, DocumentRef, EvidenceSubject, NewRecord,
    Predicate, Record,
};
use crate::store::ResumePoint;
use crate::{Error, Recorder, VerifyOptions, clock};

/// A deployment to record with [`Recorder::deploy`].
#[derive(Debug, Clone)]
#[non_exhaustive]
pub struct Deployment {
    /// The model deployed: its OMS root digest (lowercase hex).
    pub model: String,
    /// The model's name.
    pub name: String,
    /// Where it was deployed (a cluster and namespace, a host).
    pub target: Option<String>,
    /// The verification record relied on (hex digest); `None` relies on
    /// the latest verification of the model in the log.
    pub verification: Option<String>,
}

impl Deployment {
    /// A deployment of the model with root digest `model` called `name`.
    pub fn new(model: impl Into<String>, name: impl Into<String>) -> Self {
        Deployment {
            model: model.into(),
            name: name.into(),
            target: None,
            verification: None,
        }
    }
}

/// A deployment recorded.
#[derive(Debug, Clone)]
#[non_exhaustive]
pub struct Deployed {
    /// The deployment record's digest.
    pub digest: String,
    /// The verification it relies on: its digest and whether it passed.
    /// `None` when the log holds no verification of the model (the audit's
    /// control 7 fails for such a deployment).
    pub relied_on: Option<(String, bool)>,
}

/// Why a deployment was not recorded.
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum DeployError {
    /// The model digest is not a lowercase hex SHA-256.
    #[error("{given:?} is not a model digest (64 lowercase hex digits)")]
    BadDigest {
        /// What was given.
        given: String,
    },
    /// The verification named is not in the log.
    #[error("no record of the log has the digest {digest}")]
    NoSuchRecord {
        /// The digest named.
        digest: String,
    },
    /// The record named is not a verification.
    #[error("the record {digest} is a {kind}, not a verification")]
    NotAVerification {
        /// The digest named.
        digest: String,
        /// Its predicate type.
        kind: String,
    },
    /// The verification named verified another model.
    #[error("the record {digest} verified another model ({}, sha256:{})", .verified.name, .verified.sha256)]
    OtherModel {
        /// The digest named.
        digest: String,
        /// What it verified.
        verified: EvidenceSubject,
    },
    /// A later verification of the same model failed: the one named no
    /// longer speaks for the model.
    #[error(
        "the verification {relied} is superseded: the later verification {failed} of this model failed"
    )]
    Superseded {
        /// The verification named.
        relied: String,
        /// The later failed one.
        failed: String,
    },
    /// The log could not be read or appended to, or does not verify.
    #[error(transparent)]
    Log(#[from] Error),
}

impl DeployError {
    /// Retry, reject, tampered or usage, as [`Error::class`] tells them.
    pub fn class(&self) -> modelseal_core::ErrorClass {
        match self {
            DeployError::Log(e) => e.class(),
            _ => modelseal_core::ErrorClass::Usage,
        }
    }
}

/// A checklist control that documents serve: its number and how long a
/// review stays valid (the audit crate's checklist says which controls
/// these are).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
#[non_exhaustive]
pub struct DocumentControl {
    /// The control's number.
    pub number: u32,
    /// How many days a review stays valid, if the control says.
    pub max_age_days: Option<u64>,
}

impl DocumentControl {
    /// Control `number`, reviews valid for `max_age_days`.
    pub fn new(number: u32, max_age_days: Option<u64>) -> Self {
        DocumentControl {
            number,
            max_age_days,
        }
    }
}

/// A reviewed document to record with [`Recorder::attach`].
#[derive(Debug, Clone)]
#[non_exhaustive]
pub struct Attachment {
    /// The control it serves.
    pub control: DocumentControl,
    /// Its file name.
    pub name: String,
    /// Where it was read.
    pub uri: String,
    /// Its bytes.
    pub bytes: Vec<u8>,
    /// Who reviewed it.
    pub reviewer: String,
    /// The review date; `None` is today (UTC, by the clock given).
    pub reviewed: Option<jiff::civil::Date>,
    /// Its version or identifier.
    pub version: Option<String>,
    /// When the next review is due; `None` takes the control's period.
    pub next_review: Option<jiff::civil::Date>,
    /// The model it speaks for (OMS root digest), if one.
    pub model: Option<String>,
    /// A note.
    pub note: Option<String>,
}

impl Attachment {
    /// The document `name` (read from `uri`) for `control`, reviewed by
    /// `reviewer`.
    pub fn new(
        control: DocumentControl,
        name: impl Into<String>,
        uri: impl Into<String>,
        bytes: Vec<u8>,
        reviewer: impl Into<String>,
    ) -> Self {
        Attachment {
            control,
            name: name.into(),
            uri: uri.into(),
            bytes,
            reviewer: reviewer.into(),
            reviewed: None,
            version: None,
            next_review: None,
            model: None,
            note: None,
        }
    }
}

/// A document recorded.
#[derive(Debug, Clone)]
#[non_exhaustive]
pub struct Attached {
    /// The record's digest.
    pub digest: String,
    /// The review date recorded.
    pub reviewed: jiff::civil::Date,
    /// When the next review is due, if ever.
    pub next_review: Option<jiff::civil::Date>,
    /// Whether the next review is already past (the audit fails the
    /// control until the document is reviewed again).
    pub overdue: bool,
}

/// Why a document was not recorded.
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum AttachError {
    /// No reviewer was named.
    #[error("name who reviewed the document")]
    NoReviewer,
    /// The review date is after today.
    #[error("the review date {reviewed} is in the future (today is {today}, UTC)")]
    ReviewedInFuture {
        /// The review date given.
        reviewed: jiff::civil::Date,
        /// Today by the clock given.
        today: jiff::civil::Date,
    },
    /// The next review is not after the review.
    #[error("the next review {next} is not after the review date {reviewed}")]
    NextReviewNotAfter {
        /// The next review given.
        next: jiff::civil::Date,
        /// The review date.
        reviewed: jiff::civil::Date,
    },
    /// The document is empty.
    #[error("{name}: the document is empty; attach what was reviewed")]
    Empty {
        /// Its name.
        name: String,
    },
    /// The model digest is not a lowercase hex SHA-256.
    #[error("{given:?} is not a model digest (64 lowercase hex digits)")]
    BadDigest {
        /// What was given.
        given: String,
    },
    /// The log could not be appended to.
    #[error(transparent)]
    Log(#[from] Error),
}

impl AttachError {
    /// Retry, reject, tampered or usage, as [`Error::class`] tells them.
    pub fn class(&self) -> modelseal_core::ErrorClass {
        match self {
            AttachError::Log(e) => e.class(),
            _ => modelseal_core::ErrorClass::Usage,
        }
    }
}

/// How many times a deployment is decided again when other writers keep
/// appending between its decision and its append (each time from the
/// records they added alone).
const DEPLOY_ATTEMPTS: usize = 64;

/// Waits a little before deciding a deployment again, longer after each
/// attempt lost to another writer (up to about 20 ms) and by a random share
/// of that, so that writers that keep colliding spread out instead of
/// starving one of them.
fn back_off(attempt: usize) {
    let mut byte = [0u8; 1];
    let jitter = match getrandom::fill(&mut byte) {
        Ok(()) => u64::from(byte[0]),
        Err(_) => u64::from(std::process::id() as u8),
    };
    let base = (attempt as u64 + 1).min(10) * 1000;
    std::thread::sleep(std::time::Duration::from_micros(base + base * jitter / 255));
}

/// The record a deployment names, as read from the log.
struct Found {
    digest: String,
    kind: &'static str,
    subject: EvidenceSubject,
    /// Whether it passed, when it is a verification.
    passed: Option<bool>,
}

/// What a deployment's decision rests on: the latest verification of each
/// model, the record it names and any failed verification of the model
/// after it, over the log up to the index's point.
struct Decision<'n> {
    model: String,
    named: Option<&'n str>,
    /// The latest verification of each model, up to its point: the deploy
    /// index saved once the deployment is appended.
    index: DeployIndex,
    found: Option<Found>,
    failed_after: Option<String>,
}

impl Decision<'_> {
    /// Takes in the next record of the log.
    fn take(&mut self, r: &Record) {
        self.index.take([r]);
        let verification = match &r.predicate {
            Predicate::Verification(v) => {
                Some(v.verification_result != record::VerificationResult::Failed)
            }
            _ => None,
        };
        if self.found.is_some() {
            if *r.subject.sha256 == *self.model
                && verification == Some(false)
                && self.failed_after.is_none()
            {
                self.failed_after = Some(r.digest.to_string());
            }
        } else if self.named == Some(r.digest.as_str()) {
            self.found = Some(Found {
                digest: r.digest.to_string(),
                kind: r.predicate_type(),
                subject: r.subject.clone(),
                passed: verification,
            });
        }
    }

    /// The verification relied on (its digest, whether it passed), or why
    /// the one named cannot be.
    fn relied(&self, deployment: &Deployment) -> Result<Option<(String, bool)>, DeployError> {
        let Some(given) = &deployment.verification else {
            return Ok(self.index.relied_on(&self.model, None).unwrap_or_default());
        };
        let Some(found) = &self.found else {
            return Err(DeployError::NoSuchRecord {
                digest: given.clone(),
            });
        };
        let Some(passed) = found.passed else {
            return Err(DeployError::NotAVerification {
                digest: given.clone(),
                kind: found.kind.to_string(),
            });
        };
        if *found.subject.sha256 != *self.model {
            return Err(DeployError::OtherModel {
                digest: given.clone(),
                verified: found.subject.clone(),
            });
        }
        if let Some(failed) = &self.failed_after {
            return Err(DeployError::Superseded {
                relied: format!("sha256:{}", found.digest),
                failed: format!("sha256:{failed}"),
            });
        }
        Ok(Some((found.digest.clone(), passed)))
    }
}

/// Whether a deployment may go on from the records read after a point:
/// read from there, verified, and nothing beyond the checkpoint (a killed
/// writer's record, a torn line: the whole log decides then).
fn goes_on(resumed: crate::Resumed, check: &crate::LogCheck) -> bool {
    resumed == crate::Resumed::Read
        && check.ok()
        && check.repairs.is_empty()
        && check.pending_records.is_empty()
}

/// The tree a writer verified up to `point`, as a checkpoint the log must
/// extend.
fn tree_of(point: &ResumePoint) -> crate::Checkpoint {
    crate::Checkpoint {
        origin: point.origin.clone(),
        size: point.frontier.size(),
        root: point.frontier.root(),
    }
}

/// The log at `location` holds fewer records than the `size` already
/// verified: records removed and an older checkpoint put back.
fn cut_back(location: &str, size: u64) -> Error {
    Error::Tampered {
        log: location.to_string(),
        problem: format!(
            "it holds fewer records than the {size} this deployment already verified: cut back, records removed and an older checkpoint put back"
        ),
    }
}

/// A log check with problems, as the error that refuses to read from it.
fn tampered(check: &crate::LogCheck) -> Result<(), Error> {
    match check.problems.first() {
        None => Ok(()),
        Some(first) => Err(Error::Tampered {
            log: check.location.clone(),
            problem: match check.problems.len() {
                1 => first.to_string(),
                n => format!("{first} (and {} more problems)", n - 1),
            },
        }),
    }
}

fn is_digest(text: &str) -> bool {
    text.len() == 64 && text.bytes().all(|b| matches!(b, b'0'..=b'9' | b'a'..=b'f'))
}

impl Recorder {
    /// The log's records, after checking the whole log against this
    /// recorder's key; none for a log that has not been started. A log that
    /// does not verify is [`Error::Tampered`]: nothing is read from it.
    /// Records sealed by the key beyond the checkpoint (left by a writer
    /// that was killed, or uncovered by a checkpoint put back) are
    /// included: the next append takes them in.
    pub fn records(&self) -> Result<Vec<Record>, Error> {
        if !self.store.is_started()? {
            return Ok(Vec::new());
        }
        let check = crate::verify_store(
            self.store.as_ref(),
            &self.key.verifying_key(),
            VerifyOptions {
                older: None,
                keep_records: true,
                copy_to: None,
                now: None,
                keep_leaves: false,
            },
        )?;
        tampered(&check)?;
        let mut records = check.records;
        records.extend(check.pending_records);
        Ok(records)
    }

    /// Records a deployment with the verification it relied on: the one
    /// named, which must be a verification of this model in this log and
    /// not followed by a failed verification of it; or else the latest
    /// verification of the model in the log. A deployment with nothing to
    /// rely on, or relying on a failed verification, is recorded (it
    /// happened) and [`Deployed::relied_on`] says so: the audit fails
    /// control 7 for it.
    pub fn deploy(
        &self,
        deployment: &Deployment,
        now: clock::Now,
    ) -> Result<Deployed, DeployError> {
        if !is_digest(&deployment.model) {
            return Err(DeployError::BadDigest {
                given: deployment.model.clone(),
            });
        }
        let named = deployment
            .verification
            .as_deref()
            .map(|given| given.strip_prefix("sha256:").unwrap_or(given));
        let mut decision = self.decide(deployment, named, None)?;
        // The record is appended only at the place the decision was made
        // for. When another writer appended in between (a failed
        // verification of this model, say), the records it added are
        // verified and taken into the decision, which is made again.
        for attempt in 0..DEPLOY_ATTEMPTS {
            let relied = decision.relied(deployment)?;
            let at = decision.index.point.frontier.size();
            if let Some(digest) =
                self.append_deployment(deployment, relied.as_ref(), now, &decision.index.point)?
            {
                self.save_index(decision.index, at + 1);
                return Ok(Deployed {
                    digest,
                    relied_on: relied,
                });
            }
            // Lost to another writer: wait, then catch up and try again
            // straight after.
            back_off(attempt);
            decision = match self.catch_up(&decision.index.point)? {
                Some((records, point)) => {
                    for r in &records {
                        decision.take(r);
                    }
                    decision.index.point = point;
                    decision
                }
                None => {
                    let verified = tree_of(&decision.index.point);
                    self.decide(deployment, named, Some(verified))?
                }
            };
        }
        Err(DeployError::Log(Error::Unavailable(format!(
            "{}: other writers appended while this deployment was decided, {DEPLOY_ATTEMPTS} times; try again",
            self.store.location()
        ))))
    }

    /// What a deployment relies on, as the log stands: from this writer's
    /// deploy index and the records appended since, when the index can
    /// tell; or else from the whole log, streamed (none of its records
    /// kept).
    fn decide<'n>(
        &self,
        deployment: &Deployment,
        named: Option<&'n str>,
        verified: Option<crate::Checkpoint>,
    ) -> Result<Decision<'n>, DeployError> {
        let (index, extends) = self.indexed()?;
        // What this deployment itself verified before (a decision made
        // again) holds the log as the index does.
        let extends = verified.or(extends);
        if let Some(index) = index
            && let Some(relied) = index.relied_on(&deployment.model, named)
        {
            let found = named.and(relied).map(|(digest, passed)| Found {
                digest,
                kind: record::VSA_PREDICATE,
                subject: EvidenceSubject {
                    name: deployment.name.clone().into(),
                    sha256: deployment.model.clone().into(),
                },
                passed: Some(passed),
            });
            return Ok(Decision {
                model: deployment.model.clone(),
                named,
                index,
                found,
                failed_after: None,
            });
        }
        let mut decision = Decision {
            model: deployment.model.clone(),
            named,
            index: DeployIndex::unplaced(),
            found: None,
            failed_after: None,
        };
        if !self.store.is_started()? {
            return Ok(decision);
        }
        let (check, end, read) = crate::verify::verify_store_to_end(
            self.store.as_ref(),
            &self.key.verifying_key(),
            VerifyOptions::default(),
            extends,
            Some(&mut |r: &Record| decision.take(r)),
        )?;
        tampered(&check)?;
        decision.index.point = ResumePoint {
            origin: check.checkpoint.map(|cp| cp.origin).unwrap_or_default(),
            frontier: end,
            offset: read,
        };
        Ok(decision)
    }

    /// The records appended after `point`, verified, and where they end;
    /// `None` when they cannot be read from there or do not verify on
    /// their own (the decision is then made again from the start, holding
    /// the log to `point`). A log that now holds fewer records than `point`
    /// was cut back under this deployment: tampering.
    fn catch_up(&self, point: &ResumePoint) -> Result<Option<(Vec<Record>, ResumePoint)>, Error> {
        let key = self.key.verifying_key();
        let Ok((resumed, check, frontier, read)) =
            crate::verify::verify_store_from(self.store.as_ref(), &key, point)
        else {
            return Ok(None);
        };
        let size = point.frontier.size();
        if resumed == crate::Resumed::NoRecordThere
            || check.checkpoint.as_ref().is_some_and(|cp| cp.size < size)
        {
            return Err(cut_back(&check.location, size));
        }
        if !goes_on(resumed, &check) {
            return Ok(None);
        }
        if let (Some(cp), Some(note)) = (&check.checkpoint, &check.checkpoint_note) {
            self.store.adopt(note, &cp.origin, &frontier);
        }
        let point = ResumePoint {
            origin: point.origin.clone(),
            frontier,
            offset: read,
        };
        Ok(Some((check.records, point)))
    }

    /// Appends the deployment record right after the log the decision was
    /// made over (`at`: its size and tree), and returns its digest; `None`
    /// (nothing written) when the log has grown since. A log that holds
    /// fewer records, or other ones, was changed under this deployment:
    /// tampering.
    fn append_deployment(
        &self,
        deployment: &Deployment,
        relied: Option<&(String, bool)>,
        now: clock::Now,
        at: &ResumePoint,
    ) -> Result<Option<String>, Error> {
        let (size, root) = (at.frontier.size(), at.frontier.root());
        let location = self.store.location();
        let record = NewRecord {
            subject: EvidenceSubject {
                name: deployment.name.clone().into(),
                sha256: deployment.model.clone().into(),
            },
            predicate: Predicate::Deployment(Box::new(DeploymentEvidence {
                target: deployment.target.clone(),
                time: now.time(),
                verification: relied.map(|(digest, _)| format!("sha256:{digest}")),
                admission: None,
            })),
            clock: now.source(),
        };
        let mut sealed = String::new();
        let mut grew = false;
        let appended = self.store.append(
            &mut |binding| {
                if binding.index > size {
                    grew = true;
                    return Err(Error::Unavailable(
                        "the log grew while the deployment was decided".into(),
                    ));
                }
                if binding.index < size {
                    return Err(cut_back(&location, size));
                }
                if binding.previous != root {
                    return Err(Error::Tampered {
                        log: location.clone(),
                        problem: format!(
                            "its first {size} records are not the ones this deployment verified (the log was replaced while it was decided)"
                        ),
                    });
                }
                sealed = crate::seal_bound(&record, self.key.as_ref(), binding)?;
                Ok(sealed.clone())
            },
            self.key.as_ref(),
        );
        match appended {
            Ok(_) => Ok(Some(hex::encode(<sha2::Sha256 as sha2::Digest>::digest(
                sealed.as_bytes(),
            )))),
            Err(_) if grew => Ok(None),
            Err(e) => Err(e),
        }
    }

    /// This writer's deploy index, brought up to the log's checkpoint by
    /// verifying the records appended since it was saved. Without a usable
    /// index the whole log is read, and must then extend the tree the
    /// index covers when it is of this log (the second value): a history
    /// rewritten behind a sealed index is tampering. A log of the index's
    /// origin holding fewer records than the index covers was cut back:
    /// tampering too. (Whoever can write the index can also delete it or
    /// put an older one back; witnessed checkpoints are what holds a log
    /// to its history for good.)
    fn indexed(&self) -> Result<(Option<DeployIndex>, Option<crate::Checkpoint>), Error> {
        let key = self.key.verifying_key();
        let Some(mut index) = self
            .load_index()
            .ok()
            .flatten()
            .and_then(|bytes| DeployIndex::open(&bytes, &key))
        else {
            return Ok((None, None));
        };
        let verified = index.point.frontier.size();
        let removed = |what: String| Error::Tampered {
            log: self.location(),
            problem: format!(
                "{what}, but a writer holding the evidence key already verified {verified} records of the log {} here (its deploy index says so, under the key's seal): a log removed or replaced (if on purpose, remove the deploy index)",
                index.point.origin
            ),
        };
        if !self.store.is_started()? {
            return Err(removed("holds no log".into()));
        }
        let extends = Some(tree_of(&index.point));
        let Ok((resumed, check, frontier, read)) =
            crate::verify::verify_store_from(self.store.as_ref(), &key, &index.point)
        else {
            return Ok((None, extends));
        };
        if resumed == crate::Resumed::Unsupported {
            return Ok((None, extends));
        }
        let (Some(cp), Some(note)) = (&check.checkpoint, &check.checkpoint_note) else {
            return Ok((None, extends));
        };
        if cp.origin != index.point.origin {
            return Err(removed(format!(
                "holds another log ({})",
                cp.origin.chars().take(100).collect::<String>()
            )));
        }
        if cp.size < index.point.frontier.size() {
            return Err(Error::Tampered {
                log: check.location.clone(),
                problem: format!(
                    "its checkpoint covers {} records, fewer than the {} a writer holding the evidence key already verified (its deploy index says so, under the key's seal): cut back, records removed and an older checkpoint put back",
                    cp.size,
                    index.point.frontier.size()
                ),
            });
        }
        if !goes_on(resumed, &check) {
            return Ok((None, extends));
        }
        self.store.adopt(note, &cp.origin, &frontier);
        index.take(&check.records);
        index.point.frontier = frontier;
        index.point.offset = read;
        Ok((Some(index), None))
    }

    /// Saves `index` at where the store now stands, if that is `size`
    /// records: the append just made was the only one since what the index
    /// covers (a concurrent writer's records are left for the next
    /// deployment to verify). The index is a cache: failing to save it only
    /// makes the next deployment read the whole log.
    fn save_index(&self, mut index: DeployIndex, size: u64) {
        let Some(point) = self.store.resume_point() else {
            return;
        };
        if point.frontier.size() != size {
            return;
        }
        index.point = point;
        if let Ok(sealed) = index.seal(self.key.as_ref()) {
            let _ = self.store_index(&sealed);
        }
    }

    /// Records a reviewed document, refusing what an auditor could not rely
    /// on: no reviewer, a review date after today, a next review not after
    /// the review, an empty document. The next review defaults to the
    /// control's period after the review.
    pub fn attach(
        &self,
        attachment: &Attachment,
        now: clock::Now,
    ) -> Result<Attached, AttachError> {
        let reviewer = attachment.reviewer.trim();
        if reviewer.is_empty() {
            return Err(AttachError::NoReviewer);
        }
        let today = now.date();
        let reviewed = attachment.reviewed.unwrap_or(today);
        if reviewed > today {
            return Err(AttachError::ReviewedInFuture { reviewed, today });
        }
        let next_review = match attachment.next_review {
            Some(next) => Some(next),
            None => attachment.control.max_age_days.and_then(|days| {
                let days = i64::try_from(days).ok()?;
                reviewed
                    .checked_add(jiff::Span::new().try_days(days).ok()?)
                    .ok()
            }),
        };
        if let Some(next) = next_review
            && next <= reviewed
        {
            return Err(AttachError::NextReviewNotAfter { next, reviewed });
        }
        if let Some(model) = &attachment.model
            && !is_digest(model)
        {
            return Err(AttachError::BadDigest {
                given: model.clone(),
            });
        }
        if attachment.bytes.is_empty() {
            return Err(AttachError::Empty {
                name: attachment.name.clone(),
            });
        }
        let sha256 = hex::encode(<sha2::Sha256 as sha2::Digest>::digest(&attachment.bytes));
        let digest = self.append(&NewRecord {
            subject: EvidenceSubject {
                name: attachment.name.clone().into(),
                sha256: sha256.clone().into(),
            },
            predicate: Predicate::Attachment(Box::new(AttachmentEvidence {
                control: attachment.control.number,
                document: DocumentRef {
                    name: attachment.name.clone(),
                    uri: attachment.uri.clone(),
                    digest: Digests::from([("sha256", sha256)]),
                    size: attachment.bytes.len() as u64,
                },
                reviewer: Some(reviewer.to_string()),
                reviewed,
                version: attachment.version.clone(),
                next_review,
                model: attachment.model.clone(),
                note: attachment.note.clone(),
                recorded_at: now.time(),
            })),
            clock: now.source(),
        })?;
        Ok(Attached {
            digest,
            reviewed,
            next_review,
            overdue: next_review.is_some_and(|next| next < today),
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::keys::PrivateKey;
    use crate::record::{
        ResourceRef, SIGNATURE_ONLY_POLICY, VERIFIER_ID, VerificationResult, VerificationSummary,
        VerifierInfo,
    };

    fn recorder(dir: &std::path::Path) -> Recorder {
        let key = PrivateKey::Ed25519(ed25519_dalek::SigningKey::from_bytes(&[7u8; 32]));
        Recorder::new(&dir.join("evidence.jsonl"), key).unwrap()
    }

    /// A recorder of a log in `dir` where model `a` passed a verification
    /// at 09:00 and was deployed at 10:00 (the deploy index made), with the
    /// passed verification's digest.
    fn passed_and_deployed(dir: &std::path::Path, a: &str) -> (Recorder, String) {
        let w = recorder(dir);
        let passed = w
            .append(&verification(
                a,
                VerificationResult::Passed,
                "2026-03-01T09:00:00Z",
            ))
            .unwrap();
        w.deploy(&Deployment::new(a, "m"), at("2026-03-01T10:00:00Z"))
            .unwrap();
        (w, passed)
    }

    fn at(time: &str) -> clock::Now {
        clock::Now::test(time.parse().unwrap())
    }

    fn verification(model: &str, result: VerificationResult, time: &str) -> NewRecord {
        let time: jiff::Timestamp = time.parse().unwrap();
        NewRecord {
            subject: EvidenceSubject {
                name: "m".into(),
                sha256: model.into(),
            },
            predicate: Predicate::Verification(Box::new(VerificationSummary {
                verifier: VerifierInfo {
                    id: VERIFIER_ID.into(),
                    version: std::collections::BTreeMap::new(),
                },
                time_verified: time,
                resource_uri: "file:///m".into(),
                policy: ResourceRef::uri(SIGNATURE_ONLY_POLICY),
                input_attestations: vec![],
                verification_result: result,
                verified_levels: vec![],
                failures: match result {
                    VerificationResult::Failed => vec!["changed: model.safetensors".into()],
                    VerificationResult::Passed => vec![],
                },
                signer: None,
                ignored_paths: vec![],
                ignore_unsigned_files: false,
                links_outside_root: vec![],
                trusted_keys: vec![],
                format_exceptions: vec![],
            })),
            clock: clock::TimeSource::Test,
        }
    }

    #[test]
    fn a_deployment_relies_on_the_latest_verification_of_its_model() {
        let dir = tempfile::tempdir().unwrap();
        let r = recorder(dir.path());
        let (a, b) = ("aa".repeat(32), "bb".repeat(32));
        // Nothing to rely on in a log not yet started: recorded, and said.
        let first = r
            .deploy(&Deployment::new(a.clone(), "m"), at("2026-03-01T08:00:00Z"))
            .unwrap();
        assert_eq!(first.relied_on, None);
        let passed = r
            .append(&verification(
                &a,
                VerificationResult::Passed,
                "2026-03-01T09:00:00Z",
            ))
            .unwrap();
        r.append(&verification(
            &b,
            VerificationResult::Failed,
            "2026-03-01T09:30:00Z",
        ))
        .unwrap();
        let d = r
            .deploy(&Deployment::new(a.clone(), "m"), at("2026-03-01T10:00:00Z"))
            .unwrap();
        assert_eq!(d.relied_on, Some((passed.clone(), true)));
        let failed = r
            .append(&verification(
                &a,
                VerificationResult::Failed,
                "2026-03-02T08:00:00Z",
            ))
            .unwrap();
        let d = r
            .deploy(&Deployment::new(a.clone(), "m"), at("2026-03-02T09:00:00Z"))
            .unwrap();
        assert_eq!(d.relied_on, Some((failed, false)));
    }

    #[test]
    fn a_named_verification_must_be_this_models_and_not_superseded_by_a_failure() {
        let dir = tempfile::tempdir().unwrap();
        let r = recorder(dir.path());
        let (a, b) = ("aa".repeat(32), "bb".repeat(32));
        let march = r
            .append(&verification(
                &a,
                VerificationResult::Passed,
                "2026-03-01T09:00:00Z",
            ))
            .unwrap();
        let other = r
            .append(&verification(
                &b,
                VerificationResult::Passed,
                "2026-03-01T09:10:00Z",
            ))
            .unwrap();
        let named = |v: &str| {
            let mut d = Deployment::new(a.clone(), "m");
            d.verification = Some(v.to_string());
            d
        };
        let now = at("2026-03-03T08:05:00Z");
        assert!(matches!(
            r.deploy(&named(&"cc".repeat(32)), now),
            Err(DeployError::NoSuchRecord { .. })
        ));
        assert!(matches!(
            r.deploy(&named(&other), now),
            Err(DeployError::OtherModel { verified, .. }) if *verified.sha256 == *b
        ));
        let d = r.deploy(&named(&march), now).unwrap();
        assert_eq!(d.relied_on, Some((march.clone(), true)));
        assert!(matches!(
            r.deploy(&named(&d.digest), now),
            Err(DeployError::NotAVerification { kind, .. }) if kind.contains("deployment")
        ));
        // The model changed and its verification failed at 08:00: naming
        // the March verification at 08:05 is refused, and nothing written.
        let failed = r
            .append(&verification(
                &a,
                VerificationResult::Failed,
                "2026-03-03T08:00:00Z",
            ))
            .unwrap();
        let before = r.records().unwrap().len();
        match r.deploy(&named(&format!("sha256:{march}")), now) {
            Err(DeployError::Superseded { relied, failed: f }) => {
                assert_eq!(relied, format!("sha256:{march}"));
                assert_eq!(f, format!("sha256:{failed}"));
            }
            other => panic!("{other:?}"),
        }
        assert_eq!(r.records().unwrap().len(), before);
        assert!(matches!(
            r.deploy(&Deployment::new("AA".repeat(32), "m"), now),
            Err(DeployError::BadDigest { .. })
        ));
    }

    #[test]
    fn a_checkpoint_put_back_does_not_hide_a_later_failure_from_a_deployment() {
        let dir = tempfile::tempdir().unwrap();
        let r = recorder(dir.path());
        let a = "aa".repeat(32);
        let march = r
            .append(&verification(
                &a,
                VerificationResult::Passed,
                "2026-03-01T09:00:00Z",
            ))
            .unwrap();
        let checkpoint = crate::checkpoint_path(&dir.path().join("evidence.jsonl"));
        let older = std::fs::read(&checkpoint).unwrap();
        r.append(&verification(
            &a,
            VerificationResult::Failed,
            "2026-03-03T08:00:00Z",
        ))
        .unwrap();
        // Someone without the key puts the older checkpoint back: the
        // failed verification now lies beyond it.
        std::fs::write(&checkpoint, older).unwrap();
        let mut named = Deployment::new(a, "m");
        named.verification = Some(march);
        assert!(matches!(
            r.deploy(&named, at("2026-03-03T08:05:00Z")),
            Err(DeployError::Superseded { .. })
        ));
    }

    /// A file log that counts its whole-log scans: a deployment that used
    /// its deploy index reads only the records appended since.
    struct Counted {
        log: crate::FileLog,
        scans: std::sync::Arc<std::sync::atomic::AtomicUsize>,
        /// Run once, at the next append, before it: another writer.
        before_append: std::sync::Mutex<Option<Box<dyn FnOnce() + Send>>>,
    }

    impl crate::EvidenceStore for Counted {
        fn location(&self) -> String {
            self.log.location()
        }
        fn append(
            &self,
            seal: crate::Sealer<'_>,
            key: &dyn crate::SealKey,
        ) -> crate::Result<crate::Checkpoint> {
            let hook = self.before_append.lock().unwrap().take();
            if let Some(hook) = hook {
                hook();
            }
            self.log.append(seal, key)
        }
        fn scan(
            &self,
            visit: &mut dyn FnMut(crate::ScanItem<'_>) -> crate::Result<()>,
        ) -> crate::Result<()> {
            self.scans.fetch_add(1, std::sync::atomic::Ordering::SeqCst);
            self.log.scan(visit)
        }
        fn scan_from(
            &self,
            from: &crate::ResumePoint,
            visit: &mut dyn FnMut(crate::ScanItem<'_>) -> crate::Result<()>,
        ) -> crate::Result<crate::Resumed> {
            self.log.scan_from(from, visit)
        }
        fn adopt(&self, note: &str, origin: &str, frontier: &crate::merkle::Frontier) {
            self.log.adopt(note, origin, frontier)
        }
        fn resume_point(&self) -> Option<crate::ResumePoint> {
            self.log.resume_point()
        }
        fn load_deploy_index(&self) -> crate::Result<Option<Vec<u8>>> {
            self.log.load_deploy_index()
        }
        fn save_deploy_index(&self, sealed: &[u8]) -> crate::Result<()> {
            self.log.save_deploy_index(sealed)
        }
        fn keep_cosigned(&self, kept: &crate::KeptCosigned) -> crate::Result<()> {
            self.log.keep_cosigned(kept)
        }
        fn latest_cosigned(&self) -> crate::Result<Option<crate::KeptCosigned>> {
            self.log.latest_cosigned()
        }
        fn cosigned(
            &self,
            visit: &mut dyn FnMut(crate::KeptCosigned) -> crate::Result<()>,
        ) -> crate::Result<()> {
            self.log.cosigned(visit)
        }
        fn may_have_uncheckpointed_tail(&self) -> bool {
            true
        }
        fn is_started(&self) -> crate::Result<bool> {
            self.log.is_started()
        }
    }

    /// A recorder in a fresh process, as each `evidence deploy` is, and how
    /// many times it has read the whole log.
    fn counted(
        dir: &std::path::Path,
    ) -> (Recorder, std::sync::Arc<std::sync::atomic::AtomicUsize>) {
        let scans = std::sync::Arc::new(std::sync::atomic::AtomicUsize::new(0));
        let store = Counted {
            log: crate::FileLog::new(&dir.join("evidence.jsonl")),
            scans: scans.clone(),
            before_append: Default::default(),
        };
        let key = PrivateKey::Ed25519(ed25519_dalek::SigningKey::from_bytes(&[7u8; 32]));
        (Recorder::with_store(Box::new(store), key).unwrap(), scans)
    }

    fn whole_scans(scans: &std::sync::atomic::AtomicUsize) -> usize {
        scans.load(std::sync::atomic::Ordering::SeqCst)
    }

    #[test]
    fn a_deployment_reads_only_what_was_appended_since_the_last_one() {
        let dir = tempfile::tempdir().unwrap();
        let a = "aa".repeat(32);
        let passed = recorder(dir.path())
            .append(&verification(
                &a,
                VerificationResult::Passed,
                "2026-03-01T09:00:00Z",
            ))
            .unwrap();
        // The first deployment reads the whole log and leaves the index.
        let (r, scans) = counted(dir.path());
        let d = r
            .deploy(&Deployment::new(a.clone(), "m"), at("2026-03-01T10:00:00Z"))
            .unwrap();
        assert_eq!(d.relied_on, Some((passed.clone(), true)));
        assert_eq!(whole_scans(&scans), 1);
        assert!(crate::deploy_index_path(&dir.path().join("evidence.jsonl")).exists());
        // A verification appended by another writer since: the next
        // deployment (another process) verifies it and relies on it,
        // without reading the log whole.
        let failed = recorder(dir.path())
            .append(&verification(
                &a,
                VerificationResult::Failed,
                "2026-03-02T08:00:00Z",
            ))
            .unwrap();
        let (r, scans) = counted(dir.path());
        let d = r
            .deploy(&Deployment::new(a.clone(), "m"), at("2026-03-02T09:00:00Z"))
            .unwrap();
        assert_eq!(d.relied_on, Some((failed.clone(), false)));
        assert_eq!(whole_scans(&scans), 0);
        // Naming the older verification: the index cannot decide; the whole
        // log does, and refuses it as superseded.
        let mut named = Deployment::new(a.clone(), "m");
        named.verification = Some(passed);
        assert!(matches!(
            r.deploy(&named, at("2026-03-02T09:05:00Z")),
            Err(DeployError::Superseded { .. })
        ));
        assert_eq!(whole_scans(&scans), 1);
        // Naming the latest one: decided from the index.
        named.verification = Some(format!("sha256:{failed}"));
        let (r, scans) = counted(dir.path());
        let d = r.deploy(&named, at("2026-03-02T09:10:00Z")).unwrap();
        assert_eq!(d.relied_on, Some((failed, false)));
        assert_eq!(whole_scans(&scans), 0);
        // The log the fast path wrote verifies whole.
        let check = crate::verify_log(
            &dir.path().join("evidence.jsonl"),
            &ed25519_dalek::SigningKey::from_bytes(&[7u8; 32]).verifying_key(),
            None,
        )
        .unwrap();
        assert!(check.ok(), "{:?}", check.problems);
        assert_eq!(check.records.len(), 5);
    }

    #[test]
    fn a_deploy_index_is_never_trusted_blindly() {
        let dir = tempfile::tempdir().unwrap();
        let log = dir.path().join("evidence.jsonl");
        let index = crate::deploy_index_path(&log);
        let a = "aa".repeat(32);
        let (w, passed) = passed_and_deployed(dir.path(), &a);
        let failed = w
            .append(&verification(
                &a,
                VerificationResult::Failed,
                "2026-03-02T08:00:00Z",
            ))
            .unwrap();
        w.deploy(&Deployment::new(a.clone(), "m"), at("2026-03-02T09:00:00Z"))
            .unwrap();
        let sealed = std::fs::read(&index).unwrap();

        // Someone with file access, not the key, edits the index to make
        // the passed verification the latest: the seal breaks, the index
        // is ignored, and the whole log decides.
        let mut envelope: crate::bundle::Envelope = serde_json::from_slice(&sealed).unwrap();
        let payload = String::from_utf8(envelope.payload_bytes().unwrap()).unwrap();
        assert!(payload.contains(&failed));
        use base64::Engine;
        envelope.payload = base64::engine::general_purpose::STANDARD.encode(
            payload
                .replace(&failed, &passed)
                .replace("\"passed\":false", "\"passed\":true"),
        );
        std::fs::write(&index, serde_json::to_vec(&envelope).unwrap()).unwrap();
        let (r, scans) = counted(dir.path());
        let d = r
            .deploy(&Deployment::new(a.clone(), "m"), at("2026-03-02T09:05:00Z"))
            .unwrap();
        assert_eq!(d.relied_on, Some((failed.clone(), false)));
        assert_eq!(whole_scans(&scans), 1);

        // An index sealed by another key, or garbage: ignored the same way.
        let other = ed25519_dalek::SigningKey::from_bytes(&[9u8; 32]);
        let forged = crate::deploy_index::DeployIndex::open(
            &std::fs::read(&index).unwrap(),
            &ed25519_dalek::SigningKey::from_bytes(&[7u8; 32]).verifying_key(),
        )
        .unwrap();
        std::fs::write(&index, forged.seal(&other).unwrap()).unwrap();
        let (r, scans) = counted(dir.path());
        r.deploy(&Deployment::new(a.clone(), "m"), at("2026-03-02T09:06:00Z"))
            .unwrap();
        assert_eq!(whole_scans(&scans), 1);
        std::fs::write(&index, b"{}").unwrap();
        let (r, scans) = counted(dir.path());
        r.deploy(&Deployment::new(a.clone(), "m"), at("2026-03-02T09:07:00Z"))
            .unwrap();
        assert_eq!(whole_scans(&scans), 1);

        // A record appended since the index, edited in place (same length):
        // the tail check finds it, and the whole log refuses as tampering.
        let keep_log = std::fs::read(&log).unwrap();
        let keep_checkpoint = std::fs::read(crate::checkpoint_path(&log)).unwrap();
        w.append(&verification(
            &a,
            VerificationResult::Passed,
            "2026-03-02T10:00:00Z",
        ))
        .unwrap();
        let mut bytes = std::fs::read(&log).unwrap();
        let last = bytes.len() - 20;
        bytes[last] = if bytes[last] == b'A' { b'B' } else { b'A' };
        std::fs::write(&log, &bytes).unwrap();
        let (r, _) = counted(dir.path());
        let e = r
            .deploy(&Deployment::new(a.clone(), "m"), at("2026-03-02T10:05:00Z"))
            .unwrap_err();
        assert_eq!(e.class(), modelseal_core::ErrorClass::Tampered, "{e}");

        // The log and checkpoint put back as they were before that append:
        // the history the index covers, so the deployment goes on from it.
        // Put back once more, after that deployment: the log is consistent
        // with its checkpoint and verifies whole, but it holds fewer records
        // than the index covers. Cut back: tampering the index alone tells.
        std::fs::write(&log, &keep_log).unwrap();
        std::fs::write(crate::checkpoint_path(&log), &keep_checkpoint).unwrap();
        let (r, scans) = counted(dir.path());
        r.deploy(&Deployment::new(a.clone(), "m"), at("2026-03-02T10:06:00Z"))
            .unwrap();
        assert_eq!(whole_scans(&scans), 0);
        std::fs::write(&log, &keep_log).unwrap();
        std::fs::write(crate::checkpoint_path(&log), &keep_checkpoint).unwrap();
        let check = crate::verify_log(
            &log,
            &ed25519_dalek::SigningKey::from_bytes(&[7u8; 32]).verifying_key(),
            None,
        )
        .unwrap();
        assert!(
            check.ok(),
            "whole, the cut-back log verifies: {:?}",
            check.problems
        );
        let (r, _) = counted(dir.path());
        let e = r
            .deploy(&Deployment::new(a.clone(), "m"), at("2026-03-02T10:07:00Z"))
            .unwrap_err();
        assert_eq!(e.class(), modelseal_core::ErrorClass::Tampered, "{e}");
        assert!(e.to_string().contains("already verified"), "{e}");

        // The log removed: the index knows there was one. Refused until the
        // index is removed too (a log removed on purpose).
        std::fs::remove_file(&log).unwrap();
        std::fs::remove_file(crate::checkpoint_path(&log)).unwrap();
        let (r, _) = counted(dir.path());
        let e = r
            .deploy(&Deployment::new(a.clone(), "m"), at("2026-03-02T10:08:00Z"))
            .unwrap_err();
        assert_eq!(e.class(), modelseal_core::ErrorClass::Tampered, "{e}");
        assert!(e.to_string().contains("holds no log"), "{e}");
        std::fs::remove_file(&index).unwrap();
        let (r, scans) = counted(dir.path());
        let d = r
            .deploy(&Deployment::new(a, "m"), at("2026-03-02T10:09:00Z"))
            .unwrap();
        assert_eq!(d.relied_on, None);
        assert_eq!(whole_scans(&scans), 0, "a log not started is not read");
    }

    /// A log holding a passed, then a failed verification of model `a`,
    /// its writer, and the log and checkpoint as they were between the two.
    fn passed_then_failed(dir: &std::path::Path, a: &str) -> (Recorder, Vec<u8>, Vec<u8>) {
        let log = dir.join("evidence.jsonl");
        let w = recorder(dir);
        w.append(&verification(
            a,
            VerificationResult::Passed,
            "2026-03-01T09:00:00Z",
        ))
        .unwrap();
        let old_log = std::fs::read(&log).unwrap();
        let old_checkpoint = std::fs::read(crate::checkpoint_path(&log)).unwrap();
        w.append(&verification(
            a,
            VerificationResult::Failed,
            "2026-03-01T09:30:00Z",
        ))
        .unwrap();
        (w, old_log, old_checkpoint)
    }

    #[test]
    fn a_history_rewritten_or_another_log_behind_the_index_is_refused() {
        let dir = tempfile::tempdir().unwrap();
        let log = dir.path().join("evidence.jsonl");
        let checkpoint = crate::checkpoint_path(&log);
        let a = "aa".repeat(32);
        let (w, old_log, old_checkpoint) = passed_then_failed(dir.path(), &a);
        w.deploy(&Deployment::new(a.clone(), "m"), at("2026-03-01T10:00:00Z"))
            .unwrap();
        // The failed verification cut away, then the log grown again past
        // the index by a writer with the key (nothing wrong in the log
        // itself): it is not the history the index covers.
        std::fs::write(&log, &old_log).unwrap();
        std::fs::write(&checkpoint, &old_checkpoint).unwrap();
        let append_passed = |records: usize, time: &str| {
            let w = recorder(dir.path());
            for _ in 0..records {
                w.append(&verification(&a, VerificationResult::Passed, time))
                    .unwrap();
            }
        };
        let refused = |time: &str, why: &str| {
            let (r, _) = counted(dir.path());
            let e = r
                .deploy(&Deployment::new(a.clone(), "m"), at(time))
                .unwrap_err();
            assert_eq!(e.class(), modelseal_core::ErrorClass::Tampered, "{e}");
            assert!(e.to_string().contains(why), "{e}");
        };
        append_passed(3, "2026-03-01T11:00:00Z");
        refused("2026-03-01T11:05:00Z", "not an extension");

        // Another log of the same key in its place (another origin, a log
        // kept elsewhere copied over this one): refused, until the index
        // is removed too (a log replaced on purpose).
        std::fs::remove_file(&log).unwrap();
        std::fs::remove_file(&checkpoint).unwrap();
        append_passed(5, "2026-03-01T12:00:00Z");
        refused("2026-03-01T12:05:00Z", "holds another log");
        std::fs::remove_file(crate::deploy_index_path(&log)).unwrap();
        let (r, scans) = counted(dir.path());
        let d = r
            .deploy(&Deployment::new(a, "m"), at("2026-03-01T12:06:00Z"))
            .unwrap();
        assert_eq!(d.relied_on.map(|(_, passed)| passed), Some(true));
        assert_eq!(whole_scans(&scans), 1);
    }

    #[test]
    fn a_record_a_killed_writer_left_is_relied_on_and_taken_in() {
        let dir = tempfile::tempdir().unwrap();
        let log = dir.path().join("evidence.jsonl");
        let checkpoint = crate::checkpoint_path(&log);
        let a = "aa".repeat(32);
        let (w, _) = passed_and_deployed(dir.path(), &a);
        // A writer killed between its record and its checkpoint: a failed
        // verification lies beyond the checkpoint the index matches.
        let before = std::fs::read(&checkpoint).unwrap();
        let failed = w
            .append(&verification(
                &a,
                VerificationResult::Failed,
                "2026-03-01T11:00:00Z",
            ))
            .unwrap();
        std::fs::write(&checkpoint, before).unwrap();
        let (r, scans) = counted(dir.path());
        let d = r
            .deploy(&Deployment::new(a, "m"), at("2026-03-01T11:05:00Z"))
            .unwrap();
        assert_eq!(d.relied_on, Some((failed, false)));
        assert_eq!(
            whole_scans(&scans),
            1,
            "the index does not go past a pending record"
        );
        let check = crate::verify_log(
            &log,
            &ed25519_dalek::SigningKey::from_bytes(&[7u8; 32]).verifying_key(),
            None,
        )
        .unwrap();
        assert!(
            check.ok() && check.repairs.is_empty(),
            "{:?} {:?}",
            check.problems,
            check.repairs
        );
        assert_eq!(check.records.len(), 4);
    }

    #[test]
    fn a_verification_appended_between_decision_and_append_is_taken_into_account() {
        let dir = tempfile::tempdir().unwrap();
        let a = "aa".repeat(32);
        let (w, _) = passed_and_deployed(dir.path(), &a);
        for index in [true, false] {
            if !index {
                std::fs::remove_file(crate::deploy_index_path(&dir.path().join("evidence.jsonl")))
                    .unwrap();
            }
            // Another writer appends a failed verification of the model
            // after this deployment decided on the passed one.
            let failed = std::sync::Arc::new(std::sync::Mutex::new(String::new()));
            let (failed_out, path, a2) = (failed.clone(), dir.path().to_path_buf(), a.clone());
            let scans = std::sync::Arc::new(std::sync::atomic::AtomicUsize::new(0));
            let store = Counted {
                log: crate::FileLog::new(&dir.path().join("evidence.jsonl")),
                scans: scans.clone(),
                before_append: std::sync::Mutex::new(Some(Box::new(move || {
                    *failed_out.lock().unwrap() = recorder(&path)
                        .append(&verification(
                            &a2,
                            VerificationResult::Failed,
                            "2026-03-02T08:00:00Z",
                        ))
                        .unwrap();
                }))),
            };
            let key = PrivateKey::Ed25519(ed25519_dalek::SigningKey::from_bytes(&[7u8; 32]));
            let r = Recorder::with_store(Box::new(store), key).unwrap();
            let d = r
                .deploy(&Deployment::new(a.clone(), "m"), at("2026-03-02T08:05:00Z"))
                .unwrap();
            let failed = failed.lock().unwrap().clone();
            assert_eq!(d.relied_on, Some((failed, false)), "with an index: {index}");
            // The decision made again from the records added alone: the
            // whole log is read at most once, for the first decision.
            assert_eq!(
                whole_scans(&scans),
                usize::from(!index),
                "with an index: {index}"
            );
            // Recorded once, after the failed verification.
            let records = recorder(dir.path()).records().unwrap();
            assert_eq!(records.last().unwrap().digest, d.digest);
            w.append(&verification(
                &a,
                VerificationResult::Passed,
                "2026-03-02T09:00:00Z",
            ))
            .unwrap();
        }
    }

    /// A store whose next append first runs `hook` (another writer, or
    /// someone with file access, acting between decision and append).
    fn interleaved(dir: &std::path::Path, hook: impl FnOnce() + Send + 'static) -> Recorder {
        let store = Counted {
            log: crate::FileLog::new(&dir.join("evidence.jsonl")),
            scans: Default::default(),
            before_append: std::sync::Mutex::new(Some(Box::new(hook))),
        };
        let key = PrivateKey::Ed25519(ed25519_dalek::SigningKey::from_bytes(&[7u8; 32]));
        Recorder::with_store(Box::new(store), key).unwrap()
    }

    #[test]
    fn a_named_verification_superseded_between_decision_and_append_is_refused() {
        let dir = tempfile::tempdir().unwrap();
        let a = "aa".repeat(32);
        let w = recorder(dir.path());
        let passed = w
            .append(&verification(
                &a,
                VerificationResult::Passed,
                "2026-03-01T09:00:00Z",
            ))
            .unwrap();
        let (path, a2) = (dir.path().to_path_buf(), a.clone());
        let r = interleaved(dir.path(), move || {
            recorder(&path)
                .append(&verification(
                    &a2,
                    VerificationResult::Failed,
                    "2026-03-01T09:30:00Z",
                ))
                .unwrap();
        });
        let mut named = Deployment::new(a, "m");
        named.verification = Some(passed);
        assert!(matches!(
            r.deploy(&named, at("2026-03-01T09:31:00Z")),
            Err(DeployError::Superseded { .. })
        ));
        // Nothing written: the passed and the failed verification alone.
        assert_eq!(recorder(dir.path()).records().unwrap().len(), 2);
    }

    #[test]
    fn a_log_cut_back_between_decision_and_append_is_tampering() {
        let dir = tempfile::tempdir().unwrap();
        let log = dir.path().join("evidence.jsonl");
        let checkpoint = crate::checkpoint_path(&log);
        let a = "aa".repeat(32);
        let (_, old_log, old_checkpoint) = passed_then_failed(dir.path(), &a);
        // After the deployment decided on the failed verification, someone
        // with file access puts back the log of one record ago.
        let (l, c) = (log.clone(), checkpoint.clone());
        let r = interleaved(dir.path(), move || {
            std::fs::write(&l, old_log).unwrap();
            std::fs::write(&c, old_checkpoint).unwrap();
        });
        let e = r
            .deploy(&Deployment::new(a, "m"), at("2026-03-01T09:31:00Z"))
            .unwrap_err();
        assert_eq!(e.class(), modelseal_core::ErrorClass::Tampered, "{e}");
        assert!(e.to_string().contains("already verified"), "{e}");
    }

    #[test]
    fn a_log_edited_before_the_index_point_is_read_whole() {
        let dir = tempfile::tempdir().unwrap();
        let log = dir.path().join("evidence.jsonl");
        let a = "aa".repeat(32);
        passed_and_deployed(dir.path(), &a);
        // A byte added inside the first record: the index's offset no
        // longer starts a record, and nothing was appended since. The
        // index cannot vouch for such a file: the whole log is read, and
        // refuses.
        let mut bytes = std::fs::read(&log).unwrap();
        bytes.insert(10, b' ');
        std::fs::write(&log, &bytes).unwrap();
        let (r, scans) = counted(dir.path());
        let e = r
            .deploy(&Deployment::new(a, "m"), at("2026-03-01T10:05:00Z"))
            .unwrap_err();
        assert_eq!(e.class(), modelseal_core::ErrorClass::Tampered, "{e}");
        assert_eq!(whole_scans(&scans), 1);
    }

    #[test]
    fn a_deployment_into_a_tampered_log_is_refused_as_tampering() {
        let dir = tempfile::tempdir().unwrap();
        let r = recorder(dir.path());
        let a = "aa".repeat(32);
        r.append(&verification(
            &a,
            VerificationResult::Passed,
            "2026-03-01T09:00:00Z",
        ))
        .unwrap();
        let log = dir.path().join("evidence.jsonl");
        // Someone with write access to the file, not the key, cuts the
        // record in half: the checkpoint no longer matches.
        let sealed = std::fs::read(&log).unwrap();
        std::fs::write(&log, &sealed[..sealed.len() / 2]).unwrap();
        let e = r
            .deploy(&Deployment::new(a, "m"), at("2026-03-01T10:00:00Z"))
            .unwrap_err();
        assert_eq!(e.class(), modelseal_core::ErrorClass::Tampered, "{e}");
    }

    #[test]
    fn attachments_an_auditor_could_not_rely_on_are_refused() {
        let dir = tempfile::tempdir().unwrap();
        let r = recorder(dir.path());
        let now = at("2026-06-10T12:00:00Z");
        let control = DocumentControl::new(1, Some(365));
        let doc = |reviewer: &str| {
            Attachment::new(
                control,
                "policy.md",
                "policy.md",
                b"# policy".to_vec(),
                reviewer,
            )
        };
        assert!(matches!(
            r.attach(&doc("  "), now),
            Err(AttachError::NoReviewer)
        ));
        let mut future = doc("lead");
        future.reviewed = Some("2026-06-11".parse().unwrap());
        assert!(matches!(
            r.attach(&future, now),
            Err(AttachError::ReviewedInFuture { .. })
        ));
        let mut backwards = doc("lead");
        backwards.reviewed = Some("2026-06-01".parse().unwrap());
        backwards.next_review = Some("2026-06-01".parse().unwrap());
        assert!(matches!(
            r.attach(&backwards, now),
            Err(AttachError::NextReviewNotAfter { .. })
        ));
        let mut empty = doc("lead");
        empty.bytes.clear();
        assert!(matches!(
            r.attach(&empty, now),
            Err(AttachError::Empty { .. })
        ));
        assert!(r.records().unwrap().is_empty(), "nothing was written");

        // The control's period sets the next review; one already past is
        // recorded and flagged.
        let mut old = doc("lead");
        old.reviewed = Some("2025-01-02".parse().unwrap());
        let attached = r.attach(&old, now).unwrap();
        assert_eq!(attached.next_review, Some("2026-01-02".parse().unwrap()));
        assert!(attached.overdue);
        let fresh = r.attach(&doc("lead"), now).unwrap();
        assert_eq!(fresh.reviewed, now.date());
        assert!(!fresh.overdue);
        assert_eq!(r.records().unwrap().len(), 2);
    }
}
