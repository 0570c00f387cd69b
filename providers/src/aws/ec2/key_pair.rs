//! `key_pair`: ImportKeyPair (tagged in the call). Its id is the key's
//! name, which is what instances are launched with.

use aws_sdk_ec2::primitives::Blob;
use aws_sdk_ec2::types::{KeyPairInfo, ResourceType};
use k8sinfra_engine::provider::{Attrs, ProviderError, Remote, Target};
use serde_json::{json, Value};

use super::super::consistency::read_back;
use super::super::errors::{api, code, create_once, Once};
use super::vpc::gone;
use super::{default_name, delete_idempotent, found, once, retag, string, tag_spec, tags_attr};

const NOT_FOUND: &str = "InvalidKeyPair.NotFound";

/// A public key compared by its type and key material: the comment and
/// the line end are not part of the key, and AWS rewrites them.
pub fn canonical(attr: &str, value: Value) -> Value {
    match (attr, value.as_str()) {
        ("public_key", Some(text)) => Value::String(text.split_whitespace().take(2).collect::<Vec<_>>().join(" ")),
        _ => value,
    }
}

pub async fn create(ec2: &aws_sdk_ec2::Client, target: Target<'_>, attrs: &Attrs) -> Result<Remote, ProviderError> {
    let name = attrs.get("name").and_then(Value::as_str).map_or_else(|| default_name(&target), str::to_string);
    create_once(
        "ImportKeyPair",
        Once::Find(|| found(ec2, &target)),
        || {
            ec2.import_key_pair()
                .key_name(&name)
                .public_key_material(Blob::new(string(attrs, "public_key").into_bytes()))
                .tag_specifications(tag_spec(ResourceType::KeyPair, &target, attrs))
                .customize()
                .config_override(once())
                .send()
        },
        |out| out.key_name().unwrap_or_default().to_string(),
    )
    .await?;
    read_back("ImportKeyPair", &name, || read(ec2, target.clone(), &name)).await
}

pub async fn read(ec2: &aws_sdk_ec2::Client, target: Target<'_>, name: &str) -> Result<Option<Remote>, ProviderError> {
    let out = match ec2.describe_key_pairs().key_names(name).include_public_key(true).send().await {
        Ok(out) => out,
        Err(e) if code(&e).as_deref() == Some(NOT_FOUND) => return Ok(None),
        Err(e) => return Err(api("DescribeKeyPairs", e)),
    };
    Ok(out.key_pairs().first().map(|key| remote(&target, key)))
}

/// A key pair as the state keeps it (its id is its name).
pub fn remote(target: &Target<'_>, key: &KeyPairInfo) -> Remote {
    let name = key.key_name().unwrap_or_default();
    let mut attrs = Attrs::new();
    attrs.insert("id".into(), json!(name));
    attrs.insert("name".into(), json!(name));
    attrs.insert("public_key".into(), json!(key.public_key()));
    attrs.insert("fingerprint".into(), json!(key.key_fingerprint().unwrap_or_default()));
    attrs.insert("tags".into(), tags_attr(target, key.tags()));
    Remote { id: name.into(), attrs }
}

/// Only tags change in place; tags are set on the key pair's own id.
pub async fn update(
    ec2: &aws_sdk_ec2::Client,
    target: Target<'_>,
    name: &str,
    before: &Attrs,
    after: &Attrs,
) -> Result<Remote, ProviderError> {
    let out = ec2.describe_key_pairs().key_names(name).send().await.map_err(|e| api("DescribeKeyPairs", e))?;
    let id = out.key_pairs().first().and_then(|k| k.key_pair_id()).unwrap_or_default().to_string();
    retag(ec2, &id, &target, before, after).await?;
    read(ec2, target, name).await?.ok_or_else(|| gone("CreateTags", name))
}

pub async fn delete(ec2: &aws_sdk_ec2::Client, name: &str) -> Result<(), ProviderError> {
    delete_idempotent("DeleteKeyPair", &[NOT_FOUND], || ec2.delete_key_pair().key_name(name).send()).await
}

#[cfg(test)]
mod tests {
    use serde_json::json;

    use super::canonical;

    #[test]
    fn a_public_key_is_its_type_and_material_without_comment_or_line_end() {
        let written = json!("ssh-rsa AAAAB3NzaC1yc2E alice@laptop\n");
        let reported = json!("ssh-rsa AAAAB3NzaC1yc2E");
        assert_eq!(canonical("public_key", written), canonical("public_key", reported.clone()));
        assert_eq!(canonical("public_key", reported.clone()), reported);
        assert_ne!(canonical("public_key", json!("ssh-rsa AAAAother alice")), reported, "other material");
        assert_eq!(canonical("name", json!("a b c")), json!("a b c"), "only the key is read so");
    }
}
