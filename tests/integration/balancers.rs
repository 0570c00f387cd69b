//! Classic load balancers on moto: a create whose answer was lost adopts
//! the balancer it made (by AWS's answer to the repeat, and by moto's
//! refusal and the ownership tags); one someone else made with the same
//! name is refused and left alone; a rolling group registers each new
//! member before its old one is deregistered and terminated.

use aws_sdk_elasticloadbalancing::types::Listener;

use crate::apply::{example, id, k8sinfra, k8sinfra_via, runtime, state};
use crate::aws_behaviour::Behaviours;
use crate::moto::Moto;
use crate::proxy::{CountingProxy, Faults};
use crate::support::{stderr, stdout};

const BALANCER: &str = r#"security_group web {
  vpc = vpc.main
}

load_balancer web {
  name            = "web"
  subnets         = [subnet.public]
  security_groups = [security_group.web]

  listener {
    port          = 80
    protocol      = "HTTP"
    instance_port = 80
  }
}
"#;

/// The VPC example with the balancer.
fn with_balancer() -> tempfile::TempDir {
    let dir = example("vpc");
    std::fs::write(dir.path().join("web.k8sinfra"), BALANCER).expect("balancer");
    dir
}

fn balancer_names(moto: &Moto) -> Vec<String> {
    let described = runtime().block_on(moto.elb().describe_load_balancers().send()).expect("describe");
    described.load_balancer_descriptions().iter().filter_map(|d| d.load_balancer_name()).map(str::to_string).collect()
}

/// The first CreateLoadBalancer acts and its answer is lost; the SDK sends
/// it again. AWS answers the repeat with the balancer (the relay's
/// `idempotency`), moto refuses it with DuplicateLoadBalancerName and the
/// ownership tags show it is this resource's: either way one balancer,
/// recorded, and the plan after has nothing to do.
#[test]
fn a_create_whose_answer_was_lost_adopts_the_balancer_it_made() {
    let aws = Behaviours { idempotency: true, ..Behaviours::none() };
    for (behaviours, answered) in [(aws, true), (Behaviours::none(), false)] {
        let moto = Moto::start();
        let dir = with_balancer();
        let faults = Faults { lose_first: &["CreateLoadBalancer"], ..Faults::default() };
        let relay = CountingProxy::like_aws(&moto.endpoint, behaviours, faults);
        let apply = k8sinfra_via(&moto, &relay.endpoint, dir.path(), &["apply", "--auto-approve"]);
        assert!(apply.status.success(), "{}{}", stdout(&apply), stderr(&apply));
        assert!(relay.injected().contains(&("drop after", "CreateLoadBalancer".to_string())), "{:?}", relay.injected());
        assert_eq!(relay.counts().get("CreateLoadBalancer"), Some(&2), "sent again: {:?}", relay.counts());
        let existing = relay.behaved().contains_key("load balancer create answered with the existing one");
        assert_eq!(existing, answered, "{:?}", relay.behaved());
        assert_eq!(balancer_names(&moto), ["web"]);
        assert_eq!(id(&state(dir.path()), "load_balancer.web"), "web");
        let plan = k8sinfra(&moto, dir.path(), &["plan", "--detailed-exitcode"]);
        assert_eq!(plan.status.code(), Some(0), "{}{}", stdout(&plan), stderr(&plan));
    }
}

