//! Works out the plan: the policy from the findings that stand, whom to attach it to, and — by
//! reading IAM (never writing) — exactly which calls are needed to get there idempotently.

use super::{AttachTarget, Call, Plan, RemedyError, bucket_policy};
use crate::answers::codes::AwsCode;
use crate::answers::describe;
use crate::arn::{Principal, PrincipalKind};
use crate::aws::Session;
use crate::checks::{Identity, RunSettings, Status};
use crate::diagnosis::Diagnosis;
use crate::engine::{Engine, Row, StepResult};
use crate::finding::{Finding, FindingCode};
use crate::operation::Operation;
use crate::policy::{self, PolicyDocument};

/// Where the remedy gets its facts from.
pub struct Inputs<'a> {
    pub engine: &'a Engine,
    pub results: &'a [StepResult],
    /// What the run shows: the findings that stand and the policy that fixes them.
    pub diagnosis: &'a Diagnosis,
    pub identity: Option<&'a Identity>,
    /// The diagnosed session (the app's keys).
    pub session: Option<&'a Session>,
    /// `--admin-profile` session, when given and resolved.
    pub admin: Option<(&'a str, &'a Session)>,
    pub policy_name: Option<String>,
}

impl<'a> Inputs<'a> {
    /// Who makes the change, in words, and with which session.
    fn acting(&self, principal: &Principal) -> (String, Option<&'a Session>) {
        match (self.admin, self.session) {
            (Some((profile, s)), _) => (format!("--admin-profile {profile}"), Some(s)),
            (None, s) => (format!("the diagnosed credentials ({})", principal.arn), s),
        }
    }

    fn prefix(&self) -> Option<&'a str> {
        let run = self.engine.run_settings();
        run.prefix_scoped.then_some(run.prefix.as_str())
    }
}

/// Builds the plan, or says in one sentence why there is nothing to plan.
pub async fn prepare(inputs: Inputs<'_>) -> Result<Plan, RemedyError> {
    if let Some(fix) = inputs.engine.trust_fix().await {
        return trust_plan(&inputs, &fix).await;
    }
    let findings = inputs.diagnosis.findings();
    let caveats = deny_caveats(findings);
    if let Some(caps) = inputs.engine.session_info().await.endpoint
        && caps.s3_only()
    {
        return prepare_bucket_policies(&inputs, findings, caveats, caps.kind.label()).await;
    }
    let mut plan = iam_plan(&inputs, caveats)?;
    plan.blocked = iam_blocked(&inputs, &mut plan).await;
    Ok(plan)
}

/// A refused role's trust policy gets the statement that trusts the caller: read and changed
/// with `--admin-profile` (the only way the fix came to be), verified by resolving the
/// credentials again.
async fn trust_plan(
    inputs: &Inputs<'_>,
    fix: &crate::checks::TrustFix,
) -> Result<Plan, RemedyError> {
    let principal = crate::arn::parse_principal(&fix.trustee)
        .map_err(|e| RemedyError::NothingToPlan(e.to_string()))?;
    let Some((profile, admin)) = inputs.admin else {
        return Err(RemedyError::NothingToPlan(format!(
            "changing the trust policy of role {} needs --admin-profile (credentials allowed to read and change IAM)",
            fix.role_name
        )));
    };
    let trust = super::trust::TrustPlan::read(&admin.clients.iam, fix).await?;
    Ok(Plan {
        owner_statements: Vec::new(),
        policy_name: format!("trust policy of role {}", fix.role_name),
        policy_arn: fix.role_arn.clone(),
        document: trust.after.clone(),
        json: trust.after.to_pretty_json(),
        principal,
        target: None,
        calls: Vec::new(),
        acting_as: format!("--admin-profile {profile}"),
        blocked: None,
        caveats: Vec::new(),
        verify: vec![
            crate::engine::Row::global(crate::runbook::StepId::Credentials),
            crate::engine::Row::global(crate::runbook::StepId::Identity),
        ],
        endpoint: inputs.engine.settings().endpoint.clone(),
        rerun_flags: rerun_flags(inputs.engine),
        bucket_policies: Vec::new(),
        server: None,
        trust: Some(trust),
    })
}

