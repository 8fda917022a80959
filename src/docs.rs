//! The commands that only print documentation and need no AWS: `explain`, `completions`
//! and `man`, all generated from data (the runbook, the explain asset, the clap definitions).

use std::process::ExitCode;

use clap::CommandFactory;
use color_eyre::eyre::Result;

use crate::cli::{BadInput, Cli, Command};
use crate::exit::{self, bad_input};
use crate::explain;
use crate::runbook::Runbook;

/// Runs a documentation command; `None` for the commands that do real work.
pub fn run(command: Option<&Command>) -> Option<Result<ExitCode>> {
    match command? {
        Command::Explain { code } => Some(explain_command(code.as_deref())),
        Command::Completions { shell } => Some(completions(*shell)),
        Command::Man => Some(man()),
        _ => None,
    }
}

fn explain_command(code: Option<&str>) -> Result<ExitCode> {
    let runbook = Runbook::embedded();
    let text = match code {
        None => explain::list(runbook),
        Some(name) => match explain::lookup(name) {
            Some(code) => explain::render(code, runbook),
            None => return Ok(bad_input(&BadInput(explain::unknown(name)))),
        },
    };
    exit::to_stdout(text.as_bytes())?;
    Ok(ExitCode::from(exit::OK))
}

fn completions(shell: clap_complete::Shell) -> Result<ExitCode> {
    let mut cmd = Cli::command();
    let mut out = Vec::new();
    clap_complete::generate(shell, &mut cmd, "s3doctor", &mut out);
    exit::to_stdout(&out)?;
    Ok(ExitCode::from(exit::OK))
}

fn man() -> Result<ExitCode> {
    let mut out = Vec::new();
    clap_mangen::Man::new(Cli::command()).render(&mut out)?;
    exit::to_stdout(&out)?;
    Ok(ExitCode::from(exit::OK))
}
