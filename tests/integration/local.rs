//! The local provider's types made with no cloud at all, and what that
//! lets the suite check offline: a CA generated here, kept by refresh and
//! forgotten by destroy with no call; apply's JSON document, done and
//! refused; a saved plan applied from another folder with the request it
//! was made under; and each environment's own lock.

use std::path::Path;
use std::process::{Command, Output};

use crate::apply::state;
use crate::support::{document, run, run_with, stderr, Silent};

const CA: &str = "tls_ca cluster {\n  common_name = \"kubernetes\"\n}\n\noutput ca = tls_ca.cluster.cert_pem\n";

/// The binary in `dir`, AWS pointed at `endpoint`, and `env` besides.
fn k8sinfra_with(dir: &Path, endpoint: &str, args: &[&str], env: &[(&str, &str)]) -> Output {
    let mut all = vec![
        ("AWS_ENDPOINT_URL", endpoint),
        ("AWS_ACCESS_KEY_ID", "test"),
        ("AWS_SECRET_ACCESS_KEY", "test"),
        ("AWS_REGION", "us-east-1"),
    ];
    all.extend_from_slice(env);
    run_with(dir, args, &all)
}

fn k8sinfra(dir: &Path, endpoint: &str, args: &[&str]) -> Output {
    k8sinfra_with(dir, endpoint, args, &[])
}

fn folder() -> tempfile::TempDir {
    let dir = tempfile::tempdir().expect("tempdir");
    std::fs::write(dir.path().join("main.k8sinfra"), CA).expect("config");
    dir
}

#[test]
fn a_ca_is_made_here_kept_by_refresh_and_forgotten_by_destroy_with_no_call() {
    let cloud = Silent::new();
    let dir = folder();
    let out = k8sinfra(dir.path(), &cloud.url(), &["--json", "apply", "--auto-approve"]);
    assert_eq!(out.status.code(), Some(0), "{}", stderr(&out));
    let doc = document(&out);
    assert_eq!(doc["applied"], true);
    assert_eq!(doc["done"], serde_json::json!(["tls_ca.cluster"]));
    assert_eq!(
        (&doc["failed"], &doc["skipped"], &doc["interrupted"], &doc["state_error"]),
        (&serde_json::json!({}), &serde_json::json!([]), &serde_json::json!(false), &serde_json::Value::Null)
    );

    let recorded = state(dir.path());
    let key = recorded["resources"]["tls_ca.cluster"]["attrs"]["key_pem"].as_str().expect("a key").to_string();
    let key_file = dir.path().join("key.pem");
    std::fs::write(&key_file, &key).expect("key file");
    let text =
        Command::new("openssl").args(["pkey", "-noout", "-text", "-in"]).arg(&key_file).output().expect("openssl");
    let described = String::from_utf8_lossy(&text.stdout);
    assert!(described.contains("prime256v1") || described.contains("P-256"), "an ECDSA P-256 key: {described}");

    let out = k8sinfra(dir.path(), &cloud.url(), &["plan", "--detailed-exitcode"]);
    assert_eq!(out.status.code(), Some(0), "refresh keeps it: {}", stderr(&out));
    assert_eq!(state(dir.path())["resources"]["tls_ca.cluster"]["attrs"]["key_pem"], key.as_str());

    let out = k8sinfra(dir.path(), &cloud.url(), &["destroy", "--auto-approve"]);
    assert!(out.status.success(), "{}", stderr(&out));
    assert_eq!(state(dir.path())["resources"], serde_json::json!({}));
    cloud.assert_untouched();
}

#[test]
fn an_apply_with_no_one_to_ask_is_refused_and_says_so() {
    let cloud = Silent::new();
    let dir = folder();
    let out = k8sinfra(dir.path(), &cloud.url(), &["--json", "apply"]);
    assert_eq!(out.status.code(), Some(1), "{}", stderr(&out));
    let doc = document(&out);
    assert_eq!((doc["applied"].as_bool(), doc["success"].as_bool()), (Some(false), Some(false)), "{doc}");
    assert_eq!(doc["plan"]["summary"]["add"], 1, "the plan it would have applied");
    assert_eq!(doc["diagnostics"][0]["code"], "cli::no_terminal", "{doc}");
    assert!(
        !dir.path().join(".k8sinfra/state.json").exists() || state(dir.path())["resources"] == serde_json::json!({})
    );
}

