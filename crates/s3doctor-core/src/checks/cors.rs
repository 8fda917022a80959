//! The `cors` step (with `--origin`): browsers ask the bucket before a cross-origin upload
//! with an unsigned `OPTIONS` preflight, and block the upload when the bucket's CORS rules do
//! not allow the app's origin, method and headers — whatever the policies allow. s3doctor
//! sends that preflight for real, reads the rules (GetBucketCors) to say which rule matches or
//! what is missing, and generates the rule to add.

use aws_sdk_s3::types::CorsRule;
use aws_smithy_runtime_api::client::orchestrator::HttpRequest;
use aws_smithy_types::body::SdkBody;
use serde_json::json;

use super::{CheckContext, CheckResult, NotChecked, StepOutcome};
use crate::answers::codes::AwsCode;
use crate::answers::{self, FindingSpec};
use crate::aws::{Clients, NoAnswer, Settings};
use crate::finding::{Evidence, FindingCode, Unreachable};
use crate::operation::Operation;
use crate::runbook::StepId;

/// The method browser uploads use.
pub const METHOD: &str = "PUT";

/// The headers the app's browser upload sends that a preflight must allow.
pub fn request_headers(acl: Option<&str>) -> Vec<String> {
    let mut h = vec!["content-type".to_owned()];
    if acl.is_some() {
        h.push("x-amz-acl".to_owned());
    }
    h
}

/// What the preflight was answered.
#[derive(Clone, Debug)]
pub struct Preflight {
    pub status: u16,
    pub allow_origin: Option<String>,
    pub allow_methods: Option<String>,
    pub allow_headers: Option<String>,
    pub request_id: Option<String>,
}

impl Preflight {
    /// True when a browser would go on with the upload.
    pub fn allows(&self, origin: &str) -> bool {
        (200..300).contains(&self.status)
            && self
                .allow_origin
                .as_deref()
                .is_some_and(|o| o == "*" || o == origin)
    }
}

/// The URL a browser upload goes to: path-style on a custom endpoint (and for bucket names
/// with dots, which break virtual-hosted TLS), virtual-hosted on AWS.
pub fn object_url(endpoint: Option<&str>, region: &str, bucket: &str, key: &str) -> String {
    match endpoint {
        Some(e) => format!("{}/{bucket}/{key}", e.trim_end_matches('/')),
        None if bucket.contains('.') => format!("https://s3.{region}.amazonaws.com/{bucket}/{key}"),
        None => format!("https://{bucket}.s3.{region}.amazonaws.com/{key}"),
    }
}

/// What the preflight is called in its evidence and in the call log.
pub const PREFLIGHT: &str = "OPTIONS (CORS preflight)";

/// Sends an unsigned CORS preflight, as a browser does. No SDK operation sends an unsigned
/// `OPTIONS`, so it goes past the SDK, through [`Settings::send_unsigned`]: on the run's
/// connection pool, within the attempt timeout, in the call log, and not at all when the
/// endpoint already let a call of `clients` (the run's) time out.
pub async fn preflight(
    settings: &Settings,
    clients: Option<&Clients>,
    url: &str,
    origin: &str,
    method: &str,
    headers: &[String],
) -> Result<Preflight, NoAnswer> {
    let unsendable = |e: &dyn std::fmt::Display| NoAnswer {
        how: Unreachable::Other,
        why: e.to_string(),
    };
    let mut req = HttpRequest::new(SdkBody::empty());
    req.set_method("OPTIONS").map_err(|e| unsendable(&e))?;
    req.set_uri(url).map_err(|e| unsendable(&e))?;
    req.headers_mut().insert("Origin", origin.to_owned());
    req.headers_mut()
        .insert("Access-Control-Request-Method", method.to_owned());
    if !headers.is_empty() {
        req.headers_mut()
            .insert("Access-Control-Request-Headers", headers.join(","));
    }
    let resp = settings
        .send_unsigned(clients, ("S3", PREFLIGHT), req)
        .await?;
    let h = |name: &str| resp.headers().get(name).map(str::to_owned);
    Ok(Preflight {
        status: resp.status().as_u16(),
        allow_origin: h("access-control-allow-origin"),
        allow_methods: h("access-control-allow-methods"),
        allow_headers: h("access-control-allow-headers"),
        request_id: h("x-amz-request-id"),
    })
}

/// S3's matching: exact, or one `*` standing for any text; header names ignore case.
fn wildcard(pattern: &str, value: &str, ignore_case: bool) -> bool {
    let (p, v) = if ignore_case {
        (pattern.to_ascii_lowercase(), value.to_ascii_lowercase())
    } else {
        (pattern.to_owned(), value.to_owned())
    };
    match p.split_once('*') {
        None => p == v,
        Some((head, tail)) => {
            v.len() >= head.len() + tail.len() && v.starts_with(head) && v.ends_with(tail)
        }
    }
}

fn origin_ok(rule: &CorsRule, origin: &str) -> bool {
    rule.allowed_origins()
        .iter()
        .any(|o| wildcard(o, origin, false))
}

