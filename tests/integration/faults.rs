//! Faults between k8sinfra and AWS: the seed chapter applied through a
//! relay that answers a share of requests with 500, 503 or throttling
//! errors and drops connections, before the request reaches moto or after
//! moto acted on it. The apply must converge — every declared resource
//! made exactly once, the state matching the account — and a plan
//! afterwards must find nothing to do.

use std::collections::BTreeMap;
use std::path::Path;

use aws_sdk_ec2::types::Filter;

use crate::apply::{example, k8sinfra, k8sinfra_via, runtime};
use crate::moto::Moto;
use crate::proxy::{CountingProxy, Faults};
use crate::support::{stderr, stdout};

const OWNER: &str = "k8sinfra:address";

fn owned() -> Filter {
    Filter::builder().name("tag-key").values(OWNER).build()
}

fn address(tags: &[aws_sdk_ec2::types::Tag]) -> String {
    tags.iter().find(|t| t.key() == Some(OWNER)).and_then(|t| t.value()).unwrap_or("?").to_string()
}

/// What k8sinfra made in the account: how many of each address, by type.
/// EC2 resources carry their address in a tag; the load balancer, zone and
/// bucket are counted by name (AWS keeps those unique, or nearly).
pub fn inventory(moto: &Moto) -> BTreeMap<String, usize> {
    let rt = runtime();
    let ec2 = moto.ec2();
    let mut found: Vec<String> = Vec::new();
    let out = rt.block_on(ec2.describe_instances().filters(owned()).send()).expect("instances");
    for i in out.reservations().iter().flat_map(|r| r.instances()) {
        if i.state().and_then(|s| s.name()).map(|n| n.as_str()) != Some("terminated") {
            found.push(address(i.tags()));
        }
    }
    let out = rt.block_on(ec2.describe_vpcs().filters(owned()).send()).expect("vpcs");
    found.extend(out.vpcs().iter().map(|v| address(v.tags())));
    let out = rt.block_on(ec2.describe_subnets().filters(owned()).send()).expect("subnets");
    found.extend(out.subnets().iter().map(|v| address(v.tags())));
    let out = rt.block_on(ec2.describe_security_groups().filters(owned()).send()).expect("groups");
    found.extend(out.security_groups().iter().map(|v| address(v.tags())));
    let out = rt.block_on(ec2.describe_route_tables().filters(owned()).send()).expect("tables");
    found.extend(out.route_tables().iter().map(|v| address(v.tags())));
    let out = rt.block_on(ec2.describe_internet_gateways().filters(owned()).send()).expect("igws");
    found.extend(out.internet_gateways().iter().map(|v| address(v.tags())));
    let out = rt.block_on(ec2.describe_addresses().filters(owned()).send()).expect("addresses");
    found.extend(out.addresses().iter().map(|v| address(v.tags())));
    let out = rt.block_on(ec2.describe_nat_gateways().filter(owned()).send()).expect("nats");
    for n in out.nat_gateways() {
        if n.state().map(|s| s.as_str()) != Some("deleted") {
            found.push(address(n.tags()));
        }
    }
    let out = rt.block_on(ec2.describe_volumes().filters(owned()).send()).expect("volumes");
    // A root volume carries its instance's tags: only volumes of their own.
    found.extend(
        out.volumes()
            .iter()
            .filter(|v| {
                v.attachments().iter().all(|a| a.device() != Some("/dev/sda1") && a.device() != Some("/dev/xvda"))
            })
            .map(|v| address(v.tags())),
    );
    let out = rt.block_on(ec2.describe_key_pairs().send()).expect("keys");
    found.extend(out.key_pairs().iter().map(|k| format!("key_pair {}", k.key_name().unwrap_or_default())));
    let out = rt.block_on(moto.elb().describe_load_balancers().send()).expect("elbs");
    found.extend(
        out.load_balancer_descriptions().iter().map(|l| format!("elb {}", l.load_balancer_name().unwrap_or_default())),
    );
    let out = rt.block_on(moto.route53().list_hosted_zones().send()).expect("zones");
    found.extend(out.hosted_zones().iter().map(|z| format!("zone {}", z.name())));
    let mut counts = BTreeMap::new();
    for f in found {
        *counts.entry(f).or_default() += 1;
    }
    counts
}

/// The state the seed chapter keeps in S3.
pub fn state(moto: &Moto) -> serde_json::Value {
    state_of(moto, "seed-chapter")
}

/// The state an example keeps in the examples' state bucket.
pub fn state_of(moto: &Moto, example: &str) -> serde_json::Value {
    let rt = runtime();
    let object = rt
        .block_on(moto.s3().get_object().bucket("k8s-devops-state").key(format!("{example}/state.json")).send())
        .expect("the state object");
    serde_json::from_slice(&rt.block_on(object.body.collect()).expect("body").into_bytes()).expect("JSON")
}

