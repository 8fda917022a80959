//! `s3doctor check` against the emulator: every scenario of the runbook, the three formats,
//! exit codes, bad input, and the promises about probes and secrets.

use serde_json::{Value, json};

use crate::peer::{
    Keys, Peer, READ_WRITE, Run, closed_port, codes, detail, finding, s3_allow, status,
};

async fn check_json(peer: &Peer, keys: &Keys, buckets: &[&str], extra: &[&str]) -> (i32, Value) {
    let mut run = Run::new(&["check", "--format", "json"]).keys(peer, keys);
    for b in buckets {
        run = run.arg("--bucket").arg(b);
    }
    for a in extra {
        run = run.arg(a);
    }
    let out = run.output().await;
    (out.code, out.json())
}

#[tokio::test]
async fn a_healthy_user_passes_every_step_and_leaves_the_bucket_as_it_was() {
    let peer = Peer::get();
    let bucket = peer.bucket("us-east-1").await;
    peer.put(&bucket, "tracks/existing.mp3", b"old bytes").await;
    let user = peer.user(Some(s3_allow(&[&bucket], READ_WRITE))).await;

    let (code, report) = check_json(&peer, &user, &[&bucket], &[]).await;

    assert_eq!(code, 0, "{report:#}");
    assert_eq!(report["schema"], "s3doctor.report/v1");
    assert_eq!(report["ok"], true);
    assert_eq!(codes(&report), Vec::<String>::new());
    assert_eq!(report["policy"], Value::Null);
    assert_eq!(report["identity"]["principal_type"], "user");
    assert_eq!(report["identity"]["principal_name"], user.name.as_str());
    assert_eq!(report["target"]["credential_source"], "environment");
    for step in ["credentials", "identity"] {
        assert_eq!(status(&report, step, None), "pass", "{step}");
    }
    for step in [
        "bucket-exists",
        "bucket-region",
        "list-objects",
        "put-object",
        "get-object",
        "delete-object",
    ] {
        assert_eq!(status(&report, step, Some(&bucket)), "pass", "{step}");
    }
    // put-object-acl is only part of --access full.
    assert!(
        !report["steps"]
            .as_array()
            .expect("steps")
            .iter()
            .any(|s| s["id"] == "put-object-acl")
    );
    // The probe is gone and the existing object is untouched.
    assert_eq!(peer.keys(&bucket).await, vec!["tracks/existing.mp3"]);
    assert_eq!(
        peer.object(&bucket, "tracks/existing.mp3").await,
        b"old bytes".to_vec()
    );
}

/// Issue 14: no more AWS calls per healthy bucket than before the newer steps (8). Whose
/// bucket it is rides on the download (ExpectedBucketOwner) and whether it encrypts with KMS
/// on the upload's answer, so neither needs a call of its own when those worked.
#[tokio::test]
async fn a_healthy_bucket_takes_eight_aws_calls_the_download_tells_the_owner_the_upload_the_encryption()
 {
    let peer = Peer::get();
    let bucket = peer.bucket("us-east-1").await;
    let user = peer.user(Some(s3_allow(&[&bucket], READ_WRITE))).await;
    let run = Run::new(&["check", "--format", "json", "--bucket", &bucket])
        .keys(&peer, &user)
        .arg("--log");
    let log = run.file("debug.log");
    let out = run.arg(&log.display().to_string()).output().await;

    let report = out.json();
    assert_eq!(out.code, 0, "{report:#}");
    let log = out.read("debug.log");
    let calls = |op: &str| {
        log.lines()
            .filter(|l| l.contains(&format!("operation=\"{op}\"")))
            .count()
    };
    let all = log.lines().filter(|l| l.contains("operation=\"")).count();
    // The emulator refuses this user's HeadBucket (a 403 still carries the region); the
    // region is then confirmed with GetBucketLocation, a call the eight do not count.
    assert_eq!(all - calls("GetBucketLocation"), 8, "{log}");
    // The bucket check's HeadBucket only: no second one with ExpectedBucketOwner.
    assert_eq!(calls("HeadBucket"), 1, "{log}");
    assert_eq!(calls("GetBucketEncryption"), 0, "{log}");
    assert_eq!(calls("GetObject"), 1, "{log}");
    // Still told: the owner (no other-account finding) and why multipart did not run.
    assert!(
        !report.to_string().contains("bucket.other-account"),
        "{report:#}"
    );
    assert!(
        detail(&report, "multipart-upload", Some(&bucket)).contains("does not encrypt with KMS"),
        "{report:#}"
    );
}

