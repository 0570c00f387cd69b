//! The binary as a user runs it: exit codes, output formats, hostile input.

use std::io::Write as _;

use crate::support::{self, assert_clean_failure, run, stderr, stdout};

fn scratch(files: &[(&str, &[u8])]) -> tempfile::TempDir {
    let dir = tempfile::tempdir().expect("tempdir");
    for (name, bytes) in files {
        std::fs::write(dir.path().join(name), bytes).expect("write");
    }
    dir
}

#[test]
fn validate_accepts_the_examples() {
    let out = run(&support::root(), &["validate", "examples/seed-chapter"]);
    assert!(out.status.success(), "{}", stderr(&out));
    assert!(stderr(&out).contains("is valid: 22 resources, 5 outputs"), "{}", stderr(&out));
}

#[test]
fn validate_reports_every_error_and_exits_1() {
    let out = run(&support::root(), &["validate", "tests/fixtures/errors/attributes.k8sinfra"]);
    assert_clean_failure(&out, "check::unknown_attribute");
    let err = stderr(&out);
    assert!(err.contains("check::read_only_attribute") && err.contains("check::duplicate_declaration"), "{err}");
    assert!(err.contains("errors found; nothing was changed"), "{err}");
}

#[test]
fn json_diagnostics_have_a_stable_shape() {
    let out = run(&support::root(), &["validate", "--json", "tests/fixtures/errors/references.k8sinfra"]);
    assert_eq!(out.status.code(), Some(1));
    let json: serde_json::Value = serde_json::from_str(&stdout(&out)).expect("stdout is JSON");
    assert_eq!(json["valid"], false);
    assert_eq!(json["error_count"], 7);
    let first = &json["diagnostics"][0];
    assert_eq!(first["code"], "check::unknown_reference");
    assert_eq!(first["labels"][0]["start"]["line"], 7);
    assert_eq!(first["labels"][0]["start"]["column"], 10);
    assert_eq!(first["help"], "did you mean `vpc.main`?");
}

#[test]
fn hostile_input_is_diagnosed_never_a_panic() {
    let mut garbage = Vec::new();
    let mut x: u32 = 0x1234_5678;
    for _ in 0..4096 {
        x ^= x << 13;
        x ^= x >> 17;
        x ^= x << 5;
        garbage.push((x & 0xff) as u8);
    }
    let deep = "[".repeat(10_000);
    let deep_braces = format!("vpc main {{ tags = {} }}", "{ a = ".repeat(10_000));
    let cases: Vec<(&str, Vec<u8>, &str)> = vec![
        ("binary garbage", garbage, "syntax::"),
        ("invalid UTF-8", b"vpc main { cidr = \"\xff\xfe\" }".to_vec(), "syntax::invalid_utf8"),
        ("NUL byte", b"vpc main {\0}".to_vec(), "syntax::nul_byte"),
        ("unterminated string", b"vpc main { cidr = \"10.0.0.0/16 }".to_vec(), "syntax::unterminated_string"),
        ("unterminated block", b"vpc main {\n  cidr = 10.0.0.0/16\n".to_vec(), "syntax::unclosed"),
        ("10,000 unclosed brackets", format!("let x = {deep}").into_bytes(), "syntax::too_deep"),
        ("10,000 nested maps", deep_braces.into_bytes(), "syntax::too_deep"),
        ("long operator chain", format!("let x = 1{}", " + 1".repeat(20_000)).into_bytes(), "syntax::too_complex"),
    ];
    for (what, bytes, code) in cases {
        let dir = scratch(&[("main.k8sinfra", &bytes)]);
        let out = run(dir.path(), &["validate"]);
        assert_clean_failure(&out, code);
        assert!(!stderr(&out).is_empty(), "{what}: no diagnostic");
        let out = run(dir.path(), &["fmt", "--check"]);
        assert_eq!(out.status.code(), Some(1), "{what}: fmt --check");
        assert!(!stderr(&out).contains("panicked"), "{what}: fmt panicked");
    }
}

#[test]
fn a_50_megabyte_file_is_checked() {
    let dir = tempfile::tempdir().expect("tempdir");
    let path = dir.path().join("big.k8sinfra");
    let mut file = std::io::BufWriter::new(std::fs::File::create(&path).expect("create"));
    writeln!(file, "aws {{ region = \"us-east-1\" }}\nvpc main {{ cidr = 10.0.0.0/16 }}").expect("write");
    // Mostly data, as a large configuration is: objects with long content,
    // plus enough resources to exercise the graph.
    let chunk = "x".repeat(1000);
    writeln!(file, "s3_bucket b {{ name = \"big\" }}").expect("write");
    let mut n = 0;
    while file.get_ref().metadata().map(|m| m.len()).unwrap_or(0) < 50 * 1024 * 1024 {
        for _ in 0..100 {
            writeln!(
                file,
                "s3_object o{n} {{\n  bucket  = s3_bucket.b\n  key     = \"o{n}\"\n  content = <<EOT\n{chunk}\n{chunk}\n{chunk}\nEOT\n}}"
            )
            .expect("write");
            n += 1;
        }
        file.flush().expect("flush");
    }
    drop(file);
    let out = run(dir.path(), &["validate", "big.k8sinfra"]);
    assert!(out.status.success(), "{}", stderr(&out));
    assert!(stderr(&out).contains(&format!("{} resources", n + 2)), "{}", stderr(&out));
}

