//! The VPC endpoint's own policy: with `--vpce ID` and `--admin-profile`, read it
//! (`ec2:DescribeVpcEndpoints`, once per run, beside the bucket-policy step's other reads), or
//! take it from `--vpce-policy FILE`; then judge every action the app needs against it as
//! the app's requests through that endpoint meet it (the source `vpc-endpoint-policy`). A
//! request through a VPC endpoint needs the endpoint policy to allow it too ("Control access
//! to VPC endpoints using endpoint policies", AWS PrivateLink guide,
//! <https://docs.aws.amazon.com/vpc/latest/privatelink/vpc-endpoints-access.html>). An
//! endpoint policy filters, it grants nothing: an Allow naming the caller's account lets
//! the account's users and roles through an interface endpoint, but through a gateway
//! endpoint (S3's usual kind) only its root user, the same page says ("Principals for
//! gateway endpoints": such principals need `aws:PrincipalArn`). Read from EC2, the
//! endpoint's VPC and owner give the requests' `aws:SourceVpcArn` (its account inferred: the
//! endpoint's owner taken as the VPC's), for every policy judged
//! from the app's network: the read starts with the run's first calls ([`start_early`]) and
//! each step that judges from there awaits it ([`read`]) before it builds a request, so the
//! bucket policy and the identity policies see the same VPC as the endpoint's policy.

use std::sync::Arc;

use super::conditions::{self, EndpointPath, Judgement, Vantage};
use super::{CheckContext, app_request};
use crate::answers::{Facts, FindingSpec};
use crate::arn::{Arn, Principal};
use crate::finding::{Basis, DenySource, Finding, FindingCode};
use crate::policy::evaluate::{self, Policies, Verdict};
use crate::policy::{Effect, NamedPolicy, PolicyDocument, PolicyKind, Principal as Who};
use crate::runbook::StepId;

/// `--vpce-policy FILE`: the endpoint's policy as saved (`aws ec2 describe-vpc-endpoints
/// --query 'VpcEndpoints[0].PolicyDocument' --output text > FILE`).
#[derive(Clone, Debug)]
pub struct PolicyFile {
    pub path: std::path::PathBuf,
    pub policy: NamedPolicy,
}

/// The endpoint's kind, as EC2 names it; it decides what an account principal means.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Kind {
    /// `Interface`: an account principal is every user and role of the account.
    Interface,
    /// `Gateway`: an account principal is the account's root user only.
    Gateway,
    /// Not known (`--vpce-policy FILE`), or another kind.
    Unknown,
}

impl Kind {
    fn from_ec2(endpoint_type: Option<&str>) -> Self {
        match endpoint_type {
            Some("Interface") => Kind::Interface,
            Some("Gateway") => Kind::Gateway,
            _ => Kind::Unknown,
        }
    }

    /// How the step's detail names it: `an interface endpoint`.
    fn described(self) -> &'static str {
        match self {
            Kind::Interface => "an interface endpoint",
            Kind::Gateway => "a gateway endpoint",
            Kind::Unknown => "an endpoint of another kind",
        }
    }
}

/// The endpoint's policy and its kind, and what its description says of the requests
/// through it (its VPC's ARN).
#[derive(Clone, Debug)]
pub struct Endpoint {
    pub policy: NamedPolicy,
    pub kind: Kind,
    pub path: EndpointPath,
}

/// The ARN of the endpoint's VPC ("aws:SourceVpcArn", IAM User Guide, "AWS global condition
/// context keys": `arn:aws:ec2:REGION:ACCOUNT:vpc/VPC-ID`), when EC2 gave the VPC and the
/// owner and the region it was asked in is known (not a default). ACCOUNT is the endpoint's
/// owner, taken as the VPC's: EC2's answer does not name the VPC's owner, so the ARN is said
/// to be inferred wherever it decides (`conditions::INFERRED_VPC_OWNER` says why it holds).
fn vpc_arn(region: Option<&str>, e: &crate::aws::ec2_query::VpcEndpoint) -> Option<String> {
    let (region, owner, vpc) = (region?, e.owner_id.as_deref()?, e.vpc_id.as_deref()?);
    let partition = crate::arn::partition_of_region(Some(region));
    Some(format!("arn:{partition}:ec2:{region}:{owner}:vpc/{vpc}"))
}

