//! The bucket steps: `bucket-exists` (HeadBucket, with "did you mean" from ListBuckets) and
//! `bucket-region` (the bucket's region against the configured one).

use aws_sdk_s3::types::BucketLocationConstraint;

use super::{CheckContext, CheckResult, Fact, KeysVerdict, NotChecked, StepOutcome};
use crate::answers::{self, Class, FindingSpec};
use crate::finding::FindingCode;
use crate::operation::Operation;
use crate::runbook::StepId;

pub(super) async fn exists(cx: &CheckContext) -> CheckResult {
    let s3 = cx.s3()?;
    let bucket = cx.bucket();
    match s3.head_bucket().bucket(bucket).send().await {
        Ok(out) => {
            let mut outcome = StepOutcome::pass(format!("{bucket} exists"));
            if let Some(region) = out.bucket_region() {
                outcome = outcome.with_fact(Fact::BucketRegion(region.to_owned()));
            }
            Ok(outcome)
        }
        Err(err) => {
            let failure = answers::with_signing_region(
                answers::failure(Operation::HeadBucket, &err),
                cx.signing_region().as_deref(),
            );
            let region_fact = match (&failure.bucket_region, &failure.class) {
                (Some(r), _) => Some(Fact::BucketRegion(r.clone())),
                (None, Class::WrongRegion(None)) => Some(Fact::RegionMismatch),
                (None, _) => None,
            };
            let outcome = match &failure.class {
                Class::AccessDenied(_) => forbidden(cx, &failure).await,
                // A bodiless 400 without the region header is what AWS answers to a request
                // signed for another region, and to an expired or invalid session token too.
                Class::WrongRegion(None) => {
                    if let Some(unknown) = keys_not_accepted(cx, &failure).await {
                        return Ok(unknown);
                    }
                    in_another_region(cx, &failure)
                }
                Class::WrongRegion(_) => in_another_region(cx, &failure),
                Class::BucketNotFound => {
                    let mut outcome = cx.failed(StepId::BucketExists, failure);
                    outcome.blocking = true;
                    if let Some(similar) = did_you_mean(cx, &s3).await {
                        outcome.detail = format!("{}; did you mean {similar}?", outcome.detail);
                        for f in &mut outcome.findings {
                            f.remedy = format!("Did you mean {similar}? {}", f.remedy);
                        }
                    }
                    outcome
                }
                _ => {
                    let mut outcome = cx.failed(StepId::BucketExists, failure);
                    outcome.blocking = true;
                    outcome
                }
            };
            Ok(match region_fact {
                Some(f) => outcome.with_fact(f),
                None => outcome,
            })
        }
    }
}

/// HeadBucket's 400 or 301 said the request went to another region than the bucket's.
fn in_another_region(cx: &CheckContext, failure: &answers::Failure) -> StepOutcome {
    StepOutcome::pass(format!(
        "{} exists, in another region (HeadBucket answered {})",
        cx.bucket(),
        failure.evidence.http_status.unwrap_or_default()
    ))
    .with_evidence(failure.evidence.clone())
}

/// HeadBucket answered 403. For keys the server accepted, that proves the bucket exists (a
/// missing one is 404) and leaves whether they may list it to list-objects (the emulator
/// answers 403 to everyone). Otherwise a 403 proves nothing about the bucket: a warning that
/// says so, not a pass. A HEAD answer has no body, so the 403 alone cannot tell the two apart.
async fn forbidden(cx: &CheckContext, failure: &answers::Failure) -> StepOutcome {
    if let Some(unknown) = keys_not_accepted(cx, failure).await {
        return unknown;
    }
    StepOutcome::pass(format!(
        "{} exists (HeadBucket answered 403: whether it may be listed is checked next)",
        cx.bucket()
    ))
    .with_evidence(failure.evidence.clone())
}

