//! The remedy's least-privilege S3 policy: generation, validation before sending, default name.

use std::collections::HashSet;
use std::fmt;

use super::document::{Effect, OneOrMany, PolicyDocument, PolicyError, Statement};
use crate::arn;

/// IAM's limit for a managed policy document, in characters, whitespace not counted.
pub const MANAGED_POLICY_MAX_CHARS: usize = 6_144;

/// IAM's limit for a policy name.
pub const POLICY_NAME_MAX_CHARS: usize = 128;

/// Actions of the `ListBuckets` statement, on `*`: let tools list buckets. Only
/// `s3:ListAllMyBuckets` has no resource type; `s3:GetBucketLocation` acts on a bucket and is
/// granted on each bucket's ARN in `BucketAccess` (see [`super::lint`]).
pub const LIST_BUCKETS_ACTIONS: [&str; 1] = ["s3:ListAllMyBuckets"];

/// How much the application needs to do with the bucket's objects (`--access`).
#[derive(
    Clone, Copy, Debug, Default, PartialEq, Eq, Hash, serde::Serialize, serde::Deserialize,
)]
#[cfg_attr(feature = "clap", derive(clap::ValueEnum))]
#[serde(rename_all = "kebab-case")]
pub enum Access {
    /// Download objects only.
    Read,
    /// Upload, download and delete objects: what an app storing files needs.
    #[default]
    ReadWrite,
    /// Also set object ACLs (`s3:PutObjectAcl`), as incident 1's policy does.
    Full,
}

impl Access {
    /// The command-line and JSON spelling: `read`, `read-write`, `full`.
    pub fn as_str(self) -> &'static str {
        match self {
            Access::Read => "read",
            Access::ReadWrite => "read-write",
            Access::Full => "full",
        }
    }

    /// Actions granted on `arn:aws:s3:::BUCKET/*`, in incident 1's order
    /// (`s3:PutObject`, `s3:GetObject`, `s3:DeleteObject`, `s3:PutObjectAcl`).
    pub fn object_actions(self) -> &'static [&'static str] {
        match self {
            Access::Read => &["s3:GetObject"],
            Access::ReadWrite => &["s3:PutObject", "s3:GetObject", "s3:DeleteObject"],
            Access::Full => &[
                "s3:PutObject",
                "s3:GetObject",
                "s3:DeleteObject",
                "s3:PutObjectAcl",
            ],
        }
    }

    /// Actions granted on `arn:aws:s3:::BUCKET`; the same at every access level.
    pub fn bucket_actions(self) -> &'static [&'static str] {
        &["s3:ListBucket", "s3:GetBucketLocation"]
    }
}

