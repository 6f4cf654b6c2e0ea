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
fn install_output_passes_the_doctor_and_strict_schema_validation() {
    let out = berth(&["install", "--namespace", "platform"], None);
    assert!(out.status.success(), "{}", text(&out.stderr));
    let yaml = text(&out.stdout);
    for kind in [
        "name: applications.berth.dev",
        "name: releases.berth.dev",
        "kind: ClusterRole",
        "kind: RoleBinding",
        "kind: Deployment",
    ] {
        assert!(yaml.contains(kind), "{kind} missing");
    }
    // Least privilege: no wildcard anywhere, and no access to Secrets.
    assert!(!yaml.contains("'*'") && !yaml.contains("\"*\""), "{yaml}");
    assert!(!yaml.contains("secrets"));
    let file = scratch("install.yaml", &yaml);
    let doctor = berth(&["doctor", file.to_str().expect("utf-8 path")], None);
    assert!(
        doctor.status.success() && text(&doctor.stdout).contains("No findings"),
        "{}",
        text(&doctor.stdout)
    );
    for k8s in ["1.33.0", "1.37.0"] {
        let v = kubernetes_validate(&file, k8s);
        assert!(
            v.status.success(),
            "{k8s}: {}{}",
            text(&v.stdout),
            text(&v.stderr)
        );
    }
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
    // examples/ holds three Applications, and examples/scenarios/ more beside the scenarios
    // and plain manifests, which a directory walk skips.
    let apps = std::fs::read_dir(root().join("examples/scenarios"))
        .expect("examples")
        .filter_map(|e| std::fs::read_to_string(e.expect("entry").path()).ok())
        .filter(|t| t.contains("kind: Application"))
        .count();
    assert!(
        text(&out.stderr).contains(&format!("{} Applications valid", 3 + apps)),
        "{}",
        text(&out.stderr)
    );
    assert!(text(&out.stderr).contains("hold no Application and were skipped"));
    let file = scratch("junk.yaml", "\u{0}\u{1}binary");
    let out = berth(&["validate", file.to_str().expect("utf-8 path")], None);
    assert_eq!(out.status.code(), Some(2));
}

const BAD: &str = "apiVersion: apps/v1
kind: Deployment
metadata: {name: web, namespace: shop}
spec:
  replicas: 2
  selector: {matchLabels: {app: web}}
  template:
    metadata: {labels: {app: web}}
    spec:
      containers:
      - name: web
        image: nginx
        ports: [{containerPort: 80}]
---
apiVersion: policy/v1
kind: PodDisruptionBudget
metadata: {name: web, namespace: shop}
spec:
  minAvailable: 65%
  selector: {matchLabels: {app: web}}
";

#[test]
fn the_doctor_finds_nothing_in_what_berth_renders() {
    let rendered = berth(&[&["render"][..], &EXAMPLES[..]].concat(), None);
    assert!(rendered.status.success());
    let out = berth(
        &["doctor", "-", "-o", "json", "--fail-on", "info"],
        Some(&text(&rendered.stdout)),
    );
    let report: serde_json::Value = serde_json::from_slice(&out.stdout).expect("json report");
    assert_eq!(report["findings"], serde_json::json!([]), "{report:#}");
    assert_eq!(report["summary"]["objects"], 21); // web-frontend routes canary traffic: a Service of its version too
    assert_eq!(out.status.code(), Some(0));
}

