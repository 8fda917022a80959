//! The wizard: one loop that feeds keys, engine events, background results and a spinner
//! tick into `App::update`, starts the commands it returns as tasks, and redraws. Generic
//! over the ratatui backend and the input stream, so tests drive it on `TestBackend`.
#![deny(clippy::print_stdout, clippy::print_stderr)]

pub mod app;
pub mod chooser;
pub mod headline;
pub mod keys;
pub mod paste;
pub mod terminal;
pub mod theme;
pub mod view;

use std::io::IsTerminal;
use std::path::PathBuf;
use std::time::Duration;

use color_eyre::eyre::{Result, WrapErr};
use crossterm::event::{Event, KeyEventKind};
use futures::{Stream, StreamExt};
use ratatui::Terminal;
use ratatui::backend::Backend;
use tokio::sync::mpsc::{UnboundedReceiver, UnboundedSender, unbounded_channel};
use tokio::task::{JoinError, JoinSet};

use crate::aws;
use crate::checks::RunSettings;
use crate::diagnosis::Diagnosis;
use crate::engine::{Engine, EngineEvent};
use crate::exit::BadInput;
use crate::remedy::{self, ConfirmedPlan, Remedy, RemedyError, RemedyOptions};
use crate::report::Report;
use app::{App, Cmd, Msg, RemedyEvent};

/// How the loop takes input.
#[derive(Clone, Copy, Debug, Default)]
pub struct LoopOptions {
    /// Run every step at start (`--auto`).
    pub auto: bool,
    /// Take the next key only when nothing is in flight, and stop when input ends and all
    /// work is done: for scripted sessions in tests.
    pub settle: bool,
}

/// What the loop's commands need besides the engine.
#[derive(Clone, Default)]
pub struct FixSettings {
    pub admin: Option<aws::Settings>,
    pub policy_name: Option<String>,
}

impl FixSettings {
    /// The remedy's options for the wizard: its own verify deadline (the remedy's default),
    /// not the CLI's `--verify-timeout`.
    fn remedy_options(&self) -> RemedyOptions {
        RemedyOptions {
            admin: self.admin.clone(),
            policy_name: self.policy_name.clone(),
            verify_deadline: remedy::VERIFY_DEADLINE,
        }
    }
}

/// What the wizard runs on: plain settings, which the command floor builds from the command
/// line (the wizard knows nothing of clap).
#[derive(Clone, Debug)]
pub struct Setup {
    pub settings: aws::Settings,
    pub run: RunSettings,
    /// `--admin-profile`: reads policies and makes the fix.
    pub admin: Option<aws::Settings>,
}

/// `s3doctor` with no subcommand: the interactive wizard on the real terminal.
/// Returns the final report (the caller prints the summary once the terminal is restored),
/// or the bad-input reason when there is no terminal to run on.
pub async fn wizard(
    setup: Setup,
    auto: bool,
    output: Option<PathBuf>,
) -> Result<std::result::Result<Report, BadInput>> {
    let Setup {
        settings,
        run: run_settings,
        admin,
    } = setup;
    if !std::io::stdin().is_terminal() || !std::io::stdout().is_terminal() {
        return Ok(Err(BadInput(
            "the wizard needs a terminal; use `s3doctor check` in scripts and CI".into(),
        )));
    }
    let extras = FixSettings {
        admin: admin.clone(),
        policy_name: None,
    };
    let engine = Engine::new(settings.clone(), run_settings.clone()).with_admin(admin);
    let mut app = App::new(
        settings,
        run_settings,
        engine.units(),
        theme::Theme::from_env(),
    );
    app.output = output;
    let mut term = terminal::init().wrap_err("cannot set up the terminal")?;
    let opts = LoopOptions {
        auto,
        settle: false,
    };
    let result = run(
        &mut term,
        crossterm::event::EventStream::new(),
        engine,
        app,
        extras,
        opts,
    )
    .await;
    terminal::restore();
    Ok(Ok(result?.report()))
}

