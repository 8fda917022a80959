//! Turns AWS SDK errors into evidence and a diagnosis (which finding, if any), and builds
//! findings from the runbook's templates. AWS errors are results here, never `Err`.

pub mod access_denied;
pub mod codes;
pub mod error_body;
pub mod pasted;

use aws_smithy_runtime_api::client::orchestrator::HttpResponse;
use aws_smithy_runtime_api::client::result::SdkError;
use aws_smithy_types::error::display::DisplayErrorContext;
use aws_smithy_types::error::metadata::ProvideErrorMetadata;
use aws_types::request_id::RequestId;

pub use crate::finding::Unreachable;
use crate::finding::{Basis, Evidence, Finding, FindingCode, Severity, StatementRef};
use crate::operation::Operation;
use crate::runbook::{Runbook, StepId, fill};
use access_denied::{AccessDenied, DenyKind, DenySource};
use error_body::ErrorBody;

/// What kind of failure an AWS error is, as far as the runbook cares.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum Class {
    /// The keys themselves are rejected (the code says how).
    Credentials(FindingCode),
    /// No answer: a timeout, a refused connection, or DNS, TLS, a broken connection.
    Unreachable(Unreachable),
    /// 404 on a bucket operation.
    BucketNotFound,
    /// 404 on an object operation.
    KeyNotFound,
    /// 403: the request was understood and refused.
    AccessDenied(AccessDenied),
    /// The request went to the wrong region (301/400 with the bucket's real region if known).
    WrongRegion(Option<String>),
    /// A KMS key refused the principal (the message, when AWS gave a detailed one).
    Kms(AccessDenied),
    /// S3's own refusal, which no policy change cures: access disabled by AWS, an archived
    /// object, Block Public Access, SSE-C blocked, Requester Pays. The code says which.
    Refused(FindingCode),
    /// The bucket enforces object ownership, so ACLs are refused.
    AclNotSupported,
    /// If-None-Match: * found an object already there.
    PreconditionFailed,
    /// Still throttled after the SDK's retries.
    Throttled,
    /// A 2xx answer the SDK could not read: the server accepted the request, so it is no
    /// refusal (S3-compatible servers answer some calls in shapes the SDK does not parse).
    Accepted,
    /// Anything else; the evidence says what (an `endpoint.unexpected-answer` finding).
    Other,
}

impl Class {
    /// The finding code an answer of this class means: one table for the checklist's steps
    /// and for `s3doctor why`, which reads the same answer from pasted text.
    pub fn finding_code(&self) -> FindingCode {
        match self {
            Class::Credentials(code) | Class::Refused(code) => *code,
            Class::Unreachable(_) => FindingCode::EndpointUnreachable,
            Class::BucketNotFound => FindingCode::BucketNotFound,
            Class::AccessDenied(denied) if denied.kind == Some(DenyKind::Explicit) => {
                FindingCode::ExplicitDeny
            }
            Class::AccessDenied(_) => FindingCode::PermissionMissing,
            Class::Kms(_) => FindingCode::Kms,
            Class::AclNotSupported => FindingCode::AclDisabled,
            Class::WrongRegion(_) => FindingCode::WrongRegion,
            Class::Throttled => FindingCode::Throttled,
            Class::KeyNotFound | Class::PreconditionFailed | Class::Accepted | Class::Other => {
                FindingCode::UnexpectedAnswer
            }
        }
    }
}

/// A failed AWS call: the evidence, and what it means.
#[derive(Clone, Debug)]
pub struct Failure {
    /// The call that failed (the evidence spells its name as AWS does).
    pub operation: Operation,
    pub evidence: Evidence,
    pub class: Class,
    /// `x-amz-bucket-region`, which S3 sends with 301, 400 and 403 answers too.
    pub bucket_region: Option<String>,
}

impl Failure {
    /// True when later steps cannot tell anything new (no keys, no network).
    pub fn blocks_everything(&self) -> bool {
        matches!(self.class, Class::Credentials(_) | Class::Unreachable(_))
    }
}

/// The evidence message of a call that got no answer in time (the attempt or read timeout).
pub use crate::aws::TIMED_OUT;

/// Reads an SDK error of one of s3doctor's operations: status, code, message, request id and
/// the bucket-region header. Taking an [`Operation`] (not a name) means every failure names an
/// operation, and so the action it needs.
pub fn failure<E>(operation: Operation, err: &SdkError<E, HttpResponse>) -> Failure
where
    E: ProvideErrorMetadata + std::error::Error + Send + Sync + 'static,
{
    let (evidence, bucket_region) = read_evidence(operation.name(), err);
    let class = class_of(err, &evidence, &bucket_region);
    Failure {
        operation,
        evidence,
        class,
        bucket_region,
    }
}

/// The evidence of an SDK error of the call named `operation`, and its bucket-region: what
/// [`failure`], [`describe`] and [`error_code`] read.
fn read_evidence<E>(operation: &str, err: &SdkError<E, HttpResponse>) -> (Evidence, Option<String>)
where
    E: ProvideErrorMetadata + std::error::Error + Send + Sync + 'static,
{
    let raw = err.raw_response();
    let http_status = raw.map(|r| r.status().as_u16());
    let body = raw.and_then(|r| r.body().bytes()).unwrap_or_default();
    let body = ErrorBody::parse(&String::from_utf8_lossy(body)).unwrap_or_default();
    // The header, or the `<Region>` of an AuthorizationHeaderMalformed body.
    let bucket_region = raw
        .and_then(|r| r.headers().get("x-amz-bucket-region"))
        .map(str::to_owned)
        .or_else(|| body.region.clone());
    let unreachable = unreachable(err);
    let (error_code, message) = code_and_message(err, &body, unreachable);
    let authorization_id = message.as_deref().and_then(access_denied::authorization_id);
    let evidence = Evidence {
        operation: operation.to_owned(),
        http_status,
        error_code,
        message,
        request_id: err.request_id().map(str::to_owned).or_else(|| {
            raw.and_then(|r| {
                r.headers()
                    .get("x-amzn-requestid")
                    .or_else(|| r.headers().get("x-amz-request-id"))
            })
            .map(str::to_owned)
        }),
        headers: raw.map(telling_headers).unwrap_or_default(),
        authorization_id,
        unreachable,
    };
    (evidence, bucket_region)
}

