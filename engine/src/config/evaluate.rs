//! Evaluation of a whole module tree. One graph holds every declaration of
//! every module (inputs, lets, resources, module calls, outputs); its edges
//! are the references found by `refs`. Walking it in dependency order, each
//! declaration is evaluated once per instance of its module, expanding
//! `count` and `for_each` as it goes. A declaration whose references were
//! wrong is skipped (its value is unknown), so one mistake is reported once.

use std::collections::{BTreeMap, BTreeSet};
use std::rc::Rc;
use std::sync::Arc;

use k8sinfra_lang::eval::{eval, EmptyScope, Layered};
use k8sinfra_lang::syntax::ast::{Block, Expr, ExprKind, Ident, ItemKind, TypeExpr};
use k8sinfra_lang::syntax::SyntaxError;
use k8sinfra_lang::value::ResourceValue;
use k8sinfra_lang::{suggest, Diag, Diagnostics, SourceMap, Span, Type, Value};

use super::decls::Decls;
use super::errors::CheckError;
use super::expansion::{expand, Expansion};
use super::loader::{Module, ModuleTree};
use super::refs::{Node, NodeKind, RefContext};
use super::resources::{check_body, META_ATTRIBUTES};
use super::scope::{CallShape, ModuleScope, ModuleValues};
use super::{backend, Config, InputValue, LoadOptions, OutputValue, ProviderSettings, ResourceInstance};
use crate::addr::{ModuleInstance, ResourceAddr};
use crate::graph::Dag;
use crate::provider::Providers;

struct ModuleInfo<'a> {
    decls: Decls<'a>,
    module: &'a Module,
    input_types: BTreeMap<String, Type>,
}

struct Walk<'a, 'o> {
    options: &'o LoadOptions<'o>,
    providers: &'o Providers,
    sources: &'o mut SourceMap,
    known_types: Vec<&'static str>,
    modules: BTreeMap<Vec<String>, ModuleInfo<'a>>,
    values: BTreeMap<ModuleInstance, ModuleValues>,
    instances: BTreeMap<Vec<String>, Vec<ModuleInstance>>,
    /// Declarations by id; the graph works on ids, not on names.
    nodes: Vec<Node>,
    ids: BTreeMap<Node, usize>,
    graph: Dag<usize, Span>,
    broken: BTreeSet<Node>,
    /// Expressions with a reference that resolved to nothing: already
    /// reported, and evaluated as unknown so they report nothing more.
    bad: BTreeSet<Span>,
    /// Declarations whose value is unknown because of a mistake already
    /// reported (an input given no value), and what depends on them: they
    /// report no "must be known before apply" on top of it.
    silenced: BTreeSet<usize>,
    config: Config,
    /// Declaration id → positions of its instances in `config.resources`.
    resource_instances: BTreeMap<usize, Vec<usize>>,
    /// `stack.NAME` in the root module: each stack's outputs.
    stacks: BTreeMap<String, Value>,
    /// Each provider's named configurations (root `aws west { … }`): as
    /// the scope shows them (`aws` → alias → alias), and as names.
    provider_configs: BTreeMap<String, Value>,
    provider_aliases: BTreeMap<String, Vec<String>>,
}

pub fn evaluate(
    tree: &ModuleTree,
    options: &LoadOptions<'_>,
    providers: &Providers,
    sources: &mut SourceMap,
    diags: &mut Diagnostics,
) -> Config {
    let mut walk = Walk {
        options,
        providers,
        sources,
        known_types: providers.type_names(),
        modules: BTreeMap::new(),
        values: BTreeMap::new(),
        instances: BTreeMap::new(),
        nodes: Vec::new(),
        ids: BTreeMap::new(),
        graph: Dag::new(),
        broken: BTreeSet::new(),
        bad: BTreeSet::new(),
        silenced: BTreeSet::new(),
        config: Config::default(),
        resource_instances: BTreeMap::new(),
        stacks: BTreeMap::new(),
        provider_configs: BTreeMap::new(),
        provider_aliases: BTreeMap::new(),
    };
    walk.gather(tree, Vec::new(), diags);
    walk.check_stacks(diags);
    walk.build_graph(diags);
    let cycles = walk.graph.cycles();
    if !cycles.is_empty() {
        for cycle in cycles {
            let named: Vec<(&Node, &Node, Span)> =
                cycle.iter().map(|(a, b, span)| (&walk.nodes[*a], &walk.nodes[*b], *span)).collect();
            diags.push(cycle_error(&named));
        }
        return walk.config;
    }
    let Some(order) = walk.graph.topological_order() else { return walk.config };
    walk.check_root_inputs(diags);
    walk.values.insert(ModuleInstance::root(), ModuleValues::default());
    walk.instances.insert(Vec::new(), vec![ModuleInstance::root()]);
    for &id in &order {
        let node = walk.nodes[id].clone();
        walk.eval_node(id, &node, diags);
    }
    walk.root_settings(diags);
    walk.config.reindex();
    walk.link_resources(&order);
    walk.refactors(diags);
    walk.config
}

