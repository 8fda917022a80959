//! No debug dumps anywhere: every command, run through its failure paths (no credentials, a
//! closed port, a stalled endpoint, a refused AssumeRole, a bad profile, a URL read offline or
//! sent to nothing, bad input, …), prints no Rust debug formatting of an error — on standard
//! output, standard error, in the JSON, the `--log` file or any file it writes. A table: a new
//! command or failure path is one more row.

use std::path::Path;
use std::time::Duration;

use crate::peer::{ACCOUNT, Output, Peer, Run, closed_port};
use crate::proxy::{Fault, Proxy};

/// What Rust's `{:?}` of an SDK error (or an `Option`) looks like.
const DUMPS: [&str; 4] = ["{ source:", "DispatchFailure", "ConnectorError", "Some("];

/// One run of the binary and what it is.
struct Case {
    name: &'static str,
    run: Run,
}

/// `s3doctor ARGS…` with `--log` into the run's HOME.
fn run(args: &[&str]) -> Run {
    let run = Run::new(args);
    let log = run.file("s3doctor.log");
    run.arg("--log").arg(&log.display().to_string())
}

/// Keys in the standard variables (any keys: the endpoint decides what becomes of them).
fn keyed(run: Run, id: &str, secret: &str) -> Run {
    run.env("AWS_ACCESS_KEY_ID", id)
        .env("AWS_SECRET_ACCESS_KEY", secret)
}

/// A SigV4 GET URL on `host`, its signature made up (nothing here checks it).
fn url_on(host: &str) -> String {
    format!(
        "http://{host}/clipizy-dev/a.jpg?X-Amz-Algorithm=AWS4-HMAC-SHA256\
         &X-Amz-Credential=AKIAIOSFODNN7EXAMPLE%2F20261125%2Fus-east-1%2Fs3%2Faws4_request\
         &X-Amz-Date=20261125T150000Z&X-Amz-Expires=60&X-Amz-SignedHeaders=host\
         &X-Amz-Signature=0123456789abcdef0123456789abcdef0123456789abcdef0123456789abcdef\
         &x-id=GetObject"
    )
}

