//! Faults between s3doctor and AWS, injected by `proxy` in front of the emulator: a stalled
//! endpoint, dropped connections, throttling, and the endpoint dying in the middle of a run.
//! Each ends in a clear finding — never a panic, a hang or a permission problem.

use std::time::Duration;

use serde_json::Value;

use crate::peer::{Keys, Output, Peer, READ_WRITE, Run, codes, detail, s3_allow, status, step};
use crate::proxy::{Fault, Proxy, Reply};

async fn check_through(proxy: &Proxy, keys: &Keys, bucket: &str) -> Output {
    Run::new(&[
        "check",
        "--format",
        "json",
        "--bucket",
        bucket,
        "--timeout",
        "1",
        "--endpoint-url",
        &proxy.url,
    ])
    .env("AWS_ACCESS_KEY_ID", &keys.id)
    .env("AWS_SECRET_ACCESS_KEY", &keys.secret)
    .deadline(Duration::from_secs(45))
    .output()
    .await
}

/// A healthy user and bucket.
async fn healthy(peer: &Peer) -> (Keys, String) {
    let bucket = peer.bucket("us-east-1").await;
    let user = peer.user(Some(s3_allow(&[&bucket], READ_WRITE))).await;
    (user, bucket)
}

fn assert_clean_exit(out: &Output) {
    assert_eq!(out.code, 1, "{}", out.stderr);
    assert!(!out.stderr.contains("panicked"), "{}", out.stderr);
}

#[tokio::test]
async fn a_stalled_endpoint_is_unreachable_within_the_timeout() {
    let peer = Peer::get();
    let (user, bucket) = healthy(&peer).await;
    let proxy = Proxy::start(&peer.url, Fault::Stall).await;

    let out = check_through(&proxy, &user, &bucket).await;

    assert_clean_exit(&out);
    let report = out.json();
    assert_eq!(
        codes(&report),
        vec!["endpoint.unreachable", "probe.left-behind"]
    );
    assert_eq!(status(&report, "identity", None), "fail");
    assert!(proxy.requests() >= 1);
    // The early upload reached the endpoint, which never answered: it may have landed.
    upload_may_have_landed(&report, &bucket);
    // Said as what it was: a timeout, not "refused, DNS, TLS or a timeout".
    let identity = detail(&report, "identity", None);
    assert_eq!(
        identity,
        "timed out: no answer from the endpoint within 1 s"
    );
    let summary = report["findings"][0]["summary"]
        .as_str()
        .unwrap_or_default();
    assert!(
        summary.contains("no answer within 1 s (a timeout"),
        "{summary}"
    );
}

#[tokio::test]
async fn after_one_timeout_the_calls_behind_it_do_not_wait_again() {
    let peer = Peer::get();
    let (user, bucket) = healthy(&peer).await;
    let proxy = Proxy::start(&peer.url, Fault::Stall).await;

    let out = check_through(&proxy, &user, &bucket).await;

    assert_clean_exit(&out);
    let report = out.json();
    assert_eq!(
        codes(&report),
        vec!["endpoint.unreachable", "probe.left-behind"]
    );
    // The calls that went out together each waited once (identity, the bucket check and the
    // early list and upload); none was retried into the silence, so at most these four
    // requests ever reached the endpoint (3 attempts each before). The delete of the probe
    // the upload may have left was not sent either: it is reported left behind.
    assert!(proxy.requests() <= 4, "{} requests", proxy.requests());
    let exists = step(&report, "bucket-exists", Some(&bucket));
    assert_eq!(exists["status"], "fail", "{exists:#}");
    assert!(
        exists["detail"]
            .as_str()
            .unwrap_or_default()
            .starts_with("timed out"),
        "{exists:#}"
    );
}

