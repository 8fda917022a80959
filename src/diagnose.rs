//! Turns AWS SDK errors into evidence and a diagnosis (which finding, if any), and builds
//! findings from the runbook's templates. AWS errors are results here, never `Err`.

pub mod access_denied;

use aws_smithy_runtime_api::client::orchestrator::HttpResponse;
use aws_smithy_runtime_api::client::result::SdkError;
use aws_smithy_types::error::display::DisplayErrorContext;
use aws_smithy_types::error::metadata::ProvideErrorMetadata;
use aws_types::request_id::RequestId;

use crate::finding::{Evidence, Finding, FindingCode, Severity, StatementRef};
use crate::runbook::{Runbook, StepId, fill};
use access_denied::{AccessDenied, DenyKind, DenySource};

/// What kind of failure an AWS error is, as far as the runbook cares.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum Class {
    /// The keys themselves are rejected (the code says how).
    Credentials(FindingCode),
    /// No answer: connection refused, DNS, TLS, timeout.
    Unreachable,
    /// 404 on a bucket operation.
    BucketNotFound,
    /// 404 on an object operation.
    KeyNotFound,
    /// 403: the request was understood and refused.
    AccessDenied(AccessDenied),
    /// The request went to the wrong region (301/400 with the bucket's real region if known).
    WrongRegion(Option<String>),
    /// A KMS key refused the principal.
    Kms(AccessDenied),
    /// The bucket enforces object ownership, so ACLs are refused.
    AclNotSupported,
    /// If-None-Match: * found an object already there.
    PreconditionFailed,
    /// Still throttled after the SDK's retries.
    Throttled,
    /// Anything else; the evidence says what.
    Other,
}

/// A failed AWS call: the evidence, and what it means.
#[derive(Clone, Debug)]
pub struct Failure {
    pub evidence: Evidence,
    pub class: Class,
    /// `x-amz-bucket-region`, which S3 sends with 301, 400 and 403 answers too.
    pub bucket_region: Option<String>,
}

impl Failure {
    /// True when later steps cannot tell anything new (no keys, no network).
    pub fn blocks_everything(&self) -> bool {
        matches!(self.class, Class::Credentials(_) | Class::Unreachable)
    }
}

/// The evidence message of a call that got no answer in time (the attempt or read timeout).
pub const TIMED_OUT: &str = "no answer within the timeout";

/// True when `evidence` says the call timed out (rather than being refused or failing DNS/TLS).
pub fn timed_out(evidence: &Evidence) -> bool {
    evidence
        .message
        .as_deref()
        .is_some_and(|m| m.starts_with(TIMED_OUT))
}

