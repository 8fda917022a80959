//! Presigned S3 URLs, read locally: the query parameters of a SigV4 presigned URL ([`sigv4`]) or
//! a SigV2 one ([`sigv2`]) (who signed it, for which region, when it expires, which headers the
//! client must send), the bucket and key in both virtual-hosted and path-style forms, the method
//! when the URL says it, and the problems that stop such a URL from working (`presigned.*`
//! findings). Pure: no clock, no network; the caller passes "now" and what it looked up.

use std::fmt;

use percent_encoding::percent_decode_str;
use serde::Serialize;

mod sigv2;
pub mod sigv4;
pub mod url_report;
pub use sigv4::parse_amz_date;

use crate::answers::codes::AwsCode;
use crate::finding::{FindingCode, Severity};
use crate::runbook::{Runbook, fill};

/// The longest validity AWS accepts for a SigV4 presigned URL: 7 days.
pub const MAX_EXPIRES_SECS: u64 = 604_800;

/// The longest an STS role session lasts (`DurationSeconds` of AssumeRole at most 12 hours);
/// a URL signed with a session token and valid for longer outlives every role session.
pub const MAX_ROLE_SESSION_SECS: u64 = 43_200;

/// Why a text is not a presigned URL s3doctor can read: one line for the person.
#[derive(Clone, Debug, PartialEq, Eq, thiserror::Error)]
pub enum PresignedError {
    #[error("not an http(s) URL: {0}")]
    NotAUrl(String),
    #[error("not a presigned URL: the query has no {0}")]
    Missing(&'static str),
    #[error("{name} is malformed: {why}")]
    Malformed { name: &'static str, why: String },
}

/// The signature a presigned URL carries.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize)]
pub enum SigVersion {
    /// `X-Amz-Algorithm=AWS4-HMAC-SHA256`, `X-Amz-Credential`, `X-Amz-Date`, `X-Amz-Expires`, …
    #[serde(rename = "sigv4")]
    V4,
    /// `AWSAccessKeyId`, `Expires`, `Signature`: deprecated by AWS, still made by boto3.
    #[serde(rename = "sigv2")]
    V2,
}

impl SigVersion {
    pub fn as_str(self) -> &'static str {
        match self {
            SigVersion::V4 => "SigV4",
            SigVersion::V2 => "SigV2",
        }
    }
}

/// What the signature parameters say, in either version.
struct Signature {
    version: SigVersion,
    key_id: String,
    region: Option<String>,
    service: String,
    signed_at: Option<i64>,
    expires_in: Option<u64>,
    expires_at: i64,
    signed_headers: Vec<String>,
}

/// Where the bucket is in the URL.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize)]
#[serde(rename_all = "kebab-case")]
pub enum Addressing {
    /// `https://BUCKET.s3.REGION.amazonaws.com/KEY`
    VirtualHosted,
    /// `https://s3.REGION.amazonaws.com/BUCKET/KEY`, or a custom endpoint `/BUCKET/KEY`.
    PathStyle,
}

/// The HTTP method the URL was signed for, when the URL says (the AWS SDKs add
/// `x-id=GetObject`, `x-id=PutObject`, …); the signature covers it but does not reveal it.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize)]
#[serde(rename_all = "UPPERCASE")]
pub enum Method {
    Get,
    Head,
    Put,
    Delete,
    Post,
}

impl Method {
    /// `GET`, `PUT`, …
    pub fn as_str(self) -> &'static str {
        match self {
            Method::Get => "GET",
            Method::Head => "HEAD",
            Method::Put => "PUT",
            Method::Delete => "DELETE",
            Method::Post => "POST",
        }
    }

    /// The method of an `x-id` operation name.
    pub fn of_operation(operation: &str) -> Option<Method> {
        Some(match operation {
            "GetObject" | "ListObjects" | "ListObjectsV2" | "GetObjectAcl" | "ListParts" => {
                Method::Get
            }
            "HeadObject" | "HeadBucket" => Method::Head,
            "PutObject" | "UploadPart" | "PutObjectAcl" | "UploadPartCopy" | "CopyObject" => {
                Method::Put
            }
            "DeleteObject" | "AbortMultipartUpload" => Method::Delete,
            "CreateMultipartUpload" | "CompleteMultipartUpload" => Method::Post,
            _ => return None,
        })
    }

    /// Parses `GET`, `put`, …
    pub fn parse(text: &str) -> Option<Method> {
        Some(match text.to_ascii_uppercase().as_str() {
            "GET" => Method::Get,
            "HEAD" => Method::Head,
            "PUT" => Method::Put,
            "DELETE" => Method::Delete,
            "POST" => Method::Post,
            _ => return None,
        })
    }
}

