//! Every way getting credentials fails, each with its finding code and the facts a person acts
//! on, in fields: which provider, why, AWS's own words, and the next step. A refused
//! AssumeRole names who asked, which role, and what AWS said; nothing carries the SDK's debug
//! dump (its error is read for status, code and message, or shown as its chain of `Display`s).

use aws_smithy_runtime_api::client::orchestrator::HttpResponse;
use aws_smithy_runtime_api::client::result::SdkError;
use aws_smithy_types::error::metadata::ProvideErrorMetadata;

use crate::answers::{self, Class};
use crate::finding::{Evidence, FindingCode};
use crate::operation::Operation;

/// Why no session could be built.
#[derive(Clone, Debug)]
pub struct CredentialsFailure {
    pub code: FindingCode,
    /// One line: what failed and why.
    pub detail: String,
    /// The provider that failed, in words.
    pub provider: Option<String>,
    /// Why, without the provider: AWS's words or s3doctor's.
    pub why: String,
    /// STS's answer, when the failure is one.
    pub evidence: Option<Evidence>,
    /// A refused AssumeRole or AssumeRoleWithWebIdentity.
    pub refused: Option<Refusal>,
    /// What a person does next (the SSO login command, the flag to pass, …).
    pub next: Option<String>,
}

impl CredentialsFailure {
    /// This refusal of role `name`'s path-less ARN, when IAM's GetRole could not say the
    /// role's real ARN (`refused`: how it failed): the path is not known, and a role with one
    /// is refused by any other ARN.
    pub fn path_not_known(mut self, name: &str, refused: &str) -> Self {
        if let Some(r) = &mut self.refused {
            let why = format!(
                "path not known: the ARN names none and IAM could not be read; a role with a \
                 path (arn:…:role/PATH/{name}) has no other ARN"
            );
            self.detail
                .push_str(&format!(" ({why}; iam:GetRole {name}: {refused})"));
            r.path_unknown = Some(why);
        }
        self
    }

    /// A failure with only a code and a line (nothing configured, a deadline).
    pub fn plain(code: FindingCode, detail: impl Into<String>) -> Self {
        let detail = detail.into();
        CredentialsFailure {
            code,
            why: detail.clone(),
            detail,
            provider: None,
            evidence: None,
            refused: None,
            next: None,
        }
    }

    /// `credentials.provider-failed`: `provider` failed because `why`; `next` says what to do.
    pub fn provider(
        provider: impl Into<String>,
        why: impl Into<String>,
        next: impl Into<String>,
    ) -> Self {
        let provider = provider.into();
        let why = why.into();
        CredentialsFailure {
            code: FindingCode::ProviderFailed,
            detail: format!("{provider}: {why}"),
            provider: Some(provider),
            why,
            evidence: None,
            refused: None,
            next: Some(next.into()),
        }
    }
}

/// A role that AWS would not let the caller assume.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Refusal {
    /// Who asked: the ARN AWS named (`User: …`), else the credentials in words.
    pub caller: String,
    /// True when `caller` is the ARN from AWS's message.
    pub caller_from_aws: bool,
    pub role_arn: String,
    /// AWS's message, as it came.
    pub aws_says: String,
    /// What named the role: `profile app`, `--role-arn`, `AWS_ROLE_ARN`.
    pub via: String,
    /// `AssumeRole` or `AssumeRoleWithWebIdentity`.
    pub operation: Operation,
    /// The external id that was sent, if any.
    pub external_id: Option<String>,
    pub session_name: String,
    /// Why the role's path is not known, when the ARN asked names none and IAM could not be
    /// read: then the refusal may be the path's, not the trust policy's.
    pub path_unknown: Option<String>,
}

impl Refusal {
    /// The role as a finding names it: its ARN, and when the path is not known, that too.
    pub fn role_words(&self) -> String {
        match &self.path_unknown {
            Some(why) => format!("{} ({why})", self.role_arn),
            None => self.role_arn.clone(),
        }
    }
}

/// What an STS call of the chain was: the role asked for and how, and who asked.
#[derive(Clone, Debug)]
pub struct StsAsk<'a> {
    pub operation: Operation,
    pub role_arn: &'a str,
    pub via: &'a str,
    /// The credentials it was signed with, in words (web identity: the token file).
    pub by: &'a str,
    pub external_id: Option<&'a str>,
    pub session_name: &'a str,
}

