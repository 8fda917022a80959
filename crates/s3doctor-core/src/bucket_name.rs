//! Checks a bucket name against the S3 general purpose bucket naming rules before any call is made,
//! and tells apart the names of other S3 targets (access points, directory buckets, …) that
//! s3doctor does not check yet ([`other_targets`]).

use std::fmt;

pub mod other_targets;
pub use other_targets::OtherTarget;

/// Why a name given as a bucket is not checked: it breaks a naming rule, or it names another
/// kind of S3 target. `Display` is one line naming the name, for exit code 2.
#[derive(Clone, Debug, PartialEq, Eq, thiserror::Error)]
pub enum NotABucket {
    #[error("invalid bucket name {name:?}: {rule}")]
    Invalid { name: String, rule: BucketNameError },
    #[error("{name} is {target}")]
    NotChecked { name: String, target: OtherTarget },
}

impl NotABucket {
    /// Why, without the name (for a prompt where the name is right there).
    pub fn reason(&self) -> String {
        match self {
            NotABucket::Invalid { rule, .. } => rule.to_string(),
            NotABucket::NotChecked { target, .. } => format!("it is {target}"),
        }
    }
}

/// The check every `--bucket`, env-file bucket and typed bucket goes through: another kind of
/// target is said as such (it is valid in S3, not here yet), else the naming rules apply.
pub fn check(name: &str) -> Result<(), NotABucket> {
    if let Some(target) = other_targets::recognise(name) {
        return Err(NotABucket::NotChecked {
            name: name.to_owned(),
            target,
        });
    }
    validate(name).map_err(|rule| NotABucket::Invalid {
        name: name.to_owned(),
        rule,
    })
}

/// Prefixes that AWS reserves; a general purpose bucket name must not start with them.
/// (`sthree-` also covers the documented `sthree-configurator`.)
const RESERVED_PREFIXES: [&str; 3] = ["xn--", "sthree-", "amzn-s3-demo-"];

/// Suffixes that AWS reserves for aliases, access points, directory and table buckets.
const RESERVED_SUFFIXES: [&str; 5] = ["-s3alias", "--ol-s3", ".mrap", "--x-s3", "--table-s3"];

/// The first naming rule that a bucket name breaks. `Display` is one plain line naming the rule,
/// so it can be shown as is next to exit code 2.
#[derive(Clone, Debug, PartialEq, Eq, thiserror::Error)]
pub enum BucketNameError {
    /// Shorter than 3 or longer than 63 characters (the count is carried).
    #[error("bucket name must be 3 to 63 characters long (it has {0})")]
    Length(usize),
    /// A character other than a lowercase letter, digit, dot or hyphen.
    #[error(
        "bucket name may contain only lowercase letters, digits, dots (.) and hyphens (-), not {}",
        CharName(*.0)
    )]
    InvalidChar(char),
    /// Starts or ends with a dot or a hyphen.
    #[error("bucket name must begin and end with a lowercase letter or a digit")]
    BadFirstOrLast,
    /// Contains `..`.
    #[error("bucket name must not contain two adjacent periods (..)")]
    AdjacentPeriods,
    /// Looks like `192.168.5.4`.
    #[error("bucket name must not be formatted as an IP address (like 192.168.5.4)")]
    IpAddress,
    /// Starts with a prefix AWS reserves.
    #[error("bucket name must not start with {0:?}, a prefix reserved by AWS")]
    ReservedPrefix(&'static str),
    /// Ends with a suffix AWS reserves.
    #[error("bucket name must not end with {0:?}, a suffix reserved by AWS")]
    ReservedSuffix(&'static str),
}

/// Shows a character readably, spelling out the ones people cannot see or confuse.
struct CharName(char);

impl fmt::Display for CharName {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self.0 {
            c if c.is_ascii_uppercase() => write!(f, "the uppercase letter {c:?}"),
            '_' => f.write_str("an underscore (_)"),
            ' ' => f.write_str("a space"),
            c => write!(f, "{c:?}"),
        }
    }
}

/// Checks `name` against the general purpose bucket naming rules and returns the first rule it
/// breaks. Call it on every `--bucket` and every bucket read from an env file, so that a typo is
/// reported as bad input (exit 2) rather than as a confusing 400/403/404 from S3.
///
/// Rules not checked: uniqueness, the `-an` suffix that only account-regional-namespace buckets
/// carry, the "no dots with Transfer Acceleration" rule, and the looser rules of legacy
/// us-east-1 buckets created before March 2018 (uppercase, underscores, up to 255 characters).
pub fn validate(name: &str) -> Result<(), BucketNameError> {
    let len = name.chars().count();
    if !(3..=63).contains(&len) {
        return Err(BucketNameError::Length(len));
    }
    if let Some(c) = name
        .chars()
        .find(|c| !(c.is_ascii_lowercase() || c.is_ascii_digit() || *c == '.' || *c == '-'))
    {
        return Err(BucketNameError::InvalidChar(c));
    }
    let edge_ok = |c: Option<char>| c.is_some_and(|c| c.is_ascii_lowercase() || c.is_ascii_digit());
    if !edge_ok(name.chars().next()) || !edge_ok(name.chars().last()) {
        return Err(BucketNameError::BadFirstOrLast);
    }
    if name.contains("..") {
        return Err(BucketNameError::AdjacentPeriods);
    }
    if looks_like_ip_address(name) {
        return Err(BucketNameError::IpAddress);
    }
    if let Some(prefix) = RESERVED_PREFIXES.iter().find(|p| name.starts_with(*p)) {
        return Err(BucketNameError::ReservedPrefix(prefix));
    }
    if let Some(suffix) = RESERVED_SUFFIXES.iter().find(|s| name.ends_with(*s)) {
        return Err(BucketNameError::ReservedSuffix(suffix));
    }
    Ok(())
}