/// Explicit denies, said plainly: a new Allow cannot fix them.
fn deny_caveats(findings: &[Finding]) -> Vec<String> {
    let fix_names_statement = crate::runbook::Runbook::embedded()
        .finding(FindingCode::ExplicitDeny)
        .is_some_and(crate::runbook::FindingText::fix_names_statement);
    findings
        .iter()
        .filter(|f| f.code == FindingCode::ExplicitDeny)
        .map(|f| {
            // The statement is named once: not again where the runbook's fix names it.
            let stmt = f
                .statement
                .as_ref()
                .filter(|_| !fix_names_statement)
                .map(|s| format!(" ({})", s.label()))
                .unwrap_or_default();
            format!(
                "{} on {} is explicitly denied{stmt}: a new Allow cannot fix that. {}",
                f.action.as_deref().unwrap_or("an action"),
                f.bucket.as_deref().unwrap_or("the bucket"),
                f.remedy
            )
        })
        .collect()
}

/// Why there is nothing to plan when no permission is missing.
fn nothing_to_add(caveats: &[String]) -> RemedyError {
    RemedyError::NothingToPlan(match caveats.first() {
        Some(c) => format!("No missing permission to add. {c}"),
        None => "No missing permission to add: the failures are not fixed by a policy (see each finding's fix)".into(),
    })
}

/// The identity-policy plan as data, before IAM is read: the document, its name, whom it is
/// attached to, and what another account's administrator must add.
fn iam_plan(inputs: &Inputs<'_>, mut caveats: Vec<String>) -> Result<Plan, RemedyError> {
    let run = inputs.engine.run_settings();
    let Some(document) = inputs.diagnosis.policy().cloned() else {
        return Err(nothing_to_add(&caveats));
    };
    policy::lint(&document).map_err(|e| RemedyError::InvalidPolicy(e.to_string()))?;
    let json =
        policy::validate(&document).map_err(|e| RemedyError::InvalidPolicy(e.to_string()))?;
    let Some(identity) = inputs.identity else {
        return Err(RemedyError::NothingToPlan("the principal is unknown (the identity step did not pass), so there is no one to attach a policy to".into()));
    };
    let principal = identity.principal.clone();
    let policy_name = inputs
        .policy_name
        .clone()
        .unwrap_or_else(|| policy::default_policy_name(&run.buckets, run.access));
    let policy_arn = principal.policy_arn(&policy_name);
    let target = match principal.kind {
        PrincipalKind::User => Some(AttachTarget::User(principal.name.clone())),
        PrincipalKind::AssumedRole | PrincipalKind::Role => {
            Some(AttachTarget::Role(principal.name.clone()))
        }
        _ => None,
    };
    let (acting_as, _) = inputs.acting(&principal);
    let owner_statements = owner_statements(
        inputs.diagnosis.findings(),
        &principal,
        run,
        inputs.prefix(),
    );
    caveats.extend(other_account_caveats(&owner_statements, &principal));
    caveats.extend(path_caveat(identity));
    Ok(Plan {
        owner_statements,
        policy_name,
        policy_arn,
        document,
        json,
        principal,
        target,
        calls: Vec::new(),
        acting_as,
        blocked: None,
        caveats,
        verify: verify_rows(inputs.engine, inputs.results),
        endpoint: inputs.engine.settings().endpoint.clone(),
        rerun_flags: rerun_flags(inputs.engine),
        bucket_policies: Vec::new(),
        server: None,
        trust: None,
    })
}

/// A session's role whose path is not known: IAM's calls name the role by its name, which
/// holds whatever its path; an ARN written for it may lack the path.
fn path_caveat(identity: &crate::checks::Identity) -> Option<String> {
    let p = &identity.principal;
    identity.role_path_unknown().then(|| {
        format!(
            "The role's path is not known (the session ARN does not carry it, and IAM could \
             not be read to learn it): the IAM calls name the role {} by its name, which works \
             whatever its path, but where an ARN is written for it ({}), take the role's ARN \
             from IAM > Roles > {} if it has a path.",
            p.name,
            identity.role_arn.as_deref().unwrap_or_default(),
            p.name
        )
    })
}

