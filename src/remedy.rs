//! The remedy: a plan worked out from the findings and IAM's current state (pure data, shown
//! to the person), a `ConfirmedPlan` that only the wizard's `y` and the CLI's `--yes` can
//! make, applying it idempotently, and verifying that the failed steps now pass.

pub mod apply;
pub mod bucket_policy;
pub mod cors;
pub mod plan;
pub mod service;

use crate::arn::Principal;
use crate::engine::Unit;
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
    pub verify: Vec<Unit>,
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
    /// plan screen (`tui::app`) and `fix`'s typed `y` or `--yes` (`commands::fix`). Not
    /// `pub`: no code outside s3doctor can confirm a plan (see `ConfirmedPlan`).
    pub(crate) fn confirm(self) -> ConfirmedPlan {
        ConfirmedPlan(self)
    }
}

/// A plan the person confirmed: what every call that changes IAM or a bucket policy takes.
///
/// Only the confirmation builds one. Its field is private and `Plan::confirm` is not
/// public, so code outside the crate can neither wrap a plan:
///
/// ```compile_fail
/// fn forge(plan: s3doctor::remedy::Plan) -> s3doctor::remedy::ConfirmedPlan {
///     s3doctor::remedy::ConfirmedPlan(plan)
/// }
/// ```
///
/// nor confirm one itself:
///
/// ```compile_fail
/// fn forge(plan: s3doctor::remedy::Plan) -> s3doctor::remedy::ConfirmedPlan {
///     plan.confirm()
/// }
/// ```
///
/// while reading a confirmed plan is allowed, so the two above fail for the constructor alone:
///
/// ```
/// fn read(confirmed: &s3doctor::remedy::ConfirmedPlan) -> &s3doctor::remedy::Plan {
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
/// Only that confirmation builds one. Its field is private and `confirm` is not public, so
/// code outside the crate can neither make one:
///
/// ```compile_fail
/// fn forge() -> s3doctor::remedy::ConfirmedUndo {
///     s3doctor::remedy::ConfirmedUndo(())
/// }
/// ```
///
/// nor confirm one itself:
///
/// ```compile_fail
/// fn forge() -> s3doctor::remedy::ConfirmedUndo {
///     s3doctor::remedy::ConfirmedUndo::confirm()
/// }
/// ```
///
/// while naming the type is allowed, so the two above fail for the constructor alone:
///
/// ```
/// fn pass_on(confirmed: &s3doctor::remedy::ConfirmedUndo) -> &s3doctor::remedy::ConfirmedUndo {
///     confirmed
/// }
/// ```
#[derive(Debug)]
pub struct ConfirmedUndo(());

impl ConfirmedUndo {
    /// The person said yes to the undo: called only by `fix --undo`'s confirmation
    /// (`commands::fix`), after a typed `y` or with `--yes`.
    pub(crate) fn confirm() -> ConfirmedUndo {
        ConfirmedUndo(())
    }
}

/// What applying changed, so that it can be undone.
#[derive(Clone, Debug, Default)]
pub struct Applied {
    pub changes: Vec<String>,
}

/// Guards of the one safety rule, read from the source: whatever changes IAM or a bucket
/// policy takes a `ConfirmedPlan` (an undo: a `ConfirmedUndo`), and only the confirmations
/// make one.
#[cfg(test)]
mod tests {
    use std::path::Path;

    /// The calls that grant access: IAM policy writes and attachments, and bucket-policy writes.
    const GRANTS: &[&str] = &[
        ".create_policy()",
        ".create_policy_version()",
        ".delete_policy_version()",
        ".attach_user_policy()",
        ".attach_role_policy()",
        ".put_user_policy()",
        ".put_role_policy()",
        ".put_bucket_policy()",
    ];

    /// The calls that take access away again: what `--undo` does.
    const REMOVALS: &[&str] = &[
        ".detach_user_policy()",
        ".detach_role_policy()",
        ".delete_bucket_policy()",
    ];

