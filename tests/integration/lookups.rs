//! Lookups read at plan time, on moto: a VPC, a subnet, a security group
//! and a hosted zone made by someone else, and the region's zones. What
//! refers to them plans with what they find; the apply records them and
//! touches none of them; a query that matches nothing, or more than one,
//! stops the plan and names the query; a destroy forgets them.

use aws_sdk_ec2::types::{ResourceType, Tag, TagSpecification};

use crate::apply::{k8sinfra, runtime, state};
use crate::moto::Moto;
use crate::support::{stderr, stdout};

const CONFIG: &str = r#"aws { region = "us-east-1" }

existing_vpc shared {
  tags = { Name = "shared" }
}

existing_subnet a {
  vpc  = existing_vpc.shared.id
  tags = { Name = "shared-a" }
}

existing_security_group web {
  vpc  = existing_vpc.shared.id
  name = "shared-web"
}

existing_zone team {
  name = "team.example.com"
}

availability_zones here {}

subnet mine {
  vpc  = existing_vpc.shared.id
  cidr = cidrsubnet(existing_vpc.shared.cidr, 8, 200)
  zone = availability_zones.here.names[0]
}

dns_record hello {
  zone    = existing_zone.team.id
  name    = "hello.team.example.com"
  type    = "CNAME"
  records = ["${existing_subnet.a.id}.${existing_security_group.web.id}.example.net"]
}
"#;

fn tagged(kind: ResourceType, name: &str) -> TagSpecification {
    TagSpecification::builder().resource_type(kind).tags(Tag::builder().key("Name").value(name).build()).build()
}

#[test]
fn lookups_find_what_exists_at_plan_time_and_never_touch_it() {
    let moto = Moto::start();
    let rt = runtime();
    let ec2 = moto.ec2();
    let vpc = rt
        .block_on(
            ec2.create_vpc().cidr_block("10.9.0.0/16").tag_specifications(tagged(ResourceType::Vpc, "shared")).send(),
        )
        .expect("vpc");
    let vpc = vpc.vpc().and_then(|v| v.vpc_id()).expect("vpc id").to_string();
    let subnet = rt
        .block_on(
            ec2.create_subnet()
                .vpc_id(&vpc)
                .cidr_block("10.9.1.0/24")
                .availability_zone("us-east-1a")
                .tag_specifications(tagged(ResourceType::Subnet, "shared-a"))
                .send(),
        )
        .expect("subnet");
    let subnet = subnet.subnet().and_then(|s| s.subnet_id()).expect("subnet id").to_string();
    let group = rt
        .block_on(ec2.create_security_group().group_name("shared-web").description("web").vpc_id(&vpc).send())
        .expect("group");
    let group = group.group_id().expect("group id").to_string();
    rt.block_on(moto.route53().create_hosted_zone().name("team.example.com").caller_reference("lookups").send())
        .expect("zone");

    let dir = tempfile::tempdir().expect("tempdir");
    std::fs::write(dir.path().join("main.k8sinfra"), CONFIG).expect("config");
    let run = |args: &[&str]| k8sinfra(&moto, dir.path(), args);

    // The plan knows the VPC's id and range, and the zones, before apply.
    let plan = run(&["plan"]);
    let shown = stdout(&plan);
    assert!(plan.status.success(), "{shown}{}", stderr(&plan));
    let flat = shown.split_whitespace().collect::<Vec<_>>().join(" ");
    assert!(flat.contains(&format!("+ vpc = \"{vpc}\"")), "{shown}");
    assert!(flat.contains("+ cidr = \"10.9.200.0/24\""), "{shown}");
    assert!(flat.contains("+ zone = \"us-east-1a\""), "{shown}");
    assert!(shown.contains(&subnet) && shown.contains(&group), "{shown}");
    assert!(
        shown.contains("Plan: 2 to add, 0 to change, 0 to replace, 0 to destroy."),
        "lookups make nothing: {shown}"
    );

    let apply = run(&["apply", "--auto-approve"]);
    assert!(apply.status.success(), "{}{}", stdout(&apply), stderr(&apply));
    let recorded = state(dir.path());
    assert_eq!(recorded["resources"]["existing_vpc.shared"]["id"], vpc.as_str(), "recorded");
    let plan = run(&["plan", "--detailed-exitcode"]);
    assert_eq!(plan.status.code(), Some(0), "settled: {}{}", stdout(&plan), stderr(&plan));

    // The tag moves to another subnet: the plan shows the lookup's new
    // answer as drift, and what refers to it follows.
    let other = rt
        .block_on(ec2.create_subnet().vpc_id(&vpc).cidr_block("10.9.2.0/24").availability_zone("us-east-1b").send())
        .expect("another subnet");
    let other = other.subnet().and_then(|s| s.subnet_id()).expect("its id").to_string();
    let name_tag = || Tag::builder().key("Name").value("shared-a").build();
    rt.block_on(ec2.delete_tags().resources(&subnet).tags(name_tag()).send()).expect("untag");
    rt.block_on(ec2.create_tags().resources(&other).tags(name_tag()).send()).expect("tag");
    // Without refresh, the plan is made from the state as stored: the
    // lookups as they were recorded, nothing asked of the cloud.
    let relay = crate::proxy::CountingProxy::start(&moto.endpoint);
    let unrefreshed = crate::apply::k8sinfra_via(
        &moto,
        &relay.endpoint,
        dir.path(),
        &["plan", "--refresh=false", "--detailed-exitcode"],
    );
    assert_eq!(unrefreshed.status.code(), Some(0), "{}{}", stdout(&unrefreshed), stderr(&unrefreshed));
    let ec2_calls: Vec<_> = relay.counts().into_keys().filter(|op| op.starts_with("Describe")).collect();
    assert!(ec2_calls.is_empty(), "no lookup without refresh: {ec2_calls:?}");
    let plan = run(&["plan", "--detailed-exitcode"]);
    let shown = stdout(&plan);
    assert_eq!(plan.status.code(), Some(2), "{shown}{}", stderr(&plan));
    assert!(shown.contains("# existing_subnet.a has changed") && shown.contains(&other), "{shown}");
    assert!(shown.contains("# dns_record.hello will be updated in place"), "{shown}");
    let apply = run(&["apply", "--auto-approve"]);
    assert!(apply.status.success(), "{}{}", stdout(&apply), stderr(&apply));
    assert_eq!(state(dir.path())["resources"]["existing_subnet.a"]["id"], other.as_str());

    // A second VPC with the tag: the lookup is ambiguous, and says so.
    rt.block_on(
        ec2.create_vpc().cidr_block("10.8.0.0/16").tag_specifications(tagged(ResourceType::Vpc, "shared")).send(),
    )
    .expect("second vpc");
    let plan = run(&["plan"]);
    assert_eq!(plan.status.code(), Some(1), "{}", stdout(&plan));
    let said = crate::support::flat(&stderr(&plan));
    assert!(said.contains("2 of them in us-east-1 match tags = {\"Name\":\"shared\"}"), "{said}");

    // One that matches nothing names its query.
    std::fs::write(dir.path().join("main.k8sinfra"), CONFIG.replace("Name = \"shared\"", "Name = \"nowhere\""))
        .expect("config");
    let plan = run(&["plan"]);
    let said = crate::support::flat(&stderr(&plan));
    assert_eq!(plan.status.code(), Some(1), "{said}");
    assert!(said.contains("no VPC in us-east-1 matches tags = {\"Name\":\"nowhere\"}"), "{said}");

    // Destroy: what was made goes, what was looked up stays.
    std::fs::write(dir.path().join("main.k8sinfra"), CONFIG).expect("config");
    let destroy = run(&["destroy", "--auto-approve"]);
    assert!(destroy.status.success(), "{}{}", stdout(&destroy), stderr(&destroy));
    let vpcs = rt.block_on(ec2.describe_vpcs().vpc_ids(&vpc).send()).expect("vpcs");
    assert_eq!(vpcs.vpcs().len(), 1, "the looked-up VPC is still there");
    let groups = rt.block_on(ec2.describe_security_groups().group_ids(&group).send()).expect("groups");
    assert_eq!(groups.security_groups().len(), 1, "and its group");
}

