//! File arguments: kinds of files refused, caps, pipes with and without
//! writers, files that change while read.

use super::*;
use std::io::Write;
use std::os::fd::AsRawFd;

fn tmp_file(bytes: &[u8]) -> (tempfile::TempDir, PathBuf) {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("f");
    std::fs::write(&path, bytes).unwrap();
    (dir, path)
}

/// The path of this process's file descriptor, as `<(command)` passes it.
fn fd_path(fd: &impl AsRawFd) -> PathBuf {
    PathBuf::from(format!("/dev/fd/{}", fd.as_raw_fd()))
}

#[test]
fn regular_files_up_to_the_cap_are_read() {
    let (_dir, path) = tmp_file(b"12345");
    assert_eq!(read_file(&path, InputKind::Artifact(5)).unwrap(), b"12345");
    assert_eq!(read_text(&path, InputKind::Key).unwrap(), "12345");
    let err = read_file(&path, InputKind::Artifact(4)).unwrap_err();
    assert!(matches!(err, InputError::TooLarge { max: 4, .. }), "{err}");
    assert!(err.to_string().contains("larger than 4 bytes"), "{err}");
}

#[test]
fn directories_devices_and_sockets_are_refused() {
    let dir = tempfile::tempdir().unwrap();
    let err = read_file(dir.path(), InputKind::Key).unwrap_err();
    assert!(matches!(err, InputError::Directory { .. }), "{err}");
    assert!(err.to_string().contains("is a directory"), "{err}");
    for device in ["/dev/zero", "/dev/null", "/dev/urandom"] {
        let err = read_file(Path::new(device), InputKind::Key).unwrap_err();
        assert!(
            matches!(
                err,
                InputError::NotAFile {
                    what: "character device",
                    ..
                }
            ),
            "{device}: {err}"
        );
    }
    // Behind a symbolic link as well.
    let link = dir.path().join("zero.pem");
    std::os::unix::fs::symlink("/dev/zero", &link).unwrap();
    assert!(matches!(
        read_file(&link, InputKind::Key),
        Err(InputError::NotAFile { .. })
    ));
    let socket = dir.path().join("sock");
    let _listener = std::os::unix::net::UnixListener::bind(&socket).unwrap();
    let err = read_file(&socket, InputKind::Policy).unwrap_err();
    assert!(
        matches!(err, InputError::NotAFile { what: "socket", .. }),
        "{err}"
    );
    assert!(
        read_file(&dir.path().join("missing"), InputKind::Key)
            .unwrap_err()
            .is_not_found()
    );
}

#[test]
fn a_named_pipe_without_a_writer_is_refused_at_once() {
    let dir = tempfile::tempdir().unwrap();
    let fifo = dir.path().join("fifo");
    rustix::fs::mkfifoat(
        rustix::fs::CWD,
        &fifo,
        rustix::fs::Mode::RUSR | rustix::fs::Mode::WUSR,
    )
    .unwrap();
    let err = read_file(&fifo, InputKind::Key).unwrap_err();
    assert!(matches!(err, InputError::NoWriter { .. }), "{err}");
    assert!(err.to_string().contains("no writer"), "{err}");
}

#[test]
fn a_pipe_with_a_writer_is_read_like_a_file() {
    // Written and closed before the read.
    let (reader, mut writer) = std::io::pipe().unwrap();
    writer.write_all(b"-----BEGIN PUBLIC KEY-----").unwrap();
    drop(writer);
    assert_eq!(
        read_file(&fd_path(&reader), InputKind::Key).unwrap(),
        b"-----BEGIN PUBLIC KEY-----"
    );
    // Written while the read waits (or before it: either way all arrives).
    let (reader, mut writer) = std::io::pipe().unwrap();
    let feeder = std::thread::spawn(move || {
        for _ in 0..100 {
            writer.write_all(&[b'x'; 1000]).unwrap();
        }
    });
    let bytes = read_file(&fd_path(&reader), InputKind::Bundle(100_000)).unwrap();
    feeder.join().unwrap();
    assert_eq!(bytes.len(), 100_000);
}

#[test]
fn a_silent_writer_is_given_up_on() {
    let (reader, writer) = std::io::pipe().unwrap();
    let mut input =
        open_with_timeout(&fd_path(&reader), InputKind::Key, Duration::from_millis(50)).unwrap();
    let err = input.read_all(&mut Vec::new()).unwrap_err();
    assert!(matches!(err, InputError::Stalled { .. }), "{err}");
    drop(writer);
}

#[test]
fn an_endless_pipe_is_read_only_to_the_cap_plus_one_byte() {
    let (mut reader, mut writer) = std::io::pipe().unwrap();
    writer.write_all(&[7u8; 1000]).unwrap();
    let err = read_file(&fd_path(&reader), InputKind::Artifact(10)).unwrap_err();
    assert!(matches!(err, InputError::TooLarge { max: 10, .. }), "{err}");
    drop(writer);
    let mut rest = Vec::new();
    reader.read_to_end(&mut rest).unwrap();
    assert_eq!(rest.len(), 1000 - 11, "read more than the cap + 1");
}

#[test]
fn a_file_that_grows_past_the_cap_while_read_is_refused() {
    let (_dir, path) = tmp_file(b"12345");
    let mut input = open_file(&path, InputKind::Artifact(10)).unwrap();
    std::fs::OpenOptions::new()
        .append(true)
        .open(&path)
        .unwrap()
        .write_all(&[0u8; 100])
        .unwrap();
    let err = input.read_all(&mut Vec::new()).unwrap_err();
    assert!(matches!(err, InputError::TooLarge { .. }), "{err}");
    assert_eq!(input.read, 11);
}

#[test]
fn a_file_that_changes_while_read_is_refused() {
    for change in [7u64, 2] {
        let (_dir, path) = tmp_file(b"12345");
        let mut input = open_file(&path, InputKind::Artifact(10)).unwrap();
        std::fs::OpenOptions::new()
            .write(true)
            .open(&path)
            .unwrap()
            .set_len(change)
            .unwrap();
        let err = input.read_all(&mut Vec::new()).unwrap_err();
        assert!(matches!(err, InputError::Changed { .. }), "{change}: {err}");
    }
}

#[test]
fn secrets_are_read_into_a_buffer_that_never_moves() {
    let (_dir, path) = tmp_file(b"-----BEGIN PRIVATE KEY-----\n");
    let bytes = read_secret(&path, InputKind::Key).unwrap();
    assert_eq!(bytes.as_slice(), b"-----BEGIN PRIVATE KEY-----\n");
    assert_eq!(bytes.capacity() as u64, MAX_KEY + 1);
}

#[test]
fn text_must_be_utf8() {
    let (_dir, path) = tmp_file(&[0xff, 0xfe]);
    assert!(matches!(
        read_text(&path, InputKind::Checklist),
        Err(InputError::NotText { .. })
    ));
}

#[test]
fn caps_per_kind() {
    assert_eq!(InputKind::Key.limit(), 64 << 10);
    assert_eq!(InputKind::Checkpoint.limit(), 64 << 10);
    assert_eq!(InputKind::Certificate.limit(), 1 << 20);
    assert_eq!(InputKind::Policy.limit(), 1 << 20);
    assert_eq!(InputKind::Checklist.limit(), 1 << 20);
    assert_eq!(InputKind::Bom(123).limit(), 123);
    assert_eq!(InputKind::Bundle(456).limit(), 456);
}
