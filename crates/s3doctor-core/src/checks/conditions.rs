//! Conditions as findings: what the app's requests carry (the request [`Context`], each value
//! with its [`Origin`]), judged from here and from the app's network (`--source-ip`, `--vpc`,
//! `--vpce`), and the finding a condition makes when it decides an action the app needs:
//! `permission.depends-on-network` for the network keys, `permission.depends-on-condition` for
//! the others, and an explicit deny whose condition s3doctor settled says which value made it
//! apply (a Deny on `aws:SecureTransport` against an `http://` endpoint).
//!
//! Which values s3doctor knows, and from where:
//! - `aws:SecureTransport`: the endpoint's scheme (no `--endpoint-url`: AWS over HTTPS);
//! - `aws:PrincipalArn`, `aws:PrincipalAccount`, `aws:PrincipalType`, `aws:username`,
//!   `aws:userid`: the identity (`sts:GetCallerIdentity`). For a role session `aws:PrincipalArn`
//!   is the role's ARN (unknown while its path is: the session's ARN does not carry it) and
//!   there is no `aws:username` ("AWS global condition context keys",
//!   <https://docs.aws.amazon.com/IAM/latest/UserGuide/reference_policies_condition-keys.html>);
//! - `s3:x-amz-acl`: `--acl` on uploads; `s3:prefix` and `s3:x-amz-server-side-encryption`:
//!   what the probe's own requests send (Amazon S3's condition keys,
//!   <https://docs.aws.amazon.com/service-authorization/latest/reference/list_amazons3.html>);
//! - `aws:CurrentTime`, `aws:EpochTime`: this machine's clock;
//! - the network keys: unknown from here; from the app's network as
//!   [`crate::policy::AppNetwork::network_path`] says.

use crate::answers::FindingSpec;
use crate::arn::PrincipalKind;
use crate::finding::{Basis, DenySource, Finding, FindingCode, Severity, Vantages};
use crate::policy::Effect;
use crate::policy::condition::{Context, Origin, Test};
use crate::policy::evaluate::{Decision, StatementRef, Verdict};
use crate::runbook::StepId;

use super::{CheckContext, Identity, RunSettings};

/// Where a request is judged from.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Vantage {
    /// The machine s3doctor runs on: its network is not known.
    Here,
    /// The app's network, as `--source-ip`, `--vpc` and `--vpce` describe it.
    AppNetwork,
}

/// What s3doctor knows of the context of the app's request for `action`, from `vantage`.
pub fn context(cx: &CheckContext, action: &str, vantage: Vantage) -> Context {
    let mut c = Context::default();
    secure_transport(&mut c, cx.settings.endpoint.as_deref());
    if let Some(identity) = cx.identity.as_ref().filter(|i| i.confirmed) {
        principal_keys(
            &mut c,
            identity,
            cx.cache.role_arn.get().map(String::as_str),
        );
    }
    request_keys(&mut c, &cx.run, action);
    clock(&mut c, std::time::SystemTime::now());
    if vantage == Vantage::AppNetwork {
        c = c.merged(&cx.run.network.network_path());
        if let Some(path) = cx.cache.endpoint_path.get() {
            c = c.merged(&path.context());
        }
    }
    c
}

/// What EC2's description of the app's VPC endpoint (`--vpce`, read with the admin profile)
/// says of the requests through it. The endpoint's read sets it once per run, and every step
/// that judges from the app's network awaits that read first (`vpc_endpoint::read`),
/// so the bucket policy, the identity policies and the endpoint's own policy all see it.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct EndpointPath {
    /// `aws:SourceVpc`: the VPC EC2 says the endpoint is in (its `vpcId`). It is what the
    /// policies are judged with, whatever `--vpc` said (a difference is reported).
    pub vpc: Option<String>,
    /// `aws:SourceVpcArn`: `arn:PARTITION:ec2:REGION:ACCOUNT:vpc/VPC-ID` ("AWS global
    /// condition context keys"), `None` when a part of it is not known. Its ACCOUNT is the
    /// endpoint's owner, which EC2 names, taken as the VPC's owner, which it does not: an
    /// inference (see [`INFERRED_VPC_OWNER`]).
    pub vpc_arn: Option<String>,
}

impl EndpointPath {
    /// The keys it settles, each from the endpoint's description, with the ARN said to be
    /// inferred; nothing for a part that is missing (never guessed).
    pub fn context(&self) -> Context {
        let mut c = Context::default();
        if let Some(vpc) = &self.vpc {
            c.set("aws:SourceVpc", vpc.clone(), Origin::VpcEndpoint);
        }
        if let Some(arn) = &self.vpc_arn {
            c.set("aws:SourceVpcArn", arn.clone(), Origin::VpcEndpointInferred);
        }
        c
    }
}

/// The app's network in words, as it is judged: with the VPC EC2 says the endpoint is in,
/// where it was read, and what `--vpc` said when that differs (`VPC endpoint vpce-1 in vpc-2
/// (EC2's answer; --vpc said vpc-3), from 10.0.0.5`): the words of the reports' headers too
/// ([`crate::app_network::Judged`]).
pub fn network_words(cx: &CheckContext) -> String {
    let ec2_vpc = cx.cache.endpoint_path.get().and_then(|p| p.vpc.as_deref());
    crate::app_network::Judged::new(&cx.run.network, ec2_vpc).describe()
}

