//! Refresh reads each resource type in one call, not one per resource:
//! 200 subnets and 200 security groups are refreshed in a handful of API
//! calls, counted by a relay between k8sinfra and moto.

use crate::apply::k8sinfra;
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

/// Many VPCs: one DescribeVpcs for all of them (a filter per 200 ids), and
/// their DNS attributes — which AWS shows one per call and VPC — two each,
/// read side by side.
#[test]
fn refreshing_30_vpcs_takes_one_describe_and_their_dns_attributes() {
    let moto = Moto::start();
    let dir = tempfile::tempdir().expect("tempdir");
    std::fs::write(
        dir.path().join("main.k8sinfra"),
        "aws { region = \"us-east-1\" }\n\nvpc many {\n  count = 30\n  cidr  = cidrsubnet(10.0.0.0/8, 8, count.index)\n}\n\n\
         subnet many {\n  count = 30\n  vpc   = vpc.many[count.index]\n  cidr  = cidrsubnet(vpc.many[count.index].cidr, 8, 1)\n  \
         zone  = \"us-east-1a\"\n}\n",
    )
    .expect("config");
    let apply = k8sinfra(&moto, dir.path(), &["apply", "--auto-approve"]);
    assert!(apply.status.success(), "{}", stderr(&apply));

    let proxy = CountingProxy::start(&moto.endpoint);
    let plan = crate::apply::k8sinfra_via(&moto, &proxy.endpoint, dir.path(), &["plan", "--detailed-exitcode"]);
    assert_eq!(plan.status.code(), Some(0), "{}{}", stdout(&plan), stderr(&plan));
    let counts = proxy.counts();
    assert_eq!(counts.get("DescribeVpcs"), Some(&1), "{counts:?}");
    assert_eq!(counts.get("DescribeVpcAttribute"), Some(&60), "{counts:?}");
    assert_eq!(counts.get("DescribeSubnets"), Some(&1), "{counts:?}");
}
