//! Built-in functions. Each has a fixed arity and result type; when an
//! argument is not known yet the result is unknown of that type.

use std::collections::BTreeMap;

use base64::Engine as _;
use ipnet::{IpNet, Ipv4Net};

use crate::source::Span;
use crate::syntax::ast::{Expr, Ident};
use crate::types::Type;
use crate::value::{format_number, Value};

use super::{cidr, eval, template, EvalError, Layered, Scope};

type Impl = fn(&Call<'_>) -> Result<Value, String>;

struct Function {
    name: &'static str,
    min: usize,
    /// `usize::MAX` for any number.
    max: usize,
    returns: Type,
    /// Whether every argument must be known (not only the top level).
    deep_known: bool,
    run: Impl,
}

/// Every built-in function name, for documentation and suggestions.
pub static FUNCTIONS: &[&str] = &[
    "abs",
    "base64decode",
    "base64encode",
    "can",
    "cidrhost",
    "cidrnetmask",
    "cidrsubnet",
    "cidrsubnets",
    "coalesce",
    "concat",
    "contains",
    "distinct",
    "element",
    "file",
    "flatten",
    "format",
    "join",
    "jsondecode",
    "jsonencode",
    "keys",
    "length",
    "lookup",
    "lower",
    "max",
    "merge",
    "min",
    "range",
    "regex",
    "replace",
    "sha256",
    "sort",
    "split",
    "templatefile",
    "tonumber",
    "toset",
    "tostring",
    "trimspace",
    "try",
    "upper",
    "values",
    "yamldecode",
    "yamlencode",
    "zipmap",
];

const ANY: usize = usize::MAX;

static TABLE: std::sync::LazyLock<Vec<Function>> = std::sync::LazyLock::new(|| {
    vec![
        Function { name: "abs", min: 1, max: 1, returns: Type::Number, deep_known: true, run: abs },
        Function { name: "base64decode", min: 1, max: 1, returns: Type::String, deep_known: true, run: base64decode },
        Function { name: "base64encode", min: 1, max: 1, returns: Type::String, deep_known: true, run: base64encode },
        Function { name: "cidrhost", min: 2, max: 2, returns: Type::Ip, deep_known: true, run: cidrhost },
        Function { name: "cidrnetmask", min: 1, max: 1, returns: Type::String, deep_known: true, run: cidrnetmask },
        Function { name: "cidrsubnet", min: 3, max: 3, returns: Type::Cidr, deep_known: true, run: cidrsubnet },
        Function {
            name: "cidrsubnets",
            min: 1,
            max: ANY,
            returns: Type::List(Box::new(Type::Cidr)),
            deep_known: true,
            run: cidrsubnets,
        },
        Function { name: "jsondecode", min: 1, max: 1, returns: Type::Any, deep_known: true, run: jsondecode },
        Function { name: "regex", min: 2, max: 2, returns: Type::Any, deep_known: true, run: regex },
        Function { name: "sha256", min: 1, max: 1, returns: Type::String, deep_known: true, run: sha256 },
        Function {
            name: "sort",
            min: 1,
            max: 1,
            returns: Type::List(Box::new(Type::String)),
            deep_known: true,
            run: sort,
        },
        Function {
            name: "toset",
            min: 1,
            max: 1,
            returns: Type::List(Box::new(Type::Any)),
            deep_known: true,
            run: toset,
        },
        Function { name: "coalesce", min: 1, max: ANY, returns: Type::Any, deep_known: false, run: coalesce },
        Function {
            name: "concat",
            min: 0,
            max: ANY,
            returns: Type::List(Box::new(Type::Any)),
            deep_known: false,
            run: concat,
        },
        Function { name: "contains", min: 2, max: 2, returns: Type::Bool, deep_known: true, run: contains },
        Function {
            name: "distinct",
            min: 1,
            max: 1,
            returns: Type::List(Box::new(Type::Any)),
            deep_known: true,
            run: distinct,
        },
        Function { name: "element", min: 2, max: 2, returns: Type::Any, deep_known: false, run: element },
        Function { name: "file", min: 1, max: 1, returns: Type::String, deep_known: true, run: file },
        Function {
            name: "flatten",
            min: 1,
            max: 1,
            returns: Type::List(Box::new(Type::Any)),
            deep_known: false,
            run: flatten,
        },
        Function { name: "format", min: 1, max: ANY, returns: Type::String, deep_known: true, run: format },
        Function { name: "join", min: 2, max: 2, returns: Type::String, deep_known: true, run: join },
        Function { name: "jsonencode", min: 1, max: 1, returns: Type::String, deep_known: true, run: jsonencode },
        Function { name: "yamldecode", min: 1, max: 1, returns: Type::Any, deep_known: true, run: yamldecode },
        Function { name: "yamlencode", min: 1, max: 1, returns: Type::String, deep_known: true, run: yamlencode },
        Function {
            name: "keys",
            min: 1,
            max: 1,
            returns: Type::List(Box::new(Type::String)),
            deep_known: false,
            run: keys,
        },
        Function { name: "length", min: 1, max: 1, returns: Type::Number, deep_known: false, run: length },
        Function { name: "lookup", min: 2, max: 3, returns: Type::Any, deep_known: false, run: lookup },
        Function { name: "lower", min: 1, max: 1, returns: Type::String, deep_known: true, run: lower },
        Function { name: "max", min: 1, max: ANY, returns: Type::Number, deep_known: true, run: max },
        Function {
            name: "merge",
            min: 0,
            max: ANY,
            returns: Type::Map(Box::new(Type::Any)),
            deep_known: false,
            run: merge,
        },
        Function { name: "min", min: 1, max: ANY, returns: Type::Number, deep_known: true, run: min },
        Function {
            name: "range",
            min: 1,
            max: 3,
            returns: Type::List(Box::new(Type::Number)),
            deep_known: true,
            run: range,
        },
        Function { name: "replace", min: 3, max: 3, returns: Type::String, deep_known: true, run: replace },
        Function {
            name: "split",
            min: 2,
            max: 2,
            returns: Type::List(Box::new(Type::String)),
            deep_known: true,
            run: split,
        },
        Function { name: "templatefile", min: 2, max: 2, returns: Type::String, deep_known: false, run: templatefile },
        Function { name: "tonumber", min: 1, max: 1, returns: Type::Number, deep_known: true, run: tonumber },
        Function { name: "tostring", min: 1, max: 1, returns: Type::String, deep_known: true, run: tostring },
        Function { name: "trimspace", min: 1, max: 1, returns: Type::String, deep_known: true, run: trimspace },
        Function { name: "upper", min: 1, max: 1, returns: Type::String, deep_known: true, run: upper },
        Function {
            name: "values",
            min: 1,
            max: 1,
            returns: Type::List(Box::new(Type::Any)),
            deep_known: false,
            run: values,
        },
        Function {
            name: "zipmap",
            min: 2,
            max: 2,
            returns: Type::Map(Box::new(Type::Any)),
            deep_known: true,
            run: zipmap,
        },
    ]
});

/// Arguments of one call, with what a function needs to report errors.
struct Call<'a> {
    args: Vec<Value>,
    scope: &'a dyn Scope,
    /// Index of the argument an error is about, set by the accessors.
    blame: std::cell::Cell<Option<usize>>,
}

