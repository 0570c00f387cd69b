//! docs/json.md's promises kept without a cloud: plans against a state
//! written by hand (`--refresh=false` reads nothing), exit codes under
//! `--json`, `state show` and `output` from a local state, verbs without a
//! JSON form, and refusals that are diagnostics in the document.

use std::path::Path;

use crate::support::{document, run, stderr, stdout};

const CONFIGURATION: &str = "aws { region = \"us-east-1\" }\nvpc main { cidr = 10.0.0.0/16 }\n\
                             output name = \"n\"\nsensitive output pw = \"hunter2\"\n";

/// A folder with `CONFIGURATION` plus `more`, and a local state holding
/// `vpc.main` (with a secret attribute) and two outputs, one sensitive.
fn folder(more: &str) -> tempfile::TempDir {
    let dir = tempfile::tempdir().expect("tempdir");
    std::fs::write(dir.path().join("main.k8sinfra"), format!("{CONFIGURATION}{more}")).expect("config");
    std::fs::create_dir(dir.path().join(".k8sinfra")).expect("state folder");
    let state = serde_json::json!({
        "format_version": 1,
        "lineage": "written-by-hand",
        "serial": 3,
        "resources": {
            "vpc.main": {
                "type": "vpc",
                "id": "vpc-1",
                "attrs": { "cidr": "10.0.0.0/16", "note": "hunter2" },
                "sensitive": ["note"]
            }
        },
        "outputs": {
            "pw": { "value": "hunter2", "sensitive": true },
            "name": { "value": "n", "sensitive": false }
        }
    });
    std::fs::write(dir.path().join(".k8sinfra/state.json"), state.to_string()).expect("state");
    dir
}

fn json_run(dir: &Path, args: &[&str]) -> (Option<i32>, serde_json::Value) {
    let mut all = vec!["--json"];
    all.extend_from_slice(args);
    let out = run(dir, &all);
    (out.status.code(), document(&out))
}

#[test]
fn under_json_exit_codes_keep_their_meaning_and_unchanged_resources_are_not_listed() {
    let dir = folder("vpc other { cidr = 10.1.0.0/16 }\n");
    let (code, doc) = json_run(dir.path(), &["plan", "--refresh=false", "--detailed-exitcode"]);
    assert_eq!(code, Some(2), "{doc}");
    assert_eq!((doc["success"].as_bool(), doc["has_changes"].as_bool()), (Some(true), Some(true)));
    let listed: Vec<&str> =
        doc["plan"]["changes"].as_array().expect("changes").iter().filter_map(|c| c["address"].as_str()).collect();
    assert_eq!(listed, ["vpc.other"], "vpc.main is unchanged");
    assert_eq!(doc["plan"]["drift"], serde_json::json!([]), "no refresh, no drift");
    assert_eq!(doc["warning_count"], 0);
    assert_eq!(doc["plan"]["serial"], 3);

    let dir = folder("");
    let (code, doc) = json_run(dir.path(), &["plan", "--refresh=false", "--detailed-exitcode"]);
    assert_eq!((code, doc["has_changes"].as_bool()), (Some(0), Some(false)), "{doc}");

    let dir = folder("vpc broken { cidr = 10.1.0.0/16, nope = 1 }\n");
    let (code, doc) = json_run(dir.path(), &["plan", "--refresh=false", "--detailed-exitcode"]);
    assert_eq!((code, doc["success"].as_bool(), doc["error_count"].as_u64()), (Some(1), Some(false), Some(1)), "{doc}");
    let plain = run(dir.path(), &["plan", "--refresh=false", "--detailed-exitcode"]);
    assert_eq!(plain.status.code(), Some(1), "an error is 1 with the flag, not 2: {}", stderr(&plain));
}

/// plan-json.md, values: CIDRs and port ranges are strings, a reference
/// is the cloud id it stands for, and security-group rules are listed one
/// per source (two CIDRs written in one block are two rules).
#[test]
fn plan_json_values_are_strings_ids_and_one_rule_per_source() {
    let group = "security_group web {\n  vpc = vpc.main\n  ingress {\n    protocol = \"tcp\"\n    port     = 22\n    \
                 cidrs    = [10.0.0.0/8, 192.168.0.0/16]\n  }\n  ingress {\n    protocol = \"tcp\"\n    \
                 port     = 30000..32767\n    cidrs    = [10.0.0.0/8]\n  }\n}\n";
    let dir = folder(group);
    let (code, doc) = json_run(dir.path(), &["plan", "--refresh=false"]);
    assert_eq!(code, Some(0), "{doc}");
    let changes = doc["plan"]["changes"].as_array().expect("changes");
    let web = changes.iter().find(|c| c["address"] == "security_group.web").expect("the group");
    let attribute = |name: &str| {
        web["attributes"].as_array().expect("attributes").iter().find(|a| a["name"] == name).cloned().expect(name)
    };
    assert_eq!(attribute("vpc")["after"], "vpc-1", "the reference is the VPC's id: {web}");
    let rules = attribute("ingress")["after"].as_array().expect("rules").clone();
    let summary: Vec<(String, String)> = rules
        .iter()
        .map(|r| {
            let port = r["port"].as_str().unwrap_or_else(|| panic!("a port as a string: {r}")).to_string();
            let cidrs = r["cidrs"].as_array().expect("cidrs");
            assert_eq!(cidrs.len(), 1, "one source per rule: {r}");
            (port, cidrs[0].as_str().expect("a CIDR string").to_string())
        })
        .collect();
    let expected = [("22", "10.0.0.0/8"), ("22", "192.168.0.0/16"), ("30000..32767", "10.0.0.0/8")];
    let expected: Vec<(String, String)> = expected.iter().map(|(p, c)| (p.to_string(), c.to_string())).collect();
    let mut summary = summary;
    summary.sort();
    assert_eq!(summary, expected, "{web}");
}

