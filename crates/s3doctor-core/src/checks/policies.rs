//! The "why" steps: `identity-policies` and `bucket-policy` evaluate every action the app
//! needs against the policies that decide (read by `policy_sources`), with AWS's simulator
//! when it answers and the local evaluator otherwise, so that each denial names its policy
//! and statement. Reading needs IAM/S3 read rights: with the app's keys that often fails,
//! and the step says so (and names `--admin-profile`) instead of failing.

use aws_sdk_s3::operation::get_bucket_encryption::{
    GetBucketEncryptionError as EncryptionError, GetBucketEncryptionOutput as EncryptionOutput,
};
use aws_sdk_s3::operation::get_bucket_ownership_controls::{
    GetBucketOwnershipControlsError as OwnershipError,
    GetBucketOwnershipControlsOutput as OwnershipOutput,
};

use super::conditions::{self, Judgement, Vantage};
use super::policy_sources::{PolicyReadError, cached_identity_policies, read_bucket_policy};
use super::{
    CheckContext, CheckResult, Fact, NotChecked, Status, StepOutcome, simulate, unsupported,
};
use super::{app_request, vpc_endpoint};
use crate::answers::access_denied::DenySource;
use crate::answers::{Facts, FindingSpec};
use crate::arn::{self, Principal, PrincipalKind};
use crate::aws::Session;
use crate::finding::{Finding, FindingCode, Severity, StatementRef};
use crate::operation::Operation;
use crate::policy::evaluate::{self, Decision, Policies, Request, Verdict};
use crate::policy::{NamedPolicy, PolicyKind};
use crate::runbook::StepId;

/// Who reads the policies: the admin profile when given (connected once per run), else the
/// diagnosed keys.
async fn reader(cx: &CheckContext) -> Result<(std::sync::Arc<Session>, String), NotChecked> {
    match cx.admin_session().await {
        Some(Ok(s)) => return Ok((s, "the admin profile".to_owned())),
        Some(Err(detail)) => {
            return Err(NotChecked::nothing(format!(
                "the admin profile has no usable credentials: {detail}"
            )));
        }
        None => {}
    }
    let session = cx
        .session
        .clone()
        .ok_or_else(|| NotChecked::nothing("no credentials"))?;
    Ok((session, "the diagnosed keys".to_owned()))
}

/// The partition of the resources the app's requests name: the principal's, or the region's.
pub(super) fn partition(cx: &CheckContext) -> String {
    let principal = cx.identity.as_ref().map(|i| &i.principal);
    arn::partition_for(principal, cx.signing_region().as_deref())
}

/// The app's own objects (`--key`) with their ARNs: reading one needs s3:GetObject on it, so
/// a Deny or an Allow scoped to its prefix is weighed on it too.
fn object_needs(cx: &CheckContext) -> Vec<(String, String)> {
    let partition = partition(cx);
    cx.run
        .keys
        .iter()
        .map(|key| (key.clone(), arn::object_arn(&partition, cx.bucket(), key)))
        .collect()
}

/// Which kind of policy holds `statement`, as a finding's `source`.
pub(super) fn source_of_statement(statement: Option<&StatementRef>) -> DenySource {
    match statement.and_then(|s| s.policy_kind.as_ref()) {
        Some(PolicyKind::BucketPolicy) => DenySource::BucketPolicy,
        Some(PolicyKind::PermissionsBoundary) => DenySource::PermissionsBoundary,
        Some(PolicyKind::VpcEndpointPolicy) => DenySource::VpcEndpointPolicy,
        _ => DenySource::IdentityPolicy,
    }
}

