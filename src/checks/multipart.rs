//! The `multipart-upload` step: large uploads go in parts, and that path needs permissions a
//! plain upload does not (kms:Decrypt on a KMS bucket, s3:AbortMultipartUpload to clean up).
//! The probe starts a multipart upload on a new unique key, uploads one tiny part, lists the
//! parts and aborts it. Nothing is ever completed, so no object is ever written; an abort
//! that fails is reported with the command that cleans up.

use aws_sdk_s3::primitives::ByteStream;
use aws_smithy_runtime_api::client::orchestrator::HttpResponse;
use aws_smithy_runtime_api::client::result::SdkError;
use aws_smithy_types::error::metadata::ProvideErrorMetadata;

use super::{CheckContext, CheckResult, Status, StepOutcome};
use crate::diagnose::{self, Class, Facts, FindingSpec};
use crate::finding::{Finding, FindingCode, Severity};
use crate::runbook::StepId;

/// The one part the probe uploads (parts other than the last may be tiny until completion,
/// which never happens).
const PART_BODY: &str = "s3doctor multipart probe part: the upload is always aborted.\n";

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
        Ok(out) => {
            let kms = out
                .server_side_encryption_configuration()
                .map(|c| c.rules())
                .unwrap_or_default()
                .iter()
                .filter_map(|r| r.apply_server_side_encryption_by_default())
                .find(|d| d.sse_algorithm().as_str().starts_with("aws:kms"))
                .map(|d| d.kms_master_key_id().unwrap_or("aws/s3").to_owned());
            match kms {
                Some(key) => Ok(format!("the bucket encrypts with KMS key {key}")),
                None => Err(format!("{asked} and the bucket does not encrypt with KMS")),
            }
        }
        Err(err)
            if diagnose::error_code(&err).as_deref()
                == Some("ServerSideEncryptionConfigurationNotFoundError") =>
        {
            Err(format!("{asked} and the bucket does not encrypt with KMS"))
        }
        Err(err) => Err(format!(
            "{asked}; whether the bucket encrypts with KMS is unknown ({})",
            diagnose::describe("GetBucketEncryption", &err)
        )),
    }
}

/// A failed multipart call as a finding: a KMS refusal names the KMS action it needs.
fn failed<E>(
    cx: &CheckContext,
    operation: &str,
    err: &SdkError<E, HttpResponse>,
    kms_action: &str,
) -> StepOutcome
where
    E: ProvideErrorMetadata + std::error::Error + Send + Sync + 'static,
{
    let failure = diagnose::failure(operation, err);
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
    outcome.detail = format!("{operation}: {}", outcome.detail);
    outcome
}

