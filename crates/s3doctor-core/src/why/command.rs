//! The live command a reading prints: `s3doctor check` with the bucket, key, role and network
//! the pasted text names, so that the checklist asks AWS again as the app did.

use crate::answers::Class;
use crate::answers::pasted::Pasted;
use crate::aws::shell_word;

/// `s3doctor check …`, and whether it is complete (no placeholder to replace).
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Checklist {
    pub command: String,
    pub complete: bool,
    /// The flags' values, for the wizard: what its checklist is filled with.
    pub bucket: Option<String>,
    pub key: Option<String>,
    pub role_arn: Option<String>,
    pub region: Option<String>,
    pub endpoint: Option<String>,
    pub source_ip: Option<String>,
    pub vpce: Option<String>,
}

/// Placeholder for a bucket the text does not name.
pub const BUCKET_PLACEHOLDER: &str = "BUCKET";

/// The checklist run that checks `pasted` live. Flags as the design names them: `--key`
/// (the app's object), `--role-arn` (the role behind a session), `--expect-principal` (the
/// user the keys must belong to), `--source-ip`/`--vpce` (the app's network), `--region`,
/// `--endpoint-url`.
pub fn checklist(pasted: &Pasted, class: &Class) -> Checklist {
    let r = &pasted.request;
    let region = r
        .region
        .clone()
        .or_else(|| match class {
            Class::WrongRegion(Some(region)) => Some(region.clone()),
            _ => None,
        })
        .or_else(|| pasted.bucket_region.clone());
    let user = r
        .principal
        .as_deref()
        .filter(|p| p.starts_with("arn:") && p.contains(":user/"));
    let mut command = format!(
        "s3doctor check --bucket {}",
        shell_word(r.bucket.as_deref().unwrap_or(BUCKET_PLACEHOLDER))
    );
    let mut flag = |name: &str, value: Option<&str>| {
        if let Some(v) = value {
            command.push_str(&format!(" --{name} {}", shell_word(v)));
        }
    };
    flag("key", r.key.as_deref());
    flag("role-arn", r.role_arn.as_deref());
    flag("expect-principal", user);
    flag("region", region.as_deref());
    flag("endpoint-url", r.endpoint.as_deref());
    flag("source-ip", r.source_ip.as_deref());
    flag("vpce", r.vpce.as_deref());
    Checklist {
        command,
        complete: r.bucket.is_some(),
        bucket: r.bucket.clone(),
        key: r.key.clone(),
        role_arn: r.role_arn.clone(),
        region,
        endpoint: r.endpoint.clone(),
        source_ip: r.source_ip.clone(),
        vpce: r.vpce.clone(),
    }
}
