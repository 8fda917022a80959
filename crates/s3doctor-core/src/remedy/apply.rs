//! Applies a confirmed plan (the only path to IAM writes), verifies with backoff that the
//! failed steps pass, and undoes an attachment.

use std::time::{Duration, Instant};

use tokio::sync::mpsc::UnboundedSender;

use super::{Applied, AttachTarget, Call, ConfirmedPlan, ConfirmedUndo, Plan, RemedyError};
use crate::answers::codes::AwsCode;
use crate::answers::describe;
use crate::checks::Status;
use crate::engine::{Engine, EngineEvent, Row};
use crate::operation::Operation;

/// What IAM is told a policy made by s3doctor is for.
/// The tag every policy s3doctor creates carries, so that people (and `--undo`) can tell
/// it apart. A tag rather than a description: descriptions hold spaces, which emulators that
/// re-encode the form body to check signatures (moto) encode differently from the SDK.
pub const CREATED_BY_TAG: (&str, &str) = ("created-by", "s3doctor");

/// Writes a confirmed bucket-policy plan (servers without IAM managed policies), bucket by
/// bucket; stops at the first failure and says what was done.
pub async fn apply_bucket_policies(
    confirmed: ConfirmedPlan,
    s3: &aws_sdk_s3::Client,
    progress: &(dyn Fn(String) + Send + Sync),
) -> Result<Applied, RemedyError> {
    let mut applied = Applied::default();
    for plan in &confirmed.plan().bucket_policies {
        progress(format!("writing the bucket policy of {}", plan.bucket));
        match super::bucket_policy::apply(&confirmed, &plan.bucket, s3).await {
            Ok(change) => applied.changes.push(change),
            Err(why) => return Err(stopped(why.to_string(), applied)),
        }
    }
    Ok(applied)
}

/// Makes the plan's calls in order. Stops at the first failure and says what was done.
pub async fn apply(
    confirmed: ConfirmedPlan,
    iam: &aws_sdk_iam::Client,
    progress: &(dyn Fn(String) + Send + Sync),
) -> Result<Applied, RemedyError> {
    let mut applied = Applied::default();
    for call in &confirmed.plan().calls {
        progress(call_progress(confirmed.plan(), call));
        match make_call(&confirmed, call, iam).await {
            Ok(change) => applied.changes.push(change),
            Err(why) => return Err(stopped(why, applied)),
        }
    }
    Ok(applied)
}

fn stopped(why: String, applied: Applied) -> RemedyError {
    RemedyError::Stopped {
        why,
        done: applied.changes,
    }
}

/// What is being done, said before the call.
fn call_progress(plan: &Plan, call: &Call) -> String {
    let name = &plan.policy_name;
    match call {
        Call::CreatePolicy => format!("creating policy {name}"),
        Call::DeletePolicyVersion(v) => {
            format!("deleting old version {v} of {name} (5 versions is IAM's limit)")
        }
        Call::CreatePolicyVersion => format!("adding a new default version to {name}"),
        Call::Attach(AttachTarget::User(user)) => format!("attaching {name} to user {user}"),
        Call::Attach(AttachTarget::Role(role)) => format!("attaching {name} to role {role}"),
    }
}

/// One IAM call of the confirmed plan; returns what changed, in one line.
/// The document is sent without whitespace: IAM stores the same policy either way, and
/// emulators that re-encode the form body to check the signature (moto) then agree.
async fn make_call(
    confirmed: &ConfirmedPlan,
    call: &Call,
    iam: &aws_sdk_iam::Client,
) -> Result<String, String> {
    let plan = confirmed.plan();
    let arn = &plan.policy_arn;
    match call {
        Call::CreatePolicy => create_policy(confirmed, iam).await,
        Call::DeletePolicyVersion(v) => {
            iam.delete_policy_version()
                .policy_arn(arn)
                .version_id(v)
                .send()
                .await
                .map_err(|e| describe(Operation::DeletePolicyVersion, &e))?;
            Ok(format!("deleted version {v} of {arn}"))
        }
        Call::CreatePolicyVersion => {
            let out = iam
                .create_policy_version()
                .policy_arn(arn)
                .policy_document(plan.document.to_compact_json())
                .set_as_default(true)
                .send()
                .await
                .map_err(|e| describe(Operation::CreatePolicyVersion, &e))?;
            let v = out
                .policy_version()
                .and_then(|v| v.version_id())
                .unwrap_or("?");
            Ok(format!("set version {v} of {arn} as default"))
        }
        Call::Attach(target) => attach(confirmed, target, iam).await,
    }
}

