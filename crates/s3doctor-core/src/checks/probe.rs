//! Every write the checks send to S3, in one place: the probe's upload (never over anything:
//! `If-None-Match: *`), its ACL, its delete, and the multipart probe's start, part and abort.
//! Each takes a [`ProbeKey`], which only a prefix and a new uuid make, so "s3doctor writes and
//! deletes only its own probe" is a property of the types. The steps decide when to call;
//! the engine decides whether a step may write at all (never with `--read-only`).

use aws_sdk_s3::operation::abort_multipart_upload::{
    AbortMultipartUploadError, AbortMultipartUploadOutput,
};
use aws_sdk_s3::operation::create_multipart_upload::{
    CreateMultipartUploadError, CreateMultipartUploadOutput,
};
use aws_sdk_s3::operation::delete_object::{DeleteObjectError, DeleteObjectOutput};
use aws_sdk_s3::operation::put_object::{PutObjectError, PutObjectOutput};
use aws_sdk_s3::operation::put_object_acl::{PutObjectAclError, PutObjectAclOutput};
use aws_sdk_s3::operation::upload_part::{UploadPartError, UploadPartOutput};
use aws_sdk_s3::primitives::ByteStream;
use aws_sdk_s3::types::{ObjectCannedAcl, RequestPayer};
use aws_smithy_runtime_api::client::orchestrator::HttpResponse;
use aws_smithy_runtime_api::client::result::SdkError;

use crate::aws::Unanswered;

/// What every probe object contains, so a person who finds one knows what it is.
pub const PROBE_BODY: &str =
    "s3doctor probe object: written to test upload permissions; safe to delete.\n";

/// The one part the multipart probe uploads (parts other than the last may be tiny until
/// completion, which never happens).
const PART_BODY: &str = "s3doctor multipart probe part: the upload is always aborted.\n";

/// The key of s3doctor's own probe: `{prefix}probe-{uuid}`, new for each run. Nothing else
/// makes one, so a write that takes it can only touch the probe.
#[derive(Clone, Debug, PartialEq, Eq, Hash)]
pub struct ProbeKey(String);

impl ProbeKey {
    /// A new key under `prefix`.
    pub fn new(prefix: &str) -> Self {
        Self::with_uuid(prefix, uuid::Uuid::new_v4())
    }

    /// The key under `prefix` with a given uuid (tests replay answers for a known key).
    pub fn with_uuid(prefix: &str, id: uuid::Uuid) -> Self {
        ProbeKey(format!("{prefix}probe-{id}"))
    }

    pub fn as_str(&self) -> &str {
        &self.0
    }
}

impl std::fmt::Display for ProbeKey {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(&self.0)
    }
}

type Answer<T, E> = Result<T, SdkError<E, HttpResponse>>;

/// The answer of a probe upload.
pub type PutAnswer = Answer<PutObjectOutput, PutObjectError>;

/// Uploads the probe to `key` (never over anything: `If-None-Match: *`), with an ACL and the
/// requester-pays header when asked; `watch` is marked when an attempt went out and got no
/// answer (then the probe may be in the bucket whatever the final answer says).
pub async fn put(
    s3: &aws_sdk_s3::Client,
    bucket: &str,
    key: &ProbeKey,
    acl: Option<&str>,
    payer: bool,
    watch: &Unanswered,
) -> PutAnswer {
    let mut req = s3
        .put_object()
        .bucket(bucket)
        .key(key.as_str())
        .if_none_match("*")
        .content_type("text/plain")
        .body(ByteStream::from_static(PROBE_BODY.as_bytes()));
    if let Some(acl) = acl {
        req = req.acl(ObjectCannedAcl::from(acl));
    }
    if payer {
        req = req.request_payer(RequestPayer::Requester);
    }
    req.customize().interceptor(watch.clone()).send().await
}

/// Sets a private ACL on the probe.
pub async fn put_acl(
    s3: &aws_sdk_s3::Client,
    bucket: &str,
    key: &ProbeKey,
) -> Answer<PutObjectAclOutput, PutObjectAclError> {
    s3.put_object_acl()
        .bucket(bucket)
        .key(key.as_str())
        .acl(ObjectCannedAcl::Private)
        .send()
        .await
}

/// Deletes the probe; with `payer`, as the requester of a Requester Pays bucket.
pub async fn delete(
    s3: &aws_sdk_s3::Client,
    bucket: &str,
    key: &ProbeKey,
    payer: bool,
) -> Answer<DeleteObjectOutput, DeleteObjectError> {
    let req = s3.delete_object().bucket(bucket).key(key.as_str());
    if payer {
        req.request_payer(RequestPayer::Requester).send().await
    } else {
        req.send().await
    }
}

/// Starts a multipart upload at the probe's key, with the app's ACL when it sends one.
pub async fn start_multipart(
    s3: &aws_sdk_s3::Client,
    bucket: &str,
    key: &ProbeKey,
    acl: Option<&str>,
) -> Answer<CreateMultipartUploadOutput, CreateMultipartUploadError> {
    let mut create = s3
        .create_multipart_upload()
        .bucket(bucket)
        .key(key.as_str())
        .content_type("text/plain");
    if let Some(acl) = acl {
        create = create.acl(ObjectCannedAcl::from(acl));
    }
    create.send().await
}

/// Uploads the one tiny part of the probe's multipart upload `upload_id`.
pub async fn upload_part(
    s3: &aws_sdk_s3::Client,
    bucket: &str,
    key: &ProbeKey,
    upload_id: &str,
) -> Answer<UploadPartOutput, UploadPartError> {
    s3.upload_part()
        .bucket(bucket)
        .key(key.as_str())
        .upload_id(upload_id)
        .part_number(1)
        .body(ByteStream::from_static(PART_BODY.as_bytes()))
        .send()
        .await
}

/// Aborts the probe's multipart upload `upload_id` (it is never completed).
pub async fn abort_multipart(
    s3: &aws_sdk_s3::Client,
    bucket: &str,
    key: &ProbeKey,
    upload_id: &str,
) -> Answer<AbortMultipartUploadOutput, AbortMultipartUploadError> {
    s3.abort_multipart_upload()
        .bucket(bucket)
        .key(key.as_str())
        .upload_id(upload_id)
        .send()
        .await
}

#[cfg(test)]
mod tests {
    use super::ProbeKey;

    #[test]
    fn a_probe_key_is_the_prefix_and_a_new_uuid() {
        let (a, b) = (ProbeKey::new(".s3doctor/"), ProbeKey::new(".s3doctor/"));
        assert_ne!(a, b);
        let id = a.as_str().strip_prefix(".s3doctor/probe-").expect("prefix");
        assert!(uuid::Uuid::parse_str(id).is_ok(), "{a}");
    }
}
