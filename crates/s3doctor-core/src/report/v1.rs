//! The JSON schema `s3doctor.report/v1`: a view borrowed from a `Report` while it is
//! written. The field names and their order live here and only here; every value is read
//! from the report's diagnosis (verdict, steps, findings, policy) or from what the run was
//! pointed at, and nothing is stored twice. Nothing reads a report back (scripts read the
//! JSON), so there is no `Deserialize`; a reader would get its own owned type.

use serde::{Serialize, Serializer};

use crate::app_network::{Judged, VpcSource};
use crate::checks::Identity;
use crate::endpoint::{Capabilities, EndpointKind};
use crate::engine::StepResult;
use crate::finding::Finding;
use crate::policy::{Access, PolicyDocument};

use super::Report;

pub const SCHEMA: &str = "s3doctor.report/v1";

impl Serialize for Report {
    fn serialize<S: Serializer>(&self, serializer: S) -> Result<S::Ok, S::Error> {
        V1::of(self).serialize(serializer)
    }
}

/// A whole run.
#[derive(Serialize)]
struct V1<'a> {
    schema: &'static str,
    /// No error finding, and every step ran.
    ok: bool,
    /// Every planned step ran (a run cut short, or steps skipped because another failed,
    /// is not complete, and never reads as "no problems found").
    complete: bool,
    /// How many of the planned steps ran.
    steps_run: usize,
    steps_planned: usize,
    target: Target<'a>,
    identity: Option<IdentityV1<'a>>,
    steps: &'a [StepResult],
    findings: &'a [Finding],
    policy: Option<&'a PolicyDocument>,
}

/// What the run was pointed at.
#[derive(Serialize)]
struct Target<'a> {
    buckets: &'a [String],
    region: Option<&'a str>,
    endpoint: Option<&'a str>,
    /// What the endpoint was found to be (`aws`, `ceph-rgw`, `s3-compatible`, …).
    endpoint_kind: Option<EndpointKind>,
    /// What a custom endpoint offers: `{kind, sts, iam}`.
    endpoint_capabilities: Option<&'a Capabilities>,
    profile: Option<&'a str>,
    credential_source: Option<&'a str>,
    access: Access,
    /// The app's network (`--source-ip`, `--vpc`, `--vpce`) the conditions were judged for;
    /// absent when none was given.
    #[serde(skip_serializing_if = "Option::is_none")]
    app_network: Option<AppNetworkV1<'a>>,
}

/// The app's network, as the conditions were judged for it.
#[derive(Serialize)]
struct AppNetworkV1<'a> {
    source_ip: Option<std::net::IpAddr>,
    /// The VPC judged: EC2's answer for the endpoint where it was read, else `--vpc`.
    vpc: Option<&'a str>,
    vpce: Option<&'a str>,
    /// Where `vpc` comes from (`given`, `ec2`); absent when `vpc` is null.
    #[serde(skip_serializing_if = "Option::is_none")]
    vpc_source: Option<VpcSource>,
    /// What `--vpc` said; absent without it. It differs from `vpc` when EC2 contradicts it.
    #[serde(skip_serializing_if = "Option::is_none")]
    vpc_given: Option<&'a str>,
}

impl<'a> AppNetworkV1<'a> {
    fn of(judged: Judged<'a>) -> Self {
        AppNetworkV1 {
            source_ip: judged.given.source_ip,
            vpc: judged.vpc(),
            vpce: judged.given.vpce.as_deref(),
            vpc_source: judged.vpc_source(),
            vpc_given: judged.given.vpc.as_deref(),
        }
    }
}

/// Who the keys belong to.
#[derive(Serialize)]
struct IdentityV1<'a> {
    arn: &'a str,
    account: &'a str,
    principal_type: &'static str,
    principal_name: &'a str,
    /// False when the server has no STS and the principal is what it said (ListBuckets owner)
    /// or what `--expect-principal` named.
    confirmed: bool,
    /// The IAM role's ARN for an assumed-role session (with its path when the chain assumed
    /// the role or IAM was read); `null` otherwise.
    role_arn: Option<&'a str>,
    /// Whether `role_arn` carries the role's real path: false for a session's role that
    /// neither the chain nor IAM named (a session ARN does not carry the path, so the ARN is
    /// the role's only when it has none); `null` when `role_arn` is.
    role_path_known: Option<bool>,
}

impl<'a> V1<'a> {
    fn of(report: &'a Report) -> Self {
        let d = &report.diagnosis;
        let (run, session) = (&report.run, &report.session);
        V1 {
            schema: SCHEMA,
            ok: d.ok(),
            complete: d.complete(),
            steps_run: d.steps_run(),
            steps_planned: d.steps_planned(),
            target: Target {
                buckets: &run.buckets,
                region: session.region.as_deref(),
                endpoint: report.endpoint.as_deref(),
                endpoint_kind: session.endpoint.as_ref().map(|c| c.kind),
                endpoint_capabilities: session.endpoint.as_ref(),
                profile: report.profile.as_deref(),
                credential_source: session.credential_source.as_deref(),
                access: run.access,
                app_network: (!run.network.is_empty())
                    .then(|| AppNetworkV1::of(report.app_network())),
            },
            identity: report.identity().map(IdentityV1::of),
            steps: d.steps(),
            findings: d.findings(),
            policy: d.policy(),
        }
    }
}

impl<'a> IdentityV1<'a> {
    fn of(i: &'a Identity) -> Self {
        IdentityV1 {
            arn: &i.principal.arn,
            account: &i.principal.account,
            principal_type: i.principal.kind.as_str(),
            principal_name: &i.principal.name,
            confirmed: i.confirmed,
            role_arn: i.role_arn.as_deref(),
            role_path_known: i.role_arn.as_ref().map(|_| i.role_path_known),
        }
    }
}
