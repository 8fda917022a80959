//! Screen tests: the wizard's loop on ratatui's `TestBackend`, driven by scripted keys
//! against the emulator, and the frames it ends on kept as `insta` snapshots (names, ports,
//! paths and timings that change from run to run are masked). Screens that only show a state
//! (help, spinners) are built from `App` state instead, with fixed names and no masks.

use std::time::Duration;

use clap::Parser;
use crossterm::event::{Event, KeyCode, KeyEvent, KeyModifiers};
use ratatui::Terminal;
use ratatui::backend::TestBackend;
use ratatui::buffer::Buffer;
use ratatui::style::Color;
use s3doctor::aws;
use s3doctor::checks::{Identity, RunSettings, Status};
use s3doctor::cli::Cli;
use s3doctor::engine::{Engine, EngineEvent, SessionInfo, StepResult, Unit};
use s3doctor::runbook::StepId;
use s3doctor::tui::app::{App, Msg};
use s3doctor::tui::theme::Theme;
use s3doctor::tui::{self, Extras, LoopOptions, keys, view};

use crate::peer::{Keys, Peer, write_env_file};

/// A wizard session: its configuration (keys in an env file) and the keys it is fed.
struct Session {
    _dir: tempfile::TempDir,
    args: Vec<String>,
    /// Where `e` writes the report.
    export: std::path::PathBuf,
}

impl Session {
    fn new(peer: &Peer, keys: &Keys, bucket: Option<&str>) -> Session {
        let dir = tempfile::tempdir().expect("temp dir");
        let env = write_env_file(dir.path(), keys);
        let mut args = vec![
            "s3doctor".to_owned(),
            "--endpoint-url".into(),
            peer.url.clone(),
            "--env-file".into(),
            env.display().to_string(),
        ];
        if let Some(b) = bucket {
            args.extend(["--bucket".into(), b.to_owned()]);
        }
        Session {
            export: dir.path().join("report.md"),
            _dir: dir,
            args,
        }
    }

    /// Runs the loop over `keys` until they are used up and all work is done.
    async fn play(&self, keys: &str, color: bool) -> App {
        let cli = Cli::try_parse_from(&self.args).expect("arguments");
        let config = cli.common.config().expect("config");
        let engine = Engine::new(config.settings.clone(), config.run.clone());
        let mut app = App::new(config.settings, config.run, engine.units(), Theme { color });
        app.output = Some(self.export.clone());
        let events: Vec<std::io::Result<Event>> = keys
            .chars()
            .map(|c| {
                let code = match c {
                    '\n' => KeyCode::Enter,
                    '\u{1b}' => KeyCode::Esc,
                    c => KeyCode::Char(c),
                };
                Ok(Event::Key(KeyEvent::new(code, KeyModifiers::NONE)))
            })
            .collect();
        let mut term = Terminal::new(TestBackend::new(100, 30)).expect("terminal");
        let extras = Extras {
            admin: None,
            policy_name: None,
        };
        let run = tui::run(
            &mut term,
            futures::stream::iter(events),
            engine,
            app,
            extras,
            LoopOptions {
                auto: false,
                settle: true,
            },
        );
        tokio::time::timeout(Duration::from_secs(60), run)
            .await
            .expect("the wizard settled")
            .map(|mut app| {
                steady(&mut app);
                app
            })
            .expect("the wizard ran")
    }
}

/// Makes a finished session render the same on every run: timings and request ids change
/// the wrapping of the detail pane, and ticks the spinner, so they are fixed here.
fn steady(app: &mut App) {
    // The spinner's frame depends on how many ticks the run took.
    app.tick = 0;
    for r in app.results.values_mut() {
        r.elapsed_ms = 7;
        let evidence = r
            .evidence
            .iter_mut()
            .chain(r.findings.iter_mut().filter_map(|f| f.evidence.as_mut()));
        for e in evidence {
            if e.request_id.is_some() {
                e.request_id = Some("REQUEST-ID".into());
            }
        }
    }
}

fn frame(app: &App, width: u16, height: u16) -> Buffer {
    let mut term = Terminal::new(TestBackend::new(width, height)).expect("terminal");
    term.draw(|f| view::draw(app, f)).expect("draw");
    term.backend().buffer().clone()
}

