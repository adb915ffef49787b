//! Known-answer tests for signed notes and checkpoints.
//!
//! Vectors (data values only; the checks are written here):
//! - sigsum/sigsum-go, `pkg/checkpoint/checkpoint_test.go` (BSD-2-Clause,
//!   Copyright The Sigsum Project Authors): a checkpoint signed with the
//!   Ed25519 seed `17, 0, 0, ...`, and its signature-line table.
//! - the same file's copy of a checkpoint published by the Go checksum
//!   database (sum.golang.org/latest, 2024-09-23), with that database's note
//!   verifier key as published in the Go distribution
//!   (`src/cmd/go/internal/modfetch/key.go`, BSD-3-Clause, Copyright The Go
//!   Authors).
//!
//! The C2SP signed-note and Go `sumdb/note` examples name people, so they
//! are not used; the rules they state are tested with notes made here.

use super::{Checkpoint, open_checkpoint, sign_checkpoint, verifier_key};
use base64::Engine;
use base64::engine::general_purpose::STANDARD;
use ed25519_dalek::{SigningKey, VerifyingKey};
use sha2::{Digest, Sha256};

const SIGSUM_ORIGIN: &str =
    "sigsum.org/v1/tree/e796172b92befd62d9dc67e41c2f5bc9d3100a3023b20b1ca40288dd1c679e69";
const SIGSUM_NOTE: &str = "sigsum.org/v1/tree/e796172b92befd62d9dc67e41c2f5bc9d3100a3023b20b1ca40288dd1c679e69
10
HA5HAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAA=

\u{2014} sigsum.org/v1/tree/e796172b92befd62d9dc67e41c2f5bc9d3100a3023b20b1ca40288dd1c679e69 gJ2ho0n8F8olcerUF1FFdv235A/5as/coWrpLrtE7ovMeP5whgwouYExowG/lTznxu6OUGjjt5yJQ6bXtTcf718MqAQ=
";
/// A well-formed signature line of another key (`DEADBEEF` key ID).
const OTHER_KEY_LINE: &str = "\u{2014} example.org/log2 DEADBEEFAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAA=";
/// Base64 that does not decode (the table's `badSig`).
const BAD_BASE64_LINE: &str = "\u{2014} example.org/log DEADB";
/// Three bytes: shorter than a key ID and one signature byte (`alienSig`).
const SHORT_LINE: &str = "\u{2014} example.org/log DEAD";

const SUMDB_VKEY: &str = "sum.golang.org+033de0ae+Ac4zctda0e5eza+HJyk9SxEdh+s3Ux18htTTAD8OuAn8";
const SUMDB_NOTE: &str = "go.sum database tree
30055305
mXfgRcJ0bG0j3CPdKwgGWtUzBUbX67saZGRmFuJGGsM=

\u{2014} sum.golang.org Az3grpgEild5qw7+5dtV13Kf1C2Xurm8q4fhdxvcsDHnqNTaxL2AFjBY+2TyGKevucFcAAlWFJJYle3EJlDCrQ+y3A8=
";

fn sigsum_key() -> SigningKey {
    let mut seed = [0u8; 32];
    seed[0] = 17;
    SigningKey::from_bytes(&seed)
}

fn sigsum_checkpoint() -> Checkpoint {
    let mut root = [0u8; 32];
    root[..3].copy_from_slice(&[28, 14, 71]);
    Checkpoint {
        origin: SIGSUM_ORIGIN.into(),
        size: 10,
        root,
    }
}

fn sumdb_key() -> VerifyingKey {
    // name+id+key: the key's base64 may itself hold '+'.
    let raw = STANDARD
        .decode(SUMDB_VKEY.splitn(3, '+').nth(2).unwrap())
        .unwrap();
    assert_eq!(raw[0], 0x01, "Ed25519 key type");
    VerifyingKey::from_bytes(&raw[1..].try_into().unwrap()).unwrap()
}

#[test]
fn signing_reproduces_the_sigsum_checkpoint_byte_for_byte() {
    let key = sigsum_key();
    let public = key.verifying_key();
    assert_eq!(
        SIGSUM_ORIGIN,
        format!(
            "sigsum.org/v1/tree/{}",
            hex::encode(Sha256::digest(public.as_bytes()))
        )
    );
    assert_eq!(
        sign_checkpoint(&sigsum_checkpoint(), SIGSUM_ORIGIN, &key).unwrap(),
        SIGSUM_NOTE
    );
    assert_eq!(
        open_checkpoint(SIGSUM_NOTE, SIGSUM_ORIGIN, &public).unwrap(),
        sigsum_checkpoint()
    );
}

#[test]
fn the_go_checksum_database_checkpoint_verifies() {
    let key = sumdb_key();
    // Key encoding and key ID: name+hex(ID)+base64(type || key).
    assert_eq!(verifier_key("sum.golang.org", &key), SUMDB_VKEY);
    // The origin line differs from the key name: that is allowed.
    let cp = open_checkpoint(SUMDB_NOTE, "sum.golang.org", &key).unwrap();
    assert_eq!(cp.origin, "go.sum database tree");
    assert_eq!(cp.size, 30055305);
    assert_eq!(
        STANDARD.encode(cp.root),
        "mXfgRcJ0bG0j3CPdKwgGWtUzBUbX67saZGRmFuJGGsM="
    );
    for (from, to) in [
        ("30055305", "30055306"),
        ("mXfg", "mXfh"),
        ("go.sum database tree", "go.sum database tref"),
    ] {
        let edited = SUMDB_NOTE.replacen(from, to, 1);
        assert!(
            open_checkpoint(&edited, "sum.golang.org", &key).is_err(),
            "{from} -> {to}"
        );
    }
    // Another name or another key: no signature by the expected key.
    assert!(open_checkpoint(SUMDB_NOTE, "sum.golang.org2", &key).is_err());
    let other = sigsum_key().verifying_key();
    assert!(open_checkpoint(SUMDB_NOTE, "sum.golang.org", &other).is_err());
}

