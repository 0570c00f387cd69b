//! Operators, attribute access and indexing on values.

use crate::source::Span;
use crate::syntax::ast::{BinaryOp, Expr, UnaryOp};
use crate::types::Type;
use crate::value::{format_number, Value};

use super::{eval, EvalError, Scope};

pub fn unary(op: UnaryOp, value: Value, span: Span) -> Result<Value, EvalError> {
    match (op, value) {
        (_, Value::Unknown(t)) => Ok(Value::Unknown(t)),
        (UnaryOp::Neg, Value::Number(n)) => Ok(Value::Number(-n)),
        (UnaryOp::Not, Value::Bool(b)) => Ok(Value::Bool(!b)),
        (UnaryOp::Neg, other) => Err(EvalError::mismatch(format!("cannot negate {}", other.type_name()), span)),
        (UnaryOp::Not, other) => Err(EvalError::mismatch(format!("`!` needs a bool, not {}", other.type_name()), span)),
    }
}

/// A binary operation; its result is secret if either operand was.
pub fn binary(op: BinaryOp, lhs: &Expr, rhs: &Expr, scope: &dyn Scope) -> Result<Value, EvalError> {
    let (left, secret_left) = eval(lhs, scope)?.unmarked();
    // `&&` and `||` stop early, so `x != null && x.y` is safe.
    match (op, &left) {
        (BinaryOp::And, Value::Bool(false)) => return Ok(Value::Bool(false).sensitive_if(secret_left)),
        (BinaryOp::Or, Value::Bool(true)) => return Ok(Value::Bool(true).sensitive_if(secret_left)),
        _ => {}
    }
    let (right, secret_right) = eval(rhs, scope)?.unmarked();
    combine(op, &left, &right, lhs, rhs).map(|v| v.sensitive_if(secret_left || secret_right))
}

fn combine(op: BinaryOp, left: &Value, right: &Value, lhs: &Expr, rhs: &Expr) -> Result<Value, EvalError> {
    let span = lhs.span.to(rhs.span);
    match op {
        BinaryOp::Eq | BinaryOp::Ne => {
            if !left.is_known() || !right.is_known() {
                return Ok(Value::Unknown(Type::Bool));
            }
            let same = left == right || loosely_equal(left, right);
            Ok(Value::Bool(if op == BinaryOp::Eq { same } else { !same }))
        }
        BinaryOp::And | BinaryOp::Or => {
            let l = bool_operand(left, op, lhs.span)?;
            let r = bool_operand(right, op, rhs.span)?;
            Ok(match (l, r) {
                (Some(l), Some(r)) => Value::Bool(if op == BinaryOp::And { l && r } else { l || r }),
                _ => Value::Unknown(Type::Bool),
            })
        }
        _ => {
            let l = number_operand(left, op, lhs.span)?;
            let r = number_operand(right, op, rhs.span)?;
            let (Some(l), Some(r)) = (l, r) else {
                let ty = if matches!(op, BinaryOp::Lt | BinaryOp::Le | BinaryOp::Gt | BinaryOp::Ge) {
                    Type::Bool
                } else {
                    Type::Number
                };
                return Ok(Value::Unknown(ty));
            };
            Ok(match op {
                BinaryOp::Add => Value::Number(l + r),
                BinaryOp::Sub => Value::Number(l - r),
                BinaryOp::Mul => Value::Number(l * r),
                BinaryOp::Div | BinaryOp::Rem if r == 0.0 => {
                    return Err(EvalError::DivisionByZero { span: rhs.span.into() })
                }
                BinaryOp::Div => Value::Number(l / r),
                BinaryOp::Rem => Value::Number(l % r),
                BinaryOp::Lt => Value::Bool(l < r),
                BinaryOp::Le => Value::Bool(l <= r),
                BinaryOp::Gt => Value::Bool(l > r),
                BinaryOp::Ge => Value::Bool(l >= r),
                _ => unreachable_op(span),
            })
        }
    }
}

#[allow(clippy::panic)]
fn unreachable_op(span: Span) -> ! {
    panic!("operator handled above ({span:?})")
}

