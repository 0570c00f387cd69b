//! Secrets follow their values, end to end: a `sensitive input` and a CA's
//! private key, copied into objects directly, through a string template,
//! a `let`, `jsonencode` and a module, never show in `plan`, the saved plan
//! file, `show` in any format, `apply`, `state show`, `state list`,
//! `output` or `--json` output. Every form is grepped for the secret.

use crate::apply::{k8sinfra, state};
use crate::moto::Moto;
use crate::support::{stderr, stdout};

const PASSWORD: &str = "hunter2-correct-horse";

const CONFIG: &str = r#"
aws { region = "us-east-1" }

sensitive input db_password: string

let wrapped = "password=${input.db_password}"

tls_ca ca {
  common_name = "secrets-test"
}

s3_bucket data {
  name       = "secrets-data"
  versioning = true
}

s3_object direct {
  bucket  = s3_bucket.data
  key     = "direct"
  content = input.db_password
}

s3_object templated {
  bucket  = s3_bucket.data
  key     = "templated"
  content = wrapped
}

s3_object json {
  bucket  = s3_bucket.data
  key     = "json"
  content = jsonencode({ password = input.db_password, user = "app" })
}

s3_object ca_key {
  bucket  = s3_bucket.data
  key     = "ca.key"
  content = tls_ca.ca.key_pem
}

module passed = "./secret" {
  bucket = s3_bucket.data
  value  = input.db_password
}

output object_key = s3_object.json.key
sensitive output password_file = wrapped
sensitive output through_module = module.passed.echoed
"#;

/// A local module that stores what it is given and gives it back.
const MODULE: &str = r#"
input bucket: any

input value: string

s3_object stored {
  bucket  = input.bucket
  key     = "from-module"
  content = "${input.value}\n"
}

sensitive output echoed = s3_object.stored.content
"#;

fn configuration() -> tempfile::TempDir {
    let dir = tempfile::tempdir().expect("tempdir");
    std::fs::write(dir.path().join("main.k8sinfra"), CONFIG).expect("write");
    std::fs::create_dir(dir.path().join("secret")).expect("mkdir");
    std::fs::write(dir.path().join("secret/main.k8sinfra"), MODULE).expect("write");
    dir
}

/// Everything a run printed, with what it was.
fn printed(out: &std::process::Output) -> String {
    format!("{}{}", stdout(out), stderr(out))
}

fn assert_hidden(what: &str, text: &str, secrets: &[&str]) {
    for secret in secrets {
        assert!(!text.contains(secret), "{what} shows the secret `{secret}`:\n{text}");
    }
}

