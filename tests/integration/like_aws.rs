//! The seed chapter and the kops cluster through the AWS-behaviour layer
//! (`aws_behaviour`), every behaviour on, with the first answer of every
//! create lost after the cloud acted: each applies (one more apply at most),
//! plans to nothing, and destroys to an empty account, with no resource
//! made twice. The code under test runs its real budgets, scaled down by
//! the one setting meant for it (`K8SINFRA_AWS_TIME_SCALE`, which the
//! harness sets for every run: `Moto::env`).

use std::path::Path;
use std::process::Output;

use crate::apply::{example, k8sinfra, k8sinfra_via};
use crate::aws_behaviour::Behaviours;
use crate::faults::{assert_account_matches_state, state_of};
use crate::moto::Moto;
use crate::proxy::{CountingProxy, Faults};
use crate::settle::leftovers;
use crate::support::{stderr, stdout};

/// Every create call the examples make, EC2's and the others'.
const CREATES: &[&str] = &[
    "CreateVpc",
    "CreateSubnet",
    "CreateInternetGateway",
    "CreateRouteTable",
    "AllocateAddress",
    "CreateNatGateway",
    "CreateSecurityGroup",
    "ImportKeyPair",
    "RunInstances",
    "CreateVolume",
    "CreateLoadBalancer",
];

fn run(moto: &Moto, relay: &CountingProxy, dir: &Path, args: &[&str]) -> Output {
    k8sinfra_via(moto, &relay.endpoint, dir, args)
}

/// Apply until it succeeds, at most twice (a lost answer may leave the
/// first apply failed, never a duplicate); the number of applies.
#[allow(clippy::print_stderr)]
fn converge(moto: &Moto, relay: &CountingProxy, dir: &Path, extra: &[&str]) -> usize {
    let args: Vec<&str> = ["apply", "--auto-approve"].iter().chain(extra).copied().collect();
    for attempt in 1..=2 {
        let apply = run(moto, relay, dir, &args);
        if apply.status.success() {
            return attempt;
        }
        eprintln!("apply {attempt} failed:\n{}{}", stdout(&apply), stderr(&apply));
    }
    panic!("no convergence in two applies; the layer did {:?}", relay.behaved());
}

/// The round trip; returns what the layer did.
#[allow(clippy::print_stderr)]
fn round_trip(example_name: &str, extra: &[&str]) -> std::collections::BTreeMap<&'static str, usize> {
    let moto = Moto::start();
    let dir = example(example_name);
    let init = k8sinfra(&moto, dir.path(), &["init"]);
    assert!(init.status.success(), "init: {}", stderr(&init));
    let faults = Faults { lose_first: CREATES, seed: 5, ..Faults::default() };
    let relay = CountingProxy::like_aws(&moto.endpoint, Behaviours::all(), faults);

    // Calls and time of each step, for BENCHMARKS.md.
    let calls = || relay.counts().values().sum::<usize>();
    let started = std::time::Instant::now();
    let applies = converge(&moto, &relay, dir.path(), extra);
    eprintln!(
        "{example_name}: {applies} applies, {} calls, {:.1} s; lost: {:?}; layer: {:?}",
        calls(),
        started.elapsed().as_secs_f64(),
        relay.injected(),
        relay.behaved()
    );
    let (before, started) = (calls(), std::time::Instant::now());
    assert_account_matches_state(&moto, &state_of(&moto, example_name));
    let plan_args: Vec<&str> = ["plan", "--detailed-exitcode"].iter().chain(extra).copied().collect();
    let plan = run(&moto, &relay, dir.path(), &plan_args);
    assert_eq!(plan.status.code(), Some(0), "did not settle:\n{}{}", stdout(&plan), stderr(&plan));

    eprintln!("{example_name}: plan {} calls, {:.1} s", calls() - before, started.elapsed().as_secs_f64());
    let (before, started) = (calls(), std::time::Instant::now());
    let destroy_args: Vec<&str> = ["destroy", "--auto-approve"].iter().chain(extra).copied().collect();
    let destroy = run(&moto, &relay, dir.path(), &destroy_args);
    assert!(destroy.status.success(), "destroy:\n{}{}", stdout(&destroy), stderr(&destroy));
    eprintln!(
        "{example_name}: destroy {} calls, {:.1} s; layer in all: {:?}",
        calls() - before,
        started.elapsed().as_secs_f64(),
        relay.behaved()
    );
    let left = leftovers(&moto);
    assert!(left.is_empty(), "destroy left {left:?}");
    let lost: Vec<String> = relay.injected().into_iter().map(|(_, op)| op).collect();
    for create in CREATES {
        assert!(!relay.counts().contains_key(*create) || lost.iter().any(|op| op == create), "{create}'s answer lost");
    }
    relay.behaved()
}

