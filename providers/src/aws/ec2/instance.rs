//! `instance`: RunInstances (instance and root volume tagged in the call),
//! then waits until it runs. A type change is done in place — stop, modify,
//! start — as AWS allows for EBS-backed instances; security groups, the
//! metadata options and tags change in place too. Terminate waits until
//! the instance is gone, so its subnet and groups can follow.

use aws_sdk_ec2::types::{
    AttributeValue, BlockDeviceMapping, EbsBlockDevice, HttpTokensState, IamInstanceProfileSpecification, Instance,
    InstanceMetadataOptionsRequest, InstanceStateName, InstanceType, ResourceType, Volume, VolumeType,
};
use base64::Engine as _;
use k8sinfra_engine::provider::{Attrs, ProviderError, Remote, Target};
use serde_json::{json, Value};

use super::super::attrs::sorted_strings;
use super::super::errors::{api, code, create_once, keyed, retry_while, visible, wait_for, Poll};
use super::image::root_device;
use super::vpc::gone;
use super::{flag, found, once, retag, string, tag_spec, tags_attr};

const NOT_FOUND: &str = "InvalidInstanceID.NotFound";

/// How long an instance may take to run, stop or go (Terraform: 10 and 20 min).
const CHECKS: std::time::Duration = std::time::Duration::from_secs(20 * 60);

fn root_volume(attrs: &Attrs) -> Option<&serde_json::Map<String, Value>> {
    attrs.get("root_volume").and_then(Value::as_object)
}

pub async fn create(ec2: &aws_sdk_ec2::Client, target: Target<'_>, attrs: &Attrs) -> Result<Remote, ProviderError> {
    let image = string(attrs, "image");
    let mapping = match root_volume(attrs) {
        Some(root) => Some(vec![root_mapping(ec2, &image, root).await?]),
        None => None,
    };
    let run = || {
        ec2.run_instances()
            .image_id(&image)
            .instance_type(InstanceType::from(string(attrs, "type").as_str()))
            .min_count(1)
            .max_count(1)
            .subnet_id(string(attrs, "subnet"))
            .set_security_group_ids(Some(sorted_strings(attrs, "security_groups")).filter(|g| !g.is_empty()))
            .set_key_name(attrs.get("key_pair").and_then(Value::as_str).map(str::to_string))
            .set_private_ip_address(attrs.get("private_ip").and_then(Value::as_str).map(str::to_string))
            .set_user_data(
                attrs
                    .get("user_data")
                    .and_then(Value::as_str)
                    .map(|text| base64::engine::general_purpose::STANDARD.encode(text)),
            )
            .metadata_options(metadata(flag(attrs, "require_imdsv2").unwrap_or(true), hop_limit(attrs)))
            .tag_specifications(tag_spec(ResourceType::Instance, &target, attrs))
            .tag_specifications(tag_spec(ResourceType::Volume, &target, attrs))
            .set_block_device_mappings(mapping.clone())
            .set_iam_instance_profile(
                attrs
                    .get("iam_instance_profile")
                    .and_then(Value::as_str)
                    .filter(|p| !p.is_empty())
                    .map(|name| IamInstanceProfileSpecification::builder().name(name).build()),
            )
            .set_client_token(target.token.map(str::to_string))
            .customize()
            .config_override(once())
            .send()
    };
    let id = create_once("RunInstances", keyed(target.token, || found(ec2, &target)), run, |out| {
        out.instances().first().and_then(|i| i.instance_id()).unwrap_or_default().to_string()
    })
    .await?;
    // What the wait saw last is as fresh as a read; only the root volume
    // needs a call. The user data is what was just sent.
    let Some(instance) = wait_until(ec2, "RunInstances", &id, InstanceStateName::Running).await? else {
        return Err(gone("RunInstances", &id));
    };
    let mut made = remote(&target, &instance, read_root(ec2, &instance).await?);
    made.attrs.insert("user_data".into(), attrs.get("user_data").cloned().unwrap_or(Value::Null));
    Ok(made)
}

