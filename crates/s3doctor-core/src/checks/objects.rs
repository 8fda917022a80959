//! The object steps: list, and the probe's put / get / ACL / delete. Probes only ever touch
//! a new unique key written with `If-None-Match: *`, and only that key is deleted.

use aws_sdk_s3::operation::get_object::builders::GetObjectFluentBuilder;
use aws_sdk_s3::operation::get_object::{GetObjectError, GetObjectOutput};
use aws_sdk_s3::operation::put_object::{PutObjectError, PutObjectOutput};
use aws_sdk_s3::types::RequestPayer;
use aws_smithy_runtime_api::client::orchestrator::HttpResponse;
use aws_smithy_runtime_api::client::result::SdkError;

use super::probe::{self, PROBE_BODY, ProbeKey};
use super::probe_upload::{self, Upload};
use super::{
    CheckContext, CheckResult, Fact, NotChecked, OtherAccount, Status, StepOutcome, retries,
};
use crate::answers::{self, Class, FindingSpec};
use crate::finding::FindingCode;
use crate::operation::Operation;
use crate::runbook::StepId;

/// The step's listing request (`max-keys=1`, within `--prefix` when scoped).
pub(super) fn list_request(
    s3: &aws_sdk_s3::Client,
    cx: &CheckContext,
) -> aws_sdk_s3::operation::list_objects_v2::builders::ListObjectsV2FluentBuilder {
    let req = s3.list_objects_v2().bucket(cx.bucket()).max_keys(1);
    if cx.run.prefix_scoped {
        req.prefix(&cx.run.prefix)
    } else {
        req
    }
}

pub(super) async fn list(cx: &CheckContext) -> CheckResult {
    let s3 = cx.s3()?;
    let req = list_request(&s3, cx);
    // Usually asked already, as soon as the session existed (see `early`).
    let early = cx
        .cache
        .early
        .take_list(cx.bucket(), cx.state.use_region.as_deref())
        .await;
    let answer = match early {
        Some(answer) => answer,
        None => req.clone().send().await,
    };
    let paid = || async {
        req.request_payer(RequestPayer::Requester)
            .send()
            .await
            .is_ok()
    };
    if let Some(outcome) = retries::retried_as_requester(
        cx,
        StepId::ListObjects,
        Operation::ListObjectsV2,
        &answer,
        paid,
    )
    .await
    {
        return Ok(outcome);
    }
    match answer {
        Ok(out) => {
            let first = out
                .contents()
                .first()
                .and_then(|o| o.key())
                .map(str::to_owned);
            let detail = match &first {
                Some(_) => "listing works (at least one object)".to_owned(),
                None => "listing works (no objects)".to_owned(),
            };
            let outcome = StepOutcome::pass(detail).with_fact(Fact::Listing(true));
            Ok(match first {
                Some(key) => outcome.with_fact(Fact::ExistingKey(key)),
                None => outcome,
            })
        }
        Err(err) => {
            let failure = answers::failure(Operation::ListObjectsV2, &err);
            let refused = matches!(failure.class, Class::AccessDenied(_));
            let outcome = cx.failed(StepId::ListObjects, failure);
            Ok(if refused {
                outcome.with_fact(Fact::Listing(false))
            } else {
                outcome
            })
        }
    }
}

pub(super) async fn put(cx: &CheckContext) -> CheckResult {
    let s3 = cx.s3()?;
    let bucket = cx.bucket();
    let acl = cx.run.acl.as_deref();
    // Usually uploaded already, as soon as the session existed (see `early`).
    let early = cx
        .cache
        .early
        .take_put(bucket, cx.state.use_region.as_deref())
        .await;
    let (upload, stale) = match early {
        Some((upload, true)) => (upload, None),
        other => {
            let own = Upload::send(s3.clone(), bucket, cx.probe_key.clone(), acl).await;
            (own, other.map(|(stale, _)| stale))
        }
    };
    let outcome = match &upload.answer {
        Err(err) => refused_upload(cx, &upload, err).await,
        Ok(out) => uploaded(upload.key.clone(), acl, out),
    };
    // Whatever an upload that went out unanswered may have left is removed, or reported.
    let mut outcome = probe_upload::settle(cx, &upload, outcome).await;
    if let Some(stale) = stale {
        outcome = probe_upload::settle(cx, &stale, outcome).await;
    }
    Ok(outcome)
}

