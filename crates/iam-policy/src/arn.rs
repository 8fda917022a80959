//! ARNs: the one parser ([`Arn`], which the policy evaluator and lint read too), the principal
//! ARNs that STS `GetCallerIdentity` and access-denied messages name, and the ARNs s3doctor
//! writes (policies, roles, account roots, buckets, objects), each spelled here only, in the
//! caller's partition (`aws`, `aws-cn`, `aws-us-gov`, …).

use std::fmt;

/// Any ARN taken apart: `arn:PARTITION:SERVICE:REGION:ACCOUNT:RESOURCE`, the resource keeping
/// its own colons and slashes (`arn:aws:s3:::bucket/a:b` has the resource `bucket/a:b`). The one
/// place an ARN is split; nothing is checked beyond the shape (see [`parse_principal`] for a
/// principal's rules).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Arn<'a> {
    /// `aws`, `aws-cn`, `aws-us-gov`, …
    pub partition: &'a str,
    /// `iam`, `sts`, `s3`, `kms`, …
    pub service: &'a str,
    /// Empty for global services (IAM, STS principals, S3 buckets).
    pub region: &'a str,
    /// The account id; empty for S3 buckets and objects.
    pub account: &'a str,
    /// `user/path/name`, `assumed-role/ROLE/SESSION`, `root`, `bucket/key`, `key/ID`, …
    pub resource: &'a str,
}

impl<'a> Arn<'a> {
    /// The parts of `text`, or `None` when it does not start with `arn:` or has fewer than six
    /// colon-separated parts. `text` is taken as it is (not trimmed).
    pub fn parse(text: &'a str) -> Option<Self> {
        let mut parts = text.splitn(6, ':');
        let (
            Some("arn"),
            Some(partition),
            Some(service),
            Some(region),
            Some(account),
            Some(resource),
        ) = (
            parts.next(),
            parts.next(),
            parts.next(),
            parts.next(),
            parts.next(),
            parts.next(),
        )
        else {
            return None;
        };
        Some(Arn {
            partition,
            service,
            region,
            account,
            resource,
        })
    }

    /// The resource's type and what follows it: `("role", "path/name")` for `role/path/name`,
    /// `("assumed-role", "ROLE/SESSION")`; `None` when the resource has no `/` (`root`).
    pub fn resource_type(&self) -> Option<(&'a str, &'a str)> {
        self.resource.split_once('/')
    }

    /// The name of an IAM user or role (`kind` is `"user"` or `"role"`): the last part of
    /// `user/path/NAME`; `None` for an ARN of anything else.
    pub fn iam_name(&self, kind: &str) -> Option<&'a str> {
        match self.resource_type() {
            Some((ty, path_and_name)) if self.service == "iam" && ty == kind => {
                path_and_name.rsplit('/').next()
            }
            _ => None,
        }
    }

    /// The role of an assumed-role session (`arn:…:sts::ACCOUNT:assumed-role/ROLE/SESSION`);
    /// `None` for an ARN of anything else.
    pub fn session_role(&self) -> Option<&'a str> {
        match self.resource_type() {
            Some(("assumed-role", rest)) if self.service == "sts" => {
                Some(rest.split_once('/').map_or(rest, |(role, _)| role))
            }
            _ => None,
        }
    }

    /// True for an account's root user, `arn:PARTITION:iam::ACCOUNT:root`.
    pub fn is_account_root(&self) -> bool {
        self.service == "iam" && self.resource == "root"
    }
}

/// What kind of principal an ARN names; decides whom a remedy policy can be attached to.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, serde::Serialize, serde::Deserialize)]
#[serde(rename_all = "kebab-case")]
pub enum PrincipalKind {
    /// `arn:aws:iam::ACCT:user/[path/]NAME` — attach with `AttachUserPolicy`.
    User,
    /// `arn:aws:sts::ACCT:assumed-role/ROLE/SESSION` — attach to the role.
    AssumedRole,
    /// `arn:aws:iam::ACCT:role/[path/]NAME`.
    Role,
    /// `arn:aws:iam::ACCT:root` — the account root user; nothing to attach to.
    Root,
    /// `arn:aws:sts::ACCT:federated-user/NAME` (`GetFederationToken`); nothing to attach to.
    FederatedUser,
    /// Any other IAM/STS resource; `name` holds the whole resource part.
    Unknown,
}