/// Every request the app makes on this bucket: the probe's actions, then a read of each of
/// its own objects (`--key`), with the resource each names.
pub(super) fn all_needs(cx: &CheckContext) -> Vec<((&'static str, Option<String>), String)> {
    let probe = needed(cx)
        .into_iter()
        .map(|(action, r)| ((action, None), r));
    let objects = object_needs(cx)
        .into_iter()
        .map(|(k, r)| ((GET, Some(k)), r));
    probe.chain(objects).collect()
}

/// The action reading one of the app's objects needs.
const GET: &str = "s3:GetObject";

/// Every action the app needs on this bucket, with the resource it applies to.
fn needed(cx: &CheckContext) -> Vec<(&'static str, String)> {
    let bucket = cx.bucket();
    let partition = partition(cx);
    let object = arn::object_arn(&partition, bucket, &format!("{}probe", cx.run.prefix));
    let mut out = vec![("s3:ListBucket", arn::bucket_arn(&partition, bucket))];
    for action in cx.run.access.object_actions() {
        let writes = crate::operation::action_writes(action);
        if writes && cx.run.read_only {
            continue;
        }
        out.push((action, object.clone()));
    }
    for action in cx.run.extra_object_actions() {
        out.push((action, object.clone()));
    }
    out
}

fn statement_ref(d: &Decision) -> Option<StatementRef> {
    d.statements.first().cloned()
}

/// The policy AWS's simulator says matched, when the local evaluation cannot name it.
fn matched_policy(sim: &simulate::Simulated) -> Option<StatementRef> {
    sim.matched
        .first()
        .map(|name| StatementRef::policy(name.clone(), None))
}

fn source_of(d: &Decision, default: DenySource) -> DenySource {
    let from_boundary = d.blocked_by_boundary.is_some()
        || d.statements
            .first()
            .is_some_and(|s| s.is_in(&PolicyKind::PermissionsBoundary));
    if from_boundary {
        DenySource::PermissionsBoundary
    } else {
        default
    }
}

fn finding(
    cx: &CheckContext,
    step: StepId,
    code: FindingCode,
    (action, object): (&str, Option<&str>),
    source: DenySource,
    statement: Option<StatementRef>,
) -> Finding {
    let facts: Facts<'_> = Facts {
        object,
        ..cx.facts(Some(action))
    };
    FindingSpec {
        code,
        step,
        facts,
        source: Some(source),
        statement,
        evidence: None,
    }
    .build()
    .with_basis(crate::finding::Basis::Policies)
}

/// The step whose findings [`Weighing::weigh`] makes.
const IDENTITY: StepId = StepId::IdentityPolicies;

/// Said of a bucket-policy Deny that applies only because the principal has a permissions
/// boundary. IAM User Guide, "NotPrincipal" and "Permissions boundaries for IAM entities":
/// "The `NotPrincipal` element with a `Deny` effect will always deny any IAM principal that has a
/// permissions boundary policy attached, regardless of the values specified in the
/// `NotPrincipal` element."
const NOT_PRINCIPAL_WITH_BOUNDARY: &str = " The statement is a Deny with NotPrincipal: AWS applies \
     it to every principal that has a permissions boundary, even one listed in NotPrincipal \
     (IAM User Guide, \"NotPrincipal\"). Rewrite it as a Deny to \"*\" with an ArnNotEquals \
     aws:PrincipalArn condition, as AWS recommends.";

/// Would the bucket policy alone (without the boundary) deny this request?
fn denied_without_boundary(
    request: &Request,
    bucket_policy: Result<&Option<NamedPolicy>, &PolicyReadError>,
) -> bool {
    let Ok(Some(policy)) = bucket_policy else {
        return false;
    };
    let alone = Policies {
        identity: &[],
        resource: Some(policy),
        boundary: None,
    };
    evaluate::evaluate(request, &alone).verdict == Verdict::ExplicitDeny
}

/// The sentence added to a finding whose verdict rests on a reading of AWS's documentation;
/// `who` names the server whose live answers decide (`AWS`, `Ceph RGW`, …).
fn uncertain_sentence(readings: &[(&StatementRef, &str)], who: &str) -> String {
    let parts: Vec<String> = readings
        .iter()
        .map(|(statement, reading)| format!("{} ({})", reading, statement.in_policy()))
        .collect();
    format!(
        " Not certain: {}. The live checks show what {who} actually decides.",
        parts.join("; ")
    )
}

