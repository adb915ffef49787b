//! The audit's typed results: what every renderer shows and what programs
//! read (`audit --format json` is this, serialised).

use super::{AsOf, Control};
use crate::evidence::Record;
use crate::evidence::record::{
    Predicate, RecordedSigner, ResourceRef, VerificationResult, VerificationSummary, VerifiedLevel,
};
use serde::ser::SerializeStruct;
use serde::{Serialize, Serializer};

/// A control's outcome.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(rename_all = "kebab-case")]
#[non_exhaustive]
pub enum Status {
    /// The evidence satisfies the control.
    Pass,
    /// The evidence shows the control is not met.
    Fail,
    /// Nothing in the log speaks to the control.
    NoEvidence,
    /// The checklist marks the control as not applicable (with a reason).
    NotApplicable,
    /// A document control whose documents are recorded as reviewed and
    /// current, but were not given to the audit to re-hash: the digests
    /// were never compared with anything. Does not fail the audit; says so.
    RecordedNotRechecked,
}

impl Status {
    /// `pass`, `fail`, `no evidence`, `not applicable`.
    pub fn label(self) -> &'static str {
        match self {
            Status::Pass => "pass",
            Status::Fail => "fail",
            Status::NoEvidence => "no evidence",
            Status::NotApplicable => "not applicable",
            Status::RecordedNotRechecked => "recorded, not re-checked",
        }
    }

    /// `pass`, `fail`, `no-evidence`, `not-applicable`: a token, as OSCAL
    /// and the JSON report spell it.
    pub fn token(self) -> &'static str {
        match self {
            Status::Pass => "pass",
            Status::Fail => "fail",
            Status::NoEvidence => "no-evidence",
            Status::NotApplicable => "not-applicable",
            Status::RecordedNotRechecked => "recorded-not-rechecked",
        }
    }
}

/// A model (or dataset) as records name it. Findings borrow what they
/// show from the records the audit read: a report of a million records
/// holds no second copy of them.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Serialize)]
pub struct ModelRef<'a> {
    /// Its name (from the first record about it).
    pub name: &'a str,
    /// Its OMS root digest, lowercase hex SHA-256.
    pub sha256: &'a str,
}

/// A verification record (SLSA VSA) a finding relied on: shown from the
/// record itself, which the audit read.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct VerificationRef<'a> {
    record: &'a Record,
    summary: &'a VerificationSummary,
}

impl<'a> VerificationRef<'a> {
    /// The verification `summary` that `record` holds.
    pub(crate) fn new(record: &'a Record, summary: &'a VerificationSummary) -> Self {
        VerificationRef { record, summary }
    }

    /// Hex SHA-256 of the log line.
    pub fn record(&self) -> &'a str {
        &self.record.digest
    }

    /// Position in the log (0-based); reports show the record number,
    /// from 1.
    pub fn index(&self) -> usize {
        self.record.index
    }

    /// When it ran.
    pub fn time(&self) -> jiff::Timestamp {
        self.summary.time_verified
    }

    /// Passed or failed.
    pub fn result(&self) -> VerificationResult {
        self.summary.verification_result
    }

    /// What it established.
    pub fn levels(&self) -> &'a [VerifiedLevel] {
        &self.summary.verified_levels
    }

    /// Why it failed.
    pub fn failures(&self) -> &'a [String] {
        &self.summary.failures
    }

    /// Who signed: typed in new records, text in records of 0.1.0.
    pub fn signer(&self) -> Option<&'a RecordedSigner> {
        self.summary.signer.as_ref()
    }

    /// The policy applied (URI and digest), or the signature-only one.
    pub fn policy(&self) -> &'a ResourceRef {
        &self.summary.policy
    }

    /// The model directory or reference verified.
    pub fn resource(&self) -> &'a str {
        &self.summary.resource_uri
    }

    /// Who signed, as one line.
    pub fn signer_text(&self) -> String {
        self.signer()
            .map(ToString::to_string)
            .unwrap_or_else(|| "no signer recorded".into())
    }

    /// The policy, as one line: its URI and digest.
    pub fn policy_text(&self) -> String {
        let policy = self.policy();
        match policy.sha256() {
            Some(d) => format!("{} (sha256:{d})", policy.uri),
            None => policy.uri.to_string(),
        }
    }
}