/// A balancer of the same name made by hand (no ownership tags) is not
/// taken over: the create fails naming it and how to import it, the state
/// does not record it, and a destroy leaves it.
#[test]
fn a_balancer_someone_else_made_is_refused_and_left_alone() {
    let moto = Moto::start();
    let dir = example("vpc");
    let apply = k8sinfra(&moto, dir.path(), &["apply", "--auto-approve"]);
    assert!(apply.status.success(), "{}", stderr(&apply));
    let subnet = id(&state(dir.path()), "subnet.public");
    let listener = Listener::builder().protocol("HTTP").load_balancer_port(80).instance_port(80).build().expect("l");
    let made = moto.elb().create_load_balancer().load_balancer_name("web").listeners(listener).subnets(subnet).send();
    runtime().block_on(made).expect("made by hand");

    std::fs::write(dir.path().join("web.k8sinfra"), BALANCER).expect("balancer");
    let apply = k8sinfra(&moto, dir.path(), &["apply", "--auto-approve"]);
    assert_eq!(apply.status.code(), Some(1), "{}{}", stdout(&apply), stderr(&apply));
    let said = stderr(&apply);
    assert!(said.contains("load balancer `web` already exists and was not made by this configuration"), "{said}");
    assert!(said.contains("k8sinfra import load_balancer.web web"), "{said}");
    assert!(state(dir.path())["resources"].get("load_balancer.web").is_none());

    let destroy = k8sinfra(&moto, dir.path(), &["destroy", "--auto-approve"]);
    assert!(destroy.status.success(), "{}", stderr(&destroy));
    assert_eq!(balancer_names(&moto), ["web"], "someone else's balancer stays");
}

/// apply.md, rolling: a member's replacement is registered with its
/// `load_balancers` once it runs, before the old one is deregistered, and
/// the old one is deregistered before it is terminated: the balancer never
/// has fewer members in service than the group's size.
#[test]
fn a_rolling_replacement_registers_the_new_member_before_the_old_one_leaves() {
    let moto = Moto::start();
    let dir = with_balancer();
    let group = |instance_type: &str| {
        let text = format!(
            "instance node {{\n  count          = 2\n  image          = \"ami-a4c7edb2\"\n  type           = \
             \"{instance_type}\"\n  subnet         = subnet.private\n  load_balancers = [load_balancer.web]\n\n  \
             lifecycle {{\n    rolling_update {{\n      max_surge       = 1\n      max_unavailable = 0\n    }}\n  \
             }}\n}}\n"
        );
        std::fs::write(dir.path().join("nodes.k8sinfra"), text).expect("nodes");
    };
    group("t2.nano");
    let apply = k8sinfra(&moto, dir.path(), &["apply", "--auto-approve"]);
    assert!(apply.status.success(), "{}{}", stdout(&apply), stderr(&apply));
    let old: Vec<String> = (0..2).map(|i| id(&state(dir.path()), &format!("instance.node[{i}]"))).collect();

    group("t2.micro");
    let relay = CountingProxy::start(&moto.endpoint);
    let apply = k8sinfra_via(&moto, &relay.endpoint, dir.path(), &["apply", "--auto-approve"]);
    assert!(apply.status.success(), "{}{}", stdout(&apply), stderr(&apply));
    let new: Vec<String> = (0..2).map(|i| id(&state(dir.path()), &format!("instance.node[{i}]"))).collect();
    let requests = relay.requests();
    let at = |action: &str, instance: &str| {
        requests
            .iter()
            .position(|r| r.contains(&format!("Action={action}")) && r.contains(instance))
            .unwrap_or_else(|| panic!("no {action} of {instance}: {:?}", relay.counts()))
    };
    for i in 0..2 {
        assert_ne!(new[i], old[i], "node[{i}] replaced");
        let registered = at("RegisterInstancesWithLoadBalancer", &new[i]);
        let deregistered = at("DeregisterInstancesFromLoadBalancer", &old[i]);
        let terminated = at("TerminateInstances", &old[i]);
        assert!(registered < deregistered, "node[{i}]: the new one in before the old one out");
        assert!(deregistered < terminated, "node[{i}]: out of the balancer before it ends");
    }
    let described = runtime().block_on(moto.elb().describe_load_balancers().load_balancer_names("web").send());
    let mut members: Vec<String> = described.expect("describe").load_balancer_descriptions()[0]
        .instances()
        .iter()
        .filter_map(|i| i.instance_id())
        .map(str::to_string)
        .collect();
    members.sort();
    let mut expected = new.clone();
    expected.sort();
    assert_eq!(members, expected, "the balancer holds the new members only");
    let plan = k8sinfra(&moto, dir.path(), &["plan", "--detailed-exitcode"]);
    assert_eq!(plan.status.code(), Some(0), "{}{}", stdout(&plan), stderr(&plan));
}
