//! `--acl`: the upload probe sends the app's canned ACL, so refusals show up as the app sees
//! them. The emulator stores the ACL but enforces neither Block Public Access nor
//! s3:PutObjectAcl, so those refusals are replayed through the proxy with S3's real bare
//! answer (403 AccessDenied "Access Denied", as reported for public-read uploads to a
//! Block-Public-Access bucket in aws/aws-sdk-js#3048 and jenkinsci/pipeline-aws-plugin#183;
//! envelope per https://docs.aws.amazon.com/AmazonS3/latest/API/ErrorResponses.html).

use serde_json::Value;

use crate::peer::{Keys, Peer, READ_WRITE, Run, codes, detail, finding, s3_allow, status};
use crate::proxy::{Fault, Proxy, Reply};

const DENIED: &str = "<?xml version=\"1.0\" encoding=\"UTF-8\"?>\n<Error><Code>AccessDenied</Code><Message>Access Denied</Message><RequestId>4442587FB7D0A2F9</RequestId><HostId>aG9zdGlk</HostId></Error>";

const fn denied_with(acl_header: &'static str) -> Reply {
    Reply {
        method: "PUT",
        target: "/.s3doctor/probe-",
        header: Some(acl_header),
        status: "403 Forbidden",
        body: DENIED,
    }
}

async fn check(url: &str, keys: &Keys, bucket: &str, extra: &[&str]) -> (i32, Value, String) {
    let mut run = Run::new(&["check", "--format", "json", "--bucket", bucket])
        .arg("--endpoint-url")
        .arg(url)
        .env("AWS_ACCESS_KEY_ID", &keys.id)
        .env("AWS_SECRET_ACCESS_KEY", &keys.secret);
    for a in extra {
        run = run.arg(a);
    }
    let out = run.output().await;
    (out.code, out.json(), out.stderr)
}

#[tokio::test]
async fn the_probe_is_uploaded_with_the_apps_acl_and_the_policy_grants_put_object_acl() {
    let peer = Peer::get();
    let bucket = peer.bucket("us-east-1").await;
    // No s3:DeleteObject: the probe stays, so its ACL can be read afterwards; and no
    // s3:PutObjectAcl, which the emulator does not ask of PutObject but does of the
    // put-object-acl step, so that step cannot replace the ACL the upload set.
    let user = peer
        .user(Some(s3_allow(
            &[&bucket],
            &["s3:ListBucket", "s3:GetObject", "s3:PutObject"],
        )))
        .await;

    let (_, report, stderr) = check(&peer.url, &user, &bucket, &["--acl", "public-read"]).await;

    assert_eq!(report["target"]["access"], "full", "{stderr}");
    assert_eq!(status(&report, "put-object", Some(&bucket)), "pass");
    assert!(detail(&report, "put-object", Some(&bucket)).contains("with ACL public-read"));
    let keys = peer.keys(&bucket).await;
    assert_eq!(keys.len(), 1, "{keys:?}");
    let acl = peer
        .s3("us-east-1")
        .get_object_acl()
        .bucket(&bucket)
        .key(&keys[0])
        .send()
        .await
        .expect("get object acl");
    let everyone_reads = acl.grants().iter().any(|g| {
        g.grantee()
            .and_then(|w| w.uri())
            .is_some_and(|u| u.ends_with("/global/AllUsers"))
            && g.permission().map(|p| p.as_str()) == Some("READ")
    });
    assert!(everyone_reads, "{acl:?}");
    // The fix grants what uploads with an ACL need.
    let policy = report["policy"].to_string();
    assert!(policy.contains("s3:PutObjectAcl"), "{policy}");
    peer.s3("us-east-1")
        .delete_object()
        .bucket(&bucket)
        .key(&keys[0])
        .send()
        .await
        .expect("clean up");
}

static BPA: [Reply; 1] = [denied_with("x-amz-acl: public-read")];

#[tokio::test]
async fn a_public_acl_refused_where_a_private_one_is_accepted_is_block_public_access() {
    let peer = Peer::get();
    let bucket = peer.bucket("us-east-1").await;
    peer.s3("us-east-1")
        .put_public_access_block()
        .bucket(&bucket)
        .public_access_block_configuration(
            aws_sdk_s3::types::PublicAccessBlockConfiguration::builder()
                .block_public_acls(true)
                .build(),
        )
        .send()
        .await
        .expect("put public access block");
    let mut actions = READ_WRITE.to_vec();
    actions.push("s3:PutObjectAcl");
    let user = peer.user(Some(s3_allow(&[&bucket], &actions))).await;
    let proxy = Proxy::start(&peer.url, Fault::Answer(&BPA)).await;

    let (code, report, _) = check(&proxy.url, &user, &bucket, &["--acl", "public-read"]).await;

    assert_eq!(code, 1, "{report:#}");
    assert_eq!(status(&report, "put-object", Some(&bucket)), "fail");
    let bpa = finding(&report, "permission.block-public-access", None);
    assert_eq!(bpa["severity"], "error");
    assert_eq!(bpa["evidence"]["http_status"], 403);
    let summary = bpa["summary"].as_str().expect("summary");
    assert!(summary.contains("BlockPublicAcls is on"), "{summary}");
    // Not blamed on a missing permission, and nothing to attach.
    assert!(
        !codes(&report).contains(&"permission.missing".to_owned()),
        "{:?}",
        codes(&report)
    );
    assert_eq!(report["policy"], Value::Null);
    // The probe written with the private ACL was deleted again.
    assert!(peer.keys(&bucket).await.is_empty());
}

static NO_ACL_PERMISSION: [Reply; 2] = [
    denied_with("x-amz-acl: bucket-owner-full-control"),
    denied_with("x-amz-acl: private"),
];

#[tokio::test]
async fn an_acl_refused_where_no_acl_is_accepted_is_a_missing_put_object_acl() {
    let peer = Peer::get();
    let bucket = peer.bucket("us-east-1").await;
    let user = peer.user(Some(s3_allow(&[&bucket], READ_WRITE))).await;
    let proxy = Proxy::start(&peer.url, Fault::Answer(&NO_ACL_PERMISSION)).await;

    let (code, report, _) = check(
        &proxy.url,
        &user,
        &bucket,
        &["--acl", "bucket-owner-full-control"],
    )
    .await;

    assert_eq!(code, 1, "{report:#}");
    let missing = finding(&report, "permission.missing", Some("s3:PutObjectAcl"));
    assert_eq!(missing["step"], "put-object");
    assert!(
        detail(&report, "put-object", Some(&bucket)).contains("accepted without an ACL"),
        "{report:#}"
    );
    assert!(report["policy"].to_string().contains("s3:PutObjectAcl"));
    assert!(peer.keys(&bucket).await.is_empty());
}

#[tokio::test]
async fn an_unknown_canned_acl_is_bad_input() {
    let out = Run::new(&["check", "--bucket", "some-bucket", "--acl", "public"])
        .output()
        .await;
    assert_eq!(out.code, 2, "{}", out.stderr);
    assert!(
        out.stderr.contains("invalid value 'public'"),
        "{}",
        out.stderr
    );
    assert_eq!(out.stderr.trim().lines().count(), 1, "{}", out.stderr);
}
