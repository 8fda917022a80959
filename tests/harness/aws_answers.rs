//! The answers the emulator cannot give, replayed through the real SDK clients with
//! `aws-smithy-mocks` and the exact status, headers and bodies AWS sends: a 301 redirect and a
//! 400 AuthorizationHeaderMalformed for a wrong region, ExpiredToken, RequestTimeTooSkewed,
//! detailed access-denied messages, a KMS denial and AccessControlListNotSupported. Each must
//! be classified as what it is — a wrong region never as a permission problem.

use aws_smithy_mocks::{mock, mock_client};
use aws_smithy_runtime_api::client::orchestrator::HttpResponse;
use aws_smithy_runtime_api::http::StatusCode;
use aws_smithy_types::body::SdkBody;

use super::{Class, DenyKind, DenySource, failure};
use crate::finding::FindingCode;
use crate::operation::Operation;

fn response(status: u16, headers: &[(&str, &str)], body: &str) -> HttpResponse {
    let mut r = HttpResponse::new(
        StatusCode::try_from(status).expect("status"),
        SdkBody::from(body.to_owned()),
    );
    for (k, v) in headers {
        r.headers_mut().insert(k.to_string(), v.to_string());
    }
    r
}

const S3_ID: [(&str, &str); 2] = [
    ("x-amz-request-id", "4YV1JQ8ZK6Q3M0XH"),
    ("x-amz-id-2", "c2Rm3h0ZXN0aWQy"),
];

#[tokio::test]
async fn a_301_on_head_bucket_is_a_wrong_region_with_the_buckets_region() {
    // HEAD answers carry no body: the region is only in the header.
    let rule = mock!(aws_sdk_s3::Client::head_bucket).then_http_response(|| {
        response(
            301,
            &[
                ("x-amz-bucket-region", "eu-west-1"),
                ("x-amz-request-id", "4YV1JQ8ZK6Q3M0XH"),
            ],
            "",
        )
    });
    let s3 = mock_client!(aws_sdk_s3, [&rule]);
    let err = s3
        .head_bucket()
        .bucket("clipizy-dev")
        .send()
        .await
        .expect_err("301");
    let f = failure(Operation::HeadBucket, &err);
    assert_eq!(f.class, Class::WrongRegion(Some("eu-west-1".into())));
    assert_eq!(f.bucket_region.as_deref(), Some("eu-west-1"));
    assert_eq!(f.evidence.http_status, Some(301));
}

#[tokio::test]
async fn a_301_permanent_redirect_on_put_object_is_a_wrong_region() {
    let rule = mock!(aws_sdk_s3::Client::put_object).then_http_response(|| {
        response(
            301,
            &[("x-amz-bucket-region", "eu-west-1"), S3_ID[0], S3_ID[1]],
            r#"<?xml version="1.0" encoding="UTF-8"?>
<Error><Code>PermanentRedirect</Code><Message>The bucket you are attempting to access must be addressed using the specified endpoint. Please send all future requests to this endpoint.</Message><Endpoint>clipizy-dev.s3.eu-west-1.amazonaws.com</Endpoint><Bucket>clipizy-dev</Bucket><RequestId>4YV1JQ8ZK6Q3M0XH</RequestId><HostId>c2Rm3h0ZXN0aWQy</HostId></Error>"#,
        )
    });
    let s3 = mock_client!(aws_sdk_s3, [&rule]);
    let err = s3
        .put_object()
        .bucket("clipizy-dev")
        .key("k")
        .send()
        .await
        .expect_err("301");
    let f = failure(Operation::PutObject, &err);
    assert_eq!(f.class, Class::WrongRegion(Some("eu-west-1".into())));
    assert_eq!(f.evidence.error_code.as_deref(), Some("PermanentRedirect"));
    assert_eq!(f.evidence.request_id.as_deref(), Some("4YV1JQ8ZK6Q3M0XH"));
}

