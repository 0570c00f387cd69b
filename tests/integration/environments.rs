//! Environments (`--env NAME`): one configuration, a state (and lock) per
//! environment, `env.name` in the configuration, `vars/NAME.vars` read
//! first, `env list`; on the local default layout, a local path and an S3
//! key that use `env.name`.

use crate::apply::{k8sinfra, runtime};
use crate::moto::Moto;
use crate::support::{stderr, stdout};

const CONFIG: &str = r#"aws { region = "us-east-1" }

input cidr: cidr = 10.0.0.0/16

vpc main {
  cidr = input.cidr
  tags = { Environment = env.name }
}
"#;

fn vpc_tagged(moto: &Moto, environment: &str) -> Vec<String> {
    let rt = runtime();
    let filter = aws_sdk_ec2::types::Filter::builder().name("tag:Environment").values(environment).build();
    let vpcs = rt.block_on(moto.ec2().describe_vpcs().filters(filter).send()).expect("vpcs");
    vpcs.vpcs().iter().filter_map(|v| v.cidr_block().map(str::to_string)).collect()
}

#[test]
fn each_environment_has_its_own_state_inputs_and_name() {
    let moto = Moto::start();
    let dir = tempfile::tempdir().expect("tempdir");
    std::fs::write(dir.path().join("main.k8sinfra"), CONFIG).expect("config");
    std::fs::create_dir(dir.path().join("vars")).expect("vars");
    std::fs::write(dir.path().join("vars/staging.vars"), "cidr = 10.1.0.0/16\n").expect("staging vars");
    let run = |args: &[&str]| k8sinfra(&moto, dir.path(), args);

    let apply = run(&["apply", "--auto-approve"]);
    assert!(apply.status.success(), "{}{}", stdout(&apply), stderr(&apply));
    let apply = run(&["--env", "staging", "apply", "--auto-approve"]);
    assert!(apply.status.success(), "{}{}", stdout(&apply), stderr(&apply));
    assert!(dir.path().join(".k8sinfra/state.json").is_file());
    assert!(dir.path().join(".k8sinfra/env/staging/state.json").is_file(), "a state of its own");
    assert_eq!(vpc_tagged(&moto, "default"), ["10.0.0.0/16"]);
    assert_eq!(vpc_tagged(&moto, "staging"), ["10.1.0.0/16"], "vars/staging.vars read, env.name seen");

    for args in [&["plan", "--detailed-exitcode"][..], &["plan", "--detailed-exitcode", "--env", "staging"]] {
        let plan = run(args);
        assert_eq!(plan.status.code(), Some(0), "{args:?}: {}{}", stdout(&plan), stderr(&plan));
    }
    let listed = run(&["env", "list"]);
    assert_eq!(stdout(&listed), "* default\n  staging\n", "{}", stderr(&listed));
    let listed = k8sinfra(&moto, dir.path(), &["--env", "staging", "env", "list"]);
    assert_eq!(stdout(&listed), "  default\n* staging\n", "{}", stderr(&listed));

    let bad = run(&["--env", "Not Fine", "plan"]);
    assert_eq!(bad.status.code(), Some(1), "{}", stderr(&bad));
    assert!(stderr(&bad).contains("an environment name is"), "{}", stderr(&bad));

    for args in [&["destroy", "--auto-approve"][..], &["destroy", "--auto-approve", "--env", "staging"]] {
        let destroy = run(args);
        assert!(destroy.status.success(), "{args:?}: {}{}", stdout(&destroy), stderr(&destroy));
    }
    assert!(vpc_tagged(&moto, "staging").is_empty() && vpc_tagged(&moto, "default").is_empty());

    // A backend that keeps one state for all would mix environments up.
    std::fs::write(dir.path().join("backend.k8sinfra"), "backend local {\n  path = \"state.json\"\n}\n")
        .expect("backend");
    let shared = run(&["--env", "staging", "plan"]);
    assert_eq!(shared.status.code(), Some(1), "{}", stdout(&shared));
    assert!(stderr(&shared).contains("check::backend_shared_by_environments"), "{}", stderr(&shared));
    // One that names the environment gives each its own.
    std::fs::write(dir.path().join("backend.k8sinfra"), "backend local {\n  path = \"states/${env.name}.json\"\n}\n")
        .expect("backend");
    let apply = run(&["--env", "qa", "apply", "--auto-approve"]);
    assert!(apply.status.success(), "{}{}", stdout(&apply), stderr(&apply));
    assert!(dir.path().join("states/qa.json").is_file());
    let listed = run(&["env", "list"]);
    assert_eq!(stdout(&listed), "  qa\n", "{}", stderr(&listed));
    let destroy = run(&["--env", "qa", "destroy", "--auto-approve"]);
    assert!(destroy.status.success(), "{}{}", stdout(&destroy), stderr(&destroy));
}

#[test]
fn an_s3_key_with_the_environment_keeps_one_state_object_each() {
    let moto = Moto::start();
    let dir = tempfile::tempdir().expect("tempdir");
    std::fs::write(
        dir.path().join("main.k8sinfra"),
        format!("{CONFIG}\nbackend s3 {{\n  bucket = \"team-states\"\n  key    = \"network/${{env.name}}/state.json\"\n}}\n"),
    )
    .expect("config");
    let run = |args: &[&str]| k8sinfra(&moto, dir.path(), args);
    let init = run(&["init"]);
    assert!(init.status.success(), "{}", stderr(&init));
    for environment in ["prod", "dev"] {
        let apply = run(&["--env", environment, "apply", "--auto-approve", "--var", "cidr=10.7.0.0/16"]);
        assert!(apply.status.success(), "{environment}: {}{}", stdout(&apply), stderr(&apply));
    }
    let rt = runtime();
    let listed =
        rt.block_on(moto.s3().list_objects_v2().bucket("team-states").prefix("network/").send()).expect("objects");
    let keys: Vec<&str> = listed.contents().iter().filter_map(|o| o.key()).collect();
    assert!(keys.contains(&"network/prod/state.json") && keys.contains(&"network/dev/state.json"), "{keys:?}");
    let envs = run(&["--env", "dev", "env", "list"]);
    assert_eq!(stdout(&envs), "* dev\n  prod\n", "{}", stderr(&envs));
    for environment in ["prod", "dev"] {
        let destroy = run(&["--env", environment, "destroy", "--auto-approve"]);
        assert!(destroy.status.success(), "{environment}: {}{}", stdout(&destroy), stderr(&destroy));
    }
}
