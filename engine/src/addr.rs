//! Addresses: the immutable names of module instances and resource
//! instances, printed the way users write references
//! (`module.network.subnet.private["us-east-1a"]`).

use std::fmt;

/// The key of one instance of a resource or module with `count`/`for_each`.
#[derive(Debug, Clone, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub enum InstanceKey {
    Index(usize),
    Key(String),
}

impl fmt::Display for InstanceKey {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            InstanceKey::Index(i) => write!(f, "[{i}]"),
            InstanceKey::Key(k) => write!(f, "[{}]", k8sinfra_lang::value::quote(k)),
        }
    }
}

/// One step of a module path: the call's name and, with count/for_each, its key.
#[derive(Debug, Clone, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub struct ModuleStep {
    pub name: String,
    pub key: Option<InstanceKey>,
}

/// A module instance; the root module is the empty path.
#[derive(Debug, Clone, PartialEq, Eq, PartialOrd, Ord, Hash, Default)]
pub struct ModuleInstance(pub Vec<ModuleStep>);

impl ModuleInstance {
    #[must_use]
    pub fn root() -> Self {
        ModuleInstance(Vec::new())
    }

    #[must_use]
    pub fn child(&self, name: &str, key: Option<InstanceKey>) -> Self {
        let mut steps = self.0.clone();
        steps.push(ModuleStep { name: name.to_string(), key });
        ModuleInstance(steps)
    }

    /// The module calls without instance keys: which module definition this is.
    #[must_use]
    pub fn static_path(&self) -> Vec<String> {
        self.0.iter().map(|s| s.name.clone()).collect()
    }

    #[must_use]
    pub fn is_root(&self) -> bool {
        self.0.is_empty()
    }
}

impl fmt::Display for ModuleInstance {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        for (i, step) in self.0.iter().enumerate() {
            if i > 0 {
                f.write_str(".")?;
            }
            write!(f, "module.{}", step.name)?;
            if let Some(k) = &step.key {
                write!(f, "{k}")?;
            }
        }
        Ok(())
    }
}

/// A resource instance: module instance, type, name, and instance key.
#[derive(Debug, Clone, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub struct ResourceAddr {
    pub module: ModuleInstance,
    pub type_name: String,
    pub name: String,
    pub key: Option<InstanceKey>,
}

impl ResourceAddr {
    /// The address without its instance key: the declaration it comes from.
    #[must_use]
    pub fn config_address(&self) -> String {
        let mut s = String::new();
        if !self.module.is_root() {
            s.push_str(&self.module.to_string());
            s.push('.');
        }
        s.push_str(&self.type_name);
        s.push('.');
        s.push_str(&self.name);
        s
    }
}

impl fmt::Display for ResourceAddr {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.config_address())?;
        if let Some(k) = &self.key {
            write!(f, "{k}")?;
        }
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn addresses_print_as_references() {
        let module = ModuleInstance::root().child("network", None).child("zones", Some(InstanceKey::Index(1)));
        let addr = ResourceAddr {
            module,
            type_name: "subnet".into(),
            name: "private".into(),
            key: Some(InstanceKey::Key("us-east-1a".into())),
        };
        assert_eq!(addr.to_string(), r#"module.network.module.zones[1].subnet.private["us-east-1a"]"#);
        assert_eq!(addr.config_address(), "module.network.module.zones[1].subnet.private");
    }
}
