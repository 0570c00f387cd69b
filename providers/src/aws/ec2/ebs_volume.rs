//! `ebs_volume`: CreateVolume (tagged in the call), then waits until it is
//! available. Size and type change in place (ModifyVolume); a volume still
//! detaching is retried on delete.

use aws_sdk_ec2::types::{ResourceType, Volume, VolumeState, VolumeType};
use k8sinfra_engine::provider::{Attrs, ProviderError, Remote, Target};
use serde_json::{json, Value};

use super::super::errors::{api, code, create_once, keyed, wait_for, Poll};
use super::vpc::gone;
use super::{flag, found, once, retag, string, tag_spec, tags_attr};

pub(super) const NOT_FOUND: &str = "InvalidVolume.NotFound";

/// How long a volume may take to become available or go (Terraform: 5 min).
const CHECKS: std::time::Duration = std::time::Duration::from_secs(5 * 60);

#[allow(clippy::cast_possible_truncation)]
fn size(attrs: &Attrs) -> Option<i32> {
    attrs.get("size").and_then(Value::as_f64).map(|s| s as i32)
}

pub async fn create(ec2: &aws_sdk_ec2::Client, target: Target<'_>, attrs: &Attrs) -> Result<Remote, ProviderError> {
    let id = create_once(
        "CreateVolume",
        keyed(target.token, || found(ec2, &target)),
        || {
            ec2.create_volume()
                .availability_zone(string(attrs, "zone"))
                .set_size(size(attrs))
                .volume_type(VolumeType::from(string(attrs, "type").as_str()))
                .set_encrypted(flag(attrs, "encrypted"))
                .tag_specifications(tag_spec(ResourceType::Volume, &target, attrs))
                .set_client_token(target.token.map(str::to_string))
                .customize()
                .config_override(once())
                .send()
        },
        |out| out.volume_id().unwrap_or_default().to_string(),
    )
    .await?;
    // What the wait saw last is as fresh as a read.
    let volume = wait_state(ec2, "CreateVolume", &id, &VolumeState::Available).await?;
    remote(&target, &volume).ok_or_else(|| gone("CreateVolume", &id))
}

/// The volume as described; `None` when AWS does not know it.
pub(super) async fn described(ec2: &aws_sdk_ec2::Client, id: &str) -> Result<Option<Volume>, ProviderError> {
    match ec2.describe_volumes().volume_ids(id).send().await {
        Ok(out) => Ok(out.volumes().first().cloned()),
        Err(e) if code(&e).as_deref() == Some(NOT_FOUND) => Ok(None),
        Err(e) => Err(api("DescribeVolumes", e)),
    }
}

async fn wait_state(
    ec2: &aws_sdk_ec2::Client,
    operation: &str,
    id: &str,
    wanted: &VolumeState,
) -> Result<Volume, ProviderError> {
    wait_for(operation, CHECKS, || async {
        Ok(match described(ec2, id).await? {
            Some(volume) if volume.state() == Some(wanted) => Poll::Ready(volume),
            Some(volume) if volume.state() == Some(&VolumeState::Error) => Poll::Failed(format!("{id} is in error")),
            Some(volume) => Poll::Waiting(volume.state().map_or("unknown", VolumeState::as_str).to_string()),
            None => Poll::Waiting("not visible yet".into()),
        })
    })
    .await
}

pub async fn read(ec2: &aws_sdk_ec2::Client, target: Target<'_>, id: &str) -> Result<Option<Remote>, ProviderError> {
    let out = match ec2.describe_volumes().volume_ids(id).send().await {
        Ok(out) => out,
        Err(e) if code(&e).as_deref() == Some(NOT_FOUND) => return Ok(None),
        Err(e) => return Err(api("DescribeVolumes", e)),
    };
    Ok(out.volumes().first().and_then(|volume| remote(&target, volume)))
}

/// A volume as the state keeps it; `None` once it is being deleted.
pub fn remote(target: &Target<'_>, volume: &Volume) -> Option<Remote> {
    if matches!(volume.state(), Some(VolumeState::Deleted | VolumeState::Deleting)) {
        return None;
    }
    let id = volume.volume_id().unwrap_or_default();
    let mut attrs = Attrs::new();
    attrs.insert("id".into(), json!(id));
    attrs.insert("zone".into(), json!(volume.availability_zone().unwrap_or_default()));
    attrs.insert("size".into(), json!(volume.size()));
    attrs.insert("type".into(), json!(volume.volume_type().map(VolumeType::as_str)));
    attrs.insert("encrypted".into(), json!(volume.encrypted().unwrap_or(false)));
    attrs.insert("tags".into(), tags_attr(target, volume.tags()));
    Some(Remote { id: id.into(), attrs })
}

pub async fn update(
    ec2: &aws_sdk_ec2::Client,
    target: Target<'_>,
    id: &str,
    before: &Attrs,
    after: &Attrs,
) -> Result<Remote, ProviderError> {
    let (new_size, new_type) = (size(after), string(after, "type"));
    if size(before) != new_size || string(before, "type") != new_type {
        ec2.modify_volume()
            .volume_id(id)
            .set_size(new_size)
            .volume_type(VolumeType::from(new_type.as_str()))
            .send()
            .await
            .map_err(|e| api("ModifyVolume", e))?;
    }
    retag(ec2, id, &target, before, after).await?;
    read(ec2, target, id).await?.ok_or_else(|| gone("ModifyVolume", id))
}

pub async fn delete(ec2: &aws_sdk_ec2::Client, id: &str) -> Result<(), ProviderError> {
    super::super::errors::retry_until(
        "DeleteVolume",
        // Still attached to an instance that is terminating (minutes on
        // AWS, when the attachment went with it).
        |c| c == "VolumeInUse" || c == "IncorrectState",
        super::super::errors::DEPENDENTS_BUDGET,
        || async {
            match ec2.delete_volume().volume_id(id).send().await {
                Ok(_) => Ok(()),
                Err(e) if code(&e).as_deref() == Some(NOT_FOUND) => Ok(()),
                Err(e) => Err((code(&e), api("DeleteVolume", e))),
            }
        },
    )
    .await
}