#[test]
fn fmt_checks_rewrites_and_keeps_comments() {
    let messy = b"# keep me\nvpc   main{cidr=10.0.0.0/16 # and me\n enable_dns_hostnames=true}\n";
    let dir = scratch(&[("main.k8sinfra", messy)]);
    let out = run(dir.path(), &["fmt", "--check", "--diff"]);
    assert_eq!(out.status.code(), Some(1));
    assert!(stdout(&out).contains("+  cidr                 = 10.0.0.0/16 # and me"), "{}", stdout(&out));
    assert_eq!(std::fs::read(dir.path().join("main.k8sinfra")).expect("read"), messy, "--check changes nothing");
    let out = run(dir.path(), &["fmt"]);
    assert!(out.status.success(), "{}", stderr(&out));
    let formatted = std::fs::read_to_string(dir.path().join("main.k8sinfra")).expect("read");
    assert_eq!(
        formatted,
        "# keep me\nvpc main {\n  cidr                 = 10.0.0.0/16 # and me\n  enable_dns_hostnames = true\n}\n"
    );
    let out = run(dir.path(), &["fmt", "--check"]);
    assert!(out.status.success(), "formatting is idempotent: {}", stdout(&out));
}

#[test]
fn graph_prints_dot_with_dependency_edges() {
    let out = run(&support::root(), &["graph", "examples/seed-chapter"]);
    assert!(out.status.success(), "{}", stderr(&out));
    let dot = stdout(&out);
    assert!(dot.starts_with("digraph k8sinfra {"));
    assert!(dot.contains("\"subnet.public\" -> \"vpc.main\";"), "{dot}");
    assert!(dot.contains("\"route_table.private\" -> \"nat_gateway.main\";"), "{dot}");
    // Orderings AWS needs that no reference shows: what holds a public
    // address waits for the VPC's internet gateway, and goes before it.
    for needs_the_gateway in ["nat_gateway.main", "instance.public", "load_balancer.public"] {
        let edge = format!("\"{needs_the_gateway}\" -> \"internet_gateway.main\";");
        assert!(dot.contains(&edge), "{edge}\n{dot}");
    }
    assert!(!dot.contains("\"instance.private\" -> \"internet_gateway.main\";"), "a private host needs none: {dot}");
}

/// A resource depends on the resources its references reach through any
/// chain of lets (each declaration's set built once from its direct
/// dependencies', issue 16), and on no resource behind another resource.
/// Mutation tried: dropping the sets reached through lets left the edges
/// to `vpc.main` and `subnet.a` out, and this test failed.
#[test]
fn graph_follows_references_through_let_chains() {
    let config = b"vpc main {
  cidr = 10.0.0.0/16
}

subnet a {
  vpc  = vpc.main
  cidr = 10.0.1.0/24
  zone = \"us-east-1a\"
}

\
let first = vpc.main.id
let second = first
let third = [second, subnet.a.id]
let fourth = third
let unrelated = \"x\"

\
security_group g {
  vpc         = fourth[0]
  description = \"${fourth[1]} ${unrelated}\"
}

\
security_group h {
  vpc         = subnet.a.vpc
  description = \"behind the subnet\"
}
";
    let dir = scratch(&[("main.k8sinfra", config)]);
    let out = run(dir.path(), &["graph"]);
    assert!(out.status.success(), "{}", stderr(&out));
    let dot = stdout(&out);
    for edge in ["\"security_group.g\" -> \"vpc.main\";", "\"security_group.g\" -> \"subnet.a\";"] {
        assert!(dot.contains(edge), "{edge}\n{dot}");
    }
    assert!(dot.contains("\"security_group.h\" -> \"subnet.a\";"), "{dot}");
    assert!(!dot.contains("\"security_group.h\" -> \"vpc.main\";"), "not through another resource: {dot}");
}

