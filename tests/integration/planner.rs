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
            created: None,
            provider: String::new(),
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

/// A plan shows what is known: a block with one unknown part shows its
/// known parts, and an id not made yet shows the resource it comes from,
/// so a reviewer sees which zone each host lands in.
#[test]
fn a_plan_shows_the_known_parts_of_what_is_known_only_after_apply() {
    let dir = tempfile::tempdir().expect("tempdir");
    let config = r#"aws { region = "us-east-1" }

vpc main {
  cidr = 10.0.0.0/16
}

subnet private {
  for_each = ["us-east-1a", "us-east-1b"]
  vpc      = vpc.main
  cidr     = cidrsubnet(vpc.main.cidr, 8, each.key == "us-east-1a" ? 1 : 2)
  zone     = each.key
}

internet_gateway main {
  vpc = vpc.main
}

subnet public {
  vpc  = vpc.main
  cidr = 10.0.0.0/24
  zone = "us-east-1a"
}

route_table public {
  vpc     = vpc.main
  subnets = [subnet.public]

  route {
    cidr             = 0.0.0.0/0
    internet_gateway = internet_gateway.main
  }
}

elastic_ip nat {}

nat_gateway main {
  subnet     = subnet.public
  elastic_ip = elastic_ip.nat
}

route_table private {
  vpc     = vpc.main
  subnets = [subnet.private["us-east-1a"], subnet.private["us-east-1b"]]

  route {
    cidr        = 0.0.0.0/0
    nat_gateway = nat_gateway.main
  }
}

instance node {
  for_each = subnet.private
  image    = "ami-12c6146b"
  type     = "t2.medium"
  subnet   = each.value
}
"#;
    std::fs::write(dir.path().join("main.k8sinfra"), config).expect("written");
    let (loaded, diags, _) = support::load(dir.path());
    let loaded = loaded.unwrap_or_else(|| panic!("valid: {diags:?}"));
    let planned = plan(&loaded, &State::new(), &k8sinfra_providers::all());
    let text = plan_text(&planned, false);
    let flat = support::flat(&text);
    assert!(flat.contains(r#"subnet = subnet.private["us-east-1b"] (known after apply)"#), "{text}");
    assert!(
        flat.contains(r#"route = [{ cidr = "0.0.0.0/0", nat_gateway = nat_gateway.main (known after apply) }]"#),
        "{text}"
    );
    insta::assert_snapshot!(text);
}

/// A configured attribute made of something about to be made anew is
/// unknown until apply, and planned as a change: never the value it had
/// (the plan would keep a certificate signed by a CA that is going away,
/// and the next plan would find it changed). The CA here is forgotten
/// (`state rm`) and made again.
#[test]
fn what_is_made_of_a_resource_made_anew_is_planned_against_it_not_its_old_value() {
    use crate::support::{run, stderr, stdout};
    let dir = tempfile::tempdir().expect("tempdir");
    std::fs::write(
        dir.path().join("main.k8sinfra"),
        "tls_ca cluster {\n  common_name = \"kubernetes\"\n}\n\ntls_certificate admin {\n  ca_cert_pem = \
         tls_ca.cluster.cert_pem\n  ca_key_pem  = tls_ca.cluster.key_pem\n  common_name = \"kubernetes-admin\"\n}\n",
    )
    .expect("written");
    let ok = |args: &[&str]| {
        let out = run(dir.path(), args);
        assert!(out.status.success(), "{args:?}: {}{}", stdout(&out), stderr(&out));
        stdout(&out)
    };
    ok(&["apply", "--auto-approve"]);
    ok(&["state", "rm", "tls_ca.cluster"]);
    let plan = ok(&["plan"]);
    assert!(plan.contains("tls_ca.cluster will be created"), "{plan}");
    assert!(plan.contains("tls_certificate.admin will be replaced"), "{plan}");
    ok(&["apply", "--auto-approve"]);
    let state: serde_json::Value =
        serde_json::from_slice(&std::fs::read(dir.path().join(".k8sinfra/state.json")).expect("state")).expect("JSON");
    let attr = |address: &str, name: &str| state["resources"][address]["attrs"][name].clone();
    assert_eq!(
        attr("tls_certificate.admin", "ca_cert_pem"),
        attr("tls_ca.cluster", "cert_pem"),
        "signed by the new CA"
    );
    let settled = run(dir.path(), &["plan", "--detailed-exitcode"]);
    assert_eq!(settled.status.code(), Some(0), "{}", stdout(&settled));
}
