//! Two regions in one configuration on moto: a named provider block
//! (`aws west { region = "us-west-2" }`) chosen per resource
//! (`provider = aws.west`) and per module instance (`providers = { aws =
//! each.value }` over `for_each`); each resource made, read and destroyed
//! in its own region; the zone check uses each resource's region; a
//! resource moved to another region is replaced there.

use aws_sdk_ec2::types::Filter;

use crate::apply::{k8sinfra, runtime, state};
use crate::moto::Moto;
use crate::support::{stderr, stdout};

const CONFIG: &str = r#"aws { region = "us-east-1" }

aws west {
  region = "us-west-2"
}

vpc east {
  cidr = 10.1.0.0/16
}

vpc west {
  provider = aws.west
  cidr     = 10.2.0.0/16
}

subnet west {
  provider = aws.west
  vpc      = vpc.west
  cidr     = 10.2.1.0/24
  zone     = "us-west-2a"
}

module net = "./net" {
  for_each  = { east = aws, west = aws.west }
  providers = { aws = each.value }
  cidr      = each.key == "east" ? 10.10.0.0/16 : 10.20.0.0/16
}
"#;

const MODULE: &str = "input cidr: cidr\n\nvpc main {\n  cidr = input.cidr\n}\n\noutput vpc_id = vpc.main.id\n";

/// The addresses of our VPCs in `region`, sorted.
fn vpcs_in(moto: &Moto, region: &str) -> Vec<String> {
    let ours = Filter::builder().name("tag-key").values("k8sinfra:address").build();
    let found = runtime().block_on(moto.ec2_in(region).describe_vpcs().filters(ours).send()).expect("describe");
    let mut addresses: Vec<String> = found
        .vpcs()
        .iter()
        .filter_map(|v| v.tags().iter().find(|t| t.key() == Some("k8sinfra:address")).and_then(|t| t.value()))
        .map(str::to_string)
        .collect();
    addresses.sort();
    addresses
}

#[test]
fn named_provider_blocks_put_resources_and_module_instances_in_their_regions() {
    let moto = Moto::start();
    let dir = tempfile::tempdir().expect("tempdir");
    std::fs::create_dir(dir.path().join("net")).expect("module folder");
    std::fs::write(dir.path().join("net/main.k8sinfra"), MODULE).expect("module");
    let write = |text: &str| std::fs::write(dir.path().join("main.k8sinfra"), text).expect("config");

    // The zone check knows each resource's region.
    write(&CONFIG.replace("zone     = \"us-west-2a\"", "zone     = \"us-east-1a\""));
    let validate = k8sinfra(&moto, dir.path(), &["validate"]);
    crate::support::assert_clean_failure(&validate, "net::zone_outside_region");
    assert!(stderr(&validate).contains("not in the region `us-west-2`"), "{}", stderr(&validate));
    // A configuration that is not declared, with the nearest.
    write(
        &CONFIG
            .replace("provider = aws.west\n  cidr     = 10.2.0.0/16", "provider = aws.wset\n  cidr     = 10.2.0.0/16"),
    );
    let validate = k8sinfra(&moto, dir.path(), &["validate"]);
    crate::support::assert_clean_failure(&validate, "check::unknown_reference");
    assert!(stderr(&validate).contains("did you mean `west`?"), "{}", stderr(&validate));

    write(CONFIG);
    let apply = k8sinfra(&moto, dir.path(), &["apply", "--auto-approve"]);
    assert!(apply.status.success(), "{}{}", stdout(&apply), stderr(&apply));
    assert_eq!(vpcs_in(&moto, "us-east-1"), ["module.net[\"east\"].vpc.main", "vpc.east"]);
    assert_eq!(vpcs_in(&moto, "us-west-2"), ["module.net[\"west\"].vpc.main", "vpc.west"]);
    let recorded = state(dir.path());
    assert_eq!(recorded["resources"]["subnet.west"]["provider"], "west", "the state knows where it is");
    assert!(recorded["resources"]["vpc.east"].get("provider").is_none(), "the default is not written");
    let plan = k8sinfra(&moto, dir.path(), &["plan", "--detailed-exitcode"]);
    assert_eq!(plan.status.code(), Some(0), "each read in its region: {}{}", stdout(&plan), stderr(&plan));

    // To another region: nothing moves there in place.
    write(&CONFIG.replace("vpc east {\n  cidr", "vpc east {\n  provider = aws.west\n  cidr"));
    let plan = k8sinfra(&moto, dir.path(), &["plan"]);
    let shown = stdout(&plan);
    assert!(shown.contains("# vpc.east will be replaced") && shown.contains("\"aws\" -> \"aws.west\""), "{shown}");
    let apply = k8sinfra(&moto, dir.path(), &["apply", "--auto-approve"]);
    assert!(apply.status.success(), "{}{}", stdout(&apply), stderr(&apply));
    assert_eq!(vpcs_in(&moto, "us-east-1"), ["module.net[\"east\"].vpc.main"], "gone from the old region");
    assert_eq!(vpcs_in(&moto, "us-west-2"), ["module.net[\"west\"].vpc.main", "vpc.east", "vpc.west"]);
    let plan = k8sinfra(&moto, dir.path(), &["plan", "--detailed-exitcode"]);
    assert_eq!(plan.status.code(), Some(0), "{}{}", stdout(&plan), stderr(&plan));

    let destroy = k8sinfra(&moto, dir.path(), &["destroy", "--auto-approve"]);
    assert!(destroy.status.success(), "{}{}", stdout(&destroy), stderr(&destroy));
    assert!(vpcs_in(&moto, "us-east-1").is_empty() && vpcs_in(&moto, "us-west-2").is_empty());
}
