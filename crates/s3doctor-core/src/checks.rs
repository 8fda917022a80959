//! The live checks: one function per runbook step, chosen by one exhaustive match. A check
//! reads a snapshot of what earlier steps learned and returns a `StepOutcome`; AWS errors
//! are outcomes, not `Err`.

pub mod app_object;
mod app_request;
mod bucket;
pub mod conditions;
pub mod cors;
mod credentials;
pub mod early;
mod identity;
mod keys;
pub mod vpc_endpoint;
pub use keys::KeysVerdict;
pub mod kms;
mod multipart;
pub mod object_reads;
mod objects;
mod owner;
mod policies;
mod policy_sources;
pub mod probe;
mod probe_upload;
pub use policy_sources::PolicyReadError;
mod retries;
mod simulate;
mod trust;
mod unsupported;
pub use trust::TrustFix;

use std::collections::HashMap;
use std::sync::Arc;

use serde::{Deserialize, Serialize};

use crate::answers::{self, Class, Facts, Failure, FindingSpec, Unreachable};
use crate::arn::Principal;
use crate::aws::{self, Session};
use crate::finding::{Evidence, Finding, FindingCode};
use crate::operation::Operation;
use crate::policy::Access;
use crate::runbook::StepId;

/// What the person asked to check.
#[derive(Clone, Debug)]
pub struct RunSettings {
    pub buckets: Vec<String>,
    pub access: Access,
    /// Where probes go; also scopes the generated policy when `prefix_scoped`.
    pub prefix: String,
    pub prefix_scoped: bool,
    pub read_only: bool,
    pub expect_principal: Option<String>,
    /// `--multipart`: the app uploads large files in parts.
    pub multipart: bool,
    /// `--acl`: the canned ACL the app sends with its uploads.
    pub acl: Option<String>,
    /// `--origin`: the web origin the app's browser uploads come from (CORS).
    pub origin: Option<String>,
    /// `--key`: the app's own objects, read (never written) by the `app-object` step.
    pub keys: Vec<String>,
    /// `--source-ip`, `--vpc`, `--vpce`: the app's network, for the conditions (a what-if:
    /// nothing is sent from there).
    pub network: crate::policy::AppNetwork,
    /// `--vpce-policy FILE`: the VPC endpoint's policy, as the person saved it.
    pub vpce_policy: Option<vpc_endpoint::PolicyFile>,
    /// `--vpce-type`: the endpoint's kind as the person said it (EC2's answer wins).
    pub vpce_type: Option<vpc_endpoint::Kind>,
}

impl Default for RunSettings {
    fn default() -> Self {
        RunSettings {
            buckets: Vec::new(),
            access: Access::ReadWrite,
            prefix: DEFAULT_PREFIX.to_owned(),
            prefix_scoped: false,
            read_only: false,
            expect_principal: None,
            multipart: false,
            acl: None,
            origin: None,
            keys: Vec::new(),
            network: crate::policy::AppNetwork::default(),
            vpce_policy: None,
            vpce_type: None,
        }
    }
}

impl RunSettings {
    /// The object actions the app needs beyond `access`'s: the multipart clean-up actions
    /// with `--multipart`, unless the run is read-only (a read-only app uploads nothing).
    pub fn extra_object_actions(&self) -> &'static [&'static str] {
        if self.multipart && !self.read_only {
            &crate::policy::MULTIPART_ACTIONS
        } else {
            &[]
        }
    }

    /// The flags that make another run check what this one checked (`--access`, `--prefix`,
    /// `--read-only`, `--multipart`, `--acl`, `--origin`, `--key`, `--expect-principal`), each with a
    /// leading space, for the verify commands s3doctor prints: a verify run that leaves out
    /// `--multipart` or `--acl` skips the very probe that failed and passes.
    pub fn flags(&self) -> String {
        let word = aws::shell_word;
        let mut flags = String::new();
        if self.access != Access::ReadWrite {
            flags.push_str(&format!(" --access {}", self.access.as_str()));
        }
        if self.prefix_scoped {
            flags.push_str(&format!(" --prefix {}", word(&self.prefix)));
        }
        if self.read_only && self.access != Access::Read {
            flags.push_str(" --read-only");
        }
        if self.multipart {
            flags.push_str(" --multipart");
        }
        if let Some(acl) = &self.acl {
            flags.push_str(&format!(" --acl {}", word(acl)));
        }
        if let Some(origin) = &self.origin {
            flags.push_str(&format!(" --origin {}", word(origin)));
        }
        for key in &self.keys {
            flags.push_str(&format!(" --key {}", word(key)));
        }
        if let Some(who) = &self.expect_principal {
            flags.push_str(&format!(" --expect-principal {}", word(who)));
        }
        flags.push_str(&self.network_flags());
        flags
    }
}

