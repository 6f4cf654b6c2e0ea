//! Output formats, suppression, ordering and the report's arithmetic, end to end.
//!
//! `tests/golden/` holds a sample input and its table, JSON and SARIF renderings; a change
//! in any rule's wording shows up there as a diff. `BLESS=1` rewrites them.

use std::path::{Path, PathBuf};

use berth_doctor::{Finding, Report, Severity, check, output};
use berth_manifest::{Object, load_objects};
use serde_json::Value;

fn golden(name: &str) -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR"))
        .join("tests/golden")
        .join(name)
}

fn load(file: &str, text: &str) -> Vec<Object> {
    let (objs, errs) = load_objects(file, text);
    assert!(errs.is_empty(), "{errs:?}");
    objs
}

fn sample() -> Report {
    let text = std::fs::read_to_string(golden("input.yaml")).expect("golden input");
    let (objs, errs) = load_objects("input.yaml", &text);
    Report::new(&objs, errs)
}

fn assert_golden(name: &str, got: &str) {
    let path = golden(name);
    if std::env::var_os("BLESS").is_some() {
        std::fs::write(&path, got).expect("write golden");
        return;
    }
    let want = std::fs::read_to_string(&path).unwrap_or_default();
    assert!(
        want == got,
        "{name} differs from tests/golden/{name} (BLESS=1 rewrites it):\n--- want\n{want}\n--- got\n{got}"
    );
}

#[test]
fn the_sample_renders_as_the_checked_in_table_json_and_sarif() {
    let r = sample();
    assert_golden("table.txt", &output::table(&r, false));
    assert_golden("report.json", &output::json(&r));
    assert_golden("report.sarif", &output::sarif(&r));
}

#[test]
fn json_has_exactly_the_documented_shape() {
    let text = "apiVersion: apps/v1\nkind: Deployment\nmetadata: {name: web}\nspec: {template: {spec: {containers: [{name: a, image: nginx}]}}}\n---\nkind: [broken\n";
    let (objs, errs) = load_objects("f.yaml", text);
    let r = Report::new(&objs, errs);
    let v: Value = serde_json::from_str(&output::json(&r)).expect("valid JSON");
    let keys =
        |v: &Value| -> Vec<String> { v.as_object().expect("object").keys().cloned().collect() };
    assert_eq!(keys(&v), ["findings", "errors", "summary"]);
    let f = &v["findings"][0];
    assert_eq!(
        keys(f),
        [
            "rule", "severity", "object", "file", "line", "column", "path", "message", "fix"
        ]
    );
    assert_eq!(
        keys(&f["object"]),
        ["apiVersion", "kind", "namespace", "name"]
    );
    assert_eq!(f["object"]["namespace"], Value::Null);
    assert_eq!(
        keys(&v["errors"][0]),
        ["file", "document", "line", "column", "message", "hint"]
    );
    // The broken document is the second of the stream: 1-based, as the table prints it.
    assert_eq!(v["errors"][0]["document"], 2);
    assert!(
        r.errors[0].to_string().contains("document 2"),
        "{}",
        r.errors[0]
    );
    assert_eq!(
        keys(&v["summary"]),
        ["objects", "error", "warning", "info", "suppressed"]
    );
    assert_eq!(v["summary"]["objects"], 1);
    let total: u64 = ["error", "warning", "info"]
        .iter()
        .map(|k| v["summary"][k].as_u64().unwrap_or(0))
        .sum();
    assert_eq!(total as usize, r.findings.len());
}

