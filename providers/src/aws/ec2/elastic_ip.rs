//! `elastic_ip`: AllocateAddress in the VPC domain (tagged in the call),
//! ReleaseAddress (retried while a NAT gateway still holds it).

use aws_sdk_ec2::types::{DomainType, ResourceType};
use k8sinfra_engine::provider::{Attrs, ProviderError, Remote, Target};
use serde_json::json;

use super::super::errors::{api, code, create_once};
use super::vpc::gone;
use super::{found, once, string, tag_spec, tags_attr};

pub async fn create(ec2: &aws_sdk_ec2::Client, target: Target<'_>, attrs: &Attrs) -> Result<Remote, ProviderError> {
    if !string(attrs, "instance").is_empty() {
        return Err(ProviderError::Unsupported(
            "elastic_ip with an instance".into(),
            "elastic IPs for NAT gateways".into(),
        ));
    }
    let id = create_once(
        "AllocateAddress",
        || {
            ec2.allocate_address()
                .domain(DomainType::Vpc)
                .tag_specifications(tag_spec(ResourceType::ElasticIp, &target, attrs))
                .customize()
                .config_override(once())
                .send()
        },
        |out| out.allocation_id().unwrap_or_default().to_string(),
        || found(ec2, &target),
    )
    .await?;
    read(ec2, target, &id).await?.ok_or_else(|| gone("AllocateAddress", &id))
}

pub async fn read(ec2: &aws_sdk_ec2::Client, target: Target<'_>, id: &str) -> Result<Option<Remote>, ProviderError> {
    let out = match ec2.describe_addresses().allocation_ids(id).send().await {
        Ok(out) => out,
        Err(e) if matches!(code(&e).as_deref(), Some("InvalidAllocationID.NotFound")) => return Ok(None),
        Err(e) => return Err(api("DescribeAddresses", e)),
    };
    let Some(address) = out.addresses().first() else { return Ok(None) };
    let mut attrs = Attrs::new();
    attrs.insert("id".into(), json!(id));
    attrs.insert("public_ip".into(), json!(address.public_ip().unwrap_or_default()));
    let instance = address.instance_id().filter(|i| !i.is_empty());
    attrs.insert("instance".into(), instance.map_or(serde_json::Value::Null, |i| json!(i)));
    attrs.insert("tags".into(), tags_attr(&target, address.tags()));
    Ok(Some(Remote { id: id.into(), attrs }))
}

pub async fn delete(ec2: &aws_sdk_ec2::Client, id: &str) -> Result<(), ProviderError> {
    super::super::errors::retry_while(
        "ReleaseAddress",
        |code| matches!(code, "InvalidIPAddress.InUse" | "AuthFailure" | "DependencyViolation"),
        || async {
            match ec2.release_address().allocation_id(id).send().await {
                Ok(_) => Ok(()),
                Err(e) if code(&e).as_deref() == Some("InvalidAllocationID.NotFound") => Ok(()),
                Err(e) => Err((code(&e), api("ReleaseAddress", e))),
            }
        },
    )
    .await
}
