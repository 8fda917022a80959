//! Reads an AWS error out of pasted text — an SDK's or the AWS CLI's message, a stack trace, a
//! raw XML body, a CloudTrail event — into the same [`Evidence`] a live answer gives, so that
//! `s3doctor why` is classified by the checklist's own code ([`super::classify`]) and reads
//! AWS's detailed messages with [`super::access_denied`]. Offline: nothing here sends anything.

mod cloudtrail;
mod place;
mod sdk_text;

use crate::arn;
use crate::finding::Evidence;

use super::access_denied::{self, AccessDenied};
use super::error_body::ErrorBody;
use super::{Class, classify};

/// The shape the text was recognised in: who printed it.
#[derive(Clone, Copy, Debug, PartialEq, Eq, serde::Serialize)]
#[serde(rename_all = "kebab-case")]
pub enum Shape {
    #[serde(rename = "cloudtrail")]
    CloudTrail,
    XmlBody,
    Botocore,
    AwsCli,
    JsV3,
    JsV2,
    JavaV2,
    JavaV1,
    GoV2,
    GoV1,
    #[serde(rename = "dotnet")]
    DotNet,
    Kotlin,
    Php,
    RustSdk,
    /// AWS's message alone (`User: … is not authorized to perform: …`, `Access Denied`).
    AwsMessage,
}

impl Shape {
    /// In words, for the report.
    pub fn describe(self) -> &'static str {
        match self {
            Shape::CloudTrail => "a CloudTrail event",
            Shape::XmlBody => "an XML error body",
            Shape::Botocore => "a botocore/boto3 ClientError",
            Shape::AwsCli => "AWS CLI output",
            Shape::JsV3 => "an AWS SDK for JavaScript v3 error",
            Shape::JsV2 => "an AWS SDK for JavaScript v2 error",
            Shape::JavaV2 => "an AWS SDK for Java 2.x S3Exception",
            Shape::JavaV1 => "an AWS SDK for Java 1.x AmazonS3Exception",
            Shape::GoV2 => "an AWS SDK for Go v2 error",
            Shape::GoV1 => "an AWS SDK for Go v1 error",
            Shape::DotNet => "an AWS SDK for .NET exception",
            Shape::Kotlin => "an AWS SDK for Kotlin exception",
            Shape::Php => "an AWS SDK for PHP exception",
            Shape::RustSdk => "an AWS SDK for Rust error",
            Shape::AwsMessage => "AWS's error message",
        }
    }
}

/// What the text says about the request beyond the answer: who, where, from where.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct Request {
    /// The caller's ARN (`anonymous` for an unsigned request).
    pub principal: Option<String>,
    /// The IAM role behind an assumed-role session.
    pub role_arn: Option<String>,
    /// True when `role_arn` was made from a session's ARN (`assumed-role/NAME/SESSION`), which
    /// does not carry the role's path: the role's real ARN may have one. CloudTrail's session
    /// issuer names the real ARN.
    pub role_path_unknown: bool,
    /// The refused resource as AWS named it.
    pub resource: Option<String>,
    pub bucket: Option<String>,
    pub key: Option<String>,
    /// The AWS region the text names (a host name, CloudTrail's `awsRegion`, `<Region>`).
    pub region: Option<String>,
    /// A server that is not AWS (`https://host:port`), named by a URL in the text.
    pub endpoint: Option<String>,
    pub source_ip: Option<String>,
    pub vpce: Option<String>,
    /// S3's extended request id (`x-amz-id-2`, HostId).
    pub extended_request_id: Option<String>,
}

/// An AWS error read from text.
#[derive(Clone, Debug)]
pub struct Pasted {
    pub shape: Shape,
    /// As a live answer's: operation (empty when the text does not name it), status, code,
    /// message, request id, the `x-amz-id-2` and `x-amz-bucket-region` headers.
    pub evidence: Evidence,
    pub bucket_region: Option<String>,
    /// AWS's detailed access-denied message, parsed (all `None` for a bare refusal).
    pub denied: AccessDenied,
    pub request: Request,
}

impl Pasted {
    /// The class of the answer, by the checklist's classifier.
    pub fn class(&self) -> Class {
        classify(&self.evidence, &self.bucket_region)
    }

    /// True when the SDK could not know the reason: a HEAD answer has no body, so all the
    /// SDK has is the status (`Forbidden`, `403`, `null`).
    pub fn reason_hidden(&self) -> bool {
        let head = self.evidence.operation.starts_with("Head");
        let bodiless = self.evidence.message.is_none()
            && self
                .evidence
                .error_code
                .as_deref()
                .is_none_or(|c| c == "Forbidden" || c == "AccessDenied");
        self.evidence.http_status == Some(403) && (head || bodiless) && self.denied.kind.is_none()
    }
}

