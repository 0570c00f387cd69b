//! Expression evaluation. Names are resolved through a [`Scope`] that the
//! caller supplies (the engine knows what `vpc.main` or `input.zones` mean);
//! this module knows operators, collections, templates and functions.
//!
//! Unknown values (known only after apply) pass through every operation and
//! make its result unknown, so a configuration can be fully checked before
//! anything exists.
//!
//! Secrets (`Value::Sensitive`) pass through every operation too: whatever
//! is computed from a marked value is marked — a string built around it, a
//! function's result, an attribute or element taken from it, the branch a
//! secret condition chose. A list or map keeps its marks on the elements
//! that carry them.

mod cidr;
mod error;
#[cfg(test)]
mod function_tests;
mod functions;
mod ops;
#[cfg(test)]
mod sensitive_tests;
#[cfg(test)]
mod template_tests;

use std::collections::BTreeMap;

pub use cidr::{host as cidr_host, subnet as cidr_subnet};
pub use error::EvalError;
pub use functions::FUNCTIONS;

use crate::source::Span;
use crate::syntax::ast::{Expr, ExprKind, ForExpr, MapKey, Template, TemplatePart};
use crate::types::Type;
use crate::value::Value;

/// What names mean where an expression is evaluated.
pub trait Scope {
    /// The value of a root name, or `None` if the name means nothing here.
    fn lookup(&self, name: &str) -> Option<Value>;
    /// `root.member` without building all of `root` first: a scope with
    /// thousands of resources of one type answers `subnet.a` directly.
    /// `None` falls back to `lookup(root)` and attribute access.
    fn lookup_member(&self, root: &str, member: &str) -> Option<Value> {
        let _ = (root, member);
        None
    }
    /// Every name that resolves, for "did you mean".
    fn names(&self) -> Vec<String>;
    /// Contents of a file named by `file()` or `templatefile()`, relative
    /// to the module that calls it.
    fn read_file(&self, path: &str) -> Result<String, String>;
}

/// A scope where no name resolves and no file can be read: for values that
/// must be constants (input defaults, `--var` values, backend settings).
pub struct EmptyScope;

impl Scope for EmptyScope {
    fn lookup(&self, _: &str) -> Option<Value> {
        None
    }
    fn names(&self) -> Vec<String> {
        Vec::new()
    }
    fn read_file(&self, path: &str) -> Result<String, String> {
        Err(format!("cannot read {path} here: this value must be a constant"))
    }
}

/// A scope with a few extra names on top of another: `for` variables,
/// `count`, `each`, the variables of `templatefile`.
pub struct Layered<'a> {
    pub parent: &'a dyn Scope,
    pub vars: Vec<(String, Value)>,
}

impl Scope for Layered<'_> {
    fn lookup(&self, name: &str) -> Option<Value> {
        self.vars.iter().rev().find(|(n, _)| n == name).map(|(_, v)| v.clone()).or_else(|| self.parent.lookup(name))
    }

    fn lookup_member(&self, root: &str, member: &str) -> Option<Value> {
        if self.vars.iter().any(|(n, _)| n == root) {
            return None;
        }
        self.parent.lookup_member(root, member)
    }

    fn names(&self) -> Vec<String> {
        let mut names: Vec<String> = self.vars.iter().map(|(n, _)| n.clone()).collect();
        names.extend(self.parent.names());
        names
    }

    fn read_file(&self, path: &str) -> Result<String, String> {
        self.parent.read_file(path)
    }
}

