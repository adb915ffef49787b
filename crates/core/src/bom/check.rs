//! Checking any CycloneDX 1.6 BOM: the official JSON schema, then reference
//! integrity (every `ref` resolves, `bom-ref`s unique, model cards only on
//! models).

use super::refs::{self, RefLog};
use super::schema::{location, top_member, validator};
use super::stream::{self, Caps, Parsed, StreamedArray};
use crate::Error;
use crate::fetch::{self, InputError, InputKind};
use serde_json::{Map, Value};
use std::io::Read;
use std::path::Path;

pub use super::stream::{BomReadError, MAX_BOM_ITEM, MAX_BOM_REFS, MAX_BOM_REST};

/// Most schema problems listed.
const MAX_SCHEMA_PROBLEMS: usize = 200;

/// Parses BOM JSON strictly: a BOM that repeats a key in any object is
/// refused (see [`crate::json`]), so that every reader sees one content.
pub fn parse_bom(bytes: &[u8]) -> Result<Value, crate::json::StrictJsonError> {
    crate::json::from_slice(bytes)
}

/// Every problem found in `bom`, each as `location: message`. Empty means
/// the BOM is valid CycloneDX 1.6 with consistent references. For a BOM
/// held in memory; [`check_bom_reader`] reads one of any size.
pub fn check_bom(bom: &Value) -> Vec<String> {
    let mut problems = spec_version(bom.get("specVersion"));
    match validator() {
        Ok(v) => {
            for e in v.iter_errors(bom).take(MAX_SCHEMA_PROBLEMS) {
                problems.push(format!("{}: {e}", location(&e.instance_path.to_string())));
            }
        }
        Err(e) => problems.push(format!("the CycloneDX schema could not be loaded: {e}")),
    }
    let mut log = RefLog::new("");
    log.walk(bom, None, "");
    refs::problems(&[log], &mut problems);
    problems
}

/// [`check_bom`] of the strict JSON read from `reader`, without building
/// the BOM's tree: the items of its top-level arrays (`components`,
/// `dependencies`, ...) are checked one at a time and kept only as compact
/// facts, so memory grows with the number of bom-refs, not with the BOM.
/// The same problems, in the same order, as [`check_bom`] of the parsed
/// BOM, except that a `uniqueItems` failure of such an array names the two
/// equal items instead of printing the whole array. An item larger than
/// [`MAX_BOM_ITEM`], or more than [`MAX_BOM_REST`] bytes outside those
/// arrays, is refused. `reader` need not be buffered.
pub fn check_bom_reader(reader: impl Read) -> Result<Vec<String>, BomReadError> {
    check_with_caps(reader, Caps::BOM)
}

fn check_with_caps(reader: impl Read, caps: Caps) -> Result<Vec<String>, BomReadError> {
    Ok(match stream::read(reader, caps)? {
        Parsed::Other(bom) => check_bom(&bom),
        Parsed::Object { rest, arrays } => check_parts(rest, arrays),
    })
}

/// [`check_bom_reader`] of the BOM in the file `source`: a regular file of
/// any size (read as a stream); a pipe of at most
/// [`MAX_BUNDLE_SIZE`](crate::bundle::MAX_BUNDLE_SIZE) bytes. A URL is
/// refused: this crate makes no request (fetch the bytes and call
/// [`check_bom_reader`]).
pub fn check_bom_source(source: &Path) -> crate::Result<Vec<String>> {
    let refused = |e: BomReadError| match e {
        BomReadError::Read(e) => Error::Input(InputError::from_io(source, e)),
        e => Error::Bom(format!("{}: {e}", source.display())),
    };
    let pipe_cap = crate::bundle::MAX_BUNDLE_SIZE;
    if source.to_str().is_some_and(fetch::is_url) {
        return Err(Error::Usage(format!(
            "{}: a URL, not a file: fetch it and check the bytes",
            source.display()
        )));
    }
    // A regular file may be as large as it is; should the path turn into
    // something else before it is opened, the cap is still a real file's size.
    let cap = match std::fs::metadata(source) {
        Ok(meta) if meta.is_file() => meta.len().max(pipe_cap),
        _ => pipe_cap,
    };
    let input = fetch::open_file(source, InputKind::Bom(cap))?;
    check_bom_reader(input).map_err(refused)
}

fn spec_version(version: Option<&Value>) -> Vec<String> {
    if version.and_then(Value::as_str) == Some("1.6") {
        return Vec::new();
    }
    vec![format!(
        "/specVersion: this check knows CycloneDX 1.6, the BOM says {}",
        version
            .map(|v| v.to_string())
            .unwrap_or_else(|| "nothing".into())
    )]
}

/// The problems of a BOM read as a stream: `rest` with each streamed array
/// empty, and the arrays' facts.
fn check_parts(rest: Map<String, Value>, mut arrays: Vec<StreamedArray>) -> Vec<String> {
    let mut problems = spec_version(rest.get("specVersion"));
    let rest = Value::Object(rest);
    // The whole validator checks members in key order, each top-level
    // array's items before its `uniqueItems`, and errors about the whole
    // object come after its members'.
    arrays.sort_by(|a, b| a.key.cmp(&b.key));
    let mut pending = arrays.iter().peekable();
    let mut schema = Vec::new();
    let flush = |schema: &mut Vec<String>, array: &StreamedArray| {
        schema.extend(array.problems.iter().cloned());
        if let Some(pair) = array.repeated {
            schema.push(stream::repeated_problem(
                &format!("/{}", array.key),
                array.len,
                pair,
            ));
        }
    };
    match validator() {
        Ok(v) => {
            for e in v.iter_errors(&rest).take(MAX_SCHEMA_PROBLEMS) {
                let path = e.instance_path.to_string();
                let member = top_member(&path);
                while let Some(array) =
                    pending.next_if(|a| member.as_deref().is_none_or(|m| a.key.as_str() < m))
                {
                    flush(&mut schema, array);
                }
                schema.push(format!("{}: {e}", location(&path)));
            }
            for array in pending {
                flush(&mut schema, array);
            }
        }
        Err(e) => schema.push(format!("the CycloneDX schema could not be loaded: {e}")),
    }
    schema.truncate(MAX_SCHEMA_PROBLEMS);
    problems.extend(schema);
    let Value::Object(rest) = rest else {
        return problems;
    };
    let logs = refs::walk_root(&rest, arrays.into_iter().map(|a| (a.key, a.refs)).collect());
    refs::problems(&logs, &mut problems);
    problems
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

#[cfg(test)]
mod stream_tests;
