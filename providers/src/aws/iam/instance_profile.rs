//! `iam_instance_profile`: CreateInstanceProfile (tagged in the call) and
//! AddRoleToInstanceProfile; the role changes in place (removed, then the
//! new one added); the role is removed before DeleteInstanceProfile.

use aws_sdk_iam::types::InstanceProfile;
use k8sinfra_engine::provider::{Attrs, ProviderError, Remote, Target};
use serde_json::json;

use super::super::attrs::string;
use super::super::consistency::read_back;
use super::super::errors::{api, code, retry_until, PROPAGATION};
use super::super::tags::{owned_tags, removed_tag_keys, tags_json};
use super::{owned_by, sdk_tags, Iam, NO_SUCH_ENTITY};

pub async fn create(iam: &Iam, target: Target<'_>, attrs: &Attrs) -> Result<Remote, ProviderError> {
    let name = string(attrs, "name");
    let created = iam
        .create_instance_profile()
        .instance_profile_name(&name)
        .set_tags(Some(sdk_tags("TagInstanceProfile", &target, attrs)?))
        .send()
        .await;
    match created {
        Ok(_) => {}
        // Sent again after a lost answer: the profile it made, by its tags.
        Err(e) if code(&e).as_deref() == Some("EntityAlreadyExists") => match get(iam, &target, &name).await? {
            Some((_, true)) => {}
            _ => {
                return Err(ProviderError::Api {
                    operation: "CreateInstanceProfile".into(),
                    message: format!(
                        "an instance profile named {name} exists and is not this resource's (IAM names are \
                         global to the account): choose another `name`, or `k8sinfra import` it"
                    ),
                })
            }
        },
        Err(e) => return Err(api("CreateInstanceProfile", e)),
    }
    set_role(iam, &name, None, &string(attrs, "role")).await?;
    read_new(iam, &target, &name).await
}

/// Put `role` in the profile in place of `old` (a profile holds one).
async fn set_role(iam: &Iam, name: &str, old: Option<&str>, role: &str) -> Result<(), ProviderError> {
    if let Some(old) = old.filter(|o| !o.is_empty() && *o != role) {
        match iam.remove_role_from_instance_profile().instance_profile_name(name).role_name(old).send().await {
            Ok(_) => {}
            Err(e) if code(&e).as_deref() == Some(NO_SUCH_ENTITY) => {}
            Err(e) => return Err(api("RemoveRoleFromInstanceProfile", e)),
        }
    }
    // The profile and the role may both have been made moments ago.
    retry_until(
        "AddRoleToInstanceProfile",
        |c| c == NO_SUCH_ENTITY,
        PROPAGATION,
        || async {
            match iam.add_role_to_instance_profile().instance_profile_name(name).role_name(role).send().await {
                Ok(_) => Ok(()),
                // The role is there already: a lost answer's repeat.
                Err(e) if code(&e).as_deref() == Some("LimitExceeded") && holds(iam, name, role).await => Ok(()),
                Err(e) => Err((code(&e), api("AddRoleToInstanceProfile", e))),
            }
        },
    )
    .await
}

async fn holds(iam: &Iam, name: &str, role: &str) -> bool {
    let Ok(out) = iam.get_instance_profile().instance_profile_name(name).send().await else { return false };
    out.instance_profile().is_some_and(|p| p.roles().iter().any(|r| r.role_name() == role))
}

/// A profile just made or changed, read until IAM shows it.
async fn read_new(iam: &Iam, target: &Target<'_>, name: &str) -> Result<Remote, ProviderError> {
    read_back("GetInstanceProfile", name, || read(iam, target, name)).await
}

pub async fn read(iam: &Iam, target: &Target<'_>, name: &str) -> Result<Option<Remote>, ProviderError> {
    Ok(get(iam, target, name).await?.map(|(remote, _)| remote))
}

/// The profile, and whether its tags say it is `target`'s.
pub async fn get(iam: &Iam, target: &Target<'_>, name: &str) -> Result<Option<(Remote, bool)>, ProviderError> {
    let out = match iam.get_instance_profile().instance_profile_name(name).send().await {
        Ok(out) => out,
        Err(e) if code(&e).as_deref() == Some(NO_SUCH_ENTITY) => return Ok(None),
        Err(e) => return Err(api("GetInstanceProfile", e)),
    };
    let Some(profile) = out.instance_profile() else { return Ok(None) };
    let owned = owned_by(profile.tags().iter().map(|t| (t.key(), t.value())), target);
    Ok(Some((remote(target, profile), owned)))
}

fn remote(target: &Target<'_>, profile: &InstanceProfile) -> Remote {
    let name = profile.instance_profile_name();
    let mut attrs = Attrs::new();
    attrs.insert("id".into(), json!(name));
    attrs.insert("name".into(), json!(name));
    attrs.insert("arn".into(), json!(profile.arn()));
    attrs.insert("role".into(), json!(profile.roles().first().map(|r| r.role_name()).unwrap_or_default()));
    attrs.insert("tags".into(), tags_json(target, profile.tags().iter().map(|t| (t.key(), t.value()))));
    Remote { id: name.to_string(), attrs }
}

pub async fn update(
    iam: &Iam,
    target: Target<'_>,
    name: &str,
    before: &Attrs,
    after: &Attrs,
) -> Result<Remote, ProviderError> {
    let (old, role) = (string(before, "role"), string(after, "role"));
    if old != role {
        set_role(iam, name, Some(&old), &role).await?;
    }
    if owned_tags(&target, before) != owned_tags(&target, after) {
        let removed = removed_tag_keys(&target, before, after);
        if !removed.is_empty() {
            iam.untag_instance_profile()
                .instance_profile_name(name)
                .set_tag_keys(Some(removed))
                .send()
                .await
                .map_err(|e| api("UntagInstanceProfile", e))?;
        }
        iam.tag_instance_profile()
            .instance_profile_name(name)
            .set_tags(Some(sdk_tags("TagInstanceProfile", &target, after)?))
            .send()
            .await
            .map_err(|e| api("TagInstanceProfile", e))?;
    }
    read_new(iam, &target, name).await
}

/// Its role out, then the profile. An instance still using it keeps its
/// credentials until it is replaced; the graph deletes instances first.
pub async fn delete(iam: &Iam, name: &str) -> Result<(), ProviderError> {
    let out = match iam.get_instance_profile().instance_profile_name(name).send().await {
        Ok(out) => out,
        Err(e) if code(&e).as_deref() == Some(NO_SUCH_ENTITY) => return Ok(()),
        Err(e) => return Err(api("GetInstanceProfile", e)),
    };
    for role in out.instance_profile().map(InstanceProfile::roles).unwrap_or_default() {
        match iam
            .remove_role_from_instance_profile()
            .instance_profile_name(name)
            .role_name(role.role_name())
            .send()
            .await
        {
            Ok(_) => {}
            Err(e) if code(&e).as_deref() == Some(NO_SUCH_ENTITY) => {}
            Err(e) => return Err(api("RemoveRoleFromInstanceProfile", e)),
        }
    }
    retry_until(
        "DeleteInstanceProfile",
        |c| c == "DeleteConflict",
        PROPAGATION,
        || async {
            match iam.delete_instance_profile().instance_profile_name(name).send().await {
                Ok(_) => Ok(()),
                Err(e) if code(&e).as_deref() == Some(NO_SUCH_ENTITY) => Ok(()),
                Err(e) => Err((code(&e), api("DeleteInstanceProfile", e))),
            }
        },
    )
    .await
}