/// Evaluate `expr` in `scope`.
pub fn eval(expr: &Expr, scope: &dyn Scope) -> Result<Value, EvalError> {
    let span = expr.span;
    match &expr.kind {
        ExprKind::Null => Ok(Value::Null),
        ExprKind::Bool(b) => Ok(Value::Bool(*b)),
        ExprKind::Number(n, _) => Ok(Value::Number(*n)),
        ExprKind::String(t) => template(t, scope),
        ExprKind::Heredoc(h) => template(&h.template, scope),
        ExprKind::Cidr(c) => Ok(Value::Cidr(*c)),
        ExprKind::Ip(ip) => Ok(Value::Ip(*ip)),
        ExprKind::PortRange(a, b) => Ok(Value::PortRange(*a, *b)),
        ExprKind::List { items, .. } => {
            items.iter().map(|e| eval(&e.value, scope)).collect::<Result<_, _>>().map(Value::List)
        }
        ExprKind::Map { entries, .. } => {
            let mut map = BTreeMap::new();
            let mut secret_key = false;
            for entry in entries {
                let (key, key_span) = match &entry.key {
                    MapKey::Ident(i) => (i.name.clone(), i.span),
                    MapKey::String(t, s) => {
                        let (key, secret) = template(t, scope)?.unmarked();
                        secret_key |= secret;
                        (key_text(&key, *s)?, *s)
                    }
                };
                if map.insert(key.clone(), eval(&entry.value, scope)?).is_some() {
                    return Err(EvalError::Index {
                        message: format!("the key `{key}` appears twice in this map"),
                        span: key_span.into(),
                        help: Some("keys of a map must be unique; remove one".into()),
                    });
                }
            }
            Ok(Value::Map(map).sensitive_if(secret_key))
        }
        ExprKind::For(f) => for_expr(f, scope),
        ExprKind::Variable(name) => scope.lookup(&name.name).ok_or_else(|| EvalError::UnknownName {
            name: name.name.clone(),
            span: name.span.into(),
            help: crate::suggest::help(&name.name, scope.names().iter().map(String::as_str)),
        }),
        ExprKind::GetAttr(base, name) => {
            if let ExprKind::Variable(root) = &base.kind {
                if let Some(v) = scope.lookup_member(&root.name, &name.name) {
                    return Ok(v);
                }
            }
            let (base_value, secret) = peel(eval(base, scope)?);
            let value = if is_splat_chain(base) {
                map_splat(base_value, |v| ops::get_attr(v.peeled(), &name.name, name.span))?
            } else {
                ops::get_attr(&base_value, &name.name, name.span)?
            };
            Ok(value.sensitive_if(secret))
        }
        ExprKind::Index(base, index) => {
            let (index_value, secret_index) = eval(index, scope)?.unmarked();
            let (base_value, secret) = peel(eval(base, scope)?);
            let value = if is_splat_chain(base) {
                map_splat(base_value, |v| ops::index(v.peeled(), &index_value, index.span))
            } else {
                ops::index(&base_value, &index_value, index.span)
            };
            let value = value.map_err(|e| match secret_index {
                // The message would quote the key.
                true => EvalError::mismatch("a sensitive index does not fit this value".to_string(), index.span),
                false => e,
            })?;
            Ok(value.sensitive_if(secret || secret_index))
        }
        ExprKind::Splat(base) => {
            let (base_value, secret) = peel(eval(base, scope)?);
            let value = match base_value {
                Value::List(items) => Value::List(items),
                Value::Map(items) => Value::List(items.into_values().collect()),
                Value::Null => Value::List(Vec::new()),
                Value::Unknown(_) => Value::Unknown(Type::list(Type::Any)),
                single => Value::List(vec![single]),
            };
            Ok(value.sensitive_if(secret))
        }
        ExprKind::Call { name, args, .. } => functions::call(name, args, span, scope),
        ExprKind::Unary(op, operand) => {
            let (value, secret) = eval(operand, scope)?.unmarked();
            ops::unary(*op, value, operand.span).map(|v| v.sensitive_if(secret))
        }
        ExprKind::Binary(op, lhs, rhs) => ops::binary(*op, lhs, rhs, scope),
        ExprKind::Conditional(cond, then, otherwise) => {
            // Which branch a secret chose tells something of the secret.
            let (chosen, secret) = eval(cond, scope)?.unmarked();
            let value = match chosen {
                Value::Bool(true) => eval(then, scope)?,
                Value::Bool(false) => eval(otherwise, scope)?,
                Value::Unknown(_) => Value::Unknown(Type::Any),
                other => {
                    return Err(EvalError::mismatch(
                        format!("a condition must be true or false, not {}", other.type_name()),
                        cond.span,
                    ))
                }
            };
            Ok(value.sensitive_if(secret))
        }
        ExprKind::Paren(inner) => eval(inner, scope),
    }
}

/// Whether `expr` is `x[*]` or a traversal of one (`x[*].a[0]`), whose
/// further steps apply to each element.
fn is_splat_chain(expr: &Expr) -> bool {
    match &expr.kind {
        ExprKind::Splat(_) => true,
        ExprKind::GetAttr(base, _) | ExprKind::Index(base, _) => is_splat_chain(base),
        _ => false,
    }
}

/// A value and whether it was marked as a whole (marks inside stay).
fn peel(value: Value) -> (Value, bool) {
    match value {
        Value::Sensitive(inner) => (*inner, true),
        other => (other, false),
    }
}

fn map_splat(list: Value, step: impl Fn(&Value) -> Result<Value, EvalError>) -> Result<Value, EvalError> {
    match list {
        Value::List(items) => items.iter().map(step).collect::<Result<_, _>>().map(Value::List),
        other => Ok(other), // unknown stays unknown
    }
}

fn key_text(value: &Value, span: Span) -> Result<String, EvalError> {
    value.to_template_text().map_err(|m| EvalError::mismatch(format!("a map key must be text: {}", m.0), span))
}

/// Evaluate a string or heredoc template.
pub fn template(t: &Template, scope: &dyn Scope) -> Result<Value, EvalError> {
    let mut rendered = Rendered::default();
    render(&t.parts, scope, &mut rendered)?;
    let value = if rendered.unknown { Value::Unknown(Type::String) } else { Value::String(rendered.text) };
    Ok(value.sensitive_if(rendered.secret))
}

/// A template's text so far; whether a part of it is not known yet, and
/// whether a secret went into it (its value, or what a directive decided).
#[derive(Default)]
struct Rendered {
    text: String,
    unknown: bool,
    secret: bool,
}