fn metadata(require_tokens: bool, hop_limit: i32) -> InstanceMetadataOptionsRequest {
    let tokens = if require_tokens { HttpTokensState::Required } else { HttpTokensState::Optional };
    InstanceMetadataOptionsRequest::builder().http_tokens(tokens).http_put_response_hop_limit(hop_limit).build()
}

/// `metadata_hop_limit`, 1 unless set.
#[allow(clippy::cast_possible_truncation)]
fn hop_limit(attrs: &Attrs) -> i32 {
    attrs.get("metadata_hop_limit").and_then(Value::as_f64).map_or(1, |n| n as i32)
}

/// The root device of the image, with the size, type and encryption
/// asked for. The plan has checked that the image exists; one gone since
/// is an error, never a guess at the device's name (a wrong name adds a
/// second volume and leaves the root one as the image made it).
async fn root_mapping(
    ec2: &aws_sdk_ec2::Client,
    image: &str,
    root: &serde_json::Map<String, Value>,
) -> Result<BlockDeviceMapping, ProviderError> {
    let Some(device) = root_device(ec2, image).await? else {
        return Err(ProviderError::Api {
            operation: "DescribeImages".into(),
            message: format!("image `{image}` does not exist in this region"),
        });
    };
    #[allow(clippy::cast_possible_truncation)]
    let size = root.get("size").and_then(Value::as_f64).map(|s| s as i32);
    let ebs = EbsBlockDevice::builder()
        .set_volume_size(size)
        .set_volume_type(root.get("type").and_then(Value::as_str).map(VolumeType::from))
        .set_encrypted(root.get("encrypted").and_then(Value::as_bool))
        .delete_on_termination(true)
        .build();
    Ok(BlockDeviceMapping::builder().device_name(device).ebs(ebs).build())
}

/// The instance as described; `None` once it is gone (or not visible yet).
async fn described(ec2: &aws_sdk_ec2::Client, id: &str) -> Result<Option<Instance>, ProviderError> {
    match ec2.describe_instances().instance_ids(id).send().await {
        Ok(out) => Ok(out.reservations().iter().flat_map(|r| r.instances()).next().cloned()),
        Err(e) if code(&e).as_deref() == Some(NOT_FOUND) => Ok(None),
        Err(e) => Err(api("DescribeInstances", e)),
    }
}

async fn wait_until(
    ec2: &aws_sdk_ec2::Client,
    operation: &str,
    id: &str,
    wanted: InstanceStateName,
) -> Result<Option<Instance>, ProviderError> {
    wait_for(operation, CHECKS, || async {
        let instance = described(ec2, id).await?;
        let state = instance.as_ref().and_then(|i| i.state()).and_then(|s| s.name().cloned());
        Ok(match state {
            Some(s) if s == wanted => Poll::Ready(instance),
            None if wanted == InstanceStateName::Terminated => Poll::Ready(None),
            Some(InstanceStateName::Terminated) => Poll::Failed(format!("{id} terminated")),
            Some(other) => Poll::Waiting(other.as_str().to_string()),
            None => Poll::Waiting("not visible yet".into()),
        })
    })
    .await
}

