//! Where a pasted request went: the bucket, key, region and server named by the URLs in the
//! text (virtual-hosted and path-style S3 hosts, `s3://` URLs, boto3's `Failed to upload X to
//! BUCKET/KEY`) and by S3 resource ARNs. Placeholders people paste instead of real names
//! (`$BUCKET`, `[REMOVED]`, `***`) are dropped, so no command is built from them.

use std::sync::LazyLock;

use regex::Regex;

use super::{Fields, Request};
use crate::answers::is_aws_region;
use crate::bucket_name;

#[allow(clippy::expect_used)] // constant patterns, compiled and tested once
fn re(pattern: &str) -> Regex {
    Regex::new(pattern).expect("a valid pattern")
}

static HTTP_URL: LazyLock<Regex> = LazyLock::new(|| {
    re(r#"(?P<scheme>https?)://(?P<host>[A-Za-z0-9.\-]+(?::\d+)?)(?P<path>/[^\s"'`?#)\]\\]*)?"#)
});
static S3_URL: LazyLock<Regex> =
    LazyLock::new(|| re(r#"\bs3://(?P<bucket>[^/\s"'`]+)(?:/(?P<key>[^\s"'`]*))?"#));
static UPLOAD_TO: LazyLock<Regex> = LazyLock::new(|| {
    re(r"Failed to (?:upload|download) \S+ to (?P<bucket>[^/\s:]+)/(?P<key>[^\s:]+):")
});
static HOST_REGION: LazyLock<Regex> = LazyLock::new(|| {
    re(r"(?:^|\.)s3[.-](?:dualstack\.)?(?P<region>[a-z]{2}(?:-[a-z]+)+-\d+)\.amazonaws\.com")
});
/// What stands before the URL of an S3 request to another server: PHP's `Error executing "X"
/// on "URL"`, `--endpoint-url URL`, `Request to URL`, an HTTP method, botocore's `endpoint URL:
/// "URL"`. Any other URL in a pasted text (documentation, an issue tracker) is not the server.
static REQUEST_CONTEXT: LazyLock<Regex> = LazyLock::new(|| {
    re(
        r#"(?:\?" on \?"|--endpoint-url[= ]|Request to |\b(?:PUT|GET|HEAD|DELETE|POST) +|endpoint URL: ")$"#,
    )
});
static VPCE: LazyLock<Regex> = LazyLock::new(|| re(r"\bvpce-[0-9a-zA-Z]{8,17}\b"));

/// What the URLs and names in `text` say about where the request went.
pub(super) fn read(text: &str) -> Fields {
    let mut r = Request::default();
    if let Some(c) = S3_URL.captures(text) {
        r.bucket = c.name("bucket").map(|m| m.as_str().to_owned());
        r.key = c
            .name("key")
            .map(|m| m.as_str().to_owned())
            .filter(|k| !k.is_empty());
    } else if let Some(c) = UPLOAD_TO.captures(text) {
        r.bucket = c.name("bucket").map(|m| m.as_str().to_owned());
        r.key = c.name("key").map(|m| m.as_str().to_owned());
    }
    for c in HTTP_URL.captures_iter(text).take(32) {
        let host = c.name("host").map_or("", |m| m.as_str());
        let path = c.name("path").map_or("", |m| m.as_str());
        let start = c.get(0).map_or(0, |m| m.start());
        let before = text.get(start.saturating_sub(48)..start).unwrap_or("");
        let requested = REQUEST_CONTEXT.is_match(before);
        let scheme = c.name("scheme").map_or("https", |m| m.as_str());
        if read_url(scheme, host, path, requested, &mut r) {
            break;
        }
    }
    r.vpce = VPCE.find(text).map(|m| m.as_str().to_owned());
    Fields {
        request: r,
        ..Fields::default()
    }
}

/// Reads one URL into `r`; true when it was an S3 request's URL: an AWS S3 host anywhere, or
/// another server where the text shows a request went to it (`requested`).
fn read_url(scheme: &str, host: &str, path: &str, requested: bool, r: &mut Request) -> bool {
    let host_lower = host.to_ascii_lowercase();
    let name = host_lower.split(':').next().unwrap_or("");
    let mut segments = path.trim_start_matches('/').splitn(2, '/');
    let first = segments.next().filter(|s| !s.is_empty()).map(str::to_owned);
    let rest = segments.next().filter(|s| !s.is_empty()).map(str::to_owned);
    if name.ends_with(".amazonaws.com") || name.ends_with(".amazonaws.com.cn") {
        if !(name.contains(".s3.")
            || name.contains(".s3-")
            || name.starts_with("s3.")
            || name.starts_with("s3-"))
        {
            return false;
        }
        if r.region.is_none() {
            r.region = HOST_REGION
                .captures(name)
                .and_then(|c| c.name("region"))
                .map(|m| m.as_str().to_owned());
        }
        let virtual_bucket = name
            .split(".s3")
            .next()
            .filter(|b| !b.is_empty() && !b.starts_with("s3"));
        let (bucket, key) = match virtual_bucket {
            Some(b) => (Some(b.to_owned()), path_key(path)),
            None => (first, rest),
        };
        fill_place(r, bucket, key);
        return true;
    }
    // Another server (S3-compatible storage): path-style addressing, as s3doctor uses.
    if !requested || name.is_empty() || name.ends_with("amazonaws.com") {
        return false;
    }
    if r.endpoint.is_none() {
        r.endpoint = Some(format!("{scheme}://{host}"));
    }
    fill_place(r, first, rest);
    true
}

fn path_key(path: &str) -> Option<String> {
    Some(path.trim_start_matches('/').to_owned()).filter(|k| !k.is_empty())
}

fn fill_place(r: &mut Request, bucket: Option<String>, key: Option<String>) {
    if r.bucket.is_none() {
        r.bucket = bucket;
        if r.key.is_none() {
            r.key = key.map(|k| decode(&k));
        }
    }
}

/// `%3A` → `:` in a URL's key.
fn decode(key: &str) -> String {
    percent_encoding::percent_decode_str(key)
        .decode_utf8_lossy()
        .into_owned()
}

/// `arn:aws:s3:::bucket/key` → (bucket, key); `None` for other ARNs.
pub(super) fn s3_arn(resource: &str) -> Option<(String, Option<String>)> {
    let rest = resource
        .strip_prefix("arn:")?
        .split_once(':')?
        .1
        .strip_prefix("s3:::")?;
    let (bucket, key) = match rest.split_once('/') {
        Some((b, k)) => (b, Some(k.to_owned()).filter(|k| !k.is_empty())),
        None => (rest, None),
    };
    Some((bucket.to_owned(), key))
}

/// Drops what cannot be real: a bucket name S3 would refuse (a placeholder such as `$BUCKET`
/// or `sst-asset-****`) and the key that came with it, a region that is not an AWS region's
/// name, a principal with a redacted account.
pub(super) fn keep_real(r: &mut Request) {
    if r.bucket
        .as_deref()
        .is_some_and(|b| bucket_name::validate(b).is_err())
    {
        r.bucket = None;
        r.key = None;
    }
    if r.key
        .as_deref()
        .is_some_and(|k| k.contains('$') || k.len() > 1024)
    {
        r.key = None;
    }
    r.region = r.region.take().filter(|reg| is_aws_region(reg));
    let redacted = |arn: &String| arn.contains('*') || arn.contains('[') || arn.contains('<');
    if r.principal.as_ref().is_some_and(redacted) {
        r.principal = None;
    }
    if r.role_arn.as_ref().is_some_and(redacted) {
        r.role_arn = None;
    }
}
