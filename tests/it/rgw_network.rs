//! The app's network against Ceph RGW (`crate::rgw`): RGW evaluates `aws:SourceIp` in bucket
//! policies (measured here, and written in notes/rgw.md), so a grant that holds only from an
//! address range is live: from 127.0.0.1 (this machine) it works, from another range it is
//! refused. s3doctor's what-if (`--source-ip`) judges the same policy for the app's address
//! without sending anything from there. Without `S3DOCTOR_RGW_URL` each test says SKIPPED and
//! returns.

use serde_json::{Value, json};

use crate::rgw::Rgw;

/// A grant of the app user's uploads and reads, only from `cidr`.
fn from_range(bucket: &str, cidr: &str) -> Value {
    json!({"Version": "2012-10-17", "Statement": [
        {"Sid": "AppFromTheOffice", "Effect": "Allow",
         "Principal": {"AWS": ["arn:aws:iam:::user/s3doctor-app"]},
         "Action": ["s3:ListBucket", "s3:GetObject", "s3:PutObject", "s3:DeleteObject"],
         "Resource": [format!("arn:aws:s3:::{bucket}"), format!("arn:aws:s3:::{bucket}/*")],
         "Condition": {"IpAddress": {"aws:SourceIp": cidr}}}
    ]})
}

/// RGW itself: the same grant holds from 127.0.0.1/32 (where the test's requests come from) and
/// not from 192.0.2.0/24. The upload is the app user's own, through the grant alone.
#[tokio::test]
async fn rgw_evaluates_source_ip_in_a_bucket_policy() {
    let Some(rgw) = Rgw::get("rgw_evaluates_source_ip_in_a_bucket_policy") else {
        return;
    };
    let bucket = rgw.bucket().await;
    let app = rgw.s3(&rgw.user);
    let put = |key: &'static str| {
        app.put_object()
            .bucket(&bucket)
            .key(key)
            .body(aws_sdk_s3::primitives::ByteStream::from_static(b"x"))
            .send()
    };
    rgw.put_policy(&bucket, &from_range(&bucket, "127.0.0.1/32"))
        .await;
    put("from-here.txt").await.expect("RGW allows 127.0.0.1/32");
    rgw.put_policy(&bucket, &from_range(&bucket, "192.0.2.0/24"))
        .await;
    let refused = put("from-elsewhere.txt").await.expect_err("RGW refuses");
    assert_eq!(
        aws_sdk_s3::error::ProvideErrorMetadata::code(&refused),
        Some("AccessDenied"),
        "{refused:?}"
    );
    assert_eq!(rgw.keys(&bucket).await, ["from-here.txt"]);
}

/// The what-if: with the grant from 127.0.0.1/32, the check from here passes live; judged for
/// the app's address (`--source-ip 192.0.2.10`), the bucket policy's condition decides:
/// `permission.depends-on-network`, naming the statement and the range, with both verdicts.
#[tokio::test]
async fn rgw_the_apps_source_ip_is_judged_where_it_differs_from_here() {
    let Some(rgw) = Rgw::get("rgw_the_apps_source_ip_is_judged_where_it_differs_from_here") else {
        return;
    };
    let bucket = rgw.bucket().await;
    rgw.put_policy(&bucket, &from_range(&bucket, "127.0.0.1/32"))
        .await;
    let check = |extra: &'static [&'static str]| {
        let mut run = rgw
            .run(
                &rgw.url,
                &rgw.user,
                &["check", "--format", "json", "--bucket", &bucket],
            )
            .profiles(&[("owner", &rgw.owner)])
            .arg("--admin-profile")
            .arg("owner");
        for a in extra {
            run = run.arg(a);
        }
        run.output()
    };
    // From here: the live probes pass (RGW sees 127.0.0.1), and no finding says otherwise.
    let out = check(&[]).await;
    let here = out.json();
    assert_eq!(out.code, 0, "{here:#}");
    // From the app's address: the grant's condition fails there.
    let out = check(&["--source-ip", "192.0.2.10"]).await;
    let report = out.json();
    assert_eq!(out.code, 1, "{report:#}");
    assert_eq!(report["target"]["app_network"]["source_ip"], "192.0.2.10");
    let f = crate::peer::finding(
        &report,
        "permission.depends-on-network",
        Some("s3:PutObject"),
    );
    assert_eq!(f["statement"]["sid"], "AppFromTheOffice", "{f:#}");
    assert_eq!(f["basis"], "policies", "{f:#}");
    let summary = f["summary"].as_str().expect("summary");
    assert!(
        summary.contains("aws:SourceIp is 192.0.2.10 (from the app's network"),
        "{summary}"
    );
    assert!(summary.contains("127.0.0.1/32"), "{summary}");
    let remedy = f["remedy"].as_str().expect("remedy");
    assert!(!remedy.to_lowercase().contains("attach a"), "{remedy}");
    assert!(remedy.contains("from that address range"), "{remedy}");
    assert!(
        f["vantages"]["from_app_network"]
            .as_str()
            .expect("app")
            .starts_with("not allowed"),
        "{f:#}"
    );
    // The live probes still pass from here: the what-if sent nothing from elsewhere.
    for step in ["put-object", "get-object"] {
        assert_eq!(crate::peer::status(&report, step, Some(&bucket)), "pass");
    }
}
