//! Errors of the configuration checker: names that mean nothing, values of
//! the wrong type, missing settings, cycles. Each has a code, a label on the
//! offending text, and help where a reader can act on it.

use miette::{Diagnostic, LabeledSpan, SourceSpan};
use thiserror::Error;

#[derive(Debug, Clone, Error, Diagnostic)]
pub enum CheckError {
    #[error("unknown resource type `{name}`")]
    #[diagnostic(code(check::unknown_resource_type))]
    UnknownResourceType {
        name: String,
        #[label("not a resource type")]
        span: SourceSpan,
        #[help]
        help: Option<String>,
    },

    #[error("`{resource}` has no attribute `{name}`")]
    #[diagnostic(code(check::unknown_attribute))]
    UnknownAttribute {
        resource: String,
        name: String,
        #[label("unknown attribute")]
        span: SourceSpan,
        #[help]
        help: Option<String>,
    },

    #[error("`{name}` of `{resource}` is set by the cloud and cannot be configured")]
    #[diagnostic(code(check::read_only_attribute), help("remove this line; read it elsewhere as `{resource}.{name}`"))]
    ReadOnlyAttribute {
        resource: String,
        name: String,
        #[label("read-only")]
        span: SourceSpan,
    },

    #[error("`{resource}` is missing {what}")]
    #[diagnostic(code(check::missing_attribute))]
    MissingAttribute {
        resource: String,
        what: String,
        #[label("declared here")]
        span: SourceSpan,
        #[help]
        help: Option<String>,
    },

