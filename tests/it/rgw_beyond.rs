//! Issue 12's steps against Ceph RGW (`crate::rgw`), which answers where the emulator cannot:
//! Requester Pays enforced for reads (a request from another user without
//! `x-amz-request-payer: requester` is refused with 403 and served with it) and real CORS
//! preflights. Without `S3DOCTOR_RGW_URL` each test says SKIPPED on stderr and returns.

use serde_json::json;

use crate::peer::{codes, finding, status};
use crate::rgw::Rgw;

/// A new bucket of the owner's that the app reaches through a bucket policy.
async fn shared_bucket(rgw: &Rgw) -> String {
    let bucket = rgw.bucket().await;
    let policy = json!({"Version": "2012-10-17", "Statement": [{"Effect": "Allow",
        "Principal": {"AWS": ["arn:aws:iam:::user/s3doctor-app"]}, "Action": ["s3:*"],
        "Resource": [format!("arn:aws:s3:::{bucket}"), format!("arn:aws:s3:::{bucket}/*")]}]});
    rgw.put_policy(&bucket, &policy).await;
    bucket
}

#[tokio::test]
async fn rgw_a_403_that_disappears_with_the_request_payer_header_is_requester_pays() {
    let Some(rgw) =
        Rgw::get("rgw_a_403_that_disappears_with_the_request_payer_header_is_requester_pays")
    else {
        return;
    };
    let bucket = shared_bucket(&rgw).await;
    // Before Requester Pays is on, the app may list: the policy is right.
    let (_, before) = rgw.check(&rgw.user, &bucket, &[]).await;
    assert_eq!(
        status(&before, "list-objects", Some(&bucket)),
        "pass",
        "{before:#}"
    );
    rgw.s3(&rgw.owner)
        .put_bucket_request_payment()
        .bucket(&bucket)
        .request_payment_configuration(
            aws_sdk_s3::types::RequestPaymentConfiguration::builder()
                .payer(aws_sdk_s3::types::Payer::Requester)
                .build()
                .expect("payment configuration"),
        )
        .send()
        .await
        .expect("put bucket request payment");

    let (out, report) = rgw.check(&rgw.user, &bucket, &[]).await;

    assert_eq!(out.code, 1, "{report:#}");
    assert_eq!(status(&report, "list-objects", Some(&bucket)), "fail");
    let rp = finding(&report, "bucket.requester-pays", None);
    assert_eq!(rp["severity"], "error");
    assert_eq!(rp["bucket"], bucket.as_str());
    assert_eq!(rp["evidence"]["http_status"], 403);
    assert!(
        rp["remedy"]
            .as_str()
            .expect("remedy")
            .contains("x-amz-request-payer: requester"),
        "{rp:#}"
    );
    // One finding for the bucket, and it is not blamed on a missing permission.
    let found = codes(&report);
    assert_eq!(
        found
            .iter()
            .filter(|c| *c == "bucket.requester-pays")
            .count(),
        1,
        "{found:?}"
    );
    assert!(
        !found.iter().any(|c| c.starts_with("permission.")),
        "{found:?}"
    );
    // The probe went in and came out again.
    assert!(rgw.keys(&bucket).await.is_empty());
}
