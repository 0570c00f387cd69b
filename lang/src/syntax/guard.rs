//! A fast lexical pre-pass that runs before the grammar. It finds the
//! mistakes a recursive-descent parser reports badly (an unclosed `{` three
//! hundred lines up, a string missing its quote) and refuses nesting deep
//! enough to exhaust the stack, so no input can crash the parser.

use super::error::SyntaxError;

/// Deepest bracket nesting accepted. Real configurations stay under ten.
pub const MAX_DEPTH: usize = 128;

#[derive(Clone, Copy)]
enum Frame {
    /// `(`, `[` or `{` at a byte offset, and the indentation of its line.
    Bracket(char, usize, usize),
    /// Inside string text that started at a byte offset.
    Str(usize),
    /// `${` inside a string: its `}` returns to string text.
    Interpolation(usize),
}

/// All structural problems found, or none. Stops at the first one: after a
/// missing bracket everything later is noise.
pub fn check(src: &str) -> Vec<SyntaxError> {
    scan(src).err().unwrap_or_default()
}

/// The byte ranges of every comment, or the structural problems. The
/// grammar skips comments silently; this scan, which already knows where
/// strings and heredocs are, is where the syntax tree gets them from.
pub fn scan(src: &str) -> Result<Vec<(usize, usize)>, Vec<SyntaxError>> {
    let mut comments = Vec::new();
    match scan_into(src, &mut comments) {
        errors if errors.is_empty() => Ok(comments),
        errors => Err(errors),
    }
}

fn scan_into(src: &str, comments: &mut Vec<(usize, usize)>) -> Vec<SyntaxError> {
    let bytes = src.as_bytes();
    let mut stack: Vec<Frame> = Vec::new();
    // The bracket most likely left open, by the layout: one whose closer
    // is indented less than the line that opened it, or the outermost one
    // when a new declaration starts in the first column inside it. Braces
    // pair up with whatever is open, so the one left over at the end of
    // the file is often not the one that was forgotten.
    let mut suspect: Option<usize> = None;
    let mut i = 0;
    while i < bytes.len() {
        let b = bytes[i];
        if stack.len() > MAX_DEPTH {
            return vec![SyntaxError::TooDeep { max: MAX_DEPTH, span: (i.saturating_sub(1), 1).into() }];
        }
        if let Some(&Frame::Str(quote_at)) = stack.last() {
            match b {
                b'\\' => i += 1,
                b'"' => {
                    stack.pop();
                }
                b'\n' => return vec![SyntaxError::UnterminatedString { span: (quote_at, i - quote_at).into() }],
                b'$' | b'%' if bytes.get(i + 1) == Some(&b) && bytes.get(i + 2) == Some(&b'{') => i += 2,
                // `${` and a directive's `%{`: code until their `}`.
                b'$' | b'%' if bytes.get(i + 1) == Some(&b'{') => {
                    stack.push(Frame::Interpolation(i));
                    i += 1;
                }
                _ => {}
            }
            i += 1;
            continue;
        }
        match b {
            b'#' => {
                let end = skip_line(bytes, i);
                comments.push((i, end));
                i = end;
            }
            b'/' if bytes.get(i + 1) == Some(&b'/') => {
                let end = skip_line(bytes, i);
                comments.push((i, end));
                i = end;
            }
            b'"' => {
                stack.push(Frame::Str(i));
                i += 1;
            }
            b'<' if bytes.get(i + 1) == Some(&b'<') => match heredoc(src, i) {
                Heredoc::NotOne => i += 2,
                Heredoc::Ends(end) => i = end,
                Heredoc::Unclosed(tag) => {
                    return vec![SyntaxError::UnterminatedHeredoc { tag, span: (i, 2).into() }];
                }
            },
            b'(' | b'[' | b'{' => {
                stack.push(Frame::Bracket(b as char, i, indent(bytes, i)));
                i += 1;
            }
            _ if suspect.is_none() && starts_declaration(bytes, i) => {
                if let Some(Frame::Bracket(_, at, _)) = stack.first() {
                    suspect = Some(*at);
                }
                i += 1;
            }
            b')' | b']' | b'}' => {
                let found = b as char;
                let (open, at, len) = match stack.pop() {
                    None => return vec![SyntaxError::Unopened { found, span: (i, 1).into() }],
                    Some(Frame::Bracket(open, at, opened_indent)) => {
                        if suspect.is_none() && first_on_line(bytes, i) && indent(bytes, i) < opened_indent {
                            suspect = Some(at);
                        }
                        (open, at, 1)
                    }
                    Some(Frame::Interpolation(at)) => ('{', at, 2),
                    Some(Frame::Str(_)) => return vec![SyntaxError::Unopened { found, span: (i, 1).into() }],
                };
                if closer(open) != found {
                    return vec![SyntaxError::Mismatched {
                        found,
                        open,
                        expected: closer(open),
                        span: (i, 1).into(),
                        open_span: (at, len).into(),
                    }];
                }
                i += 1;
            }
            _ => i += 1,
        }
    }
    match stack.last() {
        None => Vec::new(),
        Some(&Frame::Str(at)) => vec![SyntaxError::UnterminatedString { span: (at, src.len() - at).into() }],
        Some(&Frame::Bracket(open, at, _)) => {
            let blamed = suspect.filter(|&s| bytes.get(s) == Some(&(open as u8))).unwrap_or(at);
            vec![SyntaxError::Unclosed {
                open,
                close: closer(open),
                span: (blamed, 1).into(),
                end: Some(last_char(src).into()),
            }]
        }
        Some(&Frame::Interpolation(at)) => {
            vec![SyntaxError::Unclosed { open: '{', close: '}', span: (at, 2).into(), end: None }]
        }
    }
}