impl Call<'_> {
    fn arg(&self, i: usize) -> &Value {
        self.blame.set(Some(i));
        &self.args[i]
    }

    fn string(&self, i: usize) -> Result<String, String> {
        match self.arg(i) {
            Value::String(s) => Ok(s.clone()),
            v @ (Value::Number(_) | Value::Bool(_) | Value::Cidr(_) | Value::Ip(_)) => {
                Ok(v.to_template_text().unwrap_or_default())
            }
            other => Err(format!("argument {} must be a string, not {}", i + 1, other.type_name())),
        }
    }

    fn number(&self, i: usize) -> Result<f64, String> {
        match self.arg(i) {
            Value::Number(n) => Ok(*n),
            Value::String(s) => s.parse().map_err(|_| format!("argument {} must be a number, not \"{s}\"", i + 1)),
            other => Err(format!("argument {} must be a number, not {}", i + 1, other.type_name())),
        }
    }

    fn whole(&self, i: usize) -> Result<i64, String> {
        let n = self.number(i)?;
        if n.fract() != 0.0 || n.abs() > 9e15 {
            return Err(format!("argument {} must be a whole number, not {}", i + 1, format_number(n)));
        }
        #[allow(clippy::cast_possible_truncation)]
        Ok(n as i64)
    }

    fn list(&self, i: usize) -> Result<&Vec<Value>, String> {
        match self.arg(i) {
            Value::List(items) => Ok(items),
            other => Err(format!("argument {} must be a list, not {}", i + 1, other.type_name())),
        }
    }

    fn map(&self, i: usize) -> Result<&BTreeMap<String, Value>, String> {
        match self.arg(i) {
            Value::Map(m) => Ok(m),
            other => Err(format!("argument {} must be a map, not {}", i + 1, other.type_name())),
        }
    }

    fn cidr(&self, i: usize) -> Result<Ipv4Net, String> {
        match self.arg(i).as_cidr() {
            Some(IpNet::V4(net)) => Ok(net),
            Some(IpNet::V6(_)) => Err("IPv6 networks are not supported yet".into()),
            None => Err(format!("argument {} must be a CIDR block like 10.0.0.0/16, not {}", i + 1, self.args[i])),
        }
    }
}

