//! `admission.k8s.io/v1` AdmissionReview: the request the API server sends
//! and the response it expects, as serde types that read only the fields
//! the webhook uses and refuse the rest of the envelope being wrong.

use base64::Engine;
use serde::{Deserialize, Serialize};
use serde_json::Value;

/// The API version both directions carry.
pub const API_VERSION: &str = "admission.k8s.io/v1";

/// A review as received.
#[derive(Debug, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct ReviewIn {
    api_version: String,
    kind: String,
    request: Option<Request>,
}

/// The group, version and kind of an object.
#[derive(Debug, Clone, Deserialize, PartialEq, Eq)]
pub struct GroupVersionKind {
    /// Empty for the core group.
    #[serde(default)]
    pub group: String,
    /// `v1`, `v1beta1`.
    pub version: String,
    /// `Pod`, `InferenceService`.
    pub kind: String,
}

/// What is asked.
#[derive(Debug, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct Request {
    /// Echoed in the response; a retried call keeps it.
    pub uid: String,
    /// The object's kind.
    pub kind: GroupVersionKind,
    /// Its namespace.
    #[serde(default)]
    pub namespace: Option<String>,
    /// Its name (empty on CREATE when the server generates it).
    #[serde(default)]
    pub name: Option<String>,
    /// `CREATE`, `UPDATE`, `DELETE` or `CONNECT`.
    pub operation: String,
    /// The object as it would be stored.
    #[serde(default)]
    pub object: Option<Value>,
    /// The object before, on UPDATE.
    #[serde(default)]
    pub old_object: Option<Value>,
    /// Nothing may be written for a dry run.
    #[serde(default)]
    pub dry_run: Option<bool>,
}

/// Why a body is not a usable review (a 400 with this line).
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum ReviewError {
    /// Not JSON, or JSON of the wrong shape.
    #[error("not an AdmissionReview: {0}")]
    Malformed(String),
    /// Another API version.
    #[error("AdmissionReview {0:?} is not {API_VERSION}")]
    Version(String),
    /// No request in it.
    #[error("the AdmissionReview has no request")]
    NoRequest,
}

impl ReviewIn {
    /// Reads a review. Duplicate keys anywhere are refused: the API server
    /// never sends them, and a reader that takes the first where Go took
    /// the last would judge another object.
    pub fn parse(body: &[u8]) -> Result<Request, ReviewError> {
        modelseal_core::json::check_unique_keys(body)
            .map_err(|e| ReviewError::Malformed(e.to_string()))?;
        let review: ReviewIn = serde_json::from_slice(body).map_err(|e| {
            ReviewError::Malformed(e.to_string().lines().next().unwrap_or("").to_string())
        })?;
        if review.api_version != API_VERSION || review.kind != "AdmissionReview" {
            return Err(ReviewError::Version(format!(
                "{}/{}",
                review.api_version, review.kind
            )));
        }
        let request = review.request.ok_or(ReviewError::NoRequest)?;
        if request.uid.is_empty() || request.uid.len() > 128 {
            return Err(ReviewError::Malformed(
                "the request uid is empty or too long".into(),
            ));
        }
        Ok(request)
    }
}

/// A review's response.
#[derive(Debug, Clone, Serialize, PartialEq, Eq)]
#[serde(rename_all = "camelCase")]
pub struct Response {
    /// The request's uid.
    pub uid: String,
    /// Admit or not.
    pub allowed: bool,
    /// Why not (shown to whoever created the object).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub status: Option<Status>,
    /// `JSONPatch` when `patch` is set.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub patch_type: Option<String>,
    /// Base64 of a JSON Patch.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub patch: Option<String>,
    /// Shown to the client as warnings.
    #[serde(skip_serializing_if = "Vec::is_empty")]
    pub warnings: Vec<String>,
}

/// A denial's status.
#[derive(Debug, Clone, Serialize, PartialEq, Eq)]
pub struct Status {
    /// 403 for a denial, 503 when a dependency could not answer.
    pub code: u16,
    /// One line.
    pub message: String,
}

impl Response {
    /// Admit.
    pub fn allow(uid: &str) -> Self {
        Response {
            uid: uid.to_string(),
            allowed: true,
            status: None,
            patch_type: None,
            patch: None,
            warnings: Vec::new(),
        }
    }

    /// Deny with `code` and a message (kept to one line and a size the API
    /// server shows whole).
    pub fn deny(uid: &str, code: u16, message: &str) -> Self {
        let mut message: String = message
            .chars()
            .map(|c| if c.is_control() { ' ' } else { c })
            .collect();
        if message.len() > MAX_MESSAGE {
            let mut cut = MAX_MESSAGE;
            while !message.is_char_boundary(cut) {
                cut -= 1;
            }
            message.truncate(cut);
            message.push_str(" ...");
        }
        Response {
            uid: uid.to_string(),
            allowed: false,
            status: Some(Status { code, message }),
            patch_type: None,
            patch: None,
            warnings: Vec::new(),
        }
    }

    /// Adds a JSON Patch.
    pub fn with_patch(mut self, ops: &[Value]) -> Self {
        if !ops.is_empty() {
            let bytes = serde_json::to_vec(ops).unwrap_or_default();
            self.patch_type = Some("JSONPatch".into());
            self.patch = Some(base64::engine::general_purpose::STANDARD.encode(bytes));
        }
        self
    }

    /// The review that carries it.
    pub fn to_review(&self) -> Vec<u8> {
        serde_json::to_vec(&serde_json::json!({
            "apiVersion": API_VERSION,
            "kind": "AdmissionReview",
            "response": self,
        }))
        .unwrap_or_default()
    }
}

/// How long a denial message may be.
const MAX_MESSAGE: usize = 4000;

#[cfg(test)]
mod tests {
    use super::*;

    fn review(request: &str) -> String {
        format!(
            r#"{{"apiVersion":"admission.k8s.io/v1","kind":"AdmissionReview","request":{request}}}"#
        )
    }

    #[test]
    fn a_review_is_read_and_a_wrong_one_says_why() {
        let ok = review(
            r#"{"uid":"u1","kind":{"group":"","version":"v1","kind":"Pod"},"operation":"CREATE","namespace":"ml","object":{}}"#,
        );
        let r = ReviewIn::parse(ok.as_bytes()).unwrap();
        assert_eq!((r.uid.as_str(), r.kind.kind.as_str()), ("u1", "Pod"));
        let dup = review(
            r#"{"uid":"u1","uid":"u2","kind":{"group":"","version":"v1","kind":"Pod"},"operation":"CREATE"}"#,
        );
        assert!(matches!(
            ReviewIn::parse(dup.as_bytes()),
            Err(ReviewError::Malformed(_))
        ));
        let v1beta1 = ok.replace("admission.k8s.io/v1", "admission.k8s.io/v1beta1");
        assert!(matches!(
            ReviewIn::parse(v1beta1.as_bytes()),
            Err(ReviewError::Version(_))
        ));
        let none = r#"{"apiVersion":"admission.k8s.io/v1","kind":"AdmissionReview"}"#;
        assert!(matches!(
            ReviewIn::parse(none.as_bytes()),
            Err(ReviewError::NoRequest)
        ));
        assert!(ReviewIn::parse(b"\xff").is_err());
    }

    #[test]
    fn a_denial_is_one_bounded_line() {
        let r = Response::deny("u", 403, &format!("a\nb{}", "é".repeat(5000)));
        let m = r.status.unwrap().message;
        assert!(
            !m.contains('\n') && m.len() <= MAX_MESSAGE + 4,
            "{}",
            m.len()
        );
    }
}