/// The fields a reader found; merged first-found-wins.
#[derive(Clone, Debug, Default)]
struct Fields {
    shape: Option<Shape>,
    operation: Option<String>,
    status: Option<u16>,
    code: Option<String>,
    message: Option<String>,
    request_id: Option<String>,
    host_id: Option<String>,
    bucket_region: Option<String>,
    request: Request,
}

impl Fields {
    /// Fills what is still missing from `other`.
    fn merge(&mut self, other: Fields) {
        fn fill<T>(slot: &mut Option<T>, value: Option<T>) {
            if slot.is_none() {
                *slot = value;
            }
        }
        fill(&mut self.shape, other.shape);
        fill(&mut self.operation, other.operation);
        fill(&mut self.status, other.status);
        fill(&mut self.code, other.code);
        fill(&mut self.message, other.message);
        fill(&mut self.request_id, other.request_id);
        fill(&mut self.host_id, other.host_id);
        fill(&mut self.bucket_region, other.bucket_region);
        let (r, o) = (&mut self.request, other.request);
        fill(&mut r.principal, o.principal);
        fill(&mut r.role_arn, o.role_arn);
        fill(&mut r.resource, o.resource);
        fill(&mut r.bucket, o.bucket);
        fill(&mut r.key, o.key);
        fill(&mut r.region, o.region);
        fill(&mut r.endpoint, o.endpoint);
        fill(&mut r.source_ip, o.source_ip);
        fill(&mut r.vpce, o.vpce);
        fill(&mut r.extended_request_id, o.extended_request_id);
    }
}

/// The most text `why` reads; a pasted error is far shorter (a long stack trace is ~100 KiB).
pub const MAX_TEXT: usize = 4 * 1024 * 1024;

/// Reads the AWS error in `text`: `None` when it holds none (no error code, no HTTP error
/// status, no AWS refusal in words). Never panics, whatever the text.
pub fn read(text: &str) -> Option<Pasted> {
    let text = text.get(..MAX_TEXT.min(text.len())).unwrap_or(text);
    let mut fields = cloudtrail::read(text).unwrap_or_default();
    if let Some(body) = ErrorBody::find_in(text) {
        fields.merge(from_body(body));
    }
    let printed = sdk_text::read(text);
    // The SDK that printed a body names the shape better than the body.
    if fields.shape == Some(Shape::XmlBody) && printed.shape.is_some_and(|s| s != Shape::AwsMessage)
    {
        fields.shape = printed.shape;
    }
    fields.merge(printed);
    fields.merge(place::read(text));
    build(fields)
}

fn from_body(body: ErrorBody) -> Fields {
    Fields {
        shape: Some(Shape::XmlBody),
        code: body.code,
        message: body.message,
        request_id: body.request_id,
        host_id: body.host_id,
        bucket_region: body.region.clone(),
        request: Request {
            bucket: body.bucket,
            key: body.key,
            region: body.region,
            ..Request::default()
        },
        ..Fields::default()
    }
}

/// Turns the fields into the evidence a live answer would have given, or `None` when they
/// hold no error.
fn build(mut f: Fields) -> Option<Pasted> {
    normalize(&mut f);
    let is_error = f.code.is_some() || f.status.is_some_and(|s| s >= 300);
    if !is_error {
        return None;
    }
    let message = f
        .message
        .map(|m| m.split_whitespace().collect::<Vec<_>>().join(" "));
    let denied = message
        .as_deref()
        .map(access_denied::parse)
        .unwrap_or_default();
    complete_request(&mut f.request, &denied);
    let mut headers = Vec::new();
    if let Some(id) = &f.host_id {
        headers.push(("x-amz-id-2".to_owned(), id.clone()));
    }
    if let Some(region) = &f.bucket_region {
        headers.push(("x-amz-bucket-region".to_owned(), region.clone()));
    }
    f.request.extended_request_id = f.host_id;
    let evidence = Evidence {
        operation: f.operation.unwrap_or_default(),
        http_status: f.status,
        error_code: f.code,
        authorization_id: message.as_deref().and_then(access_denied::authorization_id),
        message,
        request_id: f.request_id,
        headers,
        // A pasted text tells no timeout or refusal apart by type: its words are its own.
        unreachable: None,
    };
    Some(Pasted {
        shape: f.shape.unwrap_or(Shape::AwsMessage),
        evidence,
        bucket_region: f.bucket_region,
        denied,
        request: f.request,
    })
}

