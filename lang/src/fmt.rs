//! The canonical formatter behind `k8sinfra fmt`. It prints the syntax tree
//! with two-space indentation, aligned `=` in runs of attributes, one blank
//! line at most between entries, and every comment where it was attached.
//!
//! Layout decisions keep what the author chose where both are canonical: a
//! block, list, map or call written on one line stays on one line if it
//! holds no comments and fits in [`WIDTH`] columns; otherwise it gets one
//! entry per line. Strings, heredocs and numbers print exactly as written.
//! Formatting its own output changes nothing (tested on every file).

use crate::syntax::ast::{
    Block, Comment, Element, Entry, EntryKind, Expr, ExprKind, File, ForExpr, Item, ItemKind, MapEntry, MapKey, Trivia,
    TypeExpr, UnaryOp,
};

/// Widest line a one-line construct may make.
pub const WIDTH: usize = 100;
const INDENT: &str = "  ";

/// Format a parsed file.
#[must_use]
pub fn format_file(file: &File) -> String {
    let mut p = Printer::default();
    for (i, item) in file.items.iter().enumerate() {
        let separate = i > 0
            && (item.trivia.blank_before
                || leading_blank(&item.trivia)
                || is_multiline_item(item)
                || is_multiline_item(&file.items[i - 1]));
        p.item(item, i == 0, separate);
    }
    if !file.trailing_comments.is_empty() {
        if !file.items.is_empty() {
            p.out.push('\n');
        }
        p.comments(&file.trailing_comments);
    }
    let mut out = p.out.trim_end().to_string();
    out.push('\n');
    if out.trim().is_empty() {
        String::new()
    } else {
        out
    }
}

fn leading_blank(t: &Trivia) -> bool {
    t.leading.first().is_some_and(|c| c.blank_before)
}

fn is_multiline_item(item: &Item) -> bool {
    match &item.kind {
        ItemKind::Resource { body, .. }
        | ItemKind::Provider { body, .. }
        | ItemKind::Backend { body, .. }
        | ItemKind::Module { body, .. } => block_flat(body).is_none(),
        ItemKind::Input { body: Some(body), .. } => block_flat(body).is_none(),
        _ => false,
    }
}

#[derive(Default)]
struct Printer {
    out: String,
    indent: usize,
}

impl Printer {
    fn newline(&mut self) {
        while self.out.ends_with(' ') {
            self.out.pop();
        }
        self.out.push('\n');
        for _ in 0..self.indent {
            self.out.push_str(INDENT);
        }
    }

    fn write(&mut self, s: &str) {
        self.out.push_str(s);
    }

    fn column(&self) -> usize {
        self.out.len() - self.out.rfind('\n').map_or(0, |i| i + 1)
    }

    /// Leading comments, each on its own line; the caller is at line start
    /// and has already decided about a blank line before the first one.
    fn comments(&mut self, comments: &[Comment]) {
        for (i, c) in comments.iter().enumerate() {
            if c.blank_before && i > 0 {
                self.newline();
            }
            self.write(&c.text);
            self.newline();
        }
    }

    fn trailing(&mut self, trivia: &Trivia) {
        if let Some(c) = &trivia.trailing {
            self.write(" ");
            self.write(&c.text);
        }
    }

    fn item(&mut self, item: &Item, first: bool, separate: bool) {
        if !first {
            self.newline();
            if separate {
                self.newline();
            }
        }
        self.comments(&item.trivia.leading);
        if !item.trivia.leading.is_empty() && item.trivia.blank_before {
            self.newline();
        }
        match &item.kind {
            ItemKind::Let { name, value } => {
                self.write(&format!("let {} = ", name.name));
                self.expr(value);
            }
            ItemKind::Input { sensitive, name, ty, default, body } => {
                if *sensitive {
                    self.write("sensitive ");
                }
                self.write(&format!("input {}: {}", name.name, type_text(ty)));
                if let Some(d) = default {
                    self.write(" = ");
                    self.expr(d);
                }
                if let Some(body) = body {
                    self.write(" ");
                    self.block(body);
                }
            }
            ItemKind::Output { sensitive, name, value } => {
                if *sensitive {
                    self.write("sensitive ");
                }
                self.write(&format!("output {} = ", name.name));
                self.expr(value);
            }
            ItemKind::Module { name, source, body, .. } => {
                self.write(&format!("module {} = {} ", name.name, source.raw));
                self.block(body);
            }
            ItemKind::Backend { kind, body } => {
                self.write(&format!("backend {} ", kind.name));
                self.block(body);
            }
            ItemKind::Resource { type_name, name, body } => {
                self.write(&format!("{} {} ", type_name.name, name.name));
                self.block(body);
            }
            ItemKind::Provider { name, body } => {
                self.write(&format!("{} ", name.name));
                self.block(body);
            }
        }
        self.trailing(&item.trivia);
    }

