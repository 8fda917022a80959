//! The real binary in a real terminal: tmux (on a private socket) runs the wizard against the
//! emulator; the test types keys with `send-keys`, reads the screen with `capture-pane`, and
//! checks afterwards with `stty -a` that the terminal is back in normal mode and with tmux's
//! `#{alternate_on}` that the alternate screen was left (also after a panic).

use std::process::Command;
use std::time::{Duration, Instant};

use crate::peer::{Keys, Peer, READ_WRITE, s3_allow, write_admin_profile, write_env_file};
use crate::proxy::{Fault, Proxy};

/// How long to wait for the screen to show something before the test fails.
const WAIT: Duration = Duration::from_secs(60);

pub(crate) struct Tmux {
    socket: String,
    dir: tempfile::TempDir,
}

impl Tmux {
    /// Starts `s3doctor ARGS…` in a 100x30 pane, followed by a line with its exit code and
    /// the terminal's modes.
    pub(crate) fn start(peer: &Peer, keys: &Keys, args: &[&str], admin: bool) -> Tmux {
        Tmux::start_at(&peer.url, peer, keys, args, admin)
    }

    /// As `start`, against another endpoint (a fault proxy).
    fn start_at(url: &str, peer: &Peer, keys: &Keys, args: &[&str], admin: bool) -> Tmux {
        Tmux::start_with(url, admin.then_some(&peer.admin), keys, args)
    }

    /// As `start_at`, with these keys as profile `admin` (another peer's, such as RGW's).
    pub(crate) fn start_with(url: &str, admin: Option<&Keys>, keys: &Keys, args: &[&str]) -> Tmux {
        Tmux::start_env(url, admin, keys, args, &[])
    }

    /// As `start_with`, with these variables added to the program's environment.
    fn start_env(
        url: &str,
        admin: Option<&Keys>,
        keys: &Keys,
        args: &[&str],
        vars: &[(&str, &str)],
    ) -> Tmux {
        let dir = tempfile::tempdir().expect("temp dir");
        let env = write_env_file(dir.path(), keys);
        // Without an admin, the credentials file named below does not exist.
        let creds = match admin {
            Some(admin) => write_admin_profile(dir.path(), admin),
            None => dir.path().join("credentials"),
        };
        let script = format!(
            "cd {dir} && env -i PATH=\"$PATH\" HOME={dir} TERM=xterm-256color \
             AWS_CONFIG_FILE={dir}/config AWS_SHARED_CREDENTIALS_FILE={creds} \
             AWS_EC2_METADATA_DISABLED=true {vars} {bin} --endpoint-url {url} --env-file {env} {args}; \
             echo \"EXIT=$?\"; stty -a | tr '\\n' ' '; echo; echo MODES-DONE; sleep 600",
            dir = dir.path().display(),
            creds = creds.display(),
            bin = env!("CARGO_BIN_EXE_s3doctor"),
            url = url,
            env = env.display(),
            args = args.join(" "),
            vars = vars
                .iter()
                .map(|(k, v)| format!("{k}={v}"))
                .collect::<Vec<_>>()
                .join(" "),
        );
        Tmux::launch(&script, dir)
    }

    /// Runs the shell `script` in a new 100x30 tmux server of its own; `dir` lives (and the
    /// server runs) as long as the returned `Tmux`.
    pub(crate) fn launch(script: &str, dir: tempfile::TempDir) -> Tmux {
        let socket = format!("s3d-{}", uuid::Uuid::new_v4().simple());
        let status = Command::new("tmux")
            .args([
                "-L",
                &socket,
                "-f",
                "/dev/null",
                "new-session",
                "-d",
                "-x",
                "100",
                "-y",
                "30",
            ])
            .arg(script)
            .status()
            .expect("tmux is installed");
        assert!(status.success(), "tmux new-session failed");
        Tmux { socket, dir }
    }

    /// The temp dir the program runs in.
    pub(crate) fn dir(&self) -> &std::path::Path {
        self.dir.path()
    }

    pub(crate) fn screen(&self) -> String {
        let out = Command::new("tmux")
            .args(["-L", &self.socket, "capture-pane", "-p", "-J"])
            .output()
            .expect("capture-pane");
        String::from_utf8_lossy(&out.stdout).into_owned()
    }

    /// Whether the pane shows the alternate screen (a full-screen program's), as tmux knows it.
    fn alternate_on(&self) -> bool {
        let out = Command::new("tmux")
            .args(["-L", &self.socket, "display", "-p", "#{alternate_on}"])
            .output()
            .expect("tmux display");
        match String::from_utf8_lossy(&out.stdout).trim() {
            "1" => true,
            "0" => false,
            other => panic!("tmux display #{{alternate_on}} said {other:?}"),
        }
    }

