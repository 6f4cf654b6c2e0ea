//! The `berth` binary end to end: what a user runs, checked against independent tools.

use std::path::{Path, PathBuf};
use std::process::{Command, Output, Stdio};

fn root() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("../..")
}

fn berth(args: &[&str], stdin: Option<&str>) -> Output {
    let mut cmd = Command::new(env!("CARGO_BIN_EXE_berth"));
    cmd.args(args).current_dir(root());
    cmd.stdin(if stdin.is_some() {
        Stdio::piped()
    } else {
        Stdio::null()
    });
    cmd.stdout(Stdio::piped()).stderr(Stdio::piped());
    let mut child = cmd.spawn().expect("berth runs");
    if let Some(input) = stdin {
        use std::io::Write;
        child
            .stdin
            .take()
            .expect("stdin piped")
            .write_all(input.as_bytes())
            .expect("stdin written");
    }
    child.wait_with_output().expect("berth exits")
}

fn text(b: &[u8]) -> String {
    String::from_utf8_lossy(b).into_owned()
}

fn scratch(name: &str, content: &str) -> PathBuf {
    let dir = std::env::temp_dir().join(format!("berth-cli-test-{}", std::process::id()));
    std::fs::create_dir_all(&dir).expect("temp dir");
    let p = dir.join(name);
    std::fs::write(&p, content).expect("temp file");
    p
}

/// Runs `kubernetes-validate --strict` (installed by scripts/setup) for a Kubernetes release.
fn kubernetes_validate(file: &Path, k8s: &str) -> Output {
    Command::new("kubernetes-validate")
        .args(["--strict", "--quiet", "-k", k8s])
        .arg(file)
        .output()
        .expect("kubernetes-validate is installed: run scripts/setup")
}

const EXAMPLES: [&str; 3] = [
    "examples/order-api.yaml",
    "examples/web-frontend.yaml",
    "examples/report-worker.yaml",
];

#[test]
fn rendered_examples_pass_strict_kubernetes_schema_validation_from_1_33_to_1_37() {
    let out = berth(&[&["render"][..], &EXAMPLES[..]].concat(), None);
    assert!(out.status.success(), "{}", text(&out.stderr));
    let file = scratch("rendered.yaml", &text(&out.stdout));
    for k8s in ["1.33.0", "1.37.0"] {
        let v = kubernetes_validate(&file, k8s);
        assert!(
            v.status.success(),
            "Kubernetes {k8s} rejects rendered output:\n{}{}",
            text(&v.stdout),
            text(&v.stderr)
        );
    }
}

#[test]
fn the_schema_validator_does_reject_an_invented_field() {
    // Guards the test above: strict validation must fail on a field Kubernetes lacks.
    let out = berth(&["render", EXAMPLES[1]], None);
    let broken =
        text(&out.stdout).replace("enableServiceLinks: false", "enableServiceLinkz: false");
    let file = scratch("broken.yaml", &broken);
    assert!(!kubernetes_validate(&file, "1.37.0").status.success());
}

#[test]
fn generated_crds_pass_schema_validation() {
    let out = berth(&["crd"], None);
    assert!(out.status.success(), "{}", text(&out.stderr));
    let file = scratch("crd.yaml", &text(&out.stdout));
    let v = kubernetes_validate(&file, "1.33.0");
    assert!(v.status.success(), "{}{}", text(&v.stdout), text(&v.stderr));
    assert!(text(&out.stdout).contains("name: applications.berth.dev"));
}

#[test]
fn a_typo_in_a_spec_names_file_line_column_and_the_fix() {
    let spec = std::fs::read_to_string(root().join(EXAMPLES[1]))
        .expect("example")
        .replace("maxReplicas: 30", "maxReplica: 30");
    let file = scratch("typo.yaml", &spec);
    let out = berth(&["render", file.to_str().expect("utf-8 path")], None);
    assert_eq!(out.status.code(), Some(1));
    let err = text(&out.stderr);
    assert!(
        err.contains("typo.yaml:28:5: spec.scaling.maxReplica: unknown field `maxReplica`"),
        "{err}"
    );
    assert!(err.contains("did you mean `maxReplicas`?"), "{err}");
    assert!(
        out.stdout.is_empty(),
        "nothing is rendered from a broken spec"
    );
}

#[test]
fn a_version_that_contradicts_the_image_tag_is_refused() {
    let out = berth(&["render", EXAMPLES[1], "--version", "9.9.9"], None);
    assert_eq!(out.status.code(), Some(2));
    assert!(
        text(&out.stderr).contains("contradicts the image tag"),
        "{}",
        text(&out.stderr)
    );
}

#[test]
fn render_reads_standard_input_and_prints_json() {
    let spec = std::fs::read_to_string(root().join(EXAMPLES[2])).expect("example");
    let out = berth(
        &["render", "-", "-o", "json", "--version", "7.0.0"],
        Some(&spec),
    );
    assert!(out.status.success(), "{}", text(&out.stderr));
    let list: serde_json::Value = serde_json::from_slice(&out.stdout).expect("json");
    let names: Vec<&str> = list["items"]
        .as_array()
        .expect("items")
        .iter()
        .filter_map(|i| i["metadata"]["name"].as_str())
        .collect();
    assert!(names.contains(&"report-worker-7-0-0"), "{names:?}");
}

#[test]
fn validate_reports_counts_and_exit_status() {
    let out = berth(&["validate", "examples"], None);
    assert!(out.status.success(), "{}", text(&out.stderr));
    assert!(text(&out.stderr).contains("3 Applications valid"));
    let file = scratch("junk.yaml", "\u{0}\u{1}binary");
    let out = berth(&["validate", file.to_str().expect("utf-8 path")], None);
    assert_eq!(out.status.code(), Some(2));
}
