//! Calls started before their step is due. At real distance what counts is how many round
//! trips stand in a row, so once the credentials resolve the first call of `list-objects`
//! and `put-object` (and the reads of `app-object`, see `object_reads`) goes out at once,
//! alongside identity and the bucket check, instead of after them. The step itself still runs
//! when its needs have finished, with what they learned, and takes the answer instead of
//! asking again: its report is the same. An answer is taken only when it was asked the way the
//! step would ask now (same region), or when it succeeded (a written probe is the step's
//! probe); otherwise the step asks itself. A probe that an early upload wrote, or may have
//! written (it went out and got no answer), and that no step took is deleted: by the skipped
//! row, which says so with its key, or when the run ends.

use std::any::Any;
use std::collections::{HashMap, HashSet};
use std::sync::Mutex;

use aws_sdk_s3::operation::list_objects_v2::{ListObjectsV2Error, ListObjectsV2Output};
use aws_smithy_runtime_api::client::orchestrator::HttpResponse;
use aws_smithy_runtime_api::client::result::SdkError;
use tokio::task::JoinHandle;

use super::probe::{self, ProbeKey, PutAnswer};
use super::probe_upload::{self, Landed, Upload};
use super::{CheckContext, StepOutcome, objects};
use crate::aws::Unanswered;
use crate::runbook::StepId;

/// The answer of an early `ListObjectsV2`.
pub type ListAnswer = Result<ListObjectsV2Output, SdkError<ListObjectsV2Error, HttpResponse>>;

type Answer = Box<dyn Any + Send>;

struct Early {
    /// The region the call went to (`None`: the session's).
    region: Option<String>,
    /// The probe key an upload wrote to.
    key: ProbeKey,
    /// Marked when an attempt of an upload went out and got no answer.
    watch: Unanswered,
    s3: aws_sdk_s3::Client,
    task: JoinHandle<Answer>,
}

/// The early calls of one run, by bucket and step; each is taken at most once.
#[derive(Default)]
pub struct EarlyCalls {
    calls: Mutex<HashMap<(String, StepId), Early>>,
    /// The buckets an early call succeeded on (signed for the region the run uses): their
    /// region is proven, so the listing and the upload need not wait for `bucket-region`.
    reached: Mutex<HashSet<String>>,
    /// Told each time an early call ends, so that the engine looks again at what may start.
    ended: tokio::sync::Notify,
}

impl std::fmt::Debug for EarlyCalls {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        let calls = self.lock();
        let mut keys: Vec<_> = calls.keys().collect();
        keys.sort();
        f.debug_struct("EarlyCalls").field("calls", &keys).finish()
    }
}

/// True for the steps whose first call needs nothing but the session and the bucket.
pub fn starts_early(step: StepId) -> bool {
    matches!(
        step,
        StepId::ListObjects | StepId::PutObject | StepId::AppObject
    )
}

/// Starts `cx`'s step's first call now, when it has one that needs only the session; true
/// when it did. The engine asks only for steps the run allows (no upload with `--read-only`).
pub fn start(step: StepId, cx: &CheckContext) -> bool {
    let (Some(bucket), Some(session)) = (cx.bucket.clone(), cx.session.as_deref()) else {
        return false;
    };
    if !starts_early(step) {
        return false;
    }
    if step == StepId::AppObject {
        // The app's own object: read only, shared with the steps that judge it.
        return super::object_reads::start(cx);
    }
    let s3 = cx.s3_with(session);
    let key = cx.probe_key.clone();
    let watch = Unanswered::default();
    let (cache, b) = (cx.cache.clone(), bucket.clone());
    let task: JoinHandle<Answer> = match step {
        StepId::ListObjects => {
            let req = objects::list_request(&s3, cx);
            tokio::spawn(async move {
                let answer = req.send().await;
                cache.early.ended(&b, answer.is_ok());
                Box::new(answer) as Answer
            })
        }
        _ => {
            let (s3, key, acl, watch) =
                (s3.clone(), key.clone(), cx.run.acl.clone(), watch.clone());
            tokio::spawn(async move {
                let answer: PutAnswer =
                    probe::put(&s3, &b, &key, acl.as_deref(), false, &watch).await;
                cache.early.ended(&b, answer.is_ok());
                Box::new(answer) as Answer
            })
        }
    };
    let early = Early {
        region: cx.state.use_region.clone(),
        key,
        watch,
        s3,
        task,
    };
    cx.cache.early.insert(bucket, step, early);
    true
}

