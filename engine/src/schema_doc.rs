//! The reference tables of `docs/resources.md`, written from the schemas so
//! that the documentation cannot miss or misstate an attribute. The prose
//! around the tables stays hand-written; the test suite regenerates each
//! table between its markers and fails when the file differs.

use std::fmt::Write as _;

use k8sinfra_lang::Type;

use crate::schema::{AttrKind, AttrSchema};

/// The marker before the table of a resource (`vpc`) or of one of its
/// blocks (`route_table.route`); the table ends at `END`.
#[must_use]
pub fn begin(name: &str) -> String {
    format!("<!-- schema: {name} -->")
}

pub const END: &str = "<!-- /schema -->";

/// One markdown table of attributes, in the schema's order.
#[must_use]
pub fn attribute_table(attrs: &[AttrSchema]) -> String {
    let mut out = String::from(
        "| Attribute | Type | Kind | Default | Forces replacement | Description |\n|---|---|---|---|---|---|\n",
    );
    for attr in attrs {
        let kind = match attr.kind {
            AttrKind::Required => "required",
            AttrKind::Optional => "optional",
            AttrKind::OptionalComputed => "optional; computed if unset",
            AttrKind::Computed => "computed",
        };
        let default = match (&attr.default, attr.kind) {
            (Some(value), _) => format!("`{value}`"),
            (None, AttrKind::Optional) => "`null`".into(),
            (None, _) => "—".into(),
        };
        let forces = match (attr.kind, attr.forces_new) {
            (AttrKind::Computed, _) => "—",
            (_, true) => "yes",
            (_, false) => "no",
        };
        let _ = writeln!(
            out,
            "| `{}` | {} | {kind} | {default} | {forces} | {} |",
            attr.name,
            type_words(&attr.ty),
            description(attr)
        );
    }
    out
}

/// `cidr`, "`vpc` reference", "list of `subnet` references".
fn type_words(ty: &Type) -> String {
    match ty {
        Type::Ref(t) => format!("`{t}` reference"),
        Type::List(inner) => match inner.as_ref() {
            Type::Ref(t) => format!("list of `{t}` references"),
            _ => format!("`{ty}`"),
        },
        other => format!("`{other}`"),
    }
}

/// The schema's description as a sentence, saying so when it is sensitive.
fn description(attr: &AttrSchema) -> String {
    let mut text = attr.description.trim().to_string();
    if !text.is_empty() && !text.ends_with('.') {
        text.push('.');
    }
    if attr.sensitive && !text.to_lowercase().contains("sensitive") {
        text.push_str(" Sensitive: shown as `(sensitive)`.");
    }
    text.replace('|', "\\|").trim().to_string()
}
