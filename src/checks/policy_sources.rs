//! Reading the policies that decide, for the "why" steps: the principal's identity policies
//! and permissions boundary from IAM (a user's own, attached and group policies; a role's),
//! and a bucket's policy from S3 — each read once per run through `RunCache`.

use aws_sdk_iam::Client as Iam;

use super::CheckContext;
use crate::diagnose;
use crate::policy::{NamedPolicy, PolicyDocument, PolicyKind};

/// The bucket policy (`Ok(None)` when the bucket has none), read once per run.
pub(super) async fn read_bucket_policy(
    cx: &CheckContext,
    s3: &aws_sdk_s3::Client,
    bucket: &str,
) -> Result<Option<NamedPolicy>, String> {
    cx.cache
        .bucket_policy(bucket)
        .get_or_init(|| fetch_bucket_policy(s3, bucket))
        .await
        .clone()
}

async fn fetch_bucket_policy(
    s3: &aws_sdk_s3::Client,
    bucket: &str,
) -> Result<Option<NamedPolicy>, String> {
    match s3.get_bucket_policy().bucket(bucket).send().await {
        Ok(out) => match out.policy().map(PolicyDocument::parse) {
            Some(Ok(doc)) => Ok(Some(NamedPolicy::new(
                format!("bucket policy of {bucket}"),
                None,
                PolicyKind::BucketPolicy,
                doc,
            ))),
            Some(Err(e)) => Err(format!("the bucket policy is not valid JSON: {e}")),
            None => Ok(None),
        },
        Err(e) => {
            let f = diagnose::failure("GetBucketPolicy", &e);
            match f.evidence.error_code.as_deref() {
                Some("NoSuchBucketPolicy") => Ok(None),
                _ => Err(f.evidence.one_line()),
            }
        }
    }
}

/// A user's inline, attached and group policies, and its permissions boundary.
pub(super) async fn load_user(
    iam: &Iam,
    user: &str,
) -> Result<(Vec<NamedPolicy>, Option<NamedPolicy>), String> {
    let mut out = Vec::new();
    let names = iam
        .list_user_policies()
        .user_name(user)
        .send()
        .await
        .map_err(|e| diagnose::describe("ListUserPolicies", &e))?;
    for name in names.policy_names() {
        let got = iam
            .get_user_policy()
            .user_name(user)
            .policy_name(name)
            .send()
            .await
            .map_err(|e| diagnose::describe("GetUserPolicy", &e))?;
        if let Ok(doc) = PolicyDocument::parse(got.policy_document()) {
            out.push(NamedPolicy::new(name, None, PolicyKind::Inline, doc));
        }
    }
    let attached = iam
        .list_attached_user_policies()
        .user_name(user)
        .send()
        .await
        .map_err(|e| diagnose::describe("ListAttachedUserPolicies", &e))?;
    for a in attached.attached_policies() {
        if let Some(p) =
            managed(iam, a.policy_arn().unwrap_or_default(), PolicyKind::Managed).await?
        {
            out.push(p);
        }
    }
    let groups = iam
        .list_groups_for_user()
        .user_name(user)
        .send()
        .await
        .map_err(|e| diagnose::describe("ListGroupsForUser", &e))?;
    for g in groups.groups() {
        let group = g.group_name().to_owned();
        let names = iam
            .list_group_policies()
            .group_name(&group)
            .send()
            .await
            .map_err(|e| diagnose::describe("ListGroupPolicies", &e))?;
        for name in names.policy_names() {
            let got = iam
                .get_group_policy()
                .group_name(&group)
                .policy_name(name)
                .send()
                .await
                .map_err(|e| diagnose::describe("GetGroupPolicy", &e))?;
            if let Ok(doc) = PolicyDocument::parse(got.policy_document()) {
                let kind = PolicyKind::GroupInline {
                    group: group.clone(),
                };
                out.push(NamedPolicy::new(name, None, kind, doc));
            }
        }
        let attached = iam
            .list_attached_group_policies()
            .group_name(&group)
            .send()
            .await
            .map_err(|e| diagnose::describe("ListAttachedGroupPolicies", &e))?;
        for a in attached.attached_policies() {
            let kind = PolicyKind::GroupManaged {
                group: group.clone(),
            };
            if let Some(p) = managed(iam, a.policy_arn().unwrap_or_default(), kind).await? {
                out.push(p);
            }
        }
    }
    let boundary_arn = iam
        .get_user()
        .user_name(user)
        .send()
        .await
        .ok()
        .and_then(|u| u.user)
        .and_then(|u| u.permissions_boundary)
        .and_then(|b| b.permissions_boundary_arn);
    let boundary = match boundary_arn {
        Some(arn) => managed(iam, &arn, PolicyKind::PermissionsBoundary).await?,
        None => None,
    };
    Ok((out, boundary))
}

/// A role's inline and attached policies, and its permissions boundary.
pub(super) async fn load_role(
    iam: &Iam,
    role: &str,
) -> Result<(Vec<NamedPolicy>, Option<NamedPolicy>), String> {
    let mut out = Vec::new();
    let names = iam
        .list_role_policies()
        .role_name(role)
        .send()
        .await
        .map_err(|e| diagnose::describe("ListRolePolicies", &e))?;
    for name in names.policy_names() {
        let got = iam
            .get_role_policy()
            .role_name(role)
            .policy_name(name)
            .send()
            .await
            .map_err(|e| diagnose::describe("GetRolePolicy", &e))?;
        if let Ok(doc) = PolicyDocument::parse(got.policy_document()) {
            out.push(NamedPolicy::new(name, None, PolicyKind::Inline, doc));
        }
    }
    let attached = iam
        .list_attached_role_policies()
        .role_name(role)
        .send()
        .await
        .map_err(|e| diagnose::describe("ListAttachedRolePolicies", &e))?;
    for a in attached.attached_policies() {
        if let Some(p) =
            managed(iam, a.policy_arn().unwrap_or_default(), PolicyKind::Managed).await?
        {
            out.push(p);
        }
    }
    let boundary_arn = iam
        .get_role()
        .role_name(role)
        .send()
        .await
        .ok()
        .and_then(|r| r.role)
        .and_then(|r| r.permissions_boundary)
        .and_then(|b| b.permissions_boundary_arn);
    let boundary = match boundary_arn {
        Some(arn) => managed(iam, &arn, PolicyKind::PermissionsBoundary).await?,
        None => None,
    };
    Ok((out, boundary))
}

/// The default version of a managed policy.
async fn managed(iam: &Iam, arn: &str, kind: PolicyKind) -> Result<Option<NamedPolicy>, String> {
    let policy = iam
        .get_policy()
        .policy_arn(arn)
        .send()
        .await
        .map_err(|e| diagnose::describe("GetPolicy", &e))?;
    let Some(policy) = policy.policy() else {
        return Ok(None);
    };
    let version = iam
        .get_policy_version()
        .policy_arn(arn)
        .version_id(policy.default_version_id().unwrap_or("v1"))
        .send()
        .await
        .map_err(|e| diagnose::describe("GetPolicyVersion", &e))?;
    let doc = version
        .policy_version()
        .and_then(|v| v.document())
        .and_then(|d| PolicyDocument::parse(d).ok());
    Ok(doc.map(|d| {
        NamedPolicy::new(
            policy.policy_name().unwrap_or(arn),
            Some(arn.to_owned()),
            kind,
            d,
        )
    }))
}
