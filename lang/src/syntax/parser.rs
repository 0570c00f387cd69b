//! Lowering of items and blocks: pest pairs to [`ast`](super::ast) nodes,
//! and pest's errors to diagnostics a person can act on.

use std::cell::{Cell, RefCell};

use pest::error::{ErrorVariant, InputLocation};
use pest::iterators::Pair;
use pest::Parser as _;

use crate::source::{FileId, Span};

use super::ast::{Block, Entry, EntryKind, File, Ident, Item, ItemKind, TypeExpr};
use super::error::SyntaxError;
use super::trivia::TriviaCursor;
use super::{guard, Grammar, Rule};

pub(crate) type P<'i> = Pair<'i, Rule>;

/// The children of a pair.
pub(crate) fn kids<'i>(pair: &P<'i>) -> pest::iterators::Pairs<'i, Rule> {
    pair.clone().into_inner()
}

/// Shared state of one file's lowering.
pub(crate) struct Lower<'s> {
    pub file: FileId,
    pub trivia: RefCell<TriviaCursor<'s>>,
    pub errors: RefCell<Vec<SyntaxError>>,
    /// Where the text the pairs were parsed from starts in the file (an
    /// item parsed on its own).
    pub base: Cell<usize>,
}

impl Lower<'_> {
    pub fn span(&self, pair: &P<'_>) -> Span {
        let s = pair.as_span();
        Span::new(self.file, self.base.get() + s.start(), self.base.get() + s.end())
    }

    /// Where a pair starts in the file.
    pub fn start(&self, pair: &P<'_>) -> usize {
        self.base.get() + pair.as_span().start()
    }

    pub fn ident(&self, pair: &P<'_>) -> Ident {
        Ident { name: pair.as_str().to_string(), span: self.span(pair) }
    }

    pub fn error(&self, error: SyntaxError) {
        self.errors.borrow_mut().push(error);
    }
}

/// Check that bytes are text we can parse: UTF-8 without NUL bytes.
pub fn parse_bytes(bytes: &[u8]) -> Result<&str, SyntaxError> {
    let text =
        std::str::from_utf8(bytes).map_err(|e| SyntaxError::InvalidUtf8 { span: (e.valid_up_to(), 1).into() })?;
    if let Some(at) = text.find('\0') {
        return Err(SyntaxError::NulByte { span: (at, 1).into() });
    }
    Ok(text)
}

/// Parse one file's text. All errors found are returned together.
pub fn parse_str(file: FileId, src: &str) -> Result<File, Vec<SyntaxError>> {
    match parse_recovering(file, src) {
        Recovered { file, errors, .. } if errors.is_empty() => Ok(file),
        Recovered { errors, .. } => Err(errors),
    }
}

/// A file parsed as far as it goes.
pub struct Recovered {
    /// The items that parsed (a malformed literal lowered to `null`).
    pub file: File,
    pub errors: Vec<SyntaxError>,
    /// Every declaration of the text is in `file`: the errors are only
    /// in values (a malformed CIDR, an unknown escape), not in structure.
    pub whole: bool,
}

/// Parse one file's text, keeping what parsed beside the errors.
pub fn parse_recovering(file: FileId, src: &str) -> Recovered {
    let empty = |errors| Recovered {
        file: File { id: file, items: Vec::new(), trailing_comments: Vec::new() },
        errors,
        whole: false,
    };
    if let Some(at) = src.find('\0') {
        return empty(vec![SyntaxError::NulByte { span: (at, 1).into() }]);
    }
    let comments = match guard::scan(src) {
        Ok(comments) => comments,
        Err(errors) => return empty(errors),
    };
    let new_lower = || Lower {
        file,
        trivia: RefCell::new(TriviaCursor::new(src, file, comments.clone())),
        errors: RefCell::new(Vec::new()),
        base: Cell::new(0),
    };
    let lower = new_lower();
    let mut items = Vec::new();
    let mut failures = Vec::new();
    each_item(src, &mut failures, |base, pair| {
        lower.base.set(base);
        items.push(lower.item(pair));
    });
    let whole = failures.is_empty();
    lower.errors.borrow_mut().extend(failures);
    let trailing_comments = lower.trivia.borrow_mut().before(usize::MAX);
    let errors = lower.errors.into_inner();
    Recovered { file: File { id: file, items, trailing_comments }, errors, whole }
}

