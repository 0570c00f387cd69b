//! IAM policy documents, as the plan compares them. A document is written
//! as JSON text (`jsonencode({ Version = …, Statement = [ … ] })`) and read
//! back URL-encoded, possibly reformatted. Two documents are the same when
//! they grant the same thing: a single `Action` and a one-element list are
//! equal, lists of actions or resources are sets, key order is irrelevant
//! (the equivalence Terraform's `awspolicyequivalence` implements).

use serde_json::{Map, Value};

/// The document in a form two equivalent documents share: compact JSON,
/// keys sorted, sets sorted. Text that is not JSON is left as it is (the
/// plan then shows the difference as written).
#[must_use]
pub fn canonical(document: &str) -> String {
    match serde_json::from_str::<Value>(document) {
        Ok(value) => normalised(value, None).to_string(),
        Err(_) => document.to_string(),
    }
}

/// A document IAM sends back: URL-encoded JSON.
#[must_use]
pub fn decoded(document: &str) -> String {
    percent_encoding::percent_decode_str(document).decode_utf8_lossy().into_owned()
}

fn normalised(value: Value, key: Option<&str>) -> Value {
    match value {
        Value::Object(map) => {
            let mut entries: Vec<(String, Value)> = map.into_iter().collect();
            entries.sort_by(|a, b| a.0.cmp(&b.0));
            let map: Map<String, Value> = entries
                .into_iter()
                .map(|(k, v)| {
                    let v = match (k.as_str(), v) {
                        // One statement or a list of them.
                        ("Statement", v @ Value::Object(_)) => Value::Array(vec![v]),
                        (_, v) => v,
                    };
                    let v = normalised(v, Some(&k));
                    (k, v)
                })
                .collect();
            Value::Object(map)
        }
        Value::Array(items) => {
            let mut items: Vec<Value> = items.into_iter().map(|v| normalised(v, None)).collect();
            if key.is_some_and(is_set) {
                items.sort_by_key(ToString::to_string);
                items.dedup();
                if items.len() == 1 {
                    return items.remove(0);
                }
            }
            Value::Array(items)
        }
        other => other,
    }
}

/// Keys whose value is a set of strings: a statement's actions and
/// resources, a principal's identifiers, a condition's values. Statements
/// keep their order.
fn is_set(key: &str) -> bool {
    key != "Statement"
}

/// The statements of a document that allow something, each with its
/// actions and resources as lists.
#[must_use]
pub fn allowed(document: &str) -> Vec<(Vec<String>, Vec<String>)> {
    let Ok(value) = serde_json::from_str::<Value>(document) else { return Vec::new() };
    let statements = match value.get("Statement") {
        Some(Value::Array(items)) => items.clone(),
        Some(one @ Value::Object(_)) => vec![one.clone()],
        _ => Vec::new(),
    };
    let strings = |v: Option<&Value>| -> Vec<String> {
        match v {
            Some(Value::String(s)) => vec![s.clone()],
            Some(Value::Array(items)) => items.iter().filter_map(Value::as_str).map(str::to_string).collect(),
            _ => Vec::new(),
        }
    };
    statements
        .iter()
        .filter(|s| s.get("Effect").and_then(Value::as_str) == Some("Allow"))
        .map(|s| (strings(s.get("Action")), strings(s.get("Resource"))))
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn equivalent_documents_have_one_form() {
        let written = r#"{"Version":"2012-10-17","Statement":[{"Effect":"Allow","Action":["s3:GetObject"],"Resource":["arn:aws:s3:::b/k/*","arn:aws:s3:::a/*"]}]}"#;
        let read = r#"{"Statement":{"Resource":["arn:aws:s3:::a/*","arn:aws:s3:::b/k/*"],"Action":"s3:GetObject","Effect":"Allow"},"Version":"2012-10-17"}"#;
        assert_eq!(canonical(written), canonical(read));
        let other = r#"{"Version":"2012-10-17","Statement":[{"Effect":"Allow","Action":"s3:PutObject","Resource":"arn:aws:s3:::a/*"}]}"#;
        assert_ne!(canonical(written), canonical(other));
        assert_eq!(canonical("not json"), "not json");
        let principal = r#"{"Statement":[{"Principal":{"Service":["ec2.amazonaws.com"]},"Action":"sts:AssumeRole","Effect":"Allow"}]}"#;
        let principal_read = r#"{"Statement":[{"Principal":{"Service":"ec2.amazonaws.com"},"Action":"sts:AssumeRole","Effect":"Allow"}]}"#;
        assert_eq!(canonical(principal), canonical(principal_read));
    }

    #[test]
    fn documents_come_back_url_encoded() {
        assert_eq!(decoded("%7B%22Version%22%3A%222012-10-17%22%7D"), r#"{"Version":"2012-10-17"}"#);
    }

    #[test]
    fn what_a_document_allows() {
        let doc = r#"{"Statement":[{"Effect":"Allow","Action":"ec2:*","Resource":"*"},{"Effect":"Deny","Action":"*","Resource":"*"}]}"#;
        assert_eq!(allowed(doc), [(vec!["ec2:*".to_string()], vec!["*".to_string()])]);
    }
}
