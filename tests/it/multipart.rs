//! The `multipart-upload` step against the emulator, which enforces the multipart actions
//! with IAM on as AWS does (CreateMultipartUpload and UploadPart need s3:PutObject, the abort
//! s3:AbortMultipartUpload, ListParts s3:ListMultipartUploadParts): the probe never completes
//! an upload, and one it cannot abort is reported with the command that does.

use serde_json::Value;

use crate::peer::{
    Keys, MULTIPART, Peer, READ_WRITE, Run, codes, detail, finding, s3_allow, status,
};

async fn check(peer: &Peer, keys: &Keys, bucket: &str, extra: &[&str]) -> (i32, Value) {
    let mut run = Run::new(&["check", "--format", "json", "--bucket", bucket])
        .keys(peer, keys)
        .profiles(&[("admin", &peer.admin)]);
    for a in extra {
        run = run.arg(a);
    }
    let out = run.output().await;
    (out.code, out.json())
}

#[tokio::test]
async fn a_user_allowed_multipart_passes_and_nothing_is_left_in_the_bucket() {
    let peer = Peer::get();
    let bucket = peer.bucket("us-east-1").await;
    let user = peer.user(Some(s3_allow(&[&bucket], MULTIPART))).await;

    let (code, report) = check(&peer, &user, &bucket, &["--multipart"]).await;

    assert_eq!(code, 0, "{report:#}");
    assert_eq!(status(&report, "multipart-upload", Some(&bucket)), "pass");
    let d = detail(&report, "multipart-upload", Some(&bucket));
    assert!(
        d.contains("uploaded one part") && d.contains("aborted it"),
        "{d}"
    );
    assert!(peer.uploads(&bucket).await.is_empty());
    assert!(peer.keys(&bucket).await.is_empty());
}

#[tokio::test]
async fn an_abort_the_app_may_not_make_is_a_missing_permission_and_a_left_behind_upload() {
    let peer = Peer::get();
    let bucket = peer.bucket("us-east-1").await;
    let user = peer.user(Some(s3_allow(&[&bucket], READ_WRITE))).await;

    let (code, report) = check(&peer, &user, &bucket, &["--multipart"]).await;

    assert_eq!(code, 1, "{report:#}");
    assert_eq!(status(&report, "put-object", Some(&bucket)), "pass");
    assert_eq!(status(&report, "multipart-upload", Some(&bucket)), "fail");
    let abort = finding(
        &report,
        "permission.missing",
        Some("s3:AbortMultipartUpload"),
    );
    assert_eq!(abort["evidence"]["operation"], "AbortMultipartUpload");
    assert_eq!(abort["evidence"]["http_status"], 403);
    let parts = finding(
        &report,
        "permission.missing",
        Some("s3:ListMultipartUploadParts"),
    );
    assert_eq!(parts["severity"], "warning");
    // The upload s3doctor could not abort is still there, and the finding says how to abort it.
    let uploads = peer.uploads(&bucket).await;
    assert_eq!(uploads.len(), 1, "{uploads:?}");
    let (key, upload_id) = &uploads[0];
    assert!(key.starts_with(".s3doctor/probe-"), "{key}");
    let left = finding(&report, "probe.left-behind", None);
    assert_eq!(left["step"], "multipart-upload");
    let remedy = left["remedy"].as_str().expect("remedy");
    assert!(
        remedy.contains(&format!(
            "aws s3api abort-multipart-upload --bucket {bucket} --key {key} --upload-id {upload_id} --endpoint-url {}",
            peer.url
        )),
        "{remedy}"
    );
    // The fix grants the multipart actions that were refused.
    let policy = report["policy"].to_string();
    assert!(
        policy.contains("s3:AbortMultipartUpload")
            && policy.contains("s3:ListMultipartUploadParts"),
        "{policy}"
    );
    // No object was ever completed.
    assert!(peer.keys(&bucket).await.is_empty());
    peer.s3("us-east-1")
        .abort_multipart_upload()
        .bucket(&bucket)
        .key(key)
        .upload_id(upload_id)
        .send()
        .await
        .expect("clean up");
}