#[test]
fn a_saved_plan_is_applied_from_anywhere_under_the_request_it_was_made_with() {
    let cloud = Silent::new();
    let dir = folder();
    let out = k8sinfra(dir.path(), &cloud.url(), &["apply", "--auto-approve"]);
    assert!(out.status.success(), "{}", stderr(&out));
    let first = state(dir.path())["resources"]["tls_ca.cluster"]["attrs"]["cert_pem"].clone();

    let saved = dir.path().join("replace.plan");
    let saved_arg = saved.display().to_string();
    let out = k8sinfra(dir.path(), &cloud.url(), &["plan", "--replace", "tls_ca.cluster", "--out", &saved_arg]);
    assert!(out.status.success(), "{}", stderr(&out));
    let elsewhere = tempfile::tempdir().expect("another folder");
    let shown = document(&k8sinfra(elsewhere.path(), &cloud.url(), &["--json", "show", &saved_arg]));
    let canonical = std::fs::canonicalize(dir.path()).expect("canonical");
    assert_eq!(shown["plan"]["configuration"], canonical.display().to_string(), "an absolute path");
    assert_eq!(shown["plan"]["request"]["replace"], serde_json::json!(["tls_ca.cluster"]));

    let out = k8sinfra(elsewhere.path(), &cloud.url(), &["apply", &saved_arg]);
    assert!(out.status.success(), "{}", stderr(&out));
    assert!(stderr(&out).contains("1 replaced"), "{}", stderr(&out));
    let second = state(dir.path())["resources"]["tls_ca.cluster"]["attrs"]["cert_pem"].clone();
    assert_ne!(first, second, "a new CA, in the configuration's own state");
    assert!(!elsewhere.path().join(".k8sinfra").exists(), "nothing written where it ran");
    cloud.assert_untouched();
}

#[test]
fn each_environment_has_its_own_lock() {
    let cloud = Silent::new();
    let dir = folder();
    let held = dir.path().join(".k8sinfra/env/staging");
    std::fs::create_dir_all(&held).expect("env folder");
    let lock = serde_json::json!({
        "id": "held-elsewhere", "operation": "apply", "who": "someone",
        "host": "another-machine", "pid": 4242, "created": 0
    });
    std::fs::write(held.join("state.json.lock"), lock.to_string()).expect("lock");
    let out = k8sinfra(dir.path(), &cloud.url(), &["--env", "staging", "apply", "--auto-approve"]);
    assert_eq!(out.status.code(), Some(1));
    assert!(stderr(&out).contains("state::locked"), "{}", stderr(&out));
    let out = k8sinfra(dir.path(), &cloud.url(), &["--env", "prod", "apply", "--auto-approve"]);
    assert!(out.status.success(), "another environment, another lock: {}", stderr(&out));
    assert!(dir.path().join(".k8sinfra/env/prod/state.json").exists());
    let out = run(dir.path(), &["--env", "staging", "state", "list"]);
    assert!(out.status.success(), "reading needs no lock: {}", stderr(&out));
    cloud.assert_untouched();
}

/// A failed apply keeps what it made; an output that refers to what
/// failed is still unknown, and recorded as `null`.
#[test]
fn an_output_still_unknown_after_a_failed_apply_is_recorded_as_null() {
    let cloud = Silent::new();
    let dir = tempfile::tempdir().expect("tempdir");
    let config = "tls_ca ca {\n  common_name = \"k\"\n}\n\ntls_certificate bad {\n  ca_cert_pem = \"not a pem\"\n  \
                  ca_key_pem  = tls_ca.ca.key_pem\n  common_name = \"x\"\n}\n\noutput cert = tls_certificate.bad.cert_pem\n\
                  output ca = tls_ca.ca.cert_pem\n";
    std::fs::write(dir.path().join("main.k8sinfra"), config).expect("config");
    let out = k8sinfra(dir.path(), &cloud.url(), &["apply", "--auto-approve"]);
    assert_eq!(out.status.code(), Some(1), "{}", stderr(&out));
    assert!(stderr(&out).contains("1 failed, 0 skipped, 1 done (in the state)"), "{}", stderr(&out));
    let recorded = state(dir.path());
    assert!(
        recorded["resources"].get("tls_ca.ca").is_some() && recorded["resources"].get("tls_certificate.bad").is_none()
    );
    assert_eq!(recorded["outputs"]["cert"], serde_json::json!({ "value": null, "sensitive": false }));
    assert!(recorded["outputs"]["ca"]["value"].as_str().is_some_and(|pem| pem.starts_with("-----BEGIN CERTIFICATE")));
    cloud.assert_untouched();
}

