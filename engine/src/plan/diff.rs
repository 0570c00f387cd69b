//! The diff between what the configuration wants and what the state holds.
//!
//! Only attributes the user can set are compared; computed ones belong to
//! the cloud. A reference to a resource that exists resolves to its id, so
//! an unchanged dependency never makes its dependents look changed. An
//! attribute whose value is unknown until apply counts as changed, and if
//! it forces a new resource, the resource is replaced.

use std::collections::{BTreeMap, BTreeSet};

use crate::config::{Config, ResourceInstance};
use crate::provider::Providers;
use crate::schema::{AttrKind, ResourceSchema};
use crate::state::State;

use super::values::{known_parts, resolve_except};
use super::{Action, AttrChange, Change, Plan, Request, RollingGroup};

#[must_use]
pub fn plan(config: &Config, state: &State, providers: &Providers) -> Plan {
    plan_with(config, state, providers, &Request::default())
}

/// The plan under a request: `--replace` addresses are replaced although
/// unchanged (a rolling member in its group's turn), and the request is
/// kept with the plan. Targets and refresh-only are cuts made afterwards
/// (`targeted`, `refresh_only`), once drift is known.
#[must_use]
pub fn plan_with(config: &Config, state: &State, providers: &Providers, request: &Request) -> Plan {
    // A reference to a resource being replaced is unknown (the new one's
    // id), which may make its dependents replaced too: plan again until
    // the set of replacements stops growing.
    let mut replaced = BTreeSet::new();
    loop {
        let changes = changes(config, state, providers, &replaced, request);
        let more: BTreeSet<String> = changes
            .iter()
            .filter(|c| c.action == Action::Replace && !replaced.contains(&c.address) && new_id(c, providers))
            .map(|c| c.address.clone())
            .collect();
        if more.is_empty() {
            let mut plan = finish(changes, state, providers);
            plan.request = request.clone();
            return plan;
        }
        replaced.extend(more);
    }
}

/// Whether a replacement gets a new id: always, unless the id is an
/// attribute the replacement keeps (a key pair replaced for a new key under
/// the same name).
fn new_id(change: &Change, providers: &Providers) -> bool {
    match providers.schema(&change.type_name).and_then(|s| s.id_attr) {
        Some(attr) => change.attrs.iter().any(|a| a.name == attr),
        None => true,
    }
}

/// The changes to the configured resources.
fn changes(
    config: &Config,
    state: &State,
    providers: &Providers,
    replaced: &BTreeSet<String>,
    request: &Request,
) -> Vec<Change> {
    let mut changes = Vec::new();
    for r in &config.resources {
        let address = r.addr.to_string();
        let Some(schema) = providers.schema(&r.addr.type_name) else { continue };
        let depends_on = r.depends_on.iter().map(ToString::to_string).collect();
        let settable = settable(r, schema);
        let prior = state.resources.get(&address);
        let provider = providers.for_type(&r.addr.type_name);
        let mut attrs = Vec::new();
        let mut forces_new = false;
        for (name, value) in &settable {
            // Null is unset: an absent single block (a root volume) is
            // whatever the cloud chose, as an unset optional attribute is —
            // unless unset means none (an elastic IP's instance) and the
            // resource has one: then it is taken off.
            if matches!(value, k8sinfra_lang::Value::Null) {
                let clears = schema.find_attr(name).is_some_and(|a| a.cleared_when_unset);
                let has_one = prior.and_then(|p| p.attrs.get(name)).is_some_and(|v| !v.is_null());
                if !(clears && has_one) {
                    continue;
                }
            }
            // An attribute left unset takes its default, but the cloud may
            // report nothing for it where the default does not apply (an
            // alias record has no TTL): compared then, it would differ forever.
            let reported_nothing = prior.is_some_and(|p| p.attrs.get(name).is_none_or(serde_json::Value::is_null));
            if reported_nothing && schema.find_attr(name).is_some() && !r.spans.attrs.contains_key(name) {
                continue;
            }
            let unordered = schema.find_attr(name).is_some_and(|a| a.unordered)
                || schema.find_block(name).is_some_and(|b| b.unordered);
            let as_set = |v: Option<serde_json::Value>| {
                let v = match provider {
                    Some(p) => v.map(|v| p.canonical(&r.addr.type_name, name, v)),
                    None => v,
                };
                if unordered {
                    v.map(sorted)
                } else {
                    v
                }
            };
            let mut after = as_set(resolve_except(value, state, replaced));
            let mut before = as_set(prior.and_then(|p| p.attrs.get(name)).cloned());
            if schema.find_block(name).is_some_and(|b| b.max == Some(1)) {
                (after, before) = unset_left_out(after, before);
            }
            // `ignore_changes` is for updates: a create sends what is
            // configured; afterwards the attribute is left alone, even
            // when its configured value is known only after apply.
            let ignored = r.lifecycle.ignore_changes.iter().any(|i| i == name);
            let differs = prior.is_none() || (!ignored && (after.is_none() || before != after));
            if !differs {
                continue;
            }
            let forces = prior.is_some() && schema.find_attr(name).is_some_and(|a| a.forces_new);
            forces_new |= forces;
            let sensitive = r.sensitive.contains(name);
            let after_known = if after.is_none() { known_parts(value, state, replaced) } else { None };
            attrs.push(
                AttrChange { name: name.clone(), before, after, forces_new: forces, sensitive, after_known }.redacted(),
            );
        }
        // Another provider configuration (another region): nothing moves
        // there in place.
        if let Some(prior) = prior.filter(|p| p.provider != r.provider) {
            let name = provider.map_or("provider", |p| p.name());
            let key = |alias: &str| if alias.is_empty() { name.to_string() } else { format!("{name}.{alias}") };
            attrs.push(AttrChange {
                name: "provider".into(),
                before: Some(serde_json::json!(key(&prior.provider))),
                after: Some(serde_json::json!(key(&r.provider))),
                forces_new: true,
                sensitive: false,
                after_known: None,
            });
            forces_new = true;
        }
        let rolling = r.lifecycle.rolling;
        let action = match prior {
            None => Action::Create,
            Some(_) if request.replaces(&address) => Action::Replace,
            Some(_) if attrs.is_empty() => Action::NoOp,
            // The members of a rolling group are never changed in place.
            Some(_) if forces_new || rolling.is_some() => Action::Replace,
            Some(_) => Action::Update,
        };
        if action == Action::Create {
            for computed in schema.attrs.iter().filter(|a| !a.settable()) {
                attrs.push(AttrChange {
                    name: computed.name.into(),
                    before: None,
                    after: None,
                    forces_new: false,
                    sensitive: computed.sensitive,
                    after_known: None,
                });
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
            sensitive: r.sensitive.iter().cloned().collect(),
            ignore_changes: r.lifecycle.ignore_changes.clone(),
            create_before_destroy: r.lifecycle.create_before_destroy
                || rolling.is_some_and(|rolling| rolling.max_surge > 0),
            rolling: rolling.map(|settings| RollingGroup { group: r.addr.config_address(), settings }),
            provider: r.provider.clone(),
        });
    }
    changes
}

