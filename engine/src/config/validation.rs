//! An input's `validation { condition = EXPR, message = "…" }` blocks:
//! rules its value must follow, checked where the value is given (a
//! `--var`, a vars file, a module call, the default). The condition sees
//! `input.NAME` (this input only) and functions; a condition that is
//! still unknown (`validate` with no value) passes.

use k8sinfra_lang::eval::{eval, EmptyScope, Layered};
use k8sinfra_lang::syntax::ast::Block;
use k8sinfra_lang::{Diag, Diagnostics, Span, Value};

use super::CheckError;

/// What an input's body takes, for the help of anything else.
const BODY: &str = "an input block takes `description` and `validation { condition, message }` blocks; set the \
                    default with `= value` after the type";

/// The shape of an input's body: `description`, and `validation` blocks
/// of `condition` and `message`; anything else is reported.
pub fn check_body(name: &str, body: &Block, diags: &mut Diagnostics) {
    let unknown = |what: &k8sinfra_lang::syntax::ast::Ident, diags: &mut Diagnostics| {
        diags.push(Diag::new(
            what.span.file,
            CheckError::UnknownAttribute {
                resource: format!("input {name}"),
                name: what.name.clone(),
                span: what.span.into(),
                help: Some(BODY.into()),
            },
        ));
    };
    for (attr, _) in body.attributes().filter(|(a, _)| a.name != "description") {
        unknown(attr, diags);
    }
    for (kind, block) in body.blocks() {
        if kind.name != "validation" {
            unknown(kind, diags);
            continue;
        }
        for (attr, _) in block.attributes().filter(|(a, _)| a.name != "condition" && a.name != "message") {
            diags.push(Diag::new(
                attr.span.file,
                CheckError::UnknownAttribute {
                    resource: format!("validation of input {name}"),
                    name: attr.name.clone(),
                    span: attr.span.into(),
                    help: Some("a validation takes `condition` and `message`".into()),
                },
            ));
        }
        if block.attribute("condition").is_none() || block.attribute("message").is_none() {
            diags.push(Diag::new(
                kind.span.file,
                CheckError::InvalidMeta {
                    message: "a validation needs a `condition` and a `message`".into(),
                    span: kind.span.into(),
                    label: "here".into(),
                    help: Some(
                        "validation { condition = length(input.name) > 0, message = \"a name is needed\" }".into(),
                    ),
                },
            ));
        }
    }
}

/// Whether `value`, given at `given`, passes every validation of input
/// `name`; each one it fails is reported, and so is a condition that is
/// no bool (once, as that). A secret value is never quoted: a message made from it is
/// replaced.
pub fn holds(name: &str, value: &Value, body: &Block, given: Span, diags: &mut Diagnostics) -> bool {
    let scope = Layered {
        parent: &EmptyScope,
        vars: vec![("input".to_string(), Value::Map([(name.to_string(), value.clone())].into()))],
    };
    let mut ok = true;
    for (_, block) in body.blocks().filter(|(kind, _)| kind.name == "validation") {
        let (Some(condition), Some(message)) = (block.attribute("condition"), block.attribute("message")) else {
            continue;
        };
        let passed = match eval(condition, &scope).map(|v| v.unmarked().0) {
            Ok(Value::Bool(passed)) => passed,
            Ok(Value::Unknown(_)) => true,
            Ok(other) => {
                diags.push(Diag::new(
                    condition.span.file,
                    CheckError::InvalidMeta {
                        message: format!("a validation's condition must be a bool, not {}", other.type_name()),
                        span: condition.span.into(),
                        label: "here".into(),
                        help: Some("compare the value: `input.port > 1024`".into()),
                    },
                ));
                ok = false;
                continue;
            }
            Err(error) => {
                diags.push(Diag::new(condition.span.file, error));
                ok = false;
                continue;
            }
        };
        if passed {
            continue;
        }
        ok = false;
        let said = match eval(message, &scope) {
            Ok(Value::String(text)) => text,
            Ok(v) if v.is_sensitive() => "(the message is derived from a sensitive value)".into(),
            Ok(other) => other.to_string(),
            Err(error) => error.to_string(),
        };
        let shown = (!value.is_sensitive()).then(|| format!("the value given is {value}"));
        diags.push(Diag::new(
            given.file,
            CheckError::InvalidInput { name: name.into(), message: said, span: given.into(), help: shown },
        ));
    }
    ok
}
