//! Keras model configurations (`config.json` of a `.keras` archive, the
//! `model_config` and `training_config` attributes of an HDF5 `.h5`):
//! `Lambda` layers hold Python code that runs when the model is loaded, and
//! an object whose `module` is not Keras's own makes the loader import that
//! module (a custom object), which runs its code.

use super::Finding;
use super::hdf5::AttrValue;
use serde_json::{Value, json};

/// Class names whose configuration carries Python code.
const CODE_CLASSES: [&str; 3] = ["Lambda", "TFOpLambda", "__lambda__"];

/// Whether Keras's deserializer imports `module` from Keras itself.
fn keras_module(module: &str) -> bool {
    module == "keras" || module.starts_with("keras.") || module.starts_with("tf_keras")
}

/// Findings for a Keras configuration's JSON bytes; `what` names it
/// ("config.json", "model_config").
pub fn config_findings(data: &[u8], what: &str) -> Vec<Finding> {
    let Ok(config) = serde_json::from_slice::<Value>(data) else {
        return vec![Finding::invalid(format!("{what} is not JSON"))];
    };
    value_findings(&config)
}

/// The root attributes of an HDF5 file that Keras reads as JSON.
const HDF5_CONFIGS: [&str; 2] = ["model_config", "training_config"];

/// Findings and facts for an HDF5 file's root attributes (its superblock
/// at byte `at`): Keras's `model_config` and `training_config` are judged
/// as a `.keras` configuration is. A file without them holds no Keras
/// configuration (a dataset, or weights alone) and nothing of it runs.
pub fn hdf5_findings(attributes: &[(String, AttrValue)], at: u64) -> (Vec<Finding>, Value) {
    let mut findings = Vec::new();
    for (name, value) in attributes {
        if !HDF5_CONFIGS.contains(&name.as_str()) {
            continue;
        }
        match value {
            AttrValue::Text(text) => findings.extend(config_findings(text.as_bytes(), name)),
            AttrValue::Other(kind) => findings.push(Finding::invalid(format!(
                "HDF5 attribute {name} is {kind}, not a string: what Keras reads from it \
                 could not be decided"
            ))),
        }
    }
    let names: Vec<&str> = attributes.iter().map(|(n, _)| n.as_str()).collect();
    let mut details = json!({ "root_attributes": names });
    if at > 0 {
        details["superblock"] = json!(at);
    }
    (findings, details)
}

/// Findings for a parsed configuration.
pub fn value_findings(config: &Value) -> Vec<Finding> {
    let mut findings = Vec::new();
    let mut stack = vec![config];
    while let Some(v) = stack.pop() {
        match v {
            Value::Object(map) => {
                if let Some(Value::String(c)) = map.get("class_name") {
                    if CODE_CLASSES.contains(&c.as_str()) {
                        findings.push(Finding::dangerous(format!(
                            "Keras {c} layer: its Python code runs on load"
                        )));
                    }
                    if let Some(Value::String(m)) = map.get("module")
                        && !keras_module(m)
                    {
                        findings.push(Finding::dangerous(format!(
                            "Keras object {c} from module {m:?}: loading imports that module \
                             (a custom object)"
                        )));
                    } else if let Some(Value::String(r)) = map.get("registered_name")
                        && r.contains('>')
                    {
                        findings.push(Finding::dangerous(format!(
                            "Keras custom object {r}: loading runs code registered outside \
                             the model"
                        )));
                    }
                }
                stack.extend(map.values());
            }
            Value::Array(items) => stack.extend(items),
            _ => {}
        }
    }
    findings
}

#[cfg(test)]
mod tests {
    use super::*;

    fn messages(json: &str) -> Vec<String> {
        config_findings(json.as_bytes(), "config.json")
            .into_iter()
            .map(|f| f.message)
            .collect()
    }

    #[test]
    fn lambdas_and_custom_objects() {
        let plain = r#"{"module": "keras", "class_name": "Sequential", "config": {"layers": [
            {"module": "keras.layers", "class_name": "Dense", "registered_name": null,
             "config": {"kernel_initializer": {"module": "keras.initializers",
             "class_name": "GlorotUniform", "config": {}}}}]}}"#;
        assert!(messages(plain).is_empty());
        let legacy =
            r#"{"class_name": "Sequential", "config": {"layers": [{"class_name": "Dense"}]}}"#;
        assert!(messages(legacy).is_empty());
        let evil = r#"{"class_name": "Functional", "config": {"layers": [
            {"class_name": "Lambda", "config": {"function": {"class_name": "__lambda__"}}},
            {"module": "os", "class_name": "function", "config": "system"},
            {"module": "keras.layers", "class_name": "X", "registered_name": "Pkg>X"}]}}"#;
        let m = messages(evil);
        assert_eq!(m.len(), 4, "{m:?}");
        assert!(m.iter().any(|f| f.contains("module \"os\"")));
        assert!(m.iter().any(|f| f.contains("Pkg>X")));
        assert_eq!(messages("{")[0], "config.json is not JSON");
    }
}