/// Reads a failed AssumeRole / AssumeRoleWithWebIdentity: a refusal, refused keys, no answer,
/// or another provider failure, with STS's answer as evidence.
pub fn from_sts<E>(ask: &StsAsk<'_>, err: &SdkError<E, HttpResponse>) -> CredentialsFailure
where
    E: ProvideErrorMetadata + std::error::Error + Send + Sync + 'static,
{
    let failure = answers::failure(ask.operation, err);
    let evidence = failure.evidence.clone();
    let code = evidence.error_code.as_deref().unwrap_or("");
    let web = ask.operation == Operation::AssumeRoleWithWebIdentity;
    let provider = if web {
        format!("web identity ({})", ask.via)
    } else {
        format!("AssumeRole of {} ({})", ask.role_arn, ask.via)
    };
    let mut out = match &failure.class {
        Class::AccessDenied(denied) => refused(ask, &evidence, denied),
        _ if web && WEB_IDENTITY_CODES.contains(&code) => CredentialsFailure::provider(
            &provider,
            format!("STS refused the token of {}: {}", ask.by, words(&evidence)),
            "Check the token: it must come from the identity provider the role trusts (its issuer and audience), be current, and the role's trust policy must name that provider (IAM > Identity providers; for EKS, the cluster's OIDC issuer).",
        ),
        Class::Credentials(code) => CredentialsFailure {
            code: *code,
            detail: format!(
                "STS refused {} when they asked for {}: {}",
                ask.by,
                ask.role_arn,
                words(&evidence)
            ),
            why: words(&evidence),
            provider: Some(provider.clone()),
            evidence: None,
            refused: None,
            next: None,
        },
        Class::Unreachable(_) => CredentialsFailure {
            code: FindingCode::EndpointUnreachable,
            detail: format!(
                "STS did not answer {} for {}: {}",
                ask.operation,
                ask.role_arn,
                words(&evidence)
            ),
            why: words(&evidence),
            provider: Some(provider.clone()),
            evidence: None,
            refused: None,
            next: None,
        },
        _ => CredentialsFailure::provider(
            &provider,
            format!("STS answered {}", words(&evidence)),
            "Read AWS's words in the evidence: the role ARN, the session name or the region's STS may be wrong.",
        ),
    };
    out.evidence = Some(evidence);
    out
}

/// STS's codes for a web identity token it will not take (STS API reference,
/// AssumeRoleWithWebIdentity, Errors:
/// <https://docs.aws.amazon.com/STS/latest/APIReference/API_AssumeRoleWithWebIdentity.html>).
const WEB_IDENTITY_CODES: [&str; 5] = [
    "InvalidIdentityToken",
    "IDPRejectedClaim",
    "IDPCommunicationError",
    "ExpiredTokenException",
    "ExpiredToken",
];

/// `AccessDenied: User: … is not authorized …` (code and message), or the one-line evidence.
fn words(evidence: &Evidence) -> String {
    match (&evidence.error_code, &evidence.message) {
        (Some(c), Some(m)) => format!("{c}: {m}"),
        (None, Some(m)) => m.clone(),
        _ => evidence.one_line(),
    }
}

fn refused(
    ask: &StsAsk<'_>,
    evidence: &Evidence,
    denied: &answers::access_denied::AccessDenied,
) -> CredentialsFailure {
    let (caller, caller_from_aws) = match &denied.principal {
        Some(p) => (p.clone(), true),
        None => (ask.by.to_owned(), false),
    };
    let aws_says = evidence
        .message
        .clone()
        .unwrap_or_else(|| evidence.one_line());
    let refusal = Refusal {
        caller: caller.clone(),
        caller_from_aws,
        role_arn: ask.role_arn.to_owned(),
        aws_says,
        via: ask.via.to_owned(),
        operation: ask.operation,
        external_id: ask.external_id.map(str::to_owned),
        session_name: ask.session_name.to_owned(),
        path_unknown: None,
    };
    CredentialsFailure {
        code: FindingCode::AssumeRoleRefused,
        detail: format!(
            "STS refused to let {caller} assume {} ({})",
            ask.role_arn, ask.via
        ),
        provider: Some(ask.via.to_owned()),
        why: refusal.aws_says.clone(),
        evidence: None,
        refused: Some(refusal),
        next: None,
    }
}
