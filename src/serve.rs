//! The deploy gate behind `modelseal serve`: [`GateJudge`] gives the
//! admission server (the `modelseal-server` crate) this library's gate, so
//! the service verifies exactly as `modelseal verify --policy` does.

use crate::gate::{AttachedSignatures, BundleLimit, Document, Gate, GateRequest};
use crate::model::{Model, OpenOptions};
use crate::policy::{Admission, LoadedPolicy};
use crate::registry::oci::RegistryOptions;
use crate::{Error, Result};
// (The server crate, whole: `modelseal::serve::State`, `serve`, ...)
use std::collections::HashMap;
use std::path::Path;

pub use modelseal_server::*;

/// The gate, with the policy's registries and how to sign in to each.
#[derive(Debug)]
pub struct GateJudge {
    gate: Gate,
    rules: Admission,
    policy_digest: String,
    registries: HashMap<String, RegistryOptions>,
}

impl GateJudge {
    /// A judge for `policy`; `options` gives the registry options (sign-in,
    /// plain HTTP, deadlines) for each registry the policy's admission
    /// rules list, asked once here.
    pub fn new(
        policy: LoadedPolicy,
        options: impl Fn(&str) -> Result<RegistryOptions>,
    ) -> Result<Self> {
        let rules = policy.policy.admission.clone();
        let policy_digest = policy.sha256.clone();
        let mut registries = HashMap::new();
        for registry in &rules.registries {
            registries.insert(registry.clone(), options(registry)?);
        }
        Ok(GateJudge {
            gate: Gate::from_policy(policy)?,
            rules,
            policy_digest,
            registries,
        })
    }

    fn open(&self, image: &ImageRef) -> Result<Model> {
        let registry = self.registries.get(&image.registry).ok_or_else(|| {
            Error::Usage(format!(
                "registry {} is not one the policy's admission registries list",
                image.registry
            ))
        })?;
        let options = OpenOptions {
            registry: Some(registry.clone()),
            ..OpenOptions::default()
        };
        Model::open(Path::new(&image.oci_uri()), &options)
    }
}

impl Judge for GateJudge {
    fn rules(&self) -> &Admission {
        &self.rules
    }

    fn policy_digest(&self) -> &str {
        &self.policy_digest
    }

    fn resolve(&self, image: &ImageRef) -> Result<String> {
        let model = self.open(image)?;
        model
            .location()
            .map(|l| l.manifest_digest)
            .ok_or_else(|| Error::Usage(format!("{}: not a registry model", image.oci_uri())))
    }

    fn verify(&self, image: &ImageRef, now: crate::clock::Now) -> Result<Judgement> {
        let model = self.open(image)?;
        let oci = model
            .oci()
            .ok_or_else(|| Error::Usage(format!("{}: not a registry model", image.oci_uri())))?;
        // The signed BOMs attached beside the signature (`sign --bom`):
        // each is tried until one verifies with the model.
        let limit = BundleLimit::new(model.source(), None).for_size(None)?;
        let (boms, unreadable_boms) = oci.attached_boms(limit)?;
        let mut tries: Vec<Option<(Document, Document)>> = boms
            .into_iter()
            .map(|b| {
                Some((
                    Document::from_bytes(b.uri.clone(), b.bom),
                    Document::from_bytes(format!("{} (signature)", b.uri), b.signature),
                ))
            })
            .collect();
        if tries.is_empty() {
            tries.push(None);
        }
        let mut verdict = None;
        for bom in tries {
            let mut request = GateRequest::for_candidates(model.source(), now);
            request.inspect_formats = true;
            request.bom = bom;
            let v = self.gate.verify_signatures(
                request,
                AttachedSignatures::of(&model)?,
                &|_: u64| {},
            )?;
            let verified = v.is_verified();
            verdict = Some(v);
            if verified {
                break;
            }
        }
        let Some(mut verdict) = verdict else {
            return Err(Error::Usage("nothing was verified".into()));
        };
        if !verdict.is_verified() {
            verdict
                .unreadable
                .extend(unreadable_boms.into_iter().map(|(d, why)| {
                    (
                        oci.reference().pinned(&d.digest).to_string(),
                        format!("BOM: {why}"),
                    )
                }));
        }
        let json = verdict.to_json(&image.oci_uri(), Some(model.source().uri()), now);
        let (verified, failures, record) = match &verdict.candidates {
            Some(c) => (
                c.chosen.1.is_verified(),
                c.chosen
                    .1
                    .verdict
                    .failures
                    .iter()
                    .map(ToString::to_string)
                    .collect(),
                c.chosen.1.record(),
            ),
            None => (
                false,
                json["failures"]
                    .as_array()
                    .into_iter()
                    .flatten()
                    .filter_map(|f| f.as_str().map(String::from))
                    .chain(
                        verdict
                            .unreadable
                            .iter()
                            .map(|(uri, why)| format!("{uri}: {why}")),
                    )
                    .collect(),
                None,
            ),
        };
        Ok(Judgement {
            verified,
            failures,
            verdict: json,
            record,
        })
    }
}