/// `identity-policies`: the principal's own policies (and boundary) against each action:
/// whose policies, read them (once per run), ask AWS's simulator, weigh each action, say it.
pub(super) async fn identity_policies(cx: &CheckContext) -> CheckResult {
    let Some(p) = whose_policies(cx).await? else {
        return Ok(StepOutcome::pass(
            "the account's root user: identity policies do not limit it",
        ));
    };
    let (session, who) = reader(cx).await?;
    let iam = &session.clients.iam;
    let (policies, boundary) = load_identity_policies(cx, p, iam, &who).await?;
    // A same-account bucket policy can allow what identity policies do not, so it takes
    // part; when it cannot be read, "nothing allows it" is only a warning.
    let bucket_policy = read_bucket_policy(cx, &cx.s3_with(&session), cx.bucket()).await;
    let needed = needed(cx);
    let objects = object_needs(cx);
    let mut asked = needed.clone();
    asked.extend(objects.iter().map(|(_, arn)| (GET, arn.clone())));
    // The role's ARN with its path, once IAM named it: the simulator knows no other.
    let source_arn = cx
        .cache
        .role_arn
        .get()
        .cloned()
        .or_else(|| p.role_arn())
        .unwrap_or_else(|| p.arn.clone());
    let simulated = simulate::simulate(iam, &source_arn, &asked).await;
    let (sim, how) = match &simulated {
        Ok(results) => (results.as_slice(), "AWS's policy simulator".to_owned()),
        Err(why) => (
            &[][..],
            format!("evaluated locally (the policy simulator is unavailable: {why})"),
        ),
    };
    let weighing = Weighing {
        principal: p,
        identity: &policies,
        bucket_policy: bucket_policy.as_ref(),
        boundary: boundary.as_ref(),
        simulated: sim,
    };
    // What EC2 says of the app's VPC endpoint is in every request judged from its network
    // (read since the run's first calls: no round trip is added here).
    let _ = vpc_endpoint::read(cx).await;
    let mut judged = Judged::default();
    for (action, resource) in needed {
        weighing.weigh(cx, (action, None), resource, &mut judged);
    }
    for (key, resource) in &objects {
        weighing.weigh(cx, (GET, Some(key)), resource.clone(), &mut judged);
    }
    let read = read_sentence(&how, &who, &policies, boundary.as_ref());
    let outcome = judged.outcome(&read, &who);
    Ok(match cx.cache.role_arn.get() {
        Some(arn) => outcome.with_fact(Fact::RoleArn(arn.clone())),
        None => outcome,
    })
}

/// The principal whose policies decide (`None`: the account's root user, whom identity
/// policies do not limit), or why there is none to read: it is unknown, has no policies of
/// its own, or the endpoint has no IAM.
async fn whose_policies(cx: &CheckContext) -> Result<Option<&Principal>, NotChecked> {
    let identity = cx
        .identity
        .as_ref()
        .ok_or_else(|| NotChecked::nothing("the principal is unknown"))?;
    let p = &identity.principal;
    match p.kind {
        PrincipalKind::Root => return Ok(None),
        PrincipalKind::User | PrincipalKind::AssumedRole | PrincipalKind::Role => {}
        _ => {
            return Err(NotChecked::nothing(format!(
                "{} is a {} principal: its permissions come from the role or federation it was issued by",
                p.arn,
                p.kind.as_str()
            )));
        }
    }
    let caps = cx.capabilities().await;
    if caps.s3_only() {
        return Err(NotChecked::nothing(format!(
            "{} has no STS and no IAM managed policies: what {} may do there is decided by the bucket policy (the bucket-policy step) and the bucket owner's grants",
            caps.kind.label(),
            p.name
        )));
    }
    Ok(Some(p))
}

/// The principal's identity policies and permissions boundary, read once per run (every
/// bucket's step needs the same); a skip that says why (and how to read them) when they
/// cannot be read.
async fn load_identity_policies(
    cx: &CheckContext,
    p: &Principal,
    iam: &aws_sdk_iam::Client,
    who: &str,
) -> Result<(Vec<NamedPolicy>, Option<NamedPolicy>), NotChecked> {
    let loaded = cached_identity_policies(cx, iam, p).await;
    loaded.map_err(|why| {
        let hint = if cx.admin.is_some() {
            String::new()
        } else {
            "; run with --admin-profile PROFILE (IAM read rights) to see which statement decides"
                .to_owned()
        };
        let authorization = why
            .authorization_id()
            .map(|id| {
                format!(
                    "; {}",
                    crate::answers::access_denied::authorization_hint(id)
                )
            })
            .unwrap_or_default();
        NotChecked::nothing(format!(
            "cannot read the IAM policies of {} with {who} ({why}){hint}{authorization}",
            p.name
        ))
    })
}

/// What the identity-policies step weighs each action against.
struct Weighing<'a> {
    principal: &'a Principal,
    identity: &'a [NamedPolicy],
    /// The bucket policy (`None`: the bucket has none), or why it could not be read.
    bucket_policy: Result<&'a Option<NamedPolicy>, &'a PolicyReadError>,
    boundary: Option<&'a NamedPolicy>,
    /// AWS's simulator's answers (empty when it did not answer).
    simulated: &'a [simulate::Simulated],
}

/// One request weighed: the local decision, AWS's answer, and the verdict that counts.
struct Weighed<'s> {
    decision: Decision,
    aws: Option<&'s simulate::Simulated>,
    verdict: Verdict,
    source: DenySource,
    statement: Option<StatementRef>,
    /// The local evaluation's explicit deny comes from the bucket policy.
    denied_by_bucket: bool,
}

