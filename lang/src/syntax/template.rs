//! Lowering of string literals, heredocs and template files into
//! templates: literal text (escapes decoded) interleaved with `${…}`
//! interpolations and Terraform's template directives, `%{ for }` and
//! `%{ if }`, whose `~` strips the whitespace beside it. `%%{` is a literal
//! `%{`.

use super::ast::{Heredoc, Ident, Template, TemplatePart};
use super::error::SyntaxError;
use super::parser::{kids, Lower, P};
use super::Rule;

/// A template as written, before its directives are paired up.
enum Piece {
    Text(String),
    Part(TemplatePart),
    Directive(Directive),
}

struct Directive {
    kind: DirectiveKind,
    /// `%{~`: the whitespace before it goes.
    strip_before: bool,
    /// `~}`: the whitespace after it goes.
    strip_after: bool,
    start: usize,
    len: usize,
}

enum DirectiveKind {
    For { key_var: Option<Ident>, value_var: Ident, collection: super::ast::Expr },
    EndFor,
    If(super::ast::Expr),
    Else,
    EndIf,
}

impl DirectiveKind {
    fn word(&self) -> &'static str {
        match self {
            DirectiveKind::For { .. } => "for",
            DirectiveKind::EndFor => "endfor",
            DirectiveKind::If(_) => "if",
            DirectiveKind::Else => "else",
            DirectiveKind::EndIf => "endif",
        }
    }
}

