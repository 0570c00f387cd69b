//! Every `.k8sinfra` file in the repository: parsed, formatted (and
//! already in canonical form), and every example and module validated, so
//! examples and the stdlib can never rot.

use std::path::PathBuf;

use k8sinfra_lang::fmt::format_file;
use k8sinfra_lang::syntax::parse_str;
use k8sinfra_lang::FileId;

use crate::support;

/// All files that must be valid (fixtures of errors are not).
fn valid_files() -> Vec<PathBuf> {
    let root = support::root();
    ["examples", "stdlib", "tests/fixtures/valid", "bench"]
        .iter()
        .flat_map(|d| support::k8sinfra_files(&root.join(d)))
        .collect()
}

#[test]
fn every_file_parses_and_is_formatted_canonically() {
    let files = valid_files();
    assert!(files.len() >= 8, "expected the examples, stdlib and fixtures, found {files:?}");
    for path in files {
        let text = std::fs::read_to_string(&path).expect("readable");
        let parsed = parse_str(FileId(0), &text).unwrap_or_else(|e| panic!("{}: {e:?}", path.display()));
        let formatted = format_file(&parsed);
        assert_eq!(formatted, text, "{} is not in canonical form: run `k8sinfra fmt`", path.display());
        let again = format_file(&parse_str(FileId(0), &formatted).expect("formatted text parses"));
        assert_eq!(again, formatted, "{}: fmt is not idempotent", path.display());
        let comments = |s: &str| s.lines().filter(|l| l.trim_start().starts_with('#')).count();
        assert_eq!(comments(&formatted), comments(&text), "{}: fmt lost a comment", path.display());
    }
}

#[test]
fn error_fixtures_round_trip_through_fmt_when_they_parse() {
    for path in support::k8sinfra_files(&support::root().join("tests/fixtures/errors")) {
        let text = std::fs::read_to_string(&path).expect("readable");
        let Ok(parsed) = parse_str(FileId(0), &text) else { continue };
        let once = format_file(&parsed);
        let twice = format_file(&parse_str(FileId(0), &once).expect("formatted text parses"));
        assert_eq!(once, twice, "{}: fmt is not idempotent", path.display());
        for comment in text.lines().filter_map(|l| l.find('#').map(|i| l[i..].trim_end())) {
            if !comment.contains('"') {
                assert!(once.contains(comment), "{}: lost comment {comment}", path.display());
            }
        }
    }
}

#[test]
fn every_example_validates_without_an_error_and_its_lint_findings_are_known() {
    let mut examples: Vec<PathBuf> = std::fs::read_dir(support::root().join("examples"))
        .expect("examples")
        .flatten()
        .map(|e| e.path())
        .filter(|p| p.is_dir())
        .collect();
    examples.sort();
    assert!(examples.len() >= 2);
    let mut findings = Vec::new();
    for dir in examples.iter().chain(support::k8sinfra_files(&support::root().join("tests/fixtures/valid")).iter()) {
        let (config, diags, sources) = support::load(dir);
        let (errors, warnings): (Vec<_>, Vec<_>) = diags.into_iter().partition(k8sinfra_lang::Diag::is_error);
        let rendered: Vec<String> = errors.into_iter().map(|d| d.render(&sources, false, Some(100))).collect();
        assert!(rendered.is_empty(), "{}:\n{}", dir.display(), rendered.join("\n"));
        let name = dir.strip_prefix(support::root()).unwrap_or(dir).display().to_string();
        findings.extend(warnings.iter().map(|w| format!("{name}: {}", w.message())));
        let config = config.expect("a configuration");
        assert!(!config.resources.is_empty(), "{} declares no resources", dir.display());
        assert!(config.graph.topological_order().is_some());
    }
    // The security lint's findings the examples keep, on purpose: a change
    // to the lint or the examples shows here.
    findings.sort();
    insta::assert_snapshot!(findings.join("\n"));
}