impl fmt::Display for Access {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

/// The least-privilege policy for `buckets` at `access`, in incident 1's shape: `ListBuckets`
/// (`s3:ListAllMyBuckets` on `*`; incident 1's Option B also put `s3:GetBucketLocation` there,
/// which grants it on every bucket), then for each bucket `BucketAccess`
/// (bucket actions on `arn:aws:s3:::B`) and `ObjectAccess` (object actions on
/// `arn:aws:s3:::B/*`, or `arn:aws:s3:::B/<prefix>*` with a prefix).
///
/// With one bucket the Sids are exactly `ListBuckets`, `BucketAccess`, `ObjectAccess`; with
/// several they end in the bucket name in CamelCase (`BucketAccessClipizyDev`), numbered when two
/// names give the same suffix. Repeated bucket names count once. Bucket names are not checked
/// here: validate them first. Run [`validate`] and [`super::lint::lint`] before sending the
/// result to IAM.
pub fn generate(
    partition: &str,
    buckets: &[String],
    access: Access,
    prefix: Option<&str>,
) -> PolicyDocument {
    generate_with(partition, buckets, access, prefix, &[])
}

/// What multipart uploads need on top of `s3:PutObject`: aborting (clean-up) and listing the
/// parts of an upload (resuming). Added with `--multipart`.
pub const MULTIPART_ACTIONS: [&str; 2] = ["s3:AbortMultipartUpload", "s3:ListMultipartUploadParts"];

/// [`generate`], with `extra` object actions (such as [`MULTIPART_ACTIONS`]) granted too.
pub fn generate_with(
    partition: &str,
    buckets: &[String],
    access: Access,
    prefix: Option<&str>,
    extra: &[&str],
) -> PolicyDocument {
    let mut object_actions: Vec<&str> = access.object_actions().to_vec();
    for a in extra {
        if !object_actions.contains(a) {
            object_actions.push(a);
        }
    }
    let buckets = dedup(buckets);
    let mut statements = vec![allow(
        "ListBuckets".to_owned(),
        &LIST_BUCKETS_ACTIONS,
        "*".to_owned(),
    )];
    let mut used_suffixes = HashSet::new();
    let several = buckets.len() > 1;
    for bucket in buckets {
        let suffix = if several {
            unique(camel_alphanumeric(bucket), &mut used_suffixes)
        } else {
            String::new()
        };
        statements.push(allow(
            format!("BucketAccess{suffix}"),
            access.bucket_actions(),
            arn::bucket_arn(partition, bucket),
        ));
        statements.push(allow(
            format!("ObjectAccess{suffix}"),
            &object_actions,
            arn::object_arn(partition, bucket, &format!("{}*", prefix.unwrap_or(""))),
        ));
    }
    PolicyDocument::new(statements)
}

/// The bucket-policy statements the owner of another account's `bucket` adds so that
/// `principal` (an IAM user or role ARN) may do what the app needs: the same actions as
/// [`generate_with`], granted in the bucket's own policy. Access across accounts needs this
/// *and* the identity policy on the caller's side.
pub fn cross_account_bucket_policy(
    bucket: &str,
    principal: &str,
    access: Access,
    prefix: Option<&str>,
    extra: &[&str],
) -> PolicyDocument {
    let mut object_actions: Vec<&str> = access.object_actions().to_vec();
    for a in extra {
        if !object_actions.contains(a) {
            object_actions.push(a);
        }
    }
    let partition = arn::partition_in(principal);
    let who = || {
        Some(crate::Principal::Map(
            [("AWS".to_owned(), OneOrMany::from(principal))].into(),
        ))
    };
    PolicyDocument::new(vec![
        Statement {
            principal: who(),
            ..allow(
                "CrossAccountBucketAccess".to_owned(),
                access.bucket_actions(),
                arn::bucket_arn(partition, bucket),
            )
        },
        Statement {
            principal: who(),
            ..allow(
                "CrossAccountObjectAccess".to_owned(),
                &object_actions,
                arn::object_arn(partition, bucket, &format!("{}*", prefix.unwrap_or(""))),
            )
        },
    ])
}

/// The Sids of a [`bucket_grant`]: `(bucket statement, object statement)`.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct GrantSids {
    /// The statement on the bucket's ARN.
    pub bucket: String,
    /// The statement on the objects' ARN.
    pub objects: String,
}

/// The bucket-policy statements that grant `principal` (a user or role ARN) what the app needs
/// where the bucket policy is the only grant (servers without IAM managed policies): the
/// access level's bucket actions on the bucket's ARN, and `object_actions` on `bucket/*` (or
/// `bucket/PREFIX*`), each naming the principal as `{"AWS": [ARN]}`, in the principal's
/// partition. Lists stay lists (`"Resource": [ARN]`), as s3doctor has always written them.
pub fn bucket_grant(
    bucket: &str,
    principal: &str,
    sids: GrantSids,
    access: Access,
    object_actions: &[&str],
    prefix: Option<&str>,
) -> Vec<Statement> {
    let partition = arn::partition_in(principal);
    let grant = |sid: String, actions: &[&str], resource: String| Statement {
        sid: Some(sid),
        principal: Some(crate::Principal::aws(OneOrMany::Many(vec![
            principal.to_owned(),
        ]))),
        action: Some(OneOrMany::from(actions)),
        resource: Some(OneOrMany::Many(vec![resource])),
        ..Statement::new(Effect::Allow)
    };
    vec![
        grant(
            sids.bucket,
            access.bucket_actions(),
            arn::bucket_arn(partition, bucket),
        ),
        grant(
            sids.objects,
            object_actions,
            arn::object_arn(partition, bucket, &format!("{}*", prefix.unwrap_or(""))),
        ),
    ]
}

