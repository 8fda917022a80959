//! The `credentials` step: resolve the credential chain and build the session.

use std::sync::Arc;
use std::time::SystemTime;

use super::{CheckContext, CheckResult, Fact, StepOutcome};
use crate::aws;
use crate::diagnose::{Facts, FindingSpec};
use crate::finding::Evidence;
use crate::runbook::StepId;

pub(super) async fn credentials(cx: &CheckContext) -> CheckResult {
    match aws::connect(&cx.settings).await {
        Ok(session) => {
            let mut detail = format!(
                "key {} from {}",
                session.key_id_hint, session.credential_source
            );
            if let Some(env) = &cx.settings.env_file {
                detail.push_str(&format!("; {}", env.describe_used()));
            }
            match (&session.region, &session.region_source) {
                (Some(r), Some(src)) => detail.push_str(&format!("; region {r} (from {src})")),
                _ => detail.push_str(&format!(
                    "; no region configured (checking with {})",
                    aws::FALLBACK_REGION
                )),
            }
            let mut outcome = StepOutcome::pass(detail);
            if let Some(expiry) = session.expiry {
                let left = expiry.duration_since(SystemTime::now()).unwrap_or_default();
                if left.as_secs() < 15 * 60 {
                    outcome = StepOutcome::warn(format!(
                        "{}; temporary credentials expire in {} min",
                        outcome.detail,
                        left.as_secs() / 60
                    ));
                }
            }
            Ok(outcome.with_fact(Fact::Session(Arc::new(session))))
        }
        Err(failure) => {
            let evidence = Evidence {
                operation: "ResolveCredentials".into(),
                message: Some(failure.detail.clone()),
                ..Evidence::default()
            };
            let finding = FindingSpec {
                code: failure.code,
                step: StepId::Credentials,
                facts: Facts {
                    endpoint: cx.settings.endpoint.as_deref(),
                    ..Facts::default()
                },
                source: None,
                statement: None,
                evidence: Some(evidence.clone()),
            }
            .build();
            Ok(StepOutcome {
                status: super::Status::Fail,
                detail: "no usable credentials".into(),
                evidence: Some(evidence),
                findings: vec![finding],
                facts: Vec::new(),
                blocking: true,
            })
        }
    }
}
