//! `s3doctor` against the second test peer, Ceph RGW (`scripts/rgw.sh`, started by
//! `scripts/test.sh`): a real S3 server that is not AWS — no STS, no IAM managed policies,
//! empty error messages, zonegroups instead of regions. Users come from the script
//! (radosgw-admin); every test creates its own buckets and policies with the owner's keys.
//! Without `S3DOCTOR_RGW_URL` each test says SKIPPED on stderr and returns.

use serde_json::{Value, json};

use crate::peer::{Keys, Output, Run, closed_port, codes, s3_client, status, unique};

/// The RGW peer: its two endpoints and the users `scripts/rgw.sh` seeded.
#[allow(dead_code)] // the policy tests use the rest
pub struct Rgw {
    /// radosgw whose zonegroup api_name is `default` (the stock install).
    pub url: String,
    /// radosgw of the same cluster whose zonegroup api_name is named like an AWS region.
    pub awslike_url: String,
    pub awslike_zonegroup: String,
    /// Owns every test bucket (RGW: the creator owns a bucket).
    pub owner: Keys,
    /// `s3doctor-app`: reaches a bucket only through its policy.
    pub user: Keys,
    /// `s3doctor-other`: never granted anything.
    pub other: Keys,
    /// `s3dtenant$s3doctor-app`: a user of tenant `s3dtenant`.
    pub tenant: Keys,
}

fn keys(name: &str, role: &str) -> Option<Keys> {
    Some(Keys {
        name: name.to_owned(),
        id: std::env::var(format!("S3DOCTOR_RGW_{role}_KEY_ID")).ok()?,
        secret: std::env::var(format!("S3DOCTOR_RGW_{role}_SECRET")).ok()?,
        token: None,
    })
}

#[allow(dead_code)] // the policy tests use the rest
impl Rgw {
    /// The peer, or `None` after one loud line when `scripts/test.sh` did not start it.
    pub fn get(test: &str) -> Option<Rgw> {
        let Ok(url) = std::env::var("S3DOCTOR_RGW_URL") else {
            eprintln!(
                "SKIPPED {test}: S3DOCTOR_RGW_URL is unset, Ceph RGW is not running \
                 (scripts/test.sh starts it; scripts/rgw.sh install says what it needs)"
            );
            return None;
        };
        let var = |n: &str| std::env::var(n).unwrap_or_else(|_| panic!("{n} is not set"));
        Some(Rgw {
            url,
            awslike_url: var("S3DOCTOR_RGW_AWSLIKE_URL"),
            awslike_zonegroup: var("S3DOCTOR_RGW_AWSLIKE_ZONEGROUP"),
            owner: keys("s3doctor-owner", "OWNER").expect("owner keys"),
            user: keys("s3doctor-app", "USER").expect("user keys"),
            other: keys("s3doctor-other", "OTHER").expect("other keys"),
            tenant: keys("s3dtenant$s3doctor-app", "TENANT").expect("tenant keys"),
        })
    }

    pub fn s3(&self, keys: &Keys) -> aws_sdk_s3::Client {
        s3_client(&self.url, keys, "us-east-1")
    }

    /// A new bucket owned by `s3doctor-owner`.
    pub async fn bucket(&self) -> String {
        let name = unique("rgw");
        self.s3(&self.owner)
            .create_bucket()
            .bucket(&name)
            .send()
            .await
            .expect("create bucket on RGW");
        name
    }

    pub async fn put_policy(&self, bucket: &str, doc: &Value) {
        self.s3(&self.owner)
            .put_bucket_policy()
            .bucket(bucket)
            .policy(doc.to_string())
            .send()
            .await
            .expect("put bucket policy on RGW");
    }

    /// The bucket's policy as the owner reads it (`None` when it has none).
    pub async fn policy(&self, bucket: &str) -> Option<Value> {
        match self
            .s3(&self.owner)
            .get_bucket_policy()
            .bucket(bucket)
            .send()
            .await
        {
            Ok(out) => Some(serde_json::from_str(out.policy().expect("policy")).expect("JSON")),
            Err(e) => {
                let code = aws_sdk_s3::error::ProvideErrorMetadata::code(&e).map(str::to_owned);
                assert_eq!(code.as_deref(), Some("NoSuchBucketPolicy"), "{e:?}");
                None
            }
        }
    }

    /// Every key in the bucket, sorted (read as the owner).
    pub async fn keys(&self, bucket: &str) -> Vec<String> {
        let out = self
            .s3(&self.owner)
            .list_objects_v2()
            .bucket(bucket)
            .send()
            .await
            .expect("list objects on RGW");
        let mut keys: Vec<String> = out
            .contents()
            .iter()
            .filter_map(|o| o.key().map(str::to_owned))
            .collect();
        keys.sort();
        keys
    }

    /// `s3doctor ARGS… --endpoint-url URL` with these keys in the standard variables.
    pub fn run(&self, url: &str, keys: &Keys, args: &[&str]) -> Run {
        Run::new(args)
            .arg("--endpoint-url")
            .arg(url)
            .env("AWS_ACCESS_KEY_ID", &keys.id)
            .env("AWS_SECRET_ACCESS_KEY", &keys.secret)
    }

