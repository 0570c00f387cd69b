//! Checking one resource body against its schema: every attribute known and
//! settable, every value of the declared type, required attributes and
//! blocks present, lifecycle settings valid. Produces the attribute values
//! of the instance, with unset attributes defaulted or unknown.

use std::collections::{BTreeMap, BTreeSet};

use k8sinfra_lang::eval::{eval, Scope};
use k8sinfra_lang::syntax::ast::{Block, EntryKind, Expr, ExprKind, Ident, MapKey};
use k8sinfra_lang::{suggest, Diag, Diagnostics, Span, Type, Value};

use super::errors::CheckError;
use super::{Accepted, Lifecycle, Rolling, Spans};
use crate::schema::{AttrKind, AttrSchema, ResourceSchema};

/// Attributes every resource accepts besides its schema's.
pub const META_ATTRIBUTES: &[&str] = &["count", "for_each", "depends_on", "provider", "providers"];
pub const LIFECYCLE: &str = "lifecycle";

type AttrSpans = BTreeMap<String, Span>;

pub struct Checked {
    /// Without sensitive marks; `sensitive` names the attributes that had one.
    pub attrs: BTreeMap<String, Value>,
    pub sensitive: BTreeSet<String>,
    pub spans: Spans,
    pub lifecycle: Lifecycle,
}

pub fn check_body(
    schema: &ResourceSchema,
    address: &str,
    name_span: Span,
    body: &Block,
    scope: &dyn Scope,
    skip: &BTreeSet<Span>,
    diags: &mut Diagnostics,
) -> Checked {
    let mut spans = Spans { decl: name_span, ..Spans::default() };
    let mut lifecycle = Lifecycle::default();
    let mut block_values: BTreeMap<String, Vec<Value>> = BTreeMap::new();
    let mut block_spans: BTreeMap<String, Vec<(Span, AttrSpans)>> = BTreeMap::new();

    let plain: Vec<(&Ident, &Expr)> = body
        .attributes()
        .filter(|(name, _)| !META_ATTRIBUTES.contains(&name.name.as_str()))
        .filter(|(name, value)| {
            if schema.find_attr(&name.name).is_some() || schema.find_block(&name.name).is_none() {
                return true;
            }
            // A block given as a value: `ingress = [{ … }, { … }]`.
            let block = schema.find_block(&name.name).expect("checked above");
            if skip.contains(&value.span) {
                return false;
            }
            for (item, item_span) in block_items(value, scope, diags, block.max == Some(1)) {
                let (v, s) = check_map_item(
                    block.attrs.as_slice(),
                    &item,
                    item_span,
                    &format!("{address}.{}", block.name),
                    diags,
                );
                block_values.entry(name.name.clone()).or_default().push(v);
                block_spans.entry(name.name.clone()).or_default().push((item_span, s));
            }
            false
        })
        .collect();
    let (mut attrs, attr_spans) = check_attributes(&schema.attrs, &plain, address, diags, scope, skip, true);
    spans.attrs = attr_spans;

    for (name, block) in body.blocks() {
        if name.name == LIFECYCLE {
            lifecycle = check_lifecycle(schema, address, block, scope, diags);
            continue;
        }
        let Some(block_schema) = schema.find_block(&name.name) else {
            let help = if schema.find_attr(&name.name).is_some() {
                Some(format!("`{}` is an attribute: write `{} = …`", name.name, name.name))
            } else {
                let mut candidates: Vec<&str> = schema.blocks.iter().map(|b| b.name).collect();
                candidates.push(LIFECYCLE);
                suggest::help(&name.name, candidates).or_else(|| block_list(schema))
            };
            diags.push(Diag::new(
                name.span.file,
                CheckError::UnknownAttribute {
                    resource: address.into(),
                    name: name.name.clone(),
                    span: name.span.into(),
                    help,
                },
            ));
            continue;
        };
        let entries: Vec<(&Ident, &Expr)> = block.attributes().collect();
        for (nested, _) in block.blocks() {
            diags.push(Diag::new(
                nested.span.file,
                CheckError::UnknownAttribute {
                    resource: format!("{address}.{}", name.name),
                    name: nested.name.clone(),
                    span: nested.span.into(),
                    help: Some(format!("`{}` blocks hold attributes only", name.name)),
                },
            ));
        }
        let (values, s) = check_attributes(
            &block_schema.attrs,
            &entries,
            &format!("{address}.{}", name.name),
            diags,
            scope,
            skip,
            false,
        );
        let missing: Vec<&str> = block_schema
            .attrs
            .iter()
            .filter(|a| a.kind == AttrKind::Required && !values.contains_key(a.name))
            .map(|a| a.name)
            .collect();
        if !missing.is_empty() {
            diags.push(missing_error(&format!("{address}.{}", name.name), &missing, name.span));
        }
        block_values.entry(name.name.clone()).or_default().push(Value::Map(fill_defaults(&block_schema.attrs, values)));
        block_spans.entry(name.name.clone()).or_default().push((name.span, s));
    }

    for block_schema in &schema.blocks {
        let given = block_values.remove(block_schema.name).unwrap_or_default();
        let given_spans = block_spans.remove(block_schema.name).unwrap_or_default();
        if given.len() < block_schema.min {
            diags.push(Diag::new(
                name_span.file,
                CheckError::MissingAttribute {
                    resource: address.into(),
                    what: format!("a `{}` block", block_schema.name),
                    span: name_span.into(),
                    help: Some(format!("add at least {} `{} {{ … }}` block(s)", block_schema.min, block_schema.name)),
                },
            ));
        }
        if let Some(max) = block_schema.max {
            if let Some((extra, _)) = given_spans.get(max) {
                diags.push(Diag::new(
                    extra.file,
                    CheckError::InvalidMeta {
                        message: format!("`{address}` takes at most {max} `{}` block", block_schema.name),
                        span: (*extra).into(),
                        label: "one too many".into(),
                        help: Some("merge the blocks into one".into()),
                    },
                ));
            }
        }
        spans.blocks.insert(block_schema.name.to_string(), given_spans.into_iter().map(|(_, s)| s).collect());
        let value = if block_schema.max == Some(1) {
            given.into_iter().next().unwrap_or(Value::Null)
        } else {
            Value::List(given)
        };
        attrs.insert(block_schema.name.to_string(), value);
    }

    let missing: Vec<&str> = schema
        .attrs
        .iter()
        .filter(|a| a.kind == AttrKind::Required && !attrs.contains_key(a.name))
        .map(|a| a.name)
        .collect();
    if !missing.is_empty() {
        diags.push(missing_error(address, &missing, name_span));
    }
    let (attrs, sensitive) = unmark(schema, fill_defaults(&schema.attrs, attrs));
    Checked { attrs, sensitive, spans, lifecycle }
}

