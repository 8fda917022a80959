//! Reads AWS's XML error bodies — S3's `<Error>…</Error>`, STS's and IAM's
//! `<ErrorResponse><Error>…</Error></ErrorResponse>` (and moto's `<Errors>` wrapper) — with the
//! SDK's own XML reader (`aws-smithy-xml`), for the answers s3doctor receives and for bodies
//! pasted into `s3doctor why`, where the body may sit inside a log line or a stack trace.

use aws_smithy_xml::decode::{Document, ScopedDecoder, try_data};

/// The fields of an error body that tell something; any may be missing.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct ErrorBody {
    pub code: Option<String>,
    pub message: Option<String>,
    pub request_id: Option<String>,
    /// `<HostId>`: S3's extended request id (`x-amz-id-2`).
    pub host_id: Option<String>,
    /// `<Region>` of AuthorizationHeaderMalformed: the bucket's region.
    pub region: Option<String>,
    pub bucket: Option<String>,
    pub key: Option<String>,
    /// `<Endpoint>` of PermanentRedirect: where the bucket must be addressed.
    pub endpoint: Option<String>,
}

/// How deep the reader follows nested elements (error bodies nest three levels at most).
const MAX_DEPTH: usize = 6;

impl ErrorBody {
    /// Reads a whole body; `None` when it is not XML whose root is, or wraps, an `Error`.
    pub fn parse(body: &str) -> Option<ErrorBody> {
        let mut doc = Document::new(body);
        let mut root = doc.root_element().ok()?;
        let mut out = ErrorBody::default();
        let mut found = root.start_el().local() == "Error";
        read_children(&mut root, &mut out, &mut found, 0);
        found.then_some(out)
    }

    /// The first complete error body inside `text` (a log line, a stack trace, an SDK's debug
    /// output): each `<Error…` and `<ErrorResponse…` is tried up to its closing tag, so a
    /// truncated copy before a whole one is skipped. JSON-escaped quotes (`\"`) are undone.
    pub fn find_in(text: &str) -> Option<ErrorBody> {
        let unescaped;
        let text = if text.contains("\\\"") {
            unescaped = text.replace("\\\"", "\"").replace("\\n", "\n");
            unescaped.as_str()
        } else {
            text
        };
        for (open, close) in [
            ("<ErrorResponse", "</ErrorResponse>"),
            ("<Error>", "</Error>"),
        ] {
            for (start, _) in text.match_indices(open) {
                let Some(len) = text.get(start..).and_then(|t| t.find(close)) else {
                    continue;
                };
                let Some(slice) = text.get(start..start + len + close.len()) else {
                    continue;
                };
                // A truncated copy runs into the next whole one: skip it for that one.
                if slice
                    .get(open.len()..)
                    .is_some_and(|inner| inner.contains(open))
                {
                    continue;
                }
                if let Some(body) = ErrorBody::parse(slice).filter(|b| b.code.is_some()) {
                    return Some(body);
                }
            }
        }
        None
    }
}

/// Reads the children of `el` into `out`: the fields, and the wrappers that hold them.
fn read_children(el: &mut ScopedDecoder, out: &mut ErrorBody, found: &mut bool, depth: usize) {
    if depth > MAX_DEPTH {
        return;
    }
    while let Some(mut child) = el.next_tag() {
        let name = child.start_el().local().to_owned();
        if matches!(name.as_str(), "Error" | "Errors" | "ErrorResponse") {
            *found |= name == "Error";
            read_children(&mut child, out, found, depth + 1);
            continue;
        }
        let slot = match name.as_str() {
            "Code" => &mut out.code,
            "Message" => &mut out.message,
            "RequestId" | "RequestID" => &mut out.request_id,
            "HostId" => &mut out.host_id,
            "Region" => &mut out.region,
            "BucketName" | "Bucket" => &mut out.bucket,
            "Key" => &mut out.key,
            "Endpoint" => &mut out.endpoint,
            _ => continue,
        };
        if slot.is_none()
            && let Ok(text) = try_data(&mut child)
        {
            let text = text.trim();
            if !text.is_empty() {
                *slot = Some(text.to_owned());
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn an_s3_body_with_every_field() {
        let body = r#"<?xml version="1.0" encoding="UTF-8"?>
<Error><Code>AuthorizationHeaderMalformed</Code><Message>The authorization header is malformed; the region 'us-east-1' is wrong; expecting 'eu-west-1'</Message><Region>eu-west-1</Region><RequestId>R1</RequestId><HostId>H1=</HostId></Error>"#;
        let got = ErrorBody::parse(body).expect("body");
        assert_eq!(got.code.as_deref(), Some("AuthorizationHeaderMalformed"));
        assert_eq!(got.region.as_deref(), Some("eu-west-1"));
        assert_eq!(got.request_id.as_deref(), Some("R1"));
        assert_eq!(got.host_id.as_deref(), Some("H1="));
    }

    #[test]
    fn sts_and_moto_envelopes_are_read_through() {
        let sts = "<ErrorResponse xmlns=\"https://sts.amazonaws.com/doc/2011-06-15/\"><Error><Type>Sender</Type><Code>InvalidClientTokenId</Code><Message>The security token included in the request is invalid.</Message></Error><RequestId>abc</RequestId></ErrorResponse>";
        let got = ErrorBody::parse(sts).expect("sts");
        assert_eq!(got.code.as_deref(), Some("InvalidClientTokenId"));
        assert_eq!(got.request_id.as_deref(), Some("abc"));
        let moto = "<ErrorResponse><Errors><Error><Code>AccessDenied</Code><Message>no</Message></Error></Errors></ErrorResponse>";
        assert_eq!(
            ErrorBody::parse(moto).and_then(|b| b.code).as_deref(),
            Some("AccessDenied")
        );
    }

    #[test]
    fn a_body_inside_a_log_line_after_a_truncated_copy_is_found() {
        let text = "Client error: `PUT …` resulted in a `403 Forbidden` response:\n<?xml version=\"1.0\"?>\n<Error><Code>AccessDenied</Code><Message>Access Denied</Message><RequestId>E5EA21 (truncated...)\n AccessDenied (client): Access Denied - <?xml version=\"1.0\"?>\n<Error><Code>AccessDenied</Code><Message>Access Denied</Message><RequestId>E5EA2109F158B3BE</RequestId></Error>";
        let got = ErrorBody::find_in(text).expect("found");
        assert_eq!(got.request_id.as_deref(), Some("E5EA2109F158B3BE"));
    }

    #[test]
    fn not_an_error_body() {
        assert_eq!(
            ErrorBody::parse("<ListBucketResult></ListBucketResult>"),
            None
        );
        assert_eq!(ErrorBody::parse("Access Denied"), None);
        assert_eq!(ErrorBody::find_in("<Error>"), None);
    }
}