/// True when `step` for `bucket` is a `put-object` row whose upload went out early and was
/// not taken.
pub fn sent_early(cache: &super::RunCache, step: StepId, bucket: Option<&str>) -> bool {
    step == StepId::PutObject
        && bucket.is_some_and(|b| {
            cache
                .early
                .lock()
                .contains_key(&(b.to_owned(), StepId::PutObject))
        })
}

/// A `put-object` row skipped because a step it needs did not pass, once its early upload
/// is withdrawn. An upload that wrote the probe, or went out and got no answer (it may have
/// landed), is reported as sent, with its key, whatever the timing; what it may have written
/// is deleted (s3doctor's own new key), and a probe that could not be removed adds a
/// `probe.left-behind` with the command that removes it. One the server refused, or that
/// was never sent, left nothing: the skip reads as ever.
pub async fn withdraw(cx: &CheckContext, mut skipped: StepOutcome) -> StepOutcome {
    let Some(early) = cx.cache.early.remove(cx.bucket(), StepId::PutObject) else {
        return skipped;
    };
    let Some(upload) = early.upload().await else {
        return skipped;
    };
    let landed = upload.landed();
    if landed == Landed::Nothing {
        return skipped;
    }
    let sent = format!(
        "{}; its upload had gone out before that answered and {}",
        skipped.detail,
        probe_upload::sent_words(landed, &upload.key)
    );
    match upload.remove(cx.bucket()).await {
        Ok(()) => skipped.detail = format!("{sent}: s3doctor deleted it"),
        Err(failure) => {
            skipped.detail = format!(
                "{sent}, and it could not be removed: {}",
                probe_upload::why_not_removed(&failure)
            );
            let finding = probe_upload::left_behind(cx, &upload.key, landed, &failure);
            skipped.findings.push(finding);
        }
    }
    skipped
}

impl EarlyCalls {
    fn lock(&self) -> std::sync::MutexGuard<'_, HashMap<(String, StepId), Early>> {
        self.calls
            .lock()
            .unwrap_or_else(std::sync::PoisonError::into_inner)
    }

    /// An early call on `bucket` ended (`ok`: it succeeded, so the bucket's region is proven).
    fn ended(&self, bucket: &str, ok: bool) {
        if ok {
            self.reached
                .lock()
                .unwrap_or_else(std::sync::PoisonError::into_inner)
                .insert(bucket.to_owned());
        }
        self.ended.notify_one();
    }

    /// True once an early call on `bucket` succeeded: a request signed for the run's region
    /// was served (AWS answers one for another region with a redirect), so that region works
    /// for the bucket whatever `GetBucketLocation` will say.
    pub fn region_proven(&self, bucket: &str) -> bool {
        self.reached
            .lock()
            .unwrap_or_else(std::sync::PoisonError::into_inner)
            .contains(bucket)
    }

    /// Returns once an early call has ended since the last time it returned.
    pub async fn any_ended(&self) {
        self.ended.notified().await;
    }

    fn insert(&self, bucket: String, step: StepId, early: Early) {
        if let Some(replaced) = self.lock().insert((bucket, step), early) {
            replaced.task.abort();
        }
    }

    /// The early `ListObjectsV2` answer for `bucket`, when the step may take it: asked in
    /// `region` (where the step would ask now), or successful.
    pub async fn take_list(&self, bucket: &str, region: Option<&str>) -> Option<ListAnswer> {
        let early = self.remove(bucket, StepId::ListObjects)?;
        let same_region = early.region.as_deref() == region;
        // A task that panicked has no answer: the step asks itself.
        let answer = *early.task.await.ok()?.downcast::<ListAnswer>().ok()?;
        (same_region || answer.is_ok()).then_some(answer)
    }

    /// The early probe upload for `bucket`, and whether the step may take its answer: asked
    /// in `region` (where the step would ask now), or stored. One it may not take is still
    /// the step's to clean up: it may have landed (see `probe_upload::settle`).
    pub async fn take_put(&self, bucket: &str, region: Option<&str>) -> Option<(Upload, bool)> {
        let early = self.remove(bucket, StepId::PutObject)?;
        let same_region = early.region.as_deref() == region;
        let upload = early.upload().await?;
        let usable = same_region || upload.answer.is_ok();
        Some((upload, usable))
    }

    fn remove(&self, bucket: &str, step: StepId) -> Option<Early> {
        self.lock().remove(&(bucket.to_owned(), step))
    }

    /// Ends the early calls no step took: a probe an early upload wrote, or may have written,
    /// is deleted (it is s3doctor's own new key), the rest are cancelled. Called when a run
    /// ends, after every row has been reported, so a probe that cannot be removed here is
    /// logged.
    pub async fn finish(&self) {
        let left: Vec<_> = self.lock().drain().collect();
        let mut cleanups = tokio::task::JoinSet::new();
        for ((bucket, step), early) in left {
            if step != StepId::PutObject {
                early.task.abort();
                continue;
            }
            cleanups.spawn(async move {
                let Some(upload) = early.upload().await else {
                    return;
                };
                let landed = upload.landed();
                if landed == Landed::Nothing {
                    return;
                }
                if let Err(failure) = upload.remove(&bucket).await {
                    tracing::warn!(
                        target: "s3doctor::engine",
                        bucket,
                        key = upload.key.as_str(),
                        written = landed == Landed::Written,
                        error = failure.evidence.one_line(),
                        "a probe written early could not be removed"
                    );
                }
            });
        }
        while cleanups.join_next().await.is_some() {}
    }
}

