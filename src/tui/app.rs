//! The wizard's state and its update function: messages in (keys, engine events, results of
//! background work), commands out. No I/O and no drawing here, so every key path is a unit test.

use std::collections::HashMap;
use std::path::PathBuf;
use std::sync::Arc;

use crossterm::event::{KeyCode, KeyEvent};

use super::keys::{self, Action, BucketKey, ObjectKey, RemedyKey, UrlKey};
use super::paste::{ErrorScreen, Outcome, PastedRole};
use super::theme::{RowState, Theme};
use crate::aws;
use crate::checks::{RunSettings, Status};
use crate::diagnosis::Diagnosis;
use crate::engine::{EngineEvent, Row, SessionInfo, StepResult};
use crate::finding::Finding;
use crate::remedy::{ConfirmedPlan, Plan};
use crate::report::{self, Report};

/// Everything that can change the wizard's state.
#[derive(Debug)]
pub enum Msg {
    Key(KeyEvent),
    Engine(Box<EngineEvent>),
    Tick,
    Resize,
    /// The checklist rows after the bucket was chosen.
    Rows(Vec<Row>),
    /// Bucket names from ListBuckets, for the bucket prompt (`None`: the listing was refused
    /// or got no answer).
    Buckets(Option<Vec<String>>),
    Exported(Result<PathBuf, String>),
    Plan(Box<Result<Plan, String>>),
    Remedy(RemedyEvent),
    /// A background task panicked: shown as a failure, never as an export.
    TaskFailed(String),
    /// Text pasted into the terminal at once (bracketed paste).
    Paste(String),
}

/// Progress of applying and verifying the remedy.
#[derive(Clone, Debug)]
pub enum RemedyEvent {
    Progress(String),
    Finished { ok: bool, summary: String },
}

/// Work for the loop to start; the loop never blocks on it.
#[derive(Debug)]
pub enum Cmd {
    Run(Vec<Row>),
    Rerun(Row),
    ListBuckets,
    SetBuckets(Vec<String>),
    /// The app's own objects (`--key`, and the ones named with `o`): their rows join.
    SetKeys(Vec<String>),
    /// Check as this role from now on (a pasted error names the app's role): assumed with the
    /// credentials that resolve, as `--role-arn` is.
    SetRole(Box<aws::RoleToAssume>),
    /// The app's network (`--source-ip`, `--vpc`, `--vpce`) a pasted error names.
    SetNetwork(crate::policy::AppNetwork),
    Export {
        markdown: String,
        path: Option<PathBuf>,
    },
    /// Plan the fix of what the wizard shows (its diagnosis, not one worked out again).
    PlanRemedy(Box<Diagnosis>),
    Apply(Box<ConfirmedPlan>),
}

/// Where the remedy screen is.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum Phase {
    Review,
    Applying,
    Done(bool),
}

/// The remedy screen: the plan (or why there is none), and what applying it did.
#[derive(Debug)]
pub struct RemedyScreen {
    /// `None` while the plan is being worked out.
    pub plan: Option<Result<Plan, String>>,
    pub phase: Phase,
    pub log: Vec<String>,
    pub scroll: u16,
}

impl RemedyScreen {
    /// Which of its keys (`keys::REMEDY`) the remedy screen handles, and so names: apply or
    /// cancel a plan under review that can be applied; close it otherwise (not while applying);
    /// export any plan; scroll always.
    pub fn allows(&self, key: RemedyKey) -> bool {
        let plan = match &self.plan {
            Some(Ok(plan)) => Some(plan),
            _ => None,
        };
        let applicable = self.phase == Phase::Review && plan.is_some_and(Plan::is_applicable);
        match key {
            RemedyKey::Apply | RemedyKey::Cancel => applicable,
            RemedyKey::Close => !applicable && self.phase != Phase::Applying,
            RemedyKey::Export => plan.is_some(),
            RemedyKey::Up | RemedyKey::Down | RemedyKey::PageUp | RemedyKey::PageDown => true,
        }
    }
}

/// The bucket prompt, when no `--bucket` was given.
#[derive(Debug, Default)]
pub struct AskBucket {
    pub input: String,
    /// What was typed (Tab and the arrows put a suggestion into `input`, not here).
    pub typed: String,
    pub suggestions: Vec<String>,
    /// `None` until ListBuckets answered; then whether it listed (`false`: refused).
    pub listed: Option<bool>,
    /// Index into `matches()`.
    pub selected: Option<usize>,
    pub error: Option<String>,
}

impl AskBucket {
    /// The suggestions that contain what was typed: with hundreds of buckets, typing a
    /// few letters narrows the list.
    pub fn matches(&self) -> Vec<&String> {
        let typed = self.typed.trim().to_lowercase();
        self.suggestions
            .iter()
            .filter(|s| s.contains(&typed))
            .collect()
    }

    /// Which of its keys (`keys::BUCKET`) the prompt handles, and so names: Enter and Esc
    /// always, picking a suggestion when one matches.
    pub fn allows(&self, key: BucketKey) -> bool {
        match key {
            BucketKey::Confirm | BucketKey::Quit => true,
            BucketKey::Next | BucketKey::Previous => !self.matches().is_empty(),
        }
    }
}

/// The presigned-URL screen (`u`): a pasted URL, then what it says, read locally like
/// `s3doctor url --offline` (nothing is sent).
#[derive(Debug, Default)]
pub struct UrlScreen {
    pub input: String,
    /// After Enter: the report's lines, or why the text is not a presigned URL.
    pub result: Option<Result<Vec<String>, String>>,
    pub scroll: u16,
}

impl UrlScreen {
    /// Which of its keys (`keys::URL`) the URL screen handles, and so names: Enter reads a URL
    /// not read yet; a result scrolls and typing starts another; Esc always closes.
    pub fn allows(&self, key: UrlKey) -> bool {
        match key {
            UrlKey::Read => self.result.is_none(),
            UrlKey::Up | UrlKey::Down | UrlKey::PageUp | UrlKey::PageDown | UrlKey::Retype => {
                self.result.is_some()
            }
            UrlKey::Close => true,
        }
    }
}

/// The object prompt (`o`): the key of the app's object that fails, to read it.
#[derive(Debug, Default)]
pub struct AskObject {
    pub input: String,
    pub error: Option<String>,
}

#[derive(Debug)]
pub enum Modal {
    Help,
    AskBucket(AskBucket),
    AskObject(AskObject),
    Remedy(Box<RemedyScreen>),
    Url(UrlScreen),
    /// The pasted-error screen (`p`).
    Error(Box<ErrorScreen>),
}

/// What the wizard says when `f` is pressed while steps run.
const FIX_WAITS: &str = "the fix opens when the run has finished (Esc: don't open it)";