/// `doc` with s3:GetObject on the app's own objects (`--key`, as `(bucket, key)`) that a
/// prefix-scoped policy leaves out: reading them is what the app needs too. One statement,
/// `AppObjects`; `doc` unchanged without any.
pub fn with_objects(
    mut doc: PolicyDocument,
    partition: &str,
    objects: &[(String, String)],
) -> PolicyDocument {
    let mut arns: Vec<String> = Vec::new();
    for (bucket, key) in objects {
        let arn = arn::object_arn(partition, bucket, key);
        if !arns.contains(&arn) {
            arns.push(arn);
        }
    }
    if arns.is_empty() {
        return doc;
    }
    doc.statement.push(Statement {
        sid: Some("AppObjects".to_owned()),
        action: Some(OneOrMany::from(&["s3:GetObject"][..])),
        resource: Some(OneOrMany::from(arns)),
        ..Statement::new(Effect::Allow)
    });
    doc
}

fn allow(sid: String, actions: &[&str], resource: String) -> Statement {
    Statement {
        sid: Some(sid),
        action: Some(OneOrMany::from(actions)),
        resource: Some(OneOrMany::One(resource)),
        ..Statement::new(Effect::Allow)
    }
}

fn dedup(buckets: &[String]) -> Vec<&str> {
    let mut seen = HashSet::new();
    buckets
        .iter()
        .map(String::as_str)
        .filter(|bucket| seen.insert(*bucket))
        .collect()
}

/// `clipizy-dev.eu` → `ClipizyDevEu`: ASCII letters and digits only, each run capitalised.
fn camel_alphanumeric(name: &str) -> String {
    let mut out = String::with_capacity(name.len());
    for part in name.split(|c: char| !c.is_ascii_alphanumeric()) {
        let mut chars = part.chars();
        if let Some(first) = chars.next() {
            out.push(first.to_ascii_uppercase());
            out.extend(chars);
        }
    }
    out
}

/// `base`, or `base2`, `base3`, … whichever is not yet in `used`; records the result.
fn unique(base: String, used: &mut HashSet<String>) -> String {
    if used.insert(base.clone()) {
        return base;
    }
    let mut n: u64 = 2;
    loop {
        let candidate = format!("{base}{n}");
        if used.insert(candidate.clone()) {
            return candidate;
        }
        n += 1;
    }
}

/// Checks a policy before it is sent to IAM as a managed policy and returns the pretty JSON
/// to send. Refused: no statement; a Sid that is empty, not only `[A-Za-z0-9]`, or used twice;
/// a statement without `Action`/`NotAction` or `Resource`/`NotResource`; more than
/// [`MANAGED_POLICY_MAX_CHARS`] characters.
///
/// IAM does not count whitespace towards the size, so the size is that of the compact JSON
/// (no whitespace outside strings; whitespace inside strings is counted, which errs on the safe
/// side).
pub fn validate(doc: &PolicyDocument) -> Result<String, PolicyError> {
    if doc.statement.is_empty() {
        return Err(PolicyError::NoStatement);
    }
    let mut sids = HashSet::new();
    for (index, statement) in doc.statement.iter().enumerate() {
        if let Some(sid) = &statement.sid {
            if sid.is_empty() || !sid.chars().all(|c| c.is_ascii_alphanumeric()) {
                return Err(PolicyError::InvalidSid {
                    index,
                    sid: sid.clone(),
                });
            }
            if !sids.insert(sid.as_str()) {
                return Err(PolicyError::DuplicateSid { sid: sid.clone() });
            }
        }
        if statement.action.is_none() && statement.not_action.is_none() {
            return Err(PolicyError::MissingElement {
                index,
                element: "Action",
            });
        }
        if statement.resource.is_none() && statement.not_resource.is_none() {
            return Err(PolicyError::MissingElement {
                index,
                element: "Resource",
            });
        }
    }
    let size = doc.to_compact_json().chars().count();
    if size > MANAGED_POLICY_MAX_CHARS {
        return Err(PolicyError::TooLarge {
            size,
            limit: MANAGED_POLICY_MAX_CHARS,
        });
    }
    Ok(doc.to_pretty_json())
}

