//! `internet_gateway`: CreateInternetGateway (tagged in the call), then
//! attached to its VPC; detached before it is deleted.

use aws_sdk_ec2::types::{InternetGateway, ResourceType};
use k8sinfra_engine::provider::{Attrs, ProviderError, Remote, Target};
use serde_json::json;

use super::super::consistency::read_back;
use super::super::errors::{api, code, create_once, visible, Once};
use super::vpc::gone;
use super::{delete_idempotent, found, once, retag, string, tag_spec, tags_attr};

const NOT_FOUND: &str = "InvalidInternetGatewayID.NotFound";

pub async fn create(ec2: &aws_sdk_ec2::Client, target: Target<'_>, attrs: &Attrs) -> Result<Remote, ProviderError> {
    let id = create_once(
        "CreateInternetGateway",
        Once::Find(|| found(ec2, &target)),
        || {
            ec2.create_internet_gateway()
                .tag_specifications(tag_spec(ResourceType::InternetGateway, &target, attrs))
                .customize()
                .config_override(once())
                .send()
        },
        |out| out.internet_gateway().and_then(|g| g.internet_gateway_id()).unwrap_or_default().to_string(),
    )
    .await?;
    attach(ec2, &id, &string(attrs, "vpc")).await?;
    read_back("CreateInternetGateway", &id, || read(ec2, target.clone(), &id)).await
}

async fn attach(ec2: &aws_sdk_ec2::Client, id: &str, vpc: &str) -> Result<(), ProviderError> {
    // Both made moments ago, often: either may not be visible yet.
    match visible(|| ec2.attach_internet_gateway().internet_gateway_id(id).vpc_id(vpc).send()).await {
        Ok(_) => Ok(()),
        // Attached already: a lost answer's retry — if to this VPC. To
        // another, the gateway is not where it should be: said so.
        Err(e) if code(&e).as_deref() == Some("Resource.AlreadyAssociated") => {
            let out = ec2
                .describe_internet_gateways()
                .internet_gateway_ids(id)
                .send()
                .await
                .map_err(|e| api("DescribeInternetGateways", e))?;
            let attached =
                out.internet_gateways().iter().flat_map(|g| g.attachments()).any(|a| a.vpc_id() == Some(vpc));
            if attached {
                Ok(())
            } else {
                Err(api("AttachInternetGateway", e))
            }
        }
        Err(e) => Err(api("AttachInternetGateway", e)),
    }
}

async fn detach(ec2: &aws_sdk_ec2::Client, id: &str, vpc: &str) -> Result<(), ProviderError> {
    delete_idempotent("DetachInternetGateway", &[NOT_FOUND, "Gateway.NotAttached"], || {
        ec2.detach_internet_gateway().internet_gateway_id(id).vpc_id(vpc).send()
    })
    .await
}

pub async fn read(ec2: &aws_sdk_ec2::Client, target: Target<'_>, id: &str) -> Result<Option<Remote>, ProviderError> {
    let out = match ec2.describe_internet_gateways().internet_gateway_ids(id).send().await {
        Ok(out) => out,
        Err(e) if code(&e).as_deref() == Some(NOT_FOUND) => return Ok(None),
        Err(e) => return Err(api("DescribeInternetGateways", e)),
    };
    Ok(out.internet_gateways().first().map(|gateway| remote(&target, gateway)))
}

/// A gateway as the state keeps it.
pub fn remote(target: &Target<'_>, gateway: &InternetGateway) -> Remote {
    let id = gateway.internet_gateway_id().unwrap_or_default();
    let vpc = gateway.attachments().first().and_then(|a| a.vpc_id()).unwrap_or_default();
    let mut attrs = Attrs::new();
    attrs.insert("id".into(), json!(id));
    attrs.insert("vpc".into(), json!(vpc));
    attrs.insert("tags".into(), tags_attr(target, gateway.tags()));
    Remote { id: id.into(), attrs }
}

pub async fn update(
    ec2: &aws_sdk_ec2::Client,
    target: Target<'_>,
    id: &str,
    before: &Attrs,
    after: &Attrs,
) -> Result<Remote, ProviderError> {
    let (old, new) = (string(before, "vpc"), string(after, "vpc"));
    if old != new {
        if !old.is_empty() {
            detach(ec2, id, &old).await?;
        }
        attach(ec2, id, &new).await?;
    }
    retag(ec2, id, &target, before, after).await?;
    read(ec2, target, id).await?.ok_or_else(|| gone("AttachInternetGateway", id))
}

pub async fn delete(ec2: &aws_sdk_ec2::Client, id: &str) -> Result<(), ProviderError> {
    let vpc = match ec2.describe_internet_gateways().internet_gateway_ids(id).send().await {
        Ok(out) => out
            .internet_gateways()
            .first()
            .and_then(|g| g.attachments().first())
            .and_then(|a| a.vpc_id())
            .map(str::to_string),
        Err(e) if code(&e).as_deref() == Some(NOT_FOUND) => return Ok(()),
        Err(e) => return Err(api("DescribeInternetGateways", e)),
    };
    if let Some(vpc) = vpc {
        detach(ec2, id, &vpc).await?;
    }
    delete_idempotent("DeleteInternetGateway", &[NOT_FOUND], || {
        ec2.delete_internet_gateway().internet_gateway_id(id).send()
    })
    .await
}
