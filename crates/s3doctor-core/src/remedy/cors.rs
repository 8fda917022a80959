//! The CORS remedy of `s3doctor fix --origin`: the rule that lets the app's browser uploads
//! through, added to the bucket's CORS configuration with PutBucketCors only through a
//! `ConfirmedCors` (the CLI's typed `y` or `--yes`), merged with the rules the bucket already
//! has (never replacing them), or written as a hand-over for the bucket's owner.

use std::fmt::Write as _;

use super::{ConfirmedCors, RemedyError};
use crate::answers::codes::AwsCode;
use crate::checks::cors::{self, METHOD};
use crate::finding::{Finding, FindingCode};
use crate::operation::Operation;

/// The CORS change shown before anything is written: the rule for `origin` (and the app's
/// ACL header), added to the rules of each of `buckets`. Only its confirmation
/// (`ConfirmedCors`) is written.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct CorsChange {
    pub buckets: Vec<String>,
    pub origin: String,
    pub acl: Option<String>,
}

impl CorsChange {
    /// The change for the buckets whose CORS rules refuse the app's origin; `None` when there
    /// is none (no `--origin`, or no such finding).
    pub fn from_findings(
        findings: &[Finding],
        origin: Option<&str>,
        acl: Option<&str>,
    ) -> Option<CorsChange> {
        let origin = origin?;
        let mut buckets: Vec<String> = findings
            .iter()
            .filter(|f| f.code == FindingCode::CorsNotAllowed)
            .filter_map(|f| f.bucket.clone())
            .collect();
        buckets.dedup();
        (!buckets.is_empty()).then(|| CorsChange {
            buckets,
            origin: origin.to_owned(),
            acl: acl.map(str::to_owned),
        })
    }

    /// The person said yes to this change: called only by `fix`'s typed `y` or `--yes`
    /// (`commands::fix`). Public only because `fix` lives in the `s3doctor` package: the
    /// test of the write sites (tests/it/write_sites.rs) fails if another file calls it
    /// (see `ConfirmedCors`).
    pub fn confirm(self) -> ConfirmedCors {
        ConfirmedCors(self)
    }
}

/// What will be sent, for the plan shown before anything changes.
pub fn describe(change: &CorsChange) -> String {
    let headers = cors::request_headers(change.acl.as_deref());
    let rule = serde_json::to_string_pretty(&cors::rule_to_add(&change.origin, METHOD, &headers))
        .unwrap_or_default();
    let mut out = String::from("CORS: add this rule, merged with the rules each bucket has:\n");
    for b in &change.buckets {
        let _ = writeln!(
            out,
            "  s3:GetBucketCors {b}, then s3:PutBucketCors {b} (existing rules kept)"
        );
    }
    let _ = writeln!(out, "{rule}");
    out
}

/// Reads the bucket's rules, adds the app's rule unless one already allows it, and writes
/// the merged configuration. Refuses to write when the rules cannot be read (that would
/// replace them), and any bucket the person did not confirm.
pub async fn apply(
    s3: &aws_sdk_s3::Client,
    bucket: &str,
    confirmed: &ConfirmedCors,
) -> Result<String, RemedyError> {
    let change = confirmed.change();
    if !change.buckets.iter().any(|b| b == bucket) {
        return Err(RemedyError::Call(format!(
            "{bucket} is not in the confirmed CORS change; nothing was written"
        )));
    }
    let origin = change.origin.as_str();
    let headers = cors::request_headers(change.acl.as_deref());
    let existing = match s3.get_bucket_cors().bucket(bucket).send().await {
        Ok(out) => out.cors_rules().to_vec(),
        Err(err) if AwsCode::NoSuchCorsConfiguration.answered(&err) => Vec::new(),
        Err(err) => {
            return Err(RemedyError::Call(format!(
                "cannot read the CORS rules of {bucket}, so they cannot be merged and nothing was changed: {}",
                crate::answers::describe(Operation::GetBucketCors, &err)
            )));
        }
    };
    if let Some(n) = cors::matching_rule(&existing, origin, METHOD, &headers) {
        return Ok(format!(
            "{bucket}: rule #{n} already allows {origin}; nothing changed"
        ));
    }
    let rule = cors::sdk_rule(origin, METHOD, &headers)
        .ok_or_else(|| RemedyError::Call("the CORS rule could not be built".to_owned()))?;
    let kept = existing.len();
    let mut rules = existing;
    rules.push(rule);
    let config = aws_sdk_s3::types::CorsConfiguration::builder()
        .set_cors_rules(Some(rules))
        .build()
        .map_err(|e| RemedyError::Call(e.to_string()))?;
    s3.put_bucket_cors()
        .bucket(bucket)
        .cors_configuration(config)
        .send()
        .await
        .map_err(|err| {
            RemedyError::Call(crate::answers::describe(Operation::PutBucketCors, &err))
        })?;
    Ok(format!(
        "{bucket}: added a CORS rule for {origin} ({METHOD}), after its {kept} existing rule(s)"
    ))
}

/// The CORS change as Markdown for the bucket's owner.
pub fn export_markdown(change: &CorsChange, endpoint: Option<&str>) -> String {
    let (buckets, origin) = (&change.buckets, &change.origin);
    let headers = cors::request_headers(change.acl.as_deref());
    let rule = serde_json::to_string_pretty(&cors::rule_to_add(origin, METHOD, &headers))
        .unwrap_or_default();
    let e = crate::aws::endpoint_flag(endpoint);
    let mut md = format!(
        "## CORS: let browsers upload from {origin}\n\nBrowsers ask the bucket before a \
         cross-origin upload (a preflight) and block the upload when no CORS rule allows the \
         origin, the method and the headers. Add this rule to the bucket's CORS configuration, \
         keeping the rules it has:\n\n```json\n{rule}\n```\n\n"
    );
    for b in buckets {
        let _ = writeln!(
            md,
            "```bash\naws s3api get-bucket-cors{e} --bucket {b} > {b}-cors.json   # no file: start from {{\"CORSRules\": []}}\n\
             # add the rule above to \"CORSRules\" in {b}-cors.json, then:\n\
             aws s3api put-bucket-cors{e} --bucket {b} --cors-configuration file://{b}-cors.json\n```\n"
        );
    }
    md
}