/// What the weighing of every action found.
#[derive(Default)]
struct Judged {
    findings: Vec<Finding>,
    /// `action: summary` of the decisions that depend on conditions.
    conditional: Vec<String>,
    /// Actions nothing allows, when the unreadable bucket policy might.
    unsure: Vec<String>,
}

impl Weighing<'_> {
    /// The local decision and AWS's verdict on one request, combined.
    fn decide(&self, request: &Request, resource: &str) -> Weighed<'_> {
        let decision = evaluate::evaluate(request, &self.policies());
        let aws = simulate::find(self.simulated, &request.action, resource);
        let (verdict, source) = simulate::combine(aws, &decision);
        let source = match source {
            DenySource::IdentityPolicy => source_of(&decision, DenySource::IdentityPolicy),
            other => other,
        };
        // The local statement is named only when it agrees with the verdict.
        let statement = (decision.verdict == verdict)
            .then(|| statement_ref(&decision))
            .flatten();
        let denied_by_bucket = decision.verdict == Verdict::ExplicitDeny
            && decision
                .statements
                .first()
                .is_some_and(|s| s.is_in(&PolicyKind::BucketPolicy));
        Weighed {
            decision,
            aws,
            verdict,
            source,
            statement,
            denied_by_bucket,
        }
    }

    /// Weighs one action (on the app's object `key`, for a `--key`) on one resource and
    /// records what it finds.
    fn weigh(
        &self,
        cx: &CheckContext,
        (action, key): (&'static str, Option<&str>),
        resource: String,
        out: &mut Judged,
    ) {
        let p = self.principal;
        let request = app_request::request(cx, p, (action, resource.clone()), Vantage::Here);
        let w = self.decide(&request, &resource);
        let d = &w.decision;
        let label = match key {
            Some(k) => format!("{action} on {k}"),
            None => action.to_owned(),
        };
        if !d.conditional.is_empty() {
            out.conditional.push(format!("{label}: {}", d.summary()));
        }
        if let Some(f) = self.by_conditions(cx, (action, key), &request, d) {
            out.findings.push(f);
            return;
        }
        let found =
            |code, source, statement| finding(cx, IDENTITY, code, (action, key), source, statement);
        let readings = d.readings();
        match w.verdict {
            Verdict::Allowed => {}
            // A Deny with NotPrincipal denies every principal with a permissions boundary: the
            // bucket-policy step (which does not read the boundary) cannot see that one.
            Verdict::ExplicitDeny
                if w.denied_by_bucket
                    && w.aws.is_none()
                    && self.boundary.is_some()
                    && !denied_without_boundary(&request, self.bucket_policy) =>
            {
                let mut f = found(
                    FindingCode::ExplicitDeny,
                    DenySource::BucketPolicy,
                    w.statement,
                );
                f.summary.push_str(NOT_PRINCIPAL_WITH_BOUNDARY);
                out.findings.push(f);
            }
            // The bucket-policy step reports the bucket policy's own denials.
            Verdict::ExplicitDeny if w.denied_by_bucket && w.aws.is_none() => {}
            // AWS's documentation leaves the outcome open: a warning that says so and which
            // reading s3doctor took, not a firm "not allowed".
            Verdict::ImplicitDeny if !readings.is_empty() && w.source != DenySource::Scp => {
                let mut f = found(FindingCode::PermissionMissing, w.source, None);
                f.severity = Severity::Warning;
                f.summary
                    .push_str(&uncertain_sentence(&readings, cx.server.who()));
                out.findings.push(f);
            }
            Verdict::ImplicitDeny if self.bucket_policy.is_err() && w.source != DenySource::Scp => {
                out.unsure.push(label)
            }
            Verdict::ExplicitDeny => out.findings.push(found(
                FindingCode::ExplicitDeny,
                w.source,
                w.statement.or_else(|| w.aws.and_then(matched_policy)),
            )),
            Verdict::ImplicitDeny => {
                out.findings
                    .push(found(FindingCode::PermissionMissing, w.source, None))
            }
        }
    }
}