/// Said in a finding that a value s3doctor inferred decides: the VPC's account in
/// `aws:SourceVpcArn`. DescribeVpcEndpoints gives the endpoint's `ownerId` ("The ID of the AWS
/// account that owns the VPC endpoint", EC2 API Reference, `VpcEndpoint`), not the VPC's owner;
/// in a shared VPC it is the VPC's owner who creates gateway and interface endpoints, not a
/// participant (VPC User Guide, "Responsibilities and permissions for owners and
/// participants"), so the two are the same account wherever that holds, but no answer said so.
/// The finding's basis stays `policies` (the policies decide, with every value said with its
/// origin): `inferred` is the diagnosis's word for a bare refusal, which what the policies
/// say replaces.
pub const INFERRED_VPC_OWNER: &str = " The account in aws:SourceVpcArn is inferred: EC2 names the VPC endpoint's owner, not the VPC's, and s3doctor takes the one for the other (in a shared VPC its owner creates the endpoints, VPC User Guide); if the VPC is another account's, the verdict from the app's network may differ.";

/// Does `d` rest on a value s3doctor inferred (a statement that decides, or one whose
/// condition failed, judged with one)?
fn rests_on_inference(d: &Decision) -> bool {
    d.statements
        .iter()
        .chain(&d.unmet)
        .flat_map(|s| &s.settled)
        .any(|x| x.origin.is_inferred())
}

/// `aws:SecureTransport`: `false` for an `http://` endpoint, `true` for HTTPS (AWS's own
/// endpoints when none is given).
fn secure_transport(c: &mut Context, endpoint: Option<&str>) {
    let tls = endpoint.is_none_or(|e| !e.to_ascii_lowercase().starts_with("http://"));
    c.set("aws:SecureTransport", tls.to_string(), Origin::Endpoint);
}

/// The principal keys, as the identity gives them.
fn principal_keys(c: &mut Context, identity: &Identity, role_arn: Option<&str>) {
    let p = &identity.principal;
    let o = || Origin::Identity;
    c.set("aws:PrincipalAccount", p.account.clone(), o());
    // A session's role by its real ARN only: while its path is not known, `role/NAME` may not
    // be it (a statement on `role/service/*` would be judged wrong), so the key stays unknown.
    let arn = match p.kind {
        PrincipalKind::AssumedRole => role_arn.map(str::to_owned).or_else(|| {
            identity
                .role_arn
                .clone()
                .filter(|_| identity.role_path_known)
        }),
        _ => Some(p.arn.clone()),
    };
    if let Some(arn) = arn {
        c.set("aws:PrincipalArn", arn, o());
    }
    let kind = match p.kind {
        PrincipalKind::User => Some("User"),
        PrincipalKind::AssumedRole | PrincipalKind::Role => Some("AssumedRole"),
        PrincipalKind::Root => Some("Account"),
        PrincipalKind::FederatedUser => Some("FederatedUser"),
        PrincipalKind::Unknown => None,
    };
    if let Some(kind) = kind {
        c.set("aws:PrincipalType", kind, o());
    }
    if p.kind == PrincipalKind::User {
        c.set("aws:username", p.name.clone(), o());
    } else {
        c.set_absent("aws:username", o());
    }
    if let Some(id) = &identity.user_id {
        c.set("aws:userid", id.clone(), o());
    }
}

/// The S3 keys of the request for `action`: the ACL the app sends (`--acl`) on uploads, the
/// listing's prefix, and no encryption header (the probe sends none).
fn request_keys(c: &mut Context, run: &RunSettings, action: &str) {
    let upload = action.eq_ignore_ascii_case("s3:PutObject");
    let acl_call = action.eq_ignore_ascii_case("s3:PutObjectAcl");
    match (&run.acl, upload, acl_call) {
        (Some(acl), true, _) | (Some(acl), _, true) => {
            c.set("s3:x-amz-acl", acl.clone(), Origin::AclFlag);
        }
        (None, _, true) => {
            c.set("s3:x-amz-acl", "private", Origin::Probe);
        }
        (None, true, _) => {
            c.set_absent("s3:x-amz-acl", Origin::AclFlag);
        }
        _ => {
            c.set_absent("s3:x-amz-acl", Origin::Probe);
        }
    }
    c.set_absent("s3:x-amz-server-side-encryption", Origin::Probe);
    if action.eq_ignore_ascii_case("s3:ListBucket") && run.prefix_scoped {
        c.set("s3:prefix", run.prefix.clone(), Origin::Probe);
    } else {
        c.set_absent("s3:prefix", Origin::Probe);
    }
}

/// `aws:CurrentTime` and `aws:EpochTime` from this machine's clock.
fn clock(c: &mut Context, now: std::time::SystemTime) {
    use aws_smithy_types::date_time::{DateTime, Format};
    let now = DateTime::from(now);
    if let Ok(text) = now.fmt(Format::DateTime) {
        c.set("aws:CurrentTime", text, Origin::Clock);
    }
    c.set("aws:EpochTime", now.secs().to_string(), Origin::Clock);
}

/// One request judged from here and, when the app's network is given, from there.
pub struct Judgement {
    /// The verdict from here.
    pub here: Decision,
    /// The verdict from the app's network (`None`: no `--source-ip`, `--vpc`, `--vpce`).
    pub app: Option<Decision>,
    /// The app's network in words.
    pub network: String,
}

impl Judgement {
    /// The decision that counts for the app: from its network when given, else from here.
    pub fn counted(&self) -> &Decision {
        self.app.as_ref().unwrap_or(&self.here)
    }
}

