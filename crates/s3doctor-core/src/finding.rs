//! Findings: what is wrong, with its stable code, the evidence AWS gave, and the remedy.

use serde::{Deserialize, Serialize};

use crate::step::StepId;

/// The policy type that AWS names as the cause of a denial.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, serde::Serialize, serde::Deserialize)]
#[serde(rename_all = "kebab-case")]
pub enum DenySource {
    /// "identity-based policy": the user's, group's or role's own policies.
    IdentityPolicy,
    /// "resource-based policy": for S3 the bucket policy or an access point policy
    /// (S3 also reports Block Public Access denials this way).
    BucketPolicy,
    /// "service control policy" (AWS Organizations).
    Scp,
    /// "resource control policy" (AWS Organizations).
    Rcp,
    /// "permissions boundary".
    PermissionsBoundary,
    /// "session policy".
    SessionPolicy,
    /// "VPC endpoint policy".
    VpcEndpointPolicy,
    /// A deny clause whose policy type is missing or not one of the above
    /// (for example "role trust policy").
    Unknown,
}

impl DenySource {
    /// The stable name used in finding `source` fields.
    pub fn as_str(self) -> &'static str {
        match self {
            Self::IdentityPolicy => "identity-policy",
            Self::BucketPolicy => "bucket-policy",
            Self::Scp => "scp",
            Self::Rcp => "rcp",
            Self::PermissionsBoundary => "permissions-boundary",
            Self::SessionPolicy => "session-policy",
            Self::VpcEndpointPolicy => "vpc-endpoint-policy",
            Self::Unknown => "unknown",
        }
    }

    /// Plain words for a newcomer, to follow "denied by …".
    pub fn describe(self) -> &'static str {
        match self {
            Self::IdentityPolicy => "an identity-based policy (the user's or role's own policies)",
            Self::BucketPolicy => {
                "a resource-based policy (the bucket policy or an access point policy)"
            }
            Self::Scp => {
                "a service control policy (set in AWS Organizations for the whole account)"
            }
            Self::Rcp => {
                "a resource control policy (set in AWS Organizations for the account's resources)"
            }
            Self::PermissionsBoundary => {
                "a permissions boundary (a limit on the user or role that caps what its policies allow)"
            }
            Self::SessionPolicy => {
                "a session policy (passed when the role was assumed or the session was created)"
            }
            Self::VpcEndpointPolicy => {
                "a VPC endpoint policy (on the network endpoint the request went through)"
            }
            Self::Unknown => "a policy of a type AWS did not name",
        }
    }
}

impl std::fmt::Display for DenySource {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(self.as_str())
    }
}

/// The stable finding codes of the design; their text lives in the runbook TOML.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize, Deserialize)]
pub enum FindingCode {
    #[serde(rename = "credentials.missing")]
    CredentialsMissing,
    #[serde(rename = "credentials.invalid-key-id")]
    InvalidKeyId,
    #[serde(rename = "credentials.signature-mismatch")]
    SignatureMismatch,
    #[serde(rename = "credentials.expired")]
    Expired,
    #[serde(rename = "credentials.clock-skew")]
    ClockSkew,
    #[serde(rename = "credentials.unexpected-principal")]
    UnexpectedPrincipal,
    #[serde(rename = "credentials.assume-role-refused")]
    AssumeRoleRefused,
    #[serde(rename = "credentials.provider-failed")]
    ProviderFailed,
    #[serde(rename = "credentials.role-shadowed")]
    RoleShadowed,
    #[serde(rename = "endpoint.unreachable")]
    EndpointUnreachable,
    #[serde(rename = "endpoint.throttled")]
    Throttled,
    #[serde(rename = "endpoint.unsupported")]
    EndpointUnsupported,
    #[serde(rename = "bucket.not-found")]
    BucketNotFound,
    #[serde(rename = "bucket.wrong-region")]
    WrongRegion,
    #[serde(rename = "permission.missing")]
    PermissionMissing,
    #[serde(rename = "permission.explicit-deny")]
    ExplicitDeny,
    #[serde(rename = "permission.acl-disabled")]
    AclDisabled,
    #[serde(rename = "permission.kms")]
    Kms,
    #[serde(rename = "probe.left-behind")]
    ProbeLeftBehind,
    #[serde(rename = "bucket.requester-pays")]
    RequesterPays,
    #[serde(rename = "permission.block-public-access")]
    BlockPublicAccess,
    #[serde(rename = "bucket.other-account")]
    OtherAccount,
    #[serde(rename = "cors.not-allowed")]
    CorsNotAllowed,
    #[serde(rename = "presigned.expired")]
    PresignedExpired,
    #[serde(rename = "presigned.wrong-region")]
    PresignedWrongRegion,
    #[serde(rename = "presigned.signer-expired")]
    PresignedSignerExpired,
    #[serde(rename = "presigned.header-mismatch")]
    PresignedHeaderMismatch,
    #[serde(rename = "presigned.signature-v2")]
    PresignedSignatureV2,
    #[serde(rename = "endpoint.unexpected-answer")]
    UnexpectedAnswer,
    #[serde(rename = "bucket.access-disabled")]
    AccessDisabled,
    #[serde(rename = "object.archived")]
    ObjectArchived,
    #[serde(rename = "permission.sse-c-blocked")]
    SseCBlocked,
    #[serde(rename = "object.not-found")]
    ObjectNotFound,
    #[serde(rename = "object.other-owner")]
    ObjectOtherOwner,
    #[serde(rename = "object.sse-c-required")]
    SseCRequired,
    #[serde(rename = "permission.depends-on-network")]
    DependsOnNetwork,
    #[serde(rename = "permission.depends-on-condition")]
    DependsOnCondition,
}

