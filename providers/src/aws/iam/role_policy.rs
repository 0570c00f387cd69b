//! `iam_role_policy`: PutRolePolicy writes the whole document (create and
//! update alike; a repeat is harmless), GetRolePolicy reads it back. Its id
//! is `ROLE:NAME`.

use k8sinfra_engine::provider::{Attrs, ProviderError, Remote};
use serde_json::json;

use super::super::attrs::string;
use super::super::errors::{api, code, retry_until, PROPAGATION};
use super::policy::decoded;
use super::{Iam, NO_SUCH_ENTITY};

fn split(id: &str) -> (&str, &str) {
    id.split_once(':').unwrap_or((id, ""))
}

pub async fn put(iam: &Iam, attrs: &Attrs) -> Result<Remote, ProviderError> {
    let (role, name, document) = (string(attrs, "role"), string(attrs, "name"), string(attrs, "policy"));
    // The role may have been made moments ago.
    retry_until(
        "PutRolePolicy",
        |c| c == NO_SUCH_ENTITY,
        PROPAGATION,
        || async {
            iam.put_role_policy()
                .role_name(&role)
                .policy_name(&name)
                .policy_document(&document)
                .send()
                .await
                .map(drop)
                .map_err(|e| (code(&e), api("PutRolePolicy", e)))
        },
    )
    .await?;
    Ok(remote(&role, &name, &document))
}

fn remote(role: &str, name: &str, document: &str) -> Remote {
    let id = format!("{role}:{name}");
    let mut attrs = Attrs::new();
    attrs.insert("id".into(), json!(id));
    attrs.insert("role".into(), json!(role));
    attrs.insert("name".into(), json!(name));
    attrs.insert("policy".into(), json!(document));
    Remote { id, attrs }
}

pub async fn read(iam: &Iam, id: &str) -> Result<Option<Remote>, ProviderError> {
    let (role, name) = split(id);
    match iam.get_role_policy().role_name(role).policy_name(name).send().await {
        Ok(out) => Ok(Some(remote(role, name, &decoded(out.policy_document())))),
        Err(e) if code(&e).as_deref() == Some(NO_SUCH_ENTITY) => Ok(None),
        Err(e) => Err(api("GetRolePolicy", e)),
    }
}

pub async fn delete(iam: &Iam, id: &str) -> Result<(), ProviderError> {
    let (role, name) = split(id);
    match iam.delete_role_policy().role_name(role).policy_name(name).send().await {
        Ok(_) => Ok(()),
        Err(e) if code(&e).as_deref() == Some(NO_SUCH_ENTITY) => Ok(()),
        Err(e) => Err(api("DeleteRolePolicy", e)),
    }
}
