//! `s3doctor` against the second test peer, Ceph RGW (`scripts/rgw.sh`, started by
//! `scripts/test.sh`): a real S3 server that is not AWS — no STS, no IAM managed policies,
//! empty error messages, zonegroups instead of regions. Users come from the script
//! (radosgw-admin); every test creates its own buckets and policies with the owner's keys.
//! Without `S3DOCTOR_RGW_URL` each test says SKIPPED on stderr and returns.

use serde_json::{Value, json};

use crate::peer::{Keys, Output, Run, closed_port, codes, s3_client, sorted_keys, status, unique};

/// The RGW peer: its two endpoints and the users `scripts/rgw.sh` seeded.
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
        sorted_keys(&self.s3(&self.owner), bucket).await
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
    // Advice that exists on RGW, not AWS's IAM console.
    let text = all_text(&report);
    assert!(text.contains("radosgw-admin key create"), "{text}");
    assert!(!text.contains("IAM > Users"), "{text}");
}

/// RGW has no STS, and a HEAD answer has no body: with refused keys HeadBucket answers 403
/// whether the bucket exists or not. ListBuckets' refusal says the keys were refused, so
/// bucket-exists says "not known", never "exists".
#[tokio::test]
async fn rgw_refused_keys_and_a_missing_bucket_never_read_as_exists() {
    let rgw = rgw!("rgw_refused_keys_and_a_missing_bucket_never_read_as_exists");
    let missing = unique("rgw-missing");
    let wrong_secret = Keys {
        secret: "x".repeat(40),
        ..rgw.owner.clone()
    };
    let unknown_key = Keys {
        id: "S3DUNKNOWNKEY0000000".into(),
        ..rgw.owner.clone()
    };
    for (keys, code) in [
        (&wrong_secret, "credentials.signature-mismatch"),
        (&unknown_key, "credentials.invalid-key-id"),
    ] {
        let (out, report) = rgw.check(keys, &missing, &[]).await;
        assert_eq!(out.code, 1, "{report:#}");
        assert!(codes(&report).contains(&code.to_owned()), "{report:#}");
        assert_eq!(
            status(&report, "bucket-exists", Some(&missing)),
            "warn",
            "{report:#}"
        );
        let d = crate::peer::detail(&report, "bucket-exists", Some(&missing));
        assert!(
            d.starts_with("not known: Ceph RGW refused these keys"),
            "{d}"
        );
        assert!(!d.contains(" exists ("), "{d}");
    }
}