pub fn call(name: &Ident, arg_exprs: &[Expr], span: Span, scope: &dyn Scope) -> Result<Value, EvalError> {
    match name.name.as_str() {
        "try" => return try_each(arg_exprs, span, scope),
        "can" => return can(arg_exprs, span, scope),
        _ => {}
    }
    let Some(f) = TABLE.iter().find(|f| f.name == name.name) else {
        return Err(EvalError::UnknownFunction {
            name: name.name.clone(),
            span: name.span.into(),
            help: crate::suggest::help(&name.name, FUNCTIONS.iter().copied())
                .or_else(|| Some("see docs/language.md for the list of functions".into())),
        });
    };
    if arg_exprs.len() < f.min || arg_exprs.len() > f.max {
        let expected = match (f.min, f.max) {
            (a, b) if a == b => format!("{a} argument{}", if a == 1 { "" } else { "s" }),
            (a, ANY) => format!("at least {a} argument{}", if a == 1 { "" } else { "s" }),
            (a, b) => format!("{a} to {b} arguments"),
        };
        return Err(EvalError::Arity { name: f.name.into(), expected, found: arg_exprs.len(), span: span.into() });
    }
    // A function of a secret gives a secret: its arguments are unmarked,
    // and its result marked if any of them carried a mark.
    let mut secret = false;
    let mut args = Vec::with_capacity(arg_exprs.len());
    for e in arg_exprs {
        let (arg, marked) = eval(e, scope)?.unmarked();
        secret |= marked;
        args.push(arg);
    }
    let unknown = if f.deep_known {
        args.iter().any(|a| !a.is_known())
    } else {
        args.iter().any(|a| matches!(a, Value::Unknown(_)))
    };
    if unknown {
        return Ok(Value::Unknown(f.returns.clone()).sensitive_if(secret));
    }
    let call = Call { args, scope, blame: std::cell::Cell::new(None) };
    let result = (f.run)(&call).map(|v| v.sensitive_if(secret));
    result.map_err(|message| {
        // The message may quote an argument; a secret one must not show.
        let message = if secret {
            "it cannot use one of its arguments (a sensitive value, not shown here)".to_string()
        } else {
            message
        };
        let (label_span, label) = match call.blame.get().and_then(|i| arg_exprs.get(i)) {
            Some(arg) => (arg.span, "this argument".to_string()),
            None => (span, "in this call".to_string()),
        };
        EvalError::Function { name: f.name.into(), message, span: label_span.into(), label }
    })
}

/// `try(a, b, …)`: the first argument that evaluates without an error
/// (a missing key, an index out of range, a function refusing its
/// argument), evaluated in turn; the last one's error if none does. A name
/// that means nothing is reported before evaluation, whatever `try`.
fn try_each(arg_exprs: &[Expr], span: Span, scope: &dyn Scope) -> Result<Value, EvalError> {
    if arg_exprs.is_empty() {
        return Err(EvalError::Arity {
            name: "try".into(),
            expected: "at least 1 argument".into(),
            found: 0,
            span: span.into(),
        });
    }
    let mut last = None;
    for e in arg_exprs {
        match eval(e, scope) {
            Ok(v) => return Ok(v),
            Err(error) => last = Some(error),
        }
    }
    Err(last.expect("at least one argument"))
}

