//! The `kms-key` step against the emulator, which serves kms:DescribeKey and kms:GetKeyPolicy
//! to its admin with IAM enforcement on: the bucket's default key, its key policy and the
//! principal's identity policies decide together, read with `--admin-profile`.

use aws_sdk_s3::types::{
    ServerSideEncryption, ServerSideEncryptionByDefault, ServerSideEncryptionConfiguration,
    ServerSideEncryptionRule,
};
use serde_json::{Value, json};

use crate::peer::{Keys, Peer, READ_WRITE, Run, codes, detail, finding, status};

fn kms(peer: &Peer) -> aws_sdk_kms::Client {
    aws_sdk_kms::Client::from_conf(
        aws_sdk_kms::Config::builder()
            .behavior_version(aws_sdk_kms::config::BehaviorVersion::latest())
            .region(aws_sdk_kms::config::Region::new("us-east-1"))
            .endpoint_url(&peer.url)
            .credentials_provider(aws_credential_types::Credentials::new(
                &peer.admin.id,
                &peer.admin.secret,
                None,
                None,
                "test-admin",
            ))
            .build(),
    )
}

/// A bucket whose default encryption is a new customer managed key with `key_policy` (the
/// default policy when `None`); returns the bucket and the key's ARN.
async fn kms_bucket(peer: &Peer, key_policy: Option<Value>) -> (String, String) {
    let mut create = kms(peer).create_key();
    if let Some(p) = key_policy {
        create = create.policy(p.to_string());
    }
    let key = create.send().await.expect("create key");
    let arn = key
        .key_metadata()
        .and_then(|m| m.arn())
        .expect("key arn")
        .to_owned();
    let bucket = peer.bucket("us-east-1").await;
    peer.s3("us-east-1")
        .put_bucket_encryption()
        .bucket(&bucket)
        .server_side_encryption_configuration(
            ServerSideEncryptionConfiguration::builder()
                .rules(
                    ServerSideEncryptionRule::builder()
                        .apply_server_side_encryption_by_default(
                            ServerSideEncryptionByDefault::builder()
                                .sse_algorithm(ServerSideEncryption::AwsKms)
                                .kms_master_key_id(&arn)
                                .build()
                                .expect("default"),
                        )
                        .build(),
                )
                .build()
                .expect("config"),
        )
        .send()
        .await
        .expect("put bucket encryption");
    (bucket, arn)
}

fn allow(bucket: &str, actions: &[&str], kms_actions: &[&str]) -> Value {
    let mut statements = vec![json!({"Effect": "Allow", "Action": actions,
        "Resource": [format!("arn:aws:s3:::{bucket}"), format!("arn:aws:s3:::{bucket}/*")]})];
    if !kms_actions.is_empty() {
        statements.push(json!({"Effect": "Allow", "Action": kms_actions, "Resource": "*"}));
    }
    json!({"Version": "2012-10-17", "Statement": statements})
}

async fn check(peer: &Peer, keys: &Keys, bucket: &str, admin: bool) -> Value {
    let mut run = Run::new(&["check", "--format", "json", "--bucket", bucket])
        .keys(peer, keys)
        .profiles(&[("admin", &peer.admin)]);
    if admin {
        run = run.arg("--admin-profile").arg("admin");
    }
    run.output().await.json()
}

#[tokio::test]
async fn a_key_policy_that_enables_iam_leaves_the_decision_to_the_identity_policy() {
    let peer = Peer::get();
    let (bucket, arn) = kms_bucket(&peer, None).await;
    let without = peer.user(Some(allow(&bucket, READ_WRITE, &[]))).await;
    let with = peer
        .user(Some(allow(
            &bucket,
            READ_WRITE,
            &["kms:GenerateDataKey", "kms:Decrypt"],
        )))
        .await;

    let report = check(&peer, &without, &bucket, true).await;
    assert_eq!(
        status(&report, "kms-key", Some(&bucket)),
        "fail",
        "{report:#}"
    );
    for action in ["kms:GenerateDataKey", "kms:Decrypt"] {
        let f = finding(&report, "permission.kms", Some(action));
        assert_eq!(f["step"], "kms-key");
        let summary = f["summary"].as_str().expect("summary");
        assert!(summary.contains(&arn), "{summary}");
        assert!(summary.contains("enables IAM policies"), "{summary}");
    }

    let report = check(&peer, &with, &bucket, true).await;
    assert_eq!(
        status(&report, "kms-key", Some(&bucket)),
        "pass",
        "{report:#}"
    );
    assert!(!codes(&report).contains(&"permission.kms".to_owned()));
}

#[tokio::test]
async fn a_key_policy_that_names_someone_else_cannot_be_fixed_with_an_identity_policy() {
    let peer = Peer::get();
    let only_admin = json!({"Version": "2012-10-17", "Statement": [{"Sid": "AdminOnly",
        "Effect": "Allow", "Principal": {"AWS": format!("arn:aws:iam::123456789012:user/{}", peer.admin.name)},
        "Action": "kms:*", "Resource": "*"}]});
    let (bucket, _) = kms_bucket(&peer, Some(only_admin)).await;
    let user = peer
        .user(Some(allow(&bucket, READ_WRITE, &["kms:*"])))
        .await;

    let report = check(&peer, &user, &bucket, true).await;

    assert_eq!(
        status(&report, "kms-key", Some(&bucket)),
        "fail",
        "{report:#}"
    );
    let f = finding(&report, "permission.kms", Some("kms:Decrypt"));
    let summary = f["summary"].as_str().expect("summary");
    assert!(summary.contains("neither names"), "{summary}");
}

#[tokio::test]
async fn the_step_is_only_there_with_an_admin_profile_and_skips_buckets_without_kms() {
    let peer = Peer::get();
    let (bucket, _) = kms_bucket(&peer, None).await;
    let user = peer.user(Some(allow(&bucket, READ_WRITE, &[]))).await;
    let report = check(&peer, &user, &bucket, false).await;
    assert!(
        !report["steps"]
            .as_array()
            .expect("steps")
            .iter()
            .any(|s| s["id"] == "kms-key"),
        "{report:#}"
    );

    let plain = peer.bucket("us-east-1").await;
    let user = peer.user(Some(allow(&plain, READ_WRITE, &[]))).await;
    let report = check(&peer, &user, &plain, true).await;
    assert_eq!(status(&report, "kms-key", Some(&plain)), "skip");
    assert!(detail(&report, "kms-key", Some(&plain)).contains("does not encrypt with a KMS key"));
}
