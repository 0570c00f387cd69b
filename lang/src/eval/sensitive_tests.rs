//! Secrets follow their values: each way a value can be derived from a
//! marked one gives a marked result, and what does not touch the secret
//! stays plain. A property test runs a secret through random chains.

use std::collections::{BTreeMap, BTreeSet};
use std::sync::Arc;

use proptest::prelude::*;

use super::{eval, Scope};
use crate::source::FileId;
use crate::syntax::ast::ItemKind;
use crate::syntax::parse_str;
use crate::value::{ResourceValue, Value};

const SECRET: &str = "hunter2";

/// `pw` is a secret, `user` is not, `ca` is a resource whose `key_pem` is
/// sensitive by its schema, `both` a map with one secret value.
struct Secrets;

impl Scope for Secrets {
    fn lookup(&self, name: &str) -> Option<Value> {
        match name {
            "pw" => Some(Value::String(SECRET.into()).sensitive()),
            "user" => Some(Value::String("app".into())),
            "n" => Some(Value::Number(3.0).sensitive()),
            "both" => Some(Value::Map(BTreeMap::from([
                ("pw".to_string(), Value::String(SECRET.into()).sensitive()),
                ("user".to_string(), Value::String("app".into())),
            ]))),
            "ca" => Some(Value::Resource(Arc::new(ResourceValue {
                type_name: "tls_ca".into(),
                address: "tls_ca.main".into(),
                attrs: Arc::new(BTreeMap::from([
                    ("key_pem".to_string(), Value::String(SECRET.into())),
                    ("cert_pem".to_string(), Value::String("CERT".into())),
                    ("id".to_string(), Value::String("ca-1".into())),
                ])),
                sensitive: Arc::new(BTreeSet::from(["key_pem".to_string()])),
            }))),
            _ => None,
        }
    }
    fn names(&self) -> Vec<String> {
        vec!["pw".into(), "user".into(), "n".into(), "both".into(), "ca".into()]
    }
    fn read_file(&self, path: &str) -> Result<String, String> {
        match path {
            "t.tpl" => Ok("password=${password}".into()),
            _ => Err(format!("no file {path}")),
        }
    }
}

fn value_of(expr: &str) -> Value {
    let file = parse_str(FileId(0), &format!("let x = {expr}")).unwrap_or_else(|e| panic!("{expr}: {e:?}"));
    let ItemKind::Let { value, .. } = &file.items[0].kind else { panic!("not a let") };
    eval(value, &Secrets).unwrap_or_else(|e| panic!("{expr}: {e}"))
}

#[test]
fn whatever_is_computed_from_a_secret_is_secret() {
    for expr in [
        "pw",
        "\"pw=${pw}\"",
        "<<-EOT\n  pw=${pw}\n  EOT",
        "jsonencode({ password = pw, user = user })",
        "format(\"%s:%s\", user, pw)",
        "upper(pw)",
        "base64encode(pw)",
        "merge({ a = user }, { b = pw })",
        "lookup(both, \"user\", \"x\")",
        "lookup({ a = pw }, \"a\", \"x\")",
        "[for c in [pw]: c]",
        "{ for k in [\"a\"]: k => pw }.a",
        "[for c in [user]: c if pw != \"\"]",
        "pw == \"x\" ? \"yes\" : \"no\"",
        "length(pw)",
        "n + 1",
        "-n",
        "{ a = user }[pw == \"\" ? \"a\" : \"a\"]",
        "ca.key_pem",
        "\"${ca.key_pem}\"",
        "templatefile(\"t.tpl\", { password = pw })",
        "[pw][0]",
        "{ x = pw }.x",
        "both.pw",
        "coalesce(pw, user)",
        "join(\",\", [user, pw])",
        "both[*]",
        "{ \"${pw}\" = 1 }",
        "[for c in split(\",\", pw): c]",
        "{ for k in [\"a\"]: \"${k}${pw}\" => 1 }",
    ] {
        let value = value_of(expr);
        assert!(value.is_sensitive(), "`{expr}` gave {value:?}, not marked");
        assert!(!value.to_string().contains(SECRET), "`{expr}` prints the secret: {value}");
    }
}

#[test]
fn what_does_not_touch_a_secret_stays_plain() {
    for expr in ["user", "both.user", "ca.cert_pem", "\"${ca.id}\"", "upper(user)", "{ a = user }.a", "length([pw])"] {
        let value = value_of(expr);
        // `length([pw])` is computed from the list, which holds a secret:
        // conservative, and said so.
        if expr == "length([pw])" {
            assert!(value.is_sensitive(), "{expr}");
            continue;
        }
        assert!(!value.is_sensitive(), "`{expr}` gave {value:?}, marked");
    }
}

#[test]
fn lists_and_maps_keep_marks_on_their_elements() {
    let list = value_of("[user, pw]");
    assert!(list.is_sensitive());
    let Value::List(items) = &list else { panic!("{list:?}") };
    assert!(!items[0].is_sensitive() && items[1].is_sensitive());
    let (plain, marked) = list.unmarked();
    assert!(marked && !plain.is_sensitive());
    assert_eq!(plain, Value::List(vec![Value::String("app".into()), Value::String(SECRET.into())]));
}

#[test]
fn errors_about_a_secret_do_not_quote_it() {
    for expr in ["tonumber(pw)", "{ a = 1 }[pw]", "cidrsubnet(pw, 8, 1)"] {
        let file = parse_str(FileId(0), &format!("let x = {expr}")).expect("parses");
        let ItemKind::Let { value, .. } = &file.items[0].kind else { panic!("not a let") };
        let error = eval(value, &Secrets).expect_err(expr);
        assert!(!format!("{error} {error:?}").contains(SECRET), "`{expr}`: {error:?}");
    }
    let converted = Value::String(SECRET.into()).sensitive().convert(&crate::types::Type::Number);
    assert!(converted.is_err_and(|m| !m.0.contains(SECRET)));
}

/// One step of a derivation: each wraps the expression so far.
fn step() -> impl Strategy<Value = &'static str> {
    prop::sample::select(vec![
        "\"<${X}>\"",
        "upper(X)",
        "jsonencode({ v = X })",
        "[X, user][0]",
        "{ k = X }.k",
        "format(\"%s\", X)",
        "true ? X : user",
        "lookup({ k = X }, \"k\", user)",
        "[for s in [X]: s][0]",
        "join(\"-\", [user, X])",
        "merge({ a = user }, { k = X }).k",
    ])
}

proptest! {
    #[test]
    fn a_secret_stays_marked_through_any_chain(steps in prop::collection::vec(step(), 1..6)) {
        let expr = steps.iter().fold("pw".to_string(), |inner, step| step.replace('X', &inner));
        let value = value_of(&expr);
        prop_assert!(value.is_sensitive(), "`{}` lost the mark: {:?}", expr, value);
        prop_assert!(!value.to_string().contains(SECRET));
    }
}