/// Words for the server that answered: on RGW no text says AWS answered, offers IAM read
/// rights where there is no IAM, calls an unimplemented call "could not be read", or says
/// `aws-message` of something no answer said.
#[tokio::test]
async fn rgw_every_word_names_the_server_that_answered() {
    let rgw = rgw!("rgw_every_word_names_the_server_that_answered");
    let bucket = rgw.bucket().await;
    let text = |keys: &Keys, extra: &[&str]| {
        let mut run = rgw
            .run(&rgw.url, keys, &["check", "--bucket", &bucket])
            .profiles(&[("owner", &rgw.owner)]);
        for a in extra {
            run = run.arg(a);
        }
        run.output()
    };
    // A user without a grant (RGW's bare refusals), read with the owner's keys (kms-key).
    let refused = text(&rgw.other, &["--admin-profile", "owner"]).await;
    let out = &refused.stdout;
    assert!(
        out.contains("Ceph RGW answered a bare \"Access Denied\""),
        "{out}"
    );
    assert!(
        out.contains("How known: inferred (Ceph RGW did not say why)"),
        "{out}"
    );
    assert!(out.contains("--admin-profile OWNER"), "{out}");
    assert!(
        out.contains("kms-key         the bucket's default encryption is unknown: Ceph RGW does not implement GetBucketEncryption"),
        "{out}"
    );
    assert!(out.contains("How known: observed"), "{out}");
    // Keys RGW refuses: its answer, said as RGW's.
    let wrong = Keys {
        secret: "x".repeat(40),
        ..rgw.owner.clone()
    };
    let mismatch = text(&wrong, &[]).await;
    assert!(
        mismatch
            .stdout
            .contains("How known: aws-message (Ceph RGW's answer says so)"),
        "{}",
        mismatch.stdout
    );
    for out in [&refused.stdout, &mismatch.stdout] {
        for never in [
            "AWS answered",
            "AWS's answer",
            "AWS did not say",
            "no answer came from AWS",
            "IAM read rights",
            "could not be read: GetBucketEncryption",
            "-> 200",
        ] {
            assert!(!out.contains(never), "{never}: {out}");
        }
    }
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

/// Allows list/get/put to `principal` and denies delete (Sid `NoDeletes`), plus a statement
/// for someone else that must survive every change s3doctor makes.
fn app_policy(bucket: &str, principal: &str) -> Value {
    json!({"Version": "2012-10-17", "Statement": [
        {"Sid": "AppReadWrite", "Effect": "Allow", "Principal": {"AWS": [principal]},
         "Action": ["s3:ListBucket", "s3:GetObject", "s3:PutObject"],
         "Resource": [format!("arn:aws:s3:::{bucket}"), format!("arn:aws:s3:::{bucket}/*")]},
        {"Sid": "NoDeletes", "Effect": "Deny", "Principal": {"AWS": [principal]},
         "Action": ["s3:DeleteObject"], "Resource": [format!("arn:aws:s3:::{bucket}/*")]},
        {"Sid": "OtherReads", "Effect": "Allow", "Principal": {"AWS": ["arn:aws:iam:::user/s3doctor-other"]},
         "Action": ["s3:GetObject"], "Resource": [format!("arn:aws:s3:::{bucket}/*")]}
    ]})
}

fn findings_of<'a>(report: &'a Value, code: &str) -> Vec<&'a Value> {
    report["findings"]
        .as_array()
        .expect("findings")
        .iter()
        .filter(|f| f["code"] == code)
        .collect()
}

/// Every finding's text, for "never says X" assertions.
fn all_text(report: &Value) -> String {
    report["findings"]
        .as_array()
        .expect("findings")
        .iter()
        .map(|f| format!("{} {} {}", f["title"], f["summary"], f["remedy"]))
        .collect::<Vec<_>>()
        .join("\n")
}

#[tokio::test]
async fn rgw_the_bucket_owner_is_healthy_with_an_unconfirmed_principal_and_no_wrong_region() {
    let rgw =
        rgw!("rgw_the_bucket_owner_is_healthy_with_an_unconfirmed_principal_and_no_wrong_region");
    let bucket = rgw.bucket().await;
    let (out, report) = rgw.check(&rgw.owner, &bucket, &[]).await;

    assert_eq!(out.code, 0, "{report:#}\n{}", out.stderr);
    assert_eq!(report["ok"], true);
    assert_eq!(report["target"]["endpoint_kind"], "ceph-rgw");
    assert_eq!(
        report["target"]["endpoint_capabilities"],
        json!({"kind": "ceph-rgw", "sts": false, "iam": false})
    );
    // No STS: the principal is what RGW's ListBuckets says, in RGW's own ARN form.
    assert_eq!(status(&report, "identity", None), "pass");
    assert_eq!(
        report["identity"]["arn"],
        "arn:aws:iam:::user/s3doctor-owner"
    );
    assert_eq!(report["identity"]["confirmed"], false);
    // The zonegroup `default` is RGW's name, not an AWS region to compare with us-east-1.
    assert_eq!(status(&report, "bucket-region", Some(&bucket)), "pass");
    for step in [
        "bucket-exists",
        "list-objects",
        "put-object",
        "get-object",
        "delete-object",
        "bucket-policy",
    ] {
        assert_eq!(
            status(&report, step, Some(&bucket)),
            "pass",
            "{step}: {report:#}"
        );
    }
    // RGW answers ?ownershipControls and ?encryption with a bucket listing: not supported,
    // said as a warning, never read as "no configuration".
    let unsupported = findings_of(&report, "endpoint.unsupported");
    assert_eq!(unsupported.len(), 2, "{report:#}");
    assert!(unsupported.iter().all(|f| f["severity"] == "warning"));
    let other: Vec<String> = codes(&report)
        .into_iter()
        .filter(|c| c != "endpoint.unsupported")
        .collect();
    assert_eq!(other, Vec::<String>::new(), "{report:#}");
    let policy_step = crate::peer::detail(&report, "bucket-policy", Some(&bucket));
    assert!(
        policy_step.contains("not supported by Ceph RGW"),
        "{policy_step}"
    );
    // The probe is gone.
    assert!(rgw.keys(&bucket).await.is_empty());
    // The text report names the server and says the principal is unconfirmed.
    let text = rgw
        .run(&rgw.url, &rgw.owner, &["check", "--bucket", &bucket])
        .output()
        .await;
    assert_eq!(text.code, 0, "{}", text.stdout);
    assert!(text.stdout.contains("(Ceph RGW)"), "{}", text.stdout);
    assert!(text.stdout.contains("unconfirmed"), "{}", text.stdout);
}

