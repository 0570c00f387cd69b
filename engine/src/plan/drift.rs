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
