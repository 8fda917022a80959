//! Whether a request may have reached the server although no answer to it came back: an
//! interceptor put on one request (the probe's upload), which marks every attempt that went
//! out on an open connection and got no answer (the connection broke or timed out after the
//! request was written). An attempt whose connection was never made (refused, DNS, TLS, a
//! connect timeout, or kept back by the silence) sent nothing. The SDK retries such attempts,
//! so the final answer alone cannot tell: a retry refused because the endpoint died hides the
//! attempt before it, which may have landed.

use std::sync::Arc;
use std::sync::atomic::{AtomicBool, Ordering};

use aws_smithy_runtime_api::box_error::BoxError;
use aws_smithy_runtime_api::client::connection::CaptureSmithyConnection;
use aws_smithy_runtime_api::client::interceptors::Intercept;
use aws_smithy_runtime_api::client::interceptors::context::{
    BeforeTransmitInterceptorContextMut, FinalizerInterceptorContextRef,
};
use aws_smithy_runtime_api::client::runtime_components::RuntimeComponents;
use aws_smithy_types::config_bag::{ConfigBag, Storable, StoreReplace};

/// Set once an attempt of the request it watches went out on a connection and got no answer.
/// Clones share the mark.
#[derive(Clone, Debug, Default)]
pub struct Unanswered(Arc<AtomicBool>);

impl Unanswered {
    /// True when an attempt may have reached the server without its answer reaching s3doctor.
    pub fn may_have_arrived(&self) -> bool {
        self.0.load(Ordering::SeqCst)
    }

    /// Tests: as if an attempt had gone out and its answer had been lost.
    #[cfg(test)]
    pub(crate) fn mark_for_tests(&self) {
        self.0.store(true, Ordering::SeqCst);
    }
}

/// The connection capture of the current attempt.
#[derive(Clone, Debug)]
struct Attempt(CaptureSmithyConnection);

impl Storable for Attempt {
    type Storer = StoreReplace<Self>;
}

impl Intercept for Unanswered {
    fn name(&self) -> &'static str {
        "s3doctor-unanswered"
    }

    /// Keeps this attempt's connection capture: the one the SDK's connection poisoning put on
    /// the request, or a new one where a client has none.
    fn modify_before_transmit(
        &self,
        context: &mut BeforeTransmitInterceptorContextMut<'_>,
        _runtime_components: &RuntimeComponents,
        cfg: &mut ConfigBag,
    ) -> Result<(), BoxError> {
        let request = context.request_mut();
        let capture = match request.extension::<CaptureSmithyConnection>() {
            Some(capture) => capture.clone(),
            None => {
                let capture = CaptureSmithyConnection::new();
                request.add_extension(capture.clone());
                capture
            }
        };
        cfg.interceptor_state().store_put(Attempt(capture));
        Ok(())
    }

    fn read_after_attempt(
        &self,
        context: &FinalizerInterceptorContextRef<'_>,
        _runtime_components: &RuntimeComponents,
        cfg: &mut ConfigBag,
    ) -> Result<(), BoxError> {
        // A connection exists once the client has made it (and before it writes the request).
        let connected = cfg.load::<Attempt>().and_then(|a| a.0.get()).is_some();
        if connected && context.response().is_none() {
            self.0.store(true, Ordering::SeqCst);
        }
        Ok(())
    }
}
