//! Calls the server does not implement: Ceph RGW answers `?encryption` and
//! `?ownershipControls` with a 200 bucket listing (notes/rgw.md). Such an answer is
//! `endpoint.unsupported`, a warning that the setting is unknown: never "no configuration",
//! and never "could not be read: GetBucketEncryption -> 200".

use aws_smithy_runtime_api::client::orchestrator::HttpResponse;
use aws_smithy_runtime_api::client::result::SdkError;

use super::CheckContext;
use crate::answers::FindingSpec;
use crate::finding::{Basis, Evidence, Finding, FindingCode, Severity};
use crate::operation::Operation;
use crate::runbook::StepId;

/// An error whose HTTP status was 200: the server answered, but not with the operation's
/// document (the SDK could not read it).
pub(super) fn answered_200<E>(err: &SdkError<E, HttpResponse>) -> bool {
    err.raw_response()
        .is_some_and(|r| r.status().as_u16() == 200)
}

/// `endpoint.unsupported` (a warning) for `operation`, found by `step`: what came back, and
/// that s3doctor saw it (no answer said so).
pub(super) fn finding(cx: &CheckContext, step: StepId, operation: Operation) -> Finding {
    let evidence = Evidence {
        operation: operation.name().to_owned(),
        http_status: Some(200),
        message: Some(format!(
            "a 200 answer without {}'s document (Ceph RGW answers a bucket listing)",
            operation.name()
        )),
        ..Evidence::default()
    };
    let mut f = FindingSpec {
        code: FindingCode::EndpointUnsupported,
        step,
        facts: cx.facts(Some(operation.action())),
        source: None,
        statement: None,
        evidence: Some(evidence),
    }
    .build()
    .with_basis(Basis::Observed);
    f.severity = Severity::Warning;
    f
}
