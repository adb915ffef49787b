//! Results on stdout, and diagnostics on stderr, that never panic. `println!` panics when stdout is a
//! closed pipe (`modelseal hash ... | head -1`) or a full disk; here the
//! first write error is kept, later writes are skipped, and `main` turns it
//! into exit code 2 with a one-line reason: a result that could not be
//! delivered is never reported as a success.

use std::io::Write;
use std::sync::OnceLock;

static FAILED: OnceLock<String> = OnceLock::new();

/// Writes formatted text (and a newline when `newline`) to stdout.
pub fn write(args: std::fmt::Arguments<'_>, newline: bool) {
    if FAILED.get().is_some() {
        return;
    }
    let mut out = std::io::stdout().lock();
    let written = out.write_fmt(args).and_then(|()| {
        if newline {
            out.write_all(b"\n")
        } else {
            Ok(())
        }
    });
    if let Err(e) = written {
        fail(&e);
    }
}

/// Writes with `write_to` through a buffer (large JSON documents).
pub fn write_with(write_to: impl FnOnce(&mut dyn Write) -> std::io::Result<()>) {
    if FAILED.get().is_some() {
        return;
    }
    let stdout = std::io::stdout();
    let mut out = std::io::BufWriter::with_capacity(1 << 16, stdout.lock());
    if let Err(e) = write_to(&mut out).and_then(|()| out.flush()) {
        fail(&e);
    }
}

fn fail(e: &std::io::Error) {
    let _ = FAILED.set(match e.kind() {
        std::io::ErrorKind::BrokenPipe => {
            "stdout was closed before all results were written".into()
        }
        _ => format!("cannot write results to stdout: {e}"),
    });
}

/// Flushes stdout; the first write error of the run, if any.
pub fn finish() -> Option<String> {
    if let Err(e) = std::io::stdout().flush() {
        fail(&e);
    }
    FAILED.get().cloned()
}

/// Writes a diagnostic line to stderr. A stderr that cannot be written
/// (closed, a full disk) loses the line but never changes the outcome:
/// `eprintln!` would panic there.
pub fn diagnostic(args: std::fmt::Arguments<'_>) {
    let mut err = std::io::stderr().lock();
    let _ = err.write_fmt(args).and_then(|()| err.write_all(b"\n"));
}

/// `eprintln!` for diagnostics: see [`diagnostic`].
macro_rules! errln {
    ($($arg:tt)*) => {
        $crate::cli::stdout::diagnostic(format_args!($($arg)*))
    };
}

/// `println!` for results: see the module.
macro_rules! outln {
    () => {
        $crate::cli::stdout::write(format_args!(""), true)
    };
    ($($arg:tt)*) => {
        $crate::cli::stdout::write(format_args!($($arg)*), true)
    };
}

/// `print!` for results: see the module.
macro_rules! out {
    ($($arg:tt)*) => {
        $crate::cli::stdout::write(format_args!($($arg)*), false)
    };
}
