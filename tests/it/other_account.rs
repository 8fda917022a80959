//! Someone else's bucket: S3 refuses a request whose `ExpectedBucketOwner` is not the bucket's
//! owner with 403 ("If the bucket is owned by a different account, the request fails with the
//! HTTP status code 403 Forbidden (access denied)",
//! https://docs.aws.amazon.com/AmazonS3/latest/userguide/bucket-owner-condition.html; a HEAD
//! answer has no body). The emulator has one account and ignores the header, so that answer
//! is replayed through the test proxy; everything else is the emulator's.

use crate::peer::{Peer, READ_WRITE, Run, finding, s3_allow, status};
use crate::proxy::{Fault, Proxy, Reply};

static FOREIGN: [Reply; 2] = [
    Reply {
        method: "HEAD",
        target: " /s3d-b-",
        header: Some("x-amz-expected-bucket-owner: 123456789012"),
        status: "403 Forbidden",
        body: "",
    },
    Reply {
        method: "GET",
        target: " /s3d-b-",
        header: Some("x-amz-expected-bucket-owner: 123456789012"),
        status: "403 Forbidden",
        body: "<?xml version=\"1.0\" encoding=\"UTF-8\"?>\n<Error><Code>AccessDenied</Code><Message>Access Denied</Message><RequestId>4442587FB7D0A2F9</RequestId><HostId>aG9zdGlk</HostId></Error>",
    },
];

#[tokio::test]
async fn a_bucket_of_another_account_is_named_with_both_grants_it_needs() {
    let peer = Peer::get();
    let bucket = peer.bucket("us-east-1").await;
    let user = peer.user(Some(s3_allow(&[&bucket], READ_WRITE))).await;
    let proxy = Proxy::start(&peer.url, Fault::Answer(&FOREIGN)).await;

    let out = Run::new(&["check", "--format", "json", "--bucket", &bucket])
        .arg("--endpoint-url")
        .arg(&proxy.url)
        .env("AWS_ACCESS_KEY_ID", &user.id)
        .env("AWS_SECRET_ACCESS_KEY", &user.secret)
        .output()
        .await;
    let report = out.json();

    // The app works, so another owner is a warning, not an error.
    assert_eq!(out.code, 0, "{report:#}");
    assert_eq!(status(&report, "bucket-policy", Some(&bucket)), "warn");
    let f = finding(&report, "bucket.other-account", None);
    assert_eq!(f["severity"], "warning");
    let summary = f["summary"].as_str().expect("summary");
    // The download carries ExpectedBucketOwner and tells, with no HeadBucket of its own.
    assert!(
        summary.contains(
            "GetObject is served, and refused (403) with ExpectedBucketOwner 123456789012"
        ),
        "{summary}"
    );
    assert_eq!(status(&report, "get-object", Some(&bucket)), "pass");
    let remedy = f["remedy"].as_str().expect("remedy");
    let arn = format!("arn:aws:iam::123456789012:user/{}", user.name);
    // The owner's side: a bucket-policy statement naming the caller.
    assert!(remedy.contains("\"Principal\""), "{remedy}");
    assert!(remedy.contains(&arn), "{remedy}");
    assert!(
        remedy.contains(&format!("\"arn:aws:s3:::{bucket}/*\"")),
        "{remedy}"
    );
    // The caller's side: the identity policy.
    assert!(remedy.contains("attach this identity policy"), "{remedy}");
}

#[tokio::test]
async fn without_the_answer_the_same_bucket_is_the_callers_own() {
    let peer = Peer::get();
    let bucket = peer.bucket("us-east-1").await;
    let user = peer.user(Some(s3_allow(&[&bucket], READ_WRITE))).await;

    let out = Run::new(&["check", "--format", "json", "--bucket", &bucket])
        .keys(&peer, &user)
        .output()
        .await;
    let report = out.json();

    assert_eq!(out.code, 0, "{report:#}");
    assert!(
        !report.to_string().contains("bucket.other-account"),
        "{report:#}"
    );
}

#[tokio::test]
async fn the_export_has_a_section_for_the_bucket_owners_administrator() {
    let peer = Peer::get();
    let bucket = peer.bucket("us-east-1").await;
    // May list, not upload: a missing permission to fix, and a listing that tells the owner.
    let user = peer
        .user(Some(s3_allow(&[&bucket], &["s3:ListBucket"])))
        .await;
    let proxy = Proxy::start(&peer.url, Fault::Answer(&FOREIGN)).await;
    let run = Run::new(&["fix", "--bucket", &bucket]);
    let path = run.file("fix.md");
    let out = run
        .arg("--endpoint-url")
        .arg(&proxy.url)
        .env("AWS_ACCESS_KEY_ID", &user.id)
        .env("AWS_SECRET_ACCESS_KEY", &user.secret)
        .arg("--export")
        .arg(&path.display().to_string())
        .output()
        .await;

    assert_eq!(out.code, 1, "{}", out.stderr);
    let md = out.read("fix.md");
    assert!(md.contains("aws iam create-policy"), "{md}");
    let section = md
        .split(&format!(
            "## For the administrator of the account that owns {bucket}"
        ))
        .nth(1)
        .unwrap_or_else(|| panic!("no section for the bucket owner: {md}"));
    assert!(section.contains("put-bucket-policy"), "{section}");
    assert!(
        section.contains(&format!("arn:aws:iam::123456789012:user/{}", user.name)),
        "{section}"
    );
    assert!(section.contains("CrossAccountObjectAccess"), "{section}");
}
