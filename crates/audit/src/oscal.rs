//! The audit as OSCAL 1.1.2 assessment results.
//!
//! - `local-definitions` define modelseal (the tool, the actor of every
//!   observation and finding) and each model in scope as components; the
//!   observations name the models as their `subjects`.
//! - One observation per record cited, `collected` at the record's time,
//!   its `relevant-evidence` pointing (`#uuid`) at a back-matter resource
//!   that holds the record's SHA-256 and where it is in the log.
//! - One finding per applicable control: `satisfied` or `not-satisfied`,
//!   with the reason token `pass`, `fail` or `no-evidence`. Controls the
//!   checklist marks not applicable are excluded from the reviewed controls
//!   and listed, with their justification, as properties of the result.
//! - `import-ap` points at a back-matter resource holding the checklist
//!   itself (base64) and its SHA-256, so every `href` in the document
//!   resolves within it; `start`/`end` span the evidence counted.

use super::escape;
use super::report::{AuditReport, CitedRecord, Status};
use super::uuid;
use base64::Engine;
use serde_json::{Value, json};

/// The namespace of modelseal's OSCAL properties.
pub const OSCAL_NS: &str = "https://modelseal.dev/ns/oscal";

/// Text for OSCAL fields that must be one line without surrounding blanks
/// (titles, property values): control characters escaped, never empty.
fn line(s: &str) -> String {
    let t = escape::text(s).trim().to_string();
    if t.is_empty() { "(none)".into() } else { t }
}

/// Untrusted text (names, reasons quoting them, paths) inside an OSCAL
/// markup field (`title`, `description`, `remarks`: Markdown): one line,
/// nothing that makes a heading, a list, a link, emphasis or HTML.
fn md(s: &str) -> String {
    escape::markdown(s)
}

fn prop(name: &str, value: &str) -> Value {
    json!({ "name": name, "ns": OSCAL_NS, "value": line(value) })
}

/// A URI reference to a local file name, percent-encoded.
fn file_href(path: &str) -> String {
    let name = std::path::Path::new(path)
        .file_name()
        .map(|n| n.to_string_lossy().into_owned())
        .unwrap_or_else(|| "evidence.jsonl".into());
    let mut out = String::new();
    for b in name.bytes() {
        if b.is_ascii_alphanumeric() || matches!(b, b'-' | b'.' | b'_' | b'~') {
            out.push(b as char);
        } else {
            out.push_str(&format!("%{b:02X}"));
        }
    }
    out
}

