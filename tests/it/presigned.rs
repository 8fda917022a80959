//! `s3doctor url`: presigned URLs made by the SDK's own presigner and by boto3 (SigV2, its
//! default), read by the binary; the `rgw_` tests send GET URLs to Ceph RGW (moto answers every
//! presigned URL with a 500, see ../shared/notes/moto.md), check that a PUT URL is never sent,
//! and, through recording proxies, that nothing goes anywhere but the URL's own server.

use std::time::{Duration, SystemTime};

use aws_sdk_s3::presigning::PresigningConfig;
use serde_json::Value;

use crate::peer::{Keys, Peer, Run, s3_client};
use crate::proxy::{Fault, Proxy};
use crate::rgw::Rgw;

/// A presigned URL made by boto3 (the test venv's, `$S3DOCTOR_VENV/bin/python`) with its
/// default signature, SigV2: `client_method` (`get_object`, `put_object`) on `endpoint`,
/// valid for `expires` seconds (negative: expired that long ago), with `params` (JSON) added.
fn boto3_url(
    endpoint: &str,
    keys: &Keys,
    client_method: &str,
    params: &Value,
    expires: i64,
) -> String {
    let venv = std::env::var("S3DOCTOR_VENV").expect("S3DOCTOR_VENV (scripts/test.sh sets it)");
    let script = r#"
import json, os, sys, boto3
s3 = boto3.client("s3", endpoint_url=os.environ["EP"], region_name="us-east-1",
                  aws_access_key_id=os.environ["AK"], aws_secret_access_key=os.environ["SK"])
print(s3.generate_presigned_url(sys.argv[1], Params=json.loads(sys.argv[2]),
                                ExpiresIn=int(sys.argv[3])))
"#;
    let out = std::process::Command::new(format!("{venv}/bin/python"))
        .args([
            "-c",
            script,
            client_method,
            &params.to_string(),
            &expires.to_string(),
        ])
        .env("EP", endpoint)
        .env("AK", &keys.id)
        .env("SK", &keys.secret)
        .output()
        .expect("run boto3");
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    String::from_utf8_lossy(&out.stdout).trim().to_owned()
}

fn presigning(start: SystemTime, expires: Duration) -> PresigningConfig {
    PresigningConfig::builder()
        .start_time(start)
        .expires_in(expires)
        .build()
        .expect("presigning config")
}

async fn get_url(
    endpoint: &str,
    keys: &Keys,
    bucket: &str,
    key: &str,
    p: PresigningConfig,
) -> String {
    s3_client(endpoint, keys, "us-east-1")
        .get_object()
        .bucket(bucket)
        .key(key)
        .presigned(p)
        .await
        .expect("presign GET")
        .uri()
        .to_owned()
}

async fn url_json(url: &str, extra: &[&str]) -> (i32, Value, String) {
    let mut run = Run::new(&["url", url, "--format", "json"]);
    for a in extra {
        run = run.arg(a);
    }
    let out = run.output().await;
    let report = out.json();
    (out.code, report, out.stderr)
}

fn codes(report: &Value) -> Vec<String> {
    report["findings"]
        .as_array()
        .expect("findings")
        .iter()
        .map(|f| f["code"].as_str().unwrap_or_default().to_owned())
        .collect()
}

#[tokio::test]
async fn a_bad_url_is_one_line_and_exit_2() {
    for bad in [
        "not a url",
        "https://b.s3.amazonaws.com/k",
        "https://b.s3.amazonaws.com/k?X-Amz-Algorithm=AWS4-HMAC-SHA256",
    ] {
        let out = Run::new(&["url", bad]).output().await;
        assert_eq!(out.code, 2, "{bad}: {}", out.stderr);
        assert_eq!(out.stderr.trim().lines().count(), 1, "{}", out.stderr);
        assert!(out.stdout.is_empty(), "{}", out.stdout);
    }
}

