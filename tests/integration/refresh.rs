//! Refresh reads each resource type in one call, not one per resource:
//! 200 subnets and 200 security groups are refreshed in a handful of API
//! calls, counted by a relay between k8sinfra and moto.

use crate::apply::{k8sinfra, state};
use crate::moto::Moto;
use crate::proxy::CountingProxy;
use crate::support::{stderr, stdout};

const MANY: &str = r#"aws { region = "us-east-1" }

vpc main {
  cidr = 10.0.0.0/16
}

subnet many {
  count = 200
  vpc   = vpc.main
  cidr  = cidrsubnet(vpc.main.cidr, 8, count.index)
  zone  = "us-east-1a"
}

security_group many {
  count = 200
  vpc   = vpc.main

  ingress {
    protocol    = "tcp"
    port        = 22
    cidrs       = [10.0.0.0/8]
    description = "SSH from inside"
  }
}
"#;

#[test]
fn refreshing_200_subnets_and_200_groups_takes_a_handful_of_calls() {
    let moto = Moto::start();
    let dir = tempfile::tempdir().expect("tempdir");
    std::fs::write(dir.path().join("main.k8sinfra"), MANY).expect("config");
    let apply = k8sinfra(&moto, dir.path(), &["apply", "--auto-approve"]);
    assert!(apply.status.success(), "{}", stderr(&apply));

    let proxy = CountingProxy::start(&moto.endpoint);
    let mut plan = std::process::Command::new(env!("CARGO_BIN_EXE_k8sinfra"));
    plan.args(["plan", "--detailed-exitcode"]).current_dir(dir.path()).env("NO_COLOR", "1");
    for (k, v) in moto.env() {
        plan.env(k, if k == "AWS_ENDPOINT_URL" { proxy.endpoint.clone() } else { v });
    }
    let plan = plan.output().expect("plan runs");
    assert_eq!(plan.status.code(), Some(0), "{}{}", stdout(&plan), stderr(&plan));
    let counts = proxy.counts();
    assert_eq!(counts.get("DescribeSubnets"), Some(&1), "{counts:?}");
    assert_eq!(counts.get("DescribeSecurityGroups"), Some(&1), "{counts:?}");
    let total: usize = counts.values().sum();
    // The VPC takes three (itself and its two DNS attributes).
    assert!(total <= 6, "401 resources refreshed in {total} calls: {counts:?}");
}

/// 100 VPCs with a subnet each: `count` VPCs, each with a subnet, and
/// `extra` written into every VPC block.
fn vpcs_with_a_subnet(extra: &str) -> String {
    format!(
        "aws {{ region = \"us-east-1\" }}\n\nvpc many {{\n  count = 100\n  cidr  = cidrsubnet(10.0.0.0/8, 8, count.index)\n{extra}}}\n\n\
         subnet many {{\n  count = 100\n  vpc   = vpc.many[count.index]\n  cidr  = cidrsubnet(vpc.many[count.index].cidr, 8, 1)\n  \
         zone  = \"us-east-1a\"\n}}\n"
    )
}