/// The plan: the changes, and a delete for each resource of the state the
/// configuration no longer has.
fn finish(mut changes: Vec<Change>, state: &State, providers: &Providers) -> Plan {
    let configured: BTreeSet<&str> = changes.iter().map(|c| c.address.as_str()).collect();
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
                .map(|(k, v)| {
                    let sensitive = prior.sensitive.contains(k)
                        || providers.schema(&prior.type_name).and_then(|s| s.find_attr(k)).is_some_and(|a| a.sensitive);
                    AttrChange {
                        name: k.clone(),
                        before: Some(v.clone()),
                        after: None,
                        forces_new: false,
                        sensitive,
                        after_known: None,
                    }
                    .redacted()
                })
                .collect(),
            config: BTreeMap::new(),
            depends_on: prior.dependencies.clone(),
            sensitive: prior.sensitive.iter().cloned().collect(),
            ignore_changes: Vec::new(),
            create_before_destroy: false,
            rolling: None,
            provider: prior.provider.clone(),
        });
    }
    changes.extend(deletes);
    changes.sort_by(|a, b| a.address.cmp(&b.address));
    Plan { changes, lineage: state.lineage.clone(), serial: state.serial, ..Plan::default() }
}

/// What the planner compares and a create or update sends: the attributes
/// a user can set, and the nested blocks. An optional computed attribute
/// left out is the cloud's to choose (a group's name defaults to the
/// resource's).
fn settable(r: &ResourceInstance, schema: &ResourceSchema) -> BTreeMap<String, k8sinfra_lang::Value> {
    r.attrs
        .iter()
        .filter(|(name, _)| match schema.find_attr(name) {
            Some(a) if a.kind == AttrKind::OptionalComputed => r.spans.attrs.contains_key(name.as_str()),
            Some(a) => a.settable(),
            None => schema.find_block(name).is_some(),
        })
        .map(|(k, v)| (k.clone(), v.clone()))
        .collect()
}

/// Every resource's `settable` attributes, by address: what the applier
/// sends once a configuration evaluated with the cloud's answers knows
/// more than the plan did (see `apply::Refine`).
#[must_use]
pub fn configured(config: &Config, providers: &Providers) -> BTreeMap<String, BTreeMap<String, k8sinfra_lang::Value>> {
    config
        .resources
        .iter()
        .filter_map(|r| Some((r.addr.to_string(), settable(r, providers.schema(&r.addr.type_name)?))))
        .collect()
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

/// A single block compared on what the configuration sets: an attribute
/// it leaves null (a root volume's size) is the cloud's to choose.
fn unset_left_out(
    after: Option<serde_json::Value>,
    before: Option<serde_json::Value>,
) -> (Option<serde_json::Value>, Option<serde_json::Value>) {
    let Some(serde_json::Value::Object(wanted)) = after else { return (after, before) };
    let wanted: serde_json::Map<String, serde_json::Value> = wanted.into_iter().filter(|(_, v)| !v.is_null()).collect();
    let before = match before {
        Some(serde_json::Value::Object(had)) => {
            Some(serde_json::Value::Object(had.into_iter().filter(|(k, _)| wanted.contains_key(k)).collect()))
        }
        other => other,
    };
    (Some(serde_json::Value::Object(wanted)), before)
}

#[cfg(test)]
#[path = "diff_tests.rs"]
mod tests;