/// resources.md, caller_identity: the account and partition are read at
/// plan time (one GetCallerIdentity), so a bucket named after the account
/// plans with its name, not "known after apply"; recorded, settled, and
/// forgotten by destroy.
#[test]
fn the_callers_account_and_partition_are_known_at_plan_time() {
    let moto = Moto::start();
    let dir = tempfile::tempdir().expect("tempdir");
    std::fs::write(
        dir.path().join("main.k8sinfra"),
        "aws { region = \"us-east-1\" }\n\ncaller_identity me {}\n\ns3_bucket logs {\n  \
         name = \"logs-${caller_identity.me.account_id}\"\n}\n\noutput resource = \
         \"arn:${caller_identity.me.partition}:s3:::logs-${caller_identity.me.account_id}/*\"\n",
    )
    .expect("config");
    let relay = crate::proxy::CountingProxy::start(&moto.endpoint);
    let plan = crate::apply::k8sinfra_via(&moto, &relay.endpoint, dir.path(), &["plan"]);
    let shown = stdout(&plan);
    assert!(plan.status.success(), "{shown}{}", stderr(&plan));
    assert!(shown.contains("\"logs-123456789012\""), "the name is known at plan time: {shown}");
    assert!(shown.contains("Plan: 1 to add"), "a lookup makes nothing: {shown}");
    let calls = relay.counts();
    let sts: usize = calls.iter().filter(|(k, _)| k.contains("GetCallerIdentity")).map(|(_, n)| n).sum();
    assert_eq!(sts, 1, "{calls:?}");

    let apply = k8sinfra(&moto, dir.path(), &["apply", "--auto-approve"]);
    assert!(apply.status.success(), "{}{}", stdout(&apply), stderr(&apply));
    let recorded = state(dir.path());
    assert_eq!(recorded["resources"]["caller_identity.me"]["attrs"]["account_id"], "123456789012");
    assert_eq!(recorded["resources"]["caller_identity.me"]["attrs"]["partition"], "aws");
    let output = k8sinfra(&moto, dir.path(), &["output", "resource"]);
    assert_eq!(stdout(&output).trim(), "arn:aws:s3:::logs-123456789012/*", "{}", stderr(&output));
    let plan = k8sinfra(&moto, dir.path(), &["plan", "--detailed-exitcode"]);
    assert_eq!(plan.status.code(), Some(0), "{}{}", stdout(&plan), stderr(&plan));
    let destroy = k8sinfra(&moto, dir.path(), &["destroy", "--auto-approve"]);
    assert!(destroy.status.success(), "{}{}", stdout(&destroy), stderr(&destroy));
    assert!(state(dir.path())["resources"].as_object().is_none_or(serde_json::Map::is_empty));
}
