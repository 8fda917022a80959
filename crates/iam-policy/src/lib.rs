//! IAM policies: the document model, the least-privilege generator, its lint, a local
//! evaluator, and ARNs. No AWS SDK and no async runtime; s3doctor's live checks feed it what
//! they read.
//!
#![doc = include_str!("../README.md")]

pub mod arn;
pub mod condition;
pub mod document;
pub mod evaluate;
pub mod generate;
mod glob;
pub mod lint;
pub mod trust;

pub use condition::{AppNetwork, Context, Dependency, Origin, Settled, Test};
pub use document::{
    Effect, NamedPolicy, OneOrMany, PolicyDocument, PolicyError, PolicyKind, Principal, Statement,
};
pub use evaluate::{Decision, Policies, PolicyRef, Request, StatementRef, Verdict, evaluate};
pub use generate::{
    Access, GrantSids, MULTIPART_ACTIONS, bucket_grant, cross_account_bucket_policy,
    default_policy_name, generate, generate_with, validate, with_objects,
};
pub use lint::{LintError, lint};
