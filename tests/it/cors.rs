//! `--origin` against the emulator: moto answers every CORS preflight with 500 (measured, see
//! the notes), which says nothing about the rules — a warning, never a pass or a CORS finding.
//! The preflights that S3 answers are tested against Ceph RGW (`rgw_beyond`).

use crate::peer::{Peer, READ_WRITE, Run, codes, detail, s3_allow, status};

#[tokio::test]
async fn a_server_that_cannot_answer_preflights_is_a_warning_not_a_verdict() {
    let peer = Peer::get();
    let bucket = peer.bucket("us-east-1").await;
    let user = peer.user(Some(s3_allow(&[&bucket], READ_WRITE))).await;

    let out = Run::new(&["check", "--format", "json", "--bucket", &bucket])
        .keys(&peer, &user)
        .arg("--origin")
        .arg("https://app.example.com")
        .output()
        .await;
    let report = out.json();

    assert_eq!(out.code, 0, "{report:#}");
    assert_eq!(status(&report, "cors", Some(&bucket)), "warn");
    let d = detail(&report, "cors", Some(&bucket));
    assert!(d.contains("was answered 500"), "{d}");
    assert!(!codes(&report).contains(&"cors.not-allowed".to_owned()));
}

/// The preflight goes past the SDK (no SDK operation sends an unsigned `OPTIONS`), yet the
/// `--log` call log has its line like every call's: operation, status, request id, latency.
#[tokio::test]
async fn the_preflight_is_in_the_call_log_like_every_call() {
    let peer = Peer::get();
    let bucket = peer.bucket("us-east-1").await;
    let user = peer.user(Some(s3_allow(&[&bucket], READ_WRITE))).await;
    let run = Run::new(&["check", "--format", "json", "--bucket", &bucket])
        .keys(&peer, &user)
        .arg("--origin")
        .arg("https://app.example.com")
        .arg("--log");
    let log_file = run.file("debug.log");
    let out = run.arg(&log_file.display().to_string()).output().await;
    assert_eq!(out.code, 0, "{}", out.stderr);

    let log = out.read("debug.log");
    let preflights: Vec<&str> = log
        .lines()
        .filter(|l| l.contains("operation=\"OPTIONS (CORS preflight)\""))
        .collect();
    assert_eq!(preflights.len(), 1, "{log}");
    // moto answers every preflight 500 (see the module's comment).
    let line = preflights[0];
    for field in [
        "AWS call",
        "service=\"S3\"",
        "status=500",
        "request_id=",
        "latency_ms=",
    ] {
        assert!(line.contains(field), "{field} missing: {line}");
    }
    for secret in [&user.secret, &user.id] {
        assert!(!log.contains(secret.as_str()), "a secret is in the log");
    }
}

#[tokio::test]
async fn without_origin_there_is_no_cors_row_and_a_bad_origin_is_bad_input() {
    let peer = Peer::get();
    let bucket = peer.bucket("us-east-1").await;
    let user = peer.user(Some(s3_allow(&[&bucket], READ_WRITE))).await;
    let out = Run::new(&["check", "--format", "json", "--bucket", &bucket])
        .keys(&peer, &user)
        .output()
        .await;
    let report = out.json();
    assert!(
        !report["steps"]
            .as_array()
            .expect("steps")
            .iter()
            .any(|s| s["id"] == "cors"),
        "{report:#}"
    );

    let out = Run::new(&[
        "check",
        "--bucket",
        &bucket,
        "--origin",
        "app.example.com/upload",
    ])
    .output()
    .await;
    assert_eq!(out.code, 2, "{}", out.stderr);
    assert!(out.stderr.contains("--origin"), "{}", out.stderr);
    assert_eq!(out.stderr.trim().lines().count(), 1, "{}", out.stderr);
}
