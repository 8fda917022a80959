//! `s3doctor url URL`: what a presigned URL says about itself ([`crate::presigned`]), plus what
//! two look-ups add — the bucket's region (an unsigned `HeadBucket` to the URL's own server) and
//! the signer's account (`sts:GetAccessKeyInfo` with the configured credentials, asked of AWS only
//! for a URL on AWS, or of `--endpoint-url` when it is the URL's server) — and, with `--try`, one
//! `GET` of a GET URL with `Range: bytes=0-0`. A URL's host says where it points: nothing goes
//! anywhere else, the report says what was sent where, and `--offline` sends nothing. A PUT URL
//! (or one whose method is unknown) is never sent.

use std::process::ExitCode;
use std::time::{Duration, SystemTime, UNIX_EPOCH};

use aws_sdk_s3::config::{BehaviorVersion, Region};
use aws_smithy_runtime_api::box_error::BoxError;
use aws_smithy_runtime_api::client::interceptors::Intercept;
use aws_smithy_runtime_api::client::interceptors::context::BeforeTransmitInterceptorContextMut;
use aws_smithy_runtime_api::client::runtime_components::RuntimeComponents;
use aws_smithy_types::config_bag::ConfigBag;
use aws_smithy_types::retry::RetryConfig;
use aws_smithy_types::timeout::TimeoutConfig;
use color_eyre::eyre::Result;

use crate::answers::codes::AwsCode;
use crate::cli::{BadInput, Config, Format};
use crate::exit::{self, bad_input, emit};
use crate::finding::{FindingCode, Severity};
use crate::operation::Operation;
use crate::presigned::url_report::{Tried, UrlReport, assemble, markdown, text};
use crate::presigned::{self, Context, Method, Presigned, Problem};

/// What `s3doctor url` was asked.
#[derive(Clone, Debug)]
pub struct UrlOptions {
    pub url: String,
    pub format: Format,
    /// Send a GET URL once, with `Range: bytes=0-0`.
    pub try_get: bool,
    /// The method, when the URL does not say (no `x-id`).
    pub method: Option<Method>,
    /// No look-ups at all: only what the URL says.
    pub offline: bool,
}

/// Runs `s3doctor url`.
pub async fn run(
    config: &Config,
    options: UrlOptions,
    output: Option<&std::path::Path>,
) -> Result<ExitCode> {
    let parsed = match presigned::parse(&options.url) {
        Ok(p) => p,
        Err(e) => return Ok(bad_input(&BadInput(e.to_string()))),
    };
    let timeout = if config.settings.timeout.is_zero() {
        Duration::from_secs(10)
    } else {
        config.settings.timeout
    };
    let now = SystemTime::now()
        .duration_since(UNIX_EPOCH)
        .map_or(0, |d| i64::try_from(d.as_secs()).unwrap_or(i64::MAX));
    let report = diagnose(config, &options, parsed, now, timeout).await;
    let text = match options.format {
        Format::Json => serde_json::to_string_pretty(&report)?,
        Format::Text => text(&report),
        Format::Markdown => markdown(&report),
    };
    emit(&text, output)?;
    Ok(ExitCode::from(if report.ok {
        exit::OK
    } else {
        exit::FINDINGS
    }))
}

/// Builds the report: the URL's own facts, the look-ups, the try.
pub async fn diagnose(
    config: &Config,
    options: &UrlOptions,
    p: Presigned,
    now: i64,
    timeout: Duration,
) -> UrlReport {
    let mut notes = Vec::new();
    let method = p.method().or(options.method);
    let (bucket_region, signer_account) = if options.offline {
        notes.push(
            "--offline: nothing was sent; the bucket's region and the signer were not looked up"
                .to_owned(),
        );
        (None, None)
    } else {
        look_up(config, &p, timeout, &mut notes).await
    };
    let cx = Context {
        now,
        bucket_region: bucket_region.as_deref(),
    };
    let mut findings = presigned::problems(&p, &cx);
    let tried = if options.try_get {
        let why_not = if options.offline {
            Some("--offline sends nothing, --try included".to_owned())
        } else {
            why_not_send(&p, method)
        };
        match why_not {
            Some(why) => {
                notes.push(format!("not sent: {why}"));
                None
            }
            None => {
                let tried = try_get(&p, &options.url, timeout).await;
                judge_try(&p, &tried, &mut findings);
                Some(tried)
            }
        }
    } else {
        None
    };
    assemble(
        p,
        method,
        now,
        bucket_region,
        signer_account,
        tried,
        notes,
        findings,
    )
}

