//! Names an app may give where a bucket name goes that are valid S3 targets but not general
//! purpose buckets: access point ARNs and aliases, Multi-Region Access Points, Object Lambda
//! and Outposts ARNs, directory buckets (S3 Express One Zone), and bucket ARNs. s3doctor does
//! not check these yet; each is told in one line with what to check by hand, never as an
//! "invalid bucket name".
//!
//! Sources: access point ARNs and aliases,
//! <https://docs.aws.amazon.com/AmazonS3/latest/userguide/access-points-alias.html>;
//! Multi-Region Access Point ARNs (`arn:aws:s3::ACCOUNT:accesspoint/ALIAS.mrap`; the alias
//! and the ARN are not interchangeable),
//! <https://docs.aws.amazon.com/AmazonS3/latest/userguide/MultiRegionAccessPointRequests.html>;
//! directory buckets (`base-name--zone-id--x-s3`),
//! <https://docs.aws.amazon.com/AmazonS3/latest/userguide/directory-bucket-naming-rules.html>.

use std::fmt;

/// A target s3doctor recognises but does not check.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum OtherTarget {
    /// `arn:PARTITION:s3:REGION:ACCOUNT:accesspoint/NAME`
    AccessPointArn { account: String, name: String },
    /// `NAME-…-s3alias`
    AccessPointAlias,
    /// `arn:PARTITION:s3::ACCOUNT:accesspoint/ALIAS.mrap`
    MultiRegionArn { account: String },
    /// `ALIAS.mrap` alone: requests name the ARN, not the alias.
    MultiRegionAlias,
    /// `arn:PARTITION:s3-object-lambda:…`, or an alias ending in `--ol-s3`.
    ObjectLambda,
    /// `arn:PARTITION:s3-outposts:…`
    Outposts,
    /// `BASE--ZONE-ID--x-s3` (S3 Express One Zone).
    DirectoryBucket,
    /// A name ending in `--table-s3` (S3 Tables).
    TableBucket,
    /// `arn:PARTITION:s3:::NAME`: the bucket's ARN where its name goes.
    BucketArn(String),
    /// Any other ARN.
    OtherArn,
}

/// The target `name` is, when it is one of these.
pub fn recognise(name: &str) -> Option<OtherTarget> {
    if name.starts_with("arn:") {
        return Some(from_arn(name));
    }
    let lower = name.to_ascii_lowercase();
    Some(if lower.ends_with("--x-s3") {
        OtherTarget::DirectoryBucket
    } else if lower.ends_with("-s3alias") {
        OtherTarget::AccessPointAlias
    } else if lower.ends_with("--ol-s3") {
        OtherTarget::ObjectLambda
    } else if lower.ends_with(".mrap") {
        OtherTarget::MultiRegionAlias
    } else if lower.ends_with("--table-s3") {
        OtherTarget::TableBucket
    } else {
        return None;
    })
}

/// `arn:partition:service:region:account:resource`, read by its service and resource.
fn from_arn(arn: &str) -> OtherTarget {
    let parts: Vec<&str> = arn.splitn(6, ':').collect();
    let [_, _, service, region, account, resource] = parts.as_slice() else {
        return OtherTarget::OtherArn;
    };
    let (account, region) = ((*account).to_owned(), *region);
    match (*service, resource.strip_prefix("accesspoint/")) {
        ("s3", Some(rest)) => {
            let name = rest.split('/').next().unwrap_or_default().to_owned();
            if region.is_empty() || name.ends_with(".mrap") {
                OtherTarget::MultiRegionArn { account }
            } else {
                OtherTarget::AccessPointArn { account, name }
            }
        }
        ("s3", None) if region.is_empty() && account.is_empty() && !resource.contains('/') => {
            OtherTarget::BucketArn((*resource).to_owned())
        }
        ("s3-object-lambda", _) => OtherTarget::ObjectLambda,
        ("s3-outposts", _) => OtherTarget::Outposts,
        _ => OtherTarget::OtherArn,
    }
}

