//! `s3doctor demo` (hidden; `scripts/demo.sh` runs it against the local emulator): the
//! incident gallery. Pick an incident, it is seeded fresh, the wizard opens on it; back from
//! the wizard a fresh check tells whether it is fixed (manual fixes are made on `y`), then
//! "what you learned". The scorecard lives in memory and is printed at the end; files go only
//! to the demo's private --workdir. `--seed` / `--apply-fix` do the same headless, for tests.

use std::ops::ControlFlow;
use std::path::{Path, PathBuf};
use std::process::ExitCode;
use std::time::Instant;

use clap::Parser;
use color_eyre::eyre::{Result, WrapErr};
use crossterm::event::{Event, EventStream, KeyEventKind};
use futures::{FutureExt, StreamExt};
use ratatui::Terminal;
use ratatui::backend::Backend;
use tokio::sync::mpsc;

use crate::cli::{BadInput, Cli, Config, DemoOptions};
use crate::engine::Engine;
use crate::exit::{self, bad_input};
use crate::gallery::seed::{Seeded, Seeder};
use crate::gallery::{self, Incident};
use crate::report::Report;
use crate::tui::chooser::{self, Chooser, Pick, Screen};
use crate::tui::{self, app::App, theme::Theme};

pub async fn run(config: Config, opts: DemoOptions) -> Result<ExitCode> {
    if opts.list {
        exit::to_stdout(gallery::list().as_bytes())?;
        return Ok(ExitCode::from(exit::OK));
    }
    let (demo, incident) = match Demo::new(&config, &opts).await {
        Ok(started) => started,
        Err(e) => return Ok(bad_input(&e)),
    };
    if opts.seed || opts.apply_fix {
        return match headless_incident(&opts, incident) {
            Ok(incident) => demo.headless(incident, opts.seed, opts.apply_fix).await,
            Err(e) => Ok(bad_input(&e)),
        };
    }
    demo.interactive(incident).await
}

/// The incident `--incident` names, if any; an unknown name is bad input that lists the
/// known ones.
fn incident_named(name: Option<&str>) -> Result<Option<&'static Incident>, BadInput> {
    let Some(name) = name else {
        return Ok(None);
    };
    match gallery::find(name) {
        Some(i) => Ok(Some(i)),
        None => {
            let names: Vec<&str> = gallery::embedded()
                .iter()
                .map(|i| i.name.as_str())
                .collect();
            Err(BadInput(format!(
                "no incident {name:?} in the gallery (known: {})",
                names.join(", ")
            )))
        }
    }
}

/// `--seed` and `--apply-fix` need an incident, and `--apply-fix` one that a person fixes.
fn headless_incident(
    opts: &DemoOptions,
    incident: Option<&'static Incident>,
) -> Result<&'static Incident, BadInput> {
    let Some(incident) = incident else {
        return Err(BadInput("--seed and --apply-fix need --incident".into()));
    };
    if opts.apply_fix && incident.fix != gallery::FixKind::Manual {
        return Err(BadInput(format!(
            "{} is fixed by s3doctor's own fix: run `s3doctor fix` on it",
            incident.name
        )));
    }
    Ok(incident)
}

/// The emulator's side: the admin profile (region us-east-1 unless set) and its seeder.
async fn moto_side(config: &Config, dir: &Path) -> Result<Side, BadInput> {
    let Some(mut admin) = config.admin.clone() else {
        return Err(BadInput(
            "demo needs --admin-profile (the emulator's admin; scripts/demo.sh sets it up)".into(),
        ));
    };
    if admin.region.is_none() {
        admin.region = Some("us-east-1".into());
    }
    let session = match crate::credentials::connect(&admin).await {
        Ok(s) => s,
        Err(e) => {
            return Err(BadInput(format!(
                "the admin profile has no usable credentials: {}",
                e.detail
            )));
        }
    };
    let seeder = Seeder::new(session, dir).await.map_err(BadInput)?;
    Ok(Side {
        seeder,
        endpoint: config.settings.endpoint.clone(),
        admin_profile: admin.profile.clone().unwrap_or_default(),
    })
}

