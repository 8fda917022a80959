//! The remedy: a plan worked out from the findings and IAM's current state (pure data, shown
//! to the person), a `ConfirmedPlan` that only the wizard's `y` and the CLI's `--yes` can
//! make, applying it idempotently, and verifying that the failed steps now pass.

pub mod apply;
pub mod bucket_policy;
pub mod cors;
pub mod plan;
pub mod service;
pub mod trust;

use crate::arn::Principal;
use crate::engine::Row;
use crate::policy::PolicyDocument;

pub use service::{Event, Outcome, Remedy, RemedyError, RemedyOptions, VERIFY_DEADLINE};

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
    pub verify: Vec<Row>,
    /// The endpoint, for the exported CLI commands.
    pub endpoint: Option<String>,
    /// The verify command's flags after the buckets: the run's checks, keys and server
    /// (`--env-file`, `--endpoint-url`, …), so that it checks the app's keys, not the reader's.
    pub rerun_flags: String,
    /// Buckets of another account, each with the bucket-policy statements its owner must add
    /// (JSON): the export's section for that account's administrator.
    pub owner_statements: Vec<(String, String)>,
    /// On a server without IAM managed policies: the bucket-policy statements to add (then
    /// `target` is `None` and there are no IAM calls).
    pub bucket_policies: Vec<bucket_policy::BucketPlan>,
    /// The server's name when it is not AWS's IAM that is changed (`Ceph RGW`).
    pub server: Option<&'static str>,
    /// A refused role's trust policy, when the fix is a statement that trusts the caller (then
    /// `target` is `None` and the one IAM call is iam:UpdateAssumeRolePolicy).
    pub trust: Option<trust::TrustPlan>,
}

impl Plan {
    /// True when there is something to apply and nothing blocks it.
    pub fn is_applicable(&self) -> bool {
        self.blocked.is_none()
            && (self.target.is_some() || !self.bucket_policies.is_empty() || self.trust.is_some())
    }

    /// Every IAM call, as the plan screen lists them.
    pub fn call_lines(&self) -> Vec<String> {
        if let Some(trust) = &self.trust {
            return vec![trust.call_line()];
        }
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
        if let Some(trust) = &self.trust {
            return trust.export_markdown(self.endpoint.as_deref(), &self.rerun_flags);
        }
        if !self.bucket_policies.is_empty() {
            return bucket_policy::export(
                &self.bucket_policies,
                self.endpoint.as_deref(),
                &self.rerun_flags,
                self.server.unwrap_or("this server"),
            );
        }
        // A role's session is fixed on its role.
        let who = self
            .principal
            .role_arn()
            .unwrap_or_else(|| self.principal.arn.clone());
        let mut md = format!("# Fix S3 access for {who}\n\n");
        if let Some(why) = &self.blocked {
            md.push_str(&format!("s3doctor did not apply this fix: {why}\n\n"));
        }
        for c in &self.caveats {
            md.push_str(&format!("> **Note:** {c}\n\n"));
        }
        let identity = crate::checks::Identity::new(self.principal.clone(), None, true);
        md.push_str(&crate::diagnosis::handover::fix_markdown(
            &self.document,
            Some(&identity),
            &self.policy_name,
            self.endpoint.as_deref(),
        ));
        md.push_str(&self.owner_sections());
        md.push_str(&self.verify_section());
        md
    }

    /// For each bucket of another account: the statements its owner must add.
    fn owner_sections(&self) -> String {
        let e = crate::aws::endpoint_flag(self.endpoint.as_deref());
        let mut md = String::new();
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
        md
    }

    /// How to check that the fix worked, once attached.
    fn verify_section(&self) -> String {
        let mut md = String::from(
            "## Verify\n\nAfter attaching, wait a few seconds (IAM is eventually consistent) and run:\n\n```bash\n",
        );
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
        cmd.push_str(&self.rerun_flags);
        md.push_str(&cmd);
        md.push_str("\n```\n");
        md
    }