#[tokio::test]
async fn rgw_a_tenants_user_is_named_in_rgws_tenant_arn_form() {
    let rgw = rgw!("rgw_a_tenants_user_is_named_in_rgws_tenant_arn_form");
    let bucket = rgw.bucket().await;
    let (_, report) = rgw.check(&rgw.tenant, &bucket, &["--read-only"]).await;
    assert_eq!(
        report["identity"]["arn"], "arn:aws:iam::s3dtenant:user/s3doctor-app",
        "{report:#}"
    );
    assert_eq!(report["identity"]["principal_name"], "s3doctor-app");
}

#[tokio::test]
async fn rgw_expect_principal_tells_keys_of_someone_else() {
    let rgw = rgw!("rgw_expect_principal_tells_keys_of_someone_else");
    let bucket = rgw.bucket().await;
    let (out, report) = rgw
        .check(&rgw.other, &bucket, &["--expect-principal", "s3doctor-app"])
        .await;
    assert_eq!(out.code, 1, "{report:#}");
    let f = &findings_of(&report, "credentials.unexpected-principal")[0];
    assert_eq!(f["evidence"]["operation"], "ListBuckets", "{f:#}");
}

#[tokio::test]
async fn rgw_a_second_user_without_a_grant_is_refused_and_told_to_use_the_bucket_policy() {
    let rgw =
        rgw!("rgw_a_second_user_without_a_grant_is_refused_and_told_to_use_the_bucket_policy");
    let bucket = rgw.bucket().await;
    let (out, report) = rgw.check(&rgw.other, &bucket, &[]).await;

    assert_eq!(out.code, 1, "{report:#}");
    assert_eq!(status(&report, "identity", None), "pass");
    assert_eq!(status(&report, "list-objects", Some(&bucket)), "fail");
    assert_eq!(status(&report, "put-object", Some(&bucket)), "fail");
    let missing = findings_of(&report, "permission.missing");
    assert!(!missing.is_empty(), "{report:#}");
    for f in &missing {
        let remedy = f["remedy"].as_str().expect("remedy");
        assert!(remedy.contains("bucket policy"), "{remedy}");
        assert!(
            remedy.contains("arn:aws:iam:::user/s3doctor-other"),
            "{remedy}"
        );
    }
    // Nothing that does not exist on RGW.
    let text = all_text(&report);
    for never in [
        "Attach a least-privilege policy",
        "IAM console",
        "managed policy that",
    ] {
        assert!(!text.contains(never), "{never}: {text}");
    }
    assert!(
        crate::peer::detail(&report, "identity-policies", Some(&bucket))
            .contains("no IAM managed policies"),
        "{report:#}"
    );
    assert!(
        crate::peer::detail(&report, "bucket-policy", Some(&bucket))
            .contains("only the bucket owner may read it"),
        "{report:#}"
    );
    // No credential or region problem is blamed.
    assert!(
        codes(&report)
            .iter()
            .all(|c| c.starts_with("permission.") || c == "endpoint.unsupported"),
        "{report:#}"
    );
}

