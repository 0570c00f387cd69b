//! Configured values as the cloud will see them: JSON, with references to
//! resources replaced by their ids from the state. A reference to a
//! resource not created yet (or about to be replaced), or any other
//! unknown, resolves to nothing.

use std::collections::BTreeSet;

use k8sinfra_lang::Value;

use crate::state::State;

/// What is known of a value some part of which is known only after apply:
/// its known parts as JSON, each unknown part `{"unknown": true}` (with
/// `"from": ADDRESS` for a resource's id). `None` when nothing is known
/// beyond "unknown" itself.
#[must_use]
pub fn known_parts(value: &Value, state: &State, replaced: &BTreeSet<String>) -> Option<serde_json::Value> {
    let shown = parts(value, state, replaced);
    (shown != serde_json::json!({ "unknown": true })).then_some(shown)
}

fn parts(value: &Value, state: &State, replaced: &BTreeSet<String>) -> serde_json::Value {
    use serde_json::Value as J;
    if let Some(known) = resolve_except(value, state, replaced) {
        return known;
    }
    match value {
        Value::List(items) => J::Array(items.iter().map(|v| parts(v, state, replaced)).collect()),
        // Unset entries (`instance = null` beside the route's target) say
        // nothing a reader needs.
        Value::Map(items) => J::Object(
            items
                .iter()
                .filter(|(_, v)| !matches!(v, Value::Null))
                .map(|(k, v)| (k.clone(), parts(v, state, replaced)))
                .collect(),
        ),
        Value::Resource(r) => serde_json::json!({ "unknown": true, "from": r.address }),
        Value::Sensitive(inner) => parts(inner, state, replaced),
        _ => serde_json::json!({ "unknown": true }),
    }
}

/// The value as JSON, or `None` if some part is known only after apply.
#[must_use]
pub fn resolve(value: &Value, state: &State) -> Option<serde_json::Value> {
    resolve_except(value, state, &BTreeSet::new())
}

/// `resolve`, with references to the `replaced` resources unknown: their
/// ids are the old ones' until apply makes the new ones.
#[must_use]
pub fn resolve_except(value: &Value, state: &State, replaced: &BTreeSet<String>) -> Option<serde_json::Value> {
    use serde_json::Value as J;
    let resolve = |v: &Value| resolve_except(v, state, replaced);
    Some(match value {
        Value::Unknown(_) => return None,
        Value::Null => J::Null,
        Value::Bool(b) => J::Bool(*b),
        Value::Number(n) if n.fract() == 0.0 && n.abs() < 9e15 =>
        {
            #[allow(clippy::cast_possible_truncation)]
            J::from(*n as i64)
        }
        Value::Number(n) => serde_json::Number::from_f64(*n).map_or(J::Null, J::Number),
        Value::String(s) => J::String(s.clone()),
        Value::Cidr(_) | Value::Ip(_) | Value::PortRange(..) => J::String(value.to_string()),
        Value::List(items) => J::Array(items.iter().map(resolve).collect::<Option<_>>()?),
        Value::Map(items) => {
            J::Object(items.iter().map(|(k, v)| resolve(v).map(|j| (k.clone(), j))).collect::<Option<_>>()?)
        }
        Value::Resource(r) if replaced.contains(&r.address) => return None,
        Value::Resource(r) => J::String(state.resources.get(&r.address)?.id.clone()),
        // Instances keep no marks; a value marked elsewhere resolves as is.
        Value::Sensitive(inner) => return resolve(inner),
    })
}
