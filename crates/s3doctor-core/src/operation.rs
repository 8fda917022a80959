//! The AWS operations s3doctor performs, as a closed set: each knows its name (as AWS and the
//! evidence spell it), the IAM action it needs and whether it writes. Replaces guessing the
//! action from a string (an unknown name used to become `s3:ListBucket` unnoticed).

use std::fmt;
use std::str::FromStr;

/// One call s3doctor makes to S3, STS, IAM or KMS: while diagnosing, or (the IAM and bucket
/// writes at the end) as the remedy's admin.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub enum Operation {
    GetCallerIdentity,
    GetUser,
    ListUserPolicies,
    GetUserPolicy,
    ListAttachedUserPolicies,
    ListGroupsForUser,
    ListGroupPolicies,
    GetGroupPolicy,
    ListAttachedGroupPolicies,
    ListRolePolicies,
    GetRolePolicy,
    ListAttachedRolePolicies,
    GetPolicy,
    GetPolicyVersion,
    ListBuckets,
    HeadBucket,
    GetBucketLocation,
    ListObjectsV2,
    PutObject,
    GetObject,
    HeadObject,
    GetObjectAcl,
    GetBucketAcl,
    PutObjectAcl,
    DeleteObject,
    CreateMultipartUpload,
    UploadPart,
    ListParts,
    AbortMultipartUpload,
    GetBucketPolicy,
    GetPublicAccessBlock,
    GetBucketOwnershipControls,
    GetBucketEncryption,
    GetBucketRequestPayment,
    GetBucketCors,
    DescribeKey,
    GetKeyPolicy,
    ListPolicyVersions,
    SimulatePrincipalPolicy,
    GetAccessKeyInfo,
    CreatePolicy,
    CreatePolicyVersion,
    DeletePolicyVersion,
    AttachUserPolicy,
    AttachRolePolicy,
    DetachUserPolicy,
    DetachRolePolicy,
    PutBucketPolicy,
    DeleteBucketPolicy,
    PutBucketCors,
    AssumeRole,
    AssumeRoleWithWebIdentity,
    GetRole,
    UpdateAssumeRolePolicy,
}

impl Operation {
    /// Every operation, for lookups by name or action.
    pub const ALL: [Operation; 54] = [
        Operation::GetCallerIdentity,
        Operation::GetUser,
        Operation::ListUserPolicies,
        Operation::GetUserPolicy,
        Operation::ListAttachedUserPolicies,
        Operation::ListGroupsForUser,
        Operation::ListGroupPolicies,
        Operation::GetGroupPolicy,
        Operation::ListAttachedGroupPolicies,
        Operation::ListRolePolicies,
        Operation::GetRolePolicy,
        Operation::ListAttachedRolePolicies,
        Operation::GetPolicy,
        Operation::GetPolicyVersion,
        Operation::ListBuckets,
        Operation::HeadBucket,
        Operation::GetBucketLocation,
        Operation::ListObjectsV2,
        Operation::PutObject,
        Operation::GetObject,
        Operation::HeadObject,
        Operation::GetObjectAcl,
        Operation::GetBucketAcl,
        Operation::PutObjectAcl,
        Operation::DeleteObject,
        Operation::CreateMultipartUpload,
        Operation::UploadPart,
        Operation::ListParts,
        Operation::AbortMultipartUpload,
        Operation::GetBucketPolicy,
        Operation::GetPublicAccessBlock,
        Operation::GetBucketOwnershipControls,
        Operation::GetBucketEncryption,
        Operation::GetBucketRequestPayment,
        Operation::GetBucketCors,
        Operation::DescribeKey,
        Operation::GetKeyPolicy,
        Operation::ListPolicyVersions,
        Operation::SimulatePrincipalPolicy,
        Operation::GetAccessKeyInfo,
        Operation::CreatePolicy,
        Operation::CreatePolicyVersion,
        Operation::DeletePolicyVersion,
        Operation::AttachUserPolicy,
        Operation::AttachRolePolicy,
        Operation::DetachUserPolicy,
        Operation::DetachRolePolicy,
        Operation::PutBucketPolicy,
        Operation::DeleteBucketPolicy,
        Operation::PutBucketCors,
        Operation::AssumeRole,
        Operation::AssumeRoleWithWebIdentity,
        Operation::GetRole,
        Operation::UpdateAssumeRolePolicy,
    ];

