//! `route_table`: CreateRouteTable (tagged in the call), its routes and
//! subnet associations. Routes are compared as a set, by destination.

use std::collections::BTreeMap;

use aws_sdk_ec2::types::{ResourceType, RouteOrigin, RouteTable};
use k8sinfra_engine::provider::{Attrs, ProviderError, Remote, Target};
use serde_json::{json, Value};

use super::super::attrs::sorted_strings;
use super::super::consistency::read_back;
use super::super::errors::{api, code, create_once, keyed, not_yet_visible, retry_while};
use super::vpc::gone;
use super::{delete_idempotent, found, once, retag, string, tag_spec, tags_attr};

const NOT_FOUND: &str = "InvalidRouteTableID.NotFound";

/// A route by destination: (internet gateway, NAT gateway, instance).
type Routes = BTreeMap<String, [Option<String>; 3]>;

fn routes(attrs: &Attrs) -> Routes {
    let text = |m: &serde_json::Map<String, Value>, k: &str| m.get(k).and_then(Value::as_str).map(str::to_string);
    attrs
        .get("route")
        .and_then(Value::as_array)
        .into_iter()
        .flatten()
        .filter_map(Value::as_object)
        .filter_map(|m| {
            Some((text(m, "cidr")?, [text(m, "internet_gateway"), text(m, "nat_gateway"), text(m, "instance")]))
        })
        .collect()
}

pub async fn create(ec2: &aws_sdk_ec2::Client, target: Target<'_>, attrs: &Attrs) -> Result<Remote, ProviderError> {
    let id = create_once(
        "CreateRouteTable",
        keyed(target.token, || found(ec2, &target)),
        || {
            ec2.create_route_table()
                .vpc_id(string(attrs, "vpc"))
                .tag_specifications(tag_spec(ResourceType::RouteTable, &target, attrs))
                .set_client_token(target.token.map(str::to_string))
                .customize()
                .config_override(once())
                .send()
        },
        |out| out.route_table().and_then(|t| t.route_table_id()).unwrap_or_default().to_string(),
    )
    .await?;
    for (cidr, via) in routes(attrs) {
        put_route(ec2, &id, &cidr, &via, false).await?;
    }
    for subnet in sorted_strings(attrs, "subnets") {
        associate(ec2, &id, &subnet).await?;
    }
    read_back("CreateRouteTable", &id, || read(ec2, target.clone(), &id)).await
}

/// Create (or replace) a route. Right after a table or a NAT gateway is
/// created AWS may not know it yet: those NotFound errors are retried.
async fn put_route(
    ec2: &aws_sdk_ec2::Client,
    table: &str,
    cidr: &str,
    via: &[Option<String>; 3],
    replace: bool,
) -> Result<(), ProviderError> {
    let operation = if replace { "ReplaceRoute" } else { "CreateRoute" };
    let result = retry_while(
        operation,
        // The ids come from the state, so a NotFound here is AWS not seeing
        // a just-created table or gateway yet.
        |c| c.ends_with(".NotFound"),
        || async {
            let result = if replace {
                ec2.replace_route()
                    .route_table_id(table)
                    .destination_cidr_block(cidr)
                    .set_gateway_id(via[0].clone())
                    .set_nat_gateway_id(via[1].clone())
                    .set_instance_id(via[2].clone())
                    .send()
                    .await
                    .map(|_| ())
                    .map_err(|e| (code(&e), api(operation, e)))
            } else {
                ec2.create_route()
                    .route_table_id(table)
                    .destination_cidr_block(cidr)
                    .set_gateway_id(via[0].clone())
                    .set_nat_gateway_id(via[1].clone())
                    .set_instance_id(via[2].clone())
                    .send()
                    .await
                    .map(|_| ())
                    .map_err(|e| (code(&e), api(operation, e)))
            };
            result
        },
    )
    .await;
    // The route is there already: this call's first answer was lost (or
    // someone made it by hand). Pointing it where it should go is the same.
    match result {
        Err(ProviderError::Api { message, .. }) if !replace && message.starts_with("RouteAlreadyExists") => {
            Box::pin(put_route(ec2, table, cidr, via, true)).await
        }
        other => other,
    }
}