/// Ceph RGW's side, when its three options are given (all or none).
async fn rgw_side(
    config: &Config,
    opts: &DemoOptions,
    dir: &Path,
) -> Result<Option<Side>, BadInput> {
    let (url, owner, app) = match (
        &opts.rgw_endpoint,
        &opts.rgw_owner_profile,
        &opts.rgw_app_profile,
    ) {
        (Some(url), Some(owner), Some(app)) => (url, owner, app),
        (None, None, None) => return Ok(None),
        _ => {
            return Err(BadInput(
                "--rgw-endpoint, --rgw-owner-profile and --rgw-app-profile go together".into(),
            ));
        }
    };
    let mut settings = config.settings.with_profile(owner);
    settings.endpoint = Some(url.clone());
    settings.env_file = None;
    if settings.region.is_none() {
        settings.region = Some("us-east-1".into());
    }
    match crate::credentials::connect(&settings).await {
        Ok(session) => Ok(Some(Side {
            seeder: Seeder::without_iam(session, dir, app.clone()).map_err(BadInput)?,
            endpoint: Some(url.clone()),
            admin_profile: owner.clone(),
        })),
        Err(e) => Err(BadInput(format!(
            "the RGW owner profile {owner} has no usable credentials: {}",
            e.detail
        ))),
    }
}

/// One server the incidents run on: how to seed there and how to point s3doctor at it.
struct Side {
    seeder: Seeder,
    endpoint: Option<String>,
    admin_profile: String,
}

struct Demo {
    moto: Side,
    rgw: Option<Side>,
    dir: PathBuf,
    suffix: String,
}

/// Said when an RGW incident is picked and the demo runs without Ceph RGW.
const NO_RGW: &str = "this incident runs on Ceph RGW: start the demo with `scripts/demo.sh --rgw` (it needs the Ceph packages: `scripts/rgw.sh install`)";

/// What headless seeding prints: never a secret.
#[derive(serde::Serialize)]
struct SeedInfo<'a> {
    incident: &'a str,
    env_file: &'a Path,
    bucket: &'a str,
    access: &'a str,
    names: &'a std::collections::BTreeMap<String, String>,
    /// The app's own objects the ticket names: the checks read them with `--key`.
    keys: &'a [String],
    /// The role the app runs as: the checks assume it (`--role-arn`).
    role_arn: Option<&'a str>,
    /// The app's network (`--source-ip`, `--vpce`): the conditions are judged for it.
    source_ip: Option<&'a str>,
    vpce: Option<&'a str>,
}

impl Demo {
    /// Checks the options in the order the person reads them (incident, work dir, admin,
    /// RGW) and connects to the servers.
    async fn new(
        config: &Config,
        opts: &DemoOptions,
    ) -> Result<(Demo, Option<&'static Incident>), BadInput> {
        let incident = incident_named(opts.incident.as_deref())?;
        let Some(dir) = opts.workdir.clone() else {
            return Err(BadInput(
                "demo needs --workdir DIR (a private temp dir; scripts/demo.sh makes one)".into(),
            ));
        };
        let moto = moto_side(config, &dir).await?;
        let rgw = rgw_side(config, opts, &dir).await?;
        let demo = Demo {
            moto,
            rgw,
            dir,
            suffix: opts.suffix.clone(),
        };
        Ok((demo, incident))
    }

    fn side(&self, incident: &Incident) -> Result<&Side, String> {
        match incident.peer {
            gallery::PeerKind::Moto => Ok(&self.moto),
            gallery::PeerKind::Rgw => self.rgw.as_ref().ok_or_else(|| NO_RGW.to_owned()),
        }
    }