impl RunSettings {
    /// `--source-ip`, `--vpc`, `--vpce` as given, each with a leading space.
    pub fn network_flags(&self) -> String {
        let n = &self.network;
        let mut flags = String::new();
        if let Some(ip) = n.source_ip {
            flags.push_str(&format!(" --source-ip {ip}"));
        }
        if let Some(vpc) = &n.vpc {
            flags.push_str(&format!(" --vpc {}", aws::shell_word(vpc)));
        }
        if let Some(vpce) = &n.vpce {
            flags.push_str(&format!(" --vpce {}", aws::shell_word(vpce)));
        }
        if let Some(file) = &self.vpce_policy {
            let path = file.path.display().to_string();
            flags.push_str(&format!(" --vpce-policy {}", aws::shell_word(&path)));
        }
        match self.vpce_type {
            Some(vpc_endpoint::Kind::Interface) => flags.push_str(" --vpce-type interface"),
            Some(vpc_endpoint::Kind::Gateway) => flags.push_str(" --vpce-type gateway"),
            _ => {}
        }
        flags
    }
}

/// Where probe objects go unless `--prefix` says otherwise.
pub const DEFAULT_PREFIX: &str = ".s3doctor/";

/// How a step ended.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum Status {
    Pass,
    Warn,
    Fail,
    Skip,
}

impl Status {
    pub fn as_str(self) -> &'static str {
        match self {
            Status::Pass => "pass",
            Status::Warn => "warn",
            Status::Fail => "fail",
            Status::Skip => "skip",
        }
    }

    /// The symbol every view shows for it (so that colour is never the only signal):
    /// `✓` pass, `!` warn, `✗` fail, `-` skipped.
    pub fn symbol(self) -> &'static str {
        match self {
            Status::Pass => "✓",
            Status::Warn => "!",
            Status::Fail => "✗",
            Status::Skip => "-",
        }
    }
}

/// Who the keys belong to, from sts:GetCallerIdentity, or, on a server without STS, from what
/// it says (the `ListBuckets` owner, `--expect-principal`): then `confirmed` is false.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Identity {
    pub principal: Principal,
    pub user_id: Option<String>,
    pub confirmed: bool,
    /// The IAM role behind an assumed-role session (or the role itself): with its path when
    /// that is known (the chain assumed the role, or IAM was read), else the session's
    /// `arn:…:role/NAME`; `None` for other principals.
    pub role_arn: Option<String>,
    /// Whether `role_arn` is the role's real ARN: a role's own ARN carries its path, a
    /// session's does not, so a session's role is known only once the chain assumed it or
    /// IAM's GetRole named it. Until then findings name the role with "path not known".
    pub role_path_known: bool,
    /// Whom a person acts on, in a finding's words (see [`Identity::acting_arn`]).
    acting: String,
}

pub use crate::arn::PATH_NOT_KNOWN;

impl Identity {
    /// Who the keys belong to; a session's role is named as the session names it (no path).
    pub fn new(principal: Principal, user_id: Option<String>, confirmed: bool) -> Self {
        let role_arn = principal.role_arn();
        let mut identity = Identity {
            role_path_known: principal.kind == crate::arn::PrincipalKind::Role,
            principal,
            user_id,
            confirmed,
            role_arn,
            acting: String::new(),
        };
        identity.acting = identity.acting_words();
        identity
    }

    /// Whom a person acts on: the role's ARN for an assumed-role session (its policies, its
    /// trust policy) — or, while its path is not known, `role NAME in account ACCOUNT (path
    /// not known: …)` rather than an ARN that may be wrong — else the principal's own ARN.
    pub fn acting_arn(&self) -> &str {
        &self.acting
    }

    fn acting_words(&self) -> String {
        let p = &self.principal;
        match (p.kind, &self.role_arn) {
            (crate::arn::PrincipalKind::AssumedRole, Some(role)) if self.role_path_known => {
                role.clone()
            }
            (crate::arn::PrincipalKind::AssumedRole, Some(_)) => format!(
                "role {} in account {} ({PATH_NOT_KNOWN})",
                p.name, p.account
            ),
            _ => p.arn.clone(),
        }
    }

    /// Takes the role's full ARN (with its path) when it names this identity's role.
    pub fn learn_role_arn(&mut self, arn: &str) {
        let names_this_role = crate::arn::parse_principal(arn).ok().filter(|r| {
            r.kind == crate::arn::PrincipalKind::Role
                && r.name == self.principal.name
                && r.account == self.principal.account
        });
        if let Some(role) = names_this_role.filter(|_| self.role_arn.is_some()) {
            self.principal.path = role.path;
            self.role_arn = Some(arn.to_owned());
            self.role_path_known = true;
            self.acting = self.acting_words();
        }
    }

