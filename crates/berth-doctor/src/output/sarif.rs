//! SARIF 2.1.0 output for GitHub code scanning and other SARIF consumers.
//!
//! One run; `tool.driver` is `berth` with every registered rule (so `ruleIndex` is stable),
//! results carry a physical location (file, line, column), a logical location naming the
//! object (`Kind/namespace/name`), and a `partialFingerprints` entry that does not change
//! when lines move (rule + object + field path). Input that could not be read becomes
//! `invocations[0].toolExecutionNotifications` with level `error`.

use serde_json::{Value, json};

use crate::finding::{Finding, Severity};
use crate::report::Report;
use crate::rules::rules;

/// Where RULES.md documents each rule (`#<rule-id>` anchors).
const RULES_URL: &str = "https://github.com/berth-dev/berth/blob/main/crates/berth-doctor/RULES.md";

fn level(s: Severity) -> &'static str {
    match s {
        Severity::Error => "error",
        Severity::Warning => "warning",
        Severity::Info => "note",
    }
}

/// A file name as a SARIF artifact URI: forward slashes, no leading `./`, standard input
/// as `stdin`.
fn uri(file: &str) -> String {
    let f = file.replace('\\', "/");
    let f = f.strip_prefix("./").unwrap_or(&f);
    if f == "-" {
        return "stdin".into();
    }
    f.replace(' ', "%20")
}

/// FNV-1a, for fingerprints that stay put across line moves.
fn fnv(text: &str) -> String {
    let mut h: u64 = 0xcbf2_9ce4_8422_2325;
    for b in text.bytes() {
        h ^= u64::from(b);
        h = h.wrapping_mul(0x0100_0000_01b3);
    }
    format!("{h:016x}")
}

fn qualified(f: &Finding) -> String {
    match &f.object.namespace {
        Some(ns) => format!("{}/{ns}/{}", f.object.kind, f.object.name),
        None => format!("{}/{}", f.object.kind, f.object.name),
    }
}

fn pascal(id: &str) -> String {
    id.split('-')
        .map(|w| {
            let mut c = w.chars();
            c.next().map_or(String::new(), |f| {
                f.to_ascii_uppercase().to_string() + c.as_str()
            })
        })
        .collect()
}

/// The report as a SARIF 2.1.0 log.
pub fn sarif(report: &Report) -> String {
    let all = rules();
    let rule_objs: Vec<Value> = all
        .iter()
        .map(|r| {
            json!({
                "id": r.id,
                "name": pascal(r.id),
                "shortDescription": {"text": r.summary},
                "fullDescription": {"text": format!("{} Source: {}.", r.summary, r.source)},
                "help": {
                    "text": r.help,
                    "markdown": format!("{}\n\nSource: {}.\n\nSuppress for one object with the annotation `berth.dev/ignore: {}`.", r.help, r.source, r.id),
                },
                "helpUri": format!("{RULES_URL}#{}", r.id),
                "defaultConfiguration": {"level": level(r.severity)},
                "properties": {"tags": ["kubernetes"]},
            })
        })
        .collect();
    let results: Vec<Value> = report
        .findings
        .iter()
        .map(|f| {
            let index = all.iter().position(|r| r.id == f.rule);
            let q = qualified(f);
            json!({
                "ruleId": f.rule,
                "ruleIndex": index,
                "level": level(f.severity),
                "message": {"text": format!("{}: {}. Fix: {}", q, f.message, f.fix)},
                "locations": [{
                    "physicalLocation": {
                        "artifactLocation": {"uri": uri(&f.file)},
                        "region": {"startLine": f.pos.line.max(1), "startColumn": f.pos.col.max(1)},
                    },
                    "logicalLocations": [{
                        "name": f.object.name,
                        "fullyQualifiedName": format!("{q}:{}", f.path),
                        "kind": "resource",
                    }],
                }],
                "partialFingerprints": {
                    "berthFinding/v1": fnv(&format!("{}\u{1f}{}\u{1f}{}\u{1f}{}", f.rule, uri(&f.file), q, f.path)),
                },
                "properties": {"path": f.path, "fix": f.fix},
            })
        })
        .collect();
    let notifications: Vec<Value> = report
        .errors
        .iter()
        .map(|e| {
            let mut text = e.message.clone();
            if let Some(h) = &e.hint {
                text.push_str(&format!(" ({h})"));
            }
            let mut n = json!({
                "level": "error",
                "message": {"text": text},
                "locations": [{
                    "physicalLocation": {
                        "artifactLocation": {"uri": uri(&e.file)},
                        "region": {"startLine": e.pos.line.max(1), "startColumn": e.pos.col.max(1)},
                    },
                }],
            });
            // 1-based, as the table and the JSON output number documents.
            if let Some(d) = e.document {
                n["properties"] = json!({"document": d + 1});
            }
            n
        })
        .collect();
    let doc = json!({
        "$schema": "https://json.schemastore.org/sarif-2.1.0.json",
        "version": "2.1.0",
        "runs": [{
            "tool": {"driver": {
                "name": "berth",
                "informationUri": "https://github.com/berth-dev/berth",
                "semanticVersion": env!("CARGO_PKG_VERSION"),
                "rules": rule_objs,
            }},
            "invocations": [{
                "executionSuccessful": true,
                "toolExecutionNotifications": notifications,
            }],
            "results": results,
        }],
    });
    let mut text = serde_json::to_string_pretty(&doc).unwrap_or_default();
    text.push('\n');
    text
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn uris_use_forward_slashes_and_name_stdin() {
        assert_eq!(uri("./k8s\\deploy.yaml"), "k8s/deploy.yaml");
        assert_eq!(uri("-"), "stdin");
        assert_eq!(uri("my dir/a.yaml"), "my%20dir/a.yaml");
    }

    #[test]
    fn rule_names_are_pascal_case() {
        assert_eq!(pascal("missing-prestop"), "MissingPrestop");
    }
}
