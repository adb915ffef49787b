//! The sniffer as a whole: the same verdict whether the bytes come at once,
//! in pieces of any size, or from the file on disk; archives as their
//! loaders read them.

use super::*;
use std::io::Write;

fn chunked(name: &str, data: &[u8], sizes: &[usize]) -> FileReport {
    let mut s = Sniffer::new(name);
    let mut rest = data;
    let mut i = 0;
    while !rest.is_empty() {
        let n = sizes[i % sizes.len()].clamp(1, rest.len());
        s.update(&rest[..n]);
        rest = &rest[n..];
        i += 1;
    }
    s.finish()
}

/// Whole, chunked in several ways, and from a file: all the same report.
fn judge(data: &[u8]) -> FileReport {
    let whole = inspect_bytes("f", data);
    for sizes in [&[1][..], &[3, 7, 512], &[4096], &[13, 1, 100_000]] {
        assert_eq!(chunked("f", data, sizes), whole, "chunks {sizes:?}");
    }
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("f");
    std::fs::write(&path, data).unwrap();
    assert_eq!(inspect_file(&path, "f").unwrap(), whole);
    whole
}

fn messages(r: &FileReport) -> String {
    r.findings
        .iter()
        .map(|f| format!("{:?}: {}", f.severity, f.message))
        .collect::<Vec<_>>()
        .join("\n")
}

const SYSTEM: &[u8] = b"cos\nsystem\n(S'id'\ntR.";

fn zip_with(
    stream: bool,
    method: ::zip::CompressionMethod,
    large: bool,
    members: &[(&str, &[u8])],
) -> Vec<u8> {
    let options = ::zip::write::SimpleFileOptions::default()
        .compression_method(method)
        .large_file(large);
    if stream {
        let mut z = ::zip::ZipWriter::new_stream(Vec::new());
        for (name, data) in members {
            z.start_file(*name, options).unwrap();
            z.write_all(data).unwrap();
        }
        z.finish().unwrap().into_inner()
    } else {
        let mut z = ::zip::ZipWriter::new(std::io::Cursor::new(Vec::new()));
        for (name, data) in members {
            z.start_file(*name, options).unwrap();
            z.write_all(data).unwrap();
        }
        z.finish().unwrap().into_inner()
    }
}

fn torch_members() -> Vec<(&'static str, Vec<u8>)> {
    vec![
        ("archive/data.pkl", [&[0x80, 2][..], SYSTEM].concat()),
        ("archive/version", b"3\n".to_vec()),
        ("archive/data/0", vec![0x42; 5000]),
    ]
}

#[test]
fn zips_of_every_layout_are_read_and_their_pickles_found() {
    use ::zip::CompressionMethod::{Deflated, Stored};
    let members = torch_members();
    let refs: Vec<(&str, &[u8])> = members.iter().map(|(n, d)| (*n, d.as_slice())).collect();
    for stream in [false, true] {
        for method in [Stored, Deflated] {
            for large in [false, true] {
                let data = zip_with(stream, method, large, &refs);
                let r = judge(&data);
                let what = format!("stream {stream}, {method:?}, zip64 {large}");
                assert_eq!(r.format, Format::PytorchZip, "{what}");
                let m = messages(&r);
                assert!(
                    m.contains("archive/data.pkl: calls os.system"),
                    "{what}: {m}"
                );
                assert!(!m.contains("ambiguous"), "{what}: {m}");
            }
        }
    }
}

