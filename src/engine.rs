//! Runs the runbook: schedules steps as soon as the steps they need have finished (so
//! independent steps and buckets run concurrently), keeps what they learned, and reports
//! every start and finish as an `EngineEvent`. The wizard and `check` are two views on it.

use std::collections::{BTreeSet, HashMap};
use std::sync::Arc;
use std::time::Instant;

use serde::Serialize;
use tokio::sync::{Mutex, mpsc::UnboundedSender};
use tokio::task::JoinSet;

use crate::aws::{self, Session};
use crate::checks::{
    self, BucketState, CheckContext, Fact, Identity, RunSettings, Status, StepOutcome,
};
use crate::finding::{Evidence, Finding};
use crate::runbook::{Mode, Runbook, Scope, StepId};

/// One row of the checklist: a step, for one bucket or for the whole run.
#[derive(Clone, Debug, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize)]
pub struct Unit {
    pub step: StepId,
    pub bucket: Option<String>,
}

impl Unit {
    pub fn global(step: StepId) -> Self {
        Unit { step, bucket: None }
    }
    pub fn for_bucket(step: StepId, bucket: &str) -> Self {
        Unit {
            step,
            bucket: Some(bucket.to_owned()),
        }
    }
}

/// A finished step, as the reports show it.
#[derive(Clone, Debug, Serialize)]
pub struct StepResult {
    pub id: StepId,
    pub bucket: Option<String>,
    pub status: Status,
    pub elapsed_ms: u64,
    pub detail: String,
    pub evidence: Option<Evidence>,
    #[serde(skip)]
    pub findings: Vec<Finding>,
    #[serde(skip)]
    pub blocking: bool,
    /// False when the step never ran: skipped because a step it needs did not pass, or
    /// left over when the run ended.
    #[serde(skip)]
    pub ran: bool,
}

impl StepResult {
    pub fn unit(&self) -> Unit {
        Unit {
            step: self.id,
            bucket: self.bucket.clone(),
        }
    }
}

/// What is known about the session, for headers and reports (never a secret).
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct SessionInfo {
    pub region: Option<String>,
    pub credential_source: Option<String>,
    pub key_id_hint: Option<String>,
    pub identity: Option<Identity>,
    /// What the endpoint is and offers, once the identity step learned it.
    pub endpoint: Option<crate::endpoint::Capabilities>,
}

/// What the engine tells its views.
#[derive(Clone, Debug)]
pub enum EngineEvent {
    Started(Unit),
    Finished(StepResult),
    Session(SessionInfo),
    /// The run asked for is over.
    Done,
}

#[derive(Default)]
struct State {
    session: Option<Arc<Session>>,
    identity: Option<Identity>,
    endpoint: Option<crate::endpoint::Capabilities>,
    buckets: HashMap<String, BucketState>,
    results: HashMap<Unit, StepResult>,
}

/// The engine: cheap to clone; runs are serialised so that state stays consistent.
#[derive(Clone)]
pub struct Engine {
    settings: Arc<aws::Settings>,
    admin: Option<Arc<aws::Settings>>,
    run: Arc<RunSettings>,
    state: Arc<Mutex<State>>,
}

impl Engine {
    pub fn new(settings: aws::Settings, run: RunSettings) -> Self {
        Engine {
            settings: Arc::new(settings),
            admin: None,
            run: Arc::new(run),
            state: Arc::default(),
        }
    }

    /// Reads policies and bucket settings with `--admin-profile`'s keys (checks still run
    /// with the diagnosed ones).
    pub fn with_admin(mut self, admin: Option<aws::Settings>) -> Self {
        self.admin = admin.map(Arc::new);
        self
    }

    /// Replaces the buckets (the wizard asks for one when none was given); what was
    /// learned about the session is kept.
    pub fn set_buckets(&mut self, buckets: Vec<String>) {
        let mut run = (*self.run).clone();
        run.buckets = buckets;
        self.run = Arc::new(run);
    }

    pub fn settings(&self) -> &aws::Settings {
        &self.settings
    }