/// `{"record", "number", "time", "result", "levels", "failures",
/// "signer", "policy", "resource"}`, as the JSON report has always shown a
/// verification.
impl Serialize for VerificationRef<'_> {
    fn serialize<S: Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        let mut v = s.serialize_struct("VerificationRef", 9)?;
        v.serialize_field("record", self.record())?;
        v.serialize_field("number", &(self.index() as u64 + 1))?;
        v.serialize_field("time", &self.time())?;
        v.serialize_field("result", &self.result())?;
        v.serialize_field("levels", self.levels())?;
        v.serialize_field("failures", self.failures())?;
        v.serialize_field("signer", &self.signer())?;
        v.serialize_field("policy", self.policy())?;
        v.serialize_field("resource", self.resource())?;
        v.end()
    }
}

/// How a deployment's verification was found.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(rename_all = "kebab-case")]
#[non_exhaustive]
pub enum Reliance {
    /// The deployment record names it.
    Named,
    /// The latest verification of the model before the deployment in the
    /// log (records that name none, such as those of 0.1.0).
    Latest,
}

/// What a deployment's verification shows.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
#[serde(tag = "outcome", rename_all = "kebab-case")]
#[non_exhaustive]
pub enum DeploymentOutcome {
    /// It passed with every level the control requires.
    Verified,
    /// The model had no verification before the deployment.
    NoVerification,
    /// The verification it relied on failed.
    VerificationFailed,
    /// It passed but did not establish every level required.
    MissingLevels {
        /// The levels not established.
        missing: Vec<VerifiedLevel>,
    },
    /// It applied no policy the checklist accepts.
    PolicyNotAccepted,
    /// The record names a verification that is not a verification of this
    /// model earlier in the log.
    NamedVerificationInvalid {
        /// What is wrong with it (in JSON, its one-line message).
        why: NamedVerificationError,
    },
}

/// Why the verification a deployment record names cannot be relied on
/// ([`DeploymentOutcome::NamedVerificationInvalid`]). Serialised as its
/// one-line message, as reports show it.
#[derive(Debug, Clone, PartialEq, Eq)]
#[non_exhaustive]
pub enum NamedVerificationError {
    /// No record of that digest is in the log (as of the audit date).
    NotInLog {
        /// The record as the deployment names it (`sha256:HEX`).
        record: String,
    },
    /// The record named is not a verification.
    NotVerification {
        /// The record as the deployment names it (`sha256:HEX`).
        record: String,
        /// Its predicate type.
        predicate_type: &'static str,
    },
    /// The record named is a verification of another model.
    OtherModel {
        /// The record as the deployment names it (`sha256:HEX`).
        record: String,
        /// The model it verified.
        name: std::sync::Arc<str>,
        /// That model's hex SHA-256.
        sha256: std::sync::Arc<str>,
    },
    /// The record named comes after the deployment in the log.
    AfterDeployment {
        /// The record as the deployment names it (`sha256:HEX`).
        record: String,
    },
    /// A failed verification of the same model came between the record
    /// named and the deployment: the model had changed.
    Superseded {
        /// The record as the deployment names it (`sha256:HEX`).
        record: String,
        /// Hex SHA-256 of the failed verification record.
        failed: String,
    },
}

impl std::fmt::Display for NamedVerificationError {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            NamedVerificationError::NotInLog { record } => write!(
                f,
                "it names the verification record {record}, which is not in the log (as of the audit date)"
            ),
            NamedVerificationError::NotVerification {
                record,
                predicate_type,
            } => write!(
                f,
                "it names record {record}, which is a {predicate_type} record, not a verification"
            ),
            NamedVerificationError::OtherModel {
                record,
                name,
                sha256,
            } => write!(
                f,
                "it names the verification record {record} of another model, {name} (sha256:{sha256})"
            ),
            NamedVerificationError::AfterDeployment { record } => write!(
                f,
                "it names the verification record {record}, which comes after the deployment in the log"
            ),
            NamedVerificationError::Superseded { record, failed } => write!(
                f,
                "it names the verification record {record}, superseded by the failed verification {failed} of the same model before the deployment"
            ),
        }
    }
}

impl std::error::Error for NamedVerificationError {}

impl Serialize for NamedVerificationError {
    fn serialize<S: Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        s.collect_str(self)
    }
}

