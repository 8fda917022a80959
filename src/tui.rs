//! The wizard: one loop that feeds keys, engine events, background results and a spinner
//! tick into `App::update`, starts the commands it returns as tasks, and redraws. Generic
//! over the ratatui backend and the input stream, so tests drive it on `TestBackend`.
#![deny(clippy::print_stdout, clippy::print_stderr)]

pub mod app;
pub mod chooser;
pub mod keys;
pub mod terminal;
pub mod theme;
pub mod verdict;
pub mod view;

use std::io::IsTerminal;
use std::path::PathBuf;
use std::time::Duration;

use color_eyre::eyre::{Result, WrapErr};
use crossterm::event::{Event, KeyEventKind};
use futures::{Stream, StreamExt};
use ratatui::Terminal;
use ratatui::backend::Backend;
use tokio::sync::mpsc::{UnboundedSender, unbounded_channel};
use tokio::task::JoinSet;

use crate::aws;
use crate::cli::{BadInput, Config};
use crate::engine::{Engine, EngineEvent};
use crate::remedy::{self, apply, plan};
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
pub struct Extras {
    pub admin: Option<aws::Settings>,
    pub policy_name: Option<String>,
}

/// `s3doctor` with no subcommand: the interactive wizard on the real terminal.
/// Returns the final report (the caller prints the summary once the terminal is restored),
/// or the bad-input reason when there is no terminal to run on.
pub async fn wizard(
    config: Config,
    auto: bool,
    output: Option<PathBuf>,
) -> Result<std::result::Result<Report, BadInput>> {
    if !std::io::stdin().is_terminal() || !std::io::stdout().is_terminal() {
        return Ok(Err(BadInput(
            "the wizard needs a terminal; use `s3doctor check` in scripts and CI".into(),
        )));
    }
    let extras = Extras {
        admin: config.admin.clone(),
        policy_name: None,
    };
    let engine =
        Engine::new(config.settings.clone(), config.run.clone()).with_admin(config.admin.clone());
    let mut app = App::new(
        config.settings,
        config.run,
        engine.units(),
        theme::Theme::from_env(),
    );
    app.output = output;
    terminal::install_panic_hook();
    let mut term = ratatui::try_init().wrap_err("cannot set up the terminal")?;
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
    ratatui::restore();
    Ok(Ok(result?.report()))
}

/// The loop. Returns the final state when the person quits (or, with `settle`, when the
/// scripted input is used up and all work is done).
pub async fn run<B, S>(
    term: &mut Terminal<B>,
    mut input: S,
    mut engine: Engine,
    mut app: App,
    extras: Extras,
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
                Some(Ok(_)) => continue,
                Some(Err(e)) => return Err(e).wrap_err("reading the terminal failed"),
                None => { input_done = true; continue; }
            },
            Some(ev) = erx.recv() => Msg::Engine(Box::new(ev)),
            Some(msg) = mrx.recv() => msg,
            Some(joined) = tasks.join_next(), if !tasks.is_empty() => match joined {
                Ok(()) => continue,
                // A panicked task must not leave a spinner spinning forever.
                Err(e) => Msg::Exported(Err(format!("internal error in a background task: {e}"))),
            },
            _ = signals.next() => break,
            _ = tick.tick(), if app.is_busy() => Msg::Tick,
        };
        let mut cmds = app.update(msg);
        while let Ok(ev) = erx.try_recv() {
            cmds.extend(app.update(Msg::Engine(Box::new(ev))));
        }
        while let Ok(msg) = mrx.try_recv() {
            cmds.extend(app.update(msg));
        }
        for cmd in cmds {
            execute(cmd, &mut engine, &extras, &etx, &mtx, &mut tasks);
        }
        term.draw(|f| view::draw(&app, f))?;
    }
    tasks.abort_all();
    Ok(app)
}

/// Starts a command in the background; results come back as messages.
fn execute(
    cmd: Cmd,
    engine: &mut Engine,
    extras: &Extras,
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
                let Some(session) = engine_c.session().await else {
                    return;
                };
                if let Ok(out) = session.clients.s3.list_buckets().send().await {
                    let names = out
                        .buckets()
                        .iter()
                        .filter_map(|b| b.name().map(str::to_owned))
                        .collect();
                    let _ = mtx.send(Msg::Buckets(names));
                }
            });
        }
        Cmd::SetBuckets(buckets) => {
            engine.set_buckets(buckets);
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
        Cmd::PlanRemedy => {
            let extras = extras.clone();
            tasks.spawn(async move {
                let plan = prepare_plan(&engine_c, &extras).await;
                let _ = mtx.send(Msg::Plan(Box::new(plan)));
            });
        }
        Cmd::Apply(confirmed) => {
            let extras = extras.clone();
            tasks.spawn(async move {
                let progress = |line: String| {
                    let _ = mtx.send(Msg::Remedy(RemedyEvent::Progress(line)));
                };
                let clients = match &extras.admin {
                    Some(admin) => aws::connect(admin).await.ok().map(|s| s.clients),
                    None => engine_c.session().await.map(|s| s.clients.clone()),
                };
                let Some(clients) = clients else {
                    let summary =
                        "no credentials to make the change with; nothing was changed".into();
                    let _ = mtx.send(Msg::Remedy(RemedyEvent::Finished { ok: false, summary }));
                    return;
                };
                let rows = confirmed.plan().verify.clone();
                // On a server without IAM managed policies the plan is bucket-policy statements.
                let applying = if confirmed.plan().bucket_policies.is_empty() {
                    apply::apply(*confirmed, &clients.iam, &progress).await
                } else {
                    apply::apply_bucket_policies(*confirmed, &clients.s3, &progress).await
                };
                let finished = match applying {
                    Err(why) => RemedyEvent::Finished {
                        ok: false,
                        summary: why,
                    },
                    Ok(applied) => {
                        for c in &applied.changes {
                            progress(format!("changed: {c}"));
                        }
                        let deadline = crate::commands::fix::VERIFY_DEADLINE;
                        let ok = apply::verify(&engine_c, &rows, deadline, &etx, &progress).await;
                        let summary = if ok {
                            "Fixed and verified: the failed steps pass now.".to_owned()
                        } else {
                            "Applied, but the failed steps still fail: see the checklist."
                                .to_owned()
                        };
                        RemedyEvent::Finished { ok, summary }
                    }
                };
                let _ = mtx.send(Msg::Remedy(finished));
            });
        }
    }
}

async fn prepare_plan(engine: &Engine, extras: &Extras) -> Result<remedy::Plan, String> {
    let results = engine.results().await;
    let session = engine.session().await;
    let info = engine.session_info().await;
    let admin =
        match &extras.admin {
            Some(settings) => Some(aws::connect(settings).await.map_err(|e| {
                format!("the admin profile has no usable credentials: {}", e.detail)
            })?),
            None => None,
        };
    let admin_name = extras.admin.as_ref().and_then(|a| a.profile.clone());
    plan::prepare(plan::Inputs {
        engine,
        results: &results,
        identity: info.identity.as_ref(),
        session: session.as_deref(),
        admin: admin_name.as_deref().zip(admin.as_ref()),
        policy_name: extras.policy_name.clone(),
    })
    .await
}

fn default_export_path() -> PathBuf {
    let secs = std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .map(|d| d.as_secs())
        .unwrap_or(0);
    PathBuf::from(format!("s3doctor-report-{secs}.md"))
}
