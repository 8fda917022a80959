//! How a run ends when what is around it is gone: a reader that closed standard output before
//! s3doctor wrote its report (`… | head -1`) ends the run quietly with the run's own exit code,
//! and a call that got no answer says in the `--log` file what happened instead (connection
//! refused, timed out, DNS), not only "connector error".

use std::process::{Command, Stdio};

use crate::peer::{Peer, Run, closed_port};

/// A CloudTrail event of a refused upload: `why` reads it (exit 0).
const EVENT: &str = r#"{"eventSource":"s3.amazonaws.com","eventName":"PutObject","awsRegion":"us-east-1","errorCode":"AccessDenied","errorMessage":"Access Denied","requestParameters":{"bucketName":"clipizy-dev","key":"a.jpg"},"userIdentity":{"type":"IAMUser","arn":"arn:aws:iam::123456789012:user/Runpod"}}"#;

/// Runs the binary with `args` and `env`, its standard output a pipe whose reader is already
/// closed (what `| head -1` leaves once head has its line): exit code and standard error.
fn with_closed_reader(args: &[&str], env: &[(&str, &str)]) -> (Option<i32>, String) {
    let (reader, writer) = std::io::pipe().expect("pipe");
    drop(reader);
    let home = tempfile::tempdir().expect("home");
    let child = Command::new(env!("CARGO_BIN_EXE_s3doctor"))
        .args(args)
        .env_clear()
        .env("PATH", std::env::var("PATH").unwrap_or_default())
        .env("HOME", home.path())
        .env("AWS_CONFIG_FILE", home.path().join("aws-config"))
        .env(
            "AWS_SHARED_CREDENTIALS_FILE",
            home.path().join("aws-credentials"),
        )
        .env("AWS_EC2_METADATA_DISABLED", "true")
        .env("AWS_REGION", "us-east-1")
        .envs(env.iter().copied())
        .stdin(Stdio::null())
        .stdout(writer)
        .stderr(Stdio::piped())
        .spawn()
        .expect("spawn s3doctor");
    let out = child.wait_with_output().expect("wait");
    (
        out.status.code(),
        String::from_utf8_lossy(&out.stderr).into_owned(),
    )
}

#[tokio::test(flavor = "multi_thread")]
async fn a_reader_that_closed_standard_output_ends_the_run_quietly_with_its_exit_code() {
    let peer = Peer::get();
    let bucket = peer.bucket("us-east-1").await;
    // A user without any policy: the check finds problems (exit 1).
    let user = peer.user(None).await;
    let keys = vec![
        ("AWS_ACCESS_KEY_ID".to_owned(), user.id.clone()),
        ("AWS_SECRET_ACCESS_KEY".to_owned(), user.secret.clone()),
    ];
    let words = |args: &[&str]| args.iter().map(|a| (*a).to_owned()).collect::<Vec<_>>();
    let check = |format: &str| {
        words(&[
            "check",
            "--bucket",
            &bucket,
            "--endpoint-url",
            &peer.url,
            "--format",
            format,
        ])
    };
    let cases = vec![
        (words(&["why", EVENT]), Vec::new(), 0),
        (words(&["why", "--format", "json", EVENT]), Vec::new(), 0),
        (words(&["explain", "credentials.expired"]), Vec::new(), 0),
        (words(&["completions", "bash"]), Vec::new(), 0),
        (check("json"), keys.clone(), 1),
        (check("text"), keys, 1),
    ];
    for (args, env, want) in cases {
        let shown = args.clone();
        let (code, stderr) = tokio::task::spawn_blocking(move || {
            let args: Vec<&str> = args.iter().map(String::as_str).collect();
            let env: Vec<(&str, &str)> =
                env.iter().map(|(k, v)| (k.as_str(), v.as_str())).collect();
            with_closed_reader(&args, &env)
        })
        .await
        .expect("run");
        let args = shown;
        assert_eq!(code, Some(want), "{args:?}: {stderr}");
        for noise in [
            "Broken pipe",
            "Location:",
            "Backtrace",
            "panicked",
            "Error:",
        ] {
            assert!(!stderr.contains(noise), "{args:?}: {noise} in {stderr}");
        }
    }
}

/// A call to a port where nothing listens: its `--log` line says the connection was refused,
/// with the transport's own words after it.
#[tokio::test]
async fn the_log_says_what_happened_to_a_call_that_got_no_answer() {
    let closed = format!("http://127.0.0.1:{}", closed_port());
    let run = Run::new(&[
        "check",
        "--bucket",
        "clipizy-dev",
        "--endpoint-url",
        &closed,
    ])
    .env("AWS_ACCESS_KEY_ID", "AKIAIOSFODNN7EXAMPLE")
    .env(
        "AWS_SECRET_ACCESS_KEY",
        "wJalrXUtnFEMI/K7MDENG/bPxRfiCYEXAMPLEKEY",
    )
    .arg("--log");
    let log = run.file("s3doctor.log");
    let out = run.arg(&log.display().to_string()).output().await;
    assert_eq!(out.code, 1, "{}", out.stderr);
    let log = out.read("s3doctor.log");
    let unanswered: Vec<&str> = log
        .lines()
        .filter(|l| l.contains("AWS call without an answer"))
        .collect();
    assert!(!unanswered.is_empty(), "{log}");
    for line in unanswered {
        assert!(
            line.contains("error=\"connection refused: "),
            "the line does not say what happened: {line}"
        );
        assert!(line.contains("Connection refused"), "{line}");
        assert!(!line.contains("wJalrXUtnFEMI"), "{line}");
    }
}
