//! One upload of the probe, and what it may have left in the bucket. An upload that went out
//! and got no answer (the connection broke or timed out once the request was on its way, see
//! `aws::Unanswered`) may have landed, whatever the SDK's last retry said: such a probe is
//! deleted (its key is s3doctor's own, new and unique), and the step says that it was sent,
//! naming the key. A probe that cannot be removed is `probe.left-behind`, with the command
//! that removes it. Used by the `put-object` step and by the early upload (`early`).

use super::probe::{self, ProbeKey, PutAnswer};
use super::{CheckContext, Fact, StepOutcome};
use crate::answers::{self, Class, Failure, FindingSpec, Unreachable};
use crate::aws::Unanswered;
use crate::finding::{Finding, FindingCode};
use crate::operation::Operation;
use crate::runbook::StepId;

/// A probe upload that was asked for: its key, its answer, and whether an attempt of it went
/// out unanswered.
pub struct Upload {
    pub key: ProbeKey,
    pub answer: PutAnswer,
    /// Marked by every attempt (retries and second tries with the same key included) that
    /// went out and got no answer.
    pub watch: Unanswered,
    /// The client it went out with (its region): the one that deletes it.
    pub s3: aws_sdk_s3::Client,
}

/// What an upload may have left in the bucket.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Landed {
    /// S3 answered that it stored the probe.
    Written,
    /// An attempt went out and got no answer: the probe may be there.
    Maybe,
    /// Nothing: the server refused it, or it was never sent.
    Nothing,
}

impl Upload {
    /// Uploads the probe to `key` with `acl` (see `probe::put`), watching its attempts.
    pub async fn send(
        s3: aws_sdk_s3::Client,
        bucket: &str,
        key: ProbeKey,
        acl: Option<&str>,
    ) -> Self {
        let watch = Unanswered::default();
        let answer = probe::put(&s3, bucket, &key, acl, false, &watch).await;
        Upload {
            key,
            answer,
            watch,
            s3,
        }
    }

    pub fn landed(&self) -> Landed {
        match (&self.answer, self.watch.may_have_arrived()) {
            (Ok(_), _) => Landed::Written,
            (Err(_), true) => Landed::Maybe,
            (Err(_), false) => Landed::Nothing,
        }
    }

    /// Deletes the probe: only ever this upload's own key.
    pub async fn remove(&self, bucket: &str) -> Result<(), Failure> {
        probe::delete(&self.s3, bucket, &self.key, false)
            .await
            .map(|_| ())
            .map_err(|err| answers::failure(Operation::DeleteObject, &err))
    }
}

/// What the upload did to the bucket, in the words of a step's detail.
pub fn sent_words(landed: Landed, key: &ProbeKey) -> String {
    match landed {
        Landed::Written => format!("wrote probe {key}"),
        _ => format!("got no answer, so probe {key} may have been written"),
    }
}

/// Why a probe could not be removed, in a few words for a step's detail (the finding
/// carries the whole answer): how the delete got no answer, when it got none.
pub fn why_not_removed(failure: &Failure) -> String {
    match failure.class {
        Class::Unreachable(how) if how != Unreachable::Connection && how != Unreachable::Other => {
            how.words().to_owned()
        }
        _ => failure.evidence.one_line(),
    }
}

/// The `probe.left-behind` finding of the `put-object` row for a probe an upload wrote (or
/// may have written) and that could not be removed: `failure` says why.
pub fn left_behind(
    cx: &CheckContext,
    key: &ProbeKey,
    landed: Landed,
    failure: &Failure,
) -> Finding {
    let mut facts = cx.facts(None);
    facts.key = Some(key.as_str());
    let mut finding = FindingSpec {
        code: FindingCode::ProbeLeftBehind,
        step: StepId::PutObject,
        facts,
        source: None,
        statement: None,
        evidence: Some(failure.evidence.clone()),
    }
    .build();
    if landed == Landed::Maybe {
        finding.summary = format!(
            "The upload of probe {key} went out and got no answer, so it may be in the bucket. {}",
            finding.summary
        );
    }
    finding
}

/// The `put-object` step's outcome once its uploads are done: when one of them went out
/// unanswered and no probe is known to be written at its key, the probe may be there all the
/// same. It is deleted, and the detail says so; one that cannot be removed adds a
/// `probe.left-behind`.
pub async fn settle(cx: &CheckContext, upload: &Upload, mut outcome: StepOutcome) -> StepOutcome {
    let written = outcome
        .facts
        .iter()
        .any(|f| matches!(f, Fact::ProbeWritten(k) if *k == upload.key));
    if written || !upload.watch.may_have_arrived() {
        return outcome;
    }
    let sent = format!(
        "an upload of probe {} went out and got no answer, so it may have been written",
        upload.key
    );
    match upload.remove(cx.bucket()).await {
        Ok(()) => {
            outcome.detail = format!("{}; {sent}: s3doctor deleted it", outcome.detail);
        }
        Err(failure) => {
            outcome.detail = format!(
                "{}; {sent}, and it could not be removed: {}",
                outcome.detail,
                why_not_removed(&failure)
            );
            let finding = left_behind(cx, &upload.key, Landed::Maybe, &failure);
            outcome.findings.push(finding);
        }
    }
    outcome
}
