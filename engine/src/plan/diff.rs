//! The diff between what the configuration wants and what the state holds.
//!
//! Only attributes the user can set are compared; computed ones belong to
//! the cloud. A reference to a resource that exists resolves to its id, so
//! an unchanged dependency never makes its dependents look changed. An
//! attribute whose value is unknown until apply counts as changed, and if
//! it forces a new resource, the resource is replaced.

use std::collections::BTreeMap;

use crate::config::Config;
use crate::provider::Providers;
use crate::state::State;

use super::{resolve, Action, AttrChange, Change, Plan};

#[must_use]
pub fn plan(config: &Config, state: &State, providers: &Providers) -> Plan {
    let mut changes = Vec::new();
    for r in &config.resources {
        let address = r.addr.to_string();
        let Some(schema) = providers.schema(&r.addr.type_name) else { continue };
        let depends_on = r.depends_on.iter().map(ToString::to_string).collect();
        let settable: BTreeMap<String, k8sinfra_lang::Value> = r
            .attrs
            .iter()
            .filter(|(name, _)| {
                schema.find_attr(name).is_some_and(|a| a.settable()) || schema.find_block(name).is_some()
            })
            .map(|(k, v)| (k.clone(), v.clone()))
            .collect();
        let prior = state.resources.get(&address);
        let mut attrs = Vec::new();
        let mut forces_new = false;
        for (name, value) in &settable {
            let unordered = schema.find_attr(name).is_some_and(|a| a.unordered)
                || schema.find_block(name).is_some_and(|b| b.unordered);
            let as_set = |v: Option<serde_json::Value>| if unordered { v.map(sorted) } else { v };
            let after = as_set(resolve(value, state));
            let before = as_set(prior.and_then(|p| p.attrs.get(name)).cloned());
            let ignored = r.lifecycle.ignore_changes.iter().any(|i| i == name);
            let differs = prior.is_none() || after.is_none() || (before != after && !ignored);
            if !differs {
                continue;
            }
            let forces = prior.is_some() && schema.find_attr(name).is_some_and(|a| a.forces_new);
            forces_new |= forces;
            attrs.push(AttrChange { name: name.clone(), before, after, forces_new: forces });
        }
        let action = match prior {
            None => Action::Create,
            Some(_) if attrs.is_empty() => Action::NoOp,
            Some(_) if forces_new => Action::Replace,
            Some(_) => Action::Update,
        };
        if action == Action::Create {
            for computed in schema.attrs.iter().filter(|a| !a.settable()) {
                attrs.push(AttrChange { name: computed.name.into(), before: None, after: None, forces_new: false });
            }
            attrs.sort_by(|a, b| a.name.cmp(&b.name));
        }
        changes.push(Change {
            address,
            type_name: r.addr.type_name.clone(),
            action,
            id: prior.map(|p| p.id.clone()),
            attrs,
            config: settable,
            depends_on,
        });
    }
    let configured: std::collections::BTreeSet<&str> = changes.iter().map(|c| c.address.as_str()).collect();
    let mut deletes = Vec::new();
    for (address, prior) in &state.resources {
        if configured.contains(address.as_str()) {
            continue;
        }
        deletes.push(Change {
            address: address.clone(),
            type_name: prior.type_name.clone(),
            action: Action::Delete,
            id: Some(prior.id.clone()),
            attrs: prior
                .attrs
                .iter()
                .map(|(k, v)| AttrChange { name: k.clone(), before: Some(v.clone()), after: None, forces_new: false })
                .collect(),
            config: BTreeMap::new(),
            depends_on: prior.dependencies.clone(),
        });
    }
    changes.extend(deletes);
    changes.sort_by(|a, b| a.address.cmp(&b.address));
    Plan { changes, lineage: state.lineage.clone(), serial: state.serial }
}

/// A list in a canonical order, for attributes whose order means nothing.
fn sorted(value: serde_json::Value) -> serde_json::Value {
    match value {
        serde_json::Value::Array(mut items) => {
            items.sort_by_key(ToString::to_string);
            serde_json::Value::Array(items)
        }
        other => other,
    }
}