    async fn headless(&self, incident: &Incident, seed: bool, fix: bool) -> Result<ExitCode> {
        let side = match self.side(incident) {
            Ok(side) => side,
            Err(e) => return Ok(bad_input(&BadInput(e))),
        };
        let mut seeded = if seed {
            match side.seeder.seed(incident, &self.suffix).await {
                Ok(s) => s,
                Err(e) => {
                    crate::say!("s3doctor demo: seeding {} failed: {e}", incident.name);
                    return Ok(ExitCode::from(exit::INTERNAL));
                }
            }
        } else {
            match Seeded::load(&self.dir, &incident.name) {
                Ok(s) => s,
                Err(e) => return Ok(bad_input(&BadInput(e))),
            }
        };
        if fix && let Err(e) = side.seeder.fix(incident, &mut seeded).await {
            crate::say!("s3doctor demo: the fix of {} failed: {e}", incident.name);
            return Ok(ExitCode::from(exit::INTERNAL));
        }
        let info = SeedInfo {
            incident: &incident.name,
            env_file: &seeded.env_file,
            bucket: &seeded.bucket,
            access: seeded.access.as_str(),
            names: &seeded.names,
            keys: &incident.app.keys,
            role_arn: seeded.role_arn.as_deref(),
            source_ip: incident.app.source_ip.as_deref(),
            vpce: incident.app.vpce.as_deref(),
        };
        exit::to_stdout(format!("{}\n", serde_json::to_string(&info)?).as_bytes())?;
        Ok(ExitCode::from(exit::OK))
    }

    /// The configuration the wizard and the checks use for a seeded incident: the app's
    /// .env, the emulator, the admin profile, the app's access, the objects its ticket names.
    fn config(&self, incident: &Incident, seeded: &Seeded) -> Result<Config, BadInput> {
        let side = self.side(incident).map_err(BadInput)?;
        let mut args: Vec<String> = vec![
            "s3doctor".into(),
            "--env-file".into(),
            seeded.env_file.display().to_string(),
            "--admin-profile".into(),
            side.admin_profile.clone(),
            "--access".into(),
            seeded.access.as_str().into(),
        ];
        if let Some(url) = &side.endpoint {
            args.push("--endpoint-url".into());
            args.push(url.clone());
        }
        // The role the app runs as, assumed with the .env's keys.
        if let Some(role) = &seeded.role_arn {
            args.push("--role-arn".into());
            args.push(role.clone());
        }
        // The object the ticket names, as the person who read it would pass it.
        for key in &incident.app.keys {
            args.push("--key".into());
            args.push(key.clone());
        }
        // Where the app's requests come from, as the ticket says.
        let network = [
            ("--source-ip", &incident.app.source_ip),
            ("--vpce", &incident.app.vpce),
        ];
        for (flag, value) in network {
            if let Some(v) = value {
                args.push(flag.into());
                args.push(v.clone());
            }
        }
        let cli = Cli::try_parse_from(args).map_err(|e| BadInput(e.to_string()))?;
        cli.common.config()
    }

    async fn interactive(&self, first: Option<&'static Incident>) -> Result<ExitCode> {
        use std::io::IsTerminal;
        if !std::io::stdin().is_terminal() || !std::io::stdout().is_terminal() {
            return Ok(bad_input(&BadInput(
                "the demo needs a terminal; `scripts/demo.sh --list` prints the incidents".into(),
            )));
        }
        let mut term = tui::terminal::init().wrap_err("cannot set up the terminal")?;
        let mut events = EventStream::new();
        let mut chooser = Chooser::new(gallery::embedded(), Theme::from_env());
        // An incident named on the command line is picked at once.
        let first = first.and_then(|i| {
            chooser
                .incidents
                .iter()
                .position(|x| x.name == i.name)
                .map(Pick::Start)
        });
        let result = self
            .session_loop(&mut term, &mut events, &mut chooser, first)
            .await;
        tui::terminal::restore();
        result?;
        crate::say!("s3doctor demo: scorecard {}", chooser.scorecard());
        Ok(ExitCode::from(exit::OK))
    }