    pub(crate) fn keys(&self, keys: &str) {
        let status = Command::new("tmux")
            .args(["-L", &self.socket, "send-keys", keys])
            .status()
            .expect("send-keys");
        assert!(status.success());
    }

    /// Pastes `text` as a terminal pastes it: bracketed (`paste-buffer -p`) when the program
    /// asked for bracketed paste, so its new lines arrive as text, not as Enter.
    pub(crate) fn paste(&self, text: &str) {
        for args in [
            vec!["-L", &self.socket, "set-buffer", "--", text],
            vec!["-L", &self.socket, "paste-buffer", "-p"],
        ] {
            let status = Command::new("tmux").args(&args).status().expect("tmux");
            assert!(status.success(), "tmux {args:?}");
        }
    }

    /// Waits until the screen satisfies `ok` in two captures in a row (a capture can catch
    /// a frame half drawn), and returns it.
    pub(crate) fn wait_for(&self, what: &str, ok: impl Fn(&str) -> bool) -> String {
        let start = Instant::now();
        let mut seen = false;
        loop {
            let screen = self.screen();
            if ok(&screen) {
                if seen {
                    return screen;
                }
                seen = true;
            } else {
                seen = false;
            }
            assert!(
                start.elapsed() < WAIT,
                "waited {WAIT:?} for {what}; the screen is:\n{screen}"
            );
            std::thread::sleep(Duration::from_millis(100));
        }
    }
}

impl Drop for Tmux {
    fn drop(&mut self) {
        let _ = Command::new("tmux")
            .args(["-L", &self.socket, "kill-server"])
            .status();
    }
}

/// After the wizard quit, `stty -a` shows the line discipline back in normal (cooked) mode.
pub(crate) fn assert_terminal_restored(screen: &str) {
    let modes = screen
        .lines()
        .find(|l| l.contains("speed"))
        .unwrap_or_else(|| panic!("no stty line: {screen}"));
    for mode in [" icanon", " echo ", " icrnl", " opost"] {
        assert!(
            modes.contains(mode),
            "{mode} is off after quitting: {modes}"
        );
    }
}

/// The text inside an overlay's double frame (╔ … ╚), its lines joined by spaces.
pub(crate) fn overlay(screen: &str) -> String {
    screen
        .lines()
        .skip_while(|l| !l.contains('╔'))
        .skip(1)
        .take_while(|l| !l.contains('╚'))
        .filter_map(|l| {
            let start = l.find('║')? + '║'.len_utf8();
            let end = l.rfind('║')?;
            (end > start).then(|| l[start..end].trim())
        })
        .collect::<Vec<_>>()
        .join(" ")
}

/// Whether the whole run is over on screen: no checklist row shows a spinner (running) or
/// `·` (pending). "running" and "pending" as words are only in the detail pane, for the
/// selected step: other rows can still be in flight when they are absent.
pub(crate) fn all_done(screen: &str) -> bool {
    const SPINNER: &str = "⠋⠙⠹⠸⠼⠴⠦⠧⠇⠏";
    screen.lines().all(|l| {
        let cell = l.strip_prefix('│').unwrap_or("").trim_start();
        !cell.starts_with('·') && !cell.starts_with(|c| SPINNER.contains(c))
    })
}

/// `all_done` tells a run in flight from a finished one (on the snapshots of both).
#[test]
fn all_done_sees_rows_running_or_pending() {
    assert!(!all_done(include_str!("snapshots/in-progress.snap")));
    assert!(all_done(include_str!(
        "snapshots/upload-failure-detail.snap"
    )));
}

/// The checklist row of a step (`✓ put-object  pass`), not the detail pane's title.
pub(crate) fn row<'a>(screen: &'a str, step: &str) -> &'a str {
    let cell = format!(" {step}  ");
    screen.lines().find(|l| l.contains(&cell)).unwrap_or("")
}

