//! plan, apply and destroy against moto, through the real AWS SDK: the
//! whole path from a .k8sinfra file to resources in the API server and
//! back, drift included.

use std::path::Path;
use std::process::Output;

use crate::moto::Moto;
use crate::support::{self, flat, stderr, stdout};

pub fn k8sinfra(moto: &Moto, dir: &Path, args: &[&str]) -> Output {
    k8sinfra_via(moto, &moto.endpoint, dir, args)
}

/// k8sinfra in `dir`, talking to `endpoint`: moto, or a relay to it.
pub fn k8sinfra_via(moto: &Moto, endpoint: &str, dir: &Path, args: &[&str]) -> Output {
    let mut command = std::process::Command::new(env!("CARGO_BIN_EXE_k8sinfra"));
    command.args(args).current_dir(dir).env("NO_COLOR", "1").env_remove("AWS_PROFILE");
    for (k, v) in moto.env() {
        command.env(k, if k == "AWS_ENDPOINT_URL" { endpoint.to_string() } else { v });
    }
    command.output().expect("k8sinfra runs")
}

pub fn example(name: &str) -> tempfile::TempDir {
    let dir = tempfile::tempdir().expect("tempdir");
    for entry in std::fs::read_dir(support::root().join("examples").join(name)).expect("example").flatten() {
        std::fs::copy(entry.path(), dir.path().join(entry.file_name())).expect("copy");
    }
    dir
}

pub fn runtime() -> tokio::runtime::Runtime {
    tokio::runtime::Builder::new_current_thread().enable_all().build().expect("runtime")
}

pub fn state(dir: &Path) -> serde_json::Value {
    serde_json::from_slice(&std::fs::read(dir.join(".k8sinfra/state.json")).expect("state file")).expect("state JSON")
}

pub fn id(state: &serde_json::Value, address: &str) -> String {
    state["resources"][address]["id"].as_str().unwrap_or_else(|| panic!("{address} in state")).to_string()
}

#[test]
fn apply_creates_tags_and_converges_then_repairs_drift_then_destroys() {
    let moto = Moto::start();
    let dir = example("vpc");
    let rt = runtime();
    let ec2 = moto.ec2();

    let plan = k8sinfra(&moto, dir.path(), &["plan", "--detailed-exitcode"]);
    assert_eq!(plan.status.code(), Some(2), "{}", stderr(&plan));
    assert!(stdout(&plan).contains("Plan: 8 to add, 0 to change, 0 to replace, 0 to destroy."), "{}", stdout(&plan));

    let apply = k8sinfra(&moto, dir.path(), &["apply", "--auto-approve"]);
    assert!(apply.status.success(), "{}{}", stdout(&apply), stderr(&apply));
    assert!(stderr(&apply).contains("Resources: 8 added, 0 changed, 0 replaced, 0 destroyed."), "{}", stderr(&apply));

    // What the API server holds: one VPC, tagged in its create call.
    let state = state(dir.path());
    assert_eq!(state["format_version"], 1);
    // A write records the creates about to start, another their results
    // (those that finish together share one), one more the outputs: at
    // most 17 for 8 creates; fewer when writes coalesce.
    let serial = state["serial"].as_u64().expect("serial");
    assert!((5..=17).contains(&serial), "serial {serial}");
    let vpc_id = id(&state, "vpc.main");
    let vpcs = rt.block_on(ec2.describe_vpcs().vpc_ids(&vpc_id).send()).expect("describe");
    let vpc = &vpcs.vpcs()[0];
    assert_eq!(vpc.cidr_block(), Some("10.0.0.0/16"));
    let tag = |key: &str| vpc.tags().iter().find(|t| t.key() == Some(key)).and_then(|t| t.value()).map(str::to_string);
    assert_eq!(tag("k8sinfra:address").as_deref(), Some("vpc.main"));
    assert_eq!(tag("Name").as_deref(), Some("vpc.main"), "`Name` defaults to the address");
    assert_eq!(tag("k8sinfra:lineage").as_deref(), state["lineage"].as_str());
    assert_eq!(tag("Project").as_deref(), Some("k8s-devops"));
    let subnet =
        rt.block_on(ec2.describe_subnets().subnet_ids(id(&state, "subnet.public")).send()).expect("describe subnet");
    assert_eq!(subnet.subnets()[0].vpc_id(), Some(vpc_id.as_str()), "the reference became the VPC's id");
    assert_eq!(subnet.subnets()[0].map_public_ip_on_launch(), Some(true));
    let gateways = rt
        .block_on(ec2.describe_internet_gateways().internet_gateway_ids(id(&state, "internet_gateway.main")).send())
        .expect("describe gateway");
    assert_eq!(gateways.internet_gateways()[0].attachments()[0].vpc_id(), Some(vpc_id.as_str()));

    let output = k8sinfra(&moto, dir.path(), &["output", "vpc_id"]);
    assert_eq!(stdout(&output).trim(), vpc_id, "the output took the id the cloud chose");

    let again = k8sinfra(&moto, dir.path(), &["plan", "--detailed-exitcode"]);
    assert_eq!(again.status.code(), Some(0), "nothing to do after apply:\n{}", stdout(&again));

    // Drift: change a setting and delete a subnet behind k8sinfra's back.
    rt.block_on(
        ec2.modify_vpc_attribute()
            .vpc_id(&vpc_id)
            .enable_dns_hostnames(aws_sdk_ec2::types::AttributeBooleanValue::builder().value(false).build())
            .send(),
    )
    .expect("drift the VPC");
    rt.block_on(ec2.delete_subnet().subnet_id(id(&state, "subnet.private")).send()).expect("drift a subnet");
    let drift = k8sinfra(&moto, dir.path(), &["plan", "--detailed-exitcode"]);
    assert_eq!(drift.status.code(), Some(2));
    let shown = stdout(&drift);
    assert!(shown.contains("~ enable_dns_hostnames = false -> true"), "{shown}");
    assert!(shown.contains("# subnet.private will be created"), "{shown}");
    assert!(shown.contains("# route_table.private will be updated in place"), "it follows the new subnet: {shown}");
    assert!(shown.contains("Plan: 1 to add, 2 to change, 0 to replace, 0 to destroy."), "{shown}");
    let repair = k8sinfra(&moto, dir.path(), &["apply", "--auto-approve"]);
    assert!(repair.status.success(), "{}", stderr(&repair));
    assert_eq!(k8sinfra(&moto, dir.path(), &["plan", "--detailed-exitcode"]).status.code(), Some(0));

    let destroy = k8sinfra(&moto, dir.path(), &["destroy", "--auto-approve"]);
    assert!(destroy.status.success(), "{}", stderr(&destroy));
    let left = rt
        .block_on(
            ec2.describe_vpcs()
                .filters(aws_sdk_ec2::types::Filter::builder().name("tag:k8sinfra:address").values("vpc.main").build())
                .send(),
        )
        .expect("describe");
    assert!(left.vpcs().is_empty(), "destroy removed the VPC");
    assert_eq!(self::state(dir.path())["resources"], serde_json::json!({}));
}