/// The whole state of the wizard.
pub struct App {
    pub rows: Vec<Row>,
    pub selected: usize,
    pub states: HashMap<Row, RowState>,
    pub results: HashMap<Row, StepResult>,
    pub session: SessionInfo,
    pub settings: Arc<aws::Settings>,
    pub run: RunSettings,
    pub modal: Option<Modal>,
    pub tick: usize,
    pub message: Option<String>,
    pub detail_scroll: u16,
    pub runs_in_flight: usize,
    pub theme: Theme,
    pub output: Option<PathBuf>,
    /// Every finding code shown during the session, also after a fix made it go away (the
    /// demo's scorecard counts what was found).
    pub seen: std::collections::BTreeSet<crate::finding::FindingCode>,
    /// Where `q` leads (the demo's wizard returns to the gallery); the help and footer say so.
    pub quit_to: keys::QuitTo,
    /// What the results so far show, worked out once per engine event; the view renders it.
    pub diagnosis: Diagnosis,
    /// After `a` (or `--auto`) finishes, jump to the first failure so it is on screen.
    show_first_failure: bool,
    /// `f` was pressed while steps ran: the remedy opens once the run has finished.
    fix_when_done: bool,
    /// An object was named with `o`: its rows run as soon as they join the checklist.
    run_new_objects: bool,
    /// Enter on a pasted error's reading: the whole checklist runs once its rows are set (the
    /// number of row updates still to come: the bucket's, then the object's).
    run_after_rows: usize,
    /// Debug builds only: a key that makes the wizard panic (`S3DOCTOR_DEBUG_PANIC_KEY`), so
    /// that a test can show the terminal is restored after a panic. Release builds have none.
    #[cfg(debug_assertions)]
    debug_panic_key: Option<char>,
    quit: bool,
}

impl App {
    pub fn new(settings: aws::Settings, run: RunSettings, rows: Vec<Row>, theme: Theme) -> Self {
        let modal = run
            .buckets
            .is_empty()
            .then(|| Modal::AskBucket(AskBucket::default()));
        let diagnosis = Diagnosis::new(Vec::new(), rows.len(), &run, None);
        App {
            rows,
            selected: 0,
            states: HashMap::new(),
            results: HashMap::new(),
            session: SessionInfo::default(),
            settings: Arc::new(settings),
            run,
            modal,
            tick: 0,
            message: None,
            detail_scroll: 0,
            runs_in_flight: 0,
            theme,
            output: None,
            seen: Default::default(),
            quit_to: keys::QuitTo::Exit,
            diagnosis,
            show_first_failure: false,
            fix_when_done: false,
            run_new_objects: false,
            run_after_rows: 0,
            #[cfg(debug_assertions)]
            debug_panic_key: std::env::var("S3DOCTOR_DEBUG_PANIC_KEY")
                .ok()
                .and_then(|k| k.chars().next()),
            quit: false,
        }
    }

    /// What to do as the wizard opens: resolve the keys and who they belong to (for the
    /// header), then select the first bucket step; with `--auto`, run everything.
    pub fn start(&mut self, auto: bool) -> Vec<Cmd> {
        self.selected = self
            .rows
            .iter()
            .position(|u| u.bucket.is_some())
            .unwrap_or(0);
        let global: Vec<Row> = self
            .rows
            .iter()
            .filter(|u| u.bucket.is_none())
            .cloned()
            .collect();
        let targets = if auto && !self.run.buckets.is_empty() {
            self.show_first_failure = true;
            self.rows.clone()
        } else {
            global
        };
        self.run_cmd(targets)
    }

    pub fn should_quit(&self) -> bool {
        self.quit
    }

    /// True while anything is in flight (spinners need ticks).
    pub fn is_busy(&self) -> bool {
        self.steps_running()
            || matches!(&self.modal, Some(Modal::Remedy(r)) if r.plan.is_none() || r.phase == Phase::Applying)
    }

    pub fn row_state(&self, unit: &Row) -> RowState {
        self.states.get(unit).copied().unwrap_or(RowState::Pending)
    }

    pub fn selected_unit(&self) -> Option<&Row> {
        self.rows.get(self.selected)
    }

    /// The findings that stand, of every finished row (from the diagnosis).
    pub fn findings(&self) -> &[Finding] {
        self.diagnosis.findings()
    }

    /// Works the diagnosis out again from the rows' results: once per engine event (and when
    /// the rows change), never while drawing.
    fn diagnose(&mut self) {
        let results = self
            .rows
            .iter()
            .filter_map(|u| self.results.get(u).cloned())
            .collect();
        self.diagnosis = Diagnosis::new(results, self.rows.len(), &self.run, Some(&self.session));
    }

    /// The report of what has run so far.
    pub fn report(&self) -> Report {
        Report::build(
            &self.settings,
            &self.run,
            &self.session,
            self.diagnosis.clone(),
        )
    }

    fn run_cmd(&mut self, units: Vec<Row>) -> Vec<Cmd> {
        if units.is_empty() {
            return Vec::new();
        }
        self.runs_in_flight += 1;
        vec![Cmd::Run(units)]
    }

    /// The one place state changes.
    pub fn update(&mut self, msg: Msg) -> Vec<Cmd> {
        match msg {
            Msg::Key(key) => self.on_key(key),
            Msg::Engine(ev) => self.on_engine_event(*ev),
            Msg::Tick => {
                self.tick = self.tick.wrapping_add(1);
                Vec::new()
            }
            Msg::Resize => Vec::new(),
            Msg::Rows(rows) => self.on_rows(rows),
            Msg::Paste(text) => {
                match &mut self.modal {
                    Some(Modal::Error(screen)) => screen.paste(&text),
                    Some(Modal::Url(screen)) => {
                        screen.result = None;
                        screen
                            .input
                            .extend(text.chars().filter(|c| !c.is_control()));
                    }
                    _ => {}
                }
                Vec::new()
            }
            Msg::Buckets(names) => {
                if let Some(Modal::AskBucket(ask)) = &mut self.modal {
                    ask.listed = Some(names.is_some());
                    ask.suggestions = names.unwrap_or_default();
                }
                Vec::new()
            }
            Msg::Exported(result) => {
                self.message = Some(match result {
                    Ok(path) => format!("report written to {}", path.display()),
                    Err(e) => format!("export failed: {e}"),
                });
                Vec::new()
            }
            Msg::Plan(plan) => {
                if let Some(Modal::Remedy(screen)) = &mut self.modal {
                    screen.plan = Some(*plan);
                }
                Vec::new()
            }
            Msg::TaskFailed(why) => {
                self.task_failed(why);
                Vec::new()
            }
            Msg::Remedy(ev) => {
                if let Some(Modal::Remedy(screen)) = &mut self.modal {
                    match ev {
                        RemedyEvent::Progress(line) => screen.log.push(line),
                        RemedyEvent::Finished { ok, summary } => {
                            screen.log.push(summary);
                            screen.phase = Phase::Done(ok);
                        }
                    }
                }
                Vec::new()
            }
        }
    }

