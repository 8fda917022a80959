//! Calls started before their step is due. At real distance what counts is how many round
//! trips stand in a row, so once the credentials resolve the first call of `list-objects`
//! and `put-object` goes out at once, alongside identity and the bucket check, instead of
//! after them. The step itself still runs when its needs have finished, with what they
//! learned, and takes the answer instead of asking again: its report is the same. An answer
//! is taken only when it was asked the way the step would ask now (same region), or when it
//! succeeded (a written probe is the step's probe); otherwise the step asks itself. A probe
//! that an early upload wrote and no step took (the step was skipped) is deleted when the run
//! ends.

use std::any::Any;
use std::collections::HashMap;
use std::sync::Mutex;

use aws_sdk_s3::operation::list_objects_v2::{ListObjectsV2Error, ListObjectsV2Output};
use aws_sdk_s3::operation::put_object::{PutObjectError, PutObjectOutput};
use aws_smithy_runtime_api::client::orchestrator::HttpResponse;
use aws_smithy_runtime_api::client::result::SdkError;
use tokio::task::JoinHandle;

use super::{CheckContext, StepOutcome, objects, retries};
use crate::diagnose::{self, Failure, FindingSpec};
use crate::finding::FindingCode;
use crate::operation::Operation;
use crate::runbook::StepId;

/// The answer of an early `ListObjectsV2`.
pub type ListAnswer = Result<ListObjectsV2Output, SdkError<ListObjectsV2Error, HttpResponse>>;
/// The answer of an early probe upload.
pub type PutAnswer = Result<PutObjectOutput, SdkError<PutObjectError, HttpResponse>>;

type Answer = Box<dyn Any + Send>;

struct Early {
    /// The region the call went to (`None`: the session's).
    region: Option<String>,
    /// The probe key an upload wrote to.
    key: String,
    s3: aws_sdk_s3::Client,
    task: JoinHandle<Answer>,
}

/// The early calls of one run, by bucket and step; each is taken at most once.
#[derive(Default)]
pub struct EarlyCalls {
    calls: Mutex<HashMap<(String, StepId), Early>>,
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
    matches!(step, StepId::ListObjects | StepId::PutObject)
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
    let s3 = cx.s3_with(session);
    let key = cx.probe_key.clone();
    let task: JoinHandle<Answer> = match step {
        StepId::ListObjects => {
            let req = objects::list_request(&s3, cx);
            tokio::spawn(async move { Box::new(req.send().await as ListAnswer) as Answer })
        }
        _ => {
            let (s3, bucket, key, acl) =
                (s3.clone(), bucket.clone(), key.clone(), cx.run.acl.clone());
            tokio::spawn(async move {
                let answer: PutAnswer =
                    retries::put_probe(&s3, &bucket, &key, acl.as_deref(), false).await;
                Box::new(answer) as Answer
            })
        }
    };
    let early = Early {
        region: cx.state.use_region.clone(),
        key,
        s3,
        task,
    };
    cx.cache.early.insert(bucket, step, early);
    true
}

/// True when `step` for `bucket` is a `put-object` row whose upload went out early and was
/// not taken.
pub fn wrote_early(cache: &super::RunCache, step: StepId, bucket: Option<&str>) -> bool {
    step == StepId::PutObject
        && bucket.is_some_and(|b| {
            cache
                .early
                .lock()
                .contains_key(&(b.to_owned(), StepId::PutObject))
        })
}

/// A `put-object` row skipped because a step it needs did not pass, once its early upload
/// is withdrawn: what the upload wrote is deleted (s3doctor's own new key), and the skip is
/// reported as ever; only a probe that could not be removed adds a `probe.left-behind`.
pub async fn withdraw(cx: &CheckContext, mut skipped: StepOutcome) -> StepOutcome {
    let Some(early) = cx.cache.early.remove(cx.bucket(), StepId::PutObject) else {
        return skipped;
    };
    let Err(left) = early.withdraw(cx.bucket()).await else {
        return skipped;
    };
    let key = left.key;
    if !left.written {
        // The upload's answer was lost (the connection broke): whether it arrived is unknown.
        skipped.detail = format!(
            "{}; an upload sent before that answered got no answer either, so probe {key} may be in the bucket",
            skipped.detail
        );
        return skipped;
    }
    let mut facts = cx.facts(None);
    facts.key = Some(&key);
    let finding = FindingSpec {
        code: FindingCode::ProbeLeftBehind,
        step: StepId::PutObject,
        facts,
        source: None,
        statement: None,
        evidence: Some(left.failure.evidence.clone()),
    }
    .build();
    skipped.detail = format!(
        "{}; its upload, sent before that answered, wrote probe {key}, which could not be removed",
        skipped.detail
    );
    skipped.findings.push(finding);
    skipped
}

