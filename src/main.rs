//! The modelseal command line: parse, call the library, map to exit codes.
#![forbid(unsafe_code)]

// Results and diagnostics go through cli::stdout (outln!, errln!), which
// never panic on a closed or full stream; print macros are disallowed here
// as in the library (clippy.toml).
#[macro_use]
mod cli;

use clap::Parser;
use std::process::ExitCode;

fn main() -> ExitCode {
    let cli = match cli::Cli::try_parse() {
        Ok(cli) => cli,
        Err(e) => {
            let code = if e.use_stderr() { 2 } else { 0 };
            let _ = e.print();
            return ExitCode::from(code);
        }
    };
    // Only keygen overwrites with --force: the hint must not offer it to
    // the others.
    let force = matches!(cli.command, cli::Command::Keygen(_));
    let result = cli::run(cli);
    // Results that did not reach stdout (a closed pipe, a full disk) are
    // no success, whatever the command concluded.
    if let Some(reason) = cli::stdout::finish() {
        errln!("error: {reason}");
        return ExitCode::from(2);
    }
    match result {
        Ok(code) => ExitCode::from(code as u8),
        Err(e) => {
            errln!("error: {}", cli::escape(&e.to_string()));
            if let Some(hint) = cli::hint(&e, force) {
                errln!("hint: {hint}");
            }
            // Usage, I/O and malformed input: a verification that could not
            // even be attempted.
            ExitCode::from(2)
        }
    }
}