    fn block(&mut self, block: &Block) {
        if let Some(flat) = block_flat(block) {
            if self.column() + flat.len() <= WIDTH {
                self.write(&flat);
                return;
            }
        }
        self.write("{");
        self.indent += 1;
        let widths = alignment(
            &block.entries,
            |e| match &e.kind {
                EntryKind::Attribute { name, .. } => Some(name.name.len()),
                EntryKind::Block { .. } => None,
            },
            |e| &e.trivia,
        );
        for (i, entry) in block.entries.iter().enumerate() {
            self.entry(entry, i == 0, widths[i]);
        }
        if !block.inner_comments.is_empty() {
            self.newline();
            let first = block.entries.is_empty();
            let comments = &block.inner_comments;
            for (i, c) in comments.iter().enumerate() {
                if c.blank_before && !(first && i == 0) {
                    self.newline();
                }
                self.write(&c.text);
                if i + 1 < comments.len() {
                    self.newline();
                }
            }
        }
        self.indent -= 1;
        self.newline();
        self.write("}");
    }

    fn entry(&mut self, entry: &Entry, first: bool, align: usize) {
        self.newline();
        if !first && (entry.trivia.blank_before || leading_blank(&entry.trivia)) {
            self.newline();
        }
        self.comments(&entry.trivia.leading);
        if !entry.trivia.leading.is_empty() && entry.trivia.blank_before && !first {
            self.newline();
        }
        match &entry.kind {
            EntryKind::Attribute { name, value } => {
                self.write(&format!("{:<align$} = ", name.name));
                self.expr(value);
            }
            EntryKind::Block { name, body } => {
                self.write(&format!("{} ", name.name));
                self.block(body);
            }
        }
        self.trailing(&entry.trivia);
    }

    fn expr(&mut self, e: &Expr) {
        if let Some(text) = flat(e) {
            if self.column() + text.len() <= WIDTH || !has_breakable(e) {
                self.write(&text);
                return;
            }
        }
        match &e.kind {
            // `[{ … }]` and `f({ … })`: a lone collection hugs its brackets.
            ExprKind::List { items, .. }
                if items.len() == 1 && hugs(&items[0].value) && !items[0].trivia.has_comments() =>
            {
                self.write("[");
                self.expr(&items[0].value);
                self.write("]");
            }
            ExprKind::Call { name, args, .. } if args.len() == 1 && hugs(&args[0]) => {
                self.write(&name.name);
                self.write("(");
                self.expr(&args[0]);
                self.write(")");
            }
            ExprKind::List { items, .. } => self.list(items),
            ExprKind::Map { entries, .. } => self.map(entries),
            ExprKind::Call { name, args, .. } => {
                self.write(&name.name);
                self.write("(");
                self.indent += 1;
                for arg in args {
                    self.newline();
                    self.expr(arg);
                    self.write(",");
                }
                self.indent -= 1;
                self.newline();
                self.write(")");
            }
            ExprKind::For(f) => self.for_expr(f),
            ExprKind::Heredoc(h) => self.write(&h.template.raw),
            ExprKind::Unary(op, inner) => {
                self.write(unary_symbol(*op));
                self.expr(inner);
            }
            ExprKind::Binary(op, l, r) => {
                self.expr(l);
                self.write(&format!(" {} ", op.symbol()));
                self.expr(r);
            }
            ExprKind::Conditional(c, a, b) => {
                self.expr(c);
                self.write(" ? ");
                self.expr(a);
                self.write(" : ");
                self.expr(b);
            }
            ExprKind::Paren(inner) => {
                self.write("(");
                self.expr(inner);
                self.write(")");
            }
            ExprKind::GetAttr(base, name) => {
                self.expr(base);
                self.write(".");
                self.write(&name.name);
            }
            ExprKind::Index(base, index) => {
                self.expr(base);
                self.write("[");
                self.expr(index);
                self.write("]");
            }
            ExprKind::Splat(base) => {
                self.expr(base);
                self.write("[*]");
            }
            _ => self.write(&flat(e).unwrap_or_default()),
        }
    }

