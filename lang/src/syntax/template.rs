//! Lowering of string literals and heredocs into templates: literal text
//! (escapes decoded) interleaved with `${…}` interpolations. Terraform's
//! template directives (`%{ for }`, `%{ if }`) are refused with our form;
//! `%%{` is a literal `%{`.

use super::ast::{Heredoc, Template, TemplatePart};
use super::error::SyntaxError;
use super::parser::{kids, Lower, P};
use super::Rule;

impl Lower<'_> {
    /// `"text ${expr} text"`
    pub(crate) fn string(&self, pair: &P<'_>) -> Template {
        let mut parts = Vec::new();
        for part in kids(pair) {
            match part.as_rule() {
                Rule::interpolation => parts.push(self.interpolation(&part)),
                _ => match unescape(part.as_str()) {
                    Ok(text) => push_literal(&mut parts, &self.literal(&text, part.as_str(), self.start(&part))),
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
        Template { parts, raw: pair.as_str().to_string() }
    }

    /// `<<EOT` … `EOT`, or `<<-EOT` … `EOT` with the common indent removed.
    pub(crate) fn heredoc(&self, pair: &P<'_>) -> Heredoc {
        let mut strip_indent = false;
        let mut lines: Vec<Vec<TemplatePart>> = Vec::new();
        for part in kids(pair) {
            match part.as_rule() {
                Rule::heredoc_strip => strip_indent = true,
                Rule::heredoc_line => {
                    let mut line = Vec::new();
                    for piece in kids(&part) {
                        match piece.as_rule() {
                            Rule::interpolation => line.push(self.interpolation(&piece)),
                            _ => {
                                let text = piece.as_str().replace("$${", "${");
                                push_literal(&mut line, &self.literal(&text, piece.as_str(), self.start(&piece)));
                            }
                        }
                    }
                    push_literal(&mut line, "\n");
                    lines.push(line);
                }
                _ => {} // the tag
            }
        }
        if strip_indent {
            dedent(&mut lines);
        }
        let mut parts = Vec::new();
        for line in lines {
            for part in line {
                match part {
                    TemplatePart::Literal(s) => push_literal(&mut parts, &s),
                    interpolation @ TemplatePart::Interpolation(_) => parts.push(interpolation),
                }
            }
        }
        Heredoc { template: Template { parts, raw: pair.as_str().to_string() }, strip_indent }
    }

    /// Literal text, with `%%{` for a literal `%{`; a lone `%{` (in `raw`,
    /// which starts at `start`) is a directive, which we do not have.
    fn literal(&self, text: &str, raw: &str, start: usize) -> String {
        if let Some(at) = directive(raw) {
            self.error(SyntaxError::Unexpected {
                message: "template directives are not supported".into(),
                span: (start + at, 2).into(),
                label: "a directive".into(),
                help: Some(
                    "build the text with a `for` expression and `join(\"\", [for x in LIST: \"…${x}…\"])`, or a \
                     condition `cond ? \"a\" : \"b\"`; write `%%{` for a literal `%{`"
                        .into(),
                ),
            });
        }
        text.replace("%%{", "%{")
    }

    fn interpolation(&self, pair: &P<'_>) -> TemplatePart {
        TemplatePart::Interpolation(self.expr(&kids(pair).next().expect("grammar: interpolation")))
    }
}

fn push_literal(parts: &mut Vec<TemplatePart>, text: &str) {
    if let Some(TemplatePart::Literal(last)) = parts.last_mut() {
        last.push_str(text);
    } else if !text.is_empty() {
        parts.push(TemplatePart::Literal(text.to_string()));
    }
}

/// Where `%{` stands in `raw` without the `%` that escapes it.
fn directive(raw: &str) -> Option<usize> {
    let bytes = raw.as_bytes();
    (0..bytes.len().saturating_sub(1))
        .find(|&i| bytes[i] == b'%' && bytes[i + 1] == b'{' && (i == 0 || bytes[i - 1] != b'%'))
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
fn dedent(lines: &mut [Vec<TemplatePart>]) {
    let indent_of = |line: &[TemplatePart]| -> Option<usize> {
        match line.first() {
            Some(TemplatePart::Literal(s)) => {
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
        if let Some(TemplatePart::Literal(s)) = line.first_mut() {
            let strip = s.len().min(common).min(s.len() - s.trim_start_matches([' ', '\t']).len());
            s.drain(..strip);
        }
    }
}

/// Parse the text of a template file (`templatefile()`): literal text with
/// `${…}` interpolations.
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
    let mut parts = Vec::new();
    for pair in pairs.flat_map(|p| kids(&p).collect::<Vec<_>>()) {
        match pair.as_rule() {
            Rule::interpolation => parts.push(lower.interpolation(&pair)),
            Rule::template_text => {
                let text = pair.as_str().replace("$${", "${");
                push_literal(&mut parts, &lower.literal(&text, pair.as_str(), lower.start(&pair)));
            }
            _ => {}
        }
    }
    let errors = lower.errors.into_inner();
    if errors.is_empty() {
        Ok(Template { parts, raw: src.to_string() })
    } else {
        Err(errors)
    }
}