#[test]
fn doctor_exit_status_follows_fail_on() {
    let file = scratch("bad.yaml", BAD);
    let path = file.to_str().expect("utf-8 path");
    let out = berth(&["doctor", path], None);
    assert_eq!(
        out.status.code(),
        Some(1),
        "errors reach the default --fail-on error"
    );
    let table = text(&out.stdout);
    assert!(table.contains("pdb-blocks-eviction"), "{table}");
    assert!(
        table.contains("minAvailable 65% of 2 rounds up to 2"),
        "{table}"
    );
    let json = berth(&["doctor", path, "-o", "json"], None);
    let report: serde_json::Value = serde_json::from_slice(&json.stdout).expect("json");
    let pdb = report["findings"]
        .as_array()
        .expect("findings")
        .iter()
        .find(|f| f["rule"] == "pdb-blocks-eviction")
        .expect("the PDB finding");
    assert_eq!(
        (pdb["line"].as_u64(), pdb["path"].as_str()),
        (Some(19), Some("spec.minAvailable"))
    );
    let suppressed = BAD.replace(
        "metadata: {name: web, namespace: shop}\nspec:\n  minAvailable",
        "metadata: {name: web, namespace: shop, annotations: {berth.dev/ignore: pdb-blocks-eviction}}\nspec:\n  minAvailable",
    );
    let file = scratch("suppressed.yaml", &suppressed);
    let out = berth(
        &["doctor", file.to_str().expect("utf-8 path"), "-o", "json"],
        None,
    );
    let report: serde_json::Value = serde_json::from_slice(&out.stdout).expect("json");
    assert!(
        !text(&out.stdout).contains("pdb-blocks-eviction\""),
        "suppressed by annotation"
    );
    assert_eq!(report["summary"]["suppressed"], 1);
    let bad_flag = berth(&["doctor", path, "--fail-on", "critical"], None);
    assert_eq!(bad_flag.status.code(), Some(2));
    assert!(
        text(&bad_flag.stderr).contains("valid values"),
        "{}",
        text(&bad_flag.stderr)
    );
}

#[test]
fn one_broken_file_does_not_hide_the_findings_in_the_others() {
    let dir = std::env::temp_dir().join(format!("berth-cli-mixed-{}", std::process::id()));
    std::fs::create_dir_all(&dir).expect("dir");
    std::fs::write(dir.join("a-junk.yaml"), b"\x00\x01\x02junk").expect("junk");
    std::fs::write(
        dir.join("b-helm.yaml"),
        "apiVersion: v1\nkind: Service\nspec:\n  ports: {{ .Values.ports }}\n",
    )
    .expect("helm");
    std::fs::write(dir.join("c-bad.yaml"), BAD).expect("bad");
    let out = berth(&["doctor", dir.to_str().expect("utf-8 path")], None);
    assert_eq!(
        out.status.code(),
        Some(2),
        "unreadable input wins the exit status"
    );
    assert!(
        text(&out.stdout).contains("pdb-blocks-eviction"),
        "{}",
        text(&out.stdout)
    );
    let table = text(&out.stdout);
    assert!(
        table.contains("a-junk.yaml:1:1") && table.contains("binary"),
        "{table}"
    );
    let err = text(&out.stderr);
    assert!(err.contains("1 document(s) could not be read"), "{err}");
    // Found by walking the directory, the Helm template and a CI workflow are skipped...
    std::fs::write(dir.join("d-workflow.yaml"), "on: push\njobs: {}\n").expect("workflow");
    let out = berth(&["doctor", dir.to_str().expect("utf-8 path")], None);
    assert!(
        text(&out.stderr).contains("skipped 2 document(s)"),
        "{}",
        text(&out.stderr)
    );
    // ...but a file named on the command line is always reported.
    let helm = dir.join("b-helm.yaml");
    let out = berth(&["doctor", helm.to_str().expect("utf-8 path")], None);
    assert_eq!(out.status.code(), Some(2));
    let table = text(&out.stdout);
    assert!(
        table.contains("b-helm.yaml:4") && table.contains("helm template"),
        "{table}"
    );
}

#[test]
fn a_file_named_twice_is_read_once() {
    let file = scratch("twice.yaml", BAD);
    let path = file.to_str().expect("utf-8 path");
    let out = berth(&["doctor", path, path, "-o", "json"], None);
    let report: serde_json::Value = serde_json::from_slice(&out.stdout).expect("json");
    assert_eq!(report["summary"]["objects"], 2);
}

