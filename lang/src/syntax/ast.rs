//! The syntax tree. Every node has a span; items, block entries and
//! collection elements carry their comments ([`Trivia`]) so `fmt` loses none.

use crate::source::{FileId, Span};

#[derive(Debug, Clone, PartialEq)]
pub struct File {
    pub id: FileId,
    pub items: Vec<Item>,
    /// Comments after the last item.
    pub trailing_comments: Vec<Comment>,
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Comment {
    /// The comment as written, marker included (`# …` or `// …`).
    pub text: String,
    pub span: Span,
    /// Whether a blank line separated it from what came before.
    pub blank_before: bool,
}

/// Comments and spacing around a node.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Trivia {
    /// Whether a blank line separated this node from the one before.
    pub blank_before: bool,
    pub leading: Vec<Comment>,
    /// A comment on the same line, after the node.
    pub trailing: Option<Comment>,
}

impl Trivia {
    #[must_use]
    pub fn has_comments(&self) -> bool {
        !self.leading.is_empty() || self.trailing.is_some()
    }
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Ident {
    pub name: String,
    pub span: Span,
}

#[derive(Debug, Clone, PartialEq)]
pub struct Item {
    pub trivia: Trivia,
    pub kind: ItemKind,
    pub span: Span,
}

#[derive(Debug, Clone, PartialEq)]
pub enum ItemKind {
    /// `let name = expr`
    Let { name: Ident, value: Expr },
    /// `[sensitive] input name: type [= default] [{ description = "…" }]`
    Input { sensitive: bool, name: Ident, ty: TypeExpr, default: Option<Expr>, body: Option<Block> },
    /// `[sensitive] output name = expr`
    Output { sensitive: bool, name: Ident, value: Expr },
    /// `module name = "source" { inputs }`
    Module { name: Ident, source: Template, source_span: Span, body: Block },
    /// `backend kind { settings }`
    Backend { kind: Ident, body: Block },
    /// `type name { attributes and blocks }`
    Resource { type_name: Ident, name: Ident, body: Block },
    /// `provider { settings }`, e.g. `aws { region = "us-east-1" }`
    Provider { name: Ident, body: Block },
}

#[derive(Debug, Clone, PartialEq)]
pub struct TypeExpr {
    pub name: Ident,
    pub arg: Option<Box<TypeExpr>>,
    pub span: Span,
}

#[derive(Debug, Clone, PartialEq)]
pub struct Block {
    pub entries: Vec<Entry>,
    /// Comments before the closing brace.
    pub inner_comments: Vec<Comment>,
    /// Written on several lines in the source; `fmt` keeps one-liners.
    pub multiline: bool,
    pub span: Span,
}

impl Block {
    pub fn attributes(&self) -> impl Iterator<Item = (&Ident, &Expr)> {
        self.entries.iter().filter_map(|e| match &e.kind {
            EntryKind::Attribute { name, value } => Some((name, value)),
            EntryKind::Block { .. } => None,
        })
    }

    pub fn blocks(&self) -> impl Iterator<Item = (&Ident, &Block)> {
        self.entries.iter().filter_map(|e| match &e.kind {
            EntryKind::Block { name, body } => Some((name, body)),
            EntryKind::Attribute { .. } => None,
        })
    }