#[test]
fn a_failed_create_keeps_what_finished_and_skips_its_dependents() {
    let moto = Moto::start();
    let dir = tempfile::tempdir().expect("tempdir");
    std::fs::write(
        dir.path().join("main.k8sinfra"),
        "aws { region = \"us-east-1\" }\n\
         vpc main { cidr = 10.1.0.0/16 }\n\
         subnet orphan {\n  vpc  = \"vpc-doesnotexist\"\n  cidr = 10.9.0.0/24\n  zone = \"us-east-1a\"\n}\n\
         internet_gateway main { vpc = vpc.main }\n",
    )
    .expect("write");
    let out = k8sinfra(&moto, dir.path(), &["apply", "--auto-approve"]);
    let err = stderr(&out);
    assert_eq!(out.status.code(), Some(1), "{err}");
    assert!(err.contains("subnet.orphan: failed: CreateSubnet failed: InvalidVpcID.NotFound"), "{err}");
    assert!(err.contains("apply failed: 1 failed, 0 skipped, 2 done (in the state)."), "{err}");
    let state = state(dir.path());
    assert!(state["resources"]["vpc.main"]["id"].is_string());
    assert!(state["resources"]["internet_gateway.main"]["id"].is_string());
    assert!(state["resources"]["subnet.orphan"].is_null());
}

#[test]
fn a_held_lock_stops_a_second_apply() {
    let moto = Moto::start();
    let dir = example("vpc");
    std::fs::create_dir_all(dir.path().join(".k8sinfra")).expect("dir");
    std::fs::write(dir.path().join(".k8sinfra/state.json.lock"), "pid 4242 (apply)\n").expect("lock");
    let out = k8sinfra(&moto, dir.path(), &["apply", "--auto-approve"]);
    assert_eq!(out.status.code(), Some(1));
    assert!(flat(&stderr(&out)).contains("cannot read (\"pid 4242 (apply)\")"), "{}", stderr(&out));
}

#[test]
fn prevent_destroy_stops_destroy_and_replacement() {
    let moto = Moto::start();
    let dir = tempfile::tempdir().expect("tempdir");
    let config = |cidr: &str| {
        format!("aws {{ region = \"us-east-1\" }}\nvpc main {{\n  cidr = {cidr}\n  lifecycle {{ prevent_destroy = true }}\n}}\n")
    };
    std::fs::write(dir.path().join("main.k8sinfra"), config("10.2.0.0/16")).expect("write");
    assert!(k8sinfra(&moto, dir.path(), &["apply", "--auto-approve"]).status.success());
    let destroy = k8sinfra(&moto, dir.path(), &["destroy", "--auto-approve"]);
    assert_eq!(destroy.status.code(), Some(1));
    assert!(
        stderr(&destroy).contains("`vpc.main` has `prevent_destroy = true`; this plan would destroy it"),
        "{}",
        stderr(&destroy)
    );
    std::fs::write(dir.path().join("main.k8sinfra"), config("10.3.0.0/16")).expect("write");
    let replace = k8sinfra(&moto, dir.path(), &["apply", "--auto-approve"]);
    assert_eq!(replace.status.code(), Some(1));
    assert!(stderr(&replace).contains("this plan would replace it"), "{}", stderr(&replace));
    assert!(
        stdout(&replace).contains("~ cidr = \"10.2.0.0/16\" -> \"10.3.0.0/16\" # forces replacement"),
        "{}",
        stdout(&replace)
    );
    assert_eq!(state(dir.path())["serial"], 3, "nothing was changed after the first apply");
}

#[test]
fn an_interrupted_create_is_adopted_not_duplicated() {
    let moto = Moto::start();
    let dir = tempfile::tempdir().expect("tempdir");
    std::fs::write(
        dir.path().join("main.k8sinfra"),
        "aws { region = \"us-east-1\" }\nvpc main { cidr = 10.4.0.0/16 }\n",
    )
    .expect("write");
    // What a run killed right after CreateVpc answered leaves behind: the
    // VPC exists, tagged with its address and the lineage, and the state
    // only knows the create was started.
    let rt = runtime();
    let ec2 = moto.ec2();
    let tag = |k: &str, v: &str| aws_sdk_ec2::types::Tag::builder().key(k).value(v).build();
    let created = rt
        .block_on(
            ec2.create_vpc()
                .cidr_block("10.4.0.0/16")
                .tag_specifications(
                    aws_sdk_ec2::types::TagSpecification::builder()
                        .resource_type(aws_sdk_ec2::types::ResourceType::Vpc)
                        .tags(tag("k8sinfra:address", "vpc.main"))
                        .tags(tag("k8sinfra:lineage", "lineage-1"))
                        .build(),
                )
                .send(),
        )
        .expect("create");
    let vpc_id = created.vpc().and_then(|v| v.vpc_id()).expect("id").to_string();
    std::fs::create_dir_all(dir.path().join(".k8sinfra")).expect("dir");
    std::fs::write(
        dir.path().join(".k8sinfra/state.json"),
        r#"{"format_version": 1, "lineage": "lineage-1", "serial": 1, "resources": {}, "outputs": {},
            "pending": {"vpc.main": {"type": "vpc"}}}"#,
    )
    .expect("state");

    let apply = k8sinfra(&moto, dir.path(), &["apply", "--auto-approve"]);
    assert!(apply.status.success(), "{}{}", stdout(&apply), stderr(&apply));
    let state = state(dir.path());
    assert_eq!(id(&state, "vpc.main"), vpc_id, "the VPC was adopted");
    assert!(state.get("pending").is_none(), "nothing is pending any more");
    let owned = rt
        .block_on(
            ec2.describe_vpcs()
                .filters(aws_sdk_ec2::types::Filter::builder().name("tag:k8sinfra:address").values("vpc.main").build())
                .send(),
        )
        .expect("describe");
    assert_eq!(owned.vpcs().len(), 1, "no duplicate");
}