impl Weighing<'_> {
    /// The finding the conditions make, judged locally from here (`here`) and from the app's
    /// network: a Deny a known condition makes apply, an Allow that waits on one, a Deny that
    /// may apply.
    fn by_conditions(
        &self,
        cx: &CheckContext,
        (action, key): (&'static str, Option<&str>),
        request: &Request,
        here: &Decision,
    ) -> Option<Finding> {
        let policies = self.policies();
        let app = (!cx.run.network.is_empty()).then(|| {
            let app_request =
                request
                    .clone()
                    .with_context(conditions::context(cx, action, Vantage::AppNetwork));
            evaluate::evaluate(&app_request, &policies)
        });
        let judged = Judgement {
            here: here.clone(),
            app,
            network: conditions::network_words(cx),
        };
        let counted = judged.counted();
        let decisive = counted
            .statements
            .first()
            .or_else(|| counted.open().first().copied())
            .or_else(|| counted.unmet.first());
        let source = source_of_statement(decisive);
        conditions::finding(cx, IDENTITY, (action, key), &judged, (source, false))
    }

    fn policies(&self) -> Policies<'_> {
        Policies {
            identity: self.identity,
            resource: self.bucket_policy.ok().and_then(Option::as_ref),
            boundary: self.boundary,
        }
    }
}

/// How the policies were read and judged: `AWS's policy simulator; read with the admin
/// profile: 2 policies (a, b), permissions boundary c`.
fn read_sentence(
    how: &str,
    who: &str,
    policies: &[NamedPolicy],
    boundary: Option<&NamedPolicy>,
) -> String {
    let names: Vec<&str> = policies.iter().map(|n| n.name.as_str()).collect();
    format!(
        "{how}; read with {who}: {} polic{} ({}){}",
        names.len(),
        if names.len() == 1 { "y" } else { "ies" },
        if names.is_empty() {
            "none".to_owned()
        } else {
            names.join(", ")
        },
        boundary
            .map(|b| format!(", permissions boundary {}", b.name))
            .unwrap_or_default()
    )
}

/// `s3:PutObject denied, s3:GetObject on a.pdf depends on the network`: each finding's action
/// and what stops it.
fn findings_words(findings: &[Finding]) -> String {
    let what: Vec<String> = findings
        .iter()
        .map(|f| {
            let how = match (f.code, f.severity) {
                (FindingCode::ExplicitDeny, _) => "denied",
                (FindingCode::DependsOnNetwork, Severity::Error) => "depends on the network",
                (FindingCode::DependsOnNetwork, _) => "may be denied, depending on the network",
                (FindingCode::DependsOnCondition, Severity::Error) => "depends on a condition",
                (FindingCode::DependsOnCondition, _) => "may be denied, depending on a condition",
                (_, Severity::Warning) => "may not be allowed",
                _ => "not allowed",
            };
            let on = f
                .key
                .as_deref()
                .map(|k| format!(" on {k}"))
                .unwrap_or_default();
            format!("{}{on} {how}", f.action.as_deref().unwrap_or("?"))
        })
        .collect();
    what.join(", ")
}

impl Judged {
    /// The step's outcome: pass, a warning (only uncertain findings, or actions the unreadable
    /// bucket policy may allow), or a failure naming each action denied or not allowed.
    fn outcome(self, read: &str, who: &str) -> StepOutcome {
        let Judged {
            findings,
            conditional,
            unsure,
        } = self;
        let firm = findings.iter().any(Finding::is_error);
        let mut outcome = if findings.is_empty() && unsure.is_empty() {
            StepOutcome::pass(format!("they allow every action the app needs; {read}"))
        } else if !firm
            && findings
                .iter()
                .any(|f| f.code != FindingCode::PermissionMissing)
        {
            let mut o = StepOutcome::warn(format!("{}; {read}", findings_words(&findings)));
            o.findings = findings;
            o
        } else if !firm && !findings.is_empty() {
            let what: Vec<&str> = findings
                .iter()
                .filter_map(|f| f.action.as_deref())
                .collect();
            let mut o = StepOutcome::warn(format!(
                "they may not allow {} (AWS's documentation leaves it open); {read}",
                what.join(", ")
            ));
            o.findings = findings;
            o
        } else if findings.is_empty() {
            StepOutcome::warn(format!(
                "they do not allow {} (the bucket policy, unreadable with {who}, may); {read}",
                unsure.join(", ")
            ))
        } else {
            let mut o = StepOutcome::failed(format!("{}; {read}", findings_words(&findings)));
            o.findings = findings;
            o
        };
        if !conditional.is_empty() {
            outcome.detail.push_str(&format!(
                "; depends on conditions: {}",
                conditional.join("; ")
            ));
        }
        outcome
    }
}