pub async fn read(ec2: &aws_sdk_ec2::Client, target: Target<'_>, id: &str) -> Result<Option<Remote>, ProviderError> {
    let out = match ec2.describe_instances().instance_ids(id).send().await {
        Ok(out) => out,
        Err(e) if code(&e).as_deref() == Some(NOT_FOUND) => return Ok(None),
        Err(e) => return Err(api("DescribeInstances", e)),
    };
    let Some(instance) = out.reservations().iter().flat_map(|r| r.instances()).next() else { return Ok(None) };
    if terminated(instance) {
        return Ok(None);
    }
    let user_data = ec2
        .describe_instance_attribute()
        .instance_id(id)
        .attribute(aws_sdk_ec2::types::InstanceAttributeName::UserData)
        .send()
        .await
        .map_err(|e| api("DescribeInstanceAttribute", e))?
        .user_data()
        .and_then(|v| v.value())
        .and_then(|b64| base64::engine::general_purpose::STANDARD.decode(b64).ok())
        .map(|bytes| String::from_utf8_lossy(&bytes).into_owned());
    let root = read_root(ec2, instance).await?;
    let mut remote = remote(&target, instance, root);
    remote.attrs.insert("user_data".into(), json!(user_data));
    if instance.iam_instance_profile().is_some() {
        let profile = profiles(ec2, &[id.to_string()]).await?.remove(id);
        remote.attrs.insert("iam_instance_profile".into(), json!(profile));
    }
    Ok(Some(remote))
}

/// Terminated, or on its way.
pub fn terminated(instance: &Instance) -> bool {
    let state = instance.state().and_then(|s| s.name());
    matches!(state, Some(InstanceStateName::Terminated | InstanceStateName::ShuttingDown))
}

/// An instance as the state keeps it, but for its user data, which only
/// DescribeInstanceAttribute shows, one instance per call. `root` is its
/// root volume's settings (`root_volume_of`).
pub fn remote(target: &Target<'_>, instance: &Instance, root: Value) -> Remote {
    let id = instance.instance_id().unwrap_or_default();
    let mut groups: Vec<&str> = instance.security_groups().iter().filter_map(|g| g.group_id()).collect();
    groups.sort_unstable();
    let tokens = instance.metadata_options().and_then(|m| m.http_tokens());
    let mut attrs = Attrs::new();
    attrs.insert("id".into(), json!(id));
    attrs.insert("image".into(), json!(instance.image_id().unwrap_or_default()));
    attrs.insert("type".into(), json!(instance.instance_type().map(InstanceType::as_str).unwrap_or_default()));
    attrs.insert("key_pair".into(), json!(instance.key_name()));
    attrs.insert("subnet".into(), json!(instance.subnet_id().unwrap_or_default()));
    attrs.insert("security_groups".into(), json!(groups));
    attrs.insert("require_imdsv2".into(), json!(tokens == Some(&HttpTokensState::Required)));
    attrs.insert(
        "metadata_hop_limit".into(),
        json!(instance.metadata_options().and_then(|m| m.http_put_response_hop_limit()).unwrap_or(1)),
    );
    attrs.insert("private_ip".into(), json!(instance.private_ip_address()));
    attrs.insert(
        "iam_instance_profile".into(),
        json!(instance.iam_instance_profile().and_then(|p| p.arn()).map(profile_name)),
    );
    attrs.insert("public_ip".into(), json!(instance.public_ip_address()));
    attrs.insert("private_dns".into(), json!(instance.private_dns_name().unwrap_or_default()));
    attrs.insert("public_dns".into(), json!(instance.public_dns_name().unwrap_or_default()));
    attrs.insert("zone".into(), json!(instance.placement().and_then(|p| p.availability_zone()).unwrap_or_default()));
    attrs.insert("root_volume".into(), root);
    attrs.insert("tags".into(), tags_attr(target, instance.tags()));
    Remote { id: id.into(), attrs }
}

/// A profile's name from its ARN (`arn:aws:iam::ACCOUNT:instance-profile/PATH/NAME`).
fn profile_name(arn: &str) -> &str {
    arn.rsplit('/').next().unwrap_or(arn)
}

