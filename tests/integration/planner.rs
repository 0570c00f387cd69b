//! The planner on configurations and states made here, without a cloud:
//! rolling groups become replacements in key order, and what refers to a
//! replaced resource is planned against the new one, not the old id.

use std::path::Path;

use k8sinfra_engine::plan::{configured, plan, resolve, Action, Plan};
use k8sinfra_engine::render::plan_text;
use k8sinfra_engine::state::{ResourceState, State};

use crate::support;

const CONFIG: &str = r#"aws { region = "us-east-1" }

vpc main {
  cidr = 10.0.0.0/16
}

subnet a {
  vpc  = vpc.main
  cidr = 10.0.1.0/24
  zone = "us-east-1a"
}

instance web {
  count  = 11
  image  = "ami-12c6146b"
  type   = "TYPE"
  subnet = subnet.a

  lifecycle {
    rolling_update { max_surge = 1 }
  }
}

ebs_volume data {
  zone = "us-east-1a"
  size = 10
}

volume_attachment data {
  volume   = ebs_volume.data
  instance = instance.web[0]
  device   = "xvdh"
}
"#;

fn planned(dir: &Path, instance_type: &str, state: &State) -> (Plan, k8sinfra_engine::config::Config) {
    std::fs::write(dir.join("main.k8sinfra"), CONFIG.replace("TYPE", instance_type)).expect("written");
    let (config, diags, _) = support::load(dir);
    let config = config.unwrap_or_else(|| panic!("valid: {diags:?}"));
    (plan(&config, state, &k8sinfra_providers::all()), config)
}

/// The state an apply of `config` would leave: every resource, with the
/// attributes it was sent.
fn applied(config: &k8sinfra_engine::config::Config) -> State {
    let mut state = State::new();
    for r in &config.resources {
        let address = r.addr.to_string();
        let resource = ResourceState {
            type_name: r.addr.type_name.clone(),
            id: format!("id-{address}"),
            attrs: Default::default(),
            dependencies: Vec::new(),
            sensitive: Default::default(),
        };
        state.resources.insert(address, resource);
    }
    let ids = state.clone();
    for (address, values) in configured(config, &k8sinfra_providers::all()) {
        let attrs = values.iter().filter_map(|(k, v)| Some((k.clone(), resolve(v, &ids)?))).collect();
        state.resources.get_mut(&address).expect("listed").attrs = attrs;
    }
    state
}

#[test]
fn a_rolling_group_is_replaced_in_order_and_what_refers_to_it_follows() {
    let dir = tempfile::tempdir().expect("temp dir");
    let (_, first) = planned(dir.path(), "t2.micro", &State::new());
    let state = applied(&first);
    let (same, _) = planned(dir.path(), "t2.micro", &state);
    assert!(!same.has_changes(), "the state matches: {:?}", same.changes);

    let (plan, _) = planned(dir.path(), "t2.small", &state);
    let acting: Vec<(&str, Action)> =
        plan.changes.iter().filter(|c| c.action != Action::NoOp).map(|c| (c.address.as_str(), c.action)).collect();
    assert_eq!(acting.len(), 12, "{acting:?}");
    for change in plan.changes.iter().filter(|c| c.type_name == "instance") {
        assert_eq!(change.action, Action::Replace, "a type change is in place, but not in a rolling group");
        assert!(change.create_before_destroy, "max_surge = 1: the new one first");
        assert_eq!(change.rolling.as_ref().map(|r| r.group.as_str()), Some("instance.web"));
    }
    // The attachment names an instance about to be replaced: it moves.
    let attachment = plan.changes.iter().find(|c| c.address == "volume_attachment.data").expect("planned");
    assert_eq!(attachment.action, Action::Replace);
    let instance = attachment.attrs.iter().find(|a| a.name == "instance").expect("the instance changes");
    assert_eq!((instance.before.as_ref(), instance.after.as_ref()), (Some(&"id-instance.web[0]".into()), None));

    let text = plan_text(&plan, false);
    assert!(
        text.contains(
            "instance.web[2] will be replaced, rolling 3 of 11 (a new one up before an old one goes, 1 at a time)"
        ),
        "{text}"
    );
    assert!(text.contains("instance.web[10] will be replaced, rolling 11 of 11"), "{text}");
}