/// README: `--call-stats` or `K8SINFRA_CALL_STATS=1` prints the AWS calls
/// a run made, on apply and destroy too; `0` leaves it off.
#[test]
fn call_stats_come_from_the_flag_or_the_variable() {
    let cloud = Silent::new();
    let dir = folder();
    let table = "AWS calls (type, operation, calls, attempts, time)";
    let out = k8sinfra(dir.path(), &cloud.url(), &["apply", "--auto-approve", "--call-stats"]);
    assert!(out.status.success() && stderr(&out).contains(table), "{}", stderr(&out));
    let with =
        |value: &str, args: &[&str]| k8sinfra_with(dir.path(), &cloud.url(), args, &[("K8SINFRA_CALL_STATS", value)]);
    let out = with("0", &["plan"]);
    assert!(out.status.success() && !stderr(&out).contains(table), "{}", stderr(&out));
    let out = with("1", &["destroy", "--auto-approve"]);
    assert!(out.status.success() && stderr(&out).contains(table), "{}", stderr(&out));
    cloud.assert_untouched();
}

/// resources.md, security lint: a value known only after apply is checked
/// by `plan`, which evaluates the configuration with what the state knows.
/// A bootstrap token made here and written into a host's user data is not
/// seen by `validate` (the token is not known there) and is flagged by the
/// plan that knows it — and the finding does not print the token.
#[test]
fn a_secret_known_only_after_apply_is_flagged_by_plan_not_validate() {
    let cloud = Silent::new();
    let dir = tempfile::tempdir().expect("tempdir");
    let config = "aws { region = \"us-east-1\" }\n\nbootstrap_token join {}\n\nvpc main {\n  cidr = 10.0.0.0/16\n}\n\n\
                  subnet nodes {\n  vpc  = vpc.main\n  cidr = 10.0.1.0/24\n  zone = \"us-east-1a\"\n}\n\n\
                  instance node {\n  image     = \"ami-a4c7edb2\"\n  type      = \"t2.nano\"\n  subnet    = subnet.nodes\n  \
                  user_data = \"kubeadm join --token ${bootstrap_token.join.token}\"\n}\n";
    std::fs::write(dir.path().join("main.k8sinfra"), config).expect("config");
    let made = k8sinfra(dir.path(), &cloud.url(), &["apply", "--auto-approve", "--target", "bootstrap_token.join"]);
    assert!(made.status.success(), "{}", stderr(&made));
    let token = state(dir.path())["resources"]["bootstrap_token.join"]["attrs"]["token"]
        .as_str()
        .expect("the token")
        .to_string();

    let validate = k8sinfra(dir.path(), &cloud.url(), &["validate"]);
    assert!(validate.status.success(), "{}", stderr(&validate));
    assert!(!stderr(&validate).contains("secret_in_user_data"), "{}", stderr(&validate));

    let plan = k8sinfra(dir.path(), &cloud.url(), &["plan", "--refresh=false"]);
    let shown = format!("{}{}", crate::support::stdout(&plan), stderr(&plan));
    assert!(shown.contains("secret_in_user_data"), "{shown}");
    assert!(!shown.contains(&token), "the finding keeps the token secret: {shown}");
    cloud.assert_untouched();
}

