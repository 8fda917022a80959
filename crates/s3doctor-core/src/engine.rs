//! Runs the runbook: schedules steps as soon as the steps they need have finished (so
//! independent steps and buckets run concurrently), keeps what they learned, and reports
//! every start and finish as an `EngineEvent`. The wizard and `check` are two views on it.
//! Each step's runbook `mode` is enforced here and only here: which rows a run has (`acl`,
//! `origin`, `admin`), and that a read-only run skips every step that writes.

use std::collections::{BTreeSet, HashMap};
use std::sync::Arc;
use std::time::Instant;

use futures::future::BoxFuture;
use serde::Serialize;
use tokio::sync::{Mutex, mpsc::UnboundedSender};
use tokio::task::JoinSet;

use crate::aws::{self, Session};
use crate::checks::{
    self, BucketState, CheckContext, Fact, Identity, RunSettings, Status, StepOutcome,
};
use crate::finding::{Evidence, Finding};
use crate::runbook::{Mode, Runbook, Scope, StepId};

/// One row of the checklist: a step, for the whole run, for one bucket, or for one of the
/// app's own objects (`--key`) in a bucket.
#[derive(Clone, Debug, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize)]
pub struct Row {
    pub step: StepId,
    pub bucket: Option<String>,
    /// The app's object (`--key`) of an `object`-scoped step.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub key: Option<String>,
}

impl Row {
    pub fn global(step: StepId) -> Self {
        Row {
            step,
            bucket: None,
            key: None,
        }
    }
    pub fn for_bucket(step: StepId, bucket: &str) -> Self {
        Row {
            step,
            bucket: Some(bucket.to_owned()),
            key: None,
        }
    }
    pub fn for_object(step: StepId, bucket: &str, key: &str) -> Self {
        Row {
            step,
            bucket: Some(bucket.to_owned()),
            key: Some(key.to_owned()),
        }
    }
}

/// A finished step, as the reports show it.
#[derive(Clone, Debug, Serialize)]
pub struct StepResult {
    pub id: StepId,
    pub bucket: Option<String>,
    /// The app's object (`--key`) of an `app-object` row.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub key: Option<String>,
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
    pub fn unit(&self) -> Row {
        Row {
            step: self.id,
            bucket: self.bucket.clone(),
            key: self.key.clone(),
        }
    }