#[test]
fn the_seed_chapter_round_trips_through_aws_behaviour() {
    let acted = round_trip("seed-chapter", &[]);
    for behaviour in [
        "not visible yet",
        "idempotent repeat",
        "nat pending",
        "nat deleting",
        "address held by a NAT gateway",
        "load balancer interfaces shown",
    ] {
        assert!(acted.get(behaviour).is_some_and(|n| *n > 0), "{behaviour} never happened: {acted:?}");
    }
    // The load balancer's delete waited for its interfaces to go: nothing
    // it used was refused for them.
    assert!(!acted.contains_key("load balancer interfaces linger"), "{acted:?}");
    assert!(!acted.contains_key("detach refused while mapped"), "{acted:?}");
    // The data volume's attachment ended with its instance: no detach of
    // a volume the host had mounted, nothing left busy.
    assert!(!acted.contains_key("volume busy"), "{acted:?}");
}

#[test]
fn the_kops_cluster_round_trips_through_aws_behaviour() {
    let acted = round_trip("kops-cluster", &[]);
    for behaviour in ["not visible yet", "idempotent repeat", "nat pending", "nat deleting"] {
        assert!(acted.get(behaviour).is_some_and(|n| *n > 0), "{behaviour} never happened: {acted:?}");
    }
}

/// The error code of a call that failed, or "ok".
fn outcome<T, E: aws_sdk_ec2::error::ProvideErrorMetadata, R>(
    result: Result<T, aws_sdk_ec2::error::SdkError<E, R>>,
) -> String {
    match result {
        Ok(_) => "ok".into(),
        Err(e) => e.as_service_error().and_then(|e| e.code()).unwrap_or("no code").to_string(),
    }
}

