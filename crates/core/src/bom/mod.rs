//! CycloneDX 1.6 ML-BOMs: the model with its files (hashed as in its OMS
//! signature), its model card, and the datasets that trained it; signed as a
//! DSSE in-toto attestation over the model's OMS subject; checked against the
//! official schema.

mod build;
pub(crate) mod card;
mod check;
mod files;
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
    BomReadError, MAX_BOM_ITEM, MAX_BOM_REFS, MAX_BOM_REST, check_bom, check_bom_reader,
    check_bom_source, parse_bom,
};
pub use files::FileComponents;
pub use spdx::canonical_license_id;
pub use types::Bom;

use crate::bundle::{STATEMENT_TYPE, Subject};
use crate::sign::{SignedBundle, SigningIdentity, sign_serialized};
use crate::{Error, Result};
use serde::Serialize;
use std::collections::BTreeMap;
use std::io::{self, Write};

/// The in-toto predicate type of a CycloneDX attestation.
pub const BOM_PREDICATE_TYPE: &str = "https://cyclonedx.org/bom";

/// The attestation statement serialised straight from the BOM: the bytes
/// about the model named `name` with OMS root digest `root_digest`, the
/// BOM as predicate, written without a copy of the BOM's JSON.
#[derive(Serialize)]
struct BomStatement<'a> {
    #[serde(rename = "_type")]
    statement_type: &'static str,
    subject: [Subject; 1],
    #[serde(rename = "predicateType")]
    predicate_type: &'static str,
    predicate: &'a Bom,
}

fn statement_of<'a>(bom: &'a Bom, name: &str, root_digest: &str) -> BomStatement<'a> {
    BomStatement {
        statement_type: STATEMENT_TYPE,
        subject: [Subject {
            name: name.into(),
            digest: BTreeMap::from([("sha256".to_string(), root_digest.to_string())]),
        }],
        predicate_type: BOM_PREDICATE_TYPE,
        predicate: bom,
    }
}

/// The attestation statement's JSON (what a keyless signer is given).
pub fn bom_statement_json(bom: &Bom, name: &str, root_digest: &str) -> Result<Vec<u8>> {
    serde_json::to_vec(&statement_of(bom, name, root_digest))
        .map_err(|e| Error::Bom(format!("cannot encode the BOM: {e}")))
}

/// Signs the BOM attestation with the same identity as a model signature.
/// The statement is written once, into the signed buffer; write the bundle
/// with [`SignedBundle::write_json`] to stream it out.
pub fn sign_bom(
    bom: &Bom,
    name: &str,
    root_digest: &str,
    identity: &SigningIdentity<'_>,
) -> Result<SignedBundle> {
    sign_serialized(&statement_of(bom, name, root_digest), identity)
}

/// Writes the BOM as pretty JSON with a final newline (what `bom --out`
/// writes) as it is serialised: a BOM of a million files is never held
/// as text.
pub fn write_json(bom: &Bom, w: &mut dyn Write) -> io::Result<()> {
    serde_json::to_writer_pretty(&mut *w, bom)?;
    w.write_all(b"\n")
}

/// The BOM as pretty JSON with a final newline, in memory.
pub fn to_json(bom: &Bom) -> Vec<u8> {
    let mut out = Vec::new();
    // Writing to memory cannot fail, nor can serialising these types.
    let _ = write_json(bom, &mut out);
    out
}
