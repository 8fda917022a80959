//! `s3doctor why [TEXT|-] [--file PATH]`: reads the app's error offline and prints the reading
//! ([`crate::why`]). It builds no AWS client and reads no configuration: nothing is sent,
//! whatever credentials or endpoint the environment holds.

use std::io::{IsTerminal, Read};
use std::path::{Path, PathBuf};
use std::process::ExitCode;

use color_eyre::eyre::Result;

use crate::answers::pasted::{self, MAX_TEXT};
use crate::cli::Format;
use crate::exit::{self, BadInput, bad_input, emit};
use crate::why;

/// What `s3doctor why` was asked.
#[derive(Clone, Debug)]
pub struct WhyOptions {
    /// The text, or `-` for standard input.
    pub text: Option<String>,
    pub file: Option<PathBuf>,
    pub format: Format,
}

/// Runs `s3doctor why`: exit 0 when an AWS error was read, 2 (one line) when none.
pub fn run(options: &WhyOptions, output: Option<&Path>) -> Result<ExitCode> {
    let text = match input(options) {
        Ok(t) => t,
        Err(bad) => return Ok(bad_input(&bad)),
    };
    let Some(pasted) = pasted::read(&text) else {
        return Ok(bad_input(&BadInput(
            "no AWS error found in the text (no error code, HTTP status or AWS refusal): paste the whole error, its stack trace or the CloudTrail event"
                .to_owned(),
        )));
    };
    let reading = why::read(&pasted);
    let report = match options.format {
        Format::Json => serde_json::to_string_pretty(&reading)?,
        Format::Text => why::text(&reading),
        Format::Markdown => why::markdown(&reading),
    };
    emit(&report, output)?;
    Ok(ExitCode::from(exit::OK))
}

/// The text: the argument, `--file`, or standard input (`-`, or a pipe).
fn input(options: &WhyOptions) -> Result<String, BadInput> {
    match (&options.text, &options.file) {
        (Some(_), Some(_)) => Err(BadInput("give the text or --file, not both".to_owned())),
        (Some(t), None) if t != "-" => Ok(t.clone()),
        (None, Some(path)) => {
            let bytes = std::fs::read(path)
                .map_err(|e| BadInput(format!("cannot read --file {}: {e}", path.display())))?;
            limited(&bytes)
        }
        (text, None) => {
            let stdin = std::io::stdin();
            if text.is_none() && stdin.is_terminal() {
                return Err(BadInput(
                    "give the error text as an argument, `-` or a pipe for standard input, or --file PATH"
                        .to_owned(),
                ));
            }
            let mut bytes = Vec::new();
            stdin
                .lock()
                .take(MAX_TEXT as u64 + 1)
                .read_to_end(&mut bytes)
                .map_err(|e| BadInput(format!("cannot read standard input: {e}")))?;
            limited(&bytes)
        }
    }
}

fn limited(bytes: &[u8]) -> Result<String, BadInput> {
    if bytes.len() > MAX_TEXT {
        return Err(BadInput(format!(
            "the text is over {} MiB: paste the error and its stack trace, not the whole log",
            MAX_TEXT / (1024 * 1024)
        )));
    }
    Ok(String::from_utf8_lossy(bytes).into_owned())
}
