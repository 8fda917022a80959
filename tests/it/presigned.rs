//! `s3doctor url`: presigned URLs made by the SDK's own presigner, read by the binary; the
//! `rgw_` tests send GET URLs to Ceph RGW (moto answers every presigned URL with a 500, see
//! ../shared/notes/moto.md) and check that a PUT URL is never sent.

use std::time::{Duration, SystemTime};

use aws_sdk_s3::presigning::PresigningConfig;
use serde_json::Value;

use crate::peer::{Keys, Run, s3_client};
use crate::rgw::Rgw;

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
    assert!(summary.contains("S3 answered 403"), "{summary}");
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
