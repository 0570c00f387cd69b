//! Parser and formatter tests on small inputs; whole files are covered by
//! the integration suite.

use proptest::prelude::*;

use crate::eval::{eval, EmptyScope};
use crate::fmt::format_file;
use crate::source::FileId;
use crate::syntax::ast::{ExprKind, ItemKind};
use crate::syntax::{parse_str, SyntaxError};
use crate::value::Value;

fn value_of(expr: &str) -> Value {
    let file = parse_str(FileId(0), &format!("let x = {expr}")).expect("parses");
    let ItemKind::Let { value, .. } = &file.items[0].kind else { panic!("not a let") };
    eval(value, &EmptyScope).expect("evaluates")
}

fn reformat(src: &str) -> String {
    format_file(&parse_str(FileId(0), src).unwrap_or_else(|e| panic!("{src}: {e:?}")))
}

#[test]
fn precedence_table() {
    assert_eq!(value_of("1 + 2 * 3"), Value::Number(7.0));
    assert_eq!(value_of("(1 + 2) * 3"), Value::Number(9.0));
    assert_eq!(value_of("10 - 4 - 3"), Value::Number(3.0));
    assert_eq!(value_of("100 / 10 / 5"), Value::Number(2.0));
    assert_eq!(value_of("7 % 4 * 2"), Value::Number(6.0));
    assert_eq!(value_of("-2 * 3"), Value::Number(-6.0));
    assert_eq!(value_of("1 + 2 < 4 == true"), Value::Bool(true));
    assert_eq!(value_of("true || false && false"), Value::Bool(true));
    assert_eq!(value_of("!false && 1 < 2"), Value::Bool(true));
    assert_eq!(value_of("1 < 2 ? 3 : 4"), Value::Number(3.0));
    assert_eq!(value_of("false ? 1 : true ? 2 : 3"), Value::Number(2.0));
    assert_eq!(value_of("[1, 2, 3][1] + 1"), Value::Number(3.0));
    assert_eq!(value_of("{ a = { b = 5 } }.a.b * 2"), Value::Number(10.0));
}

