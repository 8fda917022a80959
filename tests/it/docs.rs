//! The documentation commands of the real binary: `explain` (known and unknown codes),
//! `completions` for every shell (the bash one must parse with `bash -n`) and `man` (must
//! render with groff without a warning). None of them needs the emulator.

use std::io::Write;
use std::process::{Command, Stdio};

use crate::peer::Run;

const SUBCOMMANDS: [&str; 6] = ["check", "policy", "fix", "explain", "completions", "man"];

#[tokio::test]
async fn explain_prints_meaning_detection_causes_and_fix() {
    let out = Run::new(&["explain", "permission.explicit-deny"])
        .output()
        .await;
    assert_eq!(out.code, 0, "{}", out.stderr);
    // The text is wrapped at 80 columns: compare with the line breaks taken out.
    let flat = out.stdout.split_whitespace().collect::<Vec<_>>().join(" ");
    for part in [
        "permission.explicit-deny: Explicitly denied: <action>",
        "What it means",
        "A Deny always wins over any Allow",
        "How s3doctor detects it",
        "Usual causes",
        "a guard-rail statement",
        "The fix",
        "Remove or narrow the denying statement",
    ] {
        assert!(flat.contains(part), "{part} missing:\n{}", out.stdout);
    }
}

#[tokio::test]
async fn explain_of_an_unknown_code_lists_the_known_ones_and_exits_2() {
    let out = Run::new(&["explain", "permission.nope"]).output().await;
    assert_eq!(out.code, 2);
    assert_eq!(out.stdout, "");
    assert_eq!(out.stderr.lines().count(), 1, "{}", out.stderr);
    assert!(
        out.stderr
            .contains("unknown finding code \"permission.nope\"")
    );
    for code in [
        "credentials.invalid-key-id",
        "bucket.wrong-region",
        "probe.left-behind",
    ] {
        assert!(out.stderr.contains(code), "{}", out.stderr);
    }
    let list = Run::new(&["explain"]).output().await;
    assert_eq!(list.code, 0);
    assert!(
        list.stdout.contains("permission.missing"),
        "{}",
        list.stdout
    );
}

#[tokio::test]
async fn completions_generate_for_every_shell_and_bash_parses() {
    for shell in ["bash", "zsh", "fish", "powershell"] {
        let out = Run::new(&["completions", shell]).output().await;
        assert_eq!(out.code, 0, "{shell}: {}", out.stderr);
        for word in SUBCOMMANDS.iter().chain(&["--bucket", "--env-file"]) {
            let word = word.trim_start_matches('-');
            assert!(out.stdout.contains(word), "{shell} lacks {word}");
        }
        if shell == "bash" {
            let mut bash = Command::new("bash")
                .arg("-n")
                .stdin(Stdio::piped())
                .stderr(Stdio::piped())
                .spawn()
                .expect("bash");
            bash.stdin
                .take()
                .expect("stdin")
                .write_all(out.stdout.as_bytes())
                .expect("write");
            let done = bash.wait_with_output().expect("bash -n");
            assert!(
                done.status.success(),
                "bash -n: {}",
                String::from_utf8_lossy(&done.stderr)
            );
        }
    }
    let bad = Run::new(&["completions", "tcsh"]).output().await;
    assert_eq!(bad.code, 2);
}

#[tokio::test]
async fn man_page_renders_with_groff_without_warnings() {
    let out = Run::new(&["man"]).output().await;
    assert_eq!(out.code, 0, "{}", out.stderr);
    assert!(out.stdout.starts_with(".ie") || out.stdout.contains(".TH s3doctor 1"));
    let mut groff = Command::new("groff")
        .args(["-man", "-Tutf8", "-ww"])
        .stdin(Stdio::piped())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .expect("groff is installed");
    groff
        .stdin
        .take()
        .expect("stdin")
        .write_all(out.stdout.as_bytes())
        .expect("write");
    let done = groff.wait_with_output().expect("groff");
    let stderr = String::from_utf8_lossy(&done.stderr);
    assert!(
        done.status.success() && stderr.is_empty(),
        "groff: {stderr}"
    );
    let text = String::from_utf8_lossy(&done.stdout);
    for part in SUBCOMMANDS.iter().chain(&["--env-file", "--admin-profile"]) {
        assert!(text.contains(part), "man page lacks {part}:\n{text}");
    }
}