/// The error code and message of an SDK error: the parsed ones, else read from the body,
/// or what happened instead of an answer (a timeout, a call not asked, a refused or broken
/// connection), as `unreachable` read it.
fn code_and_message<E>(
    err: &SdkError<E, HttpResponse>,
    body: &ErrorBody,
    unreachable: Option<Unreachable>,
) -> (Option<String>, Option<String>)
where
    E: ProvideErrorMetadata + std::error::Error + Send + Sync + 'static,
{
    match err {
        SdkError::ServiceError(_) => {
            // Some servers wrap errors in a shape the SDK's parser does not know (moto's
            // `<ErrorResponse><Errors><Error>` for STS and IAM); read the body then.
            (
                err.code().map(str::to_owned).or_else(|| body.code.clone()),
                err.message()
                    .map(str::to_owned)
                    .or_else(|| body.message.clone()),
            )
        }
        SdkError::TimeoutError(_) => (None, Some(TIMED_OUT.to_owned())),
        SdkError::DispatchFailure(d) if d.is_timeout() => (None, Some(TIMED_OUT.to_owned())),
        SdkError::DispatchFailure(_)
            if DisplayErrorContext(err)
                .to_string()
                .contains(crate::aws::NOT_ASKED) =>
        {
            (None, Some(crate::aws::NOT_ASKED.to_owned()))
        }
        _ => {
            let chain = crate::aws::error_chain(err);
            // How, in the words the `--log` line starts with, where they say more than the chain.
            let message = match unreachable {
                Some(Unreachable::TimedOut | Unreachable::Other) | None => chain,
                Some(how) => format!("{}: {chain}", how.words()),
            };
            (None, Some(message))
        }
    }
}

/// How a call that got no answer got none (`None` for an answer), read as the `--log` line
/// reads it (`aws::unreachable`): a call not sent because an earlier one to the host got no
/// answer in time ([`crate::aws::NOT_ASKED`]) is a timeout too.
fn unreachable<E>(err: &SdkError<E, HttpResponse>) -> Option<Unreachable>
where
    E: ProvideErrorMetadata + std::error::Error + Send + Sync + 'static,
{
    match err {
        SdkError::TimeoutError(_) => Some(Unreachable::TimedOut),
        SdkError::DispatchFailure(d) => Some(crate::aws::unreachable(err, d.is_timeout())),
        _ => None,
    }
}

/// The [`TELLING_HEADERS`] an answer carried.
fn telling_headers(raw: &HttpResponse) -> Vec<(String, String)> {
    TELLING_HEADERS
        .iter()
        .filter_map(|name| {
            raw.headers()
                .get(*name)
                .map(|v| ((*name).to_owned(), v.to_owned()))
        })
        .collect()
}

/// The class of an SDK error: no answer is unreachable, a 2xx the SDK could not read was
/// accepted, any other answer is classified from what it says.
fn class_of<E>(
    err: &SdkError<E, HttpResponse>,
    evidence: &Evidence,
    bucket_region: &Option<String>,
) -> Class {
    match err {
        SdkError::TimeoutError(_) | SdkError::DispatchFailure(_) => {
            Class::Unreachable(evidence.unreachable.unwrap_or(Unreachable::Other))
        }
        SdkError::ServiceError(_) | SdkError::ResponseError(_)
            if evidence
                .http_status
                .is_some_and(|s| (200..300).contains(&s))
                && evidence.error_code.is_none() =>
        {
            Class::Accepted
        }
        SdkError::ServiceError(_) | SdkError::ResponseError(_) => classify(evidence, bucket_region),
        _ => Class::Other,
    }
}

/// The response headers kept in the evidence: they say where the bucket is, which key
/// encrypts, whether a charge was accepted, and identify the request for AWS Support.
pub const TELLING_HEADERS: [&str; 6] = [
    "x-amz-bucket-region",
    "x-amz-server-side-encryption",
    "x-amz-server-side-encryption-aws-kms-key-id",
    "x-amz-request-charged",
    "x-amz-storage-class",
    "x-amz-id-2",
];

/// One line for an SDK error (code, message, status), for messages about a call it does not
/// diagnose (a fix's IAM calls, a read whose failure only changes a detail line).
pub fn describe<E>(operation: Operation, err: &SdkError<E, HttpResponse>) -> String
where
    E: ProvideErrorMetadata + std::error::Error + Send + Sync + 'static,
{
    read_evidence(operation.name(), err).0.one_line()
}

/// The error code of an SDK error, read from the body when the SDK could not parse it.
pub fn error_code<E>(err: &SdkError<E, HttpResponse>) -> Option<String>
where
    E: ProvideErrorMetadata + std::error::Error + Send + Sync + 'static,
{
    read_evidence("", err).0.error_code
}