/// The 200-resource VPC shape. One DescribeVpcs for all the VPCs (a filter
/// per 200 ids) and one DescribeSubnets. A VPC's DNS attributes, which AWS
/// shows one per call and VPC, are read only where the configuration
/// writes them: none for a plan of the shape as written, one call per VPC
/// for the one attribute written, whose drift then shows; none for a
/// destroy, which only needs to know what still exists.
#[test]
fn refreshing_100_vpcs_reads_dns_attributes_only_where_written() {
    let moto = Moto::start();
    let dir = tempfile::tempdir().expect("tempdir");
    let write =
        |extra: &str| std::fs::write(dir.path().join("main.k8sinfra"), vpcs_with_a_subnet(extra)).expect("config");
    write("");
    let apply = k8sinfra(&moto, dir.path(), &["apply", "--auto-approve"]);
    assert!(apply.status.success(), "{}", stderr(&apply));

    let counted = |args: &[&str]| {
        let proxy = CountingProxy::start(&moto.endpoint);
        let run = crate::apply::k8sinfra_via(&moto, &proxy.endpoint, dir.path(), args);
        (run, proxy.counts())
    };
    let (plan, counts) = counted(&["plan", "--detailed-exitcode"]);
    assert_eq!(plan.status.code(), Some(0), "{}{}", stdout(&plan), stderr(&plan));
    assert_eq!(counts.get("DescribeVpcs"), Some(&1), "{counts:?}");
    assert_eq!(counts.get("DescribeSubnets"), Some(&1), "{counts:?}");
    assert_eq!(counts.get("DescribeVpcAttribute"), None, "{counts:?}");
    let total: usize = counts.values().sum();
    assert!(total <= 5, "200 resources refreshed in {total} calls: {counts:?}");

    write("  enable_dns_hostnames = true\n");
    let apply = k8sinfra(&moto, dir.path(), &["apply", "--auto-approve"]);
    assert!(apply.status.success(), "{}", stderr(&apply));
    let (plan, counts) = counted(&["plan", "--detailed-exitcode"]);
    assert_eq!(plan.status.code(), Some(0), "{}{}", stdout(&plan), stderr(&plan));
    assert_eq!(counts.get("DescribeVpcs"), Some(&1), "{counts:?}");
    assert_eq!(counts.get("DescribeVpcAttribute"), Some(&100), "one per VPC, for hostnames only: {counts:?}");

    // Someone turns hostnames off on one VPC: the plan sees it.
    let rt = crate::apply::runtime();
    let ec2 = moto.ec2();
    let vpcs = rt.block_on(ec2.describe_vpcs().send()).expect("vpcs");
    let one = vpcs.vpcs().iter().find(|v| v.is_default() != Some(true)).and_then(|v| v.vpc_id()).expect("a VPC");
    let off = aws_sdk_ec2::types::AttributeBooleanValue::builder().value(false).build();
    rt.block_on(ec2.modify_vpc_attribute().vpc_id(one).enable_dns_hostnames(off).send()).expect("modify");
    let plan = k8sinfra(&moto, dir.path(), &["plan", "--detailed-exitcode"]);
    assert_eq!(plan.status.code(), Some(2), "{}{}", stdout(&plan), stderr(&plan));
    assert!(stdout(&plan).contains("enable_dns_hostnames"), "{}", stdout(&plan));

    let (destroy, counts) = counted(&["destroy", "--auto-approve"]);
    assert!(destroy.status.success(), "{}{}", stdout(&destroy), stderr(&destroy));
    assert_eq!(counts.get("DescribeVpcAttribute"), None, "a destroy reads no attribute: {counts:?}");
    assert_eq!(counts.get("DeleteVpc"), Some(&100), "{counts:?}");
}

/// A bucket's settings are a call each: refresh asks for its tags (which
/// say whether it exists), its versioning only where the configuration
/// writes it, and always for the settings that guard the data (encryption,
/// the public-access block), whose drift shows even at their defaults.
#[test]
fn refreshing_a_bucket_reads_the_settings_written() {
    let moto = Moto::start();
    let dir = tempfile::tempdir().expect("tempdir");
    std::fs::write(
        dir.path().join("main.k8sinfra"),
        "aws { region = \"us-east-1\" }\n\ns3_bucket logs {\n  name       = \"refresh-logs\"\n  versioning = true\n}\n\n\
         s3_bucket scratch {\n  name = \"refresh-scratch\"\n  lifecycle {\n    accept = {\n      bucket_versioning = \"scratch space\"\n    }\n  }\n}\n",
    )
    .expect("config");
    let apply = k8sinfra(&moto, dir.path(), &["apply", "--auto-approve"]);
    assert!(apply.status.success(), "{}", stderr(&apply));

    let proxy = CountingProxy::start(&moto.endpoint);
    let plan = crate::apply::k8sinfra_via(&moto, &proxy.endpoint, dir.path(), &["plan", "--detailed-exitcode"]);
    assert_eq!(plan.status.code(), Some(0), "{}{}", stdout(&plan), stderr(&plan));
    // S3 is REST: the relay counts request lines (`GET /refresh-logs?tagging …`).
    let counts = proxy.counts();
    let asked = |query: &str| -> usize { counts.iter().filter(|(line, _)| line.contains(query)).map(|(_, n)| n).sum() };
    assert_eq!(asked("?tagging"), 2, "{counts:?}");
    assert_eq!(asked("?versioning"), 1, "written for `logs` only: {counts:?}");
    assert_eq!(asked("?encryption"), 2, "{counts:?}");
    assert_eq!(asked("?publicAccessBlock"), 2, "{counts:?}");

    // The public-access block turned off by hand: drift, at its default.
    let rt = crate::apply::runtime();
    rt.block_on(moto.s3().delete_public_access_block().bucket("refresh-scratch").send()).expect("delete block");
    let plan = k8sinfra(&moto, dir.path(), &["plan", "--detailed-exitcode"]);
    assert_eq!(plan.status.code(), Some(2), "{}{}", stdout(&plan), stderr(&plan));
    assert!(stdout(&plan).contains("block_public_access"), "{}", stdout(&plan));
}

