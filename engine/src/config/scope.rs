//! What names mean inside one module instance during evaluation: its lets,
//! inputs, resources and the outputs of the modules it calls.

use std::collections::BTreeMap;

use k8sinfra_lang::eval::Scope;
use k8sinfra_lang::Value;

use super::loader::{read_module_file, Embedded, ModuleDir};
use crate::addr::ModuleInstance;

/// The instances one module call expanded to.
#[derive(Debug, Clone)]
pub enum CallShape {
    Single(ModuleInstance),
    List(Vec<ModuleInstance>),
    Map(Vec<(String, ModuleInstance)>),
    /// Its count or for_each failed to evaluate.
    Failed,
}

/// Values computed so far in one module instance.
#[derive(Debug, Default)]
pub struct ModuleValues {
    pub inputs: BTreeMap<String, Value>,
    pub lets: BTreeMap<String, Value>,
    /// type → name → a resource value, or a list/map of them.
    pub resources: BTreeMap<String, BTreeMap<String, Value>>,
    pub outputs: BTreeMap<String, Value>,
    pub calls: BTreeMap<String, CallShape>,
    /// Arguments its caller passed, by input name, with where they were written.
    pub args: BTreeMap<String, (Value, k8sinfra_lang::Span)>,
    /// Provider → the alias of the configuration its resources use here
    /// (from the calls' `providers`); a provider not named uses its own
    /// block.
    pub providers: BTreeMap<String, String>,
}

pub struct ModuleScope<'a> {
    pub values: &'a ModuleValues,
    pub all: &'a BTreeMap<ModuleInstance, ModuleValues>,
    pub dir: &'a ModuleDir,
    pub stdlib: Embedded,
    pub known_types: &'a [&'static str],
    /// `env.name`.
    pub environment: &'a str,
    /// `stack.NAME`: each stack's outputs (the root module's only).
    pub stacks: &'a BTreeMap<String, Value>,
    /// `aws`, `aws.west`: each provider's configurations, a map from
    /// alias to alias (the whole map stands for the provider's own block).
    pub provider_configs: &'a BTreeMap<String, Value>,
}

impl ModuleScope<'_> {
    fn module_value(&self, call: &str) -> Option<Value> {
        let outputs = |m: &ModuleInstance| Value::Map(self.all.get(m).map(|v| v.outputs.clone()).unwrap_or_default());
        Some(match self.values.calls.get(call)? {
            CallShape::Single(m) => outputs(m),
            CallShape::List(ms) => Value::List(ms.iter().map(outputs).collect()),
            CallShape::Map(ms) => Value::Map(ms.iter().map(|(k, m)| (k.clone(), outputs(m))).collect()),
            CallShape::Failed => Value::Unknown(k8sinfra_lang::Type::Any),
        })
    }

    fn is_type(&self, name: &str) -> bool {
        self.known_types.contains(&name) || self.values.resources.contains_key(name)
    }
}

impl Scope for ModuleScope<'_> {
    fn lookup(&self, name: &str) -> Option<Value> {
        if let Some(v) = self.values.lets.get(name) {
            return Some(v.clone());
        }
        match name {
            "input" => Some(Value::Map(self.values.inputs.clone())),
            super::refs::ENV => Some(environment_value(self.environment)),
            "stack" if !self.stacks.is_empty() => Some(Value::Map(self.stacks.clone())),
            p if self.provider_configs.contains_key(p) => self.provider_configs.get(p).cloned(),
            "module" => Some(Value::Map(
                self.values.calls.keys().filter_map(|c| self.module_value(c).map(|v| (c.clone(), v))).collect(),
            )),
            t if self.is_type(t) => Some(Value::Map(self.values.resources.get(t).cloned().unwrap_or_default())),
            _ => None,
        }
    }

    fn lookup_member(&self, root: &str, member: &str) -> Option<Value> {
        if self.values.lets.contains_key(root) {
            return None;
        }
        match root {
            "input" => self.values.inputs.get(member).cloned(),
            "stack" if !self.stacks.is_empty() => self.stacks.get(member).cloned(),
            p if self.provider_configs.contains_key(p) => match self.provider_configs.get(p) {
                Some(Value::Map(aliases)) => aliases.get(member).cloned(),
                _ => None,
            },
            "module" => self.module_value(member),
            t if self.is_type(t) => self.values.resources.get(t)?.get(member).cloned(),
            _ => None,
        }
    }

    fn names(&self) -> Vec<String> {
        let mut names: Vec<String> = self.values.lets.keys().cloned().collect();
        names.extend(["input".to_string(), "module".to_string(), super::refs::ENV.to_string()]);
        names.extend(self.values.resources.keys().cloned());
        names
    }

    fn read_file(&self, path: &str) -> Result<String, String> {
        read_module_file(self.dir, self.stdlib, path)
    }
}

/// `env` as the configuration sees it: `{ name = "staging" }`.
#[must_use]
pub fn environment_value(name: &str) -> Value {
    Value::Map(std::iter::once(("name".to_string(), Value::String(name.to_string()))).collect())
}