impl fmt::Display for Method {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

/// What a presigned URL says about itself.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Presigned {
    /// `https` or `http`.
    pub scheme: String,
    /// Host, with the port when there is one.
    pub host: String,
    pub addressing: Addressing,
    /// An AWS S3 hostname (`*.amazonaws.com`, `*.amazonaws.com.cn`); else a custom endpoint.
    pub aws_host: bool,
    /// The region in the hostname (`s3.eu-west-1.amazonaws.com`), when it names one.
    pub host_region: Option<String>,
    pub bucket: Option<String>,
    /// The object key, percent-decoded; `None` for a bucket-level URL.
    pub key: Option<String>,
    /// The `x-id` operation, when present (`GetObject`, `PutObject`, …).
    pub operation: Option<String>,
    /// The method the query shows without `x-id` (a download's `response-*` parameters, an
    /// upload part's `partNumber` and `uploadId`), and which parameters show it.
    pub query_method: Option<(Method, &'static str)>,
    pub version: SigVersion,
    /// The full access key id. Never print it: use [`crate::aws::key_hint`].
    pub access_key_id: String,
    /// The region of the credential scope: the region the signature is valid for (SigV4; a
    /// SigV2 signature names none).
    pub region: Option<String>,
    /// The service of the credential scope (`s3`).
    pub service: String,
    /// `X-Amz-Date`, in seconds since the Unix epoch (SigV4; SigV2 names no signing time).
    pub signed_at: Option<i64>,
    /// `X-Amz-Expires`, in seconds (SigV4).
    pub expires_in: Option<u64>,
    /// When the URL stops working, in seconds since the epoch, its session aside: SigV4's
    /// `X-Amz-Date` + `X-Amz-Expires`, SigV2's `Expires`.
    pub expires_at: i64,
    /// The headers the signature covers, lower case: SigV4's `X-Amz-SignedHeaders`; for
    /// SigV2 the ones the query names (`content-type`, `content-md5`, `x-amz-*`).
    pub signed_headers: Vec<String>,
    /// `X-Amz-Security-Token` is present: temporary (STS) credentials signed it.
    pub session_token: bool,
}

impl Presigned {
    /// When the URL stops working (seconds since the epoch), its session aside.
    pub fn expires_at(&self) -> i64 {
        self.expires_at
    }

    /// The method the URL was signed for, when `x-id` (or its other parameters) say.
    pub fn method(&self) -> Option<Method> {
        self.operation
            .as_deref()
            .and_then(Method::of_operation)
            .or(self.query_method.map(|(m, _)| m))
    }

    /// Where the method comes from, when the URL says it: `x-id=GetObject`, or the
    /// parameters that show it.
    pub fn method_source(&self) -> Option<String> {
        match (&self.operation, self.query_method) {
            (Some(op), _) if Method::of_operation(op).is_some() => Some(format!("x-id={op}")),
            (_, Some((_, why))) => Some(why.to_owned()),
            _ => None,
        }
    }

    /// How long the URL is valid from now (SigV4: from its signing; SigV2 says only its end).
    fn lifetime(&self, now: i64) -> u64 {
        self.expires_in
            .unwrap_or_else(|| u64::try_from(self.expires_at - now).unwrap_or(0))
    }

    /// The signed headers the client must send itself, with the exact value signed (all but
    /// `host`, which the HTTP client always sends).
    pub fn client_headers(&self) -> Vec<&str> {
        self.signed_headers
            .iter()
            .map(String::as_str)
            .filter(|h| *h != "host")
            .collect()
    }

    /// The key was issued by STS (`ASIA…`): it cannot sign without its session token.
    pub fn temporary_key(&self) -> bool {
        self.access_key_id.starts_with("ASIA")
    }
}

/// Reads a presigned URL (see [`PresignedError`] for what is refused).
pub fn parse(input: &str) -> Result<Presigned, PresignedError> {
    let input = input.trim();
    let url = split_url(input)?;
    let params = query_params(url.query)?;
    let get = |name: &'static str| param(&params, name);
    let signature = if sigv2::is_sigv2(&params) {
        sigv2::read(&params)?
    } else {
        sigv4::read(&params)?
    };
    let (target, bucket, key) = locate(url.host, url.path);
    Ok(Presigned {
        scheme: url.scheme,
        host: url.host.to_owned(),
        addressing: target.addressing,
        aws_host: target.aws,
        host_region: target.region,
        bucket,
        key,
        operation: get("x-id").map(str::to_owned),
        query_method: query_method(&params),
        version: signature.version,
        access_key_id: signature.key_id,
        region: signature.region,
        service: signature.service,
        signed_at: signature.signed_at,
        expires_in: signature.expires_in,
        expires_at: signature.expires_at,
        signed_headers: signature.signed_headers,
        session_token: get("X-Amz-Security-Token").is_some_and(|t| !t.is_empty()),
    })
}

/// The method other query parameters show when there is no `x-id`: `response-*` overrides
/// exist only for GetObject; `partNumber` with `uploadId` is an UploadPart (PUT).
fn query_method(params: &[(String, String)]) -> Option<(Method, &'static str)> {
    let has = |name: &str| param(params, name).is_some();
    if params
        .iter()
        .any(|(n, _)| n.to_ascii_lowercase().starts_with("response-"))
    {
        Some((Method::Get, "its response-* parameters (GetObject only)"))
    } else if has("partNumber") && has("uploadId") {
        Some((Method::Put, "its partNumber and uploadId (UploadPart)"))
    } else {
        None
    }
}

/// A URL's parts, before anything is decoded.
struct UrlParts<'a> {
    /// Lower case.
    scheme: String,
    host: &'a str,
    path: &'a str,
    query: &'a str,
}