/// The bucket's region from the URL's own server, and the signer's account where
/// [`signer_lookup`] says it may be asked; one note says what was sent where.
async fn look_up(
    config: &Config,
    p: &Presigned,
    timeout: Duration,
    notes: &mut Vec<String>,
) -> (Option<String>, Option<String>) {
    let region = bucket_region(p, timeout).await;
    let mut sent = vec![format!("an unsigned HeadBucket to {}", p.host)];
    match &region {
        Ok(Some(_)) => {}
        Ok(None) => notes
            .push("the server did not say the bucket's region (no x-amz-bucket-region)".to_owned()),
        Err(why) => notes.push(format!("the bucket's region is unknown: {why}")),
    }
    let key = crate::aws::key_hint(&p.access_key_id);
    let signer = match signer_lookup(p, config.settings.endpoint.as_deref()) {
        SignerLookup::Ask(at) => match signer_account(config, &p.access_key_id).await {
            Ok((account, source)) => {
                sent.push(format!(
                    "sts:GetAccessKeyInfo for key {key} to {at}, signed with the credentials \
                     from {source}"
                ));
                Some(account)
            }
            Err(SignerUnknown::NotAsked(why)) => {
                notes.push(format!("the signer's account is unknown: {why}"));
                None
            }
            Err(SignerUnknown::Refused(why, source)) => {
                sent.push(format!(
                    "sts:GetAccessKeyInfo for key {key} to {at}, signed with the credentials \
                     from {source}"
                ));
                notes.push(format!("the signer's account is unknown: {why}"));
                None
            }
        },
        SignerLookup::Not(why) => {
            notes.push(format!("the signer's account was not looked up: {why}"));
            None
        }
    };
    notes.push(format!(
        "sent: {}; nothing else (--offline sends nothing)",
        sent.join("; ")
    ));
    (region.ok().flatten(), signer)
}

/// Whether, and where, the signer's account may be asked.
#[derive(Debug, PartialEq, Eq)]
enum SignerLookup {
    /// `sts:GetAccessKeyInfo` at this server (`AWS STS`, or the endpoint).
    Ask(String),
    /// Not asked, and why.
    Not(String),
}

/// A URL's host says where it points: AWS's STS is asked only about a URL on AWS when no other
/// endpoint is configured; a configured endpoint only when it is the URL's own server.
fn signer_lookup(p: &Presigned, endpoint: Option<&str>) -> SignerLookup {
    match endpoint {
        Some(e) if endpoint_host(e).eq_ignore_ascii_case(&p.host) => {
            SignerLookup::Ask(e.to_owned())
        }
        Some(e) => SignerLookup::Not(format!(
            "the URL points at {}, --endpoint-url at {e}: sts:GetAccessKeyInfo is sent to \
             neither",
            p.host
        )),
        None if p.aws_host => SignerLookup::Ask("AWS STS".to_owned()),
        None => SignerLookup::Not(format!(
            "sts:GetAccessKeyInfo is AWS's, and this URL points at {}, not AWS",
            p.host
        )),
    }
}

/// `host[:port]` of an endpoint URL.
fn endpoint_host(endpoint: &str) -> &str {
    let rest = endpoint.split_once("://").map_or(endpoint, |(_, r)| r);
    rest.split(['/', '?']).next().unwrap_or_default()
}

/// Why the URL is not sent, if it is not: only GET URLs are, and only when every signed header
/// is one the HTTP client sends by itself.
fn why_not_send(p: &Presigned, method: Option<Method>) -> Option<String> {
    match method {
        Some(Method::Get) => {}
        Some(other) => {
            return Some(format!(
                "a {other} URL is never sent by s3doctor (only GET URLs, with Range: bytes=0-0)"
            ));
        }
        None => {
            return Some(
                "the URL does not say its method (no x-id parameter); pass --method GET if it \
                 is a download URL"
                    .to_owned(),
            );
        }
    }
    let headers = p.client_headers();
    if !headers.is_empty() {
        return Some(format!(
            "it is signed with headers whose values s3doctor does not know ({})",
            headers.join(", ")
        ));
    }
    None
}

