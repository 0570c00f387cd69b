//! Kill and resume: `apply` of the seed chapter, its `destroy`, and a
//! rolling replacement of the cluster's nodes are killed with SIGKILL at
//! moments spread over their timelines (through a relay that gives every
//! call AWS-like latency, so there is a timeline to spread over), and run
//! again. Every kill must land while the run is still going (a run that
//! ended first is undone and killed earlier). After every
//! re-run the account holds exactly the declared resources — none orphaned,
//! none twice — the state matches it, and a plan has nothing to do.
//!
//! `K8SINFRA_KILLS` sets how many moments (the apply's; destroy and the
//! roll get a quarter as many, at least two); `./scripts/test` runs 20.

use std::collections::BTreeMap;
use std::path::Path;
use std::process::{Command, Stdio};
use std::time::{Duration, Instant};

use aws_sdk_ec2::types::{Filter, InstanceStateName};

use crate::apply::{example, k8sinfra, k8sinfra_via, runtime};
use crate::aws_behaviour::Behaviours;
use crate::faults::{assert_account_matches_state, inventory, state};
use crate::moto::Moto;
use crate::proxy::CountingProxy;
use crate::support::{stderr, stdout};

fn kills() -> u32 {
    std::env::var("K8SINFRA_KILLS").ok().and_then(|n| n.parse().ok()).unwrap_or(4)
}

/// Midpoints of `n` equal slices of most of a timeline: the last part is
/// left out, where a run that happens to be quicker this time may already
/// have ended.
fn moments(span: Duration, n: u32) -> Vec<Duration> {
    (0..n).map(|i| span.mul_f64(0.85) * (2 * i + 1) / (2 * n)).collect()
}

/// Start `args` through the relay and SIGKILL it `at` after. A run that
/// has already finished (this one quicker than the timeline) proves
/// nothing: it is reset by `again` and started anew with an earlier
/// moment; after three tries the test fails.
fn kill_at(moto: &Moto, relay: &CountingProxy, dir: &Path, args: &[&str], at: Duration, again: impl Fn()) {
    let mut at = at;
    for _ in 0..3 {
        let mut run = Command::new(env!("CARGO_BIN_EXE_k8sinfra"));
        run.args(args).current_dir(dir).env("NO_COLOR", "1");
        for (k, v) in moto.env() {
            run.env(k, if k == "AWS_ENDPOINT_URL" { relay.endpoint.clone() } else { v });
        }
        let mut child = run.stdout(Stdio::null()).stderr(Stdio::null()).spawn().expect("the run starts");
        std::thread::sleep(at);
        if child.try_wait().expect("the run's status").is_none() {
            child.kill().expect("SIGKILL");
            child.wait().expect("reaped");
            return;
        }
        again();
        at = at.mul_f64(0.6);
    }
    panic!("{args:?} ended before every kill, the last at {at:?}");
}

/// How long `args` takes through the relay.
fn timeline(moto: &Moto, relay: &CountingProxy, dir: &Path, args: &[&str]) -> Duration {
    let started = Instant::now();
    let whole = k8sinfra_via(moto, &relay.endpoint, dir, args);
    assert!(whole.status.success(), "{args:?}: {}", stderr(&whole));
    started.elapsed()
}

