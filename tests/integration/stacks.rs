//! Stacks that read each other: a cluster configuration reads the network
//! configuration's outputs from its state (`stack network { … }`,
//! `stack.network.vpc_id`), plans with them, keeps a sensitive one
//! sensitive, names a missing output with the ones that exist, says which
//! outputs changed since the last apply, and never writes or locks the
//! other state.

use crate::apply::{id, k8sinfra, state};
use crate::moto::Moto;
use crate::support::{flat, stderr, stdout};

const NETWORK: &str = r#"aws { region = "us-east-1" }

vpc main {
  cidr = 10.0.0.0/16
}

output vpc_id = vpc.main.id
output cidr = vpc.main.cidr
sensitive output join_secret = "s3cr3t-join-value"
"#;

const CLUSTER: &str = r#"aws { region = "us-east-1" }

stack network {
  path = "../network/.k8sinfra/state.json"
}

subnet nodes {
  vpc  = stack.network.vpc_id
  cidr = cidrsubnet(stack.network.cidr, 8, 1)
  zone = "us-east-1a"
  tags = { Join = stack.network.join_secret }
}
"#;

#[test]
fn a_stack_reads_another_configurations_outputs_and_leaves_its_state_alone() {
    let moto = Moto::start();
    let root = tempfile::tempdir().expect("tempdir");
    let (network, cluster) = (root.path().join("network"), root.path().join("cluster"));
    std::fs::create_dir_all(&network).expect("network");
    std::fs::create_dir_all(&cluster).expect("cluster");
    std::fs::write(network.join("main.k8sinfra"), NETWORK).expect("network config");
    std::fs::write(cluster.join("main.k8sinfra"), CLUSTER).expect("cluster config");

    let apply = k8sinfra(&moto, &network, &["apply", "--auto-approve"]);
    assert!(apply.status.success(), "{}{}", stdout(&apply), stderr(&apply));
    let vpc = id(&state(&network), "vpc.main");
    let serial = state(&network)["serial"].clone();

    // validate reads no other state: the stack's outputs are unknown there.
    let validate = k8sinfra(&moto, &cluster, &["validate"]);
    assert!(validate.status.success(), "{}", stderr(&validate));

    let plan = k8sinfra(&moto, &cluster, &["plan"]);
    let shown = stdout(&plan);
    assert!(plan.status.success(), "{shown}{}", stderr(&plan));
    let flat_plan = shown.split_whitespace().collect::<Vec<_>>().join(" ");
    assert!(flat_plan.contains(&format!("+ vpc = \"{vpc}\"")), "{shown}");
    assert!(flat_plan.contains("+ cidr = \"10.0.1.0/24\""), "{shown}");
    assert!(!shown.contains("s3cr3t-join-value"), "a sensitive output stays sensitive: {shown}");
    assert!(shown.contains("(sensitive)"), "{shown}");

    // The network team is applying right now (its lock is held): the
    // cluster's apply does not wait for it, and writes nothing there.
    let held = network.join(".k8sinfra/state.json.lock");
    std::fs::write(&held, r#"{"id":"network-team","operation":"apply","who":"them","created":"now"}"#).expect("lock");
    let apply = k8sinfra(&moto, &cluster, &["apply", "--auto-approve"]);
    assert!(apply.status.success(), "{}{}", stdout(&apply), stderr(&apply));
    assert!(!stdout(&apply).contains("s3cr3t-join-value") && !stderr(&apply).contains("s3cr3t-join-value"));
    let plan = k8sinfra(&moto, &cluster, &["plan", "--detailed-exitcode"]);
    assert_eq!(plan.status.code(), Some(0), "{}{}", stdout(&plan), stderr(&plan));
    assert_eq!(state(&network)["serial"], serial, "the network's state was only read");
    assert!(held.exists(), "its lock untouched");
    let locked = k8sinfra(&moto, &network, &["plan"]);
    assert_eq!(locked.status.code(), Some(1), "the held lock is real: {}", stderr(&locked));
    std::fs::remove_file(&held).expect("release");

    // The network moves on: a new output, a new secret. The cluster's plan
    // says so (the secret as `(sensitive)` only), with the change it
    // causes; once applied, the news is not repeated.
    let moved_on = NETWORK.replace("s3cr3t-join-value", "n3w-s3cr3t-value") + "output tier = \"gold\"\n";
    std::fs::write(network.join("main.k8sinfra"), moved_on).expect("network config");
    let apply = k8sinfra(&moto, &network, &["apply", "--auto-approve"]);
    assert!(apply.status.success(), "{}{}", stdout(&apply), stderr(&apply));
    let plan = k8sinfra(&moto, &cluster, &["plan", "--detailed-exitcode"]);
    let shown = stdout(&plan);
    assert_eq!(plan.status.code(), Some(2), "the tag made of the secret changes: {shown}{}", stderr(&plan));
    assert!(shown.contains("Outputs of the stacks this configuration reads, changed since the last apply"), "{shown}");
    assert!(shown.contains("# stack.network.join_secret: (sensitive) changed"), "{shown}");
    assert!(shown.contains("# stack.network.tier: added, \"gold\""), "{shown}");
    assert!(!shown.contains("vpc_id:"), "unchanged outputs are not news: {shown}");
    for secret in ["s3cr3t-join-value", "n3w-s3cr3t-value"] {
        assert!(!shown.contains(secret) && !stderr(&plan).contains(secret), "{shown}");
    }
    let json = k8sinfra(&moto, &cluster, &["--json", "plan"]);
    let doc: serde_json::Value = serde_json::from_str(&stdout(&json)).expect("one document");
    let names: Vec<&str> =
        doc["plan"]["upstream"].as_array().expect("upstream").iter().filter_map(|c| c["output"].as_str()).collect();
    assert_eq!(names, ["join_secret", "tier"], "{doc}");
    assert!(!stdout(&json).contains("n3w-s3cr3t-value"));
    let apply = k8sinfra(&moto, &cluster, &["apply", "--auto-approve"]);
    assert!(apply.status.success(), "{}{}", stdout(&apply), stderr(&apply));
    let plan = k8sinfra(&moto, &cluster, &["plan", "--detailed-exitcode"]);
    assert_eq!(plan.status.code(), Some(0), "{}{}", stdout(&plan), stderr(&plan));
    assert!(!stdout(&plan).contains("stack.network"), "said once: {}", stdout(&plan));

    // A wrong name: the stack's outputs, or its nearest name.
    std::fs::write(cluster.join("main.k8sinfra"), CLUSTER.replace("stack.network.vpc_id", "stack.network.vpc"))
        .expect("edit");
    let wrong = k8sinfra(&moto, &cluster, &["plan"]);
    assert_eq!(wrong.status.code(), Some(1), "{}", stdout(&wrong));
    let said = flat(&stderr(&wrong));
    assert!(said.contains("stack `network` has no such output") && said.contains("vpc_id"), "{said}");
    std::fs::write(cluster.join("main.k8sinfra"), CLUSTER.replace("stack.network.vpc_id", "stack.netwrk.vpc_id"))
        .expect("edit");
    let wrong = k8sinfra(&moto, &cluster, &["plan"]);
    assert!(flat(&stderr(&wrong)).contains("did you mean `network`?"), "{}", stderr(&wrong));

    std::fs::write(cluster.join("main.k8sinfra"), CLUSTER).expect("restore");
    for dir in [&cluster, &network] {
        let destroy = k8sinfra(&moto, dir, &["destroy", "--auto-approve"]);
        assert!(destroy.status.success(), "{}{}", stdout(&destroy), stderr(&destroy));
    }
}

/// language.md, stack: another configuration's state in S3 is read the
/// same way (`stack network { bucket, key }`); a state that cannot be read
/// (no such bucket) stops the plan with `stack::unreadable` naming where
/// it looked, and nothing is made.
#[test]
fn a_stack_in_s3_is_read_and_an_unreadable_one_stops_the_plan() {
    let moto = Moto::start();
    let root = tempfile::tempdir().expect("tempdir");
    let (network, cluster) = (root.path().join("network"), root.path().join("cluster"));
    std::fs::create_dir_all(&network).expect("network");
    std::fs::create_dir_all(&cluster).expect("cluster");
    let in_s3 = "backend s3 {\n  bucket = \"team-states\"\n  key    = \"network/state.json\"\n}\n\n";
    std::fs::write(network.join("main.k8sinfra"), format!("{in_s3}{NETWORK}")).expect("network config");
    let stack = |bucket: &str| {
        let text = CLUSTER.replace(
            "path = \"../network/.k8sinfra/state.json\"",
            &format!("bucket = \"{bucket}\"\n  key    = \"network/state.json\""),
        );
        std::fs::write(cluster.join("main.k8sinfra"), text).expect("cluster config");
    };
    let init = k8sinfra(&moto, &network, &["init"]);
    assert!(init.status.success(), "{}", stderr(&init));
    let apply = k8sinfra(&moto, &network, &["apply", "--auto-approve"]);
    assert!(apply.status.success(), "{}{}", stdout(&apply), stderr(&apply));
    assert!(!network.join(".k8sinfra/state.json").exists(), "the network's state is in S3");
    let objects = crate::apply::runtime().block_on(moto.s3().list_objects_v2().bucket("team-states").send());
    let vpc = {
        let listed: Vec<String> =
            objects.expect("listed").contents().iter().filter_map(|o| o.key()).map(str::to_string).collect();
        assert!(listed.contains(&"network/state.json".to_string()), "{listed:?}");
        let plan = k8sinfra(&moto, &network, &["output", "vpc_id"]);
        stdout(&plan).trim().trim_matches('"').to_string()
    };
    assert!(vpc.starts_with("vpc-"), "{vpc}");

    stack("team-states");
    let plan = k8sinfra(&moto, &cluster, &["plan"]);
    let shown = flat(&stdout(&plan));
    assert!(plan.status.success(), "{shown}{}", stderr(&plan));
    assert!(shown.contains(&format!("+ vpc = \"{vpc}\"")) && shown.contains("+ cidr = \"10.0.1.0/24\""), "{shown}");
    assert!(!shown.contains("s3cr3t-join-value") && shown.contains("(sensitive)"), "{shown}");

    stack("no-such-bucket");
    let plan = k8sinfra(&moto, &cluster, &["plan"]);
    crate::support::assert_clean_failure(&plan, "stack::unreadable");
    assert!(flat(&stderr(&plan)).contains("s3://no-such-bucket/network/state.json"), "{}", stderr(&plan));
    let apply = k8sinfra(&moto, &cluster, &["apply", "--auto-approve"]);
    crate::support::assert_clean_failure(&apply, "stack::unreadable");
    let subnets = crate::apply::runtime().block_on(moto.ec2().describe_subnets().send()).expect("subnets");
    assert!(subnets.subnets().iter().all(|s| s.vpc_id() != Some(vpc.as_str())), "nothing made");

    let destroy = k8sinfra(&moto, &network, &["destroy", "--auto-approve"]);
    assert!(destroy.status.success(), "{}{}", stdout(&destroy), stderr(&destroy));
}
