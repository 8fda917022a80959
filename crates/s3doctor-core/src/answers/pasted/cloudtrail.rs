//! Reads a CloudTrail event — one event, a `Records` array, or events wrapped by the tool that
//! found them (CloudWatch Logs Insights' `@message`) — with serde_json: who (`userIdentity`,
//! and the role behind a session in `sessionContext.sessionIssuer`), what (`eventName`,
//! `requestParameters`), from where (`sourceIPAddress`, `vpcEndpointId`) and AWS's answer
//! (`errorCode`, `errorMessage`).

use serde_json::Value;

use super::{Fields, Request, Shape};

/// How deep the search for events goes (a `Records` array inside a wrapper inside an array).
const MAX_DEPTH: usize = 6;

/// The fields of the first event with an error (else of the first event); `None` when the text
/// holds no CloudTrail event.
pub(super) fn read(text: &str) -> Option<Fields> {
    let value = parse(text)?;
    let mut events = Vec::new();
    collect(&value, 0, &mut events);
    let event = events
        .iter()
        .find(|e| e.get("errorCode").is_some())
        .or(events.first())?;
    Some(fields(event))
}

/// The JSON in `text`: all of it, or from its first `{`/`[` to its last `}`/`]`.
fn parse(text: &str) -> Option<Value> {
    if let Ok(v) = serde_json::from_str(text.trim()) {
        return Some(v);
    }
    let start = text.find(['{', '['])?;
    let end = text.rfind(['}', ']'])?;
    serde_json::from_str(text.get(start..=end)?).ok()
}

fn collect<'a>(value: &'a Value, depth: usize, out: &mut Vec<&'a Value>) {
    if depth > MAX_DEPTH || out.len() > 1000 {
        return;
    }
    match value {
        Value::Object(map) if map.contains_key("eventName") && map.contains_key("eventSource") => {
            out.push(value);
        }
        Value::Object(map) => map.values().for_each(|v| collect(v, depth + 1, out)),
        Value::Array(items) => items.iter().for_each(|v| collect(v, depth + 1, out)),
        _ => {}
    }
}

fn string(value: &Value, path: &[&str]) -> Option<String> {
    let mut v = value;
    for key in path {
        v = v.get(key)?;
    }
    v.as_str().map(str::to_owned).filter(|s| !s.is_empty())
}

fn fields(event: &Value) -> Fields {
    let identity = event.get("userIdentity");
    let principal = identity.and_then(|i| {
        string(i, &["arn"])
            .or_else(|| string(i, &["invokedBy"]))
            .or_else(|| {
                (string(i, &["accountId"]).as_deref() == Some("ANONYMOUS_PRINCIPAL"))
                    .then(|| "anonymous".to_owned())
            })
    });
    let issuer = identity
        .and_then(|i| i.get("sessionContext"))
        .and_then(|c| c.get("sessionIssuer"));
    let role_arn = issuer
        .filter(|s| string(s, &["type"]).as_deref() == Some("Role"))
        .and_then(|s| string(s, &["arn"]));
    let params = event.get("requestParameters");
    let param = |names: &[&str]| params.and_then(|p| names.iter().find_map(|n| string(p, &[n])));
    let source_ip =
        string(event, &["sourceIPAddress"]).filter(|ip| ip.parse::<std::net::IpAddr>().is_ok());
    Fields {
        shape: Some(Shape::CloudTrail),
        operation: string(event, &["eventName"]),
        code: string(event, &["errorCode"]),
        message: string(event, &["errorMessage"]),
        request_id: string(event, &["requestID"]),
        host_id: string(event, &["additionalEventData", "x-amz-id-2"]),
        request: Request {
            principal,
            role_arn,
            bucket: param(&["bucketName"]),
            key: param(&["key", "Key"]),
            region: string(event, &["awsRegion"]),
            source_ip,
            vpce: string(event, &["vpcEndpointId"]),
            ..Request::default()
        },
        ..Fields::default()
    }
}
