//! Works out the plan: the policy from the findings, whom to attach it to, and — by reading
//! IAM (never writing) — exactly which calls are needed to get there idempotently.

use super::{AttachTarget, Call, Plan, bucket_policy};
use crate::arn::PrincipalKind;
use crate::aws::Session;
use crate::checks::{Identity, Status};
use crate::diagnose::{describe, error_code};
use crate::engine::{Engine, StepResult, Unit};
use crate::finding::FindingCode;
use crate::policy::{self, PolicyDocument};
use crate::report;

/// Where the remedy gets its facts from.
pub struct Inputs<'a> {
    pub engine: &'a Engine,
    pub results: &'a [StepResult],
    pub identity: Option<&'a Identity>,
    /// The diagnosed session (the app's keys).
    pub session: Option<&'a Session>,
    /// `--admin-profile` session, when given and resolved.
    pub admin: Option<(&'a str, &'a Session)>,
    pub policy_name: Option<String>,
}

/// Builds the plan, or says in one sentence why there is nothing to plan.
pub async fn prepare(inputs: Inputs<'_>) -> Result<Plan, String> {
    let run = inputs.engine.run_settings();
    let findings = report::dedupe(
        inputs
            .results
            .iter()
            .flat_map(|r| r.findings.iter().cloned()),
    );
    let caveats: Vec<String> = findings
        .iter()
        .filter(|f| f.code == FindingCode::ExplicitDeny)
        .map(|f| {
            let stmt = f
                .statement
                .as_ref()
                .map(|s| format!(" ({})", s.label()))
                .unwrap_or_default();
            format!(
                "{} on {} is explicitly denied{stmt}: a new Allow cannot fix that. {}",
                f.action.as_deref().unwrap_or("an action"),
                f.bucket.as_deref().unwrap_or("the bucket"),
                f.remedy
            )
        })
        .collect();
    if let Some(caps) = inputs.engine.session_info().await.endpoint
        && caps.s3_only()
    {
        return prepare_bucket_policies(&inputs, &findings, caveats, caps.kind.label()).await;
    }
    let prefix = run.prefix_scoped.then_some(run.prefix.as_str());
    let Some(document) = report::policy_for(&findings, run.access, prefix) else {
        return Err(match caveats.first() {
            Some(c) => format!("no missing permission to add. {c}"),
            None => "no missing permission to add: the failures are not fixed by a policy (see each finding's fix)".into(),
        });
    };
    policy::lint(&document).map_err(|e| e.to_string())?;
    let json = policy::validate(&document).map_err(|e| e.to_string())?;
    let Some(identity) = inputs.identity else {
        return Err("the principal is unknown (the identity step did not pass), so there is no one to attach a policy to".into());
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
    let verify = verify_rows(inputs.engine, inputs.results);
    let (acting_as, session) = match (inputs.admin, inputs.session) {
        (Some((profile, s)), _) => (format!("--admin-profile {profile}"), Some(s)),
        (None, s) => (format!("the diagnosed credentials ({})", principal.arn), s),
    };
    // Another account's bucket also needs a grant in its own bucket policy, which only that
    // account's administrator can add: handed over in the export.
    let grantee = principal
        .role_arn()
        .unwrap_or_else(|| principal.arn.clone());
    let extra: &[&str] = if run.multipart && !run.read_only {
        &policy::MULTIPART_ACTIONS
    } else {
        &[]
    };
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
    let mut caveats = caveats;
    for (bucket, _) in &owner_statements {
        caveats.push(format!(
            "{bucket} belongs to another account: this identity policy is needed, but not enough. \
             The administrator of the account that owns {bucket} must also grant {grantee} in \
             its bucket policy (the statements are in the export: --export FILE, e in the wizard)."
        ));
    }
    let mut plan = Plan {
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
        verify,
        endpoint: inputs.engine.settings().endpoint.clone(),
        bucket_policies: Vec::new(),
        server: None,
    };
    if plan.target.is_none() {
        plan.blocked = Some(format!(
            "{} is a {} principal, which cannot carry an IAM policy: give the app an IAM user or role, and attach the exported policy to that",
            plan.principal.arn,
            plan.principal.kind.as_str()
        ));
        return Ok(plan);
    }
    let Some(session) = session else {
        plan.blocked = Some("no credentials to read or change IAM with".into());
        return Ok(plan);
    };
    if let Err(why) = plan_calls(&mut plan, &session.clients.iam).await {
        plan.blocked = Some(match inputs.admin {
            Some(_) => format!("the admin profile may not do this: {why}"),
            None => format!(
                "{} may not read or change IAM ({why}). Run again with --admin-profile PROFILE (credentials allowed to change IAM), or export the fix for whoever owns IAM (--export FILE; e in the wizard)",
                plan.principal.name
            ),
        });
    }
    Ok(plan)
}

/// On a server without IAM managed policies (no STS): s3doctor's statements in each failing
/// bucket's policy (`bucket_policy`), for the principal in the server's ARN form. Reading the
/// current policy (to say how many statements are kept) needs the bucket owner's keys on RGW;
/// without them the plan is blocked and the export still works.
async fn prepare_bucket_policies(
    inputs: &Inputs<'_>,
    findings: &[crate::finding::Finding],
    caveats: Vec<String>,
    server: &'static str,
) -> Result<Plan, String> {
    let run = inputs.engine.run_settings();
    let mut buckets: Vec<String> = findings
        .iter()
        .filter(|f| f.code.is_fixable_by_policy())
        .filter_map(|f| f.bucket.clone())
        .collect();
    buckets.dedup();
    if buckets.is_empty() {
        return Err(match caveats.first() {
            Some(c) => format!("no missing permission to add. {c}"),
            None => "no missing permission to add: the failures are not fixed by a policy (see each finding's fix)".into(),
        });
    }
    let Some(identity) = inputs.identity else {
        return Err("the principal is unknown (the identity step did not pass), so there is no one to grant access to; --expect-principal NAME names it".into());
    };
    let principal = identity.principal.clone();
    let prefix = run.prefix_scoped.then_some(run.prefix.as_str());
    let (acting_as, session) = match (inputs.admin, inputs.session) {
        (Some((profile, s)), _) => (format!("--admin-profile {profile}"), Some(s)),
        (None, s) => (format!("the diagnosed credentials ({})", principal.arn), s),
    };
    let mut bucket_policies = Vec::new();
    let mut unreadable = Vec::new();
    for bucket in &buckets {
        let existing = match session {
            Some(s) => bucket_policy::read(&s.clients.s3, bucket)
                .await
                .and_then(|c| c.as_deref().map(bucket_policy::count).transpose()),
            None => Err("no credentials".to_owned()),
        };
        let existing = existing.unwrap_or_else(|why| {
            unreadable.push(format!("{bucket}: {why}"));
            None
        });
        bucket_policies.push(bucket_policy::BucketPlan {
            bucket: bucket.clone(),
            principal_arn: principal.arn.clone(),
            statements: bucket_policy::statements(
                bucket,
                &principal.arn,
                &principal.name,
                run.access,
                run.read_only,
                prefix,
            ),
            existing: existing.unwrap_or(0),
        });
    }
    let all: Vec<serde_json::Value> = bucket_policies
        .iter()
        .flat_map(|b| b.statements.clone())
        .collect();
    let json = serde_json::to_string_pretty(
        &serde_json::json!({"Version": "2012-10-17", "Statement": all}),
    )
    .map_err(|e| e.to_string())?;
    let document = PolicyDocument::parse(&json).map_err(|e| e.to_string())?;
    let blocked = (!unreadable.is_empty()).then(|| {
        format!(
            "the bucket policy cannot be read with {acting_as} ({}). On {server} the bucket owner's keys can: --admin-profile OWNER, or --export FILE for whoever owns the bucket",
            unreadable.join("; ")
        )
    });
    Ok(Plan {
        owner_statements: Vec::new(),
        policy_name: format!("bucket policy of {}", buckets.join(", ")),
        policy_arn: String::new(),
        document,
        json,
        principal,
        target: None,
        calls: Vec::new(),
        acting_as,
        blocked,
        caveats,
        verify: verify_rows(inputs.engine, inputs.results),
        endpoint: inputs.engine.settings().endpoint.clone(),
        bucket_policies,
        server: Some(server),
    })
}

/// The failed rows a policy can fix, the warnings, and what must re-run with them.
pub(crate) fn verify_rows(engine: &Engine, results: &[StepResult]) -> Vec<Unit> {
    let mut rows: Vec<Unit> = Vec::new();
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
            let current = iam
                .get_policy_version()
                .policy_arn(&plan.policy_arn)
                .version_id(&default_version)
                .send()
                .await
                .map_err(|e| describe("GetPolicyVersion", &e))?;
            let current_doc = current
                .policy_version()
                .and_then(|v| v.document())
                .and_then(|d| PolicyDocument::parse(d).ok());
            if current_doc.as_ref() != Some(&plan.document) {
                let versions = iam
                    .list_policy_versions()
                    .policy_arn(&plan.policy_arn)
                    .send()
                    .await
                    .map_err(|e| describe("ListPolicyVersions", &e))?;
                let mut old: Vec<(String, Option<aws_smithy_types::DateTime>)> = versions
                    .versions()
                    .iter()
                    .filter(|v| !v.is_default_version())
                    .filter_map(|v| Some((v.version_id()?.to_owned(), v.create_date().cloned())))
                    .collect();
                if versions.versions().len() >= 5 {
                    old.sort_by(|a, b| {
                        a.1.map(|d| d.secs())
                            .cmp(&b.1.map(|d| d.secs()))
                            .then(version_number(&a.0).cmp(&version_number(&b.0)))
                    });
                    if let Some((oldest, _)) = old.first() {
                        plan.calls.push(Call::DeletePolicyVersion(oldest.clone()));
                    }
                }
                plan.calls.push(Call::CreatePolicyVersion);
            }
        }
        Err(e) if error_code(&e).as_deref() == Some("NoSuchEntity") => {
            plan.calls.push(Call::CreatePolicy)
        }
        Err(e) => return Err(describe("GetPolicy", &e)),
    }
    let attached = match &plan.target {
        Some(AttachTarget::User(user)) => iam
            .list_attached_user_policies()
            .user_name(user)
            .send()
            .await
            .map_err(|e| describe("ListAttachedUserPolicies", &e))?
            .attached_policies()
            .iter()
            .any(|p| p.policy_arn() == Some(plan.policy_arn.as_str())),
        Some(AttachTarget::Role(role)) => iam
            .list_attached_role_policies()
            .role_name(role)
            .send()
            .await
            .map_err(|e| describe("ListAttachedRolePolicies", &e))?
            .attached_policies()
            .iter()
            .any(|p| p.policy_arn() == Some(plan.policy_arn.as_str())),
        None => true,
    };
    if !attached && let Some(t) = plan.target.clone() {
        plan.calls.push(Call::Attach(t));
    }
    Ok(())
}