/// The same answer however its printer spelled it: a numeric or word code is a status
/// (botocore's `(403)` for a bodiless answer, .NET's `Forbidden`), `null` is no message,
/// AWS's refusal in words implies its code and status.
fn normalize(f: &mut Fields) {
    let placeholder = |s: &str| {
        let s = s.trim();
        s.is_empty()
            || matches!(
                s,
                "null" | "None" | "undefined" | "<>" | "id" | "-" | "Unknown"
            )
    };
    // An id someone replaced (`***`, `XXXXXXXX`, `<>`) identifies nothing.
    let real_id = |s: &String| {
        !placeholder(s)
            && s.chars().any(|c| c.is_ascii_alphanumeric())
            && s.chars().any(|c| c != s.chars().next().unwrap_or(' '))
    };
    f.message = f
        .message
        .take()
        .map(|m| aws_words(&m))
        .filter(|m| !placeholder(m));
    f.request_id = f.request_id.take().filter(real_id);
    f.host_id = f.host_id.take().filter(real_id);
    if let Some(code) = f.code.take() {
        match code.parse::<u16>() {
            Ok(status) => f.status = f.status.or(Some(status)),
            Err(_) if code == "Forbidden" => f.status = f.status.or(Some(403)),
            Err(_) if !placeholder(&code) => f.code = Some(code),
            Err(_) => {}
        }
    }
    if f.code.is_none() {
        f.code = f
            .message
            .as_deref()
            .and_then(code_of_message)
            .map(str::to_owned);
    }
    let message = f.message.as_deref().unwrap_or("");
    let refused_in_words = message.contains("is not authorized to perform")
        || message
            .trim_end_matches('.')
            .eq_ignore_ascii_case("access denied");
    if f.code.is_none() && refused_in_words {
        f.code = Some("AccessDenied".to_owned());
    }
    // The code came in an answer: its status, as S3 and STS document it (a printer that
    // kept only the code, such as CloudTrail, still saw an answer).
    if f.status.is_none() {
        f.status = f.code.as_deref().and_then(status_of_code);
    }
}

/// AWS's words in a message as an SDK printed it: without the exception class names in
/// front (`…S3Exception: Access Denied`), and none at all where the SDK only says it got no
/// words (`Forbidden` is the HTTP reason phrase; .NET's "Error making request with Error Code
/// Forbidden …", "No further error information was returned").
fn aws_words(message: &str) -> String {
    let m = message
        .rsplit("Exception: ")
        .next()
        .unwrap_or(message)
        .trim();
    let sdk_only = m.eq_ignore_ascii_case("forbidden")
        || m.starts_with("Error making request with Error Code")
        || m.contains("No further error information");
    if sdk_only {
        String::new()
    } else {
        m.to_owned()
    }
}

/// The HTTP status of an error code, as S3's and STS's error references list it
/// (docs.aws.amazon.com/AmazonS3/latest/API/ErrorResponses.html, STS CommonErrors).
fn status_of_code(code: &str) -> Option<u16> {
    Some(match code {
        "AccessDenied"
        | "VpceAccessDenied"
        | "AllAccessDisabled"
        | "InvalidAccessKeyId"
        | "SignatureDoesNotMatch"
        | "RequestTimeTooSkewed"
        | "InvalidObjectState"
        | "InvalidClientTokenId"
        | "RequestExpired" => 403,
        // S3's; STS answers it with 403.
        "ExpiredToken" | "AuthorizationHeaderMalformed" => 400,
        "NoSuchBucket" | "NoSuchKey" => 404,
        "PermanentRedirect" => 301,
        "SlowDown" => 503,
        _ => return None,
    })
}

/// S3's documented messages whose code the printer left out (ErrorResponses.html).
fn code_of_message(message: &str) -> Option<&'static str> {
    const MESSAGES: [(&str, &str); 7] = [
        (
            "All access to this object has been disabled",
            "AllAccessDisabled",
        ),
        ("The specified bucket does not exist", "NoSuchBucket"),
        ("The specified key does not exist", "NoSuchKey"),
        (
            "The AWS Access Key Id you provided does not exist in our records",
            "InvalidAccessKeyId",
        ),
        (
            "The request signature we calculated does not match the signature you provided",
            "SignatureDoesNotMatch",
        ),
        ("The provided token has expired", "ExpiredToken"),
        (
            "The difference between the request time and the current time is too large",
            "RequestTimeTooSkewed",
        ),
    ];
    MESSAGES
        .iter()
        .find(|(words, _)| message.starts_with(words))
        .map(|(_, code)| *code)
}

/// Fills who and what from AWS's message where the text said nothing else: the principal,
/// its role, and the bucket and key of an S3 resource ARN.
fn complete_request(r: &mut Request, denied: &AccessDenied) {
    if r.principal.is_none() {
        r.principal = denied.principal.clone();
    }
    if r.role_arn.is_none() {
        let principal = r
            .principal
            .as_deref()
            .and_then(|p| arn::parse_principal(p).ok());
        r.role_arn = principal.as_ref().and_then(|p| p.role_arn());
        r.role_path_unknown = principal.is_some_and(|p| p.kind == arn::PrincipalKind::AssumedRole);
    }
    if r.resource.is_none() {
        r.resource = denied.resource.clone();
    }
    if let Some((bucket, key)) = r.resource.as_deref().and_then(place::s3_arn) {
        if r.bucket.is_none() {
            r.bucket = Some(bucket);
        }
        if r.key.is_none() {
            r.key = key;
        }
    }
    place::keep_real(r);
}

#[cfg(test)]
pub(crate) mod tests;