    /// True for a session whose role's path is not known (neither the chain nor IAM named the
    /// role): an ARN written for the role from the session's may lack the path.
    pub fn role_path_unknown(&self) -> bool {
        self.principal.kind == crate::arn::PrincipalKind::AssumedRole && !self.role_path_known
    }

    /// `role app (arn:aws:iam::1:role/svc/app), session worker` for a session; `None` otherwise.
    /// While the role's path is not known: `role app (path not known: …), session worker`.
    pub fn role_and_session(&self) -> Option<String> {
        let role = self.role_arn.as_deref()?;
        let role = match self.role_path_known {
            true => role,
            false => PATH_NOT_KNOWN,
        };
        let name = &self.principal.name;
        match &self.principal.session {
            Some(session) => Some(format!("role {name} ({role}), session {session}")),
            None => Some(format!("role {name} ({role})")),
        }
    }
}

/// What a step learned that later steps use.
#[derive(Clone, Debug)]
pub enum Fact {
    Session(Arc<Session>),
    Identity(Identity),
    /// The region S3 says the bucket is in (header or GetBucketLocation).
    BucketRegion(String),
    /// Later steps for this bucket talk to this region (after a wrong-region finding).
    UseRegion(String),
    /// S3 said the request was signed for the wrong region without naming the right one
    /// (a HEAD answered 400 with no body and no `x-amz-bucket-region`).
    RegionMismatch,
    ProbeWritten(probe::ProbeKey),
    ProbeDeleted,
    ExistingKey(String),
    /// What the endpoint is and offers (learned by the identity step).
    Endpoint(crate::endpoint::Capabilities),
    /// The bucket encrypts new objects with KMS (the key id, or `aws:kms` when unnamed).
    KmsKey(String),
    /// The upload probe was stored, and S3's answer said how it was encrypted (its
    /// `x-amz-server-side-encryption`, or `None` without one): the bucket's default encryption
    /// as it applies to the app's uploads, without a `GetBucketEncryption`.
    UploadEncryption(Option<String>),
    /// The full ARN (with its path) of the identity's role, read from IAM.
    RoleArn(String),
    /// A refused role's trust policy names no statement for the caller: the one to add.
    TrustFix(Arc<TrustFix>),
    /// Whose bucket it is, as the download told it (see `objects::get`): `Ok(())` when S3
    /// served it with `ExpectedBucketOwner` = the caller's account, `Err(how)` when S3 refused
    /// that (403) and served it without.
    Owner(Result<(), OtherAccount>),
    /// Whether the app's keys may list the bucket (the listing answered, or was refused):
    /// without s3:ListBucket S3 answers a missing key with 403, not 404.
    Listing(bool),
}

/// The bucket belongs to another account than the caller's; the text says how S3 told (which
/// call it served without `ExpectedBucketOwner` and refused with it).
#[derive(Clone, Debug, PartialEq, Eq, thiserror::Error)]
#[error("{0}")]
pub struct OtherAccount(pub String);

/// The principal's identity policies and permissions boundary, as read from IAM.
pub type LoadedPolicies = Result<
    (
        Vec<crate::policy::NamedPolicy>,
        Option<crate::policy::NamedPolicy>,
    ),
    PolicyReadError,
>;

/// Read once per run and shared by every bucket's steps: the admin session and the
/// principal's policies. A new run (a re-run, the verification after a fix) reads again.
#[derive(Debug, Default)]
pub struct RunCache {
    pub admin: tokio::sync::OnceCell<Result<Arc<Session>, AdminUnusable>>,
    /// `sts:GetCallerIdentity` with the diagnosed keys: `(Arn, UserId)` or the failure. Asked
    /// once; the identity step and the endpoint's capabilities both read it.
    caller: tokio::sync::OnceCell<CallerAnswer>,
    /// `ListBuckets` with the diagnosed keys (see `keys`), asked once.
    list_buckets: tokio::sync::OnceCell<keys::ListBucketsAnswer>,
    /// Whether IAM answers at a custom endpoint without STS (`iam:GetUser`, asked once).
    iam_answers: tokio::sync::OnceCell<bool>,
    pub identity_policies: tokio::sync::OnceCell<LoadedPolicies>,
    /// The identity's role's full ARN (with its path), once IAM's GetRole answered it.
    pub role_arn: std::sync::OnceLock<String>,
    /// Calls started before their step was due, for the step to take.
    pub early: early::EarlyCalls,
    /// Each bucket's policy, read once for both policy steps.
    bucket_policies: std::sync::Mutex<HashMap<String, Arc<tokio::sync::OnceCell<BucketPolicy>>>>,
    /// What the reads of the app's own objects said, shared by `app-object` and `kms-key`.
    pub objects: object_reads::ObjectCache,
    /// The VPC endpoint's policy (`--vpce` with `--admin-profile`), read once.
    pub vpc_endpoint: tokio::sync::OnceCell<Result<Arc<vpc_endpoint::Endpoint>, String>>,
    /// What EC2's description of that endpoint says of the app's requests through it, set
    /// by its read (see `conditions::context`).
    pub endpoint_path: std::sync::OnceLock<conditions::EndpointPath>,
}