/// `bucket-policy`: whose bucket it is (another account's needs a grant in its bucket
/// policy), the bucket policy against each action, and the bucket settings that refuse
/// requests whatever the policies say (Object Ownership, KMS encryption).
pub(super) async fn bucket_policy(cx: &CheckContext) -> CheckResult {
    let foreign = super::owner::foreign(cx).await;
    let outcome = bucket_settings(cx).await;
    let Some(finding) = foreign else {
        return outcome;
    };
    let mut o = outcome.unwrap_or_else(StepOutcome::from);
    o.detail = format!("{} belongs to another account; {}", cx.bucket(), o.detail);
    if matches!(o.status, Status::Pass | Status::Skip) {
        o.status = Status::Warn;
    }
    o.findings.insert(0, finding);
    Ok(o)
}

/// The bucket policy against each action, then the bucket settings that refuse requests
/// whatever the policies say, one note each.
async fn bucket_settings(cx: &CheckContext) -> CheckResult {
    let (session, who) = reader(cx).await?;
    let bucket = cx.bucket();
    let s3 = cx.s3_with(&session);
    let mut seen = Settings::default();
    // The VPC endpoint's description (`--vpce` with the admin, read since the run's first
    // calls) before the bucket policy is judged: what it says of the app's network counts.
    let (policy, endpoint) = futures::join!(
        readable_bucket_policy(cx, &s3, &who),
        vpc_endpoint::read(cx)
    );
    let policy = match policy {
        Ok(policy) => policy,
        Err(unread) => return endpoint_policy_alone(cx, unread).await,
    };
    let s3_only = cx.capabilities().await.s3_only();
    match (&policy, &cx.identity) {
        (None, _) => seen.notes.push("no bucket policy".to_owned()),
        (Some(policy), Some(identity)) => {
            seen.policy_denials(cx, (&identity.principal, s3_only), policy)
        }
        (Some(_), None) => {}
    }
    // The four settings are asked at once (one round trip, not four), then judged in order.
    let (block, ownership, encryption, payer) = futures::join!(
        public_access_block(&s3, bucket),
        s3.get_bucket_ownership_controls().bucket(bucket).send(),
        s3.get_bucket_encryption().bucket(bucket).send(),
        requester_pays(&s3, bucket),
    );
    seen.endpoint_policy(cx, endpoint);
    seen.notes.extend(block);
    let server = cx.capabilities().await.kind.label();
    seen.ownership(cx, ownership, server);
    seen.encryption(cx, encryption, server);
    seen.notes.extend(payer);
    let detail = format!("read with {who}: {}", seen.notes.join("; "));
    Ok(seen.outcome(detail))
}

/// The bucket policy could not be read (`unread` says why): the VPC endpoint's policy is
/// still judged when it is known (`--vpce-policy FILE` needs no reading rights).
async fn endpoint_policy_alone(cx: &CheckContext, unread: String) -> CheckResult {
    let mut seen = Settings::default();
    seen.endpoint_policy(cx, vpc_endpoint::read(cx).await);
    if seen.notes.is_empty() {
        return Err(NotChecked::Nothing(unread));
    }
    let detail = format!("{unread}; {}", seen.notes.join("; "));
    let mut o = if seen.findings.iter().any(Finding::is_error) {
        StepOutcome::failed(detail)
    } else {
        StepOutcome::warn(detail)
    };
    o.findings = seen.findings;
    Ok(o)
}

/// The bucket policy (`None`: there is none), or why it cannot be read and who may read it.
async fn readable_bucket_policy(
    cx: &CheckContext,
    s3: &aws_sdk_s3::Client,
    who: &str,
) -> Result<Option<NamedPolicy>, String> {
    let why = match read_bucket_policy(cx, s3, cx.bucket()).await {
        Ok(policy) => return Ok(policy),
        Err(why) => why,
    };
    let caps = cx.capabilities().await;
    let hint = if cx.admin.is_some() {
        String::new()
    } else if caps.s3_only() {
        format!(
            "; on {} only the bucket owner may read it: --admin-profile OWNER (the owner's keys)",
            caps.kind.label()
        )
    } else {
        "; --admin-profile PROFILE can read it".to_owned()
    };
    Err(format!(
        "cannot read the bucket policy with {who} ({why}){hint}"
    ))
}

/// An S3 call's answer, as `send()` gives it.
type Answer<O, E> = Result<
    O,
    aws_smithy_runtime_api::client::result::SdkError<
        E,
        aws_smithy_runtime_api::client::orchestrator::HttpResponse,
    >,
>;

/// What the bucket-policy step learned of the bucket: one note per setting, and findings.
#[derive(Default)]
struct Settings {
    notes: Vec<String>,
    findings: Vec<Finding>,
    /// `s3:PutObject depends on the network`: the actions a condition decides.
    conditional: Vec<String>,
    /// EC2's description of the VPC endpoint contradicts `--vpc` or `--vpce-type`.
    contradicted: bool,
}

