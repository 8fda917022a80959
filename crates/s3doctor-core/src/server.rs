//! Which server answered, as a fact the findings' words take: AWS itself, an endpoint that
//! answers as AWS does (an emulator with STS and IAM), Ceph RGW, Cloudflare R2, or another
//! S3-compatible server. The runbook's templates say `{server}` for it and may hold words of
//! their own for servers that are S3 only (no STS, so no IAM managed policies), so a finding is
//! worded for the server from the start, not rewritten afterwards. Learned by
//! `endpoint::Capabilities` from the run's answers.

use serde::Serialize;

/// The kind of server the report names.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, Serialize)]
#[serde(rename_all = "kebab-case")]
pub enum EndpointKind {
    /// No custom endpoint, or an `amazonaws.com` one.
    #[default]
    Aws,
    /// A custom endpoint where STS answers like AWS (moto, LocalStack, …).
    AwsCompatible,
    /// Ceph's RADOS Gateway (its request ids are `tx…-…-ZONEGROUP`).
    CephRgw,
    /// Cloudflare R2 (`*.r2.cloudflarestorage.com`).
    CloudflareR2,
    /// Any other server without STS.
    S3Compatible,
}

impl EndpointKind {
    pub fn as_str(self) -> &'static str {
        match self {
            EndpointKind::Aws => "aws",
            EndpointKind::AwsCompatible => "aws-compatible",
            EndpointKind::CephRgw => "ceph-rgw",
            EndpointKind::CloudflareR2 => "cloudflare-r2",
            EndpointKind::S3Compatible => "s3-compatible",
        }
    }

    /// How a sentence names the server that answered ("AWS refused these keys"): AWS, and the
    /// endpoints that answer as AWS does (its emulators, with STS and IAM), are "AWS"; a
    /// server that is S3 only by its own name.
    pub fn who(self) -> &'static str {
        match self {
            EndpointKind::Aws | EndpointKind::AwsCompatible => "AWS",
            EndpointKind::CephRgw => "Ceph RGW",
            EndpointKind::CloudflareR2 => "Cloudflare R2",
            EndpointKind::S3Compatible => "the S3 server",
        }
    }

    /// How the report names the server.
    pub fn label(self) -> &'static str {
        match self {
            EndpointKind::Aws => "AWS",
            EndpointKind::AwsCompatible => "an AWS-compatible endpoint (STS answers)",
            EndpointKind::CephRgw => "Ceph RGW",
            EndpointKind::CloudflareR2 => "Cloudflare R2",
            EndpointKind::S3Compatible => "an S3-compatible server",
        }
    }
}

/// The server that answered, as the findings' words need it.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub struct Server {
    pub kind: EndpointKind,
    /// No STS there, so no IAM managed policies: permissions are granted by bucket policies,
    /// keys are made with the server's own tools.
    pub s3_only: bool,
}

impl Server {
    /// AWS itself.
    pub const AWS: Server = Server {
        kind: EndpointKind::Aws,
        s3_only: false,
    };

    /// How a sentence names it ("AWS", "Ceph RGW", "the S3 server").
    pub fn who(self) -> &'static str {
        self.kind.who()
    }
}