/// The attributes without their sensitive marks, and the names of those
/// that are secret: marked anywhere inside, or sensitive by the schema.
fn unmark(schema: &ResourceSchema, attrs: BTreeMap<String, Value>) -> (BTreeMap<String, Value>, BTreeSet<String>) {
    let mut sensitive = BTreeSet::new();
    let attrs = attrs
        .into_iter()
        .map(|(name, value)| {
            let (value, marked) = value.unmarked();
            if marked || schema.find_attr(&name).is_some_and(|a| a.sensitive) {
                sensitive.insert(name.clone());
            }
            (name, value)
        })
        .collect();
    (attrs, sensitive)
}

fn block_list(schema: &ResourceSchema) -> Option<String> {
    if schema.blocks.is_empty() {
        Some(format!("`{}` takes no nested blocks besides `lifecycle`", schema.type_name))
    } else {
        Some(format!("its blocks: {}", schema.blocks.iter().map(|b| b.name).collect::<Vec<_>>().join(", ")))
    }
}

fn missing_error(address: &str, missing: &[&str], span: Span) -> Diag {
    let what = if missing.len() == 1 {
        format!("the required attribute `{}`", missing[0])
    } else {
        format!("required attributes {}", missing.iter().map(|m| format!("`{m}`")).collect::<Vec<_>>().join(", "))
    };
    Diag::new(
        span.file,
        CheckError::MissingAttribute {
            resource: address.into(),
            what,
            span: span.into(),
            help: Some(format!("add {}", missing.iter().map(|m| format!("`{m} = …`")).collect::<Vec<_>>().join(", "))),
        },
    )
}