    /// New checklist rows (a bucket chosen, an object named): the first bucket row selected,
    /// or, after `o`, the new object's rows selected and run.
    fn on_rows(&mut self, rows: Vec<Row>) -> Vec<Cmd> {
        self.rows = rows;
        self.diagnose();
        // The last row update a pasted error asked for: its whole checklist runs now.
        if self.run_after_rows > 0 {
            self.run_after_rows -= 1;
            if self.run_after_rows == 0 {
                self.selected = self
                    .rows
                    .iter()
                    .position(|u| u.bucket.is_some())
                    .unwrap_or(0);
                return self.run_checklist_afresh();
            }
        }
        if std::mem::take(&mut self.run_new_objects) {
            let new: Vec<Row> = self
                .rows
                .iter()
                .filter(|u| u.key.is_some() && !self.results.contains_key(*u))
                .cloned()
                .collect();
            if let Some(first) = self.rows.iter().position(|u| new.contains(u)) {
                self.selected = first;
                self.detail_scroll = 0;
            }
            return self.run_cmd(new);
        }
        self.selected = self
            .rows
            .iter()
            .position(|u| u.bucket.is_some())
            .unwrap_or(0);
        Vec::new()
    }

    /// A background task died: the remedy screen that waits for it ends as failed, and the
    /// status line says so.
    fn task_failed(&mut self, why: String) {
        if let Some(Modal::Remedy(screen)) = &mut self.modal {
            if screen.plan.is_none() {
                screen.plan = Some(Err(why.clone()));
            } else if screen.phase == Phase::Applying {
                screen.log.push(why.clone());
                screen.phase = Phase::Done(false);
            }
        }
        self.message = Some(why);
    }

    fn on_engine(&mut self, ev: EngineEvent) -> Vec<Cmd> {
        match ev {
            EngineEvent::Started(unit) => {
                self.states.insert(unit, RowState::Running);
            }
            EngineEvent::Finished(result) => {
                let unit = result.unit();
                self.seen.extend(result.findings.iter().map(|f| f.code));
                self.states
                    .insert(unit.clone(), RowState::Done(result.status));
                self.results.insert(unit, result);
            }
            EngineEvent::Session(info) => {
                let first =
                    self.session.credential_source.is_none() && info.credential_source.is_some();
                self.session = info;
                if first && matches!(self.modal, Some(Modal::AskBucket(_))) {
                    return vec![Cmd::ListBuckets];
                }
            }
            EngineEvent::Done => {
                self.runs_in_flight = self.runs_in_flight.saturating_sub(1);
                self.jump_to_first_failure();
            }
        }
        Vec::new()
    }

    /// After `a` (or `--auto`): once the last run is over, select the first failed row.
    fn jump_to_first_failure(&mut self) {
        if self.runs_in_flight > 0 || !std::mem::take(&mut self.show_first_failure) {
            return;
        }
        let failed = |u: &Row| {
            self.results
                .get(u)
                .is_some_and(|r| r.status == crate::checks::Status::Fail)
        };
        if let Some(first) = self.rows.iter().position(failed) {
            self.selected = first;
            self.detail_scroll = 0;
        }
    }

    fn on_key(&mut self, key: KeyEvent) -> Vec<Cmd> {
        #[cfg(debug_assertions)]
        if let Some(c) = self.debug_panic_key
            && key.code == KeyCode::Char(c)
        {
            panic!("debug panic on key {c:?} (S3DOCTOR_DEBUG_PANIC_KEY, debug builds only)");
        }
        match &self.modal {
            Some(Modal::AskBucket(_)) => return self.on_bucket_key(key),
            Some(Modal::AskObject(_)) => return self.on_object_key(key),
            Some(Modal::Url(_)) => {
                self.on_url_key(key);
                return Vec::new();
            }
            Some(Modal::Error(_)) => return self.on_error_key(key),
            _ => {}
        }
        let action = keys::action(key);
        if action == Some(Action::Quit) {
            self.quit = true;
            return Vec::new();
        }
        match (&self.modal, action) {
            (Some(Modal::Help), _) => {
                if keys::HELP.action(key, |_| true) == Some(keys::HelpKey::Close) {
                    self.modal = None;
                }
                Vec::new()
            }
            (Some(Modal::Remedy(_)), _) => self.on_remedy_key(key),
            (None, Some(action)) => self.on_main_key(action),
            _ => Vec::new(),
        }
    }

    fn on_main_key(&mut self, action: Action) -> Vec<Cmd> {
        self.message = None;
        if self.fix_when_done {
            if action == Action::Cancel {
                self.fix_when_done = false;
                self.message = Some("the fix will not open when the run finishes".into());
                return Vec::new();
            }
            self.message = Some(FIX_WAITS.into());
        }
        match action {
            Action::Up => {
                self.selected = self.selected.saturating_sub(1);
                self.detail_scroll = 0;
            }
            Action::Down => {
                self.selected = (self.selected + 1).min(self.rows.len().saturating_sub(1));
                self.detail_scroll = 0;
            }
            Action::PageDown => self.detail_scroll = self.detail_scroll.saturating_add(5),
            Action::PageUp => self.detail_scroll = self.detail_scroll.saturating_sub(5),
            Action::RunCurrent => return self.run_selected(),
            Action::RunAll => return self.run_remaining(),
            Action::Rerun => {
                let Some(unit) = self.selected_unit().cloned() else {
                    return Vec::new();
                };
                self.runs_in_flight += 1;
                return vec![Cmd::Rerun(unit)];
            }
            Action::Remedy => return self.open_remedy(),
            Action::Export => {
                return vec![Cmd::Export {
                    markdown: report::to_markdown(&self.report()),
                    path: self.output.clone(),
                }];
            }
            Action::Help => self.modal = Some(Modal::Help),
            Action::PasteUrl => self.modal = Some(Modal::Url(UrlScreen::default())),
            Action::AddKey if self.run.buckets.is_empty() => {
                self.message = Some("choose the bucket first; then o names its object".into())
            }
            Action::AddKey => self.modal = Some(Modal::AskObject(AskObject::default())),
            Action::PasteError => self.modal = Some(Modal::Error(Box::default())),
            Action::Confirm | Action::Cancel | Action::Quit => {}
        }
        Vec::new()
    }

    /// Enter: runs the selected step (unless it has run) and moves to the next one.
    fn run_selected(&mut self) -> Vec<Cmd> {
        let Some(unit) = self.selected_unit().cloned() else {
            return Vec::new();
        };
        self.selected = (self.selected + 1).min(self.rows.len().saturating_sub(1));
        self.detail_scroll = 0;
        if self.results.contains_key(&unit) {
            self.message = Some(format!("{} has run; r runs it again", unit.step));
            return Vec::new();
        }
        self.run_cmd(vec![unit])
    }

    /// `a`: runs every step that has not run, then shows the first failure.
    fn run_remaining(&mut self) -> Vec<Cmd> {
        let remaining: Vec<Row> = self
            .rows
            .iter()
            .filter(|u| !self.results.contains_key(*u))
            .cloned()
            .collect();
        if remaining.is_empty() {
            self.message = Some("every step has run; r re-runs the selected one".into());
        }
        self.show_first_failure = true;
        self.run_cmd(remaining)
    }