#[tokio::test]
async fn authorization_header_malformed_is_a_wrong_region_read_from_the_message() {
    let rule = mock!(aws_sdk_s3::Client::list_objects_v2).then_http_response(|| {
        response(
            400,
            &S3_ID,
            r#"<?xml version="1.0" encoding="UTF-8"?>
<Error><Code>AuthorizationHeaderMalformed</Code><Message>The authorization header is malformed; the region 'us-east-1' is wrong; expecting 'eu-west-1'</Message><Region>eu-west-1</Region><RequestId>4YV1JQ8ZK6Q3M0XH</RequestId><HostId>c2Rm3h0ZXN0aWQy</HostId></Error>"#,
        )
    });
    let s3 = mock_client!(aws_sdk_s3, [&rule]);
    let err = s3
        .list_objects_v2()
        .bucket("clipizy-dev")
        .send()
        .await
        .expect_err("400");
    let f = failure(Operation::ListObjectsV2, &err);
    assert_eq!(f.class, Class::WrongRegion(Some("eu-west-1".into())));
}

#[tokio::test]
async fn expired_token_from_sts_is_expired_credentials() {
    let rule = mock!(aws_sdk_sts::Client::get_caller_identity).then_http_response(|| {
        response(
            403,
            &[("x-amzn-requestid", "0b2c8f31-6a0e-4f7e-9d0b-8f1d1c2b3a4e")],
            r#"<ErrorResponse xmlns="https://sts.amazonaws.com/doc/2011-06-15/">
  <Error>
    <Type>Sender</Type>
    <Code>ExpiredToken</Code>
    <Message>The security token included in the request is expired</Message>
  </Error>
  <RequestId>0b2c8f31-6a0e-4f7e-9d0b-8f1d1c2b3a4e</RequestId>
</ErrorResponse>"#,
        )
    });
    let sts = mock_client!(aws_sdk_sts, [&rule]);
    let err = sts.get_caller_identity().send().await.expect_err("403");
    let f = failure(Operation::GetCallerIdentity, &err);
    assert_eq!(f.class, Class::Credentials(FindingCode::Expired));
    assert_eq!(
        f.evidence.request_id.as_deref(),
        Some("0b2c8f31-6a0e-4f7e-9d0b-8f1d1c2b3a4e")
    );
}

#[tokio::test]
async fn request_time_too_skewed_is_clock_skew() {
    let rule = mock!(aws_sdk_s3::Client::put_object).then_http_response(|| {
        response(
            403,
            &S3_ID,
            r#"<?xml version="1.0" encoding="UTF-8"?>
<Error><Code>RequestTimeTooSkewed</Code><Message>The difference between the request time and the current time is too large.</Message><RequestTime>20261123T080000Z</RequestTime><ServerTime>2026-11-23T11:00:00Z</ServerTime><MaxAllowedSkewMilliseconds>900000</MaxAllowedSkewMilliseconds><RequestId>4YV1JQ8ZK6Q3M0XH</RequestId><HostId>c2Rm3h0ZXN0aWQy</HostId></Error>"#,
        )
    });
    // The SDK corrects its own clock skew and retries once; answer every attempt alike.
    let s3 = mock_client!(aws_sdk_s3, aws_smithy_mocks::RuleMode::MatchAny, [&rule]);
    let err = s3
        .put_object()
        .bucket("clipizy-dev")
        .key("k")
        .send()
        .await
        .expect_err("403");
    let f = failure(Operation::PutObject, &err);
    assert_eq!(f.class, Class::Credentials(FindingCode::ClockSkew));
}

fn s3_denied(message: &'static str) -> HttpResponse {
    response(
        403,
        &S3_ID,
        &format!(
            r#"<?xml version="1.0" encoding="UTF-8"?>
<Error><Code>AccessDenied</Code><Message>{message}</Message><RequestId>4YV1JQ8ZK6Q3M0XH</RequestId><HostId>c2Rm3h0ZXN0aWQy</HostId></Error>"#
        ),
    )
}

async fn put_denied(message: &'static str) -> Class {
    let rule = mock!(aws_sdk_s3::Client::put_object).then_http_response(move || s3_denied(message));
    let s3 = mock_client!(aws_sdk_s3, [&rule]);
    let err = s3
        .put_object()
        .bucket("clipizy-dev")
        .key("k")
        .send()
        .await
        .expect_err("403");
    failure(Operation::PutObject, &err).class
}

