//! Promises of docs/language.md kept by the binary alone (no cloud): which
//! files make a configuration, where input values come from, module calls
//! expanded, `fmt`'s folders and output, the diagnostics' width and codes,
//! and checking that never calls AWS.

use std::path::Path;

use crate::support::{self, assert_clean_failure, run, run_with, stderr, stdout, Silent};

fn scratch(files: &[(&str, &str)]) -> tempfile::TempDir {
    let dir = tempfile::tempdir().expect("tempdir");
    for (name, text) in files {
        let path = dir.path().join(name);
        std::fs::create_dir_all(path.parent().expect("parent")).expect("folders");
        std::fs::write(path, text).expect("write");
    }
    dir
}

/// Commands: `validate` (and `graph`) check without a call to AWS: an
/// endpoint that would record any connection gets none.
#[test]
fn validate_and_graph_make_no_call() {
    let cloud = Silent::new();
    let endpoint = cloud.url();
    let env = [("AWS_ENDPOINT_URL", endpoint.as_str()), ("AWS_ACCESS_KEY_ID", "x"), ("AWS_SECRET_ACCESS_KEY", "x")];
    for example in ["examples/seed-chapter", "examples/kops-cluster"] {
        for verb in ["validate", "graph"] {
            let out = run_with(&support::root(), &[verb, example], &env);
            assert!(out.status.success(), "{verb} {example}: {}", stderr(&out));
        }
    }
    cloud.assert_untouched();
}

/// Files: every `.k8sinfra` of the folder, not its subfolders; a file given
/// alone is read alone; a file over 256 MiB is refused.
#[test]
fn a_folder_is_its_own_files_and_a_file_is_itself() {
    let dir = scratch(&[
        ("main.k8sinfra", "aws { region = \"us-east-1\" }\nvpc main { cidr = 10.0.0.0/16 }\n"),
        ("more.k8sinfra", "vpc second { cidr = 10.1.0.0/16 }\n"),
        ("notes.txt", "not a configuration {"),
        ("sub/broken.k8sinfra", "this is not { valid"),
    ]);
    let out = run(dir.path(), &["validate", "."]);
    assert!(out.status.success(), "{}", stderr(&out));
    assert!(stderr(&out).contains("2 resources"), "{}", stderr(&out));
    let out = run(dir.path(), &["validate", "main.k8sinfra"]);
    assert!(out.status.success(), "{}", stderr(&out));
    assert!(stderr(&out).contains("1 resource"), "{}", stderr(&out));

    let huge = std::fs::File::create(dir.path().join("huge.k8sinfra")).expect("create");
    huge.set_len(256 * 1024 * 1024 + 1).expect("a sparse file just over the limit");
    let out = run(dir.path(), &["validate", "."]);
    assert_clean_failure(&out, "check::load");
    assert!(stderr(&out).contains("is larger than 256 MiB"), "{}", stderr(&out));
}

/// Inputs: environment < `--var-file` < `--var`, and a later file or flag
/// over an earlier one. The value shows as the key of an instance.
#[test]
fn inputs_take_a_flag_over_a_file_over_the_environment() {
    let dir = scratch(&[
        (
            "main.k8sinfra",
            "input name: string\nvpc v {\n  for_each = toset([input.name])\n  cidr     = 10.0.0.0/16\n}\n",
        ),
        ("a.vars", "name = \"file-a\"\n"),
        ("b.vars", "name = \"file-b\"\n"),
    ]);
    let env = [("K8SINFRA_VAR_name", "from-env")];
    let chosen = |args: &[&str]| {
        let mut all = vec!["graph"];
        all.extend_from_slice(args);
        let out = run_with(dir.path(), &all, &env);
        assert!(out.status.success(), "{args:?}: {}", stderr(&out));
        let dot = stdout(&out);
        let start = dot.find("vpc.v[\\\"").expect("the instance") + "vpc.v[\\\"".len();
        dot[start..].split('\\').next().expect("key").to_string()
    };
    assert_eq!(chosen(&[]), "from-env");
    assert_eq!(chosen(&["--var-file", "a.vars"]), "file-a");
    assert_eq!(chosen(&["--var-file", "a.vars", "--var-file", "b.vars"]), "file-b");
    assert_eq!(chosen(&["--var-file", "b.vars", "--var", "name=one", "--var", "name=two"]), "two");
}

