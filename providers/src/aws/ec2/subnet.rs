//! `subnet`: CreateSubnet (tagged in the call), public IP on launch,
//! DescribeSubnets.

use aws_sdk_ec2::types::{AttributeBooleanValue, ResourceType, Subnet};
use k8sinfra_engine::provider::{Attrs, ProviderError, Remote, Target};
use serde_json::json;

use super::super::consistency::read_back;
use super::super::errors::{api, code, create_once_answered, visible, Once};
use super::vpc::gone;
use super::{delete_idempotent, flag, found, once, retag, sent_tags, string, tag_spec, tags_attr};

pub async fn create(ec2: &aws_sdk_ec2::Client, target: Target<'_>, attrs: &Attrs) -> Result<Remote, ProviderError> {
    let (id, answer) = create_once_answered(
        "CreateSubnet",
        Once::Find(|| found(ec2, &target)),
        || {
            ec2.create_subnet()
                .vpc_id(string(attrs, "vpc"))
                .cidr_block(string(attrs, "cidr"))
                .availability_zone(string(attrs, "zone"))
                .tag_specifications(tag_spec(ResourceType::Subnet, &target, attrs))
                .customize()
                .config_override(once())
                .send()
        },
        |out| out.subnet().and_then(|s| s.subnet_id()).unwrap_or_default().to_string(),
    )
    .await?;
    let public_ip = flag(attrs, "public_ip_on_launch") == Some(true);
    if public_ip {
        set_public_ip(ec2, &id, true).await?;
    }
    // The answer and what was set are all a read would say.
    if let Some(subnet) = answer.as_ref().and_then(|a| a.subnet()) {
        let mut made = remote(&target, subnet);
        made.attrs.insert("public_ip_on_launch".into(), json!(public_ip));
        made.attrs.insert("tags".into(), sent_tags(&target, attrs));
        return Ok(made);
    }
    read_back("CreateSubnet", &id, || read(ec2, target.clone(), &id)).await
}

async fn set_public_ip(ec2: &aws_sdk_ec2::Client, id: &str, on: bool) -> Result<(), ProviderError> {
    visible(|| {
        ec2.modify_subnet_attribute()
            .subnet_id(id)
            .map_public_ip_on_launch(AttributeBooleanValue::builder().value(on).build())
            .send()
    })
    .await
    .map_err(|e| api("ModifySubnetAttribute", e))?;
    Ok(())
}

pub async fn read(ec2: &aws_sdk_ec2::Client, target: Target<'_>, id: &str) -> Result<Option<Remote>, ProviderError> {
    let out = match ec2.describe_subnets().subnet_ids(id).send().await {
        Ok(out) => out,
        Err(e) if code(&e).as_deref() == Some("InvalidSubnetID.NotFound") => return Ok(None),
        Err(e) => return Err(api("DescribeSubnets", e)),
    };
    Ok(out.subnets().first().map(|subnet| remote(&target, subnet)))
}

/// A subnet as the state keeps it.
pub fn remote(target: &Target<'_>, subnet: &Subnet) -> Remote {
    let id = subnet.subnet_id().unwrap_or_default();
    let mut attrs = Attrs::new();
    attrs.insert("id".into(), json!(id));
    attrs.insert("vpc".into(), json!(subnet.vpc_id().unwrap_or_default()));
    attrs.insert("cidr".into(), json!(subnet.cidr_block().unwrap_or_default()));
    attrs.insert("zone".into(), json!(subnet.availability_zone().unwrap_or_default()));
    attrs.insert("public_ip_on_launch".into(), json!(subnet.map_public_ip_on_launch().unwrap_or(false)));
    attrs.insert("tags".into(), tags_attr(target, subnet.tags()));
    Remote { id: id.into(), attrs }
}

pub async fn update(
    ec2: &aws_sdk_ec2::Client,
    target: Target<'_>,
    id: &str,
    before: &Attrs,
    after: &Attrs,
) -> Result<Remote, ProviderError> {
    let want = flag(after, "public_ip_on_launch").unwrap_or(false);
    if flag(before, "public_ip_on_launch") != Some(want) {
        set_public_ip(ec2, id, want).await?;
    }
    retag(ec2, id, &target, before, after).await?;
    read(ec2, target, id).await?.ok_or_else(|| gone("ModifySubnetAttribute", id))
}

pub async fn delete(ec2: &aws_sdk_ec2::Client, id: &str) -> Result<(), ProviderError> {
    delete_idempotent("DeleteSubnet", &["InvalidSubnetID.NotFound"], || ec2.delete_subnet().subnet_id(id).send()).await
}