impl FindingCode {
    pub const ALL: [FindingCode; 37] = [
        FindingCode::CredentialsMissing,
        FindingCode::InvalidKeyId,
        FindingCode::SignatureMismatch,
        FindingCode::Expired,
        FindingCode::ClockSkew,
        FindingCode::UnexpectedPrincipal,
        FindingCode::AssumeRoleRefused,
        FindingCode::ProviderFailed,
        FindingCode::RoleShadowed,
        FindingCode::EndpointUnreachable,
        FindingCode::Throttled,
        FindingCode::EndpointUnsupported,
        FindingCode::BucketNotFound,
        FindingCode::WrongRegion,
        FindingCode::PermissionMissing,
        FindingCode::ExplicitDeny,
        FindingCode::AclDisabled,
        FindingCode::Kms,
        FindingCode::ProbeLeftBehind,
        FindingCode::RequesterPays,
        FindingCode::BlockPublicAccess,
        FindingCode::OtherAccount,
        FindingCode::CorsNotAllowed,
        FindingCode::PresignedExpired,
        FindingCode::PresignedWrongRegion,
        FindingCode::PresignedSignerExpired,
        FindingCode::PresignedHeaderMismatch,
        FindingCode::PresignedSignatureV2,
        FindingCode::UnexpectedAnswer,
        FindingCode::AccessDisabled,
        FindingCode::ObjectArchived,
        FindingCode::SseCBlocked,
        FindingCode::ObjectNotFound,
        FindingCode::ObjectOtherOwner,
        FindingCode::SseCRequired,
        FindingCode::DependsOnNetwork,
        FindingCode::DependsOnCondition,
    ];