#[tokio::test]
async fn incident_1_a_user_without_any_policy_read_from_the_apps_env_file() {
    let peer = Peer::get();
    let bucket = peer.bucket("us-east-1").await;
    let user = peer.user(None).await;
    let run =
        Run::new(&["check", "--format", "json", "--endpoint-url", &peer.url]).unset("AWS_REGION");
    let env_file = run.file("app.env");
    std::fs::write(
        &env_file,
        format!(
            "# the app's .env\nS3_ACCESS_KEY={}\nS3_SECRET_KEY={}\nS3_REGION=us-east-1\nS3_BUCKET={bucket}\n",
            user.id, user.secret
        ),
    )
    .expect("env file");
    let out = run
        .arg("--env-file")
        .arg(&env_file.display().to_string())
        .output()
        .await;
    let report = out.json();

    assert_eq!(out.code, 1, "{}", out.stderr);
    assert_eq!(report["ok"], false);
    assert_eq!(report["target"]["buckets"], json!([bucket]));
    assert_eq!(report["target"]["region"], "us-east-1");
    assert!(
        report["target"]["credential_source"]
            .as_str()
            .expect("source")
            .starts_with("env file"),
        "{report:#}"
    );
    assert_eq!(
        report["identity"]["arn"],
        format!("arn:aws:iam::123456789012:user/{}", user.name)
    );
    assert_eq!(status(&report, "identity", None), "pass");
    assert_eq!(status(&report, "list-objects", Some(&bucket)), "fail");
    assert_eq!(status(&report, "put-object", Some(&bucket)), "fail");
    let put = finding(&report, "permission.missing", Some("s3:PutObject"));
    assert_eq!(put["severity"], "error");
    assert_eq!(put["bucket"], bucket.as_str());
    assert_eq!(put["evidence"]["operation"], "PutObject");
    assert_eq!(put["evidence"]["http_status"], 403);
    assert_eq!(put["evidence"]["error_code"], "AccessDenied");
    finding(&report, "permission.missing", Some("s3:ListBucket"));
    // No credential or region problem is blamed.
    assert!(
        codes(&report).iter().all(|c| c.starts_with("permission.")),
        "{:?}",
        codes(&report)
    );
    // The policy that fixes it: ListBucket on the bucket, object actions on bucket/*.
    let policy = &report["policy"];
    let text = policy.to_string();
    assert!(
        text.contains(&format!("\"arn:aws:s3:::{bucket}\"")),
        "{text}"
    );
    assert!(
        text.contains(&format!("\"arn:aws:s3:::{bucket}/*\"")),
        "{text}"
    );
    assert!(text.contains("s3:PutObject") && text.contains("s3:ListBucket"));
    // The credentials step names the env file's variables it used; never the secret.
    let used = detail(&report, "credentials", None);
    for name in ["S3_ACCESS_KEY", "S3_SECRET_KEY", "S3_REGION", "S3_BUCKET"] {
        assert!(used.contains(name), "{name} not named: {used}");
    }
    assert!(!out.stdout.contains(&user.secret) && !out.stderr.contains(&user.secret));
}

#[tokio::test]
async fn a_policy_for_another_bucket_is_a_missing_permission_on_this_one() {
    let peer = Peer::get();
    let bucket = peer.bucket("us-east-1").await;
    let other = peer.bucket("us-east-1").await;
    let user = peer.user(Some(s3_allow(&[&other], READ_WRITE))).await;

    let (code, report) = check_json(&peer, &user, &[&bucket, &other], &[]).await;

    assert_eq!(code, 1);
    assert_eq!(status(&report, "put-object", Some(&other)), "pass");
    assert_eq!(status(&report, "put-object", Some(&bucket)), "fail");
    let put = finding(&report, "permission.missing", Some("s3:PutObject"));
    assert_eq!(put["bucket"], bucket.as_str());
    assert!(
        report["findings"]
            .as_array()
            .expect("findings")
            .iter()
            .all(|f| f["bucket"] == bucket.as_str()),
        "{report:#}"
    );
    // The fix names only the bucket that lacks access.
    let text = report["policy"].to_string();
    assert!(text.contains(&bucket) && !text.contains(&other), "{text}");
}

#[tokio::test]
async fn a_wrong_secret_is_a_signature_mismatch() {
    let peer = Peer::get();
    let bucket = peer.bucket("us-east-1").await;
    let mut user = peer.user(Some(s3_allow(&[&bucket], READ_WRITE))).await;
    // Change the last character to one it is not, so the secret is always wrong.
    let last = if user.secret.ends_with('x') { 'y' } else { 'x' };
    user.secret = format!("{}{last}", &user.secret[..user.secret.len() - 1]);

    let (code, report) = check_json(&peer, &user, &[&bucket], &[]).await;

    assert_eq!(code, 1);
    assert_eq!(codes(&report), vec!["credentials.signature-mismatch"]);
    let f = finding(&report, "credentials.signature-mismatch", None);
    assert_eq!(f["evidence"]["error_code"], "SignatureDoesNotMatch");
    assert_eq!(status(&report, "identity", None), "fail");
    assert_eq!(report["identity"], Value::Null);
    assert_eq!(status(&report, "put-object", Some(&bucket)), "skip");
}