    fn list(&mut self, items: &[Element]) {
        self.write("[");
        self.indent += 1;
        for (i, item) in items.iter().enumerate() {
            self.newline();
            if i > 0 && (item.trivia.blank_before || leading_blank(&item.trivia)) {
                self.newline();
            }
            self.comments(&item.trivia.leading);
            self.expr(&item.value);
            self.write(",");
            self.trailing(&item.trivia);
        }
        self.indent -= 1;
        self.newline();
        self.write("]");
    }

    fn map(&mut self, entries: &[MapEntry]) {
        self.write("{");
        self.indent += 1;
        let widths = alignment(entries, |e| Some(key_text(&e.key).len()), |e| &e.trivia);
        for (i, entry) in entries.iter().enumerate() {
            self.newline();
            if i > 0 && (entry.trivia.blank_before || leading_blank(&entry.trivia)) {
                self.newline();
            }
            self.comments(&entry.trivia.leading);
            let width = widths[i];
            self.write(&format!("{:<width$} = ", key_text(&entry.key)));
            self.expr(&entry.value);
            self.trailing(&entry.trivia);
        }
        self.indent -= 1;
        self.newline();
        self.write("}");
    }

    fn for_expr(&mut self, f: &ForExpr) {
        let (open, close) = if f.key.is_some() { ("{", "}") } else { ("[", "]") };
        self.write(open);
        self.write(&format!("for {} in ", for_vars(f)));
        self.expr(&f.collection);
        self.write(": ");
        if let Some(key) = &f.key {
            self.expr(key);
            self.write(" => ");
        }
        self.expr(&f.value);
        if let Some(cond) = &f.condition {
            self.write(" if ");
            self.expr(cond);
        }
        self.write(close);
    }
}

/// For each entry, the name width to pad to: the widest name in its run of
/// aligned entries (single-line attributes with no blank line or comment
/// between them). Entries that are not aligned get their own width.
fn alignment<T>(entries: &[T], width: impl Fn(&T) -> Option<usize>, trivia: impl Fn(&T) -> &Trivia) -> Vec<usize> {
    let mut out = vec![0; entries.len()];
    let mut run_start = 0;
    let flush = |out: &mut Vec<usize>, from: usize, to: usize| {
        let widest = (from..to).filter_map(|i| width(&entries[i])).max().unwrap_or(0);
        for slot in out.iter_mut().take(to).skip(from) {
            *slot = widest;
        }
    };
    for (i, entry) in entries.iter().enumerate() {
        let t = trivia(entry);
        let breaks = width(entry).is_none() || t.blank_before || !t.leading.is_empty();
        if breaks || i == 0 {
            flush(&mut out, run_start, i);
            run_start = i;
        }
        if width(entry).is_none() {
            flush(&mut out, run_start, i);
            out[i] = 0;
            run_start = i + 1;
        }
    }
    flush(&mut out, run_start, entries.len());
    out
}

fn key_text(key: &MapKey) -> String {
    match key {
        MapKey::Ident(i) => i.name.clone(),
        MapKey::String(t, _) => t.raw.clone(),
    }
}

fn type_text(t: &TypeExpr) -> String {
    match &t.arg {
        Some(arg) => format!("{}({})", t.name.name, type_text(arg)),
        None => t.name.name.clone(),
    }
}

fn unary_symbol(op: UnaryOp) -> &'static str {
    match op {
        UnaryOp::Neg => "-",
        UnaryOp::Not => "!",
    }
}

fn for_vars(f: &ForExpr) -> String {
    match &f.key_var {
        Some(k) => format!("{}, {}", k.name, f.value_var.name),
        None => f.value_var.name.clone(),
    }
}