    /// The dotted code, as in JSON.
    pub fn as_str(self) -> &'static str {
        match self {
            FindingCode::CredentialsMissing => "credentials.missing",
            FindingCode::InvalidKeyId => "credentials.invalid-key-id",
            FindingCode::SignatureMismatch => "credentials.signature-mismatch",
            FindingCode::Expired => "credentials.expired",
            FindingCode::ClockSkew => "credentials.clock-skew",
            FindingCode::UnexpectedPrincipal => "credentials.unexpected-principal",
            FindingCode::AssumeRoleRefused => "credentials.assume-role-refused",
            FindingCode::ProviderFailed => "credentials.provider-failed",
            FindingCode::RoleShadowed => "credentials.role-shadowed",
            FindingCode::EndpointUnreachable => "endpoint.unreachable",
            FindingCode::Throttled => "endpoint.throttled",
            FindingCode::EndpointUnsupported => "endpoint.unsupported",
            FindingCode::BucketNotFound => "bucket.not-found",
            FindingCode::WrongRegion => "bucket.wrong-region",
            FindingCode::PermissionMissing => "permission.missing",
            FindingCode::ExplicitDeny => "permission.explicit-deny",
            FindingCode::AclDisabled => "permission.acl-disabled",
            FindingCode::Kms => "permission.kms",
            FindingCode::ProbeLeftBehind => "probe.left-behind",
            FindingCode::RequesterPays => "bucket.requester-pays",
            FindingCode::BlockPublicAccess => "permission.block-public-access",
            FindingCode::OtherAccount => "bucket.other-account",
            FindingCode::CorsNotAllowed => "cors.not-allowed",
            FindingCode::PresignedExpired => "presigned.expired",
            FindingCode::PresignedWrongRegion => "presigned.wrong-region",
            FindingCode::PresignedSignerExpired => "presigned.signer-expired",
            FindingCode::PresignedHeaderMismatch => "presigned.header-mismatch",
            FindingCode::PresignedSignatureV2 => "presigned.signature-v2",
            FindingCode::UnexpectedAnswer => "endpoint.unexpected-answer",
            FindingCode::AccessDisabled => "bucket.access-disabled",
            FindingCode::ObjectArchived => "object.archived",
            FindingCode::SseCBlocked => "permission.sse-c-blocked",
            FindingCode::ObjectNotFound => "object.not-found",
            FindingCode::ObjectOtherOwner => "object.other-owner",
            FindingCode::SseCRequired => "object.sse-c-required",
            FindingCode::DependsOnNetwork => "permission.depends-on-network",
            FindingCode::DependsOnCondition => "permission.depends-on-condition",
        }
    }

    /// True for the codes that mean "the keys themselves are the problem".
    pub fn is_credentials(self) -> bool {
        self.as_str().starts_with("credentials.")
    }

    /// True for the codes a generated Allow policy can fix.
    pub fn is_fixable_by_policy(self) -> bool {
        self == FindingCode::PermissionMissing
    }
}

impl std::fmt::Display for FindingCode {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(self.as_str())
    }
}

#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "kebab-case")]
pub enum Severity {
    Error,
    Warning,
}

impl Severity {
    /// The symbol views show for it: `✗` an error, `!` a warning (the symbols of a failed
    /// and a warning step).
    pub fn symbol(self) -> &'static str {
        match self {
            Severity::Error => "✗",
            Severity::Warning => "!",
        }
    }
}

/// How a finding is known: the server's own words, s3doctor's reading of the policies, an
/// inference from a bare refusal, or what s3doctor saw itself when no answer said anything.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "kebab-case")]
pub enum Basis {
    /// AWS's answer said so (its error code, or a detailed access-denied message).
    #[default]
    AwsMessage,
    /// s3doctor read and evaluated the policies (or AWS's policy simulator did).
    Policies,
    /// Only a bare "Access Denied" was seen: the most likely cause, not a certainty.
    Inferred,
    /// No answer said it: s3doctor saw it itself (no credentials to sign with, no connection,
    /// a timeout, an answer that is not the operation's).
    Observed,
}

impl Basis {
    pub fn as_str(self) -> &'static str {
        match self {
            Basis::AwsMessage => "aws-message",
            Basis::Policies => "policies",
            Basis::Inferred => "inferred",
            Basis::Observed => "observed",
        }
    }

    /// Plain words for reports: how s3doctor knows, naming the server that answered.
    pub fn describe(self, server: crate::server::Server) -> String {
        let who = server.who();
        match self {
            Basis::AwsMessage => format!("{who}'s answer says so"),
            Basis::Policies => "from reading the policies".to_owned(),
            Basis::Inferred => format!("{who} did not say why"),
            Basis::Observed => {
                format!("seen by s3doctor itself: no answer came from {who} that says it")
            }
        }
    }

    /// The stronger of two ways of knowing the same thing: an inference gives way to
    /// anything read, what s3doctor saw itself to an answer or the policies; the server's own
    /// words stay.
    pub fn merge(self, other: Basis) -> Basis {
        match (self, other) {
            (Basis::Inferred, o) => o,
            (Basis::Observed, o @ (Basis::AwsMessage | Basis::Policies)) => o,
            (s, _) => s,
        }
    }
}

impl std::fmt::Display for Basis {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(self.as_str())
    }
}