/// One deployment, judged (control 7).
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct DeploymentFinding<'a> {
    /// The model deployed.
    pub model: ModelRef<'a>,
    /// Hex SHA-256 of the deployment record.
    pub record: &'a str,
    /// Position in the log (0-based); reports, JSON included, show the
    /// record number (`number`, from 1), as every format numbers records.
    #[serde(rename = "number", serialize_with = "record_number")]
    pub index: usize,
    /// When.
    pub time: jiff::Timestamp,
    /// Where.
    pub target: Option<&'a str>,
    /// How the verification was found.
    pub reliance: Reliance,
    /// The verification relied on, when there is one.
    pub verification: Option<VerificationRef<'a>>,
    /// The judgement.
    #[serde(flatten)]
    pub outcome: DeploymentOutcome,
}

impl DeploymentFinding<'_> {
    /// Whether the deployment satisfies the control.
    pub fn ok(&self) -> bool {
        self.outcome == DeploymentOutcome::Verified
    }
}

/// A model whose latest verification failed and that was never deployed:
/// the gate working.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct BlockedModel<'a> {
    /// The model.
    pub model: ModelRef<'a>,
    /// The failed verification.
    pub verification: VerificationRef<'a>,
    /// The admission service's refusals that cite that verification
    /// (`refusal/v1` records): the gate's own word that it blocked the
    /// model, where otherwise "blocked" is inferred from a deployment
    /// never recorded.
    #[serde(skip_serializing_if = "Vec::is_empty")]
    pub refused: Vec<RefusalRef<'a>>,
}

/// A refusal record of the admission service.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct RefusalRef<'a> {
    /// Hex SHA-256 of the log line.
    pub record: &'a str,
    /// Position in the log (0-based; shown from 1, as `number`).
    #[serde(rename = "number", serialize_with = "record_number")]
    pub index: usize,
    /// What was refused: `KIND NAMESPACE/NAME`.
    pub target: String,
    /// When.
    pub time: jiff::Timestamp,
}

/// A dataset or base model a verified BOM names.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct BomInput {
    /// Its name.
    pub name: String,
    /// Its OMS root digest, when the BOM gives one (base models are named
    /// only).
    pub sha256: Option<String>,
    /// The sign record of that digest, when there is one.
    pub signed_by_record: Option<String>,
}

/// The BOM a verification checked, as the record that wrote it describes it.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct BomRef {
    /// Hex SHA-256 of the BOM file.
    pub sha256: String,
    /// Hex SHA-256 of the sign or bom record that wrote it, when in the log.
    pub record: Option<String>,
    /// The datasets it names; `None` when the record that wrote it did not
    /// list them (records of 0.1.0 written by `sign --bom`) or is absent.
    pub datasets: Option<Vec<BomInput>>,
    /// The base models it names; `None` when not recorded.
    pub base_models: Option<Vec<BomInput>>,
}

/// One deployed model's supply chain, judged (control 4).
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct SupplyChainFinding<'a> {
    /// The model.
    pub model: ModelRef<'a>,
    /// Its latest passing verification with the required levels.
    pub verification: Option<VerificationRef<'a>>,
    /// The BOM that verification checked.
    pub bom: Option<BomRef>,
    /// Whether the model satisfies the control.
    pub ok: bool,
    /// Why not, or what the auditor should know.
    pub notes: Vec<String>,
}

/// What the document relied on shows (document controls).
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
#[serde(tag = "outcome", rename_all = "kebab-case")]
#[non_exhaustive]
pub enum DocumentOutcome {
    /// Reviewed, current, and (when documents were given) unchanged.
    Current,
    /// The review is older than the control allows.
    TooOld {
        /// Days between the review and the audit date.
        age_days: i64,
        /// Days allowed.
        max_days: u64,
    },
    /// The next review date has passed.
    ReviewOverdue,
    /// The review date lies after the audit date or after the record.
    ReviewedInTheFuture,
    /// No reviewer is recorded.
    NoReviewer,
    /// The document recorded is empty (0 bytes): nothing was reviewed.
    Empty,
    /// The document given to the auditor differs from the one recorded.
    Changed {
        /// Hex SHA-256 of the file given.
        found: String,
    },
    /// No document of that name was given to the auditor.
    Missing,
    /// The document given could not be read, or its recorded name cannot
    /// be looked up safely.
    Unreadable {
        /// Why.
        why: String,
    },
}