#[tokio::test]
async fn an_expired_url_read_offline_never_shows_the_key() {
    let keys = Keys {
        name: "signer".into(),
        id: "AKIAIOSFODNN7EXAMPLE".into(),
        secret: "wJalrXUtnFEMI/K7MDENG/bPxRfiCYEXAMPLEKEY".into(),
        token: None,
    };
    let hour_ago = SystemTime::now() - Duration::from_secs(3_600);
    let url = s3_client("https://s3.eu-west-1.amazonaws.com", &keys, "eu-west-1")
        .get_object()
        .bucket("clipizy-dev")
        .key("a.jpg")
        .presigned(presigning(hour_ago, Duration::from_secs(900)))
        .await
        .expect("presign")
        .uri()
        .to_owned();

    let (code, report, _) = url_json(&url, &["--offline"]).await;

    assert_eq!(code, 1, "{report:#}");
    assert_eq!(report["schema"], "s3doctor.url/v1");
    assert_eq!(report["expired"], true);
    assert_eq!(report["method"], "GET");
    assert_eq!(report["region"], "eu-west-1");
    assert_eq!(report["bucket"], "clipizy-dev");
    assert_eq!(report["access_key"], "AKIA…MPLE");
    assert_eq!(codes(&report), ["presigned.expired"]);
    assert!(report["tried"].is_null());
    // The full key id appears nowhere, in any format.
    assert!(!report.to_string().contains("AKIAIOSFODNN7EXAMPLE"));
    let text = Run::new(&["url", &url, "--offline"]).output().await;
    assert_eq!(text.code, 1);
    assert!(text.stdout.contains("expired"), "{}", text.stdout);
    assert!(!text.stdout.contains("AKIAIOSFODNN7EXAMPLE"));
    assert!(!text.stderr.contains("AKIAIOSFODNN7EXAMPLE"));
}

#[tokio::test]
async fn rgw_a_get_url_is_tried_with_one_byte_and_works() {
    let Some(rgw) = Rgw::get("rgw_a_get_url_is_tried_with_one_byte_and_works") else {
        return;
    };
    let bucket = rgw.bucket().await;
    rgw.s3(&rgw.owner)
        .put_object()
        .bucket(&bucket)
        .key("docs/report.pdf")
        .body(b"%PDF-1.7 hello".to_vec().into())
        .send()
        .await
        .expect("put object");
    let url = get_url(
        &rgw.url,
        &rgw.owner,
        &bucket,
        "docs/report.pdf",
        presigning(SystemTime::now(), Duration::from_secs(600)),
    )
    .await;

    let (code, report, stderr) = url_json(&url, &["--try"]).await;

    assert_eq!(code, 0, "{report:#}\n{stderr}");
    assert_eq!(report["addressing"], "path-style");
    assert_eq!(report["bucket"], bucket.as_str());
    assert_eq!(report["key"], "docs/report.pdf");
    assert_eq!(report["expired"], false);
    assert!(codes(&report).is_empty(), "{report:#}");
    let tried = &report["tried"];
    assert_eq!(tried["request"], "GET with Range: bytes=0-0", "{report:#}");
    assert!(tried["http_status"].is_null(), "{report:#}");
    assert_eq!(tried["message"], "the object was read");
}

#[tokio::test]
async fn rgw_an_expired_url_is_refused_and_said_so() {
    let Some(rgw) = Rgw::get("rgw_an_expired_url_is_refused_and_said_so") else {
        return;
    };
    let bucket = rgw.bucket().await;
    rgw.s3(&rgw.owner)
        .put_object()
        .bucket(&bucket)
        .key("a.txt")
        .body(b"a".to_vec().into())
        .send()
        .await
        .expect("put object");
    let url = get_url(
        &rgw.url,
        &rgw.owner,
        &bucket,
        "a.txt",
        presigning(
            SystemTime::now() - Duration::from_secs(7_200),
            Duration::from_secs(60),
        ),
    )
    .await;

    let (code, report, _) = url_json(&url, &["--try"]).await;

    assert_eq!(code, 1, "{report:#}");
    assert_eq!(codes(&report), ["presigned.expired"], "{report:#}");
    // RGW refuses it (403) and the finding says so.
    assert_eq!(report["tried"]["http_status"], 403, "{report:#}");
    let summary = report["findings"][0]["summary"]
        .as_str()
        .unwrap_or_default();
    assert!(summary.contains("answered 403"), "{summary}");
}