/// What a condition did to a decision.
#[derive(Debug)]
enum Said<'a> {
    /// A Deny applies, and conditions s3doctor judged are why (`settled`).
    DeniedBecause(&'a StatementRef),
    /// Nothing allows it unconditionally: Allows wait on conditions, or fail them.
    AllowWaits(Vec<&'a StatementRef>),
    /// Allowed, unless a Deny whose condition s3doctor cannot judge applies.
    DenyWaits(Vec<&'a StatementRef>),
}

/// What the conditions say of `d`; `None` when no condition is involved. `denies_only`: only
/// the Denies count (a bucket policy judged alone, where a missing Allow is the identity
/// policies' matter).
fn said(d: &Decision, denies_only: bool) -> Option<Said<'_>> {
    match d.verdict {
        Verdict::ExplicitDeny => d
            .statements
            .iter()
            .find(|s| !s.settled.is_empty())
            .map(Said::DeniedBecause),
        Verdict::ImplicitDeny if !denies_only => {
            // Only conditions: an open reading of AWS's documentation is the policy steps'
            // "not certain" warning, not a condition.
            let mut waits: Vec<&StatementRef> =
                d.open().into_iter().filter(|s| has_test(s)).collect();
            if waits.is_empty() {
                waits = d
                    .unmet
                    .iter()
                    .filter(|s| s.effect == Some(Effect::Allow))
                    .collect();
            }
            (!waits.is_empty()).then_some(Said::AllowWaits(waits))
        }
        Verdict::ImplicitDeny => {
            let waits = conditional_denies(d);
            (!waits.is_empty()).then_some(Said::DenyWaits(waits))
        }
        Verdict::Allowed => {
            let waits = conditional_denies(d);
            (!waits.is_empty()).then_some(Said::DenyWaits(waits))
        }
    }
}

fn conditional_denies(d: &Decision) -> Vec<&StatementRef> {
    d.conditional
        .iter()
        .filter(|s| s.effect == Some(Effect::Deny) && has_test(s))
        .collect()
}

/// Does the statement wait on a condition (not only on a policy variable or a reading)?
fn has_test(s: &StatementRef) -> bool {
    s.depends_on.iter().any(|x| x.test().is_some())
}

impl Said<'_> {
    fn statements(&self) -> Vec<&StatementRef> {
        match self {
            Said::DeniedBecause(s) => vec![s],
            Said::AllowWaits(v) | Said::DenyWaits(v) => v.clone(),
        }
    }

    /// Does a network key decide (or leave it open)?
    fn network(&self) -> bool {
        self.statements()
            .iter()
            .any(|s| s.depends_on_network() || s.settled_by_network())
    }

    fn code(&self) -> FindingCode {
        match self {
            _ if self.network() => FindingCode::DependsOnNetwork,
            Said::DeniedBecause(_) => FindingCode::ExplicitDeny,
            _ => FindingCode::DependsOnCondition,
        }
    }

    /// An open question is a warning (the live probe from here tells its answer; a refused
    /// probe keeps the error, see `diagnosis`); a condition that fails with what s3doctor
    /// knows is an error.
    fn severity(&self) -> Severity {
        match self {
            Said::DenyWaits(_) => Severity::Warning,
            Said::AllowWaits(v) if v.iter().any(|s| !s.depends_on.is_empty()) => Severity::Warning,
            _ => Severity::Error,
        }
    }

    /// Where a request must come from, in words, by the network keys the conditions name.
    fn route(&self) -> &'static str {
        let keys: Vec<String> = self
            .statements()
            .iter()
            .flat_map(|s| {
                let open = s.depends_on.iter().filter_map(|d| d.test());
                open.chain(s.settled.iter().map(|x| &x.test))
                    .map(|t| t.key.to_ascii_lowercase())
                    .collect::<Vec<_>>()
            })
            .collect();
        let vpc = keys.iter().any(|k| k.contains("vpc"));
        let ip = keys.iter().any(|k| k.ends_with("sourceip"));
        match (vpc, ip) {
            (true, true) => "through that VPC endpoint, or from that address range",
            (true, false) => "through that VPC endpoint (or VPC)",
            _ => "from that address range",
        }
    }

    /// What the request must carry to pass, one clause per statement.
    fn needs(&self) -> Vec<String> {
        self.statements().iter().map(|s| needs_of(s)).collect()
    }

    /// What the conditions are, and what the request carries, one sentence per statement.
    fn explain(&self) -> String {
        let mut out = Vec::new();
        for s in self.statements() {
            let effect = s.effect.map(|e| format!("the {e} ")).unwrap_or_default();
            let known: Vec<String> = s.settled.iter().map(|x| x.describe()).collect();
            let unknown: Vec<String> = s
                .depends_on
                .iter()
                .filter_map(|d| d.test())
                .map(|t| format!("{} (not known {})", t.key, unknown_where(t)))
                .collect();
            let mut parts = Vec::new();
            if !known.is_empty() {
                parts.push(format!("the request's {}", known.join(", ")));
            }
            if !unknown.is_empty() {
                parts.push(unknown.join(", "));
            }
            let conditions = s
                .depends_on
                .iter()
                .filter_map(|d| d.test())
                .chain(s.settled.iter().map(|x| &x.test))
                .map(|t| format!("{} {} {}", t.operator, t.key, t.values.join(", ")))
                .collect::<Vec<_>>()
                .join("; ");
            out.push(format!(
                "{effect}{} has the condition {conditions}: {}",
                s.in_policy(),
                parts.join("; ")
            ));
        }
        // Each sentence starts with a capital ("The Allow Sid …").
        out.iter()
            .map(|s| {
                let mut c = s.chars();
                c.next()
                    .map(|f| f.to_uppercase().chain(c).collect::<String>())
                    .unwrap_or_default()
            })
            .collect::<Vec<_>>()
            .join(". ")
    }
}