impl OtherTarget {
    /// What the name is, and that s3doctor does not check it yet.
    fn what(&self) -> String {
        let not = |what: &str, kinds: &str| {
            format!("{what}: s3doctor checks general purpose buckets only, not {kinds} yet")
        };
        match self {
            OtherTarget::AccessPointArn { .. } => not("an S3 access point ARN", "access points"),
            OtherTarget::AccessPointAlias => not("an S3 access point alias", "access points"),
            OtherTarget::MultiRegionArn { .. } => not(
                "a Multi-Region Access Point ARN",
                "Multi-Region Access Points",
            ),
            OtherTarget::MultiRegionAlias => not(
                "a Multi-Region Access Point alias (apps address it by its ARN, \
                 arn:aws:s3::ACCOUNT:accesspoint/ALIAS.mrap, not by the alias)",
                "Multi-Region Access Points",
            ),
            OtherTarget::ObjectLambda => not("an S3 Object Lambda access point", "Object Lambda"),
            OtherTarget::Outposts => not("an S3 on Outposts ARN", "Outposts buckets"),
            OtherTarget::DirectoryBucket => not(
                "a directory bucket (S3 Express One Zone)",
                "directory buckets",
            ),
            OtherTarget::TableBucket => not(
                "an S3 Tables name (ending in --table-s3)",
                "table buckets (they hold tables, not objects)",
            ),
            OtherTarget::BucketArn(name) => format!("the ARN of bucket {name}"),
            OtherTarget::OtherArn => "an ARN, not a bucket name".to_owned(),
        }
    }

    /// What to check by hand instead (or, for an ARN of a bucket, what to give).
    fn by_hand(&self) -> String {
        match self {
            OtherTarget::AccessPointArn { account, name } => format!(
                "By hand: `aws s3control get-access-point --account-id {account} --name {name}` \
                 names its bucket and network origin; a request must be allowed by the access \
                 point's policy (`get-access-point-policy`), the bucket's policy and the \
                 identity policy; `s3doctor check --bucket BUCKET` checks the last two"
            ),
            OtherTarget::AccessPointAlias => "By hand: find it by its Alias in `aws s3control \
                 list-access-points --account-id ACCOUNT`, read its policy \
                 (`get-access-point-policy`), and run `s3doctor check --bucket BUCKET` on the \
                 bucket it names"
                .to_owned(),
            OtherTarget::MultiRegionArn { account } => format!(
                "By hand: `aws s3control list-multi-region-access-points --account-id {account} \
                 --region us-west-2` names its buckets; run `s3doctor check --bucket BUCKET` on \
                 each, read its policy (`get-multi-region-access-point-policy`), and make sure \
                 the app's SDK signs with SigV4A, which these ARNs need"
            ),
            OtherTarget::MultiRegionAlias => "By hand: `aws s3control \
                 list-multi-region-access-points --account-id ACCOUNT --region us-west-2` names \
                 its buckets; run `s3doctor check --bucket BUCKET` on each"
                .to_owned(),
            OtherTarget::ObjectLambda => "By hand: the caller needs s3-object-lambda \
                 permissions, and the Lambda function's role and the supporting access point \
                 (`aws s3control get-access-point-configuration-for-object-lambda`) must allow \
                 the request; `s3doctor check --bucket BUCKET` checks the bucket behind it"
                .to_owned(),
            OtherTarget::Outposts => "By hand: `aws s3control get-bucket-policy --account-id \
                 ACCOUNT --bucket ARN` and the identity policy's s3-outposts:* actions decide \
                 access"
                .to_owned(),
            OtherTarget::DirectoryBucket => "By hand: the identity policy (and the bucket \
                 policy, if any) must allow s3express:CreateSession on \
                 arn:aws:s3express:REGION:ACCOUNT:bucket/NAME, and `aws s3api head-bucket \
                 --bucket NAME --region REGION` with the app's keys tells whether they reach it"
                .to_owned(),
            OtherTarget::TableBucket => "By hand: `aws s3tables get-table-bucket-policy` and \
                 the identity policy's s3tables:* actions decide access"
                .to_owned(),
            OtherTarget::BucketArn(name) => format!("give its name instead (--bucket {name})"),
            OtherTarget::OtherArn => {
                "give the bucket's name (BUCKET in arn:aws:s3:::BUCKET)".to_owned()
            }
        }
    }
}

