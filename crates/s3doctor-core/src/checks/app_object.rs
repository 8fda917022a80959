//! The `app-object` step (`--key KEY`, one row per bucket and key): can the app read its own
//! object, and if not, why? It takes the reads `object_reads` made (the app's HeadObject and
//! one-byte GET; with `--admin-profile` the admin's HeadObject and the ACLs) and tells apart a
//! key that is not there, an object stored with a customer key (SSE-C) or archived, its own
//! KMS key refusing, an object another account owns, and a Deny or a missing Allow scoped to
//! the key (the policies evaluated on the object's ARN, in `refusal`). It never writes.

mod refusal;

use super::object_reads::{self, AdminReads, AppReads, ObjectMeta, Ownership};
use super::{CheckContext, CheckResult, NotChecked, StepOutcome};
use crate::answers::access_denied::AccessDenied;
use crate::answers::{self, Class, Facts, Failure, FindingSpec};
use crate::finding::{Finding, FindingCode};
use crate::runbook::StepId;

const STEP: StepId = StepId::AppObject;

/// What the app's two reads say, before any policy is read.
enum Told {
    /// The first byte came (or the object is empty: a range of it cannot be satisfied).
    Readable(ObjectMeta),
    /// 404: the key is not there.
    Missing(Failure),
    /// A KMS key refused: AWS said so, or S3 allowed the HeadObject (which needs
    /// s3:GetObject) of an SSE-KMS object and refused only the read of its data.
    Kms(Failure, Option<String>),
    /// A bare 403, AWS said no more: the admin's reads and the policies must tell.
    Bare(Failure),
    /// Any other answer, which says itself what it is (SSE-C, archived, a detailed denial,
    /// a wrong region, refused keys, no answer …).
    Answered(Failure),
}

/// `app-object`: the reads of the app's object, judged.
pub(super) async fn app_object(cx: &CheckContext) -> CheckResult {
    let key = cx
        .key
        .clone()
        .ok_or_else(|| NotChecked::nothing("no object named (--key)"))?;
    let reads = object_reads::app(cx, &key)
        .await
        .ok_or_else(|| NotChecked::nothing("no credentials"))?;
    let admin = object_reads::admin(cx, &key).await;
    let mut outcome = match told(reads) {
        Told::Readable(meta) => readable(&key, &meta),
        Told::Missing(failure) => missing(cx, &key, failure),
        Told::Kms(failure, kms_key) => kms_refused(cx, &key, failure, kms_key),
        Told::Bare(failure) => refusal::judge(cx, &key, failure, admin.as_ref()).await,
        Told::Answered(failure) => cx.failed(STEP, failure),
    };
    if let Some(admin) = &admin {
        outcome.detail.push_str(&admin_note(admin));
    }
    Ok(outcome)
}

/// Sorts the app's reads: the GET's answer first (it has a body that says why; a HEAD answer
/// never has one), the HeadObject's for what the GET did not say.
fn told(reads: AppReads) -> Told {
    let AppReads { head, get } = reads;
    let failure = match get {
        Ok(meta) => return Told::Readable(meta),
        Err(failure) => failure,
    };
    let head_meta = head.ok();
    let empty = head_meta.as_ref().is_some_and(|m| m.size == Some(0));
    if empty && failure.evidence.http_status == Some(416) {
        return Told::Readable(head_meta.unwrap_or_default());
    }
    match &failure.class {
        Class::KeyNotFound => Told::Missing(failure),
        Class::Kms(_) => Told::Kms(failure, head_meta.and_then(|m| m.kms_key)),
        Class::AccessDenied(denied) if denied.kind.is_none() => match head_meta {
            Some(meta) if meta.is_kms() => Told::Kms(failure, meta.kms_key),
            _ => Told::Bare(failure),
        },
        _ => Told::Answered(failure),
    }
}

fn readable(key: &str, meta: &ObjectMeta) -> StepOutcome {
    let about = meta.describe();
    let about = if about.is_empty() {
        String::new()
    } else {
        format!(" ({about})")
    };
    StepOutcome::pass(format!("read the first byte of {key}{about}"))
}