fn closer(open: char) -> char {
    match open {
        '(' => ')',
        '[' => ']',
        _ => '}',
    }
}

/// The last character of the text that is not a blank: where the file
/// ends, to a reader.
fn last_char(src: &str) -> (usize, usize) {
    let trimmed = src.trim_end();
    trimmed.chars().next_back().map_or((0, 0), |c| (trimmed.len() - c.len_utf8(), c.len_utf8()))
}

/// The indentation of the line `at` is on.
fn indent(bytes: &[u8], at: usize) -> usize {
    let start = bytes[..at].iter().rposition(|&b| b == b'\n').map_or(0, |n| n + 1);
    bytes[start..].iter().take_while(|&&b| b == b' ' || b == b'\t').count()
}

/// Whether only blanks stand before `at` on its line.
fn first_on_line(bytes: &[u8], at: usize) -> bool {
    let start = bytes[..at].iter().rposition(|&b| b == b'\n').map_or(0, |n| n + 1);
    bytes[start..at].iter().all(|&b| b == b' ' || b == b'\t')
}

/// Whether a top-level declaration starts at `at`: a name in the first
/// column (the formatter writes declarations there, and nothing else).
fn starts_declaration(bytes: &[u8], at: usize) -> bool {
    (at == 0 || bytes[at - 1] == b'\n') && (bytes[at].is_ascii_alphabetic() || bytes[at] == b'_')
}

fn skip_line(bytes: &[u8], from: usize) -> usize {
    bytes[from..].iter().position(|&b| b == b'\n').map_or(bytes.len(), |n| from + n)
}

enum Heredoc {
    NotOne,
    Ends(usize),
    Unclosed(String),
}

/// `<<TAG` or `<<-TAG` at `at`, then text up to a line holding only TAG.
fn heredoc(src: &str, at: usize) -> Heredoc {
    let rest = &src[at + 2..];
    let rest = rest.strip_prefix('-').unwrap_or(rest);
    let tag_len = rest
        .char_indices()
        .take_while(|&(i, c)| c == '_' || c.is_ascii_alphabetic() || (i > 0 && c.is_ascii_digit()))
        .count();
    if tag_len == 0 {
        return Heredoc::NotOne;
    }
    let tag = &rest[..tag_len];
    let after_tag = &rest[tag_len..];
    let Some(newline) = after_tag.find('\n') else { return Heredoc::NotOne };
    if !after_tag[..newline].trim().is_empty() {
        return Heredoc::NotOne;
    }
    let body_start = src.len() - after_tag.len() + newline + 1;
    let mut line_start = body_start;
    for line in src[body_start..].split_inclusive('\n') {
        let trimmed = line.trim_start_matches([' ', '\t']);
        if let Some(after) = trimmed.strip_prefix(tag) {
            if !after.starts_with(|c: char| c.is_ascii_alphanumeric() || c == '_') {
                return Heredoc::Ends(line_start + (line.len() - trimmed.len()) + tag.len());
            }
        }
        line_start += line.len();
    }
    Heredoc::Unclosed(tag.to_string())
}

/// The same protection for a template file, whose text outside `${…}` is
/// free: only the interpolations are checked.
pub fn check_template(src: &str) -> Vec<SyntaxError> {
    let mut i = 0;
    let opening = |from: usize| ["${", "%{"].iter().filter_map(|o| src[from..].find(o)).min();
    while let Some(found) = opening(i) {
        let at = i + found;
        // `$${` and `%%{` are text.
        if at > 0 && src[..at].ends_with(&src[at..=at]) {
            i = at + 2;
            continue;
        }
        // Check `${ … }` as code: balanced up to its closing brace.
        let body = &src[at + 1..];
        let mut depth = 0usize;
        let mut end = None;
        for (j, c) in body.char_indices() {
            match c {
                '{' | '(' | '[' => depth += 1,
                '}' | ')' | ']' => {
                    depth = depth.saturating_sub(1);
                    if depth == 0 {
                        end = Some(j);
                        break;
                    }
                }
                _ => {}
            }
            if depth > MAX_DEPTH {
                return vec![SyntaxError::TooDeep { max: MAX_DEPTH, span: (at + 1 + j, 1).into() }];
            }
        }
        match end {
            Some(j) => i = at + 1 + j + 1,
            None => return vec![SyntaxError::Unclosed { open: '{', close: '}', span: (at, 2).into(), end: None }],
        }
    }
    Vec::new()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn balanced_input_passes() {
        assert!(check("vpc main { cidr = [1, (2)] }\n# { not counted\nx = \"{\"").is_empty());
        assert!(check("a = \"${ {b = 1}.b }\"").is_empty());
        assert!(check("u = <<EOT\n{ [ (\nEOT\n").is_empty());
    }

    #[test]
    fn finds_the_unclosed_bracket() {
        let errs = check("vpc main {\n  cidr = [1, 2\n}\n");
        assert!(matches!(errs[0], SyntaxError::Mismatched { found: '}', open: '[', .. }));
        let errs = check("vpc main {\n  cidr = 1\n");
        assert!(matches!(errs[0], SyntaxError::Unclosed { open: '{', .. }));
    }

    #[test]
    fn deep_nesting_is_refused_not_recursed() {
        let src = "[".repeat(10_000);
        assert!(matches!(check(&src)[0], SyntaxError::TooDeep { .. }));
    }

    #[test]
    fn unterminated_string_and_heredoc() {
        assert!(matches!(check("a = \"abc\nb = 1")[0], SyntaxError::UnterminatedString { .. }));
        assert!(matches!(check("a = <<EOT\nabc\n")[0], SyntaxError::UnterminatedHeredoc { .. }));
    }
}