/// `can(expr)`: whether `expr` evaluates without an error (unknown while
/// it is unknown).
fn can(arg_exprs: &[Expr], span: Span, scope: &dyn Scope) -> Result<Value, EvalError> {
    let [e] = arg_exprs else {
        return Err(EvalError::Arity {
            name: "can".into(),
            expected: "1 argument".into(),
            found: arg_exprs.len(),
            span: span.into(),
        });
    };
    Ok(match eval(e, scope) {
        Ok(v) if !v.is_known() => Value::Unknown(Type::Bool),
        Ok(_) => Value::Bool(true),
        Err(_) => Value::Bool(false),
    })
}

fn cidrsubnet(c: &Call<'_>) -> Result<Value, String> {
    let prefix = c.cidr(0)?;
    let newbits = c.whole(1)?;
    let netnum = c.whole(2)?;
    let newbits = u32::try_from(newbits).map_err(|_| "newbits must be 0 or more".to_string())?;
    let netnum = u64::try_from(netnum).map_err(|_| "netnum must be 0 or more".to_string())?;
    if newbits > 32 {
        return Err(format!("newbits {newbits} is more than 32"));
    }
    cidr::subnet(prefix, newbits, netnum).map(|n| Value::Cidr(IpNet::V4(n)))
}

/// `cidrsubnets(prefix, newbits…)`: consecutive subnets of `prefix`, each
/// `newbits` longer, each at the next free address aligned to its size —
/// Terraform's allocation, so plans of CIDRs moved from it match.
fn cidrsubnets(c: &Call<'_>) -> Result<Value, String> {
    let prefix = c.cidr(0)?;
    let base = u64::from(u32::from(prefix.network()));
    let end = base + (1u64 << (32 - u32::from(prefix.prefix_len())));
    let mut next = base;
    let mut out = Vec::new();
    for i in 1..c.args.len() {
        let newbits = u32::try_from(c.whole(i)?).map_err(|_| "newbits must be 0 or more".to_string())?;
        let len = u32::from(prefix.prefix_len()) + newbits;
        if newbits == 0 || len > 32 {
            return Err(format!("newbits {newbits} must make a prefix from /{} to /32", prefix.prefix_len() + 1));
        }
        let size = 1u64 << (32 - len);
        let start = next.div_ceil(size) * size;
        if start + size > end {
            return Err(format!("not enough room in {prefix} for a /{len} after {}", out.len()));
        }
        #[allow(clippy::cast_possible_truncation)]
        let network = Ipv4Net::new(std::net::Ipv4Addr::from(start as u32), len as u8).map_err(|e| e.to_string())?;
        out.push(Value::Cidr(IpNet::V4(network)));
        next = start + size;
    }
    Ok(Value::List(out))
}

fn cidrhost(c: &Call<'_>) -> Result<Value, String> {
    let prefix = c.cidr(0)?;
    let hostnum = c.whole(1)?;
    cidr::host(prefix, hostnum).map(|ip| Value::Ip(ip.into()))
}

fn cidrnetmask(c: &Call<'_>) -> Result<Value, String> {
    Ok(Value::String(c.cidr(0)?.netmask().to_string()))
}

fn file(c: &Call<'_>) -> Result<Value, String> {
    let path = c.string(0)?;
    c.scope.read_file(&path).map(Value::String)
}

fn templatefile(c: &Call<'_>) -> Result<Value, String> {
    let path = c.string(0)?;
    let vars = c.map(1)?;
    let text = c.scope.read_file(&path)?;
    let parsed = crate::syntax::parse_template(crate::FileId::default(), &text).map_err(|errors| {
        let first = errors.first().map(ToString::to_string).unwrap_or_default();
        format!("{path}: {first}")
    })?;
    let inner = Layered {
        parent: &NoNames { parent: c.scope },
        vars: vars.iter().map(|(k, v)| (k.clone(), v.clone())).collect(),
    };
    c.blame.set(Some(0));
    template(&parsed, &inner).map_err(|e| format!("{path}: {e}"))
}

