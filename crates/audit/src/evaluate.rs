//! Evaluating each control of a checklist against a checked evidence log.

use super::report::{
    AuditReport, ChecklistSummary, CheckpointSummary, CitedRecord, ControlResult, LogSummary,
    NotApplicable, Status, TestClockNote,
};
use super::view::View;
use super::{AsOf, Checklist, EvidenceKind, deployments, documents, history, supply_chain};
use crate::clock::TimeSource;
use crate::evidence::record::Predicate;
use crate::evidence::{LogCheck, Record};
use std::path::PathBuf;

/// What an audit is asked: the checklist, the checked log, the scope and
/// the date, and optionally the documents the auditor was given.
#[derive(Debug, Clone)]
#[non_exhaustive]
pub struct AuditInput<'a> {
    /// The checklist.
    pub checklist: &'a Checklist,
    /// Where the checklist came from, as reports name it.
    pub checklist_source: String,
    /// The log, verified by [`crate::evidence::verify_log`].
    pub log: &'a LogCheck,
    /// The log as reports name it.
    pub log_path: String,
    /// One model to audit (its OMS root digest, hex, `sha256:` optional);
    /// every model when absent.
    pub model: Option<String>,
    /// The audit date.
    pub as_of: AsOf,
    /// A directory holding the documents the auditor was given, by file
    /// name, to re-hash.
    pub documents: Option<PathBuf>,
    /// The clock of the audit's caller: a report made under a test clock
    /// says so.
    pub clock: TimeSource,
    /// Count only the first this many records: those inside a checkpoint
    /// kept when the report was first issued, so that an audit as of that
    /// date re-run later is the report that was issued (records appended
    /// since, whatever their dates, are not counted).
    pub kept: Option<u64>,
    /// What the log's witnesses hold, when checked under a witness policy.
    pub witnesses: Option<crate::report::Witnessing>,
    /// What the assessor declares (period, scope, assessor, generation).
    /// A period's end must be the audit's cutoff.
    pub declaration: crate::report::Declaration,
    /// `model` as lowercase hex without `sha256:`, made once by
    /// [`evaluate`]: the report borrows it.
    model_hex: std::sync::OnceLock<String>,
}

impl<'a> AuditInput<'a> {
    /// An audit of every model with the checklist, as of `as_of`, by a
    /// caller whose clock is `clock` (a report made under a test clock says
    /// so).
    pub fn new(
        checklist: &'a Checklist,
        log: &'a LogCheck,
        log_path: impl Into<String>,
        as_of: AsOf,
        clock: TimeSource,
    ) -> Self {
        AuditInput {
            checklist,
            checklist_source: "shipped".into(),
            log,
            log_path: log_path.into(),
            model: None,
            as_of,
            documents: None,
            clock,
            kept: None,
            witnesses: None,
            declaration: Default::default(),
            model_hex: std::sync::OnceLock::new(),
        }
    }
}

/// Whether any record of the checked log is about the model `sha256`
/// (hex, `sha256:` optional): as its subject, or as the model a document is
/// scoped to. An audit of a model the log does not hold is refused by the
/// command line rather than reported.
pub fn log_mentions(log: &LogCheck, sha256: &str) -> bool {
    let wanted = sha256.trim_start_matches("sha256:").to_ascii_lowercase();
    log.records.iter().any(|r| {
        *r.subject.sha256 == *wanted
            || matches!(&r.predicate, Predicate::Attachment(a)
                if a.model.as_deref().map(str::to_ascii_lowercase).as_deref() == Some(wanted.as_str()))
    })
}

