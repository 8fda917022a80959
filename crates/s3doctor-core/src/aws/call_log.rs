//! The debug log's one line per AWS call: service, operation, HTTP status, request id and
//! latency (or, for a call that got no answer, what happened: timed out, connection
//! refused, DNS, TLS, with the transport error's chain). An SDK interceptor, so every client and every retry is
//! covered; it never sees a credential, and logs no header but the request id.

use std::time::Instant;

use aws_smithy_runtime_api::box_error::BoxError;
use aws_smithy_runtime_api::client::interceptors::Intercept;
use aws_smithy_runtime_api::client::interceptors::context::{
    BeforeTransmitInterceptorContextRef, FinalizerInterceptorContextRef,
};
use aws_smithy_runtime_api::client::orchestrator::Metadata;
use aws_smithy_runtime_api::client::runtime_components::RuntimeComponents;
use aws_smithy_types::config_bag::{ConfigBag, Storable, StoreReplace};

use crate::finding::Unreachable;

#[derive(Debug, Clone, Copy)]
struct AttemptStarted(Instant);

impl Storable for AttemptStarted {
    type Storer = StoreReplace<Self>;
}

#[derive(Debug, Default)]
pub struct CallLog;

impl Intercept for CallLog {
    fn name(&self) -> &'static str {
        "s3doctor-call-log"
    }

    fn read_before_attempt(
        &self,
        _context: &BeforeTransmitInterceptorContextRef<'_>,
        _runtime_components: &RuntimeComponents,
        cfg: &mut ConfigBag,
    ) -> Result<(), BoxError> {
        cfg.interceptor_state()
            .store_put(AttemptStarted(Instant::now()));
        Ok(())
    }

    fn read_after_attempt(
        &self,
        context: &FinalizerInterceptorContextRef<'_>,
        _runtime_components: &RuntimeComponents,
        cfg: &mut ConfigBag,
    ) -> Result<(), BoxError> {
        let latency_ms = cfg
            .load::<AttemptStarted>()
            .map(|s| s.0.elapsed().as_millis() as u64);
        let (service, operation) = cfg
            .load::<Metadata>()
            .map(|m| (m.service().to_owned(), m.name().to_owned()))
            .unwrap_or_default();
        match context.response() {
            Some(response) => {
                let headers = response.headers();
                let request_id = headers
                    .get("x-amz-request-id")
                    .or_else(|| headers.get("x-amzn-requestid"))
                    .unwrap_or("-");
                answered(
                    &service,
                    &operation,
                    response.status().as_u16(),
                    request_id,
                    latency_ms,
                );
            }
            None => match context.output_or_error() {
                Some(Err(e)) => {
                    let timed_out = e.is_timeout_error()
                        || e.as_connector_error().is_some_and(|c| c.is_timeout());
                    let how = super::unreachable(e, timed_out);
                    let chain = super::error_chain(e);
                    unanswered(&service, &operation, latency_ms, (how, &chain));
                }
                _ => unanswered_in_words(&service, &operation, latency_ms, "no response"),
            },
        }
        Ok(())
    }
}

/// The log's line for a call that was answered (any status).
pub(super) fn answered(
    service: &str,
    operation: &str,
    status: u16,
    request_id: &str,
    latency_ms: Option<u64>,
) {
    tracing::debug!(
        target: "s3doctor::aws",
        service,
        operation,
        status,
        request_id,
        latency_ms,
        "AWS call"
    );
}

/// The log's line for a call that got no answer: how, in its words (`timed out`, `connection
/// refused`, `DNS lookup failed`, …), then the error's chain. No secret is in either (no
/// header, no URL query).
pub(super) fn unanswered(
    service: &str,
    operation: &str,
    latency_ms: Option<u64>,
    (how, chain): (Unreachable, &str),
) {
    let error = format!("{}: {chain}", how.words());
    unanswered_in_words(service, operation, latency_ms, &error);
}

/// The log's line for a call that got no answer, said as `error` (at most 300 characters).
fn unanswered_in_words(service: &str, operation: &str, latency_ms: Option<u64>, error: &str) {
    let error = error.chars().take(300).collect::<String>();
    tracing::debug!(
        target: "s3doctor::aws",
        service,
        operation,
        latency_ms,
        error,
        "AWS call without an answer"
    );
}