/// The loop. Returns the final state when the person quits (or, with `settle`, when the
/// scripted input is used up and all work is done).
pub async fn run<B, S>(
    term: &mut Terminal<B>,
    mut input: S,
    mut engine: Engine,
    mut app: App,
    extras: FixSettings,
    opts: LoopOptions,
) -> Result<App>
where
    B: Backend,
    B::Error: Send + Sync + 'static,
    S: Stream<Item = std::io::Result<Event>> + Unpin,
{
    let (etx, mut erx) = unbounded_channel::<EngineEvent>();
    let (mtx, mut mrx) = unbounded_channel::<Msg>();
    let mut tasks: JoinSet<()> = JoinSet::new();
    let mut signals = terminal::Signals::new();
    term.draw(|f| view::draw(&app, f))?;
    for cmd in app.start(opts.auto) {
        execute(cmd, &mut engine, &extras, &etx, &mtx, &mut tasks);
    }
    let mut tick = tokio::time::interval(Duration::from_millis(100));
    let mut input_done = false;
    loop {
        let settled =
            input_done && !app.is_busy() && tasks.is_empty() && mrx.is_empty() && erx.is_empty();
        if app.should_quit() || settled {
            break;
        }
        let waiting_for_work = opts.settle && app.is_busy();
        let take_input = !(input_done || waiting_for_work);
        let msg = tokio::select! {
            ev = input.next(), if take_input => match ev {
                Some(Ok(Event::Key(k))) if k.kind == KeyEventKind::Press => Msg::Key(k),
                Some(Ok(Event::Resize(..))) => Msg::Resize,
                Some(Ok(Event::Paste(text))) => Msg::Paste(text),
                Some(Ok(_)) => continue,
                Some(Err(e)) => return Err(e).wrap_err("reading the terminal failed"),
                None => { input_done = true; continue; }
            },
            Some(ev) = erx.recv() => Msg::Engine(Box::new(ev)),
            Some(msg) = mrx.recv() => msg,
            Some(joined) = tasks.join_next(), if !tasks.is_empty() => match task_failure(joined) {
                None => continue,
                Some(msg) => msg,
            },
            _ = signals.next() => break,
            _ = tick.tick(), if app.is_busy() => Msg::Tick,
        };
        for cmd in update_all(&mut app, msg, &mut erx, &mut mrx) {
            execute(cmd, &mut engine, &extras, &etx, &mtx, &mut tasks);
        }
        term.draw(|f| view::draw(&app, f))?;
    }
    tasks.abort_all();
    Ok(app)
}

/// A background task that panicked (or was cancelled) is a failure the wizard shows, never
/// silence: a spinner must not spin forever, nor the failure pass for something else.
fn task_failure(joined: Result<(), JoinError>) -> Option<Msg> {
    let e = joined.err()?;
    Some(Msg::TaskFailed(format!(
        "internal error in a background task: {e}"
    )))
}

/// Applies `msg`, then everything already waiting, so one redraw shows it all.
fn update_all(
    app: &mut App,
    msg: Msg,
    erx: &mut UnboundedReceiver<EngineEvent>,
    mrx: &mut UnboundedReceiver<Msg>,
) -> Vec<Cmd> {
    let mut cmds = app.update(msg);
    while let Ok(ev) = erx.try_recv() {
        cmds.extend(app.update(Msg::Engine(Box::new(ev))));
    }
    while let Ok(msg) = mrx.try_recv() {
        cmds.extend(app.update(msg));
    }
    cmds
}

