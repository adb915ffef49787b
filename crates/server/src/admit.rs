//! The admission decisions: validate (verify, record, admit or deny),
//! mutate (pin a verified tag to its digest), and the verify API.

use crate::cache::{Cache, Entry, Flight, Key};
use crate::judge::Judge;
use crate::locate::{ImageRef, Location, Target, carriers, locations};
use crate::metrics::Metrics;
use crate::review::{Request, Response};
use modelseal_core::clock::Now;
use modelseal_core::policy::OtherStorage;
use modelseal_evidence::{AdmissionObject, NewRecord, Recorder, VerificationReceipt};
use std::collections::{HashMap, VecDeque};
use std::sync::{Arc, Mutex};
use std::time::Duration;

/// The caller's clock: the server never reads one itself.
pub type Clock = Arc<dyn Fn() -> Now + Send + Sync>;

/// How many answered requests are remembered by uid and body (a retried
/// request gets the same answer and records nothing again).
const REMEMBERED: usize = 4096;

/// Threads that append admission records: while one appends a batch, the
/// next gathers the records that arrived meanwhile (group commit).
const WRITERS: usize = 2;

/// What every request shares.
pub struct State {
    pub(crate) judge: Arc<dyn Judge>,
    pub(crate) recorder: Option<Arc<Recorder>>,
    pub(crate) cache: Cache,
    pub(crate) metrics: Metrics,
    pub(crate) clock: Clock,
    pub(crate) registry_timeout: Duration,
    answered: Mutex<Answered>,
    writer: Option<Writer>,
}

/// Answers by (request uid, SHA-256 of the request body): a request with
/// a uid seen before but another body is judged afresh.
#[derive(Default)]
struct Answered {
    by_uid: HashMap<(String, [u8; 32]), Response>,
    order: VecDeque<(String, [u8; 32])>,
}

/// Records waiting to be appended, and who waits for them.
struct Job {
    records: Vec<NewRecord>,
    done: tokio::sync::oneshot::Sender<Result<(), RecordError>>,
}

/// Why an admission's records were not made durable (the admission is
/// then denied, saying why).
#[derive(Debug, Clone, thiserror::Error)]
enum RecordError {
    /// The writer threads, or the task making the records, stopped.
    #[error("the evidence writer stopped")]
    WriterStopped,
    /// The records could not be made or appended. Shared: one failed
    /// append fails every admission of its batch.
    #[error("{0}")]
    Evidence(#[source] Arc<modelseal_core::Error>),
}

/// The group-commit writers: every admission's records go through them,
/// and the records that arrive while a batch is being made durable go
/// into the next one (one flush and one checkpoint for all of them).
struct Writer {
    jobs: std::sync::mpsc::Sender<Job>,
}

impl Writer {
    fn start(recorder: Arc<Recorder>) -> Self {
        let (jobs, queue) = std::sync::mpsc::channel::<Job>();
        let queue = Arc::new(Mutex::new(queue));
        for _ in 0..WRITERS {
            let (queue, recorder) = (queue.clone(), recorder.clone());
            std::thread::spawn(move || {
                loop {
                    let batch = {
                        let queue = queue.lock().unwrap_or_else(|p| p.into_inner());
                        let Ok(first) = queue.recv() else { return };
                        let mut count = first.records.len();
                        let mut batch = vec![first];
                        // Room for one more object's records, whatever it is.
                        while count + crate::locate::MAX_LOCATIONS <= modelseal_evidence::MAX_BATCH
                        {
                            match queue.try_recv() {
                                Ok(job) => {
                                    count += job.records.len();
                                    batch.push(job);
                                }
                                Err(_) => break,
                            }
                        }
                        batch
                    };
                    let records: Vec<NewRecord> = batch
                        .iter()
                        .flat_map(|j| j.records.iter().cloned())
                        .collect();
                    let result = recorder
                        .append_batch(&records)
                        .map(|_| ())
                        .map_err(|e| RecordError::Evidence(Arc::new(e)));
                    for job in batch {
                        let _ = job.done.send(result.clone());
                    }
                }
            });
        }
        Writer { jobs }
    }

    /// Appends `records` with whatever else is waiting; durable when this
    /// returns Ok.
    async fn append(&self, records: Vec<NewRecord>) -> Result<(), RecordError> {
        if records.is_empty() {
            return Ok(());
        }
        let (done, wait) = tokio::sync::oneshot::channel();
        self.jobs
            .send(Job { records, done })
            .map_err(|_| RecordError::WriterStopped)?;
        wait.await.map_err(|_| RecordError::WriterStopped)?
    }
}

impl std::fmt::Debug for State {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("State")
            .field("recorder", &self.recorder)
            .field("registry_timeout", &self.registry_timeout)
            .finish_non_exhaustive()
    }
}