#[tokio::test]
async fn an_unknown_key_id_is_reported_as_such() {
    let peer = Peer::get();
    let bucket = peer.bucket("us-east-1").await;
    let keys = Keys {
        name: "nobody".into(),
        id: "AKIAIOSFODNN7EXAMPLE".into(),
        secret: "wJalrXUtnFEMI/K7MDENG/bPxRfiCYEXAMPLEKEY".into(),
        token: None,
    };

    let (code, report) = check_json(&peer, &keys, &[&bucket], &[]).await;

    assert_eq!(code, 1);
    assert_eq!(codes(&report), vec!["credentials.invalid-key-id"]);
    assert_eq!(
        finding(&report, "credentials.invalid-key-id", None)["evidence"]["error_code"],
        "InvalidClientTokenId"
    );
}

/// moto answers a wrong session token as AWS answers an expired one: HEAD a bodiless 400 (as
/// for another region), STS InvalidClientTokenId, S3 InvalidToken. Only a region answer is a
/// region: the report names the keys, not the region.
#[tokio::test]
async fn an_invalid_session_token_is_not_a_wrong_region() {
    let peer = Peer::get();
    let bucket = peer.bucket("us-east-1").await;
    let mut user = peer.user(Some(s3_allow(&[&bucket], READ_WRITE))).await;
    user.token = Some("FwoGZXIvYXdzEXAMPLEINVALIDTOKEN".into());

    let (code, report) = check_json(&peer, &user, &[&bucket], &["--region", "us-east-1"]).await;

    assert_eq!(code, 1, "{report:#}");
    let codes = codes(&report);
    assert!(
        codes.iter().all(|c| c.starts_with("credentials.")),
        "{report:#}"
    );
    assert!(!codes.is_empty(), "{report:#}");
    assert_ne!(status(&report, "bucket-exists", Some(&bucket)), "pass");
    let exists = detail(&report, "bucket-exists", Some(&bucket));
    assert!(!exists.contains("another region"), "{exists}");
}

#[tokio::test]
async fn no_credentials_at_all_ends_quickly_even_when_instance_metadata_cannot_connect() {
    let peer = Peer::get();
    let port = closed_port();
    let out = Run::new(&[
        "check",
        "--format",
        "json",
        "--bucket",
        "some-bucket",
        "--endpoint-url",
        &peer.url,
    ])
    .unset("AWS_EC2_METADATA_DISABLED")
    .env(
        "AWS_EC2_METADATA_SERVICE_ENDPOINT",
        &format!("http://127.0.0.1:{port}"),
    )
    .deadline(std::time::Duration::from_secs(20))
    .output()
    .await;
    let report = out.json();

    assert_eq!(out.code, 1);
    assert_eq!(codes(&report), vec!["credentials.missing"]);
    assert_eq!(status(&report, "credentials", None), "fail");
    assert_eq!(status(&report, "identity", None), "skip");

    // In the text report the credential chain's answer (every provider it tried, one line
    // each) is one evidence line under the row, not lines that break the checklist.
    let text = Run::new(&["check", "--bucket", "some-bucket"])
        .arg("--endpoint-url")
        .arg(&peer.url)
        .output()
        .await;
    let lines: Vec<&str> = text.stdout.lines().collect();
    let row = lines
        .iter()
        .position(|l| l.contains("FAIL  credentials"))
        .unwrap_or_else(|| panic!("no credentials row:\n{}", text.stdout));
    assert!(
        lines[row + 1].contains("ResolveCredentials"),
        "{}",
        text.stdout
    );
    assert!(lines[row + 2].contains("SKIP  identity"), "{}", text.stdout);
}

#[tokio::test]
async fn without_credentials_the_report_still_names_the_region_given() {
    let args = ["check", "--bucket", "some-bucket", "--region", "eu-west-1"];
    let json = Run::new(&args)
        .arg("--format")
        .arg("json")
        .unset("AWS_REGION")
        .output()
        .await;
    assert_eq!(json.code, 1, "{}", json.stderr);
    let report = json.json();
    assert_eq!(codes(&report), vec!["credentials.missing"]);
    assert_eq!(report["target"]["region"], "eu-west-1", "{report:#}");
    let text = Run::new(&args).unset("AWS_REGION").output().await;
    assert!(text.stdout.contains("region eu-west-1"), "{}", text.stdout);
    assert!(!text.stdout.contains("none configured"), "{}", text.stdout);
}

