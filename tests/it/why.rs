//! The "why" steps against the emulator: which policy and which statement deny access,
//! read with `--admin-profile`, and said plainly when the app's keys cannot read them.

use serde_json::{Value, json};

use crate::peer::{Keys, Peer, READ_WRITE, Run, codes, detail, finding, s3_allow, status};

async fn check(peer: &Peer, keys: &Keys, bucket: &str, admin: bool) -> (i32, Value) {
    let mut run = Run::new(&["check", "--format", "json", "--bucket", bucket])
        .keys(peer, keys)
        .profiles(&[("admin", &peer.admin)]);
    if admin {
        run = run.arg("--admin-profile").arg("admin");
    }
    let out = run.output().await;
    (out.code, out.json())
}

#[tokio::test]
async fn incident_2_the_delete_is_traced_to_the_deny_statement_in_the_users_policy() {
    let peer = Peer::get();
    let bucket = peer.bucket("us-east-1").await;
    let policy = crate::peer::incident_2_policy(&bucket);
    let user = peer.user(Some(policy)).await;

    let (code, report) = check(&peer, &user, &bucket, true).await;

    assert_eq!(code, 1);
    // Uploads work; the delete is blocked by the user's own policy, statement named.
    assert_eq!(status(&report, "put-object", Some(&bucket)), "pass");
    assert_eq!(status(&report, "identity-policies", Some(&bucket)), "fail");
    let deny = finding(&report, "permission.explicit-deny", Some("s3:DeleteObject"));
    assert_eq!(deny["source"], "identity-policy");
    assert_eq!(deny["statement"]["sid"], "DenyDelete");
    assert_eq!(deny["statement"]["policy_name"], "app");
    assert!(
        deny["remedy"]
            .as_str()
            .unwrap_or_default()
            .contains("DenyDelete"),
        "{deny:#}"
    );
    // The live evidence of the refused delete stays with it.
    assert_eq!(deny["evidence"]["operation"], "DeleteObject");
    // Nothing to add for uploads: no missing permission, no policy to attach.
    assert!(
        !codes(&report).contains(&"permission.missing".to_owned()),
        "{:?}",
        codes(&report)
    );
    assert_eq!(report["policy"], Value::Null);
    // With an admin at hand, s3doctor removes its own probe that the app may not delete.
    assert!(peer.keys(&bucket).await.is_empty());
    assert!(!codes(&report).contains(&"probe.left-behind".to_owned()));
}

#[tokio::test]
async fn a_bucket_policy_that_denies_delete_is_traced_to_its_sid() {
    let peer = Peer::get();
    let bucket = peer.bucket("us-east-1").await;
    let user = peer.user(Some(s3_allow(&[&bucket], READ_WRITE))).await;
    let bucket_policy = json!({"Version": "2012-10-17", "Statement": [
        {"Sid": "NoDeletes", "Effect": "Deny",
         "Principal": {"AWS": format!("arn:aws:iam::123456789012:user/{}", user.name)},
         "Action": "s3:DeleteObject", "Resource": format!("arn:aws:s3:::{bucket}/*")}]});
    peer.s3("us-east-1")
        .put_bucket_policy()
        .bucket(&bucket)
        .policy(bucket_policy.to_string())
        .send()
        .await
        .expect("put bucket policy");

    let (code, report) = check(&peer, &user, &bucket, true).await;

    assert_eq!(code, 1);
    assert_eq!(status(&report, "bucket-policy", Some(&bucket)), "fail");
    let deny = finding(&report, "permission.explicit-deny", Some("s3:DeleteObject"));
    assert_eq!(deny["source"], "bucket-policy");
    assert_eq!(deny["statement"]["sid"], "NoDeletes");
    // Named the way a person says it, not "of policy bucket policy of B".
    let summary = deny["summary"].as_str().expect("summary");
    assert!(
        summary.contains(&format!(
            "statement \"NoDeletes\" of the bucket policy of {bucket}"
        )),
        "{summary}"
    );
    assert!(!summary.contains("policy bucket policy"), "{summary}");
    // The user's own policies allow everything: that step passes.
    assert_eq!(status(&report, "identity-policies", Some(&bucket)), "pass");
    assert_eq!(report["policy"], Value::Null);
}