#[test]
fn sarif_is_a_single_run_that_code_scanning_accepts() {
    let r = sample();
    let v: Value = serde_json::from_str(&output::sarif(&r)).expect("valid JSON");
    assert_eq!(
        v["$schema"],
        "https://json.schemastore.org/sarif-2.1.0.json"
    );
    assert_eq!(v["version"], "2.1.0");
    let runs = v["runs"].as_array().expect("runs");
    assert_eq!(runs.len(), 1);
    let driver = &runs[0]["tool"]["driver"];
    assert_eq!(driver["name"], "berth");
    let rules = driver["rules"].as_array().expect("rules");
    assert_eq!(rules.len(), berth_doctor::rules().len());
    for rule in rules {
        for field in [
            "id",
            "shortDescription",
            "fullDescription",
            "help",
            "defaultConfiguration",
        ] {
            assert!(!rule[field].is_null(), "rule {} lacks {field}", rule["id"]);
        }
        assert!(
            ["error", "warning", "note"]
                .contains(&rule["defaultConfiguration"]["level"].as_str().unwrap_or(""))
        );
    }
    let results = runs[0]["results"].as_array().expect("results");
    assert_eq!(results.len(), r.findings.len());
    for res in results {
        let idx = res["ruleIndex"].as_u64().expect("ruleIndex") as usize;
        assert_eq!(rules[idx]["id"], res["ruleId"]);
        assert!(["error", "warning", "note"].contains(&res["level"].as_str().unwrap_or("")));
        let loc = &res["locations"][0];
        assert_eq!(
            loc["physicalLocation"]["artifactLocation"]["uri"],
            "input.yaml"
        );
        assert!(
            loc["physicalLocation"]["region"]["startLine"]
                .as_u64()
                .unwrap_or(0)
                >= 1
        );
        assert!(
            loc["physicalLocation"]["region"]["startColumn"]
                .as_u64()
                .unwrap_or(0)
                >= 1
        );
        assert!(
            loc["logicalLocations"][0]["fullyQualifiedName"]
                .as_str()
                .unwrap_or("")
                .contains("/shop/")
        );
        assert!(!res["message"]["text"].as_str().unwrap_or("").is_empty());
        assert!(
            res["partialFingerprints"]
                .as_object()
                .is_some_and(|m| !m.is_empty())
        );
    }
}

#[test]
fn a_clean_input_says_so_and_colour_appears_only_when_asked() {
    let clean = Report::new(
        &load(
            "c.yaml",
            "apiVersion: v1\nkind: ConfigMap\nmetadata: {name: x}\n",
        ),
        Vec::new(),
    );
    let t = output::table(&clean, false);
    assert_eq!(t, "No findings in 1 object.\n");
    assert!(output::table(&clean, true).contains("\x1b["));
    let r = sample();
    assert!(!output::table(&r, false).contains('\x1b'));
    assert!(output::table(&r, true).contains("\x1b[31m"));
}

#[test]
fn the_table_groups_findings_under_one_header_per_object() {
    let t = output::table(&sample(), false);
    let headers: Vec<&str> = t
        .lines()
        .filter(|l| !l.starts_with(' ') && l.contains("  ("))
        .collect();
    assert_eq!(
        headers,
        [
            "Deployment shop/checkout  (input.yaml:3)",
            "HorizontalPodAutoscaler shop/checkout  (input.yaml:38)",
            "PodDisruptionBudget shop/checkout  (input.yaml:51)",
            "CronJob shop/report  (input.yaml:59)",
        ]
    );
    assert!(
        t.lines()
            .filter(|l| l.trim_start().starts_with("fix: "))
            .count()
            == sample().findings.len()
    );
    assert!(t.trim_end().ends_with("suppressed."), "{t}");
}

fn web(ns: &str, annotations: &str, template_annotations: &str) -> String {
    format!(
        "apiVersion: apps/v1\nkind: Deployment\nmetadata:\n  name: web\n  namespace: {ns}\n  annotations: {{{annotations}}}\nspec:\n  template:\n    metadata:\n      annotations: {{{template_annotations}}}\n    spec:\n      containers:\n      - name: web\n        image: nginx\n"
    )
}

fn rules_of(findings: &[Finding]) -> Vec<&'static str> {
    let mut r: Vec<_> = findings.iter().map(|f| f.rule).collect();
    r.sort_unstable();
    r.dedup();
    r
}