#[tokio::test]
async fn a_missing_bucket_is_not_found_and_nothing_else_is_blamed() {
    let peer = Peer::get();
    let bucket = peer.bucket("us-east-1").await;
    let user = peer
        .user(Some(json!({"Version": "2012-10-17", "Statement": [
            {"Effect": "Allow", "Action": "s3:*", "Resource": "*"}]})))
        .await;
    // One letter off an existing bucket: the report offers it.
    let typo = format!("{}x", &bucket[..bucket.len() - 1]);

    let (code, report) = check_json(&peer, &user, &[&typo], &[]).await;

    assert_eq!(code, 1);
    assert_eq!(codes(&report), vec!["bucket.not-found"]);
    assert_eq!(status(&report, "bucket-exists", Some(&typo)), "fail");
    assert_eq!(status(&report, "put-object", Some(&typo)), "skip");
    let f = finding(&report, "bucket.not-found", None);
    assert!(
        f["summary"].as_str().unwrap_or_default().contains(&bucket)
            || f["remedy"].as_str().unwrap_or_default().contains(&bucket),
        "did-you-mean missing: {f:#}"
    );
}

#[tokio::test]
async fn a_bucket_in_another_region_is_a_wrong_region_never_a_permission_problem() {
    let peer = Peer::get();
    let bucket = peer.bucket("eu-west-1").await;
    let user = peer.user(Some(s3_allow(&[&bucket], READ_WRITE))).await;

    let (code, report) = check_json(&peer, &user, &[&bucket], &[]).await;

    assert_eq!(code, 1);
    assert_eq!(codes(&report), vec!["bucket.wrong-region"]);
    let f = finding(&report, "bucket.wrong-region", None);
    let text = format!("{} {}", f["summary"], f["remedy"]);
    assert!(
        text.contains("eu-west-1") && text.contains("us-east-1"),
        "{text}"
    );
    assert_eq!(status(&report, "bucket-region", Some(&bucket)), "fail");
    // The remaining steps ran in the bucket's own region, so they say what the app could do there.
    assert_eq!(status(&report, "put-object", Some(&bucket)), "pass");
    assert!(peer.keys(&bucket).await.is_empty());
}

#[tokio::test]
async fn incident_2_an_explicit_deny_on_delete_blocks_only_the_delete() {
    let peer = Peer::get();
    let bucket = peer.bucket("us-east-1").await;
    let policy = crate::peer::incident_2_policy(&bucket);
    let user = peer.user(Some(policy)).await;

    let (code, report) = check_json(&peer, &user, &[&bucket], &[]).await;

    assert_eq!(code, 1);
    for step in ["list-objects", "put-object", "get-object"] {
        assert_eq!(status(&report, step, Some(&bucket)), "pass", "{step}");
    }
    assert_eq!(status(&report, "delete-object", Some(&bucket)), "fail");
    let denied = report["findings"]
        .as_array()
        .expect("findings")
        .iter()
        .find(|f| f["action"] == "s3:DeleteObject")
        .unwrap_or_else(|| panic!("no finding for s3:DeleteObject: {report:#}"));
    assert!(
        denied["code"]
            .as_str()
            .unwrap_or_default()
            .starts_with("permission."),
        "{denied:#}"
    );
    // Uploads work: nothing about PutObject.
    assert!(
        !report["findings"]
            .as_array()
            .expect("findings")
            .iter()
            .any(|f| f["action"] == "s3:PutObject")
    );
    // The probe could not be deleted: reported with the command that removes it.
    let left = finding(&report, "probe.left-behind", None);
    assert_eq!(left["severity"], "warning");
    let keys = peer.keys(&bucket).await;
    assert_eq!(keys.len(), 1, "{keys:?}");
    assert!(keys[0].starts_with(".s3doctor/probe-"), "{keys:?}");
    assert!(
        left["remedy"]
            .as_str()
            .unwrap_or_default()
            .contains(&keys[0]),
        "{left:#}"
    );
}

#[tokio::test]
async fn a_read_only_user_passes_with_read_only_and_misses_put_without_it() {
    let peer = Peer::get();
    let bucket = peer.bucket("us-east-1").await;
    peer.put(&bucket, "data/existing.csv", b"a,b\n1,2\n").await;
    let user = peer
        .user(Some(s3_allow(
            &[&bucket],
            &["s3:ListBucket", "s3:GetBucketLocation", "s3:GetObject"],
        )))
        .await;

    let (code, report) = check_json(&peer, &user, &[&bucket], &["--read-only"]).await;
    assert_eq!(code, 0, "{report:#}");
    assert_eq!(status(&report, "list-objects", Some(&bucket)), "pass");
    assert_eq!(status(&report, "get-object", Some(&bucket)), "pass");
    assert_eq!(status(&report, "put-object", Some(&bucket)), "skip");
    assert_eq!(status(&report, "delete-object", Some(&bucket)), "skip");

    let (code, report) = check_json(&peer, &user, &[&bucket], &[]).await;
    assert_eq!(code, 1);
    assert_eq!(codes(&report), vec!["permission.missing"]);
    finding(&report, "permission.missing", Some("s3:PutObject"));
    assert_eq!(peer.keys(&bucket).await, vec!["data/existing.csv"]);
    assert_eq!(
        peer.object(&bucket, "data/existing.csv").await,
        b"a,b\n1,2\n".to_vec()
    );
}