/// Unset attributes: the default (or null) if the user may set them,
/// unknown if the cloud chooses.
fn fill_defaults(schema: &[AttrSchema], mut values: BTreeMap<String, Value>) -> BTreeMap<String, Value> {
    for attr in schema {
        if values.contains_key(attr.name) {
            continue;
        }
        let v = match attr.kind {
            AttrKind::Optional => attr.default.clone().unwrap_or(Value::Null),
            AttrKind::OptionalComputed | AttrKind::Computed | AttrKind::Required => Value::Unknown(attr.ty.clone()),
        };
        values.insert(attr.name.to_string(), v);
    }
    values
}

/// Check `name = value` pairs against attribute schemas.
fn check_attributes(
    schema: &[AttrSchema],
    entries: &[(&Ident, &Expr)],
    owner: &str,
    diags: &mut Diagnostics,
    scope: &dyn Scope,
    skip: &BTreeSet<Span>,
    top_level: bool,
) -> (BTreeMap<String, Value>, BTreeMap<String, Span>) {
    let mut values = BTreeMap::new();
    let mut spans: BTreeMap<String, Span> = BTreeMap::new();
    let mut first: BTreeMap<&str, Span> = BTreeMap::new();
    for (name, expr) in entries {
        if let Some(earlier) = first.get(name.name.as_str()) {
            diags.push(Diag::new(
                name.span.file,
                CheckError::DuplicateAttribute {
                    name: name.name.clone(),
                    span: name.span.into(),
                    first: (*earlier).into(),
                },
            ));
            continue;
        }
        first.insert(&name.name, name.span);
        let Some(attr) = schema.iter().find(|a| a.name == name.name) else {
            let mut candidates: Vec<&str> = schema.iter().filter(|a| a.settable()).map(|a| a.name).collect();
            if top_level {
                candidates.extend(META_ATTRIBUTES);
            }
            let help = suggest::help(&name.name, candidates.iter().copied())
                .or_else(|| Some(format!("settable here: {}", candidates.join(", "))));
            diags.push(Diag::new(
                name.span.file,
                CheckError::UnknownAttribute {
                    resource: owner.into(),
                    name: name.name.clone(),
                    span: name.span.into(),
                    help,
                },
            ));
            continue;
        };
        if !attr.settable() {
            diags.push(Diag::new(
                name.span.file,
                CheckError::ReadOnlyAttribute {
                    resource: owner.into(),
                    name: name.name.clone(),
                    span: name.span.into(),
                },
            ));
            continue;
        }
        spans.insert(name.name.clone(), expr.span);
        if skip.contains(&expr.span) {
            values.insert(name.name.clone(), Value::Unknown(attr.ty.clone()));
            continue;
        }
        let value = match eval(expr, scope) {
            // `null` means "not set": the default applies, and a required
            // attribute is reported missing below.
            Ok(Value::Null) if attr.kind == AttrKind::Required => {
                diags.push(Diag::new(
                    expr.span.file,
                    CheckError::TypeMismatch {
                        name: name.name.clone(),
                        message: "it is required, and null leaves it unset".into(),
                        span: expr.span.into(),
                        expected: format!("expected {}", attr.ty),
                        help: None,
                    },
                ));
                Value::Unknown(attr.ty.clone())
            }
            Ok(Value::Null) => continue,
            Ok(v) => convert(attr, &v, expr.span, diags),
            Err(e) => {
                diags.push(Diag::new(expr.span.file, e));
                Value::Unknown(attr.ty.clone())
            }
        };
        values.insert(name.name.clone(), value);
    }
    (values, spans)
}