impl Lower<'_> {
    /// `"text ${expr} %{ if c }text%{ endif }"`
    pub(crate) fn string(&self, pair: &P<'_>) -> Template {
        let mut pieces = Vec::new();
        for part in kids(pair) {
            match part.as_rule() {
                Rule::interpolation => pieces.push(Piece::Part(self.interpolation(&part))),
                Rule::directive => pieces.push(Piece::Directive(self.directive(&part))),
                _ => match unescape(part.as_str()) {
                    Ok(text) => pieces.push(Piece::Text(text.replace("%%{", "%{"))),
                    Err((offset, len)) => {
                        let start = self.start(&part) + offset;
                        self.error(SyntaxError::Unexpected {
                            message: "unknown escape sequence".into(),
                            span: (start, len).into(),
                            label: "not an escape".into(),
                            help: Some(r#"known escapes are \n \r \t \" \\ and $${ for a literal ${"#.into()),
                        });
                    }
                },
            }
        }
        Template { parts: self.assemble(pieces), raw: pair.as_str().to_string() }
    }

    /// `<<EOT` … `EOT`, or `<<-EOT` … `EOT` with the common indent removed.
    pub(crate) fn heredoc(&self, pair: &P<'_>) -> Heredoc {
        let mut strip_indent = false;
        let mut lines: Vec<Vec<Piece>> = Vec::new();
        for part in kids(pair) {
            match part.as_rule() {
                Rule::heredoc_strip => strip_indent = true,
                Rule::heredoc_line => {
                    let mut line = Vec::new();
                    for piece in kids(&part) {
                        match piece.as_rule() {
                            Rule::interpolation => line.push(Piece::Part(self.interpolation(&piece))),
                            Rule::directive => line.push(Piece::Directive(self.directive(&piece))),
                            _ => push_text(&mut line, &piece.as_str().replace("$${", "${").replace("%%{", "%{")),
                        }
                    }
                    push_text(&mut line, "\n");
                    lines.push(line);
                }
                _ => {} // the tag
            }
        }
        if strip_indent {
            dedent(&mut lines);
        }
        let parts = self.assemble(lines.into_iter().flatten().collect());
        Heredoc { template: Template { parts, raw: pair.as_str().to_string() }, strip_indent }
    }

    fn interpolation(&self, pair: &P<'_>) -> TemplatePart {
        TemplatePart::Interpolation(self.expr(&kids(pair).next().expect("grammar: interpolation")))
    }

    /// `%{ for k, v in EXPR }`, `%{ if EXPR }`, `%{ else }`, `%{ endif }`,
    /// `%{ endfor }`, with their strip marks.
    fn directive(&self, pair: &P<'_>) -> Directive {
        let mut strip_before = false;
        let mut strip_after = false;
        let mut kind = None;
        for part in kids(pair) {
            match part.as_rule() {
                Rule::strip_mark if kind.is_none() => strip_before = true,
                Rule::strip_mark => strip_after = true,
                Rule::dir_for => {
                    let mut it = kids(&part).filter(|p| !matches!(p.as_rule(), Rule::kw_for | Rule::kw_in));
                    let vars: Vec<Ident> =
                        kids(&it.next().expect("grammar: for variables")).map(|p| self.ident(&p)).collect();
                    let collection = self.expr(&it.next().expect("grammar: for collection"));
                    let (key_var, value_var) = match vars.as_slice() {
                        [k, v] => (Some(k.clone()), v.clone()),
                        [v] => (None, v.clone()),
                        _ => unreachable!("grammar: one or two for variables"),
                    };
                    kind = Some(DirectiveKind::For { key_var, value_var, collection });
                }
                Rule::dir_if => {
                    let condition = kids(&part).find(|p| p.as_rule() == Rule::expr).expect("grammar: if condition");
                    kind = Some(DirectiveKind::If(self.expr(&condition)));
                }
                Rule::dir_else => kind = Some(DirectiveKind::Else),
                Rule::dir_endif => kind = Some(DirectiveKind::EndIf),
                _ => kind = Some(DirectiveKind::EndFor),
            }
        }
        Directive {
            kind: kind.expect("grammar: a directive"),
            strip_before,
            strip_after,
            start: self.start(pair),
            len: pair.as_str().len(),
        }
    }

    /// The pieces as parts: strip marks applied to the text beside them,
    /// each `for` and `if` paired with its `endfor`, `else` and `endif`.
    fn assemble(&self, written: Vec<Piece>) -> Vec<TemplatePart> {
        // Text beside text is one text (a heredoc's lines, an indent
        // removed), so a strip mark reaches all the whitespace beside it.
        let mut pieces = Vec::new();
        for piece in written {
            match piece {
                Piece::Text(text) => push_text(&mut pieces, &text),
                other => pieces.push(other),
            }
        }
        for i in 0..pieces.len() {
            let (before, after) = match &pieces[i] {
                Piece::Directive(d) => (d.strip_before, d.strip_after),
                _ => continue,
            };
            if before && i > 0 {
                if let Piece::Text(t) = &mut pieces[i - 1] {
                    t.truncate(t.trim_end().len());
                }
            }
            if after {
                if let Some(Piece::Text(t)) = pieces.get_mut(i + 1) {
                    *t = t.trim_start().to_string();
                }
            }
        }
        let mut stack: Vec<Open> = Vec::new();
        let mut top: Vec<TemplatePart> = Vec::new();
        for piece in pieces {
            match piece {
                Piece::Text(text) => push_literal(innermost(&mut stack, &mut top), &text),
                Piece::Part(part) => innermost(&mut stack, &mut top).push(part),
                Piece::Directive(d) => match d.kind {
                    DirectiveKind::For { .. } | DirectiveKind::If(_) => {
                        stack.push(Open { directive: d, parts: Vec::new(), then: None });
                    }
                    DirectiveKind::Else => match stack.last_mut() {
                        Some(open) if matches!(open.directive.kind, DirectiveKind::If(_)) && open.then.is_none() => {
                            open.then = Some(std::mem::take(&mut open.parts));
                        }
                        _ => self.unpaired(&d, "an `else` belongs between `%{ if … }` and `%{ endif }`, once"),
                    },
                    DirectiveKind::EndFor | DirectiveKind::EndIf => {
                        let opener = if matches!(d.kind, DirectiveKind::EndFor) { "for" } else { "if" };
                        match stack.pop() {
                            Some(open) if open.directive.kind.word() == opener => {
                                let part = close(open.directive.kind, open.then, open.parts);
                                innermost(&mut stack, &mut top).push(part);
                            }
                            Some(open) => {
                                let word = open.directive.kind.word();
                                self.unpaired(
                                    &d,
                                    &format!("the `%{{ {word} }}` before it is still open: close it first"),
                                );
                                stack.push(open);
                            }
                            None => self.unpaired(&d, &format!("there is no `%{{ {opener} … }}` to close")),
                        }
                    }
                },
            }
        }
        for open in stack {
            let word = open.directive.kind.word();
            let closer = if word == "for" { "endfor" } else { "endif" };
            self.error(SyntaxError::Unexpected {
                message: format!("`%{{ {word} }}` is never closed"),
                span: (open.directive.start, open.directive.len).into(),
                label: "opened here".into(),
                help: Some(format!("end it with `%{{ {closer} }}` in the same string or heredoc")),
            });
        }
        top
    }

    fn unpaired(&self, d: &Directive, help: &str) {
        self.error(SyntaxError::Unexpected {
            message: format!("`%{{ {} }}` without its opening directive", d.kind.word()),
            span: (d.start, d.len).into(),
            label: "nothing to close or continue here".into(),
            help: Some(help.to_string()),
        });
    }
}

/// A `for` or `if` directive not closed yet: what it opened with, and the
/// parts so far (for an `if`, its `then` parts once its `else` is met).
struct Open {
    directive: Directive,
    parts: Vec<TemplatePart>,
    then: Option<Vec<TemplatePart>>,
}