    /// The gallery until the person quits (or a signal ends it): a pick seeds the incident
    /// and opens the wizard; back from it, a fresh check tells whether it is fixed.
    async fn session_loop<B>(
        &self,
        term: &mut Terminal<B>,
        events: &mut EventStream,
        chooser: &mut Chooser,
        first: Option<Pick>,
    ) -> Result<()>
    where
        B: Backend,
        B::Error: Send + Sync + 'static,
    {
        // SIGTERM or SIGHUP (the terminal closed) ends the whole demo, wherever it is. The
        // wizard installs handlers for both, after which the default action (exit) is gone:
        // without this the gallery would live on, reading a dead terminal.
        let mut signals = tui::terminal::Signals::new();
        let mut current: Option<(Seeded, Instant)> = None;
        let mut pending = first;
        loop {
            term.draw(|f| chooser::draw(chooser, f))?;
            let pick = match pending.take() {
                Some(p) => p,
                None => match next_pick(events, chooser, &mut signals).await? {
                    Some(p) => p,
                    None => continue,
                },
            };
            match pick {
                Pick::Quit => return Ok(()),
                Pick::Start(idx) => {
                    if let Some(seeded) = self.start(term, chooser, idx).await? {
                        current = Some((seeded, Instant::now()));
                        pending = Some(Pick::Wizard);
                    }
                }
                Pick::Wizard => {
                    let Some((seeded, started)) = &current else {
                        chooser.screen = Screen::Choose;
                        continue;
                    };
                    let flow =
                        self.wizard_on(term, events, chooser, &mut signals, seeded, *started);
                    if flow.await?.is_break() {
                        return Ok(());
                    }
                }
                Pick::ApplyFix => {
                    let Some((seeded, started)) = &mut current else {
                        chooser.screen = Screen::Choose;
                        continue;
                    };
                    let started = *started;
                    self.apply_fix(term, chooser, seeded, started).await?;
                }
            }
        }
    }

    /// The wizard on the incident as it is, then a fresh check. Breaks when a signal ended
    /// the wizard: then the demo ends too, without a fresh check first.
    async fn wizard_on<B>(
        &self,
        term: &mut Terminal<B>,
        events: &mut EventStream,
        chooser: &mut Chooser,
        signals: &mut tui::terminal::Signals,
        seeded: &Seeded,
        started: Instant,
    ) -> Result<ControlFlow<()>>
    where
        B: Backend,
        B::Error: Send + Sync + 'static,
    {
        let idx = chooser.selected;
        let config = self
            .config(&chooser.incidents[idx], seeded)
            .map_err(|e| color_eyre::eyre::eyre!(e))?;
        let app = wizard(term, &mut *events, config).await?;
        if signals.next().now_or_never().is_some() {
            return Ok(ControlFlow::Break(()));
        }
        let teaches = chooser.incidents[idx].teaches;
        if app.seen.contains(&teaches) {
            chooser.scores[idx].found = true;
        }
        self.settle(term, chooser, seeded, started).await?;
        Ok(ControlFlow::Continue(()))
    }

    /// Seeds the picked incident fresh; `None` (back on the list, saying why) when it could
    /// not be seeded.
    async fn start<B>(
        &self,
        term: &mut Terminal<B>,
        chooser: &mut Chooser,
        idx: usize,
    ) -> Result<Option<Seeded>>
    where
        B: Backend,
        B::Error: Send + Sync + 'static,
    {
        chooser.selected = idx;
        chooser.message = None;
        let incident = &chooser.incidents[idx];
        chooser.screen = Screen::Busy(format!("Seeding {} fresh in the emulator…", incident.name));
        term.draw(|f| chooser::draw(chooser, f))?;
        let seeded = match self.side(incident) {
            Ok(side) => side.seeder.seed(incident, &self.suffix).await,
            Err(e) => Err(e),
        };
        let seeded = match seeded {
            Ok(s) => s,
            Err(e) => {
                // Nothing was picked after all: back to the list, saying why.
                chooser.screen = Screen::Choose;
                chooser.message = Some(format!("Not seeded: {e}"));
                return Ok(None);
            }
        };
        chooser.names = seeded.names.clone();
        chooser.scores[idx].tried = true;
        Ok(Some(seeded))
    }