/// Runs without credentials or an answering endpoint: no keys anywhere, instance metadata
/// refused, an endpoint where nothing listens, bad input.
fn offline_cases(closed: &str) -> Vec<Case> {
    let no_keys = |args: &[&str]| {
        run(args)
            .unset("AWS_EC2_METADATA_DISABLED")
            .env("AWS_EC2_METADATA_SERVICE_ENDPOINT", closed)
    };
    let closed_endpoint = |args: &[&str]| {
        keyed(
            run(args),
            "AKIAIOSFODNN7EXAMPLE",
            "wJalrXUtnFEMI/K7MDENG/bPxRfiCYEXAMPLEKEY",
        )
        .arg("--endpoint-url")
        .arg(closed)
    };
    let host = closed.trim_start_matches("http://");
    let export = |r: Run| {
        let file = r.file("fix.md");
        r.arg("--export").arg(&file.display().to_string())
    };
    vec![
        Case {
            name: "check text, no credentials",
            run: no_keys(&["check", "-b", "clipizy-dev"]),
        },
        Case {
            name: "check json, no credentials",
            run: no_keys(&["check", "-b", "clipizy-dev", "--format", "json"]),
        },
        Case {
            name: "check markdown, no credentials",
            run: no_keys(&["check", "-b", "clipizy-dev", "--format", "markdown"]),
        },
        Case {
            name: "fix --yes, no credentials",
            run: no_keys(&["fix", "--yes", "-b", "clipizy-dev"]),
        },
        Case {
            name: "check json, closed port",
            run: closed_endpoint(&["check", "-b", "clipizy-dev", "--format", "json"]),
        },
        Case {
            name: "check text, closed port",
            run: closed_endpoint(&["check", "-b", "clipizy-dev"]),
        },
        Case {
            name: "fix --export, closed port",
            run: export(closed_endpoint(&["fix", "-b", "clipizy-dev"])),
        },
        Case {
            name: "fix --undo --yes, closed port",
            run: closed_endpoint(&["fix", "--undo", "--yes", "-b", "clipizy-dev"]),
        },
        Case {
            name: "url --try, closed port",
            run: closed_endpoint(&["url", &url_on(host), "--try", "--format", "json"]),
        },
        Case {
            name: "url text, closed host",
            run: run(&["url", &url_on(host), "--try"]),
        },
        Case {
            name: "url --offline",
            run: run(&["url", &url_on(host), "--offline"]),
        },
        Case {
            name: "url, not a URL",
            run: run(&["url", "not a url"]),
        },
        Case {
            name: "check, invalid bucket",
            run: run(&["check", "-b", "Not_A_Bucket"]),
        },
        Case {
            name: "policy, invalid access",
            run: run(&["policy", "-b", "clipizy-dev", "--access", "admin"]),
        },
        Case {
            name: "explain, unknown code",
            run: run(&["explain", "no.such-code"]),
        },
        Case {
            name: "why --file, a file that cannot be read",
            run: {
                let r = run(&["why", "--file"]);
                let missing = r.file("no-such-error.txt");
                r.arg(&missing.display().to_string())
            },
        },
        Case {
            name: "why --file, a directory",
            run: {
                let r = run(&["why", "--file"]);
                let dir = r.file("");
                r.arg(&dir.display().to_string())
            },
        },
        Case {
            name: "why -, empty standard input",
            run: run(&["why", "-"]),
        },
        Case {
            name: "why --file, binary input",
            run: {
                let r = run(&["why", "--format", "json", "--file"]);
                let blob = r.file("blob.bin");
                let bytes: Vec<u8> = (0..=255u8).cycle().take(4096).collect();
                std::fs::write(&blob, bytes).expect("blob.bin");
                r.arg(&blob.display().to_string())
            },
        },
        Case {
            name: "check, an env file's pod variables (a web identity token not here)",
            run: {
                let r = run(&["check", "-b", "clipizy-dev"]);
                let env = r.file("pod.env");
                std::fs::write(
                    &env,
                    "AWS_ROLE_ARN=arn:aws:iam::123456789012:role/app\n\
                     AWS_WEB_IDENTITY_TOKEN_FILE=/var/run/secrets/eks.amazonaws.com/serviceaccount/token\n\
                     AWS_CONTAINER_CREDENTIALS_RELATIVE_URI=/v2/credentials/x\n",
                )
                .expect("pod.env");
                r.arg("--env-file").arg(&env.display().to_string())
            },
        },
        Case {
            name: "check, a profile in neither file",
            run: run(&["check", "-b", "clipizy-dev", "--profile", "nosuch"]),
        },
        Case {
            name: "check, an admin profile in neither file",
            run: closed_endpoint(&["check", "-b", "clipizy-dev", "--admin-profile", "nosuch"]),
        },
        Case {
            name: "the wizard without a terminal",
            run: run(&["-b", "clipizy-dev"]),
        },
        Case {
            name: "demo --seed, emulator down",
            run: {
                let r = run(&["demo", "--seed", "--incident", "runpod-no-permissions"])
                    .arg("--endpoint-url")
                    .arg(closed)
                    .arg("--admin-profile")
                    .arg("adm");
                let workdir = r.file("demo");
                r.arg("--workdir")
                    .arg(&workdir.display().to_string())
                    .profiles(&[(
                        "adm",
                        &crate::peer::Keys {
                            name: "adm".into(),
                            id: "AKIAIOSFODNN7EXAMPLE".into(),
                            secret: "wJalrXUtnFEMI/K7MDENG/bPxRfiCYEXAMPLEKEY".into(),
                            token: None,
                        },
                    )])
            },
        },
    ]
}