#[tokio::test]
async fn the_detailed_implicit_deny_names_the_identity_policy_and_the_action() {
    let class = put_denied(
        "User: arn:aws:iam::188594592347:user/Runpod is not authorized to perform: s3:PutObject on resource: \"arn:aws:s3:::clipizy-dev/tracks/new.mp3\" because no identity-based policy allows the s3:PutObject action",
    )
    .await;
    let Class::AccessDenied(d) = class else {
        panic!("{class:?}")
    };
    assert_eq!(d.kind, Some(DenyKind::Implicit));
    assert_eq!(d.source, Some(DenySource::IdentityPolicy));
    assert_eq!(d.action.as_deref(), Some("s3:PutObject"));
    assert_eq!(
        d.principal.as_deref(),
        Some("arn:aws:iam::188594592347:user/Runpod")
    );
}

#[tokio::test]
async fn the_detailed_explicit_deny_in_a_bucket_policy_is_read_as_such() {
    let class = put_denied(
        "User: arn:aws:iam::188594592347:user/Runpod is not authorized to perform: s3:DeleteObject on resource: \"arn:aws:s3:::clipizy-dev/tracks/a.mp3\" with an explicit deny in a resource-based policy",
    )
    .await;
    let Class::AccessDenied(d) = class else {
        panic!("{class:?}")
    };
    assert_eq!(d.kind, Some(DenyKind::Explicit));
    assert_eq!(d.source, Some(DenySource::BucketPolicy));
}

#[tokio::test]
async fn an_explicit_deny_in_a_service_control_policy_is_read_as_such() {
    let class = put_denied(
        "User: arn:aws:sts::188594592347:assumed-role/app/i-0abc is not authorized to perform: s3:PutObject on resource: \"arn:aws:s3:::clipizy-dev/k\" with an explicit deny in a service control policy",
    )
    .await;
    let Class::AccessDenied(d) = class else {
        panic!("{class:?}")
    };
    assert_eq!(d.source, Some(DenySource::Scp));
}

#[tokio::test]
async fn a_kms_denial_is_not_an_s3_permission_problem() {
    let class = put_denied(
        "User: arn:aws:iam::188594592347:user/Runpod is not authorized to perform: kms:GenerateDataKey on resource: arn:aws:kms:us-east-1:188594592347:key/1234abcd-12ab-34cd-56ef-1234567890ab because no identity-based policy allows the kms:GenerateDataKey action",
    )
    .await;
    assert!(matches!(class, Class::Kms(_)), "{class:?}");
}

#[tokio::test]
async fn access_control_list_not_supported_is_acl_disabled() {
    let rule = mock!(aws_sdk_s3::Client::put_object_acl).then_http_response(|| {
        response(
            400,
            &S3_ID,
            r#"<?xml version="1.0" encoding="UTF-8"?>
<Error><Code>AccessControlListNotSupported</Code><Message>The bucket does not allow ACLs</Message><RequestId>4YV1JQ8ZK6Q3M0XH</RequestId><HostId>c2Rm3h0ZXN0aWQy</HostId></Error>"#,
        )
    });
    let s3 = mock_client!(aws_sdk_s3, [&rule]);
    let err = s3
        .put_object_acl()
        .bucket("clipizy-dev")
        .key("k")
        .send()
        .await
        .expect_err("400");
    assert_eq!(
        failure(Operation::PutObjectAcl, &err).class,
        Class::AclNotSupported
    );
}

#[tokio::test]
async fn an_auth_error_in_a_body_the_sdk_cannot_parse_is_still_read() {
    // moto wraps STS/IAM errors in <Errors>; the code is then read from the body.
    let rule = mock!(aws_sdk_sts::Client::get_caller_identity).then_http_response(|| {
        response(
            403,
            &[("x-amzn-requestid", "XIGN4hR8DC1c")],
            r#"<?xml version="1.0" encoding="utf-8"?>
<ErrorResponse><Errors><Error><Code>SignatureDoesNotMatch</Code><Message>The request signature we calculated does not match the signature you provided.</Message><Type>Sender</Type></Error></Errors></ErrorResponse>"#,
        )
    });
    let sts = mock_client!(aws_sdk_sts, [&rule]);
    let err = sts.get_caller_identity().send().await.expect_err("403");
    let f = failure(Operation::GetCallerIdentity, &err);
    assert_eq!(f.class, Class::Credentials(FindingCode::SignatureMismatch));
    assert_eq!(f.evidence.request_id.as_deref(), Some("XIGN4hR8DC1c"));
}