impl PrincipalKind {
    /// The stable name used in JSON reports (`principal_type`).
    pub fn as_str(self) -> &'static str {
        match self {
            Self::User => "user",
            Self::AssumedRole => "assumed-role",
            Self::Role => "role",
            Self::Root => "root",
            Self::FederatedUser => "federated-user",
            Self::Unknown => "unknown",
        }
    }
}

impl fmt::Display for PrincipalKind {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

/// A parsed IAM or STS principal ARN.
#[derive(Clone, Debug, PartialEq, Eq, serde::Serialize, serde::Deserialize)]
pub struct Principal {
    /// The ARN as given (surrounding whitespace removed).
    pub arn: String,
    /// `aws`, `aws-cn`, `aws-us-gov`, …
    pub partition: String,
    /// The account id (digits).
    pub account: String,
    /// Decides whom a remedy can be attached to.
    pub kind: PrincipalKind,
    /// User name, role name (also for an assumed role), federated user name, or `root`.
    pub name: String,
    /// IAM path of a user or role in IAM's own form (`/path/to/`); `None` when the path is `/`.
    /// A session's ARN carries no path: for an assumed role it is the role's, once learned
    /// (from the role the chain assumed, or IAM's GetRole).
    pub path: Option<String>,
    /// Session name of an assumed role.
    pub session: Option<String>,
}

/// The partition used when neither an identity nor a region tells one.
pub const DEFAULT_PARTITION: &str = "aws";

/// Region prefixes of the partitions other than `aws`, from the partition table the AWS SDK for
/// Rust ships (`endpoint_lib.rs`, each partition's `regionRegex`: `^cn\-\w+\-\d+$` is
/// `aws-cn`, `^us\-gov\-\w+\-\d+$` is `aws-us-gov`, …).
const REGION_PREFIXES: [(&str, &str); 7] = [
    ("cn-", "aws-cn"),
    ("us-gov-", "aws-us-gov"),
    ("us-iso-", "aws-iso"),
    ("us-isob-", "aws-iso-b"),
    ("eu-isoe-", "aws-iso-e"),
    ("us-isof-", "aws-iso-f"),
    ("eusc-", "aws-eusc"),
];

/// The partition a region belongs to: `aws-cn` for `cn-north-1`, `aws-us-gov` for
/// `us-gov-west-1`, `aws` for the commercial regions and for `None`.
pub fn partition_of_region(region: Option<&str>) -> &'static str {
    let region = region.unwrap_or("").trim();
    REGION_PREFIXES
        .iter()
        .find(|(prefix, _)| region.starts_with(prefix))
        .map_or(DEFAULT_PARTITION, |(_, partition)| partition)
}

/// The partition for ARNs written on behalf of `principal` (its own ARN's partition), or of
/// `region` when the principal is unknown.
pub fn partition_for(principal: Option<&Principal>, region: Option<&str>) -> String {
    principal.map_or_else(
        || partition_of_region(region).to_owned(),
        |p| p.partition.clone(),
    )
}

/// The partition an ARN names (`aws-cn` in `arn:aws-cn:iam::1:user/x`), or [`DEFAULT_PARTITION`]
/// when `arn` is not an ARN (a bare account id, `*`).
pub fn partition_in(arn: &str) -> &str {
    match arn.trim().split(':').collect::<Vec<_>>().as_slice() {
        ["arn", partition, ..] if !partition.is_empty() => partition,
        _ => DEFAULT_PARTITION,
    }
}

/// A customer managed policy: `arn:PARTITION:iam::ACCOUNT:policy/NAME`.
pub fn policy_arn(partition: &str, account: &str, name: &str) -> String {
    format!("arn:{partition}:iam::{account}:policy/{name}")
}

/// How a session's role is named while its path is not known: a session ARN
/// (`assumed-role/NAME/SESSION`) does not carry the role's path, so `role/NAME` may not be the
/// role's ARN (a role with a path has no other).
pub const PATH_NOT_KNOWN: &str = "path not known: the session ARN does not carry it";

/// An IAM role without a path: `arn:PARTITION:iam::ACCOUNT:role/NAME`.
pub fn role_arn(partition: &str, account: &str, name: &str) -> String {
    format!("arn:{partition}:iam::{account}:role/{name}")
}