impl<'a> Walk<'a, '_> {
    fn gather(&mut self, tree: &'a ModuleTree, path: Vec<String>, diags: &mut Diagnostics) {
        let module: &'a Module = &tree.module;
        let provider_names: Vec<&str> = self.providers.iter().map(|p| p.name()).collect();
        let decls = Decls::collect(module.files.iter().flat_map(|f| &f.items), &provider_names, self.sources, diags);
        for ((type_name, name), r) in &decls.resources {
            if self.providers.schema(type_name).is_none() {
                diags.push(Diag::new(
                    r.type_name.span.file,
                    CheckError::UnknownResourceType {
                        name: type_name.clone(),
                        span: r.type_name.span.into(),
                        help: suggest::help(type_name, self.known_types.iter().copied())
                            .or_else(|| Some(format!("the resource types are: {}", self.known_types.join(", ")))),
                    },
                ));
                self.broken
                    .insert(Node { module: path.clone(), kind: NodeKind::Resource(type_name.clone(), name.clone()) });
            }
        }
        // `provider` chooses a resource's configuration, `providers` a
        // module call's; each in its place only.
        let misplaced = decls
            .resources
            .values()
            .filter_map(|r| {
                r.body
                    .attributes()
                    .find(|(i, _)| i.name == "providers")
                    .map(|(i, _)| i)
                    .map(|i| (i, "a resource takes `provider = aws.west`"))
            })
            .chain(decls.modules.values().filter_map(|c| {
                c.body
                    .attributes()
                    .find(|(i, _)| i.name == "provider")
                    .map(|(i, _)| i)
                    .map(|i| (i, "a module call takes `providers = { aws = aws.west }`"))
            }));
        for (ident, help) in misplaced {
            diags.push(Diag::new(
                ident.span.file,
                CheckError::InvalidMeta {
                    message: format!("`{}` does not belong here", ident.name),
                    span: ident.span.into(),
                    label: "misplaced".into(),
                    help: Some(help.into()),
                },
            ));
        }
        if !path.is_empty() {
            for (_, alias, _) in &decls.provider_aliases {
                let what = "provider settings";
                diags.push(Diag::new(alias.span.file, CheckError::OnlyInRoot { what, span: alias.span.into() }));
            }
            for (name, _) in decls.providers.iter().chain(&decls.backends) {
                let what = if decls.backends.iter().any(|(b, _)| b.span == name.span) {
                    "a backend"
                } else {
                    "provider settings"
                };
                diags.push(Diag::new(name.span.file, CheckError::OnlyInRoot { what, span: name.span.into() }));
            }
        }
        let mut input_types = BTreeMap::new();
        for (name, input) in &decls.inputs {
            match type_of(input.ty) {
                Ok(t) => {
                    input_types.insert(name.clone(), t);
                }
                Err(e) => {
                    diags.push(Diag::new(input.ty.span.file, e));
                    self.broken.insert(Node { module: path.clone(), kind: NodeKind::Input(name.clone()) });
                }
            }
            if let Some(body) = input.body {
                super::validation::check_body(name, body, diags);
            }
        }
        for name in decls.modules.keys() {
            match tree.children.get(name) {
                Some(child) => {
                    let mut child_path = path.clone();
                    child_path.push(name.clone());
                    self.gather(child, child_path, diags);
                }
                None => {
                    // It failed to load (already reported): its calls are unknown.
                    self.broken.insert(Node { module: path.clone(), kind: NodeKind::Module(name.clone()) });
                }
            }
        }
        self.modules.insert(path, ModuleInfo { decls, module, input_types });
    }

    fn build_graph(&mut self, diags: &mut Diagnostics) {
        // The root's named provider blocks, before any reference to them.
        for provider in self.providers.iter() {
            let aliases: Vec<String> = self
                .modules
                .get(&Vec::new())
                .map(|root| {
                    root.decls
                        .provider_aliases
                        .iter()
                        .filter(|(p, _, _)| p.name == provider.name())
                        .map(|(_, alias, _)| alias.name.clone())
                        .collect()
                })
                .unwrap_or_default();
            let configs = aliases.iter().map(|a| (a.clone(), Value::String(a.clone()))).collect();
            self.provider_configs.insert(provider.name().to_string(), Value::Map(configs));
            self.provider_aliases.insert(provider.name().to_string(), aliases);
        }
        for (path, info) in &self.modules {
            let decls = &info.decls;
            let child_outputs: BTreeMap<String, Vec<String>> = decls
                .modules
                .keys()
                .map(|call| {
                    let mut child = path.clone();
                    child.push(call.clone());
                    let outputs =
                        self.modules.get(&child).map(|m| m.decls.outputs.keys().cloned().collect()).unwrap_or_default();
                    (call.clone(), outputs)
                })
                .collect();
            let ctx = RefContext {
                decls,
                module: path,
                child_outputs: &child_outputs,
                known_types: &self.known_types,
                stack_outputs: &self.options.inputs.stacks,
                provider_aliases: &self.provider_aliases,
            };
            let node = |kind| Node { module: path.clone(), kind };
            let add = |table: &mut NodeTable<'_>,
                       bad: &mut BTreeSet<Span>,
                       n: Node,
                       exprs: Vec<&Expr>,
                       diags: &mut Diagnostics| {
                let from = table.intern(n);
                table.graph.add_node(from);
                let mut refs = Vec::new();
                for e in exprs {
                    if !ctx.collect(e, &mut refs, diags) {
                        bad.insert(e.span);
                    }
                }
                for (target, span) in refs {
                    let to = table.intern(target);
                    table.graph.add_edge(from, to, span);
                }
            };
            let mut table = NodeTable { nodes: &mut self.nodes, ids: &mut self.ids, graph: &mut self.graph };
            for (name, input) in &decls.inputs {
                let n = node(NodeKind::Input(name.clone()));
                if let Some(default) = input.default {
                    let mut refs = Vec::new();
                    if ctx.collect(default, &mut refs, diags) && !refs.is_empty() {
                        diags.push(Diag::new(
                            default.span.file,
                            CheckError::InvalidMeta {
                                message: format!("the default of input `{name}` refers to {}", refs[0].0.display()),
                                span: refs[0].1.into(),
                                label: "not a constant".into(),
                                help: Some(
                                    "an input's default is a constant; compute derived values with `let`".into(),
                                ),
                            },
                        ));
                    }
                    if !refs.is_empty() {
                        self.bad.insert(default.span);
                    }
                }
                add(&mut table, &mut self.bad, n.clone(), Vec::new(), diags);
                if let Some((call, parent)) = path.split_last() {
                    let from = table.intern(n);
                    let to = table.intern(Node { module: parent.to_vec(), kind: NodeKind::Module(call.clone()) });
                    table.graph.add_edge(from, to, input.name.span);
                }
            }
            for (name, (_, value)) in &decls.lets {
                add(&mut table, &mut self.bad, node(NodeKind::Let(name.clone())), vec![value], diags);
            }
            for (name, output) in &decls.outputs {
                let n = node(NodeKind::Output(name.clone()));
                add(&mut table, &mut self.bad, n.clone(), vec![output.value], diags);
                // A module's output is read through its call, which must be
                // evaluated first even when the output is a constant
                // (`output version = "1.2"`): inputs get this edge the same
                // way.
                if let Some((call, parent)) = path.split_last() {
                    let from = table.intern(n);
                    let to = table.intern(Node { module: parent.to_vec(), kind: NodeKind::Module(call.clone()) });
                    table.graph.add_edge(from, to, output.name.span);
                }
            }
            for ((type_name, name), r) in &decls.resources {
                let n = node(NodeKind::Resource(type_name.clone(), name.clone()));
                check_depends_on(r.body, diags);
                add(&mut table, &mut self.bad, n, body_exprs(r.body), diags);
            }
            for (name, call) in &decls.modules {
                let n = node(NodeKind::Module(name.clone()));
                check_depends_on(call.body, diags);
                add(&mut table, &mut self.bad, n, body_exprs(call.body), diags);
                let mut child = path.clone();
                child.push(name.clone());
                if let Some(child_info) = self.modules.get(&child) {
                    check_module_args(name, call.name, call.body, &child_info.decls, diags);
                }
            }
        }
        self.module_dependencies();
    }

    /// `depends_on` and modules: a resource with `depends_on = [module.x]`
    /// depends on every resource inside `x`, and every resource inside a
    /// module call that has `depends_on` waits for what it names.
    fn module_dependencies(&mut self) {
        let mut edges: Vec<(Node, Node, Span)> = Vec::new();
        let inside = |modules: &BTreeMap<Vec<String>, ModuleInfo<'a>>, prefix: &[String]| -> Vec<Node> {
            modules
                .iter()
                .filter(|(path, _)| path.starts_with(prefix))
                .flat_map(|(path, info)| {
                    info.decls
                        .resources
                        .keys()
                        .map(|(t, n)| Node { module: path.clone(), kind: NodeKind::Resource(t.clone(), n.clone()) })
                })
                .collect()
        };
        for (path, info) in &self.modules {
            for ((type_name, name), r) in &info.decls.resources {
                let Some(ExprKind::List { items, .. }) = r.body.attribute("depends_on").map(|e| &e.kind) else {
                    continue;
                };
                let from = Node { module: path.clone(), kind: NodeKind::Resource(type_name.clone(), name.clone()) };
                for item in items {
                    let Some(names) = item.value.as_path() else { continue };
                    if names.len() >= 2 && names[0].name == "module" {
                        let mut child = path.clone();
                        child.push(names[1].name.clone());
                        for to in inside(&self.modules, &child) {
                            edges.push((from.clone(), to, item.value.span));
                        }
                    }
                }
            }
            for (name, call) in &info.decls.modules {
                let Some(depends_on) = call.body.attribute("depends_on") else { continue };
                let call_node = Node { module: path.clone(), kind: NodeKind::Module(name.clone()) };
                let mut child = path.clone();
                child.push(name.clone());
                for from in inside(&self.modules, &child) {
                    edges.push((from, call_node.clone(), depends_on.span));
                }
            }
        }
        let mut table = NodeTable { nodes: &mut self.nodes, ids: &mut self.ids, graph: &mut self.graph };
        for (from, to, span) in edges {
            let (from, to) = (table.intern(from), table.intern(to));
            table.graph.add_edge(from, to, span);
        }
    }

    /// Values given for inputs the root module does not declare.
    fn check_root_inputs(&self, diags: &mut Diagnostics) {
        let Some(root) = self.modules.get(&Vec::new()) else { return };
        for (name, value) in &self.options.inputs.values {
            if root.decls.inputs.contains_key(name) {
                continue;
            }
            let help = suggest::help(name, root.decls.inputs.keys().map(String::as_str)).or_else(|| {
                Some(format!("declared inputs: {}", root.decls.inputs.keys().cloned().collect::<Vec<_>>().join(", ")))
            });
            let error = CheckError::UnknownInput {
                name: name.clone(),
                span: match value {
                    InputValue::Expr(e) => e.span.into(),
                    InputValue::Text(..) => (0, 0).into(),
                },
                label: "no such input".into(),
                help,
            };
            diags.push(match value {
                InputValue::Expr(e) => Diag::new(e.span.file, error),
                InputValue::Text(..) => Diag::global(error),
            });
        }
    }

    fn scope<'s>(&'s self, instance: &'s ModuleInstance, info: &'s ModuleInfo<'_>) -> ModuleScope<'s> {
        ModuleScope {
            values: self.values.get(instance).unwrap_or_else(|| empty_values()),
            all: &self.values,
            dir: &info.module.dir,
            stdlib: self.options.stdlib,
            known_types: &self.known_types,
            environment: self.options.inputs.environment_name(),
            stacks: if instance.is_root() { &self.stacks } else { empty_stacks() },
            provider_configs: &self.provider_configs,
        }
    }

    fn eval_node(&mut self, id: usize, node: &Node, diags: &mut Diagnostics) {
        let instances = self.instances.get(&node.module).cloned().unwrap_or_default();
        let broken = self.broken.contains(node);
        if self.graph.dependencies(&id).into_iter().any(|d| self.silenced.contains(d)) {
            self.silenced.insert(id);
        }
        for instance in instances {
            match &node.kind {
                NodeKind::Input(name) => {
                    let v =
                        if broken { Value::Unknown(Type::Any) } else { self.input(id, node, &instance, name, diags) };
                    self.values_mut(&instance).inputs.insert(name.clone(), v);
                }
                NodeKind::Let(name) => {
                    let v = self.eval_in(node, &instance, |d| d.lets[name].1, diags);
                    self.values_mut(&instance).lets.insert(name.clone(), v);
                }
                NodeKind::Output(name) => {
                    let v = self.eval_in(node, &instance, |d| d.outputs[name].value, diags);
                    let decl = &self.modules[&node.module].decls.outputs[name];
                    // Terraform's rule: a secret leaves a module only
                    // through an output that says it is one.
                    if v.is_sensitive() && !decl.sensitive {
                        let span = decl.value.span;
                        diags.push(Diag::new(
                            span.file,
                            CheckError::SensitiveOutput { name: name.clone(), span: span.into() },
                        ));
                    }
                    let v = v.sensitive_if(decl.sensitive);
                    if instance.is_root() {
                        self.config.outputs.insert(
                            name.clone(),
                            OutputValue { value: v.clone(), sensitive: decl.sensitive, span: decl.name.span },
                        );
                    }
                    self.values_mut(&instance).outputs.insert(name.clone(), v);
                }
                NodeKind::Resource(type_name, name) => {
                    let v = if broken {
                        Value::Unknown(Type::Any)
                    } else {
                        self.resource(id, node, &instance, type_name, name, diags)
                    };
                    self.values_mut(&instance).resources.entry(type_name.clone()).or_default().insert(name.clone(), v);
                }
                NodeKind::Module(name) => self.module_call(id, node, &instance, name, broken, diags),
            }
        }
    }

    fn values_mut(&mut self, instance: &ModuleInstance) -> &mut ModuleValues {
        self.values.entry(instance.clone()).or_default()
    }

    fn eval_in(
        &self,
        node: &Node,
        instance: &ModuleInstance,
        expr: impl Fn(&Decls<'a>) -> &'a Expr,
        diags: &mut Diagnostics,
    ) -> Value {
        let info = &self.modules[&node.module];
        let e = expr(&info.decls);
        if self.bad.contains(&e.span) {
            return Value::Unknown(Type::Any);
        }
        eval(e, &self.scope(instance, info)).unwrap_or_else(|err| {
            diags.push(Diag::new(e.span.file, err));
            Value::Unknown(Type::Any)
        })
    }

    /// An input's value; a `sensitive input` is marked even when unknown
    /// (as `validate` sees it), so what it reaches is checked the same.
    fn input(
        &mut self,
        id: usize,
        node: &Node,
        instance: &ModuleInstance,
        name: &str,
        diags: &mut Diagnostics,
    ) -> Value {
        let secret = self.modules[&node.module].decls.inputs[name].sensitive;
        self.input_value(id, node, instance, name, diags).sensitive_if(secret)
    }

    fn input_value(
        &mut self,
        id: usize,
        node: &Node,
        instance: &ModuleInstance,
        name: &str,
        diags: &mut Diagnostics,
    ) -> Value {
        let info = &self.modules[&node.module];
        let secret = info.decls.inputs[name].sensitive;
        let default: Option<&'a Expr> = info.decls.inputs[name].default;
        let body: Option<&'a k8sinfra_lang::syntax::ast::Block> = info.decls.inputs[name].body;
        let decl_span = info.decls.inputs[name].name.span;
        let ty = info.input_types.get(name).cloned().unwrap_or(Type::Any);
        let given: Option<(Value, Option<Span>)> = if instance.is_root() {
            match self.options.inputs.values.get(name) {
                Some(InputValue::Expr(e)) => match eval(e, &EmptyScope) {
                    Ok(v) => Some((v, Some(e.span))),
                    Err(err) => {
                        diags.push(Diag::new(e.span.file, err));
                        return Value::Unknown(ty);
                    }
                },
                Some(InputValue::Text(text, origin)) => Some(self.text_input(name, text, origin, &ty, secret, diags)),
                None => None,
            }
        } else {
            self.values.get(instance).and_then(|v| v.args.get(name)).map(|(v, s)| (v.clone(), Some(*s)))
        };
        let (value, span) = match (given, default) {
            (Some(g), _) => g,
            (None, Some(default)) if self.bad.contains(&default.span) => return Value::Unknown(ty),
            (None, Some(default)) => match eval(default, &EmptyScope) {
                Ok(v) => (v, Some(default.span)),
                Err(err) => {
                    diags.push(Diag::new(default.span.file, err));
                    return Value::Unknown(ty);
                }
            },
            (None, None) => {
                // Reported once (here for the root, by the module call for
                // a module); what depends on it stays quiet.
                self.silenced.insert(id);
                if instance.is_root() && self.options.require_inputs {
                    diags.push(Diag::new(
                        decl_span.file,
                        CheckError::MissingInput {
                            name: name.into(),
                            span: decl_span.into(),
                            label: "needs a value".into(),
                            help: Some(format!(
                                "set it with `--var {name}=…`, in a vars file (`--var-file`), or as K8SINFRA_VAR_{name}"
                            )),
                        },
                    ));
                }
                return Value::Unknown(ty);
            }
        };
        // Marked before converting: a conversion error must not quote it.
        match value.sensitive_if(secret).convert(&ty) {
            Ok(v) => {
                if body.is_some_and(|b| !super::validation::holds(name, &v, b, span.unwrap_or(decl_span), diags)) {
                    return Value::Unknown(ty);
                }
                v
            }
            Err(m) => {
                let error = CheckError::TypeMismatch {
                    name: format!("input.{name}"),
                    message: m.0,
                    span: span.map_or((0, 0).into(), Into::into),
                    expected: format!("expected {ty}"),
                    help: Some(format!("`{name}` is declared as `{ty}`")),
                };
                diags.push(match span {
                    Some(s) => Diag::new(s.file, error),
                    None => Diag::global(error),
                });
                Value::Unknown(ty)
            }
        }
    }

    /// A value given as text (`--var`, environment): a string as is,
    /// anything else read as a constant of the language (`3`, `true`,
    /// `["a", "b"]`). Text that is no constant is reported as what it is,
    /// a value of the wrong type, on the flag that gave it.
    fn text_input(
        &mut self,
        name: &str,
        text: &str,
        origin: &str,
        ty: &Type,
        secret: bool,
        diags: &mut Diagnostics,
    ) -> (Value, Option<Span>) {
        if matches!(ty, Type::String | Type::Any) {
            return (Value::String(text.to_string()), None);
        }
        let src = format!("let value = {text}");
        let file = self.sources.add(origin.to_string(), src.clone());
        let constant = match k8sinfra_lang::syntax::parse_str(file, &src) {
            Ok(parsed) => match parsed.items.first().map(|i| &i.kind) {
                Some(ItemKind::Let { value, .. }) if parsed.items.len() == 1 => {
                    eval(value, &EmptyScope).ok().map(|v| (v, value.span))
                }
                _ => None,
            },
            // A malformed literal (`10.0.0.0/40`) has its own precise
            // error; a secret's would quote it.
            Err(errors) if !secret => {
                errors.into_iter().for_each(|e| diags.push(Diag::new(file, e)));
                return (Value::Unknown(ty.clone()), None);
            }
            Err(_) => None,
        };
        match constant {
            Some((v, span)) => (v, Some(span)),
            None => {
                let got = if secret { "a sensitive value".to_string() } else { format!("{text:?}") };
                diags.push(Diag::global(CheckError::InputText {
                    name: name.into(),
                    expected: ty.to_string(),
                    got,
                    origin: origin.into(),
                }));
                (Value::Unknown(ty.clone()), None)
            }
        }
    }

    fn resource(
        &mut self,
        id: usize,
        node: &Node,
        instance: &ModuleInstance,
        type_name: &str,
        name: &str,
        diags: &mut Diagnostics,
    ) -> Value {
        let info = &self.modules[&node.module];
        let decl = &info.decls.resources[&(type_name.to_string(), name.to_string())];
        let Some(schema) = self.providers.schema(type_name) else { return Value::Unknown(Type::Any) };
        let scope = self.scope(instance, info);
        let quiet = self.silenced.contains(&id);
        let Some(expansion) = expand(decl.body, &scope, &self.bad, quiet, diags) else {
            return Value::Unknown(Type::Any);
        };
        let mut values = Vec::new();
        let mut created = Vec::new();
        for (key, locals) in expansion.instances() {
            let addr = ResourceAddr { module: instance.clone(), type_name: type_name.into(), name: name.into(), key };
            let address = addr.to_string();
            let layered = Layered { parent: &scope, vars: locals };
            let mut checked = check_body(schema, &address, decl.name.span, decl.body, &layered, &self.bad, diags);
            if let Some(reported) = self.options.known.and_then(|k| k.reported(&address)) {
                let spans = &checked.spans;
                let configured = |name: &str| spans.attrs.contains_key(name) || spans.blocks.contains_key(name);
                fill_known(&mut checked.attrs, reported, configured);
            }
            let provider = self.providers.for_type(type_name).map_or("", |p| p.name());
            let alias = match decl.body.attribute("provider") {
                Some(expr) if !self.bad.contains(&expr.span) => match eval(expr, &layered) {
                    Ok(v) => self.provider_alias(provider, v, expr.span, diags),
                    Err(e) => {
                        diags.push(Diag::new(expr.span.file, e));
                        String::new()
                    }
                },
                Some(_) => String::new(),
                None => scope.values.providers.get(provider).cloned().unwrap_or_default(),
            };
            let attrs = Arc::new(checked.attrs);
            let sensitive = Arc::new(checked.sensitive);
            values.push(Value::Resource(Arc::new(ResourceValue {
                type_name: type_name.into(),
                address,
                attrs: Arc::clone(&attrs),
                sensitive: Arc::clone(&sensitive),
            })));
            created.push(ResourceInstance {
                addr,
                attrs,
                spans: checked.spans,
                lifecycle: checked.lifecycle,
                depends_on: BTreeSet::new(),
                sensitive,
                provider: alias,
            });
        }
        let first = self.config.resources.len();
        self.resource_instances.entry(id).or_default().extend(first..first + created.len());
        self.config.resources.extend(created);
        expansion.collect(values)
    }

    fn module_call(
        &mut self,
        id: usize,
        node: &Node,
        instance: &ModuleInstance,
        name: &str,
        broken: bool,
        diags: &mut Diagnostics,
    ) {
        let quiet = self.silenced.contains(&id);
        let mut child_path = node.module.clone();
        child_path.push(name.to_string());
        if broken || !self.modules.contains_key(&child_path) {
            self.values_mut(instance).calls.insert(name.into(), CallShape::Failed);
            return;
        }
        let info = &self.modules[&node.module];
        let call = &info.decls.modules[name];
        let scope = self.scope(instance, info);
        let Some(expansion) = expand(call.body, &scope, &self.bad, quiet, diags) else {
            self.values_mut(instance).calls.insert(name.into(), CallShape::Failed);
            return;
        };
        let mut children = Vec::new();
        for (key, locals) in expansion.instances() {
            let child = instance.child(name, key.clone());
            let layered = Layered { parent: &scope, vars: locals };
            let mut args = BTreeMap::new();
            for (arg, expr) in call.body.attributes() {
                if META_ATTRIBUTES.contains(&arg.name.as_str()) {
                    continue;
                }
                if self.bad.contains(&expr.span) {
                    args.insert(arg.name.clone(), (Value::Unknown(Type::Any), expr.span));
                    continue;
                }
                let v = eval(expr, &layered).unwrap_or_else(|e| {
                    diags.push(Diag::new(expr.span.file, e));
                    Value::Unknown(Type::Any)
                });
                args.insert(arg.name.clone(), (v, expr.span));
            }
            let providers = self.call_providers(call.body, &layered, &scope.values.providers, diags);
            children.push((key, child, args, providers));
        }
        let shape = match &expansion {
            Expansion::Single => CallShape::Single(children[0].1.clone()),
            Expansion::Count(_) => CallShape::List(children.iter().map(|c| c.1.clone()).collect()),
            Expansion::ForEach(entries) => CallShape::Map(
                entries.iter().map(|(k, _)| k.clone()).zip(children.iter().map(|c| c.1.clone())).collect(),
            ),
        };
        for (_, child, args, providers) in children {
            self.instances.entry(child_path.clone()).or_default().push(child.clone());
            let values = self.values_mut(&child);
            values.args = args;
            values.providers = providers;
        }
        self.values_mut(instance).calls.insert(name.into(), shape);
    }

    /// The configuration of `provider` a `provider` value names: an alias
    /// (`aws.west` is `"west"`), or "" for the provider's own block (`aws`,
    /// the map of its aliases). Anything else is reported.
    fn provider_alias(&self, provider: &str, value: Value, span: Span, diags: &mut Diagnostics) -> String {
        let (value, _) = value.unmarked();
        let aliases = self.provider_aliases.get(provider).map(Vec::as_slice).unwrap_or_default();
        let message = match value {
            Value::String(alias) if aliases.contains(&alias) => return alias,
            ref own if Some(own) == self.provider_configs.get(provider) => return String::new(),
            Value::Unknown(_) => format!("the {provider} configuration must be known before apply"),
            _ => format!("this is not one of {provider}'s configurations"),
        };
        let mut names = vec![format!("`{provider}`")];
        names.extend(aliases.iter().map(|a| format!("`{provider}.{a}`")));
        diags.push(Diag::new(
            span.file,
            CheckError::InvalidMeta {
                message,
                span: span.into(),
                label: "not a provider configuration".into(),
                help: Some(format!("name one: {}", names.join(", "))),
            },
        ));
        String::new()
    }

    /// A module call instance's `providers = { aws = aws.west }` over what
    /// its caller uses (`inherited`): the configurations its resources use.
    fn call_providers(
        &self,
        body: &Block,
        scope: &dyn k8sinfra_lang::eval::Scope,
        inherited: &BTreeMap<String, String>,
        diags: &mut Diagnostics,
    ) -> BTreeMap<String, String> {
        let mut providers = inherited.clone();
        let Some(expr) = body.attribute("providers").filter(|e| !self.bad.contains(&e.span)) else { return providers };
        match eval(expr, scope).map(|v| v.unmarked().0) {
            Ok(Value::Map(entries)) => {
                for (name, value) in entries {
                    if self.provider_configs.contains_key(&name) {
                        let alias = self.provider_alias(&name, value, expr.span, diags);
                        providers.insert(name, alias);
                    } else {
                        diags.push(Diag::new(
                            expr.span.file,
                            CheckError::InvalidMeta {
                                message: format!("`{name}` is not a provider"),
                                span: expr.span.into(),
                                label: "in this map".into(),
                                help: Some(format!(
                                    "the providers: {}",
                                    self.provider_configs.keys().cloned().collect::<Vec<_>>().join(", ")
                                )),
                            },
                        ));
                    }
                }
            }
            Ok(Value::Unknown(_)) => {}
            Ok(_) => diags.push(Diag::new(
                expr.span.file,
                CheckError::InvalidMeta {
                    message: "`providers` is a map from provider to configuration".into(),
                    span: expr.span.into(),
                    label: "not a map".into(),
                    help: Some("`providers = { aws = aws.west }`".into()),
                },
            )),
            Err(e) => diags.push(Diag::new(expr.span.file, e)),
        }
        providers
    }

    /// Provider settings and the backend, from the root module.
    fn root_settings(&mut self, diags: &mut Diagnostics) {
        let Some(info) = self.modules.get(&Vec::new()) else { return };
        let root = ModuleInstance::root();
        let scope = self.scope(&root, info);
        let mut providers = BTreeMap::new();
        for (name, body) in &info.decls.providers {
            let Some(provider) = self.providers.provider(&name.name) else {
                let mut candidates: Vec<&str> = self.providers.iter().map(|p| p.name()).collect();
                candidates.extend(self.known_types.iter().copied());
                diags.push(Diag::new(
                    name.span.file,
                    CheckError::UnknownProvider {
                        name: name.name.clone(),
                        span: name.span.into(),
                        help: super::errors::terraform_block(&name.name)
                            .map(str::to_string)
                            .or_else(|| suggest::help(&name.name, candidates)),
                    },
                ));
                continue;
            };
            providers.insert(name.name.clone(), settings_of(provider, &name.name, "", body, &scope, diags));
        }
        for (name, alias, body) in &info.decls.provider_aliases {
            let Some(provider) = self.providers.provider(&name.name) else { continue };
            let key = format!("{}.{}", name.name, alias.name);
            providers.insert(key.clone(), settings_of(provider, &key, &alias.name, body, &scope, diags));
        }
        let environment = self.options.inputs.environment.as_deref();
        match info.decls.backends.first() {
            Some((kind, body)) => {
                if let Some(b) = backend::check(kind, body, environment, diags) {
                    self.config.backend = b;
                }
            }
            None => self.config.backend = backend::local_default(environment),
        }
        self.config.providers = providers;
    }

    /// The root module's `stack` declarations, checked, and what
    /// `stack.NAME` gives there; in another module they are an error (a
    /// module is given what it needs as inputs).
    fn check_stacks(&mut self, diags: &mut Diagnostics) {
        let environment = self.options.inputs.environment.as_deref();
        for (path, info) in &self.modules {
            for (ident, body) in info.decls.stacks.values() {
                if path.is_empty() {
                    super::stack::check(ident, body, environment, diags);
                    continue;
                }
                diags.push(Diag::new(
                    ident.span.file,
                    CheckError::InvalidMeta {
                        message: "`stack` blocks belong in the root module".into(),
                        span: ident.span.into(),
                        label: "in a called module".into(),
                        help: Some("read the stack in the root module and pass what the module needs as inputs".into()),
                    },
                ));
            }
        }
        if let Some(root) = self.modules.get(&Vec::new()) {
            self.stacks = super::stack::values(root.decls.stacks.keys(), &self.options.inputs.stacks);
        }
    }

    /// The root module's `moved` and `removed` blocks, checked against the
    /// configuration; in another module they are an error (moves are
    /// written where the addresses are whole: the root).
    fn refactors(&mut self, diags: &mut Diagnostics) {
        for (path, info) in &self.modules {
            if path.is_empty() {
                continue;
            }
            for (ident, _) in info.decls.moved.iter().chain(&info.decls.removed) {
                diags.push(Diag::new(
                    ident.span.file,
                    CheckError::InvalidRefactor {
                        message: format!("`{}` blocks belong in the root module", ident.name),
                        span: ident.span.into(),
                        label: "in a called module".into(),
                        help: Some(
                            "write it in the root module, with the module's address: `module.NAME.vpc.main`".into(),
                        ),
                    },
                ));
            }
        }
        let Some(root) = self.modules.get(&Vec::new()) else { return };
        let refactors = super::refactor::collect(&root.decls.moved, &root.decls.removed, &self.config, diags);
        self.config.refactors = refactors;
    }

    /// Dependencies between resource instances: a resource depends on every
    /// resource its references reach, through lets, inputs and outputs.
    fn link_resources(&mut self, order: &[usize]) {
        let reach = self.resources_reached(order);
        let ids: Vec<usize> = self.resource_instances.keys().copied().collect();
        for id in ids {
            let deps = &reach[id];
            let module = &self.nodes[id].module;
            for &position in &self.resource_instances[&id] {
                let addr = self.config.resources[position].addr.clone();
                self.config.graph.add_node(addr.clone());
                let mut depends_on = BTreeSet::new();
                for dep in deps.iter() {
                    let same_module_def = &self.nodes[*dep].module == module;
                    for &target in self.resource_instances.get(dep).into_iter().flatten() {
                        let target = &self.config.resources[target].addr;
                        if !same_module_def || target.module == addr.module {
                            depends_on.insert(target.clone());
                        }
                    }
                }
                for target in &depends_on {
                    self.config.graph.add_edge(addr.clone(), target.clone(), ());
                }
                self.config.resources[position].depends_on = depends_on;
            }
        }
    }

    /// For every declaration, the resources its references reach without
    /// passing through another resource, in one pass over the evaluation
    /// order (dependencies first), so each declaration's set is built once
    /// from its direct dependencies' sets. Walking back from every resource
    /// instead costs the length of the let chain behind it, each time: a
    /// chain of lets with a resource on each link made checking quadratic.
    /// A declaration that reaches through one other shares its set.
    fn resources_reached(&self, order: &[usize]) -> Vec<Rc<BTreeSet<usize>>> {
        let empty = Rc::new(BTreeSet::new());
        let mut reach: Vec<Rc<BTreeSet<usize>>> = vec![Rc::clone(&empty); self.nodes.len()];
        for &id in order {
            let mut sources: Vec<Rc<BTreeSet<usize>>> = Vec::new();
            let mut direct = BTreeSet::new();
            for &dep in self.graph.dependencies(&id) {
                if matches!(self.nodes[dep].kind, NodeKind::Resource(..)) {
                    direct.insert(dep);
                } else if !reach[dep].is_empty() && !sources.iter().any(|s| Rc::ptr_eq(s, &reach[dep])) {
                    sources.push(Rc::clone(&reach[dep]));
                }
            }
            reach[id] = match (direct.is_empty(), sources.len()) {
                (true, 0) => Rc::clone(&empty),
                (true, 1) => sources.pop().expect("one source"),
                _ => {
                    for source in &sources {
                        direct.extend(source.iter().copied());
                    }
                    Rc::new(direct)
                }
            };
        }
        reach
    }
}

