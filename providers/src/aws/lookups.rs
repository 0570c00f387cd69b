//! Lookups: what exists already, found at plan time by what the
//! configuration says of it (`ResourceSchema::read_at_plan`). Never made,
//! changed or deleted: a "create" or "update" looks again, a "delete"
//! forgets. Each query must match exactly one thing; none or several is an
//! error that names the query, so a typo in a tag never silently picks
//! the wrong network.
//!
//! - `existing_vpc`, `existing_subnet`, `existing_security_group`: by id
//!   and/or tags (and a subnet by VPC, zone or CIDR, a group by name or
//!   VPC), one filtered describe each;
//! - `existing_zone`: a Route53 hosted zone by name (public or private);
//! - `availability_zones`: the region's zones, available ones by default;
//! - `caller_identity`: the account, partition and identity the
//!   credentials act as (STS GetCallerIdentity), for ARNs and policies.

use aws_sdk_ec2::types::Filter;
use k8sinfra_engine::provider::{Attrs, ProviderError, Remote};
use k8sinfra_engine::schema::{AttrSchema, ResourceSchema};
use k8sinfra_lang::{Type, Value};
use serde_json::json;

use super::errors::api;

pub const TYPES: &[&str] = &[
    "existing_vpc",
    "existing_subnet",
    "existing_security_group",
    "existing_zone",
    "availability_zones",
    "caller_identity",
];

fn tags() -> AttrSchema {
    AttrSchema::optional("tags", Type::map(Type::String)).describe("Tags it must carry (all of them)")
}

fn id_query(what: &'static str) -> AttrSchema {
    AttrSchema::optional_computed("id", Type::String).reported().describe(what)
}

#[must_use]
pub fn schemas() -> Vec<ResourceSchema> {
    vec![
        ResourceSchema::new("existing_vpc", "A VPC that exists already, found at plan time: a lookup, nothing is made")
            .read_at_plan()
            .attr(id_query("Its id; or leave it to the other filters and read it"))
            .attr(tags())
            .attr(
                AttrSchema::optional_computed("cidr", Type::Cidr)
                    .reported()
                    .describe("Its range; as a filter, or read"),
            )
            .attr(
                AttrSchema::computed("default", Type::Bool)
                    .reported()
                    .describe("Whether it is the region's default VPC"),
            ),
        ResourceSchema::new("existing_subnet", "A subnet that exists already, found at plan time: a lookup")
            .read_at_plan()
            .attr(id_query("Its id; or leave it to the other filters and read it"))
            .attr(tags())
            .attr(
                AttrSchema::optional_computed("vpc", Type::String)
                    .reported()
                    .describe("Its VPC's id; as a filter, or read"),
            )
            .attr(AttrSchema::optional_computed("zone", Type::String).reported().describe("Its availability zone"))
            .attr(AttrSchema::optional_computed("cidr", Type::Cidr).reported().describe("Its range")),
        ResourceSchema::new(
            "existing_security_group",
            "A security group that exists already, found at plan time: a lookup",
        )
        .read_at_plan()
        .attr(id_query("Its id; or leave it to the other filters and read it"))
        .attr(tags())
        .attr(AttrSchema::optional_computed("name", Type::String).reported().describe("Its group name"))
        .attr(AttrSchema::optional_computed("vpc", Type::String).reported().describe("Its VPC's id")),
        ResourceSchema::new("existing_zone", "A Route53 hosted zone that exists already, found at plan time")
            .read_at_plan()
            .attr(AttrSchema::required("name", Type::String).describe("Its domain name, e.g. example.com"))
            .attr(
                AttrSchema::optional("private", Type::Bool)
                    .default(Value::Bool(false))
                    .describe("Whether to find the private zone of that name"),
            )
            .attr(AttrSchema::computed("id", Type::String).reported().describe("The zone's id (Z…)"))
            .attr(
                AttrSchema::computed("name_servers", Type::list(Type::String))
                    .reported()
                    .describe("Its delegation set"),
            ),
        ResourceSchema::new("availability_zones", "The region's availability zones, read at plan time")
            .read_at_plan()
            .attr(
                AttrSchema::optional("state", Type::String)
                    .default(Value::String("available".into()))
                    .describe("Only zones in this state"),
            )
            .attr(AttrSchema::computed("id", Type::String).describe("The region"))
            .attr(
                AttrSchema::computed("names", Type::list(Type::String))
                    .reported()
                    .describe("Zone names, sorted: us-east-1a, …"),
            )
            .attr(
                AttrSchema::computed("zone_ids", Type::list(Type::String))
                    .reported()
                    .describe("Zone ids, in the same order"),
            ),
        ResourceSchema::new(
            "caller_identity",
            "Who the credentials act as: the account, its partition and the identity's ARN, read at plan time",
        )
        .read_at_plan()
        .attr(AttrSchema::computed("id", Type::String).describe("The account id"))
        .attr(AttrSchema::computed("account_id", Type::String).reported().describe("The account id, 12 digits"))
        .attr(
            AttrSchema::computed("partition", Type::String)
                .reported()
                .describe("`aws`, `aws-cn` or `aws-us-gov`: the first part of every ARN"),
        )
        .attr(AttrSchema::computed("arn", Type::String).reported().describe("The identity's ARN (a user or role)"))
        .attr(AttrSchema::computed("user_id", Type::String).reported().describe("The identity's unique id"))
        .attr(AttrSchema::computed("region", Type::String).describe("The region the provider works in")),
    ]
}