/// Whether `e` is a collection printed over several lines, which may hug
/// the brackets of a call or list around it.
fn hugs(e: &Expr) -> bool {
    matches!(e.kind, ExprKind::List { .. } | ExprKind::Map { .. }) && flat(e).is_none()
}

/// Whether printing `e` over several lines could shorten it.
fn has_breakable(e: &Expr) -> bool {
    matches!(e.kind, ExprKind::List { .. } | ExprKind::Map { .. } | ExprKind::Call { .. })
}

/// A block on one line, if it may be: written on one line, no comments,
/// no nested blocks, every value flat.
fn block_flat(block: &Block) -> Option<String> {
    if block.entries.is_empty() && block.inner_comments.is_empty() {
        return Some("{}".into());
    }
    if block.multiline || !block.inner_comments.is_empty() {
        return None;
    }
    let mut parts = Vec::new();
    for entry in &block.entries {
        if entry.trivia.has_comments() {
            return None;
        }
        match &entry.kind {
            EntryKind::Attribute { name, value } => parts.push(format!("{} = {}", name.name, flat(value)?)),
            EntryKind::Block { .. } => return None,
        }
    }
    Some(format!("{{ {} }}", parts.join(", ")))
}

/// An expression on one line, if it may be.
fn flat(e: &Expr) -> Option<String> {
    Some(match &e.kind {
        ExprKind::Null => "null".into(),
        ExprKind::Bool(b) => b.to_string(),
        ExprKind::Number(_, raw) => raw.clone(),
        ExprKind::String(t) => t.raw.clone(),
        ExprKind::Heredoc(_) => return None,
        ExprKind::Cidr(c) => c.to_string(),
        ExprKind::Ip(ip) => ip.to_string(),
        ExprKind::PortRange(a, b) => format!("{a}..{b}"),
        ExprKind::List { items, multiline } => {
            if *multiline || items.iter().any(|i| i.trivia.has_comments()) {
                return None;
            }
            let parts = items.iter().map(|i| flat(&i.value)).collect::<Option<Vec<_>>>()?;
            format!("[{}]", parts.join(", "))
        }
        ExprKind::Map { entries, multiline } => {
            if entries.is_empty() {
                return Some("{}".into());
            }
            if *multiline || entries.iter().any(|i| i.trivia.has_comments()) {
                return None;
            }
            let parts = entries
                .iter()
                .map(|en| flat(&en.value).map(|v| format!("{} = {v}", key_text(&en.key))))
                .collect::<Option<Vec<_>>>()?;
            format!("{{ {} }}", parts.join(", "))
        }
        ExprKind::For(f) => {
            let (open, close) = if f.key.is_some() { ("{", "}") } else { ("[", "]") };
            let mut s = format!("{open}for {} in {}: ", for_vars(f), flat(&f.collection)?);
            if let Some(k) = &f.key {
                s.push_str(&format!("{} => ", flat(k)?));
            }
            s.push_str(&flat(&f.value)?);
            if let Some(c) = &f.condition {
                s.push_str(&format!(" if {}", flat(c)?));
            }
            s.push_str(close);
            s
        }
        ExprKind::Variable(name) => name.name.clone(),
        ExprKind::GetAttr(base, name) => format!("{}.{}", flat(base)?, name.name),
        ExprKind::Index(base, index) => format!("{}[{}]", flat(base)?, flat(index)?),
        ExprKind::Splat(base) => format!("{}[*]", flat(base)?),
        ExprKind::Call { name, args, multiline } => {
            if *multiline {
                return None;
            }
            let parts = args.iter().map(flat).collect::<Option<Vec<_>>>()?;
            format!("{}({})", name.name, parts.join(", "))
        }
        ExprKind::Unary(op, inner) => format!("{}{}", unary_symbol(*op), flat(inner)?),
        ExprKind::Binary(op, l, r) => format!("{} {} {}", flat(l)?, op.symbol(), flat(r)?),
        ExprKind::Conditional(c, a, b) => format!("{} ? {} : {}", flat(c)?, flat(a)?, flat(b)?),
        ExprKind::Paren(inner) => format!("({})", flat(inner)?),
    })
}