/// Replace unknown values with what the cloud reported for them.
/// Attributes the cloud reported last, for those still unknown — only
/// those the configuration leaves to the cloud. One the configuration sets
/// is unknown because what it is made of is (a lookup or a resource about
/// to be made): the value it had is not the value it will have, and taking
/// it would plan no change where the apply makes one.
fn fill_known(
    attrs: &mut BTreeMap<String, Value>,
    reported: &BTreeMap<String, serde_json::Value>,
    configured: impl Fn(&str) -> bool,
) {
    for (name, value) in attrs.iter_mut() {
        if configured(name) {
            continue;
        }
        if let (Value::Unknown(ty), Some(json)) = (&*value, reported.get(name)) {
            *value = from_json(json).convert(ty).unwrap_or(Value::Unknown(ty.clone()));
        }
    }
}

pub(super) fn from_json(json: &serde_json::Value) -> Value {
    use serde_json::Value as J;
    match json {
        J::Null => Value::Null,
        J::Bool(b) => Value::Bool(*b),
        J::Number(n) => n.as_f64().map_or(Value::Null, Value::Number),
        J::String(s) => Value::String(s.clone()),
        J::Array(items) => Value::List(items.iter().map(from_json).collect()),
        J::Object(map) => Value::Map(map.iter().map(|(k, v)| (k.clone(), from_json(v))).collect()),
    }
}

