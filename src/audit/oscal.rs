//! The audit as OSCAL assessment results (OSCAL 1.1.2): one observation per
//! control citing the evidence records, one finding per control with its
//! objective status `satisfied` or `not-satisfied`.

use super::{AuditReport, Status, uuid};
use serde_json::{Value, json};

/// The OSCAL assessment-results document.
pub fn to_oscal(report: &AuditReport) -> Value {
    let seed = format!("{}|{}|{:?}", report.as_of, report.log.path, report.model);
    let mut observations = Vec::new();
    let mut findings = Vec::new();
    for c in &report.controls {
        let obs_uuid = uuid(&[&seed, "observation", &c.control.id.to_string()]);
        let evidence: Vec<Value> = c
            .evidence
            .iter()
            .map(|d| json!({ "href": format!("#record-sha256-{d}"), "description": format!("Evidence record with SHA-256 {d} in {}", report.log.path) }))
            .collect();
        let mut observation = json!({
            "uuid": obs_uuid,
            "title": format!("Control {}: {}", c.control.id, c.control.area),
            "description": c.reason,
            "methods": ["EXAMINE"],
            "collected": report.as_of,
        });
        if !evidence.is_empty() {
            observation["relevant-evidence"] = Value::Array(evidence);
        }
        observations.push(observation);
        let state = if c.status == Status::Pass {
            "satisfied"
        } else {
            "not-satisfied"
        };
        findings.push(json!({
            "uuid": uuid(&[&seed, "finding", &c.control.id.to_string()]),
            "title": format!("Control {}: {}", c.control.id, c.control.area),
            "description": format!("{} Criterion: {} Result: {}.", c.control.objective, c.control.criterion, c.status.label()),
            "target": {
                "type": "objective-id",
                "target-id": format!("control-{}", c.control.id),
                "status": { "state": state },
            },
            "related-observations": [{ "observation-uuid": obs_uuid }],
        }));
    }
    json!({
        "assessment-results": {
            "uuid": uuid(&[&seed, "assessment-results"]),
            "metadata": {
                "title": report.title,
                "last-modified": report.as_of,
                "version": crate::VERSION,
                "oscal-version": "1.1.2",
            },
            "import-ap": { "href": "#modelseal-audit-plan" },
            "results": [{
                "uuid": uuid(&[&seed, "result"]),
                "title": format!("modelseal audit as of {}", report.as_of),
                "description": format!("Evaluated from the evidence log {} ({} records, {}).", report.log.path, report.log.records, if report.log.intact { "intact" } else { "broken" }),
                "start": report.as_of,
                "reviewed-controls": { "control-selections": [{ "include-all": {} }] },
                "observations": observations,
                "findings": findings,
            }],
        }
    })
}