/// Where the next part goes: the innermost open block, or the top.
fn innermost<'s>(stack: &'s mut [Open], top: &'s mut Vec<TemplatePart>) -> &'s mut Vec<TemplatePart> {
    match stack.last_mut() {
        Some(open) => &mut open.parts,
        None => top,
    }
}

/// The part a closed `for` or `if` makes.
fn close(kind: DirectiveKind, then: Option<Vec<TemplatePart>>, parts: Vec<TemplatePart>) -> TemplatePart {
    match kind {
        DirectiveKind::For { key_var, value_var, collection } => {
            TemplatePart::For { key_var, value_var, collection, body: parts }
        }
        DirectiveKind::If(condition) => match then {
            Some(then) => TemplatePart::If { condition, then, otherwise: parts },
            None => TemplatePart::If { condition, then: parts, otherwise: Vec::new() },
        },
        _ => unreachable!("only `for` and `if` open a block"),
    }
}

fn push_literal(parts: &mut Vec<TemplatePart>, text: &str) {
    if let Some(TemplatePart::Literal(last)) = parts.last_mut() {
        last.push_str(text);
    } else if !text.is_empty() {
        parts.push(TemplatePart::Literal(text.to_string()));
    }
}

/// Decode escapes; on failure, the offset and length of the bad escape.
fn unescape(raw: &str) -> Result<String, (usize, usize)> {
    let mut out = String::with_capacity(raw.len());
    let mut chars = raw.char_indices().peekable();
    while let Some((i, c)) = chars.next() {
        match c {
            '\\' => match chars.next() {
                Some((_, 'n')) => out.push('\n'),
                Some((_, 'r')) => out.push('\r'),
                Some((_, 't')) => out.push('\t'),
                Some((_, '"')) => out.push('"'),
                Some((_, '\\')) => out.push('\\'),
                Some((_, other)) => return Err((i, 1 + other.len_utf8())),
                None => return Err((i, 1)),
            },
            '$' if raw[i..].starts_with("$${") => {
                chars.next();
                out.push('$');
            }
            c => out.push(c),
        }
    }
    Ok(out)
}

/// Remove the indentation every non-blank line shares.
fn dedent(lines: &mut [Vec<Piece>]) {
    let indent_of = |line: &[Piece]| -> Option<usize> {
        match line.first() {
            Some(Piece::Text(s)) => {
                let content = s.trim_start_matches([' ', '\t']);
                if content.trim().is_empty() && line.len() == 1 {
                    None // blank line: does not count
                } else {
                    Some(s.len() - content.len())
                }
            }
            _ => Some(0),
        }
    };
    let Some(common) = lines.iter().filter_map(|l| indent_of(l)).min() else { return };
    for line in lines.iter_mut() {
        if let Some(Piece::Text(s)) = line.first_mut() {
            let strip = s.len().min(common).min(s.len() - s.trim_start_matches([' ', '\t']).len());
            s.drain(..strip);
        }
    }
}

/// Text added to a line, joined to the text before it.
fn push_text(line: &mut Vec<Piece>, text: &str) {
    if let Some(Piece::Text(last)) = line.last_mut() {
        last.push_str(text);
    } else if !text.is_empty() {
        line.push(Piece::Text(text.to_string()));
    }
}

/// Parse the text of a template file (`templatefile()`): literal text with
/// `${…}` interpolations and `%{…}` directives.
pub fn parse_template(file: crate::FileId, src: &str) -> Result<Template, Vec<SyntaxError>> {
    use pest::Parser as _;
    let structural = super::guard::check_template(src);
    if !structural.is_empty() {
        return Err(structural);
    }
    let pairs = super::Grammar::parse(Rule::template_file, src).map_err(|e| vec![super::parser::from_pest(src, &e)])?;
    let lower = Lower {
        file,
        trivia: std::cell::RefCell::new(super::trivia::TriviaCursor::new(src, file, Vec::new())),
        errors: std::cell::RefCell::new(Vec::new()),
        base: std::cell::Cell::new(0),
    };
    let mut pieces = Vec::new();
    for pair in pairs.flat_map(|p| kids(&p).collect::<Vec<_>>()) {
        match pair.as_rule() {
            Rule::interpolation => pieces.push(Piece::Part(lower.interpolation(&pair))),
            Rule::directive => pieces.push(Piece::Directive(lower.directive(&pair))),
            Rule::template_text => push_text(&mut pieces, &pair.as_str().replace("$${", "${").replace("%%{", "%{")),
            _ => {}
        }
    }
    let parts = lower.assemble(pieces);
    let errors = lower.errors.into_inner();
    if errors.is_empty() {
        Ok(Template { parts, raw: src.to_string() })
    } else {
        Err(errors)
    }
}