/// Declarations interned as small ids for the graph.
struct NodeTable<'t> {
    nodes: &'t mut Vec<Node>,
    ids: &'t mut BTreeMap<Node, usize>,
    graph: &'t mut Dag<usize, Span>,
}

impl NodeTable<'_> {
    fn intern(&mut self, node: Node) -> usize {
        if let Some(&id) = self.ids.get(&node) {
            return id;
        }
        let id = self.nodes.len();
        self.nodes.push(node.clone());
        self.ids.insert(node, id);
        id
    }
}

/// A provider block's settings (`aws { … }` or `aws west { … }`),
/// checked against the provider's settings schema.
fn settings_of(
    provider: &dyn crate::provider::Provider,
    owner: &str,
    alias: &str,
    body: &Block,
    scope: &dyn k8sinfra_lang::eval::Scope,
    diags: &mut Diagnostics,
) -> ProviderSettings {
    let settings = provider.settings();
    let mut out = ProviderSettings { alias: alias.to_string(), ..ProviderSettings::default() };
    for (attr, expr) in body.attributes() {
        let Some(schema) = settings.attr(&attr.name) else {
            diags.push(Diag::new(
                attr.span.file,
                CheckError::UnknownAttribute {
                    resource: owner.to_string(),
                    name: attr.name.clone(),
                    span: attr.span.into(),
                    help: suggest::help(&attr.name, settings.attrs.iter().map(|a| a.name)),
                },
            ));
            continue;
        };
        match eval(expr, scope).map(|v| v.convert(&schema.ty)) {
            Ok(Ok(v)) => {
                out.values.insert(attr.name.clone(), v);
                out.spans.insert(attr.name.clone(), expr.span);
            }
            Ok(Err(m)) => diags.push(Diag::new(
                expr.span.file,
                CheckError::TypeMismatch {
                    name: attr.name.clone(),
                    message: m.0,
                    span: expr.span.into(),
                    expected: format!("expected {}", schema.ty),
                    help: None,
                },
            )),
            Err(e) => diags.push(Diag::new(expr.span.file, e)),
        }
    }
    out
}

