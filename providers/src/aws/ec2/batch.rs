//! Refresh in bulk: one describe call per resource type (per chunk of
//! ids) instead of one per resource. Ids go in a filter, not the id list:
//! with ids, one that no longer exists fails the whole call, while a
//! filter just leaves it out. The SDK's paginators follow `NextToken`.
//! (The local emulator never paginates these calls, so the paginator is
//! what covers it; see MOTO.md.)
//!
//! Two reads are not bulk: a VPC's DNS attributes (DescribeVpcAttribute
//! has no bulk form: a call per attribute and VPC, eight VPCs at a time,
//! after one DescribeVpcs for all of them; only for the attributes the
//! configuration writes, see `Stored::wants`) and an instance's user data
//! (one DescribeInstanceAttribute per instance). User data is kept as the state
//! holds it: AWS lets it change only while the instance is stopped, and
//! k8sinfra never stops one; an instance read on its own (import, after a
//! create or update) still reads it.

use std::collections::BTreeMap;

use futures_util::StreamExt as _;

use aws_sdk_ec2::types::Volume;
use k8sinfra_engine::provider::{ProviderError, Remote, Stored, Target};

use super::super::errors::api;
use super::{
    ebs_volume, elastic_ip, filter_any, image, instance, internet_gateway, key_pair, nat_gateway, route_table,
    security_group, subnet, volume_attachment, vpc,
};

/// Ids per call: AWS accepts up to 200 values in a filter.
const CHUNK: usize = 200;

/// VPCs whose DNS attributes are read at once (two calls each).
const DNS_AT_ONCE: usize = 8;