/// A refused upload: a refusal is asked again as Requester Pays and, with `--acl`, without
/// the ACL, to tell which of them is the cause; anything else is diagnosed as it came. The
/// second tries use the same key and are watched as the first.
async fn refused_upload(
    cx: &CheckContext,
    upload: &Upload,
    err: &SdkError<PutObjectError, HttpResponse>,
) -> StepOutcome {
    let (s3, key) = (&upload.s3, &upload.key);
    let bucket = cx.bucket();
    let acl = cx.run.acl.as_deref();
    let failure = answers::failure(Operation::PutObject, err);
    if !retries::is_denied(&failure) {
        let kms = matches!(failure.class, Class::Kms(_));
        let outcome = cx.failed(StepId::PutObject, failure);
        return if kms {
            outcome.with_fact(Fact::KmsKey("aws:kms".to_owned()))
        } else {
            outcome
        };
    }
    if probe::put(s3, bucket, key, acl, true, &upload.watch)
        .await
        .is_ok()
    {
        return retries::requester_pays(cx, StepId::PutObject, &failure)
            .with_fact(Fact::ProbeWritten(key.clone()));
    }
    if let Some(acl) = acl
        && let Some(outcome) = retries::acl_refusal(cx, s3, key, acl, &failure, &upload.watch).await
    {
        return outcome;
    }
    let mut outcome = cx.failed(StepId::PutObject, failure);
    if acl.is_some() {
        outcome.detail = format!("{} (refused without the ACL too)", outcome.detail);
    }
    outcome
}

/// A stored probe, and how S3 says it encrypted it: a KMS key means multipart uploads need
/// kms:Decrypt too (the multipart-upload step then runs by itself).
fn uploaded(key: ProbeKey, acl: Option<&str>, result: &PutObjectOutput) -> StepOutcome {
    let with_acl = acl.map(|a| format!(" with ACL {a}")).unwrap_or_default();
    let outcome = StepOutcome::pass(format!("uploaded probe {key}{with_acl}"))
        .with_fact(Fact::ProbeWritten(key));
    let kms = result
        .server_side_encryption()
        .is_some_and(|s| s.as_str().starts_with("aws:kms"));
    let outcome = outcome.with_fact(Fact::UploadEncryption(
        result
            .server_side_encryption()
            .map(|s| s.as_str().to_owned()),
    ));
    if kms {
        let key_id = result.ssekms_key_id().unwrap_or("aws:kms").to_owned();
        outcome.with_fact(Fact::KmsKey(key_id))
    } else {
        outcome
    }
}

pub(super) async fn get(cx: &CheckContext) -> CheckResult {
    let s3 = cx.s3()?;
    let bucket = cx.bucket();
    let (key, own_probe) = match (&cx.state.probe, &cx.state.existing_key) {
        (Some(probe), _) => (probe.as_str().to_owned(), true),
        (None, Some(existing)) => (existing.clone(), false),
        (None, None) => {
            return Err(NotChecked::nothing(
                "nothing to read: no probe was uploaded and no existing object was listed",
            ));
        }
    };
    let mut req = s3.get_object().bucket(bucket).key(&key);
    if !own_probe {
        req = req.range("bytes=0-0");
    }
    let (answer, owner) = download(cx, &req).await;
    let paid = || async {
        req.request_payer(RequestPayer::Requester)
            .send()
            .await
            .is_ok()
    };
    if let Some(outcome) =
        retries::retried_as_requester(cx, StepId::GetObject, Operation::GetObject, &answer, paid)
            .await
    {
        return Ok(outcome);
    }
    match answer {
        Ok(out) => {
            let outcome = read_back(out, &key, own_probe).await;
            Ok(match owner {
                Some(owner) => outcome.with_fact(Fact::Owner(owner)),
                None => outcome,
            })
        }
        Err(err) => Ok(cx.failed(
            StepId::GetObject,
            answers::failure(Operation::GetObject, &err),
        )),
    }
}

type GetAnswer = Result<GetObjectOutput, SdkError<GetObjectError, HttpResponse>>;