/// Whom another account's bucket policy must grant: the role for an assumed-role session.
fn grantee(principal: &Principal) -> String {
    principal
        .role_arn()
        .unwrap_or_else(|| principal.arn.clone())
}

/// Another account's bucket also needs a grant in its own bucket policy, which only that
/// account's administrator can add: handed over in the export, one entry per bucket.
fn owner_statements(
    findings: &[Finding],
    principal: &Principal,
    run: &RunSettings,
    prefix: Option<&str>,
) -> Vec<(String, String)> {
    let grantee = grantee(principal);
    let extra = run.extra_object_actions();
    let mut owner_statements: Vec<(String, String)> = Vec::new();
    for f in findings
        .iter()
        .filter(|f| f.code == FindingCode::OtherAccount)
    {
        let Some(bucket) = f.bucket.clone() else {
            continue;
        };
        if owner_statements.iter().any(|(b, _)| *b == bucket) {
            continue;
        }
        let doc = policy::cross_account_bucket_policy(&bucket, &grantee, run.access, prefix, extra);
        owner_statements.push((bucket, doc.to_pretty_json()));
    }
    owner_statements
}

fn other_account_caveats(
    owner_statements: &[(String, String)],
    principal: &Principal,
) -> Vec<String> {
    let grantee = grantee(principal);
    owner_statements
        .iter()
        .map(|(bucket, _)| {
            format!(
                "{bucket} belongs to another account: this identity policy is needed, but not enough. \
                 The administrator of the account that owns {bucket} must also grant {grantee} in \
                 its bucket policy (the statements are in the export: --export FILE, e in the wizard)."
            )
        })
        .collect()
}

/// Reads IAM to fill in the plan's calls; says why nothing can be applied, when so.
async fn iam_blocked(inputs: &Inputs<'_>, plan: &mut Plan) -> Option<String> {
    if plan.target.is_none() {
        return Some(format!(
            "{} is a {} principal, which cannot carry an IAM policy: give the app an IAM user or role, and attach the exported policy to that",
            plan.principal.arn,
            plan.principal.kind.as_str()
        ));
    }
    let (_, session) = inputs.acting(&plan.principal);
    let Some(session) = session else {
        return Some("no credentials to read or change IAM with".into());
    };
    let why = plan_calls(plan, &session.clients.iam).await.err()?;
    Some(match inputs.admin {
        Some(_) => format!("the admin profile may not do this: {why}"),
        None => format!(
            "{} may not read or change IAM ({why}). Run again with --admin-profile PROFILE (credentials allowed to change IAM), or export the fix for whoever owns IAM (--export FILE; e in the wizard)",
            plan.principal.name
        ),
    })
}

/// On a server without IAM managed policies (no STS): s3doctor's statements in each failing
/// bucket's policy (`bucket_policy`), for the principal in the server's ARN form. The current
/// policy is read first (with the admin profile, else the diagnosed keys): on RGW only the
/// bucket owner's keys can, and only they can change it. A policy that could not be read
/// blocks the plan (the export still works, asking for a merge), and the plan says whose
/// keys would make the change.
async fn prepare_bucket_policies(
    inputs: &Inputs<'_>,
    findings: &[Finding],
    caveats: Vec<String>,
    server: &'static str,
) -> Result<Plan, RemedyError> {
    let mut buckets: Vec<String> = findings
        .iter()
        .filter(|f| f.code.is_fixable_by_policy())
        .filter_map(|f| f.bucket.clone())
        .collect();
    buckets.dedup();
    if buckets.is_empty() {
        return Err(nothing_to_add(&caveats));
    }
    let Some(identity) = inputs.identity else {
        return Err(RemedyError::NothingToPlan("the principal is unknown (the identity step did not pass), so there is no one to grant access to; --expect-principal NAME names it".into()));
    };
    let principal = identity.principal.clone();
    let (_, session) = inputs.acting(&principal);
    let bucket_policies = bucket_plans(inputs, &buckets, &principal, session).await;
    let unread: Vec<String> = bucket_policies
        .iter()
        .filter_map(|p| match &p.current {
            bucket_policy::Current::Unread(why) => Some(format!("{}: {why}", p.bucket)),
            _ => None,
        })
        .collect();
    let statements: Vec<policy::Statement> = bucket_policies
        .iter()
        .flat_map(|b| b.statements.clone())
        .collect();
    // Shown as what it is: statements to merge, not a policy to put in the place of another.
    let json = serde_json::to_string_pretty(&statements)
        .map_err(|e| RemedyError::InvalidPolicy(e.to_string()))?;
    let document = PolicyDocument::new(statements);
    let blocked = (!unread.is_empty()).then(|| {
        format!(
            "the current bucket policy could not be read ({}), and s3doctor does not write a bucket policy it has not read. On {server} only the bucket owner's keys can read and change it: --admin-profile OWNER, or --export FILE for whoever owns the bucket",
            unread.join("; ")
        )
    });
    Ok(Plan {
        owner_statements: Vec::new(),
        policy_name: format!("bucket policy of {}", buckets.join(", ")),
        policy_arn: String::new(),
        document,
        json,
        acting_as: bucket_acting(inputs, &principal, &bucket_policies),
        principal,
        target: None,
        calls: Vec::new(),
        blocked,
        caveats,
        verify: verify_rows(inputs.engine, inputs.results),
        endpoint: inputs.engine.settings().endpoint.clone(),
        rerun_flags: rerun_flags(inputs.engine),
        bucket_policies,
        server: Some(server),
        trust: None,
    })
}