#[test]
fn the_embedded_stdlib_is_the_stdlib_folder() {
    let on_disk: Vec<String> = support::k8sinfra_files(&support::root().join("stdlib"))
        .iter()
        .map(|p| p.strip_prefix(support::root().join("stdlib")).expect("below stdlib").display().to_string())
        .collect();
    let embedded: Vec<String> =
        support::STDLIB.iter().map(|(p, _)| (*p).to_string()).filter(|p| p.ends_with(".k8sinfra")).collect();
    assert_eq!(embedded, on_disk, "src/stdlib.rs must list every file under stdlib/");
    for (path, text) in support::STDLIB {
        let on_disk = std::fs::read_to_string(support::root().join("stdlib").join(path)).expect("stdlib file");
        assert_eq!(*text, on_disk, "{path}");
    }
}

#[test]
fn the_seed_chapter_has_the_chapters_resources_and_dependencies() {
    let (config, _, _) = support::load(&support::root().join("examples/seed-chapter"));
    let config = config.expect("valid");
    let mut types: Vec<&str> = config.resources.iter().map(|r| r.addr.type_name.as_str()).collect();
    types.sort_unstable();
    types.dedup();
    assert_eq!(types.len(), 16, "every resource type of the chapter: {types:?}");
    let edge = |from: &str, to: &str| {
        config.graph.edges().iter().any(|(a, b, ())| a.to_string() == from && b.to_string() == to)
    };
    assert!(edge("subnet.public", "vpc.main"));
    assert!(edge("nat_gateway.main", "elastic_ip.nat"));
    assert!(edge("route_table.private", "nat_gateway.main"));
    assert!(edge("security_group.private", "security_group.public"));
    assert!(edge("volume_attachment.data", "instance.public"));
    assert!(edge("dns_record.public", "load_balancer.public"));
    assert!(edge("ebs_volume.data", "subnet.public"), "a reference to a configured attribute is still a dependency");
    let cidr =
        |addr: &str| config.resources.iter().find(|r| r.addr.to_string() == addr).map(|r| r.attrs["cidr"].to_string());
    assert_eq!(cidr("subnet.public").as_deref(), Some("10.0.1.0/24"));
    assert_eq!(cidr("subnet.private").as_deref(), Some("10.0.2.0/24"));
}

#[test]
fn depends_on_reaches_into_modules() {
    let dir = tempfile::tempdir().expect("tempdir");
    std::fs::create_dir_all(dir.path().join("web")).expect("dir");
    std::fs::write(
        dir.path().join("main.k8sinfra"),
        "vpc main { cidr = 10.0.0.0/16 }\n\
         internet_gateway main { vpc = vpc.main }\n\
         module web = \"./web\" {\n  vpc        = vpc.main\n  depends_on = [internet_gateway.main]\n}\n\
         s3_bucket logs {\n  name       = \"logs\"\n  depends_on = [module.web]\n}\n",
    )
    .expect("write");
    std::fs::write(
        dir.path().join("web/main.k8sinfra"),
        "input vpc: any\nsecurity_group web { vpc = input.vpc }\ns3_bucket assets { name = \"assets\" }\noutput group = security_group.web.id\n",
    )
    .expect("write");
    let (config, diags, sources) = support::load(dir.path());
    let rendered: Vec<String> =
        diags.into_iter().filter(support::not_lint).map(|d| d.render(&sources, false, Some(100))).collect();
    assert!(rendered.is_empty(), "{}", rendered.join("\n"));
    let config = config.expect("valid");
    let edge = |from: &str, to: &str| {
        config.graph.edges().iter().any(|(a, b, ())| a.to_string() == from && b.to_string() == to)
    };
    // On a module call: everything inside waits, even what uses no input.
    assert!(edge("module.web.s3_bucket.assets", "internet_gateway.main"));
    assert!(edge("module.web.security_group.web", "internet_gateway.main"));
    // On a resource: every resource inside the module, not only those its outputs reach.
    assert!(edge("s3_bucket.logs", "module.web.s3_bucket.assets"));
    assert!(edge("s3_bucket.logs", "module.web.security_group.web"));
}