/// Evaluates every control. A log that does not verify fails every
/// applicable control; otherwise each control is judged by its rule over
/// the records at or before the audit date.
pub fn evaluate<'a>(input: &'a AuditInput<'a>) -> AuditReport<'a> {
    let list = input.checklist;
    let check = input.log;
    let as_of = input.as_of;
    // The one record a killed writer may leave beyond the checkpoint is
    // sealed for exactly its place: it counts, so that putting back the
    // checkpoint before it cannot hide it from an audit.
    let counted: Vec<&Record> = check
        .records
        .iter()
        .chain(check.pending_records.iter())
        .filter(|r| as_of.includes(r.time()))
        .filter(|r| input.kept.is_none_or(|kept| (r.index as u64) < kept))
        .collect();
    let test_clock = TestClockNote {
        audit: input.clock == TimeSource::Test,
        records: counted
            .iter()
            .filter(|r| r.clock == TimeSource::Test)
            .count(),
    };
    // The model audited, as lowercase hex: records spell subjects so,
    // and documents name their scope so.
    let model: Option<&'a str> = input.model.as_deref().map(|m| {
        input
            .model_hex
            .get_or_init(|| m.trim_start_matches("sha256:").to_ascii_lowercase())
            .as_str()
    });
    let period = counted
        .iter()
        .map(|r| r.time())
        .min()
        .zip(counted.iter().map(|r| r.time()).max());
    let mut view = View::new(counted, model);
    view.from = input.declaration.period.map(|p| p.from);
    let controls = list
        .controls
        .iter()
        .map(|control| {
            if let Some(why) = &control.not_applicable {
                return ControlResult::new(
                    control,
                    Status::NotApplicable,
                    format!("Not applicable according to the checklist: {why}"),
                );
            }
            if !check.ok() {
                let more = match check.problems.len() {
                    0 | 1 => String::new(),
                    n => format!(" (+{} more)", n - 1),
                };
                return ControlResult::new(
                    control,
                    Status::Fail,
                    format!(
                        "the evidence log does not verify: {}{more}",
                        check
                            .problems
                            .first()
                            .map(ToString::to_string)
                            .unwrap_or_default()
                    ),
                );
            }
            match control.rule.evidence {
                EvidenceKind::Attachment => {
                    documents::judge(control, &view, &as_of, input.documents.as_deref())
                }
                EvidenceKind::Verification if control.rule.before_deployment => {
                    deployments::judge(control, &view)
                }
                EvidenceKind::Verification => supply_chain::judge(control, &view),
            }
        })
        .collect::<Vec<ControlResult>>();
    let mut cited: Vec<&str> = controls
        .iter()
        .flat_map(|c| c.evidence.iter().copied())
        .collect();
    cited.sort_unstable();
    cited.dedup();
    let mut records: Vec<CitedRecord> = cited
        .into_iter()
        .filter_map(|d| view.record(d))
        .map(CitedRecord)
        .collect();
    records.sort_by_key(|r| r.index());
    AuditReport {
        title: list.title.clone(),
        as_of,
        test_clock: (test_clock.audit || test_clock.records > 0).then_some(test_clock),
        tool: format!("modelseal {}", crate::VERSION),
        model: model.map(str::to_string),
        checklist: ChecklistSummary {
            source: input.checklist_source.clone(),
            sha256: list.sha256.clone(),
            text: list.text.clone(),
            controls: list.controls.len(),
            not_applicable: list
                .controls
                .iter()
                .filter_map(|c| {
                    c.not_applicable.as_ref().map(|j| NotApplicable {
                        id: c.id,
                        area: c.area.clone(),
                        justification: j.clone(),
                    })
                })
                .collect(),
            optional: list
                .controls
                .iter()
                .filter(|c| !c.required)
                .map(|c| c.id)
                .collect(),
        },
        log: LogSummary {
            path: input.log_path.clone(),
            records: check.lines,
            counted: view.records.len(),
            intact: check.ok(),
            problems: check.problems.iter().map(ToString::to_string).collect(),
            checkpoint: check.checkpoint.as_ref().map(|c| CheckpointSummary {
                origin: c.origin.clone(),
                size: c.size,
                root: hex::encode(c.root),
            }),
            consistency: check.consistency.clone(),
            // Findings about the records the audit counts: a record after
            // the cutoff or outside the kept checkpoint changes nothing.
            repairs: check.repairs.clone(),
            time_findings: check
                .time_findings
                .iter()
                .filter(|(index, _)| usize::try_from(*index).is_ok_and(|i| view.counts(i)))
                .map(|(_, text)| text.clone())
                .collect(),
            unbound: check.unbound,
            kept: input.kept,
            witnesses: input.witnesses.clone(),
        },
        documents: input.documents.as_ref().map(|d| d.display().to_string()),
        period,
        controls,
        models: if check.ok() {
            history::histories(&view)
        } else {
            Vec::new()
        },
        records,
        declaration: input.declaration.clone(),
    }
}
