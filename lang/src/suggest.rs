//! "Did you mean …?" — one place that picks the closest known name for an
//! unknown attribute, resource type, reference, module, input or function.
//!
//! A case-insensitive exact match always wins. Otherwise the candidate with
//! the highest Jaro-Winkler similarity is offered if it reaches
//! [`THRESHOLD`]; below that no suggestion beats an arbitrary one, so none
//! is made.

/// Similarity (0..=1) a candidate needs before we offer it.
pub const THRESHOLD: f64 = 0.8;

/// The best candidate for `unknown`, if any is close enough.
pub fn did_you_mean<'a, I>(unknown: &str, candidates: I) -> Option<String>
where
    I: IntoIterator<Item = &'a str>,
{
    let mut best: Option<(f64, &str)> = None;
    for candidate in candidates {
        if candidate == unknown {
            continue;
        }
        if candidate.eq_ignore_ascii_case(unknown) {
            return Some(candidate.to_string());
        }
        let score = strsim::jaro_winkler(unknown, candidate);
        if score >= THRESHOLD && best.is_none_or(|(b, name)| score > b || (score == b && candidate < name)) {
            best = Some((score, candidate));
        }
    }
    best.map(|(_, name)| name.to_string())
}

/// `did you mean `x`?` as a help line, or nothing.
pub fn help<'a, I>(unknown: &str, candidates: I) -> Option<String>
where
    I: IntoIterator<Item = &'a str>,
{
    did_you_mean(unknown, candidates).map(|s| format!("did you mean `{s}`?"))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn close_typo_is_suggested() {
        assert_eq!(did_you_mean("cidr_blok", ["cidr_block", "tags", "zone"]).as_deref(), Some("cidr_block"));
        assert_eq!(did_you_mean("subnt", ["subnet", "vpc"]).as_deref(), Some("subnet"));
    }

    #[test]
    fn case_insensitive_match_wins() {
        assert_eq!(did_you_mean("VPC", ["vpn", "vpc"]).as_deref(), Some("vpc"));
    }

    #[test]
    fn nothing_close_means_no_suggestion() {
        assert_eq!(did_you_mean("xyz", ["subnet", "instance", "vpc"]), None);
        assert_eq!(did_you_mean("anything", std::iter::empty()), None);
    }
}
