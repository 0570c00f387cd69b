//! A plan as a pull-request comment: the counts in the title, destroys and
//! replacements listed first and flagged, drift named, and the full plan
//! folded in `<details>` as a `diff` block (so GitHub colours it). A long
//! plan is split into parts that each fit in one comment.

use std::fmt::Write as _;

use super::text::plan_text;
use crate::plan::{Action, Plan};

/// GitHub refuses comments over 65,536 characters; parts stay under this.
pub const PART_LIMIT: usize = 65_000;

/// The comment, in as many parts as it takes (one, usually).
#[must_use]
pub fn plan_markdown(plan: &Plan) -> Vec<String> {
    let head = head(plan);
    let lines: Vec<String> = plan_text(plan, false).lines().map(diff_line).collect();
    // Room for the fence, the summary line and the part numbers.
    let budget = PART_LIMIT.saturating_sub(head.len() + 200);
    let mut chunks: Vec<String> = vec![String::new()];
    for line in lines {
        let line = if line.len() > budget { cut(&line, budget) } else { line };
        let last = chunks.last_mut().map_or(0, |c| c.len());
        if last + line.len() + 1 > budget {
            chunks.push(String::new());
        }
        if let Some(chunk) = chunks.last_mut() {
            chunk.push_str(&line);
            chunk.push('\n');
        }
    }
    let n = chunks.len();
    chunks
        .into_iter()
        .enumerate()
        .map(|(i, chunk)| {
            let mut part =
                if i == 0 { head.clone() } else { format!("### k8sinfra plan, continued ({} of {n})\n\n", i + 1) };
            let which = if n > 1 { format!(" ({} of {n})", i + 1) } else { String::new() };
            let _ = write!(part, "<details><summary>Full plan{which}</summary>\n\n```diff\n{chunk}```\n\n</details>\n");
            part
        })
        .collect()
}

/// The title, the flagged destroys and replacements, the drift.
fn head(plan: &Plan) -> String {
    let c = plan.counts();
    let mut out = format!(
        "### k8sinfra plan: {} to add, {} to change, {} to replace, {} to destroy\n\n",
        c.add, c.change, c.replace, c.destroy
    );
    if let Some(warning) = super::text::targeted_warning(plan) {
        let _ = write!(out, "> [!WARNING]\n> {}", warning.trim_end().replace('\n', "\n> "));
        out.push_str("\n\n");
    }
    if plan.request.refresh_only {
        out.push_str("Refresh only: nothing in the cloud changes; applying takes the drift below into the state.\n\n");
    } else if !plan.has_changes() {
        out.push_str("No changes. The infrastructure matches the configuration.\n\n");
    }
    let risky: Vec<_> = plan.changes.iter().filter(|c| matches!(c.action, Action::Delete | Action::Replace)).collect();
    if !risky.is_empty() {
        let _ = writeln!(out, "> [!WARNING]\n> **{} to destroy or replace:**", risky.len());
        for change in risky {
            if change.action == Action::Delete {
                let _ = writeln!(out, "> - `-` `{}` will be destroyed", change.address);
            } else {
                let forcing: Vec<String> =
                    change.attrs.iter().filter(|a| a.forces_new).map(|a| format!("`{}`", a.name)).collect();
                let why =
                    if forcing.is_empty() { String::new() } else { format!(": {} forces it", forcing.join(", ")) };
                let note = change.replacement_note(plan);
                let _ = writeln!(out, "> - `-/+` `{}` will be replaced{note}{why}", change.address);
            }
        }
        out.push('\n');
    }
    if !plan.drift.is_empty() {
        let items: Vec<String> = plan
            .drift
            .iter()
            .map(|d| {
                if d.deleted {
                    format!("`{}` (deleted)", d.address)
                } else {
                    let names: Vec<&str> = d.attrs.iter().map(|a| a.name.as_str()).collect();
                    format!("`{}` ({})", d.address, names.join(", "))
                }
            })
            .collect();
        let _ = writeln!(out, "**Changed outside k8sinfra:** {}\n", items.join(", "));
    }
    if !plan.upstream.is_empty() {
        let items: Vec<String> = plan.upstream.iter().map(|c| format!("`{}`", super::text::upstream_line(c))).collect();
        let _ = writeln!(out, "**Changed upstream since the last apply:** {}\n", items.join(", "));
    }
    out
}

/// A line of the text plan with its symbol moved to the first column,
/// where a `diff` block colours it: `+` added, `-` removed, `!` changed.
fn diff_line(line: &str) -> String {
    let trimmed = line.trim_start();
    let indent = line.len() - trimmed.len();
    for (symbol, mark) in [("-/+ ", '!'), ("+ ", '+'), ("- ", '-'), ("~ ", '!')] {
        if let Some(rest) = trimmed.strip_prefix(symbol) {
            return format!("{mark}{}{rest}", " ".repeat(indent + symbol.len() - 1));
        }
    }
    format!(" {line}")
}

fn cut(line: &str, budget: usize) -> String {
    let keep = line.char_indices().take_while(|(i, _)| *i + 20 < budget).last().map_or(0, |(i, c)| i + c.len_utf8());
    format!("{} … (cut)", &line[..keep])
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::plan::{AttrChange, Change};

    #[test]
    fn a_comment_flags_destroys_and_folds_the_plan() {
        let parts = plan_markdown(&super::super::sample::plan());
        assert_eq!(parts.len(), 1);
        insta::assert_snapshot!(parts[0]);
    }

    #[test]
    fn a_long_plan_is_split_into_parts_that_fit_in_a_comment() {
        let change = |i: usize| Change {
            address: format!("subnet.s{i}"),
            type_name: "subnet".into(),
            action: Action::Create,
            id: None,
            attrs: vec![AttrChange {
                name: "cidr".into(),
                before: None,
                after: Some(serde_json::json!(format!("10.{}.{}.0/24", i / 256, i % 256))),
                forces_new: false,
                sensitive: false,
                after_known: None,
            }],
            config: Default::default(),
            depends_on: vec![],
            sensitive: Vec::new(),
            create_before_destroy: false,
            provider: String::new(),
            rolling: None,
            ignore_changes: Vec::new(),
        };
        let plan = Plan { changes: (0..5000).map(change).collect(), ..Plan::default() };
        let parts = plan_markdown(&plan);
        assert!(parts.len() > 1, "{} parts", parts.len());
        assert!(parts.iter().all(|p| p.len() < PART_LIMIT), "every part fits");
        assert!(parts[0].starts_with("### k8sinfra plan: 5000 to add"));
        let all = parts.concat();
        assert!((0..5000).all(|i| all.contains(&format!("subnet s{i} {{"))), "nothing is lost between parts");
        assert!(parts[1].contains(&format!("(2 of {})", parts.len())));
    }
}