/// How a call got no answer, as `aws::unreachable` reads it from the transport's error: the
/// words of its `endpoint.unreachable` finding, of its step's detail and of its `--log` line
/// depend on it.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub enum Unreachable {
    /// Nothing came back within the timeout (or the call was not sent again after one did).
    TimedOut,
    /// The operating system refused the connection: nothing listens at that address and port.
    Refused,
    /// The endpoint's host name did not resolve.
    Dns,
    /// The TLS handshake failed (a certificate, a protocol).
    Tls,
    /// The connection could not be made or broke in another way.
    Connection,
    /// Anything else.
    Other,
}

impl Unreachable {
    /// What happened, in the few words every line about it starts with (the `--log` line, the
    /// evidence of a refused connection): `timed out`, `connection refused`, …
    pub fn words(self) -> &'static str {
        match self {
            Unreachable::TimedOut => "timed out",
            Unreachable::Refused => "connection refused",
            Unreachable::Dns => "DNS lookup failed",
            Unreachable::Tls => "TLS failed",
            Unreachable::Connection => "connection failed",
            Unreachable::Other => "no answer",
        }
    }
}

/// What AWS answered: enough to search logs and to open a support case.
#[derive(Clone, Debug, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct Evidence {
    pub operation: String,
    pub http_status: Option<u16>,
    pub error_code: Option<String>,
    pub message: Option<String>,
    pub request_id: Option<String>,
    /// The response headers that tell something (`x-amz-bucket-region`, the KMS key id, …).
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub headers: Vec<(String, String)>,
    /// The authorization id of AWS's newer access-denied messages: the key to
    /// `aws iam-toolbox get-request-authorization-details` (kept for at least 24 hours by AWS).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub authorization_id: Option<String>,
    /// How the call got no answer, when none came (the message says it in words).
    #[serde(skip)]
    pub unreachable: Option<Unreachable>,
}

impl Evidence {
    /// One line: `PutObject → 403 AccessDenied: Access Denied (request id X)`.
    pub fn one_line(&self) -> String {
        let mut s = self.operation.clone();
        if let Some(status) = self.http_status {
            s.push_str(&format!(" -> {status}"));
        }
        if let Some(code) = &self.error_code {
            s.push_str(&format!(" {code}"));
        }
        if let Some(msg) = self.message.as_deref().filter(|m| !m.is_empty()) {
            // Some messages span lines (the credential chain lists each provider it tried):
            // one line means one line, in the text report's column and in Markdown's `code`.
            let msg = msg.split_whitespace().collect::<Vec<_>>().join(" ");
            s.push_str(&format!(": {msg}"));
        }
        if let Some(id) = &self.request_id {
            s.push_str(&format!(" (request id {id})"));
        }
        s
    }
}

/// The statement responsible for a decision, when it is known (the one statement reference,
/// defined with the policy vocabulary).
pub use crate::policy::StatementRef;

/// One thing that is wrong, as the reports and the wizard show it.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct Finding {
    pub code: FindingCode,
    pub severity: Severity,
    pub step: StepId,
    pub bucket: Option<String>,
    pub action: Option<String>,
    pub source: Option<DenySource>,
    /// How this is known: `aws-message`, `policies` or `inferred`.
    #[serde(default)]
    pub basis: Basis,
    /// The resource AWS named beyond the bucket: the KMS key ARN of a `permission.kms`.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub resource: Option<String>,
    /// The app's own object (`--key`) the finding is about; `None` for the bucket's probes.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub key: Option<String>,
    pub title: String,
    pub summary: String,
    pub remedy: String,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub statement: Option<StatementRef>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub evidence: Option<Evidence>,
    /// The verdict on the request from here and from the app's network (`--source-ip`,
    /// `--vpc`, `--vpce`), when the two differ.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub vantages: Option<Vantages>,
}

/// The same request judged from the machine s3doctor runs on and from the app's network: said
/// where they differ ("works from my laptop, 403 from the server").
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct Vantages {
    /// The app's network in words (`VPC endpoint vpce-1 in vpc-2, from 10.0.0.5`).
    pub app_network: String,
    /// The policies' verdict from here, in a sentence.
    pub from_here: String,
    /// The policies' verdict from the app's network, in a sentence.
    pub from_app_network: String,
}

impl Finding {
    pub fn is_error(&self) -> bool {
        self.severity == Severity::Error
    }