impl Early {
    /// The early upload once it has ended; `None` for a task that panicked (it has no answer)
    /// or was not an upload.
    async fn upload(self) -> Option<Upload> {
        let answer = *self.task.await.ok()?.downcast::<PutAnswer>().ok()?;
        Some(Upload {
            key: self.key,
            answer,
            watch: self.watch,
            s3: self.s3,
        })
    }
}

#[cfg(test)]
mod tests {
    use aws_sdk_s3::operation::delete_object::DeleteObjectOutput;
    use aws_sdk_s3::operation::put_object::PutObjectOutput;
    use aws_smithy_mocks::{RuleMode, mock, mock_client};
    use aws_smithy_runtime_api::client::orchestrator::HttpResponse;
    use aws_smithy_runtime_api::http::StatusCode;
    use aws_smithy_types::body::SdkBody;

    use super::*;

    /// The probe key of these tests (a fixed uuid, so the delete rule can match it).
    fn key() -> ProbeKey {
        ProbeKey::with_uuid("", uuid::Uuid::nil())
    }

    const DENIED: &str = "<?xml version=\"1.0\" encoding=\"UTF-8\"?>\n<Error><Code>AccessDenied</Code><Message>Access Denied</Message><RequestId>R</RequestId></Error>";

    /// An S3 client whose uploads succeed (`allowed`) or are refused, and whose deletes
    /// succeed; the delete rule counts them.
    fn s3(allowed: bool) -> (aws_sdk_s3::Client, aws_smithy_mocks::Rule) {
        let put = if allowed {
            mock!(aws_sdk_s3::Client::put_object).then_output(|| PutObjectOutput::builder().build())
        } else {
            mock!(aws_sdk_s3::Client::put_object).then_http_response(|| {
                HttpResponse::new(
                    StatusCode::try_from(403).expect("403"),
                    SdkBody::from(DENIED),
                )
            })
        };
        let delete = mock!(aws_sdk_s3::Client::delete_object)
            .match_requests(|r| r.key() == Some(key().as_str()))
            .then_output(|| DeleteObjectOutput::builder().build());
        let client = mock_client!(aws_sdk_s3, RuleMode::MatchAny, [&put, &delete]);
        (client, delete)
    }

    /// Starts an upload of `key` the way `start` does, asked in `region`; with `lost`, as if
    /// an attempt of it had gone out and its answer had been lost.
    fn start_upload(
        calls: &EarlyCalls,
        s3: &aws_sdk_s3::Client,
        (bucket, key): (&str, &ProbeKey),
        region: Option<&str>,
        lost: bool,
    ) {
        let client = s3.clone();
        let (b, k) = (bucket.to_owned(), key.clone());
        let watch = Unanswered::default();
        if lost {
            watch.mark_for_tests();
        }
        let w = watch.clone();
        let task = tokio::spawn(async move {
            let answer: PutAnswer = probe::put(&client, &b, &k, None, false, &w).await;
            Box::new(answer) as Answer
        });
        let early = Early {
            region: region.map(str::to_owned),
            key: key.clone(),
            watch,
            s3: s3.clone(),
            task,
        };
        calls.insert(bucket.to_owned(), StepId::PutObject, early);
    }