fn text(buffer: &Buffer) -> String {
    let area = buffer.area;
    let mut out = String::new();
    for y in 0..area.height {
        let mut line = String::new();
        for x in 0..area.width {
            line.push_str(buffer[(x, y)].symbol());
        }
        out.push_str(line.trim_end());
        out.push('\n');
    }
    out
}

/// Where on screen a text starts.
fn find(buffer: &Buffer, needle: &str) -> Option<(u16, u16)> {
    let t = text(buffer);
    t.lines().enumerate().find_map(|(y, l)| {
        l.find(needle).map(|byte| {
            let x = l[..byte].chars().count();
            (x as u16, y as u16)
        })
    })
}

macro_rules! snapshot {
    ($name:expr, $buffer:expr) => {
        insta::with_settings!({
            snapshot_path => "snapshots",
            prepend_module_to_snapshot => false,
            filters => vec![
                (r"s3d-u-[0-9a-f]{10}", "s3d-u-USER000000"),
                (r"s3d-b-[0-9a-f]{10}", "s3d-b-BUCKET0000"),
                (r"127\.0\.0\.1:\d{2,5}", "127.0.0.1:PORT"),
                (r"/tmp/\.tmp[A-Za-z0-9]{6}/", "/tmp/.tmpXXXXXX/"),
                // Only the hint (AKIA…WXYZ): a whole key id would show in the snapshot.
                (r"AKIA…[A-Z0-9]{4}\b", "AKIA…HINT"),
                (r"\b\d{1,5} ms\b", "N ms"),
                (r"probe-[0-9a-f-]{32,36}", "probe-UUID"),
                (r"\b[A-Za-z0-9]{52}\b", "REQUEST-ID"),
            ],
        }, {
            insta::assert_snapshot!($name, text(&$buffer));
        });
    };
}

/// A snapshot of a screen built from `App` state: nothing in it changes from run to run.
macro_rules! unfiltered_snapshot {
    ($name:expr, $buffer:expr) => {
        insta::with_settings!({
            snapshot_path => "snapshots",
            prepend_module_to_snapshot => false,
        }, {
            insta::assert_snapshot!($name, text(&$buffer));
        });
    };
}

fn key(c: char) -> Msg {
    Msg::Key(KeyEvent::new(KeyCode::Char(c), KeyModifiers::NONE))
}

/// The checklist row of a step (`  ⠋ bucket-exists`), not the detail pane's title.
fn row<'a>(screen: &'a str, step: &str) -> &'a str {
    let cell = format!(" {step}");
    screen
        .lines()
        .find(|l| {
            l.split('│')
                .nth(1)
                .is_some_and(|c| c.trim_end().ends_with(&cell))
        })
        .unwrap_or("")
}

/// The wizard as it stands once the keys are resolved: the session is known and the two
/// global steps passed (as the engine reports them), the bucket steps not run yet. Built by
/// feeding `App::update` the engine's messages, with fixed names and no emulator.
fn resolved_app(bucket: &str) -> App {
    let run = RunSettings {
        buckets: vec![bucket.to_owned()],
        ..RunSettings::default()
    };
    let settings = aws::Settings::default();
    let units = Engine::new(settings.clone(), run.clone()).units();
    let mut app = App::new(settings, run, units, Theme { color: false });
    let principal =
        s3doctor::arn::parse_principal("arn:aws:iam::123456789012:user/Runpod").expect("ARN");
    let session = SessionInfo {
        region: Some("us-east-1".into()),
        credential_source: Some("env file /srv/app/.env".into()),
        key_id_hint: Some("AKIA…MPLE".into()),
        identity: Some(Identity {
            principal,
            user_id: None,
            confirmed: true,
        }),
        endpoint: None,
    };
    let mut events = vec![EngineEvent::Session(session)];
    for (id, detail) in [
        (StepId::Credentials, "AKIA…MPLE from env file /srv/app/.env"),
        (StepId::Identity, "arn:aws:iam::123456789012:user/Runpod"),
    ] {
        events.push(EngineEvent::Started(Unit {
            step: id,
            bucket: None,
        }));
        events.push(EngineEvent::Finished(StepResult {
            id,
            bucket: None,
            status: Status::Pass,
            elapsed_ms: 7,
            detail: detail.into(),
            evidence: None,
            findings: Vec::new(),
            blocking: false,
            ran: true,
        }));
    }
    events.push(EngineEvent::Done);
    app.start(false);
    for ev in events {
        app.update(Msg::Engine(Box::new(ev)));
    }
    app
}

