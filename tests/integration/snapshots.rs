//! Rendered diagnostics, exactly as a user reads them (no colour, 100
//! columns). Fixtures are loaded by relative path so snapshots do not
//! depend on where the repository is checked out.

use std::path::Path;

use crate::support;

fn rendered(relative: &str) -> String {
    // Cargo runs tests from the package root, so the relative path loads the
    // fixture and is what the diagnostics name. Rewriting an absolute path
    // after rendering would not do: the help lines wrap at 100 columns, and
    // where they wrap would depend on where the repository is checked out.
    let (_, diags, sources) = support::load(Path::new(relative));
    let shown = diags.into_sorted().into_iter().filter(support::not_lint);
    shown.map(|d| d.render(&sources, false, Some(100))).collect::<Vec<_>>().join("\n")
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
