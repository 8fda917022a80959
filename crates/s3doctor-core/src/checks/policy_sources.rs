//! Reading the policies that decide, for the "why" steps: the principal's identity policies
//! and permissions boundary from IAM (a user's own, attached and group policies; a role's),
//! and a bucket's policy from S3 — each read once per run through `RunCache`.

use aws_sdk_iam::Client as Iam;
use aws_sdk_iam::types::AttachedPolicy;
use futures::future::join_all;
use futures::join;

use aws_sdk_iam::error::ProvideErrorMetadata;
use aws_smithy_runtime_api::client::orchestrator::HttpResponse;
use aws_smithy_runtime_api::client::result::SdkError;

use super::{CheckContext, LoadedPolicies};
use crate::answers;
use crate::answers::codes::AwsCode;
use crate::arn::{Principal, PrincipalKind};
use crate::finding::Evidence;
use crate::operation::Operation;
use crate::policy::{NamedPolicy, PolicyDocument, PolicyKind};

/// Why policies could not be read. `Display` is the one line the steps show (AWS's answer,
/// as [`answers::describe`] gives it).
#[derive(Clone, Debug, PartialEq, Eq, thiserror::Error)]
pub enum PolicyReadError {
    /// An IAM or S3 call was refused or failed: what AWS answered.
    #[error("{}", .0.one_line())]
    Refused(Evidence),
    /// The bucket policy S3 returned is not a policy document.
    #[error("the bucket policy is not valid JSON: {0}")]
    NotJson(String),
}

impl PolicyReadError {
    fn call<E>(operation: Operation, err: &SdkError<E, HttpResponse>) -> Self
    where
        E: ProvideErrorMetadata + std::error::Error + Send + Sync + 'static,
    {
        PolicyReadError::Refused(answers::failure(operation, err).evidence)
    }

    /// The authorization id of AWS's newer access-denied messages, when the refusal had one.
    pub fn authorization_id(&self) -> Option<&str> {
        match self {
            PolicyReadError::Refused(evidence) => evidence.authorization_id.as_deref(),
            PolicyReadError::NotJson(_) => None,
        }
    }
}

/// The bucket policy (`Ok(None)` when the bucket has none), read once per run.
pub(super) async fn read_bucket_policy(
    cx: &CheckContext,
    s3: &aws_sdk_s3::Client,
    bucket: &str,
) -> Result<Option<NamedPolicy>, PolicyReadError> {
    cx.cache
        .bucket_policy(bucket)
        .get_or_init(|| fetch_bucket_policy(s3, bucket))
        .await
        .clone()
}

async fn fetch_bucket_policy(
    s3: &aws_sdk_s3::Client,
    bucket: &str,
) -> Result<Option<NamedPolicy>, PolicyReadError> {
    match s3.get_bucket_policy().bucket(bucket).send().await {
        Ok(out) => match out.policy().map(PolicyDocument::parse) {
            Some(Ok(doc)) => Ok(Some(NamedPolicy::new(
                format!("bucket policy of {bucket}"),
                None,
                PolicyKind::BucketPolicy,
                doc,
            ))),
            Some(Err(e)) => Err(PolicyReadError::NotJson(e.to_string())),
            None => Ok(None),
        },
        Err(e) => {
            let f = answers::failure(Operation::GetBucketPolicy, &e);
            let code = f.evidence.error_code.as_deref();
            if AwsCode::NoSuchBucketPolicy.is(code) {
                Ok(None)
            } else {
                Err(PolicyReadError::Refused(f.evidence))
            }
        }
    }
}

/// The principal's identity policies and permissions boundary through the run's cache: read
/// once per run, whichever step (identity-policies, kms-key) asks first.
pub(super) async fn cached_identity_policies(
    cx: &CheckContext,
    iam: &aws_sdk_iam::Client,
    principal: &Principal,
) -> LoadedPolicies {
    cx.cache
        .identity_policies
        .get_or_init(|| async {
            match principal.kind {
                PrincipalKind::User => load_user(iam, &principal.name).await,
                _ => load_role(iam, &principal.name, &cx.cache.role_arn).await,
            }
        })
        .await
        .clone()
}

