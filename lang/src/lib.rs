//! The .k8sinfra language: source files, syntax tree, expression evaluation,
//! canonical formatting and diagnostics. It knows nothing about resources,
//! schemas or clouds; `k8sinfra-engine` gives the names their meaning.

pub mod diag;
pub mod eval;
pub mod fmt;
pub mod source;
pub mod suggest;
pub mod syntax;
pub mod types;
pub mod value;

pub use diag::{Diag, Diagnostics};
pub use source::{FileId, SourceMap, Span};
pub use types::Type;
pub use value::Value;
