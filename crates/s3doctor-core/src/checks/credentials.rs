//! The `credentials` step: which provider the app's SDK picks and why (in the order the AWS
//! SDKs document), resolving it into a session, and what goes wrong on the way — a provider
//! that fails, a role refused, environment keys shadowing a profile or the platform's role.

use std::sync::Arc;
use std::time::SystemTime;

use super::{CheckContext, CheckResult, Fact, Status, StepOutcome};
use crate::answers::{Facts, FindingSpec};
use crate::aws::{self, Session};
use crate::credentials::chain::{ORDER, ORDER_SOURCE, Origin, ProfileBy, Source};
use crate::credentials::{self, CredentialsFailure, Plan, Refusal};
use crate::finding::{Evidence, Finding, FindingCode};
use crate::runbook::StepId;

pub(super) async fn credentials(cx: &CheckContext) -> CheckResult {
    let plan = Plan::read(&cx.settings).await;
    let outcome = match credentials::connect_planned(&cx.settings, &plan, cx.admin.as_deref()).await
    {
        Ok(session) => resolved(cx, &plan, session),
        Err(failure) => {
            let mut outcome = failed(cx, &failure);
            if let Some(refusal) = &failure.refused {
                super::trust::explain_refusal(cx, refusal, &mut outcome).await;
            }
            outcome
        }
    };
    Ok(outcome)
}

/// The session, what it is made of, and the warnings the plan gives.
fn resolved(cx: &CheckContext, plan: &Plan, session: Session) -> StepOutcome {
    let mut detail = format!(
        "key {} from {}",
        session.key_id_hint, session.credential_source
    );
    for role in &session.assumed {
        detail.push_str(&format!("; {}", role.describe()));
    }
    if let Some(env) = &cx.settings.env_file {
        detail.push_str(&format!("; {}", env.describe_used()));
    }
    if let Some(why) = why_this_provider(plan) {
        detail.push_str(&format!("; {why}"));
    }
    match (&session.region, &session.region_source) {
        (Some(r), Some(src)) => detail.push_str(&format!("; region {r} (from {src})")),
        _ => detail.push_str(&format!(
            "; no region configured (checking with {})",
            aws::FALLBACK_REGION
        )),
    }
    if let Some(origin) = &plan.ignored_env_keys {
        detail.push_str(&format!(
            "; the keys in {} are not used: --profile wins over them, as in the AWS CLI",
            origin.describe()
        ));
    }
    let mut warnings = plan_warnings(plan);
    if let Some(expiry) = session.expiry {
        let left = expiry.duration_since(SystemTime::now()).unwrap_or_default();
        if left.as_secs() < 15 * 60 {
            warnings.push(format!(
                "temporary credentials expire in {} min",
                left.as_secs() / 60
            ));
        }
    }
    let mut outcome = if warnings.is_empty() {
        StepOutcome::pass(detail)
    } else {
        StepOutcome::warn(format!("{detail}; {}", warnings.join("; ")))
    };
    if let Some(finding) = role_shadowed(cx, plan) {
        outcome.status = Status::Fail;
        outcome.findings.push(finding);
    }
    outcome.with_fact(Fact::Session(Arc::new(session)))
}

/// Which provider the app's SDK picks and why, when that is worth saying: another one is
/// configured too, or the pick is not plain keys.
fn why_this_provider(plan: &Plan) -> Option<String> {
    let chosen = plan.chosen()?;
    let shadowed: Vec<String> = plan.shadowed().map(|s| s.describe(&plan.vars)).collect();
    if shadowed.is_empty() && matches!(chosen, Source::EnvKeys { .. }) {
        return None;
    }
    let mut why = match chosen {
        Source::Profile {
            by: ProfileBy::Flag,
            ..
        } => format!(
            "{}: named on the command line, the only provider (as in the AWS CLI)",
            chosen.describe(&plan.vars)
        ),
        _ => format!(
            "the app's SDK picks {}: the first configured in the SDKs' order ({ORDER})",
            chosen.describe(&plan.vars)
        ),
    };
    if !shadowed.is_empty() {
        why.push_str(&format!(
            "; configured too, and not used: {}",
            shadowed.join("; ")
        ));
    }
    Some(why)
}

/// What the plan warns of: a profile that environment keys shadow, an `AWS_PROFILE` naming no
/// profile.
fn plan_warnings(plan: &Plan) -> Vec<String> {
    let mut warnings = Vec::new();
    if let (Some(Source::EnvKeys { origin, .. }), Some(Source::Profile { name, by, .. })) =
        (plan.chosen(), plan.shadowed_profile())
    {
        warnings.push(format!(
            "profile {name} ({}) is not used: keys in {} come first in the SDKs' order ({ORDER}); `--profile {name}` uses the profile instead, as the AWS CLI does",
            by.describe(),
            origin.describe()
        ));
    }
    if let (Some(Source::EnvKeys { .. }), Some((name, by))) =
        (plan.chosen(), plan.missing_var_profile())
    {
        warnings.push(plan.files.not_found(name, &by.describe()));
    }
    warnings
}

