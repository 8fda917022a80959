//! Screen tests: the wizard's screens kept as `insta` snapshots, built from `App` state (the
//! engine's events fed to `App::update`, with fixed names, so no snapshot needs masks), and the
//! wizard's loop on ratatui's `TestBackend` driven by scripted keys against the emulator, whose
//! state is checked against the snapshots' (`shape`: rows, statuses, evidence, findings, the
//! plan) and whose screen is checked line by line where it shows the emulator's own names.

use std::time::Duration;

use clap::Parser;
use crossterm::event::{Event, KeyCode, KeyEvent, KeyModifiers};
use ratatui::Terminal;
use ratatui::backend::TestBackend;
use ratatui::buffer::Buffer;
use ratatui::style::Color;
use s3doctor::answers::{Facts, FindingSpec};
use s3doctor::aws;
use s3doctor::checks::{Identity, RunSettings, Status};
use s3doctor::cli::Cli;
use s3doctor::engine::{Engine, EngineEvent, Row, SessionInfo, StepResult};
use s3doctor::finding::{Evidence, FindingCode};
use s3doctor::remedy::plan::{Inputs, prepare};
use s3doctor::runbook::StepId;
use s3doctor::tui::app::{App, Cmd, Modal, Msg};
use s3doctor::tui::theme::Theme;
use s3doctor::tui::{self, FixSettings, LoopOptions, keys, view};

use crate::peer::{Keys, Peer, write_env_file};