    /// `f`: opens the remedy screen and asks for a plan, when a step has failed. While a run is
    /// going the remedy waits for it (`fix_when_done`): a plan made while steps still run would
    /// leave them out of its verification, and "fixed and verified" could be followed by a row
    /// turning red.
    fn open_remedy(&mut self) -> Vec<Cmd> {
        if self.steps_running() {
            self.fix_when_done = true;
            self.message = Some(FIX_WAITS.into());
            return Vec::new();
        }
        self.fix_when_done = false;
        let failures = self.results.values().any(|r| r.status == Status::Fail);
        if !failures {
            self.message = Some("nothing to fix: no step has failed".into());
            return Vec::new();
        }
        self.message = None;
        self.modal = Some(Modal::Remedy(Box::new(RemedyScreen {
            plan: None,
            phase: Phase::Review,
            log: Vec::new(),
            scroll: 0,
        })));
        vec![Cmd::PlanRemedy(Box::new(self.diagnosis.clone()))]
    }

    /// An engine event: the state it changes, then the diagnosis worked out again, then a
    /// remedy asked for while steps ran (so its plan holds the run's last result).
    fn on_engine_event(&mut self, ev: EngineEvent) -> Vec<Cmd> {
        let mut cmds = self.on_engine(ev);
        self.diagnose();
        cmds.extend(self.open_pending_remedy());
        cmds
    }

    /// Opens the remedy asked for with `f` while steps ran, once they have all finished.
    fn open_pending_remedy(&mut self) -> Vec<Cmd> {
        if self.fix_when_done
            && !self.steps_running()
            && matches!(self.modal, None | Some(Modal::Help))
        {
            return self.open_remedy();
        }
        Vec::new()
    }

    /// True while a run is going or a step it started has not finished.
    fn steps_running(&self) -> bool {
        self.runs_in_flight > 0 || self.states.values().any(|s| *s == RowState::Running)
    }

    /// A key on the remedy screen: only the keys its hint names in its state (`keys::REMEDY`).
    fn on_remedy_key(&mut self, key: KeyEvent) -> Vec<Cmd> {
        let Some(Modal::Remedy(screen)) = &mut self.modal else {
            return Vec::new();
        };
        let Some(action) = keys::REMEDY.action(key, |a| screen.allows(a)) else {
            return Vec::new();
        };
        match action {
            // Allowed only for a plan under review that can be applied, and only a plain `y`
            // confirms (not Alt+y).
            RemedyKey::Apply => {
                if let Some(Ok(plan)) = &screen.plan
                    && key.modifiers.is_empty()
                {
                    screen.phase = Phase::Applying;
                    screen.log.clear();
                    // The only place in the wizard that turns a plan into a confirmed one.
                    return vec![Cmd::Apply(Box::new(plan.clone().confirm()))];
                }
            }
            RemedyKey::Cancel | RemedyKey::Close => self.modal = None,
            RemedyKey::Down => screen.scroll = screen.scroll.saturating_add(1),
            RemedyKey::Up => screen.scroll = screen.scroll.saturating_sub(1),
            RemedyKey::PageDown => screen.scroll = screen.scroll.saturating_add(10),
            RemedyKey::PageUp => screen.scroll = screen.scroll.saturating_sub(10),
            RemedyKey::Export => {
                if let Some(Ok(plan)) = &screen.plan {
                    return vec![Cmd::Export {
                        markdown: plan.export_markdown(),
                        path: None,
                    }];
                }
            }
        }
        Vec::new()
    }

    fn on_url_key(&mut self, key: KeyEvent) {
        let Some(Modal::Url(screen)) = &mut self.modal else {
            return;
        };
        if keys::is_interrupt(key) {
            self.quit = true;
            return;
        }
        let Some(action) = keys::URL.action(key, |a| screen.allows(a)) else {
            Self::type_url(screen, key);
            return;
        };
        match action {
            UrlKey::Close => self.modal = None,
            UrlKey::Read => {
                let now = std::time::SystemTime::now()
                    .duration_since(std::time::UNIX_EPOCH)
                    .map_or(0, |d| i64::try_from(d.as_secs()).unwrap_or(i64::MAX));
                screen.result = Some(
                    crate::presigned::url_report::read_offline(&screen.input, now)
                        .map(|text| text.lines().map(str::to_owned).collect()),
                );
                screen.scroll = 0;
            }
            UrlKey::Down => screen.scroll = screen.scroll.saturating_add(1),
            UrlKey::Up => screen.scroll = screen.scroll.saturating_sub(1),
            UrlKey::PageDown => screen.scroll = screen.scroll.saturating_add(10),
            UrlKey::PageUp => screen.scroll = screen.scroll.saturating_sub(10),
            UrlKey::Retype => {}
        }
    }

    /// Typing on the URL screen (a key its table does not bind): the URL, edited.
    fn type_url(screen: &mut UrlScreen, key: KeyEvent) {
        match key.code {
            KeyCode::Char(c) => {
                // Typing (or pasting) after a result starts a new URL.
                if screen.result.take().is_some() {
                    screen.input.clear();
                }
                if !c.is_control() {
                    screen.input.push(c);
                }
            }
            KeyCode::Backspace => {
                screen.result = None;
                screen.input.pop();
            }
            _ => {}
        }
    }

    /// A key on the pasted-error screen: its own table, and Enter on a reading runs the
    /// checklist on the bucket the error names (else on the wizard's).
    fn on_error_key(&mut self, key: KeyEvent) -> Vec<Cmd> {
        let Some(Modal::Error(screen)) = &mut self.modal else {
            return Vec::new();
        };
        if keys::is_interrupt(key) {
            self.quit = true;
            return Vec::new();
        }
        match screen.on_key(key) {
            Outcome::Stay => Vec::new(),
            Outcome::Close => {
                self.modal = None;
                Vec::new()
            }
            Outcome::Run {
                bucket,
                key,
                role,
                network,
            } => self.run_pasted(bucket, key, role, network),
        }
    }

    /// Enter on a pasted error's reading: the checklist runs afresh on the bucket it names
    /// (else the wizard's), with the object it names as an `app-object` row, and as the role it
    /// names (assumed as `--role-arn` is; a refusal is the credentials row's finding).
    fn run_pasted(
        &mut self,
        bucket: Option<String>,
        key: Option<String>,
        role: Option<PastedRole>,
        network: Option<crate::policy::AppNetwork>,
    ) -> Vec<Cmd> {
        let buckets = match bucket {
            Some(b) => vec![b],
            None => self.run.buckets.clone(),
        };
        if buckets.is_empty() {
            self.message = Some(
                "the error names no bucket, and none is chosen yet: start the wizard with --bucket"
                    .into(),
            );
            return Vec::new();
        }
        self.modal = None;
        let mut cmds = Vec::new();
        let path_known = role.as_ref().is_none_or(|r| r.path_known);
        let as_role = match self.pasted_role(role.map(|r| r.arn).as_deref()) {
            Some(role) => {
                let path = match path_known {
                    true => String::new(),
                    false => format!(
                        "{}: if STS refuses it, iam:GetRole names the real ARN; ",
                        crate::arn::PATH_NOT_KNOWN
                    ),
                };
                let words = format!(
                    " as role {} ({path}assumed with your credentials; the credentials row says if it cannot be)",
                    role.role_arn
                );
                cmds.push(Cmd::SetRole(Box::new(role)));
                words
            }
            None => String::new(),
        };
        self.message = Some(format!(
            "checking {}{as_role}, as the pasted error asks",
            buckets.join(", ")
        ));
        self.run.buckets = buckets.clone();
        cmds.push(Cmd::SetBuckets(buckets));
        // The object it names joins the checklist (its app-object row), as `o` adds one.
        if let Some(key) = key.filter(|k| !self.run.keys.contains(k)) {
            self.run.keys.push(key);
            cmds.push(Cmd::SetKeys(self.run.keys.clone()));
        }
        // The network it came from: the conditions are judged for it.
        if let Some(network) = network.filter(|n| *n != self.run.network) {
            self.run.network = network.clone();
            cmds.push(Cmd::SetNetwork(network));
        }
        self.run_after_rows = cmds.len();
        cmds
    }

