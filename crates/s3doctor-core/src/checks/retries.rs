//! Second tries that tell the cause of a 403 apart, live: the same request again with
//! `x-amz-request-payer: requester` (a Requester Pays bucket refuses requests without it),
//! and an upload refused with the app's ACL tried with a private ACL and without one (Block
//! Public Access refuses only public ACLs; a missing `s3:PutObjectAcl` refuses every ACL).
//! The probe key is the same new unique key with `If-None-Match: *` (`probe::put`): a retry
//! can only ever write s3doctor's own probe.

use aws_smithy_runtime_api::client::orchestrator::HttpResponse;
use aws_smithy_runtime_api::client::result::SdkError;
use aws_smithy_types::error::metadata::ProvideErrorMetadata;

use super::probe::{self, ProbeKey};
use super::{CheckContext, Fact, StepOutcome};
use crate::answers::codes::AwsCode;
use crate::answers::{self, Class, Failure, FindingSpec};
use crate::aws::Unanswered;
use crate::finding::{Evidence, FindingCode};
use crate::operation::Operation;
use crate::runbook::StepId;

/// The canned ACLs that grant access to everyone (or every AWS user): what Block Public
/// Access refuses.
pub const PUBLIC_ACLS: [&str; 3] = ["public-read", "public-read-write", "authenticated-read"];

/// True when the failure is a plain refusal (403 without a more specific cause).
pub fn is_denied(failure: &Failure) -> bool {
    matches!(failure.class, Class::AccessDenied(_))
}

/// The outcome for a request that was refused without `x-amz-request-payer: requester` and
/// allowed with it.
pub fn requester_pays(cx: &CheckContext, step: StepId, first: &Failure) -> StepOutcome {
    let operation = first.evidence.operation.clone();
    let finding = FindingSpec {
        code: FindingCode::RequesterPays,
        step,
        facts: cx.facts(None),
        source: None,
        statement: None,
        evidence: Some(first.evidence.clone()),
    }
    .build();
    let mut outcome = StepOutcome::failed(format!(
        "{operation} was refused without x-amz-request-payer: requester and allowed with it: \
         {} is a Requester Pays bucket",
        cx.bucket()
    ))
    .with_evidence(first.evidence.clone());
    outcome.findings.push(finding);
    outcome
}

/// A refused request asked once more with `x-amz-request-payer: requester` (`paid` sends it
/// so): the Requester Pays outcome when that is allowed, `None` when the first answer was not
/// a plain refusal or the paid request fails too.
pub async fn retried_as_requester<T, E, Fut>(
    cx: &CheckContext,
    step: StepId,
    operation: Operation,
    answer: &Result<T, SdkError<E, HttpResponse>>,
    paid: impl FnOnce() -> Fut,
) -> Option<StepOutcome>
where
    E: ProvideErrorMetadata + std::error::Error + Send + Sync + 'static,
    Fut: Future<Output = bool>,
{
    let err = answer.as_ref().err()?;
    let failure = answers::failure(operation, err);
    (is_denied(&failure) && paid().await).then(|| requester_pays(cx, step, &failure))
}

/// What an upload refused with the app's `--acl` means: tried again with a private ACL
/// (public ACLs only) and without an ACL. `None` when the upload is refused without the ACL
/// too: then the ACL is not the cause. A retry that works leaves the probe written.
pub async fn acl_refusal(
    cx: &CheckContext,
    s3: &aws_sdk_s3::Client,
    key: &ProbeKey,
    acl: &str,
    first: &Failure,
    watch: &Unanswered,
) -> Option<StepOutcome> {
    let bucket = cx.bucket();
    if PUBLIC_ACLS.contains(&acl)
        && probe::put(s3, bucket, key, Some("private"), false, watch)
            .await
            .is_ok()
    {
        return Some(public_acl_refused(cx, key, acl, first).await);
    }
    probe::put(s3, bucket, key, None, false, watch).await.ok()?;
    Some(acl_permission_missing(cx, key, acl, first))
}