/// CreatePolicy, tagged as s3doctor's.
async fn create_policy(
    confirmed: &ConfirmedPlan,
    iam: &aws_sdk_iam::Client,
) -> Result<String, String> {
    let plan = confirmed.plan();
    let tag = aws_sdk_iam::types::Tag::builder()
        .key(CREATED_BY_TAG.0)
        .value(CREATED_BY_TAG.1)
        .build()
        .map_err(|e| e.to_string())?;
    let out = iam
        .create_policy()
        .policy_name(&plan.policy_name)
        .policy_document(plan.document.to_compact_json())
        .tags(tag)
        .send()
        .await
        .map_err(|e| describe(Operation::CreatePolicy, &e))?;
    let arn = out
        .policy()
        .and_then(|p| p.arn())
        .unwrap_or(&plan.policy_arn);
    Ok(format!("created policy {arn} (v1)"))
}

/// AttachUserPolicy or AttachRolePolicy.
async fn attach(
    confirmed: &ConfirmedPlan,
    target: &AttachTarget,
    iam: &aws_sdk_iam::Client,
) -> Result<String, String> {
    let arn = &confirmed.plan().policy_arn;
    match target {
        AttachTarget::User(user) => {
            iam.attach_user_policy()
                .user_name(user)
                .policy_arn(arn)
                .send()
                .await
                .map_err(|e| describe(Operation::AttachUserPolicy, &e))?;
            Ok(format!("attached {arn} to user {user}"))
        }
        AttachTarget::Role(role) => {
            iam.attach_role_policy()
                .role_name(role)
                .policy_arn(arn)
                .send()
                .await
                .map_err(|e| describe(Operation::AttachRolePolicy, &e))?;
            Ok(format!("attached {arn} to role {role}"))
        }
    }
}

/// Re-runs `rows` with backoff until none fails or `deadline` passes (IAM is eventually
/// consistent). True when they all pass.
pub async fn verify(
    engine: &Engine,
    rows: &[Row],
    deadline: Duration,
    tx: &UnboundedSender<EngineEvent>,
    progress: &(dyn Fn(String) + Send + Sync),
) -> bool {
    let started = Instant::now();
    let mut wait = Duration::from_millis(500);
    let mut attempt = 1;
    loop {
        progress(format!(
            "verifying (attempt {attempt}): re-running {} step(s)",
            rows.len()
        ));
        engine.run(rows, tx).await;
        let results = engine.results().await;
        let failing: Vec<String> = results
            .iter()
            .filter(|r| rows.contains(&r.unit()) && r.status == Status::Fail)
            .map(|r| {
                format!(
                    "{}{}",
                    r.id,
                    r.bucket
                        .as_deref()
                        .map(|b| format!(" [{b}]"))
                        .unwrap_or_default()
                )
            })
            .collect();
        if failing.is_empty() {
            progress(format!(
                "verified after {:.1}s: the failed steps pass now",
                started.elapsed().as_secs_f64()
            ));
            return true;
        }
        if started.elapsed() + wait > deadline {
            progress(format!(
                "still failing after {}s: {}",
                started.elapsed().as_secs(),
                failing.join(", ")
            ));
            return false;
        }
        progress(format!(
            "still failing: {}; IAM may need a moment, retrying in {:.1}s",
            failing.join(", "),
            wait.as_secs_f64()
        ));
        tokio::time::sleep(wait).await;
        wait = (wait * 2).min(Duration::from_secs(8));
        attempt += 1;
    }
}

/// Detaches the policy from the principal, if attached. Returns what it did.
pub async fn undo(
    iam: &aws_sdk_iam::Client,
    target: &AttachTarget,
    policy_arn: &str,
    _confirmed: &ConfirmedUndo,
) -> Result<String, RemedyError> {
    let result = match target {
        AttachTarget::User(u) => iam
            .detach_user_policy()
            .user_name(u)
            .policy_arn(policy_arn)
            .send()
            .await
            .map(|_| ())
            .map_err(|e| {
                (
                    crate::answers::error_code(&e),
                    describe(Operation::DetachUserPolicy, &e),
                )
            }),
        AttachTarget::Role(r) => iam
            .detach_role_policy()
            .role_name(r)
            .policy_arn(policy_arn)
            .send()
            .await
            .map(|_| ())
            .map_err(|e| {
                (
                    crate::answers::error_code(&e),
                    describe(Operation::DetachRolePolicy, &e),
                )
            }),
    };
    match result {
        Ok(()) => Ok(format!("detached {policy_arn} from {}", target.describe())),
        Err((code, _)) if AwsCode::NoSuchEntity.is(code.as_deref()) => Ok(format!(
            "{policy_arn} was not attached to {}: nothing to undo",
            target.describe()
        )),
        Err((_, why)) => Err(RemedyError::Call(why)),
    }
}