fn convert(attr: &AttrSchema, value: &Value, span: Span, diags: &mut Diagnostics) -> Value {
    match value.convert(&attr.ty) {
        Ok(v) => v,
        Err(m) => {
            let help = match (&attr.ty, value) {
                (Type::Ref(t), Value::String(_)) => Some(format!("refer to a resource: `{t}.NAME`")),
                (Type::List(_), v) if !matches!(v, Value::List(_)) => Some(format!("wrap it in a list: [{v}]")),
                _ => None,
            };
            let expected = match &attr.ty {
                Type::Ref(t) => format!("expected a reference to a `{t}`"),
                other => format!("expected {other}"),
            };
            diags.push(Diag::new(
                span.file,
                CheckError::TypeMismatch { name: attr.name.into(), message: m.0, span: span.into(), expected, help },
            ));
            Value::Unknown(attr.ty.clone())
        }
    }
}

/// The maps of a block written as a value (`rules = [{…}]`).
fn block_items(expr: &Expr, scope: &dyn Scope, diags: &mut Diagnostics, single: bool) -> Vec<(Value, Span)> {
    // A secret list of blocks: each value of each block is secret.
    let evaluated = eval(expr, scope).map(|v| match v {
        Value::Sensitive(inner) => mark_inside(*inner),
        other => other,
    });
    match evaluated {
        Ok(Value::List(items)) if !single => items.into_iter().map(|v| (v, expr.span)).collect(),
        Ok(v @ Value::Map(_)) => vec![(v, expr.span)],
        Ok(Value::Unknown(_)) => Vec::new(),
        Ok(other) => {
            diags.push(Diag::new(
                expr.span.file,
                CheckError::InvalidMeta {
                    message: format!(
                        "a block given as a value must be {}, not {}",
                        if single { "a map" } else { "a list of maps" },
                        other.type_name()
                    ),
                    span: expr.span.into(),
                    label: "not a block".into(),
                    help: None,
                },
            ));
            Vec::new()
        }
        Err(e) => {
            diags.push(Diag::new(expr.span.file, e));
            Vec::new()
        }
    }
}

/// The same list or map with each element (of a list, each map's values)
/// marked, so that checking it block by block keeps the secret.
fn mark_inside(value: Value) -> Value {
    match value {
        Value::List(items) => Value::List(items.into_iter().map(mark_inside).collect()),
        Value::Map(items) => Value::Map(items.into_iter().map(|(k, v)| (k, v.sensitive())).collect()),
        other => other.sensitive(),
    }
}

fn check_map_item(
    schema: &[AttrSchema],
    item: &Value,
    span: Span,
    owner: &str,
    diags: &mut Diagnostics,
) -> (Value, BTreeMap<String, Span>) {
    let Value::Map(map) = item else {
        diags.push(Diag::new(
            span.file,
            CheckError::InvalidMeta {
                message: format!("each `{owner}` must be a map, not {}", item.type_name()),
                span: span.into(),
                label: "not a map".into(),
                help: None,
            },
        ));
        return (Value::Null, BTreeMap::new());
    };
    let mut values = BTreeMap::new();
    let mut spans = BTreeMap::new();
    for (key, value) in map {
        let Some(attr) = schema.iter().find(|a| a.name == key && a.settable()) else {
            diags.push(Diag::new(
                span.file,
                CheckError::UnknownAttribute {
                    resource: owner.into(),
                    name: key.clone(),
                    span: span.into(),
                    help: suggest::help(key, schema.iter().map(|a| a.name)),
                },
            ));
            continue;
        };
        values.insert(key.clone(), convert(attr, value, span, diags));
        spans.insert(key.clone(), span);
    }
    let missing: Vec<&str> = schema
        .iter()
        .filter(|a| a.kind == AttrKind::Required && !values.contains_key(a.name))
        .map(|a| a.name)
        .collect();
    if !missing.is_empty() {
        diags.push(missing_error(owner, &missing, span));
    }
    (Value::Map(fill_defaults(schema, values)), spans)
}

