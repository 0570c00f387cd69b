//! Orderings AWS requires that no reference shows. A public NAT gateway,
//! an internet-facing load balancer, an elastic IP given to an instance
//! and an instance in a subnet that maps public addresses all need their
//! VPC's internet gateway attached first: created before it, a NAT gateway
//! goes to `failed` (`Gateway.NotAttached`) and a load balancer is refused
//! (`InvalidSubnet`). On destroy the gateway can only be detached once they
//! are gone (`DependencyViolation: … has some mapped public address(es)`).
//! Each such resource depends on the gateway; `graph` shows the edges.

use std::collections::BTreeMap;

use k8sinfra_engine::config::Config;
use k8sinfra_engine::{ResourceAddr, ResourceInstance};
use k8sinfra_lang::Value;

/// `(resource, the internet gateway of its VPC)` for each resource that
/// needs one attached.
pub fn implicit_dependencies(config: &Config) -> Vec<(ResourceAddr, ResourceAddr)> {
    // VPC address → the gateways attached to it.
    let mut gateways: BTreeMap<String, Vec<&ResourceAddr>> = BTreeMap::new();
    for r in config.resources.iter().filter(|r| r.addr.type_name == "internet_gateway") {
        if let Some(vpc) = referred(config, r, "vpc") {
            gateways.entry(vpc.addr.to_string()).or_default().push(&r.addr);
        }
    }
    let vpc_of_subnet = |subnet: &ResourceInstance| referred(config, subnet, "vpc").map(|v| v.addr.to_string());
    let mut edges = Vec::new();
    for r in &config.resources {
        let vpcs: Vec<String> = match r.addr.type_name.as_str() {
            "nat_gateway" => referred(config, r, "subnet").and_then(vpc_of_subnet).into_iter().collect(),
            "load_balancer" if !flag(r, "internal") => {
                referred_all(config, r, "subnets").into_iter().filter_map(vpc_of_subnet).collect()
            }
            "elastic_ip" => referred(config, r, "instance")
                .and_then(|host| referred(config, host, "subnet"))
                .and_then(vpc_of_subnet)
                .into_iter()
                .collect(),
            "instance" => referred(config, r, "subnet")
                .filter(|subnet| flag(subnet, "public_ip_on_launch"))
                .and_then(vpc_of_subnet)
                .into_iter()
                .collect(),
            _ => Vec::new(),
        };
        for vpc in vpcs {
            for gateway in gateways.get(&vpc).into_iter().flatten() {
                edges.push((r.addr.clone(), (*gateway).clone()));
            }
        }
    }
    edges.sort();
    edges.dedup();
    edges
}

/// The resource of this configuration an attribute refers to.
fn referred<'c>(config: &'c Config, r: &ResourceInstance, attr: &str) -> Option<&'c ResourceInstance> {
    config.resolve(r.attrs.get(attr)?)
}

/// The resources of this configuration a list attribute refers to.
fn referred_all<'c>(config: &'c Config, r: &ResourceInstance, attr: &str) -> Vec<&'c ResourceInstance> {
    match r.attrs.get(attr) {
        Some(Value::List(items)) => items.iter().filter_map(|v| config.resolve(v)).collect(),
        _ => Vec::new(),
    }
}

fn flag(r: &ResourceInstance, attr: &str) -> bool {
    r.attrs.get(attr).and_then(Value::as_bool).unwrap_or(false)
}
