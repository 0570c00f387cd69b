//! The `backend` block: where state is kept. Only its settings are checked
//! here; the backends themselves live with the state code.

use std::collections::BTreeMap;

use k8sinfra_lang::eval::{eval, Scope};
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

/// Where a backend's settings are evaluated: literals, and `env.name`.
struct EnvScope<'a>(&'a str);

impl Scope for EnvScope<'_> {
    fn lookup(&self, name: &str) -> Option<Value> {
        (name == super::refs::ENV).then(|| super::scope::environment_value(self.0))
    }

    fn names(&self) -> Vec<String> {
        vec![super::refs::ENV.into()]
    }

    fn read_file(&self, _path: &str) -> Result<String, String> {
        Err("a backend's settings cannot read files".into())
    }
}

/// What `env.name` stands for in a backend pattern (`env list`).
pub const ENV_MARK: &str = "{env}";

/// Where the state is kept when the configuration names no backend:
/// `.k8sinfra/state.json`, or per environment `.k8sinfra/env/NAME/state.json`.
#[must_use]
pub fn local_default(environment: Option<&str>) -> Backend {
    match environment {
        None => Backend::LocalDefault,
        Some(name) => Backend::Local { path: format!(".k8sinfra/env/{name}/state.json") },
    }
}

/// The backend's state location with `env.name` left as `{env}`: the
/// path or key every environment's state follows, for `env list`. `None`
/// for a location that does not vary by environment.
#[must_use]
pub fn pattern(kind: &Ident, body: &Block) -> Option<String> {
    let setting = if kind.name == "local" { "path" } else { "key" };
    let expr = body.attribute(setting)?;
    let value = eval(expr, &EnvScope(ENV_MARK)).ok()?;
    value.as_str().filter(|s| s.contains(ENV_MARK)).map(str::to_string)
}

/// The backend block's settings, `env.name` in them standing for
/// `environment` (or `default`). With an environment named, the state's
/// location must vary with it, or every environment would share one state.
pub fn check(kind: &Ident, body: &Block, environment: Option<&str>, diags: &mut Diagnostics) -> Option<Backend> {
    let backend = settings(kind, body, environment, diags)?;
    if let Some(name) = environment {
        if pattern(kind, body).is_none() {
            let setting = if kind.name == "local" { "path" } else { "key" };
            diags.push(Diag::new(
                kind.span.file,
                CheckError::BackendSharedByEnvironments {
                    environment: name.to_string(),
                    span: kind.span.into(),
                    help: format!(
                        "put the environment in the state's place: `{setting} = \"…/${{env.name}}/state.json\"`"
                    ),
                },
            ));
            return None;
        }
    }
    Some(backend)
}

/// A backend's settings, checked and evaluated (`env.name` standing for
/// `environment`): where a state is, for the backend block and for a
/// `stack`.
pub fn settings(kind: &Ident, body: &Block, environment: Option<&str>, diags: &mut Diagnostics) -> Option<Backend> {
    let scope = EnvScope(environment.unwrap_or("default"));
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
        match eval(expr, &scope).map(|v| v.convert(&Type::String)) {
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
