//! Lints a policy that s3doctor is about to propose or send: every action of every Allow is
//! granted on the resource type it acts on (bucket ARN, object ARN, KMS key ARN, or `*` for an
//! action without one), and on nothing broader.
//!
//! The resource types are those of AWS's Service Authorization Reference, "Actions, resources,
//! and condition keys for Amazon S3"
//! (<https://docs.aws.amazon.com/service-authorization/latest/reference/list_amazons3.html>) and
//! "… for AWS Key Management Service"
//! (<https://docs.aws.amazon.com/service-authorization/latest/reference/list_awskeymanagementservice.html>):
//! "If the column has no value, you must specify all resources ("*") to which the policy applies
//! in the Resource element of your policy statement." An action that has a resource type must not
//! sit on `*`: that grants it on every bucket (or key) of the account.

use std::fmt;

use super::document::{Effect, PolicyDocument};
use crate::arn::Arn;

/// What an action acts on, as the Service Authorization Reference lists it.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub enum ResourceType {
    /// No resource type: the action is granted on `*` only.
    None,
    /// `arn:aws:s3:::BUCKET`.
    Bucket,
    /// `arn:aws:s3:::BUCKET/KEY`.
    Object,
    /// `arn:aws:kms:REGION:ACCOUNT:key/ID`.
    KmsKey,
}

impl ResourceType {
    fn describe(self) -> &'static str {
        match self {
            ResourceType::None => "\"*\" (it has no resource type)",
            ResourceType::Bucket => "a bucket ARN (arn:aws:s3:::BUCKET)",
            ResourceType::Object => "an object ARN (arn:aws:s3:::BUCKET/KEY)",
            ResourceType::KmsKey => "a KMS key ARN",
        }
    }
}

/// The resource type of every action s3doctor may put in a policy (case-insensitive, as IAM
/// compares actions). An action missing here is a lint error: whoever adds it to a policy adds it
/// here, with its type from the reference.
pub fn resource_type(action: &str) -> Option<ResourceType> {
    const TABLE: &[(&str, ResourceType)] = &[
        ("s3:ListAllMyBuckets", ResourceType::None),
        ("s3:ListBucket", ResourceType::Bucket),
        ("s3:GetBucketLocation", ResourceType::Bucket),
        ("s3:ListBucketMultipartUploads", ResourceType::Bucket),
        ("s3:GetBucketCors", ResourceType::Bucket),
        ("s3:PutBucketCors", ResourceType::Bucket),
        ("s3:GetBucketPolicy", ResourceType::Bucket),
        ("s3:GetBucketRequestPayment", ResourceType::Bucket),
        ("s3:GetEncryptionConfiguration", ResourceType::Bucket),
        ("s3:GetObject", ResourceType::Object),
        ("s3:PutObject", ResourceType::Object),
        ("s3:DeleteObject", ResourceType::Object),
        ("s3:PutObjectAcl", ResourceType::Object),
        ("s3:GetObjectAcl", ResourceType::Object),
        ("s3:AbortMultipartUpload", ResourceType::Object),
        ("s3:ListMultipartUploadParts", ResourceType::Object),
        ("kms:GenerateDataKey", ResourceType::KmsKey),
        ("kms:Decrypt", ResourceType::KmsKey),
        ("kms:Encrypt", ResourceType::KmsKey),
        ("kms:DescribeKey", ResourceType::KmsKey),
    ];
    TABLE
        .iter()
        .find(|(name, _)| name.eq_ignore_ascii_case(action))
        .map(|(_, kind)| *kind)
}

/// What a `Resource` entry names.
fn resource_kind(resource: &str) -> Option<ResourceType> {
    if resource == "*" {
        return Some(ResourceType::None);
    }
    let arn = Arn::parse(resource)?;
    match arn.service {
        "s3" if arn.region.is_empty() && arn.account.is_empty() && !arn.resource.is_empty() => {
            Some(if arn.resource.contains('/') {
                ResourceType::Object
            } else {
                ResourceType::Bucket
            })
        }
        "kms" if matches!(arn.resource_type(), Some(("key" | "alias", _))) => {
            Some(ResourceType::KmsKey)
        }
        _ => None,
    }
}