/// Where an unknown key's value would come from.
fn unknown_where(t: &Test) -> &'static str {
    if t.is_network() {
        "from here: give the app's network with --source-ip, --vpc or --vpce"
    } else {
        "to s3doctor"
    }
}

/// What the request must carry to pass `s`: every test of an Allow holds; one test of a Deny
/// fails.
fn needs_of(s: &StatementRef) -> String {
    let tests: Vec<&Test> = s
        .depends_on
        .iter()
        .filter_map(|d| d.test())
        .chain(s.settled.iter().map(|x| &x.test))
        .collect();
    match s.effect {
        Some(Effect::Deny) => {
            let t: Vec<String> = tests.iter().map(|t| t.passing(true)).collect();
            t.join(" or ")
        }
        _ => {
            let t: Vec<String> = tests.iter().map(|t| t.passing(false)).collect();
            t.join(" and ")
        }
    }
}

/// The verdict in a sentence, for "from here" / "from the app's network".
fn verdict_words(d: &Decision) -> String {
    let word = match (d.verdict, d.open().is_empty()) {
        (Verdict::Allowed, true) => "allowed",
        (Verdict::Allowed, false) => "allowed unless a condition denies it",
        (Verdict::ExplicitDeny, _) => "denied",
        (Verdict::ImplicitDeny, true) => "not allowed",
        (Verdict::ImplicitDeny, false) => "not allowed unless a condition holds",
    };
    format!("{word} ({})", d.summary())
}

/// The finding the conditions make for one request the app needs (`action`, on the app's
/// object `key` when given), or `None` when no condition decides it. `denies_only`: see
/// [`said`]. A request the app's network allows, but that fails from here, is a warning
/// that says so: the live probe from here is refused, the app's requests are not.
pub fn finding(
    cx: &CheckContext,
    step: StepId,
    (action, key): (&str, Option<&str>),
    judged: &Judgement,
    (source, denies_only): (DenySource, bool),
) -> Option<Finding> {
    let counted = judged.counted();
    let (said, from_here_only) = match said(counted, denies_only) {
        Some(s) => (s, false),
        None if judged.app.is_some() && counted.verdict == Verdict::Allowed => {
            (said(&judged.here, denies_only)?, true)
        }
        None => return None,
    };
    let code = said.code();
    let statement = said.statements().first().map(|s| (*s).clone());
    let mut f = FindingSpec {
        code,
        step,
        facts: crate::answers::Facts {
            object: key,
            ..cx.facts(Some(action))
        },
        source: Some(source),
        statement: statement.clone(),
        evidence: None,
    }
    .build()
    .with_basis(Basis::Policies);
    f.severity = if from_here_only {
        Severity::Warning
    } else {
        said.severity()
    };
    let needs = said.needs().join("; ");
    f.summary.push_str(&format!(
        " {}. To pass, the request must carry: {needs}.",
        said.explain()
    ));
    f.remedy = remedy(&said, &needs, statement.as_ref(), judged);
    say_the_app_network(&mut f, judged, denies_only, from_here_only);
    Some(f)
}

/// The verdict from the app's network beside the one from here, where they differ, and that a
/// value it rests on is inferred.
fn say_the_app_network(
    f: &mut Finding,
    judged: &Judgement,
    denies_only: bool,
    from_here_only: bool,
) {
    if judged.app.as_ref().is_some_and(rests_on_inference) {
        f.summary.push_str(INFERRED_VPC_OWNER);
    }
    // A policy judged alone (the bucket policy's Denies) says nothing of the whole verdict.
    if let Some(app) = judged.app.as_ref().filter(|_| !denies_only)
        && verdict_words(app) != verdict_words(&judged.here)
    {
        f.vantages = Some(Vantages {
            app_network: judged.network.clone(),
            from_here: verdict_words(&judged.here),
            from_app_network: verdict_words(app),
        });
        if from_here_only {
            f.summary.push_str(&format!(
                " From the app's network ({}) it is allowed: only requests from here are refused.",
                judged.network
            ));
        }
    }
}

/// The remedy: where the request must come from, or which condition to widen; HTTPS for a
/// Deny on `aws:SecureTransport`. Never "attach a policy": the condition decides.
fn remedy(
    said: &Said<'_>,
    needs: &str,
    statement: Option<&StatementRef>,
    judged: &Judgement,
) -> String {
    let which = statement
        .map(StatementRef::in_policy)
        .unwrap_or_else(|| "the statement".to_owned());
    let transport = said.statements().iter().any(|s| {
        s.settled
            .iter()
            .any(|x| x.test.key.eq_ignore_ascii_case("aws:SecureTransport"))
    });
    if transport {
        return format!(
            "Send the requests over HTTPS (an https:// endpoint): {which} refuses requests without TLS. Do not widen it: it keeps credentials and data off plain HTTP."
        );
    }
    if said.network() {
        let app = if judged.app.is_some() {
            format!(" (the app's network given: {})", judged.network)
        } else {
            String::new()
        };
        return format!(
            "Make the app's requests come from where the condition allows ({needs}){app}: {}; or widen the condition of {which} to include the app's network. Attaching another Allow does not help while the condition decides.",
            said.route()
        );
    }
    format!(
        "Make the app's request carry {needs}, or widen the condition of {which}. Attaching another Allow does not help while the condition decides."
    )
}

#[cfg(test)]
mod tests {
    use std::sync::Arc;

    use super::*;
    use crate::checks::{BucketState, CheckContext, Identity};
    use crate::policy::{AppNetwork, NamedPolicy, Policies, PolicyDocument, PolicyKind};