/// Classifies an answer from its operation, status, code, message and the bucket-region
/// header (exposed for tests). HEAD answers have no body, so a HEAD is judged by its status
/// and headers alone. The clock comes first (its words come with several codes), then the
/// error code, then the words of the message, then the status.
pub fn classify(ev: &Evidence, bucket_region: &Option<String>) -> Class {
    let code = ev.error_code.as_deref().unwrap_or("");
    let message = ev.message.as_deref().unwrap_or("");
    let lower = message.to_ascii_lowercase();
    // "Signature expired: … is now earlier than …" (clock behind) and "Signature not yet
    // current: … is still later than …" (clock ahead) come with several codes.
    if lower.contains("signature expired") || lower.contains("signature not yet current") {
        return Class::Credentials(FindingCode::ClockSkew);
    }
    by_code(code, message, bucket_region)
        .or_else(|| by_words(code, message, &lower))
        .unwrap_or_else(|| by_status(ev, code, message, bucket_region))
}

/// The class an error code alone decides (one flat table).
fn by_code(code: &str, message: &str, bucket_region: &Option<String>) -> Option<Class> {
    Some(match code {
        "InvalidClientTokenId" | "InvalidAccessKeyId" | "UnrecognizedClientException" => {
            Class::Credentials(FindingCode::InvalidKeyId)
        }
        "SignatureDoesNotMatch" | "IncompleteSignature" => {
            Class::Credentials(FindingCode::SignatureMismatch)
        }
        // S3's InvalidToken is the session token's ("The provided token is malformed or
        // otherwise invalid", S3 error responses), never the key id's.
        "ExpiredToken" | "ExpiredTokenException" | "TokenRefreshRequired" | "InvalidToken" => {
            Class::Credentials(FindingCode::Expired)
        }
        "RequestTimeTooSkewed" | "RequestExpired" => Class::Credentials(FindingCode::ClockSkew),
        "PermanentRedirect"
        | "AuthorizationHeaderMalformed"
        | "IllegalLocationConstraintException" => {
            Class::WrongRegion(bucket_region.clone().or_else(|| expected_region(message)))
        }
        "NoSuchBucket" => Class::BucketNotFound,
        "NoSuchKey" => Class::KeyNotFound,
        "AccessControlListNotSupported" => Class::AclNotSupported,
        "PreconditionFailed" => Class::PreconditionFailed,
        "Throttling" | "ThrottlingException" | "SlowDown" | "RequestLimitExceeded" => {
            Class::Throttled
        }
        "AllAccessDisabled" => Class::Refused(FindingCode::AccessDisabled),
        // A CloudTrail network-activity event's code: the VPC endpoint's policy refused.
        "VpceAccessDenied" => Class::AccessDenied(AccessDenied {
            source: Some(DenySource::VpcEndpointPolicy),
            ..access_denied::parse(message)
        }),
        "InvalidObjectState" => Class::Refused(FindingCode::ObjectArchived),
        _ => return None,
    })
}

/// The class the message's words decide: a KMS refusal, or one of S3's own refusals.
fn by_words(code: &str, message: &str, lower: &str) -> Option<Class> {
    if code.starts_with("KMS.") || is_kms_message(lower) {
        return Some(Class::Kms(access_denied::parse(message)));
    }
    if lower.contains("s3 block public access") {
        return Some(Class::Refused(FindingCode::BlockPublicAccess));
    }
    if lower.contains("customer provided keys (sse-c)") || lower.contains("blocked encryption type")
    {
        return Some(Class::Refused(FindingCode::SseCBlocked));
    }
    // A read of an SSE-C object without its key (400 InvalidRequest).
    if lower.contains("stored using a form of server side encryption") {
        return Some(Class::Refused(FindingCode::SseCRequired));
    }
    if lower.contains("requester pays") || lower.contains("x-amz-request-payer") {
        return Some(Class::Refused(FindingCode::RequesterPays));
    }
    None
}

/// The class the HTTP status decides, when neither the code nor the words did.
fn by_status(ev: &Evidence, code: &str, message: &str, bucket_region: &Option<String>) -> Class {
    let head = ev.operation.starts_with("Head");
    match ev.http_status.unwrap_or(0) {
        301 | 307 => Class::WrongRegion(bucket_region.clone()),
        // S3 answers a HEAD signed for another region with a bodiless 400 (the header, when
        // sent, names the bucket's region); a bodiless 400 has no other documented meaning.
        400 if code.is_empty() && (head || bucket_region.is_some()) => {
            Class::WrongRegion(bucket_region.clone())
        }
        403 => {
            let parsed = access_denied::parse(message);
            if parsed
                .action
                .as_deref()
                .is_some_and(|a| a.starts_with("kms:"))
            {
                Class::Kms(parsed)
            } else {
                Class::AccessDenied(parsed)
            }
        }
        404 if code.is_empty() || code == "NotFound" => {
            if is_object_operation(&ev.operation) {
                Class::KeyNotFound
            } else {
                Class::BucketNotFound
            }
        }
        503 => Class::Throttled,
        _ => Class::Other,
    }
}

/// The words S3 and KMS use when a KMS key refused (lowercased message).
fn is_kms_message(lower: &str) -> bool {
    lower.contains("kms:")
        || lower.contains("customer master key")
        || lower.contains("kms key")
        || lower.contains("the ciphertext refers to")
        || lower.contains("aws kms")
        || lower.contains("key management service")
}

fn is_object_operation(operation: &str) -> bool {
    operation.ends_with("Object")
        || operation.ends_with("ObjectAcl")
        || operation.contains("Multipart")
        || operation == "UploadPart"
}

/// Same class, corrected by where the request went: an answer whose `x-amz-bucket-region`
/// names another region than the one the request was signed for is a wrong region (S3 sends
/// the header with 200, 301, 400 and 403 answers alike), unless the keys themselves were
/// refused.
pub fn with_signing_region(mut failure: Failure, signed_for: Option<&str>) -> Failure {
    // Only AWS region names are compared: an S3-compatible server's zone names
    // ("default", "garage") say nothing about where a request was signed.
    let elsewhere = match (&failure.bucket_region, signed_for) {
        (Some(bucket), Some(signed)) => {
            bucket != signed && is_aws_region(bucket) && is_aws_region(signed)
        }
        _ => false,
    };
    if elsewhere
        && matches!(
            failure.class,
            Class::AccessDenied(_) | Class::Other | Class::BucketNotFound | Class::KeyNotFound
        )
    {
        failure.class = Class::WrongRegion(failure.bucket_region.clone());
    }
    failure
}