    /// The operation's name as AWS's API reference spells it (and as evidence shows it).
    pub fn name(self) -> &'static str {
        match self {
            Operation::GetCallerIdentity => "GetCallerIdentity",
            Operation::GetUser => "GetUser",
            Operation::ListUserPolicies => "ListUserPolicies",
            Operation::GetUserPolicy => "GetUserPolicy",
            Operation::ListAttachedUserPolicies => "ListAttachedUserPolicies",
            Operation::ListGroupsForUser => "ListGroupsForUser",
            Operation::ListGroupPolicies => "ListGroupPolicies",
            Operation::GetGroupPolicy => "GetGroupPolicy",
            Operation::ListAttachedGroupPolicies => "ListAttachedGroupPolicies",
            Operation::ListRolePolicies => "ListRolePolicies",
            Operation::GetRolePolicy => "GetRolePolicy",
            Operation::ListAttachedRolePolicies => "ListAttachedRolePolicies",
            Operation::GetPolicy => "GetPolicy",
            Operation::GetPolicyVersion => "GetPolicyVersion",
            Operation::ListBuckets => "ListBuckets",
            Operation::HeadBucket => "HeadBucket",
            Operation::GetBucketLocation => "GetBucketLocation",
            Operation::ListObjectsV2 => "ListObjectsV2",
            Operation::PutObject => "PutObject",
            Operation::GetObject => "GetObject",
            Operation::HeadObject => "HeadObject",
            Operation::GetObjectAcl => "GetObjectAcl",
            Operation::GetBucketAcl => "GetBucketAcl",
            Operation::PutObjectAcl => "PutObjectAcl",
            Operation::DeleteObject => "DeleteObject",
            Operation::CreateMultipartUpload => "CreateMultipartUpload",
            Operation::UploadPart => "UploadPart",
            Operation::ListParts => "ListParts",
            Operation::AbortMultipartUpload => "AbortMultipartUpload",
            Operation::GetBucketPolicy => "GetBucketPolicy",
            Operation::GetPublicAccessBlock => "GetPublicAccessBlock",
            Operation::GetBucketOwnershipControls => "GetBucketOwnershipControls",
            Operation::GetBucketEncryption => "GetBucketEncryption",
            Operation::GetBucketRequestPayment => "GetBucketRequestPayment",
            Operation::GetBucketCors => "GetBucketCors",
            Operation::DescribeKey => "DescribeKey",
            Operation::GetKeyPolicy => "GetKeyPolicy",
            Operation::ListPolicyVersions => "ListPolicyVersions",
            Operation::SimulatePrincipalPolicy => "SimulatePrincipalPolicy",
            Operation::GetAccessKeyInfo => "GetAccessKeyInfo",
            Operation::CreatePolicy => "CreatePolicy",
            Operation::CreatePolicyVersion => "CreatePolicyVersion",
            Operation::DeletePolicyVersion => "DeletePolicyVersion",
            Operation::AttachUserPolicy => "AttachUserPolicy",
            Operation::AttachRolePolicy => "AttachRolePolicy",
            Operation::DetachUserPolicy => "DetachUserPolicy",
            Operation::DetachRolePolicy => "DetachRolePolicy",
            Operation::PutBucketPolicy => "PutBucketPolicy",
            Operation::DeleteBucketPolicy => "DeleteBucketPolicy",
            Operation::PutBucketCors => "PutBucketCors",
            Operation::AssumeRole => "AssumeRole",
            Operation::AssumeRoleWithWebIdentity => "AssumeRoleWithWebIdentity",
            Operation::GetRole => "GetRole",
            Operation::UpdateAssumeRolePolicy => "UpdateAssumeRolePolicy",
        }
    }

    /// The IAM action AWS checks for this operation (Service Authorization Reference:
    /// HeadBucket and ListObjectsV2 need `s3:ListBucket`; the multipart calls that carry data
    /// need `s3:PutObject`).
    pub fn action(self) -> &'static str {
        match self {
            Operation::GetCallerIdentity => "sts:GetCallerIdentity",
            Operation::GetUser => "iam:GetUser",
            Operation::ListUserPolicies => "iam:ListUserPolicies",
            Operation::GetUserPolicy => "iam:GetUserPolicy",
            Operation::ListAttachedUserPolicies => "iam:ListAttachedUserPolicies",
            Operation::ListGroupsForUser => "iam:ListGroupsForUser",
            Operation::ListGroupPolicies => "iam:ListGroupPolicies",
            Operation::GetGroupPolicy => "iam:GetGroupPolicy",
            Operation::ListAttachedGroupPolicies => "iam:ListAttachedGroupPolicies",
            Operation::ListRolePolicies => "iam:ListRolePolicies",
            Operation::GetRolePolicy => "iam:GetRolePolicy",
            Operation::ListAttachedRolePolicies => "iam:ListAttachedRolePolicies",
            Operation::GetPolicy => "iam:GetPolicy",
            Operation::GetPolicyVersion => "iam:GetPolicyVersion",
            Operation::ListBuckets => "s3:ListAllMyBuckets",
            Operation::HeadBucket | Operation::ListObjectsV2 => "s3:ListBucket",
            Operation::GetBucketLocation => "s3:GetBucketLocation",
            Operation::PutObject | Operation::CreateMultipartUpload | Operation::UploadPart => {
                "s3:PutObject"
            }
            // HeadObject is authorised as a GetObject (API_HeadObject, Permissions).
            Operation::GetObject | Operation::HeadObject => "s3:GetObject",
            Operation::GetObjectAcl => "s3:GetObjectAcl",
            Operation::GetBucketAcl => "s3:GetBucketAcl",
            Operation::PutObjectAcl => "s3:PutObjectAcl",
            Operation::DeleteObject => "s3:DeleteObject",
            Operation::ListParts => "s3:ListMultipartUploadParts",
            Operation::AbortMultipartUpload => "s3:AbortMultipartUpload",
            Operation::GetBucketPolicy => "s3:GetBucketPolicy",
            Operation::GetPublicAccessBlock => "s3:GetBucketPublicAccessBlock",
            Operation::GetBucketOwnershipControls => "s3:GetBucketOwnershipControls",
            Operation::GetBucketEncryption => "s3:GetEncryptionConfiguration",
            Operation::GetBucketRequestPayment => "s3:GetBucketRequestPayment",
            Operation::GetBucketCors => "s3:GetBucketCORS",
            Operation::DescribeKey => "kms:DescribeKey",
            Operation::GetKeyPolicy => "kms:GetKeyPolicy",
            Operation::ListPolicyVersions => "iam:ListPolicyVersions",
            Operation::SimulatePrincipalPolicy => "iam:SimulatePrincipalPolicy",
            Operation::GetAccessKeyInfo => "sts:GetAccessKeyInfo",
            Operation::CreatePolicy => "iam:CreatePolicy",
            Operation::CreatePolicyVersion => "iam:CreatePolicyVersion",
            Operation::DeletePolicyVersion => "iam:DeletePolicyVersion",
            Operation::AttachUserPolicy => "iam:AttachUserPolicy",
            Operation::AttachRolePolicy => "iam:AttachRolePolicy",
            Operation::DetachUserPolicy => "iam:DetachUserPolicy",
            Operation::DetachRolePolicy => "iam:DetachRolePolicy",
            Operation::PutBucketPolicy => "s3:PutBucketPolicy",
            Operation::DeleteBucketPolicy => "s3:DeleteBucketPolicy",
            Operation::PutBucketCors => "s3:PutBucketCORS",
            Operation::AssumeRole => "sts:AssumeRole",
            Operation::AssumeRoleWithWebIdentity => "sts:AssumeRoleWithWebIdentity",
            Operation::GetRole => "iam:GetRole",
            Operation::UpdateAssumeRolePolicy => "iam:UpdateAssumeRolePolicy",
        }
    }

    /// True when the operation changes what is stored: the probe's objects, or the remedy's
    /// IAM policies and bucket policy or CORS rules (a read-only run never performs one).
    pub fn writes(self) -> bool {
        self.probe_writes() || self.remedy_writes()
    }

    /// True for the probe's calls that write objects (the only writes of a diagnosis).
    fn probe_writes(self) -> bool {
        matches!(
            self,
            Operation::PutObject
                | Operation::PutObjectAcl
                | Operation::DeleteObject
                | Operation::CreateMultipartUpload
                | Operation::UploadPart
                | Operation::AbortMultipartUpload
        )
    }

    /// True for the remedy's changes to IAM and to the bucket's policy or CORS rules, which
    /// only a confirmed plan (or an undo) performs.
    fn remedy_writes(self) -> bool {
        matches!(
            self,
            Operation::CreatePolicy
                | Operation::CreatePolicyVersion
                | Operation::DeletePolicyVersion
                | Operation::AttachUserPolicy
                | Operation::AttachRolePolicy
                | Operation::DetachUserPolicy
                | Operation::DetachRolePolicy
                | Operation::PutBucketPolicy
                | Operation::DeleteBucketPolicy
                | Operation::PutBucketCors
                | Operation::UpdateAssumeRolePolicy
        )
    }

    /// The KMS action the operation needs from the object's key when the bucket encrypts
    /// with KMS: a new object needs a data key generated; everything else that touches the
    /// object's data decrypts it (a multipart upload's parts read the data key back).
    pub fn kms_action(self) -> &'static str {
        match self {
            Operation::PutObject | Operation::CreateMultipartUpload => "kms:GenerateDataKey",
            _ => "kms:Decrypt",
        }
    }

    /// The operation called `name`, if s3doctor performs one by that name.
    pub fn from_name(name: &str) -> Option<Operation> {
        Operation::ALL.into_iter().find(|op| op.name() == name)
    }
}