fn version_number(v: &str) -> u64 {
    v.trim_start_matches('v').parse().unwrap_or(u64::MAX)
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::aws;
    use crate::checks::RunSettings;
    use crate::diagnose::{Facts, FindingSpec};

    /// A run of incident 1 as the engine leaves it: the upload failed for want of a policy.
    fn failed_upload(engine: &Engine) -> Vec<StepResult> {
        let finding = FindingSpec {
            code: FindingCode::PermissionMissing,
            step: crate::runbook::StepId::PutObject,
            facts: Facts {
                bucket: Some("clipizy-dev"),
                action: Some("s3:PutObject"),
                ..Facts::default()
            },
            source: None,
            statement: None,
            evidence: None,
        }
        .build();
        let unit = Unit::for_bucket(crate::runbook::StepId::PutObject, "clipizy-dev");
        assert!(engine.units().contains(&unit));
        vec![StepResult {
            id: unit.step,
            bucket: unit.bucket,
            status: Status::Fail,
            elapsed_ms: 1,
            detail: "access denied".into(),
            evidence: None,
            findings: vec![finding],
            blocking: false,
            ran: true,
        }]
    }

    async fn plan_for(arn: &str) -> Plan {
        let run = RunSettings {
            buckets: vec!["clipizy-dev".into()],
            ..RunSettings::default()
        };
        let engine = Engine::new(aws::Settings::default(), run);
        let results = failed_upload(&engine);
        let identity = Identity {
            principal: crate::arn::parse_principal(arn).expect("arn"),
            user_id: None,
            confirmed: true,
        };
        prepare(Inputs {
            engine: &engine,
            results: &results,
            identity: Some(&identity),
            session: None,
            admin: None,
            policy_name: None,
        })
        .await
        .expect("a plan")
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