/// Inputs: `validate` accepts a root input with no value, even where
/// `for_each` needs it; `plan` asks for the value and changes nothing.
#[test]
fn an_input_without_a_value_passes_validate_and_stops_plan() {
    let dir = scratch(&[(
        "main.k8sinfra",
        "aws { region = \"us-east-1\" }\ninput zones: list(string)\nvpc v {\n  for_each = toset(input.zones)\n  cidr     = 10.0.0.0/16\n}\n",
    )]);
    let out = run(dir.path(), &["validate"]);
    assert!(out.status.success(), "{}", stderr(&out));
    let cloud = Silent::new();
    let out = run_with(dir.path(), &["plan"], &[("AWS_ENDPOINT_URL", cloud.url().as_str())]);
    assert_clean_failure(&out, "check::missing_input");
    assert!(support::flat(&stderr(&out)).contains("--var zones="), "{}", stderr(&out));
    assert!(!dir.path().join(".k8sinfra").exists(), "no state written");
}

/// Modules: `count` and `for_each` on a module call, and a module found by
/// an absolute path.
#[test]
fn module_calls_expand_and_take_absolute_sources() {
    let dir = scratch(&[(
        "modules/web/main.k8sinfra",
        "input name: string\nvpc main {\n  cidr = 10.0.0.0/16\n  tags = { Role = input.name }\n}\noutput name = input.name\n",
    )]);
    let web = dir.path().join("modules/web");
    let root = format!(
        "aws {{ region = \"us-east-1\" }}\n\
         module web = \"./modules/web\" {{\n  count = 2\n  name  = \"web-${{count.index}}\"\n}}\n\
         module api = \"./modules/web\" {{\n  for_each = {{ api = \"x\", admin = \"y\" }}\n  name     = \"${{each.key}}-${{each.value}}\"\n}}\n\
         module far = \"{}\" {{\n  name = \"far\"\n}}\n\
         output web_names = module.web[*].name\noutput admin_name = module.api[\"admin\"].name\n",
        web.display()
    );
    std::fs::write(dir.path().join("main.k8sinfra"), root).expect("write");
    let out = run(dir.path(), &["graph"]);
    assert!(out.status.success(), "{}", stderr(&out));
    let dot = stdout(&out);
    for address in [
        "module.web[0].vpc.main",
        "module.web[1].vpc.main",
        "module.api[\\\"admin\\\"].vpc.main",
        "module.api[\\\"api\\\"].vpc.main",
        "module.far.vpc.main",
    ] {
        assert!(dot.contains(&format!("\"{address}\"")), "{address} in\n{dot}");
    }
    assert!(!dot.contains("module.web[2]"), "{dot}");
}

/// Formatting: `-r` goes into subfolders but not dot folders or `target`;
/// `fmt` names each file it changed; `--diff` prints the diff and writes.
#[test]
fn fmt_recurses_past_dot_folders_and_target_and_names_what_it_changed() {
    let messy = "vpc   main{cidr=10.0.0.0/16}\n";
    let tidy = "vpc main { cidr = 10.0.0.0/16 }\n";
    let dir = scratch(&[
        ("a.k8sinfra", messy),
        ("tidy.k8sinfra", tidy),
        ("sub/b.k8sinfra", messy),
        (".hidden/c.k8sinfra", messy),
        ("target/d.k8sinfra", messy),
    ]);
    let read = |name: &str| std::fs::read_to_string(dir.path().join(name)).expect("read");

    let out = run(dir.path(), &["fmt"]);
    assert!(out.status.success(), "{}", stderr(&out));
    assert_eq!(stdout(&out).lines().collect::<Vec<_>>(), ["./a.k8sinfra"], "only what changed, only here");
    assert_eq!(read("sub/b.k8sinfra"), messy, "no subfolder without -r");

    let out = run(dir.path(), &["fmt", "-r", "."]);
    assert!(out.status.success(), "{}", stderr(&out));
    let changed = stdout(&out);
    assert_eq!(changed.lines().collect::<Vec<_>>(), ["./sub/b.k8sinfra"]);
    assert_eq!(read("sub/b.k8sinfra"), tidy);
    assert_eq!(read(".hidden/c.k8sinfra"), messy);
    assert_eq!(read("target/d.k8sinfra"), messy);

    std::fs::write(dir.path().join("a.k8sinfra"), messy).expect("messy again");
    let out = run(dir.path(), &["fmt", "--diff", "a.k8sinfra"]);
    assert!(out.status.success(), "{}", stderr(&out));
    assert!(stdout(&out).contains("+vpc main { cidr = 10.0.0.0/16 }"), "{}", stdout(&out));
    assert_eq!(read("a.k8sinfra"), tidy, "--diff alone writes");
}

