//! A refused AssumeRole's trust policy, read with `--admin-profile` (iam:GetRole) and judged
//! (`policy::trust`): which statement trusts whom, which condition fails, or that none names
//! the caller; the finding then says so from the policies, and, when the fix is a statement
//! that trusts the caller, the remedy gets it as a fact ([`TrustFix`]).

use std::sync::Arc;

use super::policy_sources::{load_role, load_user};
use super::{CheckContext, Fact, StepOutcome};
use crate::answers;
use crate::arn::{self, PrincipalKind};
use crate::credentials::Refusal;
use crate::finding::{Basis, FindingCode};
use crate::operation::Operation;
use crate::policy::trust::{self, Judgement, TrustAsk, Verdict};
use crate::policy::{NamedPolicy, PolicyDocument, Statement};

/// The statement that lets the caller assume the role: what `fix` adds to its trust policy.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct TrustFix {
    pub role_arn: String,
    pub role_name: String,
    /// Whom it trusts (the user, or a session's role).
    pub trustee: String,
    pub statement: Statement,
}

/// Reads and judges the refused role's trust policy with the admin profile, and rewrites the
/// refusal's finding from it (basis: policies). Nothing without `--admin-profile`, or when AWS
/// did not say who asked.
pub(super) async fn explain_refusal(
    cx: &CheckContext,
    refusal: &Refusal,
    outcome: &mut StepOutcome,
) {
    let Some(Ok(admin)) = cx.admin_session().await else {
        return;
    };
    let iam = &admin.clients.iam;
    let read = read_trust(iam, refusal).await;
    let Some(finding) = outcome
        .findings
        .iter_mut()
        .find(|f| f.code == FindingCode::AssumeRoleRefused)
    else {
        return;
    };
    let (judgement, ask) = match read {
        Ok(Read::Judged(read)) => *read,
        Ok(Read::OtherArn(real)) => {
            finding.summary.push_str(&format!(
                " Read with --admin-profile (iam:GetRole): the role's ARN is {real}, so {} names \
                 no role: its path is missing (a session's ARN never carries it), and STS \
                 refuses an ARN without it whatever the trust policy says.",
                refusal.role_arn
            ));
            finding.remedy = format!(
                "Assume the role by its real ARN: --role-arn {real} (or role_arn = {real} in the \
                 profile), then run s3doctor again: if that is refused too, the trust policy is \
                 read and judged."
            );
            finding.basis = Basis::Policies;
            return;
        }
        Err(why) => {
            finding.summary.push_str(&format!(
                " The trust policy could not be read with --admin-profile: {why}."
            ));
            return;
        }
    };
    let (what, fix) = judgement.explain(&ask);
    finding.summary.push_str(&format!(
        " Read from the trust policy (iam:GetRole with --admin-profile): {what}"
    ));
    finding.remedy = fix;
    finding.basis = Basis::Policies;
    finding.statement = deciding(&judgement.verdict);
    if let Some(statement) = judgement.to_add {
        outcome.facts.push(Fact::TrustFix(Arc::new(TrustFix {
            role_name: role_name(&ask.role_arn),
            role_arn: ask.role_arn.clone(),
            trustee: ask.trustee().to_owned(),
            statement,
        })));
    }
}

/// The statement the verdict turns on, when there is one.
fn deciding(verdict: &Verdict) -> Option<crate::policy::StatementRef> {
    match verdict {
        Verdict::Denied(s) | Verdict::Trusted(s) | Verdict::Delegated { statement: s, .. } => {
            Some(s.clone())
        }
        Verdict::ConditionFails(refs) | Verdict::DependsOn(refs) => refs.first().cloned(),
        Verdict::NotNamed => None,
    }
}

fn role_name(role_arn: &str) -> String {
    role_arn.rsplit('/').next().unwrap_or(role_arn).to_owned()
}

