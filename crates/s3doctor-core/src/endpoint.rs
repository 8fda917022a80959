//! What the endpoint is and what it offers: AWS itself, an AWS emulator, or an S3-compatible
//! server (Ceph RGW, MinIO, Cloudflare R2, …) that has S3 but no STS and no IAM managed
//! policies. The checks learn it once per run from the `sts:GetCallerIdentity` answer (see
//! `checks::CheckContext::capabilities`) and adapt: who the keys are, whether a region name is
//! compared, which remedy exists there, and how the report words it.

use serde::Serialize;

use crate::answers::codes::AwsCode;
use crate::answers::{Class, Failure};
use crate::finding::Evidence;
pub use crate::server::{EndpointKind, Server};

/// What one run learned about the endpoint.
#[derive(Clone, Debug, PartialEq, Eq, Serialize)]
pub struct Capabilities {
    pub kind: EndpointKind,
    /// `sts:GetCallerIdentity` answers there (even with an error about the keys).
    pub sts: bool,
    /// IAM answers there: taken to be so where STS answers; asked once (`iam:GetUser`) where
    /// it does not (RGW answers 405).
    pub iam: bool,
    /// The answer that showed STS is absent (for the report's evidence).
    #[serde(skip)]
    pub sts_answer: Option<Evidence>,
}

impl Capabilities {
    /// AWS itself: everything is there.
    pub fn aws() -> Self {
        Capabilities {
            kind: EndpointKind::Aws,
            sts: true,
            iam: true,
            sts_answer: None,
        }
    }

    /// True for a server that is S3 only: no STS, so no IAM managed policies either, and its
    /// region names are its own.
    pub fn s3_only(&self) -> bool {
        !self.sts
    }

    /// The server, as the findings' words take it.
    pub fn server(&self) -> Server {
        Server {
            kind: self.kind,
            s3_only: self.s3_only(),
        }
    }

    /// From the custom endpoint and the `GetCallerIdentity` answer (`None`: it succeeded).
    pub fn learn(endpoint: &str, failure: Option<&Failure>) -> Self {
        let host_kind = kind_from_host(endpoint);
        if host_kind == Some(EndpointKind::Aws) {
            return Capabilities::aws();
        }
        let Some(failure) = failure else {
            return Capabilities {
                kind: host_kind.unwrap_or(EndpointKind::AwsCompatible),
                sts: true,
                iam: true,
                sts_answer: None,
            };
        };
        let absent = sts_absent(failure);
        let from_id = failure
            .evidence
            .request_id
            .as_deref()
            .is_some_and(is_rgw_request_id)
            .then_some(EndpointKind::CephRgw);
        let kind = from_id.or(host_kind).unwrap_or(if absent {
            EndpointKind::S3Compatible
        } else {
            EndpointKind::AwsCompatible
        });
        Capabilities {
            kind,
            sts: !absent,
            iam: !absent,
            sts_answer: absent.then(|| failure.evidence.clone()),
        }
    }
}

/// The answers of a server that does not implement STS: RGW answers 405 MethodNotAllowed,
/// others 501 NotImplemented or 404 to the POST on `/`. Errors about the keys
/// (InvalidClientTokenId, SignatureDoesNotMatch, …) come from an STS that exists.
pub fn sts_absent(failure: &Failure) -> bool {
    if matches!(failure.class, Class::Credentials(_) | Class::Unreachable(_)) {
        return false;
    }
    let code = failure.evidence.error_code.as_deref().unwrap_or_default();
    matches!(failure.evidence.http_status, Some(405 | 501))
        || matches!(
            code,
            "MethodNotAllowed" | "NotImplemented" | "InvalidAction" | "UnknownOperation"
        )
        || (failure.evidence.http_status == Some(404) && !AwsCode::NoSuchEntity.is(Some(code)))
}

fn kind_from_host(endpoint: &str) -> Option<EndpointKind> {
    let host = endpoint
        .split("://")
        .nth(1)
        .unwrap_or(endpoint)
        .split(['/', ':'])
        .next()
        .unwrap_or_default()
        .to_ascii_lowercase();
    if host.ends_with(".amazonaws.com") || host.ends_with(".amazonaws.com.cn") {
        Some(EndpointKind::Aws)
    } else if host.ends_with(".r2.cloudflarestorage.com") {
        Some(EndpointKind::CloudflareR2)
    } else {
        None
    }
}

/// The kind of server an answer came from, as far as a pasted error tells (`s3doctor why`):
/// an RGW transaction id, else the host of the URL it names (AWS when it names none).
pub fn kind_of_pasted(endpoint: Option<&str>, request_id: Option<&str>) -> EndpointKind {
    if request_id.is_some_and(is_rgw_request_id) {
        return EndpointKind::CephRgw;
    }
    match endpoint {
        None => EndpointKind::Aws,
        Some(e) => kind_from_host(e).unwrap_or(EndpointKind::S3Compatible),
    }
}

