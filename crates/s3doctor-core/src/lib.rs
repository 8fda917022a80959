//! s3doctor's library: everything that diagnoses and fixes "uploads to S3 return 403", with no
//! terminal and no command line (the `s3doctor` package holds the wizard, the CLI and the demo).
//!
//! - engine: `runbook` (the checklist as data; `step`: its StepId) → `engine` (schedules,
//!   enforces each step's mode) → `checks` (live calls) → `answers` (errors → findings);
//!   `operation` names every call with its IAM action; `aws` builds every client; `credentials`
//!   walks the credential chain as the app's SDK would (and says how it fails); `endpoint`
//!   says what a custom endpoint is and offers; `server` is which server answered, as a fact
//!   the findings' words take.
//! - policy: `policy` (model, generator, evaluator; the `iam-policy` crate, with `arn`) and
//!   `remedy` (plan → confirm → apply → verify).
//! - `app_network`: the app's network as the conditions were judged (the flags, with the VPC
//!   EC2 names for the endpoint), for every view that names it.
//! - `diagnosis`: the findings that stand and the policy that fixes them, worked out once
//!   from the step results; `report`, `remedy` and the wizard read it.
//! - readers of the diagnosis: `report` (text, JSON, Markdown), `presigned` (a presigned URL
//!   checked offline), `explain` (each finding's why and how to check), `why` (an error pasted
//!   from the app, read through `answers` as the checklist reads AWS's answers).
//! - parsers of input: `arn` (in `iam-policy`), `bucket_name`, `object_key`, `envfile`.

pub mod answers;
pub mod app_network;
pub mod aws;
pub mod bucket_name;
pub mod checks;
pub mod credentials;
pub mod diagnosis;
pub mod endpoint;
pub mod engine;
pub mod envfile;
pub mod explain;
pub mod finding;
pub mod object_key;
pub mod operation;
pub mod presigned;
pub mod remedy;
pub mod report;
pub mod runbook;
pub mod server;
pub mod step;
pub mod why;

/// IAM policies: document, evaluator, generator and lint (the `iam-policy` crate).
pub use iam_policy as policy;
/// ARNs: the one parser, principal ARNs and the ARNs s3doctor writes (from `iam-policy`).
pub use iam_policy::arn;