/// Splits an `http(s)://HOST/PATH?QUERY` URL (the fragment dropped), or says it is not one.
fn split_url(input: &str) -> Result<UrlParts<'_>, PresignedError> {
    let not_a_url = || PresignedError::NotAUrl(shorten(input));
    let (scheme, rest) = input.split_once("://").ok_or_else(not_a_url)?;
    let scheme = scheme.to_ascii_lowercase();
    if scheme != "https" && scheme != "http" {
        return Err(not_a_url());
    }
    let rest = rest.split_once('#').map_or(rest, |(before, _)| before);
    let (location, query) = rest.split_once('?').unwrap_or((rest, ""));
    let (host, path) = match location.find('/') {
        Some(i) => location.split_at(i),
        None => (location, "/"),
    };
    if host.is_empty()
        || host.contains(['@', ' ', '\\'])
        || host.chars().any(char::is_control)
        || input.chars().any(char::is_whitespace)
    {
        return Err(not_a_url());
    }
    Ok(UrlParts {
        scheme,
        host,
        path,
        query,
    })
}

/// A query parameter by name, case-insensitively.
fn param<'a>(params: &'a [(String, String)], name: &str) -> Option<&'a str> {
    params
        .iter()
        .find(|(n, _)| n.eq_ignore_ascii_case(name))
        .map(|(_, v)| v.as_str())
}

/// What the host says (AWS or not, addressing, region), and the bucket and key, decoded, from
/// the host or the path.
fn locate(host: &str, path: &str) -> (Target, Option<String>, Option<String>) {
    let host_only = host_without_port(host).to_ascii_lowercase();
    let target = read_host(&host_only);
    let path = path.strip_prefix('/').unwrap_or(path);
    let decode = |text: &str| percent_decode_str(text).decode_utf8_lossy().into_owned();
    let (bucket, key) = match &target.bucket {
        Some(bucket) => (Some(bucket.clone()), Some(decode(path))),
        None => match path.split_once('/') {
            Some((bucket, key)) => (Some(decode(bucket)), Some(decode(key))),
            None => (Some(decode(path)), None),
        },
    };
    let nonempty = |s: Option<String>| s.filter(|s| !s.is_empty());
    (target, nonempty(bucket), nonempty(key))
}

fn shorten(text: &str) -> String {
    let mut out: String = text.chars().take(60).collect();
    if text.chars().count() > 60 {
        out.push('…');
    }
    out
}

fn query_params(query: &str) -> Result<Vec<(String, String)>, PresignedError> {
    query
        .split('&')
        .filter(|pair| !pair.is_empty())
        .map(|pair| {
            let (name, value) = pair.split_once('=').unwrap_or((pair, ""));
            let decode = |text: &str| {
                percent_decode_str(text)
                    .decode_utf8()
                    .map(|s| s.into_owned())
                    .map_err(|_| PresignedError::NotAUrl(shorten(query)))
            };
            Ok((decode(name)?, decode(value)?))
        })
        .collect()
}

fn host_without_port(host: &str) -> &str {
    if host.starts_with('[') {
        // [::1]:9000
        return host.split_once(']').map_or(host, |(h, _)| h);
    }
    host.rsplit_once(':')
        .filter(|(_, port)| port.chars().all(|c| c.is_ascii_digit()))
        .map_or(host, |(h, _)| h)
}

struct Target {
    aws: bool,
    addressing: Addressing,
    bucket: Option<String>,
    region: Option<String>,
}

/// Reads an S3 hostname: `BUCKET.s3.REGION.amazonaws.com`, `BUCKET.s3-REGION.amazonaws.com`,
/// `BUCKET.s3.amazonaws.com`, `s3.dualstack.REGION.amazonaws.com`, … Anything else is a custom
/// endpoint, addressed path-style.
fn read_host(host: &str) -> Target {
    let aws = host.ends_with(".amazonaws.com") || host.ends_with(".amazonaws.com.cn");
    let custom = Target {
        aws: false,
        addressing: Addressing::PathStyle,
        bucket: None,
        region: None,
    };
    if !aws {
        return custom;
    }
    let labels: Vec<&str> = host.split('.').collect();
    let Some(at) = labels
        .iter()
        .position(|l| *l == "s3" || l.starts_with("s3-"))
    else {
        return Target { aws, ..custom };
    };
    let marker = labels.get(at).copied().unwrap_or_default();
    let after: Vec<&str> = labels
        .get(at + 1..)
        .unwrap_or_default()
        .iter()
        .copied()
        .filter(|l| !matches!(*l, "dualstack" | "amazonaws" | "com" | "cn"))
        .collect();
    let region = match marker.strip_prefix("s3-") {
        Some("external-1") => Some("us-east-1".to_owned()),
        Some("accelerate") => None,
        Some(region) => Some(region.to_owned()),
        None => after.first().map(|r| (*r).to_owned()),
    };
    let bucket = (at > 0).then(|| labels.get(..at).unwrap_or_default().join("."));
    Target {
        aws,
        addressing: if bucket.is_some() {
            Addressing::VirtualHosted
        } else {
            Addressing::PathStyle
        },
        bucket,
        region,
    }
}

/// Seconds since the epoch → `2026-11-25T15:48:00Z`.
pub fn rfc3339(secs: i64) -> String {
    aws_smithy_types::DateTime::from_secs(secs)
        .fmt(aws_smithy_types::date_time::Format::DateTime)
        .unwrap_or_else(|_| secs.to_string())
}

/// `3 h 5 min`, `42 s`, `2 d 1 h`: a duration for people.
pub fn human_duration(secs: u64) -> String {
    let (d, h, m, s) = (
        secs / 86_400,
        secs % 86_400 / 3_600,
        secs % 3_600 / 60,
        secs % 60,
    );
    match (d, h, m) {
        (0, 0, 0) => format!("{s} s"),
        (0, 0, _) => format!("{m} min"),
        (0, _, 0) => format!("{h} h"),
        (0, _, _) => format!("{h} h {m} min"),
        (_, 0, _) => format!("{d} d"),
        _ => format!("{d} d {h} h"),
    }
}