    /// The person said yes: called only by the two confirmations, the wizard's `y` on the
    /// plan screen (`tui::app`) and `fix`'s typed `y` or `--yes` (`commands::fix`). Public
    /// only because those two live in the `s3doctor` package: the test of the write sites
    /// (tests/it/write_sites.rs) fails if any other file calls it (see `ConfirmedPlan`).
    pub fn confirm(self) -> ConfirmedPlan {
        ConfirmedPlan(self)
    }
}

/// A plan the person confirmed: what every call that changes IAM or a bucket policy takes.
///
/// Only the confirmation builds one. Its field is private, so code outside the crate cannot
/// wrap a plan:
///
/// ```compile_fail
/// fn forge(plan: s3doctor_core::remedy::Plan) -> s3doctor_core::remedy::ConfirmedPlan {
///     s3doctor_core::remedy::ConfirmedPlan(plan)
/// }
/// ```
///
/// `Plan::confirm` is public because the two confirmations (the wizard's and `fix`'s) live in
/// the `s3doctor` package; the test of the write sites (tests/it/write_sites.rs) fails if
/// any other file calls it. Reading a confirmed plan is allowed, so the above fails for the
/// constructor alone:
///
/// ```
/// fn read(confirmed: &s3doctor_core::remedy::ConfirmedPlan) -> &s3doctor_core::remedy::Plan {
///     confirmed.plan()
/// }
/// ```
#[derive(Debug)]
pub struct ConfirmedPlan(Plan);

impl ConfirmedPlan {
    pub fn plan(&self) -> &Plan {
        &self.0
    }
}

/// The person's yes to undoing s3doctor's fix (`fix --undo` answered `y`, or `--yes`): what
/// every call that detaches s3doctor's policy or removes its bucket-policy statements takes.
///
/// Only that confirmation builds one. Its field is private, so code outside the crate cannot
/// make one:
///
/// ```compile_fail
/// fn forge() -> s3doctor_core::remedy::ConfirmedUndo {
///     s3doctor_core::remedy::ConfirmedUndo(())
/// }
/// ```
///
/// `ConfirmedUndo::confirm` is public because `fix` lives in the `s3doctor` package; the test
/// of the write sites fails if any other file calls it. Naming the type is allowed, so the
/// above fails for the constructor alone:
///
/// ```
/// fn pass_on(confirmed: &s3doctor_core::remedy::ConfirmedUndo) -> &s3doctor_core::remedy::ConfirmedUndo {
///     confirmed
/// }
/// ```
#[derive(Debug)]
pub struct ConfirmedUndo(());

impl ConfirmedUndo {
    /// The person said yes to the undo: called only by `fix --undo`'s confirmation
    /// (`commands::fix`), after a typed `y` or with `--yes`. Public only because `fix` lives
    /// in the `s3doctor` package: the test of the write sites fails if another file calls it.
    pub fn confirm() -> ConfirmedUndo {
        ConfirmedUndo(())
    }
}

/// The person's yes to the CORS rule `fix --origin` showed (a typed `y`, or `--yes`): what
/// every call that writes a bucket's CORS configuration takes, with the buckets and the rule
/// that were shown.
///
/// Only that confirmation builds one. Its field is private, so code outside the crate cannot
/// wrap a change:
///
/// ```compile_fail
/// fn forge(change: s3doctor_core::remedy::cors::CorsChange) -> s3doctor_core::remedy::ConfirmedCors {
///     s3doctor_core::remedy::ConfirmedCors(change)
/// }
/// ```
///
/// `CorsChange::confirm` is public because `fix` lives in the `s3doctor` package; the test of
/// the write sites fails if any other file calls it. Reading a confirmed change is allowed,
/// so the above fails for the constructor alone:
///
/// ```
/// fn read(confirmed: &s3doctor_core::remedy::ConfirmedCors) -> &s3doctor_core::remedy::cors::CorsChange {
///     confirmed.change()
/// }
/// ```
#[derive(Debug)]
pub struct ConfirmedCors(cors::CorsChange);

impl ConfirmedCors {
    pub fn change(&self) -> &cors::CorsChange {
        &self.0
    }
}

/// What applying changed, so that it can be undone.
#[derive(Clone, Debug, Default)]
pub struct Applied {
    pub changes: Vec<String>,
}