#[test]
fn an_apply_killed_at_any_moment_is_finished_by_the_next_with_nothing_twice() {
    let moto = Moto::start();
    let dir = example("seed-chapter");
    let relay = CountingProxy::slow(&moto.endpoint, Duration::from_millis(20));
    assert!(k8sinfra(&moto, dir.path(), &["init"]).status.success());

    // Once to warm the server (moto loads its EC2 catalogue on the first
    // call, most of a second), then the timeline.
    for _ in 0..2 {
        assert!(k8sinfra(&moto, dir.path(), &["apply", "--auto-approve"]).status.success());
        assert!(k8sinfra(&moto, dir.path(), &["destroy", "--auto-approve"]).status.success());
    }
    let span = timeline(&moto, &relay, dir.path(), &["apply", "--auto-approve"]);
    assert!(k8sinfra(&moto, dir.path(), &["destroy", "--auto-approve"]).status.success());

    for (i, at) in moments(span, kills()).into_iter().enumerate() {
        let undo = || assert!(k8sinfra(&moto, dir.path(), &["destroy", "--auto-approve"]).status.success());
        kill_at(&moto, &relay, dir.path(), &["apply", "--auto-approve"], at, undo);
        let resumed = k8sinfra(&moto, dir.path(), &["apply", "--auto-approve"]);
        assert!(resumed.status.success(), "kill {i} at {at:?}: {}{}", stdout(&resumed), stderr(&resumed));
        let plan = k8sinfra(&moto, dir.path(), &["plan", "--detailed-exitcode"]);
        assert_eq!(plan.status.code(), Some(0), "kill {i} at {at:?}: {}", stdout(&plan));
        assert_account_matches_state(&moto, &state(&moto));
        assert_eq!(inventory(&moto).len(), 17, "kill {i} at {at:?}: {:?}", inventory(&moto));

        let destroy = k8sinfra(&moto, dir.path(), &["destroy", "--auto-approve"]);
        assert!(destroy.status.success(), "kill {i}: {}", stderr(&destroy));
        assert!(inventory(&moto).is_empty(), "kill {i}: {:?}", inventory(&moto));
    }
}

/// The apply killed through the AWS-behaviour layer and resumed at once,
/// through it too: what the killed run made moments ago is not visible yet
/// (not found by id, left out of describes by tag), so the resumed run's
/// refresh must not take its creates in doubt for never made. Keyed creates
/// are sent again with the same client token; the others are looked for
/// until AWS would show them.
#[test]
fn an_apply_killed_amid_aws_behaviour_is_finished_at_once_with_nothing_twice() {
    let moto = Moto::start();
    let dir = example("seed-chapter");
    let relay = CountingProxy::like_aws_slow(&moto.endpoint, Duration::from_millis(20), Behaviours::all());
    assert!(k8sinfra(&moto, dir.path(), &["init"]).status.success());
    let via = |args: &[&str]| k8sinfra_via(&moto, &relay.endpoint, dir.path(), args);
    assert!(k8sinfra(&moto, dir.path(), &["apply", "--auto-approve"]).status.success());
    assert!(k8sinfra(&moto, dir.path(), &["destroy", "--auto-approve"]).status.success());
    let span = timeline(&moto, &relay, dir.path(), &["apply", "--auto-approve"]);
    assert!(via(&["destroy", "--auto-approve"]).status.success());

    for (i, at) in moments(span, (kills() / 4).max(2)).into_iter().enumerate() {
        let undo = || assert!(via(&["destroy", "--auto-approve"]).status.success());
        kill_at(&moto, &relay, dir.path(), &["apply", "--auto-approve"], at, undo);
        let resumed = via(&["apply", "--auto-approve"]);
        assert!(resumed.status.success(), "kill {i} at {at:?}: {}{}", stdout(&resumed), stderr(&resumed));
        let plan = via(&["plan", "--detailed-exitcode"]);
        assert_eq!(plan.status.code(), Some(0), "kill {i} at {at:?}: {}", stdout(&plan));
        assert_account_matches_state(&moto, &state(&moto));
        assert_eq!(inventory(&moto).len(), 17, "kill {i} at {at:?}: {:?}", inventory(&moto));
        let destroy = via(&["destroy", "--auto-approve"]);
        assert!(destroy.status.success(), "kill {i}: {}", stderr(&destroy));
        assert!(inventory(&moto).is_empty(), "kill {i}: {:?}", inventory(&moto));
    }
    // Which describes the resumed runs met too early depends on where each
    // kill landed; that calls met new ids too early is certain.
    let acted = relay.behaved();
    assert!(acted.contains_key("not visible yet"), "{acted:?}");
}

