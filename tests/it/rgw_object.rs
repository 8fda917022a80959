//! The `app-object` step (`--key`) against Ceph RGW (`crate::rgw`), which, unlike the emulator,
//! keeps a writer as the owner of what it writes and enforces object ACLs: an object another
//! user wrote into the owner's bucket (through a bucket-policy grant) is that user's, and the
//! bucket owner is refused it. Without `S3DOCTOR_RGW_URL` each test says SKIPPED and returns.

use serde_json::{Value, json};

use crate::rgw::Rgw;

const THEIRS: &str = "inbox/from-app.txt";
const OURS: &str = "inbox/from-owner.txt";

fn about<'a>(report: &'a Value, key: &str) -> Vec<&'a Value> {
    report["findings"]
        .as_array()
        .expect("findings")
        .iter()
        .filter(|f| f["key"] == key)
        .collect()
}

fn row_status(report: &Value, key: &str) -> String {
    report["steps"]
        .as_array()
        .expect("steps")
        .iter()
        .find(|s| s["id"] == "app-object" && s["key"] == key)
        .unwrap_or_else(|| panic!("no app-object row for {key}: {report:#}"))["status"]
        .as_str()
        .expect("status")
        .to_owned()
}

#[tokio::test]
async fn rgw_an_object_another_user_wrote_is_theirs_and_the_bucket_owner_is_refused_it() {
    let Some(rgw) =
        Rgw::get("rgw_an_object_another_user_wrote_is_theirs_and_the_bucket_owner_is_refused_it")
    else {
        return;
    };
    // The owner's bucket; s3doctor-app may write into it (a bucket-policy grant) and does.
    let bucket = rgw.bucket().await;
    let policy = json!({"Version": "2012-10-17", "Statement": [{"Effect": "Allow",
        "Principal": {"AWS": ["arn:aws:iam:::user/s3doctor-app"]},
        "Action": ["s3:ListBucket", "s3:PutObject", "s3:GetObject"],
        "Resource": [format!("arn:aws:s3:::{bucket}"), format!("arn:aws:s3:::{bucket}/*")]}]});
    rgw.put_policy(&bucket, &policy).await;
    for (keys, key) in [(&rgw.user, THEIRS), (&rgw.owner, OURS)] {
        rgw.s3(keys)
            .put_object()
            .bucket(&bucket)
            .key(key)
            .body(aws_sdk_s3::primitives::ByteStream::from_static(b"hello"))
            .send()
            .await
            .expect("put object on RGW");
    }

    // The bucket owner's app reads both, with the owner's keys as the admin profile too.
    let out = rgw
        .run(
            &rgw.url,
            &rgw.owner,
            &[
                "check",
                "--format",
                "json",
                "--bucket",
                &bucket,
                "--key",
                THEIRS,
                "--key",
                OURS,
                "--admin-profile",
                "owner",
            ],
        )
        .profiles(&[("owner", &rgw.owner)])
        .output()
        .await;
    let report = out.json();

    assert_eq!(out.code, 1, "{report:#}");
    assert_eq!(row_status(&report, OURS), "pass", "{report:#}");
    assert_eq!(row_status(&report, THEIRS), "fail", "{report:#}");
    let found = about(&report, THEIRS);
    assert_eq!(found.len(), 1, "{found:#?}");
    let f = found[0];
    assert_eq!(f["code"], "object.other-owner", "{f:#}");
    assert_eq!(f["evidence"]["http_status"], 403);
    let summary = f["summary"].as_str().expect("summary");
    // The listing named the owner; only the owner may read the object's ACL on RGW.
    assert!(summary.contains("Its owner: s3doctor-app"), "{summary}");
    assert!(summary.contains("readable by its owner only"), "{summary}");
    // RGW has no Object Ownership: the remedy is the owner's ACL grant, then AWS's setting.
    let remedy = f["remedy"].as_str().expect("remedy");
    assert!(remedy.contains("put-object-acl"), "{remedy}");
    assert!(remedy.contains("BucketOwnerEnforced"), "{remedy}");
    // Read, never written: the object is still the writer's, with its content.
    let body = rgw
        .s3(&rgw.user)
        .get_object()
        .bucket(&bucket)
        .key(THEIRS)
        .send()
        .await
        .expect("the writer reads it")
        .body
        .collect()
        .await
        .expect("body")
        .to_vec();
    assert_eq!(body, b"hello");
}