fn method_ok(rule: &CorsRule, method: &str) -> bool {
    rule.allowed_methods().iter().any(|m| m == method)
}

fn missing_headers(rule: &CorsRule, headers: &[String]) -> Vec<String> {
    headers
        .iter()
        .filter(|h| !rule.allowed_headers().iter().any(|a| wildcard(a, h, true)))
        .cloned()
        .collect()
}

/// The first rule (1-based) that allows the request, as S3 picks it.
pub fn matching_rule(
    rules: &[CorsRule],
    origin: &str,
    method: &str,
    headers: &[String],
) -> Option<usize> {
    rules
        .iter()
        .position(|r| {
            origin_ok(r, origin) && method_ok(r, method) && missing_headers(r, headers).is_empty()
        })
        .map(|i| i + 1)
}

/// What the rules lack for this request, in words.
pub fn what_is_missing(
    rules: Option<&[CorsRule]>,
    origin: &str,
    method: &str,
    headers: &[String],
) -> String {
    let Some(rules) = rules.filter(|r| !r.is_empty()) else {
        return "the bucket has no CORS configuration at all".to_owned();
    };
    let for_origin: Vec<&CorsRule> = rules.iter().filter(|r| origin_ok(r, origin)).collect();
    if for_origin.is_empty() {
        let listed: Vec<&str> = rules
            .iter()
            .flat_map(|r| r.allowed_origins())
            .map(String::as_str)
            .collect();
        return format!(
            "no rule allows the origin {origin} (the rules allow {})",
            listed.join(", ")
        );
    }
    let with_method: Vec<&&CorsRule> = for_origin.iter().filter(|r| method_ok(r, method)).collect();
    if with_method.is_empty() {
        return format!("the rules for {origin} do not allow the method {method}");
    }
    let missing = missing_headers(with_method[0], headers);
    format!(
        "the rules for {origin} and {method} do not allow the header(s) {}",
        missing.join(", ")
    )
}

/// The CORS rule that allows the app's browser uploads (ETag exposed: multipart uploads from
/// a browser need it).
pub fn rule_to_add(origin: &str, method: &str, headers: &[String]) -> serde_json::Value {
    json!({
        "AllowedOrigins": [origin],
        "AllowedMethods": [method],
        "AllowedHeaders": headers,
        "ExposeHeaders": ["ETag"],
        "MaxAgeSeconds": 3000
    })
}

/// The same rule as the SDK sends it.
pub fn sdk_rule(origin: &str, method: &str, headers: &[String]) -> Option<CorsRule> {
    CorsRule::builder()
        .allowed_origins(origin)
        .allowed_methods(method)
        .set_allowed_headers(Some(headers.to_vec()))
        .expose_headers("ETag")
        .max_age_seconds(3000)
        .build()
        .ok()
}

/// The bucket's CORS rules: `Ok(None)` when it has none. Read with the admin profile when
/// given, else the app's keys.
pub async fn read_rules(cx: &CheckContext) -> Result<Option<Vec<CorsRule>>, String> {
    let session = cx
        .reading_session()
        .await
        .ok_or_else(|| "no credentials".to_owned())?;
    match cx
        .s3_with(&session)
        .get_bucket_cors()
        .bucket(cx.bucket())
        .send()
        .await
    {
        Ok(out) => Ok(Some(out.cors_rules().to_vec())),
        Err(err) if AwsCode::NoSuchCorsConfiguration.answered(&err) => Ok(None),
        Err(err) => Err(answers::describe(Operation::GetBucketCors, &err)),
    }
}

/// `cors` (with `--origin`): a real unsigned preflight for the app's upload, what S3
/// answered, and which of the bucket's CORS rules matches or what is missing.
pub(super) async fn cors(cx: &CheckContext) -> CheckResult {
    let Some(origin) = cx.run.origin.clone() else {
        return Err(NotChecked::nothing(
            "not asked: the app does not upload from a browser (--origin URL)",
        ));
    };
    let headers = request_headers(cx.run.acl.as_deref());
    let rules = read_rules(cx).await;
    let region = cx
        .state
        .use_region
        .clone()
        .or_else(|| cx.state.bucket_region.clone())
        .or_else(|| cx.session.as_ref().and_then(|s| s.region.clone()))
        .unwrap_or_else(|| crate::aws::FALLBACK_REGION.to_owned());
    let url = object_url(cx.endpoint(), &region, cx.bucket(), cx.probe_key.as_str());
    let asked = format!(
        "OPTIONS preflight from {origin} for {METHOD} with {}",
        headers.join(", ")
    );
    let clients = cx.session.as_ref().map(|s| &s.clients);
    let answer = match preflight(&cx.settings, clients, &url, &origin, METHOD, &headers).await {
        Ok(a) => a,
        Err(why) => return Ok(unanswered(cx, &asked, why)),
    };
    let rules_note = match &rules {
        Ok(Some(r)) => match matching_rule(r, &origin, METHOD, &headers) {
            Some(n) => format!("rule #{n} of {} matches", r.len()),
            None => what_is_missing(Some(r), &origin, METHOD, &headers),
        },
        Ok(None) => what_is_missing(None, &origin, METHOD, &headers),
        Err(why) => format!("the CORS rules could not be read ({why})"),
    };
    Ok(judge_answer(
        cx,
        &answer,
        &origin,
        &headers,
        &asked,
        &rules_note,
    ))
}