#[tokio::test]
async fn with_an_admin_profile_the_refused_abort_is_cleaned_up_by_the_admin() {
    let peer = Peer::get();
    let bucket = peer.bucket("us-east-1").await;
    let user = peer.user(Some(s3_allow(&[&bucket], READ_WRITE))).await;

    let (code, report) = check(
        &peer,
        &user,
        &bucket,
        &["--multipart", "--admin-profile", "admin"],
    )
    .await;

    assert_eq!(code, 1);
    finding(
        &report,
        "permission.missing",
        Some("s3:AbortMultipartUpload"),
    );
    assert!(!codes(&report).contains(&"probe.left-behind".to_owned()));
    let d = detail(&report, "multipart-upload", Some(&bucket));
    assert!(d.contains("aborted it with the admin profile"), "{d}");
    assert!(peer.uploads(&bucket).await.is_empty());
    // identity-policies names the multipart actions as needed too.
    let d = detail(&report, "identity-policies", Some(&bucket));
    assert!(d.contains("s3:AbortMultipartUpload"), "{d}");
}

#[tokio::test]
async fn a_user_who_may_not_upload_cannot_start_a_multipart_upload_either() {
    let peer = Peer::get();
    let bucket = peer.bucket("us-east-1").await;
    let user = peer
        .user(Some(s3_allow(
            &[&bucket],
            &["s3:ListBucket", "s3:GetObject"],
        )))
        .await;

    let (code, report) = check(&peer, &user, &bucket, &["--multipart"]).await;

    assert_eq!(code, 1);
    assert_eq!(status(&report, "multipart-upload", Some(&bucket)), "fail");
    let d = detail(&report, "multipart-upload", Some(&bucket));
    assert!(d.starts_with("CreateMultipartUpload: access denied"), "{d}");
    // One finding for s3:PutObject, whichever step saw it first.
    let puts = report["findings"]
        .as_array()
        .expect("findings")
        .iter()
        .filter(|f| f["action"] == "s3:PutObject")
        .count();
    assert_eq!(puts, 1, "{report:#}");
    assert!(peer.uploads(&bucket).await.is_empty());
}

#[tokio::test]
async fn without_multipart_or_kms_the_step_says_why_it_did_not_run_and_read_only_never_writes() {
    let peer = Peer::get();
    let bucket = peer.bucket("us-east-1").await;
    let user = peer.user(Some(s3_allow(&[&bucket], READ_WRITE))).await;

    let (code, report) = check(&peer, &user, &bucket, &[]).await;
    assert_eq!(code, 0, "{report:#}");
    assert_eq!(status(&report, "multipart-upload", Some(&bucket)), "skip");
    let d = detail(&report, "multipart-upload", Some(&bucket));
    assert!(d.contains("--multipart"), "{d}");
    // The upload's answer said how the probe was encrypted: no GetBucketEncryption needed.
    assert!(d.contains("the upload probe was stored with"), "{d}");

    let (_, report) = check(&peer, &user, &bucket, &["--multipart", "--read-only"]).await;
    assert_eq!(status(&report, "multipart-upload", Some(&bucket)), "skip");
    assert!(detail(&report, "multipart-upload", Some(&bucket)).contains("--read-only"));
    assert!(peer.uploads(&bucket).await.is_empty());
}

#[tokio::test]
async fn a_bucket_that_encrypts_with_kms_gets_the_multipart_probe_without_being_asked() {
    let peer = Peer::get();
    let bucket = peer.bucket("us-east-1").await;
    peer.s3("us-east-1")
        .put_bucket_encryption()
        .bucket(&bucket)
        .server_side_encryption_configuration(
            aws_sdk_s3::types::ServerSideEncryptionConfiguration::builder()
                .rules(
                    aws_sdk_s3::types::ServerSideEncryptionRule::builder()
                        .apply_server_side_encryption_by_default(
                            aws_sdk_s3::types::ServerSideEncryptionByDefault::builder()
                                .sse_algorithm(aws_sdk_s3::types::ServerSideEncryption::AwsKms)
                                .build()
                                .expect("sse default"),
                        )
                        .build(),
                )
                .build()
                .expect("sse config"),
        )
        .send()
        .await
        .expect("put bucket encryption");
    let user = peer.user(Some(s3_allow(&[&bucket], MULTIPART))).await;

    let (code, report) = check(&peer, &user, &bucket, &[]).await;

    assert_eq!(code, 0, "{report:#}");
    assert_eq!(status(&report, "multipart-upload", Some(&bucket)), "pass");
    let d = detail(&report, "multipart-upload", Some(&bucket));
    assert!(d.contains("encrypts with KMS"), "{d}");
    assert!(peer.uploads(&bucket).await.is_empty());
}