#[tokio::test(flavor = "multi_thread")]
async fn the_wizard_finds_incident_1_opens_the_remedy_cancels_and_quits_cleanly() {
    let peer = Peer::get();
    let bucket = peer.bucket("us-east-1").await;
    let user = peer.user(None).await;
    let tmux = Tmux::start(&peer, &user, &["--bucket", &bucket], false);

    tmux.wait_for("the checklist", |s| s.contains("Why this matters"));
    tmux.keys("a");
    let screen = tmux.wait_for("the failed upload", |s| {
        row(s, "put-object").contains('✗') && all_done(s)
    });
    assert!(row(&screen, "identity").contains('✓'), "{screen}");
    tmux.keys("f");
    let screen = tmux.wait_for("the remedy screen", |s| s.contains("IAM calls"));
    // The app's own keys may not change IAM: the screen says so and offers the export.
    assert!(screen.contains("--admin-profile"), "{screen}");
    assert!(screen.contains("Press e to export"), "{screen}");
    tmux.keys("Escape");
    tmux.wait_for("the remedy to close", |s| !s.contains("IAM calls"));
    tmux.keys("q");
    let screen = tmux.wait_for("the exit", |s| s.contains("MODES-DONE"));
    assert!(screen.contains("EXIT=1"), "{screen}");
    // The command it names checks the same keys: the app's env file, not the shell's keys.
    let env = format!("--env-file {} ", tmux.dir().join("app.env").display());
    assert!(screen.contains(&env), "{env:?} not in:\n{screen}");
    assert!(
        screen.contains("--format markdown` writes them up"),
        "{screen}"
    );
    assert_terminal_restored(&screen);
    assert!(
        !tmux.alternate_on(),
        "the alternate screen was left: {screen}"
    );
    assert!(peer.attached_to_user(&user.name).await.is_empty());
}

#[tokio::test(flavor = "multi_thread")]
async fn in_the_wizard_f_then_y_fixes_incident_1_and_the_failed_steps_turn_green() {
    let peer = Peer::get();
    let bucket = peer.bucket("us-east-1").await;
    let user = peer.user(None).await;
    let tmux = Tmux::start(
        &peer,
        &user,
        &["--bucket", &bucket, "--auto", "--admin-profile", "admin"],
        true,
    );

    // The whole run, not only the upload: a row still running or pending (waiting for a free
    // slot) is not in the plan's verification, and would stay red after it.
    tmux.wait_for("the whole run", |s| {
        row(s, "put-object").contains('✗') && all_done(s)
    });
    tmux.keys("f");
    tmux.wait_for("the remedy screen", |s| s.contains("AttachUserPolicy"));
    tmux.keys("y");
    tmux.wait_for("the verification", |s| s.contains("Fixed and verified"));
    tmux.keys("Escape");
    let screen = tmux.wait_for("the upload to pass", |s| {
        row(s, "put-object").contains('✓') && !s.contains('✗')
    });
    assert!(row(&screen, "list-objects").contains('✓'), "{screen}");
    // The region, unreadable without s3:GetBucketLocation, is read now too.
    assert!(row(&screen, "bucket-region").contains('✓'), "{screen}");
    assert_eq!(
        peer.attached_to_user(&user.name).await,
        vec![format!("s3doctor-{bucket}-read-write")]
    );
    tmux.keys("q");
    let screen = tmux.wait_for("the exit", |s| s.contains("MODES-DONE"));
    assert!(screen.contains("EXIT=0"), "{screen}");
}

#[tokio::test(flavor = "multi_thread")]
async fn quitting_while_aws_does_not_answer_is_immediate_and_restores_the_terminal() {
    let peer = Peer::get();
    let user = peer.user(None).await;
    let proxy = Proxy::start(&peer.url, Fault::Stall).await;
    let tmux = Tmux::start_at(
        &proxy.url,
        &peer,
        &user,
        &["--bucket", "stalled-bucket", "--auto", "--timeout", "30"],
        false,
    );

    // The first frame is up while every call hangs: steps are running.
    tmux.wait_for("running steps", |s| s.contains("running"));
    let asked = Instant::now();
    tmux.keys("q");
    let screen = tmux.wait_for("the exit", |s| s.contains("MODES-DONE"));
    // Work in flight is cancelled: no waiting for the 30 s timeout.
    assert!(
        asked.elapsed() < Duration::from_secs(20),
        "quitting waited for AWS: {:?}",
        asked.elapsed()
    );
    assert_terminal_restored(&screen);
}

#[tokio::test(flavor = "multi_thread")]
async fn quitting_before_the_checks_ran_never_reads_as_no_problems_found() {
    let peer = Peer::get();
    let bucket = peer.bucket("us-east-1").await;
    let user = peer.user(Some(s3_allow(&[&bucket], READ_WRITE))).await;
    let tmux = Tmux::start(&peer, &user, &["--bucket", &bucket], false);

    tmux.wait_for("the first frame", |s| s.contains("Checklist"));
    tmux.keys("q");
    let screen = tmux.wait_for("the exit", |s| s.contains("MODES-DONE"));
    assert!(!screen.contains("no problems found"), "{screen}");
    assert!(screen.contains("did not finish"), "{screen}");
    assert!(screen.contains("steps ran"), "{screen}");
    assert!(screen.contains("EXIT=1"), "{screen}");
    assert_terminal_restored(&screen);
}