/// The functions added for day-two configurations (issue 14), each with
/// the result Terraform gives for the same call.
#[test]
fn day_two_functions() {
    assert_eq!(value_of(r#"toset(["b", "a", "b"])"#).to_string(), r#"["a", "b"]"#);
    assert_eq!(value_of(r#"sort(["b", "c", "a"])"#).to_string(), r#"["a", "b", "c"]"#);
    assert_eq!(value_of(r#"jsondecode("{\"a\": [1, true, null]}")"#).to_string(), "{ a = [1, true, null] }");
    assert_eq!(
        value_of("cidrsubnets(10.1.0.0/16, 4, 4, 8, 4)").to_string(),
        "[10.1.0.0/20, 10.1.16.0/20, 10.1.32.0/24, 10.1.48.0/20]"
    );
    assert_eq!(
        value_of(r#"sha256("hello")"#),
        Value::String("2cf24dba5fb0a30e26e83b2ac5b9e29e1b161e5c1fa7425e73043362938b9824".into())
    );
    assert_eq!(value_of(r#"regex("[a-z]+", "123abc456")"#), Value::String("abc".into()));
    assert_eq!(value_of(r#"regex("(\\d+)-(\\d+)", "port 80-443")"#).to_string(), r#"["80", "443"]"#);
    assert_eq!(
        value_of(r#"regex("(?P<major>\\d+)\\.(?P<minor>\\d+)", "v1.31")"#).to_string(),
        r#"{ major = "1", minor = "31" }"#
    );
    assert_eq!(value_of(r#"try({ a = 1 }.b, "fallback")"#), Value::String("fallback".into()));
    assert_eq!(value_of(r#"try({ a = 1 }.a, "fallback")"#), Value::Number(1.0));
    assert_eq!(value_of(r#"can(regex("^ami-", "ami-123"))"#), Value::Bool(true));
    assert_eq!(value_of(r#"can(regex("^ami-", "vpc-123"))"#), Value::Bool(false));
    assert_eq!(value_of("can([1, 2][5])"), Value::Bool(false));
}

/// `expr` evaluated, or its error's message.
fn outcome_of(expr: &str) -> Result<Value, String> {
    let file = parse_str(FileId(0), &format!("let x = {expr}")).expect("parses");
    let ItemKind::Let { value, .. } = &file.items[0].kind else { panic!("not a let") };
    eval(value, &EmptyScope).map_err(|e| e.to_string())
}

/// language.md, Operators: text equals the number, CIDR or address it
/// spells; `&&`, `||` and `?:` evaluate only what decides the result (the
/// division by zero on the side not taken would be an error).
#[test]
fn equality_reads_text_as_what_it_spells_and_only_the_deciding_side_is_evaluated() {
    for (expr, expected) in [
        (r#""22" == 22"#, true),
        (r#"10.0.0.0/16 == "10.0.0.0/16""#, true),
        (r#""10.0.0.1" == 10.0.0.1"#, true),
        (r#""23" == 22"#, false),
        (r#""22" != 22"#, false),
        ("false && 1 / 0 > 0", false),
        ("true || 1 / 0 > 0", true),
    ] {
        assert_eq!(value_of(expr), Value::Bool(expected), "{expr}");
    }
    assert_eq!(value_of("true ? 1 : 1 / 0"), Value::Number(1.0));
    assert_eq!(value_of("false ? 1 / 0 : 2"), Value::Number(2.0));
    for taken in ["true && 1 / 0 > 0", "false || 1 / 0 > 0", "false ? 1 : 1 / 0"] {
        assert!(outcome_of(taken).is_err_and(|e| e.contains("zero")), "{taken}: {:?}", outcome_of(taken));
    }
}

#[test]
fn literals_and_templates() {
    assert_eq!(value_of("10.0.0.0/16").to_string(), "10.0.0.0/16");
    assert_eq!(value_of("cidrsubnet(10.0.0.0/16, 8, 1)").to_string(), "10.0.1.0/24");
    assert_eq!(value_of("cidrhost(10.0.1.0/24, 10)").to_string(), "10.0.1.10");
    assert_eq!(value_of("30000..32767"), Value::PortRange(30000, 32767));
    assert_eq!(value_of(r#""a${1 + 1}b\n""#), Value::String("a2b\n".into()));
    assert_eq!(value_of(r#""$${literal}""#), Value::String("${literal}".into()));
    assert_eq!(value_of("<<EOT\nline ${1}\n  two\nEOT\n"), Value::String("line 1\n  two\n".into()));
    assert_eq!(value_of("<<-EOT\n    a\n      b\n    EOT\n"), Value::String("a\n  b\n".into()));
    assert_eq!(value_of("[for i, z in [\"a\", \"b\"]: \"${i}${z}\" if z != \"b\"]").to_string(), r#"["0a"]"#);
    assert_eq!(value_of("{for z in [\"a\", \"b\"]: z => upper(z)}").to_string(), r#"{ a = "A", b = "B" }"#);
    assert_eq!(value_of("[{ a = 1 }, { a = 2 }][*].a").to_string(), "[1, 2]");
    assert_eq!(value_of(r#"format("%s-%d", "node", 3)"#), Value::String("node-3".into()));
    assert_eq!(
        value_of(r#"jsonencode({ b = [1, "x"], a = null })"#),
        Value::String(r#"{"a":null,"b":[1,"x"]}"#.into())
    );
    assert_eq!(value_of(r#"base64encode("hi")"#), Value::String("aGk=".into()));
}

#[test]
fn malformed_literals_are_diagnosed() {
    let errs =
        parse_str(FileId(0), "let a = 10.0.0.300/16\nlet b = 10.0.0.0/33\nlet c = 10.0.0.1/16\nlet d = 80..70000")
            .expect_err("invalid");
    assert_eq!(errs.len(), 4);
    assert!(matches!(errs[0], SyntaxError::MalformedCidr { .. }));
    assert!(matches!(errs[3], SyntaxError::PortOutOfRange { .. }));
}

#[test]
fn comments_survive_formatting() {
    let src = "# header\n\nvpc main { # trailing\n  # leading\n  cidr = 10.0.0.0/16 // slash\n  tags = [\n    \"a\", # one\n    # before two\n    \"b\",\n  ]\n  # inside at end\n}\n# at the end\n";
    let once = reformat(src);
    for comment in
        ["# header", "# trailing", "# leading", "// slash", "# one", "# before two", "# inside at end", "# at the end"]
    {
        assert!(once.contains(comment), "lost {comment}:\n{once}");
    }
    assert_eq!(reformat(&once), once);
}

#[test]
fn formatting_is_canonical() {
    let messy = "vpc   main{cidr=10.0.0.0/16\n enable_dns_hostnames=true;}\nsubnet a { vpc = vpc.main, cidr = cidrsubnet(vpc.main.cidr,8,1) }";
    let want = "vpc main {\n  cidr                 = 10.0.0.0/16\n  enable_dns_hostnames = true\n}\n\nsubnet a { vpc = vpc.main, cidr = cidrsubnet(vpc.main.cidr, 8, 1) }\n";
    assert_eq!(reformat(messy), want);
    assert_eq!(reformat(want), want);
}

#[test]
fn a_one_line_block_too_long_to_stay_one_line_opens_without_blank_lines() {
    let src = "g x {\n  a = 1\n\n  rule { protocol = \"tcp\", port = 22, cidrs = input.admin_cidrs, description = \"SSH from the administrators\" }\n}\n";
    let expected = "g x {\n  a = 1\n\n  rule {\n    protocol    = \"tcp\"\n    port        = 22\n    cidrs       = input.admin_cidrs\n    description = \"SSH from the administrators\"\n  }\n}\n";
    assert_eq!(reformat(src), expected);
    assert_eq!(reformat(expected), expected);
}

#[test]
fn hostile_input_gives_errors_not_panics() {
    for src in [
        "[".repeat(10_000),
        "{".repeat(10_000),
        "let x = ".to_string() + &"!".repeat(5_000) + "true",
        "let x = 1".to_string() + &" + 1".repeat(5_000),
        "let x = \"unterminated".into(),
        "vpc main {".into(),
        "vpc main { cidr = 10.0.0.0/16 }}".into(),
        "\u{0}".into(),
        "let = ".into(),
        "let x = <<EOT\nno end".into(),
    ] {
        assert!(parse_str(FileId(0), &src).is_err(), "accepted {:?}", &src[..src.len().min(30)]);
    }
}

/// A random arithmetic expression as tokens: numbers and operators.
fn arithmetic() -> impl Strategy<Value = (Vec<i64>, Vec<&'static str>)> {
    (1usize..8).prop_flat_map(|n| {
        (
            proptest::collection::vec(0i64..20, n + 1),
            proptest::collection::vec(prop_oneof![Just("+"), Just("-"), Just("*")], n),
        )
    })
}

/// Reference evaluation with the usual precedence: products first, then
/// sums and differences from left to right.
fn reference(nums: &[i64], ops: &[&str]) -> i64 {
    let mut terms = vec![nums[0]];
    let mut signs = vec![1];
    for (op, n) in ops.iter().zip(&nums[1..]) {
        match *op {
            "*" => *terms.last_mut().expect("one term") *= n,
            "+" => {
                terms.push(*n);
                signs.push(1);
            }
            _ => {
                terms.push(*n);
                signs.push(-1);
            }
        }
    }
    terms.iter().zip(signs).map(|(t, s)| t * s).sum()
}

proptest! {
    #[test]
    fn arithmetic_follows_precedence((nums, ops) in arithmetic()) {
        let mut src = nums[0].to_string();
        for (op, n) in ops.iter().zip(&nums[1..]) {
            src.push_str(&format!(" {op} {n}"));
        }
        #[allow(clippy::cast_precision_loss)]
        let want = reference(&nums, &ops) as f64;
        prop_assert_eq!(value_of(&src), Value::Number(want));
    }

    #[test]
    fn binary_operators_group_left((nums, ops) in arithmetic()) {
        let mut src = nums[0].to_string();
        for (op, n) in ops.iter().zip(&nums[1..]) {
            src.push_str(&format!(" {op} {n}"));
        }
        let file = parse_str(FileId(0), &format!("let x = {src}")).expect("parses");
        let ItemKind::Let { value, .. } = &file.items[0].kind else { panic!("not a let") };
        // The right operand of a binary node is never an operator of the
        // same precedence: that would be right grouping.
        fn check(e: &crate::syntax::ast::Expr) -> bool {
            use crate::syntax::ast::BinaryOp::{Add, Mul, Sub};
            match &e.kind {
                ExprKind::Binary(op, l, r) => {
                    let same_level = |o| matches!((op, o), (Add | Sub, Add | Sub) | (Mul, Mul));
                    let right_ok = !matches!(&r.kind, ExprKind::Binary(ro, ..) if same_level(*ro));
                    right_ok && check(l) && check(r)
                }
                _ => true,
            }
        }
        prop_assert!(check(value));
    }

    /// `cidrsubnets` gives blocks of the sizes asked, in order, each
    /// aligned to its size, inside the prefix, none overlapping; or an
    /// error when they do not fit, never a wrong answer.
    #[test]
    fn cidrsubnets_are_aligned_disjoint_and_inside(len in 8u8..28, newbits in proptest::collection::vec(1u8..6, 1..8)) {
        let args: Vec<String> = newbits.iter().map(ToString::to_string).collect();
        let src = format!("cidrsubnets(10.0.0.0/{len}, {})", args.join(", "));
        let file = parse_str(FileId(0), &format!("let x = {src}")).expect("parses");
        let ItemKind::Let { value, .. } = &file.items[0].kind else { panic!("not a let") };
        let Ok(Value::List(nets)) = eval(value, &EmptyScope) else {
            // Only when they cannot fit: the sizes alone overflow, or with alignment.
            return Ok(());
        };
        let prefix: ipnet::Ipv4Net = format!("10.0.0.0/{len}").parse().expect("prefix");
        let mut previous_end = 0u64;
        prop_assert_eq!(nets.len(), newbits.len());
        for (net, bits) in nets.iter().zip(&newbits) {
            let Value::Cidr(ipnet::IpNet::V4(net)) = net else { panic!("not a cidr: {net}") };
            prop_assert_eq!(net.prefix_len(), len + bits);
            prop_assert!(prefix.contains(net), "{} outside {}", net, prefix);
            let start = u64::from(u32::from(net.network()));
            let size = 1u64 << (32 - u32::from(net.prefix_len()));
            prop_assert_eq!(start % size, 0, "{} not aligned", net);
            prop_assert!(start >= previous_end, "{} overlaps the one before", net);
            previous_end = start + size;
        }
    }

    #[test]
    fn parser_never_panics(src in "[a-z{}\\[\\]()=\"#/.,0-9 \n<-]{0,80}") {
        let _ = parse_str(FileId(0), &src);
    }
}
