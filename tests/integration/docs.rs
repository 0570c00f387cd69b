//! `docs/resources.md` is written from the schemas: every resource type and
//! every nested block has its attribute table between markers, and each
//! table is exactly what the schema gives. `K8SINFRA_BLESS_DOCS=1 cargo
//! test docs::` rewrites the tables after a schema change.

use k8sinfra_engine::schema_doc::{attribute_table, begin, END};

use crate::support;

/// The document with every marked table written anew; the names of the
/// schemas and blocks that have no marker.
fn regenerated(text: &str) -> (String, Vec<String>) {
    let providers = k8sinfra_providers::all();
    let mut tables: Vec<(String, String)> = Vec::new();
    for type_name in providers.type_names() {
        let Some(schema) = providers.schema(type_name) else { continue };
        tables.push((type_name.to_string(), attribute_table(&schema.attrs)));
        for block in &schema.blocks {
            tables.push((format!("{type_name}.{}", block.name), attribute_table(&block.attrs)));
        }
    }
    let mut out = text.to_string();
    let mut missing = Vec::new();
    for (name, table) in tables {
        let start_marker = begin(&name);
        let Some(start) = out.find(&start_marker) else {
            missing.push(name);
            continue;
        };
        let body = start + start_marker.len();
        let Some(end) = out[body..].find(END).map(|e| body + e) else {
            missing.push(format!("{name} (no end marker)"));
            continue;
        };
        out.replace_range(body..end, &format!("\n{table}"));
    }
    (out, missing)
}

#[test]
fn the_resource_reference_is_the_schemas() {
    let path = support::root().join("docs/resources.md");
    let text = std::fs::read_to_string(&path).expect("docs/resources.md");
    let (fresh, missing) = regenerated(&text);
    assert!(missing.is_empty(), "docs/resources.md has no table for: {missing:?}");
    if std::env::var_os("K8SINFRA_BLESS_DOCS").is_some() {
        std::fs::write(&path, &fresh).expect("write docs/resources.md");
        return;
    }
    if fresh != text {
        let diff =
            similar::TextDiff::from_lines(&text, &fresh).unified_diff().header("committed", "schemas").to_string();
        panic!("docs/resources.md differs from the schemas; run K8SINFRA_BLESS_DOCS=1 cargo test docs::\n{diff}");
    }
}

/// resources.md, Security lint: the table lists every rule, with the
/// severity and the trivy and checkov ids the rule carries.
#[test]
fn the_lint_table_is_the_rules() {
    use k8sinfra_providers::aws::checks::security::RULES;
    let text = std::fs::read_to_string(support::root().join("docs/resources.md")).expect("docs");
    let rows: Vec<Vec<String>> = text
        .lines()
        .filter(|l| l.starts_with("| `") && l.matches(" | ").count() == 4)
        .map(|l| l.trim_matches('|').split(" | ").map(|c| c.trim().to_string()).collect())
        .filter(|cells: &Vec<String>| cells[3].starts_with("AVD-") || cells[4].starts_with("CKV"))
        .collect();
    assert_eq!(rows.len(), RULES.len(), "one row per rule: {rows:?}");
    for rule in RULES {
        let row =
            rows.iter().find(|r| r[0] == format!("`{}`", rule.id)).unwrap_or_else(|| panic!("no row for {}", rule.id));
        assert_eq!(
            (row[1].as_str(), row[3].as_str(), row[4].as_str()),
            (rule.severity, rule.trivy, rule.checkov),
            "{}",
            rule.id
        );
    }
}

/// resources.md's examples, each as a configuration of its own: `k8sinfra
/// validate` passes on every one as shown (warnings allowed: an example may
/// show what the lint flags), so the reference cannot teach a syntax or an
/// attribute the tool refuses. An example followed by a `text` block shows
/// its errors: validate must fail and print exactly that.
#[test]
fn every_resource_reference_example_validates_or_prints_what_it_shows() {
    let text = std::fs::read_to_string(support::root().join("docs/resources.md")).expect("resources.md");
    // (line, info string, body) of every fenced block.
    let mut blocks: Vec<(usize, String, String)> = Vec::new();
    let mut open: Option<(usize, String, String)> = None;
    for (n, line) in text.lines().enumerate() {
        match (&mut open, line.strip_prefix("```")) {
            (None, Some(info)) => open = Some((n + 1, info.trim().to_string(), String::new())),
            (Some(_), Some(_)) => blocks.extend(open.take()),
            (Some((_, _, body)), None) => {
                body.push_str(line);
                body.push('\n');
            }
            (None, None) => {}
        }
    }
    let examples: Vec<_> =
        blocks.iter().enumerate().filter(|(_, (_, info, _))| info.is_empty() || info == "k8sinfra").collect();
    assert!(examples.len() >= 25, "the examples were found: {}", examples.len());
    for (i, (line, _, example)) in examples {
        let dir = tempfile::tempdir().expect("tempdir");
        std::fs::write(dir.path().join("main.k8sinfra"), example).expect("example");
        let out = support::run(dir.path(), &["validate", "main.k8sinfra"]);
        let printed = support::stderr(&out);
        match blocks.get(i + 1).filter(|(_, info, _)| info == "text") {
            None => assert!(
                out.status.success(),
                "docs/resources.md:{line}: the example does not validate:\n{example}\n{printed}"
            ),
            Some((_, _, shown)) => {
                assert_eq!(out.status.code(), Some(1), "docs/resources.md:{line}: it should fail:\n{printed}");
                assert_eq!(support::flat(&printed), support::flat(shown), "docs/resources.md:{line}: what it prints");
            }
        }
    }
}