#[tokio::test]
async fn policies_are_unreadable_with_the_apps_keys_and_readable_with_an_admin_profile() {
    let peer = Peer::get();
    let bucket = peer.bucket("us-east-1").await;
    let user = peer.user(None).await;

    let (_, report) = check(&peer, &user, &bucket, false).await;
    assert_eq!(status(&report, "identity-policies", Some(&bucket)), "skip");
    let why = detail(&report, "identity-policies", Some(&bucket));
    assert!(why.contains("--admin-profile"), "{why}");
    assert!(why.contains("AccessDenied"), "{why}");
    assert_eq!(status(&report, "bucket-policy", Some(&bucket)), "skip");
    // Unreadable is not a failure of the app's access: no finding comes from these steps.
    assert!(
        report["findings"]
            .as_array()
            .expect("findings")
            .iter()
            .all(|f| f["step"] != "identity-policies" && f["step"] != "bucket-policy"),
        "{report:#}"
    );

    let (_, report) = check(&peer, &user, &bucket, true).await;
    assert_eq!(status(&report, "identity-policies", Some(&bucket)), "fail");
    assert_eq!(status(&report, "bucket-policy", Some(&bucket)), "pass");
    let put = finding(&report, "permission.missing", Some("s3:PutObject"));
    assert_eq!(put["source"], "identity-policy");
    // s3doctor read the policies: its words, not AWS's (AWS answered a bare Access Denied).
    assert_eq!(put["basis"], "policies");
    let summary = put["summary"].as_str().expect("summary");
    assert!(!summary.contains("AWS says"), "{summary}");
    assert!(summary.contains("Read from the policies"), "{summary}");
    // The evaluation also finds what the live steps could not reach (get and delete).
    finding(&report, "permission.missing", Some("s3:DeleteObject"));
    let read = detail(&report, "identity-policies", Some(&bucket));
    assert!(read.contains("0 policies"), "{read}");
    // The emulator cannot simulate: the step says it fell back to the local evaluator.
    assert!(read.contains("evaluated locally"), "{read}");
}

#[tokio::test]
async fn the_principals_policies_are_read_once_per_run_not_once_per_bucket() {
    let peer = Peer::get();
    let buckets = [
        peer.bucket("us-east-1").await,
        peer.bucket("us-east-1").await,
        peer.bucket("us-east-1").await,
    ];
    let user = peer
        .user(Some(s3_allow(
            &[&buckets[0], &buckets[1], &buckets[2]],
            READ_WRITE,
        )))
        .await;
    let run = Run::new(&["check", "--format", "json", "--bucket", &buckets.join(",")])
        .keys(&peer, &user)
        .profiles(&[("admin", &peer.admin)])
        .arg("--admin-profile")
        .arg("admin")
        .arg("--log");
    let log = run.file("debug.log");
    let out = run.arg(&log.display().to_string()).output().await;

    assert_eq!(out.code, 0, "{}", out.stderr);
    let log = out.read("debug.log");
    let calls = |op: &str| {
        log.lines()
            .filter(|l| l.contains(&format!("operation=\"{op}\"")))
            .count()
    };
    assert_eq!(calls("ListUserPolicies"), 1, "{log}");
    assert_eq!(calls("GetCallerIdentity"), 1, "{log}");
    // Each bucket still gets its own bucket policy read.
    assert_eq!(calls("GetBucketPolicy"), 3, "{log}");
    // Profile credentials leave no key id in the log either.
    assert!(!log.contains(&peer.admin.id) && !log.contains(&peer.admin.secret));
    assert!(!log.contains(&user.id) && !log.contains(&user.secret));
}