/// A document a control relied on.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct DocumentFinding<'a> {
    /// Hex SHA-256 of the attachment record.
    pub record: &'a str,
    /// Position in the log (0-based); reports, JSON included, show the
    /// record number (`number`, from 1), as every format numbers records.
    #[serde(rename = "number", serialize_with = "record_number")]
    pub index: usize,
    /// The document's file name.
    pub name: String,
    /// Hex SHA-256 of the document.
    pub sha256: String,
    /// Its version or identifier.
    pub version: Option<String>,
    /// Who reviewed it.
    pub reviewer: Option<String>,
    /// When.
    pub reviewed: jiff::civil::Date,
    /// When the next review is due (recorded, or derived from the
    /// control's maximum age).
    pub next_review: Option<jiff::civil::Date>,
    /// The model it is scoped to, when scoped.
    pub scope: Option<String>,
    /// The models it served in this audit (empty: the organisation).
    pub models: Vec<ModelRef<'a>>,
    /// Whether the auditor's copy was hashed and matched.
    pub rehashed: bool,
    /// The judgement.
    #[serde(flatten)]
    pub outcome: DocumentOutcome,
}

/// One control, judged.
#[derive(Debug, Clone, Serialize)]
pub struct ControlResult<'a> {
    /// The control as the checklist states it.
    #[serde(flatten)]
    pub control: Control,
    /// The outcome.
    pub status: Status,
    /// Why, in one paragraph.
    pub reason: String,
    /// Digests (hex SHA-256 of the log lines) of the records relied on.
    pub evidence: Vec<&'a str>,
    /// Verification controls judged per deployment: each deployment.
    #[serde(skip_serializing_if = "Vec::is_empty")]
    pub deployments: Vec<DeploymentFinding<'a>>,
    /// Models that failed verification and were never deployed.
    #[serde(skip_serializing_if = "Vec::is_empty")]
    pub blocked: Vec<BlockedModel<'a>>,
    /// Verification controls judged per deployed model.
    #[serde(skip_serializing_if = "Vec::is_empty")]
    pub supply_chain: Vec<SupplyChainFinding<'a>>,
    /// Document controls: the documents relied on.
    #[serde(skip_serializing_if = "Vec::is_empty")]
    pub documents: Vec<DocumentFinding<'a>>,
    /// Document controls: models no document speaks for.
    #[serde(skip_serializing_if = "Vec::is_empty")]
    pub without_document: Vec<ModelRef<'a>>,
}

impl ControlResult<'_> {
    /// A result with no typed findings.
    pub(crate) fn new(control: &Control, status: Status, reason: String) -> Self {
        ControlResult {
            control: control.clone(),
            status,
            reason,
            evidence: Vec::new(),
            deployments: Vec::new(),
            blocked: Vec::new(),
            supply_chain: Vec::new(),
            documents: Vec::new(),
            without_document: Vec::new(),
        }
    }

    /// Whether this result fails the audit: a required, applicable control
    /// that did not pass.
    pub fn fails_audit(&self) -> bool {
        self.control.required
            && !matches!(
                self.status,
                Status::Pass | Status::NotApplicable | Status::RecordedNotRechecked
            )
    }
}

/// The checklist an audit used, as every report shows it.
#[derive(Debug, Clone, Serialize)]
pub struct ChecklistSummary {
    /// Where it came from (`shipped` or the file given).
    pub source: String,
    /// Lowercase hex SHA-256 of its text.
    pub sha256: String,
    /// Its text (embedded in OSCAL reports, not in JSON ones).
    #[serde(skip)]
    pub text: String,
    /// How many controls it has.
    pub controls: usize,
    /// The controls it marks not applicable, with the justification.
    pub not_applicable: Vec<NotApplicable>,
    /// The controls it does not require.
    pub optional: Vec<u32>,
}

/// A control the checklist marks not applicable.
#[derive(Debug, Clone, Serialize)]
pub struct NotApplicable {
    /// The control.
    pub id: u32,
    /// Its area.
    pub area: String,
    /// Why it does not apply.
    pub justification: String,
}