/// What the admin profile read of a refused role.
enum Read {
    /// The trust policy, judged for the caller.
    Judged(Box<(Judgement, TrustAsk)>),
    /// IAM names the role by another ARN (with a path the refused one lacks).
    OtherArn(String),
}

/// GetRole's trust policy, the caller as a trust policy names it, and the judgement (with the
/// caller's own policies when the trust policy leaves it to them); or the role's real ARN when
/// the one refused is not it.
async fn read_trust(iam: &aws_sdk_iam::Client, refusal: &Refusal) -> Result<Read, String> {
    if !refusal.caller_from_aws {
        return Err("AWS's answer did not say who asked".into());
    }
    let (document, real) = trust_document(iam, &role_name(&refusal.role_arn)).await?;
    if let Some(real) = real.filter(|real| other_path(real, &refusal.role_arn)) {
        return Ok(Read::OtherArn(real));
    }
    let caller = arn::parse_principal(&refusal.caller).map_err(|e| e.to_string())?;
    let caller_role_arn = match caller.kind {
        PrincipalKind::AssumedRole => Some(role_arn_of(iam, &caller).await),
        _ => None,
    };
    let ask = TrustAsk {
        caller_arn: refusal.caller.clone(),
        caller_role_arn,
        role_arn: refusal.role_arn.clone(),
        action: refusal.operation.action().to_owned(),
        external_id: refusal.external_id.clone(),
        session_name: refusal.session_name.clone(),
        secure: true,
    };
    let policy = trust::named(&refusal.role_arn, &document);
    let mut judgement = trust::judge(&policy, &ask, None);
    if matches!(judgement.verdict, Verdict::Delegated { .. }) {
        let own = callers_policies(iam, &caller).await;
        judgement = trust::judge(&policy, &ask, own.as_deref());
    }
    Ok(Read::Judged(Box::new((judgement, ask))))
}

/// True when `real` (IAM's ARN of the role) and `asked` name the same account's role by name
/// but differ: the path asked is not the role's.
fn other_path(real: &str, asked: &str) -> bool {
    match (arn::parse_principal(real), arn::parse_principal(asked)) {
        (Ok(r), Ok(a)) => r.account == a.account && r.name == a.name && r.path != a.path,
        _ => false,
    }
}

/// The role's trust policy and its ARN, as GetRole answers them.
async fn trust_document(
    iam: &aws_sdk_iam::Client,
    role: &str,
) -> Result<(PolicyDocument, Option<String>), String> {
    let out = iam
        .get_role()
        .role_name(role)
        .send()
        .await
        .map_err(|e| answers::describe(Operation::GetRole, &e))?;
    let text = out
        .role()
        .and_then(|r| r.assume_role_policy_document())
        .ok_or("the role has no trust policy")?;
    let document =
        PolicyDocument::parse(text).map_err(|e| format!("its trust policy does not parse: {e}"))?;
    Ok((document, out.role().map(|r| r.arn().to_owned())))
}

/// A session's role's ARN with its path (GetRole), else as the session names it.
async fn role_arn_of(iam: &aws_sdk_iam::Client, session: &arn::Principal) -> String {
    let fallback = session.role_arn().unwrap_or_else(|| session.arn.clone());
    match iam.get_role().role_name(&session.name).send().await {
        Ok(out) => out.role().map(|r| r.arn().to_owned()).unwrap_or(fallback),
        Err(_) => fallback,
    }
}

/// The caller's own identity policies, when IAM gives them.
async fn callers_policies(
    iam: &aws_sdk_iam::Client,
    caller: &arn::Principal,
) -> Option<Vec<NamedPolicy>> {
    let loaded = match caller.kind {
        PrincipalKind::User => load_user(iam, &caller.name).await,
        PrincipalKind::AssumedRole | PrincipalKind::Role => {
            load_role(iam, &caller.name, &std::sync::OnceLock::new()).await
        }
        _ => return None,
    };
    loaded.ok().map(|(policies, _)| policies)
}