/// Same class, corrected by what was sent: when the keys came with a session token, a refused
/// key id (STS InvalidClientTokenId "The security token included in the request is invalid",
/// S3 InvalidToken or InvalidAccessKeyId) is the session token's fault — expired, issued for
/// other keys, or an `AWS_SESSION_TOKEN` left next to long-term keys — so the finding is the
/// session token's (`credentials.expired`), not an unknown key id.
pub fn with_session_token(mut failure: Failure, temporary: bool) -> Failure {
    if temporary && matches!(failure.class, Class::Credentials(FindingCode::InvalidKeyId)) {
        failure.class = Class::Credentials(FindingCode::Expired);
    }
    failure
}

/// `eu-west-1`, `us-gov-west-1`, `ap-southeast-5`: the shape of an AWS region name.
pub fn is_aws_region(name: &str) -> bool {
    let parts: Vec<&str> = name.split('-').collect();
    parts.len() >= 3
        && parts[0].len() == 2
        && parts.iter().all(|p| {
            !p.is_empty()
                && p.bytes()
                    .all(|b| b.is_ascii_lowercase() || b.is_ascii_digit())
        })
        && parts
            .last()
            .is_some_and(|p| p.bytes().all(|b| b.is_ascii_digit()))
}

/// The KMS key ARN an answer names: in the message, else in the key-id header.
pub fn kms_key(ev: &Evidence, denied: &AccessDenied) -> Option<String> {
    if let Some(r) = denied.resource.as_deref().filter(|r| r.contains(":kms:")) {
        return Some(r.to_owned());
    }
    let message = ev.message.as_deref().unwrap_or("");
    let from_message = message
        .split(|c: char| c.is_whitespace() || c == '"' || c == '\'')
        .find(|t| t.starts_with("arn:") && t.contains(":kms:"))
        .map(|t| t.trim_end_matches(['.', ',', ';', ')']).to_owned());
    from_message.or_else(|| {
        ev.headers
            .iter()
            .find(|(k, _)| k == "x-amz-server-side-encryption-aws-kms-key-id")
            .map(|(_, v)| v.clone())
    })
}

/// `… the region 'us-east-1' is wrong; expecting 'eu-west-1'` → `eu-west-1` (quotes or not).
fn expected_region(message: &str) -> Option<String> {
    let rest = &message[message.find("expecting ")? + "expecting ".len()..];
    let region: String = rest
        .trim_start_matches(['\'', '"'])
        .chars()
        .take_while(|c| c.is_ascii_alphanumeric() || *c == '-')
        .collect();
    (!region.is_empty()).then_some(region)
}

/// The facts a finding's text is filled from.
#[derive(Clone, Debug, Default)]
pub struct Facts<'a> {
    pub bucket: Option<&'a str>,
    pub action: Option<&'a str>,
    pub principal: Option<&'a str>,
    pub region: Option<&'a str>,
    pub bucket_region: Option<&'a str>,
    pub key: Option<&'a str>,
    pub endpoint: Option<&'a str>,
    pub expected: Option<&'a str>,
    /// The KMS key AWS named (for `permission.kms`).
    pub kms_key: Option<&'a str>,
    /// The role a credential finding is about (`credentials.assume-role-refused`).
    pub role: Option<&'a str>,
    /// The credential provider, in words (`profile app`, `web identity (AWS_ROLE_ARN in …)`).
    pub provider: Option<&'a str>,
    /// Why it failed: AWS's words or s3doctor's.
    pub why: Option<&'a str>,
    /// The next step a person takes.
    pub next: Option<&'a str>,
    /// The app's own object (`--key`) the finding is about.
    pub object: Option<&'a str>,
    /// The server that answered: `{server}` in the templates, and which of their words apply.
    pub server: crate::server::Server,
    /// How long a call waits for an answer: `{waited}` in the words for a timeout, which
    /// apply only when it is known.
    pub waited: Option<std::time::Duration>,
}

/// Builds a finding from the runbook's text for `code`.
pub struct FindingSpec<'a> {
    pub code: FindingCode,
    pub step: StepId,
    pub facts: Facts<'a>,
    pub source: Option<DenySource>,
    pub statement: Option<StatementRef>,
    pub evidence: Option<Evidence>,
}