fn check_lifecycle(
    schema: &ResourceSchema,
    address: &str,
    block: &Block,
    scope: &dyn Scope,
    diags: &mut Diagnostics,
) -> Lifecycle {
    let mut lifecycle = Lifecycle::default();
    for entry in &block.entries {
        let (name, value) = match &entry.kind {
            EntryKind::Attribute { name, value } => (name, value),
            EntryKind::Block { name, body } if name.name == ROLLING_UPDATE => {
                lifecycle.rolling = Some(check_rolling(address, body, scope, diags));
                continue;
            }
            EntryKind::Block { name, .. } => {
                diags.push(Diag::new(
                    name.span.file,
                    CheckError::UnknownAttribute {
                        resource: format!("{address}.lifecycle"),
                        name: name.name.clone(),
                        span: name.span.into(),
                        help: suggest::help(&name.name, [ROLLING_UPDATE]),
                    },
                ));
                continue;
            }
        };
        let flag = |diags: &mut Diagnostics| match &value.kind {
            ExprKind::Bool(b) => *b,
            _ => {
                diags.push(Diag::new(
                    value.span.file,
                    CheckError::InvalidMeta {
                        message: format!("`{}` must be `true` or `false`", name.name),
                        span: value.span.into(),
                        label: "not a literal bool".into(),
                        help: Some("lifecycle settings are read before evaluation, so write them out".into()),
                    },
                ));
                false
            }
        };
        match name.name.as_str() {
            "prevent_destroy" => lifecycle.prevent_destroy = flag(diags),
            "create_before_destroy" => lifecycle.create_before_destroy = flag(diags),
            "ignore_changes" => lifecycle.ignore_changes = ignore_list(schema, address, value, diags),
            "accept" => lifecycle.accepted = accept_list(value, diags),
            other => diags.push(Diag::new(
                name.span.file,
                CheckError::UnknownAttribute {
                    resource: format!("{address}.lifecycle"),
                    name: other.into(),
                    span: name.span.into(),
                    help: suggest::help(
                        other,
                        ["prevent_destroy", "create_before_destroy", "ignore_changes", "accept", ROLLING_UPDATE],
                    ),
                },
            )),
        }
    }
    lifecycle
}

const ROLLING_UPDATE: &str = "rolling_update";

/// `accept = { open_ssh = "the bastion is reached from anywhere" }`: rule
/// ids (which the providers' lints check) and non-empty reasons, written
/// out as literals.
fn accept_list(value: &Expr, diags: &mut Diagnostics) -> Vec<Accepted> {
    let invalid = |diags: &mut Diagnostics, span: Span, message: &str, label: &str| {
        diags.push(Diag::new(
            span.file,
            CheckError::InvalidMeta {
                message: message.into(),
                span: span.into(),
                label: label.into(),
                help: Some("for example `accept = { open_ssh = \"the bastion is the way in\" }`".into()),
            },
        ));
    };
    let ExprKind::Map { entries, .. } = &value.kind else {
        invalid(diags, value.span, "`accept` must be a map from rule to reason", "not a map");
        return Vec::new();
    };
    let mut accepted = Vec::new();
    for entry in entries {
        let rule = match &entry.key {
            MapKey::Ident(i) => Some(i.name.clone()),
            MapKey::String(t, _) => t.as_literal(),
        };
        let reason = match &entry.value.kind {
            ExprKind::String(t) => t.as_literal().filter(|r| !r.trim().is_empty()),
            _ => None,
        };
        match (rule, reason) {
            (Some(rule), Some(reason)) => accepted.push(Accepted { rule, reason, span: entry.key.span() }),
            (None, _) => invalid(diags, entry.key.span(), "a rule id is a plain name", "not a name"),
            (_, None) => invalid(
                diags,
                entry.value.span,
                "an accepted finding needs its reason, written out",
                "not a non-empty string",
            ),
        }
    }
    accepted
}