/// Parse `src` an item at a time, as `file = (item ~ sep?)*` reads it, and
/// hand each item to `lower` with where its text starts. pest keeps two
/// tokens (80 bytes) for every pair of a parse until the parse is dropped:
/// parsed whole, a 2 MB file held over 100 MB of them at once.
///
/// An item that does not parse is reported (worded as the `file` rule
/// words it) and skipped to the next top-level declaration, so every
/// syntax error of a file shows in one run.
fn each_item(src: &str, errors: &mut Vec<SyntaxError>, mut lower: impl FnMut(usize, &P<'_>)) {
    let mut at = skip_trivia(src, 0);
    while at < src.len() {
        let parsed = Grammar::parse(Rule::lone_item, &src[at..]);
        let lone = parsed.ok().and_then(|mut p| p.next());
        let item = lone.as_ref().and_then(|l| kids(l).next());
        let (Some(lone), Some(item)) = (&lone, item) else {
            let failed_at = match Grammar::parse(Rule::file, &src[at..]) {
                Err(e) => {
                    let error = from_pest_at(src, at, &e);
                    let pos = at + pest_pos(&e);
                    errors.push(error);
                    pos
                }
                // The file rule reads on where one item could not: cannot
                // happen with `file = (item ~ sep?)*`, but never loop.
                Ok(_) => at,
            };
            at = next_declaration(src, failed_at);
            continue;
        };
        let end = at + lone.as_span().end();
        lower(at, &item);
        at = skip_trivia(src, end);
        if src[at..].starts_with([',', ';']) {
            at = skip_trivia(src, at + 1);
        }
    }
}

/// Where the next top-level declaration starts after `from`: the next line
/// that begins with a name in the first column (the formatter writes every
/// declaration there and indents everything inside one).
fn next_declaration(src: &str, from: usize) -> usize {
    let mut line = src[from.min(src.len())..].find('\n').map_or(src.len(), |n| from + n + 1);
    while line < src.len() {
        if src[line..].starts_with(|c: char| c.is_ascii_alphabetic() || c == '_') {
            return line;
        }
        line = src[line..].find('\n').map_or(src.len(), |n| line + n + 1);
    }
    src.len()
}

/// The end of the whitespace and comments from `at` (the grammar's
/// `WHITESPACE` and `COMMENT`).
fn skip_trivia(src: &str, mut at: usize) -> usize {
    loop {
        let rest = &src[at..];
        let trimmed = rest.trim_start_matches([' ', '\t', '\r', '\n', '\u{FEFF}']);
        at += rest.len() - trimmed.len();
        if trimmed.starts_with('#') || trimmed.starts_with("//") {
            at += trimmed.find('\n').unwrap_or(trimmed.len());
        } else {
            return at;
        }
    }
}

/// Parse with the file registered in `sources` under `name`.
pub fn parse_file(
    sources: &mut crate::SourceMap,
    name: &str,
    bytes: &[u8],
) -> (FileId, Result<File, Vec<SyntaxError>>) {
    match parse_bytes(bytes) {
        Ok(text) => {
            let id = sources.add(name, text);
            (id, parse_str(id, text))
        }
        Err(e) => {
            // Keep what is readable so the diagnostic can show the context.
            let id = sources.add(name, String::from_utf8_lossy(bytes).replace('\0', "\u{FFFD}"));
            (id, Err(vec![e]))
        }
    }
}

impl Lower<'_> {
    fn item(&self, pair: &P<'_>) -> Item {
        let start = self.span(pair);
        let mut trivia = self.trivia.borrow_mut().leading(start.start as usize);
        let kind = self.item_kind(pair);
        // The pair's own span may run on over trailing comments (pest keeps
        // the whitespace skipped before an optional part that did not
        // match); the last child's end is exact.
        let span = start.with_end(item_end(&kind).end);
        trivia.trailing = self.trivia.borrow_mut().trailing(span.end as usize);
        Item { trivia, kind, span }
    }

    fn item_kind(&self, pair: &P<'_>) -> ItemKind {
        let mut it = kids(pair).peekable();
        let sensitive = it.next_if(|p| p.as_rule() == Rule::sensitive).is_some();
        match pair.as_rule() {
            Rule::let_item => {
                let _kw = it.next();
                let name = self.ident(&it.next().expect("grammar: let name"));
                let value = self.expr(&it.next().expect("grammar: let value"));
                ItemKind::Let { name, value }
            }
            Rule::input_item => {
                let _kw = it.next();
                let name = self.ident(&it.next().expect("grammar: input name"));
                let ty = self.type_expr(&it.next().expect("grammar: input type"));
                let mut default = None;
                let mut body = None;
                for p in it {
                    match p.as_rule() {
                        Rule::expr => default = Some(self.expr(&p)),
                        _ => body = Some(self.block(&p)),
                    }
                }
                ItemKind::Input { sensitive, name, ty, default, body }
            }
            Rule::output_item => {
                let _kw = it.next();
                let name = self.ident(&it.next().expect("grammar: output name"));
                let value = self.expr(&it.next().expect("grammar: output value"));
                ItemKind::Output { sensitive, name, value }
            }
            Rule::module_item => {
                let _kw = it.next();
                let name = self.ident(&it.next().expect("grammar: module name"));
                let source_pair = it.next().expect("grammar: module source");
                let source = self.string(&source_pair);
                let body = self.block(&it.next().expect("grammar: module body"));
                ItemKind::Module { name, source, source_span: self.span(&source_pair), body }
            }
            Rule::backend_item => {
                let _kw = it.next();
                let kind = self.ident(&it.next().expect("grammar: backend kind"));
                let body = self.block(&it.next().expect("grammar: backend body"));
                ItemKind::Backend { kind, body }
            }
            Rule::resource_item => {
                let type_name = self.ident(&it.next().expect("grammar: resource type"));
                let name = self.ident(&it.next().expect("grammar: resource name"));
                let body = self.block(&it.next().expect("grammar: resource body"));
                ItemKind::Resource { type_name, name, body }
            }
            _ => {
                let name = self.ident(&it.next().expect("grammar: provider name"));
                let body = self.block(&it.next().expect("grammar: provider body"));
                ItemKind::Provider { name, body }
            }
        }
    }

    pub(crate) fn block(&self, pair: &P<'_>) -> Block {
        let span = self.span(pair);
        let mut entries = Vec::new();
        for entry in kids(pair) {
            let entry_span = self.span(&entry);
            let mut trivia = self.trivia.borrow_mut().leading(entry_span.start as usize);
            let mut it = kids(&entry);
            let name = self.ident(&it.next().expect("grammar: entry name"));
            let rest = it.next().expect("grammar: entry body");
            let kind = match entry.as_rule() {
                Rule::attribute => EntryKind::Attribute { name, value: self.expr(&rest) },
                _ => EntryKind::Block { name, body: self.block(&rest) },
            };
            let entry_span = match &kind {
                EntryKind::Attribute { name, value } => name.span.to(value.span),
                EntryKind::Block { name, body } => name.span.to(body.span),
            };
            trivia.trailing = self.trivia.borrow_mut().trailing(entry_span.end as usize);
            entries.push(Entry { trivia, kind, span: entry_span });
        }
        let inner_comments = self.trivia.borrow_mut().before(span.end as usize);
        let multiline = pair.as_str().contains('\n');
        Block { entries, inner_comments, multiline, span }
    }

    fn type_expr(&self, pair: &P<'_>) -> TypeExpr {
        let mut it = kids(pair);
        let name = self.ident(&it.next().expect("grammar: type name"));
        let arg = it.next().map(|p| Box::new(self.type_expr(&p)));
        let span = if arg.is_some() { self.span(pair) } else { name.span };
        TypeExpr { name, arg, span }
    }
}

