//! The planner on the test kit's types: creates with their computed
//! attributes, no-ops, updates, replacements forced by an attribute, by a
//! replaced dependency or by request, and deletes; the comparison rules
//! (unset, defaults the cloud does not report, ignored, unordered, single
//! blocks); rolling groups and how a replacement is worded.

use serde_json::json;

use crate::config::Config;
use crate::plan::{natural_order, plan, plan_with, Action, Change, Plan, Request};
use crate::provider::Providers;
use crate::state::State;
use crate::testkit::{configuration, kit, recorded};

/// A state holding `resources`: (address, type, id, attributes).
fn state_of(resources: &[(&str, &str, &str, serde_json::Value)]) -> State {
    let mut state = State::new();
    state.serial = 7;
    for (address, type_name, id, attrs) in resources {
        state.resources.insert((*address).to_string(), recorded(type_name, id, attrs.clone()));
    }
    state
}

/// The plan of `text` against `state`, evaluated as a plan's first round
/// is: with nothing reported yet (references are ids from the state).
fn planned(text: &str, state: &State) -> (Plan, Config) {
    let providers = providers();
    let config = configuration(text, &providers, &State::new());
    (plan(&config, state, &providers), config)
}

fn providers() -> Providers {
    kit().providers()
}

fn change<'p>(plan: &'p Plan, address: &str) -> &'p Change {
    plan.changes.iter().find(|c| c.address == address).unwrap_or_else(|| panic!("{address} not in the plan"))
}

fn action(plan: &Plan, address: &str) -> Action {
    change(plan, address).action
}

fn changed_names(plan: &Plan, address: &str) -> Vec<String> {
    change(plan, address).attrs.iter().map(|a| a.name.clone()).collect()
}

#[test]
fn a_new_resource_is_created_with_what_is_set_and_its_computed_attributes_unknown() {
    let state = state_of(&[]);
    let (plan, _) = planned("box a {\n  name = \"a\"\n  size = 1\n}\n", &state);
    assert_eq!((plan.lineage.as_str(), plan.serial), (state.lineage.as_str(), 7), "made against this state");
    assert_eq!(plan.changes.len(), 1);
    let create = change(&plan, "box.a");
    assert_eq!((create.action, create.type_name.as_str(), create.id.as_deref()), (Action::Create, "box", None));
    // Sorted; the default `color` included; `label`, unset, is the cloud's.
    assert_eq!(changed_names(&plan, "box.a"), ["arn", "color", "name", "size"]);
    let arn = &create.attrs[0];
    assert_eq!((arn.before.as_ref(), arn.after.as_ref()), (None, None), "known after apply");
    assert_eq!(create.attrs[3].after, Some(json!(1)));
    assert!(create.attrs.iter().all(|a| !a.forces_new), "nothing forces a create");
    // Sent: what is set or defaulted (and null for the rest), never what
    // the cloud computes or chooses.
    let sent: Vec<&str> = create.config.keys().map(String::as_str).collect();
    assert!(["color", "name", "size"].iter().all(|a| sent.contains(a)), "{sent:?}");
    assert!(!sent.contains(&"arn") && !sent.contains(&"label"), "{sent:?}");
    assert!(plan.has_changes());
    assert_eq!(plan.counts().add, 1);
}

/// A value known only after apply is a change on a create and an update,
/// but not where `ignore_changes` leaves the attribute to others.
#[test]
fn a_value_known_only_after_apply_changes_what_ignore_changes_does_not_name() {
    let state = state_of(&[
        ("box.a", "box", "b-a", json!({ "name": "a", "size": 1, "color": "red" })),
        ("box.kept", "box", "b-k", json!({ "name": "kept", "owner": "b-a", "color": "red" })),
        ("box.followed", "box", "b-f", json!({ "name": "followed", "owner": "b-a", "color": "red" })),
    ]);
    let text = r#"
box a {
  name = "a"
  size = 2
}

box kept {
  name  = "kept"
  owner = box.a
  lifecycle {
    ignore_changes = [owner]
  }
}

box followed {
  name  = "followed"
  owner = box.a
}

box new {
  name  = box.a.arn
  owner = box.a
  lifecycle {
    ignore_changes = [name, owner]
  }
}
"#;
    let (plan, _) = planned(text, &state);
    assert_eq!(action(&plan, "box.kept"), Action::NoOp, "the new owner's id is not its business");
    assert_eq!(action(&plan, "box.followed"), Action::Update);
    let create = change(&plan, "box.new");
    let name = create.attrs.iter().find(|a| a.name == "name").expect("a create lists what it sends");
    assert_eq!((name.before.as_ref(), name.after.as_ref()), (None, None), "known after apply");
    assert!(create.attrs.iter().any(|a| a.name == "owner"));
}