/// The verdict on one location.
enum Judged {
    /// Verified: the digest it pins, the verdict, and whether the cache
    /// gave it.
    Verified { digest: String, entry: Arc<Entry> },
    /// Not verified: why, and the failed verdict when one was made.
    Refused {
        reasons: Vec<String>,
        entry: Option<Arc<Entry>>,
        code: u16,
    },
    /// A location the policy admits unverified.
    Unverified(String),
}

impl State {
    /// A state for `judge`, recording with `recorder`.
    pub fn new(
        judge: Arc<dyn Judge>,
        recorder: Option<Arc<Recorder>>,
        cache: Cache,
        clock: Clock,
        registry_timeout: Duration,
    ) -> Self {
        let writer = recorder.clone().map(Writer::start);
        State {
            judge,
            recorder,
            cache,
            metrics: Metrics::default(),
            clock,
            registry_timeout,
            answered: Mutex::new(Answered::default()),
            writer,
        }
    }

    fn remembered(&self, uid: &str, body: [u8; 32]) -> Option<Response> {
        let answered = self.answered.lock().unwrap_or_else(|p| p.into_inner());
        answered.by_uid.get(&(uid.to_string(), body)).cloned()
    }

    fn remember(&self, response: &Response, body: [u8; 32]) {
        let mut answered = self.answered.lock().unwrap_or_else(|p| p.into_inner());
        let key = (response.uid.clone(), body);
        if answered
            .by_uid
            .insert(key.clone(), response.clone())
            .is_none()
        {
            answered.order.push_back(key);
        }
        while answered.order.len() > REMEMBERED {
            if let Some(old) = answered.order.pop_front() {
                answered.by_uid.remove(&old);
            }
        }
    }

    /// The verdict for `image` (a digest, or a tag resolved now), from the
    /// cache or made now; `fresh` makes it anew.
    async fn judge_image(self: &Arc<Self>, image: &ImageRef, now: Now, fresh: bool) -> Judged {
        let deadline = self.registry_timeout + Duration::from_secs(1);
        let digest = match &image.digest {
            Some(d) => d.clone(),
            None => {
                let (state, image) = (self.clone(), image.clone());
                let resolved = tokio::time::timeout(
                    deadline,
                    tokio::task::spawn_blocking(move || state.judge.resolve(&image)),
                )
                .await;
                match resolved {
                    Ok(Ok(Ok(d))) => d,
                    Ok(Ok(Err(e))) => return self.unavailable(&e),
                    Ok(Err(_)) => return refused("the resolver stopped", 503),
                    Err(_) => {
                        Metrics::add(&self.metrics.registry_errors);
                        return refused(
                            &format!(
                                "the registry did not answer within {} s",
                                self.registry_timeout.as_secs()
                            ),
                            503,
                        );
                    }
                }
            }
        };
        let pinned = ImageRef {
            digest: Some(digest.clone()),
            ..image.clone()
        };
        let key = Key {
            repository: format!("{}/{}", image.registry, image.repository),
            digest: digest.clone(),
            policy: self.judge.policy_digest().to_string(),
        };
        let state = self.clone();
        let (flight, hit) = self
            .cache
            .get(&key, now.time(), fresh, move || async move {
                Metrics::add(&state.metrics.verifications);
                let judge = state.judge.clone();
                let task = tokio::task::spawn_blocking(move || judge.verify(&pinned, now));
                let made: Flight = match tokio::time::timeout(deadline, task).await {
                    Ok(Ok(Ok(judgement))) => Ok(Arc::new(Entry {
                        judgement,
                        made: now.time(),
                        receipt: Mutex::new(None),
                    })),
                    Ok(Ok(Err(e))) => Err(Arc::new(e)),
                    Ok(Err(_)) => Err(Arc::new(modelseal_core::Error::Unavailable(
                        "the verification stopped".into(),
                    ))),
                    Err(_) => Err(Arc::new(modelseal_core::Error::Unavailable(format!(
                        "the registry did not answer within {} s",
                        state.registry_timeout.as_secs()
                    )))),
                };
                made
            })
            .await;
        if hit {
            Metrics::add(&self.metrics.cache_hits);
        }
        match flight {
            Ok(entry) if entry.judgement.verified => Judged::Verified { digest, entry },
            Ok(entry) => Judged::Refused {
                reasons: entry.judgement.failures.clone(),
                entry: Some(entry),
                code: 403,
            },
            Err(e) => self.unavailable(&e),
        }
    }