/// The span of an item's last part, which ends exactly where the item does.
fn item_end(kind: &ItemKind) -> Span {
    match kind {
        ItemKind::Let { value, .. } | ItemKind::Output { value, .. } => value.span,
        ItemKind::Input { name, ty, default, body, .. } => {
            body.as_ref().map(|b| b.span).or(default.as_ref().map(|d| d.span)).unwrap_or(name.span.to(ty.span))
        }
        ItemKind::Module { body, .. }
        | ItemKind::Backend { body, .. }
        | ItemKind::Resource { body, .. }
        | ItemKind::Provider { body, .. } => body.span,
    }
}

/// Words for grammar rules in "expected …" messages.
fn rule_words(rule: Rule) -> Option<&'static str> {
    Some(match rule {
        Rule::ident => "a name",
        Rule::expr
        | Rule::binary
        | Rule::number
        | Rule::string
        | Rule::heredoc
        | Rule::list
        | Rule::map
        | Rule::call_or_variable
        | Rule::call_args
        | Rule::paren
        | Rule::cidr
        | Rule::ip
        | Rule::port_range
        | Rule::kw_true
        | Rule::kw_false
        | Rule::kw_null
        | Rule::list_for
        | Rule::map_for
        | Rule::neg
        | Rule::not => "an expression",
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
        | Rule::rem => "an operator",
        Rule::get_attr | Rule::index | Rule::splat => "`.` or `[`",
        Rule::block => "`{`",
        Rule::attribute | Rule::nested_block => "an attribute (`name = value`) or a block",
        Rule::let_item
        | Rule::input_item
        | Rule::output_item
        | Rule::module_item
        | Rule::backend_item
        | Rule::resource_item
        | Rule::provider_item => "a declaration",
        Rule::type_expr => "a type",
        Rule::map_entry => "a `key = value` entry",
        Rule::EOI => "end of file",
        Rule::sensitive | Rule::kw_sensitive => "`sensitive`",
        Rule::kw_for => "`for`",
        Rule::kw_in => "`in`",
        Rule::kw_if => "`if`",
        Rule::for_if => "`if` or the closing bracket",
        _ => return None,
    })
}