/// A probe an early upload wrote (or may have written) that could not be deleted.
struct Left {
    key: String,
    /// True when the upload succeeded; false when its answer was lost.
    written: bool,
    failure: Failure,
}

impl EarlyCalls {
    fn lock(&self) -> std::sync::MutexGuard<'_, HashMap<(String, StepId), Early>> {
        self.calls
            .lock()
            .unwrap_or_else(std::sync::PoisonError::into_inner)
    }

    fn insert(&self, bucket: String, step: StepId, early: Early) {
        if let Some(replaced) = self.lock().insert((bucket, step), early) {
            replaced.task.abort();
        }
    }

    /// The answer to `step`'s early call for `bucket` and the probe key it used, when the
    /// step may take it: asked in `region` (where the step would ask now), or successful.
    async fn take<O: Send + 'static, E: Send + 'static>(
        &self,
        bucket: &str,
        step: StepId,
        region: Option<&str>,
    ) -> Option<(String, Result<O, E>)> {
        let early = self.lock().remove(&(bucket.to_owned(), step))?;
        let same_region = early.region.as_deref() == region;
        // A task that panicked has no answer: the step asks itself.
        let answer = *early.task.await.ok()?.downcast::<Result<O, E>>().ok()?;
        (same_region || answer.is_ok()).then_some((early.key, answer))
    }

    /// The early `ListObjectsV2` answer for `bucket`, when the step may take it.
    pub async fn take_list(&self, bucket: &str, region: Option<&str>) -> Option<ListAnswer> {
        let (_, answer) = self.take(bucket, StepId::ListObjects, region).await?;
        Some(answer)
    }

    /// The early probe upload's key and answer for `bucket`, when the step may take it.
    pub async fn take_put(
        &self,
        bucket: &str,
        region: Option<&str>,
    ) -> Option<(String, PutAnswer)> {
        self.take(bucket, StepId::PutObject, region).await
    }

    fn remove(&self, bucket: &str, step: StepId) -> Option<Early> {
        self.lock().remove(&(bucket.to_owned(), step))
    }

    /// Ends the early calls no step took: a probe an early upload wrote is deleted (it is
    /// s3doctor's own new key), the rest are cancelled. Called when a run ends.
    pub async fn finish(&self) {
        let left: Vec<_> = self.lock().drain().collect();
        let mut cleanups = tokio::task::JoinSet::new();
        for ((bucket, step), early) in left {
            if step != StepId::PutObject {
                early.task.abort();
                continue;
            }
            cleanups.spawn(async move {
                if let Err(left) = early.withdraw(&bucket).await {
                    tracing::warn!(
                        target: "s3doctor::engine",
                        bucket,
                        key = left.key,
                        written = left.written,
                        error = left.failure.evidence.one_line(),
                        "a probe written early could not be removed"
                    );
                }
            });
        }
        while cleanups.join_next().await.is_some() {}
    }
}