/// Why the `--admin-profile` keys cannot be used: the connection's failure, which says how
/// (its finding code) and, as its text, what went wrong.
#[derive(Clone, Debug, thiserror::Error)]
#[error("{}", .0.detail)]
pub struct AdminUnusable(pub crate::credentials::CredentialsFailure);

/// The answer to `sts:GetCallerIdentity`.
pub type CallerAnswer = Result<(String, Option<String>), answers::Failure>;

/// A bucket's policy: `None` when it has none.
pub type BucketPolicy = Result<Option<crate::policy::NamedPolicy>, PolicyReadError>;

impl RunCache {
    /// The cell holding `bucket`'s policy for this run.
    pub fn bucket_policy(&self, bucket: &str) -> Arc<tokio::sync::OnceCell<BucketPolicy>> {
        let mut map = self
            .bucket_policies
            .lock()
            .unwrap_or_else(std::sync::PoisonError::into_inner);
        map.entry(bucket.to_owned()).or_default().clone()
    }
}

/// The result of one check.
#[derive(Clone, Debug)]
pub struct StepOutcome {
    pub status: Status,
    pub detail: String,
    pub evidence: Option<Evidence>,
    pub findings: Vec<Finding>,
    pub facts: Vec<Fact>,
    /// True when steps that need this one cannot tell anything (no keys, no bucket, no network).
    pub blocking: bool,
    /// False for a row the engine never ran (a step it needs did not pass, or the run ended
    /// first); a check that ran says so even when it skips.
    pub ran: bool,
}

impl StepOutcome {
    pub fn pass(detail: impl Into<String>) -> Self {
        Self::new(Status::Pass, detail)
    }
    pub fn warn(detail: impl Into<String>) -> Self {
        Self::new(Status::Warn, detail)
    }
    pub fn failed(detail: impl Into<String>) -> Self {
        Self::new(Status::Fail, detail)
    }
    pub fn skip(detail: impl Into<String>) -> Self {
        Self::new(Status::Skip, detail)
    }
    /// A row the engine skipped without running its check.
    pub fn not_run(detail: impl Into<String>) -> Self {
        StepOutcome {
            ran: false,
            ..Self::skip(detail)
        }
    }
    fn new(status: Status, detail: impl Into<String>) -> Self {
        StepOutcome {
            status,
            detail: detail.into(),
            evidence: None,
            findings: Vec::new(),
            facts: Vec::new(),
            blocking: false,
            ran: true,
        }
    }
    pub fn with_fact(mut self, fact: Fact) -> Self {
        self.facts.push(fact);
        self
    }
    pub fn with_evidence(mut self, evidence: Evidence) -> Self {
        self.evidence = Some(evidence);
        self
    }
}

/// What a bucket's earlier steps learned.
#[derive(Clone, Debug, Default)]
pub struct BucketState {
    pub bucket_region: Option<String>,
    pub use_region: Option<String>,
    /// S3 refused the configured region for this bucket without naming its own.
    pub region_mismatch: bool,
    pub probe: Option<probe::ProbeKey>,
    pub existing_key: Option<String>,
    /// The KMS key new objects are encrypted with, when the put probe's answer said so.
    pub kms_key: Option<String>,
    /// How the stored upload probe was encrypted (`Some(None)`: S3 named no encryption);
    /// `None` when no probe was stored by a plain upload.
    pub upload_encryption: Option<Option<String>>,
    /// Whose bucket it is, when the download told it (`Fact::Owner`).
    pub owner: Option<Result<(), OtherAccount>>,
    /// Whether the app's keys may list the bucket (`Fact::Listing`); `None`: not known.
    pub listing: Option<bool>,
}

/// Everything a check may read.
#[derive(Clone, Debug)]
pub struct CheckContext {
    pub settings: Arc<aws::Settings>,
    pub run: Arc<RunSettings>,
    pub session: Option<Arc<Session>>,
    /// `--admin-profile`: read IAM and bucket settings with these when given.
    pub admin: Option<Arc<aws::Settings>>,
    /// What the steps of one run share (read once, not once per bucket).
    pub cache: Arc<RunCache>,
    pub identity: Option<Identity>,
    pub bucket: Option<String>,
    /// The app's own object (`--key`) an `app-object` row reads.
    pub key: Option<String>,
    pub state: BucketState,
    /// The key a new probe would get in this run.
    pub probe_key: probe::ProbeKey,
    /// The server that answers, for the findings' words (`run` learns it before a step).
    pub server: crate::server::Server,
}

