//! For unit tests: an in-memory provider, `kit`, whose schemas hold one of
//! every kind of attribute the planner treats apart, and configurations
//! evaluated from text against it. It calls no cloud and keeps nothing.

use std::collections::BTreeMap;
use std::sync::{Arc, Mutex};

use k8sinfra_lang::{Diagnostics, SourceMap, Type, Value};

use crate::config::{Config, Inputs, LoadOptions, ProviderSettings};
use crate::provider::{Attrs, BoxFuture, Provider, ProviderError, Providers, Remote, Target};
use crate::schema::{AttrSchema, BlockSchema, ResourceSchema};
use crate::state::{ResourceState, State};

/// The types:
///
/// - `box`: `name` and `owner` (a box; change in place), `holder` (a
///   box; unset, it is taken off), `size`,
///   `parent` (a box) and `key` (force a new one), `color` (defaults to
///   `"red"`), `ports` (a set), `secret`
///   (sensitive), `label` (optional, the cloud's when unset), `arn`
///   (computed), a single `disk { size, kind }` block;
/// - `key`: its `name` is its id; a new `material` replaces it;
/// - `existing_thing`: a lookup, found as `found-NAME`, that reports a
///   `region`; each query is logged as JSON.
pub struct Kit {
    schemas: Vec<ResourceSchema>,
    settings: BlockSchema,
    pub queries: Mutex<Vec<String>>,
}

#[must_use]
pub fn kit() -> Arc<Kit> {
    Arc::new(Kit {
        schemas: vec![
            ResourceSchema::new("box", "a thing with every kind of attribute")
                .attr(AttrSchema::optional("name", Type::String))
                .attr(AttrSchema::optional("size", Type::Number).forces_new())
                .attr(AttrSchema::optional("parent", Type::Ref("box".into())).forces_new())
                .attr(AttrSchema::optional("owner", Type::Ref("box".into())))
                .attr(AttrSchema::optional("holder", Type::Ref("box".into())).cleared_when_unset())
                .attr(AttrSchema::optional("key", Type::Ref("key".into())).forces_new())
                .attr(AttrSchema::optional("color", Type::String).default(Value::String("red".into())))
                .attr(AttrSchema::optional("ports", Type::List(Box::new(Type::Number))).unordered())
                .attr(AttrSchema::optional("secret", Type::String).sensitive())
                .attr(AttrSchema::optional_computed("label", Type::String))
                .attr(AttrSchema::computed("arn", Type::String))
                .block(
                    BlockSchema::new(
                        "disk",
                        vec![AttrSchema::optional("size", Type::Number), AttrSchema::optional("kind", Type::String)],
                    )
                    .single(),
                ),
            ResourceSchema::new("key", "a thing named by the user")
                .id_is("name")
                .attr(AttrSchema::required("name", Type::String))
                .attr(AttrSchema::optional("material", Type::String).forces_new()),
            ResourceSchema::new("existing_thing", "something that exists")
                .read_at_plan()
                .attr(AttrSchema::optional("name", Type::String))
                .attr(AttrSchema::optional("tier", Type::String).default(Value::String("gold".into())))
                .attr(AttrSchema::optional_computed("region", Type::String)),
        ],
        settings: BlockSchema::new("kit", Vec::new()),
        queries: Mutex::new(Vec::new()),
    })
}

impl Kit {
    #[must_use]
    pub fn providers(self: &Arc<Self>) -> Providers {
        Providers::new(vec![Arc::clone(self) as Arc<dyn Provider>])
    }
}

impl Provider for Kit {
    fn name(&self) -> &'static str {
        "kit"
    }
    fn schemas(&self) -> &[ResourceSchema] {
        &self.schemas
    }
    fn settings(&self) -> &BlockSchema {
        &self.settings
    }
    fn check(&self, _: &Config, _: &mut Diagnostics) {}
    fn can_apply(&self, _: &str) -> bool {
        true
    }
    fn connect<'a>(&'a self, _: &'a ProviderSettings) -> BoxFuture<'a, Result<(), ProviderError>> {
        Box::pin(async { Ok(()) })
    }
    fn read<'a>(&'a self, _: Target<'a>, _: &'a str) -> BoxFuture<'a, Result<Option<Remote>, ProviderError>> {
        Box::pin(async { Ok(None) })
    }
    fn find<'a>(&'a self, _: Target<'a>) -> BoxFuture<'a, Result<Option<Remote>, ProviderError>> {
        Box::pin(async { Ok(None) })
    }
    fn look_up<'a>(&'a self, _: &'a str, _: &'a str, query: &'a Attrs) -> BoxFuture<'a, Result<Remote, ProviderError>> {
        Box::pin(async move {
            self.queries.lock().expect("queries").push(serde_json::to_string(query).expect("json"));
            let name = query.get("name").and_then(serde_json::Value::as_str).unwrap_or("nameless");
            let attrs: Attrs =
                [("name".to_string(), serde_json::json!(name)), ("region".to_string(), serde_json::json!("r1"))].into();
            Ok(Remote { id: format!("found-{name}"), attrs })
        })
    }
    fn create<'a>(&'a self, _: Target<'a>, attrs: &'a Attrs) -> BoxFuture<'a, Result<Remote, ProviderError>> {
        Box::pin(async move { Ok(Remote { id: "made".into(), attrs: attrs.clone() }) })
    }
    fn update<'a>(
        &'a self,
        _: Target<'a>,
        id: &'a str,
        _: &'a Attrs,
        after: &'a Attrs,
    ) -> BoxFuture<'a, Result<Remote, ProviderError>> {
        Box::pin(async move { Ok(Remote { id: id.into(), attrs: after.clone() }) })
    }
    fn delete<'a>(&'a self, _: Target<'a>, _: &'a str, _: &'a Attrs) -> BoxFuture<'a, Result<(), ProviderError>> {
        Box::pin(async { Ok(()) })
    }
}

/// `text` as a configuration folder of one file, evaluated with what
/// `known` reports (as a plan evaluates after refresh). Panics on errors.
#[must_use]
pub fn configuration(text: &str, providers: &Providers, known: &State) -> Config {
    let dir = tempfile::tempdir().expect("dir");
    std::fs::write(dir.path().join("main.k8sinfra"), text).expect("write");
    let reported: BTreeMap<String, BTreeMap<String, serde_json::Value>> =
        known.resources.iter().map(|(a, r)| (a.clone(), r.attrs.clone())).collect();
    let inputs = Inputs::default();
    let options = LoadOptions { stdlib: &[], inputs: &inputs, require_inputs: false, known: Some(&reported) };
    let (config, diags) = crate::config::load_and_evaluate(dir.path(), &options, providers, &mut SourceMap::new());
    config.unwrap_or_else(|| panic!("the configuration evaluates: {diags:?}"))
}

/// A resource as an earlier apply left it, with `attrs` as JSON.
#[must_use]
pub fn recorded(type_name: &str, id: &str, attrs: serde_json::Value) -> ResourceState {
    let serde_json::Value::Object(attrs) = attrs else { panic!("attributes are an object") };
    ResourceState {
        type_name: type_name.into(),
        id: id.into(),
        attrs: attrs.into_iter().collect(),
        dependencies: Vec::new(),
        sensitive: Default::default(),
        created: None,
        provider: String::new(),
    }
}