#[tokio::test]
async fn the_opening_checklist_before_any_step_runs() {
    let peer = Peer::get();
    let bucket = peer.bucket("us-east-1").await;
    let user = peer.user(None).await;
    let app = Session::new(&peer, &user, Some(&bucket))
        .play("", false)
        .await;
    let screen = frame(&app, 100, 30);
    // Who is checked is in the header; the first bucket step is selected and explained
    // ("Why this matters" is there for any selected step: the title names which).
    let t = text(&screen);
    assert!(find(&screen, &user.name).is_some(), "{t}");
    let title = format!("╭ bucket-exists · {bucket} ");
    assert!(t.contains(&title), "{title:?}:\n{t}");
    assert!(t.contains("· The bucket exists  [pending]"), "{t}");
    snapshot!("opening", screen);
}

/// Running steps show a spinner and "[running]"; the rest stay pending. Built from `App` state
/// (no emulator): fixed names, so the snapshot needs no filters.
#[test]
fn a_run_in_progress_shows_spinners_for_running_steps() {
    let bucket = "clipizy-dev";
    let mut app = resolved_app(bucket);
    assert!(!app.is_busy(), "nothing runs yet");
    for step in [StepId::BucketExists, StepId::BucketRegion] {
        let started = EngineEvent::Started(Unit::for_bucket(step, bucket));
        app.update(Msg::Engine(Box::new(started)));
    }
    assert!(app.is_busy());
    let screen = frame(&app, 100, 30);
    let t = text(&screen);
    assert!(row(&t, "bucket-exists").contains('⠋'), "{t}");
    assert!(row(&t, "bucket-region").contains('⠋'), "{t}");
    assert!(row(&t, "list-objects").contains('·'), "{t}");
    assert!(t.contains("The bucket exists  [running]"), "{t}");
    unfiltered_snapshot!("in-progress", screen);
}

#[tokio::test]
async fn incident_1_failed_stands_out_in_red_with_its_evidence() {
    let peer = Peer::get();
    let bucket = peer.bucket("us-east-1").await;
    let user = peer.user(None).await;
    let session = Session::new(&peer, &user, Some(&bucket));

    // `a` runs everything; then select the failed upload.
    let app = session.play("a", true).await;
    let screen = frame(&app, 100, 30);
    let (x, y) = find(&screen, "✗ put-object").unwrap_or_else(|| panic!("{}", text(&screen)));
    assert_eq!(screen[(x, y)].fg, Color::Red, "a failed step is red");
    let (x, y) = find(&screen, "✓ credentials").expect("credentials row");
    assert_eq!(screen[(x, y)].fg, Color::Green, "a passed step is green");

    let app = session.play("a", false).await;
    let plain = frame(&app, 100, 30);
    assert!(
        (0..plain.area.width)
            .flat_map(|x| (0..plain.area.height).map(move |y| (x, y)))
            .all(|(x, y)| plain[(x, y)].fg == Color::Reset),
        "NO_COLOR draws without colours"
    );
    // Symbols carry the state without colour.
    let t = text(&plain);
    assert!(t.contains('✗') && t.contains('✓'), "{t}");
    snapshot!("incident-1-failed", plain);

    for (w, h) in [(80, 24), (60, 20)] {
        let small = frame(&app, w, h);
        let t = text(&small);
        assert!(t.contains('✗'), "{w}x{h}: the failures still show\n{t}");
        snapshot!(format!("incident-1-failed-{w}x{h}"), small);
    }
}

