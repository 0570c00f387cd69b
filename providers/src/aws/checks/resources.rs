//! Checks on single resources that the schema cannot express: a route with
//! exactly one target, a record with records or an alias, an object with
//! content or a source file.

use k8sinfra_engine::config::{Config, ResourceInstance};
use k8sinfra_lang::{Diag, Diagnostics, Value};

use super::errors::AwsCheckError;
use super::{attr_span, of_type};

pub fn check(config: &Config, diags: &mut Diagnostics) {
    route_targets(config, diags);
    record_targets(config, diags);
    object_sources(config, diags);
}

fn set(v: Option<&Value>) -> bool {
    match v {
        None | Some(Value::Null) => false,
        Some(Value::List(items)) => !items.is_empty(),
        Some(_) => true,
    }
}

fn conflict(r: &ResourceInstance, attr: &str, message: String, label: &str, help: &str, diags: &mut Diagnostics) {
    let span = attr_span(r, attr);
    diags.push(Diag::new(
        span.file,
        AwsCheckError::Conflict { message, span: span.into(), label: label.into(), help: Some(help.into()) },
    ));
}

fn route_targets(config: &Config, diags: &mut Diagnostics) {
    for table in of_type(config, "route_table") {
        let Some(Value::List(routes)) = table.attrs.get("route") else { continue };
        for (i, route) in routes.iter().enumerate() {
            let Value::Map(route) = route else { continue };
            let targets =
                ["internet_gateway", "nat_gateway", "instance"].iter().filter(|t| set(route.get(**t))).count();
            if targets != 1 {
                let span = table.spans.blocks.get("route").and_then(|b| b.get(i)).and_then(|s| s.get("cidr")).copied();
                let span = span.unwrap_or(table.spans.decl);
                diags.push(Diag::new(
                    span.file,
                    AwsCheckError::Conflict {
                        message: format!("a route of `{}` has {targets} targets; it needs exactly one", table.addr),
                        span: span.into(),
                        label: "this route".into(),
                        help: Some("set one of `internet_gateway`, `nat_gateway` or `instance`".into()),
                    },
                ));
            }
        }
    }
}

fn record_targets(config: &Config, diags: &mut Diagnostics) {
    for record in of_type(config, "dns_record") {
        let records = set(record.attrs.get("records"));
        let alias = set(record.attrs.get("alias"));
        if records == alias {
            let message = if records {
                format!("`{}` has both `records` and an `alias`", record.addr)
            } else {
                format!("`{}` has neither `records` nor an `alias`", record.addr)
            };
            conflict(
                record,
                "records",
                message,
                "here",
                "give `records = [\"…\"]` or an `alias { load_balancer = … }` block",
                diags,
            );
        }
    }
}

fn object_sources(config: &Config, diags: &mut Diagnostics) {
    for object in of_type(config, "s3_object") {
        let content = set(object.attrs.get("content"));
        let source = set(object.attrs.get("source"));
        if content == source {
            let message = if content {
                format!("`{}` has both `content` and `source`", object.addr)
            } else {
                format!("`{}` has neither `content` nor `source`", object.addr)
            };
            conflict(object, "content", message, "here", "set `content = \"…\"` or `source = \"path/to/file\"`", diags);
        }
    }
}