#[tokio::test]
async fn the_bucket_settings_that_refuse_requests_are_read_with_the_admin_profile() {
    let peer = Peer::get();
    let bucket = peer.bucket("us-east-1").await;
    let user = peer.user(Some(s3_allow(&[&bucket], READ_WRITE))).await;
    let s3 = peer.s3("us-east-1");
    s3.put_public_access_block()
        .bucket(&bucket)
        .public_access_block_configuration(
            aws_sdk_s3::types::PublicAccessBlockConfiguration::builder()
                .block_public_acls(true)
                .ignore_public_acls(true)
                .block_public_policy(true)
                .restrict_public_buckets(true)
                .build(),
        )
        .send()
        .await
        .expect("put public access block");
    s3.put_bucket_ownership_controls()
        .bucket(&bucket)
        .ownership_controls(
            aws_sdk_s3::types::OwnershipControls::builder()
                .rules(
                    aws_sdk_s3::types::OwnershipControlsRule::builder()
                        .object_ownership(aws_sdk_s3::types::ObjectOwnership::BucketOwnerEnforced)
                        .build()
                        .expect("rule"),
                )
                .build()
                .expect("controls"),
        )
        .send()
        .await
        .expect("put ownership controls");

    let out = Run::new(&[
        "check", "--format", "json", "--bucket", &bucket, "--access", "full",
    ])
    .keys(&peer, &user)
    .profiles(&[("admin", &peer.admin)])
    .arg("--admin-profile")
    .arg("admin")
    .output()
    .await;
    let report = out.json();

    let settings = detail(&report, "bucket-policy", Some(&bucket));
    assert!(
        settings.contains("Block Public Access: all on"),
        "{settings}"
    );
    assert!(settings.contains("bucket owner enforced"), "{settings}");
    // The app sets ACLs (--access full) on a bucket that refuses them.
    let acl = finding(&report, "permission.acl-disabled", Some("s3:PutObjectAcl"));
    assert!(
        acl["remedy"].as_str().unwrap_or_default().contains("ACL"),
        "{acl:#}"
    );
    assert_eq!(out.code, 1);
}

/// A new role (trusting the admin user, as `Peer::role_session` does) with an inline policy and
/// a managed policy as its permissions boundary, and a session of it named `worker`. (The
/// emulator answers `PutUserPermissionsBoundary` with a 500; a role's boundary it keeps.)
async fn bounded_role_session(peer: &Peer, inline: Option<Value>, boundary: Value) -> Keys {
    let name = crate::peer::unique("rb");
    let boundary_arn = peer
        .iam
        .create_policy()
        .policy_name(format!("{name}-boundary"))
        .policy_document(boundary.to_string())
        .send()
        .await
        .expect("create boundary policy")
        .policy()
        .and_then(|p| p.arn())
        .expect("policy arn")
        .to_owned();
    peer.role_session_bounded(name, inline, Some(boundary_arn))
        .await
}

async fn put_bucket_policy(peer: &Peer, bucket: &str, policy: Value) {
    peer.s3("us-east-1")
        .put_bucket_policy()
        .bucket(bucket)
        .policy(policy.to_string())
        .send()
        .await
        .expect("put bucket policy");
}

