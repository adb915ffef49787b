//! Signed reports: an assessor signs the report file they issue, so that
//! whoever receives it can check it is the report issued, unchanged, and
//! who issued it.

use crate::report::AuditReport;
use crate::{Error, Result};
use modelseal_core::bundle::{STATEMENT_TYPE, Statement, Subject};
use modelseal_core::sign::{SigningIdentity, sign_statement};
use std::collections::BTreeMap;

/// The predicate type of a signed audit report: an in-toto statement whose
/// subject is the report file (its name and SHA-256), with what the report
/// declares and concluded as the predicate.
pub const REPORT_PREDICATE_TYPE: &str = "https://modelseal.dev/audit-report/v1";

/// Signs the report file named `name` whose SHA-256 is `sha256` (hex; the
/// rendering of `report`) with `identity`: a Sigstore bundle holding a DSSE envelope
/// of an in-toto statement about the file. `modelseal verify-bundle FILE
/// --bundle FILE.sig --key PUB --insecure-ignore-tlog` checks it (a key
/// signature carries no transparency log entry).
pub fn sign_report(
    report: &AuditReport,
    name: &str,
    sha256: &str,
    identity: &SigningIdentity<'_>,
) -> Result<Vec<u8>> {
    if sha256.len() != 64 || !sha256.bytes().all(|b| b.is_ascii_hexdigit()) {
        return Err(Error::Usage(format!(
            "{sha256:?}: a report digest is 64 hex digits"
        )));
    }
    let d = &report.declaration;
    let predicate = serde_json::json!({
        "title": report.title,
        "result": if report.failed() { "fail" } else { "pass" },
        "asOf": report.as_of.cutoff,
        "period": d.period,
        "scope": d.scope,
        "assessor": d.assessor,
        "generatedAt": d.generated_at,
        "generatedBy": report.tool,
        "executableSha256": d.executable_sha256,
        "checklistSha256": report.checklist.sha256,
        "log": {
            "path": report.log.path,
            "records": report.log.records,
            "counted": report.log.counted,
            "checkpoint": report.log.checkpoint,
        },
    });
    let statement = Statement {
        statement_type: STATEMENT_TYPE.to_string(),
        subject: vec![Subject {
            name: name.to_string(),
            digest: BTreeMap::from([("sha256".to_string(), sha256.to_ascii_lowercase())]),
        }],
        predicate_type: REPORT_PREDICATE_TYPE.to_string(),
        predicate: serde_json::value::RawValue::from_string(predicate.to_string())
            .map_err(|e| Error::Usage(format!("cannot encode the report statement: {e}")))?,
    };
    Ok(sign_statement(&statement, identity)?.to_json().into_bytes())
}
