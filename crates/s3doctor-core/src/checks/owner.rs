//! Whose bucket is it? S3 tells a bucket of another account apart when asked: a request with
//! `ExpectedBucketOwner` set to the caller's account is refused (403) when another account
//! owns the bucket, and ListBuckets lists every bucket of the caller's account. Access across
//! accounts needs two grants, so the finding carries both: the bucket-policy statement for the
//! owner's administrator and the identity policy for the caller's side.

use super::CheckContext;
use crate::finding::{Finding, FindingCode, Severity};
use crate::policy;
use crate::runbook::StepId;

/// The `bucket.other-account` finding when S3 says another account owns the bucket; `None`
/// when it is the caller's own, or when nothing can tell.
pub(super) async fn foreign(cx: &CheckContext) -> Option<Finding> {
    let identity = cx.identity.as_ref()?;
    let account = identity.principal.account.clone();
    if account.is_empty() {
        return None;
    }
    // The download asked already (with ExpectedBucketOwner): no call of its own.
    match &cx.state.owner {
        Some(Ok(())) => return None,
        Some(Err(other)) => return Some(finding(cx, &identity.principal, &other.0)),
        None => {}
    }
    let session = cx.session.as_ref()?;
    let s3 = cx.s3_with(session);
    let bucket = cx.bucket();
    let forbidden = |status: Option<u16>| status == Some(403);
    let how = match s3
        .head_bucket()
        .bucket(bucket)
        .expected_bucket_owner(&account)
        .send()
        .await
    {
        Ok(_) => return None,
        Err(err) if !forbidden(err.raw_response().map(|r| r.status().as_u16())) => return None,
        Err(_) if s3.head_bucket().bucket(bucket).send().await.is_ok() => {
            format!("HeadBucket is served, and refused (403) with ExpectedBucketOwner {account}")
        }
        // HeadBucket is refused either way (no s3:ListBucket, or a server that refuses it
        // to everyone): a listing tells the same, when it is allowed.
        Err(_) => match s3
            .list_objects_v2()
            .bucket(bucket)
            .max_keys(1)
            .expected_bucket_owner(&account)
            .send()
            .await
        {
            Ok(_) => return None,
            Err(err)
                if forbidden(err.raw_response().map(|r| r.status().as_u16()))
                    && s3
                        .list_objects_v2()
                        .bucket(bucket)
                        .max_keys(1)
                        .send()
                        .await
                        .is_ok() =>
            {
                format!(
                    "ListObjectsV2 is served, and refused (403) with ExpectedBucketOwner {account}"
                )
            }
            Err(_) => listed_elsewhere(cx, &account).await?,
        },
    };
    Some(finding(cx, &identity.principal, &how))
}

/// ListBuckets names every bucket of the caller's account: a bucket that is not among them
/// belongs to another account. Read with the app's keys, or the admin profile's when it is
/// of the same account.
async fn listed_elsewhere(cx: &CheckContext, account: &str) -> Option<String> {
    let mut sessions = Vec::new();
    if let Some(s) = cx.session.clone() {
        sessions.push(s);
    }
    // The admin profile's list tells only about its own account: used only when that is
    // the caller's.
    if let Some(Ok(admin)) = cx.admin_session().await
        && admin
            .clients
            .sts
            .get_caller_identity()
            .send()
            .await
            .ok()
            .and_then(|o| o.account().map(str::to_owned))
            .as_deref()
            == Some(account)
    {
        sessions.push(admin);
    }
    for session in sessions {
        let Ok(out) = cx.s3_with(&session).list_buckets().send().await else {
            continue;
        };
        let names: Vec<&str> = out.buckets().iter().filter_map(|b| b.name()).collect();
        if out.continuation_token().is_some() {
            return None;
        }
        return (!names.contains(&cx.bucket()))
            .then(|| format!("ListBuckets of account {account} does not list it"));
    }
    None
}

fn finding(cx: &CheckContext, principal: &crate::arn::Principal, how: &str) -> Finding {
    let run = &cx.run;
    let bucket = cx.bucket();
    let grantee = principal
        .role_arn()
        .unwrap_or_else(|| principal.arn.clone());
    let prefix = run.prefix_scoped.then_some(run.prefix.as_str());
    let extra = run.extra_object_actions();
    let bucket_side =
        policy::cross_account_bucket_policy(bucket, &grantee, run.access, prefix, extra)
            .to_pretty_json();
    let caller_side = policy::generate_with(
        &principal.partition,
        &[bucket.to_owned()],
        run.access,
        prefix,
        extra,
    )
    .to_pretty_json();
    let mut f = crate::answers::FindingSpec {
        code: FindingCode::OtherAccount,
        step: StepId::BucketPolicy,
        facts: cx.facts(None),
        source: None,
        statement: None,
        evidence: None,
    }
    .build();
    f.summary = format!("{} ({how}).", f.summary.trim_end_matches('.'));
    f.remedy = format!(
        "{}\n\n1. In the account that owns {bucket}: add these statements to its bucket policy \
         (merged with the statements it has):\n{bucket_side}\n\n2. In account {} (the caller's): \
         attach this identity policy to {grantee}:\n{caller_side}",
        f.remedy, principal.account
    );
    if let Some(note) = cx.identity.as_ref().and_then(|i| path_note(i, &grantee)) {
        f.remedy.push_str(&note);
    }
    // Another account's bucket is not an error by itself: the refusals it causes are.
    f.severity = Severity::Warning;
    f
}

/// For a session's role whose path is not known: the grantee written in the bucket policy may
/// not be the role's ARN, and a bucket policy naming no principal is refused.
fn path_note(identity: &super::Identity, grantee: &str) -> Option<String> {
    let p = &identity.principal;
    identity.role_path_unknown().then(|| {
        format!(
            "\n\n{grantee} is the role as its session names it ({}): if the role has a path, \
             write its ARN from IAM > Roles > {} instead, or S3 refuses the bucket policy as \
             naming no principal.",
            crate::arn::PATH_NOT_KNOWN,
            p.name
        )
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_bucket_policy_for_a_sessions_role_says_when_its_path_is_not_known() {
        let session =
            crate::arn::parse_principal("arn:aws:sts::123456789012:assumed-role/app/w").unwrap();
        let mut identity = super::super::Identity::new(session, None, true);
        let role = "arn:aws:iam::123456789012:role/app";
        let note = path_note(&identity, role).expect("a note");
        assert!(
            note.contains(&format!(
                "{role} is the role as its session names it (path not known: the session ARN \
                 does not carry it): if the role has a path, write its ARN from IAM > Roles > app"
            )),
            "{note}"
        );
        identity.learn_role_arn("arn:aws:iam::123456789012:role/svc/app");
        assert_eq!(
            path_note(&identity, "arn:aws:iam::123456789012:role/svc/app"),
            None
        );
        let user = crate::arn::parse_principal("arn:aws:iam::123456789012:user/u").unwrap();
        let user = super::super::Identity::new(user, None, true);
        assert_eq!(path_note(&user, "arn:aws:iam::123456789012:user/u"), None);
    }
}