impl Early {
    /// Waits for an early upload and deletes what it wrote; `Err` names the probe that is
    /// still there and why.
    async fn withdraw(self, bucket: &str) -> Result<(), Left> {
        let Ok(answer) = self.task.await else {
            return Ok(());
        };
        let written = match answer.downcast_ref::<PutAnswer>() {
            Some(Ok(_)) => true,
            // No answer at all, and not for want of time: the connection broke, perhaps after
            // the upload arrived. Deleting s3doctor's own new key is harmless either way. A
            // refused connection sent nothing, so nothing can be there.
            Some(Err(err)) if err.raw_response().is_none() => {
                let failure = diagnose::failure(Operation::PutObject, err);
                if diagnose::timed_out(&failure.evidence) || diagnose::refused(&failure.evidence) {
                    return Ok(());
                }
                false
            }
            _ => return Ok(()),
        };
        match self
            .s3
            .delete_object()
            .bucket(bucket)
            .key(&self.key)
            .send()
            .await
        {
            Ok(_) => Ok(()),
            Err(err) => Err(Left {
                key: self.key,
                written,
                failure: diagnose::failure(Operation::DeleteObject, &err),
            }),
        }
    }
}

#[cfg(test)]
mod tests {
    use aws_sdk_s3::operation::delete_object::DeleteObjectOutput;
    use aws_smithy_mocks::{RuleMode, mock, mock_client};
    use aws_smithy_runtime_api::http::StatusCode;
    use aws_smithy_types::body::SdkBody;

    use super::*;

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
            .match_requests(|r| r.key() == Some("probe-1"))
            .then_output(|| DeleteObjectOutput::builder().build());
        let client = mock_client!(aws_sdk_s3, RuleMode::MatchAny, [&put, &delete]);
        (client, delete)
    }

    /// Starts an upload of `key` the way `start` does, asked in `region`.
    fn upload(
        calls: &EarlyCalls,
        s3: &aws_sdk_s3::Client,
        bucket: &str,
        key: &str,
        region: Option<&str>,
    ) {
        let client = s3.clone();
        let (b, k) = (bucket.to_owned(), key.to_owned());
        let task = tokio::spawn(async move {
            let answer: PutAnswer = retries::put_probe(&client, &b, &k, None, false).await;
            Box::new(answer) as Answer
        });
        let early = Early {
            region: region.map(str::to_owned),
            key: key.to_owned(),
            s3: s3.clone(),
            task,
        };
        calls.insert(bucket.to_owned(), StepId::PutObject, early);
    }

    #[tokio::test]
    async fn the_step_takes_the_early_answer_once_with_its_key() {
        let calls = EarlyCalls::default();
        let (client, _) = s3(true);
        upload(&calls, &client, "b", "probe-1", None);
        let (key, answer) = calls.take_put("b", None).await.expect("taken");
        assert_eq!(key, "probe-1");
        assert!(answer.is_ok());
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
        upload(&calls, &refusing, "b", "probe-1", None);
        // The bucket turned out to be in eu-west-1: the step asks there itself.
        assert!(calls.take_put("b", Some("eu-west-1")).await.is_none());
        upload(&calls, &refusing, "b", "probe-1", None);
        let (_, answer) = calls.take_put("b", None).await.expect("same region");
        assert!(
            answer.is_err(),
            "a refusal in the step's own region is the step's answer"
        );
        let (writing, _) = s3(true);
        upload(&calls, &writing, "b", "probe-1", None);
        let (key, answer) = calls
            .take_put("b", Some("eu-west-1"))
            .await
            .expect("written");
        assert_eq!(key, "probe-1");
        assert!(answer.is_ok());
    }

    #[tokio::test]
    async fn a_probe_written_early_that_no_step_took_is_deleted_at_the_end() {
        let calls = EarlyCalls::default();
        let (writing, deletes) = s3(true);
        upload(&calls, &writing, "b", "probe-1", None);
        let (refusing, no_deletes) = s3(false);
        upload(&calls, &refusing, "c", "probe-1", None);
        calls.finish().await;
        assert_eq!(deletes.num_calls(), 1, "the written probe is removed");
        assert_eq!(
            no_deletes.num_calls(),
            0,
            "nothing was written, nothing is deleted"
        );
        assert!(calls.take_put("b", None).await.is_none());
    }

    #[test]
    fn only_calls_that_need_nothing_but_the_session_start_early() {
        let early: Vec<StepId> = StepId::ALL
            .into_iter()
            .filter(|s| starts_early(*s))
            .collect();
        assert_eq!(early, vec![StepId::ListObjects, StepId::PutObject]);
    }
}