    fn unavailable(&self, e: &modelseal_core::Error) -> Judged {
        use modelseal_core::ErrorClass;
        let code = match e.class() {
            ErrorClass::Retry => {
                Metrics::add(&self.metrics.registry_errors);
                503
            }
            _ => 403,
        };
        refused(&e.to_string(), code)
    }

    /// The verdict on one location under the policy's admission rules.
    async fn judge_location(
        self: &Arc<Self>,
        location: &Location,
        now: Now,
        pin_only: bool,
    ) -> Judged {
        let rules = self.judge.rules();
        match &location.target {
            Target::Invalid(why) => refused(&why.to_string(), 403),
            Target::Other(what) => match rules.other_storage {
                OtherStorage::Allow => Judged::Unverified(format!(
                    "{} ({what}) is admitted unverified: the policy allows other storage",
                    location.field
                )),
                OtherStorage::Deny => refused(
                    &format!(
                        "{what}: not an oci:// model, which is all this webhook verifies, and the policy denies other storage"
                    ),
                    403,
                ),
            },
            Target::Oci(image) => {
                if !rules.registries.contains(&image.registry) {
                    return refused(
                        &format!(
                            "registry {} is not one the policy's admission registries list",
                            image.registry
                        ),
                        403,
                    );
                }
                if image.digest.is_none() && !rules.allow_tags && !pin_only {
                    return refused(
                        &format!(
                            "{} names a tag: a digest is required (the mutating webhook pins verified tags)",
                            location.text
                        ),
                        403,
                    );
                }
                self.judge_image(image, now, false).await
            }
        }
    }

    /// The receipt of `entry`'s verification record, appended now if it
    /// has not been.
    fn receipt(
        &self,
        recorder: &Recorder,
        entry: &Entry,
    ) -> modelseal_core::Result<Option<VerificationReceipt>> {
        let mut receipt = entry.receipt.lock().unwrap_or_else(|p| p.into_inner());
        if receipt.is_none()
            && let Some(record) = &entry.judgement.record
        {
            *receipt = Some(recorder.append_verification(record)?);
            Metrics::add(&self.metrics.records);
            self.cache.forget_subject(&record.subject.sha256, entry);
        }
        Ok(receipt.clone())
    }

    /// The model locations a request asks about: on UPDATE, only those
    /// whose text changed (a finalizer removed or a label set re-judges
    /// nothing), and the containers the old object named as model
    /// carriers stay carriers (an update cannot drop the name and swap
    /// the image).
    fn asked(request: &Request) -> Result<Vec<Location>, crate::locate::LocateError> {
        let object = request.object.as_ref().unwrap_or(&serde_json::Value::Null);
        let kind = &request.kind;
        let old = request
            .old_object
            .as_ref()
            .filter(|_| request.operation == "UPDATE" && kind.kind == "Pod");
        let before = match old {
            Some(old) => carriers(old).unwrap_or_default(),
            None => Vec::new(),
        };
        let found = locations(&kind.group, &kind.version, &kind.kind, object, &before)?;
        let Some(old) = request
            .old_object
            .as_ref()
            .filter(|_| request.operation == "UPDATE")
        else {
            return Ok(found);
        };
        let kept =
            locations(&kind.group, &kind.version, &kind.kind, old, &before).unwrap_or_default();
        Ok(found
            .into_iter()
            .filter(|l| {
                !kept
                    .iter()
                    .any(|k| k.pointer == l.pointer && k.text == l.text)
            })
            .collect())
    }

