//! Attaching comments to nodes. The grammar yields every comment with its
//! position; the lowering walks the tree in source order and asks this
//! cursor, at each item, block entry or collection element, for the
//! comments before it (leading) and the one on its last line (trailing).
//! Each comment is handed out exactly once, so none is ever lost: one in an
//! unusual place (inside an operator chain) moves to the next node that
//! takes comments.

use crate::source::{FileId, Span};

use super::ast::{Comment, Trivia};

pub(crate) struct TriviaCursor<'s> {
    src: &'s str,
    file: FileId,
    comments: Vec<(usize, usize)>,
    next: usize,
}

impl<'s> TriviaCursor<'s> {
    pub fn new(src: &'s str, file: FileId, mut comments: Vec<(usize, usize)>) -> Self {
        comments.sort_unstable();
        TriviaCursor { src, file, comments, next: 0 }
    }

    fn take(&mut self) -> Comment {
        let (start, end) = self.comments[self.next];
        self.next += 1;
        let blank_before = self.blank_line_before(start);
        Comment {
            text: self.src[start..end].trim_end().to_string(),
            span: Span::new(self.file, start, end),
            blank_before,
        }
    }

    /// Comments that start before `pos`.
    pub fn before(&mut self, pos: usize) -> Vec<Comment> {
        let mut out = Vec::new();
        while self.next < self.comments.len() && self.comments[self.next].0 < pos {
            out.push(self.take());
        }
        out
    }

    /// Leading comments and spacing for a node starting at `start`.
    pub fn leading(&mut self, start: usize) -> Trivia {
        let leading = self.before(start);
        Trivia { blank_before: self.blank_line_before(start), leading, trailing: None }
    }

    /// A comment that starts on the line where a node ending at `end` ends.
    pub fn trailing(&mut self, end: usize) -> Option<Comment> {
        let &(start, _) = self.comments.get(self.next)?;
        let between = self.src.get(end..start)?;
        if between.contains('\n') || !between.trim_matches([' ', '\t', ',', ';']).is_empty() {
            return None;
        }
        Some(self.take())
    }

    /// Whether `pos` starts its line and the line above is blank. A node
    /// after another on the same line (`{ a = 1, b = 2 }`) has none, even
    /// below a blank line.
    pub fn blank_line_before(&self, pos: usize) -> bool {
        let upto = &self.src[..pos];
        let Some(line_start) = upto.rfind('\n') else { return false };
        if !upto[line_start + 1..].trim().is_empty() {
            return false;
        }
        let above = &upto[..line_start];
        let prev_line = above.rfind('\n').map_or(above, |nl| &above[nl + 1..]);
        prev_line.trim().is_empty() && line_start > 0
    }
}