#[test]
fn sarif_output_is_sarif_2_1_0_with_rules_and_locations() {
    let file = scratch("sarif.yaml", BAD);
    let out = berth(
        &["doctor", file.to_str().expect("utf-8 path"), "-o", "sarif"],
        None,
    );
    let sarif: serde_json::Value = serde_json::from_slice(&out.stdout).expect("json");
    assert_eq!(sarif["version"], "2.1.0");
    let run = &sarif["runs"][0];
    assert_eq!(run["tool"]["driver"]["name"], "berth");
    assert!(
        run["tool"]["driver"]["rules"]
            .as_array()
            .is_some_and(|r| r.len() >= 21)
    );
    let result = &run["results"][0];
    assert!(result["ruleId"].is_string());
    assert!(result["locations"][0]["physicalLocation"]["region"]["startLine"].is_u64());
}

#[test]
fn clap_definitions_are_consistent() {
    // Catches conflicting flags (such as a second `--version`) before a user does.
    let out = berth(&["--help"], None);
    assert!(out.status.success());
    for sub in ["render", "validate", "doctor", "crd"] {
        let out = berth(&[sub, "--help"], None);
        assert!(out.status.success(), "{sub}: {}", text(&out.stderr));
    }
}

#[test]
fn explain_reproduces_the_seed_scores_from_a_kubectl_snapshot() {
    // Seed 001: the legacy BalancedResourceAllocation gave 8 to 172.16.199.115 and 6 to
    // 172.16.199.73; the finished pod on .73 holds nothing; tainted and cordoned nodes say why.
    let out = berth(
        &[
            "explain",
            "--snapshot",
            "snapshots/seed-001.json",
            "--pod",
            "recruit/pending-web",
            "--balanced",
            "legacy",
            "-o",
            "json",
        ],
        None,
    );
    assert!(out.status.success(), "{}", text(&out.stderr));
    let v: serde_json::Value = serde_json::from_slice(&out.stdout).expect("json");
    let node = |name: &str| {
        v["nodes"]
            .as_array()
            .expect("nodes")
            .iter()
            .find(|n| n["name"] == name)
            .expect("node")
            .clone()
    };
    assert_eq!(
        node("172.16.199.115")["rawScores"]["NodeResourcesBalancedAllocation"],
        8
    );
    assert_eq!(
        node("172.16.199.73")["rawScores"]["NodeResourcesBalancedAllocation"],
        6
    );
    assert_eq!(
        node("172.16.199.74")["reasons"],
        serde_json::json!(["node(s) had untolerated taint(s)"])
    );
    assert_eq!(
        node("172.16.199.80")["reasons"],
        serde_json::json!(["node(s) were unschedulable"])
    );
    assert_eq!(v["selected"], "172.16.199.115");
    assert_eq!(node("172.16.199.115")["rank"], 1);
}

#[test]
fn explain_says_why_a_pod_fits_nowhere() {
    let pod = scratch(
        "huge.yaml",
        "apiVersion: v1\nkind: Pod\nmetadata: {name: huge, namespace: x}\nspec:\n  containers:\n  - name: a\n    image: a:1\n    resources: {requests: {cpu: '64', memory: 1Gi}}\n",
    );
    let out = berth(
        &[
            "explain",
            "--snapshot",
            "snapshots/seed-001.json",
            "--pod-file",
            pod.to_str().expect("utf-8 path"),
        ],
        None,
    );
    assert_eq!(out.status.code(), Some(1));
    let table = text(&out.stdout);
    assert!(
        table.contains("unschedulable: 0/4 nodes are available: 1 node(s) had untolerated taint(s), 1 node(s) were unschedulable, 2 Insufficient cpu."),
        "{table}"
    );
}

