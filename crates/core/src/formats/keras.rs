//! Keras `.keras` configurations: `Lambda` layers hold Python code that
//! runs when the model is loaded.

use super::Finding;
use serde_json::Value;

/// Findings for a `config.json` of a `.keras` archive.
pub fn config_findings(data: &[u8]) -> Vec<Finding> {
    let Ok(config) = serde_json::from_slice::<Value>(data) else {
        return vec![Finding::invalid("config.json is not JSON".into())];
    };
    let mut findings = Vec::new();
    let mut stack = vec![&config];
    while let Some(v) = stack.pop() {
        match v {
            Value::Object(map) => {
                if let Some(Value::String(c)) = map.get("class_name")
                    && (c == "Lambda" || c == "TFOpLambda")
                {
                    findings.push(Finding::dangerous(format!(
                        "Keras {c} layer: its Python code runs on load"
                    )));
                }
                stack.extend(map.values());
            }
            Value::Array(items) => stack.extend(items),
            _ => {}
        }
    }
    findings
}
