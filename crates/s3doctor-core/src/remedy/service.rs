//! The one remedy service, used by the wizard and by `s3doctor fix` alike: connect the admin
//! profile, choose the credentials that read and change IAM (or the bucket policy), work out
//! the plan, apply a confirmed plan while sending progress events, verify, and undo. No
//! terminal, no clap, no printing: each view renders the events and asks for the confirmation.

use std::sync::Arc;
use std::time::Duration;

use tokio::sync::mpsc::UnboundedSender;

use super::{
    Applied, AttachTarget, ConfirmedCors, ConfirmedPlan, ConfirmedUndo, Plan, apply, bucket_policy,
    cors, plan, trust,
};
use crate::arn::PrincipalKind;
use crate::aws::{self, Session};
use crate::diagnosis::Diagnosis;
use crate::engine::{Engine, EngineEvent, Row};
use crate::policy;
use crate::runbook::StepId;

/// How long verification keeps trying by default (IAM is eventually consistent).
pub const VERIFY_DEADLINE: Duration = Duration::from_secs(60);

/// What the remedy is asked to work with: plain options, whichever view asks.
#[derive(Clone, Debug)]
pub struct RemedyOptions {
    /// `--admin-profile`: the credentials that read and change IAM, when not the diagnosed ones.
    pub admin: Option<aws::Settings>,
    /// The policy's name, when not the default one.
    pub policy_name: Option<String>,
    /// How long verification keeps re-running the failed steps.
    pub verify_deadline: Duration,
}

impl Default for RemedyOptions {
    fn default() -> Self {
        RemedyOptions {
            admin: None,
            policy_name: None,
            verify_deadline: VERIFY_DEADLINE,
        }
    }
}

/// Why the remedy could not do what it was asked; each says it in one sentence.
#[derive(Clone, Debug, PartialEq, Eq, thiserror::Error)]
pub enum RemedyError {
    /// `--admin-profile` named credentials that do not resolve.
    #[error("the admin profile has no usable credentials: {0}")]
    AdminCredentials(String),
    /// Neither the admin profile nor the diagnosed session can make the change.
    #[error("no credentials to make the change with")]
    NoCredentials,
    /// There is nothing a plan could do (the reason says why, and what would help).
    #[error("{0}")]
    NothingToPlan(String),
    /// The policy s3doctor would send does not pass its own checks.
    #[error("{0}")]
    InvalidPolicy(String),
    /// A bucket policy s3doctor cannot read or write back as JSON.
    #[error("{0}")]
    BucketPolicy(String),
    /// The principal cannot be named, so there is nothing to undo.
    #[error("{0}")]
    NothingToUndo(String),
    /// An AWS call (or building its input) failed; nothing after it was done.
    #[error("{0}")]
    Call(String),
    /// Applying stopped at a failure; `done` is what had changed before it.
    #[error("{why} ({})", done_text(.done))]
    Stopped { why: String, done: Vec<String> },
}

fn done_text(done: &[String]) -> String {
    if done.is_empty() {
        "nothing was changed".to_owned()
    } else {
        format!("already done: {}", done.join("; "))
    }
}

/// What the service reports while it works.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum Event {
    /// A step is starting or a verification attempt ended, in one line.
    Progress(String),
    /// Something was changed (listed once applying is over, before verifying).
    Changed(String),
}

/// Where events go: the wizard's channel, or standard error.
pub type Events<'a> = &'a (dyn Fn(Event) + Send + Sync);

/// What applying and verifying a confirmed plan did.
#[derive(Clone, Debug)]
pub struct Outcome {
    pub applied: Applied,
    /// True when every re-run step passes within the deadline.
    pub verified: bool,
}

/// The remedy for one engine's run.
pub struct Remedy {
    engine: Engine,
    /// The admin profile's session, when `--admin-profile` was given.
    admin: Option<Arc<Session>>,
    options: RemedyOptions,
}