#[test]
fn what_is_as_configured_is_left_alone_and_the_plan_has_no_changes() {
    let state = state_of(&[("box.a", "box", "b-1", json!({ "name": "a", "size": 1, "color": "red", "arn": "arn:1" }))]);
    let (plan, _) = planned("box a {\n  name = \"a\"\n  size = 1\n}\n", &state);
    assert_eq!(action(&plan, "box.a"), Action::NoOp);
    assert!(change(&plan, "box.a").attrs.is_empty());
    assert!(!plan.has_changes());
    let mut refactored = plan.clone();
    refactored.refactored.removed.push("box.gone".into());
    assert!(refactored.has_changes(), "a refactoring alone is a change to apply");
}

#[test]
fn an_attribute_changes_in_place_and_one_that_forces_a_new_resource_replaces_it() {
    let state = state_of(&[
        ("box.renamed", "box", "b-1", json!({ "name": "old", "size": 1, "color": "red" })),
        ("box.resized", "box", "b-2", json!({ "name": "resized", "size": 2, "color": "red" })),
    ]);
    let text =
        "box renamed {\n  name = \"renamed\"\n  size = 1\n}\nbox resized {\n  name = \"resized\"\n  size = 1\n}\n";
    let (plan, _) = planned(text, &state);
    let renamed = change(&plan, "box.renamed");
    assert_eq!((renamed.action, renamed.id.as_deref()), (Action::Update, Some("b-1")));
    assert_eq!(changed_names(&plan, "box.renamed"), ["name"]);
    assert_eq!(
        (renamed.attrs[0].before.clone(), renamed.attrs[0].after.clone()),
        (Some(json!("old")), Some(json!("renamed")))
    );
    assert!(!renamed.attrs[0].forces_new);
    let resized = change(&plan, "box.resized");
    assert_eq!(resized.action, Action::Replace);
    assert_eq!(changed_names(&plan, "box.resized"), ["size"]);
    assert!(resized.attrs[0].forces_new);
    assert_eq!(plan.counts(), crate::plan::Counts { add: 0, change: 1, replace: 1, destroy: 0 });
}

#[test]
fn unset_ignored_unordered_and_single_block_attributes_compare_as_the_cloud_keeps_them() {
    let state = state_of(&[
        // The cloud reports no colour: the default is not compared.
        ("box.plain", "box", "b-1", json!({ "name": "plain" })),
        // It reports another: the default is.
        ("box.blue", "box", "b-2", json!({ "name": "blue", "color": "blue" })),
        ("box.ignored", "box", "b-3", json!({ "name": "set by hand", "color": "red" })),
        ("box.ports", "box", "b-4", json!({ "name": "ports", "color": "red", "ports": [22, 443] })),
        ("box.disk", "box", "b-5", json!({ "name": "disk", "color": "red", "disk": { "size": 10, "kind": "gp3" } })),
        ("box.null", "box", "b-6", json!({ "name": "anything", "color": "red" })),
    ]);
    let text = r#"
box plain {
  name = "plain"
}

box blue {
  name = "blue"
}

box ignored {
  name = "wanted"
  lifecycle {
    ignore_changes = [name]
  }
}

box ports {
  name  = "ports"
  ports = [443, 22]
}

box disk {
  name = "disk"
  disk {
    size = 10
  }
}

box null {
  name = null
}
"#;
    let (plan, _) = planned(text, &state);
    assert_eq!(action(&plan, "box.plain"), Action::NoOp);
    assert_eq!(action(&plan, "box.blue"), Action::Update);
    assert_eq!(changed_names(&plan, "box.blue"), ["color"]);
    assert_eq!(action(&plan, "box.ignored"), Action::NoOp);
    assert_eq!(change(&plan, "box.ignored").ignore_changes, ["name"]);
    assert_eq!(action(&plan, "box.ports"), Action::NoOp, "a set in another order");
    assert_eq!(action(&plan, "box.disk"), Action::NoOp, "the disk's kind is the cloud's");
    assert_eq!(action(&plan, "box.null"), Action::NoOp, "null is unset");

    // The same set with another member, and the disk's size, do change.
    let text = text.replace("ports = [443, 22]", "ports = [443, 80]").replace("size = 10", "size = 20");
    let (plan, _) = planned(&text, &state);
    assert_eq!(action(&plan, "box.ports"), Action::Update);
    assert_eq!(action(&plan, "box.disk"), Action::Update);
}