/// bench/generate.py's configuration of 44 resources, applied: four
/// groups, each with a DNS record (in one zone) and an S3 object (in one
/// bucket).
fn generated_and_applied(moto: &Moto) -> tempfile::TempDir {
    let dir = tempfile::tempdir().expect("tempdir");
    let generated = std::process::Command::new("python3")
        .arg(crate::support::root().join("bench/generate.py"))
        .arg("44")
        .output()
        .expect("python3 runs the generator");
    assert!(generated.status.success(), "{}", String::from_utf8_lossy(&generated.stderr));
    std::fs::write(dir.path().join("main.k8sinfra"), &generated.stdout).expect("config");
    let apply = k8sinfra(moto, dir.path(), &["apply", "--auto-approve"]);
    assert!(apply.status.success(), "{}{}", stdout(&apply), stderr(&apply));
    dir
}

/// How many requests of `counts` (REST request lines for Route53 and S3)
/// match `which`.
fn matching(counts: &std::collections::BTreeMap<String, usize>, which: impl Fn(&str) -> bool) -> usize {
    counts.iter().filter(|(line, _)| which(line)).map(|(_, n)| n).sum()
}

/// apply.md, step 3: a zone's records are read by listing the zone once;
/// a bucket's objects by listing it once, and an object is read again
/// (content included) only when its ETag changed: the one rewritten by
/// hand, not the others.
#[test]
fn each_zone_and_bucket_is_listed_once_and_only_a_changed_object_is_read_again() {
    let moto = Moto::start();
    let dir = generated_and_applied(&moto);
    let objects: Vec<String> = state(dir.path())["resources"]
        .as_object()
        .expect("resources")
        .keys()
        .filter(|a| a.starts_with("s3_object."))
        .cloned()
        .collect();
    assert!(objects.len() > 2, "{objects:?}");
    let records = state(dir.path())["resources"]
        .as_object()
        .expect("resources")
        .keys()
        .filter(|a| a.starts_with("dns_record."))
        .count();
    assert_eq!(records, objects.len());

    let proxy = CountingProxy::start(&moto.endpoint);
    let plan = crate::apply::k8sinfra_via(&moto, &proxy.endpoint, dir.path(), &["plan", "--detailed-exitcode"]);
    assert_eq!(plan.status.code(), Some(0), "{}{}", stdout(&plan), stderr(&plan));
    let counts = proxy.counts();
    assert_eq!(matching(&counts, |l| l.contains("/rrset")), 1, "{records} records, one listing: {counts:?}");
    assert_eq!(matching(&counts, |l| l.contains("/rrset") && l.contains("maxitems=300")), 1, "300 a page: {counts:?}");
    assert_eq!(matching(&counts, |l| l.starts_with("GET /bench-files") && l.contains("list-type")), 1, "{counts:?}");
    assert_eq!(matching(&counts, |l| l.contains("/bench-files/nodes/")), 0, "no object read again: {counts:?}");

    let body = aws_sdk_s3::primitives::ByteStream::from_static(b"{\"changed\":\"by hand\"}");
    let put = moto.s3().put_object().bucket("bench-files").key("nodes/1.json").body(body).send();
    crate::apply::runtime().block_on(put).expect("rewritten by hand");
    let proxy = CountingProxy::start(&moto.endpoint);
    let plan = crate::apply::k8sinfra_via(&moto, &proxy.endpoint, dir.path(), &["plan", "--detailed-exitcode"]);
    assert_eq!(plan.status.code(), Some(2), "{}{}", stdout(&plan), stderr(&plan));
    let counts = proxy.counts();
    assert_eq!(matching(&counts, |l| l.starts_with("GET /bench-files/nodes/1.json")), 1, "{counts:?}");
    assert_eq!(
        matching(&counts, |l| l.contains("/bench-files/nodes/") && !l.contains("/nodes/1.json")),
        0,
        "{counts:?}"
    );
}