impl FindingSpec<'_> {
    pub fn build(self) -> Finding {
        let basis = default_basis(self.code, self.evidence.as_ref());
        let (title, summary, remedy) = self.texts(basis);
        let severity = match self.code {
            FindingCode::ProbeLeftBehind => Severity::Warning,
            _ => Severity::Error,
        };
        let f = &self.facts;
        Finding {
            code: self.code,
            severity,
            step: self.step,
            bucket: f.bucket.map(str::to_owned),
            action: f.action.map(str::to_owned),
            source: self.source,
            basis,
            resource: f.kms_key.map(str::to_owned),
            key: f.object.map(str::to_owned),
            title,
            summary: summary.trim().to_owned(),
            remedy,
            statement: self.statement,
            evidence: self.evidence,
            vantages: None,
        }
    }

    /// The runbook's title, summary (its `inferred` words when only a bare refusal was seen)
    /// and remedy for the code, filled from the facts.
    fn texts(&self, basis: Basis) -> (String, String, String) {
        let f = &self.facts;
        let endpoint_flag = crate::aws::endpoint_flag(f.endpoint);
        let source_text = self.source_text(basis);
        let statement_text = self
            .statement
            .as_ref()
            .map(|s| format!(" ({})", s.label()))
            .unwrap_or_default();
        let (operation, answer) = match &self.evidence {
            Some(e) => (e.operation.clone(), answer_words(e)),
            None => ("the call".to_owned(), "no details".to_owned()),
        };
        let bucket = f.bucket.unwrap_or("the bucket");
        let target = match f.object {
            Some(object) => format!("{bucket}/{object}"),
            None => bucket.to_owned(),
        };
        let object = f.object.unwrap_or("the object");
        let object_word = crate::aws::shell_word(object);
        let (unreachable, waited) = self.no_answer();
        let vars = [
            ("bucket", bucket),
            ("target", target.as_str()),
            ("object", object),
            ("object_word", object_word.as_str()),
            ("action", f.action.unwrap_or("the action")),
            ("principal", f.principal.unwrap_or("this principal")),
            ("region", f.region.unwrap_or("the configured region")),
            ("bucket_region", f.bucket_region.unwrap_or("another region")),
            ("key", f.key.unwrap_or("the probe key")),
            ("expected", f.expected.unwrap_or("the expected principal")),
            ("endpoint_flag", endpoint_flag.as_str()),
            ("source", source_text.as_str()),
            ("statement", statement_text.as_str()),
            (
                "kms_key",
                match (f.kms_key, f.object) {
                    (Some(key), _) => key,
                    (None, Some(_)) => "the object's KMS key",
                    (None, None) => "the bucket's KMS key",
                },
            ),
            ("operation", operation.as_str()),
            ("answer", answer.as_str()),
            ("server", f.server.who()),
            ("role", f.role.unwrap_or("the role")),
            ("provider", f.provider.unwrap_or("the credential chain")),
            ("why", f.why.unwrap_or("no details")),
            ("waited", waited.as_str()),
            (
                "next",
                f.next
                    .unwrap_or("Check the credential chain's configuration."),
            ),
        ];
        render(self.code, (f.server, unreachable), basis, &vars)
    }

    /// How the call got no answer, when none came (the words for a timeout need the time
    /// waited), and that time in seconds for `{waited}`.
    fn no_answer(&self) -> (Option<Unreachable>, String) {
        let waited = self.facts.waited;
        let unreachable = self
            .evidence
            .as_ref()
            .and_then(|e| e.unreachable)
            .filter(|u| *u != Unreachable::TimedOut || waited.is_some());
        let seconds = waited.map(|w| w.as_secs_f64().to_string());
        (unreachable, seconds.unwrap_or_default())
    }

    /// Where the deny is, or which policy type allows nothing, in words for `{source}`: as
    /// the server's word only when its answer said it, not when s3doctor read the policies.
    fn source_text(&self, basis: Basis) -> String {
        let who = self.facts.server.who();
        match (self.code, self.source) {
            (FindingCode::ExplicitDeny, Some(s)) => format!("the deny is in {}", s.describe()),
            (FindingCode::ExplicitDeny, None) => format!("where the deny is, {who} did not say"),
            (_, Some(s)) if s != DenySource::Unknown && basis == Basis::Policies => {
                format!(
                    "Read from the policies: nothing in {} allows it.",
                    s.describe()
                )
            }
            (_, Some(s)) if s != DenySource::Unknown => {
                format!("{who} says nothing in {} allows it.", s.describe())
            }
            _ => String::new(),
        }
    }
}

/// The title, summary and remedy of `code` for `server` (and how a call got no answer, when
/// none came), filled from `vars`: its `inferred` words when only a bare refusal was seen.
fn render(
    code: FindingCode,
    (server, unreachable): (crate::server::Server, Option<Unreachable>),
    basis: Basis,
    vars: &[(&str, &str)],
) -> (String, String, String) {
    let Some(t) = Runbook::embedded().finding(code) else {
        return (code.to_string(), code.to_string(), String::new());
    };
    let t = t.for_answer(server, unreachable);
    let what = match (t.inferred, basis) {
        (Some(inferred), Basis::Inferred) => inferred,
        _ => t.what,
    };
    (fill(t.title, vars), fill(what, vars), fill(t.fix, vars))
}

/// How a finding built from an answer is known: a refusal whose message names neither the
/// policy type nor the action is an inference; a finding no answer came with is observed;
/// everything else is the server's own word. Findings
/// from reading the policies say `policies` themselves (`Finding::with_basis`).
fn default_basis(code: FindingCode, evidence: Option<&Evidence>) -> Basis {
    let refusal = matches!(
        code,
        FindingCode::PermissionMissing | FindingCode::ExplicitDeny | FindingCode::Kms
    );
    match evidence {
        Some(ev) if refusal => {
            let message = ev.message.as_deref().unwrap_or("");
            let parsed = access_denied::parse(message);
            let said = parsed.kind.is_some()
                || ev.error_code.as_deref() == Some("VpceAccessDenied")
                || (code == FindingCode::Kms && is_kms_message(&message.to_ascii_lowercase()))
                || ev
                    .error_code
                    .as_deref()
                    .is_some_and(|c| c.starts_with("KMS."));
            if said {
                Basis::AwsMessage
            } else {
                Basis::Inferred
            }
        }
        // Only a 404 says that a key does not exist; a 403 leaves it open (no s3:ListBucket).
        Some(ev) if code == FindingCode::ObjectNotFound && ev.http_status != Some(404) => {
            Basis::Inferred
        }
        // No answer came with it (no credentials, no connection, a timeout): s3doctor saw it.
        Some(ev) if ev.http_status.is_none() => Basis::Observed,
        Some(_) => Basis::AwsMessage,
        None if refusal => Basis::Policies,
        None => Basis::AwsMessage,
    }
}

