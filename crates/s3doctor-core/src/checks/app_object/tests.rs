//! The step's judgement of the app's reads, on answers built as the SDK reads AWS's (`told`),
//! and whole runs of the step against AWS's recorded answers (`replay`) for what depends on
//! what earlier steps learned (may the keys list the bucket?).

use super::*;
use crate::checks::BucketState;
use crate::checks::replay::{self, APP_KEY, Answer};
use crate::checks::{Fact, Status};
use crate::finding::{Basis, Evidence};
use crate::operation::Operation;

fn failure(operation: Operation, status: u16, code: &str, message: &str) -> Failure {
    let evidence = Evidence {
        operation: operation.name().into(),
        http_status: Some(status),
        error_code: (!code.is_empty()).then(|| code.to_owned()),
        message: (!message.is_empty()).then(|| message.to_owned()),
        ..Evidence::default()
    };
    let class = answers::classify(&evidence, &None);
    Failure {
        operation,
        evidence,
        class,
        bucket_region: None,
    }
}

fn kms_meta(size: i64) -> ObjectMeta {
    ObjectMeta {
        size: Some(size),
        encryption: Some("aws:kms".into()),
        kms_key: Some(
            "arn:aws:kms:us-west-2:123456789012:key/1234abcd-12ab-34cd-56ef-1234567890ab".into(),
        ),
        ..ObjectMeta::default()
    }
}

#[test]
fn a_bare_refusal_of_the_data_after_an_allowed_head_is_the_objects_kms_key() {
    // HeadObject needs s3:GetObject: S3 allowed it, and refused only the read of the data.
    let reads = AppReads {
        head: Ok(kms_meta(12)),
        get: Err(failure(
            Operation::GetObject,
            403,
            "AccessDenied",
            "Access Denied",
        )),
    };
    match told(reads) {
        Told::Kms(_, key) => assert!(key.is_some_and(|k| k.ends_with("1234567890ab"))),
        _ => panic!("not the KMS key"),
    }
    // Without KMS, or with the HeadObject refused too, the bare refusal stays bare.
    let plain = AppReads {
        head: Ok(ObjectMeta::default()),
        get: Err(failure(
            Operation::GetObject,
            403,
            "AccessDenied",
            "Access Denied",
        )),
    };
    assert!(matches!(told(plain), Told::Bare(_)));
    let both = AppReads {
        head: Err(failure(Operation::HeadObject, 403, "", "")),
        get: Err(failure(
            Operation::GetObject,
            403,
            "AccessDenied",
            "Access Denied",
        )),
    };
    assert!(matches!(told(both), Told::Bare(_)));
}

#[test]
fn the_gets_answer_decides_not_the_bodiless_head() {
    // A HEAD of an SSE-C object without its key is a bodiless 400, which alone reads as a
    // wrong region; the GET's body says what it is.
    let reads = AppReads {
        head: Err(failure(Operation::HeadObject, 400, "", "")),
        get: Err(failure(
            Operation::GetObject,
            400,
            "InvalidRequest",
            "The object was stored using a form of Server Side Encryption. The correct parameters must be provided to retrieve the object.",
        )),
    };
    match told(reads) {
        Told::Answered(f) => assert_eq!(f.class, Class::Refused(FindingCode::SseCRequired)),
        _ => panic!("not answered"),
    }
}

#[test]
fn an_empty_object_is_readable_though_its_first_byte_is_not() {
    let reads = AppReads {
        head: Ok(ObjectMeta {
            size: Some(0),
            ..ObjectMeta::default()
        }),
        get: Err(failure(
            Operation::GetObject,
            416,
            "InvalidRange",
            "The requested range is not satisfiable",
        )),
    };
    assert!(matches!(told(reads), Told::Readable(_)));
    assert_eq!(
        readable("k", &kms_meta(12)).detail,
        "read the first byte of k (12 bytes, encrypted with KMS key arn:aws:kms:us-west-2:123456789012:key/1234abcd-12ab-34cd-56ef-1234567890ab)"
    );
}

/// The recorded bare "Access Denied" (botocore), for the app's object.
fn bare() -> Answer {
    replay::fixtures()
        .into_iter()
        .find(|f| f.name == "s3-app-object-bare-access-denied.http")
        .expect("fixture")
        .answer
}