/// The signature-line table of the sigsum vectors: lines of other keys are
/// ignored, a line that is not base64 rejects the note. The short line
/// (three bytes) is rejected here, as Go's `sumdb/note` rejects it and the
/// C2SP spec requires 4+n bytes; sigsum-go alone ignores it.
#[test]
fn signature_lines_of_other_keys_are_ignored_and_malformed_ones_refused() {
    let (body, valid) = SIGSUM_NOTE.rsplit_once("\n\n").unwrap();
    let valid = valid.trim_end_matches('\n');
    let public = sigsum_key().verifying_key();
    let note = |lines: &[&str]| format!("{body}\n\n{}\n", lines.join("\n"));
    for (lines, ok) in [
        (vec![valid], true),
        (vec![OTHER_KEY_LINE, valid], true),
        (vec![valid, OTHER_KEY_LINE], true),
        (vec![OTHER_KEY_LINE, valid, BAD_BASE64_LINE], false),
        (vec![valid, SHORT_LINE], false),
        (vec![OTHER_KEY_LINE], false),
    ] {
        let result = open_checkpoint(&note(&lines), SIGSUM_ORIGIN, &public);
        assert_eq!(result.is_ok(), ok, "{lines:?}: {result:?}");
    }
}

/// A line with the right name and key ID whose signature fails rejects the
/// note even when another line verifies.
#[test]
fn a_failing_signature_by_the_known_key_rejects_the_note() {
    let (body, valid) = SIGSUM_NOTE.rsplit_once("\n\n").unwrap();
    let valid = valid.trim_end_matches('\n');
    let (prefix, blob) = valid.rsplit_once(' ').unwrap();
    let mut raw = STANDARD.decode(blob).unwrap();
    raw[10] ^= 1;
    let broken = format!("{prefix} {}", STANDARD.encode(raw));
    let note = format!("{body}\n\n{valid}\n{broken}\n");
    assert!(open_checkpoint(&note, SIGSUM_ORIGIN, &sigsum_key().verifying_key()).is_err());
}

/// C2SP signed-note: the text ends at the *last* blank line. A signature
/// placed after an earlier blank line signs a different text.
#[test]
fn the_note_text_ends_at_the_last_blank_line() {
    let key = sigsum_key();
    let public = key.verifying_key();
    let (body, valid) = SIGSUM_NOTE.rsplit_once("\n\n").unwrap();
    let valid = valid.trim_end_matches('\n');
    // Signature, blank line, another signature line: the text now includes
    // the first signature line, which the signature does not cover.
    let spliced = format!("{body}\n\n{valid}\n\n{OTHER_KEY_LINE}\n");
    assert!(open_checkpoint(&spliced, SIGSUM_ORIGIN, &public).is_err());
}

fn signed(body: &str) -> String {
    use ed25519_dalek::Signer;
    let key = sigsum_key();
    let mut blob = super::key_hash(SIGSUM_ORIGIN, &key.verifying_key()).to_vec();
    blob.extend_from_slice(&key.sign(body.as_bytes()).to_bytes());
    format!(
        "{body}\n\u{2014} {SIGSUM_ORIGIN} {}\n",
        STANDARD.encode(blob)
    )
}

/// Checkpoint text rules (C2SP tlog-checkpoint) on correctly signed notes:
/// only a well-formed body opens.
#[test]
fn checkpoint_bodies_follow_the_tlog_checkpoint_rules() {
    let public = sigsum_key().verifying_key();
    let root = "HA5HAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAA=";
    let ok = |body: &str| open_checkpoint(&signed(body), SIGSUM_ORIGIN, &public);
    assert_eq!(ok(&format!("o\n10\n{root}\n")).unwrap().size, 10);
    assert_eq!(ok(&format!("o\n0\n{root}\n")).unwrap().size, 0);
    // Extension lines are allowed (non-empty).
    assert!(ok(&format!("o\n10\n{root}\next\n")).is_ok());
    for body in [
        format!("o\n010\n{root}\n"),
        format!("o\n+10\n{root}\n"),
        format!("o\n 10\n{root}\n"),
        format!("o\n18446744073709551616\n{root}\n"),
        format!("\n10\n{root}\n"),
        format!("o\n10\n{root}"),
        "o\n10\nHA5H\n".to_string(),
        "o\n10\n".to_string(),
        format!("o\n10\n{root}\n\u{7}\n"),
        format!("o\u{1b}[2J\n10\n{root}\n"),
        format!("o\r\n10\n{root}\n"),
    ] {
        assert!(ok(&body).is_err(), "{body:?} opened");
    }
}

#[test]
fn malformed_notes_are_refused() {
    let public = sigsum_key().verifying_key();
    for note in [
        String::new(),
        "garbage".to_string(),
        SIGSUM_NOTE.trim_end_matches('\n').to_string(),
        SIGSUM_NOTE.replace('\u{2014}', "-"),
        SIGSUM_NOTE.replace("\u{2014} ", "\u{2014}  "),
        format!("{SIGSUM_NOTE}\n"),
        SIGSUM_NOTE.replace("\n\n", "\n"),
    ] {
        assert!(
            open_checkpoint(&note, SIGSUM_ORIGIN, &public).is_err(),
            "{note:?} opened"
        );
    }
}