/// `HTTP 418, code X, message "…"`: what an answer was, in words.
fn answer_words(ev: &Evidence) -> String {
    let mut parts = Vec::new();
    if let Some(s) = ev.http_status {
        parts.push(format!("HTTP {s}"));
    }
    match &ev.error_code {
        Some(c) => parts.push(format!("code {c}")),
        None => parts.push("no error code".to_owned()),
    }
    match ev.message.as_deref().filter(|m| !m.is_empty()) {
        Some(m) => parts.push(format!("message \"{m}\"")),
        None if ev.http_status.is_some() => parts.push("no body".to_owned()),
        None => {}
    }
    parts.join(", ")
}

/// The finding for a permission refusal, explicit or implicit, with its source when AWS said.
pub fn permission_finding(
    step: StepId,
    denied: &AccessDenied,
    facts: Facts<'_>,
    evidence: Evidence,
) -> Finding {
    let code = Class::AccessDenied(denied.clone()).finding_code();
    let statement = denied
        .policy_arn
        .as_ref()
        .map(|arn| StatementRef::policy(arn.rsplit('/').next().unwrap_or(arn), Some(arn.clone())));
    let action = facts.action.unwrap_or("the action").to_owned();
    let principal = facts.principal.unwrap_or("the principal").to_owned();
    let bucket = facts.bucket.unwrap_or("the bucket").to_owned();
    let mut finding = FindingSpec {
        code,
        step,
        facts,
        source: denied
            .source
            .or((code == FindingCode::ExplicitDeny).then_some(DenySource::Unknown)),
        statement,
        evidence: Some(evidence),
    }
    .build();
    if code == FindingCode::PermissionMissing
        && let Some(fix) = denied
            .source
            .and_then(|s| missing_allow_remedy(s, &action, &principal, &bucket))
    {
        finding.remedy = fix;
    }
    finding
}

/// Where the missing Allow must go when AWS named a policy type other than the principal's
/// own policies: attaching an identity policy cannot cure these.
fn missing_allow_remedy(
    source: DenySource,
    action: &str,
    principal: &str,
    bucket: &str,
) -> Option<String> {
    Some(match source {
        DenySource::IdentityPolicy | DenySource::Unknown => return None,
        DenySource::BucketPolicy => format!(
            "Add an Allow for {action} to {principal} in the bucket policy of {bucket} (or the access point policy the request used); a cross-account caller needs it there as well as in its own policies. If the object is public, also check the IgnorePublicAcls setting of Block Public Access."
        ),
        DenySource::Scp => format!(
            "Allow {action} in the service control policies of AWS Organizations on every level above the account (root, OUs, account): the management account's administrators can change them; no IAM policy in this account can."
        ),
        DenySource::Rcp => format!(
            "Change the resource control policy in AWS Organizations so that it allows {action} on {bucket} (only the management account can)."
        ),
        DenySource::PermissionsBoundary => format!(
            "Add {action} to the permissions boundary of {principal} (IAM > the user or role > Permissions boundary): identity policies cannot grant more than the boundary allows."
        ),
        DenySource::SessionPolicy => format!(
            "Let the session policy allow {action}: it is passed when the role is assumed or the federation token is made (the Policy/PolicyArns parameters), and the session can do no more than it allows."
        ),
        DenySource::VpcEndpointPolicy => format!(
            "Add an Allow for {action} on {bucket} to the VPC endpoint policy the request went through (VPC > Endpoints > the S3 endpoint > Policy)."
        ),
    })
}

/// The answers the emulator cannot give, replayed: a test harness, kept with the tests.
#[path = "../../../tests/harness/aws_answers.rs"]
#[cfg(test)]
mod aws_answers;

#[cfg(test)]
mod tests {
    use super::*;

    fn ev(status: u16, code: &str, message: &str) -> Evidence {
        Evidence {
            operation: "PutObject".into(),
            http_status: Some(status),
            error_code: (!code.is_empty()).then(|| code.to_owned()),
            message: Some(message.to_owned()),
            request_id: None,
            ..Evidence::default()
        }
    }

    #[test]
    fn credential_codes_map_to_credential_findings() {
        let cases = [
            ("InvalidClientTokenId", "", FindingCode::InvalidKeyId),
            ("InvalidAccessKeyId", "", FindingCode::InvalidKeyId),
            (
                "InvalidToken",
                "The provided token is malformed or otherwise invalid.",
                FindingCode::Expired,
            ),
            (
                "SignatureDoesNotMatch",
                "The request signature we calculated does not match",
                FindingCode::SignatureMismatch,
            ),
            (
                "SignatureDoesNotMatch",
                "Signature expired: 20240101T000000Z is now earlier than 20240101T001500Z",
                FindingCode::ClockSkew,
            ),
            (
                "ExpiredToken",
                "The provided token has expired.",
                FindingCode::Expired,
            ),
            ("ExpiredTokenException", "", FindingCode::Expired),
            (
                "RequestTimeTooSkewed",
                "The difference between the request time and the current time is too large.",
                FindingCode::ClockSkew,
            ),
        ];
        for (code, msg, want) in cases {
            assert_eq!(
                classify(&ev(403, code, msg), &None),
                Class::Credentials(want),
                "{code}"
            );
        }
    }

    #[test]
    fn wrong_region_answers_are_never_permission_problems() {
        let header = Some("eu-west-1".to_owned());
        assert_eq!(
            classify(&ev(301, "", ""), &header),
            Class::WrongRegion(header.clone())
        );
        assert_eq!(
            classify(
                &ev(
                    301,
                    "PermanentRedirect",
                    "The bucket you are attempting to access must be addressed using the specified endpoint."
                ),
                &None
            ),
            Class::WrongRegion(None)
        );
        let malformed = "The authorization header is malformed; the region 'us-east-1' is wrong; expecting 'eu-west-1'";
        assert_eq!(
            classify(&ev(400, "AuthorizationHeaderMalformed", malformed), &None),
            Class::WrongRegion(Some("eu-west-1".into()))
        );
    }