/// A user's inline, attached and group policies, and its permissions boundary. The first list
/// alone tells whether IAM may be read at all; then every read starts at once (not one after
/// the other: that took a round trip per policy), and the answers are taken in the order they
/// were read before, so the same policies, in the same order, and the same first error result.
pub(super) async fn load_user(
    iam: &Iam,
    user: &str,
) -> Result<(Vec<NamedPolicy>, Option<NamedPolicy>), PolicyReadError> {
    let names = iam
        .list_user_policies()
        .user_name(user)
        .send()
        .await
        .map_err(|e| PolicyReadError::call(Operation::ListUserPolicies, &e))?;
    let inline = join_all(names.policy_names().iter().map(|name| async move {
        let got = iam
            .get_user_policy()
            .user_name(user)
            .policy_name(name)
            .send()
            .await
            .map_err(|e| PolicyReadError::call(Operation::GetUserPolicy, &e))?;
        Ok(inline_policy(
            name,
            got.policy_document(),
            PolicyKind::Inline,
        ))
    }));
    let attached = async {
        let attached = iam
            .list_attached_user_policies()
            .user_name(user)
            .send()
            .await
            .map_err(|e| PolicyReadError::call(Operation::ListAttachedUserPolicies, &e))?;
        all_managed(iam, attached.attached_policies(), || PolicyKind::Managed).await
    };
    let boundary_arn = async {
        iam.get_user()
            .user_name(user)
            .send()
            .await
            .ok()
            .and_then(|u| u.user)
            .and_then(|u| u.permissions_boundary)
            .and_then(|b| b.permissions_boundary_arn)
    };
    let (inline, attached, groups, boundary) = join!(
        inline,
        attached,
        group_policies(iam, user),
        boundary(iam, boundary_arn)
    );
    let mut out = collect(inline)?;
    out.extend(attached?);
    out.extend(groups?);
    Ok((out, boundary?))
}

/// The inline and attached policies of every group the user is in, all read at once.
async fn group_policies(iam: &Iam, user: &str) -> Result<Vec<NamedPolicy>, PolicyReadError> {
    let groups = iam
        .list_groups_for_user()
        .user_name(user)
        .send()
        .await
        .map_err(|e| PolicyReadError::call(Operation::ListGroupsForUser, &e))?;
    let per_group = join_all(groups.groups().iter().map(|g| group(iam, g.group_name())));
    let mut out = Vec::new();
    for policies in per_group.await {
        out.extend(policies?);
    }
    Ok(out)
}

/// One group's inline policies, then its attached ones.
async fn group(iam: &Iam, group: &str) -> Result<Vec<NamedPolicy>, PolicyReadError> {
    let kind = || PolicyKind::GroupInline {
        group: group.to_owned(),
    };
    let inline = async {
        let names = iam
            .list_group_policies()
            .group_name(group)
            .send()
            .await
            .map_err(|e| PolicyReadError::call(Operation::ListGroupPolicies, &e))?;
        collect(
            join_all(names.policy_names().iter().map(|name| async move {
                let got = iam
                    .get_group_policy()
                    .group_name(group)
                    .policy_name(name)
                    .send()
                    .await
                    .map_err(|e| PolicyReadError::call(Operation::GetGroupPolicy, &e))?;
                Ok(inline_policy(name, got.policy_document(), kind()))
            }))
            .await,
        )
    };
    let attached = async {
        let attached = iam
            .list_attached_group_policies()
            .group_name(group)
            .send()
            .await
            .map_err(|e| PolicyReadError::call(Operation::ListAttachedGroupPolicies, &e))?;
        all_managed(iam, attached.attached_policies(), || {
            PolicyKind::GroupManaged {
                group: group.to_owned(),
            }
        })
        .await
    };
    let (inline, attached) = join!(inline, attached);
    let mut out = inline?;
    out.extend(attached?);
    Ok(out)
}

/// A role's inline and attached policies, and its permissions boundary; read as a user's are
/// (the first list alone, then the rest at once). The role's full ARN (with its path), which
/// the same GetRole answers, goes into `arn`.
pub(super) async fn load_role(
    iam: &Iam,
    role: &str,
    arn: &std::sync::OnceLock<String>,
) -> Result<(Vec<NamedPolicy>, Option<NamedPolicy>), PolicyReadError> {
    let names = iam
        .list_role_policies()
        .role_name(role)
        .send()
        .await
        .map_err(|e| PolicyReadError::call(Operation::ListRolePolicies, &e))?;
    let inline = join_all(names.policy_names().iter().map(|name| async move {
        let got = iam
            .get_role_policy()
            .role_name(role)
            .policy_name(name)
            .send()
            .await
            .map_err(|e| PolicyReadError::call(Operation::GetRolePolicy, &e))?;
        Ok(inline_policy(
            name,
            got.policy_document(),
            PolicyKind::Inline,
        ))
    }));
    let attached = async {
        let attached = iam
            .list_attached_role_policies()
            .role_name(role)
            .send()
            .await
            .map_err(|e| PolicyReadError::call(Operation::ListAttachedRolePolicies, &e))?;
        all_managed(iam, attached.attached_policies(), || PolicyKind::Managed).await
    };
    let boundary_arn = async {
        let role = iam.get_role().role_name(role).send().await.ok()?.role?;
        let _ = arn.set(role.arn);
        role.permissions_boundary?.permissions_boundary_arn
    };
    let (inline, attached, boundary) = join!(inline, attached, boundary(iam, boundary_arn));
    let mut out = collect(inline)?;
    out.extend(attached?);
    Ok((out, boundary?))
}