#[tokio::test]
async fn rgw_a_url_of_a_signer_without_access_is_its_permissions() {
    let Some(rgw) = Rgw::get("rgw_a_url_of_a_signer_without_access_is_its_permissions") else {
        return;
    };
    let bucket = rgw.bucket().await;
    // `other` was never granted anything on the owner's bucket.
    let url = get_url(
        &rgw.url,
        &rgw.other,
        &bucket,
        "a.txt",
        presigning(SystemTime::now(), Duration::from_secs(600)),
    )
    .await;

    let (code, report, _) = url_json(&url, &["--try"]).await;

    assert_eq!(code, 1, "{report:#}");
    assert_eq!(codes(&report), ["permission.missing"], "{report:#}");
    assert_eq!(report["tried"]["http_status"], 403);
    let summary = report["findings"][0]["summary"]
        .as_str()
        .unwrap_or_default();
    assert!(summary.contains("signer"), "{summary}");

    // The same URL with its signature altered: a signature mismatch, not a permission.
    let sig_at = url.find("X-Amz-Signature=").expect("signature") + "X-Amz-Signature=".len();
    let mut broken = url.clone();
    let flipped = if &url[sig_at..=sig_at] == "0" {
        "1"
    } else {
        "0"
    };
    broken.replace_range(sig_at..=sig_at, flipped);
    let (code, report, _) = url_json(&broken, &["--try"]).await;
    assert_eq!(code, 1, "{report:#}");
    assert_eq!(report["tried"]["error_code"], "SignatureDoesNotMatch");
    assert_eq!(
        codes(&report),
        ["credentials.signature-mismatch"],
        "{report:#}"
    );
}

#[tokio::test]
async fn rgw_a_put_url_is_never_sent() {
    let Some(rgw) = Rgw::get("rgw_a_put_url_is_never_sent") else {
        return;
    };
    let bucket = rgw.bucket().await;
    let url = s3_client(&rgw.url, &rgw.owner, "us-east-1")
        .put_object()
        .bucket(&bucket)
        .key("upload.bin")
        .content_type("application/octet-stream")
        .presigned(presigning(SystemTime::now(), Duration::from_secs(600)))
        .await
        .expect("presign PUT")
        .uri()
        .to_owned();

    let (code, report, _) = url_json(&url, &["--try"]).await;

    // Signed headers are a warning, not a failure.
    assert_eq!(code, 0, "{report:#}");
    assert_eq!(report["method"], "PUT");
    assert!(report["tried"].is_null());
    assert!(
        report["notes"]
            .as_array()
            .expect("notes")
            .iter()
            .any(|n| n.as_str().unwrap_or_default().contains("never sent")),
        "{report:#}"
    );
    assert_eq!(codes(&report), ["presigned.header-mismatch"], "{report:#}");
    // Nothing was uploaded.
    assert!(rgw.keys(&bucket).await.is_empty());
}

/// boto3's default URLs are SigV2, and RGW honours them: `url` reads the expiry, the key id,
/// the bucket and the key, tries a GET (`--method GET`: a SigV2 URL does not say its method),
/// and says an expired one expired without quoting words RGW did not say.
#[tokio::test]
async fn rgw_boto3s_sigv2_urls_are_read_and_tried() {
    let Some(rgw) = Rgw::get("rgw_boto3s_sigv2_urls_are_read_and_tried") else {
        return;
    };
    let bucket = rgw.bucket().await;
    rgw.s3(&rgw.owner)
        .put_object()
        .bucket(&bucket)
        .key("docs/a b.txt")
        .body(b"hello".to_vec().into())
        .send()
        .await
        .expect("put object");
    let params = serde_json::json!({"Bucket": bucket, "Key": "docs/a b.txt"});
    let url = boto3_url(&rgw.url, &rgw.owner, "get_object", &params, 600);
    assert!(
        url.contains("AWSAccessKeyId=") && url.contains("Expires="),
        "{url}"
    );

    let (code, report, stderr) = url_json(&url, &["--try", "--method", "GET"]).await;
    assert_eq!(code, 0, "{report:#}\n{stderr}");
    assert_eq!(report["signature_version"], "sigv2");
    assert_eq!(report["bucket"], bucket.as_str());
    assert_eq!(report["key"], "docs/a b.txt");
    let id = &rgw.owner.id;
    assert_eq!(
        report["access_key"],
        format!("{}…{}", &id[..4], &id[id.len() - 4..])
    );
    assert_eq!(report["expired"], false);
    assert_eq!(report["region"], Value::Null);
    assert_eq!(
        (report["method"].clone(), report["method_source"].clone()),
        ("GET".into(), "--method".into())
    );
    assert_eq!(
        report["tried"]["message"], "the object was read",
        "{report:#}"
    );
    // Not AWS: a warning that AWS deprecated SigV2, said for this server.
    assert_eq!(codes(&report), ["presigned.signature-v2"], "{report:#}");
    assert_eq!(report["findings"][0]["severity"], "warning");

    // Without --method, a URL that does not say its method is not sent, and the text says
    // where the method would come from.
    let text = Run::new(&["url", &url, "--try"]).output().await;
    assert_eq!(text.code, 0, "{}", text.stdout);
    assert!(
        text.stdout.contains("method not in the URL"),
        "{}",
        text.stdout
    );
    assert!(text.stdout.contains("--method GET"), "{}", text.stdout);

    let expired = boto3_url(&rgw.url, &rgw.owner, "get_object", &params, -60);
    let (code, report, _) = url_json(&expired, &["--try", "--method", "GET"]).await;
    assert_eq!(code, 1, "{report:#}");
    assert_eq!(report["expired"], true);
    assert_eq!(report["tried"]["http_status"], 403, "{report:#}");
    let f = &report["findings"][0];
    assert_eq!(f["code"], "presigned.expired", "{report:#}");
    let summary = f["summary"].as_str().unwrap_or_default();
    // RGW's message is empty: its words are not made up.
    assert!(!summary.contains("Request has expired"), "{summary}");
    assert!(summary.contains("answered 403 AccessDenied."), "{summary}");

    // A PUT URL with a content type: SigV2 signs it, boto3 names it in the query.
    let put = boto3_url(
        &rgw.url,
        &rgw.owner,
        "put_object",
        &serde_json::json!({"Bucket": bucket, "Key": "up.txt", "ContentType": "text/plain"}),
        600,
    );
    let (_, report, _) = url_json(&put, &["--try", "--method", "PUT"]).await;
    assert_eq!(
        report["signed_headers"],
        serde_json::json!(["content-type"]),
        "{report:#}"
    );
    assert!(report["tried"].is_null(), "{report:#}");
    assert!(!rgw.keys(&bucket).await.contains(&"up.txt".to_owned()));
}