/// A run killed between CreateBucket and the tagging call leaves a bucket
/// without ownership tags. The next refresh adopts an untagged bucket made
/// since the create started only if it has the name the create asked for:
/// the state's own bucket, made by `init` a moment before, is never taken.
#[test]
fn an_untagged_bucket_is_adopted_only_under_the_name_its_create_asked_for() {
    let moto = Moto::start();
    let rt = runtime();
    let s3 = moto.s3();
    let now = std::time::SystemTime::now().duration_since(std::time::UNIX_EPOCH).expect("clock").as_secs();
    let pending = format!(
        r#"{{"format_version": 1, "lineage": "lineage-1", "serial": 1, "resources": {{}}, "outputs": {{}},
            "pending": {{"s3_bucket.files": {{"type": "s3_bucket", "since": {now}, "id": "adopt-files"}}}}}}"#
    );
    let config = "aws { region = \"us-east-1\" }\ns3_bucket files { name = \"adopt-files\" }\n";
    let setup = |dir: &Path| {
        std::fs::write(dir.join("main.k8sinfra"), config).expect("write");
        std::fs::create_dir_all(dir.join(".k8sinfra")).expect("dir");
        std::fs::write(dir.join(".k8sinfra/state.json"), &pending).expect("state");
    };
    let buckets = || {
        let listed = rt.block_on(s3.list_buckets().send()).expect("list");
        let mut names: Vec<String> = listed.buckets().iter().filter_map(|b| b.name()).map(str::to_string).collect();
        names.sort();
        names
    };

    // Killed before CreateBucket: only the state's bucket is new.
    rt.block_on(s3.create_bucket().bucket("adopt-state").send()).expect("state bucket");
    let dir = tempfile::tempdir().expect("tempdir");
    setup(dir.path());
    let apply = k8sinfra(&moto, dir.path(), &["apply", "--auto-approve"]);
    assert!(apply.status.success(), "{}{}", stdout(&apply), stderr(&apply));
    assert_eq!(id(&state(dir.path()), "s3_bucket.files"), "adopt-files", "created, not the state's bucket");
    assert_eq!(buckets(), ["adopt-files", "adopt-state"]);
    assert!(k8sinfra(&moto, dir.path(), &["destroy", "--auto-approve"]).status.success());
    assert_eq!(buckets(), ["adopt-state"], "the state's bucket was never ours");

    // Killed after CreateBucket, before its tags: that bucket is adopted.
    rt.block_on(s3.create_bucket().bucket("adopt-files").send()).expect("the interrupted create");
    let dir = tempfile::tempdir().expect("tempdir");
    setup(dir.path());
    let apply = k8sinfra(&moto, dir.path(), &["apply", "--auto-approve"]);
    assert!(apply.status.success(), "{}{}", stdout(&apply), stderr(&apply));
    assert!(!stdout(&apply).contains("will be created"), "adopted: {}", stdout(&apply));
    assert_eq!(id(&state(dir.path()), "s3_bucket.files"), "adopt-files");
    assert_eq!(buckets(), ["adopt-files", "adopt-state"]);
}

/// A replacement killed after its create: the new instance carries the
/// same ownership tags as the old one (and its address has brackets, which
/// moto reads as a pattern). The next refresh adopts the new one, not the
/// old, and keeps the old as deposed for the plan to destroy: one host is
/// left, the new one.
#[test]
fn an_interrupted_replacement_adopts_the_new_resource_and_destroys_the_old() {
    let moto = Moto::start();
    let rt = runtime();
    let ec2 = moto.ec2();
    let dir = example("vpc");
    std::fs::write(
        dir.path().join("host.k8sinfra"),
        "instance web {\n  count  = 1\n  image  = \"ami-a4c7edb2\"\n  type   = \"t2.nano\"\n  subnet = subnet.private\n}\n",
    )
    .expect("host");
    let apply = k8sinfra(&moto, dir.path(), &["apply", "--auto-approve"]);
    assert!(apply.status.success(), "{}", stderr(&apply));
    let before = state(dir.path());
    let old = id(&before, "instance.web[0]");
    let lineage = before["lineage"].as_str().expect("lineage").to_string();

    // What the killed run left: the new instance, tagged, and a pending create.
    let tag = |k: &str, v: &str| aws_sdk_ec2::types::Tag::builder().key(k).value(v).build();
    let subnet = id(&before, "subnet.private");
    let run = rt
        .block_on(
            ec2.run_instances()
                .image_id("ami-a4c7edb2")
                .instance_type(aws_sdk_ec2::types::InstanceType::T2Nano)
                .min_count(1)
                .max_count(1)
                .subnet_id(&subnet)
                .tag_specifications(
                    aws_sdk_ec2::types::TagSpecification::builder()
                        .resource_type(aws_sdk_ec2::types::ResourceType::Instance)
                        .tags(tag("k8sinfra:address", "instance.web[0]"))
                        .tags(tag("k8sinfra:lineage", &lineage))
                        .build(),
                )
                .send(),
        )
        .expect("run");
    let new = run.instances()[0].instance_id().expect("id").to_string();
    let mut edited = before.clone();
    edited["pending"] = serde_json::json!({ "instance.web[0]": { "type": "instance" } });
    std::fs::write(dir.path().join(".k8sinfra/state.json"), serde_json::to_vec_pretty(&edited).expect("json"))
        .expect("state");

    let plan = k8sinfra(&moto, dir.path(), &["plan"]);
    assert!(stdout(&plan).contains("# instance.web[0] (deposed) will be destroyed"), "{}", stdout(&plan));
    let apply = k8sinfra(&moto, dir.path(), &["apply", "--auto-approve"]);
    assert!(apply.status.success(), "{}{}", stdout(&apply), stderr(&apply));
    assert_eq!(id(&state(dir.path()), "instance.web[0]"), new, "the new instance was adopted");
    let described =
        rt.block_on(ec2.describe_instances().instance_ids(&old).instance_ids(&new).send()).expect("describe");
    let states: std::collections::BTreeMap<String, String> = described
        .reservations()
        .iter()
        .flat_map(|r| r.instances())
        .map(|i| {
            let name = i.state().and_then(|s| s.name()).map(|n| n.as_str().to_string()).unwrap_or_default();
            (i.instance_id().unwrap_or_default().to_string(), name)
        })
        .collect();
    assert_eq!(states.get(&new).map(String::as_str), Some("running"), "{states:?}");
    assert_eq!(states.get(&old).map(String::as_str), Some("terminated"), "the old one went: {states:?}");
    assert_eq!(k8sinfra(&moto, dir.path(), &["plan", "--detailed-exitcode"]).status.code(), Some(0));
}

#[test]
fn apply_killed_at_any_point_and_rerun_leaves_exactly_the_declared_resources() {
    use std::io::{BufRead as _, BufReader};

    let moto = Moto::start();
    let dir = example("vpc");
    let rt = runtime();
    // Kill the first run as soon as it starts creating the subnets: the VPC
    // may or may not be in the state, the subnets may or may not exist.
    let mut command = std::process::Command::new(env!("CARGO_BIN_EXE_k8sinfra"));
    command.args(["apply", "--auto-approve"]).current_dir(dir.path()).env("NO_COLOR", "1");
    for (k, v) in moto.env() {
        command.env(k, v);
    }
    let mut child =
        command.stderr(std::process::Stdio::piped()).stdout(std::process::Stdio::null()).spawn().expect("spawn");
    let stderr_pipe = child.stderr.take().expect("stderr");
    let mut seen = Vec::new();
    let marked = BufReader::new(stderr_pipe).lines().map_while(Result::ok).any(|line| {
        seen.push(line.clone());
        line.contains("subnet.")
    });
    assert!(marked, "the apply never reached the subnets:\n{}", seen.join("\n"));
    let finished = child.try_wait().expect("status");
    assert!(finished.is_none(), "the apply ended before the kill: {finished:?}");
    child.kill().expect("SIGKILL");
    let _ = child.wait();

    let rerun = k8sinfra(&moto, dir.path(), &["apply", "--auto-approve"]);
    assert!(rerun.status.success(), "{}{}", stdout(&rerun), stderr(&rerun));
    assert_eq!(k8sinfra(&moto, dir.path(), &["plan", "--detailed-exitcode"]).status.code(), Some(0));
    let ec2 = moto.ec2();
    let count = |name: &str| {
        let filter = aws_sdk_ec2::types::Filter::builder().name("tag:k8sinfra:address").values(name).build();
        match name.split('.').next() {
            Some("vpc") => rt.block_on(ec2.describe_vpcs().filters(filter).send()).expect("vpcs").vpcs().len(),
            Some("subnet") => {
                rt.block_on(ec2.describe_subnets().filters(filter).send()).expect("subnets").subnets().len()
            }
            _ => rt
                .block_on(ec2.describe_internet_gateways().filters(filter).send())
                .expect("gateways")
                .internet_gateways()
                .len(),
        }
    };
    for address in ["vpc.main", "subnet.public", "subnet.private", "internet_gateway.main"] {
        assert_eq!(count(address), 1, "exactly one {address}");
    }
}