impl CheckContext {
    /// This context knowing the server that answers, so that every finding a step builds is
    /// worded for it: AWS without a custom endpoint, else what the run learned of it (the
    /// credentials step asks no server, so it waits for nothing).
    async fn knowing_the_server(&self, step: StepId) -> CheckContext {
        let mut cx = self.clone();
        if step != StepId::Credentials && self.endpoint().is_some() {
            cx.server = self.capabilities().await.server();
        }
        cx
    }

    fn session(&self) -> Result<&Session, NotChecked> {
        self.session
            .as_deref()
            .ok_or_else(|| NotChecked::nothing("no credentials"))
    }

    /// The `--admin-profile` session, connected once per run; `None` without the flag.
    pub async fn admin_session(&self) -> Option<Result<Arc<Session>, AdminUnusable>> {
        let admin = self.admin.as_ref()?;
        let connected = self
            .cache
            .admin
            .get_or_init(|| async {
                crate::credentials::connect(admin)
                    .await
                    .map(Arc::new)
                    .map_err(AdminUnusable)
            })
            .await;
        Some(connected.clone())
    }

    /// The session to read the bucket's settings with: the admin profile's when it is given and
    /// connects, else the app's (`None` without credentials).
    pub async fn reading_session(&self) -> Option<Arc<Session>> {
        match self.admin_session().await {
            Some(Ok(admin)) => Some(admin),
            _ => self.session.clone(),
        }
    }

    fn bucket(&self) -> &str {
        self.bucket.as_deref().unwrap_or_default()
    }

    /// `sts:GetCallerIdentity` with the diagnosed keys, asked once per run.
    pub async fn caller(&self) -> Option<CallerAnswer> {
        let session = self.session.as_ref()?;
        let answer = self
            .cache
            .caller
            .get_or_init(|| async {
                match session.clients.sts.get_caller_identity().send().await {
                    Ok(out) => Ok((
                        out.arn().unwrap_or_default().to_owned(),
                        out.user_id().map(str::to_owned),
                    )),
                    Err(err) => Err(answers::failure(Operation::GetCallerIdentity, &err)),
                }
            })
            .await;
        Some(answer.clone())
    }

    /// What the endpoint offers (STS or not, which server), learned once per run from the
    /// `GetCallerIdentity` answer; AWS itself without a call.
    pub async fn capabilities(&self) -> crate::endpoint::Capabilities {
        let Some(endpoint) = self.endpoint() else {
            return crate::endpoint::Capabilities::aws();
        };
        let mut caps = match self.caller().await {
            Some(answer) => crate::endpoint::Capabilities::learn(endpoint, answer.as_ref().err()),
            None => crate::endpoint::Capabilities::learn(endpoint, None),
        };
        if !caps.sts
            && let Some(session) = &self.session
        {
            caps.iam = *self
                .cache
                .iam_answers
                .get_or_init(|| async {
                    match session.clients.iam.get_user().send().await {
                        Ok(_) => true,
                        Err(err) => !crate::endpoint::sts_absent(&answers::failure(
                            Operation::GetUser,
                            &err,
                        )),
                    }
                })
                .await;
        }
        caps
    }

    /// The S3 client for this bucket: in the bucket's own region after a wrong-region finding.
    fn s3(&self) -> Result<aws_sdk_s3::Client, NotChecked> {
        Ok(self.s3_with(self.session()?))
    }

    /// S3 with another session's keys (the admin's), in this bucket's region likewise.
    fn s3_with(&self, session: &Session) -> aws_sdk_s3::Client {
        match &self.state.use_region {
            Some(region) => session.clients.s3_in(region),
            None => session.clients.s3.clone(),
        }
    }

    fn endpoint(&self) -> Option<&str> {
        self.settings.endpoint.as_deref()
    }

    /// The facts for a finding's text.
    pub fn facts<'a>(&'a self, action: Option<&'a str>) -> Facts<'a> {
        Facts {
            bucket: self.bucket.as_deref(),
            action,
            principal: self.identity.as_ref().map(Identity::acting_arn),
            region: self.session.as_ref().and_then(|s| s.region.as_deref()),
            bucket_region: self.state.bucket_region.as_deref(),
            key: self.state.probe.as_ref().map(probe::ProbeKey::as_str),
            endpoint: self.endpoint(),
            expected: self.run.expect_principal.as_deref(),
            object: self.key.as_deref(),
            server: self.server,
            provider: self.session.as_ref().map(|s| s.credential_source.as_str()),
            waited: Some(self.settings.attempt_timeout()),
            ..Facts::default()
        }
    }

    /// The region this bucket's requests are signed for.
    pub(crate) fn signing_region(&self) -> Option<String> {
        match &self.state.use_region {
            Some(r) => Some(r.clone()),
            None => self
                .session
                .as_ref()
                .and_then(|s| s.clients.region().map(str::to_owned)),
        }
    }

