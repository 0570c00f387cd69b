//! The declarations of one module, gathered from all its files and indexed
//! by name: lets, inputs, outputs, resources, module calls, provider
//! settings and the backend. Duplicate names are reported here.

use std::collections::BTreeMap;

use k8sinfra_lang::syntax::ast::{Block, Expr, Ident, Item, ItemKind, TypeExpr};
use k8sinfra_lang::{Diag, Diagnostics, SourceMap, Span};

use super::errors::CheckError;

pub struct InputDecl<'a> {
    pub name: &'a Ident,
    /// `sensitive input`: its value is a secret wherever it flows.
    pub sensitive: bool,
    pub ty: &'a TypeExpr,
    pub default: Option<&'a Expr>,
    pub body: Option<&'a Block>,
}

pub struct OutputDecl<'a> {
    pub name: &'a Ident,
    pub value: &'a Expr,
    pub sensitive: bool,
}

pub struct ResourceDecl<'a> {
    pub type_name: &'a Ident,
    pub name: &'a Ident,
    pub body: &'a Block,
}

pub struct ModuleCall<'a> {
    pub name: &'a Ident,
    pub body: &'a Block,
}

#[derive(Default)]
pub struct Decls<'a> {
    pub lets: BTreeMap<String, (&'a Ident, &'a Expr)>,
    pub inputs: BTreeMap<String, InputDecl<'a>>,
    pub outputs: BTreeMap<String, OutputDecl<'a>>,
    /// Keyed by (type, name).
    pub resources: BTreeMap<(String, String), ResourceDecl<'a>>,
    pub modules: BTreeMap<String, ModuleCall<'a>>,
    pub providers: Vec<(&'a Ident, &'a Block)>,
    /// Named provider blocks, `aws west { … }`: the provider, the alias,
    /// the settings.
    pub provider_aliases: Vec<(&'a Ident, &'a Ident, &'a Block)>,
    pub backends: Vec<(&'a Ident, &'a Block)>,
    /// `moved { … }` and `removed { … }` blocks (see `refactor`).
    pub moved: Vec<(&'a Ident, &'a Block)>,
    pub removed: Vec<(&'a Ident, &'a Block)>,
    /// `stack NAME { … }`: another configuration's state, read for its
    /// outputs (see `stack`).
    pub stacks: BTreeMap<String, (&'a Ident, &'a Block)>,
}

impl<'a> Decls<'a> {
    /// The declarations of one module's items. A block named like a
    /// provider in `provider_names` (`aws west { … }`) is a named provider
    /// configuration, not a resource.
    pub fn collect(
        items: impl Iterator<Item = &'a Item>,
        provider_names: &[&str],
        sources: &SourceMap,
        diags: &mut Diagnostics,
    ) -> Self {
        let mut d = Decls::default();
        let mut seen: BTreeMap<(&'static str, String), Span> = BTreeMap::new();
        let mut dup = |what: &'static str, key: String, ident: &Ident, diags: &mut Diagnostics| -> bool {
            if let Some(first) = seen.get(&(what, key.clone())) {
                let (line, _) = sources.line_col(first.file, first.start);
                let file = sources.get(first.file).map(|f| f.name.clone()).unwrap_or_default();
                diags.push(Diag::new(
                    ident.span.file,
                    CheckError::DuplicateDeclaration {
                        what,
                        name: key,
                        span: ident.span.into(),
                        help: Some(format!("first declared at {file}:{line}; names must be unique in a module")),
                    },
                ));
                return true;
            }
            seen.insert((what, key), ident.span);
            false
        };
        for item in items {
            match &item.kind {
                ItemKind::Let { name, value } => {
                    if !dup("let", name.name.clone(), name, diags) {
                        d.lets.insert(name.name.clone(), (name, value));
                    }
                }
                ItemKind::Input { sensitive, name, ty, default, body } => {
                    if !dup("input", name.name.clone(), name, diags) {
                        d.inputs.insert(
                            name.name.clone(),
                            InputDecl {
                                name,
                                sensitive: *sensitive,
                                ty,
                                default: default.as_ref(),
                                body: body.as_ref(),
                            },
                        );
                    }
                }
                ItemKind::Output { sensitive, name, value } => {
                    if !dup("output", name.name.clone(), name, diags) {
                        d.outputs.insert(name.name.clone(), OutputDecl { name, value, sensitive: *sensitive });
                    }
                }
                ItemKind::Resource { type_name, name, body } if provider_names.contains(&type_name.name.as_str()) => {
                    let key = format!("{}.{}", type_name.name, name.name);
                    if !dup("provider block", key, name, diags) {
                        d.provider_aliases.push((type_name, name, body));
                    }
                }
                ItemKind::Resource { type_name, name, body } if type_name.name == "stack" => {
                    if !dup("stack", name.name.clone(), name, diags) {
                        d.stacks.insert(name.name.clone(), (name, body));
                    }
                }
                ItemKind::Resource { type_name, name, body } => {
                    let key = format!("{}.{}", type_name.name, name.name);
                    if !dup("resource", key, name, diags) {
                        d.resources.insert(
                            (type_name.name.clone(), name.name.clone()),
                            ResourceDecl { type_name, name, body },
                        );
                    }
                }
                ItemKind::Module { name, body, .. } => {
                    if !dup("module", name.name.clone(), name, diags) {
                        d.modules.insert(name.name.clone(), ModuleCall { name, body });
                    }
                }
                ItemKind::Provider { name, body } if name.name == "moved" => d.moved.push((name, body)),
                ItemKind::Provider { name, body } if name.name == "removed" => d.removed.push((name, body)),
                ItemKind::Provider { name, body } => {
                    if !dup("provider block", name.name.clone(), name, diags) {
                        d.providers.push((name, body));
                    }
                }
                ItemKind::Backend { kind, body } => {
                    if !dup("backend", "backend".into(), kind, diags) {
                        d.backends.push((kind, body));
                    }
                }
            }
        }
        d
    }

    /// Names of resources of one type, for suggestions.
    pub fn resource_names(&self, type_name: &str) -> Vec<&str> {
        self.resources.keys().filter(|(t, _)| t == type_name).map(|(_, n)| n.as_str()).collect()
    }

    /// Whether any resource of this type is declared.
    pub fn has_type(&self, type_name: &str) -> bool {
        self.resources.keys().any(|(t, _)| t == type_name)
    }
}