/// An account's root, as key and bucket policies name the whole account:
/// `arn:PARTITION:iam::ACCOUNT:root`.
pub fn account_root_arn(partition: &str, account: &str) -> String {
    format!("arn:{partition}:iam::{account}:root")
}

/// An S3 bucket: `arn:PARTITION:s3:::BUCKET`.
pub fn bucket_arn(partition: &str, bucket: &str) -> String {
    format!("arn:{partition}:s3:::{bucket}")
}

/// S3 objects: `arn:PARTITION:s3:::BUCKET/KEY`, where `key` may be a pattern (`prefix/*`).
pub fn object_arn(partition: &str, bucket: &str, key: &str) -> String {
    format!("arn:{partition}:s3:::{bucket}/{key}")
}

/// Why a string is not a principal ARN. `Display` is one line and quotes the input.
#[derive(Clone, Debug, PartialEq, Eq, thiserror::Error)]
pub enum ArnError {
    /// Does not have the `arn:PARTITION:SERVICE:REGION:ACCOUNT:RESOURCE` shape.
    #[error("{0:?} is not an ARN (expected arn:PARTITION:SERVICE:REGION:ACCOUNT:RESOURCE)")]
    NotAnArn(String),
    /// The partition is empty or has characters a partition never has.
    #[error("{0:?} has an invalid partition")]
    BadPartition(String),
    /// An ARN, but not of IAM or STS, so it cannot name a principal.
    #[error("{0:?} is not an IAM or STS principal ARN")]
    NotAPrincipal(String),
    /// The account part is not a number.
    #[error("{0:?} has an invalid account id")]
    BadAccount(String),
    /// A user, role, assumed-role or federated-user ARN with an empty name or session.
    #[error("{0:?} is missing the principal's name or session")]
    MissingName(String),
}

/// Parses a principal ARN such as the `Arn` of `GetCallerIdentity`.
///
/// Accepts users and roles with paths, assumed-role sessions, federated users and the root
/// user in any partition; other IAM/STS resources parse as [`PrincipalKind::Unknown`].
/// The region part is ignored (it is empty for IAM and STS principals).
pub fn parse_principal(arn: &str) -> Result<Principal, ArnError> {
    let arn = arn.trim();
    let Some(Arn {
        partition,
        service,
        account,
        resource,
        ..
    }) = Arn::parse(arn)
    else {
        return Err(ArnError::NotAnArn(arn.to_string()));
    };
    if partition.is_empty()
        || !partition
            .bytes()
            .all(|b| b.is_ascii_lowercase() || b.is_ascii_digit() || b == b'-')
    {
        return Err(ArnError::BadPartition(arn.to_string()));
    }
    if service != "iam" && service != "sts" {
        return Err(ArnError::NotAPrincipal(arn.to_string()));
    }
    if account.is_empty() || !account.bytes().all(|b| b.is_ascii_digit()) {
        return Err(ArnError::BadAccount(arn.to_string()));
    }
    let (kind, name, path, session) = principal_resource(service, resource)
        .ok_or_else(|| ArnError::MissingName(arn.to_string()))?;
    Ok(Principal {
        arn: arn.to_string(),
        partition: partition.to_string(),
        account: account.to_string(),
        kind,
        name,
        path,
        session,
    })
}

/// The resource part of an IAM or STS principal ARN: its kind, name, IAM path and session;
/// `None` when the name or session is missing.
fn principal_resource(
    service: &str,
    resource: &str,
) -> Option<(PrincipalKind, String, Option<String>, Option<String>)> {
    let named = |name: &str| (!name.is_empty()).then(|| name.to_string());
    Some(match (service, resource.split_once('/')) {
        ("iam", None) if resource == "root" => {
            (PrincipalKind::Root, "root".to_string(), None, None)
        }
        ("iam", Some((ty @ ("user" | "role"), rest))) => {
            let (path, name) = match rest.rsplit_once('/') {
                Some((path, name)) => (Some(format!("/{path}/")), name),
                None => (None, rest),
            };
            let kind = if ty == "user" {
                PrincipalKind::User
            } else {
                PrincipalKind::Role
            };
            (kind, named(name)?, path, None)
        }
        ("sts", Some(("assumed-role", rest))) => {
            let (role, session) = rest.split_once('/')?;
            (
                PrincipalKind::AssumedRole,
                named(role)?,
                None,
                Some(named(session)?),
            )
        }
        ("sts", Some(("federated-user", name))) => {
            (PrincipalKind::FederatedUser, named(name)?, None, None)
        }
        _ => (PrincipalKind::Unknown, named(resource)?, None, None),
    })
}