#[test]
fn a_reference_to_a_replaced_resource_is_unknown_and_replaces_what_it_forces() {
    // `box.a` is replaced (new size): its id is unknown, so `box.b`'s
    // parent (forcing) makes it replaced too, and `box.c`'s owner (in
    // place) an update. `key.k` is replaced under the same name, its id:
    // what refers to it stays.
    let state = state_of(&[
        ("box.a", "box", "b-a", json!({ "name": "a", "size": 1, "color": "red" })),
        ("box.b", "box", "b-b", json!({ "name": "b", "parent": "b-a", "color": "red" })),
        ("box.c", "box", "b-c", json!({ "name": "c", "owner": "b-a", "color": "red" })),
        ("key.k", "key", "k", json!({ "name": "k", "material": "old" })),
        ("box.d", "box", "b-d", json!({ "name": "d", "key": "k", "color": "red" })),
    ]);
    let text = r#"
box a {
  name = "a"
  size = 2
}

box b {
  name   = "b"
  parent = box.a
}

box c {
  name  = "c"
  owner = box.a
}

key k {
  name     = "k"
  material = "new"
}

box d {
  name = "d"
  key  = key.k
}
"#;
    let (plan, _) = planned(text, &state);
    assert_eq!(action(&plan, "box.a"), Action::Replace);
    assert_eq!(action(&plan, "box.b"), Action::Replace);
    let parent = &change(&plan, "box.b").attrs[0];
    assert_eq!((parent.name.as_str(), parent.after.as_ref()), ("parent", None), "the new one's id");
    assert_eq!(parent.after_known, Some(json!({ "unknown": true, "from": "box.a" })));
    assert!(parent.forces_new);
    assert_eq!(action(&plan, "box.c"), Action::Update);
    assert_eq!(action(&plan, "key.k"), Action::Replace);
    assert_eq!(action(&plan, "box.d"), Action::NoOp, "the key keeps its name, its id");

    // Unchanged, `box.a` keeps its id and nothing follows it.
    let (plan, _) = planned(&text.replace("size = 2", "size = 1").replace("\"new\"", "\"old\""), &state);
    assert!(!plan.has_changes(), "{:?}", plan.changes);
}

#[test]
fn a_resource_is_replaced_on_request_and_the_plan_says_so() {
    let state = state_of(&[
        ("box.a", "box", "b-a", json!({ "name": "a", "color": "red" })),
        ("box.b", "box", "b-b", json!({ "name": "b", "color": "red" })),
    ]);
    let text = "box a {\n  name = \"a\"\n}\nbox b {\n  name = \"b\"\n}\n";
    let providers = providers();
    let config = configuration(text, &providers, &State::new());
    let request = Request { replace: vec!["box.a".into()], ..Request::default() };
    let plan = plan_with(&config, &state, &providers, &request);
    assert_eq!(action(&plan, "box.a"), Action::Replace);
    assert_eq!(action(&plan, "box.b"), Action::NoOp);
    assert_eq!(plan.request, request, "kept with the plan");
    assert_eq!(change(&plan, "box.a").replacement_note(&plan), ", as requested");
    assert_eq!(change(&plan, "box.b").replacement_note(&plan), "", "only a replacement has a note");
}

