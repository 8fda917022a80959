//! `iam:SimulatePrincipalPolicy`: AWS's own verdict for each action the app needs, which
//! also knows about SCPs and conditions. Used when it is available and allowed; the local
//! evaluator names the statement, and stands alone when the simulator cannot answer (the
//! emulator answers it with a 500, many principals may not call it).

use aws_config::retry::RetryConfig;
use aws_sdk_iam::Client as Iam;
use aws_sdk_iam::types::PolicyEvaluationDecisionType;

use crate::answers::access_denied::DenySource;
use crate::operation::Operation;
use crate::policy::{Decision, PolicyKind, Verdict};

/// AWS's answer for one action on one resource.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Simulated {
    pub action: String,
    pub resource: String,
    pub verdict: Verdict,
    /// The policies AWS says matched (their ids, usually the policy names).
    pub matched: Vec<String>,
    /// False when AWS Organizations (an SCP) does not allow the action.
    pub allowed_by_organizations: Option<bool>,
}

/// Asks the simulator about every pair at once. No retries: an error here only means
/// "evaluate locally".
pub async fn simulate(
    iam: &Iam,
    source_arn: &str,
    needed: &[(&str, String)],
) -> Result<Vec<Simulated>, String> {
    let mut actions: Vec<String> = needed.iter().map(|(a, _)| (*a).to_owned()).collect();
    actions.dedup();
    let mut resources: Vec<String> = needed.iter().map(|(_, r)| r.clone()).collect();
    resources.sort();
    resources.dedup();
    let out = iam
        .simulate_principal_policy()
        .policy_source_arn(source_arn)
        .set_action_names(Some(actions))
        .set_resource_arns(Some(resources))
        .customize()
        .config_override(
            aws_sdk_iam::config::Builder::default().retry_config(RetryConfig::disabled()),
        )
        .send()
        .await
        .map_err(|e| crate::answers::describe(Operation::SimulatePrincipalPolicy, &e))?;
    Ok(out
        .evaluation_results()
        .iter()
        .map(|r| Simulated {
            action: r.eval_action_name().to_owned(),
            resource: r.eval_resource_name().unwrap_or("*").to_owned(),
            verdict: match r.eval_decision() {
                PolicyEvaluationDecisionType::Allowed => Verdict::Allowed,
                PolicyEvaluationDecisionType::ExplicitDeny => Verdict::ExplicitDeny,
                _ => Verdict::ImplicitDeny,
            },
            matched: r
                .matched_statements()
                .iter()
                .filter_map(|s| s.source_policy_id().map(str::to_owned))
                .collect(),
            allowed_by_organizations: r
                .organizations_decision_detail()
                .map(|d| d.allowed_by_organizations()),
        })
        .collect())
}

/// The answer for one action and resource, if the simulator gave one.
pub fn find<'a>(sim: &'a [Simulated], action: &str, resource: &str) -> Option<&'a Simulated> {
    sim.iter()
        .find(|s| s.action == action && s.resource == resource)
}

/// The verdict that counts and where the decision comes from. AWS's verdict wins, except
/// that the local evaluation also sees the bucket policy (which the simulation was not
/// given): a same-account bucket policy can allow what the identity policies do not.
pub fn combine(sim: Option<&Simulated>, local: &Decision) -> (Verdict, DenySource) {
    let Some(sim) = sim else {
        return (local.verdict, DenySource::IdentityPolicy);
    };
    let allowed_by_bucket = local.verdict == Verdict::Allowed
        && local
            .statements
            .iter()
            .any(|s| s.is_in(&PolicyKind::BucketPolicy));
    if sim.allowed_by_organizations == Some(false) {
        let verdict = if sim.verdict == Verdict::ExplicitDeny {
            Verdict::ExplicitDeny
        } else {
            Verdict::ImplicitDeny
        };
        return (verdict, DenySource::Scp);
    }
    match sim.verdict {
        Verdict::ImplicitDeny if allowed_by_bucket => {
            (Verdict::Allowed, DenySource::IdentityPolicy)
        }
        v => (v, DenySource::IdentityPolicy),
    }
}

#[cfg(test)]
mod tests {
    use aws_smithy_mocks::{mock, mock_client};
    use aws_smithy_runtime_api::client::orchestrator::HttpResponse;
    use aws_smithy_runtime_api::http::StatusCode;
    use aws_smithy_types::body::SdkBody;

    use super::*;

