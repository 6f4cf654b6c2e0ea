//! `berth release start` writes a Release the CRD accepts; `berth release status` reads one
//! back as a bar per group.

use std::io::Write;
use std::path::Path;
use std::process::{Command, Output, Stdio};

fn berth(args: &[&str], stdin: Option<&str>) -> Output {
    let mut child = Command::new(env!("CARGO_BIN_EXE_berth"))
        .args(args)
        .current_dir(Path::new(env!("CARGO_MANIFEST_DIR")))
        .stdin(Stdio::piped())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .expect("berth runs");
    let mut input = child.stdin.take().expect("stdin");
    input
        .write_all(stdin.unwrap_or("").as_bytes())
        .expect("stdin written");
    drop(input);
    child.wait_with_output().expect("berth exits")
}

fn text(b: &[u8]) -> String {
    String::from_utf8_lossy(b).into_owned()
}

#[test]
fn start_writes_a_release_the_crd_schema_accepts() {
    let out = berth(
        &[
            "release",
            "start",
            "web",
            "api",
            "--version",
            "2.0.0",
            "-n",
            "shop",
            "--groups",
            "4",
            "--gate",
            "manual",
            "-o",
            "json",
        ],
        None,
    );
    assert!(out.status.success(), "{}", text(&out.stderr));
    let v: serde_json::Value = serde_json::from_slice(&out.stdout).expect("json");
    assert_eq!(v["metadata"]["name"], "web-2-0-0");
    assert_eq!(v["metadata"]["namespace"], "shop");
    assert_eq!(v["spec"]["apps"], serde_json::json!(["web", "api"]));
    assert_eq!(v["spec"]["gate"], serde_json::json!({"manual": true}));
    assert!(v.get("status").is_none());
    // The CRD's own schema (unknown fields refused) takes it as it is.
    let crd =
        serde_json::to_value(<berth_model::release::Release as kube::CustomResourceExt>::crd())
            .expect("crd");
    let schema = &crd["spec"]["versions"][0]["schema"]["openAPIV3Schema"];
    let node = berth_manifest::Node::from_json(&v, berth_manifest::Pos::default());
    let mut schema = schema.clone();
    // apiVersion, kind and metadata are the API server's to check, as for any CRD.
    for f in ["apiVersion", "kind"] {
        schema["properties"][f] = serde_json::json!({"type": "string"});
    }
    schema["properties"]["metadata"] = serde_json::json!({"type": "object"});
    assert_eq!(berth_manifest::schema::check(&node, &schema), vec![]);
}

#[test]
fn start_refuses_a_gate_it_cannot_read() {
    let out = berth(
        &[
            "release",
            "start",
            "web",
            "--version",
            "2",
            "--gate",
            "interval=soon",
        ],
        None,
    );
    assert_eq!(out.status.code(), Some(2));
    assert!(
        text(&out.stderr).contains("interval=soon"),
        "{}",
        text(&out.stderr)
    );
}

#[test]
fn status_shows_a_bar_per_group_and_what_the_release_waits_for() {
    let out = berth(&["release", "status", "tests/release-status.yaml"], None);
    assert!(out.status.success(), "{}", text(&out.stderr));
    let s = text(&out.stdout);
    assert!(s.contains("release shop/web-2-0-0: web → 2.0.0"), "{s}");
    assert!(s.contains("phase WaitingForGate, group 2 of 4"), "{s}");
    assert!(s.contains("group 1 [##########] done"), "{s}");
    assert!(
        s.contains("group 2 [##########] done 2026-11-24T10:11:20Z; gate closed"),
        "{s}"
    );
    assert!(s.contains("group 3 [----------] waiting"), "{s}");
    assert!(s.contains("9m12s left of the 10m interval"), "{s}");
}

#[test]
fn a_new_release_piped_back_reads_as_not_started() {
    let start = berth(&["release", "start", "web", "--version", "2.0.0"], None);
    let out = berth(&["release", "status", "-"], Some(&text(&start.stdout)));
    assert!(out.status.success(), "{}", text(&out.stderr));
    assert!(text(&out.stdout).contains("not started yet"));
    let none = berth(
        &["release", "status", "-"],
        Some("apiVersion: v1\nkind: Pod\nmetadata: {name: x}\n"),
    );
    assert_eq!(none.status.code(), Some(2));
    assert!(text(&none.stderr).contains("no Release in the input"));
}
