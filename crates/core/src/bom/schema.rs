//! The CycloneDX 1.6 schema as validators: one for a whole BOM, and one
//! for the items of each top-level array whose schema is just "an array of
//! items of definition D, maybe unique" (`components`, `dependencies`, ...),
//! so that such arrays can be checked item by item.

use super::spdx::{BOM_SCHEMA_1_6, JSF_SCHEMA, SPDX_SCHEMA};
use serde_json::Value;
use std::sync::OnceLock;

/// Where the BOM schema says it lives (its `$id`).
const BOM_SCHEMA_ID: &str = "http://cyclonedx.org/schema/bom-1.6.schema.json";

/// The embedded CycloneDX, SPDX or JSF schema did not build into a
/// validator: a defect of this build of modelseal, never of the input.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("{0}")]
pub struct SchemaError(String);

impl SchemaError {
    fn from_display(e: impl std::fmt::Display) -> Self {
        SchemaError(e.to_string())
    }
}

fn parse(s: &str) -> Result<Value, SchemaError> {
    serde_json::from_str::<Value>(s).map_err(SchemaError::from_display)
}

fn resource(s: &str) -> Result<jsonschema::Resource, SchemaError> {
    jsonschema::Resource::from_contents(parse(s)?).map_err(SchemaError::from_display)
}

/// The options every validator shares: the schemas the BOM schema refers to.
fn options() -> Result<jsonschema::ValidationOptions, SchemaError> {
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
pub(super) fn validator() -> Result<&'static jsonschema::Validator, SchemaError> {
    static VALIDATOR: OnceLock<Result<jsonschema::Validator, SchemaError>> = OnceLock::new();
    VALIDATOR
        .get_or_init(|| {
            options()?
                .build(&parse(BOM_SCHEMA_1_6)?)
                .map_err(SchemaError::from_display)
        })
        .as_ref()
        .map_err(Clone::clone)
}

/// An array of the BOM schema that is checked item by item: the schema's
/// only constraints on it are its type, its items' schema (a definition)
/// and (when `unique`) `uniqueItems`. A top-level one (`components`,
/// `dependencies`) may have items whose own arrays of strings
/// (`dependsOn`) are read item by item too: its `members`; and items with
/// an array of items like themselves (a component's `components`), read
/// the same way at any depth: its `nested`.
pub(super) struct ArraySchema {
    /// The member name (`components`).
    pub key: String,
    /// Whether its items must be unique.
    pub unique: bool,
    /// Arrays of the items' definition read item by item.
    pub members: Vec<ArraySchema>,
    /// The member of its items that is an array of the same definition and
    /// uniqueness, read item by item like this one.
    pub nested: Option<String>,
    definition: String,
    validator: OnceLock<Result<jsonschema::Validator, SchemaError>>,
}

impl ArraySchema {
    /// The validator of one item (built at first use).
    pub(super) fn validator(&self) -> Result<&jsonschema::Validator, SchemaError> {
        self.validator
            .get_or_init(|| {
                let wrapper = serde_json::json!({
                    "$schema": "http://json-schema.org/draft-07/schema#",
                    "$ref": format!("{BOM_SCHEMA_ID}#/definitions/{}", self.definition),
                });
                options()?
                    .with_resource(BOM_SCHEMA_ID, resource(BOM_SCHEMA_1_6)?)
                    .build(&wrapper)
                    .map_err(SchemaError::from_display)
            })
            .as_ref()
            .map_err(Clone::clone)
    }

    /// The member `key` of an item, when it is read item by item.
    pub(super) fn member(&self, key: &str) -> Option<&ArraySchema> {
        if self.nested.as_deref() == Some(key) {
            return Some(self);
        }
        self.members.iter().find(|a| a.key == key)
    }

    /// Whether its items (objects) are read member by member.
    pub(super) fn by_member(&self) -> bool {
        !self.members.is_empty() || self.nested.is_some()
    }
}