    #[test]
    fn bare_403_is_access_denied_with_unknown_source() {
        match classify(&ev(403, "", ""), &None) {
            Class::AccessDenied(d) => assert_eq!(d.source, None),
            other => panic!("{other:?}"),
        }
    }

    #[test]
    fn kms_refusals_are_told_apart_from_s3_refusals() {
        let msg = "User: arn:aws:iam::123456789012:user/app is not authorized to perform: kms:GenerateDataKey on resource: arn:aws:kms:us-east-1:123456789012:key/abc because no identity-based policy allows the kms:GenerateDataKey action";
        assert!(matches!(
            classify(&ev(403, "AccessDenied", msg), &None),
            Class::Kms(_)
        ));
        assert!(matches!(
            classify(&ev(400, "KMS.DisabledException", "disabled"), &None),
            Class::Kms(_)
        ));
    }

    #[test]
    fn throttling_is_not_a_permission_problem() {
        assert_eq!(
            classify(
                &ev(503, "SlowDown", "Please reduce your request rate."),
                &None
            ),
            Class::Throttled
        );
        assert_eq!(classify(&ev(503, "", ""), &None), Class::Throttled);
    }

    #[test]
    fn a_clock_ahead_is_clock_skew_whatever_the_code() {
        for code in [
            "SignatureDoesNotMatch",
            "InvalidSignatureException",
            "AccessDenied",
        ] {
            let ahead = "Signature not yet current: 20140819T173921Z is still later than 20140819T173829Z (20140819T173329Z + 5 min.)";
            assert_eq!(
                classify(&ev(403, code, ahead), &None),
                Class::Credentials(FindingCode::ClockSkew),
                "{code}"
            );
        }
    }

    #[test]
    fn a_bodiless_head_400_is_a_wrong_region_and_never_unexplained() {
        let head = |status: u16| Evidence {
            operation: "HeadBucket".into(),
            http_status: Some(status),
            ..Evidence::default()
        };
        assert_eq!(classify(&head(400), &None), Class::WrongRegion(None));
        let region = Some("eu-central-1".to_owned());
        assert_eq!(classify(&head(400), &region), Class::WrongRegion(region));
        // 404 on a HEAD: the bucket, or the object for HeadObject.
        assert_eq!(classify(&head(404), &None), Class::BucketNotFound);
        let object = Evidence {
            operation: "HeadObject".into(),
            ..head(404)
        };
        assert_eq!(classify(&object, &None), Class::KeyNotFound);
    }

    #[test]
    fn a_region_header_for_another_region_makes_any_refusal_a_wrong_region() {
        let denied = |region: &str| Failure {
            operation: Operation::PutObject,
            evidence: ev(403, "AccessDenied", "Access Denied"),
            class: Class::AccessDenied(AccessDenied::default()),
            bucket_region: Some(region.to_owned()),
        };
        let moved = with_signing_region(denied("eu-central-1"), Some("us-west-2"));
        assert_eq!(moved.class, Class::WrongRegion(Some("eu-central-1".into())));
        let same = with_signing_region(denied("us-west-2"), Some("us-west-2"));
        assert!(matches!(same.class, Class::AccessDenied(_)));
        // Zone names of S3-compatible servers are not compared.
        let rgw = with_signing_region(denied("default"), Some("us-east-1"));
        assert!(matches!(rgw.class, Class::AccessDenied(_)));
        // Keys that are refused stay refused keys.
        let keys = Failure {
            class: Class::Credentials(FindingCode::Expired),
            ..denied("eu-central-1")
        };
        assert_eq!(
            with_signing_region(keys, Some("us-west-2")).class,
            Class::Credentials(FindingCode::Expired)
        );
    }

    #[test]
    fn aws_region_names_are_told_from_other_zone_names() {
        for r in [
            "us-east-1",
            "eu-central-1",
            "us-gov-west-1",
            "ap-southeast-5",
        ] {
            assert!(is_aws_region(r), "{r}");
        }
        for r in ["default", "us-east", "garage", "EU", "", "zg-1"] {
            assert!(!is_aws_region(r), "{r}");
        }
    }

    #[test]
    fn kms_names_the_action_the_operation_needs_and_the_key() {
        let key = "arn:aws:kms:us-west-2:111122223333:key/1234abcd-12ab-34cd-56ef-1234567890ab";
        let from_header = Evidence {
            headers: vec![(
                "x-amz-server-side-encryption-aws-kms-key-id".into(),
                key.into(),
            )],
            ..ev(403, "AccessDenied", "Access Denied")
        };
        assert_eq!(
            kms_key(&from_header, &AccessDenied::default()).as_deref(),
            Some(key)
        );
        let message = format!(
            "User: arn:aws:iam::111122223333:user/app is not authorized to perform: kms:Decrypt on resource: {key} because no identity-based policy allows the kms:Decrypt action"
        );
        let Class::Kms(denied) = classify(&ev(403, "AccessDenied", &message), &None) else {
            panic!("not kms")
        };
        assert_eq!(
            kms_key(&ev(403, "AccessDenied", &message), &denied).as_deref(),
            Some(key)
        );
    }

