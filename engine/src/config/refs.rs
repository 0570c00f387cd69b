//! Static reference analysis: which declarations an expression refers to.
//! References become edges of the evaluation graph (and so, between
//! resources, the dependency graph) without the user writing `depends_on`.
//! A name that means nothing is reported here, once, with a suggestion.

use std::collections::BTreeMap;

use k8sinfra_lang::suggest;
use k8sinfra_lang::syntax::ast::{Expr, ExprKind, Ident, TemplatePart};
use k8sinfra_lang::{Diag, Diagnostics, Span};

use super::decls::Decls;
use super::errors::CheckError;

/// A declaration in the evaluation graph, by module (static path) and name.
#[derive(Debug, Clone, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub struct Node {
    pub module: Vec<String>,
    pub kind: NodeKind,
}

#[derive(Debug, Clone, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub enum NodeKind {
    Input(String),
    Let(String),
    Resource(String, String),
    Module(String),
    Output(String),
}

impl Node {
    /// How a user would write a reference to it.
    #[must_use]
    pub fn display(&self) -> String {
        let prefix: String = self.module.iter().map(|m| format!("module.{m}.")).collect();
        let own = match &self.kind {
            NodeKind::Input(n) => format!("input.{n}"),
            NodeKind::Let(n) => n.clone(),
            NodeKind::Resource(t, n) => format!("{t}.{n}"),
            NodeKind::Module(n) => format!("module.{n}"),
            NodeKind::Output(n) => format!("output {n}"),
        };
        format!("{prefix}{own}")
    }
}

/// Names that are always local to where they are used.
pub const META_LOCALS: &[&str] = &["count", "each"];

/// The run's environment: `env.name` (see `Inputs::environment`).
pub const ENV: &str = "env";

pub struct RefContext<'a> {
    pub decls: &'a Decls<'a>,
    pub module: &'a [String],
    /// Outputs of each module this one calls.
    pub child_outputs: &'a BTreeMap<String, Vec<String>>,
    /// Every resource type a provider declares.
    pub known_types: &'a [&'static str],
    /// The outputs of each stack that was read, to check `stack.NAME.OUTPUT`.
    pub stack_outputs: &'a BTreeMap<String, BTreeMap<String, (serde_json::Value, bool)>>,
    /// Each provider's named configurations (`aws west { … }`), by
    /// provider: what `aws.west` may name.
    pub provider_aliases: &'a BTreeMap<String, Vec<String>>,
}