/// A zip as PyTorch writes large checkpoints: stored members, sizes left
/// zero in the local header, a zip64 extra field, a 64-bit data descriptor.
fn torch_style_zip(members: &[(&str, &[u8])]) -> Vec<u8> {
    let mut out = Vec::new();
    let mut central = Vec::new();
    for (name, data) in members {
        let offset = out.len() as u32;
        let crc = crc32fast::hash(data);
        out.extend_from_slice(b"PK\x03\x04\x2d\x00\x08\x00\x00\x00\x00\x00\x00\x00");
        out.extend_from_slice(&[0; 12]);
        out.extend_from_slice(&(name.len() as u16).to_le_bytes());
        out.extend_from_slice(&12u16.to_le_bytes());
        out.extend_from_slice(name.as_bytes());
        out.extend_from_slice(&[1, 0, 8, 0, 0, 0, 0, 0, 0, 0, 0, 0]);
        out.extend_from_slice(data);
        out.extend_from_slice(b"PK\x07\x08");
        out.extend_from_slice(&crc.to_le_bytes());
        out.extend_from_slice(&(data.len() as u64).to_le_bytes());
        out.extend_from_slice(&(data.len() as u64).to_le_bytes());
        central.extend_from_slice(b"PK\x01\x02\x2d\x00\x2d\x00\x08\x00\x00\x00\x00\x00\x00\x00");
        central.extend_from_slice(&crc.to_le_bytes());
        central.extend_from_slice(&(data.len() as u32).to_le_bytes());
        central.extend_from_slice(&(data.len() as u32).to_le_bytes());
        central.extend_from_slice(&(name.len() as u16).to_le_bytes());
        central.extend_from_slice(&[0; 12]);
        central.extend_from_slice(&offset.to_le_bytes());
        central.extend_from_slice(name.as_bytes());
    }
    let start = out.len() as u32;
    out.extend_from_slice(&central);
    out.extend_from_slice(b"PK\x05\x06\x00\x00\x00\x00");
    out.extend_from_slice(&(members.len() as u16).to_le_bytes());
    out.extend_from_slice(&(members.len() as u16).to_le_bytes());
    out.extend_from_slice(&(central.len() as u32).to_le_bytes());
    out.extend_from_slice(&start.to_le_bytes());
    out.extend_from_slice(&[0, 0]);
    out
}

#[test]
fn torch_style_stored_members_with_descriptors() {
    let members = torch_members();
    // Tensor data that contains a descriptor signature that does not fit.
    let mut tensor = vec![0x42; 3000];
    tensor[100..104].copy_from_slice(b"PK\x07\x08");
    let mut refs: Vec<(&str, &[u8])> = members.iter().map(|(n, d)| (*n, d.as_slice())).collect();
    refs.push(("archive/data/1", &tensor));
    let data = torch_style_zip(&refs);
    let r = judge(&data);
    assert_eq!(r.format, Format::PytorchZip, "{}", messages(&r));
    let m = messages(&r);
    assert!(m.contains("calls os.system"), "{m}");
    assert!(!m.contains("ambiguous"), "{m}");
    // A descriptor forged inside a member's data ends it early in a
    // forward pass; the directory then disagrees.
    let mut forged = vec![0x42; 200];
    let crc = crc32fast::hash(&forged[..50]);
    forged[50..54].copy_from_slice(b"PK\x07\x08");
    forged[54..58].copy_from_slice(&crc.to_le_bytes());
    forged[58..66].copy_from_slice(&50u64.to_le_bytes());
    forged[66..74].copy_from_slice(&50u64.to_le_bytes());
    let data = torch_style_zip(&[("a.bin", &forged)]);
    assert!(messages(&judge(&data)).contains("ambiguous zip"));
}

#[test]
fn zips_that_disagree_with_themselves_are_ambiguous() {
    let good = zip_with(
        false,
        ::zip::CompressionMethod::Stored,
        false,
        &[("a.npy", b"x"), ("b.txt", b"y")],
    );
    assert!(!messages(&judge(&good)).contains("ambiguous"));
    let mut trailing = good.clone();
    trailing.extend_from_slice(b"more");
    // Another end record in the comment: zipfile reads that one.
    let mut comment = good.clone();
    let n = comment.len();
    comment[n - 2..].copy_from_slice(&22u16.to_le_bytes());
    comment.extend_from_slice(&good[n - 22..]);
    // The directory lists the first member twice (the second entry
    // rewritten to the first one's offset).
    let mut twice = good.clone();
    let cd = memchr::memmem::rfind(&twice, b"PK\x01\x02").unwrap();
    twice[cd + 42..cd + 46].copy_from_slice(&0u32.to_le_bytes());
    for (what, data) in [
        ("trailing", trailing),
        ("comment", comment),
        ("twice", twice),
    ] {
        let m = messages(&judge(&data));
        assert!(m.contains("ambiguous zip"), "{what}: {m}");
    }
    // Cut anywhere: never safe, never a panic.
    for cut in (0..good.len()).step_by(7) {
        let r = judge(&good[..cut]);
        assert!(r.unsafe_to_load() || r.format != Format::Zip, "cut {cut}");
    }
}

