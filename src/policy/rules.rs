//! Evaluating a policy against a verification: every rule that fails is
//! reported, each with the rule's name.

use super::LoadedPolicy;
use crate::Result;
use crate::formats::{Severity, inspect_file};
use crate::keys::PublicKey;
use crate::verify::{Failure, Verdict};
use std::path::Path;

/// What the policy is judged against.
pub struct PolicyContext<'a> {
    /// The model path.
    pub model: &'a Path,
    /// The verification verdict (signature, files, BOM).
    pub verdict: &'a Verdict,
    /// Whether a BOM was given.
    pub bom_given: bool,
    /// The signed BOM's creation time, when it verified.
    pub bom_timestamp: Option<String>,
    /// Whether `--ignore-unsigned-files` was used.
    pub ignore_unsigned_files: bool,
    /// A key given on the command line (it must be one the policy trusts).
    pub cli_key: Option<&'a PublicKey>,
    /// Now.
    pub now: jiff::Timestamp,
}

fn fail(rule: &str, message: String) -> Failure {
    Failure::Policy {
        rule: rule.to_string(),
        message,
    }
}

/// Every rule of `policy` that `ctx` breaks.
pub fn evaluate(policy: &LoadedPolicy, ctx: &PolicyContext<'_>) -> Result<Vec<Failure>> {
    let p = &policy.policy;
    let mut failures = Vec::new();
    if let Some(key) = ctx.cli_key
        && !policy.trusts_key(key)?
    {
        failures.push(fail(
            "signer",
            format!(
                "key {} is not a trusted signer in the policy",
                key.fingerprint()
            ),
        ));
    }
    if ctx.ignore_unsigned_files && !p.require.allow_ignore_unsigned_files {
        failures.push(fail(
            "ignore-unsigned-files",
            "--ignore-unsigned-files is not allowed by the policy".into(),
        ));
    }
    if p.require.bom {
        if !ctx.bom_given {
            failures.push(fail(
                "bom",
                "a signed ML-BOM must accompany the model (--bom)".into(),
            ));
        } else if ctx.verdict.bom_verified != Some(true) {
            failures.push(fail("bom", "the ML-BOM did not verify".into()));
        }
    }
    failures.extend(format_rules(policy, ctx)?);
    if let Some(max_days) = p.require.max_signature_age_days {
        let time = ctx
            .verdict
            .signed_at
            .clone()
            .or_else(|| ctx.bom_timestamp.clone());
        match time.and_then(|t| t.parse::<jiff::Timestamp>().ok()) {
            None => failures.push(fail(
                "max-signature-age",
                "no signing time is known (it needs a keyless signature or a signed BOM)".into(),
            )),
            Some(t) => {
                let days = (ctx.now.as_second() - t.as_second()) / 86_400;
                if days > max_days as i64 {
                    failures.push(fail(
                        "max-signature-age",
                        format!("signed {days} days ago ({t}); the policy allows {max_days}"),
                    ));
                }
            }
        }
    }
    Ok(failures)
}

/// Each signed file must be in an allowed format with nothing dangerous in
/// it, or be excepted by its exact digest.
fn format_rules(policy: &LoadedPolicy, ctx: &PolicyContext<'_>) -> Result<Vec<Failure>> {
    let rules = &policy.policy.formats;
    let single = ctx.model.is_file();
    let mut failures = Vec::new();
    for name in &ctx.verdict.signed_files {
        let path = if single {
            ctx.model.to_path_buf()
        } else {
            ctx.model.join(name)
        };
        if !path.is_file() {
            continue; // Already reported as missing.
        }
        let report = inspect_file(&path, name)?;
        let problem = if !rules.allowed.contains(&report.format) {
            Some(format!(
                "format {} is not allowed by the policy",
                report.format.name()
            ))
        } else {
            report
                .findings
                .iter()
                .find(|f| f.severity != Severity::Warning)
                .map(|f| f.message.clone())
        };
        let Some(problem) = problem else { continue };
        match rules.exceptions.iter().find(|e| &e.path == name) {
            Some(e) => {
                let digest = hex::encode(crate::digest::file_sha256(&path)?);
                if !digest.eq_ignore_ascii_case(&e.sha256) {
                    failures.push(fail(
                        "formats",
                        format!("{name}: {problem}; its exception names sha256:{} but the file is sha256:{digest}", e.sha256),
                    ));
                }
            }
            None => failures.push(fail("formats", format!("{name}: {problem}"))),
        }
    }
    Ok(failures)
}