    #[error("output `{name}` shows a sensitive value")]
    #[diagnostic(
        code(check::sensitive_output),
        help("its value comes from a secret (a sensitive input or attribute): declare it `sensitive output {name} = …` so that it prints as (sensitive), or output something else")
    )]
    SensitiveOutput {
        name: String,
        #[label("derived from a sensitive value")]
        span: SourceSpan,
    },

    #[error("`for_each` cannot use a sensitive value")]
    #[diagnostic(
        code(check::sensitive_for_each),
        help("its keys become part of every address a plan prints; use keys that are not secret")
    )]
    SensitiveForEach {
        #[label("derived from a sensitive value")]
        span: SourceSpan,
    },

    #[error("input.{name} expects {expected}, got {got} from `{origin}`")]
    #[diagnostic(
        code(check::input_text),
        help("give a {expected} as the language writes it (a number `3`, a bool `true`, a list `[\"a\", \"b\"]`); only string inputs take text as it is")
    )]
    InputText { name: String, expected: String, got: String, origin: String },

    #[error("wrong type for `{name}`: {message}")]
    #[diagnostic(code(check::type_mismatch))]
    TypeMismatch {
        name: String,
        message: String,
        #[label("{expected}")]
        span: SourceSpan,
        expected: String,
        #[help]
        help: Option<String>,
    },

    #[error("`input.{name}` fails its validation: {message}")]
    #[diagnostic(code(check::invalid_input))]
    InvalidInput {
        name: String,
        message: String,
        #[label("this value")]
        span: SourceSpan,
        #[help]
        help: Option<String>,
    },

    #[error("`{name}` is set twice")]
    #[diagnostic(code(check::duplicate_attribute), help("remove one of them"))]
    DuplicateAttribute {
        name: String,
        #[label("set again here")]
        span: SourceSpan,
        #[label("first set here")]
        first: SourceSpan,
    },

    #[error("{what} `{name}` is declared twice")]
    #[diagnostic(code(check::duplicate_declaration))]
    DuplicateDeclaration {
        what: &'static str,
        name: String,
        #[label("declared again here")]
        span: SourceSpan,
        #[help]
        help: Option<String>,
    },

    #[error("unknown reference `{name}`")]
    #[diagnostic(code(check::unknown_reference))]
    UnknownReference {
        name: String,
        #[label("{label}")]
        span: SourceSpan,
        label: String,
        #[help]
        help: Option<String>,
    },

    #[error("unknown input `{name}`")]
    #[diagnostic(code(check::unknown_input))]
    UnknownInput {
        name: String,
        #[label("{label}")]
        span: SourceSpan,
        label: String,
        #[help]
        help: Option<String>,
    },

    #[error("input `{name}` has no value")]
    #[diagnostic(code(check::missing_input))]
    MissingInput {
        name: String,
        #[label("{label}")]
        span: SourceSpan,
        label: String,
        #[help]
        help: Option<String>,
    },

    #[error("unknown module `{name}`")]
    #[diagnostic(code(check::unknown_module))]
    UnknownModule {
        name: String,
        #[label("{label}")]
        span: SourceSpan,
        label: String,
        #[help]
        help: Option<String>,
    },

    #[error("cannot load module `{source_text}`: {reason}")]
    #[diagnostic(code(check::module_source))]
    ModuleSource {
        source_text: String,
        reason: String,
        #[label("here")]
        span: SourceSpan,
        #[help]
        help: Option<String>,
    },

    #[error("dependency cycle: {path}")]
    #[diagnostic(
        code(check::cycle),
        help("break the cycle: one of these references must go, or move the shared value into a `let`")
    )]
    Cycle {
        path: String,
        #[label(collection)]
        edges: Vec<LabeledSpan>,
    },

    #[error("unknown provider `{name}`")]
    #[diagnostic(code(check::unknown_provider))]
    UnknownProvider {
        name: String,
        #[label("not a provider, and a resource needs a name: `TYPE NAME {{ … }}`")]
        span: SourceSpan,
        #[help]
        help: Option<String>,
    },

    #[error("{what} only belongs in the root module")]
    #[diagnostic(code(check::not_in_module), help("move it to the configuration that calls this module"))]
    OnlyInRoot {
        what: &'static str,
        #[label("inside a module")]
        span: SourceSpan,
    },

    #[error("unknown backend `{name}`")]
    #[diagnostic(code(check::unknown_backend), help("the backends are `local` (the default) and `s3`"))]
    UnknownBackend {
        name: String,
        #[label("not a backend")]
        span: SourceSpan,
    },

    #[error("backend settings must be written out literally")]
    #[diagnostic(
        code(check::backend_not_static),
        help(
            "the backend is read before anything else is evaluated, so it cannot use inputs, lets or resources; \
             `env.name` (the `--env` environment) it can"
        )
    )]
    BackendNotStatic {
        #[label("refers to something")]
        span: SourceSpan,
    },

    #[error("environment `{environment}` would share this backend's state with every other environment")]
    #[diagnostic(code(check::backend_shared_by_environments))]
    BackendSharedByEnvironments {
        environment: String,
        #[label("the same state for every --env")]
        span: SourceSpan,
        #[help]
        help: String,
    },

    #[error("{message}")]
    #[diagnostic(code(check::invalid_refactor))]
    InvalidRefactor {
        message: String,
        #[label("{label}")]
        span: SourceSpan,
        label: String,
        #[help]
        help: Option<String>,
    },

    #[error("{message}")]
    #[diagnostic(code(check::invalid_meta))]
    InvalidMeta {
        message: String,
        #[label("{label}")]
        span: SourceSpan,
        label: String,
        #[help]
        help: Option<String>,
    },

    #[error("{message}")]
    #[diagnostic(code(check::load))]
    Load {
        message: String,
        #[help]
        help: Option<String>,
    },
}

/// Our form of a top-level block Terraform has and we spell otherwise (it
/// parses as provider settings, `NAME { … }`).
#[must_use]
pub fn terraform_block(name: &str) -> Option<&'static str> {
    Some(match name {
        "locals" => "named values are `let NAME = EXPR`, one per line at the top level",
        "terraform" => {
            "the state's place is a top-level `backend s3 { bucket = \"…\", key = \"…\" }` (none: a local file)"
        }
        "variable" => "inputs are declared as `input NAME: TYPE [= DEFAULT]`",
        "import" => "import a resource with `k8sinfra import ADDRESS ID`",
        _ => return None,
    })
}