#[test]
fn npz_object_members_and_their_pickles() {
    let mut npy = b"\x93NUMPY\x01\x00".to_vec();
    let header = "{'descr': '|O', 'fortran_order': False, 'shape': (1,), }\n";
    npy.extend_from_slice(&(header.len() as u16).to_le_bytes());
    npy.extend_from_slice(header.as_bytes());
    npy.extend_from_slice(&[0x80, 2]);
    npy.extend_from_slice(SYSTEM);
    for method in [
        ::zip::CompressionMethod::Stored,
        ::zip::CompressionMethod::Deflated,
    ] {
        let data = zip_with(false, method, false, &[("arr_0.npy", &npy)]);
        let r = judge(&data);
        assert_eq!(r.format, Format::NumpyZip);
        let m = messages(&r);
        assert!(m.contains("arr_0.npy: object array"), "{m}");
        assert!(m.contains("arr_0.npy: calls os.system"), "{m}");
    }
    let r = judge(&npy);
    assert_eq!(r.format, Format::Numpy);
    assert!(messages(&r).contains("array data: calls os.system"));
}

#[test]
fn legacy_tar_checkpoints() {
    let mut b = ::tar::Builder::new(Vec::new());
    for (name, data) in [
        ("storages", &b"\x80\x02K\x00."[..]),
        ("tensors", b"\x80\x02K\x00."),
        ("pickle", &[&[0x80, 2][..], SYSTEM].concat()),
    ] {
        let mut h = ::tar::Header::new_ustar();
        h.set_size(data.len() as u64);
        h.set_mode(0o644);
        h.set_cksum();
        b.append_data(&mut h, name, data).unwrap();
    }
    let data = b.into_inner().unwrap();
    let r = judge(&data);
    assert_eq!(r.format, Format::PytorchLegacy);
    assert!(
        messages(&r).contains("pickle: calls os.system"),
        "{}",
        messages(&r)
    );
}