#[tokio::test]
async fn rgw_a_bucket_policy_deny_on_delete_is_named_by_its_sid_and_no_allow_is_offered() {
    let rgw =
        rgw!("rgw_a_bucket_policy_deny_on_delete_is_named_by_its_sid_and_no_allow_is_offered");
    let bucket = rgw.bucket().await;
    rgw.put_policy(
        &bucket,
        &app_policy(&bucket, "arn:aws:iam:::user/s3doctor-app"),
    )
    .await;
    let mut run = rgw
        .run(
            &rgw.url,
            &rgw.user,
            &["check", "--format", "json", "--bucket", &bucket],
        )
        .profiles(&[("owner", &rgw.owner)]);
    run = run.arg("--admin-profile").arg("owner");
    let out = run.output().await;
    let report = out.json();

    assert_eq!(out.code, 1, "{report:#}");
    for step in ["list-objects", "put-object", "get-object"] {
        assert_eq!(status(&report, step, Some(&bucket)), "pass", "{step}");
    }
    assert_eq!(status(&report, "delete-object", Some(&bucket)), "fail");
    let deny = crate::peer::finding(&report, "permission.explicit-deny", Some("s3:DeleteObject"));
    assert_eq!(deny["source"], "bucket-policy", "{deny:#}");
    assert_eq!(deny["statement"]["sid"], "NoDeletes", "{deny:#}");
    // An Allow cannot beat the Deny: none is offered.
    assert!(
        findings_of(&report, "permission.missing").is_empty(),
        "{report:#}"
    );
    assert_eq!(report["policy"], Value::Null, "{report:#}");
    // The probe the app could not delete was removed with the owner's keys.
    assert!(rgw.keys(&bucket).await.is_empty());
}

#[tokio::test]
async fn rgw_zonegroups_named_like_an_aws_region_or_not_are_never_a_wrong_region() {
    let rgw = rgw!("rgw_zonegroups_named_like_an_aws_region_or_not_are_never_a_wrong_region");
    let bucket = rgw.bucket().await;
    for (url, zonegroup) in [
        (&rgw.url, "default"),
        (&rgw.awslike_url, rgw.awslike_zonegroup.as_str()),
    ] {
        for region in ["us-east-1", "eu-central-1"] {
            let out = rgw
                .run(
                    url,
                    &rgw.owner,
                    &[
                        "check",
                        "--format",
                        "json",
                        "--read-only",
                        "--bucket",
                        &bucket,
                    ],
                )
                .env("AWS_REGION", region)
                .output()
                .await;
            let report = out.json();
            assert_eq!(out.code, 0, "{zonegroup} / {region}: {report:#}");
            assert!(
                !codes(&report).contains(&"bucket.wrong-region".to_owned()),
                "{report:#}"
            );
            let d = crate::peer::detail(&report, "bucket-region", Some(&bucket));
            assert!(
                d.contains(&format!("\"{zonegroup}\"")) && d.contains(region),
                "{d}"
            );
        }
    }
}

