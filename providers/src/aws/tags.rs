//! Tags every service shares: the user's, `Name` defaulting to the
//! address, and the ownership markers (`k8sinfra:address`,
//! `k8sinfra:lineage`) crash recovery finds resources by. Each service
//! turns these pairs into its own SDK tag type.

use k8sinfra_engine::provider::{Attrs, Target};

pub const ADDRESS: &str = "k8sinfra:address";
pub const LINEAGE: &str = "k8sinfra:lineage";

/// Whether a resource's tags mark it as `target`'s: its address and this
/// state's lineage.
pub fn owned_by<K: AsRef<str>, V: AsRef<str>>(tags: &[(K, V)], target: &Target<'_>) -> bool {
    let has = |key: &str, value: &str| tags.iter().any(|(k, v)| k.as_ref() == key && v.as_ref() == value);
    has(ADDRESS, target.address) && has(LINEAGE, target.lineage)
}

/// The user's `tags` attribute as pairs.
pub fn user_tags(attrs: &Attrs) -> Vec<(String, String)> {
    attrs
        .get("tags")
        .and_then(serde_json::Value::as_object)
        .map(|m| m.iter().map(|(k, v)| (k.clone(), v.as_str().unwrap_or_default().to_string())).collect())
        .unwrap_or_default()
}

/// Every tag a resource is created (or retagged) with.
pub fn owned_tags(target: &Target<'_>, attrs: &Attrs) -> Vec<(String, String)> {
    let mut tags = user_tags(attrs);
    if !tags.iter().any(|(k, _)| k == "Name") {
        tags.push(("Name".into(), target.address.to_string()));
    }
    tags.push((ADDRESS.into(), target.address.to_string()));
    tags.push((LINEAGE.into(), target.lineage.to_string()));
    tags
}

/// Tags read back, as the user wrote them: without the ownership markers,
/// and without `Name` when it is the default: the address, now or when
/// the resource was tagged (`k8sinfra:address` keeps it), so that a
/// `state mv` shows no drift.
pub fn tags_json<'a>(target: &Target<'_>, tags: impl IntoIterator<Item = (&'a str, &'a str)>) -> serde_json::Value {
    let tags: Vec<(&str, &str)> = tags.into_iter().collect();
    let tagged_as = tags.iter().find(|(k, _)| *k == ADDRESS).map(|(_, v)| *v);
    let default_name = |v: &str| v == target.address || tagged_as == Some(v);
    let map: serde_json::Map<String, serde_json::Value> = tags
        .into_iter()
        .filter(|(k, v)| !(k.starts_with("k8sinfra:") || (*k == "Name" && default_name(v))))
        .map(|(k, v)| (k.to_string(), serde_json::Value::String(v.to_string())))
        .collect();
    serde_json::Value::Object(map)
}

/// Keys of the tags `before` set that `after` no longer sets (an update
/// deletes them, then writes the whole owned set).
pub fn removed_tag_keys(target: &Target<'_>, before: &Attrs, after: &Attrs) -> Vec<String> {
    let after = owned_tags(target, after);
    owned_tags(target, before).into_iter().map(|(k, _)| k).filter(|k| !after.iter().any(|(a, _)| a == k)).collect()
}