    /// Turns a failed call into an outcome with the finding it means. Every failed outcome
    /// carries at least one error finding: an answer that fits no class is reported as
    /// `endpoint.unexpected-answer` with what came back. A call that got no answer says how
    /// first (`how_unanswered`); a step that adds to the detail adds after those words.
    fn failed(&self, step: StepId, failure: Failure) -> StepOutcome {
        let failure = answers::with_signing_region(failure, self.signing_region().as_deref());
        let temporary = self.session.as_ref().is_some_and(|s| s.temporary);
        let failure = answers::with_session_token(failure, temporary);
        let evidence = failure.evidence.clone();
        match &failure.class {
            Class::PreconditionFailed => {
                return StepOutcome::warn("an object already exists under the probe key")
                    .with_evidence(evidence);
            }
            Class::Accepted => {
                return StepOutcome::pass(format!(
                    "accepted (HTTP {}), though the answer could not be read",
                    evidence.http_status.unwrap_or(200)
                ))
                .with_evidence(evidence);
            }
            _ => {}
        }
        let (finding, detail) = self.refusal(step, &failure);
        StepOutcome {
            status: Status::Fail,
            detail,
            evidence: Some(evidence),
            findings: vec![finding],
            // A wrong region never blocks the diagnosis: once S3 named the bucket's region,
            // the next steps for this bucket ask there.
            facts: match &failure.class {
                Class::WrongRegion(Some(region)) if self.bucket.is_some() => vec![
                    Fact::BucketRegion(region.clone()),
                    Fact::UseRegion(region.clone()),
                ],
                _ => Vec::new(),
            },
            blocking: failure.blocks_everything(),
            ran: true,
        }
    }

    /// The finding a failed call means, and the step's detail line: one arm per class of
    /// answer (a flat table; the two arms with more to say have their own functions).
    fn refusal(&self, step: StepId, failure: &Failure) -> (Finding, String) {
        let action = failure.operation.action();
        let evidence = &failure.evidence;
        let build = |code| self.spec(step, code, Some(action), evidence).build();
        // The code each class means is answers' one table (`s3doctor why` reads it too).
        let code = failure.class.finding_code();
        match &failure.class {
            Class::Credentials(_) => (build(code), "the keys were refused".to_owned()),
            Class::Unreachable(how) => (build(code), self.no_answer_words(*how)),
            Class::BucketNotFound => (
                build(code),
                format!("bucket {} does not exist", self.bucket()),
            ),
            Class::AccessDenied(denied) => (
                answers::permission_finding(
                    step,
                    denied,
                    self.facts(Some(action)),
                    evidence.clone(),
                ),
                format!("access denied: {action} is not allowed"),
            ),
            Class::Kms(denied) => self.kms_refusal(step, failure, denied),
            Class::Refused(_) => {
                let finding = build(code);
                let detail = format!("S3 refused: {}", finding.title.to_lowercase());
                (finding, detail)
            }
            Class::AclNotSupported => (
                build(code),
                "the bucket refuses ACLs (object ownership enforced)".to_owned(),
            ),
            Class::WrongRegion(region) => {
                let finding = FindingSpec {
                    facts: Facts {
                        bucket_region: region.as_deref(),
                        ..self.facts(Some(action))
                    },
                    ..self.spec(step, FindingCode::WrongRegion, Some(action), evidence)
                }
                .build();
                (finding, "the request went to the wrong region".to_owned())
            }
            Class::Throttled => (
                build(code),
                format!(
                    "throttled by {} even after retries: not a permission problem, try again",
                    self.server.who()
                ),
            ),
            Class::KeyNotFound => (build(code), "the object is not there".to_owned()),
            // Told apart by `failed` before it asks; kept here so that every class has words.
            Class::PreconditionFailed | Class::Accepted | Class::Other => (
                build(code),
                format!("unexpected answer: {}", evidence.one_line()),
            ),
        }
    }

    /// How the endpoint did not answer, in a step's words, when the way is known (a timeout,
    /// a refused connection, DNS, TLS): a step that got no answer leads its detail with them,
    /// as `failed` does. `None` for an answer, or for no answer in a way without words of its
    /// own.
    pub(super) fn how_unanswered(&self, evidence: Option<&Evidence>) -> Option<String> {
        match evidence?.unreachable? {
            Unreachable::Connection | Unreachable::Other => None,
            how => Some(self.no_answer_words(how)),
        }
    }