/// A wizard session: its configuration (keys in an env file) and the keys it is fed.
struct Session {
    dir: tempfile::TempDir,
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
            dir,
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
        let extras = FixSettings {
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
            .expect("the wizard ran")
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

/// A snapshot of a screen built from `App` state: nothing in it changes from run to run.
macro_rules! snapshot {
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
        identity: Some(Identity::new(principal, None, true)),
        endpoint: None,
        described_endpoint: None,
    };
    let mut events = vec![EngineEvent::Session(session)];
    for (id, detail) in [
        (StepId::Credentials, "AKIA…MPLE from env file /srv/app/.env"),
        (StepId::Identity, "arn:aws:iam::123456789012:user/Runpod"),
    ] {
        events.push(EngineEvent::Started(Row::global(id)));
        events.push(EngineEvent::Finished(StepResult {
            id,
            bucket: None,
            key: None,
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

/// The names the screens built from `App` state show: the bucket, and the IAM user whose keys
/// `resolved_app` resolved (account 123456789012).
const BUCKET: &str = "clipizy-dev";
const USER: &str = "Runpod";
const USER_ARN: &str = "arn:aws:iam::123456789012:user/Runpod";

/// What AWS (and moto) answer to a bare refusal: 403 AccessDenied, "Access Denied".
fn refused(operation: &str) -> Evidence {
    Evidence {
        operation: operation.into(),
        http_status: Some(403),
        error_code: Some("AccessDenied".into()),
        message: Some("Access Denied".into()),
        request_id: Some("REQUEST-ID".into()),
        headers: Vec::new(),
        authorization_id: None,
        unreachable: None,
    }
}

/// A bucket step's result as the engine reports it.
fn result(step: StepId, status: Status, detail: &str, evidence: Option<Evidence>) -> StepResult {
    StepResult {
        id: step,
        bucket: Some(BUCKET.into()),
        key: None,
        status,
        elapsed_ms: 7,
        detail: detail.into(),
        evidence,
        findings: Vec::new(),
        blocking: false,
        ran: true,
    }
}

/// A step refused for want of a permission: its result and the `permission.missing` finding
/// the check builds from a bare refusal.
fn denied(step: StepId, action: &str, operation: &str) -> StepResult {
    let evidence = refused(operation);
    let finding = FindingSpec {
        code: FindingCode::PermissionMissing,
        step,
        facts: Facts {
            bucket: Some(BUCKET),
            action: Some(action),
            principal: Some(USER_ARN),
            ..Facts::default()
        },
        source: None,
        statement: None,
        evidence: Some(evidence.clone()),
    }
    .build();
    let detail = format!("access denied: {action} is not allowed");
    let mut result = result(step, Status::Fail, &detail, Some(evidence));
    result.findings.push(finding);
    result
}

/// Incident 1 after `a`, as the engine reports it on the emulator (the live test
/// `incident_1_on_the_emulator_is_the_run_the_snapshots_show` checks that it is): a new IAM
/// user with no policy; listing and uploading are refused, the region cannot be read, the
/// rest is skipped. Built from `App` state, with fixed names: its screens need no masks.
fn incident_1_app() -> App {
    let mut app = resolved_app(BUCKET);
    use StepId::*;
    let head = Evidence {
        error_code: None,
        message: None,
        ..refused("HeadBucket")
    };
    let results = [
        result(
            BucketExists,
            Status::Pass,
            "clipizy-dev exists (HeadBucket answered 403: whether it may be listed is checked next)",
            Some(head),
        ),
        result(
            BucketRegion,
            Status::Warn,
            "could not tell the bucket's region: no x-amz-bucket-region header and s3:GetBucketLocation is not allowed",
            Some(refused("GetBucketLocation")),
        ),
        denied(ListObjects, "s3:ListBucket", "ListObjectsV2"),
        denied(PutObject, "s3:PutObject", "PutObject"),
        result(
            GetObject,
            Status::Skip,
            "nothing to read: no probe was uploaded and no existing object was listed",
            None,
        ),
        result(
            DeleteObject,
            Status::Skip,
            "no probe to delete (the upload failed), and s3doctor never deletes anything else",
            None,
        ),
        result(
            MultipartUpload,
            Status::Skip,
            "not asked: the app does not upload in parts (--multipart)",
            None,
        ),
        result(
            BucketPolicy,
            Status::Skip,
            "cannot read the bucket policy with the diagnosed keys",
            None,
        ),
        result(
            IdentityPolicies,
            Status::Skip,
            "cannot read the IAM policies of Runpod with the diagnosed keys",
            None,
        ),
    ];
    assert_eq!(app.update(key('a')).len(), 1, "a runs the bucket steps");
    for r in results {
        let unit = Row::for_bucket(r.id, BUCKET);
        app.update(Msg::Engine(Box::new(EngineEvent::Started(unit))));
        app.update(Msg::Engine(Box::new(EngineEvent::Finished(r))));
    }
    app.update(Msg::Engine(Box::new(EngineEvent::Done)));
    app
}

/// What the snapshots built from `App` state stand for, without names: each row's step and
/// status, and for a step that ran into something, its detail, evidence and findings, with
/// the run's own names put back as the fixture's (`names`: (live, fixed) pairs). Global rows
/// and skipped steps count by their status only (their texts name temp files and request ids).
fn shape(app: &App, names: &[(&str, &str)]) -> Vec<String> {
    let rename = |text: String| {
        names
            .iter()
            .fold(text, |t, (live, fixed)| t.replace(live, fixed))
    };
    let mut rows = vec![format!(
        "selected {:?}",
        app.selected_unit().map(|u| u.step)
    )];
    for unit in &app.rows {
        let mut row = format!("{} {:?}", unit.step, app.row_state(unit));
        if let Some(r) = app.results.get(unit)
            && unit.bucket.is_some()
            && r.status != Status::Skip
        {
            let ev = r.evidence.as_ref().map(|e| {
                (
                    &e.operation,
                    e.http_status,
                    &e.error_code,
                    &e.message,
                    e.request_id.is_some(),
                )
            });
            row = format!("{row} {:?} {ev:?}", r.detail);
            for f in &r.findings {
                row = format!(
                    "{row} [{} {} {:?} {:?} {:?}]",
                    f.code, f.basis, f.title, f.summary, f.remedy
                );
            }
        }
        rows.push(rename(row));
    }
    rows
}

/// The opening screen: who the keys belong to, the bucket steps pending, the first one selected
/// and explained. Built from `App` state; `the_live_opening_is_the_one_the_snapshot_shows`
/// checks the emulator's opening against it.
#[test]
fn the_opening_checklist_before_any_step_runs() {
    let app = resolved_app(BUCKET);
    let screen = frame(&app, 100, 30);
    let t = text(&screen);
    let title = format!("╭ bucket-exists · {BUCKET} ");
    assert!(t.contains(&title), "{title:?}:\n{t}");
    assert!(t.contains("· The bucket exists  [pending]"), "{t}");
    snapshot!("opening", screen);
}

/// The wizard's opening on the emulator: the header names the keys' user, where the keys
/// come from and the endpoint; the rows are those of the opening snapshot.
#[tokio::test]
async fn the_live_opening_is_the_one_the_snapshot_shows() {
    let peer = Peer::get();
    let bucket = peer.bucket("us-east-1").await;
    let user = peer.user(None).await;
    let session = Session::new(&peer, &user, Some(&bucket));
    let app = session.play("", false).await;
    let t = text(&frame(&app, 100, 30));
    let names = [(bucket.as_str(), BUCKET), (user.name.as_str(), USER)];
    assert_eq!(
        shape(&app, &names),
        shape(&resolved_app(BUCKET), &[]),
        "{t}"
    );
    let who = format!(":user/{0}  (user {0}, account ", user.name);
    let env = session.dir.path().join("app.env");
    for line in [
        who,
        format!("bucket {bucket}  region us-east-1  access read-write"),
        format!(
            "keys AKIA…{} from env file {}",
            &user.id[user.id.len() - 4..],
            env.display()
        ),
        format!("endpoint {}", peer.url),
        " Start here: press a to run every check".to_owned(),
        format!("╭ bucket-exists · {bucket} "),
        "· The bucket exists  [pending]".to_owned(),
    ] {
        assert!(t.contains(&line), "{line:?}:\n{t}");
    }
}

/// Running steps show a spinner and "[running]"; the rest stay pending. Built from `App` state
/// (no emulator): fixed names, so the snapshot needs no filters.
#[test]
fn a_run_in_progress_shows_spinners_for_running_steps() {
    let bucket = "clipizy-dev";
    let mut app = resolved_app(bucket);
    assert!(!app.is_busy(), "nothing runs yet");
    for step in [StepId::BucketExists, StepId::BucketRegion] {
        let started = EngineEvent::Started(Row::for_bucket(step, bucket));
        app.update(Msg::Engine(Box::new(started)));
    }
    assert!(app.is_busy());
    let screen = frame(&app, 100, 30);
    let t = text(&screen);
    assert!(row(&t, "bucket-exists").contains('⠋'), "{t}");
    assert!(row(&t, "bucket-region").contains('⠋'), "{t}");
    assert!(row(&t, "list-objects").contains('·'), "{t}");
    assert!(t.contains("The bucket exists  [running]"), "{t}");
    snapshot!("in-progress", screen);
}

/// Incident 1 after `a`: the failures stand out (✗, and red in colour), the first failure is
/// selected with its evidence and finding; narrower terminals still show the failures.
/// Built from `App` state (see `incident_1_app`).
#[test]
fn incident_1_failed_stands_out_in_red_with_its_evidence() {
    let mut app = incident_1_app();
    app.theme = Theme { color: true };
    let screen = frame(&app, 100, 30);
    let (x, y) = find(&screen, "✗ put-object").unwrap_or_else(|| panic!("{}", text(&screen)));
    assert_eq!(screen[(x, y)].fg, Color::Red, "a failed step is red");
    let (x, y) = find(&screen, "✓ credentials").expect("credentials row");
    assert_eq!(screen[(x, y)].fg, Color::Green, "a passed step is green");

    let app = incident_1_app();
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

/// Incident 1 on the emulator, run with `a`: the same rows, statuses, details, evidence and
/// findings as `incident_1_app` (the snapshots' state), the emulator's names aside; the
/// verdict and the failure's colour as on the snapshot.
#[tokio::test]
async fn incident_1_on_the_emulator_is_the_run_the_snapshots_show() {
    let peer = Peer::get();
    let bucket = peer.bucket("us-east-1").await;
    let user = peer.user(None).await;
    let session = Session::new(&peer, &user, Some(&bucket));
    let app = session.play("a", true).await;
    let names = [(bucket.as_str(), BUCKET), (user.name.as_str(), USER)];
    assert_eq!(shape(&app, &names), shape(&incident_1_app(), &[]));
    let screen = frame(&app, 100, 30);
    let t = text(&screen);
    let verdict = format!(
        "2 problems: no policy allows {} to write to {bucket} — press f",
        user.name
    );
    assert!(t.contains(&verdict), "{verdict:?}:\n{t}");
    let (x, y) = find(&screen, "✗ put-object").unwrap_or_else(|| panic!("{t}"));
    assert_eq!(screen[(x, y)].fg, Color::Red, "a failed step is red");
}

/// The upload's failure, selected: the evidence line by line and the finding. Built from
/// `App` state (the live run is checked by `incident_1_on_the_emulator_is_the_run_the_snapshots_show`).
#[test]
fn the_selected_failure_explains_itself() {
    let mut app = incident_1_app();
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

/// What moto answers the diagnosed user's GetPolicy (no IAM rights), as the plan words it;
/// `the_remedy_on_the_emulator_is_the_one_the_preview_shows` checks the live words.
const BLOCKED: &str = "Runpod may not read or change IAM (GetPolicy -> 403 AccessDenied: User: \
    arn:aws:iam::123456789012:user/Runpod is not authorized to perform: iam:GetPolicy \
    (request id REQUEST-ID)). Run again with --admin-profile PROFILE (credentials allowed to \
    change IAM), or export the fix for whoever owns IAM (--export FILE; e in the wizard)";

/// Incident 1 with `f` pressed: the plan worked out from the wizard's diagnosis (no session,
/// so IAM is not read), blocked as the emulator blocks it (`BLOCKED`).
async fn remedy_preview_app() -> App {
    let mut app = incident_1_app();
    let cmds = app.update(key('f'));
    let [Cmd::PlanRemedy(diagnosis)] = &cmds[..] else {
        panic!("f plans the remedy: {cmds:?}");
    };
    let engine = Engine::new(aws::Settings::default(), app.run.clone());
    let results: Vec<StepResult> = app.results.values().cloned().collect();
    let mut plan = prepare(Inputs {
        engine: &engine,
        results: &results,
        diagnosis,
        identity: app.session.identity.as_ref(),
        session: None,
        admin: None,
        policy_name: None,
    })
    .await
    .expect("a plan");
    plan.blocked = Some(BLOCKED.into());
    app.update(Msg::Plan(Box::new(Ok(plan))));
    app
}

/// The remedy preview: what is attached to whom, why it cannot be applied, the calls and
/// the policy. Built from `App` state.
#[tokio::test]
async fn the_remedy_preview_shows_the_policy_the_target_and_the_calls() {
    let app = remedy_preview_app().await;
    let screen = frame(&app, 100, 30);
    snapshot!("remedy-preview", screen);
    // On a tall terminal the whole policy shows.
    let t = text(&frame(&app, 100, 80));
    assert!(t.contains("\"s3:PutObject\""), "{t}");
    assert!(t.contains(&format!("\"arn:aws:s3:::{BUCKET}/*\"")), "{t}");
    assert!(t.contains(&format!("IAM user {USER}")), "{t}");
    assert!(t.contains("iam:CreatePolicy"), "{t}");
}

/// `f` on the emulator's incident 1: the plan is the preview's (the same policy, target and
/// words for why it is blocked, the emulator's names and request id aside); Esc cancels and
/// changes nothing.
#[tokio::test]
async fn the_remedy_on_the_emulator_is_the_one_the_preview_shows() {
    let peer = Peer::get();
    let bucket = peer.bucket("us-east-1").await;
    let user = peer.user(None).await;
    let session = Session::new(&peer, &user, Some(&bucket));
    let app = session.play("af", false).await;
    let names = [(bucket.as_str(), BUCKET), (user.name.as_str(), USER)];
    let plan = |app: &App| match &app.modal {
        Some(Modal::Remedy(screen)) => match &screen.plan {
            Some(Ok(plan)) => {
                let text = format!(
                    "{} {:?} {} {} {:?} {:?}",
                    plan.policy_name,
                    plan.target,
                    plan.acting_as,
                    plan.json,
                    plan.calls,
                    plan.caveats
                );
                let blocked = plan.blocked.clone().unwrap_or_default();
                // The request id is the emulator's own.
                let (before, after) = blocked.split_once("(request id ").expect("a request id");
                let after = after.split_once(')').map_or("", |(_, rest)| rest);
                names
                    .iter()
                    .fold(format!("{text} {before} {after}"), |t, (live, fixed)| {
                        t.replace(live, fixed)
                    })
            }
            other => panic!("no plan: {other:?}"),
        },
        _ => panic!("the remedy is not open"),
    };
    assert_eq!(plan(&app), plan(&remedy_preview_app().await));
    let t = text(&frame(&app, 100, 30));
    assert!(t.contains("e export · n/Esc close · ↑↓ scroll ╝"), "{t}");

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
    snapshot!("help", screen);
    // On smaller screens too, down to 60x20: the help cannot scroll, so it must not cut a key
    // off (at 80x24 it cut `q / Ctrl-C  quit`).
    for (width, height) in [(80, 24), (60, 20)] {
        let t = text(&frame(&app, width, height));
        for (label, what) in keys::help(keys::QuitTo::Exit) {
            let first = what.split(' ').next().unwrap_or(what);
            let line = format!("  {label:<12}{first}");
            assert!(
                t.contains(&line),
                "{line:?} is not on the help at {width}x{height}:\n{t}"
            );
        }
    }
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

/// Keys the server refuses: once the identity step has failed, the header says who the keys
/// belong to is unknown, not "checking…" for ever.
#[tokio::test]
async fn refused_keys_leave_no_checking_in_the_header() {
    let peer = Peer::get();
    let bucket = peer.bucket("us-east-1").await;
    let unknown = Keys {
        name: "nobody".into(),
        id: "AKIAIOSFODNN7EXAMPLE".into(),
        secret: "wJalrXUtnFEMI/K7MDENG/bPxRfiCYEXAMPLEKEY".into(),
        token: None,
    };
    let session = Session::new(&peer, &unknown, Some(&bucket));

    let app = session.play("", false).await;

    let t = text(&frame(&app, 100, 30));
    assert!(t.contains("✗ identity"), "{t}");
    assert!(!t.contains("checking who the keys belong to"), "{t}");
    assert!(t.contains("who the keys belong to is unknown"), "{t}");
}
