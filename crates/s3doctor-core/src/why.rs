//! `s3doctor why`'s reading of an error pasted from the app: what was refused, who asked, the
//! request ids, the cause as a finding code with its basis — built by the checklist's own
//! classifier and finding texts ([`crate::answers`]) — and the live command that checks it.
//! Offline: nothing here sends anything. The wizard's `p` shows the same reading.

mod command;
mod render;

use serde::Serialize;

use crate::answers::access_denied::{self, DenySource};
use crate::answers::pasted::{Pasted, Shape};
use crate::answers::{self, Class, Facts, FindingSpec};
use crate::finding::{Basis, Finding, FindingCode};
use crate::operation::Operation;
use crate::server::{EndpointKind, Server};
use crate::step::StepId;

pub use command::{Checklist, checklist};
pub use render::{markdown, text};

/// The schema name of `why --format json`.
pub const SCHEMA: &str = "s3doctor.why/v1";

/// What `why` read, and what it means.
#[derive(Clone, Debug, Serialize)]
pub struct Reading {
    pub schema: &'static str,
    /// Who printed the text (`botocore`, `java-v2`, `cloudtrail`, …).
    pub format: Shape,
    /// The server that answered, as far as the text tells (`aws` unless it names another).
    pub server: EndpointKind,
    pub operation: Option<String>,
    pub http_status: Option<u16>,
    pub error_code: Option<String>,
    pub message: Option<String>,
    pub principal: Option<String>,
    /// The IAM role behind an assumed-role session (CloudTrail's sessionIssuer, or the
    /// session ARN's role).
    pub role_arn: Option<String>,
    /// False when `role_arn` was made from a session's ARN, which does not carry the role's
    /// path (the role's real ARN may have one); `null` without a role.
    pub role_path_known: Option<bool>,
    pub action: Option<String>,
    pub resource: Option<String>,
    pub bucket: Option<String>,
    pub key: Option<String>,
    pub region: Option<String>,
    pub endpoint: Option<String>,
    pub request_id: Option<String>,
    pub extended_request_id: Option<String>,
    pub source_ip: Option<String>,
    pub vpce: Option<String>,
    /// The finding code of the cause, as the checklist would report it.
    pub cause: FindingCode,
    pub basis: Basis,
    /// The policy type AWS named (`identity-policy`, `bucket-policy`, `scp`, …).
    pub source: Option<DenySource>,
    pub policy_arn: Option<String>,
    pub authorization_id: Option<String>,
    pub authorization_hint: Option<String>,
    pub title: String,
    pub summary: String,
    pub remedy: String,
    /// Why the text cannot say more (a HEAD answer has no body), and what to run.
    pub hidden: Option<String>,
    /// What else answers the same, when AWS did not say why.
    pub other_causes: Vec<String>,
    /// The checklist step that checks this live.
    pub step: StepId,
    /// `s3doctor check …`, filled from the text.
    pub command: String,
    /// False when the command holds a placeholder (`BUCKET`) to replace.
    pub command_complete: bool,
}

/// What answers a bare refusal the same way, besides a missing Allow.
const OTHER_CAUSES: [&str; 6] = [
    "a Deny in the bucket policy, a service or resource control policy (SCP, RCP), a permissions boundary or a session policy",
    "the VPC endpoint's policy, when the app reaches S3 through one",
    "the bucket's KMS key policy, for an object encrypted with SSE-KMS",
    "Block Public Access refusing a public ACL the app sends, or an object another account owns",
    "a key that does not exist, when the caller may not s3:ListBucket (S3 answers 403, not 404)",
    "a bucket in another account that does not grant this principal access",
];

/// What else a refused key id means when STS's words name the security token: STS answers
/// "The security token included in the request is invalid" for an unknown long-term key id and
/// for temporary keys whose session token is not theirs alike (aws-azure-login/aws-azure-login
/// issue 251: a federated session; barnybug/cli53 issue 278: wrong long-term keys); the live
/// check, which knows whether a session token was sent, tells them apart.
const TEMPORARY_KEYS: &str = "temporary keys (an ASIA… key id sent with a session token): then the session token is the problem — expired, issued for other keys, or an AWS_SESSION_TOKEN left next to long-term keys (credentials.expired); the live check knows which";