/// One problem the lint found.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum LintProblem {
    /// The action is granted on a resource of another type (e.g. `s3:GetBucketLocation` on `*`).
    WrongResource {
        /// 0-based position of the statement.
        index: usize,
        /// The action, as written.
        action: String,
        /// The resource it is granted on.
        resource: String,
        /// The resource type the action acts on.
        needs: ResourceType,
    },
    /// The action's resource type is not known to s3doctor (see [`resource_type`]).
    UnknownAction {
        /// 0-based position of the statement.
        index: usize,
        /// The action, as written.
        action: String,
    },
    /// A wildcard action or a `NotAction`/`NotResource` grant: not least privilege.
    Broad {
        /// 0-based position of the statement.
        index: usize,
        /// The element, in words (`NotAction`, `the action "s3:*"`).
        element: String,
    },
    /// A `Resource` entry that is neither `*` nor an S3 or KMS ARN.
    UnknownResource {
        /// 0-based position of the statement.
        index: usize,
        /// The entry, as written.
        resource: String,
    },
}

impl fmt::Display for LintProblem {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            LintProblem::WrongResource {
                index,
                action,
                resource,
                needs,
            } => write!(
                f,
                "statement #{}: {action} is granted on {resource:?}, but it needs {}",
                index + 1,
                needs.describe()
            ),
            LintProblem::UnknownAction { index, action } => write!(
                f,
                "statement #{}: the resource type of {action} is not known to s3doctor",
                index + 1
            ),
            LintProblem::Broad { index, element } => write!(
                f,
                "statement #{}: {element} is broader than least privilege",
                index + 1
            ),
            LintProblem::UnknownResource { index, resource } => write!(
                f,
                "statement #{}: {resource:?} is neither \"*\" nor an S3 or KMS ARN",
                index + 1
            ),
        }
    }
}

/// The problems of a policy that failed the lint; shown one per line.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct LintError(pub Vec<LintProblem>);

impl fmt::Display for LintError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("the generated policy is not least privilege: ")?;
        let lines: Vec<String> = self.0.iter().map(ToString::to_string).collect();
        f.write_str(&lines.join("; "))
    }
}

impl std::error::Error for LintError {}

