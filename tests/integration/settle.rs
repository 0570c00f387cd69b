//! Every apply settles: each configuration in `examples/`, each `stdlib/`
//! module (through its caller in `tests/fixtures/valid/settle`) and the
//! benchmark generators' shapes at a small size are applied on moto; the
//! plan right after must have nothing to do (`plan --detailed-exitcode`
//! exits 0), and `destroy` must leave nothing of ours in the account.
//! A plan that is not empty after an apply is a bug in the core, whatever
//! resource shows it: this test is where it turns up.

use std::path::Path;

use aws_sdk_ec2::types::{Filter, InstanceStateName};

use crate::apply::{k8sinfra, runtime};
use crate::moto::Moto;
use crate::support::{self, stderr, stdout};

/// A copy of `from`, folders included (a local module's).
fn copy_tree(from: &Path, to: &Path) {
    std::fs::create_dir_all(to).expect("mkdir");
    for entry in std::fs::read_dir(from).expect("read_dir").flatten() {
        let target = to.join(entry.file_name());
        if entry.path().is_dir() {
            copy_tree(&entry.path(), &target);
        } else {
            std::fs::copy(entry.path(), target).expect("copy");
        }
    }
}

/// A configuration in a fresh folder: a folder of the repository copied, or
/// the output of one of the benchmark generators.
fn configuration(source: &Source) -> tempfile::TempDir {
    let dir = tempfile::tempdir().expect("tempdir");
    match source {
        Source::Folder(path) => copy_tree(&support::root().join(path), dir.path()),
        Source::Shape(shape, size) => {
            let out = std::process::Command::new("python3")
                .arg(support::root().join("bench/shapes.py"))
                .args([shape, &size.to_string()])
                .arg(dir.path())
                .output()
                .expect("python3 runs bench/shapes.py");
            assert!(out.status.success(), "shape {shape}: {}", String::from_utf8_lossy(&out.stderr));
        }
        Source::Generated(script, size) => {
            let out = std::process::Command::new("python3")
                .arg(support::root().join(script))
                .arg(size.to_string())
                .output()
                .expect("python3 runs the generator");
            assert!(out.status.success(), "{script}: {}", String::from_utf8_lossy(&out.stderr));
            std::fs::write(dir.path().join("main.k8sinfra"), &out.stdout).expect("write");
        }
    }
    dir
}

