//! `moved` and `removed` blocks: refactoring without destroying.
//! `moved { from = ADDRESS, to = ADDRESS }` says a resource (an instance,
//! every instance of a resource, or everything in a module call) now lives
//! at another address; `removed { from = ADDRESS }` says the configuration
//! no longer manages it and the cloud keeps it. Both are checked here
//! against the configuration; the plan carries them out on the state
//! (`plan::refactor`).

use k8sinfra_lang::syntax::ast::{Block, Expr, ExprKind, Ident};
use k8sinfra_lang::{suggest, Diag, Diagnostics, Span};

use super::errors::CheckError;
use super::Config;

/// One `moved` or `removed` block of the root module.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Refactor {
    Moved { from: String, to: String, span: Span },
    Removed { from: String, span: Span },
}

/// The address an expression spells: `vpc.main`, `subnet.s[0]`,
/// `subnet.s["a"]`, `module.net.vpc.main`; `None` for anything else.
#[must_use]
pub fn address_of(expr: &Expr) -> Option<String> {
    match &expr.kind {
        ExprKind::Variable(name) => Some(name.name.clone()),
        ExprKind::GetAttr(base, name) => Some(format!("{}.{}", address_of(base)?, name.name)),
        ExprKind::Index(base, key) => {
            let key = match &key.kind {
                ExprKind::Number(n, _) if n.fract() == 0.0 && *n >= 0.0 => format!("{n}"),
                ExprKind::String(t) => format!("{:?}", t.as_literal()?),
                _ => return None,
            };
            Some(format!("{}[{key}]", address_of(base)?))
        }
        _ => None,
    }
}

fn error(span: Span, message: String, label: &str, help: Option<String>) -> Diag {
    Diag::new(span.file, CheckError::InvalidRefactor { message, span: span.into(), label: label.into(), help })
}

/// The refactoring blocks of the root module, checked: each names
/// addresses, a move's `to` is declared and its `from` no longer is (else
/// there is nothing to move), a removed resource is no longer declared.
pub fn collect(
    moved: &[(&Ident, &Block)],
    removed: &[(&Ident, &Block)],
    config: &Config,
    diags: &mut Diagnostics,
) -> Vec<Refactor> {
    let declared: Vec<String> = config.resources.iter().map(|r| r.addr.to_string()).collect();
    let is_declared = |pattern: &str| declared.iter().any(|a| crate::plan::address_matches(pattern, a));
    let mut out = Vec::new();
    for (keyword, blocks) in [("moved", moved), ("removed", removed)] {
        let wanted: &[&str] = if keyword == "moved" { &["from", "to"] } else { &["from"] };
        for (ident, body) in blocks {
            let mut addresses = Vec::new();
            for (attr, _) in body.attributes() {
                if !wanted.contains(&attr.name.as_str()) {
                    diags.push(error(
                        attr.span,
                        format!("`{keyword}` takes {}", wanted.join(" and ")),
                        "unknown here",
                        suggest::help(&attr.name, wanted.iter().copied()),
                    ));
                }
            }
            for name in wanted {
                let Some(expr) = body.attribute(name) else {
                    diags.push(error(ident.span, format!("`{keyword}` needs `{name}`"), "here", None));
                    continue;
                };
                match address_of(expr) {
                    Some(address) => addresses.push((address, expr.span)),
                    None => diags.push(error(
                        expr.span,
                        format!("`{name}` must be a resource or module address"),
                        "not an address",
                        Some("write it as a reference: `vpc.main`, `subnet.s[0]`, `module.network`".into()),
                    )),
                }
            }
            if addresses.len() != wanted.len() {
                continue;
            }
            let (from, from_span) = addresses[0].clone();
            if is_declared(&from) {
                let what = if keyword == "moved" { "it moves from" } else { "it removes" };
                diags.push(error(
                    from_span,
                    format!("`{from}` is still declared, and `{keyword}` says {what} there"),
                    "still declared",
                    Some(format!("delete or rename the declaration of `{from}`")),
                ));
                continue;
            }
            if keyword == "removed" {
                out.push(Refactor::Removed { from, span: ident.span });
                continue;
            }
            let (to, to_span) = addresses[1].clone();
            if !is_declared(&to) {
                diags.push(error(
                    to_span,
                    format!("`{to}` is not declared: there is nothing to move `{from}` to"),
                    "not declared",
                    suggest::help(&to, declared.iter().map(String::as_str)),
                ));
                continue;
            }
            let type_of =
                |a: &str| (!a.starts_with("module.")).then(|| a.split('.').next().unwrap_or_default().to_string());
            if let (Some(a), Some(b)) = (type_of(&from), type_of(&to)) {
                if a != b {
                    diags.push(error(
                        to_span,
                        format!("`{from}` is a `{a}` and `{to}` a `{b}`: a move keeps the type"),
                        "another type",
                        Some("a resource of another type is made anew: delete the `moved` block".into()),
                    ));
                    continue;
                }
            }
            out.push(Refactor::Moved { from, to, span: ident.span });
        }
    }
    out
}