/// The warning for a bodiless HeadBucket refusal when the server refused the keys themselves
/// (or did not say whether it accepts them; see `keys`): then the answer says nothing about
/// the bucket, its existence or its region. `None` when the keys were accepted.
async fn keys_not_accepted(cx: &CheckContext, failure: &answers::Failure) -> Option<StepOutcome> {
    let bucket = cx.bucket();
    let status = failure.evidence.http_status.unwrap_or_default();
    let caps = cx.capabilities().await;
    let server = caps.kind.who();
    let asked = if caps.s3_only() {
        "ListBuckets"
    } else {
        "GetCallerIdentity"
    };
    let detail = match cx.keys_verdict().await {
        KeysVerdict::Accepted => return None,
        KeysVerdict::Refused(code) => format!(
            "not known: {server} refused these keys ({code}, see identity), so HeadBucket's \
             {status} says nothing about whether {bucket} exists or where"
        ),
        KeysVerdict::Unknown => format!(
            "not known: HeadBucket answered {status} without a body, and whether {server} \
             accepts these keys could not be told ({asked} did not say), so it says nothing \
             about whether {bucket} exists or where"
        ),
    };
    Some(StepOutcome::warn(detail).with_evidence(failure.evidence.clone()))
}

/// The closest bucket names this principal can see, when ListBuckets is allowed.
async fn did_you_mean(cx: &CheckContext, s3: &aws_sdk_s3::Client) -> Option<String> {
    let out = s3.list_buckets().send().await.ok()?;
    let wanted = cx.bucket();
    let mut scored: Vec<(usize, &str)> = out
        .buckets()
        .iter()
        .filter_map(|b| b.name())
        .map(|name| (strsim::levenshtein(wanted, name), name))
        .filter(|(d, name)| *d <= (wanted.len().max(name.len()) / 3).max(2))
        .collect();
    scored.sort();
    let names: Vec<&str> = scored.iter().take(3).map(|(_, n)| *n).collect();
    (!names.is_empty()).then(|| names.join(", "))
}

pub(super) async fn region(cx: &CheckContext) -> CheckResult {
    let session = cx.session()?;
    let bucket_region = located(cx).await?;
    let fact = Fact::BucketRegion(bucket_region.clone());
    if session.region.as_deref() != Some(bucket_region.as_str())
        && let Some(outcome) = own_region_name(cx, &bucket_region).await
    {
        return Ok(outcome.with_fact(fact));
    }
    Ok(compare_regions(
        cx,
        session.region.as_deref(),
        bucket_region,
    ))
}

/// The bucket's region: as S3 named it already, else from `GetBucketLocation` (or the region
/// its refusal names). `Err` says why the region cannot be told.
async fn located(cx: &CheckContext) -> Result<String, NotChecked> {
    if let Some(r) = &cx.state.bucket_region {
        return Ok(r.clone());
    }
    let s3 = cx.s3()?;
    let bucket = cx.bucket();
    let err = match s3.get_bucket_location().bucket(bucket).send().await {
        Ok(out) => return Ok(location_to_region(out.location_constraint())),
        Err(err) => err,
    };
    let failure = answers::failure(Operation::GetBucketLocation, &err);
    if let Class::WrongRegion(Some(r)) = &failure.class {
        return Ok(r.clone());
    }
    // Refused keys or no answer are what they are, never a region.
    if cx.state.region_mismatch && !failure.blocks_everything() {
        // HeadBucket said "wrong region" without naming the right one, and the bucket's
        // location cannot be read either.
        let finding = FindingSpec {
            code: FindingCode::WrongRegion,
            step: StepId::BucketRegion,
            facts: cx.facts(None),
            source: None,
            statement: None,
            evidence: Some(failure.evidence.clone()),
        }
        .build();
        return Err(NotChecked::blocked(StepOutcome {
            status: super::Status::Fail,
            detail: format!(
                "S3 refused the configured region for {bucket} (HeadBucket answered 400 without a region) and s3:GetBucketLocation is not allowed to say which region it is"
            ),
            evidence: Some(failure.evidence),
            findings: vec![finding],
            facts: Vec::new(),
            ran: true,
            blocking: false,
        }));
    }
    if matches!(failure.class, Class::AccessDenied(_)) {
        return Err(NotChecked::blocked(
            StepOutcome::warn(
                "could not tell the bucket's region: no x-amz-bucket-region header and s3:GetBucketLocation is not allowed",
            )
            .with_evidence(failure.evidence),
        ));
    }
    Err(NotChecked::blocked(
        cx.failed(StepId::BucketRegion, failure),
    ))
}