/// The region to address the URL's server in: its hostname's, else the signature's, else
/// us-east-1 (a SigV2 URL on `s3.amazonaws.com`).
fn signing_region(p: &Presigned) -> &str {
    p.host_region
        .as_deref()
        .or(p.region.as_deref())
        .unwrap_or(crate::aws::FALLBACK_REGION)
}

/// An S3 client that signs nothing, for `endpoint` (a custom endpoint, path-style) or AWS.
fn anonymous_s3(p: &Presigned, region: &str, timeout: Duration) -> aws_sdk_s3::Client {
    let mut conf = aws_sdk_s3::Config::builder()
        .behavior_version(BehaviorVersion::latest())
        .region(Region::new(region.to_owned()))
        .allow_no_auth()
        .retry_config(RetryConfig::disabled())
        .timeout_config(
            TimeoutConfig::builder()
                .connect_timeout(timeout.min(Duration::from_secs(3)))
                .read_timeout(timeout)
                .operation_timeout(timeout)
                .build(),
        );
    if !p.aws_host {
        conf = conf
            .endpoint_url(format!("{}://{}", p.scheme, p.host))
            .force_path_style(true);
    }
    aws_sdk_s3::Client::from_conf(conf.build())
}

/// The bucket's region from `x-amz-bucket-region`, which S3 sends on 200, 301, 400 and 403
/// answers to an unsigned HeadBucket.
async fn bucket_region(p: &Presigned, timeout: Duration) -> Result<Option<String>, String> {
    let Some(bucket) = p.bucket.as_deref() else {
        return Err("the URL names no bucket".to_owned());
    };
    let region = signing_region(p);
    let s3 = anonymous_s3(p, region, timeout);
    match s3.head_bucket().bucket(bucket).send().await {
        Ok(out) => Ok(out.bucket_region().map(str::to_owned)),
        Err(err) => {
            let failure = crate::answers::failure(crate::operation::Operation::HeadBucket, &err);
            match (failure.bucket_region, failure.evidence.http_status) {
                (Some(region), _) => Ok(Some(region)),
                (None, Some(_)) => Ok(None),
                (None, None) => Err(failure.evidence.one_line()),
            }
        }
    }
}

/// Why the signer's account is unknown: nothing was sent (no credentials), or the call was
/// sent, with the credentials of that source, and failed.
enum SignerUnknown {
    NotAsked(String),
    Refused(String, String),
}

/// The account of the access key, asked with the configured credentials, and where those
/// credentials came from.
async fn signer_account(config: &Config, key_id: &str) -> Result<(String, String), SignerUnknown> {
    let session = crate::credentials::connect(&config.settings)
        .await
        .map_err(|f| {
            SignerUnknown::NotAsked(format!(
                "no credentials to ask sts:GetAccessKeyInfo with ({})",
                f.detail
            ))
        })?;
    let source = session.credential_source.clone();
    let out = session
        .clients
        .sts
        .get_access_key_info()
        .access_key_id(key_id)
        .send()
        .await
        .map_err(|e| {
            SignerUnknown::Refused(
                crate::answers::describe(Operation::GetAccessKeyInfo, &e),
                source.clone(),
            )
        })?;
    out.account()
        .map(|a| (a.to_owned(), source.clone()))
        .ok_or_else(|| SignerUnknown::Refused("GetAccessKeyInfo named no account".into(), source))
}

/// Sends the URL as is, with `Range: bytes=0-0` and no other header that could need signing.
#[derive(Debug)]
struct SendAsIs {
    uri: String,
}

impl Intercept for SendAsIs {
    fn name(&self) -> &'static str {
        "SendPresignedUrlAsIs"
    }

    fn modify_before_transmit(
        &self,
        context: &mut BeforeTransmitInterceptorContextMut<'_>,
        _components: &RuntimeComponents,
        _cfg: &mut ConfigBag,
    ) -> Result<(), BoxError> {
        let request = context.request_mut();
        request.set_uri(self.uri.as_str())?;
        let extra: Vec<String> = request
            .headers()
            .iter()
            .map(|(name, _)| name.to_ascii_lowercase())
            .filter(|name| {
                name.starts_with("x-amz-")
                    || name.starts_with("amz-sdk-")
                    || name == "authorization"
            })
            .collect();
        for name in extra {
            request.headers_mut().remove(name);
        }
        request.headers_mut().insert("range", "bytes=0-0");
        Ok(())
    }
}

