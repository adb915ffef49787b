//! The CycloneDX 1.6 schema as validators: one for a whole BOM, and one
//! for the items of each top-level array whose schema is just "an array of
//! items of definition D, maybe unique" (`components`, `dependencies`, ...),
//! so that such arrays can be checked item by item.

use super::spdx::{BOM_SCHEMA_1_6, JSF_SCHEMA, SPDX_SCHEMA};
use serde_json::Value;
use std::sync::OnceLock;

/// Where the BOM schema says it lives (its `$id`).
const BOM_SCHEMA_ID: &str = "http://cyclonedx.org/schema/bom-1.6.schema.json";

fn parse(s: &str) -> Result<Value, String> {
    serde_json::from_str::<Value>(s).map_err(|e| e.to_string())
}

fn resource(s: &str) -> Result<jsonschema::Resource, String> {
    jsonschema::Resource::from_contents(parse(s)?).map_err(|e| e.to_string())
}

/// The options every validator shares: the schemas the BOM schema refers to.
fn options() -> Result<jsonschema::ValidationOptions, String> {
    Ok(jsonschema::options()
        .with_resource(
            "http://cyclonedx.org/schema/spdx.schema.json",
            resource(SPDX_SCHEMA)?,
        )
        .with_resource("spdx.schema.json", resource(SPDX_SCHEMA)?)
        .with_resource(
            "http://cyclonedx.org/schema/jsf-0.82.schema.json",
            resource(JSF_SCHEMA)?,
        )
        .with_resource("jsf-0.82.schema.json", resource(JSF_SCHEMA)?))
}

/// The validator of a whole BOM.
pub(super) fn validator() -> Result<&'static jsonschema::Validator, String> {
    static VALIDATOR: OnceLock<Result<jsonschema::Validator, String>> = OnceLock::new();
    VALIDATOR
        .get_or_init(|| {
            options()?
                .build(&parse(BOM_SCHEMA_1_6)?)
                .map_err(|e| e.to_string())
        })
        .as_ref()
        .map_err(Clone::clone)
}

/// A top-level array of the BOM schema that is checked item by item: the
/// whole schema's only constraints on it are its type, its items' schema
/// and (when `unique`) `uniqueItems`.
pub(super) struct ArraySchema {
    /// The member name (`components`).
    pub key: String,
    /// Whether its items must be unique.
    pub unique: bool,
    definition: String,
    validator: OnceLock<Result<jsonschema::Validator, String>>,
}

impl ArraySchema {
    /// The validator of one item (built at first use).
    pub(super) fn validator(&self) -> Result<&jsonschema::Validator, String> {
        self.validator
            .get_or_init(|| {
                let wrapper = serde_json::json!({
                    "$schema": "http://json-schema.org/draft-07/schema#",
                    "$ref": format!("{BOM_SCHEMA_ID}#/definitions/{}", self.definition),
                });
                options()?
                    .with_resource(BOM_SCHEMA_ID, resource(BOM_SCHEMA_1_6)?)
                    .build(&wrapper)
                    .map_err(|e| e.to_string())
            })
            .as_ref()
            .map_err(Clone::clone)
    }
}

/// The top-level arrays checked item by item, read from the schema.
fn array_schemas() -> &'static [ArraySchema] {
    static ARRAYS: OnceLock<Vec<ArraySchema>> = OnceLock::new();
    ARRAYS.get_or_init(|| {
        let schema = parse(BOM_SCHEMA_1_6).unwrap_or_default();
        let Some(properties) = schema["properties"].as_object() else {
            return Vec::new();
        };
        properties
            .iter()
            .filter_map(|(key, p)| {
                let p = p.as_object()?;
                let annotation = ["title", "description", "examples", "$comment"];
                let only = p.keys().all(|k| {
                    annotation.contains(&k.as_str())
                        || ["type", "items", "uniqueItems"].contains(&k.as_str())
                });
                let items = p.get("items")?.as_object()?;
                let definition = items
                    .get("$ref")?
                    .as_str()?
                    .strip_prefix("#/definitions/")?;
                let fits = only
                    && p.get("type")? == "array"
                    && items.len() == 1
                    && p.get("uniqueItems").is_none_or(Value::is_boolean);
                fits.then(|| ArraySchema {
                    key: key.clone(),
                    unique: p.get("uniqueItems") == Some(&Value::Bool(true)),
                    definition: definition.to_string(),
                    validator: OnceLock::new(),
                })
            })
            .collect()
    })
}

/// The schema of the top-level member `key` when it is an array checked
/// item by item.
pub(super) fn array_schema(key: &str) -> Option<&'static ArraySchema> {
    array_schemas().iter().find(|a| a.key == key)
}

/// A JSON pointer as a location in messages (`/` for the whole document).
pub(super) fn location(pointer: &str) -> String {
    if pointer.is_empty() {
        "/".into()
    } else {
        pointer.to_string()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_arrays_read_item_by_item_are_those_of_the_schema() {
        let keys: Vec<(&str, bool)> = array_schemas()
            .iter()
            .map(|a| (a.key.as_str(), a.unique))
            .collect();
        for want in [
            ("components", true),
            ("dependencies", true),
            ("services", true),
        ] {
            assert!(keys.contains(&want), "{keys:?}");
        }
        assert!(keys.contains(&("externalReferences", false)), "{keys:?}");
        // Objects and arrays with constraints of their own stay whole.
        for whole in ["metadata", "declarations", "definitions", "signature"] {
            assert!(array_schema(whole).is_none(), "{whole}");
        }
        for a in array_schemas() {
            a.validator().unwrap();
        }
    }
}
