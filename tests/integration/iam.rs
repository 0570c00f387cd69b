//! IAM on moto, through the AWS-behaviour layer (an instance profile
//! unknown to EC2 for a while after its create): a role with a trust
//! policy, an inline policy, an instance profile and an instance that uses
//! it. Applied, planned to nothing (the documents compared as what they
//! grant, not as text), changed in place — the policy, the instance's
//! profile — and destroyed to nothing.

use crate::apply::{k8sinfra_via, runtime};
use crate::aws_behaviour::Behaviours;
use crate::moto::Moto;
use crate::proxy::{CountingProxy, Faults};
use crate::support::{stderr, stdout};

const CONFIG: &str = r#"aws { region = "us-east-1" }

iam_role nodes {
  name               = "nodes.iam.example"
  description        = "the nodes' role"
  assume_role_policy = jsonencode({
    Version   = "2012-10-17"
    Statement = [{ Effect = "Allow", Principal = { Service = ["ec2.amazonaws.com"] }, Action = "sts:AssumeRole" }]
  })
  tags = { Team = "platform" }
}

iam_role masters {
  name               = "masters.iam.example"
  assume_role_policy = iam_role.nodes.assume_role_policy
}

iam_role_policy nodes {
  role   = iam_role.nodes
  name   = "describe"
  policy = jsonencode({
    Version   = "2012-10-17"
    Statement = [{ Effect = "Allow", Action = ["ec2:DescribeRegions", "ec2:DescribeInstances"], Resource = "*" }]
  })
}

# Made after the subnet, so the instance is launched right after it, while
# EC2 does not know it yet.
iam_instance_profile nodes {
  name       = "nodes.iam.example"
  role       = iam_role.nodes
  depends_on = [subnet.a]
}

iam_instance_profile masters {
  name = "masters.iam.example"
  role = iam_role.masters
}

vpc main {
  cidr = 10.7.0.0/16
}

subnet a {
  vpc  = vpc.main
  cidr = 10.7.1.0/24
  zone = "us-east-1a"
}

instance node {
  image                = "ami-12c6146b"
  type                 = "t3.micro"
  subnet               = subnet.a
  iam_instance_profile = iam_instance_profile.nodes
}
"#;