/// The OSCAL assessment-results document.
pub fn to_oscal(report: &AuditReport) -> Value {
    let seed = format!(
        "{}|{}|{:?}|{}|{:?}",
        report.as_of.cutoff,
        report.log.path,
        report.model,
        report.checklist.sha256,
        report.log.checkpoint
    );
    let id = |parts: &[&str]| {
        let mut all = vec![seed.as_str()];
        all.extend_from_slice(parts);
        uuid(&all)
    };
    let tool_uuid = id(&["component", "modelseal"]);
    let origins = json!([{ "actors": [{ "type": "tool", "actor-uuid": tool_uuid }] }]);
    let model_uuid = |sha256: &str| id(&["component", "model", sha256]);
    let record_uuid = |digest: &str| id(&["resource", "record", digest]);
    let observation_uuid = |digest: &str| id(&["observation", digest]);
    let checklist_uuid = id(&["resource", "checklist"]);

    let mut components = vec![json!({
        "uuid": tool_uuid,
        "type": "software",
        "title": "modelseal",
        "description": "The tool that verified the evidence log and judged each control from its records.",
        "props": tool_props(report),
        "status": { "state": "operational" },
    })];
    for m in &report.models {
        components.push(json!({
            "uuid": model_uuid(m.model.sha256),
            "type": "software",
            "title": line(&md(m.model.name)),
            "description": format!("Machine-learning model {} with OMS root digest sha256:{}.", md(m.model.name), m.model.sha256),
            "props": [
                prop("oms-root-digest", &format!("sha256:{}", m.model.sha256)),
                prop("model-name", m.model.name),
                prop("model-state", super::tables::model_state(m)),
            ],
            "status": { "state": if m.deployed { "operational" } else { "other" } },
        }));
    }
    let models: std::collections::HashSet<&str> =
        report.models.iter().map(|m| m.model.sha256).collect();
    let known_model = |sha256: &str| models.contains(sha256);

    let observations: Vec<Value> = report
        .records
        .iter()
        .map(|r| {
            observation(
                r,
                &observation_uuid,
                &record_uuid,
                &model_uuid,
                &known_model,
                &origins,
            )
        })
        .collect();

    let findings: Vec<Value> = report
        .controls
        .iter()
        .filter(|c| c.status != Status::NotApplicable)
        .map(|c| {
            // Recorded but not re-checked is satisfied on the records; the
            // finding's description says what was not done.
            let state = if matches!(c.status, Status::Pass | Status::RecordedNotRechecked) {
                "satisfied"
            } else {
                "not-satisfied"
            };
            let mut finding = json!({
                "uuid": id(&["finding", &c.control.id.to_string()]),
                "title": line(&format!("Control {}: {}", c.control.id, c.control.area)),
                "description": format!("{} Result: {}. {}", md(&c.control.criterion), c.status.label(), md(&c.reason)),
                "props": [prop("required", if c.control.required { "yes" } else { "no" })],
                "origins": origins,
                "target": {
                    "type": "objective-id",
                    "target-id": format!("control-{}", c.control.id),
                    "status": { "state": state, "reason": c.status.token() },
                },
            });
            let related: Vec<Value> = c
                .evidence
                .iter()
                .map(|d| json!({ "observation-uuid": observation_uuid(d) }))
                .collect();
            if !related.is_empty() {
                finding["related-observations"] = Value::Array(related);
            }
            finding
        })
        .collect();

    let not_applicable: Vec<Value> = report
        .checklist
        .not_applicable
        .iter()
        .map(|n| {
            let mut p = prop("not-applicable", &format!("control-{}", n.id));
            p["remarks"] = Value::String(md(&n.justification));
            p
        })
        .collect();
    let mut selection = json!({ "include-all": {} });
    if !report.checklist.not_applicable.is_empty() {
        selection["exclude-controls"] = Value::Array(
            report
                .checklist
                .not_applicable
                .iter()
                .map(|n| json!({ "control-id": format!("control-{}", n.id) }))
                .collect(),
        );
        selection["remarks"] = Value::String(
            "Controls the checklist marks not applicable are excluded; the result's not-applicable properties give each justification.".into(),
        );
    }

    let mut result_props = vec![
        prop("verdict", if report.failed() { "fail" } else { "pass" }),
        prop("checklist-sha256", &report.checklist.sha256),
        prop("evidence-log", &report.log.path),
        prop("log-intact", if report.log.intact { "yes" } else { "no" }),
    ];
    if let Some(c) = &report.log.checkpoint {
        result_props.push(prop("checkpoint-origin", &c.origin));
        result_props.push(prop("checkpoint-size", &c.size.to_string()));
        result_props.push(prop("checkpoint-root", &c.root));
    }
    if let Some(note) = &report.test_clock {
        result_props.push(prop("test-clock", &note.to_string()));
    }
    // What else the log showed: time findings fail the verdict; repairs
    // and unbound records are context an assessor reads.
    for finding in &report.log.time_findings {
        result_props.push(prop("log-time-finding", finding));
    }
    for repair in &report.log.repairs {
        result_props.push(prop("log-repair-pending", repair));
    }
    if report.log.unbound > 0 {
        result_props.push(prop("log-unbound-records", &report.log.unbound.to_string()));
    }
    if let Some(kept) = report.log.kept {
        result_props.push(prop(
            "records-counted-in-kept-checkpoint",
            &kept.to_string(),
        ));
    }
    if let Some(w) = &report.log.witnesses {
        result_props.push(prop(
            "witness-quorum",
            if w.quorum { "reached" } else { "not-reached" },
        ));
        if let Some(size) = w.witnessed_size {
            result_props.push(prop("witnessed-size", &size.to_string()));
        }
        if let Some(time) = w.trusted_time {
            result_props.push(prop("witnessed-trusted-time", &time.to_string()));
        }
        if let Some(by) = &w.as_of {
            result_props.push(prop(
                "records-counted-witnessed-by-as-of",
                &by.size.to_string(),
            ));
        }
        for (name, time) in &w.cosignatures {
            result_props.push(prop("witness-cosignature", &format!("{name} at {time}")));
        }
        for p in &w.problems {
            result_props.push(prop("witness-finding", p));
        }
    }
    result_props.extend(not_applicable);
    let (start, end) = match &report.declaration.period {
        Some(p) => (p.from, p.to),
        None => report
            .period
            .unwrap_or((report.as_of.cutoff, report.as_of.cutoff)),
    };
    let mut result = json!({
        "uuid": id(&["result"]),
        "title": line(&format!("modelseal audit as of {}", report.as_of)),
        "description": description(report),
        "start": start,
        "end": end,
        "props": result_props,
        "local-definitions": { "components": components },
        "reviewed-controls": { "control-selections": [selection] },
    });
    if !observations.is_empty() {
        result["observations"] = Value::Array(observations);
    }
    if !findings.is_empty() {
        result["findings"] = Value::Array(findings);
    }

    let mut resources = vec![json!({
        "uuid": checklist_uuid,
        "title": line(&report.title),
        "description": format!("The audit checklist ({}) the controls were judged by, embedded; SHA-256 {}.", report.checklist.source, report.checklist.sha256),
        "props": [prop("checklist-source", &report.checklist.source)],
        "rlinks": [{
            "href": if report.checklist.source == "shipped" { "checklist.toml".to_string() } else { file_href(&report.checklist.source) },
            "media-type": "application/toml",
            "hashes": [{ "algorithm": "SHA-256", "value": report.checklist.sha256 }],
        }],
        "base64": {
            "filename": "checklist.toml",
            "media-type": "application/toml",
            "value": base64::engine::general_purpose::STANDARD.encode(report.checklist.text.as_bytes()),
        },
    })];
    for r in &report.records {
        resources.push(json!({
            "uuid": record_uuid(r.digest()),
            "title": format!("Evidence record {} ({})", r.index() + 1, crate::record_kind(r.predicate_type())),
            "description": format!(
                "Record {} of the evidence log {}: a {} about {} (sha256:{}), sealed by the evidence key; cited by its SHA-256, the digest of the exact log line.",
                r.index() + 1, md(&report.log.path), crate::record_kind(r.predicate_type()), md(r.subject().name), r.subject().sha256
            ),
            "props": [
                prop("predicate-type", r.predicate_type()),
                prop("record-index", &(r.index() + 1).to_string()),
                prop("subject-digest", &format!("sha256:{}", r.subject().sha256)),
            ],
            "rlinks": [{
                "href": format!("{}#line={},{}", file_href(&report.log.path), r.index(), r.index() + 1),
                "media-type": "application/jsonl",
                "hashes": [{ "algorithm": "SHA-256", "value": r.digest() }],
            }],
        }));
    }

    json!({
        "assessment-results": {
            "uuid": id(&["assessment-results"]),
            "metadata": metadata(report),
            "import-ap": { "href": format!("#{checklist_uuid}") },
            "results": [result],
            "back-matter": { "resources": resources },
        }
    })
}