enum Source {
    Folder(String),
    Generated(&'static str, usize),
    /// A shape of `bench/shapes.py`, at a size.
    Shape(String, usize),
}

/// Apply, plan again, destroy; panics with the plan that did not settle.
fn settles(source: &Source, name: &str) {
    let moto = Moto::start();
    let dir = configuration(source);
    let run = |args: &[&str]| k8sinfra(&moto, dir.path(), args);

    let init = run(&["init"]);
    assert!(init.status.success(), "{name}: init\n{}", stderr(&init));
    let apply = run(&["apply", "--auto-approve"]);
    assert!(apply.status.success(), "{name}: apply\n{}{}", stdout(&apply), stderr(&apply));
    let plan = run(&["plan", "--detailed-exitcode"]);
    assert_eq!(plan.status.code(), Some(0), "{name} did not settle:\n{}{}", stdout(&plan), stderr(&plan));

    let destroy = run(&["destroy", "--auto-approve"]);
    assert!(destroy.status.success(), "{name}: destroy\n{}{}", stdout(&destroy), stderr(&destroy));
    let left = leftovers(&moto);
    assert!(left.is_empty(), "{name}: destroy left {left:?}");
}

/// Whatever of ours is still in the account: EC2 resources tagged with an
/// address (instances not terminated, NAT gateways not deleted), key pairs,
/// zones, load balancers, and buckets other than a state bucket. (moto's
/// DescribeTags keeps the tags of deleted resources, so each type is
/// described.)
pub fn leftovers(moto: &Moto) -> Vec<String> {
    let rt = runtime();
    let ec2 = moto.ec2();
    let ours = || Filter::builder().name("tag-key").values("k8sinfra:address").build();
    let mut left: Vec<String> = Vec::new();
    let mut found = |kind: &str, ids: Vec<Option<&str>>| {
        left.extend(ids.into_iter().map(|id| format!("{kind} {}", id.unwrap_or_default())));
    };
    let instances = rt.block_on(ec2.describe_instances().filters(ours()).send()).expect("instances");
    found(
        "instance",
        instances
            .reservations()
            .iter()
            .flat_map(|r| r.instances())
            .filter(|i| i.state().and_then(|s| s.name()) != Some(&InstanceStateName::Terminated))
            .map(|i| i.instance_id())
            .collect(),
    );
    let vpcs = rt.block_on(ec2.describe_vpcs().filters(ours()).send()).expect("vpcs");
    found("vpc", vpcs.vpcs().iter().map(|v| v.vpc_id()).collect());
    let subnets = rt.block_on(ec2.describe_subnets().filters(ours()).send()).expect("subnets");
    found("subnet", subnets.subnets().iter().map(|s| s.subnet_id()).collect());
    let groups = rt.block_on(ec2.describe_security_groups().filters(ours()).send()).expect("groups");
    found("security group", groups.security_groups().iter().map(|g| g.group_id()).collect());
    let tables = rt.block_on(ec2.describe_route_tables().filters(ours()).send()).expect("tables");
    found("route table", tables.route_tables().iter().map(|t| t.route_table_id()).collect());
    let gateways = rt.block_on(ec2.describe_internet_gateways().filters(ours()).send()).expect("igws");
    found("internet gateway", gateways.internet_gateways().iter().map(|g| g.internet_gateway_id()).collect());
    let nats = rt.block_on(ec2.describe_nat_gateways().filter(ours()).send()).expect("nat gateways");
    found(
        "nat gateway",
        nats.nat_gateways()
            .iter()
            .filter(|n| n.state() != Some(&aws_sdk_ec2::types::NatGatewayState::Deleted))
            .map(|n| n.nat_gateway_id())
            .collect(),
    );
    let addresses = rt.block_on(ec2.describe_addresses().filters(ours()).send()).expect("eips");
    found("elastic ip", addresses.addresses().iter().map(|a| a.allocation_id()).collect());
    let volumes = rt.block_on(ec2.describe_volumes().filters(ours()).send()).expect("volumes");
    found("volume", volumes.volumes().iter().map(|v| v.volume_id()).collect());
    let keys = rt.block_on(ec2.describe_key_pairs().send()).expect("keys");
    found("key pair", keys.key_pairs().iter().map(|k| k.key_name()).collect());
    let zones = rt.block_on(moto.route53().list_hosted_zones().send()).expect("zones");
    found("zone", zones.hosted_zones().iter().map(|z| Some(z.name())).collect());
    let elbs = rt.block_on(moto.elb().describe_load_balancers().send()).expect("elbs");
    found("load balancer", elbs.load_balancer_descriptions().iter().map(|b| b.load_balancer_name()).collect());
    let buckets = rt.block_on(moto.s3().list_buckets().send()).expect("buckets");
    found(
        "bucket",
        buckets.buckets().iter().map(|b| b.name()).filter(|b| !b.is_some_and(|b| b.ends_with("-state"))).collect(),
    );
    left
}

/// Examples that read each other (`stack … { path = "../NAME/…" }`): each
/// copied beside the others under its own name, applied in the order
/// given (what is read first), each planned again to nothing, destroyed
/// in reverse order to nothing.
fn stacks_settle(names: &[String]) {
    let moto = Moto::start();
    let dir = tempfile::tempdir().expect("tempdir");
    let stacks: Vec<std::path::PathBuf> = names.iter().map(|n| dir.path().join(n)).collect();
    for (name, stack) in names.iter().zip(&stacks) {
        copy_tree(&support::root().join("examples").join(name), stack);
    }
    for stack in &stacks {
        let apply = k8sinfra(&moto, stack, &["apply", "--auto-approve"]);
        assert!(apply.status.success(), "{}: apply\n{}{}", stack.display(), stdout(&apply), stderr(&apply));
    }
    for stack in &stacks {
        let plan = k8sinfra(&moto, stack, &["plan", "--detailed-exitcode"]);
        assert_eq!(
            plan.status.code(),
            Some(0),
            "{} did not settle:\n{}{}",
            stack.display(),
            stdout(&plan),
            stderr(&plan)
        );
    }
    for stack in stacks.iter().rev() {
        let destroy = k8sinfra(&moto, stack, &["destroy", "--auto-approve"]);
        assert!(destroy.status.success(), "{}: destroy\n{}{}", stack.display(), stdout(&destroy), stderr(&destroy));
    }
    let left = leftovers(&moto);
    assert!(left.is_empty(), "{names:?}: destroy left {left:?}");
}

/// The sibling example whose state an example's `stack` reads, if any.
fn reads_sibling(example: &Path, names: &[String]) -> Option<String> {
    let text: String =
        support::k8sinfra_files(example).iter().filter_map(|f| std::fs::read_to_string(f).ok()).collect();
    names.iter().find(|n| text.contains(&format!("\"../{n}/"))).cloned()
}

#[test]
fn every_example_settles_and_destroys_to_nothing() {
    let examples = support::root().join("examples");
    let mut names: Vec<String> = std::fs::read_dir(&examples)
        .expect("examples")
        .flatten()
        .filter(|e| e.path().is_dir())
        .map(|e| e.file_name().to_string_lossy().into_owned())
        .collect();
    names.sort();
    assert!(names.len() >= 7, "{names:?}");
    for name in &names {
        let path = format!("examples/{name}");
        match reads_sibling(&examples.join(name), &names) {
            Some(read) => stacks_settle(&[read, name.clone()]),
            None => settles(&Source::Folder(path.clone()), &path),
        }
    }
}

#[test]
fn every_stdlib_module_settles_through_a_caller() {
    let callers = support::root().join("tests/fixtures/valid/settle");
    let modules: Vec<String> = std::fs::read_dir(support::root().join("stdlib"))
        .expect("stdlib")
        .flatten()
        .map(|e| e.file_name().to_string_lossy().trim_end_matches(".k8sinfra").to_string())
        .collect();
    for module in modules {
        assert!(callers.join(&module).is_dir(), "stdlib/{module} has no caller in tests/fixtures/valid/settle");
        let path = format!("tests/fixtures/valid/settle/{module}");
        settles(&Source::Folder(path.clone()), &path);
    }
}

/// The shapes `bench/shapes.py` draws (`--list`).
fn bench_shapes() -> Vec<String> {
    let out = std::process::Command::new("python3")
        .arg(support::root().join("bench/shapes.py"))
        .arg("--list")
        .output()
        .expect("python3 runs bench/shapes.py");
    assert!(out.status.success(), "{}", String::from_utf8_lossy(&out.stderr));
    let shapes: Vec<String> = String::from_utf8_lossy(&out.stdout).lines().map(str::to_string).collect();
    assert!(shapes.len() >= 8, "{shapes:?}");
    shapes
}

#[test]
fn the_benchmark_shapes_settle_at_a_small_size() {
    settles(&Source::Generated("bench/generate.py", 24), "bench/generate.py 24");
    settles(&Source::Generated("bench/generate_lets.py", 6), "bench/generate_lets.py 6");
    for shape in bench_shapes().into_iter().filter(|s| !matches!(s.as_str(), "groups" | "lets-bound")) {
        let name = format!("bench/shapes.py {shape} 12");
        settles(&Source::Shape(shape, 12), &name);
    }
}

/// Each shape of the benchmark set at 100 resources, as `bench/shapes`
/// measures it at 1k to 10k: `validate` and an offline `plan` (nothing
/// listens at the endpoint it is given), which must count about the
/// resources asked for (the generators cannot rot into checking something
/// smaller than they claim).
#[test]
fn every_benchmark_shape_checks_and_plans_at_100_resources() {
    let moto = Moto::start();
    for shape in bench_shapes() {
        let dir = configuration(&Source::Shape(shape.clone(), 100));
        let run = |args: &[&str]| k8sinfra(&moto, dir.path(), args);
        let validate = run(&["validate"]);
        assert!(validate.status.success(), "{shape}: validate\n{}", stderr(&validate));
        // Offline: nothing answers at the endpoint (the groups shape
        // launches instances, whose images only `apply` checks then).
        let plan = crate::apply::k8sinfra_via(
            &moto,
            "http://127.0.0.1:9",
            dir.path(),
            &["plan", "--refresh=false", "--lock=false"],
        );
        assert!(plan.status.success(), "{shape}: plan\n{}{}", stdout(&plan), stderr(&plan));
        let to_add = stdout(&plan)
            .lines()
            .find_map(|l| l.strip_prefix("Plan: ")?.split(' ').next()?.parse::<usize>().ok())
            .unwrap_or_else(|| panic!("{shape}: no summary in\n{}", stdout(&plan)));
        assert!((90..=130).contains(&to_add), "{shape}: {to_add} resources to add at 100:\n{}", stdout(&plan));
    }
}
