//! Errors of the AWS static checks.

use miette::{Diagnostic, SourceSpan};
use thiserror::Error;

#[derive(Debug, Clone, Error, Diagnostic)]
pub enum AwsCheckError {
    #[error("no lint rule `{rule}` to accept")]
    #[diagnostic(code(lint::unknown_rule))]
    UnknownLintRule {
        rule: String,
        #[label("not a rule of the security lint")]
        span: SourceSpan,
        #[help]
        help: Option<String>,
    },

    #[error("VPC `{vpc}` has a /{mask} block; AWS allows /16 to /28")]
    #[diagnostic(
        code(net::vpc_mask),
        help("use a mask from /16 (65,536 addresses) to /28 (16 addresses), e.g. 10.0.0.0/16")
    )]
    VpcMask {
        vpc: String,
        mask: u8,
        #[label("outside /16–/28")]
        span: SourceSpan,
    },

    #[error("subnet `{subnet}` ({cidr}) is outside its VPC `{vpc}` ({vpc_cidr})")]
    #[diagnostic(
        code(net::subnet_outside_vpc),
        help("pick a block inside {vpc_cidr}, e.g. cidrsubnet({vpc}.cidr, 8, 1)")
    )]
    SubnetOutsideVpc {
        subnet: String,
        cidr: String,
        vpc: String,
        vpc_cidr: String,
        #[label("not inside {vpc_cidr}")]
        span: SourceSpan,
    },

    #[error("subnet `{subnet}` ({cidr}) overlaps `{other}` ({other_cidr}) in the same VPC")]
    #[diagnostic(
        code(net::subnet_overlap),
        help("subnets of one VPC must not share addresses; give each its own netnum in cidrsubnet()")
    )]
    SubnetOverlap {
        subnet: String,
        cidr: String,
        other: String,
        other_cidr: String,
        #[label("overlaps {other}")]
        span: SourceSpan,
    },

    #[error("availability zone `{zone}` is not in the region `{region}`")]
    #[diagnostic(code(net::zone_outside_region))]
    ZoneOutsideRegion {
        zone: String,
        region: String,
        #[label("not a zone of {region}")]
        span: SourceSpan,
        #[help]
        help: Option<String>,
    },

    #[error("`{zone}` is not an availability zone name")]
    #[diagnostic(code(net::malformed_zone), help("zones are a region and a letter, like us-east-1a"))]
    MalformedZone {
        zone: String,
        #[label("not a zone")]
        span: SourceSpan,
    },

    #[error("volume `{volume}` is in {volume_zone} but instance `{instance}` is in {instance_zone}")]
    #[diagnostic(
        code(net::volume_zone_mismatch),
        help("an EBS volume can only attach to an instance in its own zone; create the volume in {instance_zone}")
    )]
    VolumeZoneMismatch {
        volume: String,
        volume_zone: String,
        instance: String,
        instance_zone: String,
        #[label("different zones")]
        span: SourceSpan,
    },

    #[error("NAT gateway `{nat}` sits in subnet `{subnet}`, which has no route to an internet gateway")]
    #[diagnostic(code(net::nat_without_internet), help("a NAT gateway needs a public subnet: associate `{subnet}` with a route table that has `route {{ cidr = 0.0.0.0/0, internet_gateway = … }}`"))]
    NatWithoutInternet {
        nat: String,
        subnet: String,
        #[label("traffic through this NAT gateway cannot reach the internet")]
        span: SourceSpan,
    },

    #[error("unknown protocol `{protocol}`")]
    #[diagnostic(
        code(net::protocol),
        help("use tcp, udp, icmp, all, or an IP protocol number from 0 to 255 (4 is IP-in-IP, used by Calico)")
    )]
    Protocol {
        protocol: String,
        #[label("not a protocol")]
        span: SourceSpan,
    },

    #[error("{message}")]
    #[diagnostic(code(check::conflict))]
    Conflict {
        message: String,
        #[label("{label}")]
        span: SourceSpan,
        label: String,
        #[help]
        help: Option<String>,
    },
}
