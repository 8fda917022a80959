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

const ORIGIN: &str = "https://app.example.com";

async fn put_cors(rgw: &Rgw, bucket: &str, origin: &str, method: &str) {
    let rule = aws_sdk_s3::types::CorsRule::builder()
        .allowed_origins(origin)
        .allowed_methods(method)
        .allowed_headers("content-type")
        .build()
        .expect("cors rule");
    rgw.s3(&rgw.owner)
        .put_bucket_cors()
        .bucket(bucket)
        .cors_configuration(
            aws_sdk_s3::types::CorsConfiguration::builder()
                .cors_rules(rule)
                .build()
                .expect("cors configuration"),
        )
        .send()
        .await
        .expect("put bucket cors");
}

async fn cors_check(rgw: &Rgw, bucket: &str) -> serde_json::Value {
    let out = rgw
        .run(
            &rgw.url,
            &rgw.user,
            &["check", "--format", "json", "--bucket", bucket],
        )
        .profiles(&[("owner", &rgw.owner)])
        .arg("--admin-profile")
        .arg("owner")
        .arg("--origin")
        .arg(ORIGIN)
        .output()
        .await;
    out.json()
}

#[tokio::test]
async fn rgw_cors_a_preflight_the_rules_allow_passes_and_names_the_rule() {
    let Some(rgw) = Rgw::get("rgw_cors_a_preflight_the_rules_allow_passes_and_names_the_rule")
    else {
        return;
    };
    let bucket = shared_bucket(&rgw).await;
    put_cors(&rgw, &bucket, ORIGIN, "PUT").await;

    let report = cors_check(&rgw, &bucket).await;

    assert_eq!(status(&report, "cors", Some(&bucket)), "pass", "{report:#}");
    let d = crate::peer::detail(&report, "cors", Some(&bucket));
    assert!(d.contains("rule #1 of 1 matches"), "{d}");
    assert!(!codes(&report).contains(&"cors.not-allowed".to_owned()));
}

#[tokio::test]
async fn rgw_cors_a_refused_preflight_says_what_is_missing_and_fix_merges_the_rule() {
    let Some(rgw) =
        Rgw::get("rgw_cors_a_refused_preflight_says_what_is_missing_and_fix_merges_the_rule")
    else {
        return;
    };
    let bucket = shared_bucket(&rgw).await;
    put_cors(&rgw, &bucket, "https://other.example.com", "GET").await;

    let report = cors_check(&rgw, &bucket).await;

    assert_eq!(status(&report, "cors", Some(&bucket)), "fail", "{report:#}");
    let f = finding(&report, "cors.not-allowed", None);
    assert_eq!(f["evidence"]["http_status"], 403);
    let summary = f["summary"].as_str().expect("summary");
    assert!(
        summary.contains("no rule allows the origin https://app.example.com"),
        "{summary}"
    );
    let remedy = f["remedy"].as_str().expect("remedy");
    assert!(remedy.contains("\"AllowedOrigins\""), "{remedy}");
    assert!(remedy.contains(ORIGIN), "{remedy}");

    // The fix adds the rule after confirmation (--yes), keeping the rule the bucket had.
    let out = rgw
        .run(&rgw.url, &rgw.user, &["fix", "--bucket", &bucket, "--yes"])
        .profiles(&[("owner", &rgw.owner)])
        .arg("--admin-profile")
        .arg("owner")
        .arg("--origin")
        .arg(ORIGIN)
        .output()
        .await;
    assert!(out.stderr.contains("added a CORS rule"), "{}", out.stderr);
    let rules = rgw
        .s3(&rgw.owner)
        .get_bucket_cors()
        .bucket(&bucket)
        .send()
        .await
        .expect("get bucket cors");
    let origins: Vec<&str> = rules
        .cors_rules()
        .iter()
        .flat_map(|r| r.allowed_origins())
        .map(String::as_str)
        .collect();
    assert_eq!(origins, vec!["https://other.example.com", ORIGIN]);
    // A real browser's preflight now passes.
    let report = cors_check(&rgw, &bucket).await;
    assert_eq!(status(&report, "cors", Some(&bucket)), "pass", "{report:#}");
}

#[tokio::test]
async fn rgw_multipart_probe_works_and_a_refused_abort_is_left_behind_with_its_command() {
    let Some(rgw) =
        Rgw::get("rgw_multipart_probe_works_and_a_refused_abort_is_left_behind_with_its_command")
    else {
        return;
    };
    // Allowed everything: the probe starts, uploads a part, aborts; nothing stays.
    let bucket = shared_bucket(&rgw).await;
    let (_, report) = rgw.check(&rgw.user, &bucket, &["--multipart"]).await;
    assert_eq!(
        status(&report, "multipart-upload", Some(&bucket)),
        "pass",
        "{report:#}"
    );
    let uploads = rgw
        .s3(&rgw.owner)
        .list_multipart_uploads()
        .bucket(&bucket)
        .send()
        .await
        .expect("list multipart uploads");
    assert!(uploads.uploads().is_empty(), "{uploads:?}");

    // The abort denied by the bucket policy: the upload stays, and the finding says how to
    // abort it.
    let bucket = rgw.bucket().await;
    let policy = json!({"Version": "2012-10-17", "Statement": [
        {"Effect": "Allow", "Principal": {"AWS": ["arn:aws:iam:::user/s3doctor-app"]},
         "Action": ["s3:*"],
         "Resource": [format!("arn:aws:s3:::{bucket}"), format!("arn:aws:s3:::{bucket}/*")]},
        {"Effect": "Deny", "Principal": {"AWS": ["arn:aws:iam:::user/s3doctor-app"]},
         "Action": ["s3:AbortMultipartUpload"], "Resource": [format!("arn:aws:s3:::{bucket}/*")]}]});
    rgw.put_policy(&bucket, &policy).await;
    let (_, report) = rgw.check(&rgw.user, &bucket, &["--multipart"]).await;
    assert_eq!(
        status(&report, "multipart-upload", Some(&bucket)),
        "fail",
        "{report:#}"
    );
    let left = finding(&report, "probe.left-behind", None);
    let remedy = left["remedy"].as_str().expect("remedy");
    assert!(
        remedy.contains("aws s3api abort-multipart-upload"),
        "{remedy}"
    );
    let s3 = rgw.s3(&rgw.owner);
    let uploads = s3
        .list_multipart_uploads()
        .bucket(&bucket)
        .send()
        .await
        .expect("list multipart uploads");
    assert_eq!(uploads.uploads().len(), 1, "{uploads:?}");
    let u = &uploads.uploads()[0];
    let (key, id) = (u.key().expect("key"), u.upload_id().expect("upload id"));
    assert!(remedy.contains(id), "{remedy}");
    s3.abort_multipart_upload()
        .bucket(&bucket)
        .key(key)
        .upload_id(id)
        .send()
        .await
        .expect("clean up");
}