    /// A failed step's detail when the endpoint did not answer: how (in `Unreachable`'s
    /// words), when that is known.
    fn no_answer_words(&self, how: Unreachable) -> String {
        match how {
            Unreachable::TimedOut => format!(
                "{}: {NO_ANSWER} within {} s",
                how.words(),
                self.settings.attempt_timeout().as_secs_f64()
            ),
            Unreachable::Refused => format!("{} by the endpoint", how.words()),
            Unreachable::Dns => {
                format!("{}: the endpoint's host name does not resolve", how.words())
            }
            Unreachable::Tls => format!("{}: no secure connection to the endpoint", how.words()),
            Unreachable::Connection | Unreachable::Other => NO_ANSWER.to_owned(),
        }
    }

    /// A KMS key refused: the KMS action AWS named, else the one the operation needs, and the
    /// key, from the message or the key-id header.
    fn kms_refusal(
        &self,
        step: StepId,
        failure: &Failure,
        denied: &answers::access_denied::AccessDenied,
    ) -> (Finding, String) {
        let evidence = &failure.evidence;
        let kms_action = denied
            .action
            .clone()
            .filter(|a| a.starts_with("kms:"))
            .unwrap_or_else(|| failure.operation.kms_action().to_owned());
        let key = answers::kms_key(evidence, denied);
        let finding = FindingSpec {
            facts: Facts {
                kms_key: key.as_deref(),
                ..self.facts(Some(&kms_action))
            },
            source: denied.source,
            ..self.spec(step, FindingCode::Kms, None, evidence)
        }
        .build();
        let detail = format!(
            "the KMS key{} refused {kms_action}",
            key.as_deref().map(|k| format!(" {k}")).unwrap_or_default()
        );
        (finding, detail)
    }

    /// A finding about this context's bucket, built from `evidence`.
    fn spec<'a>(
        &'a self,
        step: StepId,
        code: FindingCode,
        action: Option<&'a str>,
        evidence: &Evidence,
    ) -> FindingSpec<'a> {
        FindingSpec {
            code,
            step,
            facts: self.facts(action),
            source: None,
            statement: None,
            evidence: Some(evidence.clone()),
        }
    }
}

/// Runs one step. Every `StepId` has exactly one check.
pub async fn run(step: StepId, cx: &CheckContext) -> StepOutcome {
    let cx = &cx.knowing_the_server(step).await;
    let outcome = match step {
        StepId::Credentials => credentials::credentials(cx).await,
        StepId::Identity => identity::identity(cx).await,
        StepId::BucketExists => bucket::exists(cx).await,
        StepId::BucketRegion => bucket::region(cx).await,
        StepId::ListObjects => objects::list(cx).await,
        StepId::PutObject => objects::put(cx).await,
        StepId::GetObject => objects::get(cx).await,
        StepId::AppObject => app_object::app_object(cx).await,
        StepId::PutObjectAcl => objects::put_acl(cx).await,
        StepId::DeleteObject => objects::delete(cx).await,
        StepId::MultipartUpload => multipart::multipart(cx).await,
        StepId::Cors => cors::cors(cx).await,
        StepId::BucketPolicy => policies::bucket_policy(cx).await,
        StepId::IdentityPolicies => policies::identity_policies(cx).await,
        StepId::KmsKey => kms::kms_key(cx).await,
    };
    outcome.unwrap_or_else(StepOutcome::from)
}

/// A failed step's detail when the endpoint did not answer, and how.
const NO_ANSWER: &str = "no answer from the endpoint";

/// A check's result: its verdict, or why it reached none of its own.
type CheckResult = Result<StepOutcome, NotChecked>;

/// Why a check reached no verdict of its own: the error a check ends with early, not an
/// outcome built to be returned (the row still says why, see `From`).
#[derive(Debug)]
pub enum NotChecked {
    /// There was nothing to check, and why: no credentials, no probe, not asked for, no one
    /// to read the policies with. The row is a skip that says so.
    Nothing(String),
    /// A call the check needed before its own question failed or was refused: that call's
    /// outcome is the row's.
    Blocked(Box<StepOutcome>),
}

impl NotChecked {
    fn nothing(why: impl Into<String>) -> Self {
        NotChecked::Nothing(why.into())
    }

    fn blocked(outcome: StepOutcome) -> Self {
        NotChecked::Blocked(Box::new(outcome))
    }
}

impl From<NotChecked> for StepOutcome {
    fn from(not: NotChecked) -> Self {
        match not {
            NotChecked::Nothing(why) => StepOutcome::skip(why),
            NotChecked::Blocked(outcome) => *outcome,
        }
    }
}

/// Real AWS answers replayed through the checks: a test harness, kept with the tests.
#[path = "../../../tests/harness/replay.rs"]
#[cfg(test)]
mod replay;

#[cfg(test)]
mod tests {
    use super::*;
    use crate::answers::access_denied::AccessDenied;

