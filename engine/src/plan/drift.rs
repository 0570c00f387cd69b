//! Drift: what refresh found changed outside k8sinfra, shown apart from
//! the plan's actions so a reviewer sees "someone changed this by hand"
//! separately from "this is what apply will do about it".

use serde::{Deserialize, Serialize};

use super::AttrChange;
use crate::config::Config;
use crate::provider::Providers;
use crate::schema::{AttrKind, AttrSchema};
use crate::state::State;

/// One resource that changed (or vanished) since the state was written.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Drift {
    pub address: String,
    #[serde(rename = "type")]
    pub type_name: String,
    /// Gone from the cloud altogether.
    pub deleted: bool,
    /// Attributes a user sets, as the state had them and as they are now.
    #[serde(rename = "attributes")]
    pub attrs: Vec<AttrChange>,
}

/// Compare the state as stored with the state as refreshed. Attributes
/// the configuration leaves to others are not drift: one under
/// `ignore_changes`, or one the cloud may choose that it does not set (a
/// load balancer's instances, registered by the instances themselves) —
/// unless its schema reports it (what a lookup found).
#[must_use]
pub fn drift(stored: &State, refreshed: &State, providers: &Providers, config: &Config) -> Vec<Drift> {
    let mut out = Vec::new();
    for (address, before) in &stored.resources {
        let type_name = before.type_name.clone();
        let Some(after) = refreshed.resources.get(address) else {
            out.push(Drift { address: address.clone(), type_name, deleted: true, attrs: Vec::new() });
            continue;
        };
        let Some(schema) = providers.schema(&type_name) else { continue };
        let provider = providers.for_type(&type_name);
        let canonical = |name: &str, v: Option<&serde_json::Value>| {
            v.cloned().map(|v| provider.map_or_else(|| v.clone(), |p| p.canonical(&type_name, name, v.clone())))
        };
        let configured = config.by_address(address);
        let left_to_others = |name: &str, attr: Option<&AttrSchema>| {
            configured.is_some_and(|r| {
                r.lifecycle.ignore_changes.iter().any(|i| i == name)
                    || (attr.is_some_and(|a| a.kind == AttrKind::OptionalComputed && !a.reported)
                        && !r.spans.attrs.contains_key(name))
            })
        };
        let mut attrs = Vec::new();
        for (name, value) in &after.attrs {
            let attr = schema.find_attr(name);
            let settable = attr.is_some_and(|a| a.settable() || a.reported) || schema.find_block(name).is_some();
            if !settable || left_to_others(name, attr) {
                continue;
            }
            let (was, now) = (canonical(name, before.attrs.get(name)), canonical(name, Some(value)));
            if was != now {
                let sensitive = attr.is_some_and(|a| a.sensitive) || before.sensitive.contains(name);
                attrs.push(
                    AttrChange {
                        name: name.clone(),
                        before: was,
                        after: now,
                        forces_new: false,
                        sensitive,
                        after_known: None,
                    }
                    .redacted(),
                );
            }
        }
        if !attrs.is_empty() {
            out.push(Drift { address: address.clone(), type_name, deleted: false, attrs });
        }
    }
    out
}

#[cfg(test)]
mod tests {
    use serde_json::json;

    use super::drift;
    use crate::state::State;
    use crate::testkit::{configuration, kit, recorded};

    #[test]
    fn drift_is_what_changed_outside_that_the_configuration_cares_about() {
        let providers = kit().providers();
        let text = r#"
box a {
  name = "a"
  lifecycle {
    ignore_changes = [color]
  }
}

box b {
  name  = "b"
  label = "mine"
}

box c {
  name = "c"
}
"#;
        let config = configuration(text, &providers, &State::new());
        let mut stored = State::new();
        let attrs = json!({ "name": "a", "color": "red", "label": "x", "arn": "arn:1", "secret": "s1" });
        stored.resources.insert("box.a".into(), recorded("box", "b-a", attrs));
        stored.resources.insert("box.b".into(), recorded("box", "b-b", json!({ "name": "b", "label": "mine" })));
        stored.resources.insert("box.c".into(), recorded("box", "b-c", json!({ "name": "c" })));
        stored.resources.insert("box.gone".into(), recorded("box", "b-g", json!({ "name": "gone" })));
        let mut refreshed = stored.clone();
        refreshed.resources.remove("box.gone");
        let a = refreshed.resources.get_mut("box.a").expect("a");
        // By hand: a name, an ignored colour, a label the configuration
        // leaves to the cloud, a computed arn, a secret.
        for (name, value) in
            [("name", "by hand"), ("color", "blue"), ("label", "y"), ("arn", "arn:2"), ("secret", "s2")]
        {
            a.attrs.insert(name.into(), json!(value));
        }
        // A label the configuration sets is drift.
        refreshed.resources.get_mut("box.b").expect("b").attrs.insert("label".into(), json!("theirs"));

        let found = drift(&stored, &refreshed, &providers, &config);
        let summary: Vec<(String, bool, Vec<String>)> = found
            .iter()
            .map(|d| (d.address.clone(), d.deleted, d.attrs.iter().map(|a| a.name.clone()).collect()))
            .collect();
        assert_eq!(
            summary,
            [
                ("box.a".to_string(), false, vec!["name".to_string(), "secret".to_string()]),
                ("box.b".to_string(), false, vec!["label".to_string()]),
                ("box.gone".to_string(), true, vec![]),
            ]
        );
        let name = &found[0].attrs[0];
        assert_eq!((name.before.clone(), name.after.clone()), (Some(json!("a")), Some(json!("by hand"))));
        let secret = &found[0].attrs[1];
        assert!(secret.sensitive);
        assert_eq!((secret.before.clone(), secret.after.clone()), (Some(json!(null)), Some(json!(null))));
        assert_eq!(found[0].type_name, "box");

        // Without a configuration for it (a destroy), the label is drift.
        let empty = configuration("", &providers, &State::new());
        let found = drift(&stored, &refreshed, &providers, &empty);
        let a: Vec<&str> = found[0].attrs.iter().map(|a| a.name.as_str()).collect();
        assert_eq!(a, ["color", "label", "name", "secret"]);
    }
}
