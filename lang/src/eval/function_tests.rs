//! Every function example of docs/language.md evaluates to the value the
//! table gives; the edges of the functions that count (range, format, the
//! CIDR ones, lookup, arity) return or refuse as documented; and what a
//! scope adds (`for` variables over the module's names, template files,
//! unknown values) is seen where it should be.

use std::collections::BTreeMap;

use super::{eval, EmptyScope, Scope};
use crate::source::FileId;
use crate::syntax::ast::ItemKind;
use crate::syntax::parse_str;
use crate::types::Type;
use crate::value::Value;

/// `subnet.a` answered directly (`lookup_member`) as "direct", and as
/// "walked" when `subnet` is looked up whole; `u` unknown, `ul` a list
/// holding an unknown; files `t.tpl` (which reads `inner.txt`) and
/// `inner.txt`.
struct Module;

impl Scope for Module {
    fn lookup(&self, name: &str) -> Option<Value> {
        match name {
            "subnet" => Some(Value::Map(BTreeMap::from([("a".to_string(), Value::String("walked".into()))]))),
            "u" => Some(Value::Unknown(Type::String)),
            "ul" => Some(Value::List(vec![Value::Unknown(Type::String)])),
            _ => None,
        }
    }
    fn lookup_member(&self, root: &str, member: &str) -> Option<Value> {
        (root == "subnet" && member == "a").then(|| Value::String("direct".into()))
    }
    fn names(&self) -> Vec<String> {
        vec!["subnet".into(), "u".into(), "ul".into()]
    }
    fn read_file(&self, path: &str) -> Result<String, String> {
        match path {
            "t.tpl" => Ok("${name}:${file(\"inner.txt\")}".into()),
            "inner.txt" => Ok("inside".into()),
            _ => Err(format!("no file {path}")),
        }
    }
}

fn outcome_in(scope: &dyn Scope, expr: &str) -> Result<Value, String> {
    let file = parse_str(FileId(0), &format!("let x = {expr}")).map_err(|e| format!("{expr} does not parse: {e:?}"))?;
    let ItemKind::Let { value, .. } = &file.items[0].kind else { panic!("not a let") };
    eval(value, scope).map_err(|e| {
        let help = miette::Diagnostic::help(&e).map(|h| format!(" ({h})")).unwrap_or_default();
        format!("{e}{help}")
    })
}

fn outcome(expr: &str) -> Result<Value, String> {
    outcome_in(&EmptyScope, expr)
}

fn value(expr: &str) -> Value {
    outcome(expr).unwrap_or_else(|e| panic!("{expr}: {e}"))
}

fn refused(expr: &str) -> String {
    match outcome(expr) {
        Ok(v) => panic!("{expr} gave {v}, not an error"),
        Err(e) => e,
    }
}

#[test]
fn every_documented_example_gives_the_documented_value() {
    let doc = std::fs::read_to_string(concat!(env!("CARGO_MANIFEST_DIR"), "/../docs/language.md")).expect("docs");
    let table = doc.split("\n## Functions\n").nth(1).and_then(|t| t.split("\n### ").next()).expect("the table");
    let example = regex::Regex::new(r"`([^`]+)` is `([^`]+)`").expect("pattern");
    let mut checked = 0;
    for row in table.lines().filter(|l| l.starts_with("| `")) {
        let examples = row.trim_end().trim_end_matches('|').rsplit('|').next().expect("a last column");
        for pair in example.captures_iter(examples) {
            let (call, result) = (&pair[1], &pair[2]);
            if result.contains('…') {
                continue; // shortened in the table
            }
            assert_eq!(outcome(call), outcome(result), "docs/language.md: `{call}` is `{result}`");
            checked += 1;
        }
    }
    assert!(checked >= 35, "only {checked} examples found: has the table changed shape?");
}

#[test]
fn every_function_has_a_row_in_the_reference() {
    let doc = std::fs::read_to_string(concat!(env!("CARGO_MANIFEST_DIR"), "/../docs/language.md")).expect("docs");
    let table = doc.split("\n## Functions\n").nth(1).and_then(|t| t.split("\n### ").next()).expect("the table");
    for name in super::FUNCTIONS {
        assert!(table.contains(&format!("| `{name}(")), "docs/language.md's Functions table has no row for `{name}`");
    }
}