/// Four dot-separated groups of digits, as the AWS SDKs test it (`999.1.1.1` counts too).
fn looks_like_ip_address(name: &str) -> bool {
    let parts: Vec<&str> = name.split('.').collect();
    parts.len() == 4
        && parts
            .iter()
            .all(|p| !p.is_empty() && p.bytes().all(|b| b.is_ascii_digit()))
}

#[cfg(test)]
mod tests {
    use super::*;
    use proptest::prelude::*;

    #[test]
    fn incident_buckets_are_valid() {
        assert_eq!(validate("clipizy-dev"), Ok(()));
        assert_eq!(validate("sselfie-training-zips"), Ok(()));
        assert_eq!(validate("clipizy-prod"), Ok(()));
    }

    #[test]
    fn other_valid_names() {
        for name in [
            "abc",
            "a.b.c",
            "my.bucket.example.com",
            "1.2.3",
            "1.2.3.4.5",
            "1.2.3.a",
            "0bucket9",
            "a-b",
            &"a".repeat(63),
            "xn-a",
            "sthree",
            "bucket-s3alias-x",
            "bucket-an",
        ] {
            assert_eq!(validate(name), Ok(()), "{name}");
        }
    }

    #[test]
    fn rejects_uppercase_and_underscore() {
        assert_eq!(
            validate("My_Bucket"),
            Err(BucketNameError::InvalidChar('M'))
        );
        assert_eq!(
            validate("my_bucket"),
            Err(BucketNameError::InvalidChar('_'))
        );
        assert_eq!(
            validate("my bucket"),
            Err(BucketNameError::InvalidChar(' '))
        );
        assert_eq!(validate("bücket"), Err(BucketNameError::InvalidChar('ü')));
    }

    #[test]
    fn rejects_bad_length() {
        assert_eq!(validate("ab"), Err(BucketNameError::Length(2)));
        assert_eq!(validate(""), Err(BucketNameError::Length(0)));
        assert_eq!(validate(&"a".repeat(64)), Err(BucketNameError::Length(64)));
    }

    #[test]
    fn rejects_ip_address() {
        assert_eq!(validate("192.168.1.1"), Err(BucketNameError::IpAddress));
        assert_eq!(validate("999.999.999.999"), Err(BucketNameError::IpAddress));
    }

    #[test]
    fn rejects_adjacent_periods_and_bad_edges() {
        assert_eq!(validate("a..b"), Err(BucketNameError::AdjacentPeriods));
        assert_eq!(validate("-abc"), Err(BucketNameError::BadFirstOrLast));
        assert_eq!(validate("abc-"), Err(BucketNameError::BadFirstOrLast));
        assert_eq!(validate(".abc"), Err(BucketNameError::BadFirstOrLast));
        assert_eq!(validate("abc."), Err(BucketNameError::BadFirstOrLast));
    }

    #[test]
    fn rejects_reserved_prefixes_and_suffixes() {
        assert_eq!(
            validate("xn--abc"),
            Err(BucketNameError::ReservedPrefix("xn--"))
        );
        assert_eq!(
            validate("sthree-abc"),
            Err(BucketNameError::ReservedPrefix("sthree-"))
        );
        assert_eq!(
            validate("sthree-configurator-x"),
            Err(BucketNameError::ReservedPrefix("sthree-"))
        );
        assert_eq!(
            validate("amzn-s3-demo-bucket"),
            Err(BucketNameError::ReservedPrefix("amzn-s3-demo-"))
        );
        for suffix in RESERVED_SUFFIXES {
            let name = format!("bucket{suffix}");
            assert_eq!(
                validate(&name),
                Err(BucketNameError::ReservedSuffix(suffix)),
                "{name}"
            );
        }
    }

    #[test]
    fn messages_are_one_line_and_name_the_rule() {
        let cases = [
            ("ab", "3 to 63 characters"),
            ("My_Bucket", "uppercase letter 'M'"),
            ("my_bucket", "underscore"),
            ("a..b", "two adjacent periods"),
            ("192.168.1.1", "IP address"),
            ("-abc", "begin and end"),
            ("xn--abc", "\"xn--\""),
            ("abc.mrap", "\".mrap\""),
            ("a\nbc", "'\\n'"),
        ];
        for (name, needle) in cases {
            let msg = validate(name).unwrap_err().to_string();
            assert!(msg.contains(needle), "{msg}");
            assert!(!msg.contains('\n'), "{msg}");
        }
    }

    proptest! {
        #[test]
        fn never_panics(name in any::<String>()) {
            let _ = validate(&name);
        }

        #[test]
        fn never_panics_on_bucket_like_text(name in "[a-zA-Z0-9._ -]{0,70}") {
            let _ = validate(&name);
        }

        #[test]
        fn simple_names_pass(name in "[a-z0-9][a-z0-9-]{1,61}[a-z0-9]") {
            // Names of this shape can still hit a reserved prefix or suffix; those must fail.
            let reserved = RESERVED_PREFIXES.iter().any(|p| name.starts_with(p))
                || RESERVED_SUFFIXES.iter().any(|s| name.ends_with(s));
            prop_assert_eq!(validate(&name).is_ok(), !reserved, "{}", name);
        }
    }
}
