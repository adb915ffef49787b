//! Evaluating a policy against a verification: every rule that is broken
//! is reported, each as a typed [`Violation`].

use super::LoadedPolicy;
use crate::Result;
use crate::formats::Severity;
use crate::keys::PublicKey;
use crate::verify::{Verdict, Violation};

/// What the policy is judged against.
#[derive(Debug, Clone)]
#[non_exhaustive]
pub struct PolicyContext<'a> {
    /// The verification verdict (signature, files, BOM, formats).
    pub verdict: &'a Verdict,
    /// Whether a BOM was given.
    pub bom_given: bool,
    /// The signed BOM's creation time, when it verified.
    pub bom_timestamp: Option<jiff::Timestamp>,
    /// Whether unsigned files were tolerated.
    pub ignore_unsigned_files: bool,
    /// Paths excluded at verification (beyond what the signature excludes).
    pub ignore_paths: Vec<String>,
    /// A key given outside the policy (it must be one the policy trusts).
    pub given_key: Option<&'a PublicKey>,
    /// The time of verification.
    pub now: jiff::Timestamp,
    /// A signature over the container image's manifest that verified from
    /// one of the policy's container image signers.
    pub image_signature: Option<ImageSignature>,
}

/// A verified signature over a container image's manifest: the image's
/// config and every layer are signed, not only the model's files.
#[derive(Debug, Clone, PartialEq, Eq)]
#[non_exhaustive]
pub struct ImageSignature {
    /// The manifest's digest (`sha256:...`).
    pub manifest: String,
    /// Where the bundle was found.
    pub bundle: String,
    /// Who signed it, as the policy names them.
    pub signer: String,
}

impl ImageSignature {
    /// A signature over `manifest` in `bundle`, from `signer`.
    pub fn new(manifest: String, bundle: String, signer: String) -> Self {
        ImageSignature {
            manifest,
            bundle,
            signer,
        }
    }
}

impl<'a> PolicyContext<'a> {
    /// A context for `verdict`, judged at `now`, with no BOM, no
    /// exclusions and no key given outside the policy.
    pub fn new(verdict: &'a Verdict, now: jiff::Timestamp) -> Self {
        PolicyContext {
            verdict,
            bom_given: false,
            bom_timestamp: None,
            ignore_unsigned_files: false,
            ignore_paths: Vec::new(),
            given_key: None,
            now,
            image_signature: None,
        }
    }
}

/// Every rule of `policy` that `ctx` breaks.
pub fn evaluate(policy: &LoadedPolicy, ctx: &PolicyContext<'_>) -> Result<Vec<Violation>> {
    let p = &policy.policy;
    let mut violations = Vec::new();
    if let Some(key) = ctx.given_key
        && !policy.trusts_key(key)?
    {
        violations.push(Violation::UntrustedKey {
            fingerprint: key.fingerprint(),
        });
    }
    if !p.require.allow_ignore_unsigned_files {
        if ctx.ignore_unsigned_files {
            violations.push(Violation::IgnoreUnsignedFiles);
        }
        if !ctx.ignore_paths.is_empty() {
            violations.push(Violation::IgnorePaths {
                paths: ctx.ignore_paths.clone(),
            });
        }
    }
    if p.require.bom {
        if !ctx.bom_given {
            violations.push(Violation::BomMissing);
        } else if ctx.verdict.bom_verified != Some(true) {
            violations.push(Violation::BomNotVerified);
        }
    }
    for note in &ctx.verdict.source_notes {
        if let crate::source::SourceNote::NotCovered { what } = note {
            if !p.require.allow_container_images {
                violations.push(Violation::ContainerImage { what: what.clone() });
            } else if p.container_images.require_signature && ctx.image_signature.is_none() {
                violations.push(Violation::ContainerImageUnsigned { what: what.clone() });
            }
        }
    }
    violations.extend(format_rules(policy, ctx)?);
    if let Some(max_days) = p.require.max_signature_age_days {
        match ctx.verdict.signed_at.or(ctx.bom_timestamp) {
            None => violations.push(Violation::NoSigningTime),
            Some(t) if t > ctx.now => violations.push(Violation::SignedInFuture {
                signed_at: t,
                now: ctx.now,
            }),
            Some(t) => {
                let days = (ctx.now.as_second() - t.as_second()) / 86_400;
                if days > max_days as i64 {
                    violations.push(Violation::TooOld {
                        signed_at: t,
                        days,
                        max_days,
                    });
                }
            }
        }
    }
    Ok(violations)
}

/// Each signed file must be in an allowed format with nothing dangerous in
/// it, or be excepted by its exact digest. Files whose bytes were not
/// inspected fail: a policy never passes formats it did not see.
fn format_rules(policy: &LoadedPolicy, ctx: &PolicyContext<'_>) -> Result<Vec<Violation>> {
    let rules = &policy.policy.formats;
    let mut violations = Vec::new();
    let reports = ctx.verdict.formats.as_ref();
    let failed: std::collections::HashSet<&str> = ctx
        .verdict
        .failures
        .iter()
        .filter_map(|f| f.path())
        .collect();
    for name in ctx.verdict.signed_files.iter() {
        let Some(report) = reports.and_then(|r| r.find(name)) else {
            if failed.contains(name) {
                continue; // Already reported as missing or changed.
            }
            violations.push(Violation::FormatsNotInspected {
                path: name.to_string(),
            });
            continue;
        };
        let problem = if !rules.allowed.contains(&report.format) {
            Some(Violation::FormatNotAllowed {
                path: name.to_string(),
                format: report.format.name(),
            })
        } else {
            report
                .findings
                .iter()
                .find(|f| f.severity != Severity::Warning)
                .map(|f| Violation::UnsafeContent {
                    path: name.to_string(),
                    finding: f.message.clone(),
                })
        };
        let Some(problem) = problem else { continue };
        match rules.exceptions.iter().find(|e| e.path == name) {
            Some(e) => match ctx.verdict.file_sha256.get(name) {
                Some(digest) if digest.eq_ignore_ascii_case(&e.sha256) => {}
                Some(digest) => violations.push(Violation::ExceptionDigest {
                    path: name.to_string(),
                    expected: e.sha256.clone(),
                    found: digest.clone(),
                }),
                // The digest was not taken from the read that judged the
                // file: the exception cannot be applied.
                None => violations.push(problem),
            },
            None => violations.push(problem),
        }
    }
    // Remote code, in signed and tolerated files alike.
    if let Some(reports) = reports
        && rules.remote_code == crate::policy::RemoteCode::Deny
    {
        for report in reports.iter() {
            let imports = crate::formats::remote::imports(report.details);
            if !imports.is_empty() {
                violations.push(Violation::RemoteCode {
                    path: report.name.to_string(),
                    imports,
                });
            }
        }
    }
    // Files read beside the signed ones (tolerated unsigned files) are
    // judged by the same rules: a loader finds them all the same.
    if let Some(reports) = reports {
        let signed: std::collections::HashSet<&str> = ctx.verdict.signed_files.iter().collect();
        for report in reports.iter().filter(|r| !signed.contains(r.name)) {
            let name = report.name;
            if !rules.allowed.contains(&report.format) {
                violations.push(Violation::FormatNotAllowed {
                    path: name.to_string(),
                    format: report.format.name(),
                });
            } else if let Some(f) = report
                .findings
                .iter()
                .find(|f| f.severity != Severity::Warning)
            {
                violations.push(Violation::UnsafeContent {
                    path: name.to_string(),
                    finding: f.message.clone(),
                });
            }
        }
    }
    Ok(violations)
}