/// How the bucket-policy step's detail names what a condition finding says.
fn condition_words(f: &Finding) -> &'static str {
    match (f.code, f.severity) {
        (FindingCode::ExplicitDeny, _) => "is denied by a condition s3doctor settled",
        (FindingCode::DependsOnNetwork, Severity::Warning) => {
            "may be denied, depending on the network"
        }
        (FindingCode::DependsOnNetwork, _) => "depends on the network",
        (_, Severity::Warning) => "may be denied, depending on a condition",
        _ => "depends on a condition",
    }
}

impl Settings {
    /// The step's outcome: failed on an error; a warning for a Deny that may apply depending
    /// on a condition (never a pass), or for a flag about the app's network that EC2's answer
    /// contradicts (the what-if is not the one the person asked for); else a pass.
    fn outcome(self, detail: String) -> StepOutcome {
        let findings = self.findings;
        let may_deny = findings.iter().any(|f| {
            matches!(
                f.code,
                FindingCode::DependsOnNetwork | FindingCode::DependsOnCondition
            )
        });
        let mut o = if findings.iter().any(Finding::is_error) {
            StepOutcome::failed(detail)
        } else if may_deny || self.contradicted {
            StepOutcome::warn(detail)
        } else {
            StepOutcome::pass(detail)
        };
        o.findings = findings;
        o
    }

    /// The bucket policy alone against each action the app needs.
    fn policy_denials(
        &mut self,
        cx: &CheckContext,
        (p, s3_only): (&Principal, bool),
        policy: &NamedPolicy,
    ) {
        let mut denied = Vec::new();
        let alone = Policies {
            identity: &[],
            resource: Some(policy),
            boundary: None,
        };
        for ((action, key), resource) in all_needs(cx) {
            let judged = app_request::judge(cx, p, (action, &resource), &alone);
            let label = match &key {
                Some(k) => format!("{action} on {k}"),
                None => action.to_owned(),
            };
            let by_condition = conditions::finding(
                cx,
                StepId::BucketPolicy,
                (action, key.as_deref()),
                &judged,
                (DenySource::BucketPolicy, !s3_only),
            );
            if let Some(f) = by_condition {
                self.conditional
                    .push(format!("{label} {}", condition_words(&f)));
                self.findings.push(f);
                continue;
            }
            let d = judged.here;
            if d.verdict == Verdict::ExplicitDeny {
                denied.push(match &key {
                    Some(k) => format!("{action} on {k}"),
                    None => action.to_owned(),
                });
                self.findings.push(finding(
                    cx,
                    StepId::BucketPolicy,
                    FindingCode::ExplicitDeny,
                    (action, key.as_deref()),
                    DenySource::BucketPolicy,
                    statement_ref(&d),
                ));
            }
        }
        let conditional = std::mem::take(&mut self.conditional);
        self.notes
            .push(match (denied.is_empty(), conditional.is_empty()) {
                (true, true) => "the bucket policy denies none of the app's actions".to_owned(),
                (false, true) => format!("the bucket policy denies {}", denied.join(", ")),
                (true, false) => format!("the bucket policy: {}", conditional.join(", ")),
                (false, false) => format!(
                    "the bucket policy denies {}; {}",
                    denied.join(", "),
                    conditional.join(", ")
                ),
            });
    }

    /// The VPC endpoint's policy against each action, as the app's requests through it meet
    /// it; a note when it could not be read.
    fn endpoint_policy(&mut self, cx: &CheckContext, endpoint: vpc_endpoint::EndpointPolicy) {
        let (Some(read), Some(identity)) = (endpoint, cx.identity.as_ref()) else {
            return;
        };
        match read {
            Ok(policy) => {
                let needs = all_needs(cx);
                let (findings, note) =
                    vpc_endpoint::judge(cx, &identity.principal, &policy, &needs);
                self.contradicted |= !vpc_endpoint::contradicted(cx, &policy).is_empty();
                self.findings.extend(findings);
                self.notes.push(note);
            }
            Err(why) => self.notes.push(format!(
                "the VPC endpoint's policy could not be read ({why})"
            )),
        }
    }

