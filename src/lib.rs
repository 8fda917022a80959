//! s3doctor: diagnose and fix "uploads to S3 return 403". This package is what a person runs:
//! the command line, the wizard, the demo; the diagnosis itself is the `s3doctor-core` library
//! (crates/s3doctor-core), whose modules are re-exported here under their own names.
//!
//! - `cli` (the arguments) and `commands` (one per subcommand; `fix` among them), with
//!   `url_command` (`s3doctor url`), `why_command` (`s3doctor why`) and `docs` (man page,
//!   completions, `explain`).
//! - `tui`: the wizard; `demo` and `gallery`: the incidents it replays on a local server.
//! - `exit`: the exit codes and the one-line bad-input ending; `logging`: the run's log file.

pub mod cli;
pub mod commands;
pub mod demo;
pub mod docs;
pub mod exit;
pub mod gallery;
pub mod logging;
pub mod tui;
pub mod url_command;
pub mod why_command;

pub use s3doctor_core::{
    answers, app_network, arn, aws, bucket_name, checks, credentials, diagnosis, endpoint, engine,
    envfile, explain, finding, object_key, operation, policy, presigned, remedy, report, runbook,
    server, step, why,
};
