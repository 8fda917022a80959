//! The closed set of runbook steps the code knows (`StepId`): the vocabulary that findings
//! and the runbook both name, so neither has to import the other for it.

use serde::{Deserialize, Serialize};

/// Every step the engine can run. The TOML names the same set, in display order.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize, Deserialize)]
#[serde(rename_all = "kebab-case")]
pub enum StepId {
    Credentials,
    Identity,
    BucketExists,
    BucketRegion,
    ListObjects,
    PutObject,
    GetObject,
    AppObject,
    PutObjectAcl,
    DeleteObject,
    MultipartUpload,
    Cors,
    BucketPolicy,
    IdentityPolicies,
    KmsKey,
}

impl StepId {
    /// All steps, in the order the runbook shows them.
    pub const ALL: [StepId; 15] = [
        StepId::Credentials,
        StepId::Identity,
        StepId::BucketExists,
        StepId::BucketRegion,
        StepId::ListObjects,
        StepId::PutObject,
        StepId::GetObject,
        StepId::AppObject,
        StepId::PutObjectAcl,
        StepId::DeleteObject,
        StepId::MultipartUpload,
        StepId::Cors,
        StepId::BucketPolicy,
        StepId::IdentityPolicies,
        StepId::KmsKey,
    ];

    /// The stable id used in JSON, the TOML and tests.
    pub fn as_str(self) -> &'static str {
        match self {
            StepId::Credentials => "credentials",
            StepId::Identity => "identity",
            StepId::BucketExists => "bucket-exists",
            StepId::BucketRegion => "bucket-region",
            StepId::ListObjects => "list-objects",
            StepId::PutObject => "put-object",
            StepId::GetObject => "get-object",
            StepId::AppObject => "app-object",
            StepId::PutObjectAcl => "put-object-acl",
            StepId::DeleteObject => "delete-object",
            StepId::MultipartUpload => "multipart-upload",
            StepId::Cors => "cors",
            StepId::BucketPolicy => "bucket-policy",
            StepId::IdentityPolicies => "identity-policies",
            StepId::KmsKey => "kms-key",
        }
    }
}

impl std::fmt::Display for StepId {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(self.as_str())
    }
}
