//! Module sources in git (`git::URL//FOLDER?ref=TAG`) against a local
//! repository: nothing is fetched but by `init`, which pins each commit in
//! `k8sinfra.lock.json`; a pinned branch stays put until `init --upgrade`;
//! a checkout gone is fetched again at its pinned commit; a reference that
//! names nothing is refused. No cloud is asked.

use std::path::Path;
use std::process::{Command, Output};

use crate::support::{run_with, stderr, stdout, Silent};

/// git in `dir`, as a user with a name, on a `main` branch.
fn git(dir: &Path, args: &[&str]) -> String {
    let out = Command::new("git")
        .args(["-c", "user.name=k8sinfra tests", "-c", "user.email=tests@example.com", "-c", "init.defaultBranch=main"])
        .args(args)
        .current_dir(dir)
        .output()
        .expect("git runs");
    assert!(out.status.success(), "git {args:?}: {}", String::from_utf8_lossy(&out.stderr));
    String::from_utf8_lossy(&out.stdout).trim().to_string()
}

/// The module's version `n`, committed (and tagged `vN` when asked).
fn release(repo: &Path, n: &str, tag: Option<&str>) -> String {
    let module = repo.join("modules/net");
    std::fs::create_dir_all(&module).expect("module folder");
    std::fs::write(
        module.join("main.k8sinfra"),
        format!("input cidr: cidr\n\nvpc main {{\n  cidr = input.cidr\n}}\n\noutput version = \"{n}\"\n"),
    )
    .expect("module");
    git(repo, &["add", "."]);
    git(repo, &["commit", "--quiet", "-m", n]);
    if let Some(tag) = tag {
        git(repo, &["tag", tag]);
    }
    git(repo, &["rev-parse", "HEAD"])
}

fn k8sinfra(dir: &Path, cloud: &Silent, args: &[&str]) -> Output {
    let url = cloud.url();
    let env = [
        ("AWS_ENDPOINT_URL", url.as_str()),
        ("AWS_ACCESS_KEY_ID", "test"),
        ("AWS_SECRET_ACCESS_KEY", "test"),
        ("AWS_REGION", "us-east-1"),
    ];
    run_with(dir, args, &env)
}

/// The version the configuration's module has, as the plan's outputs say.
fn planned_version(dir: &Path, cloud: &Silent) -> String {
    let plan = k8sinfra(dir, cloud, &["plan", "--refresh=false"]);
    let shown = stdout(&plan);
    assert!(plan.status.success(), "{shown}{}", stderr(&plan));
    let line = shown.lines().find(|l| l.contains("+ version")).unwrap_or_else(|| panic!("{shown}"));
    line.split('"').nth(1).expect("a quoted version").to_string()
}

fn pinned(dir: &Path) -> serde_json::Value {
    let text = std::fs::read_to_string(dir.join("k8sinfra.lock.json")).expect("the lock");
    serde_json::from_str::<serde_json::Value>(&text).expect("lock JSON")["modules"].clone()
}

#[test]
fn git_modules_are_fetched_by_init_pinned_by_commit_and_moved_only_on_upgrade() {
    let cloud = Silent::new();
    let repo = tempfile::tempdir().expect("repo");
    git(repo.path(), &["init", "--quiet"]);
    let one = release(repo.path(), "one", Some("v1"));
    let two = release(repo.path(), "two", Some("v2"));
    let dir = tempfile::tempdir().expect("configuration");
    let config = |reference: &str| {
        let source = format!("git::file://{}//modules/net?ref={reference}", repo.path().display());
        std::fs::write(
            dir.path().join("main.k8sinfra"),
            format!(
                "aws {{ region = \"us-east-1\" }}\n\nmodule net = \"{source}\" {{\n  cidr = 10.0.0.0/16\n}}\n\n\
                 output version = module.net.version\n"
            ),
        )
        .expect("config");
        format!("git::file://{}?ref={reference}", repo.path().display())
    };

    // Nothing fetched yet: every verb says to run init.
    let v1 = config("v1");
    let validate = k8sinfra(dir.path(), &cloud, &["validate"]);
    crate::support::assert_clean_failure(&validate, "check::module_source");
    assert!(stderr(&validate).contains("k8sinfra init"), "{}", stderr(&validate));

    let init = k8sinfra(dir.path(), &cloud, &["init"]);
    assert!(init.status.success(), "{}", stderr(&init));
    assert!(stderr(&init).contains(&format!("resolved to {one}")), "{}", stderr(&init));
    assert_eq!(pinned(dir.path()), serde_json::json!({ v1.clone(): { "commit": one } }));
    assert_eq!(planned_version(dir.path(), &cloud), "one");

    // Another tag: fetched by init, the old pin dropped.
    let v2 = config("v2");
    let validate = k8sinfra(dir.path(), &cloud, &["validate"]);
    crate::support::assert_clean_failure(&validate, "check::module_source");
    assert!(k8sinfra(dir.path(), &cloud, &["init"]).status.success());
    assert_eq!(pinned(dir.path()), serde_json::json!({ v2: { "commit": two } }));
    assert_eq!(planned_version(dir.path(), &cloud), "two");

    // A branch is pinned where it was: a new commit on it changes nothing
    // until init --upgrade.
    let main = config("main");
    assert!(k8sinfra(dir.path(), &cloud, &["init"]).status.success());
    assert_eq!(pinned(dir.path())[&main]["commit"], two.as_str());
    let three = release(repo.path(), "three", None);
    let again = k8sinfra(dir.path(), &cloud, &["init"]);
    assert!(again.status.success(), "{}", stderr(&again));
    assert_eq!(pinned(dir.path())[&main]["commit"], two.as_str(), "the lock holds");
    assert_eq!(planned_version(dir.path(), &cloud), "two");
    let upgrade = k8sinfra(dir.path(), &cloud, &["init", "--upgrade"]);
    assert!(upgrade.status.success(), "{}", stderr(&upgrade));
    assert_eq!(pinned(dir.path())[&main]["commit"], three.as_str());
    assert_eq!(planned_version(dir.path(), &cloud), "three");

    // The checkouts gone (a fresh clone of the configuration): fetched
    // again at the pinned commit.
    std::fs::remove_dir_all(dir.path().join(".k8sinfra/modules")).expect("remove checkouts");
    let validate = k8sinfra(dir.path(), &cloud, &["validate"]);
    crate::support::assert_clean_failure(&validate, "check::module_source");
    assert!(stderr(&validate).contains("pinned but not fetched"), "{}", stderr(&validate));
    let init = k8sinfra(dir.path(), &cloud, &["init"]);
    assert!(stderr(&init).contains(&format!("pinned to {three}")), "{}", stderr(&init));
    assert_eq!(planned_version(dir.path(), &cloud), "three");

    // A reference that names nothing: refused, the lock untouched.
    let before = pinned(dir.path());
    config("nope");
    let init = k8sinfra(dir.path(), &cloud, &["init"]);
    crate::support::assert_clean_failure(&init, "init::module_fetch");
    assert!(stderr(&init).contains("no tag, branch or commit `nope`"), "{}", stderr(&init));
    assert_eq!(pinned(dir.path()), before);
    cloud.assert_untouched();
}