/// Every type bench/generate.py writes (14 of them, the shape of the
/// 1,000-resource benchmark at a small size), refreshed for a no-change
/// plan in the calls the benchmark claims: one per type, two for the zone
/// (it and its tags), three for the bucket (its tags and the two settings
/// that guard its data) — 17 in all, however many resources of each.
#[test]
fn a_no_change_plan_of_every_generated_type_takes_17_calls() {
    let moto = Moto::start();
    let dir = generated_and_applied(&moto);

    let proxy = CountingProxy::start(&moto.endpoint);
    let plan = crate::apply::k8sinfra_via(&moto, &proxy.endpoint, dir.path(), &["plan", "--detailed-exitcode"]);
    assert_eq!(plan.status.code(), Some(0), "{}{}", stdout(&plan), stderr(&plan));
    let counts = proxy.counts();
    let total: usize = counts.values().sum();
    assert_eq!(total, 17, "{counts:?}");
    for (operation, calls) in &counts {
        assert!(*calls <= 2, "{operation} made {calls} times: {counts:?}");
    }

    // `--call-stats` counts the same calls the relay saw.
    let stats = k8sinfra(&moto, dir.path(), &["plan", "--call-stats"]);
    assert!(stats.status.success(), "{}", stderr(&stats));
    let printed = stderr(&stats);
    let total = printed
        .lines()
        .find_map(|l| l.trim_start().strip_prefix("total")?.split_whitespace().next()?.parse::<usize>().ok());
    assert_eq!(total, Some(17), "{printed}");
}

/// apply.md, planning: three instances are refreshed in one
/// DescribeInstances (and one DescribeVolumes); a plan that launches
/// nothing asks for no image, and one that launches two of one image asks
/// once.
#[test]
fn instances_are_read_together_and_an_image_is_verified_once_and_only_for_a_launch() {
    let moto = Moto::start();
    let dir = crate::apply::example("vpc");
    let nodes = |count: usize| {
        let text = format!(
            "instance node {{\n  count  = {count}\n  image  = \"ami-a4c7edb2\"\n  type   = \"t2.nano\"\n  subnet = subnet.private\n}}\n"
        );
        std::fs::write(dir.path().join("nodes.k8sinfra"), text).expect("nodes");
    };
    nodes(3);
    let apply = k8sinfra(&moto, dir.path(), &["apply", "--auto-approve"]);
    assert!(apply.status.success(), "{}{}", stdout(&apply), stderr(&apply));

    let proxy = CountingProxy::start(&moto.endpoint);
    let plan = crate::apply::k8sinfra_via(&moto, &proxy.endpoint, dir.path(), &["plan", "--detailed-exitcode"]);
    assert_eq!(plan.status.code(), Some(0), "{}{}", stdout(&plan), stderr(&plan));
    let counts = proxy.counts();
    assert_eq!(counts.get("DescribeInstances"), Some(&1), "{counts:?}");
    assert!(counts.get("DescribeVolumes").is_none_or(|n| *n <= 1), "{counts:?}");
    assert_eq!(counts.get("DescribeImages"), None, "nothing launches: {counts:?}");
    assert_eq!(counts.get("DescribeInstanceAttribute"), None, "user data kept as the state holds it: {counts:?}");

    nodes(5);
    let proxy = CountingProxy::start(&moto.endpoint);
    let plan = crate::apply::k8sinfra_via(&moto, &proxy.endpoint, dir.path(), &["plan", "--detailed-exitcode"]);
    assert_eq!(plan.status.code(), Some(2), "{}{}", stdout(&plan), stderr(&plan));
    assert_eq!(proxy.counts().get("DescribeImages"), Some(&1), "two launches of one image: {:?}", proxy.counts());
}
