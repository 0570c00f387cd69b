//! Reading the attributes the engine passes (JSON), the same way in every
//! service.

use k8sinfra_engine::provider::Attrs;
use serde_json::Value;

/// A string attribute, if set.
pub fn text<'a>(attrs: &'a Attrs, name: &str) -> Option<&'a str> {
    attrs.get(name).and_then(Value::as_str)
}

/// A string attribute, empty if unset.
pub fn string(attrs: &Attrs, name: &str) -> String {
    text(attrs, name).unwrap_or_default().to_string()
}

pub fn flag(attrs: &Attrs, name: &str) -> Option<bool> {
    attrs.get(name).and_then(Value::as_bool)
}

/// A list of strings (ids, mostly) sorted and without repeats: their order
/// means nothing to AWS.
pub fn sorted_strings(attrs: &Attrs, name: &str) -> Vec<String> {
    let mut out: Vec<String> = attrs
        .get(name)
        .and_then(Value::as_array)
        .into_iter()
        .flatten()
        .filter_map(|v| v.as_str().map(str::to_string))
        .collect();
    out.sort();
    out.dedup();
    out
}