    /// The validating webhook: verify every model the object names (at
    /// once, within one deadline), record the verifications and the
    /// admission or refusal, then answer. `body` is the SHA-256 of the
    /// request, so a retry (the same uid and body) gets the same answer.
    pub async fn validate(
        self: &Arc<Self>,
        request: Request,
        body: [u8; 32],
    ) -> (Response, &'static str) {
        let uid = request.uid.clone();
        if !matches!(request.operation.as_str(), "CREATE" | "UPDATE") {
            return (Response::allow(&uid), "admit");
        }
        if let Some(answer) = self.remembered(&uid, body) {
            let verdict = if answer.allowed { "admit" } else { "deny" };
            return (answer, verdict);
        }
        let found = match Self::asked(&request) {
            Ok(found) => found,
            Err(e) => return (Response::deny(&uid, 400, &e.to_string()), "invalid"),
        };
        if found.is_empty() && request.kind.kind != "Pod" && request.operation == "CREATE" {
            return (
                Response::deny(
                    &uid,
                    403,
                    &format!(
                        "modelseal: the {} names no model location this webhook can verify (storageUri, storageUris, model.uri or the KServe source-URI annotation)",
                        request.kind.kind
                    ),
                ),
                "deny",
            );
        }
        let now = (self.clock)();
        // Every location at once, all within one deadline below the API
        // server's: a request never waits for one registry after another.
        let deadline = self.registry_timeout + Duration::from_secs(2);
        let mut tasks = tokio::task::JoinSet::new();
        for (i, location) in found.iter().enumerate() {
            let (state, location) = (self.clone(), location.clone());
            tasks.spawn(async move { (i, state.judge_location(&location, now, false).await) });
        }
        let mut judged: Vec<Option<Judged>> = (0..found.len()).map(|_| None).collect();
        let finished = tokio::time::timeout(deadline, async {
            while let Some(Ok((i, j))) = tasks.join_next().await {
                judged[i] = Some(j);
            }
        })
        .await;
        tasks.abort_all();
        if finished.is_err() {
            Metrics::add(&self.metrics.registry_errors);
        }
        let judged: Vec<Judged> = judged
            .into_iter()
            .map(|j| {
                j.unwrap_or_else(|| {
                    refused(
                        &format!("not verified within {} s", deadline.as_secs()),
                        503,
                    )
                })
            })
            .collect();
        let dry_run = request.dry_run.unwrap_or(false);
        let admitted = judged.iter().all(|j| !matches!(j, Judged::Refused { .. }));
        let mut reasons = Vec::new();
        let mut warnings = Vec::new();
        let mut code = 403;
        for (location, j) in found.iter().zip(&judged) {
            match j {
                Judged::Refused {
                    reasons: why,
                    code: c,
                    ..
                } => {
                    code = code.max(*c);
                    let why = if why.is_empty() {
                        "not verified".to_string()
                    } else {
                        why.join("; ")
                    };
                    reasons.push(format!("{} {}: {why}", location.field, location.text));
                }
                Judged::Unverified(w) => warnings.push(w.clone()),
                Judged::Verified { .. } => {}
            }
        }
        let recorded = if dry_run {
            Ok(())
        } else {
            self.record(&request, &found, &judged, admitted, now).await
        };
        let response = match recorded {
            Err(e) => {
                Metrics::add(&self.metrics.store_errors);
                return (
                    Response::deny(
                        &uid,
                        503,
                        &format!(
                            "modelseal: the evidence store could not record this admission, so it is denied: {e}"
                        ),
                    ),
                    "error",
                );
            }
            Ok(()) if admitted => {
                let mut r = Response::allow(&uid);
                r.warnings = warnings;
                r
            }
            Ok(()) => Response::deny(
                &uid,
                code,
                &format!("modelseal: not verified: {}", reasons.join(" | ")),
            ),
        };
        if !dry_run {
            self.remember(&response, body);
        }
        let verdict = if response.allowed { "admit" } else { "deny" };
        (response, verdict)
    }