    pub fn run_settings(&self) -> &RunSettings {
        &self.run
    }

    /// The checklist rows for this run, in display order (ACL only with `--access full`).
    pub fn units(&self) -> Vec<Unit> {
        let runbook = Runbook::embedded();
        let mut units: Vec<Unit> = runbook
            .steps
            .iter()
            .filter(|s| s.scope == Scope::Global)
            .map(|s| Unit::global(s.id))
            .collect();
        for bucket in &self.run.buckets {
            units.extend(
                runbook
                    .steps
                    .iter()
                    .filter(|s| s.scope == Scope::Bucket && self.includes(s.mode))
                    .map(|s| Unit::for_bucket(s.id, bucket)),
            );
        }
        units
    }

    fn includes(&self, mode: Mode) -> bool {
        match mode {
            Mode::Always | Mode::Write => true,
            Mode::Acl => self.run.access == crate::policy::Access::Full,
            Mode::Origin => self.run.origin.is_some(),
            Mode::Admin => self.admin.is_some(),
        }
    }

    /// The rows `unit` needs, among this run's rows.
    fn needs(&self, unit: &Unit, all: &[Unit]) -> Vec<Unit> {
        Runbook::embedded()
            .step(unit.step)
            .needs
            .iter()
            .map(|need| match Runbook::embedded().step(*need).scope {
                Scope::Global => Unit::global(*need),
                Scope::Bucket => Unit {
                    step: *need,
                    bucket: unit.bucket.clone(),
                },
            })
            .filter(|u| all.contains(u))
            .collect()
    }

    /// The rows to run again when the person re-runs `unit`: the probe steps bring their
    /// upload along (a probe is deleted at the end of each run), and everything that
    /// depends on a re-run row runs again too.
    pub fn rerun_set(&self, unit: &Unit) -> Vec<Unit> {
        let all = self.units();
        let mut set: BTreeSet<Unit> = BTreeSet::from([unit.clone()]);
        if matches!(
            unit.step,
            StepId::GetObject | StepId::PutObjectAcl | StepId::DeleteObject
        ) && let Some(b) = &unit.bucket
        {
            set.insert(Unit::for_bucket(StepId::PutObject, b));
        }
        loop {
            let before = set.len();
            for u in &all {
                if self.needs(u, &all).iter().any(|n| set.contains(n)) {
                    set.insert(u.clone());
                }
            }
            if set.len() == before {
                break;
            }
        }
        all.into_iter().filter(|u| set.contains(u)).collect()
    }

    /// Runs every row.
    pub async fn run_all(&self, tx: &UnboundedSender<EngineEvent>) {
        let all = self.units();
        self.run(&all, tx).await;
    }

