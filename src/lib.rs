//! s3doctor: diagnose and fix "uploads to S3 return 403".
//!
//! - engine: `runbook` (the checklist as data; `step`: its StepId) → `engine` (schedules,
//!   enforces each step's mode) → `checks` (live calls) → `answers` (errors → findings);
//!   `operation` names every call with its IAM action; `aws` builds every client; `credentials`
//!   walks the credential chain as the app's SDK would (and says how it fails); `endpoint`
//!   says what a custom endpoint is and offers; `server` is which server answered, as a fact
//!   the findings' words take.
//! - policy: `policy` (model, generator, evaluator; the `iam-policy` crate, with `arn`) and
//!   `remedy` (plan → confirm → apply → verify).
//! - `diagnosis`: the findings that stand and the policy that fixes them, worked out once
//!   from the step results; `report`, `remedy` and `tui` read it.
//! - views: `report` (text, JSON, Markdown) and `tui` (the wizard); `cli` and `commands` on top.
//! - `exit`: the exit codes and the one-line bad-input ending, below everything that ends a run.
//! - parsers of input: `arn` (in `iam-policy`), `bucket_name`, `object_key`, `envfile`.
//! - `why` reads an error pasted from the app (through `answers`, as the checklist reads
//!   AWS's answers); `why_command` is `s3doctor why`.

pub mod answers;
pub mod aws;
pub mod bucket_name;
pub mod checks;
pub mod cli;
pub mod commands;
pub mod credentials;
pub mod demo;
pub mod diagnosis;
pub mod docs;
pub mod endpoint;
pub mod engine;
pub mod envfile;
pub mod exit;
pub mod explain;
pub mod finding;
pub mod gallery;
pub mod logging;
pub mod object_key;
pub mod operation;
pub mod presigned;
pub mod remedy;
pub mod report;
pub mod runbook;
pub mod server;
pub mod step;
pub mod tui;
pub mod url_command;
pub mod why;
pub mod why_command;

/// IAM policies: document, evaluator, generator and lint (the `iam-policy` crate).
pub use iam_policy as policy;
/// ARNs: the one parser, principal ARNs and the ARNs s3doctor writes (from `iam-policy`).
pub use iam_policy::arn;