/// The partition of an ARN (`arn:PARTITION:…`), else of a region
/// (`cn-…` is `aws-cn`, `us-gov-…` `aws-us-gov`).
fn partition(arn: &str, region: &str) -> String {
    match arn.split(':').nth(1).filter(|p| !p.is_empty()) {
        Some(partition) => partition.to_string(),
        None if region.starts_with("cn-") => "aws-cn".into(),
        None if region.starts_with("us-gov-") => "aws-us-gov".into(),
        None => "aws".into(),
    }
}

fn text<'a>(query: &'a Attrs, name: &str) -> Option<&'a str> {
    query.get(name).and_then(serde_json::Value::as_str)
}

/// The tag filters of a query: one `tag:KEY` filter per tag.
fn tag_filters(query: &Attrs) -> Vec<Filter> {
    query
        .get("tags")
        .and_then(serde_json::Value::as_object)
        .map(|tags| {
            tags.iter()
                .map(|(k, v)| Filter::builder().name(format!("tag:{k}")).values(v.as_str().unwrap_or_default()).build())
                .collect()
        })
        .unwrap_or_default()
}

/// The query as people write it, for errors: `tags = { Name = "shared" }`.
fn shown(query: &Attrs) -> String {
    let parts: Vec<String> = query.iter().map(|(k, v)| format!("{k} = {v}")).collect();
    if parts.is_empty() {
        "no filter".into()
    } else {
        parts.join(", ")
    }
}

fn exactly_one<T>(what: &str, query: &Attrs, region: &str, mut found: Vec<T>) -> Result<T, ProviderError> {
    match found.len() {
        1 => Ok(found.remove(0)),
        0 => Err(ProviderError::Api {
            operation: format!("lookup {what}"),
            message: format!("no {what} in {region} matches {}", shown(query)),
        }),
        n => Err(ProviderError::Api {
            operation: format!("lookup {what}"),
            message: format!("{n} of them in {region} match {}; a lookup needs exactly one: narrow it", shown(query)),
        }),
    }
}

fn user_tags(tags: &[aws_sdk_ec2::types::Tag]) -> serde_json::Value {
    let map: serde_json::Map<String, serde_json::Value> = tags
        .iter()
        .filter_map(|t| Some((t.key()?.to_string(), json!(t.value().unwrap_or_default()))))
        .filter(|(k, _)| !k.starts_with("k8sinfra:") && !k.starts_with("aws:"))
        .collect();
    serde_json::Value::Object(map)
}

