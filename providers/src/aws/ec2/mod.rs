//! EC2: the schemas and API calls of the VPC networking, security group,
//! key pair, instance and volume resources.

mod batch;
mod ebs_volume;
mod elastic_ip;
mod image;
mod instance;
mod interfaces;
mod internet_gateway;
mod key_pair;
mod nat_gateway;
mod route_table;
mod schemas;
mod security_group;
mod security_group_rule;
mod subnet;
mod volume_attachment;
mod vpc;

pub use batch::read_many;
pub use image::verify;
pub use interfaces::released_by_load_balancer;
pub use schemas::schemas;

use aws_sdk_ec2::types::{Filter, ResourceType, Tag, TagSpecification};
use k8sinfra_engine::provider::{Attrs, BoxFuture, ProviderError, Remote, Stored, Target};

use super::attrs::{flag, string};
use super::errors::{api, code, retry_until, DEPENDENTS_BUDGET};
use super::tags::{owned_tags, removed_tag_keys, tags_json};

/// The types whose API calls are implemented.
pub const APPLIES: &[&str] = &[
    "vpc",
    "subnet",
    "internet_gateway",
    "route_table",
    "elastic_ip",
    "nat_gateway",
    "security_group",
    "security_group_rule",
    "key_pair",
    "instance",
    "ebs_volume",
    "volume_attachment",
    "image",
];

/// The comparison form of attributes AWS spells its own way.
pub fn canonical(type_name: &str, attr: &str, value: serde_json::Value) -> serde_json::Value {
    match type_name {
        "security_group" => security_group::canonical(attr, value),
        "key_pair" => key_pair::canonical(attr, value),
        _ => value,
    }
}

/// The AWS name of a resource whose configuration names none: its address
/// without the type (`internal`, `module.net.private["us-east-1a"]` →
/// `module.net.private[us-east-1a]`).
fn default_name(target: &Target<'_>) -> String {
    let prefix = format!("{}.", target.type_name);
    let address = target.address.replace('"', "");
    match address.rfind(&prefix) {
        Some(at) => format!("{}{}", &address[..at], &address[at + prefix.len()..]),
        None => address,
    }
}

pub fn read<'a>(
    ec2: &'a aws_sdk_ec2::Client,
    target: Target<'a>,
    id: &'a str,
) -> BoxFuture<'a, Result<Option<Remote>, ProviderError>> {
    Box::pin(async move {
        match target.type_name {
            "vpc" => vpc::read(ec2, target, id).await,
            "subnet" => subnet::read(ec2, target, id).await,
            "internet_gateway" => internet_gateway::read(ec2, target, id).await,
            "route_table" => route_table::read(ec2, target, id).await,
            "elastic_ip" => elastic_ip::read(ec2, target, id).await,
            "nat_gateway" => nat_gateway::read(ec2, target, id).await,
            "security_group" => security_group::read(ec2, target, id).await,
            "key_pair" => key_pair::read(ec2, target, id).await,
            "instance" => instance::read(ec2, target, id).await,
            "ebs_volume" => ebs_volume::read(ec2, target, id).await,
            "volume_attachment" => volume_attachment::read(ec2, target, id).await,
            "security_group_rule" => security_group_rule::read(ec2, id).await,
            // Read on its own (an import): the pattern is not known here.
            "image" => {
                let none = Attrs::new();
                image::lookup::read(ec2, &Stored { target, id, attrs: &none, created: None, written: None }).await
            }
            other => Err(unsupported(other)),
        }
    })
}

