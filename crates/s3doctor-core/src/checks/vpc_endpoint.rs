//! The VPC endpoint's own policy: with `--vpce ID` and `--admin-profile`, read it
//! (`ec2:DescribeVpcEndpoints`, once per run, beside the bucket-policy step's other reads), or
//! take it from `--vpce-policy FILE`; then judge every action the app needs against it as
//! the app's requests through that endpoint meet it (the source `vpc-endpoint-policy`). A
//! request through a VPC endpoint needs the endpoint policy to allow it too ("Control access
//! to VPC endpoints using endpoint policies", AWS PrivateLink guide,
//! <https://docs.aws.amazon.com/vpc/latest/privatelink/vpc-endpoints-access.html>).

use std::sync::Arc;

use super::conditions::{self, Judgement, Vantage};
use super::{CheckContext, app_request};
use crate::answers::{Facts, FindingSpec};
use crate::arn::Principal;
use crate::finding::{Basis, DenySource, Finding, FindingCode};
use crate::policy::evaluate::{self, Policies, Verdict};
use crate::policy::{NamedPolicy, PolicyDocument, PolicyKind};
use crate::runbook::StepId;

/// `--vpce-policy FILE`: the endpoint's policy as saved (`aws ec2 describe-vpc-endpoints
/// --query 'VpcEndpoints[0].PolicyDocument' --output text > FILE`).
#[derive(Clone, Debug)]
pub struct PolicyFile {
    pub path: std::path::PathBuf,
    pub policy: NamedPolicy,
}

/// The endpoint's policy, or why it could not be read; `None` when there is none to read (no
/// `--vpce`, or neither `--admin-profile` nor `--vpce-policy`).
pub type EndpointPolicy = Option<Result<Arc<NamedPolicy>, String>>;

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

/// The endpoint's policy, read once per run.
pub async fn read(cx: &CheckContext) -> EndpointPolicy {
    let vpce = cx.run.network.vpce.as_deref()?;
    if let Some(file) = &cx.run.vpce_policy {
        return Some(Ok(Arc::new(file.policy.clone())));
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
                .ok_or_else(|| format!("EC2 gave no policy for {vpce}"))?;
            let document = PolicyDocument::parse(&text)
                .map_err(|e| format!("the policy of {vpce} cannot be read: {e}"))?;
            Ok(Arc::new(named(vpce, document)))
        })
        .await;
    Some(read.clone())
}

/// The endpoint policy against each action the app needs: a finding for each it does not
/// allow, one sentence for the step's detail.
pub fn judge(
    cx: &CheckContext,
    p: &Principal,
    policy: &NamedPolicy,
    needs: &[((&'static str, Option<String>), String)],
) -> (Vec<Finding>, String) {
    let alone = Policies {
        identity: &[],
        resource: Some(policy),
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
            network: cx.run.network.describe(),
        };
        let source = (DenySource::VpcEndpointPolicy, false);
        let f = conditions::finding(cx, StepId::BucketPolicy, (action, key), &judged, source)
            .or_else(|| plain(cx, (action, key), &judged, policy));
        if let Some(f) = f {
            refused.push(match key {
                Some(k) => format!("{action} on {k}"),
                None => (*action).to_owned(),
            });
            findings.push(f);
        }
    }
    let vpce = cx.run.network.vpce.as_deref().unwrap_or("the endpoint");
    let note = if refused.is_empty() {
        format!("the policy of VPC endpoint {vpce} allows every action the app needs")
    } else {
        format!(
            "the policy of VPC endpoint {vpce} does not allow {}",
            refused.join(", ")
        )
    };
    (findings, note)
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