/// One GET of the URL, through the SDK (timeouts, error parsing), nothing signed by s3doctor.
async fn try_get(p: &Presigned, url: &str, timeout: Duration) -> Tried {
    let request = "GET with Range: bytes=0-0".to_owned();
    let region = signing_region(p);
    let s3 = anonymous_s3(p, region, timeout);
    let result = s3
        .get_object()
        .bucket(p.bucket.as_deref().unwrap_or("bucket"))
        .key(p.key.as_deref().unwrap_or("key"))
        .range("bytes=0-0")
        .customize()
        .interceptor(SendAsIs {
            uri: url.trim().to_owned(),
        })
        .send()
        .await;
    match result {
        Ok(_) => Tried {
            request,
            // The SDK hides the status of a success: a ranged GET answers 206 (200 when the
            // object is empty).
            http_status: None,
            error_code: None,
            message: Some("the object was read".to_owned()),
        },
        Err(err) => {
            let failure = crate::answers::failure(crate::operation::Operation::GetObject, &err);
            Tried {
                request,
                http_status: failure.evidence.http_status,
                error_code: failure.evidence.error_code,
                message: failure.evidence.message,
            }
        }
    }
}

/// "S3 answered 403 AccessDenied: Request has expired." — S3 when the URL is AWS's, else the
/// server it points at, and only the words that server said.
fn answer_sentence(p: &Presigned, status: u16, code: &str, message: &str) -> String {
    let who = if p.aws_host {
        "S3".to_owned()
    } else {
        format!("The server at {}", p.host)
    };
    format!(
        "{who} answered {status}{}{}.",
        if code.is_empty() {
            String::new()
        } else {
            format!(" {code}")
        },
        if message.is_empty() {
            String::new()
        } else {
            format!(": {message}")
        }
    )
}

/// The cause S3's answer names by its code or words, if it names one.
fn cause_named(p: &Presigned, status: u16, code: &str, message: &str) -> Option<FindingCode> {
    if message.contains("Request has expired") {
        Some(FindingCode::PresignedExpired)
    } else if matches!(
        code,
        "ExpiredToken" | "TokenRefreshRequired" | "InvalidToken"
    ) {
        Some(FindingCode::PresignedSignerExpired)
    } else if matches!(
        code,
        "AuthorizationQueryParametersError" | "PermanentRedirect" | "AuthorizationHeaderMalformed"
    ) || status == 301
    {
        Some(FindingCode::PresignedWrongRegion)
    } else if AwsCode::SignatureDoesNotMatch.is(Some(code)) && !p.client_headers().is_empty() {
        Some(FindingCode::PresignedHeaderMismatch)
    } else {
        None
    }
}