/// The layer itself, call by call: each behaviour does what AWS documents,
/// so the round trips above test the code against AWS's conduct and not
/// against a layer that does nothing.
#[test]
fn the_layer_behaves_as_aws_documents() {
    use aws_sdk_ec2::types::{Filter, NatGatewayState};
    use aws_sdk_elasticloadbalancing::types::Listener;

    let moto = Moto::start();
    let relay = CountingProxy::like_aws(&moto.endpoint, Behaviours::all(), Faults::default());
    let ec2 = moto.ec2_via(&relay.endpoint);
    let elb = moto.elb_via(&relay.endpoint);
    let rt = crate::apply::runtime();
    let settle = || std::thread::sleep(std::time::Duration::from_millis(2100));

    // A new VPC: not found by id, left out of a filtered describe, until
    // the window has passed; then seen both ways.
    let vpc = rt.block_on(ec2.create_vpc().cidr_block("10.1.0.0/16").send()).expect("vpc");
    let vpc = vpc.vpc().and_then(|v| v.vpc_id()).expect("id").to_string();
    assert_eq!(outcome(rt.block_on(ec2.describe_vpcs().vpc_ids(&vpc).send())), "InvalidVpcID.NotFound");
    let by_filter = || {
        let filter = Filter::builder().name("vpc-id").values(&vpc).build();
        rt.block_on(ec2.describe_vpcs().filters(filter).send()).expect("describe").vpcs().len()
    };
    assert_eq!(by_filter(), 0);
    assert_eq!(
        outcome(rt.block_on(ec2.create_subnet().vpc_id(&vpc).cidr_block("10.1.1.0/24").send())),
        "InvalidVpcID.NotFound"
    );
    settle();
    assert_eq!(by_filter(), 1);
    assert_eq!(outcome(rt.block_on(ec2.describe_vpcs().vpc_ids(&vpc).send())), "ok");

    // A create repeated with its client token gets the first answer.
    let volume = || {
        let call = ec2.create_volume().availability_zone("us-east-1a").size(1).client_token("same-token");
        rt.block_on(call.send()).expect("volume").volume_id().expect("id").to_string()
    };
    assert_eq!(volume(), volume());
    let volumes = rt.block_on(moto.ec2().describe_volumes().send()).expect("volumes");
    assert_eq!(volumes.volumes().len(), 1, "one volume made");

    // A NAT gateway made before the VPC's internet gateway is attached
    // fails; one made after is pending, then available.
    let subnet = rt.block_on(ec2.create_subnet().vpc_id(&vpc).cidr_block("10.1.1.0/24").send()).expect("subnet");
    let subnet = subnet.subnet().and_then(|s| s.subnet_id()).expect("id").to_string();
    let nat = |address: &str| {
        let call = ec2.create_nat_gateway().subnet_id(&subnet).allocation_id(address);
        rt.block_on(call.send()).expect("nat").nat_gateway().and_then(|n| n.nat_gateway_id()).expect("id").to_string()
    };
    let address =
        || rt.block_on(ec2.allocate_address().send()).expect("address").allocation_id().expect("id").to_string();
    let (first_address, second_address) = (address(), address());
    settle();
    let early = nat(&first_address);
    let gateway = rt.block_on(ec2.create_internet_gateway().send()).expect("igw");
    let gateway = gateway.internet_gateway().and_then(|g| g.internet_gateway_id()).expect("id").to_string();
    settle();
    rt.block_on(ec2.attach_internet_gateway().internet_gateway_id(&gateway).vpc_id(&vpc).send()).expect("attach");
    let late = nat(&second_address);
    let state = |id: &str| {
        let filter = Filter::builder().name("nat-gateway-id").values(id).build();
        let out = rt.block_on(ec2.describe_nat_gateways().filter(filter).send()).expect("nat gateways");
        out.nat_gateways().first().map(|n| (n.state().cloned(), n.failure_code().map(str::to_string)))
    };
    assert_eq!(state(&early), Some((Some(NatGatewayState::Failed), Some("Gateway.NotAttached".into()))));
    assert_eq!(state(&late), None, "not visible yet");
    std::thread::sleep(std::time::Duration::from_millis(1100));
    assert_eq!(state(&late), Some((Some(NatGatewayState::Pending), None)));
    settle();
    assert_eq!(state(&late), Some((Some(NatGatewayState::Available), None)));

    // The gateway cannot be detached while a NAT gateway holds a public
    // address, nor while it is deleting.
    let detach =
        || outcome(rt.block_on(ec2.detach_internet_gateway().internet_gateway_id(&gateway).vpc_id(&vpc).send()));
    assert_eq!(detach(), "DependencyViolation");
    rt.block_on(ec2.delete_nat_gateway().nat_gateway_id(&late).send()).expect("delete nat");
    assert_eq!(state(&late).and_then(|s| s.0), Some(NatGatewayState::Deleting));
    assert_eq!(detach(), "DependencyViolation");
    settle();
    assert_eq!(state(&late).and_then(|s| s.0), Some(NatGatewayState::Deleted));
    assert_eq!(detach(), "ok");

    // A load balancer's interfaces outlive it: its subnet and group cannot
    // be deleted for a while after it.
    let group = rt.block_on(ec2.create_security_group().group_name("lb").description("lb").vpc_id(&vpc).send());
    let group = group.expect("group").group_id().expect("id").to_string();
    settle();
    let listener =
        Listener::builder().protocol("TCP").load_balancer_port(80).instance_port(80).build().expect("listener");
    let made = elb
        .create_load_balancer()
        .load_balancer_name("lb")
        .subnets(&subnet)
        .security_groups(&group)
        .listeners(listener);
    rt.block_on(made.send()).expect("load balancer");
    let interfaces = || {
        let filter = Filter::builder().name("description").values("ELB lb").build();
        let out = rt.block_on(ec2.describe_network_interfaces().filters(filter).send()).expect("interfaces");
        out.network_interfaces().iter().filter(|i| i.requester_id() == Some("amazon-elb")).count()
    };
    assert_eq!(interfaces(), 1, "one in its one subnet");
    rt.block_on(elb.delete_load_balancer().load_balancer_name("lb").send()).expect("delete load balancer");
    assert_eq!(interfaces(), 1, "still there after the delete");
    assert_eq!(outcome(rt.block_on(ec2.delete_security_group().group_id(&group).send())), "DependencyViolation");
    settle();
    assert_eq!(interfaces(), 0);
    assert_eq!(outcome(rt.block_on(ec2.delete_security_group().group_id(&group).send())), "ok");

    // A volume detached from a running host stays busy until the host goes.
    let host =
        rt.block_on(ec2.run_instances().image_id("ami-12c6146b").min_count(1).max_count(1).subnet_id(&subnet).send());
    let host = host.expect("an instance").instances()[0].instance_id().expect("id").to_string();
    let disk = rt.block_on(ec2.create_volume().availability_zone("us-east-1a").size(1).send()).expect("volume");
    let disk = disk.volume_id().expect("id").to_string();
    settle();
    rt.block_on(ec2.attach_volume().volume_id(&disk).instance_id(&host).device("/dev/xvdh").send()).expect("attach");
    rt.block_on(ec2.detach_volume().volume_id(&disk).instance_id(&host).send()).expect("detach");
    let attachment_state = || {
        let out = rt.block_on(ec2.describe_volumes().volume_ids(&disk).send()).expect("volumes");
        out.volumes()[0].attachments().first().and_then(|a| a.state()).map(|s| s.as_str().to_string())
    };
    assert_eq!(attachment_state().as_deref(), Some("busy"));
    assert_eq!(outcome(rt.block_on(ec2.delete_volume().volume_id(&disk).send())), "VolumeInUse");
    rt.block_on(ec2.terminate_instances().instance_ids(&host).send()).expect("terminate");
    assert_eq!(attachment_state(), None);
    assert_eq!(outcome(rt.block_on(ec2.delete_volume().volume_id(&disk).send())), "ok");

    let acted = relay.behaved();
    for behaviour in [
        "not visible yet",
        "left out of a describe",
        "idempotent repeat",
        "nat failed unattached",
        "nat pending",
        "nat deleting",
        "detach refused while mapped",
        "load balancer interfaces linger",
        "load balancer interfaces shown",
        "volume busy",
    ] {
        assert!(acted.contains_key(behaviour), "{behaviour}: {acted:?}");
    }
}

