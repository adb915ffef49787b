//! Each model's history as the log tells it: signed, BOM written,
//! verified (passed or failed), deployed; and whether the gate blocked it.

use super::report::{Event, EventKind, ModelHistory};
use super::view::View;
use crate::evidence::record::Predicate;

/// The history of every model in scope.
pub(crate) fn histories<'a>(view: &View<'a>) -> Vec<ModelHistory<'a>> {
    let blocked: std::collections::HashSet<&str> =
        view.blocked().into_iter().map(|(m, _, _)| m).collect();
    // Subjects some BOM names as a dataset.
    let mut datasets: std::collections::HashSet<String> = std::collections::HashSet::new();
    for r in &view.records {
        let named: &[crate::evidence::record::DatasetRef] = match &r.predicate {
            Predicate::Sign(s) => s.datasets.as_deref().unwrap_or_default(),
            Predicate::Bom(b) => &b.datasets,
            _ => &[],
        };
        for d in named {
            if let Some(sha) = d.digest.get("sha256") {
                datasets.insert(sha.to_ascii_lowercase());
            }
        }
    }
    view.models()
        .into_iter()
        .map(|m| {
            let events: Vec<Event> = view.about(m).iter().filter_map(|r| Event::of(r)).collect();
            ModelHistory {
                model: view.model_ref(m),
                deployed: events.iter().any(|e| e.kind() == EventKind::Deployed),
                blocked: blocked.contains(m),
                // A subject that was verified or deployed is a model, even
                // if some BOM also names it as a dataset.
                dataset: datasets.contains(m)
                    && !events.iter().any(|e| {
                        matches!(
                            e.kind(),
                            EventKind::Verified
                                | EventKind::VerificationFailed
                                | EventKind::Deployed
                        )
                    }),
                events,
            }
        })
        .collect()
}
