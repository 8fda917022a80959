//! The `app-object` step (`--key KEY`) against the emulator, with IAM enforcement on, for what
//! moto decides itself: a bucket-policy Deny on a prefix (moto enforces it on object requests,
//! for every principal), a key that is not there, an identity policy scoped to a prefix. Every
//! request s3doctor sends is recorded by `proxy`, to show that the app's object is only read.

use serde_json::{Value, json};

use crate::peer::{ACCOUNT, Keys, Peer, READ_WRITE, Run, codes, detail, s3_allow, status};
use crate::proxy::{Fault, Proxy};

/// The object the app cannot read, and one beside it that it can.
const REPORT: &str = "finance/q3-report.pdf";
const LOGO: &str = "public/logo.png";

/// The row of `app-object` for `key`.
fn object_row<'a>(report: &'a Value, key: &str) -> &'a Value {
    report["steps"]
        .as_array()
        .expect("steps")
        .iter()
        .find(|s| s["id"] == "app-object" && s["key"] == key)
        .unwrap_or_else(|| panic!("no app-object row for {key} in {report:#}"))
}

/// The findings about `key`.
fn about<'a>(report: &'a Value, key: &str) -> Vec<&'a Value> {
    report["findings"]
        .as_array()
        .expect("findings")
        .iter()
        .filter(|f| f["key"] == key)
        .collect()
}

/// `check --format json` of `bucket` with these keys, `--key` for each of `objects`, and
/// `extra` flags (the emulator's admin is the profile `admin`).
async fn check(
    peer: &Peer,
    keys: &Keys,
    bucket: &str,
    objects: &[&str],
    extra: &[&str],
) -> (i32, Value) {
    let mut run = Run::new(&["check", "--format", "json", "--bucket", bucket])
        .keys(peer, keys)
        .profiles(&[("admin", &peer.admin)]);
    for o in objects {
        run = run.arg("--key").arg(o);
    }
    for a in extra {
        run = run.arg(a);
    }
    let out = run.output().await;
    (out.code, out.json())
}

const ADMIN: &[&str] = &["--admin-profile", "admin"];

/// A bucket holding the two objects.
async fn bucket_with_objects(peer: &Peer) -> String {
    let bucket = peer.bucket("us-east-1").await;
    peer.put(&bucket, REPORT, b"%PDF-1.7 quarterly figures")
        .await;
    peer.put(&bucket, LOGO, b"\x89PNG").await;
    bucket
}

#[tokio::test]
async fn a_bucket_policy_deny_on_a_prefix_is_named_on_the_key_while_the_probe_passes() {
    // moto enforces a bucket-policy Deny on object requests (for every principal: it ignores
    // the Principal); the probe under .s3doctor/ is outside finance/*.
    let peer = Peer::get();
    let bucket = bucket_with_objects(&peer).await;
    peer.s3("us-east-1")
        .put_bucket_policy()
        .bucket(&bucket)
        .policy(
            json!({"Version": "2012-10-17", "Statement": [
                {"Sid": "DenyFinanceReads", "Effect": "Deny", "Principal": "*",
                 "Action": "s3:GetObject",
                 "Resource": format!("arn:aws:s3:::{bucket}/finance/*")}]})
            .to_string(),
        )
        .send()
        .await
        .expect("put bucket policy");
    let user = peer.user(Some(s3_allow(&[&bucket], READ_WRITE))).await;

    let (code, report) = check(&peer, &user, &bucket, &[REPORT, LOGO], ADMIN).await;

    assert_eq!(code, 1, "{report:#}");
    assert_eq!(status(&report, "get-object", Some(&bucket)), "pass");
    assert_eq!(object_row(&report, LOGO)["status"], "pass", "{report:#}");
    assert_eq!(object_row(&report, REPORT)["status"], "fail", "{report:#}");
    let found = about(&report, REPORT);
    assert_eq!(found.len(), 1, "{found:#?}");
    let deny = found[0];
    assert_eq!(deny["code"], "permission.explicit-deny", "{deny:#}");
    assert_eq!(deny["action"], "s3:GetObject");
    assert_eq!(deny["source"], "bucket-policy");
    assert_eq!(deny["basis"], "policies");
    assert_eq!(deny["statement"]["sid"], "DenyFinanceReads", "{deny:#}");
    assert!(
        deny["summary"]
            .as_str()
            .unwrap()
            .contains(&format!("{bucket}/{REPORT}")),
        "{deny:#}"
    );
    // The live refusal is the evidence.
    assert_eq!(deny["evidence"]["http_status"], 403, "{deny:#}");
    // The bucket-policy step agrees: it names the Deny on the key, not "denies none".
    let bp = detail(&report, "bucket-policy", Some(&bucket));
    assert!(
        bp.contains(&format!("denies s3:GetObject on {REPORT}")),
        "{bp}"
    );
    assert!(about(&report, LOGO).is_empty(), "{report:#}");

    // Without the admin profile the keys cannot read the policies: a bare 403 for keys that
    // may list the bucket is a refusal, said as an inference that names --admin-profile.
    let (code, report) = check(&peer, &user, &bucket, &[REPORT], &[]).await;
    assert_eq!(code, 1);
    let found = about(&report, REPORT);
    assert_eq!(found.len(), 1, "{found:#?}");
    assert_eq!(found[0]["code"], "permission.missing", "{report:#}");
    assert_eq!(found[0]["basis"], "inferred");
    assert!(
        found[0]["summary"]
            .as_str()
            .unwrap()
            .contains("--admin-profile")
    );
}

