//! Credentials and region as the SDK's default chain finds them, with no
//! `AWS_*` keys in the environment: a named profile of the shared config
//! files (`aws { profile }`) gives both; with no credentials anywhere and
//! the metadata service turned off, a plan is a clear error and nothing is
//! made.

use std::path::Path;
use std::process::{Command, Output};

use crate::moto::{Moto, TIME_SCALE};
use crate::support::{stderr, stdout};

/// The binary in `dir` with only `env` (plus a private `HOME`, so no
/// `~/.aws` of the machine is read): no AWS variable unless given.
fn bare(dir: &Path, args: &[&str], env: &[(&str, String)]) -> Output {
    let mut command = Command::new(env!("CARGO_BIN_EXE_k8sinfra"));
    command.args(args).current_dir(dir).env_clear().env("NO_COLOR", "1").env("HOME", dir);
    command.env("K8SINFRA_AWS_TIME_SCALE", TIME_SCALE).env("AWS_EC2_METADATA_DISABLED", "true");
    for (k, v) in env {
        command.env(k, v);
    }
    command.output().expect("k8sinfra runs")
}

fn ours_in(moto: &Moto, region: &str) -> usize {
    let filter = aws_sdk_ec2::types::Filter::builder().name("tag:k8sinfra:address").values("vpc.main").build();
    let found = crate::apply::runtime().block_on(moto.ec2_in(region).describe_vpcs().filters(filter).send());
    found.expect("describe").vpcs().len()
}

/// apply.md, credentials: `aws { profile = "team" }` takes the profile's
/// keys and region from the shared files (`AWS_CONFIG_FILE`,
/// `AWS_SHARED_CREDENTIALS_FILE`); the VPC is made in the profile's region.
#[test]
fn a_named_profile_gives_the_credentials_and_the_region() {
    let moto = Moto::start();
    let dir = tempfile::tempdir().expect("tempdir");
    let config = dir.path().join("aws-config");
    let credentials = dir.path().join("aws-credentials");
    std::fs::write(&config, "[profile team]\nregion = eu-west-1\n").expect("config file");
    std::fs::write(&credentials, "[team]\naws_access_key_id = team\naws_secret_access_key = team-secret\n")
        .expect("credentials file");
    std::fs::write(
        dir.path().join("main.k8sinfra"),
        "aws { profile = \"team\" }\n\nvpc main {\n  cidr = 10.0.0.0/16\n}\n",
    )
    .expect("configuration");
    let env = [
        ("AWS_ENDPOINT_URL", moto.endpoint.clone()),
        ("AWS_CONFIG_FILE", config.display().to_string()),
        ("AWS_SHARED_CREDENTIALS_FILE", credentials.display().to_string()),
    ];
    let apply = bare(dir.path(), &["apply", "--auto-approve"], &env);
    assert!(apply.status.success(), "{}{}", stdout(&apply), stderr(&apply));
    assert_eq!(ours_in(&moto, "eu-west-1"), 1, "made in the profile's region");
    assert_eq!(ours_in(&moto, "us-east-1"), 0);
    let plan = bare(dir.path(), &["plan", "--detailed-exitcode"], &env);
    assert_eq!(plan.status.code(), Some(0), "{}{}", stdout(&plan), stderr(&plan));

    // A profile the files do not have: refused before anything is asked.
    std::fs::write(
        dir.path().join("main.k8sinfra"),
        "aws {\n  profile = \"nobody\"\n  region  = \"eu-west-1\"\n}\n\nvpc main {\n  cidr = 10.0.0.0/16\n}\n",
    )
    .expect("configuration");
    let plan = bare(dir.path(), &["plan"], &env);
    assert_eq!(plan.status.code(), Some(1), "{}{}", stdout(&plan), stderr(&plan));
    assert!(!stderr(&plan).contains("panicked"), "{}", stderr(&plan));
    assert!(stderr(&plan).contains("nobody"), "names the profile: {}", stderr(&plan));
}

/// apply.md, credentials: with no keys, no profile and the metadata
/// service turned off (`AWS_EC2_METADATA_DISABLED=true`), the plan says it
/// has no credentials, exits 1, and the account is untouched.
#[test]
fn no_credentials_anywhere_is_a_clear_error_and_nothing_is_made() {
    let moto = Moto::start();
    let dir = tempfile::tempdir().expect("tempdir");
    std::fs::write(
        dir.path().join("main.k8sinfra"),
        "aws { region = \"us-east-1\" }\n\nvpc main {\n  cidr = 10.0.0.0/16\n}\n",
    )
    .expect("configuration");
    let env = [("AWS_ENDPOINT_URL", moto.endpoint.clone())];
    let apply = bare(dir.path(), &["apply", "--auto-approve"], &env);
    assert_eq!(apply.status.code(), Some(1), "{}{}", stdout(&apply), stderr(&apply));
    let said = stderr(&apply);
    assert!(!said.contains("panicked"), "{said}");
    assert!(said.to_lowercase().contains("credentials"), "says what is missing: {said}");
    assert_eq!(ours_in(&moto, "us-east-1"), 0, "nothing made");
}
