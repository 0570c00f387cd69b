//! Runtime values, and conversion of a value to a declared [`Type`].
//!
//! `Unknown` stands for a value only the cloud can tell (an id, an address):
//! it carries its type, flows through every operation, and shows in plans as
//! `(known after apply)`.
//!
//! `Sensitive` marks a secret (a `sensitive input`, a private key): every
//! value computed from a marked one is marked too (see `eval`), and a marked
//! value prints as `(sensitive)`. The engine takes the marks off a resource's
//! attributes and remembers which attributes carried one.

use std::collections::BTreeMap;
use std::fmt::{self, Write as _};
use std::net::IpAddr;
use std::sync::Arc;

use ipnet::IpNet;

use crate::types::Type;

#[derive(Debug, Clone, PartialEq)]
pub enum Value {
    Null,
    Bool(bool),
    Number(f64),
    String(String),
    Cidr(IpNet),
    Ip(IpAddr),
    PortRange(u16, u16),
    List(Vec<Value>),
    Map(BTreeMap<String, Value>),
    Resource(Arc<ResourceValue>),
    Unknown(Type),
    /// A secret, or a value derived from one. Never nested directly in
    /// another mark; `null` is never marked (it holds nothing).
    Sensitive(Box<Value>),
}

/// A resource as seen from an expression: its type, its address, and its
/// attributes (configured ones known, exported ones usually unknown).
#[derive(Debug, Clone, PartialEq)]
pub struct ResourceValue {
    pub type_name: String,
    pub address: String,
    /// Shared with the resource instance the engine keeps.
    pub attrs: Arc<BTreeMap<String, Value>>,
    /// The attributes that are secret (by their schema, or derived from a
    /// secret): reading one gives a marked value.
    pub sensitive: Arc<std::collections::BTreeSet<String>>,
}

/// Why a value does not fit a type; the caller adds the span.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Mismatch(pub String);

impl Value {
    /// This value marked as a secret.
    #[must_use]
    pub fn sensitive(self) -> Value {
        match self {
            Value::Null | Value::Sensitive(_) => self,
            other => Value::Sensitive(Box::new(other)),
        }
    }

    /// `self` marked if `secret` is true.
    #[must_use]
    pub fn sensitive_if(self, secret: bool) -> Value {
        if secret {
            self.sensitive()
        } else {
            self
        }
    }

    /// Whether this value or any part of it is a secret. A reference to a
    /// resource is not: it stands for the resource's id.
    #[must_use]
    pub fn is_sensitive(&self) -> bool {
        match self {
            Value::Sensitive(_) => true,
            Value::List(items) => items.iter().any(Value::is_sensitive),
            Value::Map(items) => items.values().any(Value::is_sensitive),
            _ => false,
        }
    }

    /// The value without any mark, and whether it had one anywhere.
    #[must_use]
    pub fn unmarked(self) -> (Value, bool) {
        if !self.is_sensitive() {
            return (self, false);
        }
        (self.strip(), true)
    }

    fn strip(self) -> Value {
        match self {
            Value::Sensitive(inner) => inner.strip(),
            Value::List(items) => Value::List(items.into_iter().map(Value::strip).collect()),
            Value::Map(items) => Value::Map(items.into_iter().map(|(k, v)| (k, v.strip())).collect()),
            other => other,
        }
    }

    /// The value under a mark on the value itself (marks inside stay).
    #[must_use]
    pub fn peeled(&self) -> &Value {
        match self {
            Value::Sensitive(inner) => inner,
            other => other,
        }
    }

    #[must_use]
    pub fn type_name(&self) -> String {
        match self {
            Value::Sensitive(inner) => inner.type_name(),
            Value::Null => "null".into(),
            Value::Bool(_) => "bool".into(),
            Value::Number(_) => "number".into(),
            Value::String(_) => "string".into(),
            Value::Cidr(_) => "cidr".into(),
            Value::Ip(_) => "ip".into(),
            Value::PortRange(..) => "ports".into(),
            Value::List(_) => "list".into(),
            Value::Map(_) => "map".into(),
            Value::Resource(r) => format!("{} (`{}`)", r.type_name, r.address),
            Value::Unknown(t) => t.to_string(),
        }
    }