    /// Tests: `step` on clipizy-dev failed with `code` for s3:PutObject (incident 1's shape).
    #[cfg(any(test, feature = "test-util"))]
    pub fn failed_for_tests(step: StepId, code: crate::finding::FindingCode) -> Self {
        let finding = crate::answers::FindingSpec {
            code,
            step,
            facts: crate::answers::Facts {
                bucket: Some("clipizy-dev"),
                action: Some("s3:PutObject"),
                ..Default::default()
            },
            source: None,
            statement: None,
            evidence: None,
        }
        .build();
        StepResult {
            id: step,
            bucket: Some("clipizy-dev".into()),
            key: None,
            status: Status::Fail,
            elapsed_ms: 1,
            detail: "access denied".into(),
            evidence: None,
            findings: vec![finding],
            blocking: false,
            ran: true,
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
    /// The VPC EC2 says the `--vpce` endpoint is in, once its read answered: the app's
    /// network is judged with it (`app_network::Judged::of_session`).
    pub described_endpoint: Option<crate::app_network::DescribedEndpoint>,
}

/// What the engine tells its views.
#[derive(Clone, Debug)]
#[allow(clippy::large_enum_variant)] // a few dozen events a run: boxing one would save nothing
pub enum EngineEvent {
    Started(Row),
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
    described_endpoint: Option<crate::app_network::DescribedEndpoint>,
    buckets: HashMap<String, BucketState>,
    results: HashMap<Row, StepResult>,
    /// The statement a refused role's trust policy needs, until credentials resolve.
    trust_fix: Option<Arc<checks::TrustFix>>,
}

/// One run's scheduling: rows waiting for their needs, and the checks under way.
struct Schedule {
    pending: Vec<Row>,
    cache: Arc<checks::RunCache>,
    running: JoinSet<(StepOutcome, u64)>,
    in_flight: HashMap<tokio::task::Id, (Row, Instant)>,
    early_started: bool,
}

/// Runs one step's check: `checks::run` in s3doctor, a stand-in in the scheduler's tests.
type Check = Arc<dyn Fn(StepId, CheckContext) -> BoxFuture<'static, StepOutcome> + Send + Sync>;

/// The engine: cheap to clone; runs are serialised so that state stays consistent.
#[derive(Clone)]
pub struct Engine {
    settings: Arc<aws::Settings>,
    admin: Option<Arc<aws::Settings>>,
    run: Arc<RunSettings>,
    state: Arc<Mutex<State>>,
    check: Check,
}

impl Engine {
    pub fn new(settings: aws::Settings, run: RunSettings) -> Self {
        Engine {
            settings: Arc::new(settings),
            admin: None,
            run: Arc::new(run),
            state: Arc::default(),
            check: Arc::new(|step, cx| Box::pin(async move { checks::run(step, &cx).await })),
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

    /// Replaces the app's own objects (`--key`; the wizard's `o` adds one): their rows join
    /// the checklist, and what was learned so far is kept.
    pub fn set_keys(&mut self, keys: Vec<String>) {
        let mut run = (*self.run).clone();
        run.keys = keys;
        self.run = Arc::new(run);
    }

    /// Checks as `role` from now on (the wizard's pasted error names the app's role): the
    /// next run resolves the credentials again and assumes it, as `--role-arn` does. What was
    /// learned as the previous principal is dropped with its session.
    pub fn set_role(&mut self, role: aws::RoleToAssume) {
        let mut settings = (*self.settings).clone();
        settings.role = Some(role);
        self.settings = Arc::new(settings);
        self.state = Arc::default();
    }

    /// Replaces the app's network (a pasted error named where its request came from).
    pub fn set_network(&mut self, network: crate::policy::AppNetwork) {
        let mut run = (*self.run).clone();
        run.network = network;
        self.run = Arc::new(run);
    }

    pub fn settings(&self) -> &aws::Settings {
        &self.settings
    }

    pub fn run_settings(&self) -> &RunSettings {
        &self.run
    }

    /// The checklist rows for this run, in display order (ACL only with `--access full`).
    pub fn units(&self) -> Vec<Row> {
        let runbook = Runbook::embedded();
        let mut units: Vec<Row> = runbook
            .steps
            .iter()
            .filter(|s| s.scope == Scope::Global)
            .map(|s| Row::global(s.id))
            .collect();
        for bucket in &self.run.buckets {
            for step in runbook.steps.iter().filter(|s| self.includes(s.mode)) {
                match step.scope {
                    Scope::Global => {}
                    Scope::Bucket => units.push(Row::for_bucket(step.id, bucket)),
                    Scope::Object => units.extend(
                        self.run
                            .keys
                            .iter()
                            .map(|key| Row::for_object(step.id, bucket, key)),
                    ),
                }
            }
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
    fn needs(&self, unit: &Row, all: &[Row]) -> Vec<Row> {
        Runbook::embedded()
            .step(unit.step)
            .needs
            .iter()
            .map(|need| match Runbook::embedded().step(*need).scope {
                Scope::Global => Row::global(*need),
                Scope::Bucket => Row {
                    step: *need,
                    bucket: unit.bucket.clone(),
                    key: None,
                },
                Scope::Object => Row {
                    step: *need,
                    ..unit.clone()
                },
            })
            .filter(|u| all.contains(u))
            .collect()
    }

    /// The rows to run again when the person re-runs `unit`: the probe steps bring their
    /// upload along (a probe is deleted at the end of each run), and everything that
    /// depends on a re-run row runs again too.
    pub fn rerun_set(&self, unit: &Row) -> Vec<Row> {
        let all = self.units();
        let mut set: BTreeSet<Row> = BTreeSet::from([unit.clone()]);
        if matches!(
            unit.step,
            StepId::GetObject | StepId::PutObjectAcl | StepId::DeleteObject
        ) && let Some(b) = &unit.bucket
        {
            set.insert(Row::for_bucket(StepId::PutObject, b));
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
    pub async fn run(&self, targets: &[Row], tx: &UnboundedSender<EngineEvent>) {
        let mut state = self.state.lock().await;
        let all = self.units();
        let todo = self.to_run(&state, targets, &all);
        if forget(&mut state, &todo) {
            let _ = tx.send(EngineEvent::Session(session_info(&state)));
        }
        let mut sched = Schedule {
            pending: all.iter().filter(|u| todo.contains(u)).cloned().collect(),
            cache: Arc::new(checks::RunCache::default()),
            running: JoinSet::new(),
            in_flight: HashMap::new(),
            early_started: false,
        };
        loop {
            if !sched.early_started && state.session.is_some() {
                sched.early_started = true;
                self.start_early(&state, &sched.pending, &all, &sched.cache);
            }
            self.start_ready(&mut state, &mut sched, &all, tx);
            let joined = tokio::select! {
                joined = sched.running.join_next_with_id() => joined,
                // An early call ended: what it proved may let a row start.
                () = sched.cache.early.any_ended() => continue,
            };
            let Some(joined) = joined else {
                break;
            };
            self.finish(&mut state, &mut sched, joined, tx);
        }
        for unit in std::mem::take(&mut sched.pending) {
            self.apply(&mut state, unit, StepOutcome::not_run(NOT_RUN), 0, tx);
        }
        sched.cache.early.finish().await;
        let _ = tx.send(EngineEvent::Done);
    }

    /// `targets`, and every row they need (transitively) that has no result yet.
    fn to_run(&self, state: &State, targets: &[Row], all: &[Row]) -> BTreeSet<Row> {
        let mut todo: BTreeSet<Row> = BTreeSet::new();
        let mut stack: Vec<Row> = targets.to_vec();
        while let Some(u) = stack.pop() {
            if !all.contains(&u) || !todo.insert(u.clone()) {
                continue;
            }
            for need in self.needs(&u, all) {
                if !state.results.contains_key(&need) {
                    stack.push(need);
                }
            }
        }
        todo
    }

    /// Starts every pending row whose needs have all finished: skipped at once when one of
    /// them blocks, or when the runbook's mode rules it out for this run; else its check.
    fn start_ready(
        &self,
        state: &mut State,
        sched: &mut Schedule,
        all: &[Row],
        tx: &UnboundedSender<EngineEvent>,
    ) {
        let mut i = 0;
        while i < sched.pending.len() {
            let unit = &sched.pending[i];
            let needs: Vec<Row> = self
                .needs(unit, all)
                .into_iter()
                .filter(|n| !met_early(n, unit, &sched.cache))
                .collect();
            if !needs.iter().all(|n| state.results.contains_key(n)) {
                i += 1;
                continue;
            }
            let unit = sched.pending.remove(i);
            if let Some(blocker) = needs.iter().find(|n| state.results[*n].blocking) {
                let skipped = StepOutcome {
                    blocking: true,
                    ..StepOutcome::not_run(format!("{NOT_RUN}: {} did not pass", blocker.step))
                };
                self.skip_blocked(state, sched, unit, skipped, tx);
                continue;
            }
            let _ = tx.send(EngineEvent::Started(unit.clone()));
            if let Some(skipped) = self.ruled_out(unit.step) {
                self.apply(state, unit, skipped, 0, tx);
                continue;
            }
            let cx = self.context(state, &unit, &sched.cache);
            let check = self.check.clone();
            let step = unit.step;
            let handle = sched.running.spawn(async move {
                let started = Instant::now();
                let outcome = check(step, cx).await;
                (
                    outcome,
                    u64::try_from(started.elapsed().as_millis()).unwrap_or(u64::MAX),
                )
            });
            sched.in_flight.insert(handle.id(), (unit, Instant::now()));
        }
    }

    /// The runbook's `mode`, enforced here and nowhere else: a read-only run skips every step
    /// that writes, before its check could send anything.
    fn ruled_out(&self, step: StepId) -> Option<StepOutcome> {
        let writes = Runbook::embedded().step(step).mode.writes();
        (writes && self.run.read_only).then(|| StepOutcome::skip(READ_ONLY))
    }

    /// Reports a row skipped because a need blocks; a `put-object` whose upload went out
    /// early first removes what it wrote.
    fn skip_blocked(
        &self,
        state: &mut State,
        sched: &mut Schedule,
        unit: Row,
        skipped: StepOutcome,
        tx: &UnboundedSender<EngineEvent>,
    ) {
        if checks::early::sent_early(&sched.cache, unit.step, unit.bucket.as_deref()) {
            // Its upload went out before the blocker answered: remove what it wrote before
            // the row is reported as skipped.
            let cx = self.context(state, &unit, &sched.cache);
            let handle = sched
                .running
                .spawn(async move { (checks::early::withdraw(&cx, skipped).await, 0) });
            sched.in_flight.insert(handle.id(), (unit, Instant::now()));
            return;
        }
        self.apply(state, unit, skipped, 0, tx);
    }

    /// Takes a finished task's outcome; a task that panicked is a failed step.
    fn finish(
        &self,
        state: &mut State,
        sched: &mut Schedule,
        joined: Result<(tokio::task::Id, (StepOutcome, u64)), tokio::task::JoinError>,
        tx: &UnboundedSender<EngineEvent>,
    ) {
        match joined {
            Ok((id, (outcome, elapsed))) => {
                self.learn_endpoint(state, &sched.cache, tx);
                if let Some((unit, _)) = sched.in_flight.remove(&id) {
                    self.apply(state, unit, outcome, elapsed, tx);
                }
            }
            Err(err) => {
                if let Some((unit, started)) = sched.in_flight.remove(&err.id()) {
                    let outcome = StepOutcome {
                        status: Status::Fail,
                        ..StepOutcome::skip(format!("internal error in s3doctor: {err}"))
                    };
                    let elapsed = u64::try_from(started.elapsed().as_millis()).unwrap_or(0);
                    self.apply(state, unit, outcome, elapsed, tx);
                }
            }
        }
    }

    /// Keeps the VPC EC2 says the app's endpoint is in once the endpoint's read (started
    /// early) has answered, and tells the views before the row that judged with it: the
    /// headers then name the network the findings were judged for.
    fn learn_endpoint(
        &self,
        state: &mut State,
        cache: &checks::RunCache,
        tx: &UnboundedSender<EngineEvent>,
    ) {
        let vpc = cache.endpoint_path.get().and_then(|p| p.vpc.clone());
        let (Some(vpc), Some(vpce)) = (vpc, self.run.network.vpce.clone()) else {
            return;
        };
        let described = crate::app_network::DescribedEndpoint { vpce, vpc };
        if state.described_endpoint.as_ref() != Some(&described) {
            state.described_endpoint = Some(described);
            let _ = tx.send(EngineEvent::Session(session_info(state)));
        }
    }

    /// Once the session exists, the first calls of the steps that need only it go out at
    /// once (see `checks::early`) for every pending row still waiting for other steps, unless
    /// the run rules the step out (no early upload in a read-only run).
    fn start_early(
        &self,
        state: &State,
        pending: &[Row],
        all: &[Row],
        cache: &Arc<checks::RunCache>,
    ) {
        for unit in pending {
            let waiting = self
                .needs(unit, all)
                .iter()
                .any(|n| !state.results.contains_key(n));
            if waiting
                && checks::early::starts_early(unit.step)
                && self.ruled_out(unit.step).is_none()
            {
                checks::early::start(unit.step, &self.context(state, unit, cache));
            }
        }
        // The VPC endpoint's description, which the steps that judge from the app's network
        // (the two policy steps, the app's objects) await before they judge.
        if let Some(unit) = pending.iter().find(|u| judges_from_the_app_network(u.step)) {
            checks::vpc_endpoint::start_early(&self.context(state, unit, cache));
        }
    }

    fn context(&self, state: &State, unit: &Row, cache: &Arc<checks::RunCache>) -> CheckContext {
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
            key: unit.key.clone(),
            state: bucket_state,
            probe_key: crate::checks::probe::ProbeKey::new(&self.run.prefix),
            server: crate::server::Server::default(),
        }
    }

    /// Keeps what a finished row learned and reports it.
    fn apply(
        &self,
        state: &mut State,
        unit: Row,
        outcome: StepOutcome,
        elapsed_ms: u64,
        tx: &UnboundedSender<EngineEvent>,
    ) {
        let bucket = unit.bucket.clone().unwrap_or_default();
        let mut session_changed = false;
        for fact in outcome.facts {
            // Every fact is kept (no short-circuit), whether or not an earlier one changed
            // the session.
            session_changed |= learn(state, &bucket, fact);
        }
        if session_changed {
            let _ = tx.send(EngineEvent::Session(session_info(state)));
        }
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
            key: unit.key.clone(),
            status: outcome.status,
            elapsed_ms,
            detail: outcome.detail,
            evidence: outcome.evidence,
            findings,
            blocking: outcome.blocking,
            ran: outcome.ran,
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

    /// The statement a refused role's trust policy needs (read with `--admin-profile`), while
    /// the credentials step fails for it.
    pub async fn trust_fix(&self) -> Option<Arc<checks::TrustFix>> {
        self.state.lock().await.trust_fix.clone()
    }

    /// The resolved session, once the credentials step has passed.
    pub async fn session(&self) -> Option<Arc<Session>> {
        self.state.lock().await.session.clone()
    }

    /// The buckets the diagnosed credentials may list (ListBuckets), for the wizard's bucket
    /// prompt; `None` before the credentials step passed or when the listing is refused.
    pub async fn bucket_names(&self) -> Option<Vec<String>> {
        let session = self.session().await?;
        let out = session.clients.s3.list_buckets().send().await.ok()?;
        let names = out
            .buckets()
            .iter()
            .filter_map(|b| b.name().map(str::to_owned));
        Some(names.collect())
    }
}

/// A need the run's own requests have met already: once an early call to the bucket
/// succeeded (the listing or the upload), its region is proven, so those two steps take their
/// answers without waiting for `bucket-region` (GetBucketLocation, when HeadBucket did not
/// name the region), and the download behind them starts a round trip sooner.
fn met_early(need: &Row, unit: &Row, cache: &checks::RunCache) -> bool {
    need.step == StepId::BucketRegion
        && checks::early::starts_early(unit.step)
        && unit
            .bucket
            .as_deref()
            .is_some_and(|b| cache.early.region_proven(b))
}

/// How a skipped row that never ran starts its detail.
const NOT_RUN: &str = "not run";

/// Why a step that writes is skipped in a read-only run.
const READ_ONLY: &str = "--read-only: no writes";

/// Forgets the results of the rows about to run again; a re-run upload writes a new probe,
/// and a re-run step that judges from the app's network reads the VPC endpoint again, so what
/// EC2 said of it is forgotten until it answers (true then: the session changed).
fn forget(state: &mut State, todo: &BTreeSet<Row>) -> bool {
    for u in todo {
        state.results.remove(u);
        if u.step == StepId::PutObject
            && let Some(b) = &u.bucket
        {
            state.buckets.entry(b.clone()).or_default().probe = None;
        }
    }
    let rereads = todo.iter().any(|u| judges_from_the_app_network(u.step));
    rereads && state.described_endpoint.take().is_some()
}

/// The steps that judge from the app's network, which await the VPC endpoint's read.
fn judges_from_the_app_network(step: StepId) -> bool {
    matches!(
        step,
        StepId::BucketPolicy | StepId::IdentityPolicies | StepId::AppObject
    )
}

fn bucket_state<'a>(
    buckets: &'a mut HashMap<String, BucketState>,
    bucket: &str,
) -> &'a mut BucketState {
    buckets.entry(bucket.to_owned()).or_default()
}

/// Keeps one fact a step learned; true when it changed what is known about the session.
fn learn(state: &mut State, bucket: &str, fact: Fact) -> bool {
    let b = &mut state.buckets;
    match fact {
        Fact::BucketRegion(r) => bucket_state(b, bucket).bucket_region = Some(r),
        Fact::UseRegion(r) => bucket_state(b, bucket).use_region = Some(r),
        Fact::RegionMismatch => bucket_state(b, bucket).region_mismatch = true,
        Fact::ProbeWritten(k) => bucket_state(b, bucket).probe = Some(k),
        Fact::ProbeDeleted => bucket_state(b, bucket).probe = None,
        Fact::ExistingKey(k) => bucket_state(b, bucket).existing_key = Some(k),
        Fact::KmsKey(k) => bucket_state(b, bucket).kms_key = Some(k),
        Fact::UploadEncryption(e) => bucket_state(b, bucket).upload_encryption = Some(e),
        Fact::Owner(o) => bucket_state(b, bucket).owner = Some(o),
        Fact::Listing(l) => bucket_state(b, bucket).listing = Some(l),
        Fact::Session(s) => {
            state.session = Some(s);
            state.trust_fix = None;
            return true;
        }
        Fact::TrustFix(fix) => state.trust_fix = Some(fix),
        Fact::Identity(i) => {
            state.identity = Some(i);
            return true;
        }
        Fact::RoleArn(arn) => {
            if let Some(i) = &mut state.identity {
                i.learn_role_arn(&arn);
                return true;
            }
        }
        Fact::Endpoint(c) => {
            state.endpoint = Some(c);
            return true;
        }
    }
    false
}

/// The finding for a failed step that brought none: what came back, as it came.
fn unexplained_failure(unit: &Row, detail: &str, evidence: &Option<Evidence>) -> Finding {
    let evidence = evidence.clone().unwrap_or_else(|| Evidence {
        operation: unit.step.as_str().to_owned(),
        message: Some(detail.to_owned()),
        ..Evidence::default()
    });
    crate::answers::FindingSpec {
        code: crate::finding::FindingCode::UnexpectedAnswer,
        step: unit.step,
        facts: crate::answers::Facts {
            bucket: unit.bucket.as_deref(),
            object: unit.key.as_deref(),
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
        described_endpoint: state.described_endpoint.clone(),
    }
}

#[cfg(test)]
mod tests {
    //! The scheduler against a stand-in check: which rows run, in which order, which are
    //! skipped and why, and which run at the same time. No AWS call is made.

    use std::sync::Mutex as StdMutex;

    use tokio::sync::mpsc;

    use super::*;
    use crate::checks::Status;
    use crate::policy::Access;

    /// What the stand-in check saw, in order: `(true, unit)` at a start, `(false, unit)` at
    /// an end.
    type Log = Arc<StdMutex<Vec<(bool, Row)>>>;

    fn engine(run: RunSettings, check: Check) -> Engine {
        Engine {
            check,
            ..Engine::new(aws::Settings::default(), run)
        }
    }

    fn two_buckets() -> RunSettings {
        RunSettings {
            buckets: vec!["b1".into(), "b2".into()],
            ..RunSettings::default()
        }
    }

    fn unit(cx: &CheckContext, step: StepId) -> Row {
        Row {
            step,
            bucket: cx.bucket.clone(),
            key: cx.key.clone(),
        }
    }

    /// A check that logs its start and end, yielding in between so that other tasks run.
    fn logging(log: &Log, outcome: fn(StepId) -> StepOutcome) -> Check {
        let log = log.clone();
        Arc::new(move |step, cx| {
            let log = log.clone();
            Box::pin(async move {
                let u = unit(&cx, step);
                log.lock().unwrap().push((true, u.clone()));
                for _ in 0..3 {
                    tokio::task::yield_now().await;
                }
                log.lock().unwrap().push((false, u));
                outcome(step)
            })
        })
    }

    async fn run_all(engine: &Engine) -> Vec<EngineEvent> {
        let (tx, mut rx) = mpsc::unbounded_channel();
        engine.run_all(&tx).await;
        drop(tx);
        let mut events = Vec::new();
        while let Some(e) = rx.recv().await {
            events.push(e);
        }
        events
    }

    async fn result(engine: &Engine, step: StepId, bucket: Option<&str>) -> StepResult {
        engine
            .results()
            .await
            .into_iter()
            .find(|r| r.id == step && r.bucket.as_deref() == bucket)
            .unwrap_or_else(|| panic!("no result for {step} {bucket:?}"))
    }

    /// What EC2 said of the app's endpoint reaches the views through the event channel
    /// before the row that judged with it, and is forgotten when that row runs again without
    /// an answer (the headers never name a VPC the findings were not judged with).
    #[tokio::test]
    async fn the_endpoints_vpc_is_told_before_the_row_that_judged_with_it() {
        let run = RunSettings {
            buckets: vec!["b1".into()],
            network: crate::policy::AppNetwork {
                vpc: Some("vpc-0typed".into()),
                vpce: Some("vpce-1".into()),
                ..crate::policy::AppNetwork::default()
            },
            ..RunSettings::default()
        };
        let answered = Arc::new(std::sync::atomic::AtomicBool::new(true));
        let answers = answered.clone();
        let check: Check = Arc::new(move |step, cx| {
            let answers = answers.load(std::sync::atomic::Ordering::SeqCst);
            Box::pin(async move {
                if step == StepId::BucketPolicy && answers {
                    let path = checks::conditions::EndpointPath {
                        vpc: Some("vpc-0ec2".into()),
                        ..Default::default()
                    };
                    let _ = cx.cache.endpoint_path.set(path);
                }
                StepOutcome::pass("fine")
            })
        });
        let engine = engine(run, check);
        let events = run_all(&engine).await;
        let ec2 = crate::app_network::DescribedEndpoint {
            vpce: "vpce-1".into(),
            vpc: "vpc-0ec2".into(),
        };
        let told = events.iter().position(
            |e| matches!(e, EngineEvent::Session(i) if i.described_endpoint.as_ref() == Some(&ec2)),
        );
        let judged = events
            .iter()
            .position(|e| matches!(e, EngineEvent::Finished(r) if r.id == StepId::BucketPolicy));
        assert!(told.is_some() && told < judged, "{events:?}");
        assert_eq!(engine.session_info().await.described_endpoint, Some(ec2));
        // Run again without an answer: forgotten, and the views are told.
        answered.store(false, std::sync::atomic::Ordering::SeqCst);
        let (tx, mut rx) = mpsc::unbounded_channel();
        engine
            .run(&[Row::for_bucket(StepId::BucketPolicy, "b1")], &tx)
            .await;
        drop(tx);
        let mut forgot = false;
        while let Some(e) = rx.recv().await {
            forgot |= matches!(e, EngineEvent::Session(i) if i.described_endpoint.is_none());
        }
        assert!(forgot);
        assert_eq!(engine.session_info().await.described_endpoint, None);
    }

    #[tokio::test]
    async fn a_step_starts_only_after_every_step_it_needs_has_finished() {
        let log: Log = Arc::default();
        let engine = engine(two_buckets(), logging(&log, |_| StepOutcome::pass("fine")));
        run_all(&engine).await;
        let log = log.lock().unwrap().clone();
        let all = engine.units();
        for u in &all {
            let start = log
                .iter()
                .position(|e| *e == (true, u.clone()))
                .unwrap_or_else(|| panic!("{u:?} never ran"));
            for need in engine.needs(u, &all) {
                let end = log
                    .iter()
                    .position(|e| *e == (false, need.clone()))
                    .unwrap_or_else(|| panic!("{need:?} never finished"));
                assert!(end < start, "{u:?} started before {need:?} finished");
            }
        }
        assert_eq!(log.len(), 2 * all.len(), "every row runs exactly once");
        // The needs are this run's rows: the download waits for the upload and the listing.
        assert_eq!(
            engine.needs(&Row::for_bucket(StepId::GetObject, "b1"), &all),
            [
                Row::for_bucket(StepId::PutObject, "b1"),
                Row::for_bucket(StepId::ListObjects, "b1")
            ]
        );
    }

    #[tokio::test]
    async fn a_blocking_failure_skips_what_needs_it_and_says_which_step() {
        let log: Log = Arc::default();
        let engine = engine(
            two_buckets(),
            logging(&log, |step| match step {
                StepId::Credentials => StepOutcome {
                    blocking: true,
                    ..StepOutcome::failed("no keys")
                },
                _ => StepOutcome::pass("fine"),
            }),
        );
        run_all(&engine).await;
        let ran: Vec<Row> = log
            .lock()
            .unwrap()
            .iter()
            .filter(|(start, _)| *start)
            .map(|(_, u)| u.clone())
            .collect();
        assert_eq!(ran, [Row::global(StepId::Credentials)]);
        let identity = result(&engine, StepId::Identity, None).await;
        assert_eq!(identity.status, Status::Skip);
        assert_eq!(identity.detail, "not run: credentials did not pass");
        assert!(!identity.ran && identity.blocking);
        // Skips pass the block on: list-objects needs identity, which was skipped.
        let list = result(&engine, StepId::ListObjects, Some("b2")).await;
        assert_eq!(list.status, Status::Skip);
        assert!(
            list.detail.starts_with("not run: ") && list.detail.ends_with(" did not pass"),
            "{}",
            list.detail
        );
        assert!(!list.ran);
    }

    #[tokio::test]
    async fn a_failure_that_does_not_block_lets_the_steps_after_it_run() {
        let log: Log = Arc::default();
        let engine = engine(
            two_buckets(),
            logging(&log, |step| match step {
                StepId::ListObjects => StepOutcome::failed("listing refused"),
                _ => StepOutcome::pass("fine"),
            }),
        );
        run_all(&engine).await;
        let get = result(&engine, StepId::GetObject, Some("b1")).await;
        assert_eq!((get.status, get.ran), (Status::Pass, true));
        // The failed step still says why: the engine adds the finding its check lacked.
        let list = result(&engine, StepId::ListObjects, Some("b1")).await;
        assert_eq!(list.status, Status::Fail);
        assert!(list.findings.iter().any(Finding::is_error));
    }

    #[tokio::test]
    async fn independent_steps_run_at_the_same_time() {
        // The two buckets' bucket-exists rows need only the credentials. Each waits, yielding,
        // until it has seen the other start: run one after the other, neither would see it.
        let started: Arc<StdMutex<Vec<Row>>> = Arc::default();
        let overlapped: Arc<StdMutex<Vec<Row>>> = Arc::default();
        let (s, o) = (started.clone(), overlapped.clone());
        let check: Check = Arc::new(move |step, cx| {
            let (started, overlapped) = (s.clone(), o.clone());
            Box::pin(async move {
                let me = unit(&cx, step);
                started.lock().unwrap().push(me.clone());
                if step == StepId::BucketExists {
                    let other = if me.bucket.as_deref() == Some("b1") {
                        "b2"
                    } else {
                        "b1"
                    };
                    let other = Row::for_bucket(StepId::BucketExists, other);
                    for _ in 0..1000 {
                        if started.lock().unwrap().contains(&other) {
                            overlapped.lock().unwrap().push(me.clone());
                            break;
                        }
                        tokio::task::yield_now().await;
                    }
                }
                StepOutcome::pass("fine")
            })
        });
        let engine = engine(two_buckets(), check);
        let events = run_all(&engine).await;
        let mut seen = overlapped.lock().unwrap().clone();
        seen.sort();
        assert_eq!(
            seen,
            [
                Row::for_bucket(StepId::BucketExists, "b1"),
                Row::for_bucket(StepId::BucketExists, "b2"),
            ],
            "each bucket-exists saw the other one under way"
        );
        // The views are told so too: both started before either finished.
        let position = |want: &dyn Fn(&EngineEvent) -> bool| events.iter().position(want).unwrap();
        let first_finish =
            position(&|e| matches!(e, EngineEvent::Finished(r) if r.id == StepId::BucketExists));
        for b in ["b1", "b2"] {
            let u = Row::for_bucket(StepId::BucketExists, b);
            let start = position(&|e| matches!(e, EngineEvent::Started(s) if *s == u));
            assert!(start < first_finish, "{b} started after the other finished");
        }
    }

    /// The steps the stand-in check was asked to run, and the engine with their results.
    async fn run_with(run: RunSettings) -> (Vec<StepId>, Engine) {
        let log: Log = Arc::default();
        let engine = engine(run, logging(&log, |_| StepOutcome::pass("fine")));
        run_all(&engine).await;
        let mut ran: Vec<StepId> = log
            .lock()
            .unwrap()
            .iter()
            .filter(|(start, _)| *start)
            .map(|(_, u)| u.step)
            .collect();
        ran.sort();
        ran.dedup();
        (ran, engine)
    }

    const WRITES: [StepId; 4] = [
        StepId::PutObject,
        StepId::PutObjectAcl,
        StepId::DeleteObject,
        StepId::MultipartUpload,
    ];

    #[tokio::test]
    async fn a_read_only_run_never_starts_a_step_that_writes() {
        let full = RunSettings {
            buckets: vec!["b1".into()],
            access: Access::Full,
            read_only: true,
            ..RunSettings::default()
        };
        let (ran, engine) = run_with(full.clone()).await;
        for step in WRITES {
            assert!(!ran.contains(&step), "{step} ran in a read-only run");
            let r = result(&engine, step, Some("b1")).await;
            assert_eq!(r.status, Status::Skip, "{step}");
            assert_eq!(r.detail, "--read-only: no writes", "{step}");
            assert!(
                r.ran && !r.blocking,
                "{step}: skipped by design, not blocked"
            );
        }
        // What needs the upload still runs: the download reads an existing object instead.
        assert!(ran.contains(&StepId::GetObject));
        assert!(ran.contains(&StepId::BucketPolicy));
        // The same run with writes allowed starts every one of them.
        let (ran, _) = run_with(RunSettings {
            read_only: false,
            ..full
        })
        .await;
        for step in WRITES {
            assert!(
                ran.contains(&step),
                "{step} did not run with writes allowed"
            );
        }
    }

    #[tokio::test]
    async fn the_apps_objects_get_a_row_each_per_bucket_that_never_writes() {
        let run = RunSettings {
            keys: vec!["a/1.pdf".into(), "b 2.pdf".into()],
            read_only: true,
            ..two_buckets()
        };
        let (ran, engine) = run_with(run).await;
        let objects: Vec<Row> = engine
            .units()
            .into_iter()
            .filter(|u| u.step == StepId::AppObject)
            .collect();
        assert_eq!(
            objects,
            [
                Row::for_object(StepId::AppObject, "b1", "a/1.pdf"),
                Row::for_object(StepId::AppObject, "b1", "b 2.pdf"),
                Row::for_object(StepId::AppObject, "b2", "a/1.pdf"),
                Row::for_object(StepId::AppObject, "b2", "b 2.pdf"),
            ]
        );
        // A read-only run reads the app's objects: the step never writes.
        assert!(ran.contains(&StepId::AppObject));
        let all = engine.units();
        // Right after the download, and waiting for what tells whether a 403 is a missing key.
        let b1: Vec<&Row> = all
            .iter()
            .filter(|u| u.bucket.as_deref() == Some("b1"))
            .collect();
        let get = b1.iter().position(|u| u.step == StepId::GetObject).unwrap();
        assert_eq!(b1[get + 1], &objects[0]);
        assert!(
            engine
                .needs(&objects[0], &all)
                .contains(&Row::for_bucket(StepId::ListObjects, "b1"))
        );
        // Without --key there is no such row.
        let (ran, engine) = run_with(two_buckets()).await;
        assert!(!ran.contains(&StepId::AppObject));
        assert!(engine.units().iter().all(|u| u.key.is_none()));
    }

    #[test]
    fn the_runbook_marks_exactly_the_probe_steps_as_writing() {
        let rb = Runbook::embedded();
        let writing: Vec<StepId> = StepId::ALL
            .into_iter()
            .filter(|s| rb.step(*s).mode.writes())
            .collect();
        assert_eq!(
            writing,
            [
                StepId::PutObject,
                StepId::PutObjectAcl,
                StepId::DeleteObject,
                StepId::MultipartUpload
            ]
        );
    }
}
