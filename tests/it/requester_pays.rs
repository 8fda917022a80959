//! Requester Pays against Ceph RGW, which enforces it as S3 does for reads (a request from
//! another user without `x-amz-request-payer: requester` is refused with 403, the same
//! request with it is served): the 403 that disappears with the header is
//! `bucket.requester-pays`, not a missing permission. Needs the RGW peer (`scripts/rgw.sh`);
//! without its variables the tests say so and pass without checking anything.

use serde_json::{Value, json};

use crate::peer::{Keys, Run, codes, finding, s3_client, status, unique};

/// The RGW peer's URL, the bucket owner's keys and the app's keys, when it runs.
pub fn rgw() -> Option<(String, Keys, Keys)> {
    let var = |n: &str| std::env::var(n).ok();
    let (Some(url), Some(oid), Some(osec), Some(uid), Some(usec)) = (
        var("S3DOCTOR_RGW_URL"),
        var("S3DOCTOR_RGW_OWNER_KEY_ID"),
        var("S3DOCTOR_RGW_OWNER_SECRET"),
        var("S3DOCTOR_RGW_USER_KEY_ID"),
        var("S3DOCTOR_RGW_USER_SECRET"),
    ) else {
        eprintln!(
            "SKIPPED: the Ceph RGW peer is not running (S3DOCTOR_RGW_URL and its keys are unset; \
             start it with scripts/rgw.sh)"
        );
        return None;
    };
    let keys = |name: &str, id, secret| Keys {
        name: name.to_owned(),
        id,
        secret,
        token: None,
    };
    Some((
        url,
        keys("s3doctor-owner", oid, osec),
        keys("s3doctor-app", uid, usec),
    ))
}

/// A new bucket of the owner's that the app reaches through a bucket policy.
pub async fn shared_bucket(url: &str, owner: &Keys) -> (aws_sdk_s3::Client, String) {
    let s3 = s3_client(url, owner, "us-east-1");
    let bucket = unique("b");
    s3.create_bucket()
        .bucket(&bucket)
        .send()
        .await
        .expect("create bucket");
    let policy = json!({"Version": "2012-10-17", "Statement": [{"Effect": "Allow",
        "Principal": {"AWS": ["arn:aws:iam:::user/s3doctor-app"]}, "Action": ["s3:*"],
        "Resource": [format!("arn:aws:s3:::{bucket}"), format!("arn:aws:s3:::{bucket}/*")]}]});
    s3.put_bucket_policy()
        .bucket(&bucket)
        .policy(policy.to_string())
        .send()
        .await
        .expect("put bucket policy");
    (s3, bucket)
}

async fn check(url: &str, keys: &Keys, bucket: &str) -> (i32, Value) {
    let out = Run::new(&["check", "--format", "json", "--bucket", bucket])
        .arg("--endpoint-url")
        .arg(url)
        .env("AWS_ACCESS_KEY_ID", &keys.id)
        .env("AWS_SECRET_ACCESS_KEY", &keys.secret)
        .output()
        .await;
    (out.code, out.json())
}

async fn objects(s3: &aws_sdk_s3::Client, bucket: &str) -> Vec<String> {
    let out = s3
        .list_objects_v2()
        .bucket(bucket)
        .send()
        .await
        .expect("list objects");
    out.contents()
        .iter()
        .filter_map(|o| o.key().map(str::to_owned))
        .collect()
}

#[tokio::test]
async fn a_403_that_disappears_with_the_request_payer_header_is_requester_pays() {
    let Some((url, owner, app)) = rgw() else {
        return;
    };
    let (s3, bucket) = shared_bucket(&url, &owner).await;
    // Before Requester Pays is on, the app may list: the policy is right.
    let (_, before) = check(&url, &app, &bucket).await;
    assert_eq!(
        status(&before, "list-objects", Some(&bucket)),
        "pass",
        "{before:#}"
    );
    s3.put_bucket_request_payment()
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

    let (code, report) = check(&url, &app, &bucket).await;

    assert_eq!(code, 1, "{report:#}");
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
    assert!(objects(&s3, &bucket).await.is_empty());
}
