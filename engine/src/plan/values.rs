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

#[cfg(test)]
mod tests {
    use std::collections::{BTreeMap, BTreeSet};
    use std::sync::Arc;

    use k8sinfra_lang::value::ResourceValue;
    use k8sinfra_lang::{Type, Value};
    use serde_json::json;

    use super::{known_parts, resolve, resolve_except};
    use crate::state::State;
    use crate::testkit::recorded;

    fn reference(address: &str) -> Value {
        Value::Resource(Arc::new(ResourceValue {
            type_name: "box".into(),
            address: address.into(),
            attrs: Arc::new(BTreeMap::new()),
            sensitive: Arc::new(BTreeSet::new()),
        }))
    }

    fn state() -> State {
        let mut state = State::new();
        state.resources.insert("box.a".into(), recorded("box", "b-a", json!({})));
        state
    }

    #[test]
    fn values_resolve_to_what_the_cloud_is_sent() {
        let state = state();
        let map = |entries: &[(&str, Value)]| {
            Value::Map(entries.iter().map(|(k, v)| ((*k).to_string(), v.clone())).collect())
        };
        let value = map(&[
            ("whole", Value::Number(3.0)),
            ("half", Value::Number(2.5)),
            ("huge", Value::Number(1e16)),
            ("ref", reference("box.a")),
            ("secret", Value::String("s".into()).sensitive()),
            ("list", Value::List(vec![Value::Bool(true), Value::Null])),
        ]);
        let resolved = resolve(&value, &state).expect("all known");
        assert_eq!(
            resolved,
            json!({ "whole": 3, "half": 2.5, "huge": 1e16, "ref": "b-a", "secret": "s", "list": [true, null] })
        );
        assert!(resolved["whole"].is_i64() && resolved["huge"].is_f64(), "integers as integers, up to 9e15");
        assert_eq!(resolve(&reference("box.new"), &state), None, "not made yet");
        let replaced: BTreeSet<String> = ["box.a".to_string()].into();
        assert_eq!(resolve_except(&reference("box.a"), &state, &replaced), None, "about to be replaced");
        assert_eq!(resolve_except(&reference("box.a"), &state, &BTreeSet::new()), Some(json!("b-a")));
    }

    #[test]
    fn what_is_known_of_a_value_known_after_apply_is_shown() {
        let state = state();
        let unknown = Value::Unknown(Type::String);
        let replaced = BTreeSet::new();
        assert_eq!(known_parts(&unknown, &state, &replaced), None, "nothing beyond unknown");
        assert_eq!(known_parts(&Value::String("x".into()), &state, &replaced), Some(json!("x")));
        let block = Value::Map(
            [
                ("size".to_string(), Value::Number(10.0)),
                ("id".to_string(), unknown.clone()),
                ("unset".to_string(), Value::Null),
                ("from".to_string(), reference("box.new")),
                ("secret".to_string(), Value::Unknown(Type::String).sensitive()),
            ]
            .into(),
        );
        let list = Value::List(vec![Value::Number(1.0), unknown, block]);
        assert_eq!(
            known_parts(&list, &state, &replaced),
            Some(json!([
                1,
                { "unknown": true },
                {
                    "size": 10,
                    "id": { "unknown": true },
                    "from": { "unknown": true, "from": "box.new" },
                    "secret": { "unknown": true },
                }
            ]))
        );
    }
}