#[tokio::test]
async fn a_bare_403_for_keys_that_may_list_is_a_refusal_scoped_to_the_key() {
    let state = BucketState {
        listing: Some(true),
        ..BucketState::default()
    };
    let (outcome, replay) = replay::run_step_in(StepId::AppObject, &bare(), state).await;
    assert_eq!(outcome.status, Status::Fail, "{}", outcome.detail);
    let f = &outcome.findings[0];
    assert_eq!(f.code, FindingCode::PermissionMissing, "{}", f.summary);
    assert_eq!(
        (f.key.as_deref(), f.action.as_deref(), f.basis),
        (Some(APP_KEY), Some("s3:GetObject"), Basis::Inferred)
    );
    assert!(
        f.summary
            .contains(&format!("s3:GetObject on {}/{APP_KEY}", replay::BUCKET)),
        "{}",
        f.summary
    );
    // Read only: to S3, a HEAD and a GET of the one byte, of the app's key, nothing else (the
    // rest are the IAM reads of the policies, shared with identity-policies).
    let sent = replay.requests.lock().unwrap().clone();
    let s3: Vec<&String> = sent.iter().filter(|r| r.contains(".s3.")).collect();
    assert_eq!(s3.len(), 2, "{sent:?}");
    for request in s3 {
        assert!(
            request.starts_with("HEAD ") || request.starts_with("GET "),
            "{request}"
        );
        assert!(request.contains("/finance/q3-report.pdf"), "{request}");
    }
    assert!(
        sent.iter()
            .all(|r| r.contains(".s3.") || r.starts_with("POST https://iam.")),
        "{sent:?}"
    );
}

#[tokio::test]
async fn a_bare_403_for_keys_that_may_not_list_says_both_causes() {
    let state = BucketState {
        listing: Some(false),
        ..BucketState::default()
    };
    let (outcome, _) = replay::run_step_in(StepId::AppObject, &bare(), state).await;
    let f = &outcome.findings[0];
    assert_eq!(
        (f.code, f.basis),
        (FindingCode::ObjectNotFound, Basis::Inferred)
    );
    assert!(f.summary.contains("both are possible"), "{}", f.summary);
    assert!(f.summary.contains("s3:ListBucket"), "{}", f.summary);
    assert!(
        outcome
            .detail
            .contains("does not exist, or reading it is refused")
    );
    // No fact is learned from the app's object: it changes nothing for the bucket's steps.
    assert!(
        !outcome.facts.iter().any(|f| matches!(f, Fact::Listing(_))),
        "{:?}",
        outcome.facts
    );
}

#[tokio::test]
async fn a_head_that_names_a_kms_key_and_a_refused_read_is_that_keys_refusal() {
    // HeadObject answered as S3 does for an SSE-KMS object (API_HeadObject: the encryption
    // and key-id headers); the GET of its data refused with the recorded bare Access Denied.
    let key = "arn:aws:kms:us-west-2:111122223333:key/1234abcd-12ab-34cd-56ef-1234567890ab";
    let head = Answer {
        status: 200,
        headers: vec![
            ("content-length".into(), "4096".into()),
            ("x-amz-server-side-encryption".into(), "aws:kms".into()),
            (
                "x-amz-server-side-encryption-aws-kms-key-id".into(),
                key.into(),
            ),
        ],
        body: String::new(),
    };
    let replay = replay::Replay::new(bare()).route("HEAD ", head);
    let (outcome, _) = replay::run_replay(StepId::AppObject, replay, BucketState::default()).await;
    assert_eq!(outcome.status, Status::Fail, "{}", outcome.detail);
    let f = &outcome.findings[0];
    assert_eq!(f.code, FindingCode::Kms, "{}", f.summary);
    assert_eq!(
        (f.action.as_deref(), f.resource.as_deref(), f.key.as_deref()),
        (Some("kms:Decrypt"), Some(key), Some(APP_KEY))
    );
    assert_eq!(f.basis, Basis::Inferred);
    assert!(f.summary.contains("Known by inference"), "{}", f.summary);
    assert!(outcome.detail.contains(key), "{}", outcome.detail);
}