/// The one thing `query` finds, as the state keeps it.
pub async fn look_up(
    ec2: &aws_sdk_ec2::Client,
    route53: &aws_sdk_route53::Client,
    sts: &aws_sdk_sts::Client,
    region: &str,
    type_name: &str,
    query: &Attrs,
) -> Result<Remote, ProviderError> {
    let remote = |id: &str, attrs: Attrs| Remote { id: id.to_string(), attrs };
    match type_name {
        "existing_vpc" => {
            let mut call = ec2.describe_vpcs().set_filters(Some(tag_filters(query)));
            if let Some(id) = text(query, "id") {
                call = call.vpc_ids(id);
            }
            if let Some(cidr) = text(query, "cidr") {
                call = call.filters(Filter::builder().name("cidr-block").values(cidr).build());
            }
            let out = call.send().await.map_err(|e| api("DescribeVpcs", e))?;
            let vpc = exactly_one("VPC", query, region, out.vpcs().to_vec())?;
            let id = vpc.vpc_id().unwrap_or_default();
            let mut attrs = Attrs::new();
            attrs.insert("id".into(), json!(id));
            attrs.insert("cidr".into(), json!(vpc.cidr_block().unwrap_or_default()));
            attrs.insert("default".into(), json!(vpc.is_default().unwrap_or(false)));
            attrs.insert("tags".into(), user_tags(vpc.tags()));
            Ok(remote(id, attrs))
        }
        "existing_subnet" => {
            let mut call = ec2.describe_subnets().set_filters(Some(tag_filters(query)));
            if let Some(id) = text(query, "id") {
                call = call.subnet_ids(id);
            }
            for (attr, filter) in [("vpc", "vpc-id"), ("zone", "availability-zone"), ("cidr", "cidr-block")] {
                if let Some(value) = text(query, attr) {
                    call = call.filters(Filter::builder().name(filter).values(value).build());
                }
            }
            let out = call.send().await.map_err(|e| api("DescribeSubnets", e))?;
            let subnet = exactly_one("subnet", query, region, out.subnets().to_vec())?;
            let id = subnet.subnet_id().unwrap_or_default();
            let mut attrs = Attrs::new();
            attrs.insert("id".into(), json!(id));
            attrs.insert("vpc".into(), json!(subnet.vpc_id().unwrap_or_default()));
            attrs.insert("zone".into(), json!(subnet.availability_zone().unwrap_or_default()));
            attrs.insert("cidr".into(), json!(subnet.cidr_block().unwrap_or_default()));
            attrs.insert("tags".into(), user_tags(subnet.tags()));
            Ok(remote(id, attrs))
        }
        "existing_security_group" => {
            let mut call = ec2.describe_security_groups().set_filters(Some(tag_filters(query)));
            if let Some(id) = text(query, "id") {
                call = call.group_ids(id);
            }
            for (attr, filter) in [("vpc", "vpc-id"), ("name", "group-name")] {
                if let Some(value) = text(query, attr) {
                    call = call.filters(Filter::builder().name(filter).values(value).build());
                }
            }
            let out = call.send().await.map_err(|e| api("DescribeSecurityGroups", e))?;
            let group = exactly_one("security group", query, region, out.security_groups().to_vec())?;
            let id = group.group_id().unwrap_or_default();
            let mut attrs = Attrs::new();
            attrs.insert("id".into(), json!(id));
            attrs.insert("name".into(), json!(group.group_name().unwrap_or_default()));
            attrs.insert("vpc".into(), json!(group.vpc_id().unwrap_or_default()));
            attrs.insert("tags".into(), user_tags(group.tags()));
            Ok(remote(id, attrs))
        }
        "existing_zone" => {
            let name = text(query, "name").unwrap_or_default().trim_end_matches('.').to_string();
            let private = query.get("private").and_then(serde_json::Value::as_bool).unwrap_or(false);
            let out = route53
                .list_hosted_zones_by_name()
                .dns_name(&name)
                .send()
                .await
                .map_err(|e| api("ListHostedZonesByName", e))?;
            let zones: Vec<_> = out
                .hosted_zones()
                .iter()
                .filter(|z| z.name().trim_end_matches('.') == name)
                .filter(|z| z.config().is_some_and(|c| c.private_zone()) == private)
                .cloned()
                .collect();
            let zone = exactly_one("hosted zone", query, region, zones)?;
            let id = zone.id().trim_start_matches("/hostedzone/").to_string();
            let got = route53.get_hosted_zone().id(&id).send().await.map_err(|e| api("GetHostedZone", e))?;
            let servers: Vec<&str> =
                got.delegation_set().map(|d| d.name_servers().iter().map(String::as_str).collect()).unwrap_or_default();
            let mut attrs = Attrs::new();
            attrs.insert("id".into(), json!(id));
            attrs.insert("name_servers".into(), json!(servers));
            Ok(remote(&id, attrs))
        }
        "availability_zones" => {
            let state = text(query, "state").unwrap_or("available");
            let out = ec2
                .describe_availability_zones()
                .filters(Filter::builder().name("state").values(state).build())
                .send()
                .await
                .map_err(|e| api("DescribeAvailabilityZones", e))?;
            let mut zones: Vec<(&str, &str)> = out
                .availability_zones()
                .iter()
                .map(|z| (z.zone_name().unwrap_or_default(), z.zone_id().unwrap_or_default()))
                .collect();
            zones.sort_unstable();
            let mut attrs = Attrs::new();
            attrs.insert("id".into(), json!(region));
            attrs.insert("names".into(), json!(zones.iter().map(|z| z.0).collect::<Vec<_>>()));
            attrs.insert("zone_ids".into(), json!(zones.iter().map(|z| z.1).collect::<Vec<_>>()));
            Ok(remote(region, attrs))
        }
        "caller_identity" => {
            let out = sts.get_caller_identity().send().await.map_err(|e| api("GetCallerIdentity", e))?;
            let account = out.account().unwrap_or_default();
            let arn = out.arn().unwrap_or_default();
            let mut attrs = Attrs::new();
            attrs.insert("id".into(), json!(account));
            attrs.insert("account_id".into(), json!(account));
            attrs.insert("partition".into(), json!(partition(arn, region)));
            attrs.insert("arn".into(), json!(arn));
            attrs.insert("user_id".into(), json!(out.user_id().unwrap_or_default()));
            attrs.insert("region".into(), json!(region));
            Ok(remote(account, attrs))
        }
        other => Err(ProviderError::Unsupported(other.into(), "lookups".into())),
    }
}

#[cfg(test)]
mod tests {
    use super::partition;

    #[test]
    fn the_partition_is_the_arns_or_the_regions() {
        assert_eq!(partition("arn:aws-cn:iam::123456789012:user/a", "cn-north-1"), "aws-cn");
        assert_eq!(partition("arn:aws:sts::123456789012:assumed-role/r/s", "us-east-1"), "aws");
        assert_eq!(partition("", "us-gov-west-1"), "aws-us-gov");
        assert_eq!(partition("", "cn-northwest-1"), "aws-cn");
        assert_eq!(partition("", "eu-west-1"), "aws");
    }
}
