//! Requests no SDK operation makes (the CORS preflight's unsigned `OPTIONS`), sent on the
//! run's connector with what the SDK's interceptors give every call: a line in the call log,
//! and the silence (a host that let a call time out is not asked again; a timeout here
//! silences it for the calls after).

use std::time::{Duration, Instant};

use aws_smithy_runtime_api::client::http::{HttpConnector, SharedHttpConnector};
use aws_smithy_runtime_api::client::orchestrator::{HttpRequest, HttpResponse};

use super::call_log;
use super::silence::{self, NOT_ASKED, Silence, TIMED_OUT};
use crate::finding::Unreachable;

/// Why a request got no answer: how, and in words (the error and its sources, or for a
/// timeout [`TIMED_OUT`] and the time, as the SDK's calls say it).
#[derive(Clone, Debug, PartialEq, Eq, thiserror::Error)]
#[error("{why}")]
pub struct NoAnswer {
    pub how: Unreachable,
    pub why: String,
}

impl NoAnswer {
    fn timed_out(why: String) -> Self {
        NoAnswer {
            how: Unreachable::TimedOut,
            why,
        }
    }
}

/// Sends `req` on `connector` within `timeout`, logged as `service`'s `operation`; with
/// `silence`, not at all when its host already let a call time out.
pub(super) async fn send(
    connector: &SharedHttpConnector,
    silence: Option<&Silence>,
    (service, operation): (&str, &str),
    req: HttpRequest,
    timeout: Duration,
) -> Result<HttpResponse, NoAnswer> {
    let host = silence::host(req.uri());
    if silence.is_some_and(|s| s.is_silent(&host)) {
        call_log::unanswered(
            service,
            operation,
            Some(0),
            (Unreachable::TimedOut, NOT_ASKED),
        );
        return Err(NoAnswer::timed_out(NOT_ASKED.to_owned()));
    }
    let started = Instant::now();
    let answer = tokio::time::timeout(timeout, connector.call(req)).await;
    let latency_ms = Some(started.elapsed().as_millis() as u64);
    let (how, why) = match answer {
        Ok(Ok(resp)) => {
            let headers = resp.headers();
            let request_id = headers
                .get("x-amz-request-id")
                .or_else(|| headers.get("x-amzn-requestid"))
                .unwrap_or("-");
            let status = resp.status().as_u16();
            call_log::answered(service, operation, status, request_id, latency_ms);
            return Ok(resp);
        }
        Ok(Err(e)) if !e.is_timeout() => (super::unreachable(&e, false), super::error_chain(&e)),
        Ok(Err(_)) | Err(_) => (
            Unreachable::TimedOut,
            format!("{TIMED_OUT} ({} s)", timeout.as_secs()),
        ),
    };
    call_log::unanswered(service, operation, latency_ms, (how, &why));
    if how == Unreachable::TimedOut
        && let Some(silence) = silence
    {
        silence.mark(host);
    }
    Err(NoAnswer { how, why })
}