/// Templates see only the variables they are given, like Terraform's.
struct NoNames<'a> {
    parent: &'a dyn Scope,
}

impl Scope for NoNames<'_> {
    fn lookup(&self, _: &str) -> Option<Value> {
        None
    }
    fn names(&self) -> Vec<String> {
        Vec::new()
    }
    fn read_file(&self, path: &str) -> Result<String, String> {
        self.parent.read_file(path)
    }
}

fn format(c: &Call<'_>) -> Result<Value, String> {
    let spec = c.string(0)?;
    let mut out = String::new();
    let mut next = 1;
    let mut chars = spec.chars();
    while let Some(ch) = chars.next() {
        if ch != '%' {
            out.push(ch);
            continue;
        }
        let verb = chars.next().ok_or("the format ends with a lone `%`")?;
        if verb == '%' {
            out.push('%');
            continue;
        }
        if next >= c.args.len() {
            return Err(format!("the format has more verbs than the {} value(s) given", c.args.len() - 1));
        }
        let value = c.arg(next);
        next += 1;
        match verb {
            's' | 'v' => out.push_str(&value.to_template_text().unwrap_or_else(|_| value.to_string())),
            'd' => out.push_str(&format_number(c.whole(next - 1)? as f64)),
            'q' => out.push_str(&crate::value::quote(&c.string(next - 1)?)),
            other => return Err(format!("unknown verb `%{other}`; use %s, %d, %q, %v or %%")),
        }
    }
    if next < c.args.len() {
        return Err(format!("{} value(s) given but the format uses {}", c.args.len() - 1, next - 1));
    }
    Ok(Value::String(out))
}

fn join(c: &Call<'_>) -> Result<Value, String> {
    let sep = c.string(0)?;
    let items = c.list(1)?;
    let texts = items.iter().map(|v| v.to_template_text().map_err(|m| m.0)).collect::<Result<Vec<_>, _>>()?;
    Ok(Value::String(texts.join(&sep)))
}

fn split(c: &Call<'_>) -> Result<Value, String> {
    let sep = c.string(0)?;
    let text = c.string(1)?;
    if sep.is_empty() {
        return Err("the separator must not be empty".into());
    }
    Ok(Value::List(text.split(sep.as_str()).map(|s| Value::String(s.into())).collect()))
}

fn length(c: &Call<'_>) -> Result<Value, String> {
    let n = match c.arg(0) {
        Value::List(items) => items.len(),
        Value::Map(items) => items.len(),
        Value::String(s) => s.chars().count(),
        other => return Err(format!("length of {} is not defined", other.type_name())),
    };
    Ok(Value::Number(n as f64))
}

fn lookup(c: &Call<'_>) -> Result<Value, String> {
    let key = c.string(1)?;
    let map = c.map(0)?;
    match map.get(&key) {
        Some(v) => Ok(v.clone()),
        None if c.args.len() == 3 => Ok(c.args[2].clone()),
        None => Err(format!("no key \"{key}\" in the map, and no default was given")),
    }
}

fn merge(c: &Call<'_>) -> Result<Value, String> {
    let mut out = BTreeMap::new();
    for i in 0..c.args.len() {
        if matches!(c.arg(i), Value::Null) {
            continue;
        }
        out.extend(c.map(i)?.iter().map(|(k, v)| (k.clone(), v.clone())));
    }
    Ok(Value::Map(out))
}

fn concat(c: &Call<'_>) -> Result<Value, String> {
    let mut out = Vec::new();
    for i in 0..c.args.len() {
        out.extend(c.list(i)?.iter().cloned());
    }
    Ok(Value::List(out))
}

fn range(c: &Call<'_>) -> Result<Value, String> {
    let (start, end, step) = match c.args.len() {
        1 => (0, c.whole(0)?, 1),
        2 => (c.whole(0)?, c.whole(1)?, 1),
        _ => (c.whole(0)?, c.whole(1)?, c.whole(2)?),
    };
    if step == 0 {
        return Err("the step must not be zero".into());
    }
    let count = ((end - start) as f64 / step as f64).ceil().max(0.0);
    if count > 1_000_000.0 {
        return Err(format!("range would have {count} elements; at most 1000000"));
    }
    #[allow(clippy::cast_possible_truncation, clippy::cast_sign_loss)]
    let items = (0..count as i64).map(|i| Value::Number((start + i * step) as f64)).collect();
    Ok(Value::List(items))
}