/// The arrays among `properties` checked item by item; `fits` decides on
/// each item definition.
fn arrays_of(
    properties: &serde_json::Map<String, Value>,
    fits: &dyn Fn(&str) -> Option<Vec<ArraySchema>>,
) -> Vec<ArraySchema> {
    const ANNOTATIONS: [&str; 4] = ["title", "description", "examples", "$comment"];
    properties
        .iter()
        .filter_map(|(key, p)| {
            let p = p.as_object()?;
            let only = p.keys().all(|k| {
                ANNOTATIONS.contains(&k.as_str())
                    || ["type", "items", "uniqueItems"].contains(&k.as_str())
            });
            let items = p.get("items")?.as_object()?;
            let definition = items
                .get("$ref")?
                .as_str()?
                .strip_prefix("#/definitions/")?;
            let array = only
                && p.get("type")? == "array"
                && items.len() == 1
                && p.get("uniqueItems").is_none_or(Value::is_boolean);
            if !array {
                return None;
            }
            Some(ArraySchema {
                key: key.clone(),
                unique: p.get("uniqueItems") == Some(&Value::Bool(true)),
                members: fits(definition)?,
                nested: None,
                definition: definition.to_string(),
                validator: OnceLock::new(),
            })
        })
        .collect()
}

/// The type a definition comes to through `$ref`s.
fn type_of<'a>(definitions: &'a Value, mut name: &'a str) -> Option<&'a str> {
    for _ in 0..8 {
        let d = &definitions[name];
        if let Some(t) = d.get("type") {
            return t.as_str();
        }
        name = d.get("$ref")?.as_str()?.strip_prefix("#/definitions/")?;
    }
    None
}

/// The top-level arrays checked item by item, read from the schema.
fn array_schemas() -> &'static [ArraySchema] {
    static ARRAYS: OnceLock<Vec<ArraySchema>> = OnceLock::new();
    ARRAYS.get_or_init(|| {
        let schema = parse(BOM_SCHEMA_1_6).unwrap_or_default();
        let definitions = &schema["definitions"];
        // Arrays of strings in an item read member by member: only for a
        // definition whose constraints are all per member (or on which
        // members there are), so that emptying one changes nothing else.
        let safe = |definition: &str| -> Option<&serde_json::Map<String, Value>> {
            let d = definitions[definition].as_object();
            let safe = d.is_some_and(|d| {
                d.keys().all(|k| {
                    [
                        "type",
                        "title",
                        "description",
                        "examples",
                        "$comment",
                        "required",
                        "additionalProperties",
                        "properties",
                    ]
                    .contains(&k.as_str())
                }) && d.get("additionalProperties").is_none_or(Value::is_boolean)
            });
            let properties = d.and_then(|d| d.get("properties")?.as_object());
            properties.filter(|_| safe)
        };
        let members = |definition: &str| -> Option<Vec<ArraySchema>> {
            Some(match safe(definition) {
                Some(p) => arrays_of(p, &|item| {
                    (type_of(definitions, item) == Some("string")).then(Vec::new)
                }),
                None => Vec::new(),
            })
        };
        let mut arrays = match schema["properties"].as_object() {
            Some(properties) => arrays_of(properties, &members),
            None => Vec::new(),
        };
        // Emptying such a member of a safe definition changes nothing else
        // either; an empty array is a valid one.
        for array in &mut arrays {
            let definition = array.definition.clone();
            array.nested = safe(&definition).and_then(|p| {
                arrays_of(p, &|item| (item == definition).then(Vec::new))
                    .into_iter()
                    .find(|n| n.unique == array.unique)
                    .map(|n| n.key)
            });
        }
        arrays
    })
}

/// The schema of the top-level member `key` when it is an array checked
/// item by item.
pub(super) fn array_schema(key: &str) -> Option<&'static ArraySchema> {
    array_schemas().iter().find(|a| a.key == key)
}

/// The top-level member a JSON pointer starts in (unescaped), if any.
pub(super) fn top_member(pointer: &str) -> Option<String> {
    let first = pointer.strip_prefix('/')?.split('/').next()?;
    Some(first.replace("~1", "/").replace("~0", "~"))
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
        let dependency = array_schema("dependencies").unwrap();
        let members: Vec<&str> = dependency.members.iter().map(|m| m.key.as_str()).collect();
        assert_eq!(members, ["dependsOn", "provides"]);
        assert_eq!(dependency.nested, None);
        // A component's components are components, read the same way.
        let components = array_schema("components").unwrap();
        assert_eq!(components.nested.as_deref(), Some("components"));
        assert!(std::ptr::eq(
            components.member("components").unwrap(),
            components
        ));
        for a in array_schemas() {
            a.validator().unwrap();
            for m in &a.members {
                m.validator().unwrap();
            }
        }
    }
}