#[test]
fn a_destroy_killed_at_any_moment_is_finished_by_the_next() {
    let moto = Moto::start();
    let dir = example("seed-chapter");
    let relay = CountingProxy::slow(&moto.endpoint, Duration::from_millis(20));
    assert!(k8sinfra(&moto, dir.path(), &["init"]).status.success());
    assert!(k8sinfra(&moto, dir.path(), &["apply", "--auto-approve"]).status.success());
    let span = timeline(&moto, &relay, dir.path(), &["destroy", "--auto-approve"]);

    for (i, at) in moments(span, (kills() / 4).max(2)).into_iter().enumerate() {
        let apply = k8sinfra(&moto, dir.path(), &["apply", "--auto-approve"]);
        assert!(apply.status.success(), "kill {i}: {}", stderr(&apply));
        let undo = || assert!(k8sinfra(&moto, dir.path(), &["apply", "--auto-approve"]).status.success());
        kill_at(&moto, &relay, dir.path(), &["destroy", "--auto-approve"], at, undo);
        let resumed = k8sinfra(&moto, dir.path(), &["destroy", "--auto-approve"]);
        assert!(resumed.status.success(), "kill {i} at {at:?}: {}{}", stdout(&resumed), stderr(&resumed));
        assert!(inventory(&moto).is_empty(), "kill {i} at {at:?}: left {:?}", inventory(&moto));
        let left = state(&moto);
        assert!(left["resources"].as_object().is_none_or(serde_json::Map::is_empty), "kill {i}: {left}");
    }
}

/// The cluster's instances that run, by address: a rolling replacement
/// killed midway must end with each address once.
fn running_hosts(moto: &Moto) -> BTreeMap<String, Vec<String>> {
    let filter = Filter::builder().name("tag-key").values("k8sinfra:address").build();
    let found = runtime().block_on(moto.ec2().describe_instances().filters(filter).send()).expect("instances");
    let mut hosts: BTreeMap<String, Vec<String>> = BTreeMap::new();
    for instance in found.reservations().iter().flat_map(|r| r.instances()) {
        let state = instance.state().and_then(|s| s.name());
        if matches!(state, Some(InstanceStateName::Terminated | InstanceStateName::ShuttingDown)) {
            continue;
        }
        let address = instance
            .tags()
            .iter()
            .find(|t| t.key() == Some("k8sinfra:address"))
            .and_then(|t| t.value())
            .unwrap_or_default();
        let kind = instance.instance_type().map(|t| t.as_str().to_string()).unwrap_or_default();
        hosts.entry(address.to_string()).or_default().push(kind);
    }
    hosts
}

#[test]
fn a_rolling_replacement_killed_midway_is_finished_by_the_next() {
    let moto = Moto::start();
    let dir = example("kops-cluster");
    let relay = CountingProxy::slow(&moto.endpoint, Duration::from_millis(20));
    let edit = ["apply", "--auto-approve", "--var-file", "edit-nodes.vars"];
    assert!(k8sinfra(&moto, dir.path(), &["init"]).status.success());
    let first = k8sinfra(&moto, dir.path(), &["apply", "--auto-approve"]);
    assert!(first.status.success(), "{}", stderr(&first));
    let span = timeline(&moto, &relay, dir.path(), &edit);

    for (i, at) in moments(span, (kills() / 4).max(2)).into_iter().enumerate() {
        let back = k8sinfra(&moto, dir.path(), &["apply", "--auto-approve"]);
        assert!(back.status.success(), "kill {i}: back to two nodes: {}", stderr(&back));
        let undo = || assert!(k8sinfra(&moto, dir.path(), &["apply", "--auto-approve"]).status.success());
        kill_at(&moto, &relay, dir.path(), &edit, at, undo);
        let resumed = k8sinfra(&moto, dir.path(), &edit);
        assert!(resumed.status.success(), "kill {i} at {at:?}: {}{}", stdout(&resumed), stderr(&resumed));
        let plan = k8sinfra(&moto, dir.path(), &["plan", "--detailed-exitcode", "--var-file", "edit-nodes.vars"]);
        assert_eq!(plan.status.code(), Some(0), "kill {i} at {at:?}: {}", stdout(&plan));
        let hosts = running_hosts(&moto);
        let twice: Vec<_> = hosts.iter().filter(|(_, kinds)| kinds.len() > 1).collect();
        assert!(twice.is_empty(), "kill {i} at {at:?}: running twice: {twice:?}");
        let nodes: Vec<_> = hosts.iter().filter(|(a, _)| a.contains("instance.node")).collect();
        assert_eq!(nodes.len(), 1, "kill {i} at {at:?}: one node after the edit: {hosts:?}");
        assert_eq!(*nodes[0].1, ["t2.small"], "kill {i} at {at:?}: {hosts:?}");
    }
}