fn empty_stacks() -> &'static BTreeMap<String, Value> {
    static EMPTY: BTreeMap<String, Value> = BTreeMap::new();
    &EMPTY
}

fn empty_values() -> &'static ModuleValues {
    static EMPTY: std::sync::OnceLock<ModuleValues> = std::sync::OnceLock::new();
    EMPTY.get_or_init(ModuleValues::default)
}

/// Every expression in a resource or module body that may refer to
/// something: attributes, nested blocks, meta-arguments. `lifecycle` holds
/// names, not references.
fn body_exprs(body: &Block) -> Vec<&Expr> {
    let mut out: Vec<&Expr> = body.attributes().map(|(_, e)| e).collect();
    for (name, block) in body.blocks() {
        if name.name != super::resources::LIFECYCLE {
            out.extend(body_exprs(block));
        }
    }
    out
}

/// `depends_on` must list references, not values.
fn check_depends_on(body: &Block, diags: &mut Diagnostics) {
    let Some(e) = body.attribute("depends_on") else { return };
    let ok = match &e.kind {
        ExprKind::List { items, .. } => items.iter().all(|i| i.value.as_path().is_some_and(|p| p.len() >= 2)),
        _ => false,
    };
    if !ok {
        diags.push(Diag::new(
            e.span.file,
            CheckError::InvalidMeta {
                message: "`depends_on` must be a list of resources or modules".into(),
                span: e.span.into(),
                label: "not a list of references".into(),
                help: Some("for example `depends_on = [internet_gateway.main]`".into()),
            },
        ));
    }
}