pub(crate) fn from_pest(src: &str, err: &pest::error::Error<Rule>) -> SyntaxError {
    from_pest_at(src, 0, err)
}

fn pest_pos(err: &pest::error::Error<Rule>) -> usize {
    match err.location {
        InputLocation::Pos(p) | InputLocation::Span((p, _)) => p,
    }
}

/// pest's error for text that starts at `base` in `src`.
fn from_pest_at(src: &str, base: usize, err: &pest::error::Error<Rule>) -> SyntaxError {
    let pos = base + pest_pos(err);
    let found = describe_at(src, pos);
    let mut expected: Vec<&str> = match &err.variant {
        ErrorVariant::ParsingError { positives, .. } => positives.iter().filter_map(|r| rule_words(*r)).collect(),
        ErrorVariant::CustomError { .. } => Vec::new(),
    };
    if let Some(attempts) = err.parse_attempts() {
        for token in attempts.expected_tokens() {
            let text = token.to_string();
            let words: &'static str = match text.trim_matches(['\'', '"']) {
                "=" => "`=`",
                "{" => "`{`",
                "}" => "`}`",
                "]" => "`]`",
                ")" => "`)`",
                ":" => "`:`",
                "," => "`,`",
                _ => continue,
            };
            expected.push(words);
        }
    }
    expected.sort_unstable();
    expected.dedup();
    let label =
        if expected.is_empty() { "unexpected here".to_string() } else { format!("expected {}", join_or(&expected)) };
    let len = found.1.max(1).min(src.len().saturating_sub(pos).max(1));
    let help = hint(src, pos);
    SyntaxError::Unexpected {
        message: format!("unexpected {}", found.0),
        span: (pos, if pos >= src.len() { 0 } else { len }).into(),
        label,
        help,
    }
}

/// What stands at `pos`, in words, and how long it is.
fn describe_at(src: &str, pos: usize) -> (String, usize) {
    let rest = &src[pos.min(src.len())..];
    let Some(c) = rest.chars().next() else { return ("end of file".into(), 0) };
    if c.is_ascii_alphanumeric() || c == '_' {
        let word: String = rest.chars().take_while(|c| c.is_ascii_alphanumeric() || *c == '_' || *c == '.').collect();
        return (format!("`{word}`"), word.len());
    }
    (format!("`{c}`"), c.len_utf8())
}

fn join_or(words: &[&str]) -> String {
    match words {
        [] => String::new(),
        [one] => (*one).to_string(),
        [init @ .., last] => format!("{} or {last}", init.join(", ")),
    }
}

/// Help for mistakes people coming from other tools make: a character
/// where ours takes another, and Terraform's spellings of what we write
/// our own way (read from the line the error is on).
fn hint(src: &str, pos: usize) -> Option<String> {
    let rest = src.get(pos..)?;
    let line_start = src[..pos].rfind('\n').map_or(0, |n| n + 1);
    let line = src[line_start..].lines().next().unwrap_or_default().trim_start();
    if let Some(help) = terraform_hint(line) {
        return Some(help);
    }
    if rest.starts_with(':') {
        return Some("attributes are set with `=`, as in `cidr = 10.0.0.0/16`".into());
    }
    if rest.starts_with('\'') {
        return Some("strings use double quotes: \"like this\"".into());
    }
    if rest.starts_with("resource") {
        return Some("resources are declared as `TYPE NAME { … }`, e.g. `vpc main { cidr = 10.0.0.0/16 }`".into());
    }
    None
}