/// `"22" == 22` and `10.0.0.0/16 == "10.0.0.0/16"` are equal: the text is.
fn loosely_equal(a: &Value, b: &Value) -> bool {
    match (a, b) {
        (Value::String(s), other @ (Value::Number(_) | Value::Cidr(_) | Value::Ip(_)))
        | (other @ (Value::Number(_) | Value::Cidr(_) | Value::Ip(_)), Value::String(s)) => *s == other.to_string(),
        _ => false,
    }
}

fn bool_operand(v: &Value, op: BinaryOp, span: Span) -> Result<Option<bool>, EvalError> {
    match v {
        Value::Bool(b) => Ok(Some(*b)),
        Value::Unknown(_) => Ok(None),
        other => Err(EvalError::mismatch(format!("`{}` needs bools, not {}", op.symbol(), other.type_name()), span)),
    }
}

fn number_operand(v: &Value, op: BinaryOp, span: Span) -> Result<Option<f64>, EvalError> {
    match v {
        Value::Number(n) => Ok(Some(*n)),
        Value::Unknown(_) => Ok(None),
        Value::String(_) if op == BinaryOp::Add => Err(EvalError::TypeMismatch {
            message: "`+` adds numbers, not strings".into(),
            span: span.into(),
            label: "a string".into(),
            help: Some("join text with interpolation: \"${a}${b}\"".into()),
        }),
        other => Err(EvalError::mismatch(format!("`{}` needs numbers, not {}", op.symbol(), other.type_name()), span)),
    }
}

/// `value.name`. An attribute a resource keeps secret comes out marked.
pub fn get_attr(value: &Value, name: &str, span: Span) -> Result<Value, EvalError> {
    let (map, on) = match value {
        Value::Map(m) => (m, "this map".to_string()),
        Value::Resource(r) => (&*r.attrs, format!("`{}`", r.address)),
        Value::Unknown(_) => return Ok(Value::Unknown(Type::Any)),
        other => {
            return Err(EvalError::mismatch(
                format!("{} has no attributes (asked for `.{name}`)", other.type_name()),
                span,
            ))
        }
    };
    let found = map.get(name).cloned().ok_or_else(|| EvalError::NoAttribute {
        on,
        name: name.into(),
        span: span.into(),
        help: crate::suggest::help(name, map.keys().map(String::as_str)).or_else(|| {
            let keys: Vec<&str> = map.keys().map(String::as_str).take(12).collect();
            (!keys.is_empty()).then(|| format!("it has: {}", keys.join(", ")))
        }),
    })?;
    let secret = matches!(value, Value::Resource(r) if r.sensitive.contains(name));
    Ok(found.sensitive_if(secret))
}

pub fn index(value: &Value, index: &Value, span: Span) -> Result<Value, EvalError> {
    match (value, index) {
        (Value::Unknown(_), _) | (_, Value::Unknown(_)) => Ok(Value::Unknown(Type::Any)),
        (Value::List(items), Value::Number(n)) => {
            if n.fract() != 0.0 || *n < 0.0 || *n >= items.len() as f64 {
                return Err(EvalError::Index {
                    message: format!("index {} is out of range", format_number(*n)),
                    span: span.into(),
                    help: Some(match items.len() {
                        0 => "the list is empty".into(),
                        len => format!("the list has {len} elements, numbered 0 to {}", len - 1),
                    }),
                });
            }
            #[allow(clippy::cast_possible_truncation, clippy::cast_sign_loss)]
            Ok(items[*n as usize].clone())
        }
        (Value::Map(map), key) => {
            let key = key.to_template_text().map_err(|m| EvalError::mismatch(m.0, span))?;
            map.get(&key).cloned().ok_or_else(|| EvalError::Index {
                message: format!("no key \"{key}\" in this map"),
                span: span.into(),
                help: crate::suggest::help(&key, map.keys().map(String::as_str))
                    .or_else(|| Some(format!("keys: {}", map.keys().take(12).cloned().collect::<Vec<_>>().join(", ")))),
            })
        }
        (Value::List(_), other) => {
            Err(EvalError::mismatch(format!("a list is indexed by a number, not {}", other.type_name()), span))
        }
        (other, _) => Err(EvalError::mismatch(format!("cannot index {}", other.type_name()), span)),
    }
}