#[test]
fn outputs_are_recorded_and_sensitive_ones_hidden_from_listings() {
    let moto = Moto::start();
    let dir = tempfile::tempdir().expect("tempdir");
    std::fs::write(
        dir.path().join("main.k8sinfra"),
        "aws { region = \"us-east-1\" }\nvpc main { cidr = 10.5.0.0/16 }\n\
         output cidr = vpc.main.cidr\noutput id = vpc.main.id\nsensitive output token = \"s3cr3t\"\n",
    )
    .expect("write");
    assert!(k8sinfra(&moto, dir.path(), &["apply", "--auto-approve"]).status.success());
    let listing = stdout(&k8sinfra(&moto, dir.path(), &["output"]));
    assert!(listing.contains("cidr = \"10.5.0.0/16\""), "{listing}");
    assert!(listing.contains("token = (sensitive)") && !listing.contains("s3cr3t"), "{listing}");
    assert!(listing.contains(&format!("id = \"{}\"", id(&state(dir.path()), "vpc.main"))), "{listing}");
    assert_eq!(stdout(&k8sinfra(&moto, dir.path(), &["output", "token"])).trim(), "s3cr3t", "asked for by name");
    let json: serde_json::Value =
        serde_json::from_str(&stdout(&k8sinfra(&moto, dir.path(), &["--json", "output"]))).expect("JSON");
    assert_eq!(json["token"], serde_json::json!({ "value": null, "sensitive": true }));
    let missing = k8sinfra(&moto, dir.path(), &["output", "tokne"]);
    assert_eq!(missing.status.code(), Some(1));
    assert!(stderr(&missing).contains("did you mean `token`?"), "{}", stderr(&missing));
}

#[test]
fn stdlib_network_shares_one_nat_gateway_when_asked() {
    let moto = Moto::start();
    let dir = tempfile::tempdir().expect("tempdir");
    let config = |single: bool| {
        format!(
            "aws {{ region = \"us-east-1\" }}\n\nmodule network = \"stdlib/network\" {{\n  cidr       = 10.10.0.0/16\n  \
             zones      = [\"us-east-1a\", \"us-east-1b\", \"us-east-1c\"]\n  single_nat = {single}\n}}\n"
        )
    };
    std::fs::write(dir.path().join("main.k8sinfra"), config(true)).expect("config");
    let apply = k8sinfra(&moto, dir.path(), &["apply", "--auto-approve"]);
    assert!(apply.status.success(), "{}", stderr(&apply));
    let st = state(dir.path());
    let nats: Vec<&String> =
        st["resources"].as_object().expect("resources").keys().filter(|a| a.contains("nat_gateway")).collect();
    assert_eq!(nats, ["module.network.nat_gateway.main[\"us-east-1a\"]"]);
    let shared = id(&st, "module.network.nat_gateway.main[\"us-east-1a\"]");
    for zone in ["us-east-1a", "us-east-1b", "us-east-1c"] {
        let table = &st["resources"][format!("module.network.route_table.private[\"{zone}\"]")]["attrs"];
        assert_eq!(table["route"][0]["nat_gateway"], shared.as_str(), "{zone} goes out through the shared gateway");
    }
    // One per zone: two more gateways, and two tables move to them.
    std::fs::write(dir.path().join("main.k8sinfra"), config(false)).expect("config");
    let plan = k8sinfra(&moto, dir.path(), &["plan"]);
    assert!(stdout(&plan).contains("Plan: 4 to add, 2 to change, 0 to replace, 0 to destroy."), "{}", stdout(&plan));

    // `nat = false`: no gateway, no address for it, no private route
    // table (the private subnets keep the VPC's main table: no way out).
    let text = std::fs::read_to_string(dir.path().join("main.k8sinfra")).expect("config");
    std::fs::write(
        dir.path().join("main.k8sinfra"),
        text.replace("single_nat = false", "single_nat = false\n  nat = false"),
    )
    .expect("config");
    let apply = k8sinfra(&moto, dir.path(), &["apply", "--auto-approve"]);
    assert!(apply.status.success(), "{}{}", stdout(&apply), stderr(&apply));
    let st = state(dir.path());
    let left: Vec<&String> = st["resources"]
        .as_object()
        .expect("resources")
        .keys()
        .filter(|a| a.contains("nat_gateway") || a.contains("elastic_ip") || a.contains("route_table.private"))
        .collect();
    assert!(left.is_empty(), "{left:?}");
    assert!(st["resources"].get("module.network.subnet.private[\"us-east-1b\"]").is_some(), "the subnets stay");
    let gateways = runtime().block_on(moto.ec2().describe_nat_gateways().send()).expect("describe");
    let live: Vec<_> = gateways
        .nat_gateways()
        .iter()
        .filter(|g| g.state() != Some(&aws_sdk_ec2::types::NatGatewayState::Deleted))
        .collect();
    assert!(live.is_empty(), "{live:?}");
    let plan = k8sinfra(&moto, dir.path(), &["plan", "--detailed-exitcode"]);
    assert_eq!(plan.status.code(), Some(0), "{}{}", stdout(&plan), stderr(&plan));
}