    /// What IAM answers for a user whose policy allows uploads and denies deletes.
    const SIMULATED: &str = r#"<SimulatePrincipalPolicyResponse xmlns="https://iam.amazonaws.com/doc/2010-05-08/">
  <SimulatePrincipalPolicyResult>
    <IsTruncated>false</IsTruncated>
    <EvaluationResults>
      <member>
        <EvalActionName>s3:PutObject</EvalActionName>
        <EvalResourceName>arn:aws:s3:::sselfie-training/.s3doctor/probe</EvalResourceName>
        <EvalDecision>allowed</EvalDecision>
        <MatchedStatements>
          <member>
            <SourcePolicyId>sselfie-s3-user-policy</SourcePolicyId>
            <SourcePolicyType>IAM Policy</SourcePolicyType>
            <StartPosition><Line>3</Line><Column>5</Column></StartPosition>
            <EndPosition><Line>9</Line><Column>6</Column></EndPosition>
          </member>
        </MatchedStatements>
        <MissingContextValues/>
        <OrganizationsDecisionDetail><AllowedByOrganizations>true</AllowedByOrganizations></OrganizationsDecisionDetail>
      </member>
      <member>
        <EvalActionName>s3:DeleteObject</EvalActionName>
        <EvalResourceName>arn:aws:s3:::sselfie-training/.s3doctor/probe</EvalResourceName>
        <EvalDecision>explicitDeny</EvalDecision>
        <MatchedStatements>
          <member>
            <SourcePolicyId>sselfie-s3-user-policy</SourcePolicyId>
            <SourcePolicyType>IAM Policy</SourcePolicyType>
            <StartPosition><Line>10</Line><Column>5</Column></StartPosition>
            <EndPosition><Line>15</Line><Column>6</Column></EndPosition>
          </member>
        </MatchedStatements>
        <MissingContextValues/>
      </member>
      <member>
        <EvalActionName>s3:GetObject</EvalActionName>
        <EvalResourceName>arn:aws:s3:::sselfie-training/.s3doctor/probe</EvalResourceName>
        <EvalDecision>implicitDeny</EvalDecision>
        <MatchedStatements/>
        <MissingContextValues/>
        <OrganizationsDecisionDetail><AllowedByOrganizations>false</AllowedByOrganizations></OrganizationsDecisionDetail>
      </member>
    </EvaluationResults>
  </SimulatePrincipalPolicyResult>
  <ResponseMetadata><RequestId>7a62c49f-347e-4fc4-9331-6e8eEXAMPLE</RequestId></ResponseMetadata>
</SimulatePrincipalPolicyResponse>"#;

    #[tokio::test]
    async fn the_simulators_answer_is_read_per_action_with_its_policy_and_scp_verdict() {
        let rule = mock!(aws_sdk_iam::Client::simulate_principal_policy).then_http_response(|| {
            HttpResponse::new(
                StatusCode::try_from(200).expect("status"),
                SdkBody::from(SIMULATED),
            )
        });
        let iam = mock_client!(aws_sdk_iam, [&rule]);
        let object = "arn:aws:s3:::sselfie-training/.s3doctor/probe".to_owned();
        let needed = [
            ("s3:PutObject", object.clone()),
            ("s3:DeleteObject", object.clone()),
            ("s3:GetObject", object.clone()),
        ];
        let sim = simulate(&iam, "arn:aws:iam::188594592347:user/sselfie", &needed)
            .await
            .expect("simulated");
        let put = find(&sim, "s3:PutObject", &object).expect("put");
        assert_eq!(put.verdict, Verdict::Allowed);
        assert_eq!(put.matched, vec!["sselfie-s3-user-policy"]);
        let delete = find(&sim, "s3:DeleteObject", &object).expect("delete");
        assert_eq!(delete.verdict, Verdict::ExplicitDeny);
        let get = find(&sim, "s3:GetObject", &object).expect("get");
        assert_eq!(get.allowed_by_organizations, Some(false));

        let local_allows = Decision {
            verdict: Verdict::Allowed,
            statements: Vec::new(),
            conditional: Vec::new(),
            unmet: Vec::new(),
            blocked_by_boundary: None,
        };
        // An SCP that does not allow the action is named as the source.
        assert_eq!(
            combine(Some(get), &local_allows),
            (Verdict::ImplicitDeny, DenySource::Scp)
        );
        // AWS's explicit deny wins over a local "allowed".
        assert_eq!(
            combine(Some(delete), &local_allows).0,
            Verdict::ExplicitDeny
        );
    }

    #[tokio::test]
    async fn an_error_from_the_simulator_means_evaluate_locally() {
        let rule = mock!(aws_sdk_iam::Client::simulate_principal_policy).then_http_response(|| {
            HttpResponse::new(
                StatusCode::try_from(500).expect("status"),
                SdkBody::from("<html><title>500 Internal Server Error</title></html>"),
            )
        });
        let iam = mock_client!(aws_sdk_iam, [&rule]);
        let needed = [("s3:PutObject", "arn:aws:s3:::b/k".to_owned())];
        let err = simulate(&iam, "arn:aws:iam::1:user/u", &needed)
            .await
            .expect_err("500");
        assert!(err.contains("500"), "{err}");
    }
}