#[test]
fn the_layer_finds_top_level_items_and_decodes_forms() {
    use crate::aws_behaviour::{decode, first, items};
    let xml = "<r><set><item><a><item><groupId>sg-2</groupId></item></a><groupId>sg-1</groupId></item>\
               <item><groupId>sg-3</groupId></item></set></r>";
    let found = items(xml);
    assert_eq!(found.len(), 2);
    assert_eq!(first(&xml[found[1].0..found[1].1], "groupId").as_deref(), Some("sg-3"));
    assert_eq!(decode("Filter.1.Value.1=a%5B%22b%22%5D+c"), "Filter.1.Value.1=a[\"b\"] c");
}

/// A zone that holds records no `dns_record` manages (by hand, by
/// external-dns) is someone's: destroy refuses it, naming them, until
/// `force_destroy = true`; then they go in batches within Route53's limits
/// (the layer refuses a batch over 1,000 records, as Route53 does).
#[test]
fn a_zone_holding_records_made_elsewhere_is_kept_unless_force_destroy_then_emptied_in_batches() {
    use aws_sdk_route53::types::{Change, ChangeAction, ChangeBatch, ResourceRecord, ResourceRecordSet, RrType};

    let moto = Moto::start();
    let relay = CountingProxy::like_aws(&moto.endpoint, Behaviours::all(), Faults::default());
    let dir = tempfile::tempdir().expect("tempdir");
    let config = |force: bool| {
        let text = format!("aws {{ region = \"us-east-1\" }}\n\ndns_zone main {{\n  name          = \"big.example\"\n  force_destroy = {force}\n}}\n");
        std::fs::write(dir.path().join("main.k8sinfra"), text).expect("write");
    };
    config(false);
    let apply = run(&moto, &relay, dir.path(), &["apply", "--auto-approve"]);
    assert!(apply.status.success(), "{}", stderr(&apply));
    let rt = crate::apply::runtime();
    let r53 = moto.route53();
    let zone = rt.block_on(r53.list_hosted_zones().send()).expect("zones").hosted_zones()[0].id().to_string();
    // 1,500 records made by someone else, straight on the server.
    for chunk in (0..1500).collect::<Vec<_>>().chunks(500) {
        let changes = chunk
            .iter()
            .map(|i| {
                let record =
                    ResourceRecord::builder().value(format!("10.0.{}.{}", i / 250, i % 250)).build().expect("record");
                let set = ResourceRecordSet::builder()
                    .name(format!("host{i}.big.example"))
                    .r#type(RrType::A)
                    .ttl(60)
                    .resource_records(record)
                    .build()
                    .expect("set");
                Change::builder().action(ChangeAction::Create).resource_record_set(set).build().expect("change")
            })
            .collect();
        let batch = ChangeBatch::builder().set_changes(Some(changes)).build().expect("batch");
        rt.block_on(r53.change_resource_record_sets().hosted_zone_id(&zone).change_batch(batch).send())
            .expect("records made elsewhere");
    }

    let refused = run(&moto, &relay, dir.path(), &["destroy", "--auto-approve"]);
    assert!(!refused.status.success());
    let said = format!("{}{}", stdout(&refused), stderr(&refused));
    assert!(
        said.contains("holds 1500 record set(s) k8sinfra does not manage") && said.contains("force_destroy = true"),
        "{said}"
    );
    assert!(said.contains("host0.big.example. A") && said.contains("and 1495 more"), "{said}");
    let sets = rt.block_on(r53.list_resource_record_sets().hosted_zone_id(&zone).max_items(2000).send()).expect("sets");
    assert_eq!(sets.resource_record_sets().len(), 1502, "nothing deleted: 1,500 and the zone's NS and SOA");

    config(true);
    let apply = run(&moto, &relay, dir.path(), &["apply", "--auto-approve"]);
    assert!(apply.status.success(), "{}", stderr(&apply));
    let destroyed = run(&moto, &relay, dir.path(), &["destroy", "--auto-approve"]);
    assert!(destroyed.status.success(), "{}{}", stdout(&destroyed), stderr(&destroyed));
    assert!(rt.block_on(r53.list_hosted_zones().send()).expect("zones").hosted_zones().is_empty());
    assert!(!relay.behaved().contains_key("route53 batch refused"), "{:?}", relay.behaved());
    let batches = relay.counts().iter().filter(|(op, _)| op.contains("/rrset")).map(|(_, n)| n).sum::<usize>();
    assert!(batches >= 2, "1,500 records take two batches at least: {:?}", relay.counts());
}