/// 404: the key does not exist (AWS says so).
fn missing(cx: &CheckContext, key: &str, failure: Failure) -> StepOutcome {
    let finding = object_finding(cx, FindingCode::ObjectNotFound, failure.evidence.clone());
    failed(
        format!("{key} does not exist (S3 answered 404)"),
        failure,
        finding,
    )
}

/// The object's KMS key refused the read: the key AWS named, else the one its HeadObject
/// named; the `kms-key` step (with `--admin-profile`) then judges that key's policy.
fn kms_refused(
    cx: &CheckContext,
    key: &str,
    failure: Failure,
    head_key: Option<String>,
) -> StepOutcome {
    let denied = match &failure.class {
        Class::Kms(d) | Class::AccessDenied(d) => d.clone(),
        _ => AccessDenied::default(),
    };
    let kms_key = answers::kms_key(&failure.evidence, &denied).or(head_key);
    let action = denied
        .action
        .clone()
        .filter(|a| a.starts_with("kms:"))
        .unwrap_or_else(|| "kms:Decrypt".to_owned());
    let mut finding = FindingSpec {
        code: FindingCode::Kms,
        step: STEP,
        facts: Facts {
            kms_key: kms_key.as_deref(),
            ..cx.facts(Some(&action))
        },
        source: denied.source,
        statement: None,
        evidence: Some(failure.evidence.clone()),
    }
    .build();
    if matches!(failure.class, Class::AccessDenied(_)) {
        finding.summary.push_str(
            " Known by inference: S3 allowed the HeadObject (which needs s3:GetObject) and refused only the read of the encrypted data.",
        );
    }
    let named = kms_key.map(|k| format!(" {k}")).unwrap_or_default();
    failed(
        format!("the object's KMS key{named} refused {action} for {key}"),
        failure,
        finding,
    )
}

/// A finding about the app's object (the context's key), built from `evidence`.
fn object_finding(
    cx: &CheckContext,
    code: FindingCode,
    evidence: crate::finding::Evidence,
) -> Finding {
    FindingSpec {
        code,
        step: STEP,
        facts: cx.facts(Some("s3:GetObject")),
        source: None,
        statement: None,
        evidence: Some(evidence),
    }
    .build()
}

/// A failed outcome: its detail, the app's answer as evidence, and the finding.
fn failed(detail: String, failure: Failure, finding: Finding) -> StepOutcome {
    let mut o = StepOutcome::failed(detail).with_evidence(failure.evidence);
    o.findings.push(finding);
    o
}

/// What the admin profile read of the object, for the detail line: its owner, its ACL's
/// grants and the bucket's Object Ownership.
fn admin_note(admin: &AdminReads) -> String {
    let mut parts = Vec::new();
    match (admin.owner(), admin.other_owner()) {
        (_, Some(owner)) => parts.push(format!("owned by {owner}, not by the bucket owner")),
        (Some(owner), None) if admin.bucket_owner.as_ref() == Some(owner) => {
            parts.push("owned by the bucket owner".to_owned())
        }
        _ => {}
    }
    match &admin.acl {
        Ok(acl) if !acl.grants.is_empty() => {
            parts.push(format!("its ACL grants {}", acl.grants.join(", ")))
        }
        Ok(_) => {}
        Err(failure) => parts.push(format!(
            "its ACL could not be read ({})",
            failure.evidence.one_line()
        )),
    }
    match &admin.ownership {
        Ownership::Enforced => {
            parts.push("Object Ownership BucketOwnerEnforced (ACLs off)".to_owned())
        }
        Ownership::WriterMayOwn(rule) => parts.push(format!("Object Ownership {rule}")),
        Ownership::Unknown => {}
    }
    if parts.is_empty() {
        return String::new();
    }
    format!("; read with the admin profile: {}", parts.join("; "))
}

#[cfg(test)]
mod tests;
