//! Unit tests of the reading: the checklist's finding for the same answer, and the command.

use super::*;
use crate::answers::pasted;

fn reading(text: &str) -> Reading {
    read(&pasted::read(text).expect("an AWS error"))
}

#[test]
fn a_detailed_message_gives_the_cause_aws_named_and_the_command() {
    let r = reading(
        "An error occurred (AccessDenied) when calling the PutObject operation: User: arn:aws:sts::123456789012:assumed-role/App/i-0abc is not authorized to perform: s3:PutObject on resource: \"arn:aws:s3:::my-bucket/in put/a.txt\" with an explicit deny in a resource-based policy",
    );
    assert_eq!(r.cause, FindingCode::ExplicitDeny);
    assert_eq!(r.basis, Basis::AwsMessage);
    assert_eq!(r.source, Some(DenySource::BucketPolicy));
    assert_eq!(
        r.role_arn.as_deref(),
        Some("arn:aws:iam::123456789012:role/App")
    );
    assert_eq!(
        r.command,
        "s3doctor check --bucket my-bucket --key 'in put/a.txt' --role-arn arn:aws:iam::123456789012:role/App"
    );
    assert!(r.command_complete);
    assert!(r.other_causes.is_empty());
}

#[test]
fn a_bare_refusal_is_inferred_and_names_what_else_answers_the_same() {
    let r = reading(
        "An error occurred (AccessDenied) when calling the ListObjectsV2 operation: Access Denied",
    );
    assert_eq!(r.cause, FindingCode::PermissionMissing);
    assert_eq!(r.basis, Basis::Inferred);
    assert_eq!(r.step, StepId::ListObjects);
    assert!(r.summary.contains("did not say why"), "{}", r.summary);
    assert!(!r.other_causes.is_empty());
    assert!(!r.command_complete);
    assert!(r.command.contains("--bucket BUCKET"), "{}", r.command);
}

#[test]
fn a_head_403_says_what_hides_the_reason_and_what_to_run() {
    let r = reading(
        "fatal error: An error occurred (403) when calling the HeadObject operation: Forbidden",
    );
    let hidden = r.hidden.expect("hidden");
    assert!(hidden.contains("no body"), "{hidden}");
    assert!(hidden.contains("s3doctor check"), "{hidden}");
    assert_eq!(r.action.as_deref(), Some("s3:GetObject"));
}

#[test]
fn other_classes_take_the_checklists_codes() {
    let cases = [
        (
            "An error occurred (InvalidAccessKeyId) when calling the PutObject operation: The AWS Access Key Id you provided does not exist in our records.",
            FindingCode::InvalidKeyId,
        ),
        (
            "An error occurred (ExpiredToken) when calling the GetObject operation: The provided token has expired.",
            FindingCode::Expired,
        ),
        (
            "An error occurred (NoSuchBucket) when calling the PutObject operation: The specified bucket does not exist",
            FindingCode::BucketNotFound,
        ),
        (
            "An error occurred (AuthorizationHeaderMalformed) when calling the PutObject operation: The authorization header is malformed; the region 'us-east-1' is wrong; expecting 'eu-west-1'",
            FindingCode::WrongRegion,
        ),
    ];
    for (text, code) in cases {
        assert_eq!(reading(text).cause, code, "{text}");
    }
    let region = reading(cases[3].0);
    assert!(
        region.command.contains("--region eu-west-1"),
        "{}",
        region.command
    );
}

mod no_panic {
    use proptest::prelude::*;

    use crate::answers::pasted;

    proptest! {
        #![proptest_config(ProptestConfig::with_cases(400))]

        /// Whatever is pasted, the reading and its words are made without a panic, and the
        /// command is always a check command.
        #[test]
        fn no_text_panics_the_reading(t in pasted::tests::no_panic::text()) {
            if let Some(p) = pasted::read(&t) {
                let reading = super::read(&p);
                let _ = super::text(&reading);
                let _ = super::markdown(&reading);
                prop_assert!(reading.command.starts_with("s3doctor check --bucket "));
            }
        }
    }
}

/// STS's "security token" words for a refused key id fit an unknown long-term key and a
/// temporary key's session token alike: the reading keeps AWS's code and names the other.
#[test]
fn a_refused_key_id_in_sts_words_about_the_security_token_names_the_session_token_too() {
    let r = reading(
        "An error occurred (InvalidClientTokenId) when calling the GetCallerIdentity operation: The security token included in the request is invalid.",
    );
    assert_eq!(r.cause, FindingCode::InvalidKeyId);
    assert_eq!(r.basis, Basis::AwsMessage);
    assert_eq!(r.other_causes.len(), 1, "{:?}", r.other_causes);
    assert!(
        r.other_causes[0].contains("session token"),
        "{:?}",
        r.other_causes
    );
    assert!(r.other_causes[0].contains("credentials.expired"));
    // A key id AWS says it does not know is that alone.
    let r = reading(
        "An error occurred (InvalidClientTokenId) when calling the GetCallerIdentity operation: The X.509 certificate or AWS access key ID provided does not exist in our records.",
    );
    assert!(r.other_causes.is_empty(), "{:?}", r.other_causes);
    // S3's InvalidToken is the session token's.
    let r = reading(
        "An error occurred (InvalidToken) when calling the PutObject operation: The provided token is malformed or otherwise invalid.",
    );
    assert_eq!(r.cause, FindingCode::Expired);
}
