//! Errors found while evaluating expressions.

use miette::{Diagnostic, SourceSpan};
use thiserror::Error;

#[derive(Debug, Clone, Error, Diagnostic, PartialEq, Eq)]
pub enum EvalError {
    #[error("unknown name `{name}`")]
    #[diagnostic(code(check::unknown_reference))]
    UnknownName {
        name: String,
        #[label("not defined here")]
        span: SourceSpan,
        #[help]
        help: Option<String>,
    },

    #[error("{on} has no attribute `{name}`")]
    #[diagnostic(code(check::no_such_attribute))]
    NoAttribute {
        on: String,
        name: String,
        #[label("no such attribute")]
        span: SourceSpan,
        #[help]
        help: Option<String>,
    },

    #[error("{message}")]
    #[diagnostic(code(eval::type_mismatch))]
    TypeMismatch {
        message: String,
        #[label("{label}")]
        span: SourceSpan,
        label: String,
        #[help]
        help: Option<String>,
    },

    #[error("{message}")]
    #[diagnostic(code(eval::index))]
    Index {
        message: String,
        #[label("here")]
        span: SourceSpan,
        #[help]
        help: Option<String>,
    },

    #[error("unknown function `{name}`")]
    #[diagnostic(code(eval::unknown_function))]
    UnknownFunction {
        name: String,
        #[label("not a function")]
        span: SourceSpan,
        #[help]
        help: Option<String>,
    },

    #[error("`{name}` takes {expected}, but {found} were given")]
    #[diagnostic(code(eval::arity))]
    Arity {
        name: String,
        expected: String,
        found: usize,
        #[label("wrong number of arguments")]
        span: SourceSpan,
    },

    #[error("{name}: {message}")]
    #[diagnostic(code(eval::function))]
    Function {
        name: String,
        message: String,
        #[label("{label}")]
        span: SourceSpan,
        label: String,
    },

    #[error("division by zero")]
    #[diagnostic(code(eval::division_by_zero))]
    DivisionByZero {
        #[label("this is zero")]
        span: SourceSpan,
    },
}

impl EvalError {
    pub fn mismatch(message: impl Into<String>, span: crate::Span) -> Self {
        EvalError::TypeMismatch { message: message.into(), span: span.into(), label: "wrong type".into(), help: None }
    }
}