impl fmt::Display for OtherTarget {
    /// One line: what the name is, that s3doctor does not check it yet, and what to check by
    /// hand.
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let sep = if matches!(self, OtherTarget::BucketArn(_) | OtherTarget::OtherArn) {
            ": "
        } else {
            ". "
        };
        write!(f, "{}{sep}{}", self.what(), self.by_hand())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn each_kind_is_recognised_from_its_documented_form() {
        let cases = [
            (
                "arn:aws:s3:us-west-2:123456789012:accesspoint/test",
                OtherTarget::AccessPointArn {
                    account: "123456789012".into(),
                    name: "test".into(),
                },
            ),
            (
                "arn:aws:s3:us-west-2:123456789012:accesspoint/test/object/unit-01",
                OtherTarget::AccessPointArn {
                    account: "123456789012".into(),
                    name: "test".into(),
                },
            ),
            (
                "my-access-point-hrzrlukc5m36ft7okagglf3gmwluquse1b-s3alias",
                OtherTarget::AccessPointAlias,
            ),
            (
                "arn:aws:s3::123456789012:accesspoint/mfzwi23gnjvgw.mrap",
                OtherTarget::MultiRegionArn {
                    account: "123456789012".into(),
                },
            ),
            ("mfzwi23gnjvgw.mrap", OtherTarget::MultiRegionAlias),
            (
                "bucket-base-name--usw2-az1--x-s3",
                OtherTarget::DirectoryBucket,
            ),
            (
                "arn:aws:s3-object-lambda:us-west-2:123456789012:accesspoint/olap",
                OtherTarget::ObjectLambda,
            ),
            ("my-olap-abcdefgh--ol-s3", OtherTarget::ObjectLambda),
            (
                "arn:aws:s3-outposts:us-west-2:123456789012:outpost/op-01ac5d28a6a232904/bucket/b",
                OtherTarget::Outposts,
            ),
            ("tables--table-s3", OtherTarget::TableBucket),
            (
                "arn:aws:s3:::clipizy-dev",
                OtherTarget::BucketArn("clipizy-dev".into()),
            ),
            (
                "arn:aws:iam::123456789012:user/Runpod",
                OtherTarget::OtherArn,
            ),
        ];
        for (name, want) in cases {
            assert_eq!(recognise(name), Some(want), "{name}");
        }
        for bucket in ["clipizy-dev", "my.bucket", "s3alias-bucket", "x-s3"] {
            assert_eq!(recognise(bucket), None, "{bucket}");
        }
    }

    #[test]
    fn every_line_says_it_is_not_checked_yet_and_never_invalid() {
        for name in [
            "arn:aws:s3:us-west-2:123456789012:accesspoint/test",
            "ap-hrzrlukc5m36ft7okagglf3gmwluquse1b-s3alias",
            "arn:aws:s3::123456789012:accesspoint/mfzwi23gnjvgw.mrap",
            "mfzwi23gnjvgw.mrap",
            "base--usw2-az1--x-s3",
            "x--ol-s3",
            "arn:aws:s3-outposts:us-west-2:123456789012:outpost/op-1/bucket/b",
            "t--table-s3",
        ] {
            let line = recognise(name).expect(name).to_string();
            assert!(line.contains("not") && line.contains("yet"), "{line}");
            assert!(line.contains("By hand"), "{line}");
            assert!(!line.to_lowercase().contains("invalid"), "{line}");
            assert!(!line.contains('\n'), "{line}");
        }
    }
}