/// A URL's host says where it points. With keys in the environment and AWS's STS pointed at a
/// recorder (`AWS_ENDPOINT_URL_STS`), reading and trying a URL of another server sends
/// nothing to STS, and only HEAD and GET to the URL's own server (a recording proxy in front
/// of RGW); `--offline` sends nothing at all.
#[tokio::test]
async fn rgw_url_sends_nothing_anywhere_but_the_urls_own_server() {
    let Some(rgw) = Rgw::get("rgw_url_sends_nothing_anywhere_but_the_urls_own_server") else {
        return;
    };
    let peer = Peer::get();
    let bucket = rgw.bucket().await;
    rgw.s3(&rgw.owner)
        .put_object()
        .bucket(&bucket)
        .key("a.txt")
        .body(b"a".to_vec().into())
        .send()
        .await
        .expect("put object");
    let front = Proxy::start(&rgw.url, Fault::Forward).await;
    let sts = Proxy::start(&peer.url, Fault::Forward).await;
    let params = serde_json::json!({"Bucket": bucket, "Key": "a.txt"});
    for url in [
        boto3_url(&front.url, &rgw.owner, "get_object", &params, 600),
        get_url(
            &front.url,
            &rgw.owner,
            &bucket,
            "a.txt",
            presigning(SystemTime::now(), Duration::from_secs(600)),
        )
        .await,
    ] {
        let run = |extra: &[&str]| {
            let mut run = Run::new(&["url", &url, "--format", "json", "--method", "GET"])
                .env("AWS_ACCESS_KEY_ID", &peer.admin.id)
                .env("AWS_SECRET_ACCESS_KEY", &peer.admin.secret)
                .env("AWS_ENDPOINT_URL_STS", &sts.url);
            for a in extra {
                run = run.arg(a);
            }
            run
        };
        let before = front.requests();
        let offline = run(&["--offline", "--try"]).output().await;
        assert_eq!(
            front.requests(),
            before,
            "--offline sent something: {}",
            offline.stdout
        );
        let notes = offline.json()["notes"].to_string();
        assert!(notes.contains("nothing was sent"), "{notes}");

        let out = run(&["--try"]).output().await;
        let report = out.json();
        assert_eq!(sts.requests(), 0, "STS was asked: {report:#}");
        assert_eq!(report["signer_account"], Value::Null);
        let notes = report["notes"].to_string();
        assert!(notes.contains("not looked up"), "{notes}");
        let host = front.url.trim_start_matches("http://");
        assert!(
            notes.contains(&format!("an unsigned HeadBucket to {host}")),
            "{notes}"
        );
        let methods: Vec<String> = front
            .seen()
            .iter()
            .skip(before)
            .map(|s| s.method.clone())
            .collect();
        assert_eq!(methods, ["HEAD", "GET"], "{report:#}");
    }
}
