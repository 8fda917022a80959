//! `s3doctor why` on the real texts of `tests/fixtures/errors/` (each file says what the reading
//! must hold), on standard input, on text with no AWS error (exit 2), and the privacy promise:
//! with credentials and an endpoint set, `why` sends nothing — a recording listener that a
//! `check` with the same settings does reach sees no connection from `why`.

use std::io::Write;
use std::net::TcpListener;
use std::path::{Path, PathBuf};
use std::process::{Command, Stdio};
use std::time::{Duration, Instant};

use serde_json::Value;

use crate::peer::{ACCOUNT, Keys, Peer, Run};
use crate::terminal::{Tmux, all_done, assert_terminal_restored, overlay, row};

fn fixtures() -> Vec<PathBuf> {
    let dir = Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/fixtures/errors");
    let mut files: Vec<PathBuf> = std::fs::read_dir(dir)
        .expect("fixtures dir")
        .map(|e| e.expect("entry").path())
        .filter(|p| p.extension().is_some_and(|e| e == "txt"))
        .collect();
    files.sort();
    files
}

/// The `# expect:` pairs of a fixture (`none` alone: no error in the text).
fn expectations(path: &Path) -> Vec<(String, String)> {
    let text = std::fs::read_to_string(path).expect("fixture");
    let header = text.split("\n---\n").next().unwrap_or("");
    let line = header
        .lines()
        .find_map(|l| l.strip_prefix("# expect:"))
        .unwrap_or_else(|| panic!("{}: no # expect: line", path.display()));
    line.split_whitespace()
        .map(|kv| match kv.split_once('=') {
            Some((k, v)) => (k.to_owned(), v.to_owned()),
            None => (kv.to_owned(), String::new()),
        })
        .collect()
}

fn body(path: &Path) -> String {
    let text = std::fs::read_to_string(path).expect("fixture");
    let (_, body) = text.split_once("\n---\n").expect("a --- line");
    body.to_owned()
}

#[test]
fn every_fixture_has_a_source_and_there_are_at_least_30_real_errors() {
    let files = fixtures();
    let errors = files
        .iter()
        .filter(|f| expectations(f).iter().all(|(k, _)| k != "none"))
        .count();
    assert!(errors >= 30, "{errors} error texts");
    for f in &files {
        let text = std::fs::read_to_string(f).expect("fixture");
        assert!(
            text.lines()
                .next()
                .is_some_and(|l| l.starts_with("# source: ")),
            "{}: the first line names the source",
            f.display()
        );
    }
}

#[tokio::test]
async fn every_real_error_text_gives_the_reading_its_fixture_expects() {
    let mut failures = Vec::new();
    for path in fixtures() {
        let name = path
            .file_name()
            .and_then(|n| n.to_str())
            .unwrap_or("")
            .to_owned();
        // The text alone (the header is not part of what was pasted), through --file.
        let run = Run::new(&["why", "--format", "json", "--file"]);
        let text = run.file("pasted.txt");
        std::fs::write(&text, body(&path)).expect("write the text");
        let out = run.arg(&text.display().to_string()).output().await;
        let expect = expectations(&path);
        if expect.iter().any(|(k, _)| k == "none") {
            if out.code != 2 || out.stderr.lines().count() != 1 {
                failures.push(format!(
                    "{name}: want exit 2 with one line, got {} {:?}",
                    out.code, out.stderr
                ));
            }
            continue;
        }
        if out.code != 0 {
            failures.push(format!("{name}: exit {} {}", out.code, out.stderr));
            continue;
        }
        let json: Value = serde_json::from_str(&out.stdout).expect("json");
        for (field, want) in expect {
            let field = match field.as_str() {
                "shape" => "format".to_owned(),
                "status" => "http_status".to_owned(),
                _ => field,
            };
            let got = &json[&field];
            let ok = match (want.as_str(), got) {
                ("-", Value::Null) => true,
                ("true", Value::String(s)) if field == "hidden" => !s.is_empty(),
                (w, Value::String(s)) => s == w,
                (w, Value::Number(n)) => n.to_string() == w,
                _ => false,
            };
            if !ok {
                failures.push(format!("{name}: {field} = {got}, want {want}"));
            }
        }
    }
    assert!(failures.is_empty(), "{}", failures.join("\n"));
}