/// Starts the endpoint's read with the run's first calls, so that the steps that judge from
/// the app's network find it read (or in flight) instead of asking after their own reads: it
/// adds no round trip in a row. Nothing starts without `--vpce` and `--admin-profile`, or
/// with a `--vpce-policy` file.
pub fn start_early(cx: &CheckContext) {
    if cx.run.network.vpce.is_none() || cx.run.vpce_policy.is_some() || cx.admin.is_none() {
        return;
    }
    let cx = cx.clone();
    tokio::spawn(async move {
        let _ = read(&cx).await;
    });
}

/// The endpoint's policy, or why it could not be read; `None` when there is none to read (no
/// `--vpce`, or neither `--admin-profile` nor `--vpce-policy`).
pub type EndpointPolicy = Option<Result<Arc<Endpoint>, String>>;

/// How the endpoint policy is named in findings: `the VPC endpoint policy of vpce-1`.
pub fn policy_name(vpce: &str) -> String {
    format!("VPC endpoint policy of {vpce}")
}

/// A policy document as an endpoint policy of `vpce`.
pub fn named(vpce: &str, document: PolicyDocument) -> NamedPolicy {
    NamedPolicy::new(
        policy_name(vpce),
        None,
        PolicyKind::VpcEndpointPolicy,
        document,
    )
}

/// The endpoint of a `--vpce-policy` file: of the kind `--vpce-type` says, else unknown.
fn from_file(file: &PolicyFile, said: Option<Kind>) -> Endpoint {
    Endpoint {
        policy: file.policy.clone(),
        kind: said.unwrap_or(Kind::Unknown),
        path: EndpointPath::default(),
    }
}

/// The endpoint's policy, read once per run; from a file, its kind is what `--vpce-type`
/// says (EC2's answer wins where it is read).
pub async fn read(cx: &CheckContext) -> EndpointPolicy {
    let vpce = cx.run.network.vpce.as_deref()?;
    if let Some(file) = &cx.run.vpce_policy {
        return Some(Ok(Arc::new(from_file(file, cx.run.vpce_type))));
    }
    let admin = match cx.admin_session().await? {
        Ok(admin) => admin,
        Err(why) => {
            return Some(Err(format!(
                "the admin profile has no usable credentials: {why}"
            )));
        }
    };
    let read = cx
        .cache
        .vpc_endpoint
        .get_or_init(|| async {
            let e = crate::aws::ec2_query::describe_vpc_endpoint(&cx.settings, &admin, vpce)
                .await
                .map_err(|e| format!("ec2:DescribeVpcEndpoints with the admin profile: {e}"))?;
            let text = e
                .policy_document
                .clone()
                .ok_or_else(|| format!("EC2 gave no policy for {vpce}"))?;
            let document = PolicyDocument::parse(&text)
                .map_err(|e| format!("the policy of {vpce} cannot be read: {e}"))?;
            let path = EndpointPath {
                vpc: e.vpc_id.clone(),
                vpc_arn: vpc_arn(admin.region.as_deref(), &e),
            };
            // Every request judged from the app's network carries it from now on.
            let _ = cx.cache.endpoint_path.set(path.clone());
            Ok(Arc::new(Endpoint {
                policy: named(vpce, document),
                kind: Kind::from_ec2(e.endpoint_type.as_deref()),
                path,
            }))
        })
        .await;
    Some(read.clone())
}