    /// Makes the person's fix of a manual incident, then checks again.
    async fn apply_fix<B>(
        &self,
        term: &mut Terminal<B>,
        chooser: &mut Chooser,
        seeded: &mut Seeded,
        started: Instant,
    ) -> Result<()>
    where
        B: Backend,
        B::Error: Send + Sync + 'static,
    {
        let incident = &chooser.incidents[chooser.selected];
        chooser.screen = Screen::Busy("Making the fix…".into());
        term.draw(|f| chooser::draw(chooser, f))?;
        let fixed = match self.side(incident) {
            Ok(side) => side.seeder.fix(incident, seeded).await,
            Err(e) => Err(e),
        };
        if let Err(e) = fixed {
            chooser.screen = Screen::Outcome {
                note: Some(format!("The fix failed: {e}")),
            };
            return Ok(());
        }
        self.settle(term, chooser, seeded, started).await
    }

    /// A fresh check of the incident as it is now: fixed (→ what you learned) or not.
    async fn settle<B>(
        &self,
        term: &mut Terminal<B>,
        chooser: &mut Chooser,
        seeded: &Seeded,
        started: Instant,
    ) -> Result<()>
    where
        B: Backend,
        B::Error: Send + Sync + 'static,
    {
        let idx = chooser.selected;
        chooser.screen = Screen::Busy("Checking again with a fresh run…".into());
        term.draw(|f| chooser::draw(chooser, f))?;
        let config = self
            .config(&chooser.incidents[idx], seeded)
            .map_err(|e| color_eyre::eyre::eyre!(e))?;
        let report = check(config).await;
        let teaches = chooser.incidents[idx].teaches;
        let still = report
            .diagnosis()
            .findings()
            .iter()
            .any(|f| f.code == teaches);
        let score = &mut chooser.scores[idx];
        if !score.fixed {
            score.time = started.elapsed();
        }
        if !still && report.diagnosis().ok() {
            score.fixed = true;
            chooser.screen = Screen::Learned;
        } else {
            chooser.screen = Screen::Outcome { note: None };
        }
        Ok(())
    }
}

/// The next key's pick on the chooser's screens: `None` for a key that picks nothing;
/// `Quit` when the input ends or a signal arrives.
async fn next_pick(
    events: &mut EventStream,
    chooser: &mut Chooser,
    signals: &mut tui::terminal::Signals,
) -> Result<Option<Pick>> {
    tokio::select! {
        ev = events.next() => match ev {
            Some(Ok(Event::Key(k))) if k.kind == KeyEventKind::Press => Ok(chooser.key(k)),
            Some(Ok(_)) => Ok(None),
            Some(Err(e)) => Err(e).wrap_err("reading the terminal failed"),
            None => Ok(Some(Pick::Quit)),
        },
        () = signals.next() => Ok(Some(Pick::Quit)),
    }
}

/// The wizard on the demo's terminal, until the person quits it.
async fn wizard<B>(term: &mut Terminal<B>, events: &mut EventStream, config: Config) -> Result<App>
where
    B: Backend,
    B::Error: Send + Sync + 'static,
{
    let extras = tui::FixSettings {
        admin: config.admin.clone(),
        policy_name: None,
    };
    let engine =
        Engine::new(config.settings.clone(), config.run.clone()).with_admin(config.admin.clone());
    let mut app = App::new(
        config.settings,
        config.run,
        engine.units(),
        Theme::from_env(),
    );
    // q leaves this wizard for the gallery, and its footer and help say so.
    app.quit_to = tui::keys::QuitTo::Gallery;
    term.clear()?;
    let opts = tui::LoopOptions {
        auto: false,
        settle: false,
    };
    let app = tui::run(term, events, engine, app, extras, opts).await?;
    term.clear()?;
    Ok(app)
}

/// Every step, headless, with the admin profile: the report of the incident as it is.
async fn check(config: Config) -> Report {
    let engine = Engine::new(config.settings, config.run).with_admin(config.admin);
    let (tx, rx) = mpsc::unbounded_channel();
    engine.run_all(&tx).await;
    drop(rx);
    Report::from_engine(&engine).await
}
