//! The remedy: a plan worked out from the findings and IAM's current state (pure data, shown
//! to the person), a `ConfirmedPlan` that only the wizard's `y` and the CLI's `--yes` can
//! make, applying it idempotently, and verifying that the failed steps now pass.

pub mod apply;
pub mod bucket_policy;
pub mod cors;
pub mod export;
pub mod plan;
pub mod service;

use crate::arn::Principal;
use crate::engine::Unit;
use crate::policy::PolicyDocument;

pub use service::{Event, Outcome, Remedy, RemedyError, RemedyOptions, Standing, VERIFY_DEADLINE};

/// Whom the policy is attached to.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum AttachTarget {
    User(String),
    Role(String),
}

impl AttachTarget {
    pub fn describe(&self) -> String {
        match self {
            AttachTarget::User(u) => format!("IAM user {u}"),
            AttachTarget::Role(r) => format!("IAM role {r}"),
        }
    }
}

/// One IAM call the plan will make, in order.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum Call {
    CreatePolicy,
    /// Five versions exist: the oldest non-default one goes first (said before confirming).
    DeletePolicyVersion(String),
    CreatePolicyVersion,
    Attach(AttachTarget),
}

/// The fix, as shown before anything changes.
#[derive(Clone, Debug)]
pub struct Plan {
    pub policy_name: String,
    pub policy_arn: String,
    pub document: PolicyDocument,
    /// The validated JSON that would be sent.
    pub json: String,
    pub principal: Principal,
    /// `None` when the principal cannot carry a policy (root, federated user).
    pub target: Option<AttachTarget>,
    pub calls: Vec<Call>,
    /// Which credentials make the change (`--admin-profile NAME`, or the diagnosed ones).
    pub acting_as: String,
    /// Why nothing can be applied (no IAM rights, root, …); the export still works.
    pub blocked: Option<String>,
    /// Things a new Allow cannot fix (explicit denies), said plainly.
    pub caveats: Vec<String>,
    /// The rows to re-run to prove the fix.
    pub verify: Vec<Unit>,
    /// The endpoint, for the exported CLI commands.
    pub endpoint: Option<String>,
    /// Buckets of another account, each with the bucket-policy statements its owner must add
    /// (JSON): the export's section for that account's administrator.
    pub owner_statements: Vec<(String, String)>,
    /// On a server without IAM managed policies: the bucket-policy statements to add (then
    /// `target` is `None` and there are no IAM calls).
    pub bucket_policies: Vec<bucket_policy::BucketPlan>,
    /// The server's name when it is not AWS's IAM that is changed (`Ceph RGW`).
    pub server: Option<&'static str>,
}

impl Plan {
    /// True when there is something to apply and nothing blocks it.
    pub fn is_applicable(&self) -> bool {
        self.blocked.is_none() && (self.target.is_some() || !self.bucket_policies.is_empty())
    }

    /// Every IAM call, as the plan screen lists them.
    pub fn call_lines(&self) -> Vec<String> {
        if !self.bucket_policies.is_empty() {
            return self.bucket_policies.iter().map(|b| b.call_line()).collect();
        }
        if self.calls.is_empty() {
            return vec![match (&self.blocked, &self.target) {
                (Some(_), Some(t)) => format!(
                    "not known: IAM could not be read; usually iam:CreatePolicy {} and attach to {}",
                    self.policy_name,
                    t.describe()
                ),
                (Some(_), None) => "none: there is no IAM user or role to attach to".to_owned(),
                (None, _) => "none: the policy is already in place and attached".to_owned(),
            }];
        }
        self.calls
            .iter()
            .map(|c| match c {
                Call::CreatePolicy => format!("iam:CreatePolicy {}", self.policy_name),
                Call::DeletePolicyVersion(v) => format!(
                    "iam:DeletePolicyVersion {} {v} (5 versions exist; {v} is the oldest non-default)",
                    self.policy_name
                ),
                Call::CreatePolicyVersion => {
                    format!("iam:CreatePolicyVersion {} (set as default)", self.policy_name)
                }
                Call::Attach(AttachTarget::User(u)) => {
                    format!("iam:AttachUserPolicy {} → user {u}", self.policy_name)
                }
                Call::Attach(AttachTarget::Role(r)) => {
                    format!("iam:AttachRolePolicy {} → role {r}", self.policy_name)
                }
            })
            .collect()
    }

    /// The plan as a Markdown hand-over for whoever owns IAM.
    pub fn export_markdown(&self) -> String {
        if !self.bucket_policies.is_empty() {
            return bucket_policy::export(
                &self.bucket_policies,
                self.endpoint.as_deref(),
                self.server.unwrap_or("this server"),
            );
        }
        let mut md = format!("# Fix S3 access for {}\n\n", self.principal.arn);
        if let Some(why) = &self.blocked {
            md.push_str(&format!("s3doctor did not apply this fix: {why}\n\n"));
        }
        for c in &self.caveats {
            md.push_str(&format!("> **Note:** {c}\n\n"));
        }
        let identity = crate::checks::Identity {
            principal: self.principal.clone(),
            user_id: None,
            confirmed: true,
        };
        md.push_str(&export::fix_markdown(
            &self.document,
            Some(&identity),
            &self.policy_name,
            self.endpoint.as_deref(),
        ));
        let e = self
            .endpoint
            .as_deref()
            .map(|e| format!(" --endpoint-url {e}"))
            .unwrap_or_default();
        for (bucket, json) in &self.owner_statements {
            md.push_str(&format!(
                "## For the administrator of the account that owns {bucket}\n\n\
                 {bucket} belongs to another account than {}. Access across accounts needs a \
                 grant on both sides: the identity policy above (in the caller's account) and \
                 these statements in the bucket policy of {bucket}, added by its owner. Merge them \
                 with the statements the policy already has:\n\n```bash\n\
                 aws s3api get-bucket-policy{e} --bucket {bucket} --query Policy --output text > {bucket}-policy.json\n\
                 # add the statements below to the \"Statement\" list of {bucket}-policy.json, then:\n\
                 aws s3api put-bucket-policy{e} --bucket {bucket} --policy file://{bucket}-policy.json\n```\n\n\
                 ```json\n{json}\n```\n\n",
                self.principal.account
            ));
        }
        md.push_str("## Verify\n\nAfter attaching, wait a few seconds (IAM is eventually consistent) and run:\n\n```bash\n");
        let mut buckets: Vec<&str> = self
            .verify
            .iter()
            .filter_map(|u| u.bucket.as_deref())
            .collect();
        buckets.dedup();
        let mut cmd = "s3doctor check".to_owned();
        for b in buckets {
            cmd.push_str(&format!(" --bucket {b}"));
        }
        if let Some(e) = &self.endpoint {
            cmd.push_str(&format!(" --endpoint-url {e}"));
        }
        md.push_str(&cmd);
        md.push_str("\n```\n");
        md
    }

    /// The person said yes. Called only by the wizard's `y` and the CLI's `--yes`.
    pub fn confirm(self) -> ConfirmedPlan {
        ConfirmedPlan(self)
    }
}

/// A plan the person confirmed: the only thing `apply` accepts.
#[derive(Debug)]
pub struct ConfirmedPlan(Plan);

impl ConfirmedPlan {
    pub fn plan(&self) -> &Plan {
        &self.0
    }
}

/// What applying changed, so that it can be undone.
#[derive(Clone, Debug, Default)]
pub struct Applied {
    pub changes: Vec<String>,
}