#[test]
fn suppressions_hide_named_rules_and_are_counted() {
    let all = Report::new(&load("a.yaml", &web("a", "", "")), Vec::new());
    assert!(rules_of(&all.findings).contains(&"image-tag-mutable"));
    assert_eq!(all.suppressed, 0);

    let cases: &[(&str, &str, &str, &[&str])] = &[
        (
            "an object annotation names two rules",
            "berth.dev/ignore: 'image-tag-mutable, missing-resources'",
            "",
            &["image-tag-mutable", "missing-resources"],
        ),
        (
            "the pod template's annotation counts for workloads",
            "",
            "berth.dev/ignore: image-tag-mutable",
            &["image-tag-mutable"],
        ),
        (
            "a star suppresses everything",
            "berth.dev/ignore: '*'",
            "",
            &[],
        ),
    ];
    for (name, ann, tann, gone) in cases {
        let r = Report::new(&load("a.yaml", &web("a", ann, tann)), Vec::new());
        let left = rules_of(&r.findings);
        for g in *gone {
            assert!(!left.contains(g), "{name}: {g} still reported");
        }
        if ann.contains('*') {
            assert!(r.findings.is_empty(), "{name}");
            assert_eq!(r.suppressed, all.findings.len(), "{name}");
        } else {
            let hidden = all
                .findings
                .iter()
                .filter(|f| gone.contains(&f.rule))
                .count();
            assert_eq!(r.suppressed, hidden, "{name}");
            assert_eq!(
                r.findings.len() + r.suppressed,
                all.findings.len(),
                "{name}"
            );
        }
        assert_eq!(r.summary().suppressed, r.suppressed, "{name}");
    }
}

#[test]
fn findings_are_ordered_by_file_document_item_line_and_rule_whatever_the_input_order() {
    let a = load(
        "a.yaml",
        &format!("{}---\n{}", web("x", "", ""), web("y2", "", "")),
    );
    let b = load("b.yaml", &web("z", "", ""));
    let forward: Vec<Object> = a.iter().chain(b.iter()).cloned().collect();
    let backward: Vec<Object> = b.iter().chain(a.iter().rev()).cloned().collect();
    let f1 = check(&forward);
    let f2 = check(&backward);
    assert_eq!(f1, f2);
    let keys: Vec<(String, Option<String>, u32, &str)> = f1
        .iter()
        .map(|f| {
            (
                f.file.to_string(),
                f.object.namespace.clone(),
                f.pos.line,
                f.rule,
            )
        })
        .collect();
    let mut sorted = keys.clone();
    sorted.sort();
    assert_eq!(keys, sorted);
}

#[test]
fn findings_point_at_the_field_or_its_nearest_parent() {
    let objs = load("p.yaml", &web("a", "", ""));
    let f = check(&objs);
    let image = f
        .iter()
        .find(|f| f.rule == "image-tag-mutable")
        .expect("image finding");
    assert_eq!(image.path, "spec.template.spec.containers[0].image");
    assert_eq!((image.pos.line, image.pos.col), (14, 9));
    let links = f
        .iter()
        .find(|f| f.rule == "service-links-enabled")
        .expect("links finding");
    assert_eq!(links.path, "spec.template.spec.enableServiceLinks");
    // The field is missing: the position is the key of `spec` under the template.
    assert_eq!((links.pos.line, links.pos.col), (11, 5));
}

#[test]
fn reaches_compares_against_the_worst_finding_and_counts_unreadable_input() {
    let r = Report::new(
        &load(
            "h.yaml",
            "apiVersion: autoscaling/v2\nkind: HorizontalPodAutoscaler\nmetadata: {name: h}\nspec: {scaleTargetRef: {kind: Deployment, name: x}, maxReplicas: 3}\n",
        ),
        Vec::new(),
    );
    assert_eq!(
        r.findings.iter().map(|f| f.severity).max(),
        Some(Severity::Info)
    );
    assert!(r.reaches(Severity::Info));
    assert!(!r.reaches(Severity::Warning));
    let (objs, errs) = load_objects("bad.yaml", "kind: [oops\n");
    let broken = Report::new(&objs, errs);
    assert!(broken.findings.is_empty());
    assert!(broken.reaches(Severity::Error));
    assert!(output::table(&broken, false).contains("could not be read"));
}