/// The upload with a public ACL was refused and with a private one stored: Block Public
/// Access refuses the public ACL.
async fn public_acl_refused(
    cx: &CheckContext,
    key: &ProbeKey,
    acl: &str,
    first: &Failure,
) -> StepOutcome {
    let level = bpa_level(cx).await;
    let mut finding = FindingSpec {
        code: FindingCode::BlockPublicAccess,
        step: StepId::PutObject,
        facts: cx.facts(Some("s3:PutObject")),
        source: None,
        statement: None,
        evidence: Some(first.evidence.clone()),
    }
    .build();
    finding.summary = format!(
        "The upload was refused with ACL {acl} and accepted with a private ACL, so it is the \
         public ACL that is refused: {level}. {}",
        finding.summary
    );
    let mut outcome = StepOutcome::failed(format!(
        "refused with ACL {acl}, accepted with a private one: {level}; uploaded probe {key} \
         with a private ACL"
    ))
    .with_evidence(first.evidence.clone())
    .with_fact(Fact::ProbeWritten(key.clone()));
    outcome.findings.push(finding);
    outcome
}

/// The upload with an ACL was refused and without one stored: s3:PutObjectAcl is missing.
fn acl_permission_missing(
    cx: &CheckContext,
    key: &ProbeKey,
    acl: &str,
    first: &Failure,
) -> StepOutcome {
    let evidence = Evidence {
        operation: Operation::PutObject.name().to_owned(),
        ..first.evidence.clone()
    };
    let mut finding = FindingSpec {
        code: FindingCode::PermissionMissing,
        step: StepId::PutObject,
        facts: cx.facts(Some(Operation::PutObjectAcl.action())),
        source: None,
        statement: None,
        evidence: Some(evidence.clone()),
    }
    .build();
    finding.summary = format!(
        "The upload was refused with ACL {acl} and accepted without an ACL: an upload that sets \
         an ACL needs s3:PutObjectAcl as well as s3:PutObject. {}",
        finding.summary
    );
    let mut outcome = StepOutcome::failed(format!(
        "refused with ACL {acl}, accepted without an ACL: s3:PutObjectAcl is not allowed; \
         uploaded probe {key} without an ACL"
    ))
    .with_evidence(evidence)
    .with_fact(Fact::ProbeWritten(key.clone()));
    outcome.findings.push(finding);
    outcome
}

/// Where Block Public Access is on, as far as the bucket's setting tells: read with the admin
/// profile when given, else the app's keys.
async fn bpa_level(cx: &CheckContext) -> String {
    let Some(session) = cx.reading_session().await else {
        return "Block Public Access, on the bucket or the account".to_owned();
    };
    match cx
        .s3_with(&session)
        .get_public_access_block()
        .bucket(cx.bucket())
        .send()
        .await
    {
        Ok(out)
            if out
                .public_access_block_configuration()
                .and_then(|c| c.block_public_acls())
                == Some(true) =>
        {
            "the bucket's Block Public Access setting BlockPublicAcls is on".to_owned()
        }
        Ok(_) => "the bucket's own BlockPublicAcls is off, so it is the account's Block Public \
                  Access (or a policy that denies public ACLs with the s3:x-amz-acl condition)"
            .to_owned(),
        Err(err) => {
            if AwsCode::NoSuchPublicAccessBlockConfiguration.answered(&err) {
                "the bucket has no Block Public Access setting of its own, so it is the \
                 account's Block Public Access (or a policy that denies public ACLs with the \
                 s3:x-amz-acl condition)"
                    .to_owned()
            } else {
                format!(
                    "Block Public Access, on the bucket or the account (the bucket's setting \
                     could not be read: {})",
                    answers::describe(Operation::GetPublicAccessBlock, &err)
                )
            }
        }
    }
}