#[test]
fn secrets_never_print_in_any_form() {
    let moto = Moto::start();
    let dir = configuration();
    let var = format!("db_password={PASSWORD}");
    let run = |args: &[&str]| {
        let mut all: Vec<&str> = args.to_vec();
        if matches!(args[0], "plan" | "apply" | "destroy") || args.get(1).is_some_and(|a| *a == "plan") {
            all.extend(["--var", &var]);
        }
        k8sinfra(&moto, dir.path(), &all)
    };
    let mut shown: Vec<(String, String)> = Vec::new();
    let mut record = |what: &str, out: std::process::Output| {
        assert!(out.status.success() || out.status.code() == Some(2), "{what} failed:\n{}", printed(&out));
        shown.push((what.to_string(), printed(&out)));
    };

    record("plan", run(&["plan"]));
    record("plan --json", run(&["--json", "plan"]));
    record("plan --out", run(&["plan", "--out", "saved.json"]));
    let saved = std::fs::read_to_string(dir.path().join("saved.json")).expect("saved plan");
    for format in ["text", "markdown", "json"] {
        record(&format!("show --format {format}"), run(&["show", "--format", format, "saved.json"]));
    }
    record("apply", run(&["apply", "--auto-approve"]));
    record("plan after apply", run(&["plan", "--detailed-exitcode"]));
    for address in ["s3_object.direct", "s3_object.templated", "s3_object.json", "s3_object.ca_key"] {
        record(&format!("state show {address}"), run(&["state", "show", address]));
    }
    record("state show module.passed.s3_object.stored", run(&["state", "show", "module.passed.s3_object.stored"]));
    record("state list", run(&["state", "list"]));
    record("output", run(&["output"]));
    record("output --json", run(&["--json", "output"]));

    // The CA's key is made at apply: read it from the state (secrets are
    // kept there, as in Terraform's) and look for its body.
    let kept = state(dir.path());
    let key_pem = kept["resources"]["tls_ca.ca"]["attrs"]["key_pem"].as_str().expect("key_pem in the state");
    let key_line = key_pem.lines().nth(1).expect("a PEM body line");
    assert!(key_line.len() > 20, "{key_pem}");
    let stored = kept["resources"]["s3_object.ca_key"]["attrs"]["content"].as_str().expect("content in the state");
    assert_eq!(stored, key_pem, "the object holds the key");

    shown.push(("the saved plan file".into(), saved));
    let secrets = [PASSWORD, key_line];
    for (what, text) in &shown {
        assert_hidden(what, text, &secrets);
    }
    for (what, text) in &shown[..1] {
        assert!(text.contains("content = (sensitive)"), "{what}:\n{text}");
    }
    // Asked for by name, a sensitive output prints (as Terraform's -raw).
    let named = run(&["output", "password_file"]);
    assert_eq!(stdout(&named).trim(), format!("password={PASSWORD}"));

    // Drift of a secret shows without it; destroy shows none either.
    let s3 = moto.s3();
    let rt = crate::apply::runtime();
    rt.block_on(
        s3.put_object().bucket("secrets-data").key("direct").body(b"changed-behind-our-back".to_vec().into()).send(),
    )
    .expect("put");
    let drifted = run(&["plan"]);
    assert_hidden("plan after drift", &printed(&drifted), &secrets);
    assert!(printed(&drifted).contains("content = (sensitive)"), "{}", printed(&drifted));
    let destroy = run(&["destroy", "--auto-approve"]);
    assert!(destroy.status.success(), "{}", printed(&destroy));
    assert_hidden("destroy", &printed(&destroy), &secrets);
}

#[test]
fn an_output_showing_a_secret_must_say_so() {
    let dir = configuration();
    let text = CONFIG.replace("sensitive output password_file", "output password_file");
    std::fs::write(dir.path().join("main.k8sinfra"), text).expect("write");
    let out = crate::support::run(dir.path(), &["validate"]);
    assert_eq!(out.status.code(), Some(1), "{}", printed(&out));
    let shown = crate::support::flat(&printed(&out));
    assert!(
        shown.contains("check::sensitive_output") && shown.contains("output `password_file` shows a sensitive value")
    );
    assert!(shown.contains("declare it `sensitive output password_file = …`"), "{shown}");
    assert_hidden("validate", &shown, &[PASSWORD]);
}

#[test]
fn a_wrong_type_for_a_sensitive_input_does_not_quote_it() {
    let dir = tempfile::tempdir().expect("tempdir");
    let config = "sensitive input port: number\n\nsensitive output p = input.port > 0\n";
    std::fs::write(dir.path().join("main.k8sinfra"), config).expect("write");
    let out = crate::support::run(dir.path(), &["plan", "--var", &format!("port={PASSWORD}")]);
    assert_eq!(out.status.code(), Some(1));
    let shown = printed(&out);
    assert!(shown.contains("input.port expects number, got a sensitive value from `--var port`"), "{shown}");
    assert_hidden("plan with a bad sensitive --var", &shown, &[PASSWORD]);
}

#[test]
fn a_var_that_is_no_constant_is_reported_as_a_wrong_value() {
    let dir = tempfile::tempdir().expect("tempdir");
    std::fs::write(dir.path().join("main.k8sinfra"), "input size: number\n\noutput s = input.size\n").expect("write");
    let out = crate::support::run(dir.path(), &["plan", "--var", "size=big"]);
    assert_eq!(out.status.code(), Some(1));
    let shown = printed(&out);
    assert!(shown.contains("input.size expects number, got \"big\" from `--var size`"), "{shown}");
    assert!(!shown.contains("unknown name"), "{shown}");
}
