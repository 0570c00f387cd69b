//! Network checks: VPC and subnet ranges, zones against the region, volume
//! and instance zones, and NAT gateways that cannot reach the internet.

use std::collections::BTreeMap;

use ipnet::IpNet;
use k8sinfra_engine::config::{Config, ResourceInstance};
use k8sinfra_lang::{Diag, Diagnostics, Value};

use super::errors::AwsCheckError;
use super::{attr_span, of_type};

pub fn check(config: &Config, diags: &mut Diagnostics) {
    vpc_masks(config, diags);
    subnets(config, diags);
    zones(config, diags);
    volume_attachments(config, diags);
    nat_gateways(config, diags);
    protocols(config, diags);
}

fn cidr(r: &ResourceInstance) -> Option<IpNet> {
    r.attrs.get("cidr").and_then(Value::as_cidr)
}

fn vpc_masks(config: &Config, diags: &mut Diagnostics) {
    for vpc in of_type(config, "vpc") {
        let Some(net) = cidr(vpc) else { continue };
        let mask = net.prefix_len();
        if !(16..=28).contains(&mask) {
            let span = attr_span(vpc, "cidr");
            diags.push(Diag::new(
                span.file,
                AwsCheckError::VpcMask { vpc: vpc.addr.to_string(), mask, span: span.into() },
            ));
        }
    }
}

fn subnets(config: &Config, diags: &mut Diagnostics) {
    let mut by_vpc: BTreeMap<String, Vec<(&ResourceInstance, IpNet)>> = BTreeMap::new();
    for subnet in of_type(config, "subnet") {
        let (Some(net), Some(vpc_value)) = (cidr(subnet), subnet.attrs.get("vpc")) else { continue };
        let Some(vpc) = config.resolve(vpc_value) else { continue };
        if let Some(vpc_net) = cidr(vpc) {
            if !vpc_net.contains(&net) {
                let span = attr_span(subnet, "cidr");
                diags.push(Diag::new(
                    span.file,
                    AwsCheckError::SubnetOutsideVpc {
                        subnet: subnet.addr.to_string(),
                        cidr: net.to_string(),
                        vpc: vpc.addr.to_string(),
                        vpc_cidr: vpc_net.to_string(),
                        span: span.into(),
                    },
                ));
                continue;
            }
        }
        by_vpc.entry(vpc.addr.to_string()).or_default().push((subnet, net));
    }
    for subnets in by_vpc.values_mut() {
        // Sorted by first address, a block overlaps an earlier one exactly
        // when it starts before the furthest end seen so far.
        subnets.sort_by_key(|(_, net)| (net.network(), net.prefix_len()));
        let mut widest: Option<(&ResourceInstance, IpNet)> = None;
        for &(subnet, net) in subnets.iter() {
            match widest {
                Some((other, other_net)) if other_net.contains(&net.network()) => {
                    let span = attr_span(subnet, "cidr");
                    diags.push(Diag::new(
                        span.file,
                        AwsCheckError::SubnetOverlap {
                            subnet: subnet.addr.to_string(),
                            cidr: net.to_string(),
                            other: other.addr.to_string(),
                            other_cidr: other_net.to_string(),
                            span: span.into(),
                        },
                    ));
                }
                _ => {}
            }
            if widest.is_none_or(|(_, w)| net.broadcast() > w.broadcast()) {
                widest = Some((subnet, net));
            }
        }
    }
}

/// The region a resource's provider configuration targets (`alias`: ""
/// for the `aws` block, else `aws ALIAS { … }`), else the environment the
/// SDK would read.
fn region(config: &Config, alias: &str) -> Option<String> {
    let key = if alias.is_empty() { "aws".to_string() } else { format!("aws.{alias}") };
    config
        .providers
        .get(&key)
        .and_then(|p| p.values.get("region"))
        .and_then(|v| v.as_str().map(str::to_string))
        .or_else(|| std::env::var("AWS_REGION").ok())
        .or_else(|| std::env::var("AWS_DEFAULT_REGION").ok())
        .filter(|r| !r.is_empty())
}

/// `us-east-1a` → `us-east-1`, if it looks like a zone at all.
fn zone_region(zone: &str) -> Option<&str> {
    let region = zone.strip_suffix(|c: char| c.is_ascii_lowercase())?;
    let well_formed = region.ends_with(|c: char| c.is_ascii_digit())
        && region.split('-').count() >= 3
        && region.chars().all(|c| c.is_ascii_lowercase() || c.is_ascii_digit() || c == '-');
    well_formed.then_some(region)
}

