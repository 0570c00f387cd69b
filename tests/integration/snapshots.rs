//! Rendered diagnostics, exactly as a user reads them (no colour, 100
//! columns). Paths are made relative so snapshots do not depend on where
//! the repository is checked out.

use crate::support;

fn rendered(relative: &str) -> String {
    let root = support::root();
    let (_, diags, sources) = support::load(&root.join(relative));
    let prefix = format!("{}/", root.display());
    diags
        .into_sorted()
        .into_iter()
        .map(|d| d.render(&sources, false, Some(100)).replace(&prefix, ""))
        .collect::<Vec<_>>()
        .join("\n")
}

#[test]
fn references() {
    insta::assert_snapshot!(rendered("tests/fixtures/errors/references.k8sinfra"));
}

#[test]
fn attributes() {
    insta::assert_snapshot!(rendered("tests/fixtures/errors/attributes.k8sinfra"));
}

#[test]
fn network() {
    insta::assert_snapshot!(rendered("tests/fixtures/errors/network.k8sinfra"));
}

#[test]
fn cycle() {
    insta::assert_snapshot!(rendered("tests/fixtures/errors/cycle.k8sinfra"));
}

#[test]
fn unclosed_block() {
    insta::assert_snapshot!(rendered("tests/fixtures/errors/syntax_unclosed.k8sinfra"));
}

#[test]
fn modules() {
    insta::assert_snapshot!(rendered("tests/fixtures/errors/modules"));
}