#[test]
fn state_verbs_and_import_change_the_bookkeeping_not_the_cloud() {
    let moto = Moto::start();
    let dir = example("vpc");
    assert!(k8sinfra(&moto, dir.path(), &["apply", "--auto-approve"]).status.success());
    let subnet = id(&state(dir.path()), "subnet.private");

    let list = stdout(&k8sinfra(&moto, dir.path(), &["state", "list"]));
    assert_eq!(list.lines().count(), 8, "{list}");
    assert!(list.contains(&format!("subnet.private  {subnet}")), "{list}");
    let show = stdout(&k8sinfra(&moto, dir.path(), &["state", "show", "subnet.private"]));
    assert!(show.contains("subnet private {") && show.contains("cidr") && show.contains("\"10.0.2.0/24\""), "{show}");
    let typo = k8sinfra(&moto, dir.path(), &["state", "show", "subnet.privat"]);
    assert!(!typo.status.success() && stderr(&typo).contains("did you mean `subnet.private`"), "{}", stderr(&typo));

    // Forgotten, the subnet is still there; the plan would create another.
    assert!(k8sinfra(&moto, dir.path(), &["state", "rm", "subnet.private"]).status.success());
    let described = runtime().block_on(moto.ec2().describe_subnets().subnet_ids(&subnet).send()).expect("describe");
    assert_eq!(described.subnets().len(), 1, "rm does not touch the cloud");
    let plan = stdout(&k8sinfra(&moto, dir.path(), &["plan"]));
    assert!(plan.contains("# subnet.private will be created"), "{plan}");

    // Imported by its id, it is managed again and nothing differs.
    let wrong = k8sinfra(&moto, dir.path(), &["import", "subnet.private", "subnet-doesnotexist"]);
    assert!(!wrong.status.success(), "{}", stderr(&wrong));
    let import = k8sinfra(&moto, dir.path(), &["import", "subnet.private", &subnet]);
    assert!(import.status.success(), "{}", stderr(&import));
    let again = k8sinfra(&moto, dir.path(), &["plan", "--detailed-exitcode"]);
    assert_eq!(again.status.code(), Some(0), "{}", stdout(&again));

    // A move to an address no configuration declares would be undone by
    // the next plan: refused, with the closest declared address; --force
    // does it all the same.
    let undeclared = k8sinfra(&moto, dir.path(), &["state", "mv", "subnet.private", "subnet.privat"]);
    assert_eq!(undeclared.status.code(), Some(1));
    assert!(
        stderr(&undeclared).contains("subnet.privat is not declared in the configuration"),
        "{}",
        stderr(&undeclared)
    );
    assert_eq!(id(&state(dir.path()), "subnet.private"), subnet, "nothing moved");
    assert!(k8sinfra(&moto, dir.path(), &["state", "mv", "--force", "subnet.private", "subnet.inner"])
        .status
        .success());
    assert_eq!(id(&state(dir.path()), "subnet.inner"), subnet);
    let plan = stdout(&k8sinfra(&moto, dir.path(), &["plan"]));
    assert!(plan.contains("# subnet.inner will be destroyed") && plan.contains("# subnet.private will be created"));

    // A rename after a refactor: the configuration says `subnet.inner`
    // now, the state follows, and the default Name tag (the address it
    // was created at) is no drift.
    let main = dir.path().join("main.k8sinfra");
    let text = std::fs::read_to_string(&main).expect("read");
    std::fs::write(&main, text.replace("subnet private {", "subnet inner {").replace("subnet.private", "subnet.inner"))
        .expect("write");
    let renamed = k8sinfra(&moto, dir.path(), &["plan", "--detailed-exitcode"]);
    assert_eq!(renamed.status.code(), Some(0), "moved and renamed: nothing to do\n{}", stdout(&renamed));

    // Nor to an address declared as another type.
    assert!(k8sinfra(&moto, dir.path(), &["state", "rm", "route_table.private"]).status.success());
    let other_type = k8sinfra(&moto, dir.path(), &["state", "mv", "subnet.inner", "route_table.private"]);
    assert_eq!(other_type.status.code(), Some(1));
    assert!(
        stderr(&other_type)
            .contains("route_table.private is a route_table in the configuration, and what moves is a subnet"),
        "{}",
        stderr(&other_type)
    );
}