/// Runs against the emulator (or a proxy in front of it) that fail: a stalled endpoint, an
/// AssumeRole its trust policy refuses, through `--role-arn` and through a role profile.
async fn emulator_cases(peer: &Peer, stall: &Proxy) -> Vec<Case> {
    let bucket = peer.bucket("us-east-1").await;
    let engineer = crate::roles::assumer(peer).await;
    let untrusting = crate::roles::role(
        peer,
        "/",
        &format!("arn:aws:iam::{ACCOUNT}:user/someone-else"),
        None,
    )
    .await;
    let check = |args: &[&str]| {
        let mut r = run(&["check", "--format", "json", "-b", &bucket]);
        for a in args {
            r = r.arg(a);
        }
        r
    };
    vec![
        Case {
            name: "check, endpoint stalls",
            run: keyed(
                check(&["--endpoint-url", &stall.url, "--timeout", "1"]),
                &engineer.id,
                &engineer.secret,
            ),
        },
        Case {
            name: "check, --role-arn refused",
            run: keyed(
                check(&["--endpoint-url", &peer.url, "--role-arn", &untrusting]),
                &engineer.id,
                &engineer.secret,
            ),
        },
        Case {
            name: "check, a role profile refused",
            run: crate::roles::with_config(
                check(&["--endpoint-url", &peer.url, "--profile", "deploy"]),
                &format!("[profile deploy]\nrole_arn = {untrusting}\nsource_profile = ci\n"),
            )
            .profiles(&[("ci", &engineer)]),
        },
        Case {
            name: "check, a role profile refused, its trust policy read with --admin-profile",
            run: crate::roles::with_config(
                check(&[
                    "--endpoint-url",
                    &peer.url,
                    "--profile",
                    "deploy",
                    "--admin-profile",
                    "admin",
                ]),
                &format!("[profile deploy]\nrole_arn = {untrusting}\nsource_profile = ci\n"),
            )
            .profiles(&[("ci", &engineer), ("admin", &peer.admin)]),
        },
        Case {
            name: "fix --export, a role that does not trust the caller",
            run: {
                let r = run(&["fix", "-b", &bucket, "--endpoint-url", &peer.url]);
                let export = r.file("trust.md").display().to_string();
                crate::roles::with_config(
                    r.arg("--profile")
                        .arg("deploy")
                        .arg("--admin-profile")
                        .arg("admin")
                        .arg("--export")
                        .arg(&export),
                    &format!("[profile deploy]\nrole_arn = {untrusting}\nsource_profile = ci\n"),
                )
                .profiles(&[("ci", &engineer), ("admin", &peer.admin)])
            },
        },
        Case {
            name: "check, a role profile without source_profile or credential_source",
            run: crate::roles::with_config(
                check(&["--endpoint-url", &peer.url, "--profile", "deploy"]),
                &format!("[profile deploy]\nrole_arn = {untrusting}\n"),
            ),
        },
        Case {
            name: "fix --yes, --role-arn refused",
            run: keyed(
                run(&[
                    "fix",
                    "--yes",
                    "-b",
                    &bucket,
                    "--endpoint-url",
                    &peer.url,
                    "--role-arn",
                    &untrusting,
                ]),
                &engineer.id,
                &engineer.secret,
            ),
        },
    ]
}

/// Every file the run wrote into its HOME (the log, an export, a report), but the AWS files
/// the test wrote for it.
fn written(home: &Path, out: &mut Vec<(String, String)>) {
    let Ok(entries) = std::fs::read_dir(home) else {
        return;
    };
    for entry in entries.flatten() {
        let path = entry.path();
        let name = path
            .file_name()
            .and_then(|n| n.to_str())
            .unwrap_or_default();
        if path.is_dir() {
            written(&path, out);
        } else if !name.starts_with("aws-")
            && let Ok(text) = std::fs::read_to_string(&path)
        {
            out.push((path.display().to_string(), text));
        }
    }
}

/// The dumps in everything a run printed or wrote, as `where: dump`.
fn dumps_in(out: &Output) -> Vec<String> {
    let mut texts = vec![
        ("stdout".to_owned(), out.stdout.clone()),
        ("stderr".to_owned(), out.stderr.clone()),
    ];
    written(out.home.path(), &mut texts);
    let mut found = Vec::new();
    for (place, text) in &texts {
        for dump in DUMPS {
            if let Some(at) = text.find(dump) {
                let start = text[..at]
                    .char_indices()
                    .rev()
                    .nth(80)
                    .map_or(0, |(i, _)| i);
                let end = (at + 120).min(text.len());
                let end = (end..=text.len())
                    .find(|i| text.is_char_boundary(*i))
                    .unwrap_or(text.len());
                found.push(format!("{place}: {dump}: …{}…", &text[start..end]));
            }
        }
    }
    found
}

#[tokio::test(flavor = "multi_thread")]
async fn no_command_prints_a_debug_dump_on_any_failure_path() {
    let peer = Peer::get();
    let closed = format!("http://127.0.0.1:{}", closed_port());
    let stall = Proxy::start(&peer.url, Fault::Stall).await;
    let mut cases = offline_cases(&closed);
    cases.extend(emulator_cases(&peer, &stall).await);
    let mut failures = Vec::new();
    let (mut ran, mut logs) = (0, 0);
    for case in cases {
        let out = case.run.deadline(Duration::from_secs(60)).output().await;
        ran += 1;
        logs += usize::from(out.home.path().join("s3doctor.log").exists());
        if out.code == 3 || out.code < 0 {
            failures.push(format!(
                "{}: exit {} (internal error or crash): {}",
                case.name, out.code, out.stderr
            ));
        }
        for dump in dumps_in(&out) {
            failures.push(format!("{}: {dump}", case.name));
        }
    }
    assert!(ran >= 20, "only {ran} runs");
    // The --log file is read too: most runs write one (bad input stops before it opens).
    assert!(logs >= 10, "only {logs} runs wrote their --log file");
    assert!(failures.is_empty(), "\n{}", failures.join("\n"));
}