#[test]
fn roles_policies_profiles_and_an_instance_role_apply_settle_change_in_place_and_destroy() {
    let moto = Moto::start();
    let relay = CountingProxy::like_aws(&moto.endpoint, Behaviours::all(), Faults::default());
    let dir = tempfile::tempdir().expect("tempdir");
    let write = |text: &str| std::fs::write(dir.path().join("main.k8sinfra"), text).expect("write");
    let run = |args: &[&str]| k8sinfra_via(&moto, &relay.endpoint, dir.path(), args);
    let (rt, iam, ec2) = (runtime(), moto.iam(), moto.ec2());
    write(CONFIG);

    let apply = run(&["apply", "--auto-approve"]);
    assert!(apply.status.success(), "{}{}", stdout(&apply), stderr(&apply));
    let role = rt.block_on(iam.get_role().role_name("nodes.iam.example").send()).expect("the role");
    let role = role.role().expect("role");
    let trust = crate::aws_behaviour::decode(role.assume_role_policy_document().unwrap_or_default());
    assert!(trust.contains("ec2.amazonaws.com") && trust.contains("sts:AssumeRole"), "{trust}");
    assert_eq!(role.description(), Some("the nodes' role"));
    let tags: Vec<(&str, &str)> = role.tags().iter().map(|t| (t.key(), t.value())).collect();
    assert!(tags.contains(&("Team", "platform")) && tags.contains(&("k8sinfra:address", "iam_role.nodes")), "{tags:?}");
    let inline = rt.block_on(iam.get_role_policy().role_name("nodes.iam.example").policy_name("describe").send());
    assert!(crate::aws_behaviour::decode(inline.expect("the inline policy").policy_document())
        .contains("ec2:DescribeRegions"));
    let profile = rt.block_on(iam.get_instance_profile().instance_profile_name("nodes.iam.example").send());
    let profile = profile.expect("the profile");
    let roles: Vec<&str> = profile.instance_profile().expect("profile").roles().iter().map(|r| r.role_name()).collect();
    assert_eq!(roles, ["nodes.iam.example"]);
    // The instance's profile as its association says: moto's
    // DescribeInstances keeps the profile it was launched with.
    let profile_of_instance = || {
        let out = rt.block_on(ec2.describe_instances().send()).expect("instances");
        let instance = out
            .reservations()
            .iter()
            .flat_map(|r| r.instances())
            .find(|i| i.state().and_then(|s| s.name()).is_some_and(|s| s.as_str() == "running"))
            .and_then(|i| i.instance_id())
            .unwrap_or_default()
            .to_string();
        let filter = aws_sdk_ec2::types::Filter::builder().name("instance-id").values(&instance).build();
        let out =
            rt.block_on(ec2.describe_iam_instance_profile_associations().filters(filter).send()).expect("associations");
        let arn = out
            .iam_instance_profile_associations()
            .iter()
            .find_map(|a| a.iam_instance_profile().and_then(|p| p.arn()))
            .unwrap_or_default()
            .to_string();
        (instance, arn)
    };
    let (instance, arn) = profile_of_instance();
    assert!(arn.ends_with("/nodes.iam.example"), "{arn}");
    assert!(relay.behaved().contains_key("instance profile not visible yet"), "{:?}", relay.behaved());

    let plan = run(&["plan", "--detailed-exitcode"]);
    assert_eq!(plan.status.code(), Some(0), "settles:\n{}{}", stdout(&plan), stderr(&plan));

    // The policy gains an action and the instance moves to the masters'
    // profile: both in place.
    write(
        &CONFIG
            .replace(
                r#"["ec2:DescribeRegions", "ec2:DescribeInstances"]"#,
                r#"["ec2:DescribeRegions", "ec2:DescribeInstances", "ec2:DescribeVolumes"]"#,
            )
            .replace(
                "iam_instance_profile = iam_instance_profile.nodes",
                "iam_instance_profile = iam_instance_profile.masters",
            ),
    );
    let change = run(&["apply", "--auto-approve"]);
    assert!(change.status.success(), "{}{}", stdout(&change), stderr(&change));
    assert!(stderr(&change).contains("0 added, 2 changed, 0 replaced, 0 destroyed"), "{}", stderr(&change));
    let (same, arn) = profile_of_instance();
    assert_eq!(same, instance, "changed in place");
    assert!(arn.ends_with("/masters.iam.example"), "{arn}");
    let inline = rt.block_on(iam.get_role_policy().role_name("nodes.iam.example").policy_name("describe").send());
    assert!(crate::aws_behaviour::decode(inline.expect("the inline policy").policy_document())
        .contains("ec2:DescribeVolumes"));
    let plan = run(&["plan", "--detailed-exitcode"]);
    assert_eq!(plan.status.code(), Some(0), "settles:\n{}{}", stdout(&plan), stderr(&plan));

    // The profile taken out of the configuration: taken off the instance,
    // in place, and the plan after has nothing to do.
    write(
        &CONFIG
            .replace(
                r#"["ec2:DescribeRegions", "ec2:DescribeInstances"]"#,
                r#"["ec2:DescribeRegions", "ec2:DescribeInstances", "ec2:DescribeVolumes"]"#,
            )
            .replace("  iam_instance_profile = iam_instance_profile.nodes\n", ""),
    );
    let plan = run(&["plan"]);
    assert!(stdout(&plan).contains("# instance.node will be updated in place"), "{}", stdout(&plan));
    let change = run(&["apply", "--auto-approve"]);
    assert!(change.status.success(), "{}{}", stdout(&change), stderr(&change));
    let filter = aws_sdk_ec2::types::Filter::builder().name("instance-id").values(&instance).build();
    let out =
        rt.block_on(ec2.describe_iam_instance_profile_associations().filters(filter).send()).expect("associations");
    let live: Vec<_> = out
        .iam_instance_profile_associations()
        .iter()
        .filter(|a| a.state().is_some_and(|s| s.as_str() == "associated" || s.as_str() == "associating"))
        .collect();
    assert!(live.is_empty(), "no role any more: {live:?}");
    let plan = run(&["plan", "--detailed-exitcode"]);
    assert_eq!(plan.status.code(), Some(0), "settles:\n{}{}", stdout(&plan), stderr(&plan));

    let destroy = run(&["destroy", "--auto-approve"]);
    assert!(destroy.status.success(), "{}{}", stdout(&destroy), stderr(&destroy));
    let roles = rt.block_on(iam.list_roles().send()).expect("roles");
    assert!(roles.roles().iter().all(|r| !r.role_name().ends_with(".iam.example")), "{:?}", roles.roles());
    let profiles = rt.block_on(iam.list_instance_profiles().send()).expect("profiles");
    assert!(profiles.instance_profiles().is_empty(), "{:?}", profiles.instance_profiles());
}
