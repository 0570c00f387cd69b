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

#[cfg(test)]
mod tests {
    use serde_json::json;

    use super::{carry_out, Refactored};
    use crate::config::Refactor;
    use crate::state::State;
    use crate::testkit::recorded;

    fn moved(from: &str, to: &str) -> Refactor {
        Refactor::Moved { from: from.into(), to: to.into(), span: k8sinfra_lang::Span::default() }
    }

    #[test]
    fn moves_carry_instances_and_references_and_removals_forget() {
        let mut state = State::new();
        for address in ["box.old[0]", "box.old[1]", "box.taken", "module.net.box.a", "box.other"] {
            state.resources.insert(address.into(), recorded("box", address, json!({})));
        }
        state.resources.get_mut("box.other").expect("other").dependencies = vec!["box.old[1]".into()];
        state.resources.insert("box.new[1]".into(), recorded("box", "already", json!({})));
        let refactors = [
            moved("box.old", "box.new"),
            moved("module.net", "module.network"),
            moved("box.absent", "box.elsewhere"),
            Refactor::Removed { from: "box.taken".into(), span: k8sinfra_lang::Span::default() },
        ];
        let done = carry_out(&mut state, &refactors);
        assert_eq!(
            done,
            Refactored {
                moved: vec![
                    ("box.old[0]".into(), "box.new[0]".into()),
                    ("module.net.box.a".into(), "module.network.box.a".into()),
                ],
                removed: vec!["box.taken".into()],
            }
        );
        assert!(!done.is_empty());
        let addresses: Vec<&str> = state.resources.keys().map(String::as_str).collect();
        assert_eq!(addresses, ["box.new[0]", "box.new[1]", "box.old[1]", "box.other", "module.network.box.a"]);
        assert_eq!(state.resources["box.new[0]"].id, "box.old[0]", "the same resource, moved");
        assert_eq!(state.resources["box.new[1]"].id, "already", "a taken address is left alone");
        assert_eq!(state.resources["box.other"].dependencies, ["box.old[1]"], "not moved: not renamed");
        assert!(carry_out(&mut state, &[]).is_empty());
        assert!(!Refactored { moved: vec![], removed: vec!["x".into()] }.is_empty());
    }

    #[test]
    fn a_resource_moves_into_a_module_and_out_of_one() {
        let mut state = State::new();
        state.resources.insert("box.solo".into(), recorded("box", "b-1", json!({})));
        state.resources.insert("module.old.box.inner[\"a\"]".into(), recorded("box", "b-2", json!({})));
        let done = carry_out(
            &mut state,
            &[moved("box.solo", "module.net.box.solo"), moved("module.old.box.inner", "box.outer")],
        );
        let addresses: Vec<&str> = state.resources.keys().map(String::as_str).collect();
        assert_eq!(addresses, ["box.outer[\"a\"]", "module.net.box.solo"]);
        assert_eq!(done.moved.len(), 2);
    }

    #[test]
    fn a_move_renames_the_dependencies_on_what_moved() {
        let mut state = State::new();
        state.resources.insert("box.old".into(), recorded("box", "b-1", json!({})));
        let mut user = recorded("box", "b-2", json!({}));
        user.dependencies = vec!["box.old".into(), "box.kept".into()];
        state.resources.insert("box.user".into(), user);
        carry_out(&mut state, &[moved("box.old", "box.new")]);
        assert_eq!(state.resources["box.user"].dependencies, ["box.new", "box.kept"]);
    }
}