enum Step<'e> {
    Attr(&'e Ident),
    Index(&'e Expr),
    Splat,
}

impl RefContext<'_> {
    /// References in `expr`, appended to `out`; problems go to `diags`.
    /// Returns whether every name resolved.
    pub fn collect(&self, expr: &Expr, out: &mut Vec<(Node, Span)>, diags: &mut Diagnostics) -> bool {
        let mut locals = Vec::new();
        let before = diags.len();
        self.visit(expr, &mut locals, out, diags);
        diags.len() == before
    }

    fn node(&self, kind: NodeKind) -> Node {
        Node { module: self.module.to_vec(), kind }
    }

    /// A template's parts; a `%{ for }` directive's variables are local to
    /// its body.
    fn visit_parts(
        &self,
        parts: &[TemplatePart],
        locals: &mut Vec<String>,
        out: &mut Vec<(Node, Span)>,
        diags: &mut Diagnostics,
    ) {
        for part in parts {
            match part {
                TemplatePart::Literal(_) => {}
                TemplatePart::Interpolation(e) => self.visit(e, locals, out, diags),
                TemplatePart::For { key_var, value_var, collection, body } => {
                    self.visit(collection, locals, out, diags);
                    let before = locals.len();
                    locals.extend(key_var.iter().map(|k| k.name.clone()));
                    locals.push(value_var.name.clone());
                    self.visit_parts(body, locals, out, diags);
                    locals.truncate(before);
                }
                TemplatePart::If { condition, then, otherwise } => {
                    self.visit(condition, locals, out, diags);
                    self.visit_parts(then, locals, out, diags);
                    self.visit_parts(otherwise, locals, out, diags);
                }
            }
        }
    }

    fn visit(&self, expr: &Expr, locals: &mut Vec<String>, out: &mut Vec<(Node, Span)>, diags: &mut Diagnostics) {
        if let Some((root, steps)) = traversal(expr) {
            for step in &steps {
                if let Step::Index(i) = step {
                    self.visit(i, locals, out, diags);
                }
            }
            self.resolve(root, &steps, expr.span, locals, out, diags);
            return;
        }
        match &expr.kind {
            ExprKind::String(t) | ExprKind::Heredoc(k8sinfra_lang::syntax::ast::Heredoc { template: t, .. }) => {
                self.visit_parts(&t.parts, locals, out, diags);
            }
            ExprKind::List { items, .. } => items.iter().for_each(|i| self.visit(&i.value, locals, out, diags)),
            ExprKind::Map { entries, .. } => {
                for entry in entries {
                    if let k8sinfra_lang::syntax::ast::MapKey::String(t, _) = &entry.key {
                        self.visit_parts(&t.parts, locals, out, diags);
                    }
                    self.visit(&entry.value, locals, out, diags);
                }
            }
            ExprKind::For(f) => {
                self.visit(&f.collection, locals, out, diags);
                let pushed = 1 + usize::from(f.key_var.is_some());
                locals.push(f.value_var.name.clone());
                if let Some(k) = &f.key_var {
                    locals.push(k.name.clone());
                }
                for e in [f.key.as_ref(), Some(&f.value), f.condition.as_ref()].into_iter().flatten() {
                    self.visit(e, locals, out, diags);
                }
                locals.truncate(locals.len() - pushed);
            }
            ExprKind::GetAttr(base, _) | ExprKind::Splat(base) | ExprKind::Paren(base) | ExprKind::Unary(_, base) => {
                self.visit(base, locals, out, diags);
            }
            ExprKind::Index(base, index) => {
                self.visit(base, locals, out, diags);
                self.visit(index, locals, out, diags);
            }
            ExprKind::Call { args, .. } => args.iter().for_each(|a| self.visit(a, locals, out, diags)),
            ExprKind::Binary(_, l, r) => {
                self.visit(l, locals, out, diags);
                self.visit(r, locals, out, diags);
            }
            ExprKind::Conditional(c, a, b) => {
                for e in [c, a, b] {
                    self.visit(e, locals, out, diags);
                }
            }
            _ => {}
        }
    }

    /// `stack.NAME.OUTPUT`: a declared stack, and an output its state has
    /// (when it was read; otherwise the output is unknown until plan).
    fn stack(&self, first_attr: Option<&Ident>, steps: &[Step<'_>], diags: &mut Diagnostics) {
        let Some(stack) = first_attr else { return };
        if !self.decls.stacks.contains_key(&stack.name) {
            diags.push(Diag::new(
                stack.span.file,
                CheckError::UnknownReference {
                    name: format!("stack.{}", stack.name),
                    span: stack.span.into(),
                    label: "no stack of this name".into(),
                    help: suggest::help(&stack.name, self.decls.stacks.keys().map(String::as_str)),
                },
            ));
            return;
        }
        let Some(outputs) = self.stack_outputs.get(&stack.name) else { return };
        let Some(Step::Attr(output)) = steps.get(1) else { return };
        if outputs.contains_key(&output.name) {
            return;
        }
        let names: Vec<&str> = outputs.keys().map(String::as_str).collect();
        diags.push(Diag::new(
            output.span.file,
            CheckError::UnknownReference {
                name: format!("stack.{}.{}", stack.name, output.name),
                span: output.span.into(),
                label: format!("stack `{}` has no such output", stack.name),
                help: suggest::help(&output.name, names.iter().copied()).or_else(|| {
                    Some(if names.is_empty() {
                        "its state records no outputs (has it been applied?)".to_string()
                    } else {
                        format!("its outputs: {}", names.join(", "))
                    })
                }),
            },
        ));
    }

    fn resolve(
        &self,
        root: &Ident,
        steps: &[Step<'_>],
        whole: Span,
        locals: &[String],
        out: &mut Vec<(Node, Span)>,
        diags: &mut Diagnostics,
    ) {
        let name = root.name.as_str();
        if locals.iter().any(|l| l == name) || META_LOCALS.contains(&name) {
            return;
        }
        let first_attr = match steps.first() {
            Some(Step::Attr(a)) => Some(*a),
            _ => None,
        };
        if self.decls.lets.contains_key(name) {
            out.push((self.node(NodeKind::Let(name.into())), whole));
            return;
        }
        // `env.name`: known before anything is evaluated.
        if name == ENV {
            return;
        }
        // `aws`, `aws.west`: a provider's configurations, constants.
        if let Some(aliases) = self.provider_aliases.get(name) {
            if let Some(alias) = first_attr.filter(|a| !aliases.contains(&a.name)) {
                diags.push(Diag::new(
                    alias.span.file,
                    CheckError::UnknownReference {
                        name: format!("{name}.{}", alias.name),
                        span: alias.span.into(),
                        label: format!("no provider block `{name} {} {{ … }}`", alias.name),
                        help: suggest::help(&alias.name, aliases.iter().map(String::as_str)).or_else(|| {
                            Some(format!("declare it in the root module: `{name} {} {{ region = \"…\" }}`", alias.name))
                        }),
                    },
                ));
            }
            return;
        }
        // `stack.NAME.OUTPUT`: read before anything is evaluated too.
        if name == "stack" && !self.decls.stacks.is_empty() {
            self.stack(first_attr, steps, diags);
            return;
        }
        match name {
            "input" => match first_attr {
                Some(input) if self.decls.inputs.contains_key(&input.name) => {
                    out.push((self.node(NodeKind::Input(input.name.clone())), whole));
                }
                Some(input) => diags.push(Diag::new(
                    input.span.file,
                    CheckError::UnknownInput {
                        name: input.name.clone(),
                        span: input.span.into(),
                        label: "no such input in this module".into(),
                        help: suggest::help(&input.name, self.decls.inputs.keys().map(String::as_str)),
                    },
                )),
                None => {
                    for input in self.decls.inputs.keys() {
                        out.push((self.node(NodeKind::Input(input.clone())), whole));
                    }
                }
            },
            "module" => {
                let Some(call) = first_attr else {
                    for call in self.decls.modules.keys() {
                        out.push((self.node(NodeKind::Module(call.clone())), whole));
                    }
                    return;
                };
                if !self.decls.modules.contains_key(&call.name) {
                    diags.push(Diag::new(
                        call.span.file,
                        CheckError::UnknownModule {
                            name: call.name.clone(),
                            span: call.span.into(),
                            label: "no module call of this name".into(),
                            help: suggest::help(&call.name, self.decls.modules.keys().map(String::as_str)),
                        },
                    ));
                    return;
                }
                let mut child = self.module.to_vec();
                child.push(call.name.clone());
                let outputs = self.child_outputs.get(&call.name).cloned().unwrap_or_default();
                let output = steps[1..].iter().find_map(|s| match s {
                    Step::Attr(a) => Some(*a),
                    _ => None,
                });
                match output {
                    Some(o) if outputs.contains(&o.name) => {
                        out.push((Node { module: child, kind: NodeKind::Output(o.name.clone()) }, whole));
                    }
                    Some(o) => diags.push(Diag::new(
                        o.span.file,
                        CheckError::UnknownReference {
                            name: format!("module.{}.{}", call.name, o.name),
                            span: o.span.into(),
                            label: format!("module `{}` has no such output", call.name),
                            help: suggest::help(&o.name, outputs.iter().map(String::as_str)).or_else(|| {
                                Some(if outputs.is_empty() {
                                    "it declares no outputs".to_string()
                                } else {
                                    format!("its outputs: {}", outputs.join(", "))
                                })
                            }),
                        },
                    )),
                    None => {
                        // The call itself: its count/for_each, and every output.
                        out.push((self.node(NodeKind::Module(call.name.clone())), whole));
                        for o in outputs {
                            out.push((Node { module: child.clone(), kind: NodeKind::Output(o) }, whole));
                        }
                    }
                }
            }
            type_name if self.known_types.contains(&type_name) || self.decls.has_type(type_name) => {
                let Some(resource) = first_attr else {
                    for n in self.decls.resource_names(type_name) {
                        out.push((self.node(NodeKind::Resource(type_name.into(), n.into())), whole));
                    }
                    return;
                };
                if self.decls.resources.contains_key(&(type_name.to_string(), resource.name.clone())) {
                    out.push((self.node(NodeKind::Resource(type_name.into(), resource.name.clone())), whole));
                } else {
                    let names = self.decls.resource_names(type_name);
                    diags.push(Diag::new(
                        resource.span.file,
                        CheckError::UnknownReference {
                            name: format!("{type_name}.{}", resource.name),
                            span: root.span.to(resource.span).into(),
                            label: format!("no `{type_name}` named `{}` in this module", resource.name),
                            help: suggest::did_you_mean(&resource.name, names.iter().copied())
                                .map(|s| format!("did you mean `{type_name}.{s}`?"))
                                .or_else(|| {
                                    (!names.is_empty())
                                        .then(|| format!("the {type_name} resources here: {}", names.join(", ")))
                                }),
                        },
                    ));
                }
            }
            _ => {
                let mut candidates: Vec<&str> = self.decls.lets.keys().map(String::as_str).collect();
                candidates.extend(self.known_types.iter().copied());
                candidates.extend(["input", "module"]);
                candidates.extend(locals.iter().map(String::as_str));
                let help = suggest::did_you_mean(name, candidates).map(|s| format!("did you mean `{s}`?")).or_else(|| {
                    Some("a reference names a `let`, an input (`input.NAME`), a resource (`TYPE.NAME`) or a module output (`module.NAME.OUTPUT`)".into())
                });
                diags.push(Diag::new(
                    root.span.file,
                    CheckError::UnknownReference {
                        name: name.into(),
                        span: root.span.into(),
                        label: "not defined".into(),
                        help,
                    },
                ));
            }
        }
    }
}

/// `root.a[0].b` as its root name and steps, if `expr` is such a chain.
fn traversal(expr: &Expr) -> Option<(&Ident, Vec<Step<'_>>)> {
    match &expr.kind {
        ExprKind::Variable(name) => Some((name, Vec::new())),
        ExprKind::GetAttr(base, name) => {
            let (root, mut steps) = traversal(base)?;
            steps.push(Step::Attr(name));
            Some((root, steps))
        }
        ExprKind::Index(base, index) => {
            let (root, mut steps) = traversal(base)?;
            steps.push(Step::Index(index));
            Some((root, steps))
        }
        ExprKind::Splat(base) => {
            let (root, mut steps) = traversal(base)?;
            steps.push(Step::Splat);
            Some((root, steps))
        }
        _ => None,
    }
}