/// Our form of a line written as Terraform writes it.
fn terraform_hint(line: &str) -> Option<String> {
    let words: Vec<&str> = line.split_whitespace().collect();
    let quoted = |i: usize| words.get(i).map(|w| w.trim_matches('"')).filter(|w| !w.is_empty() && *w != "{");
    let help = match words.first().copied()? {
        "variable" => format!(
            "inputs are declared as `input NAME: TYPE [= DEFAULT]`: write `input {}: string = …`",
            quoted(1).unwrap_or("NAME")
        ),
        "resource" => match (quoted(1), quoted(2)) {
            (Some(t), Some(n)) => format!("resources are declared as `TYPE NAME {{ … }}`: write `{t} {n} {{`"),
            _ => "resources are declared as `TYPE NAME { … }`, e.g. `vpc main { cidr = 10.0.0.0/16 }`".into(),
        },
        "data" => "there are no data sources yet: give the id of what exists as an input (`input vpc_id: string`), \
                   or manage it here with `k8sinfra import`"
            .into(),
        "locals" => "named values are `let NAME = EXPR`, one per line at the top level".into(),
        "output" if line.contains('{') => format!(
            "outputs are `output NAME = EXPR`: write `output {} = …` (`sensitive output …` for a secret)",
            quoted(1).unwrap_or("NAME")
        ),
        "module" if line.contains('"') && !line.contains('=') => format!(
            "modules are `module NAME = \"SOURCE\" {{ inputs }}`: write `module {} = \"./path\" {{`",
            quoted(1).unwrap_or("NAME")
        ),
        "provider" => format!(
            "provider settings are a block named after the provider: write `{} {{ region = \"…\" }}`",
            quoted(1).unwrap_or("aws")
        ),
        "terraform" => "the state's place is a top-level `backend s3 { bucket = \"…\", key = \"…\" }` \
                        (or none, for a local file)"
            .into(),
        "backend" if line.contains('"') => format!(
            "the backend is a top-level `backend {} {{ … }}`, outside any other block",
            quoted(1).unwrap_or("s3")
        ),
        "dynamic" => {
            format!("give repeated blocks as a value: `{} = [for r in LIST: {{ … }}]`", quoted(1).unwrap_or("BLOCK"))
        }
        "moved" => {
            "there is no `moved` block yet: after renaming, move the state with `k8sinfra state mv OLD NEW`".into()
        }
        _ if line.contains("%{") => "a template directive is `%{ for X in LIST }`, `%{ endfor }`, `%{ if COND }`, \
                                    `%{ else }` or `%{ endif }` (a `~` beside a brace strips the whitespace on that \
                                    side); write `%%{` for a literal `%{`"
            .into(),
        _ => return None,
    };
    Some(help)
}

/// Parse a vars file (`name = value` lines) into its assignments.
pub fn parse_vars(file: FileId, src: &str) -> Result<Vec<(Ident, super::ast::Expr)>, Vec<SyntaxError>> {
    let structural = guard::check(src);
    if !structural.is_empty() {
        return Err(structural);
    }
    let pairs = Grammar::parse(Rule::vars_file, src).map_err(|e| vec![from_pest(src, &e)])?;
    let lower = Lower {
        file,
        trivia: RefCell::new(TriviaCursor::new(src, file, Vec::new())),
        errors: RefCell::new(Vec::new()),
        base: Cell::new(0),
    };
    let mut out = Vec::new();
    for pair in pairs.flat_map(|p| kids(&p).collect::<Vec<_>>()) {
        if pair.as_rule() == Rule::attribute {
            let mut it = kids(&pair);
            let name = lower.ident(&it.next().expect("grammar: var name"));
            let value = lower.expr(&it.next().expect("grammar: var value"));
            out.push((name, value));
        }
    }
    let errors = lower.errors.into_inner();
    if errors.is_empty() {
        Ok(out)
    } else {
        Err(errors)
    }
}
