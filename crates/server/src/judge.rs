//! What the server asks of the deploy gate. The gate lives in the
//! `modelseal` library, which depends on this crate (for `modelseal
//! serve`); the server therefore takes it as a trait object, and the
//! library supplies the implementation (`modelseal::serve::GateJudge`).

use crate::locate::ImageRef;
use modelseal_core::clock::Now;
use modelseal_core::policy::Admission;
use modelseal_evidence::NewRecord;

/// The deploy gate, as the server uses it. Calls block (they read a
/// registry); the server makes them off its event loop.
pub trait Judge: Send + Sync + 'static {
    /// The policy's admission rules.
    fn rules(&self) -> &Admission;

    /// Hex SHA-256 of the policy (half of a cached verdict's key).
    fn policy_digest(&self) -> &str;

    /// The digest (`sha256:HEX`) the tag of `image` names now, asked of its
    /// registry.
    fn resolve(&self, image: &ImageRef) -> modelseal_core::Result<String>;

    /// Verifies the model `image` names (pinned to a digest) at `now`, with
    /// the signatures attached to it in its registry.
    fn verify(&self, image: &ImageRef, now: Now) -> modelseal_core::Result<Judgement>;
}

/// A verification's outcome.
#[derive(Debug, Clone)]
pub struct Judgement {
    /// Whether a signature verified and the policy passed.
    pub verified: bool,
    /// Why not, as `verify` names the failures.
    pub failures: Vec<String>,
    /// The verdict `verify --format json` prints.
    pub verdict: serde_json::Value,
    /// The verification record, when the signature names a model digest.
    pub record: Option<NewRecord>,
}