#[tokio::test]
async fn a_key_that_is_not_there_is_not_found() {
    let peer = Peer::get();
    let bucket = bucket_with_objects(&peer).await;
    let user = peer.user(Some(s3_allow(&[&bucket], READ_WRITE))).await;

    let (code, report) = check(&peer, &user, &bucket, &["finance/q3-report.PDF"], &[]).await;

    assert_eq!(code, 1, "{report:#}");
    let row = object_row(&report, "finance/q3-report.PDF");
    assert_eq!(row["status"], "fail");
    assert!(
        row["detail"].as_str().unwrap().contains("does not exist"),
        "{row:#}"
    );
    let found = about(&report, "finance/q3-report.PDF");
    assert_eq!(found.len(), 1, "{found:#?}");
    assert_eq!(found[0]["code"], "object.not-found");
    assert_eq!(found[0]["basis"], "aws-message", "a 404 says so");
    assert_eq!(found[0]["evidence"]["http_status"], 404);
    // Everything else is fine: the one finding is the key's.
    assert_eq!(codes(&report), ["object.not-found"], "{report:#}");
}

#[tokio::test]
async fn without_list_rights_a_403_says_both_causes_and_the_admin_tells_which() {
    // The keys may read only uploads/*, and not list: moto refuses finance/missing.pdf with a
    // 403, as AWS does for keys without s3:ListBucket whether or not the key exists.
    let peer = Peer::get();
    let bucket = bucket_with_objects(&peer).await;
    let user = peer
        .user(Some(json!({"Version": "2012-10-17", "Statement": [
            {"Sid": "Uploads", "Effect": "Allow",
             "Action": ["s3:GetObject", "s3:PutObject", "s3:DeleteObject"],
             "Resource": format!("arn:aws:s3:::{bucket}/uploads/*")}]})))
        .await;
    let missing = "finance/missing.pdf";
    let scoped = ["--prefix", "uploads/"];

    let (code, report) = check(&peer, &user, &bucket, &[missing], &scoped).await;

    assert_eq!(code, 1, "{report:#}");
    assert_eq!(status(&report, "list-objects", Some(&bucket)), "fail");
    let found = about(&report, missing);
    assert_eq!(found.len(), 1, "{found:#?}");
    assert_eq!(found[0]["code"], "object.not-found", "{report:#}");
    assert_eq!(found[0]["basis"], "inferred", "a 403 leaves it open");
    let summary = found[0]["summary"].as_str().unwrap();
    assert!(summary.contains("both are possible"), "{summary}");
    assert!(summary.contains("s3:ListBucket"), "{summary}");
    assert!(
        object_row(&report, missing)["detail"]
            .as_str()
            .unwrap()
            .contains("does not exist, or reading it is refused")
    );

    // The admin's own HeadObject gets the 404: the key is not there.
    let with_admin = [scoped[0], scoped[1], ADMIN[0], ADMIN[1]];
    let (_, report) = check(&peer, &user, &bucket, &[missing], &with_admin).await;
    let found = about(&report, missing);
    let not_found = found
        .iter()
        .find(|f| f["code"] == "object.not-found")
        .unwrap_or_else(|| panic!("{report:#}"));
    assert_eq!(not_found["basis"], "aws-message", "{report:#}");
    assert_eq!(not_found["evidence"]["http_status"], 404);
    assert!(
        not_found["summary"]
            .as_str()
            .unwrap()
            .contains("admin profile's HeadObject got the 404")
    );
    // The policies, now readable, add what is also true: nothing lets the keys read finance/*.
    let codes: Vec<&str> = found.iter().map(|f| f["code"].as_str().unwrap()).collect();
    assert_eq!(
        codes,
        ["object.not-found", "permission.missing"],
        "{report:#}"
    );
}