fn lower(c: &Call<'_>) -> Result<Value, String> {
    Ok(Value::String(c.string(0)?.to_lowercase()))
}

fn upper(c: &Call<'_>) -> Result<Value, String> {
    Ok(Value::String(c.string(0)?.to_uppercase()))
}

fn trimspace(c: &Call<'_>) -> Result<Value, String> {
    Ok(Value::String(c.string(0)?.trim().to_string()))
}

fn replace(c: &Call<'_>) -> Result<Value, String> {
    let text = c.string(0)?;
    let from = c.string(1)?;
    let to = c.string(2)?;
    if from.is_empty() {
        return Err("the text to replace must not be empty".into());
    }
    Ok(Value::String(text.replace(&from, &to)))
}

fn base64encode(c: &Call<'_>) -> Result<Value, String> {
    Ok(Value::String(base64::engine::general_purpose::STANDARD.encode(c.string(0)?)))
}

fn base64decode(c: &Call<'_>) -> Result<Value, String> {
    let bytes = base64::engine::general_purpose::STANDARD.decode(c.string(0)?).map_err(|e| e.to_string())?;
    String::from_utf8(bytes).map(Value::String).map_err(|_| "the decoded bytes are not UTF-8 text".into())
}

fn jsonencode(c: &Call<'_>) -> Result<Value, String> {
    Ok(Value::String(to_json(c.arg(0)).to_string()))
}

/// A known value as JSON, marks taken off.
#[must_use]
pub fn to_json(v: &Value) -> serde_json::Value {
    use serde_json::Value as J;
    match v {
        Value::Null | Value::Unknown(_) => J::Null,
        Value::Bool(b) => J::Bool(*b),
        Value::Number(n) if n.fract() == 0.0 && n.abs() < 9e15 =>
        {
            #[allow(clippy::cast_possible_truncation)]
            J::from(*n as i64)
        }
        Value::Number(n) => serde_json::Number::from_f64(*n).map_or(J::Null, J::Number),
        Value::String(s) => J::String(s.clone()),
        Value::Cidr(_) | Value::Ip(_) | Value::PortRange(..) => J::String(v.to_string()),
        Value::List(items) => J::Array(items.iter().map(to_json).collect()),
        Value::Map(items) => J::Object(items.iter().map(|(k, v)| (k.clone(), to_json(v))).collect()),
        Value::Resource(r) => J::String(r.address.clone()),
        // Whoever shows the JSON knows where the secrets were.
        Value::Sensitive(inner) => to_json(inner),
    }
}

fn jsondecode(c: &Call<'_>) -> Result<Value, String> {
    let json: serde_json::Value = serde_json::from_str(&c.string(0)?).map_err(|e| format!("not JSON: {e}"))?;
    Ok(from_json(&json))
}

/// `yamlencode(value)`: the value as a YAML document (block style, no
/// `---` line, ending in a newline), through the same JSON form
/// `jsonencode` writes.
fn yamlencode(c: &Call<'_>) -> Result<Value, String> {
    let yaml = to_yaml(&to_json(c.arg(0)));
    let mut out = String::new();
    let mut emitter = yaml_rust2::YamlEmitter::new(&mut out);
    emitter.multiline_strings(true);
    emitter.dump(&yaml).map_err(|e| format!("cannot write YAML: {e:?}"))?;
    let body = out.strip_prefix("---\n").or_else(|| out.strip_prefix("---")).unwrap_or(&out).trim_start();
    Ok(Value::String(format!("{body}\n")))
}

fn to_yaml(json: &serde_json::Value) -> yaml_rust2::Yaml {
    use serde_json::Value as J;
    use yaml_rust2::Yaml as Y;
    match json {
        J::Null => Y::Null,
        J::Bool(b) => Y::Boolean(*b),
        J::Number(n) => n.as_i64().map_or_else(|| Y::Real(n.to_string()), Y::Integer),
        J::String(s) => Y::String(s.clone()),
        J::Array(items) => Y::Array(items.iter().map(to_yaml).collect()),
        J::Object(map) => Y::Hash(map.iter().map(|(k, v)| (Y::String(k.clone()), to_yaml(v))).collect()),
    }
}

