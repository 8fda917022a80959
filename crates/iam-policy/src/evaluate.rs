//! Local IAM policy evaluation: would these policies allow this call, and which statement decides?
//!
//! Follows AWS's documented single-account logic: an explicit Deny in any policy wins; otherwise
//! an Allow in an identity policy or in the bucket policy allows, and a permissions boundary,
//! when there is one, must allow too. Conditions are judged with what the request's
//! [`Context`] knows (see [`super::condition`]); a statement whose condition fails does not
//! apply (it is kept in [`Decision::unmet`]), and one whose condition needs a value s3doctor does
//! not know is reported apart, in [`Decision::conditional`], with typed
//! [`Dependency`](super::condition::Dependency)s. Where AWS's documentation leaves the outcome
//! open, the statement is reported there too, with the [`Reading`](super::condition::Reading)
//! s3doctor takes.
//!
//! AWS pages this follows (IAM User Guide):
//! - "NotPrincipal": <https://docs.aws.amazon.com/IAM/latest/UserGuide/reference_policies_elements_notprincipal.html>
//! - "Policy evaluation logic", and its part "How AWS enforcement code logic evaluates requests
//!   to allow or deny access":
//!   <https://docs.aws.amazon.com/IAM/latest/UserGuide/reference_policies_evaluation-logic_policy-eval-denyallow.html>
//! - "Permissions boundaries for IAM entities":
//!   <https://docs.aws.amazon.com/IAM/latest/UserGuide/access_policies_boundaries.html>

mod decision;
mod principal;
mod resource;
mod scan;

use serde::{Deserialize, Serialize};

use super::condition::Context;
use super::document::NamedPolicy;
use principal::Caller;
use scan::{Role, Scan};

pub use crate::glob::{action_matches, resource_matches, wildcard_match};
pub use decision::{Decision, PolicyRef, StatementRef, Verdict};

/// One API call to judge: who (`principal_arn`, as `sts:GetCallerIdentity` reports it, in
/// `account`) does what (`action`, e.g. `s3:PutObject`) to which ARN (`resource`, e.g.
/// `arn:aws:s3:::clipizy-dev/key`).
#[derive(Clone, Debug, PartialEq, Eq, Hash, Serialize, Deserialize)]
pub struct Request {
    /// Caller ARN: `arn:aws:iam::ACCT:user/NAME`, `arn:aws:sts::ACCT:assumed-role/ROLE/SESS`, …
    pub principal_arn: String,
    /// The caller's 12-digit account id; when empty it is read from `principal_arn`.
    pub account: String,
    /// The action, `service:Name`.
    pub action: String,
    /// The resource ARN.
    pub resource: String,
    /// What is known of the request's condition keys (empty: nothing is).
    #[serde(default)]
    pub context: Context,
}

impl Request {
    /// Builds a request from its four parts.
    pub fn new(
        principal_arn: impl Into<String>,
        account: impl Into<String>,
        action: impl Into<String>,
        resource: impl Into<String>,
    ) -> Self {
        Request {
            principal_arn: principal_arn.into(),
            account: account.into(),
            action: action.into(),
            resource: resource.into(),
            context: Context::default(),
        }
    }

    /// The same request with this context.
    pub fn with_context(mut self, context: Context) -> Self {
        self.context = context;
        self
    }
}

/// The policies that apply to a request. The bucket policy is assumed to belong to the caller's
/// own account (cross-account access is not modelled).
#[derive(Clone, Copy, Debug, Default)]
pub struct Policies<'a> {
    /// The principal's identity policies: inline, managed and group policies.
    pub identity: &'a [NamedPolicy],
    /// The bucket policy, when the bucket has one and it could be read.
    pub resource: Option<&'a NamedPolicy>,
    /// The principal's permissions boundary, when it has one.
    pub boundary: Option<&'a NamedPolicy>,
}

/// Judges `request` against `policies` (see the module documentation for the rules).
///
/// Identity policies and the boundary ignore `Principal`. A bucket policy statement applies
/// when its `Principal` is `"*"`, `{"AWS": "*"}`, the caller's ARN, the role of an assumed-role
/// session, or the caller's account (`123456789012` or `arn:aws:iam::123456789012:root`), or when
/// its `NotPrincipal` does not list the caller. An account principal makes a Deny apply, but an
/// Allow for the account only delegates to the account's identity policies, so it allows nothing
/// by itself. As AWS documents, a bucket policy Allow naming the caller's own ARN (a user or a
/// role session) is not limited by the permissions boundary; one naming the role is; for one
/// naming `*` AWS does not say, and s3doctor reports its reading
/// ([`Reading::AnyonePastBoundary`](super::condition::Reading::AnyonePastBoundary)).
///
/// `NotPrincipal` ("NotPrincipal", IAM User Guide):
/// - it lists the caller when it names the caller's ARN, the role of the caller's session, or
///   `*`. Naming the account (`arn:aws:iam::ACCOUNT:root` or the bare id) exempts the account
///   root only, not the account's other principals: AWS's example lists both
///   `arn:aws:iam::444455556666:user/Bob` and `arn:aws:iam::444455556666:root` and says "all
///   principals *except* the user named Bob in AWS account 444455556666 are explicitly denied".
/// - a Deny with `NotPrincipal` applies to every principal with a permissions boundary, listed or
///   not: "The `NotPrincipal` element with a `Deny` effect will always deny any IAM principal that
///   has a permissions boundary policy attached, regardless of the values specified in the
///   `NotPrincipal` element." ("NotPrincipal" and "Permissions boundaries for IAM entities").
/// - a caller listed without its account is exempt, with
///   [`Reading::NotPrincipalWithoutAccount`](super::condition::Reading::NotPrincipalWithoutAccount).
pub fn evaluate(request: &Request, policies: &Policies<'_>) -> Decision {
    let caller = Caller::new(request, policies.boundary.is_some());
    let mut scan = Scan::default();
    for policy in policies.identity {
        scan.policy(policy, Role::Identity, request, &caller);
    }
    if let Some(policy) = policies.resource {
        scan.policy(policy, Role::Resource, request, &caller);
    }
    if let Some(policy) = policies.boundary {
        scan.policy(policy, Role::Boundary, request, &caller);
    }

    scan.decide(policies.boundary)
}

#[cfg(test)]
mod tests;
