//! The configuration's `moved` and `removed` blocks carried out on the
//! state before planning: a moved resource is planned at its new address
//! (no destroy, no create), a removed one is forgotten (no destroy). The
//! plan lists both, and applying it writes the state so.

use serde::{Deserialize, Serialize};

use crate::config::Refactor;
use crate::state::State;

use super::request::matches;

/// What the refactoring blocks did to the state this plan was made from.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct Refactored {
    /// Each address moved, and where to, in order.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub moved: Vec<(String, String)>,
    /// Addresses forgotten: out of the state, left in the cloud.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub removed: Vec<String>,
}

impl Refactored {
    #[must_use]
    pub fn is_empty(&self) -> bool {
        self.moved.is_empty() && self.removed.is_empty()
    }
}

/// Carry out `refactors` on `state`, in order. A move takes every address
/// its `from` names (an instance, a resource's instances, a module's
/// resources) to the same place under `to`, and references to them along;
/// one whose new address is taken already stays (the plan then destroys it
/// there and makes the new one, as without the block). Blocks whose `from`
/// the state no longer holds — already applied — do nothing.
pub fn carry_out(state: &mut State, refactors: &[Refactor]) -> Refactored {
    let mut done = Refactored::default();
    for refactor in refactors {
        match refactor {
            Refactor::Moved { from, to, .. } => {
                let named: Vec<String> = state.resources.keys().filter(|a| matches(from, a)).cloned().collect();
                for old in named {
                    let new = format!("{to}{}", &old[from.len()..]);
                    if state.resources.contains_key(&new) {
                        continue;
                    }
                    if let Some(resource) = state.resources.remove(&old) {
                        state.resources.insert(new.clone(), resource);
                    }
                    for r in state.resources.values_mut() {
                        for dependency in &mut r.dependencies {
                            if *dependency == old {
                                dependency.clone_from(&new);
                            }
                        }
                    }
                    done.moved.push((old, new));
                }
            }
            Refactor::Removed { from, .. } => {
                let named: Vec<String> = state.resources.keys().filter(|a| matches(from, a)).cloned().collect();
                for address in named {
                    state.resources.remove(&address);
                    done.removed.push(address);
                }
            }
        }
    }
    done
}