#[test]
fn range_counts_from_start_to_end_by_step() {
    assert_eq!(value("range(0)"), value("[]"));
    assert_eq!(value("range(2, 5)"), value("[2, 3, 4]"));
    assert_eq!(value("range(0, 10, 3)"), value("[0, 3, 6, 9]"));
    assert_eq!(value("range(3, 3)"), value("[]"));
    assert_eq!(value("range(5, 2)"), value("[]"), "upwards from above the end: nothing");
    assert!(refused("range(1, 2, 0)").contains("must not be zero"));
    let Value::List(million) = value("range(1000000)") else { panic!("a list") };
    assert_eq!(million.len(), 1_000_000);
    assert!(refused("range(1000001)").contains("at most 1000000"));
    assert!(refused("range(2.5)").contains("whole number"));
    assert_eq!(value("range(9e15, 9e15)"), value("[]"), "9e15 is still whole");
    assert!(refused("range(1e16)").contains("whole number"));
}

#[test]
fn format_fills_each_verb_in_turn_and_counts_its_values() {
    assert_eq!(value(r#"format("%q|%%|%v|%d", "a", true, 3)"#), Value::String(r#""a"|%|true|3"#.into()));
    assert!(refused(r#"format("%s", "a", "b")"#).contains("2 value(s) given but the format uses 1"));
    assert!(refused(r#"format("%s %s", "a")"#).contains("value"));
    assert!(refused(r#"format("%d", 2.5)"#).contains("whole number"));
    assert!(refused(r#"format("%x", 1)"#).contains("unknown verb `%x`"));
}

#[test]
fn the_cidr_functions_refuse_what_does_not_fit() {
    assert_eq!(value("cidrsubnet(10.0.0.0/16, 16, 0)"), value("10.0.0.0/32"));
    assert_eq!(value("cidrsubnet(10.0.0.0/16, 8, 255)"), value("10.0.255.0/24"));
    assert!(refused("cidrsubnet(10.0.0.0/16, 8, 256)").contains("256"));
    assert!(refused("cidrsubnet(0.0.0.0/0, 33, 0)").contains("more than 32"));
    assert_eq!(value("cidrsubnet(0.0.0.0/0, 32, 1)"), value("0.0.0.1/32"));
    assert_eq!(value("cidrsubnets(10.0.0.0/30, 2)"), value("[10.0.0.0/32]"));
    assert!(refused("cidrsubnets(10.0.0.0/30, 3)").contains("/31 to /32"));
    assert!(refused("cidrsubnets(10.0.0.0/30, 0)").contains("/31 to /32"));
    assert_eq!(value("cidrsubnets(10.0.0.0/24, 1, 1)"), value("[10.0.0.0/25, 10.0.0.128/25]"), "exactly full");
    assert!(refused("cidrsubnets(10.0.0.0/24, 1, 1, 1)").contains("not enough room in 10.0.0.0/24 for a /25 after 2"));
}

#[test]
fn lookup_without_a_default_refuses_a_missing_key_and_arity_is_checked() {
    assert_eq!(value(r#"lookup({ a = 1 }, "a")"#), Value::Number(1.0));
    assert!(refused(r#"lookup({ a = 1 }, "b")"#).contains("no default"));
    assert_eq!(refused("upper()"), "`upper` takes 1 argument, but 0 were given");
    assert_eq!(refused(r#"upper("a", "b")"#), "`upper` takes 1 argument, but 2 were given");
    assert_eq!(refused("lookup({})"), "`lookup` takes 2 to 3 arguments, but 1 were given");
    assert_eq!(refused("max()"), "`max` takes at least 1 argument, but 0 were given");
}

#[test]
fn a_for_variable_hides_a_module_name_and_the_rest_are_still_found() {
    let in_module = |expr: &str| outcome_in(&Module, expr).unwrap_or_else(|e| panic!("{expr}: {e}"));
    assert_eq!(in_module("subnet.a"), Value::String("direct".into()));
    assert_eq!(in_module("[for x in [1]: subnet.a][0]"), Value::String("direct".into()), "the module's, directly");
    assert_eq!(in_module(r#"[for subnet in [{ a = "own" }]: subnet.a][0]"#), Value::String("own".into()));
    let typo = outcome_in(&Module, "[for item in [1]: iten]").expect_err("unknown");
    assert!(typo.contains("did you mean `item`?"), "{typo}");
    let typo = outcome_in(&Module, "[for item in [1]: subnett]").expect_err("unknown");
    assert!(typo.contains("did you mean `subnet`?"), "{typo}");
}

#[test]
fn files_are_read_by_the_module_even_inside_a_template_or_a_for() {
    let in_module = |expr: &str| outcome_in(&Module, expr).unwrap_or_else(|e| panic!("{expr}: {e}"));
    assert_eq!(in_module(r#"templatefile("t.tpl", { name = "web" })"#), Value::String("web:inside".into()));
    assert_eq!(in_module(r#"[for x in [1]: file("inner.txt")][0]"#), Value::String("inside".into()));
    assert!(refused(r#"file("inner.txt")"#).contains("must be a constant"));
    assert!(refused(r#"[for x in [1]: file("inner.txt")][0]"#).contains("must be a constant"));
}

#[test]
fn an_unknown_value_makes_its_template_unknown_and_a_list_is_still_no_text() {
    let in_module = |expr: &str| outcome_in(&Module, expr);
    assert_eq!(in_module(r#""id-${u}""#), Ok(Value::Unknown(Type::String)));
    assert!(in_module(r#""ids-${ul}""#).is_err(), "a list cannot be interpolated, known or not");
    assert_eq!(in_module("can(u)"), Ok(Value::Unknown(Type::Bool)), "unknown while it is unknown");
    assert_eq!(in_module("can(subnet.a)"), Ok(Value::Bool(true)));
}

#[test]
fn a_splat_applies_every_further_step_to_each_element() {
    assert_eq!(value("[{ a = [1] }, { a = [2] }][*].a[0]"), value("[1, 2]"));
    assert_eq!(value(r#"[{ a = { b = "x" } }][*].a["b"]"#), value(r#"["x"]"#));
}

#[test]
fn comparisons_and_logic_at_their_edges() {
    for (expr, expected) in [
        ("1 < 2", true),
        ("2 < 2", false),
        ("2 <= 2", true),
        ("3 <= 2", false),
        ("3 > 2", true),
        ("2 > 2", false),
        ("2 >= 2", true),
        ("1 >= 2", false),
        ("true && false", false),
        ("false || true", true),
        ("false || false", false),
    ] {
        assert_eq!(value(expr), Value::Bool(expected), "{expr}");
    }
    let in_module = |expr: &str| outcome_in(&Module, expr);
    for unknown in ["u == 1", "1 == u", "u != 1", "true && u == \"x\"", "false || u == \"x\""] {
        assert_eq!(in_module(unknown), Ok(Value::Unknown(Type::Bool)), "{unknown}");
    }
    assert_eq!(in_module("false && u == \"x\""), Ok(Value::Bool(false)), "decided without it");
    assert!(refused("1 && true").contains("`&&` needs bools, not number"));
    assert_eq!(value(r#"true || "yes""#), Value::Bool(true), "short-circuited before the type is looked at");
    assert!(refused(r#"false || "yes""#).contains("`||` needs bools, not string"));
    assert!(refused(r#""a" + 1"#).contains("adds numbers, not strings"));
    assert!(refused(r#""a" - 1"#).contains("`-` needs numbers, not string"));
}

#[test]
fn attributes_and_indexes_that_are_not_there_are_named() {
    assert!(refused("{ alpha = 1, beta = 2 }.zzz").contains("it has: alpha, beta"), "{}", refused("{ alpha = 1 }.zzz"));
    assert!(refused("{ alpha = 1 }.alpah").contains("did you mean `alpha`?"));
    for out_of_range in ["[1, 2][2]", "[1][-1]", "[1][0.5]"] {
        assert!(refused(out_of_range).contains("out of range"), "{out_of_range}");
    }
    assert_eq!(value("[1, 2][1]"), Value::Number(2.0));
}

#[test]
fn yaml_round_trips_through_the_language() {
    let encoded =
        value(r#"yamlencode({ name = "web", ports = [80, 443], tls = true, note = "two\nlines", none = null })"#);
    let Value::String(text) = &encoded else { panic!("text: {encoded}") };
    assert!(!text.starts_with("---") && text.ends_with('\n'), "{text:?}");
    assert_eq!(
        value(&format!("yamldecode({})", crate::value::quote(text))),
        value(r#"{ name = "web", ports = [80, 443], tls = true, note = "two\nlines", none = null }"#)
    );
    assert_eq!(value(r#"yamldecode("- 1\n- 2.5\n- x")"#), value(r#"[1, 2.5, "x"]"#));
    assert_eq!(value(r#"yamldecode("")"#), Value::Null);
    assert!(refused(r#"yamldecode("a: [1")"#).contains("not YAML"));
    assert!(refused(r#"yamldecode("a: 1\n---\nb: 2")"#).contains("2 YAML documents"));
    assert!(refused(r#"yamldecode("[1]: x")"#).contains("must be text"));
}