    /// Runs `targets` (again, if they ran before) and whatever they need that has not run.
    pub async fn run(&self, targets: &[Unit], tx: &UnboundedSender<EngineEvent>) {
        let mut state = self.state.lock().await;
        let all = self.units();
        let mut todo: BTreeSet<Unit> = BTreeSet::new();
        let mut stack: Vec<Unit> = targets.to_vec();
        while let Some(u) = stack.pop() {
            if !all.contains(&u) || !todo.insert(u.clone()) {
                continue;
            }
            for need in self.needs(&u, &all) {
                if !state.results.contains_key(&need) {
                    stack.push(need);
                }
            }
        }
        for u in &todo {
            state.results.remove(u);
            if u.step == StepId::PutObject
                && let Some(b) = &u.bucket
            {
                state.buckets.entry(b.clone()).or_default().probe = None;
            }
        }
        let mut pending: Vec<Unit> = all.iter().filter(|u| todo.contains(u)).cloned().collect();
        let cache = Arc::new(checks::RunCache::default());
        let mut running: JoinSet<(StepOutcome, u64)> = JoinSet::new();
        let mut in_flight: HashMap<tokio::task::Id, (Unit, Instant)> = HashMap::new();
        let mut early_started = false;
        loop {
            if !early_started && state.session.is_some() {
                early_started = true;
                self.start_early(&state, &pending, &all, &cache);
            }
            let mut i = 0;
            while i < pending.len() {
                let needs = self.needs(&pending[i], &all);
                if !needs.iter().all(|n| state.results.contains_key(n)) {
                    i += 1;
                    continue;
                }
                let unit = pending.remove(i);
                if let Some(blocker) = needs.iter().find(|n| state.results[*n].blocking) {
                    let skipped = StepOutcome {
                        blocking: true,
                        ..StepOutcome::skip(format!("{NOT_RUN}: {} did not pass", blocker.step))
                    };
                    if checks::early::wrote_early(&cache, unit.step, unit.bucket.as_deref()) {
                        // Its upload went out before the blocker answered: remove what it
                        // wrote before the row is reported as skipped.
                        let cx = self.context(&state, &unit, &cache);
                        let handle = running
                            .spawn(async move { (checks::early::withdraw(&cx, skipped).await, 0) });
                        in_flight.insert(handle.id(), (unit, Instant::now()));
                        continue;
                    }
                    self.apply(&mut state, unit, skipped, 0, tx);
                    continue;
                }
                let cx = self.context(&state, &unit, &cache);
                let _ = tx.send(EngineEvent::Started(unit.clone()));
                let step = unit.step;
                let handle = running.spawn(async move {
                    let started = Instant::now();
                    let outcome = checks::run(step, &cx).await;
                    (
                        outcome,
                        u64::try_from(started.elapsed().as_millis()).unwrap_or(u64::MAX),
                    )
                });
                in_flight.insert(handle.id(), (unit, Instant::now()));
            }
            match running.join_next_with_id().await {
                None => break,
                Some(Ok((id, (outcome, elapsed)))) => {
                    if let Some((unit, _)) = in_flight.remove(&id) {
                        self.apply(&mut state, unit, outcome, elapsed, tx);
                    }
                }
                Some(Err(err)) => {
                    if let Some((unit, started)) = in_flight.remove(&err.id()) {
                        let outcome = StepOutcome {
                            status: Status::Fail,
                            ..StepOutcome::skip(format!("internal error in s3doctor: {err}"))
                        };
                        let elapsed = u64::try_from(started.elapsed().as_millis()).unwrap_or(0);
                        self.apply(&mut state, unit, outcome, elapsed, tx);
                    }
                }
            }
        }
        for unit in pending {
            self.apply(&mut state, unit, StepOutcome::skip(NOT_RUN), 0, tx);
        }
        cache.early.finish().await;
        let _ = tx.send(EngineEvent::Done);
    }

    /// Once the session exists, the first calls of the steps that need only it go out at
    /// once (see `checks::early`) for every pending row still waiting for other steps.
    fn start_early(
        &self,
        state: &State,
        pending: &[Unit],
        all: &[Unit],
        cache: &Arc<checks::RunCache>,
    ) {
        for unit in pending {
            let waiting = self
                .needs(unit, all)
                .iter()
                .any(|n| !state.results.contains_key(n));
            if waiting && checks::early::starts_early(unit.step) {
                checks::early::start(unit.step, &self.context(state, unit, cache));
            }
        }
    }

    fn context(&self, state: &State, unit: &Unit, cache: &Arc<checks::RunCache>) -> CheckContext {
        let bucket_state = unit
            .bucket
            .as_ref()
            .and_then(|b| state.buckets.get(b).cloned())
            .unwrap_or_default();
        CheckContext {
            settings: self.settings.clone(),
            run: self.run.clone(),
            session: state.session.clone(),
            admin: self.admin.clone(),
            cache: cache.clone(),
            identity: state.identity.clone(),
            bucket: unit.bucket.clone(),
            state: bucket_state,
            probe_key: format!("{}probe-{}", self.run.prefix, uuid::Uuid::new_v4()),
        }
    }