/// `rolling_update { max_surge = 1, max_unavailable = 0 }`. Unlike the
/// other settings these are expressions (a module passes its inputs on),
/// evaluated like `count`: they must be known before apply.
fn check_rolling(address: &str, body: &Block, scope: &dyn Scope, diags: &mut Diagnostics) -> Rolling {
    let mut rolling = Rolling { max_surge: 1, max_unavailable: 0 };
    for (nested, _) in body.blocks() {
        diags.push(Diag::new(
            nested.span.file,
            CheckError::UnknownAttribute {
                resource: format!("{address}.lifecycle.{ROLLING_UPDATE}"),
                name: nested.name.clone(),
                span: nested.span.into(),
                help: Some(format!("`{ROLLING_UPDATE}` holds `max_surge` and `max_unavailable`")),
            },
        ));
    }
    for (name, value) in body.attributes() {
        let slot = match name.name.as_str() {
            "max_surge" => &mut rolling.max_surge,
            "max_unavailable" => &mut rolling.max_unavailable,
            other => {
                diags.push(Diag::new(
                    name.span.file,
                    CheckError::UnknownAttribute {
                        resource: format!("{address}.lifecycle.{ROLLING_UPDATE}"),
                        name: other.into(),
                        span: name.span.into(),
                        help: suggest::help(other, ["max_surge", "max_unavailable"]),
                    },
                ));
                continue;
            }
        };
        let problem = match eval(value, scope) {
            Ok(Value::Number(n)) if n >= 0.0 && n.fract() == 0.0 && n <= 1000.0 => {
                *slot = n as u32;
                continue;
            }
            Ok(Value::Unknown(_)) => "it must be known before apply".to_string(),
            Ok(other) => format!("expected a whole number from 0 to 1000, found {}", other.type_name()),
            Err(e) => {
                diags.push(Diag::new(value.span.file, e));
                continue;
            }
        };
        diags.push(Diag::new(
            value.span.file,
            CheckError::InvalidMeta {
                message: format!("`{}` {problem}", name.name),
                span: value.span.into(),
                label: "not a count of instances".into(),
                help: None,
            },
        ));
    }
    if rolling.max_surge == 0 && rolling.max_unavailable == 0 {
        diags.push(Diag::new(
            body.span.file,
            CheckError::InvalidMeta {
                message: "a rolling update needs `max_surge` or `max_unavailable` above 0".into(),
                span: body.span.into(),
                label: "would never replace anything".into(),
                help: Some("`max_surge = 1` adds one new instance before removing an old one".into()),
            },
        ));
    }
    rolling
}

/// `ignore_changes = [tags, "user_data"]`: attribute names, bare or quoted.
fn ignore_list(schema: &ResourceSchema, address: &str, value: &Expr, diags: &mut Diagnostics) -> Vec<String> {
    let ExprKind::List { items, .. } = &value.kind else {
        diags.push(Diag::new(
            value.span.file,
            CheckError::InvalidMeta {
                message: "`ignore_changes` must be a list of attribute names".into(),
                span: value.span.into(),
                label: "not a list".into(),
                help: Some("for example `ignore_changes = [tags, user_data]`".into()),
            },
        ));
        return Vec::new();
    };
    let mut names = Vec::new();
    for item in items {
        let name = match &item.value.kind {
            ExprKind::Variable(i) => Some(i.name.clone()),
            ExprKind::String(t) => t.as_literal(),
            _ => None,
        };
        let Some(name) = name else {
            diags.push(Diag::new(
                item.value.span.file,
                CheckError::InvalidMeta {
                    message: "expected an attribute name".into(),
                    span: item.value.span.into(),
                    label: "not a name".into(),
                    help: None,
                },
            ));
            continue;
        };
        let known = schema.attrs.iter().any(|a| a.settable() && a.name == name) || schema.find_block(&name).is_some();
        if known {
            names.push(name);
        } else {
            let candidates = schema
                .attrs
                .iter()
                .filter(|a| a.settable())
                .map(|a| a.name)
                .chain(schema.blocks.iter().map(|b| b.name));
            diags.push(Diag::new(
                item.value.span.file,
                CheckError::UnknownAttribute {
                    resource: address.into(),
                    name,
                    span: item.value.span.into(),
                    help: suggest::help(&name_of(&item.value), candidates),
                },
            ));
        }
    }
    names
}

fn name_of(e: &Expr) -> String {
    match &e.kind {
        ExprKind::Variable(i) => i.name.clone(),
        ExprKind::String(t) => t.as_literal().unwrap_or_default(),
        _ => String::new(),
    }
}
