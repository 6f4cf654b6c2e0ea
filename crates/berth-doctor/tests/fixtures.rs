//! Every rule over its fixtures: `tests/fixtures/<rule-id>/bad.yaml` must trigger the rule
//! and `good.yaml` must not, and each file's first line, `# expect: a, b` (or
//! `# expect: none`), lists exactly the rule ids found in it. More fixtures of a rule sit
//! beside them as `bad-<case>.yaml` (must trigger) and `good-<case>.yaml` (must not), for
//! regressions that need their own file. `BLESS=1` rewrites the first line from what the
//! rules find (review the diff before committing).

use std::collections::BTreeSet;
use std::path::{Path, PathBuf};

use berth_doctor::{Report, rules};
use berth_manifest::load_objects;

fn fixture_dir() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/fixtures")
}

fn found(path: &Path) -> (String, BTreeSet<String>, Report) {
    let text = std::fs::read_to_string(path).unwrap_or_else(|e| panic!("{}: {e}", path.display()));
    let (objects, errors) = load_objects(&path.display().to_string(), &text);
    assert!(
        errors.is_empty(),
        "{}: fixtures must load cleanly: {errors:?}",
        path.display()
    );
    let report = Report::new(&objects, errors);
    let ids = report.findings.iter().map(|f| f.rule.to_string()).collect();
    (text, ids, report)
}

fn expected(text: &str) -> Option<BTreeSet<String>> {
    let line = text.lines().next()?.strip_prefix("# expect:")?.trim();
    if line == "none" {
        return Some(BTreeSet::new());
    }
    Some(
        line.split(',')
            .map(|s| s.trim().to_string())
            .filter(|s| !s.is_empty())
            .collect(),
    )
}

#[test]
fn every_rule_has_a_bad_and_a_good_fixture_and_each_finds_exactly_what_it_declares() {
    let bless = std::env::var_os("BLESS").is_some();
    let mut failures = Vec::new();
    for rule in rules() {
        let dir = fixture_dir().join(rule.id);
        for which in ["bad", "good"] {
            let path = dir.join(format!("{which}.yaml"));
            if !path.exists() {
                failures.push(format!("{}: missing fixture", path.display()));
            }
        }
        let mut files: Vec<(PathBuf, &str)> = std::fs::read_dir(&dir)
            .map(|d| {
                d.filter_map(|e| e.ok().map(|e| e.path()))
                    .filter(|p| p.extension().is_some_and(|x| x == "yaml"))
                    .filter_map(|p| {
                        let stem = p.file_stem()?.to_str()?.to_string();
                        let which = if stem == "bad" || stem.starts_with("bad-") {
                            "bad"
                        } else if stem == "good" || stem.starts_with("good-") {
                            "good"
                        } else {
                            return None;
                        };
                        Some((p, which))
                    })
                    .collect()
            })
            .unwrap_or_default();
        files.sort();
        for (path, which) in files {
            let (text, ids, report) = found(&path);
            if bless {
                let list = if ids.is_empty() {
                    "none".to_string()
                } else {
                    ids.iter().cloned().collect::<Vec<_>>().join(", ")
                };
                let rest = text.split_once('\n').map_or("", |(_, r)| r);
                std::fs::write(&path, format!("# expect: {list}\n{rest}")).expect("write fixture");
                continue;
            }
            let want = expected(&text).unwrap_or_else(|| {
                panic!("{}: first line must be `# expect: ...`", path.display())
            });
            if ids != want {
                let detail: Vec<String> = report
                    .findings
                    .iter()
                    .map(|f| format!("  {} {} {}: {}", f.rule, f.severity, f.path, f.message))
                    .collect();
                failures.push(format!(
                    "{}: expected {want:?}, found {ids:?}\n{}",
                    path.display(),
                    detail.join("\n")
                ));
            }
            let has = ids.contains(rule.id);
            if which == "bad" && !has {
                failures.push(format!(
                    "{}: does not trigger `{}`",
                    path.display(),
                    rule.id
                ));
            }
            if which == "good" && has {
                failures.push(format!("{}: triggers `{}`", path.display(), rule.id));
            }
        }
    }
    assert!(failures.is_empty(), "{}", failures.join("\n\n"));
}

#[test]
fn every_fixture_directory_names_a_registered_rule() {
    for entry in std::fs::read_dir(fixture_dir()).expect("fixtures dir") {
        let name = entry
            .expect("entry")
            .file_name()
            .to_string_lossy()
            .to_string();
        assert!(
            berth_doctor::rule(&name).is_some(),
            "tests/fixtures/{name} names no rule"
        );
    }
}

#[test]
fn rules_md_documents_every_rule_with_its_severity() {
    let md = std::fs::read_to_string(Path::new(env!("CARGO_MANIFEST_DIR")).join("RULES.md"))
        .expect("RULES.md");
    for rule in rules() {
        let heading = format!("\n## {}\n", rule.id);
        let at = md
            .find(&heading)
            .unwrap_or_else(|| panic!("RULES.md has no `## {}` section", rule.id));
        let section = &md[at..];
        assert!(
            section.contains(&format!("**Severity:** {}.", rule.severity)),
            "RULES.md: `{}` must state severity {}",
            rule.id,
            rule.severity
        );
        assert!(
            md.contains(&format!("| [{0}](#{0}) | {1} |", rule.id, rule.severity)),
            "RULES.md table row for {}",
            rule.id
        );
    }
}

#[test]
fn rule_ids_are_unique_kebab_case_and_fully_described() {
    let mut seen = BTreeSet::new();
    for r in rules() {
        assert!(seen.insert(r.id), "duplicate rule id {}", r.id);
        assert!(
            r.id.chars().all(|c| c.is_ascii_lowercase() || c == '-'),
            "{} is not kebab-case",
            r.id
        );
        for (what, text) in [
            ("summary", r.summary),
            ("source", r.source),
            ("help", r.help),
        ] {
            assert!(text.len() > 20, "{}: {what} is too short", r.id);
        }
    }
}