/// The bucket's region against the configured one: the same passes; another is a wrong
/// region (the next steps ask there); none configured is a warning naming the one to set.
fn compare_regions(
    cx: &CheckContext,
    configured: Option<&str>,
    bucket_region: String,
) -> StepOutcome {
    let bucket = cx.bucket();
    let fact = Fact::BucketRegion(bucket_region.clone());
    match configured {
        Some(configured) if configured == bucket_region => {
            StepOutcome::pass(format!("{bucket} is in {bucket_region}, as configured")).with_fact(fact)
        }
        Some(configured) => {
            let mut cx2 = cx.clone();
            cx2.state.bucket_region = Some(bucket_region.clone());
            let finding = FindingSpec {
                code: FindingCode::WrongRegion,
                step: StepId::BucketRegion,
                facts: cx2.facts(None),
                source: None,
                statement: None,
                evidence: None,
            }
            .build();
            StepOutcome {
                status: super::Status::Fail,
                detail: format!(
                    "{bucket} is in {bucket_region}, but the configured region is {configured}; the next steps check in {bucket_region}"
                ),
                evidence: None,
                findings: vec![finding],
                facts: vec![fact, Fact::UseRegion(bucket_region)],
                blocking: false,
                ran: true,
            }
        }
        None => StepOutcome::warn(format!(
            "{bucket} is in {bucket_region}; no region is configured, so the app must set {bucket_region}"
        ))
        .with_fact(fact)
        .with_fact(Fact::UseRegion(bucket_region)),
    }
}

/// On a custom endpoint whose location names are its own (an S3-only server such as Ceph RGW,
/// whose GetBucketLocation answers its zonegroup, or any name that is not an AWS region: R2's
/// `auto`), a different name is a problem only when the server rejects requests signed for the
/// configured region. One HeadBucket signed for it tells; `None` when it is rejected (then the
/// usual wrong-region finding follows) or when the names are AWS's to compare.
async fn own_region_name(cx: &CheckContext, bucket_region: &str) -> Option<StepOutcome> {
    cx.endpoint()?;
    let caps = cx.capabilities().await;
    if !caps.s3_only() && crate::endpoint::is_aws_region(bucket_region) {
        return None;
    }
    let session = cx.session().ok()?;
    let bucket = cx.bucket();
    let signing = session
        .clients
        .region()
        .unwrap_or(crate::aws::FALLBACK_REGION);
    if let Err(err) = session.clients.s3.head_bucket().bucket(bucket).send().await {
        let failure = answers::failure(Operation::HeadBucket, &err);
        if matches!(failure.class, Class::WrongRegion(_)) {
            return None;
        }
    }
    let configured = match &session.region {
        Some(r) => format!("the configured region {r}"),
        None => format!("{signing} (no region is configured)"),
    };
    Some(StepOutcome::pass(format!(
        "{} calls {bucket}'s location \"{bucket_region}\" (its own name, not an AWS region to compare) and accepts requests signed for {configured}",
        caps.kind.label()
    )))
}

/// GetBucketLocation's historical answers: empty means us-east-1, `EU` means eu-west-1.
fn location_to_region(constraint: Option<&BucketLocationConstraint>) -> String {
    match constraint.map(BucketLocationConstraint::as_str) {
        None | Some("") => "us-east-1".to_owned(),
        Some("EU") => "eu-west-1".to_owned(),
        Some(other) => other.to_owned(),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn legacy_location_constraints_map_to_regions() {
        assert_eq!(location_to_region(None), "us-east-1");
        assert_eq!(
            location_to_region(Some(&BucketLocationConstraint::from(""))),
            "us-east-1"
        );
        assert_eq!(
            location_to_region(Some(&BucketLocationConstraint::Eu)),
            "eu-west-1"
        );
        assert_eq!(
            location_to_region(Some(&BucketLocationConstraint::EuWest2)),
            "eu-west-2"
        );
    }
}
