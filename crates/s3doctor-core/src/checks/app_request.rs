//! The request the app makes, as the evaluator judges it: one principal, one action on one
//! resource, with the condition context it carries from here or from the app's network. The
//! policies step and the VPC endpoint's policy both weigh requests built here.

use super::CheckContext;
use super::conditions::{self, Judgement, Vantage};
use crate::arn::Principal;
use crate::policy::evaluate::{self, Policies, Request};

/// The request the app makes, as the evaluator judges it: `principal` does `action` on
/// `resource`. Every step that weighs the app's requests asks it here (the probe's actions
/// and the app's own objects alike), so what a request carries is said once.
/// What the request carries (its condition context) is said in [`conditions::context`],
/// from here or from the app's network.
pub(super) fn request(
    cx: &CheckContext,
    p: &Principal,
    (action, resource): (&str, String),
    vantage: Vantage,
) -> Request {
    Request::new(p.arn.clone(), p.account.clone(), action, resource)
        .with_context(conditions::context(cx, action, vantage))
}

/// The request judged against `policies` from here and, when `--source-ip`, `--vpc` or
/// `--vpce` describe the app's network, from there (locally: nothing is sent).
pub(super) fn judge(
    cx: &CheckContext,
    p: &Principal,
    (action, resource): (&str, &str),
    policies: &Policies<'_>,
) -> Judgement {
    let at = |vantage| request(cx, p, (action, resource.to_owned()), vantage);
    let here = evaluate::evaluate(&at(Vantage::Here), policies);
    let app = (!cx.run.network.is_empty())
        .then(|| evaluate::evaluate(&at(Vantage::AppNetwork), policies));
    Judgement {
        here,
        app,
        network: conditions::network_words(cx),
    }
}