/// Starts a command in the background; results come back as messages.
fn execute(
    cmd: Cmd,
    engine: &mut Engine,
    extras: &FixSettings,
    etx: &UnboundedSender<EngineEvent>,
    mtx: &UnboundedSender<Msg>,
    tasks: &mut JoinSet<()>,
) {
    let (engine_c, etx, mtx) = (engine.clone(), etx.clone(), mtx.clone());
    match cmd {
        Cmd::Run(units) => {
            tasks.spawn(async move { engine_c.run(&units, &etx).await });
        }
        Cmd::Rerun(unit) => {
            let units = engine.rerun_set(&unit);
            tasks.spawn(async move { engine_c.run(&units, &etx).await });
        }
        Cmd::ListBuckets => {
            tasks.spawn(async move {
                let _ = mtx.send(Msg::Buckets(engine_c.bucket_names().await));
            });
        }
        Cmd::SetBuckets(buckets) => {
            engine.set_buckets(buckets);
            let _ = mtx.send(Msg::Rows(engine.units()));
        }
        Cmd::SetKeys(keys) => {
            engine.set_keys(keys);
            let _ = mtx.send(Msg::Rows(engine.units()));
        }
        Cmd::SetRole(role) => {
            engine.set_role(*role);
            let _ = mtx.send(Msg::Rows(engine.units()));
        }
        Cmd::SetNetwork(network) => {
            engine.set_network(network);
            let _ = mtx.send(Msg::Rows(engine.units()));
        }
        Cmd::Export { markdown, path } => {
            tasks.spawn(async move {
                let path = path.unwrap_or_else(default_export_path);
                let result = tokio::fs::write(&path, markdown)
                    .await
                    .map(|()| path)
                    .map_err(|e| e.to_string());
                let _ = mtx.send(Msg::Exported(result));
            });
        }
        Cmd::PlanRemedy(diagnosis) => {
            let options = extras.remedy_options();
            let panics = debug_panic_task();
            tasks.spawn(async move {
                assert!(
                    !panics,
                    "debug panic in the plan task (S3DOCTOR_DEBUG_PANIC_TASK, debug builds only)"
                );
                let plan = plan_remedy(engine_c, options, &diagnosis).await;
                let _ = mtx.send(Msg::Plan(Box::new(plan.map_err(|e| e.to_string()))));
            });
        }
        Cmd::Apply(confirmed) => {
            let options = extras.remedy_options();
            tasks.spawn(async move {
                let finished = apply_remedy(engine_c, options, *confirmed, &etx, &mtx).await;
                let _ = mtx.send(Msg::Remedy(finished));
            });
        }
    }
}

/// Debug builds only: `S3DOCTOR_DEBUG_PANIC_TASK` makes the plan task panic, so that a test can
/// show a background task's panic is a failure on screen, not a lost terminal. Release builds:
/// never.
fn debug_panic_task() -> bool {
    cfg!(debug_assertions) && std::env::var_os("S3DOCTOR_DEBUG_PANIC_TASK").is_some()
}

/// The remedy's plan for what the wizard's diagnosis shows.
async fn plan_remedy(
    engine: Engine,
    options: RemedyOptions,
    diagnosis: &Diagnosis,
) -> Result<remedy::Plan, RemedyError> {
    Remedy::connect(engine, options)
        .await?
        .plan(diagnosis)
        .await
}

/// Applies the confirmed plan through the remedy, its events shown as the log, and says how
/// it ended.
async fn apply_remedy(
    engine: Engine,
    options: RemedyOptions,
    confirmed: ConfirmedPlan,
    etx: &UnboundedSender<EngineEvent>,
    mtx: &UnboundedSender<Msg>,
) -> RemedyEvent {
    let show = |ev: remedy::Event| {
        let line = match ev {
            remedy::Event::Progress(line) => line,
            remedy::Event::Changed(change) => format!("changed: {change}"),
        };
        let _ = mtx.send(Msg::Remedy(RemedyEvent::Progress(line)));
    };
    let outcome = match Remedy::connect(engine, options).await {
        Ok(remedy) => remedy.apply(confirmed, etx, &show).await,
        Err(_) => Err(RemedyError::NoCredentials),
    };
    match outcome {
        Err(RemedyError::NoCredentials) => RemedyEvent::Finished {
            ok: false,
            summary: "no credentials to make the change with; nothing was changed".into(),
        },
        Err(why) => RemedyEvent::Finished {
            ok: false,
            summary: why.to_string(),
        },
        Ok(outcome) if outcome.verified => RemedyEvent::Finished {
            ok: true,
            summary: "Fixed and verified: the failed steps pass now.".into(),
        },
        Ok(_) => RemedyEvent::Finished {
            ok: false,
            summary: "Applied, but the failed steps still fail: see the checklist.".into(),
        },
    }
}

fn default_export_path() -> PathBuf {
    let secs = std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .map(|d| d.as_secs())
        .unwrap_or(0);
    PathBuf::from(format!("s3doctor-report-{secs}.md"))
}

#[cfg(test)]
mod tests {
    use ratatui::backend::TestBackend;

    use super::*;
    use app::{Modal, Phase, RemedyScreen};

