//! `unknown-ignore-rule`: a `berth.dev/ignore` annotation names a rule that does not exist.
//!
//! A typo in a suppression silently suppresses nothing; this says so and suggests the
//! closest rule id.

use crate::engine::{Cx, IGNORE_ANNOTATION, Sink, ignored_ids};
use crate::finding::{RuleInfo, Severity};

/// Rule id.
pub const NAME: &str = "unknown-ignore-rule";

pub(crate) const INFO: RuleInfo = RuleInfo {
    id: NAME,
    severity: Severity::Warning,
    summary: "A berth.dev/ignore annotation names a rule id that does not exist, so it suppresses nothing.",
    source: "berth doctor suppression syntax (`berth.dev/ignore: rule-a,rule-b` or `*`)",
    help: "Suppressions must name rule ids exactly as `berth doctor --list-rules` prints them, separated by commas, or `*` for all rules.",
};

/// Levenshtein distance, for "did you mean".
fn distance(a: &str, b: &str) -> usize {
    let b: Vec<char> = b.chars().collect();
    let mut prev: Vec<usize> = (0..=b.len()).collect();
    for (i, ca) in a.chars().enumerate() {
        let mut cur = vec![i + 1; b.len() + 1];
        for (j, cb) in b.iter().enumerate() {
            cur[j + 1] = (prev[j] + usize::from(ca != *cb)).min(prev[j + 1] + 1).min(cur[j] + 1);
        }
        prev = cur;
    }
    prev[b.len()]
}

pub(crate) fn check(cx: &Cx<'_>, out: &mut Sink<'_>) {
    for (id, path) in ignored_ids(cx.object, cx.workload()) {
        if id == "*" || crate::rules::rule(id).is_some() {
            continue;
        }
        let best = crate::rules::rules()
            .iter()
            .map(|r| (distance(id, r.id), r.id))
            .min()
            .filter(|(d, _)| *d <= id.len().max(4) / 2);
        out.warn(
            &path,
            format!(
                "{IGNORE_ANNOTATION} names `{id}`, which is not a berth rule, so it suppresses nothing{}",
                best.map_or(String::new(), |(_, r)| format!(" (did you mean `{r}`?)"))
            ),
            match best {
                Some((_, r)) => format!("replace `{id}` with `{r}` in `{path}`"),
                None => format!("remove `{id}` from `{path}`; `berth doctor --list-rules` prints the valid ids"),
            },
        );
    }
}
