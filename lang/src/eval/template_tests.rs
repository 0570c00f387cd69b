//! Template directives, as Terraform has them: `%{ for }` over a list or
//! a map, `%{ if }` with an `else`, `~` stripping whitespace, nesting, in
//! strings, heredocs and template files; what they decide from a secret or
//! an unknown; and the errors for directives that do not pair up.

use std::collections::BTreeMap;

use super::{eval, Scope};
use crate::source::FileId;
use crate::syntax::ast::ItemKind;
use crate::syntax::parse_str;
use crate::types::Type;
use crate::value::Value;

/// `ips` three addresses, `tags` a map, `on`/`off` booleans, `secret` a
/// sensitive list, `later` unknown; `hosts.tpl` a template file.
struct Names;

impl Scope for Names {
    fn lookup(&self, name: &str) -> Option<Value> {
        let text = |s: &str| Value::String(s.into());
        match name {
            "ips" => Some(Value::List(vec![text("10.0.0.1"), text("10.0.0.2"), text("10.0.0.3")])),
            "tags" => Some(Value::Map(BTreeMap::from([("a".into(), text("1")), ("b".into(), text("2"))]))),
            "on" => Some(Value::Bool(true)),
            "off" => Some(Value::Bool(false)),
            "secret" => Some(Value::List(vec![text("s3cr3t")]).sensitive_if(true)),
            "later" => Some(Value::Unknown(Type::list(Type::String))),
            _ => None,
        }
    }
    fn names(&self) -> Vec<String> {
        ["ips", "tags", "on", "off", "secret", "later"].map(String::from).to_vec()
    }
    fn read_file(&self, path: &str) -> Result<String, String> {
        match path {
            "hosts.tpl" => Ok("%{ for ip in ips ~}\nserver ${ip}\n%{ endfor ~}\n".into()),
            _ => Err(format!("no file {path}")),
        }
    }
}

fn outcome(expr: &str) -> Result<Value, String> {
    let file = parse_str(FileId(0), &format!("let x = {expr}\n")).map_err(|e| format!("{e:?}"))?;
    let ItemKind::Let { value, .. } = &file.items[0].kind else { panic!("not a let") };
    eval(value, &Names).map_err(|e| e.to_string())
}

fn text(expr: &str) -> String {
    match outcome(expr) {
        Ok(Value::String(s)) => s,
        other => panic!("{expr}: {other:?}"),
    }
}

#[test]
fn for_repeats_its_body_over_a_list_or_a_map() {
    assert_eq!(text(r#""%{ for ip in ips }${ip},%{ endfor }""#), "10.0.0.1,10.0.0.2,10.0.0.3,");
    assert_eq!(text(r#""%{ for i, ip in ips }${i}=${ip} %{ endfor }""#), "0=10.0.0.1 1=10.0.0.2 2=10.0.0.3 ");
    assert_eq!(text(r#""%{ for k, v in tags }${k}:${v};%{ endfor }""#), "a:1;b:2;");
    assert_eq!(text(r#""[%{ for x in [] }${x}%{ endfor }]""#), "[]");
}

#[test]
fn if_chooses_and_else_is_optional() {
    assert_eq!(text(r#""a%{ if on }b%{ endif }c""#), "abc");
    assert_eq!(text(r#""a%{ if off }b%{ endif }c""#), "ac");
    assert_eq!(text(r#""%{ if off }yes%{ else }no%{ endif }""#), "no");
    assert_eq!(text(r#""%{ if length(ips) > 2 }many%{ else }few%{ endif }""#), "many");
}

#[test]
fn directives_nest() {
    let nested = r#""%{ for ip in ips }%{ if ip != "10.0.0.2" }${ip} %{ endif }%{ endfor }""#;
    assert_eq!(text(nested), "10.0.0.1 10.0.0.3 ");
    let loops = r#""%{ for a in [1, 2] }%{ for b in ["x", "y"] }${a}${b} %{ endfor }%{ endfor }""#;
    assert_eq!(text(loops), "1x 1y 2x 2y ");
}

#[test]
fn a_tilde_strips_the_whitespace_on_its_side() {
    assert_eq!(text(r#""a   %{~ if on ~}   b   %{~ endif ~}   c""#), "abc");
    assert_eq!(text(r#""a %{~ if on } b %{ endif ~} c""#), "a b c");
    let heredoc = "<<EOT\n%{ for ip in ips ~}\nserver ${ip}\n%{ endfor ~}\ndone\nEOT";
    assert_eq!(text(heredoc), "server 10.0.0.1\nserver 10.0.0.2\nserver 10.0.0.3\ndone\n");
    let indented = "<<-EOT\n    %{~ for ip in ips }\n    - ${ip}\n    %{~ endfor }\n    EOT";
    assert_eq!(text(indented), "\n- 10.0.0.1\n- 10.0.0.2\n- 10.0.0.3\n");
}

#[test]
fn template_files_have_directives_too() {
    assert_eq!(
        text(r#"templatefile("hosts.tpl", { ips = ips })"#),
        "server 10.0.0.1\nserver 10.0.0.2\nserver 10.0.0.3\n"
    );
}

#[test]
fn a_double_percent_is_a_literal_directive_opener() {
    assert_eq!(text(r#""100%%{ not a directive }""#), "100%{ not a directive }");
    assert_eq!(text("<<EOT\n%%{ for }\nEOT"), "%{ for }\n");
}

#[test]
fn what_a_secret_decides_is_secret_and_an_unknown_makes_it_unknown() {
    let looped = outcome(r#""%{ for s in secret }x%{ endfor }""#).expect("evaluates");
    assert!(looped.is_sensitive(), "the count of x comes from a secret: {looped:?}");
    let chosen = outcome(r#""%{ if contains(secret, "s3cr3t") }yes%{ endif }""#).expect("evaluates");
    assert!(chosen.is_sensitive(), "{chosen:?}");
    assert!(matches!(outcome(r#""%{ for x in later }${x}%{ endfor }""#), Ok(Value::Unknown(_))));
    assert_eq!(text(r#""%{ for ip in ips }.%{ endfor }""#), "...", "nothing secret: plain");
}

#[test]
fn directives_that_do_not_pair_up_are_errors() {
    for (expr, says) in [
        (r#""%{ endif }""#, "`%{ endif }` without its opening directive"),
        (r#""%{ for x in ips }x""#, "`%{ for }` is never closed"),
        (r#""%{ if on }a%{ endfor }""#, "`%{ endfor }` without its opening directive"),
        (r#""%{ else }""#, "`%{ else }` without its opening directive"),
        (r#""%{ if on }a%{ else }b%{ else }c%{ endif }""#, "`%{ else }` without its opening directive"),
    ] {
        let error = outcome(expr).expect_err(expr);
        assert!(error.contains(says), "{expr}: {error}");
    }
    let error = outcome(r#""%{ for x in 3 }x%{ endfor }""#).expect_err("a number");
    assert!(error.contains("`%{ for }` needs a list or a map"), "{error}");
    let error = outcome(r#""%{ if "yes" }x%{ endif }""#).expect_err("a string");
    assert!(error.contains("`%{ if }` needs a bool"), "{error}");
    let error = outcome(r#""%{ while on }""#).expect_err("no such directive");
    assert!(error.contains("template directive"), "{error}");
}
