//! The `identity` step: sts:GetCallerIdentity, who the keys belong to, and whether that is
//! the principal the person expected.

use super::{CheckContext, CheckResult, Fact, Identity, Status, StepOutcome};
use crate::arn;
use crate::diagnose::{self, FindingSpec};
use crate::finding::{Evidence, FindingCode};
use crate::runbook::StepId;

pub(super) async fn identity(cx: &CheckContext) -> CheckResult {
    let session = cx.session()?;
    let out = match session.clients.sts.get_caller_identity().send().await {
        Ok(out) => out,
        Err(err) => {
            return Ok(cx.failed(
                StepId::Identity,
                diagnose::failure("GetCallerIdentity", &err),
            ));
        }
    };
    let arn_text = out.arn().unwrap_or_default().to_owned();
    let principal = match arn::parse_principal(&arn_text) {
        Ok(p) => p,
        Err(e) => {
            return Ok(StepOutcome::warn(format!(
                "unrecognised principal ARN {arn_text}: {e}"
            )));
        }
    };
    let identity = Identity {
        principal,
        user_id: out.user_id().map(str::to_owned),
    };
    let p = &identity.principal;
    let detail = format!(
        "{} {} in account {} ({})",
        p.kind.as_str(),
        p.name,
        p.account,
        p.arn
    );
    if let Some(expected) = &cx.run.expect_principal
        && !p.matches(expected)
    {
        let mut cx2 = cx.clone();
        cx2.identity = Some(identity.clone());
        let finding = FindingSpec {
            code: FindingCode::UnexpectedPrincipal,
            step: StepId::Identity,
            facts: cx2.facts(None),
            source: None,
            statement: None,
            evidence: Some(Evidence {
                operation: "GetCallerIdentity".into(),
                http_status: Some(200),
                message: Some(format!("Arn: {}", p.arn)),
                ..Evidence::default()
            }),
        }
        .build();
        return Ok(StepOutcome {
            status: Status::Fail,
            detail: format!("{detail}, not {expected}"),
            evidence: None,
            findings: vec![finding],
            facts: vec![Fact::Identity(identity)],
            blocking: false,
        });
    }
    Ok(StepOutcome::pass(detail).with_fact(Fact::Identity(identity)))
}