#[test]
fn a_rolling_group_is_replaced_never_updated_and_each_member_knows_its_turn() {
    let member = |i: usize, name: &str| {
        (format!("box.r[{i}]"), recorded("box", &format!("b-{i}"), json!({ "name": name, "color": "red" })))
    };
    let mut state = state_of(&[]);
    // Eleven members renamed, one left as it is.
    for i in 0..11 {
        let (address, r) = member(i, "old");
        state.resources.insert(address, r);
    }
    let (address, r) = member(11, "r-11");
    state.resources.insert(address, r);
    let text = r#"
box r {
  count = 12
  name  = count.index == 11 ? "r-11" : "new"
  lifecycle {
    rolling_update { max_surge = 2 }
  }
}

box u {
  count = 1
  name  = "new"
  lifecycle {
    rolling_update { max_surge = 0, max_unavailable = 3 }
  }
}

box c {
  name = "c"
  size = 2
  lifecycle {
    create_before_destroy = true
  }
}

box plain {
  count = 1
  name  = "new"
  lifecycle {
    rolling_update {}
  }
}
"#;
    state.resources.insert("box.u[0]".into(), recorded("box", "u-0", json!({ "name": "old", "color": "red" })));
    state.resources.insert("box.c".into(), recorded("box", "c", json!({ "name": "c", "size": 1, "color": "red" })));
    state.resources.insert("box.plain[0]".into(), recorded("box", "p-0", json!({ "name": "old", "color": "red" })));
    let (plan, _) = planned(text, &state);
    assert_eq!(action(&plan, "box.r[0]"), Action::Replace, "a rename, yet replaced");
    assert_eq!(action(&plan, "box.r[11]"), Action::NoOp);
    let note = |address: &str| change(&plan, address).replacement_note(&plan);
    let surge = "(a new one up before an old one goes, 2 at a time)";
    assert_eq!(note("box.r[0]"), format!(", rolling 1 of 11 {surge}"));
    assert_eq!(note("box.r[2]"), format!(", rolling 3 of 11 {surge}"));
    assert_eq!(note("box.r[10]"), format!(", rolling 11 of 11 {surge}"), "after r[9], not after r[1]");
    assert_eq!(note("box.u[0]"), ", rolling 1 of 1 (at most 3 down at a time)");
    assert_eq!(note("box.c"), ", the new one created first");
    assert_eq!(
        note("box.plain[0]"),
        ", rolling 1 of 1 (a new one up before an old one goes, 1 at a time)",
        "by default one extra at a time, none missing"
    );
    assert!(change(&plan, "box.r[0]").create_before_destroy, "a surge creates first");
    assert!(!change(&plan, "box.u[0]").create_before_destroy, "no surge: the old one goes first");
    assert_eq!(change(&plan, "box.r[3]").rolling.as_ref().map(|r| r.group.as_str()), Some("box.r"));
}

#[test]
fn addresses_count_like_people_do() {
    assert!(natural_order("box.r[2]") < natural_order("box.r[10]"));
    assert_eq!(natural_order("box.r[10]"), (10, "box.r[10]"));
    assert_eq!(natural_order("box.r[\"a\"]"), (usize::MAX, "box.r[\"a\"]"));
    assert_eq!(natural_order("box.r"), (usize::MAX, "box.r"));
}

