//! The `multipart-upload` step: large uploads go in parts, and that path needs permissions a
//! plain upload does not (kms:Decrypt on a KMS bucket, s3:AbortMultipartUpload to clean up).
//! The probe starts a multipart upload on a new unique key, uploads one tiny part, lists the
//! parts and aborts it. Nothing is ever completed, so no object is ever written; an abort
//! that fails is reported with the command that cleans up.

use aws_smithy_runtime_api::client::orchestrator::HttpResponse;
use aws_smithy_runtime_api::client::result::SdkError;
use aws_smithy_types::error::metadata::ProvideErrorMetadata;

use super::probe::{self, ProbeKey};
use super::{CheckContext, CheckResult, NotChecked, Status, StepOutcome};
use crate::answers::{self, Class, Facts, FindingSpec};
use crate::finding::{Finding, FindingCode, Severity};
use crate::operation::Operation;
use crate::runbook::StepId;

/// Why the step runs: asked for, or the bucket encrypts with KMS (then large uploads need
/// kms:Decrypt). `Err` is the reason it does not.
async fn reason(cx: &CheckContext) -> Result<String, String> {
    if cx.run.multipart {
        return Ok("--multipart".to_owned());
    }
    if let Some(key) = &cx.state.kms_key {
        return Ok(format!("the bucket encrypts with KMS ({key})"));
    }
    let asked = "not asked: the app does not upload in parts (--multipart)";
    // The stored probe got the bucket's default encryption, and S3's answer named it (AWS
    // always sends `x-amz-server-side-encryption` for an encrypted object): not KMS, so no
    // GetBucketEncryption is needed to know it.
    if let Some(stored) = &cx.state.upload_encryption {
        let how = stored.as_deref().unwrap_or("no encryption named");
        return Err(format!(
            "{asked} and the bucket does not encrypt with KMS (the upload probe was stored with {how})"
        ));
    }
    let session = cx
        .reading_session()
        .await
        .ok_or_else(|| "no credentials".to_owned())?;
    match cx
        .s3_with(&session)
        .get_bucket_encryption()
        .bucket(cx.bucket())
        .send()
        .await
    {
        Ok(out) => match super::kms::default_kms_key(&out, "aws/s3") {
            Some(key) => Ok(format!("the bucket encrypts with KMS key {key}")),
            None => Err(format!("{asked} and the bucket does not encrypt with KMS")),
        },
        Err(err) if super::kms::no_default_encryption(&err) => {
            Err(format!("{asked} and the bucket does not encrypt with KMS"))
        }
        Err(err) if super::unsupported::answered_200(&err) => Err(format!(
            "{asked}; whether the bucket encrypts with KMS is unknown: {} does not implement \
             GetBucketEncryption",
            cx.server.who()
        )),
        Err(err) => Err(format!(
            "{asked}; whether the bucket encrypts with KMS is unknown ({})",
            answers::describe(Operation::GetBucketEncryption, &err)
        )),
    }
}

/// A failed multipart call as a finding: a KMS refusal names the KMS action it needs.
fn failed<E>(
    cx: &CheckContext,
    operation: Operation,
    err: &SdkError<E, HttpResponse>,
    kms_action: &str,
) -> StepOutcome
where
    E: ProvideErrorMetadata + std::error::Error + Send + Sync + 'static,
{
    let failure = answers::failure(operation, err);
    if let Class::Kms(denied) = &failure.class {
        let action = denied
            .action
            .clone()
            .unwrap_or_else(|| kms_action.to_owned());
        let finding = FindingSpec {
            code: FindingCode::Kms,
            step: StepId::MultipartUpload,
            facts: cx.facts(Some(&action)),
            source: None,
            statement: None,
            evidence: Some(failure.evidence.clone()),
        }
        .build();
        let mut outcome = StepOutcome::failed(format!("{operation}: the KMS key refused {action}"))
            .with_evidence(failure.evidence);
        outcome.findings.push(finding);
        return outcome;
    }
    let mut outcome = cx.failed(StepId::MultipartUpload, failure);
    // No answer says how first (the detail is those words), then which call got none.
    outcome.detail = match cx.how_unanswered(outcome.evidence.as_ref()) {
        Some(_) => format!("{}, at {operation}", outcome.detail),
        None => format!("{operation}: {}", outcome.detail),
    };
    outcome
}

/// The finding for an upload that could not be aborted: its parts stay (and cost) until
/// someone aborts it.
fn left_behind(
    cx: &CheckContext,
    key: &ProbeKey,
    upload_id: &str,
    evidence: Option<crate::finding::Evidence>,
) -> Finding {
    let bucket = cx.bucket();
    let mut f = FindingSpec {
        code: FindingCode::ProbeLeftBehind,
        step: StepId::MultipartUpload,
        facts: Facts {
            key: Some(key.as_str()),
            ..cx.facts(None)
        },
        source: None,
        statement: None,
        evidence,
    }
    .build();
    let endpoint_flag = crate::aws::endpoint_flag(cx.endpoint());
    f.summary = format!(
        "s3doctor could not abort its multipart probe upload {bucket}/{key} (upload id {upload_id}): \
         its part stays stored, and billed, until the upload is aborted."
    );
    f.remedy = format!(
        "Abort it with `aws s3api abort-multipart-upload --bucket {bucket} --key {key} \
         --upload-id {upload_id}{endpoint_flag}` using credentials that may \
         (s3:AbortMultipartUpload); a lifecycle rule with AbortIncompleteMultipartUpload \
         cleans up such uploads for good."
    );
    f
}