#[test]
fn every_format_the_same_chunked_or_whole() {
    let st = {
        let header = br#"{"a":{"dtype":"F32","shape":[2],"data_offsets":[0,8]}}"#;
        let mut b = (header.len() as u64).to_le_bytes().to_vec();
        b.extend_from_slice(header);
        b.extend_from_slice(&[0; 8]);
        b
    };
    let gguf = gguf::tests::gguf(&[gguf::tests::kv_string("general.name", "x")], &[("t", 8)]);
    let cases: Vec<(Vec<u8>, Format)> = vec![
        (st, Format::Safetensors),
        (gguf, Format::Gguf),
        (b"\x89HDF\r\n\x1a\n\0\0\0\0".to_vec(), Format::Hdf5),
        (vec![0x08, 0x08, 0x3a, 0x00, 0x42, 0x00], Format::Onnx),
        (br#"{"a": [1, 2]}"#.to_vec(), Format::Json),
        (b"just some notes\n".to_vec(), Format::Text),
        (vec![0xde, 0xad, 0xbe, 0xef], Format::Unknown),
        (Vec::new(), Format::Text),
        (SYSTEM.to_vec(), Format::Pickle),
        ([&b"Vx\n0"[..], SYSTEM, b"tail"].concat(), Format::Pickle),
    ];
    for (data, format) in cases {
        let r = judge(&data);
        assert_eq!(r.format, format, "{}", messages(&r));
    }
}

#[test]
fn a_hdf5_behind_a_user_block_is_hdf5() {
    let mut data = vec![b' '; 512];
    data.extend_from_slice(b"\x89HDF\r\n\x1a\n\0\0");
    assert_eq!(judge(&data).format, Format::Hdf5);
}

#[test]
fn polyglots_with_code_are_pickles() {
    // GGUF magic swallowed by BINFLOAT, then a payload.
    let mut data = b"GGUF\x03\x00\x00\x00\x00".to_vec();
    data.extend_from_slice(SYSTEM);
    let r = judge(&data);
    assert_eq!(r.format, Format::Pickle);
    assert!(messages(&r).contains("polyglot"));
    // A safetensors length of 0x0280 starts with a protocol-2 header that
    // leads nowhere: still safetensors.
    let mut header = r#"{"a":{"dtype":"F32","shape":[2],"data_offsets":[0,8]}}"#.to_string();
    while header.len() < 0x280 {
        header.push(' ');
    }
    let mut st = (header.len() as u64).to_le_bytes().to_vec();
    st.extend_from_slice(header.as_bytes());
    st.extend_from_slice(&[0; 8]);
    let r = judge(&st);
    assert_eq!(r.format, Format::Safetensors, "{}", messages(&r));
    assert!(!r.unsafe_to_load());
}

#[test]
fn the_hashing_read_judges_what_it_hashes() {
    use crate::digest::{
        HashAlgorithm, IgnoreSet, LinkScope, Method, Sinks, WalkOptions, hash_files,
        hash_files_with_sinks, walk_model,
    };
    let dir = tempfile::tempdir().unwrap();
    std::fs::write(
        dir.path().join("payload.bin"),
        [&b"Vx\n0"[..], SYSTEM].concat(),
    )
    .unwrap();
    std::fs::write(dir.path().join("notes.txt"), b"plain notes\n").unwrap();
    let big: Vec<u8> = (0..600_000u32).map(|i| (i % 251) as u8).collect();
    std::fs::write(dir.path().join("weights.raw"), &big).unwrap();
    let ignore = IgnoreSet::with_defaults();
    let list = || {
        walk_model(
            dir.path(),
            &WalkOptions::new(false, &LinkScope::WithinRoot, &ignore),
        )
        .unwrap()
        .files
    };
    let files = list();
    let paths: Vec<(String, std::path::PathBuf)> = (0..files.len())
        .map(|i| (files.name(i).to_string(), files.path(i)))
        .collect();
    for method in [
        Method::Files,
        Method::Shards {
            shard_size: 100_000,
        },
    ] {
        let (resources, sniffers) = hash_files_with_sinks(
            list(),
            HashAlgorithm::Sha256,
            method,
            &|_: u64| {},
            Some(Sinks {
                make: &|_, name: &str| Some(Sniffer::new(name)),
                finish: &|_, s: Sniffer| s.finish(),
            }),
        )
        .unwrap();
        let plain = hash_files(list(), HashAlgorithm::Sha256, method, &|_: u64| {}).unwrap();
        assert_eq!(resources, plain);
        assert_eq!(sniffers.len(), paths.len());
        for ((name, path), (_, report)) in paths.iter().zip(sniffers) {
            assert_eq!(report, inspect_file(path, name).unwrap(), "{name}");
        }
    }
}

#[test]
fn corrupt_deflate_data_reads_the_same_in_any_pieces() {
    // Found by the sniffer fuzz target: the decompressor's own message for
    // corrupt data depended on where the input was split.
    let text: Vec<u8> = (0..4000u32)
        .map(|i| b"abcdefgh"[(i * i % 7) as usize])
        .collect();
    let good = zip_with(
        true,
        ::zip::CompressionMethod::Deflated,
        false,
        &[("a.txt", &text)],
    );
    for at in [36, 40, 45, 50, 60] {
        let mut bad = good.clone();
        bad[at] ^= 0x55;
        let r = judge(&bad);
        assert!(r.unsafe_to_load(), "{at}: {}", messages(&r));
    }
    let artifact = include_bytes!("tests/deflate-split.bin");
    let (data, _) = artifact.split_at(artifact.len() - 4);
    assert!(judge(data).unsafe_to_load());
}

#[test]
fn archives_and_compressed_streams_inside_a_zip_are_undecided_not_fine() {
    // A pickle that calls os.system, hidden one level down.
    let evil = [&b"\x80\x02"[..], SYSTEM].concat();
    let inner_zip = zip_with(
        false,
        ::zip::CompressionMethod::Stored,
        false,
        &[("data.pkl", &evil)],
    );
    let mut tar_bytes = Vec::new();
    {
        let mut t = ::tar::Builder::new(&mut tar_bytes);
        let mut h = ::tar::Header::new_gnu();
        h.set_size(evil.len() as u64);
        h.set_mode(0o644);
        h.set_cksum();
        t.append_data(&mut h, "x.pkl", &evil[..]).unwrap();
        t.finish().unwrap();
    }
    let mut gz = flate2::write::GzEncoder::new(Vec::new(), flate2::Compression::default());
    gz.write_all(&evil).unwrap();
    let gz = gz.finish().unwrap();
    for (member, bytes, kind) in [
        ("inner.zip", &inner_zip, "zip archive"),
        ("inner.tar", &tar_bytes, "tar archive"),
        ("data.pkl.gz", &gz, "gzip stream"),
    ] {
        let outer = zip_with(
            false,
            ::zip::CompressionMethod::Stored,
            false,
            &[(member, bytes)],
        );
        let r = judge(&outer);
        assert!(r.unsafe_to_load(), "{member}: {}", messages(&r));
        assert!(
            messages(&r).contains(&format!("{member}: a {kind} inside the archive")),
            "{member}: {}",
            messages(&r)
        );
    }
    // The same gzip'd pickle as a file of its own: joblib would load it.
    let r = judge(&gz);
    assert_eq!(r.format, Format::Unknown);
    assert!(r.unsafe_to_load(), "{}", messages(&r));
    assert!(messages(&r).contains("a gzip stream: what it holds is not scanned"));
}