#[test]
fn place_spreads_replicas_over_switches_and_hosts() {
    // Four empty nodes on two switches; the Deployment spreads hard over switches and the
    // rendered defaults spread over hosts: 6 replicas land 3 per switch, at most 2 per host.
    let mut items = Vec::new();
    for (i, sw) in ["tor-a", "tor-a", "tor-b", "tor-b"].iter().enumerate() {
        items.push(serde_json::json!({
            "apiVersion": "v1", "kind": "Node",
            "metadata": {"name": format!("n{i}"), "labels": {"kubernetes.io/hostname": format!("n{i}"), "topology.berth.dev/switch": sw}},
            "status": {"allocatable": {"cpu": "16", "memory": "64Gi", "pods": "110"}}
        }));
    }
    let snapshot = scratch(
        "switches.json",
        &serde_json::json!({"apiVersion": "v1", "kind": "List", "items": items}).to_string(),
    );
    let deployment = scratch(
        "spread.yaml",
        "apiVersion: apps/v1\nkind: Deployment\nmetadata: {name: api, namespace: shop}\nspec:\n  replicas: 6\n  selector: {matchLabels: {app: api}}\n  template:\n    metadata: {labels: {app: api}}\n    spec:\n      topologySpreadConstraints:\n      - {maxSkew: 1, topologyKey: topology.berth.dev/switch, whenUnsatisfiable: DoNotSchedule, labelSelector: {matchLabels: {app: api}}}\n      containers:\n      - name: a\n        image: a:1\n        resources: {requests: {cpu: 500m, memory: 1Gi}}\n",
    );
    let out = berth(
        &[
            "place",
            "--snapshot",
            snapshot.to_str().expect("utf-8"),
            "--workload",
            deployment.to_str().expect("utf-8"),
            "-o",
            "json",
        ],
        None,
    );
    assert!(out.status.success(), "{}", text(&out.stderr));
    let v: serde_json::Value = serde_json::from_slice(&out.stdout).expect("json");
    assert_eq!(v["placements"].as_array().map(Vec::len), Some(6));
    assert_eq!(
        v["spread"]["switch"],
        serde_json::json!({"tor-a": 3, "tor-b": 3})
    );
    for (_, count) in v["spread"]["host"].as_object().expect("hosts") {
        assert!(count.as_u64().is_some_and(|c| c <= 2), "{v:#}");
    }
}

#[test]
fn explain_follows_a_kube_scheduler_configuration() {
    // A bin-packing profile (MostAllocated) turns the choice to the fuller node.
    let cfg = scratch(
        "ksc.yaml",
        "apiVersion: kubescheduler.config.k8s.io/v1\nkind: KubeSchedulerConfiguration\nprofiles:\n- schedulerName: default-scheduler\n  pluginConfig:\n  - name: NodeResourcesFit\n    args: {scoringStrategy: {type: MostAllocated, resources: [{name: cpu, weight: 1}, {name: memory, weight: 1}]}}\n",
    );
    let args = [
        "explain",
        "--snapshot",
        "snapshots/seed-001.json",
        "--pod",
        "recruit/pending-web",
        "-o",
        "json",
    ];
    let default: serde_json::Value =
        serde_json::from_slice(&berth(&args, None).stdout).expect("json");
    assert_eq!(default["selected"], "172.16.199.115");
    let mut with_cfg = args.to_vec();
    with_cfg.extend(["--config", cfg.to_str().expect("utf-8")]);
    let packed: serde_json::Value =
        serde_json::from_slice(&berth(&with_cfg, None).stdout).expect("json");
    assert_eq!(packed["selected"], "172.16.199.73");
    let bad = scratch(
        "bad-ksc.yaml",
        "apiVersion: kubescheduler.config.k8s.io/v1\nkind: KubeSchedulerConfiguration\nprofiles:\n- plugins:\n    score:\n      enabled: [{name: Bogus}]\n",
    );
    let mut with_bad = args.to_vec();
    with_bad.extend(["--config", bad.to_str().expect("utf-8")]);
    let out = berth(&with_bad, None);
    assert_eq!(out.status.code(), Some(2));
    assert!(
        text(&out.stderr).contains(
            "bad-ksc.yaml:6:18: profiles[0].plugins.score.enabled[0].name: unknown plugin"
        ),
        "{}",
        text(&out.stderr)
    );
}
