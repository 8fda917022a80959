//! Unit tests of the pasted-error reader; the real samples are in `tests/fixtures/errors/`.

use super::*;
use crate::finding::FindingCode;

#[test]
fn every_pattern_compiles_and_an_empty_text_fills_nothing() {
    let f = sdk_text::read("");
    assert!(f.code.is_none() && f.status.is_none() && f.request_id.is_none());
    assert_eq!(
        sdk_text::read("status code: 403, request id: ABCDEF123456").status,
        Some(403)
    );
}

#[test]
fn text_without_an_aws_error_is_none() {
    for text in ["", "hello", "{}", "[1,2]", "<Error>", "403 pages printed"] {
        assert!(read(text).is_none(), "{text:?}");
    }
}

#[test]
fn botocore_line_is_read_and_classified_by_the_checklists_classifier() {
    let text = "botocore.exceptions.ClientError: An error occurred (AccessDenied) when calling the PutObject operation: User: arn:aws:iam::123456789012:user/app is not authorized to perform: s3:PutObject on resource: \"arn:aws:s3:::b-1/k.txt\" because no identity-based policy allows the s3:PutObject action";
    let p = read(text).expect("an error");
    assert_eq!(p.shape, Shape::Botocore);
    assert_eq!(p.evidence.operation, "PutObject");
    assert_eq!(p.evidence.http_status, Some(403));
    assert_eq!(p.request.bucket.as_deref(), Some("b-1"));
    assert_eq!(p.request.key.as_deref(), Some("k.txt"));
    assert_eq!(p.class().finding_code(), FindingCode::PermissionMissing);
}

#[test]
fn a_head_403_says_the_reason_is_hidden() {
    let p = read("An error occurred (403) when calling the HeadObject operation: Forbidden")
        .expect("an error");
    assert_eq!(p.evidence.http_status, Some(403));
    assert_eq!(p.evidence.error_code, None);
    assert!(p.reason_hidden());
}

mod one_classifier {
    //! The same answer, received live by the SDK and pasted as the Rust SDK prints it, is
    //! classified the same: `why` reads text through the checklist's classifier.

    use aws_smithy_mocks::{mock, mock_client};
    use aws_smithy_runtime_api::client::orchestrator::HttpResponse;
    use aws_smithy_runtime_api::http::StatusCode;
    use aws_smithy_types::body::SdkBody;
    use aws_smithy_types::error::display::DisplayErrorContext;

    use crate::answers::failure;
    use crate::operation::Operation;

    fn response(status: u16, body: &str) -> HttpResponse {
        let mut r = HttpResponse::new(
            StatusCode::try_from(status).expect("status"),
            SdkBody::from(body.to_owned()),
        );
        r.headers_mut()
            .insert("x-amz-request-id", "4442587FB7D0A2F9");
        r.headers_mut().insert("x-amz-id-2", "c2Rm3h0ZXN0aWQy");
        r
    }

    /// Bodies of `tests/fixtures/aws/` (AWS's documented messages, in S3's envelope).
    const ANSWERS: [(u16, &str); 4] = [
        (
            403,
            r#"<?xml version="1.0" encoding="UTF-8"?>
<Error><Code>AccessDenied</Code><Message>User: arn:aws:iam::123456789012:user/MaryMajor is not authorized to perform: s3:GetObject on resource: "arn:aws:s3:::amzn-s3-demo-bucket1/object-name" with an explicit deny in an identity-based policy</Message><RequestId>4442587FB7D0A2F9</RequestId></Error>"#,
        ),
        (
            403,
            r#"<?xml version="1.0" encoding="UTF-8"?>
<Error><Code>AccessDenied</Code><Message>Access Denied</Message><RequestId>4442587FB7D0A2F9</RequestId><HostId>c2Rm3h0ZXN0aWQy</HostId></Error>"#,
        ),
        (
            400,
            r#"<?xml version="1.0" encoding="UTF-8"?>
<Error><Code>ExpiredToken</Code><Message>The provided token has expired.</Message><RequestId>4442587FB7D0A2F9</RequestId></Error>"#,
        ),
        (
            403,
            r#"<?xml version="1.0" encoding="UTF-8"?>
<Error><Code>AllAccessDisabled</Code><Message>All access to this object has been disabled</Message><RequestId>4442587FB7D0A2F9</RequestId></Error>"#,
        ),
    ];

    #[tokio::test]
    async fn the_rust_sdks_own_display_is_read_to_the_same_finding() {
        for (status, body) in ANSWERS {
            let rule = mock!(aws_sdk_s3::Client::get_object)
                .then_http_response(move || response(status, body));
            let s3 = mock_client!(aws_sdk_s3, [&rule]);
            let err = s3
                .get_object()
                .bucket("b-1")
                .key("k")
                .send()
                .await
                .expect_err("refused");
            let live = failure(Operation::GetObject, &err);
            let printed = DisplayErrorContext(&err).to_string();
            let pasted = super::read(&printed).unwrap_or_else(|| panic!("unread: {printed}"));
            assert_eq!(
                pasted.class().finding_code(),
                live.class.finding_code(),
                "{printed}"
            );
            assert_eq!(
                pasted.evidence.error_code, live.evidence.error_code,
                "{printed}"
            );
            assert_eq!(pasted.evidence.message, live.evidence.message, "{printed}");
            assert_eq!(
                pasted.evidence.request_id.as_deref(),
                Some("4442587FB7D0A2F9"),
                "{printed}"
            );
            assert_eq!(pasted.shape, super::Shape::RustSdk, "{printed}");
        }
    }
}

pub(crate) mod no_panic {
    use proptest::prelude::*;

    /// Pieces of the shapes the reader looks for, so that the random texts reach its paths.
    const PIECES: [&str; 14] = [
        "An error occurred (",
        ") when calling the ",
        " operation: ",
        "<Error><Code>",
        "</Code><Message>",
        "</Message></Error>",
        "{\"eventName\":\"PutObject\",\"eventSource\":\"s3.amazonaws.com\",\"errorCode\":\"",
        "User: arn:aws:sts::1:assumed-role/R/s is not authorized to perform: s3:PutObject on resource: \"arn:aws:s3:::",
        " with an explicit deny in a ",
        "(Service: S3, Status Code: 403, Request ID: ",
        "https://b.s3.eu-west-1.amazonaws.com/",
        "s3://",
        "\\\"",
        "é\u{0}\u{202e}",
    ];

    pub(crate) fn text() -> impl Strategy<Value = String> {
        let piece = prop_oneof![
            (0..PIECES.len()).prop_map(|i| PIECES[i].to_owned()),
            any::<String>(),
            "[A-Za-z0-9:/\"<>{}()\\[\\],. -]{0,40}",
        ];
        proptest::collection::vec(piece, 0..12).prop_map(|v| v.concat())
    }

    proptest! {
        #![proptest_config(ProptestConfig::with_cases(600))]

        #[test]
        fn no_text_panics_the_reader(t in text()) {
            if let Some(p) = super::read(&t) {
                let _ = p.class();
                prop_assert!(p.evidence.error_code.is_some() || p.evidence.http_status.is_some());
            }
        }

        #[test]
        fn no_bytes_panic_the_reader(bytes in proptest::collection::vec(any::<u8>(), 0..400)) {
            let _ = super::read(&String::from_utf8_lossy(&bytes));
        }
    }
}