/// The name under which the remedy creates the policy: `s3doctor-<buckets joined by ->-<access>`,
/// e.g. `s3doctor-clipizy-dev-read-write`. Only `[A-Za-z0-9+=,.@_-]` (anything else becomes `-`)
/// and at most 128 characters: a longer name keeps as many bucket characters as fit and ends in
/// a 16-hex-digit FNV-1a hash of the whole bucket list before the access level, so two different
/// lists do not share a truncated name. Repeated bucket names count once.
pub fn default_policy_name(buckets: &[String], access: Access) -> String {
    let buckets = dedup(buckets);
    let joined: String = buckets
        .join("-")
        .chars()
        .map(|c| if is_name_char(c) { c } else { '-' })
        .collect();
    let access = access.as_str();
    let full = if joined.is_empty() {
        format!("s3doctor-{access}")
    } else {
        format!("s3doctor-{joined}-{access}")
    };
    if full.len() <= POLICY_NAME_MAX_CHARS {
        return full;
    }
    let hash = format!("{:016x}", fnv1a_64(buckets.join("\n").as_bytes()));
    // "s3doctor-" + kept + "-" + hash + "-" + access
    let room = POLICY_NAME_MAX_CHARS - "s3doctor-".len() - 1 - hash.len() - 1 - access.len();
    // Every character is ASCII here, so byte and character counts agree.
    let kept = joined.get(..room).unwrap_or(&joined);
    let kept = kept.trim_end_matches(['-', '.']);
    format!("s3doctor-{kept}-{hash}-{access}")
}

fn is_name_char(c: char) -> bool {
    c.is_ascii_alphanumeric() || "+=,.@_-".contains(c)
}

/// 64-bit FNV-1a: small, stable across releases and platforms, good enough to tell names apart.
fn fnv1a_64(bytes: &[u8]) -> u64 {
    const OFFSET: u64 = 0xcbf2_9ce4_8422_2325;
    const PRIME: u64 = 0x0000_0100_0000_01b3;
    bytes.iter().fold(OFFSET, |hash, byte| {
        (hash ^ u64::from(*byte)).wrapping_mul(PRIME)
    })
}

#[cfg(test)]
mod tests {
    use super::*;
    use proptest::prelude::*;