/// Checks every Allow statement of `doc`: each action on resources of its type only (see the
/// module documentation), no wildcard action, no `NotAction`/`NotResource`. Deny statements are
/// not linted (a broad Deny is not a grant).
pub fn lint(doc: &PolicyDocument) -> Result<(), LintError> {
    let mut problems = Vec::new();
    for (index, statement) in doc.statement.iter().enumerate() {
        if statement.effect != Effect::Allow {
            continue;
        }
        if statement.not_action.is_some() {
            problems.push(LintProblem::Broad {
                index,
                element: "NotAction".to_owned(),
            });
        }
        if statement.not_resource.is_some() {
            problems.push(LintProblem::Broad {
                index,
                element: "NotResource".to_owned(),
            });
        }
        let resources: Vec<&str> = statement.resource.iter().flat_map(|r| r.iter()).collect();
        for action in statement.action.iter().flat_map(|a| a.iter()) {
            if action.contains(['*', '?']) {
                problems.push(LintProblem::Broad {
                    index,
                    element: format!("the action {action:?}"),
                });
                continue;
            }
            let Some(needs) = resource_type(action) else {
                problems.push(LintProblem::UnknownAction {
                    index,
                    action: action.to_owned(),
                });
                continue;
            };
            for resource in &resources {
                match resource_kind(resource) {
                    Some(kind) if kind == needs => {}
                    Some(_) => problems.push(LintProblem::WrongResource {
                        index,
                        action: action.to_owned(),
                        resource: (*resource).to_owned(),
                        needs,
                    }),
                    None => problems.push(LintProblem::UnknownResource {
                        index,
                        resource: (*resource).to_owned(),
                    }),
                }
            }
        }
    }
    problems.dedup();
    if problems.is_empty() {
        Ok(())
    } else {
        Err(LintError(problems))
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::generate::{Access, MULTIPART_ACTIONS, generate_with};
    use proptest::prelude::*;

    fn doc(json: &str) -> PolicyDocument {
        PolicyDocument::parse(json).unwrap()
    }

    #[test]
    fn get_bucket_location_on_star_is_refused() {
        // The policy s3doctor generated before: s3:GetBucketLocation on "*" as well as on the
        // bucket (incident 1's "Option B").
        let before = doc(r#"{"Version":"2012-10-17","Statement":[
            {"Sid":"ListBuckets","Effect":"Allow",
             "Action":["s3:ListAllMyBuckets","s3:GetBucketLocation"],"Resource":"*"},
            {"Sid":"BucketAccess","Effect":"Allow",
             "Action":["s3:ListBucket","s3:GetBucketLocation"],"Resource":"arn:aws:s3:::clipizy-dev"}]}"#);
        let err = lint(&before).unwrap_err();
        assert_eq!(
            err.0,
            [LintProblem::WrongResource {
                index: 0,
                action: "s3:GetBucketLocation".into(),
                resource: "*".into(),
                needs: ResourceType::Bucket,
            }]
        );
        assert_eq!(
            err.to_string(),
            "the generated policy is not least privilege: statement #1: s3:GetBucketLocation is \
             granted on \"*\", but it needs a bucket ARN (arn:aws:s3:::BUCKET)"
        );
    }

    #[test]
    fn each_action_on_its_own_resource_type() {
        let wrong = doc(r#"{"Statement":[
            {"Effect":"Allow","Action":"s3:ListAllMyBuckets","Resource":"arn:aws:s3:::b"},
            {"Effect":"Allow","Action":"s3:ListBucket","Resource":"arn:aws:s3:::b/*"},
            {"Effect":"Allow","Action":"s3:PutObject","Resource":["arn:aws:s3:::b/*","arn:aws:s3:::b"]},
            {"Effect":"Allow","Action":"kms:Decrypt","Resource":"*"},
            {"Effect":"Allow","Action":"s3:GetObject","Resource":"arn:aws:iam::1:user/x"},
            {"Effect":"Allow","Action":["s3:Get*","s3:MadeUp"],"Resource":"*"},
            {"Effect":"Allow","NotAction":"s3:DeleteObject","NotResource":"arn:aws:s3:::b"},
            {"Effect":"Deny","Action":"*","Resource":"*"}]}"#);
        let problems = lint(&wrong).unwrap_err().0;
        let indexes: Vec<usize> = problems
            .iter()
            .map(|p| match p {
                LintProblem::WrongResource { index, .. }
                | LintProblem::UnknownAction { index, .. }
                | LintProblem::Broad { index, .. }
                | LintProblem::UnknownResource { index, .. } => *index,
            })
            .collect();
        assert_eq!(indexes, [0, 1, 2, 3, 4, 5, 5, 6, 6]);
        assert!(matches!(
            &problems[2],
            LintProblem::WrongResource { resource, needs: ResourceType::Object, .. }
                if resource == "arn:aws:s3:::b"
        ));

        let right = doc(r#"{"Statement":[
            {"Effect":"Allow","Action":"s3:ListAllMyBuckets","Resource":"*"},
            {"Effect":"Allow","Action":["s3:ListBucket","S3:GETBUCKETLOCATION"],"Resource":"arn:aws:s3:::b"},
            {"Effect":"Allow","Action":["s3:PutObject","s3:AbortMultipartUpload"],"Resource":"arn:aws:s3:::b/uploads/*"},
            {"Effect":"Allow","Action":["kms:GenerateDataKey","kms:Decrypt"],
             "Resource":"arn:aws:kms:eu-west-1:123456789012:key/1234abcd-12ab-34cd-56ef-1234567890ab"}]}"#);
        assert_eq!(lint(&right), Ok(()));
    }

    fn bucket_name() -> impl Strategy<Value = String> {
        "[a-z0-9][a-z0-9.-]{1,61}[a-z0-9]"
    }

    proptest! {
        /// The generator never regresses: whatever the buckets, access and prefix, its policy
        /// lints clean (no action on "*" that has a resource type, and so on).
        #[test]
        fn generated_policies_lint_clean(
            buckets in prop::collection::vec(bucket_name(), 0..5),
            access in prop_oneof![Just(Access::Read), Just(Access::ReadWrite), Just(Access::Full)],
            prefix in prop::option::of("[a-zA-Z0-9/._-]{0,20}"),
            multipart in prop::bool::ANY,
        ) {
            let extra: &[&str] = if multipart { &MULTIPART_ACTIONS } else { &[] };
            let doc = generate_with("aws", &buckets, access, prefix.as_deref(), extra);
            prop_assert_eq!(lint(&doc), Ok(()));
        }
    }
}