    const USER: &str = "arn:aws:iam::123456789012:user/app";
    const VPCE: &str = "vpce-0a1b2c3d4e5f67890";

    fn cx(endpoint: Option<&str>, network: AppNetwork, acl: Option<&str>) -> CheckContext {
        let principal = crate::arn::parse_principal(USER).unwrap();
        CheckContext {
            settings: Arc::new(crate::aws::Settings {
                endpoint: endpoint.map(str::to_owned),
                ..crate::aws::Settings::default()
            }),
            run: Arc::new(RunSettings {
                buckets: vec!["b".into()],
                network,
                acl: acl.map(str::to_owned),
                ..RunSettings::default()
            }),
            session: None,
            admin: None,
            cache: Arc::default(),
            identity: Some(Identity::new(principal, Some("AIDAEXAMPLE".into()), true)),
            bucket: Some("b".into()),
            key: None,
            state: BucketState::default(),
            probe_key: crate::checks::probe::ProbeKey::new(crate::checks::DEFAULT_PREFIX),
            server: crate::server::Server::default(),
        }
    }

    fn policy(kind: PolicyKind, json: &str) -> NamedPolicy {
        let name = match kind {
            PolicyKind::BucketPolicy => "bucket policy of b",
            _ => "app-policy",
        };
        NamedPolicy::new(name, None, kind, PolicyDocument::parse(json).unwrap())
    }