/// `credentials.role-shadowed`: static keys chosen before the platform's role.
fn role_shadowed(cx: &CheckContext, plan: &Plan) -> Option<Finding> {
    let (keys, role) = plan.shadowed_role()?;
    let why = format!(
        "The app's SDK takes {} first, so the app runs as the user those keys belong to, not as {}: the AWS SDKs try {ORDER}, in that order ({ORDER_SOURCE}).",
        keys.describe(&plan.vars),
        role.describe(&plan.vars)
    );
    let remove = match keys {
        Source::EnvKeys {
            origin: Origin::EnvFile(path),
            ..
        } => format!(
            "Remove the keys (the access key id, secret and session token variables) from {}",
            path.display()
        ),
        Source::EnvKeys { .. } => {
            "Remove AWS_ACCESS_KEY_ID, AWS_SECRET_ACCESS_KEY and AWS_SESSION_TOKEN from the app's environment (the container or task definition)".to_owned()
        }
        Source::Profile { name, .. } => format!(
            "Remove profile {name}'s keys from {} (or the file from the image)",
            plan.files.credentials.path.display()
        ),
        _ => "Remove the static keys".to_owned(),
    };
    let role_arn = match role {
        Source::WebIdentity { role_arn, .. } => role_arn.as_str(),
        _ => "ROLE",
    };
    let next = format!(
        "{remove} so that the app runs as its role, then deactivate and delete the user's key. Check that the role may do what the app needs first: `s3doctor check --role-arn {role_arn}` runs the checklist as the role."
    );
    let facts = Facts {
        why: Some(&why),
        next: Some(&next),
        ..cx.facts(None)
    };
    Some(
        FindingSpec {
            code: FindingCode::RoleShadowed,
            step: StepId::Credentials,
            facts,
            source: None,
            statement: None,
            evidence: None,
        }
        .build(),
    )
}

/// No session: the finding the failure means, with its facts in fields.
pub(super) fn failed(cx: &CheckContext, failure: &CredentialsFailure) -> StepOutcome {
    let evidence = failure.evidence.clone().unwrap_or_else(|| Evidence {
        operation: "ResolveCredentials".into(),
        message: Some(failure.detail.clone()),
        ..Evidence::default()
    });
    let refused = failure.refused.as_ref();
    // A session that asked is trusted (or not) as its role: name the role.
    let caller = refused.map(|r| {
        crate::arn::parse_principal(&r.caller)
            .ok()
            .and_then(|p| p.role_arn())
            .unwrap_or_else(|| r.caller.clone())
    });
    let role_words = refused.map(Refusal::role_words);
    let facts = Facts {
        endpoint: cx.settings.endpoint.as_deref(),
        principal: caller.as_deref(),
        role: role_words.as_deref(),
        provider: failure
            .provider
            .as_deref()
            .or(refused.map(|r| r.via.as_str())),
        why: Some(&failure.why),
        next: failure.next.as_deref(),
        waited: Some(cx.settings.attempt_timeout()),
        ..Facts::default()
    };
    let finding = FindingSpec {
        code: failure.code,
        step: StepId::Credentials,
        facts,
        source: None,
        statement: None,
        evidence: Some(evidence.clone()),
    }
    .build();
    // STS (AssumeRole, web identity) got no answer: how, first, as every step says it.
    let detail = match cx.how_unanswered(Some(&evidence)) {
        Some(how) => format!("{how}; no usable credentials: {}", failure.detail),
        None => format!("no usable credentials: {}", failure.detail),
    };
    StepOutcome {
        status: Status::Fail,
        detail,
        evidence: Some(evidence),
        findings: vec![finding],
        facts: Vec::new(),
        blocking: true,
        ran: true,
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::finding::Unreachable;

    /// STS that did not answer `--role-arn`'s AssumeRole: the row says how first, as every
    /// step says it, then what the chain was doing; refused keys read as before.
    #[test]
    fn a_role_sts_did_not_answer_says_how_first() {
        let cx = crate::checks::tests::context();
        let unanswered = "STS did not answer AssumeRole for arn:aws:iam::123456789012:role/app \
                          (--role-arn): no answer within the timeout (10 s)";
        let failure = CredentialsFailure {
            evidence: Some(Evidence {
                operation: "AssumeRole".into(),
                message: Some("no answer within the timeout (10 s)".into()),
                unreachable: Some(Unreachable::TimedOut),
                ..Evidence::default()
            }),
            ..CredentialsFailure::plain(FindingCode::EndpointUnreachable, unanswered)
        };
        let o = failed(&cx, &failure);
        assert_eq!(
            o.detail,
            format!(
                "timed out: no answer from the endpoint within 10 s; no usable credentials: \
                 {unanswered}"
            )
        );
        assert_eq!(o.findings[0].code, FindingCode::EndpointUnreachable);
        let missing = CredentialsFailure::plain(FindingCode::CredentialsMissing, "nothing");
        assert_eq!(
            failed(&cx, &missing).detail,
            "no usable credentials: nothing"
        );
    }
}
