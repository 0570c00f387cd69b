//! `iam_role`: CreateRole (tagged in the call), its trust policy and
//! description changed in place, DeleteRole once its policies and profiles
//! are gone.

use aws_sdk_iam::types::Role;
use k8sinfra_engine::provider::{Attrs, ProviderError, Remote, Target};
use serde_json::json;

use super::super::attrs::string;
use super::super::consistency::read_back;
use super::super::errors::{api, code, retry_until, PROPAGATION};
use super::super::tags::{owned_tags, removed_tag_keys, tags_json};
use super::policy::decoded;
use super::{owned_by, sdk_tags, Iam, NO_SUCH_ENTITY};

pub async fn create(iam: &Iam, target: Target<'_>, attrs: &Attrs) -> Result<Remote, ProviderError> {
    let name = string(attrs, "name");
    let description = string(attrs, "description");
    // A role is named: sent again after a lost answer, the call meets the
    // role it made (EntityAlreadyExists), adopted by its tags.
    let created = iam
        .create_role()
        .role_name(&name)
        .assume_role_policy_document(string(attrs, "assume_role_policy"))
        .set_description(Some(description).filter(|d| !d.is_empty()))
        .set_tags(Some(sdk_tags("TagRole", &target, attrs)?))
        .send()
        .await;
    match created {
        Ok(out) => {
            if let Some(role) = out.role() {
                return Ok(remote(&target, role, attrs.get("assume_role_policy").and_then(|v| v.as_str())));
            }
        }
        Err(e) if code(&e).as_deref() == Some("EntityAlreadyExists") => match get(iam, &target, &name).await? {
            Some((role, true)) => return update(iam, target, &name, &role.attrs, attrs).await,
            _ => {
                return Err(ProviderError::Api {
                    operation: "CreateRole".into(),
                    message: format!(
                        "a role named {name} exists and is not this resource's (IAM names are global to the \
                         account): choose another `name`, or `k8sinfra import` it"
                    ),
                })
            }
        },
        Err(e) => return Err(api("CreateRole", e)),
    }
    read_new(iam, &target, &name).await
}

/// A role just made or changed, read until IAM shows it.
async fn read_new(iam: &Iam, target: &Target<'_>, name: &str) -> Result<Remote, ProviderError> {
    read_back("GetRole", name, || read(iam, target, name)).await
}

pub async fn read(iam: &Iam, target: &Target<'_>, name: &str) -> Result<Option<Remote>, ProviderError> {
    Ok(get(iam, target, name).await?.map(|(remote, _)| remote))
}

/// The role, and whether its tags say it is `target`'s.
pub async fn get(iam: &Iam, target: &Target<'_>, name: &str) -> Result<Option<(Remote, bool)>, ProviderError> {
    let out = match iam.get_role().role_name(name).send().await {
        Ok(out) => out,
        Err(e) if code(&e).as_deref() == Some(NO_SUCH_ENTITY) => return Ok(None),
        Err(e) => return Err(api("GetRole", e)),
    };
    let Some(role) = out.role() else { return Ok(None) };
    let owned = owned_by(role.tags().iter().map(|t| (t.key(), t.value())), target);
    Ok(Some((remote(target, role, None), owned)))
}

/// A role as the state keeps it. `sent` is the trust policy as written,
/// for an answer that carries it URL-encoded.
fn remote(target: &Target<'_>, role: &Role, sent: Option<&str>) -> Remote {
    let name = role.role_name();
    let trust = role.assume_role_policy_document().map(decoded);
    let mut attrs = Attrs::new();
    attrs.insert("id".into(), json!(name));
    attrs.insert("name".into(), json!(name));
    attrs.insert("arn".into(), json!(role.arn()));
    attrs.insert("unique_id".into(), json!(role.role_id()));
    attrs.insert("assume_role_policy".into(), json!(trust.as_deref().or(sent).unwrap_or_default()));
    attrs.insert("description".into(), json!(role.description().unwrap_or_default()));
    attrs.insert("tags".into(), tags_json(target, role.tags().iter().map(|t| (t.key(), t.value()))));
    Remote { id: name.to_string(), attrs }
}

pub async fn update(
    iam: &Iam,
    target: Target<'_>,
    name: &str,
    before: &Attrs,
    after: &Attrs,
) -> Result<Remote, ProviderError> {
    let changed = |attr: &str| {
        let canonical = |a: &Attrs| super::canonical("iam_role", attr, a.get(attr).cloned().unwrap_or_default());
        canonical(before) != canonical(after)
    };
    if changed("assume_role_policy") {
        iam.update_assume_role_policy()
            .role_name(name)
            .policy_document(string(after, "assume_role_policy"))
            .send()
            .await
            .map_err(|e| api("UpdateAssumeRolePolicy", e))?;
    }
    if changed("description") {
        iam.update_role()
            .role_name(name)
            .description(string(after, "description"))
            .send()
            .await
            .map_err(|e| api("UpdateRole", e))?;
    }
    if owned_tags(&target, before) != owned_tags(&target, after) {
        let removed = removed_tag_keys(&target, before, after);
        if !removed.is_empty() {
            iam.untag_role()
                .role_name(name)
                .set_tag_keys(Some(removed))
                .send()
                .await
                .map_err(|e| api("UntagRole", e))?;
        }
        let tags = sdk_tags("TagRole", &target, after)?;
        iam.tag_role().role_name(name).set_tags(Some(tags)).send().await.map_err(|e| api("TagRole", e))?;
    }
    read_new(iam, &target, name).await
}

/// DeleteRole. Its inline policies and profiles go first (the graph orders
/// them so); IAM may still see them for a moment (`DeleteConflict`), which
/// is retried for `PROPAGATION`. Policies or profiles someone else added
/// keep refusing, and the error says so.
pub async fn delete(iam: &Iam, name: &str) -> Result<(), ProviderError> {
    retry_until(
        "DeleteRole",
        |c| c == "DeleteConflict",
        PROPAGATION,
        || async {
            match iam.delete_role().role_name(name).send().await {
                Ok(_) => Ok(()),
                Err(e) if code(&e).as_deref() == Some(NO_SUCH_ENTITY) => Ok(()),
                Err(e) => Err((code(&e), api("DeleteRole", e))),
            }
        },
    )
    .await
}
