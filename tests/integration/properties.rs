//! Properties of the whole checker (parse, evaluate, check) on input no
//! one wrote on purpose: token soup from the language's own vocabulary,
//! and the repository's examples and stdlib with bytes cut, doubled or
//! swapped. Whatever comes in, `validate`'s path never panics or
//! overflows the stack, and every error it reports points at the text.

use proptest::prelude::*;

use crate::support;

/// Pieces of the language, in every role: heads, attributes, references,
/// literals, operators, brackets, strings, heredocs, comments, and a few
/// things the language does not have.
const VOCABULARY: &[&str] = &[
    "vpc main {",
    "subnet a {",
    "instance web {",
    "security_group g {",
    "module m = \"stdlib/network\" {",
    "module c = \"stdlib/cluster\" {",
    "tls_ca ca {",
    "aws { region = \"us-east-1\" }",
    "backend s3 {",
    "}",
    "{",
    "cidr = ",
    "vpc = ",
    "zone = \"us-east-1a\"",
    "count = 3",
    "for_each = ",
    "depends_on = [",
    "lifecycle {",
    "rolling_update { max_surge = 0 }",
    "ignore_changes = [tags]",
    "input x: number = 1",
    "input z: list(cidr)",
    "let y = ",
    "output o = ",
    "sensitive output s = ",
    "10.0.0.0/16",
    "10.0.1.0/24",
    "300.0.0.0/8",
    "22..80",
    "vpc.main",
    "vpc.main.cidr",
    "subnet.a[0]",
    "each.key",
    "count.index",
    "input.x",
    "module.m.vpc",
    "y",
    "\"text\"",
    "\"${vpc.main.id}\"",
    "\"${",
    "<<EOT\nline\nEOT\n",
    "<<-EOT\n  x\n  EOT\n",
    "1",
    "-2.5",
    "true",
    "null",
    "[",
    "]",
    "(",
    ")",
    ",",
    "=",
    "+",
    "*",
    "/",
    "%",
    "==",
    "&&",
    "!",
    "?",
    ":",
    ".",
    "=>",
    "[for s in [1, 2]: s * 2]",
    "{for k, v in {a = 1}: k => v}",
    "cidrsubnet(",
    "element(",
    "lookup(",
    "templatefile(\"x.tpl\", {})",
    "file(\"nope\")",
    "# comment\n",
    "// note\n",
    "\n",
    " ",
    "\u{0}",
    "é",
];

fn soup() -> impl Strategy<Value = String> {
    proptest::collection::vec(proptest::sample::select(VOCABULARY), 0..60).prop_map(|parts| parts.join(" "))
}

/// A file of the repository with up to four edits: a byte range cut, a
/// range doubled, or one byte replaced.
fn mutated() -> impl Strategy<Value = String> {
    let files: Vec<String> = ["examples", "stdlib"]
        .iter()
        .flat_map(|d| support::k8sinfra_files(&support::root().join(d)))
        .map(|p| std::fs::read_to_string(p).expect("readable"))
        .collect();
    (
        proptest::sample::select(files),
        proptest::collection::vec((any::<u16>(), any::<u16>(), 0u8..3, any::<u8>()), 1..5),
    )
        .prop_map(|(text, edits)| {
            let mut bytes = text.into_bytes();
            for (at, len, kind, byte) in edits {
                if bytes.is_empty() {
                    break;
                }
                let at = usize::from(at) % bytes.len();
                let end = (at + usize::from(len) % 40).min(bytes.len());
                match kind {
                    0 => {
                        bytes.drain(at..end);
                    }
                    1 => {
                        let copy = bytes[at..end].to_vec();
                        bytes.splice(at..at, copy);
                    }
                    _ => bytes[at] = byte,
                }
            }
            String::from_utf8_lossy(&bytes).into_owned()
        })
}

/// An error as the property sees it: its file's length (`None`: it belongs
/// to no file) and its label ranges.
type Reported = (Option<usize>, Vec<(usize, usize)>);

/// Check `text` as a one-file configuration.
fn check(text: &str) -> Vec<Reported> {
    let dir = tempfile::tempdir().expect("temp dir");
    std::fs::write(dir.path().join("main.k8sinfra"), text).expect("written");
    let (_, diags, sources) = support::load(dir.path());
    diags
        .iter()
        .filter(|d| d.is_error())
        .map(|d| (d.file.and_then(|f| sources.get(f)).map(|f| f.text.len()), d.label_ranges()))
        .collect()
}

fn every_error_points_at_the_text(text: &str) -> Result<(), TestCaseError> {
    for (file_len, ranges) in check(text) {
        let Some(len) = file_len else {
            prop_assert!(false, "an error that belongs to no file, for {text:?}");
            continue;
        };
        prop_assert!(!ranges.is_empty(), "an error without a span, for {text:?}");
        for (start, end) in ranges {
            prop_assert!(start <= end && end <= len + 1, "a span outside its file: {start}..{end} of {len}");
        }
    }
    Ok(())
}

proptest! {
    #![proptest_config(ProptestConfig { cases: 256, ..ProptestConfig::default() })]

    #[test]
    fn token_soup_gets_diagnostics_with_spans_never_a_panic(text in soup()) {
        every_error_points_at_the_text(&text)?;
    }

    #[test]
    fn damaged_examples_get_diagnostics_with_spans_never_a_panic(text in mutated()) {
        every_error_points_at_the_text(&text)?;
    }
}