#[test]
fn why_reads_a_pipe_and_dash_and_says_in_one_line_when_there_is_no_error() {
    let text = body(&fixtures()[0]);
    for args in [vec!["why"], vec!["why", "-"]] {
        let mut child = Command::new(env!("CARGO_BIN_EXE_s3doctor"))
            .args(&args)
            .stdin(Stdio::piped())
            .stdout(Stdio::piped())
            .stderr(Stdio::piped())
            .spawn()
            .expect("spawn");
        child
            .stdin
            .take()
            .expect("stdin")
            .write_all(text.as_bytes())
            .expect("write");
        let out = child.wait_with_output().expect("wait");
        let stdout = String::from_utf8_lossy(&out.stdout);
        assert_eq!(out.status.code(), Some(0), "{args:?}");
        assert!(stdout.contains("Check it live"), "{stdout}");
        assert!(stdout.contains("s3doctor check --bucket"), "{stdout}");
    }
    let out = Command::new(env!("CARGO_BIN_EXE_s3doctor"))
        .args(["why", "the upload did not work, please help"])
        .output()
        .expect("run");
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert_eq!(out.status.code(), Some(2));
    assert_eq!(stderr.lines().count(), 1, "{stderr}");
    assert!(stderr.contains("no AWS error"), "{stderr}");
    assert!(out.stdout.is_empty());
}

/// Accepts connections on 127.0.0.1 until `deadline` (non-blocking), counting them.
fn connections(listener: &TcpListener, deadline: Instant) -> usize {
    let mut seen = 0;
    while Instant::now() < deadline {
        match listener.accept() {
            Ok(_) => seen += 1,
            Err(_) => std::thread::sleep(Duration::from_millis(20)),
        }
    }
    seen
}

fn recorded_run(args: &[&str], url: &str) -> std::process::Child {
    Command::new(env!("CARGO_BIN_EXE_s3doctor"))
        .args(args)
        .env_clear()
        .env("PATH", std::env::var("PATH").unwrap_or_default())
        .env("HOME", std::env::temp_dir())
        .env("AWS_ACCESS_KEY_ID", "AKIAIOSFODNN7EXAMPLE")
        .env(
            "AWS_SECRET_ACCESS_KEY",
            "wJalrXUtnFEMI/K7MDENG/bPxRfiCYEXAMPLEKEY",
        )
        .env("AWS_REGION", "us-east-1")
        .env("AWS_ENDPOINT_URL", url)
        .env("AWS_EC2_METADATA_SERVICE_ENDPOINT", url)
        .env("HTTP_PROXY", url)
        .env("HTTPS_PROXY", url)
        .stdin(Stdio::null())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .expect("spawn")
}