/// A team's state bucket in another region than the configuration's: S3
/// answers 301 with the bucket's region, and the backend follows it.
#[test]
fn the_state_follows_its_bucket_to_its_region() {
    use aws_sdk_s3::types::{BucketLocationConstraint, CreateBucketConfiguration};

    let moto = Moto::start();
    let relay = CountingProxy::like_aws(&moto.endpoint, Behaviours::all(), Faults::default());
    let rt = crate::apply::runtime();
    let in_ireland = moto.s3_in(&relay.endpoint, "eu-west-1");
    let location = CreateBucketConfiguration::builder().location_constraint(BucketLocationConstraint::EuWest1).build();
    rt.block_on(in_ireland.create_bucket().bucket("team-state").create_bucket_configuration(location).send())
        .expect("the team's bucket, in eu-west-1");
    let dir = tempfile::tempdir().expect("tempdir");
    std::fs::write(
        dir.path().join("main.k8sinfra"),
        "aws { region = \"us-east-1\" }\n\nbackend s3 {\n  bucket = \"team-state\"\n  key    = \"net/state.json\"\n}\n\nvpc main {\n  cidr = 10.9.0.0/16\n}\n",
    )
    .expect("write");
    let apply = run(&moto, &relay, dir.path(), &["apply", "--auto-approve"]);
    assert!(apply.status.success(), "{}{}", stdout(&apply), stderr(&apply));
    let plan = run(&moto, &relay, dir.path(), &["plan", "--detailed-exitcode"]);
    assert_eq!(plan.status.code(), Some(0), "{}{}", stdout(&plan), stderr(&plan));
    let stored = rt.block_on(in_ireland.get_object().bucket("team-state").key("net/state.json").send());
    assert!(stored.is_ok(), "the state is in the team's bucket");
    assert!(relay.behaved().get("s3 redirect").is_some_and(|n| *n >= 2), "{:?}", relay.behaved());
}