/// One problem of a presigned URL, with the runbook's words for its code.
#[derive(Clone, Debug, PartialEq, Eq, Serialize)]
pub struct Problem {
    pub code: FindingCode,
    pub severity: Severity,
    pub title: String,
    pub summary: String,
    pub remedy: String,
}

/// What is known besides the URL.
#[derive(Clone, Debug, Default)]
pub struct Context<'a> {
    /// Now, in seconds since the epoch.
    pub now: i64,
    /// The bucket's region, when it could be looked up.
    pub bucket_region: Option<&'a str>,
}

/// The problems that stop the URL from working, or may: expired (or valid longer than AWS
/// accepts), signed for a region other than the endpoint's or the bucket's, signed with
/// temporary credentials that end before the URL does, headers the client must send exactly.
pub fn problems(p: &Presigned, cx: &Context<'_>) -> Vec<Problem> {
    let when = rfc3339(p.expires_at());
    let bucket = p.bucket.as_deref().unwrap_or("the bucket");
    [
        expiry_problem(p, cx, bucket, &when),
        region_problem(p, cx, bucket),
        sigv2::problem(p, cx, bucket),
        signer_problem(p, cx, bucket, &when),
        header_problem(p, bucket),
    ]
    .into_iter()
    .flatten()
    .collect()
}

/// Expired, or valid longer than AWS accepts.
fn expiry_problem(p: &Presigned, cx: &Context<'_>, bucket: &str, when: &str) -> Option<Problem> {
    let expires_at = p.expires_at();
    let detail = if let Some(secs) = p.expires_in.filter(|s| *s > MAX_EXPIRES_SECS) {
        format!(
            "X-Amz-Expires is {secs} s: AWS refuses SigV4 presigned URLs valid for more than \
             {MAX_EXPIRES_SECS} s (7 days), whatever the signature."
        )
    } else if cx.now >= expires_at {
        let ago = human_duration(u64::try_from(cx.now - expires_at).unwrap_or(0));
        match (p.signed_at, p.expires_in) {
            (Some(at), Some(secs)) => format!(
                "It was signed at {} for {} and expired at {when}, {ago} ago.",
                rfc3339(at),
                human_duration(secs)
            ),
            _ => format!("It expired at {when} (its Expires), {ago} ago."),
        }
    } else {
        return None;
    };
    Some(problem(
        FindingCode::PresignedExpired,
        Severity::Error,
        &[
            ("bucket", bucket),
            ("expires_at", when),
            ("until", until(p)),
        ],
        Some(detail),
    ))
}

/// What sets the end of a URL's validity, in the words of its signature version.
fn until(p: &Presigned) -> &'static str {
    match p.version {
        SigVersion::V4 => "X-Amz-Date + X-Amz-Expires",
        SigVersion::V2 => "its Expires time",
    }
}

/// Signed for a region other than the bucket's (when looked up) or the endpoint's.
fn region_problem(p: &Presigned, cx: &Context<'_>, bucket: &str) -> Option<Problem> {
    // A SigV2 signature names no region (see `sigv2::problem` for the regions that refuse it).
    let region = p.region.as_deref()?;
    let (other, what) = match (p.host_region.as_deref(), cx.bucket_region) {
        (_, Some(actual)) if !same_region(actual, region) => (actual, "the bucket lives in"),
        (Some(host), _) if !same_region(host, region) => (host, "the URL's endpoint is in"),
        _ => return None,
    };
    Some(problem(
        FindingCode::PresignedWrongRegion,
        Severity::Error,
        &[
            ("bucket", bucket),
            ("region", region),
            ("bucket_region", other),
        ],
        Some(format!("The signature is for {region} but {what} {other}.")),
    ))
}

/// Signed with temporary credentials: without their token it cannot work; with it, it ends
/// with the session.
fn signer_problem(p: &Presigned, cx: &Context<'_>, bucket: &str, when: &str) -> Option<Problem> {
    let lifetime = p.lifetime(cx.now);
    let (severity, detail) = if p.temporary_key() && !p.session_token {
        (
            Severity::Error,
            "It was signed with a temporary key (ASIA…) but carries no X-Amz-Security-Token: \
             AWS cannot accept it without the session's token."
                .to_owned(),
        )
    } else if p.session_token && lifetime > MAX_ROLE_SESSION_SECS {
        (
            Severity::Warning,
            format!(
                "It is valid for {}, longer than any role session lasts (12 h at most): it \
                 will stop working before {when}, when the session that signed it ends.",
                human_duration(lifetime)
            ),
        )
    } else if p.session_token {
        (
            Severity::Warning,
            format!("It stops working when the session that signed it ends, even before {when}."),
        )
    } else {
        return None;
    };
    Some(problem(
        FindingCode::PresignedSignerExpired,
        severity,
        &[("bucket", bucket), ("expires_at", when)],
        Some(detail),
    ))
}

/// Signed headers the client must send with exactly the signed values.
fn header_problem(p: &Presigned, bucket: &str) -> Option<Problem> {
    let headers = p.client_headers();
    if headers.is_empty() {
        return None;
    }
    let list = headers.join(", ");
    Some(problem(
        FindingCode::PresignedHeaderMismatch,
        Severity::Warning,
        &[("bucket", bucket), ("headers", &list)],
        None,
    ))
}