/// The tool component's properties: its version, and the SHA-256 of the
/// executable that generated the report when known.
fn tool_props(report: &AuditReport) -> Vec<Value> {
    let mut props = vec![prop("version", crate::VERSION)];
    if let Some(h) = &report.declaration.executable_sha256 {
        props.push(prop("executable-sha256", h));
    }
    props
}

/// The document's metadata: last modified when it was generated (the
/// as-of cutoff when no generation time was given), and the assessor as a
/// party responsible in the assessor role.
fn metadata(report: &AuditReport) -> Value {
    let d = &report.declaration;
    let mut props = vec![prop("checklist-sha256", &report.checklist.sha256)];
    props.push(prop("as-of", &report.as_of.cutoff.to_string()));
    if let Some(scope) = &d.scope {
        props.push(prop("declared-scope", scope));
    }
    let mut metadata = json!({
        "title": line(&report.title),
        "last-modified": d.generated_at.unwrap_or(report.as_of.cutoff),
        "version": crate::VERSION,
        "oscal-version": "1.1.2",
        "props": props,
    });
    if let Some(who) = &d.assessor {
        let party = super::uuid(&["party", "assessor", who]);
        metadata["roles"] = json!([{ "id": "assessor", "title": "Assessor" }]);
        metadata["parties"] = json!([{ "uuid": party, "type": "person", "name": line(who) }]);
        metadata["responsible-parties"] =
            json!([{ "role-id": "assessor", "party-uuids": [party] }]);
    }
    metadata
}

fn description(report: &AuditReport) -> String {
    let mut d = format!(
        "Evaluated from the evidence log {} ({} records, {} counted, {}) against the checklist with SHA-256 {}.",
        md(&report.log.path),
        report.log.records,
        report.log.counted,
        if report.log.intact {
            "intact"
        } else {
            "broken"
        },
        report.checklist.sha256
    );
    match &report.log.checkpoint {
        Some(c) => d.push_str(&format!(
            " Checkpoint relied on: origin {}, size {}, root {}.",
            md(&c.origin),
            c.size,
            c.root
        )),
        None => d.push_str(" No verified checkpoint."),
    }
    for n in &report.checklist.not_applicable {
        d.push_str(&format!(
            " Control {} is not applicable: {}.",
            n.id,
            md(&n.justification)
        ));
    }
    d
}

fn observation(
    r: &CitedRecord,
    observation_uuid: &dyn Fn(&str) -> String,
    record_uuid: &dyn Fn(&str) -> String,
    model_uuid: &dyn Fn(&str) -> String,
    known_model: &dyn Fn(&str) -> bool,
    origins: &Value,
) -> Value {
    let subject = if r.document() {
        r.scope()
            .map(|s| s.trim_start_matches("sha256:").to_ascii_lowercase())
    } else {
        Some(r.subject().sha256.to_string())
    };
    let mut o = json!({
        "uuid": observation_uuid(r.digest()),
        "title": format!("Evidence record {}: {}", r.index() + 1, crate::record_kind(r.predicate_type())),
        "description": format!(
            "A {} about {} (sha256:{}), recorded at {}; record SHA-256 {}.",
            crate::record_kind(r.predicate_type()), md(r.subject().name), r.subject().sha256, r.time(), r.digest()
        ),
        "methods": ["EXAMINE"],
        "origins": origins,
        "relevant-evidence": [{
            "href": format!("#{}", record_uuid(r.digest())),
            "description": format!("Evidence record {} (SHA-256 of the log line: {}).", r.index() + 1, r.digest()),
        }],
        "collected": r.time(),
    });
    if let Some(s) = subject.filter(|s| known_model(s)) {
        o["subjects"] = json!([{
            "subject-uuid": model_uuid(&s),
            "type": "component",
        }]);
    }
    o
}