fn zones(config: &Config, diags: &mut Diagnostics) {
    for r in config.resources.iter().filter(|r| matches!(r.addr.type_name.as_str(), "subnet" | "ebs_volume")) {
        let region = region(config, &r.provider);
        let Some(zone) = r.attrs.get("zone").and_then(Value::as_str) else { continue };
        let span = attr_span(r, "zone");
        match (zone_region(zone), &region) {
            (None, _) => {
                diags.push(Diag::new(span.file, AwsCheckError::MalformedZone { zone: zone.into(), span: span.into() }))
            }
            (Some(zr), Some(region)) if zr != region => diags.push(Diag::new(
                span.file,
                AwsCheckError::ZoneOutsideRegion {
                    zone: zone.into(),
                    region: region.clone(),
                    span: span.into(),
                    help: Some(format!(
                        "use a zone of {region} (like {region}a), or set `aws {{ region = \"{zr}\" }}`"
                    )),
                },
            )),
            _ => {}
        }
    }
}

/// The zone an instance runs in: its subnet's.
fn instance_zone<'c>(config: &'c Config, instance: &'c ResourceInstance) -> Option<&'c str> {
    let subnet = config.resolve(instance.attrs.get("subnet")?)?;
    subnet.attrs.get("zone")?.as_str()
}

fn volume_attachments(config: &Config, diags: &mut Diagnostics) {
    for attachment in of_type(config, "volume_attachment") {
        let volume = attachment.attrs.get("volume").and_then(|v| config.resolve(v));
        let instance = attachment.attrs.get("instance").and_then(|v| config.resolve(v));
        let (Some(volume), Some(instance)) = (volume, instance) else { continue };
        let volume_zone = volume.attrs.get("zone").and_then(Value::as_str);
        let (Some(vz), Some(iz)) = (volume_zone, instance_zone(config, instance)) else { continue };
        if vz != iz {
            let span = attr_span(attachment, "instance");
            diags.push(Diag::new(
                span.file,
                AwsCheckError::VolumeZoneMismatch {
                    volume: volume.addr.to_string(),
                    volume_zone: vz.into(),
                    instance: instance.addr.to_string(),
                    instance_zone: iz.into(),
                    span: span.into(),
                },
            ));
        }
    }
}

/// Routes of a route table, as maps.
fn routes(table: &ResourceInstance) -> impl Iterator<Item = (usize, &BTreeMap<String, Value>)> {
    let list = match table.attrs.get("route") {
        Some(Value::List(items)) => items.as_slice(),
        _ => &[],
    };
    list.iter().enumerate().filter_map(|(i, v)| match v {
        Value::Map(m) => Some((i, m)),
        _ => None,
    })
}

fn is_set(v: Option<&Value>) -> bool {
    !matches!(v, None | Some(Value::Null))
}

fn nat_gateways(config: &Config, diags: &mut Diagnostics) {
    for table in of_type(config, "route_table") {
        for (i, route) in routes(table) {
            let Some(nat) = route.get("nat_gateway").and_then(|v| config.resolve(v)) else { continue };
            let Some(subnet) = nat.attrs.get("subnet").and_then(|v| config.resolve(v)) else { continue };
            let subnet_address = subnet.addr.to_string();
            let reaches_internet = of_type(config, "route_table").any(|t| {
                let associated = match t.attrs.get("subnets") {
                    Some(Value::List(items)) => {
                        items.iter().any(|s| s.as_resource().is_some_and(|r| r.address == subnet_address))
                    }
                    _ => false,
                };
                associated && routes(t).any(|(_, r)| is_set(r.get("internet_gateway")))
            });
            if !reaches_internet {
                let span = table
                    .spans
                    .blocks
                    .get("route")
                    .and_then(|b| b.get(i))
                    .and_then(|s| s.get("nat_gateway"))
                    .copied()
                    .unwrap_or(table.spans.decl);
                diags.push(Diag::new(
                    span.file,
                    AwsCheckError::NatWithoutInternet {
                        nat: nat.addr.to_string(),
                        subnet: subnet_address,
                        span: span.into(),
                    },
                ));
            }
        }
    }
}

fn protocols(config: &Config, diags: &mut Diagnostics) {
    for group in of_type(config, "security_group") {
        for direction in ["ingress", "egress"] {
            let Some(Value::List(rules)) = group.attrs.get(direction) else { continue };
            for (i, rule) in rules.iter().enumerate() {
                let Value::Map(rule) = rule else { continue };
                let Some(protocol) = rule.get("protocol").and_then(Value::as_str) else { continue };
                let known = matches!(protocol, "tcp" | "udp" | "icmp" | "all" | "-1") || protocol.parse::<u8>().is_ok();
                if !known {
                    let span = group
                        .spans
                        .blocks
                        .get(direction)
                        .and_then(|b| b.get(i))
                        .and_then(|s| s.get("protocol"))
                        .copied()
                        .unwrap_or(group.spans.decl);
                    diags.push(Diag::new(
                        span.file,
                        AwsCheckError::Protocol { protocol: protocol.into(), span: span.into() },
                    ));
                }
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::zone_region;

    #[test]
    fn zones_name_their_region() {
        assert_eq!(zone_region("us-east-1a"), Some("us-east-1"));
        assert_eq!(zone_region("ap-southeast-2c"), Some("ap-southeast-2"));
        assert_eq!(zone_region("us-east-1"), None);
        assert_eq!(zone_region("east"), None);
    }
}