/// Diagnostics: `COLUMNS` sets the width text is wrapped at (messages and
/// help; the quoted source lines are never wrapped).
/// language.md, output: a module's output that is a constant (a version
/// string) is read through its call like any other: found by a root
/// output and a resource, with no input of the module involved. (It was
/// evaluated before its call existed: "this map has no attribute".)
#[test]
fn a_modules_constant_output_is_read_through_its_call() {
    let dir = scratch(&[
        (
            "main.k8sinfra",
            "aws { region = \"us-east-1\" }\n\nmodule m = \"./mods/m\" {}\n\nvpc main {\n  cidr = 10.0.0.0/16\n  \
             tags = { Version = module.m.version }\n}\n\noutput version = module.m.version\n",
        ),
        ("mods/m/main.k8sinfra", "output version = \"1.2\"\n"),
    ]);
    let out = run(dir.path(), &["validate"]);
    assert!(out.status.success(), "{}", stderr(&out));
    let cloud = Silent::new();
    let url = cloud.url();
    let plan = run_with(
        dir.path(),
        &["plan", "--refresh=false"],
        &[
            ("AWS_ENDPOINT_URL", &url),
            ("AWS_ACCESS_KEY_ID", "t"),
            ("AWS_SECRET_ACCESS_KEY", "t"),
            ("AWS_REGION", "us-east-1"),
        ],
    );
    let shown = stdout(&plan);
    assert!(plan.status.success(), "{shown}{}", stderr(&plan));
    assert!(shown.contains("+ version = \"1.2\"") && shown.contains("Version = \"1.2\""), "{shown}");
    cloud.assert_untouched();
}

/// language.md, formatting: a file is replaced whole — the new text
/// written beside it and renamed over — never rewritten in place, so an
/// interrupted `fmt` leaves the old file or the new one. A hard link to
/// the old file keeps the old text; the file's mode is kept; no temporary
/// file is left.
#[test]
fn fmt_replaces_a_file_whole_and_keeps_its_mode() {
    use std::os::unix::fs::PermissionsExt as _;
    let messy = "vpc   main {\ncidr = 10.0.0.0/16\n}\n";
    let dir = scratch(&[("main.k8sinfra", messy)]);
    let file = dir.path().join("main.k8sinfra");
    std::fs::set_permissions(&file, std::fs::Permissions::from_mode(0o640)).expect("mode");
    std::fs::hard_link(&file, dir.path().join("before.txt")).expect("link");
    let out = run(dir.path(), &["fmt", "."]);
    assert!(out.status.success(), "{}", stderr(&out));
    assert_eq!(std::fs::read_to_string(&file).expect("read"), "vpc main {\n  cidr = 10.0.0.0/16\n}\n");
    assert_eq!(std::fs::read_to_string(dir.path().join("before.txt")).expect("read"), messy, "not written in place");
    assert_eq!(std::fs::metadata(&file).expect("metadata").permissions().mode() & 0o777, 0o640);
    let mut names: Vec<String> = std::fs::read_dir(dir.path())
        .expect("list")
        .filter_map(Result::ok)
        .map(|e| e.file_name().to_string_lossy().into_owned())
        .collect();
    names.sort();
    assert_eq!(names, ["before.txt", "main.k8sinfra"], "nothing left behind");
}

#[test]
fn columns_sets_the_wrap_width() {
    let widest = |columns: Option<&str>| {
        let env: Vec<(&str, &str)> = columns.map(|c| vec![("COLUMNS", c)]).unwrap_or_default();
        let out = run_with(&support::root(), &["validate", "tests/fixtures/errors/expansion.k8sinfra"], &env);
        assert_eq!(out.status.code(), Some(1));
        let text = stderr(&out);
        let quoted = |l: &&str| ['│', '·', '╭', '╰'].iter().any(|c| l.contains(*c));
        text.lines().filter(|l| !quoted(l)).map(|l| l.trim_end().chars().count()).max().unwrap_or(0)
    };
    let narrow = widest(Some("60"));
    assert!(narrow <= 60, "widest line {narrow} at COLUMNS=60");
    let default = widest(None);
    assert!(default > 60 && default <= 100, "widest line {default} by default");
}

