//! What a model directory says about itself: `config.json` (Hugging Face
//! transformers) and the YAML front matter of a model card `README.md`.

use super::types::PerformanceMetric;
use serde_json::Value;
use std::io::Read;
use std::path::Path;

/// Largest `config.json` read.
const MAX_CONFIG: u64 = 16 << 20;
/// How much of `README.md` is read looking for front matter.
const MAX_README: u64 = 1 << 20;

/// Facts for the model card.
#[derive(Debug, Clone, Default, PartialEq)]
pub struct CardFacts {
    /// `config.json` `architectures`.
    pub architectures: Vec<String>,
    /// `config.json` `model_type`.
    pub model_type: Option<String>,
    /// Front matter `license`.
    pub licenses: Vec<String>,
    /// Front matter `pipeline_tag`.
    pub task: Option<String>,
    /// Front matter `datasets`.
    pub datasets: Vec<String>,
    /// Front matter `base_model`.
    pub base_models: Vec<String>,
    /// Front matter `language`.
    pub languages: Vec<String>,
    /// Front matter `model-index` results, or bare `metrics` names.
    pub metrics: Vec<PerformanceMetric>,
}

/// Why a model directory's `config.json` or model card cannot be read.
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum CardError {
    /// The file exists but cannot be read.
    #[error(transparent)]
    Read(std::io::Error),
    /// `config.json` is larger than 16 MiB.
    #[error("config.json is larger than 16 MiB")]
    ConfigTooLarge,
    /// `config.json` is not JSON.
    #[error("config.json is not valid JSON: {0}")]
    ConfigJson(#[source] serde_json::Error),
    /// `config.json` is JSON but not an object.
    #[error("config.json is not a JSON object")]
    ConfigNotObject,
    /// The front matter opens with `---` and never closes.
    #[error("README.md front matter has no closing `---` line")]
    FrontMatterUnclosed,
    /// The front matter is not YAML (the YAML reader's words).
    #[error("README.md front matter is not valid YAML: {0}")]
    FrontMatterYaml(String),
    /// The front matter is YAML but not a mapping.
    #[error("README.md front matter is not a YAML mapping")]
    FrontMatterNotMapping,
}

fn read_capped(path: &Path, max: u64) -> Result<Option<Vec<u8>>, CardError> {
    let file = match std::fs::File::open(path) {
        Ok(f) => f,
        Err(e) if e.kind() == std::io::ErrorKind::NotFound => return Ok(None),
        Err(e) => return Err(CardError::Read(e)),
    };
    let mut bytes = Vec::new();
    file.take(max)
        .read_to_end(&mut bytes)
        .map_err(CardError::Read)?;
    Ok(Some(bytes))
}

/// A string or a list of strings, as model cards write them.
fn strings(value: Option<&Value>) -> Vec<String> {
    match value {
        Some(Value::String(s)) => vec![s.clone()],
        Some(Value::Array(items)) => items
            .iter()
            .filter_map(|v| match v {
                Value::String(s) => Some(s.clone()),
                Value::Number(n) => Some(n.to_string()),
                _ => None,
            })
            .collect(),
        _ => Vec::new(),
    }
}

fn text(value: &Value) -> Option<String> {
    match value {
        Value::String(s) => Some(s.clone()),
        Value::Number(n) => Some(n.to_string()),
        Value::Bool(b) => Some(b.to_string()),
        _ => None,
    }
}

/// Reads `config.json` and the README front matter of the model directory.
/// Missing files are fine; malformed ones are errors naming the file.
pub fn read_card(model: &Path) -> Result<CardFacts, CardError> {
    let mut facts = CardFacts::default();
    if !model.is_dir() {
        return Ok(facts);
    }
    if let Some(bytes) = read_capped(&model.join("config.json"), MAX_CONFIG + 1)? {
        if bytes.len() as u64 > MAX_CONFIG {
            return Err(CardError::ConfigTooLarge);
        }
        let config: Value = serde_json::from_slice(&bytes).map_err(CardError::ConfigJson)?;
        if !config.is_object() {
            return Err(CardError::ConfigNotObject);
        }
        facts.architectures = strings(config.get("architectures"));
        facts.model_type = config.get("model_type").and_then(text);
    }
    if let Some(bytes) = read_capped(&model.join("README.md"), MAX_README)?
        && let Some(front) = front_matter(&bytes)?
    {
        facts.licenses = strings(front.get("license"));
        facts.task = front.get("pipeline_tag").and_then(text);
        facts.datasets = strings(front.get("datasets"));
        facts.base_models = strings(front.get("base_model"));
        facts.languages = strings(front.get("language"));
        facts.metrics = metrics(&front);
    }
    Ok(facts)
}

/// The YAML front matter between the first two `---` lines, as JSON.
/// `None` when the file has none.
pub fn front_matter(bytes: &[u8]) -> Result<Option<Value>, CardError> {
    let text = String::from_utf8_lossy(bytes);
    let text = text.trim_start_matches('\u{feff}');
    let Some(rest) = text
        .strip_prefix("---\n")
        .or_else(|| text.strip_prefix("---\r\n"))
    else {
        return Ok(None);
    };
    // Byte offsets of whole lines (CRLF included), so the slice below always
    // falls on a line start.
    let mut offset = 0;
    let mut end = None;
    for line in rest.split_inclusive('\n') {
        if line.trim_end() == "---" {
            end = Some(offset);
            break;
        }
        offset += line.len();
    }
    let end = end.ok_or(CardError::FrontMatterUnclosed)?;
    let yaml = &rest[..end];
    if yaml.trim().is_empty() {
        return Ok(Some(Value::Object(Default::default())));
    }
    let value: Value =
        serde_saphyr::from_str(yaml).map_err(|e| CardError::FrontMatterYaml(e.to_string()))?;
    match value {
        Value::Object(_) => Ok(Some(value)),
        Value::Null => Ok(Some(Value::Object(Default::default()))),
        _ => Err(CardError::FrontMatterNotMapping),
    }
}

fn metrics(front: &Value) -> Vec<PerformanceMetric> {
    let mut out = Vec::new();
    for model in front
        .get("model-index")
        .and_then(Value::as_array)
        .into_iter()
        .flatten()
    {
        for result in model
            .get("results")
            .and_then(Value::as_array)
            .into_iter()
            .flatten()
        {
            let slice = result.pointer("/dataset/name").and_then(text);
            for m in result
                .get("metrics")
                .and_then(Value::as_array)
                .into_iter()
                .flatten()
            {
                if let Some(kind) = m.get("type").and_then(text) {
                    out.push(PerformanceMetric {
                        kind,
                        value: m.get("value").and_then(text),
                        slice: slice.clone(),
                    });
                }
            }
        }
    }
    if out.is_empty() {
        out = strings(front.get("metrics"))
            .into_iter()
            .map(|kind| PerformanceMetric {
                kind,
                value: None,
                slice: None,
            })
            .collect();
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn reads_the_fixture_model_card() {
        let model =
            Path::new(concat!(env!("CARGO_MANIFEST_DIR"), "/../..")).join("fixtures/tiny-model");
        let facts = read_card(&model).unwrap();
        assert_eq!(facts.architectures, ["TinyForCausalLM"]);
        assert_eq!(facts.model_type.as_deref(), Some("tiny"));
        assert_eq!(facts.licenses, ["apache-2.0"]);
        assert_eq!(facts.task.as_deref(), Some("text-generation"));
        assert_eq!(facts.languages, ["en"]);
        assert_eq!(facts.datasets, ["modelseal/tiny-dataset"]);
    }

    #[test]
    fn model_index_metrics_and_base_models() {
        let readme = b"---\nbase_model: org/base\nmodel-index:\n- name: m\n  results:\n  - dataset: {name: squad}\n    metrics:\n    - {type: f1, value: 88.5}\n---\nbody";
        let front = front_matter(readme).unwrap().unwrap();
        assert_eq!(strings(front.get("base_model")), ["org/base"]);
        let m = metrics(&front);
        assert_eq!(m[0].kind, "f1");
        assert_eq!(m[0].value.as_deref(), Some("88.5"));
        assert_eq!(m[0].slice.as_deref(), Some("squad"));
    }

    #[test]
    fn malformed_front_matter_is_an_error_and_absent_is_none() {
        assert!(front_matter(b"# just a title\n").unwrap().is_none());
        assert!(matches!(
            front_matter(b"---\nlicense: mit\n").unwrap_err(),
            CardError::FrontMatterUnclosed
        ));
        assert!(matches!(
            front_matter(b"---\nlicense: [unclosed\n---\n").unwrap_err(),
            CardError::FrontMatterYaml(_)
        ));
        assert!(matches!(
            front_matter(b"---\n- a list\n---\n").unwrap_err(),
            CardError::FrontMatterNotMapping
        ));
        assert!(front_matter(b"---\n---\n").unwrap().unwrap().is_object());
        // CRLF line ends and multi-byte text (found by fuzzing: offsets
        // must not drift off character boundaries).
        let crlf = "---\r\nlicense: mit\r\nlanguage: [fr, \u{e9}t\u{e9}]\r\n---\r\nbody";
        let v = front_matter(crlf.as_bytes()).unwrap().unwrap();
        assert_eq!(v["license"], "mit");
        let tricky = "---\r\nlice\u{fffd}\r\n---\r\n".as_bytes();
        let _ = front_matter(tricky);
    }

    #[test]
    fn alias_bombs_are_refused_not_expanded() {
        let mut yaml = String::from("---\na: &a [x, x, x, x, x, x, x, x, x, x]\n");
        for (prev, name) in ["a", "b", "c", "d", "e", "f", "g", "h"]
            .windows(2)
            .map(|w| (w[0], w[1]))
        {
            yaml.push_str(&format!("{name}: &{name} [*{prev}, *{prev}, *{prev}, *{prev}, *{prev}, *{prev}, *{prev}, *{prev}, *{prev}, *{prev}]\n"));
        }
        yaml.push_str("---\n");
        let started = std::time::Instant::now();
        let result = front_matter(yaml.as_bytes());
        assert!(result.is_err(), "10^8 nodes must not be built");
        assert!(started.elapsed() < std::time::Duration::from_secs(5));
    }

    #[test]
    fn malformed_config_is_an_error() {
        let dir = tempfile::tempdir().unwrap();
        std::fs::write(dir.path().join("config.json"), "{not json").unwrap();
        assert!(matches!(
            read_card(dir.path()).unwrap_err(),
            CardError::ConfigJson(_)
        ));
        std::fs::write(dir.path().join("config.json"), "[1]").unwrap();
        assert!(matches!(
            read_card(dir.path()).unwrap_err(),
            CardError::ConfigNotObject
        ));
    }
}
