//! `elastic_ip`: AllocateAddress in the VPC domain (tagged in the call),
//! ReleaseAddress (retried while a NAT gateway still holds it).

use aws_sdk_ec2::types::{Address, DomainType, ResourceType};
use k8sinfra_engine::provider::{Attrs, ProviderError, Remote, Target};
use serde_json::json;

use super::super::errors::{api, code, create_once_answered};
use super::vpc::gone;
use super::{found, once, sent_tags, string, tag_spec, tags_attr};

pub async fn create(ec2: &aws_sdk_ec2::Client, target: Target<'_>, attrs: &Attrs) -> Result<Remote, ProviderError> {
    if !string(attrs, "instance").is_empty() {
        return Err(ProviderError::Unsupported(
            "elastic_ip with an instance".into(),
            "elastic IPs for NAT gateways".into(),
        ));
    }
    let (id, answer) = create_once_answered(
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
    // The answer holds the address; it is attached to nothing yet.
    if let Some(public_ip) = answer.as_ref().and_then(|a| a.public_ip()) {
        let mut made = Attrs::new();
        made.insert("id".into(), json!(id));
        made.insert("public_ip".into(), json!(public_ip));
        made.insert("instance".into(), serde_json::Value::Null);
        made.insert("tags".into(), sent_tags(&target, attrs));
        return Ok(Remote { id, attrs: made });
    }
    read(ec2, target, &id).await?.ok_or_else(|| gone("AllocateAddress", &id))
}

pub async fn read(ec2: &aws_sdk_ec2::Client, target: Target<'_>, id: &str) -> Result<Option<Remote>, ProviderError> {
    let out = match ec2.describe_addresses().allocation_ids(id).send().await {
        Ok(out) => out,
        Err(e) if matches!(code(&e).as_deref(), Some("InvalidAllocationID.NotFound")) => return Ok(None),
        Err(e) => return Err(api("DescribeAddresses", e)),
    };
    Ok(out.addresses().first().map(|address| remote(&target, address)))
}

/// An address as the state keeps it.
pub fn remote(target: &Target<'_>, address: &Address) -> Remote {
    let id = address.allocation_id().unwrap_or_default();
    let mut attrs = Attrs::new();
    attrs.insert("id".into(), json!(id));
    attrs.insert("public_ip".into(), json!(address.public_ip().unwrap_or_default()));
    let instance = address.instance_id().filter(|i| !i.is_empty());
    attrs.insert("instance".into(), instance.map_or(serde_json::Value::Null, |i| json!(i)));
    attrs.insert("tags".into(), tags_attr(target, address.tags()));
    Remote { id: id.into(), attrs }
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
