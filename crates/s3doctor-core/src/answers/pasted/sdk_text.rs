//! The shapes in which SDKs and the AWS CLI print an AWS error, as one table of patterns with
//! named parts (`op`, `status`, `code`, `msg`, `rid`, `hid`): the most specific first, each
//! filling only what an earlier one left empty. Then the markers that say who printed it.
//! Each shape is backed by a real sample in `tests/fixtures/errors/`.

use std::sync::LazyLock;

use regex::Regex;

use super::{Fields, Shape};

/// One pattern: the shape it proves (if any) and its regular expression.
struct Pattern {
    shape: Option<Shape>,
    re: &'static str,
}

const fn p(shape: Option<Shape>, re: &'static str) -> Pattern {
    Pattern { shape, re }
}

/// Most specific first.
const PATTERNS: &[Pattern] = &[
    // botocore / boto3 / AWS CLI v2: `An error occurred (AccessDenied) when calling the
    // PutObject operation: Access Denied` (`(403)` … `Forbidden` for a bodiless HEAD).
    p(
        Some(Shape::Botocore),
        r"An error occurred \((?P<code>[^)\s]+)\) when calling the (?P<op>\w+) operation(?: \(reached max retries: \d+\))?: (?P<msg>[^\r\n]*)",
    ),
    // AWS CLI v1 (old botocore).
    p(
        Some(Shape::AwsCli),
        r"A client error \((?P<code>[^)\s]+)\) occurred when calling the (?P<op>\w+) operation: (?P<msg>[^\r\n]*)",
    ),
    // Go v2: `operation error S3: PutObject, https response error StatusCode: 403, RequestID:
    // X, HostID: Y, api error AccessDenied: Access Denied`.
    p(
        Some(Shape::GoV2),
        r"operation error [^:,\r\n]+: (?P<op>\w+), https response error StatusCode: (?P<status>\d{3}), RequestID: (?P<rid>[^,\s]*),(?: HostID: (?P<hid>[^,\s]*),)? (?:api error (?P<code>[\w.]+): )?(?P<msg>[^\r\n]*)",
    ),
    // Go v1: `AccessDenied: Access Denied\n\tstatus code: 403, request id: X, host id: Y`.
    p(
        Some(Shape::GoV1),
        r"(?P<code>[A-Z][\w.]*): (?P<msg>[^\r\n]*)\s+status code: (?P<status>\d{3}), request id: (?P<rid>[^,\s]*)(?:, host id: (?P<hid>\S*))?",
    ),
    // Java 2.x: `S3Exception: MSG (Service: S3, Status Code: 403, Request ID: X, Extended
    // Request ID: Y)`.
    p(
        Some(Shape::JavaV2),
        r"Exception: (?P<msg>[^\r\n]*?) ?\(Service: [^,)]+, Status Code: (?P<status>\d{3}), Request ID: (?P<rid>[^,)\s]*)(?:, Extended Request ID: (?P<hid>[^,)\s]*))?",
    ),
    // Java 1.x: `AmazonS3Exception: MSG (Service: Amazon S3; Status Code: 403; Error Code:
    // AccessDenied; Request ID: X; S3 Extended Request ID: Y…)` (also after `due to`).
    p(
        Some(Shape::JavaV1),
        r"(?:Exception: |due to |Error Message:\s+)(?P<msg>[^\r\n;(]*?) \(Service: [^;)]+; Status Code: (?P<status>\d{3}); Error Code: (?P<code>[^;)]+); Request ID: (?P<rid>[^;)\s]*)(?:; S3 Extended Request ID: (?P<hid>[^;)\s]*))?",
    ),
    // Java 1.x before 1.9: `Status Code: 403, AWS Service: Amazon S3, AWS Request ID: X, AWS
    // Error Code: AccessDenied, AWS Error Message: Access Denied`.
    p(
        Some(Shape::JavaV1),
        r#"Status Code: (?P<status>\d{3}), AWS Service: [^,]+, AWS Request ID: (?P<rid>[^,\s]+), AWS Error Code: (?P<code>[^,\s]+), AWS Error Message: (?P<msg>[^"\r\n]+)"#,
    ),
    // Kotlin: `Service returned error code 403: Forbidden, Error type: Unknown, Protocol
    // response: HTTP 403 Forbidden, Request ID: X, Extended request ID: Y`.
    p(
        Some(Shape::Kotlin),
        r"Service returned error code (?P<code>\w+): (?P<msg>[^,\r\n]*), Error type: \w+, Protocol response: HTTP (?P<status>\d{3})[^,\r\n]*, Request ID: (?P<rid>[^,\s]*)(?:, Extended request ID: (?P<hid>\S*))?",
    ),
    // .NET: `Amazon.S3.AmazonS3Exception: Error making request with Error Code Forbidden and
    // Http Status Code Forbidden.` and `Amazon.S3.AmazonS3Exception: MSG ---> …`.
    p(
        Some(Shape::DotNet),
        r"Error making request with Error Code (?P<code>\w+) and Http Status Code (?P<status>\w+)",
    ),
    p(
        Some(Shape::DotNet),
        r"Amazon\.\w+\.Amazon\w*Exception: (?P<msg>[^\r\n]*?)(?: --->|\r?\n|$)",
    ),
    // PHP: `Error executing "PutObject" on "https://…"; AWS HTTP error: … resulted in a
    // `403 Forbidden` response`.
    p(
        Some(Shape::Php),
        r#"Error executing \\?"(?P<op>\w+)\\?" on "#,
    ),
    p(None, r"resulted in a `(?P<status>\d{3})"),
    // Rust: DisplayErrorContext's `unhandled error (AccessDenied): Error { code:
    // "AccessDenied", message: "…", aws_request_id: "…", s3_extended_request_id: "…" }`, and
    // older Debug dumps (`code: Some("…")`, `"x-amz-request-id": "…"`, `status: 403`).
    p(
        Some(Shape::RustSdk),
        r"unhandled error \((?P<code>[\w.]+)\)",
    ),
    p(Some(Shape::RustSdk), r#"aws_request_id: "(?P<rid>[^"]+)""#),
    p(
        Some(Shape::RustSdk),
        r#"s3_extended_request_id: "(?P<hid>[^"]+)""#,
    ),
    p(Some(Shape::RustSdk), r"\bstatus: (?P<status>\d{3}),"),
    p(Some(Shape::RustSdk), r"\b(?P<op>[A-Z]\w+?)Error \{"),
    p(None, r#"\bcode: (?:Some\()?"(?P<code>[\w.]+)""#),
    p(None, r#"\bmessage: (?:Some\()?"(?P<msg>(?:[^"\\]|\\.)*)""#),
    // JavaScript v3 (JSON or util.inspect) and v2.
    p(
        Some(Shape::JsV3),
        r#"["']?httpStatusCode["']?\s*:\s*(?P<status>\d{3})"#,
    ),
    p(None, r#"["']?requestId["']?\s*:\s*["'](?P<rid>[^"']+)["']"#),
    p(
        None,
        r#"["']?extendedRequestId["']?\s*:\s*["'](?P<hid>[^"']+)["']"#,
    ),
    p(
        None,
        r#"["']?(?:Code|code)["']?\s*:\s*["'](?P<code>[A-Za-z][\w.]*)["']"#,
    ),
    p(
        None,
        r#""(?:message|errorMessage)"\s*:\s*"(?P<msg>(?:[^"\\]|\\.)*)""#,
    ),
    p(None, r"\bmessage: '(?P<msg>[^'\r\n]*)'"),
    p(Some(Shape::JsV2), r"\bstatusCode: (?P<status>\d{3}),"),
    p(
        None,
        r"(?:\bde_|deserializeAws_restXml)(?P<op>[A-Z]\w+?)Command",
    ),
    p(None, r"\b(?P<op>[A-Z]\w+?)OperationDeserializer"),
    // HTTP wire traces and header dumps.
    p(None, r#"HTTP/1\.[01]"? (?P<status>\d{3}) "#),
    p(None, r#"(?i)x-amz-request-id"?[:,]\s*"?(?P<rid>[\w-]{8,})"#),
    p(
        None,
        r#"(?i)x-amz-id-2"?[:,]\s*"?(?P<hid>[A-Za-z0-9+/=]{16,})"#,
    ),
    p(
        None,
        r#"(?i)x-amz-bucket-region"?[:,]\s*(?:chr\s*)?['"]?(?P<region>[a-z0-9-]+)"#,
    ),
    // Generic: a status, a request id, an extended request id anywhere.
    p(None, r"(?i)\bstatus code:? (?P<status>\d{3})\b"),
    p(None, r"(?i)\brequest ?id:? (?P<rid>[A-Za-z0-9]{8,})"),
    p(
        None,
        r"(?i)extended request id:? (?P<hid>[A-Za-z0-9+/=]{16,})",
    ),
    // AWS's own words, when nothing above caught the message.
    p(
        Some(Shape::AwsMessage),
        r"(?P<msg>User: \S+ is not authorized to perform: [^\r\n]*)",
    ),
    p(Some(Shape::AwsMessage), r"(?P<msg>(?i:access denied))"),
];

/// Who printed the error, from words only that printer uses.
const MARKERS: &[(&str, Shape)] = &[
    (
        r"(?m)^(?:upload|download|copy|delete|move) failed: |fatal error: |A client error \(",
        Shape::AwsCli,
    ),
    (r"botocore|boto3|ClientError", Shape::Botocore),
    (r"software\.amazon\.awssdk|\(Service: S3, ", Shape::JavaV2),
    (r"com\.amazonaws\.|\(Service: Amazon S3; ", Shape::JavaV1),
    (r"\$metadata|\$fault|@aws-sdk/", Shape::JsV3),
    (r"Amazon\.Runtime\.|Amazon\.S3\.", Shape::DotNet),
    (r"aws\.sdk\.kotlin", Shape::Kotlin),
    (r"Aws\\S3\\Exception|Error executing ", Shape::Php),
    (r"aws-sdk/lib/|extractError|retryDelay", Shape::JsV2),
    (
        r"ServiceError \{|SdkError|DisplayErrorContext",
        Shape::RustSdk,
    ),
];

/// The SDK operation names in stack traces (`.putObject(`, `PutObjectAsync`, `S3::putObject`).
const OPERATIONS: &[&str] = &[
    "PutObjectAcl",
    "PutObject",
    "GetObject",
    "HeadObject",
    "HeadBucket",
    "DeleteObject",
    "ListObjectsV2",
    "ListObjects",
    "CopyObject",
    "CreateMultipartUpload",
    "UploadPart",
    "CompleteMultipartUpload",
    "ListBuckets",
];

#[allow(clippy::expect_used)] // constant patterns, compiled once and tested
static COMPILED: LazyLock<Vec<(Option<Shape>, Regex)>> = LazyLock::new(|| {
    PATTERNS
        .iter()
        .map(|p| (p.shape, Regex::new(p.re).expect("a valid pattern")))
        .collect()
});

#[allow(clippy::expect_used)]
static MARKER_RES: LazyLock<Vec<(Regex, Shape)>> = LazyLock::new(|| {
    MARKERS
        .iter()
        .map(|(re, shape)| (Regex::new(re).expect("a valid marker"), *shape))
        .collect()
});

#[allow(clippy::expect_used)]
static OPERATION_RE: LazyLock<Regex> = LazyLock::new(|| {
    Regex::new(&format!(
        r"(?i)\b(?:\w+\.|\w+::)?({})(?:Async|Command)?\s*\(",
        OPERATIONS.join("|")
    ))
    .expect("a valid pattern")
});

/// The fields every pattern finds in `text`, first found first.
pub(super) fn read(text: &str) -> Fields {
    let mut f = Fields::default();
    let mut shape = None;
    for (proves, re) in COMPILED.iter() {
        let Some(c) = re.captures(text) else { continue };
        let mut took = false;
        let mut take = |slot: &mut Option<String>, name: &str| {
            if slot.is_none()
                && let Some(m) = c.name(name)
            {
                *slot = Some(m.as_str().trim().to_owned());
                took = true;
            }
        };
        take(&mut f.operation, "op");
        take(&mut f.code, "code");
        take(&mut f.message, "msg");
        take(&mut f.request_id, "rid");
        take(&mut f.host_id, "hid");
        take(&mut f.bucket_region, "region");
        if f.status.is_none()
            && let Some(status) = c.name("status")
        {
            f.status = status_of(status.as_str());
            took |= f.status.is_some();
        }
        if took && shape.is_none() {
            shape = *proves;
        }
    }
    let marked = MARKER_RES
        .iter()
        .find(|(re, _)| re.is_match(text))
        .map(|(_, s)| *s);
    // A marker names the printer better than a generic pattern; botocore's line inside the
    // AWS CLI's output is the CLI's.
    f.shape = match (shape, marked) {
        (Some(Shape::Botocore), Some(Shape::AwsCli)) => Some(Shape::AwsCli),
        (Some(Shape::AwsMessage) | None, Some(m)) => Some(m),
        (s, _) => s,
    };
    if f.operation.is_none() {
        f.operation = OPERATION_RE
            .captures(text)
            .and_then(|c| c.get(1))
            .and_then(|m| canonical_operation(m.as_str()));
    }
    f.request.region = f.bucket_region.clone();
    f
}

/// `403` → 403; .NET's status words (`Forbidden`, `NotFound`) → their numbers.
fn status_of(s: &str) -> Option<u16> {
    s.parse().ok().or(match s {
        "Forbidden" => Some(403),
        "NotFound" => Some(404),
        "BadRequest" => Some(400),
        "MovedPermanently" => Some(301),
        _ => None,
    })
}

/// `putObject` → `PutObject`, as AWS spells the operation.
fn canonical_operation(found: &str) -> Option<String> {
    OPERATIONS
        .iter()
        .find(|op| op.eq_ignore_ascii_case(found))
        .map(|op| (*op).to_owned())
}