    fn apply(
        &self,
        state: &mut State,
        unit: Unit,
        outcome: StepOutcome,
        elapsed_ms: u64,
        tx: &UnboundedSender<EngineEvent>,
    ) {
        let mut session_changed = false;
        for fact in outcome.facts {
            let bucket = unit.bucket.clone().unwrap_or_default();
            match fact {
                Fact::Session(s) => {
                    state.session = Some(s);
                    session_changed = true;
                }
                Fact::Identity(i) => {
                    state.identity = Some(i);
                    session_changed = true;
                }
                Fact::BucketRegion(r) => {
                    state.buckets.entry(bucket).or_default().bucket_region = Some(r)
                }
                Fact::UseRegion(r) => state.buckets.entry(bucket).or_default().use_region = Some(r),
                Fact::RegionMismatch => {
                    state.buckets.entry(bucket).or_default().region_mismatch = true
                }
                Fact::ProbeWritten(k) => state.buckets.entry(bucket).or_default().probe = Some(k),
                Fact::ProbeDeleted => state.buckets.entry(bucket).or_default().probe = None,
                Fact::ExistingKey(k) => {
                    state.buckets.entry(bucket).or_default().existing_key = Some(k)
                }
                Fact::KmsKey(k) => state.buckets.entry(bucket).or_default().kms_key = Some(k),
                Fact::UploadEncryption(e) => {
                    state.buckets.entry(bucket).or_default().upload_encryption = Some(e)
                }
                Fact::Owner(o) => state.buckets.entry(bucket).or_default().owner = Some(o),
                Fact::Endpoint(c) => {
                    state.endpoint = Some(c);
                    session_changed = true;
                }
            }
        }
        if session_changed {
            let _ = tx.send(EngineEvent::Session(session_info(state)));
        }
        let ran = !(outcome.status == Status::Skip && outcome.detail.starts_with(NOT_RUN));
        let mut findings = outcome.findings;
        if outcome.status == Status::Fail && !findings.iter().any(Finding::is_error) {
            // A failed step always says why, even when its check found no words for it.
            findings.push(unexplained_failure(
                &unit,
                &outcome.detail,
                &outcome.evidence,
            ));
        }
        let result = StepResult {
            id: unit.step,
            bucket: unit.bucket.clone(),
            status: outcome.status,
            elapsed_ms,
            detail: outcome.detail,
            evidence: outcome.evidence,
            findings,
            blocking: outcome.blocking,
            ran,
        };
        state.results.insert(unit, result.clone());
        let _ = tx.send(EngineEvent::Finished(result));
    }

    /// Every finished row, in display order.
    pub async fn results(&self) -> Vec<StepResult> {
        let state = self.state.lock().await;
        self.units()
            .iter()
            .filter_map(|u| state.results.get(u).cloned())
            .collect()
    }

    /// What is known about the session so far.
    pub async fn session_info(&self) -> SessionInfo {
        session_info(&*self.state.lock().await)
    }

    /// The resolved session, once the credentials step has passed.
    pub async fn session(&self) -> Option<Arc<Session>> {
        self.state.lock().await.session.clone()
    }
}

/// How a skipped row that never ran starts its detail.
const NOT_RUN: &str = "not run";

/// The finding for a failed step that brought none: what came back, as it came.
fn unexplained_failure(unit: &Unit, detail: &str, evidence: &Option<Evidence>) -> Finding {
    let evidence = evidence.clone().unwrap_or_else(|| Evidence {
        operation: unit.step.as_str().to_owned(),
        message: Some(detail.to_owned()),
        ..Evidence::default()
    });
    crate::diagnose::FindingSpec {
        code: crate::finding::FindingCode::UnexpectedAnswer,
        step: unit.step,
        facts: crate::diagnose::Facts {
            bucket: unit.bucket.as_deref(),
            ..Default::default()
        },
        source: None,
        statement: None,
        evidence: Some(evidence),
    }
    .build()
}

fn session_info(state: &State) -> SessionInfo {
    SessionInfo {
        region: state.session.as_ref().and_then(|s| s.region.clone()),
        credential_source: state.session.as_ref().map(|s| s.credential_source.clone()),
        key_id_hint: state.session.as_ref().map(|s| s.key_id_hint.clone()),
        identity: state.identity.clone(),
        endpoint: state.endpoint.clone(),
    }
}
