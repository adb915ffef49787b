//! Checking any CycloneDX 1.6 BOM: the official JSON schema, then reference
//! integrity (every `ref` resolves, `bom-ref`s unique, model cards only on
//! models).

use super::spdx::{BOM_SCHEMA_1_6, JSF_SCHEMA, SPDX_SCHEMA};
use serde_json::Value;
use std::collections::{BTreeMap, BTreeSet};
use std::sync::OnceLock;

fn validator() -> Result<&'static jsonschema::Validator, String> {
    static VALIDATOR: OnceLock<Result<jsonschema::Validator, String>> = OnceLock::new();
    VALIDATOR
        .get_or_init(|| {
            let parse = |s: &str| serde_json::from_str::<Value>(s).map_err(|e| e.to_string());
            let schema = parse(BOM_SCHEMA_1_6)?;
            let resource = |s: &str| -> Result<jsonschema::Resource, String> {
                jsonschema::Resource::from_contents(parse(s)?).map_err(|e| e.to_string())
            };
            jsonschema::options()
                .with_resource(
                    "http://cyclonedx.org/schema/spdx.schema.json",
                    resource(SPDX_SCHEMA)?,
                )
                .with_resource("spdx.schema.json", resource(SPDX_SCHEMA)?)
                .with_resource(
                    "http://cyclonedx.org/schema/jsf-0.82.schema.json",
                    resource(JSF_SCHEMA)?,
                )
                .with_resource("jsf-0.82.schema.json", resource(JSF_SCHEMA)?)
                .build(&schema)
                .map_err(|e| e.to_string())
        })
        .as_ref()
        .map_err(Clone::clone)
}

/// Parses BOM JSON strictly: a BOM that repeats a key in any object is
/// refused (see [`crate::json`]), so that every reader sees one content.
pub fn parse_bom(bytes: &[u8]) -> Result<Value, crate::json::StrictJsonError> {
    crate::json::from_slice(bytes)
}

/// Every problem found in `bom`, each as `location: message`. Empty means
/// the BOM is valid CycloneDX 1.6 with consistent references.
pub fn check_bom(bom: &Value) -> Vec<String> {
    let mut problems = Vec::new();
    if bom.get("specVersion").and_then(Value::as_str) != Some("1.6") {
        problems.push(format!(
            "/specVersion: this check knows CycloneDX 1.6, the BOM says {}",
            bom.get("specVersion")
                .map(|v| v.to_string())
                .unwrap_or_else(|| "nothing".into())
        ));
    }
    match validator() {
        Ok(v) => {
            for e in v.iter_errors(bom).take(200) {
                problems.push(format!("{}: {e}", location(&e.instance_path.to_string())));
            }
        }
        Err(e) => problems.push(format!("the CycloneDX schema could not be loaded: {e}")),
    }
    let mut refs = BTreeMap::<String, Vec<String>>::new();
    let mut uses = Vec::new();
    walk(bom, "", &mut refs, &mut uses, &mut problems);
    for (r, places) in &refs {
        if places.len() > 1 {
            problems.push(format!(
                "{}: bom-ref {r:?} is not unique (also at {})",
                places[0],
                places[1..].join(", ")
            ));
        }
    }
    let known: BTreeSet<&str> = refs.keys().map(String::as_str).collect();
    for (place, r) in uses {
        if !r.starts_with("urn:cdx:") && !known.contains(r.as_str()) {
            problems.push(format!("{place}: ref {r:?} resolves to no bom-ref"));
        }
    }
    problems
}

fn location(pointer: &str) -> String {
    if pointer.is_empty() {
        "/".into()
    } else {
        pointer.to_string()
    }
}

/// Collects bom-refs and references, and checks model-card placement.
fn walk(
    value: &Value,
    path: &str,
    refs: &mut BTreeMap<String, Vec<String>>,
    uses: &mut Vec<(String, String)>,
    problems: &mut Vec<String>,
) {
    match value {
        Value::Object(map) => {
            if let Some(Value::String(r)) = map.get("bom-ref") {
                refs.entry(r.clone()).or_default().push(location(path));
            }
            if map.contains_key("modelCard")
                && map.get("type").and_then(Value::as_str) != Some("machine-learning-model")
            {
                problems.push(format!(
                    "{}: modelCard on a component of type {}; only machine-learning-model components carry one",
                    location(path),
                    map.get("type").map(|t| t.to_string()).unwrap_or_else(|| "(none)".into())
                ));
            }
            for (key, child) in map {
                let here = format!("{path}/{key}");
                match (key.as_str(), child) {
                    ("ref", Value::String(r)) => uses.push((location(&here), r.clone())),
                    ("dependsOn" | "provides", Value::Array(items)) => {
                        for (i, item) in items.iter().enumerate() {
                            if let Value::String(r) = item {
                                uses.push((format!("{here}/{i}"), r.clone()));
                            }
                        }
                    }
                    _ => walk(child, &here, refs, uses, problems),
                }
            }
        }
        Value::Array(items) => {
            for (i, item) in items.iter().enumerate() {
                walk(item, &format!("{path}/{i}"), refs, uses, problems);
            }
        }
        _ => {}
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    fn minimal() -> Value {
        json!({
            "bomFormat": "CycloneDX", "specVersion": "1.6", "version": 1,
            "metadata": {"component": {"type": "machine-learning-model", "name": "m", "bom-ref": "m",
                "modelCard": {"modelParameters": {"datasets": [{"ref": "d"}]}}}},
            "components": [{"type": "data", "name": "d", "bom-ref": "d"}],
            "dependencies": [{"ref": "m", "dependsOn": ["d"]}]
        })
    }

    #[test]
    fn a_consistent_bom_passes() {
        assert_eq!(check_bom(&minimal()), Vec::<String>::new());
    }

    #[test]
    fn dangling_refs_duplicates_and_misplaced_cards_are_listed() {
        let mut bom = minimal();
        bom["dependencies"][0]["dependsOn"] = json!(["d", "nowhere"]);
        bom["components"]
            .as_array_mut()
            .unwrap()
            .push(json!({"type": "file", "name": "x", "bom-ref": "d",
            "modelCard": {}}));
        let problems = check_bom(&bom);
        assert!(
            problems
                .iter()
                .any(|p| p.contains("\"nowhere\" resolves to no bom-ref")),
            "{problems:#?}"
        );
        assert!(
            problems.iter().any(|p| p.contains("\"d\" is not unique")),
            "{problems:#?}"
        );
        assert!(
            problems
                .iter()
                .any(|p| p.contains("only machine-learning-model")),
            "{problems:#?}"
        );
    }

    #[test]
    fn schema_violations_are_listed_with_their_location() {
        let mut bom = minimal();
        bom["components"][0]["type"] = json!("spaceship");
        bom["serialNumber"] = json!("not-a-uuid");
        let problems = check_bom(&bom);
        assert!(
            problems.iter().any(|p| p.starts_with("/components/0/type")),
            "{problems:#?}"
        );
        assert!(
            problems.iter().any(|p| p.starts_with("/serialNumber")),
            "{problems:#?}"
        );
        assert!(!check_bom(&json!({"specVersion": "1.4"})).is_empty());
    }
}