    /// Writes the verifications and the admission (or refusal) records;
    /// each is durable when this returns.
    async fn record(
        self: &Arc<Self>,
        request: &Request,
        found: &[Location],
        judged: &[Judged],
        admitted: bool,
        now: Now,
    ) -> Result<(), RecordError> {
        let (Some(recorder), Some(writer)) = (self.recorder.clone(), self.writer.as_ref()) else {
            return Ok(());
        };
        let object = request.object.as_ref();
        let meta = |k: &str| {
            object
                .and_then(|o| o.pointer(&format!("/metadata/{k}")))
                .and_then(serde_json::Value::as_str)
                .map(String::from)
        };
        let name = request
            .name
            .clone()
            .filter(|n| !n.is_empty())
            .or_else(|| meta("name"))
            .or_else(|| meta("generateName"))
            .unwrap_or_default();
        let namespace = request.namespace.clone().or_else(|| meta("namespace"));
        let mut work = Vec::new();
        for (location, j) in found.iter().zip(judged) {
            let admission = AdmissionObject {
                uid: request.uid.clone(),
                kind: request.kind.kind.clone(),
                namespace: namespace.clone(),
                name: name.clone(),
                operation: request.operation.clone(),
                field: location.field.clone(),
                reference: location.text.clone(),
            };
            match j {
                Judged::Verified { entry, .. } if admitted => {
                    work.push((admission, Some(entry.clone()), None))
                }
                Judged::Refused { reasons, entry, .. } => {
                    work.push((admission, entry.clone(), Some(reasons.clone())))
                }
                // Admitted unverified (the policy allows other storage):
                // recorded as a deployment that relied on no verification.
                Judged::Unverified(_) if admitted => work.push((admission, None, None)),
                _ => {}
            }
        }
        if work.is_empty() {
            return Ok(());
        }
        // The verifications first (each once, appended where it was made
        // if not yet), then this request's records, in one batch with
        // whatever other admissions are recording.
        let state = self.clone();
        let records = tokio::task::spawn_blocking(move || -> modelseal_core::Result<Vec<NewRecord>> {
            let mut records = Vec::new();
            for (admission, entry, refusal) in work {
                let receipt = match &entry {
                    Some(e) => state.receipt(&recorder, e)?,
                    None => None,
                };
                records.push(match (refusal, receipt) {
                    (None, Some(receipt)) => recorder.admission_record(&receipt, admission, now)?,
                    (None, None) if entry.is_none() => {
                        Recorder::unverified_admission_record(admission, now)
                    }
                    (None, None) => {
                        return Err(modelseal_core::Error::Evidence(format!(
                            "the verification of {} names no model digest: nothing to record the admission against",
                            admission.reference
                        )));
                    }
                    (Some(reasons), receipt) => Recorder::refusal_record(receipt.as_ref(), admission, reasons, now),
                });
            }
            Ok(records)
        })
        .await
        .map_err(|_| RecordError::WriterStopped)?
        .map_err(|e| RecordError::Evidence(Arc::new(e)))?;
        let count = records.len();
        writer.append(records).await?;
        self.metrics
            .records
            .fetch_add(count as u64, std::sync::atomic::Ordering::Relaxed);
        Ok(())
    }

    /// The mutating webhook: each tag whose model verifies is replaced by
    /// the digest verified. Nothing is denied here (the validating call
    /// decides and records) except what cannot be read.
    pub async fn mutate(self: &Arc<Self>, request: Request) -> (Response, &'static str) {
        let uid = request.uid.clone();
        if !matches!(request.operation.as_str(), "CREATE" | "UPDATE") {
            return (Response::allow(&uid), "admit");
        }
        let found = match Self::asked(&request) {
            Ok(found) => found,
            Err(e) => return (Response::deny(&uid, 400, &e.to_string()), "invalid"),
        };
        let now = (self.clock)();
        let mut ops = Vec::new();
        for location in &found {
            let Target::Oci(image) = &location.target else {
                continue;
            };
            if image.digest.is_some() {
                continue;
            }
            if let Judged::Verified { digest, .. } = self.judge_location(location, now, true).await
            {
                ops.push(serde_json::json!({
                    "op": "replace",
                    "path": location.pointer,
                    "value": location.pinned_text(image, &digest),
                }));
            }
        }
        (Response::allow(&uid).with_patch(&ops), "admit")
    }

    /// The verify API: verifies `model` (an `oci://` reference in a listed
    /// registry) anew and records the verification.
    pub async fn verify(
        self: &Arc<Self>,
        model: &str,
    ) -> Result<(serde_json::Value, bool), (u16, String)> {
        let image = model
            .strip_prefix("oci://")
            .ok_or_else(|| {
                (
                    400,
                    format!("{model:?}: the verify API verifies oci:// models"),
                )
            })
            .and_then(|rest| ImageRef::parse(rest).map_err(|e| (400, e.to_string())))?;
        if !self.judge.rules().registries.contains(&image.registry) {
            return Err((
                403,
                format!(
                    "registry {} is not one the policy's admission registries list",
                    image.registry
                ),
            ));
        }
        let now = (self.clock)();
        match self.judge_image(&image, now, true).await {
            Judged::Verified { entry, .. }
            | Judged::Refused {
                entry: Some(entry), ..
            } => {
                if let Some(recorder) = self.recorder.clone() {
                    let (state, e) = (self.clone(), entry.clone());
                    let appended =
                        tokio::task::spawn_blocking(move || state.receipt(&recorder, &e)).await;
                    if !matches!(appended, Ok(Ok(_))) {
                        Metrics::add(&self.metrics.store_errors);
                        return Err((
                            503,
                            "the evidence store could not record the verification".into(),
                        ));
                    }
                }
                Ok((entry.judgement.verdict.clone(), entry.judgement.verified))
            }
            Judged::Refused { reasons, code, .. } => Err((code, reasons.join("; "))),
            Judged::Unverified(w) => Err((400, w)),
        }
    }
}

fn refused(why: &str, code: u16) -> Judged {
    Judged::Refused {
        reasons: vec![why.to_string()],
        entry: None,
        code,
    }
}