/// `yamldecode(s)`: one YAML document as a value (mappings become maps,
/// sequences lists; keys must be text). Several documents, anchors that
/// do not resolve and bad syntax are errors.
fn yamldecode(c: &Call<'_>) -> Result<Value, String> {
    let docs = yaml_rust2::YamlLoader::load_from_str(&c.string(0)?).map_err(|e| format!("not YAML: {e}"))?;
    match docs.as_slice() {
        [] => Ok(Value::Null),
        [doc] => from_yaml(doc),
        more => Err(format!("{} YAML documents; yamldecode reads one", more.len())),
    }
}

fn from_yaml(yaml: &yaml_rust2::Yaml) -> Result<Value, String> {
    use yaml_rust2::Yaml as Y;
    Ok(match yaml {
        Y::Null => Value::Null,
        Y::Boolean(b) => Value::Bool(*b),
        Y::Integer(i) =>
        {
            #[allow(clippy::cast_precision_loss)]
            Value::Number(*i as f64)
        }
        Y::Real(text) => Value::Number(text.parse().map_err(|_| format!("`{text}` is not a number"))?),
        Y::String(s) => Value::String(s.clone()),
        Y::Array(items) => Value::List(items.iter().map(from_yaml).collect::<Result<_, _>>()?),
        Y::Hash(map) => Value::Map(
            map.iter()
                .map(|(k, v)| {
                    let key = match k {
                        Y::String(s) => s.clone(),
                        Y::Integer(i) => i.to_string(),
                        Y::Boolean(b) => b.to_string(),
                        other => return Err(format!("a mapping key must be text, not {other:?}")),
                    };
                    Ok((key, from_yaml(v)?))
                })
                .collect::<Result<_, _>>()?,
        ),
        Y::Alias(_) => return Err("an alias that does not resolve".into()),
        Y::BadValue => return Err("a value YAML cannot read".into()),
    })
}

/// JSON as a value: objects become maps, arrays lists.
fn from_json(json: &serde_json::Value) -> Value {
    use serde_json::Value as J;
    match json {
        J::Null => Value::Null,
        J::Bool(b) => Value::Bool(*b),
        J::Number(n) => Value::Number(n.as_f64().unwrap_or(f64::NAN)),
        J::String(s) => Value::String(s.clone()),
        J::Array(items) => Value::List(items.iter().map(from_json).collect()),
        J::Object(map) => Value::Map(map.iter().map(|(k, v)| (k.clone(), from_json(v))).collect()),
    }
}

/// `regex(pattern, s)`: the first match of `pattern` in `s`: the matched
/// text when the pattern has no groups, the groups as a list, or as a map
/// when they are named. No match is an error (`can(regex(…))` tests).
fn regex(c: &Call<'_>) -> Result<Value, String> {
    let pattern = c.string(0)?;
    let re = regex::Regex::new(&pattern).map_err(|e| format!("not a pattern: {e}"))?;
    let text = c.string(1)?;
    c.blame.set(Some(1));
    let found = re.captures(&text).ok_or_else(|| format!("no match for `{pattern}`"))?;
    let text_of = |m: Option<regex::Match<'_>>| m.map_or(Value::Null, |m| Value::String(m.as_str().into()));
    if re.captures_len() == 1 {
        return Ok(text_of(found.get(0)));
    }
    let names: Vec<&str> = re.capture_names().flatten().collect();
    if names.is_empty() {
        return Ok(Value::List((1..re.captures_len()).map(|i| text_of(found.get(i))).collect()));
    }
    Ok(Value::Map(names.into_iter().map(|n| (n.to_string(), text_of(found.name(n)))).collect()))
}

/// `sha256(s)`: the SHA-256 digest of the text, in lower-case hex.
fn sha256(c: &Call<'_>) -> Result<Value, String> {
    use sha2::Digest as _;
    let digest = sha2::Sha256::digest(c.string(0)?.as_bytes());
    Ok(Value::String(digest.iter().map(|b| format!("{b:02x}")).collect()))
}

