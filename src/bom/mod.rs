//! CycloneDX 1.6 ML-BOMs: the model with its files (hashed as in its OMS
//! signature), its model card, and the datasets that trained it; signed as a
//! DSSE in-toto attestation over the model's OMS subject; checked against the
//! official schema.

mod build;
pub(crate) mod card;
mod check;
mod refs;
mod schema;
mod spdx;
mod stream;
pub mod types;
mod unique;

pub use build::{
    BomOptions, DATASET_REF, HashedTree, MODEL_FILE_REF, bom_timestamp, build_bom, hash_tree,
    tree_name,
};
pub use card::CardFacts;
pub use check::{
    BomReadError, MAX_BOM_ITEM, MAX_BOM_REST, check_bom, check_bom_reader, check_bom_source,
    parse_bom,
};
pub use spdx::canonical_license_id;
pub use types::Bom;

use crate::bundle::{Bundle, STATEMENT_TYPE, Statement, Subject};
use crate::sign::{SigningIdentity, sign_statement};
use crate::{Error, Result};
use std::collections::BTreeMap;

/// The in-toto predicate type of a CycloneDX attestation.
pub const BOM_PREDICATE_TYPE: &str = "https://cyclonedx.org/bom";

/// The attestation statement: the BOM as predicate, about the model named
/// `name` with OMS root digest `root_digest`.
pub fn bom_statement(bom: &Bom, name: &str, root_digest: &str) -> Result<Statement> {
    Ok(Statement {
        statement_type: STATEMENT_TYPE.into(),
        subject: vec![Subject {
            name: name.into(),
            digest: BTreeMap::from([("sha256".to_string(), root_digest.to_string())]),
        }],
        predicate_type: BOM_PREDICATE_TYPE.into(),
        predicate: serde_json::value::to_raw_value(bom)
            .map_err(|e| Error::Bom(format!("cannot encode the BOM: {e}")))?,
    })
}

/// Signs the BOM attestation with the same identity as a model signature.
pub fn sign_bom(
    bom: &Bom,
    name: &str,
    root_digest: &str,
    identity: &SigningIdentity<'_>,
) -> Result<Bundle> {
    let statement = bom_statement(bom, name, root_digest)?;
    sign_statement(&statement, identity)
}

/// The BOM as pretty JSON with a final newline (what `bom --out` writes).
pub fn to_json(bom: &Bom) -> Vec<u8> {
    let mut out = serde_json::to_vec_pretty(bom).unwrap_or_default();
    out.push(b'\n');
    out
}