/// RGW's transaction ids: `tx` + 21 hex digits, `-` + hex time, `-` + hex id, `-` + zonegroup.
fn is_rgw_request_id(id: &str) -> bool {
    let mut parts = id.splitn(4, '-');
    let (Some(tx), Some(time), Some(instance), Some(zonegroup)) =
        (parts.next(), parts.next(), parts.next(), parts.next())
    else {
        return false;
    };
    let hex = |s: &str| !s.is_empty() && s.bytes().all(|b| b.is_ascii_hexdigit());
    tx.len() == 23
        && tx.starts_with("tx")
        && hex(&tx[2..])
        && hex(time)
        && hex(instance)
        && !zonegroup.is_empty()
}

/// Whether `name` has the shape of an AWS region (`us-east-1`, `eu-central-2`,
/// `us-gov-west-1`, `cn-north-1`). RGW zonegroups (`default`), R2's `auto` and the like do not.
pub fn is_aws_region(name: &str) -> bool {
    let parts: Vec<&str> = name.split('-').collect();
    let (geo, rest) = match parts.as_slice() {
        [a, b, rest @ ..] if *b == "gov" || *b == "iso" || *b == "isob" => {
            (format!("{a}-{b}"), rest)
        }
        [a, rest @ ..] => ((*a).to_owned(), rest),
        [] => return false,
    };
    let known_geo = [
        "us", "eu", "ap", "sa", "ca", "me", "af", "il", "mx", "cn", "us-gov", "us-iso", "us-isob",
    ];
    matches!(rest, [direction, number]
        if !direction.is_empty()
            && direction.bytes().all(|b| b.is_ascii_lowercase())
            && !number.is_empty()
            && number.bytes().all(|b| b.is_ascii_digit()))
        && known_geo.contains(&geo.as_str())
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::finding::FindingCode;

    fn failure(status: u16, code: &str, request_id: &str, class: Class) -> Failure {
        Failure {
            operation: crate::operation::Operation::GetCallerIdentity,
            evidence: Evidence {
                operation: "GetCallerIdentity".into(),
                http_status: Some(status),
                error_code: Some(code.into()),
                message: Some(String::new()),
                request_id: Some(request_id.into()),
                ..Evidence::default()
            },
            class,
            bucket_region: None,
        }
    }

    /// RGW 16.2's answer to GetCallerIdentity, as captured from `scripts/rgw.sh`'s cluster.
    #[test]
    fn rgw_answers_405_and_is_recognised_by_its_request_id() {
        let f = failure(
            405,
            "MethodNotAllowed",
            "tx000005dd1335eabc3dd4a-006b0705cc-1012-default",
            Class::Other,
        );
        let c = Capabilities::learn("http://127.0.0.1:8000", Some(&f));
        assert_eq!(c.kind, EndpointKind::CephRgw);
        assert!(!c.sts && c.s3_only());
    }

    #[test]
    fn a_key_error_from_sts_means_sts_is_there() {
        let f = failure(
            403,
            "InvalidClientTokenId",
            "c6104cbe-af31-11e0-8154-cbc7ccf896c7",
            Class::Credentials(FindingCode::InvalidKeyId),
        );
        let c = Capabilities::learn("http://127.0.0.1:5000", Some(&f));
        assert!(c.sts);
        assert_eq!(c.kind, EndpointKind::AwsCompatible);
        assert_eq!(
            Capabilities::learn("http://localhost:4566", None).kind,
            EndpointKind::AwsCompatible
        );
        assert_eq!(
            Capabilities::learn("https://s3.eu-west-1.amazonaws.com", Some(&f)).kind,
            EndpointKind::Aws
        );
    }

    #[test]
    fn r2_is_named_by_its_host() {
        let f = failure(501, "NotImplemented", "", Class::Other);
        let c = Capabilities::learn("https://abc123.r2.cloudflarestorage.com", Some(&f));
        assert_eq!(c.kind, EndpointKind::CloudflareR2);
        assert!(!c.sts);
    }

    #[test]
    fn region_names() {
        for r in [
            "us-east-1",
            "eu-central-2",
            "ap-southeast-4",
            "us-gov-west-1",
            "cn-north-1",
            "il-central-1",
        ] {
            assert!(is_aws_region(r), "{r}");
        }
        for r in [
            "default",
            "auto",
            "us-east",
            "garage",
            "eu-west-3a",
            "zg1-1",
            "",
        ] {
            assert!(!is_aws_region(r), "{r}");
        }
    }
}