/// The checkpoint the audit relied on: what the auditor keeps to prove,
/// next time, that the log was only appended to.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct CheckpointSummary {
    /// The log's origin line.
    pub origin: String,
    /// Records covered.
    pub size: u64,
    /// RFC 6962 root, lowercase hex.
    pub root: String,
}

/// What the log's witnesses hold, as checked under a witness policy.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize)]
#[non_exhaustive]
pub struct Witnessing {
    /// Whether the log's checkpoint reaches the policy's quorum.
    pub quorum: bool,
    /// The latest checkpoint size that reached it, if any.
    pub witnessed_size: Option<u64>,
    /// The cosignatures counted: the witness and when it cosigned.
    pub cosignatures: Vec<(String, jiff::Timestamp)>,
    /// Rollbacks and forks the witnesses show.
    pub problems: Vec<String>,
    /// What the quorum lacks, when it is not reached.
    pub missing: Option<String>,
    /// When the quorum had cosigned the witnessed checkpoint: by then the
    /// log held its records, whatever the writers' clocks said.
    pub trusted_time: Option<jiff::Timestamp>,
    /// For an audit as of a date: the checkpoint witnessed by that date
    /// whose records were counted.
    pub as_of: Option<WitnessedAsOf>,
}

/// The checkpoint an audit as of a date relied on under a witness policy:
/// the largest whose quorum had cosigned it by that date.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct WitnessedAsOf {
    /// The records it covers (0 when none was witnessed by then).
    pub size: u64,
    /// When its quorum had cosigned it (`None`: no checkpoint was
    /// witnessed by the date, so no record is counted).
    pub time: Option<jiff::Timestamp>,
}

impl Witnessing {
    /// Whether the log stands under the witness policy.
    pub fn ok(&self) -> bool {
        self.quorum && self.problems.is_empty()
    }
}

/// The log as the audit saw it.
#[derive(Debug, Clone, Serialize)]
pub struct LogSummary {
    /// The log as named on the command line.
    pub path: String,
    /// Records in the log.
    pub records: usize,
    /// Records counted (at or before the audit date).
    pub counted: usize,
    /// Whether every record and the checkpoint verified.
    pub intact: bool,
    /// What is wrong with it.
    pub problems: Vec<String>,
    /// The verified checkpoint relied on.
    pub checkpoint: Option<CheckpointSummary>,
    /// What was proven about an older checkpoint, when one was given.
    pub consistency: Option<String>,
    /// What the next append repairs (a killed writer's traces); a record
    /// sealed for the place beyond the checkpoint is counted.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub repairs: Vec<String>,
    /// Record times that do not follow the log, or run ahead of the
    /// audit's clock (see `evidence::TIME_TOLERANCE`): the audit fails.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub time_findings: Vec<String>,
    /// Records written before records named their log and place.
    #[serde(default, skip_serializing_if = "is_zero")]
    pub unbound: usize,
    /// When only the records inside a kept checkpoint were counted (an
    /// audit as of a date with the checkpoint kept then): their number.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub kept: Option<u64>,
    /// What the witnesses hold, when the audit ran under a witness policy:
    /// a log they do not stand behind fails the audit.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub witnesses: Option<Witnessing>,
}

/// A record's position shown as its number, counted from 1 as every
/// report format and every message counts records.
fn record_number<S: serde::Serializer>(index: &usize, s: S) -> Result<S::Ok, S::Error> {
    s.serialize_u64(*index as u64 + 1)
}

fn is_zero(n: &usize) -> bool {
    *n == 0
}

/// What happened to a model, in log order.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(rename_all = "kebab-case")]
#[non_exhaustive]
pub enum EventKind {
    /// Signed.
    Signed,
    /// An ML-BOM written.
    Bom,
    /// A verification passed.
    Verified,
    /// A verification failed.
    VerificationFailed,
    /// Deployed.
    Deployed,
}

impl EventKind {
    /// A word for people.
    pub fn label(self) -> &'static str {
        match self {
            EventKind::Signed => "signed",
            EventKind::Bom => "BOM",
            EventKind::Verified => "verified",
            EventKind::VerificationFailed => "verification failed",
            EventKind::Deployed => "deployed",
        }
    }
}

/// One event of a model's history: a record the audit read, shown
/// (serialised, rendered) from that record rather than copied.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Event<'a> {
    record: &'a Record,
    kind: EventKind,
}