async fn associate(ec2: &aws_sdk_ec2::Client, table: &str, subnet: &str) -> Result<(), ProviderError> {
    retry_while("AssociateRouteTable", not_yet_visible, || async {
        match ec2.associate_route_table().route_table_id(table).subnet_id(subnet).send().await {
            Ok(_) => Ok(()),
            // Associated already: with this table (a lost answer's
            // retry), or with another, from which it moves.
            Err(e) if code(&e).as_deref() == Some("Resource.AlreadyAssociated") => {
                match elsewhere(ec2, table, &[subnet.to_string()]).await {
                    Ok(moving) => move_here(ec2, table, &moving).await.map_err(|e| (None, e)),
                    Err(e) => Err((None, e)),
                }
            }
            Err(e) => Err((code(&e), api("AssociateRouteTable", e))),
        }
    })
    .await
}

/// Of `subnets`, those associated with a table other than `table`: subnet →
/// association id. AWS refuses AssociateRouteTable for them
/// (`Resource.AlreadyAssociated`) and moto answers it with the old
/// association, leaving the subnet where it was: either way they move with
/// ReplaceRouteTableAssociation.
async fn elsewhere(
    ec2: &aws_sdk_ec2::Client,
    table: &str,
    subnets: &[String],
) -> Result<BTreeMap<String, String>, ProviderError> {
    let filter =
        aws_sdk_ec2::types::Filter::builder().name("association.subnet-id").set_values(Some(subnets.to_vec())).build();
    let out = ec2.describe_route_tables().filters(filter).send().await.map_err(|e| api("DescribeRouteTables", e))?;
    Ok(out
        .route_tables()
        .iter()
        .filter(|t| t.route_table_id() != Some(table))
        .flat_map(|t| t.associations())
        .filter(|a| a.main() != Some(true))
        .filter_map(|a| Some((a.subnet_id()?.to_string(), a.route_table_association_id()?.to_string())))
        .filter(|(subnet, _)| subnets.contains(subnet))
        .collect())
}

/// Move each subnet's association to `table`.
async fn move_here(
    ec2: &aws_sdk_ec2::Client,
    table: &str,
    moving: &BTreeMap<String, String>,
) -> Result<(), ProviderError> {
    for association in moving.values() {
        ec2.replace_route_table_association()
            .association_id(association)
            .route_table_id(table)
            .send()
            .await
            .map_err(|e| api("ReplaceRouteTableAssociation", e))?;
    }
    Ok(())
}

/// Subnet → association id, for the table's explicit associations.
async fn associations(ec2: &aws_sdk_ec2::Client, id: &str) -> Result<Option<BTreeMap<String, String>>, ProviderError> {
    let out = match ec2.describe_route_tables().route_table_ids(id).send().await {
        Ok(out) => out,
        Err(e) if code(&e).as_deref() == Some(NOT_FOUND) => return Ok(None),
        Err(e) => return Err(api("DescribeRouteTables", e)),
    };
    let Some(table) = out.route_tables().first() else { return Ok(None) };
    Ok(Some(
        table
            .associations()
            .iter()
            .filter(|a| a.main() != Some(true))
            .filter_map(|a| Some((a.subnet_id()?.to_string(), a.route_table_association_id()?.to_string())))
            .collect(),
    ))
}

pub async fn read(ec2: &aws_sdk_ec2::Client, target: Target<'_>, id: &str) -> Result<Option<Remote>, ProviderError> {
    let out = match ec2.describe_route_tables().route_table_ids(id).send().await {
        Ok(out) => out,
        Err(e) if code(&e).as_deref() == Some(NOT_FOUND) => return Ok(None),
        Err(e) => return Err(api("DescribeRouteTables", e)),
    };
    Ok(out.route_tables().first().map(|table| remote(&target, table)))
}