/// The finding for an upload that could not be aborted: its parts stay (and cost) until
/// someone aborts it.
fn left_behind(
    cx: &CheckContext,
    key: &str,
    upload_id: &str,
    evidence: Option<crate::finding::Evidence>,
) -> Finding {
    let bucket = cx.bucket();
    let mut f = FindingSpec {
        code: FindingCode::ProbeLeftBehind,
        step: StepId::MultipartUpload,
        facts: Facts {
            key: Some(key),
            ..cx.facts(None)
        },
        source: None,
        statement: None,
        evidence,
    }
    .build();
    let endpoint_flag = cx
        .endpoint()
        .map(|e| format!(" --endpoint-url {e}"))
        .unwrap_or_default();
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

pub(super) async fn multipart(cx: &CheckContext) -> CheckResult {
    let why = reason(cx).await.map_err(StepOutcome::skip)?;
    let s3 = cx.s3()?;
    let bucket = cx.bucket();
    let key = cx.probe_key.clone();
    let mut create = s3
        .create_multipart_upload()
        .bucket(bucket)
        .key(&key)
        .content_type("text/plain");
    if let Some(acl) = &cx.run.acl {
        create = create.acl(aws_sdk_s3::types::ObjectCannedAcl::from(acl.as_str()));
    }
    let created = match create.send().await {
        Ok(out) => out,
        Err(err) => {
            let mut o = failed(cx, "CreateMultipartUpload", &err, "kms:GenerateDataKey");
            o.detail = format!("{} (run because {why})", o.detail);
            return Ok(o);
        }
    };
    let Some(upload_id) = created.upload_id().map(str::to_owned) else {
        return Ok(StepOutcome::failed(
            "CreateMultipartUpload answered without an upload id: nothing to upload to",
        ));
    };
    let mut done: Vec<String> = vec![format!("started upload on {key}")];
    let mut outcome: Option<StepOutcome> = None;
    match s3
        .upload_part()
        .bucket(bucket)
        .key(&key)
        .upload_id(&upload_id)
        .part_number(1)
        .body(ByteStream::from_static(PART_BODY.as_bytes()))
        .send()
        .await
    {
        Ok(_) => done.push("uploaded one part".to_owned()),
        Err(err) => outcome = Some(failed(cx, "UploadPart", &err, "kms:Decrypt")),
    }
    let mut warnings: Vec<Finding> = Vec::new();
    match s3
        .list_parts()
        .bucket(bucket)
        .key(&key)
        .upload_id(&upload_id)
        .send()
        .await
    {
        Ok(_) => done.push("listed its parts".to_owned()),
        Err(err) => {
            // Listing parts is what resuming and cleaning up use; uploads work without it.
            let mut o = failed(cx, "ListParts", &err, "kms:Decrypt");
            for f in &mut o.findings {
                f.severity = Severity::Warning;
            }
            done.push(format!("could not list its parts ({})", o.detail));
            warnings.extend(o.findings);
        }
    }
    let abort = s3
        .abort_multipart_upload()
        .bucket(bucket)
        .key(&key)
        .upload_id(&upload_id)
        .send()
        .await;
    let mut abort_findings = Vec::new();
    let mut abort_note = "aborted it".to_owned();
    if let Err(err) = abort {
        let failure = diagnose::failure("AbortMultipartUpload", &err);
        let evidence = failure.evidence.clone();
        let o = failed(cx, "AbortMultipartUpload", &err, "kms:Decrypt");
        abort_findings.extend(o.findings);
        if abort_with_admin(cx, &key, &upload_id).await {
            abort_note = format!("{}; s3doctor aborted it with the admin profile", o.detail);
        } else {
            abort_note = format!("{}; the upload {upload_id} was left behind", o.detail);
            abort_findings.push(left_behind(cx, &key, &upload_id, Some(evidence)));
        }
        if outcome.is_none() {
            let mut base = StepOutcome::failed(String::new());
            base.evidence = o.evidence;
            outcome = Some(base);
        }
    }
    done.push(abort_note);
    let mut outcome = match outcome {
        Some(o) => o,
        None if !warnings.is_empty() => StepOutcome::warn(String::new()),
        None => StepOutcome::pass(String::new()),
    };
    let first = if outcome.detail.is_empty() {
        String::new()
    } else {
        format!("{}; ", outcome.detail)
    };
    outcome.detail = format!(
        "{first}{} (run because {why}; nothing was completed)",
        done.join(", ")
    );
    if outcome.status == Status::Pass {
        outcome.detail = format!("multipart upload works: {}", outcome.detail);
    }
    outcome.findings.extend(abort_findings);
    outcome.findings.extend(warnings);
    Ok(outcome)
}

/// Aborts s3doctor's own upload with `--admin-profile` when the app's keys may not. Only
/// ever the upload id s3doctor started.
async fn abort_with_admin(cx: &CheckContext, key: &str, upload_id: &str) -> bool {
    let Some(Ok(admin)) = cx.admin_session().await else {
        return false;
    };
    cx.s3_with(&admin)
        .abort_multipart_upload()
        .bucket(cx.bucket())
        .key(key)
        .upload_id(upload_id)
        .send()
        .await
        .is_ok()
}