/// What S3's answer adds: confirms a local finding, or names the cause it alone shows.
fn judge_try(p: &Presigned, tried: &Tried, findings: &mut Vec<Problem>) {
    let Some(status) = tried.http_status else {
        return;
    };
    let code = tried.error_code.as_deref().unwrap_or_default();
    let message = tried.message.as_deref().unwrap_or_default();
    let answer = answer_sentence(p, status, code, message);
    match cause_named(p, status, code, message) {
        Some(code) => match findings.iter_mut().find(|f| f.code == code) {
            Some(f) => {
                f.severity = Severity::Error;
                f.summary.push_str(&format!(" {answer}"));
            }
            None => {
                let mut f = presigned::problem_for(code, p);
                f.summary.push_str(&format!(" {answer}"));
                findings.push(f);
            }
        },
        // A cause already found locally explains the refusal (S3-compatible servers often say
        // only "AccessDenied"): the answer confirms it rather than naming a new one.
        None if status >= 400 && findings.iter().any(|f| f.severity == Severity::Error) => {
            if let Some(f) = findings.iter_mut().find(|f| f.severity == Severity::Error) {
                f.summary.push_str(&format!(" {answer}"));
            }
        }
        None if status == 403 || AwsCode::SignatureDoesNotMatch.is(Some(code)) => {
            // The signer's own permissions: a presigned URL can do only what its signer may.
            let mut f = presigned::signer_refused(p, code);
            f.summary.push_str(&format!(" {answer}"));
            findings.push(f);
        }
        None => {}
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn get_url() -> Presigned {
        presigned::parse(
            "https://b.s3.eu-west-1.amazonaws.com/k?X-Amz-Algorithm=AWS4-HMAC-SHA256\
             &X-Amz-Credential=AKIAIOSFODNN7EXAMPLE%2F20261125%2Feu-west-1%2Fs3%2Faws4_request\
             &X-Amz-Date=20261125T150000Z&X-Amz-Expires=60&X-Amz-SignedHeaders=host\
             &X-Amz-Signature=0123456789abcdef0123456789abcdef0123456789abcdef0123456789abcdef&x-id=GetObject",
        )
        .unwrap()
    }

    #[test]
    fn only_get_urls_without_unknown_headers_are_sent() {
        let p = get_url();
        assert_eq!(why_not_send(&p, p.method()), None);
        let put = why_not_send(&p, Some(Method::Put)).unwrap();
        assert!(put.contains("never sent"), "{put}");
        let unknown = why_not_send(&p, None).unwrap();
        assert!(unknown.contains("--method GET"), "{unknown}");
        let mut with_type = p.clone();
        with_type.signed_headers.push("content-type".into());
        assert!(why_not_send(&with_type, Some(Method::Get)).is_some());
    }

    #[test]
    fn the_signer_is_asked_only_of_the_server_the_url_points_at() {
        let aws = get_url();
        assert_eq!(
            signer_lookup(&aws, None),
            SignerLookup::Ask("AWS STS".into())
        );
        let mut rgw = aws.clone();
        rgw.host = "127.0.0.1:7480".into();
        rgw.aws_host = false;
        // Not AWS's URL: AWS's STS is never asked, whatever the environment's keys.
        assert!(matches!(signer_lookup(&rgw, None), SignerLookup::Not(_)));
        // The configured endpoint is asked only when it is the URL's own server.
        assert_eq!(
            signer_lookup(&rgw, Some("http://127.0.0.1:7480")),
            SignerLookup::Ask("http://127.0.0.1:7480".into())
        );
        assert!(matches!(
            signer_lookup(&rgw, Some("http://127.0.0.1:9000")),
            SignerLookup::Not(_)
        ));
        assert!(matches!(
            signer_lookup(&aws, Some("http://127.0.0.1:9000")),
            SignerLookup::Not(_)
        ));
    }

    #[test]
    fn s3_answers_to_the_try_name_their_cause() {
        let p = get_url();
        let answer = |status: u16, code: &str, message: &str| {
            let mut findings = Vec::new();
            judge_try(
                &p,
                &Tried {
                    request: "GET".into(),
                    http_status: Some(status),
                    error_code: Some(code.into()),
                    message: Some(message.into()),
                },
                &mut findings,
            );
            findings
                .iter()
                .map(|f| (f.code.as_str(), f.severity))
                .collect::<Vec<_>>()
        };
        assert_eq!(
            answer(403, "AccessDenied", "Request has expired"),
            [("presigned.expired", Severity::Error)]
        );
        assert_eq!(
            answer(400, "ExpiredToken", "The provided token has expired."),
            [("presigned.signer-expired", Severity::Error)]
        );
        assert_eq!(
            answer(
                400,
                "AuthorizationQueryParametersError",
                "…region 'eu-west-1' is wrong…"
            ),
            [("presigned.wrong-region", Severity::Error)]
        );
        assert_eq!(
            answer(403, "AccessDenied", "Access Denied"),
            [("permission.missing", Severity::Error)]
        );
        assert_eq!(
            answer(403, "SignatureDoesNotMatch", ""),
            [("credentials.signature-mismatch", Severity::Error)]
        );
        assert!(answer(404, "NoSuchKey", "").is_empty());
    }

    #[test]
    fn a_bare_refusal_of_an_expired_url_confirms_the_expiry() {
        let p = get_url();
        let mut findings = presigned::problems(
            &p,
            &Context {
                now: p.expires_at() + 10,
                bucket_region: None,
            },
        );
        judge_try(
            &p,
            &Tried {
                request: "GET".into(),
                http_status: Some(403),
                error_code: Some("AccessDenied".into()),
                message: None,
            },
            &mut findings,
        );
        assert_eq!(findings.len(), 1, "{findings:?}");
        assert_eq!(findings[0].code, FindingCode::PresignedExpired);
        assert!(
            findings[0]
                .summary
                .ends_with("S3 answered 403 AccessDenied.")
        );
    }
}