/// IAM User Guide, "NotPrincipal" and "Permissions boundaries for IAM entities": "The
/// `NotPrincipal` element with a `Deny` effect will always deny any IAM principal that has a
/// permissions boundary policy attached, regardless of the values specified in the
/// `NotPrincipal` element." The role session is listed (with its role and account, as AWS
/// asks), so the bucket policy alone exempts it; with its role's boundary it is denied, and the
/// finding says why.
#[tokio::test]
async fn a_not_principal_deny_denies_a_listed_session_whose_role_has_a_permissions_boundary() {
    let peer = Peer::get();
    let bucket = peer.bucket("us-east-1").await;
    let app = bounded_role_session(
        &peer,
        Some(s3_allow(&[&bucket], READ_WRITE)),
        json!({"Version": "2012-10-17", "Statement": [
            {"Effect": "Allow", "Action": "s3:*", "Resource": "*"}]}),
    )
    .await;
    // Listed as AWS's example lists a role session: the session, the role and the account.
    put_bucket_policy(
        &peer,
        &bucket,
        json!({"Version": "2012-10-17", "Statement": [
            {"Sid": "OnlyTheApp", "Effect": "Deny",
             "NotPrincipal": {"AWS": [
                 format!("arn:aws:sts::123456789012:assumed-role/{}/worker", app.name),
                 format!("arn:aws:iam::123456789012:role/{}", app.name),
                 "arn:aws:iam::123456789012:root"]},
             "Action": "s3:DeleteObject", "Resource": format!("arn:aws:s3:::{bucket}/*")}]}),
    )
    .await;

    let (code, report) = check(&peer, &app, &bucket, true).await;

    assert_eq!(code, 1, "{report:#}");
    // Read alone, the bucket policy exempts the session...
    assert_eq!(
        status(&report, "bucket-policy", Some(&bucket)),
        "pass",
        "{report:#}"
    );
    // ...but its role has a boundary: the Deny applies, named, with the reason.
    assert_eq!(status(&report, "identity-policies", Some(&bucket)), "fail");
    let deny = finding(&report, "permission.explicit-deny", Some("s3:DeleteObject"));
    assert_eq!(deny["source"], "bucket-policy");
    assert_eq!(deny["statement"]["sid"], "OnlyTheApp");
    let summary = deny["summary"].as_str().unwrap_or_default();
    assert!(summary.contains("NotPrincipal"), "{deny:#}");
    assert!(summary.contains("permissions boundary"), "{deny:#}");
    // Uploads are not concerned.
    assert!(
        !report["findings"]
            .as_array()
            .expect("findings")
            .iter()
            .any(|f| f["action"] == "s3:PutObject"),
        "{report:#}"
    );
}

/// AWS documents that a permissions boundary does not limit a bucket-policy Allow naming the
/// user, and limits one naming the role; for `"*"` it is silent ("How AWS enforcement code
/// logic evaluates requests to allow or deny access"). s3doctor says which reading it took and
/// does not call it a firm verdict.
#[tokio::test]
async fn a_bucket_policy_allow_to_anyone_past_a_boundary_is_reported_as_uncertain() {
    let peer = Peer::get();
    let bucket = peer.bucket("us-east-1").await;
    let app = bounded_role_session(
        &peer,
        None,
        json!({"Version": "2012-10-17", "Statement": [
            {"Effect": "Allow", "Action": "ec2:*", "Resource": "*"}]}),
    )
    .await;
    put_bucket_policy(
        &peer,
        &bucket,
        json!({"Version": "2012-10-17", "Statement": [
            {"Sid": "Anyone", "Effect": "Allow", "Principal": "*",
             "Action": ["s3:ListBucket", "s3:GetObject", "s3:PutObject", "s3:DeleteObject"],
             "Resource": [format!("arn:aws:s3:::{bucket}"), format!("arn:aws:s3:::{bucket}/*")]}]}),
    )
    .await;

    let (_, report) = check(&peer, &app, &bucket, true).await;

    assert_eq!(
        status(&report, "identity-policies", Some(&bucket)),
        "warn",
        "{report:#}"
    );
    let why = detail(&report, "identity-policies", Some(&bucket));
    assert!(why.contains("leaves it open"), "{why}");
    assert!(why.contains("Principal \"*\""), "{why}");
    assert!(why.contains("s3doctor reads it as limited"), "{why}");
    // The finding names the boundary as the possible cause.
    let get = finding(&report, "permission.missing", Some("s3:GetObject"));
    assert_eq!(get["source"], "permissions-boundary", "{get:#}");
}
