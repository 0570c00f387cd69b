//! Refresh in bulk: one describe call per resource type (per chunk of
//! ids) instead of one per resource. Ids go in a filter, not the id list:
//! with ids, one that no longer exists fails the whole call, while a
//! filter just leaves it out. The SDK's paginators follow `NextToken`.
//! (The local emulator never paginates these calls, so the paginator is
//! what covers it; see MOTO.md.)

use std::collections::BTreeMap;

use k8sinfra_engine::provider::{ProviderError, Remote, Target};

use super::super::errors::api;
use super::{filter_any, internet_gateway, route_table, security_group, subnet};

/// Ids per call: AWS accepts up to 200 values in a filter.
const CHUNK: usize = 200;

/// Read `targets` (all of `type_name`), in order; `None` for the gone.
/// `Ok(None)` for a type without a bulk reader (read those one by one).
pub async fn read_many(
    ec2: &aws_sdk_ec2::Client,
    type_name: &str,
    targets: &[(Target<'_>, &str)],
) -> Result<Option<Vec<Option<Remote>>>, ProviderError> {
    let ids: Vec<String> = targets.iter().map(|(_, id)| (*id).to_string()).collect();
    let mut found: BTreeMap<String, Remote> = BTreeMap::new();
    // The target of each id, to build what the state keeps.
    let target_of: BTreeMap<&str, &Target<'_>> = targets.iter().map(|(t, id)| (*id, t)).collect();
    let target = |id: Option<&str>| id.and_then(|id| target_of.get(id).copied());
    for chunk in ids.chunks(CHUNK) {
        match type_name {
            "subnet" => {
                let mut pages =
                    ec2.describe_subnets().filters(filter_any("subnet-id", chunk)).into_paginator().items().send();
                while let Some(item) = pages.next().await {
                    let item = item.map_err(|e| api("DescribeSubnets", e))?;
                    if let Some(t) = target(item.subnet_id()) {
                        found.insert(item.subnet_id().unwrap_or_default().into(), subnet::remote(t, &item));
                    }
                }
            }
            "security_group" => {
                let mut pages = ec2
                    .describe_security_groups()
                    .filters(filter_any("group-id", chunk))
                    .into_paginator()
                    .items()
                    .send();
                while let Some(item) = pages.next().await {
                    let item = item.map_err(|e| api("DescribeSecurityGroups", e))?;
                    if let Some(t) = target(item.group_id()) {
                        found.insert(item.group_id().unwrap_or_default().into(), security_group::remote(t, &item));
                    }
                }
            }
            "route_table" => {
                let mut pages = ec2
                    .describe_route_tables()
                    .filters(filter_any("route-table-id", chunk))
                    .into_paginator()
                    .items()
                    .send();
                while let Some(item) = pages.next().await {
                    let item = item.map_err(|e| api("DescribeRouteTables", e))?;
                    if let Some(t) = target(item.route_table_id()) {
                        found.insert(item.route_table_id().unwrap_or_default().into(), route_table::remote(t, &item));
                    }
                }
            }
            "internet_gateway" => {
                let mut pages = ec2
                    .describe_internet_gateways()
                    .filters(filter_any("internet-gateway-id", chunk))
                    .into_paginator()
                    .items()
                    .send();
                while let Some(item) = pages.next().await {
                    let item = item.map_err(|e| api("DescribeInternetGateways", e))?;
                    if let Some(t) = target(item.internet_gateway_id()) {
                        let id = item.internet_gateway_id().unwrap_or_default().to_string();
                        found.insert(id, internet_gateway::remote(t, &item));
                    }
                }
            }
            _ => return Ok(None),
        }
    }
    Ok(Some(ids.iter().map(|id| found.remove(id)).collect()))
}