/// Diagnostics: the codes of input that cannot be read.
#[test]
fn unreadable_input_has_its_codes() {
    let dir = scratch(&[("main.k8sinfra", "vpc main { cidr = 10.0.0.0/16 }\n")]);
    assert_clean_failure(&run(dir.path(), &["validate", "missing"]), "check::load");
    assert_clean_failure(&run(dir.path(), &["validate", "--var", "no-equals-sign"]), "cli::var");
    assert_clean_failure(&run(dir.path(), &["validate", "--var-file", "missing.vars"]), "cli::var_file");
    assert_clean_failure(&run(dir.path(), &["fmt", "missing.k8sinfra"]), "fmt::io");
    std::fs::write(dir.path().join("main.k8sinfra"), "vpc main { cidr = 10.0.0.0/16 } }\n").expect("write");
    assert_clean_failure(&run(dir.path(), &["validate"]), "syntax::unopened");
}

/// Inputs: `validation { condition, message }` checked where the value is
/// given (a flag, a default, a module call); a secret's value is never
/// shown, not even through its message; no value at `validate`, no check.
#[test]
fn an_input_is_checked_against_its_validations_where_it_is_given() {
    let dir = scratch(&[
        (
            "main.k8sinfra",
            "input port: number {\n  validation {\n    condition = input.port > 1024\n    message   = \"above 1024, please\"\n  }\n}\n\n\
             sensitive input token: string = \"short\" {\n  validation {\n    condition = length(input.token) >= 16\n    \
             message   = \"too short: ${input.token}\"\n  }\n}\n\n\
             module web = \"./web\" {\n  replicas = 0\n}\n\noutput port = input.port\n",
        ),
        (
            "web/main.k8sinfra",
            "input replicas: number {\n  validation {\n    condition = input.replicas > 0\n    message   = \"at least one replica\"\n  }\n}\n\noutput replicas = input.replicas\n",
        ),
    ]);
    let out = run(dir.path(), &["validate"]);
    assert_clean_failure(&out, "check::invalid_input");
    let text = support::flat(&stderr(&out));
    assert!(text.contains("`input.replicas` fails its validation: at least one replica"), "{text}");
    assert!(
        text.contains("`input.token` fails its validation: (the message is derived from a sensitive value)"),
        "{text}"
    );
    assert!(!text.contains("too short") && !text.contains("the value given is \"short\""), "{text}");
    assert!(!text.contains("input.port"), "no value, nothing to check: {text}");
    assert!(text.contains("2 errors"), "{text}");

    let out = run(dir.path(), &["validate", "--var", "port=80"]);
    assert!(
        support::flat(&stderr(&out)).contains("`input.port` fails its validation: above 1024, please"),
        "{}",
        stderr(&out)
    );
    let out = run(dir.path(), &["validate", "--var", "port=8080"]);
    assert!(!stderr(&out).contains("input.port"), "{}", stderr(&out));
}

/// Provider settings: the region is the `aws` block's, else `AWS_REGION`,
/// else `AWS_DEFAULT_REGION`; with none, the zone check is skipped.
#[test]
fn the_region_comes_from_the_block_then_the_environment_and_without_one_zones_are_not_checked() {
    let subnet = "vpc main {\n  cidr = 10.0.0.0/16\n}\n\nsubnet a {\n  vpc  = vpc.main\n  cidr = 10.0.1.0/24\n  zone = \"us-west-2a\"\n}\n";
    let bare = scratch(&[("main.k8sinfra", subnet)]);
    let check = |dir: &Path, env: &[(&str, &str)]| {
        let out = run_with(dir, &["validate"], env);
        (out.status.success(), stderr(&out))
    };
    let (ok, err) = check(bare.path(), &[]);
    assert!(ok, "no region, no zone check: {err}");
    let (ok, err) = check(bare.path(), &[("AWS_DEFAULT_REGION", "us-west-2")]);
    assert!(ok, "{err}");
    let (ok, err) = check(bare.path(), &[("AWS_DEFAULT_REGION", "us-west-2"), ("AWS_REGION", "us-east-1")]);
    assert!(!ok && err.contains("net::zone_outside_region") && err.contains("us-east-1"), "AWS_REGION first: {err}");
    let blocked = scratch(&[("main.k8sinfra", &format!("aws {{ region = \"us-east-1\" }}\n{subnet}"))]);
    let (ok, err) = check(blocked.path(), &[("AWS_REGION", "us-west-2")]);
    assert!(!ok && err.contains("net::zone_outside_region"), "the block first: {err}");
}