#[tokio::test]
async fn the_emulator_down_is_an_unreachable_endpoint() {
    let peer = Peer::get();
    let user = Keys {
        name: "x".into(),
        id: "AKIAIOSFODNN7EXAMPLE".into(),
        secret: "wJalrXUtnFEMI/K7MDENG/bPxRfiCYEXAMPLEKEY".into(),
        token: None,
    };
    let url = format!("http://127.0.0.1:{}", closed_port());
    let out = Run::new(&["check", "--format", "json", "--bucket", "some-bucket"])
        .env("AWS_ACCESS_KEY_ID", &user.id)
        .env("AWS_SECRET_ACCESS_KEY", &user.secret)
        .arg("--endpoint-url")
        .arg(&url)
        .arg("--timeout")
        .arg("3")
        .output()
        .await;
    let _ = peer;
    let report = out.json();
    assert_eq!(out.code, 1);
    assert_eq!(codes(&report), vec!["endpoint.unreachable"]);
    assert_eq!(status(&report, "identity", None), "fail");

    // No answer came: the text does not say that AWS's answer says so.
    let text = Run::new(&["check", "--bucket", "some-bucket", "--timeout", "3"])
        .env("AWS_ACCESS_KEY_ID", &user.id)
        .env("AWS_SECRET_ACCESS_KEY", &user.secret)
        .arg("--endpoint-url")
        .arg(&url)
        .output()
        .await;
    let known = text
        .stdout
        .lines()
        .find(|l| l.trim_start().starts_with("How known:"))
        .unwrap_or_else(|| panic!("no How known line:\n{}", text.stdout));
    assert!(!known.contains("AWS's answer"), "{known}");
    assert!(known.contains("no answer came"), "{known}");
    // Nor that it is known from AWS's message: s3doctor saw it itself.
    assert!(
        known.contains("observed") && !known.contains("aws-message"),
        "{known}"
    );
    assert_eq!(
        crate::peer::finding(&report, "endpoint.unreachable", None)["basis"],
        "observed"
    );

    // The operating system refused the connection: said as a refusal, with the error's own
    // words and no Rust debug dump of it; and no probe is said to be maybe in the bucket,
    // since a refused upload sent nothing.
    let unreachable = crate::peer::finding(&report, "endpoint.unreachable", None);
    let summary = unreachable["summary"].as_str().unwrap_or_default();
    assert!(
        summary.starts_with("The connection was refused"),
        "{unreachable:#}"
    );
    let message = unreachable["evidence"]["message"]
        .as_str()
        .unwrap_or_default();
    assert!(message.starts_with("connection refused: "), "{message}");
    assert!(message.contains("Connection refused"), "{message}");
    assert!(!message.contains("DispatchFailure {"), "{message}");
    assert!(!text.stdout.contains("ConnectorError"), "{}", text.stdout);
    let put = report["steps"]
        .as_array()
        .and_then(|s| s.iter().find(|s| s["id"] == "put-object"))
        .expect("put-object");
    assert!(
        !put["detail"]
            .as_str()
            .unwrap_or_default()
            .contains("may be in the bucket"),
        "{put:#}"
    );
}