    /// The role a pasted error names, to check as: an IAM role ARN that the wizard does not
    /// already run as (by `--role-arn`, or because its own keys are that role's session). The
    /// wizard's settings and header follow it.
    fn pasted_role(&mut self, role: Option<&str>) -> Option<aws::RoleToAssume> {
        let named = crate::arn::parse_principal(role?.trim())
            .ok()
            .filter(|p| p.kind == crate::arn::PrincipalKind::Role)?;
        let same = |arn: &str| {
            crate::arn::parse_principal(arn)
                .is_ok_and(|p| p.account == named.account && p.name == named.name)
        };
        let assumed = self.settings.role.as_ref().map(|r| r.role_arn.as_str());
        let acting = self
            .session
            .identity
            .as_ref()
            .and_then(|i| i.role_arn.as_deref());
        if assumed.is_some_and(same) || (assumed.is_none() && acting.is_some_and(same)) {
            return None;
        }
        let role = aws::RoleToAssume {
            role_arn: named.arn.clone(),
            external_id: None,
            session_name: self.settings.role.as_ref().map_or_else(
                || aws::ROLE_SESSION_NAME.to_owned(),
                |r| r.session_name.clone(),
            ),
        };
        let mut settings = (*self.settings).clone();
        settings.role = Some(role.clone());
        self.settings = Arc::new(settings);
        self.session = SessionInfo::default();
        Some(role)
    }

    /// Every step of the checklist, run again from the start (a pasted error asked for it).
    fn run_checklist_afresh(&mut self) -> Vec<Cmd> {
        for unit in &self.rows {
            self.results.remove(unit);
            self.states.remove(unit);
        }
        self.run_remaining()
    }

    fn on_bucket_key(&mut self, key: KeyEvent) -> Vec<Cmd> {
        let Some(Modal::AskBucket(ask)) = &mut self.modal else {
            return Vec::new();
        };
        if keys::is_interrupt(key) {
            self.quit = true;
            return Vec::new();
        }
        if let Some(action) = keys::BUCKET.action(key, |a| ask.allows(a)) {
            return self.on_bucket_action(action);
        }
        match key.code {
            KeyCode::Char(c) => {
                ask.typed.push(c);
                ask.input = ask.typed.clone();
                ask.selected = None;
                ask.error = None;
            }
            KeyCode::Backspace => {
                ask.typed.pop();
                ask.input = ask.typed.clone();
                ask.selected = None;
            }
            _ => {}
        }
        Vec::new()
    }

    /// A key in the object prompt: the key typed, Enter reads it (its rows join the checklist
    /// and run), Esc closes the prompt.
    fn on_object_key(&mut self, key: KeyEvent) -> Vec<Cmd> {
        let Some(Modal::AskObject(ask)) = &mut self.modal else {
            return Vec::new();
        };
        if keys::is_interrupt(key) {
            self.quit = true;
            return Vec::new();
        }
        match keys::OBJECT.action(key, |_| true) {
            Some(ObjectKey::Cancel) => self.modal = None,
            Some(ObjectKey::Confirm) => {
                let name = ask.input.clone();
                if let Err(why) = crate::object_key::validate(&name) {
                    ask.error = Some(why);
                    return Vec::new();
                }
                self.modal = None;
                if self.run.keys.contains(&name) {
                    self.message = Some(format!("{name} is in the checklist already"));
                    return Vec::new();
                }
                self.run.keys.push(name);
                self.run_new_objects = true;
                return vec![Cmd::SetKeys(self.run.keys.clone())];
            }
            None => match key.code {
                KeyCode::Char(c) if !c.is_control() => {
                    ask.input.push(c);
                    ask.error = None;
                }
                KeyCode::Backspace => {
                    ask.input.pop();
                }
                _ => {}
            },
        }
        Vec::new()
    }

    /// A key of the bucket prompt's table (`keys::BUCKET`): confirm, quit, pick a suggestion.
    fn on_bucket_action(&mut self, action: BucketKey) -> Vec<Cmd> {
        let Some(Modal::AskBucket(ask)) = &mut self.modal else {
            return Vec::new();
        };
        match action {
            BucketKey::Quit => self.quit = true,
            BucketKey::Next | BucketKey::Previous => {
                let matches = ask.matches();
                if !matches.is_empty() {
                    let len = matches.len();
                    let i = match (action, ask.selected) {
                        (BucketKey::Previous, None) => len - 1,
                        (BucketKey::Previous, Some(i)) => (i + len - 1) % len,
                        (_, None) => 0,
                        (_, Some(i)) => (i + 1) % len,
                    };
                    ask.input = matches[i].clone();
                    ask.selected = Some(i);
                }
            }
            BucketKey::Confirm => {
                let name = ask.input.trim().to_owned();
                match crate::bucket_name::check(&name) {
                    Ok(()) => {
                        self.modal = None;
                        self.run.buckets = vec![name.clone()];
                        return vec![Cmd::SetBuckets(vec![name])];
                    }
                    Err(e) => ask.error = Some(e.reason()),
                }
            }
        }
        Vec::new()
    }
}

