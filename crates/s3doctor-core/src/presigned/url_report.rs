//! The `s3doctor url` report of a presigned URL (`s3doctor.url/v1`) and its renderings, and
//! the offline reading the wizard's url screen shows: what the URL says, nothing sent.

use serde::Serialize;

use super::{Addressing, Context, Method, Presigned, Problem, SigVersion};
use crate::finding::Severity;

/// The `s3doctor url` report (`--format json`: schema `s3doctor.url/v1`).
#[derive(Clone, Debug, Serialize)]
pub struct UrlReport {
    pub schema: &'static str,
    /// No error finding.
    pub ok: bool,
    /// `GET`, `PUT`, … when the URL (`x-id`, or parameters only one method takes) or
    /// `--method` says.
    pub method: Option<Method>,
    /// What said the method: `x-id=GetObject`, the parameters that show it, `--method`.
    pub method_source: Option<String>,
    /// `sigv4` or `sigv2`.
    pub signature_version: SigVersion,
    pub scheme: String,
    pub host: String,
    pub addressing: Addressing,
    pub bucket: Option<String>,
    pub key: Option<String>,
    /// The access key id, shortened (`AKIA…MPLE`).
    pub access_key: String,
    /// The signer's account, from `sts:GetAccessKeyInfo`, when it could be asked.
    pub signer_account: Option<String>,
    /// The region the signature is for (`null` for SigV2, whose signature names none).
    pub region: Option<String>,
    /// The bucket's region (`x-amz-bucket-region`), when it could be looked up.
    pub bucket_region: Option<String>,
    /// `null` for SigV2, which carries only its end (`Expires`).
    pub signed_at: Option<String>,
    pub expires_at: String,
    /// `null` for SigV2.
    pub expires_in: Option<u64>,
    pub expired: bool,
    /// Seconds left (negative: since it expired).
    pub seconds_left: i64,
    pub signed_headers: Vec<String>,
    /// Temporary credentials signed it (`X-Amz-Security-Token`).
    pub session_token: bool,
    /// The answer to `--try`, when the URL was sent.
    pub tried: Option<Tried>,
    /// What was looked up or not, and why, one sentence each.
    pub notes: Vec<String>,
    pub findings: Vec<Problem>,
}

/// The answer to the one GET that `--try` sends.
#[derive(Clone, Debug, Serialize)]
pub struct Tried {
    pub request: String,
    pub http_status: Option<u16>,
    pub error_code: Option<String>,
    pub message: Option<String>,
}

/// What the wizard's `u` shows: the text report of `url` read offline (nothing sent, nothing
/// looked up), or the one-line reason it is not a presigned URL.
pub fn read_offline(url: &str, now: i64) -> Result<String, String> {
    let p = super::parse(url).map_err(|e| e.to_string())?;
    let findings = super::problems(
        &p,
        &Context {
            now,
            bucket_region: None,
        },
    );
    let notes = vec![
        "read here only: `s3doctor url URL --try` also looks up the bucket's region and the \
         signer, and tries a GET URL"
            .to_owned(),
    ];
    let method = p.method();
    Ok(text(&assemble(
        p, method, now, None, None, None, notes, findings,
    )))
}

#[allow(clippy::too_many_arguments)] // one report, every part of it
pub fn assemble(
    p: Presigned,
    method: Option<Method>,
    now: i64,
    bucket_region: Option<String>,
    signer_account: Option<String>,
    tried: Option<Tried>,
    notes: Vec<String>,
    findings: Vec<Problem>,
) -> UrlReport {
    let ok = !findings.iter().any(|f| f.severity == Severity::Error);
    UrlReport {
        schema: "s3doctor.url/v1",
        ok,
        method_source: match (p.method(), method) {
            (Some(_), _) => p.method_source(),
            (None, Some(_)) => Some("--method".to_owned()),
            (None, None) => None,
        },
        method,
        signature_version: p.version,
        scheme: p.scheme.clone(),
        host: p.host.clone(),
        addressing: p.addressing,
        bucket: p.bucket.clone(),
        key: p.key.clone(),
        access_key: crate::aws::key_hint(&p.access_key_id),
        signer_account,
        region: p.region.clone(),
        bucket_region,
        signed_at: p.signed_at.map(super::rfc3339),
        expires_at: super::rfc3339(p.expires_at()),
        expires_in: p.expires_in,
        expired: now >= p.expires_at(),
        seconds_left: p.expires_at() - now,
        signed_headers: p.signed_headers.clone(),
        session_token: p.session_token,
        tried,
        notes,
        findings,
    }
}