/// What else answers the same: a bare refusal's list, or a refused key id's session token.
fn other_causes(inferred: bool, cause: FindingCode, message: Option<&str>) -> Vec<String> {
    let token_words = message.is_some_and(|m| m.to_ascii_lowercase().contains("security token"));
    if inferred {
        OTHER_CAUSES.iter().map(|c| (*c).to_owned()).collect()
    } else if cause == FindingCode::InvalidKeyId && token_words {
        vec![TEMPORARY_KEYS.to_owned()]
    } else {
        Vec::new()
    }
}

/// Reads `pasted` the way the checklist reads a live answer.
pub fn read(pasted: &Pasted) -> Reading {
    let class = pasted.class();
    let ev = &pasted.evidence;
    let r = &pasted.request;
    let operation = Some(ev.operation.clone()).filter(|o| !o.is_empty());
    let action = pasted
        .denied
        .action
        .clone()
        .or_else(|| operation.as_deref().and_then(action_of));
    let server = server_of(pasted);
    let finding = finding(pasted, &class, action.as_deref(), server);
    let checklist = checklist(pasted, &class);
    let hidden = pasted
        .reason_hidden()
        .then(|| hidden_words(operation.as_deref(), &checklist.command));
    let inferred = finding.basis == Basis::Inferred;
    Reading {
        schema: SCHEMA,
        format: pasted.shape,
        server: server.kind,
        operation,
        http_status: ev.http_status,
        error_code: ev.error_code.clone(),
        message: ev.message.clone(),
        principal: r.principal.clone(),
        role_arn: r.role_arn.clone(),
        role_path_known: r.role_arn.as_ref().map(|_| !r.role_path_unknown),
        action,
        resource: r.resource.clone(),
        bucket: r.bucket.clone(),
        key: r.key.clone(),
        region: r.region.clone().or_else(|| pasted.bucket_region.clone()),
        endpoint: r.endpoint.clone(),
        request_id: ev.request_id.clone(),
        extended_request_id: r.extended_request_id.clone(),
        source_ip: r.source_ip.clone(),
        vpce: r.vpce.clone(),
        cause: finding.code,
        basis: finding.basis,
        source: finding.source.filter(|s| *s != DenySource::Unknown),
        policy_arn: pasted.denied.policy_arn.clone(),
        authorization_id: ev.authorization_id.clone(),
        authorization_hint: ev
            .authorization_id
            .as_deref()
            .map(access_denied::authorization_hint),
        title: finding.title,
        summary: finding.summary,
        remedy: finding.remedy,
        hidden,
        other_causes: other_causes(inferred, finding.code, ev.message.as_deref()),
        step: finding.step,
        command: checklist.command,
        command_complete: checklist.complete,
    }
}

/// The finding the checklist would report for this answer: the same builders, the same texts.
fn finding(pasted: &Pasted, class: &Class, action: Option<&str>, server: Server) -> Finding {
    let r = &pasted.request;
    let ev = pasted.evidence.clone();
    let step = step_of(class, &ev.operation, r.key.is_some());
    let facts = Facts {
        bucket: r.bucket.as_deref(),
        action,
        principal: r.principal.as_deref(),
        region: r.region.as_deref(),
        bucket_region: pasted.bucket_region.as_deref(),
        key: r.key.as_deref(),
        endpoint: r.endpoint.as_deref(),
        object: r.key.as_deref(),
        server,
        ..Facts::default()
    };
    match class {
        Class::AccessDenied(denied) => answers::permission_finding(step, denied, facts, ev),
        Class::Kms(denied) => {
            let key = answers::kms_key(&ev, denied);
            FindingSpec {
                code: FindingCode::Kms,
                step,
                facts: Facts {
                    kms_key: key.as_deref(),
                    ..facts
                },
                source: denied.source,
                statement: None,
                evidence: Some(ev),
            }
            .build()
        }
        _ => FindingSpec {
            code: class.finding_code(),
            step,
            facts,
            source: None,
            statement: None,
            evidence: Some(ev),
        }
        .build(),
    }
}

