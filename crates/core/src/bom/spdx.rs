//! SPDX license ids, from the CycloneDX distribution of the SPDX list, and
//! the official CycloneDX 1.6 schema. Both are read at build time from the
//! vendored specification files (`data/cyclonedx/`) and compiled in, so
//! `bom --check` works offline.

use std::collections::HashMap;
use std::sync::OnceLock;

/// The CycloneDX 1.6 JSON schema.
pub const BOM_SCHEMA_1_6: &str = include_str!("../../data/cyclonedx/bom-1.6.schema.json");
/// The SPDX license-id schema the BOM schema refers to.
pub const SPDX_SCHEMA: &str = include_str!("../../data/cyclonedx/spdx.schema.json");
/// The JSF schema the BOM schema refers to.
pub const JSF_SCHEMA: &str = include_str!("../../data/cyclonedx/jsf-0.82.schema.json");

fn ids() -> &'static HashMap<String, String> {
    static IDS: OnceLock<HashMap<String, String>> = OnceLock::new();
    IDS.get_or_init(|| {
        let schema: serde_json::Value = serde_json::from_str(SPDX_SCHEMA).unwrap_or_default();
        schema["enum"]
            .as_array()
            .into_iter()
            .flatten()
            .filter_map(|v| v.as_str())
            .map(|id| (id.to_ascii_lowercase(), id.to_string()))
            .collect()
    })
}

/// The SPDX id matching `name` case-insensitively (`apache-2.0` gives
/// `Apache-2.0`), or `None` when it is not an SPDX id.
pub fn canonical_license_id(name: &str) -> Option<&'static str> {
    ids()
        .get(&name.trim().to_ascii_lowercase())
        .map(String::as_str)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn hugging_face_ids_map_to_spdx() {
        assert_eq!(canonical_license_id("apache-2.0"), Some("Apache-2.0"));
        assert_eq!(canonical_license_id("MIT"), Some("MIT"));
        assert_eq!(canonical_license_id("llama3.1"), None);
        assert_eq!(canonical_license_id("other"), None);
    }
}