/// `multipart-upload`: start an upload at the probe's key, upload one part, list the parts,
/// and abort it (never complete it), then say what worked.
pub(super) async fn multipart(cx: &CheckContext) -> CheckResult {
    let why = reason(cx).await.map_err(NotChecked::Nothing)?;
    let s3 = cx.s3()?;
    let key = cx.probe_key.clone();
    let upload_id = start(cx, &s3, &key, &why).await?;
    let upload = Upload {
        cx,
        s3: &s3,
        key: &key,
        upload_id: &upload_id,
    };
    let mut probe = Probe {
        done: vec![format!("started upload on {key}")],
        ..Probe::default()
    };
    upload.part(&mut probe).await;
    upload.list_parts(&mut probe).await;
    upload.abort(&mut probe).await;
    Ok(probe.outcome(&why))
}

/// Starts the upload: its id, or, when the start failed, its failed outcome (which says `why`
/// the step ran) as the row's: nothing was uploaded to, so there is nothing more to check.
async fn start(
    cx: &CheckContext,
    s3: &aws_sdk_s3::Client,
    key: &ProbeKey,
    why: &str,
) -> Result<String, NotChecked> {
    let acl = cx.run.acl.as_deref();
    let created = probe::start_multipart(s3, cx.bucket(), key, acl)
        .await
        .map_err(|err| {
            let mut o = failed(
                cx,
                Operation::CreateMultipartUpload,
                &err,
                "kms:GenerateDataKey",
            );
            o.detail = format!("{} (run because {why})", o.detail);
            NotChecked::blocked(o)
        })?;
    created
        .upload_id()
        .map(str::to_owned)
        .ok_or_else(|| NotChecked::blocked(no_upload_id(cx)))
}

/// CreateMultipartUpload answered 200 without an `UploadId`: a failure, with the finding
/// that says the answer was not what S3 sends (a failed row always has one).
fn no_upload_id(cx: &CheckContext) -> StepOutcome {
    let evidence = crate::finding::Evidence {
        operation: Operation::CreateMultipartUpload.name().to_owned(),
        http_status: Some(200),
        message: Some("the answer has no UploadId".to_owned()),
        ..Default::default()
    };
    let finding = FindingSpec {
        code: FindingCode::UnexpectedAnswer,
        step: StepId::MultipartUpload,
        facts: cx.facts(None),
        source: None,
        statement: None,
        evidence: Some(evidence.clone()),
    }
    .build();
    let mut o = StepOutcome::failed(
        "CreateMultipartUpload answered without an upload id: nothing to upload to",
    )
    .with_evidence(evidence);
    o.findings.push(finding);
    o
}

/// The upload s3doctor started: the only one it touches.
struct Upload<'a> {
    cx: &'a CheckContext,
    s3: &'a aws_sdk_s3::Client,
    key: &'a ProbeKey,
    upload_id: &'a str,
}

/// What the probe's calls found, in order.
#[derive(Default)]
struct Probe {
    /// One phrase per call: `uploaded one part`, `aborted it`, …
    done: Vec<String>,
    /// The first failure that decides the step.
    failure: Option<StepOutcome>,
    /// Findings about the abort (refused, or the upload left behind).
    abort_findings: Vec<Finding>,
    /// Warnings: listing the parts was refused.
    warnings: Vec<Finding>,
}

