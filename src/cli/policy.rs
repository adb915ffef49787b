//! `modelseal policy`: check a deploy-gate policy, or print the default.

use super::{Context, Format, Outcome, print_json};
use clap::{Args, Subcommand};
use modelseal::Result;
use modelseal::policy::{DEFAULT_POLICY, LoadedPolicy};
use std::path::PathBuf;

#[derive(Debug, Args)]
pub struct PolicyArgs {
    #[command(subcommand)]
    command: PolicyCommand,
}

#[derive(Debug, Subcommand)]
enum PolicyCommand {
    /// Parse a policy and load every key, anchor and trusted root it names.
    Check {
        /// The policy file (TOML).
        file: PathBuf,
    },
    /// Print the default policy, to start from.
    Default,
}

pub fn run(ctx: &Context, args: PolicyArgs) -> Result<Outcome> {
    match args.command {
        PolicyCommand::Default => {
            out!("{DEFAULT_POLICY}");
            Ok(0)
        }
        PolicyCommand::Check { file } => {
            let loaded = LoadedPolicy::load(&file)?;
            let trusts = loaded.trusts()?;
            let p = &loaded.policy;
            match ctx.format {
                Format::Human | Format::Markdown | Format::Oscal | Format::Html => {
                    outln!("valid: {} (sha256:{})", loaded.uri, loaded.sha256);
                    outln!(
                        "  signers: {} keys, {} fingerprints, {} certificate anchors, {} keyless identities",
                        p.signers.keys.len(),
                        p.signers.fingerprints.len(),
                        p.signers.certificates.len(),
                        p.signers.keyless.len()
                    );
                    outln!(
                        "  require: bom={}, ignore-unsigned-files allowed={}, max signature age={}",
                        p.require.bom,
                        p.require.allow_ignore_unsigned_files,
                        p.require
                            .max_signature_age_days
                            .map(|d| format!("{d} days"))
                            .unwrap_or_else(|| "none".into())
                    );
                    let formats: Vec<String> = p.formats.allowed.iter().map(|f| f.name()).collect();
                    outln!(
                        "  formats: {} ({} exceptions), remote code {}",
                        formats.join(", "),
                        p.formats.exceptions.len(),
                        match p.formats.remote_code {
                            modelseal::policy::RemoteCode::Deny => "denied",
                            modelseal::policy::RemoteCode::Allow => "allowed",
                        }
                    );
                    if trusts.is_empty() && p.signers.fingerprints.is_empty() {
                        ctx.warn("the policy names no signers: verify will need --key");
                    }
                }
                Format::Json => print_json(&serde_json::json!({
                    "policy": loaded.uri,
                    "digest": { "sha256": loaded.sha256 },
                    "valid": true,
                    "rules": p,
                })),
            }
            Ok(0)
        }
    }
}
