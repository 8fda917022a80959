//! A black hole is found once, not once per call: when an attempt to a host gets no answer
//! within the timeout (the connection was accepted, or hangs, and nothing comes back), every
//! later attempt to that host in the same session fails at once with the same cause instead
//! of waiting the full timeout again (and again for each retry). Hosts are told apart, as
//! S3, STS and IAM are different hosts on AWS; an answer of any kind, even an error, is not
//! silence.

use std::collections::HashSet;
use std::sync::{Arc, Mutex};

use aws_smithy_runtime_api::box_error::BoxError;
use aws_smithy_runtime_api::client::interceptors::Intercept;
use aws_smithy_runtime_api::client::interceptors::context::{
    BeforeTransmitInterceptorContextRef, FinalizerInterceptorContextRef,
};
use aws_smithy_runtime_api::client::runtime_components::RuntimeComponents;
use aws_smithy_types::config_bag::{ConfigBag, Storable, StoreReplace};

/// The start of the message of a call that got no answer in time (the attempt or read
/// timeout), and of one not sent for that reason: `answers` reads either as a timeout.
pub const TIMED_OUT: &str = "no answer within the timeout";

/// What a call that was not sent says: `answers` reads it as a timeout (it starts with
/// [`TIMED_OUT`]).
pub const NOT_ASKED: &str = "no answer within the timeout: an earlier call to this endpoint got none, so it was not asked again";

/// The hosts that let an attempt time out in this session; shared by all its clients.
#[derive(Clone, Debug, Default)]
pub struct Silence {
    silent: Arc<Mutex<HashSet<String>>>,
}

/// Where the current attempt went.
#[derive(Clone, Debug)]
struct Host(String);

impl Storable for Host {
    type Storer = StoreReplace<Self>;
}

/// The host (and port) a request goes to.
pub(super) fn host(uri: &str) -> String {
    let rest = uri.split_once("://").map_or(uri, |(_, r)| r);
    rest.split(['/', '?']).next().unwrap_or_default().to_owned()
}

impl Silence {
    pub(super) fn is_silent(&self, host: &str) -> bool {
        self.silent
            .lock()
            .unwrap_or_else(std::sync::PoisonError::into_inner)
            .contains(host)
    }

    pub(super) fn mark(&self, host: String) {
        self.silent
            .lock()
            .unwrap_or_else(std::sync::PoisonError::into_inner)
            .insert(host);
    }
}

impl Intercept for Silence {
    fn name(&self) -> &'static str {
        "s3doctor-silence"
    }

    fn read_before_transmit(
        &self,
        context: &BeforeTransmitInterceptorContextRef<'_>,
        _runtime_components: &RuntimeComponents,
        cfg: &mut ConfigBag,
    ) -> Result<(), BoxError> {
        let host = host(context.request().uri());
        if self.is_silent(&host) {
            return Err(NOT_ASKED.into());
        }
        // The request itself is gone once sent: remember where it went.
        cfg.interceptor_state().store_put(Host(host));
        Ok(())
    }

    fn read_after_attempt(
        &self,
        context: &FinalizerInterceptorContextRef<'_>,
        _runtime_components: &RuntimeComponents,
        cfg: &mut ConfigBag,
    ) -> Result<(), BoxError> {
        let timed_out = matches!(
            context.output_or_error(),
            Some(Err(e)) if e.is_timeout_error()
                || e.as_connector_error().is_some_and(|c| c.is_timeout())
        );
        if timed_out
            && context.response().is_none()
            && let Some(Host(host)) = cfg.load::<Host>()
        {
            self.mark(host.clone());
        }
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn hosts_are_told_apart_by_name_and_port() {
        assert_eq!(
            host("https://s3.eu-west-1.amazonaws.com/b/k?x-id=PutObject"),
            "s3.eu-west-1.amazonaws.com"
        );
        assert_eq!(host("http://127.0.0.1:9000/"), "127.0.0.1:9000");
        assert_eq!(host("https://sts.amazonaws.com"), "sts.amazonaws.com");
        let s = Silence::default();
        s.mark(host("http://127.0.0.1:9000/bucket"));
        assert!(
            s.clone().is_silent("127.0.0.1:9000"),
            "clients of one session share it"
        );
        assert!(!s.is_silent("127.0.0.1:9001"));
    }
}
