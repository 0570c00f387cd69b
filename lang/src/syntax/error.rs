//! Errors found while reading text: malformed input, syntax errors, and
//! literals that cannot be what they claim (a CIDR with a /40 mask).

use miette::{Diagnostic, SourceSpan};
use thiserror::Error;

#[derive(Debug, Clone, Error, Diagnostic, PartialEq, Eq)]
pub enum SyntaxError {
    #[error("{message}")]
    #[diagnostic(code(syntax::unexpected))]
    Unexpected {
        message: String,
        #[label("{label}")]
        span: SourceSpan,
        label: String,
        #[help]
        help: Option<String>,
    },

    #[error("this `{open}` is never closed")]
    #[diagnostic(code(syntax::unclosed), help("add the missing `{close}`"))]
    Unclosed {
        open: char,
        close: char,
        #[label("opened here")]
        span: SourceSpan,
        /// Where the file ends, still inside the bracket.
        #[label("the file ends here, still inside it")]
        end: Option<SourceSpan>,
    },

    #[error("`{found}` does not close `{open}`")]
    #[diagnostic(code(syntax::mismatched), help("close the `{open}` with `{expected}` first"))]
    Mismatched {
        found: char,
        open: char,
        expected: char,
        #[label("found `{found}`")]
        span: SourceSpan,
        #[label("`{open}` opened here")]
        open_span: SourceSpan,
    },

    #[error("`{found}` has nothing to close")]
    #[diagnostic(code(syntax::unopened))]
    Unopened {
        found: char,
        #[label("unexpected `{found}`")]
        span: SourceSpan,
    },

    #[error("unterminated string")]
    #[diagnostic(code(syntax::unterminated_string), help("close the string with `\"` on the same line, or use a heredoc (`<<EOT` … `EOT`) for text over several lines"))]
    UnterminatedString {
        #[label("this string is never closed")]
        span: SourceSpan,
    },

    #[error("heredoc `{tag}` is never closed")]
    #[diagnostic(code(syntax::unterminated_heredoc), help("end the text with a line holding only `{tag}`"))]
    UnterminatedHeredoc {
        tag: String,
        #[label("started here")]
        span: SourceSpan,
    },

    #[error("nesting is too deep (more than {max} levels)")]
    #[diagnostic(code(syntax::too_deep), help("split the expression with `let` bindings"))]
    TooDeep {
        max: usize,
        #[label("too deep here")]
        span: SourceSpan,
    },

    #[error("expression is too long ({count} operators; at most {max})")]
    #[diagnostic(code(syntax::too_complex), help("split the expression with `let` bindings"))]
    TooComplex {
        count: usize,
        max: usize,
        #[label("this expression")]
        span: SourceSpan,
    },

    #[error("the file is not valid UTF-8")]
    #[diagnostic(code(syntax::invalid_utf8), help("k8sinfra files are UTF-8 text; is this a binary file?"))]
    InvalidUtf8 {
        #[label("invalid byte here")]
        span: SourceSpan,
    },

    #[error("the file contains a NUL byte")]
    #[diagnostic(code(syntax::nul_byte), help("k8sinfra files are text; is this a binary file?"))]
    NulByte {
        #[label("NUL byte here")]
        span: SourceSpan,
    },

    #[error("malformed CIDR block `{text}`: {reason}")]
    #[diagnostic(
        code(net::malformed_cidr),
        help("a CIDR block is an IPv4 address and a mask from /0 to /32, like 10.0.0.0/16")
    )]
    MalformedCidr {
        text: String,
        reason: String,
        #[label("not a valid CIDR block")]
        span: SourceSpan,
    },

    #[error("malformed IP address `{text}`")]
    #[diagnostic(code(net::malformed_ip), help("each of the four parts is a number from 0 to 255"))]
    MalformedIp {
        text: String,
        #[label("not a valid IPv4 address")]
        span: SourceSpan,
    },

    #[error("port range `{text}` is out of bounds")]
    #[diagnostic(
        code(net::port_out_of_range),
        help("ports are whole numbers from 0 to 65535, and the first port of a range must not exceed the last")
    )]
    PortOutOfRange {
        text: String,
        #[label("not a valid port range")]
        span: SourceSpan,
    },

    #[error("unknown type `{name}`")]
    #[diagnostic(code(syntax::unknown_type))]
    UnknownType {
        name: String,
        #[label("not a type")]
        span: SourceSpan,
        #[help]
        help: Option<String>,
    },
}