/// An endpoint whose host name does not resolve (`.invalid` never does, RFC 2606) is said as a
/// DNS failure, in the step, the finding and the `--log` line alike: the person checks the
/// name, not a firewall or the service.
#[tokio::test]
async fn an_endpoint_whose_name_does_not_resolve_is_said_as_dns() {
    let run = Run::new(&["check", "--format", "json", "--bucket", "some-bucket"])
        .env("AWS_ACCESS_KEY_ID", "AKIAIOSFODNN7EXAMPLE")
        .env(
            "AWS_SECRET_ACCESS_KEY",
            "wJalrXUtnFEMI/K7MDENG/bPxRfiCYEXAMPLEKEY",
        )
        .arg("--endpoint-url")
        .arg("http://s3doctor-test.invalid:9000")
        .arg("--timeout")
        .arg("3")
        .arg("--log");
    let log = run.file("s3doctor.log");
    let out = run.arg(&log.display().to_string()).output().await;
    assert_eq!(out.code, 1, "{}", out.stderr);
    let report = out.json();
    assert_eq!(codes(&report), vec!["endpoint.unreachable"]);
    let identity = report["steps"]
        .as_array()
        .and_then(|s| s.iter().find(|s| s["id"] == "identity"))
        .expect("identity");
    assert_eq!(
        identity["detail"],
        "DNS lookup failed: the endpoint's host name does not resolve"
    );
    let summary = finding(&report, "endpoint.unreachable", None)["summary"]
        .as_str()
        .unwrap_or_default()
        .to_owned();
    assert!(
        summary.starts_with("The endpoint's host name does not resolve"),
        "{summary}"
    );
    let evidence = &identity["evidence"]["message"];
    assert!(
        evidence
            .as_str()
            .is_some_and(|m| m.starts_with("DNS lookup failed: ")),
        "{evidence}"
    );
    let log = out.read("s3doctor.log");
    let unanswered: Vec<&str> = log
        .lines()
        .filter(|l| l.contains("AWS call without an answer"))
        .collect();
    assert!(!unanswered.is_empty(), "{log}");
    for line in unanswered {
        assert!(line.contains("error=\"DNS lookup failed: "), "{line}");
    }
}

#[tokio::test]
async fn probes_use_a_new_key_under_the_prefix_and_never_overwrite() {
    let peer = Peer::get();
    let bucket = peer.bucket("us-east-1").await;
    // Objects under the probe prefix that s3doctor did not write stay as they are.
    peer.put(&bucket, "ci-checks/keep.txt", b"mine").await;
    let policy = json!({"Version": "2012-10-17", "Statement": [
        {"Effect": "Allow", "Action": ["s3:ListBucket", "s3:PutObject", "s3:GetObject"],
         "Resource": [format!("arn:aws:s3:::{bucket}"), format!("arn:aws:s3:::{bucket}/*")]}]});
    let user = peer.user(Some(policy)).await;

    let (_, report) = check_json(&peer, &user, &[&bucket], &["--prefix", "ci-checks/"]).await;

    // No delete permission: the probe stays, so its key can be inspected.
    assert_eq!(status(&report, "put-object", Some(&bucket)), "pass");
    let keys = peer.keys(&bucket).await;
    assert_eq!(keys.len(), 2, "{keys:?}");
    let probe = keys
        .iter()
        .find(|k| *k != "ci-checks/keep.txt")
        .expect("probe");
    assert!(probe.starts_with("ci-checks/probe-"), "{probe}");
    assert_eq!(
        peer.object(&bucket, "ci-checks/keep.txt").await,
        b"mine".to_vec()
    );
    let body = String::from_utf8(peer.object(&bucket, probe).await).expect("utf-8");
    assert!(body.contains("s3doctor probe"), "{body}");
    // A second run writes another probe, never the first one's key.
    let (_, _) = check_json(&peer, &user, &[&bucket], &["--prefix", "ci-checks/"]).await;
    assert_eq!(peer.keys(&bucket).await.len(), 3);
}

#[tokio::test]
async fn the_expected_principal_flags_keys_of_someone_else() {
    let peer = Peer::get();
    let bucket = peer.bucket("us-east-1").await;
    let user = peer.user(Some(s3_allow(&[&bucket], READ_WRITE))).await;

    let (code, report) =
        check_json(&peer, &user, &[&bucket], &["--expect-principal", "Runpod"]).await;
    assert_eq!(code, 1);
    assert!(
        codes(&report).contains(&"credentials.unexpected-principal".to_owned()),
        "{report:#}"
    );

    let (code, report) = check_json(
        &peer,
        &user,
        &[&bucket],
        &["--expect-principal", &user.name],
    )
    .await;
    assert_eq!(code, 0, "{report:#}");
}

#[tokio::test]
async fn an_assumed_role_is_named_as_such() {
    let peer = Peer::get();
    let bucket = peer.bucket("us-east-1").await;
    let session = peer
        .role_session(Some(s3_allow(&[&bucket], READ_WRITE)))
        .await;

    let (code, report) = check_json(&peer, &session, &[&bucket], &[]).await;

    assert_eq!(code, 0, "{report:#}");
    assert_eq!(report["identity"]["principal_type"], "assumed-role");
    assert_eq!(report["identity"]["principal_name"], session.name.as_str());
}

