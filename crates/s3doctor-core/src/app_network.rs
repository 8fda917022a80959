//! The app's network as it was judged: the flags (`--source-ip`, `--vpc`, `--vpce`), with the
//! VPC that EC2 says the `--vpce` endpoint is in wherever DescribeVpcEndpoints was read (its
//! answer is the requests' `aws:SourceVpc`, whatever `--vpc` said). The reports' headers, the
//! JSON's `target.app_network`, the wizard's header and the findings' words for the app's
//! network all take it from here, so that the headline says the network the findings judged.

use serde::Serialize;

use crate::policy::AppNetwork;

/// What EC2's description of the app's VPC endpoint said that the network is judged with:
/// the VPC the endpoint is in. The engine learns it once the endpoint's read has answered.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct DescribedEndpoint {
    /// The endpoint that was described (`--vpce`).
    pub vpce: String,
    /// The VPC EC2 says it is in (`vpcId`).
    pub vpc: String,
}

/// Where the VPC the conditions were judged with comes from.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize)]
#[serde(rename_all = "kebab-case")]
pub enum VpcSource {
    /// `--vpc`, as typed (EC2 was not read).
    Given,
    /// EC2's DescribeVpcEndpoints named the endpoint's VPC.
    Ec2,
}

/// The app's network as the conditions were judged for it.
#[derive(Clone, Copy, Debug)]
pub struct Judged<'a> {
    /// The flags, as given.
    pub given: &'a AppNetwork,
    /// The VPC EC2 says the endpoint is in, once read.
    ec2_vpc: Option<&'a str>,
}

impl<'a> Judged<'a> {
    /// The network given, judged with the VPC EC2 named for its endpoint (`None`: not read).
    pub fn new(given: &'a AppNetwork, ec2_vpc: Option<&'a str>) -> Self {
        Judged { given, ec2_vpc }
    }

    /// The network given, with what the run learned of its endpoint: a description of
    /// another endpoint (the wizard's pasted error may have changed `--vpce`) is not used.
    pub fn of_session(given: &'a AppNetwork, described: Option<&'a DescribedEndpoint>) -> Self {
        let ec2_vpc = described
            .filter(|d| given.vpce.as_deref() == Some(d.vpce.as_str()))
            .map(|d| d.vpc.as_str());
        Judged { given, ec2_vpc }
    }

    /// The VPC the app's requests were judged to come from: EC2's answer, else `--vpc`.
    pub fn vpc(&self) -> Option<&'a str> {
        self.ec2_vpc.or(self.given.vpc.as_deref())
    }

    /// Where [`Judged::vpc`] comes from; `None` when there is no VPC.
    pub fn vpc_source(&self) -> Option<VpcSource> {
        match (self.ec2_vpc, &self.given.vpc) {
            (Some(_), _) => Some(VpcSource::Ec2),
            (None, Some(_)) => Some(VpcSource::Given),
            (None, None) => None,
        }
    }

    /// `VPC endpoint vpce-1 in vpc-2 (EC2's answer; --vpc said vpc-3), from 10.0.0.5`: the
    /// network in words, EC2's VPC marked as its answer, and what `--vpc` said when it differs.
    pub fn describe(&self) -> String {
        let Some(ec2) = self.ec2_vpc else {
            return self.given.describe();
        };
        let mut network = self.given.clone();
        network.vpc = Some(
            match self.given.vpc.as_deref().filter(|typed| *typed != ec2) {
                Some(typed) => format!("{ec2} (EC2's answer; --vpc said {typed})"),
                None => format!("{ec2} (EC2's answer)"),
            },
        );
        network.describe()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn typed(vpc: Option<&str>) -> AppNetwork {
        AppNetwork {
            source_ip: Some("10.0.0.5".parse().unwrap()),
            vpc: vpc.map(str::to_owned),
            vpce: Some("vpce-1".into()),
        }
    }

    #[test]
    fn ec2s_vpc_is_the_one_judged_and_a_vpc_flag_that_differs_stays_visible() {
        let given = typed(Some("vpc-0typed"));
        // Not read: the flags, as typed.
        let unread = Judged::new(&given, None);
        assert_eq!(
            (unread.vpc(), unread.vpc_source()),
            (Some("vpc-0typed"), Some(VpcSource::Given))
        );
        assert_eq!(
            unread.describe(),
            "VPC endpoint vpce-1 in vpc-0typed, from 10.0.0.5"
        );
        // EC2 says another VPC: its answer, and what --vpc said.
        let read = Judged::new(&given, Some("vpc-0ec2"));
        assert_eq!(
            (read.vpc(), read.vpc_source()),
            (Some("vpc-0ec2"), Some(VpcSource::Ec2))
        );
        assert_eq!(
            read.describe(),
            "VPC endpoint vpce-1 in vpc-0ec2 (EC2's answer; --vpc said vpc-0typed), from 10.0.0.5"
        );
        // No --vpc, or the same one: EC2's answer, marked as such.
        for given in [typed(None), typed(Some("vpc-0ec2"))] {
            assert_eq!(
                Judged::new(&given, Some("vpc-0ec2")).describe(),
                "VPC endpoint vpce-1 in vpc-0ec2 (EC2's answer), from 10.0.0.5"
            );
        }
        assert_eq!(Judged::new(&AppNetwork::default(), None).vpc_source(), None);
    }

    #[test]
    fn a_description_of_another_endpoint_is_not_used() {
        let given = typed(Some("vpc-0typed"));
        let other = DescribedEndpoint {
            vpce: "vpce-2".into(),
            vpc: "vpc-0ec2".into(),
        };
        assert_eq!(
            Judged::of_session(&given, Some(&other)).vpc(),
            Some("vpc-0typed")
        );
        let same = DescribedEndpoint {
            vpce: "vpce-1".into(),
            ..other
        };
        assert_eq!(
            Judged::of_session(&given, Some(&same)).vpc(),
            Some("vpc-0ec2")
        );
    }
}
