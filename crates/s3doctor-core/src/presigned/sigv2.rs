//! The query parameters of a SigV2 presigned URL (`AWSAccessKeyId`, `Expires`, `Signature`):
//! what boto3 still makes unless the client sets `signature_version="s3v4"`. `Expires` is the
//! end of validity in seconds since the epoch (there is no signing time and no region), and the
//! signature covers the method, `Content-MD5`, `Content-Type` and the `x-amz-*` headers, which
//! boto3 also writes into the query so that the URL says what the client must send:
//! <https://docs.aws.amazon.com/AmazonS3/latest/API/RESTAuthentication.html#RESTAuthenticationQueryStringAuth>.

use super::{PresignedError, SigVersion, Signature, param};

/// True when the query is SigV2's (and not SigV4's).
pub(super) fn is_sigv2(params: &[(String, String)]) -> bool {
    param(params, "X-Amz-Algorithm").is_none()
        && param(params, "AWSAccessKeyId").is_some()
        && param(params, "Signature").is_some()
}

/// Reads and checks the SigV2 parameters.
pub(super) fn read(params: &[(String, String)]) -> Result<Signature, PresignedError> {
    let required = |name: &'static str| param(params, name).ok_or(PresignedError::Missing(name));
    let key_id = required("AWSAccessKeyId")?;
    if key_id.is_empty() {
        return Err(PresignedError::Malformed {
            name: "AWSAccessKeyId",
            why: "it is empty".into(),
        });
    }
    let expires = required("Expires")?;
    let expires_at: i64 = expires.parse().map_err(|_| PresignedError::Malformed {
        name: "Expires",
        why: format!("{expires:?} is not a time in seconds since 1970"),
    })?;
    let signature = required("Signature")?;
    let base64 = |c: char| c.is_ascii_alphanumeric() || matches!(c, '+' | '/' | '=');
    if signature.is_empty() || !signature.chars().all(base64) {
        return Err(PresignedError::Malformed {
            name: "Signature",
            why: "expected a base64 HMAC-SHA1".into(),
        });
    }
    Ok(Signature {
        version: SigVersion::V2,
        key_id: key_id.to_owned(),
        region: None,
        service: "s3".to_owned(),
        signed_at: None,
        expires_in: None,
        expires_at,
        signed_headers: signed_headers(params),
    })
}

/// The headers the signature covers that the URL names in its query (`content-type`,
/// `content-md5`, `x-amz-*` but the session token, which S3 reads from the query).
fn signed_headers(params: &[(String, String)]) -> Vec<String> {
    params
        .iter()
        .map(|(name, _)| name.to_ascii_lowercase())
        .filter(|name| {
            name == "content-type"
                || name == "content-md5"
                || (name.starts_with("x-amz-") && name != "x-amz-security-token")
        })
        .collect()
}

/// The regions opened before January 2014, the only ones where S3 ever accepted SigV2 (the
/// signature-version column of <https://docs.aws.amazon.com/general/latest/gr/s3.html>; the
/// deprecation: <https://docs.aws.amazon.com/AmazonS3/latest/API/Appendix-Sigv2.html>). GovCloud
/// (US-West) and Beijing opened before 2014 too: listed so that they are never called refused.
const SIGV2_REGIONS: [&str; 10] = [
    "us-east-1",
    "us-west-1",
    "us-west-2",
    "eu-west-1",
    "ap-northeast-1",
    "ap-southeast-1",
    "ap-southeast-2",
    "sa-east-1",
    "us-gov-west-1",
    "cn-north-1",
];

/// A SigV2 URL: deprecated by AWS, refused in the regions opened since 2014, for buckets
/// created after June 24, 2020 and for SSE-KMS objects; an error when the bucket's region is
/// known to be one of the former, a warning otherwise (another server decides for itself).
pub(super) fn problem(
    p: &super::Presigned,
    cx: &super::Context<'_>,
    bucket: &str,
) -> Option<super::Problem> {
    if p.version != SigVersion::V2 {
        return None;
    }
    let region = cx.bucket_region.or(p.host_region.as_deref());
    let refused_region = p.aws_host && region.is_some_and(|r| !SIGV2_REGIONS.contains(&r));
    let (severity, detail) = match region {
        _ if !p.aws_host => (
            crate::finding::Severity::Warning,
            format!(
                "This URL points at {}, not AWS: that server decides whether it accepts SigV2 \
                 (Ceph RGW does).",
                p.host
            ),
        ),
        Some(r) if refused_region => (
            crate::finding::Severity::Error,
            format!("{bucket} is in {r}, a region that accepts only SigV4: this URL cannot work."),
        ),
        _ => (crate::finding::Severity::Warning, String::new()),
    };
    let detail = (!detail.is_empty()).then_some(detail);
    Some(super::problem(
        crate::finding::FindingCode::PresignedSignatureV2,
        severity,
        &[
            ("bucket", bucket),
            ("bucket_region", region.unwrap_or("BUCKET_REGION")),
        ],
        detail,
    ))
}
