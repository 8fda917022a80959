//! One EC2 action without `aws-sdk-ec2`: `DescribeVpcEndpoints`, for the VPC endpoint's
//! policy. aws-sdk-ec2 would add minutes to a cold build for one call (measured: the README's
//! "One EC2 call without aws-sdk-ec2"), so the call is an EC2 Query request
//! (`Action=DescribeVpcEndpoints&Version=2016-11-15&VpcEndpointId.1=…`, as the EC2 API
//! Reference's "Query requests for Amazon EC2" describe it), signed with the SDK's own SigV4
//! signer (`aws-sigv4`) with the session's credentials, sent on the run's connector within the
//! attempt timeout (like the CORS preflight), and its XML read with `aws-smithy-xml`.
//!
//! The answer's element names are the EC2 API Reference's (`DescribeVpcEndpoints`, the
//! `VpcEndpoint` data type): `vpcEndpointSet` of `item`s with `vpcEndpointId`,
//! `vpcEndpointType`, `vpcId`, `serviceName`, `state`, `policyDocument`, `ownerId`; an error is
//! `<Response><Errors><Error><Code>…<Message>…` with a `RequestID` ("Error responses", EC2 API
//! Reference).

use std::time::SystemTime;

use aws_credential_types::provider::ProvideCredentials;
use aws_smithy_runtime_api::client::orchestrator::HttpRequest;
use aws_smithy_types::body::SdkBody;
use aws_smithy_xml::decode::{Document, ScopedDecoder, try_data};

use super::{Session, Settings};

/// What s3doctor reads of a VPC endpoint.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct VpcEndpoint {
    pub id: String,
    /// `Gateway`, `Interface`, `GatewayLoadBalancer`, …
    pub endpoint_type: Option<String>,
    pub vpc_id: Option<String>,
    /// `com.amazonaws.us-east-1.s3`.
    pub service_name: Option<String>,
    pub state: Option<String>,
    /// The endpoint policy, as JSON text (AWS gives a full-access policy when none was set).
    pub policy_document: Option<String>,
    pub owner_id: Option<String>,
}

/// Why the endpoint could not be read.
#[derive(Clone, Debug, PartialEq, Eq, thiserror::Error)]
pub enum Ec2Error {
    /// EC2 answered with an error (`UnauthorizedOperation`, `InvalidVpcEndpointId.NotFound`, …).
    #[error("{code}: {message} (HTTP {status}{})", request_id.as_deref().map(|r| format!(", request id {r}")).unwrap_or_default())]
    Answered {
        status: u16,
        code: String,
        message: String,
        request_id: Option<String>,
    },
    /// No answer came (connection, timeout), or no credentials to sign with.
    #[error("{0}")]
    NoAnswer(String),
    /// An answer that is not DescribeVpcEndpoints's.
    #[error("an answer s3doctor cannot read: {0}")]
    Unreadable(String),
    /// The answer lists no such endpoint.
    #[error("EC2 lists no VPC endpoint {0}")]
    NotListed(String),
}

/// The API version of the EC2 Query API (the one `aws-sdk-ec2` sends).
const VERSION: &str = "2016-11-15";

/// Reads VPC endpoint `id` with `session`'s credentials: one signed request.
pub async fn describe_vpc_endpoint(
    settings: &Settings,
    session: &Session,
    id: &str,
) -> Result<VpcEndpoint, Ec2Error> {
    let region = session
        .region
        .clone()
        .unwrap_or_else(|| "us-east-1".to_owned());
    let url = match session.clients.endpoint_url() {
        Some(custom) => format!("{}/", custom.trim_end_matches('/')),
        None => format!("https://ec2.{region}.amazonaws.com/"),
    };
    let body = format!("Action=DescribeVpcEndpoints&Version={VERSION}&VpcEndpointId.1={id}");
    let req = signed(session, (&url, &region), body).await?;
    let resp = settings
        .send_unsigned(Some(&session.clients), ("EC2", "DescribeVpcEndpoints"), req)
        .await
        .map_err(|e| Ec2Error::NoAnswer(format!("{}: {}", e.how.words(), e.why)))?;
    let status = resp.status().as_u16();
    let bytes = aws_smithy_types::byte_stream::ByteStream::new(resp.into_body())
        .collect()
        .await
        .map_err(|e| Ec2Error::NoAnswer(e.to_string()))?
        .into_bytes();
    let text = String::from_utf8_lossy(&bytes);
    if !(200..300).contains(&status) {
        return Err(error_answer(status, &text));
    }
    parse_describe_vpc_endpoints(&text)?
        .into_iter()
        .find(|e| e.id == id)
        .ok_or_else(|| Ec2Error::NotListed(id.to_owned()))
}