#[tokio::test]
async fn dropped_connections_are_an_unreachable_endpoint() {
    let peer = Peer::get();
    let (user, bucket) = healthy(&peer).await;
    let proxy = Proxy::start(&peer.url, Fault::Drop).await;

    let out = check_through(&proxy, &user, &bucket).await;

    assert_clean_exit(&out);
    let report = out.json();
    // Whether the upload's bytes were on their way when the connection closed depends on
    // timing: if they were, the probe may have landed, for all s3doctor can tell, and is
    // reported so (nothing ever reached the emulator here).
    let mut codes = codes(&report);
    if codes.contains(&"probe.left-behind".to_owned()) {
        upload_may_have_landed(&report, &bucket);
        codes.retain(|c| c != "probe.left-behind");
    }
    assert_eq!(codes, vec!["endpoint.unreachable"]);
    assert!(peer.keys(&bucket).await.is_empty());
    // Each call was retried (bounded) before giving up.
    assert!(proxy.requests() >= 4, "{} connections", proxy.requests());
}

/// The report says that the early upload went out without an answer and may have left its
/// probe, names it in the upload's row and says how to remove it.
fn upload_may_have_landed(report: &Value, bucket: &str) {
    let finding = report["findings"]
        .as_array()
        .into_iter()
        .flatten()
        .find(|f| f["code"] == "probe.left-behind")
        .unwrap_or_else(|| panic!("no probe.left-behind: {report:#}"));
    assert_eq!(finding["step"], "put-object", "{finding:#}");
    let summary = finding["summary"].as_str().unwrap_or_default();
    assert!(summary.contains("may be in the bucket"), "{summary}");
    let probe = summary
        .split_whitespace()
        .find(|w| w.contains("probe-"))
        .unwrap_or_else(|| panic!("no probe key: {summary}"));
    let remedy = finding["remedy"].as_str().unwrap_or_default();
    let command = format!("aws s3api delete-object --bucket {bucket} --key {probe}");
    assert!(remedy.contains(&command), "{remedy}");
    let put = detail(report, "put-object", Some(bucket));
    assert!(
        put.contains(probe) && put.contains("may have been written"),
        "{put}"
    );
}

#[tokio::test]
async fn throttling_is_retried_and_the_check_passes() {
    let peer = Peer::get();
    let (user, bucket) = healthy(&peer).await;
    let proxy = Proxy::start(&peer.url, Fault::SlowDown(2)).await;

    let out = check_through(&proxy, &user, &bucket).await;

    assert_eq!(out.code, 0, "{}\n{}", out.stdout, out.stderr);
    let report = out.json();
    assert_eq!(codes(&report), Vec::<String>::new());
    assert_eq!(status(&report, "put-object", Some(&bucket)), "pass");
    assert!(peer.keys(&bucket).await.is_empty(), "the probe was removed");
}

#[tokio::test]
async fn throttling_that_never_ends_is_never_a_permission_problem() {
    let peer = Peer::get();
    let (user, bucket) = healthy(&peer).await;
    let proxy = Proxy::start(&peer.url, Fault::SlowDown(usize::MAX)).await;

    let out = check_through(&proxy, &user, &bucket).await;

    // Nothing could be checked: that is an error, and it says why.
    assert_clean_exit(&out);
    let report: Value = out.json();
    assert_eq!(codes(&report), vec!["endpoint.throttled"]);
    let identity = detail(&report, "identity", None);
    assert!(identity.contains("throttled"), "{identity}");
    assert!(!out.stderr.contains("panicked"));
}

/// The endpoint dies once the early upload has reached the emulator, before its answer comes
/// back: the probe is in the bucket and s3doctor never heard so (its retry was refused).
/// Whichever step the run had reached, the report names the probe and how to remove it, and
/// says that the endpoint went away, never that a permission is missing.
async fn the_endpoint_dies_with_the_upload_in_the_bucket(identity_first: bool) -> Value {
    let peer = Peer::get();
    let (user, bucket) = healthy(&peer).await;
    let proxy = Proxy::start(&peer.url, Fault::DieAtUpload { identity_first }).await;

    let out = check_through(&proxy, &user, &bucket).await;

    assert_clean_exit(&out);
    let report = out.json();
    let codes = codes(&report);
    assert!(
        codes.contains(&"endpoint.unreachable".to_owned()),
        "{report:#}"
    );
    assert!(
        !codes.iter().any(|c| c.starts_with("permission.")),
        "{codes:?}"
    );
    let left = peer.keys(&bucket).await;
    assert_eq!(left.len(), 1, "the upload reached the emulator: {left:?}");
    let key = &left[0];
    // Reported as sent, its key named, in the upload's row ...
    let put = detail(&report, "put-object", Some(&bucket));
    assert!(
        put.contains(key.as_str()) && put.contains("may have been written"),
        "{put}"
    );
    assert!(put.contains("could not be removed"), "{put}");
    // ... and left behind, with the command that removes it.
    let finding = report["findings"]
        .as_array()
        .into_iter()
        .flatten()
        .find(|f| f["code"] == "probe.left-behind")
        .unwrap_or_else(|| panic!("no probe.left-behind: {report:#}"));
    assert_eq!(finding["step"], "put-object");
    let remedy = finding["remedy"].as_str().unwrap_or_default();
    let command = format!("aws s3api delete-object --bucket {bucket} --key {key}");
    assert!(remedy.contains(&command), "{remedy}");
    let summary = finding["summary"].as_str().unwrap_or_default();
    assert!(summary.contains("may be in the bucket"), "{summary}");
    report
}