/// Read `targets` (all of `type_name`), in order; `None` for the gone.
/// `Ok(None)` for a type without a bulk reader (read those one by one).
pub async fn read_many(
    ec2: &aws_sdk_ec2::Client,
    type_name: &str,
    stored: &[Stored<'_>],
) -> Result<Option<Vec<Option<Remote>>>, ProviderError> {
    let mut found: BTreeMap<String, Remote> = BTreeMap::new();
    for chunk in stored.chunks(CHUNK) {
        // The target of each id, to build what the state keeps.
        let target_of: BTreeMap<&str, &Target<'_>> = chunk.iter().map(|s| (s.id, &s.target)).collect();
        let target = |id: Option<&str>| id.and_then(|id| target_of.get(id).copied());
        let ids: Vec<String> = chunk.iter().map(|s| s.id.to_string()).collect();
        let mut keep = |remote: Option<Remote>| {
            if let Some(remote) = remote {
                found.insert(remote.id.clone(), remote);
            }
        };
        match type_name {
            "vpc" => {
                let mut pages = ec2.describe_vpcs().filters(filter_any("vpc-id", &ids)).into_paginator().items().send();
                let mut vpcs = Vec::new();
                while let Some(item) = pages.next().await {
                    let item = item.map_err(|e| api("DescribeVpcs", e))?;
                    if let Some(t) = target(item.vpc_id()) {
                        vpcs.push(vpc::remote(t, &item));
                    }
                }
                // The DNS attributes the configuration writes, a call
                // each: eight VPCs at a time.
                let dns_of: BTreeMap<&str, vpc::Dns> = chunk.iter().map(|s| (s.id, vpc::Dns::wanted(s))).collect();
                let (ask, told): (Vec<Remote>, Vec<Remote>) =
                    vpcs.into_iter().partition(|remote| dns_of.get(remote.id.as_str()).is_some_and(|d| d.any()));
                told.into_iter().for_each(|remote| keep(Some(remote)));
                let reads = ask.into_iter().map(|remote| {
                    let dns = dns_of.get(remote.id.as_str()).copied().unwrap_or(vpc::Dns::BOTH);
                    vpc::dns_of(ec2, remote, dns)
                });
                let read: Vec<Result<Remote, ProviderError>> =
                    futures_util::stream::iter(reads).buffer_unordered(DNS_AT_ONCE).collect().await;
                for remote in read {
                    keep(Some(remote?));
                }
            }
            "subnet" => {
                let mut pages =
                    ec2.describe_subnets().filters(filter_any("subnet-id", &ids)).into_paginator().items().send();
                while let Some(item) = pages.next().await {
                    let item = item.map_err(|e| api("DescribeSubnets", e))?;
                    keep(target(item.subnet_id()).map(|t| subnet::remote(t, &item)));
                }
            }
            "security_group" => {
                let mut pages = ec2
                    .describe_security_groups()
                    .filters(filter_any("group-id", &ids))
                    .into_paginator()
                    .items()
                    .send();
                while let Some(item) = pages.next().await {
                    let item = item.map_err(|e| api("DescribeSecurityGroups", e))?;
                    keep(target(item.group_id()).map(|t| security_group::remote(t, &item)));
                }
            }
            "route_table" => {
                let mut pages = ec2
                    .describe_route_tables()
                    .filters(filter_any("route-table-id", &ids))
                    .into_paginator()
                    .items()
                    .send();
                while let Some(item) = pages.next().await {
                    let item = item.map_err(|e| api("DescribeRouteTables", e))?;
                    keep(target(item.route_table_id()).map(|t| route_table::remote(t, &item)));
                }
            }
            "internet_gateway" => {
                let mut pages = ec2
                    .describe_internet_gateways()
                    .filters(filter_any("internet-gateway-id", &ids))
                    .into_paginator()
                    .items()
                    .send();
                while let Some(item) = pages.next().await {
                    let item = item.map_err(|e| api("DescribeInternetGateways", e))?;
                    keep(target(item.internet_gateway_id()).map(|t| internet_gateway::remote(t, &item)));
                }
            }
            "elastic_ip" => {
                let out = ec2
                    .describe_addresses()
                    .filters(filter_any("allocation-id", &ids))
                    .send()
                    .await
                    .map_err(|e| api("DescribeAddresses", e))?;
                for item in out.addresses() {
                    keep(target(item.allocation_id()).map(|t| elastic_ip::remote(t, item)));
                }
            }
            "nat_gateway" => {
                let mut pages = ec2
                    .describe_nat_gateways()
                    .filter(filter_any("nat-gateway-id", &ids))
                    .into_paginator()
                    .items()
                    .send();
                while let Some(item) = pages.next().await {
                    let item = item.map_err(|e| api("DescribeNatGateways", e))?;
                    keep(target(item.nat_gateway_id()).and_then(|t| nat_gateway::remote(t, &item)));
                }
            }
            "key_pair" => {
                let out = ec2
                    .describe_key_pairs()
                    .filters(filter_any("key-name", &ids))
                    .include_public_key(true)
                    .send()
                    .await
                    .map_err(|e| api("DescribeKeyPairs", e))?;
                for item in out.key_pairs() {
                    keep(target(item.key_name()).map(|t| key_pair::remote(t, item)));
                }
            }
            "ebs_volume" => {
                for item in volumes(ec2, ids).await?.values() {
                    keep(target(item.volume_id()).and_then(|t| ebs_volume::remote(t, item)));
                }
            }
            "image" => {
                for s in chunk {
                    keep(image::lookup::read(ec2, s).await?);
                }
            }
            "volume_attachment" => {
                let wanted = ids.iter().filter_map(|id| volume_attachment::volume_of(id)).map(str::to_string);
                let volumes = volumes(ec2, wanted.collect()).await?;
                for id in &ids {
                    let volume = volume_attachment::volume_of(id).and_then(|v| volumes.get(v));
                    keep(volume.and_then(|v| volume_attachment::remote(id, v)));
                }
            }
            "instance" => {
                let mut pages =
                    ec2.describe_instances().filters(filter_any("instance-id", &ids)).into_paginator().items().send();
                let mut instances = Vec::new();
                while let Some(reservation) = pages.next().await {
                    let reservation = reservation.map_err(|e| api("DescribeInstances", e))?;
                    instances.extend(reservation.instances().iter().filter(|i| !instance::terminated(i)).cloned());
                }
                // Root volumes: one more call for the whole chunk.
                let roots = instances.iter().filter_map(instance::root_volume_id).map(str::to_string).collect();
                let roots = volumes(ec2, roots).await?;
                // Profiles, from their associations: one more call, when
                // any instance has or had one.
                let attrs_of: BTreeMap<&str, &k8sinfra_engine::provider::Attrs> =
                    chunk.iter().map(|s| (s.id, s.attrs)).collect();
                let with_profiles: Vec<String> = instances
                    .iter()
                    .filter(|i| instance::has_profile(i, i.instance_id().and_then(|id| attrs_of.get(id).copied())))
                    .filter_map(|i| i.instance_id().map(str::to_string))
                    .collect();
                let profiles = if with_profiles.is_empty() {
                    BTreeMap::new()
                } else {
                    instance::profiles(ec2, &with_profiles).await?
                };
                for item in &instances {
                    let root = instance::root_volume_id(item).and_then(|v| roots.get(v));
                    let Some(t) = target(item.instance_id()) else { continue };
                    let mut remote = instance::remote(t, item, instance::root_volume_of(root));
                    if with_profiles.iter().any(|id| Some(id.as_str()) == item.instance_id()) {
                        let profile = item.instance_id().and_then(|id| profiles.get(id));
                        remote.attrs.insert("iam_instance_profile".into(), serde_json::json!(profile));
                    }
                    keep(Some(remote));
                }
            }
            _ => return Ok(None),
        }
    }
    Ok(Some(stored.iter().map(|s| found.remove(s.id)).collect()))
}

/// The volumes among `ids` that exist, by id; no call for none.
async fn volumes(ec2: &aws_sdk_ec2::Client, ids: Vec<String>) -> Result<BTreeMap<String, Volume>, ProviderError> {
    let mut found = BTreeMap::new();
    if ids.is_empty() {
        return Ok(found);
    }
    let mut pages = ec2.describe_volumes().filters(filter_any("volume-id", &ids)).into_paginator().items().send();
    while let Some(item) = pages.next().await {
        let item = item.map_err(|e| api("DescribeVolumes", e))?;
        found.insert(item.volume_id().unwrap_or_default().to_string(), item);
    }
    Ok(found)
}