/// The resource tagged with this address and lineage, if any: how an
/// interrupted create is adopted. Not the one the state already holds at
/// the address (`target.not_id`): a replacement's new resource carries the
/// same tags as the old one it replaces.
pub fn find<'a>(
    ec2: &'a aws_sdk_ec2::Client,
    target: Target<'a>,
) -> BoxFuture<'a, Result<Option<Remote>, ProviderError>> {
    Box::pin(async move {
        let owned = vec![
            filter("tag:k8sinfra:address", &tag_pattern(target.address)),
            filter("tag:k8sinfra:lineage", target.lineage),
        ];
        let t = &target;
        let id = match target.type_name {
            "vpc" => {
                let out = ec2.describe_vpcs().set_filters(Some(owned)).send().await;
                pick(out.map_err(|e| api("DescribeVpcs", e))?.vpcs(), |v| (v.tags(), v.vpc_id()), t)
            }
            "subnet" => {
                let out = ec2.describe_subnets().set_filters(Some(owned)).send().await;
                pick(out.map_err(|e| api("DescribeSubnets", e))?.subnets(), |v| (v.tags(), v.subnet_id()), t)
            }
            "internet_gateway" => {
                let out = ec2.describe_internet_gateways().set_filters(Some(owned)).send().await;
                let out = out.map_err(|e| api("DescribeInternetGateways", e))?;
                pick(out.internet_gateways(), |v| (v.tags(), v.internet_gateway_id()), t)
            }
            "route_table" => {
                let out = ec2.describe_route_tables().set_filters(Some(owned)).send().await;
                pick(
                    out.map_err(|e| api("DescribeRouteTables", e))?.route_tables(),
                    |v| (v.tags(), v.route_table_id()),
                    t,
                )
            }
            "elastic_ip" => {
                let out = ec2.describe_addresses().set_filters(Some(owned)).send().await;
                pick(out.map_err(|e| api("DescribeAddresses", e))?.addresses(), |v| (v.tags(), v.allocation_id()), t)
            }
            "nat_gateway" => {
                let out = ec2.describe_nat_gateways().set_filter(Some(owned)).send().await;
                let out = out.map_err(|e| api("DescribeNatGateways", e))?;
                let live = out.nat_gateways().iter().filter(|g| nat_gateway::live(g));
                pick(live, |v| (v.tags(), v.nat_gateway_id()), t)
            }
            "security_group" => {
                let out = ec2.describe_security_groups().set_filters(Some(owned)).send().await;
                let out = out.map_err(|e| api("DescribeSecurityGroups", e))?;
                pick(out.security_groups(), |v| (v.tags(), v.group_id()), t)
            }
            "key_pair" => {
                let out = ec2.describe_key_pairs().set_filters(Some(owned)).send().await;
                pick(out.map_err(|e| api("DescribeKeyPairs", e))?.key_pairs(), |v| (v.tags(), v.key_name()), t)
            }
            "instance" => {
                let out = ec2.describe_instances().set_filters(Some(owned)).send().await;
                let out = out.map_err(|e| api("DescribeInstances", e))?;
                let live = out.reservations().iter().flat_map(|r| r.instances()).filter(|i| !instance::terminated(i));
                pick(live, |v| (v.tags(), v.instance_id()), t)
            }
            "ebs_volume" => {
                let out = ec2.describe_volumes().set_filters(Some(owned)).send().await;
                pick(out.map_err(|e| api("DescribeVolumes", e))?.volumes(), |v| (v.tags(), v.volume_id()), t)
            }
            // No tags: an interrupted attach is recognised by `create`.
            "volume_attachment" | "security_group_rule" | "image" => None,
            other => return Err(unsupported(other)),
        };
        match id {
            Some(id) => read(ec2, target, &id).await,
            None => Ok(None),
        }
    })
}

/// A tag filter's value for an address. EC2 matches `*` and `?` as
/// wildcards and everything else as itself; moto matches fnmatch patterns,
/// where `[…]` is a character class, so `node[0]` never finds `node[0]`.
/// Each bracket becomes `?`, which both read alike, and `pick` checks the
/// exact value.
fn tag_pattern(address: &str) -> String {
    address.replace(['[', ']'], "?")
}