/// The account holds exactly what the state says, each thing once.
pub fn assert_account_matches_state(moto: &Moto, state: &serde_json::Value) {
    let account = inventory(moto);
    let twice: Vec<_> = account.iter().filter(|(_, n)| **n > 1).collect();
    assert!(twice.is_empty(), "made more than once: {twice:?}");
    let resources = state["resources"].as_object().expect("resources");
    let tagged = [
        "vpc",
        "subnet",
        "security_group",
        "route_table",
        "internet_gateway",
        "elastic_ip",
        "nat_gateway",
        "instance",
        "ebs_volume",
    ];
    let in_state: Vec<&String> = resources
        .iter()
        .filter(|(_, r)| tagged.contains(&r["type"].as_str().unwrap_or_default()))
        .map(|(address, _)| address)
        .collect();
    let in_account: Vec<&String> = account.keys().filter(|k| !k.contains(' ')).collect();
    assert_eq!(in_account, in_state, "the account and the state list the same resources");
    assert!(state["pending"].as_object().is_none_or(|p| p.is_empty()), "nothing left in doubt: {}", state["pending"]);
}

/// Apply through the relay until it succeeds (at most `runs` times). The
/// failures and the faults are printed: the test's output is how a seed
/// that fails is understood and replayed.
#[allow(clippy::print_stderr)]
fn converge(moto: &Moto, relay: &CountingProxy, dir: &Path, runs: usize) -> usize {
    for run in 1..=runs {
        let apply = k8sinfra_via(moto, &relay.endpoint, dir, &["apply", "--auto-approve"]);
        if apply.status.success() {
            return run;
        }
        eprintln!("apply {run} failed:\n{}", stderr(&apply));
    }
    panic!("no convergence in {runs} applies");
}

/// `K8SINFRA_FAULT_SEED` replaces a test's seed, to explore or replay.
fn seeded(mut faults: Faults) -> Faults {
    if let Some(seed) = std::env::var("K8SINFRA_FAULT_SEED").ok().and_then(|s| s.parse().ok()) {
        faults.seed = seed;
    }
    faults
}

#[allow(clippy::print_stderr)]
fn seed_through(faults: Faults) -> (Moto, tempfile::TempDir, CountingProxy, usize) {
    let faults = seeded(faults);
    let moto = Moto::start();
    let dir = example("seed-chapter");
    let relay = CountingProxy::faulty(&moto.endpoint, faults);
    // The state's bucket is made directly: init is not what is tested.
    let init = k8sinfra(&moto, dir.path(), &["init"]);
    assert!(init.status.success(), "init: {}", stderr(&init));
    let runs = converge(&moto, &relay, dir.path(), 5);
    eprintln!("seed {}: {} faults, {runs} applies: {:?}", faults.seed, relay.injected().len(), relay.injected());
    (moto, dir, relay, runs)
}

#[test]
fn errors_and_refused_connections_are_retried_and_the_apply_converges() {
    let faults = Faults { errors: 0.07, drops_before: 0.03, drops_after: 0.0, seed: 1, lose_first: &[] };
    let (moto, dir, relay, runs) = seed_through(faults);
    let injected = relay.injected();
    assert!(injected.len() >= 5, "{} faults injected: {injected:?}", injected.len());
    assert_eq!(runs, 1, "retries absorb errors before the request is acted on: one apply is enough");
    let plan = k8sinfra(&moto, dir.path(), &["plan", "--detailed-exitcode"]);
    assert_eq!(plan.status.code(), Some(0), "{}{}", stdout(&plan), stderr(&plan));
    assert_account_matches_state(&moto, &state(&moto));
}

#[test]
fn answers_lost_after_the_cloud_acted_make_no_duplicates() {
    // Each one's first answer is lost after it acted. EC2 would make a
    // second VPC, subnet or address if the call were simply repeated;
    // RunInstances and CreateVolume carry the create's client token, which
    // the relay honours as EC2 does.
    const CREATES: &[&str] = &["CreateVpc", "CreateSubnet", "AllocateAddress", "RunInstances", "CreateVolume"];
    let faults = Faults { errors: 0.04, drops_before: 0.03, drops_after: 0.03, seed: 2, lose_first: CREATES };
    let (moto, dir, relay, runs) = seed_through(faults);
    assert!(runs <= 2, "{runs} applies to converge");
    let lost: Vec<String> =
        relay.injected().into_iter().filter(|(kind, _)| *kind == "drop after").map(|(_, op)| op).collect();
    for create in CREATES {
        assert!(lost.iter().any(|op| op == create), "the answer to {create} was lost: {lost:?}");
    }
    let plan = k8sinfra(&moto, dir.path(), &["plan", "--detailed-exitcode"]);
    assert_eq!(plan.status.code(), Some(0), "{}{}", stdout(&plan), stderr(&plan));
    assert_account_matches_state(&moto, &state(&moto));
}