    /// The wizard waiting for a remedy plan, as after `f`.
    fn waiting_for_a_plan() -> App {
        let mut app = App::for_tests();
        app.modal = Some(Modal::Remedy(Box::new(RemedyScreen {
            plan: None,
            phase: Phase::Review,
            log: Vec::new(),
            scroll: 0,
        })));
        assert!(app.is_busy(), "the plan is being worked out");
        app
    }

    #[tokio::test]
    async fn a_panicking_background_task_shows_as_a_failure_not_an_export() {
        let mut tasks: JoinSet<()> = JoinSet::new();
        tasks.spawn(async { panic!("the plan could not be worked out") });
        let joined = tasks.join_next().await.expect("the task ended");
        let msg = task_failure(joined).expect("a panic is a message");
        assert!(matches!(msg, Msg::TaskFailed(_)), "{msg:?}");

        let mut app = waiting_for_a_plan();
        app.update(msg);
        let message = app.message.clone().expect("the status line says it");
        assert!(
            message.starts_with("internal error in a background task")
                && message.contains("panicked"),
            "{message}"
        );
        // The screen that waited ends as failed: no spinner forever.
        let Some(Modal::Remedy(screen)) = &app.modal else {
            panic!("the remedy screen stays open");
        };
        assert!(
            matches!(&screen.plan, Some(Err(why)) if why.contains("panicked")),
            "{:?}",
            screen.plan
        );
        assert!(!app.is_busy());
        let mut term = Terminal::new(TestBackend::new(100, 30)).expect("terminal");
        term.draw(|f| view::draw(&app, f)).expect("drawn");
        let screen: String = term
            .backend()
            .buffer()
            .content()
            .iter()
            .map(|c| c.symbol())
            .collect();
        assert!(
            screen.contains("internal error in a background task"),
            "{screen}"
        );
        assert!(!screen.contains("export failed"), "{screen}");
    }

    /// The wizard's own code (this module and `tui/`, tests aside) makes no AWS call and
    /// builds no client: what it shows comes from the engine and the remedy.
    #[test]
    fn the_wizard_reaches_aws_only_through_the_engine_or_the_remedy() {
        let root = std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("src");
        let mut files = vec![root.join("tui.rs")];
        for entry in std::fs::read_dir(root.join("tui")).expect("src/tui") {
            files.push(entry.expect("an entry").path());
        }
        let mut read = 0;
        for path in files
            .iter()
            .filter(|p| p.extension().is_some_and(|e| e == "rs"))
        {
            let text = std::fs::read_to_string(path).expect("a source file");
            let code = text.split("#[cfg(test)]").next().unwrap_or_default();
            for (i, line) in code.lines().enumerate() {
                if line.trim_start().starts_with("//") {
                    continue;
                }
                for call in [
                    ".send()",
                    "aws::connect",
                    "credentials::connect",
                    "clients.",
                    "aws_sdk_",
                ] {
                    assert!(
                        !line.contains(call),
                        "{}:{}: the wizard calls AWS itself ({call}): go through the engine or the remedy",
                        path.display(),
                        i + 1
                    );
                }
            }
            read += 1;
        }
        assert!(read >= 8, "only {read} files of the wizard were read");
    }

    #[tokio::test]
    async fn a_task_that_ends_normally_is_no_message() {
        let mut tasks: JoinSet<()> = JoinSet::new();
        tasks.spawn(async {});
        let joined = tasks.join_next().await.expect("the task ended");
        assert!(task_failure(joined).is_none());
    }

    #[tokio::test]
    async fn a_panic_while_applying_ends_the_remedy_as_failed() {
        let mut app = waiting_for_a_plan();
        if let Some(Modal::Remedy(screen)) = &mut app.modal {
            screen.plan = Some(Err("not needed here".into()));
            screen.phase = Phase::Applying;
        }
        assert!(app.is_busy());
        app.update(Msg::TaskFailed(
            "internal error in a background task: task 7 panicked".into(),
        ));
        let Some(Modal::Remedy(screen)) = &app.modal else {
            panic!("the remedy screen stays open");
        };
        assert_eq!(screen.phase, Phase::Done(false));
        assert!(
            screen.log.iter().any(|l| l.contains("panicked")),
            "{:?}",
            screen.log
        );
        assert!(!app.is_busy());
    }
}