/// The Query request, signed for `ec2` in `region` with the session's credentials.
async fn signed(
    session: &Session,
    (url, region): (&str, &str),
    body: String,
) -> Result<HttpRequest, Ec2Error> {
    use aws_sigv4::http_request::{SignableBody, SignableRequest, SigningSettings, sign};
    use aws_sigv4::sign::v4;
    let provider = session
        .clients
        .credentials_provider()
        .ok_or_else(|| Ec2Error::NoAnswer("no credentials to sign with".to_owned()))?;
    let credentials = provider
        .provide_credentials()
        .await
        .map_err(|e| Ec2Error::NoAnswer(format!("no credentials to sign with: {e}")))?;
    let identity = credentials.into();
    let params = v4::SigningParams::builder()
        .identity(&identity)
        .region(region)
        .name("ec2")
        .time(SystemTime::now())
        .settings(SigningSettings::default())
        .build()
        .map_err(|e| Ec2Error::NoAnswer(e.to_string()))?
        .into();
    let content_type = "application/x-www-form-urlencoded; charset=utf-8";
    let headers = [("content-type", content_type)];
    let signable = SignableRequest::new(
        "POST",
        url,
        headers.into_iter(),
        SignableBody::Bytes(body.as_bytes()),
    )
    .map_err(|e| Ec2Error::NoAnswer(e.to_string()))?;
    let (instructions, _signature) = sign(signable, &params)
        .map_err(|e| Ec2Error::NoAnswer(e.to_string()))?
        .into_parts();
    let mut req = HttpRequest::new(SdkBody::from(body));
    req.set_method("POST")
        .map_err(|e| Ec2Error::NoAnswer(e.to_string()))?;
    req.set_uri(url)
        .map_err(|e| Ec2Error::NoAnswer(e.to_string()))?;
    req.headers_mut().insert("content-type", content_type);
    for (name, value) in instructions.headers() {
        req.headers_mut().insert(name.to_owned(), value.to_owned());
    }
    Ok(req)
}

/// The endpoints of a `DescribeVpcEndpointsResponse`.
pub fn parse_describe_vpc_endpoints(xml: &str) -> Result<Vec<VpcEndpoint>, Ec2Error> {
    let unreadable = |e: &dyn std::fmt::Display| Ec2Error::Unreadable(e.to_string());
    let mut doc = Document::new(xml);
    let mut root = doc.root_element().map_err(|e| unreadable(&e))?;
    if !root.start_el().matches("DescribeVpcEndpointsResponse") {
        return Err(Ec2Error::Unreadable(format!(
            "<{}> where DescribeVpcEndpointsResponse was expected",
            root.start_el().local()
        )));
    }
    let mut out = Vec::new();
    while let Some(mut tag) = root.next_tag() {
        if !tag.start_el().matches("vpcEndpointSet") {
            continue;
        }
        while let Some(mut item) = tag.next_tag() {
            if item.start_el().matches("item") {
                out.push(endpoint(&mut item).map_err(|e| unreadable(&e))?);
            }
        }
    }
    Ok(out)
}

/// One `item` of the `vpcEndpointSet`.
fn endpoint(item: &mut ScopedDecoder<'_, '_>) -> Result<VpcEndpoint, String> {
    let mut e = VpcEndpoint::default();
    while let Some(mut field) = item.next_tag() {
        let name = field.start_el().local().to_owned();
        let slot = match name.as_str() {
            "vpcEndpointId" => None,
            "vpcEndpointType" => Some(&mut e.endpoint_type),
            "vpcId" => Some(&mut e.vpc_id),
            "serviceName" => Some(&mut e.service_name),
            "state" => Some(&mut e.state),
            "policyDocument" => Some(&mut e.policy_document),
            "ownerId" => Some(&mut e.owner_id),
            _ => continue,
        };
        let text = try_data(&mut field)
            .map_err(|e| e.to_string())?
            .into_owned();
        match slot {
            Some(slot) => *slot = Some(text),
            None => e.id = text,
        }
    }
    Ok(e)
}