#[cfg(test)]
impl App {
    /// The wizard on one bucket (`clipizy-dev`), without colour, before anything ran: the
    /// starting point of the wizard's unit tests.
    pub(crate) fn for_tests() -> App {
        let run = RunSettings {
            buckets: vec!["clipizy-dev".into()],
            ..RunSettings::default()
        };
        let engine = crate::engine::Engine::new(aws::Settings::default(), run.clone());
        App::new(
            aws::Settings::default(),
            run,
            engine.units(),
            Theme { color: false },
        )
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crossterm::event::KeyModifiers;

    fn key(c: KeyCode) -> Msg {
        Msg::Key(KeyEvent::new(c, KeyModifiers::NONE))
    }

    fn app() -> App {
        App::for_tests()
    }

    /// On a plan that could be applied, only a plain `y` confirms it: any other key, with or
    /// without Ctrl, Alt or Shift, gives no `Apply` and leaves the plan unconfirmed.
    #[test]
    fn only_y_confirms_a_plan_that_could_be_applied() {
        let runtime = tokio::runtime::Builder::new_current_thread()
            .build()
            .expect("runtime");
        let mut plan = runtime.block_on(crate::remedy::plan::plan_for_tests(
            "arn:aws:iam::123456789012:user/Runpod",
        ));
        plan.blocked = None;
        assert!(plan.is_applicable());
        let fresh = || {
            let mut a = app();
            a.modal = Some(Modal::Remedy(Box::new(RemedyScreen {
                plan: Some(Ok(plan.clone())),
                phase: Phase::Review,
                log: Vec::new(),
                scroll: 0,
            })));
            a
        };
        let y = KeyEvent::new(KeyCode::Char('y'), KeyModifiers::NONE);
        let modifiers = [
            KeyModifiers::NONE,
            KeyModifiers::SHIFT,
            KeyModifiers::CONTROL,
            KeyModifiers::ALT,
        ];
        let mut pressed = 0;
        for base in crate::tui::keys::names::every_key() {
            for m in modifiers {
                let key = KeyEvent::new(base.code, m);
                if key == y {
                    continue;
                }
                let mut a = fresh();
                let cmds = a.update(Msg::Key(key));
                assert!(
                    !cmds.iter().any(|c| matches!(c, Cmd::Apply(_))),
                    "{key:?} confirmed the plan"
                );
                if let Some(Modal::Remedy(screen)) = &a.modal {
                    assert_eq!(screen.phase, Phase::Review, "{key:?}");
                }
                pressed += 1;
            }
        }
        assert!(pressed > 300, "{pressed} keys");
        let mut a = fresh();
        let cmds = a.update(Msg::Key(y));
        assert!(matches!(&cmds[..], [Cmd::Apply(_)]), "{cmds:?}");
    }

    #[test]
    fn opening_resolves_keys_and_selects_the_first_bucket_step() {
        let mut a = app();
        let cmds = a.start(false);
        assert!(matches!(&cmds[..], [Cmd::Run(units)] if units.iter().all(|u| u.bucket.is_none())));
        assert_eq!(
            a.selected_unit().unwrap().step,
            crate::runbook::StepId::BucketExists
        );
    }

    #[test]
    fn enter_runs_the_selected_step_and_moves_on() {
        let mut a = app();
        a.start(false);
        let before = a.selected;
        let cmds = a.update(key(KeyCode::Enter));
        assert!(matches!(&cmds[..], [Cmd::Run(u)] if u.len() == 1 && u[0] == a.rows[before]));
        assert_eq!(a.selected, before + 1);
    }

    #[test]
    fn q_quits_and_help_opens_and_closes() {
        let mut a = app();
        a.update(key(KeyCode::Char('?')));
        assert!(matches!(a.modal, Some(Modal::Help)));
        a.update(key(KeyCode::Esc));
        assert!(a.modal.is_none());
        a.update(key(KeyCode::Char('q')));
        assert!(a.should_quit());
    }

    /// An engine event: `step` on clipizy-dev failed with `code` for s3:PutObject.
    fn failed(step: crate::runbook::StepId, code: crate::finding::FindingCode) -> Msg {
        Msg::Engine(Box::new(EngineEvent::Finished(
            StepResult::failed_for_tests(step, code),
        )))
    }

    #[test]
    fn the_diagnosis_is_worked_out_at_each_engine_event_and_the_fix_is_planned_from_it() {
        use crate::finding::FindingCode;
        use crate::runbook::StepId;
        let mut a = app();
        assert_eq!(a.diagnosis.steps_planned(), a.rows.len());
        assert!(!a.diagnosis.complete() && a.findings().is_empty());
        a.update(failed(StepId::PutObject, FindingCode::PermissionMissing));
        let codes = |a: &App| a.findings().iter().map(|f| f.code).collect::<Vec<_>>();
        assert_eq!(codes(&a), [FindingCode::PermissionMissing]);
        assert!(a.diagnosis.policy().is_some());
        // The bucket policy's Deny supersedes "nothing allows it": the wizard, its report and
        // the plan it asks for all say so.
        a.update(failed(StepId::BucketPolicy, FindingCode::ExplicitDeny));
        assert_eq!(codes(&a), [FindingCode::ExplicitDeny]);
        assert!(a.diagnosis.policy().is_none());
        assert_eq!(a.report().diagnosis().findings(), a.findings());
        assert_eq!(a.diagnosis.steps_run(), 2);
        let cmds = a.update(key(KeyCode::Char('f')));
        assert!(
            matches!(&cmds[..], [Cmd::PlanRemedy(d)] if d.findings() == a.findings()),
            "{cmds:?}"
        );
    }

    #[test]
    fn f_pressed_while_the_run_goes_opens_the_remedy_when_it_has_finished() {
        use crate::finding::FindingCode;
        use crate::runbook::StepId;
        let mut a = app();
        let rows = a.rows.clone();
        assert!(matches!(&a.run_remaining()[..], [Cmd::Run(_)]));
        // Pressed before any step has failed: it waits too, it does not say "nothing to fix".
        let press_f = |a: &mut App| a.update(key(KeyCode::Char('f')));
        assert!(press_f(&mut a).is_empty(), "no plan while the run is going");
        assert!(a.modal.is_none());
        assert!(
            a.message
                .as_deref()
                .unwrap()
                .contains("opens when the run has finished")
        );
        // Moving around keeps the promise on screen.
        a.update(key(KeyCode::Down));
        assert!(
            a.message
                .as_deref()
                .unwrap()
                .contains("opens when the run has finished")
        );
        a.update(Msg::Engine(Box::new(EngineEvent::Started(rows[0].clone()))));
        let cmds = a.update(failed(StepId::PutObject, FindingCode::PermissionMissing));
        assert!(cmds.is_empty(), "the run is still going: {cmds:?}");
        a.update(Msg::Engine(Box::new(EngineEvent::Done)));
        assert!(a.modal.is_none(), "a step the run started has not finished");
        let cmds = a.update(Msg::Engine(Box::new(EngineEvent::Finished(StepResult {
            id: rows[0].step,
            bucket: rows[0].bucket.clone(),
            key: None,
            status: Status::Pass,
            elapsed_ms: 1,
            detail: "ok".into(),
            evidence: None,
            findings: Vec::new(),
            blocking: false,
            ran: true,
        }))));
        // The plan is asked for the diagnosis that holds every result of the run.
        assert!(
            matches!(&cmds[..], [Cmd::PlanRemedy(d)] if d.steps_run() == 2 && d.findings() == a.findings()),
            "{cmds:?}"
        );
        assert!(matches!(a.modal, Some(Modal::Remedy(_))));
    }

    #[test]
    fn esc_takes_back_an_f_pressed_while_the_run_goes() {
        use crate::finding::FindingCode;
        use crate::runbook::StepId;
        let mut a = app();
        assert!(matches!(&a.run_remaining()[..], [Cmd::Run(_)]));
        a.update(failed(StepId::PutObject, FindingCode::PermissionMissing));
        a.update(key(KeyCode::Char('f')));
        a.update(key(KeyCode::Esc));
        assert!(a.message.as_deref().unwrap().contains("will not open"));
        let cmds = a.update(Msg::Engine(Box::new(EngineEvent::Done)));
        assert!(cmds.is_empty() && a.modal.is_none(), "{cmds:?}");
    }

    #[test]
    fn a_run_with_nothing_failed_answers_a_waiting_f_with_nothing_to_fix() {
        let mut a = app();
        assert!(matches!(&a.run_remaining()[..], [Cmd::Run(_)]));
        a.update(key(KeyCode::Char('f')));
        let cmds = a.update(Msg::Engine(Box::new(EngineEvent::Done)));
        assert!(cmds.is_empty() && a.modal.is_none(), "{cmds:?}");
        assert!(a.message.as_deref().unwrap().contains("nothing to fix"));
    }

    #[test]
    fn remedy_needs_a_failure() {
        let mut a = app();
        assert!(a.update(key(KeyCode::Char('f'))).is_empty());
        assert!(a.modal.is_none());
        assert!(a.message.as_deref().unwrap().contains("nothing to fix"));
    }

    #[test]
    fn u_reads_a_pasted_presigned_url_without_sending_it() {
        let mut app = app();
        assert!(app.update(key(KeyCode::Char('u'))).is_empty());
        assert!(matches!(app.modal, Some(Modal::Url(_))));
        // Signed in 2026 for 60 s: long expired by any clock that runs this test later.
        let url = "https://b.s3.eu-west-1.amazonaws.com/k?X-Amz-Algorithm=AWS4-HMAC-SHA256\
                   &X-Amz-Credential=AKIAIOSFODNN7EXAMPLE%2F20200101%2Feu-west-1%2Fs3%2Faws4_request\
                   &X-Amz-Date=20200101T000000Z&X-Amz-Expires=60&X-Amz-SignedHeaders=host\
                   &X-Amz-Signature=0123456789abcdef0123456789abcdef0123456789abcdef0123456789abcdef";
        for c in url.chars() {
            // No command: nothing is sent, nothing runs.
            assert!(app.update(key(KeyCode::Char(c))).is_empty());
        }
        assert!(app.update(key(KeyCode::Enter)).is_empty());
        let Some(Modal::Url(screen)) = &app.modal else {
            panic!("the URL screen closed");
        };
        let Some(Ok(lines)) = &screen.result else {
            panic!("no report: {:?}", screen.result);
        };
        let text = lines.join("\n");
        assert!(text.contains("presigned.expired"), "{text}");
        assert!(text.contains("AKIA…MPLE"), "{text}");
        assert!(!text.contains("AKIAIOSFODNN7EXAMPLE"), "{text}");
        // Typing again starts a new URL; a bad one says why in one line.
        app.update(key(KeyCode::Char('x')));
        app.update(key(KeyCode::Enter));
        let Some(Modal::Url(screen)) = &app.modal else {
            panic!("the URL screen closed");
        };
        assert_eq!(screen.input, "x");
        assert!(matches!(&screen.result, Some(Err(e)) if e.contains("not an http(s) URL")));
        // q is text here; Esc closes.
        app.update(key(KeyCode::Char('q')));
        assert!(!app.should_quit());
        app.update(key(KeyCode::Esc));
        assert!(app.modal.is_none());
    }

    /// A CloudTrail event names where the request came from: Enter takes that network into
    /// the run (the conditions are judged for it), after the bucket and the object.
    #[test]
    fn p_takes_the_network_a_cloudtrail_event_names_into_the_run() {
        let mut app = app();
        app.update(key(KeyCode::Char('p')));
        let event = serde_json::json!({
            "eventVersion": "1.09", "eventSource": "s3.amazonaws.com", "eventName": "PutObject",
            "awsRegion": "us-east-1", "sourceIPAddress": "10.0.1.25",
            "vpcEndpointId": "vpce-0a1b2c3d4e5f67890",
            "userIdentity": {"type": "IAMUser", "arn": "arn:aws:iam::123456789012:user/app"},
            "errorCode": "AccessDenied", "errorMessage": "Access Denied",
            "requestParameters": {"bucketName": "uploads-prod", "key": "a.txt"}
        });
        app.update(Msg::Paste(event.to_string()));
        app.update(key(KeyCode::Enter));
        let cmds = app.update(key(KeyCode::Enter));
        let want = crate::policy::AppNetwork {
            source_ip: Some("10.0.1.25".parse().expect("ip")),
            vpce: Some("vpce-0a1b2c3d4e5f67890".into()),
            ..crate::policy::AppNetwork::default()
        };
        assert!(
            matches!(&cmds[..], [Cmd::SetBuckets(_), Cmd::SetKeys(_), Cmd::SetNetwork(n)] if *n == want),
            "{cmds:?}"
        );
        assert_eq!(app.run.network, want);
        assert_eq!(app.run_after_rows, 3);
    }

    #[test]
    fn p_reads_a_pasted_error_and_enter_runs_the_checklist_on_its_bucket() {
        let mut app = app();
        assert!(app.update(key(KeyCode::Char('p'))).is_empty());
        let error = "botocore.exceptions.ClientError: An error occurred (AccessDenied) when calling the PutObject operation: User: arn:aws:iam::123456789012:user/app is not authorized to perform: s3:PutObject on resource: \"arn:aws:s3:::uploads-prod/a.txt\" because no identity-based policy allows the s3:PutObject action\nTraceback (most recent call last):";
        // A bracketed paste arrives whole, its new line included; nothing runs on it.
        assert!(app.update(Msg::Paste(error.to_owned())).is_empty());
        // Enter reads it: nothing is sent, nothing runs.
        assert!(app.update(key(KeyCode::Enter)).is_empty());
        let Some(Modal::Error(screen)) = &app.modal else {
            panic!("the error screen closed");
        };
        let Some(Ok(reading)) = &screen.reading else {
            panic!("no reading: {:?}", screen.reading);
        };
        assert_eq!(reading.bucket.as_deref(), Some("uploads-prod"));
        assert_eq!(
            reading.cause,
            crate::finding::FindingCode::PermissionMissing
        );
        // Enter on the reading: the checklist on the bucket and the object the error names.
        let cmds = app.update(key(KeyCode::Enter));
        assert!(
            matches!(&cmds[..], [Cmd::SetBuckets(b), Cmd::SetKeys(k)]
                if b == &["uploads-prod".to_owned()] && k == &["a.txt".to_owned()]),
            "{cmds:?}"
        );
        assert!(app.modal.is_none());
        let bucket_rows = vec![Row {
            step: crate::step::StepId::PutObject,
            bucket: Some("uploads-prod".into()),
            key: None,
        }];
        let mut rows = bucket_rows.clone();
        rows.push(Row {
            step: crate::step::StepId::AppObject,
            bucket: Some("uploads-prod".into()),
            key: Some("a.txt".into()),
        });
        // The bucket's rows first: nothing runs until the object's row has joined them.
        assert!(app.update(Msg::Rows(bucket_rows)).is_empty());
        let cmds = app.update(Msg::Rows(rows.clone()));
        assert!(
            matches!(&cmds[..], [Cmd::Run(units)] if *units == rows),
            "{cmds:?}"
        );
        // Only once: rows set later (another bucket) do not run by themselves.
        assert!(app.update(Msg::Rows(rows)).is_empty());
    }

    /// A CloudTrail event's session issuer is the role the checklist runs as: `SetRole` comes
    /// before the rows, the printed check names `--role-arn`, and the header starts over. The
    /// same role pasted again (already the wizard's) changes nothing.
    #[test]
    fn p_with_a_role_session_runs_the_checklist_as_the_role_it_names() {
        let role = "arn:aws:iam::123456789012:role/app";
        let event = format!(
            r#"{{"eventSource":"s3.amazonaws.com","eventName":"GetObject","awsRegion":"us-east-1","errorCode":"AccessDenied","errorMessage":"Access Denied","requestParameters":{{"bucketName":"uploads-prod","key":"a.txt"}},"userIdentity":{{"type":"AssumedRole","arn":"arn:aws:sts::123456789012:assumed-role/app/i-0abc","sessionContext":{{"sessionIssuer":{{"type":"Role","arn":"{role}"}}}}}}}}"#
        );
        let mut app = app();
        app.session.key_id_hint = Some("AKIA…1234".into());
        let read = |app: &mut App| {
            app.update(key(KeyCode::Char('p')));
            app.update(Msg::Paste(event.clone()));
            app.update(key(KeyCode::Enter));
            let Some(Modal::Error(screen)) = &app.modal else {
                panic!("the error screen closed");
            };
            screen.run_words(&app.run.buckets).expect("words")
        };
        let words = read(&mut app);
        assert!(
            words.contains(&format!("as role {role}, assumed with your credentials")),
            "{words}"
        );
        let cmds = app.update(key(KeyCode::Enter));
        assert!(
            matches!(&cmds[..], [Cmd::SetRole(r), Cmd::SetBuckets(_), Cmd::SetKeys(_)]
                if r.role_arn == role && r.session_name == aws::ROLE_SESSION_NAME && r.external_id.is_none()),
            "{cmds:?}"
        );
        assert_eq!(app.run_after_rows, 3);
        assert_eq!(
            app.settings.role.as_ref().map(|r| r.role_arn.as_str()),
            Some(role)
        );
        assert_eq!(
            app.session,
            SessionInfo::default(),
            "the header starts over"
        );
        assert!(
            app.message
                .as_deref()
                .unwrap_or_default()
                .contains(&format!("as role {role}")),
            "{:?}",
            app.message
        );
        // Pasted again: the wizard already checks as that role.
        read(&mut app);
        let cmds = app.update(key(KeyCode::Enter));
        assert!(
            !cmds.iter().any(|c| matches!(c, Cmd::SetRole(_))),
            "{cmds:?}"
        );
    }

    /// A refusal that names only the session (`assumed-role/app/…`) gives the role without its
    /// path, which the session's ARN does not carry: the screen and the run say so, and the
    /// role is assumed by that ARN (STS's refusal then asks iam:GetRole for the real one).
    #[test]
    fn p_with_a_session_arn_says_the_roles_path_is_not_known() {
        let text = "An error occurred (AccessDenied) when calling the PutObject operation: User: \
                    arn:aws:sts::123456789012:assumed-role/app/i-0abc is not authorized to \
                    perform: s3:PutObject on resource: \"arn:aws:s3:::uploads-prod/a.txt\" \
                    because no identity-based policy allows the s3:PutObject action";
        let mut app = app();
        app.update(key(KeyCode::Char('p')));
        app.update(Msg::Paste(text.into()));
        app.update(key(KeyCode::Enter));
        let Some(Modal::Error(screen)) = &app.modal else {
            panic!("the error screen closed");
        };
        let words = screen.run_words(&app.run.buckets).expect("words");
        assert!(
            words.contains("as role app (path not known: the session ARN does not carry it;"),
            "{words}"
        );
        let cmds = app.update(key(KeyCode::Enter));
        let role = "arn:aws:iam::123456789012:role/app";
        assert!(
            matches!(&cmds[..], [Cmd::SetRole(r), ..] if r.role_arn == role),
            "{cmds:?}"
        );
        let message = app.message.as_deref().unwrap_or_default();
        assert!(
            message.contains(&format!(
                "as role {role} (path not known: the session ARN does not carry it: if STS \
                 refuses it, iam:GetRole names the real ARN; assumed with your credentials"
            )),
            "{message}"
        );
    }

    #[test]
    fn no_bucket_opens_the_prompt_and_enter_validates() {
        let run = RunSettings::default();
        let mut a = App::new(
            aws::Settings::default(),
            run,
            Vec::new(),
            Theme { color: false },
        );
        assert!(matches!(a.modal, Some(Modal::AskBucket(_))));
        for c in "Bad_Name".chars() {
            a.update(key(KeyCode::Char(c)));
        }
        assert!(a.update(key(KeyCode::Enter)).is_empty());
        let Some(Modal::AskBucket(ask)) = &a.modal else {
            panic!("prompt closed")
        };
        assert!(ask.error.is_some());
        for _ in 0..8 {
            a.update(key(KeyCode::Backspace));
        }
        for c in "clipizy-dev".chars() {
            a.update(key(KeyCode::Char(c)));
        }
        let cmds = a.update(key(KeyCode::Enter));
        assert!(matches!(&cmds[..], [Cmd::SetBuckets(b)] if b == &["clipizy-dev".to_owned()]));
    }

    #[test]
    fn o_names_the_apps_object_whose_rows_join_and_run() {
        use crate::runbook::StepId;
        let mut a = app();
        assert!(a.update(key(KeyCode::Char('o'))).is_empty());
        assert!(matches!(a.modal, Some(Modal::AskObject(_))));
        // Enter on nothing says why and keeps the prompt; q is text here.
        assert!(a.update(key(KeyCode::Enter)).is_empty());
        let Some(Modal::AskObject(ask)) = &a.modal else {
            panic!("the prompt closed")
        };
        assert!(ask.error.as_deref().unwrap().contains("empty"));
        for c in "finance/q3 report.pdf".chars() {
            assert!(a.update(key(KeyCode::Char(c))).is_empty());
        }
        assert!(!a.should_quit());
        let cmds = a.update(key(KeyCode::Enter));
        let want = vec!["finance/q3 report.pdf".to_owned()];
        assert!(
            matches!(&cmds[..], [Cmd::SetKeys(k)] if *k == want),
            "{cmds:?}"
        );
        assert!(a.modal.is_none());
        // The engine's rows come back with the object's: they are selected and run.
        let mut run = a.run.clone();
        run.keys = want.clone();
        let rows = crate::engine::Engine::new(aws::Settings::default(), run).units();
        let object = Row::for_object(StepId::AppObject, "clipizy-dev", &want[0]);
        assert!(rows.contains(&object));
        let cmds = a.update(Msg::Rows(rows));
        assert!(
            matches!(&cmds[..], [Cmd::Run(u)] if *u == [object.clone()]),
            "{cmds:?}"
        );
        assert_eq!(a.selected_unit(), Some(&object));
        // Named again: nothing new to run.
        a.update(key(KeyCode::Char('o')));
        for c in want[0].chars() {
            a.update(key(KeyCode::Char(c)));
        }
        assert!(a.update(key(KeyCode::Enter)).is_empty());
        assert!(a.message.as_deref().unwrap().contains("already"));
    }
}