#[test]
fn inputs_come_from_flags_files_and_the_environment() {
    let config = b"input zones: map(number)\ninput cidr: cidr = 10.0.0.0/16\nvpc main { cidr = input.cidr }\nsubnet s {\n  for_each = input.zones\n  vpc = vpc.main\n  cidr = cidrsubnet(vpc.main.cidr, 8, each.value)\n  zone = each.key\n}\n";
    let dir = scratch(&[
        ("main.k8sinfra", config),
        ("dev.vars", b"cidr = 10.1.0.0/16\n"),
        ("bad.vars", b"cidr = \"nope\"\n"),
    ]);
    let out = run(dir.path(), &["validate", "--var", "zones={ \"us-east-1a\" = 1, \"us-east-1b\" = 2 }"]);
    assert!(out.status.success(), "{}", stderr(&out));
    assert!(stderr(&out).contains("3 resources"), "{}", stderr(&out));
    let out = run(dir.path(), &["graph", "--var-file", "dev.vars", "--var", "zones={ \"us-east-1a\" = 1 }"]);
    assert!(stdout(&out).contains("subnet.s[\\\"us-east-1a\\\"]"), "{}", stdout(&out));
    let out = run(dir.path(), &["validate", "--var-file", "bad.vars", "--var", "zones={}"]);
    assert_clean_failure(&out, "check::type_mismatch");
    assert!(stderr(&out).contains("bad.vars:1:8"), "the error points into the vars file: {}", stderr(&out));
    let out = std::process::Command::new(env!("CARGO_BIN_EXE_k8sinfra"))
        .args(["validate", "--var", "zone={}"])
        .current_dir(dir.path())
        .env("K8SINFRA_VAR_cidr", "10.0.0.0/40")
        .output()
        .expect("runs");
    let err = stderr(&out);
    assert_eq!(out.status.code(), Some(1), "{err}");
    assert!(err.contains("check::unknown_input") && err.contains("did you mean `zones`?"), "{err}");
    assert!(err.contains("net::malformed_cidr"), "{err}");
}

#[test]
fn every_verb_has_help() {
    for verb in ["validate", "fmt", "graph", "plan", "apply", "destroy", "output"] {
        let out = run(&support::root(), &[verb, "--help"]);
        assert!(out.status.success());
        assert!(stdout(&out).contains("Usage: k8sinfra"), "{verb}");
    }
    let out = run(&support::root(), &["--help"]);
    assert!(stdout(&out).contains("--color"));
}

#[test]
fn color_is_off_with_no_color_and_on_when_asked() {
    let plain = run(&support::root(), &["validate", "tests/fixtures/errors/cycle.k8sinfra"]);
    assert!(!stderr(&plain).contains('\x1b'));
    let colored = run(&support::root(), &["--color", "always", "validate", "tests/fixtures/errors/cycle.k8sinfra"]);
    assert!(stderr(&colored).contains('\x1b'));

    // On a terminal: `auto` colours unless NO_COLOR is set; `never` never.
    let fixture = support::root().join("tests/fixtures/errors/cycle.k8sinfra");
    let fixture = fixture.to_str().expect("a path");
    let shown = |args: &[&str], env: &[(&str, &str)]| {
        let out = support::on_a_terminal(&support::root(), args, env, "");
        assert_eq!(out.status.code(), Some(1), "{}", stdout(&out));
        stdout(&out)
    };
    assert!(shown(&["validate", fixture], &[]).contains("\x1b["), "auto on a terminal colours");
    assert!(!shown(&["validate", fixture], &[("NO_COLOR", "1")]).contains("\x1b["), "NO_COLOR");
    assert!(!shown(&["--color", "never", "validate", fixture], &[]).contains("\x1b["), "never");
}

/// Every verb takes the configuration's folder the same way: a positional
/// DIR, or `--dir DIR`; flags that mean nothing to a verb are refused.
#[test]
fn every_verb_takes_the_folder_as_dir_or_dash_dash_dir() {
    let root = support::root();
    let example = "examples/vpc";
    for args in [
        vec!["validate", example],
        vec!["validate", "--dir", example],
        vec!["graph", example],
        vec!["graph", "--dir", example],
        vec!["state", "list", example],
        vec!["state", "list", "--dir", example],
        vec!["output", "--dir", example],
    ] {
        let out = run(&root, &args);
        assert!(out.status.success(), "{args:?}: {}", stderr(&out));
    }
    // A named output, then the folder.
    let out = run(&root, &["output", "vpc_id", example]);
    assert!(stderr(&out).contains("no output `vpc_id`"), "{}", stderr(&out));
    // Both at once is a mistake, not a guess.
    let both = run(&root, &["validate", example, "--dir", example]);
    assert_eq!(both.status.code(), Some(2), "{}", stderr(&both));
    for misplaced in [vec!["fmt", "--deny-warnings", example], vec!["state", "list", "--call-stats"]] {
        let out = run(&root, &misplaced);
        assert_eq!(out.status.code(), Some(2), "{misplaced:?} takes no such flag: {}", stderr(&out));
    }
    let help = stdout(&run(&root, &["--help"]));
    for verb in ["plan reads what exists", "apply carries the plan out", "destroy deletes everything"] {
        assert!(support::flat(&help).contains(verb), "{help}");
    }
}
