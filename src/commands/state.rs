//! `k8sinfra state list|show|rm|mv`: look at the state and change its
//! bookkeeping without touching the cloud. `rm` forgets resources (they
//! keep running, unmanaged); `mv` renames an address after a refactor so
//! the next plan does not destroy and recreate it.

use std::collections::BTreeMap;

use k8sinfra_engine::render::resource_text;
use k8sinfra_engine::state::State;

use super::backend::{self, report, Locking};
use super::session::{open_state, StateAccess};
use crate::cli::{StateArgs, StateCommand};
use crate::report::Output;
use k8sinfra_lang::Diag;

use crate::refusal::Refusal;

pub fn run(args: &StateArgs, out: &Output) -> bool {
    let Some(access) = open_state(&args.dir, out) else { return false };
    match &args.command {
        StateCommand::List { .. } => read(&access, out).is_some_and(|state| {
            if out.json {
                let resources: Vec<serde_json::Value> = state
                    .resources
                    .iter()
                    .map(|(address, r)| serde_json::json!({ "address": address, "type": r.type_name, "id": r.id }))
                    .collect();
                out.result(serde_json::json!({ "resources": resources }));
                return true;
            }
            for (address, r) in &state.resources {
                out.stdout(&format!("{address}  {}", r.id));
            }
            true
        }),
        StateCommand::Show { address, .. } => {
            read(&access, out).is_some_and(|state| match state.resources.get(address) {
                Some(r) => {
                    // Secrets stay in the state file; `state show` is read on
                    // screens and in CI logs.
                    let providers = k8sinfra_providers::all();
                    let schema = providers.schema(&r.type_name);
                    let sensitive = |name: &str| {
                        r.sensitive.contains(name)
                            || schema.and_then(|s| s.find_attr(name)).is_some_and(|a| a.sensitive)
                    };
                    if out.json {
                        let attributes: serde_json::Map<String, serde_json::Value> = r
                            .attrs
                            .iter()
                            .map(|(k, v)| (k.clone(), if sensitive(k) { serde_json::Value::Null } else { v.clone() }))
                            .collect();
                        let hidden: Vec<&String> = r.attrs.keys().filter(|k| sensitive(k)).collect();
                        out.result(serde_json::json!({ "resource": {
                            "address": address,
                            "type": r.type_name,
                            "id": r.id,
                            "attributes": attributes,
                            "sensitive": hidden,
                        }}));
                        return true;
                    }
                    out.stdout(resource_text(address, &r.attrs, sensitive).trim_end());
                    true
                }
                None => {
                    not_in_state(address, &state, out);
                    false
                }
            })
        }
        StateCommand::Rm { addresses } => change(&access, args.lock, out, |state| {
            for address in addresses {
                if state.resources.remove(address).is_none() {
                    not_in_state(address, state, out);
                    return false;
                }
                out.stderr(&format!("removed {address} from the state; it still exists in the cloud\n"));
            }
            true
        }),
        StateCommand::Mv { from, to, force, .. } => change(&access, args.lock, out, |state| {
            if state.resources.contains_key(to) {
                let id = state.resources.get(to.as_str()).map(|r| r.id.clone()).unwrap_or_default();
                out.error(Diag::global(Refusal::AlreadyInState { address: to.clone(), id }));
                return false;
            }
            let Some(resource) = state.resources.remove(from) else {
                not_in_state(from, state, out);
                return false;
            };
            if !force && !declared_as(&access.declared, to, &resource.type_name, out) {
                return false;
            }
            state.resources.insert(to.clone(), resource);
            for r in state.resources.values_mut() {
                for dependency in &mut r.dependencies {
                    if dependency == from {
                        dependency.clone_from(to);
                    }
                }
            }
            out.stderr(&format!("moved {from} to {to}\n"));
            true
        }),
    }
}

fn read(access: &StateAccess, out: &Output) -> Option<State> {
    match access.runtime.block_on(access.backend.load()) {
        Ok(state) => Some(state),
        Err(e) => {
            report(e, out);
            None
        }
    }
}

/// Lock, read, edit, write one serial higher, unlock. Nothing is written
/// when `edit` says no.
pub fn change(
    access: &StateAccess,
    lock: crate::cli::LockArgs,
    out: &Output,
    edit: impl FnOnce(&mut State) -> bool,
) -> bool {
    let locking = Locking { enabled: lock.enabled, timeout: lock.timeout };
    let backend = access.backend.as_ref();
    let Ok(held) = access.runtime.block_on(backend::lock(backend, "state", locking, out)) else { return false };
    let done = read(access, out).is_some_and(|mut state| {
        if !edit(&mut state) {
            return false;
        }
        state.serial += 1;
        match access.runtime.block_on(backend.save(&state)) {
            Ok(()) => true,
            Err(e) => {
                report(e, out);
                false
            }
        }
    });
    access.runtime.block_on(backend::unlock(backend, held, out));
    done
}

/// Whether the configuration declares `to` as a resource of `type_name`;
/// says why not. A move anywhere else would be undone by the next plan
/// (a destroy there and a create here), which is what a move is to avoid.
fn declared_as(declared: &BTreeMap<String, String>, to: &str, type_name: &str, out: &Output) -> bool {
    match declared.get(to) {
        Some(t) if t == type_name => true,
        Some(t) => {
            let (address, declared, moving) = (to.to_string(), t.clone(), type_name.to_string());
            out.error(Diag::global(Refusal::OtherType { address, declared, moving }));
            false
        }
        None => {
            let hint = k8sinfra_lang::suggest::help(to, declared.keys().map(String::as_str))
                .unwrap_or_else(|| "declare it first, then move it".into());
            let hint = format!(
                "{hint}; nothing was changed (--force moves it all the same, and the next plan destroys it there)"
            );
            out.error(Diag::global(Refusal::Undeclared { address: to.to_string(), hint }));
            false
        }
    }
}

fn not_in_state(address: &str, state: &State, out: &Output) {
    let hint = k8sinfra_lang::suggest::help(address, state.resources.keys().map(String::as_str))
        .unwrap_or_else(|| "`k8sinfra state list` shows what the state holds".into());
    out.error(Diag::global(Refusal::NotInState { address: address.to_string(), hint }));
}