    /// True when the generated identity policy can cure it: nothing allows the action, and
    /// the missing Allow belongs in the principal's own policies (not an SCP, a boundary, …).
    pub fn is_fixable_by_policy(&self) -> bool {
        self.code.is_fixable_by_policy()
            && matches!(
                self.source,
                None | Some(DenySource::IdentityPolicy) | Some(DenySource::Unknown)
            )
    }

    /// The same finding, known another way (the policy steps say `policies`).
    /// How it is known, as the reports say it: the basis and its words for the server that
    /// answered (`inferred`, "Ceph RGW did not say why"). A finding no answer came with is
    /// `observed`, whatever basis it was built with.
    pub fn how_known(&self, server: crate::server::Server) -> (Basis, String) {
        let answered = self
            .evidence
            .as_ref()
            .is_none_or(|e| e.http_status.is_some());
        let basis = match self.basis {
            Basis::AwsMessage if !answered => Basis::Observed,
            basis => basis,
        };
        (basis, basis.describe(server))
    }

    /// A finding with every field at its plainest, for tests to fill in.
    #[cfg(any(test, feature = "test-util"))]
    pub fn for_tests() -> Finding {
        Finding {
            code: FindingCode::PermissionMissing,
            severity: Severity::Error,
            step: StepId::PutObject,
            bucket: Some("b".into()),
            action: Some("s3:PutObject".into()),
            source: None,
            basis: Basis::Policies,
            resource: None,
            key: None,
            title: "t".into(),
            summary: "s".into(),
            remedy: "r".into(),
            statement: None,
            evidence: None,
            vantages: None,
        }
    }

    pub fn with_basis(mut self, basis: Basis) -> Self {
        self.basis = basis;
        self
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn how_known_names_the_server_and_never_an_answer_that_did_not_come() {
        use crate::server::{EndpointKind, Server};
        let rgw = Server {
            kind: EndpointKind::CephRgw,
            s3_only: true,
        };
        let finding = |basis, http_status| Finding {
            code: FindingCode::EndpointUnreachable,
            severity: Severity::Error,
            step: crate::step::StepId::Identity,
            bucket: None,
            action: None,
            source: None,
            basis,
            resource: None,
            key: None,
            title: String::new(),
            summary: String::new(),
            remedy: String::new(),
            statement: None,
            evidence: Some(Evidence {
                operation: "GetCallerIdentity".into(),
                http_status,
                ..Evidence::default()
            }),
            vantages: None,
        };
        let unanswered = finding(Basis::AwsMessage, None).how_known(Server::AWS);
        assert_eq!(unanswered.0, Basis::Observed);
        assert!(!unanswered.1.contains("answer says so"), "{}", unanswered.1);
        let (basis, words) = finding(Basis::AwsMessage, Some(403)).how_known(rgw);
        assert_eq!(
            (basis, words.as_str()),
            (Basis::AwsMessage, "Ceph RGW's answer says so")
        );
        let (_, words) = finding(Basis::Inferred, Some(403)).how_known(Server::AWS);
        assert_eq!(words, "AWS did not say why");
    }

    #[test]
    fn one_line_is_one_line() {
        let ev = Evidence {
            operation: "ResolveCredentials".into(),
            message: Some("no credentials found in chain. Attempted:\n  Environment: not set\n  Profile: not enabled".into()),
            ..Evidence::default()
        };
        assert_eq!(
            ev.one_line(),
            "ResolveCredentials: no credentials found in chain. Attempted: Environment: not set Profile: not enabled"
        );
    }

    #[test]
    fn codes_serialise_as_the_design_spells_them() {
        for code in FindingCode::ALL {
            let json = serde_json::to_string(&code).unwrap();
            assert_eq!(json, format!("\"{}\"", code.as_str()));
        }
    }

    #[test]
    fn evidence_line_names_status_code_and_request_id() {
        let e = Evidence {
            operation: "PutObject".into(),
            http_status: Some(403),
            error_code: Some("AccessDenied".into()),
            message: Some("Access Denied".into()),
            request_id: Some("R1".into()),
            ..Evidence::default()
        };
        assert_eq!(
            e.one_line(),
            "PutObject -> 403 AccessDenied: Access Denied (request id R1)"
        );
    }
}