#[test]
fn why_sends_nothing_even_with_credentials_and_an_endpoint_set() {
    let listener = TcpListener::bind("127.0.0.1:0").expect("bind");
    listener.set_nonblocking(true).expect("nonblocking");
    let url = format!("http://{}", listener.local_addr().expect("addr"));
    let text = body(&fixtures()[0]);
    let why = recorded_run(
        &["why", "--endpoint-url", &url, "--format", "json", &text],
        &url,
    );
    let out = why.wait_with_output().expect("why");
    assert_eq!(
        out.status.code(),
        Some(0),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    // Anything `why` started would have connected by the time it exited.
    assert_eq!(
        connections(&listener, Instant::now() + Duration::from_millis(300)),
        0
    );

    // The recorder works: `check` with the same settings reaches it.
    let check = recorded_run(&["check", "--bucket", "b-1", "--timeout", "2"], &url);
    let seen = connections(&listener, Instant::now() + Duration::from_secs(20));
    drop(check);
    assert!(seen > 0, "the recording listener saw nothing from check");
}

/// In the wizard, `p` takes the app's error pasted into a real terminal (bracketed paste, its
/// new lines and all), shows the reading, and Enter runs the checklist on the bucket the error
/// names, which then finds the same refusal live.
#[tokio::test]
async fn p_in_the_wizard_reads_a_pasted_error_and_enter_checks_the_bucket_it_names() {
    let peer = Peer::get();
    let opened = peer.bucket("us-east-1").await;
    let named = peer.bucket("us-east-1").await;
    let user = peer.user(None).await;
    let tmux = Tmux::start(&peer, &user, &["--bucket", &opened], false);
    tmux.wait_for("the wizard", |s| s.contains("Checklist"));
    tmux.keys("p");
    tmux.wait_for("the error screen", |s| s.contains("Pasted error"));
    let error = format!(
        "upload failed: ./report.csv to s3://{named}/reports/report.csv\nAn error occurred (AccessDenied) when calling the PutObject operation: Access Denied"
    );
    tmux.paste(&error);
    tmux.keys("Enter");
    let screen = tmux.wait_for("the reading", |s| {
        overlay(s).contains("Cause: permission.missing")
    });
    let text = overlay(&screen);
    assert!(text.contains("Read from AWS CLI output"), "{screen}");
    assert!(
        text.contains(&format!("Enter checks {named}, the bucket the error names")),
        "{screen}"
    );
    tmux.keys("Enter");
    let screen = tmux.wait_for("the checklist on the named bucket and object", |s| {
        !s.contains("Pasted error")
            && row(s, "put-object").contains('✗')
            && all_done(s)
            && s.contains("app-object")
    });
    assert!(screen.contains(&format!("bucket {named}")), "{screen}");
    tmux.keys("q");
    let screen = tmux.wait_for("the exit", |s| s.contains("MODES-DONE"));
    assert_terminal_restored(&screen);
}

/// `command` (as `why` printed it) through a shell, as JSON against the emulator, with `keys`
/// in the standard variables and nothing else of this machine's AWS set-up.
async fn run_printed(command: &str, peer: &Peer, keys: &Keys) -> std::process::Output {
    let script = format!(
        "{} --format json --endpoint-url {}",
        command.replacen("s3doctor", env!("CARGO_BIN_EXE_s3doctor"), 1),
        peer.url
    );
    let home = tempfile::tempdir().expect("home");
    let run = tokio::process::Command::new("sh")
        .args(["-c", &script])
        .env_clear()
        .env("PATH", std::env::var("PATH").unwrap_or_default())
        .env("HOME", home.path())
        .env("AWS_ACCESS_KEY_ID", &keys.id)
        .env("AWS_SECRET_ACCESS_KEY", &keys.secret)
        .env("AWS_EC2_METADATA_DISABLED", "true")
        .output();
    tokio::time::timeout(Duration::from_secs(120), run)
        .await
        .expect("check ended")
        .expect("check ran")
}

/// The command `why` prints runs as printed: a CloudTrail event of a refused download names the
/// bucket, the key, the role behind the session, the region and the network it came from
/// (`sourceIPAddress`, `vpcEndpointId`); `check` takes those flags
/// (no bad input) and checks that bucket and that object.
#[tokio::test]
async fn the_printed_command_runs_with_the_flags_it_names() {
    let peer = Peer::get();
    let bucket = peer.bucket("us-east-1").await;
    let user = peer.user(None).await;
    let event = serde_json::json!({
        "eventVersion": "1.09",
        "userIdentity": {
            "type": "AssumedRole",
            "arn": "arn:aws:sts::123456789012:assumed-role/app/i-0abc",
            "sessionContext": {"sessionIssuer": {"type": "Role", "arn": "arn:aws:iam::123456789012:role/app"}}
        },
        "eventSource": "s3.amazonaws.com",
        "eventName": "GetObject",
        "awsRegion": "us-east-1",
        "errorCode": "AccessDenied",
        "errorMessage": "Access Denied",
        "sourceIPAddress": "10.0.1.25",
        "vpcEndpointId": "vpce-0a1b2c3d4e5f67890",
        "requestParameters": {"bucketName": bucket, "key": "reports/2026 q1.csv"}
    });
    let out = Run::new(&["why", "--format", "json", &event.to_string()])
        .output()
        .await;
    assert_eq!(out.code, 0, "{}", out.stderr);
    let reading: Value = serde_json::from_str(&out.stdout).expect("json");
    let command = reading["command"].as_str().expect("command");
    assert_eq!(
        command,
        format!(
            "s3doctor check --bucket {bucket} --key 'reports/2026 q1.csv' --role-arn arn:aws:iam::123456789012:role/app --region us-east-1 --source-ip 10.0.1.25 --vpce vpce-0a1b2c3d4e5f67890"
        )
    );
    assert_eq!(reading["step"], "app-object");
    // CloudTrail's session issuer is the role's real ARN, path and all.
    assert_eq!(reading["role_path_known"], true, "{reading:#}");
    // As printed, through a shell, against the emulator with the user's keys.
    let out = run_printed(command, &peer, &user).await;
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert_ne!(out.status.code(), Some(2), "bad input: {stderr}");
    let report: Value =
        serde_json::from_slice(&out.stdout).unwrap_or_else(|e| panic!("{e}: {stderr}"));
    assert_eq!(
        report["target"]["buckets"][0],
        bucket.as_str(),
        "{report:#}"
    );
    let steps = report["steps"].as_array().expect("steps");
    assert!(
        steps.iter().any(|s| s["id"] == "app-object"),
        "no app-object step for the key: {report:#}"
    );
    // The network the event names is the run's app network.
    assert_eq!(
        report["target"]["app_network"],
        serde_json::json!({"source_ip": "10.0.1.25", "vpc": null, "vpce": "vpce-0a1b2c3d4e5f67890"}),
        "{report:#}"
    );
}

/// A refusal of a user's request prints `--expect-principal` with the user AWS named, a flag
/// `check` has: run as printed with another user's keys, the check says the keys belong to
/// someone else (not bad input).
#[tokio::test]
async fn the_printed_command_for_a_user_expects_that_user_and_runs() {
    let peer = Peer::get();
    let bucket = peer.bucket("us-east-1").await;
    let other = peer.user(None).await;
    let text = format!(
        "botocore.exceptions.ClientError: An error occurred (AccessDenied) when calling the PutObject operation: User: arn:aws:iam::123456789012:user/app is not authorized to perform: s3:PutObject on resource: \"arn:aws:s3:::{bucket}/a.txt\" because no identity-based policy allows the s3:PutObject action"
    );
    let out = Run::new(&["why", "--format", "json", &text]).output().await;
    assert_eq!(out.code, 0, "{}", out.stderr);
    let reading: Value = serde_json::from_str(&out.stdout).expect("json");
    let command = reading["command"].as_str().expect("command");
    assert!(
        command.contains(" --expect-principal arn:aws:iam::123456789012:user/app"),
        "{command}"
    );
    let out = run_printed(command, &peer, &other).await;
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert_eq!(out.status.code(), Some(1), "{stderr}");
    let report: Value =
        serde_json::from_slice(&out.stdout).unwrap_or_else(|e| panic!("{e}: {stderr}"));
    assert!(
        report["findings"]
            .as_array()
            .expect("findings")
            .iter()
            .any(|f| f["code"] == "credentials.unexpected-principal"),
        "{report:#}"
    );
}

/// An engineer allowed to assume the roles under `/service/` (least privilege names the path),
/// and to read them with iam:GetRole when `get_role`.
async fn service_engineer(peer: &Peer, get_role: bool) -> Keys {
    let mut statements = vec![
        serde_json::json!({"Effect": "Allow", "Action": "sts:AssumeRole",
        "Resource": format!("arn:aws:iam::{ACCOUNT}:role/service/*")}),
    ];
    if get_role {
        statements
            .push(serde_json::json!({"Effect": "Allow", "Action": "iam:GetRole", "Resource": "*"}));
    }
    peer.user(Some(
        serde_json::json!({"Version": "2012-10-17", "Statement": statements}),
    ))
    .await
}

/// A session's ARN does not carry its role's path, so the `--role-arn` that `why` makes from it
/// names no path and says so. Run as printed, the role at `/service/` is still assumed by its
/// real ARN: moto refuses the path-less one (the engineer may assume `role/service/*` only, as
/// AWS refuses an ARN that names no role), GetRole names the real one, and the role's trust
/// policy (which moto checks for the real ARN) trusts the engineer. Without iam:GetRole the
/// refusal says the path is not known.
#[tokio::test]
async fn why_on_a_sessions_refusal_prints_a_role_arn_that_check_assumes_by_its_path() {
    let peer = Peer::get();
    let bucket = peer.bucket("us-east-1").await;
    let engineer = service_engineer(&peer, true).await;
    let trusted = format!("arn:aws:iam::{ACCOUNT}:user/{}", engineer.name);
    let role_arn = crate::roles::role(&peer, "/service/", &trusted, None).await;
    let name = role_arn.rsplit('/').next().expect("name");
    let session = peer
        .sts_as(&engineer)
        .assume_role()
        .role_arn(&role_arn)
        .role_session_name("worker")
        .send()
        .await
        .expect("the role, by its real ARN");
    let session_arn = session.assumed_role_user().expect("session").arn();
    let text = format!(
        "An error occurred (AccessDenied) when calling the PutObject operation: User: \
         {session_arn} is not authorized to perform: s3:PutObject on resource: \
         \"arn:aws:s3:::{bucket}/up/a.png\" because no identity-based policy allows the \
         s3:PutObject action"
    );
    let out = Run::new(&["why", "--format", "json", &text]).output().await;
    assert_eq!(out.code, 0, "{}", out.stderr);
    let reading = out.json();
    let pathless = format!("arn:aws:iam::{ACCOUNT}:role/{name}");
    assert_eq!(reading["role_arn"], pathless.as_str(), "{reading:#}");
    assert_eq!(reading["role_path_known"], false, "{reading:#}");
    let command = reading["command"].as_str().expect("command");
    assert!(
        command.contains(&format!("--role-arn {pathless}")),
        "{command}"
    );
    let words = Run::new(&["why", &text]).output().await.stdout;
    assert!(
        words.contains(&format!(
            "(role {name}, path not known: the session ARN does not carry it)"
        )),
        "{words}"
    );
    // As printed, with the engineer's keys: assumed by the ARN with its path.
    let out = run_printed(command, &peer, &engineer).await;
    let stderr = String::from_utf8_lossy(&out.stderr);
    let report: Value =
        serde_json::from_slice(&out.stdout).unwrap_or_else(|e| panic!("{e}: {stderr}"));
    assert_eq!(
        report["identity"]["role_arn"],
        role_arn.as_str(),
        "{report:#}"
    );
    assert_eq!(report["identity"]["role_path_known"], true, "{report:#}");
    let creds = crate::peer::detail(&report, "credentials", None);
    assert!(
        creds.contains(&format!(
            "assumed {role_arn} (session s3doctor, --role-arn)"
        )) && creds.contains(&format!(
            "STS refused {pathless}, which lacks the role's path"
        )),
        "{creds}"
    );
    let missing = crate::peer::finding(&report, "permission.missing", Some("s3:PutObject"));
    assert!(
        missing["summary"].as_str().unwrap().contains(&role_arn),
        "{missing:#}"
    );
    // An engineer who may not read IAM (and whom the role does not trust): the refusal says
    // the path is not known.
    let blind = service_engineer(&peer, false).await;
    let out = run_printed(command, &peer, &blind).await;
    let report: Value = serde_json::from_slice(&out.stdout).expect("json");
    let refused = crate::peer::finding(&report, "credentials.assume-role-refused", None);
    let summary = refused["summary"].as_str().unwrap();
    assert!(
        summary.contains(&format!("{pathless} (path not known: the ARN names none")),
        "{summary}"
    );
    // With --admin-profile, GetRole names the real ARN, which is assumed (and refused by the
    // role's trust policy, which is then read and judged: the trust refusal of the real role).
    let args: Vec<&str> = command.split_whitespace().skip(1).collect();
    let out = Run::new(&args)
        .arg("--format")
        .arg("json")
        .keys(&peer, &blind)
        .profiles(&[("admin", &peer.admin)])
        .arg("--admin-profile")
        .arg("admin")
        .output()
        .await;
    let report = out.json();
    let refused = crate::peer::finding(&report, "credentials.assume-role-refused", None);
    let summary = refused["summary"].as_str().unwrap();
    assert!(
        summary.contains(&format!(
            "asked to assume {role_arn} (--role-arn), and STS refused."
        )) && summary.contains("Read from the trust policy"),
        "{summary}"
    );
}