fn render(parts: &[TemplatePart], scope: &dyn Scope, out: &mut Rendered) -> Result<(), EvalError> {
    for part in parts {
        match part {
            TemplatePart::Literal(s) => out.text.push_str(s),
            TemplatePart::Interpolation(e) => {
                let (value, marked) = eval(e, scope)?.unmarked();
                out.secret |= marked;
                match value {
                    v if !v.is_known() && !matches!(v, Value::List(_) | Value::Map(_)) => out.unknown = true,
                    v => out.text.push_str(&v.to_template_text().map_err(|m| EvalError::mismatch(m.0, e.span))?),
                }
            }
            TemplatePart::For { key_var, value_var, collection, body } => {
                let (items, marked) = peel(eval(collection, scope)?);
                out.secret |= marked;
                let pairs: Vec<(Value, Value)> = match items {
                    Value::List(items) => {
                        items.into_iter().enumerate().map(|(i, v)| (Value::Number(i as f64), v)).collect()
                    }
                    Value::Map(items) => items.into_iter().map(|(k, v)| (Value::String(k), v)).collect(),
                    Value::Unknown(_) => {
                        out.unknown = true;
                        continue;
                    }
                    other => {
                        return Err(EvalError::mismatch(
                            format!("`%{{ for }}` needs a list or a map, not {}", other.type_name()),
                            collection.span,
                        ))
                    }
                };
                for (key, value) in pairs {
                    let mut vars = vec![(value_var.name.clone(), value)];
                    if let Some(k) = key_var {
                        vars.push((k.name.clone(), key));
                    }
                    render(body, &Layered { parent: scope, vars }, out)?;
                }
            }
            TemplatePart::If { condition, then, otherwise } => {
                let (decided, marked) = eval(condition, scope)?.unmarked();
                out.secret |= marked;
                match decided {
                    Value::Bool(true) => render(then, scope, out)?,
                    Value::Bool(false) => render(otherwise, scope, out)?,
                    Value::Unknown(_) => out.unknown = true,
                    other => {
                        return Err(EvalError::mismatch(
                            format!("`%{{ if }}` needs a bool, not {}", other.type_name()),
                            condition.span,
                        ))
                    }
                }
            }
        }
    }
    Ok(())
}

/// A `for` expression: marked as a whole if its collection was, or if a
/// secret decided which elements or keys it has.
fn for_expr(f: &ForExpr, scope: &dyn Scope) -> Result<Value, EvalError> {
    let mut secret = false;
    let value = for_elements(f, scope, &mut secret)?;
    Ok(value.sensitive_if(secret))
}

fn for_elements(f: &ForExpr, scope: &dyn Scope, secret: &mut bool) -> Result<Value, EvalError> {
    let (collection, marked) = peel(eval(&f.collection, scope)?);
    *secret |= marked;
    let pairs: Vec<(Value, Value)> = match collection {
        Value::List(items) => items.into_iter().enumerate().map(|(i, v)| (Value::Number(i as f64), v)).collect(),
        Value::Map(items) => items.into_iter().map(|(k, v)| (Value::String(k), v)).collect(),
        Value::Unknown(_) => {
            let ty = if f.key.is_some() { Type::map(Type::Any) } else { Type::list(Type::Any) };
            return Ok(Value::Unknown(ty));
        }
        other => {
            return Err(EvalError::mismatch(
                format!("`for` needs a list or a map, not {}", other.type_name()),
                f.collection.span,
            ))
        }
    };
    let mut list = Vec::new();
    let mut map = BTreeMap::new();
    for (key, value) in pairs {
        let mut vars = vec![(f.value_var.name.clone(), value)];
        if let Some(k) = &f.key_var {
            vars.push((k.name.clone(), key));
        }
        let inner = Layered { parent: scope, vars };
        if let Some(cond) = &f.condition {
            let (keep, marked) = eval(cond, &inner)?.unmarked();
            *secret |= marked;
            match keep {
                Value::Bool(true) => {}
                Value::Bool(false) => continue,
                Value::Unknown(_) => return Ok(Value::Unknown(Type::Any)),
                other => {
                    return Err(EvalError::mismatch(
                        format!("a `for` condition must be true or false, not {}", other.type_name()),
                        cond.span,
                    ))
                }
            }
        }
        let value = eval(&f.value, &inner)?;
        match &f.key {
            None => list.push(value),
            Some(key_expr) => {
                let (key, marked) = eval(key_expr, &inner)?.unmarked();
                *secret |= marked;
                let key = match key {
                    Value::Unknown(_) => return Ok(Value::Unknown(Type::map(Type::Any))),
                    k => key_text(&k, key_expr.span)?,
                };
                if map.insert(key.clone(), value).is_some() {
                    return Err(EvalError::Index {
                        message: format!("the key `{key}` appears twice in this map"),
                        span: key_expr.span.into(),
                        help: Some("keys of a `for` map must be unique".into()),
                    });
                }
            }
        }
    }
    Ok(if f.key.is_some() { Value::Map(map) } else { Value::List(list) })
}
