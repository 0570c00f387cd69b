//! `elastic_ip`: AllocateAddress in the VPC domain (tagged in the call);
//! with an `instance`, AssociateAddress once it runs (moved in place when
//! the instance changes); DisassociateAddress, then ReleaseAddress
//! (retried while a NAT gateway still holds it).

use aws_sdk_ec2::types::{Address, DomainType, ResourceType};
use k8sinfra_engine::provider::{Attrs, ProviderError, Remote, Target};
use serde_json::json;

use super::super::consistency::read_back;
use super::super::errors::{
    api, code, create_once_answered, not_yet_visible, retry_until, retry_while, Once, DEPENDENTS_BUDGET,
};
use super::{found, once, retag_and_read, sent_tags, string, tag_spec, tags_attr};

pub async fn create(ec2: &aws_sdk_ec2::Client, target: Target<'_>, attrs: &Attrs) -> Result<Remote, ProviderError> {
    let (id, answer) = create_once_answered(
        "AllocateAddress",
        Once::Find(|| found(ec2, &target)),
        || {
            ec2.allocate_address()
                .domain(DomainType::Vpc)
                .tag_specifications(tag_spec(ResourceType::ElasticIp, &target, attrs))
                .customize()
                .config_override(once())
                .send()
        },
        |out| out.allocation_id().unwrap_or_default().to_string(),
    )
    .await?;
    let instance = string(attrs, "instance");
    if !instance.is_empty() {
        associate(ec2, &id, &instance).await?;
    }
    // The answer holds the address, and the association is what was asked.
    if let Some(public_ip) = answer.as_ref().and_then(|a| a.public_ip()) {
        let on = Some(instance.as_str()).filter(|i| !i.is_empty());
        return Ok(remote_of(&id, public_ip, on, sent_tags(&target, attrs)));
    }
    read_back("AllocateAddress", &id, || read(ec2, target.clone(), &id)).await
}

/// Point the address at `instance`. An instance just launched may not be
/// visible or running yet; an address on another instance is moved
/// (`AllowReassociation`), which is what a changed `instance` means.
async fn associate(ec2: &aws_sdk_ec2::Client, id: &str, instance: &str) -> Result<(), ProviderError> {
    retry_while(
        "AssociateAddress",
        |c| c == "IncorrectInstanceState" || c == "InvalidInstanceID" || not_yet_visible(c),
        || async {
            ec2.associate_address()
                .allocation_id(id)
                .instance_id(instance)
                .allow_reassociation(true)
                .send()
                .await
                .map(drop)
                .map_err(|e| (code(&e), api("AssociateAddress", e)))
        },
    )
    .await
}

/// Take the address off whatever it is associated with; nothing to do
/// when it is on nothing (or gone).
async fn disassociate(ec2: &aws_sdk_ec2::Client, id: &str) -> Result<(), ProviderError> {
    let out = match ec2.describe_addresses().allocation_ids(id).send().await {
        Ok(out) => out,
        Err(e) if code(&e).as_deref() == Some("InvalidAllocationID.NotFound") => return Ok(()),
        Err(e) => return Err(api("DescribeAddresses", e)),
    };
    // A NAT gateway's address is let go by deleting the gateway.
    let Some(association) = out
        .addresses()
        .first()
        .filter(|a| a.instance_id().is_some_and(|i| !i.is_empty()))
        .and_then(|a| a.association_id())
    else {
        return Ok(());
    };
    match ec2.disassociate_address().association_id(association).send().await {
        Ok(_) => Ok(()),
        Err(e) if code(&e).is_some_and(|c| c == "InvalidAssociationID.NotFound") => Ok(()),
        Err(e) => Err(api("DisassociateAddress", e)),
    }
}

/// The instance changes in place (the address moves); tags likewise.
pub async fn update(
    ec2: &aws_sdk_ec2::Client,
    target: Target<'_>,
    id: &str,
    before: &Attrs,
    after: &Attrs,
) -> Result<Remote, ProviderError> {
    let (was, now) = (string(before, "instance"), string(after, "instance"));
    if was != now {
        if now.is_empty() {
            disassociate(ec2, id).await?;
        } else {
            associate(ec2, id, &now).await?;
        }
    }
    retag_and_read(ec2, target, id, before, after).await
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
    let instance = address.instance_id().filter(|i| !i.is_empty());
    let tags = tags_attr(target, address.tags());
    remote_of(address.allocation_id().unwrap_or_default(), address.public_ip().unwrap_or_default(), instance, tags)
}

fn remote_of(id: &str, public_ip: &str, instance: Option<&str>, tags: serde_json::Value) -> Remote {
    let mut attrs = Attrs::new();
    attrs.insert("id".into(), json!(id));
    attrs.insert("public_ip".into(), json!(public_ip));
    attrs.insert("instance".into(), json!(instance));
    attrs.insert("tags".into(), tags);
    Remote { id: id.into(), attrs }
}

pub async fn delete(ec2: &aws_sdk_ec2::Client, id: &str) -> Result<(), ProviderError> {
    disassociate(ec2, id).await?;
    // A NAT gateway being deleted holds its address for minutes, and for a
    // moment after it shows `deleted`: AWS answers AuthFailure (kops#938),
    // or names the gateway's interface it is still letting go
    // (InvalidNetworkInterfaceID.NotFound, terraform-provider-aws#49299).
    retry_until(
        "ReleaseAddress",
        |code| {
            matches!(
                code,
                "InvalidIPAddress.InUse" | "AuthFailure" | "DependencyViolation" | "InvalidNetworkInterfaceID.NotFound"
            )
        },
        DEPENDENTS_BUDGET,
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