#[tokio::test]
async fn no_secret_appears_in_any_format_file_or_log() {
    let peer = Peer::get();
    let bucket = peer.bucket("us-east-1").await;
    let user = peer.user(None).await;
    let session = peer.role_session(None).await;
    for keys in [&user, &session] {
        for format in ["text", "json", "markdown"] {
            let run = Run::new(&["check", "--format", format, "--bucket", &bucket]);
            let report_file = run.file("report.out");
            let log_file = run.file("debug.log");
            let out = run
                .keys(&peer, keys)
                .arg("--output")
                .arg(&report_file.display().to_string())
                .arg("--log")
                .arg(&log_file.display().to_string())
                .output()
                .await;
            assert_eq!(out.code, 1, "{}", out.stderr);
            let written = out.read("report.out");
            let log = out.read("debug.log");
            assert!(
                written.contains(&bucket),
                "the report file is empty: {written}"
            );
            // One line per AWS call, with its status and request id.
            assert!(
                log.contains("operation=\"GetCallerIdentity\"") && log.contains("request_id="),
                "the debug log misses the calls: {log}"
            );
            // The secret and token never; the key id only as a hint (AKIA…MPLE).
            let mut secrets = vec![keys.secret.as_str(), keys.id.as_str()];
            if let Some(t) = &keys.token {
                secrets.push(t);
            }
            for (what, text) in [
                ("stdout", &out.stdout),
                ("stderr", &out.stderr),
                ("report file", &written),
                ("log", &log),
            ] {
                for s in &secrets {
                    assert!(!text.contains(s), "a secret is in the {format} {what}");
                }
            }
        }
    }
}

#[tokio::test]
async fn text_and_markdown_reports_tell_the_story_of_incident_1() {
    let peer = Peer::get();
    let bucket = peer.bucket("us-east-1").await;
    let user = peer.user(None).await;

    let text = Run::new(&["check", "--bucket", &bucket])
        .keys(&peer, &user)
        .output()
        .await;
    assert_eq!(text.code, 1);
    assert!(!text.stdout.contains('\u{1b}'), "piped text has no colour");
    assert!(
        text.stdout.contains("permission.missing"),
        "{}",
        text.stdout
    );
    assert!(text.stdout.contains("s3:PutObject"));
    assert!(text.stdout.contains(&user.name));

    let md = Run::new(&["check", "--format", "markdown", "--bucket", &bucket])
        .keys(&peer, &user)
        .output()
        .await;
    assert_eq!(md.code, 1);
    assert!(md.stdout.starts_with("# "), "{}", md.stdout);
    assert!(md.stdout.contains("```json"), "{}", md.stdout);
    assert!(md.stdout.contains("aws iam create-policy"), "{}", md.stdout);
    assert!(
        md.stdout.contains(&format!("--user-name {}", user.name)),
        "{}",
        md.stdout
    );
}

#[tokio::test]
async fn bad_input_is_one_line_and_exit_2() {
    let cases: Vec<Vec<&str>> = vec![
        vec!["check", "--bucket", "Not_A_Bucket"],
        vec!["check", "--bucket", "ab"],
        vec!["check", "--no-such-flag"],
        vec![
            "check",
            "--bucket",
            "fine-bucket",
            "--env-file",
            "/nonexistent/app.env",
        ],
        vec!["check", "--bucket", "fine-bucket", "--access", "admin"],
        vec![
            "check",
            "--bucket",
            "fine-bucket",
            "--endpoint-url",
            "localhost:9000",
        ],
        vec!["fix", "--bucket", "fine-bucket"],
        // A region no request can be signed for (it failed every call with an
        // endpoint-construction error, shown as an unexpected answer).
        vec!["check", "--bucket", "fine-bucket", "--region", "us east 1"],
        // Every principal is "not" an empty one: the identity step failed with "not  ".
        vec!["check", "--bucket", "fine-bucket", "--expect-principal", ""],
        // Files s3doctor cannot write: said before the run, not after it.
        vec![
            "check",
            "--bucket",
            "fine-bucket",
            "--output",
            "/nonexistent/report.json",
        ],
        vec!["policy", "--bucket", "fine-bucket", "-o", "/"],
        vec![
            "check",
            "--bucket",
            "fine-bucket",
            "--log",
            "/nonexistent/s3doctor.log",
        ],
        vec![
            "fix",
            "--bucket",
            "fine-bucket",
            "--export",
            "/nonexistent/fix.md",
        ],
    ];
    for args in cases {
        let out = Run::new(&args).output().await;
        assert_eq!(out.code, 2, "{args:?}: {}", out.stderr);
        assert!(out.stdout.is_empty(), "{args:?}");
        let lines: Vec<&str> = out
            .stderr
            .lines()
            .filter(|l| !l.trim().is_empty())
            .collect();
        assert_eq!(lines.len(), 1, "{args:?}: {:?}", out.stderr);
    }
}

