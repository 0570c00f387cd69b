//! `volume_attachment`: AttachVolume, then waits until attached. It has no
//! tags of its own; its id is `VOLUME:INSTANCE:DEVICE`, and an attach that
//! finds the volume already on that instance at that device (an earlier
//! run interrupted after the call) counts as done.

use aws_sdk_ec2::types::{Volume, VolumeAttachmentState, VolumeState};
use k8sinfra_engine::provider::{Attrs, ProviderError, Remote, Target};
use serde_json::json;

use super::super::errors::{api, code, retry_while, wait_for, Poll};
use super::ebs_volume;
use super::string;

/// How long an attachment may take to settle (Terraform: 5 min).
const CHECKS: std::time::Duration = std::time::Duration::from_secs(5 * 60);

/// How long a detach may wait for the volume to be released: AWS keeps it
/// `busy` while the host has it mounted, which can be for good; ten
/// minutes is twice Terraform's default, for a host that unmounts late.
const DETACH: std::time::Duration = std::time::Duration::from_secs(10 * 60);

fn parts(id: &str) -> Option<(&str, &str, &str)> {
    let mut it = id.splitn(3, ':');
    Some((it.next()?, it.next()?, it.next()?))
}

/// The attachment of `volume` to `instance`: (device, state).
async fn attachment(
    ec2: &aws_sdk_ec2::Client,
    volume: &str,
    instance: &str,
) -> Result<Option<(String, Option<VolumeAttachmentState>)>, ProviderError> {
    Ok(ebs_volume::described(ec2, volume).await?.and_then(|v| attachment_of(&v, instance)))
}

/// The attachment of `volume` to `instance` as a describe shows it.
fn attachment_of(volume: &Volume, instance: &str) -> Option<(String, Option<VolumeAttachmentState>)> {
    volume
        .attachments()
        .iter()
        .find(|a| a.instance_id() == Some(instance))
        .map(|a| (a.device().unwrap_or_default().to_string(), a.state().cloned()))
}

/// The attachment `id` names, read from its volume as described; `None`
/// when the volume is not (or no longer) attached there.
pub fn remote(id: &str, volume: &Volume) -> Option<Remote> {
    let (volume_id, instance, _) = parts(id)?;
    let (device, state) = attachment_of(volume, instance)?;
    remote_of(id, volume_id, instance, &device, state)
}

/// The volume id an attachment's id names.
pub fn volume_of(id: &str) -> Option<&str> {
    parts(id).map(|(volume, _, _)| volume)
}

fn remote_of(
    id: &str,
    volume: &str,
    instance: &str,
    device: &str,
    state: Option<VolumeAttachmentState>,
) -> Option<Remote> {
    if matches!(state, Some(VolumeAttachmentState::Detached | VolumeAttachmentState::Detaching)) {
        return None;
    }
    let mut attrs = Attrs::new();
    attrs.insert("id".into(), json!(id));
    attrs.insert("volume".into(), json!(volume));
    attrs.insert("instance".into(), json!(instance));
    attrs.insert("device".into(), json!(device));
    Some(Remote { id: id.into(), attrs })
}

pub async fn create(ec2: &aws_sdk_ec2::Client, _target: Target<'_>, attrs: &Attrs) -> Result<Remote, ProviderError> {
    let (volume, instance, device) = (string(attrs, "volume"), string(attrs, "instance"), string(attrs, "device"));
    // Attached already (an interrupted run's attach) shows as an error
    // (VolumeInUse) that the attachment explains; no look first.
    // A volume or instance just created may not be attachable yet.
    retry_while(
        "AttachVolume",
        |c| c == "IncorrectState" || c == "IncorrectInstanceState" || c.ends_with(".NotFound"),
        || async {
            match ec2.attach_volume().volume_id(&volume).instance_id(&instance).device(&device).send().await {
                Ok(_) => Ok(()),
                // Attached already to this instance: a lost answer's retry.
                Err(e) if attachment(ec2, &volume, &instance).await.ok().flatten().is_some() => {
                    let _ = e;
                    Ok(())
                }
                Err(e) => Err((code(&e), api("AttachVolume", e))),
            }
        },
    )
    .await?;
    // Attached is all a read would say.
    wait_for("AttachVolume", CHECKS, || async {
        Ok(match attachment(ec2, &volume, &instance).await? {
            Some((_, Some(VolumeAttachmentState::Attached))) => Poll::Ready(()),
            Some((_, state)) => Poll::Waiting(state.map_or("attaching".into(), |s| s.as_str().to_string())),
            None => Poll::Waiting("not attached yet".into()),
        })
    })
    .await?;
    let id = format!("{volume}:{instance}:{device}");
    remote_of(&id, &volume, &instance, &device, Some(VolumeAttachmentState::Attached))
        .ok_or_else(|| super::vpc::gone("AttachVolume", &id))
}

pub async fn read(ec2: &aws_sdk_ec2::Client, _target: Target<'_>, id: &str) -> Result<Option<Remote>, ProviderError> {
    let Some((volume, instance, _)) = parts(id) else { return Ok(None) };
    let Some((device, state)) = attachment(ec2, volume, instance).await? else { return Ok(None) };
    Ok(remote_of(id, volume, instance, &device, state))
}

/// DetachVolume (forced with `force`), then a wait until the volume is
/// released. A detach is needed only while the instance stays: deleted in
/// the same run, the instance takes the attachment with it and this is
/// never called (`Provider::released_with`).
pub async fn delete(ec2: &aws_sdk_ec2::Client, id: &str, force: bool) -> Result<(), ProviderError> {
    let Some((volume, instance, device)) = parts(id) else { return Ok(()) };
    match ec2.detach_volume().volume_id(volume).instance_id(instance).device(device).force(force).send().await {
        Ok(_) => {}
        // Gone with its instance or volume, or already detached.
        Err(e) if code(&e).is_some_and(|c| c.ends_with(".NotFound") || c == "IncorrectState") => return Ok(()),
        Err(e) => return Err(api("DetachVolume", e)),
    }
    let waited = wait_for("DetachVolume", DETACH, || async {
        Ok(match ebs_volume::described(ec2, volume).await? {
            None => Poll::Ready(()),
            Some(v) if v.state() == Some(&VolumeState::Available) => Poll::Ready(()),
            Some(v) => match attachment_of(&v, instance) {
                None => Poll::Ready(()),
                Some((_, state)) => Poll::Waiting(state.map_or("detaching".into(), |s| s.as_str().to_string())),
            },
        })
    })
    .await;
    waited.map_err(|e| match e {
        ProviderError::Api { operation, message } if !force => ProviderError::Api {
            operation,
            message: format!(
                "{message}. A volume the host still has mounted stays busy: unmount it there, or set \
                 `force_detach = true` on the attachment (data not yet written may be lost)"
            ),
        },
        other => other,
    })
}