/// True when an IAM action may change what is stored: false only for actions that every
/// operation needing them merely reads. An action s3doctor does not know counts as a write,
/// so a read-only run never asks for it.
pub fn action_writes(action: &str) -> bool {
    let mut needing = Operation::ALL
        .into_iter()
        .filter(|op| op.action() == action);
    match needing.next() {
        None => true,
        Some(first) => first.writes() || needing.any(Operation::writes),
    }
}

impl AsRef<str> for Operation {
    fn as_ref(&self) -> &str {
        self.name()
    }
}

impl fmt::Display for Operation {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.name())
    }
}

/// A name that is not one of s3doctor's operations.
#[derive(Clone, Debug, PartialEq, Eq, thiserror::Error)]
#[error("s3doctor performs no operation called {0:?}")]
pub struct UnknownOperation(pub String);

impl FromStr for Operation {
    type Err = UnknownOperation;

    fn from_str(s: &str) -> Result<Self, Self::Err> {
        Operation::from_name(s).ok_or_else(|| UnknownOperation(s.to_owned()))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn names_round_trip_and_are_unique() {
        for op in Operation::ALL {
            assert_eq!(op.name().parse::<Operation>(), Ok(op));
            assert_eq!(op.to_string(), op.name());
        }
        let names: std::collections::BTreeSet<_> =
            Operation::ALL.iter().map(|o| o.name()).collect();
        assert_eq!(names.len(), Operation::ALL.len());
    }

    #[test]
    fn an_unknown_name_is_an_error_not_list_bucket() {
        assert_eq!(
            "CopyObject".parse::<Operation>(),
            Err(UnknownOperation("CopyObject".into()))
        );
        assert_eq!(Operation::from_name("GetObject (presigned)"), None);
    }

    #[test]
    fn actions_are_what_aws_checks() {
        let cases = [
            (Operation::HeadBucket, "s3:ListBucket"),
            (Operation::ListObjectsV2, "s3:ListBucket"),
            (Operation::UploadPart, "s3:PutObject"),
            (Operation::CreateMultipartUpload, "s3:PutObject"),
            (Operation::ListParts, "s3:ListMultipartUploadParts"),
            (Operation::ListBuckets, "s3:ListAllMyBuckets"),
            (
                Operation::GetBucketEncryption,
                "s3:GetEncryptionConfiguration",
            ),
            (
                Operation::GetPublicAccessBlock,
                "s3:GetBucketPublicAccessBlock",
            ),
            (Operation::GetCallerIdentity, "sts:GetCallerIdentity"),
            (Operation::GetPolicyVersion, "iam:GetPolicyVersion"),
            (Operation::HeadObject, "s3:GetObject"),
        ];
        for (op, action) in cases {
            assert_eq!(op.action(), action, "{op}");
        }
    }

    #[test]
    fn only_the_probe_and_the_remedy_write() {
        let writes: Vec<_> = Operation::ALL.into_iter().filter(|o| o.writes()).collect();
        let names: Vec<_> = writes.iter().map(|o| o.name()).collect();
        assert_eq!(
            names,
            [
                "PutObject",
                "PutObjectAcl",
                "DeleteObject",
                "CreateMultipartUpload",
                "UploadPart",
                "AbortMultipartUpload",
                "CreatePolicy",
                "CreatePolicyVersion",
                "DeletePolicyVersion",
                "AttachUserPolicy",
                "AttachRolePolicy",
                "DetachUserPolicy",
                "DetachRolePolicy",
                "PutBucketPolicy",
                "DeleteBucketPolicy",
                "PutBucketCors",
                "UpdateAssumeRolePolicy",
            ]
        );
        // The diagnosis writes only in the probe; the rest are the remedy's.
        let diagnosing: Vec<_> = writes.iter().filter(|o| !o.remedy_writes()).collect();
        assert_eq!(diagnosing.len(), 6);
        assert!(diagnosing.iter().all(|o| o.probe_writes()));
    }

    #[test]
    fn object_actions_of_a_read_only_run_are_the_reads() {
        assert!(!action_writes("s3:GetObject"));
        assert!(!action_writes("s3:ListBucket"));
        for action in ["s3:PutObject", "s3:DeleteObject", "s3:PutObjectAcl"] {
            assert!(action_writes(action), "{action}");
        }
        // Unknown actions are never asked for in a read-only run.
        assert!(action_writes("s3:PutObjectTagging"));
    }

    #[test]
    fn kms_action_follows_whether_a_data_key_is_made() {
        assert_eq!(Operation::PutObject.kms_action(), "kms:GenerateDataKey");
        assert_eq!(Operation::GetObject.kms_action(), "kms:Decrypt");
        assert_eq!(Operation::UploadPart.kms_action(), "kms:Decrypt");
    }
}