/// apply.md, step 5: on a terminal, apply shows the plan and asks; only
/// `yes` goes on. Anything else cancels (`cli::cancelled`) with nothing
/// made and no state written.
#[test]
fn on_a_terminal_apply_asks_and_only_yes_goes_on() {
    let cloud = Silent::new();
    let dir = folder();
    let env = [
        ("AWS_ENDPOINT_URL", cloud.url()),
        ("AWS_ACCESS_KEY_ID", "test".into()),
        ("AWS_SECRET_ACCESS_KEY", "test".into()),
        ("AWS_REGION", "us-east-1".into()),
        ("NO_COLOR", "1".into()),
    ];
    let env: Vec<(&str, &str)> = env.iter().map(|(k, v)| (*k, v.as_str())).collect();
    let asked = "Do you want to apply? Only 'yes' will be accepted:";
    let no = crate::support::on_a_terminal(dir.path(), &["apply"], &env, "no\n");
    let shown = crate::support::stdout(&no);
    assert_eq!(no.status.code(), Some(1), "{shown}");
    assert!(shown.contains("Plan: 1 to add") && shown.contains(asked), "{shown}");
    assert!(shown.contains("cli::cancelled") && shown.contains("nothing was changed"), "{shown}");
    assert!(!dir.path().join(".k8sinfra/state.json").exists(), "no state written");

    let yes = crate::support::on_a_terminal(dir.path(), &["apply"], &env, "yes\n");
    let shown = crate::support::stdout(&yes);
    assert!(yes.status.success(), "{shown}");
    assert!(shown.contains(asked) && shown.contains("Apply complete"), "{shown}");
    assert!(state(dir.path())["resources"].get("tls_ca.cluster").is_some());
    cloud.assert_untouched();
}

/// apply.md, outputs: a change to the outputs alone is a change to apply
/// (other stacks read them from the state): the plan lists it under
/// "Changes to outputs" and exits 2; the apply records it, and the plan
/// after has nothing to do. A sensitive output shows as `(sensitive)`.
#[test]
fn a_change_to_the_outputs_alone_is_planned_applied_and_settles() {
    let cloud = Silent::new();
    let dir = folder();
    let apply = k8sinfra(dir.path(), &cloud.url(), &["apply", "--auto-approve"]);
    assert!(apply.status.success(), "{}", stderr(&apply));
    let key = state(dir.path())["resources"]["tls_ca.cluster"]["attrs"]["key_pem"].as_str().expect("key").to_string();
    let plan = |expect: i32| {
        let out = k8sinfra(dir.path(), &cloud.url(), &["plan", "--detailed-exitcode"]);
        assert_eq!(out.status.code(), Some(expect), "{}{}", crate::support::stdout(&out), stderr(&out));
        crate::support::stdout(&out)
    };
    plan(0);

    let more = format!("{CA}output cn = \"kubernetes\"\nsensitive output key = tls_ca.cluster.key_pem\n");
    std::fs::write(dir.path().join("main.k8sinfra"), more).expect("config");
    let shown = plan(2);
    assert!(shown.contains("Plan: 0 to add, 0 to change, 0 to replace, 0 to destroy."), "{shown}");
    assert!(shown.contains("Changes to outputs:"), "{shown}");
    assert!(shown.contains("+ cn  = \"kubernetes\"") && shown.contains("+ key = (sensitive)"), "{shown}");
    assert!(!shown.contains("PRIVATE KEY") && !shown.contains(&key), "{shown}");
    let apply = k8sinfra(dir.path(), &cloud.url(), &["apply", "--auto-approve"]);
    assert!(apply.status.success(), "{}", stderr(&apply));
    assert!(!crate::support::stdout(&apply).contains(&key) && !stderr(&apply).contains(&key));
    let output = k8sinfra(dir.path(), &cloud.url(), &["output", "cn"]);
    assert_eq!(crate::support::stdout(&output).trim(), "kubernetes", "{}", stderr(&output));
    plan(0);

    std::fs::write(dir.path().join("main.k8sinfra"), CA).expect("config");
    let shown = plan(2);
    assert!(shown.contains("- cn  = \"kubernetes\"") && shown.contains("- key = (sensitive)"), "{shown}");
    let apply = k8sinfra(dir.path(), &cloud.url(), &["apply", "--auto-approve"]);
    assert!(apply.status.success(), "{}", stderr(&apply));
    assert!(state(dir.path())["outputs"].get("cn").is_none());
    plan(0);
    cloud.assert_untouched();
}