/// An inline policy document (URL-encoded JSON, as IAM returns it); `None` when it does not parse.
fn inline_policy(name: &str, document: &str, kind: PolicyKind) -> Option<NamedPolicy> {
    PolicyDocument::parse(document)
        .ok()
        .map(|doc| NamedPolicy::new(name, None, kind, doc))
}

/// The policies read, in the order asked, or the first error in that order.
fn collect(
    read: Vec<Result<Option<NamedPolicy>, PolicyReadError>>,
) -> Result<Vec<NamedPolicy>, PolicyReadError> {
    let mut out = Vec::new();
    for policy in read {
        out.extend(policy?);
    }
    Ok(out)
}

/// Every attached managed policy's default version, read at once.
async fn all_managed(
    iam: &Iam,
    attached: &[AttachedPolicy],
    kind: impl Fn() -> PolicyKind,
) -> Result<Vec<NamedPolicy>, PolicyReadError> {
    let kind = &kind;
    collect(
        join_all(
            attached
                .iter()
                .map(|a| managed(iam, a.policy_arn().unwrap_or_default(), kind())),
        )
        .await,
    )
}

/// The permissions boundary, when the user or role has one (its ARN read alongside the rest).
async fn boundary(
    iam: &Iam,
    arn: impl Future<Output = Option<String>>,
) -> Result<Option<NamedPolicy>, PolicyReadError> {
    match arn.await {
        Some(arn) => managed(iam, &arn, PolicyKind::PermissionsBoundary).await,
        None => Ok(None),
    }
}

/// The default version of a managed policy.
async fn managed(
    iam: &Iam,
    arn: &str,
    kind: PolicyKind,
) -> Result<Option<NamedPolicy>, PolicyReadError> {
    let policy = iam
        .get_policy()
        .policy_arn(arn)
        .send()
        .await
        .map_err(|e| PolicyReadError::call(Operation::GetPolicy, &e))?;
    let Some(policy) = policy.policy() else {
        return Ok(None);
    };
    let version = iam
        .get_policy_version()
        .policy_arn(arn)
        .version_id(policy.default_version_id().unwrap_or("v1"))
        .send()
        .await
        .map_err(|e| PolicyReadError::call(Operation::GetPolicyVersion, &e))?;
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

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_refusal_reads_as_aws_answer_and_keeps_its_authorization_id() {
        // IAM User Guide, "Troubleshoot access denied error messages": the newer messages end
        // with the authorization id.
        let message = "User: arn:aws:iam::123456789012:user/janedoe is not authorized to perform: iam:ListUserPolicies on resource: user janedoe because no identity-based policy allows the iam:ListUserPolicies action. Go to https://us-east-1.console.aws.amazon.com/iam/home?region=us-east-1#/authorization-details/EXAMPLE1a2b3c4d5e6f7g8h9i0j for complete details, or call the GetRequestAuthorizationDetails API with the following authorization id: EXAMPLE1a2b3c4d5e6f7g8h9i0j";
        let evidence = Evidence {
            operation: "ListUserPolicies".into(),
            http_status: Some(403),
            error_code: Some("AccessDenied".into()),
            message: Some(message.into()),
            authorization_id: crate::answers::access_denied::authorization_id(message),
            ..Evidence::default()
        };
        let err = PolicyReadError::Refused(evidence.clone());
        assert_eq!(err.to_string(), evidence.one_line());
        assert_eq!(err.authorization_id(), Some("EXAMPLE1a2b3c4d5e6f7g8h9i0j"));
        let not_json = PolicyReadError::NotJson("expected value".into());
        assert_eq!(
            not_json.to_string(),
            "the bucket policy is not valid JSON: expected value"
        );
        assert_eq!(not_json.authorization_id(), None);
    }
}