/// The instance profile each of `instances` has, by instance id, as its
/// association says (DescribeInstances may show the one it replaced for a
/// while, and the local emulator keeps showing the first one for good).
/// One call per 200 instances, made only when one of them has or had a
/// profile.
pub async fn profiles(
    ec2: &aws_sdk_ec2::Client,
    instances: &[String],
) -> Result<std::collections::BTreeMap<String, String>, ProviderError> {
    let mut found = std::collections::BTreeMap::new();
    for chunk in instances.chunks(200) {
        let filter = aws_sdk_ec2::types::Filter::builder().name("instance-id").set_values(Some(chunk.to_vec())).build();
        let mut pages =
            ec2.describe_iam_instance_profile_associations().filters(filter).into_paginator().items().send();
        while let Some(association) = pages.next().await {
            let association = association.map_err(|e| api("DescribeIamInstanceProfileAssociations", e))?;
            let live = association.state().is_some_and(|s| matches!(s.as_str(), "associated" | "associating"));
            if let (true, Some(instance), Some(arn)) =
                (live, association.instance_id(), association.iam_instance_profile().and_then(|p| p.arn()))
            {
                found.insert(instance.to_string(), profile_name(arn).to_string());
            }
        }
    }
    Ok(found)
}

/// Whether an instance has or had a profile: its profile is then read from
/// its association (`profiles`).
pub fn has_profile(instance: &Instance, stored: Option<&Attrs>) -> bool {
    instance.iam_instance_profile().is_some()
        || stored.and_then(|a| a.get("iam_instance_profile")).is_some_and(|p| p.as_str().is_some_and(|p| !p.is_empty()))
}

/// Give the instance `profile`'s role, or none: associate, replace the
/// association, or remove it.
async fn set_profile(ec2: &aws_sdk_ec2::Client, id: &str, profile: Option<&str>) -> Result<(), ProviderError> {
    let filter = aws_sdk_ec2::types::Filter::builder().name("instance-id").values(id).build();
    let out = ec2
        .describe_iam_instance_profile_associations()
        .filters(filter)
        .send()
        .await
        .map_err(|e| api("DescribeIamInstanceProfileAssociations", e))?;
    let current = out
        .iam_instance_profile_associations()
        .iter()
        .find(|a| a.state().is_some_and(|s| s.as_str() == "associated" || s.as_str() == "associating"))
        .and_then(|a| a.association_id());
    let spec = |name: &str| IamInstanceProfileSpecification::builder().name(name).build();
    match (current, profile) {
        (Some(association), Some(name)) => visible(|| {
            ec2.replace_iam_instance_profile_association()
                .association_id(association)
                .iam_instance_profile(spec(name))
                .send()
        })
        .await
        .map(drop)
        .map_err(|e| api("ReplaceIamInstanceProfileAssociation", e)),
        (None, Some(name)) => {
            visible(|| ec2.associate_iam_instance_profile().instance_id(id).iam_instance_profile(spec(name)).send())
                .await
                .map(drop)
                .map_err(|e| api("AssociateIamInstanceProfile", e))
        }
        (Some(association), None) => ec2
            .disassociate_iam_instance_profile()
            .association_id(association)
            .send()
            .await
            .map(drop)
            .map_err(|e| api("DisassociateIamInstanceProfile", e)),
        (None, None) => Ok(()),
    }
}

/// The id of an instance's root volume, if it has one.
pub fn root_volume_id(instance: &Instance) -> Option<&str> {
    let root = instance.root_device_name();
    instance
        .block_device_mappings()
        .iter()
        .find(|m| m.device_name() == root)
        .and_then(|m| m.ebs())
        .and_then(|e| e.volume_id())
}

/// A root volume's settings as the state keeps them.
pub fn root_volume_of(volume: Option<&Volume>) -> Value {
    volume.map_or(Value::Null, |v| {
        json!({
            "size": v.size(),
            "type": v.volume_type().map(VolumeType::as_str),
            "encrypted": v.encrypted().unwrap_or(false),
        })
    })
}

