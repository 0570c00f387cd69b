//! Why a verb stopped without doing what it was asked, when no file and
//! no backend is to blame: an address the configuration or the state does
//! not have, a stale saved plan, no terminal to confirm on. Each is a
//! diagnostic with a code, so `--json` carries it in the document's
//! `diagnostics` like any other error, and the text reads like the rest.

use miette::Diagnostic;
use thiserror::Error;

#[derive(Debug, Error, Diagnostic)]
pub enum Refusal {
    #[error("{address} is not declared in the configuration")]
    #[diagnostic(code(cli::undeclared), help("{hint}"))]
    Undeclared { address: String, hint: String },

    #[error("{address} is a {declared} in the configuration, and what moves is a {moving}")]
    #[diagnostic(code(cli::other_type), help("nothing was changed; --force moves it all the same"))]
    OtherType { address: String, declared: String, moving: String },

    #[error("{address} is not in the state")]
    #[diagnostic(code(cli::not_in_state), help("{hint}"))]
    NotInState { address: String, hint: String },

    #[error("{address} is already in the state, as {id}")]
    #[diagnostic(code(cli::already_in_state), help("`k8sinfra state rm {address}` forgets it first"))]
    AlreadyInState { address: String, id: String },

    #[error("there is no {type_name} with id {id}")]
    #[diagnostic(code(cli::not_found), help("check the id and the region the `aws` block names"))]
    NotFound { type_name: String, id: String },

    #[error("no output `{name}`")]
    #[diagnostic(code(cli::unknown_output), help("{hint}"))]
    UnknownOutput { name: String, hint: String },

    #[error("cannot fetch {what}: {reason}")]
    #[diagnostic(
        code(init::module_fetch),
        help("nothing was changed in the cloud; check the source's URL and reference, and your access to it")
    )]
    ModuleFetch { what: String, reason: String },

    #[error("the plan is stale: {why}")]
    #[diagnostic(code(plan::stale), help("nothing was changed; plan again"))]
    StalePlan { why: String },

    #[error("cannot {action} the plan {path}: {reason}")]
    #[diagnostic(code(plan::io))]
    PlanFile { action: &'static str, path: String, reason: String },

    #[error("not a terminal: run `k8sinfra {verb} --auto-approve` to {verb} without asking")]
    #[diagnostic(code(cli::no_terminal))]
    NoTerminal { verb: String },

    #[error("{what} cancelled; nothing was changed")]
    #[diagnostic(code(cli::cancelled))]
    Cancelled { what: String },

    #[error("the state could not be saved: {reason}")]
    #[diagnostic(code(state::not_saved), help("{help}"))]
    NotSaved { reason: String, help: String },

    #[error("this configuration's backend keeps one state for every environment")]
    #[diagnostic(code(env::shared_backend), help("put `${{env.name}}` in its `path` or `key` to give each its own"))]
    SharedBackend,

    #[error("cannot list the environments: {reason}")]
    #[diagnostic(code(env::list))]
    EnvironmentList { reason: String },

    #[error("cannot start the runtime: {reason}")]
    #[diagnostic(code(cli::runtime))]
    Runtime { reason: String },
}