/// The download, and whose bucket it is when that was told. Asked with ExpectedBucketOwner =
/// the caller's account, the download also tells whose bucket it is, so `bucket-policy` needs
/// no HeadBucket of its own for that: served, it is the caller's; refused (403) but served
/// without, another account's. Any other refusal is asked again without the header and
/// diagnosed from that answer, as before.
async fn download(
    cx: &CheckContext,
    req: &GetObjectFluentBuilder,
) -> (GetAnswer, Option<Result<(), OtherAccount>>) {
    let account = cx
        .identity
        .as_ref()
        .map(|i| i.principal.account.as_str())
        .filter(|a| a.len() == 12 && a.bytes().all(|b| b.is_ascii_digit()));
    let Some(account) = account else {
        return (req.clone().send().await, None);
    };
    match req.clone().expected_bucket_owner(account).send().await {
        Ok(out) => (Ok(out), Some(Ok(()))),
        Err(err) if err.raw_response().map(|r| r.status().as_u16()) == Some(403) => {
            let again = req.clone().send().await;
            let owner = again.is_ok().then(|| {
                Err(OtherAccount(format!(
                    "GetObject is served, and refused (403) with ExpectedBucketOwner {account}"
                )))
            });
            (again, owner)
        }
        Err(err) => (Err(err), None),
    }
}

/// Reads the downloaded body: the probe must come back as uploaded; of an existing object
/// only the first byte was asked for.
async fn read_back(out: GetObjectOutput, key: &str, own_probe: bool) -> StepOutcome {
    match out.body.collect().await.map(|b| b.into_bytes()) {
        Ok(bytes) if own_probe && bytes.as_ref() != PROBE_BODY.as_bytes() => StepOutcome::warn(
            format!("downloaded {key}, but its content is not what was uploaded"),
        ),
        Ok(_) if own_probe => StepOutcome::pass(format!("downloaded probe {key}")),
        Ok(_) => StepOutcome::pass(format!("read the first byte of existing object {key}")),
        Err(e) => StepOutcome::warn(format!("download of {key} broke off: {e}")),
    }
}

pub(super) async fn put_acl(cx: &CheckContext) -> CheckResult {
    let Some(key) = &cx.state.probe else {
        return Err(NotChecked::nothing(
            "no probe to set an ACL on (the upload failed)",
        ));
    };
    let s3 = cx.s3()?;
    match probe::put_acl(&s3, cx.bucket(), key).await {
        Ok(_) => Ok(StepOutcome::pass(format!(
            "set a private ACL on probe {key}"
        ))),
        Err(err) => Ok(cx.failed(
            StepId::PutObjectAcl,
            answers::failure(Operation::PutObjectAcl, &err),
        )),
    }
}

pub(super) async fn delete(cx: &CheckContext) -> CheckResult {
    let Some(key) = &cx.state.probe else {
        return Err(NotChecked::nothing(
            "no probe to delete (the upload failed), and s3doctor never deletes anything else",
        ));
    };
    let s3 = cx.s3()?;
    let mut answer = probe::delete(&s3, cx.bucket(), key, false).await;
    if let Err(err) = &answer
        && retries::is_denied(&answers::failure(Operation::DeleteObject, err))
    {
        // A Requester Pays bucket refuses the delete without the header too: the probe
        // must still go.
        let paid = probe::delete(&s3, cx.bucket(), key, true).await;
        if paid.is_ok() {
            answer = paid;
        }
    }
    match answer {
        Ok(_) => {
            Ok(StepOutcome::pass(format!("deleted probe {key}")).with_fact(Fact::ProbeDeleted))
        }
        Err(err) => {
            let failure = answers::failure(Operation::DeleteObject, &err);
            let unreachable = matches!(failure.class, Class::Unreachable(_));
            let mut outcome = cx.failed(StepId::DeleteObject, failure);
            if outcome.status == Status::Fail && !unreachable && remove_with_admin(cx, key).await {
                outcome.detail = format!(
                    "{}; s3doctor removed its probe with the admin profile",
                    outcome.detail
                );
                outcome.facts.push(Fact::ProbeDeleted);
                return Ok(outcome);
            }
            if outcome.status == Status::Fail || unreachable {
                let left = FindingSpec {
                    code: FindingCode::ProbeLeftBehind,
                    step: StepId::DeleteObject,
                    facts: cx.facts(None),
                    source: None,
                    statement: None,
                    evidence: outcome.evidence.clone(),
                }
                .build();
                outcome.findings.push(left);
                outcome.detail = format!("{}; probe {key} was left behind", outcome.detail);
            }
            Ok(outcome)
        }
    }
}

/// Deletes s3doctor's own probe with `--admin-profile` when the app's keys may not, so that
/// a diagnosis with an admin at hand leaves nothing behind. Only ever the probe key.
async fn remove_with_admin(cx: &CheckContext, key: &ProbeKey) -> bool {
    let Some(Ok(admin)) = cx.admin_session().await else {
        return false;
    };
    probe::delete(&cx.s3_with(&admin), cx.bucket(), key, false)
        .await
        .is_ok()
}