impl<'a> Event<'a> {
    /// The event `record` is, when it is one of a model's history (a
    /// signing, a BOM, a verification, a deployment).
    pub(crate) fn of(record: &'a Record) -> Option<Self> {
        use crate::evidence::record::VerificationResult::Passed;
        let kind = match &record.predicate {
            Predicate::Sign(_) => EventKind::Signed,
            Predicate::Bom(_) => EventKind::Bom,
            Predicate::Verification(v) if v.verification_result == Passed => EventKind::Verified,
            Predicate::Verification(_) => EventKind::VerificationFailed,
            Predicate::Deployment(_) => EventKind::Deployed,
            _ => return None,
        };
        Some(Event { record, kind })
    }

    /// Position in the log (0-based); reports show the record number,
    /// from 1.
    pub fn index(&self) -> usize {
        self.record.index
    }

    /// Hex SHA-256 of the record.
    pub fn record(&self) -> &'a str {
        &self.record.digest
    }

    /// When.
    pub fn time(&self) -> jiff::Timestamp {
        self.record.time()
    }

    /// What.
    pub fn kind(&self) -> EventKind {
        self.kind
    }

    /// A detail (signer, target, failure).
    pub fn detail(&self) -> String {
        match &self.record.predicate {
            Predicate::Sign(s) => format!("by {}", s.signer),
            Predicate::Bom(b) => format!("{} files, {} dataset(s)", b.files, b.datasets.len()),
            Predicate::Verification(v) if self.kind == EventKind::Verified => v
                .signer
                .as_ref()
                .map(|s| format!("signer {s}"))
                .unwrap_or_default(),
            Predicate::Verification(v) => v.failures.join("; "),
            Predicate::Deployment(d) => d
                .target
                .as_deref()
                .map(|t| format!("to {t}"))
                .unwrap_or_default(),
            _ => String::new(),
        }
    }
}

/// `{"number", "record", "time", "kind", "detail"}`, as the JSON report
/// has always shown an event.
impl Serialize for Event<'_> {
    fn serialize<S: Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        let mut e = s.serialize_struct("Event", 5)?;
        e.serialize_field("number", &(self.index() as u64 + 1))?;
        e.serialize_field("record", self.record())?;
        e.serialize_field("time", &self.time())?;
        e.serialize_field("kind", &self.kind)?;
        e.serialize_field("detail", &self.detail())?;
        e.end()
    }
}

/// A model's history as the log tells it.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct ModelHistory<'a> {
    /// The model.
    pub model: ModelRef<'a>,
    /// Its events, in log order.
    pub events: Vec<Event<'a>>,
    /// Whether it was deployed.
    pub deployed: bool,
    /// Whether its latest verification failed and it was never deployed.
    pub blocked: bool,
    /// Whether it is a dataset (a BOM names it among its datasets) rather
    /// than a model.
    pub dataset: bool,
}

/// A record some finding cites, as reports list it: shown from the
/// record itself.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct CitedRecord<'a>(pub(crate) &'a Record);

impl<'a> CitedRecord<'a> {
    /// Hex SHA-256 of the log line.
    pub fn digest(&self) -> &'a str {
        &self.0.digest
    }

    /// Position in the log (0-based); reports show the record number,
    /// from 1.
    pub fn index(&self) -> usize {
        self.0.index
    }

    /// When the recorded event happened.
    pub fn time(&self) -> jiff::Timestamp {
        self.0.time()
    }

    /// The in-toto predicate type.
    pub fn predicate_type(&self) -> &'static str {
        self.0.predicate_type()
    }

    /// What the record is about (a model, dataset or document).
    pub fn subject(&self) -> ModelRef<'a> {
        ModelRef {
            name: &self.0.subject.name,
            sha256: &self.0.subject.sha256,
        }
    }

    /// Whether the subject is a document (an attachment).
    pub fn document(&self) -> bool {
        matches!(self.0.predicate, Predicate::Attachment(_))
    }

    /// The model a document is scoped to.
    pub fn scope(&self) -> Option<&'a str> {
        match &self.0.predicate {
            Predicate::Attachment(a) => a.model.as_deref(),
            _ => None,
        }
    }
}

