//! Text to syntax tree. `grammar.pest` recognises the text; `parser` lowers
//! items and blocks, `expr` lowers expressions through the Pratt parser,
//! `template` lowers strings and heredocs, and `trivia` keeps comments and
//! blank lines attached to the nodes they belong to.

pub mod ast;
mod error;
mod expr;
mod guard;
mod parser;
mod template;
mod trivia;

pub use error::SyntaxError;
pub use parser::{parse_bytes, parse_file, parse_recovering, parse_str, parse_vars, Recovered};
pub use template::parse_template;

#[derive(pest_derive::Parser)]
#[grammar = "grammar.pest"]
pub(crate) struct Grammar;

#[cfg(test)]
mod tests;
