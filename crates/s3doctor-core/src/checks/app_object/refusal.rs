//! A bare 403 on the app's own object, judged. AWS said no more than "Access Denied", so the
//! cause is read elsewhere, in this order: the admin profile's reads (the key is not there,
//! or another account owns the object and its ACL grants nothing), then the policies evaluated
//! on the object's ARN (a Deny or a missing Allow scoped to the key), then, with nothing read,
//! whether the keys may list the bucket: without s3:ListBucket a missing key is a 403 too, and
//! both causes are said.

use super::{STEP, failed, object_finding};
use crate::answers::access_denied::{AccessDenied, DenySource};
use crate::answers::{self, Class, Failure, FindingSpec};
use crate::arn::PrincipalKind;
use crate::checks::object_reads::{AdminReads, Ownership};
use crate::checks::policy_sources::{cached_identity_policies, read_bucket_policy};
use crate::checks::{CheckContext, StepOutcome};
use crate::finding::{Basis, Finding, FindingCode};
use crate::policy::PolicyKind;
use crate::policy::evaluate::{Decision, Policies, Verdict};

/// The action a read of the object needs (HeadObject and GetObject alike).
const GET: &str = "s3:GetObject";

/// A bare 403 for `key`: what the admin saw, else what the policies say, else both causes.
pub(super) async fn judge(
    cx: &CheckContext,
    key: &str,
    failure: Failure,
    admin: Option<&AdminReads>,
) -> StepOutcome {
    if let Some(outcome) = admin.and_then(|a| by_admin(cx, key, &failure, a)) {
        return outcome;
    }
    match decision(cx, key).await {
        Some(d) => by_policies(cx, key, failure, &d),
        None => unread(cx, key, failure),
    }
}

/// The admin's reads decide when they show the key missing (its HeadObject: 404) or the
/// object owned by another account than the bucket's, whose ACL alone grants access.
fn by_admin(
    cx: &CheckContext,
    key: &str,
    failure: &Failure,
    admin: &AdminReads,
) -> Option<StepOutcome> {
    if admin.absent() {
        return Some(absent_per_admin(cx, key, failure, admin));
    }
    let owner = admin.other_owner()?;
    let mut finding = object_finding(cx, FindingCode::ObjectOtherOwner, failure.evidence.clone())
        .with_basis(Basis::Policies);
    let acl = match &admin.acl {
        Ok(acl) if acl.grants.is_empty() => "Its ACL grants nothing.".to_owned(),
        Ok(acl) => format!("Its ACL grants {}.", acl.grants.join(", ")),
        Err(f) => format!(
            "Its ACL is readable by its owner only ({}).",
            f.evidence.one_line()
        ),
    };
    let bucket_owner = admin
        .bucket_owner
        .as_ref()
        .map(ToString::to_string)
        .unwrap_or_default();
    finding.summary.push_str(&format!(
        " Its owner: {owner}; the bucket's: {bucket_owner} (read with the admin profile). {acl}"
    ));
    if admin.ownership == Ownership::Unknown {
        finding.remedy = format!(
            "Where the server has no Object Ownership setting (Ceph RGW and other S3-compatible servers), the object's owner ({owner}) must grant READ to the reader in the object's ACL (`aws s3api put-object-acl --bucket {} --key {} --grant-read id=READER` with the owner's keys), or the owner deletes it and the bucket owner uploads it again. On AWS: {}",
            cx.bucket(),
            crate::aws::shell_word(key),
            finding.remedy
        );
    }
    Some(failed(
        format!("{key} belongs to another account ({owner}); only its ACL can grant reading it"),
        failure.clone(),
        finding,
    ))
}

/// The admin's reads show the key is not there: the app's keys got 403 for a key that does
/// not exist, as S3 answers keys that may not list the bucket.
fn absent_per_admin(
    cx: &CheckContext,
    key: &str,
    failure: &Failure,
    admin: &AdminReads,
) -> StepOutcome {
    // AWS's own 404 as the evidence, when the admin's HeadObject got one.
    let (evidence, how) = match &admin.head {
        Err(f) if f.class == Class::KeyNotFound => (
            f.evidence.clone(),
            "the admin profile's HeadObject got the 404",
        ),
        _ => (
            failure.evidence.clone(),
            "the admin profile's listing of the bucket does not have it",
        ),
    };
    let mut finding = object_finding(cx, FindingCode::ObjectNotFound, evidence);
    if finding.basis == Basis::Inferred {
        // Known from the admin's listing, not inferred from the 403.
        finding = FindingSpec {
            code: FindingCode::ObjectNotFound,
            step: STEP,
            facts: cx.facts(Some(GET)),
            source: None,
            statement: None,
            evidence: None,
        }
        .build();
        finding.evidence = Some(failure.evidence.clone());
    }
    finding.summary.push_str(&format!(
        " Known because {how}; the app's keys got 403, as S3 answers keys that may not list the bucket (s3:ListBucket)."
    ));
    failed(
        format!("{key} does not exist ({how})"),
        failure.clone(),
        finding,
    )
}