/// A volume detached from a host that stays (the attachment alone leaves
/// the configuration): AWS keeps a mounted volume busy, so the detach
/// waits its bound and then says what to do; with `force_detach` it goes.
#[test]
fn a_detach_alone_waits_for_the_volume_and_names_force_detach() {
    let moto = Moto::start();
    let relay = CountingProxy::like_aws(&moto.endpoint, Behaviours::all(), Faults::default());
    let dir = tempfile::tempdir().expect("tempdir");
    let config = |attachment: &str| {
        let text = format!(
            "aws {{ region = \"us-east-1\" }}\n\nvpc main {{\n  cidr = 10.5.0.0/16\n}}\n\nsubnet a {{\n  vpc  = vpc.main\n  \
             cidr = 10.5.1.0/24\n  zone = \"us-east-1a\"\n}}\n\ninstance host {{\n  image  = \"ami-12c6146b\"\n  \
             type   = \"t3.micro\"\n  subnet = subnet.a\n}}\n\nebs_volume data {{\n  zone = \"us-east-1a\"\n  size = 1\n}}\n\n{attachment}"
        );
        std::fs::write(dir.path().join("main.k8sinfra"), text).expect("write");
    };
    let attached = |force: bool| {
        format!(
            "volume_attachment data {{\n  volume       = ebs_volume.data\n  instance     = instance.host\n  device       = \
             \"/dev/xvdh\"\n  force_detach = {force}\n}}\n"
        )
    };
    config(&attached(false));
    let apply = run(&moto, &relay, dir.path(), &["apply", "--auto-approve"]);
    assert!(apply.status.success(), "{}", stderr(&apply));

    config("");
    let started = std::time::Instant::now();
    let stuck = run(&moto, &relay, dir.path(), &["apply", "--auto-approve"]);
    assert!(!stuck.status.success(), "{}", stdout(&stuck));
    let said = stderr(&stuck);
    assert!(said.contains("still busy after") && said.contains("force_detach = true"), "{said}");
    // Ten minutes, at the suite's scale (K8SINFRA_AWS_TIME_SCALE=0.02).
    assert!(started.elapsed() >= std::time::Duration::from_secs(11), "{:?}", started.elapsed());

    config(&attached(true));
    let forced = run(&moto, &relay, dir.path(), &["apply", "--auto-approve"]);
    assert!(forced.status.success(), "{}{}", stdout(&forced), stderr(&forced));
    config("");
    let detached = run(&moto, &relay, dir.path(), &["apply", "--auto-approve"]);
    assert!(detached.status.success(), "{}{}", stdout(&detached), stderr(&detached));
    let plan = run(&moto, &relay, dir.path(), &["plan", "--detailed-exitcode"]);
    assert_eq!(plan.status.code(), Some(0), "{}{}", stdout(&plan), stderr(&plan));
}