#[test]
fn a_lint_finding_is_counted_as_a_warning() {
    let group = "security_group open {\n  vpc = vpc.main\n  ingress {\n    protocol = \"tcp\"\n    port = 22\n    \
                 cidrs = [0.0.0.0/0]\n    description = \"SSH\"\n  }\n}\n";
    let dir = folder(group);
    let (code, doc) = json_run(dir.path(), &["validate"]);
    assert_eq!(code, Some(0), "{doc}");
    assert_eq!((doc["warning_count"].as_u64(), doc["error_count"].as_u64()), (Some(1), Some(0)), "{doc}");
    assert_eq!(
        (doc["diagnostics"][0]["severity"].as_str(), doc["diagnostics"][0]["code"].as_str()),
        (Some("warning"), Some("lint::open_ssh"))
    );
    let (code, doc) = json_run(dir.path(), &["validate", "--deny-warnings"]);
    assert_eq!((code, doc["success"].as_bool()), (Some(1), Some(false)), "{doc}");
}

#[test]
fn state_show_and_output_read_the_state_and_keep_its_secrets() {
    let dir = folder("");
    let (code, doc) = json_run(dir.path(), &["state", "show", "vpc.main"]);
    assert_eq!(code, Some(0), "{doc}");
    assert_eq!(doc["resource"]["attributes"]["note"], serde_json::Value::Null);
    assert_eq!(doc["resource"]["sensitive"], serde_json::json!(["note"]));
    assert_eq!(doc["resource"]["id"], "vpc-1");
    assert!(!doc.to_string().contains("hunter2"));

    let (_, doc) = json_run(dir.path(), &["output"]);
    assert_eq!(doc["pw"], serde_json::json!({ "value": null, "sensitive": true }));
    assert_eq!(doc["name"], serde_json::json!({ "value": "n", "sensitive": false }));
    let (code, doc) = json_run(dir.path(), &["output", "pw"]);
    assert_eq!((code, doc), (Some(0), serde_json::json!("hunter2")), "asked for by name: the value itself");
    let text = run(dir.path(), &["output"]);
    assert_eq!(stdout(&text), "name = \"n\"\npw = (sensitive)\n");
}

#[test]
fn verbs_without_a_json_form_print_the_diagnostics_document() {
    let dir = folder("");
    for args in [&["graph"][..], &["fmt", "--check"][..]] {
        let (code, doc) = json_run(dir.path(), args);
        assert_eq!(code, Some(0), "{args:?}: {doc}");
        assert_eq!((doc["success"].as_bool(), doc["error_count"].as_u64()), (Some(true), Some(0)), "{args:?}");
        assert!(doc["diagnostics"].is_array(), "{args:?}: {doc}");
    }
    let out = run(dir.path(), &["--json", "graph"]);
    assert!(stderr(&out).contains("digraph k8sinfra"), "the graph goes to standard error");

    // `init` and `force-unlock` too, a refusal included: no lock to remove.
    let (code, doc) = json_run(dir.path(), &["init"]);
    assert_eq!(code, Some(0), "init: {doc}");
    assert_eq!(doc["success"].as_bool(), Some(true), "init: {doc}");
    let (code, doc) = json_run(dir.path(), &["force-unlock", "0123abcd-1"]);
    assert_eq!(code, Some(1), "force-unlock: {doc}");
    assert_eq!((doc["success"].as_bool(), doc["error_count"].as_u64()), (Some(false), Some(1)), "{doc}");
    assert!(doc["diagnostics"][0]["code"].as_str().is_some_and(|c| !c.is_empty()), "{doc}");
}