async fn read_root(ec2: &aws_sdk_ec2::Client, instance: &Instance) -> Result<Value, ProviderError> {
    let Some(volume) = root_volume_id(instance) else { return Ok(Value::Null) };
    let out = match ec2.describe_volumes().volume_ids(volume).send().await {
        Ok(out) => out,
        Err(e) if code(&e).as_deref() == Some("InvalidVolume.NotFound") => return Ok(Value::Null),
        Err(e) => return Err(api("DescribeVolumes", e)),
    };
    Ok(root_volume_of(out.volumes().first()))
}

pub async fn update(
    ec2: &aws_sdk_ec2::Client,
    target: Target<'_>,
    id: &str,
    before: &Attrs,
    after: &Attrs,
) -> Result<Remote, ProviderError> {
    let instance_type = string(after, "type");
    if string(before, "type") != instance_type {
        change_type(ec2, id, &instance_type).await?;
    }
    let groups = sorted_strings(after, "security_groups");
    if sorted_strings(before, "security_groups") != groups && !groups.is_empty() {
        ec2.modify_instance_attribute()
            .instance_id(id)
            .set_groups(Some(groups))
            .send()
            .await
            .map_err(|e| api("ModifyInstanceAttribute", e))?;
    }
    let profile =
        |a: &Attrs| a.get("iam_instance_profile").and_then(Value::as_str).filter(|p| !p.is_empty()).map(str::to_string);
    let new_profile = profile(before) != profile(after);
    if new_profile {
        set_profile(ec2, id, profile(after).as_deref()).await?;
    }
    let tokens = flag(after, "require_imdsv2").unwrap_or(true);
    if flag(before, "require_imdsv2") != Some(tokens) || hop_limit(before) != hop_limit(after) {
        let state = if tokens { HttpTokensState::Required } else { HttpTokensState::Optional };
        ec2.modify_instance_metadata_options()
            .instance_id(id)
            .http_tokens(state)
            .http_put_response_hop_limit(hop_limit(after))
            .send()
            .await
            .map_err(|e| api("ModifyInstanceMetadataOptions", e))?;
    }
    retag(ec2, id, &target, before, after).await?;
    let mut read = read(ec2, target, id).await?.ok_or_else(|| gone("ModifyInstanceAttribute", id))?;
    if new_profile {
        let profile = profiles(ec2, &[id.to_string()]).await?.remove(id);
        read.attrs.insert("iam_instance_profile".into(), json!(profile));
    }
    Ok(read)
}

/// Stop, change the type, start: the one way AWS changes a type in place.
async fn change_type(ec2: &aws_sdk_ec2::Client, id: &str, instance_type: &str) -> Result<(), ProviderError> {
    ec2.stop_instances().instance_ids(id).send().await.map_err(|e| api("StopInstances", e))?;
    wait_until(ec2, "StopInstances", id, InstanceStateName::Stopped).await?;
    ec2.modify_instance_attribute()
        .instance_id(id)
        .instance_type(AttributeValue::builder().value(instance_type).build())
        .send()
        .await
        .map_err(|e| api("ModifyInstanceAttribute", e))?;
    // Starting right after a stop can meet IncorrectInstanceState.
    retry_while(
        "StartInstances",
        |c| c == "IncorrectInstanceState",
        || async {
            ec2.start_instances()
                .instance_ids(id)
                .send()
                .await
                .map(|_| ())
                .map_err(|e| (code(&e), api("StartInstances", e)))
        },
    )
    .await?;
    wait_until(ec2, "StartInstances", id, InstanceStateName::Running).await.map(drop)
}

pub async fn delete(ec2: &aws_sdk_ec2::Client, id: &str) -> Result<(), ProviderError> {
    match ec2.terminate_instances().instance_ids(id).send().await {
        Ok(_) => {}
        Err(e) if code(&e).as_deref() == Some(NOT_FOUND) => return Ok(()),
        Err(e) => return Err(api("TerminateInstances", e)),
    }
    wait_until(ec2, "TerminateInstances", id, InstanceStateName::Terminated).await.map(drop)
}
