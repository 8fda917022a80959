//! The error codes that s3doctor tells apart by name outside the classifier's own table
//! (`classify`): most say that a setting is absent (the bucket has no policy, no CORS rules, no
//! Block Public Access of its own, no default encryption; IAM has no such entity), which is an
//! answer to read, not a failure. Each code is spelled once, here, as AWS documents it (Amazon
//! S3 API Reference, "Error responses"; IAM API Reference, "Common errors").

use aws_smithy_runtime_api::client::orchestrator::HttpResponse;
use aws_smithy_runtime_api::client::result::SdkError;
use aws_smithy_types::error::metadata::ProvideErrorMetadata;

/// An error code s3doctor acts on by name.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum AwsCode {
    /// GetBucketPolicy: the bucket has no policy.
    NoSuchBucketPolicy,
    /// GetBucketCors: the bucket has no CORS rules.
    NoSuchCorsConfiguration,
    /// GetPublicAccessBlock: the bucket has no Block Public Access setting of its own.
    NoSuchPublicAccessBlockConfiguration,
    /// GetBucketEncryption: no default encryption is configured.
    NoEncryptionConfiguration,
    /// IAM: the policy, version or attachment named is not there.
    NoSuchEntity,
    /// The request's signature does not match the one the server computed.
    SignatureDoesNotMatch,
}

impl AwsCode {
    /// The code as the server sends it.
    pub fn as_str(self) -> &'static str {
        match self {
            AwsCode::NoSuchBucketPolicy => "NoSuchBucketPolicy",
            AwsCode::NoSuchCorsConfiguration => "NoSuchCORSConfiguration",
            AwsCode::NoSuchPublicAccessBlockConfiguration => "NoSuchPublicAccessBlockConfiguration",
            AwsCode::NoEncryptionConfiguration => "ServerSideEncryptionConfigurationNotFoundError",
            AwsCode::NoSuchEntity => "NoSuchEntity",
            AwsCode::SignatureDoesNotMatch => "SignatureDoesNotMatch",
        }
    }

    /// True when `code` (an answer's error code, if it had one) is this one.
    pub fn is(self, code: Option<&str>) -> bool {
        code == Some(self.as_str())
    }

    /// True when the SDK error is an answer with this code (read from the body when the
    /// SDK could not parse it).
    pub fn answered<E>(self, err: &SdkError<E, HttpResponse>) -> bool
    where
        E: ProvideErrorMetadata + std::error::Error + Send + Sync + 'static,
    {
        self.is(super::error_code(err).as_deref())
    }
}

#[cfg(test)]
mod tests {
    use super::AwsCode;

    #[test]
    fn a_code_is_told_by_its_exact_spelling() {
        assert!(AwsCode::NoSuchCorsConfiguration.is(Some("NoSuchCORSConfiguration")));
        assert!(!AwsCode::NoSuchCorsConfiguration.is(Some("NoSuchCorsConfiguration")));
        assert!(!AwsCode::NoSuchEntity.is(None));
    }
}