    #[must_use]
    pub fn attribute(&self, name: &str) -> Option<&Expr> {
        self.attributes().find(|(n, _)| n.name == name).map(|(_, v)| v)
    }
}

/// One entry of a block: an attribute or a nested block.
#[derive(Debug, Clone, PartialEq)]
pub struct Entry {
    pub trivia: Trivia,
    pub kind: EntryKind,
    pub span: Span,
}

#[derive(Debug, Clone, PartialEq)]
pub enum EntryKind {
    Attribute { name: Ident, value: Expr },
    Block { name: Ident, body: Block },
}

#[derive(Debug, Clone, PartialEq)]
pub struct Expr {
    pub kind: ExprKind,
    pub span: Span,
}

#[derive(Debug, Clone, PartialEq)]
pub enum ExprKind {
    Null,
    Bool(bool),
    /// The number and its text as written.
    Number(f64, String),
    String(Template),
    Heredoc(Heredoc),
    Cidr(ipnet::IpNet),
    Ip(std::net::IpAddr),
    PortRange(u16, u16),
    List {
        items: Vec<Element>,
        multiline: bool,
    },
    Map {
        entries: Vec<MapEntry>,
        multiline: bool,
    },
    For(Box<ForExpr>),
    Variable(Ident),
    GetAttr(Box<Expr>, Ident),
    Index(Box<Expr>, Box<Expr>),
    /// `list[*]`: the following attribute accesses apply to every element.
    Splat(Box<Expr>),
    Call {
        name: Ident,
        args: Vec<Expr>,
        multiline: bool,
    },
    Unary(UnaryOp, Box<Expr>),
    Binary(BinaryOp, Box<Expr>, Box<Expr>),
    Conditional(Box<Expr>, Box<Expr>, Box<Expr>),
    Paren(Box<Expr>),
}

#[derive(Debug, Clone, PartialEq)]
pub struct Element {
    pub trivia: Trivia,
    pub value: Expr,
}

#[derive(Debug, Clone, PartialEq)]
pub struct MapEntry {
    pub trivia: Trivia,
    pub key: MapKey,
    pub value: Expr,
}

#[derive(Debug, Clone, PartialEq)]
pub enum MapKey {
    Ident(Ident),
    /// A quoted key; its template may interpolate.
    String(Template, Span),
}

impl MapKey {
    #[must_use]
    pub fn span(&self) -> Span {
        match self {
            MapKey::Ident(i) => i.span,
            MapKey::String(_, s) => *s,
        }
    }
}

/// `[for k, v in coll: value if cond]` or `{for k, v in coll: key => value if cond}`.
#[derive(Debug, Clone, PartialEq)]
pub struct ForExpr {
    pub key_var: Option<Ident>,
    pub value_var: Ident,
    pub collection: Expr,
    /// Only for the map form.
    pub key: Option<Expr>,
    pub value: Expr,
    pub condition: Option<Expr>,
}

#[derive(Debug, Clone, PartialEq)]
pub struct Template {
    pub parts: Vec<TemplatePart>,
    /// The literal as written, quotes included; `fmt` prints it unchanged.
    pub raw: String,
}

impl Template {
    /// The text if the template interpolates nothing.
    #[must_use]
    pub fn as_literal(&self) -> Option<String> {
        let mut out = String::new();
        for part in &self.parts {
            match part {
                TemplatePart::Literal(s) => out.push_str(s),
                _ => return None,
            }
        }
        Some(out)
    }
}

#[derive(Debug, Clone, PartialEq)]
pub enum TemplatePart {
    Literal(String),
    Interpolation(Expr),
    /// `%{ for v in LIST }…%{ endfor }` (or `k, v` over a map, `i, v`
    /// over a list): `body` once per element.
    For {
        key_var: Option<Ident>,
        value_var: Ident,
        collection: Expr,
        body: Vec<TemplatePart>,
    },
    /// `%{ if COND }…%{ else }…%{ endif }`.
    If {
        condition: Expr,
        then: Vec<TemplatePart>,
        otherwise: Vec<TemplatePart>,
    },
}

#[derive(Debug, Clone, PartialEq)]
pub struct Heredoc {
    pub template: Template,
    pub strip_indent: bool,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum UnaryOp {
    Neg,
    Not,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum BinaryOp {
    Or,
    And,
    Eq,
    Ne,
    Lt,
    Le,
    Gt,
    Ge,
    Add,
    Sub,
    Mul,
    Div,
    Rem,
}

impl BinaryOp {
    #[must_use]
    pub fn symbol(self) -> &'static str {
        match self {
            BinaryOp::Or => "||",
            BinaryOp::And => "&&",
            BinaryOp::Eq => "==",
            BinaryOp::Ne => "!=",
            BinaryOp::Lt => "<",
            BinaryOp::Le => "<=",
            BinaryOp::Gt => ">",
            BinaryOp::Ge => ">=",
            BinaryOp::Add => "+",
            BinaryOp::Sub => "-",
            BinaryOp::Mul => "*",
            BinaryOp::Div => "/",
            BinaryOp::Rem => "%",
        }
    }
}

impl Expr {
    /// `a.b.c` as a list of names, if the expression is such a path.
    #[must_use]
    pub fn as_path(&self) -> Option<Vec<&Ident>> {
        match &self.kind {
            ExprKind::Variable(name) => Some(vec![name]),
            ExprKind::GetAttr(base, name) => {
                let mut path = base.as_path()?;
                path.push(name);
                Some(path)
            }
            _ => None,
        }
    }
}