#[tokio::test]
async fn rgw_the_bucket_policy_fix_is_applied_verified_and_undone_keeping_every_other_statement() {
    let rgw = rgw!(
        "rgw_the_bucket_policy_fix_is_applied_verified_and_undone_keeping_every_other_statement"
    );
    let bucket = rgw.bucket().await;
    let original = json!({"Version": "2012-10-17", "Statement": [
        {"Sid": "OtherReads", "Effect": "Allow",
         "Principal": {"AWS": ["arn:aws:iam:::user/s3doctor-other"]},
         "Action": ["s3:GetObject"], "Resource": [format!("arn:aws:s3:::{bucket}/*")]},
        {"Sid": "NoOneDeletesArchive", "Effect": "Deny", "Principal": {"AWS": ["*"]},
         "Action": ["s3:DeleteObject"], "Resource": [format!("arn:aws:s3:::{bucket}/archive/*")]}
    ]});
    rgw.put_policy(&bucket, &original).await;
    let fix = |args: &[&str]| {
        let mut run = rgw
            .run(
                &rgw.url,
                &rgw.user,
                &["fix", "--bucket", &bucket, "--admin-profile", "owner"],
            )
            .profiles(&[("owner", &rgw.owner)]);
        for a in args {
            run = run.arg(a);
        }
        run
    };

    // Without --yes (and no terminal) nothing changes.
    let refused = fix(&[]).output().await;
    assert_eq!(refused.code, 2, "{}", refused.stderr);
    assert_eq!(rgw.policy(&bucket).await, Some(original.clone()));

    let out = fix(&["--yes"]).output().await;
    assert_eq!(
        out.code, 0,
        "stdout:\n{}\nstderr:\n{}",
        out.stdout, out.stderr
    );
    assert!(
        out.stderr.contains("has no IAM managed policies"),
        "{}",
        out.stderr
    );
    assert!(
        !out.stderr.contains("iam:AttachUserPolicy"),
        "{}",
        out.stderr
    );
    let applied = rgw.policy(&bucket).await.expect("a policy");
    let statements = applied["Statement"].as_array().expect("statements");
    let sids: Vec<&str> = statements
        .iter()
        .filter_map(|s| s["Sid"].as_str())
        .collect();
    assert_eq!(
        sids,
        [
            "OtherReads",
            "NoOneDeletesArchive",
            "S3doctors3doctorappBucket",
            "S3doctors3doctorappObjects"
        ]
    );
    assert_eq!(statements[0], original["Statement"][0]);
    assert_eq!(statements[1], original["Statement"][1]);
    assert_eq!(
        statements[2]["Principal"]["AWS"][0],
        "arn:aws:iam:::user/s3doctor-app"
    );

    // Verified independently: the app's own check passes now.
    let (after, report) = rgw.check(&rgw.user, &bucket, &[]).await;
    assert_eq!(after.code, 0, "{report:#}");
    assert!(rgw.keys(&bucket).await.is_empty(), "the probe is gone");

    let undo = fix(&["--undo", "--yes"]).output().await;
    assert_eq!(undo.code, 0, "{}", undo.stderr);
    assert_eq!(rgw.policy(&bucket).await, Some(original));
    let (again, _) = rgw.check(&rgw.user, &bucket, &[]).await;
    assert_eq!(again.code, 1, "undone: the app is refused again");
}

#[tokio::test(flavor = "multi_thread")]
async fn rgw_in_the_wizard_f_then_y_adds_the_bucket_policy_statements_and_verifies() {
    use crate::terminal::{Tmux, all_done, row};
    let rgw = rgw!("rgw_in_the_wizard_f_then_y_adds_the_bucket_policy_statements_and_verifies");
    let bucket = rgw.bucket().await;
    let tmux = Tmux::start_with(
        &rgw.url,
        Some(&rgw.owner),
        &rgw.user,
        &["--bucket", &bucket, "--auto", "--admin-profile", "admin"],
    );
    tmux.wait_for("the failed upload", |s| {
        row(s, "put-object").contains('✗') && all_done(s)
    });
    let screen = tmux.wait_for("the header", |s| s.contains("unconfirmed"));
    assert!(
        screen.contains("arn:aws:iam:::user/s3doctor-app"),
        "{screen}"
    );
    tmux.keys("f");
    tmux.wait_for("the remedy screen", |s| s.contains("s3:PutBucketPolicy"));
    // Nothing is written before y.
    assert_eq!(rgw.policy(&bucket).await, None);
    tmux.keys("y");
    tmux.wait_for("the verification", |s| s.contains("Fixed and verified"));
    let policy = rgw.policy(&bucket).await.expect("a bucket policy");
    assert_eq!(
        policy["Statement"].as_array().map(Vec::len),
        Some(2),
        "{policy:#}"
    );
    tmux.keys("Escape");
    tmux.wait_for("the upload to pass", |s| {
        row(s, "put-object").contains('✓') && !s.contains('✗')
    });
    tmux.keys("q");
    let screen = tmux.wait_for("the exit", |s| s.contains("MODES-DONE"));
    assert!(screen.contains("EXIT=0"), "{screen}");
}

