//! Resource schemas: what a provider declares about each resource type —
//! its attributes with their types, which ones the user sets and which the
//! cloud reports back, which force a replacement, and its nested blocks.

use k8sinfra_lang::{Type, Value};

/// Who sets an attribute.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum AttrKind {
    /// The user must set it.
    Required,
    /// The user may set it; otherwise it takes its default (or stays null).
    Optional,
    /// The user may set it; otherwise the cloud chooses it.
    OptionalComputed,
    /// Only the cloud sets it (ids, addresses); it can be read, not set.
    Computed,
}

#[derive(Debug, Clone)]
pub struct AttrSchema {
    pub name: &'static str,
    pub ty: Type,
    pub kind: AttrKind,
    /// Changing it means destroying and re-creating the resource.
    pub forces_new: bool,
    /// Never shown in plans or logs.
    pub sensitive: bool,
    pub default: Option<Value>,
    /// A list whose order means nothing (subnets of a route table): plans
    /// compare it as a set.
    pub unordered: bool,
    /// A computed attribute whose change refresh reports with the drift
    /// (an image lookup's newest match): news the user may act on.
    pub reported: bool,
    /// Left unset, it is compared with "none" rather than left to the
    /// cloud: taking it out of the configuration takes it off (an elastic
    /// IP's instance). Other optional attributes unset are the cloud's.
    pub cleared_when_unset: bool,
    pub description: &'static str,
}

impl AttrSchema {
    fn new(name: &'static str, ty: Type, kind: AttrKind) -> Self {
        AttrSchema {
            name,
            ty,
            kind,
            forces_new: false,
            sensitive: false,
            default: None,
            unordered: false,
            reported: false,
            cleared_when_unset: false,
            description: "",
        }
    }

    /// Report a change of this computed attribute with the drift.
    #[must_use]
    pub fn reported(mut self) -> Self {
        self.reported = true;
        self
    }

    #[must_use]
    pub fn cleared_when_unset(mut self) -> Self {
        self.cleared_when_unset = true;
        self
    }

    #[must_use]
    pub fn unordered(mut self) -> Self {
        self.unordered = true;
        self
    }

    #[must_use]
    pub fn required(name: &'static str, ty: Type) -> Self {
        Self::new(name, ty, AttrKind::Required)
    }

    #[must_use]
    pub fn optional(name: &'static str, ty: Type) -> Self {
        Self::new(name, ty, AttrKind::Optional)
    }

    #[must_use]
    pub fn optional_computed(name: &'static str, ty: Type) -> Self {
        Self::new(name, ty, AttrKind::OptionalComputed)
    }

    #[must_use]
    pub fn computed(name: &'static str, ty: Type) -> Self {
        Self::new(name, ty, AttrKind::Computed)
    }

    #[must_use]
    pub fn forces_new(mut self) -> Self {
        self.forces_new = true;
        self
    }

    #[must_use]
    pub fn sensitive(mut self) -> Self {
        self.sensitive = true;
        self
    }

    #[must_use]
    pub fn default(mut self, value: Value) -> Self {
        self.default = Some(value);
        self
    }

    #[must_use]
    pub fn describe(mut self, text: &'static str) -> Self {
        self.description = text;
        self
    }

    #[must_use]
    pub fn settable(&self) -> bool {
        self.kind != AttrKind::Computed
    }
}

/// A nested block (`ingress { … }`), written zero or more times.
#[derive(Debug, Clone)]
pub struct BlockSchema {
    pub name: &'static str,
    pub attrs: Vec<AttrSchema>,
    pub min: usize,
    /// `Some(1)` makes the block a single map instead of a list of maps.
    pub max: Option<usize>,
    /// Written in any order (routes, rules): plans compare them as a set.
    pub unordered: bool,
    pub description: &'static str,
}

impl BlockSchema {
    #[must_use]
    pub fn new(name: &'static str, attrs: Vec<AttrSchema>) -> Self {
        BlockSchema { name, attrs, min: 0, max: None, unordered: false, description: "" }
    }

    #[must_use]
    pub fn unordered(mut self) -> Self {
        self.unordered = true;
        self
    }

    #[must_use]
    pub fn at_least(mut self, min: usize) -> Self {
        self.min = min;
        self
    }

    #[must_use]
    pub fn single(mut self) -> Self {
        self.max = Some(1);
        self
    }

    #[must_use]
    pub fn describe(mut self, text: &'static str) -> Self {
        self.description = text;
        self
    }

    #[must_use]
    pub fn attr(&self, name: &str) -> Option<&AttrSchema> {
        self.attrs.iter().find(|a| a.name == name)
    }
}

#[derive(Debug, Clone)]
pub struct ResourceSchema {
    pub type_name: &'static str,
    pub description: &'static str,
    pub attrs: Vec<AttrSchema>,
    pub blocks: Vec<BlockSchema>,
    /// The attribute whose value is the id (a key pair's or a bucket's
    /// name), if the cloud does not assign one: a replacement that keeps
    /// it keeps the id, and what refers to it need not change.
    pub id_attr: Option<&'static str>,
    /// A lookup read at plan time (`Provider::look_up`): something that
    /// exists already, found by its settable attributes, never made or
    /// deleted. Every plan with refresh reads it again.
    pub lookup: bool,
}

impl ResourceSchema {
    #[must_use]
    pub fn new(type_name: &'static str, description: &'static str) -> Self {
        ResourceSchema { type_name, description, attrs: Vec::new(), blocks: Vec::new(), id_attr: None, lookup: false }
    }

    /// A lookup read at plan time (see `lookup`).
    #[must_use]
    pub fn read_at_plan(mut self) -> Self {
        self.lookup = true;
        self
    }

    /// The id is the value of `attr`.
    #[must_use]
    pub fn id_is(mut self, attr: &'static str) -> Self {
        self.id_attr = Some(attr);
        self
    }

    #[must_use]
    pub fn attr(mut self, attr: AttrSchema) -> Self {
        self.attrs.push(attr);
        self
    }

    #[must_use]
    pub fn block(mut self, block: BlockSchema) -> Self {
        self.blocks.push(block);
        self
    }

    #[must_use]
    pub fn find_attr(&self, name: &str) -> Option<&AttrSchema> {
        self.attrs.iter().find(|a| a.name == name)
    }

    #[must_use]
    pub fn find_block(&self, name: &str) -> Option<&BlockSchema> {
        self.blocks.iter().find(|b| b.name == name)
    }
}