/// An EC2 error answer: `<Response><Errors><Error><Code>…</Code><Message>…</Message></Error>
/// </Errors><RequestID>…</RequestID></Response>`.
fn error_answer(status: u16, xml: &str) -> Ec2Error {
    let mut code = None;
    let mut message = None;
    let mut request_id = None;
    let mut doc = Document::new(xml);
    if let Ok(mut root) = doc.root_element() {
        while let Some(mut tag) = root.next_tag() {
            if tag.start_el().matches("RequestID") {
                request_id = try_data(&mut tag).ok().map(|t| t.into_owned());
                continue;
            }
            while let Some(mut error) = tag.next_tag() {
                while let Some(mut field) = error.next_tag() {
                    let slot = match field.start_el().local() {
                        "Code" => &mut code,
                        "Message" => &mut message,
                        _ => continue,
                    };
                    *slot = try_data(&mut field).ok().map(|t| t.into_owned());
                }
            }
        }
    }
    match code {
        Some(code) => Ec2Error::Answered {
            status,
            code,
            message: message.unwrap_or_default(),
            request_id,
        },
        None => Ec2Error::Unreadable(format!("HTTP {status} without an EC2 error")),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// tests/fixtures/ec2/describe-vpc-endpoints.xml: the shape of the EC2 API Reference's
    /// DescribeVpcEndpoints example (see the file's header).
    const DOCUMENTED: &str =
        include_str!("../../../../tests/fixtures/ec2/describe-vpc-endpoints.xml");

    #[test]
    fn the_documented_answer_reads_to_the_endpoint_and_its_policy() {
        let xml = DOCUMENTED
            .lines()
            .skip_while(|l| !l.starts_with("<DescribeVpcEndpointsResponse"))
            .collect::<Vec<_>>()
            .join("\n");
        let endpoints = parse_describe_vpc_endpoints(&xml).unwrap();
        assert_eq!(endpoints.len(), 1);
        let e = &endpoints[0];
        assert_eq!(e.id, "vpce-032a826a");
        assert_eq!(e.vpc_id.as_deref(), Some("vpc-1a2b3c4d"));
        assert_eq!(
            e.service_name.as_deref(),
            Some("com.amazonaws.us-east-1.s3")
        );
        assert_eq!(e.state.as_deref(), Some("available"));
        let policy = e.policy_document.as_deref().unwrap();
        let parsed = crate::policy::PolicyDocument::parse(policy).unwrap();
        assert_eq!(parsed.statement.len(), 1);
    }

    #[test]
    fn an_error_answer_says_its_code_message_and_request_id() {
        let xml = "<?xml version=\"1.0\" encoding=\"UTF-8\"?>\n<Response><Errors><Error><Code>UnauthorizedOperation</Code><Message>You are not authorized to perform this operation.</Message></Error></Errors><RequestID>ab4f1c41-0d2d-4d1f-9a8b-EXAMPLE</RequestID></Response>";
        let e = error_answer(403, xml);
        assert_eq!(
            e,
            Ec2Error::Answered {
                status: 403,
                code: "UnauthorizedOperation".into(),
                message: "You are not authorized to perform this operation.".into(),
                request_id: Some("ab4f1c41-0d2d-4d1f-9a8b-EXAMPLE".into()),
            }
        );
        assert!(matches!(
            error_answer(500, "<html/>"),
            Ec2Error::Unreadable(_)
        ));
    }

    #[test]
    fn another_answer_is_unreadable_not_an_empty_list() {
        let e = parse_describe_vpc_endpoints("<ListBucketResult/>").unwrap_err();
        assert!(matches!(e, Ec2Error::Unreadable(_)), "{e:?}");
    }
}