#[tokio::test]
async fn rgw_fix_export_hands_over_the_statements_and_commands_and_changes_nothing() {
    let rgw = rgw!("rgw_fix_export_hands_over_the_statements_and_commands_and_changes_nothing");
    let bucket = rgw.bucket().await;
    let run = rgw.run(&rgw.url, &rgw.user, &["fix", "--bucket", &bucket]);
    let path = run.file("fix.md");
    let out = run
        .arg("--export")
        .arg(&path.display().to_string())
        .output()
        .await;
    assert_eq!(out.code, 1, "{}", out.stderr);
    let md = std::fs::read_to_string(&path).expect("export");
    assert!(md.contains("S3doctors3doctorappObjects"), "{md}");
    assert!(md.contains("arn:aws:iam:::user/s3doctor-app"), "{md}");
    assert!(
        md.contains(&format!("aws s3api put-bucket-policy --bucket {bucket}")),
        "{md}"
    );
    assert!(md.contains(&format!("--endpoint-url {}", rgw.url)), "{md}");
    assert!(!md.contains("attach-user-policy"), "{md}");
    assert!(!out.stdout.contains(&rgw.user.secret) && !md.contains(&rgw.user.secret));
    // Without the owner's keys the app may not read the policy: the plan says so, and
    // nothing is written even with --yes.
    let blocked = rgw
        .run(&rgw.url, &rgw.user, &["fix", "--yes", "--bucket", &bucket])
        .output()
        .await;
    assert_eq!(blocked.code, 1, "{}", blocked.stderr);
    assert!(
        blocked.stderr.contains("--admin-profile OWNER"),
        "{}",
        blocked.stderr
    );
    assert_eq!(rgw.policy(&bucket).await, None);
}

/// On a server without IAM, keys that may not read the bucket's policy get a plan that says
/// so: the policy (a Deny among its statements) is never taken for "no policy", the hand-over
/// asks for a merge of the statements to add, `--yes` writes nothing, and the plan never says
/// the change would be made with keys that cannot make it (only the bucket owner's can).
#[tokio::test]
async fn rgw_a_bucket_policy_the_app_may_not_read_is_never_taken_for_no_policy() {
    let rgw = rgw!("rgw_a_bucket_policy_the_app_may_not_read_is_never_taken_for_no_policy");
    let bucket = rgw.bucket().await;
    let original = json!({"Version": "2012-10-17", "Statement": [
        {"Sid": "OtherReads", "Effect": "Allow",
         "Principal": {"AWS": ["arn:aws:iam:::user/s3doctor-other"]},
         "Action": ["s3:GetObject"], "Resource": [format!("arn:aws:s3:::{bucket}/*")]},
        {"Sid": "NoOneDeletesArchive", "Effect": "Deny", "Principal": {"AWS": ["*"]},
         "Action": ["s3:DeleteObject"], "Resource": [format!("arn:aws:s3:::{bucket}/archive/*")]}
    ]});
    rgw.put_policy(&bucket, &original).await;

    let run = rgw.run(&rgw.url, &rgw.user, &["fix", "--bucket", &bucket]);
    let path = run.file("fix.md");
    let out = run
        .arg("--export")
        .arg(&path.display().to_string())
        .output()
        .await;
    assert_eq!(out.code, 1, "{}", out.stderr);
    let plan = &out.stderr;
    assert!(
        plan.contains("the current policy could not be read"),
        "{plan}"
    );
    assert!(!plan.contains("statement(s) there are kept"), "{plan}");
    assert!(
        plan.contains("acting as  the bucket owner's keys, which this run does not have"),
        "{plan}"
    );
    assert!(
        !plan.contains("acting as  the diagnosed credentials"),
        "{plan}"
    );
    let md = std::fs::read_to_string(&path).expect("export");
    assert!(
        md.contains("**s3doctor could not read its current policy**"),
        "{md}"
    );
    assert!(md.contains("merge them into it"), "{md}");
    assert!(
        !md.contains("no policy yet") && !md.contains("had no policy"),
        "{md}"
    );
    assert!(md.contains("S3doctors3doctorappObjects"), "{md}");
    assert_eq!(rgw.policy(&bucket).await, Some(original.clone()));

    let yes = rgw
        .run(&rgw.url, &rgw.user, &["fix", "--yes", "--bucket", &bucket])
        .output()
        .await;
    assert_eq!(yes.code, 1, "{}", yes.stderr);
    assert!(
        yes.stderr
            .contains("s3doctor does not write a bucket policy it has not read"),
        "{}",
        yes.stderr
    );
    assert!(yes.stderr.contains("nothing was changed"), "{}", yes.stderr);
    assert_eq!(rgw.policy(&bucket).await, Some(original));
}
