//! `duplicate-key`: a mapping key written twice in one object.
//!
//! YAML forbids duplicate keys, but kubectl's reader (sigs.k8s.io/yaml over a go-yaml v2
//! fork) accepts them and keeps the last value (kubernetes/kubernetes#14791 "yaml and json
//! parsers silently drop duplicate keys", #125885): the first one is dropped without a
//! word. berth-manifest reads them the same way and records each
//! repetition in `Object::duplicate_keys`; this rule reports them so the value that was
//! meant is not silently lost. The object is still checked with the value that wins, so
//! its other findings are reported as usual.

use std::collections::BTreeMap;

use berth_manifest::{Node, Seg, Value};

use crate::engine::{Cx, Sink, flow};
use crate::finding::{RuleInfo, Severity};
use crate::rules::shared::and_list;

/// Rule id.
pub const NAME: &str = "duplicate-key";

pub(crate) const INFO: RuleInfo = RuleInfo {
    id: NAME,
    severity: Severity::Warning,
    summary: "A mapping key is written twice in one object; kubectl keeps the last value and silently drops the first.",
    source: "sigs.k8s.io/yaml (go-yaml v2 fork) keeps the last of repeated keys: kubernetes/kubernetes#14791, #125885; YAML 1.2 (the keys of a mapping are unique)",
    help: "YAML says mapping keys are unique, but kubectl accepts a repeated key and keeps its last value, so the first one is lost without an error: a duplicated `replicas`, `env` or `resources` silently overrides what was written above it. Remove one of them.",
};

/// Longest value text shown in a message.
const SHOWN: usize = 60;

/// The value that wins, for the message: a scalar as YAML, a collection by kind.
fn describe(node: &Node) -> String {
    match &node.value {
        Value::Map(_) => "the mapping written last".into(),
        Value::Seq(_) => "the list written last".into(),
        _ => {
            let text = flow(node);
            if text.chars().count() > SHOWN {
                let cut: String = text.chars().take(SHOWN).collect();
                format!("{cut}…")
            } else {
                text
            }
        }
    }
}

pub(crate) fn check(cx: &Cx<'_>, out: &mut Sink<'_>) {
    let o = cx.object;
    if o.duplicate_keys.is_empty() {
        return;
    }
    // One finding per repeated key, listing every line it is written on (a key written
    // three times is recorded as two repetitions).
    let mut lines: BTreeMap<String, (berth_manifest::FieldPath, Vec<u32>)> = BTreeMap::new();
    for d in &o.duplicate_keys {
        let entry = lines
            .entry(d.path.to_string())
            .or_insert_with(|| (d.path.clone(), Vec::new()));
        for l in [d.first.line, d.second.line] {
            if !entry.1.contains(&l) {
                entry.1.push(l);
            }
        }
    }
    for (shown_path, (path, mut at)) in lines {
        at.sort_unstable();
        let key = match path.0.last() {
            Some(Seg::Key(k)) => k.clone(),
            _ => shown_path.clone(),
        };
        let value = o
            .node
            .lookup(&path)
            .map_or_else(|| "the last one".to_string(), describe);
        let times = match at.len() {
            0..=2 => "twice".to_string(),
            n => format!("{n} times"),
        };
        let line_list: Vec<String> = at.iter().map(u32::to_string).collect();
        let dropped = if at.len() > 2 {
            "the others"
        } else {
            "the first"
        };
        out.warn(
            &path,
            format!(
                "`{key}` is written {times} (lines {}): kubectl keeps the last value ({value}) and silently drops {dropped}",
                and_list(&line_list)
            ),
            "remove one of them".to_string(),
        );
    }
}