    const ALLOW_ALL: &str = r#"{"Version":"2012-10-17","Statement":[{"Sid":"AppObjects",
        "Effect":"Allow","Action":"s3:*","Resource":"*"}]}"#;

    fn vpce_only_allow() -> NamedPolicy {
        policy(
            PolicyKind::BucketPolicy,
            &format!(
                r#"{{"Version":"2012-10-17","Statement":[{{"Sid":"FromTheVpcEndpoint",
                "Effect":"Allow","Principal":{{"AWS":"{USER}"}},"Action":"s3:PutObject",
                "Resource":"arn:aws:s3:::b/*","Condition":{{"StringEquals":{{"aws:SourceVpce":"{VPCE}"}}}}}}]}}"#
            ),
        )
    }

    fn judged(cx: &CheckContext, action: &str, policies: &Policies<'_>) -> Judgement {
        let p = &cx.identity.as_ref().unwrap().principal;
        crate::checks::app_request::judge(
            cx,
            p,
            (action, "arn:aws:s3:::b/.s3doctor/probe"),
            policies,
        )
    }

    fn network(vpce: &str) -> AppNetwork {
        AppNetwork {
            vpce: Some(vpce.into()),
            ..AppNetwork::default()
        }
    }

    #[test]
    fn the_context_says_where_each_value_came_from() {
        let c = context(
            &cx(
                Some("http://127.0.0.1:9000"),
                AppNetwork::default(),
                Some("public-read"),
            ),
            "s3:PutObject",
            Vantage::Here,
        );
        let get = |k: &str| c.get(k).cloned().unwrap();
        assert_eq!(
            get("aws:SecureTransport").values,
            Some(vec!["false".into()])
        );
        assert_eq!(get("aws:SecureTransport").origin, Origin::Endpoint);
        assert_eq!(get("aws:username").values, Some(vec!["app".into()]));
        assert_eq!(get("aws:userid").values, Some(vec!["AIDAEXAMPLE".into()]));
        assert_eq!(get("aws:PrincipalArn").values, Some(vec![USER.into()]));
        assert_eq!(get("aws:PrincipalAccount").origin, Origin::Identity);
        assert_eq!(get("s3:x-amz-acl").values, Some(vec!["public-read".into()]));
        assert_eq!(get("s3:x-amz-acl").origin, Origin::AclFlag);
        assert_eq!(get("s3:x-amz-server-side-encryption").values, None);
        assert_eq!(get("aws:CurrentTime").origin, Origin::Clock);
        assert!(get("aws:CurrentTime").values.unwrap()[0].starts_with("20"));
        // The network is not known from here.
        assert!(c.get("aws:SourceIp").is_none() && c.get("aws:SourceVpce").is_none());
        // AWS's own endpoints are HTTPS; a GET carries no ACL.
        let c = context(
            &cx(None, AppNetwork::default(), Some("public-read")),
            "s3:GetObject",
            Vantage::Here,
        );
        assert_eq!(
            c.get("aws:SecureTransport").unwrap().values,
            Some(vec!["true".into()])
        );
        assert_eq!(c.get("s3:x-amz-acl").unwrap().values, None);
    }

    #[test]
    fn a_role_session_is_its_role_and_has_no_user_name() {
        let mut cx = cx(None, AppNetwork::default(), None);
        let session =
            crate::arn::parse_principal("arn:aws:sts::123456789012:assumed-role/app-role/s1")
                .unwrap();
        let mut identity = Identity::new(session, Some("AROAEXAMPLE:s1".into()), true);
        cx.identity = Some(identity.clone());
        // The session's ARN does not carry the role's path: its ARN is not known yet.
        let c = context(&cx, "s3:GetObject", Vantage::Here);
        assert!(c.get("aws:PrincipalArn").is_none());
        identity.learn_role_arn("arn:aws:iam::123456789012:role/service/app-role");
        cx.identity = Some(identity);
        let c = context(&cx, "s3:GetObject", Vantage::Here);
        assert_eq!(
            c.get("aws:PrincipalArn").unwrap().values,
            Some(vec![
                "arn:aws:iam::123456789012:role/service/app-role".into()
            ])
        );
        assert_eq!(c.get("aws:username").unwrap().values, None);
        assert_eq!(
            c.get("aws:PrincipalType").unwrap().values,
            Some(vec!["AssumedRole".into()])
        );
    }

    #[test]
    fn a_deny_without_tls_against_an_http_endpoint_is_decided_not_a_missing_allow() {
        let cx = cx(Some("http://127.0.0.1:9000"), AppNetwork::default(), None);
        let bucket = policy(
            PolicyKind::BucketPolicy,
            r#"{"Version":"2012-10-17","Statement":[{"Sid":"DenyInsecureTransport","Effect":"Deny",
            "Principal":"*","Action":"s3:*","Resource":["arn:aws:s3:::b","arn:aws:s3:::b/*"],
            "Condition":{"Bool":{"aws:SecureTransport":"false"}}}]}"#,
        );
        let alone = Policies {
            identity: &[],
            resource: Some(&bucket),
            boundary: None,
        };
        let j = judged(&cx, "s3:PutObject", &alone);
        let f = finding(
            &cx,
            StepId::BucketPolicy,
            ("s3:PutObject", None),
            &j,
            (DenySource::BucketPolicy, true),
        )
        .unwrap();
        assert_eq!(f.code, FindingCode::ExplicitDeny);
        assert_eq!(f.basis, Basis::Policies);
        assert_eq!(f.severity, Severity::Error);
        assert!(f.summary.contains("DenyInsecureTransport"), "{}", f.summary);
        assert!(
            f.summary
                .contains("aws:SecureTransport is false (from the endpoint's scheme)"),
            "{}",
            f.summary
        );
        assert!(f.remedy.contains("HTTPS"), "{}", f.remedy);
        assert!(
            !f.remedy.to_lowercase().contains("attach a"),
            "{}",
            f.remedy
        );
        // Over HTTPS the same Deny does not apply: no finding.
        let https = cx_https();
        let j = judged(&https, "s3:PutObject", &alone);
        assert!(
            finding(
                &https,
                StepId::BucketPolicy,
                ("s3:PutObject", None),
                &j,
                (DenySource::BucketPolicy, true)
            )
            .is_none()
        );
    }

    fn cx_https() -> CheckContext {
        cx(Some("https://s3.example.com"), AppNetwork::default(), None)
    }

    #[test]
    fn an_allow_for_another_network_is_not_a_missing_allow() {
        let cx = cx(None, AppNetwork::default(), None);
        let bucket = vpce_only_allow();
        let all = Policies {
            identity: &[],
            resource: Some(&bucket),
            boundary: None,
        };
        let j = judged(&cx, "s3:PutObject", &all);
        let f = finding(
            &cx,
            StepId::IdentityPolicies,
            ("s3:PutObject", None),
            &j,
            (DenySource::BucketPolicy, false),
        )
        .unwrap();
        assert_eq!(f.code, FindingCode::DependsOnNetwork);
        // Open from here: the live probe tells (a refused probe keeps its error).
        assert_eq!(f.severity, Severity::Warning);
        assert_eq!(
            f.statement.as_ref().unwrap().sid.as_deref(),
            Some("FromTheVpcEndpoint")
        );
        assert!(
            f.summary.contains(&format!("aws:SourceVpce is {VPCE}")),
            "{}",
            f.summary
        );
        assert!(f.summary.contains("--vpce"), "{}", f.summary);
        assert!(f.remedy.contains("VPC endpoint"), "{}", f.remedy);
        assert!(
            !f.remedy.to_lowercase().contains("attach a"),
            "{}",
            f.remedy
        );
        assert!(f.vantages.is_none(), "no app network given");
    }

    #[test]
    fn the_app_network_decides_and_both_verdicts_are_said() {
        let bucket = vpce_only_allow();
        let all = Policies {
            identity: &[],
            resource: Some(&bucket),
            boundary: None,
        };
        // Through the endpoint the policy names: allowed there, refused from here (a warning).
        let through = cx(None, network(VPCE), None);
        let j = judged(&through, "s3:PutObject", &all);
        assert_eq!(j.app.as_ref().unwrap().verdict, Verdict::Allowed);
        let f = finding(
            &through,
            StepId::IdentityPolicies,
            ("s3:PutObject", None),
            &j,
            (DenySource::BucketPolicy, false),
        )
        .unwrap();
        assert_eq!(
            (f.code, f.severity),
            (FindingCode::DependsOnNetwork, Severity::Warning)
        );
        let v = f.vantages.unwrap();
        assert!(v.from_app_network.starts_with("allowed"), "{v:?}");
        assert!(v.from_here.starts_with("not allowed unless"), "{v:?}");
        // Through another endpoint: refused, and the condition is settled by the app's network.
        let other = cx(None, network("vpce-11111111"), None);
        let j = judged(&other, "s3:PutObject", &all);
        let f = finding(
            &other,
            StepId::IdentityPolicies,
            ("s3:PutObject", None),
            &j,
            (DenySource::BucketPolicy, false),
        )
        .unwrap();
        assert_eq!(
            (f.code, f.severity),
            (FindingCode::DependsOnNetwork, Severity::Error)
        );
        assert!(
            f.summary
                .contains("aws:SourceVpce is vpce-11111111 (from the app's network"),
            "{}",
            f.summary
        );
        assert!(f.vantages.is_some());
    }

    const VPC_ARN: &str = "arn:aws:ec2:us-east-1:123456789012:vpc/vpc-0abc";

    /// A bucket policy that lets the app upload only when `condition` holds.
    fn allow_only_if(condition: &str) -> NamedPolicy {
        policy(
            PolicyKind::BucketPolicy,
            &format!(
                r#"{{"Version":"2012-10-17","Statement":[{{"Sid":"FromTheAppsVpc",
                "Effect":"Allow","Principal":{{"AWS":"{USER}"}},"Action":"s3:PutObject",
                "Resource":"arn:aws:s3:::b/*","Condition":{condition}}}]}}"#
            ),
        )
    }

    /// A run through `network` whose VPC endpoint EC2 described as `path`.
    fn described(network: AppNetwork, path: EndpointPath) -> CheckContext {
        let cx = cx(None, network, None);
        cx.cache.endpoint_path.set(path).unwrap();
        cx
    }

    #[test]
    fn the_endpoints_description_gives_every_policy_judged_from_the_app_network_its_vpc_arn() {
        let bucket = allow_only_if(&format!(
            r#"{{"ArnEquals":{{"aws:SourceVpcArn":"{VPC_ARN}"}}}}"#
        ));
        let all = Policies {
            identity: &[],
            resource: Some(&bucket),
            boundary: None,
        };
        // Before the endpoint is read (or without an admin to read it): the ARN is unknown,
        // so the Allow waits on it, a hedge.
        let through = cx(None, network(VPCE), None);
        let j = judged(&through, "s3:PutObject", &all);
        let app = j.app.as_ref().unwrap();
        assert_eq!(app.verdict, Verdict::ImplicitDeny);
        assert!(!app.open().is_empty(), "{app:?}");
        // Read: the bucket policy, judged alone as the policies step does, lets it through.
        let through = described(
            network(VPCE),
            EndpointPath {
                vpc_arn: Some(VPC_ARN.into()),
                ..EndpointPath::default()
            },
        );
        let c = context(&through, "s3:PutObject", Vantage::AppNetwork);
        assert_eq!(
            c.get("aws:SourceVpcArn").map(|k| k.origin.clone()),
            Some(Origin::VpcEndpointInferred)
        );
        let j = judged(&through, "s3:PutObject", &all);
        assert_eq!(j.app.as_ref().unwrap().verdict, Verdict::Allowed);
        // From here the network stays unknown: the description is the app's path only.
        let here = context(&through, "s3:PutObject", Vantage::Here);
        assert!(here.get("aws:SourceVpcArn").is_none());
        // Another VPC's ARN: refused, settled by what EC2 said.
        let other = described(
            network(VPCE),
            EndpointPath {
                vpc_arn: Some("arn:aws:ec2:us-east-1:123456789012:vpc/vpc-0ddd".into()),
                ..EndpointPath::default()
            },
        );
        let j = judged(&other, "s3:PutObject", &all);
        let f = finding(
            &other,
            StepId::BucketPolicy,
            ("s3:PutObject", None),
            &j,
            (DenySource::BucketPolicy, false),
        )
        .unwrap();
        assert_eq!(
            (f.code, f.severity),
            (FindingCode::DependsOnNetwork, Severity::Error)
        );
        assert!(
            f.summary.contains(
                "vpc/vpc-0ddd (inferred from the VPC endpoint's description: its owner taken as the VPC's)"
            ),
            "{}",
            f.summary
        );
        // The verdict rests on the inferred account: said, and the basis is still the policies'.
        assert!(f.summary.ends_with(INFERRED_VPC_OWNER), "{}", f.summary);
        assert_eq!(f.basis, Basis::Policies);
        // A verdict that does not rest on it says nothing of it.
        let unread = cx(None, network("vpce-11111111"), None);
        let j = judged(&unread, "s3:PutObject", &all);
        let f = finding(
            &unread,
            StepId::BucketPolicy,
            ("s3:PutObject", None),
            &j,
            (DenySource::BucketPolicy, false),
        );
        assert!(f.is_none_or(|f| !f.summary.contains("inferred")));
    }

    #[test]
    fn the_vpc_ec2_names_is_judged_and_a_vpc_flag_that_differs_is_said() {
        let bucket = allow_only_if(r#"{"StringEquals":{"aws:SourceVpc":"vpc-0ec2"}}"#);
        let all = Policies {
            identity: &[],
            resource: Some(&bucket),
            boundary: None,
        };
        let typed = AppNetwork {
            vpc: Some("vpc-0typed".into()),
            vpce: Some(VPCE.into()),
            ..AppNetwork::default()
        };
        // EC2 not read: the VPC typed is the what-if, as given.
        let unread = cx(None, typed.clone(), None);
        let c = context(&unread, "s3:PutObject", Vantage::AppNetwork);
        let vpc = c.get("aws:SourceVpc").unwrap();
        assert_eq!(
            (vpc.values.clone(), vpc.origin.clone()),
            (Some(vec!["vpc-0typed".into()]), Origin::AppNetwork)
        );
        let j = judged(&unread, "s3:PutObject", &all);
        assert_eq!(j.app.as_ref().unwrap().verdict, Verdict::ImplicitDeny);
        assert_eq!(j.network, format!("VPC endpoint {VPCE} in vpc-0typed"));
        // EC2 says the endpoint is in another VPC: its answer is judged, and the words say
        // what --vpc said.
        let in_ec2s_vpc = || EndpointPath {
            vpc: Some("vpc-0ec2".into()),
            ..EndpointPath::default()
        };
        let read = described(typed, in_ec2s_vpc());
        let c = context(&read, "s3:PutObject", Vantage::AppNetwork);
        let vpc = c.get("aws:SourceVpc").unwrap();
        assert_eq!(
            (vpc.values.clone(), vpc.origin.clone()),
            (Some(vec!["vpc-0ec2".into()]), Origin::VpcEndpoint)
        );
        let j = judged(&read, "s3:PutObject", &all);
        assert_eq!(j.app.as_ref().unwrap().verdict, Verdict::Allowed);
        assert_eq!(
            j.network,
            format!("VPC endpoint {VPCE} in vpc-0ec2 (EC2's answer; --vpc said vpc-0typed)")
        );
        // Without --vpc, EC2's VPC is the app's, said as its answer.
        let only_vpce = described(network(VPCE), in_ec2s_vpc());
        assert_eq!(
            network_words(&only_vpce),
            format!("VPC endpoint {VPCE} in vpc-0ec2 (EC2's answer)")
        );
    }

    #[test]
    fn a_deny_outside_the_endpoint_makes_the_bucket_policy_step_warn() {
        let cx = cx(None, AppNetwork::default(), None);
        let bucket = policy(
            PolicyKind::BucketPolicy,
            &format!(
                r#"{{"Version":"2012-10-17","Statement":[{{"Sid":"OnlyThroughTheEndpoint","Effect":"Deny",
                "Principal":"*","Action":"s3:*","Resource":"arn:aws:s3:::b/*",
                "Condition":{{"StringNotEquals":{{"aws:SourceVpce":"{VPCE}"}}}}}}]}}"#
            ),
        );
        let identity = [policy(PolicyKind::Inline, ALLOW_ALL)];
        let all = Policies {
            identity: &identity,
            resource: Some(&bucket),
            boundary: None,
        };
        let j = judged(&cx, "s3:GetObject", &all);
        assert_eq!(j.here.verdict, Verdict::Allowed);
        let f = finding(
            &cx,
            StepId::IdentityPolicies,
            ("s3:GetObject", None),
            &j,
            (DenySource::BucketPolicy, false),
        )
        .unwrap();
        assert_eq!(
            (f.code, f.severity),
            (FindingCode::DependsOnNetwork, Severity::Warning)
        );
        assert!(
            f.summary.contains(&format!("aws:SourceVpce is {VPCE}")),
            "{}",
            f.summary
        );
        // The app's endpoint is another: the Deny applies, decided by the app's network.
        let other = self::cx(None, network("vpce-11111111"), None);
        let j = judged(&other, "s3:GetObject", &all);
        assert_eq!(j.app.as_ref().unwrap().verdict, Verdict::ExplicitDeny);
        let f = finding(
            &other,
            StepId::IdentityPolicies,
            ("s3:GetObject", None),
            &j,
            (DenySource::BucketPolicy, false),
        )
        .unwrap();
        assert_eq!(
            (f.code, f.severity),
            (FindingCode::DependsOnNetwork, Severity::Error)
        );
    }

    #[test]
    fn a_condition_s3doctor_cannot_know_is_named_with_what_the_request_needs() {
        let cx = cx(None, AppNetwork::default(), None);
        let identity = [policy(
            PolicyKind::Inline,
            r#"{"Version":"2012-10-17","Statement":[{"Sid":"WithMfa","Effect":"Allow",
            "Action":"s3:PutObject","Resource":"*",
            "Condition":{"Bool":{"aws:MultiFactorAuthPresent":"true"}}}]}"#,
        )];
        let all = Policies {
            identity: &identity,
            resource: None,
            boundary: None,
        };
        let j = judged(&cx, "s3:PutObject", &all);
        let f = finding(
            &cx,
            StepId::IdentityPolicies,
            ("s3:PutObject", None),
            &j,
            (DenySource::IdentityPolicy, false),
        )
        .unwrap();
        assert_eq!(f.code, FindingCode::DependsOnCondition);
        assert!(
            f.summary.contains("aws:MultiFactorAuthPresent is true"),
            "{}",
            f.summary
        );
        assert!(f.summary.contains("WithMfa"), "{}", f.summary);
        // An Allow that wants an ACL the app does not send fails on what s3doctor knows.
        let identity = [policy(
            PolicyKind::Inline,
            r#"{"Version":"2012-10-17","Statement":[{"Sid":"OwnerFullControl","Effect":"Allow",
            "Action":"s3:PutObject","Resource":"*",
            "Condition":{"StringEquals":{"s3:x-amz-acl":"bucket-owner-full-control"}}}]}"#,
        )];
        let all = Policies {
            identity: &identity,
            resource: None,
            boundary: None,
        };
        let j = judged(&cx, "s3:PutObject", &all);
        let f = finding(
            &cx,
            StepId::IdentityPolicies,
            ("s3:PutObject", None),
            &j,
            (DenySource::IdentityPolicy, false),
        )
        .unwrap();
        assert_eq!(f.code, FindingCode::DependsOnCondition);
        assert!(
            f.summary
                .contains("s3:x-amz-acl is not in the request (from --acl)"),
            "{}",
            f.summary
        );
        assert!(
            f.remedy
                .contains("s3:x-amz-acl is bucket-owner-full-control"),
            "{}",
            f.remedy
        );
        // With --acl bucket-owner-full-control it is allowed: no finding.
        let with_acl = self::cx(
            None,
            AppNetwork::default(),
            Some("bucket-owner-full-control"),
        );
        let j = judged(&with_acl, "s3:PutObject", &all);
        assert_eq!(j.here.verdict, Verdict::Allowed);
        assert!(
            finding(
                &with_acl,
                StepId::IdentityPolicies,
                ("s3:PutObject", None),
                &j,
                (DenySource::IdentityPolicy, false)
            )
            .is_none()
        );
    }
}