#[test]
fn a_saved_plan_is_shown_applied_and_refused_once_stale() {
    let moto = Moto::start();
    let dir = example("vpc");
    let plan = k8sinfra(&moto, dir.path(), &["plan", "--out", "first.plan"]);
    assert!(plan.status.success(), "{}", stderr(&plan));
    assert!(stderr(&plan).contains("k8sinfra apply first.plan"), "{}", stderr(&plan));

    let text = stdout(&k8sinfra(&moto, dir.path(), &["show", "first.plan"]));
    assert!(text.contains("Plan: 8 to add, 0 to change, 0 to replace, 0 to destroy."), "{text}");
    let json: serde_json::Value =
        serde_json::from_str(&stdout(&k8sinfra(&moto, dir.path(), &["show", "first.plan", "--format", "json"])))
            .expect("JSON");
    assert_eq!(json["format_version"], 1);
    assert_eq!(json["summary"]["add"], 8);
    assert_eq!(json["changes"].as_array().map(Vec::len), Some(8));
    let markdown = stdout(&k8sinfra(&moto, dir.path(), &["show", "first.plan", "--format", "markdown"]));
    assert!(markdown.starts_with("### k8sinfra plan: 8 to add") && markdown.contains("```diff"), "{markdown}");
    let graph = stdout(&k8sinfra(&moto, dir.path(), &["graph", "--plan", "first.plan"]));
    assert!(
        graph.contains(r#""vpc.main" [label = "vpc.main\n+ created", style = filled, fillcolor = palegreen];"#),
        "{graph}"
    );

    // Carried out as saved, without a question (it was reviewed).
    let apply = k8sinfra(&moto, dir.path(), &["apply", "first.plan"]);
    assert!(apply.status.success(), "{}{}", stdout(&apply), stderr(&apply));
    assert_eq!(state(dir.path())["resources"].as_object().map(serde_json::Map::len), Some(8));

    // A plan saved, then another apply: the saved one is stale.
    let path = dir.path().join("main.k8sinfra");
    let text = std::fs::read_to_string(&path).expect("read");
    std::fs::write(&path, text.replace("Project = \"k8s-devops\"", "Project = \"k8s-devops\", Team = \"infra\""))
        .expect("edit");
    assert!(k8sinfra(&moto, dir.path(), &["plan", "--out", "second.plan"]).status.success());
    let again = stdout(&k8sinfra(&moto, dir.path(), &["show", "second.plan"]));
    assert!(again.contains("# vpc.main will be updated in place"), "{again}");
    assert!(k8sinfra(&moto, dir.path(), &["apply", "--auto-approve"]).status.success());
    let serial = state(dir.path())["serial"].clone();
    let stale = k8sinfra(&moto, dir.path(), &["apply", "second.plan"]);
    assert_eq!(stale.status.code(), Some(1));
    assert!(stderr(&stale).contains("the plan is stale"), "{}", stderr(&stale));
    assert_eq!(state(dir.path())["serial"], serial, "nothing written");

    // Drift shows apart from the actions.
    let ec2 = moto.ec2();
    let subnet = id(&state(dir.path()), "subnet.public");
    let off = aws_sdk_ec2::types::AttributeBooleanValue::builder().value(false).build();
    runtime()
        .block_on(ec2.modify_subnet_attribute().subnet_id(&subnet).map_public_ip_on_launch(off).send())
        .expect("drift");
    let drift = stdout(&k8sinfra(&moto, dir.path(), &["plan"]));
    assert!(
        drift.starts_with("Changes outside k8sinfra since the last apply")
            && drift.contains("# subnet.public has changed")
            && drift.contains("public_ip_on_launch = true -> false"),
        "{drift}"
    );
}

/// Standard error of a running child, line by line.
type ErrLines = std::io::Lines<std::io::BufReader<std::process::ChildStderr>>;

/// `apply --auto-approve` in `dir`, started through a relay that holds
/// every call `delay` (a slow cloud: time to interrupt), with its standard
/// error to read as it comes.
fn apply_in_background(
    moto: &Moto,
    dir: &Path,
    delay: std::time::Duration,
) -> (crate::proxy::CountingProxy, std::process::Child, ErrLines) {
    use std::io::BufRead as _;
    let proxy = crate::proxy::CountingProxy::slow(&moto.endpoint, delay);
    let mut command = std::process::Command::new(env!("CARGO_BIN_EXE_k8sinfra"));
    command.args(["apply", "--auto-approve"]).current_dir(dir).env("NO_COLOR", "1");
    for (k, v) in moto.env() {
        command.env(k, if k == "AWS_ENDPOINT_URL" { proxy.endpoint.clone() } else { v });
    }
    let mut child =
        command.stderr(std::process::Stdio::piped()).stdout(std::process::Stdio::null()).spawn().expect("apply");
    let lines = std::io::BufReader::new(child.stderr.take().expect("stderr")).lines();
    (proxy, child, lines)
}

/// Lines of `lines` into `seen`, up to and including the first that `stop`
/// accepts.
fn read_until(lines: &mut ErrLines, seen: &mut Vec<String>, stop: impl Fn(&str) -> bool) {
    for line in lines.by_ref() {
        let line = line.expect("line");
        let last = stop(&line);
        seen.push(line);
        if last {
            break;
        }
    }
}

fn first_create_done(line: &str) -> bool {
    line.ends_with("s)") && line.contains(": created")
}

#[test]
fn ctrl_c_finishes_what_is_in_flight_saves_and_releases_the_lock() {
    let moto = Moto::start();
    let dir = example("vpc");
    let (_relay, mut child, mut lines) = apply_in_background(&moto, dir.path(), std::time::Duration::from_millis(150));
    let mut seen = Vec::new();
    read_until(&mut lines, &mut seen, first_create_done);
    let status = std::process::Command::new("kill").args(["-INT", &child.id().to_string()]).status().expect("kill");
    assert!(status.success());
    seen.extend(lines.map_while(Result::ok));
    let exit = child.wait().expect("exit");
    let log = seen.join("\n");
    assert_eq!(exit.code(), Some(1), "{log}");
    assert!(log.contains("Interrupted: starting nothing new") && log.contains("apply interrupted:"), "{log}");
    let st = state(dir.path());
    let done = st["resources"].as_object().map_or(0, serde_json::Map::len);
    assert!((1..8).contains(&done), "{done} of 8 done: {log}");
    assert!(st.get("pending").is_none(), "nothing left in doubt: {st}");
    assert!(!dir.path().join(".k8sinfra/state.json.lock").exists(), "the lock is released");

    let rest = k8sinfra(&moto, dir.path(), &["apply", "--auto-approve"]);
    assert!(rest.status.success(), "{}", stderr(&rest));
    assert_eq!(state(dir.path())["resources"].as_object().map(serde_json::Map::len), Some(8));
    let vpcs = runtime().block_on(moto.ec2().describe_vpcs().send()).expect("describe");
    assert_eq!(vpcs.vpcs().iter().filter(|v| v.is_default() != Some(true)).count(), 1, "no duplicate VPC");
}

/// apply.md, while it runs: on a terminal, each operation in flight has a
/// spinner line with its elapsed time, redrawn in place, and each ends as
/// a plain line printed above them. `script` gives the apply a terminal.
#[test]
fn on_a_terminal_each_operation_in_flight_has_a_spinner() {
    let moto = Moto::start();
    let dir = example("vpc");
    let proxy = crate::proxy::CountingProxy::slow(&moto.endpoint, std::time::Duration::from_millis(400));
    let apply = format!("{} apply --auto-approve", env!("CARGO_BIN_EXE_k8sinfra"));
    let mut command = std::process::Command::new("script");
    command.args(["-qec", &apply, "/dev/null"]).current_dir(dir.path()).env("NO_COLOR", "1");
    for (k, v) in moto.env() {
        command.env(k, if k == "AWS_ENDPOINT_URL" { proxy.endpoint.clone() } else { v });
    }
    let out = command.output().expect("script runs");
    let screen = String::from_utf8_lossy(&out.stdout).to_string();
    assert!(out.status.success(), "{screen}{}", stderr(&out));
    // indicatif's default spinner, before the operation's message.
    let ticks = ['⠁', '⠂', '⠄', '⡀', '⢀', '⠠', '⠐', '⠈'];
    let spun = ticks.iter().any(|tick| screen.contains(&format!("{tick} vpc.main: creating…")));
    assert!(spun, "a spinner for the VPC: {screen:?}");
    assert!(screen.contains("\u{1b}["), "redrawn in place: {screen:?}");
    assert!(screen.contains("vpc.main: created ("), "{screen:?}");
    assert_eq!(state(dir.path())["resources"].as_object().map(serde_json::Map::len), Some(8));
}

/// apply.md, while it runs: a second Ctrl-C stops at once (exit 130).
/// What finished is in the state; the creates in flight were recorded as
/// pending before they started, and the next run adopts them by their
/// tags: nothing twice.
#[test]
fn a_second_ctrl_c_stops_at_once_and_the_next_run_adopts_what_was_in_flight() {
    let moto = Moto::start();
    let dir = example("vpc");
    // Every call takes a second: creates are surely in flight at the kill.
    let (_relay, mut child, mut lines) = apply_in_background(&moto, dir.path(), std::time::Duration::from_secs(1));
    let interrupt = || {
        let status = std::process::Command::new("kill").args(["-INT", &child.id().to_string()]).status();
        assert!(status.expect("kill").success());
    };
    // Interrupted as the subnets start (after the VPC they need): each of
    // their creates takes several held calls, so both signals land while
    // they run, however loaded the machine.
    let mut seen = Vec::new();
    read_until(&mut lines, &mut seen, |line| line.starts_with("subnet.") && line.ends_with("creating…"));
    interrupt();
    read_until(&mut lines, &mut seen, |line| line.contains("Ctrl-C again stops at once"));
    interrupt();
    seen.extend(lines.map_while(Result::ok));
    let exit = child.wait().expect("exit");
    let log = seen.join("\n");
    assert_eq!(exit.code(), Some(130), "{log}");
    assert!(log.contains("Stopped. What finished is in the state"), "{log}");
    let st = state(dir.path());
    let pending = st["pending"].as_object().map_or(0, serde_json::Map::len);
    assert!(pending > 0, "the creates in flight are recorded: {st}");

    // The lock stayed with the stopped run; its process is gone, on this
    // host: the next run takes it over, and says so.
    assert!(dir.path().join(".k8sinfra/state.json.lock").exists(), "the hard stop left its lock");
    let rest = k8sinfra(&moto, dir.path(), &["apply", "--auto-approve"]);
    assert!(stderr(&rest).contains("took over the lock of a run that is gone"), "{}", stderr(&rest));
    assert!(rest.status.success(), "{}{}", stdout(&rest), stderr(&rest));
    let st = state(dir.path());
    assert_eq!(st["resources"].as_object().map(serde_json::Map::len), Some(8));
    assert!(st.get("pending").is_none(), "{st}");
    let ec2 = moto.ec2();
    let vpcs = runtime().block_on(ec2.describe_vpcs().send()).expect("describe");
    assert_eq!(vpcs.vpcs().iter().filter(|v| v.is_default() != Some(true)).count(), 1, "no duplicate VPC");
    let subnets = runtime().block_on(ec2.describe_subnets().send()).expect("describe");
    let ours =
        subnets.subnets().iter().filter(|s| s.tags().iter().any(|t| t.key() == Some("k8sinfra:address"))).count();
    assert_eq!(ours, 2, "no duplicate subnet");
    let plan = k8sinfra(&moto, dir.path(), &["plan", "--detailed-exitcode"]);
    assert_eq!(plan.status.code(), Some(0), "{}{}", stdout(&plan), stderr(&plan));
}

#[test]
fn a_bucket_someone_else_made_is_refused_not_silently_shared() {
    let moto = Moto::start();
    let rt = runtime();
    rt.block_on(moto.s3().create_bucket().bucket("taken").send()).expect("made by hand");
    let dir = tempfile::tempdir().expect("tempdir");
    std::fs::write(
        dir.path().join("main.k8sinfra"),
        "aws { region = \"us-east-1\" }\n\ns3_bucket mine {\n  name = \"taken\"\n}\n",
    )
    .expect("written");
    let apply = k8sinfra(&moto, dir.path(), &["apply", "--auto-approve"]);
    assert_eq!(apply.status.code(), Some(1), "{}", stderr(&apply));
    assert!(
        stderr(&apply).contains("bucket `taken` already exists and was not made by this configuration"),
        "{}",
        stderr(&apply)
    );
    assert!(stderr(&apply).contains("k8sinfra import s3_bucket.mine taken"), "{}", stderr(&apply));
    assert!(!state(dir.path())["resources"].as_object().is_some_and(|r| r.contains_key("s3_bucket.mine")));

    // Imported, it is managed here.
    let import = k8sinfra(&moto, dir.path(), &["import", "s3_bucket.mine", "taken"]);
    assert!(import.status.success(), "{}", stderr(&import));
    let apply = k8sinfra(&moto, dir.path(), &["apply", "--auto-approve"]);
    assert!(apply.status.success(), "{}", stderr(&apply));
}

/// A saved plan is what a reviewer approved: `apply FILE` refuses it when
/// planning again gives other changes, whatever moved since — the
/// configuration, the inputs, or the cloud — and writes nothing.
#[test]
fn a_saved_plan_is_refused_when_planning_again_gives_other_changes() {
    let moto = Moto::start();
    let dir = example("vpc");
    let main = dir.path().join("main.k8sinfra");
    let text = std::fs::read_to_string(&main).expect("read");
    std::fs::write(
        &main,
        text.replace(
            "tags                 = { Project = \"k8s-devops\" }",
            "tags                 = { Project = \"k8s-devops\", Team = input.team }",
        ),
    )
    .expect("edit");
    std::fs::write(dir.path().join("inputs.k8sinfra"), "input team: string = \"infra\"\n").expect("input");
    assert!(k8sinfra(&moto, dir.path(), &["apply", "--auto-approve"]).status.success());
    let refused = |plan: &str, args: &[&str], what: &str| {
        let serial = state(dir.path())["serial"].clone();
        let mut all = vec!["apply", plan];
        all.extend_from_slice(args);
        let out = k8sinfra(&moto, dir.path(), &all);
        assert_eq!(out.status.code(), Some(1), "{what}: {}{}", stdout(&out), stderr(&out));
        assert!(stderr(&out).contains("planning again now gives different changes"), "{what}: {}", stderr(&out));
        assert_eq!(state(dir.path())["serial"], serial, "{what}: nothing written");
    };
    let save = |name: &str, args: &[&str]| {
        let mut all = vec!["plan", "--out", name];
        all.extend_from_slice(args);
        let out = k8sinfra(&moto, dir.path(), &all);
        assert!(out.status.success(), "{}", stderr(&out));
    };

    // The configuration edited after review.
    save("edited.plan", &["--var", "team=platform"]);
    let now = std::fs::read_to_string(&main).expect("read");
    std::fs::write(&main, now.replace("enable_dns_hostnames = true", "enable_dns_hostnames = false")).expect("edit");
    refused("edited.plan", &["--var", "team=platform"], "an edited configuration");
    std::fs::write(&main, now).expect("restore");

    // Other inputs at apply than at plan.
    refused("edited.plan", &["--var", "team=data"], "other inputs");

    // The cloud changed after review.
    let subnet = id(&state(dir.path()), "subnet.public");
    let off = aws_sdk_ec2::types::AttributeBooleanValue::builder().value(false).build();
    runtime()
        .block_on(moto.ec2().modify_subnet_attribute().subnet_id(&subnet).map_public_ip_on_launch(off).send())
        .expect("drift");
    refused("edited.plan", &["--var", "team=platform"], "a drifted cloud");

    // Planned again as it is now, it applies.
    save("current.plan", &["--var", "team=platform"]);
    let apply = k8sinfra(&moto, dir.path(), &["apply", "current.plan", "--var", "team=platform"]);
    assert!(apply.status.success(), "{}{}", stdout(&apply), stderr(&apply));
}

/// With `--json`, standard output is exactly one JSON document for every
/// verb that prints; text for people goes to standard error.
#[test]
fn json_is_one_document_on_stdout_for_every_verb() {
    let moto = Moto::start();
    let dir = example("vpc");
    let document = |args: &[&str]| -> serde_json::Value {
        let mut all = vec!["--json"];
        all.extend_from_slice(args);
        let out = k8sinfra(&moto, dir.path(), &all);
        serde_json::from_str(&stdout(&out))
            .unwrap_or_else(|e| panic!("{args:?}: stdout is not one JSON document ({e}):\n{}", stdout(&out)))
    };

    let valid = document(&["validate"]);
    assert_eq!(valid["valid"], true, "{valid}");
    let planned = document(&["plan", "--detailed-exitcode"]);
    assert_eq!(planned["plan"]["summary"]["add"], 8, "{planned}");
    assert_eq!(planned["has_changes"], true);
    assert!(planned["diagnostics"].is_array(), "{planned}");
    let planned = document(&["plan", "--out", "saved.plan"]);
    assert_eq!(planned["plan"]["format_version"], 1, "{planned}");
    let shown = document(&["show", "saved.plan"]);
    assert_eq!(shown["plan"]["summary"]["add"], 8, "{shown}");
    let applied = document(&["apply", "--auto-approve"]);
    assert_eq!(applied["applied"], true, "{applied}");
    assert_eq!(applied["done"].as_array().map(Vec::len), Some(8), "{applied}");
    let listed = document(&["state", "list"]);
    assert_eq!(listed["resources"].as_array().map(Vec::len), Some(8), "{listed}");
    assert!(listed["resources"][0]["id"].is_string(), "{listed}");
    let resource = document(&["state", "show", "vpc.main"]);
    assert_eq!(resource["resource"]["attributes"]["cidr"], "10.0.0.0/16", "{resource}");
    let outputs = document(&["output"]);
    assert!(outputs.is_object(), "{outputs}");
    assert_eq!(outputs.get("success"), None, "outputs print as Terraform's `output -json`: {outputs}");
    let missing = document(&["state", "show", "vpc.nope"]);
    assert!(missing["resource"].is_null() && missing["success"] == false, "{missing}");
    assert_eq!(resource["success"], true, "{resource}");
    let destroyed = document(&["destroy", "--auto-approve"]);
    assert_eq!(destroyed["applied"], true, "{destroyed}");
    assert_eq!(destroyed["plan"]["summary"]["destroy"], 8, "{destroyed}");

    // A configuration that does not check: the diagnostics alone.
    std::fs::write(dir.path().join("broken.k8sinfra"), "vpc broken { cidr = 10.0.0.0/40 }\n").expect("write");
    let invalid = document(&["plan"]);
    assert_eq!(invalid["valid"], false, "{invalid}");
    assert_eq!(invalid["success"], false, "{invalid}");
    assert_eq!(invalid["diagnostics"][0]["code"], "net::malformed_cidr", "{invalid}");
}

/// The paths a user takes that no other test walks: apply without
/// `--auto-approve` and no terminal, `--refresh=false`, `--parallelism`
/// from the command line, and `force-unlock` of a local lock.
#[test]
fn prompts_refresh_parallelism_and_a_local_force_unlock() {
    let moto = Moto::start();
    let dir = example("vpc");

    // No terminal to ask: refused, nothing made, nothing written.
    let asked = k8sinfra(&moto, dir.path(), &["apply"]);
    assert_eq!(asked.status.code(), Some(1));
    assert!(stderr(&asked).contains("not a terminal: run `k8sinfra apply --auto-approve`"), "{}", stderr(&asked));
    assert!(!dir.path().join(".k8sinfra/state.json").exists(), "nothing written");
    let vpcs = runtime().block_on(moto.ec2().describe_vpcs().send()).expect("vpcs");
    assert!(vpcs.vpcs().iter().all(|v| v.is_default() == Some(true)), "nothing made");

    // One operation at a time still converges.
    let apply = k8sinfra(&moto, dir.path(), &["apply", "--auto-approve", "--parallelism", "1"]);
    assert!(apply.status.success(), "{}", stderr(&apply));
    assert_eq!(k8sinfra(&moto, dir.path(), &["plan", "--detailed-exitcode"]).status.code(), Some(0));

    // Drift, seen with refresh and not without it.
    let subnet = id(&state(dir.path()), "subnet.public");
    let off = aws_sdk_ec2::types::AttributeBooleanValue::builder().value(false).build();
    runtime()
        .block_on(moto.ec2().modify_subnet_attribute().subnet_id(&subnet).map_public_ip_on_launch(off).send())
        .expect("drift");
    let stored = k8sinfra(&moto, dir.path(), &["plan", "--refresh=false", "--detailed-exitcode"]);
    assert_eq!(stored.status.code(), Some(0), "from the state as stored: {}", stdout(&stored));
    let refreshed = k8sinfra(&moto, dir.path(), &["plan", "--detailed-exitcode"]);
    assert_eq!(refreshed.status.code(), Some(2), "{}", stdout(&refreshed));

    // A lock another host left: plan refused; force-unlock with the wrong
    // id refused; with its id, removed, and plan runs again.
    let lock = serde_json::json!({
        "id": "0123456789abcdef", "operation": "apply", "who": "alice", "host": "build-7", "pid": 4242, "created": 1
    });
    let lock_path = dir.path().join(".k8sinfra/state.json.lock");
    std::fs::write(&lock_path, lock.to_string()).expect("lock");
    let locked = k8sinfra(&moto, dir.path(), &["plan"]);
    assert_eq!(locked.status.code(), Some(1));
    assert!(flat(&stderr(&locked)).contains("lock id 0123456789abcdef"), "{}", stderr(&locked));
    let wrong = k8sinfra(&moto, dir.path(), &["force-unlock", "ffffffffffffffff"]);
    assert_eq!(wrong.status.code(), Some(1), "{}", stderr(&wrong));
    assert!(lock_path.exists(), "the wrong id removes nothing");
    let unlocked = k8sinfra(&moto, dir.path(), &["force-unlock", "0123456789abcdef"]);
    assert!(unlocked.status.success(), "{}", stderr(&unlocked));
    assert!(!lock_path.exists());
    assert!(k8sinfra(&moto, dir.path(), &["plan"]).status.success());
}

/// resources.md, s3_bucket: without `force_destroy`, a bucket that holds an
/// object put there by someone else is left, with AWS's message, and the
/// state keeps it; with it, the object goes and then the bucket.
#[test]
fn a_bucket_holding_objects_is_destroyed_only_with_force_destroy() {
    let moto = Moto::start();
    let dir = tempfile::tempdir().expect("tempdir");
    let config = |force: bool| {
        format!("aws {{ region = \"us-east-1\" }}\n\ns3_bucket logs {{\n  name          = \"kept-logs\"\n  force_destroy = {force}\n}}\n")
    };
    std::fs::write(dir.path().join("main.k8sinfra"), config(false)).expect("config");
    let out = k8sinfra(&moto, dir.path(), &["apply", "--auto-approve"]);
    assert!(out.status.success(), "{}", stderr(&out));
    let rt = runtime();
    let s3 = moto.s3();
    rt.block_on(s3.put_object().bucket("kept-logs").key("by-hand.log").body(b"x".to_vec().into()).send()).expect("put");

    let out = k8sinfra(&moto, dir.path(), &["destroy", "--auto-approve"]);
    assert_eq!(out.status.code(), Some(1), "{}", stderr(&out));
    assert!(flat(&stderr(&out)).contains("BucketNotEmpty"), "AWS's own message: {}", stderr(&out));
    assert!(state(dir.path())["resources"].get("s3_bucket.logs").is_some(), "still in the state");
    assert!(rt.block_on(s3.head_bucket().bucket("kept-logs").send()).is_ok(), "and in the cloud");

    std::fs::write(dir.path().join("main.k8sinfra"), config(true)).expect("config");
    let out = k8sinfra(&moto, dir.path(), &["apply", "--auto-approve"]);
    assert!(out.status.success(), "{}", stderr(&out));
    let out = k8sinfra(&moto, dir.path(), &["destroy", "--auto-approve"]);
    assert!(out.status.success(), "{}", stderr(&out));
    assert!(rt.block_on(s3.head_bucket().bucket("kept-logs").send()).is_err(), "gone");
}

/// resources.md, s3_object: `source` is read relative to the folder
/// k8sinfra runs in, not the configuration's.
#[test]
fn an_objects_source_is_read_from_where_k8sinfra_runs() {
    let moto = Moto::start();
    let root = tempfile::tempdir().expect("tempdir");
    std::fs::create_dir_all(root.path().join("conf")).expect("conf");
    std::fs::create_dir_all(root.path().join("files")).expect("files");
    std::fs::write(root.path().join("files/hello.txt"), "from the working folder").expect("file");
    std::fs::write(root.path().join("conf/files.txt"), "not this one").expect("decoy");
    let config = "aws { region = \"us-east-1\" }\n\ns3_bucket b {\n  name          = \"sourced\"\n  force_destroy = true\n}\n\n\
                  s3_object hello {\n  bucket = s3_bucket.b\n  key    = \"hello.txt\"\n  source = \"files/hello.txt\"\n}\n";
    std::fs::write(root.path().join("conf/main.k8sinfra"), config).expect("config");
    let apply = k8sinfra(&moto, root.path(), &["apply", "--auto-approve", "conf"]);
    assert!(apply.status.success(), "{}", stderr(&apply));
    let rt = runtime();
    let object = rt.block_on(moto.s3().get_object().bucket("sourced").key("hello.txt").send()).expect("the object");
    let body = rt.block_on(object.body.collect()).expect("body").into_bytes();
    assert_eq!(&body[..], b"from the working folder");
}