    /// Whether the whole value is known before apply. A reference to a
    /// resource counts as known once its id is: that is what it stands for
    /// in strings and in the cloud.
    #[must_use]
    pub fn is_known(&self) -> bool {
        match self {
            Value::Unknown(_) => false,
            Value::Sensitive(inner) => inner.is_known(),
            Value::Resource(r) => r.attrs.get("id").is_none_or(Value::is_known),
            Value::List(items) => items.iter().all(Value::is_known),
            Value::Map(items) => items.values().all(Value::is_known),
            _ => true,
        }
    }

    #[must_use]
    pub fn as_str(&self) -> Option<&str> {
        match self.peeled() {
            Value::String(s) => Some(s),
            _ => None,
        }
    }

    #[must_use]
    pub fn as_bool(&self) -> Option<bool> {
        match self.peeled() {
            Value::Bool(b) => Some(*b),
            _ => None,
        }
    }

    #[must_use]
    pub fn as_number(&self) -> Option<f64> {
        match self.peeled() {
            Value::Number(n) => Some(*n),
            _ => None,
        }
    }

    #[must_use]
    pub fn as_cidr(&self) -> Option<IpNet> {
        match self.peeled() {
            Value::Cidr(c) => Some(*c),
            Value::String(s) => s.parse().ok(),
            _ => None,
        }
    }

    #[must_use]
    pub fn as_resource(&self) -> Option<&ResourceValue> {
        match self.peeled() {
            Value::Resource(r) => Some(r),
            _ => None,
        }
    }

    /// Text as it appears inside an interpolated string.
    pub fn to_template_text(&self) -> Result<String, Mismatch> {
        match self.peeled() {
            Value::String(s) => Ok(s.clone()),
            Value::Number(_) | Value::Bool(_) | Value::Cidr(_) | Value::Ip(_) | Value::PortRange(..) => {
                Ok(self.to_string())
            }
            Value::Resource(r) => match r.attrs.get("id") {
                Some(id) => id.to_template_text(),
                None => Err(Mismatch(format!("`{}` has no id to put into a string", r.address))),
            },
            Value::Null => Err(Mismatch("cannot put null into a string".into())),
            Value::Unknown(_) => Err(Mismatch("this value is only known after apply".into())),
            Value::Sensitive(inner) => inner.to_template_text(),
            other => Err(Mismatch(format!("cannot put a {} into a string", other.type_name()))),
        }
    }