#[tokio::test]
async fn the_endpoint_dying_before_identity_answers_reports_the_probe_it_left() {
    let report = the_endpoint_dies_with_the_upload_in_the_bucket(false).await;
    assert_eq!(status(&report, "identity", None), "fail");
    let put = step(
        &report,
        "put-object",
        report["target"]["buckets"][0].as_str(),
    );
    assert_eq!(put["status"], "skip", "{put:#}");
    let detail = put["detail"].as_str().unwrap_or_default();
    assert!(detail.starts_with("not run: "), "{detail}");
    assert!(
        detail.contains("its upload had gone out before that answered"),
        "{detail}"
    );
}

#[tokio::test]
async fn the_endpoint_dying_under_the_upload_step_reports_the_probe_it_left() {
    let report = the_endpoint_dies_with_the_upload_in_the_bucket(true).await;
    assert_eq!(status(&report, "identity", None), "pass");
    let put = step(
        &report,
        "put-object",
        report["target"]["buckets"][0].as_str(),
    );
    assert_eq!(put["status"], "fail", "{put:#}");
    let detail = put["detail"].as_str().unwrap_or_default();
    assert!(
        detail.contains("an upload of probe") && detail.contains("went out and got no answer"),
        "{detail}"
    );
}

#[tokio::test]
async fn the_upload_does_not_wait_for_the_identity_check() {
    let peer = Peer::get();
    let (user, bucket) = healthy(&peer).await;
    // STS answers only once the upload has arrived: an upload that waited for the identity
    // step would wait for ever (and identity would time out).
    let proxy = Proxy::start(&peer.url, Fault::IdentityAfterUpload).await;

    let out = check_through(&proxy, &user, &bucket).await;

    assert_eq!(out.code, 0, "{}\n{}", out.stdout, out.stderr);
    let report = out.json();
    assert_eq!(status(&report, "identity", None), "pass");
    assert_eq!(status(&report, "put-object", Some(&bucket)), "pass");
    assert_eq!(status(&report, "delete-object", Some(&bucket)), "pass");
    assert!(peer.keys(&bucket).await.is_empty(), "the probe was removed");
}

#[tokio::test]
async fn the_download_does_not_wait_for_the_buckets_location() {
    let peer = Peer::get();
    let (user, bucket) = healthy(&peer).await;
    // The emulator refuses HeadBucket to this user, so its region comes from
    // GetBucketLocation, which the proxy holds until the download has arrived (and the upload
    // until the location was asked): the early upload's success proved the region, so the
    // download must not wait for it.
    let proxy = Proxy::start(&peer.url, Fault::LocationAfterDownload).await;

    let out = check_through(&proxy, &user, &bucket).await;

    assert_eq!(out.code, 0, "{}\n{}", out.stdout, out.stderr);
    let report = out.json();
    assert_eq!(status(&report, "bucket-region", Some(&bucket)), "pass");
    assert_eq!(status(&report, "get-object", Some(&bucket)), "pass");
    assert_eq!(status(&report, "delete-object", Some(&bucket)), "pass");
    let seen = proxy.seen();
    let at = |want: &dyn Fn(&crate::proxy::Seen) -> bool| seen.iter().position(want);
    let download = at(&|s| s.method == "GET" && s.key.contains("probe-")).expect("a download");
    let location = at(&|s| s.query == "location").expect("GetBucketLocation was asked");
    assert!(location < download, "{seen:#?}");
    assert!(peer.keys(&bucket).await.is_empty(), "the probe was removed");
}