#[tokio::test(flavor = "multi_thread")]
async fn incident_2_in_the_wizard_names_the_statement_that_denies_the_delete() {
    let peer = Peer::get();
    let bucket = peer.bucket("us-east-1").await;
    let policy = crate::peer::incident_2_policy(&bucket);
    let user = peer.user(Some(policy)).await;
    let tmux = Tmux::start(
        &peer,
        &user,
        &["--bucket", &bucket, "--auto", "--admin-profile", "admin"],
        true,
    );

    // After the run the first failure is selected: the delete, explained.
    let screen = tmux.wait_for("the explained delete", |s| {
        row(s, "delete-object").contains('✗') && s.contains("Explicitly denied")
    });
    assert!(row(&screen, "put-object").contains('✓'), "{screen}");
    assert!(screen.contains("DenyDelete"), "{screen}");
    // No fix is offered for a Deny: `f` says what to change instead, in the remedy overlay
    // (the detail pane behind it names DenyDelete too, so only the overlay's text counts).
    tmux.keys("f");
    let screen = tmux.wait_for("the remedy answer", |s| {
        overlay(s).contains("No missing permission to add")
    });
    let remedy = overlay(&screen);
    assert!(remedy.contains("Nothing to apply"), "{screen}");
    assert!(remedy.contains("explicitly denied"), "{screen}");
    assert!(remedy.contains("DenyDelete"), "{screen}");
    tmux.keys("q");
    tmux.wait_for("the exit", |s| s.contains("MODES-DONE"));
}

impl Tmux {
    /// The pid of the program running in the pane (the child of the pane's shell).
    fn program_pid(&self) -> Option<u32> {
        let out = Command::new("tmux")
            .args(["-L", &self.socket, "list-panes", "-F", "#{pane_pid}"])
            .output()
            .ok()?;
        let shell = String::from_utf8_lossy(&out.stdout).trim().to_owned();
        // Linux lists a process's children in /proc (no pgrep needed).
        let children =
            std::fs::read_to_string(format!("/proc/{shell}/task/{shell}/children")).ok()?;
        children.split_whitespace().next()?.parse().ok()
    }
}

#[tokio::test(flavor = "multi_thread")]
async fn ctrl_c_and_sigterm_restore_the_terminal_too() {
    let peer = Peer::get();
    let user = peer.user(None).await;
    for how in ["ctrl-c", "sigterm"] {
        let tmux = Tmux::start(&peer, &user, &["--bucket", "some-bucket"], false);
        tmux.wait_for("the checklist", |s| s.contains("Why this matters"));
        match how {
            "ctrl-c" => tmux.keys("C-c"),
            _ => {
                let pid = tmux.program_pid().expect("s3doctor's pid");
                let status = Command::new("kill")
                    .args(["-TERM", &pid.to_string()])
                    .status()
                    .expect("kill");
                assert!(status.success());
            }
        }
        let screen = tmux.wait_for("the exit", |s| s.contains("MODES-DONE"));
        assert!(!tmux.alternate_on(), "{how}: {screen}");
        assert_terminal_restored(&screen);
    }
}

#[tokio::test(flavor = "multi_thread")]
async fn without_a_bucket_the_wizard_asks_and_offers_what_the_keys_can_list() {
    let peer = Peer::get();
    let bucket = peer.bucket("us-east-1").await;
    let user = peer
        .user(Some(
            serde_json::json!({"Version": "2012-10-17", "Statement": [
            {"Effect": "Allow", "Action": "s3:ListAllMyBuckets", "Resource": "*"}]}),
        ))
        .await;
    let tmux = Tmux::start(&peer, &user, &[], false);

    tmux.wait_for("the bucket list", |s| {
        s.contains("Buckets these keys can see")
    });
    // An invalid name is refused on the spot.
    tmux.keys("Bad_Name");
    tmux.keys("Enter");
    tmux.wait_for("the refusal", |s| {
        s.contains("Bad_Name") && s.contains("not the uppercase letter")
    });
    for _ in 0..8 {
        tmux.keys("BSpace");
    }
    // The emulator holds every test's buckets: typing part of the name narrows the list,
    // and Tab picks the match.
    let unique = &bucket[bucket.len() - 10..];
    tmux.keys(unique);
    let screen = tmux.wait_for("the one match", |s| s.contains(&format!("  {bucket}")));
    assert!(!screen.contains("… "), "{screen}");
    tmux.keys("Tab");
    tmux.wait_for("the pick", |s| s.contains(&format!("> {bucket}")));
    tmux.keys("Enter");
    let screen = tmux.wait_for("the checklist for the bucket", |s| {
        s.contains(&format!("bucket {bucket}")) && s.contains("Why this matters")
    });
    assert!(!screen.contains("Which bucket"), "{screen}");
    tmux.keys("q");
    tmux.wait_for("the exit", |s| s.contains("MODES-DONE"));
}