/// The problem for `code` with this URL's facts: for a cause that only S3's answer to the URL
/// showed (see `s3doctor url --try`).
pub fn problem_for(code: FindingCode, p: &Presigned) -> Problem {
    let when = rfc3339(p.expires_at());
    let headers = p.client_headers().join(", ");
    let vars = [
        ("bucket", p.bucket.as_deref().unwrap_or("the bucket")),
        ("expires_at", when.as_str()),
        ("until", until(p)),
        ("region", p.region.as_deref().unwrap_or("no region (SigV2)")),
        ("bucket_region", "another region"),
        ("headers", headers.as_str()),
    ];
    problem(code, Severity::Error, &vars, None)
}

/// S3 refused a GET of the URL for a reason of the signer's: its permissions (a presigned URL
/// can do only what its signer may do), or a signature that does not match.
pub fn signer_refused(p: &Presigned, error_code: &str) -> Problem {
    if AwsCode::SignatureDoesNotMatch.is(Some(error_code)) {
        return problem(
            FindingCode::SignatureMismatch,
            Severity::Error,
            &[],
            Some(
                "S3 rejected the URL's signature: the URL was changed after signing (re-encoded, \
                 a parameter edited or dropped), or signed with a secret that is not the key's."
                    .to_owned(),
            ),
        );
    }
    let principal = format!(
        "the signer of the URL (key {})",
        crate::aws::key_hint(&p.access_key_id)
    );
    let vars = [
        ("principal", principal.as_str()),
        ("action", "s3:GetObject"),
        ("bucket", p.bucket.as_deref().unwrap_or("the bucket")),
        ("source", ""),
    ];
    problem(
        FindingCode::PermissionMissing,
        Severity::Error,
        &vars,
        Some("A presigned URL can do only what the credentials that signed it may do.".to_owned()),
    )
}

/// Regions compare equal when they name the same one; `us-east-1` is also the global endpoint's.
fn same_region(a: &str, b: &str) -> bool {
    a.eq_ignore_ascii_case(b)
}

