//! The `backend` block: where state is kept. Only its settings are checked
//! here; the backends themselves live with the state code.

use std::collections::BTreeMap;

use k8sinfra_lang::eval::{eval, EmptyScope};
use k8sinfra_lang::syntax::ast::{Block, Ident};
use k8sinfra_lang::{suggest, Diag, Diagnostics, Type, Value};

use super::errors::CheckError;

#[derive(Debug, Clone, PartialEq, Eq, Default)]
pub enum Backend {
    /// `.k8sinfra/state.json` beside the configuration, or the given path.
    #[default]
    LocalDefault,
    Local {
        path: String,
    },
    S3 {
        bucket: String,
        key: String,
        region: Option<String>,
    },
}

/// The settings each backend kind accepts: (name, required).
const SETTINGS: &[(&str, &[(&str, bool)])] =
    &[("local", &[("path", true)]), ("s3", &[("bucket", true), ("key", true), ("region", false)])];

pub fn check(kind: &Ident, body: &Block, diags: &mut Diagnostics) -> Option<Backend> {
    let Some((_, allowed)) = SETTINGS.iter().find(|(k, _)| *k == kind.name) else {
        diags.push(Diag::new(
            kind.span.file,
            CheckError::UnknownBackend { name: kind.name.clone(), span: kind.span.into() },
        ));
        return None;
    };
    let mut values: BTreeMap<String, String> = BTreeMap::new();
    let mut ok = true;
    for (name, expr) in body.attributes() {
        if !allowed.iter().any(|(n, _)| *n == name.name) {
            diags.push(Diag::new(
                name.span.file,
                CheckError::UnknownAttribute {
                    resource: format!("backend {}", kind.name),
                    name: name.name.clone(),
                    span: name.span.into(),
                    help: suggest::help(&name.name, allowed.iter().map(|(n, _)| *n)),
                },
            ));
            ok = false;
            continue;
        }
        match eval(expr, &EmptyScope).map(|v| v.convert(&Type::String)) {
            Ok(Ok(Value::String(s))) => {
                values.insert(name.name.clone(), s);
            }
            Ok(_) => {
                diags.push(Diag::new(
                    expr.span.file,
                    CheckError::TypeMismatch {
                        name: name.name.clone(),
                        message: "expected a string".into(),
                        span: expr.span.into(),
                        expected: "a string".into(),
                        help: None,
                    },
                ));
                ok = false;
            }
            Err(_) => {
                diags.push(Diag::new(expr.span.file, CheckError::BackendNotStatic { span: expr.span.into() }));
                ok = false;
            }
        }
    }
    for (name, required) in *allowed {
        if *required && !values.contains_key(*name) && ok {
            diags.push(Diag::new(
                kind.span.file,
                CheckError::MissingAttribute {
                    resource: format!("backend {}", kind.name),
                    what: format!("the setting `{name}`"),
                    span: kind.span.into(),
                    help: Some(format!("add `{name} = \"…\"`")),
                },
            ));
            ok = false;
        }
    }
    if !ok {
        return None;
    }
    let get = |k: &str| values.get(k).cloned().unwrap_or_default();
    Some(match kind.name.as_str() {
        "local" => Backend::Local { path: get("path") },
        _ => Backend::S3 { bucket: get("bucket"), key: get("key"), region: values.get("region").cloned() },
    })
}