impl Remedy {
    /// Connects the admin profile (when one is given); fails when it has no usable credentials.
    pub async fn connect(engine: Engine, options: RemedyOptions) -> Result<Remedy, RemedyError> {
        let admin = match &options.admin {
            Some(settings) => {
                let session = crate::credentials::connect(settings)
                    .await
                    .map_err(|e| RemedyError::AdminCredentials(e.detail))?;
                Some(Arc::new(session))
            }
            None => None,
        };
        Ok(Remedy {
            engine,
            admin,
            options,
        })
    }

    /// The `--admin-profile` name, when one was given.
    pub fn admin_profile(&self) -> Option<&str> {
        self.options.admin.as_ref()?.profile.as_deref()
    }

    /// The session that reads and changes IAM: the admin profile's, else the diagnosed one.
    async fn acting_session(&self) -> Option<Arc<Session>> {
        match &self.admin {
            Some(s) => Some(s.clone()),
            None => self.engine.session().await,
        }
    }

    /// Works out the plan from what stands and from IAM's current state (read, never written).
    pub async fn plan(&self, diagnosis: &Diagnosis) -> Result<Plan, RemedyError> {
        let session = self.engine.session().await;
        let info = self.engine.session_info().await;
        plan::prepare(plan::Inputs {
            engine: &self.engine,
            results: diagnosis.steps(),
            diagnosis,
            identity: info.identity.as_ref(),
            session: session.as_deref(),
            admin: self.admin_profile().zip(self.admin.as_deref()),
            policy_name: self.options.policy_name.clone(),
        })
        .await
    }

    /// Makes the confirmed plan's calls (IAM, or the bucket policies on a server without IAM
    /// managed policies), lists what changed, then verifies. The only way to change IAM.
    pub async fn apply(
        &self,
        confirmed: ConfirmedPlan,
        etx: &UnboundedSender<EngineEvent>,
        events: Events<'_>,
    ) -> Result<Outcome, RemedyError> {
        let Some(writer) = self.acting_session().await else {
            return Err(RemedyError::NoCredentials);
        };
        let rows = confirmed.plan().verify.clone();
        let progress = |line: String| events(Event::Progress(line));
        let trusts = confirmed.plan().trust.is_some();
        let applied = if trusts {
            trust::apply(&confirmed, &writer.clients.iam, &progress).await?
        } else if confirmed.plan().bucket_policies.is_empty() {
            apply::apply(confirmed, &writer.clients.iam, &progress).await?
        } else {
            apply::apply_bucket_policies(confirmed, &writer.clients.s3, &progress).await?
        };
        for change in &applied.changes {
            events(Event::Changed(change.clone()));
        }
        let verified = self.verify(&rows, etx, events).await;
        if trusts && verified {
            // The role can be assumed now: the rest of the checklist runs as it.
            progress("running the checklist as the role".to_owned());
            self.engine.run_all(etx).await;
        }
        Ok(Outcome { applied, verified })
    }

    /// Re-runs `rows` with backoff until none fails or the deadline passes.
    pub async fn verify(
        &self,
        rows: &[Row],
        etx: &UnboundedSender<EngineEvent>,
        events: Events<'_>,
    ) -> bool {
        let progress = |line: String| events(Event::Progress(line));
        let deadline = self.options.verify_deadline;
        apply::verify(&self.engine, rows, deadline, etx, &progress).await
    }

    /// The CORS rule the run's `--origin` needs on the buckets that refuse it, if any.
    pub fn cors_change(&self, diagnosis: &Diagnosis) -> Option<cors::CorsChange> {
        let run = self.engine.run_settings();
        cors::CorsChange::from_findings(
            diagnosis.findings(),
            run.origin.as_deref(),
            run.acl.as_deref(),
        )
    }

    /// Adds the confirmed CORS rule to each of its buckets (merged with their rules), then
    /// re-runs the CORS step. One line per bucket, in order. Only the person's yes (or
    /// `--yes`) makes the `ConfirmedCors` it takes.
    pub async fn apply_cors(
        &self,
        confirmed: &ConfirmedCors,
        etx: &UnboundedSender<EngineEvent>,
    ) -> Result<Vec<Result<String, RemedyError>>, RemedyError> {
        let Some(writer) = self.acting_session().await else {
            return Err(RemedyError::NoCredentials);
        };
        let buckets = &confirmed.change().buckets;
        let mut lines = Vec::new();
        for b in buckets {
            lines.push(cors::apply(&writer.clients.s3, b, confirmed).await);
        }
        let units: Vec<Row> = buckets
            .iter()
            .map(|b| Row::for_bucket(StepId::Cors, b))
            .collect();
        self.engine.run(&units, etx).await;
        Ok(lines)
    }