/// The id of the first item tagged exactly as `target`'s, other than the
/// one the state holds already.
fn pick<'i, T: 'i>(
    items: impl IntoIterator<Item = &'i T>,
    parts: impl Fn(&'i T) -> (&'i [Tag], Option<&'i str>),
    target: &Target<'_>,
) -> Option<String> {
    items.into_iter().find_map(|item| {
        let (tags, id) = parts(item);
        let pairs: Vec<(&str, &str)> = tags.iter().filter_map(|t| Some((t.key()?, t.value()?))).collect();
        let ours = super::tags::owned_by(&pairs, target);
        (ours && id != target.not_id).then(|| id.map(str::to_string)).flatten()
    })
}

fn filter(name: &str, value: &str) -> Filter {
    Filter::builder().name(name).values(value).build()
}

/// A filter matching any of `values`.
fn filter_any(name: &str, values: &[String]) -> Filter {
    Filter::builder().name(name).set_values(Some(values.to_vec())).build()
}

pub fn create<'a>(
    ec2: &'a aws_sdk_ec2::Client,
    target: Target<'a>,
    attrs: &'a Attrs,
) -> BoxFuture<'a, Result<Remote, ProviderError>> {
    Box::pin(async move {
        match target.type_name {
            "vpc" => vpc::create(ec2, target, attrs).await,
            "subnet" => subnet::create(ec2, target, attrs).await,
            "internet_gateway" => internet_gateway::create(ec2, target, attrs).await,
            "route_table" => route_table::create(ec2, target, attrs).await,
            "elastic_ip" => elastic_ip::create(ec2, target, attrs).await,
            "nat_gateway" => nat_gateway::create(ec2, target, attrs).await,
            "security_group" => security_group::create(ec2, target, attrs).await,
            "key_pair" => key_pair::create(ec2, target, attrs).await,
            "instance" => instance::create(ec2, target, attrs).await,
            "ebs_volume" => ebs_volume::create(ec2, target, attrs).await,
            "volume_attachment" => volume_attachment::create(ec2, target, attrs).await,
            "security_group_rule" => security_group_rule::create(ec2, attrs).await,
            "image" => {
                let region = ec2.config().region().map(ToString::to_string).unwrap_or_default();
                image::lookup::create(ec2, &region, attrs).await
            }
            other => Err(unsupported(other)),
        }
    })
}

pub fn update<'a>(
    ec2: &'a aws_sdk_ec2::Client,
    target: Target<'a>,
    id: &'a str,
    before: &'a Attrs,
    after: &'a Attrs,
) -> BoxFuture<'a, Result<Remote, ProviderError>> {
    Box::pin(async move {
        match target.type_name {
            "vpc" => vpc::update(ec2, target, id, before, after).await,
            "subnet" => subnet::update(ec2, target, id, before, after).await,
            "internet_gateway" => internet_gateway::update(ec2, target, id, before, after).await,
            "route_table" => route_table::update(ec2, target, id, before, after).await,
            "elastic_ip" => elastic_ip::update(ec2, target, id, before, after).await,
            "nat_gateway" => retag_and_read(ec2, target, id, before, after).await,
            "security_group" => security_group::update(ec2, target, id, before, after).await,
            "key_pair" => key_pair::update(ec2, target, id, before, after).await,
            "instance" => instance::update(ec2, target, id, before, after).await,
            "ebs_volume" => ebs_volume::update(ec2, target, id, before, after).await,
            // Every attribute but `force_detach` (read at delete) forces a
            // new attachment.
            "volume_attachment" => {
                volume_attachment::read(ec2, target, id).await?.ok_or_else(|| vpc::gone("AttachVolume", id))
            }
            "security_group_rule" | "image" => Ok(Remote { id: id.into(), attrs: after.clone() }),
            other => Err(unsupported(other)),
        }
    })
}

pub fn delete<'a>(
    ec2: &'a aws_sdk_ec2::Client,
    target: Target<'a>,
    id: &'a str,
    attrs: &'a Attrs,
) -> BoxFuture<'a, Result<(), ProviderError>> {
    Box::pin(async move {
        match target.type_name {
            "vpc" => vpc::delete(ec2, id).await,
            "subnet" => subnet::delete(ec2, id).await,
            "internet_gateway" => internet_gateway::delete(ec2, id).await,
            "route_table" => route_table::delete(ec2, id).await,
            "elastic_ip" => elastic_ip::delete(ec2, id).await,
            "nat_gateway" => nat_gateway::delete(ec2, id).await,
            "security_group" => security_group::delete(ec2, id).await,
            "key_pair" => key_pair::delete(ec2, id).await,
            "instance" => instance::delete(ec2, id).await,
            "ebs_volume" => ebs_volume::delete(ec2, id).await,
            "volume_attachment" => volume_attachment::delete(ec2, id, flag(attrs, "force_detach") == Some(true)).await,
            "security_group_rule" => security_group_rule::delete(ec2, id).await,
            // A lookup made nothing: forgotten.
            "image" => Ok(()),
            other => Err(unsupported(other)),
        }
    })
}

/// The types whose create carries an idempotency key (`ClientToken`):
/// EC2 answers a repeat of the call with what the first one made.
pub const KEYED: &[&str] = &["instance", "nat_gateway", "ebs_volume", "route_table"];

