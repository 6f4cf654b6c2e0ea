//! `berth sim` and `berth demo` end to end: exit codes, output shapes, repeatability.

use std::path::{Path, PathBuf};
use std::process::{Command, Output, Stdio};

fn root() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("../..")
}

fn berth(args: &[&str]) -> Output {
    Command::new(env!("CARGO_BIN_EXE_berth"))
        .args(args)
        .current_dir(root())
        .stdin(Stdio::null())
        .output()
        .expect("berth runs")
}

fn text(b: &[u8]) -> String {
    String::from_utf8_lossy(b).into_owned()
}

fn scratch(name: &str, content: &str) -> PathBuf {
    let dir = std::env::temp_dir().join(format!("berth-sim-cli-{}", std::process::id()));
    std::fs::create_dir_all(&dir).expect("temp dir");
    let p = dir.join(name);
    std::fs::write(&p, content).expect("temp file");
    p
}

#[test]
fn sim_json_has_the_documented_shape_and_passes() {
    let out = berth(&[
        "sim",
        "examples/scenarios/termination-storm.yaml",
        "-o",
        "json",
    ]);
    assert_eq!(out.status.code(), Some(0), "{}", text(&out.stderr));
    let v: serde_json::Value = serde_json::from_slice(&out.stdout).expect("json");
    assert_eq!(v["seed"], 1);
    assert_eq!(v["virtual_seconds"], 360.0);
    for key in ["events", "apps", "assertions"] {
        assert!(v[key].is_array(), "{key}");
    }
    let app = &v["apps"][0];
    for key in ["name", "requests", "failed", "min_ready", "max_ready"] {
        assert!(!app[key].is_null(), "{key}");
    }
    let a = &v["assertions"][0];
    assert_eq!(a["passed"], true);
    assert!(a["name"].is_string() && a["detail"].is_string());
    let e = &v["events"][0];
    for key in ["t", "type", "reason", "object", "message"] {
        assert!(!e[key].is_null(), "{key}");
    }
}

#[test]
fn sim_output_is_identical_across_processes() {
    let a = berth(&[
        "sim",
        "examples/scenarios/kubelet-partition.yaml",
        "--seed",
        "9",
    ]);
    let b = berth(&[
        "sim",
        "examples/scenarios/kubelet-partition.yaml",
        "--seed",
        "9",
    ]);
    assert_eq!(a.stdout, b.stdout);
    assert!(text(&a.stdout).contains("(seed 9)"));
}

#[test]
fn a_failed_assertion_exits_1() {
    let dir = root().join("examples/scenarios");
    let text_in = std::fs::read_to_string(dir.join("termination-storm.yaml"))
        .expect("scenario")
        .replace("minFailedRequests: 100", "minFailedRequests: 100000000");
    // The scenario names its workloads relative to itself: copy them beside it.
    for f in ["checkout.yaml", "checkout-naive.yaml"] {
        scratch(f, &std::fs::read_to_string(dir.join(f)).expect("workload"));
    }
    let p = scratch("storm.yaml", &text_in);
    let out = berth(&["sim", p.to_str().expect("path")]);
    assert_eq!(out.status.code(), Some(1));
    assert!(text(&out.stdout).contains("FAIL  without preStop"));
}

#[test]
fn a_scenario_error_names_file_line_and_field_and_exits_2() {
    let p = scratch(
        "bad.yaml",
        "apiVersion: berth.dev/v1alpha1
kind: Scenario
metadata: {name: bad}
spec:
  duration: 1m
  cluster: {hostsPerSwitch: 2}
  loadBalancer:
    propagationDelai: 3s
  workloads: []
",
    );
    let out = berth(&["sim", p.to_str().expect("path")]);
    assert_eq!(out.status.code(), Some(2));
    let err = text(&out.stderr);
    assert!(err.contains("bad.yaml:8:5"), "{err}");
    assert!(err.contains("propagationDelay"), "{err}");
}

#[test]
fn demo_tells_its_stories_and_passes() {
    let out = berth(&["demo"]);
    assert_eq!(out.status.code(), Some(0), "{}", text(&out.stderr));
    let s = text(&out.stdout);
    for part in [
        "1/6",
        "2/6",
        "3/6",
        "4/6",
        "5/6",
        "6/6",
        "ReleaseRolledBack",
        "NodeNotReady",
        "EvictionBlocked",
    ] {
        assert!(s.contains(part), "{part} missing:\n{s}");
    }
    assert!(!s.contains("FAIL"), "{s}");
}

#[test]
fn the_key_timeline_leaves_out_each_pods_routine() {
    let full = text(&berth(&["sim", "examples/scenarios/termination-storm.yaml"]).stdout);
    let key = text(
        &berth(&[
            "sim",
            "examples/scenarios/termination-storm.yaml",
            "--timeline",
            "key",
        ])
        .stdout,
    );
    assert!(full.contains("Scheduled") && !key.contains("Scheduled"));
    assert!(key.contains("RolloutComplete") && key.contains("Action"));
    // The summary is the same either way.
    assert_eq!(full.split("Summary").nth(1), key.split("Summary").nth(1));
}