fn problem(
    code: FindingCode,
    severity: Severity,
    vars: &[(&str, &str)],
    detail: Option<String>,
) -> Problem {
    let runbook = Runbook::embedded();
    let (title, what, fix) = match runbook.finding(code) {
        Some(t) => (
            fill(&t.title, vars),
            fill(&t.what, vars),
            fill(&t.fix, vars),
        ),
        None => (code.to_string(), code.to_string(), String::new()),
    };
    let summary = match detail {
        Some(d) => format!("{} {d}", what.trim()),
        None => what.trim().to_owned(),
    };
    Problem {
        code,
        severity,
        title,
        summary,
        remedy: fix,
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use aws_sdk_s3::config::{BehaviorVersion, Credentials, Region};
    use aws_sdk_s3::presigning::PresigningConfig;
    use proptest::prelude::*;
    use std::time::{Duration, UNIX_EPOCH};

    /// 2026-11-25T15:00:00Z
    const SIGNED_AT: i64 = 1_795_618_800;

    fn client(endpoint: Option<&str>, token: Option<&str>, region: &str) -> aws_sdk_s3::Client {
        let credentials = Credentials::new(
            "AKIAIOSFODNN7EXAMPLE",
            "wJalrXUtnFEMI/K7MDENG/bPxRfiCYEXAMPLEKEY",
            token.map(str::to_owned),
            None,
            "test",
        );
        let mut conf = aws_sdk_s3::Config::builder()
            .behavior_version(BehaviorVersion::latest())
            .region(Region::new(region.to_owned()))
            .credentials_provider(credentials);
        if let Some(url) = endpoint {
            conf = conf.endpoint_url(url).force_path_style(true);
        }
        aws_sdk_s3::Client::from_conf(conf.build())
    }

    fn presigning(expires: u64) -> PresigningConfig {
        PresigningConfig::builder()
            .start_time(UNIX_EPOCH + Duration::from_secs(SIGNED_AT as u64))
            .expires_in(Duration::from_secs(expires))
            .build()
            .unwrap()
    }

    /// A GET URL made by the SDK's own presigner.
    async fn sdk_get(region: &str, key: &str, expires: u64) -> String {
        client(None, None, region)
            .get_object()
            .bucket("clipizy-dev")
            .key(key)
            .presigned(presigning(expires))
            .await
            .unwrap()
            .uri()
            .to_owned()
    }

    fn codes(problems: &[Problem]) -> Vec<(&str, Severity)> {
        problems
            .iter()
            .map(|p| (p.code.as_str(), p.severity))
            .collect()
    }

    #[test]
    fn amz_dates() {
        assert_eq!(parse_amz_date("19700101T000000Z"), Some(0));
        assert_eq!(parse_amz_date("20261125T150000Z"), Some(SIGNED_AT));
        assert_eq!(rfc3339(SIGNED_AT), "2026-11-25T15:00:00Z");
        assert_eq!(parse_amz_date("20240229T235959Z"), Some(1_709_251_199));
        for bad in [
            "2026-11-25T15:00:00Z",
            "20261325T150000Z",
            "20261125T150000",
            "",
        ] {
            assert_eq!(parse_amz_date(bad), None, "{bad}");
        }
        assert_eq!(human_duration(42), "42 s");
        assert_eq!(human_duration(3_600), "1 h");
        assert_eq!(human_duration(3_900), "1 h 5 min");
        assert_eq!(human_duration(604_800), "7 d");
    }

    #[tokio::test]
    async fn a_get_url_from_the_sdk_is_read_back() {
        let url = sdk_get("eu-west-1", "uploads/a b+c.jpg", 3_600).await;
        let p = parse(&url).unwrap();
        assert_eq!(p.scheme, "https");
        assert_eq!(p.host, "clipizy-dev.s3.eu-west-1.amazonaws.com");
        assert_eq!(p.addressing, Addressing::VirtualHosted);
        assert!(p.aws_host);
        assert_eq!(p.host_region.as_deref(), Some("eu-west-1"));
        assert_eq!(p.bucket.as_deref(), Some("clipizy-dev"));
        assert_eq!(p.key.as_deref(), Some("uploads/a b+c.jpg"));
        assert_eq!(p.operation.as_deref(), Some("GetObject"));
        assert_eq!(p.method(), Some(Method::Get));
        assert_eq!(p.access_key_id, "AKIAIOSFODNN7EXAMPLE");
        assert_eq!(p.version, SigVersion::V4);
        assert_eq!(p.region.as_deref(), Some("eu-west-1"));
        assert_eq!(p.service, "s3");
        assert_eq!(p.signed_at, Some(SIGNED_AT));
        assert_eq!(p.expires_in, Some(3_600));
        assert_eq!(p.expires_at(), SIGNED_AT + 3_600);
        assert_eq!(p.signed_headers, ["host"]);
        assert!(!p.session_token);

        // Within its hour, in the right region, nothing is wrong.
        let fine = Context {
            now: SIGNED_AT + 60,
            bucket_region: Some("eu-west-1"),
        };
        assert!(problems(&p, &fine).is_empty());
    }

    #[tokio::test]
    async fn an_expired_url_says_when_it_expired() {
        let url = sdk_get("us-east-1", "a.jpg", 900).await;
        let p = parse(&url).unwrap();
        let later = Context {
            now: SIGNED_AT + 900 + 7_200,
            bucket_region: None,
        };
        let found = problems(&p, &later);
        assert_eq!(codes(&found), [("presigned.expired", Severity::Error)]);
        let summary = &found[0].summary;
        assert!(summary.contains("2026-11-25T15:15:00Z"), "{summary}");
        assert!(summary.contains("2 h ago"), "{summary}");
        // One second before: still valid.
        let just = Context {
            now: SIGNED_AT + 899,
            bucket_region: None,
        };
        assert!(problems(&p, &just).is_empty());
    }

    #[tokio::test]
    async fn a_url_signed_for_another_region_than_the_bucket() {
        let url = sdk_get("us-west-2", "a.jpg", 900).await;
        let p = parse(&url).unwrap();
        let cx = Context {
            now: SIGNED_AT,
            bucket_region: Some("eu-central-1"),
        };
        let found = problems(&p, &cx);
        assert_eq!(codes(&found), [("presigned.wrong-region", Severity::Error)]);
        assert!(found[0].summary.contains("us-west-2"), "{found:?}");
        assert!(found[0].summary.contains("eu-central-1"), "{found:?}");
        assert!(found[0].remedy.contains("eu-central-1"), "{found:?}");

        // Endpoint and signature disagree, even without knowing the bucket's region.
        let edited = url.replace(".s3.us-west-2.", ".s3.eu-west-1.");
        let p = parse(&edited).unwrap();
        let cx = Context {
            now: SIGNED_AT,
            bucket_region: None,
        };
        assert_eq!(
            codes(&problems(&p, &cx)),
            [("presigned.wrong-region", Severity::Error)]
        );
    }

    #[tokio::test]
    async fn a_put_url_with_a_content_type_and_a_session_token() {
        let url = client(None, Some("FwoGZXIvYXdzEXAMPLETOKEN"), "eu-west-1")
            .put_object()
            .bucket("clipizy-dev")
            .key("uploads/video.mp4")
            .content_type("video/mp4")
            .presigned(presigning(86_400))
            .await
            .unwrap();
        // The SDK says which headers the client must send; s3doctor reads the same from the
        // URL alone.
        let sdk_headers: Vec<String> = url.headers().map(|(k, _)| k.to_lowercase()).collect();
        let p = parse(url.uri()).unwrap();
        assert_eq!(p.method(), Some(Method::Put));
        assert!(p.session_token);
        assert!(p.signed_headers.contains(&"content-type".to_owned()));
        for h in &sdk_headers {
            assert!(
                p.signed_headers.contains(h),
                "{h} in {:?}",
                p.signed_headers
            );
        }
        assert_eq!(p.client_headers(), ["content-type"]);
        let found = problems(
            &p,
            &Context {
                now: SIGNED_AT + 10,
                bucket_region: Some("eu-west-1"),
            },
        );
        assert_eq!(
            codes(&found),
            [
                ("presigned.signer-expired", Severity::Warning),
                ("presigned.header-mismatch", Severity::Warning)
            ]
        );
        // Valid for a day: longer than any role session.
        assert!(found[0].summary.contains("12 h"), "{}", found[0].summary);
        assert!(
            found[1].summary.contains("content-type"),
            "{}",
            found[1].summary
        );
    }

    #[tokio::test]
    async fn path_style_urls_of_a_custom_endpoint() {
        let url = client(Some("http://127.0.0.1:7480"), None, "us-east-1")
            .get_object()
            .bucket("clipizy-dev")
            .key("dir/a%b.txt")
            .presigned(presigning(60))
            .await
            .unwrap()
            .uri()
            .to_owned();
        let p = parse(&url).unwrap();
        assert_eq!(p.host, "127.0.0.1:7480");
        assert_eq!(p.scheme, "http");
        assert!(!p.aws_host);
        assert_eq!(p.addressing, Addressing::PathStyle);
        assert_eq!(p.host_region, None);
        assert_eq!(p.bucket.as_deref(), Some("clipizy-dev"));
        assert_eq!(p.key.as_deref(), Some("dir/a%b.txt"));
    }

    #[test]
    fn aws_hostnames() {
        let cases: &[(&str, Addressing, Option<&str>, Option<&str>)] = &[
            ("s3.amazonaws.com", Addressing::PathStyle, None, None),
            (
                "s3.eu-west-1.amazonaws.com",
                Addressing::PathStyle,
                None,
                Some("eu-west-1"),
            ),
            (
                "s3-eu-west-1.amazonaws.com",
                Addressing::PathStyle,
                None,
                Some("eu-west-1"),
            ),
            (
                "s3.dualstack.ap-south-1.amazonaws.com",
                Addressing::PathStyle,
                None,
                Some("ap-south-1"),
            ),
            (
                "my.dotted.bucket.s3.amazonaws.com",
                Addressing::VirtualHosted,
                Some("my.dotted.bucket"),
                None,
            ),
            (
                "b.s3.us-east-2.amazonaws.com",
                Addressing::VirtualHosted,
                Some("b"),
                Some("us-east-2"),
            ),
            (
                "b.s3-external-1.amazonaws.com",
                Addressing::VirtualHosted,
                Some("b"),
                Some("us-east-1"),
            ),
            (
                "b.s3.cn-north-1.amazonaws.com.cn",
                Addressing::VirtualHosted,
                Some("b"),
                Some("cn-north-1"),
            ),
            ("minio.internal", Addressing::PathStyle, None, None),
        ];
        for (host, addressing, bucket, region) in cases {
            let t = read_host(host);
            assert_eq!(t.addressing, *addressing, "{host}");
            assert_eq!(t.bucket.as_deref(), *bucket, "{host}");
            assert_eq!(t.region.as_deref(), *region, "{host}");
        }
        assert_eq!(host_without_port("127.0.0.1:7480"), "127.0.0.1");
        assert_eq!(host_without_port("[::1]:9000"), "[::1");
    }

    #[tokio::test]
    async fn broken_urls_are_refused_with_the_reason() {
        let url = sdk_get("eu-west-1", "a.jpg", 60).await;
        assert!(matches!(
            parse("not a url"),
            Err(PresignedError::NotAUrl(_))
        ));
        assert!(matches!(
            parse("ftp://x/y"),
            Err(PresignedError::NotAUrl(_))
        ));
        let unsigned = url.split('?').next().unwrap();
        assert_eq!(
            parse(unsigned),
            Err(PresignedError::Missing("X-Amz-Algorithm"))
        );
        let no_sig: String = url
            .split('&')
            .filter(|p| !p.starts_with("X-Amz-Signature"))
            .collect::<Vec<_>>()
            .join("&");
        assert_eq!(
            parse(&no_sig),
            Err(PresignedError::Missing("X-Amz-Signature"))
        );
        let bad_expiry = url.replace("X-Amz-Expires=60", "X-Amz-Expires=soon");
        assert!(matches!(
            parse(&bad_expiry),
            Err(PresignedError::Malformed {
                name: "X-Amz-Expires",
                ..
            })
        ));
        let v2 = "https://b.s3.amazonaws.com/k?AWSAccessKeyId=AKIAIOSFODNN7EXAMPLE&Expires=soon&Signature=abc%3D";
        assert!(matches!(
            parse(v2),
            Err(PresignedError::Malformed {
                name: "Expires",
                ..
            })
        ));
        // The message never carries the key id (only the start of the URL, cut short).
        let err = parse(&format!("gopher{}", &url[5..]))
            .unwrap_err()
            .to_string();
        assert!(err.len() < 120, "{err}");
    }

    #[test]
    fn expiry_longer_than_a_week_cannot_work() {
        let url = "https://b.s3.eu-west-1.amazonaws.com/k?X-Amz-Algorithm=AWS4-HMAC-SHA256\
                   &X-Amz-Credential=AKIAIOSFODNN7EXAMPLE%2F20261125%2Feu-west-1%2Fs3%2Faws4_request\
                   &X-Amz-Date=20261125T150000Z&X-Amz-Expires=604801&X-Amz-SignedHeaders=host\
                   &X-Amz-Signature=0123456789abcdef0123456789abcdef0123456789abcdef0123456789abcdef";
        let p = parse(url).unwrap();
        let found = problems(
            &p,
            &Context {
                now: SIGNED_AT,
                bucket_region: None,
            },
        );
        assert_eq!(codes(&found), [("presigned.expired", Severity::Error)]);
        assert!(found[0].summary.contains("604800"), "{}", found[0].summary);
    }

    #[test]
    fn a_temporary_key_without_its_token_cannot_work() {
        let url = "https://b.s3.eu-west-1.amazonaws.com/k?X-Amz-Algorithm=AWS4-HMAC-SHA256\
                   &X-Amz-Credential=ASIAIOSFODNN7EXAMPLE%2F20261125%2Feu-west-1%2Fs3%2Faws4_request\
                   &X-Amz-Date=20261125T150000Z&X-Amz-Expires=60&X-Amz-SignedHeaders=host\
                   &X-Amz-Signature=0123456789abcdef0123456789abcdef0123456789abcdef0123456789abcdef";
        let p = parse(url).unwrap();
        let found = problems(
            &p,
            &Context {
                now: SIGNED_AT,
                bucket_region: None,
            },
        );
        assert_eq!(
            codes(&found),
            [("presigned.signer-expired", Severity::Error)]
        );
    }

    /// boto3 1.44.18's SigV2 URLs (`generate_presigned_url` without `signature_version`), as
    /// made for a GET and for a PUT with `ContentType`, with the documentation's example key.
    const BOTO3_V2_GET: &str = "https://clipizy-dev.s3.amazonaws.com/uploads/a%20b.jpg\
        ?AWSAccessKeyId=AKIAIOSFODNN7EXAMPLE&Signature=EHEVeXuNTBGgwS4K45jb2dHiTrM%3D\
        &Expires=1795619700";
    const BOTO3_V2_PUT: &str = "https://clipizy-dev.s3.amazonaws.com/up.txt\
        ?AWSAccessKeyId=AKIAIOSFODNN7EXAMPLE&Signature=amzu5Z07vogc1I2vwYjZTjlvtjo%3D\
        &content-type=text%2Fplain&Expires=1795619700";

    #[test]
    fn a_sigv2_url_is_read_expiry_key_bucket_and_key() {
        let p = parse(BOTO3_V2_GET).unwrap();
        assert_eq!(p.version, SigVersion::V2);
        assert_eq!(p.access_key_id, "AKIAIOSFODNN7EXAMPLE");
        assert_eq!(p.bucket.as_deref(), Some("clipizy-dev"));
        assert_eq!(p.key.as_deref(), Some("uploads/a b.jpg"));
        assert_eq!(p.expires_at(), SIGNED_AT + 900);
        assert_eq!(
            (p.region.as_deref(), p.signed_at, p.expires_in),
            (None, None, None)
        );
        // No x-id: the method is not in the URL.
        assert_eq!((p.method(), p.method_source()), (None, None));
        // Within its time: only the SigV2 warning; after it, expired, without quoting words
        // no server said.
        let fine = problems(
            &p,
            &Context {
                now: SIGNED_AT,
                bucket_region: None,
            },
        );
        assert_eq!(
            codes(&fine),
            [("presigned.signature-v2", Severity::Warning)]
        );
        assert!(fine[0].remedy.contains("s3v4"), "{}", fine[0].remedy);
        let later = problems(
            &p,
            &Context {
                now: SIGNED_AT + 4_500,
                bucket_region: None,
            },
        );
        assert_eq!(later[0].code, FindingCode::PresignedExpired);
        assert!(later[0].summary.contains("1 h ago"), "{}", later[0].summary);
        assert!(
            !later[0].summary.contains("Request has expired"),
            "{}",
            later[0].summary
        );
        // A bucket in a region opened since 2014 never accepts SigV2.
        let frankfurt = problems(
            &p,
            &Context {
                now: SIGNED_AT,
                bucket_region: Some("eu-central-1"),
            },
        );
        assert_eq!(
            codes(&frankfurt),
            [("presigned.signature-v2", Severity::Error)]
        );
        assert!(
            frankfurt[0].remedy.contains("eu-central-1"),
            "{}",
            frankfurt[0].remedy
        );
    }

    #[test]
    fn a_sigv2_put_url_names_the_content_type_it_signed() {
        let p = parse(BOTO3_V2_PUT).unwrap();
        assert_eq!(p.client_headers(), ["content-type"]);
        let found = problems(
            &p,
            &Context {
                now: SIGNED_AT,
                bucket_region: Some("us-east-1"),
            },
        );
        assert_eq!(
            codes(&found),
            [
                ("presigned.signature-v2", Severity::Warning),
                ("presigned.header-mismatch", Severity::Warning)
            ]
        );
    }

    #[test]
    fn the_method_of_urls_without_x_id_comes_from_parameters_only_it_takes() {
        let with = |query: &str| parse(&format!("{BOTO3_V2_GET}&{query}")).unwrap().method();
        assert_eq!(
            with("response-content-disposition=attachment"),
            Some(Method::Get)
        );
        assert_eq!(with("partNumber=1&uploadId=abc"), Some(Method::Put));
        assert_eq!(with("uploadId=abc"), None);
    }

    proptest! {
        #[test]
        fn parse_never_panics(text in any::<String>()) {
            let _ = parse(&text);
        }

        #[test]
        fn parse_never_panics_on_url_like_text(
            host in "[a-z0-9.:-]{0,40}",
            path in "[a-zA-Z0-9/%._-]{0,40}",
            query in "[a-zA-Z0-9=&%;._-]{0,120}",
        ) {
            let _ = parse(&format!("https://{host}/{path}?{query}"));
        }

        #[test]
        fn amz_dates_round_trip(secs in 0i64..4_102_444_800) {
            let text = aws_smithy_types::DateTime::from_secs(secs)
                .fmt(aws_smithy_types::date_time::Format::DateTime)
                .unwrap()
                .replace(['-', ':'], "");
            prop_assert_eq!(parse_amz_date(&text), Some(secs));
        }
    }
}