fn check_module_args(call_name: &str, call_ident: &Ident, body: &Block, child: &Decls<'_>, diags: &mut Diagnostics) {
    for (block, _) in body.blocks() {
        diags.push(Diag::new(
            block.span.file,
            CheckError::InvalidMeta {
                message: format!("a module call takes inputs, not a `{}` block", block.name),
                span: block.span.into(),
                label: "not an input".into(),
                help: Some(format!("pass values as `name = value`; module `{call_name}` declares its own resources")),
            },
        ));
    }
    for (arg, _) in body.attributes() {
        if META_ATTRIBUTES.contains(&arg.name.as_str()) {
            continue;
        }
        if !child.inputs.contains_key(&arg.name) {
            diags.push(Diag::new(
                arg.span.file,
                CheckError::UnknownInput {
                    name: arg.name.clone(),
                    span: arg.span.into(),
                    label: format!("module `{call_name}` has no such input"),
                    help: suggest::help(&arg.name, child.inputs.keys().map(String::as_str))
                        .or_else(|| Some(listing("its inputs", child.inputs.keys()))),
                },
            ));
        }
    }
    for (name, input) in &child.inputs {
        if input.default.is_none() && body.attribute(name).is_none() {
            diags.push(Diag::new(
                call_ident.span.file,
                CheckError::MissingInput {
                    name: name.clone(),
                    span: call_ident.span.into(),
                    label: format!("module `{call_name}` needs `{name}`"),
                    help: Some(format!("add `{name} = …` to the module call")),
                },
            ));
        }
    }
}