/// The preflight got no answer: the endpoint is unreachable.
fn unanswered(cx: &CheckContext, asked: &str, no_answer: NoAnswer) -> StepOutcome {
    let NoAnswer { how, why } = no_answer;
    let evidence = Evidence {
        operation: PREFLIGHT.to_owned(),
        message: Some(why.clone()),
        unreachable: Some(how),
        ..Evidence::default()
    };
    let finding = FindingSpec {
        code: FindingCode::EndpointUnreachable,
        step: StepId::Cors,
        facts: cx.facts(None),
        source: None,
        statement: None,
        evidence: Some(evidence.clone()),
    }
    .build();
    let unanswered = format!("the {asked} got no answer: {why}");
    let detail = match cx.how_unanswered(Some(&evidence)) {
        Some(how) => format!("{how}; {unanswered}"),
        None => unanswered,
    };
    let mut o = StepOutcome::failed(detail).with_evidence(evidence);
    o.findings.push(finding);
    o
}

/// What S3's answer to the preflight means: allowed, unknowable (a server that cannot
/// answer preflights), or refused, with the rule to add.
fn judge_answer(
    cx: &CheckContext,
    answer: &Preflight,
    origin: &str,
    headers: &[String],
    asked: &str,
    rules_note: &str,
) -> StepOutcome {
    let evidence = Evidence {
        operation: PREFLIGHT.to_owned(),
        http_status: Some(answer.status),
        error_code: None,
        message: Some(format!(
            "Access-Control-Allow-Origin: {}; -Methods: {}; -Headers: {}",
            answer.allow_origin.as_deref().unwrap_or("(none)"),
            answer.allow_methods.as_deref().unwrap_or("(none)"),
            answer.allow_headers.as_deref().unwrap_or("(none)")
        )),
        request_id: answer.request_id.clone(),
        ..Evidence::default()
    };
    if answer.allows(origin) {
        return StepOutcome::pass(format!("the {asked} is allowed; {rules_note}"))
            .with_evidence(evidence);
    }
    if !(answer.status == 403 || (200..300).contains(&answer.status)) {
        // A server that cannot answer preflights (the emulator answers 500) says nothing
        // about the rules.
        return StepOutcome::warn(format!(
            "the {asked} was answered {}: whether browsers may upload cannot be told; {rules_note}",
            answer.status
        ))
        .with_evidence(evidence);
    }
    let rule = rule_to_add(origin, METHOD, headers);
    let pretty = serde_json::to_string_pretty(&rule).unwrap_or_default();
    let mut finding = FindingSpec {
        code: FindingCode::CorsNotAllowed,
        step: StepId::Cors,
        facts: cx.facts(None),
        source: None,
        statement: None,
        evidence: Some(evidence.clone()),
    }
    .build();
    finding.summary = format!("{} ({rules_note}.)", finding.summary);
    finding.remedy = format!(
        "{}\n{pretty}\nWith the AWS CLI: add it to the \"CORSRules\" of `aws s3api get-bucket-cors --bucket {b}` and \
         send the result with `aws s3api put-bucket-cors --bucket {b} --cors-configuration file://cors.json`.",
        finding.remedy.replace("ORIGIN", origin),
        b = cx.bucket()
    );
    let mut o = StepOutcome::failed(format!("the {asked} is refused: {rules_note}"))
        .with_evidence(evidence);
    o.findings.push(finding);
    o
}

#[cfg(test)]
mod tests {
    use super::*;

    /// A preflight without an answer says how first when that is known (a refused
    /// connection), then what was asked; in another way, what was asked and what happened.
    #[test]
    fn a_preflight_without_an_answer_says_how_first() {
        let cx = crate::checks::tests::context();
        let asked = "OPTIONS preflight from https://app.example.com for PUT with content-type";
        let refused = NoAnswer {
            how: Unreachable::Refused,
            why: "io error: Connection refused".to_owned(),
        };
        let o = unanswered(&cx, asked, refused);
        assert_eq!(
            o.detail,
            format!(
                "connection refused by the endpoint; the {asked} got no answer: io error: \
                 Connection refused"
            )
        );
        assert_eq!(o.findings[0].code, FindingCode::EndpointUnreachable);
        let other = NoAnswer {
            how: Unreachable::Other,
            why: "dns error".to_owned(),
        };
        let o = unanswered(&cx, asked, other);
        assert_eq!(o.detail, format!("the {asked} got no answer: dns error"));
    }
}