#[tokio::test]
async fn the_selected_failure_explains_itself() {
    let peer = Peer::get();
    let bucket = peer.bucket("us-east-1").await;
    let user = peer.user(None).await;
    let session = Session::new(&peer, &user, Some(&bucket));
    // Run all, then walk down to the upload step.
    let app = session.play("a", false).await;
    let mut app = app;
    let put = app
        .rows
        .iter()
        .position(|u| u.step == StepId::PutObject)
        .expect("put row");
    app.selected = put;
    let screen = frame(&app, 100, 30);
    let t = text(&screen);
    // The evidence, line by line (the step's own texts name PutObject and 403 anyway).
    for line in [
        "Result: access denied: s3:PutObject is not allowed",
        "  operation   PutObject",
        "  HTTP status 403",
        "  error code  AccessDenied",
        "✗ Not allowed: s3:PutObject  permission.missing · inferred",
    ] {
        assert!(t.contains(line), "{line:?}:\n{t}");
    }
    snapshot!("upload-failure-detail", screen);
}

#[tokio::test]
async fn the_remedy_preview_shows_the_policy_the_target_and_the_calls() {
    let peer = Peer::get();
    let bucket = peer.bucket("us-east-1").await;
    let user = peer.user(None).await;
    let session = Session::new(&peer, &user, Some(&bucket));

    let app = session.play("af", false).await;
    let screen = frame(&app, 100, 30);
    snapshot!("remedy-preview", screen);
    // On a tall terminal the whole policy shows.
    let t = text(&frame(&app, 100, 80));
    assert!(t.contains("\"s3:PutObject\""), "{t}");
    assert!(t.contains(&format!("\"arn:aws:s3:::{bucket}/*\"")), "{t}");
    assert!(t.contains(&format!("IAM user {}", user.name)), "{t}");
    assert!(t.contains("iam:CreatePolicy"), "{t}");

    // Esc cancels and changes nothing.
    let app = session.play("af\u{1b}", false).await;
    assert!(app.modal.is_none());
    assert!(peer.attached_to_user(&user.name).await.is_empty());
}

/// `?` opens the help over the wizard, and every row of the key table is on it at 100x30 (the
/// overlay cuts what does not fit). Built from `App` state: the snapshot needs no filters.
#[test]
fn help_lists_every_key() {
    let mut app = resolved_app("help-screen-bucket");
    app.update(key('?'));
    let screen = frame(&app, 100, 30);
    let t = text(&screen);
    for (label, what) in keys::help(keys::QuitTo::Exit) {
        // The text wraps in the overlay: its start is on the key's line.
        let start: String = what.chars().take(40).collect();
        let line = format!("  {label:<12}{}", start.trim_end());
        assert!(t.contains(&line), "{line:?} is not on the help:\n{t}");
    }
    unfiltered_snapshot!("help", screen);
    app.update(key('?'));
    assert!(app.modal.is_none(), "? closes the help again");
}

#[tokio::test]
async fn enter_runs_one_step_at_a_time() {
    let peer = Peer::get();
    let bucket = peer.bucket("us-east-1").await;
    let user = peer.user(None).await;
    let session = Session::new(&peer, &user, Some(&bucket));
    let app = session.play("\n\n", false).await;
    let report = app.report();
    let ran: Vec<StepId> = report.diagnosis().steps().iter().map(|s| s.id).collect();
    // The global steps ran at start; Enter ran bucket-exists, then bucket-region.
    assert!(
        ran.contains(&StepId::BucketExists) && ran.contains(&StepId::BucketRegion),
        "{ran:?}"
    );
    assert!(!ran.contains(&StepId::PutObject), "{ran:?}");
}

#[tokio::test]
async fn e_exports_the_report_as_markdown_and_says_where() {
    let peer = Peer::get();
    let bucket = peer.bucket("us-east-1").await;
    let user = peer.user(None).await;
    let session = Session::new(&peer, &user, Some(&bucket));

    let app = session.play("ae", false).await;

    let message = app.message.clone().unwrap_or_default();
    assert!(
        message.contains(&session.export.display().to_string()),
        "{message}"
    );
    let md = std::fs::read_to_string(&session.export).expect("exported");
    assert!(md.starts_with("# S3 access check"), "{md}");
    assert!(md.contains("permission.missing"), "{md}");
    assert!(md.contains(&format!("arn:aws:s3:::{bucket}/*")), "{md}");
    assert!(!md.contains(&user.secret));
    // The footer says it too.
    let t = text(&frame(&app, 100, 30));
    assert!(t.contains("report written to"), "{t}");
}