    #[tokio::test]
    async fn the_step_takes_the_early_answer_once_with_its_key() {
        let calls = EarlyCalls::default();
        let (client, _) = s3(true);
        start_upload(&calls, &client, ("b", &key()), None, false);
        let (upload, usable) = calls.take_put("b", None).await.expect("taken");
        assert!(usable);
        assert_eq!(upload.key, key());
        assert!(upload.answer.is_ok());
        assert_eq!(upload.landed(), Landed::Written);
        // Taken once: a second look (a re-run) asks again.
        assert!(calls.take_put("b", None).await.is_none());
        assert!(
            calls.take_list("b", None).await.is_none(),
            "nothing was listed early"
        );
    }

    #[tokio::test]
    async fn a_refusal_from_another_region_is_asked_again_but_a_written_probe_is_taken() {
        let calls = EarlyCalls::default();
        let (refusing, _) = s3(false);
        start_upload(&calls, &refusing, ("b", &key()), None, false);
        // The bucket turned out to be in eu-west-1: the step asks there itself.
        let (stale, usable) = calls.take_put("b", Some("eu-west-1")).await.expect("one");
        assert!(!usable);
        assert_eq!(stale.landed(), Landed::Nothing, "refused: nothing to clean");
        start_upload(&calls, &refusing, ("b", &key()), None, false);
        let (upload, usable) = calls.take_put("b", None).await.expect("same region");
        assert!(
            usable && upload.answer.is_err(),
            "a refusal in the step's own region is the step's answer"
        );
        let (writing, _) = s3(true);
        upload_written(&calls, &writing).await;
    }

    async fn upload_written(calls: &EarlyCalls, writing: &aws_sdk_s3::Client) {
        start_upload(calls, writing, ("b", &key()), None, false);
        let (upload, usable) = calls
            .take_put("b", Some("eu-west-1"))
            .await
            .expect("written");
        assert!(
            usable,
            "a written probe is the step's probe, wherever asked"
        );
        assert_eq!(upload.key, key());
        assert!(upload.answer.is_ok());
    }

    #[tokio::test]
    async fn a_probe_written_early_that_no_step_took_is_deleted_at_the_end() {
        let calls = EarlyCalls::default();
        let (writing, deletes) = s3(true);
        start_upload(&calls, &writing, ("b", &key()), None, false);
        let (refusing, no_deletes) = s3(false);
        start_upload(&calls, &refusing, ("c", &key()), None, false);
        calls.finish().await;
        assert_eq!(deletes.num_calls(), 1, "the written probe is removed");
        assert_eq!(
            no_deletes.num_calls(),
            0,
            "nothing was written, nothing is deleted"
        );
        assert!(calls.take_put("b", None).await.is_none());
    }

    #[tokio::test]
    async fn an_upload_that_went_out_unanswered_may_have_landed_and_is_deleted() {
        // Its last answer is a failure (a retry refused, say), but an attempt before it went
        // out and got no answer: the probe may be there, so it is removed all the same.
        let calls = EarlyCalls::default();
        let (refusing, deletes) = s3(false);
        start_upload(&calls, &refusing, ("b", &key()), None, true);
        let (upload, _) = calls.take_put("b", None).await.expect("one");
        assert_eq!(upload.landed(), Landed::Maybe);
        upload.remove("b").await.expect("removed");
        assert_eq!(deletes.num_calls(), 1);
        let (refusing, deletes) = s3(false);
        start_upload(&calls, &refusing, ("b", &key()), None, true);
        calls.finish().await;
        assert_eq!(deletes.num_calls(), 1, "removed at the end of the run too");
    }

    #[test]
    fn only_calls_that_need_nothing_but_the_session_start_early() {
        let early: Vec<StepId> = StepId::ALL
            .into_iter()
            .filter(|s| starts_early(*s))
            .collect();
        assert_eq!(
            early,
            vec![StepId::ListObjects, StepId::PutObject, StepId::AppObject]
        );
    }
}