    #[test]
    fn s3s_own_refusals_have_their_own_codes() {
        let cases = [
            (
                "AllAccessDisabled",
                "All access to this object has been disabled",
                FindingCode::AccessDisabled,
            ),
            (
                "InvalidObjectState",
                "The operation is not valid for the object's storage class",
                FindingCode::ObjectArchived,
            ),
            (
                "AccessDenied",
                "User: u is not authorized to perform: s3:PutObject on resource: \"arn:aws:s3:::b/k\" because public ACLs are prevented by the BlockPublicAcls setting in S3 Block Public Access.",
                FindingCode::BlockPublicAccess,
            ),
            (
                "AccessDenied",
                "User: u is not authorized to perform: s3:PutObject on resource: \"arn:aws:s3:::b/k\" because this bucket has blocked upload requests that specify Server Side Encryption with Customer provided keys (SSE-C). Please specify a different server-side encryption type",
                FindingCode::SseCBlocked,
            ),
        ];
        for (code, message, want) in cases {
            assert_eq!(
                classify(&ev(403, code, message), &None),
                Class::Refused(want),
                "{code}"
            );
        }
    }

    #[test]
    fn how_no_answer_came_picks_the_words_of_the_unreachable_finding() {
        let summary = |how, waited| {
            FindingSpec {
                code: FindingCode::EndpointUnreachable,
                step: StepId::Identity,
                facts: Facts {
                    waited,
                    ..Facts::default()
                },
                source: None,
                statement: None,
                evidence: Some(Evidence {
                    operation: "GetCallerIdentity".into(),
                    unreachable: how,
                    ..Evidence::default()
                }),
            }
            .build()
            .summary
        };
        let second = Some(std::time::Duration::from_millis(1500));
        assert!(
            summary(Some(Unreachable::TimedOut), second)
                .starts_with("The request got no answer within 1.5 s (a timeout"),
        );
        assert!(
            summary(Some(Unreachable::Refused), None).starts_with("The connection was refused")
        );
        assert!(summary(Some(Unreachable::Dns), None).contains("host name does not resolve"));
        assert!(summary(Some(Unreachable::Tls), None).starts_with("The TLS handshake"));
        assert_eq!(
            summary(Some(Unreachable::Connection), second),
            summary(None, second)
        );
        // The general words when how is not known, or the time waited is not.
        let general = summary(None, second);
        assert!(general.contains("connection refused, DNS, TLS or a timeout"));
        assert_eq!(summary(Some(Unreachable::Other), second), general);
        assert_eq!(summary(Some(Unreachable::TimedOut), None), general);
    }

    #[test]
    fn a_bare_refusal_is_inferred_and_says_so() {
        let f = permission_finding(
            StepId::PutObject,
            &AccessDenied::default(),
            Facts {
                bucket: Some("b"),
                action: Some("s3:PutObject"),
                ..Facts::default()
            },
            ev(403, "AccessDenied", "Access Denied"),
        );
        assert_eq!(f.basis, Basis::Inferred);
        assert!(f.summary.contains("did not say why"), "{}", f.summary);
        assert!(f.summary.contains("missing Allow"), "{}", f.summary);
        assert!(f.summary.contains("--admin-profile"), "{}", f.summary);
    }

    #[test]
    fn a_missing_allow_outside_the_identity_policies_is_not_fixed_by_attaching_one() {
        let msg = "User: arn:aws:iam::123456789012:user/MaryMajor is not authorized to perform: s3:GetObject because no service control policy allows the s3:GetObject action";
        let Class::AccessDenied(d) = classify(&ev(403, "AccessDenied", msg), &None) else {
            panic!()
        };
        let f = permission_finding(
            StepId::GetObject,
            &d,
            Facts {
                bucket: Some("b"),
                action: Some("s3:GetObject"),
                ..Facts::default()
            },
            ev(403, "AccessDenied", msg),
        );
        assert_eq!(f.code, FindingCode::PermissionMissing);
        assert!(!f.is_fixable_by_policy());
        assert!(
            f.remedy.contains("service control policies"),
            "{}",
            f.remedy
        );
        assert_eq!(f.basis, Basis::AwsMessage);
    }

    #[test]
    fn the_authorization_id_is_kept_in_the_evidence() {
        let msg = "User: arn:aws:iam::123456789012:user/janedoe is not authorized to perform: iam:CreateInstanceProfile on resource: arn:aws:iam::123456789012:instance-profile/my-instance-profile with an explicit deny in an identity-based policy: arn:aws:iam::123456789012:policy/ExampleDenyPolicy. Go to https://us-east-1.console.aws.amazon.com/iam/home?region=us-east-1#/authorization-details/EXAMPLE1a2b3c4d5e6f7g8h9i0j for complete details, or call the GetRequestAuthorizationDetails API with the following authorization id: EXAMPLE1a2b3c4d5e6f7g8h9i0j";
        assert_eq!(
            access_denied::authorization_id(msg).as_deref(),
            Some("EXAMPLE1a2b3c4d5e6f7g8h9i0j")
        );
        let d = access_denied::parse(msg);
        assert_eq!(d.kind, Some(DenyKind::Explicit));
        assert_eq!(
            d.policy_arn.as_deref(),
            Some("arn:aws:iam::123456789012:policy/ExampleDenyPolicy")
        );
        assert_eq!(access_denied::authorization_id("Access Denied"), None);
    }

    #[test]
    fn explicit_deny_message_becomes_explicit_deny_finding() {
        let msg = "User: arn:aws:iam::123456789012:user/u is not authorized to perform: s3:DeleteObject on resource: \"arn:aws:s3:::b/k\" with an explicit deny in an identity-based policy";
        let Class::AccessDenied(d) = classify(&ev(403, "AccessDenied", msg), &None) else {
            panic!("not access denied")
        };
        let f = permission_finding(
            StepId::DeleteObject,
            &d,
            Facts {
                bucket: Some("b"),
                action: Some("s3:DeleteObject"),
                ..Facts::default()
            },
            ev(403, "AccessDenied", msg),
        );
        assert_eq!(f.code, FindingCode::ExplicitDeny);
        assert_eq!(f.source, Some(DenySource::IdentityPolicy));
        assert!(f.remedy.contains("Remove or narrow"), "{}", f.remedy);
    }
}