    /// Incident 1's "Option B" policy, except that `s3:GetBucketLocation` is no longer granted
    /// on `*` as well as on the bucket (it acts on a bucket: see `policy::lint`).
    const INCIDENT_1_OPTION_B: &str = r#"{
  "Version": "2012-10-17",
  "Statement": [
    {
      "Sid": "ListBuckets",
      "Effect": "Allow",
      "Action": [
        "s3:ListAllMyBuckets"
      ],
      "Resource": "*"
    },
    {
      "Sid": "BucketAccess",
      "Effect": "Allow",
      "Action": [
        "s3:ListBucket",
        "s3:GetBucketLocation"
      ],
      "Resource": "arn:aws:s3:::clipizy-dev"
    },
    {
      "Sid": "ObjectAccess",
      "Effect": "Allow",
      "Action": [
        "s3:PutObject",
        "s3:GetObject",
        "s3:DeleteObject",
        "s3:PutObjectAcl"
      ],
      "Resource": "arn:aws:s3:::clipizy-dev/*"
    }
  ]
}"#;

    fn names(list: &[&str]) -> Vec<String> {
        list.iter().map(|s| (*s).to_owned()).collect()
    }

    fn sids(doc: &PolicyDocument) -> Vec<&str> {
        doc.statement
            .iter()
            .filter_map(|s| s.sid.as_deref())
            .collect()
    }

    #[test]
    fn one_bucket_full_is_incident_1_option_b() {
        let doc = generate("aws", &names(&["clipizy-dev"]), Access::Full, None);
        assert_eq!(doc, PolicyDocument::parse(INCIDENT_1_OPTION_B).unwrap());
        let ours: serde_json::Value = serde_json::from_str(&doc.to_pretty_json()).unwrap();
        let theirs: serde_json::Value = serde_json::from_str(INCIDENT_1_OPTION_B).unwrap();
        assert_eq!(ours, theirs);
        // Even the text is the same.
        assert_eq!(doc.to_pretty_json(), INCIDENT_1_OPTION_B);
        assert_eq!(validate(&doc).unwrap(), INCIDENT_1_OPTION_B);
    }

    #[test]
    fn resources_are_in_the_partition_asked_for() {
        for partition in ["aws", "aws-cn", "aws-us-gov"] {
            let doc = generate(partition, &names(&["b"]), Access::Read, Some("in/"));
            let resources: Vec<String> = doc
                .statement
                .iter()
                .flat_map(|s| s.resource.as_ref().unwrap().as_slice().to_vec())
                .collect();
            assert_eq!(
                resources,
                [
                    "*".to_owned(),
                    format!("arn:{partition}:s3:::b"),
                    format!("arn:{partition}:s3:::b/in/*")
                ]
            );
            validate(&doc).unwrap();
            // The bucket-side grant follows the grantee's partition.
            let grantee = format!("arn:{partition}:iam::123456789012:role/app");
            let grant = cross_account_bucket_policy("b", &grantee, Access::Read, None, &[]);
            let json = grant.to_pretty_json();
            assert!(
                json.contains(&format!("\"arn:{partition}:s3:::b\"")),
                "{json}"
            );
            assert!(
                json.contains(&format!("\"arn:{partition}:s3:::b/*\"")),
                "{json}"
            );
        }
    }

    #[test]
    fn access_levels() {
        assert_eq!(Access::default(), Access::ReadWrite);
        assert_eq!(Access::Read.object_actions(), ["s3:GetObject"]);
        assert_eq!(
            Access::ReadWrite.object_actions(),
            ["s3:PutObject", "s3:GetObject", "s3:DeleteObject"]
        );
        assert!(Access::Full.object_actions().contains(&"s3:PutObjectAcl"));
        assert_eq!(
            Access::Read.bucket_actions(),
            ["s3:ListBucket", "s3:GetBucketLocation"]
        );
        for access in [Access::Read, Access::ReadWrite, Access::Full] {
            let json = serde_json::to_string(&access).unwrap();
            assert_eq!(json, format!("\"{}\"", access.as_str()));
            #[cfg(feature = "clap")]
            assert_eq!(
                <Access as clap::ValueEnum>::from_str(access.as_str(), false).unwrap(),
                access
            );
        }
        let doc = generate("aws", &names(&["b"]), Access::Read, None);
        assert_eq!(
            doc.statement[2].action,
            Some(OneOrMany::Many(names(&["s3:GetObject"])))
        );
    }

    #[test]
    fn several_buckets_get_suffixed_sids() {
        let doc = generate(
            "aws",
            &names(&["clipizy-dev", "clipizy-prod", "clipizy-dev"]),
            Access::ReadWrite,
            None,
        );
        assert_eq!(
            sids(&doc),
            [
                "ListBuckets",
                "BucketAccessClipizyDev",
                "ObjectAccessClipizyDev",
                "BucketAccessClipizyProd",
                "ObjectAccessClipizyProd"
            ]
        );
        assert_eq!(
            doc.statement[4].resource,
            Some(OneOrMany::One("arn:aws:s3:::clipizy-prod/*".to_owned()))
        );
        assert!(validate(&doc).is_ok());
    }

    #[test]
    fn colliding_suffixes_are_numbered() {
        let doc = generate(
            "aws",
            &names(&["a-b", "a.b", "ab", "a-b2"]),
            Access::Read,
            None,
        );
        assert_eq!(
            sids(&doc),
            [
                "ListBuckets",
                "BucketAccessAB",
                "ObjectAccessAB",
                "BucketAccessAB2",
                "ObjectAccessAB2",
                "BucketAccessAb",
                "ObjectAccessAb",
                "BucketAccessAB22",
                "ObjectAccessAB22"
            ]
        );
        assert!(validate(&doc).is_ok());
    }

    #[test]
    fn prefix_scopes_object_statement() {
        let doc = generate(
            "aws",
            &names(&["clipizy-dev"]),
            Access::ReadWrite,
            Some("uploads/"),
        );
        assert_eq!(
            doc.statement[2].resource,
            Some(OneOrMany::One(
                "arn:aws:s3:::clipizy-dev/uploads/*".to_owned()
            ))
        );
        assert_eq!(
            doc.statement[1].resource,
            Some(OneOrMany::One("arn:aws:s3:::clipizy-dev".to_owned()))
        );
    }

    #[test]
    fn no_bucket_gives_only_list_statement() {
        let doc = generate("aws", &[], Access::Read, None);
        assert_eq!(sids(&doc), ["ListBuckets"]);
    }

    #[test]
    fn three_hundred_buckets_are_too_large() {
        let buckets: Vec<String> = (0..300).map(|i| format!("bucket-{i:03}")).collect();
        let err = validate(&generate("aws", &buckets, Access::ReadWrite, None)).unwrap_err();
        let PolicyError::TooLarge { size, limit } = err.clone() else {
            panic!("expected TooLarge, got {err:?}");
        };
        assert_eq!(limit, 6144);
        assert!(size > limit);
        let message = err.to_string();
        assert!(message.contains(&size.to_string()), "{message}");
        assert!(message.contains("6144"), "{message}");
        assert!(message.contains("managed"), "{message}");
    }

    #[test]
    fn size_ignores_whitespace() {
        // Enough buckets to be close to the limit: pretty JSON is over, compact is under.
        let mut n = 1;
        loop {
            let buckets: Vec<String> = (0..n).map(|i| format!("bucket-{i:03}")).collect();
            let doc = generate("aws", &buckets, Access::Read, None);
            if doc.to_pretty_json().len() > MANAGED_POLICY_MAX_CHARS {
                assert!(doc.to_compact_json().len() <= MANAGED_POLICY_MAX_CHARS);
                assert!(validate(&doc).is_ok());
                break;
            }
            n += 1;
        }
    }

    #[test]
    fn validate_rejects_bad_policies() {
        assert_eq!(
            validate(&PolicyDocument::new(vec![])),
            Err(PolicyError::NoStatement)
        );
        let mut doc = generate("aws", &names(&["b"]), Access::Read, None);
        doc.statement[1].sid = Some("Bucket-Access".to_owned());
        let err = validate(&doc).unwrap_err();
        assert_eq!(
            err,
            PolicyError::InvalidSid {
                index: 1,
                sid: "Bucket-Access".to_owned()
            }
        );
        assert!(err.to_string().contains("statement #2"));
        doc.statement[1].sid = Some(String::new());
        assert!(matches!(
            validate(&doc),
            Err(PolicyError::InvalidSid { .. })
        ));
        doc.statement[1].sid = Some("ObjectAccess".to_owned());
        assert_eq!(
            validate(&doc),
            Err(PolicyError::DuplicateSid {
                sid: "ObjectAccess".to_owned()
            })
        );
        doc.statement[1].sid = None;
        assert!(validate(&doc).is_ok());
        doc.statement[1].resource = None;
        assert_eq!(
            validate(&doc),
            Err(PolicyError::MissingElement {
                index: 1,
                element: "Resource"
            })
        );
        doc.statement[1].resource = Some("*".into());
        doc.statement[1].action = None;
        assert!(matches!(
            validate(&doc),
            Err(PolicyError::MissingElement {
                element: "Action",
                ..
            })
        ));
    }

    #[test]
    fn policy_names() {
        assert_eq!(
            default_policy_name(&names(&["clipizy-dev"]), Access::ReadWrite),
            "s3doctor-clipizy-dev-read-write"
        );
        assert_eq!(
            default_policy_name(&names(&["a", "b", "a"]), Access::Read),
            "s3doctor-a-b-read"
        );
        assert_eq!(default_policy_name(&[], Access::Full), "s3doctor-full");
        assert_eq!(
            default_policy_name(&names(&["we!rd name"]), Access::Full),
            "s3doctor-we-rd-name-full"
        );
    }

    #[test]
    fn long_policy_names_are_truncated_with_a_hash() {
        let a: Vec<String> = (0..10)
            .map(|i| format!("clipizy-bucket-number-{i}"))
            .collect();
        let mut b = a.clone();
        b[9] = "clipizy-bucket-number-x".to_owned();
        let name_a = default_policy_name(&a, Access::ReadWrite);
        let name_b = default_policy_name(&b, Access::ReadWrite);
        assert!(name_a.len() <= 128, "{name_a}");
        assert!(name_a.starts_with("s3doctor-clipizy-bucket-number-0-"));
        assert!(name_a.ends_with("-read-write"));
        assert_ne!(name_a, name_b);
        // Stable: same input, same name.
        assert_eq!(name_a, default_policy_name(&a, Access::ReadWrite));
        assert_eq!(fnv1a_64(b""), 0xcbf2_9ce4_8422_2325);
        assert_eq!(fnv1a_64(b"a"), 0xaf63_dc4c_8601_ec8c);
    }

    fn bucket_name() -> impl Strategy<Value = String> {
        "[a-z0-9][a-z0-9.-]{1,61}[a-z0-9]"
    }

    fn access() -> impl Strategy<Value = Access> {
        prop_oneof![
            Just(Access::Read),
            Just(Access::ReadWrite),
            Just(Access::Full)
        ]
    }

    proptest! {
        #[test]
        fn generate_validate_parse_round_trips(
            buckets in prop::collection::vec(bucket_name(), 1..6),
            access in access(),
            prefix in prop::option::of("[a-zA-Z0-9/._-]{0,20}"),
        ) {
            let doc = generate("aws", &buckets, access, prefix.as_deref());
            let json = validate(&doc).map_err(|e| TestCaseError::fail(e.to_string()))?;
            prop_assert_eq!(PolicyDocument::parse(&json), Ok(doc.clone()));
            let unique: HashSet<&String> = buckets.iter().collect();
            prop_assert_eq!(doc.statement.len(), 1 + 2 * unique.len());
            let sids = sids(&doc);
            let distinct: HashSet<&&str> = sids.iter().collect();
            prop_assert_eq!(distinct.len(), sids.len());
        }

        #[test]
        fn policy_names_are_always_valid(
            buckets in prop::collection::vec(any::<String>(), 0..12),
            access in access(),
        ) {
            let name = default_policy_name(&buckets, access);
            prop_assert!(name.len() <= POLICY_NAME_MAX_CHARS);
            prop_assert!(name.chars().all(is_name_char), "{}", name);
        }

        #[test]
        fn long_names_of_different_lists_differ(
            a in prop::collection::vec(bucket_name(), 3..8),
            b in prop::collection::vec(bucket_name(), 3..8),
        ) {
            let (mut a, mut b) = (dedup(&a).join(","), dedup(&b).join(","));
            // Force truncation with two long common first buckets.
            let long = format!("{},{},", "x".repeat(63), "y".repeat(63));
            a.insert_str(0, &long);
            b.insert_str(0, &long);
            let a: Vec<String> = a.split(',').map(str::to_owned).collect();
            let b: Vec<String> = b.split(',').map(str::to_owned).collect();
            let (na, nb) = (
                default_policy_name(&a, Access::Read),
                default_policy_name(&b, Access::Read),
            );
            prop_assert!(na.len() <= POLICY_NAME_MAX_CHARS);
            prop_assert_eq!(a == b, na == nb);
        }
    }

    #[test]
    fn the_apps_objects_outside_the_prefix_are_added_once() {
        let doc = generate_with(
            "aws",
            &["b".to_owned()],
            Access::ReadWrite,
            Some("uploads/"),
            &[],
        );
        let before = doc.statement.len();
        let objects = vec![
            ("b".to_owned(), "finance/q3.pdf".to_owned()),
            ("b".to_owned(), "finance/q3.pdf".to_owned()),
        ];
        let doc = with_objects(doc, "aws", &objects);
        assert_eq!(doc.statement.len(), before + 1);
        let added = doc.statement.last().unwrap();
        assert_eq!(added.sid.as_deref(), Some("AppObjects"));
        assert_eq!(
            serde_json::to_value(&added.resource).unwrap(),
            serde_json::json!(["arn:aws:s3:::b/finance/q3.pdf"])
        );
        assert!(validate(&doc).is_ok());
        assert_eq!(with_objects(doc.clone(), "aws", &[]), doc);
    }
}
