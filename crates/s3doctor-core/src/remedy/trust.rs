//! The remedy for a role whose trust policy does not trust the caller: the statement to add
//! (`policy::trust`), shown with the role's current trust policy and the IAM call, applied only
//! with a [`ConfirmedPlan`] (iam:UpdateAssumeRolePolicy with the current statements and the new
//! one, re-read just before writing), verified by resolving the credentials again, and undone
//! by removing s3doctor's statements (Sid `S3doctorTrust…`) with a [`ConfirmedUndo`].

use super::{Applied, ConfirmedPlan, ConfirmedUndo, RemedyError};
use crate::answers;
use crate::checks::TrustFix;
use crate::operation::Operation;
use crate::policy::PolicyDocument;
use crate::policy::trust::{with_statement, without_s3doctor_statements};

/// What the trust fix will do, as shown before anything changes.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct TrustPlan {
    pub fix: TrustFix,
    /// The statement, as JSON (what the plan screen and the export show).
    pub statement_json: String,
    /// The trust policy as it will be written (read when planning).
    pub after: PolicyDocument,
}

impl TrustPlan {
    /// Reads the role's trust policy (with the acting credentials) and plans the new one.
    pub async fn read(iam: &aws_sdk_iam::Client, fix: &TrustFix) -> Result<TrustPlan, RemedyError> {
        let before = current(iam, &fix.role_name).await?;
        Ok(TrustPlan {
            statement_json: serde_json::to_string_pretty(&fix.statement).unwrap_or_default(),
            after: with_statement(&before, fix.statement.clone()),
            fix: fix.clone(),
        })
    }

    /// The one IAM call, in words.
    pub fn call_line(&self) -> String {
        format!(
            "iam:UpdateAssumeRolePolicy {}: adds statement {} (trusts {})",
            self.fix.role_name,
            self.fix.statement.sid.as_deref().unwrap_or_default(),
            self.fix.trustee
        )
    }

    /// The hand-over for whoever owns IAM: console steps, the CLI command, the JSON.
    pub fn export_markdown(&self, endpoint: Option<&str>, rerun: &str) -> String {
        let role = &self.fix.role_name;
        let flag = crate::aws::endpoint_flag(endpoint);
        let after = self.after.to_pretty_json();
        format!(
            "# Let {who} assume {arn}\n\n\
             The trust policy of role `{role}` does not trust `{who}`, so STS refuses its AssumeRole.\n\n\
             ## The statement to add\n\n```json\n{stmt}\n```\n\n\
             ## Option 1: AWS console\n\n\
             1. IAM → Roles → `{role}` → **Trust relationships** → **Edit trust policy**.\n\
             2. Add the statement above to `Statement`, **Update policy**.\n\n\
             ## Option 2: AWS CLI\n\n\
             Save the trust policy below as `trust.json`, then:\n\n\
             ```sh\naws iam update-assume-role-policy{flag} --role-name {role} --policy-document file://trust.json\n```\n\n\
             ```json\n{after}\n```\n\n\
             ## Check\n\n```sh\ns3doctor check{rerun}\n```\n",
            who = self.fix.trustee,
            arn = self.fix.role_arn,
            stmt = self.statement_json,
        )
    }
}

/// The role's trust policy as it is now.
async fn current(iam: &aws_sdk_iam::Client, role: &str) -> Result<PolicyDocument, RemedyError> {
    let out = iam
        .get_role()
        .role_name(role)
        .send()
        .await
        .map_err(|e| RemedyError::Call(answers::describe(Operation::GetRole, &e)))?;
    let text = out
        .role()
        .and_then(|r| r.assume_role_policy_document())
        .ok_or_else(|| RemedyError::Call(format!("role {role} has no trust policy")))?;
    PolicyDocument::parse(text)
        .map_err(|e| RemedyError::Call(format!("the trust policy of {role} does not parse: {e}")))
}

/// Adds the confirmed plan's statement to the role's trust policy as it is now (re-read, so
/// that a change made since the plan is kept).
pub async fn apply(
    confirmed: &ConfirmedPlan,
    iam: &aws_sdk_iam::Client,
    progress: &(dyn Fn(String) + Send + Sync),
) -> Result<Applied, RemedyError> {
    let Some(plan) = &confirmed.plan().trust else {
        return Ok(Applied::default());
    };
    let role = &plan.fix.role_name;
    progress(format!("reading the trust policy of role {role}"));
    let now = current(iam, role).await?;
    let after = with_statement(&now, plan.fix.statement.clone());
    progress(plan.call_line());
    iam.update_assume_role_policy()
        .role_name(role)
        .policy_document(after.to_compact_json())
        .send()
        .await
        .map_err(|e| RemedyError::Call(answers::describe(Operation::UpdateAssumeRolePolicy, &e)))?;
    Ok(Applied {
        changes: vec![format!(
            "trust policy of role {role}: added statement {} (trusts {})",
            plan.fix.statement.sid.as_deref().unwrap_or_default(),
            plan.fix.trustee
        )],
    })
}

/// Removes s3doctor's statements from the role's trust policy (the rest is written back as it
/// is); says so when there are none.
pub async fn undo(
    iam: &aws_sdk_iam::Client,
    role: &str,
    _confirmed: &ConfirmedUndo,
) -> Result<String, RemedyError> {
    let now = current(iam, role).await?;
    let (rest, removed) = without_s3doctor_statements(&now);
    if removed == 0 {
        return Ok(format!(
            "the trust policy of role {role} has no statement of s3doctor's: nothing to undo"
        ));
    }
    iam.update_assume_role_policy()
        .role_name(role)
        .policy_document(rest.to_compact_json())
        .send()
        .await
        .map_err(|e| RemedyError::Call(answers::describe(Operation::UpdateAssumeRolePolicy, &e)))?;
    Ok(format!(
        "trust policy of role {role}: removed s3doctor's statement ({removed})"
    ))
}