/// `{"digest", "number", "time", "predicate_type", "subject", "document",
/// "scope"}`, as the JSON report has always listed a cited record.
impl Serialize for CitedRecord<'_> {
    fn serialize<S: Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        let mut r = s.serialize_struct("CitedRecord", 7)?;
        r.serialize_field("digest", self.digest())?;
        r.serialize_field("number", &(self.index() as u64 + 1))?;
        r.serialize_field("time", &self.time())?;
        r.serialize_field("predicate_type", self.predicate_type())?;
        r.serialize_field("subject", &self.subject())?;
        r.serialize_field("document", &self.document())?;
        r.serialize_field("scope", &self.scope())?;
        r.end()
    }
}

/// What the assessor declares about an audit, beside what it found: the
/// period, who assessed, and when and by which binary the report was made.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize)]
#[non_exhaustive]
pub struct Declaration {
    /// The period audited: deployments and refusals before it are not
    /// judged; the records they would rely on (verifications, BOMs,
    /// documents) count from whenever they were made.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub period: Option<DeclaredPeriod>,
    /// What the audit covers, in the assessor's words.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub scope: Option<String>,
    /// Who assessed.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub assessor: Option<String>,
    /// When the report was generated (the caller's clock), apart from
    /// the cutoff it was made as of.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub generated_at: Option<jiff::Timestamp>,
    /// The SHA-256 of the executable that generated it.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub executable_sha256: Option<String>,
}

/// A declared audit period.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
pub struct DeclaredPeriod {
    /// Its first instant.
    pub from: jiff::Timestamp,
    /// Its last instant (the audit's cutoff).
    pub to: jiff::Timestamp,
}

/// A whole audit.
#[derive(Debug, Clone, Serialize)]
pub struct AuditReport<'a> {
    /// The plan's title.
    pub title: String,
    /// The audit date.
    pub as_of: AsOf,
    /// Present when the audit ran under a test clock or counted records
    /// made under one: such a report is not evidence of anything.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub test_clock: Option<TestClockNote>,
    /// The tool and version that judged.
    pub tool: String,
    /// The model audited (all models when absent).
    pub model: Option<String>,
    /// The checklist used.
    pub checklist: ChecklistSummary,
    /// The evidence log.
    pub log: LogSummary,
    /// The directory of documents re-hashed, when given.
    pub documents: Option<String>,
    /// The first and last counted record's time.
    pub period: Option<(jiff::Timestamp, jiff::Timestamp)>,
    /// Every control.
    pub controls: Vec<ControlResult<'a>>,
    /// Every model in scope, with its history.
    pub models: Vec<ModelHistory<'a>>,
    /// Every record a finding cites, in log order.
    pub records: Vec<CitedRecord<'a>>,
    /// What the assessor declared.
    pub declaration: Declaration,
}

/// What of an audit a test clock touched.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
pub struct TestClockNote {
    /// The audit itself ran under a test clock.
    pub audit: bool,
    /// How many counted records were made under a test clock.
    pub records: usize,
}

impl std::fmt::Display for TestClockNote {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        let records = match self.records {
            0 => None,
            1 => Some("1 counted record was".to_string()),
            n => Some(format!("{n} counted records were")),
        };
        match (self.audit, records) {
            (_, None) => f.write_str("this audit ran under a test clock; it is not evidence"),
            (true, Some(r)) => write!(
                f,
                "this audit ran under a test clock, and {r} made under one; it is not evidence"
            ),
            (false, Some(r)) => write!(
                f,
                "{r} made under a test clock: they are not evidence, and the audit fails"
            ),
        }
    }
}

impl TestClockNote {
    /// Whether a real audit (under the system clock) counted records made
    /// under a test clock: such an audit fails.
    pub fn fails_audit(&self) -> bool {
        !self.audit && self.records > 0
    }
}

impl AuditReport<'_> {
    /// Whether the audit failed: a broken log, or a required control that
    /// did not pass (`no evidence` included).
    pub fn failed(&self) -> bool {
        !self.log.intact
            || !self.log.time_findings.is_empty()
            || self.log.witnesses.as_ref().is_some_and(|w| !w.ok())
            || self.controls.iter().any(ControlResult::fails_audit)
            || self.test_clock.is_some_and(|t| t.fails_audit())
    }
}