/// STS refusing the keys (as AWS answers an unknown key id) while S3, behind the same proxy,
/// would accept them: the upload that went out early must not outlive its skipped step.
const STS_REFUSES: [Reply; 1] = [Reply {
    method: "POST",
    target: " / ",
    header: None,
    status: "403 Forbidden",
    // https://docs.aws.amazon.com/STS/latest/APIReference/CommonErrors.html (InvalidClientTokenId)
    body: "<ErrorResponse xmlns=\"https://sts.amazonaws.com/doc/2011-06-15/\">\n  <Error>\n    <Type>Sender</Type>\n    <Code>InvalidClientTokenId</Code>\n    <Message>The security token included in the request is invalid.</Message>\n  </Error>\n  <RequestId>4d7bd3f1-2a3c-4d6e-9f10-EXAMPLE</RequestId>\n</ErrorResponse>\n",
}];

#[tokio::test]
async fn a_probe_uploaded_early_for_a_step_that_is_skipped_is_removed() {
    let peer = Peer::get();
    let (user, bucket) = healthy(&peer).await;
    let proxy = Proxy::start(&peer.url, Fault::Answer(&STS_REFUSES)).await;

    let out = check_through(&proxy, &user, &bucket).await;

    assert_clean_exit(&out);
    let report = out.json();
    assert_eq!(status(&report, "identity", None), "fail");
    // Skipped as when the upload waited for identity, and the upload that went out all the
    // same is reported, its key named, with its removal.
    assert_eq!(status(&report, "put-object", Some(&bucket)), "skip");
    let put = detail(&report, "put-object", Some(&bucket));
    let sent = proxy
        .seen()
        .into_iter()
        .find(|s| s.is_put_object())
        .expect("the early upload went out");
    assert_eq!(
        put,
        format!(
            "not run: identity did not pass; its upload had gone out before that answered and \
             wrote probe {}: s3doctor deleted it",
            sent.key
        )
    );
    assert!(
        !codes(&report).contains(&"probe.left-behind".to_owned()),
        "{report:#}"
    );
    assert!(
        peer.keys(&bucket).await.is_empty(),
        "the early probe was removed"
    );
}

/// A bucket in eu-west-1 while the app is configured for us-east-1, answered the way real
/// S3 answers (the emulator itself serves any region).
async fn wrong_region_as_s3_answers(malformed: bool) {
    let peer = Peer::get();
    let bucket = peer.bucket("eu-west-1").await;
    let user = peer.user(Some(s3_allow(&[&bucket], READ_WRITE))).await;
    let proxy = Proxy::start(
        &peer.url,
        Fault::WrongRegion {
            region: "eu-west-1",
            malformed,
        },
    )
    .await;

    let out = check_through(&proxy, &user, &bucket).await;

    assert_clean_exit(&out);
    let report = out.json();
    assert_eq!(codes(&report), vec!["bucket.wrong-region"], "{report:#}");
    let f = &report["findings"][0];
    let text = format!("{} {}", f["summary"], f["remedy"]);
    assert!(text.contains("eu-west-1"), "{text}");
    assert_eq!(status(&report, "bucket-exists", Some(&bucket)), "pass");
    let exists = step(&report, "bucket-exists", Some(&bucket));
    // HeadBucket got S3's bodiless 301: the region came from its header.
    assert_eq!(exists["evidence"]["http_status"], 301, "{exists:#}");
    // The remaining steps ran against the bucket's own region and say what the app could do.
    assert_eq!(status(&report, "put-object", Some(&bucket)), "pass");
    assert_eq!(status(&report, "delete-object", Some(&bucket)), "pass");
}

#[tokio::test]
async fn a_301_permanent_redirect_is_a_wrong_region_never_a_permission_problem() {
    wrong_region_as_s3_answers(false).await;
}

#[tokio::test]
async fn authorization_header_malformed_is_a_wrong_region_never_a_permission_problem() {
    wrong_region_as_s3_answers(true).await;
}