    /// Convert to `ty`, or say why not. Conversions are the ones a reader
    /// expects: numbers and addresses to strings, strings that parse to
    /// numbers, CIDRs and IPs, a single port to a port range.
    pub fn convert(&self, ty: &Type) -> Result<Value, Mismatch> {
        if let Value::Sensitive(inner) = self {
            // The error must not show the secret, as `describe` would.
            return inner
                .convert(ty)
                .map(Value::sensitive)
                .map_err(|_| Mismatch(format!("expected {}, found a sensitive {}", article(ty), inner.type_name())));
        }
        if let Value::Unknown(_) = self {
            return Ok(Value::Unknown(ty.clone()));
        }
        if matches!(self, Value::Null) {
            return Ok(Value::Null);
        }
        let fail = || Mismatch(format!("expected {}, found {}", article(ty), self.describe()));
        match ty {
            Type::Any => Ok(self.clone()),
            Type::String => match self {
                Value::String(_) => Ok(self.clone()),
                Value::Number(_) | Value::Bool(_) | Value::Cidr(_) | Value::Ip(_) => {
                    Ok(Value::String(self.to_string()))
                }
                _ => Err(fail()),
            },
            Type::Number => match self {
                Value::Number(_) => Ok(self.clone()),
                Value::String(s) => s.trim().parse::<f64>().map(Value::Number).map_err(|_| fail()),
                _ => Err(fail()),
            },
            Type::Bool => match self {
                Value::Bool(_) => Ok(self.clone()),
                Value::String(s) if s == "true" || s == "false" => Ok(Value::Bool(s == "true")),
                _ => Err(fail()),
            },
            Type::Cidr => match self {
                Value::Cidr(_) => Ok(self.clone()),
                Value::String(s) => match s.parse::<IpNet>() {
                    Ok(IpNet::V6(_)) => {
                        Err(Mismatch(format!("`{s}` is an IPv6 block; only IPv4 blocks are supported")))
                    }
                    Ok(net) if net.trunc() != net => {
                        Err(Mismatch(format!("`{s}` has host bits set; the network is {}", net.trunc())))
                    }
                    Ok(net) => Ok(Value::Cidr(net)),
                    Err(_) => Err(Mismatch(format!("`{s}` is not a CIDR block (like 10.0.0.0/16)"))),
                },
                _ => Err(fail()),
            },
            Type::Ip => match self {
                Value::Ip(_) => Ok(self.clone()),
                Value::String(s) => {
                    s.parse::<IpAddr>().map(Value::Ip).map_err(|_| Mismatch(format!("`{s}` is not an IP address")))
                }
                _ => Err(fail()),
            },
            Type::Port => match self {
                Value::Number(n) => port(*n).map(|_| self.clone()),
                Value::String(s) => match s.trim().parse::<f64>() {
                    Ok(n) => port(n).map(|_| Value::Number(n)),
                    Err(_) => Err(fail()),
                },
                _ => Err(fail()),
            },
            Type::PortRange => match self {
                Value::Number(n) => port(*n).map(|p| Value::PortRange(p, p)),
                Value::String(s) => {
                    let (from, to) = s.split_once("..").unwrap_or((s, s));
                    match (from.trim().parse::<f64>(), to.trim().parse::<f64>()) {
                        (Ok(a), Ok(b)) => Value::PortRange(port(a)?, port(b)?).convert(ty),
                        _ => Err(fail()),
                    }
                }
                Value::PortRange(from, to) if from <= to => Ok(self.clone()),
                Value::PortRange(from, to) => Err(Mismatch(format!(
                    "port range {from}..{to} runs backwards: the first port must not exceed the last"
                ))),
                _ => Err(fail()),
            },
            Type::List(inner) => match self {
                Value::List(items) => items
                    .iter()
                    .enumerate()
                    .map(|(i, v)| v.convert(inner).map_err(|m| Mismatch(format!("element {i}: {}", m.0))))
                    .collect::<Result<_, _>>()
                    .map(Value::List),
                _ => Err(fail()),
            },
            Type::Map(inner) => match self {
                Value::Map(items) => items
                    .iter()
                    .map(|(k, v)| {
                        v.convert(inner).map(|v| (k.clone(), v)).map_err(|m| Mismatch(format!("key `{k}`: {}", m.0)))
                    })
                    .collect::<Result<_, _>>()
                    .map(Value::Map),
                _ => Err(fail()),
            },
            Type::Ref(want) => match self {
                Value::Resource(r) if &r.type_name == want => Ok(self.clone()),
                Value::Resource(r) => Err(Mismatch(format!(
                    "expected a reference to a `{want}`, found the {} `{}`",
                    r.type_name, r.address
                ))),
                Value::String(_) => Ok(self.clone()),
                _ => Err(Mismatch(format!(
                    "expected a reference to a `{want}` (like `{want}.main`), found {}",
                    self.describe()
                ))),
            },
        }
    }

    fn describe(&self) -> String {
        match self {
            Value::Resource(r) => format!("the {} `{}`", r.type_name, r.address),
            Value::Null => "null".into(),
            other => format!("{} `{}`", article_str(&other.type_name()), truncate(&other.to_string(), 40)),
        }
    }
}