/// `sort(list)`: the elements' text, sorted (strings, numbers as text).
fn sort(c: &Call<'_>) -> Result<Value, String> {
    let mut texts = c.list(0)?.iter().map(|v| v.to_template_text().map_err(|m| m.0)).collect::<Result<Vec<_>, _>>()?;
    texts.sort();
    Ok(Value::List(texts.into_iter().map(Value::String).collect()))
}

/// `toset(list)`: the distinct elements, sorted: there is no set type, so
/// a set is a list in a fixed order, and `for_each = toset([…])` works as
/// in Terraform.
fn toset(c: &Call<'_>) -> Result<Value, String> {
    let mut out: Vec<Value> = Vec::new();
    for v in c.list(0)? {
        if !out.contains(v) {
            out.push(v.clone());
        }
    }
    out.sort_by_key(|v| v.to_template_text().unwrap_or_else(|_| v.to_string()));
    Ok(Value::List(out))
}

fn keys(c: &Call<'_>) -> Result<Value, String> {
    Ok(Value::List(c.map(0)?.keys().map(|k| Value::String(k.clone())).collect()))
}

fn values(c: &Call<'_>) -> Result<Value, String> {
    Ok(Value::List(c.map(0)?.values().cloned().collect()))
}

fn element(c: &Call<'_>) -> Result<Value, String> {
    let items = c.list(0)?;
    let i = c.whole(1)?;
    if items.is_empty() {
        return Err("the list is empty".into());
    }
    let len = i64::try_from(items.len()).unwrap_or(i64::MAX);
    #[allow(clippy::cast_sign_loss, clippy::cast_possible_truncation)]
    Ok(items[i.rem_euclid(len) as usize].clone())
}

fn contains(c: &Call<'_>) -> Result<Value, String> {
    let items = c.list(0)?;
    Ok(Value::Bool(items.contains(c.arg(1))))
}

fn distinct(c: &Call<'_>) -> Result<Value, String> {
    let mut out: Vec<Value> = Vec::new();
    for v in c.list(0)? {
        if !out.contains(v) {
            out.push(v.clone());
        }
    }
    Ok(Value::List(out))
}

fn flatten(c: &Call<'_>) -> Result<Value, String> {
    fn walk(v: &Value, out: &mut Vec<Value>) {
        match v {
            Value::List(items) => items.iter().for_each(|i| walk(i, out)),
            other => out.push(other.clone()),
        }
    }
    let mut out = Vec::new();
    for v in c.list(0)? {
        walk(v, &mut out);
    }
    Ok(Value::List(out))
}

fn coalesce(c: &Call<'_>) -> Result<Value, String> {
    c.args
        .iter()
        .find(|v| !matches!(v, Value::Null) && v.as_str() != Some(""))
        .cloned()
        .ok_or_else(|| "every argument is null or empty".into())
}

fn tostring(c: &Call<'_>) -> Result<Value, String> {
    c.string(0).map(Value::String)
}

fn tonumber(c: &Call<'_>) -> Result<Value, String> {
    c.number(0).map(Value::Number)
}

fn abs(c: &Call<'_>) -> Result<Value, String> {
    Ok(Value::Number(c.number(0)?.abs()))
}

fn min(c: &Call<'_>) -> Result<Value, String> {
    let mut best = f64::INFINITY;
    for i in 0..c.args.len() {
        best = best.min(c.number(i)?);
    }
    Ok(Value::Number(best))
}

fn max(c: &Call<'_>) -> Result<Value, String> {
    let mut best = f64::NEG_INFINITY;
    for i in 0..c.args.len() {
        best = best.max(c.number(i)?);
    }
    Ok(Value::Number(best))
}

fn zipmap(c: &Call<'_>) -> Result<Value, String> {
    let keys = c.list(0)?;
    let values = c.list(1)?;
    if keys.len() != values.len() {
        return Err(format!("{} keys but {} values", keys.len(), values.len()));
    }
    let mut out = BTreeMap::new();
    for (k, v) in keys.iter().zip(values) {
        out.insert(k.to_template_text().map_err(|m| m.0)?, v.clone());
    }
    Ok(Value::Map(out))
}