/// Access points, Multi-Region Access Points and directory buckets are valid S3 targets, not
/// "invalid bucket names": one line says s3doctor does not check them yet and what to check by
/// hand, exit 2, before anything is sent — from `--bucket` and from an env file alike.
#[tokio::test]
async fn access_points_and_directory_buckets_are_not_checked_yet_and_never_invalid() {
    for name in [
        "arn:aws:s3:us-west-2:123456789012:accesspoint/test",
        "my-ap-hrzrlukc5m36ft7okagglf3gmwluquse1b-s3alias",
        "arn:aws:s3::123456789012:accesspoint/mfzwi23gnjvgw.mrap",
        "bucket-base-name--usw2-az1--x-s3",
    ] {
        for via_env_file in [false, true] {
            let run = Run::new(&["check"]);
            let run = if via_env_file {
                let path = run.file("app.env");
                std::fs::write(&path, format!("S3_BUCKET={name}\n")).expect("env file");
                run.arg("--env-file").arg(&path.display().to_string())
            } else {
                run.arg("--bucket").arg(name)
            };
            let out = run.output().await;
            assert_eq!(out.code, 2, "{name}: {}", out.stderr);
            assert!(out.stdout.is_empty(), "{name}");
            let lines: Vec<&str> = out
                .stderr
                .lines()
                .filter(|l| !l.trim().is_empty())
                .collect();
            assert_eq!(lines.len(), 1, "{name}: {:?}", out.stderr);
            let line = lines[0];
            assert!(line.contains(name), "{line}");
            assert!(line.contains("yet") && line.contains("By hand"), "{line}");
            assert!(!line.to_lowercase().contains("invalid"), "{line}");
        }
    }
}

#[tokio::test]
async fn the_policy_command_prints_just_the_policy() {
    let out = Run::new(&["policy", "--bucket", "clipizy-dev", "--access", "full"])
        .output()
        .await;
    assert_eq!(out.code, 0, "{}", out.stderr);
    let doc = out.json();
    let statements = doc["Statement"].as_array().expect("statements");
    let object = statements
        .iter()
        .find(|s| s["Resource"] == "arn:aws:s3:::clipizy-dev/*")
        .expect("object statement");
    for action in [
        "s3:PutObject",
        "s3:GetObject",
        "s3:DeleteObject",
        "s3:PutObjectAcl",
    ] {
        assert!(
            object["Action"]
                .as_array()
                .expect("actions")
                .contains(&json!(action)),
            "{action}"
        );
    }
    let bucket = statements
        .iter()
        .find(|s| s["Resource"] == "arn:aws:s3:::clipizy-dev")
        .expect("bucket statement");
    assert!(bucket["Action"].to_string().contains("s3:ListBucket"));
}

#[tokio::test]
async fn the_policy_command_names_resources_in_the_regions_partition() {
    for (region, partition) in [("cn-north-1", "aws-cn"), ("us-gov-west-1", "aws-us-gov")] {
        let out = Run::new(&["policy", "--bucket", "media", "--region", region])
            .output()
            .await;
        assert_eq!(out.code, 0, "{}", out.stderr);
        let resources: Vec<Value> = out.json()["Statement"]
            .as_array()
            .expect("statements")
            .iter()
            .map(|s| s["Resource"].clone())
            .collect();
        assert_eq!(
            resources,
            [
                json!("*"),
                json!(format!("arn:{partition}:s3:::media")),
                json!(format!("arn:{partition}:s3:::media/*"))
            ],
            "{region}"
        );
    }
}

#[tokio::test]
async fn keys_come_from_a_named_profile_as_in_the_aws_cli() {
    let peer = Peer::get();
    let bucket = peer.bucket("us-east-1").await;
    let user = peer.user(Some(s3_allow(&[&bucket], READ_WRITE))).await;
    for how in ["--profile", "AWS_PROFILE"] {
        let mut run = Run::new(&["check", "--format", "json", "--bucket", &bucket])
            .arg("--endpoint-url")
            .arg(&peer.url)
            .profiles(&[("app", &user)]);
        run = match how {
            "--profile" => run.arg("--profile").arg("app"),
            _ => run.env("AWS_PROFILE", "app"),
        };
        let out = run.output().await;
        let report = out.json();
        assert_eq!(out.code, 0, "{how}: {}", out.stderr);
        assert_eq!(report["identity"]["principal_name"], user.name.as_str());
        assert_eq!(report["target"]["profile"], "app");
        assert_eq!(
            report["target"]["credential_source"], "profile app",
            "{how}"
        );
    }
}

#[tokio::test]
async fn help_and_version_print_on_stdout_and_exit_0() {
    let help = Run::new(&["--help"]).output().await;
    assert_eq!(help.code, 0, "{}", help.stderr);
    assert!(help.stdout.contains("Examples:"), "{}", help.stdout);
    assert!(help.stdout.contains("--admin-profile"), "{}", help.stdout);
    let version = Run::new(&["--version"]).output().await;
    assert_eq!(version.code, 0);
    assert!(
        version.stdout.starts_with("s3doctor "),
        "{}",
        version.stdout
    );
}
