//! The `s3doctor` binary: parse the command line, install error hooks, dispatch.

use std::process::ExitCode;

use clap::Parser;
use clap::error::ErrorKind;

fn main() -> ExitCode {
    let cli = match s3doctor::cli::Cli::try_parse() {
        Ok(cli) => cli,
        Err(e) => return usage_error(&e),
    };
    if let Err(e) = color_eyre::install() {
        s3doctor::say!("s3doctor: {e}");
    }
    let runtime = match tokio::runtime::Builder::new_multi_thread()
        .enable_all()
        .build()
    {
        Ok(rt) => rt,
        Err(e) => {
            s3doctor::say!("s3doctor: cannot start the async runtime: {e}");
            return ExitCode::from(s3doctor::exit::INTERNAL);
        }
    };
    match runtime.block_on(s3doctor::commands::run(cli)) {
        Ok(code) => code,
        // A reader that closed standard output early is not an internal error.
        Err(e) if s3doctor::exit::closed_reader_in(e.as_ref()) => ExitCode::SUCCESS,
        Err(e) => {
            s3doctor::say!("s3doctor: {e:?}");
            ExitCode::from(s3doctor::exit::INTERNAL)
        }
    }
}

/// `--help` and `--version` print as clap formats them; any other parse error becomes one
/// line on standard error and exit code 2.
fn usage_error(e: &clap::Error) -> ExitCode {
    match e.kind() {
        ErrorKind::DisplayHelp
        | ErrorKind::DisplayVersion
        | ErrorKind::DisplayHelpOnMissingArgumentOrSubcommand => {
            let _ = e.print();
            ExitCode::SUCCESS
        }
        _ => {
            let text = e.render().to_string();
            let first = text
                .lines()
                .find(|l| !l.trim().is_empty())
                .unwrap_or("invalid command line");
            let first = first.trim_start_matches("error: ").trim();
            s3doctor::say!("s3doctor: {first} (see s3doctor --help)");
            ExitCode::from(s3doctor::exit::BAD_INPUT)
        }
    }
}