    /// Detaches s3doctor's policy from the principal (or, on a server without IAM managed
    /// policies, removes s3doctor's statements from each bucket policy), after the person's
    /// yes (`confirmed`). One line per change.
    pub async fn undo(
        &self,
        confirmed: &ConfirmedUndo,
        etx: &UnboundedSender<EngineEvent>,
    ) -> Result<Vec<Result<String, RemedyError>>, RemedyError> {
        let mut lines = self.undo_trust(confirmed).await;
        match self.undo_policy(confirmed, etx).await {
            Ok(more) => lines.extend(more),
            // A role whose trust statement is gone cannot be assumed to name the principal.
            Err(RemedyError::NothingToUndo(_)) if !lines.is_empty() => {}
            Err(e) => return Err(e),
        }
        Ok(lines)
    }

    /// Removes s3doctor's statements from the trust policy of each role the run assumes (a
    /// role profile's, `--role-arn`), with the acting credentials.
    async fn undo_trust(&self, confirmed: &ConfirmedUndo) -> Vec<Result<String, RemedyError>> {
        let roles = crate::credentials::assumed_roles(self.engine.settings()).await;
        let Some(writer) = self.acting_session().await.filter(|_| !roles.is_empty()) else {
            return Vec::new();
        };
        let mut lines = Vec::new();
        for role in roles {
            let name = role.rsplit('/').next().unwrap_or(&role).to_owned();
            lines.push(trust::undo(&writer.clients.iam, &name, confirmed).await);
        }
        lines
    }

    /// Detaches s3doctor's policy (or removes its bucket-policy statements).
    async fn undo_policy(
        &self,
        confirmed: &ConfirmedUndo,
        etx: &UnboundedSender<EngineEvent>,
    ) -> Result<Vec<Result<String, RemedyError>>, RemedyError> {
        self.engine.run(&[Row::global(StepId::Identity)], etx).await;
        let info = self.engine.session_info().await;
        let Some(identity) = info.identity else {
            return Err(RemedyError::NothingToUndo(
                "cannot undo: the principal is unknown (the identity step did not pass)".into(),
            ));
        };
        let p = &identity.principal;
        if let Some(caps) = info.endpoint.as_ref().filter(|c| c.s3_only()) {
            return self
                .undo_bucket_policies(&p.name, caps.kind.label(), confirmed)
                .await;
        }
        let target = match p.kind {
            PrincipalKind::User => AttachTarget::User(p.name.clone()),
            PrincipalKind::AssumedRole | PrincipalKind::Role => AttachTarget::Role(p.name.clone()),
            _ => {
                return Err(RemedyError::NothingToUndo(format!(
                    "{} cannot carry a policy; nothing to undo",
                    p.arn
                )));
            }
        };
        let run = self.engine.run_settings();
        let name = self
            .options
            .policy_name
            .clone()
            .unwrap_or_else(|| policy::default_policy_name(&run.buckets, run.access));
        let arn = p.policy_arn(&name);
        let Some(writer) = self.acting_session().await else {
            return Err(RemedyError::NoCredentials);
        };
        let done = apply::undo(&writer.clients.iam, &target, &arn, confirmed).await;
        Ok(vec![done])
    }

    async fn undo_bucket_policies(
        &self,
        principal_name: &str,
        server: &str,
        confirmed: &ConfirmedUndo,
    ) -> Result<Vec<Result<String, RemedyError>>, RemedyError> {
        let Some(writer) = self.acting_session().await else {
            return Err(RemedyError::NoCredentials);
        };
        let mut lines = Vec::new();
        for bucket in &self.engine.run_settings().buckets {
            let done =
                bucket_policy::undo(&writer.clients.s3, bucket, principal_name, confirmed).await;
            lines.push(done.map(|line| format!("{line} ({server})")));
        }
        Ok(lines)
    }
}