#[tokio::test]
async fn an_identity_policy_scoped_to_a_prefix_is_a_missing_allow_on_the_key_that_fix_cures() {
    let peer = Peer::get();
    let bucket = bucket_with_objects(&peer).await;
    let user = peer
        .user(Some(json!({"Version": "2012-10-17", "Statement": [
            {"Sid": "List", "Effect": "Allow", "Action": "s3:ListBucket",
             "Resource": format!("arn:aws:s3:::{bucket}")},
            {"Sid": "Probe", "Effect": "Allow",
             "Action": ["s3:GetObject", "s3:PutObject", "s3:DeleteObject"],
             "Resource": format!("arn:aws:s3:::{bucket}/.s3doctor/*")},
            {"Sid": "PublicOnly", "Effect": "Allow", "Action": "s3:GetObject",
             "Resource": format!("arn:aws:s3:::{bucket}/public/*")}]})))
        .await;

    let (code, report) = check(&peer, &user, &bucket, &[REPORT, LOGO], ADMIN).await;

    assert_eq!(code, 1, "{report:#}");
    assert_eq!(status(&report, "get-object", Some(&bucket)), "pass");
    assert_eq!(object_row(&report, LOGO)["status"], "pass", "{report:#}");
    let found = about(&report, REPORT);
    assert_eq!(found.len(), 1, "{found:#?}");
    let missing = found[0];
    assert_eq!(missing["code"], "permission.missing", "{missing:#}");
    assert_eq!(missing["basis"], "policies");
    assert_eq!(missing["source"], "identity-policy");
    // The identity-policies step weighs the key too, and says so.
    let ip = detail(&report, "identity-policies", Some(&bucket));
    assert!(
        ip.contains(&format!("s3:GetObject on {REPORT} not allowed")),
        "{ip}"
    );

    // `fix --key` attaches the least-privilege policy and verifies on the key itself.
    let fixed = Run::new(&[
        "fix",
        "--bucket",
        &bucket,
        "--yes",
        "--admin-profile",
        "admin",
    ])
    .keys(&peer, &user)
    .profiles(&[("admin", &peer.admin)])
    .arg("--key")
    .arg(REPORT)
    .output()
    .await;
    assert_eq!(fixed.code, 0, "{}\n{}", fixed.stdout, fixed.stderr);
    let (code, report) = check(&peer, &user, &bucket, &[REPORT], &[]).await;
    assert_eq!(code, 0, "{report:#}");
    assert_eq!(object_row(&report, REPORT)["status"], "pass");
    // The object is as it was: read, never written.
    assert_eq!(
        peer.object(&bucket, REPORT).await,
        b"%PDF-1.7 quarterly figures"
    );
}

#[tokio::test]
async fn the_apps_object_is_only_ever_read() {
    // Every request of a run with --key, recorded on its way to the emulator: the key is only
    // read (HEAD, GET, GET ?acl), by the app's keys and the admin's, never written, its ACL
    // never set, never deleted.
    let peer = Peer::get();
    let bucket = bucket_with_objects(&peer).await;
    let user = peer.user(Some(s3_allow(&[&bucket], READ_WRITE))).await;
    let proxy = Proxy::start(&peer.url, Fault::Forward).await;

    let out = Run::new(&[
        "check",
        "--format",
        "json",
        "--bucket",
        &bucket,
        "--key",
        REPORT,
        "--access",
        "full",
        "--multipart",
        "--admin-profile",
        "admin",
        "--endpoint-url",
        &proxy.url,
    ])
    .env("AWS_ACCESS_KEY_ID", &user.id)
    .env("AWS_SECRET_ACCESS_KEY", &user.secret)
    .profiles(&[("admin", &peer.admin)])
    .output()
    .await;

    let report = out.json();
    assert_eq!(object_row(&report, REPORT)["status"], "pass", "{report:#}");
    let seen = proxy.seen();
    let on_key: Vec<_> = seen.iter().filter(|s| s.key == REPORT).collect();
    assert!(
        on_key.iter().any(|s| s.method == "HEAD"),
        "no HeadObject: {seen:#?}"
    );
    let ranged: Vec<_> = on_key
        .iter()
        .filter(|s| s.method == "GET" && !s.query.contains("acl"))
        .collect();
    assert!(!ranged.is_empty(), "no GET: {seen:#?}");
    for get in &ranged {
        assert_eq!(get.header("range"), Some("bytes=0-0"), "{get:?}");
    }
    for s in &on_key {
        assert!(
            s.method == "HEAD" || s.method == "GET",
            "a {} on the app's object: {s:?}",
            s.method
        );
    }
    // The probes wrote, set an ACL and deleted elsewhere, as ever: the run did write.
    assert!(seen.iter().any(|s| s.is_put_object()), "{seen:#?}");
    assert_eq!(
        peer.object(&bucket, REPORT).await,
        b"%PDF-1.7 quarterly figures"
    );
}

