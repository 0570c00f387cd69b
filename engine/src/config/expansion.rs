//! `count` and `for_each`: how many instances a declaration (a resource or
//! a module call) expands to, with the names each instance sees
//! (`count.index`, `each.key`, `each.value`), and the value a reference to
//! all of them gives. Unknown counts and keys are refused, unless what made
//! them unknown was reported already.

use std::collections::BTreeSet;

use k8sinfra_lang::eval::{eval, Scope};
use k8sinfra_lang::syntax::ast::{Block, Expr};
use k8sinfra_lang::{Diag, Diagnostics, Span, Value};

use super::errors::CheckError;
use crate::addr::InstanceKey;

/// Names an instance sees besides its module's (`count`, `each`).
pub type Locals = Vec<(String, Value)>;

/// The instances one `count` or `for_each` expands to.
pub enum Expansion {
    Single,
    Count(usize),
    ForEach(Vec<(String, Value)>),
}

impl Expansion {
    /// Instance keys with the names each instance sees (`count.index`, `each.key`).
    pub fn instances(&self) -> Vec<(Option<InstanceKey>, Locals)> {
        match self {
            Expansion::Single => vec![(None, Vec::new())],
            Expansion::Count(n) => (0..*n)
                .map(|i| {
                    let count = Value::Map([("index".to_string(), Value::Number(i as f64))].into());
                    (Some(InstanceKey::Index(i)), vec![("count".to_string(), count)])
                })
                .collect(),
            Expansion::ForEach(entries) => entries
                .iter()
                .map(|(k, v)| {
                    let each = Value::Map(
                        [("key".to_string(), Value::String(k.clone())), ("value".to_string(), v.clone())].into(),
                    );
                    (Some(InstanceKey::Key(k.clone())), vec![("each".to_string(), each)])
                })
                .collect(),
        }
    }

    /// The value a reference to all instances sees.
    pub fn collect(&self, mut values: Vec<Value>) -> Value {
        match self {
            Expansion::Single => values.pop().unwrap_or(Value::Null),
            Expansion::Count(_) => Value::List(values),
            Expansion::ForEach(entries) => Value::Map(entries.iter().map(|(k, _)| k.clone()).zip(values).collect()),
        }
    }
}

/// `count`/`for_each` of a declaration; `None` when they cannot be
/// expanded (reported, unless `quiet`: unknown for a reason already
/// reported).
pub fn expand(
    body: &Block,
    scope: &dyn Scope,
    bad: &BTreeSet<Span>,
    quiet: bool,
    diags: &mut Diagnostics,
) -> Option<Expansion> {
    let count = body.attribute("count");
    let for_each = body.attribute("for_each");
    if count.into_iter().chain(for_each).any(|e| bad.contains(&e.span)) {
        return None;
    }
    if let (Some(_), Some(f)) = (count, for_each) {
        diags.push(Diag::new(
            f.span.file,
            CheckError::InvalidMeta {
                message: "`count` and `for_each` cannot be used together".into(),
                span: f.span.into(),
                label: "second expansion".into(),
                help: Some("keep one of them".into()),
            },
        ));
        return None;
    }
    let meta_error = |diags: &mut Diagnostics, e: &Expr, message: String, help: &str| {
        diags.push(Diag::new(
            e.span.file,
            CheckError::InvalidMeta { message, span: e.span.into(), label: "here".into(), help: Some(help.into()) },
        ));
    };
    if let Some(e) = count {
        // A count shows in no address as itself: a secret one is fine.
        return match eval(e, scope).map(|v| v.unmarked().0) {
            Ok(Value::Number(n)) if n.fract() == 0.0 && (0.0..=100_000.0).contains(&n) =>
            {
                #[allow(clippy::cast_possible_truncation, clippy::cast_sign_loss)]
                Some(Expansion::Count(n as usize))
            }
            Ok(Value::Unknown(_)) if quiet => None,
            Ok(Value::Unknown(_)) => {
                meta_error(
                    diags,
                    e,
                    "`count` must be known before apply".into(),
                    "count cannot depend on values the cloud has not chosen yet, such as ids",
                );
                None
            }
            Ok(other) => {
                meta_error(
                    diags,
                    e,
                    format!("`count` must be a whole number from 0 to 100000, not {other}"),
                    "for example `count = 2` or `count = length(input.zones)`",
                );
                None
            }
            Err(err) => {
                diags.push(Diag::new(e.span.file, err));
                None
            }
        };
    }
    if let Some(e) = for_each {
        let evaluated = eval(e, scope);
        if evaluated.as_ref().is_ok_and(Value::is_sensitive) {
            diags.push(Diag::new(e.span.file, CheckError::SensitiveForEach { span: e.span.into() }));
            return None;
        }
        return match evaluated {
            Ok(Value::Map(m)) => Some(Expansion::ForEach(m.into_iter().collect())),
            Ok(Value::List(items)) => {
                let mut entries = Vec::new();
                for item in items {
                    match item {
                        Value::String(s) => {
                            if entries.iter().any(|(k, _): &(String, Value)| k == &s) {
                                meta_error(diags, e, format!("`for_each` has \"{s}\" twice"), "keys must be unique");
                                return None;
                            }
                            entries.push((s.clone(), Value::String(s)));
                        }
                        Value::Unknown(_) if quiet => return None,
                        Value::Unknown(_) => {
                            meta_error(
                                diags,
                                e,
                                "`for_each` must be known before apply".into(),
                                "its keys cannot depend on values the cloud has not chosen yet",
                            );
                            return None;
                        }
                        other => {
                            meta_error(
                                diags,
                                e,
                                format!("`for_each` over a list needs strings, found {}", other.type_name()),
                                "use a map to give each instance a key",
                            );
                            return None;
                        }
                    }
                }
                entries.sort_by(|a, b| a.0.cmp(&b.0));
                Some(Expansion::ForEach(entries))
            }
            Ok(Value::Unknown(_)) if quiet => None,
            Ok(Value::Unknown(_)) => {
                meta_error(
                    diags,
                    e,
                    "`for_each` must be known before apply".into(),
                    "its keys cannot depend on values the cloud has not chosen yet",
                );
                None
            }
            Ok(other) => {
                meta_error(
                    diags,
                    e,
                    format!("`for_each` needs a map or a list of strings, not {}", other.type_name()),
                    "for example `for_each = input.zones`",
                );
                None
            }
            Err(err) => {
                diags.push(Diag::new(e.span.file, err));
                None
            }
        };
    }
    Some(Expansion::Single)
}
