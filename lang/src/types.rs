//! Value types of the language: what an `input` declares and what a schema
//! attribute accepts. CIDR blocks, IP addresses, ports and port ranges are
//! types of their own so the checker can reason about networks.

use std::fmt;

#[derive(Debug, Clone, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub enum Type {
    Any,
    Bool,
    Number,
    String,
    Cidr,
    Ip,
    /// A number in 0..=65535.
    Port,
    /// `80`, or `30000..32767`.
    PortRange,
    List(Box<Type>),
    Map(Box<Type>),
    /// A reference to a resource of the named type (`vpc = vpc.main`), or
    /// the cloud id of one as a string.
    Ref(String),
}

impl Type {
    /// Every type name the `input` declaration accepts, for suggestions.
    pub const NAMES: &'static [&'static str] =
        &["any", "bool", "number", "string", "cidr", "ip", "port", "ports", "list", "map"];

    #[must_use]
    pub fn list(of: Type) -> Type {
        Type::List(Box::new(of))
    }

    #[must_use]
    pub fn map(of: Type) -> Type {
        Type::Map(Box::new(of))
    }

    /// A simple (argument-less) type by name.
    #[must_use]
    pub fn simple(name: &str) -> Option<Type> {
        Some(match name {
            "any" => Type::Any,
            "bool" => Type::Bool,
            "number" => Type::Number,
            "string" => Type::String,
            "cidr" => Type::Cidr,
            "ip" => Type::Ip,
            "port" => Type::Port,
            "ports" => Type::PortRange,
            _ => return None,
        })
    }
}

impl fmt::Display for Type {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Type::Any => f.write_str("any"),
            Type::Bool => f.write_str("bool"),
            Type::Number => f.write_str("number"),
            Type::String => f.write_str("string"),
            Type::Cidr => f.write_str("cidr"),
            Type::Ip => f.write_str("ip"),
            Type::Port => f.write_str("port"),
            Type::PortRange => f.write_str("ports"),
            Type::List(t) => write!(f, "list({t})"),
            Type::Map(t) => write!(f, "map({t})"),
            Type::Ref(t) => write!(f, "{t}"),
        }
    }
}
