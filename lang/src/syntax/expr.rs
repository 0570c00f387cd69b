//! Lowering of expressions. The grammar hands over a flat sequence of
//! operands and operators; the Pratt parser below decides grouping, so
//! precedence and associativity live in exactly one table.
//!
//! Precedence, loosest first: `||`, `&&`, `== !=`, `< <= > >=`, `+ -`,
//! `* / %`, prefix `- !`, postfix `.name [index] [*]`. All binary operators
//! group to the left. `c ? a : b` sits above them all and groups right.

use std::net::Ipv4Addr;
use std::sync::LazyLock;

use ipnet::{IpNet, Ipv4Net};
use pest::pratt_parser::{Assoc, Op, PrattParser};

use super::ast::{BinaryOp, Element, Expr, ExprKind, ForExpr, MapEntry, MapKey, UnaryOp};
use super::error::SyntaxError;
use super::parser::{kids, Lower, P};
use super::Rule;

/// Most operators (binary, prefix and postfix) one expression may chain.
/// Deeper trees would recurse deeper than any stack we want to rely on.
pub const MAX_OPERATORS: usize = 1_000;

static PRATT: LazyLock<PrattParser<Rule>> = LazyLock::new(|| {
    PrattParser::new()
        .op(Op::infix(Rule::or, Assoc::Left))
        .op(Op::infix(Rule::and, Assoc::Left))
        .op(Op::infix(Rule::eq, Assoc::Left) | Op::infix(Rule::ne, Assoc::Left))
        .op(Op::infix(Rule::lt, Assoc::Left)
            | Op::infix(Rule::le, Assoc::Left)
            | Op::infix(Rule::gt, Assoc::Left)
            | Op::infix(Rule::ge, Assoc::Left))
        .op(Op::infix(Rule::add, Assoc::Left) | Op::infix(Rule::sub, Assoc::Left))
        .op(Op::infix(Rule::mul, Assoc::Left) | Op::infix(Rule::div, Assoc::Left) | Op::infix(Rule::rem, Assoc::Left))
        .op(Op::prefix(Rule::neg) | Op::prefix(Rule::not))
        .op(Op::postfix(Rule::get_attr) | Op::postfix(Rule::index) | Op::postfix(Rule::splat))
});

