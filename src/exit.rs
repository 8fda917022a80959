//! How s3doctor ends: the exit codes of the design, in one place, and the two helpers every
//! command uses to end — one line for bad input (exit 2) and writing a report to a file or
//! standard output. Floor 0: imports nothing of the crate, so any command can use it.

use std::io::Write;
use std::path::Path;
use std::process::ExitCode;

use color_eyre::eyre::{Result, WrapErr};

/// Everything checked and nothing is wrong (or the command only printed something).
pub const OK: u8 = 0;
/// The run found problems (or a fix was not applied or not verified).
pub const FINDINGS: u8 = 1;
/// The command line or its input cannot be used.
pub const BAD_INPUT: u8 = 2;
/// s3doctor itself failed.
pub const INTERNAL: u8 = 3;

/// Input that cannot be used: printed as one line, exit code 2.
#[derive(Debug, thiserror::Error)]
#[error("{0}")]
pub struct BadInput(pub String);

/// One line on standard error, exit code 2.
pub fn bad_input(bad: &BadInput) -> ExitCode {
    eprintln!("s3doctor: {bad}");
    ExitCode::from(BAD_INPUT)
}

/// Writes a report to the file, or to standard output.
pub fn emit(text: &str, output: Option<&Path>) -> Result<()> {
    match output {
        Some(path) => {
            std::fs::write(path, text)
                .wrap_err_with(|| format!("cannot write {}", path.display()))?;
            eprintln!("s3doctor: report written to {}", path.display());
        }
        None => {
            let mut out = std::io::stdout().lock();
            out.write_all(text.as_bytes())?;
            if !text.ends_with('\n') {
                out.write_all(b"\n")?;
            }
        }
    }
    Ok(())
}