/// Reads an SDK error: status, code, message, request id and the bucket-region header.
pub fn failure<E>(operation: &str, err: &SdkError<E, HttpResponse>) -> Failure
where
    E: ProvideErrorMetadata + std::error::Error + Send + Sync + 'static,
{
    let raw = err.raw_response();
    let http_status = raw.map(|r| r.status().as_u16());
    let bucket_region = raw
        .and_then(|r| r.headers().get("x-amz-bucket-region"))
        .map(str::to_owned);
    let (error_code, message) = match err {
        SdkError::ServiceError(_) => {
            // Some servers wrap errors in a shape the SDK's parser does not know (moto's
            // `<ErrorResponse><Errors><Error>` for STS and IAM); read the body then.
            let body = raw.and_then(|r| r.body().bytes()).unwrap_or_default();
            let body = String::from_utf8_lossy(body);
            (
                err.code()
                    .map(str::to_owned)
                    .or_else(|| xml_field(&body, "Code")),
                err.message()
                    .map(str::to_owned)
                    .or_else(|| xml_field(&body, "Message")),
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
        _ => (None, Some(DisplayErrorContext(err).to_string())),
    };
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
    };
    let class = match err {
        SdkError::TimeoutError(_) | SdkError::DispatchFailure(_) => Class::Unreachable,
        SdkError::ServiceError(_) | SdkError::ResponseError(_) => {
            classify(&evidence, &bucket_region)
        }
        _ => Class::Other,
    };
    Failure {
        evidence,
        class,
        bucket_region,
    }
}

/// One line for an SDK error (code, message, status), for messages about IAM calls.
pub fn describe<E>(operation: &str, err: &SdkError<E, HttpResponse>) -> String
where
    E: ProvideErrorMetadata + std::error::Error + Send + Sync + 'static,
{
    failure(operation, err).evidence.one_line()
}

/// The error code of an SDK error, read from the body when the SDK could not parse it.
pub fn error_code<E>(err: &SdkError<E, HttpResponse>) -> Option<String>
where
    E: ProvideErrorMetadata + std::error::Error + Send + Sync + 'static,
{
    failure("", err).evidence.error_code
}

/// The text of the first `<name>…</name>` element of an XML error body.
fn xml_field(body: &str, name: &str) -> Option<String> {
    let open = format!("<{name}>");
    let start = body.find(&open)? + open.len();
    let len = body[start..].find(&format!("</{name}>"))?;
    let text = body[start..start + len].trim();
    (!text.is_empty()).then(|| text.to_owned())
}

/// Classifies an answer from its status, code and message (exposed for tests).
pub fn classify(ev: &Evidence, bucket_region: &Option<String>) -> Class {
    let code = ev.error_code.as_deref().unwrap_or("");
    let message = ev.message.as_deref().unwrap_or("");
    let status = ev.http_status.unwrap_or(0);
    match code {
        "InvalidClientTokenId"
        | "InvalidAccessKeyId"
        | "InvalidToken"
        | "UnrecognizedClientException" => {
            return Class::Credentials(FindingCode::InvalidKeyId);
        }
        "SignatureDoesNotMatch" if message.contains("Signature expired") => {
            return Class::Credentials(FindingCode::ClockSkew);
        }
        "SignatureDoesNotMatch" | "IncompleteSignature" => {
            return Class::Credentials(FindingCode::SignatureMismatch);
        }
        "ExpiredToken" | "ExpiredTokenException" | "TokenRefreshRequired" => {
            return Class::Credentials(FindingCode::Expired);
        }
        "RequestTimeTooSkewed" | "RequestExpired" => {
            return Class::Credentials(FindingCode::ClockSkew);
        }
        "PermanentRedirect"
        | "AuthorizationHeaderMalformed"
        | "IllegalLocationConstraintException" => {
            return Class::WrongRegion(bucket_region.clone().or_else(|| expected_region(message)));
        }
        "NoSuchBucket" => return Class::BucketNotFound,
        "NoSuchKey" => return Class::KeyNotFound,
        "AccessControlListNotSupported" => return Class::AclNotSupported,
        "PreconditionFailed" => return Class::PreconditionFailed,
        "Throttling" | "ThrottlingException" | "SlowDown" | "RequestLimitExceeded" => {
            return Class::Throttled;
        }
        _ => {}
    }
    if code.starts_with("KMS.") {
        return Class::Kms(access_denied::parse(message));
    }
    match status {
        301 | 307 => Class::WrongRegion(bucket_region.clone()),
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
        404 if code.is_empty() || code == "NotFound" => Class::BucketNotFound,
        503 => Class::Throttled,
        _ => Class::Other,
    }
}

/// `… the region 'us-east-1' is wrong; expecting 'eu-west-1'` → `eu-west-1`.
fn expected_region(message: &str) -> Option<String> {
    let rest = &message[message.find("expecting '")? + "expecting '".len()..];
    let region = &rest[..rest.find('\'')?];
    (!region.is_empty()).then(|| region.to_owned())
}

/// The IAM action an S3 operation needs.
pub fn action_for(operation: &str) -> &'static str {
    match operation {
        "PutObject" | "CreateMultipartUpload" | "UploadPart" => "s3:PutObject",
        "AbortMultipartUpload" => "s3:AbortMultipartUpload",
        "ListParts" => "s3:ListMultipartUploadParts",
        "GetObject" => "s3:GetObject",
        "DeleteObject" => "s3:DeleteObject",
        "PutObjectAcl" => "s3:PutObjectAcl",
        "GetBucketLocation" => "s3:GetBucketLocation",
        "ListBuckets" => "s3:ListAllMyBuckets",
        "GetCallerIdentity" => "sts:GetCallerIdentity",
        _ => "s3:ListBucket",
    }
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
        let runbook = Runbook::embedded();
        let f = &self.facts;
        let endpoint_flag = f
            .endpoint
            .map(|e| format!(" --endpoint-url {e}"))
            .unwrap_or_default();
        let source_text = match (self.code, self.source) {
            (FindingCode::ExplicitDeny, Some(s)) => format!("the deny is in {}", s.describe()),
            (FindingCode::ExplicitDeny, None) => "where the deny is, AWS did not say".to_owned(),
            (_, Some(s)) if s != DenySource::Unknown => {
                format!("AWS says nothing in {} allows it.", s.describe())
            }
            _ => String::new(),
        };
        let statement_text = self
            .statement
            .as_ref()
            .map(|s| format!(" ({})", s.label()))
            .unwrap_or_default();
        let vars = [
            ("bucket", f.bucket.unwrap_or("the bucket")),
            ("action", f.action.unwrap_or("the action")),
            ("principal", f.principal.unwrap_or("this principal")),
            ("region", f.region.unwrap_or("the configured region")),
            ("bucket_region", f.bucket_region.unwrap_or("another region")),
            ("key", f.key.unwrap_or("the probe key")),
            ("expected", f.expected.unwrap_or("the expected principal")),
            ("endpoint_flag", endpoint_flag.as_str()),
            ("source", source_text.as_str()),
            ("statement", statement_text.as_str()),
        ];
        let (title, summary, remedy) = match runbook.finding(self.code) {
            Some(t) => (
                fill(&t.title, &vars),
                fill(&t.what, &vars),
                fill(&t.fix, &vars),
            ),
            None => (self.code.to_string(), self.code.to_string(), String::new()),
        };
        let severity = match self.code {
            FindingCode::ProbeLeftBehind => Severity::Warning,
            _ => Severity::Error,
        };
        Finding {
            code: self.code,
            severity,
            step: self.step,
            bucket: f.bucket.map(str::to_owned),
            action: f.action.map(str::to_owned),
            source: self.source,
            title,
            summary: summary.trim().to_owned(),
            remedy,
            statement: self.statement,
            evidence: self.evidence,
        }
    }
}

/// The finding for a permission refusal, explicit or implicit, with its source when AWS said.
pub fn permission_finding(
    step: StepId,
    denied: &AccessDenied,
    facts: Facts<'_>,
    evidence: Evidence,
) -> Finding {
    let code = match denied.kind {
        Some(DenyKind::Explicit) => FindingCode::ExplicitDeny,
        _ => FindingCode::PermissionMissing,
    };
    let statement = denied.policy_arn.as_ref().map(|arn| StatementRef {
        policy_name: arn.rsplit('/').next().map(str::to_owned),
        policy_arn: Some(arn.clone()),
        sid: None,
        index: None,
    });
    FindingSpec {
        code,
        step,
        facts,
        source: denied
            .source
            .or((code == FindingCode::ExplicitDeny).then_some(DenySource::Unknown)),
        statement,
        evidence: Some(evidence),
    }
    .build()
}

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
        }
    }

    #[test]
    fn credential_codes_map_to_credential_findings() {
        let cases = [
            ("InvalidClientTokenId", "", FindingCode::InvalidKeyId),
            ("InvalidAccessKeyId", "", FindingCode::InvalidKeyId),
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