/// The report as text (`s3doctor url`, and the wizard's url screen).
pub fn text(r: &UrlReport) -> String {
    let mut out = String::new();
    let method = r.method.map_or("(method not in the URL)".to_owned(), |m| {
        m.as_str().to_owned()
    });
    out.push_str(&format!(
        "presigned URL  {method} {}://{}  ({})\n",
        r.scheme,
        r.host,
        match r.addressing {
            Addressing::VirtualHosted => "virtual-hosted",
            Addressing::PathStyle => "path-style",
        }
    ));
    for (name, value) in facts(r) {
        out.push_str(&format!("  {name:<16}{value}\n"));
    }
    out.push('\n');
    if r.findings.is_empty() {
        out.push_str("Nothing stops this URL from working.\n");
    }
    for f in &r.findings {
        let mark = f.severity.symbol();
        out.push_str(&format!("{mark} {}  {}\n", f.title, f.code));
        out.push_str(&format!("  {}\n", f.summary));
        out.push_str(&format!("  Fix: {}\n", f.remedy));
    }
    out
}

/// The rows under the URL's first line: what it names, who signed it and when, where, and
/// what was tried and noted.
fn facts(r: &UrlReport) -> Vec<(&'static str, String)> {
    let mut rows = vec![
        ("bucket", r.bucket.clone().unwrap_or_else(|| "-".into())),
        ("key", r.key.clone().unwrap_or_else(|| "-".into())),
        (
            "signed by",
            match &r.signer_account {
                Some(account) => format!("{} (account {account})", r.access_key),
                None => r.access_key.clone(),
            },
        ),
        ("method", method_row(r)),
        ("signature", signature_row(r)),
        (
            "signed at",
            match (&r.signed_at, r.expires_in) {
                (Some(at), Some(secs)) => format!("{at} for {}", super::human_duration(secs)),
                _ => "not in a SigV2 URL (it names only its end, Expires)".to_owned(),
            },
        ),
        ("expires", expiry(r)),
        ("region", region_row(r)),
        ("signed headers", r.signed_headers.join(", ")),
        (
            "credentials",
            if r.session_token {
                "temporary (X-Amz-Security-Token): the URL dies when the session does".to_owned()
            } else {
                "long-term access key".to_owned()
            },
        ),
    ];
    if let Some(t) = &r.tried {
        let answer = match (t.http_status, &t.error_code) {
            (None, _) => "read the first byte".to_owned(),
            (Some(s), Some(c)) => format!("{s} {c}"),
            (Some(s), None) => s.to_string(),
        };
        rows.push(("tried", format!("{}: {answer}", t.request)));
    }
    rows.extend(r.notes.iter().map(|note| ("note", note.clone())));
    rows
}

/// The method and what said it, or that the URL does not say.
fn method_row(r: &UrlReport) -> String {
    match (r.method, &r.method_source) {
        (Some(m), Some(from)) => format!("{m}, from {from}"),
        (Some(m), None) => m.to_string(),
        (None, _) => "not in the URL (no x-id): the signature covers the method but does not \
                      show it; --method GET|PUT says it"
            .to_owned(),
    }
}

/// Which signature, with its parameters.
fn signature_row(r: &UrlReport) -> String {
    match r.signature_version {
        SigVersion::V4 => "SigV4 (X-Amz-Algorithm=AWS4-HMAC-SHA256)".to_owned(),
        SigVersion::V2 => {
            "SigV2 (AWSAccessKeyId, Expires, Signature), deprecated by AWS".to_owned()
        }
    }
}

/// The region the signature is for (none for SigV2) against the bucket's.
fn region_row(r: &UrlReport) -> String {
    let signed = match &r.region {
        Some(region) => format!("signed for {region}"),
        None => "a SigV2 signature names no region".to_owned(),
    };
    match &r.bucket_region {
        Some(b) => format!("{signed}; the bucket is in {b}"),
        None => format!("{signed}; the bucket's region is unknown"),
    }
}

/// When it expires, and how long ago or how soon.
fn expiry(r: &UrlReport) -> String {
    let left = super::human_duration(r.seconds_left.unsigned_abs());
    if r.expired {
        format!("{}  (expired {left} ago)", r.expires_at)
    } else {
        format!("{}  (in {left})", r.expires_at)
    }
}

/// The text report in a Markdown code block, under a heading that says whether it works.
pub fn markdown(r: &UrlReport) -> String {
    let mut out = format!(
        "# Presigned URL: {}\n\n",
        if r.ok {
            "no blocking problem"
        } else {
            "problems"
        }
    );
    out.push_str("```\n");
    out.push_str(&text(r));
    out.push_str("```\n");
    out
}