    /// A context for bucket `b` with no session, for checks' unit tests (10 s per attempt).
    pub(super) fn context() -> CheckContext {
        CheckContext {
            settings: Arc::default(),
            run: Arc::default(),
            session: None,
            admin: None,
            cache: Arc::default(),
            identity: None,
            bucket: Some("b".into()),
            key: None,
            state: BucketState::default(),
            probe_key: probe::ProbeKey::new(DEFAULT_PREFIX),
            server: crate::server::Server::default(),
        }
    }

    #[test]
    fn run_flags_repeat_what_the_run_checked() {
        assert_eq!(RunSettings::default().flags(), "");
        let run = RunSettings {
            access: Access::Full,
            prefix: "up loads/".into(),
            prefix_scoped: true,
            multipart: true,
            acl: Some("public-read".into()),
            origin: Some("https://app.example.com".into()),
            expect_principal: Some("Runpod".into()),
            ..RunSettings::default()
        };
        assert_eq!(
            run.flags(),
            " --access full --prefix 'up loads/' --multipart --acl public-read \
             --origin https://app.example.com --expect-principal Runpod"
        );
        // `--access read` implies `--read-only`: said once.
        let read = RunSettings {
            access: Access::Read,
            read_only: true,
            ..RunSettings::default()
        };
        assert_eq!(read.flags(), " --access read");
    }

    fn denied(operation: Operation) -> Failure {
        Failure {
            operation,
            evidence: Evidence {
                operation: operation.name().into(),
                http_status: Some(403),
                error_code: Some("AccessDenied".into()),
                message: Some("Access Denied".into()),
                ..Evidence::default()
            },
            class: Class::AccessDenied(AccessDenied::default()),
            bucket_region: None,
        }
    }

    #[test]
    fn a_refusal_names_the_action_of_its_operation() {
        let cx = context();
        let head = cx.failed(StepId::BucketExists, denied(Operation::HeadBucket));
        assert_eq!(head.findings[0].action.as_deref(), Some("s3:ListBucket"));
        let policy = cx.failed(StepId::BucketPolicy, denied(Operation::GetBucketPolicy));
        assert_eq!(
            policy.findings[0].action.as_deref(),
            Some("s3:GetBucketPolicy")
        );
        assert_eq!(
            policy.detail,
            "access denied: s3:GetBucketPolicy is not allowed"
        );
    }

    #[test]
    fn multipart_actions_are_needed_only_by_a_run_that_may_upload_in_parts() {
        let run = |multipart, read_only| RunSettings {
            multipart,
            read_only,
            ..RunSettings::default()
        };
        assert_eq!(
            run(true, false).extra_object_actions(),
            crate::policy::MULTIPART_ACTIONS
        );
        assert!(run(true, true).extra_object_actions().is_empty());
        assert!(run(false, false).extra_object_actions().is_empty());
    }

    #[test]
    fn a_sessions_role_is_named_with_its_path_once_known() {
        let session =
            crate::arn::parse_principal("arn:aws:sts::123456789012:assumed-role/app/worker")
                .unwrap();
        let mut i = Identity::new(session, None, true);
        assert_eq!(
            i.acting_arn(),
            "role app in account 123456789012 (path not known: the session ARN does not carry it)"
        );
        assert!(!i.role_path_known);
        assert_eq!(
            i.role_and_session().as_deref(),
            Some("role app (path not known: the session ARN does not carry it), session worker")
        );
        // Another role's ARN (or another account's) teaches nothing.
        i.learn_role_arn("arn:aws:iam::123456789012:role/svc/other");
        i.learn_role_arn("arn:aws:iam::999999999999:role/svc/app");
        assert_eq!(
            i.role_arn.as_deref(),
            Some("arn:aws:iam::123456789012:role/app")
        );
        assert!(!i.role_path_known);
        i.learn_role_arn("arn:aws:iam::123456789012:role/svc/app");
        assert!(i.role_path_known);
        assert_eq!(i.acting_arn(), "arn:aws:iam::123456789012:role/svc/app");
        assert_eq!(
            i.principal.role_arn().as_deref(),
            Some("arn:aws:iam::123456789012:role/svc/app")
        );
        assert_eq!(
            i.role_and_session().as_deref(),
            Some("role app (arn:aws:iam::123456789012:role/svc/app), session worker")
        );
        // A user has no role.
        let user = crate::arn::parse_principal("arn:aws:iam::123456789012:user/u").unwrap();
        let mut u = Identity::new(user, None, true);
        u.learn_role_arn("arn:aws:iam::123456789012:role/u");
        assert_eq!(u.role_arn, None);
        assert_eq!(u.acting_arn(), "arn:aws:iam::123456789012:user/u");
    }

    #[test]
    fn an_unusable_admin_profile_reads_as_its_connection_failure() {
        let e = AdminUnusable(crate::credentials::CredentialsFailure::plain(
            FindingCode::CredentialsMissing,
            "profile admin not found",
        ));
        assert_eq!(e.to_string(), "profile admin not found");
    }
}