    /// Object Ownership: with the bucket owner enforced, ACLs are refused (a finding when the
    /// app sets them); a server that does not know the setting says so.
    fn ownership(
        &mut self,
        cx: &CheckContext,
        ownership: Answer<OwnershipOutput, OwnershipError>,
        server: &str,
    ) {
        // A 200 without the operation's document (Ceph RGW answers a bucket listing) is a
        // server that does not know the sub-resource: not supported, never "no configuration".
        let unsupported_here = match &ownership {
            Ok(out) => out.ownership_controls().is_none(),
            Err(err) => unsupported::answered_200(err),
        };
        if unsupported_here {
            self.notes
                .push(format!("Object Ownership: not supported by {server}"));
            self.findings.push(unsupported::finding(
                cx,
                StepId::BucketPolicy,
                Operation::GetBucketOwnershipControls,
            ));
        }
        let Ok(out) = ownership else { return };
        let enforced = out
            .ownership_controls()
            .map(|c| c.rules())
            .unwrap_or_default()
            .iter()
            .any(|r| r.object_ownership().as_str() == "BucketOwnerEnforced");
        if !enforced {
            return;
        }
        self.notes
            .push("Object Ownership: bucket owner enforced (ACLs are refused)".to_owned());
        if cx.run.access == crate::policy::Access::Full {
            let mut f = finding(
                cx,
                StepId::BucketPolicy,
                FindingCode::AclDisabled,
                ("s3:PutObjectAcl", None),
                DenySource::Unknown,
                None,
            );
            f.source = None;
            self.findings.push(f);
        }
    }

    /// Default encryption: a KMS key means uploads and reads need KMS permissions too.
    fn encryption(
        &mut self,
        cx: &CheckContext,
        encryption: Answer<EncryptionOutput, EncryptionError>,
        server: &str,
    ) {
        let unsupported_here = match &encryption {
            Ok(out) => out.server_side_encryption_configuration().is_none(),
            Err(err) => unsupported::answered_200(err),
        };
        if unsupported_here {
            self.notes
                .push(format!("default encryption: not supported by {server}"));
            self.findings.push(unsupported::finding(
                cx,
                StepId::BucketPolicy,
                Operation::GetBucketEncryption,
            ));
        }
        let Ok(out) = encryption else { return };
        if let Some(key) = super::kms::default_kms_key(&out, "the AWS managed key aws/s3") {
            self.notes.push(format!(
                "default encryption with KMS key {key}: uploads need kms:GenerateDataKey, reads kms:Decrypt"
            ));
        }
    }
}

/// Block Public Access, when it can be read. It only refuses public grants: it never blocks
/// an IAM principal of the account, but it explains why public-read uploads are refused.
async fn public_access_block(s3: &aws_sdk_s3::Client, bucket: &str) -> Option<String> {
    let out = s3
        .get_public_access_block()
        .bucket(bucket)
        .send()
        .await
        .ok()?;
    let c = out.public_access_block_configuration()?;
    let on = [
        c.block_public_acls(),
        c.ignore_public_acls(),
        c.block_public_policy(),
        c.restrict_public_buckets(),
    ]
    .iter()
    .filter(|v| **v == Some(true))
    .count();
    Some(match on {
        4 => "Block Public Access: all on (public ACLs and policies are refused)".to_owned(),
        0 => "Block Public Access: off".to_owned(),
        n => format!("Block Public Access: {n} of 4 settings on"),
    })
}

/// Requester Pays, when it is on.
async fn requester_pays(s3: &aws_sdk_s3::Client, bucket: &str) -> Option<String> {
    let out = s3
        .get_bucket_request_payment()
        .bucket(bucket)
        .send()
        .await
        .ok()?;
    out.payer()
        .is_some_and(|p| p.as_str() == "Requester")
        .then(|| {
            "Requester Pays: requests from other accounts must send x-amz-request-payer: requester"
                .to_owned()
        })
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::server::EndpointKind;

    /// A verdict that rests on a reading of the documentation sends the person to the live
    /// checks of the server that answered: Ceph RGW's decide on Ceph RGW, not AWS's.
    #[test]
    fn the_uncertain_sentence_names_the_server_whose_live_checks_decide() {
        let statement = StatementRef {
            policy_name: "app".into(),
            sid: Some("Uploads".into()),
            ..StatementRef::default()
        };
        let readings = [(&statement, "a reading")];
        for (kind, who) in [
            (EndpointKind::Aws, "AWS"),
            (EndpointKind::CephRgw, "Ceph RGW"),
            (EndpointKind::S3Compatible, "the S3 server"),
        ] {
            let sentence = uncertain_sentence(&readings, kind.who());
            assert!(
                sentence.ends_with(&format!(
                    "The live checks show what {who} actually decides."
                )),
                "{sentence}"
            );
            assert!(sentence.contains("a reading"), "{sentence}");
        }
    }
}