/// The decision on s3:GetObject of the object's ARN, from the policies this run read (the
/// principal's identity policies and boundary, the bucket policy): `None` when they cannot
/// be read, or when what could not be read may still change the verdict.
async fn decision(cx: &CheckContext, key: &str) -> Option<Decision> {
    let principal = &cx.identity.as_ref()?.principal;
    let session = cx.reading_session().await?;
    let own_policies = matches!(
        principal.kind,
        PrincipalKind::User | PrincipalKind::AssumedRole | PrincipalKind::Role
    ) && !cx.capabilities().await.s3_only();
    let (identity, boundary) = if own_policies {
        cached_identity_policies(cx, &session.clients.iam, principal)
            .await
            .ok()?
    } else {
        (Vec::new(), None)
    };
    let bucket_policy = read_bucket_policy(cx, &cx.s3_with(&session), cx.bucket()).await;
    let partition = crate::checks::policies::partition(cx);
    let resource = crate::arn::object_arn(&partition, cx.bucket(), key);
    let policies = Policies {
        identity: &identity,
        resource: bucket_policy.as_ref().ok().and_then(Option::as_ref),
        boundary: boundary.as_ref(),
    };
    // From the app's network when it is given: that is where the app's read comes from,
    // with what EC2 says of its VPC endpoint.
    let _ = crate::checks::vpc_endpoint::read(cx).await;
    let judged = crate::checks::app_request::judge(cx, principal, (GET, &resource), &policies);
    let d = judged.app.unwrap_or(judged.here);
    // Only a Deny is firm without every policy read: an unread bucket policy may allow what
    // the rest does not, and so may what no policy says (the root user; the bucket owner and
    // ACL grants on a server without IAM, such as Ceph RGW).
    let firm = d.verdict == Verdict::ExplicitDeny || (bucket_policy.is_ok() && own_policies);
    firm.then_some(d)
}

/// Which kind of policy holds the statement that decides.
fn source_of(d: &Decision) -> DenySource {
    let first = d.statements.first();
    if d.blocked_by_boundary.is_some()
        || first.is_some_and(|s| s.is_in(&PolicyKind::PermissionsBoundary))
    {
        DenySource::PermissionsBoundary
    } else if first.is_some_and(|s| s.is_in(&PolicyKind::BucketPolicy)) {
        DenySource::BucketPolicy
    } else {
        DenySource::IdentityPolicy
    }
}

/// The policies' verdict on the object: a Deny or a missing Allow scoped to it, or, when they
/// allow it, a refusal from something s3doctor cannot read.
fn by_policies(cx: &CheckContext, key: &str, failure: Failure, d: &Decision) -> StepOutcome {
    let code = match d.verdict {
        Verdict::ExplicitDeny => FindingCode::ExplicitDeny,
        Verdict::ImplicitDeny => FindingCode::PermissionMissing,
        Verdict::Allowed => return allowed_yet_refused(cx, key, failure, d),
    };
    let mut finding = FindingSpec {
        code,
        step: STEP,
        facts: cx.facts(Some(GET)),
        source: Some(source_of(d)),
        statement: d.statements.first().cloned(),
        evidence: None,
    }
    .build()
    .with_basis(Basis::Policies);
    finding.evidence = Some(failure.evidence.clone());
    let how = match code {
        FindingCode::ExplicitDeny => "denied",
        _ => "not allowed",
    };
    failed(
        format!("{GET} on {key} is {how}: {}", d.summary()),
        failure,
        finding,
    )
}

/// The policies read allow the read, yet S3 refused it: what refuses is not among them (a
/// service or resource control policy, a VPC endpoint policy, a session policy, a condition).
fn allowed_yet_refused(
    cx: &CheckContext,
    key: &str,
    failure: Failure,
    d: &Decision,
) -> StepOutcome {
    let mut outcome = unread(cx, key, failure);
    let said = format!(
        " The policies s3doctor read allow {GET} on it ({}), so what refuses it is not among them: a service or resource control policy (AWS Organizations), a VPC endpoint policy, a session policy, or a condition.",
        d.summary()
    );
    for f in &mut outcome.findings {
        f.summary.push_str(&said);
    }
    outcome.detail = format!("{}; the policies read allow it", outcome.detail);
    outcome
}

/// Nothing read says why: with s3:ListBucket, a missing key would have been a 404, so the 403
/// is a refusal; without it (or not known), both are possible, and the finding says so.
fn unread(cx: &CheckContext, key: &str, failure: Failure) -> StepOutcome {
    if cx.state.listing == Some(true) {
        let finding: Finding = answers::permission_finding(
            STEP,
            &AccessDenied::default(),
            cx.facts(Some(GET)),
            failure.evidence.clone(),
        );
        return failed(
            format!("access denied: {GET} on {key} is not allowed"),
            failure,
            finding,
        );
    }
    let finding = object_finding(cx, FindingCode::ObjectNotFound, failure.evidence.clone());
    failed(
        format!(
            "S3 answered 403, and these keys may not list {}: {key} does not exist, or reading it is refused",
            cx.bucket()
        ),
        failure,
        finding,
    )
}