/// A verb refused for want of something (an undeclared address, a
/// resource not in the state, an output not recorded, a plan file) says
/// why as a diagnostic with a code, in the document under `--json`.
#[test]
fn refusals_are_diagnostics_with_codes() {
    let dir = folder("");
    for (args, code) in [
        (&["import", "vpc.mian", "vpc-9"][..], "cli::undeclared"),
        (&["import", "vpc.main", "vpc-9"][..], "cli::already_in_state"),
        (&["state", "rm", "vpc.other"][..], "cli::not_in_state"),
        (&["state", "mv", "vpc.main", "vpc.moved"][..], "cli::undeclared"),
        (&["output", "nope"][..], "cli::unknown_output"),
        (&["show", "missing.plan"][..], "plan::io"),
    ] {
        let (status, doc) = json_run(dir.path(), args);
        assert_eq!(status, Some(1), "{args:?}: {doc}");
        assert_eq!((doc["success"].as_bool(), doc["error_count"].as_u64()), (Some(false), Some(1)), "{args:?}: {doc}");
        assert_eq!(doc["diagnostics"][0]["code"], code, "{args:?}: {doc}");
    }
    let (_, doc) = json_run(dir.path(), &["import", "vpc.mian", "vpc-9"]);
    assert_eq!(doc["diagnostics"][0]["help"], "did you mean `vpc.main`?");
    let text = run(dir.path(), &["output", "nope"]);
    assert!(
        stderr(&text).contains("cli::unknown_output") && stderr(&text).contains("no output `nope`"),
        "{}",
        stderr(&text)
    );
}

/// `state rm`, `state mv` and `import` take the lock: another's lock
/// stops them before they read anything.
#[test]
fn changing_the_state_by_hand_takes_the_lock() {
    let dir = folder("vpc moved { cidr = 10.0.0.0/16 }\n");
    let lock = serde_json::json!({
        "id": "held-elsewhere",
        "operation": "apply",
        "who": "someone",
        "host": "another-machine",
        "pid": 4242,
        "created": 0
    });
    std::fs::write(dir.path().join(".k8sinfra/state.json.lock"), lock.to_string()).expect("lock");
    for args in [
        &["state", "rm", "vpc.main"][..],
        &["state", "mv", "vpc.main", "vpc.moved"][..],
        &["import", "vpc.moved", "vpc-9"][..],
        &["plan"][..],
        &["apply", "--auto-approve"][..],
        &["destroy", "--auto-approve"][..],
    ] {
        let (status, doc) = json_run(dir.path(), args);
        assert_eq!(status, Some(1), "{args:?}: {doc}");
        assert_eq!(doc["diagnostics"][0]["code"], "state::locked", "{args:?}: {doc}");
    }
    let state = std::fs::read_to_string(dir.path().join(".k8sinfra/state.json")).expect("state");
    assert!(state.contains("\"serial\":3"), "unchanged: {state}");
}

/// apply.md, Saved plans: a markdown plan too long for one pull-request
/// comment comes in parts under 65,000 characters, each after a
/// `<!-- k8sinfra plan: part N of M -->` line; a short one in one piece.
#[test]
fn a_long_markdown_plan_comes_in_numbered_parts_under_the_comment_limit() {
    let dir = tempfile::tempdir().expect("tempdir");
    let many = "aws { region = \"us-east-1\" }\n\nvpc v {\n  count = 400\n  cidr  = cidrsubnet(10.0.0.0/8, 8, count.index % 256)\n}\n";
    std::fs::write(dir.path().join("main.k8sinfra"), many).expect("config");
    let out = run(dir.path(), &["plan", "--out", "long.plan"]);
    assert!(out.status.success(), "{}", stderr(&out));
    let shown = stdout(&run(dir.path(), &["show", "long.plan", "--format", "markdown"]));
    // Each part: its marker line, then its text up to the next marker.
    let mut parts: Vec<(String, String)> = Vec::new();
    for line in shown.lines() {
        match line.strip_prefix("<!-- k8sinfra plan: part ").and_then(|l| l.strip_suffix(" -->")) {
            Some(numbers) => parts.push((numbers.to_string(), String::new())),
            None => parts.last_mut().expect("a marker first").1.push_str(&format!("{line}\n")),
        }
    }
    let n = parts.len();
    assert!(n >= 2, "400 creates make a long plan: {} characters", shown.len());
    let numbers: Vec<&str> = parts.iter().map(|(numbers, _)| numbers.as_str()).collect();
    assert_eq!(numbers, (1..=n).map(|i| format!("{i} of {n}")).collect::<Vec<_>>());
    for (_, text) in &parts {
        assert!(text.chars().count() < 65_000, "a part of {} characters", text.chars().count());
    }
    assert!(shown.contains("vpc.v[399]"), "nothing lost between parts");

    std::fs::write(
        dir.path().join("main.k8sinfra"),
        "aws { region = \"us-east-1\" }\nvpc one { cidr = 10.0.0.0/16 }\n",
    )
    .expect("config");
    assert!(run(dir.path(), &["plan", "--out", "short.plan"]).status.success());
    let shown = stdout(&run(dir.path(), &["show", "short.plan", "--format", "markdown"]));
    assert!(!shown.contains("k8sinfra plan: part"), "{shown}");
}