impl Upload<'_> {
    async fn part(&self, probe: &mut Probe) {
        let sent = probe::upload_part(self.s3, self.cx.bucket(), self.key, self.upload_id).await;
        match sent {
            Ok(_) => probe.done.push("uploaded one part".to_owned()),
            Err(err) => {
                let cx = self.cx;
                probe.failure = Some(failed(cx, Operation::UploadPart, &err, "kms:Decrypt"));
            }
        }
    }

    async fn list_parts(&self, probe: &mut Probe) {
        let listed = self
            .s3
            .list_parts()
            .bucket(self.cx.bucket())
            .key(self.key.as_str())
            .upload_id(self.upload_id)
            .send()
            .await;
        match listed {
            Ok(_) => probe.done.push("listed its parts".to_owned()),
            Err(err) => {
                // Listing parts is what resuming and cleaning up use; uploads work without it.
                let cx = self.cx;
                let mut o = failed(cx, Operation::ListParts, &err, "kms:Decrypt");
                for f in &mut o.findings {
                    f.severity = Severity::Warning;
                }
                probe
                    .done
                    .push(format!("could not list its parts ({})", o.detail));
                probe.warnings.extend(o.findings);
            }
        }
    }

    /// Aborts the upload; with the admin profile when the app's keys may not, and says when
    /// it was left behind.
    async fn abort(&self, probe: &mut Probe) {
        let (cx, key, upload_id) = (self.cx, self.key, self.upload_id);
        let abort = probe::abort_multipart(self.s3, cx.bucket(), key, upload_id).await;
        let Err(err) = abort else {
            probe.done.push("aborted it".to_owned());
            return;
        };
        let failure = answers::failure(Operation::AbortMultipartUpload, &err);
        let evidence = failure.evidence.clone();
        let o = failed(cx, Operation::AbortMultipartUpload, &err, "kms:Decrypt");
        probe.abort_findings.extend(o.findings);
        let note = if abort_with_admin(cx, key, upload_id).await {
            format!("{}; s3doctor aborted it with the admin profile", o.detail)
        } else {
            probe
                .abort_findings
                .push(left_behind(cx, key, upload_id, Some(evidence)));
            format!("{}; the upload {upload_id} was left behind", o.detail)
        };
        if probe.failure.is_none() {
            // The step's first failure: an abort that got no answer leads with how.
            let how = cx.how_unanswered(o.evidence.as_ref());
            let mut base = StepOutcome::failed(how.unwrap_or_default());
            base.evidence = o.evidence;
            probe.failure = Some(base);
        }
        probe.done.push(note);
    }
}

impl Probe {
    /// The step's outcome: the first failure, else a warning, else a pass; with every call's
    /// phrase and why the step ran.
    fn outcome(self, why: &str) -> StepOutcome {
        let mut outcome = match self.failure {
            Some(o) => o,
            None if !self.warnings.is_empty() => StepOutcome::warn(String::new()),
            None => StepOutcome::pass(String::new()),
        };
        let first = if outcome.detail.is_empty() {
            String::new()
        } else {
            format!("{}; ", outcome.detail)
        };
        outcome.detail = format!(
            "{first}{} (run because {why}; nothing was completed)",
            self.done.join(", ")
        );
        if outcome.status == Status::Pass {
            outcome.detail = format!("multipart upload works: {}", outcome.detail);
        }
        outcome.findings.extend(self.abort_findings);
        outcome.findings.extend(self.warnings);
        outcome
    }
}

/// Aborts s3doctor's own upload with `--admin-profile` when the app's keys may not. Only
/// ever the upload id s3doctor started.
async fn abort_with_admin(cx: &CheckContext, key: &ProbeKey, upload_id: &str) -> bool {
    let Some(Ok(admin)) = cx.admin_session().await else {
        return false;
    };
    probe::abort_multipart(&cx.s3_with(&admin), cx.bucket(), key, upload_id)
        .await
        .is_ok()
}

#[cfg(test)]
mod tests {
    use aws_sdk_s3::operation::upload_part::UploadPartError;
    use aws_smithy_runtime_api::client::result::ConnectorError;
    use aws_smithy_types::body::SdkBody;
    use aws_smithy_types::error::ErrorMetadata;

    use super::*;

    type PartError = SdkError<UploadPartError, HttpResponse>;

    /// A part that got no answer leads with how (the words every step says it with), then
    /// names the call; one that was answered names the call first, as before.
    #[test]
    fn a_multipart_call_without_an_answer_says_how_first() {
        let cx = crate::checks::tests::context();
        let timed_out = PartError::timeout_error("deadline");
        let o = failed(&cx, Operation::UploadPart, &timed_out, "kms:Decrypt");
        assert_eq!(
            o.detail,
            "timed out: no answer from the endpoint within 10 s, at UploadPart"
        );
        assert_eq!(o.findings[0].code, FindingCode::EndpointUnreachable);

        let io = std::io::Error::from(std::io::ErrorKind::ConnectionRefused);
        let refused = PartError::dispatch_failure(ConnectorError::io(Box::new(io)));
        let o = failed(&cx, Operation::UploadPart, &refused, "kms:Decrypt");
        assert_eq!(
            o.detail,
            "connection refused by the endpoint, at UploadPart"
        );

        let meta = ErrorMetadata::builder()
            .code("AccessDenied")
            .message("Access Denied")
            .build();
        let status = 403.try_into().expect("status");
        let denied = PartError::service_error(
            UploadPartError::generic(meta),
            HttpResponse::new(status, SdkBody::empty()),
        );
        let o = failed(&cx, Operation::UploadPart, &denied, "kms:Decrypt");
        assert_eq!(
            o.detail,
            "UploadPart: access denied: s3:PutObject is not allowed"
        );
    }

    /// A start answered without an upload id is a failure that says so with a finding, never
    /// a row that fails with nothing to show.
    #[test]
    fn a_start_without_an_upload_id_is_an_unexpected_answer() {
        let o = no_upload_id(&crate::checks::tests::context());
        assert_eq!(o.status, Status::Fail);
        assert_eq!(o.findings.len(), 1);
        assert_eq!(o.findings[0].code, FindingCode::UnexpectedAnswer);
        assert!(o.findings[0].is_error());
    }
}