/// The server the text's answer came from, for the findings' words.
fn server_of(pasted: &Pasted) -> Server {
    let kind = crate::endpoint::kind_of_pasted(
        pasted.request.endpoint.as_deref(),
        pasted.evidence.request_id.as_deref(),
    );
    Server {
        kind,
        s3_only: !matches!(kind, EndpointKind::Aws | EndpointKind::AwsCompatible),
    }
}

/// The server a reading names, for its words.
pub fn server(r: &Reading) -> Server {
    Server {
        kind: r.server,
        s3_only: !matches!(r.server, EndpointKind::Aws | EndpointKind::AwsCompatible),
    }
}

/// The IAM action an S3 operation needs: s3doctor's own operations, and the ones apps call
/// that s3doctor does not (a HEAD needs the GET's permission).
fn action_of(operation: &str) -> Option<String> {
    if let Some(op) = Operation::from_name(operation) {
        return Some(op.action().to_owned());
    }
    let action = match operation {
        "HeadObject" => "s3:GetObject",
        "ListObjects" => "s3:ListBucket",
        "CopyObject" | "CompleteMultipartUpload" => "s3:PutObject",
        "PutObjectTagging" => "s3:PutObjectTagging",
        "GetObjectTagging" => "s3:GetObjectTagging",
        "PutBucketPolicy" => "s3:PutBucketPolicy",
        _ => return None,
    };
    Some(action.to_owned())
}

/// The checklist step that checks this answer live: a read of the app's own object (a key the
/// text names) is the `app-object` step's.
fn step_of(class: &Class, operation: &str, names_key: bool) -> StepId {
    match class {
        Class::Credentials(_) => return StepId::Identity,
        Class::Unreachable(_) => return StepId::Credentials,
        Class::WrongRegion(_) => return StepId::BucketRegion,
        Class::BucketNotFound => return StepId::BucketExists,
        Class::Kms(_) => return StepId::KmsKey,
        Class::AclNotSupported => return StepId::PutObjectAcl,
        _ => {}
    }
    match operation {
        "GetObject" | "HeadObject" if names_key => StepId::AppObject,
        "GetObject" | "HeadObject" => StepId::GetObject,
        "DeleteObject" => StepId::DeleteObject,
        "PutObjectAcl" => StepId::PutObjectAcl,
        "ListObjects" | "ListObjectsV2" => StepId::ListObjects,
        "HeadBucket" => StepId::BucketExists,
        "CreateMultipartUpload" | "UploadPart" | "CompleteMultipartUpload" => {
            StepId::MultipartUpload
        }
        "GetCallerIdentity" => StepId::Identity,
        _ => StepId::PutObject,
    }
}

/// Why the SDK could not say more, and what to run instead.
fn hidden_words(operation: Option<&str>, command: &str) -> String {
    let what = match operation {
        Some(op) if op.starts_with("Head") => format!(
            "{op} is a HEAD request, and AWS sends no body with the answer to a HEAD: the SDK got only the status, 403 Forbidden, so the reason is in no log of the app."
        ),
        _ => "The answer came without AWS's words (no error body), so the SDK could say only 403 Forbidden.".to_owned(),
    };
    let how = if command.contains(" --key ") {
        format!("`{command}` reads that object with a GET and shows AWS's words.")
    } else {
        format!(
            "`{command}` makes the same calls with GETs and shows AWS's words; add --key KEY for the app's own object."
        )
    };
    format!("{what} A GET carries AWS's reason: {how}")
}

#[cfg(test)]
mod tests;