/// Whose keys would write the bucket policies: only the bucket owner's can. Keys that may not
/// even read a policy are not the owner's, so they are never said to make the change.
fn bucket_acting(
    inputs: &Inputs<'_>,
    principal: &Principal,
    plans: &[bucket_policy::BucketPlan],
) -> String {
    let unread: Vec<&str> = plans
        .iter()
        .filter(|p| matches!(p.current, bucket_policy::Current::Unread(_)))
        .map(|p| p.bucket.as_str())
        .collect();
    let (who, buckets) = (inputs.acting(principal).0, unread.join(", "));
    if unread.is_empty() {
        return who;
    }
    let owner = "the bucket owner's keys, which this run does not have";
    match inputs.admin {
        Some(_) => format!(
            "{owner}: {who} may not read the bucket policy of {buckets}, so it is not the owner"
        ),
        None => format!(
            "{owner} (--admin-profile OWNER): {who} may not read the bucket policy of {buckets}, so they cannot change it"
        ),
    }
}

/// s3doctor's statements for each bucket, with its policy as read now (with `session`).
async fn bucket_plans(
    inputs: &Inputs<'_>,
    buckets: &[String],
    principal: &Principal,
    session: Option<&Session>,
) -> Vec<bucket_policy::BucketPlan> {
    let run = inputs.engine.run_settings();
    let mut bucket_policies = Vec::new();
    for bucket in buckets {
        let current = match session {
            Some(s) => bucket_policy::current(&s.clients.s3, bucket).await,
            None => bucket_policy::Current::Unread("no credentials".to_owned()),
        };
        bucket_policies.push(bucket_policy::BucketPlan {
            bucket: bucket.clone(),
            principal_arn: principal.arn.clone(),
            statements: bucket_policy::statements(
                bucket,
                &principal.arn,
                &principal.name,
                run.access,
                run.read_only,
                inputs.prefix(),
            ),
            current,
        });
    }
    bucket_policies
}

/// The flags of the verify command the export prints: the same checks, keys and server as
/// this run.
fn rerun_flags(engine: &Engine) -> String {
    let settings = engine.settings();
    let region = settings
        .region
        .as_deref()
        .map(|r| format!(" --region {}", crate::aws::shell_word(r)))
        .unwrap_or_default();
    format!(
        "{}{region}{}",
        engine.run_settings().flags(),
        settings.target_flags()
    )
}