#[tokio::test]
async fn a_prefix_scoped_fix_adds_the_apps_object_outside_the_prefix() {
    // The app writes under uploads/ (--prefix) and must read finance/q3-report.pdf too: the
    // generated policy is scoped to uploads/*, and names the object besides, by its ARN.
    let peer = Peer::get();
    let bucket = bucket_with_objects(&peer).await;
    let user = peer.user(None).await;
    let scoped = ["--prefix", "uploads/", "--key", REPORT];
    let (code, _) = check(&peer, &user, &bucket, &[], &scoped).await;
    assert_eq!(code, 1);

    let fixed = Run::new(&[
        "fix",
        "--bucket",
        &bucket,
        "--yes",
        "--admin-profile",
        "admin",
    ])
    .keys(&peer, &user)
    .profiles(&[("admin", &peer.admin)])
    .arg(scoped[0])
    .arg(scoped[1])
    .arg(scoped[2])
    .arg(scoped[3])
    .output()
    .await;
    assert_eq!(fixed.code, 0, "{}\n{}", fixed.stdout, fixed.stderr);
    // The attached policy names the object by its ARN, beside the prefix.
    let arn = format!("arn:aws:iam::{ACCOUNT}:policy/s3doctor-{bucket}-read-write");
    let (_, default) = peer.versions(&arn).await;
    let version = peer
        .iam
        .get_policy_version()
        .policy_arn(&arn)
        .version_id(&default)
        .send()
        .await
        .expect("policy version");
    let doc = version
        .policy_version()
        .and_then(|v| v.document())
        .expect("document");
    // IAM returns policy documents URL-encoded (RFC 3986).
    let doc = crate::proxy::percent_decode(doc);
    assert!(doc.contains("\"AppObjects\""), "{doc}");
    assert!(
        doc.contains(&format!("arn:aws:s3:::{bucket}/{REPORT}")),
        "{doc}"
    );
    assert!(
        doc.contains(&format!("arn:aws:s3:::{bucket}/uploads/*")),
        "{doc}"
    );

    let (code, report) = check(&peer, &user, &bucket, &[], &scoped).await;
    assert_eq!(code, 0, "{report:#}");
    assert_eq!(object_row(&report, REPORT)["status"], "pass");
    // The policy stays scoped: the other object is still out of reach.
    let (_, report) = check(&peer, &user, &bucket, &[LOGO], &scoped[..2]).await;
    assert_eq!(object_row(&report, LOGO)["status"], "fail", "{report:#}");
}

#[tokio::test]
async fn the_objects_own_kms_key_is_judged_by_the_kms_key_step() {
    // The bucket has no default encryption; the app's object was written with its own KMS
    // key, whose (default) key policy leaves the decision to IAM, and the app's policy has no
    // kms:Decrypt. moto serves the object anyway (it does not enforce KMS), so the policies,
    // read with the admin profile, say what AWS would refuse: the key named by the object.
    let peer = Peer::get();
    let bucket = peer.bucket("us-east-1").await;
    let kms = aws_sdk_kms::Client::from_conf(
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
    );
    let created = kms.create_key().send().await.expect("create key");
    let key_arn = created
        .key_metadata()
        .and_then(|m| m.arn())
        .expect("key arn")
        .to_owned();
    peer.s3("us-east-1")
        .put_object()
        .bucket(&bucket)
        .key(REPORT)
        .body(aws_sdk_s3::primitives::ByteStream::from_static(b"%PDF"))
        .server_side_encryption(aws_sdk_s3::types::ServerSideEncryption::AwsKms)
        .ssekms_key_id(&key_arn)
        .send()
        .await
        .expect("put object with its own KMS key");
    let user = peer.user(Some(s3_allow(&[&bucket], READ_WRITE))).await;

    let (code, report) = check(&peer, &user, &bucket, &[REPORT], ADMIN).await;

    assert_eq!(code, 1, "{report:#}");
    assert_eq!(
        status(&report, "kms-key", Some(&bucket)),
        "fail",
        "{report:#}"
    );
    let kms_detail = detail(&report, "kms-key", Some(&bucket));
    assert!(
        kms_detail.contains(&format!("the key of {REPORT}")),
        "{kms_detail}"
    );
    let found = about(&report, REPORT);
    let refused = found
        .iter()
        .find(|f| f["code"] == "permission.kms")
        .unwrap_or_else(|| panic!("{report:#}"));
    assert_eq!(refused["action"], "kms:Decrypt");
    assert_eq!(refused["resource"], key_arn.as_str(), "{refused:#}");
    assert_eq!(refused["step"], "kms-key");
    // The app-object row read the object (moto does not enforce KMS) and named its key.
    assert!(
        object_row(&report, REPORT)["detail"]
            .as_str()
            .unwrap()
            .contains(&key_arn),
        "{report:#}"
    );
}