impl Principal {
    /// The ARN of the IAM role behind an assumed-role session (`arn:PARTITION:iam::ACCT:role/NAME`),
    /// or this ARN for a role; `None` for other kinds.
    ///
    /// A session ARN does not carry the role's path, so for a role with a path (for example
    /// `/aws-reserved/sso.amazonaws.com/`) the ARN returned here differs from the role's real ARN
    /// until the path is learned ([`Principal::path`]). Use the role *name*
    /// ([`Principal::name`]) for IAM calls such as `AttachRolePolicy`, or `GetRole` to learn the
    /// real ARN.
    pub fn role_arn(&self) -> Option<String> {
        match self.kind {
            PrincipalKind::AssumedRole => Some(match &self.path {
                Some(path) => format!(
                    "arn:{}:iam::{}:role{path}{}",
                    self.partition, self.account, self.name
                ),
                None => role_arn(&self.partition, &self.account, &self.name),
            }),
            PrincipalKind::Role => Some(self.arn.clone()),
            _ => None,
        }
    }

    /// A customer managed policy named `name` in this principal's account and partition.
    pub fn policy_arn(&self, name: &str) -> String {
        policy_arn(&self.partition, &self.account, name)
    }

    /// Whether `expected` (the `--expect-principal` value) names this principal.
    ///
    /// `expected` is either a bare name or a full ARN. A bare name matches [`Principal::name`]
    /// (for an assumed role, the role name). An ARN matches when it names the same partition,
    /// account, kind and name; paths are ignored because user and role names are unique in an
    /// account whatever their path. For an assumed role, the role's ARN (with or without path)
    /// matches any of its sessions, and a session ARN must match the session too.
    /// Names are compared case-sensitively.
    pub fn matches(&self, expected: &str) -> bool {
        let expected = expected.trim();
        if expected.is_empty() {
            return false;
        }
        if !expected.starts_with("arn:") {
            return expected == self.name;
        }
        if expected == self.arn {
            return true;
        }
        let Ok(other) = parse_principal(expected) else {
            return false;
        };
        if other.partition != self.partition || other.account != self.account {
            return false;
        }
        match (self.kind, other.kind) {
            (PrincipalKind::AssumedRole, PrincipalKind::Role) => other.name == self.name,
            (PrincipalKind::AssumedRole, PrincipalKind::AssumedRole) => {
                other.name == self.name && other.session == self.session
            }
            (PrincipalKind::Root, PrincipalKind::Root) => true,
            (mine, theirs) => mine == theirs && other.name == self.name,
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use proptest::prelude::*;

    #[test]
    fn any_arn_is_taken_apart_once_with_the_resource_whole() {
        let object = Arn::parse("arn:aws:s3:::b/a:b/c").unwrap();
        assert_eq!(
            (
                object.service,
                object.region,
                object.account,
                object.resource
            ),
            ("s3", "", "", "b/a:b/c")
        );
        let key = Arn::parse("arn:aws-cn:kms:cn-north-1:123456789012:key/k-1").unwrap();
        assert_eq!(key.partition, "aws-cn");
        assert_eq!(key.resource_type(), Some(("key", "k-1")));
        for not_arn in [
            "",
            "*",
            "123456789012",
            "arn:aws:iam::123456789012",
            "urn:a:b:c:d:e",
        ] {
            assert_eq!(Arn::parse(not_arn), None, "{not_arn}");
        }
    }

    #[test]
    fn principals_read_from_the_one_parser() {
        let user = Arn::parse("arn:aws:iam::123456789012:user/team/a/alice").unwrap();
        assert_eq!(user.iam_name("user"), Some("alice"));
        assert_eq!(user.iam_name("role"), None);
        assert_eq!(user.session_role(), None);
        let session = Arn::parse("arn:aws:sts::123456789012:assumed-role/app/s-1").unwrap();
        assert_eq!(session.session_role(), Some("app"));
        assert_eq!(session.iam_name("role"), None);
        let role = Arn::parse("arn:aws:iam::123456789012:role/path/app").unwrap();
        assert_eq!(role.iam_name("role"), Some("app"));
        assert!(
            Arn::parse("arn:aws:iam::123456789012:root")
                .unwrap()
                .is_account_root()
        );
        assert!(
            !Arn::parse("arn:aws:sts::123456789012:root")
                .unwrap()
                .is_account_root()
        );
    }

    #[test]
    fn user_with_and_without_path() {
        let p = parse_principal("arn:aws:iam::188594592347:user/Runpod").unwrap();
        assert_eq!(p.kind, PrincipalKind::User);
        assert_eq!(p.partition, "aws");
        assert_eq!(p.account, "188594592347");
        assert_eq!(p.name, "Runpod");
        assert_eq!(p.path, None);
        assert_eq!(p.session, None);
        assert_eq!(p.role_arn(), None);

        let p = parse_principal("arn:aws:iam::123:user/path/to/Name").unwrap();
        assert_eq!(p.kind, PrincipalKind::User);
        assert_eq!(p.name, "Name");
        assert_eq!(p.path.as_deref(), Some("/path/to/"));
        assert_eq!(p.account, "123");
    }

    #[test]
    fn assumed_role() {
        let p = parse_principal("arn:aws:sts::123:assumed-role/Role/session").unwrap();
        assert_eq!(p.kind, PrincipalKind::AssumedRole);
        assert_eq!(p.name, "Role");
        assert_eq!(p.session.as_deref(), Some("session"));
        assert_eq!(p.role_arn().as_deref(), Some("arn:aws:iam::123:role/Role"));

        let sso =
            "arn:aws:sts::112233445566:assumed-role/AWSReservedSSO_Admin_0123/jane@example.com";
        let p = parse_principal(sso).unwrap();
        assert_eq!(p.name, "AWSReservedSSO_Admin_0123");
        assert_eq!(p.session.as_deref(), Some("jane@example.com"));
    }

    #[test]
    fn role_root_and_federated_user() {
        let p = parse_principal("arn:aws:iam::123:role/R").unwrap();
        assert_eq!(
            (p.kind, p.name.as_str(), p.path.as_deref()),
            (PrincipalKind::Role, "R", None)
        );
        assert_eq!(p.role_arn().as_deref(), Some("arn:aws:iam::123:role/R"));

        let p = parse_principal(
            "arn:aws:iam::123:role/aws-service-role/elasticbeanstalk.amazonaws.com/AWSServiceRole",
        )
        .unwrap();
        assert_eq!(p.name, "AWSServiceRole");
        assert_eq!(
            p.path.as_deref(),
            Some("/aws-service-role/elasticbeanstalk.amazonaws.com/")
        );

        let p = parse_principal("arn:aws:iam::123:root").unwrap();
        assert_eq!((p.kind, p.name.as_str()), (PrincipalKind::Root, "root"));

        let p = parse_principal("arn:aws:sts::123:federated-user/Bob").unwrap();
        assert_eq!(
            (p.kind, p.name.as_str()),
            (PrincipalKind::FederatedUser, "Bob")
        );
        assert_eq!(p.role_arn(), None);
    }

    #[test]
    fn partitions() {
        for partition in ["aws", "aws-cn", "aws-us-gov"] {
            let arn = format!("arn:{partition}:sts::123456789012:assumed-role/App/i-0abc");
            let p = parse_principal(&arn).unwrap();
            assert_eq!(p.partition, partition);
            assert_eq!(
                p.role_arn(),
                Some(format!("arn:{partition}:iam::123456789012:role/App"))
            );
        }
    }

    #[test]
    fn built_arns_carry_the_partition() {
        for (region, partition) in [
            ("us-east-1", "aws"),
            ("cn-north-1", "aws-cn"),
            ("us-gov-west-1", "aws-us-gov"),
        ] {
            assert_eq!(partition_of_region(Some(region)), partition);
            assert_eq!(
                policy_arn(partition, "123456789012", "app-s3"),
                format!("arn:{partition}:iam::123456789012:policy/app-s3")
            );
            assert_eq!(
                account_root_arn(partition, "123456789012"),
                format!("arn:{partition}:iam::123456789012:root")
            );
            assert_eq!(
                role_arn(partition, "123456789012", "App"),
                format!("arn:{partition}:iam::123456789012:role/App")
            );
            assert_eq!(
                bucket_arn(partition, "b"),
                format!("arn:{partition}:s3:::b")
            );
            assert_eq!(
                object_arn(partition, "b", "in/*"),
                format!("arn:{partition}:s3:::b/in/*")
            );
        }
    }

    #[test]
    fn the_principal_partition_wins_over_the_region() {
        for partition in ["aws", "aws-cn", "aws-us-gov"] {
            let user =
                parse_principal(&format!("arn:{partition}:iam::123456789012:user/app")).unwrap();
            assert_eq!(partition_for(Some(&user), Some("eu-west-1")), partition);
            assert_eq!(
                user.policy_arn("app-s3"),
                format!("arn:{partition}:iam::123456789012:policy/app-s3")
            );
        }
        assert_eq!(partition_for(None, Some("cn-northwest-1")), "aws-cn");
        assert_eq!(partition_for(None, Some("us-gov-east-1")), "aws-us-gov");
        assert_eq!(partition_for(None, None), "aws");
    }

    #[test]
    fn the_partition_an_arn_names() {
        assert_eq!(partition_in("arn:aws-cn:iam::1:user/x"), "aws-cn");
        assert_eq!(partition_in(" arn:aws-us-gov:iam::1:role/r"), "aws-us-gov");
        assert_eq!(partition_in("arn:aws:iam:::user/rgw"), "aws");
        assert_eq!(partition_in("123456789012"), "aws");
        assert_eq!(partition_in("arn::iam::1:root"), "aws");
    }

    #[test]
    fn regions_of_the_other_partitions() {
        assert_eq!(partition_of_region(Some("us-iso-east-1")), "aws-iso");
        assert_eq!(partition_of_region(Some("us-isob-east-1")), "aws-iso-b");
        assert_eq!(partition_of_region(Some("eu-isoe-west-1")), "aws-iso-e");
        assert_eq!(partition_of_region(Some("us-isof-south-1")), "aws-iso-f");
        assert_eq!(partition_of_region(Some("eusc-de-east-1")), "aws-eusc");
        // A region that merely contains a prefix is commercial.
        assert_eq!(partition_of_region(Some("eu-central-1")), "aws");
    }

    #[test]
    fn unknown_iam_resource() {
        let p = parse_principal("arn:aws:iam::123:group/Devs").unwrap();
        assert_eq!(
            (p.kind, p.name.as_str()),
            (PrincipalKind::Unknown, "group/Devs")
        );
    }

    #[test]
    fn trims_whitespace() {
        let p = parse_principal("  arn:aws:iam::123:user/Runpod\n").unwrap();
        assert_eq!(p.arn, "arn:aws:iam::123:user/Runpod");
    }

    #[test]
    fn errors() {
        assert!(matches!(parse_principal(""), Err(ArnError::NotAnArn(_))));
        assert!(matches!(
            parse_principal("Runpod"),
            Err(ArnError::NotAnArn(_))
        ));
        assert!(matches!(
            parse_principal("arn:aws:iam::123"),
            Err(ArnError::NotAnArn(_))
        ));
        assert!(matches!(
            parse_principal("arn::iam::123:root"),
            Err(ArnError::BadPartition(_))
        ));
        assert!(matches!(
            parse_principal("arn:aws:s3:::clipizy-dev"),
            Err(ArnError::NotAPrincipal(_))
        ));
        assert!(matches!(
            parse_principal("arn:aws:iam::abc:root"),
            Err(ArnError::BadAccount(_))
        ));
        assert!(matches!(
            parse_principal("arn:aws:iam:::root"),
            Err(ArnError::BadAccount(_))
        ));
        for bad in [
            "arn:aws:iam::123:user/",
            "arn:aws:iam::123:user/path/",
            "arn:aws:sts::123:assumed-role/Role",
            "arn:aws:sts::123:assumed-role/Role/",
            "arn:aws:sts::123:assumed-role//s",
            "arn:aws:sts::123:federated-user/",
            "arn:aws:iam::123:",
        ] {
            assert!(
                matches!(parse_principal(bad), Err(ArnError::MissingName(_))),
                "{bad}"
            );
        }
        let msg = parse_principal("arn:aws:s3:::b").unwrap_err().to_string();
        assert_eq!(msg, "\"arn:aws:s3:::b\" is not an IAM or STS principal ARN");
    }

    #[test]
    fn matches_user() {
        let p = parse_principal("arn:aws:iam::188594592347:user/Runpod").unwrap();
        assert!(p.matches("Runpod"));
        assert!(p.matches(" Runpod "));
        assert!(p.matches("arn:aws:iam::188594592347:user/Runpod"));
        assert!(p.matches("arn:aws:iam::188594592347:user/team/Runpod"));
        assert!(!p.matches("runpod"));
        assert!(!p.matches(""));
        assert!(!p.matches("arn:aws:iam::999999999999:user/Runpod"));
        assert!(!p.matches("arn:aws:iam::188594592347:role/Runpod"));
        assert!(!p.matches("arn:aws-cn:iam::188594592347:user/Runpod"));
        assert!(!p.matches("arn:garbage"));
    }

    #[test]
    fn matches_assumed_role() {
        let p = parse_principal("arn:aws:sts::123456789012:assumed-role/App/i-0abc").unwrap();
        assert!(p.matches("App"));
        assert!(p.matches("arn:aws:iam::123456789012:role/App"));
        assert!(p.matches("arn:aws:iam::123456789012:role/service-role/App"));
        assert!(p.matches("arn:aws:sts::123456789012:assumed-role/App/i-0abc"));
        assert!(!p.matches("arn:aws:sts::123456789012:assumed-role/App/other"));
        assert!(!p.matches("arn:aws:iam::123456789012:role/Other"));
        assert!(!p.matches("i-0abc"));
        assert!(!p.matches("app"));
    }

    #[test]
    fn matches_root_and_role() {
        let root = parse_principal("arn:aws:iam::123:root").unwrap();
        assert!(root.matches("root"));
        assert!(root.matches("arn:aws:iam::123:root"));
        assert!(!root.matches("arn:aws:iam::456:root"));
        let role = parse_principal("arn:aws:iam::123:role/R").unwrap();
        assert!(role.matches("R"));
        assert!(!role.matches("arn:aws:sts::123:assumed-role/R/s"));
    }

    #[test]
    fn kind_names_and_serde() {
        let kinds = [
            (PrincipalKind::User, "user"),
            (PrincipalKind::AssumedRole, "assumed-role"),
            (PrincipalKind::Role, "role"),
            (PrincipalKind::Root, "root"),
            (PrincipalKind::FederatedUser, "federated-user"),
            (PrincipalKind::Unknown, "unknown"),
        ];
        for (kind, name) in kinds {
            assert_eq!(kind.as_str(), name);
            assert_eq!(kind.to_string(), name);
            let de: PrincipalKind =
                serde::Deserialize::deserialize(serde::de::value::StrDeserializer::<
                    serde::de::value::Error,
                >::new(name))
                .unwrap();
            assert_eq!(de, kind);
        }
    }

    proptest! {
        #[test]
        fn never_panics(s in any::<String>(), e in any::<String>()) {
            if let Ok(p) = parse_principal(&s) {
                let _ = p.role_arn();
                let _ = p.matches(&e);
            }
        }

        #[test]
        fn never_panics_on_arn_like_text(
            s in "(arn)?(:[a-z-]{0,6}){0,4}:[0-9]{0,4}:(user|role|assumed-role|federated-user|root)?[/a-zA-Z@.]{0,12}"
        ) {
            if let Ok(p) = parse_principal(&s) {
                prop_assert!(p.matches(&p.arn));
                prop_assert!(p.matches(&p.name) || p.name.is_empty());
                let _ = p.role_arn();
            }
        }

        #[test]
        fn users_round_trip(path in "([a-z]{1,5}/){0,3}", name in "[A-Za-z0-9+=,.@_-]{1,20}") {
            let arn = format!("arn:aws:iam::123456789012:user/{path}{name}");
            let p = parse_principal(&arn).unwrap();
            prop_assert_eq!(p.kind, PrincipalKind::User);
            prop_assert_eq!(&p.name, &name);
            prop_assert_eq!(p.path.is_some(), !path.is_empty());
            prop_assert!(p.matches(&name));
        }
    }
}