#[test]
fn what_left_the_configuration_is_deleted_showing_what_it_was_and_keeping_secrets() {
    let mut gone = recorded("box", "b-z", json!({ "name": "z", "secret": "hunter2", "label": "private" }));
    gone.dependencies = vec!["box.a".into()];
    gone.sensitive = ["label".to_string()].into();
    let mut state = state_of(&[]);
    state.resources.insert("box.z".into(), gone);
    let (plan, _) = planned("", &state);
    let delete = change(&plan, "box.z");
    assert_eq!((delete.action, delete.id.as_deref()), (Action::Delete, Some("b-z")));
    assert_eq!(delete.depends_on, ["box.a"]);
    assert_eq!(delete.sensitive, ["label"]);
    let shown: Vec<(String, Option<serde_json::Value>, bool)> =
        delete.attrs.iter().map(|a| (a.name.clone(), a.before.clone(), a.sensitive)).collect();
    assert_eq!(
        shown,
        [
            ("label".to_string(), Some(serde_json::Value::Null), true),
            ("name".to_string(), Some(json!("z")), false),
            ("secret".to_string(), Some(serde_json::Value::Null), true),
        ],
        "sensitive by the state and by the schema"
    );
    assert_eq!(plan.counts().destroy, 1);
}

#[test]
fn prevent_destroy_names_the_protected_changes() {
    let state = state_of(&[
        ("box.kept", "box", "b-1", json!({ "name": "kept", "size": 1, "color": "red" })),
        ("box.free", "box", "b-2", json!({ "name": "free", "size": 1, "color": "red" })),
    ]);
    let text = r#"
box kept {
  name = "kept"
  size = 2
  lifecycle {
    prevent_destroy = true
  }
}

box free {
  name = "free"
  size = 2
}
"#;
    let (plan, config) = planned(text, &state);
    let protected: Vec<&str> = plan.protected_destroys(&config).iter().map(|c| c.address.as_str()).collect();
    assert_eq!(protected, ["box.kept"]);
}

#[test]
fn plans_are_the_same_when_they_would_do_the_same() {
    let state = state_of(&[("box.a", "box", "b-1", json!({ "name": "a", "color": "red" }))]);
    let (first, _) = planned("box a {\n  name = \"b\"\n}\n", &state);
    let (again, _) = planned("box a {\n  name = \"b\"\n}\n", &state);
    let (other, _) = planned("box a {\n  name = \"c\"\n}\n", &state);
    assert!(first.same_changes(&again));
    assert!(!first.same_changes(&other), "another value");
    let mut refactored = again.clone();
    refactored.refactored.moved.push(("box.x".into(), "box.a".into()));
    assert!(!first.same_changes(&refactored), "the same changes after another move");
}

/// resources.md, elastic_ip: an attribute whose unset means none
/// (`cleared_when_unset`) is taken off when the configuration drops it —
/// an update to null — and, never set, is left alone like any unset one.
#[test]
fn an_attribute_cleared_when_unset_is_taken_off_when_dropped() {
    let held = state_of(&[
        ("box.a", "box", "b-a", json!({ "color": "red", "holder": "b-h" })),
        ("box.h", "box", "b-h", json!({ "color": "red" })),
    ]);
    let (plan, _) = planned("box h {}\nbox a {}\n", &held);
    assert_eq!(action(&plan, "box.a"), Action::Update);
    let holder = &change(&plan, "box.a").attrs[0];
    assert_eq!(holder.name, "holder");
    assert_eq!((holder.before.clone(), holder.after.clone()), (Some(json!("b-h")), Some(json!(null))));

    let (plan, _) = planned("box h {}\nbox a {\n  holder = box.h\n}\n", &held);
    assert_eq!(action(&plan, "box.a"), Action::NoOp, "set and the same");
    for none in [json!({ "color": "red" }), json!({ "color": "red", "holder": null })] {
        let state = state_of(&[("box.a", "box", "b-a", none.clone())]);
        let (plan, _) = planned("box a {}\n", &state);
        assert_eq!(action(&plan, "box.a"), Action::NoOp, "none, and none wanted: {none}");
    }
    // Any other optional attribute, unset, stays the cloud's.
    let state = state_of(&[("box.a", "box", "b-a", json!({ "color": "red", "label": "theirs", "name": "n" }))]);
    let (plan, _) = planned("box a {}\n", &state);
    assert_eq!(action(&plan, "box.a"), Action::NoOp);
}