impl Lower<'_> {
    /// `expr = binary ("?" expr ":" expr)?`
    pub(crate) fn expr(&self, pair: &P<'_>) -> Expr {
        let mut it = kids(pair);
        let cond = self.binary(&it.next().expect("grammar: binary"));
        match (it.next(), it.next()) {
            (Some(then), Some(otherwise)) => {
                let then = self.expr(&then);
                let otherwise = self.expr(&otherwise);
                Expr {
                    span: cond.span.to(otherwise.span),
                    kind: ExprKind::Conditional(Box::new(cond), Box::new(then), Box::new(otherwise)),
                }
            }
            _ => cond,
        }
    }

    fn binary(&self, pair: &P<'_>) -> Expr {
        let span = self.span(pair);
        let operators = kids(pair).filter(|p| !is_operand(p.as_rule())).count();
        if operators > MAX_OPERATORS {
            self.error(SyntaxError::TooComplex { count: operators, max: MAX_OPERATORS, span: span.into() });
            return Expr { kind: ExprKind::Null, span };
        }
        PRATT
            .map_primary(|p| self.primary(&p))
            .map_prefix(|op, rhs| {
                let kind = if op.as_rule() == Rule::neg { UnaryOp::Neg } else { UnaryOp::Not };
                Expr { span: self.span(&op).to(rhs.span), kind: ExprKind::Unary(kind, Box::new(rhs)) }
            })
            .map_postfix(|lhs, op| {
                let span = lhs.span.to(self.span(&op));
                let kind = match op.as_rule() {
                    Rule::get_attr => {
                        let name = self.ident(&kids(&op).next().expect("grammar: attribute name"));
                        ExprKind::GetAttr(Box::new(lhs), name)
                    }
                    Rule::index => {
                        let index = self.expr(&kids(&op).next().expect("grammar: index"));
                        ExprKind::Index(Box::new(lhs), Box::new(index))
                    }
                    _ => ExprKind::Splat(Box::new(lhs)),
                };
                Expr { span, kind }
            })
            .map_infix(|lhs, op, rhs| {
                let op = binary_op(op.as_rule());
                Expr { span: lhs.span.to(rhs.span), kind: ExprKind::Binary(op, Box::new(lhs), Box::new(rhs)) }
            })
            .parse(pair.clone().into_inner())
    }

    fn primary(&self, pair: &P<'_>) -> Expr {
        let span = self.span(pair);
        let text = pair.as_str();
        let kind = match pair.as_rule() {
            Rule::kw_true => ExprKind::Bool(true),
            Rule::kw_false => ExprKind::Bool(false),
            Rule::kw_null => ExprKind::Null,
            Rule::number => match text.parse::<f64>() {
                Ok(n) if n.is_finite() => ExprKind::Number(n, text.to_string()),
                _ => {
                    self.error(SyntaxError::Unexpected {
                        message: format!("number `{text}` is too large"),
                        span: span.into(),
                        label: "too large".into(),
                        help: None,
                    });
                    ExprKind::Null
                }
            },
            Rule::cidr => self.cidr(text, span),
            Rule::ip => match text.parse::<Ipv4Addr>() {
                Ok(ip) => ExprKind::Ip(ip.into()),
                Err(_) => {
                    self.error(SyntaxError::MalformedIp { text: text.into(), span: span.into() });
                    ExprKind::Null
                }
            },
            Rule::port_range => {
                let (from, to) = text.split_once("..").unwrap_or((text, text));
                match (from.parse::<u16>(), to.parse::<u16>()) {
                    (Ok(from), Ok(to)) if from <= to => ExprKind::PortRange(from, to),
                    _ => {
                        self.error(SyntaxError::PortOutOfRange { text: text.into(), span: span.into() });
                        ExprKind::Null
                    }
                }
            }
            Rule::string => ExprKind::String(self.string(pair)),
            Rule::heredoc => ExprKind::Heredoc(self.heredoc(pair)),
            Rule::call_or_variable => {
                let mut it = kids(pair);
                let name = self.ident(&it.next().expect("grammar: name"));
                match it.next() {
                    None => ExprKind::Variable(name),
                    Some(args) => ExprKind::Call {
                        name,
                        args: kids(&args).map(|a| self.expr(&a)).collect(),
                        multiline: text.contains('\n'),
                    },
                }
            }
            Rule::paren => ExprKind::Paren(Box::new(self.expr(&kids(pair).next().expect("grammar: paren")))),
            Rule::list => {
                let items = kids(pair)
                    .map(|p| {
                        let s = self.span(&p);
                        let mut trivia = self.trivia.borrow_mut().leading(s.start as usize);
                        let value = self.expr(&p);
                        trivia.trailing = self.trivia.borrow_mut().trailing(s.end as usize);
                        Element { trivia, value }
                    })
                    .collect();
                ExprKind::List { items, multiline: text.contains('\n') }
            }
            Rule::map => {
                let entries = kids(pair)
                    .map(|entry| {
                        let s = self.span(&entry);
                        let mut trivia = self.trivia.borrow_mut().leading(s.start as usize);
                        let mut it = kids(&entry);
                        let key_pair = it.next().expect("grammar: map key");
                        let key = match key_pair.as_rule() {
                            Rule::ident => MapKey::Ident(self.ident(&key_pair)),
                            _ => MapKey::String(self.string(&key_pair), self.span(&key_pair)),
                        };
                        let value = self.expr(&it.next().expect("grammar: map value"));
                        trivia.trailing = self.trivia.borrow_mut().trailing(s.end as usize);
                        MapEntry { trivia, key, value }
                    })
                    .collect();
                ExprKind::Map { entries, multiline: text.contains('\n') }
            }
            Rule::list_for | Rule::map_for => ExprKind::For(Box::new(self.for_expr(pair))),
            other => unreachable_rule(other),
        };
        Expr { kind, span }
    }

    fn for_expr(&self, pair: &P<'_>) -> ForExpr {
        let is_map = pair.as_rule() == Rule::map_for;
        let mut it = kids(pair).filter(|p| !matches!(p.as_rule(), Rule::kw_for | Rule::kw_in));
        let vars: Vec<_> = kids(&it.next().expect("grammar: for variables")).map(|p| self.ident(&p)).collect();
        let (key_var, value_var) = match vars.as_slice() {
            [k, v] => (Some(k.clone()), v.clone()),
            [v] => (None, v.clone()),
            _ => unreachable_rule(Rule::for_vars),
        };
        let collection = self.expr(&it.next().expect("grammar: for collection"));
        let key = if is_map { Some(self.expr(&it.next().expect("grammar: for key"))) } else { None };
        let value = self.expr(&it.next().expect("grammar: for value"));
        let condition = it.next().map(|p| {
            let cond = kids(&p).find(|p| p.as_rule() == Rule::expr).expect("grammar: for condition");
            self.expr(&cond)
        });
        ForExpr { key_var, value_var, collection, key, value, condition }
    }

    fn cidr(&self, text: &str, span: crate::Span) -> ExprKind {
        let fail = |reason: String| {
            self.error(SyntaxError::MalformedCidr { text: text.into(), reason, span: span.into() });
            ExprKind::Null
        };
        let (addr, mask) = text.split_once('/').unwrap_or((text, ""));
        let Ok(addr) = addr.parse::<Ipv4Addr>() else {
            return fail(format!("`{addr}` is not an IPv4 address"));
        };
        let Ok(mask) = mask.parse::<u8>() else { return fail(format!("/{mask} is not a mask")) };
        let Ok(net) = Ipv4Net::new(addr, mask) else {
            return fail(format!("the mask /{mask} is larger than /32"));
        };
        if net.network() != addr {
            return fail(format!("host bits are set; the network is {}", net.trunc()));
        }
        ExprKind::Cidr(IpNet::V4(net))
    }
}

fn is_operand(rule: Rule) -> bool {
    !matches!(
        rule,
        Rule::or
            | Rule::and
            | Rule::eq
            | Rule::ne
            | Rule::le
            | Rule::ge
            | Rule::lt
            | Rule::gt
            | Rule::add
            | Rule::sub
            | Rule::mul
            | Rule::div
            | Rule::rem
            | Rule::neg
            | Rule::not
            | Rule::get_attr
            | Rule::index
            | Rule::splat
    )
}

fn binary_op(rule: Rule) -> BinaryOp {
    match rule {
        Rule::or => BinaryOp::Or,
        Rule::and => BinaryOp::And,
        Rule::eq => BinaryOp::Eq,
        Rule::ne => BinaryOp::Ne,
        Rule::lt => BinaryOp::Lt,
        Rule::le => BinaryOp::Le,
        Rule::gt => BinaryOp::Gt,
        Rule::ge => BinaryOp::Ge,
        Rule::add => BinaryOp::Add,
        Rule::sub => BinaryOp::Sub,
        Rule::mul => BinaryOp::Mul,
        Rule::div => BinaryOp::Div,
        _ => BinaryOp::Rem,
    }
}

#[allow(clippy::panic)]
fn unreachable_rule(rule: Rule) -> ! {
    panic!("grammar and lowering disagree about {rule:?}")
}