    /// `check --format json` of one bucket.
    pub async fn check(&self, keys: &Keys, bucket: &str, extra: &[&str]) -> (Output, Value) {
        let mut run = self.run(
            &self.url,
            keys,
            &["check", "--format", "json", "--bucket", bucket],
        );
        for a in extra {
            run = run.arg(a);
        }
        let out = run.output().await;
        let report = out.json();
        (out, report)
    }
}

/// The peer, or return from the test after the SKIPPED line.
macro_rules! rgw {
    ($test:expr) => {
        match Rgw::get($test) {
            Some(rgw) => rgw,
            None => return,
        }
    };
}

#[tokio::test]
async fn rgw_the_peer_answers_as_the_notes_say() {
    let rgw = rgw!("rgw_the_peer_answers_as_the_notes_say");
    let bucket = rgw.bucket().await;
    let s3 = rgw.s3(&rgw.owner);
    let location = s3
        .get_bucket_location()
        .bucket(&bucket)
        .send()
        .await
        .expect("location");
    assert_eq!(
        location.location_constraint().map(|c| c.as_str()),
        Some("default")
    );
    let awslike = s3_client(&rgw.awslike_url, &rgw.owner, "us-east-1")
        .get_bucket_location()
        .bucket(&bucket)
        .send()
        .await
        .expect("location");
    assert_eq!(
        location_str(&awslike),
        Some(rgw.awslike_zonegroup.as_str()),
        "the second radosgw answers with the renamed zonegroup"
    );
    // The other user sees nothing of the owner's bucket.
    let denied = rgw
        .s3(&rgw.other)
        .list_objects_v2()
        .bucket(&bucket)
        .send()
        .await
        .expect_err("another user may not list");
    assert_eq!(
        aws_sdk_s3::error::ProvideErrorMetadata::code(&denied),
        Some("AccessDenied")
    );
}

fn location_str(
    out: &aws_sdk_s3::operation::get_bucket_location::GetBucketLocationOutput,
) -> Option<&str> {
    out.location_constraint().map(|c| c.as_str())
}

#[tokio::test]
async fn rgw_wrong_secret_is_a_signature_mismatch() {
    let rgw = rgw!("rgw_wrong_secret_is_a_signature_mismatch");
    let bucket = rgw.bucket().await;
    let wrong = Keys {
        secret: "x".repeat(40),
        ..rgw.owner.clone()
    };
    let (out, report) = rgw.check(&wrong, &bucket, &[]).await;
    assert_eq!(out.code, 1, "{report:#}");
    assert!(
        codes(&report).contains(&"credentials.signature-mismatch".to_owned()),
        "{report:#}"
    );
    assert!(!out.stdout.contains(&rgw.owner.secret));
}

#[tokio::test]
async fn rgw_unknown_key_is_an_invalid_key_id() {
    let rgw = rgw!("rgw_unknown_key_is_an_invalid_key_id");
    let bucket = rgw.bucket().await;
    let unknown = Keys {
        id: "S3DUNKNOWNKEY0000000".into(),
        ..rgw.owner.clone()
    };
    let (out, report) = rgw.check(&unknown, &bucket, &[]).await;
    assert_eq!(out.code, 1, "{report:#}");
    assert!(
        codes(&report).contains(&"credentials.invalid-key-id".to_owned()),
        "{report:#}"
    );
}

#[tokio::test]
async fn rgw_missing_bucket_is_not_found() {
    let rgw = rgw!("rgw_missing_bucket_is_not_found");
    let bucket = unique("rgw-missing");
    let (out, report) = rgw.check(&rgw.owner, &bucket, &[]).await;
    assert_eq!(out.code, 1, "{report:#}");
    assert_eq!(status(&report, "bucket-exists", Some(&bucket)), "fail");
    assert!(
        codes(&report).contains(&"bucket.not-found".to_owned()),
        "{report:#}"
    );
}

#[tokio::test]
async fn rgw_endpoint_down_is_unreachable() {
    let rgw = rgw!("rgw_endpoint_down_is_unreachable");
    let down = format!("http://127.0.0.1:{}", closed_port());
    let out = rgw
        .run(
            &down,
            &rgw.owner,
            &["check", "--format", "json", "--bucket", "anything"],
        )
        .output()
        .await;
    let report = out.json();
    assert_eq!(out.code, 1, "{report:#}");
    assert!(
        codes(&report).contains(&"endpoint.unreachable".to_owned()),
        "{report:#}"
    );
}

#[allow(dead_code)]
fn app_policy(bucket: &str, principal: &str) -> Value {
    json!({"Version": "2012-10-17", "Statement": [
        {"Sid": "AppReadWrite", "Effect": "Allow", "Principal": {"AWS": [principal]},
         "Action": ["s3:ListBucket", "s3:GetObject", "s3:PutObject"],
         "Resource": [format!("arn:aws:s3:::{bucket}"), format!("arn:aws:s3:::{bucket}/*")]},
        {"Sid": "NoDeletes", "Effect": "Deny", "Principal": {"AWS": [principal]},
         "Action": ["s3:DeleteObject"], "Resource": [format!("arn:aws:s3:::{bucket}/*")]}
    ]})
}