/// The failed rows a policy can fix, the warnings, and what must re-run with them.
pub(crate) fn verify_rows(engine: &Engine, results: &[StepResult]) -> Vec<Row> {
    let mut rows: Vec<Row> = Vec::new();
    // Warnings re-run too (a region that could not be read for want of
    // s3:GetBucketLocation turns green with the policy); only failures decide the verdict.
    for r in results.iter().filter(|r| {
        let fixable = r.findings.iter().any(|f| f.is_fixable_by_policy());
        (r.status == Status::Fail && fixable) || r.status == Status::Warn
    }) {
        for u in engine.rerun_set(&r.unit()) {
            if !rows.contains(&u) {
                rows.push(u);
            }
        }
    }
    rows
}

/// Reads IAM to decide the calls: reuse a policy with the same document, add a version
/// otherwise (making room at five), attach only if not attached.
async fn plan_calls(plan: &mut Plan, iam: &aws_sdk_iam::Client) -> Result<(), String> {
    match iam.get_policy().policy_arn(&plan.policy_arn).send().await {
        Ok(out) => {
            let default_version = out
                .policy()
                .and_then(|p| p.default_version_id())
                .unwrap_or("v1")
                .to_owned();
            if !has_document(plan, iam, &default_version).await? {
                if let Some(oldest) = version_to_delete(&plan.policy_arn, iam).await? {
                    plan.calls.push(Call::DeletePolicyVersion(oldest));
                }
                plan.calls.push(Call::CreatePolicyVersion);
            }
        }
        Err(e) if AwsCode::NoSuchEntity.answered(&e) => plan.calls.push(Call::CreatePolicy),
        Err(e) => return Err(describe(Operation::GetPolicy, &e)),
    }
    if !is_attached(plan, iam).await?
        && let Some(t) = plan.target.clone()
    {
        plan.calls.push(Call::Attach(t));
    }
    Ok(())
}

/// True when the policy's default version already holds the plan's document.
async fn has_document(
    plan: &Plan,
    iam: &aws_sdk_iam::Client,
    default_version: &str,
) -> Result<bool, String> {
    let current = iam
        .get_policy_version()
        .policy_arn(&plan.policy_arn)
        .version_id(default_version)
        .send()
        .await
        .map_err(|e| describe(Operation::GetPolicyVersion, &e))?;
    let current_doc = current
        .policy_version()
        .and_then(|v| v.document())
        .and_then(|d| PolicyDocument::parse(d).ok());
    Ok(current_doc.as_ref() == Some(&plan.document))
}

/// At IAM's limit of five versions, the oldest non-default one (it makes room for the new).
async fn version_to_delete(
    policy_arn: &str,
    iam: &aws_sdk_iam::Client,
) -> Result<Option<String>, String> {
    let versions = iam
        .list_policy_versions()
        .policy_arn(policy_arn)
        .send()
        .await
        .map_err(|e| describe(Operation::ListPolicyVersions, &e))?;
    if versions.versions().len() < 5 {
        return Ok(None);
    }
    let mut old: Vec<(String, Option<aws_smithy_types::DateTime>)> = versions
        .versions()
        .iter()
        .filter(|v| !v.is_default_version())
        .filter_map(|v| Some((v.version_id()?.to_owned(), v.create_date().cloned())))
        .collect();
    old.sort_by(|a, b| {
        a.1.map(|d| d.secs())
            .cmp(&b.1.map(|d| d.secs()))
            .then(version_number(&a.0).cmp(&version_number(&b.0)))
    });
    Ok(old.into_iter().next().map(|(v, _)| v))
}

/// True when the policy is attached to the plan's target (or there is no target).
async fn is_attached(plan: &Plan, iam: &aws_sdk_iam::Client) -> Result<bool, String> {
    let arn = Some(plan.policy_arn.as_str());
    Ok(match &plan.target {
        Some(AttachTarget::User(user)) => iam
            .list_attached_user_policies()
            .user_name(user)
            .send()
            .await
            .map_err(|e| describe(Operation::ListAttachedUserPolicies, &e))?
            .attached_policies()
            .iter()
            .any(|p| p.policy_arn() == arn),
        Some(AttachTarget::Role(role)) => iam
            .list_attached_role_policies()
            .role_name(role)
            .send()
            .await
            .map_err(|e| describe(Operation::ListAttachedRolePolicies, &e))?
            .attached_policies()
            .iter()
            .any(|p| p.policy_arn() == arn),
        None => true,
    })
}