/// A table as the state keeps it: routes it did not get from its VPC,
/// and its explicit subnet associations, both in a stable order.
pub fn remote(target: &Target<'_>, table: &RouteTable) -> Remote {
    let id = table.route_table_id().unwrap_or_default();
    let mut routes: Vec<Value> = table
        .routes()
        .iter()
        .filter(|r| r.origin() != Some(&RouteOrigin::CreateRouteTable))
        .filter_map(|r| {
            let gateway = r.gateway_id().filter(|g| g.starts_with("igw-"));
            Some(json!({
                "cidr": r.destination_cidr_block()?,
                "internet_gateway": gateway,
                "nat_gateway": r.nat_gateway_id(),
                "instance": r.instance_id(),
            }))
        })
        .collect();
    routes.sort_by_key(ToString::to_string);
    let mut subnets: Vec<&str> =
        table.associations().iter().filter(|a| a.main() != Some(true)).filter_map(|a| a.subnet_id()).collect();
    subnets.sort_unstable();
    let mut attrs = Attrs::new();
    attrs.insert("id".into(), json!(id));
    attrs.insert("vpc".into(), json!(table.vpc_id().unwrap_or_default()));
    attrs.insert("route".into(), Value::Array(routes));
    attrs.insert("subnets".into(), json!(subnets));
    attrs.insert("tags".into(), tags_attr(target, table.tags()));
    Remote { id: id.into(), attrs }
}

pub async fn update(
    ec2: &aws_sdk_ec2::Client,
    target: Target<'_>,
    id: &str,
    before: &Attrs,
    after: &Attrs,
) -> Result<Remote, ProviderError> {
    let (old, new) = (routes(before), routes(after));
    for cidr in old.keys().filter(|c| !new.contains_key(*c)) {
        ec2.delete_route()
            .route_table_id(id)
            .destination_cidr_block(cidr)
            .send()
            .await
            .map_err(|e| api("DeleteRoute", e))?;
    }
    for (cidr, via) in &new {
        match old.get(cidr) {
            None => put_route(ec2, id, cidr, via, false).await?,
            Some(had) if had != via => put_route(ec2, id, cidr, via, true).await?,
            Some(_) => {}
        }
    }
    let wanted = sorted_strings(after, "subnets");
    let current = associations(ec2, id).await?.unwrap_or_default();
    for (subnet, association) in &current {
        if !wanted.contains(subnet) {
            ec2.disassociate_route_table()
                .association_id(association)
                .send()
                .await
                .map_err(|e| api("DisassociateRouteTable", e))?;
        }
    }
    // A subnet added here may still be another table's (a move): one look
    // finds those, which move; the others are associated.
    let added: Vec<String> = wanted.iter().filter(|s| !current.contains_key(*s)).cloned().collect();
    let moving = if added.is_empty() { BTreeMap::new() } else { elsewhere(ec2, id, &added).await? };
    move_here(ec2, id, &moving).await?;
    for subnet in added.iter().filter(|s| !moving.contains_key(*s)) {
        associate(ec2, id, subnet).await?;
    }
    retag(ec2, id, &target, before, after).await?;
    read(ec2, target, id).await?.ok_or_else(|| gone("CreateRoute", id))
}

pub async fn delete(ec2: &aws_sdk_ec2::Client, id: &str) -> Result<(), ProviderError> {
    let Some(current) = associations(ec2, id).await? else { return Ok(()) };
    for association in current.values() {
        match ec2.disassociate_route_table().association_id(association).send().await {
            Ok(_) => {}
            Err(e) if code(&e).as_deref() == Some("InvalidAssociationID.NotFound") => {}
            Err(e) => return Err(api("DisassociateRouteTable", e)),
        }
    }
    delete_idempotent("DeleteRouteTable", &[NOT_FOUND], || ec2.delete_route_table().route_table_id(id).send()).await
}