fn port(n: f64) -> Result<u16, Mismatch> {
    if n.fract() == 0.0 && (0.0..=65535.0).contains(&n) {
        #[allow(clippy::cast_possible_truncation, clippy::cast_sign_loss)]
        Ok(n as u16)
    } else {
        Err(Mismatch(format!("port {n} is out of range: ports are whole numbers from 0 to 65535")))
    }
}

fn article(ty: &Type) -> String {
    match ty {
        Type::Ref(t) => format!("a reference to a `{t}`"),
        Type::Port => "a port (0 to 65535)".into(),
        Type::PortRange => "a port or a port range (like 80 or 30000..32767)".into(),
        other => article_str(&other.to_string()),
    }
}

fn article_str(name: &str) -> String {
    let vowel = name.starts_with(['a', 'e', 'i', 'o', 'u']);
    format!("{} {name}", if vowel { "an" } else { "a" })
}

fn truncate(s: &str, max: usize) -> String {
    if s.chars().count() <= max {
        s.to_string()
    } else {
        let cut: String = s.chars().take(max).collect();
        format!("{cut}…")
    }
}

/// Numbers print without a fractional part when they are whole.
#[must_use]
pub fn format_number(n: f64) -> String {
    if n.fract() == 0.0 && n.abs() < 1e15 {
        #[allow(clippy::cast_possible_truncation)]
        let i = n as i64;
        i.to_string()
    } else {
        n.to_string()
    }
}

/// Values print in the language's own syntax.
impl fmt::Display for Value {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Value::Null => f.write_str("null"),
            Value::Bool(b) => write!(f, "{b}"),
            Value::Number(n) => f.write_str(&format_number(*n)),
            Value::String(s) => write!(f, "{}", quote(s)),
            Value::Cidr(c) => write!(f, "{c}"),
            Value::Ip(ip) => write!(f, "{ip}"),
            Value::PortRange(a, b) => write!(f, "{a}..{b}"),
            Value::List(items) => {
                f.write_char('[')?;
                for (i, v) in items.iter().enumerate() {
                    if i > 0 {
                        f.write_str(", ")?;
                    }
                    write!(f, "{v}")?;
                }
                f.write_char(']')
            }
            Value::Map(items) => {
                if items.is_empty() {
                    return f.write_str("{}");
                }
                f.write_str("{ ")?;
                for (i, (k, v)) in items.iter().enumerate() {
                    if i > 0 {
                        f.write_str(", ")?;
                    }
                    write!(f, "{} = {v}", map_key(k))?;
                }
                f.write_str(" }")
            }
            Value::Resource(r) => f.write_str(&r.address),
            Value::Unknown(_) => f.write_str("(known after apply)"),
            Value::Sensitive(_) => f.write_str("(sensitive)"),
        }
    }
}

/// A string literal with the escapes the grammar understands.
#[must_use]
pub fn quote(s: &str) -> String {
    let mut out = String::with_capacity(s.len() + 2);
    out.push('"');
    let mut chars = s.chars().peekable();
    while let Some(c) = chars.next() {
        match c {
            '"' => out.push_str("\\\""),
            '\\' => out.push_str("\\\\"),
            '\n' => out.push_str("\\n"),
            '\r' => out.push_str("\\r"),
            '\t' => out.push_str("\\t"),
            '$' if chars.peek() == Some(&'{') => out.push_str("$$"),
            c => out.push(c),
        }
    }
    out.push('"');
    out
}

fn map_key(k: &str) -> String {
    let plain = k.chars().next().is_some_and(|c| c.is_ascii_alphabetic() || c == '_')
        && k.chars().all(|c| c.is_ascii_alphanumeric() || c == '_');
    if plain {
        k.to_string()
    } else {
        quote(k)
    }
}