/// Per-call settings for a create made through `create_once`: no SDK
/// retries, as it retries itself after looking.
fn once() -> aws_sdk_ec2::config::Builder {
    aws_sdk_ec2::config::Builder::default().retry_config(aws_sdk_ec2::config::retry::RetryConfig::disabled())
}

/// The id of the resource tagged as `target`'s, if one exists.
async fn found(ec2: &aws_sdk_ec2::Client, target: &Target<'_>) -> Result<Option<String>, ProviderError> {
    Ok(find(ec2, target.clone()).await?.map(|r| r.id))
}

fn unsupported(type_name: &str) -> ProviderError {
    ProviderError::Unsupported(type_name.into(), APPLIES.join(", "))
}

/// The tags a resource is created with: the user's, `Name` (defaulting to
/// the address), and the ownership markers crash recovery relies on.
fn tag_spec(resource: ResourceType, target: &Target<'_>, attrs: &Attrs) -> TagSpecification {
    TagSpecification::builder().resource_type(resource).set_tags(Some(tags(target, attrs))).build()
}

fn tags(target: &Target<'_>, attrs: &Attrs) -> Vec<Tag> {
    owned_tags(target, attrs).into_iter().map(|(k, v)| Tag::builder().key(k).value(v).build()).collect()
}

/// The tags a create call sent, as a read would show them.
fn sent_tags(target: &Target<'_>, attrs: &Attrs) -> serde_json::Value {
    tags_attr(target, &tags(target, attrs))
}

/// Tags read back, as the user wrote them.
fn tags_attr(target: &Target<'_>, tags: &[Tag]) -> serde_json::Value {
    tags_json(target, tags.iter().filter_map(|t| Some((t.key()?, t.value().unwrap_or_default()))))
}

/// Bring the user's tags from `before` to `after`.
async fn retag(
    ec2: &aws_sdk_ec2::Client,
    id: &str,
    target: &Target<'_>,
    before: &Attrs,
    after: &Attrs,
) -> Result<(), ProviderError> {
    if owned_tags(target, before) == owned_tags(target, after) {
        return Ok(());
    }
    let removed: Vec<Tag> =
        removed_tag_keys(target, before, after).into_iter().map(|k| Tag::builder().key(k).build()).collect();
    if !removed.is_empty() {
        ec2.delete_tags().resources(id).set_tags(Some(removed)).send().await.map_err(|e| api("DeleteTags", e))?;
    }
    ec2.create_tags()
        .resources(id)
        .set_tags(Some(tags(target, after)))
        .send()
        .await
        .map_err(|e| api("CreateTags", e))?;
    Ok(())
}

/// Delete (or detach) idempotently: a resource already gone (`not_found`)
/// counts as done, and `DependencyViolation` — AWS still seeing dependents
/// that are going away (instances terminating, a gateway detaching, a load
/// balancer's interfaces) — is retried for up to `DEPENDENTS_BUDGET`.
async fn delete_idempotent<T, E, R, F, Fut>(operation: &str, not_found: &[&str], call: F) -> Result<(), ProviderError>
where
    F: Fn() -> Fut,
    Fut: std::future::Future<Output = Result<T, aws_sdk_ec2::error::SdkError<E, R>>>,
    E: aws_sdk_ec2::error::ProvideErrorMetadata + std::error::Error + Send + Sync + 'static,
    R: std::fmt::Debug + Send + Sync + 'static,
{
    retry_until(
        operation,
        |code| code == "DependencyViolation",
        DEPENDENTS_BUDGET,
        || async {
            match call().await {
                Ok(_) => Ok(()),
                Err(e) if code(&e).is_some_and(|c| not_found.contains(&c.as_str())) => Ok(()),
                Err(e) => Err((code(&e), api(operation, e))),
            }
        },
    )
    .await
}

/// The update of a resource whose only in-place change is its tags.
pub(super) async fn retag_and_read(
    ec2: &aws_sdk_ec2::Client,
    target: Target<'_>,
    id: &str,
    before: &Attrs,
    after: &Attrs,
) -> Result<Remote, ProviderError> {
    retag(ec2, id, &target, before, after).await?;
    read(ec2, target.clone(), id).await?.ok_or_else(|| vpc::gone("CreateTags", id))
}