fn version_number(v: &str) -> u64 {
    v.trim_start_matches('v').parse().unwrap_or(u64::MAX)
}

/// Tests: the plan for incident 1 (clipizy-dev's upload failed for want of a policy) by the
/// principal `arn`, worked out without a server: no session, so IAM is not reachable.
#[cfg(any(test, feature = "test-util"))]
pub async fn plan_for_tests(arn: &str) -> Plan {
    let run = crate::checks::RunSettings {
        buckets: vec!["clipizy-dev".into()],
        ..Default::default()
    };
    let engine = Engine::new(crate::aws::Settings::default(), run);
    let unit = Row::for_bucket(crate::runbook::StepId::PutObject, "clipizy-dev");
    assert!(engine.units().contains(&unit));
    let results = vec![StepResult::failed_for_tests(
        unit.step,
        FindingCode::PermissionMissing,
    )];
    let identity = Identity::new(crate::arn::parse_principal(arn).expect("arn"), None, true);
    let diagnosis = Diagnosis::new(results.clone(), results.len(), engine.run_settings(), None);
    prepare(Inputs {
        engine: &engine,
        results: &results,
        diagnosis: &diagnosis,
        identity: Some(&identity),
        session: None,
        admin: None,
        policy_name: None,
    })
    .await
    .expect("a plan")
}

#[cfg(test)]
mod tests {
    use super::*;

    async fn plan_for(arn: &str) -> Plan {
        super::plan_for_tests(arn).await
    }

    #[test]
    fn a_deny_caveat_names_its_statement_once() {
        let deny = crate::answers::FindingSpec {
            code: FindingCode::ExplicitDeny,
            step: crate::runbook::StepId::DeleteObject,
            facts: crate::answers::Facts {
                bucket: Some("sselfie-training-zips"),
                action: Some("s3:DeleteObject"),
                ..Default::default()
            },
            source: Some(crate::finding::DenySource::IdentityPolicy),
            statement: Some(crate::policy::StatementRef {
                policy_name: "sselfie-s3-user-policy".into(),
                sid: Some("DenyDelete".into()),
                index: Some(1),
                ..Default::default()
            }),
            evidence: None,
        }
        .build();
        assert!(deny.remedy.contains("DenyDelete"), "{}", deny.remedy);
        let RemedyError::NothingToPlan(why) = nothing_to_add(&deny_caveats(&[deny])) else {
            unreachable!("nothing_to_add says why there is nothing to plan")
        };
        assert!(why.starts_with("No missing permission to add. s3:DeleteObject on sselfie-training-zips is explicitly denied: a new Allow cannot fix that."), "{why}");
        assert_eq!(why.matches("DenyDelete").count(), 1, "{why}");
    }

    #[tokio::test]
    async fn a_root_principal_gets_an_explanation_and_the_export_not_an_attachment() {
        let plan = plan_for("arn:aws:iam::188594592347:root").await;
        assert!(plan.target.is_none());
        assert!(plan.calls.is_empty());
        let why = plan.blocked.clone().expect("blocked");
        assert!(why.contains("root"), "{why}");
        let md = plan.export_markdown();
        assert!(md.contains("s3:PutObject"), "{md}");
        assert!(
            !md.contains("attach-user-policy") && !md.contains("attach-role-policy"),
            "{md}"
        );
    }

    #[tokio::test]
    async fn a_federated_user_gets_an_explanation_too() {
        let plan = plan_for("arn:aws:sts::188594592347:federated-user/bob").await;
        assert!(plan.target.is_none());
        assert!(plan.blocked.is_some());
    }

    #[tokio::test]
    async fn an_assumed_role_is_fixed_on_its_role() {
        // No session: the plan cannot read IAM, but the target is already the role.
        let plan = plan_for("arn:aws:sts::188594592347:assumed-role/app-runner/i-0abc").await;
        assert_eq!(plan.target, Some(AttachTarget::Role("app-runner".into())));
        assert_eq!(plan.policy_name, "s3doctor-clipizy-dev-read-write");
        assert_eq!(
            plan.policy_arn,
            "arn:aws:iam::188594592347:policy/s3doctor-clipizy-dev-read-write"
        );
    }
}
