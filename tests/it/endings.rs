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
    let out = command(args, env, home.path())
        .stdout(writer)
        .stderr(Stdio::piped())
        .spawn()
        .expect("spawn s3doctor")
        .wait_with_output()
        .expect("wait");
    (
        out.status.code(),
        String::from_utf8_lossy(&out.stderr).into_owned(),
    )
}

/// Runs the binary with `args`, its standard error a pipe whose reader is already closed (what
/// `s3doctor … 2>&1 | head -1` leaves once head has its line): the exit code.
fn with_closed_standard_error(args: &[&str]) -> Option<i32> {
    let (reader, writer) = std::io::pipe().expect("pipe");
    drop(reader);
    let home = tempfile::tempdir().expect("home");
    command(args, &[], home.path())
        .stdout(Stdio::null())
        .stderr(writer)
        .status()
        .expect("run s3doctor")
        .code()
}

/// The binary with `args` and `env` in the empty `home`, instance metadata off.
fn command(args: &[&str], env: &[(&str, &str)], home: &std::path::Path) -> Command {
    let mut command = Command::new(env!("CARGO_BIN_EXE_s3doctor"));
    command
        .args(args)
        .env_clear()
        .env("PATH", std::env::var("PATH").unwrap_or_default())
        .env("HOME", home)
        .env("AWS_CONFIG_FILE", home.join("aws-config"))
        .env("AWS_SHARED_CREDENTIALS_FILE", home.join("aws-credentials"))
        .env("AWS_EC2_METADATA_DISABLED", "true")
        .env("AWS_REGION", "us-east-1")
        .envs(env.iter().copied())
        .stdin(Stdio::null());
    command
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

/// A standard error whose reader is gone is not a panic (exit 101): every line s3doctor says
/// there is dropped, and the run ends with its own exit code — bad input 2, findings 1.
#[test]
fn a_reader_that_closed_standard_error_is_not_a_panic() {
    let closed = format!("http://127.0.0.1:{}", closed_port());
    let report = tempfile::tempdir().expect("dir");
    let report = report.path().join("report.json");
    let report = report.display().to_string();
    let cases: [(&[&str], i32); 3] = [
        (&["check", "--bucket", "Not_A_Bucket"], 2),
        (&["explain", "no.such-code"], 2),
        (
            &[
                "check",
                "--bucket",
                "clipizy-dev",
                "--endpoint-url",
                &closed,
                "--format",
                "json",
                "--output",
                &report,
            ],
            1,
        ),
    ];
    for (args, want) in cases {
        assert_eq!(with_closed_standard_error(args), Some(want), "{args:?}");
    }
}