fn type_of(t: &TypeExpr) -> Result<Type, SyntaxError> {
    let unknown = || SyntaxError::UnknownType {
        name: t.name.name.clone(),
        span: t.name.span.into(),
        help: suggest::help(&t.name.name, Type::NAMES.iter().copied())
            .or_else(|| Some(format!("the types are: {}", Type::NAMES.join(", ")))),
    };
    match (t.name.name.as_str(), &t.arg) {
        ("list", Some(arg)) => Ok(Type::list(type_of(arg)?)),
        ("map", Some(arg)) => Ok(Type::map(type_of(arg)?)),
        ("list", None) => Ok(Type::list(Type::Any)),
        ("map", None) => Ok(Type::map(Type::Any)),
        (name, None) => Type::simple(name).ok_or_else(unknown),
        _ => Err(unknown()),
    }
}

fn cycle_error(cycle: &[(&Node, &Node, Span)]) -> Diag {
    let mut path: Vec<String> = cycle.iter().map(|(a, _, _)| a.display()).collect();
    if let Some((_, last, _)) = cycle.last() {
        path.push(last.display());
    }
    let file = cycle.first().map(|(_, _, s)| s.file).unwrap_or_default();
    let edges = cycle
        .iter()
        .filter(|(_, _, span)| span.file == file)
        .map(|(a, b, span)| {
            miette::LabeledSpan::new_with_span(Some(format!("{} refers to {}", a.display(), b.display())), *span)
        })
        .collect();
    Diag::new(file, CheckError::Cycle { path: path.join(" → "), edges })
}

/// "its inputs: a, b" or "its inputs: none".
fn listing<'n>(what: &str, names: impl Iterator<Item = &'n String>) -> String {
    let names: Vec<&str> = names.map(String::as_str).collect();
    if names.is_empty() {
        format!("{what}: none")
    } else {
        format!("{what}: {}", names.join(", "))
    }
}