/// The endpoint policy against each action the app needs: a finding for each it does not
/// allow, one sentence for the step's detail.
pub fn judge(
    cx: &CheckContext,
    p: &Principal,
    endpoint: &Endpoint,
    needs: &[((&'static str, Option<String>), String)],
) -> (Vec<Finding>, String) {
    let policy = &endpoint.policy;
    let read = as_filter_for(endpoint, &p.arn, &p.account);
    let alone = Policies {
        identity: &[],
        resource: Some(&read),
        boundary: None,
    };
    let mut findings = Vec::new();
    let mut refused = Vec::new();
    for ((action, key), resource) in needs {
        let request = app_request::request(cx, p, (action, resource.clone()), Vantage::AppNetwork);
        let d = evaluate::evaluate(&request, &alone);
        let key = key.as_deref();
        let judged = Judgement {
            here: d,
            app: None,
            network: conditions::network_words(cx),
        };
        let source = (DenySource::VpcEndpointPolicy, false);
        let f = conditions::finding(cx, StepId::BucketPolicy, (action, key), &judged, source)
            .or_else(|| plain(cx, (action, key), &judged, policy))
            .map(|f| with_account_note(f, endpoint, &p.account));
        if let Some(f) = f {
            refused.push(match key {
                Some(k) => format!("{action} on {k}"),
                None => (*action).to_owned(),
            });
            findings.push(f);
        }
    }
    let vpce = cx.run.network.vpce.as_deref().unwrap_or("the endpoint");
    let mut note = if refused.is_empty() {
        format!("the policy of VPC endpoint {vpce} allows every action the app needs")
    } else {
        format!(
            "the policy of VPC endpoint {vpce} does not allow {}",
            refused.join(", ")
        )
    };
    for said in contradicted(cx, endpoint) {
        note.push_str(&format!("; {said}"));
    }
    (findings, note)
}

/// What EC2's description of the endpoint contradicts among the flags the person gave
/// (`--vpce-type`, `--vpc`), one sentence each, saying that EC2's answer is used.
pub fn contradicted(cx: &CheckContext, endpoint: &Endpoint) -> Vec<String> {
    let vpce = cx.run.network.vpce.as_deref().unwrap_or("the endpoint");
    let given = cx.run.network.vpc.as_deref();
    disagreement(cx.run.vpce_type, endpoint.kind)
        .into_iter()
        .chain(vpc_disagreement(given, vpce, endpoint.path.vpc.as_deref()))
        .collect()
}

/// `--vpc` against the VPC EC2 says the endpoint is in: when they differ, the person typed
/// another VPC than the app's requests go through, and EC2's answer is what the policies are
/// judged with (`aws:SourceVpc`).
fn vpc_disagreement(given: Option<&str>, vpce: &str, ec2: Option<&str>) -> Option<String> {
    let (given, ec2) = (given?, ec2?);
    (given != ec2).then(|| {
        format!("--vpc says {given}, but EC2 says {vpce} is in {ec2}: EC2's answer is used")
    })
}

/// `--vpce-type` against the kind the policy was judged for: when they differ, EC2 said
/// otherwise (a file's endpoint takes the flag's kind) and its answer was used.
fn disagreement(said: Option<Kind>, judged: Kind) -> Option<String> {
    let said = said.filter(|s| *s != judged)?;
    Some(format!(
        "--vpce-type says {}, but EC2 says it is {}: EC2's answer is used",
        said.described(),
        judged.described()
    ))
}

/// A Deny, or no Allow, without a condition: the endpoint refuses what goes through it.
fn plain(
    cx: &CheckContext,
    (action, key): (&str, Option<&str>),
    judged: &Judgement,
    policy: &NamedPolicy,
) -> Option<Finding> {
    let d = &judged.here;
    let code = match d.verdict {
        Verdict::Allowed => return None,
        Verdict::ExplicitDeny => FindingCode::ExplicitDeny,
        Verdict::ImplicitDeny => FindingCode::DependsOnNetwork,
    };
    let mut f = FindingSpec {
        code,
        step: StepId::BucketPolicy,
        facts: Facts {
            object: key,
            ..cx.facts(Some(action))
        },
        source: Some(DenySource::VpcEndpointPolicy),
        statement: d.statements.first().cloned(),
        evidence: None,
    }
    .build()
    .with_basis(Basis::Policies);
    let vpce = cx.run.network.vpce.as_deref().unwrap_or("the endpoint");
    if code == FindingCode::DependsOnNetwork {
        f.summary.push_str(&format!(
            " No statement of {} allows it, so every request through {vpce} is refused (an endpoint policy must allow what goes through the endpoint, whatever the identity and bucket policies allow).",
            policy.name
        ));
    }
    f.remedy = format!(
        "Allow {action} on the bucket in the endpoint's policy (VPC console > Endpoints > {vpce} > Policy, or `aws ec2 modify-vpc-endpoint --vpc-endpoint-id {vpce} --policy-document file://endpoint-policy.json`), or send the app's requests another way than through {vpce}."
    );
    Some(f)
}

/// The endpoint policy as the evaluator should read it for the caller `arn` of `account`:
/// through an interface endpoint, an Allow naming the account (`"111122223333"` or
/// `arn:aws:iam::111122223333:root`) lets the caller through, so it names the caller too (the
/// evaluator, reading it as a bucket policy, would take it as a delegation to the identity
/// policies); so it does for the account's root user through any endpoint. A Deny, `*`, other
/// ARNs and the other kinds of endpoint are read as written.
fn as_filter_for(endpoint: &Endpoint, arn: &str, account: &str) -> NamedPolicy {
    let mut policy = endpoint.policy.clone();
    // The root user is what an account principal names through any endpoint.
    let root = Arn::parse(arn).is_some_and(|a| a.is_account_root());
    if !(endpoint.kind == Kind::Interface || root) || arn.is_empty() {
        return policy;
    }
    for s in &mut policy.document.statement {
        let Some(Who::Map(map)) = &mut s.principal else {
            continue;
        };
        if s.effect != Effect::Allow {
            continue;
        }
        let Some(aws) = map.get_mut("AWS") else {
            continue;
        };
        if aws.iter().any(|e| names_account(e, account)) {
            let mut entries = aws.as_slice().to_vec();
            entries.push(arn.to_owned());
            *aws = entries.into();
        }
    }
    policy
}

/// Does a principal entry name `account` itself (its id, or its root user's ARN)?
fn names_account(entry: &str, account: &str) -> bool {
    !account.is_empty()
        && (entry == account
            || Arn::parse(entry)
                .is_some_and(|a| a.service == "iam" && a.account == account && a.is_account_root()))
}

/// A refusal where an Allow names the caller's account, and the endpoint is not known to be
/// an interface endpoint: say why that Allow does not count, or may not.
fn with_account_note(mut f: Finding, endpoint: &Endpoint, account: &str) -> Finding {
    let named = endpoint.policy.document.statement.iter().any(|s| {
        s.effect == Effect::Allow
            && s.principal
                .as_ref()
                .is_some_and(|w| w.values("AWS").iter().any(|e| names_account(e, account)))
    });
    let why = match endpoint.kind {
        _ if !named => return f,
        Kind::Interface => return f,
        Kind::Gateway => "it is a gateway endpoint, so",
        Kind::Unknown => {
            "if it is a gateway endpoint (S3's usual kind; an interface endpoint lets the whole account through; --vpce-type says which),"
        }
    };
    f.summary.push_str(&format!(
        " An Allow of the endpoint policy names account {account}, but {why} that means the account's root user only: name the app's ARN in the endpoint policy with the condition key aws:PrincipalArn (AWS PrivateLink guide, \"Principals for gateway endpoints\")."
    ));
    f
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::policy::Request;

    const APP: &str = "arn:aws:iam::111122223333:user/app";

    fn endpoint(kind: Kind, statements: &str) -> Endpoint {
        let text = format!(r#"{{"Version": "2012-10-17", "Statement": [{statements}]}}"#);
        let document = PolicyDocument::parse(&text).expect("policy");
        Endpoint {
            policy: named("vpce-1", document),
            kind,
            path: EndpointPath::default(),
        }
    }

    /// The verdict on the app's upload through the endpoint, as `judge` evaluates it.
    fn upload(endpoint: &Endpoint, caller: &str) -> Verdict {
        let read = as_filter_for(endpoint, caller, "111122223333");
        let request = Request::new(caller, "111122223333", "s3:PutObject", "arn:aws:s3:::b/k");
        let policies = Policies {
            identity: &[],
            resource: Some(&read),
            boundary: None,
        };
        evaluate::evaluate(&request, &policies).verdict
    }

    fn allow(principal: &str) -> String {
        format!(
            r#"{{"Effect": "Allow", "Principal": {{"AWS": "{principal}"}}, "Action": "s3:*", "Resource": "*"}}"#
        )
    }

    #[test]
    fn an_interface_endpoint_allowing_the_callers_account_lets_the_caller_through() {
        for named in ["111122223333", "arn:aws:iam::111122223333:root"] {
            let e = endpoint(Kind::Interface, &allow(named));
            assert_eq!(upload(&e, APP), Verdict::Allowed, "{named}");
        }
        let role = "arn:aws:sts::111122223333:assumed-role/app/s1";
        let e = endpoint(Kind::Interface, &allow("111122223333"));
        assert_eq!(upload(&e, role), Verdict::Allowed);
    }

    #[test]
    fn another_account_or_a_gateway_endpoint_does_not_let_the_caller_through() {
        let other = endpoint(Kind::Interface, &allow("444455556666"));
        assert_eq!(upload(&other, APP), Verdict::ImplicitDeny);
        let other_root = endpoint(Kind::Interface, &allow("arn:aws:iam::444455556666:root"));
        assert_eq!(upload(&other_root, APP), Verdict::ImplicitDeny);
        // Through a gateway endpoint (or one of unknown kind) the account is its root user.
        for kind in [Kind::Gateway, Kind::Unknown] {
            let e = endpoint(kind, &allow("111122223333"));
            assert_eq!(upload(&e, APP), Verdict::ImplicitDeny, "{kind:?}");
            let root = "arn:aws:iam::111122223333:root";
            assert_eq!(upload(&e, root), Verdict::Allowed, "{kind:?}");
        }
    }

    #[test]
    fn a_deny_naming_the_account_still_denies_and_the_policy_shown_is_as_written() {
        let deny = r#"{"Effect": "Deny", "Principal": {"AWS": "111122223333"}, "Action": "s3:PutObject", "Resource": "*"}"#;
        let e = endpoint(Kind::Interface, &format!("{},{deny}", allow("*")));
        assert_eq!(upload(&e, APP), Verdict::ExplicitDeny);
        let e = endpoint(Kind::Interface, &allow("111122223333"));
        let read = as_filter_for(&e, APP, "111122223333");
        assert_eq!(
            read.document.statement[0]
                .principal
                .as_ref()
                .map(|p| p.values("AWS").to_vec()),
            Some(vec!["111122223333".to_owned(), APP.to_owned()])
        );
        assert_eq!(
            e.policy.document.statement[0].principal,
            Some(Who::aws("111122223333"))
        );
    }

    fn file(statements: &str) -> PolicyFile {
        PolicyFile {
            path: "endpoint-policy.json".into(),
            policy: endpoint(Kind::Unknown, statements).policy,
        }
    }

    #[test]
    fn a_policy_file_of_an_interface_endpoint_lets_the_accounts_caller_through() {
        let f = file(&allow("111122223333"));
        let e = from_file(&f, Some(Kind::Interface));
        assert_eq!(e.kind, Kind::Interface);
        assert_eq!(upload(&e, APP), Verdict::Allowed);
    }

    #[test]
    fn a_policy_file_of_a_gateway_endpoint_or_of_no_said_type_refuses_the_caller() {
        let f = file(&allow("111122223333"));
        for (said, kind) in [(Some(Kind::Gateway), Kind::Gateway), (None, Kind::Unknown)] {
            let e = from_file(&f, said);
            assert_eq!(e.kind, kind);
            assert_eq!(upload(&e, APP), Verdict::ImplicitDeny, "{said:?}");
        }
    }

    #[test]
    fn a_said_type_that_ec2_contradicts_is_named_and_ec2_wins() {
        assert_eq!(disagreement(None, Kind::Gateway), None);
        assert_eq!(disagreement(Some(Kind::Gateway), Kind::Gateway), None);
        let said = disagreement(Some(Kind::Interface), Kind::Gateway).expect("disagreement");
        assert_eq!(
            said,
            "--vpce-type says an interface endpoint, but EC2 says it is a gateway endpoint: EC2's answer is used"
        );
    }

    #[test]
    fn a_vpc_flag_that_ec2_contradicts_is_named_and_ec2_wins() {
        let said = vpc_disagreement(Some("vpc-0typed"), "vpce-1", Some("vpc-0ec2"));
        assert_eq!(
            said.as_deref(),
            Some("--vpc says vpc-0typed, but EC2 says vpce-1 is in vpc-0ec2: EC2's answer is used")
        );
        // The same VPC, no --vpc, or no VPC in EC2's answer: nothing to say.
        assert_eq!(
            vpc_disagreement(Some("vpc-0ec2"), "vpce-1", Some("vpc-0ec2")),
            None
        );
        assert_eq!(vpc_disagreement(None, "vpce-1", Some("vpc-0ec2")), None);
        assert_eq!(vpc_disagreement(Some("vpc-0typed"), "vpce-1", None), None);
    }

    #[test]
    fn the_vpc_arn_comes_from_the_description_and_is_judged_in_the_endpoint_policy() {
        let described = crate::aws::ec2_query::VpcEndpoint {
            id: "vpce-1".into(),
            vpc_id: Some("vpc-0abc".into()),
            owner_id: Some("111122223333".into()),
            ..Default::default()
        };
        let arn = "arn:aws:ec2:eu-west-1:111122223333:vpc/vpc-0abc";
        assert_eq!(vpc_arn(Some("eu-west-1"), &described).as_deref(), Some(arn));
        let cn = vpc_arn(Some("cn-north-1"), &described).expect("arn");
        assert!(cn.starts_with("arn:aws-cn:ec2:cn-north-1:"), "{cn}");
        // Not known, not guessed: no region, no VPC, no owner.
        assert_eq!(vpc_arn(None, &described), None);
        let no_vpc = crate::aws::ec2_query::VpcEndpoint {
            vpc_id: None,
            ..described.clone()
        };
        assert_eq!(vpc_arn(Some("eu-west-1"), &no_vpc), None);
        // An endpoint policy that allows the VPC by its ARN lets the upload through.
        let only_vpc = format!(
            r#"{{"Effect": "Allow", "Principal": "*", "Action": "s3:*", "Resource": "*",
                "Condition": {{"ArnEquals": {{"aws:SourceVpcArn": "{arn}"}}}}}}"#
        );
        let mut e = endpoint(Kind::Gateway, &only_vpc);
        let verdict = |e: &Endpoint| {
            let request = Request::new(APP, "111122223333", "s3:PutObject", "arn:aws:s3:::b/k")
                .with_context(e.path.context());
            let known = request
                .context
                .get("aws:SourceVpcArn")
                .map(|k| k.origin.clone());
            let policies = Policies {
                identity: &[],
                resource: Some(&e.policy),
                boundary: None,
            };
            (evaluate::evaluate(&request, &policies).verdict, known)
        };
        assert_eq!(verdict(&e).0, Verdict::ImplicitDeny);
        e.path.vpc_arn = Some(arn.to_owned());
        assert_eq!(
            verdict(&e),
            (
                Verdict::Allowed,
                Some(crate::policy::condition::Origin::VpcEndpointInferred)
            )
        );
    }
}