/// Keys that may not call ListBuckets: the prompt says so (and that the name is typed), instead
/// of promising a list that will never come.
#[tokio::test(flavor = "multi_thread")]
async fn without_a_bucket_and_without_list_all_my_buckets_the_prompt_says_why_there_is_no_list() {
    let peer = Peer::get();
    let user = peer.user(None).await;
    let tmux = Tmux::start(&peer, &user, &[], false);
    let screen = tmux.wait_for("the refused listing", |s| {
        s.contains("may not list buckets")
    });
    assert!(screen.contains("Which bucket"), "{screen}");
    assert!(!screen.contains("appear here"), "{screen}");
    // Letters are the bucket's name here: Esc quits.
    tmux.keys("Escape");
    tmux.wait_for("the exit", |s| s.contains("MODES-DONE"));
}

/// The terminal is restored after a panic, exercised: a debug build's wizard panics on the key
/// `S3DOCTOR_DEBUG_PANIC_KEY` names; afterwards the pane has left the alternate screen, the line
/// discipline is back in cooked mode, the panic's message is on screen and the exit code is 3
/// (an internal error, from s3doctor's own hook).
#[tokio::test(flavor = "multi_thread")]
async fn a_panic_in_the_wizard_restores_the_terminal_and_shows_the_message() {
    let peer = Peer::get();
    let user = peer.user(None).await;
    let tmux = Tmux::start_env(
        &peer.url,
        None,
        &user,
        &["--bucket", "some-bucket"],
        &[("S3DOCTOR_DEBUG_PANIC_KEY", "%")],
    );
    tmux.wait_for("the checklist", |s| s.contains("Why this matters"));
    assert!(
        tmux.alternate_on(),
        "the wizard draws on the alternate screen"
    );
    tmux.keys("%");
    let screen = tmux.wait_for("the exit", |s| s.contains("MODES-DONE"));
    assert!(
        !tmux.alternate_on(),
        "still on the alternate screen: {screen}"
    );
    assert_terminal_restored(&screen);
    assert!(
        screen.contains("debug panic on key '%'"),
        "the panic message is not on screen: {screen}"
    );
    assert!(screen.contains("EXIT=3"), "{screen}");
}

/// A panic in a background task (here the plan task, through the debug-only
/// `S3DOCTOR_DEBUG_PANIC_TASK`) is a failure the wizard shows: the terminal stays the wizard's,
/// the remedy screen names the internal error, and quitting afterwards restores the terminal.
#[tokio::test(flavor = "multi_thread")]
async fn a_panic_in_a_background_task_is_a_failure_on_screen() {
    let peer = Peer::get();
    let user = peer.user(None).await;
    let tmux = Tmux::start_env(
        &peer.url,
        None,
        &user,
        &["--bucket", "some-bucket"],
        &[("S3DOCTOR_DEBUG_PANIC_TASK", "1")],
    );
    tmux.wait_for("the checklist", |s| s.contains("Why this matters"));
    tmux.keys("a");
    tmux.wait_for("the failed upload", |s| {
        row(s, "put-object").contains('✗') && all_done(s)
    });
    tmux.keys("f");
    let screen = tmux.wait_for("the failure", |s| {
        s.contains("internal error in a background task") || s.contains("MODES-DONE")
    });
    assert!(
        screen.contains("debug panic in the plan task"),
        "the task's panic message is on the remedy screen: {screen}"
    );
    assert!(
        tmux.alternate_on(),
        "the wizard still owns the terminal after a task's panic: {screen}"
    );
    tmux.keys("Escape");
    tmux.keys("q");
    let screen = tmux.wait_for("the exit", |s| s.contains("MODES-DONE"));
    assert!(screen.contains("EXIT=1"), "{screen}");
    assert_terminal_restored(&screen);
    assert!(!tmux.alternate_on(), "{screen}");
}