    /// Every `.rs` file under `src/` (path relative to the crate), without its test module
    /// and without comment lines.
    fn sources() -> Vec<(String, Vec<String>)> {
        fn walk(dir: &Path, root: &Path, out: &mut Vec<(String, Vec<String>)>) {
            for entry in std::fs::read_dir(dir).expect("src is readable") {
                let path = entry.expect("a directory entry").path();
                if path.is_dir() {
                    walk(&path, root, out);
                } else if path.extension().is_some_and(|e| e == "rs") {
                    let text = std::fs::read_to_string(&path).expect("a source file");
                    let code = text.split("#[cfg(test)]").next().unwrap_or_default();
                    let lines = code
                        .lines()
                        .map(|l| {
                            if l.trim_start().starts_with("//") {
                                String::new()
                            } else {
                                l.to_owned()
                            }
                        })
                        .collect();
                    let rel = path.strip_prefix(root).expect("under the crate");
                    out.push((rel.to_string_lossy().replace('\\', "/"), lines));
                }
            }
        }
        let root = Path::new(env!("CARGO_MANIFEST_DIR"));
        let mut out = Vec::new();
        walk(&root.join("src"), root, &mut out);
        out
    }

    /// The function line `at` is in: its name and its signature (up to the body's `{`).
    fn enclosing_fn(lines: &[String], at: usize) -> Option<(String, String)> {
        let start = (0..=at).rev().find(|&i| fn_name(&lines[i]).is_some())?;
        let name = fn_name(&lines[start])?;
        let mut signature = String::new();
        for line in &lines[start..=at] {
            signature.push_str(line);
            if line.trim_end().ends_with('{') {
                break;
            }
        }
        Some((name, signature))
    }

    fn fn_name(line: &str) -> Option<String> {
        let mut rest = line.trim_start();
        for word in ["pub(crate) ", "pub(super) ", "pub ", "async "] {
            rest = rest.strip_prefix(word).unwrap_or(rest);
        }
        let rest = rest.strip_prefix("fn ")?;
        let end = rest.find(|c: char| !(c.is_alphanumeric() || c == '_'))?;
        Some(rest[..end].to_owned())
    }

    #[test]
    fn every_call_that_grants_access_takes_a_confirmed_plan() {
        let mut checked = Vec::new();
        for (path, lines) in sources() {
            // The demo's seeding builds its own incidents in throwaway users and buckets.
            if path.starts_with("src/gallery/") {
                continue;
            }
            for (i, line) in lines.iter().enumerate() {
                let calls = GRANTS.iter().chain(REMOVALS);
                for call in calls.filter(|c| line.contains(**c)) {
                    let (name, signature) = enclosing_fn(&lines, i)
                        .unwrap_or_else(|| panic!("{path}:{}: {call} outside a fn", i + 1));
                    // `--undo` removes only s3doctor's own statements (rewriting the bucket
                    // policy without them); it is confirmed on its own.
                    let confirmation = if name == "undo" {
                        "ConfirmedUndo"
                    } else {
                        "ConfirmedPlan"
                    };
                    assert!(
                        signature.contains(confirmation),
                        "{path}:{}: {call} in fn {name}, which takes no {confirmation}",
                        i + 1
                    );
                    checked.push(format!("{path} {name} {call}"));
                }
            }
        }
        // Every grant and removal of the remedy was seen (so the scan still finds them): six
        // grants, and the undo's two detaches and two bucket-policy writes.
        assert_eq!(checked.len(), 10, "{checked:#?}");
    }

    /// The files that contain `pattern` outside comments and tests, with how often.
    fn sites_of(pattern: &str) -> Vec<(String, usize)> {
        let mut sites: Vec<(String, usize)> = sources()
            .into_iter()
            .map(|(path, lines)| {
                let n = lines.iter().map(|l| l.matches(pattern).count()).sum();
                (path, n)
            })
            .filter(|(_, n)| *n > 0)
            .collect();
        sites.sort();
        sites
    }

    #[test]
    fn only_the_wizard_and_fix_confirm_a_plan() {
        assert_eq!(
            sites_of(".confirm()"),
            [
                ("src/commands/fix.rs".to_owned(), 1),
                ("src/tui/app.rs".to_owned(), 1)
            ]
        );
    }

    #[test]
    fn only_fix_undo_confirms_an_undo() {
        assert_eq!(
            sites_of("ConfirmedUndo::confirm"),
            [("src/commands/fix.rs".to_owned(), 1)]
        );
    }
}
