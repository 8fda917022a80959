//! How s3doctor ends: the exit codes of the design, in one place, and the helpers every
//! command uses to end — one line for bad input (exit 2), writing a report to a file or
//! standard output, and a reader that closed standard output or standard error early
//! (`| head -1`, `2>&1 | head -1`), which ends the writing quietly instead of as an internal
//! error or a panic. Floor 0: imports nothing of the
//! crate, so any command can use it.

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

/// `eprintln!` that a standard error whose reader is gone (`s3doctor … 2>&1 | head -1`) does not
/// turn into a panic: the line is dropped and the command ends with its own exit code. Every
/// line the commands say on standard error goes through it.
#[macro_export]
macro_rules! say {
    ($($arg:tt)*) => {{
        use std::io::Write as _;
        let _ = writeln!(std::io::stderr(), $($arg)*);
    }};
}

/// A question on standard error without a line end (the answer is typed after it), dropped
/// quietly as [`say!`] drops a line.
pub fn ask(prompt: &str) {
    let mut err = std::io::stderr().lock();
    let _ = err.write_all(prompt.as_bytes()).and_then(|()| err.flush());
}

/// Input that cannot be used: printed as one line, exit code 2.
#[derive(Debug, thiserror::Error)]
#[error("{0}")]
pub struct BadInput(pub String);

/// One line on standard error, exit code 2.
pub fn bad_input(bad: &BadInput) -> ExitCode {
    crate::say!("s3doctor: {bad}");
    ExitCode::from(BAD_INPUT)
}

/// Writes a report to the file, or to standard output.
pub fn emit(text: &str, output: Option<&Path>) -> Result<()> {
    match output {
        Some(path) => {
            std::fs::write(path, text)
                .wrap_err_with(|| format!("cannot write {}", path.display()))?;
            crate::say!("s3doctor: report written to {}", path.display());
        }
        None if text.ends_with('\n') => to_stdout(text.as_bytes())?,
        None => to_stdout(format!("{text}\n").as_bytes())?,
    }
    Ok(())
}

/// Writes `bytes` to standard output. A reader that is gone (`s3doctor … | head -1` after its
/// line) is not s3doctor's failure: the rest is dropped quietly, and the command ends with the
/// exit code its run has (README, exit codes).
pub fn to_stdout(bytes: &[u8]) -> std::io::Result<()> {
    let mut out = std::io::stdout().lock();
    match out.write_all(bytes).and_then(|()| out.flush()) {
        Err(e) if closed_reader(&e) => Ok(()),
        other => other,
    }
}

/// True when `e` says the reader of standard output has closed it (EPIPE).
pub fn closed_reader(e: &std::io::Error) -> bool {
    e.kind() == std::io::ErrorKind::BrokenPipe
}

/// True when a closed standard output is somewhere in `err`'s chain: the last resort of
/// `main`, for a write that did not go through [`to_stdout`].
pub fn closed_reader_in(err: &(dyn std::error::Error + 'static)) -> bool {
    let mut source = Some(err);
    while let Some(e) = source {
        if e.downcast_ref::<std::io::Error>()
            .is_some_and(closed_reader)
        {
            return true;
        }
        source = e.source();
    }
    false
}
